/*
 * ticker.h: what a designation file's currency ticker means: which chain,
 * and whether chainwatch decodes that chain's addresses (bitcoin, EVM,
 * Tron) or keeps them as normalised text until a decoder exists.
 */
#ifndef CW_TICKER_H
#define CW_TICKER_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    TICKER_DECODE_BITCOIN, /* base58/bech32, cw_addr chain bitcoin */
    TICKER_DECODE_EVM,     /* 0x..., cw_addr chain evm */
    TICKER_DECODE_TRON,    /* T..., cw_addr chain tron */
    TICKER_DECODE_TOKEN,   /* a token on several chains (USDT, USDC): by the address's form */
    TICKER_DECODE_TEXT,    /* no decoder yet: stored as normalised text */
} ticker_decode;

typedef struct {
    const char *ticker;     /* as designation files spell it: XBT, ETH, USDT ... */
    const char *chain;      /* chain name used in stats and lookups: bitcoin, evm, tron, litecoin ... */
    ticker_decode decode;
    bool case_insensitive;  /* text form is case-insensitive (CashAddr, bech32): lowercased */
} ticker_info;

/* The table entry for a ticker (case-insensitive), or NULL for a ticker
 * chainwatch has never seen. */
const ticker_info *ticker_lookup(const char *ticker);

/* Normalises an address as text for a text-kept chain: trims spaces,
 * lowercases case-insensitive forms, adds "bitcoincash:" to bare CashAddr.
 * t may be NULL (no ticker): the text's own form decides what is
 * case-insensitive (a valid bech32/bech32m string, a "prefix:" form, bare
 * CashAddr). Writes at most cap bytes with NUL; returns false if it does
 * not fit or is empty (whitespace only). Pure: no allocation. */
bool ticker_normalise_text(const ticker_info *t, const char *in, char *out, size_t cap);

#endif
