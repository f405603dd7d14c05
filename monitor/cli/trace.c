/*
 * `chainwatch cluster ADDR` and `chainwatch trace ADDR`: what the monitor
 * learnt about one address, for an analyst: the wallet it belongs to, and
 * how designated money reached it (as JSON, and as a Graphviz graph).
 * Read only, like `screen`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/hex.h"
#include "cli.h"
#include "monitor/engine/screen.h"
#include "watchlists/cluster.h"
#include "watchlists/exposure.h"
#include "watchlists/watchlist.h"

static const char cluster_usage[] =
    "usage: chainwatch cluster ADDR [--datadir D] [--network N]\n"
    "\n"
    "The cluster (wallet, by common-input ownership) the monitor has put ADDR in:\n"
    "root, size, merged (false: ADDR never shared a tx's inputs, a cluster of one),\n"
    "designated_count and designated_member (the first designated member, its\n"
    "entity and the tx that joined it), flags (service: a labelled service is a\n"
    "member; supercluster: it grew past --cluster-limit) with propagates and a note\n"
    "(designation and exposure stop at such clusters), service, last_merge_txid,\n"
    "joined_by (the tx that joined ADDR, null for the root) and sample (the first\n"
    "members to join), with listed (ADDR itself) and tip (how far the monitor has\n"
    "got). Designated membership is counted when addresses join: an address\n"
    "listed later counts from the cluster's next merge.\n"
    "\n"
    "Exit status: 0 found (a cluster of one included); 2 bad input; 3 the store\n"
    "could not be read.\n";

static const char trace_usage[] =
    "usage: chainwatch trace ADDR [--hops N] [--dot FILE] [--datadir D] [--network N]\n"
    "\n"
    "How designated money reached ADDR, as the monitor followed it: its closest\n"
    "tainted payment (the designated source address, the txs of the path in\n"
    "order, the hops), what it received tainted in all and in how many payments;\n"
    "its own designations; its cluster when that has designated members; and the\n"
    "monitor's tip (what it has seen so far).\n"
    "\n"
    "  --hops N    report exposure within N hops (default 8, the most recorded)\n"
    "  --dot FILE  also write the flow as a Graphviz graph: the designated source\n"
    "              in red, each tx of the path as a box (short txid; the full one\n"
    "              is the node's id and tooltip), edges in path order, ADDR\n"
    "              highlighted; the designated cluster dashed. Render it with\n"
    "              dot -Tsvg FILE > trace.svg\n"
    "\n"
    "An address designated money never reached prints exposed false (exit 0), and\n"
    "its graph holds the address alone.\n"
    "Exit status: 0 traced; 1 the graph could not be written; 2 bad input; 3 the\n"
    "store could not be read.\n";

typedef struct {
    const char *addr, *datadir, *netname, *dot;
    unsigned hops;
} trace_opts;

static int parse(const char *verb, int argc, char **argv, bool trace, trace_opts *o)
{
    memset(o, 0, sizeof *o);
    o->hops = EXP_MAX_HOPS;
    for (int i = 1; i < argc;) {
        const char *v = NULL;
        if (cli_opt(argc, argv, &i, "--datadir", &v)) {
            o->datadir = v;
        } else if (cli_opt(argc, argv, &i, "--network", &v)) {
            o->netname = v;
        } else if (trace && cli_opt(argc, argv, &i, "--dot", &v)) {
            o->dot = v;
        } else if (trace && cli_opt(argc, argv, &i, "--hops", &v)) {
            int64_t h = 0;
            if (v && cli_opt_int(verb, "--hops", v, 1, EXP_MAX_HOPS, &h))
                return CLI_EXIT_USAGE;
            o->hops = (unsigned)h;
        } else if (strncmp(argv[i], "--", 2) == 0) {
            fprintf(stderr, "chainwatch: %s: unknown option '%s' (see chainwatch %s --help)\n", verb, argv[i], verb);
            return CLI_EXIT_USAGE;
        } else if (o->addr == NULL) {
            v = o->addr = argv[i++];
        } else {
            fprintf(stderr, "chainwatch: %s: one address at a time: unexpected '%s'\n", verb, argv[i]);
            return CLI_EXIT_USAGE;
        }
        if (v == NULL) {
            fprintf(stderr, "chainwatch: %s: %s needs a value\n", verb, argv[i - 1]);
            return CLI_EXIT_USAGE;
        }
    }
    if (o->addr == NULL) {
        fprintf(stderr, "chainwatch: %s: expected an address (see chainwatch %s --help)\n", verb, verb);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Parses the address and opens the store: what both verbs do first. */
static int begin(const char *verb, const trace_opts *o, cw_addr *a, cw_store **s, store_txn **t)
{
    int net = CW_NET_ANY;
    if (o->netname) {
        cw_net n;
        if (!cw_net_from_name(o->netname, &n)) {
            fprintf(stderr, "chainwatch: %s: unknown network '%s' (main, test, testnet4, signet, regtest)\n", verb,
                    o->netname);
            return CLI_EXIT_USAGE;
        }
        net = (int)n;
    }
    int rc = cli_screen_address(verb, o->addr, net, a);
    if (rc)
        return rc;
    char buf[4096];
    const char *dd = cli_datadir(verb, o->datadir, buf, sizeof buf);
    return dd ? cli_store_read(verb, dd, s, t) : CLI_EXIT_USAGE;
}

static int unchecked(const char *verb, const cw_err *err)
{
    fprintf(stderr, "chainwatch: %s: %s\n", verb, err->msg);
    return err->code == CW_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_UNCHECKED;
}

int cmd_cluster(int argc, char **argv)
{
    if (cli_wants_help(argc, argv) || argc < 2) {
        fputs(cluster_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    trace_opts o;
    cw_addr a;
    cw_store *s = NULL;
    store_txn *t = NULL;
    int rc = parse("cluster", argc, argv, false, &o);
    if (rc == CLI_EXIT_OK)
        rc = begin("cluster", &o, &a, &s, &t);
    if (rc == CLI_EXIT_OK) {
        char text[CW_ADDR_TEXT_MAX];
        uint8_t key[WL_KEY_MAX], join[32];
        cw_addr_format(&a, text, sizeof text);
        size_t kn = wl_key_from_addr(&a, key);
        cluster_info c;
        cw_err err = {0};
        json_t *out = json_object();
        json_object_set_new(out, "address", json_string(text));
        bool listed = false;
        json_t *tip = NULL;
        if (wl_is_listed(t, key, kn, &listed, &err) || screen_tip_json(t, &tip, &err) ||
            cluster_find(t, key, kn, &c, join, &err) ||
            screen_cluster_fields(t, &c, join, out, NULL, &err)) {
            json_decref(tip);
            rc = unchecked("cluster", &err);
        } else {
            json_object_set_new(out, "listed", json_boolean(listed));
            json_object_set_new(out, "tip", tip);
            rc = cli_print_json("cluster", out);
        }
        json_decref(out);
    }
    cli_store_done(s, t);
    return rc;
}

/* ---- trace ---- */

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

/* "Name (PROGRAM, PROGRAM)" of an entity object, or "no longer listed". */
static void entity_text(const json_t *entity, char *out, size_t cap)
{
    if (entity == NULL || json_is_null(entity)) {
        snprintf(out, cap, "no longer listed");
        return;
    }
    const char *name = json_string_value(json_object_get(entity, "name"));
    size_t n = (size_t)snprintf(out, cap, "%s", name ? name : json_string_value(json_object_get(entity, "uid")));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(entity, "programs"), i, p)
    {
        if (n >= cap)
            break;
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? ", " : " (", json_string_value(p));
        if (i + 1 == json_array_size(json_object_get(entity, "programs")) && n < cap)
            n += (size_t)snprintf(out + n, cap - n, ")");
    }
}

/* The trace as a graph, from the JSON trace already built (one source of
 * truth for both outputs). */
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
        entity_text(json_object_get(json_array_get(json_object_get(tr, "designations"), 0), "entity"), name,
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
        entity_text(json_object_get(exp, "source_entity"), name, sizeof name);
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
            entity_text(json_object_get(member, "entity"), name, sizeof name);
            snprintf(label, sizeof label, "%s\ndesignated: %s", dm, name);
            dot_node(b, dm_id, label, NULL,
                     ", shape=ellipse, style=filled, fillcolor=\"#f4cccc\", color=\"#cc0000\", fontcolor=\"#990000\", "
                     "penwidth=2");
            dot_edge(b, dm_id, cluster_id, "member", ", style=dashed, arrowhead=none");
        }
        dot_edge(b, cluster_id, addr_id, "member (common-input ownership)", ", style=dashed, arrowhead=none");
    }
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

/* The trace of one address as JSON (see trace_usage). */
static cw_code build_trace(store_txn *t, const cw_addr *a, unsigned hops, json_t *tr, cw_err *err)
{
    char text[CW_ADDR_TEXT_MAX], summary[1024], name[512];
    uint8_t key[WL_KEY_MAX];
    cw_addr_format(a, text, sizeof text);
    size_t kn = wl_key_from_addr(a, key);
    json_object_set_new(tr, "address", json_string(text));
    json_object_set_new(tr, "hops_limit", json_integer(hops));
    json_t *tip;
    cw_code rc = screen_tip_json(t, &tip, err);
    if (rc)
        return rc;
    json_object_set_new(tr, "tip", tip);
    json_t *designations = json_array();
    json_object_set_new(tr, "designations", designations);
    screen_decision d;
    rc = screen_designations(t, a, designations, &d, err);
    if (rc)
        return rc;
    exposure_address e;
    rc = exposure_address_get(t, key, kn, &e, err);
    if (rc && rc != CW_ENOTFOUND)
        return rc;
    bool found = rc == CW_OK, exposed = found && e.min_hops <= hops;
    json_object_set_new(tr, "exposed", json_boolean(exposed));
    json_object_set_new(tr, "beyond_hops", found && !exposed ? json_integer(e.min_hops) : json_null());
    if (exposed) {
        json_t *x = json_object();
        screen_exposure_fields(&e, x);
        json_t *entity;
        if ((rc = screen_key_entity(t, e.closest.source, e.closest.source_len, &entity, err))) {
            json_decref(x);
            return rc;
        }
        json_object_set_new(x, "source_entity", entity ? entity : json_null()); /* null: delisted since */
        entity_text(entity, name, sizeof name);
        char amt[48];
        btc_text(e.amount, amt, sizeof amt);
        snprintf(summary, sizeof summary, "designated money reached %s %u hop%s from %s (%s): %s tainted in %llu payment%s",
                 text, e.min_hops, e.min_hops == 1 ? "" : "s",
                 json_string_value(json_object_get(x, "source_address")), name, amt,
                 (unsigned long long)e.payments, e.payments == 1 ? "" : "s");
        json_object_set_new(tr, "exposure", x);
    } else {
        json_object_set_new(tr, "exposure", json_null());
        if (found)
            snprintf(summary, sizeof summary,
                     "no designated money reached %s within %u hops (the closest came %u hops away)", text, hops,
                     e.min_hops);
        else
            snprintf(summary, sizeof summary,
                     "no designated money reached %s within %u hops, as far as the monitor has followed it", text,
                     hops);
    }
    cluster_info c;
    uint8_t join[32];
    if ((rc = cluster_find(t, key, kn, &c, join, err)))
        return rc;
    json_t *cl = json_null();
    if (c.designated > 0 && c.size > 1) {
        cl = json_object();
        if ((rc = screen_cluster_fields(t, &c, join, cl, NULL, err))) {
            json_decref(cl);
            return rc;
        }
        size_t n = strlen(summary);
        snprintf(summary + n, sizeof summary - n, "; a member of a cluster of %llu with %u designated member%s%s",
                 (unsigned long long)c.size, c.designated, c.designated == 1 ? "" : "s",
                 cluster_propagates(&c) ? "" : " (a service or supercluster: propagation stops)");
    }
    json_object_set_new(tr, "cluster", cl);
    json_object_set_new(tr, "summary", json_string(summary));
    return CW_OK;
}

int cmd_trace(int argc, char **argv)
{
    if (cli_wants_help(argc, argv) || argc < 2) {
        fputs(trace_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    trace_opts o;
    cw_addr a;
    cw_store *s = NULL;
    store_txn *t = NULL;
    int rc = parse("trace", argc, argv, true, &o);
    if (rc == CLI_EXIT_OK)
        rc = begin("trace", &o, &a, &s, &t);
    if (rc == CLI_EXIT_OK) {
        cw_err err = {0};
        json_t *tr = json_object();
        if (build_trace(t, &a, o.hops, tr, &err)) {
            rc = unchecked("trace", &err);
        } else {
            if (o.dot) { /* the graph first: a failure to write it prints nothing */
                dot_out dot = {CW_BUF_INIT, false};
                trace_dot(tr, &dot);
                rc = write_file(o.dot, &dot);
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
