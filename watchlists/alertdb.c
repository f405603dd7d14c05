#include "alertdb.h"

#include <jansson.h>
#include <string.h>

#include "chains/be.h"
#include "watchlists/store/seqq.h"

#define TRAIL_KEY "trail"
#define TRAIL_LEN 40

/* ---- alerts ---- */

cw_code alertdb_latest_get(store_txn *t, const char *id, cw_span *line, cw_err *err)
{
    return store_get(t, STORE_ALERTS, id, strlen(id), line, err);
}

cw_code alertdb_latest_put(store_txn *t, const char *id, const char *line, size_t n, cw_err *err)
{
    return store_put(t, STORE_ALERTS, id, strlen(id), line, n, err);
}

/* ---- outbox: a sequence queue (seqq.h) ---- */

cw_code alertdb_outbox_put(store_txn *t, uint64_t seq, const char *line, size_t n, cw_err *err)
{
    return seqq_put(t, STORE_OUTBOX, seq, line, n, err);
}

cw_code alertdb_outbox_each(store_txn *t, uint64_t after, alertdb_outbox_fn fn, void *ctx, cw_err *err)
{
    return seqq_each(t, STORE_OUTBOX, after, fn, ctx, err);
}

cw_code alertdb_outbox_last(store_txn *t, uint64_t *seq, cw_err *err) { return seqq_last(t, STORE_OUTBOX, seq, err); }

cw_code alertdb_outbox_remove_through(store_txn *t, uint64_t last, cw_err *err)
{
    return seqq_remove_through(t, STORE_OUTBOX, last, err);
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
    *seq = cw_get_be(v.p, 8);
    memcpy(hash, v.p + 8, 32);
    return CW_OK;
}

cw_code alertdb_trail_put(store_txn *t, uint64_t seq, const uint8_t hash[32], cw_err *err)
{
    uint8_t v[TRAIL_LEN];
    cw_put_be(v, seq, 8);
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
    if (db == STORE_OUTBOX && k.n != SEQQ_KEY_LEN)
        return "a key that is not a sequence number (8 bytes)";
    json_t *j = json_loadb((const char *)v.p, v.n, 0, NULL);
    bool ok = json_is_object(j);
    json_decref(j);
    return ok ? NULL : "a record that is not a JSON object";
}
