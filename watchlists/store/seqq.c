#include "seqq.h"

#include "chains/be.h"
#include "chains/buf.h"

void seqq_key(uint64_t seq, uint8_t k[SEQQ_KEY_LEN]) { cw_put_be(k, seq, SEQQ_KEY_LEN); }

uint64_t seqq_key_seq(const uint8_t k[SEQQ_KEY_LEN]) { return cw_get_be(k, SEQQ_KEY_LEN); }

cw_code seqq_put(store_txn *t, store_db db, uint64_t seq, const void *v, size_t n, cw_err *err)
{
    uint8_t k[SEQQ_KEY_LEN];
    seqq_key(seq, k);
    return store_put(t, db, k, sizeof k, v, n, err);
}

cw_code seqq_get(store_txn *t, store_db db, uint64_t seq, cw_span *v, cw_err *err)
{
    uint8_t k[SEQQ_KEY_LEN];
    seqq_key(seq, k);
    return store_get(t, db, k, sizeof k, v, err);
}

cw_code seqq_each(store_txn *t, store_db db, uint64_t after, seqq_fn fn, void *ctx, cw_err *err)
{
    if (after == UINT64_MAX)
        return CW_OK; /* nothing is numbered above; after + 1 would wrap to the start */
    store_cursor *c;
    cw_code rc = store_cursor_open(t, db, &c, err);
    if (rc)
        return rc;
    uint8_t from[SEQQ_KEY_LEN];
    seqq_key(after + 1, from);
    cw_span k, v;
    for (bool more = store_cursor_seek(c, from, sizeof from, &k, &v); more; more = store_cursor_next(c, &k, &v))
        if (k.n == SEQQ_KEY_LEN && !fn(ctx, seqq_key_seq(k.p), v))
            break;
    rc = store_cursor_error(c, err);
    store_cursor_close(c);
    return rc;
}

static bool note_last(void *ctx, uint64_t seq, cw_span v)
{
    (void)v;
    uint64_t *last = ctx;
    if (seq > *last)
        *last = seq;
    return true;
}

cw_code seqq_last(store_txn *t, store_db db, uint64_t *seq, cw_err *err)
{
    *seq = 0;
    return seqq_each(t, db, 0, note_last, seq, err);
}

typedef struct {
    uint64_t last;
    cw_buf keys;
    cw_code rc;
    cw_err *err;
} remove_ctx;

static bool collect(void *ctx, uint64_t seq, cw_span v)
{
    (void)v;
    remove_ctx *r = ctx;
    if (seq > r->last)
        return false;
    uint8_t k[SEQQ_KEY_LEN];
    seqq_key(seq, k);
    return (r->rc = cw_buf_append(&r->keys, k, sizeof k, r->err)) == CW_OK;
}

cw_code seqq_remove_through(store_txn *t, store_db db, uint64_t last, cw_err *err)
{
    remove_ctx r = {last, CW_BUF_INIT, CW_OK, err};
    cw_code rc = seqq_each(t, db, 0, collect, &r, err);
    if (rc == CW_OK)
        rc = r.rc;
    for (size_t i = 0; rc == CW_OK && i + SEQQ_KEY_LEN <= r.keys.n; i += SEQQ_KEY_LEN)
        rc = store_del(t, db, r.keys.p + i, SEQQ_KEY_LEN, NULL, 0, err);
    cw_buf_free(&r.keys);
    return rc;
}
