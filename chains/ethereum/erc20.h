/*
 * erc20.h: ERC-20 token moves, read from a call's calldata (what a tx not
 * yet mined asks) or from a receipt's Transfer log (what happened), each
 * turned into a cw_transfer. The same ABI serves Tron's TRC-20 (pass a
 * contract of chain CW_CHAIN_TRON).
 *
 * Calldata: transfer(address,uint256) = a9059cbb | to | amount (68 bytes);
 * transferFrom(address,address,uint256) = 23b872dd | from | to | amount
 * (100 bytes). An address word is 12 zero bytes then the 20 address bytes.
 * Tron wallets also write the 21-byte form (0x41 before the 20 bytes) into
 * the word; with a Tron contract that one extra byte is accepted.
 * Decoding is strict because screening must not miss a recipient: calldata
 * that has a transfer selector but is too short for its arguments, or a
 * dirty address word, is refused (the caller fails closed), not read as
 * "no token transfer". Bytes after the arguments are accepted and counted
 * (erc20_call.trailing): Solidity's ABI decoder and USDT's onlyPayloadSize
 * ignore them, so such a call moves the tokens on chain, and refusing it
 * would leave a real mainnet transfer undecodable.
 *
 * Logs: Transfer(address indexed from, address indexed to, uint256 value),
 * topic0 = keccak256("Transfer(address,address,uint256)") = ddf252ad...
 * ERC-20 emits 3 topics and 32 bytes of data (the amount). ERC-721 emits
 * the same topic0 with 4 topics (the token id indexed) and no data: that
 * moves one NFT, not a fungible amount, and is reported as such
 * (ERC20_LOG_NFT), never as an amount.
 *
 * Pure: no I/O, no allocation.
 */
#ifndef CW_ETH_ERC20_H
#define CW_ETH_ERC20_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/err.h"
#include "chains/model.h"
#include "chains/u256.h"

#define ERC20_SEL_TRANSFER 0xa9059cbbu
#define ERC20_SEL_TRANSFER_FROM 0x23b872ddu
#define ERC20_TRANSFER_LEN 68
#define ERC20_TRANSFER_FROM_LEN 100

/* topic0 of Transfer(address,address,uint256) (constant data in erc20.c). */
extern const uint8_t erc20_transfer_topic[32];

typedef enum {
    ERC20_CALL_NONE = 0,     /* not a transfer call: another selector, or under 4 bytes */
    ERC20_CALL_TRANSFER,     /* a9059cbb */
    ERC20_CALL_TRANSFER_FROM /* 23b872dd */
} erc20_call_kind;

typedef struct {
    uint8_t kind;     /* erc20_call_kind */
    uint8_t from[20]; /* transferFrom only */
    uint8_t to[20];
    cw_u256 amount;
    size_t trailing;  /* calldata bytes after the arguments (the contract ignores them) */
} erc20_call;

/* Reads calldata. Not a transfer selector: CW_OK with kind NONE. A
 * transfer selector with fewer than 68 (100) bytes, or an address word
 * whose first 12 bytes are not zero (for CW_CHAIN_TRON: 11 zeros and 0x41
 * also pass): CW_EFORMAT naming the offset and the field. Longer calldata is
 * read, the extra bytes counted in out->trailing. `chain` is CW_CHAIN_EVM
 * or CW_CHAIN_TRON. */
cw_code erc20_call_decode(cw_span data, cw_chain chain, erc20_call *out, cw_err *err);
/* The same, with error offsets counted from `base` (where the calldata
 * stands in the caller's input, e.g. a tx: eth_tx_call_decode) rather than
 * from the calldata's first byte. */
cw_code erc20_call_decode_at(cw_span data, size_t base, cw_chain chain, erc20_call *out, cw_err *err);

/* The call as a transfer of kind CW_XFER_TOKEN_CALL: from is the call's
 * `from` for transferFrom, else `sender` (the tx signer); the asset is the
 * token at `contract` (the tx's `to`); addresses take the contract's chain
 * (EVM or Tron kind). The call must not be of kind NONE. */
void erc20_call_to_transfer(const erc20_call *c, const cw_addr *sender, const cw_addr *contract, cw_transfer *out);

typedef enum {
    ERC20_LOG_OTHER = 0, /* not a Transfer event (another topic0, or none) */
    ERC20_LOG_TRANSFER,  /* ERC-20: 3 topics, 32 bytes of data: a fungible amount */
    ERC20_LOG_NFT,       /* ERC-721: 4 topics, no data: `amount` is the token id, not an amount */
} erc20_log_kind;

typedef struct {
    uint8_t kind;       /* erc20_log_kind */
    uint8_t from[20];
    uint8_t to[20];
    cw_u256 amount;     /* ERC20_LOG_TRANSFER: the value; ERC20_LOG_NFT: the token id */
} erc20_log;

/* Reads one log: topics[0..n_topics) of 32 bytes each, and its data.
 * topic0 other than Transfer (or no topic): CW_OK, kind OTHER. Transfer
 * with 3 topics and 32 bytes of data: kind TRANSFER. With 4 topics and no
 * data: kind NFT. A Transfer topic0 with any other shape (2 topics, data
 * not 32 bytes, a from/to topic whose first 12 bytes are not zero):
 * CW_EFORMAT naming it (such a log is not a standard token event). */
cw_code erc20_log_decode(const uint8_t (*topics)[32], size_t n_topics, cw_span data, erc20_log *out, cw_err *err);

/* An ERC-20 log as a transfer of kind CW_XFER_TOKEN_LOG with the log's
 * index in the block. CW_EARG for a log that is not ERC20_LOG_TRANSFER
 * (an NFT has no fungible amount). */
cw_code erc20_log_to_transfer(const erc20_log *l, const cw_addr *contract, uint32_t log_index, cw_transfer *out,
                              cw_err *err);

#endif
