/*
 * sort.h: a sort that calls back as it goes.
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

/* Sorts n items of size bytes at base with cmp, as qsort does, calling
 * tick(ctx) after every CW_SORT_TICK_EVERY comparisons. tick NULL: a plain
 * qsort. tick must not touch the array. */
void cw_sort_ticking(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *),
                     void (*tick)(void *ctx), void *ctx);

#endif
