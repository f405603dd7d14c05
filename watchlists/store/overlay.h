/*
 * overlay.h: a write transaction's pending writes to some databases, held
 * in memory until the commit (store.c's write-back for clusters and taint).
 *
 * Design note: write-back.
 *
 * Why. Clustering rewrites the same few records over and over (a big
 * cluster's root record changes with every merge into it) and writes every
 * joining address once; taint and exposure records are written and read
 * back within a few blocks. Sent to LMDB one by one, each write pays a
 * B-tree descent and a dirty-page lookup that grows with the transaction;
 * collected here, each key reaches LMDB once per transaction, in key order
 * (sequential page touches, one descent's pages reused by the next key).
 *
 * How (store.c). store_write_back(t, db) marks db: from then on t's puts
 * and deletes of db only set entries here, store_get looks here before
 * LMDB, and store_commit writes every entry in (db, key) order (a
 * tombstone as mdb_del, a NOTFOUND ignored: the key never reached LMDB)
 * and then commits. A failure of that flush (CW_EFULL included) aborts
 * the whole LMDB transaction, so the pending writes and the transaction's
 * direct writes are stored together or not at all. store_abort frees the
 * overlay unwritten: an abort loses nothing that was stored.
 *
 * Invariants.
 *   - One entry per (db, key); an entry is a value or a tombstone (dead,
 *     vlen 0), never removed before overlay_free: a key deleted in this
 *     transaction stays a tombstone so reads say "absent" rather than
 *     falling through to LMDB's older value.
 *   - The overlay is newer than LMDB for its keys: a read of a marked
 *     database that finds an entry never asks LMDB.
 *   - Keys, nodes and values live in chunks that never move: an entry
 *     pointer stays valid until overlay_free. A value is overwritten in
 *     place when the new one fits its room, else moved to new room (the
 *     old bytes stay, unreferenced): a value span read through store_get
 *     holds until the key's next put or delete.
 *   - overlay_bytes is nodes, keys and live values: what committing would
 *     write, which callers use to decide when to commit a batch.
 *   - Only key-addressed databases: cursors (store_cursor_*) read LMDB and
 *     do not see pending entries; DUPSORT databases are refused.
 *
 * Ownership: the overlay copies every key and value it is given. Not
 * thread-safe (one per write transaction). The hash seed is random per
 * overlay (libsodium), so keys chosen by others cannot make chains long.
 */
#ifndef CW_OVERLAY_H
#define CW_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t db;
    bool dead;        /* a tombstone: deleted in this transaction */
    uint16_t klen;
    uint32_t vlen;
    uint32_t cap;     /* room at val */
    uint8_t *val;
    uint8_t *key;
} overlay_entry;

typedef struct overlay overlay;

/* An empty overlay, or NULL when out of memory (or libsodium fails). */
overlay *overlay_new(void);
/* Frees every entry, key and value. NULL is a no-op. */
void overlay_free(overlay *o);
/* The entry for (db, key), or NULL: a tombstone is returned (e->dead), not
 * NULL. Its value may change at the next overlay_set of the same key. */
const overlay_entry *overlay_find(const overlay *o, uint8_t db, const void *key, size_t klen);
/* Sets (db, key) to a copy of val, or to a tombstone when val is NULL.
 * False when out of memory or klen > 65535: the entry may then be left
 * half set (a new key with an empty value), so the transaction must be
 * aborted, never committed (store.c returns CW_ENOMEM/CW_EARG for it). */
bool overlay_set(overlay *o, uint8_t db, const void *key, size_t klen, const void *val, size_t vlen);
/* Entries, tombstones included. */
size_t overlay_count(const overlay *o);
/* Memory the entries hold (see the invariants). */
size_t overlay_bytes(const overlay *o);
/* Calls fn for every entry, tombstones included, in no order; fn must not
 * call overlay_set. */
void overlay_each(const overlay *o, void (*fn)(void *ctx, const overlay_entry *e), void *ctx);
/* Every entry in (db, key) order, keys compared as LMDB's default does
 * (bytewise, then shorter first), for the flush; NULL when out of memory.
 * The caller frees the array (not the entries) before the next
 * overlay_set. tick (may be NULL) is called with ctx every few hundred
 * entries gathered and comparisons made: a caller that gives way to other
 * tasks (store_txn_give_way) does it there. */
const overlay_entry **overlay_sorted(const overlay *o, void (*tick)(void *ctx), void *ctx);

#endif
