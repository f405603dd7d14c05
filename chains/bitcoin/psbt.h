/*
 * psbt.h: Partially Signed Bitcoin Transactions (BIP-174, version 0), read
 * strictly, to screen a withdrawal before it is signed.
 *
 * Pure: no I/O, no globals, no malloc. The tx, its input and output arrays
 * come from `arena` (size it with btc_psbt_arena_bound); spans point into
 * the caller's bytes, which must outlive the result.
 *
 * Refused (CW_EFORMAT/CW_ETRUNC/CW_ELIMIT, naming the byte offset and the
 * map: "input 1", "output 0", "global"), as BIP-174 says a parser must:
 *   - a wrong magic ("psbt" 0xff), a cut map, bytes after the last map;
 *   - no unsigned tx (PSBT_GLOBAL_UNSIGNED_TX), or one with scriptSigs or
 *     witnesses, or one that is not exactly its value;
 *   - a key given twice in one map; a map count that is not the tx's
 *     inputs and outputs;
 *   - known key types with the wrong key length: 1 byte for the single
 *     fields, 1 + a 33- or 65-byte public key for partial signatures and
 *     BIP32 derivations, 1 + 32 for taproot derivations, 1 + 20/32 for
 *     hash preimages, 1 + 32 + 32 for taproot script signatures;
 *   - known values of the wrong size: a sighash type that is not 4
 *     bytes, a BIP32 derivation that is not 4 + 4n bytes, a taproot key
 *     signature of other than 64 or 65 bytes, an x-only key of other than
 *     32, a witness UTXO that is not one output, a non-witness UTXO that is
 *     not one tx or whose txid is not the one the input spends, an output
 *     value above 21M BTC;
 *   - PSBT_GLOBAL_VERSION other than 0 (version 2 is not read here), and
 *     the version-2-only fields in a version 0 PSBT.
 * Unknown key types are allowed (BIP-174: kept, not understood).
 */
#ifndef CW_BTC_PSBT_H
#define CW_BTC_PSBT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/buf.h"
#include "chains/model.h"

typedef struct {
    cw_tx tx;             /* the unsigned tx; inputs resolved (addr, value) from their UTXO fields */
    uint32_t version;     /* PSBT_GLOBAL_VERSION, 0 when absent */
    size_t n_utxo;        /* inputs whose UTXO the PSBT gives */
    size_t n_partial_sigs; /* partial signatures over all inputs */
    size_t n_final;       /* inputs with a final scriptSig or witness */
} btc_psbt;

/* Arena bytes that suffice for any PSBT of len bytes (on top of nothing
 * else). */
size_t btc_psbt_arena_bound(size_t len);

/* Parses a PSBT from buf[0..len) for network net. */
cw_code btc_psbt_parse(const uint8_t *buf, size_t len, cw_net net, cw_arena *arena, btc_psbt *out, cw_err *err);

/* The PSBT's bytes from its text form: base64 (standard alphabet, padded,
 * as Bitcoin Core's RPCs give it) or hex, told apart by the text (a PSBT
 * in hex starts "70736274ff"). Appends to out. CW_EFORMAT names the
 * offset of the first bad character. */
cw_code btc_psbt_text(const char *text, size_t n, cw_buf *out, cw_err *err);

#endif
