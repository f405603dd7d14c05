/*
 * addr.h: the text forms of addresses, the only place text becomes a
 * cw_addr (addr_parse.c) and a cw_addr becomes text (addr_format.c).
 *
 * EVM: 0x + 40 hex digits, EIP-55 checked when mixed case, formatted with
 * the EIP-55 checksum. Tron: base58check with version byte 0x41 ('T...'),
 * or the hex form java-tron's API prints, "41" + 40 hex digits (parsed,
 * never written: the canonical text is T...).
 * Neither carries a network in its text; they parse on any `net`.
 * Bitcoin: base58check P2PKH/P2SH and bech32/bech32m segwit, for mainnet,
 * testnet3, testnet4, signet and regtest. Testnet3, testnet4 and signet share
 * one address space (tb1, m/n/2); regtest shares testnet's base58 forms but
 * has its own HRP (bcrt1), so a base58 'm...' address parses as testnet
 * unless the caller says regtest.
 */
#ifndef CW_ADDR_H
#define CW_ADDR_H

#include <stddef.h>

#include "model.h"

/* Longest text form plus NUL (bech32 allows 90 characters). */
#define CW_ADDR_TEXT_MAX 96

/* Pass as `net` to detect the network from the text. */
#define CW_NET_ANY (-1)

/* Parses `text`. With net == CW_NET_ANY the network is detected; otherwise
 * an address of another network is refused, naming both. On failure the
 * message says why: bad checksum, wrong length, wrong witness version
 * encoding, mixed case, unknown prefix, bad character (and where).
 * Codes: CW_ECHECKSUM (a checksum that does not match), CW_EFORMAT (not
 * an address form, bad characters, wrong length), CW_ELIMIT (text too
 * long), CW_EARG (an address of another network than `net`, empty text,
 * an unknown `net`). text must not be NULL. */
cw_code cw_addr_parse(const char *text, int net, cw_addr *out, cw_err *err);

/* cw_addr_parse, and on success the canonical text (what cw_addr_format
 * writes) in canon, taken from the work the parse did: the text itself for
 * base58check (one text per payload), lowercased for bech32, the checked
 * text for a mixed-case EVM address; formatted only for a single-case EVM
 * address (EIP-55) and Tron's hex form. On failure canon holds nothing of use. */
cw_code cw_addr_parse_canon(const char *text, int net, cw_addr *out, char canon[CW_ADDR_TEXT_MAX], cw_err *err);

/* Writes the canonical text (lowercase for bech32) and returns its length;
 * 0 when the kind has no text form or cap is too small. */
size_t cw_addr_format(const cw_addr *addr, char *out, size_t cap);

#endif
