/*
 * params.h: per-network constants of Bitcoin: block-file magic, base58
 * version bytes, segwit HRP.
 */
#ifndef CW_BTC_PARAMS_H
#define CW_BTC_PARAMS_H

#include <stdint.h>

#include "chains/model.h"

typedef struct {
    cw_net net;
    const char *name;
    uint8_t magic[4];    /* blk*.dat record and p2p message start */
    uint8_t p2pkh;       /* base58 version byte */
    uint8_t p2sh;
    const char *hrp;     /* bech32 human-readable part */
} btc_params;

/* Never NULL for a valid cw_net; NULL otherwise. */
const btc_params *btc_params_for(cw_net net);
/* The network whose magic these 4 bytes are, or false. */
bool btc_net_from_magic(const uint8_t magic[4], cw_net *out);

#endif
