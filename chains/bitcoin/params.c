#include "params.h"

#include <string.h>

static const btc_params params[CW_NET_COUNT] = {
    {CW_NET_MAIN, "main", {0xf9, 0xbe, 0xb4, 0xd9}, 0x00, 0x05, "bc"},
    {CW_NET_TEST, "test", {0x0b, 0x11, 0x09, 0x07}, 0x6f, 0xc4, "tb"},
    {CW_NET_TESTNET4, "testnet4", {0x1c, 0x16, 0x3f, 0x28}, 0x6f, 0xc4, "tb"},
    {CW_NET_SIGNET, "signet", {0x0a, 0x03, 0xcf, 0x40}, 0x6f, 0xc4, "tb"},
    {CW_NET_REGTEST, "regtest", {0xfa, 0xbf, 0xb5, 0xda}, 0x6f, 0xc4, "bcrt"},
};

const btc_params *btc_params_for(cw_net net)
{
    return (unsigned)net < CW_NET_COUNT ? &params[net] : NULL;
}

bool btc_net_from_magic(const uint8_t magic[4], cw_net *out)
{
    for (int i = 0; i < CW_NET_COUNT; i++) {
        if (memcmp(magic, params[i].magic, 4) == 0) {
            *out = params[i].net;
            return true;
        }
    }
    return false;
}
