/*
 * script.h: output script templates and the addresses they pay to, the
 * reverse (address -> scriptPubKey), and the small script reader that input
 * hints need.
 */
#ifndef CW_BTC_SCRIPT_H
#define CW_BTC_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/model.h"

/* Classifies an output script as Bitcoin Core's Solver does and fills `addr`
 * (kind CW_ADDR_NONE for P2PK, multisig, nulldata and nonstandard) in the
 * address space of `net`. Never fails: any bytes are some script. */
cw_script_type btc_script_classify(const uint8_t *s, size_t n, cw_net net, cw_addr *addr);

/* The scriptPubKey an address pays to; returns its length (<= 42), or 0
 * for an address kind with no Bitcoin script. */
size_t btc_script_for_addr(const cw_addr *addr, uint8_t out[42]);

/* A public key as Core's CPubKey::ValidSize sees it: 33 bytes with 02/03, or
 * 65 bytes with 04/06/07. */
bool btc_pubkey_plausible(const uint8_t *p, size_t n);

/* Walks a script's pushes. Returns false at a non-push opcode or a push that
 * runs past the end; *pos advances past the push; data/len is its payload
 * (empty for OP_0, and for OP_1..OP_16/OP_1NEGATE which push no bytes here). */
bool btc_script_next_push(const uint8_t *s, size_t n, size_t *pos, const uint8_t **data, size_t *len);

#endif
