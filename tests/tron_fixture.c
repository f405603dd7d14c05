#include "tron_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
