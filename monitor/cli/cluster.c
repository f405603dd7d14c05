/*
 * `chainwatch cluster ADDR`: the wallet (common-input cluster) the monitor
 * has put an address in, for an analyst. Read only, like `screen`.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "chains/addr.h"
#include "cli.h"
#include "monitor/records/alert.h"
#include "monitor/engine/screen.h"
#include "watchlists/cluster.h"
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
    "For an EVM or Tron account the answer is applicable false with a note: account\n"
    "chains have no common-input clustering (see trace and screen for exposure).\n"
    "Exit status: 0 found (a cluster of one included); 1 out of memory or\n"
    "standard output failed; 2 bad input; 3 a store error (the store could not\n"
    "be opened or read, or is damaged).\n"
    "\n"
    "Options:\n";

int cmd_cluster(int argc, char **argv)
{
    const char *addr = NULL, *datadir = NULL, *netname = NULL;
    cli_arg args[] = {
        {"datadir", ARG_PATH, &datadir, .metavar = "D", .help = "default ~/.chainwatch"},
        {"network", ARG_STRING, &netname, .metavar = "N", .help = "main, test, testnet4, signet or regtest"},
        {0},
    };
    int help_rc;
    if (cli_args_help(argc, argv, true, cluster_usage, args, &help_rc))
        return help_rc;
    cw_addr a;
    cw_store *s = NULL;
    store_txn *t = NULL;
    int n_pos;
    int rc = cli_args_parse("cluster", args, argc, argv, &addr, 1, &n_pos) ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    if (rc == CLI_EXIT_OK)
        rc = cli_address_store("cluster", addr, netname, datadir, &a, &s, &t);
    if (rc == CLI_EXIT_OK) {
        char text[CW_ADDR_TEXT_MAX];
        uint8_t key[WL_KEY_MAX], join[32];
        cw_addr_format(&a, text, sizeof text);
        size_t kn = wl_key_from_addr(&a, key);
        cluster_info c;
        cw_err err = {0};
        json_t *out = json_object();
        bool ok = out != NULL; /* alert_put latches a failed allocation: no partial answer is printed */
        alert_put(out, "address", json_string(text), &ok);
        bool listed = false;
        json_t *tip = NULL;
        if (ok && (a.chain == CW_CHAIN_EVM || a.chain == CW_CHAIN_TRON)) {
            /* no common-input ownership on account chains: an account is one pool */
            if (wl_is_listed(t, key, kn, &listed, &err) || screen_tip_json(t, &tip, &err)) {
                json_decref(tip);
                rc = cli_unchecked("cluster", &err);
            } else {
                alert_put(out, "applicable", json_false(), &ok);
                alert_put(out, "note", json_string("not applicable: account chains (EVM, Tron) have no common-input "
                                                   "clustering; an account is its own wallet. See 'chainwatch trace' "
                                                   "and 'chainwatch screen' for its exposure"), &ok);
                alert_put(out, "listed", json_boolean(listed), &ok);
                alert_put(out, "tip", tip, &ok);
                rc = ok ? cli_print_json("cluster", out)
                        : cli_unchecked("cluster", &(cw_err){.code = CW_ENOMEM, .offset = CW_NO_OFFSET,
                                                             .msg = "out of memory building the answer"});
            }
        } else if (!ok) {
            rc = cli_unchecked("cluster", &(cw_err){.code = CW_ENOMEM, .offset = CW_NO_OFFSET, .msg = "out of memory"});
        } else if (wl_is_listed(t, key, kn, &listed, &err) || screen_tip_json(t, &tip, &err) ||
                   cluster_find(t, key, kn, &c, join, &err) || screen_cluster_fields(t, &c, join, out, NULL, &err)) {
            json_decref(tip);
            rc = cli_unchecked("cluster", &err);
        } else {
            alert_put(out, "listed", json_boolean(listed), &ok);
            alert_put(out, "tip", tip, &ok);
            rc = ok ? cli_print_json("cluster", out)
                    : cli_unchecked("cluster", &(cw_err){.code = CW_ENOMEM, .offset = CW_NO_OFFSET,
                                                         .msg = "out of memory building the answer"});
        }
        json_decref(out);
    }
    cli_store_done(s, t);
    return rc;
}
