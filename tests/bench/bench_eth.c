/*
 * cw_bench eth [HEXFILE]: Ethereum decode + sender recovery per tx, next to
 * this machine's bound measured in the same run.
 *
 * The bound is what no decoder can beat: per tx, one secp256k1_ecdsa_recover
 * (signature, recovery id and hash prepared beforehand) and the Keccak
 * hashes the tx needs: the tx hash over its bytes, the signing hash over
 * about as many, and the 64-byte public key. The measured path is what the
 * monitor does per tx: eth_tx_decode, eth_tx_recover (signing hash,
 * recovery, address) and eth_tx_hash. Two sets: the valid txs of
 * ethereum/tests TransactionTests (HEXFILE, one hex tx a line, written by
 * scripts/bench), and 2,000 generated txs (1,000 legacy EIP-155 ETH
 * payments, 1,000 type 2 USDT transfer calls), signed here with
 * libsecp256k1 under 1,000 keys. Each set runs 7 times; the ranges
 * (slowest-fastest) are printed.
 */
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chains/buf.h"
#include "chains/ethereum/tx.h"
#include "chains/hex.h"
#include "chains/keccak.h"

typedef struct {
    cw_span *txs;
    size_t n, bytes;
    /* the bound's inputs, prepared per tx */
    secp256k1_ecdsa_recoverable_signature *sig;
    uint8_t (*hash)[32];
} eth_set;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile uint8_t sink;

static int prepare(eth_set *s)
{
    s->sig = malloc(s->n * sizeof *s->sig);
    s->hash = malloc(s->n * sizeof *s->hash);
    for (size_t i = 0; i < s->n; i++) {
        eth_tx tx;
        cw_err err;
        if (eth_tx_decode(s->txs[i].p, s->txs[i].n, &tx, &err)) {
            fprintf(stderr, "cw_bench eth: tx %zu: %s\n", i, err.msg);
            return -1;
        }
        uint8_t rs[64];
        memcpy(rs, tx.r, 32);
        memcpy(rs + 32, tx.s, 32);
        eth_tx_sighash(&tx, s->hash[i]);
        if (!secp256k1_ecdsa_recoverable_signature_parse_compact(secp256k1_context_static, &s->sig[i], rs,
                                                                 tx.y_parity)) {
            fprintf(stderr, "cw_bench eth: tx %zu: bad signature\n", i);
            return -1;
        }
    }
    return 0;
}

static double run_bound(const eth_set *s)
{
    double t0 = now();
    uint8_t h[32], pub[65];
    for (size_t i = 0; i < s->n; i++) {
        secp256k1_pubkey pk;
        cw_keccak256(s->txs[i].p, s->txs[i].n, h); /* tx hash */
        sink ^= h[0];
        cw_keccak256(s->txs[i].p, s->txs[i].n, h); /* signing hash: about the same bytes */
        sink ^= h[0];
        if (!secp256k1_ecdsa_recover(secp256k1_context_static, &pk, &s->sig[i], s->hash[i]))
            abort();
        size_t n = 65;
        secp256k1_ec_pubkey_serialize(secp256k1_context_static, pub, &n, &pk, SECP256K1_EC_UNCOMPRESSED);
        cw_keccak256(pub + 1, 64, h); /* the address */
        sink ^= h[12];
    }
    return now() - t0;
}

static double run_decode(const eth_set *s)
{
    double t0 = now();
    for (size_t i = 0; i < s->n; i++) {
        eth_tx tx;
        eth_signer who;
        uint8_t h[32];
        if (eth_tx_decode(s->txs[i].p, s->txs[i].n, &tx, NULL) || eth_tx_recover(&tx, &who, NULL))
            abort();
        eth_tx_hash(&tx, h);
        sink ^= who.addr[0] ^ h[0];
    }
    return now() - t0;
}

static void report(const char *name, eth_set *s)
{
    enum { RUNS = 7 };
    double b_lo = 1e30, b_hi = 0, d_lo = 1e30, d_hi = 0, r_lo = 1e30, r_hi = 0;
    int reps = (int)(20000 / (double)s->n) + 1; /* ~20,000 txs per measurement */
    for (int run = 0; run < RUNS; run++) {
        double tb = 0, td = 0;
        for (int k = 0; k < reps; k++) {
            tb += run_bound(s);
            td += run_decode(s);
        }
        double bound = (double)s->n * reps / tb, dec = (double)s->n * reps / td, ratio = td / tb;
        if (bound < b_lo) b_lo = bound;
        if (bound > b_hi) b_hi = bound;
        if (dec < d_lo) d_lo = dec;
        if (dec > d_hi) d_hi = dec;
        if (ratio < r_lo) r_lo = ratio;
        if (ratio > r_hi) r_hi = ratio;
        fprintf(stderr, "\r  %s: run %d/%d", name, run + 1, RUNS);
    }
    fprintf(stderr, "\r%60s\r", "");
    printf("%s: %zu txs, %.1f kB, %d x %d txs per run, %d runs (ranges slowest-fastest)\n", name, s->n,
           s->bytes / 1e3, reps, (int)s->n, RUNS);
    printf("  bound  (1 recover + keccak: tx, sighash, key) %8.0f - %8.0f tx/s\n", b_lo, b_hi);
    printf("  decode + recover + hash                       %8.0f - %8.0f tx/s\n", d_lo, d_hi);
    printf("  decode time / bound time                      %8.2f - %8.2fx\n", r_lo, r_hi);
}

static void add(eth_set *s, uint8_t *p, size_t n)
{
    s->txs = realloc(s->txs, (s->n + 1) * sizeof *s->txs);
    s->txs[s->n].p = p;
    s->txs[s->n].n = n;
    s->n++;
    s->bytes += n;
}

/* 1,000 legacy EIP-155 payments and 1,000 type 2 USDT transfer calls. */
static void generate(eth_set *s)
{
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    static const uint8_t usdt[20] = {0xda, 0xc1, 0x7f, 0x95, 0x8d, 0x2e, 0xe5, 0x23, 0xa2, 0x20,
                                     0x62, 0x06, 0x99, 0x45, 0x97, 0xc1, 0x3d, 0x83, 0x1e, 0xc7};
    for (int i = 0; i < 2000; i++) {
        uint8_t key[32];
        memset(key, 0x11, 32);
        key[30] = (uint8_t)((i % 1000) >> 8);
        key[31] = (uint8_t)(i % 1000 + 1);
        static uint8_t data[2000][68];
        eth_tx tx;
        memset(&tx, 0, sizeof tx);
        tx.has_chain_id = true;
        tx.chain_id = 1;
        tx.nonce = (uint64_t)i;
        tx.gas = 21000 + (uint64_t)i;
        tx.has_to = true;
        if (i < 1000) {
            tx.type = ETH_TX_LEGACY;
            cw_u256_set_u64(&tx.gas_price, 20000000000ull + (uint64_t)i);
            memset(tx.to, 0x35, 20);
            cw_u256_set_u64(&tx.value, 1000000000000000000ull + (uint64_t)i);
        } else {
            tx.type = ETH_TX_DYNAMIC_FEE;
            cw_u256_set_u64(&tx.max_priority_fee, 1000000000);
            cw_u256_set_u64(&tx.max_fee, 30000000000ull + (uint64_t)i);
            memcpy(tx.to, usdt, 20);
            data[i][0] = 0xa9, data[i][1] = 0x05, data[i][2] = 0x9c, data[i][3] = 0xbb;
            memset(data[i] + 16, 0x42, 20);
            data[i][67] = (uint8_t)i;
            data[i][66] = 0x10;
            tx.data.p = data[i];
            tx.data.n = 68;
        }
        uint8_t h[32], rs[64];
        eth_tx_sighash(&tx, h);
        secp256k1_ecdsa_recoverable_signature sig;
        int recid;
        if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, h, key, NULL, NULL))
            abort();
        secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, rs, &recid, &sig);
        memcpy(tx.r, rs, 32);
        memcpy(tx.s, rs + 32, 32);
        tx.y_parity = (uint8_t)recid;
        cw_u256_set_u64(&tx.v, tx.type == ETH_TX_LEGACY ? 35 + 2 * tx.chain_id + (uint64_t)recid : (uint64_t)recid);
        size_t len;
        uint8_t *b = malloc(400);
        if (eth_tx_encode(&tx, b, 400, &len, NULL))
            abort();
        add(s, b, len);
    }
    secp256k1_context_destroy(ctx);
}

int bench_eth(int argc, char **argv)
{
    if (argc >= 3) {
        eth_set tt = {0};
        cw_buf b = CW_BUF_INIT;
        cw_err err;
        if (cw_read_file(argv[2], 1u << 26, &b, &err)) {
            fprintf(stderr, "cw_bench eth: %s\n", err.msg);
            return 1;
        }
        char *save = NULL;
        cw_buf_append(&b, "", 1, NULL);
        for (char *line = strtok_r((char *)b.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            size_t n = strlen(line), got;
            uint8_t *raw = malloc(n / 2 + 1);
            if (cw_hex_decode(line, n, raw, n / 2 + 1, &got, &err)) {
                fprintf(stderr, "cw_bench eth: %s: %s\n", argv[2], err.msg);
                return 1;
            }
            add(&tt, raw, got);
        }
        if (tt.n == 0 || prepare(&tt))
            return 1;
        report("TransactionTests valid txs", &tt);
    }
    eth_set gen = {0};
    generate(&gen);
    if (prepare(&gen))
        return 1;
    report("generated (1,000 legacy ETH payments, 1,000 type 2 USDT calls)", &gen);
    return 0;
}
