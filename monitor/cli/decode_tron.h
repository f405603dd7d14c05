/*
 * decode_tron.h: `chainwatch decode tx --chain tron FILE|-` (decode_tron.c).
 *
 * Input: a signed tx as java-tron's HTTP API returns it ({"txID",
 * "raw_data_hex", "signature": [...], "raw_data" optional}). Output, one
 * JSON object: txid (checked against sha256 of raw_data_hex),
 * contract_type, owner (the signer recovered with libsecp256k1 and checked
 * against the owner in the signed bytes), to (the TRX / TRC-10 recipient or
 * the TRC-20 recipient from the calldata; null when the tx moves nothing
 * the monitor follows), asset_kind ("trx", "trc10", "trc20"), asset ("TRX",
 * the TRC-10 id, the TRC-20 contract), symbol and decimals (null for an
 * unknown token), amount (base units, decimal string), contract (the
 * contract a TriggerSmartContract calls), call_value (sun), memo (hex),
 * timestamp, expiration, fee_limit, signatures (count).
 */
#ifndef CW_CLI_DECODE_TRON_H
#define CW_CLI_DECODE_TRON_H

#include "chains/json.h"
#include "chains/tron/api.h"
#include "watchlists/tokens.h"

/* Writes the object above for a parsed, checked tx; tokens names TRC-20
 * contracts (may be NULL: symbol null). */
void decode_tron_json(cw_json *j, const tron_signed *s, const tokens_table *tokens);

/* Reads FILE or - and decodes it, naming tokens from the built-in table
 * and tokens_path (may be NULL): CLI exit code (0, 2 bad input, 1 I/O). */
int decode_tron_tx(const char *source, const char *tokens_path);

#endif
