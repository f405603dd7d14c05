/* chains/keylink: a key's forms on every chain, and the keys Bitcoin inputs
 * and outputs reveal.
 *
 * Expected values and where they come from:
 *  - private key 1 (the generator G): compressed P2PKH
 *    1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH, uncompressed
 *    1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm, EVM
 *    0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf: widely published vectors;
 *    P2WPKH bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4 is BIP-173's own
 *    example for this key. All of them, and the P2SH-P2WPKH, P2TR and Tron
 *    forms and private key 3's, were recomputed by
 *    tests/chains/keylink_oracle.py (hashlib, integer EC arithmetic and a
 *    Keccak written out there: no code shared with chains/).
 *  - BIP-86's test vectors (bitcoin/bips bip-0086.mediawiki, "Test
 *    vectors": internal_key -> output_key / address for m/86'/0'/0'/0/0,
 *    0/1 and 1/0).
 *  - Mainnet blocks 514485 and 514492 (../shared/data/btc): the revealed
 *    keys by shape, counted by keylink_oracle.py's count_block.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/bitcoin/block.h"
#include "chains/bitcoin/hint.h"
#include "chains/bitcoin/script.h"
#include "chains/bitcoin/tx.h"
#include "chains/hash.h"
#include "chains/hex.h"
#include "chains/keylink.h"
#include "tests/support.h"

static cw_pubkey key_hex(const char *hex)
{
    uint8_t b[65];
    size_t n;
    cr_assert_eq(cw_hex_decode(hex, strlen(hex), b, sizeof b, &n, NULL), CW_OK);
    cw_pubkey k;
    cw_err err;
    cr_assert_eq(cw_pubkey_parse(b, n, &k, &err), CW_OK, "%s: %s", hex, err.msg);
    return k;
}

static const char *text(const cw_addr *a)
{
    static char buf[4][CW_ADDR_TEXT_MAX];
    static int i;
    i = (i + 1) % 4;
    cr_assert_gt(cw_addr_format(a, buf[i], sizeof buf[i]), 0);
    return buf[i];
}

#define G_COMP "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
#define G_UNC                                                                                                          \
    "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a6855419" \
    "9c47d08ffb10d4b8"

static void assert_forms(const cw_pubkey *k, const char *const want[CW_FORM_COUNT])
{
    cw_addr f[CW_FORM_COUNT];
    cw_err err;
    cr_assert_eq(cw_pubkey_forms(k, CW_NET_MAIN, CW_FORMS_ALL, f, &err), CW_OK, "%s", err.msg);
    for (int i = 0; i < CW_FORM_COUNT; i++)
        cr_assert_str_eq(text(&f[i]), want[i], "%s", cw_key_form_name((cw_key_form)i));
}

Test(keylink, generator_forms_on_every_chain)
{
    static const char *const want[CW_FORM_COUNT] = {
        "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH",
        "1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm",
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        "3JvL6Ymt8MVWiCNHC7oWU6nLeHNJKLZGLN",
        "bc1pmfr3p9j00pfxjh0zmgp99y8zftmd3s5pmedqhyptwy6lm87hf5sspknck9",
        "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf",
        "TMVQGm1qAQYVdetCeGRRkTWYYrLXuHK2HC",
    };
    cw_pubkey c = key_hex(G_COMP), u = key_hex(G_UNC);
    /* either encoding is the same key: the same forms */
    assert_forms(&c, want);
    assert_forms(&u, want);
    cr_assert_eq(memcmp(c.uncompressed, u.uncompressed, 65), 0);
    cr_assert_eq(memcmp(c.compressed, u.compressed, 33), 0);
}

Test(keylink, key_3_forms)
{
    static const char *const want[CW_FORM_COUNT] = {
        "1CUNEBjYrCn2y1SdiUMohaKUi4wpP326Lb",
        "1NZUP3JAc9JkmbvmoTv7nVgZGtyJjirKV1",
        "bc1q0ht9tyks4vh7p5p904t340cr9nvahy7u3re7zg",
        "3BM3eLQZbwubG3XwwxJmd9qxwMJn7yUTSn",
        "bc1pgxxyvcmdncdxs06cudd5yvmwwahaesaj6n3eu7st7x4sw9hrchaqjy33gs",
        "0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69",
        "TKTX96CBxr5kvhjsDHcqoiPWZageGxoTW3",
    };
    cw_pubkey k = key_hex("02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9");
    assert_forms(&k, want);
}

/* BIP-86 gives x-only internal keys: either parity prefix is the same
 * internal key (lift_x takes the even one), so both give the output. */
Test(keylink, bip86_test_vectors)
{
    static const char *const v[3][3] = {
        {"cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115",
         "a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c",
         "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"},
        {"83dfe85a3151d2517290da461fe2815591ef69f2b18a2ce63f01697a8b313145",
         "a82f29944d65b86ae6b5e5cc75e294ead6c59391a1edc5e016e3498c67fc7bbb",
         "bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh"},
        {"399f1b2f4393f29a18c937859c5dd8a77350103157eb880f02e8c08214277cef",
         "882d74e5d0572d5a816cef0041a96b6c1de832f6f9676d9605c44d5e9a97d3dc",
         "bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7"},
    };
    for (int i = 0; i < 3; i++)
        for (int parity = 2; parity <= 3; parity++) {
            char hex[67];
            snprintf(hex, sizeof hex, "0%d%s", parity, v[i][0]);
            cw_pubkey k = key_hex(hex);
            cw_addr f[CW_FORM_COUNT];
            cr_assert_eq(cw_pubkey_forms(&k, CW_NET_MAIN, 1u << CW_FORM_P2TR, f, NULL), CW_OK);
            char out[65];
            cw_hex_encode(f[CW_FORM_P2TR].payload, 32, out);
            cr_assert_str_eq(out, v[i][1], "vector %d parity %d", i, parity);
            cr_assert_str_eq(text(&f[CW_FORM_P2TR]), v[i][2]);
            cr_assert_eq(f[CW_FORM_P2WPKH].kind, CW_ADDR_NONE, "only the forms asked for");
        }
}

Test(keylink, forms_follow_the_bitcoin_network)
{
    cw_pubkey k = key_hex(G_COMP);
    cw_addr f[CW_FORM_COUNT];
    cr_assert_eq(cw_pubkey_forms(&k, CW_NET_REGTEST, CW_FORMS_ALL, f, NULL), CW_OK);
    cr_assert_str_eq(text(&f[CW_FORM_P2WPKH]), "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"); /* the oracle's segwit("bcrt", 0, ...) */
    cr_assert_str_eq(text(&f[CW_FORM_P2PKH]), "mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r");
    cr_assert_str_eq(text(&f[CW_FORM_EVM]), "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf", "EVM has no network");
}

Test(keylink, invalid_keys_are_refused_with_the_reason)
{
    uint8_t b[65];
    size_t n;
    cw_pubkey k;
    cw_err err;
    /* x = 5 is on no point of secp256k1 (5^3 + 7 = 132 is not a square mod p: the oracle's pow test) */
    const char *offcurve = "020000000000000000000000000000000000000000000000000000000000000005";
    cr_assert_eq(cw_hex_decode(offcurve, 66, b, sizeof b, &n, NULL), CW_OK);
    cr_assert_eq(cw_pubkey_parse(b, n, &k, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "not a point"), "%s", err.msg);
    /* x = p: out of the field */
    const char *xp = "02fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f";
    cr_assert_eq(cw_hex_decode(xp, 66, b, sizeof b, &n, NULL), CW_OK);
    cr_assert_eq(cw_pubkey_parse(b, n, &k, &err), CW_EFORMAT);
    /* G with its y changed: not on the curve */
    cr_assert_eq(cw_hex_decode(G_UNC, 130, b, sizeof b, &n, NULL), CW_OK);
    b[64] ^= 1;
    cr_assert_eq(cw_pubkey_parse(b, n, &k, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "not a point"), "%s", err.msg);
    /* hybrid (06: G's y is even) is a point libsecp256k1 would take: refused */
    cr_assert_eq(cw_hex_decode(G_UNC, 130, b, sizeof b, &n, NULL), CW_OK);
    b[0] = 0x06;
    cr_assert_eq(cw_pubkey_parse(b, n, &k, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "hybrid"), "%s", err.msg);
    /* lengths and prefixes */
    cr_assert_eq(cw_pubkey_parse(b, 64, &k, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "64 bytes"), "%s", err.msg);
    cr_assert_eq(cw_pubkey_parse(NULL, 0, &k, &err), CW_EFORMAT);
    b[0] = 0x04;
    cr_assert_eq(cw_pubkey_parse(b, 33, &k, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "02 or 03"), "%s", err.msg);
    b[0] = 0x00;
    cr_assert_eq(cw_pubkey_parse(b, 65, &k, &err), CW_EFORMAT);
}

/* ---------- revealed keys ---------- */

typedef struct {
    uint8_t sig[160], wit[200];
    cw_txin in;
} hand_input;

/* A scriptSig of pushes (each item as a direct push) and a witness of items. */
static void build(hand_input *h, const cw_span *ss, size_t n_ss, const cw_span *w, size_t n_w)
{
    memset(h, 0, sizeof *h);
    size_t p = 0;
    for (size_t i = 0; i < n_ss; i++) {
        cr_assert_lt(ss[i].n, 76);
        cr_assert_lt(p + 1 + ss[i].n, sizeof h->sig);
        h->sig[p++] = (uint8_t)ss[i].n;
        memcpy(h->sig + p, ss[i].p, ss[i].n);
        p += ss[i].n;
    }
    h->in.script_sig = (cw_span){h->sig, p};
    p = 0;
    if (n_w) {
        h->wit[p++] = (uint8_t)n_w;
        for (size_t i = 0; i < n_w; i++) {
            h->wit[p++] = (uint8_t)w[i].n;
            memcpy(h->wit + p, w[i].p, w[i].n);
            p += w[i].n;
        }
    }
    h->in.witness = (cw_span){h->wit, p};
    h->in.witness_items = (uint32_t)n_w;
}

static void resolve(hand_input *h, cw_addr_kind kind, const uint8_t *payload)
{
    h->in.resolved = true;
    cw_addr_set(&h->in.addr, CW_CHAIN_BITCOIN, CW_NET_MAIN, kind, kind == CW_ADDR_P2TR, payload,
                kind == CW_ADDR_P2TR ? 32 : 20);
}

static uint8_t fake_sig[72] = {0x30, 0x45};

Test(keylink, p2wpkh_spend_reveals_its_key_only_when_it_hashes_to_the_prevout)
{
    cw_pubkey g = key_hex(G_COMP), three = key_hex("02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9");
    uint8_t h[20], h3[20];
    cw_hash160(g.compressed, 33, h);
    cw_hash160(three.compressed, 33, h3);
    cw_span w[2] = {{fake_sig, 72}, {g.compressed, 33}};
    hand_input hi;
    build(&hi, NULL, 0, w, 2);
    cw_pubkey k;
    cw_revealed_by by;
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_UNCHECKED, "prevout unknown: not counted");
    cr_assert_eq(by, CW_REVEALED_BY_P2WPKH);
    resolve(&hi, CW_ADDR_P2WPKH, h);
    memset(&k, 0, sizeof k);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_KEY);
    cr_assert_eq(memcmp(k.compressed, g.compressed, 33), 0);
    /* an attacker-chosen key in a witness spending someone else's output */
    resolve(&hi, CW_ADDR_P2WPKH, h3);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_MISMATCH);
    /* the right hash but another kind of output (a P2PKH prevout) */
    resolve(&hi, CW_ADDR_P2PKH, h);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_MISMATCH);
    /* wrong shapes: 1 or 3 items, a 65-byte key, a 32-byte last item */
    build(&hi, NULL, 0, w, 1);
    resolve(&hi, CW_ADDR_P2WPKH, h);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_NONE);
    cw_span w3[3] = {{fake_sig, 72}, {g.compressed, 33}, {g.compressed, 33}};
    build(&hi, NULL, 0, w3, 3);
    resolve(&hi, CW_ADDR_P2WPKH, h);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_NONE);
    cw_span w65[2] = {{fake_sig, 72}, {g.uncompressed, 65}};
    build(&hi, NULL, 0, w65, 2);
    resolve(&hi, CW_ADDR_P2WPKH, h);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_NONE, "v0 witness keys are 33 bytes (BIP-143)");
    cw_span w32[2] = {{fake_sig, 72}, {g.compressed, 32}};
    build(&hi, NULL, 0, w32, 2);
    resolve(&hi, CW_ADDR_P2WPKH, h);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_NONE);
}

Test(keylink, invalid_point_that_hashes_to_the_prevout_is_refused)
{
    uint8_t bad[33] = {0x02};
    bad[32] = 5; /* x = 5: no point */
    uint8_t h[20];
    cw_hash160(bad, 33, h);
    cw_span w[2] = {{fake_sig, 72}, {bad, 33}};
    hand_input hi;
    build(&hi, NULL, 0, w, 2);
    resolve(&hi, CW_ADDR_P2WPKH, h);
    cw_pubkey k;
    cr_assert_eq(cw_reveal_input(&hi.in, &k, NULL), CW_REVEAL_BAD_KEY);
}

Test(keylink, p2pkh_spend_compressed_and_uncompressed)
{
    cw_pubkey g = key_hex(G_COMP);
    uint8_t hc[20], hu[20];
    cw_hash160(g.compressed, 33, hc);
    cw_hash160(g.uncompressed, 65, hu);
    cw_pubkey k;
    cw_revealed_by by;
    hand_input hi;
    cw_span ss[2] = {{fake_sig, 72}, {g.uncompressed, 65}};
    build(&hi, ss, 2, NULL, 0);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_UNCHECKED);
    cr_assert_eq(by, CW_REVEALED_BY_P2PKH);
    resolve(&hi, CW_ADDR_P2PKH, hu);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_KEY);
    cr_assert_eq(memcmp(k.compressed, g.compressed, 33), 0);
    resolve(&hi, CW_ADDR_P2PKH, hc); /* the same key, but the other encoding was paid */
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_MISMATCH);
    ss[1] = (cw_span){g.compressed, 33};
    build(&hi, ss, 2, NULL, 0);
    resolve(&hi, CW_ADDR_P2PKH, hc);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_KEY);
    /* three pushes, one push, a non-push opcode, a push running past the end */
    cw_span s3[3] = {{fake_sig, 72}, {g.compressed, 33}, {g.compressed, 33}};
    build(&hi, s3, 3, NULL, 0);
    resolve(&hi, CW_ADDR_P2PKH, hc);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_NONE);
    build(&hi, ss + 1, 1, NULL, 0);
    resolve(&hi, CW_ADDR_P2PKH, hc);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_NONE);
    build(&hi, ss, 2, NULL, 0);
    resolve(&hi, CW_ADDR_P2PKH, hc);
    hi.sig[0] = 0xac; /* OP_CHECKSIG where the signature push was */
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_NONE);
    build(&hi, ss, 2, NULL, 0);
    resolve(&hi, CW_ADDR_P2PKH, hc);
    hi.in.script_sig.n -= 1; /* the key push runs past the end */
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_NONE);
    /* a P2PKH shape with a witness is not a P2PKH spend */
    cw_span w[1] = {{fake_sig, 72}};
    build(&hi, ss, 2, w, 1);
    resolve(&hi, CW_ADDR_P2PKH, hc);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_NONE);
}

Test(keylink, p2sh_p2wpkh_spend_is_checked_against_its_redeem_script)
{
    cw_pubkey g = key_hex(G_COMP), three = key_hex("02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9");
    uint8_t redeem[22] = {0x00, 0x14}, sh[20];
    cw_hash160(g.compressed, 33, redeem + 2);
    cw_hash160(redeem, 22, sh);
    cw_span ss[1] = {{redeem, 22}};
    cw_span w[2] = {{fake_sig, 72}, {g.compressed, 33}};
    hand_input hi;
    cw_pubkey k;
    cw_revealed_by by;
    build(&hi, ss, 1, w, 2);
    /* the tx commits the key itself: counted with the prevout unknown */
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_KEY);
    cr_assert_eq(by, CW_REVEALED_BY_P2SH_P2WPKH);
    cw_addr f[CW_FORM_COUNT];
    cr_assert_eq(cw_pubkey_forms(&k, CW_NET_MAIN, CW_FORMS_ALL, f, NULL), CW_OK);
    cr_assert_str_eq(text(&f[CW_FORM_P2SH_P2WPKH]), "3JvL6Ymt8MVWiCNHC7oWU6nLeHNJKLZGLN");
    cr_assert_eq(memcmp(f[CW_FORM_P2SH_P2WPKH].payload, sh, 20), 0);
    resolve(&hi, CW_ADDR_P2SH, sh);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_KEY);
    uint8_t other[20] = {1};
    resolve(&hi, CW_ADDR_P2SH, other);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_MISMATCH, "a known prevout must be this redeem script's");
    /* a witness key that is not the one the redeem script commits to */
    w[1] = (cw_span){three.compressed, 33};
    build(&hi, ss, 1, w, 2);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_MISMATCH);
    /* no witness: not this shape */
    build(&hi, ss, 1, NULL, 0);
    cr_assert_eq(cw_reveal_input(&hi.in, &k, &by), CW_REVEAL_NONE);
}

Test(keylink, p2pk_outputs)
{
    cw_pubkey g = key_hex(G_COMP);
    uint8_t s[67];
    cw_txout o;
    memset(&o, 0, sizeof o);
    s[0] = 65;
    memcpy(s + 1, g.uncompressed, 65);
    s[66] = 0xac;
    o.script = (cw_span){s, 67};
    cw_pubkey k;
    cr_assert_eq(cw_reveal_output(&o, &k), CW_REVEAL_KEY);
    cr_assert_eq(memcmp(k.compressed, g.compressed, 33), 0);
    s[0] = 33;
    memcpy(s + 1, g.compressed, 33);
    s[34] = 0xac;
    o.script.n = 35;
    cr_assert_eq(cw_reveal_output(&o, &k), CW_REVEAL_KEY);
    s[33] ^= 0xff; /* most x have a point, this one need not: check the real answer */
    cw_reveal r = cw_reveal_output(&o, &k);
    cr_assert(r == CW_REVEAL_KEY || r == CW_REVEAL_BAD_KEY);
    s[1] = 0x05; /* not a key prefix */
    cr_assert_eq(cw_reveal_output(&o, &k), CW_REVEAL_BAD_KEY);
    s[34] = 0xad; /* not OP_CHECKSIG */
    cr_assert_eq(cw_reveal_output(&o, &k), CW_REVEAL_NONE);
    o.script.n = 0;
    cr_assert_eq(cw_reveal_output(&o, &k), CW_REVEAL_NONE);
}

/* ---------- real blocks ---------- */


/* Mainnet blocks 514485 and 514492: every input "resolved" to the address
 * its own bytes hash to (hint.h), as the prevout index resolves a spend of
 * a real output. Counts by shape from tests/chains/keylink_oracle.py's
 * count_block (its own tx parser and on-curve check); every key found
 * must be a valid point whose forms include the address it spends, and
 * with the prevouts unknown only the P2SH-P2WPKH ones count. */
static void real_block(const char *rel, size_t want_tx, size_t want_pkh, size_t want_wpkh, size_t want_sh)
{
    size_t len;
    uint8_t *raw = fixture(rel, &len);
    cw_arena arena = test_arena(len);
    btc_block b;
    cw_err err;
    cr_assert_eq(btc_block_open(raw, len, CW_NET_MAIN, &b, &err), CW_OK, "%s", err.msg);
    size_t ntx = 0, by[8] = {0}, unchecked_keys = 0, other = 0;
    while (b.next < b.tx_count) {
        cw_tx tx;
        cr_assert_eq(btc_block_next(&b, &arena, &tx, &err), CW_OK, "%s", err.msg);
        ntx++;
        for (size_t i = 0; !(tx.flags & CW_TX_COINBASE) && i < tx.n_in; i++) {
            cw_txin in = tx.in[i];
            cw_pubkey k;
            cw_revealed_by how;
            cw_reveal r = cw_reveal_input(&in, &k, &how);
            if (r == CW_REVEAL_KEY)
                unchecked_keys++;
            in.resolved = btc_input_hint(&tx.in[i], CW_NET_MAIN, &in.addr);
            r = cw_reveal_input(&in, &k, &how);
            if (r != CW_REVEAL_KEY) {
                cr_assert(r == CW_REVEAL_NONE, "input %zu of tx %zu: %d", i, ntx, r);
                other++;
                continue;
            }
            by[how]++;
            cw_addr f[CW_FORM_COUNT];
            cr_assert_eq(cw_pubkey_forms(&k, CW_NET_MAIN, CW_FORMS_ALL, f, NULL), CW_OK);
            bool found = false;
            for (int x = 0; x < CW_FORM_COUNT; x++)
                found |= cw_addr_eq(&f[x], &in.addr);
            cr_assert(found, "tx %zu input %zu: the key's forms hold what it spends", ntx, i);
        }
    }
    cr_assert_eq(ntx, want_tx);
    cr_assert_eq(by[CW_REVEALED_BY_P2PKH], want_pkh);
    cr_assert_eq(by[CW_REVEALED_BY_P2WPKH], want_wpkh);
    cr_assert_eq(by[CW_REVEALED_BY_P2SH_P2WPKH], want_sh);
    cr_assert_eq(unchecked_keys, want_sh, "unresolved, only the self-committing shape counts");
    cr_assert_gt(other, 0, "multisig and other spends reveal nothing here");
    free(arena.base);
    free(raw);
}

Test(keylink, real_block_514485_every_revealed_key)
{
    real_block(BLOCK_514485, 2165, 3349, 205, 558);
}

Test(keylink, real_block_514492_every_revealed_key)
{
    real_block(BLOCK_514492, 1044, 2572, 74, 842);
}
