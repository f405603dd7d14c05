/* Base58 and base58check: Bitcoin Core's vectors (via bitcoinjs-lib). */
#include <criterion/criterion.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/bitcoin/base58.h"
#include "chains/hex.h"
#include "tests/support.h"

Test(base58, core_encode_decode_vectors)
{
    json_t *root = fixture_json("addr/bitcoinjs-lib_core_base58_encode_decode.json");
    cr_assert_geq(json_array_size(root), 12);
    size_t i;
    json_t *v;
    json_array_foreach(root, i, v) {
        const char *hex = json_string_value(json_array_get(v, 0));
        const char *b58 = json_string_value(json_array_get(v, 1));
        size_t n;
        uint8_t *bytes = unhex(hex, &n);
        char text[256];
        size_t tl = base58_encode(bytes, n, text, sizeof text);
        cr_assert_eq(tl, strlen(b58), "encode %s", hex);
        cr_assert_str_eq(text, b58);
        uint8_t back[128];
        size_t bn;
        cw_err err = {0};
        cr_assert_eq(base58_decode(b58, strlen(b58), back, sizeof back, &bn, &err), CW_OK, "%s: %s", b58, err.msg);
        cr_assert_eq(bn, n);
        cr_assert_eq(memcmp(back, bytes, n), 0);
        free(bytes);
    }
    json_decref(root);
}

Test(base58, rejects_characters_outside_the_alphabet)
{
    uint8_t out[64];
    size_t n;
    const char *bad[] = {"0OIl", "3SEo3LWLoPntC0", " 1A", "1A\n", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cw_err err = {0};
        cr_assert_eq(base58_decode(bad[i], strlen(bad[i]), out, sizeof out, &n, &err), CW_EFORMAT, "%s", bad[i]);
        cr_assert(strstr(err.msg, "not in the alphabet") != NULL, "%s", err.msg);
    }
}

Test(base58, encode_refuses_small_buffer)
{
    uint8_t zeros[10] = {0};
    char small[10]; /* ten '1's need 11 bytes with the NUL */
    cr_assert_eq(base58_encode(zeros, 10, small, sizeof small), 0);
    char ok[11];
    cr_assert_eq(base58_encode(zeros, 10, ok, sizeof ok), 10);
    cr_assert_str_eq(ok, "1111111111");
}

/* Core's key_io vectors: every address (pubkey/script) parses to the given
 * hash on the given network and formats back to the same text. */
Test(base58, core_valid_addresses)
{
    json_t *root = fixture_json("addr/bitcoinjs-lib_core_base58_keys_valid.json");
    size_t i, checked = 0;
    json_t *v;
    json_array_foreach(root, i, v) {
        json_t *meta = json_array_get(v, 2);
        const char *type = json_string_value(json_object_get(meta, "addrType"));
        if (json_is_true(json_object_get(meta, "isPrivkey")) || type == NULL)
            continue;
        const char *text = json_string_value(json_array_get(v, 0));
        const char *hash = json_string_value(json_array_get(v, 1));
        bool testnet = json_is_true(json_object_get(meta, "isTestnet"));
        cw_addr a;
        cw_err err = {0};
        cr_assert_eq(cw_addr_parse(text, CW_NET_ANY, &a, &err), CW_OK, "%s: %s", text, err.msg);
        cr_assert_eq(a.net, testnet ? CW_NET_TEST : CW_NET_MAIN, "%s", text);
        cr_assert_eq(a.kind, strcmp(type, "pubkey") == 0 ? CW_ADDR_P2PKH : CW_ADDR_P2SH, "%s", text);
        char hex[41];
        cw_hex_encode(a.payload, a.len, hex);
        cr_assert_str_eq(hex, hash, "%s", text);
        char back[CW_ADDR_TEXT_MAX];
        cr_assert_gt(cw_addr_format(&a, back, sizeof back), 0);
        cr_assert_str_eq(back, text);
        /* with the network given: accepted for its own, refused for the other */
        cr_assert_eq(cw_addr_parse(text, testnet ? CW_NET_SIGNET : CW_NET_MAIN, &a, NULL), CW_OK);
        cr_assert_neq(cw_addr_parse(text, testnet ? CW_NET_MAIN : CW_NET_TEST, &a, &err), CW_OK);
        cr_assert(strstr(err.msg, "address is for") != NULL, "%s", err.msg);
        checked++;
    }
    cr_assert_eq(checked, 26, "pubkey/script vectors: %zu", checked);
    json_decref(root);
}

Test(base58, core_invalid_addresses)
{
    json_t *root = fixture_json("addr/bitcoinjs-lib_core_base58_keys_invalid.json");
    cr_assert_eq(json_array_size(root), 50);
    size_t i;
    json_t *v;
    json_array_foreach(root, i, v) {
        const char *text = json_string_value(json_array_get(v, 0));
        cw_addr a;
        cw_err err = {0};
        cr_assert_neq(cw_addr_parse(text, CW_NET_ANY, &a, &err), CW_OK, "'%s' accepted", text);
        cr_assert_gt(strlen(err.msg), 5);
    }
    json_decref(root);
}

Test(base58, checksum_and_length_reasons)
{
    cw_addr a;
    cw_err err = {0};
    /* last character changed: checksum */
    cr_assert_eq(cw_addr_parse("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMJ", CW_NET_ANY, &a, &err), CW_ECHECKSUM);
    cr_assert(strstr(err.msg, "bad checksum") != NULL, "%s", err.msg);
    /* bitcoinjs' too short / too long payloads */
    cr_assert_neq(cw_addr_parse("7SeEnXWPaCCALbVrTnszCVGfRU8cGfx", CW_NET_ANY, &a, &err), CW_OK);
    cr_assert(strstr(err.msg, "wrong length") != NULL, "%s", err.msg);
    cr_assert_neq(cw_addr_parse("j9ywUkWg2fTQrouxxh5rSZhRvrjMkEUfuiKe", CW_NET_ANY, &a, &err), CW_OK);
    cr_assert(strstr(err.msg, "wrong length") != NULL, "%s", err.msg);
}
