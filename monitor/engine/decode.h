/*
 * decode.h: Bitcoin bytes to decoded txs and block summaries, the shared
 * step behind `chainwatch decode`, the demo, the decode bench, the
 * pipeline's connect (chainstate_connect walks each block with it) and the
 * blk scan's damage check (monitor/sources/blocksdir.c).
 *
 * Errors are the decoders' (chains/bitcoin/block.h, tx.h: CW_ETRUNC,
 * CW_EFORMAT, CW_ELIMIT... with the byte offset), CW_ENOMEM when the
 * walker cannot grow, or whatever the caller's per-tx function returns.
 * Not thread-safe per walker; no globals.
 */
#ifndef CW_DECODE_H
#define CW_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "chains/bitcoin/block.h"
#include "chains/model.h"
#include "chains/json.h"

/* Writes one tx as the JSON object `chainwatch decode` prints (no newline):
 * txid, wtxid, size, vsize, weight, coinbase, inputs [{prevout, hint}],
 * outputs [{n, value, type, address}]. Hints are derived here. Errors
 * are the writer's (check cw_json_ok). */
void decode_tx_json(cw_json *j, const cw_tx *tx);

typedef struct {
    btc_header header;
    uint64_t tx_count;
    size_t size;
    uint64_t weight;
    bool merkle_ok;
    bool merkle_mutated;              /* duplicate sibling hashes (CVE-2012-2459) */
    btc_witness_status witness;
    bool has_height;
    int64_t height;                   /* BIP-34, from the coinbase */
    uint64_t n_segwit, n_inputs, n_outputs, n_with_address;
    uint64_t total_out;               /* satoshis, coinbase included */
    uint64_t by_type[CW_SCRIPT_MULTISIG + 1];
} block_summary;

/* Reusable state for walking blocks: an arena and the txid lists, grown
 * as blocks need and kept between blocks. Start it zeroed ({0}); the
 * caller owns it and frees it with block_walker_free (which leaves it
 * zeroed, ready for reuse). */
typedef struct {
    void *arena_mem;
    size_t arena_cap;
    uint8_t (*txids)[32];
    uint8_t (*wtxids)[32];
    size_t hash_cap;
} block_walker;

void block_walker_free(block_walker *w);

/* Called for each tx in block order; a non-OK return stops the walk and
 * is returned as is. tx and its arrays live in the walker's arena and its
 * spans in the block buffer: valid until fn returns. */
typedef cw_code (*decode_tx_fn)(void *ctx, cw_tx *tx, cw_err *err);

/* Decodes every tx of one block (fn may be NULL), checks the merkle root
 * and the witness commitment and fills *s. A malformed block fails with the
 * offset and tx index; a wrong merkle root is reported in s, not as an error,
 * so a caller can show what it got (callers that trust the block must
 * check s->merkle_ok themselves). *s is zeroed first; on error it holds
 * the txs before the failing one and fn may have been called for them.
 * buf is borrowed for the call. */
cw_code decode_block_walk(block_walker *w, const uint8_t *buf, size_t len, cw_net net, decode_tx_fn fn, void *ctx,
                          block_summary *s, cw_err *err);

/* The block object of `chainwatch decode block` (no newline). */
void decode_block_json(cw_json *j, const block_summary *s);

#endif
