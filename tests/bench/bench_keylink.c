/*
 * cw_bench keylink BLOCKFILE...: what finding revealed keys costs per tx,
 * on real mainnet blocks (raw blocks: ../shared/data/btc/block-*.raw).
 *
 * Inputs are "resolved" to the address their own bytes suggest (hint.h),
 * as the prevout index would for a spend of a real output, so every P2PKH,
 * P2WPKH and P2SH-P2WPKH spend counts as a revealed key. Measured, best of
 * 5 rounds over all txs: (1) cw_reveal_input on every input (shape, HASH160
 * check, key parse: one field square root for a compressed key); (2) plus
 * every form (Keccak for EVM/Tron, the BIP-86 tweak: a point
 * multiplication); (3) every form but the tweak, what a watchlist without
 * taproot addresses costs (keylink_scope: OFAC's 2025-11-19 list has none);
 * (4) the HASH160 forms only. The engine does (1) and the forms in scope
 * for every key of every confirmed tx, then one Bloom-filtered lookup per
 * form.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chains/bitcoin/block.h"
#include "chains/bitcoin/hint.h"
#include "chains/bitcoin/tx.h"
#include "chains/buf.h"
#include "chains/keylink.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile uint8_t sink;

static int cmp33(const void *a, const void *b) { return memcmp(a, b, 33); }

int bench_keylink(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: cw_bench keylink BLOCKFILE... (raw blocks)\n");
        return 2;
    }
    /* every input of every tx, copied with its hint as the resolved address */
    cw_txin *ins = NULL;
    size_t n_in = 0, cap_in = 0, n_tx = 0;
    cw_buf *raws = calloc((size_t)argc, sizeof *raws);
    size_t acap = btc_arena_bound(4u << 20);
    cw_arena arena;
    cw_arena_init(&arena, malloc(acap), acap);
    for (int i = 2; i < argc; i++) {
        cw_err err;
        if (cw_read_file(argv[i], 1u << 30, &raws[i], &err)) {
            fprintf(stderr, "cw_bench: %s\n", err.msg);
            return 1;
        }
        btc_block b;
        if (btc_block_open(raws[i].p, raws[i].n, CW_NET_MAIN, &b, &err)) {
            fprintf(stderr, "cw_bench: %s: %s\n", argv[i], err.msg);
            return 1;
        }
        while (b.next < b.tx_count) {
            cw_tx tx;
            cw_arena_reset(&arena);
            if (btc_block_next(&b, &arena, &tx, &err)) {
                fprintf(stderr, "cw_bench: %s\n", err.msg);
                return 1;
            }
            n_tx++;
            for (size_t k = 0; !(tx.flags & CW_TX_COINBASE) && k < tx.n_in; k++) {
                if (n_in == cap_in) {
                    cap_in = cap_in ? cap_in * 2 : 8192;
                    ins = realloc(ins, cap_in * sizeof *ins);
                }
                cw_txin in = tx.in[k];
                in.resolved = btc_input_hint(&tx.in[k], CW_NET_MAIN, &in.addr);
                ins[n_in++] = in; /* spans point into raws[i], kept */
            }
        }
    }
    size_t keys = 0, refused = 0;
    uint8_t (*all)[33] = malloc((n_in ? n_in : 1) * 33);
    for (size_t k = 0; k < n_in; k++) {
        cw_pubkey key;
        cw_reveal r = cw_reveal_input(&ins[k], &key, NULL);
        if (r == CW_REVEAL_KEY)
            memcpy(all[keys++], key.compressed, 33);
        refused += r == CW_REVEAL_MISMATCH || r == CW_REVEAL_BAD_KEY;
    }
    /* keys seen before in these blocks: what keylink_seen spares (a clean key is remembered) */
    qsort(all, keys, 33, cmp33);
    size_t distinct = 0;
    for (size_t k = 0; k < keys; k++)
        distinct += k == 0 || memcmp(all[k], all[k - 1], 33) != 0;
    free(all);
    /* the forms checked: none (reveal only), all, all but the BIP-86 tweak
     * (a list without taproot addresses, as OFAC's of 2025-11-19), HASH160 ones */
    static const unsigned check[4] = {0, CW_FORMS_ALL, CW_FORMS_ALL & ~(1u << CW_FORM_P2TR), CW_FORMS_HASH160};
    double best[4] = {1e9, 1e9, 1e9, 1e9};
    for (int round = 0; round < 5; round++)
        for (int mode = 0; mode < 4; mode++) {
            double t0 = now();
            for (size_t k = 0; k < n_in; k++) {
                cw_pubkey key;
                if (cw_reveal_input(&ins[k], &key, NULL) != CW_REVEAL_KEY)
                    continue;
                if (mode > 0) {
                    cw_addr f[CW_FORM_COUNT];
                    cw_pubkey_forms(&key, CW_NET_MAIN, check[mode], f, NULL);
                    sink ^= f[CW_FORM_P2PKH].payload[0];
                }
                sink ^= key.compressed[1];
            }
            double dt = now() - t0;
            if (dt < best[mode])
                best[mode] = dt;
        }
    printf("keylink bench: %zu txs, %zu inputs, %zu revealed keys (%zu refused, %zu distinct), best of 5\n", n_tx,
           n_in, keys, refused, distinct);
    static const char *const what[4] = {"reveal (shape, HASH160, key parse)", "reveal + every form",
                                        "reveal + every form but BIP-86", "reveal + HASH160 forms only"};
    for (int mode = 0; mode < 4; mode++)
        printf("  %-36s %7.2f us/key  %9.0f tx/s\n", what[mode], best[mode] * 1e6 / (double)(keys ? keys : 1),
               (double)n_tx / best[mode]);
    for (int i = 2; i < argc; i++)
        cw_buf_free(&raws[i]);
    free(raws);
    free(ins);
    free(arena.base);
    return 0;
}
