/* trace_svg.c: the trace graph of a case as SVG (trace_svg.h). */
#include "trace_svg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/engine/cases.h"
#include "monitor/engine/screen.h"
#include "monitor/records/amount.h"

#define NODE_W 230
#define NODE_H 74
#define GAP 150
#define MARGIN 20
#define MAX_NODES 16

typedef struct {
    char id[200];     /* data-id: "addr:<address>", "tx:<txid>" */
    const char *kind; /* CSS class: designated, tx, case-tx, subject */
    char line[3][200];
    char title[600];
    char edge[80]; /* label of the edge into this node ("" none) */
} node;

static void short_hex(const char *h, char *out, size_t cap)
{
    size_t n = h ? strlen(h) : 0;
    if (n > 20)
        snprintf(out, cap, "%.8s…%.8s", h, h + n - 8);
    else
        snprintf(out, cap, "%s", h ? h : "?");
}

static void short_addr(const char *a, char *out, size_t cap)
{
    size_t n = a ? strlen(a) : 0;
    if (n > 28)
        snprintf(out, cap, "%.14s…%.10s", a, a + n - 10);
    else
        snprintf(out, cap, "%s", a ? a : "?");
}

/* A Bitcoin trace's amount (satoshis) as amount.h writes it. */
static void btc(const json_t *sats, char *out, size_t cap)
{
    json_t *rec = json_pack("{s:O, s:s}", "amount", sats ? (json_t *)sats : json_null(), "asset", "BTC");
    if (rec == NULL || amount_text(rec, out, cap) == 0)
        snprintf(out, cap, "? BTC");
    json_decref(rec);
}

typedef struct {
    cw_buf *b;
    cw_err *err;
    cw_code rc;
} svg_out;

static void raw(svg_out *o, const char *s)
{
    if (o->rc == CW_OK)
        o->rc = cw_buf_append(o->b, s, strlen(s), o->err);
}

/* The length of the sequence at s when it is one well-formed UTF-8
 * character, else 0. */
static size_t utf8_char(const unsigned char *s)
{
    size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
                           : (s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

/* Text, escaped. Node lines are cut to fit (snprintf's %.60s) and a cut
 * can fall inside a multibyte character: what is not well-formed UTF-8 is
 * left out, or the SVG would not parse as XML (nor show in the console). */
static void text(svg_out *o, const char *s)
{
    char *clean = strdup(s ? s : "");
    if (clean == NULL) {
        if (o->rc == CW_OK)
            o->rc = cw_err_set(o->err, CW_ENOMEM, CW_NO_OFFSET, "out of memory drawing the trace graph");
        return;
    }
    size_t w = 0;
    for (size_t r = 0; clean[r];) {
        size_t n = utf8_char((const unsigned char *)clean + r);
        if (n == 0) {
            r++;
            continue;
        }
        memmove(clean + w, clean + r, n);
        w += n;
        r += n;
    }
    clean[w] = '\0';
    if (o->rc == CW_OK)
        o->rc = cases_html_escape(o->b, clean, o->err);
    free(clean);
}

static void fmt(svg_out *o, const char *f, int a, int b, int c, int d)
{
    char s[200];
    snprintf(s, sizeof s, f, a, b, c, d);
    raw(o, s);
}

static void draw_node(svg_out *o, const node *n, int x, int y)
{
    raw(o, "<g class=\"node ");
    raw(o, n->kind);
    raw(o, "\" data-id=\"");
    text(o, n->id);
    raw(o, "\"><title>");
    text(o, n->title);
    raw(o, "</title>");
    fmt(o, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"8\"/>", x, y, NODE_W, NODE_H);
    for (int i = 0; i < 3; i++) {
        if (!n->line[i][0])
            continue;
        fmt(o, "<text x=\"%d\" y=\"%d\">", x + 10, y + 20 + 20 * i, 0, 0);
        text(o, n->line[i]);
        raw(o, "</text>");
    }
    raw(o, "</g>\n");
}

cw_code trace_svg(const json_t *tr, const char *case_txid, cw_buf *out, cw_err *err)
{
    node nodes[MAX_NODES];
    size_t n = 0;
    memset(nodes, 0, sizeof nodes);
    const char *addr = json_string_value(json_object_get(tr, "address"));
    const json_t *exp = json_object_get(tr, "exposure");
    char s1[64], s2[48], name[400];
    bool case_on_path = false;
    if (json_is_object(exp)) {
        const char *src = json_string_value(json_object_get(exp, "source_address"));
        node *d = &nodes[n++];
        d->kind = "designated";
        snprintf(d->id, sizeof d->id, "addr:%s", src ? src : "");
        screen_entity_text(json_object_get(exp, "source_entity"), name, sizeof name);
        short_addr(src, s1, sizeof s1);
        snprintf(d->line[0], sizeof d->line[0], "designated source");
        snprintf(d->line[1], sizeof d->line[1], "%s", s1);
        snprintf(d->line[2], sizeof d->line[2], "%.60s", name);
        snprintf(d->title, sizeof d->title, "%s: %s", src ? src : "", name);
        size_t i;
        json_t *txj;
        json_array_foreach(json_object_get(exp, "path"), i, txj)
        {
            if (n >= MAX_NODES - 3)
                break;
            const char *txid = json_string_value(txj);
            bool is_case = case_txid && txid && strcmp(case_txid, txid) == 0;
            case_on_path |= is_case;
            node *t = &nodes[n++];
            t->kind = is_case ? "tx case-tx" : "tx";
            snprintf(t->id, sizeof t->id, "tx:%s", txid ? txid : "");
            short_hex(txid, s1, sizeof s1);
            snprintf(t->line[0], sizeof t->line[0], "hop %zu%s", i + 1, is_case ? ": the case's tx" : "");
            snprintf(t->line[1], sizeof t->line[1], "%s", s1);
            snprintf(t->title, sizeof t->title, "tx %s", txid ? txid : "");
        }
    }
    if (case_txid && !case_on_path) {
        node *t = &nodes[n++];
        t->kind = "tx case-tx";
        snprintf(t->id, sizeof t->id, "tx:%s", case_txid);
        short_hex(case_txid, s1, sizeof s1);
        snprintf(t->line[0], sizeof t->line[0], "the case's tx");
        snprintf(t->line[1], sizeof t->line[1], "%s", s1);
        snprintf(t->title, sizeof t->title, "tx %s", case_txid);
    }
    node *a = &nodes[n++];
    bool listed = json_array_size(json_object_get(tr, "designations")) > 0;
    a->kind = listed ? "subject designated" : "subject";
    snprintf(a->id, sizeof a->id, "addr:%s", addr ? addr : "");
    short_addr(addr, s1, sizeof s1);
    snprintf(a->line[0], sizeof a->line[0], "%s", listed ? "the case's address (designated)" : "the case's address");
    snprintf(a->line[1], sizeof a->line[1], "%s", s1);
    if (json_is_object(exp)) {
        btc(json_object_get(exp, "tainted_received"), s2, sizeof s2);
        snprintf(a->line[2], sizeof a->line[2], "%.40s tainted, %lld hop(s)", s2,
                 (long long)json_integer_value(json_object_get(exp, "hops")));
        btc(json_object_get(exp, "closest_amount"), s2, sizeof s2);
        snprintf(a->edge, sizeof a->edge, "%.40s tainted", s2);
    } else if (listed) {
        screen_entity_text(json_object_get(json_array_get(json_object_get(tr, "designations"), 0), "entity"), name,
                           sizeof name);
        snprintf(a->line[2], sizeof a->line[2], "%.60s", name);
    }
    snprintf(a->title, sizeof a->title, "%s", addr ? addr : "");
    const json_t *cl = json_object_get(tr, "cluster");
    /* the pattern rules' view, a note right of the address, when a rule
     * fired on it (stats alone, which every salary-sized payee has, are
     * left to `trace`) */
    const json_t *pat = json_object_get(tr, "patterns");
    if (json_array_size(json_object_get(pat, "rules")) == 0 && json_integer_value(json_object_get(pat, "score")) == 0)
        pat = NULL;
    int cols = (int)n + (json_is_object(pat) ? 1 : 0);
    int width = MARGIN * 2 + cols * NODE_W + (cols - 1) * GAP;
    int height = MARGIN * 2 + NODE_H + (json_is_object(cl) ? NODE_H + GAP : 0) + 24;
    svg_out o = {out, err, CW_OK};
    fmt(&o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"trace\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
        width, height, width, height);
    raw(&o, "<style>.node rect{fill:#fff;stroke:#555;stroke-width:1.5}.node.designated rect{fill:#f4cccc;stroke:#c00;"
            "stroke-width:2.5}.node.patterns rect{fill:#fce5cd;stroke:#b45f06}.node.subject rect{fill:#fff2cc;stroke:#b45f06;stroke-width:3}.node.case-tx rect{"
            "stroke:#1155cc;stroke-width:3}.node.cluster rect{fill:#f3f3f3;stroke-dasharray:6 4}text{font:12px "
            "sans-serif}.edge{stroke:#333;stroke-width:1.5;fill:none;marker-end:url(#arrow)}.edge.tainted{stroke:#c00;"
            "stroke-width:2.5}.label{font:11px sans-serif;fill:#900}</style>\n"
            "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" "
            "markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\"/></marker></defs>\n");
    for (size_t i = 0; i < n; i++) {
        int x = MARGIN + (int)i * (NODE_W + GAP), y = MARGIN + 24;
        if (i > 0) {
            bool last = i + 1 == n;
            raw(&o, last && nodes[i].edge[0] ? "<path class=\"edge tainted\" d=\"M" : "<path class=\"edge\" d=\"M");
            fmt(&o, "%d,%d H%d\"/>\n", x - GAP, y + NODE_H / 2, x - 2, 0);
            if (nodes[i].edge[0]) {
                fmt(&o, "<text class=\"label\" x=\"%d\" y=\"%d\">", x - GAP + 2, y + NODE_H / 2 - 6, 0, 0);
                text(&o, nodes[i].edge);
                raw(&o, "</text>\n");
            }
        }
        draw_node(&o, &nodes[i], x, y);
    }
    if (json_is_object(cl)) {
        node c;
        memset(&c, 0, sizeof c);
        c.kind = "cluster";
        const char *root = json_string_value(json_object_get(cl, "root"));
        snprintf(c.id, sizeof c.id, "cluster:%s", root ? root : "");
        snprintf(c.line[0], sizeof c.line[0], "cluster of %lld (%lld designated)",
                 (long long)json_integer_value(json_object_get(cl, "size")),
                 (long long)json_integer_value(json_object_get(cl, "designated_count")));
        short_addr(root, s1, sizeof s1);
        snprintf(c.line[1], sizeof c.line[1], "root %s", s1);
        snprintf(c.line[2], sizeof c.line[2], "%s",
                 json_is_true(json_object_get(cl, "propagates")) ? "common-input ownership" : "propagation stops here");
        snprintf(c.title, sizeof c.title, "cluster root %s", root ? root : "");
        int x = MARGIN + (int)(n - 1) * (NODE_W + GAP), y = MARGIN + 24 + NODE_H + GAP;
        fmt(&o, "<path class=\"edge\" style=\"stroke-dasharray:5 4;marker-end:none\" d=\"M%d,%d V%d\"/>\n",
            x + NODE_W / 2, y, MARGIN + 24 + NODE_H, 0);
        draw_node(&o, &c, x, y);
    }
    if (json_is_object(pat)) {
        node q;
        memset(&q, 0, sizeof q);
        q.kind = "patterns";
        snprintf(q.id, sizeof q.id, "patterns:%s", addr ? addr : "");
        snprintf(q.line[0], sizeof q.line[0], "pattern risk %s (score %lld)",
                 json_string_value(json_object_get(pat, "risk")) ? json_string_value(json_object_get(pat, "risk")) : "?",
                 (long long)json_integer_value(json_object_get(pat, "score")));
        char rules[160] = "";
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(pat, "rules"), i, x)
        {
            size_t k = strlen(rules);
            snprintf(rules + k, sizeof rules - k, "%s%s", k ? ", " : "", json_string_value(x));
        }
        snprintf(q.line[1], sizeof q.line[1], "%.60s", rules[0] ? rules : "no rule fired");
        snprintf(q.line[2], sizeof q.line[2], "%zu payer(s), %zu pooled payout(s)",
                 json_array_size(json_object_get(pat, "payers")), json_array_size(json_object_get(pat, "sources")));
        snprintf(q.title, sizeof q.title, "pattern rules: %s", rules[0] ? rules : "no rule fired");
        int x0 = MARGIN + (int)n * (NODE_W + GAP), y0 = MARGIN + 24;
        fmt(&o, "<path class=\"edge\" style=\"stroke-dasharray:2 3;marker-end:none\" d=\"M%d,%d H%d\"/>\n",
            x0 - GAP, y0 + NODE_H / 2, x0, 0);
        draw_node(&o, &q, x0, y0);
    }
    raw(&o, "<text x=\"20\" y=\"24\" class=\"caption\" style=\"font-size:11px\">");
    text(&o, json_string_value(json_object_get(tr, "summary")) ? json_string_value(json_object_get(tr, "summary")) : "");
    raw(&o, "</text>\n</svg>\n");
    return o.rc;
}
