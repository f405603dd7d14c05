#include "hint.h"

#include <string.h>

#include "chains/hash.h"
#include "script.h"
#include "tx.h"

/* A DER signature with its sighash byte: 0x30 <len> ... as Core's
 * IsValidSignatureEncoding frames it (lengths only). */
static bool looks_like_sig(const uint8_t *p, size_t n)
{
    return n >= 9 && n <= 73 && p[0] == 0x30 && p[1] == n - 3;
}

/* A taproot control block: leaf version byte then 32 + 32k bytes. */
static bool looks_like_control_block(const uint8_t *p, size_t n)
{
    return n >= 33 && n <= 33 + 128 * 32 && (n - 33) % 32 == 0 && (p[0] & 0xfe) == 0xc0;
}

static bool hint_from_witness(const cw_txin *in, cw_net net, cw_addr *out)
{
    cw_span last = {0}, first = {0}, item;
    uint32_t k = 0;
    btc_witness_iter it;
    btc_witness_begin(in, &it);
    while (btc_witness_next(&it, &item)) {
        if (k++ == 0)
            first = item;
        last = item;
    }
    if (k == 0)
        return false;
    if (k == 2 && last.n == 33 && btc_pubkey_plausible(last.p, last.n) && looks_like_sig(first.p, first.n)) {
        uint8_t h[20];
        cw_hash160(last.p, last.n, h);
        cw_addr_set(out, CW_CHAIN_BITCOIN, net, CW_ADDR_P2WPKH, 0, h, 20);
        return true;
    }
    /* Taproot: one item (key path) or an annex or control block last. */
    if (k == 1 && (last.n == 64 || last.n == 65))
        return false;
    if (k >= 2 && last.n > 0 && last.p[0] == 0x50)
        return false; /* annex: only taproot spends have one */
    if (k >= 2 && looks_like_control_block(last.p, last.n))
        return false;
    if (k >= 2 && last.n > 0) {
        uint8_t h[32];
        cw_sha256(last.p, last.n, h);
        cw_addr_set(out, CW_CHAIN_BITCOIN, net, CW_ADDR_P2WSH, 0, h, 32);
        return true;
    }
    return false;
}

bool btc_input_hint(const cw_txin *in, cw_net net, cw_addr *out)
{
    const uint8_t *s = in->script_sig.p;
    size_t n = in->script_sig.n;
    if (n == 0)
        return in->witness_items > 0 && hint_from_witness(in, net, out);

    /* Collect the pushes; a scriptSig with any other opcode gives no hint. */
    const uint8_t *d[3] = {0};
    size_t l[3] = {0}, count = 0, pos = 0;
    const uint8_t *last = NULL;
    size_t last_len = 0;
    while (pos < n) {
        const uint8_t *pd;
        size_t pl;
        if (!btc_script_next_push(s, n, &pos, &pd, &pl))
            return false;
        if (count < 3) {
            d[count] = pd;
            l[count] = pl;
        }
        count++;
        last = pd;
        last_len = pl;
    }
    uint8_t h[20];
    if (count == 1 && ((l[0] == 22 && d[0][0] == 0x00 && d[0][1] == 20) ||
                       (l[0] == 34 && d[0][0] == 0x00 && d[0][1] == 32))) {
        cw_hash160(d[0], l[0], h); /* nested segwit: the push is the redeem script */
        cw_addr_set(out, CW_CHAIN_BITCOIN, net, CW_ADDR_P2SH, 0, h, 20);
        return true;
    }
    if (count == 2 && looks_like_sig(d[0], l[0]) && btc_pubkey_plausible(d[1], l[1])) {
        cw_hash160(d[1], l[1], h);
        cw_addr_set(out, CW_CHAIN_BITCOIN, net, CW_ADDR_P2PKH, 0, h, 20);
        return true;
    }
    /* P2SH multisig and friends: OP_0 (the CHECKMULTISIG dummy), signatures,
     * then the redeem script as the last push. */
    if (count >= 3 && s[0] == 0x00 && last_len > 0 && !looks_like_sig(last, last_len)) {
        cw_hash160(last, last_len, h);
        cw_addr_set(out, CW_CHAIN_BITCOIN, net, CW_ADDR_P2SH, 0, h, 20);
        return true;
    }
    return false;
}
