/* `chainwatch decode tx|block`: Bitcoin transactions and blocks to JSON
 * lines; `decode tx --chain ethereum`: one signed Ethereum tx. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chains/addr.h"
#include "chains/bitcoin/blkfile.h"
#include "chains/bitcoin/script.h"
#include "chains/bitcoin/tx.h"
#include "chains/hex.h"
#include "args.h"
#include "cli.h"
#include "decode_tron.h"
#include "monitor/engine/decode.h"
#include "monitor/engine/decode_eth.h"
#include "watchlists/tokens.h"

#define MAX_INPUT_BYTES (256u << 20) /* a blk file is at most 128 MiB */

static const char decode_usage[] =
    "usage: chainwatch decode tx HEX|-           [--network N]\n"
    "       chainwatch decode block FILE|-       [--network N] [--summary]\n"
    "       chainwatch decode tx --chain ethereum 0xHEX|@FILE|FILE|- [--tokens FILE]\n"
    "       chainwatch decode tx --chain tron FILE|- [--tokens FILE]\n"
    "\n"
    "Decodes Bitcoin transactions and blocks into one JSON object per line.\n"
    "Input is raw bytes or hex text; '-' reads standard input. A block file may\n"
    "be a bare block or blk?????.dat records (magic, size, block), as many as\n"
    "it holds. For a block, one object with hash, prev, merkle_root, time,\n"
    "height, tx_count, merkle_ok and witness_commitment comes first, then one\n"
    "object per tx: txid, wtxid, size, vsize, weight, coinbase,\n"
    "inputs [{prevout, hint}], outputs [{n, value, type, address}].\n"
    "\n"
    "With --chain tron, FILE is a signed tx as java-tron's HTTP API returns it\n"
    "(txID, raw_data_hex, signature): one object with txid (checked against\n"
    "sha256 of the signed bytes), contract_type, owner (the signer, recovered and\n"
    "checked against the owner in the signed bytes), to, asset_kind, asset,\n"
    "symbol, decimals, amount (base units), contract, call_value, memo, timestamp,\n"
    "expiration, fee_limit, signatures. raw_data is never read.\n"
    "\n"
    "--chain ethereum: one signed tx (legacy, EIP-2930, 1559, 4844, 7702; hex\n"
    "with or without 0x, or raw bytes from a file) as one object: hash, type,\n"
    "chain_id (null before EIP-155), nonce, from (recovered from the signature,\n"
    "EIP-55), to (null: a contract creation), value (wei, a decimal string), gas\n"
    "and fee fields, token (an ERC-20 transfer/transferFrom call: kind, contract,\n"
    "symbol and decimals when known or null, from, recipient, amount in token\n"
    "units; else null) and, for type 4, authorities (each authorization's signer).\n"
    "\n"
    "Exit status: 0 decoded, 2 malformed input (the message names the byte\n"
    "offset and the field), 1 I/O failure.\n"
    "\n"
    "Options:\n";

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
        return cli_fail("decode block", &(cw_err){.code = CW_ENOMEM, .offset = CW_NO_OFFSET, .msg = "out of memory"});
    return cli_write_buf("decode", out);
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
        return cli_fail("decode tx", &(cw_err){.code = CW_ENOMEM, .offset = CW_NO_OFFSET, .msg = "out of memory"});
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
        rc = cli_write_json_line("decode", "decode tx", &j, &out);
        cw_buf_free(&out);
    }
    free(mem);
    return rc;
}

int cli_eth_raw_tx(const char *verb, const char *source, size_t max_bytes, cw_buf *raw)
{
    cw_err err = {0};
    cw_code rc;
    size_t n = strlen(source);
    bool hex_arg = n > 2 && source[0] == '0' && (source[1] == 'x' || source[1] == 'X');
    hex_arg = hex_arg || (n > 0 && cw_looks_like_hex((const uint8_t *)source, n));
    if (strcmp(source, "-") == 0 || source[0] == '@' || !hex_arg)
        rc = cw_read_file(source[0] == '@' ? source + 1 : source, max_bytes, raw, &err);
    else
        rc = cw_buf_append(raw, source, n, &err);
    if (rc == CW_OK) {
        /* hex text may carry the 0x Ethereum tools print: drop it (after leading blanks) */
        size_t i = 0;
        while (i < raw->n && (raw->p[i] == ' ' || raw->p[i] == '\t' || raw->p[i] == '\n' || raw->p[i] == '\r'))
            i++;
        if (raw->n - i > 2 && raw->p[i] == '0' && (raw->p[i + 1] == 'x' || raw->p[i + 1] == 'X') &&
            cw_looks_like_hex(raw->p + i + 2, raw->n - i - 2)) {
            memmove(raw->p, raw->p + i + 2, raw->n - i - 2);
            raw->n -= i + 2;
        }
        rc = cw_buf_unhex_if_text(raw, &err);
    }
    if (rc)
        return cli_fail(verb, &err);
    if (raw->n == 0) {
        fprintf(stderr, "chainwatch: %s: empty input\n", verb);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int cli_tokens_load(const char *verb, const char *path, tokens_table *t)
{
    cw_err err = {0};
    if (tokens_init(t, &err))
        return cli_fail(verb, &err);
    if (path && tokens_load_csv(t, path, &err)) {
        tokens_free(t);
        return cli_fail(verb, &err);
    }
    return CLI_EXIT_OK;
}

static int decode_eth_tx(const char *source, const char *tokens_path)
{
    cw_buf in = CW_BUF_INIT;
    tokens_table tokens;
    int rc = cli_tokens_load("decode tx", tokens_path, &tokens);
    if (rc)
        return rc;
    rc = cli_eth_raw_tx("decode tx", source, ETH_TX_SIZE_MAX, &in);
    if (rc == CLI_EXIT_OK) {
        eth_view v;
        cw_err err = {0};
        if (decode_eth_view(in.p, in.n, &tokens, &v, &err)) {
            rc = cli_fail("decode tx", &err);
        } else {
            cw_buf out = CW_BUF_INIT;
            cw_json j;
            cw_json_init(&j, &out);
            decode_eth_tx_json(&j, &v);
            rc = cli_write_json_line("decode", "decode tx", &j, &out);
            cw_buf_free(&out);
        }
    }
    cw_buf_free(&in);
    tokens_free(&tokens);
    return rc;
}

static const char *const chains[] = {"bitcoin", "ethereum", "tron", NULL};

int cmd_decode(int argc, char **argv)
{
    const char *pos[2] = {NULL, NULL}, *netname = NULL, *tokens_path = NULL;
    bool summary = false;
    int chain = 0;
    cli_arg args[] = {
        {"chain", ARG_ENUM, &chain, .choices = chains, .metavar = "C", .help = "bitcoin (default), ethereum or tron"},
        {"tokens", ARG_PATH, &tokens_path, .metavar = "FILE",
         .help = "ethereum, tron: more known tokens, as chain,token,\ncontract_address,decimals[,source] (built in: USDT, USDC)"},
        {"network", ARG_STRING, &netname, .metavar = "N", .help = "main (default), test, testnet4, signet, regtest"},
        {"summary", ARG_FLAG, &summary, .help = "print a human-readable summary of each block instead"},
        {0},
    };
    int help_rc;
    if (cli_args_help(argc, argv, true, decode_usage, args, &help_rc))
        return help_rc;
    int n_pos;
    if (cli_args_parse("decode", args, argc, argv, pos, 2, &n_pos))
        return CLI_EXIT_USAGE;
    const char *what = pos[0] ? pos[0] : "", *source = pos[1];
    if (chain == 2) {
        if (strcmp(what, "tx") != 0 || source == NULL || netname || summary) {
            fprintf(stderr, "chainwatch: decode: --chain tron decodes one signed tx: chainwatch decode tx --chain tron "
                            "FILE|- (no --network, --summary)\n");
            return CLI_EXIT_USAGE;
        }
        return decode_tron_tx(source, tokens_path);
    }
    if (chain == 1) {
        if (strcmp(what, "tx") != 0 || source == NULL || netname || summary) {
            fprintf(stderr, "chainwatch: decode: --chain ethereum decodes one tx: chainwatch decode tx --chain "
                            "ethereum 0xHEX|@FILE|FILE|- (no --network, --summary)\n");
            return CLI_EXIT_USAGE;
        }
        return decode_eth_tx(source, tokens_path);
    }
    if (tokens_path) {
        fprintf(stderr, "chainwatch: decode: --tokens is for --chain ethereum or tron\n");
        return CLI_EXIT_USAGE;
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
