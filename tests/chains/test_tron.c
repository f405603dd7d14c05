/* chains/tron: the signed bytes (protobuf), txid and signer, java-tron's
 * JSON (signed tx, blocks, transaction infos, triggers) into the model.
 *
 * Expected values are the independent oracle's (tests/tools/tron_oracle.py:
 * hashlib.sha256 for txids; secp256k1 recovery, Keccak-256, base58check and
 * the protobuf walk written out in plain Python), which also agree with the
 * fields signed_txs.jsonl carries from its sources. Transfer log amounts:
 * int(data, 16) in Python. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/hex.h"
#include "chains/tron/api.h"
#include "chains/tron/pb.h"
#include "chains/tron/tx.h"
#include "tests/support.h"
#include "tests/tron_fixture.h"

/* tron_oracle.py's output over signed_txs.jsonl, in file order. */
static const struct {
    const char *txid, *owner, *type, *to, *asset, *amount;
} oracle[TRON_SIGNED_TXS] = {
    {"0130dfde9281a48378109039ef512229d5359fbee2a8adbb17ad73aebc67ea99", "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre", "TriggerSmartContract", "TXVj38D1XR3TPgSHTCZGC8wkLDAGqF1oqx", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "41677389"},
    {"629adf1e98cd0a5e69ea5302180cde22fed96dd603c6ca1bee3fb45095208915", "TZ8iWgdQ8WArWR5iYwY63BiYUojyRj7m2e", "TriggerSmartContract", "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre", "TXL6rJbvmjD46zeN1JssfgxvSo99qC8MRT", "13409316000000000000"},
    {"46710419b68bd4a87ad3227011874f34602d986a61c264676dfb70a06b5d24ed", "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre", "TriggerSmartContract", "TCB8H6cKtfLZJyt3tXkbN1a8Nxrh2x14RB", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "1000"},
    {"501bd2c8c61f71a187da5b8e27a2facaf09ffbb349cd71e92ed96ea42137ed7f", "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre", "TriggerSmartContract", "TCB8H6cKtfLZJyt3tXkbN1a8Nxrh2x14RB", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "1000"},
    {"4b845fb536e8022e804506855eaeb8cd7cbb698bf1bfb9e7bbac361bf5541ab9", "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre", "TriggerSmartContract", "TPecqY13cLPBbG855V9q7tbMgQhRkwLDVr", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "100000"},
    {"225e55c40beaba52e7843b5d314ba830457824c8cd80a24f45dd3729d75c6263", "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre", "TriggerSmartContract", "TCB8H6cKtfLZJyt3tXkbN1a8Nxrh2x14RB", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "300000"},
    {"1de1f78e7bf1a629ce19cd52f818962f7463e25ebc36a5129b5d76ce22879ef1", "TVKG4gUar24bpAVrDv4GSzyDRtPkjPkogL", "TriggerSmartContract", "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "1000000"},
    {"0e74f2d4cd3495dc8170eb8bfb65cd32f5f8d3c1f719fc09a92e59ba61cd069e", "TNDoSUL32A2KRqbEKXZQuPWgfBcA42sCwM", "TriggerSmartContract", "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre", "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7", "1000000"},
    {"5144c4f5a52a08e57dfdf550b4f925c396e68c59a80339cea69497bee116437f", "TD3UjWy82fFre6VEqEVpK2J2HKm3NewYE3", "TransferContract", "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre", "TRX", "1"},
    {"3f8b651bdf4a301a08693a2fa4b0d5fd808927ad658aa279ba030215fecdd6b3", "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre", "TransferContract", "TBy2NECVVZRS4Aia4oYXe669HuhgKAiYE3", "TRX", "150466320"},
    {"d8b112509ef71870ddeeb7b6edd3b8b2042ef278c582baf444b2d7ea7f03f3a6", "TKfz7Pu3jtxWrfHzVeozQjXsb3RfuUHGE2", "TransferContract", "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre", "TRX", "177986418"},
    {"531d91f97f65f96353c5e9a7a54f6c56fdc28c59ec56545940b88e9f3556aa11", "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre", "TransferContract", "TFYJDYsKSatjohTrFd5i3J3uDSXnS5on38", "TRX", "178259770"},
    {"adc3f1c4cf23d4adfcf25d3cdae5378d86a209b7b9d49d69db47cae7f838c5f0", "TAVrrARNdnjHgCGMQYeQV7hv4PSu7mVsMj", "TransferContract", "TQq4YrKRywkd9vLYw2nZKiFfMpbQiL8gKK", "TRX", "2000000"},
    {"979e0823f455f3b67d65b351052f0265233f422792d31d5dbeb7c24737dd5556", "TTmaAAbFPtACn1amP3FBkmmUygFh8udAvA", "TransferContract", "TJ4eV1hnVAiFmeArBsuL6GkgTGVnWBe7eV", "TRX", "50000000"},
    {"1097be146079d55633bcc1d6ddabb696797140474182d1ac8eced4b6e9aed8f1", "TCjSSqU95q97NQvLnyWkgrHEYpJESH5AHw", "TransferAssetContract", "THPC6jX3TP6tUfTAn3RJJjppcQtP895kkf", "1004083", "468000"},
    {"59352daf0d6fa1d9ea4eb4c1eb6a6e664c7a1f3ffdbe51842eaa7e675b7ca1df", "TS6dxrcGzvfAaZAJ5is4VYz9sM7KwCcccc", "TransferContract", "THHzp3qM3BD6fNWAbfiS9kesWZLZ6Sryvq", "TRX", "20000000"},
    {"8ee777c12e2dce4c29bb9652940a2c24f42541526b9b6c59d30bedb7a0dc5bde", "TDKGuuBEcHXj7g28NUZpVy4oG4DQpR2fG6", "TriggerSmartContract", "TAqF1BphciVbxzMR2qJyWdBWRFzz6xj2nh", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "1000"},
    {"21851bcf1faf22c99a7a49c4f246d709cf9f54db2f264ca145adcd464ea155a4", "TUoHaVjx7n5xz8LwPRDckgFrDWhMhuSuJM", "TransferContract", "TUznHJfHe6gdYY7gvWmf6bNZHuPHDZtowf", "TRX", "1000000"},
    {"c558bd35978267d8999baf6148703cbc94786f3f2e22893637588ca05437d7f0", "TPswDDCAWhJAZGdHPidFg5nEf8TkNToDX1", "TransferContract", "TUznHJfHe6gdYY7gvWmf6bNZHuPHDZtowf", "TRX", "10000000"},
    {"c70b20da8cb8d96a99c1aceb283412acb9dea313a9e467178431a3c6ae8b9f08", "TGexEkipwwnskd2rDXWvptwLLhjCTcNeCi", "TriggerSmartContract", "THGb41mLdft1nvi27vcijfZPLN5ZL7yXoN", "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf", "1"},
    {"9c8d4b84e9a71ccaad86b0a96f790067d3fc7ea85c26b425e5d748b81d31a8b8", "TUUSMd58eC3fKx3fn7whxJyr1FR56tgaP8", "TriggerSmartContract", "TR311sD6KasRnofj5RnFiFBA2rH8RH2kYk", "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf", "1"},
};

static const char *text_of(const cw_addr *a)
{
    static char buf[4][CW_ADDR_TEXT_MAX];
    static int k;
    char *out = buf[k++ & 3];
    cr_assert_gt(cw_addr_format(a, out, CW_ADDR_TEXT_MAX), 0);
    return out;
}

static const char *dec_of(const cw_u256 *v)
{
    static char buf[4][CW_U256_DEC_MAX];
    static int k;
    char *out = buf[k++ & 3];
    cw_u256_to_dec(v, out);
    return out;
}

static char *dumps(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    cr_assert_not_null(s);
    return s;
}

/* ---- the 21 real signed txs ---- */

Test(tron, all_real_signed_txs_match_the_oracle)
{
    for (size_t i = 0; i < TRON_SIGNED_TXS; i++) {
        json_t *t = tron_api_tx(i);
        char *text = dumps(t);
        tron_signed s;
        cw_err err = {0};
        cr_assert_eq(tron_signed_parse(text, strlen(text), &s, &err), CW_OK, "tx %zu: %s", i, err.msg);
        char hex[65];
        cw_hex_encode(s.raw.txid, 32, hex);
        cr_assert_str_eq(hex, oracle[i].txid, "tx %zu", i);
        cw_addr a;
        tron_addr(&a, s.signer);
        cr_assert_str_eq(text_of(&a), oracle[i].owner, "tx %zu signer", i);
        cr_assert_str_eq(tron_contract_type_name(s.raw.contract_type), oracle[i].type, "tx %zu", i);
        cr_assert_eq(s.n_sig, 1);
        /* the transfer the tx asks for: the last one (the TRC-20 call after any call value) */
        cr_assert_geq(s.tx.n_xfer, 1, "tx %zu moves something", i);
        const cw_transfer *x = &s.tx.xfer[s.tx.n_xfer - 1];
        cr_assert_str_eq(text_of(&x->from), oracle[i].owner, "tx %zu from", i);
        cr_assert_str_eq(text_of(&x->to), oracle[i].to, "tx %zu to", i);
        cr_assert_str_eq(dec_of(&x->amount), oracle[i].amount, "tx %zu amount", i);
        if (strcmp(oracle[i].asset, "TRX") == 0) {
            cr_assert_eq(x->kind, CW_XFER_VALUE);
            cr_assert_eq(x->asset.kind, CW_ASSET_NATIVE);
        } else if (oracle[i].asset[0] == 'T') {
            cr_assert_eq(x->kind, CW_XFER_TOKEN_CALL);
            cr_assert_eq(x->asset.kind, CW_ASSET_TOKEN);
            cr_assert_str_eq(text_of(&x->asset.contract), oracle[i].asset, "tx %zu token", i);
            /* toAddress/contract_address is the contract, never the recipient */
            cr_assert_str_neq(text_of(&x->to), oracle[i].asset);
        } else {
            cr_assert_eq(x->kind, CW_XFER_TRC10);
            cr_assert_eq(x->asset.kind, CW_ASSET_TRC10);
            cr_assert_eq(x->asset.id, strtoull(oracle[i].asset, NULL, 10));
        }
        cr_assert_eq(s.tx.chain, CW_CHAIN_TRON);
        tron_signed_free(&s);
        free(text);
        json_decref(t);
    }
}

/* The same tx with v as 27/28 (some signers write it so) recovers the same
 * owner; the "txid" spelling of signed_txs.jsonl and a bare signature string
 * are accepted too. */
Test(tron, v_27_28_and_jsonl_spelling)
{
    json_t *l = tron_signed_line(0);
    char sig[131];
    strcpy(sig, json_string_value(json_object_get(l, "signature")));
    cr_assert_str_eq(sig + 128, "01");
    memcpy(sig + 128, "1c", 2); /* 28 */
    json_object_set_new(l, "signature", json_string(sig));
    char *text = dumps(l);
    tron_signed s;
    cw_err err = {0};
    cr_assert_eq(tron_signed_parse(text, strlen(text), &s, &err), CW_OK, "%s", err.msg);
    cw_addr a;
    tron_addr(&a, s.signer);
    cr_assert_str_eq(text_of(&a), oracle[0].owner);
    tron_signed_free(&s);
    free(text);
    json_decref(l);
}

/* ---- malformed signed txs: each refused, naming what failed ---- */

static cw_code parse_api(json_t *t, cw_err *err)
{
    char *text = dumps(t);
    tron_signed s;
    cw_code rc = tron_signed_parse(text, strlen(text), &s, err);
    if (rc == CW_OK)
        tron_signed_free(&s);
    free(text);
    return rc;
}

static void expect_refused(json_t *t, cw_code code, const char *needle)
{
    cw_err err = {0};
    cw_code rc = parse_api(t, &err);
    cr_assert_eq(rc, code, "expected %s, got %s: %s", cw_code_name(code), cw_code_name(rc), err.msg);
    cr_assert(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
    json_decref(t);
}

Test(tron, signed_tx_refusals)
{
    json_t *t;
    /* a txID that is not sha256 of the signed bytes */
    t = tron_api_tx(0);
    json_object_set_new(t, "txID", json_string("1130dfde9281a48378109039ef512229d5359fbee2a8adbb17ad73aebc67ea99"));
    expect_refused(t, CW_ECHECKSUM, "is not sha256(raw_data_hex)");
    /* another tx's signature: a valid key, but not the owner's */
    t = tron_api_tx(0);
    json_t *other = tron_api_tx(9);
    json_object_set(t, "signature", json_object_get(other, "signature"));
    json_decref(other);
    expect_refused(t, CW_ECHECKSUM, "not by the owner TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre");
    /* the other recovery id: another key */
    t = tron_api_tx(9);
    char sig[131];
    strcpy(sig, json_string_value(json_array_get(json_object_get(t, "signature"), 0)));
    sig[129] = sig[129] == '0' ? '1' : '0';
    json_array_set_new(json_object_get(t, "signature"), 0, json_string(sig));
    expect_refused(t, CW_ECHECKSUM, "signature[0]: signature: signed by");
    /* v out of range, a short signature, none at all */
    t = tron_api_tx(9);
    sig[128] = '0', sig[129] = '5';
    json_array_set_new(json_object_get(t, "signature"), 0, json_string(sig));
    expect_refused(t, CW_EFORMAT, "v is 5");
    t = tron_api_tx(9);
    sig[128] = '\0';
    json_array_set_new(json_object_get(t, "signature"), 0, json_string(sig));
    expect_refused(t, CW_EFORMAT, "has 128 hex digits, expected 130");
    t = tron_api_tx(9);
    json_object_del(t, "signature");
    expect_refused(t, CW_EFORMAT, "no \"signature\"");
    t = tron_api_tx(9);
    json_object_set_new(t, "signature", json_array());
    expect_refused(t, CW_EFORMAT, "no \"signature\"");
    /* fields missing or not hex */
    t = tron_api_tx(9);
    json_object_del(t, "txID");
    expect_refused(t, CW_EFORMAT, "no \"txID\"");
    t = tron_api_tx(9);
    json_object_del(t, "raw_data_hex");
    expect_refused(t, CW_EFORMAT, "no \"raw_data_hex\"");
    t = tron_api_tx(9);
    json_object_set_new(t, "raw_data_hex", json_string("0a02zz"));
    expect_refused(t, CW_EFORMAT, "raw_data_hex");
    /* not JSON, not an object */
    cw_err err = {0};
    tron_signed s;
    cr_assert_eq(tron_signed_parse("{\"txID\": ", 9, &s, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "not JSON") != NULL, "%s", err.msg);
    cr_assert_eq(tron_signed_parse("[1]", 3, &s, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "not a JSON object") != NULL, "%s", err.msg);
}

/* raw_data is never read: a raw_data claiming another recipient changes nothing. */
Test(tron, raw_data_json_is_not_trusted)
{
    json_t *t = tron_api_tx_by_id(oracle[0].txid);
    cr_assert_not_null(t);
    json_t *raw = json_object_get(t, "raw_data");
    json_t *c0 = json_array_get(json_object_get(raw, "contract"), 0);
    json_t *v = json_object_get(json_object_get(c0, "parameter"), "value");
    cr_assert_not_null(v);
    json_object_set_new(v, "contract_address", json_string("41a614f803b6fd780986a42c78ec9c7f77e6ded13d"));
    char *text = dumps(t);
    tron_signed s;
    cw_err err = {0};
    cr_assert_eq(tron_signed_parse(text, strlen(text), &s, &err), CW_OK, "%s", err.msg);
    cr_assert_str_eq(text_of(&s.tx.xfer[0].asset.contract), "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    tron_signed_free(&s);
    free(text);
    json_decref(t);
}

/* ---- the protobuf reader on edited real bytes ---- */

/* 979e0823...: a real TransferContract (getblockbynum_30864544). */
static const char transfer_hex[] =
    "0a02f49e2208bf6a4ff33cc1c16040a894b3ad9e2f5a68080112640a2d747970652e676f6f676c65617069732e636f6d2f70726f746f636f"
    "6c2e5472616e73666572436f6e747261637412330a1541c33eeefda1059afba41d86759e281bcb851edfc812154158c85b7b6a5118beb3b2"
    "3c14fcb2f3551a81d79a1880e1eb1770b0dbafad9e2f";

static cw_code parse_hex(const char *hex, tron_raw *r, cw_err *err)
{
    size_t n;
    uint8_t *b = unhex(hex, &n);
    static uint8_t keep[4096];
    cr_assert_leq(n, sizeof keep);
    memcpy(keep, b, n);
    free(b);
    return tron_raw_parse(keep, n, r, err);
}

static void expect_pb(const char *hex, cw_code code, const char *needle)
{
    tron_raw r;
    cw_err err = {0};
    cw_code rc = parse_hex(hex, &r, &err);
    cr_assert_eq(rc, code, "%s: expected %s, got %s: %s", hex, cw_code_name(code), cw_code_name(rc), err.msg);
    cr_assert(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
}

/* hex of transfer_hex with `from` (first occurrence) replaced by `to`, plus `tail` */
static char *edit(const char *from, const char *to, const char *tail)
{
    static char out[8][1024];
    static int k;
    char *o = out[k++ & 7];
    const char *at = from ? strstr(transfer_hex, from) : NULL;
    cr_assert(from == NULL || at, "%s not in the tx", from);
    if (at)
        snprintf(o, 1024, "%.*s%s%s%s", (int)(at - transfer_hex), transfer_hex, to, at + strlen(from), tail);
    else
        snprintf(o, 1024, "%s%s", transfer_hex, tail);
    return o;
}

Test(tron, protobuf_reader)
{
    tron_raw r;
    cw_err err = {0};
    cr_assert_eq(parse_hex(transfer_hex, &r, &err), CW_OK, "%s", err.msg);
    char hex[65];
    cw_hex_encode(r.txid, 32, hex);
    cr_assert_str_eq(hex, "979e0823f455f3b67d65b351052f0265233f422792d31d5dbeb7c24737dd5556");
    cr_assert_eq(r.amount, 50000000);
    cr_assert_eq(r.expiration, 1623055977000);
    cr_assert_eq(r.timestamp, 1623055920560);
    /* cut anywhere: refused, except at the one field boundary after the
     * contract (the optional timestamp dropped), which is another tx: its
     * txid differs, so the txID check refuses it */
    char cut[sizeof transfer_hex];
    size_t whole = 0;
    for (size_t k = 2; k < strlen(transfer_hex); k += 2) {
        memcpy(cut, transfer_hex, k);
        cut[k] = '\0';
        err.msg[0] = '\0';
        cw_code rc = parse_hex(cut, &r, &err);
        if (rc == CW_OK) {
            cw_hex_encode(r.txid, 32, hex);
            cr_assert_str_neq(hex, "979e0823f455f3b67d65b351052f0265233f422792d31d5dbeb7c24737dd5556");
            cr_assert_eq(k / 2, 127, "only the cut before the timestamp (byte 127) parses, not %zu", k / 2);
            whole++;
        } else {
            cr_assert(err.msg[0] != '\0');
        }
    }
    cr_assert_eq(whole, 1);
    expect_pb(edit(NULL, NULL, "5a68080112640a2d747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e5472616e736665"
                               "72436f6e747261637412330a1541c33eeefda1059afba41d86759e281bcb851edfc812154158c85b7b6a5118"
                               "beb3b23c14fcb2f3551a81d79a1880e1eb17"),
              CW_EFORMAT, "a second contract");
    expect_pb(edit(NULL, NULL, "7801"), CW_EFORMAT, "unknown field 15 at byte 134");
    expect_pb(edit(NULL, NULL, "708000"), CW_EFORMAT, "not minimally encoded");
    expect_pb(edit(NULL, NULL, "70ffffffffffffffffff02"), CW_EFORMAT, "over 64 bits");
    expect_pb(edit(NULL, NULL, "0b"), CW_EFORMAT, "wire type 3");
    expect_pb(edit(NULL, NULL, "70b0dbafad9e2f"), CW_EFORMAT, "Transaction.raw.timestamp at byte 134 is repeated");
    expect_pb(edit("5a68", "5a7f", ""), CW_ETRUNC, "field 11 at byte 21: length 127 runs past its message (111 bytes left)");
    expect_pb(edit("0a1541c33e", "0a1542c33e", ""), CW_EFORMAT, "TransferContract.owner_address at byte 76: 21 bytes not starting 0x41");
    expect_pb(edit("0801", "0802", ""), CW_EFORMAT, "does not name TransferAssetContract");
    expect_pb(edit("1880e1eb17", "1d80e1eb17", ""), CW_EFORMAT, "TransferContract.amount at byte 122: wire type 5, expected varint (0)");
    expect_pb("", CW_ETRUNC, "no bytes");
    expect_pb("0a02f49e", CW_EFORMAT, "has no contract");
}

/* ---- blocks and transaction infos over HTTP ---- */

Test(tron, real_getblockbynum_bodies)
{
    static const struct {
        const char *file;
        int64_t number;
        const char *txid, *from, *to, *amount;
    } blocks[] = {
        {"tron/api/getblockbynum_30864544.getblock-docs.json", 30864544,
         "979e0823f455f3b67d65b351052f0265233f422792d31d5dbeb7c24737dd5556", "TTmaAAbFPtACn1amP3FBkmmUygFh8udAvA",
         "TJ4eV1hnVAiFmeArBsuL6GkgTGVnWBe7eV", "50000000"},
        {"tron/api/getnowblock_47964392.getblock-docs.json", 47964392,
         "30232b8c605f7a3651390ac5fd69d2f8d244791624e9f03d190f5d6cb465bb5e", NULL, NULL, "1"},
    };
    for (size_t i = 0; i < 2; i++) {
        size_t n;
        char *text = (char *)fixture(blocks[i].file, &n);
        tron_block b;
        cw_err err = {0};
        cr_assert_eq(tron_block_parse(text, n, &b, &err), CW_OK, "%s: %s", blocks[i].file, err.msg);
        cr_assert_eq(b.number, blocks[i].number);
        cr_assert_eq(b.n_tx, 1);
        char hex[65];
        cw_hex_encode(b.txs[0].txid, 32, hex);
        cr_assert_str_eq(hex, blocks[i].txid);
        cr_assert_eq(b.txs[0].n_xfer, 1);
        cr_assert_eq(b.txs[0].xfer[0].kind, CW_XFER_VALUE);
        cr_assert_str_eq(dec_of(&b.txs[0].xfer[0].amount), blocks[i].amount);
        if (blocks[i].from) {
            cr_assert_str_eq(text_of(&b.txs[0].xfer[0].from), blocks[i].from);
            cr_assert_str_eq(text_of(&b.txs[0].xfer[0].to), blocks[i].to);
        }
        /* no infos for a block of TRX transfers: {} is that */
        cr_assert_eq(tron_block_apply_infos(&b, "{}", 2, &err), CW_OK, "%s", err.msg);
        cr_assert_eq(b.txs[0].n_xfer, 1);
        tron_block_free(&b);
        /* the block cut, edited or empty */
        cr_assert_neq(tron_block_parse(text, n / 2, &b, &err), CW_OK);
        cr_assert(strstr(err.msg, "not JSON") != NULL, "%s", err.msg);
        char *edited = strdup(text);
        char *p = strstr(edited, "\"txID\": \"");
        cr_assert_not_null(p);
        p[9] = p[9] == '0' ? '1' : '0';
        cr_assert_eq(tron_block_parse(edited, n, &b, &err), CW_ECHECKSUM);
        cr_assert(strstr(err.msg, "transactions[0]: txID") != NULL, "%s", err.msg);
        free(edited);
        free(text);
    }
    tron_block b;
    cw_err err = {0};
    cr_assert_eq(tron_block_parse("{}", 2, &b, &err), CW_ENOTFOUND);
}

/* A block of three real mainnet txs (USDT, TRX, TRC-10) with their real
 * infos: the USDT recipient comes from the Transfer log. */
Test(tron, block_with_infos)
{
    const int64_t num = 69316562;
    const char *ids[] = {"0130dfde9281a48378109039ef512229d5359fbee2a8adbb17ad73aebc67ea99",
                         "5144c4f5a52a08e57dfdf550b4f925c396e68c59a80339cea69497bee116437f",
                         "034897cb63856eeb5c224c5fa9ff5d4c94af36d9e1e9087d5bcc9fd665fb5a6d"};
    json_t *txs = json_array(), *infos = json_array();
    for (int i = 0; i < 3; i++) {
        json_array_append_new(txs, tron_api_tx_by_id(ids[i]));
        json_array_append_new(infos, tron_info_by_id(ids[i], num));
    }
    char *body = tron_block_body(num, 0xaa, "0000000004219ad1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1738601505000, txs);
    char *itext = dumps(infos);
    tron_block b;
    cw_err err = {0};
    cr_assert_eq(tron_block_parse(body, strlen(body), &b, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(b.n_tx, 3);
    cr_assert_eq(b.txs[0].n_xfer, 0, "no calldata transfer for a mined tx before its infos");
    /* infos that do not belong: another block number, an unknown id, a missing one */
    json_t *bad = json_deep_copy(infos);
    json_object_set_new(json_array_get(bad, 1), "blockNumber", json_integer(num + 1));
    char *bt = dumps(bad);
    cr_assert_eq(tron_block_apply_infos(&b, bt, strlen(bt), &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "blockNumber 69316563, not 69316562") != NULL, "%s", err.msg);
    free(bt);
    json_array_remove(bad, 0);
    json_object_set_new(json_array_get(bad, 0), "blockNumber", json_integer(num));
    bt = dumps(bad);
    cr_assert_eq(tron_block_apply_infos(&b, bt, strlen(bt), &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "no info for contract call 0130dfde") != NULL, "%s", err.msg);
    free(bt);
    json_decref(bad);
    cr_assert_eq(b.txs[0].n_xfer, 0, "a refused apply changes nothing");

    cr_assert_eq(tron_block_apply_infos(&b, itext, strlen(itext), &err), CW_OK, "%s", err.msg);
    const cw_transfer *x = &b.txs[0].xfer[0];
    cr_assert_eq(b.txs[0].n_xfer, 1);
    cr_assert_eq(x->kind, CW_XFER_TOKEN_LOG);
    cr_assert_eq(x->index, 0);
    cr_assert_str_eq(text_of(&x->from), "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre");
    cr_assert_str_eq(text_of(&x->to), "TXVj38D1XR3TPgSHTCZGC8wkLDAGqF1oqx");
    cr_assert_str_eq(text_of(&x->asset.contract), "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    cr_assert_str_eq(dec_of(&x->amount), "41677389");
    cr_assert_eq(b.txs[1].n_xfer, 1);
    cr_assert_str_eq(text_of(&b.txs[1].xfer[0].from), "TD3UjWy82fFre6VEqEVpK2J2HKm3NewYE3");
    cr_assert_str_eq(dec_of(&b.txs[1].xfer[0].amount), "1");
    cr_assert_eq(b.txs[2].n_xfer, 1);
    cr_assert_eq(b.txs[2].xfer[0].kind, CW_XFER_TRC10);
    cr_assert_eq(b.txs[2].xfer[0].asset.id, 1005065);
    cr_assert_str_eq(text_of(&b.txs[2].xfer[0].from), "TGkKgKy8dKNE6u1wmwo8Tnf5XsZrrJ8Lbz");
    cr_assert_str_eq(text_of(&b.txs[2].xfer[0].to), "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre");
    cr_assert_str_eq(dec_of(&b.txs[2].xfer[0].amount), "8888880000");
    for (int i = 0; i < 3; i++)
        cr_assert_eq(b.txs[i].flags & CW_TX_FAILED, 0);
    tron_block_free(&b);
    free(body);
    free(itext);
    json_decref(txs);
    json_decref(infos);
}

/* The real gettransactioninfobyblocknum_30864600 body: its USDT Transfer
 * log read (amount int(data, 16) = 532079999). Its block's txs are not in
 * the data, so a block is built with its two ids' tx stand-ins... which is
 * not possible with signed bytes: the infos are checked for shape only by
 * applying them to a block that holds no tx (ids unknown -> refused). */
Test(tron, real_infos_body_is_checked_against_the_block)
{
    size_t n;
    char *text = (char *)fixture("tron/api/gettransactioninfobyblocknum_30864600.getblock-docs.json", &n);
    char *body = tron_block_body(30864600, 0x11, "0000000001d6f4d7000000000000000000000000000000000000000000000000",
                                 1623056091000, NULL);
    tron_block b;
    cw_err err = {0};
    cr_assert_eq(tron_block_parse(body, strlen(body), &b, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(tron_block_apply_infos(&b, text, n, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "id 8971d5c2c3b45dee02860ce821e9c2ba601424c311a7a80545848a4c4c09b4a1 is not a tx of the "
                              "block") != NULL,
              "%s", err.msg);
    tron_block_free(&b);
    free(body);
    free(text);
}

/* ---- triggers ---- */

static char *sample(const char *name, size_t *n)
{
    char rel[128];
    snprintf(rel, sizeof rel, "tron/sample_%s_nile_2021-07-21.json", name);
    return (char *)fixture(rel, n);
}

Test(tron, real_trigger_samples)
{
    size_t n;
    cw_err err = {0};
    tron_trigger t;
    char *text = sample("blockTrigger", &n);
    cr_assert_eq(tron_trigger_parse(TRON_TRIG_BLOCK, text, n, &t, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(t.block_number, 17924932);
    cr_assert_eq(t.solidified, 17924914);
    cr_assert_eq(t.tx_count, 0);
    cr_assert_eq(t.time_ms, 1626887961000);
    char hex[65];
    cw_hex_encode(t.block_hash, 32, hex);
    cr_assert_str_eq(hex, "000000000111834415f8ef62981126da6a34d15d712ed6cf7b81342ba069a08b");
    tron_trigger_free(&t);
    /* the topic frame must name the JSON's trigger */
    cr_assert_eq(tron_trigger_parse(TRON_TRIG_TX, text, n, &t, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "not the topic frame's") != NULL, "%s", err.msg);
    tron_trigger_free(&t);
    free(text);

    text = sample("transactionTrigger", &n);
    cr_assert_eq(tron_trigger_parse(TRON_TRIG_TX, text, n, &t, &err), CW_OK, "%s", err.msg);
    cw_hex_encode(t.txid, 32, hex);
    cr_assert_str_eq(hex, "d51101d58a80a36fad4588bac295c277b0360904ce8584e5a90184536f6af38c");
    cr_assert_eq(t.block_number, 17925042);
    cr_assert_eq(t.contract_type, TRON_CT_TRIGGER_SMART);
    /* an older java-tron: fromAddress null, no logList: not enough to know the transfers */
    cr_assert_not(t.complete);
    cr_assert_eq(t.tx.flags & CW_TX_FAILED, 0);
    tron_trigger_free(&t);
    free(text);

    text = sample("contractEventTrigger", &n);
    cr_assert_eq(tron_trigger_parse(TRON_TRIG_EVENT, text, n, &t, &err), CW_OK, "%s", err.msg);
    cw_hex_encode(t.txid, 32, hex);
    cr_assert_str_eq(hex, "533a57d3238e7648057d14ef6e1f73bd3d6a2444417c35fd6b2e30f22a97eeeb");
    cr_assert_eq(t.block_number, 17924978);
    cr_assert_eq(t.tx.n_xfer, 0, "SendCommission is not a Transfer");
    cr_assert_not(t.removed);
    tron_trigger_free(&t);
    free(text);
}

/* A transactionTrigger of today's java-tron (ethCompatible: logList) for
 * the real USDT tx 0130dfde, with its real log, as TransactionLogTrigger
 * serialises it (Jackson: every field, nulls included). */
static const char usdt_tx_trigger[] =
    "{\"timeStamp\":1738601505000,\"triggerName\":\"transactionTrigger\",\"transactionId\":"
    "\"0130dfde9281a48378109039ef512229d5359fbee2a8adbb17ad73aebc67ea99\",\"blockHash\":"
    "\"000000000421b0d2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"blockNumber\":69316562,\"energyUsage\":4475,"
    "\"energyFee\":26420100,\"originEnergyUsage\":0,\"energyUsageTotal\":130285,\"netUsage\":345,\"netFee\":0,"
    "\"result\":\"SUCCESS\",\"contractAddress\":null,\"contractType\":\"TriggerSmartContract\",\"feeLimit\":50000000,"
    "\"contractCallValue\":0,\"contractResult\":\"\",\"fromAddress\":\"TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre\","
    "\"toAddress\":\"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t\",\"assetName\":null,\"assetAmount\":0,"
    "\"latestSolidifiedBlockNumber\":69316543,\"internalTransactionList\":[],\"data\":\"\",\"transactionIndex\":0,"
    "\"cumulativeEnergyUsed\":130285,\"preCumulativeLogCount\":0,\"logList\":[{\"address\":"
    "\"a614f803b6fd780986a42c78ec9c7f77e6ded13c\",\"blockHash\":"
    "\"000000000421b0d2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"blockNumber\":69316562,\"data\":"
    "\"00000000000000000000000000000000000000000000000000000000027bf24d\",\"logIndex\":0,\"topicList\":["
    "\"ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef\","
    "\"0000000000000000000000006e3b44b96104b26f84057974a1f0c9880f7c9b13\","
    "\"000000000000000000000000ec20315a879c48f5e3a6a1c9826d5225f8b658b8\"],\"transactionHash\":"
    "\"0130dfde9281a48378109039ef512229d5359fbee2a8adbb17ad73aebc67ea99\",\"transactionIndex\":0}],"
    "\"energyUnitPrice\":210,\"extMap\":null}";

Test(tron, usdt_transaction_trigger_with_log_list)
{
    tron_trigger t;
    cw_err err = {0};
    cr_assert_eq(tron_trigger_parse(TRON_TRIG_TX, usdt_tx_trigger, strlen(usdt_tx_trigger), &t, &err), CW_OK, "%s",
                 err.msg);
    cr_assert(t.complete);
    cr_assert_eq(t.tx.n_xfer, 1);
    const cw_transfer *x = &t.tx.xfer[0];
    cr_assert_eq(x->kind, CW_XFER_TOKEN_LOG);
    cr_assert_str_eq(text_of(&x->from), "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre");
    cr_assert_str_eq(text_of(&x->to), "TXVj38D1XR3TPgSHTCZGC8wkLDAGqF1oqx", "the log's recipient, not toAddress");
    cr_assert_str_eq(dec_of(&x->amount), "41677389");
    cr_assert_str_eq(text_of(&x->asset.contract), "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    tron_trigger_free(&t);
    /* TRC-10 sent with the call, when the trigger names it: one more transfer, to the contract */
    char *tok = strdup(usdt_tx_trigger);
    char *q = strstr(tok, "\"assetName\":null,\"assetAmount\":0");
    cr_assert_not_null(q);
    char edited[sizeof usdt_tx_trigger + 32];
    snprintf(edited, sizeof edited, "%.*s\"assetName\":\"1002000\",\"assetAmount\":5%s", (int)(q - tok), tok,
             q + strlen("\"assetName\":null,\"assetAmount\":0"));
    cr_assert_eq(tron_trigger_parse(TRON_TRIG_TX, edited, strlen(edited), &t, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(t.tx.n_xfer, 2);
    cr_assert_eq(t.tx.xfer[0].kind, CW_XFER_TRC10);
    cr_assert_eq(t.tx.xfer[0].asset.id, 1002000);
    cr_assert_str_eq(text_of(&t.tx.xfer[0].to), "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    cr_assert_str_eq(dec_of(&t.tx.xfer[0].amount), "5");
    cr_assert_eq(t.tx.xfer[1].kind, CW_XFER_TOKEN_LOG);
    tron_trigger_free(&t);
    free(tok);
    /* a reverted one: FAILED */
    char *failed = strdup(usdt_tx_trigger);
    char *p = strstr(failed, "\"SUCCESS\"");
    memcpy(p, "\"REVERT\" ", 9);
    cr_assert_eq(tron_trigger_parse(TRON_TRIG_TX, failed, strlen(failed), &t, &err), CW_OK, "%s", err.msg);
    cr_assert(t.tx.flags & CW_TX_FAILED);
    tron_trigger_free(&t);
    free(failed);
}

Test(tron, trigger_refusals)
{
    static const struct {
        tron_trigger_kind kind;
        const char *json, *needle;
    } bad[] = {
        {TRON_TRIG_BLOCK, "{\"triggerName\":\"blockTrigger\",\"blockNumber\":5,\"blockHash\":\"00\",\"transactionSize\":0,"
                          "\"transactionList\":[]}", "\"blockHash\" has 2 hex digits, expected 64"},
        {TRON_TRIG_BLOCK, "{\"triggerName\":\"blockTrigger\",\"blockNumber\":5,\"blockHash\":"
                          "\"000000000111834415f8ef62981126da6a34d15d712ed6cf7b81342ba069a08b\",\"transactionSize\":2,"
                          "\"transactionList\":[]}", "transactionSize 2 but 0 ids"},
        {TRON_TRIG_BLOCK, "{\"triggerName\":\"blockTrigger\",\"blockNumber\":-5}", "\"blockNumber\" is not a whole number"},
        {TRON_TRIG_TX, "{\"triggerName\":\"transactionTrigger\",\"blockNumber\":5,\"transactionId\":"
                       "\"d51101d58a80a36fad4588bac295c277b0360904ce8584e5a90184536f6af38c\",\"contractType\":\"Nope\"}",
         "unknown contractType \"Nope\""},
        {TRON_TRIG_TX, "{\"triggerName\":\"transactionTrigger\",\"blockNumber\":5,\"transactionId\":"
                       "\"d51101d58a80a36fad4588bac295c277b0360904ce8584e5a90184536f6af38c\",\"contractType\":"
                       "\"TransferContract\",\"fromAddress\":\"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u\"}",
         "\"fromAddress\" is not a Tron address"},
        {TRON_TRIG_TX, "{\"triggerName\":\"transactionTrigger\",\"blockNumber\":5,\"transactionId\":"
                       "\"d51101d58a80a36fad4588bac295c277b0360904ce8584e5a90184536f6af38c\",\"contractType\":"
                       "\"TransferContract\",\"toAddress\":\"0x098B716B8Aaf21512996dC57EB0615e2383E2f96\"}",
         "\"toAddress\" is another chain's address"},
        {TRON_TRIG_LOG, "{\"triggerName\":\"contractLogTrigger\",\"blockNumber\":5,\"transactionId\":"
                        "\"d51101d58a80a36fad4588bac295c277b0360904ce8584e5a90184536f6af38c\",\"uniqueId\":\"x_1\"}",
         "is not transactionId_N"},
        {TRON_TRIG_SOLIDITY, "{\"triggerName\":\"solidityTrigger\"}", "no \"latestSolidifiedBlockNumber\""},
        {TRON_TRIG_SOLIDITY, "[]", "not a JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tron_trigger t;
        cw_err err = {0};
        cr_assert_eq(tron_trigger_parse(bad[i].kind, bad[i].json, strlen(bad[i].json), &t, &err), CW_EFORMAT, "case %zu",
                     i);
        cr_assert(strstr(err.msg, bad[i].needle) != NULL, "case %zu: '%s' lacks '%s'", i, err.msg, bad[i].needle);
        tron_trigger_free(&t);
    }
    cr_assert_eq(tron_trigger_kind_of("contractLogTrigger", 18), TRON_TRIG_LOG);
    cr_assert_eq(tron_trigger_kind_of("contractLog", 11), 0, "prefix matching is ZeroMQ's, not ours");
    tron_trigger t;
    cw_err err = {0};
    static const char sol[] = "{\"triggerName\":\"solidityTrigger\",\"timeStamp\":1,\"latestSolidifiedBlockNumber\":17924914}";
    cr_assert_eq(tron_trigger_parse(TRON_TRIG_SOLIDITY, sol, strlen(sol), &t, &err),
                 CW_OK, "%s", err.msg);
    cr_assert_eq(t.solidified, 17924914);
    tron_trigger_free(&t);
}

/* ---- the three value-moving contracts, field by field ---- */

/* Contract-level refusals, each message whole (field and byte offset).
 * The bytes and offsets are built by a Python protobuf encoder (wrapper
 * Transaction.raw.contract{type, parameter Any{type_url, value}}, the
 * offsets of each field counted there), not by this code; the messages
 * are the ones tx.c gave before its three readers became one table-driven
 * loop. */
Test(tron, contract_field_refusals)
{
    static const struct {
        const char *hex, *msg;
    } cases[] = {
    {"5a7a080112760a2d747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e5472616e73666572436f6e747261637412450a15410102030405060708090a0b0c0d0e0f10111213140a15410102030405060708090a0b0c0d0e0f101112131412154115161718191a1b1c1d1e1f202122232425262728", "TransferContract.owner_address at byte 78 is repeated"},
    {"5a4c080112480a2d747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e5472616e73666572436f6e747261637412170a15410102030405060708090a0b0c0d0e0f1011121314", "TransferContract at byte 55 has no to_address"},
    {"5a4e0801124a0a2d747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e5472616e73666572436f6e7472616374121912154115161718191a1b1c1d1e1f2021222324252627281805", "TransferContract at byte 55 has no owner_address"},
    {"5a6e0801126a0a2d747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e5472616e73666572436f6e747261637412390a15410102030405060708090a0b0c0d0e0f101112131412154115161718191a1b1c1d1e1f20212223242526272818ffffffffffffffffff01", "TransferContract.amount at byte 101 is negative"},
    {"5a65080112610a2d747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e5472616e73666572436f6e747261637412300a15410102030405060708090a0b0c0d0e0f101112131412154115161718191a1b1c1d1e1f2021222324252627283801", "TransferContract: unknown field 7 at byte 101"},
    {"5a620801125e0a2d747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e5472616e73666572436f6e7472616374122d0a15410102030405060708090a0b0c0d0e0f101112131412144115161718191a1b1c1d1e1f2021222324252627", "TransferContract.to_address at byte 78: 20 bytes, expected 21 bytes starting 0x41"},
    {"5a6f0802126b0a32747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e5472616e736665724173736574436f6e747261637412350a0531306162631215410102030405060708090a0b0c0d0e0f10111213141a154115161718191a1b1c1d1e1f202122232425262728", "TransferAssetContract.asset_name at byte 62 is not a TRC-10 id: byte 64 is not a digit (a token name from before allowSameTokenName?)"},
    {"5a6a080212660a32747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e5472616e736665724173736574436f6e747261637412301215410102030405060708090a0b0c0d0e0f10111213141a154115161718191a1b1c1d1e1f2021222324252627282009", "TransferAssetContract at byte 60 has no asset_name"},
    {"5a3e0802123a0a32747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e5472616e736665724173736574436f6e7472616374120408c1843d", "TransferAssetContract.asset_name at byte 60: wire type 0, expected bytes (2)"},
    {"5a4c080212480a32747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e5472616e736665724173736574436f6e747261637412120a07313030303030310a0731303030303032", "TransferAssetContract.asset_name at byte 69 is repeated"},
    {"5a5a080212560a32747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e5472616e736665724173736574436f6e747261637412200a07313030303030311215410102030405060708090a0b0c0d0e0f1011121314", "TransferAssetContract at byte 60 has no to_address"},
    {"5a69081f12650a31747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e54726967676572536d617274436f6e747261637412300a15410102030405060708090a0b0c0d0e0f101112131412154115161718191a1b1c1d1e1f2021222324252627282003", "TriggerSmartContract.data at byte 105: wire type 0, expected bytes (2)"},
    {"5a6d081f12690a31747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e54726967676572536d617274436f6e747261637412340a15410102030405060708090a0b0c0d0e0f101112131412154115161718191a1b1c1d1e1f2021222324252627282201a92201a9", "TriggerSmartContract.data at byte 108 is repeated"},
    {"5a52081f124e0a31747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e54726967676572536d617274436f6e747261637412190a15410102030405060708090a0b0c0d0e0f10111213141801", "TriggerSmartContract at byte 59 has no contract_address"},
    {"5a72081f126e0a31747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e54726967676572536d617274436f6e747261637412390a15410102030405060708090a0b0c0d0e0f101112131412154115161718191a1b1c1d1e1f2021222324252627283080808080808080808001", "TriggerSmartContract.token_id at byte 105 is negative"},
    {"5a6a081f12660a31747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e54726967676572536d617274436f6e747261637412310a15410102030405060708090a0b0c0d0e0f101112131412154115161718191a1b1c1d1e1f2021222324252627282a0178", "TriggerSmartContract.call_token_value at byte 105: wire type 2, expected varint (0)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tron_raw r;
        cw_err err = {0};
        cw_code rc = parse_hex(cases[i].hex, &r, &err);
        cr_assert_eq(rc, CW_EFORMAT, "case %zu: %s (%s)", i, cw_code_name(rc), err.msg);
        cr_assert_str_eq(err.msg, cases[i].msg, "case %zu", i);
    }
}

/* A TRC-10 transfer and a trigger with every field: each value lands in
 * its place (same Python encoder; accounts 0x41 01..14 and 0x41 15..28). */
Test(tron, contract_fields_read)
{
    tron_raw r;
    cw_err err = {0};
    cr_assert_eq(parse_hex("5a76080212720a32747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e5472616e73666572"
                           "4173736574436f6e7472616374123c0a07313030323030301215410102030405060708090a0b0c0d0e0f101112"
                           "13141a154115161718191a1b1c1d1e1f20212223242526272820959aef3a",
                           &r, &err),
                 CW_OK, "%s", err.msg);
    cr_assert_eq(r.contract_type, TRON_CT_TRANSFER_ASSET);
    cr_assert_eq(r.asset_id, 1002000);
    cr_assert_eq(r.amount, 123456789);
    cr_assert(r.has_owner && r.has_to && !r.has_contract);
    cr_assert_eq(r.owner[0], 1);
    cr_assert_eq(r.owner[19], 20);
    cr_assert_eq(r.to[0], 21);
    cr_assert_eq(r.to[19], 40);
    cw_transfer xf[TRON_CALL_XFER_MAX];
    size_t nx;
    cr_assert_eq(tron_raw_transfers(&r, true, xf, &nx, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(nx, 1);
    cr_assert_eq(xf[0].kind, CW_XFER_TRC10);
    cr_assert_eq(xf[0].asset.kind, CW_ASSET_TRC10);
    cr_assert_eq(xf[0].asset.id, 1002000);
    cr_assert_eq(xf[0].amount.w[0], 123456789);
    cr_assert_eq(xf[0].from.payload[0], 1);
    cr_assert_eq(xf[0].to.payload[0], 21);
    cr_assert_eq(parse_hex("5a75081f12710a31747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e54726967676572536d"
                           "617274436f6e7472616374123c0a15410102030405060708090a0b0c0d0e0f101112131412154115161718191a"
                           "1b1c1d1e1f20212223242526272818072204a9059cbb28083090943d",
                           &r, &err),
                 CW_OK, "%s", err.msg);
    cr_assert_eq(r.contract_type, TRON_CT_TRIGGER_SMART);
    cr_assert(r.has_owner && r.has_contract && !r.has_to);
    cr_assert_eq(r.contract[0], 21);
    cr_assert_eq(r.call_value, 7);
    cr_assert_eq(r.call_token_value, 8);
    cr_assert_eq(r.token_id, 1002000);
    cr_assert_eq(r.call_data.n, 4);
    cr_assert_eq(memcmp(r.call_data.p, "\xa9\x05\x9c\xbb", 4), 0);
    /* without calldata: the TRX and the TRC-10 sent along, to the contract */
    cr_assert_eq(tron_raw_transfers(&r, false, xf, &nx, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(nx, 2);
    cr_assert_eq(xf[0].kind, CW_XFER_VALUE);
    cr_assert_eq(xf[0].asset.kind, CW_ASSET_NATIVE);
    cr_assert_eq(xf[0].amount.w[0], 7);
    cr_assert_eq(xf[0].to.payload[0], 21);
    cr_assert_eq(xf[1].kind, CW_XFER_TRC10);
    cr_assert_eq(xf[1].asset.kind, CW_ASSET_TRC10);
    cr_assert_eq(xf[1].asset.id, 1002000);
    cr_assert_eq(xf[1].amount.w[0], 8);
    cr_assert_eq(xf[1].from.payload[0], 1);
    /* with it: a transfer selector whose arguments are missing is refused */
    cr_assert_eq(tron_raw_transfers(&r, true, xf, &nx, &err), CW_EFORMAT);
}
