#include "eth_sign.h"

#include <criterion/criterion.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdlib.h>
#include <string.h>

#include "chains/ethereum/rlp.h"
#include "chains/hex.h"
#include "chains/keccak.h"

const uint8_t ETH_TEST_KEY[32] = {0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46,
                                  0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46,
                                  0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46};

static int sign(const uint8_t hash[32], const uint8_t key[32], uint8_t r[32], uint8_t s[32])
{
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_ecdsa_recoverable_signature sig;
    cr_assert(secp256k1_ecdsa_sign_recoverable(ctx, &sig, hash, key, NULL, NULL));
    uint8_t out[64];
    int recid;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, out, &recid, &sig);
    secp256k1_context_destroy(ctx);
    memcpy(r, out, 32);
    memcpy(s, out + 32, 32);
    return recid;
}

void eth_test_sign(eth_tx *tx, const uint8_t key[32])
{
    uint8_t h[32];
    eth_tx_sighash(tx, h);
    int recid = sign(h, key, tx->r, tx->s);
    tx->y_parity = (uint8_t)recid;
    if (tx->type != ETH_TX_LEGACY) {
        cw_u256_set_u64(&tx->v, (uint64_t)recid);
    } else if (tx->has_chain_id) {
        cw_u256 t;
        cw_u256_set_u64(&tx->v, tx->chain_id);
        cw_u256_add(&tx->v, &tx->v, &tx->v);
        cw_u256_set_u64(&t, 35u + (uint64_t)recid);
        cw_u256_add(&tx->v, &tx->v, &t);
    } else {
        cw_u256_set_u64(&tx->v, 27u + (uint64_t)recid);
    }
}

void eth_test_sign_auth(eth_auth *a, const uint8_t key[32])
{
    uint8_t h[32];
    eth_auth_sighash(a, h);
    a->y_parity = (uint8_t)sign(h, key, a->r, a->s);
}

static void put_word(eth_rlp_w *w, const uint8_t b[32])
{
    size_t z = 0;
    while (z < 32 && b[z] == 0)
        z++;
    eth_rlp_w_bytes(w, b + z, 32 - z);
}

static void put_auth(eth_rlp_w *w, const eth_auth *a)
{
    eth_rlp_w_u256(w, &a->chain_id);
    eth_rlp_w_bytes(w, a->address, 20);
    eth_rlp_w_uint64(w, a->nonce);
    eth_rlp_w_uint64(w, a->y_parity);
    put_word(w, a->r);
    put_word(w, a->s);
}

size_t eth_test_auth_list(const eth_auth *a, size_t n, uint8_t *buf, size_t cap)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        eth_rlp_w c;
        eth_rlp_w_init(&c, NULL, 0, NULL);
        put_auth(&c, &a[i]);
        total += eth_rlp_size_list(c.n);
    }
    eth_rlp_w w;
    eth_rlp_w_init(&w, buf, cap, NULL);
    eth_rlp_w_list(&w, total);
    for (size_t i = 0; i < n; i++) {
        eth_rlp_w c;
        eth_rlp_w_init(&c, NULL, 0, NULL);
        put_auth(&c, &a[i]);
        eth_rlp_w_list(&w, c.n);
        put_auth(&w, &a[i]);
    }
    cr_assert(!w.overflow, "auth list buffer too small");
    return w.n;
}

uint8_t *eth_test_encode(const eth_tx *tx, size_t *len)
{
    cw_err err = {0};
    size_t need;
    cr_assert_eq(eth_tx_encode(tx, NULL, 0, &need, &err), CW_ENOMEM);
    uint8_t *b = malloc(need);
    cr_assert_eq(eth_tx_encode(tx, b, need, len, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(*len, need);
    return b;
}

void eth_test_call(eth_tx *tx, const uint8_t to[20], const uint8_t *data, size_t n, uint64_t value, uint64_t nonce)
{
    memset(tx, 0, sizeof *tx);
    tx->type = ETH_TX_DYNAMIC_FEE;
    tx->has_chain_id = true;
    tx->chain_id = 1;
    tx->nonce = nonce;
    cw_u256_set_u64(&tx->max_priority_fee, 1000000000);
    cw_u256_set_u64(&tx->max_fee, 40000000000ull);
    tx->gas = 80000;
    tx->has_to = true;
    memcpy(tx->to, to, 20);
    cw_u256_set_u64(&tx->value, value);
    tx->data.p = data;
    tx->data.n = n;
}

char *eth_test_sign_hex(eth_tx *tx, const uint8_t key[32], const char *prefix, char hash[67])
{
    eth_test_sign(tx, key);
    size_t len, pn = strlen(prefix);
    uint8_t *b = eth_test_encode(tx, &len);
    if (hash) {
        uint8_t h[32];
        cw_keccak256(b, len, h);
        hash[0] = '0', hash[1] = 'x';
        cw_hex_encode(h, 32, hash + 2);
    }
    char *hex = malloc(2 * len + pn + 1);
    cr_assert_not_null(hex);
    memcpy(hex, prefix, pn);
    cw_hex_encode(b, len, hex + pn);
    free(b);
    return hex;
}
