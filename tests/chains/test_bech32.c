/* BIP-173 and BIP-350 test vectors, plus bitcoinjs' bech32 fixtures. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/bitcoin/bech32.h"
#include "chains/bitcoin/script.h"
#include "chains/hex.h"
#include "tests/support.h"

static int strcasecmp_ascii(const char *a, const char *b)
{
    while (*a && tolower((unsigned char)*a) == tolower((unsigned char)*b))
        a++, b++;
    return tolower((unsigned char)*a) - tolower((unsigned char)*b);
}

#define VECTORS "addr/bip173_bip350_test_vectors.json"

static void check_valid_strings(const char *bip, bech32_variant want)
{
    json_t *root = fixture_json(VECTORS);
    json_t *arr = json_object_get(json_object_get(root, bip), "valid_strings");
    cr_assert(json_array_size(arr) >= 7);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *s = json_string_value(v);
        char hrp[BECH32_HRP_MAX + 1], again[BECH32_MAX_LEN + 1];
        uint8_t data[BECH32_MAX_LEN];
        size_t n;
        bech32_variant got;
        cw_err err = {0};
        cr_assert_eq(bech32_decode(s, hrp, data, &n, &got, &err), CW_OK, "%s: %s", s, err.msg);
        cr_assert_eq(got, want, "%s: wrong variant", s);
        /* Re-encoding gives the same string, lowercased. */
        cr_assert_gt(bech32_encode(hrp, data, n, got, again, sizeof again), 0);
        char lower[BECH32_MAX_LEN + 1];
        size_t k;
        for (k = 0; s[k]; k++)
            lower[k] = (char)tolower((unsigned char)s[k]);
        lower[k] = '\0';
        cr_assert_str_eq(again, lower);
    }
    json_decref(root);
}

Test(bech32, bip173_valid_strings) { check_valid_strings("bip0173", BECH32); }
Test(bech32, bip350_valid_strings) { check_valid_strings("bip0350", BECH32M); }

static void check_invalid_strings(const char *bip, bech32_variant variant)
{
    json_t *root = fixture_json(VECTORS);
    json_t *arr = json_object_get(json_object_get(root, bip), "invalid_strings");
    cr_assert(json_array_size(arr) >= 10);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *s = json_string_value(json_object_get(v, "string"));
        char hrp[BECH32_HRP_MAX + 1];
        uint8_t data[BECH32_MAX_LEN];
        size_t n;
        bech32_variant got = BECH32_NONE;
        cw_err err = {0};
        cw_code rc = bech32_decode(s, hrp, data, &n, &got, &err);
        /* A string valid under the other variant is invalid for this BIP. */
        cr_assert(rc != CW_OK || got != variant, "%s (%s) accepted", s,
                  json_string_value(json_object_get(v, "reason")));
        if (rc != CW_OK)
            cr_assert_gt(strlen(err.msg), 10, "no reason given for %s", s);
    }
    json_decref(root);
}

Test(bech32, bip173_invalid_strings) { check_invalid_strings("bip0173", BECH32); }
Test(bech32, bip350_invalid_strings) { check_invalid_strings("bip0350", BECH32M); }

static void check_valid_addresses(const char *bip)
{
    json_t *root = fixture_json(VECTORS);
    json_t *arr = json_object_get(json_object_get(root, bip), "valid_segwit_addresses");
    cr_assert(json_array_size(arr) >= 6);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *s = json_string_value(json_object_get(v, "address"));
        const char *spk = json_string_value(json_object_get(v, "scriptPubKey"));
        char hrp[BECH32_HRP_MAX + 1];
        uint8_t prog[40], script[42];
        size_t plen;
        int ver;
        cw_err err = {0};
        if (strcmp(bip, "bip0173") == 0 && strcmp(spk, "0014") > 0 && strncmp(spk, "00", 2) != 0) {
            /* BIP-173 encoded v1+ with bech32; BIP-350 made that invalid */
            cr_assert_neq(segwit_addr_decode(s, hrp, &ver, prog, &plen, &err), CW_OK, "%s accepted", s);
            cr_assert(strstr(err.msg, "bech32m") != NULL, "%s: %s", s, err.msg);
            continue;
        }
        cr_assert_eq(segwit_addr_decode(s, hrp, &ver, prog, &plen, &err), CW_OK, "%s: %s", s, err.msg);
        /* version opcode + push + program equals the vector's scriptPubKey */
        script[0] = ver == 0 ? 0 : (uint8_t)(0x50 + ver);
        script[1] = (uint8_t)plen;
        memcpy(script + 2, prog, plen);
        char hex[2 * 42 + 1];
        cw_hex_encode(script, plen + 2, hex);
        cr_assert_str_eq(hex, spk, "%s", s);
        /* Only bc/tb addresses are Bitcoin addresses; both must round-trip. */
        if (strcmp(hrp, "bc") == 0 || strcmp(hrp, "tb") == 0) {
            cw_addr a;
            cr_assert_eq(cw_addr_parse(s, CW_NET_ANY, &a, &err), CW_OK, "%s: %s", s, err.msg);
            uint8_t built[42];
            size_t bl = btc_script_for_addr(&a, built);
            cr_assert_eq(bl, plen + 2);
            cr_assert_eq(memcmp(built, script, bl), 0);
            char text[CW_ADDR_TEXT_MAX], lower[CW_ADDR_TEXT_MAX];
            cr_assert_gt(cw_addr_format(&a, text, sizeof text), 0);
            size_t k;
            for (k = 0; s[k]; k++)
                lower[k] = (char)tolower((unsigned char)s[k]);
            lower[k] = '\0';
            cr_assert_str_eq(text, lower);
        }
    }
    json_decref(root);
}

Test(bech32, bip173_valid_addresses) { check_valid_addresses("bip0173"); }
Test(bech32, bip350_valid_addresses) { check_valid_addresses("bip0350"); }

static void check_invalid_addresses(const char *bip)
{
    json_t *root = fixture_json(VECTORS);
    json_t *arr = json_object_get(json_object_get(root, bip), "invalid_segwit_addresses");
    cr_assert(json_array_size(arr) >= 10);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *s = json_string_value(json_object_get(v, "string"));
        cw_addr a;
        cw_err err = {0};
        cr_assert_neq(cw_addr_parse(s, CW_NET_ANY, &a, &err), CW_OK, "%s accepted (%s)", s,
                      json_string_value(json_object_get(v, "reason")));
        cr_assert_gt(strlen(err.msg), 10);
    }
    json_decref(root);
}

Test(bech32, bip173_invalid_addresses) { check_invalid_addresses("bip0173"); }
Test(bech32, bip350_invalid_addresses) { check_invalid_addresses("bip0350"); }

/* The reasons the CLI promises, on the BIP vectors that show them. */
Test(bech32, reasons_are_specific)
{
    struct { const char *addr, *reason; } cases[] = {
        {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "bad checksum"},
        {"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7", "mixed case"},
        {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "wrong witness version encoding"},
        {"BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "wrong length"},
        {"tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut", "unknown prefix"},
        {"bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", "padding"},
        {"BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", "version 17"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cw_addr a;
        cw_err err = {0};
        cr_assert_neq(cw_addr_parse(cases[i].addr, CW_NET_ANY, &a, &err), CW_OK, "%s accepted", cases[i].addr);
        cr_expect(strstr(err.msg, cases[i].reason) != NULL || (strcmp(cases[i].reason, "version 17") == 0 &&
                                                               strstr(err.msg, "over 16") != NULL),
                  "%s: got '%s', want '%s'", cases[i].addr, err.msg, cases[i].reason);
    }
}

Test(bech32, bitcoinjs_fixtures)
{
    json_t *root = fixture_json("addr/bitcoinjs-bech32_fixtures.json");
    const char *variants[] = {"bech32", "bech32m"};
    for (int k = 0; k < 2; k++) {
        json_t *sect = json_object_get(root, variants[k]);
        size_t i, nvalid = 0;
        json_t *v;
        json_array_foreach(json_object_get(sect, "valid"), i, v) {
            const char *s = json_string_value(json_object_get(v, "string"));
            json_t *limit = json_object_get(v, "limit");
            if (s == NULL || (limit && json_integer_value(limit) > BECH32_MAX_LEN))
                continue; /* bitcoinjs allows longer strings on request; BIP-173 does not */
            char hrp[BECH32_HRP_MAX + 1];
            uint8_t data[BECH32_MAX_LEN];
            size_t n;
            bech32_variant got;
            cw_err err = {0};
            cr_assert_eq(bech32_decode(s, hrp, data, &n, &got, &err), CW_OK, "%s: %s", s, err.msg);
            cr_assert_eq(got, k == 0 ? BECH32 : BECH32M, "%s", s);
            /* The decoded words and prefix equal the fixture's. */
            json_t *words = json_object_get(v, "words");
            cr_assert_eq(n, json_array_size(words), "%s: %zu words", s, n);
            for (size_t w = 0; w < n; w++)
                cr_assert_eq(data[w], json_integer_value(json_array_get(words, w)), "%s: word %zu", s, w);
            const char *prefix = json_string_value(json_object_get(v, "prefix"));
            cr_assert_eq(strcasecmp_ascii(hrp, prefix), 0, "%s: prefix %s", s, hrp);
            nvalid++;
        }
        cr_assert_gt(nvalid, 3);
        json_array_foreach(json_object_get(sect, "invalid"), i, v) {
            const char *s = json_string_value(json_object_get(v, "string"));
            json_t *limit = json_object_get(v, "limit");
            if (s == NULL || limit)
                continue;
            char hrp[BECH32_HRP_MAX + 1];
            uint8_t data[BECH32_MAX_LEN];
            size_t n;
            bech32_variant got = BECH32_NONE;
            cw_code rc = bech32_decode(s, hrp, data, &n, &got, NULL);
            cr_assert(rc != CW_OK || got != (k == 0 ? BECH32 : BECH32M), "%s accepted", s);
        }
    }
    json_decref(root);
}
