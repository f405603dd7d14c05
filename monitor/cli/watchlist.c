/* `chainwatch watchlist import|stats|lookup|diff|export`. */
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "chains/addr.h"
#include "args.h"
#include "cli.h"
#include "chains/json.h"
#include "watchlists/keylink.h"
#include "watchlists/store_check.h"
#include "watchlists/import.h"
#include "watchlists/store/store.h"
#include "watchlists/watchlist.h"

static const char usage[] =
    "usage: chainwatch watchlist import FORMAT FILE [--source S] [--comments FILE]\n"
    "                                   [--max-shrink PCT] [--allow-shrink]\n"
    "       chainwatch watchlist stats\n"
    "       chainwatch watchlist lookup ADDR...|-\n"
    "       chainwatch watchlist diff [--source S]\n"
    "       chainwatch watchlist export [--format csv|json] [--source S]\n"
    "       chainwatch watchlist check\n"
    "  every verb takes --datadir D (default ~/.chainwatch) and --map-size SIZE\n"
    "  (bytes, or with a suffix k, M, G, T: powers of 1024, so 1G is 1073741824)\n"
    "\n"
    "FORMAT: sdn-advanced (OFAC SDN_ADVANCED.XML), sdn-xml (OFAC sdn.xml),\n"
    "        sdn-csv (OFAC sdn.csv with --comments sdn_comments.csv; remarks over 1,000\n"
    "        characters are cut in sdn.csv, so without it the import is refused unless\n"
    "        --allow-cut-remarks),\n"
    "        opensanctions (FollowTheMoney JSON lines), csv (chain,address,entity,program,note)\n"
    "Re-importing a source replaces its list in one transaction; 'diff' shows what\n"
    "the last import added and removed. Addresses chainwatch cannot decode yet are\n"
    "kept as text, addresses that fail their checksum are kept and flagged, and\n"
    "tickers never seen before are kept and named: nothing listed is dropped.\n"
    "An import that would remove more than PCT percent (--max-shrink, default 10;\n"
    "10, 10% or 0.5, nothing else)\n"
    "of the source's addresses, or all of them, or that has no address at all, is\n"
    "refused with exit code 4 and the counts, the store unchanged (a wrong or empty\n"
    "file must not empty a list); the diff is printed either way. --allow-shrink\n"
    "imports it anyway (a real mass delisting). The first import of a source\n"
    "removes nothing. import exits 0 imported; 1 the file could not be read or\n"
    "memory ran out; 2 a usage error or a file that does not parse; 3 a store\n"
    "error (the store could not be opened, read or written: a full disk or map\n"
    "included), nothing imported; 4 refused by the shrink guard.\n"
    "\n"
    "lookup prints one JSON object per address and exits 0 if any is listed,\n"
    "1 if none is, 2 on bad input, 3 if the watchlist could not be read or the\n"
    "answers could not be written (never read a 3 as \"not listed\"). Text with\n"
    "spaces or characters no address uses, and text shaped like a Bitcoin, EVM\n"
    "or Tron address that fails its checksum or carries something along (a\n"
    "payment URI, punctuation at an end, 0x dropped) is bad input, unless a list\n"
    "holds it as written. 'lookup -' reads addresses from standard input, one a line (a \"\\r\\n\"\n"
    "ending is taken as \"\\n\"), any number, and answers each line as it is read,\n"
    "in order, with \"line\": N; a bad line is named on stderr and answered\n"
    "{\"address\",\"error\",\"listed\":null,\"line\"}, the others still answered\n"
    "(exit 2); a store error stops it (exit 3, nothing further answered).\n"
    "\n"
    "check reads every record of every database of the store (watchlist, chain\n"
    "state, clusters, exposure, alerts) and decodes it as chainwatch would; it\n"
    "prints one line per damage found (database, key as hex, what is wrong) and\n"
    "exits 3 if there is any, else prints the records per database and exits 0.\n"
    "stats, diff, export and check exit 3, like lookup, when the store cannot be read.\n"
    "diff and export exit 2 for a --source never imported (a typo exports nothing).\n"
    "\n"
    "Options:\n";

typedef struct {
    const char *datadir;
    size_t map_size;
    const char *source;
    const char *comments;
    const char *format;
    int format_index;
    bool allow_cut;
    bool allow_shrink;
    double max_shrink;
    const char *positional[64];
    int n_pos;
    char datadir_buf[4096];
} wl_opts;

/* LMDB needs a few pages per database; past 16 TiB is a typo, not a plan */
#define MAP_SIZE_MIN ((uint64_t)1 << 20)
#define MAP_SIZE_MAX ((uint64_t)1 << 44)

static const char *const export_formats[] = {"csv", "json", NULL};

static int parse_opts(int argc, char **argv, wl_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_shrink = WL_MAX_SHRINK_DEFAULT;
    uint32_t max_shrink_ppm = 0;
    uint64_t map_size = 0;
    cli_arg args[] = {
        {"datadir", ARG_PATH, &o->datadir, .metavar = "D", .help = "default ~/.chainwatch"},
        {"map-size", ARG_SIZE, &map_size, (int64_t)MAP_SIZE_MIN, (int64_t)MAP_SIZE_MAX, .metavar = "SIZE",
         .help = "the store's map size (bytes, or with k, M, G, T)"},
        {"source", ARG_STRING, &o->source, .metavar = "S", .help = "the list's source name (import, diff, export)"},
        {"comments", ARG_PATH, &o->comments, .metavar = "FILE", .help = "sdn_comments.csv, with sdn-csv"},
        {"format", ARG_ENUM, &o->format_index, .choices = export_formats, .metavar = "csv|json",
         .help = "export's format (default csv)"},
        {"max-shrink", ARG_PERCENT, &max_shrink_ppm, .metavar = "PCT",
         .help = "refuse an import removing more than PCT percent (default\n10; 10, 10% or 0.5)"},
        {"allow-shrink", ARG_FLAG, &o->allow_shrink, .help = "import even past --max-shrink"},
        {"allow-cut-remarks", ARG_FLAG, &o->allow_cut, .help = "sdn-csv without --comments"},
        {0},
    };
    if (argv == NULL) { /* --help */
        cli_args_usage(stdout, args);
        return CLI_EXIT_OK;
    }
    if (cli_args_parse("watchlist", args, argc, argv, o->positional, 64, &o->n_pos))
        return CLI_EXIT_USAGE;
    if (cli_args_given(args, "max-shrink"))
        o->max_shrink = max_shrink_ppm / 1e4;
    if (cli_args_given(args, "map-size"))
        o->map_size = (size_t)map_size;
    if (cli_args_given(args, "format"))
        o->format = export_formats[o->format_index];
    if (o->datadir == NULL) {
        if (!store_default_datadir(o->datadir_buf, sizeof o->datadir_buf)) {
            fprintf(stderr, "chainwatch: watchlist: HOME is not set: pass --datadir\n");
            return CLI_EXIT_USAGE;
        }
        o->datadir = o->datadir_buf;
    }
    return CLI_EXIT_OK;
}

/* ---- import ---- */

typedef struct {
    const char *file;
    bool tty;
    double start;
} progress_ctx;

static void show_progress(void *ctx, uint64_t done, uint64_t total, size_t addresses)
{
    progress_ctx *p = ctx;
    if (!p->tty)
        return;
    if (total)
        fprintf(stderr, "\r  reading %s: %3.0f%%  %.1f of %.1f MB  %zu addresses ", p->file, 100.0 * done / total,
                done / 1e6, total / 1e6, addresses);
    else
        fprintf(stderr, "\r  reading %s: %.1f MB  %zu addresses ", p->file, done / 1e6, addresses);
    fflush(stderr);
}

static const char *default_source(const char *format)
{
    if (strncmp(format, "sdn-", 4) == 0)
        return "ofac-sdn";
    if (strcmp(format, "opensanctions") == 0)
        return "opensanctions";
    return "own";
}

static void print_shrink(const wl_summary *sum)
{
    printf("  shrink      previous %zu, new %zu, removed %zu (%.1f%%, limit %.1f%%)%s\n", sum->shrink_previous,
           sum->shrink_new, sum->removed, sum->shrink_pct, sum->shrink_max_pct,
           sum->shrink_refused ? ": REFUSED (--allow-shrink to import it anyway)" : "");
}

/* The diff as lines: "+ TICKER ADDRESS uid U" / "- ...". */
static void print_diff(const char *diff_json)
{
    json_t *d = diff_json ? json_loads(diff_json, 0, NULL) : NULL;
    if (d == NULL) {
        printf("  diff        unavailable\n");
        return;
    }
    const char *names[2] = {"added", "removed"};
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(d, names[k]), i, r)
            printf("  %c %s %s uid %s\n", k ? '-' : '+', json_string_value(json_object_get(r, "ticker")),
                   json_string_value(json_object_get(r, "address")), json_string_value(json_object_get(r, "uid")));
    }
    json_decref(d);
}

static int cmd_import(wl_opts *o)
{
    if (o->n_pos != 3) {
        fprintf(stderr, "chainwatch: watchlist import: expected FORMAT FILE\n");
        return CLI_EXIT_USAGE;
    }
    const char *format = o->positional[1], *file = o->positional[2];
    static const char *const formats[] = {"sdn-advanced", "sdn-xml", "sdn-csv", "opensanctions", "csv"};
    bool known = false;
    for (size_t i = 0; i < 5; i++)
        known |= strcmp(format, formats[i]) == 0;
    if (!known) {
        fprintf(stderr, "chainwatch: watchlist import: unknown format '%s' (sdn-advanced, sdn-xml, sdn-csv, "
                        "opensanctions, csv)\n", format);
        return CLI_EXIT_USAGE;
    }
    const char *source = o->source ? o->source : default_source(format);
    wl_import *imp = wl_import_new(source, format);
    if (imp == NULL)
        return cli_fail("watchlist import",
                        &(cw_err){.code = CW_ENOMEM, .offset = CW_NO_OFFSET, .msg = "out of memory"});
    wl_import_set_shrink(imp, o->max_shrink, o->allow_shrink);
    progress_ctx pc = {file, isatty(2) == 1, cli_seconds()};
    import_progress prog = {show_progress, &pc};
    cw_err err = {0};
    cw_code rc;
    if (strcmp(format, "sdn-advanced") == 0)
        rc = import_sdn_advanced(file, imp, &prog, &err);
    else if (strcmp(format, "sdn-xml") == 0)
        rc = import_sdn_xml(file, imp, &prog, &err);
    else if (strcmp(format, "sdn-csv") == 0)
        rc = import_sdn_csv(file, o->comments, o->allow_cut, imp, &prog, &err);
    else if (strcmp(format, "opensanctions") == 0)
        rc = import_opensanctions(file, imp, &prog, &err);
    else {
        wl_import_allow_test_networks(imp, true);
        rc = import_own_csv(file, imp, &prog, &err);
    }
    if (pc.tty)
        fprintf(stderr, "\r%*s\r", 79, "");
    if (rc) {
        wl_import_free(imp);
        fprintf(stderr, "chainwatch: watchlist import: nothing imported, the previous list is unchanged\n");
        return cli_fail("watchlist import", &err);
    }
    double parsed = cli_seconds();
    cw_store *s;
    if ((rc = store_open(o->datadir, o->map_size, false, &s, &err))) {
        wl_import_free(imp);
        return cli_fail("watchlist import", &err);
    }
    wl_summary sum;
    rc = wl_import_commit(s, imp, &sum, &err);
    store_close(s);
    if (rc && sum.shrink_refused) {
        printf("refused to import %s as source '%s' into %s: the store is unchanged\n", file, source, o->datadir);
        print_shrink(&sum);
        print_diff(wl_import_diff_json(imp));
        wl_import_free(imp);
        fprintf(stderr, "chainwatch: watchlist import: nothing imported, the previous list is unchanged\n");
        cli_fail("watchlist import", &err);
        return CLI_EXIT_SHRINK;
    }
    if (rc) {
        wl_import_free(imp);
        fprintf(stderr, "chainwatch: watchlist import: nothing imported, the previous list is unchanged\n");
        return cli_fail("watchlist import", &err);
    }
    double end = cli_seconds();
    printf("imported %s as source '%s' into %s\n", file, source, o->datadir);
    printf("  addresses   %zu listed (%zu kept as text), %zu key-linked forms added\n", sum.addresses,
           sum.text_kept, sum.linked);
    printf("  entities    %zu\n", sum.entities);
    printf("  by chain    %s\n", sum.by_chain[0] ? sum.by_chain : "-");
    printf("  by ticker   %s\n", sum.by_ticker[0] ? sum.by_ticker : "-");
    if (sum.n_new_tickers)
        printf("  NEW tickers %s (imported as text: chainwatch has no mapping for them yet)\n", sum.new_tickers);
    if (sum.n_invalid)
        printf("  invalid     %zu, imported as text and flagged: %s\n", sum.n_invalid, sum.invalid);
    if (sum.n_mismatched)
        printf("  mismatched  %zu, imported under the chain of their form: %s\n", sum.n_mismatched, sum.mismatched);
    if (sum.warnings[0])
        printf("  WARNING     %s\n", sum.warnings);
    if (sum.had_previous)
        printf("  changes     %zu addresses added, %zu removed; %zu entities added, %zu removed "
               "(chainwatch watchlist diff --source %s)\n",
               sum.added, sum.removed, sum.entities_added, sum.entities_removed, source);
    else
        printf("  changes     first import of this source\n");
    if (sum.had_previous) {
        print_shrink(&sum);
        print_diff(wl_import_diff_json(imp));
    }
    wl_import_free(imp);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("  time        %.2f s (read %.2f s, store %.2f s), peak memory %.1f MB\n", end - pc.start,
           parsed - pc.start, end - parsed, ru.ru_maxrss / 1024.0);
    return CLI_EXIT_OK;
}

/* ---- lookup ---- */

/* The read verbs (lookup, stats, diff, export, check): a store that could
 * not be read is exit 3, "could not check", whatever the error: never 1
 * ("not listed") or 0. */
static int unchecked(const char *verb, const cw_err *err)
{
    cli_fail(verb, err);
    return CLI_EXIT_UNCHECKED;
}

/* An entity record that could not be read (not one that is absent: a
 * designation may outlive its entity's record) fails the verb. */
static json_t *entity_of(store_txn *t, const wl_ref *r, cw_code *rc, cw_err *err)
{
    cw_span ej;
    cw_code got = wl_entity_json(t, r->source, r->uid, &ej, *rc ? NULL : err);
    if (got == CW_OK)
        return json_loadb((const char *)ej.p, ej.n, 0, NULL);
    if (got != CW_ENOTFOUND && *rc == CW_OK)
        *rc = got;
    return NULL;
}

typedef struct {
    cw_json *j;
    store_txn *t;
    cw_code rc; /* a store error reading an entity */
    cw_err *err;
} lookup_ctx;

static void write_ref(void *ctx, const wl_ref *r)
{
    lookup_ctx *c = ctx;
    cw_json *j = c->j;
    cw_json_obj_begin(j);
    cw_json_key(j, "source");
    cw_json_str(j, r->source);
    cw_json_key(j, "uid");
    cw_json_str(j, r->uid);
    json_t *e = entity_of(c->t, r, &c->rc, c->err);
    cw_json_key(j, "name");
    cw_json_str(j, e ? json_string_value(json_object_get(e, "name")) : NULL);
    cw_json_key(j, "type");
    cw_json_str(j, e ? json_string_value(json_object_get(e, "type")) : NULL);
    cw_json_key(j, "programs");
    cw_json_arr_begin(j);
    size_t i;
    json_t *p;
    json_array_foreach(e ? json_object_get(e, "programs") : NULL, i, p) cw_json_str(j, json_string_value(p));
    cw_json_arr_end(j);
    cw_json_key(j, "list");
    cw_json_str(j, e ? json_string_value(json_object_get(e, "list")) : NULL);
    cw_json_key(j, "designated");
    cw_json_str(j, e ? json_string_value(json_object_get(e, "designated")) : NULL);
    json_decref(e);
    cw_json_key(j, "ticker");
    cw_json_str(j, r->ticker);
    cw_json_key(j, "chain");
    cw_json_str(j, r->chain);
    cw_json_key(j, "listed_as");
    cw_json_str(j, r->listed);
    cw_json_key(j, "linked_from");
    cw_json_str(j, r->linked_from);
    if (r->reveal_txid) { /* a link a revealed key made (watchlists/keylink.h): where the key was seen */
        char txid[67];
        keylink_txid_text((cw_chain)r->reveal_chain, r->reveal_txid, txid);
        cw_json_key(j, "revealed_in");
        cw_json_obj_begin(j);
        cw_json_key(j, "chain");
        cw_json_str(j, cw_chain_name((cw_chain)r->reveal_chain));
        cw_json_key(j, "txid");
        cw_json_str(j, txid);
        cw_json_key(j, "height");
        cw_json_i64(j, r->reveal_height);
        cw_json_obj_end(j);
    }
    cw_json_key(j, "flags");
    cw_json_arr_begin(j);
    if (r->flags & WL_REF_LINKED) cw_json_str(j, "key_linked");
    if (r->flags & WL_REF_INVALID) cw_json_str(j, "invalid_checksum");
    if (r->flags & WL_REF_MISMATCH) cw_json_str(j, "ticker_mismatch");
    if (r->flags & WL_REF_TEXT) cw_json_str(j, "text_only");
    if (r->flags & WL_REF_NEW_TICKER) cw_json_str(j, "new_ticker");
    cw_json_arr_end(j);
    cw_json_obj_end(j);
}

enum { LOOKUP_DONE, LOOKUP_BAD, LOOKUP_STORE };

/* Looks up one address and appends its JSON line to out (with "line" when
 * line > 0). LOOKUP_BAD: not an address, why says so (nothing appended);
 * LOOKUP_STORE: the store failed, err says so. */
static int lookup_one(store_txn *t, const char *text, unsigned long line, cw_buf *out, bool *listed, char *why,
                      size_t why_cap, cw_err *err)
{
    /* wl_key_of_text decides what the text is: no address is refused here;
     * a broken Bitcoin/EVM/Tron shape is answered only when a list holds
     * it as written (flagged), else it is a typo, never "not listed" */
    uint8_t key[WL_KEY_MAX];
    cw_err kerr = {0};
    wl_form form;
    size_t kn = wl_key_of_text(text, key, &form, &kerr);
    if (kn == 0) {
        snprintf(why, why_cap, "%s", kerr.msg);
        return LOOKUP_BAD;
    }
    cw_addr parsed;
    bool decoded = form == WL_FORM_DECODED && cw_addr_parse(text, CW_NET_ANY, &parsed, NULL) == CW_OK;
    size_t mark = out->n;
    cw_json j;
    cw_json_init(&j, out);
    cw_json_obj_begin(&j);
    cw_json_key(&j, "address");
    cw_json_str(&j, text);
    cw_json_key(&j, "chain");
    cw_json_str(&j, decoded ? cw_chain_name((cw_chain)parsed.chain) : NULL);
    cw_json_key(&j, "designations");
    cw_json_arr_begin(&j);
    lookup_ctx lc = {&j, t, CW_OK, err};
    size_t count = 0;
    if (wl_lookup(t, key, kn, write_ref, &lc, &count, err) || lc.rc)
        return LOOKUP_STORE; /* an entity unreadable too: the caller prints nothing of this answer */
    /* a listed text with a bad checksum is answered (the list holds it, flagged); any other is a typo */
    if (count == 0 && form == WL_FORM_BROKEN) {
        out->n = mark;
        snprintf(why, why_cap, "%s", kerr.msg);
        return LOOKUP_BAD;
    }
    cw_json_arr_end(&j);
    cw_json_key(&j, "listed");
    cw_json_bool(&j, count > 0);
    if (line) {
        cw_json_key(&j, "line");
        cw_json_u64(&j, line);
    }
    cw_json_obj_end(&j);
    cw_json_newline(&j);
    if (!cw_json_ok(&j))
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory"), LOOKUP_STORE;
    *listed = count > 0;
    return LOOKUP_DONE;
}

/* Standard input, read by us rather than stdio: before waiting for more
 * input the answers so far are flushed, so a program that writes one
 * address and waits for its answer gets it, and a file still goes through
 * in big writes. */
typedef struct {
    int fd, err;
    bool eof;
    size_t pos, len;
    char buf[1 << 16];
} line_reader;

static int next_byte(line_reader *r)
{
    if (r->pos == r->len) {
        if (r->eof)
            return EOF;
        fflush(stdout); /* a failure stays on the stream: cli_out_ok reports it */
        ssize_t n;
        do
            n = read(r->fd, r->buf, sizeof r->buf);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            r->eof = true;
            r->err = n < 0 ? errno : 0;
            return EOF;
        }
        r->pos = 0;
        r->len = (size_t)n;
    }
    return (unsigned char)r->buf[r->pos++];
}

/* One line into buf (cap bytes, NUL-terminated, the "\n" or "\r\n" ending
 * dropped); a longer line is read to its end and cut (*long_line set):
 * memory stays the same whatever the input. False at the end. */
static bool read_line(line_reader *in, char *buf, size_t cap, bool *long_line)
{
    size_t n = 0;
    int c;
    bool any = false;
    *long_line = false;
    while ((c = next_byte(in)) != EOF) {
        any = true;
        if (c == '\n')
            break;
        if (n + 1 < cap)
            buf[n++] = c ? (char)c : '\x01'; /* a NUL must not end the text early: kept as a control character */
        else
            *long_line = true;
    }
    if (!*long_line && c == '\n' && n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    return any;
}

/* `lookup -`: one address a line, each answered as it is read. */
static int lookup_stream(store_txn *t, int fd, bool *any_bad, bool *any_listed)
{
    static line_reader in; /* 64 KiB: not on the stack */
    memset(&in, 0, offsetof(line_reader, buf));
    in.fd = fd;
    const char *verb = "watchlist lookup";
    char text[WL_TEXT_MAX + 2], why[CW_ERR_MSG_MAX + 64];
    unsigned long line = 0;
    bool long_line;
    cw_buf out = CW_BUF_INIT;
    cw_err err = {0};
    int rc = CLI_EXIT_OK;
    while (read_line(&in, text, sizeof text, &long_line)) {
        line++;
        out.n = 0;
        bool listed = false;
        int r;
        if (long_line) {
            snprintf(why, sizeof why, "longer than any address (over %d characters)", WL_TEXT_MAX);
            r = LOOKUP_BAD;
        } else {
            r = lookup_one(t, text, line, &out, &listed, why, sizeof why, &err);
        }
        if (r == LOOKUP_STORE) {
            fprintf(stderr, "chainwatch: %s: line %lu: %s (nothing further looked up)\n", verb, line, err.msg);
            rc = CLI_EXIT_UNCHECKED;
            break;
        }
        if (r == LOOKUP_BAD) {
            char q[4 * sizeof text + 1];
            fprintf(stderr, "chainwatch: %s: line %lu: '%s%s' is not an address: %s\n", verb, line,
                    cli_quote(text, q, sizeof q), long_line ? "..." : "", why);
            *any_bad = true;
            /* the line's answer is that it was not checked: listed null, never false */
            out.n = 0;
            cw_json j;
            cw_json_init(&j, &out);
            cw_json_obj_begin(&j);
            cw_json_key(&j, "address");
            cw_json_str(&j, text);
            cw_json_key(&j, "error");
            cw_json_str(&j, why);
            cw_json_key(&j, "listed");
            cw_json_null(&j);
            cw_json_key(&j, "line");
            cw_json_u64(&j, line);
            cw_json_obj_end(&j);
            cw_json_newline(&j);
            if (!cw_json_ok(&j)) {
                fprintf(stderr, "chainwatch: %s: out of memory\n", verb);
                rc = CLI_EXIT_UNCHECKED;
                break;
            }
        }
        *any_listed |= listed;
        fwrite(out.p, 1, out.n, stdout); /* a short write sets the stream's error, checked next */
        if (!cli_out_ok(verb)) {
            rc = CLI_EXIT_UNCHECKED; /* an answer not delivered is no "not listed" */
            break;
        }
    }
    if (rc == CLI_EXIT_OK && in.err) {
        fprintf(stderr, "chainwatch: %s: reading standard input after line %lu: %s\n", verb, line, strerror(in.err));
        rc = CLI_EXIT_UNCHECKED;
    }
    cw_buf_free(&out);
    return rc;
}

static int cmd_lookup(wl_opts *o)
{
    if (o->n_pos < 2) {
        fprintf(stderr, "chainwatch: watchlist lookup: expected one or more addresses, or - to read them from "
                        "standard input\n");
        return CLI_EXIT_USAGE;
    }
    bool from_stdin = strcmp(o->positional[1], "-") == 0;
    if (from_stdin && o->n_pos > 2) {
        fprintf(stderr, "chainwatch: watchlist lookup: - reads every address from standard input: no others\n");
        return CLI_EXIT_USAGE;
    }
    cw_store *s;
    cw_err err = {0};
    if (store_open(o->datadir, o->map_size, true, &s, &err))
        return unchecked("watchlist lookup", &err);
    store_txn *t;
    if (store_begin(s, false, &t, &err)) {
        store_close(s);
        return unchecked("watchlist lookup", &err);
    }
    bool bad = false, any_listed = false;
    int rc = CLI_EXIT_OK;
    if (from_stdin) {
        rc = lookup_stream(t, STDIN_FILENO, &bad, &any_listed);
    } else {
        cw_buf out = CW_BUF_INIT;
        char why[CW_ERR_MSG_MAX + 64];
        for (int a = 1; a < o->n_pos && rc == CLI_EXIT_OK; a++) {
            const char *text = o->positional[a];
            bool listed = false;
            int r = lookup_one(t, text, 0, &out, &listed, why, sizeof why, &err);
            if (r == LOOKUP_STORE) {
                cli_fail("watchlist lookup", &err);
                rc = CLI_EXIT_UNCHECKED;
            } else if (r == LOOKUP_BAD) {
                char q[4 * WL_TEXT_MAX + 8];
                cli_quote(text, q, sizeof q);
                fprintf(stderr, "chainwatch: watchlist lookup: '%s%s' is not an address: %s\n", q,
                        strlen(q) < strlen(text) ? "..." : "", why);
                bad = true;
            }
            any_listed |= listed;
        }
        if (rc == CLI_EXIT_OK && out.n)
            fwrite(out.p, 1, out.n, stdout); /* checked with the flush below */
        cw_buf_free(&out);
    }
    store_abort(t);
    store_close(s);
    /* every answer delivered, or the run says it was not: never 1 ("not listed") for a lost line */
    if (rc == CLI_EXIT_OK && !cli_out_flush("watchlist lookup"))
        rc = CLI_EXIT_UNCHECKED;
    if (rc)
        return rc;
    return bad ? CLI_EXIT_USAGE : any_listed ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* ---- stats, diff, export ---- */

typedef struct {
    const char *verb;
    bool out_failed;
} print_ctx;

static bool print_json(void *ctx, cw_span json)
{
    print_ctx *pc = ctx;
    fwrite(json.p, 1, json.n, stdout);
    putchar('\n');
    if (!cli_out_ok(pc->verb)) {
        pc->out_failed = true;
        return false;
    }
    return true;
}

static int print_db(wl_opts *o, wl_source_record what, const char *verb)
{
    cw_store *s;
    cw_err err = {0};
    if (store_open(o->datadir, o->map_size, true, &s, &err))
        return unchecked(verb, &err);
    store_txn *t;
    if (store_begin(s, false, &t, &err)) {
        store_close(s);
        return unchecked(verb, &err);
    }
    int rc = CLI_EXIT_OK;
    if (o->source) {
        cw_span v;
        cw_code c = wl_source_json(t, what, o->source, &v, &err);
        if (c == CW_ENOTFOUND) {
            fprintf(stderr, "chainwatch: %s: no source '%s' in %s\n", verb, o->source, o->datadir);
            rc = CLI_EXIT_USAGE;
        } else if (c) {
            rc = unchecked(verb, &err);
        } else {
            fwrite(v.p, 1, v.n, stdout);
            putchar('\n');
        }
    } else {
        print_ctx pc = {verb, false};
        size_t n = 0;
        if (wl_source_each(t, what, print_json, &pc, &n, &err))
            rc = unchecked(verb, &err);
        else if (pc.out_failed)
            rc = CLI_EXIT_FAIL;
        else if (n == 0)
            fprintf(stderr, "chainwatch: %s: no imports in %s yet\n", verb, o->datadir);
    }
    store_abort(t);
    store_close(s);
    return rc;
}

typedef struct {
    bool csv;
    store_txn *t;
    const char *source;
    size_t n;
    bool failed, oom; /* stdout failed (or memory): the rest of the walk writes nothing */
    cw_code rc;       /* a store error reading an entity */
    cw_err *err;
} export_ctx;

static void csv_field(const char *s)
{
    bool quote = strpbrk(s, ",\"\n\r") != NULL;
    if (!quote) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void export_ref(void *ctx, const wl_ref *r)
{
    export_ctx *c = ctx;
    if (c->failed || (r->flags & WL_REF_LINKED) || (c->source && strcmp(c->source, r->source) != 0))
        return; /* linked forms are derived again on import */
    json_t *e = entity_of(c->t, r, &c->rc, c->err);
    const char *name = e ? json_string_value(json_object_get(e, "name")) : "";
    c->n++;
    if (c->csv) {
        char programs[512] = "", note[512];
        size_t i;
        json_t *p;
        json_array_foreach(e ? json_object_get(e, "programs") : NULL, i, p) {
            size_t used = strlen(programs);
            snprintf(programs + used, sizeof programs - used, "%s%s", i ? ";" : "", json_string_value(p));
        }
        snprintf(note, sizeof note, "source=%s uid=%s ticker=%s", r->source, r->uid, r->ticker);
        csv_field(r->ticker);
        putchar(',');
        csv_field(r->listed);
        putchar(',');
        csv_field(name ? name : "");
        putchar(',');
        csv_field(programs);
        putchar(',');
        csv_field(note);
        putchar('\n');
    } else {
        cw_buf b = CW_BUF_INIT;
        cw_json j;
        cw_json_init(&j, &b);
        cw_json_obj_begin(&j);
        cw_json_key(&j, "address");
        cw_json_str(&j, r->listed);
        cw_json_key(&j, "chain");
        cw_json_str(&j, r->chain);
        cw_json_key(&j, "ticker");
        cw_json_str(&j, r->ticker);
        cw_json_key(&j, "source");
        cw_json_str(&j, r->source);
        cw_json_key(&j, "uid");
        cw_json_str(&j, r->uid);
        cw_json_key(&j, "entity");
        cw_json_str(&j, name);
        cw_json_key(&j, "invalid");
        cw_json_bool(&j, (r->flags & WL_REF_INVALID) != 0);
        cw_json_obj_end(&j);
        cw_json_newline(&j);
        if (cw_json_ok(&j))
            fwrite(b.p, 1, b.n, stdout);
        else
            c->oom = c->failed = true;
        cw_buf_free(&b);
    }
    json_decref(e);
    if (!cli_out_ok("watchlist export"))
        c->failed = true;
}

static int cmd_export(wl_opts *o)
{
    const char *fmt = o->format ? o->format : "csv";
    if (strcmp(fmt, "csv") != 0 && strcmp(fmt, "json") != 0) {
        fprintf(stderr, "chainwatch: watchlist export: --format is csv or json\n");
        return CLI_EXIT_USAGE;
    }
    cw_store *s;
    cw_err err = {0};
    if (store_open(o->datadir, o->map_size, true, &s, &err))
        return unchecked("watchlist export", &err);
    store_txn *t;
    if (store_begin(s, false, &t, &err)) {
        store_close(s);
        return unchecked("watchlist export", &err);
    }
    if (o->source) { /* a mistyped source exports nothing: refused, as diff refuses it, never an empty list */
        cw_span v;
        cw_code sc = wl_source_json(t, WL_PROVENANCE, o->source, &v, &err);
        if (sc) {
            store_abort(t);
            store_close(s);
            if (sc != CW_ENOTFOUND)
                return unchecked("watchlist export", &err);
            fprintf(stderr, "chainwatch: watchlist export: no source '%s' in %s\n", o->source, o->datadir);
            return CLI_EXIT_USAGE;
        }
    }
    export_ctx c = {strcmp(fmt, "csv") == 0, t, o->source, 0, false, false, CW_OK, &err};
    if (c.csv)
        puts("chain,address,entity,program,note");
    cw_code rc = wl_each_ref(t, export_ref, &c, &err);
    if (rc == CW_OK)
        rc = c.rc;
    store_abort(t);
    store_close(s);
    if (rc) {
        cli_out_flush("watchlist export"); /* what was exported before the error, then the error */
        return unchecked("watchlist export", &err);
    }
    if (c.oom)
        fprintf(stderr, "chainwatch: watchlist export: out of memory: the export is incomplete\n");
    /* flushed here, to say so before exiting; main fsyncs it when stdout is a file */
    return c.failed || !cli_out_flush("watchlist export") ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* ---- check ---- */

/* A page of garbage reads as many damaged records: the first of each
 * database are shown, all are counted (the summary has the totals). */
#define CHECK_SHOWN_MAX 100
#define CHECK_KEY_SHOWN 64

typedef struct {
    size_t shown[STORE_DB_COUNT];
} check_ctx;

static void print_damage(void *ctx, store_db db, const uint8_t *key, size_t klen, const char *what)
{
    check_ctx *c = ctx;
    if (c->shown[db]++ >= CHECK_SHOWN_MAX)
        return;
    printf("damaged %s key ", store_db_name(db));
    if (key == NULL || klen == 0)
        fputs("-", stdout);
    for (size_t i = 0; key && i < klen && i < CHECK_KEY_SHOWN; i++)
        printf("%02x", key[i]);
    if (key && klen > CHECK_KEY_SHOWN)
        printf("... (%zu bytes)", klen);
    printf(": %s\n", what);
    if (c->shown[db] == CHECK_SHOWN_MAX)
        printf("damaged %s: further damage in this database is counted, not shown\n", store_db_name(db));
}

static int cmd_check(wl_opts *o)
{
    if (o->n_pos != 1) {
        fprintf(stderr, "chainwatch: watchlist check: no arguments expected besides --datadir\n");
        return CLI_EXIT_USAGE;
    }
    cw_store *s;
    cw_err err = {0};
    if (store_open(o->datadir, o->map_size, true, &s, &err))
        return unchecked("watchlist check", &err);
    check_ctx cc = {0};
    store_check_counts counts;
    cw_code rc = store_check(s, print_damage, &cc, &counts, &err);
    unsigned format = store_format(s);
    store_close(s);
    if (rc)
        return unchecked("watchlist check", &err);
    size_t damaged = 0;
    if (format)
        printf("  %-14s %u\n", "format", format);
    else /* read only, the store holds no record: its first write stamps it */
        printf("  %-14s none yet (no records; the first write sets %d)\n", "format", STORE_FORMAT);
    for (int d = 0; d < STORE_DB_COUNT; d++) {
        printf("  %-14s %zu records%s", store_db_name((store_db)d), counts.records[d], counts.damaged[d] ? "," : "\n");
        if (counts.damaged[d])
            printf(" %zu damaged\n", counts.damaged[d]);
        damaged += counts.damaged[d];
    }
    if (damaged) {
        fflush(stdout);
        fprintf(stderr, "chainwatch: watchlist check: %s %zu damaged records in %s (%s)\n", STORE_DAMAGED, damaged,
                o->datadir, STORE_DAMAGED_HINT);
        return CLI_EXIT_UNCHECKED;
    }
    printf("store %s: every record reads and decodes\n", o->datadir);
    return CLI_EXIT_OK;
}

int cmd_watchlist(int argc, char **argv)
{
    wl_opts o;
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(usage, argc < 2 ? stderr : stdout);
        if (argc >= 2)
            parse_opts(0, NULL, &o); /* the options part of the usage */
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    int rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc;
    const char *verb = argv[1];
    if (strcmp(verb, "import") == 0)
        return cmd_import(&o);
    if (strcmp(verb, "lookup") == 0)
        return cmd_lookup(&o);
    if (strcmp(verb, "stats") == 0)
        return print_db(&o, WL_PROVENANCE, "watchlist stats");
    if (strcmp(verb, "diff") == 0)
        return print_db(&o, WL_DIFF, "watchlist diff");
    if (strcmp(verb, "export") == 0)
        return cmd_export(&o);
    if (strcmp(verb, "check") == 0)
        return cmd_check(&o);
    fprintf(stderr, "chainwatch: watchlist: unknown verb '%s'\n%s", verb, usage);
    return CLI_EXIT_USAGE;
}
