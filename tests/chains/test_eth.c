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
