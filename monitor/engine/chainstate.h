/*
 * chainstate.h: the confirmed chain as chainwatch has connected it, in the
 * store: the chain of block hashes by height, the prevout index (utxo) and
 * one undo record per connected block.
 *
 * Design note. Blocks are connected strictly in chain order, each inside
 * the caller's write transaction together with everything it causes (alert
 * records, the feed cursor), so a crash at any moment leaves the store at a
 * block boundary. Disconnecting the tip replays its undo record backwards:
 * spent outputs come back first, then the outputs it created go, which also
 * undoes outputs created and spent inside the same block. After a reorg the
 * store is byte-for-byte what it would be had the old branch never been
 * seen (tested).
 *
 * Errors: store errors pass up (CW_ESTORE, CW_EDAMAGED, CW_EFULL); a
 * record that does not decode (tip, cursor, utxo, undo, a missing undo
 * record of a connected block) is CW_EDAMAGED ("store damaged: damaged X
 * record"). Every function works in the caller's transaction and never
 * commits or aborts it; after an error from a writing function the caller
 * aborts. Spans and tx fields filled here are copies (or point into the
 * tx's own buffers), never into the store.
 *
 * The tables' keys and values (utxo, undo, chain, the cursor's tip) are
 * watchlists/chaindb.h's; this module decides what changes and when.
 */
#ifndef CW_CHAINSTATE_H
#define CW_CHAINSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "chains/buf.h"
#include "chains/model.h"
#include "coins.h"
#include "decode.h"
#include "watchlists/chaindb.h"
#include "watchlists/store/store.h"

/* Fills in[i].resolved/addr/value of every non-coinbase input found in the
 * utxo index (read only; committed outputs only, not a coins cache).
 * Inputs not found stay unresolved (CW_OK): their prevouts predate the
 * first connected block or are unconfirmed. A store error or a damaged
 * utxo record (CW_EDAMAGED) is returned, the inputs before it filled. */
cw_code chainstate_resolve_inputs(store_txn *t, cw_tx *tx, cw_err *err);

/* Called for each tx of a block being connected, in order, with its inputs
 * resolved (spent outputs of earlier txs of the same block included). A
 * non-OK return aborts the connect (the caller aborts the transaction). */
typedef cw_code (*chainstate_tx_fn)(void *ctx, cw_tx *tx, cw_err *err);

typedef struct {
    int64_t height;
    uint8_t hash[32], prev[32];
    uint32_t time;
    block_summary summary;
} chainstate_block;

/* Connects blk as the block at `height` on top of the tip. With a cache,
 * new outputs go into it and spends look there first (see coins.h): the
 * caller flushes it into t before committing and clears it on abort.
 * Without one (NULL) every change goes straight to t. Refuses a block
 * whose parent is not the tip (CW_EARG: the caller must sync first), and a
 * malformed block (the decoder's code) or a merkle mismatch, mutated tree
 * included (CW_EFORMAT). fn's error and the store's pass up. alert_ids (32
 * hex chars each, concatenated; may be NULL) are kept in the undo record
 * so a disconnect can name the alerts it reverts; they are read after
 * every fn call, so fn may append to them. blk and w are borrowed; *out
 * is filled on success. */
cw_code chainstate_connect(store_txn *t, coins *cache, block_walker *w, const uint8_t *blk, size_t len, cw_net net,
                   int64_t height, chainstate_tx_fn fn, void *ctx, const cw_buf *alert_ids, chainstate_block *out, cw_err *err);

/* Disconnects the tip using its undo record. Fills *out with the block's
 * height/hash/time and appends its alert ids to alert_ids. CW_EARG when
 * nothing is connected; CW_EDAMAGED when the tip's undo record is missing
 * or does not decode. Clusters and exposure are not touched: the caller
 * reverts the block's journal (watchlists/store/journal.h) in the same
 * transaction. */
cw_code chainstate_disconnect_tip(store_txn *t, chainstate_block *out, cw_buf *alert_ids, cw_err *err);

#endif
