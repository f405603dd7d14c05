#include "chaindb.h"

#include <stdio.h>
#include <string.h>

#include "chains/be.h"
#include "chains/le.h"

#define TIP_KEY "tip"
#define FLOWS_FP_KEY "flows.wl_fp"

/* big-endian: the chain sorts by height */
static void height_key(int64_t h, uint8_t k[8]) { cw_put_be(k, (uint64_t)h, 8); }


/* ---- utxo ---- */

void chaindb_outpoint_key(const uint8_t txid[32], uint32_t vout, uint8_t k[CHAINDB_OUTPOINT_LEN])
{
    memcpy(k, txid, 32);
    cw_put_be(k + 32, vout, 4);
}

size_t chaindb_coin_encode(uint64_t value, const cw_addr *a, uint8_t out[CHAINDB_COIN_MAX])
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

bool chaindb_coin_decode(cw_span v, uint64_t *value, cw_addr *a)
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

cw_code chaindb_coin_get(store_txn *t, const uint8_t op[CHAINDB_OUTPOINT_LEN], cw_span *coin, cw_err *err)
{
    return store_get(t, STORE_UTXO, op, CHAINDB_OUTPOINT_LEN, coin, err);
}

cw_code chaindb_coin_put(store_txn *t, const uint8_t op[CHAINDB_OUTPOINT_LEN], const uint8_t *coin, size_t n,
                         cw_err *err)
{
    return store_put(t, STORE_UTXO, op, CHAINDB_OUTPOINT_LEN, coin, n, err);
}

cw_code chaindb_coin_del(store_txn *t, const uint8_t op[CHAINDB_OUTPOINT_LEN], cw_err *err)
{
    return store_del(t, STORE_UTXO, op, CHAINDB_OUTPOINT_LEN, NULL, 0, err);
}

/* ---- chain and tip ---- */

cw_code chaindb_get_tip(store_txn *t, chaindb_tip *out, cw_err *err)
{
    memset(out, 0, sizeof *out);
    cw_span v;
    cw_code rc = store_get(t, STORE_CURSOR, TIP_KEY, strlen(TIP_KEY), &v, err);
    if (rc == CW_ENOTFOUND)
        return CW_OK;
    if (rc)
        return rc;
    if (v.n != 40)
        return store_damaged(t, err, "a tip record does not decode");
    out->valid = true;
    out->height = (int64_t)cw_get_le(v.p, 8);
    memcpy(out->hash, v.p + 8, 32);
    return CW_OK;
}

cw_code chaindb_set_tip(store_txn *t, const chaindb_tip *tip, cw_err *err)
{
    if (!tip->valid) {
        cw_code rc = store_del(t, STORE_CURSOR, TIP_KEY, strlen(TIP_KEY), NULL, 0, err);
        return rc == CW_ENOTFOUND ? CW_OK : rc;
    }
    uint8_t b[40];
    cw_put_le(b, (uint64_t)tip->height, 8);
    memcpy(b + 8, tip->hash, 32);
    return store_put(t, STORE_CURSOR, TIP_KEY, strlen(TIP_KEY), b, sizeof b, err);
}

cw_code chaindb_hash_at(store_txn *t, int64_t height, uint8_t hash[32], cw_err *err)
{
    uint8_t k[8];
    height_key(height, k);
    cw_span v;
    cw_code rc = store_get(t, STORE_CHAIN, k, 8, &v, err);
    if (rc)
        return rc;
    if (v.n != 32)
        return store_damaged(t, err, "a chain record does not decode");
    memcpy(hash, v.p, 32);
    return CW_OK;
}

bool chaindb_chain_key_height(cw_span k, uint64_t *height)
{
    if (k.n != 8)
        return false;
    *height = cw_get_be(k.p, 8);
    return true;
}

cw_code chaindb_chain_put(store_txn *t, int64_t height, const uint8_t hash[32], cw_err *err)
{
    uint8_t k[8];
    height_key(height, k);
    return store_put(t, STORE_CHAIN, k, 8, hash, 32, err);
}

cw_code chaindb_chain_del(store_txn *t, int64_t height, cw_err *err)
{
    uint8_t k[8];
    height_key(height, k);
    return store_del(t, STORE_CHAIN, k, 8, NULL, 0, err);
}

/* ---- undo ---- */

cw_code chaindb_undo_spent(chaindb_undo *u, const uint8_t op[CHAINDB_OUTPOINT_LEN], cw_span coin, cw_err *err)
{
    if (coin.n > 255)
        return store_damaged(NULL, err, "a utxo record does not decode");
    uint8_t len = (uint8_t)coin.n;
    if (cw_buf_append(&u->spent, op, CHAINDB_OUTPOINT_LEN, err) || cw_buf_append(&u->spent, &len, 1, err) ||
        cw_buf_append(&u->spent, coin.p, coin.n, err))
        return CW_ENOMEM;
    u->n_spent++;
    return CW_OK;
}

cw_code chaindb_undo_created(chaindb_undo *u, const uint8_t op[CHAINDB_OUTPOINT_LEN], cw_err *err)
{
    if (cw_buf_append(&u->created, op, CHAINDB_OUTPOINT_LEN, err))
        return CW_ENOMEM;
    u->n_created++;
    return CW_OK;
}

void chaindb_undo_free(chaindb_undo *u)
{
    cw_buf_free(&u->spent);
    cw_buf_free(&u->created);
}

cw_code chaindb_undo_put(store_txn *t, const uint8_t hash[32], int64_t height, const uint8_t prev[32], uint32_t time,
                         const chaindb_undo *u, const cw_buf *alert_ids, cw_err *err)
{
    cw_buf undo = CW_BUF_INIT;
    uint8_t head[44], n4[4];
    cw_put_le(head, (uint64_t)height, 8);
    memcpy(head + 8, prev, 32);
    cw_put_le(head + 40, time, 4);
    size_t n_alerts = alert_ids ? alert_ids->n / 32 : 0;
    cw_code rc = cw_buf_append(&undo, head, sizeof head, err);
    cw_put_le(n4, u->n_spent, 4);
    if (!rc) rc = cw_buf_append(&undo, n4, 4, err);
    if (!rc) rc = cw_buf_append(&undo, u->spent.p, u->spent.n, err);
    cw_put_le(n4, u->n_created, 4);
    if (!rc) rc = cw_buf_append(&undo, n4, 4, err);
    if (!rc) rc = cw_buf_append(&undo, u->created.p, u->created.n, err);
    cw_put_le(n4, n_alerts, 4);
    if (!rc) rc = cw_buf_append(&undo, n4, 4, err);
    if (!rc && n_alerts) rc = cw_buf_append(&undo, alert_ids->p, n_alerts * 32, err);
    if (!rc)
        rc = store_put(t, STORE_UNDO, hash, 32, undo.p, undo.n, err);
    cw_buf_free(&undo);
    return rc;
}

cw_code chaindb_is_connected(store_txn *t, const uint8_t hash[32], bool *yes, int64_t *height, cw_err *err)
{
    *yes = false;
    cw_span v;
    cw_code rc = store_get(t, STORE_UNDO, hash, 32, &v, err);
    if (rc == CW_ENOTFOUND)
        return CW_OK;
    if (rc)
        return rc;
    if (v.n < 8)
        return store_damaged(t, err, "an undo record does not decode");
    *yes = true;
    if (height)
        *height = (int64_t)cw_get_le(v.p, 8);
    return CW_OK;
}

cw_code chaindb_undo_revert(store_txn *t, const uint8_t hash[32], int64_t *height, uint8_t prev[32], uint32_t *time,
                            cw_buf *alert_ids, cw_err *err)
{
    cw_span u;
    cw_code rc = store_get(t, STORE_UNDO, hash, 32, &u, err);
    if (rc)
        return rc == CW_ENOTFOUND ? store_damaged(t, err, "the undo record is missing") : rc;
    /* Copy: the span dies with the puts below. */
    cw_buf undo = CW_BUF_INIT;
    if ((rc = cw_buf_append(&undo, u.p, u.n, err)))
        return rc;
    const uint8_t *p = undo.p, *end = undo.p + undo.n;
    rc = CW_OK;
    if (end - p < 48) {
        rc = store_damaged(t, err, "an undo record does not decode");
        goto done;
    }
    *height = (int64_t)cw_get_le(p, 8);
    memcpy(prev, p + 8, 32);
    *time = (uint32_t)cw_get_le(p + 40, 4);
    p += 44;
    uint32_t n_spent = (uint32_t)cw_get_le(p, 4);
    p += 4;
    for (uint32_t i = 0; i < n_spent && rc == CW_OK; i++) { /* outputs it spent come back first */
        if (end - p < 37 || end - p < 37 + p[36]) {
            rc = store_damaged(t, err, "an undo record does not decode");
            break;
        }
        rc = store_put(t, STORE_UTXO, p, 36, p + 37, p[36], err);
        p += 37 + p[36];
    }
    if (rc == CW_OK && end - p < 4)
        rc = store_damaged(t, err, "an undo record does not decode");
    uint32_t n_created = rc == CW_OK ? (uint32_t)cw_get_le(p, 4) : 0;
    p += rc == CW_OK ? 4 : 0;
    for (uint32_t i = 0; i < n_created && rc == CW_OK; i++) { /* then the outputs it made go */
        if (end - p < 36) {
            rc = store_damaged(t, err, "an undo record does not decode");
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
            rc = store_damaged(t, err, "an undo record does not decode");
        else if (alert_ids)
            rc = cw_buf_append(alert_ids, p, (size_t)n_alerts * 32, err);
    }
    if (rc == CW_OK)
        rc = store_del(t, STORE_UNDO, hash, 32, NULL, 0, err);
done:
    cw_buf_free(&undo);
    return rc;
}

/* ---- cursor ---- */

static cw_code cursor_get(store_txn *t, const char *name, uint64_t *value, cw_err *err)
{
    cw_span v;
    cw_code rc = store_get(t, STORE_CURSOR, name, strlen(name), &v, err);
    if (rc)
        return rc;
    if (v.n != 8)
        return store_damaged(t, err, "a cursor record does not decode");
    *value = cw_get_le(v.p, 8);
    return CW_OK;
}

static cw_code cursor_put(store_txn *t, const char *name, uint64_t value, cw_err *err)
{
    uint8_t b[8];
    cw_put_le(b, value, 8);
    return store_put(t, STORE_CURSOR, name, strlen(name), b, 8, err);
}

static bool counter_key(const char *topic, char key[32], cw_err *err)
{
    int n = snprintf(key, 32, "seq.%s", topic);
    if (n > 0 && n < 32)
        return true;
    cw_err_set(err, CW_EARG, CW_NO_OFFSET, "feed topic name '%s' is too long for a counter", topic);
    return false;
}

cw_code chaindb_feed_counter_get(store_txn *t, const char *topic, uint64_t *value, cw_err *err)
{
    char key[32];
    return counter_key(topic, key, err) ? cursor_get(t, key, value, err) : CW_EARG;
}

cw_code chaindb_feed_counter_put(store_txn *t, const char *topic, uint64_t value, cw_err *err)
{
    char key[32];
    return counter_key(topic, key, err) ? cursor_put(t, key, value, err) : CW_EARG;
}

cw_code chaindb_flows_fp_get(store_txn *t, uint64_t *value, cw_err *err)
{
    return cursor_get(t, FLOWS_FP_KEY, value, err);
}

cw_code chaindb_flows_fp_put(store_txn *t, uint64_t value, cw_err *err)
{
    return cursor_put(t, FLOWS_FP_KEY, value, err);
}

/* ---- check ---- */

const char *chaindb_check_record(store_db db, cw_span k, cw_span v)
{
    uint64_t value;
    cw_addr a;
    switch (db) {
    case STORE_UTXO:
        if (k.n != CHAINDB_OUTPOINT_LEN)
            return "a key that is not an outpoint (36 bytes)";
        return chaindb_coin_decode(v, &value, &a) ? NULL : "an unspent output that does not decode";
    case STORE_CHAIN:
        if (k.n != 8)
            return "a key that is not a height (8 bytes)";
        return v.n == 32 ? NULL : "a value that is not a block hash (32 bytes)";
    case STORE_CURSOR:
        if (k.n == strlen(TIP_KEY) && memcmp(k.p, TIP_KEY, k.n) == 0)
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
