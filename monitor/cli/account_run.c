/*
 * account_run.c: `watch --chain ethereum` and `replay --chain ethereum`
 * (account_run.h). The node is asked, not subscribed to: watch polls it
 * every --poll-ms for new pending txs (an HTTP filter) and new blocks,
 * and a node that does not answer is asked again at the next poll (its
 * errors are logged, never a reason to stop); a store error stops it, as
 * in the Bitcoin watch.
 */
#include "account_run.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "monitor/engine/account.h"
#include "monitor/records/keys.h"
#include "monitor/records/sink.h"
#include "monitor/sources/eth_follow.h"
#include "monitor/sources/tron_follow.h"
#include "stop.h"
#include "watchlists/store/store.h"
#include "watchlists/tokens.h"

static void run_log(const char *verb, const char *level, const char *fmt, ...)
{
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    fprintf(stderr, "%s %s: %s: ", ts, level, verb);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* What watch and replay both open. */
typedef struct {
    const char *verb;
    uint8_t *sk;
    cw_store *store;
    alert_sink sink;
    eth_follow *node;
    tron_follow *tron;
    tokens_table tokens;
    bool tokens_set;
    account *a;
    char network[32];
    uint64_t chain_id;
} run_ctx;

static void run_close(run_ctx *c)
{
    account_close(c->a);
    eth_follow_close(c->node);
    tron_follow_close(c->tron);
    alert_sink_close(&c->sink);
    store_close(c->store);
    if (c->tokens_set)
        tokens_free(&c->tokens);
    keys_secret_free(c->sk);
}

/* Opens everything; CLI_EXIT_OK or the exit code after the message. */
static int run_open(run_ctx *c, const account_run_opts *o, int64_t start, bool quiet_flush)
{
    cw_err err = {0};
    char what[64];
    snprintf(what, sizeof what, "%s --chain %s", c->verb, o->tron ? "tron" : "ethereum");
    if ((c->sk = keys_secret_open(o->datadir, &err)) == NULL) {
        cli_fail(what, &err);
        fprintf(stderr, "chainwatch: %s: run 'chainwatch init --datadir %s' first\n", c->verb, o->datadir);
        return CLI_EXIT_FAIL;
    }
    if (store_open(o->datadir, 0, false, &c->store, &err))
        return cli_fail(what, &err);
    char alerts_default[4200];
    snprintf(alerts_default, sizeof alerts_default, "%s/alerts.jsonl", o->datadir);
    if (alert_sink_open(&c->sink, o->alerts ? o->alerts : alerts_default, &err) ||
        (o->pub && alert_sink_bind_pub(&c->sink, o->pub, &err)))
        return cli_fail(what, &err);
    if (tokens_init(&c->tokens, &err))
        return cli_fail(what, &err);
    c->tokens_set = true;
    if (o->tokens && tokens_load_csv(&c->tokens, o->tokens, &err))
        return cli_fail(what, &err);
    const account_source *src;
    if (o->tron) {
        feed_tron_config fc = {.endpoint = o->zmq_tron};
        tron_http_options ho = {.url = o->tron_http, .retries = 3};
        if (tron_follow_open(&fc, &ho, &c->tron, &err))
            return cli_fail(what, &err);
        if (tron_follow_chain_id(c->tron, &c->chain_id, &err)) {
            fprintf(stderr, "chainwatch: %s: cannot ask the node its chain (block 0): %s\n", c->verb, err.msg);
            return CLI_EXIT_FAIL;
        }
        tron_network_name(c->chain_id, c->network);
        src = tron_follow_source(c->tron);
    } else {
        rpc_options ro = {.url = o->rpc, .rate = (double)o->rpc_rate, .retries = 3};
        if (eth_follow_open(&ro, &c->node, &err))
            return cli_fail(what, &err);
        if (eth_follow_chain_id(c->node, &c->chain_id, &err)) {
            fprintf(stderr, "chainwatch: %s: cannot ask the node its chain: %s\n", c->verb, err.msg);
            return CLI_EXIT_FAIL;
        }
        eth_network_name(c->chain_id, c->network);
        src = eth_follow_source(c->node);
    }
    account_config ac = {.store = c->store,
                         .chain = o->tron ? "tron" : "ethereum",
                         .network = c->network,
                         .native_symbol = o->tron ? "TRX" : "ETH",
                         .native_decimals = o->tron ? 6 : 18,
                         .chain_id = c->chain_id,
                         .net = CW_NET_MAIN,
                         .sk = c->sk,
                         .sink = alert_sink_line,
                         .durable = alert_sink_durable,
                         .sink_ctx = &c->sink,
                         .src = src,
                         .start = start,
                         .confirmations = (uint32_t)o->confirmations,
                         .finalized = o->finalized,
                         .stop = cli_stop_flag(),
                         .tokens = &c->tokens,
                         .hops = o->hops,
                         .labels = o->labels,
                         .min_share_ppm = o->min_share_ppm,
                         .hold_share_ppm = o->hold_share_ppm};
    if (account_open(&ac, &c->a, &err))
        return cli_fail(what, &err);
    /* records a crash left in the outbox go out first, minus what the file has */
    alert_sink_load_tail(&c->sink);
    if (pipeline_flush(account_pipeline(c->a), &err)) {
        if (!quiet_flush)
            run_log(c->verb, "warn", "flushing records left from the last run: %s (they stay queued)", err.msg);
    } else {
        alert_sink_drop_tail(&c->sink);
    }
    return CLI_EXIT_OK;
}

static void sleep_ms(int64_t ms)
{
    /* in short steps, so SIGINT/SIGTERM stop it soon */
    while (ms > 0 && !cli_stop_requested()) {
        int64_t step = ms < 50 ? ms : 50;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

int account_run_watch(const account_run_opts *o)
{
    run_ctx c = {.verb = "watch", .sink = {.fd = -1}};
    cli_stop_install();
    signal(SIGPIPE, SIG_IGN);
    int rc = run_open(&c, o, o->start, false);
    if (rc) {
        run_close(&c);
        return rc;
    }
    if (c.tron) { /* triggers at or below our tip are not kept: the engine has those blocks */
        pipeline_stats st0;
        pipeline_stats_get(account_pipeline(c.a), &st0);
        tron_follow_set_tip(c.tron, st0.tip_height);
    }
    run_log("watch", "info", "watching %s %s (chain id %llu) at %s: %s; alerts to %s", o->tron ? "tron" : "ethereum",
         c.network, (unsigned long long)c.chain_id, o->tron ? o->zmq_tron : o->rpc,
         o->finalized ? "blocks up to the finalized tag" : o->confirmations == 1 ? "every block at the head"
                                                                                 : "blocks with --confirmations",
         o->alerts ? o->alerts : "<datadir>/alerts.jsonl");
    pipeline *p = account_pipeline(c.a);
    cw_err err = {0};
    double last_status = cli_seconds();
    uint64_t last_txs = 0;
    bool warned = false;
    rc = CLI_EXIT_OK;
    uint64_t bad_seen = 0, bad_logged = 0;
    while (!cli_stop_requested()) {
        if (c.tron) { /* the node's triggers for up to --poll-ms; gaps refilled over HTTP */
            cw_code trc = tron_follow_poll(c.tron, (int)o->poll_ms, &bad_seen, &err);
            if (trc == CW_EIO && err.code == CW_EIO && strstr(err.msg, "ZeroMQ") != NULL) {
                rc = CLI_EXIT_FAIL;
                run_log("watch", "error", "stopping: %s", err.msg);
                break;
            }
            if (trc)
                run_log("watch", "warn", "refilling a gap over HTTP: %s (the block is asked for again when it is due)",
                        err.msg);
            if (bad_seen > bad_logged) {
                run_log("watch", "warn", "%llu malformed messages from the node's queue so far (skipped)",
                        (unsigned long long)bad_seen);
                bad_logged = bad_seen;
            }
        }
        /* pending first: a tx seen pending and mined before the next poll
         * still gets its mempool record before its confirmation */
        cw_code prc = account_poll_pending(c.a, &err);
        if (store_error_stops(prc)) {
            rc = prc == CW_EDAMAGED ? CLI_EXIT_UNCHECKED : CLI_EXIT_FAIL;
            run_log("watch", "error", "stopping: the store failed (%s). Fix it (chainwatch watchlist check --datadir %s) "
                 "and start watch again: it catches up from its tip", err.msg, o->datadir);
            break;
        }
        if (prc)
            run_log("watch", "warn", "pending txs: %s", err.msg);
        cw_code src = account_sync(c.a, &err);
        if (store_error_stops(src)) {
            rc = src == CW_EDAMAGED ? CLI_EXIT_UNCHECKED : CLI_EXIT_FAIL;
            run_log("watch", "error", "stopping: the store failed (%s). Fix it (chainwatch watchlist check --datadir %s) "
                 "and start watch again: it catches up from its tip", err.msg, o->datadir);
            break;
        }
        if (src && !warned)
            run_log("watch", "warn", "following the node: %s (asking again every %lld ms)", err.msg, (long long)o->poll_ms);
        warned = src != CW_OK;
        double now = cli_seconds();
        if (o->status_interval && now - last_status >= (double)o->status_interval) {
            pipeline_stats st;
            pipeline_stats_get(p, &st);
            run_log("watch", "info", "status: %.1f tx/s, tip %lld, node %lld, blocks +%llu -%llu, alerts %llu",
                 (double)(st.txs - last_txs) / (now - last_status), (long long)st.tip_height, (long long)st.node_height,
                 (unsigned long long)st.blocks_connected, (unsigned long long)st.blocks_disconnected,
                 (unsigned long long)st.alerts);
            last_txs = st.txs;
            last_status = now;
        }
        if (!c.tron)
            sleep_ms(o->poll_ms);
    }
    if (pipeline_flush(p, &err))
        run_log("watch", "warn", "final flush: %s (the records stay in the outbox for the next start)", err.msg);
    pipeline_stats st;
    pipeline_stats_get(p, &st);
    run_log("watch", "info", "stopped: tip %lld, blocks +%llu -%llu, %llu txs, %llu alerts", (long long)st.tip_height,
         (unsigned long long)st.blocks_connected, (unsigned long long)st.blocks_disconnected,
         (unsigned long long)st.txs, (unsigned long long)st.alerts);
    run_close(&c);
    return rc;
}

typedef struct {
    bool tty;
    double t0, last;
    int64_t from;
    pipeline *p;
} replay_progress;

static void replay_progress_fn(void *ctx, int64_t done, int64_t total)
{
    replay_progress *pr = ctx;
    double now = cli_seconds();
    if (!pr->tty || (done < total && now - pr->last < 0.5))
        return;
    pr->last = now;
    pipeline_stats st;
    pipeline_stats_get(pr->p, &st);
    double el = now - pr->t0 + 1e-9, rate = (double)done / el;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\r  block %lld/%lld  %.0f blocks/s  %.0f tx/s  %llu alerts  ETA %02d:%02d:%02d ",
            (long long)(pr->from + done - 1), (long long)(pr->from + total - 1), rate, (double)st.txs / el,
            (unsigned long long)st.alerts, (int)(eta / 3600), (int)(eta / 60) % 60, (int)eta % 60);
}

int account_run_replay(const account_run_opts *o)
{
    run_ctx c = {.verb = "replay", .sink = {.fd = -1}};
    cli_stop_install();
    int rc = run_open(&c, o, -1, false);
    if (rc) {
        run_close(&c);
        return rc;
    }
    cw_err err = {0};
    const account_source *s = eth_follow_source(c.node);
    int64_t head, to = o->to, from = o->from;
    if (s->head(s->ctx, &head, &err)) {
        fprintf(stderr, "chainwatch: replay: %s\n", err.msg);
        run_close(&c);
        return CLI_EXIT_FAIL;
    }
    if (to < 0)
        to = head;
    if (from > head || to > head) {
        fprintf(stderr, "chainwatch: replay: blocks %lld..%lld: the node's head is %lld\n", (long long)from,
                (long long)to, (long long)head);
        run_close(&c);
        return CLI_EXIT_USAGE;
    }
    /* an interrupted replay continues from its tip, which must be the node's block */
    pipeline *p = account_pipeline(c.a);
    pipeline_stats st0;
    pipeline_stats_get(p, &st0);
    if (st0.tip_height >= from && st0.tip_height <= to) {
        fprintf(stderr, "chainwatch: replay: continuing after block %lld (this datadir's tip)\n",
                (long long)st0.tip_height);
        from = st0.tip_height + 1;
    }
    replay_progress pr = {isatty(2) == 1, cli_seconds(), 0, from, p};
    cw_code arc = from <= to ? account_replay(c.a, from, to, (unsigned)o->batch, replay_progress_fn, &pr, &err) : CW_OK;
    if (pr.tty)
        fputc('\n', stderr);
    pipeline_stats st;
    pipeline_stats_get(p, &st);
    double el = cli_seconds() - pr.t0;
    bool interrupted = cli_stop_requested();
    if (arc) {
        fprintf(stderr, "chainwatch: replay: %s\n", err.msg);
        rc = store_error_stops(arc) ? (arc == CW_EDAMAGED ? CLI_EXIT_UNCHECKED : CLI_EXIT_FAIL)
                                    : arc == CW_EARG ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    printf("replayed ethereum %s blocks %lld..%lld from %s into %s%s\n", c.network, (long long)from,
           (long long)(from + (int64_t)st.blocks_connected - 1), o->rpc, o->datadir,
           interrupted ? " (interrupted: run again to continue)" : "");
    printf("  blocks      %llu connected\n", (unsigned long long)st.blocks_connected);
    printf("  txs         %llu (%.0f tx/s)\n", (unsigned long long)st.txs, (double)st.txs / (el + 1e-9));
    printf("  alerts      %llu records\n", (unsigned long long)st.alerts);
    rpc_stats rs;
    rpc_stats_get(eth_follow_rpc(c.node), &rs);
    printf("  node        %llu requests, %llu retries, %.1f MB\n", (unsigned long long)rs.requests,
           (unsigned long long)rs.retries, (double)rs.bytes / 1e6);
    printf("  elapsed     %.2f s\n", el);
    run_close(&c);
    if (rc == CLI_EXIT_OK && interrupted)
        rc = 130;
    return rc;
}
