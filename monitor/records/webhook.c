/* webhook.c: delivery of the webhook outbox (webhook.h). */
#include "webhook.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <unistd.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chains/hex.h"
#include "monitor/records/alert.h"
#include "monitor/records/keys.h"
#include "watchlists/hookdb.h"

uint64_t webhook_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool webhook_url_valid(const char *url)
{
    if (url == NULL)
        return false;
    size_t n = strlen(url);
    size_t skip = strncmp(url, "http://", 7) == 0 ? 7 : strncmp(url, "https://", 8) == 0 ? 8 : 0;
    if (skip == 0 || n <= skip || n > HOOKDB_URL_MAX || url[skip] == '/')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
            return false;
    return true;
}

/* What is signed: "<ts>.<body>". */
static bool signed_bytes(long long ts, const char *body, size_t n, cw_buf *m)
{
    char pre[32];
    int k = snprintf(pre, sizeof pre, "%lld.", ts);
    return cw_buf_append(m, pre, (size_t)k, NULL) == CW_OK && cw_buf_append(m, body, n, NULL) == CW_OK;
}

void webhook_sign(const uint8_t sk[64], long long ts, const char *body, size_t n, char *out, size_t cap)
{
    cw_buf m = CW_BUF_INIT;
    uint8_t sig[crypto_sign_BYTES];
    char hex[2 * crypto_sign_BYTES + 1];
    if (sodium_init() < 0 || !signed_bytes(ts, body, n, &m)) {
        snprintf(out, cap, "unsigned");
        cw_buf_free(&m);
        return;
    }
    crypto_sign_detached(sig, NULL, m.p, m.n, sk);
    cw_hex_encode(sig, sizeof sig, hex);
    snprintf(out, cap, "t=%lld,ed25519=%s", ts, hex);
    cw_buf_free(&m);
}

bool webhook_verify(const uint8_t pk[32], const char *header, const char *body, size_t n)
{
    long long ts;
    char hex[2 * crypto_sign_BYTES + 2];
    int used = 0;
    if (header == NULL || sscanf(header, "t=%lld,ed25519=%129[0-9a-fA-F]%n", &ts, hex, &used) != 2 ||
        header[used] != '\0' || strlen(hex) != 2 * crypto_sign_BYTES)
        return false;
    uint8_t sig[crypto_sign_BYTES];
    size_t got = 0;
    if (cw_hex_decode(hex, strlen(hex), sig, sizeof sig, &got, NULL) != CW_OK || got != sizeof sig)
        return false;
    cw_buf m = CW_BUF_INIT;
    bool ok = sodium_init() >= 0 && signed_bytes(ts, body, n, &m) &&
              crypto_sign_verify_detached(sig, m.p, m.n, pk) == 0;
    cw_buf_free(&m);
    return ok;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

/* One POST; true on a 2xx. why: what failed otherwise. */
static bool post(const webhook_config *cfg, const uint8_t sk[64], const char *url, uint64_t seq, const char *type,
                 const char *body, size_t n, char *why, size_t why_cap)
{
    CURL *h = curl_easy_init();
    if (h == NULL) {
        snprintf(why, why_cap, "libcurl could not start a request");
        return false;
    }
    char sig[200], hdr_sig[240], hdr_seq[64], hdr_type[96];
    webhook_sign(sk, (long long)time(NULL), body, n, sig, sizeof sig);
    snprintf(hdr_sig, sizeof hdr_sig, "X-Chainwatch-Signature: %s", sig);
    snprintf(hdr_seq, sizeof hdr_seq, "X-Chainwatch-Seq: %llu", (unsigned long long)seq);
    snprintf(hdr_type, sizeof hdr_type, "X-Chainwatch-Event: %.60s", type ? type : "unknown");
    struct curl_slist *hs = NULL, *next;
    const char *lines[] = {"Content-Type: application/json", hdr_sig, hdr_seq, hdr_type, "Expect:"};
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        if ((next = curl_slist_append(hs, lines[i])) == NULL) {
            curl_slist_free_all(hs);
            curl_easy_cleanup(h);
            snprintf(why, why_cap, "out of memory for the request headers");
            return false;
        }
        hs = next;
    }
    long timeout = cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "chainwatch-webhook");
    CURLcode cc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
    if (cc != CURLE_OK) {
        snprintf(why, why_cap, "%s", curl_easy_strerror(cc));
        return false;
    }
    if (code < 200 || code > 299) {
        snprintf(why, why_cap, "HTTP %ld", code);
        return false;
    }
    return true;
}

typedef struct {
    uint64_t seq;
    cw_buf body;
    bool found;
    cw_code rc;
} first_event;

static bool take_first(void *ctx, uint64_t seq, cw_span body)
{
    first_event *f = ctx;
    f->seq = seq;
    f->found = true;
    f->rc = cw_buf_append(&f->body, body.p, body.n, NULL);
    return false;
}

/* The cursor write after a try. */
typedef struct {
    const char *url;
    const webhook_config *cfg;
    uint64_t seq, now_ms;
    bool ok;
    const char *why;
    const cw_buf *body;
    hookdb_endpoint ep; /* out: the cursor written */
} try_result;

static cw_code write_try(store_txn *t, void *arg, cw_err *err)
{
    try_result *r = arg;
    hookdb_endpoint ep = {0};
    cw_code rc = hookdb_endpoint_get(t, r->url, &ep, err);
    if (rc && rc != CW_ENOTFOUND)
        return rc;
    if (rc == CW_ENOTFOUND)
        memset(&ep, 0, sizeof ep);
    uint32_t max_tries = r->cfg->max_tries ? r->cfg->max_tries : 8;
    if (r->ok) {
        ep.delivered = r->seq;
        ep.attempts = 0;
        ep.next_ms = 0;
    } else if (ep.attempts + 1 >= max_tries) {
        /* the last try failed: a dead letter, and the endpoint moves on */
        bool ok = true;
        char at[32];
        time_t now = (time_t)(r->now_ms / 1000);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_t *d = json_object();
        json_t *ev = json_loadb((const char *)r->body->p, r->body->n, 0, NULL);
        alert_put(d, "attempts", json_integer((json_int_t)ep.attempts + 1), &ok);
        alert_put(d, "error", json_string(r->why), &ok);
        alert_put(d, "at", json_string(at), &ok);
        alert_put(d, "event", ev ? ev : json_stringn((const char *)r->body->p, r->body->n), &ok);
        cw_buf b = CW_BUF_INIT;
        rc = ok ? alert_canonical(d, &b, err) : cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory (dead letter)");
        if (rc == CW_OK)
            rc = hookdb_dead_put(t, r->url, r->seq, (const char *)b.p, b.n, err);
        cw_buf_free(&b);
        json_decref(d);
        if (rc)
            return rc;
        ep.delivered = r->seq;
        ep.attempts = 0;
        ep.next_ms = 0;
        ep.dead++;
    } else {
        uint64_t base = r->cfg->base_ms ? r->cfg->base_ms : 1000, cap = r->cfg->max_ms ? r->cfg->max_ms : 600000;
        uint64_t delay = base;
        for (uint32_t i = 0; i < ep.attempts && delay < cap; i++)
            delay *= 2;
        if (delay > cap)
            delay = cap;
        ep.attempts++;
        ep.next_ms = r->now_ms + delay;
    }
    r->ep = ep;
    return hookdb_endpoint_put(t, r->url, &ep, err);
}

typedef struct {
    uint64_t min;
    const webhook_config *cfg;
} prune_ctx;

static cw_code prune(store_txn *t, void *arg, cw_err *err)
{
    prune_ctx *p = arg;
    p->min = UINT64_MAX;
    for (size_t i = 0; i < p->cfg->n_urls; i++) {
        hookdb_endpoint ep;
        cw_code rc = hookdb_endpoint_get(t, p->cfg->urls[i], &ep, err);
        if (rc == CW_ENOTFOUND)
            ep.delivered = 0;
        else if (rc)
            return rc;
        if (ep.delivered < p->min)
            p->min = ep.delivered;
    }
    return p->min && p->min != UINT64_MAX ? hookdb_event_remove_through(t, p->min, err) : CW_OK;
}

static const char *event_type(const cw_buf *b, char *out, size_t cap)
{
    json_t *j = json_loadb((const char *)b->p, b->n, 0, NULL);
    snprintf(out, cap, "%s", json_string_value(json_object_get(j, "type")) ? json_string_value(json_object_get(j, "type"))
                                                                            : "unknown");
    json_decref(j);
    return out;
}

cw_code webhook_pass(cw_store *s, const uint8_t sk[64], const webhook_config *cfg, uint64_t now_ms,
                     const atomic_int *stop, webhook_stats *st, cw_err *err)
{
    memset(st, 0, sizeof *st);
    cw_code rc = CW_OK;
    for (size_t i = 0; rc == CW_OK && i < cfg->n_urls; i++) {
        const char *url = cfg->urls[i];
        for (;;) {
            if (stop && atomic_load_explicit(stop, memory_order_relaxed))
                break;
            store_txn *t;
            if ((rc = store_begin(s, false, &t, err)))
                break;
            hookdb_endpoint ep = {0};
            rc = hookdb_endpoint_get(t, url, &ep, err);
            if (rc == CW_ENOTFOUND) {
                memset(&ep, 0, sizeof ep);
                rc = CW_OK;
            }
            first_event f = {0, CW_BUF_INIT, false, CW_OK};
            bool waiting = rc == CW_OK && ep.next_ms > now_ms;
            if (rc == CW_OK && !waiting)
                rc = hookdb_event_each(t, ep.delivered, take_first, &f, err);
            store_abort(t);
            if (rc == CW_OK && f.rc)
                rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory reading a webhook event");
            if (rc || waiting || !f.found) {
                if (waiting && (st->next_due_ms == 0 || ep.next_ms < st->next_due_ms))
                    st->next_due_ms = ep.next_ms;
                cw_buf_free(&f.body);
                break;
            }
            char why[160] = "", type[64];
            event_type(&f.body, type, sizeof type);
            bool ok = post(cfg, sk, url, f.seq, type, (const char *)f.body.p, f.body.n, why, sizeof why);
            /* the retry delay runs from the try's end: a try that took its
             * whole timeout must not be followed at once by the next */
            uint64_t ended = webhook_now_ms();
            try_result r = {url, cfg, f.seq, ended > now_ms ? ended : now_ms, ok, why, &f.body, {0}};
            rc = store_write(s, write_try, &r, err);
            cw_buf_free(&f.body);
            if (rc)
                break;
            if (ok)
                st->delivered++;
            else if (r.ep.attempts == 0)
                st->dead++; /* moved on past a dead letter: go on with the next event */
            else {
                st->failed++;
                if (st->next_due_ms == 0 || r.ep.next_ms < st->next_due_ms)
                    st->next_due_ms = r.ep.next_ms;
                break;
            }
        }
    }
    if (rc)
        return rc;
    prune_ctx p = {0, cfg};
    if ((rc = store_write(s, prune, &p, err)))
        return rc;
    /* what is still owed */
    store_txn *t;
    if ((rc = store_begin(s, false, &t, err)))
        return rc;
    uint64_t last;
    rc = hookdb_event_last(t, &last, err);
    for (size_t i = 0; rc == CW_OK && i < cfg->n_urls; i++) {
        hookdb_endpoint ep;
        cw_code g = hookdb_endpoint_get(t, cfg->urls[i], &ep, err);
        if (g == CW_ENOTFOUND)
            ep.delivered = 0;
        else if (g)
            rc = g;
        if (rc == CW_OK && last > ep.delivered)
            st->pending += last - ep.delivered;
    }
    store_abort(t);
    return rc;
}

typedef struct {
    cw_buf *out;
    uint64_t last;
    cw_code rc;
    cw_err *err;
} status_ctx;

static bool put_line(status_ctx *c, json_t *o)
{
    if (o == NULL) {
        c->rc = cw_err_set(c->err, CW_ENOMEM, CW_NO_OFFSET, "out of memory listing webhooks");
        return false;
    }
    c->rc = alert_canonical(o, c->out, c->err);
    if (c->rc == CW_OK)
        c->rc = cw_buf_append(c->out, "\n", 1, c->err);
    json_decref(o);
    return c->rc == CW_OK;
}

static bool status_endpoint(void *ctx, const char *url, const hookdb_endpoint *ep)
{
    status_ctx *c = ctx;
    bool ok = true;
    json_t *o = json_object();
    alert_put(o, "endpoint", json_string(url), &ok);
    alert_put(o, "delivered", json_integer((json_int_t)ep->delivered), &ok);
    alert_put(o, "attempts", json_integer((json_int_t)ep->attempts), &ok);
    alert_put(o, "next_try_ms", json_integer((json_int_t)ep->next_ms), &ok);
    alert_put(o, "dead", json_integer((json_int_t)ep->dead), &ok);
    alert_put(o, "pending", json_integer((json_int_t)(c->last > ep->delivered ? c->last - ep->delivered : 0)), &ok);
    if (!ok) {
        json_decref(o);
        o = NULL;
    }
    return put_line(c, o);
}

static bool status_dead(void *ctx, const char *url, uint64_t seq, cw_span rec)
{
    status_ctx *c = ctx;
    json_t *o = json_loadb((const char *)rec.p, rec.n, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
        bool ok = true;
        alert_put(o, "error", json_string("a dead letter that does not decode"), &ok);
    }
    bool ok = true;
    alert_put(o, "dead_letter", json_string(url), &ok);
    alert_put(o, "seq", json_integer((json_int_t)seq), &ok);
    if (!ok) {
        json_decref(o);
        o = NULL;
    }
    return put_line(c, o);
}

static bool count_event(void *ctx, uint64_t seq, cw_span body)
{
    (void)seq, (void)body;
    (*(uint64_t *)ctx)++;
    return true;
}

cw_code webhook_status(store_txn *t, cw_buf *out, cw_err *err)
{
    status_ctx c = {out, 0, CW_OK, err};
    uint64_t queued = 0;
    cw_code rc = hookdb_event_last(t, &c.last, err);
    if (rc == CW_OK)
        rc = hookdb_endpoint_each(t, status_endpoint, &c, err);
    if (rc == CW_OK)
        rc = c.rc;
    if (rc == CW_OK)
        rc = hookdb_dead_each(t, status_dead, &c, err);
    if (rc == CW_OK)
        rc = c.rc;
    if (rc == CW_OK)
        rc = hookdb_event_each(t, 0, count_event, &queued, err);
    if (rc == CW_OK) {
        bool ok = true;
        json_t *o = json_object();
        alert_put(o, "events_stored", json_integer((json_int_t)queued), &ok);
        alert_put(o, "last_seq", json_integer((json_int_t)c.last), &ok);
        if (!ok) {
            json_decref(o);
            o = NULL;
        }
        put_line(&c, o);
        rc = c.rc;
    }
    return rc;
}

/* ---- the store errors' log (webhook_errlog) ---- */

bool webhook_error_passes(const cw_err *err) { return store_error_passes(err) || err->code == CW_ENOMEM; }

void webhook_errlog_init(webhook_errlog *l, uint64_t window_ms)
{
    memset(l, 0, sizeof *l);
    l->window_ms = window_ms ? window_ms : WEBHOOK_LOG_WINDOW_MS;
}

/* The counted runs as a clause: "N more runs of store errors (M failed
 * passes) came and went in the last S s, not logged one by one". */
static void errlog_hidden(const webhook_errlog *l, uint64_t now_ms, char *out, size_t cap)
{
    snprintf(out, cap, "%llu more run%s of store errors (%llu failed pass%s) came and went in the last %.1f s, not "
                       "logged one by one (at most one line every %llu s)",
             (unsigned long long)l->hidden_runs, l->hidden_runs == 1 ? "" : "s", (unsigned long long)l->hidden_fails,
             l->hidden_fails == 1 ? "" : "es", (double)(now_ms - l->hidden_since_ms) / 1000.0,
             (unsigned long long)(l->window_ms / 1000));
}

/* The current run joins the counted ones (it ended, or the deliverer
 * stops, without its line). */
static void errlog_hide_run(webhook_errlog *l)
{
    if (l->hidden_runs++ == 0)
        l->hidden_since_ms = l->run_since_ms;
    l->hidden_fails += l->run_fails;
    snprintf(l->hidden_msg, sizeof l->hidden_msg, "%s", l->run_msg);
}

webhook_log_level webhook_errlog_failed(webhook_errlog *l, const char *url, uint64_t now_ms, const cw_err *err,
                                        uint64_t retry_ms, char *line, size_t cap)
{
    const char *msg = err && err->msg[0] ? err->msg : "store error";
    if (!l->failing) {
        l->failing = true;
        l->told = false;
        l->run_since_ms = now_ms;
        l->run_fails = 0;
        l->runs++;
    }
    l->run_fails++;
    l->fails++;
    snprintf(l->run_msg, sizeof l->run_msg, "%s", msg);
    if (now_ms < l->next_line_ms)
        return WEBHOOK_LOG_NONE; /* counted: the run's line, or its change, waits for the quiet time's end */
    if (l->told) {
        if (strcmp(l->told_msg, msg) == 0)
            return WEBHOOK_LOG_NONE;
        snprintf(line, cap, "delivery to %s still failing, now: %s", url, msg);
    } else {
        char hidden[300] = "", lasting[120] = "";
        if (l->hidden_runs) {
            char h[260];
            errlog_hidden(l, now_ms, h, sizeof h);
            snprintf(hidden, sizeof hidden, "; before this, %s", h);
        }
        if (l->run_fails > 1) /* a run that started in the quiet time and lasted */
            snprintf(lasting, sizeof lasting, " (failing for %.1f s, %llu failed passes)",
                     (double)(now_ms - l->run_since_ms) / 1000.0, (unsigned long long)l->run_fails);
        snprintf(line, cap,
                 "delivery to %s is failing: %s%s; the events stay in the store, retrying after %llu ms, then up to "
                 "every %d s%s",
                 url, msg, lasting, (unsigned long long)retry_ms, WEBHOOK_STORE_RETRY_MAX_MS / 1000, hidden);
        l->told = true;
        l->hidden_runs = l->hidden_fails = l->hidden_since_ms = 0;
    }
    snprintf(l->told_msg, sizeof l->told_msg, "%s", msg);
    l->next_line_ms = now_ms + l->window_ms;
    return WEBHOOK_LOG_ERROR;
}

webhook_log_level webhook_errlog_worked(webhook_errlog *l, const char *url, uint64_t now_ms, uint64_t pending,
                                        char *line, size_t cap)
{
    if (l->failing) {
        l->failing = false;
        if (l->told) {
            l->told = false;
            snprintf(line, cap, "delivery to %s resumed after %.1f s of store errors (%llu failed pass%s); %llu "
                                "events still owed",
                     url, (double)(now_ms - l->run_since_ms) / 1000.0, (unsigned long long)l->run_fails,
                     l->run_fails == 1 ? "" : "es", (unsigned long long)pending);
            return WEBHOOK_LOG_INFO;
        }
        errlog_hide_run(l);
    }
    if (l->hidden_runs == 0 || now_ms < l->next_line_ms)
        return WEBHOOK_LOG_NONE;
    char h[260];
    errlog_hidden(l, now_ms, h, sizeof h);
    snprintf(line, cap, "delivery to %s: %s; the last: %s; delivering between them", url, h, l->hidden_msg);
    l->hidden_runs = l->hidden_fails = l->hidden_since_ms = 0;
    l->next_line_ms = now_ms + l->window_ms;
    return WEBHOOK_LOG_WARN;
}

webhook_log_level webhook_errlog_end(webhook_errlog *l, const char *url, uint64_t now_ms, char *line, size_t cap)
{
    bool still = l->failing && !l->told;
    if (still) {
        errlog_hide_run(l);
        l->failing = false;
    }
    if (l->hidden_runs == 0)
        return WEBHOOK_LOG_NONE;
    char h[260];
    errlog_hidden(l, now_ms, h, sizeof h);
    snprintf(line, cap, "delivery to %s: %s; the last: %s%s", url, h, l->hidden_msg,
             still ? " (still failing at the stop)" : "");
    l->hidden_runs = l->hidden_fails = l->hidden_since_ms = 0;
    return WEBHOOK_LOG_WARN;
}

/* ---- the lock and the runner ---- */

cw_code webhook_lock(const char *datadir, int *fd, cw_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/webhooks.lock", datadir);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f < 0) { /* the datadir's own file: a store that cannot be opened (exit 3), never a file of the verb's */
        int e = errno;
        cw_err_set(err, CW_ESTORE, CW_NO_OFFSET, "cannot open %s: %s", path, strerror(e));
        if (err)
            err->cause = e;
        return CW_ESTORE;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(f, F_SETLK, &fl) != 0) {
        close(f);
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "another deliverer holds %s (one per datadir: stop it, or let it deliver)", path);
    }
    *fd = f;
    return CW_OK;
}

struct webhook_runner {
    pthread_t thread;
    pthread_mutex_t mu; /* stop's wake-up and the health below */
    pthread_cond_t cv;
    /* Set once by webhook_runner_stop (under mu, so a runner_wait that
     * checked it under mu cannot miss the signal); read by the thread
     * without mu between passes and, through webhook_pass, between events:
     * an atomic, relaxed, as it carries only itself (the mutex and the
     * join order everything else). */
    atomic_int stop;
    int lock_fd;
    uint8_t *sk;
    cw_store *view;
    webhook_config cfg;
    webhook_health health; /* under mu */
};

/* The wait after a pass: until the earliest retry or 200 ms, or after a
 * store error the backoff; stop wakes it. */
static void runner_wait(webhook_runner *r, uint64_t wait)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += (long)(wait % 1000) * 1000000L;
    until.tv_sec += (time_t)(wait / 1000) + until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&r->mu);
    if (!atomic_load_explicit(&r->stop, memory_order_relaxed))
        pthread_cond_timedwait(&r->cv, &r->mu, &until);
    pthread_mutex_unlock(&r->mu);
}

/* A line in watch's log format ("<UTC time> <level>: ..."), on stderr. */
static void runner_log(const char *level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void runner_log(const char *level, const char *fmt, ...)
{
    char ts[32], line[CW_ERR_MSG_MAX + 600];
    time_t now = time(NULL);
    struct tm tm;
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* one write: the line is not interleaved with the monitor's own */
    fprintf(stderr, "%s %s: webhooks: %s\n", ts, level, line);
}

static const char *const log_levels[] = {"", "error", "warn", "info"};

static void *runner_main(void *arg)
{
    webhook_runner *r = arg;
    uint64_t backoff = 0; /* 0: the last pass worked */
    webhook_errlog log;
    webhook_errlog_init(&log, 0);
    char line[1024];
    webhook_log_level lv;
    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        webhook_stats st;
        cw_err err = {0};
        uint64_t now = webhook_now_ms(), wait = 200;
        cw_code rc = webhook_pass(r->view, r->sk, &r->cfg, now, &r->stop, &st, &err);
        if (rc) {
            backoff = backoff == 0 ? WEBHOOK_STORE_RETRY_MIN_MS : backoff * 2;
            if (backoff > WEBHOOK_STORE_RETRY_MAX_MS)
                backoff = WEBHOOK_STORE_RETRY_MAX_MS;
            if (err.msg[0] == '\0')
                snprintf(err.msg, sizeof err.msg, "store error %d", (int)rc);
            pthread_mutex_lock(&r->mu);
            webhook_health *h = &r->health;
            if (!h->failing)
                h->failing_since_ms = now;
            h->failing = true;
            snprintf(h->error, sizeof h->error, "%s", err.msg);
            h->retry_ms = backoff;
            h->store_errors++;
            h->delivered += st.delivered, h->failed += st.failed, h->dead += st.dead;
            pthread_mutex_unlock(&r->mu);
            if ((lv = webhook_errlog_failed(&log, r->cfg.urls[0], now, &err, backoff, line, sizeof line)))
                runner_log(log_levels[lv], "%s (webhooks.lock is kept%s)", line,
                           webhook_error_passes(&err) ? ""
                                                      : "; this error does not pass by waiting: it recurs on every "
                                                        "pass until the store is repaired");
            wait = backoff;
        } else {
            pthread_mutex_lock(&r->mu);
            webhook_health *h = &r->health;
            h->failing = false;
            h->error[0] = '\0';
            h->failing_since_ms = 0;
            h->retry_ms = 0;
            h->delivered += st.delivered, h->failed += st.failed, h->dead += st.dead;
            h->pending = st.pending;
            h->pending_known = true;
            pthread_mutex_unlock(&r->mu);
            if ((lv = webhook_errlog_worked(&log, r->cfg.urls[0], webhook_now_ms(), st.pending, line, sizeof line)))
                runner_log(log_levels[lv], "%s", line);
            backoff = 0;
            uint64_t t = webhook_now_ms();
            if (st.next_due_ms > t && st.next_due_ms - t < wait)
                wait = st.next_due_ms - t;
        }
        runner_wait(r, wait);
    }
    if ((lv = webhook_errlog_end(&log, r->cfg.urls[0], webhook_now_ms(), line, sizeof line)))
        runner_log(log_levels[lv], "%s", line);
    return NULL;
}

void webhook_runner_health(webhook_runner *r, webhook_health *h)
{
    memset(h, 0, sizeof *h);
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    *h = r->health;
    pthread_mutex_unlock(&r->mu);
    h->url = r->cfg.urls[0];
}

bool webhook_runner_describe(webhook_runner *r, char *out, size_t cap)
{
    webhook_health h;
    webhook_runner_health(r, &h);
    if (r == NULL)
        snprintf(out, cap, "%s", "");
    else if (h.failing)
        snprintf(out, cap, ", webhooks: FAILING for %llu s (%s; next try in %llu ms)",
                 (unsigned long long)((webhook_now_ms() - h.failing_since_ms) / 1000), h.error,
                 (unsigned long long)h.retry_ms);
    else if (!h.pending_known)
        snprintf(out, cap, ", webhooks: %llu delivered, pending not yet known (the first pass runs)",
                 (unsigned long long)h.delivered);
    else
        snprintf(out, cap, ", webhooks: %llu delivered, %llu pending", (unsigned long long)h.delivered,
                 (unsigned long long)h.pending);
    return r != NULL && h.failing;
}

cw_code webhook_runner_start(cw_store *base, const char *datadir, const webhook_config *cfg, webhook_runner **out,
                             cw_err *err)
{
    webhook_runner *r = calloc(1, sizeof *r);
    if (r == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    atomic_init(&r->stop, 0);
    r->cfg = *cfg;
    r->lock_fd = -1;
    cw_code rc = webhook_lock(datadir, &r->lock_fd, err);
    if (rc == CW_OK && (r->sk = keys_secret_open(datadir, err)) == NULL)
        rc = err ? err->code : CW_EIO;
    if (rc == CW_OK)
        rc = store_view_open(base, true, &r->view, err);
    if (rc == CW_OK) {
        pthread_mutex_init(&r->mu, NULL);
        pthread_cond_init(&r->cv, NULL);
        if (pthread_create(&r->thread, NULL, runner_main, r) != 0) {
            pthread_mutex_destroy(&r->mu);
            pthread_cond_destroy(&r->cv);
            rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "cannot start the webhook thread");
        }
    }
    if (rc) {
        store_close(r->view);
        keys_secret_free(r->sk);
        if (r->lock_fd >= 0)
            close(r->lock_fd);
        free(r);
        return rc;
    }
    *out = r;
    return CW_OK;
}

void webhook_runner_stop(webhook_runner *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    atomic_store_explicit(&r->stop, 1, memory_order_relaxed);
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    store_close(r->view);
    keys_secret_free(r->sk);
    close(r->lock_fd);
    free(r);
}
