/*
 * eth_follow.h: an Ethereum node followed over JSON-RPC (rpc.h), as an
 * account_source (monitor/engine/account.h).
 *
 * Design note: the node's JSON is checked, not trusted.
 * - Every tx of a block is rebuilt from its JSON fields with eth_tx_encode
 *   (chains/ethereum/tx.h); keccak of the rebuilt bytes must equal the
 *   node's `hash`, and the sender recovered from the signature must equal
 *   its `from`. A node (or a proxy) that lies about a field is caught.
 * - Token moves come from the receipts' Transfer logs (erc20.h); a receipt
 *   with status 0x0 marks the tx CW_TX_FAILED: a reverted tx moved no
 *   value and emitted no logs (a failed receipt with logs is refused).
 *   Receipts must match the block's txs one for one, in order, by hash.
 * - eth_getBlockReceipts is used when the node has it; on "method not
 *   found" the source falls back to eth_getTransactionReceipt per tx (in
 *   batches of 64) and remembers that.
 * - Pending txs: eth_newPendingTransactionFilter + eth_getFilterChanges
 *   (a filter the node forgot, "filter not found", is made again: what
 *   came between is lost to the mempool view only; the block brings it),
 *   then eth_getTransactionByHash per hash (batched), checked like a
 *   block's tx, with an ERC-20 call in its calldata as a token transfer.
 *   The filter is made at the first pending poll, not at open: the node
 *   shows only txs that enter its pool after that, so a tx sent earlier
 *   is seen only in its block. eth_follow_pending_filter tells the caller
 *   when a filter was made (watch logs it: from that line on pending txs
 *   are seen).
 * - A malformed reply is refused with CW_EFORMAT naming the method, the
 *   block or tx and the field.
 *
 * Network names (records' `network`): from eth_chainId, 1 "mainnet",
 * 11155111 "sepolia", 17000 "holesky", 560048 "hoodi", else "chain-<id>".
 */
#ifndef CW_ETH_FOLLOW_H
#define CW_ETH_FOLLOW_H

#include <jansson.h>

#include "monitor/engine/account.h"
#include "rpc.h"

typedef struct eth_follow eth_follow;

/* Opens the client (rpc_open's errors). No request is made. */
cw_code eth_follow_open(const rpc_options *o, eth_follow **out, cw_err *err);
void eth_follow_close(eth_follow *f);
/* The account_source over f (valid until eth_follow_close). */
const account_source *eth_follow_source(eth_follow *f);
rpc_client *eth_follow_rpc(eth_follow *f);
/* The pending-tx filter: its id ("" before the first pending poll made
 * one, or while a filter the node forgot is being made again; valid until
 * the next poll) and, in *made, how many filters the node has given this
 * follower (0 before the first; one more each time a forgotten filter is
 * made again). A count that grew since the caller last looked means a
 * filter made at the last poll: the node's pending txs from then on are
 * seen, those that entered its pool before are not (their blocks bring
 * them). */
const char *eth_follow_pending_filter(const eth_follow *f, uint64_t *made);

/* eth_chainId. */
cw_code eth_follow_chain_id(eth_follow *f, uint64_t *id, cw_err *err);
/* The records' network name of a chain id (above); out holds 32 bytes. */
void eth_network_name(uint64_t chain_id, char out[32]);

/* Builds a checked block from eth_getBlockByNumber(n, true)'s result and
 * the block's receipts (an array, in tx order). want >= 0: the number the
 * block must have. *out is freed with eth_block_free. Pure over JSON:
 * tests and the fuzz target call it directly. */
cw_code eth_block_from_json(const json_t *block, const json_t *receipts, int64_t want, account_block **out,
                            cw_err *err);
void eth_block_free(account_block *b);
/* One tx from its JSON (eth_getTransactionByHash, or a block's), checked
 * (hash, sender); transfers into xfer[0..cap): its value, and with
 * calldata an ERC-20 call. pubkey65 (may be NULL) gets the signer's
 * uncompressed key. */
cw_code eth_tx_from_json(const json_t *tx, bool calldata, cw_transfer *xfer, size_t cap, cw_tx *out,
                         uint8_t pubkey65[65], cw_err *err);

#endif
