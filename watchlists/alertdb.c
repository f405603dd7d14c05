#include "alertdb.h"

#include <jansson.h>
#include <string.h>

#include "chains/buf.h"

#define TRAIL_KEY "trail"
#define TRAIL_LEN 40

static void be64(uint64_t v, uint8_t k[8])
{
    for (int i = 0; i < 8; i++)
        k[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_be64(const uint8_t *k)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | k[i];
    return v;
}

/* ---- alerts ---- */

cw_code alertdb_latest_get(store_txn *t, const char *id, cw_span *line, cw_err *err)
{
    return store_get(t, STORE_ALERTS, id, strlen(id), line, err);
}

cw_code alertdb_latest_put(store_txn *t, const char *id, const char *line, size_t n, cw_err *err)
{
    return store_put(t, STORE_ALERTS, id, strlen(id), line, n, err);
}

/* ---- outbox ---- */

cw_code alertdb_outbox_put(store_txn *t, uint64_t seq, const char *line, size_t n, cw_err *err)
{
    uint8_t k[8];
    be64(seq, k);
    return store_put(t, STORE_OUTBOX, k, 8, line, n, err);
}

cw_code alertdb_outbox_each(store_txn *t, uint64_t after, alertdb_outbox_fn fn, void *ctx, cw_err *err)
{
    store_cursor *c;
    cw_code rc = store_cursor_open(t, STORE_OUTBOX, &c, err);
    if (rc)
        return rc;
    uint8_t from[8];
    be64(after + 1, from);
    cw_span k, v;
    for (bool more = store_cursor_seek(c, after ? from : NULL, after ? 8 : 0, &k, &v); more;
         more = store_cursor_next(c, &k, &v))
        if (k.n == 8 && !fn(ctx, get_be64(k.p), v))
            break;
    rc = store_cursor_error(c, err);
    store_cursor_close(c);
    return rc;
}

static bool note_last(void *ctx, uint64_t seq, cw_span line)
{
    (void)line;
    uint64_t *last = ctx;
    if (seq > *last)
        *last = seq;
    return true;
}

cw_code alertdb_outbox_last(store_txn *t, uint64_t *seq, cw_err *err)
{
    *seq = 0;
    return alertdb_outbox_each(t, 0, note_last, seq, err);
}

typedef struct {
    uint64_t last;
    cw_buf keys;
    cw_code rc;
    cw_err *err;
} remove_ctx;

static bool collect(void *ctx, uint64_t seq, cw_span line)
{
    (void)line;
    remove_ctx *r = ctx;
    if (seq > r->last)
        return false;
    uint8_t k[8];
    be64(seq, k);
    return (r->rc = cw_buf_append(&r->keys, k, 8, r->err)) == CW_OK;
}

cw_code alertdb_outbox_remove_through(store_txn *t, uint64_t last, cw_err *err)
{
    /* keys first, deletes after: a cursor does not survive deletes under it */
    remove_ctx r = {last, CW_BUF_INIT, CW_OK, err};
    cw_code rc = alertdb_outbox_each(t, 0, collect, &r, err);
    if (rc == CW_OK)
        rc = r.rc;
    for (size_t i = 0; rc == CW_OK && i + 8 <= r.keys.n; i += 8)
        rc = store_del(t, STORE_OUTBOX, r.keys.p + i, 8, NULL, 0, err);
    cw_buf_free(&r.keys);
    return rc;
}

/* ---- the audit trail head ---- */

cw_code alertdb_trail_get(store_txn *t, uint64_t *seq, uint8_t hash[32], cw_err *err)
{
    cw_span v;
    cw_code rc = store_get(t, STORE_CURSOR, TRAIL_KEY, strlen(TRAIL_KEY), &v, err);
    if (rc)
        return rc;
    if (v.n != TRAIL_LEN)
        return store_damaged(t, err, "the audit trail head is %zu bytes, 40 expected", v.n);
    *seq = get_be64(v.p);
    memcpy(hash, v.p + 8, 32);
    return CW_OK;
}

cw_code alertdb_trail_put(store_txn *t, uint64_t seq, const uint8_t hash[32], cw_err *err)
{
    uint8_t v[TRAIL_LEN];
    be64(seq, v);
    memcpy(v + 8, hash, 32);
    return store_put(t, STORE_CURSOR, TRAIL_KEY, strlen(TRAIL_KEY), v, sizeof v, err);
}

/* ---- check ---- */

bool alertdb_is_trail_key(cw_span k) { return k.n == strlen(TRAIL_KEY) && memcmp(k.p, TRAIL_KEY, k.n) == 0; }

const char *alertdb_check_record(store_db db, cw_span k, cw_span v)
{
    if (db == STORE_CURSOR)
        return !alertdb_is_trail_key(k) || v.n == TRAIL_LEN ? NULL : "an audit trail head that does not decode";
    if (db != STORE_ALERTS && db != STORE_OUTBOX)
        return NULL;
    if (db == STORE_OUTBOX && k.n != 8)
        return "a key that is not a sequence number (8 bytes)";
    json_t *j = json_loadb((const char *)v.p, v.n, 0, NULL);
    bool ok = json_is_object(j);
    json_decref(j);
    return ok ? NULL : "a record that is not a JSON object";
}
