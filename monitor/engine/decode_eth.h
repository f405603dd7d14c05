/*
 * decode_eth.h: one signed Ethereum tx as the monitor's verbs see it: the
 * decoded fields, the sender recovered, the ERC-20 call read from the
 * calldata with its token named, the step behind `chainwatch decode tx
 * --chain ethereum` and `chainwatch screen 0x02f8...`.
 *
 * decode_eth_view refuses what chains/ethereum refuses (a malformed tx, a
 * signature that recovers no sender or has a high s: CW_EFORMAT and
 * friends with the byte offset and field) and calldata with a transfer
 * selector that is not a well-formed transfer call (a recipient must never
 * be missed). It does not apply a network's rules (chain id, intrinsic
 * gas): it reports the chain id; a tx of any EVM chain decodes.
 * Pure apart from the calls into chains/; no allocation; no globals.
 */
#ifndef CW_DECODE_ETH_H
#define CW_DECODE_ETH_H

#include <stdbool.h>

#include "chains/ethereum/erc20.h"
#include "chains/ethereum/tx.h"
#include "chains/json.h"
#include "watchlists/tokens.h"

typedef struct {
    eth_tx tx;
    eth_signer from;
    uint8_t hash[32];           /* as nodes print it */
    erc20_call call;            /* kind ERC20_CALL_NONE: no token transfer call */
    const token_info *token;    /* the call's token when the table knows it, else NULL */
} eth_view;

/* Decodes raw[0..n) (borrowed: spans of v->tx point into it), recovers the
 * sender and reads the token call. tokens may be NULL (no names). */
cw_code decode_eth_view(const uint8_t *raw, size_t n, const tokens_table *tokens, eth_view *v, cw_err *err);

/* The object `decode tx --chain ethereum` prints (no newline): chain, hash,
 * type, chain_id (null before EIP-155), nonce, from, to (null: creation),
 * value (wei, decimal string), gas_limit, the fee fields of its type
 * (decimal strings), data_size, access_list {addresses, storage_keys},
 * blob fields (type 3), token ({kind, contract, symbol (null when
 * unknown), decimals (null), from, recipient, amount} or null) and, for
 * type 4, authorities [{authority (null when it does not recover), error,
 * delegate, chain_id, nonce}]. Addresses in EIP-55. Writer errors: check
 * cw_json_ok. */
void decode_eth_tx_json(cw_json *j, const eth_view *v);

#endif
