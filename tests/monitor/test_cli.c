/* The chainwatch executable, run for real: outputs, exit codes, messages. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support.h"

#define DATA CW_DATA_DIR "/"
#define REGTEST_PAYMENT_HEX                                                                                         \
    "020000000001010e22feccefe5809c248b900de926757073a5a33fcdbc3246ba71a237b06741530000000000fdffffff02fefb0a27010000" \
    "0016001484438e8aa717fbb7f6f3d4a01b9cbd11b776615b80f0fa0200000000160014a9bce2b75fe63c3e1ce3b6a78b4d34a769c9d6c402" \
    "47304402206cdd8e4dbf70b59d9ea878d3820ae6f71604868c6924c8aadbba900d6d6baef0022038f2fa6018ce03cc69b6cb305238899613" \
    "b6c40da6f10a087e3acd0003cdf9940121031b801e8217e83c58d333e59bab403a77372bd28dc1ab54f66ec27d2adb8f9b4233000000"

static int run(char *const argv[], const uint8_t *in, size_t n, char **out, char **err)
{
    return run_cmd(argv, in, n, out, err);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

Test(cli, decode_block_prints_header_then_every_tx)
{
    char *out, *err;
    char *argv[] = {CW_BIN, "decode", "block", DATA BLOCK_514485, NULL};
    cr_assert_eq(run(argv, NULL, 0, &out, &err), 0, "stderr: %s", err);
    cr_assert_eq(count_lines(out), 1 + 2165);
    json_t *head = json_loadb(out, strchr(out, '\n') - out, 0, NULL);
    cr_assert_not_null(head);
    cr_assert_str_eq(json_string_value(json_object_get(head, "hash")),
                     "000000000000000000050f70113ab1932c195442cb49bcc4ee4d7f426c8a3295");
    cr_assert(json_is_true(json_object_get(head, "merkle_ok")));
    cr_assert_eq(json_integer_value(json_object_get(head, "tx_count")), 2165);
    cr_assert_eq(json_integer_value(json_object_get(head, "height")), 514485);
    cr_assert_str_eq(json_string_value(json_object_get(head, "prev")),
                     "00000000000000000037ff1af0c491167c53ec9530d13048b291c797b7730f92");
    /* second line: the coinbase, with the fields the issue names */
    char *l2 = strchr(out, '\n') + 1;
    json_t *cb = json_loadb(l2, strchr(l2, '\n') - l2, 0, NULL);
    cr_assert_not_null(cb);
    cr_assert_str_eq(json_string_value(json_object_get(cb, "txid")),
                     "d5274b4889d2756f59d648d9d9b14b1c30fb6fe5b23d375bc2b451b94a6f2ee0");
    json_t *o0 = json_array_get(json_object_get(cb, "outputs"), 0);
    cr_assert_eq(json_integer_value(json_object_get(o0, "value")), 1279062377);
    cr_assert_str_eq(json_string_value(json_object_get(o0, "type")), "p2pkh");
    cr_assert_str_eq(json_string_value(json_object_get(o0, "address")), "1CK6KHY6MHgYvmRQ4PAafKYDrg1ejbH1cE");
    cr_assert(json_is_null(json_object_get(json_array_get(json_object_get(cb, "inputs"), 0), "prevout")));
    json_decref(cb);
    json_decref(head);
    free(out);
    free(err);
}

Test(cli, decode_tx_from_hex_argument_and_stdin)
{
    size_t n;
    uint8_t *raw = fixture(TX_TAPROOT, &n);
    char *out, *err;
    char *argv[] = {CW_BIN, "decode", "tx", "-", NULL};
    cr_assert_eq(run(argv, raw, n, &out, &err), 0, "%s", err);
    json_t *j = json_loads(out, 0, NULL);
    cr_assert_not_null(j);
    cr_assert_str_eq(json_string_value(json_object_get(j, "txid")),
                     "7393096d97bfee8660f4100ffd61874d62f9a65de9fb6acf740c4c386990ef73");
    cr_assert_eq(json_integer_value(json_object_get(j, "size")), (json_int_t)n);
    cr_assert_lt(json_integer_value(json_object_get(j, "vsize")), (json_int_t)n / 2);
    json_decref(j);
    free(out);
    free(err);
    free(raw);
    /* A hex argument: the 0.5 BTC payment the recorded regtest node made
     * (zmq-capture.jsonl), to the bech32 address events.json names. */
    char *argv2[] = {CW_BIN, "decode", "tx", REGTEST_PAYMENT_HEX, "--network", "regtest", NULL};
    cr_assert_eq(run(argv2, NULL, 0, &out, &err), 0, "%s", err);
    j = json_loads(out, 0, NULL);
    cr_assert_not_null(j, "%s", out);
    cr_assert_str_eq(json_string_value(json_object_get(j, "txid")),
                     "debfb5eb53533f09166f351c39f1e42e9853c7cc129d8ab347522942458d2ab3");
    json_t *o1 = json_array_get(json_object_get(j, "outputs"), 1);
    cr_assert_eq(json_integer_value(json_object_get(o1, "value")), 50000000);
    cr_assert_str_eq(json_string_value(json_object_get(o1, "address")), "bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0");
    cr_assert_str_eq(json_string_value(json_object_get(o1, "type")), "p2wpkh");
    /* the wallet spent a P2WPKH output: the hint is a bcrt1q address */
    const char *hint = json_string_value(json_object_get(json_array_get(json_object_get(j, "inputs"), 0), "hint"));
    cr_assert_not_null(hint);
    cr_assert_eq(strncmp(hint, "bcrt1q", 6), 0, "%s", hint);
    json_decref(j);
    free(out);
    free(err);
}

Test(cli, malformed_input_exits_2_naming_the_offset)
{
    char *out, *err;
    /* the first 100 bytes of a real tx */
    size_t n;
    uint8_t *raw = fixture(TX_TAPROOT, &n);
    char *argv[] = {CW_BIN, "decode", "tx", "-", NULL};
    cr_assert_eq(run(argv, raw, 100, &out, &err), 2);
    cr_assert_str_empty(out);
    cr_assert_eq(count_lines(err), 1, "one line: %s", err);
    cr_assert(strstr(err, "byte ") && strstr(err, "truncated"), "%s", err);
    free(out);
    free(err);
    /* a block cut in the middle of tx 17 */
    uint8_t *blk = fixture(BLOCK_514485, &n);
    char *argv2[] = {CW_BIN, "decode", "block", "-", NULL};
    cr_assert_eq(run(argv2, blk, 12000, &out, &err), 2);
    cr_assert_eq(count_lines(err), 1, "%s", err);
    cr_assert(strstr(err, "tx ") && strstr(err, "byte "), "%s", err);
    free(out);
    free(err);
    /* not hex */
    char *argv3[] = {CW_BIN, "decode", "tx", "zz11", NULL};
    cr_assert_eq(run(argv3, NULL, 0, &out, &err), 2);
    free(out);
    free(err);
    free(blk);
    free(raw);
}

Test(cli, decode_framed_records_with_network_check)
{
    size_t n;
    uint8_t *recs = fixture("btc/blk_0_to_4.dat.bz2", &n);
    char *out, *err;
    char *argv[] = {CW_BIN, "decode", "block", "-", NULL};
    cr_assert_eq(run(argv, recs, n, &out, &err), 0, "%s", err);
    size_t heads = 0;
    for (const char *p = out; (p = strstr(p, "\"merkle_ok\":true")) != NULL; p++)
        heads++;
    cr_assert_eq(heads, 5, "five block objects, each with a matching merkle root");
    cr_assert_eq(count_lines(out), 14, "5 block lines and 9 tx lines");
    cr_assert(strstr(out, "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f") != NULL);
    free(out);
    free(err);
    char *argv2[] = {CW_BIN, "decode", "block", "-", "--network", "regtest", NULL};
    cr_assert_eq(run(argv2, recs, n, &out, &err), 2);
    cr_assert(strstr(err, "magic is main") != NULL, "%s", err);
    free(out);
    free(err);
    free(recs);
}

Test(cli, address_valid_and_invalid)
{
    char *out, *err;
    char *ok[] = {CW_BIN, "address", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", NULL};
    cr_assert_eq(run(ok, NULL, 0, &out, &err), 0, "%s", err);
    json_t *j = json_loads(out, 0, NULL);
    cr_assert_not_null(j);
    cr_assert_str_eq(json_string_value(json_object_get(j, "chain")), "bitcoin");
    cr_assert_str_eq(json_string_value(json_object_get(j, "kind")), "p2wpkh");
    cr_assert_str_eq(json_string_value(json_object_get(j, "payload")), "751e76e8199196d454941c45d1b3a323f1433bd6");
    cr_assert_str_eq(json_string_value(json_object_get(j, "network")), "main");
    json_decref(j);
    free(out);
    free(err);

    struct { const char *addr, *net, *why; } bad[] = {
        {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", NULL, "bad checksum"},
        {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kV8f3t4", NULL, "mixed case"},
        {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", NULL, "wrong witness version encoding"},
        {"7SeEnXWPaCCALbVrTnszCVGfRU8cGfx", NULL, "wrong length"},
        {"tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut", NULL, "unknown prefix"},
        {"1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", "test", "address is for main, not test"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *argv[] = {CW_BIN, "address", (char *)bad[i].addr, bad[i].net ? "--network" : NULL,
                        (char *)bad[i].net, NULL};
        cr_assert_eq(run(argv, NULL, 0, &out, &err), 2, "%s", bad[i].addr);
        cr_assert_str_empty(out);
        cr_assert_eq(count_lines(err), 1, "%s", err);
        cr_assert(strstr(err, bad[i].why) != NULL, "%s: '%s' lacks '%s'", bad[i].addr, err, bad[i].why);
        free(out);
        free(err);
    }
}

Test(cli, usage_errors_exit_2)
{
    char *out, *err;
    char *a1[] = {CW_BIN, "frobnicate", NULL};
    cr_assert_eq(run(a1, NULL, 0, &out, &err), 2);
    cr_assert(strstr(err, "unknown verb") != NULL);
    free(out);
    free(err);
    char *a2[] = {CW_BIN, "decode", "tx", "00", "--network", "moon", NULL};
    cr_assert_eq(run(a2, NULL, 0, &out, &err), 2);
    cr_assert(strstr(err, "unknown network 'moon'") != NULL, "%s", err);
    free(out);
    free(err);
    char *a3[] = {CW_BIN, "decode", "block", "/nonexistent/file", NULL};
    cr_assert_eq(run(a3, NULL, 0, &out, &err), 1, "a missing file is an I/O failure");
    cr_assert(strstr(err, "/nonexistent/file") != NULL, "%s", err);
    free(out);
    free(err);
    char *a4[] = {CW_BIN, "decode", "--help", NULL};
    cr_assert_eq(run(a4, NULL, 0, &out, &err), 0);
    cr_assert(strstr(out, "usage: chainwatch decode") != NULL);
    free(out);
    free(err);
}

/* init says "1 the datadir ... could not be made": a file where the
 * datadir should be is that (as a datadir whose parent is missing), not
 * a store error. Before: exit 3 ("datadir F is not a directory", from the
 * store's open), while a missing parent was 1. Nothing is made. */
Test(cli, init_over_a_file_is_exit_1_not_a_store_error)
{
    char dir[] = "/tmp/cw-cli-init-XXXXXX", file[64], missing[96];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/afile", dir);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fputs("x\n", f);
    fclose(f);
    snprintf(missing, sizeof missing, "%s/no/such", dir);
    const char *dds[] = {file, missing};
    for (int i = 0; i < 2; i++) {
        char *out, *err;
        char *argv[] = {CW_BIN, "init", "--datadir", (char *)dds[i], NULL};
        cr_assert_eq(run(argv, NULL, 0, &out, &err), 1, "%s: %s", dds[i], err);
        cr_assert(strstr(err, "chainwatch: init: cannot create datadir ") && strstr(err, dds[i]), "%s", err);
        free(out), free(err);
    }
    char *text = NULL;
    size_t n = 0;
    f = fopen(file, "r");
    cr_assert_eq(getline(&text, &n, f), 2);
    cr_assert_str_eq(text, "x\n", "the file is as before");
    fclose(f), free(text);
    unlink(file);
    rmdir(dir);
}
