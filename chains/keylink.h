/*
 * keylink.h: one public key, every address it has on every chain; and the
 * keys Bitcoin transactions reveal.
 *
 * Design note. An address is a hash of a key (or of a script holding it),
 * so addresses cannot be linked to one another; a public key can be linked
 * to all of them. A key becomes public when a tx shows it: a P2PKH,
 * P2WPKH or P2SH-P2WPKH spend, a P2PK output, every signed Ethereum or
 * Tron tx (its sender is recovered from the signature). From the key,
 * cw_pubkey_forms derives the addresses its holder can be paid at:
 *   P2PKH          HASH160 of the compressed key (33 bytes)
 *   P2PKH_UNCOMP   HASH160 of the uncompressed key (65 bytes): old wallets
 *   P2WPKH         HASH160 of the compressed key, witness v0
 *   P2SH_P2WPKH    HASH160 of the redeem script 0014{HASH160(compressed)}
 *   P2TR           BIP-86 key path: the x-only key P tweaked by
 *                  t = TaggedHash("TapTweak", x(P)) with no script tree,
 *                  Q = lift_x(x(P)) + tG, the output is x(Q)
 *   EVM            the last 20 bytes of Keccak-256 of the 64-byte X||Y
 *   TRON           the same 20 bytes (text adds the 0x41 prefix)
 * P2WPKH and P2SH-P2WPKH are derived from the compressed key only: BIP-143
 * makes uncompressed keys in v0 witness programs non-standard (policy
 * WITNESS_PUBKEYTYPE since Core 0.13.1), so no wallet pays there and
 * coins sent there could not be spent through any relaying node. Taproot
 * and EVM do not depend on the encoding (x-only, and X||Y).
 *
 * Which revealed keys count. A push of 33 or 65 bytes in a scriptSig or a
 * witness is not always a key the spender signed with: a P2SH or P2WSH
 * redeem script, or a bare script that drops its pushes, lets anyone put
 * any bytes there. So cw_reveal_input counts a key only when it hashes to
 * the spent output's address, known from the prevout (in->resolved):
 *   P2PKH       scriptSig is exactly <sig> <key> (push-only, two pushes),
 *               no witness; the prevout is P2PKH of HASH160(key as pushed)
 *   P2WPKH      empty scriptSig, a witness of exactly 2 items, the second
 *               33 bytes; the prevout is P2WPKH of HASH160(key)
 *   P2SH-P2WPKH scriptSig is exactly one push of 0014{20}, the witness as
 *               P2WPKH; HASH160(key) must equal those 20 bytes, and the
 *               prevout, when known, be P2SH of HASH160(0014{20})
 * A P2PKH or P2WPKH shape whose prevout is unknown is CW_REVEAL_UNCHECKED
 * and counts for nothing (the key cannot be tied to what it spends). The
 * P2SH-P2WPKH shape is the one exception: the tx itself commits the key
 * (the redeem script holds its hash), and a witness on a non-witness
 * prevout is invalid by consensus, so in a valid block the prevout can only
 * be P2SH of that redeem script. P2PK outputs count as they are: the output
 * script is the key itself, nothing to check it against.
 * Keys must be valid curve points, compressed (02/03, 33 bytes) or
 * uncompressed (04, 65 bytes); hybrid encodings (06/07) are refused: no
 * wallet makes them and their P2PKH is none of the forms above.
 *
 * Pure: no I/O, no allocation, no globals: libsecp256k1 is used through
 * its read-only secp256k1_context_static (no secret keys are involved).
 */
#ifndef CW_KEYLINK_H
#define CW_KEYLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "model.h"

/* A valid secp256k1 point in both encodings. */
typedef struct {
    uint8_t compressed[33];   /* 02/03 || X */
    uint8_t uncompressed[65]; /* 04 || X || Y */
} cw_pubkey;

/* Parses a 33-byte compressed (02/03) or 65-byte uncompressed (04) key.
 * Refuses (CW_EFORMAT, saying why) any other length or prefix, hybrid keys
 * (06/07) and encodings of no point on the curve. p may be NULL when n is 0. */
cw_code cw_pubkey_parse(const uint8_t *p, size_t n, cw_pubkey *out, cw_err *err);

/* The forms of one key, in this fixed order (the order links are made in). */
typedef enum {
    CW_FORM_P2PKH = 0,     /* compressed key */
    CW_FORM_P2PKH_UNCOMP,  /* uncompressed key */
    CW_FORM_P2WPKH,
    CW_FORM_P2SH_P2WPKH,
    CW_FORM_P2TR,          /* BIP-86 */
    CW_FORM_EVM,
    CW_FORM_TRON,
    CW_FORM_COUNT
} cw_key_form;

#define CW_FORMS_ALL ((1u << CW_FORM_COUNT) - 1)
/* The forms that cost only HASH160s of the key's bytes (no curve
 * arithmetic beyond the parse): what a quick check can look at first. */
#define CW_FORMS_HASH160 ((1u << CW_FORM_P2PKH) | (1u << CW_FORM_P2PKH_UNCOMP) | (1u << CW_FORM_P2WPKH) | (1u << CW_FORM_P2SH_P2WPKH))

/* "p2pkh", "p2pkh_uncompressed", "p2wpkh", "p2sh_p2wpkh", "p2tr", "evm", "tron". */
const char *cw_key_form_name(cw_key_form f);

/* Fills out[f] for every form f whose bit (1u << f) is set in `which`
 * (CW_FORMS_ALL for all); the others get kind CW_ADDR_NONE. Bitcoin forms
 * are in the address space of btc_net (cw_addr_set); EVM and Tron have no
 * network. The taproot tweak is the one step that can fail (a tweak at or
 * above the curve order, or a result at infinity: probability about
 * 2^-128): CW_EFORMAT, out[CW_FORM_P2TR] then NONE and the other forms
 * filled. */
cw_code cw_pubkey_forms(const cw_pubkey *k, cw_net btc_net, unsigned which, cw_addr out[CW_FORM_COUNT], cw_err *err);

/* What an input or output says about a key. */
typedef enum {
    CW_REVEAL_NONE = 0,  /* not a key-revealing shape (most scripts) */
    CW_REVEAL_KEY,       /* *key is revealed and checked (see above) */
    CW_REVEAL_UNCHECKED, /* a P2PKH/P2WPKH shape whose prevout is unknown: not counted */
    CW_REVEAL_MISMATCH,  /* the key does not hash to what the input spends: refused */
    CW_REVEAL_BAD_KEY,   /* the shape of a key spend or P2PK output, but no valid key: refused */
} cw_reveal;

/* How a key was revealed. */
typedef enum {
    CW_REVEALED_BY_NONE = 0,
    CW_REVEALED_BY_P2PKH,
    CW_REVEALED_BY_P2WPKH,
    CW_REVEALED_BY_P2SH_P2WPKH,
    CW_REVEALED_BY_P2PK,
    CW_REVEALED_BY_SIGNATURE, /* recovered from an account-chain tx's signature (its sender) */
} cw_revealed_by;

/* "none", "p2pkh", "p2wpkh", "p2sh_p2wpkh", "p2pk", "signature". */
const char *cw_revealed_by_name(cw_revealed_by b);

/* The key a Bitcoin input reveals (in->resolved and in->addr: the spent
 * output's address, when the prevout index knew it). *key is filled for
 * CW_REVEAL_KEY only; *by (may be NULL) says which shape matched (also for
 * UNCHECKED, MISMATCH and BAD_KEY). Never fails: any bytes are some answer. */
cw_reveal cw_reveal_input(const cw_txin *in, cw_pubkey *key, cw_revealed_by *by);
/* The key of a P2PK output (21{33}ac or 41{65}ac), as cw_reveal_input. */
cw_reveal cw_reveal_output(const cw_txout *out, cw_pubkey *key);

/* The same two without the key parse (a field square root for a
 * compressed key): CW_REVEAL_KEY means the shape and hash checks passed
 * and *key spans the key's bytes in the input (33 bytes 02/03, or 65
 * starting 04/06/07 for P2PKH and P2PK), not yet known to be a point:
 * cw_pubkey_parse it before use. Never CW_REVEAL_BAD_KEY. */
cw_reveal cw_reveal_input_raw(const cw_txin *in, cw_span *key, cw_revealed_by *by);
cw_reveal cw_reveal_output_raw(const cw_txout *out, cw_span *key);

/* The 33-byte compressed encoding of a key's bytes without parsing them
 * (65 bytes: the prefix from Y's parity): the same key gives the same 33
 * bytes whichever encoding it was seen in. False for any other length or
 * prefix (hybrid 06/07 included). */
bool cw_pubkey_compress_bytes(cw_span key, uint8_t out[33]);

#endif
