/*
 * routes_ops.c: GET /healthz and GET /metrics, what an operator's probes
 * and Prometheus read. Both are public (no key): they say how the monitor
 * is, never what it found about whom (counts only).
 *
 * What is knowable: from the store, the tip (height, hash), each list's
 * import time and the records by rule; from a `watch` running in the same
 * process (api_status), the feed's last message and block, blocks and txs
 * since start and whether the node answered. `serve` alone reports the
 * store's part and says the feed is not its own ("feed": null). Either
 * verb delivering webhooks (--webhook) reports its deliverer ("webhooks":
 * failing or not, the store error that stops it, since when; null when
 * this process delivers none): failing delivery is a problem (503).
 */
#define _GNU_SOURCE /* memmem, timegm */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chains/hex.h"
#include "monitor/records/alert.h"
#include "monitor/records/webhook.h"
#include "deadline.h"
#include "routes.h"
#include "server_internal.h"
#include "status.h"
#include "watchlists/alertdb.h"
#include "watchlists/chaindb.h"
#include "watchlists/watchlist.h"

#define HEALTH_LIST_MAX_AGE_S (8 * 86400) /* OFAC publishes weekly at most: older lists are stale */

/* "2026-12-03T07:00:00Z" (or with fractions) to unix seconds; -1 when it
 * does not parse. */
static int64_t iso_seconds(const char *s)
{
    struct tm tm = {0};
    if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                            &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

typedef struct {
    json_t *lists;
    int64_t now, oldest_age;
    bool ok;
} lists_ctx;

static bool list_one(void *ctx, cw_span json)
{
    lists_ctx *l = ctx;
    json_t *m = json_loadb((const char *)json.p, json.n, 0, NULL);
    const char *source = json_string_value(json_object_get(m, "source"));
    const char *imported = json_string_value(json_object_get(m, "imported_at"));
    if (imported == NULL)
        imported = json_string_value(json_object_get(m, "imported"));
    int64_t at = iso_seconds(imported);
    int64_t age = at >= 0 ? l->now - at : -1;
    json_t *o = json_object();
    alert_put(o, "source", source ? json_string(source) : json_null(), &l->ok);
    alert_put(o, "imported_at", imported ? json_string(imported) : json_null(), &l->ok);
    alert_put(o, "age_s", age >= 0 ? json_integer(age) : json_null(), &l->ok);
    alert_push(l->lists, o, &l->ok);
    if (age < 0 || age > l->oldest_age)
        l->oldest_age = age < 0 ? INT64_MAX : age;
    json_decref(m);
    return l->ok;
}

static void get_healthz(const api_request *req, api_reply *rep, void *ctx)
{
    (void)ctx;
    api_server *srv = req->server;
    api_status *st = srv->status;
    int64_t now = (int64_t)time(NULL);
    json_t *out = json_object(), *problems = json_array();
    bool ok = out && problems;
    store_txn *t;
    cw_err err = {0};
    chaindb_tip tip = {0};
    lists_ctx l = {json_array(), now, 0, true};
    cw_code rc = api_read(req, &t, &err);
    if (rc == CW_OK)
        rc = chaindb_get_tip(t, &tip, &err);
    if (rc == CW_OK)
        rc = wl_source_each(t, WL_PROVENANCE, list_one, &l, NULL, &err);
    json_t *store = json_object();
    alert_put(store, "readable", json_boolean(rc == CW_OK), &ok);
    alert_put(store, "error", rc ? json_string(err.msg) : json_null(), &ok);
    if (rc == CW_OK && tip.valid) {
        char hash[65];
        cw_hex_encode_rev(tip.hash, 32, hash);
        alert_put(store, "tip_height", json_integer(tip.height), &ok);
        alert_put(store, "tip_hash", json_string(hash), &ok);
    } else {
        alert_put(store, "tip_height", json_null(), &ok);
        alert_put(store, "tip_hash", json_null(), &ok);
    }
    alert_put(out, "store", store, &ok);
    if (rc)
        alert_push(problems, json_string("the store cannot be read"), &ok);
    alert_put(out, "lists", l.lists, &ok);
    ok = ok && l.ok;
    if (rc == CW_OK && json_array_size(l.lists) == 0)
        alert_push(problems, json_string("no watchlist imported"), &ok);
    else if (rc == CW_OK && l.oldest_age > HEALTH_LIST_MAX_AGE_S)
        alert_push(problems, json_string("a watchlist is older than 8 days (run the import)"), &ok);
    if (st) {
        int64_t fresh = atomic_load(&st->fresh_s) ? atomic_load(&st->fresh_s) : 3600;
        int64_t last = atomic_load(&st->last_message), since = atomic_load(&st->started);
        int64_t age = last ? now - last : now - since;
        int node = atomic_load(&st->node);
        json_t *feed = json_object();
        alert_put(feed, "last_message_age_s", last ? json_integer(now - last) : json_null(), &ok);
        alert_put(feed, "last_block_age_s",
                  atomic_load(&st->last_block) ? json_integer(now - atomic_load(&st->last_block)) : json_null(), &ok);
        alert_put(feed, "fresh", json_boolean(age <= fresh), &ok);
        alert_put(feed, "fresh_limit_s", json_integer(fresh), &ok);
        alert_put(out, "feed", feed, &ok);
        alert_put(out, "node_reachable", node < 0 ? json_null() : json_boolean(node == 1), &ok);
        if (age > fresh)
            alert_push(problems, json_string("no feed message within the freshness limit"), &ok);
        if (node == 0)
            alert_push(problems, json_string("the node does not answer"), &ok);
    } else {
        alert_put(out, "feed", json_null(), &ok); /* serve: the feed is a watch's, elsewhere */
        alert_put(out, "node_reachable", json_null(), &ok);
    }
    if (srv->cfg.webhooks) {
        webhook_health h;
        webhook_runner_health(srv->cfg.webhooks, &h);
        json_t *w = json_object();
        alert_put(w, "endpoint", json_string(h.url), &ok);
        alert_put(w, "failing", json_boolean(h.failing), &ok);
        alert_put(w, "error", h.failing ? json_string(h.error) : json_null(), &ok);
        alert_put(w, "failing_for_s",
                  h.failing ? json_integer((json_int_t)((uint64_t)now * 1000 > h.failing_since_ms
                                                            ? ((uint64_t)now * 1000 - h.failing_since_ms) / 1000
                                                            : 0))
                            : json_null(),
                  &ok);
        alert_put(w, "store_errors", json_integer((json_int_t)h.store_errors), &ok);
        alert_put(w, "delivered", json_integer((json_int_t)h.delivered), &ok);
        /* null: unknown (failing, or the first pass has not ended yet) */
        alert_put(w, "pending", h.failing || !h.pending_known ? json_null() : json_integer((json_int_t)h.pending), &ok);
        alert_put(out, "webhooks", w, &ok);
        if (h.failing)
            alert_push(problems, json_string("webhook delivery is failing (a store error; see webhooks.error)"), &ok);
    } else {
        alert_put(out, "webhooks", json_null(), &ok);
    }
    size_t np = problems ? json_array_size(problems) : 1;
    alert_put(out, "status", json_string(np == 0 ? "ok" : rc ? "down" : "degraded"), &ok);
    alert_put(out, "problems", problems, &ok);
    alert_put(out, "checked_at", json_integer(now), &ok);
    if (ok)
        api_reply_json(rep, np == 0 ? 200 : 503, out);
    else
        api_reply_error(rep, 500, "out_of_memory", "out of memory building the reply");
    json_decref(out);
}

/* ---- /metrics ---- */

static cw_code put(cw_buf *b, cw_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static cw_code put(cw_buf *b, cw_err *err, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "metrics: format");
    return cw_buf_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, err);
}

typedef struct {
    cw_buf *b;
    cw_code rc;
    cw_err *err;
} rules_out;

static void put_rule(void *ctx, const char *rule, uint64_t n)
{
    rules_out *o = ctx;
    if (o->rc == CW_OK)
        o->rc = put(o->b, o->err, "chainwatch_records{rule=\"%s\"} %llu\n", rule, (unsigned long long)n);
}

static cw_code metrics_text(const api_request *req, cw_buf *b, cw_err *err)
{
    api_server *srv = req->server;
    api_status *st = srv->status;
    int64_t now = (int64_t)time(NULL);
    store_txn *t;
    cw_code rc = api_read(req, &t, err);
    chaindb_tip tip = {0};
    if (rc == CW_OK)
        rc = chaindb_get_tip(t, &tip, err);
    if (rc)
        return rc;
    rc = put(b, err, "# HELP chainwatch_tip_height Height of the last block the monitor connected.\n"
                     "# TYPE chainwatch_tip_height gauge\nchainwatch_tip_height %lld\n",
             tip.valid ? (long long)tip.height : -1LL);
    /* the counts the pipeline keeps with the records (alertdb.h): O(rules) */
    if (rc == CW_OK)
        rc = put(b, err, "# HELP chainwatch_records Alert records kept, by rule (latest record per alert id).\n"
                         "# TYPE chainwatch_records gauge\n");
    rules_out ro = {b, CW_OK, err};
    if (rc == CW_OK)
        rc = alertdb_count_by_rule(t, put_rule, &ro, NULL, NULL, err);
    if (rc == CW_OK)
        rc = ro.rc;
    if (rc == CW_OK && st) {
        int64_t last = atomic_load(&st->last_message), lb = atomic_load(&st->last_block);
        rc = put(b, err,
                 "# HELP chainwatch_feed_lag_seconds Seconds since the last feed message (since start when none).\n"
                 "# TYPE chainwatch_feed_lag_seconds gauge\nchainwatch_feed_lag_seconds %lld\n"
                 "# HELP chainwatch_block_age_seconds Seconds since the last block was connected (-1: none yet).\n"
                 "# TYPE chainwatch_block_age_seconds gauge\nchainwatch_block_age_seconds %lld\n"
                 "# HELP chainwatch_blocks_total Blocks connected since the monitor started.\n"
                 "# TYPE chainwatch_blocks_total counter\nchainwatch_blocks_total %llu\n"
                 "# HELP chainwatch_txs_total Transactions screened since the monitor started.\n"
                 "# TYPE chainwatch_txs_total counter\nchainwatch_txs_total %llu\n"
                 "# HELP chainwatch_node_up Whether the node answered when last asked (-1: never asked).\n"
                 "# TYPE chainwatch_node_up gauge\nchainwatch_node_up %d\n",
                 (long long)(now - (last ? last : atomic_load(&st->started))), lb ? (long long)(now - lb) : -1LL,
                 (unsigned long long)atomic_load(&st->blocks), (unsigned long long)atomic_load(&st->txs),
                 atomic_load(&st->node));
    }
    if (rc == CW_OK)
        rc = put(b, err, "# HELP chainwatch_api_requests_total API requests answered, by route and status class.\n"
                         "# TYPE chainwatch_api_requests_total counter\n");
    for (size_t i = 0; rc == CW_OK && i <= srv->n_routes; i++) {
        size_t idx = i == srv->n_routes ? API_ROUTE_NONE : i;
        char route[160];
        snprintf(route, sizeof route, "%s %s", idx == API_ROUTE_NONE ? "-" : srv->routes[idx].method,
                 idx == API_ROUTE_NONE ? "unmatched" : srv->routes[idx].pattern);
        for (int cls = 2; rc == CW_OK && cls <= 5; cls++)
            rc = put(b, err, "chainwatch_api_requests_total{route=\"%s\",code=\"%dxx\"} %llu\n", route, cls,
                     (unsigned long long)atomic_load(&srv->stats[idx].by_class[cls]));
    }
    if (rc == CW_OK)
        rc = put(b, err, "# HELP chainwatch_api_request_duration_seconds Time from request to reply, by route.\n"
                         "# TYPE chainwatch_api_request_duration_seconds histogram\n");
    for (size_t i = 0; rc == CW_OK && i <= srv->n_routes; i++) {
        size_t idx = i == srv->n_routes ? API_ROUTE_NONE : i;
        char route[160];
        snprintf(route, sizeof route, "%s %s", idx == API_ROUTE_NONE ? "-" : srv->routes[idx].method,
                 idx == API_ROUTE_NONE ? "unmatched" : srv->routes[idx].pattern);
        const api_route_stats *s = &srv->stats[idx];
        uint64_t le = 0;
        for (int k = 0; rc == CW_OK && k < API_LAT_BUCKETS; k++) {
            le += atomic_load(&s->in[k]);
            rc = put(b, err, "chainwatch_api_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", route,
                     api_latency_le[k], (unsigned long long)le);
        }
        /* a request counted in its bucket and not yet in count (another
         * thread, between two adds) must not make +Inf smaller than a bound */
        uint64_t all = atomic_load(&s->count);
        if (all < le)
            all = le;
        if (rc == CW_OK)
            rc = put(b, err,
                     "chainwatch_api_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
                     "chainwatch_api_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                     "chainwatch_api_request_duration_seconds_count{route=\"%s\"} %llu\n",
                     route, (unsigned long long)all, route, atomic_load(&s->sum_us) / 1e6, route,
                     (unsigned long long)all);
    }
    if (rc == CW_OK) {
        uint64_t cut_req, cut_rep, cut_idle;
        api_deadline_counts(srv->deadline, &cut_req, &cut_rep, &cut_idle);
        rc = put(b, err,
                 "# HELP chainwatch_api_connections_cut_total Connections closed by the server for taking longer than "
                 "--api-timeout to send a request (phase request: some of it came), to take its reply (phase reply), "
                 "or for sending nothing that long (phase idle: a keep-alive connection a client holds open).\n"
                 "# TYPE chainwatch_api_connections_cut_total counter\n"
                 "chainwatch_api_connections_cut_total{phase=\"request\"} %llu\n"
                 "chainwatch_api_connections_cut_total{phase=\"reply\"} %llu\n"
                 "chainwatch_api_connections_cut_total{phase=\"idle\"} %llu\n",
                 (unsigned long long)cut_req, (unsigned long long)cut_rep, (unsigned long long)cut_idle);
    }
    if (rc == CW_OK && srv->cfg.webhooks) {
        webhook_health h;
        webhook_runner_health(srv->cfg.webhooks, &h);
        rc = put(b, err,
                 "# HELP chainwatch_webhook_failing Whether store errors stop webhook delivery now (1) or not (0).\n"
                 "# TYPE chainwatch_webhook_failing gauge\nchainwatch_webhook_failing %d\n"
                 "# HELP chainwatch_webhook_store_errors_total Delivery passes that ended in a store error.\n"
                 "# TYPE chainwatch_webhook_store_errors_total counter\nchainwatch_webhook_store_errors_total %llu\n"
                 "# HELP chainwatch_webhook_delivered_total Events delivered (2xx) since start.\n"
                 "# TYPE chainwatch_webhook_delivered_total counter\nchainwatch_webhook_delivered_total %llu\n",
                 h.failing ? 1 : 0, (unsigned long long)h.store_errors, (unsigned long long)h.delivered);
    }
    for (size_t i = 0; rc == CW_OK && i < srv->n_metrics; i++)
        rc = srv->metrics[i].fn(srv->metrics[i].ctx, t, b, err);
    return rc;
}

static void get_metrics(const api_request *req, api_reply *rep, void *ctx)
{
    (void)ctx;
    cw_buf b = CW_BUF_INIT;
    cw_err err = {0};
    if (metrics_text(req, &b, &err))
        api_reply_store_error(rep, &err);
    else
        api_reply_body(rep, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.n);
    cw_buf_free(&b);
}

cw_code api_routes_ops(api_server *srv, cw_err *err)
{
    cw_code rc = api_route(srv, "GET", "/healthz", API_ROLE_PUBLIC, get_healthz, NULL, err);
    if (rc == CW_OK)
        rc = api_route(srv, "GET", "/metrics", API_ROLE_PUBLIC, get_metrics, NULL, err);
    return rc;
}
