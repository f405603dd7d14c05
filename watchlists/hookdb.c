#include "hookdb.h"

#include <jansson.h>
#include <string.h>

#include "chains/be.h"
#include "watchlists/store/seqq.h"

#define COUNTER_KEY "n"
#define CURSOR_LEN 28

/* ---- events: a sequence queue (seqq.h) with its own counter ---- */

cw_code hookdb_event_last(store_txn *t, uint64_t *seq, cw_err *err)
{
    cw_span v;
    cw_code rc = store_get(t, STORE_HOOK_STATE, COUNTER_KEY, 1, &v, err);
    *seq = 0;
    if (rc == CW_ENOTFOUND)
        return CW_OK;
    if (rc)
        return rc;
    if (v.n != SEQQ_KEY_LEN)
        return store_damaged(t, err, "the webhook event counter is %zu bytes, 8 expected", v.n);
    *seq = seqq_key_seq(v.p);
    return CW_OK;
}

cw_code hookdb_event_add(store_txn *t, const char *body, size_t n, uint64_t *seq, cw_err *err)
{
    uint64_t last;
    cw_code rc = hookdb_event_last(t, &last, err);
    if (rc)
        return rc;
    uint8_t k[SEQQ_KEY_LEN];
    seqq_key(last + 1, k);
    if ((rc = seqq_put(t, STORE_HOOKS, last + 1, body, n, err)) ||
        (rc = store_put(t, STORE_HOOK_STATE, COUNTER_KEY, 1, k, sizeof k, err)))
        return rc;
    *seq = last + 1;
    return CW_OK;
}

cw_code hookdb_event_get(store_txn *t, uint64_t seq, cw_span *body, cw_err *err)
{
    return seqq_get(t, STORE_HOOKS, seq, body, err);
}

cw_code hookdb_event_each(store_txn *t, uint64_t after, hookdb_event_fn fn, void *ctx, cw_err *err)
{
    return seqq_each(t, STORE_HOOKS, after, fn, ctx, err);
}

cw_code hookdb_event_remove_through(store_txn *t, uint64_t last, cw_err *err)
{
    return seqq_remove_through(t, STORE_HOOKS, last, err);
}

/* ---- endpoints ---- */

static cw_code url_key(const char *url, uint8_t k[HOOKDB_URL_MAX + 1], size_t *kn, cw_err *err)
{
    size_t n = url ? strlen(url) : 0;
    if (n == 0 || n > HOOKDB_URL_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "a webhook URL must be 1 to %d bytes (%zu given)",
                          HOOKDB_URL_MAX, n);
    k[0] = 'c';
    memcpy(k + 1, url, n);
    *kn = n + 1;
    return CW_OK;
}

static void decode_cursor(const uint8_t *p, hookdb_endpoint *ep)
{
    ep->delivered = cw_get_be(p, 8);
    ep->attempts = (uint32_t)cw_get_be(p + 8, 4);
    ep->next_ms = cw_get_be(p + 12, 8);
    ep->dead = cw_get_be(p + 20, 8);
}

cw_code hookdb_endpoint_get(store_txn *t, const char *url, hookdb_endpoint *ep, cw_err *err)
{
    uint8_t k[HOOKDB_URL_MAX + 1];
    size_t kn = 0;
    cw_code rc = url_key(url, k, &kn, err);
    cw_span v;
    if (rc || (rc = store_get(t, STORE_HOOK_STATE, k, kn, &v, err)))
        return rc;
    if (v.n != CURSOR_LEN)
        return store_damaged(t, err, "the webhook cursor of %s is %zu bytes, %d expected", url, v.n, CURSOR_LEN);
    decode_cursor(v.p, ep);
    return CW_OK;
}

cw_code hookdb_endpoint_put(store_txn *t, const char *url, const hookdb_endpoint *ep, cw_err *err)
{
    uint8_t k[HOOKDB_URL_MAX + 1], v[CURSOR_LEN];
    size_t kn = 0;
    cw_code rc = url_key(url, k, &kn, err);
    if (rc)
        return rc;
    cw_put_be(v, ep->delivered, 8);
    cw_put_be(v + 8, ep->attempts, 4);
    cw_put_be(v + 12, ep->next_ms, 8);
    cw_put_be(v + 20, ep->dead, 8);
    return store_put(t, STORE_HOOK_STATE, k, kn, v, sizeof v, err);
}

cw_code hookdb_endpoint_each(store_txn *t, hookdb_endpoint_fn fn, void *ctx, cw_err *err)
{
    store_cursor *c;
    cw_code rc = store_cursor_open(t, STORE_HOOK_STATE, &c, err);
    if (rc)
        return rc;
    cw_span k, v;
    for (bool more = store_cursor_seek(c, "c", 1, &k, &v); more; more = store_cursor_next(c, &k, &v)) {
        if (k.n < 2 || k.p[0] != 'c')
            break;
        if (v.n != CURSOR_LEN || k.n > HOOKDB_URL_MAX + 1)
            continue; /* `watchlist check` reports it */
        char url[HOOKDB_URL_MAX + 1];
        memcpy(url, k.p + 1, k.n - 1);
        url[k.n - 1] = '\0';
        hookdb_endpoint ep;
        decode_cursor(v.p, &ep);
        if (!fn(ctx, url, &ep))
            break;
    }
    rc = store_cursor_error(c, err);
    store_cursor_close(c);
    return rc;
}

/* ---- dead letters ---- */

cw_code hookdb_dead_put(store_txn *t, const char *url, uint64_t seq, const char *rec, size_t n, cw_err *err)
{
    uint8_t k[HOOKDB_URL_MAX + 1 + 1 + 8];
    size_t kn = 0;
    cw_code rc = url_key(url, k, &kn, err);
    if (rc)
        return rc;
    k[0] = 'd';
    k[kn] = 0;
    seqq_key(seq, k + kn + 1);
    return store_put(t, STORE_HOOK_STATE, k, kn + 9, rec, n, err);
}

cw_code hookdb_dead_each(store_txn *t, hookdb_dead_fn fn, void *ctx, cw_err *err)
{
    store_cursor *c;
    cw_code rc = store_cursor_open(t, STORE_HOOK_STATE, &c, err);
    if (rc)
        return rc;
    cw_span k, v;
    for (bool more = store_cursor_seek(c, "d", 1, &k, &v); more; more = store_cursor_next(c, &k, &v)) {
        if (k.n < 1 || k.p[0] != 'd')
            break;
        if (k.n < 11 || k.n > HOOKDB_URL_MAX + 10 || k.p[k.n - 9] != 0)
            continue;
        char url[HOOKDB_URL_MAX + 1];
        memcpy(url, k.p + 1, k.n - 10);
        url[k.n - 10] = '\0';
        if (!fn(ctx, url, seqq_key_seq(k.p + k.n - 8), v))
            break;
    }
    rc = store_cursor_error(c, err);
    store_cursor_close(c);
    return rc;
}

const char *hookdb_check_record(store_db db, cw_span k, cw_span v)
{
    if (db == STORE_HOOKS) {
        if (k.n != SEQQ_KEY_LEN)
            return "a key that is not an event number (8 bytes)";
    } else if (db == STORE_HOOK_STATE) {
        if (k.n == 1 && k.p[0] == 'n')
            return v.n == 8 ? NULL : "an event counter that is not 8 bytes";
        if (k.n >= 2 && k.p[0] == 'c')
            return v.n == CURSOR_LEN ? NULL : "an endpoint cursor that does not decode";
        if (k.n >= 11 && k.p[0] == 'd' && k.p[k.n - 9] == 0)
            ; /* a dead letter: JSON below */
        else
            return "a key that is neither the counter, a cursor nor a dead letter";
    } else
        return NULL;
    json_t *j = json_loadb((const char *)v.p, v.n, 0, NULL);
    bool ok = json_is_object(j);
    json_decref(j);
    return ok ? NULL : "a record that is not a JSON object";
}
