/*
 * u256.h: exact unsigned 256-bit integers, the amounts of account chains.
 *
 * Ether values, ERC-20 and TRC-20 amounts are uint256 on chain. Records,
 * screen answers and the exposure tables carry them exactly: as 32-byte
 * big-endian in LMDB and as a decimal string in JSON. There is no floating
 * point anywhere on this path; a share of an amount (the account-chain
 * haircut) is floor(a * num / den) with a 512-bit intermediate.
 *
 * Every function is pure and allocation-free. Arithmetic that can overflow
 * says so (a false return) and leaves *r unchanged: callers turn that into
 * a CW_ELIMIT naming the field, never a wrapped value.
 */
#ifndef CW_U256_H
#define CW_U256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct {
    uint64_t w[4]; /* w[0] is the least significant limb */
} cw_u256;

/* 2^256 - 1 has 78 decimal digits; plus the NUL. */
#define CW_U256_DEC_MAX 79

static inline void cw_u256_set_u64(cw_u256 *r, uint64_t v) { r->w[0] = v; r->w[1] = r->w[2] = r->w[3] = 0; }
static inline bool cw_u256_is_zero(const cw_u256 *a) { return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0; }
/* -1, 0 or 1. */
int cw_u256_cmp(const cw_u256 *a, const cw_u256 *b);
/* True (and *out set) when a fits in 64 bits. */
bool cw_u256_to_u64(const cw_u256 *a, uint64_t *out);

/* Big-endian bytes, n <= 32 (shorter input is left-padded with zeros, as
 * ABI words and RLP integers are). Refuses n > 32 with CW_ELIMIT unless the
 * extra leading bytes are zero (an ABI word is exactly 32 bytes; RLP
 * callers check canonical form themselves). */
cw_code cw_u256_from_be(const uint8_t *p, size_t n, cw_u256 *out, cw_err *err);
void cw_u256_to_be(const cw_u256 *a, uint8_t out[32]);

/* r = a + b; false on overflow (r unchanged). r may alias a or b. */
bool cw_u256_add(cw_u256 *r, const cw_u256 *a, const cw_u256 *b);
/* r = a - b; false when b > a (r unchanged). r may alias a or b. */
bool cw_u256_sub(cw_u256 *r, const cw_u256 *a, const cw_u256 *b);
/* r = floor(a * num / den) computed over 512 bits; false when den is zero
 * or the quotient does not fit in 256 bits (r unchanged). */
bool cw_u256_mul_div(cw_u256 *r, const cw_u256 *a, const cw_u256 *num, const cw_u256 *den);

/* Decimal digits and a NUL; returns the length (1..78). "0" for zero. */
size_t cw_u256_to_dec(const cw_u256 *a, char out[CW_U256_DEC_MAX]);
/* Parses exactly len bytes of decimal digits: no sign, no spaces, no
 * leading zero except "0" itself. CW_EFORMAT names the offending offset;
 * CW_ELIMIT for a value at or above 2^256. */
cw_code cw_u256_from_dec(const char *s, size_t len, cw_u256 *out, cw_err *err);
/* An Ethereum JSON-RPC QUANTITY: "0x" then 1..64 hex digits (either case),
 * no leading zeros except "0x0". CW_EFORMAT otherwise (naming the offset). */
cw_code cw_u256_from_quantity(const char *s, size_t len, cw_u256 *out, cw_err *err);

/* The amount in whole units for people: decimals digits after the point,
 * trailing zeros (and a bare point) dropped: 1500000 with 6 decimals is
 * "1.5", 0 is "0". Writes a NUL; returns the length, or 0 when cap is too
 * small (cap >= CW_U256_DEC_MAX + 2 always suffices for decimals <= 77).
 * For display only: records carry the base-unit decimal string. */
size_t cw_u256_to_units(const cw_u256 *a, unsigned decimals, char *out, size_t cap);

#endif
