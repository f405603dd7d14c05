/*
 * base58.h: Base58 and Base58Check (Bitcoin alphabet).
 */
#ifndef CW_BTC_BASE58_H
#define CW_BTC_BASE58_H

#include <stddef.h>
#include <stdint.h>

#include "chains/err.h"

/* Longest input we encode or decode; addresses and keys are far shorter. */
#define BASE58_MAX_BYTES 128

/* Encodes n bytes (n <= BASE58_MAX_BYTES) into out; returns the text length,
 * or 0 when out (cap bytes incl. NUL) is too small or n too large. */
size_t base58_encode(const uint8_t *p, size_t n, char *out, size_t cap);
/* base58(p || first 4 bytes of SHA256d(p)). Same return convention. */
size_t base58check_encode(const uint8_t *p, size_t n, char *out, size_t cap);

/* Decodes text of `len` chars. Refuses characters outside the alphabet
 * (naming the position), whitespace, and results over cap. */
cw_code base58_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n_out, cw_err *err);
/* Decodes and verifies the 4-byte checksum; *n_out excludes it. */
cw_code base58check_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n_out, cw_err *err);

#endif
