/* Clusters and exposure end to end, on chains built by hand (chain_build.h)
 * where the right answer is known by construction: the real `chainwatch`
 * binary imports a CSV watchlist and replays the blocks, and the alert
 * records are compared with values worked out here, field by field.
 *
 * Records are compared as sorted summary lines in which the txids and
 * addresses a test named print as their names ("m1", "A"), so a failure
 * reads like the scenario:
 *   HIT <tx> <direction> <addr> amt=<amount> member=<designated_member>
 *       root=<cluster.root> size=<cluster.size> desig=<cluster.designated>
 *       ev=<evidence> <decision>/<severity> w=<watched> @<height>
 *   EXP <tx> <addr> hops=<hops> ppm=<share_ppm> amt=<amount> of=<output_value>
 *       ev=<evidence> src=<source_address> <decision>/<severity> w=<watched> @<height>
 *   DA <tx> <direction> <addr> amt=<amount> @<height>
 * (a status other than confirmed is appended). Every record of the file is
 * listed: one more or one less fails the test.
 *
 * CW_KEEP_TEST_DIRS=1 keeps the directories (blocks, datadirs) to look at. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/chain_build.h"
#include "chains/addr.h"
#include "chains/bitcoin/coinjoin.h"
#include "chains/bitcoin/tx.h"
#include "chains/hex.h"
#include "monitor/records/alert.h"
#include "tests/rest_server.h"
#include "tests/support.h"
#include "watchlists/store/store.h"
#include "tests/zmq_pub.h"

#define BTC 100000000ull

/* ---------- a scenario: a chain, names, datadirs ---------- */

typedef struct {
    char hex[96];
    char name[24];
} named;

typedef struct {
    char root[64], blocks[128];
    cb_chain c;
    named names[256];
    size_t n_names;
    cw_addr miner;
    cw_addr listed[8];
    size_t n_listed;
} scene;

static void scene_new(scene *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->root, sizeof s->root, "/tmp/cw-flows-XXXXXX");
    cr_assert_not_null(mkdtemp(s->root));
    snprintf(s->blocks, sizeof s->blocks, "%s/blocks", s->root);
    cb_chain_init(&s->c, CW_NET_REGTEST);
    s->miner = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 250);
}

static void scene_free(scene *s)
{
    if (getenv("CW_KEEP_TEST_DIRS")) {
        fprintf(stderr, "kept %s\n", s->root);
    } else {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->root);
        cr_assert_eq(system(cmd), 0);
    }
    cb_chain_free(&s->c);
}

static void add_name(scene *s, const char *hex, const char *name)
{
    cr_assert_lt(s->n_names, 256);
    snprintf(s->names[s->n_names].hex, sizeof s->names[0].hex, "%s", hex);
    snprintf(s->names[s->n_names].name, sizeof s->names[0].name, "%s", name);
    s->n_names++;
}

/* An address of a kind, named for the summaries. */
static cw_addr addr(scene *s, const char *name, cw_addr_kind kind, uint32_t seed)
{
    cw_addr a = cb_addr_make(CW_NET_REGTEST, kind, seed);
    char t[96];
    add_name(s, cb_addr_text(&a, t), name);
    return a;
}
#define W(name, seed) addr(s, name, CW_ADDR_P2WPKH, seed)
#define L(name, seed) addr(s, name, CW_ADDR_P2PKH, seed)
#define T(name, seed) addr(s, name, CW_ADDR_P2TR, seed)

static const char *text_of(const cw_addr *a)
{
    static char t[4][96];
    static int k;
    k = (k + 1) % 4;
    return cb_addr_text(a, t[k]);
}

static void name_tx(scene *s, const cb_tx *t, const char *name)
{
    char h[65];
    add_name(s, cb_txid_hex(t->txid, h), name);
}

static const char *name_of(const scene *s, const char *hex)
{
    for (size_t i = 0; i < s->n_names; i++)
        if (strcmp(s->names[i].hex, hex) == 0)
            return s->names[i].name;
    return hex;
}

/* A tx from coins to payments, named. */
static void pay(scene *s, cb_tx *t, const char *name, const cb_coin *in, size_t n_in, const cb_pay *out, size_t n_out)
{
    *t = (cb_tx)CB_TX_INIT;
    cb_tx_pay(t, in, n_in, out, n_out);
    name_tx(s, t, name);
}
#define PAY(t, name, ins, outs) pay(s, &(t), name, ins, sizeof ins / sizeof *ins, outs, sizeof outs / sizeof *outs)

/* A block on parent (-1: the first) paying the miner 50 BTC plus `extra`
 * coinbase outputs (vout 1, 2, ...), holding txs. */
static size_t mine(scene *s, long parent, const cb_pay *extra, size_t n_extra, const cb_tx *const *txs, size_t n_txs)
{
    cb_pay pays[32];
    cr_assert_lt(n_extra, 32);
    pays[0] = (cb_pay){s->miner, 50 * BTC};
    for (size_t i = 0; i < n_extra; i++) /* extra may be NULL when n_extra is 0 */
        pays[1 + i] = extra[i];
    return cb_chain_mine(&s->c, parent, pays, n_extra + 1, txs, n_txs);
}
#define TXS(...) (const cb_tx *const[]){__VA_ARGS__}, sizeof((const cb_tx *const[]){__VA_ARGS__}) / sizeof(cb_tx *)

/* Coinbase output vout (1: the first of `extra`) of block b. */
static cb_coin cbc(scene *s, size_t b, uint32_t vout) { return cb_chain_coinbase_coin(&s->c, b, vout); }
static cb_coin coin(const cb_tx *t, uint32_t vout) { return cb_tx_coin(t, vout); }

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* A fresh datadir <root>/<name>, initialised, with the listed addresses
 * imported from a CSV (entity "Test front <i>", program DPRK3). */
static const char *datadir(scene *s, const char *name)
{
    static char dd[4][160];
    static int k;
    k = (k + 1) % 4;
    snprintf(dd[k], sizeof dd[k], "%s/%s", s->root, name);
    char *out, *err;
    char *init[] = {CW_BIN, "init", "--datadir", dd[k], NULL};
    cr_assert_eq(run_cmd(init, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char csv[2048] = "chain,address,entity,program,note\n", path[256];
    for (size_t i = 0; i < s->n_listed; i++) {
        size_t n = strlen(csv);
        snprintf(csv + n, sizeof csv - n, "bitcoin,%s,Test front %zu,DPRK3,\n", text_of(&s->listed[i]), i + 1);
    }
    snprintf(path, sizeof path, "%s/list.csv", s->root);
    write_file(path, csv);
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", path, "--datadir", dd[k], NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    return dd[k];
}

static void designate(scene *s, cw_addr a)
{
    cr_assert_lt(s->n_listed, 8);
    s->listed[s->n_listed++] = a;
}

static void write_blocks(scene *s) { cr_assert_eq(cb_chain_write(&s->c, s->blocks, true), 0, "writing %s", s->blocks); }

/* chainwatch replay of s->blocks into dd with extra options (NULL-ended);
 * returns stdout (caller frees), stderr to *err_out if wanted. */
static char *replay_opts(scene *s, const char *dd, const char *const *opts, char **err_out)
{
    char *argv[40] = {CW_BIN, "replay", "--blocksdir", s->blocks, "--datadir", (char *)dd, "--network", "regtest"};
    int n = 8;
    for (size_t i = 0; opts && opts[i]; i++) {
        cr_assert_lt(n, 38);
        argv[n++] = (char *)opts[i];
    }
    argv[n] = NULL;
    char *out, *err;
    int rc = run_cmd(argv, NULL, 0, &out, &err);
    cr_assert_eq(rc, 0, "replay failed (%d): %s%s", rc, out, err);
    if (err_out)
        *err_out = err;
    else
        free(err);
    return out;
}
#define OPTS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void replay(scene *s, const char *dd, const char *const *opts) { free(replay_opts(s, dd, opts, NULL)); }


static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "(none)";
}
static long long num(const json_t *o, const char *k) { return (long long)json_integer_value(json_object_get(o, k)); }

static void cat(char *out, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, cap - n, fmt, ap);
    va_end(ap);
}

/* One record as a summary line (see the top of the file). */
static void summarize(const scene *s, const json_t *r, char *out, size_t cap)
{
    const char *rule = str(r, "rule");
    out[0] = '\0';
    const char *tx = name_of(s, str(r, "txid")), *ad = name_of(s, str(r, "address"));
    if (strcmp(rule, "designated_address") == 0) {
        cat(out, cap, "DA %s %s %s amt=%lld", tx, str(r, "direction"), ad, num(r, "amount"));
    } else {
        bool hit = strcmp(rule, "cluster_hit") == 0;
        if (hit) {
            json_t *c = json_object_get(r, "cluster");
            cat(out, cap, "HIT %s %s %s amt=%lld member=%s root=%s size=%lld desig=%lld ev=", tx, str(r, "direction"),
                ad, num(r, "amount"), name_of(s, str(r, "designated_member")), name_of(s, str(c, "root")),
                num(c, "size"), num(c, "designated"));
        } else {
            cat(out, cap, "EXP %s %s hops=%lld ppm=%lld amt=%lld of=%lld ev=", tx, ad, num(r, "hops"),
                num(r, "share_ppm"), num(r, "amount"), num(r, "output_value"));
        }
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(r, "evidence"), i, e) cat(out, cap, "%s%s", i ? "," : "",
                                                                      name_of(s, json_string_value(e)));
        if (!hit)
            cat(out, cap, " src=%s", name_of(s, str(r, "source_address")));
        cat(out, cap, " %s/%s w=%d", str(r, "decision"), str(r, "severity"), json_is_true(json_object_get(r, "watched")));
        if (!hit && strcmp(str(r, "direction"), "from_designated") != 0)
            cat(out, cap, " dir=%s", str(r, "direction"));
    }
    json_t *b = json_object_get(r, "block");
    if (json_is_object(b))
        cat(out, cap, " @%lld", num(b, "height"));
    if (strcmp(str(r, "status"), "confirmed") != 0)
        cat(out, cap, " %s", str(r, "status"));
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted lines, one per line, joined (caller frees). */
static char *join_sorted(char **lines, size_t n)
{
    qsort(lines, n, sizeof *lines, cmp_str);
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(lines[i]) + 1;
    char *all = calloc(1, len);
    for (size_t i = 0; i < n; i++) {
        strcat(all, lines[i]);
        strcat(all, "\n");
    }
    return all;
}

/* The summary of every record in dd's alert file, sorted. */
static char *summary(const scene *s, const char *dd)
{
    json_t *all = alerts_read(dd);
    size_t n = json_array_size(all), i;
    char **lines = calloc(n + 1, sizeof *lines);
    json_t *r;
    json_array_foreach(all, i, r) {
        lines[i] = malloc(1024);
        summarize(s, r, lines[i], 1024);
    }
    char *out = join_sorted(lines, n);
    for (i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    json_decref(all);
    return out;
}

/* Expected lines (NULL-ended), sorted and joined like summary(). */
static char *expect(const char *const *want)
{
    size_t n = 0;
    while (want[n])
        n++;
    char **lines = calloc(n + 1, sizeof *lines);
    for (size_t i = 0; i < n; i++)
        lines[i] = (char *)want[i];
    char *out = join_sorted(lines, n);
    free(lines);
    return out;
}

static void assert_records(const scene *s, const char *dd, const char *const *want)
{
    char *got = summary(s, dd), *exp = expect(want);
    cr_assert_str_eq(got, exp, "records of %s\n--- got:\n%s--- expected:\n%s", dd, got, exp);
    free(got), free(exp);
}
#define EXPECT(s, dd, ...) assert_records(s, dd, (const char *const[]){__VA_ARGS__, NULL})

static void verify(const char *dd)
{
    char path[256];
    snprintf(path, sizeof path, "%s/alerts.jsonl", dd);
    char *out, *err;
    char *v[] = {CW_BIN, "verify", path, "--datadir", (char *)dd, "--from-start", NULL}; /* the whole trail */
    cr_assert_eq(run_cmd(v, NULL, 0, &out, &err), 0, "verify: %s %s", out, err);
    free(out), free(err);
}

/* The record of rule for txid and address (NULL: none), borrowed from all. */
static json_t *find_record(json_t *all, const char *rule, const uint8_t txid[32], const cw_addr *a)
{
    char h[65];
    cb_txid_hex(txid, h);
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r) {
        if (strcmp(str(r, "rule"), rule) == 0 && strcmp(str(r, "txid"), h) == 0 &&
            strcmp(str(r, "address"), text_of(a)) == 0)
            return r;
    }
    return NULL;
}

/* ---------- clusters ---------- */

/* D (designated) and A spend together: A joins D's cluster. A payment to
 * A from a stranger, and A paying alone, are cluster hits naming D. */
Test(flows, cluster_hit_to_and_from_a_merged_member)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr D = W("D", 10), A = W("A", 20), U = W("U", 30), U2 = W("U2", 31), X = W("X", 40), Y = W("Y", 50);
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, 1 * BTC}, {A, 2 * BTC}, {U, 5 * BTC}, {A, BTC / 2}};
    size_t b1 = mine(s, (long)b0, fund, 4, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    cb_tx m1, p1, p2;
    cb_coin m1_in[] = {cbc(s, b1, 1), cbc(s, b1, 2)};
    cb_pay m1_out[] = {{X, 250000000}, {A, 50000000}}; /* change to A: inside the wallet */
    PAY(m1, "m1", m1_in, m1_out);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&m1));
    cb_coin p1_in[] = {cbc(s, b1, 3)};
    cb_pay p1_out[] = {{A, 30000000}, {U2, 470000000}};
    PAY(p1, "p1", p1_in, p1_out);
    cb_coin p2_in[] = {cbc(s, b1, 4)};
    cb_pay p2_out[] = {{Y, 50000000}};
    PAY(p2, "p2", p2_in, p2_out);
    size_t b3 = mine(s, (long)b2, NULL, 0, TXS(&p1, &p2));
    write_blocks(s);
    const char *dd = datadir(s, "dd");
    replay(s, dd, NULL);
    EXPECT(s, dd,
           "DA cb1 to_designated D amt=100000000 @1",
           "DA m1 from_designated D amt=100000000 @2",
           /* A pays in the tx that merges it: a member of D's cluster paying */
           "HIT m1 from_designated A amt=200000000 member=D root=D size=2 desig=1 ev=m1 hold/high w=0 @2",
           /* D's and A's inputs are both designated money: X gets all of it; the change to A
            * stays in the designated wallet (neither a hit nor exposure) */
           "EXP m1 X hops=1 ppm=1000000 amt=250000000 of=250000000 ev=m1 src=D review/high w=0 @2",
           "HIT p1 to_designated A amt=30000000 member=D root=D size=2 desig=1 ev=p1,m1 hold/high w=0 @3",
           "HIT p2 from_designated A amt=50000000 member=D root=D size=2 desig=1 ev=p2,m1 hold/high w=0 @3",
           "EXP p2 Y hops=1 ppm=1000000 amt=50000000 of=50000000 ev=p2 src=D review/high w=0 @3");
    /* the whole record of the payment to A */
    json_t *all = alerts_read(dd);
    json_t *r = find_record(all, "cluster_hit", p1.txid, &A);
    cr_assert_not_null(r);
    char txid[65], id[33], bh[65];
    alert_id("bitcoin", "regtest", cb_txid_hex(p1.txid, txid), "cluster_hit", text_of(&A), id);
    cr_assert_str_eq(str(r, "id"), id);
    cr_assert_str_eq(str(r, "chain"), "bitcoin");
    cr_assert_str_eq(str(r, "network"), "regtest");
    cr_assert_str_eq(str(r, "status"), "confirmed");
    cr_assert_str_eq(str(r, "asset"), "BTC");
    cr_assert_str_eq(str(json_object_get(r, "block"), "hash"), cb_txid_hex(s->c.blocks[b3].hash, bh));
    cr_assert_eq(num(json_object_get(r, "block"), "time"), 1700000000 + 3 * 600);
    cr_assert(json_is_null(json_object_get(r, "linked_from")));
    cr_assert_eq(num(r, "hops"), 0);
    cr_assert(json_is_true(json_object_get(r, "amount_known")));
    cr_assert_str_eq(str(r, "designated_member"), text_of(&D));
    cr_assert_str_eq(str(json_object_get(r, "cluster"), "root"), text_of(&D));
    json_t *e = json_object_get(r, "entity");
    cr_assert_str_eq(str(e, "name"), "Test front 1");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(e, "programs"), 0)), "DPRK3");
    json_t *x = find_record(all, "indirect_exposure", m1.txid, &X);
    cr_assert_not_null(x);
    cr_assert_str_eq(str(x, "source_address"), text_of(&D));
    cr_assert_str_eq(str(json_object_get(x, "entity"), "name"), "Test front 1");
    json_decref(all);
    verify(dd);
    cb_tx_free(&m1), cb_tx_free(&p1), cb_tx_free(&p2);
    scene_free(s);
}

/* A+B in one tx, then B+D: all three are one cluster (root A: the first
 * merge's tie goes to the smaller key, then the bigger cluster wins). */
Test(flows, transitive_merge_gives_size_3)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr D = W("D", 10), A = W("A", 20), B = W("B", 21), U = W("U", 30), U2 = W("U2", 31), U3 = W("U3", 32),
            Z1 = W("Z1", 60), Z2 = W("Z2", 61);
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{A, 1 * BTC}, {B, 1 * BTC}, {B, 60000000}, {D, 40000000}, {U, 3 * BTC}};
    size_t b1 = mine(s, (long)b0, fund, 5, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    cb_tx t1, t2, p3, p4;
    cb_coin t1_in[] = {cbc(s, b1, 1), cbc(s, b1, 2)};
    cb_pay t1_out[] = {{Z1, 2 * BTC}};
    PAY(t1, "t1", t1_in, t1_out);
    cb_coin t2_in[] = {cbc(s, b1, 3), cbc(s, b1, 4)};
    cb_pay t2_out[] = {{Z2, 1 * BTC}};
    PAY(t2, "t2", t2_in, t2_out);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&t1, &t2));
    cb_coin p3_in[] = {cbc(s, b1, 5)};
    cb_pay p3_out[] = {{B, 20000000}, {U2, 280000000}};
    PAY(p3, "p3", p3_in, p3_out);
    cb_coin p4_in[] = {coin(&p3, 1)}; /* spends p3's change in the same block */
    cb_pay p4_out[] = {{A, 10000000}, {U3, 270000000}};
    PAY(p4, "p4", p4_in, p4_out);
    mine(s, (long)b2, NULL, 0, TXS(&p3, &p4));
    write_blocks(s);
    const char *dd = datadir(s, "dd");
    replay(s, dd, NULL);
    EXPECT(s, dd,
           "DA cb1 to_designated D amt=40000000 @1",
           "DA t2 from_designated D amt=40000000 @2",
           /* B joined A's cluster in t1; D joined in t2 */
           "HIT t2 from_designated B amt=60000000 member=D root=A size=3 desig=1 ev=t2,t1 hold/high w=0 @2",
           "EXP t2 Z2 hops=1 ppm=1000000 amt=100000000 of=100000000 ev=t2 src=D review/high w=0 @2",
           "HIT p3 to_designated B amt=20000000 member=D root=A size=3 desig=1 ev=p3,t1,t2 hold/high w=0 @3",
           /* A is the root: it joined nothing, D joined in t2 */
           "HIT p4 to_designated A amt=10000000 member=D root=A size=3 desig=1 ev=p4,t2 hold/high w=0 @3");
    cb_tx_free(&t1), cb_tx_free(&t2), cb_tx_free(&p3), cb_tx_free(&p4);
    scene_free(s);
}

/* A designated address that spends and takes change back in one tx: both
 * matches have one alert id (chain, network, txid, rule, address), so the
 * one record must say that D spent (from_designated, what it spent) with
 * the change as `returned`.
 * Failed on f70af8a (only "to_designated D 40000000" was written: the
 * spend was lost); fixed on main by f70aaf7. */
Test(flows, designated_spend_with_change_back_is_recorded)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr D = W("D", 10), X = W("X", 40);
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, 1 * BTC}};
    size_t b1 = mine(s, (long)b0, fund, 1, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    cb_tx m;
    cb_coin m_in[] = {cbc(s, b1, 1)};
    cb_pay m_out[] = {{X, 60000000}, {D, 40000000}};
    PAY(m, "m", m_in, m_out);
    mine(s, (long)b1, NULL, 0, TXS(&m));
    write_blocks(s);
    const char *dd = datadir(s, "dd");
    replay(s, dd, NULL);
    EXPECT(s, dd, "DA cb1 to_designated D amt=100000000 @1", "DA m from_designated D amt=100000000 @2",
           /* the change to D is D's: no exposure */
           "EXP m X hops=1 ppm=1000000 amt=60000000 of=60000000 ev=m src=D review/high w=0 @2");
    json_t *all = alerts_read(dd);
    json_t *r = find_record(all, "designated_address", m.txid, &D);
    cr_assert_not_null(r);
    cr_assert_eq(num(r, "returned"), 40000000);
    cr_assert(json_is_true(json_object_get(r, "amount_known")));
    json_decref(all);
    cb_tx_free(&m);
    scene_free(s);
}

/* ---------- CoinJoins never merge ---------- */

/* The multi-party class of tx (its inputs resolved from coins). */
static btc_multiparty classify(const cb_tx *t, const cb_coin *in, size_t n_in)
{
    cw_arena a = test_arena(t->full.n);
    cw_tx tx;
    cw_err err = {0};
    cr_assert_eq(btc_tx_parse(t->full.p, t->full.n, NULL, CW_NET_REGTEST, &a, &tx, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(tx.n_in, n_in);
    for (size_t i = 0; i < n_in; i++) {
        tx.in[i].resolved = true;
        tx.in[i].value = in[i].value;
        tx.in[i].addr = in[i].addr;
    }
    btc_multiparty k = btc_multiparty_detect(&tx, NULL, 0);
    free(a.base);
    return k;
}

/* D mixes in a Whirlpool-shaped round and in a generic equal-output join:
 * the other participants stay strangers to D (no cluster hit when they are
 * paid or pay), and the outputs carry D's share of the inputs. The same
 * participant spending with D in an ordinary tx does join D's cluster. */
Test(flows, coinjoins_never_merge)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr D = W("D", 10), U = W("U", 30), U2 = W("U2", 31), U3 = W("U3", 32), Y = W("Y", 50), Z = W("Z", 60);
    cw_addr P[4] = {W("P1", 101), W("P2", 102), W("P3", 103), W("P4", 104)};
    cw_addr O[5] = {W("O1", 111), W("O2", 112), W("O3", 113), W("O4", 114), W("O5", 115)};
    cw_addr Q[3] = {W("Q1", 121), W("Q2", 122), W("Q3", 123)};
    cw_addr R[4] = {W("R1", 131), W("R2", 132), W("R3", 133), W("R4", 134)};
    cw_addr C1 = W("C1", 141), C2 = W("C2", 142);
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, 1000000},     {P[0], 1000000}, {P[1], 1000000}, {P[2], 1000000},   {P[3], 1000000},
                     {D, 2000000},     {Q[0], 2000000}, {Q[1], 2000000}, {Q[2], 2000000},   {U, 5 * BTC},
                     {P[1], 30000000}, {D, 20000000},   {P[0], 10000000}};
    size_t b1 = mine(s, (long)b0, fund, 13, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    /* Whirlpool 0.01 BTC pool: 5 P2WPKH inputs of the pool value, 5 outputs of it */
    cb_tx wp, ej, pa, pb, ctl, pc;
    cb_coin wp_in[] = {cbc(s, b1, 1), cbc(s, b1, 2), cbc(s, b1, 3), cbc(s, b1, 4), cbc(s, b1, 5)};
    cb_pay wp_out[] = {{O[0], 1000000}, {O[1], 1000000}, {O[2], 1000000}, {O[3], 1000000}, {O[4], 1000000}};
    PAY(wp, "wp", wp_in, wp_out);
    /* 4 parties, 4 equal outputs and 2 changes (6 outputs: not JoinMarket's 2k or 2k-1) */
    cb_coin ej_in[] = {cbc(s, b1, 6), cbc(s, b1, 7), cbc(s, b1, 8), cbc(s, b1, 9)};
    cb_pay ej_out[] = {{R[0], 1500000}, {R[1], 1500000}, {R[2], 1500000}, {R[3], 1500000}, {C1, 600000}, {C2, 1400000}};
    PAY(ej, "ej", ej_in, ej_out);
    cr_assert_eq(classify(&wp, wp_in, 5), BTC_MP_WHIRLPOOL);
    cr_assert_eq(classify(&ej, ej_in, 4), BTC_MP_EQUAL_OUTPUTS);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&wp, &ej));
    /* a stranger pays two participants; a participant pays alone */
    cb_coin pa_in[] = {cbc(s, b1, 10)};
    cb_pay pa_out[] = {{P[0], 1000000}, {Q[0], 1000000}, {U2, 498000000}};
    PAY(pa, "pa", pa_in, pa_out);
    cb_coin pb_in[] = {cbc(s, b1, 11)};
    cb_pay pb_out[] = {{Y, 30000000}};
    PAY(pb, "pb", pb_in, pb_out);
    size_t b3 = mine(s, (long)b2, NULL, 0, TXS(&pa, &pb));
    /* control: P1 and D in an ordinary tx merge, and P1 is then a hit */
    cb_coin ctl_in[] = {cbc(s, b1, 12), cbc(s, b1, 13)};
    cb_pay ctl_out[] = {{Z, 30000000}};
    PAY(ctl, "ctl", ctl_in, ctl_out);
    cr_assert_eq(classify(&ctl, ctl_in, 2), BTC_MP_NONE);
    cb_coin pc_in[] = {coin(&pa, 2)};
    cb_pay pc_out[] = {{P[0], 2000000}, {U3, 496000000}};
    PAY(pc, "pc", pc_in, pc_out);
    mine(s, (long)b3, NULL, 0, TXS(&ctl, &pc));
    write_blocks(s);
    const char *dd = datadir(s, "dd");
    char *out = replay_opts(s, dd, NULL, NULL);
    /* one merge (ctl); the two joins counted by kind; 5 + 6 + 1 outputs carry taint on */
    cr_assert(strstr(out, "  clusters    1 merges, 2 multi-party txs not merged (whirlpool 1) (equal_outputs 1), "
                          "0 grew past the size limit (no propagation)\n"),
              "%s", out);
    /* each skip's reason is kept: the detector's words and the tx */
    cr_assert(strstr(out, "not merged, e.g. whirlpool ") && strstr(out, ": 5 inputs, 5 equal outputs of 0.01 BTC (Whirlpool pool)\n"),
              "%s", out);
    cr_assert(strstr(out, "not merged, e.g. equal_outputs ") && strstr(out, ": 4 inputs, 4 of 6 outputs equal at 0.015 BTC\n"),
              "%s", out);
    cr_assert(strstr(out, "  exposure    12 outputs carrying designated money\n"), "%s", out);
    free(out);
    EXPECT(s, dd,
           "DA cb1 to_designated D amt=23000000 @1", /* three coinbase outputs to D: one record, summed */
           "DA wp from_designated D amt=1000000 @2",
           /* D's 1 of 5 inputs: 20% of every output */
           "EXP wp O1 hops=1 ppm=200000 amt=200000 of=1000000 ev=wp src=D review/high w=0 @2",
           "EXP wp O2 hops=1 ppm=200000 amt=200000 of=1000000 ev=wp src=D review/high w=0 @2",
           "EXP wp O3 hops=1 ppm=200000 amt=200000 of=1000000 ev=wp src=D review/high w=0 @2",
           "EXP wp O4 hops=1 ppm=200000 amt=200000 of=1000000 ev=wp src=D review/high w=0 @2",
           "EXP wp O5 hops=1 ppm=200000 amt=200000 of=1000000 ev=wp src=D review/high w=0 @2",
           "DA ej from_designated D amt=2000000 @2",
           /* D's 2 of 8 million: 25% */
           "EXP ej R1 hops=1 ppm=250000 amt=375000 of=1500000 ev=ej src=D review/high w=0 @2",
           "EXP ej R2 hops=1 ppm=250000 amt=375000 of=1500000 ev=ej src=D review/high w=0 @2",
           "EXP ej R3 hops=1 ppm=250000 amt=375000 of=1500000 ev=ej src=D review/high w=0 @2",
           "EXP ej R4 hops=1 ppm=250000 amt=375000 of=1500000 ev=ej src=D review/high w=0 @2",
           "EXP ej C1 hops=1 ppm=250000 amt=150000 of=600000 ev=ej src=D review/high w=0 @2",
           "EXP ej C2 hops=1 ppm=250000 amt=350000 of=1400000 ev=ej src=D review/high w=0 @2",
           /* nothing at height 3: pa and pb involve only strangers to D */
           "DA ctl from_designated D amt=20000000 @4",
           "HIT ctl from_designated P1 amt=10000000 member=D root=D size=2 desig=1 ev=ctl hold/high w=0 @4",
           "EXP ctl Z hops=1 ppm=1000000 amt=30000000 of=30000000 ev=ctl src=D review/high w=0 @4",
           "HIT pc to_designated P1 amt=2000000 member=D root=D size=2 desig=1 ev=pc,ctl hold/high w=0 @4");
    cb_tx_free(&wp), cb_tx_free(&ej), cb_tx_free(&pa), cb_tx_free(&pb), cb_tx_free(&ctl), cb_tx_free(&pc);
    scene_free(s);
}

/* ---------- exposure: haircut shares, hops ---------- */

/* D pays E1/E2; E1 (25% of a tx's input) pays G1/G2; G1 (15%, a fee paid)
 * pays K1/K2; K1 pays L. Shares and amounts are exact integers. */
typedef struct {
    scene sc;
    cb_tx h1, h2, h3, h4;
    cw_addr K1;
} hops_chain;

static void build_hops_chain(hops_chain *hc)
{
    scene *s = &hc->sc;
    scene_new(s);
    cw_addr D = W("D", 10), E1 = W("E1", 70), E2 = W("E2", 71), F = W("F", 72), G1 = W("G1", 73), G2 = W("G2", 74),
            H = W("H", 75), K1 = W("K1", 76), K2 = W("K2", 77), Lx = W("L", 78);
    hc->K1 = K1;
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, 1 * BTC}, {F, 75000000}, {H, 40000000}};
    size_t b1 = mine(s, (long)b0, fund, 3, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    cb_coin h1_in[] = {cbc(s, b1, 1)};
    cb_pay h1_out[] = {{E1, 25000000}, {E2, 75000000}};
    PAY(hc->h1, "h1", h1_in, h1_out);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&hc->h1));
    /* 0.25 tainted + 0.75 clean in: 25% of each output */
    cb_coin h2_in[] = {coin(&hc->h1, 0), cbc(s, b1, 2)};
    cb_pay h2_out[] = {{G1, 60000000}, {G2, 40000000}};
    PAY(hc->h2, "h2", h2_in, h2_out);
    size_t b3 = mine(s, (long)b2, NULL, 0, TXS(&hc->h2));
    /* 0.15 tainted in 1 BTC in: 15% of each output; the 0.01 BTC fee takes its 15% along */
    cb_coin h3_in[] = {coin(&hc->h2, 0), cbc(s, b1, 3)};
    cb_pay h3_out[] = {{K1, 80000000}, {K2, 19000000}};
    PAY(hc->h3, "h3", h3_in, h3_out);
    size_t b4 = mine(s, (long)b3, NULL, 0, TXS(&hc->h3));
    cb_coin h4_in[] = {coin(&hc->h3, 0)};
    cb_pay h4_out[] = {{Lx, 80000000}};
    PAY(hc->h4, "h4", h4_in, h4_out);
    mine(s, (long)b4, NULL, 0, TXS(&hc->h4));
    write_blocks(s);
}

static void free_hops_chain(hops_chain *hc)
{
    cb_tx_free(&hc->h1), cb_tx_free(&hc->h2), cb_tx_free(&hc->h3), cb_tx_free(&hc->h4);
    scene_free(&hc->sc);
}

#define HOPS_1_2                                                                                                      \
    "DA cb1 to_designated D amt=100000000 @1", "DA h1 from_designated D amt=100000000 @2",                            \
        "EXP h1 E1 hops=1 ppm=1000000 amt=25000000 of=25000000 ev=h1 src=D review/high w=0 @2",                       \
        "EXP h1 E2 hops=1 ppm=1000000 amt=75000000 of=75000000 ev=h1 src=D review/high w=0 @2",                       \
        "EXP h2 G1 hops=2 ppm=250000 amt=15000000 of=60000000 ev=h1,h2 src=D review/high w=0 @3",                     \
        "EXP h2 G2 hops=2 ppm=250000 amt=10000000 of=40000000 ev=h1,h2 src=D review/high w=0 @3"
#define HOPS_3                                                                                                        \
    "EXP h3 K1 hops=3 ppm=150000 amt=12000000 of=80000000 ev=h1,h2,h3 src=D review/high w=0 @4",                      \
        "EXP h3 K2 hops=3 ppm=150000 amt=2850000 of=19000000 ev=h1,h2,h3 src=D review/high w=0 @4"

Test(flows, exposure_after_1_2_3_hops_and_the_default_limit)
{
    hops_chain hc;
    build_hops_chain(&hc);
    scene *s = &hc.sc;
    const char *dd = datadir(s, "dd");
    char *out = replay_opts(s, dd, NULL, NULL);
    /* h2 and h3 merge their two inputs: h2 (2 in, 2 out, F's 0.75 alone could pay either output)
     * has an unnecessary input, which ordinary wallets make and is no evidence of two owners
     * (coinjoin.h); E1, E2, G1, G2 carry taint on (hop 3 is the limit: K1, K2 do not) */
    cr_assert(strstr(out, "  clusters    2 merges, 0 multi-party txs not merged, 0 grew past the size "
                          "limit (no propagation)\n"),
              "%s", out);
    cr_assert(strstr(out, "  exposure    4 outputs carrying designated money\n"), "%s", out);
    free(out);
    /* hop 3 is the last kept: L, paid from K1 at hop 4, gets nothing */
    EXPECT(s, dd, HOPS_1_2, HOPS_3);
    free_hops_chain(&hc);
}

/* --payjoin-guard on (opt-in) leaves h2 unmerged as a possible PayJoin and
 * says why; exposure is the same (a skipped merge only leaves a cluster
 * less complete). */
Test(flows, payjoin_guard_is_opt_in)
{
    hops_chain hc;
    build_hops_chain(&hc);
    scene *s = &hc.sc;
    const char *dd = datadir(s, "dd");
    char *err;
    char *out = replay_opts(s, dd, OPTS("--payjoin-guard", "on"), &err);
    cr_assert(strstr(err, ", PayJoin guard on"), "%s", err);
    free(err);
    cr_assert(strstr(out, "  clusters    1 merges, 1 multi-party txs not merged (payjoin 1), 0 grew past the size "
                          "limit (no propagation)\n"),
              "%s", out);
    cr_assert(strstr(out, "an input of 0.75 BTC alone covers the largest output (0.6 BTC): 1 other input(s) unnecessary"),
              "%s", out);
    cr_assert(strstr(out, "  exposure    4 outputs carrying designated money\n"), "%s", out);
    free(out);
    EXPECT(s, dd, HOPS_1_2, HOPS_3);
    char *bad[] = {CW_BIN, "replay", "--blocksdir", s->blocks, "--datadir", (char *)datadir(s, "dd2"), "--network",
                   "regtest", "--payjoin-guard", "maybe", NULL};
    cr_assert_eq(run_cmd(bad, NULL, 0, &out, &err), 2, "%s%s", out, err);
    cr_assert(strstr(err, "--payjoin-guard takes on or off"), "%s", err);
    free(out);
    free(err);
    free_hops_chain(&hc);
}

Test(flows, hop_limit_2_stops_the_third_hop_even_for_a_watched_address)
{
    hops_chain hc;
    build_hops_chain(&hc);
    scene *s = &hc.sc;
    char watch[256], line[128];
    snprintf(watch, sizeof watch, "%.64s/watch.txt", s->root);
    snprintf(line, sizeof line, "# ours\n%s\n", text_of(&hc.K1));
    write_file(watch, line);
    const char *dd = datadir(s, "dd");
    replay(s, dd, OPTS("--hops", "2", "--watch", watch));
    EXPECT(s, dd, HOPS_1_2);
    free_hops_chain(&hc);
}

Test(flows, hop_limit_4_reaches_the_fourth_hop)
{
    hops_chain hc;
    build_hops_chain(&hc);
    scene *s = &hc.sc;
    const char *dd = datadir(s, "dd");
    replay(s, dd, OPTS("--hops=4"));
    EXPECT(s, dd, HOPS_1_2, HOPS_3,
           "EXP h4 L hops=4 ppm=150000 amt=12000000 of=80000000 ev=h1,h2,h3,h4 src=D review/high w=0 @5");
    free_hops_chain(&hc);
}

/* Taint of different hop counts mixed in one tx: J3 carries 0.5 BTC at hop
 * 2 (path a1, a3), J2 0.1 BTC at hop 1 (path a2). The output is 2 hops
 * from D (the fewest: DESIGN.md keeps the shortest hop count) and its
 * evidence is that path, as exposure.h says n_path == hops.
 * Failed on f70af8a (hops 2 with the largest input's path a1,a3,mix: three
 * txids); fixed on main by f70aaf7. */
Test(flows, mixed_hops_evidence_is_a_path_of_hops_txids)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr D = W("D", 10), N = W("N", 80), J1 = W("J1", 81), J2 = W("J2", 82), J3 = W("J3", 83), J4 = W("J4", 84),
            V = W("V", 85);
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, 1 * BTC}, {D, 10000000}, {N, 1 * BTC}};
    size_t b1 = mine(s, (long)b0, fund, 3, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    cb_tx a1, a2, a3, mix;
    cb_coin a1_in[] = {cbc(s, b1, 1)};
    cb_pay a1_out[] = {{J1, 1 * BTC}};
    PAY(a1, "a1", a1_in, a1_out);
    cb_coin a2_in[] = {cbc(s, b1, 2)};
    cb_pay a2_out[] = {{J2, 10000000}};
    PAY(a2, "a2", a2_in, a2_out);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&a1, &a2));
    cb_coin a3_in[] = {coin(&a1, 0), cbc(s, b1, 3)};
    cb_pay a3_out[] = {{J3, 1 * BTC}, {J4, 1 * BTC}};
    PAY(a3, "a3", a3_in, a3_out);
    size_t b3 = mine(s, (long)b2, NULL, 0, TXS(&a3));
    /* J3: 0.5 BTC tainted at hop 2 (path a1,a3); J2: 0.1 BTC tainted at hop 1 (path a2) */
    cb_coin mix_in[] = {coin(&a3, 0), coin(&a2, 0)};
    cb_pay mix_out[] = {{V, 110000000}};
    PAY(mix, "mix", mix_in, mix_out);
    mine(s, (long)b3, NULL, 0, TXS(&mix));
    write_blocks(s);
    const char *dd = datadir(s, "dd");
    replay(s, dd, NULL);
    json_t *all = alerts_read(dd);
    json_t *r = find_record(all, "indirect_exposure", mix.txid, &V);
    cr_assert_not_null(r);
    char line[1024];
    summarize(s, r, line, sizeof line);
    /* 0.6 of 1.1 BTC tainted */
    cr_assert_eq(num(r, "amount"), 60000000, "%s", line);
    cr_assert_eq(num(r, "share_ppm"), 545454, "%s", line);
    cr_assert_str_eq(str(r, "source_address"), text_of(&D));
    cr_assert_str_eq(line, "EXP mix V hops=2 ppm=545454 amt=60000000 of=110000000 ev=a2,mix src=D review/high w=0 @4");
    json_decref(all);
    cb_tx_free(&a1), cb_tx_free(&a2), cb_tx_free(&a3), cb_tx_free(&mix);
    scene_free(s);
}

/* ---------- thresholds and watched addresses ---------- */

Test(flows, thresholds_and_watched_addresses)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr D = W("D", 10), N = W("N", 80), N2 = W("N2", 86), N3 = W("N3", 87), M1 = W("M1", 88), M2 = W("M2", 89),
            R = W("R", 90), Wh = W("Wh", 91), E = W("E", 92), P1 = W("P1", 93), P2 = W("P2", 94), S1 = W("S1", 95),
            S2 = W("S2", 96), V1 = W("V1", 97), V2 = W("V2", 98), Q = W("Q", 99);
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, 1 * BTC}, {D, 20000},       {N, 199000000}, {D, BTC / 2},
                     {D, BTC / 10}, {N3, 90000000},  {N2, 9801000000ull}};
    size_t b1 = mine(s, (long)b0, fund, 7, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    cb_tx t1, t2, t3, t4, t5, t6, t7, t8;
    cb_coin t1_in[] = {cbc(s, b1, 1)};
    cb_pay t1_out[] = {{M1, 1000000}, {M2, 99000000}};
    PAY(t1, "t1", t1_in, t1_out);
    cb_coin t2_in[] = {cbc(s, b1, 2)};
    cb_pay t2_out[] = {{R, 20000}};
    PAY(t2, "t2", t2_in, t2_out);
    cb_coin t5_in[] = {cbc(s, b1, 4)};
    cb_pay t5_out[] = {{Wh, BTC / 2}};
    PAY(t5, "t5", t5_in, t5_out);
    cb_coin t6_in[] = {cbc(s, b1, 5)};
    cb_pay t6_out[] = {{E, BTC / 10}};
    PAY(t6, "t6", t6_in, t6_out);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&t1, &t2, &t5, &t6));
    /* 0.01 tainted of 2 BTC: 0.5% */
    cb_coin t3_in[] = {coin(&t1, 0), cbc(s, b1, 3)};
    cb_pay t3_out[] = {{P1, 150000000}, {P2, BTC / 2}};
    PAY(t3, "t3", t3_in, t3_out);
    /* all tainted, 20,000 sats split round 0.0001 BTC */
    cb_coin t4_in[] = {coin(&t2, 0)};
    cb_pay t4_out[] = {{S1, 9999}, {S2, 10001}};
    PAY(t4, "t4", t4_in, t4_out);
    /* 0.1 tainted of 1 BTC: exactly 10% */
    cb_coin t7_in[] = {coin(&t6, 0), cbc(s, b1, 6)};
    cb_pay t7_out[] = {{V1, BTC / 2}, {V2, BTC / 2}};
    PAY(t7, "t7", t7_in, t7_out);
    /* 0.99 tainted of 99 BTC: exactly 1% */
    cb_coin t8_in[] = {coin(&t1, 1), cbc(s, b1, 7)};
    cb_pay t8_out[] = {{Q, 9900000000ull}};
    PAY(t8, "t8", t8_in, t8_out);
    mine(s, (long)b2, NULL, 0, TXS(&t3, &t4, &t7, &t8));
    write_blocks(s);
    char watch[256], lines[512];
    snprintf(watch, sizeof watch, "%.64s/watch.txt", s->root);
    snprintf(lines, sizeof lines, "%s\n\n%s\n%s\n", text_of(&Wh), text_of(&P2), text_of(&V1));
    write_file(watch, lines);

#define THRESHOLDS_COMMON                                                                                             \
    "DA cb1 to_designated D amt=160020000 @1", "DA t1 from_designated D amt=100000000 @2",                            \
        "EXP t1 M1 hops=1 ppm=1000000 amt=1000000 of=1000000 ev=t1 src=D review/high w=0 @2",                         \
        "EXP t1 M2 hops=1 ppm=1000000 amt=99000000 of=99000000 ev=t1 src=D review/high w=0 @2",                       \
        "DA t2 from_designated D amt=20000 @2",                                                                       \
        "EXP t2 R hops=1 ppm=1000000 amt=20000 of=20000 ev=t2 src=D review/high w=0 @2",                              \
        "DA t5 from_designated D amt=50000000 @2", /* watched, 100%: held */                                          \
        "EXP t5 Wh hops=1 ppm=1000000 amt=50000000 of=50000000 ev=t5 src=D hold/high w=1 @2",                         \
        "DA t6 from_designated D amt=10000000 @2",                                                                    \
        "EXP t6 E hops=1 ppm=1000000 amt=10000000 of=10000000 ev=t6 src=D review/high w=0 @2",                        \
        /* 0.5%, 250,000 sats: below 1%, recorded only because P2 is watched; below 10%: review */                  \
        "EXP t3 P2 hops=2 ppm=5000 amt=250000 of=50000000 ev=t1,t3 src=D review/medium w=1 @3",                       \
        "EXP t4 S2 hops=2 ppm=1000000 amt=10001 of=10001 ev=t2,t4 src=D review/high w=0 @3",                          \
        /* exactly 1%: at the threshold */                                                                            \
        "EXP t8 Q hops=2 ppm=10000 amt=99000000 of=9900000000 ev=t1,t8 src=D review/medium w=0 @3"

    const char *dd = datadir(s, "dd");
    replay(s, dd, OPTS("--watch", watch));
    /* P1 (0.5%) and S1 (9,999 sats) are below the defaults: no record */
    EXPECT(s, dd, THRESHOLDS_COMMON,
           /* exactly 10%: a watched address is held, the other one reviewed */
           "EXP t7 V1 hops=2 ppm=100000 amt=5000000 of=50000000 ev=t6,t7 src=D hold/high w=1 @3",
           "EXP t7 V2 hops=2 ppm=100000 amt=5000000 of=50000000 ev=t6,t7 src=D review/high w=0 @3");

    const char *dd2 = datadir(s, "dd2");
    replay(s, dd2,
           OPTS("--watch", watch, "--min-exposure", "0.5%", "--min-exposure-amount", "0.00009999", "--hold-exposure",
                "0.2"));
    EXPECT(s, dd2, THRESHOLDS_COMMON,
           /* at the lowered thresholds now */
           "EXP t3 P1 hops=2 ppm=5000 amt=750000 of=150000000 ev=t1,t3 src=D review/medium w=0 @3",
           "EXP t4 S1 hops=2 ppm=1000000 amt=9999 of=9999 ev=t2,t4 src=D review/high w=0 @3",
           /* 10% is below a 20% hold: reviewed, medium */
           "EXP t7 V1 hops=2 ppm=100000 amt=5000000 of=50000000 ev=t6,t7 src=D review/medium w=1 @3",
           "EXP t7 V2 hops=2 ppm=100000 amt=5000000 of=50000000 ev=t6,t7 src=D review/medium w=0 @3");
    cb_tx_free(&t1), cb_tx_free(&t2), cb_tx_free(&t3), cb_tx_free(&t4), cb_tx_free(&t5), cb_tx_free(&t6);
    cb_tx_free(&t7), cb_tx_free(&t8);
    scene_free(s);
}

/* ---------- where designation and exposure stop ---------- */

/* X and S are a labelled exchange's. D's deposit into X is exposure, but
 * X's withdrawal carries nothing on; and once S joins D's cluster (A spends
 * with S), the cluster holds a service and designates nobody. Without the
 * labels the same chain propagates both ways. */
typedef struct {
    scene sc;
    cb_tx d1, m1, x1, m2, p1;
    char labels[256];
} service_chain;

static void build_service_chain(service_chain *v)
{
    scene *s = &v->sc;
    scene_new(s);
    cw_addr D = W("D", 10), A = W("A", 20), U = W("U", 30), U2 = W("U2", 31), Y = W("Y", 50), Z = W("Z", 60),
            Z2 = W("Z2", 61), X = W("X", 150), S = W("S", 151);
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, 1 * BTC}, {D, 30000000}, {A, 20000000}, {S, 10000000}, {U, 1 * BTC}, {A, 5000000}};
    size_t b1 = mine(s, (long)b0, fund, 6, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    cb_coin d1_in[] = {cbc(s, b1, 1)};
    cb_pay d1_out[] = {{X, 1 * BTC}};
    PAY(v->d1, "d1", d1_in, d1_out);
    cb_coin m1_in[] = {cbc(s, b1, 2), cbc(s, b1, 3)};
    cb_pay m1_out[] = {{Z, 50000000}};
    PAY(v->m1, "m1", m1_in, m1_out);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&v->d1, &v->m1));
    cb_coin x1_in[] = {coin(&v->d1, 0)};
    cb_pay x1_out[] = {{Y, 1 * BTC}};
    PAY(v->x1, "x1", x1_in, x1_out);
    cb_coin m2_in[] = {cbc(s, b1, 6), cbc(s, b1, 4)};
    cb_pay m2_out[] = {{Z2, 15000000}};
    PAY(v->m2, "m2", m2_in, m2_out);
    size_t b3 = mine(s, (long)b2, NULL, 0, TXS(&v->x1, &v->m2));
    cb_coin p1_in[] = {cbc(s, b1, 5)};
    cb_pay p1_out[] = {{A, 10000000}, {U2, 90000000}};
    PAY(v->p1, "p1", p1_in, p1_out);
    mine(s, (long)b3, NULL, 0, TXS(&v->p1));
    write_blocks(s);
    char rows[512];
    snprintf(v->labels, sizeof v->labels, "%.64s/labels.csv", s->root);
    snprintf(rows, sizeof rows,
             "chain,address,entity,category,source\nBTC,%s,TestExchange,exchange,test\n"
             "BTC,%s,TestExchange,exchange,test\n",
             text_of(&X), text_of(&S));
    write_file(v->labels, rows);
}

static void free_service_chain(service_chain *v)
{
    cb_tx_free(&v->d1), cb_tx_free(&v->m1), cb_tx_free(&v->x1), cb_tx_free(&v->m2), cb_tx_free(&v->p1);
    scene_free(&v->sc);
}

Test(flows, labelled_service_stops_exposure_and_designation)
{
    service_chain v;
    build_service_chain(&v);
    scene *s = &v.sc;
    const char *labels = v.labels;
#define SERVICE_COMMON                                                                                                \
    "DA cb1 to_designated D amt=130000000 @1", "DA d1 from_designated D amt=100000000 @2",                            \
        "EXP d1 X hops=1 ppm=1000000 amt=100000000 of=100000000 ev=d1 src=D review/high w=0 @2",                      \
        "DA m1 from_designated D amt=30000000 @2",                                                                    \
        "HIT m1 from_designated A amt=20000000 member=D root=D size=2 desig=1 ev=m1 hold/high w=0 @2",                \
        "EXP m1 Z hops=1 ppm=1000000 amt=50000000 of=50000000 ev=m1 src=D review/high w=0 @2"

    const char *dd = datadir(s, "dd");
    char *out = replay_opts(s, dd, OPTS("--labels", labels), NULL);
    /* m1 and m2 merge; only Z carries taint on (X is the exchange's, m2's cluster holds S) */
    cr_assert(strstr(out, "  clusters    2 merges, 0 multi-party txs not merged, 0 grew past the size limit (no "
                          "propagation)\n  exposure    1 outputs carrying designated money\n"),
              "%s", out);
    free(out);
    /* x1 (X's withdrawal), m2 (S joins), p1 (paying A): nothing */
    EXPECT(s, dd, SERVICE_COMMON);

    const char *dd2 = datadir(s, "nolabels");
    replay(s, dd2, NULL);
    EXPECT(s, dd2, SERVICE_COMMON,
           "EXP x1 Y hops=2 ppm=1000000 amt=100000000 of=100000000 ev=d1,x1 src=D review/high w=0 @3",
           "HIT m2 from_designated A amt=5000000 member=D root=D size=3 desig=1 ev=m2,m1 hold/high w=0 @3",
           "HIT m2 from_designated S amt=10000000 member=D root=D size=3 desig=1 ev=m2 hold/high w=0 @3",
           "EXP m2 Z2 hops=1 ppm=1000000 amt=15000000 of=15000000 ev=m2 src=D review/high w=0 @3",
           "HIT p1 to_designated A amt=10000000 member=D root=D size=3 desig=1 ev=p1,m1,m2 hold/high w=0 @4");
    free_service_chain(&v);
}

/* --cluster-limit 3: D's cluster of 3 still designates; the merge that
 * makes it 4 turns it into a supercluster, and nothing after is a hit
 * (D's own spends stay designated money). */
Test(flows, supercluster_stops_cluster_hits)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr D = W("D", 10), A = W("A", 20), B = W("B", 21), C = W("C", 22), U = W("U", 30), U2 = W("U2", 31),
            U3 = W("U3", 32), U4 = W("U4", 33), Z1 = W("Z1", 60), Z2 = W("Z2", 61), Z3 = W("Z3", 62),
            Z4 = W("Z4", 63), Z5 = W("Z5", 64);
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, BTC / 2},     {A, BTC / 2},     {A, 40000000}, {B, 30000000}, {B, 20000000},
                     {C, BTC / 10},    {U, 2 * BTC},     {D, 25000000}, {A, 15000000}};
    size_t b1 = mine(s, (long)b0, fund, 9, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    cb_tx s1, p1, s2, p2, s3, p3, d, a;
    cb_coin s1_in[] = {cbc(s, b1, 1), cbc(s, b1, 2)};
    cb_pay s1_out[] = {{Z1, 1 * BTC}};
    PAY(s1, "s1", s1_in, s1_out);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&s1));
    cb_coin p1_in[] = {cbc(s, b1, 7)};
    cb_pay p1_out[] = {{A, 10000000}, {U2, 190000000}};
    PAY(p1, "p1", p1_in, p1_out);
    cb_coin s2_in[] = {cbc(s, b1, 3), cbc(s, b1, 4)};
    cb_pay s2_out[] = {{Z2, 70000000}};
    PAY(s2, "s2", s2_in, s2_out);
    cb_coin p2_in[] = {coin(&p1, 1)};
    cb_pay p2_out[] = {{B, 10000000}, {U3, 180000000}};
    PAY(p2, "p2", p2_in, p2_out);
    size_t b3 = mine(s, (long)b2, NULL, 0, TXS(&p1, &s2, &p2));
    cb_coin s3_in[] = {cbc(s, b1, 5), cbc(s, b1, 6)};
    cb_pay s3_out[] = {{Z3, 30000000}};
    PAY(s3, "s3", s3_in, s3_out);
    cb_coin p3_in[] = {coin(&p2, 1)};
    cb_pay p3_out[] = {{A, 10000000}, {C, 10000000}, {U4, 160000000}};
    PAY(p3, "p3", p3_in, p3_out);
    cb_coin d_in[] = {cbc(s, b1, 8)};
    cb_pay d_out[] = {{Z4, 25000000}};
    PAY(d, "d", d_in, d_out);
    cb_coin a_in[] = {cbc(s, b1, 9)};
    cb_pay a_out[] = {{Z5, 15000000}};
    PAY(a, "a", a_in, a_out);
    mine(s, (long)b3, NULL, 0, TXS(&s3, &p3, &d, &a));
    write_blocks(s);

#define SUPER_COMMON                                                                                                  \
    "DA cb1 to_designated D amt=75000000 @1", "DA s1 from_designated D amt=50000000 @2",                              \
        "HIT s1 from_designated A amt=50000000 member=D root=D size=2 desig=1 ev=s1 hold/high w=0 @2",                \
        "EXP s1 Z1 hops=1 ppm=1000000 amt=100000000 of=100000000 ev=s1 src=D review/high w=0 @2",                     \
        "HIT p1 to_designated A amt=10000000 member=D root=D size=2 desig=1 ev=p1,s1 hold/high w=0 @3",               \
        /* size 3: at the limit, not past it */                                                                       \
        "HIT s2 from_designated A amt=40000000 member=D root=D size=3 desig=1 ev=s2,s1 hold/high w=0 @3",             \
        "HIT s2 from_designated B amt=30000000 member=D root=D size=3 desig=1 ev=s2 hold/high w=0 @3",                \
        "EXP s2 Z2 hops=1 ppm=1000000 amt=70000000 of=70000000 ev=s2 src=D review/high w=0 @3",                       \
        "HIT p2 to_designated B amt=10000000 member=D root=D size=3 desig=1 ev=p2,s2 hold/high w=0 @3",               \
        "DA d from_designated D amt=25000000 @4",                                                                     \
        "EXP d Z4 hops=1 ppm=1000000 amt=25000000 of=25000000 ev=d src=D review/high w=0 @4"

    const char *dd = datadir(s, "dd");
    char *out = replay_opts(s, dd, OPTS("--cluster-limit", "3"), NULL);
    cr_assert(strstr(out, "  clusters    3 merges, 0 multi-party txs not merged, 1 grew past the size limit (no "
                          "propagation)\n  exposure    3 outputs carrying designated money\n"),
              "%s", out);
    free(out);
    EXPECT(s, dd, SUPER_COMMON);

    const char *dd2 = datadir(s, "nolimit");
    replay(s, dd2, NULL);
    EXPECT(s, dd2, SUPER_COMMON,
           "HIT s3 from_designated B amt=20000000 member=D root=D size=4 desig=1 ev=s3,s2 hold/high w=0 @4",
           "HIT s3 from_designated C amt=10000000 member=D root=D size=4 desig=1 ev=s3 hold/high w=0 @4",
           "EXP s3 Z3 hops=1 ppm=1000000 amt=30000000 of=30000000 ev=s3 src=D review/high w=0 @4",
           "HIT p3 to_designated A amt=10000000 member=D root=D size=4 desig=1 ev=p3,s1,s3 hold/high w=0 @4",
           "HIT p3 to_designated C amt=10000000 member=D root=D size=4 desig=1 ev=p3,s3 hold/high w=0 @4",
           "HIT a from_designated A amt=15000000 member=D root=D size=4 desig=1 ev=a,s1,s3 hold/high w=0 @4",
           "EXP a Z5 hops=1 ppm=1000000 amt=15000000 of=15000000 ev=a src=D review/high w=0 @4");
    cb_tx_free(&s1), cb_tx_free(&p1), cb_tx_free(&s2), cb_tx_free(&p2), cb_tx_free(&s3), cb_tx_free(&p3);
    cb_tx_free(&d), cb_tx_free(&a);
    scene_free(s);
}

/* ---------- replay in parts, reorgs, live ---------- */

/* Every record of dd's file minus seen_at, sig, seq and prev (the fields
 * another datadir's run gives other values), as sorted canonical JSON
 * lines (only the latest record of each id when latest_only). *n gets the
 * count. */
static char *canonical_records(const char *dd, bool latest_only, const char *status, size_t *n)
{
    json_t *all = alerts_read(dd);
    size_t cnt = json_array_size(all), i, k = 0;
    char **lines = calloc(cnt + 1, sizeof *lines);
    json_t *r;
    json_array_foreach(all, i, r) {
        if (latest_only) { /* a later record of the same id replaces this one */
            bool later = false;
            for (size_t j = i + 1; j < cnt && !later; j++)
                later = strcmp(str(json_array_get(all, j), "id"), str(r, "id")) == 0;
            if (later)
                continue;
        }
        if (status && strcmp(str(r, "status"), status) != 0)
            continue;
        json_object_del(r, "seen_at");
        json_object_del(r, "sig");
        json_object_del(r, "seq");
        json_object_del(r, "prev");
        lines[k++] = json_dumps(r, JSON_SORT_KEYS | JSON_COMPACT);
    }
    char *out = join_sorted(lines, k);
    for (i = 0; i < k; i++)
        free(lines[i]);
    free(lines);
    json_decref(all);
    if (n)
        *n = k;
    return out;
}

/* One replay, and another datadir replaying the same blocks in parts
 * (--to 2, --to 3, then the rest): clusters and taint carried across runs
 * in the store give the same records, field for field. */
Test(flows, replay_in_parts_equals_one_replay)
{
    service_chain v;
    build_service_chain(&v);
    scene *s = &v.sc;
    const char *one = datadir(s, "one");
    replay(s, one, NULL);
    const char *parts = datadir(s, "parts");
    char *out = replay_opts(s, parts, OPTS("--to", "2"), NULL);
    cr_assert(strstr(out, "heights 0..2"), "%s", out);
    free(out);
    out = replay_opts(s, parts, OPTS("--to", "3"), NULL);
    cr_assert(strstr(out, "heights 3..3"), "%s", out);
    free(out);
    out = replay_opts(s, parts, NULL, NULL);
    cr_assert(strstr(out, "heights 4..4"), "%s", out);
    free(out);
    size_t n1, n2;
    char *a = canonical_records(one, false, NULL, &n1), *b = canonical_records(parts, false, NULL, &n2);
    cr_assert_eq(n1, 11, "%s", a);
    cr_assert_eq(n2, n1);
    cr_assert_str_eq(a, b);
    free(a), free(b);
    verify(parts);
    free_service_chain(&v);
}

/* A chain that forks after height 1: the losing branch (2a, 3a) merges D
 * and A and pays A; the winner (2b, 3b, 4b: more work) has its own merge
 * of two strangers, a payment from D, the same payment to A (no longer a
 * member of anything) and a payment to D. */
typedef struct {
    scene sc;
    cb_tx m1, pA, mB, pD2, pd;
    size_t b[8]; /* 0, 1, 2a, 3a, 2b, 3b, 4b */
    uint8_t lose[4][32], win[5][32];
} fork_chain;

enum { B0, B1, B2A, B3A, B2B, B3B, B4B };

static void build_fork_chain(fork_chain *f)
{
    scene *s = &f->sc;
    scene_new(s);
    cw_addr D = W("D", 10), A = W("A", 20), U = W("U", 30), U2 = W("U2", 31), X = W("X", 40), Y = W("Y", 50),
            K = W("K", 51), B1a = W("B1", 52), B2a = W("B2", 53);
    designate(s, D);
    f->b[B0] = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, 1 * BTC}, {A, 1 * BTC}, {U, 2 * BTC}, {U, BTC / 2}, {D, 30000000}, {B1a, 20000000},
                     {B2a, 20000000}};
    f->b[B1] = mine(s, (long)f->b[B0], fund, 7, NULL, 0);
    name_tx(s, &s->c.blocks[f->b[B1]].coinbase, "cb1");
    size_t b1 = f->b[B1];
    cb_coin m1_in[] = {cbc(s, b1, 1), cbc(s, b1, 2)};
    cb_pay m1_out[] = {{X, 2 * BTC}};
    PAY(f->m1, "m1", m1_in, m1_out);
    cb_coin pA_in[] = {cbc(s, b1, 3)};
    cb_pay pA_out[] = {{A, 10000000}, {U2, 190000000}};
    PAY(f->pA, "pA", pA_in, pA_out);
    cb_coin mB_in[] = {cbc(s, b1, 6), cbc(s, b1, 7)};
    cb_pay mB_out[] = {{Y, 40000000}};
    PAY(f->mB, "mB", mB_in, mB_out);
    cb_coin pD2_in[] = {cbc(s, b1, 5)};
    cb_pay pD2_out[] = {{K, 30000000}};
    PAY(f->pD2, "pD2", pD2_in, pD2_out);
    cb_coin pd_in[] = {cbc(s, b1, 4)};
    cb_pay pd_out[] = {{D, BTC / 2}};
    PAY(f->pd, "pd", pd_in, pd_out);
    f->b[B2A] = mine(s, (long)b1, NULL, 0, TXS(&f->m1));
    f->b[B3A] = mine(s, (long)f->b[B2A], NULL, 0, TXS(&f->pA));
    f->b[B2B] = mine(s, (long)b1, NULL, 0, TXS(&f->mB));
    f->b[B3B] = mine(s, (long)f->b[B2B], NULL, 0, TXS(&f->pA, &f->pD2));
    f->b[B4B] = mine(s, (long)f->b[B3B], NULL, 0, TXS(&f->pd));
    cr_assert_eq(cb_chain_path(&s->c, f->b[B3A], f->lose, 4), 4);
    cr_assert_eq(cb_chain_path(&s->c, f->b[B4B], f->win, 5), 5);
    write_blocks(s); /* every block, the losing branch first */
}

static void free_fork_chain(fork_chain *f)
{
    cb_tx_free(&f->m1), cb_tx_free(&f->pA), cb_tx_free(&f->mB), cb_tx_free(&f->pD2), cb_tx_free(&f->pd);
    scene_free(&f->sc);
}

#define WINNER_RECORDS                                                                                                \
    "DA cb1 to_designated D amt=130000000 @1", "DA pD2 from_designated D amt=30000000 @3",                            \
        "EXP pD2 K hops=1 ppm=1000000 amt=30000000 of=30000000 ev=pD2 src=D review/high w=0 @3",                      \
        "DA pd to_designated D amt=50000000 @4"
#define LOSER_RECORDS(suffix)                                                                                         \
    "DA m1 from_designated D amt=100000000 @2" suffix,                                                                \
        "HIT m1 from_designated A amt=100000000 member=D root=D size=2 desig=1 ev=m1 hold/high w=0 @2" suffix,        \
        "EXP m1 X hops=1 ppm=1000000 amt=200000000 of=200000000 ev=m1 src=D review/high w=0 @2" suffix,               \
        "HIT pA to_designated A amt=10000000 member=D root=D size=2 desig=1 ev=pA,m1 hold/high w=0 @3" suffix

/* Replay takes the best chain of the files: the merge on the losing branch
 * never happens, so the payment to A (in both branches) is no hit. */
Test(flows, reorg_replay_ignores_a_merge_on_the_losing_branch)
{
    fork_chain f;
    build_fork_chain(&f);
    scene *s = &f.sc;
    const char *dd = datadir(s, "dd");
    char *err, *out = replay_opts(s, dd, NULL, &err);
    cr_assert(strstr(err, "7 blocks (xor-obfuscated), best chain 0..4, 2 stale, 0 orphans"), "%s", err);
    free(out), free(err);
    EXPECT(s, dd, WINNER_RECORDS);
    /* control: the losing branch alone does merge, and pays A as a member */
    snprintf(s->blocks, sizeof s->blocks, "%.64s/lose", s->root);
    size_t lose[] = {f.b[B0], f.b[B1], f.b[B2A], f.b[B3A]};
    cr_assert_eq(cb_chain_write_some(&s->c, s->blocks, false, lose, 4), 0);
    const char *dd2 = datadir(s, "lose");
    replay(s, dd2, NULL);
    EXPECT(s, dd2, "DA cb1 to_designated D amt=130000000 @1", LOSER_RECORDS(""));
    free_fork_chain(&f);
}

/* `chainwatch watch` on dd, fed by the publisher at ep (rawtx and rawblock
 * only: mempool txs are recorded as they come), with the node's REST
 * interface at rest (or none) and more options. */
static pid_t start_watch(const char *dd, const char *ep, const char *rest, const char *const *extra)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char log[300], alerts[300], a1[200], a2[200], a3[200];
        snprintf(log, sizeof log, "%s/watch.log", dd);
        snprintf(alerts, sizeof alerts, "--alerts=%s/alerts.jsonl", dd);
        snprintf(a1, sizeof a1, "--zmqpubrawtx=%s", ep);
        snprintf(a2, sizeof a2, "--zmqpubrawblock=%s", ep);
        snprintf(a3, sizeof a3, "--rest=%s", rest ? rest : "");
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        char *argv[32] = {CW_BIN, "watch", "--datadir", (char *)dd, "--network", "regtest", a1, a2, alerts,
                          "--status-interval", "0"};
        int n = 11;
        if (rest)
            argv[n++] = a3;
        for (size_t i = 0; extra && extra[i] && n < 31; i++)
            argv[n++] = (char *)extra[i];
        argv[n] = NULL;
        execv(CW_BIN, argv);
        _exit(127);
    }
    return pid;
}

static char *slurp(const char *path)
{
    cw_buf b = CW_BUF_INIT;
    cw_read_file(path, 1 << 24, &b, NULL);
    cw_buf_append(&b, "", 1, NULL);
    return (char *)b.p;
}

/* Waits (up to ms) for a summary line in dd's records. */
static void wait_line(const scene *s, const char *dd, const char *line, int ms)
{
    char want[1100];
    snprintf(want, sizeof want, "%s\n", line);
    for (int waited = 0;; waited += 100) {
        char *got = summary(s, dd);
        bool found = strstr(got, want) != NULL;
        if (found || waited >= ms) {
            char path[300];
            snprintf(path, sizeof path, "%s/watch.log", dd);
            char *log = found ? NULL : slurp(path);
            cr_assert(found, "waited %d ms for \"%s\" in:\n%s\nwatch.log:\n%s", ms, line, got, log);
            free(got);
            return;
        }
        free(got);
        test_sleep_ms(100);
    }
}

/* The databases that make up confirmed state, as text: one line per key,
 * "<db> <key hex> <value hex>". */
static char *dump_state(const char *dd, store_db db)
{
    cw_store *st;
    cw_err err = {0};
    cr_assert_eq(store_open(dd, 0, true, &st, &err), CW_OK, "%s", err.msg);
    store_txn *t;
    cr_assert_eq(store_begin(st, false, &t, &err), CW_OK, "%s", err.msg);
    cw_buf out = CW_BUF_INIT;
    store_cursor *c;
    cr_assert_eq(store_cursor_open(t, db, &c, &err), CW_OK, "%s", err.msg);
    cw_span k, v;
    for (bool more = store_cursor_seek(c, NULL, 0, &k, &v); more; more = store_cursor_next(c, &k, &v)) {
        char *hk = malloc(k.n * 2 + 1), *hv = malloc(v.n * 2 + 1);
        cw_hex_encode(k.p, k.n, hk);
        cw_hex_encode(v.p, v.n, hv);
        char head[16];
        snprintf(head, sizeof head, "%d ", (int)db);
        cw_buf_append(&out, head, strlen(head), NULL);
        cw_buf_append(&out, hk, strlen(hk), NULL);
        cw_buf_append(&out, " ", 1, NULL);
        cw_buf_append(&out, hv, strlen(hv), NULL);
        cw_buf_append(&out, "\n", 1, NULL);
        free(hk), free(hv);
    }
    cw_buf_append(&out, "", 1, NULL);
    store_cursor_close(c);
    store_abort(t);
    store_close(st);
    return (char *)out.p;
}

/* `chainwatch watch` follows the node onto the losing branch (through REST,
 * from height 0), then the node reorganises to the winner: the merge is
 * taken back (the cluster_hit, exposure and designated records of the
 * losing blocks become `reorged`), and the store's clusters, taint,
 * exposure, coins and chain are byte for byte those of a datadir that only
 * ever saw the winner (a replay of the files). */
Test(flows, reorg_live_takes_the_merge_back, .timeout = 120)
{
    fork_chain f;
    build_fork_chain(&f);
    scene *s = &f.sc;
    rest_server *srv = rest_server_start();
    cr_assert_not_null(srv);
    for (size_t i = 0; i < s->c.n; i++)
        rest_server_add_block(srv, s->c.blocks[i].raw.p, s->c.blocks[i].raw.n);
    rest_server_set_chain(srv, (const uint8_t(*)[32])f.lose, 4);
    const char *live = datadir(s, "live");
    zpub *pub = zpub_start();
    pid_t pid = start_watch(live, zpub_endpoint(pub), rest_server_url(srv), OPTS("--start-height=0"));
    watch_wait_ready(live, pub);
    /* caught up with the node on the losing branch: A is D's */
    wait_line(s, live, "HIT pA to_designated A amt=10000000 member=D root=D size=2 desig=1 ev=pA,m1 hold/high w=0 @3",
              20000);
    /* the node switches to the longer branch and announces its tip */
    rest_server_set_chain(srv, (const uint8_t(*)[32])f.win, 5);
    const cb_block *tip = &s->c.blocks[f.b[B4B]];
    zpub_send(pub, "rawblock", tip->raw.p, tip->raw.n);
    wait_line(s, live, "DA pd to_designated D amt=50000000 @4", 20000);
    watch_stop(pid);
    zpub_stop(pub);
    rest_server_stop(srv);
    EXPECT(s, live, WINNER_RECORDS, LOSER_RECORDS(""), LOSER_RECORDS(" reorged"));
    verify(live);

    const char *once = datadir(s, "once");
    replay(s, once, NULL);
    EXPECT(s, once, WINNER_RECORDS);
    /* what stands confirmed live is what the replay recorded */
    size_t n1, n2;
    char *a = canonical_records(live, true, "confirmed", &n1), *b = canonical_records(once, false, NULL, &n2);
    cr_assert_eq(n1, 4, "%s", a);
    cr_assert_str_eq(a, b);
    free(a), free(b);
    static const store_db dbs[] = {STORE_CLUSTER, STORE_CLUSTER_INFO, STORE_TAINT, STORE_EXPOSURE,
                                   STORE_UTXO,    STORE_CHAIN,        STORE_JOURNAL};
    static const char *const names[] = {"cluster", "cluster_info", "taint", "exposure", "utxo", "chain", "journal"};
    for (size_t i = 0; i < sizeof dbs / sizeof *dbs; i++) {
        char *x = dump_state(live, dbs[i]), *y = dump_state(once, dbs[i]);
        cr_assert_str_eq(x, y, "%s differs after the reorg:\n--- live:\n%s--- replay of the winner:\n%s", names[i], x, y);
        free(x), free(y);
    }
    /* and the winner's own merge is there: B1 and B2 are one cluster */
    char *cl = dump_state(live, STORE_CLUSTER);
    cr_assert_gt(strlen(cl), 0, "the winner's merge of B1 and B2 is in the store");
    free(cl);
    /* `chainwatch cluster` says the same in both datadirs: A alone again, B1 with B2 */
    static const char *const who[] = {"A", "D", "B1", "B2"};
    for (size_t i = 0; i < 4; i++) {
        const char *text = NULL;
        for (size_t k = 0; k < s->n_names && !text; k++)
            if (strcmp(s->names[k].name, who[i]) == 0)
                text = s->names[k].hex;
        cr_assert_not_null(text);
        char *o[2], *e[2];
        const char *dds[2] = {live, once};
        for (int k = 0; k < 2; k++) {
            char *argv[] = {CW_BIN, "cluster", (char *)text, "--datadir", (char *)dds[k], "--network", "regtest", NULL};
            cr_assert_eq(run_cmd(argv, NULL, 0, &o[k], &e[k]), 0, "%s", e[k]);
        }
        cr_assert_str_eq(o[0], o[1], "chainwatch cluster %s", who[i]);
        json_t *j = json_loads(o[0], 0, NULL);
        cr_assert_not_null(j, "%s", o[0]);
        bool b = who[i][0] == 'B';
        cr_assert_eq(num(j, "size"), b ? 2 : 1, "%s: %s", who[i], o[0]);
        cr_assert_eq(json_is_true(json_object_get(j, "merged")), b, "%s: %s", who[i], o[0]);
        json_decref(j);
        for (int k = 0; k < 2; k++)
            free(o[k]), free(e[k]);
    }
    free_fork_chain(&f);
}

/* A tx seen in the mempool and then in a block gives the same findings:
 * flows.h runs one analysis for both ("without a journal: the same
 * findings, nothing written"). A tx that itself merges D and A: in the
 * block, A pays as D's member (a cluster hit) and all of X is designated
 * money; in the mempool nothing merged yet.
 * Failed on f70af8a (the mempool sighting had no cluster_hit for A, and
 * X's exposure was 50%: D's input of 2, not 100%); fixed on main by
 * f70aaf7. */
Test(flows, mempool_sighting_of_a_merging_tx_has_the_block_findings, .timeout = 60)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr D = W("D", 10), A = W("A", 20), X = W("X", 40);
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, 1 * BTC}, {A, 1 * BTC}};
    size_t b1 = mine(s, (long)b0, fund, 2, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    cb_tx m1;
    cb_coin m1_in[] = {cbc(s, b1, 1), cbc(s, b1, 2)};
    cb_pay m1_out[] = {{X, 2 * BTC}};
    PAY(m1, "m1", m1_in, m1_out);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&m1));
    const char *dd = datadir(s, "dd");
    zpub *pub = zpub_start();
    pid_t pid = start_watch(dd, zpub_endpoint(pub), NULL, NULL);
    watch_wait_ready(dd, pub);
    zpub_send(pub, "rawblock", s->c.blocks[b0].raw.p, s->c.blocks[b0].raw.n);
    zpub_send(pub, "rawblock", s->c.blocks[b1].raw.p, s->c.blocks[b1].raw.n);
    wait_line(s, dd, "DA cb1 to_designated D amt=100000000 @1", 20000);
    zpub_send(pub, "rawtx", m1.full.p, m1.full.n);
    wait_line(s, dd, "DA m1 from_designated D amt=100000000 mempool", 20000);
    zpub_send(pub, "rawblock", s->c.blocks[b2].raw.p, s->c.blocks[b2].raw.n);
    wait_line(s, dd, "DA m1 from_designated D amt=100000000 @2", 20000);
    watch_stop(pid);
    zpub_stop(pub);
    /* "rule address amount share hops" of each sighting */
    json_t *all = alerts_read(dd);
    char seen[2][4096] = {"", ""};
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r) {
        if (strcmp(str(r, "txid"), cb_txid_hex(m1.txid, (char[65]){0})) != 0)
            continue;
        int k = strcmp(str(r, "status"), "mempool") == 0 ? 0 : 1;
        cat(seen[k], sizeof seen[k], "%s %s %s amt=%lld ppm=%lld hops=%lld\n", str(r, "rule"), str(r, "direction"),
            name_of(s, str(r, "address")), num(r, "amount"), num(r, "share_ppm"), num(r, "hops"));
    }
    json_decref(all);
    char *got = summary(s, dd);
    cr_assert_str_eq(seen[0], seen[1], "the mempool sighting and the block disagree:\n%s", got);
    free(got);
    cb_tx_free(&m1);
    scene_free(s);
}

/* Inputs the prevout index does not know (a replay or a watch that starts
 * after they were made): chainwatch still finds the spender from the spend
 * itself (hint.h) and so clusters D and A and sees D pay. When every input
 * is designated money (D alone; D with A, now D's member), the outputs are
 * designated money whatever the inputs' values: flows.h step 2 ("carries
 * fully tainted value") and the denominator for unknown inputs ("judge by
 * what the tx pays out") give 100%.
 * Before the fix: an unresolved source input counts as 0 tainted
 * satoshis, so nothing propagates (no exposure for X, Y, nor Z at hop 2). */
Test(flows, designated_spend_of_an_unknown_prevout_still_taints)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr D = W("D", 10), A = W("A", 20), X = W("X", 40), Y = W("Y", 50), Z = W("Z", 60);
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, 1 * BTC}, {A, 1 * BTC}, {D, BTC / 2}};
    size_t b1 = mine(s, (long)b0, fund, 3, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    cb_tx m1, d1, px;
    cb_coin m1_in[] = {cbc(s, b1, 1), cbc(s, b1, 2)};
    cb_pay m1_out[] = {{X, 2 * BTC}};
    PAY(m1, "m1", m1_in, m1_out);
    cb_coin d1_in[] = {cbc(s, b1, 3)};
    cb_pay d1_out[] = {{Y, BTC / 2}};
    PAY(d1, "d1", d1_in, d1_out);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&m1, &d1));
    cb_coin px_in[] = {coin(&m1, 0)};
    cb_pay px_out[] = {{Z, 2 * BTC}};
    PAY(px, "pX", px_in, px_out);
    mine(s, (long)b2, NULL, 0, TXS(&px));
    write_blocks(s);
#define UNKNOWN_EXPOSURE                                                                                              \
    "EXP m1 X hops=1 ppm=1000000 amt=200000000 of=200000000 ev=m1 src=D review/high w=0 @2",                          \
        "EXP d1 Y hops=1 ppm=1000000 amt=50000000 of=50000000 ev=d1 src=D review/high w=0 @2",                        \
        "EXP pX Z hops=2 ppm=1000000 amt=200000000 of=200000000 ev=m1,pX src=D review/high w=0 @3"
    /* control: from height 0 every input is known */
    const char *all = datadir(s, "all");
    replay(s, all, NULL);
    EXPECT(s, all, "DA cb1 to_designated D amt=150000000 @1", "DA m1 from_designated D amt=100000000 @2",
           "HIT m1 from_designated A amt=100000000 member=D root=D size=2 desig=1 ev=m1 hold/high w=0 @2",
           "DA d1 from_designated D amt=50000000 @2", UNKNOWN_EXPOSURE);
    /* from height 2: block 1's outputs are unknown; the amounts spent are too */
    const char *late = datadir(s, "late");
    char *out = replay_opts(s, late, OPTS("--from", "2"), NULL);
    cr_assert(strstr(out, "1 resolved from the prevout index, 3 unresolved"), "%s", out);
    free(out);
    EXPECT(s, late, "DA m1 from_designated D amt=0 @2",
           "HIT m1 from_designated A amt=0 member=D root=D size=2 desig=1 ev=m1 hold/high w=0 @2",
           "DA d1 from_designated D amt=0 @2", UNKNOWN_EXPOSURE);
    cb_tx_free(&m1), cb_tx_free(&d1), cb_tx_free(&px);
    scene_free(s);
}

/* One record per tx, rule and address (the alert id): when a member pays
 * from two coins, or one address is paid twice, the record must count
 * both, as designated_address records do ("several outputs to one address:
 * one alert, summed").
 * Before the fix: each coin and output is a finding of its own, the
 * first one's record is kept (HIT amount 30000000, EXP 25000000 of
 * 25000000) and the second is dropped as already recorded. */
Test(flows, one_record_per_address_counts_all_its_coins)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr D = W("D", 10), A = W("A", 20), X = W("X", 40), Z = W("Z", 60);
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, 1 * BTC}, {A, 1 * BTC}, {A, 30000000}, {A, 20000000}};
    size_t b1 = mine(s, (long)b0, fund, 4, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    cb_tx m1, a2;
    cb_coin m1_in[] = {cbc(s, b1, 1), cbc(s, b1, 2)};
    cb_pay m1_out[] = {{Z, 2 * BTC}};
    PAY(m1, "m1", m1_in, m1_out);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&m1));
    cb_coin a2_in[] = {cbc(s, b1, 3), cbc(s, b1, 4)};
    cb_pay a2_out[] = {{X, 25000000}, {X, 25000000}};
    PAY(a2, "a2", a2_in, a2_out);
    mine(s, (long)b2, NULL, 0, TXS(&a2));
    write_blocks(s);
    const char *dd = datadir(s, "dd");
    replay(s, dd, NULL);
    EXPECT(s, dd, "DA cb1 to_designated D amt=100000000 @1", "DA m1 from_designated D amt=100000000 @2",
           "HIT m1 from_designated A amt=100000000 member=D root=D size=2 desig=1 ev=m1 hold/high w=0 @2",
           "EXP m1 Z hops=1 ppm=1000000 amt=200000000 of=200000000 ev=m1 src=D review/high w=0 @2",
           "HIT a2 from_designated A amt=50000000 member=D root=D size=2 desig=1 ev=a2,m1 hold/high w=0 @3",
           "EXP a2 X hops=1 ppm=1000000 amt=50000000 of=50000000 ev=a2 src=D review/high w=0 @3");
    cb_tx_free(&m1), cb_tx_free(&a2);
    scene_free(s);
}

/* A consolidation of 70 addresses (D and 69 others): common-input
 * ownership puts all 70 in one cluster (flows.h step 1: "the input
 * addresses merge"; cluster.h: "a tx's inputs beyond [64 clusters] merge in
 * later calls"). Payments to the first and the last of them are hits on a
 * cluster of 70.
 * Before the fix: flows_tx calls cluster_merge once, which stops at 64
 * distinct clusters: A64..A69 never join, the payment to A69 is no hit and
 * the cluster has 64 members. */
Test(flows, consolidation_of_70_addresses_is_one_cluster)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr D = W("D", 10), U = W("U", 30), U2 = W("U2", 31), U3 = W("U3", 32), Z = W("Z", 60), Am[69];
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[72];
    fund[0] = (cb_pay){s->miner, 50 * BTC};
    fund[1] = (cb_pay){D, 1000000};
    for (int i = 0; i < 69; i++) {
        char nm[8];
        snprintf(nm, sizeof nm, "A%d", i + 1);
        Am[i] = addr(s, nm, CW_ADDR_P2WPKH, 300 + (uint32_t)i);
        fund[2 + i] = (cb_pay){Am[i], 1000000};
    }
    fund[71] = (cb_pay){U, 1 * BTC};
    size_t b1 = cb_chain_mine(&s->c, (long)b0, fund, 72, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    cb_coin in[70];
    for (int i = 0; i < 70; i++)
        in[i] = cbc(s, b1, (uint32_t)(1 + i));
    cb_pay c_out[] = {{Z, 70000000}};
    cb_tx c, p1, p2;
    pay(s, &c, "c", in, 70, c_out, 1);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&c));
    cb_coin p1_in[] = {cbc(s, b1, 71)};
    cb_pay p1_out[] = {{Am[0], 1000000}, {U2, 99000000}};
    PAY(p1, "p1", p1_in, p1_out);
    cb_coin p2_in[] = {coin(&p1, 1)};
    cb_pay p2_out[] = {{Am[68], 1000000}, {U3, 98000000}};
    PAY(p2, "p2", p2_in, p2_out);
    mine(s, (long)b2, NULL, 0, TXS(&p1, &p2));
    write_blocks(s);
    const char *dd = datadir(s, "dd");
    replay(s, dd, NULL);
    json_t *all = alerts_read(dd);
    json_t *h1 = find_record(all, "cluster_hit", p1.txid, &Am[0]), *h69 = find_record(all, "cluster_hit", p2.txid, &Am[68]);
    char *got = summary(s, dd);
    cr_assert_not_null(h1, "no hit for the payment to A1:\n%s", got);
    cr_assert_eq(num(json_object_get(h1, "cluster"), "size"), 70, "%s", got);
    cr_assert_not_null(h69, "no hit for the payment to A69:\n%s", got);
    cr_assert_eq(num(json_object_get(h69, "cluster"), "size"), 70, "%s", got);
    free(got);
    json_decref(all);
    cb_tx_free(&c), cb_tx_free(&p1), cb_tx_free(&p2);
    scene_free(s);
}

/* --clusters off: designated addresses only. */
Test(flows, clusters_off_records_designated_addresses_only)
{
    service_chain v;
    build_service_chain(&v);
    scene *s = &v.sc;
    const char *dd = datadir(s, "dd");
    char *err, *out = replay_opts(s, dd, OPTS("--clusters", "off"), &err);
    cr_assert(strstr(err, "clusters and exposure off"), "%s", err);
    free(out), free(err);
    EXPECT(s, dd, "DA cb1 to_designated D amt=130000000 @1", "DA d1 from_designated D amt=100000000 @2",
           "DA m1 from_designated D amt=30000000 @2");
    free_service_chain(&v);
}

/* Each sighting's summary lines of the txs named, without their status:
 * seen[0] the mempool's, seen[1] the block's at `height`. */
static void split_sightings(const char *all, const char *const *txs, int height, char seen[2][4096])
{
    char at[16];
    snprintf(at, sizeof at, " @%d", height);
    seen[0][0] = seen[1][0] = '\0';
    char *copy = strdup(all);
    for (char *line = copy, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        *nl = '\0';
        const char *name = strchr(line, ' '); /* after "DA", "HIT" or "EXP" */
        bool ours = false;
        for (size_t i = 0; name && txs[i] && !ours; i++)
            ours = strncmp(name + 1, txs[i], strlen(txs[i])) == 0 && name[1 + strlen(txs[i])] == ' ';
        char *mp = strstr(line, " mempool"), *bl = strstr(line, at);
        if (!ours || (!mp && !bl))
            continue;
        int k = mp ? 0 : 1;
        *(mp ? mp : bl) = '\0';
        cat(seen[k], 4096, "%s\n", line);
    }
    free(copy);
}

/* A watcher sees blocks 0..last, then m in the mempool (k3 after it, a
 * marker: m is handled when k3's line is there), then block b3 with both;
 * returns the summary of every record. */
static char *mempool_then_block(scene *s, const char *dd, size_t last, const char *connected, const cb_tx *m,
                                const cb_tx *k3, size_t b3)
{
    zpub *pub = zpub_start();
    pid_t pid = start_watch(dd, zpub_endpoint(pub), NULL, NULL);
    watch_wait_ready(dd, pub);
    for (size_t b = 0; b <= last; b++)
        zpub_send(pub, "rawblock", s->c.blocks[b].raw.p, s->c.blocks[b].raw.n);
    wait_line(s, dd, connected, 20000);
    zpub_send(pub, "rawtx", m->full.p, m->full.n);
    zpub_send(pub, "rawtx", k3->full.p, k3->full.n);
    wait_line(s, dd, "DA k3 to_designated D amt=90000000 mempool", 20000);
    zpub_send(pub, "rawblock", s->c.blocks[b3].raw.p, s->c.blocks[b3].raw.n);
    wait_line(s, dd, "DA k3 to_designated D amt=90000000 @3", 20000);
    watch_stop(pid);
    zpub_stop(pub);
    return summary(s, dd);
}

/* The mempool sighting of a merging tx, continued: the cluster the inputs
 * will form must be the one the block forms. m1 merges two clusters of one
 * (A first, then D2: the tie goes to the smaller key, D2, as root); m2
 * merges the exchange's labelled S into D's cluster, which then designates
 * nobody. Each tx's records must read the same in the mempool as in its
 * block (status and block aside).
 * Before the fix: the read-only merge in flows_tx takes the first
 * input's root on a tie (root A in the mempool, D2 in the block) and knows
 * no labels for addresses never merged (S is no service in the mempool:
 * cluster hits for A2 and S and exposure for Z2 that the block does not
 * have). */
Test(flows, mempool_sighting_forms_the_blocks_cluster, .timeout = 60)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr D = W("D", 10), D2 = W("D2", 11), A = W("A", 20), A2 = W("A2", 21), X = W("X", 40), Z = W("Z", 60),
            Z2 = W("Z2", 61), S = W("S", 151);
    designate(s, D);
    designate(s, D2);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, 1 * BTC},    {A, 1 * BTC},   {D, 20000000}, {A2, 30000000},
                     {A2, 5000000},   {S, 10000000},  {D2, 1 * BTC}};
    size_t b1 = mine(s, (long)b0, fund, 7, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    cb_tx k1, m1, m2;
    cb_coin k1_in[] = {cbc(s, b1, 3), cbc(s, b1, 4)};
    cb_pay k1_out[] = {{Z, 50000000}};
    PAY(k1, "k1", k1_in, k1_out);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&k1));
    cb_coin m1_in[] = {cbc(s, b1, 2), cbc(s, b1, 7)};
    cb_pay m1_out[] = {{X, 2 * BTC}};
    PAY(m1, "m1", m1_in, m1_out);
    cb_coin m2_in[] = {cbc(s, b1, 5), cbc(s, b1, 6)};
    cb_pay m2_out[] = {{Z2, 15000000}};
    PAY(m2, "m2", m2_in, m2_out);
    size_t b3 = mine(s, (long)b2, NULL, 0, TXS(&m1, &m2));
    char labels[256], rows[256];
    snprintf(labels, sizeof labels, "%.64s/labels.csv", s->root);
    snprintf(rows, sizeof rows, "chain,address,entity,category,source\nBTC,%s,TestExchange,exchange,test\n", text_of(&S));
    write_file(labels, rows);
    const char *dd = datadir(s, "dd");
    zpub *pub = zpub_start();
    char lab[300];
    snprintf(lab, sizeof lab, "--labels=%s", labels);
    pid_t pid = start_watch(dd, zpub_endpoint(pub), NULL, OPTS(lab));
    watch_wait_ready(dd, pub);
    for (size_t b = b0; b <= b2; b++)
        zpub_send(pub, "rawblock", s->c.blocks[b].raw.p, s->c.blocks[b].raw.n);
    wait_line(s, dd, "DA k1 from_designated D amt=20000000 @2", 20000);
    zpub_send(pub, "rawtx", m1.full.p, m1.full.n);
    zpub_send(pub, "rawtx", m2.full.p, m2.full.n);
    zpub_send(pub, "rawblock", s->c.blocks[b3].raw.p, s->c.blocks[b3].raw.n);
    wait_line(s, dd, "DA m1 from_designated D2 amt=100000000 @3", 20000);
    watch_stop(pid);
    zpub_stop(pub);
    /* the block's records, as replay would write them */
    char *all = summary(s, dd);
    cr_assert(strstr(all, "HIT m1 from_designated A amt=100000000 member=D2 root=D2 size=2 desig=1 ev=m1 hold/high w=0 @3\n"),
              "%s", all);
    cr_assert_null(strstr(all, "HIT m2 from_designated A2 amt=5000000 member=D root=D size=3 desig=1 ev=m2,k1 hold/high "
                               "w=0 @3\n"),
                   "S is the exchange's: %s", all);
    /* each sighting's lines without their status and height */
    char seen[2][4096];
    split_sightings(all, (const char *const[]){"m1", "m2", NULL}, 3, seen);
    cr_assert_str_eq(seen[0], seen[1], "mempool (first) and block (second) disagree; all records:\n%s", all);
    free(all);
    cb_tx_free(&k1), cb_tx_free(&m1), cb_tx_free(&m2);
    scene_free(s);
}


/* The labels file is an option of each run: a datadir that merged S into
 * D's cluster before S was labelled must stop designating once the labels
 * arrive (cluster_refresh marks the clusters labelled addresses are in), as one
 * replay with the labels from the start (the first test above) does. */
Test(flows, labels_given_later_still_stop_a_cluster)
{
    service_chain v;
    build_service_chain(&v);
    scene *s = &v.sc;
    const char *dd = datadir(s, "dd");
    replay(s, dd, OPTS("--to", "3"));
    replay(s, dd, OPTS("--labels", v.labels));
    char *got = summary(s, dd);
    cr_assert_null(strstr(got, "HIT p1 "), "A is in a cluster with the exchange's S:\n%s", got);
    free(got);
    free_service_chain(&v);
}


/* OFAC designates an address whose wallet chainwatch merged months ago: the
 * import that lists D must make D's existing cluster designated (cluster_refresh
 * recounts after an import), so the next payment to D's co-spender A is a
 * cluster hit naming D, with the cluster's size and the merging tx. */
Test(flows, a_later_import_designates_an_existing_cluster)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr D = W("D", 10), A = W("A", 20), U = W("U", 30), X = W("X", 40), Z = W("Z", 90);
    designate(s, Z); /* the list before: D is not on it */
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, 1 * BTC}, {A, 2 * BTC}, {U, 5 * BTC}};
    size_t b1 = mine(s, (long)b0, fund, 3, NULL, 0);
    cb_tx m1, p1;
    cb_coin m1_in[] = {cbc(s, b1, 1), cbc(s, b1, 2)};
    cb_pay m1_out[] = {{X, 299990000}};
    PAY(m1, "m1", m1_in, m1_out);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&m1));
    cb_coin p1_in[] = {cbc(s, b1, 3)};
    cb_pay p1_out[] = {{A, 30000000}, {U, 469990000}};
    PAY(p1, "p1", p1_in, p1_out);
    mine(s, (long)b2, NULL, 0, TXS(&p1));
    write_blocks(s);
    const char *dd = datadir(s, "dd");
    replay(s, dd, OPTS("--to", "2"));
    json_t *before = alerts_read(dd);
    cr_assert_eq(json_array_size(before), 0, "nothing designated yet");
    json_decref(before);
    /* the new list names D too */
    char csv[512], path[40000];
    snprintf(csv, sizeof csv, "chain,address,entity,program,note\nbitcoin,%s,Test front 1,DPRK3,\nbitcoin,%s,Late designee,DPRK3,\n",
             text_of(&Z), text_of(&D));
    snprintf(path, sizeof path, "%s/list2.csv", s->root);
    write_file(path, csv);
    char *out, *err;
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", path, "--datadir", (char *)dd, NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    replay(s, dd, NULL);
    json_t *all = alerts_read(dd);
    json_t *r = find_record(all, "cluster_hit", p1.txid, &A);
    cr_assert_not_null(r, "the payment to A after D's designation is a cluster hit");
    cr_assert_str_eq(str(r, "direction"), "to_designated");
    cr_assert_str_eq(str(r, "designated_member"), text_of(&D));
    cr_assert_eq(num(json_object_get(r, "cluster"), "size"), 2);
    cr_assert_eq(num(json_object_get(r, "cluster"), "designated"), 1);
    cr_assert_str_eq(str(json_object_get(r, "entity"), "name"), "Late designee");
    char m1hex[65];
    cb_txid_hex(m1.txid, m1hex);
    bool has_merge = false;
    json_t *ev = json_object_get(r, "evidence");
    for (size_t i = 0; i < json_array_size(ev); i++)
        has_merge |= strcmp(json_string_value(json_array_get(ev, i)), m1hex) == 0;
    cr_assert(has_merge, "the merging tx is evidence");
    json_decref(all);
    cb_tx_free(&m1), cb_tx_free(&p1);
    scene_free(s);
}

/* Two tips of equal work (heights 3a and 3b, the same bits): Bitcoin Core
 * keeps the one it received first, which is the one its files hold first.
 * Replay does the same, whichever branch that is. */
Test(flows, equal_work_tips_the_first_stored_wins)
{
    fork_chain f;
    build_fork_chain(&f);
    scene *s = &f.sc;
    const size_t a_first[] = {f.b[B0], f.b[B1], f.b[B2A], f.b[B3A], f.b[B2B], f.b[B3B]};
    const size_t b_first[] = {f.b[B0], f.b[B1], f.b[B2B], f.b[B3B], f.b[B2A], f.b[B3A]};
    const size_t *orders[2] = {a_first, b_first};
    for (int k = 0; k < 2; k++) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->blocks);
        cr_assert_eq(system(cmd), 0);
        cr_assert_eq(cb_chain_write_some(&s->c, s->blocks, true, orders[k], 6), 0);
        const char *dd = datadir(s, k ? "dd_b" : "dd_a");
        char *err = NULL;
        char *out = replay_opts(s, dd, NULL, &err);
        cr_assert(strstr(err, "6 blocks (xor-obfuscated), best chain 0..3, 2 stale"), "%s", err);
        free(out), free(err);
        json_t *all = alerts_read(dd);
        bool m1 = false, pD2 = false; /* m1 is on branch a, pD2 on branch b */
        char m1hex[65], pd2hex[65];
        cb_txid_hex(f.m1.txid, m1hex);
        cb_txid_hex(f.pD2.txid, pd2hex);
        for (size_t i = 0; i < json_array_size(all); i++) {
            const char *txid = json_string_value(json_object_get(json_array_get(all, i), "txid"));
            m1 |= strcmp(txid, m1hex) == 0;
            pD2 |= strcmp(txid, pd2hex) == 0;
        }
        cr_assert_eq(m1, k == 0, "branch a's records only when a was stored first");
        cr_assert_eq(pD2, k == 1, "branch b's records only when b was stored first");
        json_decref(all);
    }
    free_fork_chain(&f);
}

/* ---------- review findings ---------- */

/* Three clusters merge in one mempool tx: P (3 addresses, root P1), Q (2)
 * and R (4, holding the designated D, root D). cluster_merge makes R's root the
 * winner (the biggest). The read-only merge in flows_tx compares each
 * cluster's size with the running *sum* (merged.size) instead of the
 * biggest so far, so it keeps P1 as root (4 < 3 + 2). The mempool records
 * then name another root than the block's, and the output back to R4 (a
 * member of R: change inside the wallet, "internal" in the block) is not
 * recognised as internal: an extra cluster_hit in the mempool.
 * (A bug before its fix.) */
Test(flows, mempool_merge_of_three_clusters_has_the_blocks_root, .timeout = 60)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr P1 = W("P1", 101), P2 = W("P2", 102), P3 = W("P3", 103), Q1 = W("Q1", 111), Q2 = W("Q2", 112),
            D = W("D", 121), R2 = W("R2", 122), R3 = W("R3", 123), R4 = W("R4", 124), X1 = W("X1", 131),
            X2 = W("X2", 132), X3 = W("X3", 133), Y = W("Y", 141), Z = W("Z", 142), K = W("K", 151);
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{P1, BTC}, {P2, BTC}, {P3, BTC}, {Q1, BTC},     {Q2, BTC},     {D, BTC},      {R2, BTC},
                     {R3, BTC}, {R4, BTC}, {P1, BTC / 2}, {Q1, BTC / 2}, {R2, BTC / 2}, {K, BTC}};
    size_t b1 = mine(s, (long)b0, fund, 13, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    cb_tx mp, mq, mr, m, k3;
    cb_coin mp_in[] = {cbc(s, b1, 1), cbc(s, b1, 2), cbc(s, b1, 3)};
    cb_pay mp_out[] = {{X1, 299990000}};
    PAY(mp, "mp", mp_in, mp_out);
    cb_coin mq_in[] = {cbc(s, b1, 4), cbc(s, b1, 5)};
    cb_pay mq_out[] = {{X2, 199990000}};
    PAY(mq, "mq", mq_in, mq_out);
    cb_coin mr_in[] = {cbc(s, b1, 6), cbc(s, b1, 7), cbc(s, b1, 8), cbc(s, b1, 9)};
    cb_pay mr_out[] = {{X3, 399990000}};
    PAY(mr, "mr", mr_in, mr_out);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&mp, &mq, &mr));
    cb_coin m_in[] = {cbc(s, b1, 10), cbc(s, b1, 11), cbc(s, b1, 12)};
    cb_pay m_out[] = {{Y, 70000000}, {R4, 40000000}, {Z, 30000000}};
    PAY(m, "m", m_in, m_out);
    cb_coin k3_in[] = {cbc(s, b1, 13)};
    cb_pay k3_out[] = {{D, 90000000}};
    PAY(k3, "k3", k3_in, k3_out);
    size_t b3 = mine(s, (long)b2, NULL, 0, TXS(&m, &k3));
    const char *dd = datadir(s, "dd");
    char *all = mempool_then_block(s, dd, b2, "DA mr from_designated D amt=100000000 @2", &m, &k3, b3);
    char seen[2][4096];
    split_sightings(all, (const char *const[]){"m", NULL}, 3, seen);
    cr_assert(strstr(seen[1], "root=D size=9 desig=1"), "the block's cluster is R's, rooted at D:\n%s", all);
    cr_assert_str_eq(seen[0], seen[1], "mempool (first) and block (second) disagree; all records:\n%s", all);
    free(all);
    cb_tx_free(&mp), cb_tx_free(&mq), cb_tx_free(&mr), cb_tx_free(&m), cb_tx_free(&k3);
    scene_free(s);
}

/* A list update swaps one designated address for another in the same
 * cluster: A was listed, the new import lists B (A's co-spender) instead.
 * cluster_refresh recounts: the count is still 1, and it keeps the record's
 * first_designated (A) because "info.designated == want" makes first_ok
 * true without checking that A is still listed. Every later cluster hit
 * and exposure from that cluster names A; the pipeline's flow_records
 * finds no designation for A (ref_of_key) and drops the record.
 * Before the fix: no record for the payment to C. */
Test(flows, a_list_update_that_swaps_the_designated_member_keeps_alerting)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr A = W("A", 10), B = W("B", 20), C = W("C", 30), U = W("U", 40), X = W("X", 50);
    designate(s, A);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{A, BTC}, {B, BTC}, {C, BTC}, {U, 5 * BTC}};
    size_t b1 = mine(s, (long)b0, fund, 4, NULL, 0);
    cb_tx m1, p1;
    cb_coin m1_in[] = {cbc(s, b1, 1), cbc(s, b1, 2), cbc(s, b1, 3)};
    cb_pay m1_out[] = {{X, 299990000}};
    PAY(m1, "m1", m1_in, m1_out);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&m1));
    cb_coin p1_in[] = {cbc(s, b1, 4)};
    cb_pay p1_out[] = {{C, 30000000}, {U, 469990000}};
    PAY(p1, "p1", p1_in, p1_out);
    mine(s, (long)b2, NULL, 0, TXS(&p1));
    write_blocks(s);
    const char *dd = datadir(s, "dd");
    replay(s, dd, OPTS("--to", "2"));
    char csv[512], path[40000];
    snprintf(csv, sizeof csv, "chain,address,entity,program,note\nbitcoin,%s,Test front 2,DPRK3,\n", text_of(&B));
    snprintf(path, sizeof path, "%s/list2.csv", s->root);
    write_file(path, csv);
    char *out, *err;
    /* the new list drops the old address: a real shrink, which the import guard refuses unless told */
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", path, "--datadir", (char *)dd, "--allow-shrink", NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    replay(s, dd, NULL);
    json_t *all = alerts_read(dd);
    char *sum = summary(s, dd);
    json_t *r = find_record(all, "cluster_hit", p1.txid, &C);
    cr_assert_not_null(r, "the payment to C (in B's cluster, B now designated) is a cluster hit:\n%s", sum);
    cr_assert_str_eq(str(r, "designated_member"), text_of(&B));
    free(sum);
    json_decref(all);
    cb_tx_free(&m1), cb_tx_free(&p1);
    scene_free(s);
}

/* Two clusters merge in a mempool tx: D's (designated) and A's {A, A2}
 * (clean, formed earlier); the tx pays change to A2. In the block, A2 is in
 * the merged, designated cluster by the time the outputs are judged: no
 * exposure record (flows.h step 4: "into a designated wallet: a cluster
 * hit, not exposure", and internal for step 3). The read-only path merges
 * only the inputs' view; each output is still judged by its own pre-merge
 * cluster (cluster_find_listed), so A2 looks clean and gets an indirect_exposure
 * record that the block does not have.
 * Before the fix (independent of the root choice above). */
Test(flows, mempool_change_into_a_merging_clean_cluster_is_no_exposure, .timeout = 60)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr D = W("D", 10), A = W("A", 20), A2 = W("A2", 21), X = W("X", 40), Y = W("Y", 41), V = W("V", 42),
            K = W("K", 50);
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, BTC}, {A, BTC}, {A2, BTC}, {A, BTC}, {K, BTC}, {K, BTC / 2}};
    size_t b1 = mine(s, (long)b0, fund, 6, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    cb_tx ka, k2, m, k3;
    cb_coin ka_in[] = {cbc(s, b1, 2), cbc(s, b1, 3)};
    cb_pay ka_out[] = {{V, 199990000}};
    PAY(ka, "ka", ka_in, ka_out);
    cb_coin k2_in[] = {cbc(s, b1, 6)};
    cb_pay k2_out[] = {{D, 40000000}};
    PAY(k2, "k2", k2_in, k2_out); /* a marker: b2 is connected when k2's line is there */
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&ka, &k2));
    cb_coin m_in[] = {cbc(s, b1, 1), cbc(s, b1, 4)};
    cb_pay m_out[] = {{X, 90000000}, {A2, 60000000}, {Y, 40000000}};
    PAY(m, "m", m_in, m_out);
    cb_coin k3_in[] = {cbc(s, b1, 5)};
    cb_pay k3_out[] = {{D, 90000000}};
    PAY(k3, "k3", k3_in, k3_out);
    size_t b3 = mine(s, (long)b2, NULL, 0, TXS(&m, &k3));
    const char *dd = datadir(s, "dd");
    char *all = mempool_then_block(s, dd, b2, "DA k2 to_designated D amt=40000000 @2", &m, &k3, b3);
    char seen[2][4096];
    split_sightings(all, (const char *const[]){"m", NULL}, 3, seen);
    cr_assert_str_eq(seen[0], seen[1], "mempool (first) and block (second) disagree; all records:\n%s", all);
    free(all);
    cb_tx_free(&ka), cb_tx_free(&k2), cb_tx_free(&m), cb_tx_free(&k3);
    scene_free(s);
}

/* An import while `watch` runs (another process): the first wl_addr lookup
 * of the watcher's next transaction reads the freed filter (store_get kept
 * the pointer guard_ok just freed) and answers with the old list. A mempool
 * tx whose first output pays the address just imported gets no record (or
 * the watcher crashes). Same root cause as test_review's
 * the_first_lookup_after_another_process_imported_sees_the_import.
 * (A bug before its fix.) */
Test(flows, a_payment_to_an_address_imported_while_watching_is_seen, .timeout = 60)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr D = W("D", 10), N = W("N", 20), U = W("U", 30), K = W("K", 40);
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, BTC}, {U, BTC}, {K, BTC}};
    size_t b1 = mine(s, (long)b0, fund, 3, NULL, 0);
    name_tx(s, &s->c.blocks[b1].coinbase, "cb1");
    cb_tx t1, k1;
    cb_coin t1_in[] = {cbc(s, b1, 2)};
    cb_pay t1_out[] = {{N, 60000000}, {U, 39990000}};
    PAY(t1, "t1", t1_in, t1_out);
    cb_coin k1_in[] = {cbc(s, b1, 3)};
    cb_pay k1_out[] = {{D, 90000000}};
    PAY(k1, "k1", k1_in, k1_out);
    const char *dd = datadir(s, "dd");
    zpub *pub = zpub_start();
    pid_t pid = start_watch(dd, zpub_endpoint(pub), NULL, NULL);
    watch_wait_ready(dd, pub);
    for (size_t b = b0; b <= b1; b++)
        zpub_send(pub, "rawblock", s->c.blocks[b].raw.p, s->c.blocks[b].raw.n);
    wait_line(s, dd, "DA cb1 to_designated D amt=100000000 @1", 20000);
    /* the list now names N too (imported by another process) */
    char csv[512], path[40000];
    snprintf(csv, sizeof csv, "chain,address,entity,program,note\nbitcoin,%s,Test front 1,DPRK3,\nbitcoin,%s,New designee,DPRK3,\n",
             text_of(&D), text_of(&N));
    snprintf(path, sizeof path, "%s/list2.csv", s->root);
    write_file(path, csv);
    char *out, *err;
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", path, "--datadir", (char *)dd, NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    zpub_send(pub, "rawtx", t1.full.p, t1.full.n);
    zpub_send(pub, "rawtx", k1.full.p, k1.full.n); /* a marker: t1 is done when k1's line is there */
    for (int waited = 0; waited < 20000; waited += 100) { /* k1's line, or the watcher's end */
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            zpub_stop(pub);
            cr_assert_fail("the watcher died (%s %d) after the import", WIFSIGNALED(status) ? "signal" : "exit",
                           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        }
        char *got = summary(s, dd);
        bool found = strstr(got, "DA k1 to_designated D amt=90000000 mempool\n") != NULL;
        free(got);
        if (found)
            break;
        test_sleep_ms(100);
    }
    watch_stop(pid);
    zpub_stop(pub);
    char *all = summary(s, dd);
    cr_assert(strstr(all, "DA t1 to_designated N amt=60000000 mempool\n"), "no mempool record for the payment to N:\n%s",
              all);
    free(all);
    cb_tx_free(&t1), cb_tx_free(&k1);
    scene_free(s);
}

/* A delisting: D's wallet was merged while D was designated; the import
 * that drops D leaves the cluster without designated members (found
 * through cluster_desig, not a scan of every cluster), so the next payment
 * to A is no cluster hit. */
Test(flows, a_delisting_undesignates_an_existing_cluster)
{
    scene sc, *s = &sc;
    scene_new(s);
    cw_addr D = W("D", 10), A = W("A", 20), U = W("U", 30), X = W("X", 40), Z = W("Z", 90);
    designate(s, Z);
    designate(s, D);
    size_t b0 = mine(s, -1, NULL, 0, NULL, 0);
    cb_pay fund[] = {{D, 1 * BTC}, {A, 2 * BTC}, {U, 5 * BTC}};
    size_t b1 = mine(s, (long)b0, fund, 3, NULL, 0);
    cb_tx m1, p1, p2;
    cb_coin m1_in[] = {cbc(s, b1, 1), cbc(s, b1, 2)};
    cb_pay m1_out[] = {{X, 299990000}};
    PAY(m1, "m1", m1_in, m1_out);
    size_t b2 = mine(s, (long)b1, NULL, 0, TXS(&m1));
    cb_coin p1_in[] = {cbc(s, b1, 3)};
    cb_pay p1_out[] = {{A, 30000000}, {U, 469990000}};
    PAY(p1, "p1", p1_in, p1_out);
    size_t b3 = mine(s, (long)b2, NULL, 0, TXS(&p1));
    cb_coin p2_in[] = {coin(&p1, 1)};
    cb_pay p2_out[] = {{A, 20000000}, {U, 449980000}};
    PAY(p2, "p2", p2_in, p2_out);
    mine(s, (long)b3, NULL, 0, TXS(&p2));
    write_blocks(s);
    const char *dd = datadir(s, "dd");
    replay(s, dd, OPTS("--to", "3"));
    json_t *all = alerts_read(dd);
    cr_assert_not_null(find_record(all, "cluster_hit", p1.txid, &A), "designated: the payment to A is a hit");
    json_decref(all);
    char csv[512], path[40000];
    snprintf(csv, sizeof csv, "chain,address,entity,program,note\nbitcoin,%s,Test front 1,DPRK3,\n", text_of(&Z));
    snprintf(path, sizeof path, "%s/list2.csv", s->root);
    write_file(path, csv);
    char *out, *err;
    /* the new list drops the old address: a real shrink, which the import guard refuses unless told */
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", path, "--datadir", (char *)dd, "--allow-shrink", NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    replay(s, dd, NULL);
    all = alerts_read(dd);
    cr_assert_null(find_record(all, "cluster_hit", p2.txid, &A), "D delisted: its old wallet designates nobody");
    json_decref(all);
    /* and the cluster's own record says so */
    char *cl[] = {CW_BIN, "cluster", (char *)text_of(&A), "--datadir", (char *)dd, NULL};
    cr_assert_eq(run_cmd(cl, NULL, 0, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "\"designated_count\":0"), "%s", out);
    cr_assert(strstr(out, "\"size\":2"), "%s", out);
    free(out), free(err);
    cb_tx_free(&m1), cb_tx_free(&p1), cb_tx_free(&p2);
    scene_free(s);
}

/* A labels file that cannot be read is the user's input: replay and watch
 * (Bitcoin, as the account chains and replay --capture already did) exit 2
 * naming the file and line, before reading any block or feed. */
Test(flows, a_bad_labels_file_is_a_usage_error_on_every_path, .timeout = 60)
{
    scene sc, *s = &sc;
    scene_new(s);
    designate(s, W("D", 10));
    mine(s, -1, NULL, 0, NULL, 0);
    write_blocks(s);
    const char *dd = datadir(s, "dd");
    char labels[sizeof s->root + 32];
    snprintf(labels, sizeof labels, "%.63s/bad-labels.csv", s->root);
    write_file(labels, "garbage,,,\n");
    char *rp[] = {CW_BIN, "replay", "--blocksdir", s->blocks, "--datadir", (char *)dd, "--network", "regtest",
                  "--labels", labels, NULL};
    char *wa[] = {CW_BIN, "watch", "--datadir", (char *)dd, "--network", "regtest", "--zmqpubrawtx=tcp://127.0.0.1:1",
                  "--labels", labels, NULL};
    char *const *cmds[] = {rp, wa};
    for (int i = 0; i < 2; i++) {
        char *out, *err;
        cr_assert_eq(run_cmd(cmds[i], NULL, 0, &out, &err), 2, "%s: %s", cmds[i][1], err);
        cr_assert(strstr(err, "bad-labels.csv: line 1: the header must be"), "%s: %s", cmds[i][1], err);
        free(out), free(err);
    }
    scene_free(s);
}
