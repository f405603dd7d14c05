/*
 * cases_api.h: the hold queue's routes, its /metrics lines and the review
 * console, added to the API server (server.h) by cases_api_register.
 *
 * Routes (role review unless said; JSON errors as server.h says):
 *   GET  /v1/cases?status=open|released|blocked&cursor=ID&limit=N
 *        a page in id order: {"cases":[summaries],"next_cursor":ID|null}
 *        (limit 1..500, default 100; cursor: the previous page's
 *        next_cursor, as GET /v1/alerts); 400 for another status, a bad
 *        cursor or limit, an unknown parameter
 *   GET  /v1/cases/{id}            the case, its hold record, its audit
 *        trail and "trail":{"ok","error"} (verified on every read); 404
 *   POST /v1/cases/{id}/release    body {"reason": TEXT, "actor": NAME?}:
 *   POST /v1/cases/{id}/block      200 {"case": case, "entry": new entry}
 *                                  (block: and "report", the draft);
 *   POST /v1/cases/{id}/note       409 when the case's state refuses it
 *        (release or block of a case already released or blocked), 404,
 *        400 (no reason, a body that is not a JSON object, bad text). The
 *        entry's actor is "NAME (key KEYNAME)", or the key's name alone
 *        when the body names nobody: who pressed the button and with which
 *        credential.
 *   GET  /v1/cases/{id}/report     the blocking report draft (JSON);
 *   GET  /v1/cases/{id}/report.html   the same as a printable page; 409
 *        for a case that is not blocked
 *   GET  /v1/cases/{id}/graph.svg  the trace graph (trace_svg.h)
 *   GET  /console, /console/{file} the review console's static files
 *        (public: they hold no data; the pages call the routes above with
 *        the reviewer's key, which the page keeps in sessionStorage)
 * Metrics: chainwatch_cases_open (gauge), chainwatch_cases{state=...}, and
 * per webhook endpoint chainwatch_webhook_pending{endpoint=...} and
 * chainwatch_webhook_dead_letters{endpoint=...}.
 *
 * Writes (release, block, note) go through api_write (store_write), signed
 * with the datadir's key: the server must be writable (api_config.writable;
 * 503 otherwise).
 */
#ifndef CW_CASES_API_H
#define CW_CASES_API_H

#include "chains/err.h"
#include "monitor/api/server.h"

/* Registers the routes, the metrics and the console on srv, before
 * api_server_start (api_register_all, routes.c, calls it). datadir: where
 * signing.key and signing.pub are (read once per process; the secret key
 * is kept in guarded memory, wiped at exit). Without them the queue is
 * still readable, trails show as not verified and decisions answer 503.
 * Errors: api_route's, api_metrics_add's. */
cw_code cases_api_register(api_server *srv, const char *datadir, cw_err *err);

/* The console's embedded files (console_assets.c, generated at build time
 * from monitor/api/console/): the file's bytes and Content-Type, or NULL
 * when there is no such file. */
const unsigned char *cases_console_file(const char *name, size_t *len, const char **content_type);

#endif
