/*
 * test_account.c: the account-chain engine (monitor/engine/account.h) with
 * blocks built by hand (no node): account exposure by haircut per asset,
 * hops, services, exact 256-bit shares, a reorg taking it all back, and
 * `screen`, `trace --dot` and `cluster` on EVM addresses.
 *
 * The watchlist is the real OFAC SDN subset: L1 is entity 29702's EVM
 * address. Expected shares are floor(amount * tainted / received),
 * computed by hand in the comments and, for the 256-bit case, with
 * Python's integers (noted there).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chains/addr.h"
#include "monitor/engine/account.h"
#include "monitor/records/keys.h"
#include "tests/support.h"
#include "watchlists/alertdb.h"
#include "watchlists/acct_exposure.h"

#define L1 "0x901bb9583b24d97e995513c6778dc6888ab6870e"
#define A_ "0x1000000000000000000000000000000000000001"
#define B_ "0x2000000000000000000000000000000000000002"
#define C_ "0x3000000000000000000000000000000000000003"
#define D_ "0x4000000000000000000000000000000000000004"
#define E_ "0x5000000000000000000000000000000000000005"
#define X_ "0x6000000000000000000000000000000000000006" /* an exchange (labels) */
#define TOKEN "0x7000000000000000000000000000000000000007"

static cw_addr ad(const char *s)
{
    cw_addr a;
    cw_err err = {0};
    cr_assert_eq(cw_addr_parse(s, 0, &a, &err), CW_OK, "%s: %s", s, err.msg);
    return a;
}

static json_t *lines; /* every record the engine handed over, parsed */
static bool sink(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    if (lines == NULL)
        lines = json_array();
    json_array_append_new(lines, json_loadb(line, len, 0, NULL));
    return true;
}

/* The records of a rule for an address (case-insensitive), in order. */
static size_t records_of(const char *rule, const char *addr, json_t **first)
{
    size_t n = 0, i;
    json_t *r;
    *first = NULL;
    json_array_foreach(lines, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "rule")), rule) == 0 &&
            strcasecmp(json_string_value(json_object_get(r, "address")), addr) == 0) {
            if (n++ == 0)
                *first = r;
        }
    }
    return n;
}
static bool durable(void *ctx) { (void)ctx; return true; }

typedef struct {
    json_t *by_rule; /* rule -> count, from alertdb */
} kept_counts;

static void kept_one(void *ctx, const char *rule, uint64_t n)
{
    json_object_set_new(((kept_counts *)ctx)->by_rule, rule, json_integer((json_int_t)n));
}

/* alertdb's record counts (what /metrics serves) against an independent
 * tally: the distinct ids, by rule, of every record handed over. */
static void counts_match_records(cw_store *s)
{
    json_t *ids = json_object(), *want = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(lines, i, r)
    {
        const char *id = json_string_value(json_object_get(r, "id")), *rule = json_string_value(json_object_get(r, "rule"));
        if (json_object_get(ids, id))
            continue;
        json_object_set_new(ids, id, json_true());
        json_object_set_new(want, rule, json_integer(json_integer_value(json_object_get(want, rule)) + 1));
    }
    kept_counts k = {json_object()};
    store_txn *t;
    cw_err err = {0};
    uint64_t total = 0;
    cr_assert_eq(store_begin(s, false, &t, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(alertdb_count_by_rule(t, kept_one, &k, &total, NULL, &err), CW_OK, "%s", err.msg);
    store_abort(t);
    cr_assert(json_equal(k.by_rule, want), "kept %s, records say %s", json_dumps(k.by_rule, JSON_SORT_KEYS),
              json_dumps(want, JSON_SORT_KEYS));
    cr_assert_eq(total, json_object_size(ids));
    json_decref(ids), json_decref(want), json_decref(k.by_rule);
}

typedef struct {
    account_block b;
    cw_tx tx[8];
    cw_transfer x[8][2];
} hand_block;

/* A block at number on top of parent (hash = number in its last byte). */
static void block_init(hand_block *h, int64_t number)
{
    memset(h, 0, sizeof *h);
    h->b.number = number;
    h->b.hash[31] = (uint8_t)number;
    h->b.hash[0] = 0xbb;
    h->b.parent[31] = (uint8_t)(number - 1);
    h->b.parent[0] = 0xbb;
    h->b.time = 1764000000 + (uint64_t)number * 12;
    h->b.txs = h->tx;
}

/* One tx moving `amount` (decimal) of native coin (token NULL) or a token. */
static void pay(hand_block *h, const char *from, const char *to, const char *amount, const char *token)
{
    size_t i = h->b.n_txs++;
    cw_tx *tx = &h->tx[i];
    tx->chain = CW_CHAIN_EVM;
    tx->txid[0] = 0x7e;
    tx->txid[30] = (uint8_t)h->b.number;
    tx->txid[31] = (uint8_t)i;
    tx->xfer = h->x[i];
    tx->n_xfer = 1;
    cw_transfer *x = &h->x[i][0];
    x->kind = token ? CW_XFER_TOKEN_LOG : CW_XFER_VALUE;
    x->from = ad(from);
    x->to = ad(to);
    if (token) {
        x->asset.kind = CW_ASSET_TOKEN;
        x->asset.contract = ad(token);
    }
    cw_err err = {0};
    cr_assert_eq(cw_u256_from_dec(amount, strlen(amount), &x->amount, &err), CW_OK, "%s", err.msg);
}

typedef struct {
    char *dir;
    cw_store *store;
    uint8_t *sk;
    labels *lb;
    account *a;
} fixture_t;

static void open_engine(fixture_t *f, unsigned hops)
{
    f->dir = strdup("/tmp/cw-acct-XXXXXX");
    cr_assert_not_null(mkdtemp(f->dir));
    char *out, *err;
    char *init[] = {CW_BIN, "init", "--datadir", f->dir, NULL};
    cr_assert_eq(run_cmd(init, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char *imp[] = {CW_BIN, "watchlist", "import", "sdn-csv", CW_DATA_DIR "/ofac/sdn_subset.csv", "--comments",
                   CW_DATA_DIR "/ofac/sdn_comments_subset.csv", "--datadir", f->dir, NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char path[600];
    snprintf(path, sizeof path, "%s/labels.csv", f->dir);
    FILE *lf = fopen(path, "w");
    fprintf(lf, "chain,address,entity,category,source\nETH,%s,Some exchange,exchange,test\n", X_);
    fclose(lf);
    cw_err e = {0};
    labels_stats st;
    cr_assert_eq(labels_load(path, CW_NET_MAIN, &f->lb, &st, &e), CW_OK, "%s", e.msg);
    cr_assert_eq(store_open(f->dir, 0, false, &f->store, &e), CW_OK, "%s", e.msg);
    cr_assert_not_null(f->sk = keys_secret_open(f->dir, &e), "%s", e.msg);
    static const account_source none = {0};
    account_config c = {.store = f->store, .chain = "ethereum", .network = "mainnet", .native_symbol = "ETH",
                        .native_decimals = 18, .chain_id = 1, .net = CW_NET_MAIN, .sk = f->sk, .sink = sink,
                        .durable = durable, .src = &none, .start = -1, .confirmations = 1, .hops = hops,
                        .labels = f->lb};
    cr_assert_eq(account_open(&c, &f->a, &e), CW_OK, "%s", e.msg);
}

static void close_engine(fixture_t *f)
{
    account_close(f->a);
    store_close(f->store);
    keys_secret_free(f->sk);
    labels_free(f->lb);
    test_remove_dir(f->dir);
}

static void connect(fixture_t *f, hand_block *h)
{
    cw_err e = {0};
    cr_assert_eq(account_connect(f->a, &h->b, &e), CW_OK, "block %lld: %s", (long long)h->b.number, e.msg);
}

/* The record of addr for the asset (token NULL: native); false when none. */
static bool exp_of(fixture_t *f, const char *addr, const char *token, acct_exposure *out)
{
    store_txn *t;
    cw_err e = {0};
    cr_assert_eq(store_begin(f->store, false, &t, &e), CW_OK);
    cw_addr a = ad(addr);
    cw_asset as = {0};
    if (token) {
        as.kind = CW_ASSET_TOKEN;
        as.contract = ad(token);
    }
    cw_code rc = acct_exposure_get(t, &a, &as, out, &e);
    store_abort(t);
    cr_assert(rc == CW_OK || rc == CW_ENOTFOUND, "%s", e.msg);
    return rc == CW_OK;
}

static void dec_is(const cw_u256 *v, const char *want)
{
    char s[CW_U256_DEC_MAX];
    cw_u256_to_dec(v, s);
    cr_assert_str_eq(s, want);
}

Test(account, haircut_per_asset_hops_services_and_a_reorg_that_takes_it_back, .timeout = 60)
{
    fixture_t f;
    open_engine(&f, 3);
    hand_block b1, b2, b3, b4;
    block_init(&b1, 1);
    pay(&b1, L1, A_, "100", NULL); /* designated money: A's pool starts, 100 of 100 */
    pay(&b1, C_, A_, "300", NULL); /* clean money dilutes it: 100 of 400 */
    pay(&b1, L1, A_, "5", TOKEN);  /* another asset, another pool */
    pay(&b1, C_, B_, "1000", NULL); /* clean money to an account without a record: nothing kept */
    connect(&f, &b1);
    acct_exposure e;
    cr_assert(exp_of(&f, A_, NULL, &e));
    dec_is(&e.received, "400");
    dec_is(&e.tainted, "100");
    cr_assert_eq(e.hops, 1);
    cr_assert_eq(acct_exposure_share_ppm(&e), 250000);
    cr_assert(exp_of(&f, A_, TOKEN, &e));
    dec_is(&e.tainted, "5");
    cr_assert(!exp_of(&f, B_, NULL, &e), "clean money alone keeps no record");

    block_init(&b2, 2);
    pay(&b2, A_, B_, "40", NULL); /* floor(40 * 100 / 400) = 10, hops 2 */
    pay(&b2, A_, X_, "40", NULL); /* the exchange gets its record ... */
    connect(&f, &b2);
    cr_assert(exp_of(&f, B_, NULL, &e));
    dec_is(&e.received, "40");
    dec_is(&e.tainted, "10");
    cr_assert_eq(e.hops, 2);
    cr_assert_eq(e.txid[31], 0, "the evidence is b2's first tx");
    cr_assert_eq(e.txid[30], 2);
    /* B's payment carried 25% designated money at 2 hops: an indirect_exposure record, hold (>= 10%) */
    json_t *ie;
    cr_assert_eq(records_of("indirect_exposure", B_, &ie), 1);
    cr_assert_str_eq(json_string_value(json_object_get(ie, "amount")), "10");
    cr_assert_str_eq(json_string_value(json_object_get(ie, "transfer_amount")), "40");
    cr_assert_eq(json_integer_value(json_object_get(ie, "share_ppm")), 250000);
    cr_assert_eq(json_integer_value(json_object_get(ie, "hops")), 2);
    cr_assert_str_eq(json_string_value(json_object_get(ie, "decision")), "hold");
    cr_assert(strcasecmp(json_string_value(json_object_get(ie, "source_address")), L1) == 0);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(ie, "entity"), "uid")), "29702");
    /* L1 sent twice in block 1 (two txs): two designated_address records */
    cr_assert_eq(records_of("designated_address", L1, &ie), 2);

    block_init(&b3, 3);
    pay(&b3, B_, D_, "7", NULL);  /* floor(7 * 10 / 40) = floor(1.75) = 1, hops 3 */
    pay(&b3, X_, E_, "40", NULL); /* ... but passes nothing on */
    connect(&f, &b3);
    cr_assert(exp_of(&f, D_, NULL, &e));
    dec_is(&e.tainted, "1");
    cr_assert_eq(e.hops, 3);
    cr_assert(!exp_of(&f, E_, NULL, &e), "a labelled service stops propagation");
    json_t *ie3;
    cr_assert_eq(records_of("indirect_exposure", D_, &ie3), 1, "1 of 7 (14.2857%%) at 3 hops");
    cr_assert_eq(json_integer_value(json_object_get(ie3, "share_ppm")), 142857);
    cr_assert_eq(records_of("indirect_exposure", E_, &ie3), 0);

    block_init(&b4, 4);
    pay(&b4, D_, E_, "1", NULL); /* D is at the hop limit (3): nothing moves on */
    connect(&f, &b4);
    cr_assert(!exp_of(&f, E_, NULL, &e), "--hops 3 ends at D");

    /* a reorg takes every write back, newest block first */
    cw_err err = {0};
    cr_assert_eq(account_disconnect_tip(f.a, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(account_disconnect_tip(f.a, &err), CW_OK, "%s", err.msg);
    cr_assert(!exp_of(&f, D_, NULL, &e));
    cr_assert(exp_of(&f, B_, NULL, &e));
    cr_assert_eq(account_disconnect_tip(f.a, &err), CW_OK, "%s", err.msg);
    cr_assert(!exp_of(&f, B_, NULL, &e));
    cr_assert(exp_of(&f, A_, NULL, &e));
    dec_is(&e.received, "400");
    json_t *rg;
    cr_assert_eq(records_of("indirect_exposure", B_, &rg), 2, "B's record, then its reorged");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(lines, json_array_size(lines) - 1), "status")),
                     "reorged");
    counts_match_records(f.store); /* a reorged record is its id's latest: no id more, none less */
    /* block 2 again, now extending the tip: the same state */
    connect(&f, &b2);
    counts_match_records(f.store);
    cr_assert(exp_of(&f, B_, NULL, &e));
    dec_is(&e.tainted, "10");
    close_engine(&f);
}

Test(account, shares_are_exact_at_256_bits, .timeout = 60)
{
    fixture_t f;
    open_engine(&f, 3);
    /* 2^255 designated and 2^255 - 1 clean: received 2^256 - 1; then 2^254
     * moves on: floor(2^254 * 2^255 / (2^256 - 1)), by Python:
     * (2**254 * 2**255) // (2**256 - 1) */
    hand_block b1, b2;
    block_init(&b1, 1);
    pay(&b1, L1, A_, "57896044618658097711785492504343953926634992332820282019728792003956564819968", TOKEN);
    pay(&b1, C_, A_, "57896044618658097711785492504343953926634992332820282019728792003956564819967", TOKEN);
    connect(&f, &b1);
    block_init(&b2, 2);
    pay(&b2, A_, B_, "28948022309329048855892746252171976963317496166410141009864396001978282409984", TOKEN);
    connect(&f, &b2);
    acct_exposure e;
    cr_assert(exp_of(&f, A_, TOKEN, &e));
    dec_is(&e.received, "115792089237316195423570985008687907853269984665640564039457584007913129639935");
    cr_assert(exp_of(&f, B_, TOKEN, &e));
    dec_is(&e.tainted, "14474011154664524427946373126085988481658748083205070504932198000989141204992");
    /* one more wei to A would pass 2^256 - 1: the pool saturates there (a
     * refusal would stop the chain at this block for good), tainted <= received */
    hand_block b3;
    block_init(&b3, 3);
    pay(&b3, C_, A_, "1", TOKEN);
    connect(&f, &b3);
    cr_assert(exp_of(&f, A_, TOKEN, &e));
    dec_is(&e.received, "115792089237316195423570985008687907853269984665640564039457584007913129639935");
    dec_is(&e.tainted, "57896044618658097711785492504343953926634992332820282019728792003956564819968");
    close_engine(&f);
}

/* Any contract can log Transfer events of any amount from any address: a
 * fake token logging 2^256-1 and then 1 "from" a designated address to A
 * used to make the block fail with CW_ELIMIT, and watch asked for it again
 * at every poll forever: one tx stopped the monitor on every later block.
 * Now both totals saturate at 2^256-1, the block connects, both records
 * are made, and a reorg takes the pool back exactly. */
Test(account, a_fake_token_passing_2_256_does_not_stop_the_chain, .timeout = 60)
{
    fixture_t f;
    open_engine(&f, 3);
    hand_block b1, b2;
    block_init(&b1, 1);
    connect(&f, &b1);
    block_init(&b2, 2);
    pay(&b2, L1, A_, "115792089237316195423570985008687907853269984665640564039457584007913129639935", TOKEN);
    pay(&b2, L1, A_, "1", TOKEN);
    pay(&b2, C_, A_, "115792089237316195423570985008687907853269984665640564039457584007913129639935", TOKEN);
    connect(&f, &b2);
    acct_exposure e;
    cr_assert(exp_of(&f, A_, TOKEN, &e));
    dec_is(&e.received, "115792089237316195423570985008687907853269984665640564039457584007913129639935");
    dec_is(&e.tainted, "115792089237316195423570985008687907853269984665640564039457584007913129639935");
    cr_assert_eq(acct_exposure_share_ppm(&e), 1000000);
    json_t *r;
    cr_assert_eq(records_of("designated_address", L1, &r), 2, "both sends from L1 recorded");
    cw_err err = {0};
    cr_assert_eq(account_disconnect_tip(f.a, &err), CW_OK, "%s", err.msg);
    cr_assert(!exp_of(&f, A_, TOKEN, &e), "the reorg takes the saturated pool back");
    close_engine(&f);
}

Test(account, a_block_that_does_not_extend_the_tip_is_refused)
{
    fixture_t f;
    open_engine(&f, 3);
    hand_block b1, b5;
    block_init(&b1, 1);
    connect(&f, &b1);
    block_init(&b5, 5);
    cw_err err = {0};
    cr_assert_eq(account_connect(f.a, &b5.b, &err), CW_EARG);
    cr_assert(strstr(err.msg, "block 5") && strstr(err.msg, "does not extend our tip 1"), "%s", err.msg);
    close_engine(&f);
}

Test(account, screen_trace_and_cluster_on_evm_addresses, .timeout = 60)
{
    fixture_t f;
    open_engine(&f, 3);
    hand_block b1, b2;
    block_init(&b1, 1);
    pay(&b1, L1, A_, "100", NULL);
    pay(&b1, C_, A_, "300", NULL);
    connect(&f, &b1);
    block_init(&b2, 2);
    pay(&b2, A_, B_, "40", NULL);
    connect(&f, &b2);
    account_close(f.a); /* the verbs read the store themselves */
    f.a = NULL;
    char *out, *err;
    /* B received 10 of 40 designated: 25% >= the 10% hold share */
    char *scr[] = {CW_BIN, "screen", B_, "--datadir", f.dir, NULL};
    int rc = run_cmd(scr, NULL, 0, &out, &err);
    json_t *j = json_loads(out, 0, NULL);
    cr_assert_not_null(j, "%s %s", out, err);
    cr_assert_str_eq(json_string_value(json_object_get(j, "decision")), "hold", "%s", out);
    cr_assert_eq(rc, 11, "hold's exit code: %s", err);
    json_t *r = json_array_get(json_object_get(j, "reasons"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(r, "kind")), "exposure", "%s", out);
    cr_assert_eq(json_integer_value(json_object_get(r, "share_ppm")), 250000);
    cr_assert_str_eq(json_string_value(json_object_get(r, "tainted_received")), "10");
    cr_assert_eq(json_integer_value(json_object_get(r, "hops")), 2);
    cr_assert(strcasecmp(json_string_value(json_object_get(r, "source_address")), L1) == 0, "%s", out);
    json_decref(j);
    free(out), free(err);
    /* trace: JSON and DOT */
    char dot[600];
    snprintf(dot, sizeof dot, "%s/b.dot", f.dir);
    char *tr[] = {CW_BIN, "trace", B_, "--dot", dot, "--datadir", f.dir, NULL};
    cr_assert_eq(run_cmd(tr, NULL, 0, &out, &err), 0, "%s", err);
    j = json_loads(out, 0, NULL);
    cr_assert(json_is_true(json_object_get(j, "exposed")), "%s", out);
    json_t *x = json_array_get(json_object_get(j, "account_exposure"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(x, "received")), "40");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(x, "source_entity"), "uid")), "29702");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(x, "evidence"), 0)),
                     "0x7e00000000000000000000000000000000000000000000000000000000000200");
    json_decref(j);
    free(out), free(err);
    char *g = calloc(1, 1 << 16);
    FILE *df = fopen(dot, "r");
    cr_assert_not_null(df);
    cr_assert_gt(fread(g, 1, (1 << 16) - 1, df), 0);
    fclose(df);
    cr_assert(strstr(g, "digraph chainwatch_trace") && strstr(g, "tx:0x7e0000") && strstr(g, "10 of 40 received"),
              "%s", g);
    free(g);
    /* cluster: not applicable */
    char *cl[] = {CW_BIN, "cluster", A_, "--datadir", f.dir, NULL};
    cr_assert_eq(run_cmd(cl, NULL, 0, &out, &err), 0, "%s", err);
    j = json_loads(out, 0, NULL);
    cr_assert(json_is_false(json_object_get(j, "applicable")), "%s", out);
    cr_assert(strstr(json_string_value(json_object_get(j, "note")), "not applicable") != NULL);
    json_decref(j);
    free(out), free(err);
    close_engine(&f);
}

/* ---------- account_sync against a source of hand-built blocks ---------- */

typedef struct {
    hand_block blk[128];
    int64_t head; /* the node's newest block */
} fake_node;

static cw_code fk_head(void *ctx, int64_t *n, cw_err *err)
{
    (void)err;
    *n = ((fake_node *)ctx)->head;
    return CW_OK;
}
static cw_code fk_hash(void *ctx, int64_t n, uint8_t h[32], cw_err *err)
{
    (void)err;
    fake_node *f = ctx;
    if (n < 1 || n > f->head)
        return CW_ENOTFOUND;
    memcpy(h, f->blk[n].b.hash, 32);
    return CW_OK;
}
static cw_code fk_block(void *ctx, int64_t n, account_block **out, cw_err *err)
{
    (void)err;
    fake_node *f = ctx;
    if (n < 1 || n > f->head)
        return CW_ENOTFOUND;
    *out = &f->blk[n].b;
    return CW_OK;
}
static void fk_free(void *ctx, account_block *b) { (void)ctx, (void)b; }

/* Block n of branch `br` (its hashes differ from other branches' from `from` on). */
static void branch_block(fake_node *f, int64_t n, uint8_t br, int64_t from)
{
    block_init(&f->blk[n], n);
    f->blk[n].b.hash[1] = n >= from ? br : 0;
    f->blk[n].b.parent[1] = n - 1 >= from ? br : 0;
    pay(&f->blk[n], C_, L1, "5", NULL); /* each block pays L1: one confirmed record each */
}

Test(account, sync_follows_waits_for_a_node_behind_and_reorgs_deeper_than_one, .timeout = 60)
{
    static fake_node fk;
    memset(&fk, 0, sizeof fk);
    for (int64_t n = 1; n <= 5; n++)
        branch_block(&fk, n, 0, 99);
    fk.head = 5;
    fixture_t f;
    open_engine(&f, 3);
    /* the engine's source is the fixture's empty one: open another engine on the fake node */
    account_close(f.a);
    account_source src = {&fk, fk_head, NULL, fk_hash, fk_block, fk_free, NULL};
    account_config c = {.store = f.store, .chain = "ethereum", .network = "mainnet", .native_symbol = "ETH",
                        .native_decimals = 18, .chain_id = 1, .net = CW_NET_MAIN, .sk = f.sk, .sink = sink,
                        .durable = durable, .src = &src, .start = 1, .confirmations = 1, .hops = 3};
    cw_err err = {0};
    cr_assert_eq(account_open(&c, &f.a, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(account_sync(f.a, &err), CW_OK, "%s", err.msg);
    pipeline_stats st;
    pipeline_stats_get(account_pipeline(f.a), &st);
    cr_assert_eq(st.tip_height, 5);
    cr_assert_eq(st.blocks_connected, 5);
    cr_assert_eq(st.alerts, 5);
    /* the node restarted and is at 3 of our own chain: wait, keep ours */
    fk.head = 3;
    cr_assert_eq(account_sync(f.a, &err), CW_OK, "%s", err.msg);
    pipeline_stats_get(account_pipeline(f.a), &st);
    cr_assert_eq(st.tip_height, 5);
    cr_assert_eq(st.blocks_disconnected, 0);
    /* a reorg of depth 3: blocks 3..5 replaced by 3'..6' */
    for (int64_t n = 3; n <= 6; n++)
        branch_block(&fk, n, 7, 3);
    fk.head = 6;
    cr_assert_eq(account_sync(f.a, &err), CW_OK, "%s", err.msg);
    pipeline_stats_get(account_pipeline(f.a), &st);
    cr_assert_eq(st.tip_height, 6);
    cr_assert_eq(st.blocks_disconnected, 3);
    cr_assert_eq(st.blocks_connected, 5 + 4);
    cr_assert_eq(st.reorged, 3, "the three confirmed records of 3..5 are reorged");
    /* confirmations 2: a new head 7' is not connected yet */
    account_close(f.a);
    c.confirmations = 2;
    cr_assert_eq(account_open(&c, &f.a, &err), CW_OK, "%s", err.msg);
    branch_block(&fk, 7, 7, 3);
    fk.head = 7;
    cr_assert_eq(account_sync(f.a, &err), CW_OK, "%s", err.msg);
    pipeline_stats_get(account_pipeline(f.a), &st);
    cr_assert_eq(st.tip_height, 6, "7 has one confirmation of the 2 asked");
    /* another chain id on this datadir is refused */
    account_close(f.a);
    c.chain_id = 137;
    f.a = NULL;
    cr_assert_eq(account_open(&c, &f.a, &err), CW_EARG);
    cr_assert(strstr(err.msg, "chain id 1, the node is chain id 137") != NULL, "%s", err.msg);
    close_engine(&f);
}

/* Catching up 100 blocks goes 32 per write transaction (ACCOUNT_CATCHUP_BATCH):
 * every record once, in order, the trail without a hole; a reorg of 40
 * blocks is undone exactly and its replacement connected in batches too.
 * Then a node whose block 100 flips between two branches on every sync:
 * followed 3 times each way, then stopped (CW_ECHECKSUM) with our tip as
 * it was. */
Test(account, catch_up_in_batches_reorg_exactly_and_stop_a_flipping_node, .timeout = 60)
{
    static fake_node fk;
    memset(&fk, 0, sizeof fk);
    for (int64_t n = 1; n <= 100; n++)
        branch_block(&fk, n, 0, 999);
    fk.head = 100;
    fixture_t f;
    open_engine(&f, 0);
    account_close(f.a);
    json_decref(lines);
    lines = NULL;
    account_source src = {&fk, fk_head, NULL, fk_hash, fk_block, fk_free, NULL};
    account_config c = {.store = f.store, .chain = "ethereum", .network = "mainnet", .native_symbol = "ETH",
                        .native_decimals = 18, .chain_id = 1, .net = CW_NET_MAIN, .sk = f.sk, .sink = sink,
                        .durable = durable, .src = &src, .start = 1, .confirmations = 1};
    cw_err err = {0};
    cr_assert_eq(account_open(&c, &f.a, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(account_sync(f.a, &err), CW_OK, "%s", err.msg);
    pipeline_stats st;
    pipeline_stats_get(account_pipeline(f.a), &st);
    cr_assert_eq(st.tip_height, 100);
    cr_assert_eq(st.blocks_connected, 100);
    cr_assert_eq(json_array_size(lines), 100);
    for (size_t i = 0; i < 100; i++) {
        json_t *r = json_array_get(lines, i);
        cr_assert_eq(json_integer_value(json_object_get(r, "seq")), (json_int_t)i + 1, "the trail, in order");
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "block"), "height")), (json_int_t)i + 1);
        cr_assert_str_eq(json_string_value(json_object_get(r, "status")), "confirmed");
    }
    /* 61..100 replaced by 61'..101' */
    for (int64_t n = 61; n <= 101; n++)
        branch_block(&fk, n, 9, 61);
    fk.head = 101;
    cr_assert_eq(account_sync(f.a, &err), CW_OK, "%s", err.msg);
    pipeline_stats_get(account_pipeline(f.a), &st);
    cr_assert_eq(st.tip_height, 101);
    cr_assert_eq(st.blocks_disconnected, 40);
    cr_assert_eq(st.blocks_connected, 100 + 41);
    cr_assert_eq(st.reorged, 40);
    cr_assert_eq(json_array_size(lines), 100 + 40 + 41);
    for (size_t i = 100; i < 140; i++) /* newest first */
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(json_array_get(lines, i), "block"), "height")),
                     (json_int_t)(100 - (i - 100)));
    /* block 101 flips between branch 9 and branch 5 on every sync */
    hand_block b9 = fk.blk[101], b5;
    branch_block(&fk, 101, 5, 101);
    b5 = fk.blk[101];
    b5.b.parent[1] = 9; /* on 100', as 101' is */
    b5.b.txs = b5.tx, b9.b.txs = b9.tx;
    cw_code rc = CW_OK;
    int syncs = 0;
    for (; syncs < 20 && rc == CW_OK; syncs++) {
        fk.blk[101] = syncs % 2 ? b9 : b5;
        fk.blk[101].b.txs = fk.blk[101].tx;
        for (size_t k = 0; k < fk.blk[101].b.n_txs; k++)
            fk.blk[101].tx[k].xfer = fk.blk[101].x[k];
        rc = account_sync(f.a, &err);
    }
    cr_assert_eq(rc, CW_ECHECKSUM, "%s", err.msg);
    cr_assert_eq(syncs, 7, "3 flips each way are followed, the 4th of one block is not (%d)", syncs);
    cr_assert(strstr(err.msg, "flips back and forth: block 101 (0xbb09") && strstr(err.msg, "4. time"), "%s", err.msg);
    pipeline_stats_get(account_pipeline(f.a), &st);
    cr_assert_eq(st.tip_height, 101);
    cr_assert_eq(st.blocks_disconnected, 40 + 6);
    close_engine(&f);
    json_decref(lines);
    lines = NULL;
}
