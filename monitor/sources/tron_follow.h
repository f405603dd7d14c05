/*
 * tron_follow.h: a java-tron node followed through its native queue
 * (feed_tron.h) and its HTTP API (tron_http.h), as an account_source
 * (monitor/engine/account.h): `watch --chain tron`.
 *
 * Design note.
 * - The queue is the fast path: a block whole from its triggers is kept
 *   (by number, a later one at the same number replacing it) and handed to
 *   the engine without a request. Everything else comes over HTTP: every
 *   start (the engine asks for the blocks after its tip, which no trigger
 *   has brought), every gap the feed reports (refilled at once, so its txs
 *   are seen as soon as the feed's would have been), a block whose parent
 *   is not the block before it in the cache (a blockTrigger has no
 *   parentHash: the parent of a trigger block is the hash of the block the
 *   feed passed just before it, else it is read over HTTP), and the hash at
 *   any number the cache does not hold.
 * - head: the highest block the feed has passed (getnowblock before the
 *   first trigger). finalized: latestSolidifiedBlockNumber from the
 *   triggers; until one has come it is CW_EIO ("waiting for ..."): watch
 *   logs it and asks again.
 * - pending: every tx of a block above the solidified one and above the
 *   last block handed to the engine, not yet handed over (a tx in a
 *   block that is not solidified: the engine records it as a `mempool`
 *   sighting; with --finalized it is `confirmed` once solidified).
 * - The chain id is TIP-474's: the last 4 bytes of block 0's blockID
 *   (mainnet 728126428 = 0x2b6653dc, Nile 3448148188, Shasta 2494104990).
 *
 * One thread.
 */
#ifndef CW_TRON_FOLLOW_H
#define CW_TRON_FOLLOW_H

#include <stdint.h>

#include "feed_tron.h"
#include "monitor/engine/account.h"
#include "tron_http.h"

typedef struct tron_follow tron_follow;

/* Opens the feed (feed_tron_open) and the client (tron_http_open); no
 * request is made. */
cw_code tron_follow_open(const feed_tron_config *fc, const tron_http_options *ho, tron_follow **out, cw_err *err);
void tron_follow_close(tron_follow *t);
const account_source *tron_follow_source(tron_follow *t);
tron_http *tron_follow_http(tron_follow *t);
/* The queue it reads (replay --capture hands it recorded messages with
 * feed_tron_take). */
feed_tron *tron_follow_feed(tron_follow *t);

/* Reads the feed for up to timeout_ms (and whatever is queued): keeps
 * whole blocks, refills gaps over HTTP, notes solidified numbers. A gap
 * that HTTP cannot refill now is left for the engine's own request (the
 * error is returned after the feed is drained, CW_EIO, naming the call).
 * *bad counts malformed messages seen (may be NULL). */
cw_code tron_follow_poll(tron_follow *t, int timeout_ms, uint64_t *bad, cw_err *err);

/* TIP-474's chain id from block 0 (over HTTP), and its network name
 * ("mainnet", "nile", "shasta", else "chain-<id>"; out holds 32 bytes). */
cw_code tron_follow_chain_id(tron_follow *t, uint64_t *id, cw_err *err);
void tron_network_name(uint64_t chain_id, char out[32]);

/* Tells the feed where the store's tip is (a restart): triggers for blocks
 * at or below it are not kept. */
void tron_follow_set_tip(tron_follow *t, int64_t tip);

typedef struct {
    uint64_t trigger_blocks, http_blocks, gaps, gap_blocks, replaced;
} tron_follow_stats;
void tron_follow_stats_get(const tron_follow *t, tron_follow_stats *out);

#endif
