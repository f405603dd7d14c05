/*
 * seqq.h: a sequence queue, a database whose keys are record numbers, so
 * that a cursor walks it oldest first. The alert outbox (alertdb.h) and
 * the webhook outbox (hookdb.h) are two; each owns its values and how its
 * numbers are handed out, this module owns the keys and the walks.
 *
 * Key encoding: the number as 8 bytes big-endian (SEQQ_KEY_LEN), so key
 * order is number order. Numbers start at 1: 0 is "before the first" for
 * seqq_each and seqq_last. A key of another length in the database is
 * damage that the walks pass over silently (`watchlist check` reports it
 * through the owning module's check).
 *
 * Every function works inside the caller's transaction t, on a database
 * read through cursors (not a write-back one: store_write_back). Errors:
 * the store's (store.h: CW_ESTORE, CW_EDAMAGED, CW_EFULL on puts, CW_EARG
 * for a write in a read transaction), CW_ENOTFOUND from seqq_get for a
 * number not stored, CW_ENOMEM from seqq_remove_through. After any error
 * of a write the caller aborts t.
 */
#ifndef CW_SEQQ_H
#define CW_SEQQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define SEQQ_KEY_LEN 8

/* The key of number seq: 8 bytes big-endian. Also the value encoding of a
 * stored number (hookdb's counter). */
void seqq_key(uint64_t seq, uint8_t k[SEQQ_KEY_LEN]);
/* The number of an 8-byte key (the caller checked the length). */
uint64_t seqq_key_seq(const uint8_t k[SEQQ_KEY_LEN]);

/* Stores v (n bytes, copied) under number seq, replacing what it held. */
cw_code seqq_put(store_txn *t, store_db db, uint64_t seq, const void *v, size_t n, cw_err *err);
/* The value of number seq (a span valid as store_get's); CW_ENOTFOUND
 * when it is not (or no longer) stored. */
cw_code seqq_get(store_txn *t, store_db db, uint64_t seq, cw_span *v, cw_err *err);

/* Called for each record in number order; false stops the walk. v is valid
 * during the call only. */
typedef bool (*seqq_fn)(void *ctx, uint64_t seq, cw_span v);
/* Walks the records numbered > after (0: all of them). CW_OK at the end or
 * when fn stopped it; a read error that cut the walk is returned. */
cw_code seqq_each(store_txn *t, store_db db, uint64_t after, seqq_fn fn, void *ctx, cw_err *err);
/* The highest number stored, 0 when none is. A read error that cuts the
 * walk is returned (never a lower number: numbering on from it would
 * overwrite stored records). */
cw_code seqq_last(store_txn *t, store_db db, uint64_t *seq, cw_err *err);
/* Removes every record numbered <= last. Collects the keys first, then
 * deletes (a cursor does not survive deletes under it): CW_ENOMEM while
 * collecting. */
cw_code seqq_remove_through(store_txn *t, store_db db, uint64_t last, cw_err *err);

#endif
