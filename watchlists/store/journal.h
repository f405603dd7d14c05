/*
 * journal.h: writes that a block disconnect can take back exactly.
 *
 * Design note. Clusters and exposure change in ways no undo record of
 * "outputs spent and created" can describe: a union moves a root, path
 * compression rewrites parents, a spent output's taint disappears, an
 * address's exposure grows. Rather than one inverse operation per kind of
 * change, every such write goes through a journal that first reads the
 * key's old value (or its absence) and logs it. Connecting a block stores
 * its log under the block's hash (the `journal` database); disconnecting
 * replays the log backwards, restoring each key to what it was, so the
 * store ends byte-for-byte as if the block had never been seen. The cost is
 * one read per write, which the cluster and exposure code does anyway.
 *
 * Log entry: db(1) klen(2, LE) key had(1) vlen(4, LE) old value len(4, LE)
 * where the trailing length is the entry's total size, so the log can be
 * walked from its end.
 */
#ifndef CW_JOURNAL_H
#define CW_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/buf.h"
#include "store.h"

typedef struct {
    store_txn *t;
    cw_buf log;
} journal;

/* Starts an empty journal over write transaction t. */
void journal_init(journal *j, store_txn *t);
void journal_free(journal *j);

/* Puts key -> val in db, logging the old value first. */
cw_code journal_put(journal *j, store_db db, const void *key, size_t klen, const void *val, size_t vlen, cw_err *err);
/* The same when the caller has just read the old value in this
 * transaction: old is it, or NULL for an absent key (saves the read). The
 * span must still be valid (no write since it was read). */
cw_code journal_put_known(journal *j, store_db db, const void *key, size_t klen, const cw_span *old, const void *val,
                     size_t vlen, cw_err *err);
/* Deletes key from db (absent is fine: nothing logged), logging the old value. */
cw_code journal_del(journal *j, store_db db, const void *key, size_t klen, cw_err *err);

/* Logs are kept for the newest blocks only: a reorg deeper than this
 * (a day of blocks; Bitcoin's deepest in years was a few) needs a rebuild. */
#define JN_KEEP_BLOCKS 288

/* Stores the log under the block hash (an empty one too). */
cw_code journal_save(journal *j, const uint8_t block_hash[32], cw_err *err);
/* Drops the log of an old block (absent is fine). */
cw_code journal_prune(store_txn *t, const uint8_t block_hash[32], cw_err *err);
/* Takes back everything the block's saved log recorded, newest first, and
 * deletes the log. A block whose log is missing (pruned, or written before
 * logs existed) is CW_ESTORE when `required` (clusters are on), else
 * nothing to do. A damaged log is CW_ESTORE. */
cw_code journal_revert_block(store_txn *t, const uint8_t block_hash[32], bool required, cw_err *err);

#endif
