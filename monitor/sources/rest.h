/*
 * rest.h: a client for Bitcoin Core's REST interface (bitcoind -rest=1).
 *
 * The monitor uses it to catch up after ZMQ loses messages: REST needs no
 * credentials and serves raw blocks, so recovery does not depend on RPC.
 * Only the endpoints recovery needs are here.
 *
 * One libcurl easy handle per client is reused so consecutive requests share
 * a keep-alive connection. Every request has a 5 s connect timeout and a 30 s
 * total timeout, so a hung node cannot stall the monitor forever. Bodies are
 * capped (8 MB for a block, 2000 headers, 1 MB for JSON) so a broken or
 * hostile server cannot exhaust memory.
 *
 * Errors are one line naming the URL and the HTTP status or the curl error,
 * with a hint where one helps ("is bitcoind running with -rest=1?"):
 *   CW_ENOTFOUND  the node answered 404 (unknown block, height above its tip)
 *   CW_EIO        no connection, timeout, or any other non-200 status
 *   CW_ELIMIT     the body was larger than the cap
 *   CW_EFORMAT    the body was not what the endpoint returns
 *   CW_ECHECKSUM  a block or header did not hash to what was asked for
 *   CW_EARG       a bad argument (URL, height, count)
 *   CW_ENOMEM     out of memory
 *
 * Hashes in and out are in internal byte order (as btc_header.hash); the
 * client reverses them for the URLs, which use display order.
 *
 * A client is not thread-safe: use one per thread.
 */
#ifndef CW_REST_H
#define CW_REST_H

#include <stddef.h>
#include <stdint.h>

#include "chains/err.h"
#include "chains/buf.h"

/* Caps on response bodies. A block is at most 4,000,000 bytes by consensus;
 * the block cap leaves room so a valid block is never refused. */
#define REST_MAX_BLOCK_BYTES (8u * 1024 * 1024)
/* Bitcoin Core answers 400 to more (MAX_REST_HEADERS_RESULTS). */
#define REST_MAX_HEADERS 2000u

typedef struct rest_client rest_client;

/* Opens a client for base_url, e.g. "http://127.0.0.1:8332" (a trailing
 * slash is tolerated). No request is made: an unreachable node shows up at
 * the first call. Refuses (CW_EARG) NULL, anything not starting with
 * "http://" (bitcoind's REST has no TLS), an empty host, a query, fragment,
 * whitespace or control character, and URLs over 160 chars (so errors that
 * quote them stay one readable line). CW_ENOMEM if curl cannot start.
 * On success *out is the client, to be freed with rest_close(). */
cw_code rest_open(const char *base_url, rest_client **out, cw_err *err);

/* Frees the client and closes its connection. NULL is a no-op. */
void rest_close(rest_client *c);

/* GET /rest/chaininfo.json: *height from "blocks" (the active tip's height)
 * and best_hash from "bestblockhash" (internal order). CW_EFORMAT when the
 * body is not JSON or either field is missing or malformed. */
cw_code rest_chaininfo(rest_client *c, int64_t *height, uint8_t best_hash[32], cw_err *err);

/* GET /rest/blockhashbyheight/<height>.hex: the hash of the active chain's
 * block at that height (internal order). CW_ENOTFOUND when the node says
 * 404 (height above its tip). Refuses a negative height (CW_EARG). */
cw_code rest_block_hash_at(rest_client *c, int64_t height, uint8_t hash[32], cw_err *err);

/* GET /rest/block/<display hex>.bin: the raw serialized block (with
 * witnesses), replacing out's contents. The block's header must hash to
 * `hash` (else CW_ECHECKSUM), so callers can trust what they asked for.
 * Stale (non-active) blocks the node still has are served too.
 * CW_ENOTFOUND on 404 (unknown block, or pruned). On error out->n is 0. */
cw_code rest_block(rest_client *c, const uint8_t hash[32], cw_buf *out, cw_err *err);

/* GET /rest/headers/<display hex>.bin?count=N (the Bitcoin Core >= 24 form):
 * up to `count` 80-byte headers of the active chain starting AT from_hash
 * (its own header first), replacing out's contents: out->n = 80*k, k <= count.
 * k < count near the tip; k == 0 when from_hash is unknown or not in the
 * active chain (that is how bitcoind answers, not an error). Checks the first
 * header hashes to from_hash and each links to the one before (CW_ECHECKSUM),
 * and that the body is a whole number of headers (CW_EFORMAT). Refuses count
 * 0 or over REST_MAX_HEADERS (CW_EARG). On error out->n is 0. */
cw_code rest_headers(rest_client *c, const uint8_t from_hash[32], size_t count, cw_buf *out, cw_err *err);

#endif
