/*
 * `chainwatch screen ADDRESS|RAWTX`: allow, review, hold or block, with the
 * reasons, before crediting a deposit or sending a withdrawal (screen.h has
 * the rules). Also the helpers every read-only screening verb shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/records/alert.h"
#include "chains/addr.h"
#include "chains/bitcoin/tx.h"
#include "chains/hex.h"
#include "args.h"
#include "cli.h"
#include "args_flows.h"
#include "monitor/engine/rules/rules.h"
#include "watchlists/watchlist.h"
#include "monitor/engine/screen.h"
#include "watchlists/watchlist.h"

static const char usage[] =
    "usage: chainwatch screen ADDRESS|RAWTX [--direction deposit|withdrawal] [--amount BTC]\n"
    "                         [--datadir D] [--network N] [--labels FILE] [--hops N]\n"
    "                         [--min-exposure S] [--min-exposure-amount BTC] [--hold-exposure S]\n"
    "\n"
    "The decision an exchange needs before crediting a deposit or sending a\n"
    "withdrawal, from what the monitor has learnt (watchlist, clusters, exposure).\n"
    "Reads the store only: it runs beside a live `watch`, and knows the chain up\n"
    "to the monitor's tip (printed as `tip`).\n"
    "\n"
    "  ADDRESS      Bitcoin (any network), EVM or Tron; other chains' addresses\n"
    "               cannot be told from typos here: use `watchlist lookup`\n"
    "  RAWTX        a raw transaction as hex (told from an address by its length),\n"
    "               @FILE (raw bytes or hex) or - (standard input)\n"
    "\n"
    "Options:\n";

static const char usage_tail[] =
    "\n"
    "Decision rules; every reason names its own, the most severe wins:\n"
    "  block   designated: the address is listed\n"
    "  hold    key_linked: another address type of a listed key (P2PKH listed,\n"
    "          its P2WPKH or P2SH-P2WPKH form paid; an EVM account's Tron form)\n"
    "  hold    cluster: a member of a cluster (common-input ownership) that has\n"
    "          designated members, unless it holds a labelled service or grew into\n"
    "          a supercluster (then shown, allow: propagation stops there)\n"
    "  hold    exposure: designated money received within --hops: with --amount,\n"
    "          when it covers --hold-exposure of it; without, from 1 hop away\n"
    "  review  exposure: with --amount, when it covers --min-exposure (and at least\n"
    "          --min-exposure-amount); without, from 2 or more hops away, or less\n"
    "          than --min-exposure-amount received in all (dust anyone can send)\n"
    "  allow   none of the above; service labels are shown, never decisive\n"
    "RAWTX: every input address (from the prevout index, else read from its\n"
    "scriptSig/witness: resolved false) and output address is screened as above\n"
    "with its value in the tx as the amount (`addresses`), and the tx's own\n"
    "findings, as the monitor would record them, are `reasons`: paying from or to a\n"
    "member of a designated cluster holds; an output receiving designated money\n"
    "holds at --hold-exposure of its value, else is reviewed. The tx's decision is\n"
    "the most severe of all.\n"
    "\n"
    "Exit status: 0 allow, 10 review, 11 hold, 12 block; 1 error; 2 usage or bad\n"
    "input (a mistyped address is never 'allow'); 3 the store could not be read\n"
    "(never read a 3 as allow).\n";

#define MAX_TX_BYTES (4u << 20) /* a block's weight limit: no tx is larger */

/* ---- shared by the screening verbs ---- */

const char *cli_datadir(const char *verb, const char *given, char *buf, size_t cap)
{
    if (given)
        return given;
    if (!store_default_datadir(buf, cap)) {
        fprintf(stderr, "chainwatch: %s: HOME is not set: pass --datadir\n", verb);
        return NULL;
    }
    return buf;
}

int cli_store_read(const char *verb, const char *datadir, cw_store **s, store_txn **t)
{
    cw_err err = {0};
    *s = NULL;
    *t = NULL;
    if (store_open(datadir, 0, true, s, &err)) {
        /* a missing database: a datadir from an older chainwatch (read only, we cannot add it) */
        fprintf(stderr, "chainwatch: %s: %s%s%s%s\n", verb, err.msg,
                err.code == CW_ENOTFOUND ? "; for a datadir from an older chainwatch, 'chainwatch init --datadir " : "",
                err.code == CW_ENOTFOUND ? datadir : "", err.code == CW_ENOTFOUND ? "' adds it, keeping key and data" : "");
        return CLI_EXIT_UNCHECKED;
    }
    if (store_begin(*s, false, t, &err)) {
        fprintf(stderr, "chainwatch: %s: %s\n", verb, err.msg);
        store_close(*s);
        *s = NULL;
        return CLI_EXIT_UNCHECKED;
    }
    return CLI_EXIT_OK;
}

void cli_store_done(cw_store *s, store_txn *t)
{
    if (t)
        store_abort(t);
    if (s)
        store_close(s);
}

int cli_screen_address(const char *verb, const char *text, int net, cw_addr *out)
{
    cw_err err = {0};
    if (cw_addr_parse(text, net, out, &err) == CW_OK)
        return CLI_EXIT_OK;
    char q[4 * CW_ADDR_TEXT_MAX + 8];
    fprintf(stderr, "chainwatch: %s: '%s' is not a Bitcoin, EVM or Tron address: %s\n", verb, cli_quote(text, q, sizeof q),
            err.msg);
    return CLI_EXIT_USAGE;
}

int cli_print_json(const char *verb, const json_t *v)
{
    cw_buf b = CW_BUF_INIT;
    cw_err err = {0};
    int rc = CLI_EXIT_OK;
    if (alert_canonical(v, &b, &err) || cw_buf_append(&b, "\n", 1, &err)) {
        fprintf(stderr, "chainwatch: %s: %s\n", verb, err.msg); /* our own JSON: never the user's input */
        rc = CLI_EXIT_FAIL;
    } else {
        fwrite(b.p, 1, b.n, stdout); /* a short write sets the stream's error, which the flush reports */
        if (!cli_out_flush(verb))
            rc = CLI_EXIT_FAIL;
    }
    cw_buf_free(&b);
    return rc;
}

/* A failure while reading the store: the check was not made. */
int cli_unchecked(const char *verb, const cw_err *err)
{
    fprintf(stderr, "chainwatch: %s: %s\n", verb, err->msg);
    return err->code == CW_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_UNCHECKED;
}

int cli_address_store(const char *verb, const char *text, const char *netname, const char *datadir, cw_addr *a,
                      cw_store **s, store_txn **t)
{
    if (text == NULL) {
        fprintf(stderr, "chainwatch: %s: expected an address (see chainwatch %s --help)\n", verb, verb);
        return CLI_EXIT_USAGE;
    }
    int net = CW_NET_ANY;
    if (netname) {
        cw_net n;
        if (!cw_net_from_name(netname, &n)) {
            fprintf(stderr, "chainwatch: %s: unknown network '%s' (main, test, testnet4, signet, regtest)\n", verb,
                    netname);
            return CLI_EXIT_USAGE;
        }
        net = (int)n;
    }
    int rc = cli_screen_address(verb, text, net, a);
    if (rc)
        return rc;
    char buf[4096];
    const char *dd = cli_datadir(verb, datadir, buf, sizeof buf);
    return dd ? cli_store_read(verb, dd, s, t) : CLI_EXIT_USAGE;
}

/* ---- screen ---- */

static int exit_for(screen_decision d)
{
    static const int codes[] = {CLI_EXIT_OK, CLI_EXIT_REVIEW, CLI_EXIT_HOLD, CLI_EXIT_BLOCK};
    return codes[d];
}

/* RAWTX rather than ADDRESS: '-', @FILE, or hex longer than any address. */
static bool is_raw_tx(const char *subject)
{
    size_t n = strlen(subject);
    return strcmp(subject, "-") == 0 || subject[0] == '@' ||
           (n > WL_TEXT_MAX && cw_looks_like_hex((const uint8_t *)subject, n));
}

/* The tx's bytes from the subject; CLI exit code. */
static int read_tx(const char *subject, cw_buf *raw)
{
    cw_err err = {0};
    cw_code rc;
    if (strcmp(subject, "-") == 0 || subject[0] == '@')
        rc = cw_read_file(subject[0] == '@' ? subject + 1 : subject, MAX_TX_BYTES, raw, &err);
    else
        rc = cw_buf_append(raw, subject, strlen(subject), &err);
    if (rc == CW_OK)
        rc = cw_buf_unhex_if_text(raw, &err);
    if (rc)
        return cli_fail("screen: tx", &err);
    if (raw->n == 0) {
        fprintf(stderr, "chainwatch: screen: tx: empty input from %s\n", subject);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* NULL when memory ran out (the caller's alert_put then fails). */
static json_t *policy_json(const flows_config *cfg)
{
    json_t *p = json_object();
    bool ok = true;
    alert_put(p, "hops", json_integer(cfg->hops), &ok);
    alert_put(p, "min_share_ppm", json_integer(cfg->min_share_ppm), &ok);
    alert_put(p, "min_amount", json_integer((json_int_t)cfg->min_amount), &ok);
    alert_put(p, "hold_share_ppm", json_integer(cfg->hold_share_ppm), &ok);
    alert_put(p, "labels", json_boolean(cfg->labels != NULL), &ok);
    if (!ok) {
        json_decref(p);
        return NULL;
    }
    return p;
}

static const char *const directions[] = {"deposit", "withdrawal", NULL};

typedef struct {
    const char *subject, *datadir, *netname;
    int direction; /* index in directions, -1: not given */
    uint64_t amount_sats;
    int64_t amount; /* -1: not given */
    flows_opts fo;
    cli_arg args[10];
} screen_opts;

/* The table: screen's own options and those of watch's exposure options
 * that mean something here (pointing into the same flows_opts). */
static void screen_args(screen_opts *o)
{
    const cli_arg t[] = {
        {"direction", ARG_ENUM, &o->direction, .choices = directions, .metavar = "D",
         .help = "deposit or withdrawal: recorded in the output (OFAC\nprohibits dealings either way, so the rules are the same)"},
        {"amount", ARG_BTC, &o->amount_sats, .metavar = "BTC",
         .help = "the amount at stake: exposure is judged by the share of\nit that the address's tainted receipts could cover"},
        {"network", ARG_STRING, &o->netname, .metavar = "N",
         .help = "main (default for RAWTX), test, testnet4, signet,\nregtest; an ADDRESS of another network is refused"},
        {"labels", ARG_PATH, &o->fo.labels_path, .metavar = "FILE",
         .help = "known services (chain,address,entity,category,source)"},
        {"hops", ARG_INT, &o->fo.hops, 1, EXPOSURE_MAX_HOPS, .metavar = "N",
         .help = "exposure within N hops counts (default 3, at most 8)"},
        {"min-exposure", ARG_SHARE, &o->fo.cfg.min_share_ppm, .metavar = "S",
         .help = "smaller shares of --amount are shown, allowed (default 1%)"},
        {"min-exposure-amount", ARG_BTC, &o->fo.cfg.min_amount, .metavar = "BTC",
         .help = "and smaller tainted amounts (default 0.0001)"},
        {"hold-exposure", ARG_SHARE, &o->fo.cfg.hold_share_ppm, .metavar = "S",
         .help = "shares at or above are held (default 10%)\n(a share S is 1% or 0.01; a bare 1 or more is refused as\n"
                 "ambiguous: write 100%)"},
        {"datadir", ARG_PATH, &o->datadir, .metavar = "D", .help = "default ~/.chainwatch"},
        {0},
    };
    _Static_assert(sizeof t / sizeof *t == sizeof o->args / sizeof *o->args, "screen_opts.args fits the table");
    memcpy(o->args, t, sizeof t);
}

static int parse_screen(int argc, char **argv, screen_opts *o)
{
    int n_pos;
    if (cli_args_parse("screen", o->args, argc, argv, &o->subject, 1, &n_pos))
        return CLI_EXIT_USAGE;
    if (cli_args_given(o->args, "amount")) {
        if (o->amount_sats == 0) {
            fprintf(stderr, "chainwatch: screen: --amount: 0 BTC is not above 0\n");
            return CLI_EXIT_USAGE;
        }
        o->amount = (int64_t)o->amount_sats;
    }
    if (o->subject == NULL || o->subject[0] == '\0') {
        fprintf(stderr, "chainwatch: screen: expected an ADDRESS or a RAWTX (see chainwatch screen --help)\n");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* The pattern rules, read only (rules.h): what watch and replay learnt of
 * the address, or what the tx would make the rules find if it confirmed
 * now, under `patterns`. A risk of high or severe holds, medium reviews. */
static void rules_for_screen(const flows_opts *fo, rules_config *rc)
{
    rules_config_default(rc);
    rc->labels = fo->labels;
    rc->payer_cluster = true;
}

static void raise_to(screen_decision *d, rule_risk r)
{
    screen_decision want = r >= RISK_HIGH ? SCREEN_HOLD : r == RISK_MEDIUM ? SCREEN_REVIEW : SCREEN_ALLOW;
    if (want > *d)
        *d = want;
}

static cw_code screen_rules_address(const flows_opts *fo, store_txn *t, const cw_addr *a, json_t *out,
                                    screen_decision *d, cw_err *err)
{
    rules_config rc;
    rules_for_screen(fo, &rc);
    uint8_t key[WL_KEY_MAX];
    size_t kn = wl_key_from_addr(a, key);
    cw_code c;
    json_t *j = rules_address_json(&rc, t, key, kn, &c, err);
    if (c)
        return c;
    bool ok = true;
    if (j) {
        const char *risk = json_string_value(json_object_get(j, "risk"));
        for (int r = RISK_LOW; risk && r <= RISK_SEVERE; r++)
            if (strcmp(risk, rule_risk_name((rule_risk)r)) == 0)
                raise_to(d, (rule_risk)r);
    }
    alert_put(out, "patterns", j ? j : json_null(), &ok);
    return ok ? CW_OK : cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
}

static cw_code screen_rules_tx(const flows_opts *fo, store_txn *t, const cw_tx *tx, json_t *out, screen_decision *d,
                               cw_err *err)
{
    rules_config rc;
    rules_for_screen(fo, &rc);
    const rule_finding *f;
    size_t n;
    cw_code c = rules_tx(&rc, t, NULL, tx, (int64_t)time(NULL), &f, &n, NULL, err);
    if (c)
        return c;
    json_t *arr = json_array();
    bool ok = arr != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *o = json_object();
        alert_put(o, "rule", json_string(rule_name(f[i].rule)), &ok);
        alert_put(o, "address", json_string(f[i].address), &ok);
        alert_put(o, "risk", json_string(rule_risk_name(f[i].risk)), &ok);
        alert_put(o, "evidence", json_incref(f[i].evidence), &ok);
        alert_put(o, "explanation", json_string(f[i].explanation), &ok);
        alert_push(arr, o, &ok);
        raise_to(d, f[i].risk);
    }
    alert_put(out, "patterns", arr, &ok);
    return ok ? CW_OK : cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
}

int cmd_screen(int argc, char **argv)
{
    screen_opts o = {.amount = -1, .direction = -1};
    flows_opts_init(&o.fo);
    screen_args(&o);
    if (cli_wants_help(argc, argv) || argc < 2) {
        FILE *f = argc < 2 ? stderr : stdout;
        fputs(usage, f);
        cli_args_usage(f, o.args);
        fputs(usage_tail, f);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    int rc = parse_screen(argc, argv, &o);
    cw_net net = CW_NET_MAIN;
    if (rc == CLI_EXIT_OK && o.netname && !cw_net_from_name(o.netname, &net)) {
        fprintf(stderr, "chainwatch: screen: unknown network '%s' (main, test, testnet4, signet, regtest)\n", o.netname);
        rc = CLI_EXIT_USAGE;
    }
    /* the subject first: a typo is reported before anything is opened */
    bool raw_tx = rc == CLI_EXIT_OK && is_raw_tx(o.subject);
    cw_addr addr;
    cw_buf raw = CW_BUF_INIT;
    void *arena_mem = NULL;
    cw_tx tx;
    cw_err err = {0};
    if (rc == CLI_EXIT_OK && !raw_tx) {
        rc = cli_screen_address("screen", o.subject, o.netname ? (int)net : CW_NET_ANY, &addr);
        if (rc == CLI_EXIT_OK && !o.netname && addr.chain == CW_CHAIN_BITCOIN)
            net = (cw_net)addr.net; /* its labels are of its network */
    } else if (rc == CLI_EXIT_OK) {
        rc = read_tx(o.subject, &raw);
        if (rc == CLI_EXIT_OK) {
            size_t cap = btc_arena_bound(raw.n);
            cw_arena arena;
            if ((arena_mem = malloc(cap)) == NULL)
                rc = cli_fail("screen", &(cw_err){CW_ENOMEM, CW_NO_OFFSET, "out of memory"});
            else {
                cw_arena_init(&arena, arena_mem, cap);
                if (btc_tx_parse(raw.p, raw.n, NULL, net, &arena, &tx, &err))
                    rc = cli_fail("screen: tx", &err);
            }
        }
    }
    if (rc == CLI_EXIT_OK && flows_opts_load(&o.fo, net, &err))
        rc = cli_fail("screen", &err);
    char ddbuf[4096];
    const char *datadir = rc == CLI_EXIT_OK ? cli_datadir("screen", o.datadir, ddbuf, sizeof ddbuf) : NULL;
    if (rc == CLI_EXIT_OK && datadir == NULL)
        rc = CLI_EXIT_USAGE;
    cw_store *s = NULL;
    store_txn *t = NULL;
    if (rc == CLI_EXIT_OK)
        rc = cli_store_read("screen", datadir, &s, &t);
    if (rc == CLI_EXIT_OK) {
        json_t *out = json_object(), *tip = NULL;
        screen_decision d = SCREEN_ALLOW;
        bool ok = out != NULL; /* alert_put latches a failed allocation: no partial answer is printed */
        cw_code c = ok ? screen_tip_json(t, &tip, &err) : cw_err_set(&err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
        if (c == CW_OK && raw_tx) {
            alert_put(out, "type", json_string("tx"), &ok);
            alert_put(out, "network", json_string(cw_net_name(net)), &ok);
            c = screen_tx(&o.fo.cfg, t, &tx, out, &d, &err);
            if (c == CW_OK)
                c = screen_rules_tx(&o.fo, t, &tx, out, &d, &err);
        } else if (c == CW_OK) {
            json_t *reasons = json_array();
            alert_put(out, "type", json_string("address"), &ok);
            char text[CW_ADDR_TEXT_MAX];
            cw_addr_format(&addr, text, sizeof text); /* canonical: lowercase bech32, EIP-55 */
            alert_put(out, "subject", json_string(text), &ok);
            alert_put(out, "chain", json_string(cw_chain_name((cw_chain)addr.chain)), &ok);
            c = reasons ? screen_address(&o.fo.cfg, t, &addr, o.amount, reasons, &d, &err)
                        : cw_err_set(&err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
            alert_put(out, "reasons", reasons, &ok); /* filled: the reference goes to out */
            if (c == CW_OK)
                c = screen_rules_address(&o.fo, t, &addr, out, &d, &err);
        }
        if (c == CW_OK) {
            alert_put(out, "tip", tip, &ok);
            tip = NULL;
            alert_put(out, "direction", o.direction >= 0 ? json_string(directions[o.direction]) : json_null(), &ok);
            alert_put(out, "amount", o.amount >= 0 ? json_integer(o.amount) : json_null(), &ok);
            alert_put(out, "decision", json_string(screen_decision_name(d)), &ok);
            alert_put(out, "policy", policy_json(&o.fo.cfg), &ok);
            if (!ok)
                c = cw_err_set(&err, CW_ENOMEM, CW_NO_OFFSET, "out of memory building the answer");
        }
        if (c) {
            rc = cli_unchecked("screen", &err);
        } else {
            rc = cli_print_json("screen", out);
            if (rc == CLI_EXIT_OK)
                rc = exit_for(d);
        }
        json_decref(tip);
        json_decref(out);
    }
    cli_store_done(s, t);
    free(arena_mem);
    cw_buf_free(&raw);
    flows_opts_free(&o.fo);
    return rc;
}
