/*
 * journal.h: writes that a block disconnect can take back exactly.
 *
 * Design note: per-block old values.
 *
 * Why. Clusters and exposure change in ways no undo record of "outputs
 * spent and created" can describe: a union moves a root, path compression
 * rewrites parents, a spent output's taint disappears, an address's
 * exposure grows. Rather than one inverse operation per kind of change,
 * every such write goes through a journal that first reads the key's old
 * value (or its absence) and logs it. The cost is one read per write, which
 * the cluster and exposure code does anyway (journal_put_known skips it).
 *
 * Connect. The pipeline starts a journal per block, hands it to flows
 * (watchlists/cluster.h and exposure.h write through it), and journal_save stores the
 * log under the block's hash in the `journal` database, in the same write
 * transaction as the block: the block and its log commit together. An
 * empty log is saved too, so a missing log always means a pruned one.
 *
 * Disconnect: revert order. journal_revert_block walks the log from its
 * end to its start (newest write first), putting each key's old value back
 * or deleting a key that was absent. A key written several times in the
 * block is restored several times, the oldest value last: it ends as it
 * was before the block, byte for byte, whatever order the writes came in.
 * Blocks are reverted newest first (the pipeline disconnects the tip), so
 * each revert starts from the state its block left.
 *
 * Pruning at 288. After connecting height h the pipeline drops the log of
 * the block at h - JOURNAL_KEEP_BLOCKS (the same transaction): the newest 288
 * blocks (two days of Bitcoin blocks; the deepest reorg in years was a few
 * blocks) keep theirs. A disconnect below that finds no log: with clusters
 * on that is an error (a rebuild from a known height), never a silent
 * half-revert.
 *
 * Log entry: db(1) klen(2, LE) key had(1) vlen(4, LE) old value len(4, LE)
 * where the trailing length is the entry's total size, so the log can be
 * walked from its end.
 *
 * Transactions: every call works inside one write transaction (journal's
 * t, or the one passed), which the caller commits or aborts. After any
 * error the transaction holds a partial write or revert: abort it.
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

/* Starts an empty journal over write transaction t (borrowed: t must
 * outlive the journal's use). Never fails; allocates on the first write. */
void journal_init(journal *j, store_txn *t);
/* Frees the in-memory log (saved or not). */
void journal_free(journal *j);

/* Puts key -> val in db, logging the old value first. Errors: store_get's
 * (not CW_ENOTFOUND, which is logged as "absent") and store_put's; CW_EARG
 * for a key over 65535 bytes; CW_ENOMEM when the log cannot grow. */
cw_code journal_put(journal *j, store_db db, const void *key, size_t klen, const void *val, size_t vlen, cw_err *err);
/* The same when the caller has just read the old value in this
 * transaction: old is it, or NULL for an absent key (saves the read). The
 * span must still be valid (no write since it was read). */
cw_code journal_put_known(journal *j, store_db db, const void *key, size_t klen, const cw_span *old, const void *val,
                     size_t vlen, cw_err *err);
/* Deletes key from db (absent is fine: nothing logged), logging the old
 * value. Errors as journal_put. */
cw_code journal_del(journal *j, store_db db, const void *key, size_t klen, cw_err *err);

/* Logs are kept for the newest blocks only: a reorg deeper than this
 * (two days of blocks; Bitcoin's deepest in years was a few) needs a
 * rebuild. The pipeline prunes; nothing here counts blocks. */
#define JOURNAL_KEEP_BLOCKS 288

/* Stores the log under the block hash (an empty one too), in j's
 * transaction; the log stays j's to free. store_put's errors. */
cw_code journal_save(journal *j, const uint8_t block_hash[32], cw_err *err);
/* Drops the log of an old block (absent is fine). store_del's errors. */
cw_code journal_prune(store_txn *t, const uint8_t block_hash[32], cw_err *err);
/* Takes back everything the block's saved log recorded, newest first, and
 * deletes the log. A block whose log is missing (pruned, or written before
 * logs existed) is CW_ESTORE when `required` (clusters are on), else
 * nothing to do. A log whose entries do not parse (lengths that do not
 * add up, an unknown database) is CW_EDAMAGED. Store errors pass up. On
 * any error part of the log may be applied: abort t. */
cw_code journal_revert_block(store_txn *t, const uint8_t block_hash[32], bool required, cw_err *err);

#endif
