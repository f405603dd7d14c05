/* Watchlists on the real OFAC files: the 2025-11-19 SDN_ADVANCED.XML, the
 * 2024-05-03 sdn.csv, the 2025 CSV subset with its comments; hostile and
 * malformed files; a killed import. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <strings.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/support.h"
#include "watchlists/import.h"
#include "watchlists/store/store.h"
#include "watchlists/watchlist.h"

#define OFAC CW_DATA_DIR "/ofac/"

static char *temp_dir(void)
{
    char *d = strdup("/tmp/cw-wl-XXXXXX");
    cr_assert_not_null(mkdtemp(d));
    return d;
}

static void rm_rf(const char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    cr_assert_eq(system(cmd), 0);
}

typedef enum { FMT_ADV, FMT_CSV, FMT_OWN } fmt;

/* Imports a file as `source` under a shrink policy; returns the code,
 * fills sum and err. */
static cw_code import_shrink(const char *datadir, fmt f, const char *path, const char *comments, const char *source,
                             double max_pct, bool allow, wl_summary *sum, cw_err *err)
{
    wl_import *imp = wl_import_new(source, f == FMT_ADV ? "sdn-advanced" : f == FMT_CSV ? "sdn-csv" : "csv");
    wl_import_set_shrink(imp, max_pct, allow);
    cw_code rc = f == FMT_ADV   ? import_sdn_advanced(path, imp, NULL, err)
                 : f == FMT_CSV ? import_sdn_csv(path, comments, true, imp, NULL, err)
                                : (wl_import_allow_test_networks(imp, true), import_own_csv(path, imp, NULL, err));
    if (rc == CW_OK) {
        cw_store *s;
        rc = store_open(datadir, 0, false, &s, err);
        if (rc == CW_OK) {
            rc = wl_import_commit(s, imp, sum, err);
            store_close(s);
        }
    }
    wl_import_free(imp);
    return rc;
}

static cw_code import(const char *datadir, fmt f, const char *path, const char *comments, const char *source,
                      wl_summary *sum, cw_err *err)
{
    return import_shrink(datadir, f, path, comments, source, WL_MAX_SHRINK_DEFAULT, false, sum, err);
}

typedef struct {
    size_t n;
    char uid[8][32], ticker[8][32], linked_from[8][64];
    uint8_t flags[8];
    char name[8][128], programs[8][128], designated[8][16];
    store_txn *t;
} hits;

static void collect(void *ctx, const wl_ref *r)
{
    hits *h = ctx;
    if (h->n == 8)
        return;
    size_t i = h->n++;
    snprintf(h->uid[i], sizeof h->uid[i], "%s", r->uid);
    snprintf(h->ticker[i], sizeof h->ticker[i], "%s", r->ticker);
    snprintf(h->linked_from[i], sizeof h->linked_from[i], "%s", r->linked_from ? r->linked_from : "");
    h->flags[i] = r->flags;
    cw_span ej;
    if (wl_entity_json(h->t, r->source, r->uid, &ej, NULL) == CW_OK) {
        json_t *e = json_loadb((const char *)ej.p, ej.n, 0, NULL);
        snprintf(h->name[i], sizeof h->name[i], "%s", json_string_value(json_object_get(e, "name")));
        const char *d = json_string_value(json_object_get(e, "designated"));
        snprintf(h->designated[i], sizeof h->designated[i], "%s", d ? d : "");
        size_t k;
        json_t *p;
        h->programs[i][0] = '\0';
        json_array_foreach(json_object_get(e, "programs"), k, p) {
            size_t used = strlen(h->programs[i]);
            snprintf(h->programs[i] + used, sizeof h->programs[i] - used, "%s%s", k ? "," : "", json_string_value(p));
        }
        json_decref(e);
    }
}

static hits lookup(const char *datadir, const char *text)
{
    cw_store *s;
    cw_err err = {0};
    cr_assert_eq(store_open(datadir, 0, true, &s, &err), CW_OK, "%s", err.msg);
    store_txn *t;
    cr_assert_eq(store_begin(s, false, &t, &err), CW_OK);
    hits h = {.t = t};
    uint8_t key[WL_KEY_MAX];
    size_t kn = wl_key_from_text(text, key, NULL);
    cr_assert_gt(kn, 0, "%s", text);
    size_t count;
    cr_assert_eq(wl_lookup(t, key, kn, collect, &h, &count, &err), CW_OK);
    cr_assert_eq(count, h.n);
    store_abort(t);
    store_close(s);
    return h;
}

static char *read_text(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: run through ctest, whose fixture unpacks it", path);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc(*n + 1);
    cr_assert_eq(fread(s, 1, *n, f), *n);
    s[*n] = '\0';
    fclose(f);
    return s;
}

/* Independent of the importer: the FeatureType IDs named "Digital Currency
 * Address - T", then every <Feature ...> tag using one of them. One linear
 * pass each, by hand: str* interceptors of the sanitizer build rescan a
 * 121 MB haystack on every call. */
static bool at(const char *s, size_t n, size_t i, const char *lit)
{
    size_t l = strlen(lit);
    return i + l <= n && memcmp(s + i, lit, l) == 0;
}

static void naive_counts(json_t *counts)
{
    size_t n;
    char *s = read_text(CW_SDN_XML, &n);
    static const char def[] = "<FeatureType ID=\"", pre[] = "Digital Currency Address - ";
    static const char use[] = "<Feature ID=\"", attr[] = "FeatureTypeID=\"";
    int ids[64];
    char tickers[64][16];
    size_t found[64] = {0};
    int nt = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '<')
            continue;
        if (at(s, n, i, def) && nt < 64) {
            size_t j = i;
            while (j < n && s[j] != '>')
                j++;
            if (at(s, n, j + 1, pre)) {
                ids[nt] = atoi(s + i + sizeof def - 1);
                size_t k = 0, p = j + 1 + sizeof pre - 1;
                while (k < 15 && p < n && s[p] != '<')
                    tickers[nt][k++] = s[p++];
                tickers[nt][k] = '\0';
                nt++;
            }
        } else if (at(s, n, i, use)) {
            for (size_t j = i; j < n && s[j] != '>'; j++)
                if (at(s, n, j, attr)) {
                    int id = atoi(s + j + sizeof attr - 1);
                    for (int t = 0; t < nt; t++)
                        found[t] += ids[t] == id;
                    break;
                }
        }
    }
    for (int t = 0; t < nt; t++)
        json_object_set_new(counts, tickers[t], json_integer((json_int_t)found[t]));
    free(s);
}

Test(watchlist, sdn_advanced_real_file, .timeout = 300)
{
    char *dir = temp_dir();
    wl_summary sum;
    cw_err err = {0};
    cr_assert_eq(import(dir, FMT_ADV, CW_SDN_XML, NULL, "ofac-sdn", &sum, &err), CW_OK, "%s", err.msg);

    /* Per-ticker totals equal a naive count over the same file. */
    json_t *naive = json_object();
    naive_counts(naive);
    cr_assert_eq(json_object_size(naive), 19, "SOURCES.md: 19 tickers");
    cw_store *s;
    cr_assert_eq(store_open(dir, 0, true, &s, &err), CW_OK);
    store_txn *t;
    cr_assert_eq(store_begin(s, false, &t, &err), CW_OK);
    cw_span mv;
    cr_assert_eq(store_get(t, STORE_WL_META, "ofac-sdn", 8, &mv, &err), CW_OK);
    json_t *meta = json_loadb((const char *)mv.p, mv.n, 0, NULL);
    cr_assert_not_null(meta);
    const char *k;
    json_t *v;
    json_int_t total = 0;
    json_object_foreach(naive, k, v) {
        json_t *got = json_object_get(json_object_get(meta, "by_ticker"), k);
        cr_assert_eq(json_integer_value(got), json_integer_value(v), "%s: imported %lld, file has %lld", k,
                     (long long)json_integer_value(got), (long long)json_integer_value(v));
        total += json_integer_value(v);
    }
    cr_assert_eq(total, 761);
    cr_assert_eq(sum.addresses, 761);
    cr_assert_str_eq(json_string_value(json_object_get(meta, "published")), "2025-11-19");
    cr_assert_str_eq(json_string_value(json_object_get(meta, "sha256")),
                     "36c517bd264d8d97eff353eadd8d84427d5eb293505a8ce07271a5bc258c3117");
    json_decref(meta);
    json_decref(naive);
    store_abort(t);
    store_close(s);

    /* Kim Sang Man: 6 entries over 5 addresses (one 0x address as ETH, USDT and USDC). */
    const char *kim[] = {"1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ", "1FCNgfZWpYMeYhy9t18AAkTBu8AsdoAc1Z",
                         "0x97b1043abd9e6fc31681635166d430a458d14f9c"};
    for (int i = 0; i < 3; i++) {
        hits h = lookup(dir, kim[i]);
        cr_assert_eq(h.n, 1, "%s", kim[i]);
        cr_assert_str_eq(h.uid[0], "43377");
        cr_assert_str_eq(h.name[0], "Kim Sang Man");
        cr_assert_str_eq(h.programs[0], "DPRK4");
        cr_assert_str_eq(h.designated[0], "2023-05-23");
    }
    hits h = lookup(dir, "0xb6f5ec1a0a9cd1526536d3f0426c429529471f40");
    cr_assert_eq(h.n, 3, "ETH, USDT and USDC");
    char tickers[64] = "";
    for (size_t i = 0; i < h.n; i++) {
        cr_assert_str_eq(h.uid[i], "43377");
        strcat(tickers, h.ticker[i]);
    }
    cr_assert(strstr(tickers, "ETH") && strstr(tickers, "USDT") && strstr(tickers, "USDC"), "%s", tickers);

    /* Lazarus Group, by its EIP-55 form and by lowercase. */
    h = lookup(dir, "0x098B716B8Aaf21512996dC57EB0615e2383E2f96");
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.uid[0], "27307");
    cr_assert(strstr(h.name[0], "LAZARUS GROUP") != NULL || strstr(h.name[0], "Lazarus") != NULL, "%s", h.name[0]);
    cr_assert_str_eq(h.programs[0], "DPRK3");
    cr_assert_eq(lookup(dir, "0x098b716b8aaf21512996dc57eb0615e2383e2f96").n, 1);

    /* Key-linked: the same key's P2WPKH form, and the Tron form of an EVM account. */
    h = lookup(dir, "bc1qsj69ec0dsv0xewahjfnjz9jh8yjsgk6safpynk");
    cr_assert_eq(h.n, 1, "P2WPKH form of 1D6gG9...");
    cr_assert(h.flags[0] & WL_REF_LINKED);
    cr_assert_str_eq(h.linked_from[0], "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ");
    h = lookup(dir, "TAqg8TXo8tmpaz7TwHS669Tgt8MPSWgoxB");
    cr_assert_eq(h.n, 1, "Tron form of Lazarus Group's EVM account");
    cr_assert_str_eq(h.uid[0], "27307");
    cr_assert(h.flags[0] & WL_REF_LINKED);

    /* Two addresses are listed for two parties each. */
    h = lookup(dir, "1H939dom7i4WDLCKyGbXUp3fs9CSTNRzgL");
    cr_assert_eq(h.n, 2);
    cr_assert_neq(strcmp(h.uid[0], h.uid[1]), 0);
    h = lookup(dir, "LeKvNdNEzgQkzVVnRdV3fAu2DSF1nLsNw6");
    cr_assert_eq(h.n, 2);
    cr_assert(h.flags[0] & WL_REF_TEXT, "Litecoin is kept as text");

    /* The official list's error: a Tron address filed under XBT. */
    h = lookup(dir, "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq");
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.ticker[0], "XBT");
    cr_assert(h.flags[0] & WL_REF_MISMATCH);
    cr_assert_eq(sum.n_mismatched, 1);
    cr_assert_eq(sum.n_new_tickers, 0);

    /* Kept as text but also a Bitcoin address (Omni USDT, Bitcoin SV legacy):
     * the same key pays on Bitcoin, so lookups by the address find it. */
    h = lookup(dir, "16iWn2J1McqjToYLHSsAyS6En3QA8YQ91H");
    cr_assert_geq(h.n, 1, "SUEX's USDT (Omni) address");
    cr_assert_str_eq(h.ticker[0], "USDT");
    h = lookup(dir, "12sjrrhoFEsedNRhtgwvvRqjFTh8fZTDX9");
    cr_assert_geq(h.n, 1, "a BSV address");
    cr_assert_str_eq(h.ticker[0], "BSV");

    /* Not listed. */
    cr_assert_eq(lookup(dir, "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH").n, 0);
    rm_rf(dir);
    free(dir);
}

/* wl_layout_len and wl_text_form on hand-made and real vectors: the one
 * place that says what a text is, for importers and lookups alike. */
Test(watchlist, layout_and_text_forms)
{
    static const struct {
        const char *s;
        size_t len;
        bool space;
    } layout[] = {
        {" x", 1, true}, {"\tx", 1, true}, {"\xc2\xa0", 2, true}, {"\xc2\xad", 2, false},
        {"\xe2\x80\x80", 3, true}, {"\xe2\x80\x8a", 3, true}, {"\xe2\x80\x8b", 3, false},
        {"\xe2\x80\x8c", 3, false}, {"\xe2\x80\x8d", 3, false}, {"\xe2\x80\xa8", 3, true},
        {"\xe2\x80\xaf", 3, true}, {"\xe2\x81\x9f", 3, true}, {"\xe2\x81\xa0", 3, false},
        {"\xe3\x80\x80", 3, true}, {"\xef\xbb\xbf", 3, false},
        /* visible: a hyphen (U+2010), an en dash, the ellipsis, U+2065 (unassigned), a letter, NUL */
        {"\xe2\x80\x90", 0, false}, {"\xe2\x80\x93", 0, false}, {"\xe2\x80\xa6", 0, false},
        {"\xe2\x81\xa5", 0, false}, {"\xc3\xa9", 0, false}, {"a", 0, false}, {"", 0, false},
        {"\xe2\x80", 0, false}, /* cut short at the NUL: nothing read past it */
    };
    for (size_t i = 0; i < sizeof layout / sizeof *layout; i++) {
        bool space = !layout[i].space;
        cr_expect_eq(wl_layout_len(layout[i].s, &space), layout[i].len, "vector %zu", i);
        if (layout[i].len)
            cr_expect_eq(space, layout[i].space, "vector %zu", i);
    }
    static const struct {
        const char *text;
        wl_form form;
    } forms[] = {
        {"1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ", WL_FORM_DECODED},
        {"TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq", WL_FORM_DECODED},
        {"0x098B716B8Aaf21512996dC57EB0615e2383E2f96", WL_FORM_DECODED},
        {"bc1qsj69ec0dsv0xewahjfnjz9jh8yjsgk6safpynk", WL_FORM_DECODED},
        /* other chains of the real list, kept as text */
        {"LeKvNdNEzgQkzVVnRdV3fAu2DSF1nLsNw6", WL_FORM_TEXT},
        {"qpf2cphc5dkuclkqur7lhj2yuqq9pk3hmukle77vhq", WL_FORM_TEXT},
        {"bitcoincash:qpf2cphc5dkuclkqur7lhj2yuqq9pk3hmukle77vhq", WL_FORM_TEXT},
        {"42RLPACwZPx3vYYmxSueqsogfynBDqXK298EDsNoyoHi", WL_FORM_TEXT},
        {"rnXyVQzgxZe7TR1EPzTkGj2jxH4LMJYh66", WL_FORM_TEXT},
        {"t1MMXtBrSp1XG38Lx9cePcNUCJj5vdWfUWL", WL_FORM_TEXT},
        {"5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320", WL_FORM_TEXT},
        /* Solana's SPL token program: base58, starts with T, 43 characters */
        {"TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", WL_FORM_TEXT},
        {"0.0.123", WL_FORM_TEXT},
        /* typos and wrappers of listed addresses */
        {"1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfK", WL_FORM_BROKEN},
        {"1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAf", WL_FORM_BROKEN},
        {"1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfl", WL_FORM_BROKEN},
        {"TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yz", WL_FORM_BROKEN},
        {"TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzqq", WL_FORM_BROKEN},
        {"098B716B8Aaf21512996dC57EB0615e2383E2f96", WL_FORM_BROKEN},
        {"0x098B716B8Aaf21512996dC57EB0615e2383E2F96", WL_FORM_BROKEN},
        {"bitcoin:1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ", WL_FORM_BROKEN},
        {"bitcoin:bc1qsj69ec0dsv0xewahjfnjz9jh8yjsgk6safpynk", WL_FORM_BROKEN},
        {"1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ.", WL_FORM_BROKEN},
        {"-LeKvNdNEzgQkzVVnRdV3fAu2DSF1nLsNw6", WL_FORM_BROKEN},
        {"LeKvNdNEzgQkzVVnRdV3fAu2DSF1nLsNw6_", WL_FORM_BROKEN},
        /* no address at all */
        {"", WL_FORM_NONE},
        {"1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ\xc2\xa0", WL_FORM_NONE},
        {"1D6gG9iKEhPitTcW RJiniuj1jYM2hNeAfJ", WL_FORM_NONE},
        {"LeKvNdNEzgQkzVVnRdV3fAu2DSF1nLsNw6;", WL_FORM_NONE},
        {"bitcoin:1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ?amount=1", WL_FORM_NONE},
    };
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        cw_err why = {0};
        cw_addr a;
        wl_form f = wl_text_form(forms[i].text, &a, &why);
        cr_expect_eq(f, forms[i].form, "'%s': form %d, not %d (%s)", forms[i].text, f, forms[i].form, why.msg);
        cr_expect_eq(why.msg[0] != '\0', f == WL_FORM_NONE || f == WL_FORM_BROKEN, "'%s': %s", forms[i].text, why.msg);
        uint8_t key[WL_KEY_MAX];
        cw_err kerr = {0};
        size_t strict = wl_key_from_text(forms[i].text, key, &kerr);
        cr_expect_eq(strict > 0, f == WL_FORM_DECODED || f == WL_FORM_TEXT, "'%s'", forms[i].text);
        cr_expect_eq(strict == 0, kerr.msg[0] != '\0', "'%s': %s", forms[i].text, kerr.msg);
    }
}

/* The real delisting: Tornado Cash is in the 2024 sdn.csv and gone from the
 * 2025 XML. Importing both as one source, the diff names its addresses. */
Test(watchlist, tornado_cash_delisting_in_diff, .timeout = 300)
{
    char *dir = temp_dir();
    wl_summary sum;
    cw_err err = {0};
    cr_assert_eq(import(dir, FMT_CSV, OFAC "sdn_2024-05-03.csv", NULL, "ofac-sdn", &sum, &err), CW_OK, "%s",
                 err.msg);
    hits h = lookup(dir, "0x12D66f87A04A9E220743712cE6d9bB1B5616B8Fc");
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.name[0], "TORNADO CASH");
    /* Blender.io: 11 XBT mentions in this file, the last one cut mid-address */
    h = lookup(dir, "3K35dyL85fR9ht7UgzPfd1gLRRXQtNTqE3");
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.name[0], "BLENDER.IO");
    cr_assert(strstr(sum.warnings, "remarks were cut") != NULL, "no comments file: the import says so: %s",
              sum.warnings);
    /* half an address is not stored, and is no address to look up */
    uint8_t key[WL_KEY_MAX];
    cr_assert_eq(wl_key_from_text("3F6bbvS1krsc1qR8FsbTDfYQyvkMm", key, NULL), 0);
    wl_form form;
    size_t kn = wl_key_of_text("3F6bbvS1krsc1qR8FsbTDfYQyvkMm", key, &form, NULL);
    cr_assert_eq(form, WL_FORM_BROKEN);
    cw_store *hs;
    cr_assert_eq(store_open(dir, 0, true, &hs, &err), CW_OK);
    store_txn *ht;
    cr_assert_eq(store_begin(hs, false, &ht, &err), CW_OK);
    bool listed = true;
    cr_assert_eq(wl_is_listed(ht, key, kn, &listed, &err), CW_OK, "%s", err.msg);
    cr_assert_not(listed, "half an address is not stored");
    store_abort(ht);
    store_close(hs);

    cr_assert_eq(import(dir, FMT_ADV, CW_SDN_XML, NULL, "ofac-sdn", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert(sum.had_previous);
    cr_assert_gt(sum.removed, 0);
    cr_assert_eq(lookup(dir, "0x12D66f87A04A9E220743712cE6d9bB1B5616B8Fc").n, 0, "delisted");
    cw_store *s;
    cr_assert_eq(store_open(dir, 0, true, &s, &err), CW_OK);
    store_txn *t;
    cr_assert_eq(store_begin(s, false, &t, &err), CW_OK);
    cw_span dv;
    cr_assert_eq(store_get(t, STORE_WL_DIFF, "ofac-sdn", 8, &dv, &err), CW_OK);
    json_t *diff = json_loadb((const char *)dv.p, dv.n, 0, NULL);
    cr_assert_not_null(diff);
    size_t i, tornado = 0;
    json_t *r;
    json_array_foreach(json_object_get(diff, "removed"), i, r) {
        if (strcasecmp(json_string_value(json_object_get(r, "address")), "0x12D66f87A04A9E220743712cE6d9bB1B5616B8Fc") == 0)
            tornado++;
    }
    cr_assert_eq(tornado, 1, "the diff's removed list names Tornado Cash's address");
    bool entity_removed = false;
    json_array_foreach(json_object_get(diff, "entities_removed"), i, r)
        entity_removed |= strcmp(json_string_value(json_object_get(r, "name")), "TORNADO CASH") == 0;
    cr_assert(entity_removed);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(diff, "current"), "published")), "2025-11-19");
    json_decref(diff);
    store_abort(t);
    store_close(s);
    rm_rf(dir);
    free(dir);
}

Test(watchlist, sdn_csv_remarks_continue_in_comments)
{
    char *dir = temp_dir();
    wl_summary with, without;
    cw_err err = {0};
    cr_assert_eq(import(dir, FMT_CSV, OFAC "sdn_subset.csv", OFAC "sdn_comments_subset.csv", "a", &with, &err), CW_OK,
                 "%s", err.msg);
    cr_assert_eq(import(dir, FMT_CSV, OFAC "sdn_subset.csv", NULL, "b", &without, &err), CW_OK, "%s", err.msg);
    cr_assert_gt(with.addresses, without.addresses, "the comments file adds addresses");
    /* 21 mentions in sdn_subset.csv, 11 more in the comments; SUEX's last
     * address in the CSV is cut mid-way and made whole by the join (without
     * the comments it is skipped and the import warns) */
    cr_assert_eq(without.addresses, 20, "the mention cut in half is skipped, not stored half");
    cr_assert(strstr(without.warnings, "1 remarks were cut") != NULL, "%s", without.warnings);
    cr_assert_eq(with.addresses, 32);
    cr_assert_eq(with.n_invalid, 0);
    cr_assert_str_empty(with.warnings);
    /* SUEX's ETH address is only in the continuation */
    hits h = lookup(dir, "0x2f389ce8bd8ff92de3402ffce4691d17fc4f6535");
    cr_assert_eq(h.n, 2, "listed by SUEX as ETH and as USDT");
    for (size_t i = 0; i < h.n; i++) {
        cr_assert_str_eq(h.name[i], "SUEX OTC, S.R.O.");
        cr_assert_str_eq(h.programs[i], "CYBER2");
    }
    /* multi-program cells: "CYBER2] [ELECTION-EO13848" */
    h = lookup(dir, "12udabs2TkX7NXCSj6KpqXfakjE52ZPLhz");
    if (h.n)
        cr_assert_str_eq(h.programs[0], "CYBER2,ELECTION-EO13848");
    rm_rf(dir);
    free(dir);
}

static char *write_file(const char *dir, const char *name, const char *content, size_t n)
{
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(content, 1, n, f), n);
    fclose(f);
    return path;
}

/* Hostile and malformed XML: a clear error, and the previous list stays. */
Test(watchlist, hostile_xml_leaves_previous_list)
{
    char *dir = temp_dir();
    wl_summary sum;
    cw_err err = {0};
    const char own[] = "chain,address,entity,program,note\nbitcoin,1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ,Kim,DPRK4,x\n";
    char *ownp = write_file(dir, "own.csv", own, sizeof own - 1);
    cr_assert_eq(import(dir, FMT_OWN, ownp, NULL, "ofac-sdn", &sum, &err), CW_OK, "%s", err.msg);
    struct { const char *name, *xml, *why; } cases[] = {
        {"laughs.xml",
         "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 "
         "\"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol3 "
         "\"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]><Sanctions>&lol3;</Sanctions>",
         "DTD"},
        {"xxe.xml",
         "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"http://127.0.0.1:9/secret\">]><Sanctions>&e;</Sanctions>",
         "DTD"},
        {"other.xml", "<?xml version=\"1.0\"?><rss><channel/></rss>", "root element is <rss>"},
        {"truncated.xml", "<?xml version=\"1.0\"?><Sanctions><ReferenceValueSets><FeatureTypeValues>", "line"},
        {"garbage.xml", "\x01\x02 not xml at all", "line"},
        {"empty.xml", "", "line"},
        {"nofeatures.xml", "<?xml version=\"1.0\"?><Sanctions></Sanctions>", "Digital Currency Address"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *p = write_file(dir, cases[i].name, cases[i].xml, strlen(cases[i].xml));
        cr_assert_neq(import(dir, FMT_ADV, p, NULL, "ofac-sdn", &sum, &err), CW_OK, "%s accepted", cases[i].name);
        cr_assert(strstr(err.msg, cases[i].why) != NULL, "%s: '%s' lacks '%s'", cases[i].name, err.msg, cases[i].why);
        cr_assert(strstr(err.msg, cases[i].name) != NULL, "%s: message names the file: %s", cases[i].name, err.msg);
        hits h = lookup(dir, "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ");
        cr_assert_eq(h.n, 1, "after %s the previous list is intact", cases[i].name);
        free(p);
    }
    free(ownp);
    rm_rf(dir);
    free(dir);
}

/* Own CSV: BOM, CRLF, quotes with commas and doubled quotes, every network. */
Test(watchlist, own_csv_formats_and_networks)
{
    char *dir = temp_dir();
    const char csv[] = "\xef\xbb\xbf"
                       "chain,address,entity,program,note\r\n"
                       "bitcoin,mqBXtoBQx88vMij3Hj8YM3RXDDvbrNfx9v,\"Staging, regtest\",TEST,\"said \"\"hi\"\"\"\r\n"
                       "bitcoin,bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0,\"Staging, regtest\",TEST,\r\n"
                       "ethereum,0x098b716b8aaf21512996dc57eb0615e2383e2f96,Own EVM,INTERNAL;DPRK3,\"multi\nline\"\r\n"
                       "monero,888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H,Own XMR,,\r\n"
                       "DOGE2,someaddress,New chain,,\r\n";
    char *p = write_file(dir, "own.csv", csv, sizeof csv - 1);
    wl_summary sum;
    cw_err err = {0};
    cr_assert_eq(import(dir, FMT_OWN, p, NULL, "own", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(sum.addresses, 5);
    cr_assert_eq(sum.n_new_tickers, 1, "DOGE2 is new: imported as text and named");
    hits h = lookup(dir, "mqBXtoBQx88vMij3Hj8YM3RXDDvbrNfx9v");
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.name[0], "Staging, regtest");
    cr_assert_eq(lookup(dir, "bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0").n, 1);
    /* m... is testnet's and regtest's: its key links to both SegWit forms */
    const char *segwit_forms[] = {"tb1qdgz0c5mlgsy03w97cgcvp2xma8meacs7kavwwt", "bcrt1qdgz0c5mlgsy03w97cgcvp2xma8meacs7554rez"};
    for (int i = 0; i < 2; i++) {
        h = lookup(dir, segwit_forms[i]);
        cr_assert_eq(h.n, 1, "%s", segwit_forms[i]);
        cr_assert(h.flags[0] & WL_REF_LINKED);
        cr_assert_str_eq(h.linked_from[0], "mqBXtoBQx88vMij3Hj8YM3RXDDvbrNfx9v");
    }
    h = lookup(dir, "0x098B716B8Aaf21512996dC57EB0615e2383E2f96");
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.programs[0], "INTERNAL,DPRK3");
    /* the Tron form of the same account is linked */
    h = lookup(dir, "TAqg8TXo8tmpaz7TwHS669Tgt8MPSWgoxB");
    cr_assert_eq(h.n, 1);
    cr_assert(h.flags[0] & WL_REF_LINKED);
    cr_assert_str_eq(h.linked_from[0], "0x098b716b8aaf21512996dc57eb0615e2383e2f96");
    cr_assert_eq(lookup(dir, "888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H").n, 1);
    cr_assert_eq(lookup(dir, "someaddress").n, 1);
    free(p);

    struct { const char *name, *csv, *why; } bad[] = {
        {"noheader.csv", "bitcoin,1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ,x,y,z\n", "header"},
        {"unterminated.csv", "chain,address,entity,program,note\nbitcoin,\"1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ,x\n",
         "line 2: a quoted field is not closed"},
        {"toomany.csv", "chain,address,entity,program,note\na,b,c,d,e,f,g\n", "line 2: 7 fields"},
        {"nul.csv", "chain,address,entity,program,note\nbit\0coin,x\n", "NUL"},
        {"empty.csv", "", "empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t n = strlen(bad[i].csv);
        if (strcmp(bad[i].name, "nul.csv") == 0)
            n = 45;
        char *bp = write_file(dir, bad[i].name, bad[i].csv, n);
        cr_assert_neq(import(dir, FMT_OWN, bp, NULL, "own", &sum, &err), CW_OK, "%s accepted", bad[i].name);
        cr_assert(strstr(err.msg, bad[i].why) != NULL, "%s: '%s' lacks '%s'", bad[i].name, err.msg, bad[i].why);
        cr_assert_eq(lookup(dir, "mqBXtoBQx88vMij3Hj8YM3RXDDvbrNfx9v").n, 1, "previous list intact after %s",
                     bad[i].name);
        free(bp);
    }
    /* an sdn.csv that is not one */
    char *bp = write_file(dir, "notsdn.csv", "a,b\n", 4);
    cr_assert_neq(import(dir, FMT_CSV, bp, NULL, "x", &sum, &err), CW_OK);
    cr_assert(strstr(err.msg, "12") != NULL, "%s", err.msg);
    free(bp);
    rm_rf(dir);
    free(dir);
}

/* SIGKILL at several moments of a real import through the CLI: afterwards
 * the store opens and holds either the whole previous list or the whole new
 * one, never a mix. */
Test(watchlist, killed_import_leaves_a_whole_list, .timeout = 300)
{
    char *dir = temp_dir();
    wl_summary sum;
    cw_err err = {0};
    const char own[] = "chain,address,entity,program,note\nbitcoin,1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH,Old,OLD,\n";
    char *ownp = write_file(dir, "own.csv", own, sizeof own - 1);
    cr_assert_eq(import(dir, FMT_OWN, ownp, NULL, "ofac-sdn", &sum, &err), CW_OK, "%s", err.msg);
    int old_seen = 0, new_seen = 0;
    for (int delay_ms = 50; delay_ms <= 1550; delay_ms += 250) {
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            int devnull = open("/dev/null", 1);
            dup2(devnull, 1);
            dup2(devnull, 2);
            execl(CW_BIN, CW_BIN, "watchlist", "import", "sdn-advanced", CW_SDN_XML, "--source", "ofac-sdn",
                  "--allow-shrink", "--datadir", dir, (char *)NULL);
            _exit(127);
        }
        struct timespec ts = {0, (long)delay_ms * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        bool old = lookup(dir, "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH").n == 1;
        bool new = lookup(dir, "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ").n == 1;
        cr_assert(old != new, "after a kill at %d ms: old list %d, new list %d", delay_ms, old, new);
        old_seen += old;
        new_seen += new;
        if (new) { /* completed before the kill: put the old list back for the next round */
            cr_assert_eq(import_shrink(dir, FMT_OWN, ownp, NULL, "ofac-sdn", 10, true, &sum, &err), CW_OK);
        }
    }
    cr_assert_gt(old_seen, 0, "at least one kill landed before the commit");
    free(ownp);
    rm_rf(dir);
    free(dir);
}

Test(watchlist, cli_lookup_exit_codes)
{
    char *dir = temp_dir();
    const char own[] = "chain,address,entity,program,note\nbitcoin,1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ,Kim,DPRK4,\n";
    char *p = write_file(dir, "own.csv", own, sizeof own - 1);
    char *out, *err;
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", p, "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "addresses   1 listed") != NULL, "%s", out);
    free(out);
    free(err);
    char *hit[] = {CW_BIN, "watchlist", "lookup", "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ", "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH",
                   "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(hit, NULL, 0, &out, &err), 0, "%s", err);
    json_t *j = json_loadb(out, strchr(out, '\n') - out, 0, NULL);
    cr_assert_not_null(j);
    cr_assert(json_is_true(json_object_get(j, "listed")));
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(j, "designations"), 0), "name")),
                     "Kim");
    json_decref(j);
    free(out);
    free(err);
    char *miss[] = {CW_BIN, "watchlist", "lookup", "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(miss, NULL, 0, &out, &err), 1);
    cr_assert(strstr(out, "\"listed\":false") != NULL, "%s", out);
    free(out);
    free(err);
    char *badarg[] = {CW_BIN, "watchlist", "lookup", " ", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(badarg, NULL, 0, &out, &err), 2);
    free(out);
    free(err);
    /* a typo in a checksummed form is bad input, not "not listed" */
    char *typo[] = {CW_BIN, "watchlist", "lookup", "0x098B716B8Aaf21512996dC57EB0615e2383E2F96", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(typo, NULL, 0, &out, &err), 2);
    cr_assert(strstr(err, "EIP-55") != NULL, "%s", err);
    free(out);
    free(err);
    /* no store: 3, never 1 ("not listed") */
    char *nostore[] = {CW_BIN, "watchlist", "lookup", "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ", "--datadir",
                       "/nonexistent/chainwatch", NULL};
    cr_assert_eq(run_cmd(nostore, NULL, 0, &out, &err), 3);
    cr_assert(strstr(err, "import a watchlist first") != NULL, "%s", err);
    free(out);
    free(err);
    /* a cut sdn.csv without its comments file is refused, naming the fix */
    char *cut[] = {CW_BIN, "watchlist", "import", "sdn-csv", OFAC "sdn_2024-05-03.csv", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(cut, NULL, 0, &out, &err), 2);
    cr_assert(strstr(err, "1,000-character limit") && strstr(err, "--comments"), "%s", err);
    free(out);
    free(err);
    char *cut2[] = {CW_BIN, "watchlist", "import", "sdn-csv", OFAC "sdn_2024-05-03.csv", "--allow-cut-remarks",
                    "--source", "old", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(cut2, NULL, 0, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "WARNING") && strstr(out, "remarks were cut"), "%s", out);
    free(out);
    free(err);
    char *diff[] = {CW_BIN, "watchlist", "diff", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(diff, NULL, 0, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "\"added\":[{\"address\":\"1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ\"") != NULL, "%s", out);
    free(out);
    free(err);
    char *exp[] = {CW_BIN, "watchlist", "export", "--format", "csv", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(exp, NULL, 0, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "XBT,1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ,Kim,DPRK4,") != NULL, "%s", out);
    free(out);
    free(err);
    /* a mistyped --source is refused (2), as diff refuses it: before, export
     * printed a header and no address, exit 0, an empty list read as whole */
    char *exp_src[] = {CW_BIN, "watchlist", "export", "--source", "old", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(exp_src, NULL, 0, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "XBT,125W5ek3DT6Zqy5S2iPt4FHQdNMCbZA3FU,\"WU, Huihui\",DPRK3,source=old ") != NULL, "%s", out);
    cr_assert(strstr(out, "source=ofac") == NULL, "only that source: %s", out);
    free(out);
    free(err);
    for (int f = 0; f < 2; f++) {
        char *typo[] = {CW_BIN, "watchlist", "export", "--format", f ? "json" : "csv", "--source", "olld", "--datadir",
                        dir, NULL};
        cr_assert_eq(run_cmd(typo, NULL, 0, &out, &err), 2, "%s", err);
        cr_assert(strstr(err, "chainwatch: watchlist export: no source 'olld' in ") != NULL, "%s", err);
        cr_assert_str_eq(out, "", "nothing exported");
        free(out);
        free(err);
    }
    free(p);
    rm_rf(dir);
    free(dir);
}

/* ---------- the shrink guard and element values, on the real list ---------- */

typedef struct {
    char **v;
    size_t n, cap;
    const char *source;
    bool linked;
} ref_set;

static void ref_set_add(void *ctx, const wl_ref *r)
{
    ref_set *set = ctx;
    if (strcmp(r->source, set->source) != 0 || ((r->flags & WL_REF_LINKED) != 0) != set->linked)
        return;
    if (set->n == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 1024;
        set->v = realloc(set->v, set->cap * sizeof *set->v);
        cr_assert_not_null(set->v);
    }
    char line[512];
    snprintf(line, sizeof line, "%s|%s|%s|%s|%u", r->listed, r->ticker, r->uid, r->chain, (unsigned)r->flags);
    set->v[set->n++] = strdup(line);
}

static int cmp_line(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every stored ref of `source` (listed ones, or key-linked ones), sorted. */
static ref_set refs_of(const char *datadir, const char *source, bool linked)
{
    cw_store *s;
    cw_err err = {0};
    cr_assert_eq(store_open(datadir, 0, true, &s, &err), CW_OK, "%s", err.msg);
    store_txn *t;
    cr_assert_eq(store_begin(s, false, &t, &err), CW_OK);
    ref_set set = {.source = source, .linked = linked};
    cr_assert_eq(wl_each_ref(t, ref_set_add, &set, &err), CW_OK);
    store_abort(t);
    store_close(s);
    qsort(set.v, set.n, sizeof *set.v, cmp_line);
    return set;
}

static void ref_set_free(ref_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        free(set->v[i]);
    free(set->v);
}

static void assert_same_refs(const char *dir, const char *a, const char *b)
{
    for (int linked = 0; linked < 2; linked++) {
        ref_set x = refs_of(dir, a, linked), y = refs_of(dir, b, linked);
        cr_assert_eq(x.n, y.n, "%s: %zu refs, %s: %zu (linked %d)", a, x.n, b, y.n, linked);
        for (size_t i = 0; i < x.n; i++)
            cr_assert_str_eq(x.v[i], y.v[i], "%s and %s differ (linked %d)", a, b, linked);
        ref_set_free(&x);
        ref_set_free(&y);
    }
}

typedef enum { DERIVE_WRAP, DERIVE_HIDE, DERIVE_UNICODE, DERIVE_ADDRESSES } derive_mode;

/* Unicode layout a copy from a web page or a word processor carries, put
 * before, inside and after an address: no-break, zero-width, em, narrow,
 * ideographic and mathematical spaces, ZWJ/ZWNJ, a BOM, a word joiner, a
 * soft hyphen, a line separator, bidi marks. */
static const char *const unicode_layout[][3] = {
    {"", "", "\xc2\xa0"},                                 /* U+00A0 */
    {"", "\xe2\x80\x8b", ""},                             /* U+200B */
    {"\xef\xbb\xbf", "", "\xe3\x80\x80"},                 /* U+FEFF, U+3000 */
    {"", "\xe2\x80\x8d\xe2\x80\x8c", ""},                 /* U+200D U+200C */
    {"\xe2\x80\x83", "\xe2\x81\x9f", "\xe2\x80\xaf"},     /* U+2003, U+205F, U+202F */
    {"\xe2\x80\x8e", "\xc2\xad\xe2\x80\xa8", "\xe2\x81\xa0"}, /* U+200E, U+00AD U+2028, U+2060 */
};

/* Writes a copy of the real SDN_ADVANCED.XML to dir/name, changing the
 * address element (<VersionDetail>) of digital currency features:
 * DERIVE_WRAP, all of them: their text split by a line break, indentation,
 * a comment and a CDATA section, its first character as a character
 * reference (what a re-wrapping editor or tool may do; the value is the
 * same); DERIVE_HIDE, the first `limit`: the element renamed (same length),
 * so the import no longer sees those addresses; DERIVE_UNICODE, all of
 * them: unicode_layout in turn around and inside the text. DERIVE_ADDRESSES
 * writes the texts alone, one a line, as the file has them. Returns how
 * many it changed (or wrote). */
static size_t derive_xml(const char *dir, const char *name, derive_mode mode, size_t limit)
{
    size_t n;
    char *s = read_text(CW_SDN_XML, &n);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *out = fopen(path, "wb");
    cr_assert_not_null(out);
    static const char def[] = "<FeatureType ID=\"", pre[] = "Digital Currency Address - ";
    static const char use[] = "<Feature ID=\"", attr[] = "FeatureTypeID=\"", vd[] = "<VersionDetail";
    int ids[64], nt = 0;
    size_t done = 0, copied = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '<')
            continue;
        if (at(s, n, i, def) && nt < 64) {
            size_t j = i;
            while (j < n && s[j] != '>')
                j++;
            if (at(s, n, j + 1, pre))
                ids[nt++] = atoi(s + i + sizeof def - 1);
            continue;
        }
        if (!at(s, n, i, use))
            continue;
        bool currency = false;
        for (size_t j = i; j < n && s[j] != '>'; j++)
            if (at(s, n, j, attr)) {
                int id = atoi(s + j + sizeof attr - 1);
                for (int t = 0; t < nt; t++)
                    currency |= ids[t] == id;
                break;
            }
        if (!currency || (mode == DERIVE_HIDE && done == limit))
            continue;
        size_t v = i;
        while (v < n && !at(s, n, v, vd))
            v++;
        cr_assert_lt(v, n);
        size_t open_end = v;
        while (s[open_end] != '>')
            open_end++;
        size_t close = open_end;
        while (s[close] != '<')
            close++;
        cr_assert(at(s, n, close, "</VersionDetail>"));
        if (mode == DERIVE_HIDE) {
            s[v + sizeof vd - 2] = 'X'; /* <VersionDetaiX ... </VersionDetaiX> */
            s[close + 14] = 'X';
        } else if (mode == DERIVE_ADDRESSES) {
            fprintf(out, "%.*s\n", (int)(close - open_end - 1), s + open_end + 1);
        } else if (mode == DERIVE_UNICODE) {
            const char *text = s + open_end + 1;
            const char *const *u = unicode_layout[done % (sizeof unicode_layout / sizeof *unicode_layout)];
            size_t len = close - open_end - 1, half = len / 2;
            fwrite(s + copied, 1, open_end + 1 - copied, out);
            fprintf(out, "%s%.*s%s%.*s%s", u[0], (int)half, text, u[1], (int)(len - half), text + half, u[2]);
            copied = close;
        } else {
            const char *text = s + open_end + 1;
            size_t len = close - open_end - 1, half = len / 2;
            cr_assert_gt(len, 2);
            fwrite(s + copied, 1, open_end + 1 - copied, out);
            fprintf(out, "\n            &#x%02x;%.*s<!-- wrapped by a mail client -->\n              <![CDATA[%.*s]]>\n"
                         "          ",
                    (unsigned char)text[0], (int)(half - 1), text + 1, (int)(len - half), text + half);
            copied = close;
        }
        done++;
        i = close;
    }
    if (mode != DERIVE_ADDRESSES)
        fwrite(s + copied, 1, n - copied, out);
    cr_assert_eq(fclose(out), 0);
    free(s);
    return done;
}

/* Kim Sang Man's six entries (SOURCES.md), decoded, not flagged. */
static void assert_kim_whole(const char *dir, const char *source)
{
    ref_set set = refs_of(dir, source, false);
    const char *want[] = {"0x97b1043abd9e6fc31681635166d430a458d14f9c|ETH|43377|evm|0",
                          "0xb6f5ec1a0a9cd1526536d3f0426c429529471f40|ETH|43377|evm|0",
                          "0xb6f5ec1a0a9cd1526536d3f0426c429529471f40|USDC|43377|evm|0",
                          "0xb6f5ec1a0a9cd1526536d3f0426c429529471f40|USDT|43377|evm|0",
                          "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ|XBT|43377|bitcoin|0",
                          "1FCNgfZWpYMeYhy9t18AAkTBu8AsdoAc1Z|XBT|43377|bitcoin|0"};
    size_t k = 0;
    for (size_t i = 0; i < set.n; i++)
        if (strstr(set.v[i], "|43377|")) {
            cr_assert_lt(k, 6, "%s: more than six entries: %s", source, set.v[i]);
            cr_assert_str_eq(set.v[i], want[k], "%s", source);
            k++;
        }
    cr_assert_eq(k, 6, "%s: %zu of Kim Sang Man's entries", source, k);
    ref_set_free(&set);
}

/* Re-indented (xmllint --format) and wrapped (line breaks, comments, CDATA,
 * a character reference inside every address): the same address set as
 * the original, all 761 features. Before, a wrapped address was stored as
 * flagged text (so screening it said allow) and a comment split it in two. */
Test(watchlist, sdn_advanced_layout_changes_no_address, .timeout = 300)
{
    char *dir = temp_dir();
    wl_summary sum;
    cw_err err = {0};
    cr_assert_eq(import(dir, FMT_ADV, CW_SDN_XML, NULL, "orig", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(sum.addresses, 761);
    assert_kim_whole(dir, "orig");

    char cmd[1024], fmt_path[512];
    snprintf(fmt_path, sizeof fmt_path, "%s/formatted.xml", dir);
    snprintf(cmd, sizeof cmd, "xmllint --format '%s' > '%s'", CW_SDN_XML, fmt_path);
    cr_assert_eq(system(cmd), 0, "xmllint (libxml2-utils) is installed");
    cr_assert_eq(import(dir, FMT_ADV, fmt_path, NULL, "formatted", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(sum.addresses, 761);
    cr_assert_eq(sum.n_invalid, 0, "%s", sum.invalid);
    assert_same_refs(dir, "orig", "formatted");
    assert_kim_whole(dir, "formatted");
    unlink(fmt_path);

    cr_assert_eq(derive_xml(dir, "wrapped.xml", DERIVE_WRAP, 0), 761);
    char wrapped[512];
    snprintf(wrapped, sizeof wrapped, "%s/wrapped.xml", dir);
    cr_assert_eq(import(dir, FMT_ADV, wrapped, NULL, "wrapped", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(sum.addresses, 761);
    cr_assert_eq(sum.n_invalid, 0, "%s", sum.invalid);
    assert_same_refs(dir, "orig", "wrapped");
    assert_kim_whole(dir, "wrapped");
    unlink(wrapped);
    rm_rf(dir);
    free(dir);
}

/* Unicode spaces and invisible format characters around and inside every
 * address of the real file are layout: the same address set as the
 * original, none flagged. Before, each was stored as flagged text, so the
 * address itself looked up "not listed" and screened "allow". */
Test(watchlist, sdn_advanced_unicode_layout_changes_no_address, .timeout = 300)
{
    char *dir = temp_dir();
    wl_summary sum;
    cw_err err = {0};
    cr_assert_eq(import(dir, FMT_ADV, CW_SDN_XML, NULL, "orig", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(derive_xml(dir, "unicode.xml", DERIVE_UNICODE, 0), 761);
    char path[512];
    snprintf(path, sizeof path, "%s/unicode.xml", dir);
    cr_assert_eq(import(dir, FMT_ADV, path, NULL, "unicode", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(sum.addresses, 761);
    cr_assert_eq(sum.n_invalid, 0, "%s", sum.invalid);
    cr_assert_eq(sum.text_kept, 45, "as the original: 45 kept as text");
    assert_same_refs(dir, "orig", "unicode");
    assert_kim_whole(dir, "unicode");
    unlink(path);
    rm_rf(dir);
    free(dir);
}

/* Every address text of the real list, read from the file by hand (761
 * features, SOURCES.md), looks up listed through `watchlist lookup -`:
 * no listed form of any chain (Litecoin, Monero, CashAddr, XRP, Solana,
 * Zcash, Dash, Verge, ...) is taken for a typo. */
Test(watchlist, every_address_of_the_real_list_looks_up_listed, .timeout = 300)
{
    char *dir = temp_dir();
    wl_summary sum;
    cw_err err = {0};
    cr_assert_eq(import(dir, FMT_ADV, CW_SDN_XML, NULL, "ofac-sdn", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(derive_xml(dir, "addresses.txt", DERIVE_ADDRESSES, 0), 761);
    char path[512];
    snprintf(path, sizeof path, "%s/addresses.txt", dir);
    size_t n;
    char *in = read_text(path, &n);
    char *out, *errs;
    char *argv[] = {CW_BIN, "watchlist", "lookup", "-", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(argv, (const uint8_t *)in, n, &out, &errs), 0, "%s", errs);
    cr_assert_str_eq(errs, "");
    size_t lines = 0, listed = 0;
    for (char *p = out, *e; (e = strchr(p, '\n')) != NULL; p = e + 1) {
        json_t *j = json_loadb(p, (size_t)(e - p), 0, NULL);
        cr_assert_not_null(j, "%.*s", (int)(e - p), p);
        lines++;
        listed += json_is_true(json_object_get(j, "listed"));
        cr_assert_eq(json_integer_value(json_object_get(j, "line")), (json_int_t)lines);
        json_decref(j);
    }
    cr_assert_eq(lines, 761);
    cr_assert_eq(listed, 761);
    free(in);
    free(out);
    free(errs);
    rm_rf(dir);
    free(dir);
}

static bool kim_listed(const char *dir)
{
    hits h = lookup(dir, "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ");
    return h.n == 1 && strcmp(h.uid[0], "43377") == 0;
}

static char *meta_sha(const char *dir, const char *source)
{
    cw_store *s;
    cw_err err = {0};
    cr_assert_eq(store_open(dir, 0, true, &s, &err), CW_OK);
    store_txn *t;
    cr_assert_eq(store_begin(s, false, &t, &err), CW_OK);
    cw_span mv;
    cr_assert_eq(store_get(t, STORE_WL_META, source, strlen(source), &mv, &err), CW_OK);
    json_t *m = json_loadb((const char *)mv.p, mv.n, 0, NULL);
    char *sha = strdup(json_string_value(json_object_get(m, "sha256")));
    json_decref(m);
    store_abort(t);
    store_close(s);
    return sha;
}

/* A file of OFAC's schema without addresses (an empty download, or OFAC's
 * non-SDN consolidated list, which shares schema and default source name),
 * a wrong list, a 20% cut: refused with the counts, the store unchanged.
 * A 5% change passes; --allow-shrink lets a real mass delisting through.
 * Before, each of these replaced the 760 designations and exited 0. */
Test(watchlist, shrink_guard_on_the_real_list, .timeout = 300)
{
    char *dir = temp_dir();
    wl_summary sum;
    cw_err err = {0};
    cr_assert_eq(import(dir, FMT_ADV, CW_SDN_XML, NULL, "ofac-sdn", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_not(sum.shrink_refused, "the first import is no shrink");
    char *sha = meta_sha(dir, "ofac-sdn");

    static const char consolidated[] =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Sanctions>\n  <DateOfIssue><Year>2025</Year><Month>11</Month>"
        "<Day>19</Day></DateOfIssue>\n  <ReferenceValueSets><FeatureTypeValues>\n    <FeatureType ID=\"344\">Digital "
        "Currency Address - XBT</FeatureType>\n  </FeatureTypeValues></ReferenceValueSets>\n  <DistinctParties>\n"
        "    <DistinctParty FixedRef=\"1\"><Profile ID=\"1\"/></DistinctParty>\n  </DistinctParties>\n</Sanctions>\n";
    char *cons = write_file(dir, "cons_advanced.xml", consolidated, sizeof consolidated - 1);
    cr_assert_eq(import(dir, FMT_ADV, cons, NULL, "ofac-sdn", &sum, &err), CW_ELIMIT, "accepted a list without addresses");
    cr_assert(sum.shrink_refused);
    cr_assert_eq(sum.shrink_previous, 760, "%zu", sum.shrink_previous);
    cr_assert_eq(sum.shrink_new, 0);
    cr_assert_eq(sum.removed, 760);
    cr_assert_float_eq(sum.shrink_pct, 100.0, 1e-9);
    cr_assert(strstr(err.msg, "previous 760 addresses, new 0, removed 760 (100.0%") && strstr(err.msg, "--allow-shrink"),
              "%s", err.msg);
    cr_assert(kim_listed(dir), "refused: the list is unchanged");
    char *sha2 = meta_sha(dir, "ofac-sdn");
    cr_assert_str_eq(sha2, sha, "provenance unchanged");
    free(sha2);

    /* 20% of the addresses gone: refused; 5%: a normal day's change. */
    size_t hidden = derive_xml(dir, "cut20.xml", DERIVE_HIDE, 152);
    cr_assert_eq(hidden, 152);
    char cut[512];
    snprintf(cut, sizeof cut, "%s/cut20.xml", dir);
    cr_assert_eq(import(dir, FMT_ADV, cut, NULL, "ofac-sdn", &sum, &err), CW_ELIMIT, "a 20%% cut was imported");
    cr_assert(sum.shrink_refused);
    cr_assert_eq(sum.shrink_previous, 760);
    cr_assert(sum.removed == 152 || sum.removed == 151, "%zu", sum.removed); /* one listing is there twice */
    cr_assert_eq(sum.shrink_new, 760 - sum.removed);
    cr_assert_gt(sum.shrink_pct, 19.8);
    cr_assert(strstr(err.msg, "more than the allowed share") != NULL, "%s", err.msg);
    cr_assert(kim_listed(dir));
    cr_assert_eq(import_shrink(dir, FMT_ADV, cut, NULL, "ofac-sdn", 25, false, &sum, &err), CW_OK,
                 "under a 25%% limit it passes: %s", err.msg);
    cr_assert_eq(import_shrink(dir, FMT_ADV, CW_SDN_XML, NULL, "ofac-sdn", 10, false, &sum, &err), CW_OK, "%s",
                 err.msg);
    cr_assert_eq(sum.removed, 0);
    unlink(cut);
    cr_assert_eq(derive_xml(dir, "cut5.xml", DERIVE_HIDE, 38), 38);
    snprintf(cut, sizeof cut, "%s/cut5.xml", dir);
    cr_assert_eq(import(dir, FMT_ADV, cut, NULL, "ofac-sdn", &sum, &err), CW_OK, "a 5%% change: %s", err.msg);
    cr_assert_not(sum.shrink_refused);
    cr_assert(sum.removed == 38 || sum.removed == 37, "%zu", sum.removed);
    cr_assert_lt(sum.shrink_pct, 5.1);
    unlink(cut);

    /* Through the CLI: exit 4, the counts and the diff; --allow-shrink goes through. */
    const char own[] = "chain,address,entity,program,note\nbitcoin,1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH,Other,X,\n";
    char *ownp = write_file(dir, "wrong.csv", own, sizeof own - 1);
    char *out, *errs;
    char *refuse[] = {CW_BIN, "watchlist", "import", "csv", ownp, "--source", "ofac-sdn", "--max-shrink", "100",
                      "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(refuse, NULL, 0, &out, &errs), 4, "%s", errs);
    cr_assert(strstr(out, "refused") && strstr(out, "new 1, removed "), "%s", out);
    cr_assert(strstr(out, "+ XBT 1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH uid Other") != NULL, "the diff is shown");
    cr_assert(strstr(errs, "it removes every address of the previous list") != NULL, "%s", errs);
    free(out), free(errs);
    cr_assert(kim_listed(dir));
    char *badpct[] = {CW_BIN, "watchlist", "import", "csv", ownp, "--max-shrink", "x", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(badpct, NULL, 0, &out, &errs), 2);
    free(out), free(errs);
    char *allow[] = {CW_BIN, "watchlist", "import", "csv", ownp, "--source", "ofac-sdn", "--allow-shrink",
                     "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(allow, NULL, 0, &out, &errs), 0, "%s", errs);
    cr_assert(strstr(out, "- XBT 1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ uid 43377") != NULL, "the diff is shown");
    free(out), free(errs);
    cr_assert_not(kim_listed(dir), "allowed: the new list replaced the old");

    /* No addresses at all is refused even as a first import, and passes when allowed. */
    cr_assert_eq(import(dir, FMT_ADV, cons, NULL, "fresh", &sum, &err), CW_ELIMIT);
    cr_assert(sum.shrink_refused && !sum.had_previous);
    cr_assert_eq(import_shrink(dir, FMT_ADV, cons, NULL, "fresh", 10, true, &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(sum.addresses, 0);
    free(ownp);
    free(cons);
    free(sha);
    rm_rf(dir);
    free(dir);
}

/* Element values in SDN_ADVANCED.XML: tables past 4,096 entries, values
 * too long to be an address, and shapes the schema does not have. */
Test(watchlist, sdn_advanced_values_whole_or_refused)
{
    char *dir = temp_dir();
    wl_summary sum;
    cw_err err = {0};
    /* 5,000 feature types before the digital currency one (the old tables stopped at 4,096). */
    size_t cap = 8u << 20, n = 0;
    char *x = malloc(cap);
    n += (size_t)snprintf(x + n, cap - n, "<?xml version=\"1.0\"?>\n<Sanctions>\n<ReferenceValueSets><FeatureTypeValues>\n");
    for (int i = 1; i <= 5000; i++)
        n += (size_t)snprintf(x + n, cap - n, "<FeatureType ID=\"%d\">Digital Currency Address - T%d</FeatureType>\n",
                              i, i);
    n += (size_t)snprintf(x + n, cap - n,
                          "<FeatureType ID=\"9999\">Digital Currency Address - XBT</FeatureType>\n"
                          "</FeatureTypeValues></ReferenceValueSets>\n<DistinctParties>\n"
                          "<DistinctParty FixedRef=\"43377\"><Profile ID=\"43377\"><Feature ID=\"1\" FeatureTypeID=\"9999\">"
                          "<FeatureVersion><VersionDetail>%%s</VersionDetail></FeatureVersion></Feature></Profile>"
                          "</DistinctParty>\n</DistinctParties>\n</Sanctions>\n");
    char *doc = malloc(cap + 8192);
    snprintf(doc, cap + 8192, x, "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ");
    char *p = write_file(dir, "many.xml", doc, strlen(doc));
    cr_assert_eq(import(dir, FMT_ADV, p, NULL, "s", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(sum.addresses, 1, "the feature type after the 4,096th is known");
    hits h = lookup(dir, "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ");
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.ticker[0], "XBT");
    cr_assert_eq(h.flags[0], 0);
    free(p);

    /* 200 characters: longer than any address, stored cut before; refused. */
    char long_addr[5000];
    memset(long_addr, 'a', 200);
    long_addr[200] = '\0';
    snprintf(doc, cap + 8192, x, long_addr);
    p = write_file(dir, "long.xml", doc, strlen(doc));
    cr_assert_eq(import(dir, FMT_ADV, p, NULL, "s", &sum, &err), CW_ELIMIT);
    cr_assert(strstr(err.msg, "200 characters") && strstr(err.msg, "over the 120"), "%s", err.msg);
    free(p);
    /* over 4 KiB: refused while reading, naming the element and line */
    memset(long_addr, 'b', 4200);
    long_addr[4200] = '\0';
    snprintf(doc, cap + 8192, x, long_addr);
    p = write_file(dir, "huge.xml", doc, strlen(doc));
    cr_assert_eq(import(dir, FMT_ADV, p, NULL, "s", &sum, &err), CW_ELIMIT);
    cr_assert(strstr(err.msg, "huge.xml: line 5007: the text of <VersionDetail> is over 4096 bytes"), "%s", err.msg);
    free(p);
    /* text beside an element inside an address: the schema has no mixed content */
    snprintf(doc, cap + 8192, x, "1D6gG9iKEhPitTcWRJ<b/>iniuj1jYM2hNeAfJ");
    p = write_file(dir, "mixed.xml", doc, strlen(doc));
    cr_assert_eq(import(dir, FMT_ADV, p, NULL, "s", &sum, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "<VersionDetail> holds both text and the element <b>"), "%s", err.msg);
    free(p);
    /* a party inside a party would end the outer one early */
    snprintf(doc, cap + 8192, x, "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ</VersionDetail></FeatureVersion></Feature>"
                                 "<DistinctParty FixedRef=\"2\"/><Feature FeatureTypeID=\"9999\"><FeatureVersion>"
                                 "<VersionDetail>1FCNgfZWpYMeYhy9t18AAkTBu8AsdoAc1Z");
    p = write_file(dir, "nested.xml", doc, strlen(doc));
    cr_assert_eq(import(dir, FMT_ADV, p, NULL, "s", &sum, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "a <DistinctParty> inside another <DistinctParty>"), "%s", err.msg);
    free(p);
    h = lookup(dir, "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ");
    cr_assert_eq(h.n, 1, "every refusal left the list as it was");
    free(doc);
    free(x);
    rm_rf(dir);
    free(dir);
}

/* A ticker of 20 characters in an own CSV and in sdn.csv remarks: kept
 * whole (before, cut to 15, and in remarks the rest read as the address). */
Test(watchlist, long_tickers_kept_whole)
{
    char *dir = temp_dir();
    const char own[] = "chain,address,entity,program,note\nNEWCHAINTOKEN2026ABC,addr-on-a-new-chain-1,Someone,X,\n";
    char *p = write_file(dir, "own.csv", own, sizeof own - 1);
    wl_summary sum;
    cw_err err = {0};
    cr_assert_eq(import(dir, FMT_OWN, p, NULL, "own", &sum, &err), CW_OK, "%s", err.msg);
    hits h = lookup(dir, "addr-on-a-new-chain-1");
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.ticker[0], "NEWCHAINTOKEN2026ABC");
    free(p);
    const char sdn[] = "123,\"SOMEONE\",-0- ,\"CYBER2\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Digital Currency Address - "
                       "NEWCHAINTOKEN2026ABC addr-on-a-new-chain-2; Digital Currency Address - XBT "
                       "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ.\"\n";
    p = write_file(dir, "sdn.csv", sdn, sizeof sdn - 1);
    cr_assert_eq(import(dir, FMT_CSV, p, NULL, "sdn", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(sum.addresses, 2);
    h = lookup(dir, "addr-on-a-new-chain-2");
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.ticker[0], "NEWCHAINTOKEN2026ABC");
    cr_assert_eq(lookup(dir, "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ").n, 1);
    free(p);
    rm_rf(dir);
    free(dir);
}

/* The fuzzer's finding (fuzz_wl_key): text past WL_TEXT_MAX, or 128..135
 * bytes once normalised, was refused with 0 and no reason, and texts of
 * 121..127 bytes were given a key. Every length is now either a key or a
 * refusal that says why. */
Test(watchlist, every_text_length_is_a_key_or_a_reason)
{
    char text[200];
    for (size_t n = 1; n < sizeof text; n++) {
        memset(text, 'A', n);
        text[n] = '\0';
        uint8_t key[WL_KEY_MAX];
        cw_err err = {0};
        size_t k = wl_key_from_text(text, key, &err);
        if (n > WL_TEXT_MAX)
            cr_expect_eq(k, 0, "%zu characters got a key", n);
        if (k == 0)
            cr_expect(err.msg[0] != '\0', "%zu characters refused without a reason", n);
    }
    /* the fuzzer's own input was 128 bytes, mostly invalid UTF-8 (0xc1) */
    memset(text, 0xc1, 128);
    text[0] = 'B', text[127] = 'C', text[128] = '\0';
    uint8_t key[WL_KEY_MAX];
    cw_err err = {0};
    cr_expect_eq(wl_key_from_text(text, key, &err), 0);
    cr_expect(err.msg[0] != '\0', "refused without a reason");
}
