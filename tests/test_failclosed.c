/* Fail closed: a store that cannot be read, or is damaged, is an error the
 * user sees (exit 3, one line), never "not listed", "allow" or a block
 * recorded as screened. Faults come from the LD_PRELOAD shim
 * tests/tools/failcommit.c (CW_FAIL_MDB, CW_FAIL_IO); damage is made by
 * cutting and overwriting real store files. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain_build.h"
#include "support.h"
#include "watchlists/store.h"
#include "watchlists/watchlist.h"

static char *tmpdir(void)
{
    char *d = strdup("/tmp/cw-failclosed-XXXXXX");
    cr_assert_not_null(mkdtemp(d));
    return d;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* Runs argv with the fault shim preloaded and `faults` (NAME=VALUE, ...,
 * NULL) in the environment; returns the exit code (a signal fails the
 * test in run_cmd). */
static int run_faulty(char *const argv[], char **out, char **err, ...)
{
#ifdef CW_ASAN_RUNTIME
    setenv("LD_PRELOAD", CW_ASAN_RUNTIME ":" CW_FAILCOMMIT, 1); /* a sanitizer build: its runtime first */
#else
    setenv("LD_PRELOAD", CW_FAILCOMMIT, 1);
#endif
    va_list ap;
    va_start(ap, err);
    const char *names[8];
    int n = 0;
    for (const char *kv; n < 8 && (kv = va_arg(ap, const char *)) != NULL; n++) {
        const char *eq = strchr(kv, '=');
        static char name[8][64];
        snprintf(name[n], sizeof name[n], "%.*s", (int)(eq - kv), kv);
        setenv(name[n], eq + 1, 1);
        names[n] = name[n];
    }
    va_end(ap);
    int rc = run_cmd(argv, NULL, 0, out, err);
    unsetenv("LD_PRELOAD");
    for (int i = 0; i < n; i++)
        unsetenv(names[i]);
    return rc;
}

static int run(char *const argv[], char **out, char **err) { return run_cmd(argv, NULL, 0, out, err); }

/* The lines of s (stderr) that are not empty. */
static int count_lines(const char *s)
{
    int n = 0;
    for (const char *p = s; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        n += len > 0;
        p += len + (nl != NULL);
    }
    return n;
}

/* The hex of an address's watchlist key, for CW_FAIL_MDB's @KEY. */
static void key_hex(const cw_addr *a, char *out)
{
    uint8_t key[WL_KEY_MAX];
    size_t n = wl_key_from_addr(a, key);
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", key[i]);
}

/* ---------- a datadir with a watchlist of regtest addresses ---------- */

typedef struct {
    char *root;
    char dd[300];
    cw_addr listed[3];
    char text[3][96];
} wl_scene;

static void wl_scene_new(wl_scene *s)
{
    s->root = tmpdir();
    snprintf(s->dd, sizeof s->dd, "%s/dd", s->root);
    char csv[2048] = "chain,address,entity,program,note\n", path[400];
    for (int i = 0; i < 3; i++) {
        s->listed[i] = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 500 + (uint32_t)i);
        cb_addr_text(&s->listed[i], s->text[i]);
        size_t n = strlen(csv);
        snprintf(csv + n, sizeof csv - n, "bitcoin,%s,Front %d,DPRK3,\n", s->text[i], i + 1);
    }
    snprintf(path, sizeof path, "%s/list.csv", s->root);
    write_file(path, csv);
    char *init[] = {CW_BIN, "init", "--datadir", s->dd, NULL};
    char *out, *err;
    cr_assert_eq(run(init, &out, &err), 0, "%s", err);
    free(out), free(err);
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", path, "--datadir", s->dd, NULL};
    cr_assert_eq(run(imp, &out, &err), 0, "%s", err);
    free(out), free(err);
}

static void wl_scene_free(wl_scene *s) { test_remove_dir(s->root); }

/* What a read verb must do when the store fails under it: exit 3, one line
 * on stderr naming the store, and nothing on stdout that reads as an
 * answer. */
static void assert_unchecked(const char *what, int rc, const char *out, const char *err)
{
    cr_assert_eq(rc, 3, "%s: exit %d (want 3, could not check)\nstdout: %s\nstderr: %s", what, rc, out, err);
    cr_assert_eq(count_lines(err), 1, "%s: want one line on stderr, got:\n%s", what, err);
    cr_assert(strstr(err, "store") != NULL, "%s: the message does not name the store: %s", what, err);
    cr_assert(strstr(out, "\"listed\":false") == NULL && strstr(out, "\"listed\": false") == NULL,
              "%s: 'not listed' printed although the store failed: %s", what, out);
    cr_assert(strstr(out, "\"decision\":\"allow\"") == NULL, "%s: 'allow' printed although the store failed: %s",
              what, out);
}

/* The hostile tester's case: a read error at the first LMDB read. Before,
 * lookup printed "listed": false and exited 1 (the cursor's error was read
 * as the end of the refs). */
Test(failclosed, lookup_read_error_is_exit_3_not_unlisted, .timeout = 60)
{
    wl_scene s;
    wl_scene_new(&s);
    char *argv[] = {CW_BIN, "watchlist", "lookup", s.text[0], "--datadir", s.dd, NULL};
    char *out, *err;
    cr_assert_eq(run(argv, &out, &err), 0, "the address is listed: %s", err);
    cr_assert(strstr(out, "\"listed\":true") != NULL, "%s", out);
    free(out), free(err);
    static const char *const faults[] = {"mdb_cursor_get:1:EIO", "mdb_cursor_get:1+:MDB_CORRUPTED",
                                         "mdb_cursor_get:2:MDB_PAGE_NOTFOUND", "mdb_get:1+:EIO",
                                         "mdb_cursor_open:1:MDB_BAD_TXN"};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        char spec[128];
        snprintf(spec, sizeof spec, "CW_FAIL_MDB=%s", faults[i]);
        int rc = run_faulty(argv, &out, &err, spec, NULL);
        assert_unchecked(faults[i], rc, out, err);
        cr_assert_str_empty(out, "%s: lookup printed a result: %s", faults[i], out);
        free(out), free(err);
    }
    /* an unlisted address too: a failed read is not "not listed" */
    char other[96];
    cw_addr a = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 900);
    char *argv2[] = {CW_BIN, "watchlist", "lookup", (char *)cb_addr_text(&a, other), "--datadir", s.dd, NULL};
    int rc = run_faulty(argv2, &out, &err, "CW_FAIL_MDB=mdb_cursor_get:1:EIO", NULL);
    assert_unchecked("unlisted address", rc, out, err);
    free(out), free(err);
    wl_scene_free(&s);
}

/* stats, diff and export walk a database with a cursor: a read error
 * ended the walk as if it were the end ("no imports yet", exit 0). */
Test(failclosed, stats_diff_export_read_error_is_exit_3, .timeout = 60)
{
    wl_scene s;
    wl_scene_new(&s);
    static const char *const verbs[] = {"stats", "diff", "export"};
    for (size_t i = 0; i < 3; i++) {
        char *argv[] = {CW_BIN, "watchlist", (char *)verbs[i], "--datadir", s.dd, NULL};
        char *out, *err;
        cr_assert_eq(run(argv, &out, &err), 0, "%s: %s", verbs[i], err);
        free(out), free(err);
        int rc = run_faulty(argv, &out, &err, "CW_FAIL_MDB=mdb_cursor_get:1:EIO", NULL);
        assert_unchecked(verbs[i], rc, out, err);
        free(out), free(err);
    }
    /* export: a designation's entity record unreadable is an error, not a
     * row with an empty entity */
    char ek[300];
    snprintf(ek, sizeof ek, "CW_FAIL_MDB=mdb_get:1:EIO");
    char *argv[] = {CW_BIN, "watchlist", "export", "--datadir", s.dd, NULL};
    char *out, *err;
    int rc = run_faulty(argv, &out, &err, ek, NULL);
    assert_unchecked("export entity", rc, out, err);
    free(out), free(err);
    wl_scene_free(&s);
}

/* screen, cluster and trace of a listed address with the store failing:
 * before, screen answered allow (exit 0) and cluster "listed": false. */
Test(failclosed, screen_cluster_trace_read_error_is_exit_3, .timeout = 60)
{
    wl_scene s;
    wl_scene_new(&s);
    static const char *const verbs[] = {"screen", "cluster", "trace"};
    char hex[2 * WL_KEY_MAX + 1];
    key_hex(&s.listed[0], hex);
    for (size_t i = 0; i < 3; i++) {
        char *argv[] = {CW_BIN, (char *)verbs[i], s.text[0], "--datadir", s.dd, "--network", "regtest", NULL};
        char *out, *err;
        int rc = run(argv, &out, &err);
        cr_assert(i != 0 || rc == 12, "screen of a listed address: exit %d (want 12, block): %s %s", rc, out, err);
        cr_assert(i == 0 || rc == 0, "%s: exit %d: %s", verbs[i], rc, err);
        free(out), free(err);
        const char *faults[] = {"CW_FAIL_MDB=mdb_cursor_get:1+:EIO", "CW_FAIL_MDB=mdb_get:1+:MDB_CORRUPTED"};
        for (int f = 0; f < 2; f++) {
            rc = run_faulty(argv, &out, &err, faults[f], NULL);
            char what[128];
            snprintf(what, sizeof what, "%s with %s", verbs[i], faults[f]);
            assert_unchecked(what, rc, out, err);
            free(out), free(err);
        }
        /* only the listed address's own key unreadable */
        char spec[320];
        snprintf(spec, sizeof spec, "CW_FAIL_MDB=mdb_get:1+:EIO@%s", hex);
        rc = run_faulty(argv, &out, &err, spec, NULL);
        char what[128];
        snprintf(what, sizeof what, "%s with the key's reads failing", verbs[i]);
        cr_assert(rc == 3 || (i != 1 && rc == 12) || (i == 2 && rc == 0), "%s: exit %d: %s", what, rc, err);
        if (rc == 3)
            assert_unchecked(what, rc, out, err);
        free(out), free(err);
    }
    wl_scene_free(&s);
}

/* ---------- a chain paying many designated addresses ---------- */

#define N_DESIG 100

typedef struct {
    char *root;
    char dd[300], blocks[300];
    cb_chain c;
    cw_addr desig[N_DESIG];
    cb_tx tx;
    char txid[65];
} chain_scene;

static void chain_scene_new(chain_scene *s)
{
    s->root = tmpdir();
    snprintf(s->dd, sizeof s->dd, "%s/dd", s->root);
    snprintf(s->blocks, sizeof s->blocks, "%s/blocks", s->root);
    cb_chain_init(&s->c, CW_NET_REGTEST);
    cw_addr miner = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 7);
    cb_pay cbp = {miner, 50 * 100000000ull};
    cb_chain_mine(&s->c, -1, &cbp, 1, NULL, 0);
    cb_coin in = cb_chain_coinbase_coin(&s->c, 0, 0);
    cb_pay pays[N_DESIG + 1];
    static char csv[N_DESIG * 128];
    snprintf(csv, sizeof csv, "chain,address,entity,program,note\n");
    for (int i = 0; i < N_DESIG; i++) {
        s->desig[i] = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 1000 + (uint32_t)i);
        pays[i] = (cb_pay){s->desig[i], 10000 + (uint64_t)i};
        char t[96];
        size_t n = strlen(csv);
        snprintf(csv + n, sizeof csv - n, "bitcoin,%s,Front %d,DPRK3,\n", cb_addr_text(&s->desig[i], t), i);
    }
    pays[N_DESIG] = (cb_pay){cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 8), 1000000};
    s->tx = (cb_tx)CB_TX_INIT;
    cb_tx_pay(&s->tx, &in, 1, pays, N_DESIG + 1);
    cb_txid_hex(s->tx.txid, s->txid);
    const cb_tx *txs[] = {&s->tx};
    cb_chain_mine(&s->c, 0, &cbp, 1, txs, 1);
    cb_chain_mine(&s->c, 1, &cbp, 1, NULL, 0);
    cr_assert_eq(cb_chain_write(&s->c, s->blocks, false), 0);
    char path[400];
    snprintf(path, sizeof path, "%s/list.csv", s->root);
    write_file(path, csv);
    char *init[] = {CW_BIN, "init", "--datadir", s->dd, NULL};
    char *out, *err;
    cr_assert_eq(run(init, &out, &err), 0, "%s", err);
    free(out), free(err);
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", path, "--datadir", s->dd, NULL};
    cr_assert_eq(run(imp, &out, &err), 0, "%s", err);
    free(out), free(err);
}

static void chain_scene_free(chain_scene *s)
{
    cb_tx_free(&s->tx);
    cb_chain_free(&s->c);
    test_remove_dir(s->root);
}

/* designated_address records of the scene's tx */
static size_t records_of_tx(const chain_scene *s, size_t *distinct_addr)
{
    json_t *all = alerts_read(s->dd);
    size_t n = 0, i;
    json_t *r;
    json_t *seen = json_object();
    json_array_foreach(all, i, r)
    {
        const char *rule = json_string_value(json_object_get(r, "rule"));
        const char *txid = json_string_value(json_object_get(r, "txid"));
        if (rule && txid && strcmp(rule, "designated_address") == 0 && strcmp(txid, s->txid) == 0) {
            n++;
            json_object_set_new(seen, json_string_value(json_object_get(r, "address")), json_true());
        }
    }
    *distinct_addr = json_object_size(seen);
    json_decref(seen);
    json_decref(all);
    return n;
}

static char *const *replay_argv(chain_scene *s)
{
    static char *argv[12];
    char *a[] = {CW_BIN, "replay", "--blocksdir", s->blocks, "--datadir", s->dd, "--network", "regtest", NULL};
    memcpy(argv, a, sizeof a);
    return argv;
}

/* Before, find_matches kept the first 64 designated addresses of a tx and
 * dropped the rest without a word. */
Test(failclosed, a_tx_paying_100_designated_addresses_gets_100_records, .timeout = 120)
{
    chain_scene s;
    chain_scene_new(&s);
    char *out, *err;
    cr_assert_eq(run(replay_argv(&s), &out, &err), 0, "%s", err);
    free(out), free(err);
    size_t distinct, n = records_of_tx(&s, &distinct);
    cr_assert_eq(n, N_DESIG, "%zu designated_address records for the tx paying %d designated addresses", n, N_DESIG);
    cr_assert_eq(distinct, N_DESIG, "%zu distinct addresses", distinct);
    chain_scene_free(&s);
}

/* A watchlist read that fails in the middle of a replay: before, the
 * failing address read as "not listed", its record was never made, and the
 * replay went on and advanced the tip past the block (exit 0). Now the
 * batch is not committed, replay stops with the store's error, and a
 * second replay (the store readable again) records all of the tx. */
Test(failclosed, replay_stops_on_a_watchlist_read_error_and_commits_nothing, .timeout = 120)
{
    chain_scene s;
    chain_scene_new(&s);
    char hex[2 * WL_KEY_MAX + 1], spec[320];
    key_hex(&s.desig[37], hex);
    snprintf(spec, sizeof spec, "CW_FAIL_MDB=mdb_get:1+:EIO@%s", hex);
    char *out, *err;
    int rc = run_faulty(replay_argv(&s), &out, &err, spec, NULL);
    cr_assert_neq(rc, 0, "replay exited 0 although a watchlist read failed:\n%s\n%s", out, err);
    cr_assert(strstr(err, "store") != NULL, "the error does not name the store: %s", err);
    free(out), free(err);
    size_t distinct, n = records_of_tx(&s, &distinct);
    cr_assert_eq(n, 0, "%zu records of the failed batch were written", n);
    /* the tip did not move past the block: the next replay sees the tx */
    cr_assert_eq(run(replay_argv(&s), &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "replayed heights 0..2") != NULL, "the second replay did not start at 0:\n%s", out);
    free(out), free(err);
    n = records_of_tx(&s, &distinct);
    cr_assert_eq(n, N_DESIG, "%zu records after the second replay", n);
    chain_scene_free(&s);
}
