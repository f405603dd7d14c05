#include "keylink.h"

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <string.h>

#include "bitcoin/script.h"
#include "bitcoin/tx.h"
#include "hash.h"
#include "keccak.h"

cw_code cw_pubkey_parse(const uint8_t *p, size_t n, cw_pubkey *out, cw_err *err)
{
    if (n != 33 && n != 65)
        return cw_err_set(err, CW_EFORMAT, 0, "public key of %zu bytes (33 compressed or 65 uncompressed expected)", n);
    if ((n == 33 && p[0] != 0x02 && p[0] != 0x03) || (n == 65 && p[0] != 0x04))
        return cw_err_set(err, CW_EFORMAT, 0, "public key of %zu bytes starting with %02x (%s expected%s)", n, p[0],
                          n == 33 ? "02 or 03" : "04", n == 65 && (p[0] == 6 || p[0] == 7) ? ": hybrid keys are refused" : "");
    /* the static context: parsing and serializing touch no secret and need
     * no precomputed tables of the signing kind */
    const secp256k1_context *ctx = secp256k1_context_static;
    secp256k1_pubkey pk;
    if (!secp256k1_ec_pubkey_parse(ctx, &pk, p, n))
        return cw_err_set(err, CW_EFORMAT, 0, "public key %02x%02x%02x...: not a point on secp256k1", p[0], p[1], p[2]);
    size_t len = 33;
    secp256k1_ec_pubkey_serialize(ctx, out->compressed, &len, &pk, SECP256K1_EC_COMPRESSED);
    len = 65;
    secp256k1_ec_pubkey_serialize(ctx, out->uncompressed, &len, &pk, SECP256K1_EC_UNCOMPRESSED);
    return CW_OK;
}

const char *cw_key_form_name(cw_key_form f)
{
    static const char *const names[CW_FORM_COUNT] = {"p2pkh", "p2pkh_uncompressed", "p2wpkh", "p2sh_p2wpkh",
                                                     "p2tr", "evm", "tron"};
    return (unsigned)f < CW_FORM_COUNT ? names[f] : "?";
}

const char *cw_revealed_by_name(cw_revealed_by b)
{
    static const char *const names[] = {"none", "p2pkh", "p2wpkh", "p2sh_p2wpkh", "p2pk", "signature"};
    return (unsigned)b < sizeof names / sizeof *names ? names[b] : "?";
}

/* BIP-86: Q = lift_x(x(P)) + TaggedHash("TapTweak", x(P)) G; the output is x(Q). */
static cw_code taproot_output(const cw_pubkey *k, uint8_t out[32], cw_err *err)
{
    const secp256k1_context *ctx = secp256k1_context_static;
    secp256k1_pubkey pk, q;
    secp256k1_xonly_pubkey internal, outkey;
    uint8_t x[32], tweak[32];
    if (!secp256k1_ec_pubkey_parse(ctx, &pk, k->compressed, 33) ||
        !secp256k1_xonly_pubkey_from_pubkey(ctx, &internal, NULL, &pk))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "public key: not a point on secp256k1");
    secp256k1_xonly_pubkey_serialize(ctx, x, &internal);
    cw_tagged_hash("TapTweak", x, 32, tweak);
    if (!secp256k1_xonly_pubkey_tweak_add(ctx, &q, &internal, tweak) ||
        !secp256k1_xonly_pubkey_from_pubkey(ctx, &outkey, NULL, &q))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "public key: its BIP-86 taproot tweak has no valid output key");
    secp256k1_xonly_pubkey_serialize(ctx, out, &outkey);
    return CW_OK;
}

cw_code cw_pubkey_forms(const cw_pubkey *k, cw_net btc_net, unsigned which, cw_addr out[CW_FORM_COUNT], cw_err *err)
{
    for (int f = 0; f < CW_FORM_COUNT; f++)
        memset(&out[f], 0, sizeof out[f]);
    uint8_t h[20], redeem[22] = {0x00, 0x14};
    bool want_h = which & ((1u << CW_FORM_P2PKH) | (1u << CW_FORM_P2WPKH) | (1u << CW_FORM_P2SH_P2WPKH));
    if (want_h)
        cw_hash160(k->compressed, 33, h);
    if (which & (1u << CW_FORM_P2PKH))
        cw_addr_set(&out[CW_FORM_P2PKH], CW_CHAIN_BITCOIN, btc_net, CW_ADDR_P2PKH, 0, h, 20);
    if (which & (1u << CW_FORM_P2WPKH))
        cw_addr_set(&out[CW_FORM_P2WPKH], CW_CHAIN_BITCOIN, btc_net, CW_ADDR_P2WPKH, 0, h, 20);
    if (which & (1u << CW_FORM_P2SH_P2WPKH)) {
        uint8_t sh[20];
        memcpy(redeem + 2, h, 20);
        cw_hash160(redeem, sizeof redeem, sh);
        cw_addr_set(&out[CW_FORM_P2SH_P2WPKH], CW_CHAIN_BITCOIN, btc_net, CW_ADDR_P2SH, 0, sh, 20);
    }
    if (which & (1u << CW_FORM_P2PKH_UNCOMP)) {
        uint8_t hu[20];
        cw_hash160(k->uncompressed, 65, hu);
        cw_addr_set(&out[CW_FORM_P2PKH_UNCOMP], CW_CHAIN_BITCOIN, btc_net, CW_ADDR_P2PKH, 0, hu, 20);
    }
    if (which & ((1u << CW_FORM_EVM) | (1u << CW_FORM_TRON))) {
        uint8_t kh[32];
        cw_keccak256(k->uncompressed + 1, 64, kh);
        if (which & (1u << CW_FORM_EVM))
            cw_addr_set(&out[CW_FORM_EVM], CW_CHAIN_EVM, CW_NET_MAIN, CW_ADDR_EVM, 0, kh + 12, 20);
        if (which & (1u << CW_FORM_TRON))
            cw_addr_set(&out[CW_FORM_TRON], CW_CHAIN_TRON, CW_NET_MAIN, CW_ADDR_TRON, 0, kh + 12, 20);
    }
    if (which & (1u << CW_FORM_P2TR)) {
        uint8_t q[32];
        cw_code rc = taproot_output(k, q, err);
        if (rc)
            return rc;
        cw_addr_set(&out[CW_FORM_P2TR], CW_CHAIN_BITCOIN, btc_net, CW_ADDR_P2TR, 1, q, 32);
    }
    return CW_OK;
}

/* ---------- revealed keys ---------- */

/* The pushes of a push-only script: at most `cap` kept, *count all of them.
 * False when the script holds any other opcode or a push runs past its end. */
static bool pushes(cw_span s, cw_span *out, size_t cap, size_t *count)
{
    size_t pos = 0;
    *count = 0;
    while (pos < s.n) {
        const uint8_t *d;
        size_t l;
        if (!btc_script_next_push(s.p, s.n, &pos, &d, &l))
            return false;
        if (*count < cap)
            out[*count] = (cw_span){d, l};
        (*count)++;
    }
    return true;
}

/* A spent output of this kind with this 20-byte payload? */
static bool spends(const cw_txin *in, cw_addr_kind kind, const uint8_t h[20])
{
    return in->addr.chain == CW_CHAIN_BITCOIN && in->addr.kind == kind && in->addr.len == 20 &&
           memcmp(in->addr.payload, h, 20) == 0;
}

static cw_reveal found(const uint8_t *p, size_t n, cw_span *key)
{
    *key = (cw_span){p, n};
    return CW_REVEAL_KEY;
}

static cw_reveal parsed(cw_reveal r, cw_span raw, cw_pubkey *key)
{
    if (r != CW_REVEAL_KEY)
        return r;
    return cw_pubkey_parse(raw.p, raw.n, key, NULL) == CW_OK ? CW_REVEAL_KEY : CW_REVEAL_BAD_KEY;
}

cw_reveal cw_reveal_input(const cw_txin *in, cw_pubkey *key, cw_revealed_by *by)
{
    cw_span raw;
    return parsed(cw_reveal_input_raw(in, &raw, by), raw, key);
}

cw_reveal cw_reveal_output(const cw_txout *out, cw_pubkey *key)
{
    cw_span raw;
    return parsed(cw_reveal_output_raw(out, &raw), raw, key);
}

bool cw_pubkey_compress_bytes(cw_span key, uint8_t out[33])
{
    if (key.n == 33 && (key.p[0] == 0x02 || key.p[0] == 0x03)) {
        memcpy(out, key.p, 33);
        return true;
    }
    if (key.n != 65 || key.p[0] != 0x04)
        return false; /* hybrid 06/07 too: refused by the parse */
    out[0] = (uint8_t)(0x02 | (key.p[64] & 1));
    memcpy(out + 1, key.p + 1, 32);
    return true;
}

cw_reveal cw_reveal_input_raw(const cw_txin *in, cw_span *key, cw_revealed_by *by)
{
    cw_revealed_by b = CW_REVEALED_BY_NONE;
    if (by)
        *by = b;
    cw_span item[2] = {{0}};
    bool wit2 = false;
    if (in->witness_items == 2) {
        btc_witness_iter it;
        btc_witness_begin(in, &it);
        wit2 = btc_witness_next(&it, &item[0]) && btc_witness_next(&it, &item[1]) && item[1].n == 33;
    }
    uint8_t h[20];
    if (in->script_sig.n == 0) {
        /* P2WPKH: [sig, 33-byte key] */
        if (!wit2)
            return CW_REVEAL_NONE;
        if (by)
            *by = CW_REVEALED_BY_P2WPKH;
        if (!in->resolved)
            return CW_REVEAL_UNCHECKED;
        cw_hash160(item[1].p, 33, h);
        if (!spends(in, CW_ADDR_P2WPKH, h) || in->addr.version != 0)
            return CW_REVEAL_MISMATCH;
        return found(item[1].p, 33, key);
    }
    cw_span push[2];
    size_t n;
    if (!pushes(in->script_sig, push, 2, &n))
        return CW_REVEAL_NONE;
    if (n == 1 && push[0].n == 22 && push[0].p[0] == 0x00 && push[0].p[1] == 20) {
        /* P2SH-P2WPKH: the redeem script 0014{HASH160(key)}, witness as P2WPKH */
        if (!wit2)
            return CW_REVEAL_NONE;
        if (by)
            *by = CW_REVEALED_BY_P2SH_P2WPKH;
        cw_hash160(item[1].p, 33, h);
        if (memcmp(h, push[0].p + 2, 20) != 0)
            return CW_REVEAL_MISMATCH;
        if (in->resolved) {
            cw_hash160(push[0].p, 22, h);
            if (!spends(in, CW_ADDR_P2SH, h))
                return CW_REVEAL_MISMATCH;
        }
        return found(item[1].p, 33, key);
    }
    if (n == 2 && in->witness_items == 0 && (push[1].n == 33 || push[1].n == 65)) {
        /* P2PKH: <sig> <key> */
        if (by)
            *by = CW_REVEALED_BY_P2PKH;
        if (!in->resolved)
            return CW_REVEAL_UNCHECKED;
        cw_hash160(push[1].p, push[1].n, h);
        if (!spends(in, CW_ADDR_P2PKH, h))
            return CW_REVEAL_MISMATCH;
        return found(push[1].p, push[1].n, key);
    }
    return CW_REVEAL_NONE;
}

cw_reveal cw_reveal_output_raw(const cw_txout *out, cw_span *key)
{
    const uint8_t *s = out->script.p;
    size_t n = out->script.n;
    if ((n != 35 && n != 67) || s[0] != n - 2 || s[n - 1] != 0xac)
        return CW_REVEAL_NONE;
    return found(s + 1, n - 2, key);
}
