/* Address text forms: bitcoinjs-lib's fixtures, every network, round trips. */
#include <criterion/criterion.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/bitcoin/script.h"
#include "chains/hex.h"
#include "tests/support.h"

/* "OP_DUP OP_HASH160 <hex> OP_EQUALVERIFY OP_CHECKSIG" -> bytes, for the
 * few opcodes the fixtures use. */
static size_t asm_to_script(const char *asm_text, uint8_t *out)
{
    static const struct { const char *name; uint8_t op; } ops[] = {
        {"OP_0", 0x00}, {"OP_1", 0x51}, {"OP_2", 0x52}, {"OP_16", 0x60}, {"OP_DUP", 0x76},
        {"OP_HASH160", 0xa9}, {"OP_EQUALVERIFY", 0x88}, {"OP_EQUAL", 0x87}, {"OP_CHECKSIG", 0xac},
    };
    char buf[512];
    strncpy(buf, asm_text, sizeof buf - 1);
    buf[sizeof buf - 1] = '\0';
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        bool found = false;
        for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
            if (strcmp(tok, ops[i].name) == 0) {
                out[n++] = ops[i].op;
                found = true;
            }
        if (!found) {
            size_t len;
            cr_assert_eq(cw_hex_decode(tok, strlen(tok), out + n + 1, 80, &len, NULL), CW_OK, "asm token %s", tok);
            out[n] = (uint8_t)len;
            n += 1 + len;
        }
    }
    return n;
}

/* A row of bitcoinjs-lib's "standard" fixtures: its address text
 * (base58check or bech32) and network; false for Litecoin's rows
 * (Litecoin comes with its own decoder). */
static bool standard_row(json_t *v, const char **text, int *net)
{
    const char *network = json_string_value(json_object_get(v, "network"));
    *text = json_string_value(json_object_get(v, "base58check"));
    if (*text == NULL)
        *text = json_string_value(json_object_get(v, "bech32"));
    if (strcmp(network, "litecoin") == 0)
        return false;
    *net = strcmp(network, "bitcoin") == 0 ? CW_NET_MAIN : strcmp(network, "testnet") == 0 ? CW_NET_TEST : CW_NET_REGTEST;
    return true;
}

Test(addr, bitcoinjs_standard_addresses)
{
    json_t *root = fixture_json("addr/bitcoinjs-lib_address.json");
    size_t i, checked = 0;
    json_t *v;
    json_array_foreach(json_object_get(root, "standard"), i, v) {
        const char *text;
        int net;
        if (!standard_row(v, &text, &net))
            continue;
        cw_addr a;
        cw_err err = {0};
        cr_assert_eq(cw_addr_parse(text, net, &a, &err), CW_OK, "%s: %s", text, err.msg);
        uint8_t want[64], got[42];
        size_t wl = asm_to_script(json_string_value(json_object_get(v, "script")), want);
        size_t gl = btc_script_for_addr(&a, got);
        cr_assert_eq(gl, wl, "%s: script length", text);
        cr_assert_eq(memcmp(got, want, wl), 0, "%s: script", text);
        /* and the script classifies back to the same address */
        cw_addr back;
        btc_script_classify(want, wl, (cw_net)net, &back);
        cr_assert(cw_addr_eq(&a, &back), "%s: classify(script) differs", text);
        checked++;
    }
    cr_assert_eq(checked, 14);
    json_decref(root);
}

Test(addr, bitcoinjs_invalid_addresses)
{
    json_t *root = fixture_json("addr/bitcoinjs-lib_address.json");
    json_t *inv = json_object_get(root, "invalid");
    const char *sections[] = {"bech32", "fromBase58Check", "toOutputScript"};
    size_t total = 0;
    for (int s = 0; s < 3; s++) {
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(inv, sections[s]), i, v) {
            const char *text = json_string_value(json_object_get(v, "address"));
            if (text == NULL || json_object_get(v, "paymentException"))
                continue; /* a syntactically valid address whose key is off the curve */
            const char *hrp = json_string_value(json_object_get(json_object_get(v, "network"), "bech32"));
            int net = CW_NET_ANY;
            if (hrp && strcmp(hrp, "tb") == 0)
                net = CW_NET_TEST;
            else if (hrp)
                net = CW_NET_REGTEST; /* "foo": any network but mainnet's shows the refusal */
            cw_addr a;
            cw_err err = {0};
            cr_assert_neq(cw_addr_parse(text, net, &a, &err), CW_OK, "%s accepted", text);
            total++;
        }
    }
    cr_assert_geq(total, 30);
    json_decref(root);
}

Test(addr, bitcoinjs_p2tr_addresses)
{
    json_t *root = fixture_json("addr/bitcoinjs-lib_p2tr.json");
    size_t i, checked = 0;
    json_t *v;
    json_array_foreach(json_object_get(root, "valid"), i, v) {
        json_t *exp = json_object_get(v, "expected");
        const char *text = json_string_value(json_object_get(exp, "address"));
        const char *output = json_string_value(json_object_get(exp, "output"));
        if (text == NULL || output == NULL)
            continue;
        cw_addr a;
        cw_err err = {0};
        cr_assert_eq(cw_addr_parse(text, CW_NET_ANY, &a, &err), CW_OK, "%s: %s", text, err.msg);
        cr_assert_eq(a.kind, CW_ADDR_P2TR);
        uint8_t want[64], got[42];
        size_t wl = asm_to_script(output, want);
        cr_assert_eq(btc_script_for_addr(&a, got), wl);
        cr_assert_eq(memcmp(got, want, wl), 0, "%s", text);
        checked++;
    }
    cr_assert_geq(checked, 20);
    json_decref(root);
}

/* The addresses a real Bitcoin Core v30 regtest node paid (events.json). */
Test(addr, regtest_addresses_of_the_recorded_node)
{
    json_t *ev = fixture_json("btc/regtest-v30/events.json");
    size_t i, n = 0;
    json_t *v;
    json_array_foreach(ev, i, v) {
        const char *text = json_string_value(json_object_get(v, "address"));
        if (text == NULL)
            continue;
        cw_addr a;
        cw_err err = {0};
        cr_assert_eq(cw_addr_parse(text, CW_NET_REGTEST, &a, &err), CW_OK, "%s: %s", text, err.msg);
        cr_assert_eq(a.net, CW_NET_REGTEST);
        char back[CW_ADDR_TEXT_MAX];
        cr_assert_gt(cw_addr_format(&a, back, sizeof back), 0);
        cr_assert_str_eq(back, text);
        /* bcrt1 is not a mainnet or testnet address */
        if (strncmp(text, "bcrt1", 5) == 0)
            cr_assert_neq(cw_addr_parse(text, CW_NET_MAIN, &a, NULL), CW_OK);
        n++;
    }
    cr_assert_eq(n, 3, "events.json names three addresses");
    json_decref(ev);
}

/* One hash160 in every network's forms. */
Test(addr, every_network_formats_distinctly)
{
    cw_addr a = {.chain = CW_CHAIN_BITCOIN, .kind = CW_ADDR_P2WPKH, .len = 20};
    size_t n;
    cw_hex_decode("751e76e8199196d454941c45d1b3a323f1433bd6", 40, a.payload, 20, &n, NULL);
    const char *want[CW_NET_COUNT] = {
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",
        "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",
        "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"};
    for (int net = 0; net < CW_NET_COUNT; net++) {
        a.net = (uint8_t)cw_net_space((cw_net)net);
        char text[CW_ADDR_TEXT_MAX];
        cr_assert_gt(cw_addr_format(&a, text, sizeof text), 0);
        cr_assert_str_eq(text, want[net], "network %s", cw_net_name((cw_net)net));
        cw_addr back;
        cr_assert_eq(cw_addr_parse(text, net, &back, NULL), CW_OK, "%s on %s", text, cw_net_name((cw_net)net));
        cr_assert(cw_addr_eq(&a, &back));
    }
}

Test(addr, malformed_text_is_refused_with_a_reason)
{
    struct { const char *text; const char *why; } cases[] = {
        {"", "empty"},
        {"1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH ", "whitespace"},
        {"1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAM0", "not in the alphabet"},
        {"xyz1qqqqqqqqqq", "checksum"},
        {"ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9", "unknown prefix"},
        {"bc1", "bech32"},
        {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4x", "bech32"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cw_addr a;
        cw_err err = {0};
        cr_assert_neq(cw_addr_parse(cases[i].text, CW_NET_ANY, &a, &err), CW_OK, "'%s' accepted", cases[i].text);
        cr_expect(strstr(err.msg, cases[i].why) != NULL, "'%s': '%s' lacks '%s'", cases[i].text, err.msg,
                  cases[i].why);
    }
}

#include "chains/keccak.h"

Test(addr, keccak256_vectors)
{
    struct { const char *msg, *hash; } v[] = {
        {"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
        {"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"},
        /* ERC-20 Transfer(address,address,uint256) topic (FORMATS.md) */
        {"Transfer(address,address,uint256)", "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        uint8_t h[32];
        char hex[65];
        cw_keccak256(v[i].msg, strlen(v[i].msg), h);
        cw_hex_encode(h, 32, hex);
        cr_assert_str_eq(hex, v[i].hash, "keccak256(\"%s\")", v[i].msg);
    }
    /* crossing the 136-byte rate boundary */
    char big[300];
    memset(big, 'a', sizeof big);
    uint8_t h1[32], h2[32];
    cw_keccak256(big, 135, h1);
    cw_keccak256(big, 136, h2);
    cr_assert_neq(memcmp(h1, h2, 32), 0);
}

/* EIP-55's own examples, and the SDN list's Lazarus Group address. */
Test(addr, evm_eip55)
{
    const char *valid[] = {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                           "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
                           "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"};
    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
        cw_addr a;
        cw_err err = {0};
        cr_assert_eq(cw_addr_parse(valid[i], CW_NET_ANY, &a, &err), CW_OK, "%s: %s", valid[i], err.msg);
        cr_assert_eq(a.chain, CW_CHAIN_EVM);
        char back[CW_ADDR_TEXT_MAX];
        cr_assert_eq(cw_addr_format(&a, back, sizeof back), 42);
        cr_assert_str_eq(back, valid[i]);
    }
    cw_addr a, b;
    cw_err err = {0};
    /* all lowercase: no checksum to check, same account */
    cr_assert_eq(cw_addr_parse("0x098b716b8aaf21512996dc57eb0615e2383e2f96", CW_NET_ANY, &a, NULL), CW_OK);
    cr_assert_eq(cw_addr_parse("0x098B716B8Aaf21512996dC57EB0615e2383E2f96", CW_NET_ANY, &b, NULL), CW_OK);
    cr_assert(cw_addr_eq(&a, &b));
    /* one letter's case flipped: a checksum failure */
    cr_assert_eq(cw_addr_parse("0x098B716B8Aaf21512996dC57EB0615e2383E2F96", CW_NET_ANY, &a, &err), CW_ECHECKSUM);
    cr_assert(strstr(err.msg, "EIP-55") != NULL, "%s", err.msg);
    cr_assert_eq(cw_addr_parse("0x098B716B8Aaf21512996dC57EB0615e2383E2f9", CW_NET_ANY, &a, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "wrong length") != NULL, "%s", err.msg);
    cr_assert_eq(cw_addr_parse("0x098B716B8Aaf21512996dC57EB0615e2383E2f9g", CW_NET_ANY, &a, &err), CW_EFORMAT);
}

/* Tron: USDT's TRC-20 contract, whose hex form FORMATS.md gives. */
Test(addr, tron_base58)
{
    cw_addr a;
    cw_err err = {0};
    cr_assert_eq(cw_addr_parse("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", CW_NET_ANY, &a, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(a.chain, CW_CHAIN_TRON);
    cr_assert_eq(a.kind, CW_ADDR_TRON);
    char hex[41];
    cw_hex_encode(a.payload, a.len, hex);
    cr_assert_str_eq(hex, "a614f803b6fd780986a42c78ec9c7f77e6ded13c");
    char back[CW_ADDR_TEXT_MAX];
    cr_assert_gt(cw_addr_format(&a, back, sizeof back), 0);
    cr_assert_str_eq(back, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    cr_assert_eq(cw_addr_parse("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", CW_NET_ANY, &a, &err), CW_ECHECKSUM);
}

/* Tron's hex form as java-tron's API prints it (getblockbynum's
 * owner_address 41c33e... and USDT's contract_address in
 * gettransactioninfobyblocknum_30864600): the same key as its T-form. */
Test(addr, tron_hex_form)
{
    cw_addr a, b;
    cw_err err = {0};
    cr_assert_eq(cw_addr_parse("41a614f803b6fd780986a42c78ec9c7f77e6ded13c", CW_NET_ANY, &a, &err), CW_OK, "%s",
                 err.msg);
    cr_assert_eq(cw_addr_parse("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", CW_NET_ANY, &b, &err), CW_OK);
    cr_assert(cw_addr_eq(&a, &b));
    cr_assert_eq(cw_addr_parse("41A614F803B6FD780986A42C78EC9C7F77E6DED13C", CW_NET_ANY, &a, &err), CW_OK);
    cr_assert(cw_addr_eq(&a, &b));
    char back[CW_ADDR_TEXT_MAX];
    cw_addr_format(&a, back, sizeof back);
    cr_assert_str_eq(back, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    /* a stray character is named by its position */
    cr_assert_eq(cw_addr_parse("41a614f803b6fd780986a42c78ec9c7f77e6ded1xc", CW_NET_ANY, &a, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "Tron hex address: character 40") != NULL, "%s", err.msg);
    /* one digit short: not the hex form, and no base58 either */
    cr_assert_neq(cw_addr_parse("41a614f803b6fd780986a42c78ec9c7f77e6ded13", CW_NET_ANY, &a, &err), CW_OK);
}

/* cw_addr_parse_canon: the canonical text from the parse itself is exactly
 * cw_addr_format's, for every form a screening can be given: the
 * bitcoinjs-lib fixtures (base58check and bech32/bech32m on three
 * networks), BIP-173's uppercase P2WPKH (its lowercase form is BIP-173's
 * own), EIP-55's mixed-case vectors, the same accounts in one case and
 * with a "0X" prefix, and Tron in both its forms. Failures agree with
 * cw_addr_parse, code and message. */
static void canon_agrees(const char *text, int net, const char *want)
{
    cw_addr a, b;
    cw_err err = {0}, err2 = {0};
    char formatted[CW_ADDR_TEXT_MAX], canon[CW_ADDR_TEXT_MAX];
    cr_assert_eq(cw_addr_parse(text, net, &a, &err), CW_OK, "%s: %s", text, err.msg);
    cr_assert_gt(cw_addr_format(&a, formatted, sizeof formatted), 0);
    cr_assert_eq(cw_addr_parse_canon(text, net, &b, canon, &err2), CW_OK, "%s: %s", text, err2.msg);
    cr_assert(cw_addr_eq(&a, &b), "%s", text);
    cr_assert_str_eq(canon, formatted, "%s", text);
    if (want)
        cr_assert_str_eq(canon, want, "%s", text);
}

Test(addr, parse_canon_is_the_formatted_text)
{
    json_t *root = fixture_json("addr/bitcoinjs-lib_address.json");
    size_t i, n = 0;
    json_t *v;
    json_array_foreach(json_object_get(root, "standard"), i, v) {
        const char *text;
        int net;
        if (!standard_row(v, &text, &net))
            continue;
        canon_agrees(text, net, NULL); /* fixtures hold BIP-173's uppercase P2WPKH too */
        canon_agrees(text, CW_NET_ANY, NULL);
        n++;
    }
    cr_assert_eq(n, 14);
    json_decref(root);
    root = fixture_json("addr/bitcoinjs-lib_p2tr.json");
    n = 0;
    json_array_foreach(json_object_get(root, "valid"), i, v) {
        const char *text = json_string_value(json_object_get(json_object_get(v, "expected"), "address"));
        if (text == NULL)
            continue;
        canon_agrees(text, CW_NET_ANY, text);
        n++;
    }
    cr_assert_geq(n, 20);
    json_decref(root);
    canon_agrees("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", CW_NET_ANY, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4");
    canon_agrees("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", CW_NET_ANY, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
    canon_agrees("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", CW_NET_ANY, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
    canon_agrees("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", CW_NET_ANY, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
    canon_agrees("0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", CW_NET_ANY, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
    canon_agrees("0x098B716B8Aaf21512996dC57EB0615e2383E2f96", CW_NET_ANY, "0x098B716B8Aaf21512996dC57EB0615e2383E2f96");
    canon_agrees("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", CW_NET_ANY, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    canon_agrees("41A614F803B6FD780986A42C78EC9C7F77E6DED13C", CW_NET_ANY, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    canon_agrees("1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ", CW_NET_ANY, "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ");
    /* refusals are cw_addr_parse's, word for word */
    const char *bad[] = {"0x098B716B8Aaf21512996dC57EB0615e2383E2F96", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
                         "BC1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", "", "1 2"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        cw_addr a;
        cw_err e1 = {0}, e2 = {0};
        char canon[CW_ADDR_TEXT_MAX];
        cw_code c1 = cw_addr_parse(bad[k], CW_NET_ANY, &a, &e1);
        cr_assert_neq(c1, CW_OK, "'%s'", bad[k]);
        cr_assert_eq(cw_addr_parse_canon(bad[k], CW_NET_ANY, &a, canon, &e2), c1, "'%s'", bad[k]);
        cr_assert_str_eq(e2.msg, e1.msg);
    }
}
