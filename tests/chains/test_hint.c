/* Input hints checked against the real prevouts: every block a Bitcoin Core
 * v30 regtest node wrote (its blk00000.dat, xor-obfuscated), and the
 * in-block spends of mainnet block 514485. A hint must equal the address of
 * the output it spends whenever that output is known. */
#include <criterion/criterion.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/bitcoin/blkfile.h"
#include "chains/bitcoin/block.h"
#include "chains/bitcoin/hint.h"
#include "chains/bitcoin/tx.h"
#include "chains/hex.h"
#include "monitor/engine/decode.h"
#include "tests/support.h"

typedef struct {
    uint8_t txid[32];
    uint32_t n;
    cw_addr addr;
} outrec;

typedef struct {
    outrec *outs;
    size_t n_outs, cap;
    cw_net net;
    size_t hinted, matched, no_hint, kinds[8];
} spend_ctx;

static const outrec *find_out(const spend_ctx *c, const uint8_t txid[32], uint32_t n)
{
    for (size_t i = 0; i < c->n_outs; i++)
        if (c->outs[i].n == n && memcmp(c->outs[i].txid, txid, 32) == 0)
            return &c->outs[i];
    return NULL;
}

static cw_code on_tx(void *ctx, cw_tx *tx, cw_err *err)
{
    (void)err;
    spend_ctx *c = ctx;
    if (!(tx->flags & CW_TX_COINBASE)) {
        for (size_t i = 0; i < tx->n_in; i++) {
            const outrec *prev = find_out(c, tx->in[i].prev_txid, tx->in[i].prev_vout);
            if (prev == NULL)
                continue;
            cw_addr hint;
            if (!btc_input_hint(&tx->in[i], c->net, &hint)) {
                c->no_hint++;
                continue;
            }
            c->hinted++;
            char a[CW_ADDR_TEXT_MAX] = "", b[CW_ADDR_TEXT_MAX] = "";
            cw_addr_format(&hint, a, sizeof a);
            cw_addr_format(&prev->addr, b, sizeof b);
            cr_assert(cw_addr_eq(&hint, &prev->addr), "input %zu: hint %s, prevout pays %s", i, a, b);
            c->matched++;
            c->kinds[hint.kind]++;
        }
    }
    for (size_t k = 0; k < tx->n_out; k++) {
        if (c->n_outs == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 1024;
            c->outs = realloc(c->outs, c->cap * sizeof *c->outs);
        }
        outrec *o = &c->outs[c->n_outs++];
        memcpy(o->txid, tx->txid, 32);
        o->n = (uint32_t)k;
        o->addr = tx->out[k].addr;
    }
    return CW_OK;
}

Test(hint, regtest_node_blocks)
{
    size_t n, kn;
    uint8_t *raw = fixture("btc/regtest-v30/blk00000.dat.bz2", &n);
    uint8_t *key = fixture("btc/regtest-v30/xor.dat", &kn);
    cr_assert_eq(kn, 8, "xor.dat is 8 raw bytes");
    uint8_t *plain = malloc(n);
    for (size_t i = 0; i < n; i++)
        plain[i] = raw[i] ^ key[i % 8];
    spend_ctx c = {.net = CW_NET_REGTEST};
    block_walker w = {0};
    size_t pos = 0, blocks = 0;
    /* Padding after the last record was never obfuscated: raw zeros end it. */
    while (pos + 8 <= n && memcmp(raw + pos, "\0\0\0\0", 4) != 0) {
        cw_net net;
        cw_span blk;
        bool done;
        cw_err err = {0};
        cr_assert_eq(btc_blk_next(plain, n, &pos, &net, &blk, &done, &err), CW_OK, "%s", err.msg);
        cr_assert_eq(net, CW_NET_REGTEST, "records carry the regtest magic");
        block_summary s;
        cr_assert_eq(decode_block_walk(&w, blk.p, blk.n, net, on_tx, &c, &s, &err), CW_OK, "%s", err.msg);
        cr_assert(s.merkle_ok);
        blocks++;
    }
    cr_assert_eq(pos, 28878, "SOURCES.md: 28,878 bytes of records");
    cr_assert_geq(blocks, 104, "101 mined, 1 confirming, reorg branch, more: got %zu", blocks);
    cr_assert_gt(c.matched, 3, "the wallet's spends carry hints: %zu", c.matched);
    cr_assert_gt(c.kinds[CW_ADDR_P2WPKH], 0, "a Core v30 wallet spends P2WPKH coinbase outputs");
    block_walker_free(&w);
    free(c.outs);
    free(plain);
    free(key);
    free(raw);
}

Test(hint, mainnet_in_block_spends)
{
    size_t n;
    uint8_t *b = fixture(BLOCK_514485, &n);
    spend_ctx c = {.net = CW_NET_MAIN};
    block_walker w = {0};
    block_summary s;
    cw_err err = {0};
    cr_assert_eq(decode_block_walk(&w, b, n, CW_NET_MAIN, on_tx, &c, &s, &err), CW_OK, "%s", err.msg);
    cr_assert_gt(c.matched, 10, "chains of spends inside the block: %zu hinted", c.matched);
    block_walker_free(&w);
    free(c.outs);
    free(b);
}

/* Hand-built inputs for each recognised spend. */
static bool hint_for(const char *script_sig_hex, const char *const *witness_hex, int items, char *text)
{
    size_t sl = 0;
    uint8_t *ss = script_sig_hex[0] ? unhex(script_sig_hex, &sl) : NULL;
    uint8_t wit[4096], *p = wit;
    *p++ = (uint8_t)items;
    for (int i = 0; i < items; i++) {
        size_t l;
        uint8_t *it = unhex(witness_hex[i], &l);
        *p++ = (uint8_t)l;
        memcpy(p, it, l);
        p += l;
        free(it);
    }
    cw_txin in = {.script_sig = {ss, sl}, .witness = {wit, (size_t)(p - wit)}, .witness_items = (uint32_t)items};
    cw_addr a;
    bool ok = btc_input_hint(&in, CW_NET_MAIN, &a);
    text[0] = '\0';
    if (ok)
        cw_addr_format(&a, text, CW_ADDR_TEXT_MAX);
    free(ss);
    return ok;
}

#define SIG "3044022047ac8e878352d3ebbde1c94ce3a10d057c24175747116f8288e5d794d12d482f0220217f36a485cae903c713331d877c1f64677e3622ad4010726870540656fe9dcb01"
#define PK "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"

Test(hint, recognised_spends)
{
    char t[CW_ADDR_TEXT_MAX];
    /* P2PKH: <sig> <G>: hash160(G) = 751e76e8... */
    cr_assert(hint_for("47" SIG "21" PK, NULL, 0, t));
    cr_assert_str_eq(t, "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH");
    /* P2WPKH: witness [sig, G] */
    const char *w1[] = {SIG, PK};
    cr_assert(hint_for("", w1, 2, t));
    cr_assert_str_eq(t, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4");
    /* P2SH-P2WPKH: scriptSig pushes 0014{hash160(G)} */
    cr_assert(hint_for("160014751e76e8199196d454941c45d1b3a323f1433bd6", w1, 2, t));
    cr_assert_eq(t[0], '3');
    /* P2WSH: last item is the witness script; its SHA256 is the program */
    const char *w2[] = {"", SIG, "5121" PK "51ae"};
    cr_assert(hint_for("", w2, 3, t));
    cr_assert_eq(strncmp(t, "bc1q", 4), 0);
    cr_assert_eq(strlen(t), 62, "P2WSH addresses are 62 characters: %s", t);
    /* Taproot key path: one 64-byte signature, nothing to derive */
    const char *w3[] = {"a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4"};
    cr_assert(!hint_for("", w3, 1, t));
    /* P2PK spend: a lone signature says nothing about the key */
    cr_assert(!hint_for("47" SIG, NULL, 0, t));
    /* a scriptSig with a non-push opcode */
    cr_assert(!hint_for("76a9", NULL, 0, t));
}
