/* chainwatch decode tx --chain ethereum and screen of a signed Ethereum tx:
 * exact JSON fields, exit codes, bad input, the token table, and a USDT
 * payment signed here to an EVM address of OFAC's SDN list (Kim Sang Man,
 * 0xb6f5ec1a0a9cd1526536d3f0426c429529471f40, listed for ETH, USDT and
 * USDC in the 2025-11-19 SDN_ADVANCED.XML). */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "chains/ethereum/tx.h"
#include "chains/hex.h"
#include "tests/eth_sign.h"
#include "tests/support.h"

/* EIP-155's example tx (see test_eth.c). */
#define EIP155_TX                                                                                                      \
    "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195f" \
    "e537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
#define KEY46_ADDR "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"
#define KIM_EVM "0xb6f5ec1a0a9cd1526536d3f0426c429529471f40"
#define LAZARUS_EVM "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"
#define USDT_ETH "0xdAC17F958D2ee523a2206206994597C13D831ec7"

#define cw(j, err, ...) cw_in(NULL, 0, j, err, __VA_ARGS__, NULL)

static const char *jstr(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static void parse_addr(const char *text, uint8_t out[20])
{
    size_t n;
    cr_assert_eq(cw_hex_decode(text + 2, 40, out, 20, &n, NULL), CW_OK);
}

/* tx signed with the test key and encoded, as hex after `prefix` ("0x" or
 * ""); malloc'd. */
static char *sign_to_hex(eth_tx *tx, const char *prefix) { return eth_test_sign_hex(tx, ETH_TEST_KEY, prefix, NULL); }

/* A type 2 tx signed with the test key calling `to` with data; hex with 0x
 * into out (malloc'd). */
static char *signed_tx(const char *to, const uint8_t *data, size_t n, uint64_t value)
{
    eth_tx tx;
    uint8_t a20[20];
    parse_addr(to, a20);
    eth_test_call(&tx, a20, data, n, value, 3);
    return sign_to_hex(&tx, "0x");
}

static void transfer_data(uint8_t out[68], const char *to, uint64_t amount)
{
    memset(out, 0, 68);
    out[0] = 0xa9, out[1] = 0x05, out[2] = 0x9c, out[3] = 0xbb;
    parse_addr(to, out + 16);
    for (int i = 0; i < 8; i++)
        out[67 - i] = (uint8_t)(amount >> (8 * i));
}

Test(eth_cli, decode_the_eip155_example)
{
    json_t *j;
    char *err;
    cr_assert_eq(cw(&j, &err, "decode", "tx", "--chain", "ethereum", EIP155_TX), 0, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "hash"), "0x33469b22e9f636356c4160a87eb19df52b7412e8eac32a4a55ffe88ea8350788");
    cr_assert_eq(json_integer_value(json_object_get(j, "type")), 0);
    cr_assert_eq(json_integer_value(json_object_get(j, "chain_id")), 1);
    cr_assert_eq(json_integer_value(json_object_get(j, "nonce")), 9);
    cr_assert_str_eq(jstr(j, "from"), KEY46_ADDR);
    cr_assert_str_eq(jstr(j, "to"), "0x3535353535353535353535353535353535353535");
    cr_assert_str_eq(jstr(j, "value"), "1000000000000000000");
    cr_assert_str_eq(jstr(j, "gas_price"), "20000000000");
    cr_assert(json_is_null(json_object_get(j, "token")));
    json_decref(j);
    /* the same from standard input (hex without 0x) and from a file (raw bytes) */
    const char *hex = EIP155_TX + 2;
    cr_assert_eq(cw_in((const uint8_t *)hex, strlen(hex), &j, &err, "decode", "tx", "--chain", "ethereum", "-", NULL), 0,
                 "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "from"), KEY46_ADDR);
    json_decref(j);
    char path[] = "/tmp/cw-ethtx-XXXXXX";
    int fd = mkstemp(path);
    size_t n;
    uint8_t *raw = unhex(hex, &n);
    cr_assert_eq(write(fd, raw, n), (ssize_t)n);
    close(fd);
    free(raw);
    char at[64];
    snprintf(at, sizeof at, "@%s", path);
    cr_assert_eq(cw(&j, &err, "decode", "tx", "--chain", "ethereum", at), 0, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "hash"), "0x33469b22e9f636356c4160a87eb19df52b7412e8eac32a4a55ffe88ea8350788");
    json_decref(j);
    cr_assert_eq(cw(&j, &err, "decode", "tx", "--chain", "ethereum", path), 0, "%s", err);
    free(err);
    json_decref(j);
    unlink(path);
}

Test(eth_cli, decode_bad_input_exits_2_with_offset_and_field)
{
    char *err;
    json_t *j;
    /* cut by one byte */
    char cut[300];
    snprintf(cut, sizeof cut, "%.*s", (int)strlen(EIP155_TX) - 2, EIP155_TX);
    cr_assert_eq(cw(&j, &err, "decode", "tx", "--chain", "ethereum", cut), 2);
    cr_assert_null(j);
    cr_assert(strstr(err, "chainwatch: decode tx: byte 0, field tx: item of 108 bytes runs past the end of its input"),
              "%s", err);
    free(err);
    /* a leading zero in the gas price: byte 2 */
    cr_assert_eq(cw(NULL, &err, "decode", "tx", "--chain", "ethereum", "0xcb0986000000000001808080"), 2);
    cr_assert(strstr(err, "byte 2, field gasPrice: leading zero in an integer"), "%s", err);
    free(err);
    /* a byte after the tx */
    char trail[300];
    snprintf(trail, sizeof trail, "%s00", EIP155_TX);
    cr_assert_eq(cw(NULL, &err, "decode", "tx", "--chain", "ethereum", trail), 2);
    cr_assert(strstr(err, "byte 110: extra bytes after the tx"), "%s", err);
    free(err);
    cr_assert_eq(cw(NULL, &err, "decode", "tx", "--chain", "ethereum", "0x05c0"), 2);
    cr_assert(strstr(err, "byte 0, field type: 0x05"), "%s", err);
    free(err);
    cr_assert_eq(cw(NULL, &err, "decode", "tx", "--chain", "ethereum", "0xzz"), 2);
    free(err);
    cr_assert_eq(cw(NULL, &err, "decode", "tx", "--chain", "solana", EIP155_TX), 2);
    free(err);
    cr_assert_eq(cw(NULL, &err, "decode", "block", "--chain", "ethereum", EIP155_TX), 2);
    free(err);
    cr_assert_eq(cw(NULL, &err, "decode", "tx", "--chain", "ethereum", "/nonexistent/tx"), 1);
    free(err);
}

Test(eth_cli, decode_token_calls_and_the_token_table)
{
    uint8_t data[68];
    transfer_data(data, KIM_EVM, 2500000000ull);
    char *tx = signed_tx(USDT_ETH, data, sizeof data, 0);
    json_t *j, *t;
    char *err;
    cr_assert_eq(cw(&j, &err, "decode", "tx", "--chain", "ethereum", tx), 0, "%s", err);
    free(err);
    cr_assert_eq(json_integer_value(json_object_get(j, "type")), 2);
    cr_assert_str_eq(jstr(j, "from"), KEY46_ADDR);
    cr_assert_str_eq(jstr(j, "to"), USDT_ETH);
    cr_assert_str_eq(jstr(j, "value"), "0");
    t = json_object_get(j, "token");
    cr_assert_str_eq(jstr(t, "kind"), "transfer");
    cr_assert_str_eq(jstr(t, "contract"), USDT_ETH);
    cr_assert_str_eq(jstr(t, "symbol"), "USDT");
    cr_assert_eq(json_integer_value(json_object_get(t, "decimals")), 6);
    cr_assert(strcasecmp(jstr(t, "recipient"), KIM_EVM) == 0, "%s", jstr(t, "recipient"));
    cr_assert(strcmp(jstr(t, "recipient"), KIM_EVM) != 0, "EIP-55 mixed case: %s", jstr(t, "recipient"));
    cr_assert_str_eq(jstr(t, "amount"), "2500000000");
    cr_assert_str_eq(jstr(t, "from"), KEY46_ADDR);
    cr_assert_eq(json_integer_value(json_object_get(t, "trailing_bytes")), 0);
    json_decref(j);
    free(tx);
    /* 5 bytes after the arguments: USDT ignores them and pays, so the call
     * is read (recipient and amount as without them) and the bytes counted */
    uint8_t longer[68 + 5];
    memcpy(longer, data, 68);
    memset(longer + 68, 0xab, 5);
    tx = signed_tx(USDT_ETH, longer, sizeof longer, 0);
    cr_assert_eq(cw(&j, &err, "decode", "tx", "--chain", "ethereum", tx), 0, "%s", err);
    free(err);
    cr_assert_eq(json_integer_value(json_object_get(j, "data_size")), 73);
    t = json_object_get(j, "token");
    cr_assert(strcasecmp(jstr(t, "recipient"), KIM_EVM) == 0, "%s", jstr(t, "recipient"));
    cr_assert_str_eq(jstr(t, "amount"), "2500000000");
    cr_assert_eq(json_integer_value(json_object_get(t, "trailing_bytes")), 5);
    json_decref(j);
    free(tx);
    /* an unknown token: symbol null; named by --tokens */
    tx = signed_tx("0x1111111111111111111111111111111111111111", data, sizeof data, 0);
    cr_assert_eq(cw(&j, &err, "decode", "tx", "--chain", "ethereum", tx), 0, "%s", err);
    free(err);
    t = json_object_get(j, "token");
    cr_assert(json_is_null(json_object_get(t, "symbol")));
    cr_assert(json_is_null(json_object_get(t, "decimals")));
    json_decref(j);
    char path[] = "/tmp/cw-tokens-XXXXXX";
    int fd = mkstemp(path);
    const char *csv = "chain,token,contract_address,decimals,source\n"
                      "ETH,TEST,0x1111111111111111111111111111111111111111,18,made up for a test\n";
    cr_assert_eq(write(fd, csv, strlen(csv)), (ssize_t)strlen(csv));
    close(fd);
    cr_assert_eq(cw(&j, &err, "decode", "tx", "--chain", "ethereum", tx, "--tokens", path), 0, "%s", err);
    free(err);
    t = json_object_get(j, "token");
    cr_assert_str_eq(jstr(t, "symbol"), "TEST");
    cr_assert_eq(json_integer_value(json_object_get(t, "decimals")), 18);
    json_decref(j);
    /* a bad tokens file: exit 2, file and line named */
    FILE *f = fopen(path, "w");
    fputs("chain,token,contract_address,decimals\nETH,BAD,0x11,6\n", f);
    fclose(f);
    cr_assert_eq(cw(NULL, &err, "decode", "tx", "--chain", "ethereum", tx, "--tokens", path), 2);
    char want[128];
    snprintf(want, sizeof want, "%s: line 2: contract \"0x11\"", path);
    cr_assert(strstr(err, want), "%s", err);
    free(err);
    unlink(path);
    free(tx);
    /* a transfer selector with a cut argument: refused, never "no token" */
    /* (offsets count from the tx's first byte, as for every other field:
     * the calldata starts where its selector stands in the hex) */
    tx = signed_tx(USDT_ETH, data, 67, 0);
    size_t at = (size_t)(strstr(tx, "a9059cbb") - tx - 2) / 2;
    char want_cut[96];
    snprintf(want_cut, sizeof want_cut, "data: byte %zu, field transfer calldata: 67 bytes", at);
    cr_assert_eq(cw(NULL, &err, "decode", "tx", "--chain", "ethereum", tx), 2);
    cr_assert(strstr(err, want_cut), "%s (want %s)", err, want_cut);
    free(err);
    free(tx);
    /* a dirty address word: the offending byte (the word's 12th) named where it stands in the tx */
    data[15] = 0x01;
    tx = signed_tx(USDT_ETH, data, sizeof data, 0);
    at = (size_t)(strstr(tx, "a9059cbb") - tx - 2) / 2 + 15;
    snprintf(want_cut, sizeof want_cut, "data: byte %zu, field transfer to:", at);
    cr_assert_eq(cw(NULL, &err, "decode", "tx", "--chain", "ethereum", tx), 2);
    cr_assert(strstr(err, want_cut), "%s (want %s)", err, want_cut);
    free(err);
    free(tx);
}

/* ---- screen, against the real SDN list ---- */

static void sdn_datadir(char *root, size_t cap, char *dd, size_t ddcap)
{
    snprintf(root, cap, "/tmp/cw-ethscreen-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    snprintf(dd, ddcap, "%s/dd", root);
    char *err;
    cr_assert_eq(cw(NULL, &err, "init", "--datadir", dd), 0, "%s", err);
    free(err);
    cr_assert_eq(cw(NULL, &err, "watchlist", "import", "sdn-advanced", CW_SDN_XML, "--datadir", dd), 0, "%s", err);
    free(err);
}

static json_t *address_entry(json_t *j, const char *addr)
{
    json_t *a;
    size_t i;
    json_array_foreach(json_object_get(j, "addresses"), i, a)
    {
        if (strcasecmp(jstr(a, "address"), addr) == 0)
            return a;
    }
    cr_assert_fail("%s not in %s", addr, json_dumps(j, 0));
    return NULL;
}

Test(eth_cli, screen_a_usdt_payment_to_a_listed_address)
{
    char root[64], dd[128];
    sdn_datadir(root, sizeof root, dd, sizeof dd);
    uint8_t data[68];
    transfer_data(data, KIM_EVM, 2500000000ull);
    char *tx = signed_tx(USDT_ETH, data, sizeof data, 0);
    json_t *j;
    char *err;
    cr_assert_eq(cw(&j, &err, "screen", tx, "--datadir", dd), 12, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "decision"), "block");
    cr_assert_str_eq(jstr(j, "type"), "tx");
    cr_assert_str_eq(jstr(j, "chain"), "ethereum");
    cr_assert_str_eq(jstr(j, "from"), KEY46_ADDR);
    json_t *t = json_object_get(j, "token");
    cr_assert_str_eq(jstr(t, "symbol"), "USDT");
    cr_assert_str_eq(jstr(t, "amount"), "2500000000");
    json_t *r = address_entry(j, KIM_EVM);
    cr_assert_str_eq(jstr(r, "decision"), "block");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "roles"), 0)), "token_recipient");
    json_t *why = json_array_get(json_object_get(r, "reasons"), 0);
    cr_assert_str_eq(jstr(why, "kind"), "designated");
    cr_assert_str_eq(jstr(json_object_get(why, "entity"), "name"), "Kim Sang Man");
    cr_assert_str_eq(jstr(json_object_get(why, "entity"), "designated"), "2023-05-23");
    /* the sender and the token contract: screened, not listed */
    cr_assert_str_eq(jstr(address_entry(j, KEY46_ADDR), "decision"), "allow");
    cr_assert_str_eq(jstr(address_entry(j, USDT_ETH), "decision"), "allow");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(address_entry(j, USDT_ETH), "roles"), 0)),
                     "token_contract");
    json_decref(j);
    free(tx);
    /* the same payment with bytes after its arguments: still blocked */
    uint8_t longer[68 + 32];
    memcpy(longer, data, 68);
    memset(longer + 68, 0, 32);
    tx = signed_tx(USDT_ETH, longer, sizeof longer, 0);
    cr_assert_eq(cw(&j, &err, "screen", tx, "--datadir", dd), 12, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(address_entry(j, KIM_EVM), "decision"), "block");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "token"), "trailing_bytes")), 32);
    json_decref(j);
    free(tx);
    /* ETH paid straight to Lazarus Group's address: block, role `to` */
    tx = signed_tx(LAZARUS_EVM, NULL, 0, 1000000000000000000ull);
    cr_assert_eq(cw(&j, &err, "screen", tx, "--datadir", dd), 12, "%s", err);
    free(err);
    r = address_entry(j, LAZARUS_EVM);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "roles"), 0)), "to");
    cr_assert_str_eq(jstr(json_object_get(json_array_get(json_object_get(r, "reasons"), 0), "entity"), "name"),
                     "Lazarus Group");
    cr_assert_str_eq(jstr(j, "value"), "1000000000000000000");
    json_decref(j);
    free(tx);
    /* USDT to a clean address: allow (0); the same bytes from standard input */
    transfer_data(data, "0x3535353535353535353535353535353535353535", 1);
    tx = signed_tx(USDT_ETH, data, sizeof data, 0);
    cr_assert_eq(cw(&j, &err, "screen", tx, "--datadir", dd), 0, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "decision"), "allow");
    cr_assert_eq(json_array_size(json_object_get(j, "addresses")), 3);
    json_decref(j);
    cr_assert_eq(cw_in((const uint8_t *)tx, strlen(tx), &j, &err, "screen", "-", "--datadir", dd, NULL), 0, "%s", err);
    free(err);
    json_decref(j);
    /* bad input: 2, with the offset; Bitcoin-only options: 2 */
    tx[strlen(tx) - 2] = 0;
    cr_assert_eq(cw(&j, &err, "screen", tx, "--datadir", dd), 2);
    cr_assert(strstr(err, "byte 1, field payload"), "%s", err);
    free(err);
    free(tx);
    tx = signed_tx(USDT_ETH, data, sizeof data, 0);
    cr_assert_eq(cw(NULL, &err, "screen", tx, "--datadir", dd, "--amount", "1"), 2);
    free(err);
    /* fail closed: a store that cannot be read is 3, never allow */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/nothing-here", root);
    cr_assert_eq(cw(NULL, &err, "screen", tx, "--datadir", missing), 3);
    free(err);
    free(tx);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

/* A type 4 tx: one authorization signed by the test key delegating to
 * Lazarus Group's listed address, one that does not recover. */
static char *set_code_tx(void)
{
    eth_auth a[2];
    memset(a, 0, sizeof a);
    cw_u256_set_u64(&a[0].chain_id, 1);
    parse_addr(LAZARUS_EVM, a[0].address);
    a[0].nonce = 4;
    eth_test_sign_auth(&a[0], ETH_TEST_KEY);
    a[1] = a[0];
    a[1].y_parity = 2;
    static uint8_t auths[400];
    eth_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = ETH_TX_SET_CODE;
    tx.has_chain_id = true;
    tx.chain_id = 1;
    tx.nonce = 3;
    cw_u256_set_u64(&tx.max_priority_fee, 1);
    cw_u256_set_u64(&tx.max_fee, 2);
    tx.gas = 100000;
    tx.has_to = true;
    parse_addr("0x3535353535353535353535353535353535353535", tx.to);
    tx.auth_list.p = auths;
    tx.auth_list.n = eth_test_auth_list(a, 2, auths, sizeof auths);
    return sign_to_hex(&tx, "0x");
}

Test(eth_cli, type_4_authorities_decoded_and_screened)
{
    char *tx = set_code_tx();
    json_t *j;
    char *err;
    cr_assert_eq(cw(&j, &err, "decode", "tx", "--chain", "ethereum", tx), 0, "%s", err);
    free(err);
    cr_assert_eq(json_integer_value(json_object_get(j, "type")), 4);
    json_t *au = json_object_get(j, "authorities");
    cr_assert_eq(json_array_size(au), 2);
    json_t *a0 = json_array_get(au, 0), *a1 = json_array_get(au, 1);
    cr_assert_str_eq(jstr(a0, "authority"), KEY46_ADDR);
    cr_assert(json_is_null(json_object_get(a0, "error")));
    cr_assert_str_eq(jstr(a0, "delegate"), LAZARUS_EVM);
    cr_assert_str_eq(jstr(a0, "chain_id"), "1");
    cr_assert_eq(json_integer_value(json_object_get(a0, "nonce")), 4);
    cr_assert(json_is_null(json_object_get(a1, "authority")));
    cr_assert(strstr(jstr(a1, "error"), "yParity 2"), "%s", jstr(a1, "error"));
    json_decref(j);
    /* screened: the delegate is listed */
    char root[64], dd[128];
    sdn_datadir(root, sizeof root, dd, sizeof dd);
    cr_assert_eq(cw(&j, &err, "screen", tx, "--datadir", dd), 12, "%s", err);
    free(err);
    json_t *r = address_entry(j, LAZARUS_EVM);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "roles"), 0)), "delegate");
    cr_assert_str_eq(jstr(r, "decision"), "block");
    /* the test key signs the tx and the authorization: one entry, both roles */
    json_t *k = address_entry(j, KEY46_ADDR);
    cr_assert_eq(json_array_size(json_object_get(k, "roles")), 2);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(k, "roles"), 1)), "authority");
    cr_assert_eq(json_integer_value(json_object_get(j, "authorizations_unrecovered")), 1);
    json_decref(j);
    free(tx);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

/* A type 4 tx with n authorizations, each signed by its own key (0x11..11
 * ending in i+1) delegating to 0x01..00i, the last to `last_delegate`;
 * raw hex without 0x (malloc'd). */
static char *many_auth_tx(size_t n, const char *last_delegate)
{
    eth_auth *a = calloc(n, sizeof *a);
    for (size_t i = 0; i < n; i++) {
        cw_u256_set_u64(&a[i].chain_id, 1);
        a[i].address[0] = 1;
        a[i].address[18] = (uint8_t)(i >> 8);
        a[i].address[19] = (uint8_t)i;
        if (i == n - 1)
            parse_addr(last_delegate, a[i].address);
        a[i].nonce = i;
        uint8_t k[32];
        memset(k, 0x11, 32);
        k[30] = (uint8_t)(i >> 8);
        k[31] = (uint8_t)(i + 1);
        eth_test_sign_auth(&a[i], k);
    }
    size_t cap = 120 * n + 16;
    uint8_t *auths = malloc(cap);
    eth_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = ETH_TX_SET_CODE;
    tx.has_chain_id = true;
    tx.chain_id = 1;
    cw_u256_set_u64(&tx.max_fee, 2);
    tx.gas = 30000000;
    tx.has_to = true;
    parse_addr("0x3535353535353535353535353535353535353535", tx.to);
    tx.auth_list.p = auths;
    tx.auth_list.n = eth_test_auth_list(a, n, auths, cap);
    char *hex = sign_to_hex(&tx, "");
    free(auths);
    free(a);
    return hex;
}

/* A relayer may batch hundreds of authorizations (25000 gas each: a 30M
 * gas tx holds 1200): every authority and delegate is screened, the listed
 * delegate at the end of a 70-long list blocks (it was refused as a store
 * error, exit 3, past 64). A list no Ethereum block could hold is bad
 * input (2), not an unreadable store. */
Test(eth_cli, a_long_authorization_list_is_screened_in_full)
{
    char root[64], dd[128];
    sdn_datadir(root, sizeof root, dd, sizeof dd);
    char *tx = many_auth_tx(70, LAZARUS_EVM);
    json_t *j;
    char *err;
    cr_assert_eq(cw_in((const uint8_t *)tx, strlen(tx), &j, &err, "screen", "-", "--chain", "ethereum", "--datadir", dd,
                       NULL),
                 12, "%s", err);
    free(err);
    cr_assert_eq(json_array_size(json_object_get(j, "addresses")), 2 + 2 * 70);
    cr_assert_str_eq(jstr(address_entry(j, LAZARUS_EVM), "decision"), "block");
    json_decref(j);
    free(tx);
    tx = many_auth_tx(2049, "0x3535353535353535353535353535353535353535");
    cr_assert_eq(cw_in((const uint8_t *)tx, strlen(tx), &j, &err, "screen", "-", "--chain", "ethereum", "--datadir", dd,
                       NULL),
                 2, "%s", err);
    cr_assert_null(j);
    cr_assert(strstr(err, "2049 authorizations"), "%s", err);
    free(err);
    free(tx);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

/* screen's answer is built with jansson, whose integers are signed 64-bit:
 * a chain id of 2^63 came out as -9223372036854775808. No network has a
 * chain id that large (EIP-2294 bounds it below 2^63): bad input (2). */
Test(eth_cli, screen_refuses_a_chain_id_its_answer_cannot_carry)
{
    eth_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = ETH_TX_DYNAMIC_FEE;
    tx.has_chain_id = true;
    tx.chain_id = 1ull << 63;
    tx.gas = 21000;
    tx.has_to = true;
    parse_addr(LAZARUS_EVM, tx.to);
    char *hex = sign_to_hex(&tx, "0x");
    json_t *j;
    char *err;
    cr_assert_eq(cw(&j, &err, "screen", hex, "--datadir", "/nonexistent/dd"), 2, "%s", err);
    cr_assert_null(j);
    cr_assert(strstr(err, "chain id 9223372036854775808"), "%s", err);
    free(err);
    free(hex);
}

/* EIP-7702: an authorization whose chain id is neither 0 nor the chain the
 * tx runs on (its own chain id) is skipped by every node that runs the tx:
 * decode says so in `error` (the authority still shown: it signed). */
Test(eth_cli, decode_names_an_authorization_for_another_chain)
{
    eth_auth a[2];
    memset(a, 0, sizeof a);
    cw_u256_set_u64(&a[0].chain_id, 5);
    parse_addr(LAZARUS_EVM, a[0].address);
    eth_test_sign_auth(&a[0], ETH_TEST_KEY);
    a[1] = a[0];
    cw_u256_set_u64(&a[1].chain_id, 0); /* any chain: applies */
    eth_test_sign_auth(&a[1], ETH_TEST_KEY);
    uint8_t auths[400];
    eth_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = ETH_TX_SET_CODE;
    tx.has_chain_id = true;
    tx.chain_id = 1;
    tx.gas = 100000;
    tx.has_to = true;
    parse_addr(LAZARUS_EVM, tx.to);
    tx.auth_list.p = auths;
    tx.auth_list.n = eth_test_auth_list(a, 2, auths, sizeof auths);
    char *hex = sign_to_hex(&tx, "0x");
    json_t *j;
    char *err;
    cr_assert_eq(cw(&j, &err, "decode", "tx", "--chain", "ethereum", hex), 0, "%s", err);
    free(err);
    json_t *au = json_object_get(j, "authorities");
    cr_assert_eq(json_array_size(au), 2);
    cr_assert_str_eq(jstr(json_array_get(au, 0), "authority"), KEY46_ADDR);
    const char *why = jstr(json_array_get(au, 0), "error");
    cr_assert(why && strstr(why, "chain id 5 is neither 0 nor the tx's (1)"), "%s", why ? why : "(null)");
    cr_assert_str_eq(jstr(json_array_get(au, 1), "authority"), KEY46_ADDR);
    cr_assert(json_is_null(json_object_get(json_array_get(au, 1), "error")));
    json_decref(j);
    free(hex);
}
