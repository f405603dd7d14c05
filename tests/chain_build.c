#include "chain_build.h"

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
#include "chains/hex.h"

static void put(cw_buf *b, const void *p, size_t n)
{
    if (n && cw_buf_append(b, p, n, NULL) != CW_OK) {
        fputs("chain_build: out of memory\n", stderr);
        abort();
    }
}
static void put_u8(cw_buf *b, uint8_t v) { put(b, &v, 1); }
static void put_le(cw_buf *b, uint64_t v, int n)
{
    uint8_t x[8];
    for (int i = 0; i < n; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    put(b, x, (size_t)n);
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

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fputs("chain_build: out of memory\n", stderr);
        abort();
    }
    return p;
}

/* ---------- serialization ---------- */

void cb_tx_serialize(cb_tx *t, const cb_input *in, size_t n_in, const cb_output *out, size_t n_out)
{
    bool segwit = false;
    for (size_t i = 0; i < n_in; i++)
        segwit |= in[i].spend != CB_SPEND_LEGACY;
    cw_buf outs = CW_BUF_INIT, ins = CW_BUF_INIT, wit = CW_BUF_INIT;
    for (size_t o = 0; o < n_out; o++) {
        put_le(&outs, out[o].value, 8);
        put_cs(&outs, out[o].script_len);
        put(&outs, out[o].script, out[o].script_len);
    }
    for (size_t i = 0; i < n_in; i++) {
        put(&ins, in[i].prev_txid, 32);
        put_le(&ins, in[i].prev_vout, 4);
        if (in[i].spend == CB_SPEND_LEGACY) { /* <sig> <pubkey> in the scriptSig */
            put_cs(&ins, 1 + 72 + 1 + 33);
            put_u8(&ins, 72), put(&ins, in[i].sig, 72), put_u8(&ins, 33), put(&ins, in[i].pubkey, 33);
            if (segwit)
                put_u8(&wit, 0);
        } else {
            put_u8(&ins, 0);
            if (in[i].spend == CB_SPEND_WPKH)
                put_u8(&wit, 2), put_u8(&wit, 72), put(&wit, in[i].sig, 72), put_u8(&wit, 33),
                    put(&wit, in[i].pubkey, 33);
            else
                put_u8(&wit, 1), put_u8(&wit, 64), put(&wit, in[i].sig, 64);
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
    cw_buf_free(&outs), cw_buf_free(&ins), cw_buf_free(&wit);
}

void cb_coinbase_serialize(cb_tx *t, int64_t height, const uint8_t *tail, size_t tail_len, const cb_output *out,
                           size_t n_out, const uint8_t commitment[32])
{
    t->full.n = t->stripped.n = 0;
    for (int pass = 0; pass < 2; pass++) {
        cw_buf *b = pass ? &t->full : &t->stripped;
        put_le(b, 2, 4);
        if (pass)
            put_u8(b, 0), put_u8(b, 1);
        put_u8(b, 1);
        uint8_t zero[32] = {0};
        put(b, zero, 32);
        put_le(b, 0xffffffffu, 4);
        uint8_t hb[3] = {(uint8_t)height, (uint8_t)(height >> 8), (uint8_t)(height >> 16)};
        put_cs(b, 4 + tail_len), put_u8(b, 3), put(b, hb, 3), put(b, tail, tail_len);
        put_le(b, 0xffffffffu, 4);
        put_cs(b, n_out + 1);
        for (size_t o = 0; o < n_out; o++)
            put_le(b, out[o].value, 8), put_cs(b, out[o].script_len), put(b, out[o].script, out[o].script_len);
        uint8_t c[38] = {0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed};
        memcpy(c + 6, commitment, 32);
        put_le(b, 0, 8), put_cs(b, 38), put(b, c, 38);
        if (pass)
            put_u8(b, 1), put_u8(b, 32), put(b, zero, 32);
        put_le(b, 0, 4);
    }
    cw_sha256d(t->stripped.p, t->stripped.n, t->txid);
    memset(t->wtxid, 0, 32); /* the witness merkle tree counts the coinbase as zero */
}

void cb_block_serialize(cw_buf *out, uint8_t hash[32], const cb_header *h, cb_tx *coinbase, const uint8_t *cb_tail,
                        size_t cb_tail_len, const cb_output *cb_out, size_t n_cb_out, const cb_tx *const *txs,
                        size_t n_txs)
{
    uint8_t(*ids)[32] = xmalloc((n_txs + 1) * 32);
    memset(ids[0], 0, 32);
    for (size_t i = 0; i < n_txs; i++)
        memcpy(ids[1 + i], txs[i]->wtxid, 32);
    uint8_t wroot[32], commit_in[64], commitment[32];
    bool mut;
    btc_merkle_root(ids, n_txs + 1, wroot, &mut);
    memcpy(commit_in, wroot, 32);
    memset(commit_in + 32, 0, 32); /* the witness reserved value */
    cw_sha256d(commit_in, 64, commitment);
    cb_coinbase_serialize(coinbase, h->height, cb_tail, cb_tail_len, cb_out, n_cb_out, commitment);
    memcpy(ids[0], coinbase->txid, 32);
    for (size_t i = 0; i < n_txs; i++)
        memcpy(ids[1 + i], txs[i]->txid, 32);
    uint8_t root[32];
    btc_merkle_root(ids, n_txs + 1, root, &mut);
    free(ids);
    out->n = 0;
    put_le(out, h->version, 4);
    put(out, h->prev, 32);
    put(out, root, 32);
    put_le(out, h->time, 4);
    put_le(out, h->bits, 4);
    put_le(out, h->nonce, 4);
    put_cs(out, n_txs + 1);
    put(out, coinbase->full.p, coinbase->full.n);
    for (size_t i = 0; i < n_txs; i++)
        put(out, txs[i]->full.p, txs[i]->full.n);
    cw_sha256d(out->p, 80, hash);
}

void cb_blk_record(cw_buf *file, cw_net net, const uint8_t *block, size_t len)
{
    put(file, btc_params_for(net)->magic, 4);
    put_le(file, len, 4);
    put(file, block, len);
}

int cb_write_blk(const char *path, cw_buf *file, const uint8_t key[8])
{
    for (size_t i = 0; key && i < file->n; i++)
        file->p[i] ^= key[i % 8];
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    bool ok = fwrite(file->p, 1, file->n, f) == file->n;
    if (fclose(f) != 0)
        ok = false;
    return ok ? 0 : -1;
}

int cb_write_xor_key(const char *dir, const uint8_t key[8])
{
    char kp[4096];
    snprintf(kp, sizeof kp, "%s/xor.dat", dir);
    FILE *kf = fopen(kp, "wb");
    if (kf == NULL)
        return -1;
    bool ok = fwrite(key, 1, 8, kf) == 8;
    if (fclose(kf) != 0)
        ok = false;
    return ok ? 0 : -1;
}

int cb_mkdirs(const char *dir)
{
    char mk[4096];
    snprintf(mk, sizeof mk, "%s", dir);
    for (char *sl = mk + 1;; sl++) {
        bool end = *sl == '\0';
        if (*sl == '/' || end) {
            *sl = '\0';
            if (mkdir(mk, 0755) != 0 && errno != EEXIST)
                return -1;
            if (end)
                break;
            *sl = '/';
        }
    }
    return 0;
}

/* ---------- coins and txs ---------- */

/* The stand-in keys of the P2WPKH/P2PKH addresses made here, so their
 * spends carry the key that hashes to them (one test process's worth). */
#define MAX_KEYS 4096
static struct {
    uint8_t h160[20];
    uint8_t pubkey[33];
} keys[MAX_KEYS];
static size_t n_keys;

static const uint8_t *key_of(const cw_addr *a)
{
    if (a->len != 20 || (a->kind != CW_ADDR_P2WPKH && a->kind != CW_ADDR_P2PKH))
        return NULL;
    for (size_t i = 0; i < n_keys; i++)
        if (memcmp(keys[i].h160, a->payload, 20) == 0)
            return keys[i].pubkey;
    return NULL;
}

cw_addr cb_addr_make(cw_net net, cw_addr_kind kind, uint32_t seed)
{
    uint8_t p[32];
    size_t n = kind == CW_ADDR_P2WSH || kind == CW_ADDR_P2TR ? 32 : 20;
    uint8_t s[12] = {'c', 'b', (uint8_t)kind, 0, (uint8_t)seed, (uint8_t)(seed >> 8), (uint8_t)(seed >> 16),
                     (uint8_t)(seed >> 24)};
    if (kind == CW_ADDR_P2WPKH || kind == CW_ADDR_P2PKH) {
        /* HASH160 of a key: the first key (by counter) whose hash starts with the seed's low byte */
        uint8_t pk[33] = {0x02};
        for (uint32_t ctr = 0;; ctr++) {
            memcpy(s + 8, &ctr, 4);
            cw_sha256(s, sizeof s, pk + 1);
            cw_hash160(pk, 33, p);
            if (p[0] == (uint8_t)seed)
                break;
        }
        cw_addr probe;
        cw_addr_set(&probe, CW_CHAIN_BITCOIN, net, kind, 0, p, 20);
        if (key_of(&probe) == NULL && n_keys < MAX_KEYS) {
            memcpy(keys[n_keys].h160, p, 20);
            memcpy(keys[n_keys].pubkey, pk, 33);
            n_keys++;
        }
    } else {
        uint8_t h[32];
        cw_sha256(s, sizeof s, h);
        memcpy(p, h, n);
        p[0] = (uint8_t)seed; /* keys of one kind sort by seed (mod 256) */
    }
    cw_addr a;
    cw_addr_set(&a, CW_CHAIN_BITCOIN, net, kind, kind == CW_ADDR_P2TR ? 1 : 0, p, n);
    return a;
}

const char *cb_addr_text(const cw_addr *a, char out[96])
{
    if (cw_addr_format(a, out, 96) == 0)
        snprintf(out, 96, "?");
    return out;
}

cw_addr cb_addr_parse(const char *text, cw_net net)
{
    cw_addr a;
    cw_err err = {0};
    if (cw_addr_parse(text, (int)net, &a, &err) != CW_OK) {
        fprintf(stderr, "chain_build: %s: %s\n", text, err.msg);
        abort();
    }
    return a;
}

static cb_spend spend_for(const cw_addr *a)
{
    switch (a->kind) {
    case CW_ADDR_P2PKH:
    case CW_ADDR_P2SH:
        return CB_SPEND_LEGACY;
    case CW_ADDR_P2TR:
        return CB_SPEND_TR;
    default:
        return CB_SPEND_WPKH;
    }
}

void cb_tx_pay(cb_tx *t, const cb_coin *in, size_t n_in, const cb_pay *out, size_t n_out)
{
    cb_input *ins = xmalloc(n_in * sizeof *ins);
    cb_output *outs = xmalloc(n_out * sizeof *outs);
    for (size_t i = 0; i < n_in; i++) {
        cb_input *x = &ins[i];
        memcpy(x->prev_txid, in[i].txid, 32);
        x->prev_vout = in[i].vout;
        x->spend = spend_for(&in[i].addr);
        uint8_t seed[37], h[32];
        memcpy(seed, in[i].txid, 32);
        memcpy(seed + 32, &in[i].vout, 4);
        seed[36] = 's';
        cw_sha256(seed, sizeof seed, h);
        x->sig[0] = 0x30, x->sig[1] = 69; /* DER-looking, never checked */
        for (size_t k = 2; k < 72; k++)
            x->sig[k] = h[k % 32] ^ (uint8_t)k;
        x->sig[71] = 0x01; /* SIGHASH_ALL */
        const uint8_t *pk = key_of(&in[i].addr);
        if (pk) { /* the key the address hashes: input hints find it */
            memcpy(x->pubkey, pk, 33);
        } else {
            seed[36] = 'k';
            cw_sha256(seed, sizeof seed, h);
            x->pubkey[0] = 0x02;
            memcpy(x->pubkey + 1, h, 32);
        }
    }
    for (size_t o = 0; o < n_out; o++) {
        outs[o].value = out[o].value;
        outs[o].script_len = btc_script_for_addr(&out[o].addr, outs[o].script);
        if (outs[o].script_len == 0) {
            fputs("chain_build: an address with no script\n", stderr);
            abort();
        }
    }
    cb_tx_serialize(t, ins, n_in, outs, n_out);
    free(ins);
    free(outs);
    free(t->pays);
    t->pays = xmalloc(n_out * sizeof *t->pays);
    memcpy(t->pays, out, n_out * sizeof *out);
    t->n_pays = n_out;
}

cb_coin cb_tx_coin(const cb_tx *t, uint32_t vout)
{
    cb_coin c;
    memset(&c, 0, sizeof c);
    if (vout >= t->n_pays) {
        fprintf(stderr, "chain_build: output %u of a tx with %zu\n", vout, t->n_pays);
        abort();
    }
    memcpy(c.txid, t->txid, 32);
    c.vout = vout;
    c.value = t->pays[vout].value;
    c.addr = t->pays[vout].addr;
    return c;
}

uint64_t cb_coins_value(const cb_coin *in, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v += in[i].value;
    return v;
}

const char *cb_txid_hex(const uint8_t txid[32], char out[65])
{
    cw_hex_encode_rev(txid, 32, out);
    return out;
}

void cb_tx_free(cb_tx *t)
{
    cw_buf_free(&t->full);
    cw_buf_free(&t->stripped);
    free(t->pays);
    t->pays = NULL;
    t->n_pays = 0;
}

/* ---------- a block tree ---------- */

void cb_chain_init(cb_chain *c, cw_net net)
{
    memset(c, 0, sizeof *c);
    c->net = net;
    c->time0 = 1700000000;
    c->spacing = 600;
    c->bits = 0x207fffff;
}

size_t cb_chain_mine(cb_chain *c, long parent, const cb_pay *pays, size_t n_pays, const cb_tx *const *txs,
                     size_t n_txs)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->blocks = realloc(c->blocks, c->cap * sizeof *c->blocks);
        if (c->blocks == NULL)
            abort();
    }
    size_t idx = c->n++;
    cb_block *b = &c->blocks[idx];
    memset(b, 0, sizeof *b);
    b->parent = parent;
    b->height = parent < 0 ? 0 : c->blocks[parent].height + 1;
    if (parent >= 0)
        memcpy(b->prev, c->blocks[parent].hash, 32);
    cb_output *outs = xmalloc(n_pays * sizeof *outs);
    for (size_t o = 0; o < n_pays; o++) {
        outs[o].value = pays[o].value;
        outs[o].script_len = btc_script_for_addr(&pays[o].addr, outs[o].script);
    }
    cb_header h = {.version = 0x20000000, .time = c->time0 + c->spacing * (uint32_t)b->height, .bits = c->bits,
                   .nonce = (uint32_t)idx, .height = b->height};
    memcpy(h.prev, b->prev, 32);
    /* the tail: the block's index (two blocks at one height differ), then OP_1 */
    uint8_t tail[6] = {0x04, (uint8_t)idx, (uint8_t)(idx >> 8), (uint8_t)(idx >> 16), (uint8_t)(idx >> 24), 0x51};
    cb_block_serialize(&b->raw, b->hash, &h, &b->coinbase, tail, sizeof tail, outs, n_pays, txs, n_txs);
    free(outs);
    b->coinbase.pays = xmalloc(n_pays * sizeof *pays);
    memcpy(b->coinbase.pays, pays, n_pays * sizeof *pays);
    b->coinbase.n_pays = n_pays;
    return idx;
}

cb_coin cb_chain_coinbase_coin(const cb_chain *c, size_t b, uint32_t vout)
{
    return cb_tx_coin(&c->blocks[b].coinbase, vout);
}

size_t cb_chain_path(const cb_chain *c, size_t tip, uint8_t (*out)[32], size_t cap)
{
    size_t n = (size_t)c->blocks[tip].height + 1;
    for (long i = (long)tip; i >= 0; i = c->blocks[i].parent) {
        size_t h = (size_t)c->blocks[i].height;
        if (h < cap)
            memcpy(out[h], c->blocks[i].hash, 32);
    }
    return n;
}

int cb_chain_write_some(const cb_chain *c, const char *dir, bool xor, const size_t *idx, size_t n)
{
    if (cb_mkdirs(dir) != 0)
        return -1;
    cw_buf file = CW_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        cb_blk_record(&file, c->net, c->blocks[idx[i]].raw.p, c->blocks[idx[i]].raw.n);
    static const uint8_t key[8] = {0x5c, 0x13, 0xa7, 0x00, 0x9e, 0x42, 0xd1, 0x7b};
    char path[4096];
    snprintf(path, sizeof path, "%s/blk00000.dat", dir);
    int rc = cb_write_blk(path, &file, xor ? key : NULL);
    if (rc == 0 && xor)
        rc = cb_write_xor_key(dir, key);
    cw_buf_free(&file);
    return rc;
}

int cb_chain_write(const cb_chain *c, const char *dir, bool xor)
{
    size_t *idx = xmalloc(c->n * sizeof *idx);
    for (size_t i = 0; i < c->n; i++)
        idx[i] = i;
    int rc = cb_chain_write_some(c, dir, xor, idx, c->n);
    free(idx);
    return rc;
}

void cb_chain_free(cb_chain *c)
{
    for (size_t i = 0; i < c->n; i++) {
        cw_buf_free(&c->blocks[i].raw);
        cb_tx_free(&c->blocks[i].coinbase);
    }
    free(c->blocks);
    memset(c, 0, sizeof *c);
}
