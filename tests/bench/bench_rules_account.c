/*
 * cw_bench rules-account [DAYS [TXS]]: what the pattern rules cost the
 * account engine on a payroll-heavy Ethereum chain, engine only (no node,
 * no decoding: the worst case for the rules' share of the time).
 *
 * The chain: DAYS days (default 365) of 4 blocks a day, TXS txs a block
 * (default 200), each tx one transfer: 40 employers pay 25 employees each
 * USD 2,000-8,000 in USDC (the real contract, a built-in token) about
 * monthly (days 28-35 apart), every employee sweeps 95% of it to its own
 * exchange deposit address two days later; the rest is ordinary traffic
 * between 50,000 accounts: USDC amounts spread from USD 1 to 100,000
 * (log-uniform, so a fifth land in the salary or tiny band) and small ETH
 * payments. A fixed seed: the same chain every run.
 * Replayed twice into fresh datadirs through account_replay (64 blocks a
 * transaction, as `replay --chain ethereum`), rules off then on; prints
 * CPU seconds and txs/s of each and the rules' cost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chains/addr.h"
#include "monitor/engine/account.h"
#include "monitor/records/keys.h"
#include "watchlists/store/store.h"

#define BLOCKS_PER_DAY 4
#define EMPLOYERS 40
#define EMPLOYEES 25
#define ACCOUNTS 50000
#define T0 1704067200ull

typedef struct {
    account_block *b;
    size_t n;
} chain;

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static cw_addr acct(unsigned kind, unsigned n)
{
    uint8_t p[20] = {0};
    p[0] = (uint8_t)(0x20 + kind);
    p[16] = (uint8_t)(n >> 24), p[17] = (uint8_t)(n >> 16), p[18] = (uint8_t)(n >> 8), p[19] = (uint8_t)n;
    cw_addr a;
    cw_addr_set(&a, CW_CHAIN_EVM, CW_NET_MAIN, CW_ADDR_EVM, 0, p, 20);
    return a;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static cw_code src_block(void *ctx, int64_t number, account_block **out, cw_err *err)
{
    chain *c = ctx;
    if (number < 1 || (size_t)number > c->n)
        return cw_err_set(err, CW_ENOTFOUND, CW_NO_OFFSET, "no block %lld", (long long)number);
    *out = &c->b[number - 1];
    return CW_OK;
}
static void src_free(void *ctx, account_block *b) { (void)ctx, (void)b; }
static bool sink(void *ctx, const char *line, size_t len) { (void)ctx, (void)line, (void)len; return true; }
static bool durable(void *ctx) { (void)ctx; return true; }

/* One tx of the block at slot i: from, to, amount in base units (u64), token or ETH. */
static void put_tx(account_block *b, size_t i, const cw_addr *from, const cw_addr *to, uint64_t amount, bool usdc,
                   const cw_addr *usdc_addr)
{
    cw_tx *tx = &b->txs[i];
    cw_transfer *x = tx->xfer;
    tx->chain = CW_CHAIN_EVM;
    tx->txid[0] = 0x7e;
    uint64_t id = (uint64_t)b->number * 100000 + i;
    for (int k = 0; k < 8; k++)
        tx->txid[31 - k] = (uint8_t)(id >> (8 * k));
    tx->n_xfer = 1;
    x->kind = usdc ? CW_XFER_TOKEN_LOG : CW_XFER_VALUE;
    x->from = *from, x->to = *to;
    x->asset.kind = usdc ? CW_ASSET_TOKEN : CW_ASSET_NATIVE;
    if (usdc)
        x->asset.contract = *usdc_addr;
    cw_u256_set_u64(&x->amount, amount);
}

static int build(chain *c, unsigned days, unsigned txs)
{
    cw_addr usdc;
    cw_err err = {0};
    if (cw_addr_parse("0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", 0, &usdc, &err))
        return 1;
    c->n = (size_t)days * BLOCKS_PER_DAY;
    c->b = calloc(c->n, sizeof *c->b);
    if (c->b == NULL)
        return 1;
    /* each employee's next pay day and its sweep two days after */
    static unsigned pay_day[EMPLOYERS * EMPLOYEES];
    static uint64_t paid[EMPLOYERS * EMPLOYEES];
    for (unsigned e = 0; e < EMPLOYERS * EMPLOYEES; e++)
        pay_day[e] = (unsigned)(next() % 30);
    for (size_t h = 0; h < c->n; h++) {
        account_block *b = &c->b[h];
        b->number = (int64_t)h + 1;
        b->hash[0] = 0xbb, b->hash[29] = (uint8_t)(b->number >> 16), b->hash[30] = (uint8_t)(b->number >> 8),
        b->hash[31] = (uint8_t)b->number;
        b->parent[0] = 0xbb, b->parent[29] = (uint8_t)((b->number - 1) >> 16),
        b->parent[30] = (uint8_t)((b->number - 1) >> 8), b->parent[31] = (uint8_t)(b->number - 1);
        unsigned day = (unsigned)(h / BLOCKS_PER_DAY);
        b->time = T0 + (uint64_t)h * (86400 / BLOCKS_PER_DAY);
        b->txs = calloc(txs, sizeof *b->txs);
        cw_transfer *xs = calloc(txs, sizeof *xs);
        if (b->txs == NULL || xs == NULL)
            return 1;
        for (unsigned i = 0; i < txs; i++)
            b->txs[i].xfer = &xs[i];
        size_t i = 0;
        /* payroll: in the day's first block, salaries due; in its second, sweeps of those paid 2 days ago */
        for (unsigned e = 0; h % BLOCKS_PER_DAY < 2 && e < EMPLOYERS * EMPLOYEES && i < txs; e++) {
            cw_addr emp = acct(1, e / EMPLOYEES), worker = acct(2, e);
            uint64_t salary = (2000 + next() % 6000) * 1000000ull;
            if (h % BLOCKS_PER_DAY == 0 && pay_day[e] == day) {
                put_tx(b, i++, &emp, &worker, salary, true, &usdc);
                paid[e] = salary;
            } else if (h % BLOCKS_PER_DAY == 1 && pay_day[e] + 2 == day && paid[e]) {
                cw_addr dep = acct(3, e); /* its own deposit address; 95% of the pay: a sweep */
                put_tx(b, i++, &worker, &dep, paid[e] / 100 * 95, true, &usdc);
            }
        }
        if (h % BLOCKS_PER_DAY == 1)
            for (unsigned e = 0; e < EMPLOYERS * EMPLOYEES; e++)
                if (pay_day[e] + 2 == day)
                    pay_day[e] += 28 + (unsigned)(next() % 8);
        for (; i < txs; i++) {
            cw_addr from = acct(4, (unsigned)(next() % ACCOUNTS)), to = acct(4, (unsigned)(next() % ACCOUNTS));
            if (next() % 10 < 7) {
                /* USD 1 to 100,000, log-uniform: 10^(0..5) */
                uint64_t r = next() % 5000, cents = 100;
                for (uint64_t k = 0; k < r / 1000; k++)
                    cents *= 10;
                cents += cents * (r % 1000) * 9 / 1000;
                put_tx(b, i, &from, &to, cents * 10000, true, &usdc);
            } else {
                put_tx(b, i, &from, &to, (next() % 1000000) * 1000000000ull, false, &usdc);
            }
        }
        b->n_txs = txs;
    }
    return 0;
}

static int run(chain *c, bool rules, double *cpu, pipeline_stats *st)
{
    char dir[] = "/tmp/cw-bench-rules-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("cw_bench: mkdtemp");
        return 1;
    }
    cw_err err = {0};
    cw_store *store = NULL;
    uint8_t sk[64];
    char pubhex[65];
    bool created;
    tokens_table tokens;
    rules_config rc;
    rules_config_default(&rc);
    if (tokens_init(&tokens, &err) || store_open(dir, 0, false, &store, &err) ||
        keys_create(dir, pubhex, &created, &err) || keys_load_secret(dir, sk, &err)) {
        fprintf(stderr, "cw_bench: %s\n", err.msg);
        return 1;
    }
    account_source src = {.ctx = c, .block = src_block, .block_free = src_free};
    account_config ac = {.store = store, .chain = "ethereum", .network = "mainnet", .native_symbol = "ETH",
                         .native_decimals = 18, .chain_id = 1, .net = CW_NET_MAIN, .sk = sk, .sink = sink,
                         .durable = durable, .src = &src, .start = -1, .confirmations = 1, .tokens = &tokens,
                         .rules = rules ? &rc : NULL};
    account *a = NULL;
    double t0 = cpu_now();
    int rcode = 0;
    if (account_open(&ac, &a, &err) || account_replay(a, 1, (int64_t)c->n, 64, NULL, NULL, &err)) {
        fprintf(stderr, "cw_bench: %s\n", err.msg);
        rcode = 1;
    }
    *cpu = cpu_now() - t0;
    if (a)
        pipeline_stats_get(account_pipeline(a), st);
    account_close(a);
    store_close(store);
    tokens_free(&tokens);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cw_bench: could not remove %s\n", dir);
    return rcode;
}

int bench_rules_account(int argc, char **argv)
{
    unsigned days = argc > 2 ? (unsigned)atoi(argv[2]) : 365, txs = argc > 3 ? (unsigned)atoi(argv[3]) : 200;
    if (days < 3 || txs < 1) {
        fprintf(stderr, "usage: cw_bench rules-account [DAYS >= 3 [TXS]]\n");
        return 2;
    }
    chain c = {0};
    if (build(&c, days, txs)) {
        fprintf(stderr, "cw_bench: out of memory building the chain\n");
        return 1;
    }
    size_t total = c.n * txs;
    printf("rules-account bench: %zu blocks, %zu txs (USDC payroll of %d employees among ordinary USDC/ETH "
           "traffic), engine only\n",
           c.n, total, EMPLOYERS * EMPLOYEES);
    double off, on;
    pipeline_stats st_off, st_on;
    if (run(&c, false, &off, &st_off) || run(&c, true, &on, &st_on))
        return 1;
    printf("  rules off   %8.2f CPU s  %8.0f tx/s  %llu records\n", off, (double)total / off,
           (unsigned long long)st_off.alerts);
    printf("  rules on    %8.2f CPU s  %8.0f tx/s  %llu records", on, (double)total / on,
           (unsigned long long)st_on.alerts);
    for (int r = 0; r < PIPELINE_RULE_COUNT; r++) /* the legitimate payroll should make none */
        if (st_on.by_rule[r])
            printf(", %s %llu", pipeline_rule_name((pipeline_rule)r), (unsigned long long)st_on.by_rule[r]);
    printf("\n              %llu payments tracked, %llu sweeps, %llu transfers traced\n",
           (unsigned long long)st_on.rules.payments, (unsigned long long)st_on.rules.sweeps,
           (unsigned long long)st_on.rules.traced);
    /* the engine alone does little here (no listed address, no exposure):
     * the rules' own cost per tx is the figure to set against a replay's
     * rate (scripts/bench ethereum-follow: the node's transport) */
    printf("  the rules cost %.2f us a tx (the engine without them %.2f us a tx)\n", 1e6 * (on - off) / (double)total,
           1e6 * off / (double)total);
    for (size_t h = 0; h < c.n; h++) {
        if (c.b[h].txs)
            free(c.b[h].txs[0].xfer);
        free(c.b[h].txs);
    }
    free(c.b);
    return 0;
}
