#include "store_check.h"
#include "rulestats.h"

#include <stdio.h>
#include <string.h>

#include "chains/buf.h"
#include "chains/le.h"
#include "acct_exposure.h"
#include "alertdb.h"
#include "casedb.h"
#include "hookdb.h"
#include "chaindb.h"
#include "cluster.h"
#include "exposure.h"
#include "keylink.h"
#include "watchlist.h"

static const char *check_record(store_txn *t, store_db db, cw_span k, cw_span v)
{
    if (db == STORE_CURSOR && alertdb_is_trail_key(k))
        return alertdb_check_record(db, k, v);
    if (db == STORE_CURSOR && k.n == strlen(STORE_FORMAT_KEY) && memcmp(k.p, STORE_FORMAT_KEY, k.n) == 0)
        return v.n == 8 && cw_get_le(v.p, 8) == STORE_FORMAT ? NULL : "a store format record that is not this format";
    switch (db) {
    case STORE_WL_ADDR:
    case STORE_WL_ENTITY:
    case STORE_WL_META:
    case STORE_WL_DIFF:
        return wl_check_record(db, k, v);
    case STORE_UTXO:
    case STORE_UNDO:
    case STORE_CHAIN:
    case STORE_CURSOR:
        return chaindb_check_record(db, k, v);
    case STORE_ALERTS:
    case STORE_OUTBOX:
        return alertdb_check_record(db, k, v);
    case STORE_CLUSTER:
    case STORE_CLUSTER_INFO:
    case STORE_CLUSTER_DESIG:
        return cluster_check_record(t, db, k, v);
    case STORE_TAINT:
    case STORE_EXPOSURE:
        return exposure_check_record(db, k, v);
    case STORE_ACCT_EXPOSURE:
        return acct_exposure_check_record(k, v);
    case STORE_RULE_ADDR:
    case STORE_RULE_TRACE:
    case STORE_RULE_ORIGIN:
    case STORE_RULE_PAIR:
        return rs_check_record(db, k, v);
    case STORE_JOURNAL:
        return k.n == 32 ? NULL : "a key that is not a block hash (32 bytes)";
    case STORE_KEYLINK:
        return keylink_check_record(k, v);
    case STORE_CASES:
    case STORE_CASE_AUDIT:
        return casedb_check_record(db, k, v);
    case STORE_HOOKS:
    case STORE_HOOK_STATE:
        return hookdb_check_record(db, k, v);
    default:
        return NULL;
    }
}

typedef struct {
    store_check_fn report;
    void *ctx;
    store_check_counts *counts;
} walk_ctx;

static void damage(walk_ctx *w, store_db db, const void *key, size_t klen, const char *what)
{
    w->counts->damaged[db]++;
    w->report(w->ctx, db, key, klen, what);
}

/* The chain's heights from the first connected one on, one each, and the
 * tip where the chain ends. */
static void check_chain(walk_ctx *w, store_txn *t)
{
    store_cursor *c;
    cw_err e;
    if (store_cursor_open(t, STORE_CHAIN, &c, &e))
        return; /* reported by the walk */
    cw_span k, v;
    uint64_t prev = 0, n = 0;
    uint8_t last_hash[32];
    for (bool more = store_cursor_seek(c, NULL, 0, &k, &v); more; more = store_cursor_next(c, &k, &v)) {
        uint64_t h;
        if (!chaindb_chain_key_height(k, &h) || v.n != 32)
            continue; /* reported by the walk */
        if (n > 0 && h != prev + 1) {
            char what[96];
            snprintf(what, sizeof what, "height %llu follows height %llu: the heights between are missing",
                     (unsigned long long)h, (unsigned long long)prev);
            damage(w, STORE_CHAIN, k.p, k.n, what);
        }
        prev = h;
        memcpy(last_hash, v.p, 32);
        n++;
    }
    store_cursor_close(c);
    chaindb_tip tip;
    cw_code rc = chaindb_get_tip(t, &tip, &e);
    if (rc == CW_EDAMAGED)
        return; /* a tip that does not decode: reported by the walk */
    if (rc) { /* the walk read it; this read failed: no "every record reads" */
        damage(w, STORE_CURSOR, "tip", 3, e.msg);
        return;
    }
    if (!tip.valid) {
        if (n > 0)
            damage(w, STORE_CURSOR, "tip", 3, "no tip, but the chain table holds blocks");
        return;
    }
    if (n == 0) {
        damage(w, STORE_CURSOR, "tip", 3, "a tip, but the chain table holds no block");
    } else if ((uint64_t)tip.height != prev || memcmp(tip.hash, last_hash, 32) != 0) {
        char what[96];
        snprintf(what, sizeof what, "the tip (height %llu) is not the chain's last block (height %llu)",
                 (unsigned long long)tip.height, (unsigned long long)prev);
        damage(w, STORE_CURSOR, "tip", 3, what);
    }
}

cw_code store_check(cw_store *s, store_check_fn report, void *ctx, store_check_counts *counts, cw_err *err)
{
    memset(counts, 0, sizeof *counts);
    walk_ctx w = {report, ctx, counts};
    store_txn *t;
    cw_code rc = store_begin(s, false, &t, err);
    if (rc)
        return rc;
    for (int d = 0; d < STORE_DB_COUNT; d++) {
        store_db db = (store_db)d;
        store_cursor *c;
        cw_err e = {0};
        if (store_cursor_open(t, db, &c, &e)) {
            damage(&w, db, NULL, 0, e.msg);
            continue;
        }
        cw_span k, v;
        uint8_t last[512];
        size_t last_n = 0;
        for (bool more = store_cursor_seek(c, NULL, 0, &k, &v); more; more = store_cursor_next(c, &k, &v)) {
            counts->records[db]++;
            last_n = k.n < sizeof last ? k.n : sizeof last;
            memcpy(last, k.p, last_n);
            const char *what = check_record(t, db, k, v);
            if (what)
                damage(&w, db, k.p, k.n, what);
        }
        if (store_cursor_error(c, &e)) {
            char what[CW_ERR_MSG_MAX + 64];
            snprintf(what, sizeof what, "the walk stopped %s: %s", last_n ? "after this key" : "at its first key",
                     e.msg);
            damage(&w, db, last_n ? last : NULL, last_n, what);
        }
        store_cursor_close(c);
    }
    check_chain(&w, t);
    store_abort(t);
    return CW_OK;
}
