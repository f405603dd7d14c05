/* tron_fixture.h: java-tron HTTP API bodies built from the real Tron data in
 * ../shared/data/tron, in the shapes java-tron answers with (those of the
 * api folder): signed txs, blocks (getblockbynum) and transaction infos
 * (gettransactioninfobyblocknum). */
#ifndef CW_TEST_TRON_FIXTURE_H
#define CW_TEST_TRON_FIXTURE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* signed_txs.jsonl holds 21 txs. */
#define TRON_SIGNED_TXS 21

/* Line i (0-based) of signed_txs.jsonl as the file has it. */
json_t *tron_signed_line(size_t i);
/* Line i as the HTTP API returns the tx: {"ret": [{"contractRet":
 * "SUCCESS"}], "signature": [sig], "txID", "raw_data_hex"}. */
json_t *tron_api_tx(size_t i);
/* A tx of api/gettransactionbyid_mainnet.reconstructed.json by txID (a
 * new reference; NULL when absent). */
json_t *tron_api_tx_by_id(const char *txid);
/* Its info from api/gettransactioninfobyid_mainnet_subset.ledger-live.json,
 * with blockNumber set to `number` (a new object). */
json_t *tron_info_by_id(const char *txid, int64_t number);

/* The blockID a test block of `number` gets: the number in its first 8
 * bytes (as java-tron's), then `tag` repeated (so a replacement block of
 * the same number differs). Display-order hex into out[65]. */
void tron_block_id(int64_t number, uint8_t tag, char out[65]);
/* A getblockbynum body: blockID tron_block_id(number, tag), parentHash
 * `parent` (hex), timestamp `time_ms`, txs (borrowed array of tx objects
 * or NULL). Returns a malloc'd JSON text. */
char *tron_block_body(int64_t number, uint8_t tag, const char *parent, int64_t time_ms, json_t *txs);
/* The txIDs of txs, as a transactionList array (a new reference). */
json_t *tron_txid_list(json_t *txs);

#endif

/* Line i of signed_txs.jsonl re-signed by eth_sign.h's ETH_TEST_KEY as
 * owner (the account 0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F), with its
 * recipient (the TRX/TRC-10 to_address, or the TRC-20 calldata recipient;
 * 20 bytes, found in the signed bytes) replaced by `to` (20 bytes, or NULL
 * to keep it): the HTTP API's signed tx shape, txID recomputed. A new
 * reference. */
json_t *tron_test_resigned(size_t i, const uint8_t *to);

/* ---- native queue triggers, as java-tron's Jackson writes them (every
 * field of the trigger class, nulls included) ---- */

/* A blockTrigger: transactionList from txs' txIDs (txs may be NULL). */
char *tron_trig_block(int64_t number, const char *hash, json_t *txs, int64_t solidified);
/* A transactionTrigger for api_tx (the HTTP API shape, its signed bytes
 * decoded for contractType, from/to, assetName, amounts) in block
 * number/hash at index `index` (transactionIndex), with its info (the
 * gettransactioninfo shape, or NULL: no logs) as logList (ethCompatible
 * on), log indexes from log_base. */
char *tron_trig_tx(json_t *api_tx, json_t *info, int64_t number, const char *hash, int64_t solidified, int index,
                   int log_base);
/* A solidityTrigger. */
char *tron_trig_solidity(int64_t solidified);
