/* chainwatch screen, cluster and trace: decisions and exit codes on state
 * built by real replays (a real regtest node's block files, a generated
 * chain whose clusters the test computes on its own, OFAC's SDN list). */
#include <criterion/criterion.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chains/addr.h"
#include "chains/bitcoin/blkfile.h"
#include "chains/bitcoin/coinjoin.h"
#include "chains/hash.h"
#include "chains/hex.h"
#include "chains/buf.h"
#include "monitor/engine/decode.h"
#include "tests/support.h"
#include "watchlists/watchlist.h"

#define LISTED_SEGWIT "bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0" /* Test front company, DPRK4 */
#define LISTED_LEGACY "mqBXtoBQx88vMij3Hj8YM3RXDDvbrNfx9v"           /* Test IT worker, DPRK3 */
#define EXPOSED_TAPROOT "bcrt1p9emuswdssstyl89vhvcuzd3lkpscen03tr40ppq503xrxj3g73hqm2g07p"
#define EXPOSED_CHANGE "n1PFfBZQDKMvbh2pTfZL3BHfN6gRpXvmPK"
#define CLEAN "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
#define TX_0957 "0957cd71aa76d1c0ee0d5184d6840a453200674a3ccf0aabb781968e1d82fddd" /* mqBX pays the taproot */
#define TX_78C9 "78c9750fef95723fd220adbf811f2cfcfce93a372b26114af612042ec2939fe8" /* bcrt1q4x pays mqBX, change n1PF */

/* ---- helpers ---- */

static void tmp_root(char *root, size_t cap)
{
    snprintf(root, cap, "/tmp/cw-screen-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
}

static void rm_root(const char *root)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

#define cw(j, err, ...) cw_in(NULL, 0, j, err, __VA_ARGS__, NULL)

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static const char *jstr(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static long long jint(const json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

/* The only reason of `kind` in a reasons array (asserting there is one). */
static json_t *reason_of(const json_t *reasons, const char *kind)
{
    json_t *found = NULL, *r;
    size_t i;
    json_array_foreach(reasons, i, r)
    {
        if (strcmp(jstr(r, "kind"), kind) == 0) {
            cr_assert_null(found, "one %s reason", kind);
            found = r;
        }
    }
    cr_assert_not_null(found, "a %s reason in %s", kind, json_dumps(reasons, 0));
    return found;
}

static void assert_txids(const json_t *arr, const char *const *want, size_t n)
{
    cr_assert_eq(json_array_size(arr), n, "%s", json_dumps(arr, 0));
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(json_string_value(json_array_get(arr, i)), want[i]);
}

/* ---- the regtest node's chain ---- */

/* blocks/ as the node wrote it, and a datadir replayed up to `to` (NULL:
 * the whole chain) with the two test designations. */
static void regtest_datadir(const char *root, const char *dd, const char *to)
{
    char blocks[256], path[300];
    snprintf(blocks, sizeof blocks, "%s/blocks", root);
    struct stat st;
    if (stat(blocks, &st) != 0) {
        regtest_blocksdir(blocks);
        snprintf(path, sizeof path, "%s/list.csv", root);
        write_text(path, "chain,address,entity,program,note\n"
                         "bitcoin," LISTED_SEGWIT ",Test front company,DPRK4,\n"
                         "bitcoin," LISTED_LEGACY ",Test IT worker,DPRK3,\n");
    }
    snprintf(path, sizeof path, "%s/list.csv", root);
    char *err;
    cr_assert_eq(cw(NULL, &err, "init", "--datadir", (char *)dd), 0, "%s", err);
    free(err);
    cr_assert_eq(cw(NULL, &err, "watchlist", "import", "csv", path, "--datadir", (char *)dd), 0, "%s", err);
    free(err);
    if (to)
        cr_assert_eq(cw(NULL, &err, "replay", "--blocksdir", blocks, "--datadir", (char *)dd, "--network", "regtest",
                        "--to", (char *)to),
                     0, "%s", err);
    else
        cr_assert_eq(cw(NULL, &err, "replay", "--blocksdir", blocks, "--datadir", (char *)dd, "--network", "regtest"),
                     0, "%s", err);
    free(err);
}

typedef struct {
    const char *txid;
    uint8_t *raw;
    size_t len;
} find_tx;

static cw_code take_tx(void *ctx, cw_tx *tx, cw_err *err)
{
    (void)err;
    find_tx *f = ctx;
    char id[65];
    cw_hex_encode_rev(tx->txid, 32, id);
    if (f->raw == NULL && strcmp(id, f->txid) == 0) {
        f->raw = malloc(tx->raw.n);
        memcpy(f->raw, tx->raw.p, tx->raw.n);
        f->len = tx->raw.n;
    }
    return CW_OK;
}

/* A tx's raw bytes, out of the node's block files (decoded here, as
 * `chainwatch decode block` does). */
static uint8_t *regtest_tx(const char *txid, size_t *len)
{
    size_t n, kn;
    uint8_t *raw = fixture("btc/regtest-v30/blk00000.dat.bz2", &n);
    uint8_t *key = fixture("btc/regtest-v30/xor.dat", &kn);
    for (size_t i = 0; i < n; i++)
        raw[i] ^= key[i % kn];
    find_tx f = {txid, NULL, 0};
    block_walker w = {0};
    size_t pos = 0;
    for (;;) {
        cw_net net;
        cw_span blk;
        bool done;
        cw_err err;
        if (btc_blk_next(raw, n, &pos, &net, &blk, &done, &err) != CW_OK || done)
            break; /* the padding after the records was never obfuscated */
        block_summary s;
        cr_assert_eq(decode_block_walk(&w, blk.p, blk.n, net, take_tx, &f, &s, &err), CW_OK, "%s", err.msg);
    }
    block_walker_free(&w);
    free(raw), free(key);
    cr_assert_not_null(f.raw, "tx %s in the node's blocks", txid);
    *len = f.len;
    return f.raw;
}

/* The P2SH-P2WPKH form of a P2PKH address: the same key, key-linked.
 * (Base58 forms: regtest and testnet share them, so a regtest 'm...'
 * listing links this form whatever the network.) */
static void p2sh_p2wpkh_of(const char *p2pkh, char *out, size_t cap)
{
    cw_addr a, w;
    cr_assert_eq(cw_addr_parse(p2pkh, CW_NET_REGTEST, &a, NULL), CW_OK);
    uint8_t redeem[22] = {0x00, 0x14}, h[20];
    memcpy(redeem + 2, a.payload, 20);
    cw_hash160(redeem, sizeof redeem, h);
    cw_addr_set(&w, CW_CHAIN_BITCOIN, CW_NET_REGTEST, CW_ADDR_P2SH, 0, h, 20);
    cr_assert_gt(cw_addr_format(&w, out, cap), 0);
}

/* ---- screen: addresses ---- */

Test(screen, address_decisions_and_exit_codes)
{
    char root[64], dd[128];
    tmp_root(root, sizeof root);
    snprintf(dd, sizeof dd, "%s/dd", root);
    regtest_datadir(root, dd, NULL);
    json_t *j, *r;
    char *err;

    /* designated: block */
    cr_assert_eq(cw(&j, &err, "screen", LISTED_SEGWIT, "--datadir", dd, "--direction", "deposit"), 12, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "decision"), "block");
    cr_assert_str_eq(jstr(j, "subject"), LISTED_SEGWIT);
    cr_assert_str_eq(jstr(j, "type"), "address");
    cr_assert_str_eq(jstr(j, "direction"), "deposit");
    cr_assert(json_is_null(json_object_get(j, "amount")));
    cr_assert_eq(jint(json_object_get(j, "tip"), "height"), 105);
    r = reason_of(json_object_get(j, "reasons"), "designated");
    cr_assert_str_eq(jstr(r, "decision"), "block");
    cr_assert_str_eq(jstr(r, "address"), LISTED_SEGWIT);
    json_t *e = json_object_get(r, "entity");
    cr_assert_str_eq(jstr(e, "name"), "Test front company");
    cr_assert_str_eq(jstr(e, "uid"), "Test front company");
    cr_assert_str_eq(jstr(e, "source"), "own");
    cr_assert_str_eq(jstr(e, "list"), "internal");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(e, "programs"), 0)), "DPRK4");
    cr_assert(json_object_get(e, "designated") != NULL);
    json_decref(j);

    /* a key-linked form (the listed legacy key as P2SH-P2WPKH): hold */
    char linked[CW_ADDR_TEXT_MAX];
    p2sh_p2wpkh_of(LISTED_LEGACY, linked, sizeof linked);
    cr_assert_eq(cw(&j, &err, "screen", linked, "--datadir", dd), 11, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "decision"), "hold");
    r = reason_of(json_object_get(j, "reasons"), "key_linked");
    cr_assert_str_eq(jstr(r, "linked_from"), LISTED_LEGACY);
    cr_assert_str_eq(jstr(json_object_get(r, "entity"), "name"), "Test IT worker");
    json_decref(j);

    /* exposed at 1 hop, no amount: hold, with hops, source and path */
    cr_assert_eq(cw(&j, &err, "screen", EXPOSED_TAPROOT, "--datadir", dd), 11, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "decision"), "hold");
    r = reason_of(json_object_get(j, "reasons"), "exposure");
    cr_assert_eq(jint(r, "hops"), 1);
    cr_assert_eq(jint(r, "tainted_received"), 30000000);
    cr_assert_eq(jint(r, "payments"), 1);
    cr_assert_str_eq(jstr(r, "source_address"), LISTED_LEGACY);
    cr_assert_str_eq(jstr(json_object_get(r, "entity"), "name"), "Test IT worker");
    static const char *const path0957[] = {TX_0957};
    assert_txids(json_object_get(r, "path"), path0957, 1);
    cr_assert(json_is_null(json_object_get(r, "share_ppm")));
    json_decref(j);

    /* with --amount the tainted share of it decides: 0.3 of 3 BTC is 10% (hold),
     * of 30 BTC 1% (review), of 100 BTC 0.3% (allow, still shown) */
    struct {
        const char *amount;
        int exit;
        const char *decision;
        long long ppm;
    } by_amount[] = {{"3", 11, "hold", 100000}, {"30", 10, "review", 10000}, {"100", 0, "allow", 3000},
                     {"0.2", 11, "hold", 1000000}};
    for (size_t k = 0; k < sizeof by_amount / sizeof *by_amount; k++) {
        cr_assert_eq(cw(&j, &err, "screen", EXPOSED_TAPROOT, "--datadir", dd, "--amount", (char *)by_amount[k].amount),
                     by_amount[k].exit, "--amount %s: %s", by_amount[k].amount, err);
        free(err);
        cr_assert_str_eq(jstr(j, "decision"), by_amount[k].decision);
        r = reason_of(json_object_get(j, "reasons"), "exposure");
        cr_assert_str_eq(jstr(r, "decision"), by_amount[k].decision);
        cr_assert_eq(jint(r, "share_ppm"), by_amount[k].ppm, "--amount %s", by_amount[k].amount);
        json_decref(j);
    }
    /* the same with the thresholds moved */
    cr_assert_eq(cw(&j, &err, "screen", EXPOSED_TAPROOT, "--datadir", dd, "--amount", "30", "--hold-exposure", "1%"),
                 11, "%s", err);
    free(err);
    json_decref(j);
    cr_assert_eq(cw(&j, &err, "screen", EXPOSED_TAPROOT, "--datadir", dd, "--amount", "30", "--min-exposure=2%"), 0,
                 "%s", err);
    free(err);
    json_decref(j);

    /* the change of the designated segwit address's payment: 1 hop, its source */
    cr_assert_eq(cw(&j, &err, "screen", EXPOSED_CHANGE, "--datadir", dd, "--direction", "withdrawal"), 11, "%s", err);
    free(err);
    r = reason_of(json_object_get(j, "reasons"), "exposure");
    cr_assert_str_eq(jstr(r, "source_address"), LISTED_SEGWIT);
    static const char *const path78c9[] = {TX_78C9};
    assert_txids(json_object_get(r, "path"), path78c9, 1);
    cr_assert_str_eq(jstr(j, "direction"), "withdrawal");
    json_decref(j);

    /* clean: allow, no reasons; an uppercase bech32 is the same address */
    cr_assert_eq(cw(&j, &err, "screen", CLEAN, "--datadir", dd), 0, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "decision"), "allow");
    cr_assert_eq(json_array_size(json_object_get(j, "reasons")), 0);
    json_decref(j);
    char upper[128];
    snprintf(upper, sizeof upper, "%s", LISTED_SEGWIT);
    for (char *p = upper; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    cr_assert_eq(cw(&j, &err, "screen", upper, "--datadir", dd), 12, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "subject"), LISTED_SEGWIT);
    json_decref(j);

    /* a labelled service: shown, never decisive */
    char labels[256];
    snprintf(labels, sizeof labels, "%s/labels.csv", root);
    write_text(labels, "chain,address,entity,category,source\nBTC," CLEAN ",Test exchange,exchange,test set\n");
    cr_assert_eq(cw(&j, &err, "screen", CLEAN, "--datadir", dd, "--labels", labels), 0, "%s", err);
    free(err);
    r = reason_of(json_object_get(j, "reasons"), "service");
    cr_assert_str_eq(jstr(r, "decision"), "allow");
    cr_assert_str_eq(jstr(r, "label_entity"), "Test exchange");
    cr_assert_str_eq(jstr(r, "category"), "exchange");
    cr_assert_str_eq(jstr(r, "label_source"), "test set");
    cr_assert(json_is_true(json_object_get(json_object_get(j, "policy"), "labels")));
    json_decref(j);
    rm_root(root);
}

Test(screen, typos_usage_and_unreadable_stores)
{
    char root[64], dd[128];
    tmp_root(root, sizeof root);
    snprintf(dd, sizeof dd, "%s/dd", root);
    regtest_datadir(root, dd, NULL);
    json_t *j;
    char *err;
    /* a mistyped address is never "allow" */
    const char *bad[] = {"bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a9", /* bech32 checksum */
                         "mqBXtoBQx88vMij3Hj8YM3RXDDvbrNfx9w",           /* base58 checksum */
                         "0x098B716B8Aaf21512996dC57EB0615e2383E2f97",   /* EIP-55 */
                         "not-an-address", ""};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        cr_assert_eq(cw(&j, &err, "screen", (char *)bad[k], "--datadir", dd), 2, "'%s': %s", bad[k], err);
        cr_assert_null(j, "nothing on stdout for '%s'", bad[k]);
        cr_assert(strstr(err, "chainwatch: screen: ") && strchr(err, '\n') == strrchr(err, '\n'), "one line: %s", err);
        free(err);
    }
    /* usage errors */
    const char *usage[][4] = {{"--direction", "sideways"}, {"--amount", "-1"}, {"--amount", "0"},
                              {"--amount", "0.000000001"}, {"--hops", "9"}, {"--bogus", "1"},
                              {"--network", "moon"}, {"--min-exposure", "200%"}, {"--clusters", "off"},
                              {CLEAN}, {"--amount"}};
    for (size_t k = 0; k < sizeof usage / sizeof *usage; k++) {
        cr_assert_eq(cw(&j, &err, "screen", LISTED_SEGWIT, "--datadir", dd, (char *)usage[k][0], (char *)usage[k][1]), 2,
                     "%s %s: %s", usage[k][0], usage[k][1] ? usage[k][1] : "", err);
        cr_assert_null(j);
        free(err);
    }
    /* an address of another network than --network */
    cr_assert_eq(cw(&j, &err, "screen", LISTED_SEGWIT, "--datadir", dd, "--network", "main"), 2, "%s", err);
    free(err);
    /* a raw tx that does not parse: 2, naming where */
    char junk[300];
    memset(junk, 'a', 250);
    junk[250] = '\0';
    cr_assert_eq(cw(&j, &err, "screen", junk, "--datadir", dd), 2, "%s", err);
    cr_assert(strstr(err, "screen: tx"), "%s", err);
    free(err);
    cr_assert_eq(cw(&j, &err, "screen", "@/nonexistent/tx.hex", "--datadir", dd), 1, "%s", err);
    cr_assert(strstr(err, "/nonexistent/tx.hex"), "%s", err);
    free(err);
    /* no datadir, not a directory, no store: 3 (the check was not made), naming it */
    char path[256];
    snprintf(path, sizeof path, "%s/missing", root);
    cr_assert_eq(cw(&j, &err, "screen", CLEAN, "--datadir", path), 3, "%s", err);
    cr_assert(strstr(err, path), "%s", err);
    cr_assert_null(j);
    free(err);
    snprintf(path, sizeof path, "%s/list.csv", root);
    cr_assert_eq(cw(&j, &err, "screen", CLEAN, "--datadir", path), 3, "%s", err);
    free(err);
    snprintf(path, sizeof path, "%s/empty", root);
    cr_assert_eq(mkdir(path, 0700), 0);
    cr_assert_eq(cw(&j, &err, "screen", CLEAN, "--datadir", path), 3, "%s", err);
    cr_assert_eq(cw(&j, NULL, "cluster", CLEAN, "--datadir", path), 3);
    cr_assert_eq(cw(&j, NULL, "trace", CLEAN, "--datadir", path), 3);
    free(err);
    /* a datadir from before clusters and exposure: its store lacks their databases */
    snprintf(path, sizeof path, "%s/old", root);
    cr_assert_eq(mkdir(path, 0700), 0);
    char file[300];
    snprintf(file, sizeof file, "%s/store.mdb", path);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    cr_assert_eq(mdb_env_create(&env), 0);
    cr_assert_eq(mdb_env_set_maxdbs(env, 24), 0);
    cr_assert_eq(mdb_env_open(env, file, MDB_NOSUBDIR, 0600), 0);
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    const char *old_dbs[] = {"wl_addr", "wl_entity", "wl_meta", "wl_diff", "utxo", "undo", "chain", "cursor"};
    for (size_t k = 0; k < sizeof old_dbs / sizeof *old_dbs; k++)
        cr_assert_eq(mdb_dbi_open(txn, old_dbs[k], MDB_CREATE | (k == 0 ? MDB_DUPSORT : 0), &dbi), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    cr_assert_eq(cw(&j, &err, "screen", CLEAN, "--datadir", path), 3, "%s", err);
    cr_assert(strstr(err, "database") && strstr(err, "chainwatch init --datadir"), "%s", err);
    free(err);
    cr_assert_eq(cw(NULL, &err, "init", "--datadir", path), 0, "%s", err);
    free(err);
    /* a store no list was imported into (a --datadir typo that serve or
     * init made): no answer, not "allow" */
    cr_assert_eq(cw(&j, &err, "screen", CLEAN, "--datadir", path), 3, "after init: %s", err);
    cr_assert_null(j);
    cr_assert(strstr(err, "no watchlist has been imported"), "%s", err);
    free(err);
    test_import_bystander(path);
    cr_assert_eq(cw(&j, &err, "screen", CLEAN, "--datadir", path), 0, "after an import: %s", err);
    free(err);
    json_decref(j);
    /* --help everywhere, naming the exit codes */
    const char *verbs[] = {"screen", "cluster", "trace"};
    for (size_t k = 0; k < 3; k++) {
        char *out, *e2;
        char *argv[] = {CW_BIN, (char *)verbs[k], "--help", NULL};
        cr_assert_eq(run_cmd(argv, NULL, 0, &out, &e2), 0);
        cr_assert(strstr(out, "Exit status") && strstr(out, "3 a store error"), "%s", out);
        free(out), free(e2);
    }
    rm_root(root);
}

/* ---- screen: a raw transaction ---- */

static json_t *address_entry(const json_t *j, const char *addr)
{
    json_t *a;
    size_t i;
    json_array_foreach(json_object_get(j, "addresses"), i, a) if (strcmp(jstr(a, "address"), addr) == 0) return a;
    cr_assert_fail("no entry for %s in %s", addr, json_dumps(j, 0));
    return NULL;
}

Test(screen, raw_tx_every_input_and_output)
{
    char root[64], dd[128], dd104[128];
    tmp_root(root, sizeof root);
    snprintf(dd, sizeof dd, "%s/dd", root);
    snprintf(dd104, sizeof dd104, "%s/dd104", root);
    regtest_datadir(root, dd, NULL);
    regtest_datadir(root, dd104, "104");
    size_t len;
    uint8_t *raw = regtest_tx(TX_0957, &len);
    char *hex = malloc(2 * len + 1);
    cw_hex_encode(raw, len, hex);
    json_t *j, *a, *r;
    char *err;

    /* after the whole chain: the input's output is spent (not in the index),
     * so the input is named by its scriptSig: the designated legacy key */
    cr_assert_eq(cw(&j, &err, "screen", hex, "--datadir", dd, "--network", "regtest"), 12, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "type"), "tx");
    cr_assert_str_eq(jstr(j, "subject"), TX_0957);
    cr_assert_str_eq(jstr(j, "decision"), "block");
    cr_assert_eq(json_array_size(json_object_get(j, "addresses")), 3, "one input address, two outputs");
    a = address_entry(j, LISTED_LEGACY);
    cr_assert_str_eq(jstr(a, "decision"), "block");
    cr_assert(json_is_false(json_object_get(a, "resolved")));
    cr_assert_eq(json_integer_value(json_array_get(json_object_get(a, "inputs"), 0)), 0);
    cr_assert(json_is_null(json_object_get(a, "amount_in")));
    reason_of(json_object_get(a, "reasons"), "designated");
    a = address_entry(j, EXPOSED_TAPROOT);
    cr_assert_str_eq(jstr(a, "decision"), "hold");
    cr_assert_eq(jint(a, "amount_out"), 30000000);
    r = reason_of(json_object_get(a, "reasons"), "exposure");
    cr_assert_eq(jint(r, "share_ppm"), 1000000, "its value in the tx is the amount: all of it tainted");
    json_t *first = j;

    /* the same bytes from a file (raw and hex) and from standard input */
    char path[256];
    snprintf(path, sizeof path, "@%s/tx.raw", root);
    FILE *f = fopen(path + 1, "wb");
    fwrite(raw, 1, len, f);
    fclose(f);
    cr_assert_eq(cw(&j, &err, "screen", path, "--datadir", dd, "--network", "regtest"), 12, "%s", err);
    free(err);
    cr_assert(json_equal(j, first));
    json_decref(j);
    snprintf(path, sizeof path, "@%s/tx.hex", root);
    write_text(path + 1, hex);
    cr_assert_eq(cw(&j, &err, "screen", path, "--datadir", dd, "--network", "regtest"), 12, "%s", err);
    free(err);
    cr_assert(json_equal(j, first));
    json_decref(j);
    cr_assert_eq(cw_in((const uint8_t *)hex, strlen(hex), &j, &err, "screen", "-", "--datadir", dd, "--network",
                       "regtest", NULL),
                 12, "%s", err);
    free(err);
    cr_assert(json_equal(j, first));
    json_decref(j);
    json_decref(first);
    free(raw), free(hex);

    /* a tx the monitor has not seen yet (the datadir stops at 104): its input
     * resolves from the prevout index, and the tx's own findings are the
     * exposure it would give its change, as the monitor later recorded */
    raw = regtest_tx(TX_78C9, &len);
    hex = malloc(2 * len + 1);
    cw_hex_encode(raw, len, hex);
    cr_assert_eq(cw(&j, &err, "screen", hex, "--datadir", dd104, "--network", "regtest", "--amount", "0.1"), 12, "%s",
                 err);
    free(err);
    cr_assert_eq(jint(json_object_get(j, "tip"), "height"), 104);
    cr_assert_eq(jint(j, "inputs_unresolved"), 0);
    a = address_entry(j, LISTED_SEGWIT);
    cr_assert(json_is_true(json_object_get(a, "resolved")));
    cr_assert_eq(jint(a, "amount_in"), 20000000);
    cr_assert_str_eq(jstr(a, "decision"), "block");
    a = address_entry(j, LISTED_LEGACY);
    cr_assert_str_eq(jstr(a, "decision"), "block");
    cr_assert_eq(jint(a, "amount_out"), 10000000);
    a = address_entry(j, EXPOSED_CHANGE);
    cr_assert_str_eq(jstr(a, "decision"), "allow", "not exposed yet at height 104");
    r = reason_of(json_object_get(j, "reasons"), "exposure");
    cr_assert_str_eq(jstr(r, "address"), EXPOSED_CHANGE);
    cr_assert_str_eq(jstr(r, "decision"), "hold");
    cr_assert_str_eq(jstr(r, "role"), "output");
    cr_assert_eq(jint(r, "hops"), 1);
    cr_assert_eq(jint(r, "share_ppm"), 1000000);
    cr_assert_eq(jint(r, "tainted_amount"), 9998530);
    cr_assert_str_eq(jstr(r, "source_address"), LISTED_SEGWIT);
    static const char *const path78c9[] = {TX_78C9};
    assert_txids(json_object_get(r, "path"), path78c9, 1);
    cr_assert_eq(jint(j, "amount"), 10000000);
    json_decref(j);
    free(raw), free(hex);
    rm_root(root);
}

/* Kim Sang Man (DPRK4, designated 2023-05-23): OFAC listed his P2PKH
 * address; its P2WPKH form is the same key. */
Test(screen, key_linked_form_with_the_real_sdn_list)
{
    char root[64], dd[128];
    tmp_root(root, sizeof root);
    snprintf(dd, sizeof dd, "%s/dd", root);
    char *err;
    cr_assert_eq(cw(NULL, &err, "init", "--datadir", dd), 0, "%s", err);
    free(err);
    cr_assert_eq(cw(NULL, &err, "watchlist", "import", "sdn-advanced", CW_SDN_XML, "--datadir", dd), 0, "%s", err);
    free(err);
    json_t *j, *r;
    cr_assert_eq(cw(&j, &err, "screen", "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ", "--datadir", dd), 12, "%s", err);
    free(err);
    r = reason_of(json_object_get(j, "reasons"), "designated");
    cr_assert_str_eq(jstr(json_object_get(r, "entity"), "name"), "Kim Sang Man");
    cr_assert_str_eq(jstr(json_object_get(r, "entity"), "designated"), "2023-05-23");
    cr_assert(json_is_null(json_object_get(j, "tip")), "nothing replayed: the screen says how far it knows");
    json_decref(j);
    cr_assert_eq(cw(&j, &err, "screen", "bc1qsj69ec0dsv0xewahjfnjz9jh8yjsgk6safpynk", "--datadir", dd, "--amount", "1"),
                 11, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "decision"), "hold");
    r = reason_of(json_object_get(j, "reasons"), "key_linked");
    cr_assert_str_eq(jstr(r, "linked_from"), "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ");
    json_t *e = json_object_get(r, "entity");
    cr_assert_str_eq(jstr(e, "name"), "Kim Sang Man");
    cr_assert_str_eq(jstr(e, "list"), "SDN");
    cr_assert_str_eq(jstr(e, "designated"), "2023-05-23");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(e, "programs"), 0)), "DPRK4");
    cr_assert_str_eq(jstr(e, "source"), "ofac-sdn");
    json_decref(j);
    rm_root(root);
}

/* ---- a generated chain: clusters computed here, then compared ---- */

typedef struct {
    uint8_t txid[32];
    size_t in0, n_in, out0, n_out;
    bool coinbase;
} gtx;
typedef struct {
    uint8_t prev[32];
    uint32_t vout;
} gin;
typedef struct {
    cw_addr addr;
    uint64_t value;
} gout;

static struct {
    gtx *tx;
    gin *in;
    gout *out;
    size_t n_tx, n_in, n_out;
} G;

static cw_code keep_tx(void *ctx, cw_tx *tx, cw_err *err)
{
    (void)ctx, (void)err;
    G.tx = realloc(G.tx, (G.n_tx + 1) * sizeof *G.tx);
    G.in = realloc(G.in, (G.n_in + tx->n_in) * sizeof *G.in);
    G.out = realloc(G.out, (G.n_out + tx->n_out) * sizeof *G.out);
    gtx *t = &G.tx[G.n_tx++];
    memcpy(t->txid, tx->txid, 32);
    t->coinbase = (tx->flags & CW_TX_COINBASE) != 0;
    t->in0 = G.n_in;
    t->n_in = t->coinbase ? 0 : tx->n_in;
    for (size_t i = 0; i < t->n_in; i++) {
        memcpy(G.in[G.n_in].prev, tx->in[i].prev_txid, 32);
        G.in[G.n_in++].vout = tx->in[i].prev_vout;
    }
    t->out0 = G.n_out;
    t->n_out = tx->n_out;
    for (size_t o = 0; o < tx->n_out; o++)
        G.out[G.n_out].addr = tx->out[o].addr, G.out[G.n_out++].value = tx->out[o].value;
    return CW_OK;
}

static void load_chain(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/blk00000.dat", dir);
    cw_buf b = CW_BUF_INIT;
    cw_err err;
    cr_assert_eq(cw_read_file(path, 1u << 30, &b, &err), CW_OK, "%s", err.msg);
    block_walker w = {0};
    size_t pos = 0;
    for (;;) {
        cw_net net;
        cw_span blk;
        bool done;
        cr_assert_eq(btc_blk_next(b.p, b.n, &pos, &net, &blk, &done, &err), CW_OK, "%s", err.msg);
        if (done)
            break;
        block_summary s;
        cr_assert_eq(decode_block_walk(&w, blk.p, blk.n, net, keep_tx, NULL, &s, &err), CW_OK, "%s", err.msg);
    }
    block_walker_free(&w);
    cw_buf_free(&b);
}

/* The output an input spends (linear: the chain is small). */
static const gout *spent(const gin *in, size_t *tx_index)
{
    for (size_t t = 0; t < G.n_tx; t++)
        if (memcmp(G.tx[t].txid, in->prev, 32) == 0) {
            cr_assert_lt(in->vout, G.tx[t].n_out);
            if (tx_index)
                *tx_index = t;
            return &G.out[G.tx[t].out0 + in->vout];
        }
    cr_assert_fail("an input spends an output the chain does not hold");
    return NULL;
}

/* Union-find over watchlist keys, with cluster.h's rules for the winner. */
typedef struct {
    uint8_t key[WL_KEY_MAX];
    size_t len, parent, size;
} uf_node;
static uf_node *U;
static size_t n_U;

static size_t uf_id(const cw_addr *a)
{
    uint8_t k[WL_KEY_MAX];
    size_t kn = wl_key_from_addr(a, k);
    for (size_t i = 0; i < n_U; i++)
        if (U[i].len == kn && memcmp(U[i].key, k, kn) == 0)
            return i;
    U = realloc(U, (n_U + 1) * sizeof *U);
    memcpy(U[n_U].key, k, kn);
    U[n_U].len = kn, U[n_U].parent = n_U, U[n_U].size = 1;
    return n_U++;
}

static size_t uf_root(size_t i)
{
    while (U[i].parent != i)
        i = U[i].parent;
    return i;
}

static int key_cmp(const uf_node *a, const uf_node *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->key, b->key, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* One tx's inputs merge into the biggest of their clusters (ties: the
 * smaller key), unless several parties signed it. */
static void uf_tx(const gtx *t)
{
    if (t->n_in < 2)
        return;
    cw_txin *ins = calloc(t->n_in, sizeof *ins);
    cw_txout *outs = calloc(t->n_out, sizeof *outs);
    for (size_t i = 0; i < t->n_in; i++) {
        const gout *o = spent(&G.in[t->in0 + i], NULL);
        ins[i].resolved = true, ins[i].addr = o->addr, ins[i].value = o->value;
        memcpy(ins[i].prev_txid, G.in[t->in0 + i].prev, 32);
        ins[i].prev_vout = G.in[t->in0 + i].vout;
    }
    for (size_t o = 0; o < t->n_out; o++)
        outs[o].n = (uint32_t)o, outs[o].value = G.out[t->out0 + o].value, outs[o].addr = G.out[t->out0 + o].addr;
    cw_tx tx = {.chain = CW_CHAIN_BITCOIN, .net = CW_NET_REGTEST, .in = ins, .n_in = t->n_in, .out = outs,
                .n_out = t->n_out};
    bool multiparty = btc_multiparty_detect(&tx, NULL, 0) != BTC_MP_NONE;
    size_t roots[64], n = 0;
    for (size_t i = 0; i < t->n_in && !multiparty; i++) {
        size_t r = uf_root(uf_id(&ins[i].addr)), k = 0;
        while (k < n && roots[k] != r)
            k++;
        if (k == n && n < 64)
            roots[n++] = r;
    }
    size_t w = 0;
    for (size_t k = 1; k < n; k++)
        if (U[roots[k]].size > U[roots[w]].size ||
            (U[roots[k]].size == U[roots[w]].size && key_cmp(&U[roots[k]], &U[roots[w]]) < 0))
            w = k;
    for (size_t k = 0; k < n; k++)
        if (k != w)
            U[roots[k]].parent = roots[w], U[roots[w]].size += U[roots[k]].size;
    free(ins), free(outs);
}

static void text_of(const cw_addr *a, char *out)
{
    cr_assert_gt(cw_addr_format(a, out, CW_ADDR_TEXT_MAX), 0);
}

static bool find_dot(void) { return system("command -v dot >/dev/null 2>&1") == 0; }

/* DOT quoting holds: every string closes, braces balance outside strings. */
static void assert_dot_syntax(const char *dot)
{
    bool in_str = false;
    int depth = 0;
    for (const char *p = dot; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                in_str = false;
            else
                cr_assert(*p != '\n', "a line break inside a DOT string: %s", dot);
        } else if (*p == '"') {
            in_str = true;
        } else if (*p == '{') {
            depth++;
        } else if (*p == '}') {
            depth--;
        }
    }
    cr_assert(!in_str && depth == 0, "%s", dot);
    cr_assert(strncmp(dot, "digraph ", 8) == 0, "%s", dot);
}

static char *slurp(const char *path)
{
    cw_buf b = CW_BUF_INIT;
    cr_assert_eq(cw_read_file(path, 1 << 20, &b, NULL), CW_OK, "%s", path);
    cw_buf_append(&b, "", 1, NULL);
    return (char *)b.p;
}

Test(screen, generated_chain_clusters_exposure_and_trace)
{
    char root[64], blocks[128], dd[128], path[256];
    tmp_root(root, sizeof root);
    snprintf(blocks, sizeof blocks, "%s/blocks", root);
    snprintf(dd, sizeof dd, "%s/dd", root);
    char *err;
    char *gen[] = {CW_GENCHAIN, "--out", blocks, "--blocks", "8", "--txs-per-block", "250", "--seed", "11", NULL};
    char *out;
    cr_assert_eq(run_cmd(gen, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    load_chain(blocks);
    for (size_t t = 0; t < G.n_tx; t++)
        uf_tx(&G.tx[t]);

    /* X: a single owner's tx of several inputs, one of whose outputs is spent
     * alone by Y; its first input's address gets designated before the replay */
    size_t X = 0, Y = 0, o_spent = 0;
    for (size_t t = 0; t < G.n_tx && !Y; t++) {
        if (G.tx[t].n_in < 2)
            continue;
        size_t first = uf_id(&spent(&G.in[G.tx[t].in0], NULL)->addr); /* uf_id may move U */
        if (U[uf_root(first)].size < 2)
            continue; /* several parties signed it: no cluster */
        for (size_t u = t + 1; u < G.n_tx && !Y; u++) {
            if (G.tx[u].n_in != 1 || G.out[G.tx[u].out0].value == 0)
                continue;
            size_t from;
            spent(&G.in[G.tx[u].in0], &from);
            if (from == t)
                X = t, Y = u, o_spent = G.in[G.tx[u].in0].vout;
        }
    }
    cr_assert_neq(Y, 0, "the generated chain has such a pair");
    char a0[CW_ADDR_TEXT_MAX], a1[CW_ADDR_TEXT_MAX], o_addr[CW_ADDR_TEXT_MAX], p_addr[CW_ADDR_TEXT_MAX];
    char x_id[65], y_id[65];
    const cw_addr *A0 = &spent(&G.in[G.tx[X].in0], NULL)->addr;
    size_t a1_in = 1;
    while (a1_in < G.tx[X].n_in && cw_addr_eq(&spent(&G.in[G.tx[X].in0 + a1_in], NULL)->addr, A0))
        a1_in++;
    cr_assert_lt(a1_in, G.tx[X].n_in);
    text_of(A0, a0);
    text_of(&spent(&G.in[G.tx[X].in0 + a1_in], NULL)->addr, a1);
    text_of(&G.out[G.tx[X].out0 + o_spent].addr, o_addr);
    text_of(&G.out[G.tx[Y].out0].addr, p_addr);
    cw_hex_encode_rev(G.tx[X].txid, 32, x_id);
    cw_hex_encode_rev(G.tx[Y].txid, 32, y_id);

    cr_assert_eq(cw(NULL, &err, "init", "--datadir", dd), 0, "%s", err);
    free(err);
    snprintf(path, sizeof path, "%s/list.csv", root);
    char list[512];
    /* a name with a quote and a backslash, to test the graph's escaping */
    snprintf(list, sizeof list, "chain,address,entity,program,note\nbitcoin,%s,\"Gen \"\"Q\"\" \\ front\",TEST,\n", a0);
    write_text(path, list);
    cr_assert_eq(cw(NULL, &err, "watchlist", "import", "csv", path, "--datadir", dd), 0, "%s", err);
    free(err);
    cr_assert_eq(cw(NULL, &err, "replay", "--blocksdir", blocks, "--datadir", dd, "--network", "regtest"), 0, "%s", err);
    free(err);

    /* cluster: root and size as computed here, for every multi-member
     * cluster's members and a few addresses never merged */
    json_t *j, *r;
    size_t checked = 0, merged = 0;
    for (size_t i = 0; i < n_U && checked < 40; i += 1 + n_U / 40) {
        size_t rt = uf_root(i);
        char want_root[WL_KEY_MAX + CW_ADDR_TEXT_MAX], addr[WL_KEY_MAX + CW_ADDR_TEXT_MAX];
        cr_assert_gt(wl_key_to_text(U[rt].key, U[rt].len, want_root, sizeof want_root), 0);
        cr_assert_gt(wl_key_to_text(U[i].key, U[i].len, addr, sizeof addr), 0);
        cr_assert_eq(cw(&j, &err, "cluster", addr, "--datadir", dd), 0, "%s", err);
        free(err);
        cr_assert_str_eq(jstr(j, "root"), want_root, "%s", addr);
        cr_assert_eq(jint(j, "size"), (long long)U[rt].size, "%s", addr);
        cr_assert_eq(json_is_true(json_object_get(j, "merged")), U[rt].size > 1);
        cr_assert(json_is_null(json_object_get(j, "joined_by")) == (rt == i), "%s", json_dumps(j, 0));
        /* every sample member is in the cluster computed here */
        size_t s;
        json_t *m;
        json_array_foreach(json_object_get(j, "sample"), s, m)
        {
            cw_addr ma;
            cr_assert_eq(cw_addr_parse(json_string_value(m), CW_NET_REGTEST, &ma, NULL), CW_OK);
            cr_assert_eq(uf_root(uf_id(&ma)), rt, "sample %s of %s", json_string_value(m), addr);
        }
        merged += U[rt].size > 1;
        checked++;
        json_decref(j);
    }
    cr_assert_gt(merged, 5, "the chain has multi-input txs: %zu of %zu checked were merged", merged, checked);
    /* the last tx's outputs were never spent: clusters of one */
    char last[CW_ADDR_TEXT_MAX];
    text_of(&G.out[G.tx[G.n_tx - 1].out0].addr, last);
    cr_assert_eq(cw(&j, &err, "cluster", last, "--datadir", dd), 0, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "root"), last);
    cr_assert_eq(jint(j, "size"), 1);
    cr_assert(json_is_false(json_object_get(j, "merged")));
    cr_assert_eq(jint(j, "designated_count"), 0);
    cr_assert(json_is_null(json_object_get(j, "designated_member")));
    json_decref(j);

    /* the designated cluster: a1 shares X's inputs with the designated a0 */
    cw_addr a1a;
    cr_assert_eq(cw_addr_parse(a1, CW_NET_REGTEST, &a1a, NULL), CW_OK);
    size_t a1_root = uf_root(uf_id(&a1a));
    char want_root[WL_KEY_MAX + CW_ADDR_TEXT_MAX];
    wl_key_to_text(U[a1_root].key, U[a1_root].len, want_root, sizeof want_root);
    cr_assert_eq(cw(&j, &err, "cluster", a1, "--datadir", dd), 0, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "root"), want_root);
    cr_assert_eq(jint(j, "size"), (long long)U[a1_root].size);
    cr_assert_eq(jint(j, "designated_count"), 1);
    cr_assert_str_eq(jstr(json_object_get(j, "designated_member"), "address"), a0);
    cr_assert_str_eq(jstr(json_object_get(json_object_get(j, "designated_member"), "entity"), "name"),
                     "Gen \"Q\" \\ front");
    cr_assert(json_is_true(json_object_get(j, "propagates")));
    cr_assert(json_is_false(json_object_get(j, "listed")));
    json_decref(j);
    cr_assert_eq(cw(&j, &err, "screen", a1, "--datadir", dd), 11, "%s", err);
    free(err);
    r = reason_of(json_object_get(j, "reasons"), "cluster");
    cr_assert_str_eq(jstr(r, "decision"), "hold");
    cr_assert_str_eq(jstr(r, "root"), want_root);
    cr_assert_eq(jint(r, "size"), (long long)U[a1_root].size);
    cr_assert_eq(jint(r, "designated_count"), 1);
    cr_assert_str_eq(jstr(json_object_get(r, "designated_member"), "address"), a0);
    cr_assert_str_eq(jstr(json_object_get(r, "entity"), "name"), "Gen \"Q\" \\ front");
    cr_assert_gt(json_array_size(json_object_get(r, "evidence")), 0);
    json_decref(j);
    cr_assert_eq(cw(&j, &err, "screen", a0, "--datadir", dd), 12, "%s", err);
    free(err);
    reason_of(json_object_get(j, "reasons"), "designated");
    json_decref(j);

    /* exposure: X's output o is 1 hop from a0 (hold), Y's output p 2 hops (review) */
    cr_assert_eq(cw(&j, &err, "screen", o_addr, "--datadir", dd), 11, "%s", err);
    free(err);
    r = reason_of(json_object_get(j, "reasons"), "exposure");
    cr_assert_eq(jint(r, "hops"), 1);
    cr_assert_str_eq(jstr(r, "source_address"), a0);
    const char *path_x[] = {x_id}, *path_xy[] = {x_id, y_id};
    assert_txids(json_object_get(r, "path"), path_x, 1);
    json_decref(j);
    cr_assert_eq(cw(&j, &err, "screen", p_addr, "--datadir", dd), 10, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "decision"), "review");
    r = reason_of(json_object_get(j, "reasons"), "exposure");
    cr_assert_eq(jint(r, "hops"), 2);
    cr_assert_str_eq(jstr(r, "source_address"), a0);
    assert_txids(json_object_get(r, "path"), path_xy, 2);
    json_decref(j);
    cr_assert_eq(cw(&j, &err, "screen", p_addr, "--datadir", dd, "--hops", "1"), 0, "beyond --hops: %s", err);
    free(err);
    cr_assert_eq(json_array_size(json_object_get(j, "reasons")), 0);
    json_decref(j);

    /* trace: the path in JSON and as a graph */
    char dot[256];
    snprintf(dot, sizeof dot, "%s/p.dot", root);
    cr_assert_eq(cw(&j, &err, "trace", p_addr, "--datadir", dd, "--dot", dot), 0, "%s", err);
    free(err);
    cr_assert(json_is_true(json_object_get(j, "exposed")));
    json_t *x = json_object_get(j, "exposure");
    cr_assert_eq(jint(x, "hops"), 2);
    cr_assert_str_eq(jstr(x, "source_address"), a0);
    assert_txids(json_object_get(x, "path"), path_xy, 2);
    cr_assert_str_eq(jstr(json_object_get(x, "source_entity"), "name"), "Gen \"Q\" \\ front");
    json_decref(j);
    char *g = slurp(dot);
    assert_dot_syntax(g);
    cr_assert(strstr(g, x_id) && strstr(g, y_id) && strstr(g, a0) && strstr(g, p_addr), "%s", g);
    cr_assert(strstr(g, "Gen \\\"Q\\\" \\\\ front"), "the name escaped: %s", g);
    char *xe = strstr(g, x_id), *ye = strstr(g, y_id);
    cr_assert_lt(xe, ye, "path order");
    free(g);
    if (find_dot()) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "dot -Tsvg '%s' -o '%s/p.svg'", dot, root);
        cr_assert_eq(system(cmd), 0, "graphviz renders it");
    } else {
        cr_log_info("graphviz (dot) not installed: the graph was checked for syntax only");
    }
    /* a1's trace shows its designated cluster; --hops 1 hides p's exposure */
    cr_assert_eq(cw(&j, &err, "trace", a1, "--datadir", dd, "--dot", dot), 0, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(json_object_get(json_object_get(j, "cluster"), "designated_member"), "address"), a0);
    json_decref(j);
    g = slurp(dot);
    assert_dot_syntax(g);
    cr_assert(strstr(g, "cluster:") && strstr(g, a0), "%s", g);
    free(g);
    cr_assert_eq(cw(&j, &err, "trace", p_addr, "--datadir", dd, "--hops", "1"), 0, "%s", err);
    free(err);
    cr_assert(json_is_false(json_object_get(j, "exposed")));
    cr_assert_eq(jint(j, "beyond_hops"), 2);
    json_decref(j);

    /* the same chain with a1 labelled as an exchange: its cluster holds a
     * service, so designation stops there (shown, allowed); a0 still blocks */
    char dd2[160], labels[256];
    snprintf(dd2, sizeof dd2, "%s/dd2", root);
    snprintf(labels, sizeof labels, "%s/labels.csv", root);
    snprintf(list, sizeof list, "chain,address,entity,category,source\nBTC,%s,Test exchange,exchange,test set\n", a1);
    write_text(labels, list);
    cr_assert_eq(cw(NULL, &err, "init", "--datadir", dd2), 0, "%s", err);
    free(err);
    cr_assert_eq(cw(NULL, &err, "watchlist", "import", "csv", path, "--datadir", dd2), 0, "%s", err);
    free(err);
    cr_assert_eq(cw(NULL, &err, "replay", "--blocksdir", blocks, "--datadir", dd2, "--network", "regtest", "--labels",
                    labels),
                 0, "%s", err);
    free(err);
    cr_assert_eq(cw(&j, &err, "cluster", a1, "--datadir", dd2), 0, "%s", err);
    free(err);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "flags"), 0)), "service");
    cr_assert(json_is_false(json_object_get(j, "propagates")));
    cr_assert_str_eq(jstr(j, "service"), "Test exchange");
    cr_assert(strstr(jstr(j, "note"), "do not propagate"), "%s", jstr(j, "note"));
    cr_assert_eq(jint(j, "size"), (long long)U[a1_root].size);
    json_decref(j);
    cr_assert_eq(cw(&j, &err, "screen", a1, "--datadir", dd2, "--labels", labels), 0, "%s", err);
    free(err);
    r = reason_of(json_object_get(j, "reasons"), "cluster");
    cr_assert_str_eq(jstr(r, "decision"), "allow");
    cr_assert(json_is_false(json_object_get(r, "propagates")));
    reason_of(json_object_get(j, "reasons"), "service");
    json_decref(j);
    cr_assert_eq(cw(&j, &err, "screen", a0, "--datadir", dd2), 12, "%s", err);
    free(err);
    json_decref(j);
    free(U), free(G.tx), free(G.in), free(G.out);
    rm_root(root);
}

Test(screen, trace_and_cluster_on_the_node_chain)
{
    char root[64], dd[128], dot[256];
    tmp_root(root, sizeof root);
    snprintf(dd, sizeof dd, "%s/dd", root);
    snprintf(dot, sizeof dot, "%s/t.dot", root);
    regtest_datadir(root, dd, NULL);
    json_t *j;
    char *err;
    cr_assert_eq(cw(&j, &err, "trace", EXPOSED_TAPROOT, "--datadir", dd, "--dot", dot), 0, "%s", err);
    free(err);
    json_t *x = json_object_get(j, "exposure");
    cr_assert_eq(jint(x, "hops"), 1);
    cr_assert_eq(jint(x, "tainted_received"), 30000000);
    cr_assert_str_eq(jstr(x, "source_address"), LISTED_LEGACY);
    cr_assert(strstr(jstr(j, "summary"), "1 hop from " LISTED_LEGACY), "%s", jstr(j, "summary"));
    json_decref(j);
    char *g = slurp(dot);
    assert_dot_syntax(g);
    cr_assert(strstr(g, "\"tx:" TX_0957 "\"") && strstr(g, LISTED_LEGACY) && strstr(g, EXPOSED_TAPROOT), "%s", g);
    cr_assert(strstr(g, "\"addr:" LISTED_LEGACY "\" -> \"tx:" TX_0957 "\""), "source -> tx: %s", g);
    cr_assert(strstr(g, "\"tx:" TX_0957 "\" -> \"addr:" EXPOSED_TAPROOT "\""), "tx -> address: %s", g);
    free(g);
    if (find_dot()) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "dot -Tsvg '%s' >/dev/null", dot);
        cr_assert_eq(system(cmd), 0);
    }
    /* no exposure: said so, exit 0, and a graph of the address alone */
    cr_assert_eq(cw(&j, &err, "trace", CLEAN, "--datadir", dd, "--dot", dot), 0, "%s", err);
    free(err);
    cr_assert(json_is_false(json_object_get(j, "exposed")));
    cr_assert(json_is_null(json_object_get(j, "exposure")));
    cr_assert(json_is_null(json_object_get(j, "beyond_hops")));
    cr_assert(strstr(jstr(j, "summary"), "no designated money"), "%s", jstr(j, "summary"));
    json_decref(j);
    g = slurp(dot);
    assert_dot_syntax(g);
    cr_assert(strstr(g, CLEAN) && !strstr(g, "->"), "%s", g);
    free(g);
    /* a designated address traces to itself */
    cr_assert_eq(cw(&j, &err, "trace", LISTED_SEGWIT, "--datadir", dd), 0, "%s", err);
    free(err);
    cr_assert_eq(json_array_size(json_object_get(j, "designations")), 1);
    json_decref(j);
    /* cluster of an address never merged: itself */
    cr_assert_eq(cw(&j, &err, "cluster", LISTED_LEGACY, "--datadir", dd), 0, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "root"), LISTED_LEGACY);
    cr_assert_eq(jint(j, "size"), 1);
    cr_assert(json_is_false(json_object_get(j, "merged")));
    cr_assert(json_is_true(json_object_get(j, "listed")));
    cr_assert_eq(jint(j, "designated_count"), 1);
    json_decref(j);
    /* errors */
    cr_assert_eq(cw(&j, &err, "cluster", "bcrt1qbogus", "--datadir", dd), 2, "%s", err);
    free(err);
    cr_assert_eq(cw(&j, &err, "trace", EXPOSED_TAPROOT, "--datadir", dd, "--hops", "0"), 2, "%s", err);
    free(err);
    cr_assert_eq(cw(&j, &err, "trace", EXPOSED_TAPROOT, "--datadir", dd, "--dot", "/nonexistent/dir/t.dot"), 1, "%s",
                 err);
    cr_assert(strstr(err, "/nonexistent/dir/t.dot"), "%s", err);
    cr_assert_null(j, "nothing printed when the graph could not be written");
    free(err);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/missing", root);
    cr_assert_eq(cw(&j, &err, "cluster", CLEAN, "--datadir", missing), 3, "%s", err);
    free(err);
    cr_assert_eq(cw(&j, &err, "trace", CLEAN, "--datadir", missing), 3, "%s", err);
    free(err);
    rm_root(root);
}
