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
#include "monitor/sources/capture.h"
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

/* ---- --chain tron: recording and replaying a capture (capture.h v2) ---- */

#define HELD_MAX 8

/* watch --record: the queue's messages and the HTTP replies used. A
 * capture that cannot be written stops the recording, never the
 * monitoring (as in the Bitcoin watch). The replies asked for before the
 * chain is known (block 0: it names the network in the header) are held
 * until the file is opened. */
typedef struct {
    capture_writer *w;
    const char *path;
    bool failed;
    double last_sync;
    size_t n_held;
    struct {
        char *path, *body;
        uint8_t *reply;
        size_t n;
        double t;
    } held[HELD_MAX];
} tron_recorder;

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void tron_recorder_fail(tron_recorder *r, const cw_err *err)
{
    run_log("watch", "error", "recording to %s: %s; recording stopped after %llu messages (watching goes on)",
            r->path, err->msg, (unsigned long long)capture_writer_count(r->w));
    cw_err ignored = {0};
    capture_writer_close(r->w, &ignored);
    r->w = NULL;
    r->failed = true;
}

static void tron_recorder_sync(tron_recorder *r, bool force)
{
    double now = cli_seconds();
    if (r->w == NULL || !capture_writer_dirty(r->w) || (!force && now - r->last_sync < 1.0))
        return;
    cw_err err = {0};
    if (capture_writer_sync(r->w, &err))
        tron_recorder_fail(r, &err);
    r->last_sync = now;
}

static void tron_record_http(void *ctx, const char *path, const char *body, const cw_buf *reply)
{
    tron_recorder *r = ctx;
    if (r->failed)
        return;
    double t = wall_now();
    if (r->w == NULL) { /* before the header: held */
        if (r->n_held == HELD_MAX) {
            cw_err e = {.code = CW_ELIMIT};
            snprintf(e.msg, sizeof e.msg, "more than %d HTTP replies before the chain was known", HELD_MAX);
            tron_recorder_fail(r, &e);
            return;
        }
        size_t i = r->n_held;
        r->held[i].path = strdup(path);
        r->held[i].body = strdup(body);
        r->held[i].reply = malloc(reply->n ? reply->n : 1);
        r->held[i].n = reply->n;
        r->held[i].t = t;
        if (r->held[i].reply && reply->n)
            memcpy(r->held[i].reply, reply->p, reply->n);
        r->n_held++;
        if (!r->held[i].path || !r->held[i].body || !r->held[i].reply) {
            cw_err e = {.code = CW_ENOMEM};
            snprintf(e.msg, sizeof e.msg, "out of memory holding an HTTP reply");
            tron_recorder_fail(r, &e);
        }
        return;
    }
    cw_err err = {0};
    if (capture_write_http(r->w, t, path, body, reply->p, reply->n, &err))
        tron_recorder_fail(r, &err);
    else
        tron_recorder_sync(r, false);
}

static void tron_record_message(void *ctx, unsigned nframes, const void *const frame[3], const size_t len[3])
{
    tron_recorder *r = ctx;
    if (r->w == NULL)
        return;
    feed_message m = {.frame = {frame[0], frame[1], frame[2]},
                      .len = {len[0], len[1], len[2]},
                      .nframes = nframes,
                      .received_at = wall_now()};
    cw_err err = {0};
    if (capture_write(r->w, &m, &err))
        tron_recorder_fail(r, &err);
    else
        tron_recorder_sync(r, false);
}

/* Opens the file once the network is known and writes what was held. */
static cw_code tron_recorder_open(tron_recorder *r, const char *network, cw_err *err)
{
    capture_open_info ci;
    cw_code rc = r->failed ? CW_OK : capture_writer_open_tron(r->path, network, &r->w, &ci, err);
    if (rc)
        return rc;
    if (ci.cut_bytes && !r->failed)
        run_log("watch", "warn", "capture %s ended in a partial record at byte %llu (%llu bytes, left by a crash): cut off",
                r->path, (unsigned long long)ci.cut_at, (unsigned long long)ci.cut_bytes);
    for (size_t i = 0; i < r->n_held && r->w; i++) {
        cw_err werr = {0};
        if (capture_write_http(r->w, r->held[i].t, r->held[i].path, r->held[i].body, r->held[i].reply, r->held[i].n,
                               &werr))
            tron_recorder_fail(r, &werr);
    }
    return CW_OK;
}

static void tron_recorder_close(tron_recorder *r)
{
    if (r->w) {
        cw_err err = {0};
        if (capture_writer_close(r->w, &err))
            run_log("watch", "error", "closing the capture %s: %s", r->path, err.msg);
        r->w = NULL;
    }
    for (size_t i = 0; i < r->n_held; i++)
        free(r->held[i].path), free(r->held[i].body), free(r->held[i].reply);
    r->n_held = 0;
}

/* replay --capture: the capture's HTTP exchanges, answered by request. */
typedef struct {
    char *path, *body;
    uint8_t *reply;
    size_t n;
    bool used;
} tron_exchange;

typedef struct {
    const char *file;
    tron_exchange *x;
    size_t n, cap;
} tron_answers;

static cw_code tron_answer(void *ctx, const char *path, const char *body, cw_buf *reply, cw_err *err)
{
    tron_answers *a = ctx;
    tron_exchange *again = NULL;
    for (size_t i = 0; i < a->n; i++) {
        tron_exchange *x = &a->x[i];
        if (strcmp(x->path, path) != 0 || strcmp(x->body, body) != 0)
            continue;
        if (!x->used) {
            x->used = true;
            again = x;
            break;
        }
        again = x; /* the last one used, if none is left */
    }
    if (again == NULL)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET,
                          "%s %s: the capture %s holds no reply to it (the live run never asked it)", path, body,
                          a->file);
    return cw_buf_append(reply, again->reply, again->n, err);
}

static void tron_answers_free(tron_answers *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->x[i].path), free(a->x[i].body), free(a->x[i].reply);
    free(a->x);
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
    tron_recorder *rec;     /* watch --chain tron --record */
    tron_answers *answers;  /* replay --capture of a Tron capture */
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
        if (c->rec) {
            fc.tap = tron_record_message;
            fc.tap_ctx = c->rec;
            ho.tap = tron_record_http;
            ho.hook_ctx = c->rec;
        }
        if (c->answers) {
            ho.answer = tron_answer;
            ho.hook_ctx = c->answers;
        }
        if (tron_follow_open(&fc, &ho, &c->tron, &err))
            return cli_fail(what, &err);
        if (tron_follow_chain_id(c->tron, &c->chain_id, &err)) {
            fprintf(stderr, "chainwatch: %s: cannot ask the node its chain (block 0): %s\n", c->verb, err.msg);
            return CLI_EXIT_FAIL;
        }
        tron_network_name(c->chain_id, c->network);
        if (c->rec && tron_recorder_open(c->rec, c->network, &err))
            return cli_fail("watch --record", &err);
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
                         .hold_share_ppm = o->hold_share_ppm,
                         .rules = o->rules};
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
    tron_recorder rec = {.path = o->record};
    if (o->tron && o->record)
        c.rec = &rec;
    cli_stop_install();
    signal(SIGPIPE, SIG_IGN);
    int rc = run_open(&c, o, o->start, false);
    if (rc) {
        run_close(&c);
        tron_recorder_close(&rec);
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
        if (c.rec)
            tron_recorder_sync(c.rec, false);
    }
    if (pipeline_flush(p, &err))
        run_log("watch", "warn", "final flush: %s (the records stay in the outbox for the next start)", err.msg);
    pipeline_stats st;
    pipeline_stats_get(p, &st);
    run_log("watch", "info", "stopped: tip %lld, blocks +%llu -%llu, %llu txs, %llu alerts", (long long)st.tip_height,
         (unsigned long long)st.blocks_connected, (unsigned long long)st.blocks_disconnected,
         (unsigned long long)st.txs, (unsigned long long)st.alerts);
    if (c.rec && c.rec->w)
        run_log("watch", "info", "recorded %llu records to %s", (unsigned long long)capture_writer_count(c.rec->w),
                o->record);
    run_close(&c);
    tron_recorder_close(&rec);
    return rc;
}

/* The replay summary's records, by rule, and what the pattern rules did
 * (as replay.c prints them for Bitcoin). */
static void print_alerts_and_rules(const pipeline_stats *st)
{
    printf("  alerts      %llu records", (unsigned long long)st->alerts);
    for (int r = 0; r < PIPELINE_RULE_COUNT; r++)
        if (st->by_rule[r])
            printf(", %s %llu", pipeline_rule_name((pipeline_rule)r), (unsigned long long)st->by_rule[r]);
    printf("\n");
    if (st->rules.txs)
        printf("  rules       %llu txs judged, %llu payments in the salary or tiny band tracked, %llu sweeps, %llu "
               "transfers traced\n",
               (unsigned long long)st->rules.txs, (unsigned long long)st->rules.payments,
               (unsigned long long)st->rules.sweeps, (unsigned long long)st->rules.traced);
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
    if (st0.tip_height >= to) {
        /* the range is at or below the tip: nothing to do when this datadir
         * holds it on the node's chain, a refusal otherwise (never a replay
         * that reports an odd range) */
        bool held = false;
        cw_code hrc = account_holds(c.a, from, to, &held, &err);
        if (hrc) {
            fprintf(stderr, "chainwatch: replay: %s\n", err.msg);
            run_close(&c);
            return store_error_stops(hrc) ? (hrc == CW_EDAMAGED ? CLI_EXIT_UNCHECKED : CLI_EXIT_FAIL) : CLI_EXIT_FAIL;
        }
        if (!held) {
            fprintf(stderr,
                    "chainwatch: replay: this datadir's tip is block %lld and it does not hold blocks %lld..%lld "
                    "of the node's chain: a replay of them needs an empty datadir or its tip at %lld\n",
                    (long long)st0.tip_height, (long long)from, (long long)to, (long long)from - 1);
            run_close(&c);
            return CLI_EXIT_USAGE;
        }
        fprintf(stderr, "chainwatch: replay: nothing to replay: this datadir's tip is block %lld and it holds blocks "
                        "%lld..%lld already\n",
                (long long)st0.tip_height, (long long)from, (long long)to);
        printf("replayed ethereum %s: nothing (blocks %lld..%lld are in %s already)\n", c.network, (long long)from,
               (long long)to, o->datadir);
        printf("  blocks      0 connected\n");
        run_close(&c);
        return CLI_EXIT_OK;
    }
    if (st0.tip_height >= from && st0.tip_height < to) {
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
    if (st.blocks_connected == 0)
        printf("replayed ethereum %s: no blocks from %s into %s%s\n", c.network, o->rpc, o->datadir,
               interrupted ? " (interrupted: run again to continue)" : "");
    else
        printf("replayed ethereum %s blocks %lld..%lld from %s into %s%s\n", c.network, (long long)from,
               (long long)(from + (int64_t)st.blocks_connected - 1), o->rpc, o->datadir,
               interrupted ? " (interrupted: run again to continue)" : "");
    printf("  blocks      %llu connected\n", (unsigned long long)st.blocks_connected);
    printf("  txs         %llu (%.0f tx/s)\n", (unsigned long long)st.txs, (double)st.txs / (el + 1e-9));
    print_alerts_and_rules(&st);
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

/* Reads the capture's HTTP exchanges (first pass), up to any damage. */
static int load_answers(const char *path, tron_answers *a)
{
    capture_reader *r;
    cw_err err = {0};
    if (capture_reader_open(path, &r, NULL, &err))
        return cli_fail("replay", &err);
    feed_message m;
    bool got = true;
    cw_code rc = CW_OK;
    while (rc == CW_OK && (rc = capture_read(r, &m, &got, &err)) == CW_OK && got) {
        if (capture_reader_kind(r) != CAPTURE_REC_HTTP)
            continue;
        if (a->n == a->cap) {
            size_t nc = a->cap ? a->cap * 2 : 64;
            tron_exchange *nx = realloc(a->x, nc * sizeof *nx);
            if (nx == NULL) {
                rc = cw_err_set(&err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory for its HTTP replies", path);
                break;
            }
            a->x = nx;
            a->cap = nc;
        }
        tron_exchange *x = &a->x[a->n];
        x->path = strndup((const char *)m.frame[0], m.len[0]);
        x->body = strndup((const char *)m.frame[1], m.len[1]);
        x->reply = malloc(m.len[2] ? m.len[2] : 1);
        x->n = m.len[2];
        x->used = false;
        a->n++;
        if (!x->path || !x->body || !x->reply) {
            rc = cw_err_set(&err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory for its HTTP replies", path);
            break;
        }
        memcpy(x->reply, m.frame[2], m.len[2]);
    }
    capture_reader_close(r);
    if (rc == CW_ETRUNC || rc == CW_EFORMAT || rc == CW_ELIMIT)
        return CLI_EXIT_OK; /* damage: the replay runs up to it and reports it there */
    if (rc) {
        fprintf(stderr, "chainwatch: replay: %s\n", err.msg);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

int account_run_replay_tron_capture(const account_run_opts *o)
{
    tron_answers ans = {.file = o->capture};
    int rc = load_answers(o->capture, &ans);
    if (rc) {
        tron_answers_free(&ans);
        return rc;
    }
    run_ctx c = {.verb = "replay", .sink = {.fd = -1}, .answers = &ans};
    account_run_opts ro = *o;
    ro.zmq_tron = "inproc://chainwatch-replay"; /* nothing publishes there: the capture's messages are taken */
    ro.tron_http = "http://capture.invalid";     /* never asked: answered from the capture */
    cli_stop_install();
    rc = run_open(&c, &ro, o->start, false);
    capture_reader *r = NULL;
    cw_err err = {0};
    if (rc == CLI_EXIT_OK && capture_reader_open(o->capture, &r, NULL, &err))
        rc = cli_fail("replay", &err);
    if (rc) {
        run_close(&c);
        tron_answers_free(&ans);
        return rc;
    }
    pipeline_stats st0;
    pipeline_stats_get(account_pipeline(c.a), &st0);
    tron_follow_set_tip(c.tron, st0.tip_height);
    feed_tron *feed = tron_follow_feed(c.tron);
    uint64_t messages = 0, bad = 0, warnings = 0;
    double t0 = cli_seconds();
    for (;;) {
        if (cli_stop_requested()) {
            rc = 130;
            break;
        }
        feed_message m;
        bool got;
        cw_err rerr = {0};
        if (capture_read(r, &m, &got, &rerr)) {
            fprintf(stderr, "chainwatch: replay: %s (the records before it are written)\n", rerr.msg);
            rc = rerr.code == CW_EIO ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
            break;
        }
        if (!got)
            break;
        if (capture_reader_kind(r) == CAPTURE_REC_HTTP)
            continue;
        messages++;
        if (m.nframes == 2)
            feed_tron_take(feed, (const char *)m.frame[0], m.len[0], (const char *)m.frame[1], m.len[1]);
        else
            bad++; /* the live feed refused it the same way: not 2 frames */
        /* as watch's loop does after reading the queue */
        cw_code trc = tron_follow_poll(c.tron, 0, &bad, &err);
        if (trc) {
            warnings++;
            run_log("replay", "warn", "refilling a gap: %s", err.msg);
        }
        cw_code prc = account_poll_pending(c.a, &err);
        if (store_error_stops(prc)) {
            rc = prc == CW_EDAMAGED ? CLI_EXIT_UNCHECKED : CLI_EXIT_FAIL;
            run_log("replay", "error", "stopping: the store failed (%s)", err.msg);
            break;
        }
        if (prc) {
            warnings++;
            run_log("replay", "warn", "pending txs: %s", err.msg);
        }
        cw_code src = account_sync(c.a, &err);
        if (store_error_stops(src)) {
            rc = src == CW_EDAMAGED ? CLI_EXIT_UNCHECKED : CLI_EXIT_FAIL;
            run_log("replay", "error", "stopping: the store failed (%s)", err.msg);
            break;
        }
        if (src) {
            warnings++;
            run_log("replay", "warn", "following the capture: %s", err.msg);
        }
    }
    pipeline *p = account_pipeline(c.a);
    if (pipeline_flush(p, &err)) {
        run_log("replay", "warn", "final flush: %s (the records stay in the outbox)", err.msg);
        if (rc == CLI_EXIT_OK)
            rc = CLI_EXIT_FAIL;
    }
    pipeline_stats st;
    pipeline_stats_get(p, &st);
    printf("replayed tron %s capture %s into %s\n", c.network, o->capture, o->datadir);
    printf("  messages    %llu (%llu malformed)\n", (unsigned long long)messages, (unsigned long long)bad);
    printf("  http        %zu recorded replies\n", ans.n);
    printf("  blocks      %llu connected, %llu disconnected, tip %lld\n", (unsigned long long)st.blocks_connected,
           (unsigned long long)st.blocks_disconnected, (long long)st.tip_height);
    print_alerts_and_rules(&st);
    printf("  warnings    %llu\n", (unsigned long long)warnings);
    printf("  elapsed     %.2f s\n", cli_seconds() - t0);
    capture_reader_close(r);
    run_close(&c);
    tron_answers_free(&ans);
    return rc;
}
