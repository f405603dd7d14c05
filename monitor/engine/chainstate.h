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
 * utxo index (read only). Inputs not found stay unresolved. */
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
 * malformed block or a merkle mismatch (CW_EFORMAT). alert_ids (32 hex
 * chars each, concatenated) are kept in the undo record so a disconnect can
 * name the alerts it reverts. */
cw_code chainstate_connect(store_txn *t, coins *cache, block_walker *w, const uint8_t *blk, size_t len, cw_net net,
                   int64_t height, chainstate_tx_fn fn, void *ctx, const cw_buf *alert_ids, chainstate_block *out, cw_err *err);

/* Disconnects the tip using its undo record. Fills *out with the block's
 * height/hash/time and appends its alert ids to alert_ids. */
cw_code chainstate_disconnect_tip(store_txn *t, chainstate_block *out, cw_buf *alert_ids, cw_err *err);

#endif
