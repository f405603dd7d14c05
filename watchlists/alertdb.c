#include "alertdb.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/be.h"
#include "watchlists/store/seqq.h"

#define TRAIL_KEY "trail"
#define COUNT_KEY "records" /* the total; COUNT_KEY "/" RULE each rule's */
#define TRAIL_LEN 40

/* ---- alerts ---- */

cw_code alertdb_latest_get(store_txn *t, const char *id, cw_span *line, cw_err *err)
{
    return store_get(t, STORE_ALERTS, id, strlen(id), line, err);
}

/* ---- counts of alert ids by rule ---- */

static cw_code count_get(store_txn *t, const char *key, size_t klen, uint64_t *v, bool *found, cw_err *err)
{
    cw_span s;
    *v = 0;
    *found = false;
    cw_code rc = store_get(t, STORE_CURSOR, key, klen, &s, err);
    if (rc == CW_ENOTFOUND)
        return CW_OK;
    if (rc)
        return rc;
    if (s.n != 8)
        return store_damaged(t, err, "the record count %.*s is not 8 bytes", (int)klen, key);
    *v = cw_get_be(s.p, 8);
    *found = true;
    return CW_OK;
}

static cw_code count_put(store_txn *t, const char *key, size_t klen, uint64_t v, cw_err *err)
{
    uint8_t b[8];
    cw_put_be(b, v, 8);
    return store_put(t, STORE_CURSOR, key, klen, b, 8, err);
}

/* COUNT_KEY "/" rule into key[cap]; 0 when it does not fit. */
static size_t rule_key(const char *rule, char *key, size_t cap)
{
    int n = snprintf(key, cap, "%s/%s", COUNT_KEY, rule);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

typedef struct {
    char rule[ALERTDB_RULE_MAX + 1];
    uint64_t n;
} rule_tally;

typedef struct {
    rule_tally *v;
    size_t n, cap;
    uint64_t total;
    cw_code rc;
    cw_err *err;
} tally;

static void tally_add(tally *t, const char *rule, uint64_t n)
{
    t->total += n;
    if (rule == NULL || rule[0] == '\0' || strlen(rule) > ALERTDB_RULE_MAX)
        return; /* in the total only */
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].rule, rule) == 0) {
            t->v[i].n += n;
            return;
        }
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        rule_tally *v = realloc(t->v, cap * sizeof *v);
        if (v == NULL) {
            if (t->rc == CW_OK)
                t->rc = cw_err_set(t->err, CW_ENOMEM, CW_NO_OFFSET, "out of memory counting records");
            return;
        }
        t->v = v;
        t->cap = cap;
    }
    snprintf(t->v[t->n].rule, sizeof t->v[t->n].rule, "%s", rule);
    t->v[t->n++].n = n;
}

/* Every record of the alerts table, tallied by its "rule": what the counts
 * say once they are kept, read the long way (a store from before them). */
static cw_code tally_walk(store_txn *t, tally *ty, cw_err *err)
{
    store_cursor *c;
    cw_code rc = store_cursor_open(t, STORE_ALERTS, &c, err);
    if (rc)
        return rc;
    cw_span k, v;
    for (bool has = store_cursor_seek(c, NULL, 0, &k, &v); has && ty->rc == CW_OK; has = store_cursor_next(c, &k, &v)) {
        json_t *rec = json_loadb((const char *)v.p, v.n, 0, NULL);
        if (rec == NULL) {
            store_cursor_close(c);
            return store_damaged(t, err, "alert record %.*s is not JSON", (int)k.n, (const char *)k.p);
        }
        tally_add(ty, json_string_value(json_object_get(rec, "rule")), 1);
        json_decref(rec);
    }
    rc = store_cursor_error(c, err);
    store_cursor_close(c);
    return rc ? rc : ty->rc;
}

/* The kept counts, tallied; *kept false when the store has none yet. */
static cw_code tally_kept(store_txn *t, tally *ty, bool *kept, cw_err *err)
{
    uint64_t total;
    cw_code rc = count_get(t, COUNT_KEY, strlen(COUNT_KEY), &total, kept, err);
    if (rc || !*kept)
        return rc;
    store_cursor *c;
    if ((rc = store_cursor_open(t, STORE_CURSOR, &c, err)))
        return rc;
    const size_t pn = strlen(COUNT_KEY "/");
    cw_span k, v;
    for (bool has = store_cursor_seek(c, COUNT_KEY "/", pn, &k, &v);
         has && k.n > pn && memcmp(k.p, COUNT_KEY "/", pn) == 0 && ty->rc == CW_OK; has = store_cursor_next(c, &k, &v)) {
        if (v.n != 8 || k.n - pn > ALERTDB_RULE_MAX) {
            store_cursor_close(c);
            return store_damaged(t, err, "the record count %.*s does not decode", (int)k.n, (const char *)k.p);
        }
        char rule[ALERTDB_RULE_MAX + 1];
        memcpy(rule, (const char *)k.p + pn, k.n - pn);
        rule[k.n - pn] = '\0';
        tally_add(ty, rule, cw_get_be(v.p, 8));
    }
    rc = store_cursor_error(c, err);
    store_cursor_close(c);
    ty->total = total; /* records without a rule are in the total only */
    return rc ? rc : ty->rc;
}

cw_code alertdb_count_by_rule(store_txn *t, alertdb_count_fn fn, void *ctx, uint64_t *total, bool *walked,
                              cw_err *err)
{
    tally ty = {NULL, 0, 0, 0, CW_OK, err};
    bool kept = false;
    cw_code rc = tally_kept(t, &ty, &kept, err);
    if (rc == CW_OK && !kept)
        rc = tally_walk(t, &ty, err);
    if (rc == CW_OK) {
        for (size_t i = 0; i < ty.n; i++)
            fn(ctx, ty.v[i].rule, ty.v[i].n);
        if (total)
            *total = ty.total;
        if (walked)
            *walked = !kept;
    }
    free(ty.v);
    return rc;
}

/* A new id of rule: its rule's count and the total up by one. The first
 * new id in a store from before the counts counts the table first. */
static cw_code count_new(store_txn *t, const char *rule, cw_err *err)
{
    uint64_t total;
    bool kept;
    cw_code rc = count_get(t, COUNT_KEY, strlen(COUNT_KEY), &total, &kept, err);
    if (rc)
        return rc;
    char key[sizeof COUNT_KEY + 1 + ALERTDB_RULE_MAX];
    size_t kn;
    if (!kept) {
        tally ty = {NULL, 0, 0, 0, CW_OK, err};
        rc = tally_walk(t, &ty, err);
        for (size_t i = 0; rc == CW_OK && i < ty.n; i++)
            if ((kn = rule_key(ty.v[i].rule, key, sizeof key)))
                rc = count_put(t, key, kn, ty.v[i].n, err);
        total = ty.total;
        free(ty.v);
        if (rc)
            return rc;
    }
    if ((rc = count_put(t, COUNT_KEY, strlen(COUNT_KEY), total + 1, err)))
        return rc;
    if (rule == NULL || rule[0] == '\0' || strlen(rule) > ALERTDB_RULE_MAX || !(kn = rule_key(rule, key, sizeof key)))
        return CW_OK; /* in the total only */
    uint64_t n;
    bool found;
    if ((rc = count_get(t, key, kn, &n, &found, err)))
        return rc;
    return count_put(t, key, kn, n + 1, err);
}

cw_code alertdb_latest_put(store_txn *t, const char *id, const char *rule, const char *line, size_t n, cw_err *err)
{
    cw_span old;
    cw_code rc = store_get(t, STORE_ALERTS, id, strlen(id), &old, err);
    if (rc == CW_ENOTFOUND)
        rc = count_new(t, rule, err);
    if (rc)
        return rc;
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
