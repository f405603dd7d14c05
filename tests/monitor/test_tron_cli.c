/* decode tx --chain tron and screen of Tron txs and T-addresses, through
 * the chainwatch binary. Expected values: tests/tools/tron_oracle.py (see
 * tests/chains/test_tron.c) and signed_txs.jsonl's own fields; the OFAC
 * list of 2025-11-19 (Cheil Credit Bank, uid 22985, holds 53 USDT addresses
 * on Tron; TA3941uFAvmVibSkQ6fMJXxmaSNovX86mz is one). */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chains/addr.h"
#include "tests/support.h"
#include "tests/tron_fixture.h"

#define CHEIL "TA3941uFAvmVibSkQ6fMJXxmaSNovX86mz"

#define cw(in, j, err, ...) cw_in_text(in, j, err, __VA_ARGS__, NULL)

static const char *jstr(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static char *text_of(json_t *t)
{
    char *s = json_dumps(t, JSON_COMPACT);
    cr_assert_not_null(s);
    return s;
}

/* Every real signed tx through the verb: owner, to and amount as the
 * file's sources give them (owner_address, to, amount). */
Test(tron_cli, decode_all_real_signed_txs)
{
    for (size_t i = 0; i < TRON_SIGNED_TXS; i++) {
        json_t *l = tron_signed_line(i), *t = tron_api_tx(i), *j;
        char *in = text_of(t), *err;
        cr_assert_eq(cw(in, &j, &err, "decode", "tx", "--chain", "tron", "-"), 0, "tx %zu: %s", i, err);
        free(err);
        cr_assert_str_eq(jstr(j, "txid"), jstr(l, "txid"));
        cr_assert_str_eq(jstr(j, "owner"), jstr(l, "owner_address"), "tx %zu", i);
        cr_assert_str_eq(jstr(j, "to"), jstr(l, "to"), "tx %zu", i);
        cr_assert_str_eq(jstr(j, "amount"), jstr(l, "amount"), "tx %zu", i);
        cr_assert_str_eq(jstr(j, "contract_type"), jstr(l, "contract_type"), "tx %zu", i);
        const char *asset = jstr(l, "asset");
        if (strcmp(asset, "USDT") == 0 && strcmp(jstr(l, "network"), "mainnet") == 0) {
            cr_assert_str_eq(jstr(j, "asset"), "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
            cr_assert_str_eq(jstr(j, "symbol"), "USDT");
            cr_assert_eq(json_integer_value(json_object_get(j, "decimals")), 6);
            cr_assert_str_eq(jstr(j, "contract"), "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "the contract called");
        } else if (strncmp(asset, "TRC20:", 6) == 0) {
            cr_assert_str_eq(jstr(j, "asset"), asset + 6);
            cr_assert(json_is_null(json_object_get(j, "symbol")), "an unknown token has no symbol");
        } else if (strcmp(asset, "TRX") == 0) {
            cr_assert_str_eq(jstr(j, "asset_kind"), "trx");
        }
        json_decref(j);
        json_decref(t);
        json_decref(l);
        free(in);
    }
}

/* The TRC-10 tx with its memo, from a file. */
Test(tron_cli, decode_trc10_from_file)
{
    char path[] = "/tmp/cw-tron-XXXXXX";
    int fd = mkstemp(path);
    json_t *t = tron_api_tx(14), *j;
    char *in = text_of(t), *err;
    cr_assert_eq(write(fd, in, strlen(in)), (ssize_t)strlen(in));
    close(fd);
    cr_assert_eq(cw(NULL, &j, &err, "decode", "tx", "--chain", "tron", path), 0, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "asset_kind"), "trc10");
    cr_assert_str_eq(jstr(j, "asset"), "1004083");
    cr_assert_str_eq(jstr(j, "amount"), "468000");
    json_t *l = tron_signed_line(14);
    cr_assert_str_eq(jstr(j, "memo"), jstr(l, "memo_hex"));
    json_decref(l);
    json_decref(j);
    json_decref(t);
    free(in);
    unlink(path);
}

Test(tron_cli, decode_refusals)
{
    char *err;
    json_t *t = tron_api_tx(0);
    json_object_set_new(t, "txID", json_string("0130dfde9281a48378109039ef512229d5359fbee2a8adbb17ad73aebc67ea98"));
    char *in = text_of(t);
    cr_assert_eq(cw(in, NULL, &err, "decode", "tx", "--chain", "tron", "-"), 2);
    cr_assert(strstr(err, "chainwatch: decode tx --chain tron: signed tx: txID 0130dfde") != NULL, "%s", err);
    cr_assert(strstr(err, "is not sha256(raw_data_hex)") != NULL, "%s", err);
    free(err);
    free(in);
    json_decref(t);
    /* the owner in the signed bytes is not who signed */
    t = tron_api_tx(0);
    json_t *o = tron_api_tx(3);
    json_object_set(t, "signature", json_object_get(o, "signature"));
    in = text_of(t);
    cr_assert_eq(cw(in, NULL, &err, "decode", "tx", "--chain", "tron", "-"), 2);
    cr_assert(strstr(err, "signed by") != NULL && strstr(err, "not by the owner TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre"),
              "%s", err);
    free(err);
    free(in);
    json_decref(t);
    json_decref(o);
    cr_assert_eq(cw("{\"txID\":", NULL, &err, "decode", "tx", "--chain", "tron", "-"), 2);
    cr_assert(strstr(err, "not JSON") != NULL, "%s", err);
    free(err);
    cr_assert_eq(cw("", NULL, &err, "decode", "tx", "--chain", "tron", "-"), 2);
    cr_assert(strstr(err, "empty input") != NULL, "%s", err);
    free(err);
    cr_assert_eq(cw(NULL, NULL, &err, "decode", "tx", "--chain", "tron", "/nonexistent/tx.json"), 1);
    cr_assert(strstr(err, "/nonexistent/tx.json") != NULL, "%s", err);
    free(err);
    cr_assert_eq(cw(NULL, NULL, &err, "decode", "block", "--chain", "tron", "-"), 2);
    cr_assert(strstr(err, "--chain tron decodes one signed tx") != NULL, "%s", err);
    free(err);
}

/* ---- screen ---- */

static char *datadir_with(const char *csv_rows, bool sdn)
{
    char *dd = strdup("/tmp/cw-tron-screen-XXXXXX");
    cr_assert_not_null(mkdtemp(dd));
    char *err;
    cr_assert_eq(cw(NULL, NULL, &err, "init", "--datadir", dd), 0, "%s", err);
    free(err);
    if (sdn) {
        cr_assert_eq(cw(NULL, NULL, &err, "watchlist", "import", "sdn-advanced", CW_SDN_XML, "--datadir", dd), 0, "%s",
                     err);
        free(err);
    }
    if (csv_rows) {
        char csv[256];
        snprintf(csv, sizeof csv, "%s/own.csv", dd);
        FILE *f = fopen(csv, "w");
        fprintf(f, "chain,address,entity,program,note\n%s", csv_rows);
        fclose(f);
        cr_assert_eq(cw(NULL, NULL, &err, "watchlist", "import", "csv", csv, "--datadir", dd), 0, "%s", err);
        free(err);
    }
    return dd;
}

static json_t *address_entry(json_t *j, const char *addr)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(j, "addresses"), i, a) if (strcmp(jstr(a, "address"), addr) == 0) return a;
    cr_assert_fail("%s not among the screened addresses", addr);
    return NULL;
}

/* A USDT payment to a Cheil Credit Bank address (a real mainnet USDT tx
 * re-signed with the recipient replaced): block, the designation named. */
Test(tron_cli, screen_usdt_to_cheil_credit_bank, .timeout = 60)
{
    char *dd = datadir_with(NULL, true), *err;
    json_t *j;
    cw_addr cheil;
    cr_assert_eq(cw_addr_parse(CHEIL, CW_NET_ANY, &cheil, NULL), CW_OK);
    /* the address itself */
    cr_assert_eq(cw(NULL, &j, &err, "screen", CHEIL, "--datadir", dd), 12, "%s", err);
    free(err);
    json_t *r = json_array_get(json_object_get(j, "reasons"), 0);
    cr_assert_str_eq(jstr(r, "kind"), "designated");
    cr_assert_str_eq(jstr(json_object_get(r, "entity"), "name"), "CHEIL CREDIT BANK");
    cr_assert_str_eq(jstr(json_object_get(r, "entity"), "uid"), "22985");
    json_decref(j);
    /* a signed USDT payment to it */
    json_t *t = tron_test_resigned(0, cheil.payload);
    char *in = text_of(t);
    cr_assert_eq(cw(in, &j, &err, "screen", "--chain", "tron", "-", "--datadir", dd), 12, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "decision"), "block");
    cr_assert_str_eq(jstr(j, "chain"), "tron");
    cr_assert_str_eq(jstr(j, "subject"), jstr(t, "txID"));
    json_t *a = address_entry(j, CHEIL);
    cr_assert_str_eq(jstr(a, "decision"), "block");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(a, "roles"), 0)), "to");
    r = json_array_get(json_object_get(a, "reasons"), 0);
    cr_assert_str_eq(jstr(json_object_get(r, "entity"), "name"), "CHEIL CREDIT BANK");
    /* the token contract is not a party: only signer and recipient are screened */
    cr_assert_eq(json_array_size(json_object_get(j, "addresses")), 2);
    json_t *x = json_array_get(json_object_get(j, "transfers"), 0);
    cr_assert_str_eq(jstr(x, "asset"), "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    cr_assert_str_eq(jstr(x, "amount"), "41677389");
    cr_assert_str_eq(jstr(x, "to"), CHEIL);
    json_decref(j);
    /* the same tx as @FILE, auto-detected */
    char path[256];
    snprintf(path, sizeof path, "@%s/tx.json", dd);
    FILE *f = fopen(path + 1, "w");
    fputs(in, f);
    fclose(f);
    cr_assert_eq(cw(NULL, &j, &err, "screen", path, "--datadir", dd), 12, "%s", err);
    free(err);
    json_decref(j);
    /* tampered: the signature no longer matches the owner -> 2, never allow */
    json_t *orig = tron_api_tx(5);
    json_object_set(t, "signature", json_object_get(orig, "signature"));
    free(in);
    in = text_of(t);
    cr_assert_eq(cw(in, NULL, &err, "screen", "--chain", "tron", "-", "--datadir", dd), 2);
    cr_assert(strstr(err, "screen: tron tx: signed tx: signature[0]") != NULL, "%s", err);
    free(err);
    json_decref(orig);
    json_decref(t);
    free(in);
    test_remove_dir(dd);
}

/* Direct designation of the owner; the EVM form of a key listed: its Tron
 * form is key-linked (hold); nothing listed: allow; no store: 3. */
Test(tron_cli, screen_owner_keylinked_clean_and_unchecked)
{
    /* TL24LCps... is 0x6e3b44b96104b26f84057974a1f0c9880f7c9b13 (its bytes in raw_data_hex) */
    char *dd = datadir_with("ethereum,0x6e3b44b96104b26f84057974a1f0c9880f7c9b13,Test EVM key,DPRK4,\n"
                            "tron,TFYJDYsKSatjohTrFd5i3J3uDSXnS5on38,Test recipient,DPRK4,\n"
                            "tron,TD3UjWy82fFre6VEqEVpK2J2HKm3NewYE3,Test owner,DPRK4,\n",
                            false),
         *err;
    json_t *j, *t;
    char *in;
    /* tx 0: TL24 pays USDT: the signer is key-linked */
    t = tron_api_tx(0);
    in = text_of(t);
    cr_assert_eq(cw(in, &j, &err, "screen", "--chain", "tron", "-", "--datadir", dd), 11, "%s", err);
    free(err);
    json_t *a = address_entry(j, "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre");
    cr_assert_str_eq(jstr(a, "decision"), "hold");
    json_t *r = json_array_get(json_object_get(a, "reasons"), 0);
    cr_assert_str_eq(jstr(r, "kind"), "key_linked");
    cr_assert_str_eq(jstr(r, "linked_from"), "0x6e3b44b96104b26f84057974a1f0c9880f7c9b13");
    json_decref(j);
    json_decref(t);
    free(in);
    /* tx 11: TL24 pays TRX to TFYJ, listed: block */
    t = tron_api_tx(11);
    in = text_of(t);
    cr_assert_eq(cw(in, &j, &err, "screen", "--chain", "tron", "-", "--datadir", dd), 12, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(address_entry(j, "TFYJDYsKSatjohTrFd5i3J3uDSXnS5on38"), "decision"), "block");
    json_decref(j);
    json_decref(t);
    free(in);
    /* tx 8: TD3UjWy8... (listed) pays TL24 (key-linked): the owner blocks, as signer and sender */
    t = tron_api_tx(8);
    in = text_of(t);
    cr_assert_eq(cw(in, &j, &err, "screen", "--chain", "tron", "-", "--datadir", dd), 12, "%s", err);
    free(err);
    a = address_entry(j, "TD3UjWy82fFre6VEqEVpK2J2HKm3NewYE3");
    cr_assert_str_eq(jstr(a, "decision"), "block");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(a, "roles"), 0)), "signer");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(a, "roles"), 1)), "from");
    cr_assert_str_eq(jstr(address_entry(j, "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre"), "decision"), "hold");
    json_decref(j);
    json_decref(t);
    free(in);
    /* tx 13 (979e08): nobody listed: allow */
    t = tron_api_tx(13);
    in = text_of(t);
    cr_assert_eq(cw(in, &j, &err, "screen", "--chain", "tron", "-", "--datadir", dd), 0, "%s", err);
    free(err);
    cr_assert_str_eq(jstr(j, "decision"), "allow");
    json_decref(j);
    /* no store: unchecked (3), never allow */
    cr_assert_eq(cw(in, NULL, &err, "screen", "--chain", "tron", "-", "--datadir", "/nonexistent/dd"), 3);
    free(err);
    json_decref(t);
    free(in);
    test_remove_dir(dd);
}
