/*
 * cw_bench decode FILE...: decode throughput on real blocks, next to its
 * bound on this machine.
 *
 * The bound is what no decoder can beat: the txid and wtxid hashes alone,
 * double SHA-256 over each tx's bytes twice, nothing else. The decode is
 * what the monitor needs per tx: parse, txid and wtxid, every output's type
 * and address text. Both run over the same txs for the same rounds; the
 * best of several runs is reported, to keep noise out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chains/addr.h"
#include "chains/bitcoin/blkfile.h"
#include "chains/bitcoin/block.h"
#include "chains/bitcoin/tx.h"
#include "chains/hash.h"
#include "chains/buf.h"

typedef struct {
    cw_span *txs;
    size_t n, cap, bytes;
} tx_set;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int add_block(tx_set *set, const uint8_t *p, size_t n, cw_arena *arena)
{
    btc_block b;
    cw_err err;
    if (btc_block_open(p, n, CW_NET_MAIN, &b, &err)) {
        fprintf(stderr, "cw_bench: %s\n", err.msg);
        return -1;
    }
    while (b.next < b.tx_count) {
        cw_tx tx;
        cw_arena_reset(arena);
        if (btc_block_next(&b, arena, &tx, &err)) {
            fprintf(stderr, "cw_bench: %s\n", err.msg);
            return -1;
        }
        if (set->n == set->cap) {
            set->cap = set->cap ? set->cap * 2 : 4096;
            set->txs = realloc(set->txs, set->cap * sizeof *set->txs);
        }
        set->txs[set->n++] = tx.raw;
        set->bytes += tx.raw.n;
    }
    return 0;
}

static volatile uint8_t sink;

static double run_bound(const tx_set *s, int rounds)
{
    double t0 = now();
    uint8_t h[32];
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < s->n; i++) {
            cw_sha256d(s->txs[i].p, s->txs[i].n, h); /* txid */
            sink ^= h[0];
            cw_sha256d(s->txs[i].p, s->txs[i].n, h); /* wtxid */
            sink ^= h[0];
        }
    return now() - t0;
}

static double run_decode(const tx_set *s, int rounds, cw_arena *arena, size_t *addrs)
{
    double t0 = now();
    char text[CW_ADDR_TEXT_MAX];
    *addrs = 0;
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < s->n; i++) {
            cw_tx tx;
            cw_arena_reset(arena);
            if (btc_tx_parse(s->txs[i].p, s->txs[i].n, NULL, CW_NET_MAIN, arena, &tx, NULL) != CW_OK)
                abort();
            for (size_t k = 0; k < tx.n_out; k++) {
                sink ^= (uint8_t)tx.out[k].type;
                if (tx.out[k].addr.kind != CW_ADDR_NONE) {
                    sink ^= (uint8_t)cw_addr_format(&tx.out[k].addr, text, sizeof text);
                    (*addrs)++;
                }
            }
            sink ^= tx.txid[0] ^ tx.wtxid[0];
        }
    return now() - t0;
}

int bench_lookup(int argc, char **argv);
int bench_feed(int argc, char **argv);
int bench_coins(int argc, char **argv);
int bench_keylink(int argc, char **argv);
int bench_tron(int argc, char **argv);
int bench_eth(int argc, char **argv);
int bench_rules_account(int argc, char **argv);

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "lookup") == 0)
        return bench_lookup(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "feed") == 0)
        return bench_feed(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "coins") == 0)
        return bench_coins(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "keylink") == 0)
        return bench_keylink(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "tron") == 0)
        return bench_tron(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "eth") == 0)
        return bench_eth(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "rules-account") == 0)
        return bench_rules_account(argc, argv);
    if (argc < 3 || strcmp(argv[1], "decode") != 0) {
        fprintf(stderr, "usage: cw_bench decode BLOCKFILE... (raw blocks or blk records)\n"
                        "       cw_bench lookup DATADIR\n"
                        "       cw_bench feed BLOCKFILE\n"
                        "       cw_bench coins [N [REPS]]\n"
                        "       cw_bench keylink BLOCKFILE... (raw blocks)\n"
                        "       cw_bench tron [BLOCKS [TXS]]\n"
                        "       cw_bench eth [HEXFILE]\n");
        return 2;
    }
    tx_set set = {0};
    size_t cap = btc_arena_bound(4u << 20);
    cw_arena arena;
    cw_arena_init(&arena, malloc(cap), cap);
    for (int i = 2; i < argc; i++) {
        cw_buf b = CW_BUF_INIT;
        cw_err err;
        if (cw_read_file(argv[i], 1u << 30, &b, &err)) {
            fprintf(stderr, "cw_bench: %s\n", err.msg);
            return 1;
        }
        if (btc_blk_is_framed(b.p, b.n)) {
            size_t pos = 0;
            for (;;) {
                cw_net net;
                cw_span blk;
                bool done;
                if (btc_blk_next(b.p, b.n, &pos, &net, &blk, &done, &err)) {
                    fprintf(stderr, "cw_bench: %s: %s\n", argv[i], err.msg);
                    return 1;
                }
                if (done)
                    break;
                if (add_block(&set, blk.p, blk.n, &arena))
                    return 1;
            }
        } else if (add_block(&set, b.p, b.n, &arena)) {
            return 1;
        }
        /* buffers stay alive: the spans point into them */
    }
    int rounds = (int)(200e6 / (double)set.bytes) + 1; /* ~200 MB hashed per run */
    double best_bound = 1e9, best_decode = 1e9;
    size_t addrs = 0;
    for (int run = 0; run < 5; run++) {
        double tb = run_bound(&set, rounds), td = run_decode(&set, rounds, &arena, &addrs);
        if (tb < best_bound) best_bound = tb;
        if (td < best_decode) best_decode = td;
    }
    double txs = (double)set.n * rounds, mb = (double)set.bytes * rounds / 1e6;
    printf("decode bench: %zu txs, %.1f MB of tx bytes, %d rounds, best of 5 runs\n", set.n, set.bytes / 1e6, rounds);
    printf("  bound  (txid+wtxid hashes only) %10.0f tx/s %8.1f MB/s\n", txs / best_bound, mb / best_bound);
    printf("  decode (parse, ids, addresses)  %10.0f tx/s %8.1f MB/s   %zu address texts per round\n",
           txs / best_decode, mb / best_decode, addrs / (size_t)rounds);
    printf("  decode time / bound time        %10.2fx   (target <= 1.50x)\n", best_decode / best_bound);
    free(arena.base);
    free(set.txs);
    return best_decode / best_bound <= 1.5 ? 0 : 3;
}
