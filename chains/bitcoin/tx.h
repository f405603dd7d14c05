/*
 * tx.h: Bitcoin transactions (legacy and BIP-144 segwit serialization) into
 * the chain-neutral cw_tx.
 *
 * The decoder is pure: no I/O, no globals, no malloc. Scripts and witnesses
 * are spans into `buf`, which must outlive the tx; the input and output
 * arrays come from `arena` (size it with btc_arena_bound()).
 *
 * It refuses what Bitcoin Core's deserializer refuses: truncation, compact
 * sizes that are non-minimal or over 0x02000000, an unknown segwit flag, a
 * witness flag with no witness data; and, as Core's CheckTransaction
 * (consensus/tx_check.cpp), an output value outside 0..BTC_MAX_MONEY or
 * outputs whose running total passes BTC_MAX_MONEY (CW_ELIMIT, naming the
 * output and its value), which no valid tx carries: a block holding such a
 * tx is invalid and is refused with it. Every error names the byte offset
 * and the field.
 */
#ifndef CW_BTC_TX_H
#define CW_BTC_TX_H

#include <stddef.h>
#include <stdint.h>

#include "chains/model.h"

#define BTC_MAX_MONEY 2100000000000000ull

/* Arena bytes that always suffice to parse any tx (or every tx of a block,
 * one after the other without reset) from `len` input bytes. */
size_t btc_arena_bound(size_t len);

/* Parses exactly one tx from buf[0..len). With consumed == NULL the tx must
 * fill the buffer (trailing bytes are an error); otherwise *consumed
 * receives its length and trailing bytes are left to the caller.
 * Computes txid and wtxid, classifies every output for `net`. Error offsets
 * are relative to buf. */
cw_code btc_tx_parse(const uint8_t *buf, size_t len, size_t *consumed, cw_net net, cw_arena *arena, cw_tx *tx,
                     cw_err *err);

/* Walks an input's witness stack in order (items were validated by the
 * parser). Usage: btc_witness_begin(in, &it); while (btc_witness_next(&it, &item)) ... */
typedef struct {
    const uint8_t *p;
    size_t left;
    uint32_t remaining;
} btc_witness_iter;

void btc_witness_begin(const cw_txin *in, btc_witness_iter *it);
bool btc_witness_next(btc_witness_iter *it, cw_span *item);

/* The i-th item (0-based), or false. Linear in i: use the iterator to walk. */
bool btc_witness_item(const cw_txin *in, uint32_t i, cw_span *item);

#endif
