/*
 * Strict input and checked output in every verb of the chainwatch
 * executable: a full disk is an error, never a cut file with exit 0; a
 * number is read whole or refused; a mistyped address is bad input, never
 * "not listed"; `watchlist lookup -` streams.
 */
#define _DEFAULT_SOURCE /* wait4 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor/cli/args.h"
#include "monitor/cli/cli.h"
#include "monitor/cli/conf.h"
#include "monitor/records/keys.h"
#include "monitor/records/alert.h"
#include "tests/support.h"

#define DATA CW_DATA_DIR "/"
#define FULL "/dev/full"
#define ENOSPC_TEXT "No space left on device"

/* Real listed addresses (SOURCES.md: Kim Sang Man, Lazarus Group) and a
 * Litecoin one kept as text; the last row is a Bitcoin address with a bad
 * checksum as a list may hold it (kept as text, flagged). */
#define KIM1 "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ"
#define KIM2 "1FCNgfZWpYMeYhy9t18AAkTBu8AsdoAc1Z"
#define LAZARUS "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"
#define LTC "LeKvNdNEzgQkzVVnRdV3fAu2DSF1nLsNw6"
#define TRX "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq"
#define BAD_LISTED "1FCNgfZWpYMeYhy9t18AAkTBu8AsdoAc1Y"
#define BECH32 "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4" /* BIP-173, not listed */
#define UNLISTED "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"
static const char own_csv[] = "chain,address,entity,program,note\n"
                              "bitcoin," KIM1 ",Kim Sang Man,DPRK4,\n"
                              "bitcoin," KIM2 ",Kim Sang Man,DPRK4,\n"
                              "ethereum," LAZARUS ",Lazarus Group,DPRK3,\n"
                              "litecoin," LTC ",Secondeye Solution,CYBER2,\n"
                              "tron," TRX ",Cheil Credit Bank,DPRK4,\n"
                              "bitcoin," BAD_LISTED ",Listed with a typo,TEST,\n";

typedef struct {
    int code;
    char *err;
    long maxrss_kb;
} result;

/* Runs argv with stdin from `in` and stdout into the file `out_path`
 * (created or truncated; /dev/full for a full disk); stderr captured. */
static result run_to(char *const argv[], const char *in, size_t in_len, const char *out_path)
{
    char inpath[] = "/tmp/cwstrict-in-XXXXXX", errpath[] = "/tmp/cwstrict-err-XXXXXX";
    int infd = mkstemp(inpath), errfd = mkstemp(errpath);
    cr_assert(infd >= 0 && errfd >= 0);
    for (size_t done = 0; in && done < in_len;) {
        ssize_t w = write(infd, in + done, in_len - done);
        cr_assert_gt(w, 0);
        done += (size_t)w;
    }
    lseek(infd, 0, SEEK_SET);
    int outfd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(outfd >= 0, "%s", out_path);
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
    struct rusage ru;
    cr_assert_eq(wait4(pid, &status, 0, &ru), pid);
    result r = {0};
    struct stat st;
    fstat(errfd, &st);
    r.err = calloc(1, (size_t)st.st_size + 1);
    cr_assert_eq(pread(errfd, r.err, (size_t)st.st_size, 0), st.st_size);
    close(infd);
    close(outfd);
    close(errfd);
    unlink(inpath);
    unlink(errpath);
    cr_assert(WIFEXITED(status), "%s died by signal %d: %s", argv[1], WTERMSIG(status), r.err);
    r.code = WEXITSTATUS(status);
    r.maxrss_kb = ru.ru_maxrss;
    return r;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)len + 1);
    cr_assert_eq(fread(p, 1, (size_t)len, f), (size_t)len);
    p[len] = '\0';
    fclose(f);
    if (n)
        *n = (size_t)len;
    return p;
}

static void put_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(p, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

/* A datadir (init'd) with own_csv imported. */
static char *datadir(void)
{
    char tmpl[] = "/tmp/cwstrict-XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl));
    char *dir = strdup(tmpl), csv[128], dd[128];
    snprintf(csv, sizeof csv, "%s/own.csv", dir);
    snprintf(dd, sizeof dd, "%s/d", dir);
    put_file(csv, own_csv, sizeof own_csv - 1);
    char *init[] = {CW_BIN, "init", "--datadir", dd, NULL};
    result r = run_to(init, NULL, 0, "/dev/null");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", csv, "--datadir", dd, NULL};
    r = run_to(imp, NULL, 0, "/dev/null");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    return dir;
}

static char *dd_of(const char *dir)
{
    static char dd[128];
    snprintf(dd, sizeof dd, "%s/d", dir);
    return dd;
}

/* The verb, its stdout on a full disk: a non-zero exit `code` and the one
 * line that says what could not be written. */
static void assert_full(char *const argv[], const char *in, size_t in_len, int code, const char *verb)
{
    result r = run_to(argv, in, in_len, FULL);
    char want[128];
    snprintf(want, sizeof want, "chainwatch: %s: writing standard output: " ENOSPC_TEXT "\n", verb);
    cr_assert_eq(r.code, code, "%s exited %d, not %d; stderr: %s", verb, r.code, code, r.err);
    cr_assert(strstr(r.err, want) != NULL, "%s: stderr lacks '%s': %s", verb, want, r.err);
    free(r.err);
}

/* ---------- 1. every write is checked ---------- */

Test(cli_strict, watchlist_verbs_on_a_full_disk_fail)
{
    char *dir = datadir(), *dd = dd_of(dir);
    char *exposure_csv[] = {CW_BIN, "watchlist", "export", "--datadir", dd, NULL};
    assert_full(exposure_csv, NULL, 0, 1, "watchlist export");
    char *exposure_json[] = {CW_BIN, "watchlist", "export", "--format", "json", "--datadir", dd, NULL};
    assert_full(exposure_json, NULL, 0, 1, "watchlist export");
    char *stats[] = {CW_BIN, "watchlist", "stats", "--datadir", dd, NULL};
    assert_full(stats, NULL, 0, 1, "watchlist stats");
    char *diff[] = {CW_BIN, "watchlist", "diff", "--datadir", dd, NULL};
    assert_full(diff, NULL, 0, 1, "watchlist diff");
    /* lookup's answer lost is 3, never 1 ("not listed") nor 0 */
    char *look[] = {CW_BIN, "watchlist", "lookup", KIM1, "--datadir", dd, NULL};
    assert_full(look, NULL, 0, 3, "watchlist lookup");
    char *look_miss[] = {CW_BIN, "watchlist", "lookup", UNLISTED, "--datadir", dd, NULL};
    assert_full(look_miss, NULL, 0, 3, "watchlist lookup");
    char *look_in[] = {CW_BIN, "watchlist", "lookup", "-", "--datadir", dd, NULL};
    assert_full(look_in, KIM1 "\n", strlen(KIM1) + 1, 3, "watchlist lookup");
    char csv[128];
    snprintf(csv, sizeof csv, "%s/own.csv", dir);
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", csv, "--datadir", dd, NULL};
    assert_full(imp, NULL, 0, 1, "watchlist import");
    /* the same export into a file is whole, and exits 0 */
    char path[160];
    snprintf(path, sizeof path, "%s/export.csv", dir);
    result r = run_to(exposure_csv, NULL, 0, path);
    cr_assert_eq(r.code, 0, "%s", r.err);
    char *text = slurp(path, NULL);
    cr_assert(strstr(text, "chain,address,entity,program,note\n") == text, "%s", text);
    cr_assert(strstr(text, "XBT," KIM1 ",Kim Sang Man,DPRK4,") != NULL, "%s", text);
    cr_assert(strstr(text, "ETH," LAZARUS ",Lazarus Group,DPRK3,") != NULL, "%s", text);
    free(text);
    free(r.err);
    test_remove_dir(dir);
}

/* Files the user keeps are fsynced, and a failed fsync is a failure: the
 * export redirected to a file, the --dot graph. */
Test(cli_strict, kept_files_are_synced_and_a_failed_sync_fails)
{
    char *dir = datadir(), *dd = dd_of(dir);
    char path[160], gv[160];
    snprintf(path, sizeof path, "%s/export.csv", dir);
    snprintf(gv, sizeof gv, "%s/trace.gv", dir);
    setenv("LD_PRELOAD", CW_FAULT_PRELOAD, 1);
    setenv("CW_FAIL_IO", "fsync:1+:EIO@any,fdatasync:1+:EIO@any", 1); /* every sync, whatever it syncs */
    char *exposure_csv[] = {CW_BIN, "watchlist", "export", "--datadir", dd, NULL};
    result r = run_to(exposure_csv, NULL, 0, path);
    char *dot[] = {CW_BIN, "trace", KIM1, "--dot", gv, "--datadir", dd, NULL};
    result d = run_to(dot, NULL, 0, "/dev/null");
    /* to a pipe or a device there is nothing to sync: not an error */
    result p = run_to(exposure_csv, NULL, 0, "/dev/null");
    unsetenv("LD_PRELOAD");
    unsetenv("CW_FAIL_IO");
    cr_assert_eq(r.code, 1, "%s", r.err);
    cr_assert_str_eq(r.err, "chainwatch: watchlist export: writing standard output: Input/output error\n");
    cr_assert_eq(d.code, 1, "%s", d.err);
    char want[256];
    snprintf(want, sizeof want, "chainwatch: trace: --dot: writing %s: Input/output error\n", gv);
    cr_assert_str_eq(d.err, want);
    cr_assert_eq(p.code, 0, "%s", p.err);
    free(r.err);
    free(d.err);
    free(p.err);
    test_remove_dir(dir);
}

Test(cli_strict, screening_verbs_on_a_full_disk_fail)
{
    char *dir = datadir(), *dd = dd_of(dir);
    /* a block decision (12) not delivered is a failure (1) */
    char *screen[] = {CW_BIN, "screen", KIM1, "--datadir", dd, NULL};
    assert_full(screen, NULL, 0, 1, "screen");
    char *cluster[] = {CW_BIN, "cluster", KIM1, "--datadir", dd, NULL};
    assert_full(cluster, NULL, 0, 1, "cluster");
    char *trace[] = {CW_BIN, "trace", KIM1, "--datadir", dd, NULL};
    assert_full(trace, NULL, 0, 1, "trace");
    /* the graph to a full disk: one line naming the file, nothing on stdout */
    char out[160];
    snprintf(out, sizeof out, "%s/trace.json", dir);
    char *dot[] = {CW_BIN, "trace", KIM1, "--dot", FULL, "--datadir", dd, NULL};
    result r = run_to(dot, NULL, 0, out);
    cr_assert_eq(r.code, 1, "%s", r.err);
    cr_assert_str_eq(r.err, "chainwatch: trace: --dot: writing /dev/full: " ENOSPC_TEXT "\n");
    size_t n;
    free(slurp(out, &n));
    cr_assert_eq(n, 0, "nothing printed when the graph was not written");
    free(r.err);
    /* and to a file: whole, synced, exit 0 */
    char gv[160];
    snprintf(gv, sizeof gv, "%s/trace.gv", dir);
    char *dot_ok[] = {CW_BIN, "trace", KIM1, "--dot", gv, "--datadir", dd, NULL};
    r = run_to(dot_ok, NULL, 0, out);
    cr_assert_eq(r.code, 0, "%s", r.err);
    char *g = slurp(gv, NULL);
    cr_assert(strncmp(g, "digraph chainwatch_trace {", 26) == 0 && strstr(g, "\n}\n"), "%s", g);
    free(g);
    free(r.err);
    test_remove_dir(dir);
}

Test(cli_strict, other_verbs_on_a_full_disk_fail)
{
    char *dir = datadir(), *dd = dd_of(dir);
    size_t n;
    uint8_t *tx = fixture(TX_TAPROOT, &n);
    char *dtx[] = {CW_BIN, "decode", "tx", "-", NULL};
    assert_full(dtx, (const char *)tx, n, 1, "decode");
    free(tx);
    char *dblk[] = {CW_BIN, "decode", "block", DATA BLOCK_514485, NULL};
    assert_full(dblk, NULL, 0, 1, "decode");
    char *dsum[] = {CW_BIN, "decode", "block", "--summary", DATA BLOCK_514485, NULL};
    assert_full(dsum, NULL, 0, 1, "decode");
    char *addr[] = {CW_BIN, "address", KIM1, NULL};
    assert_full(addr, NULL, 0, 1, "address");
    char newdd[160];
    snprintf(newdd, sizeof newdd, "%s/fresh", dir);
    char *init[] = {CW_BIN, "init", "--datadir", newdd, NULL};
    assert_full(init, NULL, 0, 1, "init");
    char *version[] = {CW_BIN, "version", NULL};
    assert_full(version, NULL, 0, 1, "version");
    char *help[] = {CW_BIN, "screen", "--help", NULL};
    assert_full(help, NULL, 0, 1, "screen");
    /* verify: one record signed with the datadir's key, valid (exit 0 to a file) */
    uint8_t sk[64];
    cw_err err = {0};
    cr_assert_eq(keys_load_secret(dd, sk, &err), CW_OK, "%s", err.msg);
    json_t *rec = json_pack("{s:s,s:s,s:s,s:s}", "id", "00", "rule", "designated_address", "txid", "ab", "address", KIM1);
    cw_buf line = CW_BUF_INIT;
    uint8_t pk[32];
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    alert_trail head;
    alert_trail_start(pk, &head); /* seq 1 of this datadir's trail: verify wants a chained record */
    cr_assert_eq(alert_sign_chained(rec, sk, &head, &line, &err), CW_OK, "%s", err.msg);
    sodium_memzero(sk, sizeof sk);
    json_decref(rec);
    char alerts[160];
    snprintf(alerts, sizeof alerts, "%s/alerts.jsonl", dir);
    put_file(alerts, line.p, line.n);
    cw_buf_free(&line);
    char *verify[] = {CW_BIN, "verify", alerts, "--datadir", dd, NULL};
    result r = run_to(verify, NULL, 0, "/dev/null");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    assert_full(verify, NULL, 0, 1, "verify");
    /* replay's summary (decode only: no store) */
    char raw[160], cmd[512];
    snprintf(raw, sizeof raw, "%s/raw", dir);
    snprintf(cmd, sizeof cmd, "mkdir %s && cp %s %s/", raw, DATA BLOCK_514485, raw);
    cr_assert_eq(system(cmd), 0);
    char *replay[] = {CW_BIN, "replay", "--rawblocks", raw, "--no-state", NULL};
    r = run_to(replay, NULL, 0, "/dev/null");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    assert_full(replay, NULL, 0, 1, "replay");
    test_remove_dir(dir);
}

/* ---------- 2. one strict number parser ---------- */

Test(cli_strict, sizes_are_powers_of_1024_and_read_whole)
{
    static const struct {
        const char *v;
        uint64_t want;
    } good[] = {{"0", 0}, {"1", 1}, {"64k", 65536}, {"64K", 65536}, {"512M", 536870912}, {"512m", 536870912},
                {"1G", 1073741824}, {"1GiB", 1073741824}, {"2T", 2199023255552}, {"18446744073709551615", UINT64_MAX}};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        uint64_t x = 7;
        cw_err err = {0};
        cr_assert_eq(cli_parse_size(good[i].v, 0, UINT64_MAX, &x, &err), CW_OK, "%s: %s", good[i].v, err.msg);
        cr_assert_eq(x, good[i].want, "%s read as %llu", good[i].v, (unsigned long long)x);
    }
    static const char *const bad[] = {"", "abc", "1.5G", "-1", "+1", " 1G", "1G ", "1 G", "1X", "1GB", "1Gi", "G",
                                      "18446744073709551616", "16777216T", "0x10", "1e9"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint64_t x = 7;
        cw_err err = {0};
        cr_assert_eq(cli_parse_size(bad[i], 0, UINT64_MAX, &x, &err), CW_EARG, "'%s' was taken as %llu", bad[i],
                     (unsigned long long)x);
        cr_assert_eq(x, 7, "a refused value leaves the output alone");
        cr_assert(strchr(err.msg, '\'') != NULL, "the message quotes the value: %s", err.msg);
    }
    uint64_t s;
    cr_assert_eq(cli_parse_seconds("90", 0, 86400, &s, NULL), CW_OK);
    cr_assert_eq(s, 90);
    cr_assert_eq(cli_parse_seconds("5m", 0, 86400, &s, NULL), CW_OK);
    cr_assert_eq(s, 300);
    cr_assert_eq(cli_parse_seconds("1h", 0, 86400, &s, NULL), CW_OK);
    cr_assert_eq(s, 3600);
    cr_assert_eq(cli_parse_seconds("2d", 0, 86400, &s, NULL), CW_EARG, "above the range");
    cr_assert_eq(cli_parse_seconds("1x", 0, 86400, &s, NULL), CW_EARG);
    cr_assert_eq(cli_parse_seconds("-1", 0, 86400, &s, NULL), CW_EARG);
}

Test(cli_strict, integers_shares_and_btc_are_read_whole)
{
    int64_t x;
    cw_err err = {0};
    cr_assert_eq(cli_parse_int("9223372036854775807", INT64_MIN, INT64_MAX, &x, &err), CW_OK);
    cr_assert_eq(x, INT64_MAX);
    cr_assert_eq(cli_parse_int("-9223372036854775808", INT64_MIN, INT64_MAX, &x, &err), CW_OK);
    cr_assert_eq(x, INT64_MIN);
    cr_assert_eq(cli_parse_int("9223372036854775808", INT64_MIN, INT64_MAX, &x, &err), CW_EARG);
    cr_assert_eq(cli_parse_int("-9223372036854775809", INT64_MIN, INT64_MAX, &x, &err), CW_EARG);
    cr_assert_eq(cli_parse_int("99999999999999999999999", 0, INT64_MAX, &x, &err), CW_EARG);
    cr_assert(strstr(err.msg, "out of range") != NULL, "%s", err.msg);
    cr_assert_eq(cli_parse_int("abc", 0, 10, &x, &err), CW_EARG);
    cr_assert_str_eq(err.msg, "'abc' is not a whole number");
    cr_assert_eq(cli_parse_int("-1", 0, 10, &x, &err), CW_EARG);
    cr_assert_eq(cli_parse_int("11", 0, 10, &x, &err), CW_EARG);
    cr_assert_str_eq(err.msg, "'11' is out of range (0 to 10)");
    static const char *const bad_int[] = {"", " 1", "1 ", "+1", "1.0", "0x1", "1e3", "1k", "--1", "-"};
    for (size_t i = 0; i < sizeof bad_int / sizeof *bad_int; i++)
        cr_assert_eq(cli_parse_int(bad_int[i], -10, 10, &x, &err), CW_EARG, "'%s'", bad_int[i]);
    cr_assert_eq(cli_parse_int("-10", -10, 10, &x, &err), CW_OK);
    cr_assert_eq(x, -10);

    static const struct {
        const char *v;
        uint32_t ppm;
    } shares[] = {{"1%", 10000}, {"0.5%", 5000}, {"0.01", 10000}, {"100%", 1000000},
                  {"0", 0}, {"0.000001", 1}, {"0.0001%", 1}, {"10.50%", 105000}, {"0.1000000", 100000}};
    for (size_t i = 0; i < sizeof shares / sizeof *shares; i++) {
        uint32_t ppm = 0;
        cr_assert_eq(cli_parse_share(shares[i].v, &ppm, &err), CW_OK, "%s: %s", shares[i].v, err.msg);
        cr_assert_eq(ppm, shares[i].ppm, "%s read as %u", shares[i].v, ppm);
    }
    /* strtod took nan (then cast: undefined), inf, exponents, hex and spaces */
    static const char *const bad_share[] = {"", "nan", "inf", "1e-2", "0x1p-4", " 1%", "1% ", "1%%", "%", "-1%",
                                            "101%", "1.5", "0.0000001", "1.", ".5", "abc"};
    for (size_t i = 0; i < sizeof bad_share / sizeof *bad_share; i++) {
        uint32_t ppm = 77;
        cr_assert_eq(cli_parse_share(bad_share[i], &ppm, &err), CW_EARG, "'%s' read as %u", bad_share[i], ppm);
    }
    uint64_t sats;
    cr_assert_eq(cli_parse_btc("0.0001", &sats, &err), CW_OK);
    cr_assert_eq(sats, 10000);
    cr_assert_eq(cli_parse_btc("21000000", &sats, &err), CW_OK);
    cr_assert_eq(sats, 2100000000000000ull);
    /* 2^64 + 1: a wrapping reader took it as 1 BTC */
    static const char *const bad_btc[] = {"18446744073709551617", "21000000.00000001", "0.000000001", "-1", "1e3", "",
                                          " 1", "1,5"};
    for (size_t i = 0; i < sizeof bad_btc / sizeof *bad_btc; i++)
        cr_assert_eq(cli_parse_btc(bad_btc[i], &sats, &err), CW_EARG, "'%s'", bad_btc[i]);
}

/* A refusal by the executable: exit 2 and the one line naming the option
 * and the value. */
static void assert_refused(char *const argv[], const char *line)
{
    result r = run_to(argv, NULL, 0, "/dev/null");
    cr_assert_eq(r.code, 2, "%s %s: exit %d; stderr: %s", argv[1], line, r.code, r.err);
    cr_assert(strstr(r.err, line) != NULL, "stderr lacks '%s': %s", line, r.err);
    free(r.err);
}

/* The watch got past its options: it asks the node (a closed port), exit 1. */
static void assert_asks_the_node(char *const argv[])
{
    result r = run_to(argv, NULL, 0, "/dev/null");
    cr_assert_eq(r.code, 1, "exit %d: %s", r.code, r.err);
    cr_assert(strstr(r.err, "cannot ask the node its chain"), "%s", r.err);
    free(r.err);
}

Test(cli_strict, every_numeric_flag_refuses_garbage)
{
    char *dir = datadir(), *dd = dd_of(dir);
    /* --map-size: 1G is a gibibyte (it was 1 byte: the import failed on a full map) */
    char csv[128];
    snprintf(csv, sizeof csv, "%s/own.csv", dir);
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", csv, "--datadir", dd, "--map-size", "1G", NULL};
    result r = run_to(imp, NULL, 0, "/dev/null");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    char *stats[] = {CW_BIN, "watchlist", "stats", "--datadir", dd, "--map-size=64M", NULL};
    r = run_to(stats, NULL, 0, "/dev/null");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    static const struct {
        const char *v, *line;
    } map[] = {{"abc", "chainwatch: watchlist: --map-size: 'abc' is not a size"},
               {"-1G", "chainwatch: watchlist: --map-size: '-1G' is not a size (no sign)"},
               {"1.5G", "chainwatch: watchlist: --map-size: '1.5G' is not a whole number of bytes"},
               {"99999999999999999999", "chainwatch: watchlist: --map-size: '99999999999999999999' is out of range"},
               {"64k", "chainwatch: watchlist: --map-size: '64k' is out of range"},
               {"1Q", "chainwatch: watchlist: --map-size: '1Q' has an unknown suffix"},
               {"", "chainwatch: watchlist: --map-size: '' is not a size"}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
        char *argv[] = {CW_BIN, "watchlist", "stats", "--datadir", dd, "--map-size", (char *)map[i].v, NULL};
        assert_refused(argv, map[i].line);
    }
    /* replay: heights and counts (checked before any directory is read) */
    char *from[] = {CW_BIN, "replay", "--blocksdir", dir, "--from", "abc", NULL};
    assert_refused(from, "chainwatch: replay: --from: 'abc' is not a whole number");
    char *to[] = {CW_BIN, "replay", "--blocksdir", dir, "--to=12x", NULL};
    assert_refused(to, "chainwatch: replay: --to: '12x' is not a whole number");
    char *neg[] = {CW_BIN, "replay", "--blocksdir", dir, "--from", "-5", NULL};
    assert_refused(neg, "chainwatch: replay: --from: '-5' is not a whole number of 0 or more");
    char *big[] = {CW_BIN, "replay", "--blocksdir", dir, "--to", "99999999999999999999", NULL};
    assert_refused(big, "chainwatch: replay: --to: '99999999999999999999' is out of range");
    char *batch[] = {CW_BIN, "replay", "--blocksdir", dir, "--batch-txs", "0", NULL};
    assert_refused(batch, "chainwatch: replay: --batch-txs: '0' is out of range (1 to 2147483647)");
    char *start[] = {CW_BIN, "replay", "--capture", "/nonexistent", "--start-height=abc", NULL};
    assert_refused(start, "chainwatch: replay: --start-height: 'abc' is not a whole number");
    char *start2[] = {CW_BIN, "replay", "--capture", "/nonexistent", "--start-height", "", NULL};
    assert_refused(start2, "chainwatch: replay: --start-height: '' is not a whole number");
    char *hops[] = {CW_BIN, "replay", "--blocksdir", dir, "--hops", "3x", NULL};
    assert_refused(hops, "chainwatch: replay: --hops: '3x' is not a whole number");
    char *limit[] = {CW_BIN, "replay", "--blocksdir", dir, "--cluster-limit", "1e6", NULL};
    assert_refused(limit, "chainwatch: replay: --cluster-limit: '1e6' is not a whole number");
    /* screen and trace */
    char *amount[] = {CW_BIN, "screen", KIM1, "--datadir", dd, "--amount", "18446744073709551617", NULL};
    assert_refused(amount, "chainwatch: screen: --amount: '18446744073709551617' is not an amount in BTC");
    char *share[] = {CW_BIN, "screen", KIM1, "--datadir", dd, "--min-exposure", "nan", NULL};
    assert_refused(share, "chainwatch: screen: --min-exposure: 'nan' is not a share");
    char *hold[] = {CW_BIN, "screen", KIM1, "--datadir", dd, "--hold-exposure=1e-1", NULL};
    assert_refused(hold, "chainwatch: screen: --hold-exposure: '1e-1' is not a share");
    char *minamt[] = {CW_BIN, "screen", KIM1, "--datadir", dd, "--min-exposure-amount", "-0.1", NULL};
    assert_refused(minamt, "chainwatch: screen: --min-exposure-amount: '-0.1' is not an amount in BTC");
    char *thops[] = {CW_BIN, "trace", KIM1, "--datadir", dd, "--hops", "+3", NULL};
    assert_refused(thops, "chainwatch: trace: --hops: '+3' is not a whole number");
    char *thops9[] = {CW_BIN, "trace", KIM1, "--datadir", dd, "--hops", "9", NULL};
    assert_refused(thops9, "chainwatch: trace: --hops: '9' is out of range (1 to 8)");
    /* good values still screen: 50% and 0.5 BTC */
    char *good[] = {CW_BIN, "screen", KIM1, "--datadir", dd, "--amount", "0.5", "--hold-exposure", "50%", NULL};
    r = run_to(good, NULL, 0, "/dev/null");
    cr_assert_eq(r.code, 12, "a listed address blocks: %s", r.err);
    free(r.err);
    /* watch: flags, and the same keys in chainwatch.conf (checked before any socket is opened) */
    char *wstart[] = {CW_BIN, "watch", "--datadir", dd, "--zmqpubrawtx=tcp://127.0.0.1:1", "--start-height=abc", NULL};
    assert_refused(wstart, "chainwatch: watch: --start-height: 'abc' is not a whole number");
    char *whwm[] = {CW_BIN, "watch", "--datadir", dd, "--zmqpubrawtx=tcp://127.0.0.1:1", "--rcvhwm", "-1", NULL};
    assert_refused(whwm, "chainwatch: watch: --rcvhwm: '-1' is not a whole number of 0 or more");
    char *wint[] = {CW_BIN, "watch", "--datadir", dd, "--zmqpubrawtx=tcp://127.0.0.1:1", "--status-interval", "1y", NULL};
    assert_refused(wint, "chainwatch: watch: --status-interval: '1y' has an unknown suffix");
    static const struct {
        const char *conf, *line;
    } confs[] = {{"start-height = abc\n", "chainwatch: watch: config: --start-height: 'abc' is not a whole number"},
                 {"rcvhwm = 10k\n", "chainwatch: watch: config: --rcvhwm: '10k' is not a whole number"},
                 {"status-interval = 99999999999999999999\n",
                  "chainwatch: watch: config: --status-interval: '99999999999999999999' is out of range"},
                 {"hops = 0\n", "chainwatch: watch: config: --hops: '0' is out of range (1 to 8)"},
                 {"min-exposure = inf\n", "chainwatch: watch: config: --min-exposure: 'inf' is not a share"}};
    char conf[160];
    snprintf(conf, sizeof conf, "%s/chainwatch.conf", dd);
    for (size_t i = 0; i < sizeof confs / sizeof *confs; i++) {
        put_file(conf, confs[i].conf, strlen(confs[i].conf));
        char *argv[] = {CW_BIN, "watch", "--datadir", dd, "--zmqpubrawtx=tcp://127.0.0.1:1", NULL};
        assert_refused(argv, confs[i].line);
    }
    test_remove_dir(dir);
}

/* ---------- 3. addresses: whitespace and typos are bad input ---------- */

Test(cli_strict, typos_and_whitespace_are_bad_input_in_every_verb)
{
    char *dir = datadir(), *dd = dd_of(dir);
    static const char *const bad[] = {
        KIM1 " ",                                        /* a trailing space */
        " " KIM1,                                        /* a leading one */
        KIM1 "\t",                                       /* a tab */
        KIM1 "\n",                                       /* a newline (the message stays one line) */
        "\x1b[31m" KIM1,                                 /* a terminal escape */
        "1D6gG9iKEhPitTcW RJiniuj1jYM2hNeAfJ",           /* embedded */
        "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfK",            /* one character changed: checksum */
        "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAf",             /* one dropped */
        "1FCNgfZWpYMeYhy9t18AAkTBu8AsdoAc1X",            /* a neighbour of the listed typo */
        "0x098B716B8Aaf21512996dC57EB0615e2383E2f97",    /* EVM, one changed */
        "0x098B716B8Aaf21512996dC57EB0615e2383E2F96",    /* EVM, EIP-55 case broken */
        "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzr",            /* Tron, one changed */
        "bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",    /* bech32, mixed case */
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",    /* bech32, checksum */
        "",                                              /* empty */
        "LeKvNdNEzgQkzVVnRdV3fAu2DSF1nLsNw6;",           /* a character no form uses */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *look[] = {CW_BIN, "watchlist", "lookup", (char *)bad[i], "--datadir", dd, NULL};
        result r = run_to(look, NULL, 0, "/dev/null");
        cr_assert_eq(r.code, 2, "lookup '%s': exit %d: %s", bad[i], r.code, r.err);
        cr_assert(strstr(r.err, "chainwatch: watchlist lookup: '") && strstr(r.err, "' is not an address: "), "%s",
                  r.err);
        cr_assert(strchr(r.err, '\n') == r.err + strlen(r.err) - 1 && !strchr(r.err, '\x1b'), "one line: %s", r.err);
        free(r.err);
        static const char *const verbs[] = {"screen", "cluster", "trace"};
        for (size_t v = 0; v < 3; v++) {
            char *argv[] = {CW_BIN, (char *)verbs[v], (char *)bad[i], "--datadir", dd, NULL};
            r = run_to(argv, NULL, 0, "/dev/null");
            cr_assert_eq(r.code, 2, "%s '%s': exit %d: %s", verbs[v], bad[i], r.code, r.err);
            cr_assert(strchr(r.err, '\n') == r.err + strlen(r.err) - 1 && !strchr(r.err, '\x1b'), "one line: %s",
                      r.err);
            free(r.err);
        }
        char *addr[] = {CW_BIN, "address", (char *)bad[i], NULL};
        r = run_to(addr, NULL, 0, "/dev/null");
        cr_assert_eq(r.code, 2, "address '%s': exit %d: %s", bad[i], r.code, r.err);
        free(r.err);
    }
    /* what a list holds as written is found as written: a listed text with
     * a bad checksum, another chain's address kept as text */
    char out[160];
    snprintf(out, sizeof out, "%s/out", dir);
    char *listed[] = {CW_BIN, "watchlist", "lookup", BAD_LISTED, LTC, KIM2, "--datadir", dd, NULL};
    result r = run_to(listed, NULL, 0, out);
    cr_assert_eq(r.code, 0, "%s", r.err);
    char *text = slurp(out, NULL);
    cr_assert(strstr(text, "\"invalid_checksum\"") != NULL, "%s", text);
    size_t hits = 0;
    for (char *p = text; (p = strstr(p, "\"listed\":true")); p++)
        hits++;
    cr_assert_eq(hits, 3, "%s", text);
    free(text);
    free(r.err);
    test_remove_dir(dir);
}

/* ---------- 4. lookup - ---------- */

#define STREAM_LINES 3000

/* Line i of the stream: every seventh listed (cycling through the five),
 * the others valid and unlisted; bad lines where asked. */
static const char *stream_line(size_t i, bool with_bad)
{
    static const char *const listed[] = {KIM1, KIM2, LAZARUS, LTC, TRX};
    static const char *const clean[] = {UNLISTED, BECH32, "0x0000000000000000000000000000000000000001"};
    if (with_bad && i % 1000 == 500)
        return KIM1 " "; /* a trailing space: bad, never "not listed" */
    if (i % 7 == 0)
        return listed[(i / 7) % 5];
    return clean[i % 3];
}

static char *stream_input(size_t lines, bool with_bad, size_t *len)
{
    size_t cap = lines * 64 + 1, n = 0;
    char *in = malloc(cap);
    for (size_t i = 0; i < lines; i++)
        n += (size_t)snprintf(in + n, cap - n, "%s\n", stream_line(i, with_bad));
    *len = n;
    return in;
}

Test(cli_strict, lookup_stdin_answers_every_line_in_order)
{
    char *dir = datadir(), *dd = dd_of(dir);
    size_t len;
    char *in = stream_input(STREAM_LINES, true, &len);
    char out[160];
    snprintf(out, sizeof out, "%s/answers", dir);
    char *argv[] = {CW_BIN, "watchlist", "lookup", "-", "--datadir", dd, NULL};
    result r = run_to(argv, in, len, out);
    cr_assert_eq(r.code, 2, "bad lines make it 2: %s", r.err);
    /* lines 501, 1501, 2501 (1-based) named on stderr, one line each */
    cr_assert(strstr(r.err, "chainwatch: watchlist lookup: line 501: '" KIM1 " ' is not an address: whitespace"),
              "%s", r.err);
    cr_assert(strstr(r.err, "line 1501: ") && strstr(r.err, "line 2501: "), "%s", r.err);
    FILE *f = fopen(out, "r");
    char *line = NULL;
    size_t cap = 0, n = 0, listed = 0, want_listed = 0, errors = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        cr_assert_not_null(j, "%s", line);
        cr_assert_eq(json_integer_value(json_object_get(j, "line")), (json_int_t)n + 1, "in input order");
        const char *want = stream_line(n, true);
        cr_assert_str_eq(json_string_value(json_object_get(j, "address")), want);
        if (json_is_true(json_object_get(j, "listed")))
            listed++;
        if (json_is_null(json_object_get(j, "listed"))) {
            errors++;
            cr_assert_not_null(json_object_get(j, "error"));
        }
        json_decref(j);
        n++;
    }
    free(line);
    fclose(f);
    for (size_t i = 0; i < STREAM_LINES; i++)
        want_listed += i % 7 == 0 && !(i % 1000 == 500);
    cr_assert_eq(n, STREAM_LINES, "one answer a line");
    cr_assert_eq(errors, 3);
    cr_assert_eq(listed, want_listed, "%zu listed, expected %zu", listed, want_listed);
    cr_assert_eq(want_listed, 429);
    free(r.err);
    free(in);
    /* without the bad lines: 0; without the listed ones: 1 */
    in = stream_input(STREAM_LINES, false, &len);
    r = run_to(argv, in, len, "/dev/null");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert_str_empty(r.err);
    free(r.err);
    free(in);
    const char clean[] = UNLISTED "\r\n" BECH32 "\n0x0000000000000000000000000000000000000001";
    r = run_to(argv, clean, sizeof clean - 1, out);
    cr_assert_eq(r.code, 1, "none listed: %s", r.err);
    char *text = slurp(out, NULL);
    cr_assert_eq(strstr(text, "\"listed\":false,\"line\":3}\n") != NULL, true, "the last line without its newline: %s",
                 text);
    free(text);
    free(r.err);
    /* no store: 3 before anything is read */
    char *nostore[] = {CW_BIN, "watchlist", "lookup", "-", "--datadir", "/nonexistent/chainwatch", NULL};
    r = run_to(nostore, KIM1 "\n", strlen(KIM1) + 1, "/dev/null");
    cr_assert_eq(r.code, 3, "%s", r.err);
    free(r.err);
    /* a NUL byte does not end a line early: the listed address before it is no answer */
    const char nul[] = KIM1 "\0junk\n";
    r = run_to(argv, nul, sizeof nul - 1, out);
    cr_assert_eq(r.code, 2, "%s", r.err);
    text = slurp(out, NULL);
    cr_assert(strstr(text, "\"listed\":null,\"line\":1}\n") != NULL, "%s", text);
    free(text);
    free(r.err);
    char *mixed[] = {CW_BIN, "watchlist", "lookup", "-", KIM1, "--datadir", dd, NULL};
    r = run_to(mixed, NULL, 0, "/dev/null");
    cr_assert_eq(r.code, 2, "%s", r.err);
    free(r.err);
    test_remove_dir(dir);
}

Test(cli_strict, lookup_stdin_memory_does_not_grow_with_the_count)
{
    char *dir = datadir(), *dd = dd_of(dir);
    char *argv[] = {CW_BIN, "watchlist", "lookup", "-", "--datadir", dd, NULL};
    size_t small_len, big_len;
    char *small = stream_input(1000, false, &small_len), *big = stream_input(200000, false, &big_len);
#if defined(__SANITIZE_ADDRESS__)
    /* ASan keeps freed memory in quarantine (256 MB): freed is what counts here */
    char *saved = getenv("ASAN_OPTIONS") ? strdup(getenv("ASAN_OPTIONS")) : NULL, opts[512];
    snprintf(opts, sizeof opts, "%s%squarantine_size_mb=0", saved ? saved : "", saved ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
#endif
    result a = run_to(argv, small, small_len, "/dev/null");
    result b = run_to(argv, big, big_len, "/dev/null");
#if defined(__SANITIZE_ADDRESS__)
    if (saved)
        setenv("ASAN_OPTIONS", saved, 1);
    else
        unsetenv("ASAN_OPTIONS");
    free(saved);
#endif
    cr_assert_eq(a.code, 0, "%s", a.err);
    cr_assert_eq(b.code, 0, "%s", b.err);
    /* 200,000 answers are ~40 MB of JSON: held, they would show */
    cr_assert_lt(b.maxrss_kb - a.maxrss_kb, 8 << 10, "peak memory %ld kB for 1,000 lines, %ld kB for 200,000",
                 a.maxrss_kb, b.maxrss_kb);
    free(a.err);
    free(b.err);
    free(small);
    free(big);
    test_remove_dir(dir);
}

/* One line of the child's answers, waiting at most 10 s for it. */
static void read_answer(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        struct pollfd p = {fd, POLLIN, 0};
        cr_assert_eq(poll(&p, 1, 10000), 1, "no answer within 10 s (held back until more input?)");
        cr_assert_eq(read(fd, buf + n, 1), 1);
        if (buf[n++] == '\n')
            break;
    }
    buf[n] = '\0';
}

/* A program that writes an address and waits for its answer gets it
 * before it writes the next: answers are not held back for more input. */
Test(cli_strict, lookup_stdin_answers_each_line_as_it_is_read)
{
    char *dir = datadir(), *dd = dd_of(dir);
    int to_child[2], from_child[2];
    cr_assert_eq(pipe(to_child), 0);
    cr_assert_eq(pipe(from_child), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(to_child[0], 0);
        dup2(from_child[1], 1);
        close(to_child[1]);
        close(from_child[0]);
        execl(CW_BIN, CW_BIN, "watchlist", "lookup", "-", "--datadir", dd, (char *)NULL);
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    char answer[8192];
    cr_assert_eq(write(to_child[1], KIM1 "\n", strlen(KIM1) + 1), (ssize_t)strlen(KIM1) + 1);
    read_answer(from_child[0], answer, sizeof answer);
    cr_assert(strstr(answer, "\"address\":\"" KIM1 "\"") && strstr(answer, "\"listed\":true,\"line\":1}"), "%s",
              answer);
    cr_assert_eq(write(to_child[1], UNLISTED "\n", strlen(UNLISTED) + 1), (ssize_t)strlen(UNLISTED) + 1);
    read_answer(from_child[0], answer, sizeof answer);
    cr_assert(strstr(answer, "\"listed\":false,\"line\":2}"), "%s", answer);
    close(to_child[1]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "one listed: exit 0");
    close(from_child[0]);
    test_remove_dir(dir);
}

/* ---------- 5. listed addresses as users and lists spell them ---------- */

/* A listed address with something pasted along (a payment URI, the
 * sentence's punctuation), cut short, run on, or an EVM address without
 * its 0x: lookup refuses it (2), as screen, cluster and trace do, never
 * "not listed" (1). (Review of issue 10, finding 5.) */
Test(cli_strict, lookup_refuses_wrapped_and_cut_listed_addresses)
{
    char *dir = datadir();
    char *dd = dd_of(dir);
    const char *bad[] = {
        "bitcoin:" KIM1,                            /* a BIP-21 URI of a listed address */
        "ethereum:" LAZARUS,                        /* an EIP-681 one */
        KIM1 ".",                                   /* end of a sentence */
        KIM1 ":",
        KIM1 "-",
        "_" KIM1,
        "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yz",         /* listed Tron address, last character dropped */
        "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzqq",       /* last character doubled */
        "098B716B8Aaf21512996dC57EB0615e2383E2f96",  /* listed EVM address without 0x */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *look[] = {CW_BIN, "watchlist", "lookup", (char *)bad[i], "--datadir", dd, NULL};
        result r = run_to(look, NULL, 0, "/dev/null");
        cr_expect_eq(r.code, 2, "lookup '%s': exit %d (1 = \"not listed\"): %s", bad[i], r.code, r.err);
        cr_expect(strstr(r.err, "' is not an address: ") != NULL, "%s", r.err);
        free(r.err);
    }
    /* the same addresses, as listed, are found */
    char *good[] = {CW_BIN, "watchlist", "lookup", KIM1, TRX, LAZARUS, LTC, "--datadir", dd, NULL};
    char out[160];
    snprintf(out, sizeof out, "%s/out", dir);
    result r = run_to(good, NULL, 0, out);
    cr_assert_eq(r.code, 0, "%s", r.err);
    char *text = slurp(out, NULL);
    size_t hits = 0;
    for (char *p = text; (p = strstr(p, "\"listed\":true")); p++)
        hits++;
    cr_assert_eq(hits, 4, "%s", text);
    free(text);
    free(r.err);
    test_remove_dir(dir);
}

/* Layout a copy from a web page or a word processor carries (no-break
 * spaces, zero-width spaces and joiners, a BOM, an ideographic space),
 * around or inside a listed address, is dropped on import: the address is
 * listed and screens "block". A text shaped like a Bitcoin address that
 * fails its checksum is kept, flagged, and named in the summary, whatever
 * its ticker. (Review of issue 10, finding 1.) */
Test(cli_strict, unicode_layout_in_a_listed_address_is_dropped)
{
    char tmpl[] = "/tmp/cwstrict-XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl));
    char csv[128], dd[128], out[160];
    snprintf(csv, sizeof csv, "%s/nbsp.csv", tmpl);
    snprintf(dd, sizeof dd, "%s/d", tmpl);
    snprintf(out, sizeof out, "%s/out", tmpl);
    static const char body[] =
        "chain,address,entity,program,note\n"
        "bitcoin," KIM1 "\xc2\xa0,Kim Sang Man,DPRK4,\n"                                /* U+00A0 after */
        "bitcoin,1FCNgfZWpYMeYhy9t18\xe2\x80\x8b" "AAkTBu8AsdoAc1Z,Kim Sang Man,DPRK4,\n" /* U+200B inside */
        "ethereum,\xef\xbb\xbf" LAZARUS "\xe2\x80\xaf,Lazarus Group,DPRK3,\n"           /* U+FEFF before, U+202F after */
        "tron,TUCsTq7Tof\xe2\x80\x8dTCJRRoHk6RvhMoS2mJLm5Yzq\xe3\x80\x80,Cheil,DPRK4,\n" /* U+200D inside, U+3000 after */
        "litecoin,\xe2\x80\x83" LTC "\xe2\x81\xa0,Secondeye Solution,CYBER2,\n"          /* U+2003 before, U+2060 after */
        "bsv,1FCNgfZWpYMeYhy9t18AAkTBu8AsdoAc1X,A typo,TEST,\n";                           /* base58 typo, a text ticker */
    put_file(csv, body, sizeof body - 1);
    char *init[] = {CW_BIN, "init", "--datadir", dd, NULL};
    result r = run_to(init, NULL, 0, "/dev/null");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", csv, "--datadir", dd, NULL};
    r = run_to(imp, NULL, 0, out);
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    char *summary = slurp(out, NULL);
    cr_assert(strstr(summary, "  invalid     1, imported as text and flagged: BSV 1FCNgfZWpYMeYhy9t18AAkTBu8AsdoAc1X "
                              "(not a valid Bitcoin address: ") != NULL,
              "%s", summary);
    free(summary);
    static const char *const listed[] = {KIM1, KIM2, LAZARUS, TRX};
    for (size_t i = 0; i < 4; i++) {
        char *scr[] = {CW_BIN, "screen", (char *)listed[i], "--datadir", dd, NULL};
        r = run_to(scr, NULL, 0, "/dev/null");
        cr_expect_eq(r.code, 12, "screen %s exits %d (0 = allow): %s", listed[i], r.code, r.err);
        free(r.err);
    }
    char *look[] = {CW_BIN, "watchlist", "lookup", LTC, "1FCNgfZWpYMeYhy9t18AAkTBu8AsdoAc1X", "--datadir", dd, NULL};
    r = run_to(look, NULL, 0, out);
    cr_assert_eq(r.code, 0, "%s", r.err);
    char *text = slurp(out, NULL);
    cr_assert(strstr(text, "{\"address\":\"" LTC "\"") && strstr(text, "\"invalid_checksum\""), "%s", text);
    size_t hits = 0;
    for (char *p = text; (p = strstr(p, "\"listed\":true")); p++)
        hits++;
    cr_assert_eq(hits, 2, "%s", text);
    free(text);
    free(r.err);
    test_remove_dir(strdup(tmpl));
}

/* ---------- review findings of issue 10 ---------- */

/* --max-shrink was the one flag still read with strtod: hex, exponents and
 * leading blanks passed (0x10 was 16%), unlike every other number. */
Test(cli_strict, review_max_shrink_is_read_whole)
{
    char *dir = datadir();
    char *dd = dd_of(dir), csv[160];
    snprintf(csv, sizeof csv, "%s/own.csv", dir);
    const char *bad[] = {"0x10", " 10", "1e1", "0x1p3", "1e-400"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *imp[] = {CW_BIN, "watchlist", "import", "csv", csv, "--datadir", dd, "--max-shrink", (char *)bad[i], NULL};
        result r = run_to(imp, NULL, 0, "/dev/null");
        cr_expect_eq(r.code, 2, "--max-shrink '%s': exit %d: %s", bad[i], r.code, r.err);
        cr_expect(strstr(r.err, "chainwatch: watchlist: --max-shrink: '") != NULL, "names the option: %s", r.err);
        free(r.err);
    }
    free(dir);
}

/* --max-shrink takes a percentage, with or without its '%', exact to a
 * ten-thousandth; --min-exposure and --hold-exposure refuse a bare number
 * of 1 or more ("1" read as a fraction was 100%, where 1% was meant). */
Test(cli_strict, percent_and_share_forms)
{
    cw_err err = {0};
    uint32_t ppm = 0;
    cr_assert_eq(cli_parse_percent("10", &ppm, &err), CW_OK);
    cr_assert_eq(ppm, 100000);
    cr_assert_eq(cli_parse_percent("0.5%", &ppm, &err), CW_OK);
    cr_assert_eq(ppm, 5000);
    cr_assert_eq(cli_parse_percent("100", &ppm, &err), CW_OK);
    cr_assert_eq(ppm, 1000000);
    static const char *const bad_pct[] = {"100.0001", "0x10", " 10", "10 ", "1e1", "-1", "+1", "", "10%%", "0.00001"};
    for (size_t i = 0; i < sizeof bad_pct / sizeof *bad_pct; i++)
        cr_assert_eq(cli_parse_percent(bad_pct[i], &ppm, &err), CW_EARG, "'%s'", bad_pct[i]);
    static const char *const bad_share[] = {"1", "1.0", "2", "100", "1.5"};
    for (size_t i = 0; i < sizeof bad_share / sizeof *bad_share; i++) {
        cr_assert_eq(cli_parse_share(bad_share[i], &ppm, &err), CW_EARG, "'%s'", bad_share[i]);
        cr_assert(strstr(err.msg, "is ambiguous") && strstr(err.msg, "write 1% for one percent"), "%s", err.msg);
    }
    cr_assert_eq(cli_parse_share("100%", &ppm, &err), CW_OK);
    cr_assert_eq(ppm, 1000000);
    cr_assert_eq(cli_parse_share("0.99", &ppm, &err), CW_OK);
    cr_assert_eq(ppm, 990000);
}

Test(cli_strict, min_exposure_bare_one_is_refused)
{
    char *dir = datadir(), *dd = dd_of(dir);
    char *scr[] = {CW_BIN, "screen", KIM1, "--datadir", dd, "--min-exposure", "1", NULL};
    assert_refused(scr, "chainwatch: screen: --min-exposure: '1' is ambiguous");
    char *w[] = {CW_BIN, "watch", "--datadir", dd, "--zmqpubrawtx=tcp://127.0.0.1:1", "--min-exposure=1", NULL};
    assert_refused(w, "chainwatch: watch: --min-exposure: '1' is ambiguous");
    char conf[160];
    snprintf(conf, sizeof conf, "%s/chainwatch.conf", dd);
    static const char body[] = "hold-exposure = 5\n";
    put_file(conf, body, sizeof body - 1);
    char *wc[] = {CW_BIN, "watch", "--datadir", dd, "--zmqpubrawtx=tcp://127.0.0.1:1", NULL};
    assert_refused(wc, "chainwatch: watch: config: --hold-exposure: '5' is ambiguous");
    test_remove_dir(dir);
}

/* chainwatch.conf has no line length or entry cap but its 1 MiB in all
 * (inih cut lines at 200 characters and took 32 entries, then said "line N: cannot use this line"
 * with N past the long line); a refusal names the right line and why. */
Test(cli_strict, config_any_length_and_count_refusals_name_line_and_reason)
{
    char *dir = datadir(), *dd = dd_of(dir);
    char conf[160];
    snprintf(conf, sizeof conf, "%s/chainwatch.conf", dd);
    size_t cap = 64 * 1024, n = 0;
    char *body = malloc(cap);
    cr_assert_not_null(body);
    n += (size_t)snprintf(body + n, cap - n, "# %0500d\n", 0);               /* line 1: 500+ characters */
    n += (size_t)snprintf(body + n, cap - n, "rest = http://127.0.0.1:8332/%0400d\n", 0); /* line 2 */
    /* lines 3..42: forty options, each once (a repeat is refused, conf.h) */
    static const char *const forty[] = {
        "rcvhwm = 1000", "status-interval = 60", "log-level = info", "start-height = 0", "clusters = on",
        "min-exposure = 1%", "hold-exposure = 50%", "cluster-limit = 100000", "payjoin-guard = on", "rules = on",
        "salary-min-usd = 1000", "salary-max-usd = 20000", "tiny-min-usd = 1", "tiny-max-usd = 100",
        "salary-min-btc = 0.01", "tiny-min-btc = 0.00001", "salary-min-eth = 0.3", "tiny-min-eth = 0.0001",
        "salary-min-trx = 3000", "tiny-min-trx = 1", "cadence-min-gap = 10d", "cadence-max-gap = 40d",
        "recurring-payments = 3", "shared-payout-min-payers = 3", "shared-payout-max-payers = 50",
        "consolidator-min-sources = 5", "consolidator-window = 30d", "sweep-share = 80%", "test-window = 1d",
        "rules-hops = 2", "rules-trace-window = 60d", "rules-min-hit-usd = 100", "rules-min-hit-btc = 0.001",
        "rules-min-hit-eth = 0.03", "rules-min-hit-trx = 300", "off-ramp-min-pieces = 3",
        "rules-pool-trace-max = 256", "risk-low = 20", "webhook-max-tries = 10", "webhook-retry-base-ms = 1000",
    };
    _Static_assert(sizeof forty / sizeof *forty == 40, "forty lines");
    for (size_t i = 0; i < 40; i++)
        n += (size_t)snprintf(body + n, cap - n, "%s\n", forty[i]);
    n += (size_t)snprintf(body + n, cap - n, "hops = 9\n"); /* line 43 */
    put_file(conf, body, n);
    char *w[] = {CW_BIN, "watch", "--datadir", dd, "--zmqpubrawtx=tcp://127.0.0.1:1", NULL};
    assert_refused(w, "chainwatch: watch: config: --hops: '9' is out of range (1 to 8) (");
    assert_refused(w, "chainwatch.conf line 43)");
    static const char noeq[] = "rcvhwm = 1\n\njust words\n";
    put_file(conf, noeq, sizeof noeq - 1);
    assert_refused(w, "chainwatch.conf: line 3: cannot use this line: no '='");
    /* a wrong --config: a device that never ends, a directory */
    char *zero[] = {CW_BIN, "watch", "--datadir", dd, "--config", "/dev/zero", "--zmqpubrawtx=tcp://127.0.0.1:1", NULL};
    assert_refused(zero, "chainwatch: watch: /dev/zero: more than 1048576 bytes (is this chainwatch.conf?)");
    char *isdir[] = {CW_BIN, "watch", "--datadir", dd, "--config", dir, "--zmqpubrawtx=tcp://127.0.0.1:1", NULL};
    assert_refused(isdir, ": Is a directory");
    static const char unknown[] = "[rules]\nrcvhwm = 1\nzmqpubrawtxx = tcp://127.0.0.1:1\n";
    put_file(conf, unknown, sizeof unknown - 1);
    assert_refused(w, "chainwatch.conf: line 3: cannot use this line: unknown option 'zmqpubrawtxx'");
    free(body);
    test_remove_dir(dir);
}

/* watch --chain ethereum/tron: --finalized and --confirmations exclude
 * each other, and a flag wins over chainwatch.conf (args.h): one given on
 * the command line and the other in the file is the command line's (the
 * run goes on to ask the node, here a closed port: exit 1); the two on the
 * command line, or the two in the file, are refused (exit 2). Before: a
 * --finalized flag with confirmations in chainwatch.conf (or the reverse)
 * was refused, the file's line overriding the flag. */
Test(cli_strict, a_flag_wins_over_chainwatch_conf_for_finalized_and_confirmations)
{
    char *dir = datadir(), *dd = dd_of(dir);
    char conf[160];
    snprintf(conf, sizeof conf, "%s/chainwatch.conf", dd);
    static const struct {
        const char *file, *flag, *chain;
        int code;
        const char *line;
    } cases[] = {
        {"confirmations = 3\n", "--finalized", "ethereum", 1, "cannot ask the node its chain"},
        {"finalized = true\n", "--confirmations=3", "ethereum", 1, "cannot ask the node its chain"},
        {"confirmations = 3\n", "--finalized", "tron", 1, "cannot ask the node its chain"},
        {"finalized = true\n", "--confirmations=3", "tron", 1, "cannot ask the node its chain"},
        {"finalized = true\nconfirmations = 3\n", "--log-level=warn", "ethereum", 2,
         "chainwatch: watch: --finalized and --confirmations (both in chainwatch.conf): give one of them"},
        {"", "--finalized", "ethereum", 2, "chainwatch: watch: --finalized and --confirmations: give one of them"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        put_file(conf, cases[i].file, strlen(cases[i].file));
        bool tron = strcmp(cases[i].chain, "tron") == 0;
        bool both = cases[i].file[0] == '\0';
        char *w[] = {CW_BIN, "watch", "--datadir", dd, "--chain", (char *)cases[i].chain,
                     tron ? "--tron-http=http://127.0.0.1:9" : "--rpc=http://127.0.0.1:9",
                     tron ? "--zmqpubtron=tcp://127.0.0.1:9" : "--poll-ms=1000", (char *)cases[i].flag,
                     both ? "--confirmations=3" : NULL, NULL};
        result r = run_to(w, NULL, 0, "/dev/null");
        cr_assert_eq(r.code, cases[i].code, "case %zu exited %d: %s", i, r.code, r.err);
        cr_assert(strstr(r.err, cases[i].line), "case %zu: no '%s' in: %s", i, cases[i].line, r.err);
        if (cases[i].code != 2)
            cr_assert_null(strstr(r.err, "give one of them"), "case %zu: %s", i, r.err);
        free(r.err);
    }
    test_remove_dir(dir);
}

/* The reverse of test_watch.c's shared chainwatch.conf: Bitcoin's lines
 * (a feed, rest, network; rcvhwm for Ethereum) and Ethereum's rpc-rate are
 * left unused by an account chain's watch that has no use for them, each
 * named in a warning (the run goes on to ask the node, a closed port: exit
 * 1); as flags they are refused (exit 2). Before, the file's Bitcoin lines
 * stopped the watch, and --network and --rcvhwm were taken and ignored. */
Test(cli_strict, an_account_watch_leaves_other_chains_conf_lines_unused)
{
    char *dir = datadir(), *dd = dd_of(dir);
    char conf[160], line[160];
    snprintf(conf, sizeof conf, "%s/chainwatch.conf", dd);
    static const char body[] = "zmqpubrawtx = tcp://127.0.0.1:28332\nrest = http://127.0.0.1:8332\nrpc-rate = 5\n"
                               "network = regtest\nrcvhwm = 5000\napi = 127.0.0.1:8480\n"
                               "watch = /nonexistent/deposits.txt\n";
    put_file(conf, body, sizeof body - 1);
    for (int tron = 0; tron < 2; tron++) {
        const char *chain = tron ? "tron" : "ethereum";
        char *w[] = {CW_BIN, "watch", "--datadir", dd, "--chain", (char *)chain,
                     tron ? "--tron-http=http://127.0.0.1:9" : "--rpc=http://127.0.0.1:9",
                     tron ? "--zmqpubtron=tcp://127.0.0.1:9" : NULL, NULL};
        result r = run_to(w, NULL, 0, "/dev/null");
        cr_assert_eq(r.code, 1, "%s: exit %d: %s", chain, r.code, r.err);
        cr_assert(strstr(r.err, "cannot ask the node its chain"), "%s: %s", chain, r.err);
        static const char *const names[] = {"zmqpubrawtx", "rest"};
        for (size_t i = 0; i < 2; i++) {
            snprintf(line, sizeof line, "chainwatch.conf: %s is for --chain bitcoin; not used by a%s %s watch", names[i],
                     tron ? "" : "n", chain);
            cr_assert(strstr(r.err, line), "no '%s' in: %s", line, r.err);
        }
        cr_assert_eq(strstr(r.err, "rpc-rate is for") != NULL, tron, "ethereum's own rpc-rate: %s", r.err);
        /* Bitcoin's network (an account chain's is its chain id's); rcvhwm
         * is Tron's queue's too */
        snprintf(line, sizeof line, "chainwatch.conf: network is for --chain bitcoin; not used by a%s %s watch",
                 tron ? "" : "n", chain);
        cr_assert(strstr(r.err, line), "no '%s' in: %s", line, r.err);
        cr_assert_eq(strstr(r.err, "rcvhwm is for --chain bitcoin and tron; not used by an ethereum watch") != NULL,
                     !tron, "%s", r.err);
        /* not used, so neither the deposit file nobody has nor an API line
         * that --cpu-idle would refuse stops the watch */
        snprintf(line, sizeof line, "chainwatch.conf: api is for --chain bitcoin; not used by a%s %s watch",
                 tron ? "" : "n", chain);
        cr_assert(strstr(r.err, line), "no '%s' in: %s", line, r.err);
        cr_assert(strstr(r.err, "chainwatch.conf: watch is for --chain bitcoin"), "%s", r.err);
        free(r.err);
        char *flag[] = {CW_BIN, "watch", "--datadir", dd, "--chain", (char *)chain, "--rest=http://127.0.0.1:8332", w[6],
                        w[7], NULL};
        snprintf(line, sizeof line, "chainwatch: watch: --rest is for --chain bitcoin, not %s", chain);
        assert_refused(flag, line);
    }
    /* another chain's flags, the last four taken and never used before: the
     * API in watch's process (serve reads an account chain's store beside
     * it), deposit addresses, the BTC band */
    static const struct {
        bool tron;
        const char *flag, *line;
    } refused[] = {
        {true, "--rpc=http://127.0.0.1:9", "chainwatch: watch: --rpc is for --chain ethereum, not tron"},
        {true, "--network=nile", "chainwatch: watch: --network is for --chain bitcoin, not tron"},
        {false, "--rcvhwm=5", "chainwatch: watch: --rcvhwm is for --chain bitcoin and tron, not ethereum"},
        {false, "--api=127.0.0.1:0", "chainwatch: watch: --api is for --chain bitcoin, not ethereum"},
        {true, "--watch=deposits.txt", "chainwatch: watch: --watch is for --chain bitcoin, not tron"},
        {true, "--salary-max-btc=0.5", "chainwatch: watch: --salary-max-btc is for --chain bitcoin, not tron"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        bool tron = refused[i].tron;
        char *w[] = {CW_BIN, "watch", "--datadir", dd, "--chain", tron ? "tron" : "ethereum",
                     tron ? "--tron-http=http://127.0.0.1:9" : "--rpc=http://127.0.0.1:9",
                     (char *)refused[i].flag, tron ? "--zmqpubtron=tcp://127.0.0.1:9" : NULL, NULL};
        assert_refused(w, refused[i].line);
    }
    /* the file's api line above the sections is Bitcoin's: a Tron watch
     * under --cpu-idle (which refuses --api) goes on to ask the node */
    char *idle[] = {CW_BIN, "watch", "--datadir", dd, "--chain", "tron", "--tron-http=http://127.0.0.1:9",
                    "--zmqpubtron=tcp://127.0.0.1:9", "--cpu-idle", NULL};
    assert_asks_the_node(idle);
    /* Tron's queue takes it: the run goes on to ask the node */
    char *tron_hwm[] = {CW_BIN, "watch", "--datadir", dd, "--chain", "tron", "--tron-http=http://127.0.0.1:9",
                        "--zmqpubtron=tcp://127.0.0.1:9", "--rcvhwm=5", NULL};
    assert_asks_the_node(tron_hwm);
    test_remove_dir(dir);
}

/* conf.h's reading of the file, alone: comments (a line's, and a blank
 * then ';' or '#' on a value's line or a header's), a BOM, CRLF, "name: value", a last line without its newline,
 * chain sections and [rules], each line's number and scope; and every
 * refusal with its line: an unknown section, a header without ']', no '=',
 * no name, a NUL byte, an option repeated in one scope (a chain's header
 * twice is one scope; [rules] is outside the chains' sections). */
Test(cli_strict, conf_reads_lines_and_sections_and_refuses_by_line)
{
    static const char *const chains[] = {"bitcoin", "ethereum", "tron", NULL};
    static const char text[] = "\xef\xbb\xbf# a comment\r\nrcvhwm = 5 ; inline\r\n[ tron ]\nconfirmations: 19\n\n"
                               "[rules]\nrules = on\n[ethereum]\nconfirmations = 12\nrest = http://h/a;b\n"
                               "[tron]\n  ; another\npoll-ms=300\n[rules] ; a heading\nalerts = /x.jsonl # main\n"
                               "pub = tcp://h/#f";
    cli_conf c;
    cw_err err = {0};
    cr_assert_eq(cli_conf_parse(text, sizeof text - 1, chains, &c, &err), CW_OK, "%s", err.msg);
    static const struct {
        unsigned long line;
        int chain;
        const char *name, *value;
    } want[] = {
        {2, CLI_CONF_EVERY_CHAIN, "rcvhwm", "5"},
        {4, 2, "confirmations", "19"},
        {7, CLI_CONF_EVERY_CHAIN, "rules", "on"},
        {9, 1, "confirmations", "12"},
        {10, 1, "rest", "http://h/a;b"},
        {13, 2, "poll-ms", "300"},
        {15, CLI_CONF_EVERY_CHAIN, "alerts", "/x.jsonl"},
        {16, CLI_CONF_EVERY_CHAIN, "pub", "tcp://h/#f"},
    };
    cr_assert_eq(c.n, sizeof want / sizeof *want);
    for (size_t i = 0; i < c.n; i++) {
        cr_assert_eq(c.lines[i].line, want[i].line, "line %zu: %lu", i, c.lines[i].line);
        cr_assert_eq(c.lines[i].chain, want[i].chain, "line %zu", i);
        cr_assert_str_eq(c.lines[i].name, want[i].name);
        cr_assert_str_eq(c.lines[i].value, want[i].value);
    }
    cli_conf_free(&c);
    cr_assert_eq(cli_conf_parse("", 0, chains, &c, &err), CW_OK);
    cr_assert_eq(c.n, 0);
    cli_conf_free(&c);
    static const char same_name_two_scopes[] = "a = 1\n[tron]\na = 2\n[ethereum]\na = 3\n";
    cr_assert_eq(cli_conf_parse(same_name_two_scopes, sizeof same_name_two_scopes - 1, chains, &c, &err), CW_OK,
                 "%s", err.msg);
    cr_assert_eq(c.n, 3);
    cli_conf_free(&c);

    static const struct {
        const char *text;
        size_t len; /* 0: strlen */
        const char *msg;
    } bad[] = {
        {"a = 1\n[main]\nb = 2\n", 0,
         "line 2: cannot use this line: unknown section '[main]': the sections are [bitcoin], [ethereum], [tron] "
         "(that chain's watch only) and [rules]"},
        {"[Tron]\n", 0, "line 1: cannot use this line: unknown section '[Tron]'"},
        {"[tron\nconfirmations = 3\n", 0, "line 1: cannot use this line: a section header without its closing ']'"},
        {"a = 1\n\njust words\n", 0, "line 3: cannot use this line: no '=' (lines are name = value, like rcvhwm = 1000)"},
        {"a = 1\n = 3\n", 0, "line 2: cannot use this line: no name before the '='"},
        {"a = 1\n# x\0y\n", 12, "line 2: cannot use this line: it holds a NUL byte (is this a text file?)"},
        {"a = 1\nb = 2\n\na = 3\n", 0,
         "line 4: cannot use this line: a is already set on line 1 (outside the chains' sections); give it once"},
        {"a = 1\na = 2\na = 3\n", 0, "line 2: cannot use this line: a is already set on line 1 ("},
        {"[tron]\na = 1\n[ethereum]\na = 2\n[tron]\na = 3\n", 0,
         "line 6: cannot use this line: a is already set on line 2 (in [tron]); give it once"},
        {"[rules]\na = 1\n[bitcoin]\nb = 1\n[rules]\na = 2\n", 0,
         "line 6: cannot use this line: a is already set on line 2 (outside the chains' sections)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
        err = (cw_err){0};
        c.n = 99;
        cr_assert_eq(cli_conf_parse(bad[i].text, len, chains, &c, &err), CW_EARG, "case %zu", i);
        cr_assert(strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)) == 0, "case %zu: %s", i, err.msg);
        cr_assert(c.n == 0 && c.lines == NULL && c.text == NULL, "case %zu: left lines behind", i);
    }
}

/* One chainwatch.conf for the watches of three chains: a [chain] section's
 * lines are that chain's watch's alone (an Ethereum watch leaves [tron]'s
 * finalized, a Tron watch [ethereum]'s confirmations: either used would
 * be "give one of them", exit 2; each goes on to ask the node, a closed
 * port: exit 1), and no watch warns of them. The whole file is checked by
 * every watch (exit 2, naming the line): an unknown option or a bad value
 * in another chain's section, another chain's option under a section,
 * chain under a section, an unknown section, a repeat. Before, section
 * headers were ignored: the file's last confirmations served both chains. */
Test(cli_strict, conf_chain_sections_are_that_chains_watch_only)
{
    char *dir = datadir(), *dd = dd_of(dir);
    char conf[160];
    snprintf(conf, sizeof conf, "%s/chainwatch.conf", dd);
    static const char shared[] = "[tron]\nfinalized = true\nzmqpubtron = tcp://127.0.0.1:9\n"
                                 "[ethereum]\nconfirmations = 3\nrpc-rate = 5\n";
    put_file(conf, shared, sizeof shared - 1);
    for (int tron = 0; tron < 2; tron++) {
        const char *chain = tron ? "tron" : "ethereum";
        char *w[] = {CW_BIN, "watch", "--datadir", dd, "--chain", (char *)chain,
                     tron ? "--tron-http=http://127.0.0.1:9" : "--rpc=http://127.0.0.1:9", NULL};
        result r = run_to(w, NULL, 0, "/dev/null");
        cr_assert_eq(r.code, 1, "%s: exit %d: %s", chain, r.code, r.err);
        cr_assert(strstr(r.err, "cannot ask the node its chain"), "%s: %s", chain, r.err);
        cr_assert_null(strstr(r.err, " is for --chain"), "%s: %s", chain, r.err);
        free(r.err);
    }
    static const struct {
        const char *file, *line;
    } bad[] = {
        {"rcvhwm = 5\n[tron]\nconfirmatons = 3\n", "chainwatch.conf: line 3: cannot use this line: unknown option "
                                                   "'confirmatons'"},
        {"[tron]\nconfirmations = abc\n", "chainwatch: watch: config: --confirmations: 'abc' is not a whole number ("},
        {"[bitcoin]\nrpc = http://127.0.0.1:8545\n",
         "chainwatch.conf: line 2: cannot use this line: rpc is for --chain ethereum, so not a line for [bitcoin]"},
        {"[ethereum]\nfinalized = true\n[bitcoin]\nconfirmations = 2\n",
         "line 4: cannot use this line: confirmations is for --chain ethereum and tron, so not a line for [bitcoin]"},
        {"[ethereum]\nchain = ethereum\n", "chainwatch.conf: line 2: cannot use this line: chain cannot be set under "
                                           "[ethereum]"},
        {"[main]\nrcvhwm = 5\n", "chainwatch.conf: line 1: cannot use this line: unknown section '[main]'"},
        {"[tron]\napi = 127.0.0.1:8480\n", "line 2: cannot use this line: api is for --chain bitcoin, so not a line for [tron]"},
        {"[tron]\nrcvhwm = 5\n[ethereum]\nwatch = deposits.txt\n",
         "line 4: cannot use this line: watch is for --chain bitcoin, so not a line for [ethereum]"},
        {"[ethereum]\nsalary-min-trx = 3000\n",
         "line 2: cannot use this line: salary-min-trx is for --chain tron, so not a line for [ethereum]"},
        {"[tron] ; Tron's\nconfirmations = 19 # solidified is the default\nconfirmations = 20\n",
         "line 3: cannot use this line: confirmations is already set on line 2 (in [tron])"},
        {"[tron]\nconfirmations = 3\n[bitcoin]\nrcvhwm = 5\n[tron]\nconfirmations = 19\n",
         "chainwatch.conf: line 6: cannot use this line: confirmations is already set on line 2 (in [tron])"},
    };
    static const char *const chains[] = {"bitcoin", "ethereum", "tron"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        put_file(conf, bad[i].file, strlen(bad[i].file));
        for (int k = 0; k < 3; k++) {
            char *w[] = {CW_BIN, "watch", "--datadir", dd, "--chain", (char *)chains[k],
                         k == 0 ? "--zmqpubrawtx=tcp://127.0.0.1:1" : k == 1 ? "--rpc=http://127.0.0.1:9"
                                                                            : "--tron-http=http://127.0.0.1:9",
                         NULL};
            assert_refused(w, bad[i].line);
        }
    }
    test_remove_dir(dir);
}

/* ---------- the one option parser (args.h) ---------- */

Test(cli_strict, one_table_reads_argv_both_forms_and_prints_usage)
{
    static const char *const colours[] = {"red", "green", NULL};
    bool flag = false, sw = false;
    const char *str = NULL, *path = NULL;
    int64_t n = -1;
    uint64_t size = 0, secs = 0, sats = 0;
    uint32_t share = 0, pct = 0;
    int colour = -1;
    cli_arg more[] = {{"switch", ARG_SWITCH, &sw, .metavar = "on|off", .help = "a switch"}, {0}};
    cli_arg t[] = {
        {"flag", ARG_FLAG, &flag, .help = "a flag"},
        {"str", ARG_STRING, &str, .metavar = "S", .help = "a string\non two lines"},
        {"path", ARG_PATH, &path, .metavar = "FILE", .help = "a path"},
        {"n", ARG_INT, &n, 1, 8, .metavar = "N", .help = "a number", .from = ARG_CONF},
        {"size", ARG_SIZE, &size, 1024, 1 << 30, .metavar = "SIZE", .help = "a size"},
        {"secs", ARG_SECONDS, &secs, 0, 86400, .metavar = "T", .help = "a duration"},
        {"share", ARG_SHARE, &share, .metavar = "S", .help = "a share"},
        {"pct", ARG_PERCENT, &pct, .metavar = "P", .help = "a percent"},
        {"btc", ARG_BTC, &sats, .metavar = "BTC", .help = "an amount"},
        {"colour", ARG_ENUM, &colour, .choices = colours, .metavar = "C", .help = "red or green"},
        {.kind = ARG_MORE, .dest = more, .help = "More:"},
        {0},
    };
    char *argv[] = {"verb", "--flag", "--str=a=b", "one", "--path", "/x", "--n", "8", "--size=64k", "--secs", "2m",
                    "--share=0.5%", "--pct", "12.5", "--btc=0.0001", "--colour", "green", "--switch=on", "--",
                    "--two", NULL};
    const char *pos[4] = {0};
    int n_pos = -1;
    cr_assert_eq(cli_args_parse("verb", t, 20, argv, pos, 4, &n_pos), CLI_EXIT_OK);
    cr_assert(flag && sw);
    cr_assert_str_eq(str, "a=b");
    cr_assert_str_eq(path, "/x");
    cr_assert_eq(n, 8);
    cr_assert_eq(size, 65536);
    cr_assert_eq(secs, 120);
    cr_assert_eq(share, 5000);
    cr_assert_eq(pct, 125000);
    cr_assert_eq(sats, 10000);
    cr_assert_eq(colour, 1);
    cr_assert_eq(n_pos, 2);
    cr_assert_str_eq(pos[0], "one");
    cr_assert_str_eq(pos[1], "--two");
    cr_assert(cli_args_given(t, "switch") && cli_args_given(t, "n") && !cli_args_given(t, "nope"));
    /* chainwatch.conf: flags win, the value is still checked; an unknown name is 0 with the reason */
    char why[300];
    cr_assert_eq(cli_args_set_conf(t, "n", "3", why, sizeof why), 1);
    cr_assert_eq(n, 8, "the flag wins");
    cr_assert_eq(cli_args_set_conf(t, "n", "9", why, sizeof why), -1);
    cr_assert_str_eq(why, "--n: '9' is out of range (1 to 8)");
    cr_assert_eq(cli_args_set_conf(t, "nope", "1", why, sizeof why), 0);
    cr_assert_str_eq(why, "unknown option 'nope'");
    cr_assert_eq(cli_args_set_conf(t, "str", "x", why, sizeof why), 0, "not ARG_CONF");
    cr_assert(strstr(why, "command-line option only"), "%s", why);
    /* the usage, from the same table */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cli_args_usage(f, t);
    fclose(f);
    cr_assert(strstr(text, "  --str S                    a string\n                             on two lines\n"), "%s",
              text);
    cr_assert(strstr(text, "  --flag                     a flag\n"), "%s", text);
    cr_assert(strstr(text, "\nMore:\n  --switch on|off            a switch\n"), "%s", text);
    free(text);
}

/* Every verb refuses the same way: exit 2, one line naming the option */
Test(cli_strict, every_verb_refuses_through_the_one_parser)
{
    char *dir = datadir(), *dd = dd_of(dir);
    static const struct {
        const char *argv[8];
        const char *line;
    } cases[] = {
        {{"init", "--datadir=", NULL}, "chainwatch: init: --datadir needs a D, not an empty value"},
        {{"verify", "f", "--bogus", NULL}, "chainwatch: verify: unknown option '--bogus' (see chainwatch verify --help)"},
        {{"verify", "f", "--from-start=yes", NULL}, "chainwatch: verify: --from-start takes no value ('yes' given)"},
        {{"checkpoint", "extra", NULL}, "chainwatch: checkpoint: unexpected argument 'extra'"},
        {{"decode", "tx", "--network", NULL}, "chainwatch: decode: --network needs a value (N)"},
        {{"address", KIM1, KIM2, NULL}, "chainwatch: address: unexpected argument '" KIM2 "'"},
        {{"watchlist", "export", "--format=xml", NULL}, "chainwatch: watchlist: --format is csv or json, not 'xml'"},
        {{"watchlist", "import", "csv", "f", "--map-size", "1x", NULL}, "chainwatch: watchlist: --map-size: '1x'"},
        {{"cluster", KIM1, "--hops", "2", NULL}, "chainwatch: cluster: unknown option '--hops'"},
        {{"trace", KIM1, "--hops=0", NULL}, "chainwatch: trace: --hops: '0' is out of range (1 to 8)"},
        {{"screen", KIM1, "--direction", "in", NULL}, "chainwatch: screen: --direction is deposit or withdrawal, not 'in'"},
        {{"replay", "--blocksdir", "a", "--rawblocks", "b", NULL}, "chainwatch: replay: --blocksdir and --rawblocks"},
        {{"replay", "--capture", "c", "--start-height", "-1", NULL}, "chainwatch: replay: --start-height: '-1'"},
        {{"replay", "--capture", "c", "--confirmations", "0", NULL},
         "chainwatch: replay: --confirmations: '0' is out of range (1 to 10000)"},
        {{"replay", "--capture", "c", "--max-reorg=3x", NULL}, "chainwatch: replay: --max-reorg: '3x'"},
        {{"replay", "--capture", "c", "--finalized=yes", NULL}, "chainwatch: replay: --finalized takes no value ('yes' given)"},
        {{"watch", "--zmqpubrawtx=tcp://127.0.0.1:1", "--clusters", "maybe", NULL},
         "chainwatch: watch: --clusters takes on or off, not 'maybe'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *argv[12] = {CW_BIN};
        int k = 1;
        for (; cases[i].argv[k - 1]; k++)
            argv[k] = (char *)cases[i].argv[k - 1];
        /* last, so a missing value is the case's own; decode and address take none */
        if (strcmp(cases[i].argv[0], "decode") != 0 && strcmp(cases[i].argv[0], "address") != 0 &&
            strcmp(cases[i].argv[0], "init") != 0) {
            memmove(argv + 4, argv + 2, (size_t)(k - 2) * sizeof *argv);
            argv[2] = "--datadir";
            argv[3] = dd;
            k += 2;
        }
        argv[k] = NULL;
        assert_refused(argv, cases[i].line);
    }
    test_remove_dir(dir);
}

/* A --datadir that does not exist, in every verb that uses one: the exit
 * status of the README's rule for the first thing the verb opens, and a
 * message naming the path. The store first: it could not be opened, 3
 * (cli_store_read's "missing datadir"; cases deliver's webhooks.lock too,
 * serve and import cannot create it). The signing key first: 1, as for any
 * unreadable key. apikey reads no store: 1, DATADIR/apikeys unreadable
 * (before, list printed no keys, exit 0, and remove said "no key named").
 * verify without --pubkey: 2, no key to check with. */
Test(cli_strict, every_verb_on_a_missing_datadir_names_it_with_the_rule_s_status)
{
    char *dir = datadir(), csv[160]; /* own.csv: an import's file, and verify's (any file) */
    snprintf(csv, sizeof csv, "%s/own.csv", dir);
    static const char missing[] = "/nonexistent/cw-missing-datadir";
    static const struct {
        const char *argv[6];
        int code;
    } cases[] = {
        {{"screen", KIM1, NULL}, 3},
        {{"cluster", KIM1, NULL}, 3},
        {{"trace", KIM1, NULL}, 3},
        {{"watchlist", "lookup", KIM1, NULL}, 3},
        {{"watchlist", "stats", NULL}, 3},
        {{"watchlist", "diff", NULL}, 3},
        {{"watchlist", "export", NULL}, 3},
        {{"watchlist", "check", NULL}, 3},
        {{"watchlist", "import", "csv", "CSV", NULL}, 3},
        {{"cases", "list", NULL}, 3},
        {{"cases", "webhooks", NULL}, 3},
        {{"cases", "deliver", "http://127.0.0.1:9/", "--until-idle", NULL}, 3},
        {{"serve", "--listen", "127.0.0.1:0", NULL}, 3},
        {{"cases", "show", "1", NULL}, 1},
        {{"cases", "report", "1", NULL}, 1},
        {{"cases", "release", "1", "--actor=a", "--reason=r", NULL}, 1},
        {{"checkpoint", NULL}, 1},
        {{"watch", "--zmqpubrawtx=tcp://127.0.0.1:1", NULL}, 1},
        {{"replay", "--blocksdir", "/tmp", NULL}, 1},
        {{"apikey", "list", NULL}, 1},
        {{"apikey", "remove", "k", NULL}, 1},
        {{"apikey", "add", "k", "--role=screen", NULL}, 1},
        {{"verify", "CSV", NULL}, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *argv[10] = {CW_BIN};
        int k = 1;
        for (const char *const *a = cases[i].argv; *a; a++)
            argv[k++] = strcmp(*a, "CSV") == 0 ? csv : (char *)*a;
        argv[k++] = "--datadir";
        argv[k++] = (char *)missing;
        argv[k] = NULL;
        result r = run_to(argv, NULL, 0, "/dev/null");
        cr_assert_eq(r.code, cases[i].code, "%s %s: exit %d: %s", argv[1], argv[2], r.code, r.err);
        cr_assert(strstr(r.err, missing), "%s %s does not name the datadir: %s", argv[1], argv[2], r.err);
        free(r.err);
    }
    /* the typo a parent exists for: serve would have made a store there
     * (LMDB opens to write) and run with nothing to answer from */
    char typo[200];
    snprintf(typo, sizeof typo, "%s/typo", dir);
    char *serve[] = {CW_BIN, "serve", "--listen", "127.0.0.1:0", "--datadir", typo, NULL};
    result r = run_to(serve, NULL, 0, "/dev/null");
    cr_assert_eq(r.code, 3, "serve on %s: exit %d: %s", typo, r.code, r.err);
    cr_assert(strstr(r.err, typo) && strstr(r.err, "chainwatch init"), "%s", r.err);
    free(r.err);
    struct stat st;
    cr_assert_neq(stat(typo, &st), 0, "serve made %s", typo);
    test_remove_dir(dir);
}

/* ---------- answers are whole or not given (tests/tools/fault.c, CW_FAIL_ALLOC) ---------- */

/* An allocation failing anywhere after screen, cluster or trace opened the
 * store: the verb gives its whole answer (the failure was retried or
 * harmless) or fails with nothing on stdout; never an answer with a field
 * missing. Before, engine/screen.c's jansson setters were unchecked: a
 * failed json_string left the field out and the rest was printed. */
Test(cli_strict, an_allocation_failure_never_prints_a_partial_answer, .timeout = 120)
{
#ifndef CW_FAULT_ALLOC
    cr_skip_test("malloc cannot be interposed under the sanitizers");
#else
    char *dir = datadir(), *dd = dd_of(dir), out[200];
    snprintf(out, sizeof out, "%s/answer.json", dir);
    static const char *const verbs[][2] = {{"screen", KIM1}, {"screen", LAZARUS}, {"cluster", KIM1}, {"trace", KIM1}};
    for (size_t v = 0; v < sizeof verbs / sizeof *verbs; v++) {
        char *argv[] = {CW_BIN, (char *)verbs[v][0], (char *)verbs[v][1], "--datadir", dd, NULL};
        setenv("LD_PRELOAD", CW_FAULT_PRELOAD, 1);
        setenv("CW_FAIL_ALLOC_ON", "txn", 1);
        setenv("CW_COUNT_ALLOC", "1", 1);
        result r = run_to(argv, NULL, 0, out);
        unsetenv("CW_COUNT_ALLOC");
        long after = 0;
        const char *c = strstr(r.err, "fault: ");
        cr_assert(c && sscanf(c, "fault: %ld allocations", &after) == 1 && after > 10, "%s: %s", argv[1], r.err);
        int want_code = r.code;
        cr_assert(want_code == 0 || want_code == 12, "%s %s: exit %d: %s", argv[1], argv[2], r.code, r.err);
        free(r.err);
        char *want = slurp(out, NULL);
        json_t *wj = json_loads(want, 0, NULL);
        cr_assert_not_null(wj, "%s", want);
        json_decref(wj);
        size_t failed = 0;
        for (long at = 1; at <= after; at++) {
            char n[24];
            snprintf(n, sizeof n, "%ld", at);
            setenv("CW_FAIL_ALLOC", n, 1);
            r = run_to(argv, NULL, 0, out); /* fails the test on a crash */
            char *got = slurp(out, NULL);
            if (r.code == want_code) {
                cr_assert_str_eq(got, want, "%s: allocation %ld failed, exit %d: the answer must be whole", argv[1], at,
                                 r.code);
            } else {
                failed++;
                cr_assert(r.code == 1 || r.code == 3, "%s: allocation %ld: exit %d: %s", argv[1], at, r.code, r.err);
                cr_assert_str_eq(got, "", "%s: allocation %ld: exit %d with output", argv[1], at, r.code);
                cr_assert(strstr(r.err, "out of memory") || strstr(r.err, "Cannot allocate memory") ||
                              strstr(r.err, "chainwatch: "),
                          "%s: allocation %ld: exit %d without saying why: %s", argv[1], at, r.code, r.err);
            }
            free(got);
            free(r.err);
        }
        unsetenv("CW_FAIL_ALLOC");
        unsetenv("CW_FAIL_ALLOC_ON");
        unsetenv("LD_PRELOAD");
        cr_assert_gt(failed, 0, "%s: some allocation must fail the answer", argv[1]);
        free(want);
    }
    test_remove_dir(dir);
#endif
}

/* A flag marked for chainwatch.conf (watch's --cpu-idle, --finalized) is
 * a line 'name = true' (or false): before, every flag was refused there as
 * "a command-line option only", though watch --help says each option but
 * --datadir and --config is also a line of the file. */
Test(cli_strict, a_conf_flag_is_true_or_false_in_the_config_file)
{
    bool idle = false, cli_only = false;
    cli_arg t[] = {
        {"cpu-idle", ARG_FLAG, &idle, .help = "a flag", .from = ARG_CONF},
        {"only", ARG_FLAG, &cli_only, .help = "a flag"},
        {0},
    };
    char *argv[] = {"x", NULL};
    int n_pos;
    cr_assert_eq(cli_args_parse("x", t, 1, argv, NULL, 0, &n_pos), CLI_EXIT_OK);
    char why[300];
    cr_assert_eq(cli_args_set_conf(t, "cpu-idle", "yes", why, sizeof why), 1, "%s", why);
    cr_assert(idle);
    cr_assert_eq(cli_args_set_conf(t, "cpu-idle", "false", why, sizeof why), 1, "%s", why);
    cr_assert(!idle);
    cr_assert_eq(cli_args_set_conf(t, "cpu-idle", "2", why, sizeof why), -1);
    cr_assert_str_eq(why, "--cpu-idle is true or false in the config file, not '2'");
    cr_assert(!idle);
    cr_assert_eq(cli_args_set_conf(t, "only", "true", why, sizeof why), 0);
    cr_assert(strstr(why, "command-line option only"), "%s", why);
    cr_assert(!cli_only);
    /* the command line's flag wins over the file's false */
    char *argv2[] = {"x", "--cpu-idle", NULL};
    cr_assert_eq(cli_args_parse("x", t, 2, argv2, NULL, 0, &n_pos), CLI_EXIT_OK);
    cr_assert(idle);
    cr_assert_eq(cli_args_set_conf(t, "cpu-idle", "false", why, sizeof why), 1, "%s", why);
    cr_assert(idle, "the flag wins");
}

/* watch reads cpu-idle from chainwatch.conf and refuses it beside its own
 * --api (the API's threads would run at the idle priority too). */
Test(cli_strict, watch_conf_cpu_idle_is_refused_beside_api)
{
    char tmpl[] = "/tmp/cwstrict-conf-XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl));
    char conf[200];
    snprintf(conf, sizeof conf, "%s/chainwatch.conf", tmpl);
    FILE *f = fopen(conf, "w");
    cr_assert_not_null(f);
    fputs("# a catch-up\ncpu-idle = true\n", f);
    fclose(f);
    char *argv[] = {CW_BIN, "watch", "--datadir", tmpl, "--api=127.0.0.1:0", "--zmqpubrawblock=tcp://127.0.0.1:1", NULL};
    result r = run_to(argv, NULL, 0, "/dev/null");
    cr_assert_eq(r.code, 2, "%s", r.err);
    cr_assert(strstr(r.err, "--nice and --cpu-idle lower the whole process"), "%s", r.err);
    free(r.err);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    cr_assert_eq(system(cmd), 0);
}
