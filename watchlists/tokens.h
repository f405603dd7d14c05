/*
 * tokens.h: known tokens: (chain, contract) -> symbol and decimals, so
 * records and answers name the asset of a token transfer ("USDT", 6).
 *
 * A table starts with the built-in tokens (tokens_init): the facts of
 * ../shared/data/labels/stablecoin_contracts.csv (USDT and USDC on
 * Ethereum and on Tron; sources: etherscan labels via
 * brianleect/etherscan-labels and trustwallet/assets, as that file's
 * `source` column says). tokens_load_csv adds the rows of a file in the
 * same format (`--tokens FILE`): the header
 * `chain,token,contract_address,decimals,source` (columns found by name,
 * others ignored; `source` optional), RFC 4180 fields, blank lines
 * skipped. Chains: ETH (also EVM, ethereum: the EVM account space) and
 * TRON (also TRX). Contracts are parsed with the one address codec
 * (0x... for ETH, T... base58check for Tron). A file's row for a contract
 * already in the table replaces it (a file may correct the built-ins);
 * the same contract twice in one file is an error.
 *
 * Errors name the file and line (CW_EFORMAT: a bad address, a symbol
 * empty or over TOKENS_SYMBOL_MAX-1 bytes or with characters other than
 * A-Z a-z 0-9 . - _, decimals not 0..77, an unknown chain, a missing
 * column; CW_EIO: the file cannot be read). On error the table is as it
 * was before the call.
 *
 * An EVM contract address is the same text on every EVM chain but need
 * not be the same token there: the built-ins are Ethereum mainnet's.
 * Unknown tokens are not an error anywhere: callers report the contract
 * with symbol null.
 *
 * The table is plain memory owned by the caller; lookups on a table no
 * longer being changed are safe from several threads.
 */
#ifndef CW_TOKENS_H
#define CW_TOKENS_H

#include <stddef.h>

#include "chains/err.h"
#include "chains/model.h"

#define TOKENS_SYMBOL_MAX 16 /* bytes with the NUL */
#define TOKENS_DECIMALS_MAX 77

typedef struct {
    cw_addr contract;  /* kind CW_ADDR_EVM or CW_ADDR_TRON */
    char symbol[TOKENS_SYMBOL_MAX];
    unsigned decimals;
} token_info;

typedef struct {
    token_info *v;
    size_t n, cap;
} tokens_table;

/* An empty table (no built-ins): tokens_free() it. */
void tokens_init_empty(tokens_table *t);
/* A table holding the built-in tokens. CW_ENOMEM. */
cw_code tokens_init(tokens_table *t, cw_err *err);
void tokens_free(tokens_table *t);

/* Adds or replaces one token (contract kind EVM or TRON, symbol checked as
 * above); CW_EARG for a bad entry, CW_ENOMEM. */
cw_code tokens_put(tokens_table *t, const cw_addr *contract, const char *symbol, unsigned decimals, cw_err *err);

/* Adds the rows of a CSV file, as described above. */
cw_code tokens_load_csv(tokens_table *t, const char *path, cw_err *err);

/* The token at `contract`, or NULL when unknown. */
const token_info *tokens_find(const tokens_table *t, const cw_addr *contract);

/* The built-in rows, for tests and `--help` text: n entries of
 * {chain name "ETH"/"TRON", symbol, contract text, decimals}. */
typedef struct {
    const char *chain;
    const char *symbol;
    const char *contract;
    unsigned decimals;
} tokens_builtin_row;
const tokens_builtin_row *tokens_builtin(size_t *n);

#endif
