/*
 * cw_genchain: writes a synthetic but valid Bitcoin block directory for
 * tests and benchmarks: real serialization, real txids, merkle roots and
 * witness commitments, blk?????.dat records (optionally xor-obfuscated
 * with an xor.dat key, as Bitcoin Core 28+ writes them).
 *
 * Shapes: P2WPKH/P2TR/P2PKH/P2SH outputs, 1-5 inputs and 2-3 outputs per
 * tx spending earlier outputs (mostly recent ones, see pool_take), a
 * fan-in consolidation every 200th tx, and payments to chosen addresses
 * (by default in every 10th tx; --pay-every N). The same seed gives identical files.
 * Signatures are random bytes of the right size: chainwatch does not
 * verify scripts or proof of work, and neither does this generator.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chains/addr.h"
#include "chains/bitcoin/block.h"
#include "chains/bitcoin/params.h"
#include "chains/bitcoin/script.h"
#include "chains/hash.h"
#include "monitor/buf.h"

static uint64_t rng;
static uint64_t next_rand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng * 0x2545F4914F6CDD1Dull;
}
static uint64_t rand_below(uint64_t n) { return n ? next_rand() % n : 0; }
static void rand_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)next_rand();
}

typedef struct {
    uint8_t txid[32];
    uint32_t vout;
    uint64_t value;
    uint8_t kind; /* 0 p2wpkh, 1 p2tr, 2 p2pkh, 3 p2sh */
} coin;

static coin *pool;
static size_t n_pool, cap_pool;
static bool spend_paid; /* --spend-paid: payments to the chosen addresses are spent on like any output */

static void pool_add(const uint8_t txid[32], uint32_t vout, uint64_t value, uint8_t kind)
{
    if (n_pool == cap_pool) {
        cap_pool = cap_pool ? cap_pool * 2 : 1 << 16;
        pool = realloc(pool, cap_pool * sizeof *pool);
    }
    coin *c = &pool[n_pool++];
    memcpy(c->txid, txid, 32);
    c->vout = vout;
    c->value = value;
    c->kind = kind;
}

/* Like real chains, most outputs are spent soon after they are made: two
 * spends in three take one of the newest 20,000 coins (a few blocks' worth
 * at bench sizes), the rest any coin at all. Swap-removal keeps that window
 * made of recent coins: the last coin moves into the hole. */
static coin pool_take(void)
{
    size_t window = n_pool < 20000 ? n_pool : 20000;
    size_t i = rand_below(3) < 2 ? n_pool - 1 - (size_t)rand_below(window) : (size_t)rand_below(n_pool);
    coin c = pool[i];
    pool[i] = pool[--n_pool];
    return c;
}

static void put(cw_buf *b, const void *p, size_t n) { cw_buf_append(b, p, n, NULL); }
static void put_u8(cw_buf *b, uint8_t v) { put(b, &v, 1); }
static void put_le(cw_buf *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        put_u8(b, (uint8_t)(v >> (8 * i)));
}
static void put_cs(cw_buf *b, uint64_t n)
{
    if (n < 0xfd)
        put_u8(b, (uint8_t)n);
    else if (n <= 0xffff)
        put_u8(b, 0xfd), put_le(b, n, 2);
    else
        put_u8(b, 0xfe), put_le(b, n, 4);
}

static size_t random_script(uint8_t kind, uint8_t *s)
{
    switch (kind) {
    case 0: s[0] = 0x00, s[1] = 20, rand_bytes(s + 2, 20); return 22;
    case 1: s[0] = 0x51, s[1] = 32, rand_bytes(s + 2, 32); return 34;
    case 2: s[0] = 0x76, s[1] = 0xa9, s[2] = 20, rand_bytes(s + 3, 20), s[23] = 0x88, s[24] = 0xac; return 25;
    default: s[0] = 0xa9, s[1] = 20, rand_bytes(s + 2, 20), s[22] = 0x87; return 23;
    }
}

typedef struct {
    cw_buf full, stripped; /* with and without witness */
    uint8_t txid[32], wtxid[32];
} built_tx;

/* Inputs from the pool, outputs to random scripts (or the chosen ones). */
static void build_tx(built_tx *t, size_t n_in, size_t n_out, const cw_addr *pay, size_t n_pay)
{
    coin in[64];
    uint64_t total = 0;
    bool segwit = false;
    for (size_t i = 0; i < n_in; i++) {
        in[i] = pool_take();
        total += in[i].value;
        segwit |= in[i].kind <= 1;
    }
    uint64_t fee = 200 * (n_in + n_out), avail = total > fee ? total - fee : 0;
    cw_buf outs = CW_BUF_INIT, ins = CW_BUF_INIT, wit = CW_BUF_INIT;
    uint8_t kinds[8];
    uint64_t vals[8];
    for (size_t o = 0; o < n_out; o++) {
        vals[o] = o + 1 == n_out ? avail : avail / n_out;
        avail -= o + 1 == n_out ? 0 : vals[o];
        uint8_t s[42];
        size_t sl;
        if (pay && n_pay && o == 0) {
            const cw_addr *pa = &pay[rand_below(n_pay)];
            sl = btc_script_for_addr(pa, s);
            /* not re-spent unless asked: keeps the chosen addresses' outputs for analysts */
            kinds[o] = !spend_paid ? 255 : pa->kind == CW_ADDR_P2WPKH ? 0 : pa->kind == CW_ADDR_P2TR ? 1 : pa->kind == CW_ADDR_P2PKH ? 2 : 3;
        } else {
            kinds[o] = (uint8_t)rand_below(4);
            sl = random_script(kinds[o], s);
        }
        put_le(&outs, vals[o], 8);
        put_cs(&outs, sl);
        put(&outs, s, sl);
    }
    for (size_t i = 0; i < n_in; i++) {
        put(&ins, in[i].txid, 32);
        put_le(&ins, in[i].vout, 4);
        uint8_t sig[73], pk[33];
        rand_bytes(sig, sizeof sig);
        sig[0] = 0x30, sig[1] = 70;
        rand_bytes(pk, 33);
        pk[0] = 0x02;
        if (in[i].kind >= 2) { /* legacy: <sig> <pubkey> in the scriptSig */
            put_cs(&ins, 1 + 72 + 1 + 33);
            put_u8(&ins, 72), put(&ins, sig, 72), put_u8(&ins, 33), put(&ins, pk, 33);
            if (segwit)
                put_u8(&wit, 0);
        } else {
            put_u8(&ins, 0);
            if (in[i].kind == 0)
                put_u8(&wit, 2), put_u8(&wit, 72), put(&wit, sig, 72), put_u8(&wit, 33), put(&wit, pk, 33);
            else
                put_u8(&wit, 1), put_u8(&wit, 64), put(&wit, sig, 64);
        }
        put_le(&ins, 0xfffffffdu, 4);
    }
    t->full.n = t->stripped.n = 0;
    put_le(&t->stripped, 2, 4);
    put_cs(&t->stripped, n_in);
    put(&t->stripped, ins.p, ins.n);
    put_cs(&t->stripped, n_out);
    put(&t->stripped, outs.p, outs.n);
    put_le(&t->stripped, 0, 4);
    put_le(&t->full, 2, 4);
    if (segwit)
        put_u8(&t->full, 0), put_u8(&t->full, 1);
    put_cs(&t->full, n_in);
    put(&t->full, ins.p, ins.n);
    put_cs(&t->full, n_out);
    put(&t->full, outs.p, outs.n);
    if (segwit)
        put(&t->full, wit.p, wit.n);
    put_le(&t->full, 0, 4);
    cw_sha256d(t->stripped.p, t->stripped.n, t->txid);
    cw_sha256d(t->full.p, t->full.n, t->wtxid);
    for (size_t o = 0; o < n_out; o++)
        if (kinds[o] != 255)
            pool_add(t->txid, (uint32_t)o, vals[o], kinds[o]);
    cw_buf_free(&outs), cw_buf_free(&ins), cw_buf_free(&wit);
}

int main(int argc, char **argv)
{
    const char *out = NULL, *netname = "regtest";
    long blocks = 100, per_block = 100;
    uint64_t seed = 1;
    bool xor = false;
    long pay_every = 10;
    uint64_t start_time = 1700000000; /* block 0's time; each next block 600 s later */
    cw_addr pay[16];
    size_t n_pay = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--out") == 0 && v) out = v, i++;
        else if (strcmp(a, "--blocks") == 0 && v) blocks = atol(v), i++;
        else if (strcmp(a, "--txs-per-block") == 0 && v) per_block = atol(v), i++;
        else if (strcmp(a, "--seed") == 0 && v) seed = strtoull(v, NULL, 10), i++;
        else if (strcmp(a, "--network") == 0 && v) netname = v, i++;
        else if (strcmp(a, "--xor") == 0) xor = true;
        else if (strcmp(a, "--pay-every") == 0 && v) pay_every = atol(v), i++;
        else if (strcmp(a, "--spend-paid") == 0) spend_paid = true;
        else if (strcmp(a, "--start-time") == 0 && v) start_time = strtoull(v, NULL, 10), i++;
        else if (strcmp(a, "--pay") == 0 && v && n_pay < 16) {
            cw_err err;
            if (cw_addr_parse(v, CW_NET_ANY, &pay[n_pay], &err)) {
                fprintf(stderr, "cw_genchain: --pay %s: %s\n", v, err.msg);
                return 2;
            }
            n_pay++, i++;
        } else {
            fprintf(stderr, "usage: cw_genchain --out DIR [--blocks N] [--txs-per-block M] [--seed S] [--xor]\n"
                            "                   [--network regtest|main|...] [--pay ADDR]... [--pay-every N]\n"
                            "                   [--start-time UNIX] [--spend-paid]\n");
            return 2;
        }
    }
    cw_net net;
    if (out == NULL || blocks < 1 || per_block < 0 || pay_every < 1 || !cw_net_from_name(netname, &net)) {
        fprintf(stderr, "cw_genchain: --out DIR is required; --blocks >= 1; --pay-every >= 1; a known --network\n");
        return 2;
    }
    rng = seed * 0x9E3779B97F4A7C15ull + 1;
    char mk[4096];
    snprintf(mk, sizeof mk, "%s", out);
    for (char *sl = mk + 1;; sl++) { /* mkdir -p */
        bool end = *sl == '\0';
        if (*sl == '/' || end) {
            *sl = '\0';
            if (mkdir(mk, 0755) != 0 && errno != EEXIST) {
                perror(mk);
                return 1;
            }
            if (end)
                break;
            *sl = '/';
        }
    }
    uint8_t key[8] = {0};
    if (xor) {
        rand_bytes(key, 8);
        char kp[4096];
        snprintf(kp, sizeof kp, "%s/xor.dat", out);
        FILE *kf = fopen(kp, "wb");
        if (!kf || fwrite(key, 1, 8, kf) != 8) {
            perror(kp);
            return 1;
        }
        fclose(kf);
    }
    const btc_params *prm = btc_params_for(net);
    cw_buf blk = CW_BUF_INIT, file = CW_BUF_INIT;
    uint8_t prev[32] = {0};
    built_tx *txs = calloc((size_t)per_block + 1, sizeof *txs);
    uint8_t(*ids)[32] = malloc(((size_t)per_block + 1) * 32), (*wids)[32] = malloc(((size_t)per_block + 1) * 32);
    int file_no = 0;
    uint64_t total_txs = 0;
    for (long h = 0; h < blocks; h++) {
        /* coinbase: BIP-34 height, 50 BTC to a fresh P2WPKH, witness commitment */
        size_t n = 0;
        for (long k = 0; k < per_block && n_pool > 8; k++) {
            /* mostly 1-2 inputs (payments), sometimes up to 5, a consolidation every 200th */
            static const uint8_t spread[20] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 5};
            size_t n_in = (k + 1) % 200 == 0 ? 20 + (size_t)rand_below(31) : spread[rand_below(20)];
            if (n_in > n_pool - 4)
                n_in = 1;
            build_tx(&txs[1 + n], n_in, 2 + (size_t)rand_below(2), pay, (k % pay_every == 0) ? n_pay : 0);
            n++;
        }
        memset(wids[0], 0, 32);
        for (size_t i = 0; i < n; i++) {
            memcpy(ids[1 + i], txs[1 + i].txid, 32);
            memcpy(wids[1 + i], txs[1 + i].wtxid, 32);
        }
        uint8_t wroot[32], commit_in[64], commitment[32];
        bool mut;
        btc_merkle_root(wids, n + 1, wroot, &mut);
        memcpy(commit_in, wroot, 32);
        memset(commit_in + 32, 0, 32);
        cw_sha256d(commit_in, 64, commitment);
        built_tx *cb = &txs[0];
        cb->full.n = cb->stripped.n = 0;
        /* the first block seeds the pool with many outputs, so txs start at once */
        size_t n_cb_out = h == 0 ? 4000 : 1;
        uint8_t (*cb_scripts)[22] = malloc(n_cb_out * 22);
        for (size_t o = 0; o < n_cb_out; o++)
            random_script(0, cb_scripts[o]);
        for (int pass = 0; pass < 2; pass++) {
            cw_buf *b = pass ? &cb->full : &cb->stripped;
            put_le(b, 2, 4);
            if (pass)
                put_u8(b, 0), put_u8(b, 1);
            put_u8(b, 1);
            uint8_t zero[32] = {0};
            put(b, zero, 32);
            put_le(b, 0xffffffffu, 4);
            uint8_t hb[4] = {(uint8_t)h, (uint8_t)(h >> 8), (uint8_t)(h >> 16), 0};
            put_u8(b, 5), put_u8(b, 3), put(b, hb, 3), put_u8(b, 0x51);
            put_le(b, 0xffffffffu, 4);
            put_cs(b, n_cb_out + 1);
            for (size_t o = 0; o < n_cb_out; o++)
                put_le(b, 5000000000ull / n_cb_out, 8), put_cs(b, 22), put(b, cb_scripts[o], 22);
            uint8_t c[38] = {0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed};
            memcpy(c + 6, commitment, 32);
            put_le(b, 0, 8), put_cs(b, 38), put(b, c, 38);
            if (pass)
                put_u8(b, 1), put_u8(b, 32), put(b, zero, 32);
            put_le(b, 0, 4);
        }
        cw_sha256d(cb->stripped.p, cb->stripped.n, cb->txid);
        memcpy(ids[0], cb->txid, 32);
        uint8_t root[32];
        btc_merkle_root(ids, n + 1, root, &mut);
        /* coinbase outputs join the pool (no maturity: nothing here validates it) */
        for (size_t o = 0; o < n_cb_out; o++)
            pool_add(cb->txid, (uint32_t)o, 5000000000ull / n_cb_out, 0);
        free(cb_scripts);
        blk.n = 0;
        put_le(&blk, 0x20000000, 4);
        put(&blk, prev, 32);
        put(&blk, root, 32);
        put_le(&blk, start_time + (uint64_t)h * 600, 4);
        put_le(&blk, 0x207fffff, 4);
        put_le(&blk, (uint64_t)h, 4);
        put_cs(&blk, n + 1);
        for (size_t i = 0; i <= n; i++)
            put(&blk, txs[i].full.p, txs[i].full.n);
        cw_sha256d(blk.p, 80, prev);
        total_txs += n + 1;
        if (file.n + blk.n + 8 > (128u << 20) || h + 1 == blocks) {
            if (h + 1 == blocks || file.n == 0) {
                put(&file, prm->magic, 4);
                put_le(&file, blk.n, 4);
                put(&file, blk.p, blk.n);
            }
            char fp[4096];
            snprintf(fp, sizeof fp, "%s/blk%05d.dat", out, file_no++);
            for (size_t i = 0; xor && i < file.n; i++)
                file.p[i] ^= key[i % 8];
            FILE *f = fopen(fp, "wb");
            if (!f || fwrite(file.p, 1, file.n, f) != file.n) {
                perror(fp);
                return 1;
            }
            fclose(f);
            file.n = 0;
            if (h + 1 == blocks)
                break;
        }
        put(&file, prm->magic, 4);
        put_le(&file, blk.n, 4);
        put(&file, blk.p, blk.n);
    }
    printf("cw_genchain: %ld blocks, %llu txs, %d files%s in %s (seed %llu)\n", blocks, (unsigned long long)total_txs,
           file_no, xor ? ", xor-obfuscated" : "", out, (unsigned long long)seed);
    for (long i = 0; i <= per_block; i++)
        cw_buf_free(&txs[i].full), cw_buf_free(&txs[i].stripped);
    free(txs), free(ids), free(wids), free(pool);
    cw_buf_free(&blk), cw_buf_free(&file);
    return 0;
}
