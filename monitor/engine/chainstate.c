#include "chainstate.h"

#include <string.h>

#include "chains/buf.h"
#include "chains/le.h"

#include "chains/hex.h"

/* ---- small encodings ---- */

static void height_key(int64_t h, uint8_t k[8])
{
    for (int i = 0; i < 8; i++)
        k[i] = (uint8_t)((uint64_t)h >> (56 - 8 * i)); /* big-endian: the chain sorts by height */
}

void chainstate_outpoint_key(const uint8_t txid[32], uint32_t vout, uint8_t k[36])
{
    memcpy(k, txid, 32);
    k[32] = (uint8_t)(vout >> 24);
    k[33] = (uint8_t)(vout >> 16);
    k[34] = (uint8_t)(vout >> 8);
    k[35] = (uint8_t)vout;
}

/* utxo value: value(8) chain net kind version len payload */
static size_t encode_coin(uint64_t value, const cw_addr *a, uint8_t out[8 + 5 + CW_ADDR_PAYLOAD_MAX])
{
    cw_put_le(out, value, 8);
    out[8] = a->chain;
    out[9] = a->net;
    out[10] = a->kind;
    out[11] = a->version;
    out[12] = a->len;
    memcpy(out + 13, a->payload, a->len);
    return 13u + a->len;
}

static bool decode_coin(cw_span v, uint64_t *value, cw_addr *a)
{
    if (v.n < 13 || v.p[12] > CW_ADDR_PAYLOAD_MAX || v.n != 13u + v.p[12])
        return false;
    *value = cw_get_le(v.p, 8);
    memset(a, 0, sizeof *a);
    a->chain = v.p[8];
    a->net = v.p[9];
    a->kind = v.p[10];
    a->version = v.p[11];
    a->len = v.p[12];
    memcpy(a->payload, v.p + 13, a->len);
    return true;
}

const char *chainstate_check_record(store_db db, cw_span k, cw_span v)
{
    uint64_t value;
    cw_addr a;
    switch (db) {
    case STORE_UTXO:
        if (k.n != 36)
            return "a key that is not an outpoint (36 bytes)";
        return decode_coin(v, &value, &a) ? NULL : "an unspent output that does not decode";
    case STORE_CHAIN:
        if (k.n != 8)
            return "a key that is not a height (8 bytes)";
        return v.n == 32 ? NULL : "a value that is not a block hash (32 bytes)";
    case STORE_CURSOR:
        if (k.n == 3 && memcmp(k.p, "tip", 3) == 0)
            return v.n == 40 ? NULL : "a tip that is not height and hash (40 bytes)";
        return v.n == 8 ? NULL : "a counter that is not 8 bytes";
    case STORE_UNDO:
        if (k.n != 32)
            return "a key that is not a block hash (32 bytes)";
        return v.n >= 8 ? NULL : "an undo record shorter than its header";
    default:
        return NULL;
    }
}

static cw_code corrupt(cw_err *err, const char *what)
{
    return cw_err_set(err, CW_EDAMAGED, CW_NO_OFFSET,
                      "store damaged: damaged %s record (rebuild the datadir by replaying from a known height)", what);
}

/* ---- chain and cursor ---- */

cw_code chainstate_cursor_get(store_txn *t, const char *name, uint64_t *value, cw_err *err)
{
    cw_span v;
    cw_code rc = store_get(t, STORE_CURSOR, name, strlen(name), &v, err);
    if (rc)
        return rc;
    if (v.n != 8)
        return corrupt(err, "cursor");
    *value = cw_get_le(v.p, 8);
    return CW_OK;
}

cw_code chainstate_cursor_put(store_txn *t, const char *name, uint64_t value, cw_err *err)
{
    uint8_t b[8];
    cw_put_le(b, value, 8);
    return store_put(t, STORE_CURSOR, name, strlen(name), b, 8, err);
}

cw_code chainstate_get_tip(store_txn *t, chainstate_tip *out, cw_err *err)
{
    memset(out, 0, sizeof *out);
    cw_span v;
    cw_code rc = store_get(t, STORE_CURSOR, "tip", 3, &v, err);
    if (rc == CW_ENOTFOUND)
        return CW_OK;
    if (rc)
        return rc;
    if (v.n != 40)
        return corrupt(err, "tip");
    out->valid = true;
    out->height = (int64_t)cw_get_le(v.p, 8);
    memcpy(out->hash, v.p + 8, 32);
    return CW_OK;
}

static cw_code set_tip(store_txn *t, bool valid, int64_t height, const uint8_t hash[32], cw_err *err)
{
    if (!valid) {
        cw_code rc = store_del(t, STORE_CURSOR, "tip", 3, NULL, 0, err);
        return rc == CW_ENOTFOUND ? CW_OK : rc;
    }
    uint8_t b[40];
    cw_put_le(b, (uint64_t)height, 8);
    memcpy(b + 8, hash, 32);
    return store_put(t, STORE_CURSOR, "tip", 3, b, sizeof b, err);
}

cw_code chainstate_hash_at(store_txn *t, int64_t height, uint8_t hash[32], cw_err *err)
{
    uint8_t k[8];
    height_key(height, k);
    cw_span v;
    cw_code rc = store_get(t, STORE_CHAIN, k, 8, &v, err);
    if (rc)
        return rc;
    if (v.n != 32)
        return corrupt(err, "chain");
    memcpy(hash, v.p, 32);
    return CW_OK;
}

bool chainstate_is_connected(store_txn *t, const uint8_t hash[32], int64_t *height)
{
    cw_span v;
    if (store_get(t, STORE_UNDO, hash, 32, &v, NULL) != CW_OK || v.n < 8)
        return false;
    if (height)
        *height = (int64_t)cw_get_le(v.p, 8);
    return true;
}

cw_code chainstate_resolve_inputs(store_txn *t, cw_tx *tx, cw_err *err)
{
    if (tx->flags & CW_TX_COINBASE)
        return CW_OK;
    for (size_t i = 0; i < tx->n_in; i++) {
        cw_txin *in = &tx->in[i];
        uint8_t k[36];
        chainstate_outpoint_key(in->prev_txid, in->prev_vout, k);
        cw_span v;
        cw_code rc = store_get(t, STORE_UTXO, k, 36, &v, err);
        if (rc == CW_ENOTFOUND)
            continue;
        if (rc)
            return rc;
        if (!decode_coin(v, &in->value, &in->addr))
            return corrupt(err, "utxo");
        in->resolved = true;
    }
    return CW_OK;
}

/* ---- connect ---- */

/*
 * Undo record: height(8) prev(32) time(4)
 *              n_spent(4) { outpoint(36) coin_len(1) coin }
 *              n_created(4) { outpoint(36) }
 *              n_alerts(4) { id(32 hex) }
 */
typedef struct {
    store_txn *t;
    coins *cache;
    chainstate_tx_fn fn;
    void *ctx;
    cw_buf spent, created;
    uint32_t n_spent, n_created;
    cw_err *err;
} connect_ctx;

static cw_code connect_tx(void *arg, cw_tx *tx, cw_err *err)
{
    connect_ctx *c = arg;
    cw_code rc;
    if (!(tx->flags & CW_TX_COINBASE)) {
        for (size_t i = 0; i < tx->n_in; i++) {
            cw_txin *in = &tx->in[i];
            uint8_t k[36];
            chainstate_outpoint_key(in->prev_txid, in->prev_vout, k);
            uint8_t cached[COINS_VALUE_MAX];
            size_t cn = 0;
            bool fresh = c->cache && coins_get(c->cache, k, cached, &cn, true); /* created in this batch */
            cw_span v = {cached, cn};
            if (!fresh) {
                rc = store_get(c->t, STORE_UTXO, k, 36, &v, err);
                if (rc == CW_ENOTFOUND)
                    continue; /* spent an output from before our start: unresolved */
                if (rc)
                    return rc;
            }
            if (!decode_coin(v, &in->value, &in->addr) || v.n > 255)
                return corrupt(err, "utxo");
            in->resolved = true;
            uint8_t len = (uint8_t)v.n;
            if (cw_buf_append(&c->spent, k, 36, err) || cw_buf_append(&c->spent, &len, 1, err) ||
                cw_buf_append(&c->spent, v.p, v.n, err))
                return CW_ENOMEM;
            c->n_spent++;
            if (!fresh && (rc = store_del(c->t, STORE_UTXO, k, 36, NULL, 0, err)))
                return rc;
        }
    }
    if (c->fn && (rc = c->fn(c->ctx, tx, err)))
        return rc;
    for (size_t i = 0; i < tx->n_out; i++) {
        if (tx->out[i].type == CW_SCRIPT_NULLDATA)
            continue; /* provably unspendable: never a prevout */
        uint8_t k[36], coin[8 + 5 + CW_ADDR_PAYLOAD_MAX];
        chainstate_outpoint_key(tx->txid, (uint32_t)i, k);
        size_t n = encode_coin(tx->out[i].value, &tx->out[i].addr, coin);
        rc = c->cache ? coins_add(c->cache, k, coin, n, err) : store_put(c->t, STORE_UTXO, k, 36, coin, n, err);
        if (rc)
            return rc;
        if (cw_buf_append(&c->created, k, 36, err))
            return CW_ENOMEM;
        c->n_created++;
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
    chainstate_tip tip;
    if ((rc = chainstate_get_tip(t, &tip, err)))
        return rc;
    if (tip.valid && (memcmp(h.prev, tip.hash, 32) != 0 || height != tip.height + 1)) {
        char want[65], got[65];
        cw_hex_encode_rev(tip.hash, 32, want);
        cw_hex_encode_rev(h.prev, 32, got);
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "block at height %lld builds on %s, not on the tip %s",
                          (long long)height, got, want);
    }
    connect_ctx c = {t, cache, fn, ctx, CW_BUF_INIT, CW_BUF_INIT, 0, 0, err};
    memset(out, 0, sizeof *out);
    rc = decode_block_walk(w, blk, len, net, connect_tx, &c, &out->summary, err);
    if (rc == CW_OK && !(out->summary.merkle_ok && !out->summary.merkle_mutated))
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "block at height %lld: merkle root does not match its txs",
                        (long long)height);
    cw_buf undo = CW_BUF_INIT;
    if (rc == CW_OK) {
        uint8_t head[44], n4[4];
        cw_put_le(head, (uint64_t)height, 8);
        memcpy(head + 8, h.prev, 32);
        cw_put_le(head + 40, h.time, 4);
        size_t n_alerts = alert_ids ? alert_ids->n / 32 : 0;
        rc = cw_buf_append(&undo, head, sizeof head, err);
        cw_put_le(n4, c.n_spent, 4);
        if (!rc) rc = cw_buf_append(&undo, n4, 4, err);
        if (!rc) rc = cw_buf_append(&undo, c.spent.p, c.spent.n, err);
        cw_put_le(n4, c.n_created, 4);
        if (!rc) rc = cw_buf_append(&undo, n4, 4, err);
        if (!rc) rc = cw_buf_append(&undo, c.created.p, c.created.n, err);
        cw_put_le(n4, n_alerts, 4);
        if (!rc) rc = cw_buf_append(&undo, n4, 4, err);
        if (!rc && n_alerts) rc = cw_buf_append(&undo, alert_ids->p, n_alerts * 32, err);
    }
    uint8_t hk[8];
    height_key(height, hk);
    if (rc == CW_OK)
        rc = store_put(t, STORE_UNDO, h.hash, 32, undo.p, undo.n, err);
    if (rc == CW_OK)
        rc = store_put(t, STORE_CHAIN, hk, 8, h.hash, 32, err);
    if (rc == CW_OK)
        rc = set_tip(t, true, height, h.hash, err);
    cw_buf_free(&undo);
    cw_buf_free(&c.spent);
    cw_buf_free(&c.created);
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
    chainstate_tip tip;
    cw_code rc = chainstate_get_tip(t, &tip, err);
    if (rc)
        return rc;
    if (!tip.valid)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "no connected block to disconnect");
    cw_span u;
    if ((rc = store_get(t, STORE_UNDO, tip.hash, 32, &u, err)))
        return rc == CW_ENOTFOUND ? corrupt(err, "undo (missing)") : rc;
    /* Copy: the span dies with the puts below. */
    cw_buf undo = CW_BUF_INIT;
    if ((rc = cw_buf_append(&undo, u.p, u.n, err)))
        return rc;
    const uint8_t *p = undo.p, *end = undo.p + undo.n;
    memset(out, 0, sizeof *out);
    rc = CW_OK;
    if (end - p < 48) {
        rc = corrupt(err, "undo");
        goto done;
    }
    out->height = (int64_t)cw_get_le(p, 8);
    memcpy(out->prev, p + 8, 32);
    out->time = (uint32_t)cw_get_le(p + 40, 4);
    memcpy(out->hash, tip.hash, 32);
    p += 44;
    uint32_t n_spent = (uint32_t)cw_get_le(p, 4);
    p += 4;
    for (uint32_t i = 0; i < n_spent && rc == CW_OK; i++) { /* outputs it spent come back first */
        if (end - p < 37 || end - p < 37 + p[36]) {
            rc = corrupt(err, "undo");
            break;
        }
        rc = store_put(t, STORE_UTXO, p, 36, p + 37, p[36], err);
        p += 37 + p[36];
    }
    if (rc == CW_OK && end - p < 4)
        rc = corrupt(err, "undo");
    uint32_t n_created = rc == CW_OK ? (uint32_t)cw_get_le(p, 4) : 0;
    p += rc == CW_OK ? 4 : 0;
    for (uint32_t i = 0; i < n_created && rc == CW_OK; i++) { /* then the outputs it made go */
        if (end - p < 36) {
            rc = corrupt(err, "undo");
            break;
        }
        rc = store_del(t, STORE_UTXO, p, 36, NULL, 0, err);
        if (rc == CW_ENOTFOUND)
            rc = CW_OK; /* spent inside the same block: restored above, gone again here */
        p += 36;
    }
    if (rc == CW_OK && end - p >= 4) {
        uint32_t n_alerts = (uint32_t)cw_get_le(p, 4);
        p += 4;
        if ((size_t)(end - p) < (size_t)n_alerts * 32)
            rc = corrupt(err, "undo");
        else if (alert_ids)
            rc = cw_buf_append(alert_ids, p, (size_t)n_alerts * 32, err);
    }
    uint8_t hk[8];
    height_key(out->height, hk);
    if (rc == CW_OK)
        rc = store_del(t, STORE_UNDO, tip.hash, 32, NULL, 0, err);
    if (rc == CW_OK)
        rc = store_del(t, STORE_CHAIN, hk, 8, NULL, 0, err);
    if (rc == CW_OK) {
        uint8_t prev_hash[32];
        cw_code r2 = chainstate_hash_at(t, out->height - 1, prev_hash, err);
        if (r2 == CW_OK)
            rc = set_tip(t, true, out->height - 1, prev_hash, err);
        else if (r2 == CW_ENOTFOUND)
            rc = set_tip(t, false, 0, NULL, err); /* disconnected the first block we had */
        else
            rc = r2;
    }
done:
    cw_buf_free(&undo);
    return rc;
}
