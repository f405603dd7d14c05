/*
 * cw_bench tron [BLOCKS [TXS]]: java-tron triggers through chainwatch's
 * Tron path against the bound of parsing the same JSON alone.
 *
 * The triggers are what java-tron's native queue sends for BLOCKS blocks of
 * TXS txs each (default 200 x 300, ~60,000 triggers): a blockTrigger per
 * block and a transactionTrigger per tx, every tx the real USDT payment
 * 0130dfde (its real log in logList, ethCompatible) with its id made
 * unique; one tx in 100 pays a listed address (the log's recipient
 * replaced), the rest pay an unlisted one.
 *   parse      tron_trigger_parse of every trigger (jansson, the bound)
 *   pipeline   feed_tron_take (assembly, loss checks) of every trigger, then
 *              each whole block connected by the account engine (watchlist
 *              lookups, signed records committed with the block in LMDB,
 *              written to a file and fsynced per block)
 * Prints triggers/s for both and their ratio.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chains/addr.h"
#include "chains/hex.h"
#include "chains/tron/api.h"
#include "monitor/engine/account.h"
#include "monitor/records/keys.h"
#include "monitor/sources/feed_tron.h"
#include "watchlists/store/store.h"
#include "watchlists/watchlist.h"

#define LISTED_WORD "000000000000000000000000" "02b0a5b2d7a05aef9f6efbbe8eb59c9f7a1b2a8c"
#define OTHER_WORD "000000000000000000000000ec20315a879c48f5e3a6a1c9826d5225f8b658b8"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process: on a shared machine wall time also counts
 * other processes' turns. */
static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    char *topic, *json;
    size_t n;
} trig;

static void block_id(int64_t n, char out[65])
{
    snprintf(out, 17, "%016llx", (unsigned long long)n);
    memset(out + 16, 'a', 48);
    out[64] = '\0';
}

static char *tx_trigger(int64_t n, const char *bid, const char *txid, int index, int log_index, bool listed)
{
    char *s = malloc(4096);
    snprintf(s, 4096,
             "{\"timeStamp\":%lld,\"triggerName\":\"transactionTrigger\",\"transactionId\":\"%s\",\"blockHash\":\"%s\","
             "\"blockNumber\":%lld,\"energyUsage\":4475,\"energyFee\":26420100,\"originEnergyUsage\":0,"
             "\"energyUsageTotal\":130285,\"netUsage\":345,\"netFee\":0,\"result\":\"SUCCESS\",\"contractAddress\":null,"
             "\"contractType\":\"TriggerSmartContract\",\"feeLimit\":50000000,\"contractCallValue\":0,"
             "\"contractResult\":\"\",\"fromAddress\":\"TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre\",\"toAddress\":"
             "\"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t\",\"assetName\":null,\"assetAmount\":0,"
             "\"latestSolidifiedBlockNumber\":%lld,\"internalTransactionList\":[],\"data\":\"\",\"transactionIndex\":%d,"
             "\"cumulativeEnergyUsed\":130285,\"preCumulativeLogCount\":%d,\"logList\":[{\"address\":"
             "\"a614f803b6fd780986a42c78ec9c7f77e6ded13c\",\"blockHash\":\"%s\",\"blockNumber\":%lld,\"data\":"
             "\"00000000000000000000000000000000000000000000000000000000027bf24d\",\"logIndex\":%d,\"topicList\":["
             "\"ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef\","
             "\"0000000000000000000000006e3b44b96104b26f84057974a1f0c9880f7c9b13\",\"%s\"],\"transactionHash\":\"%s\","
             "\"transactionIndex\":%d}],\"energyUnitPrice\":210,\"extMap\":null}",
             (long long)(1700000000000 + n * 3000), txid, bid, (long long)n, (long long)(n - 19), index, log_index, bid,
             (long long)n, log_index, listed ? LISTED_WORD : OTHER_WORD, txid, index);
    return s;
}

static bool sink(void *ctx, const char *line, size_t len)
{
    int fd = *(int *)ctx;
    return write(fd, line, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
}

static bool durable(void *ctx) { return fsync(*(int *)ctx) == 0; }

int bench_tron(int argc, char **argv)
{
    int64_t blocks = argc > 2 ? atoll(argv[2]) : 200, per = argc > 3 ? atoll(argv[3]) : 300;
    const int64_t n0 = 69316562;
    size_t nt = (size_t)(blocks * (per + 1)), k = 0;
    trig *t = calloc(nt, sizeof *t);
    uint64_t listed = 0;
    for (int64_t b = 0; b < blocks; b++) {
        int64_t n = n0 + b;
        char bid[65];
        block_id(n, bid);
        /* the blockTrigger: its transactionList */
        size_t cap = 512 + (size_t)per * 67;
        char *bt = malloc(cap), *p = bt;
        p += sprintf(p, "{\"timeStamp\":%lld,\"triggerName\":\"blockTrigger\",\"blockNumber\":%lld,\"blockHash\":\"%s\","
                        "\"transactionSize\":%lld,\"latestSolidifiedBlockNumber\":%lld,\"transactionList\":[",
                     (long long)(1700000000000 + n * 3000), (long long)n, bid, (long long)per, (long long)(n - 19));
        char (*ids)[65] = malloc((size_t)per * 65);
        for (int64_t i = 0; i < per; i++) {
            snprintf(ids[i], 65, "%016llx%016llx%032x", (unsigned long long)n, (unsigned long long)i, 0x0130dfde);
            p += sprintf(p, "%s\"%s\"", i ? "," : "", ids[i]);
        }
        sprintf(p, "]}");
        t[k++] = (trig){"blockTrigger", bt, strlen(bt)};
        for (int64_t i = 0; i < per; i++) {
            bool hit = (b * per + i) % 100 == 7;
            listed += hit;
            char *tt = tx_trigger(n, bid, ids[i], (int)i, (int)i, hit);
            t[k++] = (trig){"transactionTrigger", tt, strlen(tt)};
        }
        free(ids);
    }
    printf("tron bench: %lld blocks x %lld txs = %zu triggers (real USDT tx 0130dfde's shape), %llu pay a listed "
           "address\n",
           (long long)blocks, (long long)per, nt, (unsigned long long)listed);

    /* 1. the bound: parsing alone */
    double t0 = now(), c0 = cpu();
    for (size_t i = 0; i < nt; i++) {
        tron_trigger tr;
        cw_err err;
        if (tron_trigger_parse(tron_trigger_kind_of(t[i].topic, strlen(t[i].topic)), t[i].json, t[i].n, &tr, &err)) {
            fprintf(stderr, "cw_bench: %s\n", err.msg);
            return 1;
        }
        tron_trigger_free(&tr);
    }
    double parse_s = now() - t0, parse_c = cpu() - c0;

    /* 2. the pipeline: a store with the listed address, the engine, a file sink */
    char dir[256];
    snprintf(dir, sizeof dir, "%s/cw-bench-tron-XXXXXX", getenv("CW_BENCH_DIR") ? getenv("CW_BENCH_DIR") : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("cw_bench: mkdtemp");
        return 1;
    }
    cw_err err = {0};
    uint8_t lb[20];
    size_t ln;
    cw_hex_decode(LISTED_WORD + 24, 40, lb, 20, &ln, &err);
    cw_addr la;
    cw_addr_set(&la, CW_CHAIN_TRON, CW_NET_MAIN, CW_ADDR_TRON, 0, lb, 20);
    char ltext[CW_ADDR_TEXT_MAX];
    cw_addr_format(&la, ltext, sizeof ltext);
    wl_import *imp = wl_import_new("bench", "csv");
    wl_entity *e = wl_import_entity(imp, "bench");
    wl_entity_set_name(e, "Bench designated party");
    wl_import_address(imp, "bench", "TRX", ltext);
    cw_store *store;
    char pubhex[65];
    bool created;
    uint8_t sk[64];
    wl_summary sum;
    if (store_open(dir, 0, false, &store, &err) || wl_import_commit(store, imp, &sum, &err) ||
        keys_create(dir, pubhex, &created, &err) || keys_load_secret(dir, sk, &err)) {
        fprintf(stderr, "cw_bench: %s\n", err.msg);
        return 1;
    }
    wl_import_free(imp);
    char alerts[300];
    snprintf(alerts, sizeof alerts, "%s/alerts.jsonl", dir);
    int fd = open(alerts, O_WRONLY | O_CREAT | O_APPEND, 0644);
    static const account_source none = {0};
    account_config ac = {.store = store, .chain = "tron", .network = "mainnet", .native_symbol = "TRX",
                         .native_decimals = 6, .chain_id = 728126428, .net = CW_NET_MAIN, .sk = sk, .sink = sink,
                         .durable = durable, .sink_ctx = &fd, .src = &none, .start = -1, .confirmations = 1};
    account *a;
    feed_tron *f;
    feed_tron_config fc = {.endpoint = "tcp://127.0.0.1:1"};
    if (account_open(&ac, &a, &err) || feed_tron_open(&fc, &f, &err)) {
        fprintf(stderr, "cw_bench: %s\n", err.msg);
        return 1;
    }
    uint8_t parent[32] = {0};
    bool have_parent = false;
    uint64_t connected = 0;
    t0 = now(), c0 = cpu();
    for (size_t i = 0; i < nt; i++) {
        feed_tron_take(f, t[i].topic, strlen(t[i].topic), t[i].json, t[i].n);
        feed_tron_event ev;
        bool got;
        while (feed_tron_next(f, 0, &ev, &got, &err) == CW_OK && got) {
            if (ev.kind != FEED_TRON_BLOCK)
                continue;
            account_block ab = {ev.block.number, {0}, {0}, (uint64_t)(ev.block.time_ms / 1000), ev.block.txs,
                                ev.block.n_tx, NULL};
            memcpy(ab.hash, ev.block.hash, 32);
            memcpy(ab.parent, have_parent ? parent : ab.parent, 32);
            if (!have_parent) { /* the first block: its parent is what the chain says, here none */
                memset(ab.parent, 0, 32);
            }
            if (account_connect(a, &ab, &err)) {
                fprintf(stderr, "cw_bench: block %lld: %s\n", (long long)ab.number, err.msg);
                return 1;
            }
            memcpy(parent, ab.hash, 32);
            have_parent = true;
            connected++;
            if (isatty(2) && connected % 20 == 0)
                fprintf(stderr, "\r  %llu/%lld blocks", (unsigned long long)connected, (long long)blocks);
        }
    }
    double pipe_s = now() - t0, pipe_c = cpu() - c0;
    if (isatty(2))
        fputc('\n', stderr);
    pipeline_stats st;
    pipeline_stats_get(account_pipeline(a), &st);
    printf("  parse only (bound)   %9.0f triggers/s wall, %9.0f per CPU second (%.2f s)\n", (double)nt / parse_s,
           (double)nt / parse_c, parse_s);
    printf("  feed + engine        %9.0f triggers/s wall, %9.0f per CPU second (%.2f s; %llu blocks connected, %llu "
           "records, fsync per block)\n",
           (double)nt / pipe_s, (double)nt / pipe_c, pipe_s, (unsigned long long)connected,
           (unsigned long long)st.alerts);
    printf("  pipeline / bound     %9.2fx wall, %.2fx CPU\n", pipe_s / parse_s, pipe_c / parse_c);
    feed_tron_close(f);
    account_close(a);
    store_close(store);
    close(fd);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cw_bench: could not remove %s\n", dir);
    for (size_t i = 0; i < nt; i++)
        free(t[i].json);
    free(t);
    return connected == (uint64_t)blocks - 1 || connected == (uint64_t)blocks ? 0 : 1;
}
