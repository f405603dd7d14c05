/* `chainwatch decode` and `chainwatch address`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chains/addr.h"
#include "chains/bitcoin/blkfile.h"
#include "chains/bitcoin/script.h"
#include "chains/bitcoin/tx.h"
#include "chains/hex.h"
#include "cli.h"
#include "monitor/engine/decode.h"

#define MAX_INPUT_BYTES (256u << 20) /* a blk file is at most 128 MiB */

int cli_fail(const char *context, const cw_err *err)
{
    fprintf(stderr, "chainwatch: %s: %s\n", context, err->msg);
    switch (err->code) {
    case CW_EIO:
    case CW_ENOMEM:
    case CW_ESTORE:
        return CLI_EXIT_FAIL;
    case CW_EDAMAGED: /* every verb: a damaged store is "could not check", never a result */
        return CLI_EXIT_UNCHECKED;
    default:
        return CLI_EXIT_USAGE;
    }
}

bool cli_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return false;
    if (a[n] == '=') {
        *value = a + n + 1;
        *i += 1;
        return true;
    }
    if (a[n] != '\0')
        return false;
    *value = *i + 1 < argc ? argv[*i + 1] : NULL;
    *i += *value ? 2 : 1;
    return true;
}

double cli_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool cli_wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

static const char decode_usage[] =
    "usage: chainwatch decode tx HEX|-           [--network N]\n"
    "       chainwatch decode block FILE|-       [--network N] [--summary]\n"
    "\n"
    "Decodes Bitcoin transactions and blocks into one JSON object per line.\n"
    "Input is raw bytes or hex text; '-' reads standard input. A block file may\n"
    "be a bare block or blk?????.dat records (magic, size, block), as many as\n"
    "it holds. For a block, one object with hash, prev, merkle_root, time,\n"
    "height, tx_count, merkle_ok and witness_commitment comes first, then one\n"
    "object per tx: txid, wtxid, size, vsize, weight, coinbase,\n"
    "inputs [{prevout, hint}], outputs [{n, value, type, address}].\n"
    "\n"
    "  --network N   main (default), test, testnet4, signet, regtest\n"
    "  --summary     print a human-readable summary of each block instead\n"
    "\n"
    "Exit status: 0 decoded, 2 malformed input (the message names the byte\n"
    "offset and the field), 1 I/O failure.\n";

static const char address_usage[] =
    "usage: chainwatch address ADDR [--network N]\n"
    "\n"
    "Parses an address: Bitcoin (base58check P2PKH/P2SH, bech32 v0, bech32m v1+),\n"
    "EVM (0x..., EIP-55 checked when mixed case) or Tron (T..., base58check),\n"
    "and prints {\"chain\",\"network\",\"kind\",\"witness_version\",\"payload\",\"script\",\"address\"}.\n"
    "Without --network the network is detected; testnet3, testnet4 and signet\n"
    "share one address space, reported as \"test\".\n"
    "Exit status: 0 valid, 2 invalid (one line on stderr says why).\n";

/* Writes b to stdout; a failure stops the verb at once (a block file of
 * thousands of lines is not written on into a full disk). */
static int write_out(const char *verb, cw_buf *b)
{
    if (b->n)
        fwrite(b->p, 1, b->n, stdout); /* a short write sets the stream's error */
    b->n = 0;
    return cli_out_ok(verb) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

typedef struct {
    cw_json *j;
} tx_lines_ctx;

static cw_code emit_tx_line(void *ctx, cw_tx *tx, cw_err *err)
{
    tx_lines_ctx *c = ctx;
    decode_tx_json(c->j, tx);
    cw_json_newline(c->j);
    if (!cw_json_ok(c->j))
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory writing JSON");
    return CW_OK;
}

static void print_summary(const block_summary *s, cw_net net)
{
    char hash[65];
    cw_hex_encode_rev(s->header.hash, 32, hash);
    char when[32];
    time_t t = (time_t)s->header.time;
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
    printf("block %s (%s)\n", hash, cw_net_name(net));
    if (s->has_height)
        printf("  height        %lld\n", (long long)s->height);
    printf("  time          %s\n", when);
    printf("  size          %zu bytes, weight %llu\n", s->size, (unsigned long long)s->weight);
    printf("  transactions  %llu (%llu segwit)\n", (unsigned long long)s->tx_count, (unsigned long long)s->n_segwit);
    printf("  inputs        %llu\n", (unsigned long long)s->n_inputs);
    printf("  outputs       %llu, %llu to an address, %llu.%08llu BTC in all\n", (unsigned long long)s->n_outputs,
           (unsigned long long)s->n_with_address, (unsigned long long)(s->total_out / 100000000),
           (unsigned long long)(s->total_out % 100000000));
    printf("  merkle root   %s\n", s->merkle_ok && !s->merkle_mutated ? "ok" : "MISMATCH");
    static const char *const w[] = {"none", "ok", "MISMATCH", "MISSING (witness data without a commitment)"};
    printf("  witness       %s\n", w[s->witness]);
    printf("  output types ");
    for (int k = 0; k <= CW_SCRIPT_MULTISIG; k++)
        if (s->by_type[k])
            printf(" %s %llu", cw_script_type_name((cw_script_type)k), (unsigned long long)s->by_type[k]);
    printf("\n");
}

static int decode_one_block(block_walker *w, const uint8_t *p, size_t n, cw_net net, bool summary, size_t base,
                            cw_buf *txlines, cw_buf *out)
{
    cw_json j;
    cw_json_init(&j, txlines);
    tx_lines_ctx ctx = {&j};
    block_summary s;
    cw_err err = {0};
    txlines->n = 0;
    cw_code rc = decode_block_walk(w, p, n, net, summary ? NULL : emit_tx_line, &ctx, &s, &err);
    if (rc) {
        if (base != CW_NO_OFFSET && err.offset != CW_NO_OFFSET)
            cw_err_prefix(&err, rc, "block record at file byte %zu", base);
        return cli_fail("decode block", &err);
    }
    if (summary) {
        print_summary(&s, net);
        return cli_out_ok("decode") ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }
    cw_json hj;
    cw_json_init(&hj, out);
    decode_block_json(&hj, &s);
    cw_json_newline(&hj);
    if (!cw_json_ok(&hj) || cw_buf_append(out, txlines->p, txlines->n, &err))
        return cli_fail("decode block", &(cw_err){CW_ENOMEM, CW_NO_OFFSET, "out of memory"});
    return write_out("decode", out);
}

static int decode_block_input(cw_buf *in, cw_net net, bool net_given, bool summary)
{
    block_walker w = {0};
    cw_buf txlines = CW_BUF_INIT, out = CW_BUF_INIT;
    int rc = CLI_EXIT_OK;
    if (btc_blk_is_framed(in->p, in->n)) {
        size_t pos = 0;
        for (;;) {
            size_t at = pos;
            cw_net rec_net;
            cw_span blk;
            bool done;
            cw_err err = {0};
            if (btc_blk_next(in->p, in->n, &pos, &rec_net, &blk, &done, &err)) {
                rc = cli_fail("decode block", &err);
                break;
            }
            if (done)
                break;
            if (net_given && rec_net != net) {
                cw_err_set(&err, CW_EARG, at, "byte %zu: record magic is %s, but --network is %s", at,
                           cw_net_name(rec_net), cw_net_name(net));
                rc = cli_fail("decode block", &err);
                break;
            }
            if ((rc = decode_one_block(&w, blk.p, blk.n, rec_net, summary, at, &txlines, &out)))
                break;
        }
    } else {
        rc = decode_one_block(&w, in->p, in->n, net, summary, CW_NO_OFFSET, &txlines, &out);
    }
    block_walker_free(&w);
    cw_buf_free(&txlines);
    cw_buf_free(&out);
    return rc;
}

static int decode_tx_input(cw_buf *in, cw_net net)
{
    size_t cap = btc_arena_bound(in->n);
    void *mem = malloc(cap);
    if (mem == NULL)
        return cli_fail("decode tx", &(cw_err){CW_ENOMEM, CW_NO_OFFSET, "out of memory"});
    cw_arena arena;
    cw_arena_init(&arena, mem, cap);
    cw_tx tx;
    cw_err err = {0};
    int rc;
    if (btc_tx_parse(in->p, in->n, NULL, net, &arena, &tx, &err)) {
        rc = cli_fail("decode tx", &err);
    } else {
        cw_buf out = CW_BUF_INIT;
        cw_json j;
        cw_json_init(&j, &out);
        decode_tx_json(&j, &tx);
        cw_json_newline(&j);
        rc = cw_json_ok(&j) ? write_out("decode", &out)
                            : cli_fail("decode tx", &(cw_err){CW_ENOMEM, CW_NO_OFFSET, "out of memory"});
        cw_buf_free(&out);
    }
    free(mem);
    return rc;
}

int cmd_decode(int argc, char **argv)
{
    if (cli_wants_help(argc, argv) || argc < 2) {
        fputs(decode_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *what = argv[1], *source = NULL, *netname = NULL;
    bool summary = false;
    for (int i = 2; i < argc;) {
        const char *v;
        if (cli_opt(argc, argv, &i, "--network", &v)) {
            if (v == NULL) {
                fprintf(stderr, "chainwatch: decode: --network needs a value\n");
                return CLI_EXIT_USAGE;
            }
            netname = v;
        } else if (strcmp(argv[i], "--summary") == 0) {
            summary = true;
            i++;
        } else if (source == NULL && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) {
            source = argv[i++];
        } else {
            fprintf(stderr, "chainwatch: decode: unexpected argument '%s' (see chainwatch decode --help)\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    cw_net net = CW_NET_MAIN;
    if (netname && !cw_net_from_name(netname, &net)) {
        fprintf(stderr, "chainwatch: decode: unknown network '%s' (main, test, testnet4, signet, regtest)\n", netname);
        return CLI_EXIT_USAGE;
    }
    if (source == NULL) {
        fprintf(stderr, "chainwatch: decode %s: missing input (hex, a file, or - for standard input)\n", what);
        return CLI_EXIT_USAGE;
    }
    cw_buf in = CW_BUF_INIT;
    cw_err err = {0};
    int rc;
    bool is_tx = strcmp(what, "tx") == 0;
    if (!is_tx && strcmp(what, "block") != 0) {
        fprintf(stderr, "chainwatch: decode: unknown object '%s' (tx or block)\n", what);
        return CLI_EXIT_USAGE;
    }
    if (is_tx && strcmp(source, "-") != 0) {
        rc = cw_buf_append(&in, source, strlen(source), &err) ? CW_ENOMEM : CW_OK;
        if (rc == CW_OK && !cw_looks_like_hex(in.p, in.n)) {
            cw_err_set(&err, CW_EFORMAT, CW_NO_OFFSET, "the argument is not hex (use - to read raw bytes from standard input)");
            rc = CW_EFORMAT;
        }
    } else {
        rc = cw_read_file(source, MAX_INPUT_BYTES, &in, &err);
    }
    if (rc == CW_OK)
        rc = cw_buf_unhex_if_text(&in, &err);
    if (rc) {
        rc = cli_fail(is_tx ? "decode tx" : "decode block", &err);
    } else if (in.n == 0) {
        fprintf(stderr, "chainwatch: decode %s: empty input\n", what);
        rc = CLI_EXIT_USAGE;
    } else {
        rc = is_tx ? decode_tx_input(&in, net) : decode_block_input(&in, net, netname != NULL, summary);
    }
    cw_buf_free(&in);
    return rc;
}

int cmd_address(int argc, char **argv)
{
    if (cli_wants_help(argc, argv) || argc < 2) {
        fputs(address_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *text = NULL, *netname = NULL;
    for (int i = 1; i < argc;) {
        const char *v;
        if (cli_opt(argc, argv, &i, "--network", &v)) {
            if (v == NULL) {
                fprintf(stderr, "chainwatch: address: --network needs a value\n");
                return CLI_EXIT_USAGE;
            }
            netname = v;
        } else if (text == NULL) {
            text = argv[i++];
        } else {
            fprintf(stderr, "chainwatch: address: unexpected argument '%s'\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    int net = CW_NET_ANY;
    if (netname) {
        cw_net n;
        if (!cw_net_from_name(netname, &n)) {
            fprintf(stderr, "chainwatch: address: unknown network '%s'\n", netname);
            return CLI_EXIT_USAGE;
        }
        net = (int)n;
    }
    if (text == NULL) {
        fputs(address_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    cw_addr a;
    cw_err err = {0};
    char q[4 * CW_ADDR_TEXT_MAX + 8];
    if (cw_addr_parse(text, net, &a, &err))
        return cli_fail(cli_quote(text, q, sizeof q), &err);
    char canon[CW_ADDR_TEXT_MAX];
    uint8_t script[42];
    size_t slen = btc_script_for_addr(&a, script);
    cw_addr_format(&a, canon, sizeof canon);
    cw_buf out = CW_BUF_INIT;
    cw_json j;
    cw_json_init(&j, &out);
    cw_json_obj_begin(&j);
    cw_json_key(&j, "chain");
    cw_json_str(&j, cw_chain_name((cw_chain)a.chain));
    cw_json_key(&j, "network");
    cw_json_str(&j, cw_net_name((cw_net)a.net));
    cw_json_key(&j, "kind");
    cw_json_str(&j, cw_addr_kind_name((cw_addr_kind)a.kind));
    cw_json_key(&j, "witness_version");
    if (a.kind >= CW_ADDR_P2WPKH && a.kind <= CW_ADDR_WITNESS)
        cw_json_u64(&j, a.version);
    else
        cw_json_null(&j);
    cw_json_key(&j, "payload");
    cw_json_hex(&j, a.payload, a.len);
    cw_json_key(&j, "script");
    if (slen)
        cw_json_hex(&j, script, slen);
    else
        cw_json_null(&j);
    cw_json_key(&j, "address");
    cw_json_str(&j, canon);
    cw_json_obj_end(&j);
    cw_json_newline(&j);
    int rc = cw_json_ok(&j) ? write_out("address", &out) : CLI_EXIT_FAIL;
    cw_buf_free(&out);
    return rc;
}
