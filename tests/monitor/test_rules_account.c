/*
 * test_rules_account.c: the pattern rules on account chains
 * (monitor/engine/rules/rules_account.c) through the account engine
 * (account_connect, account_replay), blocks built by hand (no node).
 *
 * The money is the real USDC contract on Ethereum and the real USDT
 * contract on Tron (the built-in tokens, so the symbol path is real), and
 * ETH without a price for the native bands. Each rule fires on its
 * IT-worker shape and not on its legitimate twin (a payroll processor
 * whose employees sweep to their own deposit addresses or an exchange, a
 * freelancer with many clients, DAO contributors).
 *
 * Oracles: dates by hand from 2024-01-01 (a leap year: day 60 is
 * 2024-03-01); amounts: USDC has 6 decimals, so USD 3,000 is 3000000000
 * units and 300000 cents; the USDC and USDT contract texts are the
 * well-known ones (EIP-55 for USDC, base58 for Tron's USDT), not the
 * codec's output. The watchlist is the real OFAC SDN subset: L1 is
 * entity 29702's ETH address.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chains/addr.h"
#include "chains/ethereum/tx.h"
#include "chains/hex.h"
#include "chains/keccak.h"
#include "monitor/engine/account.h"
#include "monitor/records/keys.h"
#include "tests/eth_sign.h"
#include "tests/rules_fault.h"
#include "tests/support.h"
#include "tests/tron_fixture.h"
#include "watchlists/rulestats.h"
#include "watchlists/watchlist.h"

#define T0 1704067200ull /* 2024-01-01 00:00:00 UTC */
/* Day 0 of the blocks built by hand: T0, or (screening a raw tx, which the
 * rules judge as confirmed now) some days before today. */
static uint64_t day0 = T0;
#define USDC "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48" /* as Etherscan prints it */
#define TRON_USDT "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
#define L1 "0x901bb9583b24d97e995513c6778dc6888ab6870e"
#define X_ "0x6000000000000000000000000000000000000006" /* an exchange (labels) */
#define SALARY "3000000000"   /* USD 3,000 in USDC */
#define TINY "50000000"       /* USD 50 */
#define SWEEP "9000000000"    /* three salaries */
#define KEY46_ADDR "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F" /* eth_sign.h's ETH_TEST_KEY: every raw tx's signer */

static const char *str(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static json_int_t num(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

/* An account of the chain: 20 bytes, all zero but the first (0x10 + hi)
 * and the last (lo); its text has digits only on Ethereum. */
static cw_addr acct(cw_chain chain, unsigned n)
{
    uint8_t p[20] = {0};
    p[0] = (uint8_t)(0x10 + (n >> 8));
    p[19] = (uint8_t)n;
    cw_addr a;
    cw_addr_set(&a, chain, CW_NET_MAIN, chain == CW_CHAIN_TRON ? CW_ADDR_TRON : CW_ADDR_EVM, 0, p, 20);
    return a;
}

static cw_addr parse(const char *s)
{
    cw_addr a;
    cw_err err = {0};
    cr_assert_eq(cw_addr_parse(s, 0, &a, &err), CW_OK, "%s: %s", s, err.msg);
    return a;
}

/* The address's text (static buffers, 8 in turn). */
static const char *text(const cw_addr *a)
{
    static char buf[8][CW_ADDR_TEXT_MAX];
    static int at;
    char *b = buf[at++ % 8];
    cr_assert(cw_addr_format(a, b, CW_ADDR_TEXT_MAX) > 0);
    return b;
}

static const char *const pattern_rules[] = {"shared_payout", "consolidator", "payout_toward_designated",
                                            "off_ramp_after_pool", "test_then_salary", NULL};

static bool is_pattern(const char *rule)
{
    for (int i = 0; pattern_rules[i]; i++)
        if (strcmp(rule, pattern_rules[i]) == 0)
            return true;
    return false;
}

/* ---------- the engine over a fresh datadir ---------- */

typedef struct {
    char *dir;
    cw_store *store;
    uint8_t *sk;
    labels *lb;
    tokens_table tokens;
    rules_config rc;
    prices *px;
    account *a;
    json_t *lines; /* every record handed over, parsed */
    cw_chain chain;
    int64_t number; /* the next block's */
} eng;

static bool sink(void *ctx, const char *line, size_t len)
{
    eng *e = ctx;
    json_t *r = json_loadb(line, len, 0, NULL);
    cr_assert_not_null(r);
    json_array_append_new(e->lines, r);
    return true;
}
static bool durable(void *ctx) { (void)ctx; return true; }

static void eng_open(eng *e, cw_chain chain, const char *prices_csv)
{
    memset(e, 0, sizeof *e);
    e->chain = chain;
    e->number = 1;
    e->lines = json_array();
    e->dir = strdup("/tmp/cw-acctrules-XXXXXX");
    cr_assert_not_null(mkdtemp(e->dir));
    char *out, *err;
    char *init[] = {CW_BIN, "init", "--datadir", e->dir, NULL};
    cr_assert_eq(run_cmd(init, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char *imp[] = {CW_BIN, "watchlist", "import", "sdn-csv", CW_DATA_DIR "/ofac/sdn_subset.csv", "--comments",
                   CW_DATA_DIR "/ofac/sdn_comments_subset.csv", "--datadir", e->dir, NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char path[600];
    snprintf(path, sizeof path, "%s/labels.csv", e->dir);
    FILE *lf = fopen(path, "w");
    cr_assert_not_null(lf);
    cw_addr tx_ = acct(CW_CHAIN_TRON, 0x600);
    fprintf(lf, "chain,address,entity,category,source\nETH,%s,Some exchange,exchange,test\nTRON,%s,Some exchange,exchange,test\n",
            X_, text(&tx_));
    fclose(lf);
    cw_err er = {0};
    cr_assert_eq(labels_load(path, CW_NET_MAIN, &e->lb, NULL, &er), CW_OK, "%s", er.msg);
    cr_assert_eq(tokens_init(&e->tokens, &er), CW_OK, "%s", er.msg);
    rules_config_default(&e->rc);
    e->rc.labels = e->lb;
    if (prices_csv) {
        cr_assert_eq(prices_parse(prices_csv, strlen(prices_csv), "prices.csv", &e->px, &er), CW_OK, "%s", er.msg);
        e->rc.prices = e->px;
    }
    cr_assert_eq(store_open(e->dir, 0, false, &e->store, &er), CW_OK, "%s", er.msg);
    cr_assert_not_null(e->sk = keys_secret_open(e->dir, &er), "%s", er.msg);
}

static const account_source no_source = {0};

static void eng_start(eng *e, const account_source *src)
{
    bool tron = e->chain == CW_CHAIN_TRON;
    account_config c = {.store = e->store, .chain = tron ? "tron" : "ethereum", .network = "mainnet",
                        .native_symbol = tron ? "TRX" : "ETH", .native_decimals = tron ? 6 : 18,
                        .chain_id = tron ? 728126428 : 1, .net = CW_NET_MAIN, .sk = e->sk, .sink = sink,
                        .durable = durable, .sink_ctx = e, .src = src ? src : &no_source, .start = -1,
                        .confirmations = 1, .tokens = &e->tokens, .hops = 0, .labels = e->lb, .rules = &e->rc};
    cw_err er = {0};
    cr_assert_eq(account_open(&c, &e->a, &er), CW_OK, "%s", er.msg);
}

static void eng_stop(eng *e)
{
    account_close(e->a);
    e->a = NULL;
}

static void eng_close(eng *e)
{
    eng_stop(e);
    store_close(e->store);
    keys_secret_free(e->sk);
    labels_free(e->lb);
    tokens_free(&e->tokens);
    prices_free(e->px);
    json_decref(e->lines);
    test_remove_dir(e->dir);
}

/* ---------- blocks by hand ---------- */

#define BLOCK_TXS 16

typedef struct {
    account_block b;
    cw_tx tx[BLOCK_TXS];
    cw_transfer x[BLOCK_TXS];
} hand_block;

/* Block `number` on day `day` (its parent is number - 1). */
static void block_init(hand_block *h, int64_t number, unsigned day)
{
    memset(h, 0, sizeof *h);
    h->b.number = number;
    h->b.hash[0] = 0xbb;
    h->b.hash[30] = (uint8_t)(number >> 8);
    h->b.hash[31] = (uint8_t)number;
    h->b.parent[0] = 0xbb;
    h->b.parent[30] = (uint8_t)((number - 1) >> 8);
    h->b.parent[31] = (uint8_t)(number - 1);
    h->b.time = day0 + (uint64_t)day * 86400;
    h->b.txs = h->tx;
}

/* One tx moving amount (decimal base units) of token (NULL: the native coin). */
static cw_tx *pay(hand_block *h, const cw_addr *from, const cw_addr *to, const char *amount, const char *token)
{
    cr_assert_lt(h->b.n_txs, BLOCK_TXS);
    size_t i = h->b.n_txs++;
    cw_tx *tx = &h->tx[i];
    tx->chain = from->chain;
    tx->txid[0] = 0x7e;
    tx->txid[29] = (uint8_t)(h->b.number >> 8);
    tx->txid[30] = (uint8_t)h->b.number;
    tx->txid[31] = (uint8_t)i;
    tx->xfer = &h->x[i];
    tx->n_xfer = 1;
    cw_transfer *x = &h->x[i];
    x->kind = token ? CW_XFER_TOKEN_LOG : CW_XFER_VALUE;
    x->from = *from;
    x->to = *to;
    if (token) {
        x->asset.kind = CW_ASSET_TOKEN;
        x->asset.contract = parse(token);
    }
    cw_err err = {0};
    cr_assert_eq(cw_u256_from_dec(amount, strlen(amount), &x->amount, &err), CW_OK, "%s", err.msg);
    return tx;
}

/* The txid of a block's i-th tx as records print it. */
static const char *txid_of(const eng *e, int64_t number, unsigned i)
{
    static char buf[4][67];
    static int at;
    char *b = buf[at++ % 4];
    uint8_t id[32] = {0};
    id[0] = 0x7e, id[29] = (uint8_t)(number >> 8), id[30] = (uint8_t)number, id[31] = (uint8_t)i;
    if (e->chain == CW_CHAIN_TRON) {
        cw_hex_encode(id, 32, b);
    } else {
        b[0] = '0', b[1] = 'x';
        cw_hex_encode(id, 32, b + 2);
    }
    return b;
}

/* A day's block: up to 8 payments of one amount and asset, from[i] to to[i]. */
typedef struct {
    hand_block *blocks;
    size_t n, cap;
} chain_log;

static chain_log kept; /* every block connected, for the replay and the reorg tests */

static void connect_block(eng *e, hand_block *h)
{
    cw_err er = {0};
    cr_assert_eq(account_connect(e->a, &h->b, &er), CW_OK, "block %lld: %s", (long long)h->b.number, er.msg);
}

/* Builds day's block with n payments, connects it (when e) and keeps it
 * (in `kept`); returns its number. */
static int64_t day_pays(eng *e, unsigned day, size_t n, const cw_addr *from, const cw_addr *to, const char *amount,
                        const char *token)
{
    if (kept.n == kept.cap) {
        kept.cap = kept.cap ? kept.cap * 2 : 64;
        kept.blocks = realloc(kept.blocks, kept.cap * sizeof *kept.blocks);
        cr_assert_not_null(kept.blocks);
    }
    hand_block *h = &kept.blocks[kept.n++];
    block_init(h, e->number++, day);
    for (size_t i = 0; i < n; i++)
        pay(h, &from[i], &to[i], amount, token);
    h->b.txs = h->tx; /* the array moved with realloc: point at its own txs */
    for (size_t i = 0; i < h->b.n_txs; i++)
        h->tx[i].xfer = &h->x[i];
    connect_block(e, h);
    return h->b.number;
}

static int64_t day_pay(eng *e, unsigned day, const cw_addr *from, const cw_addr *to, const char *amount,
                       const char *token)
{
    return day_pays(e, day, 1, from, to, amount, token);
}

static void kept_reset(void)
{
    free(kept.blocks);
    memset(&kept, 0, sizeof kept);
}

/* The pattern records handed over (confirmed), in order. */
static json_t *patterns(eng *e)
{
    json_t *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(e->lines, i, r)
    {
        if (is_pattern(str(r, "rule")) && strcmp(str(r, "status"), "confirmed") == 0)
            json_array_append(out, r);
    }
    return out;
}

/* The fields that differ between two runs: when seen, the signature and
 * the trail (its hash covers seen_at). */
static char *stable(json_t *r)
{
    json_t *c = json_deep_copy(r);
    json_object_del(c, "seen_at");
    json_object_del(c, "sig");
    json_object_del(c, "prev");
    char *s = json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(c);
    return s;
}

/* ---------- shared_payout ---------- */

/* Two payers pay W USD 3,000 on days 0/30/60 and 1/31/61. */
static void shared_scenario(eng *e, const cw_addr *w, const cw_addr *p1, const cw_addr *p2, const char *amount,
                            const char *token)
{
    unsigned days[] = {0, 30, 60};
    for (int k = 0; k < 3; k++) {
        day_pay(e, days[k], p1, w, amount, token);
        day_pay(e, days[k] + 1, p2, w, amount, token);
    }
}

Test(rules_account, shared_payout_in_usdc_with_the_exact_record, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr w = acct(CW_CHAIN_EVM, 0x100), p1 = acct(CW_CHAIN_EVM, 1), p2 = acct(CW_CHAIN_EVM, 2);
    shared_scenario(&e, &w, &p1, &p2, SALARY, USDC);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 1, "exactly one pattern record: %s", json_dumps(recs, 0));
    json_t *r = json_deep_copy(json_array_get(recs, 0));
    /* what the engine adds to every record: checked, then left out */
    cr_assert_eq(strlen(str(r, "id")), 32);
    cr_assert(str(r, "seen_at") && str(r, "sig") && str(r, "prev"));
    cr_assert_gt(num(r, "seq"), 0);
    const char *fields[] = {"id", "seen_at", "sig", "prev", "seq", NULL};
    for (int i = 0; fields[i]; i++)
        json_object_del(r, fields[i]);
    char want[4096];
    /* block 6 (day 61, 2024-03-02 = 1709337600), its only tx */
    snprintf(
        want, sizeof want,
        "{\"rule\":\"shared_payout\",\"severity\":\"medium\",\"risk\":\"medium\",\"score\":2,\"decision\":\"review\","
        "\"status\":\"confirmed\",\"chain\":\"ethereum\",\"network\":\"mainnet\",\"txid\":\"%s\","
        "\"block\":{\"hash\":\"0xbb0000000000000000000000000000000000000000000000000000000000%04x\",\"height\":6,"
        "\"time\":1709337600},\"direction\":null,\"address\":\"%s\",\"entity\":null,\"amount\":\"3000000000\","
        "\"amount_usd_cents\":300000,\"asset\":{\"kind\":\"token\",\"contract\":\"" USDC "\",\"symbol\":\"USDC\","
        "\"decimals\":6},"
        "\"evidence\":{\"payers\":["
        "{\"payer\":\"%s\",\"payments\":3,\"tiny_first\":false,\"first\":\"2024-01-01\",\"last\":\"2024-03-01\","
        "\"first_txid\":\"%s\",\"last_txid\":\"%s\",\"total_usd_cents\":900000,\"total_base_units\":0,"
        "\"min_gap_days\":30,\"max_gap_days\":30},"
        "{\"payer\":\"%s\",\"payments\":3,\"tiny_first\":false,\"first\":\"2024-01-02\",\"last\":\"2024-03-02\","
        "\"first_txid\":\"%s\",\"last_txid\":\"%s\",\"total_usd_cents\":900000,\"total_base_units\":0,"
        "\"min_gap_days\":30,\"max_gap_days\":30}],"
        "\"recurring_payers\":2,\"payers_total\":2,\"payers_not_listed\":0,\"received_usd_cents\":1800000,"
        "\"received_base_units\":0},"
        "\"explanation\":\"%s is paid salary-sized amounts on a monthly-like cadence (gaps of 20-130 days) by 2 "
        "unrelated payers (distinct wallets; 2 distinct payers in all): one payout address shared by several personas, "
        "as DPRK IT workers do. "
        "This payment: USD 3000.00 from %s.\"}",
        txid_of(&e, 6, 0), 6, text(&w), text(&p1), txid_of(&e, 1, 0), txid_of(&e, 5, 0), text(&p2), txid_of(&e, 2, 0),
        txid_of(&e, 6, 0), text(&w), text(&p2));
    json_error_t je;
    json_t *exp = json_loads(want, 0, &je);
    cr_assert_not_null(exp, "%s at %d", je.text, je.position);
    char *got = json_dumps(r, JSON_SORT_KEYS | JSON_COMPACT), *wanted = json_dumps(exp, JSON_SORT_KEYS | JSON_COMPACT);
    cr_assert_str_eq(got, wanted);
    free(got), free(wanted);
    json_decref(exp), json_decref(r), json_decref(recs);
    eng_close(&e);
    kept_reset();
}

Test(rules_account, no_shared_payout_for_a_freelancer_with_many_clients, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr f = acct(CW_CHAIN_EVM, 0x101);
    /* five clients pay per invoice, 3 times each, 10 days apart (no
     * monthly cadence); a sixth is a monthly retainer: one recurring payer */
    for (unsigned c = 0; c < 5; c++) {
        cw_addr cl = acct(CW_CHAIN_EVM, 0x20 + c);
        for (unsigned k = 0; k < 3; k++)
            day_pay(&e, 2 + c * 3 + k * 10, &cl, &f, SALARY, USDC);
    }
    cw_addr retainer = acct(CW_CHAIN_EVM, 0x30);
    for (unsigned k = 0; k < 4; k++)
        day_pay(&e, 1 + k * 30, &retainer, &f, SALARY, USDC);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 0, "%s", json_dumps(recs, 0));
    json_decref(recs);
    eng_close(&e);
    kept_reset();
}

Test(rules_account, shared_payout_in_eth_without_a_price_uses_the_eth_band, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr w = acct(CW_CHAIN_EVM, 0x102), p1 = acct(CW_CHAIN_EVM, 3), p2 = acct(CW_CHAIN_EVM, 4);
    /* 1.5 ETH: in the ETH salary band (0.75-6) */
    shared_scenario(&e, &w, &p1, &p2, "1500000000000000000", NULL);
    /* 10 ETH a month is above the band: no payment the rules keep */
    cw_addr w2 = acct(CW_CHAIN_EVM, 0x103), p3 = acct(CW_CHAIN_EVM, 5), p4 = acct(CW_CHAIN_EVM, 6);
    shared_scenario(&e, &w2, &p3, &p4, "10000000000000000000", NULL);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 1, "%s", json_dumps(recs, 0));
    json_t *r = json_array_get(recs, 0);
    cr_assert_str_eq(str(r, "rule"), "shared_payout");
    cr_assert_str_eq(str(r, "address"), text(&w));
    cr_assert_str_eq(str(r, "amount"), "1500000000000000000");
    cr_assert(json_is_null(json_object_get(r, "amount_usd_cents")));
    json_t *as = json_object_get(r, "asset");
    cr_assert_str_eq(str(as, "kind"), "native");
    cr_assert_str_eq(str(as, "symbol"), "ETH");
    cr_assert_eq(num(as, "decimals"), 18);
    json_t *ev = json_object_get(r, "evidence");
    cr_assert_eq(num(ev, "received_usd_cents"), 0);
    cr_assert_eq(num(ev, "received_base_units"), 9000000000000000000LL); /* 6 x 1.5 ETH */
    cr_assert(strstr(str(r, "explanation"), "This payment: 1.5 ETH from "), "%s", str(r, "explanation"));
    json_decref(recs);
    eng_close(&e);
    kept_reset();
}

Test(rules_account, eth_with_a_price_is_judged_in_usd, .timeout = 60)
{
    eng e;
    /* ETH at USD 2,000 from 2023-12-31 on: 1.5 ETH is USD 3,000.00; 10 ETH
     * (USD 20,000) is above the USD band */
    eng_open(&e, CW_CHAIN_EVM, "date,asset,usd\n2023-12-31,ETH,2000\n");
    eng_start(&e, NULL);
    cw_addr w = acct(CW_CHAIN_EVM, 0x104), p1 = acct(CW_CHAIN_EVM, 7), p2 = acct(CW_CHAIN_EVM, 8);
    shared_scenario(&e, &w, &p1, &p2, "1500000000000000000", NULL);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 1, "%s", json_dumps(recs, 0));
    json_t *r = json_array_get(recs, 0);
    cr_assert_eq(num(r, "amount_usd_cents"), 300000);
    cr_assert_eq(num(json_object_get(r, "evidence"), "received_usd_cents"), 1800000);
    cr_assert(strstr(str(r, "explanation"), "This payment: USD 3000.00 from "), "%s", str(r, "explanation"));
    json_decref(recs);
    eng_close(&e);
    kept_reset();
}

/* ---------- test_then_salary ---------- */

Test(rules_account, test_then_salary_fires_low_and_not_after_the_window, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr p = acct(CW_CHAIN_EVM, 9), u = acct(CW_CHAIN_EVM, 0x105), w = acct(CW_CHAIN_EVM, 0x106);
    cw_addr dao = acct(CW_CHAIN_EVM, 10), c = acct(CW_CHAIN_EVM, 0x107), friend_ = acct(CW_CHAIN_EVM, 11),
            g = acct(CW_CHAIN_EVM, 0x108);
    day_pay(&e, 0, &p, &u, SALARY, USDC);  /* p pays salaries: its tiny payments count */
    day_pay(&e, 0, &dao, &u, SALARY, USDC);
    int64_t tiny = day_pay(&e, 2, &p, &w, TINY, USDC);
    int64_t sal = day_pay(&e, 10, &p, &w, SALARY, USDC);
    /* twin: the DAO tests its contributor's address, pays the first salary
     * two months later (past the 45-day window) */
    day_pay(&e, 2, &dao, &c, TINY, USDC);
    day_pay(&e, 62, &dao, &c, SALARY, USDC);
    /* twin: a tiny payment from a payer that pays no salaries is not kept */
    day_pay(&e, 3, &friend_, &g, TINY, USDC);
    day_pay(&e, 5, &friend_, &g, SALARY, USDC);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 1, "%s", json_dumps(recs, 0));
    json_t *r = json_array_get(recs, 0);
    cr_assert_str_eq(str(r, "rule"), "test_then_salary");
    cr_assert_str_eq(str(r, "address"), text(&w));
    cr_assert_str_eq(str(r, "txid"), txid_of(&e, sal, 0));
    cr_assert_str_eq(str(r, "severity"), "low");
    cr_assert_str_eq(str(r, "risk"), "low");
    cr_assert_eq(num(r, "score"), 1);
    cr_assert_str_eq(str(r, "decision"), "review");
    cr_assert_str_eq(str(r, "amount"), SALARY);
    json_t *ev = json_object_get(r, "evidence");
    cr_assert_str_eq(str(ev, "payer"), text(&p));
    cr_assert_eq(json_is_true(json_object_get(ev, "tiny_first")), true);
    cr_assert_str_eq(str(ev, "first"), "2024-01-03");
    cr_assert_str_eq(str(ev, "first_txid"), txid_of(&e, tiny, 0));
    cr_assert_eq(num(ev, "test_usd_cents"), 5000);
    cr_assert_eq(num(ev, "test_base_units"), 50000000);
    cr_assert_eq(num(ev, "salary_usd_cents"), 300000);
    char want[600];
    snprintf(want, sizeof want, "%s was first paid a tiny amount (USD 50.00 on 2024-01-03) and then a salary-sized "
                                "one (USD 3000.00) by the same payer %s:",
             text(&w), text(&p));
    cr_assert(strstr(str(r, "explanation"), want), "%s", str(r, "explanation"));
    json_decref(recs);
    eng_close(&e);
    kept_reset();
}

/* ---------- consolidator, payout_toward_designated toward it, off_ramp_after_pool ---------- */

/* Five payouts, each paid USD 3,000 on days 0, 30, 60 by its own payer,
 * each sweeping its USD 9,000 into `into[i]` on days 62..66; then, when
 * pieces, the pool sends 3 pieces of USD 10,000 to the exchange X on days
 * 70-72. Returns the number of the first sweep's block. */
static int64_t pool_scenario(eng *e, unsigned base, const cw_addr *into, bool pieces)
{
    cw_addr payer[5], payout[5];
    const char *usd = e->chain == CW_CHAIN_TRON ? TRON_USDT : USDC; /* Tron: USDT, the same amounts */
    for (unsigned i = 0; i < 5; i++)
        payer[i] = acct(e->chain, base + i), payout[i] = acct(e->chain, base + 0x100 + i);
    unsigned days[] = {0, 30, 60};
    for (int k = 0; k < 3; k++)
        day_pays(e, days[k], 5, payer, payout, SALARY, usd);
    int64_t first = 0;
    for (unsigned i = 0; i < 5; i++) {
        int64_t n = day_pay(e, 62 + i, &payout[i], &into[i], SWEEP, usd);
        if (i == 0)
            first = n;
    }
    if (pieces) {
        cw_addr x = parse(X_);
        for (unsigned k = 0; k < 3; k++)
            day_pay(e, 70 + k, &into[0], &x, "10000000000", usd);
    }
    return first;
}

Test(rules_account, consolidator_toward_pool_and_off_ramp_with_exact_records, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr q = acct(CW_CHAIN_EVM, 0x500), into[5] = {q, q, q, q, q};
    int64_t first = pool_scenario(&e, 0x40, into, true);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 7, "%s", json_dumps(recs, JSON_INDENT(1)));
    /* the fifth sweep (day 66) makes q a consolidator */
    json_t *r = json_array_get(recs, 0);
    cr_assert_str_eq(str(r, "rule"), "consolidator");
    cr_assert_str_eq(str(r, "address"), text(&q));
    cr_assert_str_eq(str(r, "txid"), txid_of(&e, first + 4, 0));
    cr_assert_str_eq(str(r, "severity"), "high");
    cr_assert_str_eq(str(r, "risk"), "high");
    cr_assert_eq(num(r, "score"), 3);
    cr_assert_str_eq(str(r, "decision"), "hold");
    cr_assert_str_eq(str(r, "amount"), SWEEP);
    cr_assert_eq(num(r, "amount_usd_cents"), 900000);
    json_t *ev = json_object_get(r, "evidence");
    cr_assert_eq(num(ev, "sources_in_window"), 5);
    cr_assert_eq(json_array_size(json_object_get(ev, "sources")), 5);
    cr_assert_eq(num(ev, "pooled_usd_cents"), 4500000);
    cr_assert_str_eq(str(ev, "window_from"), "2024-01-05"); /* day 66 - 62 = day 4 */
    cr_assert_str_eq(str(ev, "window_to"), "2024-03-07");
    json_t *s0 = json_array_get(json_object_get(ev, "sources"), 0);
    cw_addr w0 = acct(CW_CHAIN_EVM, 0x140);
    cr_assert_str_eq(str(s0, "source"), text(&w0));
    cr_assert_eq(num(s0, "payments"), 1);
    cr_assert_str_eq(str(s0, "last_txid"), txid_of(&e, first, 0));
    cr_assert(strstr(str(r, "explanation"), "pools money from 5 payout addresses"), "%s", str(r, "explanation"));
    cr_assert(strstr(str(r, "explanation"), "USD 45000.00 in all so far"), "%s", str(r, "explanation"));
    /* then each payout that fed it, naming its payer */
    for (unsigned i = 0; i < 5; i++) {
        json_t *t = json_array_get(recs, 1 + i);
        cw_addr w = acct(CW_CHAIN_EVM, 0x140 + i), payer = acct(CW_CHAIN_EVM, 0x40 + i);
        cr_assert_str_eq(str(t, "rule"), "payout_toward_designated");
        cr_assert_str_eq(str(t, "address"), text(&w));
        cr_assert_str_eq(str(t, "txid"), txid_of(&e, first + 4, 0));
        cr_assert_str_eq(str(t, "severity"), "severe");
        cr_assert_str_eq(str(t, "risk"), "high");
        cr_assert_eq(num(t, "score"), 3);
        cr_assert_str_eq(str(t, "decision"), "hold");
        json_t *tev = json_object_get(t, "evidence");
        cr_assert_str_eq(str(tev, "target"), text(&q));
        cr_assert_str_eq(str(tev, "target_kind"), "consolidator");
        cr_assert_str_eq(str(tev, "swept_into_pool_txid"), txid_of(&e, first + i, 0));
        json_t *py = json_array_get(json_object_get(tev, "payers"), 0);
        cr_assert_str_eq(str(py, "payer"), text(&payer));
        cr_assert_eq(num(py, "payments"), 3);
        cr_assert_eq(num(py, "total_usd_cents"), 900000);
    }
    /* three pieces to a labelled exchange: the off-ramp, on the third */
    r = json_array_get(recs, 6);
    cr_assert_str_eq(str(r, "rule"), "off_ramp_after_pool");
    cr_assert_str_eq(str(r, "address"), text(&q));
    cr_assert_str_eq(str(r, "txid"), txid_of(&e, first + 7, 0));
    cr_assert_str_eq(str(r, "severity"), "high");
    cr_assert_str_eq(str(r, "risk"), "high");
    cr_assert_eq(num(r, "score"), 5);
    cr_assert_str_eq(str(r, "amount"), "10000000000");
    ev = json_object_get(r, "evidence");
    cr_assert_str_eq(str(ev, "service"), X_);
    cr_assert_str_eq(str(ev, "service_entity"), "Some exchange");
    cr_assert_str_eq(str(ev, "service_category"), "exchange");
    cr_assert_eq(num(ev, "pieces"), 3);
    cr_assert_eq(num(ev, "off_ramped_usd_cents"), 3000000);
    cr_assert_eq(num(ev, "hops"), 1);
    cr_assert_str_eq(str(ev, "left_pool_txid"), txid_of(&e, first + 7, 0));
    cr_assert(strstr(str(r, "explanation"), "in 3 payments so far (USD 30000.00 in all; this one to " X_
                                            ", Some exchange)"),
              "%s", str(r, "explanation"));
    json_decref(recs);
    eng_close(&e);
    kept_reset();
}

Test(rules_account, no_pool_when_a_payroll_processors_employees_sweep_to_their_own_deposits, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    /* one processor pays five employees; three sweep to their own deposit
     * addresses, two to a labelled exchange (never a payee) */
    cw_addr proc = acct(CW_CHAIN_EVM, 0x60), emp[5], dep[5], x = parse(X_);
    for (unsigned i = 0; i < 5; i++)
        emp[i] = acct(CW_CHAIN_EVM, 0x160 + i), dep[i] = i < 3 ? acct(CW_CHAIN_EVM, 0x560 + i) : x;
    cw_addr procs[5] = {proc, proc, proc, proc, proc};
    unsigned days[] = {0, 30, 60};
    for (int k = 0; k < 3; k++)
        day_pays(&e, days[k], 5, procs, emp, SALARY, USDC);
    for (unsigned i = 0; i < 5; i++)
        day_pay(&e, 62 + i, &emp[i], &dep[i], SWEEP, USDC);
    /* and each deposit address goes on to the exchange in pieces */
    for (unsigned i = 0; i < 3; i++)
        for (unsigned k = 0; k < 3; k++)
            day_pay(&e, 70 + k, &dep[i], &x, "3000000000", USDC);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 0, "%s", json_dumps(recs, 0));
    json_decref(recs);
    eng_close(&e);
    kept_reset();
}

/* ---------- payout_toward_designated (a designated address) ---------- */

/* A payout paid on days 0, 30, 60 by e sends its pay to m (day 62), m
 * sends on to the designated L1 (day 63). Twins: DAO contributors paid
 * monthly whose money goes on in pieces to an ordinary address, and a
 * one-off payee whose money reaches L1 the same way. Returns the number
 * of the block of the payout's sweep (the hit is the next block). */
static int64_t designated_scenario(eng *e, cw_addr *w_out, cw_addr *e_out)
{
    cw_addr emp = acct(CW_CHAIN_EVM, 0x70), w = acct(CW_CHAIN_EVM, 0x170), m = acct(CW_CHAIN_EVM, 0x570), l1 = parse(L1);
    cw_addr dao = acct(CW_CHAIN_EVM, 0x71), c[3], daos[3] = {dao, dao, dao};
    for (unsigned i = 0; i < 3; i++)
        c[i] = acct(CW_CHAIN_EVM, 0x171 + i);
    cw_addr m2 = acct(CW_CHAIN_EVM, 0x571), n = acct(CW_CHAIN_EVM, 0x572), o = acct(CW_CHAIN_EVM, 0x174),
            m3 = acct(CW_CHAIN_EVM, 0x573);
    unsigned days[] = {0, 30, 60};
    day_pay(e, 0, &dao, &o, SALARY, USDC); /* the one-off payee */
    day_pay(e, 5, &o, &m3, "2500000000", USDC);
    day_pay(e, 6, &m3, &l1, "2000000000", USDC);
    for (int k = 0; k < 3; k++) {
        day_pay(e, days[k], &emp, &w, SALARY, USDC);
        day_pays(e, days[k], 3, daos, c, SALARY, USDC);
    }
    int64_t sweep = day_pay(e, 62, &w, &m, SWEEP, USDC);
    day_pay(e, 63, &m, &l1, "8000000000", USDC);
    for (unsigned i = 0; i < 3; i++)
        for (unsigned k = 0; k < 3; k++)
            day_pay(e, 64 + k, &c[i], &m2, "1000000000", USDC);
    day_pay(e, 70, &m2, &n, "5000000000", USDC);
    *w_out = w;
    *e_out = emp;
    return sweep;
}

Test(rules_account, payout_toward_designated_names_the_payer_and_screen_shows_it, .timeout = 90)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr w, emp, l1 = parse(L1);
    int64_t sweep = designated_scenario(&e, &w, &emp);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 1, "%s", json_dumps(recs, 0));
    json_t *r = json_array_get(recs, 0);
    cr_assert_str_eq(str(r, "rule"), "payout_toward_designated");
    cr_assert_str_eq(str(r, "address"), text(&w));
    cr_assert_str_eq(str(r, "txid"), txid_of(&e, sweep + 1, 0));
    cr_assert_str_eq(str(r, "severity"), "severe");
    cr_assert_str_eq(str(r, "risk"), "high");
    cr_assert_eq(num(r, "score"), 4);
    cr_assert_str_eq(str(r, "decision"), "hold");
    cr_assert_str_eq(str(r, "amount"), "8000000000");
    cr_assert_eq(num(r, "amount_usd_cents"), 800000);
    json_t *ev = json_object_get(r, "evidence");
    cr_assert_str_eq(str(ev, "target"), text(&l1));
    cr_assert_str_eq(str(ev, "target_kind"), "designated");
    cr_assert(json_is_null(json_object_get(ev, "via_pool")));
    cr_assert_eq(num(ev, "hops"), 2);
    cr_assert_str_eq(str(ev, "left_payout_txid"), txid_of(&e, sweep, 0));
    cr_assert_str_eq(str(ev, "hit_txid"), txid_of(&e, sweep + 1, 0));
    cr_assert_str_eq(str(ev, "hit_date"), "2024-03-04");
    json_t *py = json_array_get(json_object_get(ev, "payers"), 0);
    cr_assert_str_eq(str(py, "payer"), text(&emp));
    cr_assert_eq(num(py, "payments"), 3);
    char want[600];
    snprintf(want, sizeof want, "Money paid to %s (by 1 payer) reached %s, an address under DPRK-program sanctions, 2 "
                                "transactions later. The payer named in the evidence",
             text(&w), text(&l1));
    cr_assert(strstr(str(r, "explanation"), want), "%s", str(r, "explanation"));
    /* the designated address's own records are the engine's usual ones */
    size_t i, direct = 0;
    json_t *x;
    json_array_foreach(e.lines, i, x) direct += strcmp(str(x, "rule"), "designated_address") == 0;
    cr_assert_eq(direct, 2, "m's and the one-off payee's payments to L1");
    json_decref(recs);
    /* screen and POST /v1/screen read the same stats (read only) */
    eng_stop(&e);
    char *sc_argv[] = {CW_BIN, "screen", (char *)text(&w), "--datadir", e.dir, NULL};
    char *out, *err;
    cr_assert_eq(run_cmd(sc_argv, NULL, 0, &out, &err), 11, "%s %s", out, err);
    json_t *sc = json_loads(out, 0, NULL);
    cr_assert_not_null(sc, "%s", out);
    cr_assert_str_eq(str(sc, "decision"), "hold");
    json_t *pat = json_object_get(sc, "patterns");
    cr_assert_str_eq(str(pat, "risk"), "high");
    cr_assert_eq(num(pat, "score"), 4);
    cr_assert_eq(num(pat, "recurring_payers"), 1);
    cr_assert_eq(num(pat, "salary_payments"), 3);
    cr_assert_eq(num(pat, "in_usd_cents"), 900000);
    cr_assert_eq(num(pat, "payments_out"), 1, "the sweep was sent on");
    cr_assert_eq(num(pat, "out_usd_cents"), 900000);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(pat, "rules"), 0)), "payout_toward_designated");
    json_t *pp = json_array_get(json_object_get(pat, "payers"), 0);
    cr_assert_str_eq(str(pp, "payer"), text(&emp));
    cr_assert_str_eq(str(pp, "first_txid"), txid_of(&e, 4, 0), "an Ethereum txid as records print it");
    json_t *api = test_api_screen(e.dir, text(&w));
    cr_assert_str_eq(str(api, "decision"), "hold");
    cr_assert(json_equal(json_object_get(api, "patterns"), pat), "%s", json_dumps(api, 0));
    json_decref(api);
    /* a contributor: paid on cadence, nothing fired */
    cw_addr c0 = acct(CW_CHAIN_EVM, 0x171);
    char *sc2[] = {CW_BIN, "screen", (char *)text(&c0), "--datadir", e.dir, NULL};
    free(out), free(err);
    cr_assert_eq(run_cmd(sc2, NULL, 0, &out, &err), 0, "%s %s", out, err);
    json_decref(sc);
    sc = json_loads(out, 0, NULL);
    cr_assert_str_eq(str(json_object_get(sc, "patterns"), "risk"), "none");
    json_decref(sc);
    free(out), free(err);
    eng_close(&e);
    kept_reset();
}

/* ---------- Tron: USDT through the same engine ---------- */

Test(rules_account, shared_payout_in_tron_usdt, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_TRON, NULL);
    eng_start(&e, NULL);
    cw_addr w = acct(CW_CHAIN_TRON, 0x100), p1 = acct(CW_CHAIN_TRON, 1), p2 = acct(CW_CHAIN_TRON, 2);
    shared_scenario(&e, &w, &p1, &p2, SALARY, TRON_USDT);
    /* and a freelancer's clients on Tron: nothing */
    cw_addr f = acct(CW_CHAIN_TRON, 0x101);
    for (unsigned c = 0; c < 4; c++) {
        cw_addr cl = acct(CW_CHAIN_TRON, 0x20 + c);
        for (unsigned k = 0; k < 3; k++)
            day_pay(&e, 2 + c * 3 + k * 9, &cl, &f, SALARY, TRON_USDT);
    }
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 1, "%s", json_dumps(recs, 0));
    json_t *r = json_array_get(recs, 0);
    cr_assert_str_eq(str(r, "rule"), "shared_payout");
    cr_assert_str_eq(str(r, "chain"), "tron");
    cr_assert_str_eq(str(r, "address"), text(&w));
    cr_assert_eq(str(r, "address")[0], 'T');
    cr_assert_str_eq(str(r, "txid"), txid_of(&e, 6, 0));
    cr_assert_eq(strncmp(str(r, "txid"), "7e", 2), 0, "Tron prints txids without 0x");
    cr_assert_str_eq(str(r, "amount"), SALARY);
    cr_assert_eq(num(r, "amount_usd_cents"), 300000);
    json_t *as = json_object_get(r, "asset");
    cr_assert_str_eq(str(as, "kind"), "token");
    cr_assert_str_eq(str(as, "contract"), TRON_USDT);
    cr_assert_str_eq(str(as, "symbol"), "USDT");
    cr_assert_eq(num(as, "decimals"), 6);
    json_t *py = json_array_get(json_object_get(json_object_get(r, "evidence"), "payers"), 1);
    cr_assert_str_eq(str(py, "payer"), text(&p2));
    cr_assert_str_eq(str(py, "last_txid"), txid_of(&e, 6, 0));
    json_decref(recs);
    eng_close(&e);
    kept_reset();
}

/* ---------- reorg, live = replay, fail closed ---------- */

/* A flood: 100 throwaway accounts (base, base + 1, ...) each pay w one
 * salary (USD 3,000) on day `day`, 16 to a block (the same money sent
 * round: gas only). */
static void flood(eng *e, unsigned base, const cw_addr *w, unsigned day)
{
    cw_addr from[16], to[16];
    for (unsigned i = 0; i < 100; i += 16) {
        size_t n = 100 - i < 16 ? 100 - i : 16;
        for (size_t k = 0; k < n; k++)
            from[k] = acct(CW_CHAIN_EVM, base + i + (unsigned)k), to[k] = *w;
        day_pays(e, day, n, from, to, SALARY, USDC);
    }
}

/* The flood first, then two employers on cadence (days 10, 40, 70 and 12,
 * 42, 72): shared_payout, naming both. */
static int64_t flood_scenario(eng *e, const cw_addr *w, const cw_addr *p1, const cw_addr *p2)
{
    flood(e, 0x2000, w, 0);
    int64_t last = 0;
    for (unsigned k = 0; k < 3; k++) {
        day_pay(e, 10 + 30 * k, p1, w, SALARY, USDC);
        last = day_pay(e, 12 + 30 * k, p2, w, SALARY, USDC);
    }
    return last;
}

/* An address's stats as screen shows them (rules_address_json). */
static json_t *stats_of(eng *e, const cw_addr *a)
{
    store_txn *t;
    cw_err er = {0};
    cr_assert_eq(store_begin(e->store, true, &t, &er), CW_OK);
    uint8_t key[WL_KEY_MAX];
    size_t kn = wl_key_from_addr(a, key);
    cw_code rc;
    json_t *j = rules_address_json(&e->rc, t, key, kn, &rc, &er);
    cr_assert_eq(rc, CW_OK, "%s", er.msg);
    cr_assert_not_null(j);
    store_abort(t);
    return j;
}


/* The rules' tables, key and value, in key order. */
static void dump_rules(cw_store *s, cw_buf *out)
{
    const store_db dbs[] = {STORE_RULE_ADDR, STORE_RULE_TRACE, STORE_RULE_ORIGIN, STORE_RULE_PAIR};
    test_dump_tables(s, dbs, sizeof dbs / sizeof *dbs, out);
}

/* Every scenario above in one chain, in `kept` (the pool with its pieces,
 * the designated hit and its twins, a test payment, a flood of throwaway
 * payers before two real ones: rule_pair). */
static void everything(eng *e)
{
    cw_addr q = acct(CW_CHAIN_EVM, 0x500), into[5] = {q, q, q, q, q};
    pool_scenario(e, 0x40, into, true);
    cw_addr w, emp;
    designated_scenario(e, &w, &emp);
    cw_addr p = acct(CW_CHAIN_EVM, 0x40), t = acct(CW_CHAIN_EVM, 0x190);
    day_pay(e, 80, &p, &t, TINY, USDC);
    day_pay(e, 90, &p, &t, SALARY, USDC);
    cw_addr fw = acct(CW_CHAIN_EVM, 0x1a0), p1 = acct(CW_CHAIN_EVM, 0xa0), p2 = acct(CW_CHAIN_EVM, 0xa1);
    flood_scenario(e, &fw, &p1, &p2);
}

Test(rules_account, a_reorg_restores_the_rule_tables_byte_for_byte, .timeout = 90)
{
    /* the chain, built once */
    eng a;
    eng_open(&a, CW_CHAIN_EVM, NULL);
    eng_start(&a, NULL);
    everything(&a);
    json_t *all = patterns(&a);
    cr_assert_eq(json_array_size(all), 10, "7 of the pool, 1 designated, 1 test, 1 shared: %s", json_dumps(all, 0));
    json_decref(all);
    /* again, into a fresh datadir, cut before the pool's fifth sweep
     * (block 3 + 4 = 7: the five payouts' three months are blocks 1-3) */
    eng b;
    eng_open(&b, CW_CHAIN_EVM, NULL);
    eng_start(&b, NULL);
    size_t cut = 7, n = kept.n;
    for (size_t i = 0; i < cut; i++)
        connect_block(&b, &kept.blocks[i]);
    cw_buf before = CW_BUF_INIT, after = CW_BUF_INIT, again = CW_BUF_INIT, third = CW_BUF_INIT;
    dump_rules(b.store, &before);
    cr_assert_gt(before.n, 0);
    for (size_t i = cut; i < n; i++)
        connect_block(&b, &kept.blocks[i]);
    dump_rules(b.store, &after);
    cr_assert(after.n != before.n || memcmp(after.p, before.p, after.n) != 0, "the blocks changed the tables");
    json_t *first = patterns(&b);
    cr_assert_eq(json_array_size(first), 10);
    cw_err er = {0};
    for (size_t i = n; i-- > cut;)
        cr_assert_eq(account_disconnect_tip(b.a, &er), CW_OK, "%s", er.msg);
    dump_rules(b.store, &again);
    cr_assert_eq(again.n, before.n, "sizes %zu vs %zu", again.n, before.n);
    cr_assert_eq(memcmp(again.p, before.p, before.n), 0, "the tables after connect+disconnect differ from before");
    /* the records the undone blocks made are reorged */
    size_t i, reorged = 0;
    json_t *r;
    json_array_foreach(b.lines, i, r) reorged += is_pattern(str(r, "rule")) && strcmp(str(r, "status"), "reorged") == 0;
    cr_assert_eq(reorged, 10);
    /* connected again: the same tables, the same records (ids) */
    json_array_clear(b.lines);
    for (size_t k = cut; k < n; k++)
        connect_block(&b, &kept.blocks[k]);
    dump_rules(b.store, &third);
    cr_assert_eq(third.n, after.n);
    cr_assert_eq(memcmp(third.p, after.p, after.n), 0);
    json_t *second = patterns(&b);
    cr_assert_eq(json_array_size(second), 10);
    for (size_t k = 0; k < 10; k++) { /* (seq: the trail went on with the reorged records) */
        json_object_del(json_array_get(first, k), "seq");
        json_object_del(json_array_get(second, k), "seq");
        char *x = stable(json_array_get(first, k)), *y = stable(json_array_get(second, k));
        cr_assert_str_eq(x, y, "record %zu", k);
        free(x), free(y);
    }
    json_decref(first), json_decref(second);
    /* and the store checks clean, account traces included */
    eng_stop(&b);
    char *chk[] = {CW_BIN, "watchlist", "check", "--datadir", b.dir, NULL};
    char *out, *err;
    cr_assert_eq(run_cmd(chk, NULL, 0, &out, &err), 0, "%s %s", out, err);
    free(out), free(err);
    cw_buf_free(&before), cw_buf_free(&after), cw_buf_free(&again), cw_buf_free(&third);
    eng_close(&a);
    eng_close(&b);
    kept_reset();
}

/* A source that hands out the blocks in `kept` (by number). */
static cw_code kept_block(void *ctx, int64_t number, account_block **out, cw_err *err)
{
    (void)ctx;
    if (number < 1 || (size_t)number > kept.n)
        return cw_err_set(err, CW_ENOTFOUND, CW_NO_OFFSET, "no block %lld", (long long)number);
    *out = &kept.blocks[number - 1].b;
    return CW_OK;
}
static void kept_free(void *ctx, account_block *b) { (void)ctx, (void)b; }

Test(rules_account, live_and_replay_give_the_same_records, .timeout = 90)
{
    /* live: block by block, each its own transaction */
    eng a;
    eng_open(&a, CW_CHAIN_EVM, NULL);
    eng_start(&a, NULL);
    everything(&a);
    /* replay: the same blocks in batches of 4 per transaction */
    eng b;
    eng_open(&b, CW_CHAIN_EVM, NULL);
    static account_source src = {.block = kept_block, .block_free = kept_free};
    eng_start(&b, &src);
    cw_err er = {0};
    cr_assert_eq(account_replay(b.a, 1, (int64_t)kept.n, 4, NULL, NULL, &er), CW_OK, "%s", er.msg);
    cr_assert_eq(json_array_size(a.lines), json_array_size(b.lines));
    cr_assert_gt(json_array_size(a.lines), 9);
    for (size_t i = 0; i < json_array_size(a.lines); i++) {
        char *x = stable(json_array_get(a.lines, i)), *y = stable(json_array_get(b.lines, i));
        cr_assert_str_eq(x, y, "record %zu differs", i);
        free(x), free(y);
    }
    cw_buf da = CW_BUF_INIT, db = CW_BUF_INIT;
    dump_rules(a.store, &da);
    dump_rules(b.store, &db);
    cr_assert_eq(da.n, db.n);
    cr_assert_eq(memcmp(da.p, db.p, da.n), 0, "the same tables");
    pipeline_stats st;
    pipeline_stats_get(account_pipeline(b.a), &st);
    cr_assert_eq(st.by_rule[PIPELINE_RULE_CONSOLIDATOR], 1);
    cr_assert_eq(st.by_rule[PIPELINE_RULE_TOWARD_DESIGNATED], 6);
    cr_assert_eq(st.by_rule[PIPELINE_RULE_OFF_RAMP], 1);
    cr_assert_eq(st.by_rule[PIPELINE_RULE_TEST_THEN_SALARY], 1);
    cr_assert_eq(st.rules.sweeps, 7, "five into the pool, the payout's, the one-off payee's");
    cr_assert_eq(st.rules.fired[RULE_CONSOLIDATOR], 1);
    cw_buf_free(&da), cw_buf_free(&db);
    eng_close(&a);
    eng_close(&b);
    kept_reset();
}

/* Run in a child with the fault shim (CW_ACCTRULES_FAULT set): every LMDB
 * read of the payout's key fails. Its record is first read from LMDB in
 * the second block (the first creates it; the store's filter answers
 * "absent" before that): that block must fail whole. */
Test(rules_account, fault_child, .timeout = 60)
{
    if (getenv("CW_ACCTRULES_FAULT") == NULL)
        cr_skip_test("run by a_store_error_in_the_rules_aborts_the_block");
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr w = acct(CW_CHAIN_EVM, 0x100), p1 = acct(CW_CHAIN_EVM, 1), p2 = acct(CW_CHAIN_EVM, 2);
    hand_block b1, b2;
    block_init(&b1, 1, 0);
    pay(&b1, &p1, &w, SALARY, USDC);
    connect_block(&e, &b1);
    block_init(&b2, 2, 30);
    pay(&b2, &p2, &w, SALARY, USDC);
    cw_err er = {0};
    cw_code rc = account_connect(e.a, &b2.b, &er);
    cr_assert(rc == CW_EDAMAGED || rc == CW_ESTORE, "a store error, not %d: %s", rc, er.msg);
    cr_assert(strstr(er.msg, "Input/output error"), "%s", er.msg);
    cr_assert_eq(json_array_size(e.lines), 0, "nothing recorded: %s", json_dumps(e.lines, 0));
    pipeline_stats st;
    pipeline_stats_get(account_pipeline(e.a), &st);
    cr_assert_eq(st.tip_height, 1, "the block was not connected");
    printf("FAULT-CHILD-OK %s\n", er.msg);
    fflush(stdout);
    eng_close(&e);
}

Test(rules_account, a_store_error_in_the_rules_aborts_the_block, .timeout = 60)
{
    cw_addr w = acct(CW_CHAIN_EVM, 0x100);
    uint8_t key[WL_KEY_MAX];
    size_t kn = wl_key_from_addr(&w, key);
    char hex[2 * WL_KEY_MAX + 1], spec[400];
    cw_hex_encode(key, kn, hex);
    snprintf(spec, sizeof spec, "mdb_get:1+:EIO@%s", hex);
    char self[4096];
    ssize_t sn = readlink("/proc/self/exe", self, sizeof self - 1);
    cr_assert_gt(sn, 0);
    self[sn] = '\0';
    unsetenv("BXFI_MAP"); /* the child is a criterion run of its own, not one of our sandbox's workers */
    setenv("CW_ACCTRULES_FAULT", "1", 1);
    setenv("LD_PRELOAD", CW_FAULT_PRELOAD, 1);
    setenv("CW_FAIL_MDB", spec, 1);
    char *argv[] = {self, "--filter", "rules_account/fault_child", "--verbose", NULL};
    char *out, *err;
    int rc = run_cmd(argv, NULL, 0, &out, &err);
    unsetenv("LD_PRELOAD");
    unsetenv("CW_FAIL_MDB");
    unsetenv("CW_ACCTRULES_FAULT");
    cr_assert_eq(rc, 0, "%s %s", out, err);
    cr_assert(strstr(out, "FAULT-CHILD-OK") || strstr(err, "FAULT-CHILD-OK"), "%s %s", out, err);
    cr_assert(strstr(err, "Passing: 1"), "%s", err);
    free(out), free(err);
}

/* ---------- exact USD of 256-bit amounts ---------- */

Test(rules_account, prices_of_256_bit_amounts_are_exact_and_saturate)
{
    /* 3,000 DAI (18 decimals, a stablecoin: 1 USD) does not fit in 64 bits */
    cw_u256 v;
    cw_err err = {0};
    cr_assert_eq(cw_u256_from_dec("3000000000000000000000", 22, &v, &err), CW_OK);
    uint64_t cents = 0;
    cr_assert(prices_cents_u256(NULL, "DAI", 18, &v, (int64_t)T0, &cents));
    cr_assert_eq(cents, 300000);
    /* 1,234.5678999... ETH at USD 2,000.123456: floor(1234567899999999999999 * 2000123456 / 10^22)
     * = 246928821 cents (Python: 1234567899999999999999 * 2000123456 // 10**22) */
    prices *px;
    const char *csv = "date,asset,usd\n2023-12-31,ETH,2000.123456\n";
    cr_assert_eq(prices_parse(csv, strlen(csv), "p.csv", &px, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(cw_u256_from_dec("1234567899999999999999", 22, &v, &err), CW_OK);
    cr_assert(prices_cents_u256(px, "ETH", 18, &v, (int64_t)T0, &cents));
    cr_assert_eq(cents, 246928821ull);
    /* the same through the 64-bit path: 1.5 ETH */
    cw_u256_set_u64(&v, 1500000000000000000ull);
    cr_assert(prices_cents_u256(px, "ETH", 18, &v, (int64_t)T0, &cents));
    cr_assert_eq(cents, 300018); /* 1.5 * 2000.123456 = 3000.185184 */
    /* 2^255 units of a 6-decimal stablecoin: saturated, never wrapped */
    cw_u256 huge = {{0, 0, 0, 1ull << 63}};
    cr_assert(prices_cents_u256(NULL, "USDC", 6, &huge, (int64_t)T0, &cents));
    cr_assert_eq(cents, UINT64_MAX);
    /* no price: an unknown symbol, or decimals past what is computed */
    cr_assert_not(prices_cents_u256(px, "XYZ", 18, &v, (int64_t)T0, &cents));
    cr_assert_not(prices_cents_u256(NULL, "USDC", 73, &huge, (int64_t)T0, &cents));
    prices_free(px);
}

/* ---------- the CLI: [rules] in chainwatch.conf with --chain ethereum ---------- */

Test(rules_account, rules_config_lines_are_read_and_checked_for_account_chains, .timeout = 60)
{
    char *dir = strdup("/tmp/cw-acctrules-conf-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char conf[600];
    snprintf(conf, sizeof conf, "%s/chainwatch.conf", dir);
    FILE *f = fopen(conf, "w");
    cr_assert_not_null(f);
    fputs("[rules]\nsalary-min-trx = 20000\ntiny-max-trx = 25000\n", f);
    fclose(f);
    /* read from the file and checked before any node is asked (none listens) */
    char *argv[] = {CW_BIN, "watch", "--chain", "tron", "--zmqpubtron", "tcp://127.0.0.1:9", "--tron-http",
                    "http://127.0.0.1:9", "--datadir", dir, NULL};
    char *out, *err;
    cr_assert_eq(run_cmd(argv, NULL, 0, &out, &err), 2, "%s %s", out, err);
    cr_assert(strstr(err, "rules: an asset's tiny band must end below its salary band"), "%s", err);
    free(out), free(err);
    f = fopen(conf, "w");
    fputs("[rules]\nsalary-min-eth = 1,5\n", f);
    fclose(f);
    char *eth[] = {CW_BIN, "watch", "--chain", "ethereum", "--rpc", "http://127.0.0.1:9", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(eth, NULL, 0, &out, &err), 2, "%s %s", out, err);
    cr_assert(strstr(err, "--salary-min-eth: '1,5' is not an amount in ETH"), "%s", err);
    free(out), free(err);
    /* the hit minimum's lines too (TRX has 6 decimals) */
    f = fopen(conf, "w");
    fputs("[rules]\nrules-min-hit-trx = 1000.0000001\n", f);
    fclose(f);
    cr_assert_eq(run_cmd(argv, NULL, 0, &out, &err), 2, "%s %s", out, err);
    cr_assert(strstr(err, "--rules-min-hit-trx: '1000.0000001' is not an amount in TRX (digits, at most 6 after the point)"),
              "%s", err);
    free(out), free(err);
    test_remove_dir(dir);
}

/* ---------- 256-bit amounts: exact bands, saturated totals ---------- */

Test(rules_account, eth_totals_saturate_and_bands_compare_exactly, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr w = acct(CW_CHAIN_EVM, 0x109), p = acct(CW_CHAIN_EVM, 12), w2 = acct(CW_CHAIN_EVM, 0x10a);
    /* four monthly payments of 5 ETH: 2e19 wei in all, past 2^63-1 */
    for (unsigned k = 0; k < 4; k++)
        day_pay(&e, k * 30, &p, &w, "5000000000000000000", NULL);
    /* the band's top, exactly (6 ETH), and one wei above it (not kept) */
    day_pay(&e, 1, &p, &w2, "6000000000000000000", NULL);
    day_pay(&e, 31, &p, &w2, "6000000000000000001", NULL);
    store_txn *t;
    cw_err er = {0};
    cr_assert_eq(store_begin(e.store, false, &t, &er), CW_OK);
    uint8_t key[WL_KEY_MAX];
    size_t kn = wl_key_from_addr(&w, key);
    cw_code rc;
    json_t *j = rules_address_json(&e.rc, t, key, kn, &rc, &er);
    cr_assert_eq(rc, CW_OK, "%s", er.msg);
    cr_assert_not_null(j);
    cr_assert_eq(num(j, "payments_in"), 4);
    cr_assert_eq(num(j, "in_base_units"), INT64_MAX, "saturated at 2^63-1, not wrapped: %s", json_dumps(j, 0));
    json_t *py = json_array_get(json_object_get(j, "payers"), 0);
    cr_assert_eq(num(py, "payments"), 4);
    cr_assert_eq(num(py, "total_base_units"), INT64_MAX);
    json_decref(j);
    kn = wl_key_from_addr(&w2, key);
    j = rules_address_json(&e.rc, t, key, kn, &rc, &er);
    cr_assert_eq(rc, CW_OK, "%s", er.msg);
    cr_assert_eq(num(j, "payments_in"), 1, "6 ETH is in the band, 6 ETH + 1 wei is not: %s", json_dumps(j, 0));
    cr_assert_eq(num(j, "in_base_units"), 6000000000000000000LL);
    json_decref(j);
    store_abort(t);
    eng_close(&e);
    kept_reset();
}

Test(rules_account, a_trace_is_passed_on_only_within_its_window, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr emp = acct(CW_CHAIN_EVM, 0x80), w = acct(CW_CHAIN_EVM, 0x180), m = acct(CW_CHAIN_EVM, 0x580),
            emp2 = acct(CW_CHAIN_EVM, 0x81), w2 = acct(CW_CHAIN_EVM, 0x181), m2 = acct(CW_CHAIN_EVM, 0x581),
            l1 = parse(L1);
    unsigned days[] = {0, 30, 60};
    for (int k = 0; k < 3; k++) {
        day_pay(&e, days[k], &emp, &w, SALARY, USDC);
        day_pay(&e, days[k], &emp2, &w2, SALARY, USDC);
    }
    day_pay(&e, 62, &w, &m, SWEEP, USDC);
    day_pay(&e, 62, &w2, &m2, SWEEP, USDC);
    /* m pays L1 63 days after it got the payout's money (window 62d): no
     * record; m2 on day 62 + 62: still within */
    int64_t hit = day_pay(&e, 124, &m2, &l1, "8000000000", USDC);
    day_pay(&e, 125, &m, &l1, "8000000000", USDC);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 1, "%s", json_dumps(recs, 0));
    cr_assert_str_eq(str(json_array_get(recs, 0), "address"), text(&w2));
    cr_assert_str_eq(str(json_array_get(recs, 0), "txid"), txid_of(&e, hit, 0));
    json_decref(recs);
    eng_close(&e);
    kept_reset();
}

/* An adversary cannot start the window early: a payout that first sends
 * 1 base unit of USDC to m (day 61) and its whole pay 59 days later (day
 * 120) must not see m's trace expire 62 days after the dust (day 123):
 * m paying L1 on day 130 is 10 days after it got the money. (Found in
 * review: the account's trace kept the dust's date, so the money passed
 * untraced.) */
Test(rules_account, dust_before_the_money_does_not_shorten_the_trace_window, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr emp = acct(CW_CHAIN_EVM, 0x82), w = acct(CW_CHAIN_EVM, 0x182), m = acct(CW_CHAIN_EVM, 0x582),
            l1 = parse(L1);
    unsigned days[] = {0, 30, 60};
    for (int k = 0; k < 3; k++)
        day_pay(&e, days[k], &emp, &w, SALARY, USDC);
    day_pay(&e, 61, &w, &m, "1", USDC);
    int64_t money = day_pay(&e, 120, &w, &m, SWEEP, USDC);
    int64_t hit = day_pay(&e, 130, &m, &l1, "8000000000", USDC);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 1, "%s", json_dumps(recs, 0));
    json_t *r = json_array_get(recs, 0);
    cr_assert_str_eq(str(r, "rule"), "payout_toward_designated");
    cr_assert_str_eq(str(r, "address"), text(&w));
    cr_assert_str_eq(str(r, "txid"), txid_of(&e, hit, 0));
    /* the evidence names the money's tx, not the dust's */
    cr_assert_str_eq(str(json_object_get(r, "evidence"), "left_payout_txid"), txid_of(&e, money, 0));
    cr_assert_eq(num(json_object_get(r, "evidence"), "hops"), 2);
    json_decref(recs);
    eng_close(&e);
    kept_reset();
}

/* A payee's list holds RS_LIST_MAX (64) payers. 100 throwaway payers sent
 * in first must neither hide its two real payers (before: the list was
 * full, their payments were not kept, no shared_payout) nor make one up
 * (each pays once: none is recurring, whatever their number); and the
 * count of distinct payers is exact, past the list too (rule_pair). */
Test(rules_account, a_flood_of_throwaway_payers_neither_hides_nor_invents_a_shared_payout, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr w = acct(CW_CHAIN_EVM, 0x1a0), p1 = acct(CW_CHAIN_EVM, 0xa0), p2 = acct(CW_CHAIN_EVM, 0xa1);
    int64_t fire = flood_scenario(&e, &w, &p1, &p2);
    /* the twin: the same flood and one real payer only */
    cw_addr w2 = acct(CW_CHAIN_EVM, 0x1a1), p3 = acct(CW_CHAIN_EVM, 0xa2);
    flood(&e, 0x2100, &w2, 80);
    for (unsigned k = 0; k < 3; k++)
        day_pay(&e, 90 + 30 * k, &p3, &w2, SALARY, USDC);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 1, "only w's shared_payout: %s", json_dumps(recs, 0));
    json_t *r = json_array_get(recs, 0);
    cr_assert_str_eq(str(r, "rule"), "shared_payout");
    cr_assert_str_eq(str(r, "address"), text(&w));
    cr_assert_str_eq(str(r, "txid"), txid_of(&e, fire, 0));
    json_t *ev = json_object_get(r, "evidence");
    cr_assert_eq(num(ev, "recurring_payers"), 2);
    /* 100 + 2 distinct payers; the list keeps 64 (the two real ones took
     * the places of the two oldest throwaways), 38 are counted past it */
    cr_assert_eq(num(ev, "payers_total"), 102);
    cr_assert_eq(num(ev, "payers_not_listed"), 38);
    json_t *payers = json_object_get(ev, "payers");
    cr_assert_eq(json_array_size(payers), 2, "%s", json_dumps(payers, 0));
    cr_assert_str_eq(str(json_array_get(payers, 0), "payer"), text(&p1));
    cr_assert_str_eq(str(json_array_get(payers, 1), "payer"), text(&p2));
    cr_assert_eq(num(json_array_get(payers, 0), "payments"), 3);
    cr_assert_str_eq(str(json_array_get(payers, 0), "first"), "2024-01-11");
    cr_assert_str_eq(str(json_array_get(payers, 1), "last"), "2024-03-13");
    cr_assert(strstr(str(r, "explanation"), "102 distinct payers in all"), "%s", str(r, "explanation"));
    json_decref(recs);
    /* screen tells the same */
    json_t *j = stats_of(&e, &w);
    cr_assert_eq(num(j, "payers_total"), 102);
    cr_assert_eq(num(j, "payers_not_listed"), 38);
    cr_assert_eq(num(j, "recurring_payers"), 2);
    cr_assert_eq(num(j, "payments_in"), 106);
    json_decref(j);
    j = stats_of(&e, &w2);
    cr_assert_eq(num(j, "payers_total"), 101);
    cr_assert_eq(num(j, "payers_not_listed"), 37);
    cr_assert_eq(num(j, "recurring_payers"), 1);
    cr_assert_eq(json_array_size(json_object_get(j, "rules")), 0, "%s", json_dumps(j, 0));
    json_decref(j);
    eng_close(&e);
    kept_reset();
}

/* The stats of an address, or NULL when it has none. */
static json_t *stats_or_null(eng *e, const cw_addr *a)
{
    store_txn *t;
    cw_err er = {0};
    cr_assert_eq(store_begin(e->store, true, &t, &er), CW_OK);
    uint8_t key[WL_KEY_MAX];
    size_t kn = wl_key_from_addr(a, key);
    cw_code rc;
    json_t *j = rules_address_json(&e->rc, t, key, kn, &rc, &er);
    cr_assert_eq(rc, CW_OK, "%s", er.msg);
    store_abort(t);
    return j;
}

/* Totals are per unit (USD cents with a price, the coin's base units
 * without), so nothing mixes: w is paid USD 3,000 in USDC by p1 and 2 ETH
 * (no ETH price) by p2, monthly, three times each. Its 5.5 ETH to q is a
 * sweep (80% of the 6 ETH it got: before, one USDC payment made every
 * unpriced send "no measure", and in_base_units added USDC units to wei),
 * its USD 8,000 to q2 a sweep of its USDC. w2, paid 4 x 5 ETH (20 ETH, past
 * 2^64 wei), sending 8 ETH to q3 is no sweep (40%: before, the totals
 * stopped at 2^63-1 wei, about 9.2 ETH, and 8 ETH looked like 87% of it). */
Test(rules_account, totals_are_per_asset_and_the_sweep_test_compares_like_with_like, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr w = acct(CW_CHAIN_EVM, 0x1b0), p1 = acct(CW_CHAIN_EVM, 0xb0), p2 = acct(CW_CHAIN_EVM, 0xb1),
            q = acct(CW_CHAIN_EVM, 0x5b0), q2 = acct(CW_CHAIN_EVM, 0x5b1), w2 = acct(CW_CHAIN_EVM, 0x1b2),
            p3 = acct(CW_CHAIN_EVM, 0xb2), q3 = acct(CW_CHAIN_EVM, 0x5b2);
    for (unsigned k = 0; k < 3; k++) {
        day_pay(&e, 30 * k, &p1, &w, SALARY, USDC);
        day_pay(&e, 30 * k + 1, &p2, &w, "2000000000000000000", NULL);
    }
    for (unsigned k = 0; k < 4; k++)
        day_pay(&e, 30 * k, &p3, &w2, "5000000000000000000", NULL);
    int64_t eth_sweep = day_pay(&e, 95, &w, &q, "5500000000000000000", NULL);
    int64_t usd_sweep = day_pay(&e, 96, &w, &q2, "8000000000", USDC);
    day_pay(&e, 97, &w2, &q3, "8000000000000000000", NULL);
    json_t *j = stats_of(&e, &w);
    cr_assert_eq(num(j, "payments_in"), 6);
    cr_assert_eq(num(j, "in_usd_cents"), 900000, "the USDC: %s", json_dumps(j, 0));
    cr_assert_eq(num(j, "in_base_units"), 6000000000000000000LL, "the ETH alone: %s", json_dumps(j, 0));
    cr_assert_eq(num(j, "payments_out"), 2);
    cr_assert_eq(num(j, "out_usd_cents"), 800000);
    cr_assert_eq(num(j, "out_base_units"), 5500000000000000000LL);
    json_t *py = json_object_get(j, "payers");
    cr_assert_eq(num(json_array_get(py, 0), "total_usd_cents"), 900000);
    cr_assert_eq(num(json_array_get(py, 0), "total_base_units"), 0, "USDC units are no coin's");
    cr_assert_eq(num(json_array_get(py, 1), "total_usd_cents"), 0);
    cr_assert_eq(num(json_array_get(py, 1), "total_base_units"), 6000000000000000000LL);
    json_decref(j);
    /* the sweeps: each destination has w as its one source */
    const cw_addr *dst[2] = {&q, &q2};
    int64_t blk[2] = {eth_sweep, usd_sweep};
    for (int i = 0; i < 2; i++) {
        j = stats_of(&e, dst[i]);
        cr_assert_eq(num(j, "pool_sources"), 1, "%s", json_dumps(j, 0));
        json_t *src = json_array_get(json_object_get(j, "sources"), 0);
        cr_assert_str_eq(str(src, "source"), text(&w));
        cr_assert_str_eq(str(src, "last_txid"), txid_of(&e, blk[i], 0));
        json_decref(j);
    }
    /* w2: 20 ETH in, exactly (shown at the JSON cap), and 8 ETH is no sweep:
     * q3 is neither a pool nor paid (8 ETH is past the salary band) */
    j = stats_of(&e, &w2);
    cr_assert_eq(num(j, "in_base_units"), INT64_MAX);
    cr_assert_eq(num(j, "out_base_units"), 8000000000000000000LL, "sent on, counted: %s", json_dumps(j, 0));
    json_decref(j);
    cr_assert_null(stats_or_null(&e, &q3), "8 of 20 ETH is no sweep");
    eng_close(&e);
    kept_reset();
}

/* `watchlist check` of the new shapes: rule_pair (payee + payer -> a
 * pair) and an account's trace with its amount (and without: written
 * before it was kept), each cut or padded by a byte. */
Test(rules_account, rule_pair_and_account_trace_records_are_checked)
{
    uint8_t k[1 + 2 * 21], v[1 + 32 + 64];
    k[0] = 21;
    memset(k + 1, 0x11, 42);
    size_t fields = (sizeof(rs_pair) - 64) / 8;
    memset(v, 0, sizeof v); /* two = 0, every field 0, one txid */
    size_t vn = 1 + fields + 32;
    cr_assert_null(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 43}, (cw_span){v, vn}));
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 43}, (cw_span){v, vn - 1}),
                     "a value that is not a pair's payments");
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 43}, (cw_span){v, vn + 1}),
                     "a value that is not a pair's payments");
    v[0] = 1; /* two txids announced, one there */
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 43}, (cw_span){v, vn}),
                     "a value that is not a pair's payments");
    v[0] = 0;
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 22}, (cw_span){v, vn}),
                     "a key that is not a payee's and a payer's address keys");
    k[0] = 130; /* a payee's length over WL_KEY_MAX */
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 43}, (cw_span){v, vn}),
                     "a key that is not a payee's and a payer's address keys");
    /* a pool's source past its list: 0x00 plen pool source (0x00 is no
     * payee's length, so the shapes never meet) */
    k[0] = 0, k[1] = 20;
    cr_assert_null(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 43}, (cw_span){v, vn}));
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 43}, (cw_span){v, vn - 1}),
                     "a value that is not a source's sweeps");
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 22}, (cw_span){v, vn}),
                     "a key that is not a pool's and a source's address keys");
    k[1] = 0;
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 43}, (cw_span){v, vn}),
                     "a key that is not a pool's and a source's address keys");
    /* an account trace: 'A' + 21-byte key -> pool, hops, txid, when, origin length, origin [, amount] */
    uint8_t tk[22] = {'A'}, tv[43 + 21 + 8] = {0};
    tv[42] = 21;
    cr_assert_null(rs_check_record(STORE_RULE_TRACE, (cw_span){tk, 22}, (cw_span){tv, 43 + 21}));
    cr_assert_null(rs_check_record(STORE_RULE_TRACE, (cw_span){tk, 22}, (cw_span){tv, 43 + 21 + 8}));
    for (size_t n = 43 + 21 + 1; n < 43 + 21 + 8; n++)
        cr_assert_str_eq(rs_check_record(STORE_RULE_TRACE, (cw_span){tk, 22}, (cw_span){tv, n}),
                         "an account's trace that does not decode");
}

/* Framing with dust: whoever a payout paid (m) sending on to a designated
 * address makes a payout_toward_designated only with at least USD 100 of
 * the payout's money (--rules-min-hit-usd; the trace carries how much of
 * it each account got). m got USD 50 from w and sends USD 8,000 (its own
 * money) to L1: no record. m2 got USD 60 twice from w2 (pieces add up) and
 * sends USD 8,000: a record. m3 got USD 9,000 from w3 and sends USD 50,
 * then exactly USD 100: the second is the record. Unpriced ETH: m4 got 1
 * ETH from w4 (paid 2 ETH monthly) and sends 0.049 ETH, then 0.05 ETH (the
 * default --rules-min-hit-eth): the second is the record. Every payment
 * into L1 is a designated_address record, dust or not. */
Test(rules_account, dust_reaching_a_designated_address_is_no_payout_hit, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr emp[4], w[4], m[4], l1 = parse(L1);
    for (unsigned i = 0; i < 4; i++)
        emp[i] = acct(CW_CHAIN_EVM, 0x90 + i), w[i] = acct(CW_CHAIN_EVM, 0x190 + i), m[i] = acct(CW_CHAIN_EVM, 0x590 + i);
    unsigned days[] = {0, 30, 60};
    for (int k = 0; k < 3; k++) {
        for (unsigned i = 0; i < 3; i++)
            day_pay(&e, days[k], &emp[i], &w[i], SALARY, USDC);
        day_pay(&e, days[k], &emp[3], &w[3], "2000000000000000000", NULL);
    }
    day_pay(&e, 62, &w[0], &m[0], "50000000", USDC);
    day_pay(&e, 62, &w[1], &m[1], "60000000", USDC);
    day_pay(&e, 63, &w[1], &m[1], "60000000", USDC);
    day_pay(&e, 62, &w[2], &m[2], SWEEP, USDC);
    day_pay(&e, 62, &w[3], &m[3], "1000000000000000000", NULL);
    day_pay(&e, 64, &m[0], &l1, "8000000000", USDC);
    int64_t hit1 = day_pay(&e, 64, &m[1], &l1, "8000000000", USDC);
    day_pay(&e, 64, &m[2], &l1, "50000000", USDC);
    day_pay(&e, 64, &m[3], &l1, "49000000000000000", NULL);
    int64_t hit2 = day_pay(&e, 65, &m[2], &l1, "100000000", USDC);
    int64_t hit3 = day_pay(&e, 65, &m[3], &l1, "50000000000000000", NULL);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 3, "%s", json_dumps(recs, 0));
    const cw_addr *who[3] = {&w[1], &w[2], &w[3]};
    int64_t when[3] = {hit1, hit2, hit3};
    for (size_t i = 0; i < 3; i++) {
        json_t *r = json_array_get(recs, i);
        cr_assert_str_eq(str(r, "rule"), "payout_toward_designated");
        cr_assert_str_eq(str(r, "address"), text(who[i]));
        cr_assert_str_eq(str(r, "txid"), txid_of(&e, when[i], 0));
        cr_assert_eq(num(json_object_get(r, "evidence"), "hops"), 2);
    }
    json_decref(recs);
    size_t desig = 0, i;
    json_t *r;
    json_array_foreach(e.lines, i, r)
    {
        desig += strcmp(str(r, "rule"), "designated_address") == 0 && strcmp(str(r, "status"), "confirmed") == 0;
    }
    cr_assert_eq(desig, 6, "each payment into L1 is its record");
    eng_close(&e);
    kept_reset();
}

/* The counterparty list holds RS_LIST_MAX entries of both kinds: an
 * adversary who first fills its pool's list (64 one-off salary-sized
 * payments from throwaway accounts, the same money sent round: gas only)
 * must not make the five payouts' sweeps vanish. Found in review: the
 * full list dropped every new source silently, so no consolidator. A
 * one-off payer (never recurring) gives way to a source. */
Test(rules_account, a_pool_list_filled_with_one_off_payers_still_takes_its_sources, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr q = acct(CW_CHAIN_EVM, 0x501), into[5] = {q, q, q, q, q};
    for (unsigned b = 0; b < RS_LIST_MAX / 8; b++) {
        cw_addr from[8], to[8];
        for (unsigned i = 0; i < 8; i++)
            from[i] = acct(CW_CHAIN_EVM, 0x700 + b * 8 + i), to[i] = q;
        day_pays(&e, 1, 8, from, to, SALARY, USDC);
    }
    int64_t first = pool_scenario(&e, 0x48, into, false);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 6, "a consolidator and its 5 payouts: %s", json_dumps(recs, 0));
    json_t *r = json_array_get(recs, 0);
    cr_assert_str_eq(str(r, "rule"), "consolidator");
    cr_assert_str_eq(str(r, "address"), text(&q));
    cr_assert_str_eq(str(r, "txid"), txid_of(&e, first + 4, 0));
    json_t *ev = json_object_get(r, "evidence");
    cr_assert_eq(num(ev, "sources_in_window"), 5);
    cr_assert_eq(json_array_size(json_object_get(ev, "sources")), 5);
    json_decref(recs);
    eng_close(&e);
    kept_reset();
}

/* The account-chain twin of the Bitcoin test
 * every_payout_of_a_pool_past_its_list_is_behind_its_hit (the same steps:
 * rules_internal.h): 70 payouts paid USD 3,000 on days 0, 30, 60 by one
 * employer sweep into the pool q on day 62 (the 65th to 70th find its list
 * full of payouts on cadence); on day 63 q pays L1 (designated). Every
 * payout gets payout_toward_designated, the six past the list too (before:
 * 64 records). */
Test(rules_account, every_payout_of_a_pool_past_its_list_is_behind_its_hit, .timeout = 60)
{
    enum { N = 70, PER = 14 };
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr emp = acct(CW_CHAIN_EVM, 0x600), q = acct(CW_CHAIN_EVM, 0x601), l1 = parse(L1);
    cw_addr payout[N], emps[PER], qs[PER];
    for (unsigned i = 0; i < N; i++)
        payout[i] = acct(CW_CHAIN_EVM, 0x900 + i);
    for (unsigned i = 0; i < PER; i++)
        emps[i] = emp, qs[i] = q;
    unsigned days[] = {0, 30, 60};
    for (int k = 0; k < 3; k++)
        for (unsigned b = 0; b < N / PER; b++)
            day_pays(&e, days[k], PER, emps, payout + b * PER, SALARY, USDC);
    for (unsigned b = 0; b < N / PER; b++)
        day_pays(&e, 62, PER, payout + b * PER, qs, SWEEP, USDC);
    int64_t hit = day_pay(&e, 63, &q, &l1, "100000000000", USDC);
    json_t *recs = patterns(&e);
    bool seen[N] = {false};
    size_t n_hit = 0, i;
    json_t *r;
    json_array_foreach(recs, i, r)
    {
        json_t *ev = json_object_get(r, "evidence");
        if (strcmp(str(r, "rule"), "payout_toward_designated") || strcmp(str(ev, "target_kind"), "designated"))
            continue;
        unsigned k = 0;
        while (k < N && strcmp(str(r, "address"), text(&payout[k])))
            k++;
        cr_assert_lt(k, N, "%s", str(r, "address"));
        cr_assert_not(seen[k]);
        seen[k] = true;
        n_hit++;
        cr_assert_str_eq(str(r, "txid"), txid_of(&e, hit, 0));
        cr_assert_str_eq(str(ev, "via_pool"), text(&q));
        cr_assert_eq(num(ev, "sources_total"), N);
        cr_assert_eq(num(ev, "sources_not_listed"), N - RS_LIST_MAX);
        cr_assert_eq(num(ev, "sources_not_examined"), 0);
    }
    cr_assert_eq(n_hit, N, "%s", json_dumps(recs, 0));
    json_decref(recs);
    eng_close(&e);
    kept_reset();
}

/* The account-chain twin of the Bitcoin test
 * a_consolidator_seen_only_past_its_list_is_flagged_by_its_window (the
 * same steps: rules_internal.h), the same schedule in USDC (USD 3,000
 * salaries; each sweep all an account got and has not sent on), so the
 * same counts (tests/tools/window_oracle.py): q's list fills on days 2-3
 * with 64 payouts-to-be, which are payouts from day 61; X (past the list
 * on day 66) becomes one on day 70, Y (day 67) never; O0 and O1 sweep
 * again on day 70; N0, N1, N2 sweep on days 71-73. The window reaches 5 at
 * N1's sweep: the consolidator (2 listed, 3 past the list), then 68
 * sources tied to q and N2 on day 73: 70 records. The twin (no third
 * salary for the N and X): nothing. X is the test key's account (a raw tx
 * of its can be screened). With x_again, q's window index after day 67 as
 * a chainwatch before it left it (test_forget_window_index: X and Y) and
 * nothing after N1's sweep: X's sweep again on day 73 is the caller's.
 * Returns N1's sweep's block. */
static int64_t late_pool_account(eng *e, bool twin, bool x_again, cw_addr o[RS_LIST_MAX], cw_addr n[3], cw_addr *x,
                                 cw_addr *q)
{
    enum { N = RS_LIST_MAX, PER = 16 };
    cw_addr emp = acct(CW_CHAIN_EVM, 0xb10), f = acct(CW_CHAIN_EVM, 0xb11), g = acct(CW_CHAIN_EVM, 0xb12),
            h = acct(CW_CHAIN_EVM, 0xb13), y = acct(CW_CHAIN_EVM, 0xb81);
    cw_addr emps[PER], qs[PER], fs[3];
    *q = acct(CW_CHAIN_EVM, 0xb14), *x = parse(KEY46_ADDR);
    for (unsigned i = 0; i < N; i++)
        o[i] = acct(CW_CHAIN_EVM, 0xc00 + i);
    for (unsigned i = 0; i < 3; i++)
        n[i] = acct(CW_CHAIN_EVM, 0xb70 + i), fs[i] = f;
    for (unsigned i = 0; i < PER; i++)
        emps[i] = emp, qs[i] = *q;
    const unsigned salary_days[] = {1, 31, 61};
    for (int m = 0; m < 3; m++) {
        for (unsigned b = 0; b < N / PER; b++)
            day_pays(e, salary_days[m], PER, emps, o + b * PER, SALARY, USDC);
        if (!(twin && m == 2))
            day_pays(e, salary_days[m], 3, fs, n, SALARY, USDC);
        if (m == 0) {
            for (unsigned b = 0; b < N / PER; b++)
                day_pays(e, 2 + b / 2, PER, o + b * PER, qs, SALARY, USDC);
            day_pay(e, 10, &g, x, SALARY, USDC);
            day_pay(e, 10, &h, &y, SALARY, USDC);
        } else if (m == 1) {
            day_pay(e, 40, &g, x, SALARY, USDC);
        }
    }
    day_pay(e, 66, x, q, "6000000000", USDC);
    day_pay(e, 67, &y, q, SALARY, USDC);
    if (x_again) {
        const cw_addr *waiting[2] = {x, &y};
        test_forget_window_index(e->store, q, waiting, 2);
    }
    if (!twin)
        day_pay(e, 70, &g, x, SALARY, USDC);
    day_pays(e, 70, 2, o, qs, "6000000000", USDC);
    int64_t fire = 0;
    for (unsigned i = 0; i < (x_again ? 2u : 3u); i++) {
        int64_t b = day_pay(e, 71 + i, &n[i], q, SWEEP, USDC);
        if (i == 1)
            fire = b;
    }
    return fire;
}

Test(rules_account, a_consolidator_seen_only_past_its_list_is_flagged_by_its_window, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr o[RS_LIST_MAX], n[3], x, q;
    int64_t fire = late_pool_account(&e, false, false, o, n, &x, &q);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 70, "%s", json_dumps(recs, 0));
    json_t *c = NULL;
    size_t i, toward = 0;
    json_t *r;
    json_array_foreach(recs, i, r)
    {
        if (strcmp(str(r, "rule"), "consolidator") == 0)
            c = r;
        else if (strcmp(str(r, "rule"), "payout_toward_designated") == 0 &&
                 strcmp(str(json_object_get(r, "evidence"), "target_kind"), "consolidator") == 0)
            toward++;
    }
    cr_assert_eq(toward, 69);
    cr_assert_not_null(c);
    cr_assert_str_eq(str(c, "address"), text(&q));
    cr_assert_str_eq(str(c, "txid"), txid_of(&e, fire, 0));
    json_t *ev = json_object_get(c, "evidence");
    cr_assert_eq(num(ev, "sources_in_window"), 5);
    cr_assert_eq(num(ev, "sources_in_window_not_listed"), 3);
    cr_assert_eq(num(ev, "sources_total"), 68);
    cr_assert_eq(num(ev, "sources_not_listed"), 4);
    cr_assert_eq(num(ev, "sources_not_examined_by_window"), 0);
    json_t *srcs = json_object_get(ev, "sources");
    const cw_addr *want[5] = {&o[0], &o[1], &n[1], &n[0], &x};
    const json_int_t cents[5] = {900000, 900000, 900000, 900000, 600000};
    cr_assert_eq(json_array_size(srcs), 5, "%s", json_dumps(srcs, 0));
    for (size_t k = 0; k < 5; k++) {
        cr_assert_str_eq(str(json_array_get(srcs, k), "source"), text(want[k]), "source %zu", k);
        cr_assert_eq(num(json_array_get(srcs, k), "total_usd_cents"), cents[k], "source %zu", k);
    }
    json_decref(recs);
    eng_close(&e);
    kept_reset();
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    late_pool_account(&e, true, false, o, n, &x, &q);
    recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 0, "%s", json_dumps(recs, 0));
    json_decref(recs);
    eng_close(&e);
    kept_reset();
}

/* A mint (a Transfer log from the zero account) and a burn (to it) move
 * no money between people: the zero account is nobody's payer. Found in
 * review: monthly USDC mints to w counted 0x00..00 as a second
 * "unrelated payer", so one employer and the token's issuer made a
 * shared_payout. The twin: the same with a second real payer fires. */
Test(rules_account, mints_and_burns_are_no_payments, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr zero = parse("0x0000000000000000000000000000000000000000");
    cw_addr w = acct(CW_CHAIN_EVM, 0x190), p1 = acct(CW_CHAIN_EVM, 0x90);
    shared_scenario(&e, &w, &p1, &zero, SALARY, USDC);
    day_pay(&e, 70, &w, &zero, SALARY, USDC); /* a burn */
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 0, "%s", json_dumps(recs, 0));
    json_decref(recs);
    cw_err er = {0};
    store_txn *t;
    cr_assert_eq(store_begin(e.store, false, &t, &er), CW_OK, "%s", er.msg);
    uint8_t k[WL_KEY_MAX];
    size_t kl = wl_key_from_addr(&zero, k);
    rs_addr ad;
    cr_assert_eq(rs_addr_get(t, k, kl, &ad, &er), CW_ENOTFOUND, "the zero account has no record");
    unsigned of = 9;
    cr_assert_eq(rs_origin_get(t, k, kl, &of, &er), CW_OK);
    cr_assert_eq(of, 0, "nor is it a payer");
    store_abort(t);
    /* the twin: a second real payer */
    cw_addr w2 = acct(CW_CHAIN_EVM, 0x191), p2 = acct(CW_CHAIN_EVM, 0x91), p3 = acct(CW_CHAIN_EVM, 0x92);
    shared_scenario(&e, &w2, &p2, &p3, SALARY, USDC);
    recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 1, "%s", json_dumps(recs, 0));
    cr_assert_str_eq(str(json_array_get(recs, 0), "address"), text(&w2));
    json_decref(recs);
    eng_close(&e);
    kept_reset();
}

/* What is no payment cannot make a second payer. Each payee is paid on
 * cadence by p1 in real USDC and by p2 in a form that moved nothing or
 * that nobody can name: a token that only claims to be USDC (its own
 * contract: the symbol comes from the tokens table by contract, never
 * from the token), a reverted tx, a pending call's calldata
 * (TOKEN_CALL). Counted, each would be a shared_payout; the twin with
 * real USDC from p2 is one. */
typedef enum { FORM_FAKE_TOKEN, FORM_FAILED, FORM_TOKEN_CALL, FORM_REAL, FORM_N } pay_form;

Test(rules_account, fake_tokens_reverted_txs_and_calls_are_no_payments, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    unsigned days[] = {0, 30, 60};
    for (int f = 0; f < FORM_N; f++) {
        cw_addr w = acct(CW_CHAIN_EVM, 0x1a0 + f), p1 = acct(CW_CHAIN_EVM, 0xa0 + f), p2 = acct(CW_CHAIN_EVM, 0xb0 + f);
        for (int k = 0; k < 3; k++) {
            hand_block h1, h2;
            block_init(&h1, e.number++, days[k]);
            pay(&h1, &p1, &w, SALARY, USDC);
            connect_block(&e, &h1);
            block_init(&h2, e.number++, days[k] + 1);
            cw_tx *tx = pay(&h2, &p2, &w, SALARY, f == FORM_FAKE_TOKEN ? "0x00000000000000000000000000000000000dead1" : USDC);
            if (f == FORM_FAILED)
                tx->flags |= CW_TX_FAILED;
            if (f == FORM_TOKEN_CALL)
                h2.x[0].kind = CW_XFER_TOKEN_CALL;
            connect_block(&e, &h2);
        }
    }
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 1, "%s", json_dumps(recs, 0));
    cw_addr real = acct(CW_CHAIN_EVM, 0x1a0 + FORM_REAL);
    cr_assert_str_eq(str(json_array_get(recs, 0), "rule"), "shared_payout");
    cr_assert_str_eq(str(json_array_get(recs, 0), "address"), text(&real));
    json_decref(recs);
    eng_close(&e);
}

/* A test payment in ETH (no price) and a salary in USDC: the record must
 * not write the ETH amount as USDC. Found in review: the explanation said
 * "10000000000000000 USDC" (0.01 ETH in wei, in the salary's unit: ten
 * billion dollars). The pair keeps no asset per payment, so the amount is
 * given in base units. */
Test(rules_account, a_test_payment_in_another_asset_is_not_written_in_the_salarys, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr p = acct(CW_CHAIN_EVM, 0xc0), u = acct(CW_CHAIN_EVM, 0x1c0), w = acct(CW_CHAIN_EVM, 0x1c1);
    day_pay(&e, 0, &p, &u, SALARY, USDC);
    day_pay(&e, 2, &p, &w, "10000000000000000", NULL); /* 0.01 ETH: the ETH tiny band */
    int64_t sal = day_pay(&e, 10, &p, &w, SALARY, USDC);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 1, "%s", json_dumps(recs, 0));
    json_t *r = json_array_get(recs, 0);
    cr_assert_str_eq(str(r, "rule"), "test_then_salary");
    cr_assert_str_eq(str(r, "txid"), txid_of(&e, sal, 0));
    const char *x = str(r, "explanation");
    cr_assert_null(strstr(x, "10000000000000000 USDC"), "%s", x);
    cr_assert(strstr(x, "a tiny amount (10000000000000000 base units on 2024-01-03)"), "%s", x);
    cr_assert_eq(num(json_object_get(r, "evidence"), "test_base_units"), 10000000000000000LL);
    json_decref(recs);
    eng_close(&e);
    kept_reset();
}

/* A designated address paid on cadence by two payers (two pools paying a
 * facilitator monthly, as the anvil scenario's seeds 3 and 6 do) is no
 * payout to find: each payment to it is a designated_address record
 * (severe) already, and a pattern record on it only said less, later.
 * Bitcoin never gave one; the account chains did. Twin: the same payments
 * to an unlisted address fire shared_payout. */
Test(rules_account, a_designated_address_paid_on_cadence_gets_no_pattern_record, .timeout = 60)
{
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr l1 = parse(L1), p1 = acct(CW_CHAIN_EVM, 0x90), p2 = acct(CW_CHAIN_EVM, 0x91);
    shared_scenario(&e, &l1, &p1, &p2, SALARY, USDC);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 0, "%s", json_dumps(recs, 0));
    json_decref(recs);
    size_t i, hits = 0;
    json_t *r;
    json_array_foreach(e.lines, i, r)
    {
        if (strcmp(str(r, "rule"), "designated_address") == 0 && strcmp(str(r, "status"), "confirmed") == 0)
            hits++;
    }
    cr_assert_eq(hits, 6, "every payment to the designated address is its own record");
    eng_close(&e);
    kept_reset();
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr w = acct(CW_CHAIN_EVM, 0x92);
    shared_scenario(&e, &w, &p1, &p2, SALARY, USDC);
    recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 1, "%s", json_dumps(recs, 0));
    cr_assert_str_eq(str(json_array_get(recs, 0), "rule"), "shared_payout");
    cr_assert_str_eq(str(json_array_get(recs, 0), "address"), text(&w));
    json_decref(recs);
    eng_close(&e);
    kept_reset();
}

/* ---------- screen of a raw tx: the rules read only, as if it confirmed now ---------- */

/* Every table of the store: a screen must leave it byte for byte as it was. */
static void dump_all(cw_store *s, cw_buf *out)
{
    store_db dbs[STORE_DB_COUNT];
    for (int i = 0; i < STORE_DB_COUNT; i++)
        dbs[i] = (store_db)i;
    test_dump_tables(s, dbs, STORE_DB_COUNT, out);
}

static void assert_same(const cw_buf *a, const cw_buf *b, const char *what)
{
    cr_assert_eq(a->n, b->n, "%s: %zu bytes, then %zu", what, a->n, b->n);
    cr_assert_eq(memcmp(a->p, b->p, a->n), 0, "%s changed", what);
}

/* The day of unix time t (UTC) as the evidence writes it (4 buffers in turn). */
static const char *day_of(uint64_t t)
{
    static char buf[4][11];
    static int at;
    char *d = buf[at++ % 4];
    time_t tt = (time_t)t;
    struct tm tm;
    cr_assert_not_null(gmtime_r(&tt, &tm));
    cr_assert_eq(strftime(d, 11, "%Y-%m-%d", &tm), 10);
    return d;
}

/* A USDC transfer(to, amount) signed by the test key (type 2, chain id 1),
 * as hex with 0x (malloc'd); its hash as nodes print it into hash: keccak
 * of the whole typed encoding (EIP-2718), computed here. */
static char *usdc_transfer(const cw_addr *to, uint64_t amount, char hash[67])
{
    uint8_t data[68] = {0xa9, 0x05, 0x9c, 0xbb}; /* transfer(address,uint256) */
    memcpy(data + 16, to->payload, 20);
    for (int i = 0; i < 8; i++)
        data[67 - i] = (uint8_t)(amount >> (8 * i));
    eth_tx tx;
    cw_addr c = parse(USDC);
    eth_test_call(&tx, c.payload, data, sizeof data, 0, 7);
    return eth_test_sign_hex(&tx, ETH_TEST_KEY, "0x", hash);
}

static char *canon(const json_t *j) { return json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT); }

static void assert_json(const json_t *got, const char *want)
{
    json_error_t je;
    json_t *w = json_loads(want, 0, &je);
    cr_assert_not_null(w, "%s at %d: %s", je.text, je.position, want);
    char *g = canon(got), *x = canon(w);
    cr_assert_str_eq(g, x);
    free(g), free(x);
    json_decref(w);
}

/* The oracle of "as if it confirmed now": the same payment confirmed in the
 * next block at `when`, its txid `txid_hex` (the raw tx's, as printed:
 * 0x for Ethereum), makes as many pattern records as the screen's findings
 * (screened), each one's rule, address, risk, evidence and explanation the
 * finding's in its place. */
static void confirm_and_compare(eng *e, const cw_addr *from, const cw_addr *to, const char *amount, const char *token,
                                const char *txid_hex, uint64_t when, const json_t *screened)
{
    eng_start(e, NULL);
    json_array_clear(e->lines);
    hand_block h;
    block_init(&h, e->number++, 0);
    h.b.time = when;
    cw_tx *tx = pay(&h, from, to, amount, token);
    size_t n;
    const char *hex = txid_hex[0] == '0' && txid_hex[1] == 'x' ? txid_hex + 2 : txid_hex;
    cr_assert_eq(cw_hex_decode(hex, 64, tx->txid, 32, &n, NULL), CW_OK);
    connect_block(e, &h);
    json_t *recs = patterns(e);
    cr_assert_gt(json_array_size(screened), 0);
    cr_assert_eq(json_array_size(recs), json_array_size(screened), "%s", json_dumps(recs, 0));
    for (size_t k = 0; k < json_array_size(recs); k++) {
        json_t *r = json_array_get(recs, k), *f = json_array_get(screened, k);
        const char *keys[] = {"rule", "address", "risk", "evidence", "explanation", NULL};
        for (int i = 0; keys[i]; i++)
            cr_assert(json_equal(json_object_get(r, keys[i]), json_object_get(f, keys[i])), "record %zu's %s: %s vs %s",
                      k, keys[i], json_dumps(json_object_get(r, keys[i]), JSON_SORT_KEYS),
                      json_dumps(json_object_get(f, keys[i]), JSON_SORT_KEYS));
        cr_assert_str_eq(str(r, "txid"), txid_hex);
    }
    json_decref(recs);
    eng_stop(e);
}

/* The Ethereum shared payout before its last payment: p1 pays w a USDC
 * salary on days 0, 30 and 60, s (the test key's account) on days 1 and
 * 31, day 0 being 61 days before today, in e opened and started here.
 * Not in the last minute of a day (the findings name today: the same in
 * every answer). blocks (or NULL) gets the blocks of days 0, 1 and 60.
 * Returns now (Unix seconds). */
static uint64_t eth_shared_payout_scenario(eng *e, cw_addr *w, cw_addr *p1, cw_addr *s, int64_t blocks[3])
{
    if (86400 - time(NULL) % 86400 < 60)
        sleep(61);
    uint64_t now = (uint64_t)time(NULL);
    day0 = now / 86400 * 86400 - 61 * 86400ull;
    eng_open(e, CW_CHAIN_EVM, NULL);
    eng_start(e, NULL);
    *w = acct(CW_CHAIN_EVM, 0x100), *p1 = acct(CW_CHAIN_EVM, 1), *s = parse(KEY46_ADDR);
    int64_t b0 = day_pay(e, 0, p1, w, SALARY, USDC);
    int64_t b1 = day_pay(e, 1, s, w, SALARY, USDC);
    day_pay(e, 30, p1, w, SALARY, USDC);
    day_pay(e, 31, s, w, SALARY, USDC);
    int64_t b2 = day_pay(e, 60, p1, w, SALARY, USDC);
    if (blocks)
        blocks[0] = b0, blocks[1] = b1, blocks[2] = b2;
    return now;
}

/* Ethereum: the signer S has paid the payout W a salary twice (days 1, 31)
 * and another employer p1 three times (days 0, 30, 60): one recurring
 * payer, no record. S's raw USDC transfer of the third salary today (30
 * days on) would make S recurring too: screen finds the shared_payout
 * (medium: review) the confirmed tx would record, and writes nothing. Twin:
 * the same transfer of USD 20,000 (above the salary band): no pattern,
 * allow. */
Test(rules_account, screen_of_a_raw_eth_tx_runs_the_rules_read_only, .timeout = 90)
{
    eng e;
    cw_addr w, p1, s;
    int64_t b[3];
    uint64_t now = eth_shared_payout_scenario(&e, &w, &p1, &s, b);
    int64_t b1 = b[0], b2 = b[1], b5 = b[2];
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 0, "one recurring payer: no record yet: %s", json_dumps(recs, 0));
    json_decref(recs);
    eng_stop(&e);
    cw_buf all0 = CW_BUF_INIT, rules0 = CW_BUF_INIT, all1 = CW_BUF_INIT, rules1 = CW_BUF_INIT;
    dump_all(e.store, &all0);
    dump_rules(e.store, &rules0);
    cr_assert_gt(rules0.n, 0);

    char hash[67], twin_hash[67];
    char *hit = usdc_transfer(&w, 3000000000ull, hash), *twin = usdc_transfer(&w, 20000000000ull, twin_hash);
    json_t *j;
    char *err;
    cr_assert_eq(cw_in(NULL, 0, &j, &err, "screen", hit, "--datadir", e.dir, NULL), 10, "review: %s", err);
    free(err);
    cr_assert_str_eq(str(j, "decision"), "review");
    cr_assert_str_eq(str(j, "subject"), hash);
    cr_assert_eq(json_array_size(json_object_get(j, "reasons")), 0);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(j, "addresses"), i, a) cr_assert_str_eq(str(a, "decision"), "allow");
    char want[4096];
    snprintf(want, sizeof want,
             "[{\"rule\":\"shared_payout\",\"address\":\"%s\",\"risk\":\"medium\",\"evidence\":{\"payers\":["
             "{\"payer\":\"%s\",\"payments\":3,\"tiny_first\":false,\"first\":\"%s\",\"last\":\"%s\","
             "\"first_txid\":\"%s\",\"last_txid\":\"%s\",\"total_usd_cents\":900000,\"total_base_units\":0,"
             "\"min_gap_days\":30,\"max_gap_days\":30},"
             "{\"payer\":\"%s\",\"payments\":3,\"tiny_first\":false,\"first\":\"%s\",\"last\":\"%s\","
             "\"first_txid\":\"%s\",\"last_txid\":\"%s\",\"total_usd_cents\":900000,\"total_base_units\":0,"
             "\"min_gap_days\":30,\"max_gap_days\":30}],"
             "\"recurring_payers\":2,\"payers_total\":2,\"payers_not_listed\":0,\"received_usd_cents\":1800000,"
             "\"received_base_units\":0},"
             "\"explanation\":\"%s is paid salary-sized amounts on a monthly-like cadence (gaps of 20-130 days) by 2 "
             "unrelated payers (distinct wallets; 2 distinct payers in all): one payout address shared by several "
             "personas, as DPRK IT workers do. This payment: USD 3000.00 from %s.\"}]",
             text(&w), text(&p1), day_of(day0), day_of(day0 + 60 * 86400ull), txid_of(&e, b1, 0),
             txid_of(&e, b5, 0), text(&s), day_of(day0 + 86400), day_of(now), txid_of(&e, b2, 0), hash, text(&w),
             text(&s));
    json_t *pat = json_incref(json_object_get(j, "patterns"));
    assert_json(pat, want);
    json_decref(j);

    cr_assert_eq(cw_in(NULL, 0, &j, &err, "screen", twin, "--datadir", e.dir, NULL), 0, "allow: %s", err);
    free(err);
    cr_assert_str_eq(str(j, "decision"), "allow");
    cr_assert_str_eq(str(j, "subject"), twin_hash);
    assert_json(json_object_get(j, "patterns"), "[]");
    json_decref(j);
    dump_all(e.store, &all1);
    assert_same(&all0, &all1, "the store after two screens");

    /* POST /v1/screen: the same answer (screen_answer) */
    char body[1024];
    snprintf(body, sizeof body, "{\"tx\":\"%s\"}", hit);
    json_t *api = test_api_screen_body(e.dir, NULL, body);
    cr_assert_str_eq(str(api, "decision"), "review", "%s", json_dumps(api, 0));
    cr_assert(json_equal(json_object_get(api, "patterns"), pat), "%s", json_dumps(api, 0));
    json_decref(api);
    dump_rules(e.store, &rules1);
    assert_same(&rules0, &rules1, "the rule tables after POST /v1/screen");
    /* and confirmed today, the same payment records the same finding */
    confirm_and_compare(&e, &s, &w, SALARY, USDC, hash, now, pat);
    json_decref(pat);
    free(hit), free(twin);
    cw_buf_free(&all0), cw_buf_free(&all1), cw_buf_free(&rules0), cw_buf_free(&rules1);
    eng_close(&e);
    kept_reset();
    day0 = T0;
}

/* The Tron off-ramp scenario of the raw-tx screens: the test key's account
 * *s is a flagged consolidator (five payouts swept their USDT into it) that
 * has sent two pieces to the exchange *x (labelled by the caller's
 * labels.csv in e's dir). */
static void tron_offramp_scenario(eng *e, cw_addr *s, cw_addr *x)
{
    eng_open(e, CW_CHAIN_TRON, NULL);
    eng_start(e, NULL);
    cw_addr k = parse(KEY46_ADDR);
    *x = acct(CW_CHAIN_TRON, 0x600);
    cw_addr_set(s, CW_CHAIN_TRON, CW_NET_MAIN, CW_ADDR_TRON, 0, k.payload, 20);
    cw_addr into[5] = {*s, *s, *s, *s, *s};
    pool_scenario(e, 0x40, into, false);
    day_pay(e, 70, s, x, "10000000000", TRON_USDT);
    day_pay(e, 71, s, x, "10000000000", TRON_USDT);
}

/* Tron: the signer's account S is a flagged consolidator (five payouts
 * swept their USDT into it) that has sent two pieces to a labelled
 * exchange X. Its raw USDT transfer to X (the real signed_txs.jsonl line
 * 0, USDT 41.677389, re-signed by the test key with X as recipient) is the
 * third piece: off_ramp_after_pool (score 3 + 2: high, hold), as the
 * confirmed tx would record. Twin: the same transfer to its real recipient
 * (an ordinary account): nothing. Nothing written either way. */
Test(rules_account, screen_of_a_raw_tron_tx_runs_the_rules_read_only, .timeout = 90)
{
    eng e;
    cw_addr s, x;
    tron_offramp_scenario(&e, &s, &x);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 6, "the consolidator and its 5 payouts, no off-ramp yet: %s",
                 json_dumps(recs, 0));
    cr_assert_str_eq(str(json_array_get(recs, 0), "rule"), "consolidator");
    cr_assert_str_eq(str(json_array_get(recs, 0), "address"), text(&s));
    json_decref(recs);
    eng_stop(&e);
    cw_buf all0 = CW_BUF_INIT, rules0 = CW_BUF_INIT, all1 = CW_BUF_INIT, rules1 = CW_BUF_INIT;
    dump_all(e.store, &all0);
    dump_rules(e.store, &rules0);

    char labels_path[600];
    snprintf(labels_path, sizeof labels_path, "%s/labels.csv", e.dir);
    json_t *hit = tron_test_resigned(0, x.payload), *twin = tron_test_resigned(0, NULL);
    char *hit_text = json_dumps(hit, JSON_COMPACT), *twin_text = json_dumps(twin, JSON_COMPACT);
    const char *txid = str(hit, "txID");
    json_t *j;
    char *err;
    cr_assert_eq(cw_in(NULL, 0, &j, &err, "screen", hit_text, "--chain", "tron", "--labels", labels_path, "--datadir",
                       e.dir, NULL),
                 11, "hold: %s", err);
    free(err);
    cr_assert_str_eq(str(j, "decision"), "hold");
    cr_assert_str_eq(str(j, "subject"), txid);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(j, "addresses"), i, a) cr_assert_str_eq(str(a, "decision"), "allow");
    char want[4096];
    /* USD 41.677389 (6 decimals) is 4167 cents (floored): 2 x 1,000,000 + 4,167 */
    snprintf(want, sizeof want,
             "[{\"rule\":\"off_ramp_after_pool\",\"address\":\"%s\",\"risk\":\"high\",\"evidence\":{"
             "\"pool\":\"%s\",\"service\":\"%s\",\"service_entity\":\"Some exchange\","
             "\"service_category\":\"exchange\",\"pieces\":3,\"off_ramped_usd_cents\":2004167,"
             "\"off_ramped_base_units\":0,\"hops\":1,\"left_pool_txid\":\"%s\",\"hit_txid\":\"%s\"},"
             "\"explanation\":\"%s, flagged as a consolidator of payout addresses, has sent its pooled money to "
             "labelled exchange/OTC/swap services in 3 payments so far (USD 20041.67 in all; this one to %s, Some "
             "exchange): the off-ramp in pieces that follows IT-worker pooling.\"}]",
             text(&s), text(&s), text(&x), txid, txid, text(&s), text(&x));
    json_t *pat = json_incref(json_object_get(j, "patterns"));
    assert_json(pat, want);
    json_decref(j);

    cr_assert_eq(cw_in(NULL, 0, &j, &err, "screen", twin_text, "--chain", "tron", "--labels", labels_path,
                       "--datadir", e.dir, NULL),
                 0, "allow: %s", err);
    free(err);
    cr_assert_str_eq(str(j, "decision"), "allow");
    cr_assert_str_eq(str(j, "subject"), str(twin, "txID"));
    assert_json(json_object_get(j, "patterns"), "[]");
    json_decref(j);
    dump_all(e.store, &all1);
    assert_same(&all0, &all1, "the store after two screens");

    /* POST /v1/screen of the signed tx object: the same patterns and decision */
    json_t *req = json_pack("{s:O}", "tx", hit);
    char *body = json_dumps(req, JSON_COMPACT);
    const char *opts[] = {"--labels", labels_path, NULL};
    json_t *api = test_api_screen_body(e.dir, opts, body);
    cr_assert_str_eq(str(api, "decision"), "hold", "%s", json_dumps(api, 0));
    cr_assert(json_equal(json_object_get(api, "patterns"), pat), "%s", json_dumps(api, 0));
    json_decref(api);
    dump_rules(e.store, &rules1);
    assert_same(&rules0, &rules1, "the rule tables after POST /v1/screen");
    confirm_and_compare(&e, &s, &x, "41677389", TRON_USDT, txid, (uint64_t)time(NULL), pat);
    free(body), free(hit_text), free(twin_text);
    json_decref(req), json_decref(pat), json_decref(hit), json_decref(twin);
    cw_buf_free(&all0), cw_buf_free(&all1), cw_buf_free(&rules0), cw_buf_free(&rules1);
    eng_close(&e);
    kept_reset();
}

/* ---------- a store error while the rules read a raw tx's tables: fail closed ---------- */


/* screen_of_a_raw_eth_tx's shared payout (the signer's third salary to
 * W), the store failing in each read the rules make of it: the signer's
 * origin flags, its account trace, the payee W's record (the signer's own
 * rule_addr read, absent, succeeds first). Exit 3 and 503, never the
 * review without its finding; nothing written (rules_fault.h). */
Test(rules_account, a_store_error_in_a_raw_eth_txs_rules_is_exit_3_and_503, .timeout = 90)
{
    eng e;
    cw_addr w, p1, s;
    eth_shared_payout_scenario(&e, &w, &p1, &s, NULL);
    eng_stop(&e);
    char hash[67], body[1024], w_spec[200];
    char *hit = usdc_transfer(&w, 3000000000ull, hash);
    snprintf(body, sizeof body, "{\"tx\":\"%s\"}", hit);
    snprintf(w_spec, sizeof w_spec, "mdb_get:1+:EIO@%s#rule_addr", rules_fault_key_hex(&w));
    const char *cli[] = {hit, NULL};
    rules_fault_case c = {e.dir, e.store, cli, 10, body, NULL, "shared_payout", CW_FAULT_PRELOAD};
    const char *specs[] = {"mdb_get:1+:EIO#rule_origin", "mdb_get:1+:EIO#rule_trace", w_spec, NULL};
    rules_fault_check(&c, specs);
    free(hit);
    eng_close(&e);
    kept_reset();
    day0 = T0;
}

/* screen_of_a_raw_tron_tx's off-ramp piece (the flagged pool's USDT to a
 * labelled exchange), the store failing in the rules' reads: the pool's
 * origin flags, its record read to tell a sweep (the first), its record
 * read again where the trace reaches the exchange (the second, after the
 * first succeeded). Exit 3 and 503; nothing written. */
Test(rules_account, a_store_error_in_a_raw_tron_txs_rules_is_exit_3_and_503, .timeout = 90)
{
    eng e;
    cw_addr s, x;
    tron_offramp_scenario(&e, &s, &x);
    eng_stop(&e);
    char labels_path[600], first[200], second[200];
    snprintf(labels_path, sizeof labels_path, "%s/labels.csv", e.dir);
    json_t *hit = tron_test_resigned(0, x.payload);
    char *hit_text = json_dumps(hit, JSON_COMPACT);
    json_t *req = json_pack("{s:O}", "tx", hit);
    char *body = json_dumps(req, JSON_COMPACT);
    snprintf(first, sizeof first, "mdb_get:1:EIO@%s#rule_addr", rules_fault_key_hex(&s));
    snprintf(second, sizeof second, "mdb_get:2:EIO@%s#rule_addr", rules_fault_key_hex(&s));
    const char *cli[] = {hit_text, "--chain", "tron", "--labels", labels_path, NULL};
    const char *opts[] = {"--labels", labels_path, NULL};
    rules_fault_case c = {e.dir, e.store, cli, 11, body, opts, "off_ramp_after_pool", CW_FAULT_PRELOAD};
    const char *specs[] = {"mdb_get:1+:EIO#rule_origin", first, second, NULL};
    rules_fault_check(&c, specs);
    free(body), free(hit_text);
    json_decref(req), json_decref(hit);
    eng_close(&e);
    kept_reset();
}

/* The USDC twin of the Bitcoin
 * a_screen_of_a_sweep_kept_past_the_list_before_the_index_is_its_record
 * (late_pool_account with x_again; day 73 is today): q's window does not
 * see X's sweep of day 66 (4 in it by N1's sweep, no record), and X (the
 * test key's account, a payout since day 70) sweeps its salary of day 70
 * into q again: the fifth, the consolidator. `chainwatch screen` of that
 * raw USDC transfer and the records of it confirmed now, each in its
 * place, field by field (confirm_and_compare): the same, the consolidator's
 * window 5 (O0, O1 listed; X, N1, N0 past the list), 68 sources, 4 past
 * the list, 1 of them (Y) not seen by the window (the oracle's "X, Y
 * unseen after day 67, X again on day 73": 69 records). Before: the
 * screen said 2 not seen, and its record of X toward q named X's sweep of
 * day 66. */
Test(rules_account, a_screen_of_a_sweep_kept_past_the_list_before_the_index_is_its_record, .timeout = 120)
{
    if (86400 - time(NULL) % 86400 < 60)
        sleep(61);
    uint64_t now = (uint64_t)time(NULL);
    day0 = now / 86400 * 86400 - 73 * 86400ull;
    eng e;
    eng_open(&e, CW_CHAIN_EVM, NULL);
    eng_start(&e, NULL);
    cw_addr o[RS_LIST_MAX], n[3], x, q;
    late_pool_account(&e, false, true, o, n, &x, &q);
    json_t *recs = patterns(&e);
    cr_assert_eq(json_array_size(recs), 0, "4 in the window by N1's sweep: %s", json_dumps(recs, 0));
    json_decref(recs);
    eng_stop(&e);
    char hash[67], *err;
    char *raw = usdc_transfer(&q, 3000000000ull, hash);
    json_t *j;
    cr_assert_eq(cw_in(NULL, 0, &j, &err, "screen", raw, "--datadir", e.dir, NULL), 11, "hold: %s", err);
    free(err);
    json_t *pat = json_incref(json_object_get(j, "patterns")), *c = NULL, *f;
    json_decref(j);
    size_t i;
    json_array_foreach(pat, i, f)
    {
        if (strcmp(str(f, "rule"), "consolidator") == 0)
            c = f;
    }
    cr_assert_not_null(c, "%s", json_dumps(pat, 0));
    json_t *ev = json_object_get(c, "evidence");
    cr_assert_eq(num(ev, "sources_in_window"), 5);
    cr_assert_eq(num(ev, "sources_in_window_not_listed"), 3);
    cr_assert_eq(num(ev, "sources_total"), 68);
    cr_assert_eq(num(ev, "sources_not_listed"), 4);
    cr_assert_eq(num(ev, "sources_not_examined_by_window"), 1);
    cr_assert_eq(json_array_size(pat), 69);
    confirm_and_compare(&e, &x, &q, SALARY, USDC, hash, now, pat);
    json_decref(pat);
    free(raw);
    eng_close(&e);
    kept_reset();
    day0 = T0;
}
