/*
 * hex.h: hex text <-> bytes, and the reversed form Bitcoin uses to display
 * 32-byte hashes (txid, block hash).
 */
#ifndef CW_HEX_H
#define CW_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Writes 2n lowercase hex chars and a NUL to out (size >= 2n+1). */
void cw_hex_encode(const uint8_t *p, size_t n, char *out);
/* Like cw_hex_encode, bytes in reverse order (display form of hashes). */
void cw_hex_encode_rev(const uint8_t *p, size_t n, char *out);

/* Decodes `len` hex chars (either case) into out (cap bytes). Refuses an odd
 * length, a non-hex char (naming its position) and output over cap.
 * On success *n_out is the byte count. */
cw_code cw_hex_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n_out, cw_err *err);
/* A 64-char display-order hash into internal order. */
cw_code cw_hex_decode_hash_rev(const char *s, uint8_t out[32], cw_err *err);

/* True when every byte is a hex digit or ASCII whitespace and at least one
 * hex digit is present: how the CLI tells hex input from raw bytes. */
bool cw_looks_like_hex(const uint8_t *p, size_t n);

#endif
