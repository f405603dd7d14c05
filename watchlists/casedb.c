#include "casedb.h"

#include <jansson.h>
#include <string.h>

#include "chains/be.h"

static bool hex_id(const uint8_t *p, size_t n)
{
    if (n != CASEDB_ID_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return true;
}

bool casedb_id_valid(const char *id) { return id && hex_id((const uint8_t *)id, strlen(id)); }

static cw_code check_id(const char *id, cw_err *err)
{
    if (casedb_id_valid(id))
        return CW_OK;
    return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "'%.40s' is not a case id (the alert id: 32 lowercase hex chars)",
                      id ? id : "");
}

cw_code casedb_get(store_txn *t, const char *id, cw_span *rec, cw_err *err)
{
    cw_code rc = check_id(id, err);
    return rc ? rc : store_get(t, STORE_CASES, id, CASEDB_ID_LEN, rec, err);
}

cw_code casedb_put(store_txn *t, const char *id, const char *rec, size_t n, cw_err *err)
{
    cw_code rc = check_id(id, err);
    return rc ? rc : store_put(t, STORE_CASES, id, CASEDB_ID_LEN, rec, n, err);
}

cw_code casedb_each(store_txn *t, const char *after, casedb_fn fn, void *ctx, cw_err *err)
{
    store_cursor *c;
    cw_code rc = store_cursor_open(t, STORE_CASES, &c, err);
    if (rc)
        return rc;
    bool from = after && after[0];
    cw_span k, v;
    bool more = store_cursor_seek(c, from ? after : NULL, from ? strlen(after) : 0, &k, &v);
    /* seek lands on the first key >= after: skip `after` itself */
    if (more && from && k.n == strlen(after) && memcmp(k.p, after, k.n) == 0)
        more = store_cursor_next(c, &k, &v);
    for (; more; more = store_cursor_next(c, &k, &v)) {
        if (!hex_id(k.p, k.n))
            continue; /* `watchlist check` reports it */
        char id[CASEDB_ID_LEN + 1];
        memcpy(id, k.p, CASEDB_ID_LEN);
        id[CASEDB_ID_LEN] = '\0';
        if (!fn(ctx, id, v))
            break;
    }
    rc = store_cursor_error(c, err);
    store_cursor_close(c);
    return rc;
}

cw_code casedb_audit_append(store_txn *t, const char *id, uint64_t seq, const char *line, size_t n, cw_err *err)
{
    cw_code rc = check_id(id, err);
    if (rc)
        return rc;
    if (seq == 0)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "audit entries are numbered from 1");
    uint8_t k[CASEDB_ID_LEN + 8];
    memcpy(k, id, CASEDB_ID_LEN);
    cw_put_be(k + CASEDB_ID_LEN, seq, 8);
    cw_span old;
    rc = store_get(t, STORE_CASE_AUDIT, k, sizeof k, &old, err);
    if (rc == CW_OK)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "case %s already has audit entry %llu: audit entries are never rewritten", id,
                          (unsigned long long)seq);
    if (rc != CW_ENOTFOUND)
        return rc;
    return store_put(t, STORE_CASE_AUDIT, k, sizeof k, line, n, err);
}

cw_code casedb_audit_each(store_txn *t, const char *id, casedb_audit_fn fn, void *ctx, cw_err *err)
{
    cw_code rc = check_id(id, err);
    if (rc)
        return rc;
    store_cursor *c;
    if ((rc = store_cursor_open(t, STORE_CASE_AUDIT, &c, err)))
        return rc;
    cw_span k, v;
    for (bool more = store_cursor_seek(c, id, CASEDB_ID_LEN, &k, &v); more; more = store_cursor_next(c, &k, &v)) {
        if (k.n < CASEDB_ID_LEN || memcmp(k.p, id, CASEDB_ID_LEN) != 0)
            break; /* past this case's entries */
        if (k.n != CASEDB_ID_LEN + 8)
            continue;
        if (!fn(ctx, cw_get_be(k.p + CASEDB_ID_LEN, 8), v))
            break;
    }
    rc = store_cursor_error(c, err);
    store_cursor_close(c);
    return rc;
}

const char *casedb_check_record(store_db db, cw_span k, cw_span v)
{
    if (db != STORE_CASES && db != STORE_CASE_AUDIT)
        return NULL;
    if (db == STORE_CASES && !hex_id(k.p, k.n))
        return "a key that is not an alert id (32 hex chars)";
    if (db == STORE_CASE_AUDIT && (k.n != CASEDB_ID_LEN + 8 || !hex_id(k.p, CASEDB_ID_LEN)))
        return "a key that is not an alert id and an entry number (40 bytes)";
    json_t *j = json_loadb((const char *)v.p, v.n, 0, NULL);
    bool ok = json_is_object(j);
    json_decref(j);
    return ok ? NULL : "a record that is not a JSON object";
}
