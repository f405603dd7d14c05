#include <ctype.h>
#include <string.h>

#include "addr.h"
#include "chains/bitcoin/base58.h"
#include "chains/bitcoin/bech32.h"
#include "chains/bitcoin/params.h"
#include "hex.h"
#include "keccak.h"

/* 0x + 40 hex digits. All-lower or all-upper carries no checksum; mixed
 * case must match EIP-55, or it is a typo. */
static cw_code parse_evm(const char *s, cw_addr *out, char *canon, cw_err *err)
{
    size_t len = strlen(s);
    if (len != 42)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "wrong length: EVM address of %zu characters (42 expected)",
                          len);
    uint8_t payload[20];
    size_t n;
    cw_code rc = cw_hex_decode(s + 2, 40, payload, sizeof payload, &n, err);
    if (rc)
        return cw_err_set(err, CW_EFORMAT, err ? err->offset + 2 : 0, "EVM address: character %zu is not hex",
                          err ? err->offset + 2 : 0);
    bool lower = false, upper = false;
    for (size_t i = 2; i < 42; i++) {
        lower |= s[i] >= 'a' && s[i] <= 'f';
        upper |= s[i] >= 'A' && s[i] <= 'F';
    }
    cw_addr_set(out, CW_CHAIN_EVM, CW_NET_MAIN, CW_ADDR_EVM, 0, payload, 20);
    if (lower && upper) {
        char mine[CW_ADDR_TEXT_MAX];
        char *c = canon ? canon : mine;
        cw_addr_format(out, c, CW_ADDR_TEXT_MAX);
        if (strcmp(c + 2, s + 2) != 0)
            return cw_err_set(err, CW_ECHECKSUM, CW_NO_OFFSET, "EVM address: bad checksum (EIP-55 mixed case)");
    } else if (canon) {
        cw_addr_format(out, canon, CW_ADDR_TEXT_MAX);
    }
    return CW_OK;
}

/* Tron's hex form, as java-tron's API prints addresses without visible=true:
 * "41" + 40 hex digits (either case). No base58 address is 42 characters
 * long (21 bytes and a 4-byte checksum are 33 or 34), so the two forms
 * cannot be confused. */
static cw_code parse_tron_hex(const char *s, cw_addr *out, cw_err *err)
{
    uint8_t payload[21];
    size_t n;
    cw_err herr;
    if (cw_hex_decode(s, 42, payload, sizeof payload, &n, &herr))
        return cw_err_set(err, CW_EFORMAT, herr.offset, "Tron hex address: character %zu is not hex", herr.offset);
    cw_addr_set(out, CW_CHAIN_TRON, CW_NET_MAIN, CW_ADDR_TRON, 0, payload + 1, 20);
    return CW_OK;
}

/* The address space a segwit HRP belongs to. */
static bool space_of_hrp(const char *hrp, cw_net *space)
{
    if (strcmp(hrp, "bc") == 0) { *space = CW_NET_MAIN; return true; }
    if (strcmp(hrp, "tb") == 0) { *space = CW_NET_TEST; return true; }
    if (strcmp(hrp, "bcrt") == 0) { *space = CW_NET_REGTEST; return true; }
    return false;
}

/* Does the text start with a known HRP and its separator (any case)? */
static bool has_segwit_prefix(const char *s)
{
    static const char *const prefixes[] = {"bcrt1", "bc1", "tb1"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        size_t n = strlen(prefixes[i]);
        if (strlen(s) < n)
            continue;
        size_t k = 0;
        while (k < n && tolower((unsigned char)s[k]) == prefixes[i][k])
            k++;
        if (k == n)
            return true;
    }
    return false;
}

static cw_code wrong_net(cw_err *err, cw_net got, int want)
{
    return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "address is for %s, not %s", cw_net_name(got),
                      cw_net_name((cw_net)want));
}

static cw_code parse_segwit(const char *s, int net, cw_addr *out, cw_err *err)
{
    char hrp[BECH32_HRP_MAX + 1];
    uint8_t prog[40];
    size_t plen;
    int ver;
    cw_code rc = segwit_addr_decode(s, hrp, &ver, prog, &plen, err);
    if (rc)
        return rc;
    cw_net space;
    if (!space_of_hrp(hrp, &space))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "unknown prefix: human-readable part '%s'", hrp);
    if (net != CW_NET_ANY && cw_net_space((cw_net)net) != space)
        return wrong_net(err, space, net);
    cw_addr_kind kind = CW_ADDR_WITNESS;
    if (ver == 0)
        kind = plen == 20 ? CW_ADDR_P2WPKH : CW_ADDR_P2WSH;
    else if (ver == 1 && plen == 32)
        kind = CW_ADDR_P2TR;
    cw_addr_set(out, CW_CHAIN_BITCOIN, space, kind, ver, prog, plen);
    return CW_OK;
}

static cw_code parse_base58(const char *s, int net, cw_addr *out, cw_err *err)
{
    uint8_t buf[BASE58_MAX_BYTES];
    size_t n;
    cw_code rc = base58check_decode(s, strlen(s), buf, sizeof buf, &n, err);
    if (rc)
        return rc;
    if (n != 21)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "wrong length: base58 payload of %zu bytes (21 expected)",
                          n);
    if (buf[0] == 0x41) { /* Tron: 0x41 + the 20-byte account, every Tron network */
        cw_addr_set(out, CW_CHAIN_TRON, CW_NET_MAIN, CW_ADDR_TRON, 0, buf + 1, 20);
        return CW_OK;
    }
    const btc_params *main = btc_params_for(CW_NET_MAIN), *test = btc_params_for(CW_NET_TEST);
    cw_net space;
    cw_addr_kind kind;
    if (buf[0] == main->p2pkh || buf[0] == main->p2sh) {
        space = CW_NET_MAIN;
        kind = buf[0] == main->p2pkh ? CW_ADDR_P2PKH : CW_ADDR_P2SH;
    } else if (buf[0] == test->p2pkh || buf[0] == test->p2sh) {
        space = net == CW_NET_REGTEST ? CW_NET_REGTEST : CW_NET_TEST; /* same version bytes */
        kind = buf[0] == test->p2pkh ? CW_ADDR_P2PKH : CW_ADDR_P2SH;
    } else {
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "unknown prefix: base58 version byte 0x%02x", buf[0]);
    }
    if (net != CW_NET_ANY && cw_net_space((cw_net)net) != space)
        return wrong_net(err, space, net);
    cw_addr_set(out, CW_CHAIN_BITCOIN, space, kind, 0, buf + 1, 20);
    return CW_OK;
}

/* canon: NULL, or CW_ADDR_TEXT_MAX bytes for the canonical text */
static cw_code parse_any(const char *text, int net, cw_addr *out, char *canon, cw_err *err)
{
    size_t len = strlen(text);
    if (len == 0)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "empty address");
    if (len >= CW_ADDR_TEXT_MAX)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "address of %zu characters is too long", len);
    for (size_t i = 0; i < len; i++)
        if (isspace((unsigned char)text[i]))
            return cw_err_set(err, CW_EFORMAT, i, "whitespace at character %zu", i);
    if (net != CW_NET_ANY && btc_params_for((cw_net)net) == NULL)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "unknown network %d", net);
    cw_code rc;
    if (has_segwit_prefix(text)) {
        /* bech32/bech32m: one encoding of the HRP and data, in either case
         * (never mixed, segwit_addr_decode refuses it); canonical lowercase */
        if ((rc = parse_segwit(text, net, out, err)) == CW_OK && canon)
            for (size_t i = 0; i <= len; i++)
                canon[i] = (char)tolower((unsigned char)text[i]);
        return rc;
    }
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        return parse_evm(text, out, canon, err);
    if (len == 42 && text[0] == '4' && text[1] == '1') {
        if ((rc = parse_tron_hex(text, out, err)) == CW_OK && canon)
            cw_addr_format(out, canon, CW_ADDR_TEXT_MAX); /* the T... form */
        return rc;
    }
    rc = parse_base58(text, net, out, err);
    if (rc == CW_OK && canon) /* base58check is one text per payload: the text */
        memcpy(canon, text, len + 1);
    if (rc == CW_EFORMAT && strchr(text, '1') != NULL) {
        /* Not base58: maybe bech32 with a prefix we do not know. */
        char hrp[BECH32_HRP_MAX + 1];
        uint8_t data[BECH32_MAX_LEN];
        size_t n;
        bech32_variant v;
        if (bech32_decode(text, hrp, data, &n, &v, NULL) == CW_OK)
            return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "unknown prefix: human-readable part '%s'", hrp);
    }
    return rc;
}

cw_code cw_addr_parse(const char *text, int net, cw_addr *out, cw_err *err)
{
    return parse_any(text, net, out, NULL, err);
}

cw_code cw_addr_parse_canon(const char *text, int net, cw_addr *out, char canon[CW_ADDR_TEXT_MAX], cw_err *err)
{
    return parse_any(text, net, out, canon, err);
}
