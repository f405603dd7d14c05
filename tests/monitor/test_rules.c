/*
 * test_rules: the pattern rules (monitor/engine/rules/) and their stats
 * (watchlists/rulestats): each rule fires on its scenario with the exact
 * records expected and not on its legitimate twin; a reorg undoes the
 * stats byte for byte; live (block by block, as watch gets them) and
 * replay give the same records; prices and options are refused with a
 * clear message; a store error stops the run (fail closed).
 *
 * Scenarios are hand-made regtest chains (tests/chain_build.h) with one
 * block a day, so monthly payments are 30 blocks apart. Amounts are in the
 * native bands (no --prices: 0.0375-0.3 BTC salary, 0.00025-0.0025 BTC
 * tiny) unless a test gives prices. Dates in the expectations were
 * computed independently (Python: datetime.utcfromtimestamp(1700000000 +
 * day * 86400)).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chains/hex.h"
#include "monitor/api/trace_svg.h"
#include "monitor/engine/pipeline.h"
#include "monitor/engine/rules/prices.h"
#include "monitor/engine/rules/rules.h"
#include "monitor/records/keys.h"
#include "tests/chain_build.h"
#include "tests/rules_fault.h"
#include "tests/support.h"
#include "watchlists/rulestats.h"
#include "watchlists/store/store.h"

#define BTC 100000000ull
#define SALARY (BTC / 10) /* 0.1 BTC: in the native salary band */
#define TINY (BTC / 1000) /* 0.001 BTC: in the tiny band */

/* ---------- prices ---------- */

Test(prices, parses_and_converts)
{
    const char *csv = "date,asset,usd\r\n2024-03-01,BTC,43210.55\n2024-03-03,btc,40000\n\n2024-03-01,ETH,3000.123456\n";
    prices *p;
    cw_err err = {0};
    cr_assert_eq(prices_parse(csv, strlen(csv), "p.csv", &p, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(prices_count(p), 3);
    int64_t d;
    cr_assert(prices_day("2024-03-01", 10, &d));
    cr_assert_eq(d, 19783); /* Python: (date(2024,3,1) - date(1970,1,1)).days */
    uint64_t c;
    /* 12,345,678 sat at USD 43,210.55: 533,463 cents (Python: 12345678*4321055//10**8) */
    cr_assert(prices_cents(p, "BTC", 8, 12345678, d * 86400 + 3600, &c));
    cr_assert_eq(c, 533463);
    /* the 2nd has no row: the latest earlier day (the 1st) */
    cr_assert(prices_cents(p, "BTC", 8, 12345678, (d + 1) * 86400, &c));
    cr_assert_eq(c, 533463);
    /* the 3rd: 0.1 BTC at 40,000 = 400,000 cents */
    cr_assert(prices_cents(p, "BTC", 8, SALARY, (d + 2) * 86400, &c));
    cr_assert_eq(c, 400000);
    /* before the first row: no price, never a later one */
    cr_assert_not(prices_cents(p, "BTC", 8, SALARY, (d - 1) * 86400, &c));
    /* stablecoins 1:1 without a row: 2,500 USDC (6 decimals) */
    cr_assert(prices_cents(p, "USDC", 6, 2500000000ull, d * 86400, &c));
    cr_assert_eq(c, 250000);
    cr_assert(prices_cents(NULL, "usdt", 6, 1999999, 0, &c));
    cr_assert_eq(c, 199);
    cr_assert_not(prices_cents(p, "DOGE", 8, 1, d * 86400, &c));
    prices_free(p);
}

Test(prices, refuses_with_line)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"", "line 1: empty"},
        {"date,asset,price\n", "line 1: the header must be date,asset,usd"},
        {"date,asset,usd\n2024-02-30,BTC,1\n", "line 2: the date is not YYYY-MM-DD"},
        {"date,asset,usd\n2024-02-01,BTC\n", "line 2: 3 fields expected"},
        {"date,asset,usd\n2024-02-01,BTC,1,2\n", "line 2: 3 fields expected"},
        {"date,asset,usd\n2024-02-01,BTC,-5\n", "line 2: the usd price is not a positive decimal"},
        {"date,asset,usd\n2024-02-01,BTC,1e5\n", "line 2: the usd price"},
        {"date,asset,usd\n2024-02-01,BTC,0\n", "line 2: the usd price"},
        {"date,asset,usd\n2024-02-01,BTC,1.1234567\n", "line 2: the usd price"},
        {"date,asset,usd\n2024-02-01,B TC,1\n", "line 2: the asset is not a ticker"},
        {"date,asset,usd\n\n\n2024-02-01,,1\n", "line 4: the asset"},
        {"date,asset,usd\n2024-02-01,BTC,1\n2024-02-01,btc,2\n", "btc has two prices for one day"},
        {"date,asset,usd\n2024-02-01,BTC,1\0\n", "a NUL byte"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        prices *p = (prices *)1;
        cw_err err = {0};
        size_t n = strlen(bad[i].text) + (strstr(bad[i].msg, "NUL") ? 2 : 0);
        cr_assert_eq(prices_parse(bad[i].text, n, "p.csv", &p, &err), CW_EFORMAT, "case %zu", i);
        cr_assert_null(p);
        cr_assert(strstr(err.msg, bad[i].msg) && strncmp(err.msg, "p.csv", 5) == 0, "case %zu: %s", i, err.msg);
    }
    prices *p;
    cw_err err = {0};
    cr_assert_eq(prices_load("/nonexistent/prices.csv", &p, &err), CW_EIO);
    cr_assert(strstr(err.msg, "/nonexistent/prices.csv"), "%s", err.msg);
}

Test(rules, config_check)
{
    rules_config c;
    rules_config_default(&c);
    cr_assert_null(rules_config_check(&c));
    cr_assert_eq(rules_risk(&c, 0), RISK_NONE);
    cr_assert_eq(rules_risk(&c, 1), RISK_LOW);
    cr_assert_eq(rules_risk(&c, 2), RISK_MEDIUM);
    cr_assert_eq(rules_risk(&c, 5), RISK_HIGH);
    cr_assert_eq(rules_risk(&c, 6), RISK_SEVERE);
    c.tiny_native.hi = c.salary_native.lo;
    cr_assert_str_eq(rules_config_check(&c), "the tiny band must end below the salary band");
    rules_config_default(&c);
    c.min_gap = c.max_gap + 1;
    cr_assert_str_eq(rules_config_check(&c), "the cadence's shortest gap is above its longest");
}

/* ---------- scenarios ---------- */

typedef struct {
    cw_addr a;
    cb_coin coins[16];
    size_t n;
} wallet;

typedef struct {
    cb_chain c;
    long tip;
    cb_tx txs[32];
    size_t n_txs;
    wallet *funded[16];
    size_t n_funded;
} scen;

static wallet wallet_make(uint32_t seed)
{
    wallet w;
    memset(&w, 0, sizeof w);
    w.a = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, seed);
    return w;
}

static const char *text(const cw_addr *a)
{
    static char buf[8][96];
    static int k;
    return cb_addr_text(a, buf[k++ & 7]);
}

static uint32_t scen_time0; /* set: block 0's time (a raw tx's screen judges it as confirmed now) */

/* Block 0 (day 0) funds the paying wallets with 50 BTC each. */
static void scen_start(scen *s, wallet **payers, size_t n)
{
    memset(s, 0, sizeof *s);
    cb_chain_init(&s->c, CW_NET_REGTEST);
    s->c.spacing = 86400;
    if (scen_time0)
        s->c.time0 = scen_time0;
    cb_pay pays[16];
    for (size_t i = 0; i < n; i++)
        pays[i] = (cb_pay){payers[i]->a, 50 * BTC};
    s->tip = (long)cb_chain_mine(&s->c, -1, pays, n, NULL, 0);
    for (size_t i = 0; i < n; i++) {
        payers[i]->coins[0] = cb_chain_coinbase_coin(&s->c, (size_t)s->tip, (uint32_t)i);
        payers[i]->n = 1;
    }
}

/* Mines empty blocks up to day - 1: the next block mined is day's. */
static void scen_day(scen *s, int64_t day)
{
    cb_pay miner = {cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 9999), 1};
    while (s->c.blocks[s->tip].height + 1 < day)
        s->tip = (long)cb_chain_mine(&s->c, s->tip, &miner, 1, NULL, 0);
}

/* Mines the pending txs into the next block. */
static void scen_mine(scen *s)
{
    cb_pay miner = {cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 9999), 1};
    const cb_tx *body[32];
    for (size_t i = 0; i < s->n_txs; i++)
        body[i] = &s->txs[i];
    s->tip = (long)cb_chain_mine(&s->c, s->tip, &miner, 1, body, s->n_txs);
    for (size_t i = 0; i < s->n_txs; i++) /* the block holds their bytes now */
        cb_tx_free(&s->txs[i]);
    s->n_txs = 0;
}

static cb_tx *next_tx(scen *s)
{
    cr_assert_lt(s->n_txs, 32);
    cb_tx *t = &s->txs[s->n_txs++];
    *t = (cb_tx)CB_TX_INIT;
    return t;
}

/* from pays value to `to` (a wallet that may spend it later, or NULL with
 * an address), change back to from; returns the txid (display hex). */
static const char *pay(scen *s, wallet *from, wallet *to, const cw_addr *to_addr, uint64_t value)
{
    cr_assert_gt(from->n, 0);
    uint64_t total = cb_coins_value(from->coins, from->n);
    cr_assert_gt(total, value + 1000);
    cb_pay out[2] = {{to ? to->a : *to_addr, value}, {from->a, total - value - 1000}};
    cb_tx *t = next_tx(s);
    cb_tx_pay(t, from->coins, from->n, out, 2);
    from->coins[0] = cb_tx_coin(t, 1);
    from->n = 1;
    if (to) {
        cr_assert_lt(to->n, 16);
        to->coins[to->n++] = cb_tx_coin(t, 0);
    }
    static char ids[16][65];
    static int k;
    return cb_txid_hex(t->txid, ids[k++ & 15]);
}

/* w sends everything it has to `to` (less a fee of 1,000 sat). */
static const char *sweep(scen *s, wallet *w, wallet *to, const cw_addr *to_addr)
{
    cr_assert_gt(w->n, 0);
    uint64_t total = cb_coins_value(w->coins, w->n);
    cb_pay out = {to ? to->a : *to_addr, total - 1000};
    cb_tx *t = next_tx(s);
    cb_tx_pay(t, w->coins, w->n, &out, 1);
    w->n = 0;
    if (to)
        to->coins[to->n++] = cb_tx_coin(t, 0);
    static char ids[16][65];
    static int k;
    return cb_txid_hex(t->txid, ids[k++ & 15]);
}

static char *temp_dir(void)
{
    char *d = strdup("/tmp/cw_rules_XXXXXX");
    cr_assert_not_null(mkdtemp(d));
    return d;
}

static void write_text(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(s, f);
    fclose(f);
}

/* A datadir with keys and `designated` listed under DPRK4 (NULL: the
 * bystander list of tests/support.h, nobody the chains pay). */
static void datadir_make(const char *root, char dd[4096], const char *designated)
{
    snprintf(dd, 4096, "%s/data", root);
    char *out, *err;
    char *init[] = {CW_BIN, "init", "--datadir", dd, NULL};
    cr_assert_eq(run_cmd(init, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    if (designated) {
        char csv[4200], body[400];
        snprintf(csv, sizeof csv, "%s/list.csv", root);
        snprintf(body, sizeof body, "chain,address,entity,program,note\nbitcoin,%s,Test facilitator,DPRK4,\n", designated);
        write_text(csv, body);
        char *imp[] = {CW_BIN, "watchlist", "import", "csv", csv, "--datadir", dd, NULL};
        cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
        free(out), free(err);
    } else
        test_import_bystander(dd); /* a list, or a screen would refuse the store */
}

static char *keep_root; /* set: replay_rules leaves its directory (and sets this to it) */
static size_t designated_records; /* replay_rules: the designated_address records of the last replay */

/* Replays the scenario's chain into a new datadir (extra options after
 * the defaults); returns the pattern rules' records (confirmed only), in
 * file order, and sets *exit_code. */
static json_t *replay_rules(scen *s, const char *designated, const char *labels, char **extra, int *exit_code,
                            char **stderr_out)
{
    char *root = temp_dir(), blocks[4200], dd[4096];
    snprintf(blocks, sizeof blocks, "%s/blocks", root);
    cr_assert_eq(cb_chain_write(&s->c, blocks, false), 0);
    datadir_make(root, dd, designated);
    char lab[4200];
    char *argv[32] = {CW_BIN, "replay", "--blocksdir", blocks, "--datadir", dd, "--network", "regtest"};
    int n = 8;
    if (labels) {
        snprintf(lab, sizeof lab, "%s/labels.csv", root);
        write_text(lab, labels);
        argv[n++] = "--labels";
        argv[n++] = lab;
    }
    for (int i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    char *out, *err;
    *exit_code = run_cmd(argv, NULL, 0, &out, &err);
    free(out);
    if (stderr_out)
        *stderr_out = err;
    else
        free(err);
    json_t *all = alerts_read(dd), *rules = json_array();
    size_t i;
    json_t *r;
    designated_records = 0;
    json_array_foreach(all, i, r)
    {
        const char *rule = json_string_value(json_object_get(r, "rule"));
        designated_records += rule && strcmp(rule, "designated_address") == 0;
        if (rule && (strcmp(rule, "designated_address") && strcmp(rule, "cluster_hit") && strcmp(rule, "indirect_exposure")))
            json_array_append(rules, r);
    }
    json_decref(all);
    if (keep_root)
        keep_root = root;
    else
        test_remove_dir(root);
    return rules;
}

static json_t *find_rec(json_t *recs, const char *rule, const char *addr)
{
    size_t i;
    json_t *r;
    json_array_foreach(recs, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "rule")), rule) == 0 &&
            strcmp(json_string_value(json_object_get(r, "address")), addr) == 0)
            return r;
    }
    return NULL;
}

static const char *str(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static json_int_t num(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

/* ---- shared_payout ---- */

/* A payout address paid 0.1 BTC on days 1, 31, 61 by employer A and on
 * days 5, 35, 65 by employer B; the twin's second payer pays weekly (days
 * 5, 12, 19: no monthly cadence). */
static void shared_scenario(scen *s, bool twin, const char **fire_txid, wallet *w)
{
    static wallet ea, eb;
    ea = wallet_make(1), eb = wallet_make(2);
    *w = wallet_make(100);
    wallet *funders[] = {&ea, &eb};
    scen_start(s, funders, 2);
    int a_days[] = {1, 31, 61}, b_days[] = {5, 35, 65}, b_twin[] = {5, 12, 19};
    int ia = 0, ib = 0;
    for (int day = 1; day <= 70; day++) {
        bool any = false;
        if (ia < 3 && a_days[ia] == day) {
            scen_day(s, day), pay(s, &ea, w, NULL, SALARY), ia++, any = true;
        }
        if (ib < 3 && (twin ? b_twin : b_days)[ib] == day) {
            if (!any)
                scen_day(s, day);
            const char *id = pay(s, &eb, w, NULL, SALARY);
            if (ib == 2)
                *fire_txid = id;
            ib++, any = true;
        }
        if (any)
            scen_mine(s);
    }
}

Test(rules, shared_payout_fires_with_exact_record, .timeout = 60)
{
    scen s;
    wallet w;
    const char *txid = NULL;
    shared_scenario(&s, false, &txid, &w);
    int rc;
    json_t *recs = replay_rules(&s, NULL, NULL, NULL, &rc, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(json_array_size(recs), 1, "exactly one pattern record: %s", json_dumps(recs, 0));
    json_t *r = json_array_get(recs, 0);
    cr_assert_str_eq(str(r, "rule"), "shared_payout");
    cr_assert_str_eq(str(r, "address"), text(&w.a));
    cr_assert_str_eq(str(r, "txid"), txid);
    cr_assert_str_eq(str(r, "severity"), "medium");
    cr_assert_str_eq(str(r, "risk"), "medium");
    cr_assert_eq(num(r, "score"), 2);
    cr_assert_str_eq(str(r, "decision"), "review");
    cr_assert_str_eq(str(r, "status"), "confirmed");
    cr_assert_eq(num(r, "amount"), (json_int_t)SALARY);
    cr_assert(json_is_null(json_object_get(r, "amount_usd_cents")), "no prices: no USD");
    cr_assert_eq(num(json_object_get(r, "block"), "height"), 65);
    json_t *ev = json_object_get(r, "evidence");
    cr_assert_eq(num(ev, "recurring_payers"), 2);
    cr_assert_eq(num(ev, "received_base_units"), (json_int_t)(6 * SALARY));
    json_t *payers = json_object_get(ev, "payers");
    cr_assert_eq(json_array_size(payers), 2);
    wallet ea = wallet_make(1), eb = wallet_make(2);
    json_t *p0 = json_array_get(payers, 0), *p1 = json_array_get(payers, 1);
    cr_assert_str_eq(str(p0, "payer"), text(&ea.a));
    cr_assert_str_eq(str(p1, "payer"), text(&eb.a));
    cr_assert_eq(num(p0, "payments"), 3);
    cr_assert_str_eq(str(p0, "first"), "2023-11-15");
    cr_assert_str_eq(str(p0, "last"), "2024-01-14");
    cr_assert_str_eq(str(p1, "first"), "2023-11-19");
    cr_assert_str_eq(str(p1, "last"), "2024-01-18");
    cr_assert_eq(num(p0, "min_gap_days"), 30);
    cr_assert_eq(num(p0, "max_gap_days"), 30);
    cr_assert_eq(num(p1, "total_base_units"), (json_int_t)(3 * SALARY));
    cr_assert_str_eq(str(p1, "last_txid"), txid);
    cr_assert(strstr(str(r, "explanation"), "unrelated payers") && strstr(str(r, "explanation"), text(&w.a)),
              "%s", str(r, "explanation"));
    json_decref(recs);
    cb_chain_free(&s.c);
}

Test(rules, shared_payout_not_on_weekly_second_payer, .timeout = 60)
{
    scen s;
    wallet w;
    const char *txid = NULL;
    shared_scenario(&s, true, &txid, &w);
    int rc;
    json_t *recs = replay_rules(&s, NULL, NULL, NULL, &rc, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(json_array_size(recs), 0, "no pattern record: %s", json_dumps(recs, 0));
    json_decref(recs);
    cb_chain_free(&s.c);
}

/* ---- test_then_salary ---- */

static void test_scenario(scen *s, int salary_day, const char **txid, wallet *w)
{
    static wallet ea;
    ea = wallet_make(3);
    *w = wallet_make(101);
    wallet *funders[] = {&ea};
    scen_start(s, funders, 1);
    scen_day(s, 1);
    /* the employer pays salaries (here to someone else, first in the
     * block): only such a payer's tiny payments are kept */
    wallet other = wallet_make(102);
    pay(s, &ea, &other, NULL, SALARY);
    pay(s, &ea, w, NULL, TINY);
    scen_mine(s);
    scen_day(s, salary_day);
    *txid = pay(s, &ea, w, NULL, SALARY);
    scen_mine(s);
}

Test(rules, test_then_salary_fires_low, .timeout = 60)
{
    scen s;
    wallet w;
    const char *txid;
    test_scenario(&s, 10, &txid, &w);
    int rc;
    json_t *recs = replay_rules(&s, NULL, NULL, NULL, &rc, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(json_array_size(recs), 1, "%s", json_dumps(recs, 0));
    json_t *r = json_array_get(recs, 0);
    cr_assert_str_eq(str(r, "rule"), "test_then_salary");
    cr_assert_str_eq(str(r, "address"), text(&w.a));
    cr_assert_str_eq(str(r, "txid"), txid);
    cr_assert_str_eq(str(r, "severity"), "low");
    cr_assert_str_eq(str(r, "risk"), "low");
    cr_assert_eq(num(r, "score"), 1);
    cr_assert_str_eq(str(r, "decision"), "review");
    json_t *ev = json_object_get(r, "evidence");
    cr_assert_eq(num(ev, "test_base_units"), (json_int_t)TINY);
    cr_assert_eq(num(ev, "salary_base_units"), (json_int_t)SALARY);
    cr_assert_str_eq(str(ev, "first"), "2023-11-15");
    cr_assert_str_eq(str(ev, "last"), "2023-11-24");
    cr_assert(json_is_true(json_object_get(ev, "tiny_first")));
    json_decref(recs);
    cb_chain_free(&s.c);
}

Test(rules, test_then_salary_not_after_the_window, .timeout = 60)
{
    scen s;
    wallet w;
    const char *txid;
    test_scenario(&s, 60, &txid, &w); /* 59 days: past the 45-day window */
    int rc;
    json_t *recs = replay_rules(&s, NULL, NULL, NULL, &rc, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(json_array_size(recs), 0, "%s", json_dumps(recs, 0));
    json_decref(recs);
    cb_chain_free(&s.c);
}

/* ---- consolidator, payout_toward_designated (toward the pool), off_ramp_after_pool ---- */

#define EXCHANGE_SEED 700
/* Five payout addresses, each paid a salary monthly by its own employer
 * (days 1+i, 31+i, 61+i), each sweeping all three into the pool (twin:
 * into its own deposit address) on day 70+i; on days 80, 81, 82 the pool
 * sends a third of what it holds to a labelled exchange each time. */
static void pool_scenario(scen *s, bool twin, const char *sweep_ids[5], const char *piece_ids[3], wallet *pool,
                          wallet payouts[5])
{
    static wallet emp[5];
    wallet *funders[5];
    for (int i = 0; i < 5; i++) {
        emp[i] = wallet_make(10 + (uint32_t)i);
        payouts[i] = wallet_make(200 + (uint32_t)i);
        funders[i] = &emp[i];
    }
    *pool = wallet_make(300);
    static wallet deposit[5];
    for (int i = 0; i < 5; i++)
        deposit[i] = wallet_make(400 + (uint32_t)i);
    scen_start(s, funders, 5);
    /* three monthly salaries each (days 1+i, 31+i, 61+i): payouts on cadence */
    for (int m = 0; m < 3; m++)
        for (int i = 0; i < 5; i++) {
            scen_day(s, 1 + 30 * m + i);
            pay(s, &emp[i], &payouts[i], NULL, SALARY + (uint64_t)i * 1000000);
            scen_mine(s);
        }
    for (int i = 0; i < 5; i++) {
        scen_day(s, 70 + i);
        sweep_ids[i] = sweep(s, &payouts[i], twin ? &deposit[i] : pool, NULL);
        scen_mine(s);
    }
    cw_addr ex = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, EXCHANGE_SEED);
    wallet *src = twin ? &deposit[0] : pool;
    for (int i = 0; i < 3; i++) {
        scen_day(s, 80 + i);
        uint64_t total = cb_coins_value(src->coins, src->n);
        piece_ids[i] = pay(s, src, NULL, &ex, i == 2 ? total - 2000 : total / 3);
        scen_mine(s);
    }
}

static char *labels_text(void)
{
    static char buf[300];
    cw_addr ex = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, EXCHANGE_SEED);
    snprintf(buf, sizeof buf, "chain,address,entity,category,source\nBTC,%s,Test Exchange,exchange,test\n", text(&ex));
    return buf;
}

Test(rules, consolidator_toward_pool_and_off_ramp_with_exact_records, .timeout = 60)
{
    scen s;
    wallet pool, payouts[5];
    const char *sweeps[5], *pieces[3];
    pool_scenario(&s, false, sweeps, pieces, &pool, payouts);
    int rc;
    json_t *recs = replay_rules(&s, NULL, labels_text(), NULL, &rc, NULL);
    cr_assert_eq(rc, 0);
    /* the consolidator on the pool, the five payouts tied to it, the off-ramp */
    cr_assert_eq(json_array_size(recs), 7, "%s", json_dumps(recs, JSON_INDENT(1)));
    json_t *c = find_rec(recs, "consolidator", text(&pool.a));
    cr_assert_not_null(c);
    cr_assert_str_eq(str(c, "txid"), sweeps[4]);
    cr_assert_str_eq(str(c, "severity"), "high");
    cr_assert_str_eq(str(c, "risk"), "high");
    cr_assert_eq(num(c, "score"), 3);
    cr_assert_str_eq(str(c, "decision"), "hold");
    json_t *ev = json_object_get(c, "evidence");
    cr_assert_eq(num(ev, "sources_in_window"), 5);
    json_t *srcs = json_object_get(ev, "sources");
    cr_assert_eq(json_array_size(srcs), 5);
    uint64_t pooled = 0;
    for (int i = 0; i < 5; i++) {
        json_t *e = json_array_get(srcs, (size_t)i);
        cr_assert_str_eq(str(e, "source"), text(&payouts[i].a));
        cr_assert_str_eq(str(e, "first_txid"), sweeps[i]);
        /* each payout got 3 x (SALARY + i*0.01 BTC) and swept it less 1,000 sat */
        cr_assert_eq(num(e, "total_base_units"), (json_int_t)(3 * (SALARY + (uint64_t)i * 1000000) - 1000));
        pooled += 3 * (SALARY + (uint64_t)i * 1000000) - 1000;
    }
    cr_assert_eq(num(ev, "pooled_base_units"), (json_int_t)pooled);
    for (int i = 0; i < 5; i++) {
        json_t *t = find_rec(recs, "payout_toward_designated", text(&payouts[i].a));
        cr_assert_not_null(t, "payout %d tied to the pool", i);
        cr_assert_str_eq(str(t, "txid"), sweeps[4]);
        cr_assert_str_eq(str(t, "severity"), "severe");
        cr_assert_str_eq(str(t, "risk"), "high"); /* weight 3 toward a pool */
        cr_assert_eq(num(t, "score"), 3);
        json_t *tev = json_object_get(t, "evidence");
        cr_assert_str_eq(str(tev, "target"), text(&pool.a));
        cr_assert_str_eq(str(tev, "target_kind"), "consolidator");
        json_t *payer = json_array_get(json_object_get(tev, "payers"), 0);
        wallet emp = wallet_make(10 + (uint32_t)i);
        cr_assert_str_eq(str(payer, "payer"), text(&emp.a), "the record names the payer to stop");
    }
    json_t *o = find_rec(recs, "off_ramp_after_pool", text(&pool.a));
    cr_assert_not_null(o);
    cr_assert_str_eq(str(o, "txid"), pieces[2]);
    cr_assert_str_eq(str(o, "severity"), "high");
    cr_assert_str_eq(str(o, "risk"), "high");
    cr_assert_eq(num(o, "score"), 5);
    json_t *oev = json_object_get(o, "evidence");
    cr_assert_eq(num(oev, "pieces"), 3);
    cr_assert_str_eq(str(oev, "service_entity"), "Test Exchange");
    /* the pieces as pool_scenario cut them: a third, a third of the rest,
     * then all but 2,000 sat; 1,000 sat of fee each */
    uint64_t p1 = pooled / 3, t1 = pooled - p1 - 1000, p2 = t1 / 3, t2 = t1 - p2 - 1000, p3 = t2 - 2000;
    cr_assert_eq(num(oev, "off_ramped_base_units"), (json_int_t)(p1 + p2 + p3));
    cr_assert_eq(num(o, "amount"), (json_int_t)p3);
    json_decref(recs);
    cb_chain_free(&s.c);
}

Test(rules, trace_draws_the_pool_and_its_payouts, .timeout = 60)
{
    scen s;
    wallet pool, payouts[5];
    const char *sweeps[5], *pieces[3];
    pool_scenario(&s, false, sweeps, pieces, &pool, payouts);
    int rc;
    keep_root = (char *)1;
    json_t *recs = replay_rules(&s, NULL, labels_text(), NULL, &rc, NULL);
    char *root = keep_root;
    keep_root = NULL;
    cr_assert_eq(rc, 0);
    json_decref(recs);
    char dd[4200], dot[4200];
    snprintf(dd, sizeof dd, "%s/data", root);
    snprintf(dot, sizeof dot, "%s/pool.dot", root);
    char *trace[] = {CW_BIN, "trace", (char *)text(&pool.a), "--datadir", dd, "--network", "regtest", "--dot", dot, NULL};
    char *out, *err;
    cr_assert_eq(run_cmd(trace, NULL, 0, &out, &err), 0, "%s", err);
    json_t *tr = json_loads(out, 0, NULL);
    cr_assert_not_null(tr, "%s", out);
    json_t *pat = json_object_get(tr, "patterns");
    cr_assert_str_eq(str(pat, "risk"), "high");
    cr_assert_eq(num(pat, "pool_sources"), 5);
    cr_assert_eq(json_array_size(json_object_get(pat, "sources")), 5);
    json_decref(tr);
    free(out), free(err);
    FILE *f = fopen(dot, "r");
    cr_assert_not_null(f);
    char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    cr_assert(strstr(buf, "risk high (score 5)\\nconsolidator, off_ramp_after_pool"), "%s", buf);
    for (int i = 0; i < 5; i++) {
        char edge[400];
        snprintf(edge, sizeof edge, "\"source:%s\" -> \"addr:%s\" [label=\"1 payment, ", text(&payouts[i].a),
                 text(&pool.a));
        cr_assert(strstr(buf, edge), "payout %d sweeps into the pool: %s", i, buf);
    }
    test_remove_dir(root);
    cb_chain_free(&s.c);
}

Test(rules, no_pool_when_each_sweeps_to_its_own_deposit, .timeout = 60)
{
    scen s;
    wallet pool, payouts[5];
    const char *sweeps[5], *pieces[3];
    pool_scenario(&s, true, sweeps, pieces, &pool, payouts);
    int rc;
    json_t *recs = replay_rules(&s, NULL, labels_text(), NULL, &rc, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(json_array_size(recs), 0, "%s", json_dumps(recs, 0));
    json_decref(recs);
    cb_chain_free(&s.c);
}

/* ---- payout_toward_designated (a designated address) ---- */

/* A payout paid on days 1, 31, 61 by its employer (twin: on day 1 only)
 * sends what it holds to a designated address on day 62. */
static void designated_scenario(scen *s, bool twin, const char **hit, wallet *w, cw_addr *desig)
{
    static wallet ea;
    ea = wallet_make(20);
    *w = wallet_make(120);
    *desig = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 800);
    wallet *funders[] = {&ea};
    scen_start(s, funders, 1);
    int days[] = {1, 31, 61};
    for (int i = 0; i < (twin ? 1 : 3); i++) {
        scen_day(s, days[i]);
        pay(s, &ea, w, NULL, SALARY);
        scen_mine(s);
    }
    scen_day(s, 62);
    *hit = sweep(s, w, NULL, desig);
    scen_mine(s);
}

Test(rules, payout_toward_designated_names_the_payer, .timeout = 60)
{
    scen s;
    wallet w;
    cw_addr d;
    const char *hit;
    designated_scenario(&s, false, &hit, &w, &d);
    int rc;
    keep_root = (char *)1;
    json_t *recs = replay_rules(&s, text(&d), NULL, NULL, &rc, NULL);
    char *root = keep_root;
    keep_root = NULL;
    cr_assert_eq(rc, 0);
    /* screen reads the same stats: the payout's risk holds it (exit 11) */
    char dd[4200];
    snprintf(dd, sizeof dd, "%s/data", root);
    char *screen[] = {CW_BIN, "screen", (char *)text(&w.a), "--datadir", dd, NULL};
    char *out, *err;
    cr_assert_eq(run_cmd(screen, NULL, 0, &out, &err), 11, "%s", err);
    json_t *sc = json_loads(out, 0, NULL);
    cr_assert_not_null(sc, "%s", out);
    cr_assert_str_eq(str(sc, "decision"), "hold");
    json_t *pat = json_object_get(sc, "patterns");
    cr_assert_str_eq(str(pat, "risk"), "high");
    cr_assert_eq(num(pat, "recurring_payers"), 1);
    cr_assert_eq(num(pat, "salary_payments"), 3);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(pat, "rules"), 0)), "payout_toward_designated");
    /* the HTTP API answers from the same code (screen_answer): the same
     * patterns and decision, with the API's risk word for hold */
    json_t *api = test_api_screen(dd, text(&w.a));
    cr_assert_str_eq(str(api, "decision"), "hold");
    cr_assert_str_eq(str(api, "risk"), "high");
    cr_assert(json_equal(json_object_get(api, "patterns"), pat), "%s", json_dumps(api, 0));
    json_decref(api);
    /* trace (screen_trace, which the console's graph draws too) has them */
    char *trace[] = {CW_BIN, "trace", (char *)text(&w.a), "--datadir", dd, NULL};
    char *tout, *terr;
    cr_assert_eq(run_cmd(trace, NULL, 0, &tout, &terr), 0, "%s", terr);
    json_t *tr = json_loads(tout, 0, NULL);
    cr_assert_not_null(tr, "%s", tout);
    cr_assert(json_equal(json_object_get(tr, "patterns"), pat), "%s", tout);
    cr_assert(strstr(str(tr, "summary"), "; pattern risk high"), "%s", tout);
    /* the review console's graph of a case draws them from the same trace */
    cw_buf svg = CW_BUF_INIT;
    cr_assert_eq(trace_svg(tr, NULL, &svg, NULL), CW_OK);
    cr_assert_eq(cw_buf_append(&svg, "", 1, NULL), CW_OK);
    char want[300];
    snprintf(want, sizeof want, "data-id=\"patterns:%s\"", text(&w.a));
    cr_assert(strstr((char *)svg.p, want), "%s", (char *)svg.p);
    cr_assert(strstr((char *)svg.p, ">pattern risk high (score 4)</text>"), "%s", (char *)svg.p);
    cr_assert(strstr((char *)svg.p, ">payout_toward_designated</text>"), "%s", (char *)svg.p);
    cr_assert(strstr((char *)svg.p, ">1 payer(s), 0 pooled payout(s)</text>"), "%s", (char *)svg.p);
    cw_buf_free(&svg);
    json_decref(tr);
    free(tout), free(terr);
    json_decref(sc);
    free(out), free(err);
    test_remove_dir(root);
    cr_assert_eq(json_array_size(recs), 1, "%s", json_dumps(recs, 0));
    json_t *r = json_array_get(recs, 0);
    cr_assert_str_eq(str(r, "rule"), "payout_toward_designated");
    cr_assert_str_eq(str(r, "address"), text(&w.a));
    cr_assert_str_eq(str(r, "txid"), hit);
    cr_assert_str_eq(str(r, "severity"), "severe");
    cr_assert_str_eq(str(r, "risk"), "high");
    cr_assert_eq(num(r, "score"), 4);
    cr_assert_str_eq(str(r, "decision"), "hold");
    json_t *ev = json_object_get(r, "evidence");
    cr_assert_str_eq(str(ev, "target"), text(&d));
    cr_assert_str_eq(str(ev, "target_kind"), "designated");
    cr_assert_eq(num(ev, "hops"), 1);
    cr_assert_str_eq(str(ev, "hit_date"), "2024-01-15");
    wallet ea = wallet_make(20);
    json_t *payer = json_array_get(json_object_get(ev, "payers"), 0);
    cr_assert_str_eq(str(payer, "payer"), text(&ea.a));
    cr_assert_eq(num(payer, "payments"), 3);
    cr_assert(strstr(str(r, "explanation"), "DPRK-program sanctions"), "%s", str(r, "explanation"));
    json_decref(recs);
    cb_chain_free(&s.c);
}

Test(rules, no_toward_designated_from_a_one_off_payee, .timeout = 60)
{
    scen s;
    wallet w;
    cw_addr d;
    const char *hit;
    designated_scenario(&s, true, &hit, &w, &d);
    int rc;
    json_t *recs = replay_rules(&s, text(&d), NULL, NULL, &rc, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(json_array_size(recs), 0, "only the designated_address record: %s", json_dumps(recs, 0));
    json_decref(recs);
    cb_chain_free(&s.c);
}

/* ---- shared_payout past a full counterparty list ---- */

/* Day 1: a funder gives 100 throwaway addresses 0.4 BTC each (above the
 * salary band: no payment); days 2-5: each pays w 0.1 BTC once (100
 * distinct payers, 25 a block); then employers e1 (days 10, 40, 70) and e2
 * (days 12, 42, 72; not in the twin) pay w 0.1 BTC. */
static void flood_scenario_raw(scen *s, bool twin, wallet *w, const char **fire, cw_buf *raw);

static void flood_scenario(scen *s, bool twin, wallet *w, const char **fire)
{
    flood_scenario_raw(s, twin, w, fire, NULL);
}

/* The same; with raw, e2's third payment (the one that fires) is not
 * mined: its bytes go to raw (a raw tx to screen). */
static void flood_scenario_raw(scen *s, bool twin, wallet *w, const char **fire, cw_buf *raw)
{
    static wallet f, e1, e2, t[100];
    f = wallet_make(40), e1 = wallet_make(41), e2 = wallet_make(42), *w = wallet_make(140);
    wallet *funders[] = {&f, &e1, &e2};
    scen_start(s, funders, 3);
    scen_day(s, 1);
    static cb_pay out[101];
    for (uint32_t i = 0; i < 100; i++) {
        t[i] = wallet_make(2000 + i);
        out[i] = (cb_pay){t[i].a, 4 * SALARY};
    }
    out[100] = (cb_pay){f.a, 50 * BTC - 400 * SALARY - 10000};
    cb_tx *ft = next_tx(s);
    cb_tx_pay(ft, f.coins, f.n, out, 101);
    for (uint32_t i = 0; i < 100; i++)
        t[i].coins[0] = cb_tx_coin(ft, i), t[i].n = 1;
    scen_mine(s);
    for (int i = 0; i < 100; i++) {
        if (i % 25 == 0)
            scen_day(s, 2 + i / 25);
        pay(s, &t[i], NULL, &w->a, SALARY);
        if (i % 25 == 24)
            scen_mine(s);
    }
    for (int k = 0; k < 3; k++) {
        scen_day(s, 10 + 30 * k);
        pay(s, &e1, NULL, &w->a, SALARY);
        scen_mine(s);
        if (twin)
            continue;
        scen_day(s, 12 + 30 * k);
        *fire = pay(s, &e2, NULL, &w->a, SALARY);
        if (raw && k == 2) {
            raw->n = 0;
            cw_buf_append(raw, s->txs[0].full.p, s->txs[0].full.n, NULL);
            cb_tx_free(&s->txs[0]);
            s->n_txs = 0;
            return;
        }
        scen_mine(s);
    }
}

/* 100 throwaway payers first neither hide the two real ones' shared_payout
 * (before: the full list kept neither) nor make one up with one real
 * payer; every distinct payer is counted (records and screen). */
Test(rules, a_flood_of_throwaway_payers_neither_hides_nor_invents_a_shared_payout, .timeout = 90)
{
    scen s;
    wallet w;
    const char *fire = NULL;
    flood_scenario(&s, false, &w, &fire);
    int rc;
    keep_root = (char *)1;
    json_t *recs = replay_rules(&s, NULL, NULL, NULL, &rc, NULL);
    char *root = keep_root;
    keep_root = NULL;
    cr_assert_eq(rc, 0);
    cr_assert_eq(json_array_size(recs), 1, "%s", json_dumps(recs, 0));
    json_t *r = json_array_get(recs, 0);
    cr_assert_str_eq(str(r, "rule"), "shared_payout");
    cr_assert_str_eq(str(r, "address"), text(&w.a));
    cr_assert_str_eq(str(r, "txid"), fire);
    json_t *ev = json_object_get(r, "evidence");
    cr_assert_eq(num(ev, "payers_total"), 102);
    cr_assert_eq(num(ev, "payers_not_listed"), 38);
    json_t *payers = json_object_get(ev, "payers");
    cr_assert_eq(json_array_size(payers), 2);
    wallet e1 = wallet_make(41), e2 = wallet_make(42);
    cr_assert_str_eq(str(json_array_get(payers, 0), "payer"), text(&e1.a));
    cr_assert_str_eq(str(json_array_get(payers, 1), "payer"), text(&e2.a));
    json_decref(recs);
    char dd[4200];
    snprintf(dd, sizeof dd, "%s/data", root);
    char *screen[] = {CW_BIN, "screen", (char *)text(&w.a), "--datadir", dd, NULL};
    char *out, *err;
    run_cmd(screen, NULL, 0, &out, &err);
    json_t *sc = json_loads(out, 0, NULL);
    cr_assert_not_null(sc, "%s %s", out, err);
    json_t *pat = json_object_get(sc, "patterns");
    cr_assert_eq(num(pat, "payers_total"), 102, "%s", out);
    cr_assert_eq(num(pat, "payers_not_listed"), 38);
    cr_assert_eq(num(pat, "recurring_payers"), 2);
    cr_assert_eq(num(pat, "payments_in"), 106);
    cr_assert_eq(num(pat, "in_base_units"), (json_int_t)(106 * SALARY));
    json_decref(sc);
    free(out), free(err);
    test_remove_dir(root);
    cb_chain_free(&s.c);
    /* the twin: the same flood, one real payer */
    flood_scenario(&s, true, &w, &fire);
    recs = replay_rules(&s, NULL, NULL, NULL, &rc, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(json_array_size(recs), 0, "%s", json_dumps(recs, 0));
    json_decref(recs);
    cb_chain_free(&s.c);
}

/* ---- a pool fed by more payouts than its list holds ---- */

#define POOL_N 70

/* Employer E pays each of POOL_N payouts 0.1 BTC on days 1, 31, 61 (one tx
 * a month of POOL_N outputs: every payout is paid on cadence); on days 70,
 * 71, 72 each payout sweeps all it holds into the pool P (30, 30 and 10 a
 * day: the 65th to the 70th find P's 64-entry list full of payouts on
 * cadence); on day 80 P sends all it holds to d (a designated address; in
 * the twin an ordinary one). */
/* What big_pool_scenario_raw leaves unmined (a raw tx to screen). */
typedef enum { POOL_ALL_MINED, POOL_RAW_HIT, POOL_RAW_LAST_SWEEP } pool_cut;

static void big_pool_scenario_raw(scen *s, wallet payouts[POOL_N], char sweep_ids[POOL_N][65], cw_addr *pool,
                                  const cw_addr *d, char hit[65], pool_cut cut, cw_buf *raw);

static void big_pool_scenario(scen *s, wallet payouts[POOL_N], char sweep_ids[POOL_N][65], cw_addr *pool,
                              const cw_addr *d, char hit[65])
{
    big_pool_scenario_raw(s, payouts, sweep_ids, pool, d, hit, POOL_ALL_MINED, NULL);
}

/* The same, but the tx `cut` names is not mined: its bytes go to raw (a
 * raw tx to screen): the hit (P to d), or the last payout's sweep into P
 * (its list full; nothing after it). */
static void big_pool_scenario_raw(scen *s, wallet payouts[POOL_N], char sweep_ids[POOL_N][65], cw_addr *pool,
                                  const cw_addr *d, char hit[65], pool_cut cut, cw_buf *raw)
{
    static wallet e;
    e = wallet_make(50);
    for (uint32_t i = 0; i < POOL_N; i++)
        payouts[i] = wallet_make(3000 + i);
    *pool = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 310);
    wallet *funders[] = {&e};
    scen_start(s, funders, 1);
    static cb_pay out[POOL_N + 1];
    for (int m = 0; m < 3; m++) {
        scen_day(s, 1 + 30 * m);
        uint64_t total = cb_coins_value(e.coins, e.n);
        for (int i = 0; i < POOL_N; i++)
            out[i] = (cb_pay){payouts[i].a, SALARY};
        out[POOL_N] = (cb_pay){e.a, total - POOL_N * SALARY - 10000};
        cb_tx *t = next_tx(s);
        cb_tx_pay(t, e.coins, e.n, out, POOL_N + 1);
        for (uint32_t i = 0; i < POOL_N; i++)
            payouts[i].coins[payouts[i].n++] = cb_tx_coin(t, i);
        e.coins[0] = cb_tx_coin(t, POOL_N), e.n = 1;
        scen_mine(s);
    }
    static cb_coin pc[POOL_N];
    for (int i = 0; i < POOL_N; i++) {
        if (i % 30 == 0)
            scen_day(s, 70 + i / 30);
        snprintf(sweep_ids[i], 65, "%s", sweep(s, &payouts[i], NULL, pool));
        pc[i] = cb_tx_coin(&s->txs[s->n_txs - 1], 0);
        if (cut == POOL_RAW_LAST_SWEEP && i == POOL_N - 1) {
            cb_tx *t = &s->txs[--s->n_txs];
            raw->n = 0;
            cw_buf_append(raw, t->full.p, t->full.n, NULL);
            cb_tx_free(t);
            scen_mine(s);
            return;
        }
        if (i % 30 == 29 || i == POOL_N - 1)
            scen_mine(s);
    }
    scen_day(s, 80);
    cb_tx *t = next_tx(s);
    cb_pay o = {*d, cb_coins_value(pc, POOL_N) - 10000};
    cb_tx_pay(t, pc, POOL_N, &o, 1);
    cb_txid_hex(t->txid, hit);
    if (cut != POOL_RAW_HIT) {
        scen_mine(s);
        return;
    }
    raw->n = 0;
    cw_buf_append(raw, t->full.p, t->full.n, NULL);
    cb_tx_free(t);
    s->n_txs = 0;
}

/* The payout_toward_designated records toward target_kind kind, checked
 * to be about distinct payouts of ws; how many. */
static size_t toward_records(json_t *recs, const char *kind, wallet *ws, size_t n_ws)
{
    bool seen[POOL_N] = {false};
    size_t n = 0, i;
    json_t *r;
    json_array_foreach(recs, i, r)
    {
        json_t *ev = json_object_get(r, "evidence");
        if (strcmp(str(r, "rule"), "payout_toward_designated") || strcmp(str(ev, "target_kind"), kind))
            continue;
        size_t k = 0;
        while (k < n_ws && strcmp(str(r, "address"), text(&ws[k].a)))
            k++;
        cr_assert_lt(k, n_ws, "a record about %s, no payout of the pool", str(r, "address"));
        cr_assert_not(seen[k], "two records toward %s about %s", kind, str(r, "address"));
        seen[k] = true;
        n++;
    }
    return n;
}

/* Every payout that swept into the pool is behind the money it sends to a
 * designated address, the six past its 64-entry list too. Before: those
 * six were never kept (the list full of payouts on cadence, the sweep was
 * dropped whole: not counted in the pool's pool_sources or payments), so
 * this test saw 64 payout_toward_designated records toward the designated
 * address, not 70 (and 64 toward the pool). */
Test(rules, every_payout_of_a_pool_past_its_list_is_behind_its_hit, .timeout = 120)
{
    scen s;
    static wallet payouts[POOL_N];
    static char sweeps[POOL_N][65];
    char hit[65];
    cw_addr pool, d = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 810);
    big_pool_scenario(&s, payouts, sweeps, &pool, &d, hit);
    char ptext[96], dtext[96];
    snprintf(ptext, sizeof ptext, "%s", text(&pool));
    snprintf(dtext, sizeof dtext, "%s", text(&d));
    int rc;
    keep_root = (char *)1;
    json_t *recs = replay_rules(&s, dtext, NULL, NULL, &rc, NULL);
    char *root = keep_root;
    keep_root = NULL;
    cr_assert_eq(rc, 0);
    cr_assert_eq(toward_records(recs, "designated", payouts, POOL_N), POOL_N, "%s", json_dumps(recs, 0));
    cr_assert_eq(toward_records(recs, "consolidator", payouts, POOL_N), POOL_N);
    cr_assert_not_null(find_rec(recs, "consolidator", ptext));
    /* 1 consolidator + 70 toward the pool + 70 toward d, nothing else */
    cr_assert_eq(json_array_size(recs), 1 + 2 * POOL_N);
    size_t i;
    json_t *r;
    json_array_foreach(recs, i, r)
    {
        json_t *ev = json_object_get(r, "evidence");
        if (strcmp(str(r, "rule"), "payout_toward_designated") || strcmp(str(ev, "target_kind"), "designated"))
            continue;
        cr_assert_str_eq(str(r, "txid"), hit);
        cr_assert_str_eq(str(ev, "target"), dtext);
        cr_assert_str_eq(str(ev, "via_pool"), ptext);
        cr_assert_eq(num(ev, "hops"), 2);
        cr_assert_eq(num(ev, "sources_total"), POOL_N);
        cr_assert_eq(num(ev, "sources_not_listed"), POOL_N - 64);
        cr_assert_eq(num(ev, "sources_not_examined"), 0);
        /* the path: the payout's own sweep into the pool, from rule_pair for the six */
        size_t k = 0;
        while (strcmp(str(r, "address"), text(&payouts[k].a)))
            k++;
        cr_assert_str_eq(str(ev, "swept_into_pool_txid"), sweeps[k], "payout %zu", k);
        cr_assert_eq(num(ev, "payers_total"), 1);
    }
    json_decref(recs);
    /* screen: the pool's counts, every source */
    char dd[4200];
    snprintf(dd, sizeof dd, "%s/data", root);
    char *screen[] = {CW_BIN, "screen", ptext, "--datadir", dd, NULL};
    char *out, *err;
    run_cmd(screen, NULL, 0, &out, &err);
    json_t *sc = json_loads(out, 0, NULL);
    cr_assert_not_null(sc, "%s %s", out, err);
    json_t *pat = json_object_get(sc, "patterns");
    cr_assert_eq(num(pat, "pool_sources"), POOL_N, "%s", out);
    cr_assert_eq(num(pat, "sources_total"), POOL_N);
    cr_assert_eq(num(pat, "sources_not_listed"), POOL_N - 64);
    cr_assert_eq(num(pat, "payments_in"), POOL_N);
    cr_assert_eq(num(pat, "in_base_units"), (json_int_t)(POOL_N * (3 * SALARY - 1000)));
    json_decref(sc);
    free(out), free(err);
    /* `watchlist check` reads the new key shape as well-formed */
    char *check[] = {CW_BIN, "watchlist", "check", "--datadir", dd, NULL};
    cr_assert_eq(run_cmd(check, NULL, 0, &out, &err), 0, "%s %s", out, err);
    free(out), free(err);
    test_remove_dir(root);
    /* a bound on the sources past the list walked per hit: the rest are
     * counted in every record of the hit, never skipped silently */
    char *bound[] = {"--rules-pool-trace-max", "2", NULL};
    recs = replay_rules(&s, dtext, NULL, bound, &rc, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(toward_records(recs, "designated", payouts, POOL_N), 64 + 2);
    json_array_foreach(recs, i, r)
    {
        json_t *ev = json_object_get(r, "evidence");
        if (strcmp(str(r, "rule"), "payout_toward_designated") == 0 && strcmp(str(ev, "target_kind"), "designated") == 0)
            cr_assert_eq(num(ev, "sources_not_examined"), POOL_N - 64 - 2);
    }
    json_decref(recs);
    cb_chain_free(&s.c);
    /* the twin: the pool's money goes to an ordinary address */
    cw_addr o = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 811);
    big_pool_scenario(&s, payouts, sweeps, &pool, &o, hit);
    recs = replay_rules(&s, dtext, NULL, NULL, &rc, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(toward_records(recs, "designated", payouts, POOL_N), 0, "%s", json_dumps(recs, 0));
    cr_assert_eq(toward_records(recs, "consolidator", payouts, POOL_N), POOL_N);
    cr_assert_eq(json_array_size(recs), 1 + POOL_N);
    json_decref(recs);
    cb_chain_free(&s.c);
}

/* ---- the consolidator's window: sources past the list count too ---- */

#define OLD_N 64

/* from pays SALARY to each of n wallets in one tx (change back to from). */
static void pay_many(scen *s, wallet *from, wallet *to, size_t n)
{
    static cb_pay out[OLD_N + 1];
    cr_assert_leq(n, OLD_N);
    uint64_t total = cb_coins_value(from->coins, from->n);
    for (size_t i = 0; i < n; i++)
        out[i] = (cb_pay){to[i].a, SALARY};
    out[n] = (cb_pay){from->a, total - n * SALARY - 10000};
    cb_tx *t = next_tx(s);
    cb_tx_pay(t, from->coins, from->n, out, n + 1);
    for (size_t i = 0; i < n; i++) {
        cr_assert_lt(to[i].n, 16);
        to[i].coins[to[i].n++] = cb_tx_coin(t, (uint32_t)i);
    }
    from->coins[0] = cb_tx_coin(t, (uint32_t)n), from->n = 1;
}

/* A pool P whose 64-entry list is full of old sources when the pool it
 * becomes starts (one block a day, 0.1 BTC salaries, each sweep all a
 * wallet holds less 1,000 sat):
 *   days 1, 31, 61  E pays O0..O63 (one tx), F pays N0..N2 (one tx; the
 *                   twin: not on day 61, so the N are never payouts)
 *   days 2, 3       O0..O31, then O32..O63 sweep their salary into P: its
 *                   list is full; none is a payout yet (one salary each)
 *   days 10, 40     G pays X; day 10 H pays Y (once)
 *   day 61          the O and N become payouts paid on cadence
 *   day 66          X sweeps into P: past the list (every listed source is
 *                   a payout now, none gives way), not a payout; the O's
 *                   sweeps (days 2, 3) are out of every window from here
 *   day 67          Y sweeps into P: past the list, never a payout
 *   day 70          G pays X a third time (the twin: not): X is a payout
 *                   now, and its sweep of day 66 is in the window; O0 and
 *                   O1 sweep again (listed, in the window)
 *   days 71, 72, 73 N0, N1, N2 sweep into P (past the list)
 *   days 74, 75     F pays N0 again and N0 sweeps it into P (the twin: not):
 *                   its window entry moves from day 71 to 75
 * ids: the sweeps of N0..N2, X, Y, O0, O1 (days 71-73, 66, 67, 70). end:
 * where it stops (late_end). */
typedef enum {
    LATE_ALL, /* every step above mined */
    /* the last sweep is left in s->txs[0], not mined (a raw tx to screen),
     * and nothing follows it: */
    LATE_N1_PENDING, /* N1's */
    /* N1's, and E does not pay O61..O63 on day 61 (never payouts): X, Y
     * and N0 take their places in the list when they sweep, and N1 Y's
     * (Y goes past the list by N1's sweep) */
    LATE_N1_PENDING_GIVE_WAY,
    LATE_X_AGAIN /* on day 73, instead of N2's, X's again (its salary of day 70: ids[2]) */
} late_end;

static void late_pool_scenario(scen *s, bool twin, wallet o[OLD_N], wallet n[3], wallet *x, wallet *y, cw_addr *pool,
                               char ids[7][65], late_end end)
{
    static wallet e, f, g, h;
    e = wallet_make(60), f = wallet_make(61), g = wallet_make(62), h = wallet_make(63);
    for (uint32_t i = 0; i < OLD_N; i++)
        o[i] = wallet_make(5000 + i);
    for (uint32_t i = 0; i < 3; i++)
        n[i] = wallet_make(5100 + i);
    *x = wallet_make(5200), *y = wallet_make(5201);
    *pool = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 320);
    wallet *funders[] = {&e, &f, &g, &h};
    scen_start(s, funders, 4);
    scen_day(s, 1);
    pay_many(s, &e, o, OLD_N);
    pay_many(s, &f, n, 3);
    scen_mine(s);
    for (int d = 0; d < 2; d++) {
        scen_day(s, 2 + d);
        for (int i = 0; i < OLD_N / 2; i++)
            sweep(s, &o[d * OLD_N / 2 + i], NULL, pool);
        scen_mine(s);
    }
    scen_day(s, 10);
    pay(s, &g, x, NULL, SALARY);
    pay(s, &h, y, NULL, SALARY);
    scen_mine(s);
    scen_day(s, 31);
    pay_many(s, &e, o, OLD_N);
    pay_many(s, &f, n, 3);
    scen_mine(s);
    scen_day(s, 40);
    pay(s, &g, x, NULL, SALARY);
    scen_mine(s);
    scen_day(s, 61);
    pay_many(s, &e, o, end == LATE_N1_PENDING_GIVE_WAY ? OLD_N - 3 : OLD_N);
    if (!twin)
        pay_many(s, &f, n, 3);
    scen_mine(s);
    scen_day(s, 66);
    snprintf(ids[3], 65, "%s", sweep(s, x, NULL, pool));
    scen_mine(s);
    scen_day(s, 67);
    snprintf(ids[4], 65, "%s", sweep(s, y, NULL, pool));
    scen_mine(s);
    scen_day(s, 70);
    if (!twin)
        pay(s, &g, x, NULL, SALARY);
    snprintf(ids[5], 65, "%s", sweep(s, &o[0], NULL, pool));
    snprintf(ids[6], 65, "%s", sweep(s, &o[1], NULL, pool));
    scen_mine(s);
    for (int i = 0; i < 3; i++) {
        scen_day(s, 71 + i);
        if (end == LATE_X_AGAIN && i == 2) {
            snprintf(ids[i], 65, "%s", sweep(s, x, NULL, pool));
            return;
        }
        snprintf(ids[i], 65, "%s", sweep(s, &n[i], NULL, pool));
        if ((end == LATE_N1_PENDING || end == LATE_N1_PENDING_GIVE_WAY) && i == 1)
            return;
        scen_mine(s);
    }
    if (twin)
        return;
    scen_day(s, 74);
    pay(s, &f, &n[0], NULL, SALARY);
    scen_mine(s);
    scen_day(s, 75);
    sweep(s, &n[0], NULL, pool);
    scen_mine(s);
}

/* A consolidator whose qualifying sources all but two arrive after its
 * list is full is flagged when the fifth payout sweeps in, with the exact
 * window. Before: the window counted the listed sources only (O0 and O1:
 * 2 of 5), so P was never flagged and this test saw no record at all.
 * Expected, by hand from the schedule above (and checked with a short
 * Python model of the window over the same sweeps, tests/tools/window_oracle.py):
 * at N0's sweep (day 71) the payouts whose last sweep is within 62 days
 * are O0, O1 (day 70), X (day 66: a payout since day 70), N0: 4; at N1's
 * (day 72) 5: the consolidator fires there, its window 2023-11-24 (day 10)
 * to 2024-01-25 (day 72); Y (a source, never a payout) and the O's sweeps
 * of days 2-3 (out of the window) do not count. The pool then has 68
 * sources (64 listed, X, Y, N0, N1 past the list); the flag ties each to
 * it (68 records), and N2's sweep on day 73 one more: 70 records. */
Test(rules, a_consolidator_seen_only_past_its_list_is_flagged_by_its_window, .timeout = 120)
{
    scen s;
    static wallet o[OLD_N];
    wallet n[3], x, y;
    cw_addr pool;
    char ids[7][65];
    late_pool_scenario(&s, false, o, n, &x, &y, &pool, ids, LATE_ALL);
    char ptext[96];
    snprintf(ptext, sizeof ptext, "%s", text(&pool));
    int rc;
    keep_root = (char *)1;
    json_t *recs = replay_rules(&s, NULL, NULL, NULL, &rc, NULL);
    char *root = keep_root;
    keep_root = NULL;
    cr_assert_eq(rc, 0);
    cr_assert_eq(json_array_size(recs), 70, "%s", json_dumps(recs, 0));
    json_t *c = find_rec(recs, "consolidator", ptext);
    cr_assert_not_null(c);
    cr_assert_str_eq(str(c, "txid"), ids[1], "fires on N1's sweep, the fifth payout in the window");
    cr_assert_eq(num(c, "score"), 3);
    json_t *ev = json_object_get(c, "evidence");
    cr_assert_eq(num(ev, "sources_in_window"), 5);
    cr_assert_eq(num(ev, "sources_in_window_not_listed"), 3);
    cr_assert_eq(num(ev, "sources_total"), 68);
    cr_assert_eq(num(ev, "sources_not_listed"), 4);
    cr_assert_eq(num(ev, "sources_not_examined_by_window"), 0);
    cr_assert_str_eq(str(ev, "window_from"), "2023-11-24");
    cr_assert_str_eq(str(ev, "window_to"), "2024-01-25");
    /* the listed sources in the window, then those past the list: this
     * sweep's source, then the window index's newest first */
    json_t *srcs = json_object_get(ev, "sources");
    const wallet *want[5] = {&o[0], &o[1], &n[1], &n[0], &x};
    const char *first[5] = {NULL, NULL, ids[1], ids[0], ids[3]};
    const json_int_t total[5] = {SALARY - 1000 + 2 * SALARY - 1000, SALARY - 1000 + 2 * SALARY - 1000,
                                 3 * SALARY - 1000, 3 * SALARY - 1000, 2 * SALARY - 1000};
    cr_assert_eq(json_array_size(srcs), 5, "%s", json_dumps(srcs, 0));
    for (size_t i = 0; i < 5; i++) {
        json_t *e = json_array_get(srcs, i);
        cr_assert_str_eq(str(e, "source"), text(&want[i]->a), "source %zu", i);
        cr_assert_eq(num(e, "total_base_units"), total[i], "source %zu", i);
        if (first[i])
            cr_assert_str_eq(str(e, "first_txid"), first[i], "source %zu", i);
    }
    cr_assert_str_eq(str(json_array_get(srcs, 0), "last_txid"), ids[5]);
    cr_assert_str_eq(str(json_array_get(srcs, 1), "last_txid"), ids[6]);
    /* all that reached P by N1's sweep: 64 first sweeps, X, Y, O0 and O1
     * again, N0 and N1 (each less 1,000 sat) */
    json_int_t pooled = OLD_N * (SALARY - 1000) + (2 * SALARY - 1000) + (SALARY - 1000) + 2 * (2 * SALARY - 1000) +
                        2 * (3 * SALARY - 1000);
    cr_assert_eq(num(ev, "pooled_base_units"), pooled);
    /* every source tied to the flagged pool, Y and N2 included */
    size_t i;
    json_t *r;
    size_t toward = 0;
    json_array_foreach(recs, i, r)
    {
        if (strcmp(str(r, "rule"), "payout_toward_designated") == 0) {
            cr_assert_str_eq(str(json_object_get(r, "evidence"), "target_kind"), "consolidator");
            toward++;
        }
    }
    cr_assert_eq(toward, 69);
    cr_assert_not_null(find_rec(recs, "payout_toward_designated", text(&y.a)));
    json_t *n2 = find_rec(recs, "payout_toward_designated", text(&n[2].a));
    cr_assert_not_null(n2);
    cr_assert_str_eq(str(n2, "txid"), ids[2]);
    json_decref(recs);
    /* screen: the pool's counts; `watchlist check` reads the window index */
    char dd[4200];
    snprintf(dd, sizeof dd, "%s/data", root);
    char *screen[] = {CW_BIN, "screen", ptext, "--datadir", dd, NULL};
    char *out, *err;
    run_cmd(screen, NULL, 0, &out, &err);
    json_t *sc = json_loads(out, 0, NULL);
    cr_assert_not_null(sc, "%s %s", out, err);
    json_t *pat = json_object_get(sc, "patterns");
    cr_assert_eq(num(pat, "sources_total"), 69, "%s", out);
    cr_assert_eq(num(pat, "sources_not_listed"), 5);
    cr_assert_eq(num(pat, "sources_not_examined_by_window"), 0);
    json_decref(sc);
    free(out), free(err);
    char *check[] = {CW_BIN, "watchlist", "check", "--datadir", dd, NULL};
    cr_assert_eq(run_cmd(check, NULL, 0, &out, &err), 0, "%s %s", out, err);
    free(out), free(err);
    test_remove_dir(root);
    cb_chain_free(&s.c);
    /* the twin: the N and X never become payouts: seven sources in the
     * window (O0, O1, X, Y, N0..N2), two of them payouts: nothing */
    late_pool_scenario(&s, true, o, n, &x, &y, &pool, ids, LATE_ALL);
    recs = replay_rules(&s, NULL, NULL, NULL, &rc, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(json_array_size(recs), 0, "%s", json_dumps(recs, 0));
    json_decref(recs);
    cb_chain_free(&s.c);
}

/* `watchlist check` reads the consolidator window's index in rule_pair
 * (rulestats.h): each shape well-formed, and each way it can be cut or
 * bent named. Keys of 21-byte address keys. */
Test(rules, window_index_records_are_checked)
{
    uint8_t k[2 + 8 + 2 * 21], one = 1, two = 2, count[8] = {5};
    memset(k, 0x11, sizeof k);
    /* window: 0xF0 plen pool ~last(8) source -> 1 */
    k[0] = 0xF0, k[1] = 21;
    cr_assert_null(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 52}, (cw_span){&one, 1}));
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 52}, (cw_span){&two, 1}),
                     "a value that is not a window entry's mark");
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 52}, (cw_span){&one, 0}),
                     "a value that is not a window entry's mark");
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 31}, (cw_span){&one, 1}),
                     "a key that is not a pool's window entry (a pool's key, a time, a source's key)");
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 1}, (cw_span){&one, 1}),
                     "a key that is not a pool's window entry (a pool's key, a time, a source's key)");
    k[1] = 0;
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 52}, (cw_span){&one, 1}),
                     "a key that is not a pool's window entry (a pool's key, a time, a source's key)");
    /* waiting: 0xF1 slen source pool -> 1 */
    k[0] = 0xF1, k[1] = 21;
    cr_assert_null(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 44}, (cw_span){&one, 1}));
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 23}, (cw_span){&one, 1}),
                     "a key that is not a waiting source's and its pool's keys");
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 44}, (cw_span){count, 8}),
                     "a value that is not a waiting entry's mark");
    k[1] = 130; /* over WL_KEY_MAX */
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 44}, (cw_span){&one, 1}),
                     "a key that is not a waiting source's and its pool's keys");
    /* count: 0xF2 plen pool -> 8 bytes LE */
    k[0] = 0xF2, k[1] = 21;
    cr_assert_null(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 23}, (cw_span){count, 8}));
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 23}, (cw_span){count, 7}),
                     "a value that is not a count (8 bytes)");
    cr_assert_str_eq(rs_check_record(STORE_RULE_PAIR, (cw_span){k, 24}, (cw_span){count, 8}),
                     "a key that is not a pool's indexed count");
}

/* ---- payout_toward_designated: the least that counts (framing with dust) ---- */

/* Three payouts, each paid 0.1 BTC on days 1, 31, 61 by its own employer;
 * on day 62 each pays a merchant (M1 0.05 BTC, M2 0.0005 BTC, M3 0.05 BTC),
 * and on day 63 each merchant pays the designated address: M1 20,000 sat
 * of the payout's coin (dust: below the default 0.0025 BTC), M2 1 BTC from
 * its own 50 BTC and the payout's 0.0005 BTC coin (1 BTC reaches it, but
 * only 0.0005 of it can be the payout's), M3 0.003 BTC of the payout's
 * coin (above the minimum: the only payout_toward_designated). */
static void framing_scenario(scen *s, wallet w[3], const char *hit[3], cw_addr *desig)
{
    static wallet e[3], m[3];
    wallet *funders[6];
    for (int i = 0; i < 3; i++) {
        e[i] = wallet_make(30 + (uint32_t)i), m[i] = wallet_make(130 + (uint32_t)i), w[i] = wallet_make(230 + (uint32_t)i);
        funders[i] = &e[i], funders[3 + i] = &m[i];
    }
    *desig = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 801);
    scen_start(s, funders, 6);
    int days[] = {1, 31, 61};
    for (int d = 0; d < 3; d++) {
        scen_day(s, days[d]);
        for (int i = 0; i < 3; i++)
            pay(s, &e[i], &w[i], NULL, SALARY);
        scen_mine(s);
    }
    scen_day(s, 62);
    /* the merchants' own coins first: M2 then spends both */
    m[0].n = 0, m[2].n = 0;
    pay(s, &w[0], &m[0], NULL, BTC / 20);
    pay(s, &w[1], &m[1], NULL, BTC / 2000);
    pay(s, &w[2], &m[2], NULL, BTC / 20);
    scen_mine(s);
    scen_day(s, 63);
    hit[0] = pay(s, &m[0], NULL, desig, 20000);
    hit[1] = pay(s, &m[1], NULL, desig, BTC);
    hit[2] = pay(s, &m[2], NULL, desig, 300000);
    scen_mine(s);
}

Test(rules, dust_reaching_a_designated_address_is_no_payout_hit, .timeout = 90)
{
    scen s;
    wallet w[3];
    const char *hit[3];
    cw_addr d;
    framing_scenario(&s, w, hit, &d);
    int rc;
    json_t *recs = replay_rules(&s, text(&d), NULL, NULL, &rc, NULL);
    cr_assert_eq(rc, 0);
    /* every payment into the designated address is its record, dust or not */
    cr_assert_eq(designated_records, 3, "three designated_address records");
    cr_assert_eq(json_array_size(recs), 1, "only M3's hit counts: %s", json_dumps(recs, 0));
    json_t *r = json_array_get(recs, 0);
    cr_assert_str_eq(str(r, "rule"), "payout_toward_designated");
    cr_assert_str_eq(str(r, "address"), text(&w[2].a));
    cr_assert_str_eq(str(r, "txid"), hit[2]);
    cr_assert_eq(num(json_object_get(r, "evidence"), "hops"), 2);
    json_decref(recs);
    /* the minimum is an option: at 0.0002 BTC M1's 20,000 sat count, and
     * M2's 1 BTC (0.0005 of it the payout's); at 0.0006 M2's does not:
     * what counts is the payout's part, not what the tx sends */
    char *lower[] = {"--rules-min-hit-btc", "0.0002", NULL};
    recs = replay_rules(&s, text(&d), NULL, lower, &rc, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(json_array_size(recs), 3, "%s", json_dumps(recs, 0));
    cr_assert_not_null(find_rec(recs, "payout_toward_designated", text(&w[0].a)));
    cr_assert_not_null(find_rec(recs, "payout_toward_designated", text(&w[1].a)));
    json_decref(recs);
    char *part[] = {"--rules-min-hit-btc", "0.0006", NULL};
    recs = replay_rules(&s, text(&d), NULL, part, &rc, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(json_array_size(recs), 1, "%s", json_dumps(recs, 0));
    cr_assert_not_null(find_rec(recs, "payout_toward_designated", text(&w[2].a)));
    json_decref(recs);
    /* with a price, the USD minimum applies (USD 100 at USD 40,000 a
     * bitcoin: 0.0025 BTC, as without one) and --rules-min-hit-usd moves it */
    char *root = temp_dir(), prices[4200];
    snprintf(prices, sizeof prices, "%s/prices.csv", root);
    write_text(prices, "date,asset,usd\n2023-01-01,BTC,40000\n");
    char *usd[] = {"--prices", prices, NULL};
    recs = replay_rules(&s, text(&d), NULL, usd, &rc, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(json_array_size(recs), 1, "%s", json_dumps(recs, 0));
    cr_assert_not_null(find_rec(recs, "payout_toward_designated", text(&w[2].a)));
    json_decref(recs);
    char *usd8[] = {"--prices", prices, "--rules-min-hit-usd", "8", NULL}; /* 20,000 sat = USD 8 */
    recs = replay_rules(&s, text(&d), NULL, usd8, &rc, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_not_null(find_rec(recs, "payout_toward_designated", text(&w[0].a)), "%s", json_dumps(recs, 0));
    json_decref(recs);
    test_remove_dir(root);
    cb_chain_free(&s.c);
}

/* ---- options ---- */

Test(rules, options_refused_with_a_message, .timeout = 60)
{
    scen s;
    wallet w;
    const char *txid;
    test_scenario(&s, 10, &txid, &w);
    static const struct {
        const char *a, *b, *msg;
    } bad[] = {
        {"--salary-min-usd", "9000", "rules: the salary band's low end is above its high end"},
        {"--recurring-payments", "1", "--recurring-payments: '1' is out of range"},
        {"--severity-consolidator", "extreme", "--severity-consolidator"},
        {"--rules-hops", "9", "--rules-hops: '9' is out of range (1 to 8)"},
        {"--cadence-min-gap", "200d", "rules: the cadence's shortest gap is above its longest"},
        {"--prices", "/nonexistent/p.csv", "cannot read /nonexistent/p.csv"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *extra[5] = {(char *)bad[i].a, (char *)bad[i].b, NULL};
        if (strcmp(bad[i].a, "--salary-min-usd") == 0)
            extra[2] = "--salary-max-usd", extra[3] = "100", extra[4] = NULL;
        int rc;
        char *err;
        json_t *recs = replay_rules(&s, NULL, NULL, extra, &rc, &err);
        cr_assert_neq(rc, 0, "case %zu", i);
        cr_assert(rc == 2 || strcmp(bad[i].a, "--prices") == 0, "case %zu: usage errors exit 2 (%d)", i, rc);
        cr_assert(strstr(err, bad[i].msg), "case %zu: %s", i, err);
        cr_assert_eq(json_array_size(recs), 0);
        json_decref(recs);
        free(err);
    }
    /* the account chains run the rules too (test_rules_account.c): their
     * options are checked alike, before any node is asked (none listens
     * here) */
    char *eth[] = {CW_BIN, "replay", "--chain", "ethereum", "--rpc", "http://127.0.0.1:9", "--from", "0",
                   "--salary-min-eth", "0.5x", NULL};
    char *eout, *eerr;
    cr_assert_eq(run_cmd(eth, NULL, 0, &eout, &eerr), 2, "%s", eerr);
    cr_assert(strstr(eerr, "--salary-min-eth: '0.5x' is not an amount in ETH (digits, at most 18 after the point)"),
              "%s", eerr);
    free(eout), free(eerr);
    char *ethw[] = {CW_BIN, "watch", "--chain", "ethereum", "--rpc", "http://127.0.0.1:9", "--datadir", "/nonexistent",
                    "--tiny-max-eth", "0.8", NULL};
    cr_assert_eq(run_cmd(ethw, NULL, 0, &eout, &eerr), 2, "%s", eerr);
    cr_assert(strstr(eerr, "rules: an asset's tiny band must end below its salary band"), "%s", eerr);
    free(eout), free(eerr);
    char *tronw[] = {CW_BIN, "watch", "--chain", "tron", "--zmqpubtron", "tcp://127.0.0.1:9", "--tron-http",
                     "http://127.0.0.1:9", "--datadir", "/nonexistent", "--salary-min-trx", "1.0000001", NULL};
    cr_assert_eq(run_cmd(tronw, NULL, 0, &eout, &eerr), 2, "%s", eerr);
    cr_assert(strstr(eerr, "--salary-min-trx: '1.0000001' is not an amount in TRX (digits, at most 6 after the point)"),
              "%s", eerr);
    free(eout), free(eerr);
    /* a bad prices file is refused naming its line */
    char *root = temp_dir(), pf[4200];
    snprintf(pf, sizeof pf, "%s/p.csv", root);
    write_text(pf, "date,asset,usd\n2024-01-01,BTC,abc\n");
    char *extra[] = {"--prices", pf, NULL};
    int rc;
    char *err;
    json_t *recs = replay_rules(&s, NULL, NULL, extra, &rc, &err);
    cr_assert_eq(rc, 2);
    cr_assert(strstr(err, "p.csv line 2: the usd price"), "%s", err);
    json_decref(recs);
    free(err);
    /* chainwatch.conf: [rules] keys are the flags' names, checked alike */
    char conf[4200], dd[4096];
    datadir_make(root, dd, NULL);
    snprintf(conf, sizeof conf, "%s/chainwatch.conf", dd);
    write_text(conf, "[rules]\nrecurring-payments = 1\n");
    char *watch[] = {CW_BIN, "watch", "--datadir", dd, "--zmqpubrawblock", "tcp://127.0.0.1:1", "--network", "regtest", NULL};
    char *out;
    cr_assert_eq(run_cmd(watch, NULL, 0, &out, &err), 2);
    cr_assert(strstr(err, "recurring-payments") && strstr(err, "line 2"), "%s", err);
    free(out), free(err);
    test_remove_dir(root);
    cb_chain_free(&s.c);
}

/* ---------- in process: reorg and live ---------- */

static bool sink_collect(void *ctx, const char *line, size_t len)
{
    cw_buf_append(ctx, line, len, NULL);
    cw_buf_append(ctx, "\n", 1, NULL);
    return true;
}

/* The rules' tables, key and value, in key order. */
static void dump_rules(cw_store *s, cw_buf *out)
{
    static const store_db dbs[] = {STORE_RULE_ADDR, STORE_RULE_TRACE, STORE_RULE_ORIGIN, STORE_RULE_PAIR};
    test_dump_tables(s, dbs, sizeof dbs / sizeof *dbs, out);
}

typedef struct {
    cw_store *s;
    pipeline *p;
    uint8_t sk[64];
    char *dir;
    cw_buf records;
    flows_config fc;
    rules_config rc;
} live;

/* The live pipeline over a new store; datadir: in a datadir `chainwatch
 * init` made, so the CLI and serve can screen against it (rules_fault.h:
 * the test's own open store of it). */
static void live_open_in(live *l, bool datadir)
{
    memset(l, 0, sizeof *l);
    l->dir = temp_dir();
    if (datadir) {
        char *out, *err;
        char *init[] = {CW_BIN, "init", "--datadir", l->dir, NULL};
        cr_assert_eq(run_cmd(init, NULL, 0, &out, &err), 0, "%s", err);
        free(out), free(err);
        test_import_bystander(l->dir);
    }
    cr_assert_eq(store_open(l->dir, 0, false, &l->s, NULL), CW_OK);
    char pub[65];
    bool created;
    cr_assert_eq(keys_create(l->dir, pub, &created, NULL), CW_OK);
    cr_assert_eq(keys_load_secret(l->dir, l->sk, NULL), CW_OK);
    flows_config_default(&l->fc);
    rules_config_default(&l->rc);
    l->rc.payer_cluster = true;
    pipeline_config pc = {.store = l->s, .net = CW_NET_REGTEST, .sk = l->sk, .sink = sink_collect,
                          .sink_ctx = &l->records, .start_height = -1, .flows = &l->fc, .rules = &l->rc};
    cw_err err = {0};
    cr_assert_eq(pipeline_open(&pc, &l->p, &err), CW_OK, "%s", err.msg);
}

static void live_open(live *l) { live_open_in(l, false); }

static void live_close(live *l)
{
    pipeline_close(l->p);
    store_close(l->s);
    cw_buf_free(&l->records);
    test_remove_dir(l->dir);
}

/* A 'D' for the tip: without REST the pipeline disconnects it. */
static void disconnect_tip(live *l, const cb_block *b)
{
    uint8_t body[33];
    for (int i = 0; i < 32; i++)
        body[i] = b->hash[31 - i];
    body[32] = 'D';
    cw_err err = {0};
    cr_assert_eq(pipeline_sequence(l->p, body, sizeof body, &err), CW_OK, "%s", err.msg);
}

Test(rules, reorg_undoes_the_stats_exactly, .timeout = 60)
{
    scen s;
    wallet w;
    const char *txid = NULL;
    shared_scenario(&s, false, &txid, &w);
    live l;
    live_open(&l);
    cw_err err = {0};
    /* up to day 60: two recurring payments of A, two of B so far */
    size_t cut = 0;
    while (cut < s.c.n && s.c.blocks[cut].height <= 60)
        cut++;
    for (size_t i = 0; i < cut; i++)
        cr_assert_eq(pipeline_block(l.p, s.c.blocks[i].raw.p, s.c.blocks[i].raw.n, &err), CW_OK, "%s", err.msg);
    cw_buf before = CW_BUF_INIT, after = CW_BUF_INIT, again = CW_BUF_INIT;
    dump_rules(l.s, &before);
    cr_assert_gt(before.n, 0);
    /* the rest: A's third payment makes it recurring, B's fires shared_payout */
    for (size_t i = cut; i < s.c.n; i++)
        cr_assert_eq(pipeline_block(l.p, s.c.blocks[i].raw.p, s.c.blocks[i].raw.n, &err), CW_OK, "%s", err.msg);
    cw_buf_append(&l.records, "", 1, NULL);
    cr_assert(strstr((char *)l.records.p, "\"rule\":\"shared_payout\""), "%s", (char *)l.records.p);
    dump_rules(l.s, &after);
    cr_assert(after.n != before.n || memcmp(after.p, before.p, after.n) != 0, "the blocks changed the stats");
    for (size_t i = s.c.n; i-- > cut;)
        disconnect_tip(&l, &s.c.blocks[i]);
    dump_rules(l.s, &again);
    cr_assert_eq(again.n, before.n, "sizes %zu vs %zu", again.n, before.n);
    cr_assert_eq(memcmp(again.p, before.p, before.n), 0, "the stats after connect+disconnect differ from before");
    l.records.n = 0;
    /* and connecting them again gives the same stats and the same record */
    for (size_t i = cut; i < s.c.n; i++)
        cr_assert_eq(pipeline_block(l.p, s.c.blocks[i].raw.p, s.c.blocks[i].raw.n, &err), CW_OK, "%s", err.msg);
    cw_buf third = CW_BUF_INIT;
    dump_rules(l.s, &third);
    cr_assert_eq(third.n, after.n);
    cr_assert_eq(memcmp(third.p, after.p, after.n), 0);
    cw_buf_append(&l.records, "", 1, NULL);
    cr_assert(strstr((char *)l.records.p, "\"rule\":\"shared_payout\"") && strstr((char *)l.records.p, txid),
              "%s", (char *)l.records.p);
    cw_buf_free(&before), cw_buf_free(&after), cw_buf_free(&again), cw_buf_free(&third);
    live_close(&l);
    cb_chain_free(&s.c);
}

/* The sources past a pool's list live in rule_pair, journaled like every
 * rule table: disconnecting the blocks that put them there (and the hit
 * that walked them) gives the tables back byte for byte. In process, in a
 * datadir where the pool's target is designated. */
Test(rules, reorg_undoes_a_pools_sources_past_its_list_exactly, .timeout = 120)
{
    scen s;
    static wallet payouts[POOL_N];
    static char sweeps[POOL_N][65];
    char hit[65];
    cw_addr pool, d = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 810);
    big_pool_scenario(&s, payouts, sweeps, &pool, &d, hit);
    live l;
    memset(&l, 0, sizeof l);
    l.dir = temp_dir();
    char dd[4096];
    datadir_make(l.dir, dd, text(&d));
    cr_assert_eq(store_open(dd, 0, false, &l.s, NULL), CW_OK);
    char pub[65];
    bool created;
    cr_assert_eq(keys_create(dd, pub, &created, NULL), CW_OK);
    cr_assert_eq(keys_load_secret(dd, l.sk, NULL), CW_OK);
    flows_config_default(&l.fc);
    rules_config_default(&l.rc);
    l.rc.payer_cluster = true;
    pipeline_config pc = {.store = l.s, .net = CW_NET_REGTEST, .sk = l.sk, .sink = sink_collect,
                          .sink_ctx = &l.records, .start_height = -1, .flows = &l.fc, .rules = &l.rc};
    cw_err err = {0};
    cr_assert_eq(pipeline_open(&pc, &l.p, &err), CW_OK, "%s", err.msg);
    /* up to day 71: 60 sources, all in the list */
    size_t cut = 0;
    while (cut < s.c.n && s.c.blocks[cut].height < 72)
        cut++;
    for (size_t i = 0; i < cut; i++)
        cr_assert_eq(pipeline_block(l.p, s.c.blocks[i].raw.p, s.c.blocks[i].raw.n, &err), CW_OK, "%s", err.msg);
    cw_buf before = CW_BUF_INIT, after = CW_BUF_INIT, again = CW_BUF_INIT, third = CW_BUF_INIT;
    dump_rules(l.s, &before);
    /* day 72: six sources past the list; day 80: the hit walks them */
    for (size_t i = cut; i < s.c.n; i++)
        cr_assert_eq(pipeline_block(l.p, s.c.blocks[i].raw.p, s.c.blocks[i].raw.n, &err), CW_OK, "%s", err.msg);
    cw_buf_append(&l.records, "", 1, NULL);
    size_t n_hit = 0;
    for (const char *p = (char *)l.records.p; (p = strstr(p, "\"target_kind\":\"designated\"")) != NULL; p++)
        n_hit++;
    cr_assert_eq(n_hit, POOL_N, "%s", (char *)l.records.p);
    /* the six, read back through the walk's own API */
    store_txn *t;
    cr_assert_eq(store_begin(l.s, false, &t, &err), CW_OK);
    uint8_t pk[WL_KEY_MAX];
    size_t pl = wl_key_from_addr(&pool, pk);
    rs_source_walk w;
    cr_assert_eq(rs_source_walk_open(t, pk, pl, &w, &err), CW_OK);
    uint8_t k[WL_KEY_MAX];
    size_t kl, n_past = 0;
    rs_pair pr;
    cw_code rc;
    while ((rc = rs_source_walk_next(&w, k, &kl, &pr, &err)) == CW_OK) {
        n_past++;
        cr_assert_eq(pr.count, 1);
    }
    cr_assert_eq(rc, CW_ENOTFOUND, "%s", err.msg);
    rs_source_walk_close(&w);
    store_abort(t);
    cr_assert_eq(n_past, POOL_N - 64);
    dump_rules(l.s, &after);
    cr_assert(after.n != before.n || memcmp(after.p, before.p, after.n) != 0);
    for (size_t i = s.c.n; i-- > cut;)
        disconnect_tip(&l, &s.c.blocks[i]);
    dump_rules(l.s, &again);
    cr_assert_eq(again.n, before.n, "sizes %zu vs %zu", again.n, before.n);
    cr_assert_eq(memcmp(again.p, before.p, before.n), 0, "the stats after connect+disconnect differ from before");
    for (size_t i = cut; i < s.c.n; i++)
        cr_assert_eq(pipeline_block(l.p, s.c.blocks[i].raw.p, s.c.blocks[i].raw.n, &err), CW_OK, "%s", err.msg);
    dump_rules(l.s, &third);
    cr_assert_eq(third.n, after.n);
    cr_assert_eq(memcmp(third.p, after.p, after.n), 0);
    cw_buf_free(&before), cw_buf_free(&after), cw_buf_free(&again), cw_buf_free(&third);
    live_close(&l);
    cb_chain_free(&s.c);
}

/* The window index (rule_pair's 0xF0 window, 0xF1 waiting and 0xF2 count
 * entries) is journaled like every rule table: disconnecting the blocks of
 * late_pool_scenario from day 66 on (X and Y going past the list, X
 * moving from waiting to the window on day 70, the N's sweeps, the flag)
 * gives the tables back byte for byte, and connecting them again the same
 * bytes. What the index holds after day 75, read through its own API: the
 * window, newest first, N0 (75: its entry of day 71 is gone), N2 (73), N1
 * (72), X (66); Y waits; 5 indexed. */
Test(rules, reorg_undoes_a_pools_window_index_exactly, .timeout = 120)
{
    scen s;
    static wallet o[OLD_N];
    wallet n[3], x, y;
    cw_addr pool;
    char ids[7][65];
    late_pool_scenario(&s, false, o, n, &x, &y, &pool, ids, LATE_ALL);
    live l;
    live_open(&l);
    cw_err err = {0};
    size_t cut = 0;
    while (cut < s.c.n && s.c.blocks[cut].height < 66)
        cut++;
    for (size_t i = 0; i < cut; i++)
        cr_assert_eq(pipeline_block(l.p, s.c.blocks[i].raw.p, s.c.blocks[i].raw.n, &err), CW_OK, "%s", err.msg);
    cw_buf before = CW_BUF_INIT, after = CW_BUF_INIT, again = CW_BUF_INIT, third = CW_BUF_INIT;
    dump_rules(l.s, &before);
    for (size_t i = cut; i < s.c.n; i++)
        cr_assert_eq(pipeline_block(l.p, s.c.blocks[i].raw.p, s.c.blocks[i].raw.n, &err), CW_OK, "%s", err.msg);
    cw_buf_append(&l.records, "", 1, NULL);
    cr_assert(strstr((char *)l.records.p, "\"rule\":\"consolidator\"") && strstr((char *)l.records.p, ids[1]), "%s",
              (char *)l.records.p);
    store_txn *t;
    cr_assert_eq(store_begin(l.s, false, &t, &err), CW_OK);
    uint8_t pk[WL_KEY_MAX], k[WL_KEY_MAX], ok_[WL_KEY_MAX];
    size_t pl = wl_key_from_addr(&pool, pk), kl;
    rs_window_walk w;
    cr_assert_eq(rs_window_walk_open(t, pk, pl, &w, &err), CW_OK);
    const wallet *want[4] = {&n[0], &n[2], &n[1], &x};
    const uint64_t day[4] = {75, 73, 72, 66};
    uint64_t last;
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(rs_window_walk_next(&w, k, &kl, &last, &err), CW_OK, "%s", err.msg);
        cr_assert_eq(kl, wl_key_from_addr(&want[i]->a, ok_));
        cr_assert_eq(memcmp(k, ok_, kl), 0, "window entry %d", i);
        cr_assert_eq(last, s.c.time0 + day[i] * 86400, "window entry %d", i);
    }
    cr_assert_eq(rs_window_walk_next(&w, k, &kl, &last, &err), CW_ENOTFOUND);
    rs_window_walk_close(&w);
    size_t yl = wl_key_from_addr(&y.a, ok_);
    cr_assert_eq(rs_waiting_first(t, ok_, yl, k, &kl, &err), CW_OK);
    cr_assert(kl == pl && memcmp(k, pk, pl) == 0);
    size_t xl = wl_key_from_addr(&x.a, ok_);
    cr_assert_eq(rs_waiting_first(t, ok_, xl, k, &kl, &err), CW_ENOTFOUND);
    uint64_t ix;
    cr_assert_eq(rs_indexed_get(t, pk, pl, &ix, &err), CW_OK);
    cr_assert_eq(ix, 5);
    store_abort(t);
    dump_rules(l.s, &after);
    for (size_t i = s.c.n; i-- > cut;)
        disconnect_tip(&l, &s.c.blocks[i]);
    dump_rules(l.s, &again);
    cr_assert_eq(again.n, before.n, "sizes %zu vs %zu", again.n, before.n);
    cr_assert_eq(memcmp(again.p, before.p, before.n), 0, "the stats after connect+disconnect differ from before");
    for (size_t i = cut; i < s.c.n; i++)
        cr_assert_eq(pipeline_block(l.p, s.c.blocks[i].raw.p, s.c.blocks[i].raw.n, &err), CW_OK, "%s", err.msg);
    dump_rules(l.s, &third);
    cr_assert_eq(third.n, after.n);
    cr_assert_eq(memcmp(third.p, after.p, after.n), 0);
    cw_buf_free(&before), cw_buf_free(&after), cw_buf_free(&again), cw_buf_free(&third);
    live_close(&l);
    cb_chain_free(&s.c);
}

/* The record of the live pipeline's `rule` about addr, parsed (NULL when none). */
static json_t *live_find(live *l, const char *rule, const char *addr)
{
    json_t *found = NULL;
    for (const char *p = (const char *)l->records.p, *end = p + l->records.n; p < end && !found;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        json_t *r = json_loadb(p, len, 0, NULL);
        if (r && str(r, "rule") && strcmp(str(r, "rule"), rule) == 0 && strcmp(str(r, "address"), addr) == 0)
            found = r;
        else
            json_decref(r);
        p += len + 1;
    }
    return found;
}

/* test_forget_window_index of late_pool_scenario's pool after day 67: X
 * and Y past its list, waiting; 2 indexed. */
static void forget_window_index(live *l, const cw_addr *pool, const wallet *x, const wallet *y)
{
    const cw_addr *waiting[2] = {&x->a, &y->a};
    test_forget_window_index(l->s, pool, waiting, 2);
}

/* screen's patterns of the address pool in l's store (rules_address_json):
 * its sources_not_examined_by_window. */
static json_int_t pool_not_examined(live *l, const cw_addr *pool)
{
    cw_err err = {0};
    uint8_t pk[WL_KEY_MAX];
    size_t pl = wl_key_from_addr(pool, pk);
    store_txn *t;
    cr_assert_eq(store_begin(l->s, false, &t, &err), CW_OK);
    cw_code rc;
    json_t *pat = rules_address_json(&l->rc, t, pk, pl, &rc, &err);
    store_abort(t);
    cr_assert_not_null(pat, "%s", err.msg);
    json_int_t n = num(pat, "sources_not_examined_by_window");
    json_decref(pat);
    return n;
}

/* Sources a chainwatch before the window index kept past a pool's list
 * have no index entry: the window cannot see them, and the record says how
 * many. Simulated: after day 67 (X and Y past the list, waiting; 2
 * indexed) their waiting entries and the count are deleted, as an earlier
 * chainwatch would have left them. X becomes a payout on day 70 unseen, so
 * the window counts O0, O1 and the N's only (by hand): 3 at N0's sweep, 4
 * at N1's, 5 at N2's (day 73), where it fires; of the 5 sources past the
 * list (X, Y, N0..N2) 3 are indexed: sources_not_examined_by_window 2.
 * screen says the same. */
Test(rules, sources_past_a_list_from_before_the_window_index_are_counted_as_not_examined, .timeout = 120)
{
    scen s;
    static wallet o[OLD_N];
    wallet n[3], x, y;
    cw_addr pool;
    char ids[7][65];
    late_pool_scenario(&s, false, o, n, &x, &y, &pool, ids, LATE_ALL);
    live l;
    live_open(&l);
    cw_err err = {0};
    size_t i = 0;
    for (; i < s.c.n && s.c.blocks[i].height <= 67; i++)
        cr_assert_eq(pipeline_block(l.p, s.c.blocks[i].raw.p, s.c.blocks[i].raw.n, &err), CW_OK, "%s", err.msg);
    forget_window_index(&l, &pool, &x, &y);
    for (; i < s.c.n; i++)
        cr_assert_eq(pipeline_block(l.p, s.c.blocks[i].raw.p, s.c.blocks[i].raw.n, &err), CW_OK, "%s", err.msg);
    json_t *c = live_find(&l, "consolidator", text(&pool));
    cr_assert_not_null(c);
    cr_assert_str_eq(str(c, "txid"), ids[2], "fires on N2's sweep: X's is not seen");
    json_t *ev = json_object_get(c, "evidence");
    cr_assert_eq(num(ev, "sources_in_window"), 5);
    cr_assert_eq(num(ev, "sources_in_window_not_listed"), 3);
    cr_assert_eq(num(ev, "sources_total"), 69);
    cr_assert_eq(num(ev, "sources_not_listed"), 5);
    cr_assert_eq(num(ev, "sources_not_examined_by_window"), 2);
    json_decref(c);
    cr_assert_eq(pool_not_examined(&l, &pool), 2);
    live_close(&l);
    cb_chain_free(&s.c);
}

/* A window entry that does not decode is damage the run stops on
 * (CW_EDAMAGED, naming it), never a source not counted: X's entry (day 66)
 * in P's window is bent after day 70, and N0's sweep (day 71) reads it. */
Test(rules, a_damaged_window_entry_stops_the_run, .timeout = 120)
{
    scen s;
    static wallet o[OLD_N];
    wallet n[3], x, y;
    cw_addr pool;
    char ids[7][65];
    late_pool_scenario(&s, false, o, n, &x, &y, &pool, ids, LATE_ALL);
    live l;
    live_open(&l);
    cw_err err = {0};
    size_t i = 0;
    for (; i < s.c.n && s.c.blocks[i].height <= 70; i++)
        cr_assert_eq(pipeline_block(l.p, s.c.blocks[i].raw.p, s.c.blocks[i].raw.n, &err), CW_OK, "%s", err.msg);
    uint8_t k[2 + 8 + 2 * WL_KEY_MAX];
    size_t pl = wl_key_from_addr(&pool, k + 2);
    k[0] = 0xF0, k[1] = (uint8_t)pl;
    uint64_t inv = ~(uint64_t)(s.c.time0 + 66 * 86400ull); /* newest first: the time inverted, big-endian */
    for (int b = 0; b < 8; b++)
        k[2 + pl + b] = (uint8_t)(inv >> (56 - 8 * b));
    size_t kn = 2 + pl + 8 + wl_key_from_addr(&x.a, k + 2 + pl + 8);
    store_txn *t;
    cr_assert_eq(store_begin(l.s, true, &t, &err), CW_OK);
    cw_span v;
    cr_assert_eq(store_get(t, STORE_RULE_PAIR, k, kn, &v, &err), CW_OK, "X is in P's window: %s", err.msg);
    cr_assert_eq(store_put(t, STORE_RULE_PAIR, k, kn, "\x01\x01", 2, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(store_commit(t, &err), CW_OK, "%s", err.msg);
    cw_code rc = pipeline_block(l.p, s.c.blocks[i].raw.p, s.c.blocks[i].raw.n, &err);
    cr_assert_eq(rc, CW_EDAMAGED, "%d %s", rc, err.msg);
    cr_assert(strstr(err.msg, "window entry") && strstr(err.msg, "rule_pair"), "%s", err.msg);
    live_close(&l);
    cb_chain_free(&s.c);
}

/* A rule_pair key that is a walk's prefix alone (0x00 or 0xF0 and a
 * pool's key, 0xF1 and a source's key: nothing after it) is damage, never
 * the walk's end. It sorts before every entry of its prefix, so read as
 * the end it hid them all: the pool's sources from the trace, its whole
 * window from the consolidator's count (a pool paid by payouts past its
 * list never flagged), and the pools a source waits in from its promotion.
 * Before: each walk answered CW_ENOTFOUND at once. */
Test(rules, a_bare_prefix_key_in_rule_pair_is_damage_not_the_end)
{
    char *dir = temp_dir();
    cw_store *st;
    cw_err err = {0};
    cr_assert_eq(store_open(dir, 0, false, &st, &err), CW_OK, "%s", err.msg);
    uint8_t pool[20], src[20];
    memset(pool, 0x51, sizeof pool);
    memset(src, 0x52, sizeof src);
    const uint8_t tags[3] = {0x00, 0xF0, 0xF1};
    store_txn *t;
    cr_assert_eq(store_begin(st, true, &t, &err), CW_OK, "%s", err.msg);
    for (int i = 0; i < 3; i++) {
        uint8_t k[2 + 20];
        k[0] = tags[i], k[1] = 20;
        memcpy(k + 2, tags[i] == 0xF1 ? src : pool, 20);
        cr_assert_eq(store_put(t, STORE_RULE_PAIR, k, sizeof k, "\x01", 1, &err), CW_OK, "%s", err.msg);
    }
    cr_assert_eq(store_commit(t, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(store_begin(st, false, &t, &err), CW_OK, "%s", err.msg);
    uint8_t k[WL_KEY_MAX];
    size_t kl;
    rs_source_walk sw;
    rs_pair p;
    cr_assert_eq(rs_source_walk_open(t, pool, 20, &sw, &err), CW_OK, "%s", err.msg);
    cw_code rc = rs_source_walk_next(&sw, k, &kl, &p, &err);
    cr_assert_eq(rc, CW_EDAMAGED, "the sources' walk: %d %s", rc, err.msg);
    rs_source_walk_close(&sw);
    rs_window_walk ww;
    uint64_t last;
    cr_assert_eq(rs_window_walk_open(t, pool, 20, &ww, &err), CW_OK, "%s", err.msg);
    rc = rs_window_walk_next(&ww, k, &kl, &last, &err);
    cr_assert_eq(rc, CW_EDAMAGED, "the window's walk: %d %s", rc, err.msg);
    cr_assert(strstr(err.msg, "window entry"), "%s", err.msg);
    rs_window_walk_close(&ww);
    rc = rs_waiting_first(t, src, 20, k, &kl, &err);
    cr_assert_eq(rc, CW_EDAMAGED, "the waiting entries: %d %s", rc, err.msg);
    cr_assert(strstr(err.msg, "waiting entry"), "%s", err.msg);
    /* another pool and source: nothing, as before */
    pool[0] = src[0] = 0x50;
    cr_assert_eq(rs_window_walk_open(t, pool, 20, &ww, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(rs_window_walk_next(&ww, k, &kl, &last, &err), CW_ENOTFOUND);
    rs_window_walk_close(&ww);
    cr_assert_eq(rs_waiting_first(t, src, 20, k, &kl, &err), CW_ENOTFOUND);
    store_abort(t);
    store_close(st);
    test_remove_dir(dir);
}

/* The fields that may differ between two runs: when it was seen, the
 * signature and the trail link (its hash covers seen_at). */
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

Test(rules, live_and_replay_give_the_same_records, .timeout = 90)
{
    scen s;
    wallet pool, payouts[5];
    const char *sweeps[5], *pieces[3];
    pool_scenario(&s, false, sweeps, pieces, &pool, payouts);
    /* replay, the CLI */
    int rc;
    json_t *replayed = replay_rules(&s, NULL, labels_text(), NULL, &rc, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(json_array_size(replayed), 7);
    /* live: block by block as the rawblock feed gives them */
    live l;
    live_open(&l);
    char *root = temp_dir(), lab[4200];
    snprintf(lab, sizeof lab, "%s/labels.csv", root);
    write_text(lab, labels_text());
    labels *lb;
    cw_err err = {0};
    cr_assert_eq(labels_load(lab, CW_NET_REGTEST, &lb, NULL, &err), CW_OK, "%s", err.msg);
    pipeline_close(l.p);
    l.fc.labels = lb;
    l.rc.labels = lb;
    pipeline_config pc = {.store = l.s, .net = CW_NET_REGTEST, .sk = l.sk, .sink = sink_collect,
                          .sink_ctx = &l.records, .start_height = -1, .flows = &l.fc, .rules = &l.rc};
    cr_assert_eq(pipeline_open(&pc, &l.p, &err), CW_OK, "%s", err.msg);
    for (size_t i = 0; i < s.c.n; i++)
        cr_assert_eq(pipeline_block(l.p, s.c.blocks[i].raw.p, s.c.blocks[i].raw.n, &err), CW_OK, "%s", err.msg);
    cw_buf_append(&l.records, "", 1, NULL);
    json_t *lived = json_array();
    for (char *line = (char *)l.records.p, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        json_t *r = json_loadb(line, (size_t)(nl - line), 0, NULL);
        cr_assert_not_null(r);
        const char *rule = str(r, "rule");
        if (strcmp(rule, "designated_address") && strcmp(rule, "cluster_hit") && strcmp(rule, "indirect_exposure"))
            json_array_append(lived, r);
        json_decref(r);
    }
    cr_assert_eq(json_array_size(lived), json_array_size(replayed));
    for (size_t i = 0; i < json_array_size(lived); i++) {
        char *a = stable(json_array_get(lived, i)), *b = stable(json_array_get(replayed, i));
        cr_assert_str_eq(a, b, "record %zu differs", i);
        free(a), free(b);
    }
    json_decref(lived);
    json_decref(replayed);
    live_close(&l);
    labels_free(lb);
    test_remove_dir(root);
    cb_chain_free(&s.c);
}

/* ---------- fail closed ---------- */

Test(rules, a_store_error_reading_rule_stats_stops_the_run, .timeout = 60)
{
    scen s;
    wallet w;
    const char *txid = NULL;
    shared_scenario(&s, false, &txid, &w);
    /* every LMDB read of the payout's key fails; its record is read from
     * LMDB from the second block on (one commit per block) */
    uint8_t key[WL_KEY_MAX];
    size_t kn = wl_key_from_addr(&w.a, key);
    char hex[2 * WL_KEY_MAX + 1], spec[400];
    cw_hex_encode(key, kn, hex);
    snprintf(spec, sizeof spec, "mdb_get:1+:EIO@%s", hex);
    setenv("LD_PRELOAD", CW_FAULT_PRELOAD, 1);
    setenv("CW_FAIL_MDB", spec, 1);
    int rc;
    char *err;
    char *extra[] = {"--batch-txs", "1", NULL};
    json_t *recs = replay_rules(&s, NULL, NULL, extra, &rc, &err);
    unsetenv("LD_PRELOAD");
    unsetenv("CW_FAIL_MDB");
    cr_assert_eq(rc, 3, "a store error stops replay with exit 3: exit %d, %s", rc, err);
    cr_assert(strstr(err, "nothing from height"), "%s", err);
    cr_assert_eq(json_array_size(recs), 0, "no rule record past the error: %s", json_dumps(recs, 0));
    json_decref(recs);
    free(err);
    cb_chain_free(&s.c);
}

/* ---------- a store error while the rules read a raw tx's tables: fail closed ---------- */


static char *hex_of(const uint8_t *p, size_t n)
{
    char *h = malloc(2 * n + 1);
    cr_assert_not_null(h);
    cw_hex_encode(p, n, h);
    return h;
}

static void compact_size(cw_buf *b, size_t n)
{
    uint8_t c[3] = {0xfd, (uint8_t)n, (uint8_t)(n >> 8)};
    cr_assert_lt(n, 0x10000);
    cw_buf_append(b, n < 0xfd ? c + 1 : c, n < 0xfd ? 1 : 3, NULL);
}

/* A PSBT (BIP-174 version 0) of t, which spends the P2WPKH coin `in` and
 * has n_out outputs, as hex: the unsigned tx (t's bytes without witness: a
 * P2WPKH spend's scriptSig is empty), the coin as the input's witness UTXO,
 * no output fields. */
static char *psbt_hex(const cb_tx *t, const cb_coin *in, size_t n_out)
{
    cr_assert_eq(in->addr.kind, CW_ADDR_P2WPKH);
    cw_buf b = CW_BUF_INIT;
    cw_buf_append(&b, "psbt\xff\x01\x00", 7, NULL); /* magic; key: PSBT_GLOBAL_UNSIGNED_TX */
    compact_size(&b, t->stripped.n);
    cw_buf_append(&b, t->stripped.p, t->stripped.n, NULL);
    cw_buf_append(&b, "\x00\x01\x01", 3, NULL); /* end of the global map; key: PSBT_IN_WITNESS_UTXO */
    uint8_t u[8 + 1 + 22];
    for (int i = 0; i < 8; i++)
        u[i] = (uint8_t)(in->value >> (8 * i));
    u[8] = 22, u[9] = 0x00, u[10] = 0x14; /* OP_0 <20 bytes> */
    memcpy(u + 11, in->addr.payload, 20);
    compact_size(&b, sizeof u);
    cw_buf_append(&b, u, sizeof u, NULL);
    cw_buf_append(&b, "\x00", 1, NULL); /* end of the input's map */
    for (size_t i = 0; i < n_out; i++)
        cw_buf_append(&b, "\x00", 1, NULL);
    char *h = hex_of(b.p, b.n);
    cw_buf_free(&b);
    return h;
}

/* The raw-tx fault tests' common part: replays s (designated: an address
 * listed for the run, or NULL) into a datadir kept for the screens,
 * requires want_recs records (what: what they are), then screens the raw
 * tx raw[0..n) from the CLI and the API, without a fault (exit want_exit,
 * a finding of rule) and with each fault of specs (exit 3, 503; nothing
 * written: rules_fault_check). Returns the datadir's root: the caller
 * removes it (test_remove_dir) and may screen more in <root>/data. */
static char *raw_tx_fault_check(scen *s, const char *designated, size_t want_recs, const char *what,
                                const uint8_t *raw, size_t n, int want_exit, const char *rule,
                                const char *const *specs)
{
    int rc;
    keep_root = (char *)1;
    json_t *recs = replay_rules(s, designated, NULL, NULL, &rc, NULL);
    char *root = keep_root;
    keep_root = NULL;
    cr_assert_eq(rc, 0);
    cr_assert_eq(json_array_size(recs), want_recs, "%s: %s", what, json_dumps(recs, 0));
    json_decref(recs);
    char *hex = hex_of(raw, n);
    size_t bn = strlen(hex) + 64;
    char *body = malloc(bn), dd[4096];
    cr_assert_not_null(body);
    snprintf(body, bn, "{\"tx\":\"%s\",\"network\":\"regtest\"}", hex);
    snprintf(dd, sizeof dd, "%s/data", root);
    const char *cli[] = {hex, "--network", "regtest", NULL};
    rules_fault_case c = {dd, NULL, cli, want_exit, body, NULL, rule, CW_FAULT_PRELOAD};
    rules_fault_check(&c, specs);
    free(hex), free(body);
    return root;
}

/* The shared payout of shared_scenario seen before it happens: A paid W
 * on days 1, 31, 61 and B on days 5 and 35, the chain ending 4 days ago
 * (day 65 is today); B's third salary to W (not mined) is screened as a
 * raw tx and as a PSBT: shared_payout, medium (review: exit 10). The
 * store then fails in each read the rules make: B's origin flags, the
 * trace its coin carries, W's record (B's own rule_addr read, absent,
 * succeeds first): exit 3 and 503, never the review without its finding
 * (a screen of B's payment without the rules is "allow"); nothing written. */
Test(rules, a_store_error_in_a_raw_btc_txs_rules_is_exit_3_and_503, .timeout = 90)
{
    scen s;
    static wallet ea, eb, w;
    ea = wallet_make(1), eb = wallet_make(2), w = wallet_make(100);
    scen_time0 = (uint32_t)(time(NULL) - 65 * 86400);
    wallet *funders[] = {&ea, &eb};
    scen_start(&s, funders, 2);
    scen_time0 = 0;
    int a_days[] = {1, 31, 61}, b_days[] = {5, 35};
    for (int k = 0, ia = 0, ib = 0; k < 5; k++) {
        bool a = ib == 2 || (ia < 3 && a_days[ia] < b_days[ib]);
        scen_day(&s, a ? a_days[ia] : b_days[ib]);
        pay(&s, a ? &ea : &eb, &w, NULL, SALARY);
        scen_mine(&s);
        ia += a, ib += !a;
    }
    cb_coin spent = eb.coins[0];
    pay(&s, &eb, &w, NULL, SALARY); /* the raw tx: not mined */
    cb_tx *t = &s.txs[0];
    char *psbt = psbt_hex(t, &spent, 2), w_spec[200];
    snprintf(w_spec, sizeof w_spec, "mdb_get:1+:EIO@%s#rule_addr", rules_fault_key_hex(&w.a));
    const char *specs[] = {"mdb_get:1+:EIO#rule_origin", "mdb_get:1+:EIO#rule_trace", w_spec, NULL};
    char *root = raw_tx_fault_check(&s, NULL, 0, "one recurring payer: no record yet", t->full.p, t->full.n, 10,
                                    "shared_payout", specs);
    /* the PSBT of the same payment (POST /v1/screen only: screen takes no PSBT) */
    char dd[4096], body[8192];
    snprintf(dd, sizeof dd, "%s/data", root);
    snprintf(body, sizeof body, "{\"psbt\":\"%s\",\"network\":\"regtest\"}", psbt);
    rules_fault_case p = {dd, NULL, NULL, 10, body, NULL, "shared_payout", CW_FAULT_PRELOAD};
    rules_fault_check(&p, specs);
    for (size_t i = 0; i < s.n_txs; i++)
        cb_tx_free(&s.txs[i]);
    cb_chain_free(&s.c);
    free(psbt);
    test_remove_dir(root);
}

/* The hit of every_payout_of_a_pool_past_its_list_is_behind_its_hit seen
 * before it happens: the pool P's raw tx to the designated d names the 70
 * payouts behind it, the 6 past P's list walked in rule_pair (block: exit
 * 12, its address is listed). The store fails in the walk: opening its
 * cursor, at its first read (the seek), at its third (two of the six read: the walk
 * cut short must not answer five findings fewer), and at the record of
 * the last payout walked. Exit 3 and 503; nothing written. */
Test(rules, a_store_error_walking_a_pools_sources_for_a_raw_tx_is_exit_3_and_503, .timeout = 120)
{
    scen s;
    static wallet payouts[POOL_N];
    static char sweeps[POOL_N][65];
    char hit[65];
    cw_addr pool, d = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 810);
    cw_buf rawb = CW_BUF_INIT;
    big_pool_scenario_raw(&s, payouts, sweeps, &pool, &d, hit, POOL_RAW_HIT, &rawb);
    char dtext[96], last[200];
    snprintf(dtext, sizeof dtext, "%s", text(&d));
    /* the sources past the list are walked in key order: the last is the greatest key of the six */
    const cw_addr *past[6];
    for (int i = 0; i < 6; i++)
        past[i] = &payouts[64 + i].a;
    const cw_addr *greatest = past[0];
    uint8_t kg[WL_KEY_MAX], k[WL_KEY_MAX];
    for (int i = 1; i < 6; i++) {
        size_t ng = wl_key_from_addr(greatest, kg), n = wl_key_from_addr(past[i], k);
        if (memcmp(k, kg, n < ng ? n : ng) > 0 || (memcmp(k, kg, n < ng ? n : ng) == 0 && n > ng))
            greatest = past[i];
    }
    snprintf(last, sizeof last, "mdb_get:1+:EIO@%s#rule_addr", rules_fault_key_hex(greatest));
    const char *specs[] = {"mdb_cursor_open:1+:EIO#rule_pair", "mdb_cursor_get:1+:EIO#rule_pair",
                           "mdb_cursor_get:3:EIO#rule_pair", last, NULL};
    char *root = raw_tx_fault_check(&s, dtext, 1 + POOL_N, "the consolidator and its payouts toward it", rawb.p,
                                    rawb.n, 12, "payout_toward_designated", specs);
    cb_chain_free(&s.c);
    cw_buf_free(&rawb);
    test_remove_dir(root);
}

/* e2's third payment of the flood (a_flood_of_throwaway_payers...) seen
 * before it happens, the chain ending 2 days ago: w's list is full, so e2's
 * pair is read past it (rule_pair: beyond_load); it makes e2 recurring,
 * the second: shared_payout (review, exit 10). The store fails reading
 * that pair, and in every other read the rules make (the sweep): exit 3
 * and 503; nothing written. */
Test(rules, a_store_error_reading_a_payers_pair_past_a_full_list_is_exit_3_and_503, .timeout = 90)
{
    scen s;
    wallet w;
    const char *fire = NULL;
    cw_buf rawb = CW_BUF_INIT;
    scen_time0 = (uint32_t)(time(NULL) - 72 * 86400);
    flood_scenario_raw(&s, false, &w, &fire, &rawb);
    scen_time0 = 0;
    const char *specs[] = {"mdb_get:1+:EIO#rule_pair", NULL};
    char *root = raw_tx_fault_check(&s, NULL, 0, "one recurring payer: no record yet", rawb.p, rawb.n, 10,
                                    "shared_payout", specs);
    cb_chain_free(&s.c);
    cw_buf_free(&rawb);
    test_remove_dir(root);
}

/* The last payout's sweep into the pool P (every_payout_of_a_pool...)
 * seen before it happens: P's list is full of payouts on cadence, so the
 * source is read past it (rule_pair: beyond_load), every listed source's
 * origin flags are read for one that could give way, and the source goes
 * past the list; P is a flagged consolidator already: the payout gets
 * payout_toward_designated toward it (high: hold, exit 11). The store
 * fails reading the source's entry past the list, and in every other read
 * the rules make (the sweep): exit 3 and 503; nothing written. And
 * no walk over the pool's window: with every rule_pair cursor failing
 * the screen answers the same (a screen of a sweep into a flagged pool
 * reads a fixed number of records, whatever its window holds: measured 1
 * rule_pair read and no cursor for 4, 30 and 120 payouts past the list). */
Test(rules, a_store_error_reading_a_pools_source_past_its_list_is_exit_3_and_503, .timeout = 120)
{
    scen s;
    static wallet payouts[POOL_N];
    static char sweeps[POOL_N][65];
    char hit[65];
    cw_addr pool, d = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 810);
    cw_buf rawb = CW_BUF_INIT;
    big_pool_scenario_raw(&s, payouts, sweeps, &pool, &d, hit, POOL_RAW_LAST_SWEEP, &rawb);
    const char *specs[] = {"mdb_get:1+:EIO#rule_pair", NULL};
    char *root = raw_tx_fault_check(&s, NULL, 1 + POOL_N - 1, "the consolidator and 69 payouts toward it", rawb.p,
                                    rawb.n, 11, "payout_toward_designated", specs);
    /* P is flagged: the screen walks neither its window (the consolidator's
     * count is made once, when it fires) nor its sources past the list, so
     * a screen into a busy pool costs no read per payout in its window
     * (rules.h): every rule_pair cursor failing, the same answer */
    char dd[4096], *hex = hex_of(rawb.p, rawb.n), *out[2], *err[2];
    snprintf(dd, sizeof dd, "%s/data", root);
    char *screen[] = {CW_BIN, "screen", hex, "--network", "regtest", "--datadir", dd, NULL};
    int rc[2];
    for (int f = 0; f < 2; f++) {
        if (f) {
            setenv("LD_PRELOAD", CW_FAULT_PRELOAD, 1);
            setenv("CW_FAIL_MDB", "mdb_cursor_open:1+:EIO#rule_pair,mdb_cursor_get:1+:EIO#rule_pair", 1);
        }
        rc[f] = run_cmd(screen, NULL, 0, &out[f], &err[f]);
        unsetenv("LD_PRELOAD");
        unsetenv("CW_FAIL_MDB");
    }
    cr_assert_eq(rc[0], 11, "%s", err[0]);
    cr_assert_eq(rc[1], 11, "no rule_pair cursor: %s", err[1]);
    cr_assert_str_eq(out[1], out[0]);
    for (int f = 0; f < 2; f++)
        free(out[f]), free(err[f]);
    free(hex);
    cb_chain_free(&s.c);
    cw_buf_free(&rawb);
    test_remove_dir(root);
}

/* A raw tx whose sweep makes a pool a consolidator through its window over
 * the sources past its list (late_pool_scenario's N1 sweep, screened
 * before it is mined: O0, O1, X and N0 in the window, N1 the fifth): a
 * store error in the window index's walk (its first step, or a later one)
 * or in a read of a source's sweeps for the evidence is exit 3 and 503,
 * never a screen without the consolidator. */
Test(rules, a_store_error_in_a_pools_window_past_its_list_is_exit_3_and_503, .timeout = 120)
{
    scen s;
    static wallet o[OLD_N];
    wallet n[3], x, y;
    cw_addr pool;
    char ids[7][65];
    scen_time0 = (uint32_t)(time(NULL) - 72 * 86400); /* N1's sweep, screened now, is day 72's */
    late_pool_scenario(&s, false, o, n, &x, &y, &pool, ids, LATE_N1_PENDING);
    scen_time0 = 0;
    const char *specs[] = {"mdb_cursor_get:1+:EIO#rule_pair", "mdb_cursor_get:2+:EIO#rule_pair",
                           "mdb_get:1+:EIO#rule_pair", NULL};
    char *root = raw_tx_fault_check(&s, NULL, 0, "nothing before N1's sweep", s.txs[0].full.p, s.txs[0].full.n, 11,
                                    "consolidator", specs);
    cb_tx_free(&s.txs[0]);
    cb_chain_free(&s.c);
    test_remove_dir(root);
}

/* late_pool_scenario (end: one that leaves a sweep pending) for a screen
 * of its last sweep that is "today", connected by the live pipeline l in
 * a datadir (live_open_in) up to that sweep, with P's index forgotten
 * after day 67 (forget: forget_window_index); *hex: the pending sweep. */
static void late_pool_live(scen *s, live *l, late_end end, bool forget, wallet o[OLD_N], wallet n[3], wallet *x,
                           wallet *y, cw_addr *pool, char ids[7][65], char **hex)
{
    if (86400 - time(NULL) % 86400 < 120) /* the screen and the block name the same day */
        sleep(121);
    int today = end == LATE_X_AGAIN ? 73 : 72;
    scen_time0 = (uint32_t)(time(NULL) - today * 86400); /* the sweep, screened now, is today's */
    late_pool_scenario(s, false, o, n, x, y, pool, ids, end);
    scen_time0 = 0;
    live_open_in(l, true);
    cw_err err = {0};
    for (size_t i = 0; i < s->c.n; i++) {
        if (forget && s->c.blocks[i].height == 70)
            forget_window_index(l, pool, x, y);
        cr_assert_eq(pipeline_block(l->p, s->c.blocks[i].raw.p, s->c.blocks[i].raw.n, &err), CW_OK, "%s", err.msg);
    }
    cr_assert_eq(l->records.n, 0, "no record before the sweep: %.*s", (int)l->records.n, (const char *)l->records.p);
    cr_assert_eq(s->n_txs, 1);
    *hex = hex_of(s->txs[0].full.p, s->txs[0].full.n);
}

/* The screen of the pending sweep of late_pool_live (`chainwatch screen`
 * against l's datadir, hold) and the records of the same tx mined today
 * (txid) by l: as many (want), each the screen's finding in its place,
 * field by field (rule, address, risk, evidence, explanation). Returns the
 * consolidator's (the caller's). */
static json_t *screen_is_record(scen *s, live *l, const char *hex, const char *txid, size_t want)
{
    char *out, *errs;
    char *screen[] = {CW_BIN, "screen", (char *)hex, "--network", "regtest", "--datadir", l->dir, NULL};
    cr_assert_eq(run_cmd(screen, NULL, 0, &out, &errs), 11, "%s %s", out, errs);
    json_t *sc = json_loads(out, 0, NULL), *c = NULL;
    cr_assert_not_null(sc, "%s", out);
    free(out), free(errs);
    json_t *found = json_object_get(sc, "patterns");
    cr_assert_eq(json_array_size(found), want, "%s", json_dumps(found, 0));
    scen_mine(s);
    cw_err err = {0};
    cr_assert_eq(pipeline_block(l->p, s->c.blocks[s->tip].raw.p, s->c.blocks[s->tip].raw.n, &err), CW_OK, "%s",
                 err.msg);
    size_t i = 0;
    for (const char *p = (const char *)l->records.p, *end = p + l->records.n; p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        json_t *r = json_loadb(p, (size_t)(nl - p), 0, NULL), *f = json_array_get(found, i);
        cr_assert(r && f, "record %zu: %zu findings", i, json_array_size(found));
        cr_assert_str_eq(str(r, "txid"), txid);
        const char *keys[] = {"rule", "address", "risk", "evidence", "explanation", NULL};
        for (int k = 0; keys[k]; k++)
            cr_assert(json_equal(json_object_get(r, keys[k]), json_object_get(f, keys[k])),
                      "record %zu's %s: %s, the screen's %s", i, keys[k],
                      json_dumps(json_object_get(r, keys[k]), JSON_SORT_KEYS),
                      json_dumps(json_object_get(f, keys[k]), JSON_SORT_KEYS));
        if (strcmp(str(r, "rule"), "consolidator") == 0)
            c = json_incref(r);
        json_decref(r);
        p = nl + 1;
    }
    cr_assert_eq(i, want);
    json_decref(sc);
    cr_assert_not_null(c);
    return c;
}

/* What a screen of late_pool_scenario's firing sweep says is what the
 * record of it says: N1's sweep (day 72), the fifth payout in the window,
 * a new source past P's list (the trace back from the pool walks it in
 * rule_pair, where the screen writes nothing). The records of the tx
 * (tests/tools/window_oracle.py: 70 records in all, the last N2's): the
 * consolidator, 5 in the window, and the 68 sources then tied to it (64
 * listed, X, Y, N0, N1 past the list), each with sources_not_examined 0.
 * Before: the screen's walk over rule_pair missed N1 (not written): no
 * finding for it, and sources_not_examined 1 on the other 67. */
Test(rules, a_screen_of_the_sweep_that_flags_a_pool_past_its_list_is_its_record, .timeout = 240)
{
    scen s;
    static wallet o[OLD_N];
    wallet n[3], x, y;
    cw_addr pool;
    char ids[7][65], *hex;
    live l;
    late_pool_live(&s, &l, LATE_N1_PENDING, false, o, n, &x, &y, &pool, ids, &hex);
    json_t *c = screen_is_record(&s, &l, hex, ids[1], 69);
    json_t *ev = json_object_get(c, "evidence");
    cr_assert_eq(num(ev, "sources_in_window"), 5);
    cr_assert_eq(num(ev, "sources_in_window_not_listed"), 3);
    cr_assert_eq(num(ev, "sources_total"), 68);
    cr_assert_eq(num(ev, "sources_not_listed"), 4);
    cr_assert_eq(num(ev, "sources_not_examined_by_window"), 0);
    json_decref(c);
    const wallet *past[4] = {&x, &y, &n[0], &n[1]};
    for (int i = 0; i < 4; i++) {
        json_t *r = live_find(&l, "payout_toward_designated", text(&past[i]->a));
        cr_assert_not_null(r, "source %d past the list", i);
        cr_assert_eq(num(json_object_get(r, "evidence"), "sources_not_examined"), 0);
        json_decref(r);
    }
    free(hex);
    live_close(&l);
    cb_chain_free(&s.c);
}

/* The same when the sweep that flags the pool takes a listed source's
 * place (LATE_N1_PENDING_GIVE_WAY: O61..O63 never payouts, X, Y and N0
 * took their places; N1's sweep takes Y's, which goes past the list there
 * and then): the walk back from the pool finds Y in rule_pair, where the
 * screen writes nothing. The window (the oracle's "O61..O63 unpaid"): O0,
 * O1, X, N0, N1, all listed; past the list O61..O63 and Y. Before: the
 * screen had no record of Y toward the pool, and sources_not_examined 1 on
 * the others. */
Test(rules, a_screen_of_the_sweep_that_flags_a_pool_and_takes_a_place_in_its_list_is_its_record, .timeout = 240)
{
    scen s;
    static wallet o[OLD_N];
    wallet n[3], x, y;
    cw_addr pool;
    char ids[7][65], *hex;
    live l;
    late_pool_live(&s, &l, LATE_N1_PENDING_GIVE_WAY, false, o, n, &x, &y, &pool, ids, &hex);
    json_t *c = screen_is_record(&s, &l, hex, ids[1], 69);
    json_t *ev = json_object_get(c, "evidence");
    cr_assert_eq(num(ev, "sources_in_window"), 5);
    cr_assert_eq(num(ev, "sources_in_window_not_listed"), 0);
    cr_assert_eq(num(ev, "sources_total"), 68);
    cr_assert_eq(num(ev, "sources_not_listed"), 4);
    cr_assert_eq(num(ev, "sources_not_examined_by_window"), 0);
    json_decref(c);
    json_t *r = live_find(&l, "payout_toward_designated", text(&y.a));
    cr_assert_not_null(r);
    cr_assert_eq(num(json_object_get(r, "evidence"), "sources_not_examined"), 0);
    json_decref(r);
    free(hex);
    live_close(&l);
    cb_chain_free(&s.c);
}

/* The same for a sweep by a source a chainwatch before the window index
 * kept past a pool's list. late_pool_scenario with X sweeping again on day
 * 73 (LATE_X_AGAIN), P's index after day 67 as an earlier chainwatch left
 * it (forget_window_index): X's sweep of day 66 is not seen, so the window
 * counts O0, O1 (day 70), N0 (71) and N1 (72): 4, no consolidator yet,
 * and X and Y are not examined by it (2). X's sweep of day 73 (a payout
 * since day 70) is the fifth: the consolidator, its window 5 (O0, O1
 * listed; X, N1, N0 past the list), and of the 4 sources past the list
 * (X, Y, N0, N1) 3 are seen now: sources_not_examined_by_window 1 (Y), as
 * rules.h says ("they count once they sweep into it again") and
 * tests/tools/window_oracle.py's model of it prints ("X, Y unseen after day
 * 67, X again on day 73": 5 in the window, 1 not seen, 69 records, 68
 * sources). Before: the record said 1, the screen of the same tx 2 (it
 * counted as seen only the sources its sweep put past the list, not one
 * past it already but never indexed), and the screen's record of X toward
 * the pool named X's sweep of day 66 (rule_pair as it was), the record the
 * one of day 73. The screen's new read (is X in P's window at its last
 * sweep, day 66) failing: exit 3 and 503, nothing written (rules_fault.h). */
Test(rules, a_screen_of_a_sweep_kept_past_the_list_before_the_index_is_its_record, .timeout = 240)
{
    scen s;
    static wallet o[OLD_N];
    wallet n[3], x, y;
    cw_addr pool;
    char ids[7][65], *hex;
    live l;
    late_pool_live(&s, &l, LATE_X_AGAIN, true, o, n, &x, &y, &pool, ids, &hex);
    cr_assert_eq(pool_not_examined(&l, &pool), 2);
    /* the screen's read of X's window entry at day 66 (X is a payout) failing */
    char spec[300], body[4096];
    snprintf(spec, sizeof spec, "mdb_get:1+:EIO@%s#rule_pair",
             rules_fault_window_key_hex(&pool, &x.a, s.c.time0 + 66 * 86400ull));
    snprintf(body, sizeof body, "{\"tx\":\"%s\",\"network\":\"regtest\"}", hex);
    const char *cli[] = {hex, "--network", "regtest", NULL}, *specs[] = {spec, NULL};
    rules_fault_case fc = {l.dir, l.s, cli, 11, body, NULL, "consolidator", CW_FAULT_PRELOAD};
    rules_fault_check(&fc, specs);
    json_t *c = screen_is_record(&s, &l, hex, ids[2], 69);
    json_t *ev = json_object_get(c, "evidence");
    cr_assert_eq(num(ev, "sources_in_window"), 5);
    cr_assert_eq(num(ev, "sources_in_window_not_listed"), 3);
    cr_assert_eq(num(ev, "sources_total"), 68);
    cr_assert_eq(num(ev, "sources_not_listed"), 4);
    cr_assert_eq(num(ev, "sources_not_examined_by_window"), 1);
    json_t *srcs = json_object_get(ev, "sources");
    const wallet *want[5] = {&o[0], &o[1], &x, &n[1], &n[0]};
    cr_assert_eq(json_array_size(srcs), 5, "%s", json_dumps(srcs, 0));
    for (size_t e = 0; e < 5; e++)
        cr_assert_str_eq(str(json_array_get(srcs, e), "source"), text(&want[e]->a), "source %zu", e);
    json_decref(c);
    json_t *r = live_find(&l, "payout_toward_designated", text(&x.a));
    cr_assert_str_eq(str(json_object_get(r, "evidence"), "swept_into_pool_txid"), ids[2]);
    json_decref(r);
    cr_assert_eq(pool_not_examined(&l, &pool), 1);
    free(hex);
    live_close(&l);
    cb_chain_free(&s.c);
}
