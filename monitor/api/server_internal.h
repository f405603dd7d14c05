/*
 * server_internal.h: the server's state, shared by server.c and the core
 * routes (routes.c: /metrics prints the per-route counters). Not for other
 * modules: they use server.h.
 */
#ifndef CW_API_SERVER_INTERNAL_H
#define CW_API_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <time.h>

#include "keys.h"
#include "server.h"

#define API_LAT_BUCKETS 10
#define API_MAX_VIEWS 64
#define API_MAX_BUCKETS 256
#define API_MAX_METRICS 8
/* requests refused before a route was found (bad target, 404, 405) count here */
#define API_ROUTE_NONE API_MAX_ROUTES

struct api_route_def {
    const char *method, *pattern;
    api_role role;
    api_handler fn;
    void *ctx;
};

typedef struct {
    _Atomic uint64_t by_class[6]; /* [2] 2xx ... [5] 5xx */
    _Atomic uint64_t in[API_LAT_BUCKETS]; /* requests over bound i-1, at or under bound i (one add a
                                            * request; /metrics sums them into Prometheus' cumulative le) */
    _Atomic uint64_t count, sum_us;
} api_route_stats;

/* A key's token bucket, found by the key's hash (never by its line in the
 * key file: lines shift when a key is removed). */
typedef struct {
    uint8_t hash[32];
    bool used;
    double tokens, last;
} api_bucket;

struct api_server {
    api_config cfg;
    cw_store *store;
    api_status *status;
    size_t max_body;
    unsigned timeout_s; /* idle limit (MHD's) and whole-request limit (server.c) */
    int64_t started_at;
    struct MHD_Daemon *daemon;                  /* the first server thread's (NULL until started) */
    struct MHD_Daemon *more[API_MAX_VIEWS - 1]; /* the others': one daemon a thread, on one port */
    size_t n_more;
    unsigned port;
    int port_lock; /* the port's claim among chainwatch servers (server.c port_claim), -1 when none */
    struct api_route_def routes[API_MAX_ROUTES];
    size_t n_routes;
    api_route_stats stats[API_MAX_ROUTES + 1];
    struct {
        api_metrics_fn fn;
        void *ctx;
    } metrics[API_MAX_METRICS];
    size_t n_metrics;
    pthread_mutex_t mu; /* views, rate buckets */
    cw_store *views[API_MAX_VIEWS];
    size_t n_views;
    pthread_key_t tkey;
    api_bucket buckets[API_MAX_BUCKETS]; /* open addressing by key hash */
    api_bucket anon_bucket;               /* requests without a valid key share it */
    pthread_rwlock_t keys_lock;
    api_keyset keys;
    uint64_t keys_gen; /* under keys_lock: 1 for the set loaded at start, + 1 each reload */
    struct timespec keys_mtime;
    ino_t keys_ino;
    _Atomic int64_t keys_checked;
    void *core; /* the core routes' state (routes.c), freed with the server */
    struct api_deadline *deadline; /* the time to send a request, bounded (deadline.h) */
    void (*core_free)(void *core);
};

/* The latency histogram's upper bounds in seconds (server.c). */
extern const double api_latency_le[API_LAT_BUCKETS];

#endif
