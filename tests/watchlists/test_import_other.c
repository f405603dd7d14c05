/* The other designation formats: OFAC's classic sdn.xml and OpenSanctions
 * FollowTheMoney JSON lines, on small files written from real entries (Kim
 * Sang Man, OFAC uid 43377, DPRK4; Lazarus Group, uid 27307, DPRK3, as in
 * the 2025-11-19 SDN_ADVANCED.XML), cross-checked against that XML; and
 * malformed or hostile files, which must fail with the file and line named
 * and leave the previous import in place. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chains/hash.h"
#include "chains/hex.h"
#include "tests/support.h"
#include "watchlists/import.h"
#include "watchlists/store/store.h"
#include "watchlists/watchlist.h"

/* ---------- fixtures ---------- */

#define KIM_XBT_1 "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ"
#define KIM_XBT_2 "1FCNgfZWpYMeYhy9t18AAkTBu8AsdoAc1Z"
#define KIM_ETH_1 "0x97b1043abd9e6fc31681635166d430a458d14f9c"
#define KIM_ETH_2 "0xb6f5ec1a0a9cd1526536d3f0426c429529471f40" /* also listed as USDT and USDC */
#define LAZARUS_ETH_1 "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"
#define LAZARUS_ETH_2 "0xa0e1c89Ef1a489c9C7dE96311eD5Ce5D32c20E4B"

/* sdn.xml as OFAC writes it: namespace, pretty-printed, nested <uid>s in
 * ids and a.k.a.s, and an entry without addresses (AEROCARIBBEAN AIRLINES). */
static const char sdn_xml[] =
    "<?xml version=\"1.0\" standalone=\"yes\"?>\n"
    "<sdnList xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
    "xmlns=\"https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML\">\n"
    "  <publshInformation>\n"
    "    <Publish_Date>11/19/2025</Publish_Date>\n"
    "    <Record_Count>3</Record_Count>\n"
    "  </publshInformation>\n"
    "  <sdnEntry>\n"
    "    <uid>36</uid>\n"
    "    <lastName>AEROCARIBBEAN AIRLINES</lastName>\n"
    "    <sdnType>Entity</sdnType>\n"
    "    <programList>\n"
    "      <program>CUBA</program>\n"
    "    </programList>\n"
    "    <akaList>\n"
    "      <aka>\n"
    "        <uid>12</uid>\n"
    "        <type>a.k.a.</type>\n"
    "        <category>strong</category>\n"
    "        <lastName>AERO-CARIBBEAN</lastName>\n"
    "      </aka>\n"
    "    </akaList>\n"
    "  </sdnEntry>\n"
    "  <sdnEntry>\n"
    "    <uid>27307</uid>\n"
    "    <lastName>LAZARUS GROUP</lastName>\n"
    "    <sdnType>Entity</sdnType>\n"
    "    <programList>\n"
    "      <program>DPRK3</program>\n"
    "    </programList>\n"
    "    <idList>\n"
    "      <id>\n"
    "        <uid>62001</uid>\n"
    "        <idType>Digital Currency Address - ETH</idType>\n"
    "        <idNumber>" LAZARUS_ETH_1 "</idNumber>\n"
    "      </id>\n"
    "      <id>\n"
    "        <uid>62002</uid>\n"
    "        <idType>Digital Currency Address - ETH</idType>\n"
    "        <idNumber>" LAZARUS_ETH_2 "</idNumber>\n"
    "      </id>\n"
    "    </idList>\n"
    "    <akaList>\n"
    "      <aka>\n"
    "        <uid>21001</uid>\n"
    "        <type>a.k.a.</type>\n"
    "        <category>weak</category>\n"
    "        <lastName>HIDDEN COBRA</lastName>\n"
    "      </aka>\n"
    "      <aka>\n"
    "        <uid>21002</uid>\n"
    "        <type>a.k.a.</type>\n"
    "        <category>weak</category>\n"
    "        <lastName>GUARDIANS OF PEACE</lastName>\n"
    "      </aka>\n"
    "    </akaList>\n"
    "  </sdnEntry>\n"
    "  <sdnEntry>\n"
    "    <uid>43377</uid>\n"
    "    <firstName>Sang Man</firstName>\n"
    "    <lastName>KIM</lastName>\n"
    "    <sdnType>Individual</sdnType>\n"
    "    <programList>\n"
    "      <program>DPRK4</program>\n"
    "    </programList>\n"
    "    <idList>\n"
    "      <id>\n"
    "        <uid>62808</uid>\n"
    "        <idType>Gender</idType>\n"
    "        <idNumber>Male</idNumber>\n"
    "      </id>\n"
    "      <id>\n"
    "        <uid>62809</uid>\n"
    "        <idType>Digital Currency Address - XBT</idType>\n"
    "        <idNumber>" KIM_XBT_1 "</idNumber>\n"
    "      </id>\n"
    "      <id>\n"
    "        <uid>62810</uid>\n"
    "        <idType>Digital Currency Address - ETH</idType>\n"
    "        <idNumber>" KIM_ETH_1 "</idNumber>\n"
    "      </id>\n"
    "      <id>\n"
    "        <uid>62811</uid>\n"
    "        <idType>Digital Currency Address - ETH</idType>\n"
    "        <idNumber>" KIM_ETH_2 "</idNumber>\n"
    "      </id>\n"
    "      <id>\n"
    "        <uid>62812</uid>\n"
    "        <idType>Digital Currency Address - USDT</idType>\n"
    "        <idNumber>" KIM_ETH_2 "</idNumber>\n"
    "      </id>\n"
    "      <id>\n"
    "        <uid>62813</uid>\n"
    "        <idType>Digital Currency Address - USDC</idType>\n"
    "        <idNumber>" KIM_ETH_2 "</idNumber>\n"
    "      </id>\n"
    "      <id>\n"
    "        <uid>62814</uid>\n"
    "        <idType>Digital Currency Address - XBT</idType>\n"
    "        <idNumber>" KIM_XBT_2 "</idNumber>\n"
    "      </id>\n"
    "    </idList>\n"
    "    <akaList>\n"
    "      <aka>\n"
    "        <uid>64815</uid>\n"
    "        <type>a.k.a.</type>\n"
    "        <category>strong</category>\n"
    "        <lastName>KIM</lastName>\n"
    "        <firstName>Sangman</firstName>\n"
    "      </aka>\n"
    "    </akaList>\n"
    "    <dateOfBirthList>\n"
    "      <dateOfBirthItem>\n"
    "        <uid>60418</uid>\n"
    "        <dateOfBirth>25 Apr 1965</dateOfBirth>\n"
    "        <mainEntry>true</mainEntry>\n"
    "      </dateOfBirthItem>\n"
    "    </dateOfBirthList>\n"
    "  </sdnEntry>\n"
    "</sdnList>\n";

/* OpenSanctions lines: Kim Sang Man's record before his wallets (so a
 * second pass must find it), one wallet under three currencies, Lazarus
 * Group nested in its wallet, a wallet without a holder, a person no wallet
 * names, a Sanction entity and a blank line (both ignored). */
#define OS_KIM                                                                                                    \
    "{\"id\":\"NK-kimsangman\",\"caption\":\"Kim Sang Man\",\"schema\":\"Person\",\"properties\":{\"name\":[\"Kim " \
    "Sang Man\"],\"alias\":[\"Kim Sangman\",\"\\uae40\\uc0c1\\ub9cc\"],\"birthDate\":[\"1965-04-25\"],"          \
    "\"program\":[\"DPRK4\"],\"topics\":[\"sanction\"]},\"datasets\":[\"us_ofac_sdn\"],\"referents\":[\"ofac-"    \
    "43377\"],\"first_seen\":\"2023-05-24T00:00:00\",\"target\":true}"
#define OS_WALLET(id, key, currencies, holder)                                                                    \
    "{\"id\":\"" id "\",\"caption\":\"" key "\",\"schema\":\"CryptoWallet\",\"properties\":{\"publicKey\":[\"" key \
    "\"],\"currency\":[" currencies "],\"holder\":[" holder "],\"topics\":[\"sanction\"]},\"datasets\":"          \
    "[\"us_ofac_sdn\"],\"target\":true}"
#define OS_LAZARUS_NESTED                                                                                         \
    "{\"id\":\"NK-lazarusgroup\",\"caption\":\"Lazarus Group\",\"schema\":\"Organization\",\"properties\":"        \
    "{\"name\":[\"Lazarus Group\"],\"alias\":[\"Hidden Cobra\",\"Guardians of Peace\"],\"topics\":"               \
    "[\"sanction\",\"crime.cyber\"]},\"datasets\":[\"us_ofac_sdn\"]}"
#define OS_UNHELD                                                                                                 \
    "{\"id\":\"ofac-wallet-unheld\",\"caption\":\"" LAZARUS_ETH_2 "\",\"schema\":\"CryptoWallet\","              \
    "\"properties\":{\"publicKey\":[\"" LAZARUS_ETH_2 "\"]},\"datasets\":[\"us_ofac_sdn\"]}"
#define OS_AERO                                                                                                   \
    "{\"id\":\"NK-aerocaribbean\",\"caption\":\"Aerocaribbean Airlines\",\"schema\":\"Company\",\"properties\":"   \
    "{\"name\":[\"Aerocaribbean Airlines\"],\"program\":[\"CUBA\"]},\"datasets\":[\"us_ofac_sdn\"]}"
#define OS_SANCTION                                                                                               \
    "{\"id\":\"ofac-sanction-43377\",\"schema\":\"Sanction\",\"properties\":{\"entity\":[\"NK-kimsangman\"],"      \
    "\"program\":[\"DPRK4\"],\"startDate\":[\"2023-05-23\"]},\"datasets\":[\"us_ofac_sdn\"]}"

static const char *const os_wallet_lines[] = {
    OS_WALLET("ofac-wallet-kim-xbt-1", KIM_XBT_1, "\"XBT\"", "\"NK-kimsangman\""),
    OS_WALLET("ofac-wallet-kim-xbt-2", KIM_XBT_2, "\"XBT\"", "\"NK-kimsangman\""),
    OS_WALLET("ofac-wallet-kim-eth-1", KIM_ETH_1, "\"ETH\"", "\"NK-kimsangman\""),
    OS_WALLET("ofac-wallet-kim-eth-2", KIM_ETH_2, "\"ETH\",\"USDT\",\"USDC\"", "\"NK-kimsangman\""),
    OS_WALLET("ofac-wallet-lazarus", LAZARUS_ETH_1, "\"ETH\"", OS_LAZARUS_NESTED),
    OS_UNHELD,
};

/* ---------- helpers ---------- */

static char *temp_dir(void)
{
    char *d = strdup("/tmp/cw-imp-XXXXXX");
    cr_assert_not_null(mkdtemp(d));
    return d;
}

static void rm_rf(const char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    cr_assert_eq(system(cmd), 0);
}

static char *write_file(const char *dir, const char *name, const char *text, size_t n)
{
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(text, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
    return path;
}

static void append_line(char *text, size_t cap, size_t *n, const char *line)
{
    int w = snprintf(text + *n, cap - *n, "%s\n", line);
    cr_assert(w >= 0 && (size_t)w < cap - *n, "fixture buffer too small");
    *n += (size_t)w;
}

/* The OpenSanctions fixture, the holder before (true) or after its wallets. */
static char *write_opensanctions(const char *dir, bool holder_first)
{
    size_t cap = 16384, n = 0;
    char *text = malloc(cap);
    append_line(text, cap, &n, OS_AERO);
    if (holder_first)
        append_line(text, cap, &n, OS_KIM);
    append_line(text, cap, &n, "");
    for (size_t i = 0; i < sizeof os_wallet_lines / sizeof *os_wallet_lines; i++)
        append_line(text, cap, &n, os_wallet_lines[i]);
    append_line(text, cap, &n, OS_SANCTION);
    if (!holder_first)
        append_line(text, cap, &n, OS_KIM);
    char *path = write_file(dir, holder_first ? "holder-first.jsonl" : "holder-last.jsonl", text, n);
    free(text);
    return path;
}

typedef enum { FMT_SDN_XML, FMT_OPENSANCTIONS, FMT_SDN_ADVANCED } fmt;

/* Reads `path` as `source` and commits it; returns the first failing code. */
static cw_code import(const char *datadir, fmt f, const char *path, const char *source, wl_summary *sum,
                      cw_err *err)
{
    wl_import *imp = wl_import_new(source, f == FMT_SDN_XML ? "sdn-xml" : f == FMT_OPENSANCTIONS ? "opensanctions"
                                                                                                 : "sdn-advanced");
    cr_assert_not_null(imp);
    cw_code rc = f == FMT_SDN_XML           ? import_sdn_xml(path, imp, NULL, err)
                 : f == FMT_OPENSANCTIONS ? import_opensanctions(path, imp, NULL, err)
                                          : import_sdn_advanced(path, imp, NULL, err);
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

#define MAX_HITS 8

typedef struct {
    size_t n;
    char source[MAX_HITS][32], uid[MAX_HITS][64], ticker[MAX_HITS][16];
    char name[MAX_HITS][128], type[MAX_HITS][32], list[MAX_HITS][32];
    char programs[MAX_HITS][128], aliases[MAX_HITS][256];
    uint8_t flags[MAX_HITS];
    store_txn *t;
} hits;

static void join_strings(char *dst, size_t cap, json_t *array)
{
    dst[0] = '\0';
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v) {
        size_t used = strlen(dst);
        snprintf(dst + used, cap - used, "%s%s", i ? "|" : "", json_string_value(v));
    }
}

static void collect(void *ctx, const wl_ref *r)
{
    hits *h = ctx;
    cr_assert_lt(h->n, MAX_HITS);
    size_t i = h->n++;
    snprintf(h->source[i], sizeof h->source[i], "%s", r->source);
    snprintf(h->uid[i], sizeof h->uid[i], "%s", r->uid);
    snprintf(h->ticker[i], sizeof h->ticker[i], "%s", r->ticker);
    h->flags[i] = r->flags;
    cw_span ej;
    cw_err err = {0};
    cr_assert_eq(wl_entity_json(h->t, r->source, r->uid, &ej, &err), CW_OK, "entity %s/%s: %s", r->source, r->uid,
                 err.msg);
    json_t *e = json_loadb((const char *)ej.p, ej.n, 0, NULL);
    cr_assert_not_null(e);
    snprintf(h->name[i], sizeof h->name[i], "%s", json_string_value(json_object_get(e, "name")));
    snprintf(h->type[i], sizeof h->type[i], "%s", json_string_value(json_object_get(e, "type")));
    snprintf(h->list[i], sizeof h->list[i], "%s", json_string_value(json_object_get(e, "list")));
    join_strings(h->programs[i], sizeof h->programs[i], json_object_get(e, "programs"));
    join_strings(h->aliases[i], sizeof h->aliases[i], json_object_get(e, "aliases"));
    json_decref(e);
}

/* Every designation of an address, as a user would look it up. */
static hits lookup(const char *datadir, const char *text)
{
    cw_store *s;
    cw_err err = {0};
    cr_assert_eq(store_open(datadir, 0, true, &s, &err), CW_OK, "%s", err.msg);
    store_txn *t;
    cr_assert_eq(store_begin(s, false, &t, &err), CW_OK, "%s", err.msg);
    hits h = {.t = t};
    uint8_t key[WL_KEY_MAX];
    size_t kn = wl_key_from_text(text, key, NULL);
    cr_assert_gt(kn, 0, "%s", text);
    size_t count;
    cr_assert_eq(wl_lookup(t, key, kn, collect, &h, &count, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(count, h.n);
    store_abort(t);
    store_close(s);
    return h;
}

static bool entity_exists(const char *datadir, const char *source, const char *uid)
{
    cw_store *s;
    cw_err err = {0};
    cr_assert_eq(store_open(datadir, 0, true, &s, &err), CW_OK, "%s", err.msg);
    store_txn *t;
    cr_assert_eq(store_begin(s, false, &t, &err), CW_OK, "%s", err.msg);
    cw_span v;
    cw_code rc = wl_entity_json(t, source, uid, &v, NULL);
    store_abort(t);
    store_close(s);
    cr_assert(rc == CW_OK || rc == CW_ENOTFOUND, "%s", cw_code_name(rc));
    return rc == CW_OK;
}

/* The source's provenance record (caller json_decref()s). */
static json_t *meta(const char *datadir, const char *source)
{
    cw_store *s;
    cw_err err = {0};
    cr_assert_eq(store_open(datadir, 0, true, &s, &err), CW_OK, "%s", err.msg);
    store_txn *t;
    cr_assert_eq(store_begin(s, false, &t, &err), CW_OK, "%s", err.msg);
    cw_span v;
    cr_assert_eq(store_get(t, STORE_WL_META, source, strlen(source), &v, &err), CW_OK, "%s", err.msg);
    json_t *m = json_loadb((const char *)v.p, v.n, 0, NULL);
    store_abort(t);
    store_close(s);
    cr_assert_not_null(m);
    return m;
}

static void sha256_hex(const char *text, size_t n, char out[65])
{
    uint8_t h[32];
    cw_sha256(text, n, h);
    cw_hex_encode(h, 32, out);
}

static bool has_ticker(const hits *h, const char *ticker)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->ticker[i], ticker) == 0)
            return true;
    return false;
}

/* The message names the file and the line, "PATH: line N: ...". */
static void assert_names_file_and_line(const cw_err *err, const char *path, int line)
{
    char want[600];
    snprintf(want, sizeof want, "%s: line %d: ", path, line);
    cr_assert(strncmp(err->msg, want, strlen(want)) == 0, "expected \"%s...\", got \"%s\"", want, err->msg);
}

/* Kim Sang Man's six designations under `source`, all uid `uid`. */
static void assert_kim_listed(const char *datadir, const char *uid, const char *name, const char *programs)
{
    const char *single[] = {KIM_XBT_1, KIM_XBT_2, KIM_ETH_1};
    const char *tickers[] = {"XBT", "XBT", "ETH"};
    for (size_t i = 0; i < 3; i++) {
        hits h = lookup(datadir, single[i]);
        cr_assert_eq(h.n, 1, "%s: %zu designations", single[i], h.n);
        cr_assert_str_eq(h.uid[0], uid);
        cr_assert_str_eq(h.ticker[0], tickers[i]);
        cr_assert_str_eq(h.name[0], name);
        cr_assert_str_eq(h.programs[0], programs);
        cr_assert_str_eq(h.type[0], "individual");
    }
    hits h = lookup(datadir, KIM_ETH_2);
    cr_assert_eq(h.n, 3, "ETH, USDT and USDC: %zu", h.n);
    for (size_t i = 0; i < 3; i++)
        cr_assert_str_eq(h.uid[i], uid);
    cr_assert(has_ticker(&h, "ETH") && has_ticker(&h, "USDT") && has_ticker(&h, "USDC"));
}

/* ---------- sdn.xml ---------- */

Test(sdn_xml, kim_sang_man_and_lazarus_group)
{
    char *dir = temp_dir();
    char *path = write_file(dir, "sdn.xml", sdn_xml, sizeof sdn_xml - 1);
    wl_summary sum;
    cw_err err = {0};
    cr_assert_eq(import(dir, FMT_SDN_XML, path, "ofac-sdn", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(sum.addresses, 8, "6 of Kim Sang Man, 2 of Lazarus Group: %zu", sum.addresses);
    cr_assert_eq(sum.entities, 2, "the entry without addresses is no entity: %zu", sum.entities);
    cr_assert_eq(sum.n_invalid, 0, "%s", sum.invalid);

    assert_kim_listed(dir, "43377", "KIM, Sang Man", "DPRK4");
    hits h = lookup(dir, KIM_XBT_1);
    cr_assert_str_eq(h.list[0], "SDN");
    cr_assert_str_eq(h.aliases[0], "KIM, Sangman");

    h = lookup(dir, "0x098b716b8aaf21512996dc57eb0615e2383e2f96"); /* found whatever the case */
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.uid[0], "27307");
    cr_assert_str_eq(h.name[0], "LAZARUS GROUP");
    cr_assert_str_eq(h.type[0], "entity");
    cr_assert_str_eq(h.programs[0], "DPRK3");
    cr_assert_str_eq(h.aliases[0], "HIDDEN COBRA|GUARDIANS OF PEACE");
    cr_assert_eq(lookup(dir, LAZARUS_ETH_2).n, 1);
    cr_assert_not(entity_exists(dir, "ofac-sdn", "36"), "AEROCARIBBEAN AIRLINES has no address");
    cr_assert_not(entity_exists(dir, "ofac-sdn", "62809"), "an id's <uid> is not an entity");

    json_t *m = meta(dir, "ofac-sdn");
    cr_assert_str_eq(json_string_value(json_object_get(m, "published")), "2025-11-19");
    char sha[65];
    sha256_hex(sdn_xml, sizeof sdn_xml - 1, sha);
    cr_assert_str_eq(json_string_value(json_object_get(m, "sha256")), sha);
    cr_assert_str_eq(json_string_value(json_object_get(m, "file")), path);
    json_decref(m);
    free(path);
    rm_rf(dir);
    free(dir);
}

/* Imports the good sdn.xml as "ofac-sdn", then `bad` under the same source;
 * the bad one must fail naming its file and `line`, saying `why`, and the
 * good list stay. */
static void bad_sdn_xml_keeps_previous(const char *bad, size_t n, int line, const char *why)
{
    char *dir = temp_dir();
    char *good = write_file(dir, "sdn.xml", sdn_xml, sizeof sdn_xml - 1);
    char *path = write_file(dir, "bad-sdn.xml", bad, n);
    wl_summary sum;
    cw_err err = {0};
    cr_assert_eq(import(dir, FMT_SDN_XML, good, "ofac-sdn", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_neq(import(dir, FMT_SDN_XML, path, "ofac-sdn", &sum, &err), CW_OK, "accepted; expected \"%s\"", why);
    assert_names_file_and_line(&err, path, line);
    cr_assert(strstr(err.msg, why) != NULL, "expected \"%s\" in \"%s\"", why, err.msg);
    assert_kim_listed(dir, "43377", "KIM, Sang Man", "DPRK4");
    hits h = lookup(dir, LAZARUS_ETH_1);
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.uid[0], "27307");
    json_t *m = meta(dir, "ofac-sdn");
    cr_assert_str_eq(json_string_value(json_object_get(m, "file")), good, "provenance still names the good file");
    json_decref(m);
    free(good);
    free(path);
    rm_rf(dir);
    free(dir);
}

static int lines_in(const char *text, size_t n)
{
    int lines = 1;
    for (size_t i = 0; i < n; i++)
        lines += text[i] == '\n';
    return lines;
}

Test(sdn_xml, truncated_file_fails_and_keeps_previous)
{
    /* Cut inside Kim Sang Man's id list, as an interrupted download would. */
    const char *cut = strstr(sdn_xml, KIM_ETH_2);
    cr_assert_not_null(cut);
    size_t n = (size_t)(cut - sdn_xml) + 10;
    bad_sdn_xml_keeps_previous(sdn_xml, n, lines_in(sdn_xml, n), "the file ends inside <idNumber>: it is truncated");
}

Test(sdn_xml, doctype_billion_laughs_is_refused, .timeout = 20)
{
    static const char laughs[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE sdnList [\n"
        "  <!ENTITY lol \"lol\">\n"
        "  <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        "  <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        "  <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        "  <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        "  <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
        "  <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
        "  <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
        "  <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
        "  <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
        "]>\n"
        "<sdnList>\n"
        "  <sdnEntry><uid>1</uid><lastName>&lol9;</lastName><idList><id><idType>Digital Currency Address - "
        "XBT</idType><idNumber>" KIM_XBT_1 "</idNumber></id></idList></sdnEntry>\n"
        "</sdnList>\n";
    char *dir = temp_dir();
    char *path = write_file(dir, "laughs.xml", laughs, sizeof laughs - 1);
    wl_import *imp = wl_import_new("ofac-sdn", "sdn-xml");
    cw_err err = {0};
    cr_assert_eq(import_sdn_xml(path, imp, NULL, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "DOCTYPE") != NULL, "%s", err.msg);
    cr_assert_eq(wl_import_address_count(imp), 0);
    wl_import_free(imp);
    free(path);
    rm_rf(dir);
    free(dir);

    bad_sdn_xml_keeps_previous(laughs, sizeof laughs - 1, 2, "has a DTD (DOCTYPE)");
}

Test(sdn_xml, wrong_root_element_is_refused)
{
    static const char advanced[] =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        "<Sanctions xmlns=\"https://www.treasury.gov/ofac/DeltaFile/1.0\">\n"
        "  <DateOfIssue><Year>2025</Year><Month>11</Month><Day>19</Day></DateOfIssue>\n"
        "</Sanctions>\n";
    bad_sdn_xml_keeps_previous(advanced, sizeof advanced - 1, 2,
                               "not an OFAC sdn.xml file: the root element is <Sanctions>");
}

Test(sdn_xml, empty_file_is_refused)
{
    bad_sdn_xml_keeps_previous("", 0, 1, "no root element");
}

Test(sdn_xml, list_without_entries_is_refused)
{
    /* Importing it would replace the list with nothing. */
    static const char empty[] = "<?xml version=\"1.0\"?>\n<sdnList>\n  <publshInformation><Publish_Date>11/19/2025"
                                "</Publish_Date><Record_Count>0</Record_Count></publshInformation>\n</sdnList>\n";
    char *dir = temp_dir();
    char *path = write_file(dir, "empty.xml", empty, sizeof empty - 1);
    wl_import *imp = wl_import_new("ofac-sdn", "sdn-xml");
    cw_err err = {0};
    cr_assert_eq(import_sdn_xml(path, imp, NULL, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, path) && strstr(err.msg, "no <sdnEntry>"), "%s", err.msg);
    wl_import_free(imp);
    free(path);
    rm_rf(dir);
    free(dir);
}

Test(sdn_xml, missing_file_names_it)
{
    wl_import *imp = wl_import_new("ofac-sdn", "sdn-xml");
    cw_err err = {0};
    cr_assert_eq(import_sdn_xml("/nonexistent/sdn.xml", imp, NULL, &err), CW_EIO);
    cr_assert(strstr(err.msg, "/nonexistent/sdn.xml") != NULL, "%s", err.msg);
    wl_import_free(imp);
}

/* The classic file and SDN_ADVANCED.XML designate the same addresses of
 * Kim Sang Man and Lazarus Group under the same uids, tickers, programs
 * and types. (No .timeout: criterion 2.4 leaks in its runner when two
 * timed tests run at once, and ctest bounds the suite anyway.) */
Test(sdn_xml, agrees_with_sdn_advanced)
{
    char *dir = temp_dir();
    char *path = write_file(dir, "sdn.xml", sdn_xml, sizeof sdn_xml - 1);
    wl_summary sum;
    cw_err err = {0};
    cr_assert_eq(access(CW_SDN_XML, R_OK), 0, "%s: run through ctest, whose fixture unpacks it", CW_SDN_XML);
    cr_assert_eq(import(dir, FMT_SDN_ADVANCED, CW_SDN_XML, "advanced", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(import(dir, FMT_SDN_XML, path, "classic", &sum, &err), CW_OK, "%s", err.msg);
    const char *addrs[] = {KIM_XBT_1, KIM_XBT_2, KIM_ETH_1, KIM_ETH_2, LAZARUS_ETH_1};
    for (size_t a = 0; a < 5; a++) {
        hits h = lookup(dir, addrs[a]);
        size_t adv = 0, classic = 0;
        for (size_t i = 0; i < h.n; i++)
            if (!(h.flags[i] & WL_REF_LINKED))
                *(strcmp(h.source[i], "advanced") == 0 ? &adv : &classic) += 1;
        cr_assert_eq(adv, classic, "%s: %zu designations in the advanced file, %zu in the classic", addrs[a], adv,
                     classic);
        cr_assert_gt(classic, 0);
        for (size_t i = 0; i < h.n; i++) {
            if (h.flags[i] & WL_REF_LINKED)
                continue;
            cr_assert_str_eq(h.uid[i], a < 4 ? "43377" : "27307", "%s from %s", addrs[a], h.source[i]);
            bool twin = false;
            for (size_t j = 0; j < h.n; j++)
                twin |= j != i && !(h.flags[j] & WL_REF_LINKED) && strcmp(h.source[j], h.source[i]) != 0 &&
                        strcmp(h.ticker[j], h.ticker[i]) == 0 && strcmp(h.programs[j], h.programs[i]) == 0 &&
                        strcmp(h.type[j], h.type[i]) == 0;
            cr_assert(twin, "%s %s from %s has no equal in the other file", addrs[a], h.ticker[i], h.source[i]);
        }
    }
    free(path);
    rm_rf(dir);
    free(dir);
}

/* ---------- OpenSanctions ---------- */

static void check_opensanctions(bool holder_first)
{
    char *dir = temp_dir();
    char *path = write_opensanctions(dir, holder_first);
    wl_summary sum;
    cw_err err = {0};
    cr_assert_eq(import(dir, FMT_OPENSANCTIONS, path, "opensanctions", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(sum.addresses, 8, "Kim 6 (one key under 3 currencies), Lazarus 1, unheld 1: %zu", sum.addresses);
    cr_assert_eq(sum.entities, 3, "Kim, Lazarus Group, the unheld wallet: %zu", sum.entities);

    assert_kim_listed(dir, "NK-kimsangman", "Kim Sang Man", "DPRK4");
    hits h = lookup(dir, KIM_XBT_2);
    cr_assert_str_eq(h.list[0], "us_ofac_sdn");
    cr_assert_str_eq(h.aliases[0], "Kim Sangman|\xea\xb9\x80\xec\x83\x81\xeb\xa7\x8c");

    h = lookup(dir, LAZARUS_ETH_1);
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.uid[0], "NK-lazarusgroup", "the nested holder is the entity");
    cr_assert_str_eq(h.name[0], "Lazarus Group");
    cr_assert_str_eq(h.type[0], "entity");
    cr_assert_str_eq(h.ticker[0], "ETH");
    cr_assert_str_eq(h.programs[0], "us_ofac_sdn", "no program: the dataset stands in");
    cr_assert_str_eq(h.aliases[0], "Hidden Cobra|Guardians of Peace");

    h = lookup(dir, LAZARUS_ETH_2);
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.uid[0], "ofac-wallet-unheld", "a wallet without a holder is its own entity");
    cr_assert_str_eq(h.ticker[0], "UNKNOWN");
    cr_assert_str_eq(h.name[0], LAZARUS_ETH_2);
    cr_assert_str_eq(h.programs[0], "us_ofac_sdn");
    cr_assert(h.flags[0] & WL_REF_NEW_TICKER);

    cr_assert_not(entity_exists(dir, "opensanctions", "NK-aerocaribbean"), "no wallet names it");
    cr_assert_not(entity_exists(dir, "opensanctions", "ofac-wallet-kim-xbt-1"), "a held wallet is not an entity");
    json_t *m = meta(dir, "opensanctions");
    FILE *f = fopen(path, "rb");
    char text[16384];
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    char sha[65];
    sha256_hex(text, n, sha);
    cr_assert_str_eq(json_string_value(json_object_get(m, "sha256")), sha, "the sha256 of one reading of the file");
    json_decref(m);
    free(path);
    rm_rf(dir);
    free(dir);
}

Test(opensanctions, holder_before_its_wallets) { check_opensanctions(true); }
Test(opensanctions, holder_after_its_wallets) { check_opensanctions(false); }

/* Imports the good file, then `bad` under the same source: it must fail
 * naming the file and `line`, and the good list stay. */
static void bad_opensanctions_keeps_previous(const char *bad, int line, const char *what)
{
    char *dir = temp_dir();
    char *good = write_opensanctions(dir, true);
    char *path = write_file(dir, "bad.jsonl", bad, strlen(bad));
    wl_summary sum;
    cw_err err = {0};
    cr_assert_eq(import(dir, FMT_OPENSANCTIONS, good, "opensanctions", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(import(dir, FMT_OPENSANCTIONS, path, "opensanctions", &sum, &err), CW_EFORMAT, "%s: %s", what,
                 err.msg);
    assert_names_file_and_line(&err, path, line);
    assert_kim_listed(dir, "NK-kimsangman", "Kim Sang Man", "DPRK4");
    cr_assert_str_eq(lookup(dir, LAZARUS_ETH_1).uid[0], "NK-lazarusgroup");
    free(good);
    free(path);
    rm_rf(dir);
    free(dir);
}

Test(opensanctions, malformed_json_line_fails_and_keeps_previous)
{
    /* A wallet line cut short, then a good one: the file is refused whole. */
    const char *bad = OS_KIM "\n\n" "{\"id\":\"ofac-wallet-kim-xbt-1\",\"schema\":\"CryptoWallet\",\"properties\":"
                             "{\"publicKey\":[\"" KIM_XBT_1 "\"\n" OS_WALLET("w2", KIM_XBT_2, "\"XBT\"",
                                                                              "\"NK-kimsangman\"") "\n";
    bad_opensanctions_keeps_previous(bad, 3, "a cut JSON line");
}

Test(opensanctions, line_without_schema_is_refused)
{
    const char *bad = OS_WALLET("w1", KIM_XBT_1, "\"XBT\"", "\"NK-kimsangman\"") "\n[\"" KIM_XBT_2 "\"]\n";
    bad_opensanctions_keeps_previous(bad, 2, "a JSON array");
    const char *no_schema = OS_KIM "\n{\"id\":\"NK-x\",\"properties\":{}}\n";
    bad_opensanctions_keeps_previous(no_schema, 2, "an object without schema");
}

Test(opensanctions, malformed_line_message_carries_jansson_text)
{
    char *dir = temp_dir();
    char *path = write_file(dir, "bad.jsonl", "{\"schema\": }\n", 13);
    wl_import *imp = wl_import_new("opensanctions", "opensanctions");
    cw_err err = {0};
    cr_assert_eq(import_opensanctions(path, imp, NULL, &err), CW_EFORMAT);
    assert_names_file_and_line(&err, path, 1);
    cr_assert(strstr(err.msg, "unexpected token") != NULL, "jansson's own words: %s", err.msg);
    wl_import_free(imp);
    free(path);
    rm_rf(dir);
    free(dir);
}

Test(opensanctions, file_without_wallets_is_refused)
{
    char *dir = temp_dir();
    const char text[] = OS_KIM "\n" OS_AERO "\n";
    char *path = write_file(dir, "people.jsonl", text, sizeof text - 1);
    wl_import *imp = wl_import_new("opensanctions", "opensanctions");
    cw_err err = {0};
    cr_assert_eq(import_opensanctions(path, imp, NULL, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, path) && strstr(err.msg, "no CryptoWallet"), "%s", err.msg);
    cr_assert_eq(wl_import_address_count(imp), 0);
    wl_import_free(imp);
    free(path);
    rm_rf(dir);
    free(dir);
}

/* ---------- nesting and whitespace in sdn.xml ---------- */

/* An entry inside Kim Sang Man's: before, its start reset the outer entry
 * and Kim's six addresses vanished from an import that exited 0. */
Test(sdn_xml, nested_entry_is_refused)
{
    const char *end = strstr(strstr(sdn_xml, "<uid>43377</uid>"), "  </sdnEntry>");
    cr_assert_not_null(end);
    size_t ins = (size_t)(end - sdn_xml);
    static const char inner[] = "    <sdnEntry>\n      <uid>99</uid>\n      <lastName>INNER</lastName>\n    </sdnEntry>\n";
    size_t n = sizeof sdn_xml - 1 + sizeof inner - 1;
    char *bad = malloc(n + 1);
    memcpy(bad, sdn_xml, ins);
    memcpy(bad + ins, inner, sizeof inner - 1);
    memcpy(bad + ins + sizeof inner - 1, sdn_xml + ins, sizeof sdn_xml - 1 - ins);
    bad[n] = '\0';
    bad_sdn_xml_keeps_previous(bad, n, lines_in(sdn_xml, ins), "an <sdnEntry> inside another <sdnEntry>");
    free(bad);
}

/* 3,000 bytes of line breaks and indentation around an address, and a
 * comment inside it: the value is the address. Before, the 2 KiB text
 * buffer filled with whitespace and the address was dropped (exit 0). */
Test(sdn_xml, address_after_2kb_of_whitespace_is_read)
{
    const char *at = strstr(sdn_xml, KIM_XBT_1);
    cr_assert_not_null(at);
    size_t pre = (size_t)(at - sdn_xml), n = 0;
    char *doc = malloc(sizeof sdn_xml + 4096);
    memcpy(doc, sdn_xml, pre);
    n = pre;
    for (int i = 0; i < 3000; i++)
        doc[n++] = i % 60 == 59 ? '\n' : ' ';
    n += (size_t)sprintf(doc + n, "%.10s<!-- wrapped -->\n   %s\n        ", KIM_XBT_1, KIM_XBT_1 + 10);
    size_t rest = sizeof sdn_xml - 1 - pre - strlen(KIM_XBT_1);
    memcpy(doc + n, at + strlen(KIM_XBT_1), rest);
    n += rest;
    char *dir = temp_dir();
    char *path = write_file(dir, "spaced.xml", doc, n);
    wl_summary sum;
    cw_err err = {0};
    cr_assert_eq(import(dir, FMT_SDN_XML, path, "ofac-sdn", &sum, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(sum.addresses, 8, "%zu", sum.addresses);
    cr_assert_eq(sum.n_invalid, 0, "%s", sum.invalid);
    assert_kim_listed(dir, "43377", "KIM, Sang Man", "DPRK4");
    hits h = lookup(dir, KIM_XBT_1);
    cr_assert_eq(h.flags[0], 0, "decoded, not kept as flagged text");
    free(path);
    free(doc);
    rm_rf(dir);
    free(dir);
}

/* ---------- line-based importers: bounded memory ---------- */

typedef enum { LINE_OWN_CSV, LINE_SDN_CSV, LINE_OPENSANCTIONS } line_fmt;

static cw_code import_lines(line_fmt f, const char *path, cw_err *err)
{
    wl_import *imp = wl_import_new("x", "x");
    cw_code rc = f == LINE_OWN_CSV   ? import_own_csv(path, imp, NULL, err)
                 : f == LINE_SDN_CSV ? import_sdn_csv(path, NULL, true, imp, NULL, err)
                                     : import_opensanctions(path, imp, NULL, err);
    wl_import_free(imp);
    return rc;
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* /dev/zero and an endless single line (a FIFO fed without a newline: a
 * 1 GB one-line file without the disk) end at once with an error naming
 * line 1, and memory stays near the 1 MiB line limit. Before, each
 * importer grew its line buffer until memory ran out. */
Test(line_import, dev_zero_and_endless_line_end_with_an_error, .timeout = 60)
{
    char *dir = temp_dir();
    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s/endless", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    signal(SIGPIPE, SIG_IGN);
    for (line_fmt f = LINE_OWN_CSV; f <= LINE_OPENSANCTIONS; f++) {
        long before = max_rss_kb();
        cw_err err = {0};
        cr_assert_neq(import_lines(f, "/dev/zero", &err), CW_OK);
        cr_assert(strstr(err.msg, "/dev/zero: line 1: a NUL byte"), "format %d: %s", f, err.msg);

        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            int fd = open(fifo, O_WRONLY);
            char block[65536];
            memset(block, 'a', sizeof block);
            for (long sent = 0; fd >= 0 && sent < (1L << 30); sent += (long)sizeof block)
                if (write(fd, block, sizeof block) < 0)
                    break; /* the reader gave up: EPIPE */
            _exit(0);
        }
        cr_assert_eq(import_lines(f, fifo, &err), CW_ELIMIT, "format %d: %s", f, err.msg);
        cr_assert(strstr(err.msg, "endless: line 1: longer than 1048576 bytes"), "format %d: %s", f, err.msg);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        long grown = max_rss_kb() - before;
        cr_assert_lt(grown, 16 * 1024, "format %d: peak memory grew %ld KiB reading an endless line", f, grown);
    }
    rm_rf(dir);
    free(dir);
}
