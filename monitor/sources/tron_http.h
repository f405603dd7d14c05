/*
 * tron_http.h: java-tron's HTTP API (the FullNode's, port 8090 by default),
 * the calls the Tron watcher makes: /wallet/getblockbynum,
 * /wallet/gettransactioninfobyblocknum and /wallet/getnowblock. Every
 * start and every gap in the native queue's triggers is filled from here.
 *
 * Design note.
 * - POST with a JSON body ({"num": N}), as java-tron's docs show; one
 *   reused libcurl handle, http only to the node we were told (no
 *   redirects), connect and total timeouts per request.
 * - Bounded: a reply over max_reply bytes is refused (CW_ELIMIT), never
 *   cut and parsed. A block body can be large (thousands of txs): 64 MiB
 *   by default.
 * - Retries: a transport failure or HTTP 5xx/429 is retried `retries`
 *   times, doubling the delay from backoff_ms.
 * - Replies are checked by chains/tron/api.h (txIDs against the signed
 *   bytes, infos against the block's txs). Errors name the call, the URL
 *   and what failed: "/wallet/getblockbynum 1234 at http://127.0.0.1:8090:
 *   connection refused (after 3 tries)".
 *
 * Not thread-safe: one client per thread.
 */
#ifndef CW_TRON_HTTP_H
#define CW_TRON_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "chains/buf.h"
#include "chains/err.h"
#include "chains/tron/api.h"

typedef struct tron_http tron_http;

typedef struct {
    const char *url;          /* http://host:port (no path) */
    size_t max_reply;         /* bytes; 0: 64 MiB */
    long connect_timeout_ms;  /* 0: 5000 */
    long timeout_ms;          /* 0: 60000 */
    unsigned retries;         /* transport retries after the first try */
    unsigned backoff_ms;      /* first retry's delay (0: 200), doubling */
    /* Record and replay (capture.h version 2). tap: called with every
     * request that got a 200 reply (its path, body and reply): watch
     * --record. answer: when set, no request is made and answer fills the
     * reply (replay --capture: the recorded one), or fails with the error
     * tron_http_post returns. Both NULL: none. */
    void (*tap)(void *ctx, const char *path, const char *body, const cw_buf *reply);
    cw_code (*answer)(void *ctx, const char *path, const char *body, cw_buf *reply, cw_err *err);
    void *hook_ctx;
} tron_http_options;

/* CW_EARG for a URL that is not http(s)://host..., over 400 bytes, or with
 * spaces or control characters; CW_ENOMEM. No request is made. */
cw_code tron_http_open(const tron_http_options *o, tron_http **out, cw_err *err);
void tron_http_close(tron_http *h);
const char *tron_http_url(const tron_http *h);

/* POSTs body to path and returns the reply in *reply (replaced). CW_EIO
 * (transport, HTTP status other than 200, after the retries), CW_ELIMIT
 * (over max_reply); the message names `what`, the URL and the cause. */
cw_code tron_http_post(tron_http *h, const char *path, const char *body, const char *what, cw_buf *reply,
                       cw_err *err);

/* Block `number` with its transfers: getblockbynum, then (when it has
 * txs) gettransactioninfobyblocknum applied (tron_block_apply_infos).
 * CW_ENOTFOUND when the node has no such block ({}); a block of another
 * number is CW_EFORMAT. tron_block_free *out on success. */
cw_code tron_http_block(tron_http *h, int64_t number, tron_block *out, cw_err *err);

/* The node's newest block (getnowblock): number and blockID. */
cw_code tron_http_now(tron_http *h, int64_t *number, uint8_t hash[32], cw_err *err);

typedef struct {
    uint64_t requests, retries, bytes;
} tron_http_stats;
void tron_http_stats_get(const tron_http *h, tron_http_stats *out);

#endif
