/* Alert ids, canonical JSON, signatures, the datadir key, and the init and
 * verify verbs (called directly: the suites link the monitor library). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chains/hex.h"
#include "monitor/records/alert.h"
#include "monitor/cli/cli.h"
#include "chains/json.h"
#include "monitor/records/keys.h"
#include "monitor/records/sink.h"
#include "tests/support.h"

int cmd_init(int argc, char **argv);
int cmd_verify(int argc, char **argv);

#define TXID "debfb5eb53533f09166f351c39f1e42e9853c7cc129d8ab347522942458d2ab3"
#define ADDR "bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0"
#define SIG_OF_MISMATCH "signature does not match: the record was changed or signed by another key"

/* A record shaped like DESIGN.md's alert fields, with its real id. */
static json_t *sample_record(void)
{
    char id[33];
    alert_id("bitcoin", "regtest", TXID, "designated_address", ADDR, id);
    json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:s, s:s, s:n,"
                          " s:{s:s, s:s, s:[s], s:s, s:s}, s:i, s:[s], s:I, s:s, s:s}",
                          "id", id, "rule", "designated_address", "severity", "severe", "decision", "block",
                          "status", "mempool", "chain", "bitcoin", "network", "regtest", "txid", TXID, "block",
                          "direction", "to_designated", "address", ADDR, "linked_from", "entity", "uid",
                          "ofac-sdn:39620", "name", "Sim Hyon Sop \"Kim\" \xc3\xa9", "programs", "DPRK4", "list",
                          "SDN", "source", "own", "hops", 0, "evidence", TXID, "amount", (json_int_t)50000000,
                          "asset", "BTC", "seen_at", "2026-11-23T12:00:00Z");
    cr_assert_not_null(r);
    return r;
}

static char *canon_str(const json_t *v)
{
    cw_buf b = CW_BUF_INIT;
    cw_err err = {0};
    cr_assert_eq(alert_canonical(v, &b, &err), CW_OK, "%s", err.msg);
    cw_buf_append(&b, "", 1, NULL);
    return (char *)b.p;
}

/* Signs rec as the next record of the trail at *head. */
static char *chain_str(json_t *rec, const uint8_t sk[64], alert_trail *head)
{
    cw_buf b = CW_BUF_INIT;
    cw_err err = {0};
    cr_assert_eq(alert_sign_chained(rec, sk, head, &b, &err), CW_OK, "%s", err.msg);
    cw_buf_append(&b, "", 1, NULL);
    return (char *)b.p;
}

static char *sign_str(json_t *rec, const uint8_t sk[64])
{
    cw_buf b = CW_BUF_INIT;
    cw_err err = {0};
    cr_assert_eq(alert_sign(rec, sk, &b, &err), CW_OK, "%s", err.msg);
    cw_buf_append(&b, "", 1, NULL);
    return (char *)b.p;
}

static cw_code verify_str(const char *s, const uint8_t pk[32], char reason[160])
{
    return alert_verify(s, strlen(s), pk, reason);
}

/* Replaces the first `from` in s by `to` (same length), asserting it is there. */
static void replace_once(char *s, const char *from, const char *to)
{
    cr_assert_eq(strlen(from), strlen(to));
    char *p = strstr(s, from);
    cr_assert_not_null(p, "'%s' not in '%s'", from, s);
    memcpy(p, to, strlen(to));
}

/* ---- alert_id ---- */

static void reference_id(const char *f[5], char out[33])
{
    uint8_t msg[1024], h[16];
    size_t n = 0;
    for (int i = 0; i < 5; i++) {
        if (i)
            msg[n++] = 0x1f;
        memcpy(msg + n, f[i], strlen(f[i]));
        n += strlen(f[i]);
    }
    cr_assert_eq(crypto_generichash(h, sizeof h, msg, n, NULL, 0), 0);
    cw_hex_encode(h, sizeof h, out);
}

Test(alert_id, matches_blake2b_128_and_is_deterministic)
{
    const char *f[5] = {"bitcoin", "regtest", TXID, "designated_address", ADDR};
    char a[33], b[33], ref[33];
    alert_id(f[0], f[1], f[2], f[3], f[4], a);
    alert_id(f[0], f[1], f[2], f[3], f[4], b);
    reference_id(f, ref);
    cr_assert_eq(strlen(a), 32);
    cr_assert_eq(strspn(a, "0123456789abcdef"), 32, "not lowercase hex: %s", a);
    cr_assert_str_eq(a, b);
    cr_assert_str_eq(a, ref);
}

Test(alert_id, changes_with_every_field_and_boundary)
{
    const char *base[5] = {"bitcoin", "regtest", TXID, "designated_address", ADDR};
    const char *other[5] = {"ethereum", "main", "eebfb5eb53533f09166f351c39f1e42e9853c7cc129d8ab347522942458d2ab3",
                            "cluster_hit", "bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a1"};
    char id0[33];
    alert_id(base[0], base[1], base[2], base[3], base[4], id0);
    for (int i = 0; i < 5; i++) {
        const char *f[5];
        memcpy(f, base, sizeof f);
        f[i] = other[i];
        char id[33], ref[33];
        alert_id(f[0], f[1], f[2], f[3], f[4], id);
        reference_id(f, ref);
        cr_assert_str_neq(id, id0, "field %d changed but the id did not", i);
        cr_assert_str_eq(id, ref);
    }
    /* the separator keeps "ab"+"c" apart from "a"+"bc" */
    char x[33], y[33];
    alert_id("ab", "c", "t", "r", "a", x);
    alert_id("a", "bc", "t", "r", "a", y);
    cr_assert_str_neq(x, y);
}

/* ---- canonical JSON ---- */

Test(canonical, sorts_keys_recursively_and_is_compact)
{
    json_error_t je;
    json_t *v = json_loads("{ \"b\" : 1, \"z\": 2, \"\xc3\xa9\": 3, \"a\" : { \"d\" : [3, 1, {\"y\":1,\"x\":2}],"
                           " \"c\" : \"s\" }, \"A\": null, \"_\": true, \"aa\": false, \"\": -5 }",
                           0, &je);
    cr_assert_not_null(v, "%s", je.text);
    char *s = canon_str(v);
    /* bytewise: "" < "A" < "_" < "a" < "aa" < "b" < "z" < "\xc3\xa9" */
    cr_assert_str_eq(s, "{\"\":-5,\"A\":null,\"_\":true,\"a\":{\"c\":\"s\",\"d\":[3,1,{\"x\":2,\"y\":1}]},\"aa\":false,"
                        "\"b\":1,\"z\":2,\"\xc3\xa9\":3}");
    free(s);
    json_decref(v);
}

Test(canonical, minimal_escapes_and_integers)
{
    json_t *v = json_pack("{s:s, s:I, s:I, s:I}", "s", "q\"b\\n\n\t\x01/\xc3\xa9\xe2\x80\xa8", "big",
                          (json_int_t)9007199254740993LL, "neg", (json_int_t)-42, "zero", (json_int_t)0);
    cr_assert_not_null(v);
    char *s = canon_str(v);
    cr_assert_str_eq(s, "{\"big\":9007199254740993,\"neg\":-42,\"s\":\"q\\\"b\\\\n\\n\\t\\u0001/\xc3\xa9\xe2\x80\xa8\","
                        "\"zero\":0}");
    free(s);
    json_decref(v);
}

Test(canonical, same_bytes_whatever_the_insertion_order)
{
    json_t *a = sample_record();
    json_t *b = json_object();
    /* insert a's members in reverse order */
    const char *keys[64];
    size_t n = 0;
    const char *k;
    json_t *val;
    json_object_foreach(a, k, val) keys[n++] = k;
    while (n--)
        json_object_set(b, keys[n], json_object_get(a, keys[n]));
    char *sa = canon_str(a), *sb = canon_str(b);
    cr_assert_str_eq(sa, sb);
    cr_assert(strncmp(sa, "{\"address\":\"" ADDR "\",\"amount\":50000000,\"asset\":\"BTC\",\"block\":null,", 80) == 0,
              "%s", sa);
    cr_assert_not_null(strstr(sa, "\"entity\":{\"list\":\"SDN\",\"name\":\"Sim Hyon Sop \\\"Kim\\\" \xc3\xa9\","
                                  "\"programs\":[\"DPRK4\"],\"source\":\"own\",\"uid\":\"ofac-sdn:39620\"},"),
                   "%s", sa);
    cr_assert_null(strstr(sa, "\": "), "whitespace in %s", sa);
    cr_assert_null(strstr(sa, ", "), "whitespace in %s", sa);
    cr_assert_null(strchr(sa, '\n'), "newline in %s", sa);
    free(sa);
    free(sb);
    json_decref(a);
    json_decref(b);
}

Test(canonical, arrays_keep_order_and_scalars)
{
    json_t *v = json_pack("[s, i, b, n, [], {}]", "b", 2, 1);
    char *s = canon_str(v);
    cr_assert_str_eq(s, "[\"b\",2,true,null,[],{}]");
    free(s);
    json_decref(v);
}

Test(canonical, refuses_real_numbers_naming_where)
{
    json_t *v = json_pack("{s:{s:[i, f]}}", "x", "y", 1, 2.5);
    cw_buf b = CW_BUF_INIT;
    cw_buf_append(&b, "keep", 4, NULL);
    cw_err err = {0};
    cr_assert_eq(alert_canonical(v, &b, &err), CW_EFORMAT);
    cr_assert_eq(b.n, 4, "a refused value must not leave partial output");
    cr_assert_not_null(strstr(err.msg, "real number"), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, ".x.y[1]"), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "integers only"), "%s", err.msg);
    json_decref(v);
    json_t *r = json_real(50000000.0);
    cr_assert_eq(alert_canonical(r, &b, &err), CW_EFORMAT);
    cr_assert_eq(b.n, 4);
    json_decref(r);
    cw_buf_free(&b);
}

Test(canonical, refuses_nesting_deeper_than_the_writer)
{
    json_t *v = json_array();
    for (int i = 0; i < CW_JSON_MAX_DEPTH + 5; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, v);
        v = outer;
    }
    cw_buf b = CW_BUF_INIT;
    cw_err err = {0};
    cr_assert_eq(alert_canonical(v, &b, &err), CW_EFORMAT);
    cr_assert_not_null(strstr(err.msg, "nesting"), "%s", err.msg);
    cr_assert_eq(b.n, 0);
    cw_buf_free(&b);
    json_decref(v);
}

/* ---- sign and verify ---- */

typedef struct {
    uint8_t pk[32], sk[64];
} keypair;

static keypair new_keys(void)
{
    cr_assert_geq(sodium_init(), 0);
    keypair k;
    crypto_sign_keypair(k.pk, k.sk);
    return k;
}

Test(sign, signs_canonical_bytes_and_verifies)
{
    keypair k = new_keys();
    json_t *rec = sample_record();
    char *unsigned_canon = canon_str(rec);
    char *line = sign_str(rec, k.sk);
    /* sig is the detached signature of the canonical record without sig */
    const char *sig = json_string_value(json_object_get(rec, "sig"));
    cr_assert_not_null(sig);
    cr_assert_eq(strlen(sig), 128);
    cr_assert_eq(strspn(sig, "0123456789abcdef"), 128, "%s", sig);
    uint8_t raw[64];
    size_t n;
    cr_assert_eq(cw_hex_decode(sig, 128, raw, sizeof raw, &n, NULL), CW_OK);
    cr_assert_eq(crypto_sign_verify_detached(raw, (const uint8_t *)unsigned_canon, strlen(unsigned_canon), k.pk), 0);
    /* the line is the canonical record with sig, no newline */
    char *canon_with_sig = canon_str(rec);
    cr_assert_str_eq(line, canon_with_sig);
    cr_assert_null(strchr(line, '\n'));
    cr_assert_not_null(strstr(line, ",\"severity\":\"severe\",\"sig\":\""));
    char reason[160] = "x";
    cr_assert_eq(verify_str(line, k.pk, reason), CW_OK, "%s", reason);
    cr_assert_str_eq(reason, "");
    /* signing again replaces the sig: same bytes (Ed25519 is deterministic) */
    char *again = sign_str(rec, k.sk);
    cr_assert_str_eq(again, line);
    free(again);
    free(canon_with_sig);
    free(line);
    free(unsigned_canon);
    json_decref(rec);
}

Test(sign, any_changed_value_fails)
{
    keypair k = new_keys();
    json_t *rec = sample_record();
    char *line = sign_str(rec, k.sk);
    char reason[160];

    char *t = strdup(line);
    replace_once(t, "\"amount\":50000000", "\"amount\":50000001");
    cr_assert_eq(verify_str(t, k.pk, reason), CW_ECHECKSUM);
    cr_assert_str_eq(reason, SIG_OF_MISMATCH);
    free(t);

    t = strdup(line);
    replace_once(t, "\"address\":\"bcrt1q4x7w", "\"address\":\"bcrt1q4x8w");
    cr_assert_eq(verify_str(t, k.pk, reason), CW_ECHECKSUM);
    cr_assert_str_eq(reason, SIG_OF_MISMATCH);
    free(t);

    t = strdup(line);
    replace_once(t, "\"decision\":\"block\"", "\"decision\":\"allow\"");
    cr_assert_eq(verify_str(t, k.pk, reason), CW_ECHECKSUM);
    free(t);

    /* every single-byte change anywhere in the line, sig included, is caught */
    size_t len = strlen(line), mismatches = 0;
    for (size_t i = 0; i < len; i++) {
        t = strdup(line);
        t[i] ^= 1;
        cw_code rc = alert_verify(t, len, k.pk, reason);
        cr_assert_neq(rc, CW_OK, "byte %zu changed ('%c' -> '%c') and the record still verified", i, line[i], t[i]);
        cr_assert(rc == CW_ECHECKSUM || rc == CW_EFORMAT, "byte %zu: code %d", i, rc);
        cr_assert_neq(reason[0], '\0');
        mismatches += rc == CW_ECHECKSUM;
        free(t);
    }
    cr_assert_gt(mismatches, len / 2, "most flips keep valid JSON and must fail the signature");
    free(line);
    json_decref(rec);
}

Test(sign, reordered_and_reformatted_line_still_verifies)
{
    keypair k = new_keys();
    json_t *rec = sample_record();
    char *line = sign_str(rec, k.sk);
    char reason[160];

    json_t *parsed = json_loads(line, 0, NULL);
    cr_assert_not_null(parsed);
    json_t *rev = json_object();
    const char *keys[64];
    size_t n = 0;
    const char *key;
    json_t *val;
    json_object_foreach(parsed, key, val) keys[n++] = key;
    while (n--)
        json_object_set(rev, keys[n], json_object_get(parsed, keys[n]));
    char *pretty = json_dumps(rev, JSON_INDENT(3) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    cr_assert_not_null(pretty);
    cr_assert_neq(strncmp(pretty, line, 10), 0, "the reformatted line should differ: %s", pretty);
    cr_assert_eq(verify_str(pretty, k.pk, reason), CW_OK, "%s: %s", reason, pretty);

    /* and still fails when a value is changed in that form */
    replace_once(pretty, "50000000", "50000001");
    cr_assert_eq(verify_str(pretty, k.pk, reason), CW_ECHECKSUM);

    free(pretty);
    json_decref(rev);
    json_decref(parsed);
    free(line);
    json_decref(rec);
}

Test(sign, another_key_fails)
{
    keypair k = new_keys(), other = new_keys();
    json_t *rec = sample_record();
    char *line = sign_str(rec, k.sk);
    char reason[160];
    cr_assert_eq(verify_str(line, other.pk, reason), CW_ECHECKSUM);
    cr_assert_str_eq(reason, SIG_OF_MISMATCH);
    /* a forger re-signing a changed record with their own key fails too */
    json_object_set_new(rec, "amount", json_integer(1));
    char *forged = sign_str(rec, other.sk);
    cr_assert_eq(verify_str(forged, k.pk, reason), CW_ECHECKSUM);
    free(forged);
    free(line);
    json_decref(rec);
}

Test(sign, refuses_non_objects_and_reals)
{
    keypair k = new_keys();
    cw_buf b = CW_BUF_INIT;
    cw_err err = {0};
    json_t *arr = json_array();
    cr_assert_eq(alert_sign(arr, k.sk, &b, &err), CW_EARG);
    cr_assert_not_null(strstr(err.msg, "not a JSON object"), "%s", err.msg);
    json_decref(arr);
    json_t *rec = sample_record();
    json_object_set_new(rec, "amount", json_real(0.5));
    cr_assert_eq(alert_sign(rec, k.sk, &b, &err), CW_EFORMAT);
    cr_assert_not_null(strstr(err.msg, ".amount"), "%s", err.msg);
    cr_assert_eq(b.n, 0);
    json_decref(rec);
    cw_buf_free(&b);
}

static void expect_format(const char *line, const uint8_t pk[32], const char *in_reason)
{
    char reason[160];
    cr_assert_eq(alert_verify(line, strlen(line), pk, reason), CW_EFORMAT, "%s", line);
    cr_assert_not_null(strstr(reason, in_reason), "reason '%s' should say '%s'", reason, in_reason);
}

Test(verify, malformed_lines_give_format_errors)
{
    keypair k = new_keys();
    char hex128[129];
    memset(hex128, 'a', 128);
    hex128[128] = '\0';
    char buf[512];

    expect_format("", k.pk, "not JSON");
    expect_format("not json", k.pk, "not JSON");
    expect_format("{\"a\":1", k.pk, "not JSON");
    expect_format("[1,2]", k.pk, "not a JSON object");
    expect_format("{\"amount\":1}", k.pk, "no \"sig\"");
    expect_format("{\"amount\":1,\"sig\":5}", k.pk, "not a string");
    expect_format("{\"amount\":1,\"sig\":\"abcd\"}", k.pk, "is 4 characters, expected 128");
    memset(hex128, 'z', 1);
    snprintf(buf, sizeof buf, "{\"amount\":1,\"sig\":\"%s\"}", hex128);
    expect_format(buf, k.pk, "not hex");
    hex128[0] = 'a';
    snprintf(buf, sizeof buf, "{\"amount\":1.5,\"sig\":\"%s\"}", hex128);
    expect_format(buf, k.pk, "real number");
    snprintf(buf, sizeof buf, "{\"amount\":1,\"amount\":2,\"sig\":\"%s\"}", hex128);
    expect_format(buf, k.pk, "duplicate");
    /* well-formed but wrong signature */
    char reason[160];
    snprintf(buf, sizeof buf, "{\"amount\":1,\"sig\":\"%s\"}", hex128);
    cr_assert_eq(verify_str(buf, k.pk, reason), CW_ECHECKSUM);
}

Test(verify, uses_only_len_bytes)
{
    keypair k = new_keys();
    json_t *rec = sample_record();
    char *line = sign_str(rec, k.sk);
    size_t n = strlen(line);
    char *padded = malloc(n + 8);
    memcpy(padded, line, n);
    memcpy(padded + n, "garbage", 8);
    char reason[160];
    cr_assert_eq(alert_verify(padded, n, k.pk, reason), CW_OK, "%s", reason);
    free(padded);
    free(line);
    json_decref(rec);
}

/* ---- keys ---- */

static char *temp_dir(void)
{
    char *d = strdup("/tmp/cw_alert_XXXXXX");
    cr_assert_not_null(mkdtemp(d));
    return d;
}

static void rm_tree(const char *dir)
{
    DIR *dh = opendir(dir);
    if (dh) {
        struct dirent *e;
        char p[4096];
        while ((e = readdir(dh)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                rm_tree(p);
            else
                unlink(p);
        }
        closedir(dh);
    }
    rmdir(dir);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char *s = calloc(1, 65536);
    size_t n = fread(s, 1, 65535, f);
    s[n] = '\0';
    fclose(f);
    return s;
}

static void file_path(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, 4096, "%s/%s", dir, name);
    cr_assert(n > 0 && n < 4096);
}

Test(keys, create_then_keep)
{
    char *d = temp_dir();
    char pub[65], pub2[65], kp[4096], pp[4096];
    bool created = false;
    cw_err err = {0};
    cr_assert_eq(keys_create(d, pub, &created, &err), CW_OK, "%s", err.msg);
    cr_assert(created);
    cr_assert_eq(strlen(pub), 64);
    cr_assert_eq(strspn(pub, "0123456789abcdef"), 64);

    file_path(kp, d, "signing.key");
    file_path(pp, d, "signing.pub");
    struct stat st;
    cr_assert_eq(stat(kp, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "signing.key mode %o", st.st_mode & 0777);
    cr_assert_eq(stat(pp, &st), 0);
    char *pubfile = slurp(pp);
    char expect[80];
    snprintf(expect, sizeof expect, "%s\n", pub);
    cr_assert_str_eq(pubfile, expect);
    char *keyfile = slurp(kp);
    cr_assert_eq(strlen(keyfile), 129);
    /* the secret key's second half is the public key */
    cr_assert_eq(strncmp(keyfile + 64, pub, 64), 0);

    uint8_t sk[64], pk[32], parsed[32];
    cr_assert_eq(keys_load_secret(d, sk, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(keys_load_public(d, pk, &err), CW_OK, "%s", err.msg);
    cr_assert(keys_parse_public_hex(pub, parsed));
    cr_assert_arr_eq(pk, parsed, 32);
    cr_assert_arr_eq(sk + 32, pk, 32);

    /* a record signed with the loaded key verifies with the loaded public key */
    json_t *rec = sample_record();
    char *line = sign_str(rec, sk);
    char reason[160];
    cr_assert_eq(verify_str(line, pk, reason), CW_OK, "%s", reason);

    created = true;
    cr_assert_eq(keys_create(d, pub2, &created, &err), CW_OK, "%s", err.msg);
    cr_assert(!created);
    cr_assert_str_eq(pub2, pub);
    char *keyfile2 = slurp(kp);
    cr_assert_str_eq(keyfile2, keyfile, "the key must never be overwritten");

    /* a missing signing.pub is written again from the key */
    cr_assert_eq(unlink(pp), 0);
    cr_assert_eq(keys_create(d, pub2, &created, &err), CW_OK, "%s", err.msg);
    cr_assert(!created);
    cr_assert_str_eq(pub2, pub);
    free(pubfile);
    pubfile = slurp(pp);
    cr_assert_str_eq(pubfile, expect);

    free(keyfile2);
    free(keyfile);
    free(pubfile);
    free(line);
    json_decref(rec);
    rm_tree(d);
    free(d);
}

Test(keys, refuses_a_key_others_can_read)
{
    char *d = temp_dir();
    char pub[65], kp[4096];
    bool created;
    cw_err err = {0};
    cr_assert_eq(keys_create(d, pub, &created, &err), CW_OK, "%s", err.msg);
    file_path(kp, d, "signing.key");
    cr_assert_eq(chmod(kp, 0644), 0);
    uint8_t sk[64];
    memset(sk, 0xaa, sizeof sk);
    cr_assert_eq(keys_load_secret(d, sk, &err), CW_EARG);
    cr_assert_not_null(strstr(err.msg, kp), "message should name the file: %s", err.msg);
    cr_assert_not_null(strstr(err.msg, "chmod 600"), "message should say the fix: %s", err.msg);
    cr_assert_not_null(strstr(err.msg, "0644"), "%s", err.msg);
    uint8_t zero[64] = {0};
    cr_assert_arr_eq(sk, zero, 64);
    /* init refuses too, instead of quietly making a new key */
    cr_assert_eq(keys_create(d, pub, &created, &err), CW_EARG);
    cr_assert_eq(chmod(kp, 0600), 0);
    cr_assert_eq(keys_load_secret(d, sk, &err), CW_OK, "%s", err.msg);
    rm_tree(d);
    free(d);
}

Test(keys, refuses_damaged_and_missing_files)
{
    char *d = temp_dir();
    char kp[4096], pp[4096];
    file_path(kp, d, "signing.key");
    file_path(pp, d, "signing.pub");
    uint8_t sk[64], pk[32];
    cw_err err = {0};
    cr_assert_eq(keys_load_secret(d, sk, &err), CW_EIO);
    cr_assert_not_null(strstr(err.msg, "chainwatch init"), "%s", err.msg);
    cr_assert_eq(keys_load_public(d, pk, &err), CW_EIO);
    cr_assert_not_null(strstr(err.msg, pp), "%s", err.msg);

    /* a lone signing.pub means a lost key: no new key is made */
    FILE *f = fopen(pp, "w");
    fputs("00\n", f);
    fclose(f);
    char pub[65];
    bool created = true;
    cr_assert_neq(keys_create(d, pub, &created, &err), CW_OK);
    cr_assert(!created);
    cr_assert_not_null(strstr(err.msg, "lost"), "%s", err.msg);
    struct stat st;
    cr_assert_neq(stat(kp, &st), 0);
    cr_assert_eq(keys_load_public(d, pk, &err), CW_EFORMAT);
    cr_assert_not_null(strstr(err.msg, "64 hex"), "%s", err.msg);
    unlink(pp);

    /* a key whose halves disagree */
    keypair k = new_keys();
    k.sk[40] ^= 1;
    char hex[129];
    cw_hex_encode(k.sk, 64, hex);
    int fd = open(kp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, hex, 128), 128);
    close(fd);
    cr_assert_eq(keys_load_secret(d, sk, &err), CW_EFORMAT);
    cr_assert_not_null(strstr(err.msg, "damaged"), "%s", err.msg);
    rm_tree(d);
    free(d);
}

Test(keys, parse_public_hex)
{
    uint8_t pk[32], want[32];
    for (int i = 0; i < 32; i++)
        want[i] = (uint8_t)(0xa0 + i % 16);
    char hex[65];
    cw_hex_encode(want, 32, hex);
    cr_assert(keys_parse_public_hex(hex, pk));
    cr_assert_arr_eq(pk, want, 32);
    for (int i = 0; i < 64; i++)
        if (hex[i] >= 'a')
            hex[i] = (char)(hex[i] - 32);
    memset(pk, 0, 32);
    cr_assert(keys_parse_public_hex(hex, pk), "uppercase is hex too");
    cr_assert_arr_eq(pk, want, 32);
    hex[63] = '\0';
    cr_assert(!keys_parse_public_hex(hex, pk));
    cr_assert(!keys_parse_public_hex("", pk));
    cr_assert(!keys_parse_public_hex(NULL, pk));
    char bad[66];
    memset(bad, 'a', 65);
    bad[65] = '\0';
    cr_assert(!keys_parse_public_hex(bad, pk));
    bad[64] = '\0';
    bad[10] = 'g';
    cr_assert(!keys_parse_public_hex(bad, pk));
}

/* ---- the verbs ---- */

/* Runs a verb with stdout captured (and stdin from `in` if given). */
static int run_verb(int (*verb)(int, char **), char **argv, const char *in, char **out)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    fflush(stdout);
    int saved_out = dup(1), saved_in = -1;
    FILE *cap = tmpfile();
    cr_assert_not_null(cap);
    dup2(fileno(cap), 1);
    if (in) {
        FILE *src = tmpfile();
        fputs(in, src);
        fflush(src);
        rewind(src);
        saved_in = dup(0);
        dup2(fileno(src), 0);
        fclose(src);
    }
    int rc = verb(argc, argv);
    fflush(stdout);
    dup2(saved_out, 1);
    close(saved_out);
    if (saved_in >= 0) {
        dup2(saved_in, 0);
        close(saved_in);
    }
    long n = ftell(cap) >= 0 ? lseek(fileno(cap), 0, SEEK_END) : 0;
    *out = calloc(1, (size_t)n + 1);
    lseek(fileno(cap), 0, SEEK_SET);
    cr_assert_eq(read(fileno(cap), *out, (size_t)n), n);
    fclose(cap);
    return rc;
}

static void write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(s, f);
    fclose(f);
}

Test(verbs, init_and_verify)
{
    char *d = temp_dir();
    char dd[4096];
    file_path(dd, d, "data");
    char *out;
    char *init_argv[] = {"init", "--datadir", dd, NULL};
    cr_assert_eq(run_verb(cmd_init, init_argv, NULL, &out), CLI_EXIT_OK);
    struct stat st;
    cr_assert_eq(stat(dd, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700);
    char p[4096];
    file_path(p, dd, "store.mdb");
    cr_assert_eq(stat(p, &st), 0, "init must create the store");
    file_path(p, dd, "signing.pub");
    char *pubfile = slurp(p);
    char want[100];
    snprintf(want, sizeof want, "public key: %.64s\n", pubfile);
    cr_assert_not_null(strstr(out, want), "%s", out);
    cr_assert_not_null(strstr(out, "created signing key"), "%s", out);
    free(out);
    cr_assert_eq(run_verb(cmd_init, init_argv, NULL, &out), CLI_EXIT_OK);
    cr_assert_not_null(strstr(out, want), "%s", out);
    cr_assert_not_null(strstr(out, "kept the existing signing key"), "%s", out);
    free(out);

    /* three records, one tampered, a blank line, one long record */
    uint8_t sk[64];
    cw_err err = {0};
    cr_assert_eq(keys_load_secret(dd, sk, &err), CW_OK, "%s", err.msg);
    json_t *rec = sample_record();
    alert_trail head;
    alert_trail_start(sk + 32, &head);
    char *l1 = chain_str(rec, sk, &head);
    json_t *ev = json_object_get(rec, "evidence");
    for (int i = 0; i < 400; i++)
        json_array_append_new(ev, json_string(TXID));
    char *l2 = chain_str(rec, sk, &head);
    cr_assert_gt(strlen(l2), 20000);
    char *l3 = strdup(l1);
    replace_once(l3, "50000000", "50000001");
    size_t total = strlen(l1) + strlen(l2) + strlen(l3) + 16;
    char *all = malloc(total);
    snprintf(all, total, "%s\n\n%s\r\n%s\n", l1, l2, l3);
    char recs[4096];
    file_path(recs, d, "alerts.jsonl");
    write_file(recs, all);

    char *v_argv[] = {"verify", recs, "--datadir", dd, NULL};
    cr_assert_eq(run_verb(cmd_verify, v_argv, NULL, &out), CLI_EXIT_FAIL);
    char line[4400];
    snprintf(line, sizeof line,
             "%s:4: " SIG_OF_MISMATCH "\n3 records, 2 valid, 1 invalid; trail seq 1..2, 1 problems\n", recs);
    cr_assert_str_eq(out, line);
    free(out);

    /* only the good ones: exit 0; from stdin, with --pubkey */
    snprintf(all, total, "%s\n%s\n", l1, l2);
    write_file(recs, all);
    cr_assert_eq(run_verb(cmd_verify, v_argv, NULL, &out), CLI_EXIT_OK);
    cr_assert_str_eq(out, "2 records, 2 valid, 0 invalid; trail seq 1..2, 0 problems\n");
    free(out);
    char pubhex[65];
    snprintf(pubhex, sizeof pubhex, "%.64s", pubfile);
    char *stdin_argv[] = {"verify", "-", "--pubkey", pubhex, NULL};
    cr_assert_eq(run_verb(cmd_verify, stdin_argv, all, &out), CLI_EXIT_OK);
    cr_assert_str_eq(out, "2 records, 2 valid, 0 invalid; trail seq 1..2, 0 problems\n");
    free(out);

    /* another key: every record fails */
    keypair other = new_keys();
    char otherhex[65];
    cw_hex_encode(other.pk, 32, otherhex);
    char *o_argv[] = {"verify", recs, "--pubkey", otherhex, NULL};
    cr_assert_eq(run_verb(cmd_verify, o_argv, NULL, &out), CLI_EXIT_FAIL);
    cr_assert_not_null(strstr(out, ":1: " SIG_OF_MISMATCH), "%s", out);
    cr_assert_not_null(strstr(out, ":2: " SIG_OF_MISMATCH), "%s", out);
    cr_assert_not_null(strstr(out, "2 records, 0 valid, 2 invalid; trail seq 1..2, 2 problems\n"), "%s", out);
    free(out);

    /* a non-JSON line is reported with its reason */
    write_file(recs, "hello\n");
    cr_assert_eq(run_verb(cmd_verify, v_argv, NULL, &out), CLI_EXIT_FAIL);
    snprintf(line, sizeof line, "%s:1: not JSON", recs);
    cr_assert(strncmp(out, line, strlen(line)) == 0, "%s", out);
    free(out);

    /* no records: not a success */
    write_file(recs, "\n  \n");
    cr_assert_eq(run_verb(cmd_verify, v_argv, NULL, &out), CLI_EXIT_FAIL);
    cr_assert_str_eq(out, "0 records, 0 valid, 0 invalid; trail seq 0..0, 0 problems\n");
    free(out);

    /* usage errors and unreadable inputs: 2 */
    char *bad_key[] = {"verify", recs, "--pubkey", "abcd", NULL};
    cr_assert_eq(run_verb(cmd_verify, bad_key, NULL, &out), CLI_EXIT_USAGE);
    free(out);
    char *no_file[] = {"verify", "/nonexistent/alerts.jsonl", "--pubkey", pubhex, NULL};
    cr_assert_eq(run_verb(cmd_verify, no_file, NULL, &out), CLI_EXIT_USAGE);
    free(out);
    char *no_key[] = {"verify", recs, "--datadir", d, NULL};
    cr_assert_eq(run_verb(cmd_verify, no_key, NULL, &out), CLI_EXIT_USAGE);
    free(out);
    char *no_arg[] = {"verify", NULL};
    cr_assert_eq(run_verb(cmd_verify, no_arg, NULL, &out), CLI_EXIT_USAGE);
    free(out);

    free(all);
    free(l1);
    free(l2);
    free(l3);
    free(pubfile);
    json_decref(rec);
    rm_tree(d);
    free(d);
}

/* ---- the audit trail ---- */

/* Six records of one trail (seq 1..6) signed with k, each with its own id. */
static void six_records(const keypair *k, char *lines[6])
{
    alert_trail head;
    alert_trail_start(k->pk, &head);
    for (int i = 0; i < 6; i++) {
        json_t *r = sample_record();
        json_object_set_new(r, "amount", json_integer(1000 + i));
        lines[i] = chain_str(r, k->sk, &head);
        json_decref(r);
    }
    cr_assert_eq(head.seq, 6);
}

/* verify over the lines idx[0..n) of `lines` (-1 ends), extra args after. */
static int verify_lines(char *const lines[], const int *idx, const char *pubhex, const char *extra, char **out)
{
    cw_buf all = CW_BUF_INIT;
    for (int i = 0; idx[i] >= 0; i++) {
        cw_buf_append(&all, lines[idx[i]], strlen(lines[idx[i]]), NULL);
        cw_buf_append(&all, "\n", 1, NULL);
    }
    cw_buf_append(&all, "", 1, NULL);
    char *argv[] = {"verify", "-", "--pubkey", (char *)pubhex, (char *)extra, NULL};
    clearerr(stdin); /* the last call's EOF */
    int rc = run_verb(cmd_verify, argv, (const char *)all.p, out);
    cw_buf_free(&all);
    return rc;
}

Test(trail, records_chain_by_seq_and_prev)
{
    keypair k = new_keys();
    char *l[6];
    six_records(&k, l);
    alert_trail start;
    alert_trail_start(k.pk, &start);
    /* the genesis is BLAKE2b-256 of the tag and the public key, computed here independently */
    uint8_t want[32], msg[19 + 32];
    memcpy(msg, "chainwatch-trail-v1", 19);
    memcpy(msg + 19, k.pk, 32);
    crypto_generichash(want, 32, msg, sizeof msg, NULL, 0);
    cr_assert_arr_eq(start.hash, want, 32);
    for (int i = 0; i < 6; i++) {
        json_t *r = json_loads(l[i], 0, NULL);
        cr_assert_eq(json_integer_value(json_object_get(r, "seq")), i + 1);
        uint8_t h[32];
        if (i == 0)
            memcpy(h, want, 32);
        else
            crypto_generichash(h, 32, (const unsigned char *)l[i - 1], strlen(l[i - 1]), NULL, 0);
        char hex[65];
        cw_hex_encode(h, 32, hex);
        cr_assert_str_eq(json_string_value(json_object_get(r, "prev")), hex, "record %d", i + 1);
        json_decref(r);
        char reason[160];
        cr_assert_eq(alert_verify(l[i], strlen(l[i]), k.pk, reason), CW_OK, "%s", reason);
    }
    for (int i = 0; i < 6; i++)
        free(l[i]);
}

Test(trail, verify_names_each_break_with_its_line)
{
    keypair k = new_keys();
    char pub[65];
    cw_hex_encode(k.pk, 32, pub);
    char *l[6];
    six_records(&k, l);
    char *out;

    int clean[] = {0, 1, 2, 3, 4, 5, -1};
    cr_assert_eq(verify_lines(l, clean, pub, NULL, &out), CLI_EXIT_OK, "%s", out);
    cr_assert_str_eq(out, "6 records, 6 valid, 0 invalid; trail seq 1..6, 0 problems\n");
    free(out);

    /* a record deleted: every remaining one still has a good signature */
    int deleted[] = {0, 1, 3, 4, 5, -1};
    cr_assert_eq(verify_lines(l, deleted, pub, NULL, &out), CLI_EXIT_FAIL, "%s", out);
    cr_assert_str_eq(out, "-:3: record seq 3 is missing (before seq 4; the one before is at line 2)\n"
                          "5 records, 5 valid, 0 invalid; trail seq 1..6, 1 problems\n");
    free(out);

    int two_gone[] = {0, 3, 4, 5, -1};
    cr_assert_eq(verify_lines(l, two_gone, pub, NULL, &out), CLI_EXIT_FAIL, "%s", out);
    cr_assert(strstr(out, "-:2: records seq 2..3 are missing (before seq 4; the one before is at line 1)\n"), "%s", out);
    free(out);

    int repeated[] = {0, 1, 1, 2, 3, 4, 5, -1};
    cr_assert_eq(verify_lines(l, repeated, pub, NULL, &out), CLI_EXIT_FAIL, "%s", out);
    cr_assert_str_eq(out, "-:3: seq 2 repeats the record at line 2\n"
                          "7 records, 7 valid, 0 invalid; trail seq 1..6, 1 problems\n");
    free(out);

    int swapped[] = {0, 1, 3, 2, 4, 5, -1};
    cr_assert_eq(verify_lines(l, swapped, pub, NULL, &out), CLI_EXIT_FAIL, "%s", out);
    cr_assert_str_eq(out, "-:3: record seq 3 is missing (before seq 4; the one before is at line 2)\n"
                          "-:4: seq 3 is out of order: it comes after seq 4 (line 3)\n"
                          "6 records, 6 valid, 0 invalid; trail seq 1..6, 2 problems\n");
    free(out);

    /* the same key's record 3 of another trail (a fork, or a store restored
     * from a backup): a good signature, but it does not chain */
    alert_trail head;
    alert_trail_start(k.pk, &head);
    char *fork[6];
    for (int i = 0; i < 3; i++) {
        json_t *r = sample_record();
        json_object_set_new(r, "amount", json_integer(2000 + i));
        fork[i] = chain_str(r, k.sk, &head);
        json_decref(r);
    }
    char *mixed[6] = {l[0], l[1], fork[2], l[3], l[4], l[5]};
    cr_assert_eq(verify_lines(mixed, clean, pub, NULL, &out), CLI_EXIT_FAIL, "%s", out);
    cr_assert_str_eq(out,
                     "-:3: seq 3 does not chain to seq 2 at line 2 (its prev is not that record's hash): a record was "
                     "replaced or spliced in\n"
                     "-:4: seq 4 does not chain to seq 3 at line 3 (its prev is not that record's hash): a record was "
                     "replaced or spliced in\n"
                     "6 records, 6 valid, 0 invalid; trail seq 1..6, 2 problems\n");
    free(out);
    char *both[7] = {l[0], l[1], l[2], fork[2], l[3], l[4], l[5]};
    int all7[] = {0, 1, 2, 3, 4, 5, 6, -1};
    cr_assert_eq(verify_lines(both, all7, pub, NULL, &out), CLI_EXIT_FAIL, "%s", out);
    cr_assert(strstr(out, "-:4: seq 3 again, with other content than at line 3"), "%s", out);
    free(out);

    /* a file that starts mid-trail (the older part rotated away): said, not an error */
    int tail[] = {2, 3, 4, 5, -1};
    cr_assert_eq(verify_lines(l, tail, pub, NULL, &out), CLI_EXIT_OK, "%s", out);
    cr_assert_str_eq(out, "-: starts at seq 3 (the records before it are in an earlier file)\n"
                          "4 records, 4 valid, 0 invalid; trail seq 3..6, 0 problems\n");
    free(out);
    cr_assert_eq(verify_lines(l, tail, pub, "--from-start", &out), CLI_EXIT_FAIL, "%s", out);
    cr_assert(strstr(out, "-:1: the file starts at seq 3: records 1..2 are missing\n"), "%s", out);
    free(out);

    /* seq 1 of a trail started for another key, signed with this one */
    keypair other = new_keys();
    alert_trail_start(other.pk, &head);
    json_t *r = sample_record();
    char *alien = chain_str(r, k.sk, &head);
    char *alien_l[1] = {alien};
    int one[] = {0, -1};
    cr_assert_eq(verify_lines(alien_l, one, pub, NULL, &out), CLI_EXIT_FAIL, "%s", out);
    cr_assert(strstr(out, "-:1: seq 1 does not start this key's trail"), "%s", out);
    free(out);

    /* a signed record without seq/prev is not part of the trail */
    json_object_del(r, "seq");
    json_object_del(r, "prev");
    char *plain = sign_str(r, k.sk);
    char *plain_l[1] = {plain};
    cr_assert_eq(verify_lines(plain_l, one, pub, NULL, &out), CLI_EXIT_FAIL, "%s", out);
    cr_assert(strstr(out, "-:1: not part of an audit trail: no seq and prev"), "%s", out);
    free(out);
    json_decref(r);
    free(alien), free(plain);
    for (int i = 0; i < 3; i++)
        free(fork[i]);
    for (int i = 0; i < 6; i++)
        free(l[i]);
}

/* A failed sign leaves the head where it was: no seq is used up. */
Test(trail, a_refused_record_uses_no_seq)
{
    keypair k = new_keys();
    alert_trail head;
    alert_trail_start(k.pk, &head);
    alert_trail before = head;
    json_t *r = sample_record();
    json_object_set_new(r, "score", json_real(0.5)); /* refused by the canonical form */
    cw_buf b = CW_BUF_INIT;
    cw_err err = {0};
    cr_assert_eq(alert_sign_chained(r, k.sk, &head, &b, &err), CW_EFORMAT);
    cr_assert_eq(head.seq, 0);
    cr_assert_arr_eq(head.hash, before.hash, 32);
    cr_assert_eq(b.n, 0);
    json_decref(r);
    cw_buf_free(&b);
}

static sigjmp_buf write_fault;
static void on_write_fault(int sig)
{
    (void)sig;
    siglongjmp(write_fault, 1);
}

/* The long-lived key copy: locked memory, read only once loaded. (The
 * fault is caught here rather than left to kill the test: ASan's handler
 * would turn it into an error report.) */
Test(trail, secret_key_copy_is_read_only)
{
    char *d = temp_dir();
    char pub[65];
    bool created;
    cw_err err = {0};
    cr_assert_eq(keys_create(d, pub, &created, &err), CW_OK, "%s", err.msg);
    uint8_t *sk = keys_secret_open(d, &err);
    cr_assert_not_null(sk, "%s", err.msg);
    uint8_t pk[32];
    cr_assert(keys_parse_public_hex(pub, pk));
    cr_assert_arr_eq(sk + 32, pk, 32);
    uint8_t first = sk[0];
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_write_fault;
    sigaction(SIGSEGV, &sa, &old);
    volatile bool faulted = false;
    if (sigsetjmp(write_fault, 1) == 0)
        ((volatile uint8_t *)sk)[0] ^= 1; /* a stray write: must fault, not change the key */
    else
        faulted = true;
    sigaction(SIGSEGV, &old, NULL);
    cr_assert(faulted, "a write to the loaded key went through");
    cr_assert_eq(sk[0], first);
    keys_secret_free(sk);
    rm_tree(d);
    free(d);
}

Test(trail, secret_key_open_refuses_and_leaves_nothing)
{
    char *d = temp_dir();
    cw_err err = {0};
    cr_assert_null(keys_secret_open(d, &err));
    cr_assert(strstr(err.msg, "signing.key"), "%s", err.msg);
    keys_secret_free(NULL);
    rm_tree(d);
    free(d);
}

/* ---- the alerts file after a crash (sink.h) ---- */

static char *seq_line(uint64_t seq, const char *tag)
{
    static char pad[1001];
    memset(pad, 'x', 1000);
    char *l = malloc(1200);
    snprintf(l, 1200, "{\"pad\":\"%s\",\"seq\":%llu,\"tag\":\"%s\"}", pad, (unsigned long long)seq, tag);
    return l;
}

static size_t count_lines(const char *path, size_t *bytes)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    size_t n = 0;
    int c;
    *bytes = 0;
    while ((c = getc(f)) != EOF) {
        n += c == '\n';
        ++*bytes;
    }
    fclose(f);
    return n;
}

/* A crash between the fsync and the outbox's cleanup, with 1.5 MB queued:
 * the restart re-sends all of it; only the 3 new records may land. (The
 * search of the file's last megabyte wrote the older ~500 again.) */
Test(sink, resent_records_the_file_holds_are_skipped_exactly)
{
    char *d = temp_dir();
    char path[4096];
    file_path(path, d, "alerts.jsonl");
    alert_sink s;
    cw_err err = {0};
    cr_assert_eq(alert_sink_open(&s, path, &err), CW_OK, "%s", err.msg);
    const size_t held = 1500;
    for (uint64_t i = 1; i <= held; i++) {
        char *l = seq_line(i, "a");
        cr_assert(alert_sink_line(&s, l, strlen(l)));
        free(l);
    }
    alert_sink_close(&s);
    size_t bytes, before = count_lines(path, &bytes);
    cr_assert_eq(before, held);
    cr_assert_gt(bytes, (size_t)1 << 20, "more than the megabyte the old check looked at");

    cr_assert_eq(alert_sink_open(&s, path, &err), CW_OK, "%s", err.msg);
    alert_sink_load_tail(&s);
    for (uint64_t i = 1; i <= held + 3; i++) {
        char *l = seq_line(i, "a");
        cr_assert(alert_sink_line(&s, l, strlen(l)));
        free(l);
    }
    alert_sink_drop_tail(&s);
    alert_sink_close(&s);
    cr_assert_eq(count_lines(path, &bytes), held + 3);
    /* and in order: line i holds seq i */
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    for (uint64_t i = 1; getline(&line, &cap, f) > 0; i++) {
        json_t *r = json_loads(line, 0, NULL);
        cr_assert_eq(json_integer_value(json_object_get(r, "seq")), (json_int_t)i);
        json_decref(r);
    }
    free(line);
    fclose(f);
    rm_tree(d);
    free(d);
}

/* Same seqs, other records (another trail, or a store restored from a
 * backup): nothing is skipped, nothing lost. */
Test(sink, other_records_with_the_same_seq_are_written)
{
    char *d = temp_dir();
    char path[4096];
    file_path(path, d, "alerts.jsonl");
    alert_sink s;
    cw_err err = {0};
    cr_assert_eq(alert_sink_open(&s, path, &err), CW_OK, "%s", err.msg);
    for (uint64_t i = 1; i <= 10; i++) {
        char *l = seq_line(i, "a");
        cr_assert(alert_sink_line(&s, l, strlen(l)));
        free(l);
    }
    alert_sink_close(&s);
    cr_assert_eq(alert_sink_open(&s, path, &err), CW_OK, "%s", err.msg);
    alert_sink_load_tail(&s);
    /* 8..10 are in the file; 11 is new; then another trail's 5..6 */
    for (uint64_t i = 8; i <= 11; i++) {
        char *l = seq_line(i, "a");
        cr_assert(alert_sink_line(&s, l, strlen(l)));
        free(l);
    }
    alert_sink_drop_tail(&s);
    alert_sink_load_tail(&s);
    for (uint64_t i = 5; i <= 6; i++) {
        char *l = seq_line(i, "b");
        cr_assert(alert_sink_line(&s, l, strlen(l)));
        free(l);
    }
    alert_sink_close(&s);
    size_t bytes;
    cr_assert_eq(count_lines(path, &bytes), 13);
    rm_tree(d);
    free(d);
}

/* ---- no partial records (tests/tools/fault.c) ---- */

/* The regtest node's block files (root/blocks) and an initialised datadir
 * listing the two addresses the node paid (root/fresh), for the tests that
 * run `replay` over the real records of blocks 102..105. */
static void trail_fixture(const char *root, char blocks[4096], char fresh[4096])
{
    char csv[4096];
    file_path(blocks, root, "blocks");
    file_path(fresh, root, "fresh");
    regtest_blocksdir(blocks);
    char *out, *err;
    char *init[] = {CW_BIN, "init", "--datadir", fresh, NULL};
    cr_assert_eq(run_cmd(init, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    file_path(csv, root, "list.csv");
    write_file(csv, "chain,address,entity,program,note\n"
                    "bitcoin,bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0,Test front company,DPRK4,\n"
                    "bitcoin,mqBXtoBQx88vMij3Hj8YM3RXDDvbrNfx9v,Test IT worker,DPRK3,\n");
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", csv, "--datadir", fresh, NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
}

#ifdef CW_FAULT_ALLOC
/* Field names of each record line, "id status: k1,k2,..." sorted, one per
 * line; *n gets the count. */
static char *record_shapes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    *n = 0;
    cw_buf out = CW_BUF_INIT;
    if (f) {
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
            json_t *r = json_loads(line, 0, NULL);
            cr_assert_not_null(r, "a line of %s is not JSON: %s", path, line);
            char head[160];
            snprintf(head, sizeof head, "%s %s %s:", json_string_value(json_object_get(r, "id")),
                     json_string_value(json_object_get(r, "status")), json_string_value(json_object_get(r, "rule")));
            cw_buf_append(&out, head, strlen(head), NULL);
            /* nested objects too: an entity without its name is as partial */
            const char *k;
            json_t *v;
            json_object_foreach(r, k, v) {
                cw_buf_append(&out, " ", 1, NULL);
                cw_buf_append(&out, k, strlen(k), NULL);
                if (json_is_object(v)) {
                    const char *k2;
                    json_t *v2;
                    json_object_foreach(v, k2, v2) {
                        cw_buf_append(&out, ".", 1, NULL);
                        cw_buf_append(&out, k2, strlen(k2), NULL);
                    }
                }
                if (json_is_array(v)) {
                    char c[24];
                    snprintf(c, sizeof c, "[%zu]", json_array_size(v));
                    cw_buf_append(&out, c, strlen(c), NULL);
                }
            }
            cw_buf_append(&out, "\n", 1, NULL);
            json_decref(r);
            ++*n;
        }
        free(line);
        fclose(f);
    }
    cw_buf_append(&out, "", 1, NULL);
    return (char *)out.p; /* file order: the same run order every time */
}

static int replay_with(const char *blocks, const char *dd, long fail_at, bool count, char **out, char **err)
{
    char n[24];
    snprintf(n, sizeof n, "%ld", fail_at);
    if (fail_at > 0 || count) {
        setenv("LD_PRELOAD", CW_FAULT_PRELOAD, 1);
        if (fail_at > 0)
            setenv("CW_FAIL_ALLOC", n, 1);
        if (count)
            setenv("CW_COUNT_ALLOC", "1", 1);
    }
    char *argv[] = {CW_BIN, "replay", "--blocksdir", (char *)blocks, "--datadir", (char *)dd, "--network", "regtest",
                    "--to", "102", NULL};
    int rc = run_cmd(argv, NULL, 0, out, err);
    unsetenv("LD_PRELOAD");
    unsetenv("CW_FAIL_ALLOC");
    unsetenv("CW_COUNT_ALLOC");
    return rc;
}
#endif

/* An allocation failing anywhere while block 102's records are built,
 * signed and queued: the run fails with an error and writes nothing of the
 * batch, or (a failure something retried) writes every record whole; never
 * a signed record with a field missing. Before, a failed json_string or
 * json_object_set_new left the field out and the record was signed and
 * written (91 of the first 200 positions), and one position crashed. */
Test(trail, an_allocation_failure_never_writes_a_partial_record, .timeout = 120)
{
#ifndef CW_FAULT_ALLOC
    cr_skip_test("malloc cannot be interposed under the sanitizers");
#else
    char *root = temp_dir();
    char blocks[4096], fresh[4096], w[4096], cmd[12400];
    trail_fixture(root, blocks, fresh);
    file_path(w, root, "w");
    char *out, *err;
    char alerts[4200];
    snprintf(alerts, sizeof alerts, "%s/alerts.jsonl", w);
    char *vf[] = {CW_BIN, "verify", alerts, "--datadir", w, "--from-start", NULL};

    /* the reference: a clean run, and how many allocations follow the arming */
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", w, fresh, w);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(replay_with(blocks, w, 0, true, &out, &err), 0, "%s", err);
    long after = 0;
    const char *c = strstr(err, "fault: ");
    cr_assert(c && sscanf(c, "fault: %ld allocations", &after) == 1 && after > 100, "%s", err);
    free(out), free(err);
    size_t want_n;
    char *want = record_shapes(alerts, &want_n);
    cr_assert_eq(want_n, 5, "block 102's records: 3 designated_address, 2 indirect_exposure\n%s", want);

    /* every position of the first records' building, then a sample of the rest */
    size_t failed = 0, tried = 0;
    for (long at = 1; at <= after; at += at < 60 ? 1 : 15) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", w, fresh, w);
        cr_assert_eq(system(cmd), 0);
        int rc = replay_with(blocks, w, at, false, &out, &err); /* run_cmd fails the test on a crash */
        size_t got_n;
        char *got = record_shapes(alerts, &got_n);
        tried++;
        if (rc == 0) {
            cr_assert_str_eq(got, want, "allocation %ld failed, exit 0: the records must be whole\n%s", at, err);
        } else {
            failed++;
            cr_assert(strstr(err, "out of memory") || strstr(err, "Cannot allocate memory") ||
                          strstr(err, "the alert sink refused a record"),
                      "allocation %ld: exit %d without saying why: %s", at, rc, err);
            /* what reached the file is whole, and a run without the fault completes it */
            cr_assert_eq(strncmp(got, want, strlen(got)), 0, "allocation %ld: a partial record\n%s\nwant\n%s", at,
                         got, want);
            free(out), free(err);
            free(got);
            cr_assert_eq(replay_with(blocks, w, 0, false, &out, &err), 0, "%s", err);
            got = record_shapes(alerts, &got_n);
            cr_assert_str_eq(got, want, "allocation %ld: the run after it must complete the records", at);
        }
        free(out), free(err);
        free(got);
        cr_assert_eq(run_cmd(vf, NULL, 0, &out, &err), 0, "allocation %ld: %s", at, out);
        free(out), free(err);
    }
    cr_assert_gt(failed, tried / 2, "most positions are in the batch and must fail it (%zu of %zu)", failed, tried);
    free(want);
    rm_tree(root);
    free(root);
#endif
}

/* A batch whose commit finds the map full is aborted and redone
 * (tests/tools/fault.c): the trail head goes back with it, so the redo
 * numbers its records as the aborted batch did, with no gap or repeat.
 * More than 40 replays: under ASan on 2 busy cores a minute was not enough. */
Test(trail, an_aborted_batch_gives_its_seq_back, .timeout = 240)
{
    char *root = temp_dir();
    char blocks[4096], fresh[4096], dd[4096], cmd[12400];
    trail_fixture(root, blocks, fresh);
    file_path(dd, root, "dd");
    char *out, *err;
    char alerts[4200];
    snprintf(alerts, sizeof alerts, "%s/alerts.jsonl", dd);
    char *rep[] = {CW_BIN, "replay", "--blocksdir", blocks, "--datadir", dd, "--network", "regtest", "--batch-txs", "2",
                   NULL};
    char *v[] = {CW_BIN, "verify", alerts, "--datadir", dd, "--from-start", NULL};
    /* every batch's commit in turn (batches of 2 txs: the ones holding
     * block 102's, 103's and 105's records among them); the first two are
     * store_open's and the cluster refresh's, which are not batches */
    int commits = 0;
    for (int at = 0; at == 0 || at <= commits; at = at ? at + 1 : 3) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", dd, fresh, dd);
        cr_assert_eq(system(cmd), 0);
        char num[16];
        snprintf(num, sizeof num, "%d", at);
        setenv("LD_PRELOAD", CW_FAULT_PRELOAD, 1);
        setenv(at ? "CW_FAIL_COMMIT" : "CW_TRACE_COMMIT", at ? num : "1", 1);
        int rc = run_cmd(rep, NULL, 0, &out, &err);
        unsetenv("LD_PRELOAD");
        unsetenv("CW_FAIL_COMMIT");
        unsetenv("CW_TRACE_COMMIT");
        cr_assert_eq(rc, 0, "commit %d failed: %s", at, err);
        if (at == 0) /* the count run */
            for (const char *p = strstr(err, "[commit "); p; p = strstr(p + 1, "[commit "))
                commits++;
        cr_assert(strstr(out, "alerts      9 records"), "commit %d: %s", at, out);
        free(out), free(err);
        cr_assert_eq(run_cmd(v, NULL, 0, &out, &err), 0, "commit %d: %s", at, out);
        cr_assert(strstr(out, "9 records, 9 valid, 0 invalid; trail seq 1..9, 0 problems"), "commit %d: %s", at, out);
        free(out), free(err);
    }
    cr_assert_gt(commits, 40, "one commit per batch of 2 txs");
    rm_tree(root);
    free(root);
}

/* A checkpoint vouches only for what the alerts file has made durable:
 * records the sink refused (here a full disk, /dev/full) stay queued in
 * the outbox and out of the checkpoint until a later run writes them. */
Test(trail, checkpoint_vouches_for_durable_records_only, .timeout = 60)
{
    char *root = temp_dir();
    char blocks[4096], fresh[4096];
    trail_fixture(root, blocks, fresh);
    char *out, *err;
    char *full[] = {CW_BIN, "replay", "--blocksdir", blocks, "--datadir", fresh, "--network", "regtest",
                    "--alerts", "/dev/full", NULL};
    cr_assert_neq(run_cmd(full, NULL, 0, &out, &err), 0, "a sink that cannot write is an error: %s", err);
    cr_assert(strstr(err, "the alert sink refused a record"), "%s", err);
    free(out), free(err);
    char *ck[] = {CW_BIN, "checkpoint", "--datadir", fresh, NULL};
    cr_assert_eq(run_cmd(ck, NULL, 0, &out, &err), 0, "%s", err);
    json_t *c = json_loads(out, 0, NULL);
    cr_assert_not_null(c, "%s", out);
    cr_assert_eq(json_integer_value(json_object_get(c, "head_seq")), 0, "nothing is durable yet: %s", out);
    alert_trail start;
    uint8_t pk[32];
    cw_err e = {0};
    cr_assert_eq(keys_load_public(fresh, pk, &e), CW_OK, "%s", e.msg);
    alert_trail_start(pk, &start);
    char hex[65];
    cw_hex_encode(start.hash, 32, hex);
    cr_assert_str_eq(json_string_value(json_object_get(c, "head_hash")), hex);
    json_decref(c);
    free(out), free(err);
    /* the next run hands the queued records over first */
    char alerts[4200];
    snprintf(alerts, sizeof alerts, "%s/alerts.jsonl", fresh);
    char *again[] = {CW_BIN, "replay", "--blocksdir", blocks, "--datadir", fresh, "--network", "regtest", NULL};
    cr_assert_eq(run_cmd(again, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    cr_assert_eq(run_cmd(ck, NULL, 0, &out, &err), 0, "%s", err);
    c = json_loads(out, 0, NULL);
    cr_assert_eq(json_integer_value(json_object_get(c, "head_seq")), 9, "%s", out);
    json_decref(c);
    char cp[4200];
    snprintf(cp, sizeof cp, "%s/cp.json", root);
    write_file(cp, out);
    free(out), free(err);
    char *v[] = {CW_BIN, "verify", alerts, "--datadir", fresh, "--from-start", "--checkpoint", cp, NULL};
    cr_assert_eq(run_cmd(v, NULL, 0, &out, &err), 0, "%s", out);
    cr_assert(strstr(out, "9 records, 9 valid, 0 invalid; trail seq 1..9, 0 problems"), "%s", out);
    free(out), free(err);
    rm_tree(root);
    free(root);
}

/* The records' one clock text (seen_at, case audit times): UTC with
 * milliseconds, 24 chars, and the second it says is now (ISO text sorts as
 * time: between the seconds before and after, as gmtime gives them). */
Test(alert, now_iso_is_utc_with_milliseconds)
{
    char t[ALERT_TIME_MAX], lo[32], hi[32];
    struct tm tm;
    time_t before = time(NULL);
    alert_now_iso(t);
    time_t after = time(NULL);
    strftime(lo, sizeof lo, "%Y-%m-%dT%H:%M:%S", gmtime_r(&before, &tm));
    strftime(hi, sizeof hi, "%Y-%m-%dT%H:%M:%S", gmtime_r(&after, &tm));
    cr_assert_eq(strlen(t), 24, "'%s'", t);
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; i < 24; i++)
        cr_assert(shape[i] == 'd' ? t[i] >= '0' && t[i] <= '9' : t[i] == shape[i], "'%s' at %zu", t, i);
    cr_assert(strncmp(t, lo, 19) >= 0 && strncmp(t, hi, 19) <= 0, "'%s' is not between %s and %s", t, lo, hi);
}
