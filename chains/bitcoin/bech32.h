/*
 * bech32.h: Bech32 (BIP-173) and Bech32m (BIP-350), and segwit addresses.
 *
 * The decoders are strict: they refuse mixed case, characters outside the
 * charset, HRP characters outside 33..126, strings over 90 characters,
 * missing separators, wrong checksums (saying whether the other variant
 * would have matched), and bad 8-to-5 bit padding.
 */
#ifndef CW_BTC_BECH32_H
#define CW_BTC_BECH32_H

#include <stddef.h>
#include <stdint.h>

#include "chains/err.h"

typedef enum { BECH32_NONE = 0, BECH32 = 1, BECH32M = 2 } bech32_variant;

#define BECH32_MAX_LEN 90
#define BECH32_HRP_MAX 83

/* Encodes hrp (lowercase) and 5-bit values into out (cap incl. NUL).
 * Returns the length, or 0 if it would exceed 90 chars or cap. */
size_t bech32_encode(const char *hrp, const uint8_t *data5, size_t n5, bech32_variant v, char *out, size_t cap);

/* Decodes a string. On success: hrp in lowercase (hrp_out, >= 84 bytes),
 * the 5-bit data without the checksum, and which variant's checksum it has. */
cw_code bech32_decode(const char *s, char *hrp_out, uint8_t *data5, size_t *n5, bech32_variant *v, cw_err *err);

/* Segwit address <-> (version, program). encode returns the length or 0. */
size_t segwit_addr_encode(const char *hrp, int version, const uint8_t *prog, size_t prog_len, char *out, size_t cap);
/* Decodes and checks the rules of BIP-173/350 for witness addresses; hrp_out
 * receives the HRP (>= 84 bytes) so the caller can match a network. */
cw_code segwit_addr_decode(const char *s, char *hrp_out, int *version, uint8_t prog[40], size_t *prog_len,
                           cw_err *err);

#endif
