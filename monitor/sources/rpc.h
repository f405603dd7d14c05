/*
 * rpc.h: a JSON-RPC 2.0 client over HTTP (libcurl + jansson), the way
 * every Ethereum node (geth, erigon, nethermind, reth, anvil) is followed.
 *
 * Design note.
 * - One reused libcurl handle (keep-alive), plain http or https, no
 *   redirects (a redirect could leave the node we were told to use).
 * - Bounded: a reply over max_reply bytes is refused (CW_ELIMIT), never
 *   truncated and parsed; connect and total timeouts per request.
 * - Rate-limited: at most `rate` requests a second (0: no limit), spaced
 *   evenly, so a public or shared node is not flooded during a catch-up.
 * - Retries: a transport failure (connection refused or reset, timeout,
 *   HTTP 5xx/429) is retried `retries` times with a doubling backoff from
 *   backoff_ms. A JSON-RPC error object is the node's answer, never
 *   retried: it is returned as CW_EARG with the node's code and message
 *   (rpc_last_error), and the caller decides what it means.
 * - Errors name the method, the URL and what failed:
 *     "eth_getBlockByNumber at http://127.0.0.1:8545: connection refused
 *      (after 3 tries)".
 *
 * Not thread-safe: one client per thread.
 */
#ifndef CW_RPC_H
#define CW_RPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/buf.h"
#include "chains/err.h"

typedef struct rpc_client rpc_client;

typedef struct {
    const char *url;          /* http://host:port[/path] */
    double rate;              /* requests per second, 0: unlimited */
    size_t max_reply;         /* bytes; 0: 64 MiB */
    long connect_timeout_ms;  /* 0: 5000 */
    long timeout_ms;          /* 0: 60000 */
    unsigned retries;         /* transport retries after the first try */
    unsigned backoff_ms;      /* first retry's delay; doubles each time (0: 200) */
    /* Record and replay (capture.h version 2, chain ethereum). An exchange
     * is one request text (rpc_call's object, rpc_batch's array, exactly as
     * sent) and its outcome after the retries: CW_OK with the node's HTTP
     * body (not yet parsed: a bad reply is refused the same way on replay),
     * or the transport's error (CW_EIO, CW_ELIMIT, CW_ENOMEM) and its
     * message. tap, when set, is told every exchange once it is over
     * (watch --record). answer, when set, replaces the network: no request
     * is made, no rate limit waited for; it fills reply (CW_OK) or returns
     * an error with err filled, and that is the exchange's outcome (replay
     * --capture). Both NULL: neither. hook_ctx is passed to both. */
    void (*tap)(void *ctx, const char *req, size_t req_len, cw_code rc, const cw_err *err, const cw_buf *reply);
    cw_code (*answer)(void *ctx, const char *req, size_t req_len, cw_buf *reply, cw_err *err);
    void *hook_ctx;
} rpc_options;

/* The node answered with a JSON-RPC error object: code and message are
 * kept for the caller (rpc_last_error). */
typedef struct {
    bool set;
    long long code;
    char message[256];
} rpc_error;

/* Opens a client. CW_EARG for a URL that is not http(s)://host..., or too
 * long (512), or has spaces or control characters. */
cw_code rpc_open(const rpc_options *o, rpc_client **out, cw_err *err);
void rpc_close(rpc_client *c);
const char *rpc_url(const rpc_client *c);

/* Calls method with params (a JSON array; stolen: the call owns it, NULL
 * is []). On CW_OK *result is the reply's `result` (a new reference, may
 * be JSON null). Errors:
 *   CW_EIO     transport (after the retries), HTTP status other than 200
 *   CW_ELIMIT  a reply over max_reply bytes
 *   CW_EFORMAT a reply that is not JSON-RPC 2.0 (no result and no error,
 *              wrong id, not JSON)
 *   CW_EARG    the node's error object: rpc_last_error() has its code and
 *              message, err names method, URL, code and message. */
cw_code rpc_call(rpc_client *c, const char *method, json_t *params, json_t **result, cw_err *err);

/* Several calls in one HTTP request (a JSON-RPC batch): methods[i] with
 * params[i] (stolen, NULL is []); results[i] is set for each (new
 * references) in request order whatever order the node answers in. One
 * error object among the answers fails the whole batch (CW_EARG, naming
 * which call). A node that refuses batches (an error object instead of
 * an array) is CW_EARG too: callers fall back to single calls. */
cw_code rpc_batch(rpc_client *c, size_t n, const char *const *methods, json_t **params, json_t **results,
                  cw_err *err);

/* The node's error object of the last call (set false when there was none). */
const rpc_error *rpc_last_error(const rpc_client *c);

typedef struct {
    uint64_t requests, retries, bytes;
} rpc_stats;
void rpc_stats_get(const rpc_client *c, rpc_stats *out);

#endif
