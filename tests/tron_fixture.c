#include "tron_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "chains/hash.h"
#include "chains/hex.h"
#include "chains/keccak.h"
#include "chains/tron/tx.h"
#include "eth_sign.h"
#include "support.h"

json_t *tron_signed_line(size_t i)
{
    size_t n;
    char *text = (char *)fixture("tron/signed_txs.jsonl", &n);
    char *line = text;
    for (size_t k = 0; k < i; k++) {
        line = memchr(line, '\n', n - (size_t)(line - text));
        cr_assert_not_null(line, "signed_txs.jsonl has no line %zu", i);
        line++;
    }
    char *end = memchr(line, '\n', n - (size_t)(line - text));
    json_error_t e;
    json_t *j = json_loadb(line, end ? (size_t)(end - line) : n - (size_t)(line - text), 0, &e);
    cr_assert_not_null(j, "signed_txs.jsonl line %zu: %s", i, e.text);
    free(text);
    return j;
}

json_t *tron_api_tx(size_t i)
{
    json_t *l = tron_signed_line(i);
    json_t *t = json_pack("{s:[{s:s}], s:[O], s:O, s:O}", "ret", "contractRet", "SUCCESS", "signature",
                          json_object_get(l, "signature"), "txID", json_object_get(l, "txid"), "raw_data_hex",
                          json_object_get(l, "raw_data_hex"));
    cr_assert_not_null(t);
    json_decref(l);
    return t;
}

json_t *tron_api_tx_by_id(const char *txid)
{
    json_t *all = fixture_json("tron/api/gettransactionbyid_mainnet.reconstructed.json"), *found = NULL;
    size_t i;
    json_t *t;
    json_array_foreach(all, i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "txID")), txid) == 0)
            found = json_incref(t);
    }
    json_decref(all);
    return found;
}

json_t *tron_info_by_id(const char *txid, int64_t number)
{
    json_t *all = fixture_json("tron/api/gettransactioninfobyid_mainnet_subset.ledger-live.json");
    json_t *in = json_object_get(all, txid);
    cr_assert_not_null(in, "no info for %s", txid);
    json_t *copy = json_deep_copy(in);
    json_object_set_new(copy, "blockNumber", json_integer(number));
    json_decref(all);
    return copy;
}

void tron_block_id(int64_t number, uint8_t tag, char out[65])
{
    snprintf(out, 17, "%016llx", (unsigned long long)number);
    for (int i = 16; i < 64; i += 2)
        snprintf(out + i, 3, "%02x", tag);
}

char *tron_block_body(int64_t number, uint8_t tag, const char *parent, int64_t time_ms, json_t *txs)
{
    char id[65];
    tron_block_id(number, tag, id);
    json_t *b = json_pack("{s:s, s:{s:{s:I, s:s, s:I, s:s, s:i, s:s}, s:s}}", "blockID", id, "block_header",
                          "raw_data", "number", (json_int_t)number, "parentHash", parent, "timestamp",
                          (json_int_t)time_ms, "txTrieRoot",
                          "0000000000000000000000000000000000000000000000000000000000000000", "version", 30,
                          "witness_address", "41c81107148e5fa4b4a2edf3d5354db6c6be5b5549", "witness_signature",
                          "00");
    cr_assert_not_null(b);
    if (txs && json_array_size(txs))
        json_object_set(b, "transactions", txs);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    return text;
}

json_t *tron_txid_list(json_t *txs)
{
    json_t *l = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(txs, i, t) json_array_append(l, json_object_get(t, "txID"));
    return l;
}

static void replace20(uint8_t *b, size_t n, const uint8_t from[20], const uint8_t to[20])
{
    size_t hits = 0;
    for (size_t k = 0; k + 20 <= n; k++)
        if (memcmp(b + k, from, 20) == 0) {
            memcpy(b + k, to, 20);
            hits++;
        }
    cr_assert_eq(hits, 1, "the 20 bytes occur once in the signed bytes");
}

json_t *tron_test_resigned(size_t i, const uint8_t *to)
{
    json_t *l = tron_signed_line(i);
    size_t n;
    uint8_t *raw = unhex(json_string_value(json_object_get(l, "raw_data_hex")), &n);
    tron_raw r;
    cw_err err = {0};
    cr_assert_eq(tron_raw_parse(raw, n, &r, &err), CW_OK, "%s", err.msg);
    /* the recipient as the signed bytes hold it */
    cw_transfer xf[TRON_CALL_XFER_MAX];
    size_t nx;
    cr_assert_eq(tron_raw_transfers(&r, true, xf, &nx, &err), CW_OK, "%s", err.msg);
    uint8_t old_to[20], old_owner[20];
    memcpy(old_to, xf[nx - 1].to.payload, 20);
    memcpy(old_owner, r.owner, 20);
    /* the test key's account */
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_pubkey pub;
    cr_assert(secp256k1_ec_pubkey_create(ctx, &pub, ETH_TEST_KEY));
    uint8_t ser[65], h[32], owner[20];
    size_t sl = sizeof ser;
    secp256k1_ec_pubkey_serialize(ctx, ser, &sl, &pub, SECP256K1_EC_UNCOMPRESSED);
    cw_keccak256(ser + 1, 64, h);
    memcpy(owner, h + 12, 20);
    replace20(raw, n, old_owner, owner);
    if (to)
        replace20(raw, n, old_to, to);
    uint8_t txid[32];
    cw_sha256(raw, n, txid);
    secp256k1_ecdsa_recoverable_signature sig;
    cr_assert(secp256k1_ecdsa_sign_recoverable(ctx, &sig, txid, ETH_TEST_KEY, NULL, NULL));
    uint8_t s65[65];
    int recid;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, s65, &recid, &sig);
    s65[64] = (uint8_t)recid;
    secp256k1_context_destroy(ctx);
    char *hex = malloc(2 * n + 1), sighex[131], idhex[65];
    cw_hex_encode(raw, n, hex);
    cw_hex_encode(s65, 65, sighex);
    cw_hex_encode(txid, 32, idhex);
    json_t *t = json_pack("{s:[{s:s}], s:[s], s:s, s:s}", "ret", "contractRet", "SUCCESS", "signature", sighex, "txID",
                          idhex, "raw_data_hex", hex);
    free(hex);
    free(raw);
    json_decref(l);
    return t;
}

#include "chains/addr.h"

char *tron_trig_block(int64_t number, const char *hash, json_t *txs, int64_t solidified)
{
    json_t *ids = txs ? tron_txid_list(txs) : json_array();
    json_t *t = json_pack("{s:I, s:s, s:I, s:s, s:I, s:I, s:o}", "timeStamp", (json_int_t)(1700000000000 + number * 3000),
                          "triggerName", "blockTrigger", "blockNumber", (json_int_t)number, "blockHash", hash,
                          "transactionSize", (json_int_t)json_array_size(ids), "latestSolidifiedBlockNumber",
                          (json_int_t)solidified, "transactionList", ids);
    cr_assert_not_null(t);
    char *s = json_dumps(t, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(t);
    return s;
}

static json_t *taddr_json(const uint8_t a20[20])
{
    cw_addr a;
    char text[CW_ADDR_TEXT_MAX];
    tron_addr(&a, a20);
    cw_addr_format(&a, text, sizeof text);
    return json_string(text);
}

char *tron_trig_tx(json_t *api_tx, json_t *info, int64_t number, const char *hash, int64_t solidified, int index,
                   int log_base)
{
    size_t n;
    uint8_t *raw = unhex(json_string_value(json_object_get(api_tx, "raw_data_hex")), &n);
    tron_raw r;
    cw_err err = {0};
    cr_assert_eq(tron_raw_parse(raw, n, &r, &err), CW_OK, "%s", err.msg);
    json_t *receipt = json_object_get(info, "receipt");
    const char *result = json_string_value(json_object_get(receipt, "result"));
    json_t *t = json_object();
    json_object_set_new(t, "timeStamp", json_integer(1700000000000 + number * 3000));
    json_object_set_new(t, "triggerName", json_string("transactionTrigger"));
    json_object_set(t, "transactionId", json_object_get(api_tx, "txID"));
    json_object_set_new(t, "blockHash", json_string(hash));
    json_object_set_new(t, "blockNumber", json_integer(number));
    json_object_set_new(t, "energyUsage", json_integer(json_integer_value(json_object_get(receipt, "energy_usage"))));
    json_object_set_new(t, "energyFee", json_integer(json_integer_value(json_object_get(receipt, "energy_fee"))));
    json_object_set_new(t, "originEnergyUsage", json_integer(0));
    json_object_set_new(t, "energyUsageTotal",
                        json_integer(json_integer_value(json_object_get(receipt, "energy_usage_total"))));
    json_object_set_new(t, "netUsage", json_integer(json_integer_value(json_object_get(receipt, "net_usage"))));
    json_object_set_new(t, "netFee", json_integer(json_integer_value(json_object_get(receipt, "net_fee"))));
    json_object_set_new(t, "result", json_string(result ? result : "SUCCESS"));
    json_object_set_new(t, "contractAddress", json_null()); /* ethCompatible: null for calls */
    json_object_set_new(t, "contractType", json_string(tron_contract_type_name(r.contract_type)));
    json_object_set_new(t, "feeLimit", json_integer(r.fee_limit));
    json_object_set_new(t, "contractCallValue", json_integer((json_int_t)r.call_value));
    json_object_set_new(t, "contractResult", json_string(""));
    json_object_set_new(t, "fromAddress", taddr_json(r.owner));
    json_object_set_new(t, "toAddress", r.contract_type == TRON_CT_TRIGGER_SMART ? taddr_json(r.contract) : taddr_json(r.to));
    char asset[24];
    snprintf(asset, sizeof asset, "%llu", (unsigned long long)r.asset_id);
    json_object_set_new(t, "assetName", r.contract_type == TRON_CT_TRANSFER         ? json_string("trx")
                                        : r.contract_type == TRON_CT_TRANSFER_ASSET ? json_string(asset)
                                                                                    : json_null());
    json_object_set_new(t, "assetAmount", json_integer(r.contract_type == TRON_CT_TRIGGER_SMART ? 0 : (json_int_t)r.amount));
    json_object_set_new(t, "latestSolidifiedBlockNumber", json_integer(solidified));
    json_object_set_new(t, "internalTransactionList", json_array());
    json_object_set_new(t, "data", json_string(""));
    json_object_set_new(t, "transactionIndex", json_integer(index));
    json_object_set_new(t, "cumulativeEnergyUsed", json_integer(0));
    json_object_set_new(t, "preCumulativeLogCount", json_integer(log_base));
    json_t *logs = json_array();
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(info, "log"), i, l)
    {
        json_t *topics = json_object_get(l, "topics");
        json_array_append_new(logs, json_pack("{s:O, s:s, s:I, s:O, s:I, s:O, s:O, s:i}", "address",
                                              json_object_get(l, "address"), "blockHash", hash, "blockNumber",
                                              (json_int_t)number, "data", json_object_get(l, "data"), "logIndex",
                                              (json_int_t)(log_base + (int)i), "topicList", topics ? topics : json_array(),
                                              "transactionHash", json_object_get(api_tx, "txID"), "transactionIndex",
                                              index));
    }
    json_object_set_new(t, "logList", logs);
    json_object_set_new(t, "energyUnitPrice", json_integer(210));
    json_object_set_new(t, "extMap", json_null());
    char *s = json_dumps(t, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(t);
    free(raw);
    return s;
}

char *tron_trig_solidity(int64_t solidified)
{
    json_t *t = json_pack("{s:I, s:s, s:I}", "timeStamp", (json_int_t)1700000000000, "triggerName", "solidityTrigger",
                          "latestSolidifiedBlockNumber", (json_int_t)solidified);
    char *s = json_dumps(t, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(t);
    return s;
}
