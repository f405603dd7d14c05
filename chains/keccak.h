/*
 * keccak.h: Keccak-256 as Ethereum uses it (the original Keccak padding
 * 0x01, not SHA3-256's 0x06). No Debian C library in bookworm exposes it,
 * so it is the one hash written here; checked against published vectors.
 *
 * cw_keccak256 hashes one buffer. The incremental form (init, update any
 * number of times, final) lets the Ethereum encoder hash a signing payload
 * piece by piece (a new list header, then spans of the caller's input)
 * without copying it into a buffer.
 */
#ifndef CW_KECCAK_H
#define CW_KECCAK_H

#include <stddef.h>
#include <stdint.h>

void cw_keccak256(const void *p, size_t n, uint8_t out[32]);

/* State of an incremental hash; plain data, the caller owns it. */
typedef struct {
    uint64_t s[25];
    uint8_t buf[136]; /* one rate block */
    size_t n;         /* bytes in buf */
} cw_keccak_ctx;

void cw_keccak256_init(cw_keccak_ctx *c);
void cw_keccak256_update(cw_keccak_ctx *c, const void *p, size_t n);
/* Writes the digest; the context must be initialised again before reuse. */
void cw_keccak256_final(cw_keccak_ctx *c, uint8_t out[32]);

#endif
