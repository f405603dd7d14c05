#include <string.h>

#include "addr.h"
#include "chains/bitcoin/base58.h"
#include "chains/bitcoin/bech32.h"
#include "chains/bitcoin/params.h"
#include "hex.h"
#include "keccak.h"

/* EIP-55: uppercase a hex letter when the matching nibble of
 * keccak256(lowercase hex) is 8 or more. */
static size_t format_evm(const uint8_t payload[20], char *out, size_t cap)
{
    if (cap < 43)
        return 0;
    char hex[41];
    uint8_t h[32];
    cw_hex_encode(payload, 20, hex);
    cw_keccak256(hex, 40, h);
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 40; i++) {
        int nib = (h[i / 2] >> (i % 2 ? 0 : 4)) & 15;
        out[2 + i] = (hex[i] >= 'a' && nib >= 8) ? (char)(hex[i] - 32) : hex[i];
    }
    out[42] = '\0';
    return 42;
}

size_t cw_addr_format(const cw_addr *a, char *out, size_t cap)
{
    if (a->chain == CW_CHAIN_EVM && a->kind == CW_ADDR_EVM && a->len == 20)
        return format_evm(a->payload, out, cap);
    if (a->chain == CW_CHAIN_TRON && a->kind == CW_ADDR_TRON && a->len == 20) {
        uint8_t buf[21] = {0x41};
        memcpy(buf + 1, a->payload, 20);
        return base58check_encode(buf, sizeof buf, out, cap);
    }
    if (a->chain != CW_CHAIN_BITCOIN)
        return 0;
    const btc_params *p = btc_params_for((cw_net)a->net);
    if (p == NULL)
        return 0;
    switch ((cw_addr_kind)a->kind) {
    case CW_ADDR_P2PKH:
    case CW_ADDR_P2SH: {
        if (a->len != 20)
            return 0;
        uint8_t buf[21];
        buf[0] = a->kind == CW_ADDR_P2PKH ? p->p2pkh : p->p2sh;
        memcpy(buf + 1, a->payload, 20);
        return base58check_encode(buf, sizeof buf, out, cap);
    }
    case CW_ADDR_P2WPKH:
    case CW_ADDR_P2WSH:
    case CW_ADDR_P2TR:
    case CW_ADDR_WITNESS:
        return segwit_addr_encode(p->hrp, a->version, a->payload, a->len, out, cap);
    case CW_ADDR_NONE:
    case CW_ADDR_EVM:
    case CW_ADDR_TRON:
        break;
    }
    return 0;
}
