/*
 * cw_bench lookup DATADIR: watchlist lookups per second from one read
 * transaction, on one core: binary keys (what the monitor does for every
 * output and input) and text (what an API caller or the CLI sends: parse,
 * key, get). Half of the queries hit listed addresses, half miss.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chains/addr.h"
#include "watchlists/store/store.h"
#include "watchlists/watchlist.h"

typedef struct {
    char (*text)[WL_TEXT_MAX + 1];
    size_t n, cap;
} texts;

static void add_listed(void *ctx, const wl_ref *r)
{
    texts *t = ctx;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 1024;
        t->text = realloc(t->text, t->cap * sizeof *t->text);
    }
    snprintf(t->text[t->n++], WL_TEXT_MAX + 1, "%s", r->listed);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A read error would make the figures meaningless: stop on one. */
static bool is_listed(store_txn *t, const uint8_t *key, size_t klen)
{
    bool yes;
    cw_err err;
    if (wl_is_listed(t, key, klen, &yes, &err)) {
        fprintf(stderr, "bench_lookup: %s\n", err.msg);
        abort();
    }
    return yes;
}

int bench_lookup(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: cw_bench lookup DATADIR\n");
        return 2;
    }
    cw_store *s;
    cw_err err = {0};
    if (store_open(argv[2], 0, true, &s, &err)) {
        fprintf(stderr, "cw_bench: %s\n", err.msg);
        return 1;
    }
    store_txn *t;
    store_begin(s, false, &t, &err);
    texts q = {0};
    wl_each_ref(t, add_listed, &q, &err);
    size_t listed = q.n;
    if (listed == 0) {
        fprintf(stderr, "cw_bench: %s holds no watchlist\n", argv[2]);
        return 1;
    }
    /* As many misses: valid addresses of the same shapes, not listed. */
    uint64_t seed = 42;
    for (size_t i = 0; i < listed; i++) {
        cw_addr a = {.chain = CW_CHAIN_BITCOIN, .net = CW_NET_MAIN, .len = 20};
        a.kind = i % 2 ? CW_ADDR_P2PKH : CW_ADDR_P2WPKH;
        if (i % 5 == 0) {
            a.chain = CW_CHAIN_EVM;
            a.kind = CW_ADDR_EVM;
        }
        for (int k = 0; k < 20; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            a.payload[k] = (uint8_t)(seed >> 56);
        }
        char text[CW_ADDR_TEXT_MAX];
        cw_addr_format(&a, text, sizeof text);
        add_listed(&q, &(wl_ref){.listed = text});
    }
    size_t n = q.n;
    uint8_t(*keys)[WL_KEY_MAX] = malloc(n * WL_KEY_MAX);
    size_t *klen = malloc(n * sizeof *klen);
    for (size_t i = 0; i < n; i++)
        klen[i] = wl_key_from_text(q.text[i], keys[i], NULL);

    size_t rounds = 4000000 / n + 1, hits = 0;
    double best_bin = 1e9, best_text = 1e9;
    for (int run = 0; run < 3; run++) {
        double t0 = now();
        hits = 0;
        for (size_t r = 0; r < rounds; r++)
            for (size_t i = 0; i < n; i++)
                hits += is_listed(t, keys[i], klen[i]);
        double t1 = now();
        size_t text_rounds = rounds / 4 + 1;
        for (size_t r = 0; r < text_rounds; r++)
            for (size_t i = 0; i < n; i++) {
                uint8_t k[WL_KEY_MAX];
                size_t kl = wl_key_from_text(q.text[i], k, NULL);
                hits += is_listed(t, k, kl);
            }
        double t2 = now();
        if (t1 - t0 < best_bin) best_bin = t1 - t0;
        if ((t2 - t1) / (double)text_rounds * (double)rounds < best_text)
            best_text = (t2 - t1) / (double)text_rounds * (double)rounds;
    }
    double total = (double)rounds * (double)n;
    printf("lookup bench: %zu listed addresses (+ %zu not listed), %zu rounds, best of 3, one core\n", listed,
           n - listed, rounds);
    printf("  hits         %12zu per pass over the queries (of %zu listed)\n", hits / (rounds + rounds / 4 + 1), listed);
    printf("  binary keys  %12.0f lookups/s   (target > 2,000,000)\n", total / best_bin);
    printf("  from text    %12.0f lookups/s   (target >   500,000)\n", total / best_text);
    store_abort(t);
    store_close(s);
    free(keys);
    free(klen);
    free(q.text);
    return 0;
}
