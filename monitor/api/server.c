/*
 * server.c: the HTTP server (libmicrohttpd) under the routes (server.h).
 *
 * Design note. MHD runs a pool of threads (cfg.threads), each with its own
 * epoll loop; a connection stays on one thread, and its handler runs
 * there. Each thread opens its own view of the store at its first request
 * (store_view_open, kept in its api_thread, in a pthread key) and one read
 * transaction per request (the view renews one reset LMDB transaction),
 * and reuses the states of its ended requests (a screening allocates its
 * reply's body, which MHD frees, and MHD's own). Per request: the raw target comes from MHD's URI log callback
 * (before MHD decodes anything) and is parsed by api_url_parse; the body is
 * collected up to max_body; then key, role, rate, route. Counters for
 * /metrics are relaxed atomics per route (no lock on the request path but
 * the key set's read lock and the rate bucket's mutex).
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <time.h>

#include "chains/json.h"
#include "monitor/engine/rules/rules.h"
#include "keys.h"
#include "request.h"
#include "deadline.h"
#include "routes.h"
#include "server_internal.h"
#include "monitor/engine/flows.h"
#include "monitor/records/alert.h"

const double api_latency_le[API_LAT_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25, 1.0};

const char *api_role_name(api_role r)
{
    static const char *const names[] = {"public", "screen", "review", "admin"};
    return r <= API_ROLE_ADMIN ? names[r] : "?";
}

bool api_role_from_name(const char *text, api_role *out)
{
    for (int r = API_ROLE_PUBLIC; r <= API_ROLE_ADMIN; r++)
        if (strcmp(text, api_role_name((api_role)r)) == 0) {
            *out = (api_role)r;
            return true;
        }
    return false;
}

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- per-request state ---- */

typedef struct req_state {
    api_request pub;
    api_server *srv;
    double t0;
    char *target; /* the raw target (target_cap bytes, kept when the state is reused) */
    size_t target_len, target_cap;
    struct req_state *next_free; /* on its thread's free list */
    const struct api_route_def *route;
    const char *pnames[API_MAX_PARAMS];
    size_t pname_lens[API_MAX_PARAMS];
    const char *pvalues[API_MAX_PARAMS];
    size_t n_params;
    cw_buf body;
    bool started, refused, too_large, oom;
    int early_status; /* set when the request is refused before its body is read */
    api_reply early;
    store_txn *txn;
    cw_store *view;
    int route_idx;
    char key_name[API_KEY_NAME_MAX + 1];
    api_url url; /* last and big (12 kB): not zeroed per request, api_url_parse sets what it uses */
} req_state;

_Static_assert(sizeof(((req_state *)0)->key_name) == sizeof(((api_key_entry *)0)->name), "key_name copies a name");

/* A server thread's own state (in srv->tkey, made at its first request):
 * its view of the store (also listed in srv->views, closed by
 * api_server_free) and the request states its ended requests left, reused
 * by its next ones (a request's state is 12 kB: a malloc and free of that
 * size per request made glibc consolidate its free lists each time). */
#define API_THREAD_FREE_MAX 64
typedef struct {
    cw_store *view;
    req_state *free;
    size_t n_free;
} api_thread;

const char *api_param(const api_request *req, const char *name)
{
    const req_state *r = req->priv;
    size_t n = strlen(name);
    for (size_t i = 0; i < r->n_params; i++)
        if (r->pname_lens[i] == n && memcmp(r->pnames[i], name, n) == 0)
            return r->pvalues[i];
    return NULL;
}

const char *api_query(const api_request *req, const char *name)
{
    const req_state *r = req->priv;
    return api_url_query(&r->url, name);
}

void api_query_names(const api_request *req, const char *const **names, size_t *n)
{
    const req_state *r = req->priv;
    *names = r->url.qname;
    *n = r->url.n_query;
}

/* This thread's state (made at its first request), NULL out of memory. */
static api_thread *thread_state(api_server *srv)
{
    api_thread *th = pthread_getspecific(srv->tkey);
    if (th == NULL && (th = calloc(1, sizeof *th)) != NULL && pthread_setspecific(srv->tkey, th) != 0) {
        free(th);
        th = NULL;
    }
    return th;
}

/* This thread's view of the store (opened at its first read). */
static cw_code thread_view(api_server *srv, cw_store **out, cw_err *err)
{
    api_thread *th = thread_state(srv);
    if (th == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    cw_store *v = th->view;
    if (v == NULL) {
        cw_code rc = store_view_open(srv->store, srv->cfg.writable, &v, err);
        if (rc)
            return rc;
        pthread_mutex_lock(&srv->mu);
        if (srv->n_views == API_MAX_VIEWS) {
            pthread_mutex_unlock(&srv->mu);
            store_close(v);
            return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "api: more server threads than views");
        }
        srv->views[srv->n_views++] = v;
        pthread_mutex_unlock(&srv->mu);
        th->view = v;
    }
    *out = v;
    return CW_OK;
}

cw_code api_read(const api_request *req, store_txn **t, cw_err *err)
{
    req_state *r = req->priv;
    if (r->txn == NULL) {
        if (r->view == NULL) {
            cw_code rc = thread_view(r->srv, &r->view, err);
            if (rc)
                return rc;
        }
        cw_code rc = store_begin(r->view, false, &r->txn, err);
        if (rc)
            return rc;
    }
    *t = r->txn;
    return CW_OK;
}

cw_code api_write(const api_request *req, store_write_fn fn, void *ctx, cw_err *err)
{
    req_state *r = req->priv;
    if (!r->srv->cfg.writable)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "api: the server's store is read-only");
    if (r->txn) {
        store_abort(r->txn);
        r->txn = NULL;
    }
    if (r->view == NULL) {
        cw_code rc = thread_view(r->srv, &r->view, err);
        if (rc)
            return rc;
    }
    return store_write(r->view, fn, ctx, err);
}

/* ---- replies ---- */

static void reply_reset(api_reply *rep) { rep->body.n = 0; }

cw_buf *api_reply_buf(api_reply *rep, int status, const char *content_type)
{
    reply_reset(rep);
    rep->status = status;
    rep->content_type = content_type;
    return &rep->body;
}

void api_reply_body(api_reply *rep, int status, const char *content_type, const void *data, size_t n)
{
    reply_reset(rep);
    if (cw_buf_append(&rep->body, data, n, NULL)) {
        api_reply_error(rep, 500, "out_of_memory", "out of memory building the reply");
        return;
    }
    rep->status = status;
    rep->content_type = content_type;
}

void api_reply_json(api_reply *rep, int status, const json_t *v)
{
    reply_reset(rep);
    cw_err err = {0};
    if (alert_canonical(v, &rep->body, &err) || cw_buf_append(&rep->body, "\n", 1, &err)) {
        api_reply_error(rep, 500, "internal", "could not print the reply: %s", err.msg);
        return;
    }
    rep->status = status;
    rep->content_type = "application/json";
}

void api_reply_error(api_reply *rep, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    reply_reset(rep);
    cw_json j;
    cw_json_init(&j, &rep->body);
    cw_json_obj_begin(&j);
    cw_json_key(&j, "error");
    cw_json_obj_begin(&j);
    cw_json_key(&j, "code");
    cw_json_str(&j, code);
    cw_json_key(&j, "message");
    cw_json_str(&j, msg);
    cw_json_obj_end(&j);
    cw_json_obj_end(&j);
    cw_json_newline(&j);
    rep->status = status;
    rep->content_type = "application/json";
    if (!cw_json_ok(&j)) { /* send_reply sends its static 500 for an empty error body */
        cw_buf_free(&rep->body);
        rep->status = 500;
    }
}

void api_reply_store_error(api_reply *rep, const cw_err *err)
{
    if (err->code == CW_ENOMEM)
        api_reply_error(rep, 500, "out_of_memory", "%s", err->msg);
    else
        api_reply_error(rep, 503, "store_error", "the check could not be made: %s", err->msg);
}

/* ---- routes and hooks ---- */

cw_code api_route(api_server *srv, const char *method, const char *pattern, api_role role, api_handler fn, void *ctx,
                  cw_err *err)
{
    if (srv->daemon)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "api: route %s %s added after the server started", method,
                          pattern);
    if (!api_pattern_ok(pattern, API_MAX_PARAMS) || method == NULL || method[0] == '\0' || fn == NULL ||
        role > API_ROLE_ADMIN)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "api: malformed route %s %s", method ? method : "?",
                          pattern ? pattern : "?");
    if (srv->n_routes == API_MAX_ROUTES)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "api: more than %d routes", API_MAX_ROUTES);
    for (size_t i = 0; i < srv->n_routes; i++)
        if (strcmp(srv->routes[i].method, method) == 0 && strcmp(srv->routes[i].pattern, pattern) == 0)
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "api: route %s %s registered twice", method, pattern);
    struct api_route_def *r = &srv->routes[srv->n_routes++];
    memset(r, 0, sizeof *r);
    r->method = method;
    r->pattern = pattern;
    r->role = role;
    r->fn = fn;
    r->ctx = ctx;
    return CW_OK;
}

cw_code api_metrics_add(api_server *srv, api_metrics_fn fn, void *ctx, cw_err *err)
{
    if (srv->daemon || srv->n_metrics == API_MAX_METRICS)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "api: metrics hook refused (after start, or more than %d)",
                          API_MAX_METRICS);
    srv->metrics[srv->n_metrics].fn = fn;
    srv->metrics[srv->n_metrics++].ctx = ctx;
    return CW_OK;
}

/* ---- keys ---- */

/* Reloads the key file when it changed, looked at once a second at most. */
static void keys_refresh(api_server *srv)
{
    int64_t now = (int64_t)time(NULL);
    int64_t last = atomic_load_explicit(&srv->keys_checked, memory_order_relaxed);
    if (now == last || !atomic_compare_exchange_strong(&srv->keys_checked, &last, now))
        return;
    char path[4200];
    snprintf(path, sizeof path, "%s/apikeys", srv->cfg.datadir);
    struct stat st;
    bool exists = stat(path, &st) == 0;
    struct timespec mt = exists ? st.st_mtim : (struct timespec){0};
    ino_t ino = exists ? st.st_ino : 0;
    if (mt.tv_sec == srv->keys_mtime.tv_sec && mt.tv_nsec == srv->keys_mtime.tv_nsec && ino == srv->keys_ino)
        return;
    api_keyset ks;
    cw_err err = {0};
    if (api_keys_load(srv->cfg.datadir, &ks, &err)) {
        /* keep the keys in use; say why once per change */
        fprintf(stderr, "chainwatch: api: keeping the API keys loaded before: %s\n", err.msg);
        srv->keys_mtime = mt;
        srv->keys_ino = ino;
        return;
    }
    pthread_rwlock_wrlock(&srv->keys_lock);
    api_keys_free(&srv->keys);
    srv->keys = ks;
    srv->keys_gen++; /* the keys connections kept (api_conn) are looked up again */
    srv->keys_mtime = mt;
    srv->keys_ino = ino;
    pthread_rwlock_unlock(&srv->keys_lock);
}

/* The key of a request: X-API-Key or Authorization: Bearer. */
static const char *request_key(struct MHD_Connection *c)
{
    const char *k = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-API-Key");
    if (k)
        return k;
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (a && strncasecmp(a, "Bearer ", 7) == 0)
        return a + 7;
    return NULL;
}

/* The bucket of a key (hash; NULL: no valid key), under srv->mu: found by
 * linear probing from the hash; a new key takes the first free slot, or,
 * with every slot taken (more than API_MAX_BUCKETS keys over the server's
 * life), the slot idle longest. */
static api_bucket *bucket_of(api_server *srv, const uint8_t *hash)
{
    if (hash == NULL)
        return &srv->anon_bucket;
    size_t h = ((size_t)hash[0] | (size_t)hash[1] << 8) % API_MAX_BUCKETS;
    api_bucket *idle = NULL;
    for (size_t i = 0; i < API_MAX_BUCKETS; i++) {
        api_bucket *b = &srv->buckets[(h + i) % API_MAX_BUCKETS];
        if (b->used && memcmp(b->hash, hash, 32) == 0)
            return b;
        if (!b->used) {
            idle = b;
            break;
        }
        if (idle == NULL || b->last < idle->last)
            idle = b;
    }
    memset(idle, 0, sizeof *idle);
    memcpy(idle->hash, hash, 32);
    idle->used = true;
    return idle;
}

/* Token bucket per key: rate per second, burst of one second's. */
static bool rate_ok(api_server *srv, const uint8_t *hash)
{
    if (srv->cfg.rate_per_key == 0)
        return true;
    double now = now_mono(), rate = srv->cfg.rate_per_key;
    pthread_mutex_lock(&srv->mu);
    api_bucket *b = bucket_of(srv, hash);
    if (b->last == 0) {
        b->tokens = rate;
        b->last = now;
    }
    b->tokens += (now - b->last) * rate;
    if (b->tokens > rate)
        b->tokens = rate;
    b->last = now;
    bool ok = b->tokens >= 1.0;
    if (ok)
        b->tokens -= 1.0;
    pthread_mutex_unlock(&srv->mu);
    return ok;
}

/* ---- the request path ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)c;
    api_server *srv = cls;
    api_thread *th = thread_state(srv);
    req_state *r;
    char *target = NULL;
    size_t target_cap = 0;
    if (th && th->free) {
        r = th->free;
        th->free = r->next_free;
        th->n_free--;
        target = r->target;
        target_cap = r->target_cap;
    } else if ((r = malloc(sizeof *r)) == NULL) {
        return NULL;
    }
    memset(r, 0, offsetof(req_state, url));
    r->url.n_seg = r->url.n_query = 0;
    r->url.path[0] = '\0';
    r->srv = srv;
    r->t0 = now_mono();
    r->target_len = strlen(uri);
    if (r->target_len + 1 > target_cap) {
        free(target);
        target_cap = r->target_len + 1 > 256 ? r->target_len + 1 : 256;
        if ((target = malloc(target_cap)) == NULL)
            target_cap = 0; /* admit answers 500 */
    }
    if (target)
        memcpy(target, uri, r->target_len + 1);
    r->target = target;
    r->target_cap = target_cap;
    r->pub.priv = r;
    r->pub.server = srv;
    r->pub.body = "";
    r->pub.key_name = "";
    r->pub.content_type = "";
    return r;
}

/* A connection's own record (MHD's socket context): its record for the
 * request deadline (deadline.h) and the API key it presented last.
 *
 * A client sends the same key with every request on a connection. The
 * first is hashed and looked up (api_keys_check: BLAKE2b, then every
 * stored hash compared); what it matched is kept here with the key's
 * text, and while the key set is the one it matched in (keys_gen), a
 * later request whose key has the same text (sodium_memcmp, constant
 * time) takes the kept entry without hashing again: the hash was a
 * twentieth of the server's CPU a screening. A key that matched nothing
 * is not kept (it is looked up each time, as before). A reload of the key
 * file (a key added or revoked) moves keys_gen, so a revoked key is
 * refused from the reload on, exactly as without the record. The kept
 * text is wiped (sodium_memzero) when replaced and when the connection
 * closes. A connection is served by one thread at a time: no lock. */
typedef struct {
    api_deadline_conn *dl;
    uint64_t key_gen; /* the srv->keys_gen entry was matched in; 0: nothing kept */
    size_t key_n;
    char key[API_KEY_TEXT_MAX];
    api_key_entry entry; /* a copy: the set it came from may be freed by a reload */
} api_conn;

static void conn_forget_key(api_conn *k)
{
    sodium_memzero(k->key, sizeof k->key);
    sodium_memzero(&k->entry, sizeof k->entry);
    k->key_n = 0;
    k->key_gen = 0;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    api_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        api_conn *k = ci ? calloc(1, sizeof *k) : NULL;
        if (k) /* without memory: no deadline and no kept key (deadline.h takes NULL) */
            k->dl = api_deadline_open(srv->deadline, ci->connect_fd);
        *socket_context = k;
    } else {
        api_conn *k = *socket_context;
        if (k) {
            api_deadline_close(srv->deadline, k->dl);
            conn_forget_key(k);
            free(k);
        }
        *socket_context = NULL;
    }
}

static api_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static api_deadline_conn *deadline_of(struct MHD_Connection *c)
{
    api_conn *k = conn_of(c);
    return k ? k->dl : NULL;
}

/* The entry key[0..n) matches, under keys_lock (read): the connection's
 * kept one when the text and the key set are the same, else looked up
 * (and kept when it matched). */
static const api_key_entry *conn_key_check(api_server *srv, api_conn *k, const char *key, size_t n)
{
    if (k && k->key_gen != 0 && k->key_gen == srv->keys_gen && k->key_n == n && sodium_memcmp(k->key, key, n) == 0)
        return &k->entry;
    const api_key_entry *e = api_keys_check(&srv->keys, key, n);
    if (k) {
        conn_forget_key(k);
        if (e && n <= sizeof k->key) {
            memcpy(k->key, key, n);
            k->key_n = n;
            k->entry = *e;
            k->key_gen = srv->keys_gen;
        }
    }
    return e;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    api_deadline_waiting(deadline_of(c)); /* the next request's clock starts */
    req_state *r = *con_cls;
    if (r == NULL)
        return;
    store_abort(r->txn);
    cw_buf_free(&r->body);
    cw_buf_free(&r->early.body);
    *con_cls = NULL;
    api_thread *th = pthread_getspecific(r->srv->tkey);
    if (th && th->n_free < API_THREAD_FREE_MAX) { /* kept for this thread's next request */
        r->next_free = th->free;
        th->free = r;
        th->n_free++;
        return;
    }
    free(r->target);
    free(r);
}

static void count(api_server *srv, size_t route_idx, int status, double seconds)
{
    api_route_stats *s = &srv->stats[route_idx];
    int cls = status / 100;
    if (cls < 1 || cls > 5)
        cls = 5;
    atomic_fetch_add_explicit(&s->by_class[cls], 1, memory_order_relaxed);
    int i = 0;
    while (i < API_LAT_BUCKETS && seconds > api_latency_le[i])
        i++;
    if (i < API_LAT_BUCKETS) /* past the last bound: in count only (+Inf) */
        atomic_fetch_add_explicit(&s->in[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_us, (uint64_t)(seconds * 1e6), memory_order_relaxed);
}

static enum MHD_Result send_reply(struct MHD_Connection *c, req_state *r, api_reply *rep, size_t route_idx,
                                  const char *allow)
{
    static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"the handler set no reply\"}}\n";
    struct MHD_Response *resp;
    size_t body_n = rep->body.n; /* the reply's allowance (deadline.h); MHD owns the body below */
    if (rep->status == 0 || (rep->body.p == NULL && rep->body.n == 0 && rep->status >= 400)) {
        rep->status = 500;
        resp = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
        rep->content_type = "application/json";
    } else {
        resp = MHD_create_response_from_buffer(rep->body.n, rep->body.p, MHD_RESPMEM_MUST_FREE);
        rep->body.p = NULL; /* MHD frees it */
        rep->body.n = rep->body.cap = 0;
    }
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", rep->content_type ? rep->content_type : "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (rep->location[0])
        MHD_add_response_header(resp, "Location", rep->location);
    if (allow)
        MHD_add_response_header(resp, "Allow", allow);
    if (rep->status == 429)
        MHD_add_response_header(resp, "Retry-After", "1");
    if (rep->status == 401)
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"chainwatch\"");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)rep->status, resp);
    MHD_destroy_response(resp);
    double now = now_mono();
    count(r->srv, route_idx, rep->status, now - r->t0);
    if (ret == MHD_YES) /* the reply's own clock (deadline.h): a client must take it within the limit */
        api_deadline_sending(deadline_of(c), (long long)(now * 1000.0), body_n);
    return ret;
}

/* Finds the route; sets *allow (methods of the path) for a 405. Returns
 * the route index, or -1 (404) / -2 (405). */
static int find_route(api_server *srv, req_state *r, const char *method, char *allow, size_t cap)
{
    int found = -1;
    allow[0] = '\0';
    for (size_t i = 0; i < srv->n_routes; i++) {
        const char *names[API_MAX_PARAMS], *values[API_MAX_PARAMS];
        size_t lens[API_MAX_PARAMS], n;
        if (!api_url_match(srv->routes[i].pattern, &r->url, names, lens, values, API_MAX_PARAMS, &n))
            continue;
        if (strcmp(srv->routes[i].method, method) == 0) {
            memcpy(r->pnames, names, sizeof names);
            memcpy(r->pname_lens, lens, sizeof lens);
            memcpy(r->pvalues, values, sizeof values);
            r->n_params = n;
            return (int)i;
        }
        size_t l = strlen(allow);
        snprintf(allow + l, cap - l, "%s%s", l ? ", " : "", srv->routes[i].method);
        found = -2;
    }
    return found;
}

/* The checks made before the body: target, route, key, role, rate. Sets
 * r->early and returns false when the request is refused. */
static bool admit(api_server *srv, struct MHD_Connection *c, req_state *r, const char *method, char *allow,
                  size_t allow_cap, int *route_idx)
{
    api_reply *rep = &r->early;
    cw_err err = {0};
    *route_idx = API_ROUTE_NONE;
    if (r->target == NULL) {
        api_reply_error(rep, 500, "out_of_memory", "out of memory");
        return false;
    }
    if (api_url_parse(r->target, r->target_len, &r->url, &err)) {
        api_reply_error(rep, err.code == CW_ELIMIT ? 414 : 400, "bad_request", "%s", err.msg);
        return false;
    }
    r->pub.path = r->url.path;
    int idx = find_route(srv, r, method, allow, allow_cap);
    if (idx == -1) {
        api_reply_error(rep, 404, "not_found", "no endpoint %s %.200s (see the README's API section)", method,
                        r->url.path);
        return false;
    }
    if (idx == -2) {
        api_reply_error(rep, 405, "method_not_allowed", "%s is not allowed on %.200s (allowed: %s)", method,
                        r->url.path, allow);
        return false;
    }
    *route_idx = idx;
    const struct api_route_def *route = &srv->routes[idx];
    r->route = route;
    const char *key = request_key(c);
    uint8_t key_hash[32];
    bool keyed = false; /* unauthenticated requests share one bucket */
    if (key) {
        keys_refresh(srv);
        pthread_rwlock_rdlock(&srv->keys_lock);
        const api_key_entry *e = conn_key_check(srv, conn_of(c), key, strnlen(key, 256));
        if (e) {
            r->pub.role = e->role;
            memcpy(r->key_name, e->name, sizeof r->key_name); /* same size, NUL-terminated */
            memcpy(key_hash, e->hash, 32);
            keyed = true;
        }
        pthread_rwlock_unlock(&srv->keys_lock);
        r->pub.key_name = r->key_name;
        if (!e && route->role != API_ROLE_PUBLIC) {
            api_reply_error(rep, 401, "unauthorized", "the API key is not valid (chainwatch apikey list)");
            return false;
        }
    }
    if (r->pub.role < route->role) {
        if (!key)
            api_reply_error(rep, 401, "unauthorized",
                            "%s %s needs an API key of role %s or above (header X-API-Key: KEY)", method, route->pattern,
                            api_role_name(route->role));
        else
            api_reply_error(rep, 403, "forbidden", "%s %s needs role %s or above; this key's role is %s", method,
                            route->pattern, api_role_name(route->role), api_role_name(r->pub.role));
        return false;
    }
    if (!rate_ok(srv, keyed ? key_hash : NULL)) {
        api_reply_error(rep, 429, "rate_limited", "more than %u requests per second for this key: retry in a second",
                        srv->cfg.rate_per_key);
        return false;
    }
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    r->pub.content_type = ct ? ct : "";
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)url;
    (void)version;
    api_server *srv = cls;
    req_state *r = *con_cls;
    if (r == NULL)
        return MHD_NO; /* out of memory in on_uri: drop the connection */
    if (!r->started) {
        r->started = true;
        r->pub.method = method;
        int idx;
        char allow[128];
        if (!admit(srv, c, r, method, allow, sizeof allow, &idx)) {
            r->refused = true;
            r->early_status = r->early.status;
            return send_reply(c, r, &r->early, idx, r->early.status == 405 ? allow : NULL);
        }
        r->route_idx = idx;
        /* a declared body over the limit: refused before it is read */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > srv->max_body) {
            r->refused = true;
            api_reply_error(&r->early, 413, "too_large", "the request body (%.20s bytes) is larger than %zu bytes", cl,
                            srv->max_body);
            return send_reply(c, r, &r->early, (size_t)idx, NULL);
        }
        return MHD_YES;
    }
    if (r->refused) { /* a refused request's body is read and dropped */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        /* MHD's timeout is on idleness only: a body dripped a byte at a time
         * (slowloris) would hold the connection for ever. The whole request
         * gets timeout_s; past it the connection is closed (MHD cannot
         * queue a reply while the body is still coming). */
        if (now_mono() - r->t0 > (double)srv->timeout_s) {
            count(srv, (size_t)r->route_idx, 408, now_mono() - r->t0);
            return MHD_NO;
        }
        if (r->too_large)
            return MHD_YES; /* chunked past the limit: dropped, answered at the end */
        if (r->body.n + n > srv->max_body) {
            r->too_large = true;
            cw_buf_free(&r->body);
            return MHD_YES;
        }
        if (cw_buf_append(&r->body, upload_data, n, NULL)) {
            r->too_large = true; /* answered at the end, as 500 */
            r->oom = true;
            cw_buf_free(&r->body);
        }
        return MHD_YES;
    }
    if (r->too_large) {
        if (r->oom)
            api_reply_error(&r->early, 500, "out_of_memory", "out of memory reading the body");
        else
            api_reply_error(&r->early, 413, "too_large", "the request body is larger than %zu bytes", srv->max_body);
        return send_reply(c, r, &r->early, (size_t)r->route_idx, NULL);
    }
    /* the whole request is here */
    api_deadline_received(deadline_of(c));
    if (r->body.n) { /* NUL-terminated for handlers; no body stays "" (no allocation per GET) */
        if (cw_buf_append(&r->body, "", 1, NULL)) {
            api_reply_error(&r->early, 500, "out_of_memory", "out of memory reading the body");
            return send_reply(c, r, &r->early, (size_t)r->route_idx, NULL);
        }
        r->pub.body = (const char *)r->body.p;
        r->pub.body_len = r->body.n - 1;
    }
    api_reply rep = {0};
    r->route->fn(&r->pub, &rep, r->route->ctx);
    if (r->txn) { /* end the reply's snapshot before sending */
        store_abort(r->txn);
        r->txn = NULL;
    }
    enum MHD_Result ret = send_reply(c, r, &rep, (size_t)r->route_idx, NULL);
    cw_buf_free(&rep.body);
    return ret;
}

/* ---- lifecycle ---- */

/* A server thread's end: its request states, its flows_tx and rules_tx
 * scratch (POST /v1/screen of a tx) and its entity memo; its view is
 * closed by api_server_free. */
static void thread_end(void *v)
{
    api_thread *th = v;
    while (th->free) {
        req_state *r = th->free;
        th->free = r->next_free;
        free(r->target);
        free(r);
    }
    free(th);
    flows_thread_free();
    rules_thread_free();
    api_screen_thread_free();
}

cw_code api_server_new(const api_config *cfg, cw_store *s, api_status *status, api_server **out, cw_err *err)
{
    api_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    srv->cfg = *cfg;
    srv->store = s;
    srv->status = status;
    srv->max_body = cfg->max_body ? cfg->max_body : (size_t)1 << 20;
    srv->timeout_s = cfg->timeout_s ? cfg->timeout_s : 10;
    srv->started_at = (int64_t)time(NULL);
    srv->port_lock = -1;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&srv->keys_lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    if (pthread_key_create(&srv->tkey, thread_end) != 0) {
        free(srv);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "api: no thread key");
    }
    atomic_store(&srv->keys_checked, 0);
    /* MHD's timeout is on idleness: the whole request (line, headers, body) gets timeout_s */
    if ((srv->deadline = api_deadline_new(srv->timeout_s, cfg->reply_rate ? cfg->reply_rate : 16384)) == NULL) {
        api_server_free(srv);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "api: cannot start the request deadline's thread");
    }
    *out = srv;
    return CW_OK;
}

/* Parses "host:port" or "[v6]:port" into ss; loopback when *loopback. */
static cw_code parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len, bool *v6, bool *loopback,
                            cw_err *err)
{
    char host[128];
    const char *colon;
    if (listen == NULL || listen[0] == '\0')
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "--listen: empty (HOST:PORT, e.g. 127.0.0.1:8480)");
    if (listen[0] == '[') {
        const char *rb = strchr(listen, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - listen - 1) >= sizeof host)
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "--listen '%.100s': not [IPV6]:PORT", listen);
        memcpy(host, listen + 1, (size_t)(rb - listen - 1));
        host[rb - listen - 1] = '\0';
        colon = rb + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon || (size_t)(colon - listen) >= sizeof host)
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "--listen '%.100s': not HOST:PORT (127.0.0.1:8480)", listen);
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
    }
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end || port < 0 || port > 65535 || errno)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "--listen '%.100s': the port is not 0 to 65535", listen);
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof *a4;
        *v6 = false;
        *loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
        *v6 = true;
        *loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
    } else {
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "--listen '%.100s': '%s' is not an IP address", listen, host);
    }
    return CW_OK;
}

/* Before the server threads bind one port each (SO_REUSEPORT, below): a
 * plain bind of the address, which fails while anything holds the port (a
 * reuseport group such as another serve's too: a plain socket never joins
 * one), so a second server on a port in use is refused as before. Port 0
 * becomes the free port it got, which the threads then share. */
static cw_code probe_port(struct sockaddr_storage *ss, socklen_t len, bool v6, const char *listen, cw_err *err)
{
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "api: no socket for %s: %s", listen, strerror(errno));
    int one = 1; /* as MHD's listening sockets: a port in TIME_WAIT is free */
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (v6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    socklen_t got = len;
    if (bind(fd, (struct sockaddr *)ss, len) != 0 || getsockname(fd, (struct sockaddr *)ss, &got) != 0) {
        int e = errno;
        close(fd);
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "api: cannot listen on %s (%s)", listen,
                          e == EADDRINUSE ? "in use" : strerror(e));
    }
    close(fd);
    return CW_OK;
}

/* The port's claim, held from before the threads bind until the server
 * is freed: an abstract Unix socket named after the port (Linux; gone with
 * the process, whatever way it ends). The plain bind of probe_port refuses
 * a port some socket holds, but between that probe and the threads' binds
 * another server's probe passes too, and SO_REUSEPORT then lets both
 * processes (same user) join one group and share the port, each answering
 * from its own datadir. A second server finds the name taken and is
 * refused. Named by the port alone: two servers with several threads on
 * one port of two addresses are refused too (rare; use --api-threads 1). */
static cw_code port_claim(api_server *srv, unsigned port, const char *listen, cw_err *err)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "api: no socket to claim %s: %s", listen, strerror(errno));
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "chainwatch-api/tcp/%u", port);
    if (bind(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) != 0) {
        int e = errno;
        close(fd);
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "api: cannot listen on %s (%s)", listen,
                          e == EADDRINUSE ? "in use by another chainwatch server" : strerror(e));
    }
    srv->port_lock = fd;
    return CW_OK;
}

cw_code api_server_start(api_server *srv, cw_err *err)
{
    struct sockaddr_storage ss;
    socklen_t slen = sizeof(struct sockaddr_storage);
    bool v6 = false, loopback = false;
    cw_code rc = parse_listen(srv->cfg.listen, &ss, &slen, &v6, &loopback, err);
    if (rc)
        return rc;
    if (!loopback && !srv->cfg.allow_remote)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "--listen %s is not a loopback address: the API would be reachable from the network; "
                          "pass --allow-remote (behind TLS and a firewall) to mean it",
                          srv->cfg.listen);
    if (sodium_init() < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "libsodium could not start");
    if ((rc = api_keys_load(srv->cfg.datadir, &srv->keys, err)))
        return rc;
    srv->keys_gen = 1;
    char path[4200];
    snprintf(path, sizeof path, "%s/apikeys", srv->cfg.datadir);
    struct stat st;
    if (stat(path, &st) == 0) {
        srv->keys_mtime = st.st_mtim;
        srv->keys_ino = st.st_ino;
    }
    atomic_store(&srv->keys_checked, (int64_t)time(NULL));
    unsigned threads = srv->cfg.threads ? srv->cfg.threads : 2;
    if (threads > API_MAX_VIEWS)
        threads = API_MAX_VIEWS;
    if (threads > 1 && ((rc = probe_port(&ss, slen, v6, srv->cfg.listen, err)) ||
                        (rc = port_claim(srv, ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                        : ((struct sockaddr_in *)&ss)->sin_port),
                                         srv->cfg.listen, err)))) {
        api_keys_free(&srv->keys);
        return rc;
    }
    unsigned limit = srv->cfg.max_connections ? srv->cfg.max_connections : 1024u;
    limit = limit / threads ? limit / threads : 1;
    /* TURBO: optimistic non-blocking reads and fewer shutdown() calls (MHD: "most effects with epoll") */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | (v6 ? MHD_USE_IPv6 : 0);
    for (unsigned i = 0; i < threads; i++) {
        struct MHD_Daemon *d = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
            MHD_OPTION_LISTENING_ADDRESS_REUSE, threads > 1 ? 1u : 0u, MHD_OPTION_CONNECTION_TIMEOUT,
            srv->timeout_s, MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16 * 1024, /* MHD zeroes the pool per request: keep it small */
            MHD_OPTION_END);
        if (d == NULL) {
            for (size_t k = 0; k < srv->n_more; k++)
                MHD_stop_daemon(srv->more[k]);
            srv->n_more = 0;
            if (srv->daemon)
                MHD_stop_daemon(srv->daemon);
            srv->daemon = NULL;
            if (srv->port_lock >= 0)
                close(srv->port_lock);
            srv->port_lock = -1;
            api_keys_free(&srv->keys);
            return cw_err_set(err, CW_EIO, CW_NO_OFFSET,
                              "api: cannot listen on %s (in use, or not an address of this host)", srv->cfg.listen);
        }
        if (i == 0)
            srv->daemon = d;
        else
            srv->more[srv->n_more++] = d;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : 0;
    return CW_OK;
}

unsigned api_server_port(const api_server *srv) { return srv->port; }
api_status *api_server_status(const api_server *srv) { return srv->status; }
const char *api_server_datadir(const api_server *srv) { return srv->cfg.datadir; }

void api_server_free(api_server *srv)
{
    if (srv == NULL)
        return;
    for (size_t i = 0; i < srv->n_more; i++)
        MHD_stop_daemon(srv->more[i]);
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    api_deadline_free(srv->deadline); /* after the daemon: every connection closed */
    if (srv->port_lock >= 0)
        close(srv->port_lock); /* after the daemons: the port is free */
    for (size_t i = 0; i < srv->n_views; i++)
        store_close(srv->views[i]);
    if (srv->core_free)
        srv->core_free(srv->core);
    api_keys_free(&srv->keys);
    pthread_key_delete(srv->tkey);
    pthread_rwlock_destroy(&srv->keys_lock);
    pthread_mutex_destroy(&srv->mu);
    free(srv);
}
