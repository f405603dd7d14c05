/* cw_sort_ticking (chains/sort.h): the order qsort gives, and the tick
 * every CW_SORT_TICK_EVERY comparisons, counted against what any
 * comparison sort must make. cw_bytes_cmp: LMDB's own order, asked of
 * LMDB. */
#include <criterion/criterion.h>
#include <lmdb.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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

/* Every pair of byte strings up to 3 long over bytes that catch a signed
 * compare (0x7f, 0x80) and the ends (0x00, 0xff), the empty one and
 * prefixes included: cw_bytes_cmp's sign is mdb_cmp's on a default
 * database, the order the store's keys are kept in. */
Test(sort, bytes_cmp_is_lmdbs_key_order)
{
    static const uint8_t alpha[] = {0x00, 0x7f, 0x80, 0xff};
    uint8_t keys[85][3];
    size_t len[85], n = 0;
    for (size_t l = 0; l <= 3; l++)
        for (size_t v = 0; v < (size_t)1 << (2 * l); v++, n++) {
            len[n] = l;
            for (size_t i = 0; i < l; i++)
                keys[n][i] = alpha[(v >> (2 * i)) & 3];
        }
    cr_assert_eq(n, 85);
    char dir[] = "/tmp/cw-sort-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    cr_assert_eq(mdb_env_create(&env), 0);
    cr_assert_eq(mdb_env_open(env, dir, 0, 0600), 0);
    cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    size_t less = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            MDB_val a = {len[i], keys[i]}, b = {len[j], keys[j]};
            int want = mdb_cmp(txn, dbi, &a, &b), got = cw_bytes_cmp(keys[i], len[i], keys[j], len[j]);
            cr_assert_eq((want > 0) - (want < 0), (got > 0) - (got < 0), "keys %zu and %zu: lmdb %d, ours %d", i, j,
                         want, got);
            less += got < 0;
        }
    cr_assert_eq(less, 85 * 84 / 2, "distinct keys: half the ordered pairs are less");
    cr_assert_eq(cw_bytes_cmp(NULL, 0, NULL, 0), 0);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    char path[64];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);
}
