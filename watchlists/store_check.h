/*
 * store_check.h: `chainwatch watchlist check`, a walk over every record of
 * a datadir's store that says whether each can be read and decoded.
 *
 * Design note. Each module that owns a table's encoding judges its records
 * (wl_check_record, chaindb_check_record, alertdb_check_record,
 * cluster_check_record, exposure_check_record);
 * this file only walks: every database with a cursor (so every page a
 * lookup could reach is read once), plus the checks across records that
 * need the order of the walk (chain heights contiguous, the tip on the
 * chain). A read error cuts the walk of that database; it is reported
 * and the walk goes on with the next database, so one damaged page does
 * not hide damage elsewhere.
 */
#ifndef CW_STORE_CHECK_H
#define CW_STORE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "chains/err.h"
#include "watchlists/store/store.h"

/* One damage found: the database, the key of the record concerned (for a
 * walk cut by a read error, the last key read before it, its first 512
 * bytes; NULL and 0 when there is none; the cursor's "tip" for the
 * chain/tip checks), and what is wrong. key and what are valid during the
 * call only. */
typedef void (*store_check_fn)(void *ctx, store_db db, const uint8_t *key, size_t klen, const char *what);

typedef struct {
    size_t records[STORE_DB_COUNT]; /* records read (each value of wl_addr counts) */
    size_t damaged[STORE_DB_COUNT]; /* damages reported */
} store_check_counts;

/* Walks every database of s in one read transaction, calling report for
 * each damage. Returns CW_OK when the walk was made (damage or not: see
 * counts), or the error that kept it from starting (no transaction).
 * report and counts must not be NULL; counts is zeroed first. */
cw_code store_check(cw_store *s, store_check_fn report, void *ctx, store_check_counts *counts, cw_err *err);

#endif
