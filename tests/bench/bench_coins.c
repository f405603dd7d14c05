/* cw_bench coins [N [REPS]]: the prevout cache (monitor/engine/coins.h),
 * replay's hot path, on N random 36-byte outpoints: adds, hits, misses,
 * takes (spends), then a replay-like mix (each tx adds 1-2 coins and spends
 * one added earlier). REPS repeats the first four on one cache: with a
 * small N the table stays in the CPU caches and the table's own work shows.
 * CPU time per operation, in ns; run old and new interleaved, several
 * times: the machine is shared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chains/hash.h"
#include "monitor/engine/coins.h"

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void fill(uint8_t *p, size_t n, uint64_t *s)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = cw_mix64(*s += 0x9e3779b97f4a7c15ull);
        memcpy(p + i, &r, n - i < 8 ? n - i : 8);
    }
}

int bench_coins(int argc, char **argv)
{
    size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000, reps = argc > 3 ? strtoul(argv[3], NULL, 10) : 1;
    if (n < 10 || reps < 1) {
        fprintf(stderr, "usage: cw_bench coins [N >= 10 [REPS >= 1]]\n");
        return 2;
    }
    uint8_t *keys = malloc(n * 36), *miss = malloc(n * 36);
    size_t *perm = malloc(n * sizeof *perm);
    coins *c;
    cw_err err = {0};
    if (keys == NULL || miss == NULL || perm == NULL || coins_new(&c, &err)) {
        fprintf(stderr, "bench_coins: out of memory\n");
        return 1;
    }
    uint64_t s = 12345;
    fill(keys, n * 36, &s);
    fill(miss, n * 36, &s);
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = cw_mix64(s++) % (i + 1), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    uint8_t val[COINS_VALUE_MAX] = {1, 2, 3}, out[COINS_VALUE_MAX];
    size_t vlen, found = 0;
    double add = 0, hit = 0, mis = 0, take = 0;
    for (size_t rep = 0; rep < reps; rep++) {
        double t0 = cpu_now();
        for (size_t i = 0; i < n; i++) {
            val[0] = (uint8_t)i;
            if (coins_add(c, keys + i * 36, val, 30, &err)) {
                fprintf(stderr, "bench_coins: %s\n", err.msg);
                return 1;
            }
        }
        double t1 = cpu_now();
        for (size_t i = 0; i < n; i++)
            found += coins_get(c, keys + perm[i] * 36, out, &vlen, false);
        double t2 = cpu_now();
        for (size_t i = 0; i < n; i++)
            found += coins_get(c, miss + i * 36, out, &vlen, false);
        double t3 = cpu_now();
        for (size_t i = 0; i < n; i++)
            found += coins_get(c, keys + perm[i] * 36, out, &vlen, true);
        double t4 = cpu_now();
        add += t1 - t0, hit += t2 - t1, mis += t3 - t2, take += t4 - t3;
    }
    size_t w = 0, r = 0, ops = n * reps;
    double t5 = cpu_now();
    for (size_t i = 0; i < ops; i++) {
        coins_add(c, keys + (w++ % n) * 36, val, 30, &err);
        if (i % 2)
            coins_add(c, keys + (w++ % n) * 36, val, 30, &err);
        if (w > n / 5)
            found += coins_get(c, keys + (r++ % n) * 36, out, &vlen, true);
    }
    double mixed = cpu_now() - t5;
    printf("coins: %zu keys x %zu: add %.1f hit %.1f miss %.1f take %.1f mixed %.1f ns/op (found %zu, left %zu)\n", n,
           reps, add / (double)ops * 1e9, hit / (double)ops * 1e9, mis / (double)ops * 1e9, take / (double)ops * 1e9,
           mixed / (double)ops * 1e9, found, coins_count(c));
    coins_free(c);
    free(keys), free(miss), free(perm);
    return 0;
}
