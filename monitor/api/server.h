/*
 * server.h: chainwatch's HTTP API server (libmicrohttpd) and the contract
 * every route is written against. `chainwatch serve` runs it alone;
 * `watch --api=ADDR:PORT` runs it in the monitor's process, beside the
 * pipeline, on its own threads.
 *
 * Design note. The server only READS the store, through LMDB read
 * transactions, while `watch` writes it: the environment is MDB_NOTLS, so
 * readers take no lock a writer holds and screening never waits for a
 * block. Each server thread gets its own view of the process's one
 * environment (store_view_open, store.h): the rule "one cw_store per
 * thread" holds, the one LMDB environment per process too. A handler's
 * read transaction (api_read) is begun at its first use and ended after
 * the reply is made: a reply is one snapshot of the store.
 *
 * Requests: the server reads the raw target (path and query) itself
 * (api_url_parse, request.h, fuzzed), refuses what is malformed with a 4xx
 * JSON error, collects a body up to cfg.max_body bytes (413 past it),
 * authenticates the key (X-API-Key: KEY, or Authorization: Bearer KEY),
 * checks the route's role and the key's rate, then calls the handler on
 * the thread that owns the connection.
 *
 * Errors: every error reply is JSON, {"error":{"code":"...",
 * "message":"..."}}, with a 4xx status for what the caller sent and 5xx
 * for what the server could not do: a store error is 503 ("the check could
 * not be made"), never an empty answer (fail closed).
 *
 * ---- adding routes (the contract for other modules, e.g. cases) ----
 *
 * A module writes handlers and one registration function, and
 * api_register_all (routes.c) calls it, one line per module:
 *
 *   static void get_case(const api_request *req, api_reply *rep, void *ctx)
 *   {
 *       const char *id = api_param(req, "id");  // from "/v1/cases/{id}"
 *       store_txn *t;
 *       cw_err err = {0};
 *       if (api_read(req, &t, &err)) { api_reply_store_error(rep, &err); return; }
 *       ... read with t (never end it: the server does) ...
 *       api_reply_json(rep, 200, obj);           // or api_reply_error(rep, 404, "not_found", "no case %s", id)
 *   }
 *   cw_code cases_api_register(api_server *srv, cw_err *err)
 *   {
 *       return api_route(srv, "GET", "/v1/cases/{id}", API_ROLE_REVIEW, get_case, NULL, err);
 *   }
 *
 * Handlers run on several threads at once: ctx is shared, so it is
 * read-only or the module locks it. A handler must set a reply (an unset
 * reply is sent as a 500 JSON error) and must not block for long (a
 * request's time limit is cfg.timeout_s).
 *
 * A module whose routes write (api_write) needs the store open read-write:
 * `serve` does so when cli_api_opts.writable is set (monitor/cli/cli.h),
 * which also sets api_config.writable; `watch --api` shares the monitor's
 * read-write store. Writes from API threads go through store_write on the
 * thread's view: LMDB serialises them with the monitor's writes.
 * Live facts of a `watch` (feed, blocks) are in status.h (api_status):
 * api_server_status(req->server), NULL under `serve`.
 */
#ifndef CW_API_SERVER_H
#define CW_API_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/buf.h"
#include "chains/err.h"
#include "watchlists/store/store.h"

/* Roles of API keys, each allowing what those below it allow: a review key
 * screens too, an admin key does everything. API_ROLE_PUBLIC routes need
 * no key (/healthz, /metrics). */
typedef enum { API_ROLE_PUBLIC = 0, API_ROLE_SCREEN, API_ROLE_REVIEW, API_ROLE_ADMIN } api_role;

/* "public", "screen", "review", "admin". */
const char *api_role_name(api_role r);
/* The role named by text; false when there is none of that name. */
bool api_role_from_name(const char *text, api_role *out);

typedef struct api_server api_server;

/* One request as a handler sees it. Every string is NUL-terminated, owned
 * by the server and valid during the handler's call only. */
typedef struct api_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* the decoded path, "/v1/alerts/abc" */
    const char *body;   /* the body (NUL-terminated; may hold NULs: use body_len); "" when none */
    size_t body_len;
    api_role role;          /* of the key that authenticated (API_ROLE_PUBLIC: no key given) */
    const char *key_name;   /* that key's name, the actor in audit trails; "" when no key */
    const char *content_type; /* the request's Content-Type, "" when none */
    api_server *server;
    void *priv; /* the server's */
} api_request;

/* The value of "{name}" in the route's pattern, percent-decoded; NULL when
 * the pattern has no such name. */
const char *api_param(const api_request *req, const char *name);
/* The value of the query parameter name, percent-decoded ("" for "?x"
 * without '='); NULL when absent. A repeated parameter is refused (400)
 * before the handler runs. */
const char *api_query(const api_request *req, const char *name);
/* Every query parameter's name, for handlers that refuse unknown ones:
 * names[i] for i < *n, owned like the request. */
void api_query_names(const api_request *req, const char *const **names, size_t *n);

/* The request's read transaction on this thread's view of the store: begun
 * at the first call, the same one on later calls, ended by the server
 * after the handler returns (never commit or abort it). Errors: the
 * store's (reply with api_reply_store_error). */
cw_code api_read(const api_request *req, store_txn **t, cw_err *err);
/* A write on this thread's view of the store: store_write (store.h) with
 * fn and ctx. Ends the request's read transaction first (a later api_read
 * begins a new one, seeing the write). CW_EARG when the server's store is
 * read-only (api_config.writable false). */
cw_code api_write(const api_request *req, store_write_fn fn, void *ctx, cw_err *err);

/* What a handler answers. Set it with the functions below; the last call
 * wins (an earlier body is dropped). */
typedef struct api_reply {
    int status;               /* 0 until set */
    const char *content_type; /* a static string */
    cw_buf body;              /* owned by the reply */
    char location[256];       /* a Location header when not empty (redirects, created resources) */
} api_reply;

/* v as canonical JSON (alert_canonical: sorted keys, one line) with status.
 * On failure to print (out of memory) the reply becomes a 500 error. Does
 * not take v: the caller still owns (and decrefs) it. */
void api_reply_json(api_reply *rep, int status, const json_t *v);
/* {"error":{"code":code,"message":...}} with status (4xx: the caller's
 * mistake, what and where; 5xx: the server's). code is a short stable
 * word ("bad_request", "not_found", "unauthorized", "forbidden",
 * "too_large", "rate_limited", "store_error", ...). */
void api_reply_error(api_reply *rep, int status, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* A store error as the reply: 503 "store_error" with its message (never
 * an empty answer); CW_ENOMEM is 500. */
void api_reply_store_error(api_reply *rep, const cw_err *err);
/* The reply's body, emptied, for a handler that writes its answer in
 * place (no copy; e.g. with the JSON writer, chains/json.h): the reply is
 * set to status and content_type (a static string) now. On a failure to
 * write (cw_json_ok false) the handler replaces the reply with
 * api_reply_error, as any later call does. Owned by the reply. */
cw_buf *api_reply_buf(api_reply *rep, int status, const char *content_type);
/* Any other body (HTML, SVG, text): data copied, content_type a static
 * string such as "text/html; charset=utf-8". */
void api_reply_body(api_reply *rep, int status, const char *content_type, const void *data, size_t n);

/* A route's handler: reads req, sets rep. */
typedef void (*api_handler)(const api_request *req, api_reply *rep, void *ctx);

/* Registers a route before api_server_start: method ("GET", "POST", ...)
 * and a pattern of literal segments and "{name}" segments, each matching
 * one non-empty path segment ("/v1/cases/{id}/release"). A request matching
 * no pattern is 404; a path matching with another method 405. The key's
 * role must be at least `role` (401 without a valid key, 403 with a key of
 * a lower role). CW_EARG: a malformed pattern, the same method and pattern
 * twice, more than API_MAX_ROUTES, or a server already started. */
#define API_MAX_ROUTES 64
#define API_MAX_PARAMS 8
cw_code api_route(api_server *srv, const char *method, const char *pattern, api_role role, api_handler fn, void *ctx,
                  cw_err *err);

/* Lines appended to GET /metrics (Prometheus text format, each family
 * with its # HELP and # TYPE lines), e.g. cases open. Called on a server
 * thread with the request's read transaction t; a returned error makes
 * /metrics a 503. At most 8 per server, registered before start. */
typedef cw_code (*api_metrics_fn)(void *ctx, store_txn *t, cw_buf *out, cw_err *err);
cw_code api_metrics_add(api_server *srv, api_metrics_fn fn, void *ctx, cw_err *err);

/* Every route of chainwatch (routes.c): the core routes and each module's
 * registration function, one line each. */
cw_code api_register_all(api_server *srv, cw_err *err);

/* ---- the server ---- */

typedef struct {
    const char *listen;      /* "127.0.0.1:8480", "[::1]:8480"; port 0 picks a free one (api_server_port) */
    bool allow_remote;       /* a bind to a non-loopback address is refused unless true */
    const char *datadir;     /* where apikeys lives (keys.h) */
    unsigned threads;        /* server threads (0: 2) */
    size_t max_body;         /* bytes (0: 1 MiB); larger bodies are 413 */
    unsigned timeout_s;      /* idle connection, request and reply time limit (0: 10 s; deadline.h) */
    unsigned reply_rate;     /* bytes/s: a reply's limit grows by a second per reply_rate bytes (0: 16384) */
    unsigned rate_per_key;   /* requests per second per API key (0: unlimited); past it 429 */
    unsigned max_connections; /* (0: 1024) */
    bool writable;           /* the views may write (api_write); else read-only */
    const char *feed_name;   /* for /healthz: what feeds the store ("watch", "serve": none of its own) */
    const void *flows_template; /* a flows_opts (monitor/cli/args_flows.h) as the verb read it: the screening
                                 * policy (hops, shares, labels file); NULL: the defaults */
    struct webhook_runner *webhooks; /* the verb's webhook deliverer (monitor/records/webhook.h), reported by
                                      * /healthz and /metrics; NULL: none in this process. It must outlive
                                      * the server (stop it after api_server_free). */
} api_config;

/* Live facts of a `watch` running in the same process, for /metrics and
 * /healthz (NULL from `serve`: only what the store knows). The watch
 * thread updates them with relaxed atomics (api_status_*). */
typedef struct api_status api_status;

/* Makes a server on store s (the caller's; it must outlive the server):
 * the routes are added by the caller (api_register_all) before start.
 * Nothing listens yet. */
cw_code api_server_new(const api_config *cfg, cw_store *s, api_status *status, api_server **out, cw_err *err);
/* Binds and starts the threads. CW_EARG: a listen address that does not
 * parse, or a non-loopback one without allow_remote; CW_EIO: the bind
 * failed (in use, no permission), with the address in the message;
 * CW_EIO too when the API keys file cannot be read. */
cw_code api_server_start(api_server *srv, cw_err *err);
/* The port bound (after start). */
unsigned api_server_port(const api_server *srv);
/* The status given to api_server_new (a running watch's), or NULL. */
api_status *api_server_status(const api_server *srv);
/* The datadir of the server's config (where apikeys and a module's own
 * files live). */
const char *api_server_datadir(const api_server *srv);
/* Stops (after start: waits for the threads) and frees srv. NULL is a
 * no-op. */
void api_server_free(api_server *srv);

#endif
