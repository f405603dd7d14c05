/*
 * rlp.h: Ethereum's Recursive Length Prefix encoding, a strict reader and a
 * small writer.
 *
 * Design note
 * - The reader never recurses and never allocates: an `eth_rlp` walks the
 *   items of one list (or of the top level) left to right; entering a list
 *   gives a new reader over its payload, one level deeper. Items are spans
 *   into the caller's buffer, which must outlive them.
 * - Strict means exactly one encoding is accepted for every value, as geth's
 *   rlp package and the consensus rules require: a single byte below 0x80 is
 *   never wrapped in a 0x81 string; lengths up to 55 use the short form;
 *   long-form lengths have no leading zero byte and are above 55; integers
 *   (eth_rlp_uint64, eth_rlp_u256) have no leading zero byte and zero is the
 *   empty string 0x80. Every error names the byte offset (relative to the
 *   start of the input given to eth_rlp_init) and the field being read.
 * - Limits: an item's length above ETH_RLP_LEN_MAX is CW_ELIMIT, one that
 *   runs past its enclosing list or the input is CW_ETRUNC, and lists
 *   nest at most ETH_RLP_DEPTH_MAX deep (CW_ELIMIT), so hostile input is
 *   refused in time linear in its length and constant stack.
 * - The writer appends to a caller-owned buffer and/or feeds a Keccak
 *   context, so the signing hash of a tx is computed without a copy. A
 *   list's payload length must be known before its header is written: use
 *   the eth_rlp_size_* functions to add it up.
 */
#ifndef CW_ETH_RLP_H
#define CW_ETH_RLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/err.h"
#include "chains/keccak.h"
#include "chains/model.h"
#include "chains/u256.h"

/* Longest item accepted (payload bytes): 2^31 - 1, above any block or tx. */
#define ETH_RLP_LEN_MAX 0x7fffffffu
/* Deepest list nesting accepted (the top level is depth 0; a tx needs 5). */
#define ETH_RLP_DEPTH_MAX 16

/* A reader over the items of one list (or of the whole input). */
typedef struct {
    const uint8_t *base; /* start of the whole input: error offsets are relative to it */
    size_t pos;          /* next item's offset from base */
    size_t end;          /* end of this list's payload (offset from base) */
    unsigned depth;      /* 0 for the top level, +1 per list entered */
} eth_rlp;

/* One item as read: a byte string or a list. */
typedef struct {
    bool is_list;
    size_t off;      /* offset of the item's first (header) byte from base */
    size_t size;     /* header plus payload: the whole encoded item */
    cw_span payload; /* the string's bytes, or the list's encoded items */
} eth_rlp_item;

/* Reads buf[0..len) as a sequence of items at depth 0. */
void eth_rlp_init(eth_rlp *r, const uint8_t *buf, size_t len);

/* True when no item is left in this list. */
static inline bool eth_rlp_done(const eth_rlp *r) { return r->pos >= r->end; }

/* Reads the next item of any kind. `field` names it in errors ("nonce").
 * CW_ETRUNC when the list has no item left ("field missing") or the item
 * runs past the list; CW_EFORMAT for a non-canonical header; CW_ELIMIT for
 * a length above ETH_RLP_LEN_MAX. On error r is unchanged. */
cw_code eth_rlp_next(eth_rlp *r, const char *field, eth_rlp_item *it, cw_err *err);

/* The next item must be a byte string; its bytes in *out. */
cw_code eth_rlp_bytes(eth_rlp *r, const char *field, cw_span *out, cw_err *err);
/* The next item must be a string of exactly n bytes, copied to out (an
 * address: n = 20, a hash: 32). A string of another length is CW_EFORMAT
 * naming both lengths. */
cw_code eth_rlp_fixed(eth_rlp *r, const char *field, size_t n, uint8_t *out, cw_err *err);
/* The next item must be a canonical integer: a string of at most 8 (32)
 * bytes without a leading zero byte. More bytes is CW_ELIMIT ("above
 * 2^64-1"); a leading zero is CW_EFORMAT. */
cw_code eth_rlp_uint64(eth_rlp *r, const char *field, uint64_t *out, cw_err *err);
cw_code eth_rlp_u256(eth_rlp *r, const char *field, cw_u256 *out, cw_err *err);
/* The next item must be a list: *sub reads its items one level deeper
 * (CW_ELIMIT past ETH_RLP_DEPTH_MAX); *item (may be NULL) is the whole
 * list item. A string is CW_EFORMAT ("expected a list"). */
cw_code eth_rlp_list(eth_rlp *r, const char *field, eth_rlp *sub, eth_rlp_item *item, cw_err *err);
/* The list must have no item left: CW_EFORMAT ("extra item after ...",
 * naming `what`) otherwise. */
cw_code eth_rlp_end(const eth_rlp *r, const char *what, cw_err *err);

/* Checks that buf[0..len) is exactly one well-formed item, every nested
 * item canonical and within the limits; CW_OK or the first error. */
cw_code eth_rlp_check(const uint8_t *buf, size_t len, cw_err *err);

/* ---- writer ---- */

/* Appends to p[0..cap) when p is not NULL and feeds `hash` when not NULL.
 * `n` counts every byte written, also past cap: after the last write,
 * `overflow` says the buffer was too small and `n` is the size needed. */
typedef struct {
    uint8_t *p;
    size_t cap;
    size_t n;
    bool overflow;
    cw_keccak_ctx *hash;
} eth_rlp_w;

void eth_rlp_w_init(eth_rlp_w *w, uint8_t *buf, size_t cap, cw_keccak_ctx *hash);
/* Raw bytes (an already encoded item, a type byte). */
void eth_rlp_w_raw(eth_rlp_w *w, const void *p, size_t n);
/* A byte string item (a single byte < 0x80 is written as itself). */
void eth_rlp_w_bytes(eth_rlp_w *w, const void *p, size_t n);
/* Integers in their canonical (shortest big-endian) form; 0 is 0x80. */
void eth_rlp_w_uint64(eth_rlp_w *w, uint64_t v);
void eth_rlp_w_u256(eth_rlp_w *w, const cw_u256 *v);
/* The header of a list whose items take payload_len bytes; the caller
 * then writes exactly those items. */
void eth_rlp_w_list(eth_rlp_w *w, size_t payload_len);

/* Encoded sizes, to add up a list's payload before writing its header. */
size_t eth_rlp_size_bytes(const void *p, size_t n);
size_t eth_rlp_size_uint64(uint64_t v);
size_t eth_rlp_size_u256(const cw_u256 *v);
size_t eth_rlp_size_list(size_t payload_len);

#endif
