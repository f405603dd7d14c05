/* cw_sort_ticking (chains/sort.h): the order qsort gives, and the tick
 * every CW_SORT_TICK_EVERY comparisons, counted against what any
 * comparison sort must make. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>

#include "chains/sort.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void count(void *ctx) { (*(unsigned *)ctx)++; }

/* A permutation of 0..n-1 from a fixed xorshift: distinct keys, so the
 * sorted array is exactly 0..n-1. */
static void shuffled(uint32_t *v, uint32_t n)
{
    uint64_t x = 88172645463325252ull;
    for (uint32_t i = 0; i < n; i++)
        v[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t j = (uint32_t)(x % (i + 1)), t = v[i];
        v[i] = v[j], v[j] = t;
    }
}

/* 10,000 distinct keys: sorted, and ticked at least log2(10000!) / 256 =
 * 462 times (no comparison sort decides the order with fewer comparisons)
 * and at most n log2 n / 256 = 519 (glibc's merge sort makes fewer). */
Test(sort, ticks_every_256_comparisons_and_sorts_as_qsort)
{
    enum { N = 10000 };
    static uint32_t v[N];
    shuffled(v, N);
    unsigned ticks = 0;
    cw_sort_ticking(v, N, sizeof *v, cmp_u32, count, &ticks);
    for (uint32_t i = 0; i < N; i++)
        cr_assert_eq(v[i], i, "position %u holds %u", i, v[i]);
    double lg_fact = lgamma(N + 1.0) / log(2.0);
    cr_assert_geq(ticks, (unsigned)(lg_fact / CW_SORT_TICK_EVERY), "%u ticks", ticks);
    cr_assert_leq(ticks, (unsigned)(N * log2(N) / CW_SORT_TICK_EVERY), "%u ticks", ticks);
}

/* No tick: qsort itself. Nothing or one item: no comparison, no tick. */
Test(sort, without_a_tick_or_items_it_is_a_plain_sort)
{
    enum { N = 1000 };
    static uint32_t v[N];
    shuffled(v, N);
    cw_sort_ticking(v, N, sizeof *v, cmp_u32, NULL, NULL);
    for (uint32_t i = 0; i < N; i++)
        cr_assert_eq(v[i], i);
    unsigned ticks = 0;
    cw_sort_ticking(v, 0, sizeof *v, cmp_u32, count, &ticks);
    cw_sort_ticking(v, 1, sizeof *v, cmp_u32, count, &ticks);
    cr_assert_eq(ticks, 0);
}
