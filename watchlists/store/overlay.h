/*
 * overlay.h: a write transaction's pending writes to some databases, held
 * in memory until the commit (store.c's write-back for clusters and taint).
 *
 * Design note. Clustering rewrites the same few records over and over (a
 * big cluster's root record changes with every merge into it) and writes
 * every joining address once. Sent to LMDB one by one, each write pays a
 * B-tree descent and a dirty-page lookup that grows with the transaction;
 * collected here, each key reaches LMDB once per transaction, in key order.
 * Reads of an overlaid database look here first. Entries are a value or a
 * tombstone (deleted in this transaction).
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

overlay *overlay_new(void);
void overlay_free(overlay *o);
/* The entry for (db, key), or NULL. Valid until the next overlay_set. */
const overlay_entry *overlay_find(const overlay *o, uint8_t db, const void *key, size_t klen);
/* Sets (db, key) to val, or to a tombstone when val is NULL. False when out of memory. */
bool overlay_set(overlay *o, uint8_t db, const void *key, size_t klen, const void *val, size_t vlen);
size_t overlay_count(const overlay *o);
size_t overlay_bytes(const overlay *o);
/* Calls fn for every entry, in no order. */
void overlay_each(const overlay *o, void (*fn)(void *ctx, const overlay_entry *e), void *ctx);
/* Every entry in (db, key) order, for the flush; NULL when out of memory
 * (free the array, not the entries). */
const overlay_entry **overlay_sorted(const overlay *o);

#endif
