#include <time.h>
#include "support.h"

#include <bzlib.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chains/bitcoin/tx.h"
#include "chains/hex.h"
#include "chains/buf.h"
#include "watchlists/watchlist.h"

static uint8_t *bunzip(const uint8_t *in, size_t n, size_t *len)
{
    size_t cap = n * 8 + 1024, got = 0;
    uint8_t *out = malloc(cap);
    bz_stream s = {0};
    cr_assert_eq(BZ2_bzDecompressInit(&s, 0, 0), BZ_OK);
    s.next_in = (char *)in;
    s.avail_in = (unsigned)n;
    for (;;) {
        if (cap - got < 65536) {
            cap *= 2;
            out = realloc(out, cap);
        }
        s.next_out = (char *)out + got;
        s.avail_out = (unsigned)(cap - got);
        int rc = BZ2_bzDecompress(&s);
        got = cap - s.avail_out;
        if (rc == BZ_STREAM_END)
            break;
        cr_assert_eq(rc, BZ_OK, "bz2 stream error %d", rc);
    }
    BZ2_bzDecompressEnd(&s);
    *len = got;
    return out;
}

uint8_t *fixture(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", CW_DATA_DIR, rel);
    cw_buf b = CW_BUF_INIT;
    cw_err err = {0};
    cr_assert_eq(cw_read_file(path, 1u << 30, &b, &err), CW_OK, "fixture %s: %s", path, err.msg);
    size_t rl = strlen(rel);
    if (rl > 4 && strcmp(rel + rl - 4, ".bz2") == 0) {
        uint8_t *out = bunzip(b.p, b.n, len);
        cw_buf_free(&b);
        return out;
    }
    *len = b.n;
    return b.p;
}

json_t *fixture_json(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", CW_DATA_DIR, rel);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    cr_assert_not_null(j, "fixture %s: line %d: %s", path, e.line, e.text);
    return j;
}

uint8_t *unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    uint8_t *out = malloc(n / 2 + 1);
    cw_err err = {0};
    cr_assert_eq(cw_hex_decode(hex, n, out, n / 2 + 1, len, &err), CW_OK, "bad hex in test: %s", err.msg);
    return out;
}

cw_arena test_arena(size_t len)
{
    size_t cap = btc_arena_bound(len);
    cw_arena a;
    cw_arena_init(&a, malloc(cap), cap);
    return a;
}

static char *slurp_fd(int fd)
{
    cw_buf b = CW_BUF_INIT;
    char chunk[4096];
    ssize_t r;
    while ((r = read(fd, chunk, sizeof chunk)) > 0)
        cw_buf_append(&b, chunk, (size_t)r, NULL);
    cw_buf_append(&b, "", 1, NULL);
    return (char *)b.p;
}

int run_cmd(char *const argv[], const uint8_t *in, size_t in_len, char **out, char **err)
{
    char inpath[] = "/tmp/cwtest-in-XXXXXX", outpath[] = "/tmp/cwtest-out-XXXXXX",
         errpath[] = "/tmp/cwtest-err-XXXXXX";
    int infd = mkstemp(inpath), outfd = mkstemp(outpath), errfd = mkstemp(errpath);
    cr_assert(infd >= 0 && outfd >= 0 && errfd >= 0);
    if (in && in_len)
        cr_assert_eq(write(infd, in, in_len), (ssize_t)in_len);
    lseek(infd, 0, SEEK_SET);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(infd, 0);
        dup2(outfd, 1);
        dup2(errfd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    lseek(outfd, 0, SEEK_SET);
    lseek(errfd, 0, SEEK_SET);
    *out = slurp_fd(outfd);
    *err = slurp_fd(errfd);
    close(infd);
    close(outfd);
    close(errfd);
    unlink(inpath);
    unlink(outpath);
    unlink(errpath);
    cr_assert(WIFEXITED(status), "%s died by signal %d; stderr: %s", argv[0], WTERMSIG(status), *err);
    return WEXITSTATUS(status);
}

json_t *alerts_read(const char *datadir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/alerts.jsonl", datadir);
    json_t *all = json_array();
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return all;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n')
            break; /* the record a running watcher is writing: read it next time */
        json_t *j = json_loads(line, 0, NULL);
        cr_assert_not_null(j, "an alert line is not JSON: %s", line);
        json_array_append_new(all, j);
    }
    free(line);
    fclose(f);
    return all;
}

json_t *alerts_find(json_t *all, const char *txid, const char *status, const char *block)
{
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r) {
        const char *t = json_string_value(json_object_get(r, "txid"));
        const char *s = json_string_value(json_object_get(r, "status"));
        const char *b = json_string_value(json_object_get(json_object_get(r, "block"), "hash"));
        if (t && s && strcmp(t, txid) == 0 && strcmp(s, status) == 0 && (!block || (b && strcmp(b, block) == 0)))
            return r;
    }
    return NULL;
}

static int cw_vin(const uint8_t *in, size_t in_len, json_t **j, char **errout, va_list ap)
{
    char *argv[40] = {CW_BIN};
    int n = 1;
    for (char *a; (a = va_arg(ap, char *)) != NULL && n < 38;)
        argv[n++] = a;
    argv[n] = NULL;
    char *out, *err;
    int rc = run_cmd(argv, in, in_len, &out, &err);
    if (j) {
        json_error_t e;
        *j = out[0] ? json_loads(out, 0, &e) : NULL;
        cr_assert(out[0] == '\0' || *j, "%s %s: stdout is not one JSON object (%s): %s", argv[1], n > 2 ? argv[2] : "",
                  e.text, out);
        cr_assert(strchr(out, '\n') == NULL || strchr(out, '\n')[1] == '\0', "one line of output: %s", out);
    }
    free(out);
    if (errout)
        *errout = err;
    else
        free(err);
    return rc;
}

int cw_in(const uint8_t *in, size_t in_len, json_t **j, char **errout, ...)
{
    va_list ap;
    va_start(ap, errout);
    int rc = cw_vin(in, in_len, j, errout, ap);
    va_end(ap);
    return rc;
}

int cw_in_text(const char *in, json_t **j, char **errout, ...)
{
    va_list ap;
    va_start(ap, errout);
    int rc = cw_vin((const uint8_t *)in, in ? strlen(in) : 0, j, errout, ap);
    va_end(ap);
    return rc;
}

void regtest_blocksdir(const char *dir)
{
    cr_assert_eq(mkdir(dir, 0700), 0, "%s: %s", dir, strerror(errno));
    size_t n, kn;
    uint8_t *raw = fixture("btc/regtest-v30/blk00000.dat.bz2", &n);
    uint8_t *key = fixture("btc/regtest-v30/xor.dat", &kn);
    char path[4200];
    snprintf(path, sizeof path, "%s/blk00000.dat", dir);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(raw, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
    snprintf(path, sizeof path, "%s/xor.dat", dir);
    f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(key, 1, kn, f), kn);
    cr_assert_eq(fclose(f), 0);
    free(raw), free(key);
}

void test_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

size_t test_file_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = 0;
    for (int c; (c = fgetc(f)) != EOF;)
        n += c == '\n';
    fclose(f);
    return n;
}

void test_fault_runs(const char *gate, const char *fault_log, int runs)
{
    for (int k = 0; k < runs; k++) {
        size_t before = test_file_lines(fault_log);
        FILE *g = fopen(gate, "w");
        cr_assert_not_null(g, "%s", gate);
        fclose(g);
        for (int i = 0; i < 1200 && test_file_lines(fault_log) == before; i++)
            test_sleep_ms(25);
        cr_assert_gt(test_file_lines(fault_log), before, "the process met the fault again (run %d)", k + 1);
        cr_assert_eq(unlink(gate), 0);
        test_sleep_ms(500);
    }
}

int test_stop_with_gate(int pid, const char *gate)
{
    FILE *g = fopen(gate, "w");
    cr_assert_not_null(g, "%s", gate);
    fclose(g);
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    unlink(gate);
    return st;
}

void test_remove_dir(char *dir)
{
    if (getenv("CW_KEEP_TEST_DIRS"))
        fprintf(stderr, "kept %s\n", dir);
    else {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        cr_assert_eq(system(cmd), 0);
    }
    free(dir);
}

void watch_wait_ready(const char *datadir, zpub *pub)
{
    char path[600];
    snprintf(path, sizeof path, "%s/watch.log", datadir);
    for (int waited = 0; waited < 15000; waited += 50) {
        FILE *f = fopen(path, "r");
        char buf[4096] = "";
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = '\0';
        if (strstr(buf, "watching ("))
            break;
        test_sleep_ms(50);
    }
    /* the subscription itself, not a guess at how long it takes: 500 ms
     * was once too short under ASan on two loaded cores, and the blocks
     * sent before it were lost */
    cr_assert(zpub_wait_subscription(pub, 20000), "watch never subscribed to %s", zpub_endpoint(pub));
}

void watch_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "watch ended with status %d", status);
}

/* A test that fails (cr_assert ends its worker process) would leave the
 * chainwatch serve/watch, anvil or publisher it started running: its
 * clean-up was on the success path only, and orphans piled up over runs.
 * Every process linking this file (criterion's runner and each test's
 * worker, which criterion starts afresh) kills, when it exits, every live
 * child it still has. A test that stopped its children itself has none
 * left; a crash or a timeout kill of the worker is not covered (atexit
 * does not run). */
static void support_kill_children(void)
{
    pid_t me = getpid();
    DIR *d = opendir("/proc");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        /* pid (comm) state ppid ...: comm may hold spaces and parentheses */
        const char *rp = strrchr(buf, ')');
        char state;
        int ppid;
        if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == (int)me && state != 'Z')
            kill((pid_t)atoi(e->d_name), SIGKILL);
    }
    closedir(d);
}

__attribute__((constructor)) static void support_init(void) { atexit(support_kill_children); }


pid_t test_serve_start(const char *dd, const char *log, const char *const *opts, const char *const *env,
                       unsigned *port)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(logfd, 2); /* serve's messages, and a sanitizer's reports */
        for (int i = 0; env && env[i]; i++) {
            char name[64];
            const char *eq = strchr(env[i], '=');
            snprintf(name, sizeof name, "%.*s", (int)(eq - env[i]), env[i]);
            setenv(name, eq + 1, 1);
        }
        char *argv[32] = {CW_BIN, "serve", "--listen", "127.0.0.1:0", "--datadir", (char *)dd};
        int n = 6;
        for (int i = 0; opts && opts[i] && n < 30; i++)
            argv[n++] = (char *)opts[i];
        argv[n] = NULL;
        execv(CW_BIN, argv);
        _exit(127);
    }
    close(p[1]);
    char line[128] = "";
    size_t got = 0;
    for (int tries = 0; tries < 1000 && !memchr(line, '\n', got); tries++) {
        ssize_t r = read(p[0], line + got, sizeof line - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        line[got] = '\0';
    }
    close(p[0]);
    *port = 0;
    cr_assert(sscanf(line, "{\"port\":%u}", port) == 1 && *port > 0, "serve did not start: '%s'", line);
    return pid;
}

json_t *test_api_screen(const char *dd, const char *addr)
{
    char body[300];
    snprintf(body, sizeof body, "{\"address\":\"%s\"}", addr);
    return test_api_screen_body(dd, NULL, body);
}

void test_api_key(const char *dd, const char *name, const char *role, char key[128])
{
    char *out, *err;
    char *add[] = {CW_BIN, "apikey", "add", (char *)name, "--role", (char *)role, "--datadir", (char *)dd, NULL};
    cr_assert_eq(run_cmd(add, NULL, 0, &out, &err), 0, "%s", err);
    cr_assert_eq(sscanf(out, "%127s", key), 1, "%s", out);
    free(out), free(err);
}

void test_import_bystander(const char *dd)
{
    char csv[512];
    snprintf(csv, sizeof csv, "%s/bystander.csv", dd);
    FILE *f = fopen(csv, "w");
    cr_assert_not_null(f, "%s", csv);
    fputs("chain,address,entity,program,note\nbitcoin,1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa,Bystander,TEST,\n", f);
    cr_assert_eq(fclose(f), 0);
    char *out, *err;
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", csv, "--source", "bystander", "--datadir", (char *)dd, NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
}

json_t *test_api_post(unsigned port, const char *key, const char *path, const char *body, long *status)
{
    char url[300], hdr[200];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    snprintf(hdr, sizeof hdr, "X-API-Key: %s", key);
    /* the status after the body, on a line of its own */
    char *curl[] = {"/usr/bin/curl", "-s", "-w", "\n%{http_code}", "-H", hdr, "-d", (char *)body, url, NULL};
    char *out, *err;
    int crc = run_cmd(curl, NULL, 0, &out, &err);
    cr_assert_eq(crc, 0, "curl: %s", err);
    char *nl = strrchr(out, '\n');
    cr_assert_not_null(nl, "%s", out);
    *nl = '\0';
    *status = strtol(nl + 1, NULL, 10);
    json_t *j = json_loads(out, 0, NULL);
    cr_assert_not_null(j, "%s", out);
    free(out), free(err);
    return j;
}

json_t *test_api_screen_body(const char *dd, const char *const *opts, const char *body)
{
    char key[128];
    test_api_key(dd, "rules", "screen", key);
    char logp[4300];
    snprintf(logp, sizeof logp, "%s/serve.log", dd);
    unsigned port;
    pid_t pid = test_serve_start(dd, logp, opts, NULL, &port);
    long status;
    json_t *j = test_api_post(port, key, "/v1/screen", body, &status);
    test_serve_stop(pid, logp);
    return j;
}

void test_serve_stop(pid_t pid, const char *log)
{
    kill(pid, SIGTERM);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "serve ended with status %d", st);
    cw_buf b = CW_BUF_INIT;
    cr_assert_eq(cw_read_file(log, 1 << 22, &b, NULL), CW_OK, "serve's log %s: unreadable", log);
    cw_buf_append(&b, "", 1, NULL);
    cr_assert(!strstr((char *)b.p, "Sanitizer") && !strstr((char *)b.p, "runtime error"), "serve: %s", (char *)b.p);
    unlink(log);
    cw_buf_free(&b);
}

void test_dump_tables(cw_store *s, const store_db *dbs, size_t n, cw_buf *out)
{
    out->n = 0;
    store_txn *t;
    cr_assert_eq(store_begin(s, false, &t, NULL), CW_OK);
    for (size_t d = 0; d < n; d++) {
        store_cursor *c;
        cr_assert_eq(store_cursor_open(t, dbs[d], &c, NULL), CW_OK);
        cw_span k, v;
        for (bool more = store_cursor_seek(c, NULL, 0, &k, &v); more; more = store_cursor_next(c, &k, &v)) {
            uint8_t h[2] = {(uint8_t)d, (uint8_t)k.n};
            cw_buf_append(out, h, 2, NULL);
            cw_buf_append(out, k.p, k.n, NULL);
            cw_buf_append(out, v.p, v.n, NULL);
        }
        cr_assert_eq(store_cursor_error(c, NULL), CW_OK);
        store_cursor_close(c);
    }
    store_abort(t);
}

pid_t test_anvil_start(const char *path, const char *dir, const char *const *extra, char url[64])
{
    char log[600];
    snprintf(log, sizeof log, "%s/anvil.log", dir);
    const char *argv[24] = {path, "--host", "127.0.0.1", "--port", "0", "--no-mining", "--chain-id", "31337"};
    int n = 8;
    for (const char *const *e = extra; e && *e; e++) {
        cr_assert_lt(n, 23);
        argv[n++] = *e;
    }
    argv[n] = NULL;
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed assertion ends the test process: anvil goes with it */
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    int port = 0;
    for (int i = 0; i < 400 && port == 0; i++) {
        test_sleep_ms(50);
        FILE *f = fopen(log, "r");
        char line[512];
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "Listening on 127.0.0.1:%d", &port) == 1)
                break;
        if (f)
            fclose(f);
    }
    cr_assert_gt(port, 0, "anvil (%s) did not start: is it installed (scripts/setup)?", path);
    snprintf(url, 64, "http://127.0.0.1:%d", port);
    return pid;
}

void test_forget_window_index(cw_store *s, const cw_addr *pool, const cw_addr *const *srcs, size_t n)
{
    cw_err err = {0};
    uint8_t pk[WL_KEY_MAX], k[2 + 2 * WL_KEY_MAX];
    size_t pl = wl_key_from_addr(pool, pk);
    store_txn *t;
    cr_assert_eq(store_begin(s, true, &t, &err), CW_OK, "%s", err.msg);
    k[0] = 0xF2, k[1] = (uint8_t)pl; /* the pool's count */
    memcpy(k + 2, pk, pl);
    cr_assert_eq(store_del(t, STORE_RULE_PAIR, k, 2 + pl, NULL, 0, &err), CW_OK, "%s", err.msg);
    for (size_t i = 0; i < n; i++) { /* 0xF1 slen source pool */
        size_t sl = wl_key_from_addr(srcs[i], k + 2);
        k[0] = 0xF1, k[1] = (uint8_t)sl;
        memcpy(k + 2 + sl, pk, pl);
        cr_assert_eq(store_del(t, STORE_RULE_PAIR, k, 2 + sl + pl, NULL, 0, &err), CW_OK, "%s", err.msg);
    }
    cr_assert_eq(store_commit(t, &err), CW_OK, "%s", err.msg);
}
