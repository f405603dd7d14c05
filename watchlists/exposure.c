#include "exposure.h"

#include <string.h>

#include "chains/le.h"


#define TAINT_MAX (8 + 1 + 1 + EXPOSURE_MAX_HOPS * 32 + 1 + WL_KEY_MAX)

/* amount(8) hops(1) n_path(1) path(32 * n) source_len(1) source */
static size_t encode_taint(const exposure_taint *v, uint8_t *out)
{
    uint8_t *p = out;
    cw_put_le(p, v->amount, 8), p += 8;
    *p++ = v->hops;
    *p++ = v->n_path;
    memcpy(p, v->path, (size_t)v->n_path * 32), p += (size_t)v->n_path * 32;
    *p++ = (uint8_t)v->source_len;
    memcpy(p, v->source, v->source_len), p += v->source_len;
    return (size_t)(p - out);
}

static bool decode_taint(const uint8_t *p, size_t n, exposure_taint *v, size_t *used)
{
    if (n < 11)
        return false;
    memset(v, 0, sizeof *v);
    v->amount = cw_get_le(p, 8);
    v->hops = p[8];
    v->n_path = p[9];
    if (v->n_path > EXPOSURE_MAX_HOPS || n < 10 + (size_t)v->n_path * 32 + 1)
        return false;
    memcpy(v->path, p + 10, (size_t)v->n_path * 32);
    size_t off = 10 + (size_t)v->n_path * 32;
    v->source_len = p[off];
    if (v->source_len > WL_KEY_MAX || n < off + 1 + v->source_len)
        return false;
    memcpy(v->source, p + off + 1, v->source_len);
    *used = off + 1 + v->source_len;
    return true;
}

cw_code exposure_taint_get(store_txn *t, const uint8_t outpoint[36], exposure_taint *out, cw_err *err)
{
    cw_span v;
    cw_code rc = store_get(t, STORE_TAINT, outpoint, 36, &v, err);
    if (rc)
        return rc;
    size_t used;
    if (!decode_taint(v.p, v.n, out, &used) || used != v.n)
        return store_damaged(t, err, "a taint record does not decode");
    return CW_OK;
}

const char *exposure_check_record(store_db db, cw_span k, cw_span v)
{
    exposure_taint tt;
    size_t used;
    switch (db) {
    case STORE_TAINT:
        if (k.n != 36)
            return "a key that is not an outpoint (36 bytes)";
        return decode_taint(v.p, v.n, &tt, &used) && used == v.n ? NULL : "a taint record that does not decode";
    case STORE_EXPOSURE:
        if (k.n == 0 || k.n > WL_KEY_MAX)
            return "a key longer than any address key";
        return v.n >= 17 && decode_taint(v.p + 17, v.n - 17, &tt, &used) && used == v.n - 17
                   ? NULL
                   : "an exposure record that does not decode";
    default:
        return NULL;
    }
}

cw_code exposure_taint_put(journal *j, const uint8_t outpoint[36], const exposure_taint *v, cw_err *err)
{
    if (v->n_path > EXPOSURE_MAX_HOPS || v->source_len > WL_KEY_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "exposure: a path of %u hops", v->n_path);
    uint8_t buf[TAINT_MAX];
    return journal_put(j, STORE_TAINT, outpoint, 36, buf, encode_taint(v, buf), err);
}

cw_code exposure_taint_del(journal *j, const uint8_t outpoint[36], cw_err *err)
{
    return journal_del(j, STORE_TAINT, outpoint, 36, err);
}

/* min_hops(1) amount(8) payments(8) closest taint */
cw_code exposure_address_get(store_txn *t, const uint8_t *key, size_t klen, exposure_address *out, cw_err *err)
{
    cw_span v;
    cw_code rc = store_get(t, STORE_EXPOSURE, key, klen, &v, err);
    if (rc)
        return rc;
    size_t used;
    if (v.n < 17 || !decode_taint(v.p + 17, v.n - 17, &out->closest, &used) || used != v.n - 17)
        return store_damaged(t, err, "an exposure record does not decode");
    out->min_hops = v.p[0];
    out->amount = cw_get_le(v.p + 1, 8);
    out->payments = cw_get_le(v.p + 9, 8);
    return CW_OK;
}

cw_code exposure_address_add(journal *j, const uint8_t *key, size_t klen, const exposure_taint *payment, cw_err *err)
{
    exposure_address a;
    cw_code rc = exposure_address_get(j->t, key, klen, &a, err);
    if (rc == CW_ENOTFOUND) {
        memset(&a, 0, sizeof a);
        a.min_hops = payment->hops;
        a.closest = *payment;
    } else if (rc) {
        return rc;
    } else if (payment->hops < a.closest.hops ||
               (payment->hops == a.closest.hops && payment->amount > a.closest.amount)) {
        a.closest = *payment;
        a.min_hops = payment->hops;
    }
    a.amount += payment->amount;
    a.payments++;
    uint8_t buf[17 + TAINT_MAX];
    buf[0] = a.min_hops;
    cw_put_le(buf + 1, a.amount, 8);
    cw_put_le(buf + 9, a.payments, 8);
    size_t n = 17 + encode_taint(&a.closest, buf + 17);
    return journal_put(j, STORE_EXPOSURE, key, klen, buf, n, err);
}
