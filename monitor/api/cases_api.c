/* cases_api.c: the hold queue's routes, metrics and console (cases_api.h). */
#include "cases_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"
#include "monitor/api/server_internal.h"
#include "monitor/api/trace_svg.h"
#include "monitor/engine/cases.h"
#include "monitor/engine/screen.h"
#include "monitor/records/alert.h"
#include "monitor/records/keys.h"
#include "monitor/records/webhook.h"
#include "watchlists/exposure.h"
#include "watchlists/hookdb.h"

typedef struct {
    uint8_t *sk; /* keys_secret_open: guarded, read-only */
    uint8_t pk[32];
} cases_ctx;

/* One per process: the routes' ctx (read only once registered). */
static cases_ctx the_ctx;

static void free_ctx(void)
{
    keys_secret_free(the_ctx.sk);
    the_ctx.sk = NULL;
}

/* A reply for an error of the cases module: 404 for no such case, 400 for
 * bad input, 409 for a refused transition, the store's otherwise. */
static void reply_err(api_reply *rep, const cw_err *err, bool conflict)
{
    if (conflict)
        api_reply_error(rep, 409, "conflict", "%s", err->msg);
    else if (err->code == CW_ENOTFOUND)
        api_reply_error(rep, 404, "not_found", "%s", err->msg);
    else if (err->code == CW_EARG)
        api_reply_error(rep, 400, "bad_request", "%s", err->msg);
    else
        api_reply_store_error(rep, err);
}

static bool only_params(const api_request *req, api_reply *rep, const char *const *allowed)
{
    const char *const *names;
    size_t n;
    api_query_names(req, &names, &n);
    for (size_t i = 0; i < n; i++) {
        bool ok = false;
        for (size_t k = 0; allowed && allowed[k] && !ok; k++)
            ok = strcmp(names[i], allowed[k]) == 0;
        if (!ok) {
            api_reply_error(rep, 400, "bad_request", "unknown query parameter '%.64s'", names[i]);
            return false;
        }
    }
    return true;
}

static void get_cases(const api_request *req, api_reply *rep, void *ctx)
{
    (void)ctx;
    static const char *const allowed[] = {"status", "cursor", "limit", NULL};
    if (!only_params(req, rep, allowed))
        return;
    const char *status = api_query(req, "status"), *after = api_query(req, "cursor"), *lim = api_query(req, "limit");
    long limit = 100;
    if (lim) {
        char *end;
        limit = strtol(lim, &end, 10);
        if (*lim == '\0' || *end || limit < 1 || limit > CASES_PAGE_MAX) {
            api_reply_error(rep, 400, "bad_request", "limit must be a whole number from 1 to %d", CASES_PAGE_MAX);
            return;
        }
    }
    if (status && status[0] == '\0')
        status = NULL;
    store_txn *t;
    cw_err err = {0};
    json_t *page = NULL;
    if (api_read(req, &t, &err)) {
        api_reply_store_error(rep, &err);
        return;
    }
    if (cases_list(t, status, after, (size_t)limit, &page, &err)) {
        reply_err(rep, &err, false);
        return;
    }
    api_reply_json(rep, 200, page);
    json_decref(page);
}

static void get_case(const api_request *req, api_reply *rep, void *ctx)
{
    const cases_ctx *c = ctx;
    if (!only_params(req, rep, NULL))
        return;
    store_txn *t;
    cw_err err = {0};
    json_t *out = NULL;
    if (api_read(req, &t, &err)) {
        api_reply_store_error(rep, &err);
        return;
    }
    if (cases_show(t, c->pk, api_param(req, "id"), &out, &err)) {
        reply_err(rep, &err, false);
        return;
    }
    api_reply_json(rep, 200, out);
    json_decref(out);
}

typedef struct {
    const cases_ctx *c;
    const char *id;
    case_action a;
    char actor[CASES_ACTOR_MAX + 1];
    const char *reason;
    bool conflict;
    json_t *entry;
    json_t *shown, *report; /* the case as the step left it, and a block's report draft */
} act_write;

/* The step and the answer in one transaction: the case is read back (and a
 * block's report drawn) before the commit, so the answer never depends on
 * a read after it. A failure to read fails the whole step: nothing is
 * recorded and the error is the answer; once the commit succeeds, the
 * answer is the committed state. */
static cw_code act_fn(store_txn *t, void *arg, cw_err *err)
{
    act_write *w = arg;
    json_decref(w->entry); /* a retry after a full map starts over */
    json_decref(w->shown);
    json_decref(w->report);
    w->entry = w->shown = w->report = NULL;
    cw_code rc = cases_act(t, w->c->sk, w->id, w->a, w->actor, w->reason, &w->conflict, &w->entry, err);
    if (rc == CW_OK)
        rc = cases_show(t, w->c->pk, w->id, &w->shown, err);
    bool not_blocked;
    if (rc == CW_OK && w->a == CASE_BLOCK) /* the trail was checked by cases_act in t: pk NULL */
        rc = cases_report(t, NULL, w->id, &not_blocked, &w->report, err);
    return rc;
}

static void post_action(const api_request *req, api_reply *rep, const cases_ctx *c, case_action a)
{
    if (!only_params(req, rep, NULL))
        return;
    if (!req->server->cfg.writable || c->sk == NULL) {
        api_reply_error(rep, 503, "read_only",
                        "this server cannot record decisions (%s)",
                        c->sk == NULL ? "the datadir has no signing key: run chainwatch init" : "its store is read-only");
        return;
    }
    json_error_t je;
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(body)) {
        api_reply_error(rep, 400, "bad_request", "the body must be a JSON object {\"reason\": ..., \"actor\": ...}%s%s",
                        body ? "" : ": ", body ? "" : je.text);
        json_decref(body);
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        if (strcmp(k, "reason") != 0 && strcmp(k, "actor") != 0) {
            api_reply_error(rep, 400, "bad_request", "unknown field '%.64s' (reason, actor)", k);
            json_decref(body);
            return;
        }
        if (!json_is_string(v)) {
            api_reply_error(rep, 400, "bad_request", "%s must be a string", k);
            json_decref(body);
            return;
        }
    }
    const char *reason = json_string_value(json_object_get(body, "reason"));
    const char *who = json_string_value(json_object_get(body, "actor"));
    const char *key = req->key_name ? req->key_name : "";
    /* The server appends "(key NAME)" itself: an actor holding parentheses
     * could name another key in the signed trail ("bob (key admin)"), and a
     * control character could fake a second line in the printed trail. */
    for (const unsigned char *q = (const unsigned char *)(who ? who : ""); *q; q++) {
        if (*q == '(' || *q == ')' || *q < 0x20 || *q == 0x7f) {
            api_reply_error(rep, 400, "bad_request",
                            "actor: parentheses and control characters are refused (the server adds the key's name)");
            json_decref(body);
            return;
        }
    }
    act_write w = {c, api_param(req, "id"), a, "", reason ? reason : "", false, NULL, NULL, NULL};
    int n;
    if (who && who[0] && key[0])
        n = snprintf(w.actor, sizeof w.actor, "%s (key %s)", who, key);
    else
        n = snprintf(w.actor, sizeof w.actor, "%s", who && who[0] ? who : key);
    if (n < 0 || (size_t)n >= sizeof w.actor) {
        api_reply_error(rep, 400, "bad_request", "the actor is too long (at most %d bytes with the key's name)",
                        CASES_ACTOR_MAX);
        json_decref(body);
        return;
    }
    cw_err err = {0};
    cw_code rc = api_write(req, act_fn, &w, &err);
    json_decref(body);
    if (rc) { /* nothing of the step was committed */
        json_decref(w.entry);
        json_decref(w.shown);
        json_decref(w.report);
        reply_err(rep, &err, w.conflict);
        return;
    }
    json_t *o = json_object();
    bool ok = true;
    alert_put(o, "case", w.shown, &ok);
    alert_put(o, "entry", w.entry, &ok);
    if (w.report) /* a block: the report draft with the decision (also GET .../report) */
        alert_put(o, "report", w.report, &ok);
    if (ok)
        api_reply_json(rep, 200, o);
    else
        api_reply_error(rep, 500, "out_of_memory", "out of memory building the answer (the step was recorded)");
    json_decref(o);
}

static void post_release(const api_request *req, api_reply *rep, void *ctx) { post_action(req, rep, ctx, CASE_RELEASE); }
static void post_block(const api_request *req, api_reply *rep, void *ctx) { post_action(req, rep, ctx, CASE_BLOCK); }
static void post_note(const api_request *req, api_reply *rep, void *ctx) { post_action(req, rep, ctx, CASE_NOTE); }

static void report(const api_request *req, api_reply *rep, const cases_ctx *c, bool html)
{
    if (!only_params(req, rep, NULL))
        return;
    store_txn *t;
    cw_err err = {0};
    json_t *r = NULL;
    bool conflict = false;
    if (api_read(req, &t, &err)) {
        api_reply_store_error(rep, &err);
        return;
    }
    if (cases_report(t, c->pk, api_param(req, "id"), &conflict, &r, &err)) {
        reply_err(rep, &err, conflict);
        return;
    }
    if (!html)
        api_reply_json(rep, 200, r);
    else {
        cw_buf b = CW_BUF_INIT;
        if (cases_report_html(r, &b, &err))
            api_reply_error(rep, 500, "out_of_memory", "%s", err.msg);
        else
            api_reply_body(rep, 200, "text/html; charset=utf-8", b.p, b.n);
        cw_buf_free(&b);
    }
    json_decref(r);
}

static void get_report(const api_request *req, api_reply *rep, void *ctx) { report(req, rep, ctx, false); }

static void get_report_html(const api_request *req, api_reply *rep, void *ctx) { report(req, rep, ctx, true); }

static void get_graph(const api_request *req, api_reply *rep, void *ctx)
{
    const cases_ctx *c = ctx;
    if (!only_params(req, rep, NULL))
        return;
    store_txn *t;
    cw_err err = {0};
    json_t *cs = NULL, *tr = NULL;
    if (api_read(req, &t, &err)) {
        api_reply_store_error(rep, &err);
        return;
    }
    if (cases_show(t, c->pk, api_param(req, "id"), &cs, &err)) {
        reply_err(rep, &err, false);
        return;
    }
    const char *addr = json_string_value(json_object_get(cs, "address"));
    cw_addr a;
    if (addr == NULL || cw_addr_parse(addr, CW_NET_ANY, &a, &err) != CW_OK) {
        api_reply_error(rep, 500, "bad_case", "the case's address does not parse");
        json_decref(cs);
        return;
    }
    if ((tr = json_object()) == NULL || screen_trace(t, &a, EXPOSURE_MAX_HOPS, tr, &err)) {
        json_decref(tr);
        json_decref(cs);
        api_reply_store_error(rep, &err);
        return;
    }
    cw_buf b = CW_BUF_INIT;
    if (trace_svg(tr, json_string_value(json_object_get(cs, "txid")), &b, &err))
        api_reply_error(rep, 500, "out_of_memory", "%s", err.msg);
    else
        api_reply_body(rep, 200, "image/svg+xml; charset=utf-8", b.p, b.n);
    cw_buf_free(&b);
    json_decref(tr);
    json_decref(cs);
}

static void serve_file(api_reply *rep, const char *name)
{
    size_t n;
    const char *type;
    const unsigned char *p = cases_console_file(name, &n, &type);
    if (p == NULL) {
        api_reply_error(rep, 404, "not_found", "no console file '%.64s'", name);
        return;
    }
    api_reply_body(rep, 200, type, p, n);
}

static void get_console(const api_request *req, api_reply *rep, void *ctx)
{
    (void)ctx;
    (void)req;
    serve_file(rep, "index.html");
}

static void get_console_file(const api_request *req, api_reply *rep, void *ctx)
{
    (void)ctx;
    serve_file(rep, api_param(req, "file"));
}

/* ---- metrics ---- */

typedef struct {
    cw_buf *out;
    uint64_t last;
    cw_code rc;
    cw_err *err;
} hook_metrics;

static void add(cw_buf *out, const char *s, cw_code *rc, cw_err *err)
{
    if (*rc == CW_OK)
        *rc = cw_buf_append(out, s, strlen(s), err);
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void add_label(cw_buf *out, const char *s, cw_code *rc, cw_err *err)
{
    for (; *s && *rc == CW_OK; s++) {
        const char *e = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
        *rc = e ? cw_buf_append(out, e, strlen(e), err) : cw_buf_append(out, s, 1, err);
    }
}

static bool endpoint_metrics(void *ctx, const char *url, const hookdb_endpoint *ep)
{
    hook_metrics *m = ctx;
    char line[64];
    for (int which = 0; which < 2 && m->rc == CW_OK; which++) {
        add(m->out, which ? "chainwatch_webhook_dead_letters{endpoint=\"" : "chainwatch_webhook_pending{endpoint=\"", &m->rc,
            m->err);
        add_label(m->out, url, &m->rc, m->err);
        snprintf(line, sizeof line, "\"} %llu\n",
                 (unsigned long long)(which ? ep->dead : (m->last > ep->delivered ? m->last - ep->delivered : 0)));
        add(m->out, line, &m->rc, m->err);
    }
    return m->rc == CW_OK;
}

static cw_code metrics(void *ctx, store_txn *t, cw_buf *out, cw_err *err)
{
    (void)ctx;
    cases_counts n;
    cw_code rc = cases_count(t, &n, err);
    if (rc)
        return rc;
    char s[512];
    snprintf(s, sizeof s,
             "# HELP chainwatch_cases_open Hold cases waiting for a review.\n"
             "# TYPE chainwatch_cases_open gauge\n"
             "chainwatch_cases_open %llu\n"
             "# HELP chainwatch_cases Cases by state.\n"
             "# TYPE chainwatch_cases gauge\n"
             "chainwatch_cases{state=\"open\"} %llu\n"
             "chainwatch_cases{state=\"released\"} %llu\n"
             "chainwatch_cases{state=\"blocked\"} %llu\n",
             (unsigned long long)n.open, (unsigned long long)n.open, (unsigned long long)n.released,
             (unsigned long long)n.blocked);
    add(out, s, &rc, err);
    add(out,
        "# HELP chainwatch_webhook_pending Events not yet delivered to a webhook endpoint.\n"
        "# TYPE chainwatch_webhook_pending gauge\n"
        "# HELP chainwatch_webhook_dead_letters Events given up on after the last try, per endpoint.\n"
        "# TYPE chainwatch_webhook_dead_letters counter\n",
        &rc, err);
    hook_metrics m = {out, 0, rc, err};
    if (rc == CW_OK && (rc = hookdb_event_last(t, &m.last, err)) == CW_OK)
        rc = hookdb_endpoint_each(t, endpoint_metrics, &m, err);
    return rc ? rc : m.rc;
}

cw_code cases_api_register(api_server *srv, const char *datadir, cw_err *err)
{
    /* without keys (a datadir made before init made them) the queue is still
     * readable: trails then show as not verified, decisions answer 503 */
    if (the_ctx.sk == NULL && keys_load_public(datadir, the_ctx.pk, NULL) == CW_OK &&
        (the_ctx.sk = keys_secret_open(datadir, NULL)) != NULL)
        atexit(free_ctx);
    static const struct {
        const char *method, *pattern;
        api_role role;
        api_handler fn;
    } routes[] = {
        {"GET", "/v1/cases", API_ROLE_REVIEW, get_cases},
        {"GET", "/v1/cases/{id}", API_ROLE_REVIEW, get_case},
        {"POST", "/v1/cases/{id}/release", API_ROLE_REVIEW, post_release},
        {"POST", "/v1/cases/{id}/block", API_ROLE_REVIEW, post_block},
        {"POST", "/v1/cases/{id}/note", API_ROLE_REVIEW, post_note},
        {"GET", "/v1/cases/{id}/report", API_ROLE_REVIEW, get_report},
        {"GET", "/v1/cases/{id}/report.html", API_ROLE_REVIEW, get_report_html},
        {"GET", "/v1/cases/{id}/graph.svg", API_ROLE_REVIEW, get_graph},
        {"GET", "/console", API_ROLE_PUBLIC, get_console},
        {"GET", "/console/{file}", API_ROLE_PUBLIC, get_console_file},
    };
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        cw_code rc = api_route(srv, routes[i].method, routes[i].pattern, routes[i].role, routes[i].fn, &the_ctx, err);
        if (rc)
            return rc;
    }
    return api_metrics_add(srv, metrics, NULL, err);
}
