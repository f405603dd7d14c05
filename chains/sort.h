/*
 * sort.h: the order of byte strings, and a sort that calls back as it goes.
 *
 * A --cpu-idle backfill sorts hundreds of thousands of items at a batch's
 * end (the prevout cache's coins, the store's write-back overlay) and must
 * give the CPU away every few tens of microseconds while it does
 * (monitor/engine/give_way.h). A comparison takes nanoseconds, so the
 * callback comes every CW_SORT_TICK_EVERY comparisons rather than each.
 *
 * Pure: no I/O, no globals, no allocation beyond the C library's qsort_r.
 */
#ifndef CW_SORT_H
#define CW_SORT_H

#include <stddef.h>

#define CW_SORT_TICK_EVERY 256u

/* The order of byte strings: byte by byte (as unsigned), and a string
 * before any longer one it begins. LMDB's default key order (the store's
 * write-back overlay and the rules' merge with stored keys must agree with
 * it) and canonical JSON's order of member names as UTF-8. Negative, 0 or
 * positive, as memcmp; a or b may be NULL when its length is 0. */
int cw_bytes_cmp(const void *a, size_t an, const void *b, size_t bn);

/* Sorts n items of size bytes at base with cmp, as qsort does, calling
 * tick(ctx) after every CW_SORT_TICK_EVERY comparisons. tick NULL: a plain
 * qsort. tick must not touch the array. */
void cw_sort_ticking(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *),
                     void (*tick)(void *ctx), void *ctx);

#endif
