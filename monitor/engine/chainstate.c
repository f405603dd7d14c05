#include "chainstate.h"

#include <string.h>

#include "chains/buf.h"
#include "chains/le.h"

#include "chains/hex.h"


cw_code chainstate_resolve_inputs(store_txn *t, cw_tx *tx, cw_err *err)
{
    if (tx->flags & CW_TX_COINBASE)
        return CW_OK;
    for (size_t i = 0; i < tx->n_in; i++) {
        cw_txin *in = &tx->in[i];
        uint8_t k[CHAINDB_OUTPOINT_LEN];
        chaindb_outpoint_key(in->prev_txid, in->prev_vout, k);
        cw_span v;
        cw_code rc = chaindb_coin_get(t, k, &v, err);
        if (rc == CW_ENOTFOUND)
            continue;
        if (rc)
            return rc;
        if (!chaindb_coin_decode(v, &in->value, &in->addr))
            return store_damaged(t, err, "a utxo record does not decode");
        in->resolved = true;
    }
    return CW_OK;
}

/* ---- connect ---- */

typedef struct {
    store_txn *t;
    coins *cache;
    chainstate_tx_fn fn;
    void *ctx;
    chaindb_undo undo; /* what the block changes, for its undo record */
} connect_ctx;

static cw_code connect_tx(void *arg, cw_tx *tx, cw_err *err)
{
    connect_ctx *c = arg;
    cw_code rc;
    if (!(tx->flags & CW_TX_COINBASE)) {
        for (size_t i = 0; i < tx->n_in; i++) {
            cw_txin *in = &tx->in[i];
            uint8_t k[CHAINDB_OUTPOINT_LEN];
            chaindb_outpoint_key(in->prev_txid, in->prev_vout, k);
            uint8_t cached[COINS_VALUE_MAX];
            size_t cn = 0;
            bool fresh = c->cache && coins_get(c->cache, k, cached, &cn, true); /* created in this batch */
            cw_span v = {cached, cn};
            if (!fresh) {
                rc = chaindb_coin_get(c->t, k, &v, err);
                if (rc == CW_ENOTFOUND)
                    continue; /* spent an output from before our start: unresolved */
                if (rc)
                    return rc;
            }
            if (!chaindb_coin_decode(v, &in->value, &in->addr))
                return store_damaged(c->t, err, "a utxo record does not decode");
            in->resolved = true;
            if ((rc = chaindb_undo_spent(&c->undo, k, v, err)))
                return rc;
            if (!fresh && (rc = chaindb_coin_del(c->t, k, err)))
                return rc;
        }
    }
    if (c->fn && (rc = c->fn(c->ctx, tx, err)))
        return rc;
    for (size_t i = 0; i < tx->n_out; i++) {
        if (tx->out[i].type == CW_SCRIPT_NULLDATA)
            continue; /* provably unspendable: never a prevout */
        uint8_t k[CHAINDB_OUTPOINT_LEN], coin[CHAINDB_COIN_MAX];
        chaindb_outpoint_key(tx->txid, (uint32_t)i, k);
        size_t n = chaindb_coin_encode(tx->out[i].value, &tx->out[i].addr, coin);
        rc = c->cache ? coins_add(c->cache, k, coin, n, err) : chaindb_coin_put(c->t, k, coin, n, err);
        if (rc)
            return rc;
        if ((rc = chaindb_undo_created(&c->undo, k, err)))
            return rc;
    }
    return CW_OK;
}

cw_code chainstate_connect(store_txn *t, coins *cache, block_walker *w, const uint8_t *blk, size_t len, cw_net net,
                   int64_t height, chainstate_tx_fn fn, void *ctx, const cw_buf *alert_ids, chainstate_block *out, cw_err *err)
{
    btc_header h;
    cw_code rc = btc_header_parse(blk, len, &h, err);
    if (rc)
        return rc;
    chaindb_tip tip;
    if ((rc = chaindb_get_tip(t, &tip, err)))
        return rc;
    if (tip.valid && (memcmp(h.prev, tip.hash, 32) != 0 || height != tip.height + 1)) {
        char want[65], got[65];
        cw_hex_encode_rev(tip.hash, 32, want);
        cw_hex_encode_rev(h.prev, 32, got);
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "block at height %lld builds on %s, not on the tip %s",
                          (long long)height, got, want);
    }
    connect_ctx c = {t, cache, fn, ctx, CHAINDB_UNDO_INIT};
    memset(out, 0, sizeof *out);
    rc = decode_block_walk(w, blk, len, net, connect_tx, &c, &out->summary, err);
    if (rc == CW_OK && !(out->summary.merkle_ok && !out->summary.merkle_mutated))
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "block at height %lld: merkle root does not match its txs",
                        (long long)height);
    if (rc == CW_OK)
        rc = chaindb_undo_put(t, h.hash, height, h.prev, h.time, &c.undo, alert_ids, err);
    if (rc == CW_OK)
        rc = chaindb_chain_put(t, height, h.hash, err);
    chaindb_tip now = {true, height, {0}};
    memcpy(now.hash, h.hash, 32);
    if (rc == CW_OK)
        rc = chaindb_set_tip(t, &now, err);
    chaindb_undo_free(&c.undo);
    if (rc == CW_OK) {
        out->height = height;
        memcpy(out->hash, h.hash, 32);
        memcpy(out->prev, h.prev, 32);
        out->time = h.time;
    }
    return rc;
}

cw_code chainstate_disconnect_tip(store_txn *t, chainstate_block *out, cw_buf *alert_ids, cw_err *err)
{
    chaindb_tip tip;
    cw_code rc = chaindb_get_tip(t, &tip, err);
    if (rc)
        return rc;
    if (!tip.valid)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "no connected block to disconnect");
    memset(out, 0, sizeof *out);
    memcpy(out->hash, tip.hash, 32);
    rc = chaindb_undo_revert(t, tip.hash, &out->height, out->prev, &out->time, alert_ids, err);
    if (rc == CW_OK)
        rc = chaindb_chain_del(t, out->height, err);
    if (rc == CW_OK) {
        chaindb_tip below = {true, out->height - 1, {0}};
        cw_code r2 = chaindb_hash_at(t, below.height, below.hash, err);
        if (r2 == CW_ENOTFOUND)
            below.valid = false; /* disconnected the first block we had */
        rc = r2 == CW_OK || r2 == CW_ENOTFOUND ? chaindb_set_tip(t, &below, err) : r2;
    }
    return rc;
}
