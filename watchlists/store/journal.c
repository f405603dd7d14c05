#include "journal.h"

#include <string.h>

#include "chains/buf.h"
#include "chains/le.h"

void journal_init(journal *j, store_txn *t)
{
    j->t = t;
    j->log = (cw_buf)CW_BUF_INIT;
}

void journal_free(journal *j) { cw_buf_free(&j->log); }

/* Logs a key's old value (had: present, as old). */
static cw_code log_entry(journal *j, store_db db, const void *key, size_t klen, bool had, cw_span old, cw_err *err)
{
    if (klen > 0xffff)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "journal: a %zu-byte key", klen);
    uint8_t head[3], mid[5], tail[4];
    head[0] = (uint8_t)db;
    cw_put_le(head + 1, klen, 2);
    mid[0] = had;
    cw_put_le(mid + 1, had ? old.n : 0, 4);
    size_t total = sizeof head + klen + sizeof mid + (had ? old.n : 0) + sizeof tail;
    cw_put_le(tail, total, 4);
    if (cw_buf_append(&j->log, head, sizeof head, err) || cw_buf_append(&j->log, key, klen, err) ||
        cw_buf_append(&j->log, mid, sizeof mid, err) || (had && cw_buf_append(&j->log, old.p, old.n, err)) ||
        cw_buf_append(&j->log, tail, sizeof tail, err))
        return CW_ENOMEM;
    return CW_OK;
}

cw_code journal_put(journal *j, store_db db, const void *key, size_t klen, const void *val, size_t vlen, cw_err *err)
{
    cw_span old = {NULL, 0};
    cw_code rc = store_get(j->t, db, key, klen, &old, err);
    if (rc && rc != CW_ENOTFOUND)
        return rc;
    return journal_put_known(j, db, key, klen, rc == CW_OK ? &old : NULL, val, vlen, err);
}

cw_code journal_put_known(journal *j, store_db db, const void *key, size_t klen, const cw_span *old, const void *val,
                     size_t vlen, cw_err *err)
{
    cw_code rc = log_entry(j, db, key, klen, old != NULL, old ? *old : (cw_span){NULL, 0}, err);
    return rc ? rc : store_put(j->t, db, key, klen, val, vlen, err);
}

cw_code journal_del(journal *j, store_db db, const void *key, size_t klen, cw_err *err)
{
    cw_span v;
    cw_code rc = store_get(j->t, db, key, klen, &v, err);
    if (rc == CW_ENOTFOUND)
        return CW_OK;
    if (rc || (rc = log_entry(j, db, key, klen, true, v, err)))
        return rc;
    return store_del(j->t, db, key, klen, NULL, 0, err);
}

cw_code journal_save(journal *j, const uint8_t block_hash[32], cw_err *err)
{
    /* saved even when empty: a missing log then means a pruned one */
    return store_put(j->t, STORE_JOURNAL, block_hash, 32, j->log.n ? j->log.p : (const uint8_t *)"", j->log.n, err);
}

cw_code journal_prune(store_txn *t, const uint8_t block_hash[32], cw_err *err)
{
    cw_code rc = store_del(t, STORE_JOURNAL, block_hash, 32, NULL, 0, err);
    return rc == CW_ENOTFOUND ? CW_OK : rc;
}


cw_code journal_revert_block(store_txn *t, const uint8_t block_hash[32], bool required, cw_err *err)
{
    cw_span v;
    cw_code rc = store_get(t, STORE_JOURNAL, block_hash, 32, &v, err);
    if (rc == CW_ENOTFOUND && !required)
        return CW_OK;
    if (rc == CW_ENOTFOUND)
        return cw_err_set(err, CW_ESTORE, CW_NO_OFFSET,
                          "store: the cluster history of this block was pruned (the last %d blocks keep theirs): "
                          "a reorg this deep needs a rebuild, replaying from a known height into a new datadir",
                          JOURNAL_KEEP_BLOCKS);
    if (rc)
        return rc;
    cw_buf copy = CW_BUF_INIT; /* the span dies with the first put */
    if ((rc = cw_buf_append(&copy, v.p, v.n, err)))
        return rc;
    size_t end = copy.n;
    while (rc == CW_OK && end > 0) {
        if (end < 4) {
            rc = store_damaged(t, err, "a journal record does not decode");
            break;
        }
        size_t total = (size_t)cw_get_le(copy.p + end - 4, 4);
        if (total < 3 + 5 + 4 || total > end) {
            rc = store_damaged(t, err, "a journal record does not decode");
            break;
        }
        const uint8_t *e = copy.p + end - total;
        store_db db = (store_db)e[0];
        size_t klen = (size_t)cw_get_le(e + 1, 2);
        if (db >= STORE_DB_COUNT || 3 + klen + 5 + 4 > total) {
            rc = store_damaged(t, err, "a journal record does not decode");
            break;
        }
        const uint8_t *key = e + 3, *mid = e + 3 + klen;
        bool had = mid[0] != 0;
        size_t vlen = (size_t)cw_get_le(mid + 1, 4);
        if (3 + klen + 5 + vlen + 4 != total) {
            rc = store_damaged(t, err, "a journal record does not decode");
            break;
        }
        if (had)
            rc = store_put(t, db, key, klen, mid + 5, vlen, err);
        else if ((rc = store_del(t, db, key, klen, NULL, 0, err)) == CW_ENOTFOUND)
            rc = CW_OK;
        end -= total;
    }
    cw_buf_free(&copy);
    if (rc == CW_OK)
        rc = store_del(t, STORE_JOURNAL, block_hash, 32, NULL, 0, err);
    return rc;
}
