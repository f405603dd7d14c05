/* The hold queue over HTTP: `chainwatch serve` on 127.0.0.1 (a real
 * process, real API keys from `chainwatch apikey`), its cases routes,
 * /metrics, and the review console driven end to end in headless Chromium
 * (Debian's /usr/bin/chromium through playwright-core, tests/console): a
 * hold appears in the queue, a reviewer releases it, the audit trail shows
 * it. Screenshots are kept in build/console-shots/. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chains/buf.h"
#include "chains/hex.h"
#include "monitor/engine/cases.h"
#include "monitor/records/alert.h"
#include "monitor/records/keys.h"
#include "monitor/records/webhook.h"
#include "tests/cases_fixture.h"
#include "tests/support.h"

#define CASE_ID CASES_CASE_ID

typedef struct {
    pid_t pid;
    unsigned port;
    char review_key[128], screen_key[128];
    const char *extra[3]; /* more options for serve (NULL-terminated) */
    const char *env[5];   /* NAME=VALUE set in serve's environment (NULL-terminated), e.g. the fault shim's */
    const char *errfile;  /* serve's stderr goes there when set */
} server;

static const char *jstr(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static void add_key(const char *dd, const char *name, const char *role, char *out, size_t cap)
{
    char *argv[] = {CW_BIN, "apikey", "add", (char *)name, "--role", (char *)role, "--datadir", (char *)dd, NULL};
    char *o, *e;
    cr_assert_eq(run_cmd(argv, NULL, 0, &o, &e), 0, "%s", e);
    o[strcspn(o, "\n")] = 0;
    cr_assert(strncmp(o, "cwk_", 4) == 0, "%s", o);
    snprintf(out, cap, "%s", o);
    free(o), free(e);
}

/* Starts `chainwatch serve` on a free loopback port; reads the port from
 * its first stdout line. */
static void serve_start(const char *dd, server *s)
{
    if (s->review_key[0] == '\0') { /* a restart keeps its keys */
        add_key(dd, "rev", "review", s->review_key, sizeof s->review_key);
        add_key(dd, "scr", "screen", s->screen_key, sizeof s->screen_key);
    }
    int out[2];
    cr_assert_eq(pipe(out), 0);
    s->pid = fork();
    cr_assert_neq(s->pid, -1);
    if (s->pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        for (int i = 0; i < 5 && s->env[i]; i++) {
            char name[64];
            size_t k = strcspn(s->env[i], "=");
            snprintf(name, sizeof name, "%.*s", (int)k, s->env[i]);
            setenv(name, s->env[i] + k + 1, 1);
        }
        if (s->errfile) {
            int fd = open(s->errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fd, 2);
        }
        execl(CW_BIN, CW_BIN, "serve", "--datadir", dd, "--listen", "127.0.0.1:0", s->extra[0], s->extra[1], (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    char line[128] = "";
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t r = read(out[0], line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = 0;
    close(out[0]);
    cr_assert_eq(sscanf(line, "{\"port\":%u}", &s->port), 1, "serve did not start: '%s'", line);
}

static void serve_stop(server *s)
{
    kill(s->pid, SIGTERM);
    int st;
    cr_assert_eq(waitpid(s->pid, &st, 0), s->pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "serve stopped cleanly");
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    cw_buf_append(ctx, p, size * n, NULL);
    return size * n;
}

/* One request; returns the status, *body (NUL-terminated, caller frees)
 * and the Content-Type into type (may be NULL). */
static long http(const server *s, const char *method, const char *path, const char *key, const char *body, char **out,
                 char *type, size_t tcap)
{
    CURL *h = curl_easy_init();
    char url[512], hdr[200];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", s->port, path);
    struct curl_slist *hs = NULL;
    if (key) {
        snprintf(hdr, sizeof hdr, "X-API-Key: %s", key);
        hs = curl_slist_append(hs, hdr);
    }
    hs = curl_slist_append(hs, "Content-Type: application/json");
    cw_buf b = CW_BUF_INIT;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    cr_assert_eq(curl_easy_perform(h), CURLE_OK, "%s %s", method, path);
    long code = 0;
    char *ct = NULL;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    if (type)
        snprintf(type, tcap, "%s", ct ? ct : "");
    cw_buf_append(&b, "", 1, NULL);
    *out = (char *)b.p;
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
    return code;
}

static json_t *http_json(const server *s, const char *method, const char *path, const char *key, const char *body,
                         long want)
{
    char *out;
    long code = http(s, method, path, key, body, &out, NULL, 0);
    cr_assert_eq(code, want, "%s %s: %ld %s", method, path, code, out);
    json_t *j = json_loads(out, 0, NULL);
    cr_assert_not_null(j, "%s %s: not JSON: %s", method, path, out);
    free(out);
    return j;
}

static const char *error_code(const json_t *j) { return jstr(json_object_get(j, "error"), "code"); }

Test(cases_api, queue_decisions_and_refusals, .timeout = 60)
{
    char root[64], dd[128];
    cases_hold_datadir(root, sizeof root, dd, sizeof dd);
    server s = {0};
    serve_start(dd, &s);
    json_t *j = http_json(&s, "GET", "/v1/cases?status=open", s.review_key, NULL, 200);
    cr_assert_eq(json_array_size(json_object_get(j, "cases")), 1);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(j, "cases"), 0), "id"), CASE_ID);
    json_decref(j);
    j = http_json(&s, "GET", "/v1/cases/" CASE_ID, s.review_key, NULL, 200);
    cr_assert(json_is_true(json_object_get(json_object_get(j, "trail"), "ok")));
    cr_assert_str_eq(jstr(json_object_get(j, "alert"), "decision"), "hold");
    json_decref(j);

    /* auth: no key 401, a screen key 403 */
    j = http_json(&s, "GET", "/v1/cases", NULL, NULL, 401);
    json_decref(j);
    j = http_json(&s, "GET", "/v1/cases", s.screen_key, NULL, 403);
    json_decref(j);
    j = http_json(&s, "POST", "/v1/cases/" CASE_ID "/release", s.screen_key, "{\"reason\":\"x\"}", 403);
    json_decref(j);
    /* malformed requests: 400 with what was wrong; unknown case 404 */
    struct {
        const char *method, *path, *body;
        long code;
        const char *says;
    } bad[] = {
        {"GET", "/v1/cases?status=pending", NULL, 400, "status must be"},
        {"GET", "/v1/cases?limit=0", NULL, 400, "limit"},
        {"GET", "/v1/cases?limit=5x", NULL, 400, "limit"},
        {"GET", "/v1/cases?sort=id", NULL, 400, "unknown query parameter"},
        {"GET", "/v1/cases?cursor=xyz", NULL, 400, "cursor: the next_cursor"},
        {"GET", "/v1/cases/NOT-AN-ID", NULL, 400, "not a case id"},
        {"GET", "/v1/cases/00000000000000000000000000000000", NULL, 404, "no case"},
        {"POST", "/v1/cases/" CASE_ID "/release", "not json", 400, "JSON object"},
        {"POST", "/v1/cases/" CASE_ID "/release", "[1]", 400, "JSON object"},
        {"POST", "/v1/cases/" CASE_ID "/release", "{}", 400, "a reason is required"},
        {"POST", "/v1/cases/" CASE_ID "/release", "{\"reason\":\"\"}", 400, "a reason is required"},
        {"POST", "/v1/cases/" CASE_ID "/release", "{\"reason\":7}", 400, "must be a string"},
        {"POST", "/v1/cases/" CASE_ID "/release", "{\"reason\":\"x\",\"amount\":1}", 400, "unknown field"},
        /* an actor cannot name another key, nor break the printed trail's lines */
        {"POST", "/v1/cases/" CASE_ID "/release", "{\"reason\":\"x\",\"actor\":\"bob (key admin)\"}", 400,
         "the server adds the key's name"},
        {"POST", "/v1/cases/" CASE_ID "/release", "{\"reason\":\"x\",\"actor\":\"bob\\nalice\"}", 400,
         "control characters are refused"},
        {"POST", "/v1/cases/00000000000000000000000000000000/block", "{\"reason\":\"x\"}", 404, "no case"},
        {"GET", "/v1/cases/" CASE_ID "/report", NULL, 409, "blocked cases only"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        j = http_json(&s, bad[i].method, bad[i].path, s.review_key, bad[i].body, bad[i].code);
        const char *msg = jstr(json_object_get(j, "error"), "message");
        cr_assert(msg && strstr(msg, bad[i].says), "%s %s: %s", bad[i].method, bad[i].path, msg);
        json_decref(j);
    }

    /* release: the actor names the person and the key */
    j = http_json(&s, "POST", "/v1/cases/" CASE_ID "/release", s.review_key,
                  "{\"reason\":\"known customer\",\"actor\":\"alice\"}", 200);
    cr_assert_str_eq(jstr(json_object_get(j, "entry"), "actor"), "alice (key rev)");
    cr_assert_str_eq(jstr(json_object_get(j, "entry"), "action"), "release");
    cr_assert_str_eq(jstr(json_object_get(j, "case"), "state"), "released");
    cr_assert_eq(json_array_size(json_object_get(json_object_get(j, "case"), "audit")), 2);
    json_decref(j);
    /* a second decision is a conflict; a note is not */
    j = http_json(&s, "POST", "/v1/cases/" CASE_ID "/release", s.review_key, "{\"reason\":\"again\"}", 409);
    cr_assert_str_eq(error_code(j), "conflict");
    json_decref(j);
    j = http_json(&s, "POST", "/v1/cases/" CASE_ID "/block", s.review_key, "{\"reason\":\"late\"}", 409);
    json_decref(j);
    j = http_json(&s, "POST", "/v1/cases/" CASE_ID "/note", s.review_key, "{\"reason\":\"called back\"}", 200);
    cr_assert_str_eq(jstr(json_object_get(j, "entry"), "actor"), "rev", "no actor named: the key's name");
    json_decref(j);
    j = http_json(&s, "GET", "/v1/cases?status=released", s.review_key, NULL, 200);
    cr_assert_eq(json_array_size(json_object_get(j, "cases")), 1);
    json_decref(j);
    serve_stop(&s);

    /* the CLI sees what the API wrote: 3 entries, the trail verifies */
    char *argv[] = {CW_BIN, "cases", "show", CASE_ID, "--datadir", dd, NULL};
    char *out, *err;
    cr_assert_eq(run_cmd(argv, NULL, 0, &out, &err), 0, "%s", err);
    j = json_loads(out, 0, NULL);
    cr_assert_eq(json_array_size(json_object_get(j, "audit")), 3);
    json_decref(j);
    free(out), free(err);
    cases_rm_root(root);
}

/* Decisions on one case from many API threads at once: LMDB's one writer
 * serialises them, so exactly one is taken (200) and every other is a
 * conflict (409); the trail holds the one decision. */
typedef struct {
    const server *s;
    const char *path;
    long code;
    pthread_barrier_t *go;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    char *out;
    pthread_barrier_wait(r->go);
    r->code = http(r->s, "POST", r->path, r->s->review_key, "{\"reason\":\"race\"}", &out, NULL, 0);
    free(out);
    return NULL;
}

Test(cases_api, concurrent_decisions_have_one_winner, .timeout = 60)
{
    char root[64], dd[128];
    cases_hold_datadir(root, sizeof root, dd, sizeof dd);
    server s = {0};
    serve_start(dd, &s);
    enum { N = 8 };
    racer r[N];
    pthread_t th[N];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, N);
    for (int i = 0; i < N; i++) {
        r[i] = (racer){&s, i % 2 ? "/v1/cases/" CASE_ID "/block" : "/v1/cases/" CASE_ID "/release", 0, &go};
        cr_assert_eq(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    int won = 0, refused = 0;
    const char *winner = NULL;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        if (r[i].code == 200) {
            won++;
            winner = strstr(r[i].path, "block") ? "blocked" : "released";
        }
        refused += r[i].code == 409;
    }
    pthread_barrier_destroy(&go);
    cr_assert_eq(won, 1, "exactly one decision is taken (%d)", won);
    cr_assert_eq(refused, N - 1, "every other one is a conflict (%d)", refused);
    json_t *j = http_json(&s, "GET", "/v1/cases/" CASE_ID, s.review_key, NULL, 200);
    cr_assert_str_eq(jstr(j, "state"), winner);
    cr_assert_eq(json_array_size(json_object_get(j, "audit")), 2, "open + the one decision");
    cr_assert(json_is_true(json_object_get(json_object_get(j, "trail"), "ok")));
    json_decref(j);
    serve_stop(&s);
    cases_rm_root(root);
}

Test(cases_api, block_report_graph_and_metrics, .timeout = 60)
{
    char root[64], dd[128];
    cases_hold_datadir(root, sizeof root, dd, sizeof dd);
    server s = {0};
    serve_start(dd, &s);
    char *out, type[128];
    cr_assert_eq(http(&s, "GET", "/metrics", NULL, NULL, &out, NULL, 0), 200);
    cr_assert(strstr(out, "\nchainwatch_cases_open 1\n"), "%s", out);
    cr_assert(strstr(out, "# TYPE chainwatch_cases_open gauge\n"));
    free(out);
    json_t *j = http_json(&s, "POST", "/v1/cases/" CASE_ID "/block", s.review_key,
                          "{\"reason\":\"payout to a DPRK IT worker's wallet\",\"actor\":\"carol\"}", 200);
    cr_assert_str_eq(jstr(json_object_get(j, "report"), "type"), "blocked_property_report_draft",
                     "the draft comes with the decision");
    cr_assert_str_eq(jstr(json_object_get(json_object_get(j, "report"), "case"), "blocked_by"), "carol (key rev)");
    json_decref(j);
    cr_assert_eq(http(&s, "GET", "/metrics", NULL, NULL, &out, NULL, 0), 200);
    cr_assert(strstr(out, "\nchainwatch_cases_open 0\n"), "%s", out);
    cr_assert(strstr(out, "\nchainwatch_cases{state=\"blocked\"} 1\n"), "%s", out);
    free(out);

    j = http_json(&s, "GET", "/v1/cases/" CASE_ID "/report", s.review_key, NULL, 200);
    cr_assert_str_eq(jstr(j, "type"), "blocked_property_report_draft");
    cr_assert_str_eq(jstr(json_object_get(j, "designated_party"), "name"), "Test IT worker");
    cr_assert_str_eq(jstr(json_object_get(j, "property"), "amount"), "0.30000000");
    cr_assert_str_eq(jstr(json_object_get(j, "case"), "blocked_by"), "carol (key rev)");
    json_decref(j);
    cr_assert_eq(http(&s, "GET", "/v1/cases/" CASE_ID "/report.html", s.review_key, NULL, &out, type, sizeof type), 200);
    cr_assert_str_eq(type, "text/html; charset=utf-8");
    cr_assert(strstr(out, "Report of blocked property"));
    cr_assert(strstr(out, "Test IT worker"));
    free(out);
    cr_assert_eq(http(&s, "GET", "/v1/cases/" CASE_ID "/graph.svg", s.review_key, NULL, &out, type, sizeof type), 200);
    cr_assert_str_eq(type, "image/svg+xml; charset=utf-8");
    cr_assert(strstr(out, "data-id=\"tx:" CASES_HOLD_TXID "\""), "%s", out);
    cr_assert(strstr(out, "data-id=\"addr:mqBXtoBQx88vMij3Hj8YM3RXDDvbrNfx9v\""));
    free(out);
    /* the console's files are public and hold no data */
    cr_assert_eq(http(&s, "GET", "/console/", NULL, NULL, &out, type, sizeof type), 200);
    cr_assert_str_eq(type, "text/html; charset=utf-8");
    cr_assert(strstr(out, "hold queue"));
    cr_assert_null(strstr(out, CASE_ID));
    free(out);
    cr_assert_eq(http(&s, "GET", "/console/console.js", NULL, NULL, &out, type, sizeof type), 200);
    cr_assert_str_eq(type, "text/javascript; charset=utf-8");
    free(out);
    cr_assert_eq(http(&s, "GET", "/console/secrets.txt", NULL, NULL, &out, NULL, 0), 404);
    free(out);
    serve_stop(&s);
    cases_rm_root(root);
}

Test(console, a_reviewer_releases_a_hold_in_chromium, .timeout = 120)
{
    char root[64], dd[128];
    cases_hold_datadir(root, sizeof root, dd, sizeof dd);
    server s = {0};
    serve_start(dd, &s);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", s.port);
    mkdir(CW_CONSOLE_SHOTS, 0755);
    for (const char *const *f = (const char *const[]){"1-queue.png", "2-case.png", "3-released.png", "4-released-queue.png",
                                                      "failure.png", NULL};
         *f; f++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", CW_CONSOLE_SHOTS, *f);
        unlink(p); /* screenshots of this run only */
    }
    char *argv[] = {"/usr/bin/env",
                    "CW_CONSOLE_URL=" /* filled below */,
                    NULL, NULL, NULL, "node", CW_CONSOLE_DIR "/console_e2e.mjs", NULL};
    char e_url[128], e_key[200], e_id[80], e_shots[600];
    snprintf(e_url, sizeof e_url, "CW_CONSOLE_URL=%s", base);
    snprintf(e_key, sizeof e_key, "CW_API_KEY=%s", s.review_key);
    snprintf(e_id, sizeof e_id, "CW_CASE_ID=%s", CASE_ID);
    snprintf(e_shots, sizeof e_shots, "CW_SHOTS=%s", CW_CONSOLE_SHOTS);
    argv[1] = e_url, argv[2] = e_key, argv[3] = e_id, argv[4] = e_shots;
    char *out, *err;
    int rc = run_cmd(argv, NULL, 0, &out, &err);
    serve_stop(&s);
    cr_assert_eq(rc, 0, "the console test failed (screenshots in %s): %s%s", CW_CONSOLE_SHOTS, out, err);
    cr_assert(strstr(out, "console_e2e: ok"), "%s", out);
    free(out), free(err);
    for (const char *const *f = (const char *const[]){"1-queue.png", "2-case.png", "3-released.png", NULL}; *f; f++) {
        char p[512];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", CW_CONSOLE_SHOTS, *f);
        cr_assert_eq(stat(p, &st), 0, "screenshot %s kept", p);
        cr_assert_gt(st.st_size, 1000);
    }
    /* what the page did is in the store: the release, by the person and the key */
    char *show[] = {CW_BIN, "cases", "show", CASE_ID, "--datadir", dd, NULL};
    cr_assert_eq(run_cmd(show, NULL, 0, &out, &err), 0, "%s", err);
    json_t *j = json_loads(out, 0, NULL);
    cr_assert_str_eq(jstr(j, "state"), "released");
    json_t *e = json_array_get(json_object_get(j, "audit"), 1);
    cr_assert_str_eq(jstr(e, "action"), "release");
    cr_assert_str_eq(jstr(e, "actor"), "Alice Reviewer (key rev)");
    cr_assert(strstr(jstr(e, "reason"), "ticket 4711"));
    json_decref(j);
    free(out), free(err);
    cases_rm_root(root);
}

Test(cases_api, serve_delivers_webhooks_of_the_queue_and_its_decisions, .timeout = 60)
{
    char root[64], dd[128], url[80], hook_arg[100];
    cases_hold_datadir(root, sizeof root, dd, sizeof dd);
    receiver *r = receiver_start(0, 1, 503);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/hooks/chainwatch", r->port);
    snprintf(hook_arg, sizeof hook_arg, "--webhook=%s", url);
    server s = {0};
    s.extra[0] = hook_arg;
    s.extra[1] = "--webhook-retry-base-ms=20";
    serve_start(dd, &s);
    json_t *j = http_json(&s, "POST", "/v1/cases/" CASE_ID "/release", s.review_key, "{\"reason\":\"ok\",\"actor\":\"dan\"}",
                          200);
    json_decref(j);
    /* 6 alert.blocked and case.opened from the replay, then case.released */
    size_t ok = 0;
    for (int i = 0; i < 300 && ok < 8; i++) { /* up to 15 s on a loaded machine */
        test_sleep_ms(50);
        pthread_mutex_lock(&r->mu);
        ok = 0;
        size_t k;
        json_t *q;
        json_array_foreach(r->got, k, q) ok += json_integer_value(json_object_get(q, "status")) == 200;
        pthread_mutex_unlock(&r->mu);
    }
    serve_stop(&s);
    uint8_t pk[32];
    cr_assert_eq(keys_load_public(dd, pk, NULL), CW_OK);
    pthread_mutex_lock(&r->mu);
    cr_assert_eq(json_array_size(r->got), 9, "one failed try, then 8 events once each");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(r->got, 0), "status")), 503);
    for (size_t i = 1; i < 9; i++) {
        json_t *q = json_array_get(r->got, i);
        cr_assert_eq(json_integer_value(json_object_get(q, "seq")), (json_int_t)i, "in order");
        cr_assert(webhook_verify(pk, jstr(q, "sig"), jstr(q, "body"), strlen(jstr(q, "body"))));
    }
    json_t *last = json_loads(jstr(json_array_get(r->got, 8), "body"), 0, NULL);
    cr_assert_str_eq(jstr(last, "type"), "case.released");
    cr_assert_str_eq(jstr(json_object_get(last, "entry"), "actor"), "dan (key rev)");
    json_decref(last);
    pthread_mutex_unlock(&r->mu);
    receiver_stop(r);
    cases_rm_root(root);
}

/* serve --webhook with 7 events owed to a receiver that accepts the
 * connection and never answers: the first pass waits on its first POST
 * (5 s, the default timeout) before it can count what is owed. Meanwhile
 * /healthz's webhooks.pending is null (not known yet), never 0: before,
 * it read 0 until a pass ended, so a backlog being delivered (a first
 * pass can take minutes) looked like nothing owed. After the timeout the
 * pass ends and pending is the real count, so a slow machine reading
 * /healthz late sees 7, which is right too. */
Test(cases_api, webhook_pending_is_unknown_before_the_first_pass_ends, .timeout = 60)
{
    char root[64], dd[128], url[80], hook_arg[100];
    cases_hold_datadir(root, sizeof root, dd, sizeof dd);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(lfd, 8), 0); /* the kernel completes the handshake; nobody reads */
    cr_assert_eq(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/hooks/chainwatch", ntohs(a.sin_port));
    snprintf(hook_arg, sizeof hook_arg, "--webhook=%s", url);
    server s = {0};
    s.extra[0] = hook_arg;
    serve_start(dd, &s);
    char *out;
    long code = http(&s, "GET", "/healthz", NULL, NULL, &out, NULL, 0);
    json_t *h = json_loads(out, 0, NULL);
    free(out);
    json_t *w = json_object_get(h, "webhooks");
    cr_assert_not_null(w, "%ld", code);
    cr_assert(json_is_false(json_object_get(w, "failing")));
    json_t *p = json_object_get(w, "pending");
    cr_assert(json_is_null(p) || json_integer_value(p) == 7, "pending before the first pass ended: %s",
              json_is_integer(p) ? "a number, not the 7 owed" : "not null");
    json_decref(h);
    serve_stop(&s);
    close(lfd);
    cases_rm_root(root);
}

/* Lines of file holding needle. */
static size_t lines_with(const char *file, const char *needle)
{
    FILE *f = fopen(file, "r");
    cr_assert_not_null(f, "%s", file);
    char line[2048];
    size_t n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* The fault shim's environment for a store that fails every read of the
 * endpoint url's delivery cursor (its key, watchlists/hookdb.c url_key:
 * 'c' and the URL) while the gate file root/store-fails exists, made here:
 * e_fail (CW_FAIL_MDB=...) and e_gate (CW_FAULT_WHILE=gate); errfile is
 * root/serve.err, for serve's stderr. */
static void cursor_fault_gate(const char *root, const char *url, char gate[200], char errfile[200], char e_fail[1300],
                              char e_gate[260])
{
    char key[100], hex[200];
    snprintf(key, sizeof key, "c%s", url);
    cw_hex_encode((const uint8_t *)key, strlen(key), hex);
    snprintf(e_fail, 1300, "CW_FAIL_MDB=mdb_get:1+:EIO@%s", hex);
    snprintf(gate, 200, "%s/store-fails", root);
    snprintf(e_gate, 260, "CW_FAULT_WHILE=%s", gate);
    snprintf(errfile, 200, "%s/serve.err", root);
    FILE *g = fopen(gate, "w");
    cr_assert_not_null(g);
    fclose(g);
}

/* serve --webhook while the store fails the deliverer's reads (the fault
 * shim fails every read of the endpoint's cursor while a gate file exists:
 * the store "recovers" when the test removes it). The thread logs the
 * error once, /healthz is 503 naming it, /metrics says so, and no event
 * is sent meanwhile; once the store answers, every event (the 7 of the
 * replay and one decided during the failure) arrives exactly once, in
 * seq order: no POST was made while the cursor could not be read, so the
 * at-least-once contract allows no repeat here. */
Test(cases_api, serve_webhook_delivery_survives_a_failing_store_and_reports_it, .timeout = 90)
{
    char root[64], dd[128], url[80], hook_arg[100], gate[200], errfile[200], e_fail[1300], e_gate[260];
    cases_hold_datadir(root, sizeof root, dd, sizeof dd);
    receiver *r = receiver_start(0, 0, 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/hooks/chainwatch", r->port);
    snprintf(hook_arg, sizeof hook_arg, "--webhook=%s", url);
    cursor_fault_gate(root, url, gate, errfile, e_fail, e_gate);
    server s = {0};
    s.extra[0] = hook_arg;
    s.env[0] = "LD_PRELOAD=" CW_FAULT_PRELOAD;
    s.env[1] = e_fail;
    s.env[2] = e_gate;
    s.errfile = errfile;
    serve_start(dd, &s);
    /* failing: /healthz says so once a few passes failed (backoff 200, 400, ... ms) */
    json_t *h = NULL, *w = NULL;
    char *out;
    long code = 0;
    for (int i = 0; i < 600; i++) { /* up to 30 s on a loaded machine */
        code = http(&s, "GET", "/healthz", NULL, NULL, &out, NULL, 0);
        json_decref(h);
        h = json_loads(out, 0, NULL);
        free(out);
        w = json_object_get(h, "webhooks");
        if (json_is_true(json_object_get(w, "failing")) &&
            json_integer_value(json_object_get(w, "store_errors")) >= 3)
            break;
        test_sleep_ms(50);
    }
    cr_assert(json_is_true(json_object_get(w, "failing")), "healthz never said webhooks fail: %ld", code);
    cr_assert_geq(json_integer_value(json_object_get(w, "store_errors")), 3);
    cr_assert_eq(code, 503, "a failing deliverer makes /healthz 503");
    cr_assert_str_eq(jstr(h, "status"), "degraded");
    cr_assert_str_eq(jstr(w, "endpoint"), url);
    char why[CW_ERR_MSG_MAX];
    cr_assert_not_null(jstr(w, "error"));
    snprintf(why, sizeof why, "%s", jstr(w, "error"));
    cr_assert(strstr(why, "Input/output error"), "the store's error: %s", why);
    bool named = false;
    size_t k;
    json_t *pr;
    json_array_foreach(json_object_get(h, "problems"), k, pr) named |= strstr(json_string_value(pr), "webhook") != NULL;
    cr_assert(named, "a named problem");
    json_decref(h);
    code = http(&s, "GET", "/metrics", NULL, NULL, &out, NULL, 0);
    cr_assert_eq(code, 200);
    cr_assert(strstr(out, "\nchainwatch_webhook_failing 1\n"), "%s", out);
    free(out);
    /* an event written while delivery fails: the API's write does not read the cursor */
    json_t *j = http_json(&s, "POST", "/v1/cases/" CASE_ID "/release", s.review_key, "{\"reason\":\"ok\",\"actor\":\"dan\"}",
                          200);
    json_decref(j);
    pthread_mutex_lock(&r->mu);
    cr_assert_eq(json_array_size(r->got), 0, "nothing sent while the cursor cannot be read");
    pthread_mutex_unlock(&r->mu);
    /* the failing deliverer keeps webhooks.lock: a second one is refused */
    char *argv[] = {CW_BIN, "cases", "deliver", url, "--until-idle", "--datadir", dd, NULL}, *d_out, *d_err;
    int d_rc = run_cmd(argv, NULL, 0, &d_out, &d_err);
    cr_assert_neq(d_rc, 0, "a second deliverer ran beside the failing one: %s", d_err);
    cr_assert(strstr(d_err, "another deliverer holds"), "%s", d_err);
    free(d_out), free(d_err);
    /* logged once, with what failed and where, however many passes failed */
    char needle[200];
    snprintf(needle, sizeof needle, "webhooks: delivery to %s is failing", url);
    cr_assert_eq(lines_with(errfile, needle), 1, "one line when delivery starts failing");
    cr_assert_eq(lines_with(errfile, "still failing"), 0, "the same error is not logged again");
    cr_assert_eq(lines_with(errfile, why), 1, "the line says what failed: %s", why);
    /* the store recovers: everything arrives */
    cr_assert_eq(unlink(gate), 0);
    size_t ok = 0;
    for (int i = 0; i < 600 && ok < 8; i++) { /* the backoff is at most 10 s; up to 30 s in all */
        test_sleep_ms(50);
        pthread_mutex_lock(&r->mu);
        ok = json_array_size(r->got);
        pthread_mutex_unlock(&r->mu);
    }
    cr_assert_eq(ok, 8, "the 8 events after the store recovered");
    /* the thread's counters follow the pass that delivered: poll, then healthz is clean of webhooks */
    for (int i = 0; i < 1200; i++) { /* a cap */
        code = http(&s, "GET", "/healthz", NULL, NULL, &out, NULL, 0);
        h = json_loads(out, 0, NULL);
        free(out);
        w = json_object_get(h, "webhooks");
        if (!json_is_true(json_object_get(w, "failing")) &&
            json_integer_value(json_object_get(w, "delivered")) == 8)
            break;
        json_decref(h);
        h = NULL;
        test_sleep_ms(50);
    }
    cr_assert_not_null(h, "healthz never showed the recovery");
    cr_assert(json_is_null(json_object_get(w, "error")), "no error once it works");
    cr_assert_eq(json_integer_value(json_object_get(w, "pending")), 0);
    named = false;
    json_array_foreach(json_object_get(h, "problems"), k, pr) named |= strstr(json_string_value(pr), "webhook") != NULL;
    cr_assert_not(named, "no webhook problem once it works");
    json_decref(h);
    serve_stop(&s);
    cr_assert_eq(lines_with(errfile, "resumed after"), 1, "the recovery is logged");
    cr_assert_eq(lines_with(errfile, "AddressSanitizer") + lines_with(errfile, "runtime error"), 0, "no sanitizer report");
    uint8_t pk[32];
    cr_assert_eq(keys_load_public(dd, pk, NULL), CW_OK);
    pthread_mutex_lock(&r->mu);
    cr_assert_eq(json_array_size(r->got), 8, "each event once");
    for (size_t i = 0; i < 8; i++) {
        json_t *q = json_array_get(r->got, i);
        cr_assert_eq(json_integer_value(json_object_get(q, "seq")), (json_int_t)i + 1, "in order");
        cr_assert_eq(json_integer_value(json_object_get(q, "status")), 200);
        cr_assert(webhook_verify(pk, jstr(q, "sig"), jstr(q, "body"), strlen(jstr(q, "body"))));
    }
    json_t *last = json_loads(jstr(json_array_get(r->got, 7), "body"), 0, NULL);
    cr_assert_str_eq(jstr(last, "type"), "case.released");
    json_decref(last);
    pthread_mutex_unlock(&r->mu);
    receiver_stop(r);
    cases_rm_root(root);
}

/* The delivery thread of serve --webhook under a store that fails now
 * and then (every read of the endpoint's cursor fails while the gate file
 * exists; the shim logs each fault it injects, and each fails one pass):
 * one "is failing" line, one "resumed" line, and the later runs folded
 * into one "came and went" line at the stop, counting exactly the passes
 * that failed after the first run. Before: a line when each run started
 * and another when it ended (webhook_errlog, webhook.h). */
Test(cases_api, serve_webhook_logs_a_flapping_store_at_a_bounded_rate, .timeout = 60)
{
    char root[64], dd[128], url[80], hook_arg[100], gate[200], errfile[200], flog[200], e_fail[1300], e_gate[260],
        e_log[260];
    cases_hold_datadir(root, sizeof root, dd, sizeof dd);
    receiver *r = receiver_start(0, 0, 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/hooks/chainwatch", r->port);
    snprintf(hook_arg, sizeof hook_arg, "--webhook=%s", url);
    cursor_fault_gate(root, url, gate, errfile, e_fail, e_gate);
    snprintf(flog, sizeof flog, "%s/faults.log", root);
    snprintf(e_log, sizeof e_log, "CW_FAULT_LOG=%s", flog);
    server s = {0};
    s.extra[0] = hook_arg;
    s.env[0] = "LD_PRELOAD=" CW_FAULT_PRELOAD;
    s.env[1] = e_fail;
    s.env[2] = e_gate;
    s.env[3] = e_log;
    s.errfile = errfile;
    serve_start(dd, &s);
    char needle[300];
    snprintf(needle, sizeof needle, "webhooks: delivery to %s is failing: ", url);
    for (int i = 0; i < 1200 && lines_with(errfile, needle) == 0; i++)
        test_sleep_ms(25);
    cr_assert_eq(lines_with(errfile, needle), 1, "delivery failing is logged");
    cr_assert_eq(unlink(gate), 0);
    for (int i = 0; i < 1200 && lines_with(errfile, "resumed after") == 0; i++)
        test_sleep_ms(25);
    cr_assert_eq(lines_with(errfile, "resumed after"), 1, "the recovery is logged");
    test_fault_runs(gate, flog, 4); /* four more runs: the fault on until a pass met it, then off */
    serve_stop(&s);
    size_t faults = test_file_lines(flog);
    cr_assert_eq(lines_with(errfile, "is failing"), 1, "one line when it starts failing");
    /* an LMDB EIO is damage (store_error_passes): the line says waiting will not cure it */
    cr_assert_eq(lines_with(errfile, "this error does not pass by waiting: it recurs on every pass until the store "
                                     "is repaired"), 1);
    cr_assert_eq(lines_with(errfile, "resumed after"), 1, "one recovery line");
    cr_assert_eq(lines_with(errfile, "still failing"), 0);
    cr_assert_eq(lines_with(errfile, "came and went"), 1, "the later runs as one line");
    FILE *f = fopen(errfile, "r");
    cr_assert_not_null(f);
    char line[2048];
    unsigned long long first = 0, hidden = 0, runs = 0;
    snprintf(needle, sizeof needle, "webhooks: delivery to %s: ", url);
    while (fgets(line, sizeof line, f)) {
        const char *p;
        if (strstr(line, "resumed after") && (p = strstr(line, "store errors (")))
            first = strtoull(p + strlen("store errors ("), NULL, 10);
        if (strstr(line, "came and went") && (p = strstr(line, needle))) {
            runs = strtoull(p + strlen(needle), NULL, 10);
            hidden = strtoull(strstr(p, "store errors (") + strlen("store errors ("), NULL, 10);
            cr_assert(strstr(line, " warn: "), "%s", line);
            cr_assert(strstr(line, "; the last: store damaged: ") && strstr(line, "Input/output error"), "%s", line);
        }
    }
    fclose(f);
    cr_assert_geq(first, 1);
    cr_assert_eq(first + hidden, faults, "every failed pass counted once: %llu + %llu of %zu", first, hidden, faults);
    cr_assert(runs >= 1 && runs <= 4 && runs <= hidden, "%llu runs of %llu passes", runs, hidden);
    pthread_mutex_lock(&r->mu);
    cr_assert_eq(json_array_size(r->got), 7, "each event once");
    pthread_mutex_unlock(&r->mu);
    receiver_stop(r);
    cases_rm_root(root);
}

/* ---- amounts in their asset (monitor/records/amount.h, console.js) ---- */

/* Opens the case of an Ethereum hold shaped as records_account_exposure
 * writes it (an indirect exposure held at the share threshold: the money
 * came from Lazarus Group's listed ETH address, uid 27307 in the SDN list
 * of ../shared/data/ofac), signed with the datadir's key, as watch
 * --chain ethereum would; its id is alert_id's. */
static void eth_hold(const char *dd, const char *txid, const char *addr, const char *amount, json_t *asset, char id[33])
{
    cw_err e = {0};
    uint8_t *sk = keys_secret_open(dd, &e);
    cr_assert_not_null(sk, "%s", e.msg);
    alert_id("ethereum", "mainnet", txid, "indirect_exposure", addr, id);
    json_t *rec = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:i, s:i}, s:s, s:s, s:n, "
        "s:{s:n, s:s, s:s, s:[s], s:s, s:s}, s:s, s:b, s:i, s:[s], s:s, s:i, s:o, s:s, s:b, s:s}",
        "id", id, "rule", "indirect_exposure", "severity", "high", "decision", "hold", "status", "confirmed", "chain",
        "ethereum", "network", "mainnet", "txid", txid, "block", "hash",
        "0x9f5e8d3c1b2a4f6e8d7c6b5a49382716f5e4d3c2b1a09f8e7d6c5b4a39281706", "height", 21000123, "time", 1733200000,
        "direction", "from_designated", "address", addr, "linked_from", "entity", "designated", "list", "sdn", "name",
        "LAZARUS GROUP", "programs", "DPRK3", "source", "ofac", "uid", "27307", "seen_at", "2026-12-03T09:00:00.000Z",
        "watched", 0, "hops", 1, "evidence", txid, "source_address", "0x098B716B8Aaf21512996dC57EB0615e2383E2f96",
        "share_ppm", 1000000, "asset", asset, "amount", amount, "amount_known", 1, "transfer_amount", amount);
    cr_assert_not_null(rec);
    cw_buf line = CW_BUF_INIT;
    cr_assert_eq(alert_sign(rec, sk, &line, &e), CW_OK, "%s", e.msg);
    cw_store *st;
    store_txn *t;
    cr_assert_eq(store_open(dd, 0, false, &st, &e), CW_OK, "%s", e.msg);
    cr_assert_eq(store_begin(st, true, &t, &e), CW_OK, "%s", e.msg);
    cr_assert_eq(cases_on_record(t, sk, rec, (const char *)line.p, line.n, &e), CW_OK, "%s", e.msg);
    cr_assert_eq(store_commit(t, &e), CW_OK, "%s", e.msg);
    store_close(st);
    json_decref(rec);
    cw_buf_free(&line);
    keys_secret_free(sk);
}

Test(console, an_ethereum_usdt_hold_shows_its_exact_amount_and_asset_in_chromium, .timeout = 120)
{
    char root[64], dd[128], usdt[33], wei[33];
    cases_hold_datadir(root, sizeof root, dd, sizeof dd);
    /* 12345678901234567 base units: above 2^53, so a float would round it */
    eth_hold(dd, "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060",
             "0x28c6c06298d514db089934071355e5743bf21d60", "12345678901234567",
             json_pack("{s:s, s:s, s:s, s:i}", "kind", "token", "contract", "0xdac17f958d2ee523a2206206994597c13d831ec7",
                       "symbol", "USDT", "decimals", 6),
             usdt);
    eth_hold(dd, "0x3a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
             "0x21a31ee1afc51d94c2efccaa2092ad1028285549", "1",
             json_pack("{s:s, s:s, s:n, s:i}", "kind", "native", "symbol", "ETH", "contract", "decimals", 18), wei);
    server s = {0};
    serve_start(dd, &s);
    /* the API says the same as the page will */
    char path[128];
    snprintf(path, sizeof path, "/v1/cases/%s", usdt);
    json_t *j = http_json(&s, "GET", path, s.review_key, NULL, 200);
    cr_assert_str_eq(jstr(j, "amount"), "12345678901234567");
    cr_assert_str_eq(jstr(json_object_get(j, "asset"), "symbol"), "USDT");
    cr_assert(json_is_true(json_object_get(j, "amount_known")), "the case carries whether the amount is known");
    json_decref(j);
    mkdir(CW_CONSOLE_SHOTS, 0755);
    char e_url[128], e_key[200], e_usdt[80], e_wei[80], e_shots[600];
    snprintf(e_url, sizeof e_url, "CW_CONSOLE_URL=http://127.0.0.1:%u", s.port);
    snprintf(e_key, sizeof e_key, "CW_API_KEY=%s", s.review_key);
    snprintf(e_usdt, sizeof e_usdt, "CW_USDT_ID=%s", usdt);
    snprintf(e_wei, sizeof e_wei, "CW_WEI_ID=%s", wei);
    snprintf(e_shots, sizeof e_shots, "CW_SHOTS=%s", CW_CONSOLE_SHOTS);
    char *argv[] = {"/usr/bin/env", e_url, e_key, e_usdt, e_wei, e_shots, "node", CW_CONSOLE_DIR "/console_amounts.mjs",
                    NULL};
    char *out, *err;
    int rc = run_cmd(argv, NULL, 0, &out, &err);
    cr_assert_eq(rc, 0, "the console test failed (screenshots in %s): %s%s", CW_CONSOLE_SHOTS, out, err);
    cr_assert(strstr(out, "console_amounts: ok"), "%s", out);
    free(out), free(err);
    /* the report's JSON: the asset and the exact amount */
    snprintf(path, sizeof path, "/v1/cases/%s/report", usdt);
    j = http_json(&s, "GET", path, s.review_key, NULL, 200);
    json_t *prop = json_object_get(j, "property");
    cr_assert_str_eq(jstr(prop, "amount"), "12345678901.234567");
    cr_assert_str_eq(jstr(prop, "amount_base_units"), "12345678901234567");
    cr_assert_str_eq(jstr(prop, "amount_text"), "12345678901.234567 USDT");
    cr_assert_str_eq(jstr(json_object_get(prop, "asset"), "contract"), "0xdac17f958d2ee523a2206206994597c13d831ec7");
    cr_assert_str_eq(jstr(json_object_get(j, "designated_party"), "address"), "0x098B716B8Aaf21512996dC57EB0615e2383E2f96");
    json_decref(j);
    serve_stop(&s);
    cases_rm_root(root);
}

/* ---- the answer to a decision is the store's truth ---- */

/* How many calls of fn the trace file (CW_TRACE_MDB=1: "[fn N]" lines) holds. */
static int traced_calls(const char *path, const char *fn)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char line[256], want[64];
    snprintf(want, sizeof want, "[%s ", fn);
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strncmp(line, want, strlen(want)) == 0;
    fclose(f);
    return n;
}

static long long store_entries(const char *dd, char *state, size_t cap)
{
    char *show[] = {CW_BIN, "cases", "show", CASE_ID, "--datadir", (char *)dd, NULL}, *out, *err;
    cr_assert_eq(run_cmd(show, NULL, 0, &out, &err), 0, "%s", err);
    json_t *j = json_loads(out, 0, NULL);
    cr_assert_not_null(j);
    snprintf(state, cap, "%s", jstr(j, "state"));
    long long n = json_integer_value(json_object_get(j, "entries"));
    json_decref(j);
    free(out), free(err);
    return n;
}

/* A release, block or note succeeds or fails as a whole, and the answer
 * says which: every LMDB read and transaction of the request failed in
 * turn (tests/tools/fault.c), the API's answer is compared with the store
 * read afterwards by another process. A 200 means the step is in the store
 * and the answer shows the case as stored; an error means nothing of it
 * is. (Before, the case was read again in a new transaction after the
 * commit, and a failure there answered 500 for a recorded decision.) */
Test(cases_api, a_decision_answer_never_contradicts_the_store, .timeout = 300)
{
    char root[64], dd[128], trace[200], env_fail[120];
    cases_hold_datadir(root, sizeof root, dd, sizeof dd);
    snprintf(trace, sizeof trace, "%s/trace.txt", root);
    /* the calls serve makes before the request, and with it */
    server s = {0};
    s.env[0] = "LD_PRELOAD=" CW_FAULT_PRELOAD;
    s.env[1] = "CW_TRACE_MDB=1";
    s.errfile = trace;
    serve_start(dd, &s);
    test_sleep_ms(200);
    static const char *const fns[] = {"mdb_txn_begin", "mdb_get", "mdb_cursor_get", "mdb_cursor_open", "mdb_put",
                                      "mdb_txn_commit"};
    int before[6], after[6];
    for (int i = 0; i < 6; i++)
        before[i] = traced_calls(trace, fns[i]);
    char *out;
    cr_assert_eq(http(&s, "POST", "/v1/cases/" CASE_ID "/note", s.review_key, "{\"reason\":\"traced\"}", &out, NULL, 0),
                 200, "%s", out);
    free(out);
    for (int i = 0; i < 6; i++)
        after[i] = traced_calls(trace, fns[i]);
    serve_stop(&s);
    char state[32];
    long long entries = store_entries(dd, state, sizeof state);
    int tried = 0, refused = 0;
    for (int f = 0; f < 6; f++) {
        cr_assert_gt(after[f], before[f], "a decision calls %s", fns[f]);
        for (int n = before[f] + 1; n <= after[f]; n++) {
            snprintf(env_fail, sizeof env_fail, "CW_FAIL_MDB=%s:%d:EIO", fns[f], n);
            s.env[1] = env_fail;
            s.errfile = "/dev/null";
            serve_start(dd, &s);
            test_sleep_ms(50); /* as above: the request comes after the start's own calls */
            char *body;
            long code = http(&s, "POST", "/v1/cases/" CASE_ID "/note", s.review_key, "{\"reason\":\"under fault\"}",
                             &body, NULL, 0);
            serve_stop(&s);
            long long now = store_entries(dd, state, sizeof state);
            json_t *j = json_loads(body, 0, NULL);
            cr_assert_not_null(j, "%s", body);
            if (code == 200) {
                cr_assert_eq(now, entries + 1, "%s: 200 and the note is stored", env_fail);
                cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "case"), "entries")), now,
                             "%s: the answer shows the case as stored: %s", env_fail, body);
                cr_assert_str_eq(jstr(json_object_get(j, "entry"), "action"), "note");
            } else {
                cr_assert_geq(code, 500, "%s: %s", env_fail, body);
                cr_assert_eq(now, entries, "%s: answered %ld (%s) but the note was stored", env_fail, code, body);
                refused++;
            }
            entries = now;
            json_decref(j);
            free(body);
            tried++;
        }
    }
    cr_assert_gt(refused, 0, "some injected faults failed the request (else the sweep tested nothing)");
    cr_log_info("%d faults injected, %d refused the step", tried, refused);
    /* a release under no fault answers the released case */
    s.env[0] = NULL;
    s.errfile = NULL;
    serve_start(dd, &s);
    json_t *j = http_json(&s, "POST", "/v1/cases/" CASE_ID "/release", s.review_key, "{\"reason\":\"ok\"}", 200);
    cr_assert_str_eq(jstr(json_object_get(j, "case"), "state"), "released");
    json_decref(j);
    serve_stop(&s);
    cr_assert_eq(store_entries(dd, state, sizeof state), entries + 1);
    cr_assert_str_eq(state, "released");
    cases_rm_root(root);
}
