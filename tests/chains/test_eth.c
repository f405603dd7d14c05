/* Ethereum transactions: every case of ethereum/tests TransactionTests
 * (../shared/data/eth), each run under the latest fork its file has a
 * result for; RLP edge cases; hand-made malformed txs; ERC-20 calldata
 * and logs; re-encoding from fields. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/ethereum/erc20.h"
#include "chains/ethereum/rlp.h"
#include "chains/ethereum/tx.h"
#include "chains/hex.h"
#include "chains/keccak.h"
#include "tests/support.h"

/* ---- the TransactionTests corpus ---- */

/* Where a refused case was refused. */
enum { STAGE_OK, STAGE_DECODE, STAGE_CHECK, STAGE_RECOVER };

typedef struct {
    const char *prefix; /* exception name prefix after "TransactionException." */
    unsigned stages;    /* bit per stage allowed to refuse it */
    const char *words;  /* one of these '|'-separated words must be in the message */
} exc_rule;

#define S(x) (1u << (x))
/* What each exception of the data means, and how chainwatch must refuse it. */
static const exc_rule EXC[] = {
    {"RLP_LEADING_ZEROS", S(STAGE_DECODE), "leading zero|non-canonical"},
    {"RLP_INVALID_ACCESS_LIST_ADDRESS", S(STAGE_DECODE), "accessList address"},
    {"RLP_INVALID_ACCESS_LIST_STORAGE", S(STAGE_DECODE), "accessList storageKey"},
    {"ADDRESS_TOO", S(STAGE_DECODE), "field to"},
    {"NONCE_OVERFLOW", S(STAGE_DECODE), "field nonce"},
    {"GASLIMIT_OVERFLOW", S(STAGE_DECODE), "field gasLimit"},
    {"VALUE_OVERFLOW", S(STAGE_DECODE), "field value"},
    {"GASPRICE_OVERFLOW", S(STAGE_DECODE), "field gasPrice|field maxFeePerGas"},
    {"PRIORITY_OVERFLOW", S(STAGE_DECODE), "field maxPriorityFeePerGas"},
    {"NONCE_TOO_BIG", S(STAGE_CHECK), "EIP-2681"},
    {"GASLIMIT_PRICE_PRODUCT_OVERFLOW", S(STAGE_CHECK), "gasLimit *"},
    {"PRIORITY_GREATER_THAN_MAX_FEE", S(STAGE_CHECK), "above maxFeePerGas"},
    {"INTRINSIC_GAS_TOO_LOW", S(STAGE_CHECK), "intrinsic gas"},
    {"INITCODE_SIZE_EXCEEDED", S(STAGE_CHECK), "EIP-3860"},
    {"INVALID_CHAINID", S(STAGE_DECODE) | S(STAGE_CHECK), "chain id|field v"},
    {"INVALID_SIGNATURE_VRS", S(STAGE_DECODE) | S(STAGE_RECOVER), "signature|field v|field r|field s|yParity"},
    {"EC_RECOVERY_FAIL", S(STAGE_RECOVER), "signature"},
};

static const struct {
    const char *name;
    eth_fork fork;
} FORKS[] = {{"Prague", ETH_FORK_PRAGUE}, {"Cancun", ETH_FORK_CANCUN}, {"Shanghai", ETH_FORK_SHANGHAI},
             {"Paris", ETH_FORK_LONDON},  {"London", ETH_FORK_LONDON}};

typedef struct {
    size_t valid, invalid;
} fork_count;

static bool has_word(const char *msg, const char *words)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", words);
    for (char *save = NULL, *w = strtok_r(buf, "|", &save); w; w = strtok_r(NULL, "|", &save))
        if (strstr(msg, w))
            return true;
    return false;
}

/* Runs one case; returns false (with why) on a disagreement. */
static bool run_case(const char *file, json_t *test, fork_count counts[], char *why, size_t whylen)
{
    json_t *result = json_object_get(test, "result");
    const char *txhex = json_string_value(json_object_get(test, "txbytes"));
    cr_assert_not_null(txhex, "%s: no txbytes", file);
    size_t fi = 0;
    json_t *r = NULL;
    for (; fi < sizeof FORKS / sizeof FORKS[0]; fi++)
        if ((r = json_object_get(result, FORKS[fi].name)))
            break;
    cr_assert_not_null(r, "%s: no result for London or later", file);
    size_t n;
    uint8_t *bytes = unhex(txhex + 2, &n);
    eth_tx tx;
    eth_signer who;
    cw_err err = {0};
    /* Decode; then the rules and the signature, each on its own, so a
     * case is matched against the reason its exception names. */
    int stage = STAGE_DECODE;
    cw_err cerr = {0}, rerr = {0};
    bool check_ok = false, rec_ok = false;
    eth_rules rules = {FORKS[fi].fork, 1};
    if (eth_tx_decode(bytes, n, &tx, &err) == CW_OK) {
        check_ok = eth_tx_check(&tx, &rules, &cerr) == CW_OK;
        rec_ok = eth_tx_recover(&tx, &who, &rerr) == CW_OK;
        stage = !check_ok ? STAGE_CHECK : !rec_ok ? STAGE_RECOVER : STAGE_OK;
        err = !check_ok ? cerr : rerr;
    }
    const char *exc = json_string_value(json_object_get(r, "exception"));
    bool ok = true;
    if (!exc) {
        counts[fi].valid++;
        if (stage != STAGE_OK) {
            snprintf(why, whylen, "%s (%s): valid case refused at stage %d: %s", file, FORKS[fi].name, stage, err.msg);
            ok = false;
        } else {
            uint8_t h[32];
            char hh[67] = "0x", sh[43] = "0x";
            eth_tx_hash(&tx, h);
            cw_hex_encode(h, 32, hh + 2);
            cw_hex_encode(who.addr, 20, sh + 2);
            const char *want_h = json_string_value(json_object_get(r, "hash"));
            const char *want_s = json_string_value(json_object_get(r, "sender"));
            uint8_t raw_h[32];
            cw_keccak256(bytes, n, raw_h);
            if (strcmp(hh, want_h) || strcmp(sh, want_s) || memcmp(raw_h, h, 32)) {
                snprintf(why, whylen, "%s: hash %s sender %s, want %s %s", file, hh, sh, want_h, want_s);
                ok = false;
            }
            /* The bytes rebuilt from the fields are the input. */
            uint8_t *again = malloc(n);
            size_t len;
            if (ok && (eth_tx_encode(&tx, again, n, &len, &err) != CW_OK || len != n || memcmp(again, bytes, n))) {
                snprintf(why, whylen, "%s: re-encoding differs (%zu bytes, %s)", file, len, err.msg);
                ok = false;
            }
            free(again);
        }
    } else {
        counts[fi].invalid++;
        const char *name = strncmp(exc, "TransactionException.", 21) == 0 ? exc + 21 : exc;
        const exc_rule *rule = NULL;
        for (size_t i = 0; i < sizeof EXC / sizeof EXC[0]; i++)
            if (strncmp(name, EXC[i].prefix, strlen(EXC[i].prefix)) == 0)
                rule = &EXC[i];
        if (stage == STAGE_OK) {
            snprintf(why, whylen, "%s (%s): accepted, expected %s", file, FORKS[fi].name, name);
            ok = false;
        } else if (rule && !(stage == STAGE_DECODE ? (rule->stages & S(STAGE_DECODE)) && has_word(err.msg, rule->words)
                                                   : ((rule->stages & S(STAGE_CHECK)) && !check_ok &&
                                                      has_word(cerr.msg, rule->words)) ||
                                                         ((rule->stages & S(STAGE_RECOVER)) && !rec_ok &&
                                                          has_word(rerr.msg, rule->words)))) {
            snprintf(why, whylen, "%s (%s): %s refused at stage %d with \"%s\"", file, FORKS[fi].name, name, stage,
                     err.msg);
            ok = false;
        } else if (!rule && stage != STAGE_DECODE) {
            /* Exceptions not in the table (older forks' RLP errors) must be refused by the decoder. */
            snprintf(why, whylen, "%s (%s): %s refused at stage %d: %s", file, FORKS[fi].name, name, stage, err.msg);
            ok = false;
        }
        if (ok && stage == STAGE_DECODE && (err.offset == CW_NO_OFFSET || err.offset > n)) {
            snprintf(why, whylen, "%s: decode error without a byte offset: %s", file, err.msg);
            ok = false;
        }
    }
    free(bytes);
    return ok;
}

Test(eth, transaction_tests_every_case)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/eth/TransactionTests", CW_DATA_DIR);
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s", dir);
    fork_count counts[sizeof FORKS / sizeof FORKS[0]] = {{0}};
    size_t cases = 0, bad = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[1300];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        DIR *d2 = opendir(sub);
        cr_assert_not_null(d2, "%s", sub);
        struct dirent *f;
        while ((f = readdir(d2))) {
            size_t l = strlen(f->d_name);
            if (l < 6 || strcmp(f->d_name + l - 5, ".json"))
                continue;
            char rel[1300];
            snprintf(rel, sizeof rel, "eth/TransactionTests/%s/%s", e->d_name, f->d_name);
            json_t *j = fixture_json(rel);
            const char *k;
            json_t *test;
            json_object_foreach(j, k, test) {
                char why[4096];
                cases++;
                if (!run_case(rel, test, counts, why, sizeof why)) {
                    bad++;
                    cr_log_error("%s", why);
                }
            }
            json_decref(j);
        }
        closedir(d2);
    }
    closedir(d);
    cr_assert_eq(bad, 0, "%zu of %zu cases disagree (see the log)", bad, cases);
    cr_assert_eq(cases, 210);
    /* Counted from the JSON files with Python (the latest fork of each file). */
    cr_assert_eq(counts[1].valid, 50, "Cancun valid: %zu", counts[1].valid);
    cr_assert_eq(counts[1].invalid, 99, "Cancun invalid: %zu", counts[1].invalid);
    cr_assert_eq(counts[2].valid, 0, "Shanghai valid: %zu", counts[2].valid);
    cr_assert_eq(counts[2].invalid, 59, "Shanghai invalid: %zu", counts[2].invalid);
    cr_assert_eq(counts[4].valid + counts[4].invalid, 2, "London: %zu", counts[4].valid + counts[4].invalid);
}

/* ---- RLP ---- */

static cw_code check_hex(const char *hex, cw_err *err)
{
    size_t n;
    uint8_t *b = unhex(hex, &n);
    cw_code rc = eth_rlp_check(b, n, err);
    free(b);
    return rc;
}

Test(eth, rlp_reader_is_strict)
{
    cw_err err = {0};
    /* the examples of the Yellow Paper / ethereum wiki */
    cr_assert_eq(check_hex("83646f67", &err), CW_OK, "%s", err.msg);                 /* "dog" */
    cr_assert_eq(check_hex("c88363617483646f67", &err), CW_OK, "%s", err.msg);       /* ["cat","dog"] */
    cr_assert_eq(check_hex("c7c0c1c0c3c0c1c0", &err), CW_OK, "%s", err.msg);         /* set theory 3 */
    cr_assert_eq(check_hex("80", &err), CW_OK);
    cr_assert_eq(check_hex("7f", &err), CW_OK);
    cr_assert_eq(check_hex("8180", &err), CW_OK);
    /* a byte below 0x80 wrapped in a string */
    cr_assert_eq(check_hex("8100", &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "non-canonical"), "%s", err.msg);
    cr_assert_eq(check_hex("817f", &err), CW_EFORMAT);
    /* the long form for a length of 55 or less; a length with a leading zero */
    cr_assert_eq(check_hex("b80161", &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "long form"), "%s", err.msg);
    cr_assert_eq(check_hex("f80180", &err), CW_EFORMAT);
    cr_assert_eq(check_hex("b9003861", &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "leading zero"), "%s", err.msg);
    /* lengths past the input, past the enclosing list, above the limit */
    cr_assert_eq(check_hex("83646f", &err), CW_ETRUNC);
    cr_assert_eq(err.offset, 0);
    cr_assert_eq(check_hex("c28364", &err), CW_ETRUNC);
    cr_assert_eq(err.offset, 1, "the string inside the list: %s", err.msg);
    cr_assert_eq(check_hex("bbffffffff", &err), CW_ELIMIT);
    cr_assert_eq(check_hex("bfffffffffffffffff", &err), CW_ELIMIT);
    cr_assert_eq(check_hex("b8", &err), CW_ETRUNC);
    /* one item and nothing after it */
    cr_assert_eq(check_hex("8000", &err), CW_EFORMAT);
    cr_assert_eq(err.offset, 1);
    cr_assert_eq(check_hex("", &err), CW_ETRUNC);
    /* nesting: 16 lists deep pass, 17 do not (built from the inside out) */
    uint8_t deep[32];
    for (int levels = 16; levels <= 17; levels++) {
        size_t k = sizeof deep;
        deep[--k] = 0xc0;
        for (int l = 1; l < levels; l++) {
            size_t len = sizeof deep - k;
            deep[--k] = (uint8_t)(0xc0 + len);
        }
        cw_code rc = eth_rlp_check(deep + k, sizeof deep - k, &err);
        cr_assert_eq(rc, levels == 16 ? CW_OK : CW_ELIMIT, "%d levels: %s", levels, err.msg);
    }
    cr_assert(strstr(err.msg, "deeper"), "%s", err.msg);
}

Test(eth, rlp_integers)
{
    cw_err err = {0};
    uint64_t v;
    cw_u256 u;
    eth_rlp r;
    static const uint8_t ok[] = {0x80, 0x0f, 0x82, 0x04, 0x00, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    eth_rlp_init(&r, ok, sizeof ok);
    cr_assert_eq(eth_rlp_uint64(&r, "a", &v, &err), CW_OK);
    cr_assert_eq(v, 0);
    cr_assert_eq(eth_rlp_uint64(&r, "b", &v, &err), CW_OK);
    cr_assert_eq(v, 15);
    cr_assert_eq(eth_rlp_uint64(&r, "c", &v, &err), CW_OK);
    cr_assert_eq(v, 1024);
    cr_assert_eq(eth_rlp_uint64(&r, "d", &v, &err), CW_OK);
    cr_assert_eq(v, UINT64_MAX);
    cr_assert(eth_rlp_done(&r));
    cr_assert_eq(eth_rlp_uint64(&r, "e", &v, &err), CW_ETRUNC);
    cr_assert(strstr(err.msg, "field e: missing"), "%s", err.msg);
    static const uint8_t zero_lead[] = {0x82, 0x00, 0x01};
    eth_rlp_init(&r, zero_lead, sizeof zero_lead);
    cr_assert_eq(eth_rlp_uint64(&r, "gas", &v, &err), CW_EFORMAT);
    cr_assert_str_eq(err.msg, "byte 0, field gas: leading zero in an integer");
    cr_assert_eq(r.pos, 0, "an error leaves the reader where it was");
    static const uint8_t nine[] = {0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    eth_rlp_init(&r, nine, sizeof nine);
    cr_assert_eq(eth_rlp_uint64(&r, "nonce", &v, &err), CW_ELIMIT);
    cr_assert(strstr(err.msg, "above 2^64-1"), "%s", err.msg);
    eth_rlp_init(&r, nine, sizeof nine);
    cr_assert_eq(eth_rlp_u256(&r, "value", &u, &err), CW_OK);
    cr_assert_eq(u.w[1], 1);
    cr_assert_eq(u.w[0], 0);
    static const uint8_t list[] = {0xc0};
    eth_rlp_init(&r, list, 1);
    cr_assert_eq(eth_rlp_uint64(&r, "to", &v, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "a list where a byte string"), "%s", err.msg);
}

Test(eth, rlp_writer_matches_the_spec_examples)
{
    uint8_t buf[128];
    eth_rlp_w w;
    char hex[300];
    eth_rlp_w_init(&w, buf, sizeof buf, NULL);
    eth_rlp_w_list(&w, eth_rlp_size_bytes("cat", 3) + eth_rlp_size_bytes("dog", 3));
    eth_rlp_w_bytes(&w, "cat", 3);
    eth_rlp_w_bytes(&w, "dog", 3);
    eth_rlp_w_uint64(&w, 0);
    eth_rlp_w_uint64(&w, 15);
    eth_rlp_w_uint64(&w, 1024);
    eth_rlp_w_bytes(&w, "", 0);
    cw_u256 u;
    cw_u256_set_u64(&u, 0x80);
    eth_rlp_w_u256(&w, &u);
    cr_assert(!w.overflow);
    cw_hex_encode(buf, w.n, hex);
    cr_assert_str_eq(hex, "c88363617483646f67800f820400808180");
    /* 56 bytes take the long form */
    uint8_t s56[56];
    memset(s56, 'a', sizeof s56);
    eth_rlp_w_init(&w, buf, sizeof buf, NULL);
    eth_rlp_w_bytes(&w, s56, 56);
    cr_assert_eq(w.n, 58);
    cr_assert_eq(buf[0], 0xb8);
    cr_assert_eq(buf[1], 56);
    cr_assert_eq(eth_rlp_size_bytes(s56, 56), 58);
    /* too small a buffer: overflow, and n says what it needs */
    eth_rlp_w_init(&w, buf, 10, NULL);
    eth_rlp_w_bytes(&w, s56, 56);
    cr_assert(w.overflow);
    cr_assert_eq(w.n, 58);
}

/* ---- hand-made txs ---- */

/* EIP-155's published example: nonce 9, 20 gwei, 21000 gas, to 0x3535..35,
 * 1 ether, chain id 1, signed with 32 bytes of 0x46. */
#define EIP155_TX                                                                                                      \
    "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe5" \
    "37567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
#define EIP155_SIGHASH "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53"
#define KEY46_ADDR "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"

#include "tests/eth_sign.h"

static void addr_text(const uint8_t a20[20], char out[CW_ADDR_TEXT_MAX])
{
    cw_addr a;
    cw_addr_set(&a, CW_CHAIN_EVM, CW_NET_MAIN, CW_ADDR_EVM, 0, a20, 20);
    cw_addr_format(&a, out, CW_ADDR_TEXT_MAX);
}

Test(eth, eip155_example)
{
    size_t n;
    uint8_t *b = unhex(EIP155_TX, &n);
    eth_tx tx;
    cw_err err = {0};
    cr_assert_eq(eth_tx_decode(b, n, &tx, &err), CW_OK, "%s", err.msg);
    cr_assert(tx.has_chain_id);
    cr_assert_eq(tx.chain_id, 1);
    cr_assert_eq(tx.nonce, 9);
    cr_assert_eq(tx.gas, 21000);
    cr_assert_eq(tx.gas_price.w[0], 20000000000ull);
    cr_assert_eq(tx.value.w[0], 1000000000000000000ull);
    cr_assert_eq(tx.y_parity, 0);
    uint8_t h[32];
    char hex[65], who[CW_ADDR_TEXT_MAX];
    eth_tx_sighash(&tx, h);
    cw_hex_encode(h, 32, hex);
    cr_assert_str_eq(hex, EIP155_SIGHASH);
    eth_signer s;
    cr_assert_eq(eth_tx_recover(&tx, &s, &err), CW_OK, "%s", err.msg);
    addr_text(s.addr, who);
    cr_assert_str_eq(who, KEY46_ADDR);
    /* the recovered public key (chains/ecrecover, for key links) is the
     * key's own, as libsecp256k1 derives it from the private key */
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_pubkey pk;
    uint8_t want[65];
    size_t wn = sizeof want;
    cr_assert(secp256k1_ec_pubkey_create(ctx, &pk, ETH_TEST_KEY));
    secp256k1_ec_pubkey_serialize(ctx, want, &wn, &pk, SECP256K1_EC_UNCOMPRESSED);
    secp256k1_context_destroy(ctx);
    cr_assert_arr_eq(s.pubkey, want, 65);
    /* libsecp256k1 signs with RFC 6979 nonces, as the example did: the same bytes */
    eth_tx again = tx;
    memset(again.r, 0, 32);
    memset(again.s, 0, 32);
    eth_test_sign(&again, ETH_TEST_KEY);
    size_t len;
    uint8_t *enc = eth_test_encode(&again, &len);
    cr_assert_eq(len, n);
    cr_assert_arr_eq(enc, b, n);
    free(enc);
    /* the model: one native transfer from the signer */
    cw_transfer x[ETH_TX_XFER_MAX];
    cw_tx m;
    cr_assert_eq(eth_tx_to_model(&tx, &s, ETH_MODEL_CALLDATA, x, 2, &m, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(m.chain, CW_CHAIN_EVM);
    cr_assert_eq(m.n_xfer, 1);
    cr_assert_eq(x[0].kind, CW_XFER_VALUE);
    cr_assert_eq(x[0].asset.kind, CW_ASSET_NATIVE);
    cr_assert_eq(x[0].amount.w[0], 1000000000000000000ull);
    cr_assert_eq(x[0].to.payload[0], 0x35);
    cr_assert_arr_eq(x[0].from.payload, s.addr, 20);
    uint8_t raw_h[32];
    cw_keccak256(b, n, raw_h);
    cr_assert_arr_eq(m.txid, raw_h, 32);
    free(b);
}

Test(eth, malformed_txs_are_refused_with_offset_and_field)
{
    size_t n;
    uint8_t *b = unhex(EIP155_TX, &n);
    eth_tx tx;
    cw_err err = {0};
    /* every cut */
    for (size_t k = 0; k < n; k++) {
        cr_assert_neq(eth_tx_decode(b, k, &tx, &err), CW_OK, "cut at %zu accepted", k);
        cr_assert(err.offset <= k || err.offset == 0, "cut at %zu: offset %zu", k, err.offset);
    }
    /* a trailing byte */
    uint8_t *t = malloc(n + 1);
    memcpy(t, b, n);
    t[n] = 0;
    cr_assert_eq(eth_tx_decode(t, n + 1, &tx, &err), CW_EFORMAT);
    cr_assert_eq(err.offset, n);
    cr_assert(strstr(err.msg, "extra bytes after the tx"), "%s", err.msg);
    free(t);
    /* v = 29: neither 27/28 nor EIP-155 (byte 0x25 at offset 43) */
    uint8_t *c = malloc(n);
    memcpy(c, b, n);
    cr_assert_eq(c[43], 0x25);
    c[43] = 0x1d;
    cr_assert_eq(eth_tx_decode(c, n, &tx, &err), CW_EFORMAT);
    cr_assert_str_eq(err.msg, "byte 43, field v: 29 is neither 27/28 nor 35 + 2*chainId + {0,1} (EIP-155)");
    /* v = 37: chain id 1 again but the other recovery id: a different sender, still valid */
    c[43] = 0x26;
    cr_assert_eq(eth_tx_decode(c, n, &tx, &err), CW_OK, "%s", err.msg);
    eth_signer s;
    char who[CW_ADDR_TEXT_MAX];
    if (eth_tx_recover(&tx, &s, &err) == CW_OK) {
        addr_text(s.addr, who);
        cr_assert_str_neq(who, KEY46_ADDR);
    }
    /* v = 39: chain id 2, refused on chain 1 by the rules, accepted with any chain */
    c[43] = 0x27;
    cr_assert_eq(eth_tx_decode(c, n, &tx, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(tx.chain_id, 2);
    eth_rules mainnet = {ETH_FORK_PRAGUE, 1}, any = {ETH_FORK_PRAGUE, 0};
    cr_assert_eq(eth_tx_check(&tx, &mainnet, &err), CW_EFORMAT);
    cr_assert_str_eq(err.msg, "signed for chain id 2, this network is chain id 1");
    cr_assert_eq(eth_tx_check(&tx, &any, &err), CW_OK, "%s", err.msg);
    /* the nonce 9 as 0x81 0x09: non-canonical, named at its offset */
    uint8_t nc[200];
    nc[0] = 0xf8;
    nc[1] = 0x6d;
    nc[2] = 0x81;
    memcpy(nc + 3, b + 2, n - 2);
    cr_assert_eq(eth_tx_decode(nc, n + 1, &tx, &err), CW_EFORMAT);
    cr_assert_str_eq(err.msg, "byte 2, field nonce: non-canonical RLP: single byte 0x09 below 0x80 wrapped in a string");
    /* the outer list length in the long form with a leading zero */
    nc[0] = 0xf9;
    nc[1] = 0x00;
    nc[2] = 0x6c;
    memcpy(nc + 3, b + 2, n - 2);
    cr_assert_eq(eth_tx_decode(nc, n + 1, &tx, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "byte 0, field tx: non-canonical RLP"), "%s", err.msg);
    /* high s: n - s signs the same, EIP-2 refuses it */
    memcpy(c, b, n);
    cr_assert_eq(eth_tx_decode(c, n, &tx, &err), CW_OK);
    cw_u256 order, s_val, high;
    static const uint8_t N[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                  0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    cw_u256_from_be(N, 32, &order, NULL);
    cw_u256_from_be(tx.s, 32, &s_val, NULL);
    cr_assert(cw_u256_sub(&high, &order, &s_val));
    cw_u256_to_be(&high, tx.s);
    tx.y_parity ^= 1;
    cw_u256_set_u64(&tx.v, 37 + 0 + tx.y_parity - 1 + 1);
    cw_u256_set_u64(&tx.v, 35 + 2 + tx.y_parity);
    size_t len;
    uint8_t *hs = eth_test_encode(&tx, &len);
    eth_tx tx2;
    cr_assert_eq(eth_tx_decode(hs, len, &tx2, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(eth_tx_recover(&tx2, &s, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "EIP-2"), "%s", err.msg);
    free(hs);
    /* r = 0 */
    memcpy(c, b, n);
    cr_assert_eq(eth_tx_decode(c, n, &tx, &err), CW_OK);
    memset(tx.r, 0, 32);
    cr_assert_eq(eth_tx_recover(&tx, &s, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "r is zero"), "%s", err.msg);
    /* unknown type bytes, and a typed payload that is not a list */
    static const uint8_t t5[] = {0x05, 0xc0}, t2s[] = {0x02, 0x80}, t0[] = {0x00, 0xc0}, t80[] = {0x80};
    cr_assert_eq(eth_tx_decode(t5, 2, &tx, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "byte 0, field type: 0x05"), "%s", err.msg);
    cr_assert_eq(eth_tx_decode(t0, 2, &tx, &err), CW_EFORMAT);
    cr_assert_eq(eth_tx_decode(t80, 1, &tx, &err), CW_EFORMAT);
    cr_assert_eq(eth_tx_decode(t2s, 2, &tx, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "byte 1, field payload"), "%s", err.msg);
    cr_assert_eq(eth_tx_decode(t2s, 0, &tx, &err), CW_ETRUNC);
    /* every single-byte change of the example: never a crash, and every
     * accepted variant encodes back to the same bytes */
    for (size_t i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(c, b, n);
            c[i] ^= (uint8_t)(1u << bit);
            if (eth_tx_decode(c, n, &tx, &err) == CW_OK) {
                uint8_t *e = eth_test_encode(&tx, &len);
                cr_assert_eq(len, n);
                cr_assert_arr_eq(e, c, n, "byte %zu bit %d re-encodes differently", i, bit);
                free(e);
                (void)eth_tx_recover(&tx, &s, &err);
            } else {
                cr_assert(err.offset <= n || err.offset == CW_NO_OFFSET);
                cr_assert(strlen(err.msg) > 0);
            }
        }
    free(c);
    free(b);
}

/* A type 2 USDT transfer signed here; calldata transfer(to, amount). */
static const uint8_t USDT[20] = {0xda, 0xc1, 0x7f, 0x95, 0x8d, 0x2e, 0xe5, 0x23, 0xa2, 0x20,
                                 0x62, 0x06, 0x99, 0x45, 0x97, 0xc1, 0x3d, 0x83, 0x1e, 0xc7};

static void transfer_calldata(uint8_t out[68], const uint8_t to[20], uint64_t amount)
{
    memset(out, 0, 68);
    out[0] = 0xa9, out[1] = 0x05, out[2] = 0x9c, out[3] = 0xbb;
    memcpy(out + 16, to, 20);
    for (int i = 0; i < 8; i++)
        out[67 - i] = (uint8_t)(amount >> (8 * i));
}

Test(eth, types_2_3_4_signed_here_round_trip)
{
    static const uint8_t to[20] = {0xb6, 0xf5, 0xec, 0x1a, 0x0a, 0x9c, 0xd1, 0x52, 0x65, 0x36,
                                   0xd3, 0xf0, 0x42, 0x6c, 0x42, 0x95, 0x29, 0x47, 0x1f, 0x40};
    uint8_t data[68];
    transfer_calldata(data, to, 1234500000);
    /* access list [[USDT, [key 0x00..01]]] encoded by hand */
    /* the entry: 21 bytes of address item + 34 of key list = 55 (0xf7); the
     * outer list holds 56 bytes: the long form f8 38 */
    uint8_t al[58];
    size_t an = 0;
    al[an++] = 0xf8;
    al[an++] = 56;
    al[an++] = 0xf7;
    al[an++] = 0x94;
    memcpy(al + an, USDT, 20);
    an += 20;
    al[an++] = 0xe1;
    al[an++] = 0xa0;
    memset(al + an, 0, 32);
    al[an + 31] = 1;
    an += 32;
    cr_assert_eq(an, sizeof al);
    cw_err err = {0};
    cr_assert_eq(eth_rlp_check(al, an, &err), CW_OK, "%s", err.msg);
    for (int type = 2; type <= 4; type++) {
        eth_tx tx;
        memset(&tx, 0, sizeof tx);
        tx.type = (uint8_t)type;
        tx.has_chain_id = true;
        tx.chain_id = 1;
        tx.nonce = 7;
        cw_u256_set_u64(&tx.max_priority_fee, 1000000000);
        cw_u256_set_u64(&tx.max_fee, 30000000000ull);
        tx.gas = 100000;
        tx.has_to = true;
        memcpy(tx.to, USDT, 20);
        tx.data.p = data;
        tx.data.n = sizeof data;
        tx.access_list.p = al;
        tx.access_list.n = an;
        uint8_t blobs[2 + 2 * 33], auths[400];
        eth_auth a[2];
        if (type == 3) {
            cw_u256_set_u64(&tx.max_fee_per_blob_gas, 5);
            blobs[0] = 0xf8;
            blobs[1] = 66;
            for (int i = 0; i < 2; i++) {
                blobs[2 + 33 * i] = 0xa0;
                memset(blobs + 3 + 33 * i, 0x11 * (i + 1), 32);
                blobs[3 + 33 * i] = 0x01; /* version byte: KZG */
            }
            tx.blob_hashes.p = blobs;
            tx.blob_hashes.n = sizeof blobs;
        }
        if (type == 4) {
            memset(a, 0, sizeof a);
            cw_u256_set_u64(&a[0].chain_id, 1);
            memset(a[0].address, 0x77, 20);
            a[0].nonce = 8;
            eth_test_sign_auth(&a[0], ETH_TEST_KEY);
            a[1] = a[0];
            a[1].y_parity = 2; /* cannot recover: the chain skips it */
            tx.auth_list.p = auths;
            tx.auth_list.n = eth_test_auth_list(a, 2, auths, sizeof auths);
        }
        eth_test_sign(&tx, ETH_TEST_KEY);
        size_t len;
        uint8_t *b = eth_test_encode(&tx, &len);
        cr_assert_eq(b[0], type);
        eth_tx d;
        cr_assert_eq(eth_tx_decode(b, len, &d, &err), CW_OK, "type %d: %s", type, err.msg);
        cr_assert_eq(d.n_access, 1);
        cr_assert_eq(d.n_storage_keys, 1);
        eth_signer s;
        char who[CW_ADDR_TEXT_MAX];
        cr_assert_eq(eth_tx_recover(&d, &s, &err), CW_OK, "%s", err.msg);
        addr_text(s.addr, who);
        cr_assert_str_eq(who, KEY46_ADDR);
        uint8_t h1[32], h2[32];
        eth_tx_hash(&d, h1);
        cw_keccak256(b, len, h2);
        cr_assert_arr_eq(h1, h2, 32);
        eth_rules prague = {ETH_FORK_PRAGUE, 1}, cancun = {ETH_FORK_CANCUN, 1};
        cr_assert_eq(eth_tx_check(&d, &prague, &err), CW_OK, "type %d: %s", type, err.msg);
        if (type == 4) {
            cr_assert_eq(eth_tx_check(&d, &cancun, &err), CW_EFORMAT);
            cr_assert_eq(d.n_auth, 2);
            eth_auth_iter it;
            eth_auth got;
            eth_auth_begin(&d, &it);
            cr_assert(eth_auth_next(&it, &got));
            cr_assert_eq(got.nonce, 8);
            cr_assert_eq(eth_auth_recover(&got, &s, &err), CW_OK, "%s", err.msg);
            addr_text(s.addr, who);
            cr_assert_str_eq(who, KEY46_ADDR);
            cr_assert(eth_auth_next(&it, &got));
            cr_assert_eq(eth_auth_recover(&got, &s, &err), CW_EFORMAT);
            cr_assert(strstr(err.msg, "yParity 2"), "%s", err.msg);
            cr_assert(!eth_auth_next(&it, &got));
        }
        if (type == 3) {
            cr_assert_eq(d.n_blob_hashes, 2);
            /* the network form: [tx, blobs, commitments, proofs]; same hash */
            size_t inner = len - 1;
            uint8_t *w = malloc(len + 64);
            size_t k = 0;
            size_t payload = inner + 3 + 3 + 3; /* three lists [0x80] */
            w[k++] = 0x03;
            w[k++] = 0xf9;
            w[k++] = (uint8_t)(payload >> 8);
            w[k++] = (uint8_t)payload;
            memcpy(w + k, b + 1, inner);
            k += inner;
            for (int i = 0; i < 3; i++) {
                w[k++] = 0xc2;
                w[k++] = 0x81;
                w[k++] = 0xaa;
            }
            eth_tx wd;
            cr_assert_eq(eth_tx_decode(w, k, &wd, &err), CW_OK, "%s", err.msg);
            cr_assert(wd.blob_wrapper);
            eth_tx_hash(&wd, h1);
            cr_assert_arr_eq(h1, h2, 32, "the network form hashes as the tx inside");
            cr_assert_eq(eth_tx_recover(&wd, &s, &err), CW_OK, "%s", err.msg);
            free(w);
            /* a blob hash without the KZG version byte */
            blobs[3] = 0x02;
            eth_test_sign(&tx, ETH_TEST_KEY);
            uint8_t *b2 = eth_test_encode(&tx, &len);
            eth_tx d2;
            cr_assert_eq(eth_tx_decode(b2, len, &d2, &err), CW_OK);
            cr_assert_eq(eth_tx_check(&d2, &prague, &err), CW_EFORMAT);
            cr_assert(strstr(err.msg, "version 0x01"), "%s", err.msg);
            free(b2);
        }
        /* the model reads the USDT call from the calldata */
        cw_transfer x[ETH_TX_XFER_MAX];
        cw_tx m;
        cr_assert_eq(eth_tx_to_model(&d, &s, ETH_MODEL_CALLDATA, x, 2, &m, &err), CW_OK, "%s", err.msg);
        cr_assert_eq(m.n_xfer, 2);
        cr_assert_eq(x[1].kind, CW_XFER_TOKEN_CALL);
        cr_assert_eq(x[1].asset.kind, CW_ASSET_TOKEN);
        cr_assert_arr_eq(x[1].asset.contract.payload, USDT, 20);
        cr_assert_arr_eq(x[1].to.payload, to, 20);
        cr_assert_eq(x[1].amount.w[0], 1234500000);
        cr_assert_eq(eth_tx_to_model(&d, &s, ETH_MODEL_CALLDATA, x, 1, &m, &err), CW_ENOMEM);
        /* bytes after the call's arguments (the token ignores them): the
         * same transfer, never a refused tx the follower cannot record */
        uint8_t longer[68 + 7];
        cr_assert_eq(d.data.n, 68);
        memcpy(longer, d.data.p, 68);
        memset(longer + 68, 0xab, 7);
        eth_tx dl = d;
        dl.data = (cw_span){longer, sizeof longer};
        cr_assert_eq(eth_tx_to_model(&dl, &s, ETH_MODEL_CALLDATA, x, 2, &m, &err), CW_OK, "%s", err.msg);
        cr_assert_eq(m.n_xfer, 2);
        cr_assert_arr_eq(x[1].to.payload, to, 20);
        cr_assert_eq(x[1].amount.w[0], 1234500000);
        dl.data.n = 67; /* too short for its arguments: refused */
        cr_assert_eq(eth_tx_to_model(&dl, &s, ETH_MODEL_CALLDATA, x, 2, &m, &err), CW_EFORMAT);
        free(b);
    }
    /* type 3 and 4 cannot create a contract; type 2 can */
    static const uint8_t t3_create[] = {0x03, 0xc9, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0xc0};
    eth_tx d;
    cr_assert_eq(eth_tx_decode(t3_create, sizeof t3_create, &d, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "field to: 0 bytes, expected 20 (this type cannot create a contract)"), "%s", err.msg);
}

Test(eth, erc20_calldata_and_logs)
{
    static const uint8_t to[20] = {0x09, 0x8b, 0x71, 0x6b, 0x8a, 0xaf, 0x21, 0x51, 0x29, 0x96,
                                   0xdc, 0x57, 0xeb, 0x06, 0x15, 0xe2, 0x38, 0x3e, 0x2f, 0x96};
    uint8_t data[100];
    transfer_calldata(data, to, 5000000);
    erc20_call c;
    cw_err err = {0};
    cr_assert_eq(erc20_call_decode((cw_span){data, 68}, CW_CHAIN_EVM, &c, &err), CW_OK);
    cr_assert_eq(c.kind, ERC20_CALL_TRANSFER);
    cr_assert_arr_eq(c.to, to, 20);
    cr_assert_eq(c.amount.w[0], 5000000);
    cr_assert_eq(erc20_call_decode((cw_span){data, 67}, CW_CHAIN_EVM, &c, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "67 bytes"), "%s", err.msg);
    cr_assert_eq(c.trailing, 0);
    /* bytes after the arguments: Solidity and USDT ignore them, the
     * transfer happens; read, and counted */
    memset(data + 68, 0xee, 32);
    cr_assert_eq(erc20_call_decode((cw_span){data, 69}, CW_CHAIN_EVM, &c, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(c.trailing, 1);
    cr_assert_eq(erc20_call_decode((cw_span){data, 100}, CW_CHAIN_EVM, &c, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(c.kind, ERC20_CALL_TRANSFER);
    cr_assert_arr_eq(c.to, to, 20);
    cr_assert_eq(c.amount.w[0], 5000000);
    cr_assert_eq(c.trailing, 32);
    data[15] = 0x41; /* the 21-byte Tron form in the word */
    cr_assert_eq(erc20_call_decode((cw_span){data, 68}, CW_CHAIN_EVM, &c, &err), CW_EFORMAT);
    cr_assert_eq(err.offset, 15);
    cr_assert(strstr(err.msg, "byte 15, field transfer to"), "%s", err.msg);
    cr_assert_eq(erc20_call_decode((cw_span){data, 68}, CW_CHAIN_TRON, &c, &err), CW_OK, "%s", err.msg);
    cr_assert_arr_eq(c.to, to, 20);
    data[14] = 0x01;
    cr_assert_eq(erc20_call_decode((cw_span){data, 68}, CW_CHAIN_TRON, &c, &err), CW_EFORMAT);
    /* transferFrom(from, to, amount) */
    memset(data, 0, sizeof data);
    data[0] = 0x23, data[1] = 0xb8, data[2] = 0x72, data[3] = 0xdd;
    memcpy(data + 16, USDT, 20);
    memcpy(data + 48, to, 20);
    data[99] = 7;
    cr_assert_eq(erc20_call_decode((cw_span){data, 100}, CW_CHAIN_EVM, &c, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(c.kind, ERC20_CALL_TRANSFER_FROM);
    cr_assert_arr_eq(c.from, USDT, 20);
    cr_assert_arr_eq(c.to, to, 20);
    cr_assert_eq(c.amount.w[0], 7);
    cw_addr sender, contract;
    memset(&sender, 0, sizeof sender);
    cw_addr_set(&contract, CW_CHAIN_EVM, CW_NET_MAIN, CW_ADDR_EVM, 0, USDT, 20);
    cw_transfer x;
    erc20_call_to_transfer(&c, &sender, &contract, &x);
    cr_assert_arr_eq(x.from.payload, USDT, 20, "transferFrom: from is the call's");
    cr_assert_eq(x.kind, CW_XFER_TOKEN_CALL);
    cr_assert_eq(erc20_call_decode((cw_span){data, 99}, CW_CHAIN_EVM, &c, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "99 bytes, transferFrom(address,address,uint256) takes 100"), "%s", err.msg);
    /* another selector, or too short for one: no token call */
    data[0] = 0x09;
    cr_assert_eq(erc20_call_decode((cw_span){data, 100}, CW_CHAIN_EVM, &c, &err), CW_OK);
    cr_assert_eq(c.kind, ERC20_CALL_NONE);
    cr_assert_eq(erc20_call_decode((cw_span){data, 3}, CW_CHAIN_EVM, &c, &err), CW_OK);
    cr_assert_eq(c.kind, ERC20_CALL_NONE);
    /* Transfer logs: topic0 is keccak256 of the event signature */
    uint8_t topic[32];
    cw_keccak256("Transfer(address,address,uint256)", 33, topic);
    cr_assert_arr_eq(topic, erc20_transfer_topic, 32);
    uint8_t topics[4][32], amount[32];
    memset(topics, 0, sizeof topics);
    memcpy(topics[0], topic, 32);
    memcpy(topics[1] + 12, USDT, 20);
    memcpy(topics[2] + 12, to, 20);
    topics[3][31] = 42;
    memset(amount, 0, 32);
    amount[31] = 99;
    erc20_log l;
    cr_assert_eq(erc20_log_decode((const uint8_t(*)[32])topics, 3, (cw_span){amount, 32}, &l, &err), CW_OK);
    cr_assert_eq(l.kind, ERC20_LOG_TRANSFER);
    cr_assert_eq(l.amount.w[0], 99);
    cr_assert_eq(erc20_log_to_transfer(&l, &contract, 17, &x, &err), CW_OK);
    cr_assert_eq(x.kind, CW_XFER_TOKEN_LOG);
    cr_assert_eq(x.index, 17);
    cr_assert_arr_eq(x.to.payload, to, 20);
    cr_assert_eq(erc20_log_decode((const uint8_t(*)[32])topics, 4, (cw_span){NULL, 0}, &l, &err), CW_OK);
    cr_assert_eq(l.kind, ERC20_LOG_NFT);
    cr_assert_eq(l.amount.w[0], 42, "the token id");
    cr_assert_eq(erc20_log_to_transfer(&l, &contract, 1, &x, &err), CW_EARG);
    cr_assert(strstr(err.msg, "ERC-721"), "%s", err.msg);
    cr_assert_eq(erc20_log_decode((const uint8_t(*)[32])topics, 2, (cw_span){amount, 32}, &l, &err), CW_EFORMAT);
    cr_assert_eq(erc20_log_decode((const uint8_t(*)[32])topics, 3, (cw_span){amount, 31}, &l, &err), CW_EFORMAT);
    topics[1][0] = 1;
    cr_assert_eq(erc20_log_decode((const uint8_t(*)[32])topics, 3, (cw_span){amount, 32}, &l, &err), CW_EFORMAT);
    topics[0][0] ^= 1;
    cr_assert_eq(erc20_log_decode((const uint8_t(*)[32])topics, 3, (cw_span){amount, 32}, &l, &err), CW_OK);
    cr_assert_eq(l.kind, ERC20_LOG_OTHER);
}

/* The incremental Keccak the encoder streams into: any split of the input
 * gives the one-shot digest (checked against a published vector first). */
Test(eth, keccak_incremental_equals_one_shot)
{
    uint8_t msg[600], one[32], inc[32];
    char hex[65];
    cw_keccak256("", 0, one);
    cw_hex_encode(one, 32, hex);
    cr_assert_str_eq(hex, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    for (size_t n = 0; n <= sizeof msg; n += 17) {
        cw_keccak256(msg, n, one);
        for (size_t cut = 0; cut <= n; cut += 29) {
            cw_keccak_ctx c;
            cw_keccak256_init(&c);
            cw_keccak256_update(&c, msg, cut);
            cw_keccak256_update(&c, msg + cut, (n - cut) / 2);
            cw_keccak256_update(&c, msg + cut + (n - cut) / 2, n - cut - (n - cut) / 2);
            cw_keccak256_final(&c, inc);
            cr_assert_arr_eq(one, inc, 32, "n %zu cut %zu", n, cut);
        }
    }
}

/* The unrolled permutation in chains/keccak.c against a plain transcription
 * of FIPS 202 section 3.2 (rho offsets from the spec's t loop, pi as
 * (x, y) -> (y, 2x + 3y)), over every length across three blocks, and two
 * digests from the independent Python oracle (tests/tools/oracle_common.py:
 * keccak256(b"abc"), and of the 1,000 bytes (i * 131 + 7) mod 256). */
static void spec_keccak_f(uint64_t a[25])
{
    unsigned rho[25] = {0};
    for (int t = 0, x = 1, y = 0; t < 24; t++) {
        rho[x + 5 * y] = (unsigned)(((t + 1) * (t + 2) / 2) % 64);
        int nx = y, ny = (2 * x + 3 * y) % 5;
        x = nx, y = ny;
    }
    uint64_t rc = 0, lfsr = 1; /* round constants from the spec's rc(t) LFSR */
    for (int round = 0; round < 24; round++) {
        uint64_t c[5], b[25];
        for (int x = 0; x < 5; x++)
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++)
                a[x + 5 * y] ^= c[(x + 4) % 5] ^ ((c[(x + 1) % 5] << 1) | (c[(x + 1) % 5] >> 63));
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++) {
                uint64_t v = a[x + 5 * y];
                unsigned r = rho[x + 5 * y];
                b[y + 5 * ((2 * x + 3 * y) % 5)] = r ? (v << r) | (v >> (64 - r)) : v;
            }
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++)
                a[x + 5 * y] = b[x + 5 * y] ^ (~b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
        rc = 0;
        for (int j = 0; j < 7; j++) {
            if (lfsr & 1)
                rc |= 1ull << ((1u << j) - 1);
            lfsr = (lfsr & 0x80) ? (lfsr << 1) ^ 0x171 : lfsr << 1;
        }
        a[0] ^= rc;
    }
}

static void spec_keccak256(const uint8_t *p, size_t n, uint8_t out[32])
{
    uint64_t a[25] = {0};
    uint8_t block[136];
    for (;;) {
        size_t take = n < 136 ? n : 136;
        memset(block, 0, sizeof block);
        memcpy(block, p, take);
        if (take < 136) {
            block[take] ^= 0x01;
            block[135] ^= 0x80;
        }
        for (int i = 0; i < 17; i++)
            for (int j = 0; j < 8; j++)
                a[i] ^= (uint64_t)block[8 * i + j] << (8 * j);
        spec_keccak_f(a);
        if (take < 136)
            break;
        p += 136, n -= 136;
    }
    for (int i = 0; i < 32; i++)
        out[i] = (uint8_t)(a[i / 8] >> (8 * (i % 8)));
}

Test(eth, keccak_permutation_matches_the_spec)
{
    uint8_t msg[1000], got[32], want[32];
    char hex[65];
    cw_keccak256("abc", 3, got);
    cw_hex_encode(got, 32, hex);
    cr_assert_str_eq(hex, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 131 + 7);
    cw_keccak256(msg, sizeof msg, got);
    cw_hex_encode(got, 32, hex);
    cr_assert_str_eq(hex, "715e32812f43e2bd7ee57abbdd71de13ad189f40c581505cbe90deda52631c69");
    for (size_t n = 0; n <= 3 * 136 + 1; n++) {
        cw_keccak256(msg, n, got);
        spec_keccak256(msg, n, want);
        cr_assert_arr_eq(got, want, 32, "length %zu", n);
    }
}

/* EIP-7702: an authorization's offset is in the tx input (as tx.h says),
 * and what a node skips besides a bad signature: nonce 2^64-1 (EIP-7702
 * "verify the nonce is less than 2**64 - 1"). */
/* Where needle[0..m) first stands in hay[0..n), or NULL. */
static const uint8_t *find_bytes(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
    for (size_t i = 0; m <= n && i <= n - m; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return hay + i;
    return NULL;
}

Test(eth, authorization_offsets_and_the_nonce_a_node_skips)
{
    eth_auth a[2];
    memset(a, 0, sizeof a);
    cw_u256_set_u64(&a[0].chain_id, 1);
    memset(a[0].address, 0x77, 20);
    a[0].nonce = 8;
    eth_test_sign_auth(&a[0], ETH_TEST_KEY);
    a[1] = a[0];
    a[1].nonce = UINT64_MAX;
    eth_test_sign_auth(&a[1], ETH_TEST_KEY);
    uint8_t auths[400], one[200];
    eth_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = ETH_TX_SET_CODE;
    tx.has_chain_id = true;
    tx.chain_id = 1;
    tx.gas = 100000;
    tx.has_to = true;
    memcpy(tx.to, USDT, 20);
    tx.auth_list.p = auths;
    tx.auth_list.n = eth_test_auth_list(a, 2, auths, sizeof auths);
    eth_test_sign(&tx, ETH_TEST_KEY);
    size_t len;
    uint8_t *b = eth_test_encode(&tx, &len);
    eth_tx d;
    cw_err err = {0};
    cr_assert_eq(eth_tx_decode(b, len, &d, &err), CW_OK, "%s", err.msg);
    /* where each authorization stands in b: found by its own encoding (a
     * one-item list's payload is that authorization) */
    size_t on = eth_test_auth_list(&a[1], 1, one, sizeof one), hdr = one[0] >= 0xf8 ? 1 + (size_t)(one[0] - 0xf7) : 1;
    const uint8_t *at1 = find_bytes(b, len, one + hdr, on - hdr);
    cr_assert_not_null(at1);
    on = eth_test_auth_list(&a[0], 1, one, sizeof one);
    hdr = one[0] >= 0xf8 ? 1 + (size_t)(one[0] - 0xf7) : 1;
    const uint8_t *at0 = find_bytes(b, len, one + hdr, on - hdr);
    cr_assert_not_null(at0);
    eth_auth_iter it;
    eth_auth got;
    eth_signer s;
    eth_auth_begin(&d, &it);
    cr_assert(eth_auth_next(&it, &got));
    cr_assert_eq(got.off, (size_t)(at0 - b), "offset %zu, the authorization is at byte %zu of the tx", got.off,
                 (size_t)(at0 - b));
    cr_assert_eq(eth_auth_recover(&got, &s, &err), CW_OK, "%s", err.msg);
    cr_assert(eth_auth_next(&it, &got));
    cr_assert_eq(got.off, (size_t)(at1 - b));
    cr_assert_eq(got.nonce, UINT64_MAX);
    cr_assert_neq(eth_auth_recover(&got, &s, &err), CW_OK, "nonce 2^64-1 recovered an authority a node skips");
    cr_assert(strstr(err.msg, "nonce 2^64-1"), "%s", err.msg);
    cr_assert(!eth_auth_next(&it, &got));
    free(b);
}
