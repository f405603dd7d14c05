/*
 * `chainwatch screen ADDRESS|RAWTX`: allow, review, hold or block, with the
 * reasons, before crediting a deposit or sending a withdrawal (screen.h has
 * the rules). Also the helpers every read-only screening verb shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/records/alert.h"
#include "chains/addr.h"
#include "chains/bitcoin/tx.h"
#include "chains/hex.h"
#include "chains/tron/api.h"
#include "args.h"
#include "cli.h"
#include "args_flows.h"
#include "monitor/engine/decode_eth.h"
#include "monitor/engine/screen.h"
#include "watchlists/watchlist.h"

static const char usage[] =
    "usage: chainwatch screen ADDRESS|RAWTX [--direction deposit|withdrawal] [--amount BTC]\n"
    "                         [--datadir D] [--network N] [--labels FILE] [--hops N]\n"
    "                         [--min-exposure S] [--min-exposure-amount BTC] [--hold-exposure S]\n"
    "                         [--chain bitcoin|ethereum] [--tokens FILE]\n"
    "\n"
    "The decision an exchange needs before crediting a deposit or sending a\n"
    "withdrawal, from what the monitor has learnt (watchlist, clusters, exposure).\n"
    "Reads the store only: it runs beside a live `watch`, and knows the chain up\n"
    "to the monitor's tip (printed as `tip`).\n"
    "\n"
    "  ADDRESS      Bitcoin (any network), EVM or Tron; other chains' addresses\n"
    "               cannot be told from typos here: use `watchlist lookup`\n"
    "  RAWTX        a raw transaction as hex (told from an address by its length),\n"
    "               @FILE (raw bytes or hex) or - (standard input); a signed\n"
    "               Ethereum tx (0x02f8..., 0xf86c...) is told by its form; a\n"
    "               signed Tron tx as java-tron's HTTP API returns it (JSON:\n"
    "               txID, raw_data_hex, signature) as @FILE, the JSON itself,\n"
    "               or - with --chain tron\n"
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
    "Ethereum RAWTX (signed, before broadcast): the sender is recovered from the\n"
    "signature; the sender, `to`, an ERC-20 transfer/transferFrom call's from and\n"
    "recipient (read from the calldata; `token` names the token when known) and a\n"
    "type 4 tx's authorities and delegates are each screened as an ADDRESS, with\n"
    "their roles. Malformed calldata behind a transfer selector is refused (2).\n"
    "Tron tx: decoded from its signed bytes (raw_data_hex; txID checked), its\n"
    "signer recovered and checked against the owner in them (else 2); the signer\n"
    "and every transfer's sender and recipient (a TRC-20 transfer's recipient from\n"
    "its calldata, never the token contract) are screened as ADDRESSes with their\n"
    "roles; `transfers` lists what it moves, amounts exact in base units.\n"
    "`patterns`: the pattern rules, read only: an ADDRESS's stats; a RAWTX's\n"
    "findings as if it confirmed now (Ethereum and Tron: its value and the token\n"
    "transfer its calldata asks for). Risk high or severe holds, medium reviews.\n"
    "\n"
    "Exit status: 0 allow, 10 review, 11 hold, 12 block; 1 out of memory or\n"
    "standard output failed; 2 usage or bad input (a mistyped address is never\n"
    "'allow'); 3 a store error: the store could not be opened or read, or is\n"
    "damaged (never read a 3 as allow).\n";

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
        cli_store_format_hint(verb, &err);
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
    cli_store_format_hint(verb, err);
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

/* RAWTX rather than ADDRESS: '-', @FILE, or hex longer than any address
 * (with 0x: an Ethereum tx; an EVM address is 42 characters). */
static bool is_raw_tx(const char *subject)
{
    size_t n = strlen(subject);
    bool eth_hex = n > 42 && subject[0] == '0' && (subject[1] == 'x' || subject[1] == 'X') &&
                   cw_looks_like_hex((const uint8_t *)subject + 2, n - 2);
    return strcmp(subject, "-") == 0 || subject[0] == '@' || subject[0] == '{' || eth_hex ||
           (n > WL_TEXT_MAX && cw_looks_like_hex((const uint8_t *)subject, n));
}

/* Is this raw input an Ethereum tx? Hex with 0x is; bytes are when they
 * start as one: an RLP list (legacy), or a type byte 1-4 then an RLP list
 * (a Bitcoin tx starts with its 4-byte little-endian version, 01 00 or
 * 02 00, so its second byte is never a list header). */
static bool looks_eth(const char *subject, const cw_buf *raw)
{
    if (subject[0] == '0' && (subject[1] == 'x' || subject[1] == 'X'))
        return true;
    if (raw->n < 2)
        return false;
    uint8_t b0 = raw->p[0], b1 = raw->p[1];
    return b0 >= 0xc0 || (b0 >= 1 && b0 <= 4 && b1 >= 0xc0);
}

/* A Tron tx's JSON: --chain tron, or (auto) the JSON itself or an @FILE
 * holding a JSON object. Reads it into raw (CLI exit code in *rc). */
static bool tron_json_subject(const char *subject, int chain, cw_buf *raw, int *rc)
{
    *rc = CLI_EXIT_OK;
    if (chain != 3 && chain != 0)
        return false;
    cw_err err = {0};
    cw_code c = CW_OK;
    if (subject[0] == '{')
        c = cw_buf_append(raw, subject, strlen(subject), &err);
    else if (subject[0] == '@' || (chain == 3 && strcmp(subject, "-") == 0))
        c = cw_read_file(subject[0] == '@' ? subject + 1 : subject, MAX_TX_BYTES, raw, &err);
    else if (chain == 0)
        return false;
    else
        c = cw_err_set(&err, CW_EARG, CW_NO_OFFSET, "a Tron tx is JSON: @FILE, - or the JSON itself");
    if (c) {
        *rc = cli_fail("screen: tron tx", &err);
        return true;
    }
    size_t i = 0;
    while (i < raw->n && (raw->p[i] == ' ' || raw->p[i] == '\t' || raw->p[i] == '\n' || raw->p[i] == '\r'))
        i++;
    if (i < raw->n && raw->p[i] == '{')
        return true;
    if (chain == 3) {
        fprintf(stderr, "chainwatch: screen: tron tx: not a JSON object (a signed tx as java-tron's HTTP API returns it)\n");
        *rc = CLI_EXIT_USAGE;
        return true;
    }
    raw->n = 0; /* auto: an @FILE that is not JSON is read again as raw bytes or hex */
    return false;
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

static const char *const directions[] = {"deposit", "withdrawal", NULL};
static const char *const chains[] = {"auto", "bitcoin", "ethereum", "tron", NULL};

typedef struct {
    const char *subject, *datadir, *netname;
    int direction; /* index in directions, -1: not given */
    uint64_t amount_sats;
    int64_t amount; /* -1: not given */
    flows_opts fo;
    int chain; /* index in chains: 0 auto */
    const char *tokens_path;
    cli_arg args[12];
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
        {"chain", ARG_ENUM, &o->chain, .choices = chains, .metavar = "C",
         .help = "the RAWTX's chain: auto (default: told by its form),\nbitcoin, ethereum or tron"},
        {"tokens", ARG_PATH, &o->tokens_path, .metavar = "FILE",
         .help = "Ethereum, Tron: more known tokens\n(chain,token,contract_address,decimals[,source];\nbuilt in: USDT, USDC)"},
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
    bool is_eth = false, have_tokens = false, is_tron = false;
    tokens_table tokens;
    eth_view ev;
    tron_signed tron = {0};
    if (rc == CLI_EXIT_OK && !raw_tx) {
        rc = cli_screen_address("screen", o.subject, o.netname ? (int)net : CW_NET_ANY, &addr);
        if (rc == CLI_EXIT_OK && !o.netname && addr.chain == CW_CHAIN_BITCOIN)
            net = (cw_net)addr.net; /* its labels are of its network */
    } else if (rc == CLI_EXIT_OK) {
        is_tron = tron_json_subject(o.subject, o.chain, &raw, &rc);
        if (is_tron && rc == CLI_EXIT_OK && (o.netname || o.amount >= 0)) {
            fprintf(stderr, "chainwatch: screen: --network and --amount (BTC) are for Bitcoin, not a Tron tx\n");
            rc = CLI_EXIT_USAGE;
        }
        /* decoded from the signed bytes, its signer recovered and checked: else refused (2) */
        if (is_tron && rc == CLI_EXIT_OK && tron_signed_parse((const char *)raw.p, raw.n, &tron, &err))
            rc = cli_fail("screen: tron tx", &err);
        else if (is_tron && rc == CLI_EXIT_OK && (rc = cli_tokens_load("screen", o.tokens_path, &tokens)) == CLI_EXIT_OK)
            have_tokens = true; /* the pattern rules name USDT by them */
        /* Ethereum's reader also takes hex with 0x (in the argument or the file) */
        if (!is_tron)
            rc = o.chain == 1 ? read_tx(o.subject, &raw) : cli_eth_raw_tx("screen: tx", o.subject, MAX_TX_BYTES, &raw);
        is_eth = !is_tron && rc == CLI_EXIT_OK && (o.chain == 2 || (o.chain == 0 && looks_eth(o.subject, &raw)));
        if (rc == CLI_EXIT_OK && is_eth) {
            if (o.netname || o.amount >= 0) {
                fprintf(stderr, "chainwatch: screen: --network and --amount (BTC) are for Bitcoin, not an Ethereum tx\n");
                rc = CLI_EXIT_USAGE;
            } else if ((rc = cli_tokens_load("screen", o.tokens_path, &tokens)) == CLI_EXIT_OK) {
                have_tokens = true;
                if (decode_eth_view(raw.p, raw.n, &tokens, &ev, &err)) {
                    rc = cli_fail("screen: tx", &err);
                } else if (ev.tx.n_auth > SCREEN_ETH_AUTH_MAX) { /* bad input, before the store is opened */
                    fprintf(stderr,
                            "chainwatch: screen: tx: %zu authorizations, above %d (25000 gas each: more than any "
                            "Ethereum block holds): not screened\n",
                            ev.tx.n_auth, SCREEN_ETH_AUTH_MAX);
                    rc = CLI_EXIT_USAGE;
                } else if (ev.tx.has_chain_id && ev.tx.chain_id > SCREEN_ETH_CHAIN_ID_MAX) {
                    fprintf(stderr,
                            "chainwatch: screen: tx: chain id %llu is above 2^63-1, no network's (EIP-2294): not "
                            "screened\n",
                            (unsigned long long)ev.tx.chain_id);
                    rc = CLI_EXIT_USAGE;
                }
            }
        } else if (rc == CLI_EXIT_OK && !is_tron) {
            size_t cap = btc_arena_bound(raw.n);
            cw_arena arena;
            if ((arena_mem = malloc(cap)) == NULL)
                rc = cli_fail("screen", &(cw_err){.code = CW_ENOMEM, .offset = CW_NO_OFFSET, .msg = "out of memory"});
            else {
                cw_arena_init(&arena, arena_mem, cap);
                if (btc_tx_parse(raw.p, raw.n, NULL, net, &arena, &tx, &err))
                    rc = cli_fail("screen: tx", &err);
            }
        }
    }
    if (rc == CLI_EXIT_OK && !is_eth && (o.chain == 2 || (o.tokens_path && !is_tron))) {
        fprintf(stderr, "chainwatch: screen: --chain ethereum takes an Ethereum RAWTX, --tokens an Ethereum or Tron "
                        "one\n");
        rc = CLI_EXIT_USAGE;
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
        /* the one answer, as POST /v1/screen gives it (screen_answer) */
        json_t *out = NULL;
        screen_decision d = SCREEN_ALLOW;
        cw_addr signer;
        if (is_tron)
            tron_addr(&signer, tron.signer);
        screen_subject subj = {raw_tx ? NULL : &addr, raw_tx && !is_eth && !is_tron ? &tx : NULL, is_eth ? &ev : NULL,
                               is_tron ? &tron.tx : NULL, is_tron ? &signer : NULL, net,
                               o.amount, o.direction >= 0 ? directions[o.direction] : NULL,
                               have_tokens ? &tokens : NULL};
        if (screen_answer(&o.fo.cfg, t, &subj, &out, &d, &err)) {
            rc = cli_unchecked("screen", &err);
        } else {
            rc = cli_print_json("screen", out);
            if (rc == CLI_EXIT_OK)
                rc = exit_for(d);
        }
        json_decref(out);
    }
    cli_store_done(s, t);
    if (have_tokens)
        tokens_free(&tokens);
    free(arena_mem);
    if (is_tron)
        tron_signed_free(&tron);
    cw_buf_free(&raw);
    flows_opts_free(&o.fo);
    return rc;
}
