/*
 * import_csv.c: the CSV designation files: OFAC's classic sdn.csv (with
 * sdn_comments.csv) and a company's own list.
 *
 * One CSV reader (csv.h) serves both (RFC 4180: quoted fields, doubled quotes,
 * CRLF, a UTF-8 BOM, newlines inside quotes). OFAC's sdn.csv has no header,
 * writes "-0-" for empty, and puts addresses in the Remarks column as
 * "Digital Currency Address - XBT 1ABC...; alt. Digital Currency Address -
 * ETH 0x...". Remarks longer than OFAC's limit are cut and continue in
 * sdn_comments.csv under the same entity number, mid-word: the two are
 * joined before addresses are read.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "import.h"
#include "import_file.h"

/* Trims layout (wl_layout_len: ASCII and Unicode spaces, invisible format
 * characters); OFAC's "-0-" (null) becomes "". */
static char *clean(char *s)
{
    size_t k;
    while ((k = wl_layout_len(s, NULL)) > 0)
        s += k;
    size_t n = strlen(s), end = 0;
    for (size_t i = 0; i < n;) {
        if ((k = wl_layout_len(s + i, NULL)) > 0) {
            i += k;
            continue;
        }
        end = ++i;
    }
    s[end] = '\0';
    if (strcmp(s, "-0-") == 0)
        s[0] = '\0';
    return s;
}

/* Every "Digital Currency Address - TICKER ADDRESS" in a remark. */
static size_t addresses_in_remarks(wl_import *imp, const char *uid, const char *remarks)
{
    static const char marker[] = "Digital Currency Address - ";
    size_t n = 0;
    for (const char *p = strstr(remarks, marker); p; p = strstr(p, marker)) {
        p += sizeof marker - 1;
        const char *tstart = p;
        while (isupper((unsigned char)*p) || isdigit((unsigned char)*p))
            p++;
        size_t t = (size_t)(p - tstart);
        bool space;
        size_t k;
        while ((k = wl_layout_len(p, &space)) > 0 && space)
            p += k;
        const char *start = p;
        while (*p && *p != ';' && !((k = wl_layout_len(p, &space)) > 0 && space))
            p++;
        size_t len = (size_t)(p - start);
        while (len && start[len - 1] == '.')
            len--; /* the sentence's period, not the address's */
        if (t == 0 || len == 0)
            continue;
        /* Whole, however long: wl_import_commit refuses what no address can be. */
        char *ticker = strndup(tstart, t), *addr = strndup(start, len);
        if (ticker && addr)
            wl_import_address(imp, uid, ticker, addr);
        else
            wl_import_address(imp, uid, "", NULL); /* marks the import failed */
        free(ticker);
        free(addr);
        n++;
    }
    return n;
}

typedef struct {
    char *ent;
    char *text;
} comment;

static int cmp_comment(const void *a, const void *b)
{
    return strcmp(((const comment *)a)->ent, ((const comment *)b)->ent);
}

static void free_comments(comment *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].ent);
        free(c[i].text);
    }
    free(c);
}

static cw_code load_comments(const char *path, comment **out, size_t *n_out, cw_err *err)
{
    csv_reader r;
    cw_code rc = csv_open(&r, path, NULL, NULL, err);
    if (rc)
        return rc;
    comment *v = NULL;
    size_t n = 0, cap = 0;
    int got;
    while ((got = csv_next(&r, err)) == 1) {
        if (r.n_fields < 2)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            comment *nv = realloc(v, cap * sizeof *nv);
            if (nv == NULL) {
                got = -1;
                cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", path);
                break;
            }
            v = nv;
        }
        v[n].ent = strdup(clean(r.field[0]));
        v[n].text = strdup(r.field[1]); /* not trimmed: it continues a cut word */
        if (!v[n].ent || !v[n].text) {
            n++;
            got = -1;
            cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", path);
            break;
        }
        n++;
    }
    char sha[65];
    csv_close(&r, sha);
    if (got < 0) {
        free_comments(v, n);
        return err ? err->code : CW_EFORMAT;
    }
    qsort(v, n, sizeof *v, cmp_comment);
    *out = v;
    *n_out = n;
    return CW_OK;
}

#define OFAC_REMARKS_LIMIT 1000

cw_code import_sdn_csv(const char *path, const char *comments_path, bool allow_cut, wl_import *imp,
                       const import_progress *p, cw_err *err)
{
    comment *comments = NULL;
    size_t n_comments = 0;
    cw_code rc;
    if (comments_path && (rc = load_comments(comments_path, &comments, &n_comments, err)))
        return rc;
    csv_reader r;
    if ((rc = csv_open(&r, path, p, imp, err))) {
        free_comments(comments, n_comments);
        return rc;
    }
    int got;
    size_t records = 0, cut = 0, cut_dropped = 0;
    char *joined = NULL;
    while ((got = csv_next(&r, err)) == 1) {
        if (r.n_fields == 1 && r.field[0][0] == '\0')
            continue; /* blank line; OFAC ends the file with a ^Z line on some days */
        if (r.n_fields == 1 && (unsigned char)r.field[0][0] == 0x1a)
            continue;
        if (r.n_fields != 12) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                            "%s: line %zu: %d fields, an OFAC sdn.csv row has 12 (ent_num, SDN_Name, SDN_Type, "
                            "Program, ..., Remarks)",
                            path, r.line_no, r.n_fields);
            break;
        }
        char *ent = clean(r.field[0]);
        if (ent[0] == '\0' || strspn(ent, "0123456789") != strlen(ent)) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %zu: entity number '%.20s' is not a number", path,
                            r.line_no, ent);
            break;
        }
        records++;
        const char *remarks = r.field[11];
        comment key = {ent, NULL};
        comment *more = n_comments ? bsearch(&key, comments, n_comments, sizeof *comments, cmp_comment) : NULL;
        if (more) {
            size_t n = strlen(remarks) + strlen(more->text) + 1;
            char *j = realloc(joined, n);
            if (j == NULL) {
                rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
                break;
            }
            joined = j;
            snprintf(joined, n, "%s%s", remarks, more->text);
            remarks = joined;
        }
        char *own_copy = NULL;
        if (!more && strlen(remarks) >= OFAC_REMARKS_LIMIT) {
            cut++;
            if (!allow_cut) {
                rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                                "%s: line %zu: the remarks of entity %s are cut at OFAC's 1,000-character limit and "
                                "continue in sdn_comments.csv: pass --comments sdn_comments.csv (or "
                                "--allow-cut-remarks to import what is here)",
                                path, r.line_no, ent);
                break;
            }
            /* The last mention may run into the cut: drop it rather than store half an address. */
            const char *last = NULL;
            for (const char *q = strstr(remarks, "Digital Currency Address - "); q;
                 q = strstr(q + 1, "Digital Currency Address - "))
                last = q;
            if (last && !strchr(last, ';')) {
                own_copy = strndup(remarks, (size_t)(last - remarks));
                if (own_copy) {
                    remarks = own_copy;
                    cut_dropped++;
                }
            }
        }
        if (!strstr(remarks, "Digital Currency Address - ")) {
            free(own_copy);
            continue;
        }
        wl_entity *e = wl_import_entity(imp, ent);
        if (e == NULL)
            break;
        wl_entity_set_name(e, clean(r.field[1]));
        const char *type = clean(r.field[2]);
        wl_entity_set_type(e, type[0] ? type : "entity");
        wl_entity_set_list(e, "SDN");
        /* programs: "CYBER2] [ELECTION-EO13848" */
        char *prog = clean(r.field[3]);
        for (char *save = NULL, *tok = strtok_r(prog, "[]", &save); tok; tok = strtok_r(NULL, "[]", &save)) {
            char *t = clean(tok);
            if (t[0])
                wl_entity_add_program(e, t);
        }
        addresses_in_remarks(imp, ent, remarks);
        free(own_copy);
    }
    free(joined);
    if (rc == CW_OK && cut) {
        char w[200];
        snprintf(w, sizeof w,
                 "%zu remarks were cut at OFAC's 1,000-character limit and no sdn_comments.csv was given: addresses "
                 "after each cut are missing (%zu cut mentions skipped)",
                 cut, cut_dropped);
        wl_import_warn(imp, w);
    }
    if (got < 0)
        rc = err ? err->code : CW_EFORMAT;
    if (rc == CW_OK && records == 0)
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: no SDN rows: not an OFAC sdn.csv file", path);
    if (rc == CW_OK && !wl_import_ok(imp))
        rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", path);
    char sha[65];
    csv_close(&r, sha);
    free_comments(comments, n_comments);
    if (rc == CW_OK)
        wl_import_set_file(imp, path, sha);
    return rc;
}

/* The chain column of an own list: chain names or tickers. */
static const char *own_ticker(const char *chain)
{
    static const struct { const char *name, *ticker; } names[] = {
        {"bitcoin", "XBT"}, {"btc", "XBT"}, {"ethereum", "ETH"}, {"evm", "ETH"}, {"tron", "TRX"},
        {"litecoin", "LTC"}, {"dogecoin", "DOGE"}, {"bitcoin-cash", "BCH"}, {"monero", "XMR"},
        {"solana", "SOL"}, {"ripple", "XRP"}, {"zcash", "ZEC"}, {"dash", "DASH"},
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcasecmp(chain, names[i].name) == 0)
            return names[i].ticker;
    return NULL;
}

cw_code import_own_csv(const char *path, wl_import *imp, const import_progress *p, cw_err *err)
{
    csv_reader r;
    cw_code rc = csv_open(&r, path, p, imp, err);
    if (rc)
        return rc;
    int got = csv_next(&r, err);
    if (got == 1) {
        static const char *const cols[] = {"chain", "address", "entity", "program", "note"};
        bool ok = r.n_fields >= 2;
        for (int i = 0; ok && i < r.n_fields && i < 5; i++)
            ok = strcasecmp(clean(r.field[i]), cols[i]) == 0;
        if (!ok)
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                            "%s: line 1: the header must be chain,address,entity,program,note", path);
    } else if (got == 0) {
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: empty file: expected the header chain,address,entity,program,note",
                        path);
    } else {
        rc = err && err->code ? err->code : CW_EFORMAT; /* csv_next said why */
    }
    while (rc == CW_OK && (got = csv_next(&r, err)) == 1) {
        if (r.n_fields == 1 && clean(r.field[0])[0] == '\0')
            continue;
        if (r.n_fields < 2 || r.n_fields > 5) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %zu: %d fields, expected 2 to 5", path, r.line_no,
                            r.n_fields);
            break;
        }
        char *chain = clean(r.field[0]);
        const char *addr = clean(r.field[1]);
        const char *entity = r.n_fields > 2 ? clean(r.field[2]) : "";
        char *programs = r.n_fields > 3 ? clean(r.field[3]) : (char *)"";
        if (chain[0] == '\0' || addr[0] == '\0') {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %zu: chain and address are required", path,
                            r.line_no);
            break;
        }
        const char *ticker = own_ticker(chain);
        if (ticker == NULL) { /* a ticker: upper-cased in place, whole */
            for (char *c = chain; *c; c++)
                *c = (char)toupper((unsigned char)*c);
            ticker = chain;
        }
        const char *uid = entity[0] ? entity : "unnamed";
        wl_entity *e = wl_import_entity(imp, uid);
        if (e == NULL)
            break;
        wl_entity_set_name(e, uid);
        wl_entity_set_list(e, "internal");
        for (char *save = NULL, *tok = strtok_r(programs, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
            wl_entity_add_program(e, clean(tok));
        wl_import_address(imp, uid, ticker, addr);
    }
    if (got < 0)
        rc = err ? err->code : CW_EFORMAT;
    if (rc == CW_OK && wl_import_address_count(imp) == 0)
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                        "%s: no addresses after the header: an empty list would remove the source's every entry",
                        path);
    if (rc == CW_OK && !wl_import_ok(imp))
        rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", path);
    char sha[65];
    csv_close(&r, sha);
    if (rc == CW_OK)
        wl_import_set_file(imp, path, sha);
    return rc;
}
