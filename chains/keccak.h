/*
 * keccak.h: Keccak-256 as Ethereum uses it (the original Keccak padding
 * 0x01, not SHA3-256's 0x06). No Debian C library in bookworm exposes it,
 * so it is the one hash written here; checked against published vectors.
 */
#ifndef CW_KECCAK_H
#define CW_KECCAK_H

#include <stddef.h>
#include <stdint.h>

void cw_keccak256(const void *p, size_t n, uint8_t out[32]);

#endif
