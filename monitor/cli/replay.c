/*
 * `chainwatch replay`: historical blocks through the same pipeline as
 * `watch` (prevout index, watchlist, alert records, undo, cursor), read
 * from a Bitcoin Core blocks/ directory (--blocksdir) or a directory of
 * single blocks (--rawblocks), in best-chain order.
 *
 * Design note. Blocks are committed in batches: one LMDB write transaction
 * (one fsync) per batch, with new outputs held in the prevout cache until
 * the batch commits (coins.h), so outputs spent within a batch never reach
 * the disk. A batch ends at 250,000 txs, at 512 MB of cached coins or after
 * 15 seconds, whichever comes first: a kill loses at most that much work,
 * redone on the next run from the committed tip, and the records of a
 * batch reach the alert file only after it commits (the outbox), so a
 * resumed replay neither loses nor repeats one. SIGINT/SIGTERM commit the
 * open batch and stop between blocks.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "monitor/sources/blocksdir.h"
#include "chains/bitcoin/coinjoin.h"
#include "chains/hex.h"
#include "monitor/engine/chainstate.h"
#include "cli.h"
#include "stop.h"
#include "account_run.h"
#include "args_flows.h"
#include "args_rules.h"
#include "monitor/engine/decode.h"
#include "monitor/records/keys.h"
#include "monitor/engine/pipeline.h"
#include "monitor/records/sink.h"
#include "watchlists/store/store.h"

static const char usage[] =
    "usage: chainwatch replay (--blocksdir DIR | --rawblocks DIR) [--from H] [--to H]\n"
    "                         [--network N] [--datadir D] [--alerts FILE|-] [--pub EP]\n"
    "                         [--no-state] [--batch-txs N] [--allow-gaps]\n"
    "       chainwatch replay --chain ethereum --rpc URL --from N [--to M] [--datadir D]\n"
    "                         [--alerts FILE|-] [--batch-blocks N] [--rpc-rate N]\n"
    "\n"
    "Runs historical blocks through the monitor's pipeline: the same confirmed\n"
    "records `watch` writes, with today's watchlist (a payment made before its\n"
    "address was designated says so: designated_after_tx).\n"
    "\n"
    "Work is committed in batches (at most --batch-txs txs or 15 s); an interrupted\n"
    "replay (Ctrl-C, kill) continues from its datadir's tip when run again, with\n"
    "no record lost or repeated. The datadir's tip must be on the directory's chain.\n"
    "\n"
    "Damaged input is read around, never stopped at: bytes of blk files that are\n"
    "no record (zero runs between records, bad sizes, cut records, a crash's\n"
    "leftovers) are skipped to the next network magic, and --rawblocks files that\n"
    "are not a block are skipped; each is named (file, offset, length, why) on\n"
    "stderr and in the summary. Zero padding to the end of a file is not damage.\n"
    "\n"
    "Exit status: 0 replayed, nothing skipped; 2 a usage error, input refused\n"
    "(gaps, another network), or input skipped or left out by --allow-gaps\n"
    "(every other readable block was still replayed); 1 a failure (a block the\n"
    "pipeline refused, the alerts file, I/O); 3 a store error (the store could\n"
    "not be opened, read or written, or is damaged); 130 interrupted.\n";

#define BATCH_TXS 250000
#define BATCH_CACHE_BYTES ((uint64_t)512 << 20)
#define BATCH_SECONDS 15.0

/* Progress on a terminal: where we are, how fast, how long to go. */
typedef struct {
    bool tty;
    double t0, last;
    int64_t to;
    uint64_t bytes_done, bytes_total;
} progress;

static void progress_show(progress *pr, int64_t h, uint64_t blocks, uint64_t txs, uint64_t alerts, bool force)
{
    double now = cli_seconds();
    if (!pr->tty || (!force && now - pr->last < 0.5))
        return;
    pr->last = now;
    double el = now - pr->t0 + 1e-9;
    double mbs = (double)pr->bytes_done / 1e6 / el;
    double eta = mbs > 0 ? (double)(pr->bytes_total - pr->bytes_done) / 1e6 / mbs : 0;
    fprintf(stderr, "\r  height %lld/%lld  %.0f blocks/s  %.0f tx/s  %.1f MB/s  %llu alerts  ETA %02d:%02d:%02d ",
            (long long)h, (long long)pr->to, (double)blocks / el, (double)txs / el, mbs, (unsigned long long)alerts,
            (int)(eta / 3600), (int)(eta / 60) % 60, (int)eta % 60);
}

static cw_code count_tx(void *ctx, cw_tx *tx, cw_err *err)
{
    (void)tx, (void)err;
    ++*(uint64_t *)ctx;
    return CW_OK;
}

/* The input's damage: each skipped span, the rawblocks gaps left out. Every
 * line on stderr; the summary (stdout) gets the first `cap` spans. */
static void report_skips(const blocksdir *bd, FILE *f, size_t cap, const char *prefix)
{
    const blocksdir_skip *sk;
    size_t n = blocksdir_skipped(bd, &sk);
    for (size_t i = 0; i < n && i < cap; i++)
        fprintf(f, "%s%s bytes %llu..%llu (%llu bytes): %s\n", prefix, sk[i].file, (unsigned long long)sk[i].offset,
                (unsigned long long)(sk[i].offset + sk[i].length - (sk[i].length > 0)),
                (unsigned long long)sk[i].length, sk[i].why);
    if (n > cap)
        fprintf(f, "%s... and %zu more (all on stderr)\n", prefix, n - cap);
}

static void summary_skips(const blocksdir *bd, const blocksdir_info *info)
{
    if (info->skipped)
        printf("  skipped     %zu spans/files, %llu bytes that are no block:\n", info->skipped,
               (unsigned long long)info->skipped_bytes);
    report_skips(bd, stdout, 20, "              ");
    if (info->gap_blocks)
        printf("  left out    %zu blocks behind %zu gaps (--allow-gaps)\n", info->gap_blocks, info->gaps);
}

/* --no-state: decode every block of the range, nothing else. */
static int parse_only(blocksdir *bd, const blocksdir_info *info, cw_net net, int64_t from, int64_t to, progress *pr)
{
    block_walker w = {0};
    cw_buf blk = CW_BUF_INIT;
    cw_err err = {0};
    uint64_t txs = 0, blocks = 0, inputs = 0, outputs = 0;
    int rc = CLI_EXIT_OK;
    for (int64_t h = from; h <= to && !cli_stop_requested(); h++) {
        block_summary s;
        if (blocksdir_read(bd, h, &blk, &err) || decode_block_walk(&w, blk.p, blk.n, net, count_tx, &txs, &s, &err)) {
            fprintf(stderr, "%schainwatch: replay: height %lld: %s\n", pr->tty ? "\n" : "", (long long)h, err.msg);
            rc = CLI_EXIT_FAIL;
            break;
        }
        blocks++;
        inputs += s.n_inputs;
        outputs += s.n_outputs;
        pr->bytes_done += blk.n;
        progress_show(pr, h, blocks, txs, 0, h == to);
    }
    if (pr->tty)
        fputc('\n', stderr);
    double el = cli_seconds() - pr->t0;
    printf("parsed heights %lld..%lld (--no-state: decode only, no store)\n", (long long)from,
           (long long)(from + (int64_t)blocks - 1));
    printf("  blocks      %llu\n", (unsigned long long)blocks);
    printf("  txs         %llu (%.0f tx/s)\n", (unsigned long long)txs, (double)txs / (el + 1e-9));
    printf("  inputs      %llu, outputs %llu\n", (unsigned long long)inputs, (unsigned long long)outputs);
    printf("  bytes       %.1f MB (%.1f MB/s)\n", (double)pr->bytes_done / 1e6, (double)pr->bytes_done / 1e6 / (el + 1e-9));
    summary_skips(bd, info);
    printf("  elapsed     %.2f s\n", el);
    block_walker_free(&w);
    cw_buf_free(&blk);
    if (cli_stop_requested())
        return 130;
    return rc == CLI_EXIT_OK && (info->skipped || info->gap_blocks) ? CLI_EXIT_USAGE : rc;
}

static void summary(const char *src, const char *datadir, int64_t from, const pipeline_stats *st, const progress *pr,
                    bool interrupted, const blocksdir *bd, const blocksdir_info *info)
{
    double el = cli_seconds() - pr->t0;
    if (st->blocks_connected)
        printf("replayed heights %lld..%lld of %s into %s%s\n", (long long)from,
               (long long)(from + (int64_t)st->blocks_connected - 1), src, datadir,
               interrupted ? " (interrupted: run again to continue)" : "");
    else
        printf("replayed nothing from %s into %s%s\n", src, datadir, interrupted ? " (interrupted)" : "");
    printf("  blocks      %llu connected\n", (unsigned long long)st->blocks_connected);
    printf("  txs         %llu (%.0f tx/s)\n", (unsigned long long)st->txs, (double)st->txs / (el + 1e-9));
    printf("  bytes       %.1f MB (%.1f MB/s)\n", (double)pr->bytes_done / 1e6, (double)pr->bytes_done / 1e6 / (el + 1e-9));
    printf("  inputs      %llu resolved from the prevout index, %llu unresolved (spent outputs from before the start)\n",
           (unsigned long long)st->inputs_resolved, (unsigned long long)st->inputs_unresolved);
    printf("  alerts      %llu records", (unsigned long long)st->alerts);
    for (int r = 0; r < PIPELINE_RULE_COUNT; r++)
        if (st->by_rule[r])
            printf(", %s %llu", pipeline_rule_name((pipeline_rule)r), (unsigned long long)st->by_rule[r]);
    printf("\n");
    const flows_stats *f = &st->flows;
    if (f->merges || f->multiparty_skipped || f->taint_outputs) {
        printf("  clusters    %llu merges, %llu multi-party txs not merged",
               (unsigned long long)f->merges, (unsigned long long)f->multiparty_skipped);
        for (int k = 1; k < 8; k++)
            if (f->multiparty_by_kind[k])
                printf(" (%s %llu)", btc_multiparty_name((btc_multiparty)k), (unsigned long long)f->multiparty_by_kind[k]);
        printf(", %llu grew past the size limit (no propagation)\n", (unsigned long long)f->clusters_stopped);
        for (int k = 1; k < 8; k++)
            if (f->multiparty_by_kind[k])
                printf("              not merged, e.g. %s %s\n", btc_multiparty_name((btc_multiparty)k),
                       f->multiparty_example[k]);
        printf("  exposure    %llu outputs carrying designated money\n", (unsigned long long)f->taint_outputs);
    }
    const keylink_stats *k = &st->keylink;
    if (k->keys || k->unchecked || k->mismatch || k->bad_key)
        printf("  key links   %llu revealed keys checked (%llu remembered clean), %llu with a designated form, %llu "
               "links; not counted: %llu with the prevout unknown, %llu not hashing to what they spend, %llu no "
               "valid key\n",
               (unsigned long long)k->keys, (unsigned long long)k->seen, (unsigned long long)k->designated,
               (unsigned long long)k->links, (unsigned long long)k->unchecked, (unsigned long long)k->mismatch,
               (unsigned long long)k->bad_key);
    if (st->rules.txs)
        printf("  rules       %llu payments in the salary or tiny band tracked, %llu sweeps, %llu outputs traced\n",
               (unsigned long long)st->rules.payments, (unsigned long long)st->rules.sweeps,
               (unsigned long long)st->rules.traced);
    if (st->gave_way) /* --cpu-idle: how long a task beside it could have waited */
        printf("  cpu-idle    gave way %llu times; longest stretch without giving way %.1f ms of CPU\n",
               (unsigned long long)st->gave_way, (double)st->longest_stretch_ns / 1e6);
    summary_skips(bd, info);
    printf("  elapsed     %.2f s\n", el);
}

/* One replay batch: blocks from `start` on, until `to`, a stop request or
 * the batch's limits, into the open batch (pipeline_batch). Called again
 * from `start` when a full map made the batch start over. */
typedef struct {
    blocksdir *bd;
    cw_buf *blk;
    progress *pr;
    int64_t start, to, batch_txs;
    int64_t h;              /* the block being connected, or the batch's last */
    uint64_t bytes0;        /* pr->bytes_done at the batch's start */
} replay_batch;

static cw_code replay_blocks(pipeline *p, void *ctx, cw_err *err)
{
    replay_batch *b = ctx;
    b->pr->bytes_done = b->bytes0;
    pipeline_stats bs;
    pipeline_stats_get(p, &bs);
    uint64_t txs0 = bs.txs;
    double t0 = cli_seconds();
    for (b->h = b->start; b->h <= b->to; b->h++) {
        cw_code rc = blocksdir_read(b->bd, b->h, b->blk, err);
        if (rc == CW_OK)
            rc = pipeline_connect_at(p, b->blk->p, b->blk->n, b->h, err);
        b->pr->bytes_done += b->blk->n;
        if (rc)
            return rc;
        pipeline_stats_get(p, &bs);
        progress_show(b->pr, b->h, bs.blocks_connected, bs.txs, bs.alerts, b->h == b->to);
        if (b->h == b->to || cli_stop_requested() || bs.txs - txs0 >= (uint64_t)b->batch_txs ||
            bs.cache_bytes >= BATCH_CACHE_BYTES || cli_seconds() - t0 >= BATCH_SECONDS)
            return CW_OK; /* b->h: the batch's last block */
    }
    return CW_OK;
}

int cmd_replay(int argc, char **argv)
{
    int capture_rc;
    if (replay_capture_hook(argc, argv, &capture_rc)) /* --capture FILE (replay_capture.c) */
        return capture_rc;
    flows_opts fo;
    flows_opts_init(&fo);
    rules_opts ro;
    rules_opts_init(&ro);
    const char *blocksdir_path = NULL, *rawblocks_path = NULL, *datadir = NULL, *alerts = NULL, *netname = NULL,
               *pub = NULL;
    bool no_state = false, allow_gaps = false, cpu_idle = false;
    /* heights fit a block header's 32-bit field */
    int64_t from = -1, to = -1, batch_txs = BATCH_TXS;
    static const char *const chains[] = {"bitcoin", "ethereum", NULL};
    int chain = 0;
    const char *rpc = NULL, *tokens = NULL;
    int64_t rpc_rate = 0, batch_blocks = 64, nice_n = 0;
    cli_arg args[] = {
        {"chain", ARG_ENUM, &chain, .choices = chains, .metavar = "CHAIN",
         .help = "bitcoin (default: --blocksdir or --rawblocks) or ethereum\n(blocks --from..--to asked of the node at --rpc)"},
        {"rpc", ARG_STRING, &rpc, .metavar = "URL", .help = "--chain ethereum: the node's HTTP JSON-RPC"},
        {"rpc-rate", ARG_INT, &rpc_rate, 0, 100000, .metavar = "N",
         .help = "--chain ethereum: at most N requests a second (0: no limit)"},
        {"batch-blocks", ARG_INT, &batch_blocks, 1, 100000, .metavar = "N",
         .help = "--chain ethereum: blocks per write transaction (default 64)"},
        {"tokens", ARG_PATH, &tokens, .metavar = "FILE", .help = "--chain ethereum: more known tokens (CSV)"},
        {"blocksdir", ARG_PATH, &blocksdir_path, .metavar = "DIR",
         .help = "a Bitcoin Core blocks/ directory: blk*.dat, de-obfuscated\n"
                 "with xor.dat when present. The best chain is built from the\n"
                 "headers (most work); stale branches and orphans are skipped."},
        {"rawblocks", ARG_PATH, &rawblocks_path, .metavar = "DIR",
         .help = "one block per file, raw bytes or hex, any order; a chain\n"
                 "whose first parent is missing starts at its BIP-34 height.\n"
                 "The blocks must make one chain: blocks behind a missing\n"
                 "parent (a gap) are refused, each named, before anything\n"
                 "is replayed."},
        {"allow-gaps", ARG_FLAG, &allow_gaps,
         .help = "replay the best chain of --rawblocks anyway; the blocks\nbehind a gap are named and left out."},
        {"from", ARG_INT, &from, 0, INT32_MAX, .metavar = "H",
         .help = "first height. Default: the chain's first height (or the\ndatadir's tip + 1)"},
        {"to", ARG_INT, &to, 0, INT32_MAX, .metavar = "H", .help = "last height (inclusive). Default: the best height"},
        {"network", ARG_STRING, &netname, .metavar = "N", .help = "main (default), test, testnet4, signet, regtest"},
        {"datadir", ARG_PATH, &datadir, .metavar = "D", .help = "default ~/.chainwatch"},
        {"alerts", ARG_PATH, &alerts, .metavar = "FILE|-", .help = "default <datadir>/alerts.jsonl; '-' is stdout."},
        {"pub", ARG_STRING, &pub, .metavar = "EP",
         .help = "also publish each record on a ZeroMQ PUB socket (topic\nalert)."},
        {"no-state", ARG_FLAG, &no_state,
         .help = "parse only: decode every tx (ids, output addresses), no\n"
                 "store, no records; the figure to compare the full replay\nagainst."},
        {"batch-txs", ARG_INT, &batch_txs, 1, INT32_MAX, .metavar = "N",
         .help = "commit at least every N txs (default 250000): smaller\n"
                 "batches lose less to a kill, bigger ones are faster."},
        {"nice", ARG_INT, &nice_n, 0, 19, .metavar = "N",
         .help = "lower the replay's CPU priority by N (as nice -n N; 19 the\nlowest): a backfill beside a screening API "
                 "(README, API)"},
        {"cpu-idle", ARG_FLAG, &cpu_idle,
         .help = "run only on CPU time nothing else wants (Linux SCHED_IDLE,\nyielding every 50 us of work): a "
                 "backfill that keeps a\nscreening request waiting for a CPU as little as it can; a\nbusy machine can "
                 "hold it back without limit,\nand store writers beside "
                 "it (serve's case decisions) wait\nwhile it holds the write lock (README, API); the summary\nsays "
                 "how often it gave way and its longest stretch without"},
        {.kind = ARG_MORE, .dest = fo.args, .help = "Clusters and exposure (on by default):"},
        {.kind = ARG_MORE, .dest = ro.args, .help = "Pattern rules (on by default; docs/rules.md):"},
        {0},
    };
    if (cli_wants_help(argc, argv) || argc < 2) {
        fputs(usage, argc < 2 ? stderr : stdout);
        if (argc < 2)
            return CLI_EXIT_USAGE;
        fputs("\nOptions:\n", stdout);
        cli_args_usage(stdout, args);
        fputs("\n", stdout);
        return cmd_replay_capture(argc, argv); /* its --help: the capture form */
    }
    int n_pos;
    if (cli_args_parse("replay", args, argc, argv, NULL, 0, &n_pos))
        return CLI_EXIT_USAGE;
    if (cli_nice("replay", nice_n, cpu_idle)) /* before any thread starts: they inherit it */
        return CLI_EXIT_FAIL;
    if (chain == 1) { /* ethereum (account_run.c) */
        if (rpc == NULL || from < 0 || blocksdir_path || rawblocks_path || no_state || netname) {
            fprintf(stderr, "chainwatch: replay: --chain ethereum takes --rpc URL and --from N (and --to M); not "
                            "--blocksdir, --rawblocks, --no-state or --network\n");
            return CLI_EXIT_USAGE;
        }
        if (to >= 0 && from > to) {
            fprintf(stderr, "chainwatch: replay: --from %lld is above --to %lld\n", (long long)from, (long long)to);
            return CLI_EXIT_USAGE;
        }
        char edd[4096];
        if (datadir == NULL && !store_default_datadir(edd, sizeof edd)) {
            fprintf(stderr, "chainwatch: replay: HOME is not set: pass --datadir\n");
            return CLI_EXIT_USAGE;
        }
        int lrc = rules_opts_load_account("replay", &ro, &fo);
        if (lrc) {
            flows_opts_free(&fo);
            rules_opts_free(&ro);
            return lrc;
        }
        char rules_line[512];
        rules_opts_describe(&ro, rules_line, sizeof rules_line);
        fprintf(stderr, "chainwatch: replay: %s\n", rules_line);
        const flows_config *fc = flows_opts_config(&fo);
        account_run_opts ao = {datadir ? datadir : edd, alerts, pub, rpc, tokens, rpc_rate, 1, false, 0, -1, 0,
                               from, to, batch_blocks, fc ? fc->hops : 0, fc ? fc->labels : NULL,
                               fc ? fc->min_share_ppm : 0, fc ? fc->hold_share_ppm : 0, false, NULL, NULL, NULL, NULL,
                               rules_opts_config(&ro), 0, NULL, 0, 0, NULL};
        int arc = account_run_replay(&ao);
        flows_opts_free(&fo);
        rules_opts_free(&ro);
        return arc;
    }
    if (rpc || tokens) {
        fprintf(stderr, "chainwatch: replay: --rpc and --tokens are for --chain ethereum\n");
        return CLI_EXIT_USAGE;
    }
    if (blocksdir_path && rawblocks_path) {
        fprintf(stderr, "chainwatch: replay: --blocksdir and --rawblocks: give one of them\n");
        return CLI_EXIT_USAGE;
    }
    bool raw_files = rawblocks_path != NULL;
    const char *blocks_path = raw_files ? rawblocks_path : blocksdir_path;
    cw_net net = CW_NET_MAIN;
    if (netname && !cw_net_from_name(netname, &net)) {
        fprintf(stderr, "chainwatch: replay: unknown network '%s'\n", netname);
        return CLI_EXIT_USAGE;
    }
    if (blocks_path == NULL) {
        fprintf(stderr, "chainwatch: replay: --blocksdir or --rawblocks is required\n");
        return CLI_EXIT_USAGE;
    }
    if (from >= 0 && to >= 0 && from > to) {
        fprintf(stderr, "chainwatch: replay: --from %lld is above --to %lld\n", (long long)from, (long long)to);
        return CLI_EXIT_USAGE;
    }
    char dd[4096];
    if (datadir == NULL && !no_state) {
        if (!store_default_datadir(dd, sizeof dd)) {
            fprintf(stderr, "chainwatch: replay: HOME is not set: pass --datadir\n");
            return CLI_EXIT_USAGE;
        }
        datadir = dd;
    }
    cw_err err = {0};
    uint8_t *sk = NULL; /* keys_secret_free on every way out */
    if (!no_state && (sk = keys_secret_open(datadir, &err)) == NULL) {
        fprintf(stderr, "chainwatch: replay: %s (run 'chainwatch init --datadir %s' first)\n", err.msg, datadir);
        return CLI_EXIT_FAIL;
    }
    progress pr = {.tty = isatty(2) == 1, .t0 = cli_seconds()};
    blocksdir *bd;
    blocksdir_info info;
    if ((raw_files ? blocksdir_open_raw : blocksdir_open)(blocks_path, net, &bd, &info, &err)) {
        keys_secret_free(sk);
        return cli_fail("replay", &err);
    }
    report_skips(bd, stderr, (size_t)-1, "chainwatch: replay: skipped ");
    char tip_hex[65] = "none";
    if (info.best_height >= 0)
        cw_hex_encode_rev(info.tip, 32, tip_hex);
    fprintf(stderr, "chainwatch: replay: %zu files, %zu blocks%s, best chain %lld..%lld, %zu stale, %zu orphans, "
                    "%zu skipped, %zu duplicates, tip %s\n",
            info.files, info.records, raw_files ? "" : info.obfuscated ? " (xor-obfuscated)" : " (plain)",
            (long long)info.first_height, (long long)info.best_height, info.stale, info.orphans, info.skipped,
            info.duplicates, tip_hex);
    if (info.best_height < 0) {
        fprintf(stderr, "chainwatch: replay: %s holds no chain (every block's parent is missing)\n", blocks_path);
        blocksdir_close(bd);
        keys_secret_free(sk);
        return info.skipped ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    if (info.gaps) {
        /* a missing parent in the middle of the run: replaying the best
         * chain alone would drop the rest without a word */
        const char *g = blocksdir_gaps(bd);
        for (const char *nl; (nl = strchr(g, '\n')) != NULL; g = nl + 1)
            fprintf(stderr, "chainwatch: replay: %s%.*s\n", allow_gaps ? "left out (--allow-gaps): " : "gap: ",
                    (int)(nl - g), g);
        if (!allow_gaps) {
            fprintf(stderr, "chainwatch: replay: %s is not one chain: %zu blocks sit behind %zu missing parents "
                            "(above); add the missing blocks, or pass --allow-gaps to replay only heights %lld..%lld\n",
                    blocks_path, info.gap_blocks, info.gaps, (long long)info.first_height, (long long)info.best_height);
            blocksdir_close(bd);
            keys_secret_free(sk);
            return CLI_EXIT_USAGE;
        }
    }
    cli_stop_install();

    cw_store *store = NULL;
    alert_sink sink = {.fd = -1};
    pipeline *p = NULL;
    int rc = CLI_EXIT_FAIL;
    cw_buf blk = CW_BUF_INIT;
    if ((from >= 0 && (from < info.first_height || from > info.best_height)) || (to >= 0 && to < info.first_height)) {
        fprintf(stderr, "chainwatch: replay: heights %lld..%lld are outside the chain in %s (%lld..%lld)\n",
                (long long)(from >= 0 ? from : info.first_height), (long long)(to >= 0 ? to : info.best_height),
                blocks_path, (long long)info.first_height, (long long)info.best_height);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (to < 0 || to > info.best_height)
        to = info.best_height;
    if (no_state) {
        if (from < 0)
            from = info.first_height;
        pr.to = to;
        for (int64_t h = from; h <= to; h++)
            pr.bytes_total += blocksdir_size_at(bd, h);
        rc = parse_only(bd, &info, net, from, to, &pr);
        goto out;
    }
    char alerts_default[4200];
    snprintf(alerts_default, sizeof alerts_default, "%s/alerts.jsonl", datadir);
    if (store_open(datadir, 0, false, &store, &err) || alert_sink_open(&sink, alerts ? alerts : alerts_default, &err) ||
        (pub && alert_sink_bind_pub(&sink, pub, &err))) {
        rc = cli_fail("replay", &err);
        goto out;
    }
    if (flows_opts_load(&fo, net, &err)) {
        rc = cli_fail("replay", &err);
        goto out;
    }
    if (rules_opts_load(&ro, fo.labels, fo.cfg.enabled, &err)) {
        rc = err.code == CW_EARG || err.code == CW_EFORMAT ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
        fprintf(stderr, "chainwatch: replay: %s\n", err.msg);
        goto out;
    }
    char flows_line[512];
    flows_opts_describe(&fo, flows_line, sizeof flows_line);
    fprintf(stderr, "chainwatch: replay: %s\n", flows_line);
    rules_opts_describe(&ro, flows_line, sizeof flows_line);
    fprintf(stderr, "chainwatch: replay: %s\n", flows_line);
    pipeline_config pc = {.store = store, .net = net, .sk = sk, .sink = alert_sink_line, .durable = alert_sink_durable,
                          .sink_ctx = &sink, .start_height = -1, .flows = flows_opts_config(&fo),
                          .rules = rules_opts_config(&ro)};
    if (pipeline_open(&pc, &p, &err)) {
        rc = cli_fail("replay", &err);
        goto out;
    }
    /* records a crash left in the outbox go out first, minus what the file has */
    alert_sink_load_tail(&sink);
    pipeline_flush(p, &err);
    alert_sink_drop_tail(&sink);
    /* where to start: after our tip, which must be on this chain */
    store_txn *t;
    chaindb_tip tip = {0};
    cw_code trc = store_begin(store, false, &t, &err);
    if (trc == CW_OK) {
        trc = chaindb_get_tip(t, &tip, &err);
        store_abort(t);
    }
    if (trc) { /* an unread tip is no empty datadir: starting over would record every block again */
        rc = cli_fail("replay", &err);
        goto out;
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
        from = info.first_height;
    pr.to = to;
    for (int64_t h = from; h <= to; h++)
        pr.bytes_total += blocksdir_size_at(bd, h);
    rc = CLI_EXIT_OK;
    int64_t bad_height = -1; /* a block that failed: the good ones before it in its batch are redone and kept */
    cw_err bad_err = {0};
    int64_t batch_start = from;
    replay_batch b = {.bd = bd, .blk = &blk, .pr = &pr, .to = to, .batch_txs = batch_txs};
    while (batch_start <= b.to) {
        b.start = b.h = batch_start;
        b.bytes0 = pr.bytes_done;
        /* The batch is one write transaction across many blocks: a full map
         * aborts it whole, and pipeline_batch's store_write (the one place
         * that grows the map) calls replay_blocks again to redo it from
         * its first block. */
        cw_code crc = pipeline_batch(p, replay_blocks, &b, &err);
        int64_t h = b.h;
        /* A block whose bytes fail (not the store): the blocks before it in
         * its batch are good. Redo the batch without it and commit that,
         * then stop and name the block. */
        bool bad_block = crc == CW_EIO || crc == CW_ETRUNC || crc == CW_EFORMAT || crc == CW_ELIMIT ||
                         crc == CW_ECHECKSUM;
        if (bad_block && bad_height < 0) {
            bad_height = h, bad_err = err;
            if (h == batch_start)
                break;
            b.to = h - 1;
            continue;
        }
        if (crc) {
            if (bad_height >= 0) /* the redo failed too: both are to fix */
                fprintf(stderr, "%schainwatch: replay: height %lld: %s\n", pr.tty ? "\n" : "", (long long)bad_height,
                        bad_err.msg);
            bad_height = -1;
            fprintf(stderr, "%schainwatch: replay: height %lld: %s\n", pr.tty ? "\n" : "", (long long)h, err.msg);
            if (store_error_stops(crc))
                fprintf(stderr, "chainwatch: replay: nothing from height %lld on was recorded; fix the store and run "
                                "replay again: it continues from the datadir's tip\n", (long long)batch_start);
            rc = cli_exit_status(crc); /* 3 for the store's errors */
            break;
        }
        batch_start = h + 1;
        if (cli_stop_requested())
            break;
    }
    if (pr.tty)
        fputc('\n', stderr);
    if (bad_height >= 0) {
        char hx[65] = "?", where[300] = "";
        uint8_t bh[32];
        uint64_t off;
        const char *file = blocksdir_file_at(bd, bad_height, &off);
        if (blocksdir_hash_at(bd, bad_height, bh))
            cw_hex_encode_rev(bh, 32, hx);
        if (file && !raw_files)
            snprintf(where, sizeof where, ", %s byte %llu", file, (unsigned long long)off);
        else if (file)
            snprintf(where, sizeof where, ", %s", file);
        fprintf(stderr, "chainwatch: replay: height %lld (block %s%s): %s\n", (long long)bad_height, hx, where,
                bad_err.msg);
        fprintf(stderr, "chainwatch: replay: the blocks before it are recorded; replace this block (a node's "
                        "-reindex rewrites its files) and run replay again: it continues from the datadir's tip\n");
        rc = CLI_EXIT_FAIL;
    }
    pipeline_stats st;
    pipeline_stats_get(p, &st);
    summary(blocks_path, datadir, from, &st, &pr, cli_stop_requested(), bd, &info);
    if (rc == CLI_EXIT_OK && cli_stop_requested())
        rc = 130; /* as a shell reports SIGINT */
    if (rc == CLI_EXIT_OK && (info.skipped || info.gap_blocks))
        rc = CLI_EXIT_USAGE; /* everything readable was replayed, but not everything was readable (or replayable) */
out:
    cw_buf_free(&blk);
    pipeline_close(p);
    keys_secret_free(sk);
    alert_sink_close(&sink);
    store_close(store);
    blocksdir_close(bd);
    flows_opts_free(&fo);
    rules_opts_free(&ro);
    return rc;
}
