/*
 * `chainwatch replay --blocksdir DIR`: historical blocks through the same
 * pipeline as `watch` (prevout index, watchlist, alert records, undo,
 * cursor), read from a Bitcoin Core blocks/ directory in best-chain order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blocksdir.h"
#include "chains/hex.h"
#include "chainstate.h"
#include "cli.h"
#include "keys.h"
#include "pipeline.h"
#include "sink.h"
#include "watchlists/store.h"

static const char usage[] =
    "usage: chainwatch replay --blocksdir DIR [--from H] [--to H] [--network N]\n"
    "                         [--datadir D] [--alerts FILE|-]\n"
    "\n"
    "Reads a Bitcoin Core blocks/ directory (blk*.dat, de-obfuscated with xor.dat\n"
    "when present), builds the best chain from its headers (most work; stale\n"
    "branches and orphans are skipped), and runs heights --from..--to (inclusive)\n"
    "through the monitor's pipeline: the same confirmed records `watch` writes,\n"
    "committed in batches of about 20,000 txs (a crash costs at most one batch).\n"
    "On a datadir that already holds blocks it continues from its tip, which\n"
    "must be on this chain. Defaults: --from 0 (or the tip + 1), --to the best\n"
    "height, --alerts <datadir>/alerts.jsonl.\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_replay(int argc, char **argv)
{
    if (cli_wants_help(argc, argv) || argc < 2) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *blocksdir_path = NULL, *datadir = NULL, *alerts = NULL, *netname = NULL;
    int64_t from = -1, to = -1;
    for (int i = 1; i < argc;) {
        const char *v = NULL;
        if (cli_opt(argc, argv, &i, "--blocksdir", &v)) blocksdir_path = v;
        else if (cli_opt(argc, argv, &i, "--datadir", &v)) datadir = v;
        else if (cli_opt(argc, argv, &i, "--alerts", &v)) alerts = v;
        else if (cli_opt(argc, argv, &i, "--network", &v)) netname = v;
        else if (cli_opt(argc, argv, &i, "--from", &v)) from = v ? strtoll(v, NULL, 10) : -1;
        else if (cli_opt(argc, argv, &i, "--to", &v)) to = v ? strtoll(v, NULL, 10) : -1;
        else {
            fprintf(stderr, "chainwatch: replay: unexpected argument '%s'\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
        if (v == NULL) {
            fprintf(stderr, "chainwatch: replay: %s needs a value\n", argv[i - 1]);
            return CLI_EXIT_USAGE;
        }
    }
    char dd[4096];
    if (datadir == NULL) {
        if (!store_default_datadir(dd, sizeof dd)) {
            fprintf(stderr, "chainwatch: replay: HOME is not set: pass --datadir\n");
            return CLI_EXIT_USAGE;
        }
        datadir = dd;
    }
    cw_net net = CW_NET_MAIN;
    if (netname && !cw_net_from_name(netname, &net)) {
        fprintf(stderr, "chainwatch: replay: unknown network '%s'\n", netname);
        return CLI_EXIT_USAGE;
    }
    if (blocksdir_path == NULL) {
        fprintf(stderr, "chainwatch: replay: --blocksdir is required\n");
        return CLI_EXIT_USAGE;
    }
    cw_err err = {0};
    uint8_t sk[64];
    if (keys_load_secret(datadir, sk, &err)) {
        fprintf(stderr, "chainwatch: replay: %s (run 'chainwatch init --datadir %s' first)\n", err.msg, datadir);
        return CLI_EXIT_FAIL;
    }
    double t0 = now_s();
    blocksdir *bd;
    blocksdir_info info;
    if (blocksdir_open(blocksdir_path, net, &bd, &info, &err))
        return cli_fail("replay", &err);
    if (blocksdir_warnings(bd)[0])
        fprintf(stderr, "chainwatch: replay: warning: %s\n", blocksdir_warnings(bd));
    fprintf(stderr, "chainwatch: replay: %zu files, %zu blocks (%s), best chain to height %lld, %zu stale, %zu orphans\n",
            info.files, info.records, info.obfuscated ? "xor-obfuscated" : "plain", (long long)info.best_height,
            info.stale, info.orphans);
    cw_store *store = NULL;
    alert_sink sink = {-1, false, NULL, NULL, 0};
    pipeline *p = NULL;
    int rc = CLI_EXIT_FAIL;
    char alerts_default[4200];
    snprintf(alerts_default, sizeof alerts_default, "%s/alerts.jsonl", datadir);
    if (store_open(datadir, 0, false, &store, &err) ||
        alert_sink_open(&sink, alerts ? alerts : alerts_default, &err)) {
        cli_fail("replay", &err);
        goto out;
    }
    pipeline_config pc = {store, net, sk, alert_sink_line, alert_sink_durable, &sink, NULL, -1, NULL, false};
    if (pipeline_open(&pc, &p, &err)) {
        cli_fail("replay", &err);
        goto out;
    }
    alert_sink_load_tail(&sink);
    pipeline_flush(p, &err);
    alert_sink_drop_tail(&sink);
    /* where to start: after our tip, which must be on this chain */
    store_txn *t;
    cs_tip tip = {0};
    if (store_begin(store, false, &t, &err) == CW_OK) {
        cs_get_tip(t, &tip, &err);
        store_abort(t);
    }
    if (tip.valid) {
        uint8_t h[32];
        if (!blocksdir_hash_at(bd, tip.height, h) || memcmp(h, tip.hash, 32) != 0) {
            char hx[65];
            cw_hex_encode_rev(tip.hash, 32, hx);
            fprintf(stderr, "chainwatch: replay: the datadir's tip %s (height %lld) is not on this directory's best "
                            "chain: use a new --datadir\n", hx, (long long)tip.height);
            rc = CLI_EXIT_USAGE;
            goto out;
        }
        if (from >= 0 && from != tip.height + 1)
            fprintf(stderr, "chainwatch: replay: the datadir already holds blocks to %lld: continuing from %lld\n",
                    (long long)tip.height, (long long)tip.height + 1);
        from = tip.height + 1;
    }
    if (from < 0)
        from = 0;
    if (to < 0 || to > info.best_height)
        to = info.best_height;
    bool tty = isatty(2) == 1;
    cw_buf blk = CW_BUF_INIT;
    double last = 0;
    rc = CLI_EXIT_OK;
    /* Blocks go in batches of one write transaction (one fsync) each, about
     * 20,000 txs: a crash or a full map costs at most one batch, redone. */
    int64_t batch_start = from;
    uint64_t batch_txs0 = 0;
    for (int64_t h = from; h <= to; h++) {
        pipeline_stats bs;
        if (h == batch_start) {
            if (pipeline_batch_begin(p, &err)) {
                rc = cli_fail("replay", &err);
                break;
            }
            pipeline_stats_get(p, &bs);
            batch_txs0 = bs.txs;
        }
        cw_code crc = blocksdir_read(bd, h, &blk, &err);
        if (crc == CW_OK)
            crc = pipeline_connect_at(p, blk.p, blk.n, h, &err);
        pipeline_stats_get(p, &bs);
        if (crc == CW_OK && (h == to || bs.txs - batch_txs0 >= 200000)) {
            crc = pipeline_batch_commit(p, &err);
            batch_start = h + 1;
        }
        if (crc == CW_EFULL && store_grow(store, &err) == CW_OK) {
            pipeline_batch_abort(p);
            h = batch_start - 1; /* the batch is gone: redo it in a bigger map */
            continue;
        }
        if (crc) {
            pipeline_batch_abort(p);
            fprintf(stderr, "%schainwatch: replay: height %lld: %s\n", tty ? "\n" : "", (long long)h, err.msg);
            rc = CLI_EXIT_FAIL;
            break;
        }
        double now = now_s();
        if (tty && (now - last > 0.5 || h == to)) {
            pipeline_stats st;
            pipeline_stats_get(p, &st);
            fprintf(stderr, "\r  height %lld of %lld  %llu txs  %.0f tx/s  %llu alerts ", (long long)h, (long long)to,
                    (unsigned long long)st.txs, st.txs / (now - t0 + 1e-9), (unsigned long long)st.alerts);
            last = now;
        }
    }
    if (tty)
        fputc('\n', stderr);
    cw_buf_free(&blk);
    pipeline_stats st;
    pipeline_stats_get(p, &st);
    double el = now_s() - t0;
    printf("replayed heights %lld..%lld of %s into %s\n", (long long)from, (long long)to, blocksdir_path, datadir);
    printf("  blocks      %llu connected\n", (unsigned long long)st.blocks_connected);
    printf("  txs         %llu (%.0f tx/s)\n", (unsigned long long)st.txs, st.txs / (el + 1e-9));
    printf("  inputs      %llu resolved from the prevout index, %llu unresolved (spent outputs from before the start)\n",
           (unsigned long long)st.inputs_resolved, (unsigned long long)st.inputs_unresolved);
    printf("  alerts      %llu records\n", (unsigned long long)st.alerts);
    printf("  elapsed     %.2f s\n", el);
out:
    memset(sk, 0, sizeof sk);
    pipeline_close(p);
    alert_sink_close(&sink);
    store_close(store);
    blocksdir_close(bd);
    return rc;
}
