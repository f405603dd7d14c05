/*
 * `chainwatch trace ADDR`: how designated money reached an address, for an
 * analyst (as JSON, and as a Graphviz graph). Read only, like `screen`;
 * `cluster` (cluster.c) shows the wallet it belongs to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/hex.h"
#include "args.h"
#include "cli.h"
#include "monitor/records/alert.h"
#include "monitor/engine/screen.h"
#include "watchlists/cluster.h"
#include "watchlists/acct_exposure.h"
#include "watchlists/exposure.h"
#include "watchlists/watchlist.h"

static const char trace_usage[] =
    "usage: chainwatch trace ADDR [--hops N] [--dot FILE] [--datadir D] [--network N]\n"
    "\n"
    "How designated money reached ADDR, as the monitor followed it: its closest\n"
    "tainted payment (the designated source address, the txs of the path in\n"
    "order, the hops), what it received tainted in all and in how many payments;\n"
    "its own designations; its cluster when that has designated members; what\n"
    "the pattern rules learnt of it (payers, pooled payouts, rules fired, risk);\n"
    "and the monitor's tip (what it has seen so far).\n"
    "\n"
    "An address designated money never reached prints exposed false (exit 0), and\n"
    "its graph holds the address alone.\n"
    "An EVM or Tron account has no cluster and no output path: account_exposure\n"
    "lists, per asset (ETH, each token contract), what it received, how much of it\n"
    "was designated money (share_ppm: the haircut), the hops, the designated source\n"
    "and the tx of its closest designated payment.\n"
    "Exit status: 0 traced; 1 the graph could not be written (or out of memory);\n"
    "2 bad input; 3 a store error (the store could not be opened or read, or is\n"
    "damaged).\n"
    "\n"
    "Options:\n";

/* The graph being written; an allocation failure is sticky, checked once. */
typedef struct {
    cw_buf b;
    bool failed;
} dot_out;

static void put(dot_out *d, const void *p, size_t n)
{
    if (!d->failed && cw_buf_append(&d->b, p, n, NULL) != CW_OK)
        d->failed = true;
}

/* A DOT double-quoted string: quotes and backslashes escaped, line breaks
 * as \n, other control characters dropped (UTF-8 passes: DOT's default). */
static void dot_str(dot_out *b, const char *s)
{
    put(b, "\"", 1);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(b, e, 2);
        } else if (c == '\n') {
            put(b, "\\n", 2);
        } else if (c >= 0x20 && c != 0x7f) {
            put(b, s, 1);
        }
    }
    put(b, "\"", 1);
}

static void dot_raw(dot_out *b, const char *s) { put(b, s, strlen(s)); }

/* One node: id, label, then raw attributes. */
static void dot_node(dot_out *b, const char *id, const char *label, const char *tooltip, const char *attrs)
{
    dot_raw(b, "  ");
    dot_str(b, id);
    dot_raw(b, " [label=");
    dot_str(b, label);
    if (tooltip) {
        dot_raw(b, ", tooltip=");
        dot_str(b, tooltip);
    }
    dot_raw(b, attrs);
    dot_raw(b, "];\n");
}

/* One edge; label may be NULL, attrs ("" or ", name=value...") follow it. */
static void dot_edge(dot_out *b, const char *from, const char *to, const char *label, const char *attrs)
{
    dot_raw(b, "  ");
    dot_str(b, from);
    dot_raw(b, " -> ");
    dot_str(b, to);
    if (label) {
        dot_raw(b, " [label=");
        dot_str(b, label);
        dot_raw(b, attrs);
        dot_raw(b, "]");
    }
    dot_raw(b, ";\n");
}

static void btc_text(uint64_t sats, char *out, size_t cap)
{
    snprintf(out, cap, "%llu.%08llu BTC", (unsigned long long)(sats / 100000000), (unsigned long long)(sats % 100000000));
}

/* The trace as a graph, from the JSON trace already built (one source of
 * truth for both outputs). */
/* The pattern rules' evidence: each payer (a wallet: its cluster root)
 * paying the address, and each payout address sweeping into it when it is
 * a pool, with the pair's payments, dates and amounts; the rules fired and
 * the risk under the address. */
static void trace_dot_patterns(const json_t *pat, const char *addr_id, dot_out *b)
{
    if (!json_is_object(pat))
        return;
    char id[400], label[1024], rules[256] = "";
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(pat, "rules"), i, x)
    {
        size_t n = strlen(rules);
        snprintf(rules + n, sizeof rules - n, "%s%s", n ? ", " : "", json_string_value(x));
    }
    snprintf(id, sizeof id, "%s:patterns", addr_id);
    snprintf(label, sizeof label, "risk %s (score %lld)\n%s", json_string_value(json_object_get(pat, "risk")),
             (long long)json_integer_value(json_object_get(pat, "score")), rules[0] ? rules : "no rule fired");
    dot_node(b, id, label, NULL, ", shape=note, style=filled, fillcolor=\"#fce5cd\"");
    dot_edge(b, id, addr_id, NULL, ", style=dotted, arrowhead=none");
    static const char *const kinds[2] = {"payers", "sources"};
    for (int k = 0; k < 2; k++)
        json_array_foreach(json_object_get(pat, kinds[k]), i, x)
        {
            const char *who = json_string_value(json_object_get(x, k ? "source" : "payer"));
            snprintf(id, sizeof id, "%s:%s", k ? "source" : "payer", who);
            snprintf(label, sizeof label, "%s\n%s", who, k ? "payout address (sweeps in)" : "payer (wallet)");
            dot_node(b, id, label, NULL,
                     k ? ", shape=ellipse, style=filled, fillcolor=\"#d9ead3\"" : ", shape=box, style=rounded");
            long long cents = json_integer_value(json_object_get(x, "total_usd_cents"));
            char amt[64];
            if (cents > 0)
                snprintf(amt, sizeof amt, "USD %lld.%02lld", cents / 100, cents % 100);
            else
                btc_text((uint64_t)json_integer_value(json_object_get(x, "total_base_units")), amt, sizeof amt);
            snprintf(label, sizeof label, "%lld payment%s, %s to %s\n%s\ngaps %lld-%lld days",
                     (long long)json_integer_value(json_object_get(x, "payments")),
                     json_integer_value(json_object_get(x, "payments")) == 1 ? "" : "s",
                     json_string_value(json_object_get(x, "first")), json_string_value(json_object_get(x, "last")),
                     amt, (long long)json_integer_value(json_object_get(x, "min_gap_days")),
                     (long long)json_integer_value(json_object_get(x, "max_gap_days")));
            dot_edge(b, id, addr_id, label, k ? ", color=\"#38761d\"" : ", color=\"#1155cc\"");
        }
}

static void trace_dot(const json_t *tr, dot_out *b)
{
    const char *addr = json_string_value(json_object_get(tr, "address"));
    char id[256], label[1024], name[512];
    dot_raw(b, "digraph chainwatch_trace {\n"
               "  graph [rankdir=LR, labelloc=t, fontname=\"Helvetica\", label=");
    snprintf(label, sizeof label, "chainwatch trace %s", addr);
    dot_str(b, label);
    dot_raw(b, "];\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n");
    char addr_id[256];
    snprintf(addr_id, sizeof addr_id, "addr:%s", addr);
    bool listed = json_array_size(json_object_get(tr, "designations")) > 0;
    const json_t *exp = json_object_get(tr, "exposure");
    if (listed) {
        screen_entity_text(json_object_get(json_array_get(json_object_get(tr, "designations"), 0), "entity"), name,
                    sizeof name);
        snprintf(label, sizeof label, "%s\ndesignated: %s", addr, name);
    } else if (json_is_object(exp)) {
        char amt[48];
        btc_text((uint64_t)json_integer_value(json_object_get(exp, "tainted_received")), amt, sizeof amt);
        long long payments = json_integer_value(json_object_get(exp, "payments")),
                  hops = json_integer_value(json_object_get(exp, "hops"));
        snprintf(label, sizeof label, "%s\n%s tainted in %lld payment%s, closest %lld hop%s", addr, amt, payments,
                 payments == 1 ? "" : "s", hops, hops == 1 ? "" : "s");
    } else {
        snprintf(label, sizeof label, "%s\nno designated money within %lld hops", addr,
                 (long long)json_integer_value(json_object_get(tr, "hops_limit")));
    }
    dot_node(b, addr_id, label, NULL,
             listed ? ", shape=ellipse, style=\"filled,bold\", fillcolor=\"#f4cccc\", color=\"#cc0000\", penwidth=3"
                    : ", shape=ellipse, style=\"filled,bold\", fillcolor=\"#fff2cc\", color=\"#b45f06\", penwidth=3");
    if (json_is_object(exp)) {
        const char *src = json_string_value(json_object_get(exp, "source_address"));
        char src_id[256];
        snprintf(src_id, sizeof src_id, "addr:%s", src);
        screen_entity_text(json_object_get(exp, "source_entity"), name, sizeof name);
        snprintf(label, sizeof label, "%s\ndesignated: %s", src, name);
        dot_node(b, src_id, label, NULL,
                 ", shape=ellipse, style=filled, fillcolor=\"#f4cccc\", color=\"#cc0000\", fontcolor=\"#990000\", "
                 "penwidth=2");
        const json_t *path = json_object_get(exp, "path");
        const char *prev = src_id;
        char prev_buf[256];
        size_t i;
        json_t *txj;
        json_array_foreach(path, i, txj)
        {
            const char *txid = json_string_value(txj);
            snprintf(id, sizeof id, "tx:%s", txid);
            snprintf(label, sizeof label, "hop %zu\n%.8s…%.8s", i + 1, txid, txid + (strlen(txid) > 8 ? strlen(txid) - 8 : 0));
            dot_node(b, id, label, txid, ", shape=box");
            dot_edge(b, prev, id, NULL, NULL);
            snprintf(prev_buf, sizeof prev_buf, "%s", id);
            prev = prev_buf;
        }
        char amt[48];
        btc_text((uint64_t)json_integer_value(json_object_get(exp, "closest_amount")), amt, sizeof amt);
        snprintf(label, sizeof label, "%s tainted", amt);
        dot_edge(b, prev, addr_id, label, ", color=\"#cc0000\", penwidth=2");
    }
    const json_t *cl = json_object_get(tr, "cluster");
    if (json_is_object(cl)) {
        const char *root = json_string_value(json_object_get(cl, "root"));
        const json_t *member = json_object_get(cl, "designated_member");
        const char *dm = json_string_value(json_object_get(member, "address"));
        char cluster_id[256], dm_id[256];
        snprintf(cluster_id, sizeof cluster_id, "cluster:%s", root);
        snprintf(label, sizeof label, "cluster of %lld (%lld designated)\nroot %s%s",
                 (long long)json_integer_value(json_object_get(cl, "size")),
                 (long long)json_integer_value(json_object_get(cl, "designated_count")), root,
                 json_is_true(json_object_get(cl, "propagates")) ? "" : "\npropagation stops here");
        dot_node(b, cluster_id, label, NULL, ", shape=folder, style=dashed");
        if (dm && strcmp(dm, addr) != 0) {
            snprintf(dm_id, sizeof dm_id, "addr:%s", dm);
            screen_entity_text(json_object_get(member, "entity"), name, sizeof name);
            snprintf(label, sizeof label, "%s\ndesignated: %s", dm, name);
            dot_node(b, dm_id, label, NULL,
                     ", shape=ellipse, style=filled, fillcolor=\"#f4cccc\", color=\"#cc0000\", fontcolor=\"#990000\", "
                     "penwidth=2");
            dot_edge(b, dm_id, cluster_id, "member", ", style=dashed, arrowhead=none");
        }
        dot_edge(b, cluster_id, addr_id, "member (common-input ownership)", ", style=dashed, arrowhead=none");
    }
    /* account chains: per asset, the designated source, the tx of the closest payment, the share */
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(tr, "account_exposure"), i, x)
    {
        const char *src = json_string_value(json_object_get(x, "source_address"));
        const char *txid = json_string_value(json_array_get(json_object_get(x, "evidence"), 0));
        const json_t *as = json_object_get(x, "asset");
        const char *contract = json_string_value(json_object_get(as, "contract"));
        char src_id[256], tx_id[256];
        snprintf(src_id, sizeof src_id, "addr:%s", src ? src : "?");
        screen_entity_text(json_object_get(x, "source_entity"), name, sizeof name);
        snprintf(label, sizeof label, "%s\ndesignated: %s", src ? src : "?", name);
        dot_node(b, src_id, label, NULL,
                 ", shape=ellipse, style=filled, fillcolor=\"#f4cccc\", color=\"#cc0000\", fontcolor=\"#990000\", "
                 "penwidth=2");
        snprintf(tx_id, sizeof tx_id, "tx:%s", txid ? txid : "?");
        snprintf(label, sizeof label, "closest payment, hop %lld\n%.10s…", (long long)json_integer_value(json_object_get(x, "hops")),
                 txid ? txid : "?");
        dot_node(b, tx_id, label, txid, ", shape=box");
        dot_edge(b, src_id, tx_id, NULL, NULL);
        long long ppm = json_integer_value(json_object_get(x, "share_ppm"));
        snprintf(label, sizeof label, "%s: %s of %s received designated (%lld.%04lld%%)",
                 contract ? contract : "native coin", json_string_value(json_object_get(x, "tainted_received")),
                 json_string_value(json_object_get(x, "received")), ppm / 10000, ppm % 10000);
        dot_edge(b, tx_id, addr_id, label, ", color=\"#cc0000\", penwidth=2");
    }
    trace_dot_patterns(json_object_get(tr, "patterns"), addr_id, b);
    dot_raw(b, "}\n");
}

static int write_file(const char *path, const dot_out *d)
{
    if (d->failed) {
        fprintf(stderr, "chainwatch: trace: --dot %s: out of memory\n", path);
        return CLI_EXIT_FAIL;
    }
    const cw_buf *b = &d->b;
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "chainwatch: trace: --dot: writing %s: %s\n", path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    fwrite(b->p, 1, b->n, f); /* a short write sets the stream's error: cli_close_file reports it */
    cw_err err = {0};
    if (cli_close_file(f, path, &err)) { /* flushed, synced, closed: the analyst keeps the graph */
        fprintf(stderr, "chainwatch: trace: --dot: %s\n", err.msg);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

int cmd_trace(int argc, char **argv)
{
    const char *addr = NULL, *datadir = NULL, *netname = NULL, *dot_path = NULL;
    int64_t hops = EXPOSURE_MAX_HOPS;
    cli_arg args[] = {
        {"hops", ARG_INT, &hops, 1, EXPOSURE_MAX_HOPS, .metavar = "N",
         .help = "report exposure within N hops (default 8, the most recorded)"},
        {"dot", ARG_PATH, &dot_path, .metavar = "FILE",
         .help = "also write the flow as a Graphviz graph: the designated\n"
                 "source in red, each tx of the path as a box (short txid;\n"
                 "the full one is the node's id and tooltip), edges in path\n"
                 "order, ADDR highlighted; the designated cluster dashed.\n"
                 "Render it with dot -Tsvg FILE > trace.svg"},
        {"datadir", ARG_PATH, &datadir, .metavar = "D", .help = "default ~/.chainwatch"},
        {"network", ARG_STRING, &netname, .metavar = "N", .help = "main, test, testnet4, signet or regtest"},
        {0},
    };
    int help_rc;
    if (cli_args_help(argc, argv, true, trace_usage, args, &help_rc))
        return help_rc;
    cw_addr a;
    cw_store *s = NULL;
    store_txn *t = NULL;
    int n_pos;
    int rc = cli_args_parse("trace", args, argc, argv, &addr, 1, &n_pos) ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    if (rc == CLI_EXIT_OK)
        rc = cli_address_store("trace", addr, netname, datadir, &a, &s, &t);
    if (rc == CLI_EXIT_OK) {
        cw_err err = {0};
        json_t *tr = json_object();
        if (tr == NULL)
            rc = cli_fail("trace", &(cw_err){.code = CW_ENOMEM, .offset = CW_NO_OFFSET, .msg = "out of memory"});
        else if (screen_trace(t, &a, (unsigned)hops, tr, &err)) {
            rc = cli_unchecked("trace", &err);
        } else {
            if (dot_path) { /* the graph first: a failure to write it prints nothing */
                dot_out dot = {CW_BUF_INIT, false};
                trace_dot(tr, &dot);
                rc = write_file(dot_path, &dot);
                cw_buf_free(&dot.b);
            }
            if (rc == CLI_EXIT_OK)
                rc = cli_print_json("trace", tr);
        }
        json_decref(tr);
    }
    cli_store_done(s, t);
    return rc;
}
