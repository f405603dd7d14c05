/*
 * routes_alerts.c: GET /v1/alerts (paged, filtered) and GET
 * /v1/alerts/{id}, from the latest record of each alert the store keeps
 * (watchlists/alertdb.h).
 *
 * Paging walks the alerts table in id order: a page ends at `limit`
 * matches, or after ALERTS_SCAN_MAX records looked at (a rare filter over
 * a big table), and next_cursor is the last id looked at. The cursor is
 * the key itself, so it stays valid while the monitor writes: records
 * written after it with a higher id come on later pages, those with a
 * lower id are not repeated (walk again from the start to see them).
 */
#include <stdlib.h>
#include <string.h>

#include "monitor/records/alert.h"
#include "routes.h"
#include "watchlists/alertdb.h"

#define ALERTS_LIMIT_DEFAULT 100
#define ALERTS_LIMIT_MAX 1000
#define ALERTS_SCAN_MAX 50000

static bool is_id(const char *s)
{
    if (strlen(s) != 32)
        return false;
    for (int i = 0; i < 32; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static bool is_word(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
            return false;
    return true;
}

/* YYYY-MM-DD, optionally THH:MM[:SS[.mmm]]Z: compared as text with the
 * records' seen_at (UTC, the same form). */
static bool is_time(const char *s)
{
    static const char form[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    size_t n = strlen(s);
    if (n != 10 && n != 17 && n != 20 && n != 24)
        return false;
    for (size_t i = 0; i < n; i++) {
        char f = i + 1 == n && n > 10 ? 'Z' : form[i];
        if (f == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != f)
            return false;
    }
    return true;
}

/* The stored line as JSON, or NULL after a 5xx reply (a record that does
 * not parse is damage, never skipped). */
static json_t *record_json(store_txn *t, cw_span line, api_reply *rep)
{
    json_error_t je;
    json_t *r = json_loadb((const char *)line.p, line.n, JSON_REJECT_DUPLICATES, &je);
    if (r == NULL || !json_is_object(r)) {
        json_decref(r);
        cw_err err = {0};
        store_damaged(t, &err, "an alert record is not a JSON object");
        api_reply_store_error(rep, &err);
        return NULL;
    }
    return r;
}

static void get_alerts(const api_request *req, api_reply *rep, void *ctx)
{
    (void)ctx;
    const char *const *names;
    size_t nq;
    api_query_names(req, &names, &nq);
    for (size_t i = 0; i < nq; i++)
        if (strcmp(names[i], "status") && strcmp(names[i], "rule") && strcmp(names[i], "since") &&
            strcmp(names[i], "cursor") && strcmp(names[i], "limit")) {
            api_reply_error(rep, 400, "bad_request", "unknown query parameter '%.64s' (status, rule, since, cursor, "
                                                     "limit)", names[i]);
            return;
        }
    const char *status = api_query(req, "status"), *rule = api_query(req, "rule"), *since = api_query(req, "since"),
               *cursor = api_query(req, "cursor"), *limit_s = api_query(req, "limit");
    if ((status && !is_word(status)) || (rule && !is_word(rule))) {
        api_reply_error(rep, 400, "bad_request", "status and rule are words like confirmed or designated_address");
        return;
    }
    if (since && !is_time(since)) {
        api_reply_error(rep, 400, "bad_request",
                        "since: a UTC time like 2026-01-31 or 2026-01-31T12:00:00Z (records seen at or after it)");
        return;
    }
    if (cursor && !is_id(cursor)) {
        api_reply_error(rep, 400, "bad_request", "cursor: the next_cursor of the previous page (32 hex digits)");
        return;
    }
    long limit = ALERTS_LIMIT_DEFAULT;
    if (limit_s) {
        char *end;
        limit = strtol(limit_s, &end, 10);
        if (!limit_s[0] || *end || limit < 1 || limit > ALERTS_LIMIT_MAX) {
            api_reply_error(rep, 400, "bad_request", "limit: 1 to %d", ALERTS_LIMIT_MAX);
            return;
        }
    }
    store_txn *t;
    cw_err err = {0};
    if (api_read(req, &t, &err)) {
        api_reply_store_error(rep, &err);
        return;
    }
    store_cursor *c;
    if (store_cursor_open(t, STORE_ALERTS, &c, &err)) {
        api_reply_store_error(rep, &err);
        return;
    }
    json_t *list = json_array(), *out = json_object();
    bool ok = list && out, more = false, failed = false;
    char last[33] = "";
    cw_span k, v;
    size_t scanned = 0;
    bool has = store_cursor_seek(c, cursor, cursor ? 32 : 0, &k, &v);
    if (has && cursor && k.n == 32 && memcmp(k.p, cursor, 32) == 0)
        has = store_cursor_next(c, &k, &v); /* the cursor's own record was on the last page */
    for (; has && ok; has = store_cursor_next(c, &k, &v)) {
        if (json_array_size(list) == (size_t)limit || scanned == ALERTS_SCAN_MAX) {
            more = true;
            break;
        }
        scanned++;
        if (k.n == 32)
            memcpy(last, k.p, 32), last[32] = '\0';
        json_t *r = record_json(t, v, rep);
        if (r == NULL) {
            failed = true;
            break;
        }
        const char *rs = json_string_value(json_object_get(r, "status")),
                   *rr = json_string_value(json_object_get(r, "rule")),
                   *seen = json_string_value(json_object_get(r, "seen_at"));
        bool match = (!status || (rs && strcmp(rs, status) == 0)) && (!rule || (rr && strcmp(rr, rule) == 0)) &&
                     (!since || (seen && strcmp(seen, since) >= 0));
        if (match)
            alert_push(list, r, &ok);
        else
            json_decref(r);
    }
    if (!failed && !more && store_cursor_error(c, &err)) {
        api_reply_store_error(rep, &err); /* a cut walk is an error, never a short last page */
        failed = true;
    }
    store_cursor_close(c);
    if (!failed) {
        alert_put(out, "alerts", list, &ok);
        list = NULL;
        alert_put(out, "next_cursor", more && last[0] ? json_string(last) : json_null(), &ok);
        if (ok)
            api_reply_json(rep, 200, out);
        else
            api_reply_error(rep, 500, "out_of_memory", "out of memory building the reply");
    }
    json_decref(list);
    json_decref(out);
}

static void get_alert(const api_request *req, api_reply *rep, void *ctx)
{
    (void)ctx;
    const char *id = api_param(req, "id");
    if (!is_id(id)) {
        api_reply_error(rep, 400, "bad_request", "alert id '%.64s': 32 lowercase hex digits", id);
        return;
    }
    store_txn *t;
    cw_err err = {0};
    cw_span line;
    cw_code rc = api_read(req, &t, &err);
    if (rc == CW_OK)
        rc = alertdb_latest_get(t, id, &line, &err);
    if (rc == CW_ENOTFOUND) {
        api_reply_error(rep, 404, "not_found", "no alert %s", id);
        return;
    }
    if (rc) {
        api_reply_store_error(rep, &err);
        return;
    }
    json_t *r = record_json(t, line, rep);
    if (r)
        api_reply_json(rep, 200, r);
    json_decref(r);
}

cw_code api_routes_alerts(api_server *srv, cw_err *err)
{
    cw_code rc = api_route(srv, "GET", "/v1/alerts", API_ROLE_REVIEW, get_alerts, NULL, err);
    if (rc == CW_OK)
        rc = api_route(srv, "GET", "/v1/alerts/{id}", API_ROLE_REVIEW, get_alert, NULL, err);
    return rc;
}
