/* Output script templates (Bitcoin Core's Solver classes). */
#include <criterion/criterion.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/bitcoin/script.h"
#include "chains/hex.h"
#include "tests/support.h"

static cw_script_type classify_hex(const char *hex, cw_addr *a, char *text)
{
    size_t n;
    uint8_t *s = unhex(hex, &n);
    cw_script_type t = btc_script_classify(s, n, CW_NET_MAIN, a);
    text[0] = '\0';
    if (a->kind != CW_ADDR_NONE)
        cw_addr_format(a, text, CW_ADDR_TEXT_MAX);
    free(s);
    return t;
}

Test(script, templates)
{
    struct { const char *hex; cw_script_type type; const char *addr; } cases[] = {
        /* genesis coinbase output: P2PK, uncompressed key, no address */
        {"4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac",
         CW_SCRIPT_P2PK, ""},
        {"2102a1633cafcc01ebfb6d78e39f687a1f0995c62fc95f51ead10a02ee0be551b5dcac", CW_SCRIPT_P2PK, ""},
        {"76a914751e76e8199196d454941c45d1b3a323f1433bd688ac", CW_SCRIPT_P2PKH, "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"},
        {"a914cd7b44d0b03f2d026d1e586d7ae18903b0d385f687", CW_SCRIPT_P2SH, "3LRW7jeCvQCRdPF8S3yUCfRAx4eqXFmdcr"},
        {"0014751e76e8199196d454941c45d1b3a323f1433bd6", CW_SCRIPT_P2WPKH, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"},
        {"00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262", CW_SCRIPT_P2WSH,
         "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"},
        {"512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", CW_SCRIPT_P2TR,
         "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"},
        {"51024e73", CW_SCRIPT_ANCHOR, "bc1pfeessrawgf"},
        {"5210751e76e8199196d454941c45d1b3a323", CW_SCRIPT_WITNESS_UNKNOWN, "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs"},
        {"6002751e", CW_SCRIPT_WITNESS_UNKNOWN, "bc1sw50qgdz25j"},
        {"6a24aa21a9ede2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf9", CW_SCRIPT_NULLDATA, ""},
        {"6a", CW_SCRIPT_NULLDATA, ""},
        {"6aac", CW_SCRIPT_NONSTANDARD, ""}, /* OP_RETURN then a non-push */
        {"0013751e76e8199196d454941c45d1b3a323f1433b", CW_SCRIPT_NONSTANDARD, ""}, /* v0 of 19 bytes */
        /* 1-of-2 bare multisig */
        {"51210279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f8179821024d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d076652ae",
         CW_SCRIPT_MULTISIG, ""},
        /* says 3 keys, has 2 */
        {"51210279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f8179821024d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d076653ae",
         CW_SCRIPT_NONSTANDARD, ""},
        {"", CW_SCRIPT_NONSTANDARD, ""},
        {"76a914751e76e8199196d454941c45d1b3a323f1433bd688", CW_SCRIPT_NONSTANDARD, ""}, /* P2PKH minus CHECKSIG */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cw_addr a;
        char text[CW_ADDR_TEXT_MAX];
        cw_script_type t = classify_hex(cases[i].hex, &a, text);
        cr_assert_eq(t, cases[i].type, "case %zu (%s): got %s", i, cases[i].hex, cw_script_type_name(t));
        cr_assert_str_eq(text, cases[i].addr, "case %zu", i);
    }
}

Test(script, push_walker_stops_at_overruns)
{
    const uint8_t *d;
    size_t l, pos = 0;
    uint8_t s1[] = {0x4c, 0x05, 1, 2}; /* PUSHDATA1 of 5 with 2 bytes left */
    cr_assert(!btc_script_next_push(s1, sizeof s1, &pos, &d, &l));
    uint8_t s2[] = {0x4d, 0x01}; /* PUSHDATA2 missing its length */
    pos = 0;
    cr_assert(!btc_script_next_push(s2, sizeof s2, &pos, &d, &l));
    uint8_t s3[] = {0x4e, 0xff, 0xff, 0xff, 0xff}; /* PUSHDATA4 of 4 GB */
    pos = 0;
    cr_assert(!btc_script_next_push(s3, sizeof s3, &pos, &d, &l));
    uint8_t s4[] = {0x02, 0xaa, 0xbb, 0x00, 0x51};
    pos = 0;
    cr_assert(btc_script_next_push(s4, sizeof s4, &pos, &d, &l));
    cr_assert_eq(l, 2);
    cr_assert_eq(d[1], 0xbb);
    cr_assert(btc_script_next_push(s4, sizeof s4, &pos, &d, &l));
    cr_assert_eq(l, 0);
    cr_assert(btc_script_next_push(s4, sizeof s4, &pos, &d, &l));
    cr_assert_eq(pos, 5);
}

/* Core's Solver: multisig keys may come in any push form; OP_RESERVED is a
 * push-only opcode after OP_RETURN. */
Test(script, solver_edge_cases)
{
    cw_addr a;
    char text[CW_ADDR_TEXT_MAX];
    cr_assert_eq(classify_hex("51" "4c21" "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" "51ae", &a, text),
                 CW_SCRIPT_MULTISIG);
    cr_assert_eq(classify_hex("6a50", &a, text), CW_SCRIPT_NULLDATA);
    cr_assert_eq(classify_hex("6a4c", &a, text), CW_SCRIPT_NONSTANDARD, "PUSHDATA1 without its length");
}
