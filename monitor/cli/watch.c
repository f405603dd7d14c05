/*
 * `chainwatch watch`: the monitor. Bitcoin Core's ZeroMQ feeds in, signed
 * alert records out (a JSON-lines file or stdout, and a ZeroMQ PUB socket).
 *
 * Options come from <datadir>/chainwatch.conf (INI, the same names without
 * the dashes) and then from flags, which win. Endpoint names are Bitcoin
 * Core's, so the lines can be copied from bitcoin.conf.
 *
 * Each event goes to the pipeline through feed_dispatch (feed_dispatch.h),
 * the function `replay --capture` uses too; --record taps the feed before
 * its checks, so the capture holds what the sockets delivered, bad
 * messages included, in the order they were handled.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "monitor/sources/capture.h"
#include "chains/hex.h"
#include "cli.h"
#include "stop.h"
#include "monitor/api/status.h"
#include "monitor/sources/feed_dispatch.h"
#include "monitor/sources/feed_zmq.h"
#include "monitor/records/keys.h"
#include "monitor/engine/pipeline.h"
#include "monitor/sources/rest.h"
#include "account_run.h"
#include "args_flows.h"
#include "args_rules.h"
#include "conf.h"
#include "monitor/records/sink.h"
#include "monitor/records/webhook.h"
#include "watchlists/store/store.h"

static const char usage[] =
    "usage: chainwatch watch [--zmqpubrawtx=EP] [--zmqpubrawblock=EP] [--zmqpubsequence=EP]\n"
    "                        [--rest=http://127.0.0.1:8332] [--alerts=FILE|-] [--pub=EP]\n"
    "                        [--network main|test|testnet4|signet|regtest] [--datadir D]\n"
    "                        [--start-height H] [--rcvhwm N] [--status-interval SECS]\n"
    "                        [--log-level error|warn|info|debug] [--config FILE]\n"
    "                        [--record FILE]\n"
    "\n"
    "Subscribes to a Bitcoin node's ZeroMQ feeds and writes a signed alert record\n"
    "for every payment to or from a designated address: when it enters the mempool\n"
    "(status mempool), when it confirms (confirmed, same id), and if its block is\n"
    "reorganised away (reorged). Gaps and node restarts in the feed are recorded as\n"
    "feed_gap records. With --rest (the node's -rest=1 interface) chainwatch fetches\n"
    "blocks it missed and follows reorgs; at start it catches up from its last block\n"
    "(or from --start-height on an empty datadir), a progress line every\n"
    "--status-interval.\n"
    "\n"
    "--record FILE appends every message the feed receives (bad ones too), with\n"
    "its arrival time, to a capture file (written as received, synced every\n"
    "second); 'chainwatch replay --capture FILE' runs it through this same code.\n"
    "With --chain tron it records the queue's triggers and the HTTP replies used;\n"
    "with --chain ethereum every JSON-RPC exchange; both after a settings record\n"
    "of the options that decide the records, which the replay uses (docs/capture.md).\n"
    "\n"
    "Defaults: --alerts <datadir>/alerts.jsonl, --network main, --status-interval 60\n"
    "(seconds, or with s, m, h; 0 is off). Numbers are whole, with no sign: a\n"
    "value like 'abc' or '10x' is refused, in flags and chainwatch.conf alike.\n"
    "Run 'chainwatch init' and import a watchlist first. SIGINT/SIGTERM stop it\n"
    "cleanly; records are committed with their block and survive any crash.\n"
    "\n"
    "Exit status: 0 stopped by SIGINT/SIGTERM; 1 a failure that is not the\n"
    "store's (the signing key, the alerts file, the feed, the node's chain);\n"
    "2 a usage error; 3 a store error: the store could not be opened, read or\n"
    "written, or is damaged (it stops without committing the message), also\n"
    "while it stops (the final flush of the outbox).\n"
    "\n"
    "Options; each but --datadir and --config is also a line of chainwatch.conf,\n"
    "'name = value' (up to 1 MiB in all; flags win over the file). Lines under\n"
    "[bitcoin], [ethereum] or [tron] are that chain's watch's alone and win over\n"
    "the same option above the sections; [rules] is a heading; an option given\n"
    "twice in one scope, or another section, is refused. An option for another\n"
    "--chain (as its help says) is refused as a flag; above the sections it is\n"
    "left unused with a warning, so one file can serve several chains' watches:\n";

typedef struct {
    const char *datadir;
    char datadir_buf[4096];
    const char *endpoint[FEED_TOPIC_COUNT];
    const char *rest, *alerts, *pub, *network, *config, *record;
    int log_level; /* index in log_levels */
    int64_t start_height, rcvhwm;
    uint64_t status_interval;
    flows_opts flows;
    rules_opts rules;
    const char *api; /* --api HOST:PORT: the HTTP API in this process */
    cli_api_opts api_opts;
    cli_arg api_args[7];
    cli_webhook_opts hooks; /* --webhook URL: the outbox delivered by this process */
    cli_arg hook_args[4];
    int chain;                 /* index in watch_chains */
    const char *rpc, *tokens;  /* --chain ethereum */
    const char *zmq_tron, *tron_http; /* --chain tron */
    int64_t rpc_rate, confirmations, poll_ms, max_reorg;
    bool finalized;
    int64_t nice; /* --nice N, --cpu-idle: a catch-up beside a screening API */
    bool cpu_idle;
    cli_conf conf; /* chainwatch.conf: the table's strings from it point into it */
    cli_arg args[32];
} watch_opts;

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const watch_chains[] = {"bitcoin", "ethereum", "tron", NULL};

/* Every option is a flag and, but for --datadir and --config (the file is
 * found through them), a chainwatch.conf key of the same name. */
static void watch_args(watch_opts *o)
{
    const cli_arg t[] = {
        {"zmqpubrawtx", ARG_STRING, &o->endpoint[FEED_RAWTX], .metavar = "EP",
         .help = "the node's ZeroMQ endpoints, as in bitcoin.conf\n(tcp://127.0.0.1:28332); at least one", .from = ARG_CONF},
        {"zmqpubrawblock", ARG_STRING, &o->endpoint[FEED_RAWBLOCK], .metavar = "EP", .help = "", .from = ARG_CONF},
        {"zmqpubsequence", ARG_STRING, &o->endpoint[FEED_SEQUENCE], .metavar = "EP", .help = "", .from = ARG_CONF},
        {"rest", ARG_STRING, &o->rest, .metavar = "URL",
         .help = "the node's REST interface (bitcoind -rest=1), to fetch\nmissed blocks and follow reorgs", .from = ARG_CONF},
        {"alerts", ARG_PATH, &o->alerts, .metavar = "FILE|-",
         .help = "where records go (default <datadir>/alerts.jsonl)", .from = ARG_CONF},
        {"pub", ARG_STRING, &o->pub, .metavar = "EP", .help = "also publish records on this ZeroMQ endpoint",
         .from = ARG_CONF},
        {"network", ARG_STRING, &o->network, .metavar = "NET",
         .help = "--chain bitcoin: main (default), test, testnet4, signet or\nregtest (ethereum, tron: the node's chain id names it)",
         .from = ARG_CONF},
        {"datadir", ARG_PATH, &o->datadir, .metavar = "D", .help = "default ~/.chainwatch"},
        {"config", ARG_PATH, &o->config, .metavar = "FILE", .help = "default <datadir>/chainwatch.conf"},
        {"start-height", ARG_INT, &o->start_height, 0, INT32_MAX, .metavar = "H",
         .help = "where an empty datadir starts (with --rest)", .from = ARG_CONF},
        {"rcvhwm", ARG_INT, &o->rcvhwm, 0, INT32_MAX, .metavar = "N",
         .help = "--chain bitcoin, tron: the feed's ZeroMQ receive high-water\nmark in messages (0: the default, 100000)", .from = ARG_CONF},
        {"status-interval", ARG_SECONDS, &o->status_interval, 0, INT32_MAX, .metavar = "SECS",
         .help = "a status line this often (default 60; 0 is off)", .from = ARG_CONF},
        {"log-level", ARG_ENUM, &o->log_level, .choices = log_levels, .metavar = "LEVEL",
         .help = "error, warn, info (default) or debug", .from = ARG_CONF},
        {"record", ARG_PATH, &o->record, .metavar = "FILE", .help = "append every message received to a capture",
         .from = ARG_CONF},
        {.kind = ARG_MORE, .dest = o->flows.args, .help = "Clusters and exposure (on by default):"},
        {"api", ARG_STRING, &o->api, .metavar = "HOST:PORT",
         .help = "also serve the HTTP API here, in this process (as\nchainwatch serve: reads the store while watch writes it)",
         .from = ARG_CONF},
        {.kind = ARG_MORE, .dest = o->api_args, .help = "The HTTP API (with --api):"},
        {"chain", ARG_ENUM, &o->chain, .choices = watch_chains, .metavar = "CHAIN",
         .help = "bitcoin (default: the ZeroMQ feeds above), ethereum\n(a node's JSON-RPC, --rpc) or tron (--zmqpubtron, --tron-http)",
         .from = ARG_CONF},
        {"zmqpubtron", ARG_STRING, &o->zmq_tron, .metavar = "EP",
         .help = "--chain tron: java-tron's native queue\n(event.subscribe.native bindport: tcp://127.0.0.1:5555)",
         .from = ARG_CONF},
        {"tron-http", ARG_STRING, &o->tron_http, .metavar = "URL",
         .help = "--chain tron: java-tron's HTTP API (http://127.0.0.1:8090):\nevery start and every gap is read there",
         .from = ARG_CONF},
        {"rpc", ARG_STRING, &o->rpc, .metavar = "URL",
         .help = "--chain ethereum: the node's HTTP JSON-RPC (http://127.0.0.1:8545)", .from = ARG_CONF},
        {"rpc-rate", ARG_INT, &o->rpc_rate, 0, 100000, .metavar = "N",
         .help = "--chain ethereum: at most N requests a second to the node\n(0: no limit, the default)", .from = ARG_CONF},
        {"confirmations", ARG_INT, &o->confirmations, 1, 10000, .metavar = "N",
         .help = "--chain ethereum, tron: connect a block once N blocks count\nit (ethereum's default 1: the head)", .from = ARG_CONF},
        {"finalized", ARG_FLAG, &o->finalized,
         .help = "--chain ethereum: connect blocks up to the node's finalized\ntag; tron (its default): up to the solidified block", .from = ARG_CONF},
        {"poll-ms", ARG_INT, &o->poll_ms, 10, 600000, .metavar = "MS",
         .help = "--chain ethereum: ask the node every MS milliseconds (default\n1000); tron: wait on its queue MS at a time (default 200)", .from = ARG_CONF},
        {"tokens", ARG_PATH, &o->tokens, .metavar = "FILE",
         .help = "--chain ethereum, tron: more known tokens\n(chain,token,contract_address,decimals)", .from = ARG_CONF},
        {.kind = ARG_MORE, .dest = o->rules.args, .help = "Pattern rules (on by default; docs/rules.md):"},
        {"max-reorg", ARG_INT, &o->max_reorg, 1, 100000, .metavar = "N",
         .help = "--chain ethereum, tron: the deepest reorg followed (default 64); a\nnode whose chain forks deeper, or never links, stops watch",
         .from = ARG_CONF},
        {"nice", ARG_INT, &o->nice, 0, 19, .metavar = "N",
         .help = "lower watch's CPU priority by N (as nice -n N), e.g. for a long\ncatch-up beside 'chainwatch serve' "
                 "(README, API);\nnot with --api", .from = ARG_CONF},
        {"cpu-idle", ARG_FLAG, &o->cpu_idle,
         .help = "run only on CPU time nothing else wants (Linux SCHED_IDLE,\nyielding every 50 us of work); a busy "
                 "machine can then hold\nwatch back "
                 "without limit,\nand store writers beside it (serve's case decisions, its\nwebhooks) wait while it "
                 "holds the write lock: for a\ncatch-up, not for following the tip; not with --api",
         .from = ARG_CONF},
        {.kind = ARG_MORE, .dest = o->hook_args, .help = "Webhooks (the hold queue's events, as serve --webhook):"},
        {0},
    };
    _Static_assert(sizeof t / sizeof *t == sizeof o->args / sizeof *o->args, "watch_opts.args fits the table");
    o->api_opts = (cli_api_opts)CLI_API_OPTS_INIT;
    cli_api_table(&o->api_opts, o->api_args);
    o->hooks = (cli_webhook_opts)CLI_WEBHOOK_OPTS_INIT;
    cli_webhook_table(&o->hooks, o->hook_args);
    memcpy(o->args, t, sizeof t);
}

/* The options of some chains only (bit i: watch_chains[i]); the others
 * are every chain's. */
static const struct {
    const char *name;
    unsigned chains;
} chain_only[] = {
    {"zmqpubrawtx", 1u},   {"zmqpubrawblock", 1u}, {"zmqpubsequence", 1u}, {"rest", 1u},
    {"rpc", 2u},           {"rpc-rate", 2u},       {"zmqpubtron", 4u},     {"tron-http", 4u},
    {"confirmations", 6u}, {"finalized", 6u},      {"poll-ms", 6u},        {"tokens", 6u},
    {"max-reorg", 6u},     {"network", 1u},        {"rcvhwm", 5u},
    /* the API in watch's process, and the cluster options that only
     * common-input clusters use, are Bitcoin's watch's (beside an account
     * chain's watch, `chainwatch serve` reads the same store) */
    {"api", 1u},           {"allow-remote", 1u},   {"api-threads", 1u},    {"api-max-body", 1u},
    {"api-timeout", 1u},   {"api-reply-rate", 1u}, {"api-rate", 1u},       {"watch", 1u},
    {"cluster-limit", 1u}, {"payjoin-guard", 1u},  {"min-exposure-amount", 1u},
    /* the rules' amounts in a chain's own coin; the account rules' trace */
    {"salary-min-btc", 1u}, {"salary-max-btc", 1u}, {"tiny-min-btc", 1u},   {"tiny-max-btc", 1u},
    {"rules-min-hit-btc", 1u},
    {"salary-min-eth", 2u}, {"salary-max-eth", 2u}, {"tiny-min-eth", 2u},   {"tiny-max-eth", 2u},
    {"rules-min-hit-eth", 2u},
    {"salary-min-trx", 4u}, {"salary-max-trx", 4u}, {"tiny-min-trx", 4u},   {"tiny-max-trx", 4u},
    {"rules-min-hit-trx", 4u},
    {"rules-trace-window", 6u},
};

/* The chains an option is for: its chain_only mask, or every chain's. */
static unsigned option_chains(const char *name)
{
    for (size_t k = 0; k < sizeof chain_only / sizeof *chain_only; k++)
        if (strcmp(name, chain_only[k].name) == 0)
            return chain_only[k].chains;
    return ~0u;
}

static int log_level = 2; /* 0 error, 1 warn, 2 info, 3 debug */

static void logf_(int level, const char *fmt, ...)
{
    if (level > log_level)
        return;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    fprintf(stderr, "%s %s: ", ts, names[level]);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- options ---- */

/* "bitcoin", "ethereum and tron": the chains of a chain_only mask. */
static const char *chains_named(unsigned mask, char *out, size_t cap)
{
    out[0] = '\0';
    for (int c = 0; watch_chains[c]; c++)
        if (mask & (1u << c))
            snprintf(out + strlen(out), cap - strlen(out), "%s%s", *out ? " and " : "", watch_chains[c]);
    return out;
}

static int conf_refused(const char *path, unsigned long line, const char *why)
{
    char q[128];
    fprintf(stderr, "chainwatch: watch: %s: line %lu: cannot use this line: %s\n", cli_quote(path, q, sizeof q), line,
            why);
    return CLI_EXIT_USAGE;
}

/* One line through the option table (stored when store): CLI_EXIT_OK, or
 * CLI_EXIT_USAGE after one line naming the file and the line. */
static int conf_take(const char *path, const cli_conf_line *l, watch_opts *o, bool store)
{
    char why[CW_ERR_MSG_MAX + 64], q[128];
    int r = store ? cli_args_set_conf(o->args, l->name, l->value, why, sizeof why)
                  : cli_args_check_conf(o->args, l->name, l->value, why, sizeof why);
    if (r < 0) {
        fprintf(stderr, "chainwatch: watch: config: %s (%s line %lu)\n", why, cli_quote(path, q, sizeof q), l->line);
        return CLI_EXIT_USAGE;
    }
    return r == 0 ? conf_refused(path, l->line, why) : CLI_EXIT_OK;
}

/* chainwatch.conf (conf.h): every line is checked first, in the file's
 * order, every chain's section included, so a typo under [tron] stops a
 * Bitcoin watch as it would a Tron one: its name, its value's syntax and
 * range (args.h), and under a chain's section that the option is that
 * chain's (chain_only) and not chain itself. What depends on the chain
 * watched (a network's name, the rules' amounts together) is checked by
 * that chain's watch. Then the lines outside the chains' sections are
 * used, chain among them, and then the watched chain's section, whose
 * lines win over those. CLI_EXIT_OK, or CLI_EXIT_USAGE after one line
 * naming the file, the line and why (CLI_EXIT_FAIL out of memory). */
static int conf_apply(const char *path, watch_opts *o)
{
    cw_err err = {0};
    cw_code code = cli_conf_read(path, watch_chains, &o->conf, &err);
    if (code != CW_OK) {
        fprintf(stderr, "chainwatch: watch: %s\n", err.msg);
        return code == CW_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    char why[160], chains[40];
    for (size_t i = 0; i < o->conf.n; i++) {
        const cli_conf_line *l = &o->conf.lines[i];
        if (l->chain != CLI_CONF_EVERY_CHAIN) {
            const char *section = watch_chains[l->chain];
            if (strcmp(l->name, "chain") == 0) {
                snprintf(why, sizeof why, "chain cannot be set under [%s]: a chain's section is read by that chain's "
                         "watch only (set chain above the sections, or pass --chain)", section);
                return conf_refused(path, l->line, why);
            }
            unsigned for_chains = option_chains(l->name);
            if (!(for_chains & (1u << l->chain))) {
                snprintf(why, sizeof why, "%s is for --chain %s, so not a line for [%s]", l->name,
                         chains_named(for_chains, chains, sizeof chains), section);
                return conf_refused(path, l->line, why);
            }
        }
        int rc = conf_take(path, l, o, false);
        if (rc)
            return rc;
    }
    /* chain first (the flag's, else the line's), then the lines above the
     * sections but another chain's options (other_chains_options names
     * them), then the chain's own section */
    for (int pass = 0; pass < 3; pass++)
        for (size_t i = 0; i < o->conf.n; i++) {
            const cli_conf_line *l = &o->conf.lines[i];
            bool chain_line = strcmp(l->name, "chain") == 0;
            if (pass == 0 ? l->chain != CLI_CONF_EVERY_CHAIN || !chain_line
                : pass == 1 ? l->chain != CLI_CONF_EVERY_CHAIN || chain_line || !(option_chains(l->name) & (1u << o->chain))
                            : l->chain != o->chain)
                continue;
            int rc = conf_take(path, l, o, true);
            if (rc)
                return rc;
        }
    return CLI_EXIT_OK;
}

/* An option that is not for the chain watched (chain_only): given as a
 * flag it is refused; a line of chainwatch.conf above the sections was
 * not used (conf_apply) and is named here in a warning, so one file can
 * serve the watches of several chains (finalized = true for Tron does not
 * stop a Bitcoin watch, an api line for Bitcoin's does not reach a Tron
 * watch). CLI_EXIT_OK, or CLI_EXIT_USAGE after one line. */
static int other_chains_options(const watch_opts *o, const char *conf_path)
{
    const char *chain = watch_chains[o->chain];
    char chains[40], q[128];
    for (size_t i = 0; i < sizeof chain_only / sizeof *chain_only; i++) /* the refusals first: nothing logged before one */
        if (!(chain_only[i].chains & (1u << o->chain)) && cli_args_given(o->args, chain_only[i].name)) {
            fprintf(stderr, "chainwatch: watch: --%s is for --chain %s, not %s\n", chain_only[i].name,
                    chains_named(chain_only[i].chains, chains, sizeof chains), chain);
            return CLI_EXIT_USAGE;
        }
    for (size_t k = 0; k < o->conf.n; k++) { /* each name once above the sections (conf.h refuses a repeat) */
        const cli_conf_line *l = &o->conf.lines[k];
        unsigned for_chains = option_chains(l->name);
        if (l->chain == CLI_CONF_EVERY_CHAIN && !(for_chains & (1u << o->chain)))
            logf_(1, "%s: %s is for --chain %s; not used by a%s %s watch", cli_quote(conf_path, q, sizeof q), l->name,
                  chains_named(for_chains, chains, sizeof chains), o->chain == 1 ? "n" : "", chain);
    }
    return CLI_EXIT_OK;
}

/* ---- the loop ---- */

static void status_line(const pipeline *p, const feed *f, webhook_runner *hooks, double elapsed, uint64_t *last_txs)
{
    pipeline_stats ps;
    feed_stats fs;
    pipeline_stats_get(p, &ps);
    feed_stats_get(f, &fs);
    uint64_t gaps = fs.gaps[0] + fs.gaps[1] + fs.gaps[2];
    double rate = elapsed > 0 ? (double)(ps.txs - *last_txs) / elapsed : 0;
    *last_txs = ps.txs;
    char lag[32] = "?";
    if (ps.node_height >= 0 && ps.tip_height >= 0)
        snprintf(lag, sizeof lag, "%lld", (long long)(ps.node_height - ps.tip_height));
    char wh[CW_ERR_MSG_MAX + 128];
    bool hooks_failing = webhook_runner_describe(hooks, wh, sizeof wh);
    logf_(hooks_failing ? 1 : 2,
          "status: %.1f tx/s, tip %lld, blocks +%llu -%llu, alerts %llu, gaps %llu, bad frames %llu, lag %s blocks%s",
          rate, (long long)ps.tip_height, (unsigned long long)ps.blocks_connected,
          (unsigned long long)ps.blocks_disconnected, (unsigned long long)ps.alerts, (unsigned long long)gaps,
          (unsigned long long)fs.bad, lag, wh);
}

/* A catch-up from the node (pipeline_sync, at start and after a gap) can
 * take hours: a line every --status-interval while it connects blocks (the
 * main loop's status lines wait for it), and after the start's catch-up a
 * line saying what it did. */
typedef struct {
    uint64_t interval;   /* seconds between lines; 0: none */
    double began, last;  /* cli_seconds(): this catch-up's start, its last line */
    int64_t from, connected, node_height;
} catch_up;

static void on_catch_up(void *ctx, int64_t from, int64_t connected, int64_t node_height)
{
    catch_up *c = ctx;
    double now = cli_seconds();
    if (connected < from) { /* a catch-up begins */
        c->began = c->last = now;
        c->from = from;
    }
    c->connected = connected, c->node_height = node_height;
    if (c->interval == 0 || now - c->last < (double)c->interval || connected < from)
        return;
    c->last = now;
    double rate = (double)(connected - from + 1) / (now - c->began + 1e-9);
    double left = (double)(node_height - connected) / rate;
    if (left > 359999) /* shown as 99:59:59: the cast below stays defined */
        left = 359999;
    logf_(2, "catching up: block %lld of %lld, %.1f blocks/s, about %02d:%02d:%02d left", (long long)connected,
          (long long)node_height, rate, (int)(left / 3600), (int)(left / 60) % 60, (int)left % 60);
}

static void log_event(void *ctx, feed_log_level level, const char *line)
{
    (void)ctx;
    logf_((int)level, "%s", line);
}

/* --record: the feed's tap. A capture that cannot be written stops the
 * recording, never the monitoring: alerts matter more than the file. */
typedef struct {
    capture_writer *w;
    const char *path;
    double last_sync; /* cli_seconds() */
} recorder;

static void recorder_fail(recorder *r, const cw_err *err)
{
    logf_(0, "recording to %s: %s; recording stopped after %llu messages (watching goes on)", r->path, err->msg,
          (unsigned long long)capture_writer_count(r->w));
    capture_writer_close(r->w, NULL);
    r->w = NULL;
}

/* Makes what was recorded durable at least once a second. */
static void recorder_sync(recorder *r, bool force)
{
    double now = cli_seconds();
    if (r->w == NULL || !capture_writer_dirty(r->w) || (!force && now - r->last_sync < 1.0))
        return;
    cw_err err = {0};
    if (capture_writer_sync(r->w, &err))
        recorder_fail(r, &err);
    r->last_sync = now;
}

static void record_message(void *ctx, const feed_message *m)
{
    recorder *r = ctx;
    if (r->w == NULL)
        return;
    cw_err err = {0};
    if (capture_write(r->w, m, &err))
        recorder_fail(r, &err);
    else
        recorder_sync(r, false);
}

/* watch --chain tron (java-tron's native queue and HTTP API) or ethereum
 * (the node's JSON-RPC): the chain's options checked (other chains'
 * were, by other_chains_options), --finalized or
 * --confirmations, the flow and rule options loaded
 * (rules_opts_load_account), then account_run_watch (account_run.c). The exit code; the
 * caller frees o's options. */
static int watch_account_chain(watch_opts *o)
{
    bool tron = o->chain == 2;
    if (tron && (o->zmq_tron == NULL || o->tron_http == NULL)) {
        fprintf(stderr, "chainwatch: watch: --chain tron needs --zmqpubtron=tcp://127.0.0.1:5555 (java-tron's native "
                        "queue) and --tron-http=http://127.0.0.1:8090 (its HTTP API)\n");
        return CLI_EXIT_USAGE;
    }
    if (!tron && o->rpc == NULL) {
        fprintf(stderr, "chainwatch: watch: --chain ethereum needs --rpc http://127.0.0.1:8545 (the node's JSON-RPC)\n");
        return CLI_EXIT_USAGE;
    }
    /* --finalized and --confirmations exclude each other. A flag wins over
     * chainwatch.conf (args.h), so only the two from the same place are
     * refused; one on the command line and the other in the file: the
     * command line's is taken, the file's left unused */
    if (o->finalized && cli_args_chosen(o->args, "confirmations")) {
        bool fin_flag = cli_args_given(o->args, "finalized"), conf_flag = cli_args_given(o->args, "confirmations");
        if (fin_flag == conf_flag) {
            fprintf(stderr, "chainwatch: watch: --finalized and --confirmations%s: give one of them\n",
                    fin_flag ? "" : " (both in chainwatch.conf)");
            return CLI_EXIT_USAGE;
        }
        if (fin_flag)
            o->confirmations = 1; /* the default, unused when finalized */
        else
            o->finalized = false;
    }
    int rc = rules_opts_load_account("watch", &o->rules, &o->flows);
    if (rc)
        return rc;
    const flows_config *fc = flows_opts_config(&o->flows); /* --clusters off: no exposure either */
    account_run_opts ao = {o->datadir, o->alerts, o->pub, o->rpc, o->tokens, o->rpc_rate, o->confirmations,
                           o->finalized, o->poll_ms, o->start_height, o->status_interval, -1, -1, 1,
                           fc ? fc->hops : 0, fc ? fc->labels : NULL, fc ? fc->min_share_ppm : 0,
                           fc ? fc->hold_share_ppm : 0, false, NULL, NULL, o->record, NULL,
                           rules_opts_config(&o->rules), o->max_reorg, &o->hooks, 0, 0, NULL};
    if (tron) { /* no --rpc; solidified blocks are confirmed unless --confirmations asks for the head */
        ao.rpc = NULL;
        ao.rpc_rate = 0;
        ao.finalized = o->finalized || !cli_args_chosen(o->args, "confirmations");
        ao.poll_ms = cli_args_chosen(o->args, "poll-ms") ? o->poll_ms : 200;
        ao.tron = true;
        ao.zmq_tron = o->zmq_tron;
        ao.tron_http = o->tron_http;
        ao.rcvhwm = o->rcvhwm;
    }
    ao.log_level = log_levels[o->log_level];
    return account_run_watch(&ao);
}

int cmd_watch(int argc, char **argv)
{
    watch_opts o = {0};
    catch_up cu = {0};
    api_server *api = NULL;
    webhook_runner *hooks = NULL;
    api_status api_st;
    flows_opts_init(&o.flows);
    rules_opts_init(&o.rules);
    o.start_height = -1;
    o.status_interval = 60;
    o.log_level = 2;
    o.confirmations = 1;
    o.poll_ms = 1000;
    watch_args(&o);
    int help_rc;
    if (cli_args_help(argc, argv, false, usage, o.args, &help_rc))
        return help_rc;
    int n_pos;
    int rc = cli_args_parse("watch", o.args, argc, argv, NULL, 0, &n_pos);
    if (rc)
        return rc;
    if (o.datadir == NULL && store_default_datadir(o.datadir_buf, sizeof o.datadir_buf))
        o.datadir = o.datadir_buf;
    if (o.datadir == NULL) {
        fprintf(stderr, "chainwatch: watch: HOME is not set: pass --datadir\n");
        return CLI_EXIT_USAGE;
    }
    char conf[4200];
    snprintf(conf, sizeof conf, "%s/chainwatch.conf", o.datadir);
    const char *conf_path = o.config ? o.config : conf;
    if (access(conf_path, R_OK) == 0) {
        rc = conf_apply(conf_path, &o);
    } else if (o.config) {
        fprintf(stderr, "chainwatch: watch: cannot read %s: %s\n", o.config, strerror(errno));
        rc = CLI_EXIT_USAGE;
    }
    log_level = o.log_level;
    /* another chain's options first: --network foo on a Tron watch is for
     * Bitcoin, before it is an unknown network */
    if (rc == CLI_EXIT_OK)
        rc = other_chains_options(&o, conf_path);
    cw_net net = CW_NET_MAIN;
    if (rc == CLI_EXIT_OK && o.chain == 0 && o.network && !cw_net_from_name(o.network, &net)) {
        fprintf(stderr, "chainwatch: watch: unknown network '%s'\n", o.network);
        rc = CLI_EXIT_USAGE;
    }
    if (rc == CLI_EXIT_OK && o.hooks.url && !webhook_url_valid(o.hooks.url)) {
        fprintf(stderr, "chainwatch: watch: --webhook: not an http:// or https:// URL (at most 400 bytes)\n");
        rc = CLI_EXIT_USAGE;
    }
    if (rc == CLI_EXIT_OK && (o.nice > 0 || o.cpu_idle) && o.api) {
        /* the API's threads would inherit the lower priority: the very
         * thing --nice is for is keeping the CPU for them */
        fprintf(stderr, "chainwatch: watch: --nice and --cpu-idle lower the whole process, --api's threads too: run "
                        "the API as 'chainwatch serve' beside it\n");
        rc = CLI_EXIT_USAGE;
    }
    if (rc == CLI_EXIT_OK)
        rc = cli_nice("watch", o.nice, o.cpu_idle); /* before any thread starts: they inherit it */
    if (rc == CLI_EXIT_OK && (o.chain == 1 || o.chain == 2)) {
        rc = watch_account_chain(&o);
        cli_conf_free(&o.conf);
        flows_opts_free(&o.flows);
        rules_opts_free(&o.rules);
        return rc;
    }
    if (rc == CLI_EXIT_OK && !o.endpoint[0] && !o.endpoint[1] && !o.endpoint[2]) {
        fprintf(stderr, "chainwatch: watch: no feed: pass --zmqpubrawtx=tcp://127.0.0.1:28332 (and rawblock, sequence)\n");
        rc = CLI_EXIT_USAGE;
    }
    if (rc) {
        cli_conf_free(&o.conf);
        return rc;
    }

    cw_err err = {0};
    recorder rec = {NULL, o.record, 0}; /* --record */
    uint8_t *sk = NULL; /* keys_secret_free at out */
    cw_store *store = NULL;
    rest_client *rest = NULL;
    feed *f = NULL;
    pipeline *p = NULL;
    alert_sink sk_out = {.fd = -1};
    rc = CLI_EXIT_FAIL;
    if ((sk = keys_secret_open(o.datadir, &err)) == NULL) {
        cli_fail("watch", &err);
        fprintf(stderr, "chainwatch: watch: run 'chainwatch init --datadir %s' first\n", o.datadir);
        goto out;
    }
    if (store_open(o.datadir, 0, false, &store, &err)) {
        rc = cli_fail("watch", &err);
        goto out;
    }
    char alerts_default[4200];
    snprintf(alerts_default, sizeof alerts_default, "%s/alerts.jsonl", o.datadir);
    const char *alerts = o.alerts ? o.alerts : alerts_default;
    if (alert_sink_open(&sk_out, alerts, &err)) {
        rc = cli_fail("watch", &err);
        goto out;
    }
    if (o.pub && alert_sink_bind_pub(&sk_out, o.pub, &err)) {
        rc = cli_fail("watch", &err);
        goto out;
    }
    if (flows_opts_load(&o.flows, net, &err)) {
        rc = cli_fail("watch", &err);
        goto out;
    }
    if (rules_opts_load(&o.rules, o.flows.labels, o.flows.cfg.enabled, &err)) {
        rc = err.code == CW_EARG || err.code == CW_EFORMAT ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
        fprintf(stderr, "chainwatch: watch: %s\n", err.msg);
        goto out;
    }
    if (o.rest && rest_open(o.rest, &rest, &err)) {
        rc = cli_fail("watch --rest", &err);
        goto out;
    }
    unsigned topics = 0;
    for (int tp = 0; tp < FEED_TOPIC_COUNT; tp++)
        topics |= o.endpoint[tp] ? 1u << tp : 0;
    if (o.record) {
        capture_open_info ci;
        struct stat rst;
        if (stat(o.record, &rst) == 0 && rst.st_size > (64 << 20)) /* every record is checked before appending */
            logf_(2, "checking the %lld MB already in %s", (long long)(rst.st_size >> 20), o.record);
        if (capture_writer_open(o.record, net, topics, &rec.w, &ci, &err)) {
            rc = cli_fail("watch --record", &err);
            goto out;
        }
        if (ci.cut_bytes)
            logf_(1, "capture %s ended in a partial record at byte %llu (%llu bytes, left by a crash): cut off",
                  o.record, (unsigned long long)ci.cut_at, (unsigned long long)ci.cut_bytes);
        rec.last_sync = cli_seconds();
    }
    feed_config fc = {{o.endpoint[0], o.endpoint[1], o.endpoint[2]}, (int)o.rcvhwm, 0, record_message, &rec};
    if (feed_open(&fc, &f, &err)) {
        rc = cli_fail("watch", &err);
        goto out;
    }
    cu.interval = o.status_interval;
    pipeline_config pc = {store, net, sk, alert_sink_line, alert_sink_durable, &sk_out, rest, o.start_height,
                          cli_stop_flag(), o.endpoint[FEED_SEQUENCE] != NULL,
                          flows_opts_config(&o.flows), rules_opts_config(&o.rules), on_catch_up, &cu};
    if (pipeline_open(&pc, &p, &err)) {
        rc = cli_fail("watch", &err);
        goto out;
    }
    cli_stop_install();
    signal(SIGPIPE, SIG_IGN);
    /* after the pipeline took the monitor lock: one watch per datadir; the
     * deliverer before the API, which reports it in /healthz */
    if (cli_webhook_start(&o.hooks, store, o.datadir, &hooks, &err)) {
        rc = cli_fail("watch --webhook", &err);
        goto out;
    }
    if (hooks)
        logf_(2, "delivering webhooks to %s", o.hooks.url);
    if (o.api) {
        api_status_init(&api_st, (int64_t)time(NULL));
        if (cli_api_start(&o.api_opts, o.api, o.datadir, store, &api_st, &o.flows, "watch", hooks, &api, &err)) {
            rc = cli_fail("watch --api", &err);
            goto out;
        }
        logf_(2, "API listening on %s (port %u)", o.api, api_server_port(api));
    }

    /* Counters saved by the last run: what came while we were down shows up
     * as a gap (or, if the node restarted, as a restart). */
    uint32_t saved[FEED_TOPIC_COUNT];
    unsigned found;
    if (feed_saved_counters(p, topics, saved, &found, &err)) {
        rc = cli_fail("watch", &err);
        goto out;
    }
    for (int tp = 0; tp < FEED_TOPIC_COUNT; tp++)
        if (found & (1u << tp))
            feed_set_last(f, (feed_topic)tp, saved[tp]);
    alert_sink_load_tail(&sk_out);
    if (pipeline_flush(p, &err))
        logf_(1,
              "flushing records left from the last run: %s (re-sent records stay checked against the file until it "
              "works)",
              err.msg);
    else
        alert_sink_drop_tail(&sk_out);
    logf_(2, "watching (%s): rawtx %s, rawblock %s, sequence %s; rest %s; alerts to %s%s%s", cw_net_name(net),
          o.endpoint[0] ? o.endpoint[0] : "-", o.endpoint[1] ? o.endpoint[1] : "-", o.endpoint[2] ? o.endpoint[2] : "-",
          o.rest ? o.rest : "none", alerts, o.record ? "; recording to " : "", o.record ? o.record : "");
    cu.from = -1;
    cw_code src = rest ? pipeline_sync(p, &err) : CW_OK;
    if (cu.from >= 0 && cu.connected >= cu.from) {
        double secs = cli_seconds() - cu.began;
        logf_(2, "%s: blocks %lld..%lld (%lld) in %.1f s, %.1f blocks/s", cu.connected < cu.node_height ?
              "catching up stopped" : "caught up", (long long)cu.from, (long long)cu.connected,
              (long long)(cu.connected - cu.from + 1), secs, (double)(cu.connected - cu.from + 1) / (secs + 1e-9));
    }
    if (store_error_stops(src)) { /* the node's errors are retried; the store's stop, as in the loop below */
        rc = cli_fail("watch: catching up with the node", &err);
        goto out;
    }
    if (src)
        logf_(1, "catching up with the node: %s (will retry on the next block)", err.msg);
    if (!rest)
        logf_(1, "no --rest: a block lost on the feed (or a reorg deeper than one block) cannot be recovered, and "
                 "confirmations stop until chainwatch runs with the node's REST interface (bitcoind -rest=1)");

    bool failed = false;
    int fail_code = CLI_EXIT_FAIL;
    bool store_stopped = false;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double last_status = (double)t0.tv_sec;
    pipeline_stats caught; /* the first status line's rate counts from here, not the catch-up's txs */
    pipeline_stats_get(p, &caught);
    uint64_t last_txs = caught.txs;
    while (!cli_stop_requested()) {
        feed_event ev;
        bool got = false;
        if (feed_next(f, 1000, &ev, &got, &err)) {
            logf_(0, "feed: %s", err.msg);
            failed = true;
            break;
        }
        if (got && api) {
            api_status_message(&api_st, (int64_t)time(NULL));
            api_status_node(&api_st, true); /* the node's feed answers */
        }
        if (got) {
            cw_code drc = feed_dispatch(p, &ev, log_event, NULL, &err);
            if (api) {
                pipeline_stats ps;
                pipeline_stats_get(p, &ps);
                api_status_counts(&api_st, ps.blocks_connected, ps.txs, (int64_t)time(NULL));
            }
            if (store_error_stops(drc)) {
                /* nothing of this message was committed: going on would
                 * screen the next ones against a store that does not answer */
                logf_(0, "stopping: the store failed (%s); nothing of %s #%u was recorded. Fix the store (chainwatch "
                         "watchlist check --datadir %s) and start watch again: with --rest it catches up from its "
                         "tip",
                      err.msg, feed_topic_name(ev.topic), ev.seq, o.datadir);
                failed = store_stopped = true;
                fail_code = cli_exit_status(drc); /* 3: a store error */
                break;
            }
        }
        else
            recorder_sync(&rec, true); /* idle: make the last messages durable now */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (o.status_interval > 0 && (double)now.tv_sec - last_status >= (double)o.status_interval) {
            status_line(p, f, hooks, (double)now.tv_sec - last_status, &last_txs);
            last_status = (double)now.tv_sec;
        }
    }
    /* The MSG held behind a last GAP was recorded already: handle it too,
     * or a replay of the capture would see one message the run did not.
     * Not after a store failure (it would be screened against a store that
     * does not answer); a store error in it stops as in the loop, or the
     * counters saved below would count it handled and a restart would
     * never screen it. */
    feed_event held;
    bool got_held = false;
    if (!store_stopped && feed_has_pending(f) && feed_next(f, 0, &held, &got_held, &err) == CW_OK && got_held) {
        cw_code hrc = feed_dispatch(p, &held, log_event, NULL, &err);
        if (store_error_stops(hrc)) {
            logf_(0, "stopping: the store failed (%s); nothing of %s #%u was recorded", err.msg,
                  feed_topic_name(held.topic), held.seq);
            failed = store_stopped = true;
            fail_code = cli_exit_status(hrc);
        }
    }
    /* a store error here is a store error too (3, as in the replays): a
     * stop request is 0 only when the store answered to the end; the
     * alerts file's failure stays a warning, as during the run (the
     * records stay in the outbox) */
    if (pipeline_flush(p, &err)) {
        logf_(store_error_stops(err.code) ? 0 : 1, "final flush: %s (the records stay in the outbox for the next start)",
              err.msg);
        if (store_error_stops(err.code) && !failed)
            failed = true, fail_code = cli_exit_status(err.code);
    }
    /* after a store failure the counters would count the failed message as handled */
    if (!store_stopped && pipeline_save_counters(p, &err)) {
        logf_(store_error_stops(err.code) ? 0 : 1, "saving the feed counters: %s", err.msg);
        if (store_error_stops(err.code) && !failed)
            failed = true, fail_code = cli_exit_status(err.code);
    }
    status_line(p, f, hooks, 0, &last_txs);
    if (rec.w) {
        cw_err cerr = {0};
        uint64_t n = capture_writer_count(rec.w);
        if (capture_writer_close(rec.w, &cerr))
            logf_(0, "recording to %s: %s", o.record, cerr.msg);
        else
            logf_(2, "recorded %llu messages to %s", (unsigned long long)n, o.record);
        rec.w = NULL;
    }
    logf_(2, "stopped");
    rc = failed ? fail_code : CLI_EXIT_OK;
out:
    api_server_free(api); /* its threads and views end before the store closes, and before the deliverer it reports */
    webhook_runner_stop(hooks); /* its thread and view end before the store closes */
    pipeline_close(p);
    keys_secret_free(sk);
    feed_close(f);
    capture_writer_close(rec.w, NULL);
    rest_close(rest);
    alert_sink_close(&sk_out);
    store_close(store);
    flows_opts_free(&o.flows);
    rules_opts_free(&o.rules);
    cli_conf_free(&o.conf);
    return rc;
}
