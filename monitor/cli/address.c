/* `chainwatch address ADDR`: parse and check an address. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "chains/addr.h"
#include "chains/bitcoin/script.h"
#include "chains/json.h"
#include "cli.h"

static const char address_usage[] =
    "usage: chainwatch address ADDR [--network N]\n"
    "\n"
    "Parses an address: Bitcoin (base58check P2PKH/P2SH, bech32 v0, bech32m v1+),\n"
    "EVM (0x..., EIP-55 checked when mixed case) or Tron (T..., base58check),\n"
    "and prints {\"chain\",\"network\",\"kind\",\"witness_version\",\"payload\",\"script\",\"address\"}.\n"
    "Without --network the network is detected; testnet3, testnet4 and signet\n"
    "share one address space, reported as \"test\".\n"
    "Exit status: 0 valid, 2 invalid (one line on stderr says why).\n"
    "\n"
    "Options:\n";

int cmd_address(int argc, char **argv)
{
    const char *text = NULL, *netname = NULL;
    cli_arg args[] = {
        {"network", ARG_STRING, &netname, .metavar = "N",
         .help = "main, test, testnet4, signet or regtest: an address of\nanother network is refused"},
        {0},
    };
    int help_rc;
    if (cli_args_help(argc, argv, true, address_usage, args, &help_rc))
        return help_rc;
    int n_pos;
    if (cli_args_parse("address", args, argc, argv, &text, 1, &n_pos))
        return CLI_EXIT_USAGE;
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
        fprintf(stderr, "chainwatch: address: expected an address (see chainwatch address --help)\n");
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
    int rc = cw_json_ok(&j) ? cli_write_buf("address", &out) : CLI_EXIT_FAIL;
    cw_buf_free(&out);
    return rc;
}
