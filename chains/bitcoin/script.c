#include "script.h"

#include <string.h>

enum { OP_0 = 0x00, OP_PUSHDATA1 = 0x4c, OP_PUSHDATA2 = 0x4d, OP_PUSHDATA4 = 0x4e, OP_1NEGATE = 0x4f,
       OP_1 = 0x51, OP_16 = 0x60, OP_RETURN = 0x6a, OP_DUP = 0x76, OP_EQUAL = 0x87, OP_EQUALVERIFY = 0x88,
       OP_HASH160 = 0xa9, OP_CHECKSIG = 0xac, OP_CHECKMULTISIG = 0xae };

bool btc_pubkey_plausible(const uint8_t *p, size_t n)
{
    if (n == 33)
        return p[0] == 0x02 || p[0] == 0x03;
    if (n == 65)
        return p[0] == 0x04 || p[0] == 0x06 || p[0] == 0x07;
    return false;
}

bool btc_script_next_push(const uint8_t *s, size_t n, size_t *pos, const uint8_t **data, size_t *len)
{
    size_t i = *pos;
    if (i >= n)
        return false;
    uint8_t op = s[i++];
    size_t sz;
    if (op <= 0x4b) {
        sz = op;
    } else if (op == OP_PUSHDATA1) {
        if (n - i < 1) return false;
        sz = s[i];
        i += 1;
    } else if (op == OP_PUSHDATA2) {
        if (n - i < 2) return false;
        sz = (size_t)s[i] | (size_t)s[i + 1] << 8;
        i += 2;
    } else if (op == OP_PUSHDATA4) {
        if (n - i < 4) return false;
        sz = (size_t)s[i] | (size_t)s[i + 1] << 8 | (size_t)s[i + 2] << 16 | (size_t)s[i + 3] << 24;
        i += 4;
    } else if (op >= OP_1NEGATE && op <= OP_16) { /* OP_1NEGATE, OP_RESERVED, OP_1..OP_16 */
        sz = 0;
    } else {
        return false;
    }
    if (n - i < sz)
        return false;
    *data = s + i;
    *len = sz;
    *pos = i + sz;
    return true;
}

static bool push_only(const uint8_t *s, size_t n, size_t from)
{
    size_t pos = from;
    const uint8_t *d;
    size_t l;
    while (pos < n)
        if (!btc_script_next_push(s, n, &pos, &d, &l))
            return false;
    return true;
}

/* Bare multisig as Core's MatchMultisig: OP_m, keys of a valid size in any
 * push form, OP_n, OP_CHECKMULTISIG, with 1 <= m <= n <= 16. */
static bool is_multisig(const uint8_t *s, size_t n)
{
    if (n < 3 || s[n - 1] != OP_CHECKMULTISIG)
        return false;
    if (s[0] < OP_1 || s[0] > OP_16 || s[n - 2] < OP_1 || s[n - 2] > OP_16)
        return false;
    int m = s[0] - OP_1 + 1, keys = s[n - 2] - OP_1 + 1, seen = 0;
    size_t pos = 1;
    while (pos < n - 2) {
        const uint8_t *d;
        size_t l;
        if (s[pos] > OP_PUSHDATA4 || !btc_script_next_push(s, n - 2, &pos, &d, &l) || !btc_pubkey_plausible(d, l))
            return false;
        seen++;
    }
    return seen == keys && m <= keys;
}

cw_script_type btc_script_classify(const uint8_t *s, size_t n, cw_net net, cw_addr *addr)
{
    memset(addr, 0, sizeof *addr);
    if (n == 25 && s[0] == OP_DUP && s[1] == OP_HASH160 && s[2] == 20 && s[23] == OP_EQUALVERIFY &&
        s[24] == OP_CHECKSIG) {
        cw_addr_set(addr, CW_CHAIN_BITCOIN, net, CW_ADDR_P2PKH, 0, s + 3, 20);
        return CW_SCRIPT_P2PKH;
    }
    if (n == 23 && s[0] == OP_HASH160 && s[1] == 20 && s[22] == OP_EQUAL) {
        cw_addr_set(addr, CW_CHAIN_BITCOIN, net, CW_ADDR_P2SH, 0, s + 2, 20);
        return CW_SCRIPT_P2SH;
    }
    /* witness program: version opcode then one direct push of 2..40 bytes */
    if (n >= 4 && n <= 42 && (s[0] == OP_0 || (s[0] >= OP_1 && s[0] <= OP_16)) && s[1] + 2u == n) {
        int ver = s[0] == OP_0 ? 0 : s[0] - OP_1 + 1;
        size_t plen = s[1];
        const uint8_t *prog = s + 2;
        if (ver == 0 && plen == 20) {
            cw_addr_set(addr, CW_CHAIN_BITCOIN, net, CW_ADDR_P2WPKH, 0, prog, plen);
            return CW_SCRIPT_P2WPKH;
        }
        if (ver == 0 && plen == 32) {
            cw_addr_set(addr, CW_CHAIN_BITCOIN, net, CW_ADDR_P2WSH, 0, prog, plen);
            return CW_SCRIPT_P2WSH;
        }
        if (ver == 0)
            return CW_SCRIPT_NONSTANDARD; /* v0 of any other length cannot be spent */
        if (ver == 1 && plen == 32) {
            cw_addr_set(addr, CW_CHAIN_BITCOIN, net, CW_ADDR_P2TR, 1, prog, plen);
            return CW_SCRIPT_P2TR;
        }
        cw_addr_set(addr, CW_CHAIN_BITCOIN, net, CW_ADDR_WITNESS, ver, prog, plen);
        if (ver == 1 && plen == 2 && prog[0] == 0x4e && prog[1] == 0x73)
            return CW_SCRIPT_ANCHOR;
        return CW_SCRIPT_WITNESS_UNKNOWN;
    }
    if (n >= 1 && s[0] == OP_RETURN && push_only(s, n, 1))
        return CW_SCRIPT_NULLDATA;
    if ((n == 35 || n == 67) && s[0] == n - 2 && s[n - 1] == OP_CHECKSIG && btc_pubkey_plausible(s + 1, n - 2))
        return CW_SCRIPT_P2PK;
    if (is_multisig(s, n))
        return CW_SCRIPT_MULTISIG;
    return CW_SCRIPT_NONSTANDARD;
}

size_t btc_script_for_addr(const cw_addr *a, uint8_t out[42])
{
    switch ((cw_addr_kind)a->kind) {
    case CW_ADDR_P2PKH:
        out[0] = OP_DUP; out[1] = OP_HASH160; out[2] = 20;
        memcpy(out + 3, a->payload, 20);
        out[23] = OP_EQUALVERIFY; out[24] = OP_CHECKSIG;
        return 25;
    case CW_ADDR_P2SH:
        out[0] = OP_HASH160; out[1] = 20;
        memcpy(out + 2, a->payload, 20);
        out[22] = OP_EQUAL;
        return 23;
    case CW_ADDR_P2WPKH:
    case CW_ADDR_P2WSH:
    case CW_ADDR_P2TR:
    case CW_ADDR_WITNESS:
        if (a->len < 2 || a->len > 40 || a->version > 16)
            return 0;
        out[0] = a->version == 0 ? OP_0 : (uint8_t)(OP_1 + a->version - 1);
        out[1] = a->len;
        memcpy(out + 2, a->payload, a->len);
        return 2u + a->len;
    case CW_ADDR_NONE:
    case CW_ADDR_EVM:
    case CW_ADDR_TRON:
        break;
    }
    return 0;
}
