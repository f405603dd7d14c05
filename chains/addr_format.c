#include <string.h>

#include "addr.h"
#include "bitcoin/base58.h"
#include "bitcoin/bech32.h"
#include "bitcoin/params.h"

size_t cw_addr_format(const cw_addr *a, char *out, size_t cap)
{
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
        break;
    }
    return 0;
}
