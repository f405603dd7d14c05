#include "rulestats.h"

#include <string.h>

#include "chains/le.h"

/* rs_addr and rs_pair are runs of uint64_t (the pair then two txids):
 * written as little-endian 8-byte fields in declaration order. */
#define ADDR_FIELDS (sizeof(rs_addr) / 8)
#define PAIR_FIELDS ((sizeof(rs_pair) - 64) / 8)
#define ADDR_BYTES (ADDR_FIELDS * 8)
#define PAIR_BYTES (PAIR_FIELDS * 8 + 64)
#define TRACE_MIN ((size_t)(1 + 1 + 32 + 1)) /* pool, hops, txid, origin length */

_Static_assert(sizeof(rs_addr) % 8 == 0, "rs_addr is uint64_t fields only");

static void put_u64s(uint8_t *p, const uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cw_put_le(p + 8 * i, v[i], 8);
}

static void get_u64s(const uint8_t *p, uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = cw_get_le(p + 8 * i, 8);
}

cw_code rs_addr_get(store_txn *t, const uint8_t *key, size_t klen, rs_addr *out, cw_err *err)
{
    cw_span v;
    cw_code rc = store_get(t, STORE_RULE_ADDR, key, klen, &v, err);
    if (rc)
        return rc;
    if (v.n != ADDR_BYTES)
        return store_damaged(t, err, "a rule_addr record of %zu bytes (%zu expected)", v.n, (size_t)ADDR_BYTES);
    get_u64s(v.p, (uint64_t *)out, ADDR_FIELDS);
    return CW_OK;
}

cw_code rs_addr_put(journal *j, const uint8_t *key, size_t klen, const rs_addr *v, cw_err *err)
{
    uint8_t buf[ADDR_BYTES];
    put_u64s(buf, (const uint64_t *)v, ADDR_FIELDS);
    return journal_put(j, STORE_RULE_ADDR, key, klen, buf, sizeof buf, err);
}

static size_t pair_key(char kind, const uint8_t *payee, size_t plen, const uint8_t *cp, size_t clen, uint8_t *out)
{
    out[0] = (uint8_t)kind;
    out[1] = (uint8_t)plen;
    memcpy(out + 2, payee, plen);
    memcpy(out + 2 + plen, cp, clen);
    return 2 + plen + clen;
}

static void pair_decode(const uint8_t *p, rs_pair *out)
{
    get_u64s(p, (uint64_t *)out, PAIR_FIELDS);
    memcpy(out->first_txid, p + PAIR_FIELDS * 8, 32);
    memcpy(out->last_txid, p + PAIR_FIELDS * 8 + 32, 32);
}

cw_code rs_pair_get(store_txn *t, char kind, const uint8_t *payee, size_t plen, const uint8_t *cp, size_t clen,
                    rs_pair *out, cw_err *err)
{
    if (plen > WL_KEY_MAX || clen > WL_KEY_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "rule stats: a key over %d bytes", WL_KEY_MAX);
    uint8_t k[2 + 2 * WL_KEY_MAX];
    size_t kn = pair_key(kind, payee, plen, cp, clen, k);
    cw_span v;
    cw_code rc = store_get(t, STORE_RULE_PAIR, k, kn, &v, err);
    if (rc)
        return rc;
    if (v.n != PAIR_BYTES)
        return store_damaged(t, err, "a rule_pair record of %zu bytes (%zu expected)", v.n, (size_t)PAIR_BYTES);
    pair_decode(v.p, out);
    return CW_OK;
}

cw_code rs_pair_put(journal *j, char kind, const uint8_t *payee, size_t plen, const uint8_t *cp, size_t clen,
                    const rs_pair *v, cw_err *err)
{
    if (plen > WL_KEY_MAX || clen > WL_KEY_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "rule stats: a key over %d bytes", WL_KEY_MAX);
    uint8_t k[2 + 2 * WL_KEY_MAX], buf[PAIR_BYTES];
    size_t kn = pair_key(kind, payee, plen, cp, clen, k);
    put_u64s(buf, (const uint64_t *)v, PAIR_FIELDS);
    memcpy(buf + PAIR_FIELDS * 8, v->first_txid, 32);
    memcpy(buf + PAIR_FIELDS * 8 + 32, v->last_txid, 32);
    return journal_put(j, STORE_RULE_PAIR, k, kn, buf, sizeof buf, err);
}

cw_code rs_pair_each(store_txn *t, char kind, const uint8_t *payee, size_t plen, rs_pair_fn fn, void *ctx,
                     cw_err *err)
{
    if (plen > WL_KEY_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "rule stats: a key over %d bytes", WL_KEY_MAX);
    uint8_t prefix[2 + WL_KEY_MAX];
    size_t pn = pair_key(kind, payee, plen, NULL, 0, prefix);
    store_cursor *c;
    cw_code rc = store_cursor_open(t, STORE_RULE_PAIR, &c, err);
    if (rc)
        return rc;
    cw_span k, v;
    bool more = store_cursor_seek(c, prefix, pn, &k, &v);
    while (more && k.n > pn && memcmp(k.p, prefix, pn) == 0) {
        if (v.n != PAIR_BYTES) {
            store_cursor_close(c);
            return store_damaged(t, err, "a rule_pair record of %zu bytes (%zu expected)", v.n, (size_t)PAIR_BYTES);
        }
        rs_pair p;
        pair_decode(v.p, &p);
        if (!fn(ctx, k.p + pn, k.n - pn, &p)) {
            store_cursor_close(c);
            return CW_OK;
        }
        more = store_cursor_next(c, &k, &v);
    }
    rc = store_cursor_error(c, err);
    store_cursor_close(c);
    return rc;
}

cw_code rs_trace_get(store_txn *t, const uint8_t outpoint[36], rs_trace *out, cw_err *err)
{
    cw_span v;
    cw_code rc = store_get(t, STORE_RULE_TRACE, outpoint, 36, &v, err);
    if (rc)
        return rc;
    if (v.n < TRACE_MIN || v.n != TRACE_MIN + (size_t)v.p[34] || v.p[34] > WL_KEY_MAX)
        return store_damaged(t, err, "a rule_trace record of %zu bytes that does not decode", v.n);
    out->pool = v.p[0];
    out->hops = v.p[1];
    memcpy(out->first_txid, v.p + 2, 32);
    out->origin_len = v.p[34];
    memcpy(out->origin, v.p + TRACE_MIN, out->origin_len);
    return CW_OK;
}

cw_code rs_trace_put(journal *j, const uint8_t outpoint[36], const rs_trace *v, cw_err *err)
{
    if (v->origin_len > WL_KEY_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "rule stats: a key over %d bytes", WL_KEY_MAX);
    uint8_t buf[TRACE_MIN + WL_KEY_MAX];
    buf[0] = v->pool;
    buf[1] = v->hops;
    memcpy(buf + 2, v->first_txid, 32);
    buf[34] = (uint8_t)v->origin_len;
    memcpy(buf + TRACE_MIN, v->origin, v->origin_len);
    return journal_put(j, STORE_RULE_TRACE, outpoint, 36, buf, TRACE_MIN + v->origin_len, err);
}

cw_code rs_trace_del(journal *j, const uint8_t outpoint[36], cw_err *err)
{
    return journal_del(j, STORE_RULE_TRACE, outpoint, 36, err);
}

const char *rs_check_record(store_db db, cw_span k, cw_span v)
{
    switch (db) {
    case STORE_RULE_ADDR:
        if (k.n == 0 || k.n > WL_KEY_MAX)
            return "a key that is not an address key";
        return v.n == ADDR_BYTES ? NULL : "a value of the wrong length";
    case STORE_RULE_PAIR:
        if (k.n < 3 || (k.p[0] != RS_KIND_PAYER && k.p[0] != RS_KIND_SOURCE) || (size_t)k.p[1] + 2 >= k.n)
            return "a key that is not kind|payee|counterparty";
        return v.n == PAIR_BYTES ? NULL : "a value of the wrong length";
    case STORE_RULE_TRACE:
        if (k.n != 36)
            return "a key that is not an outpoint (36 bytes)";
        return v.n >= TRACE_MIN && v.n == TRACE_MIN + (size_t)v.p[34] ? NULL : "a value that does not decode";
    default:
        return NULL;
    }
}
