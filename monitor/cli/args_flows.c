#include "args_flows.h"

#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void flows_opts_init(flows_opts *o)
{
    memset(o, 0, sizeof *o);
    flows_config_default(&o->cfg);
    o->hops = o->cfg.hops;
    /* cluster_limit is a uint64_t written as an int64_t (2 or more): the
     * signed and unsigned types may alias */
    const cli_arg t[] = {
        {"clusters", ARG_SWITCH, &o->cfg.enabled, .metavar = "on|off",
         .help = "common-input clustering and exposure tracing", .from = ARG_CONF},
        {"labels", ARG_PATH, &o->labels_path, .metavar = "FILE",
         .help = "known services (chain,address,entity,category,source):\ndesignation and exposure stop at them",
         .from = ARG_CONF},
        {"watch", ARG_PATH, &o->watch_path, .metavar = "FILE",
         .help = "your own deposit addresses, one per line: any payment\ninto them with designated or indirect exposure is\n"
                 "recorded with decision hold or review",
         .from = ARG_CONF},
        {"hops", ARG_INT, &o->hops, 1, EXPOSURE_MAX_HOPS, .metavar = "N",
         .help = "follow designated money N txs (default 3, at most 8)", .from = ARG_CONF},
        {"min-exposure", ARG_SHARE, &o->cfg.min_share_ppm, .metavar = "SHARE",
         .help = "smallest share worth a record, 1% or 0.01 (default 1%;\na bare 1 or more is refused: write 100%)",
         .from = ARG_CONF},
        {"min-exposure-amount", ARG_BTC, &o->cfg.min_amount, .metavar = "BTC",
         .help = "and smallest amount (default 0.0001)", .from = ARG_CONF},
        {"hold-exposure", ARG_SHARE, &o->cfg.hold_share_ppm, .metavar = "SHARE",
         .help = "watched deposits at or above it: hold (default 10%)", .from = ARG_CONF},
        {"cluster-limit", ARG_INT, (int64_t *)&o->cfg.cluster_limit, 2, INT64_MAX, .metavar = "N",
         .help = "a bigger cluster stops propagating (default 100000)", .from = ARG_CONF},
        {"payjoin-guard", ARG_SWITCH, &o->cfg.payjoin_guard, .metavar = "on|off",
         .help = "also leave unmerged a 2-output tx with an unnecessary\ninput (possible PayJoin; default off: ordinary\n"
                 "wallets make that shape, and skipping it splits them)",
         .from = ARG_CONF},
        {0},
    };
    _Static_assert(sizeof t / sizeof *t == sizeof o->args / sizeof *o->args, "flows_opts.args fits the table");
    memcpy(o->args, t, sizeof t);
}

cw_code flows_opts_load(flows_opts *o, cw_net net, cw_err *err)
{
    cw_code rc;
    o->cfg.hops = (unsigned)o->hops;
    if (o->labels_path) {
        labels_stats st;
        if ((rc = labels_load(o->labels_path, net, &o->labels, &st, err)))
            return rc;
        o->cfg.labels = o->labels;
    }
    if (o->watch_path) {
        if ((rc = addrset_load(o->watch_path, &o->watched, err)))
            return rc;
        o->cfg.watched = o->watched;
    }
    return CW_OK;
}

const flows_config *flows_opts_config(const flows_opts *o) { return o->cfg.enabled ? &o->cfg : NULL; }

void flows_opts_describe(const flows_opts *o, char *out, size_t cap)
{
    if (!o->cfg.enabled) {
        snprintf(out, cap, "clusters and exposure off");
        return;
    }
    snprintf(out, cap, "clusters and exposure on: %u hops, min %.2f%% and %llu sat, hold at %.2f%%, cluster limit %llu, "
                       "%s%s, %zu watched addresses%s",
             o->cfg.hops, o->cfg.min_share_ppm / 1e4, (unsigned long long)o->cfg.min_amount, o->cfg.hold_share_ppm / 1e4,
             (unsigned long long)o->cfg.cluster_limit, o->labels_path ? "labels from " : "no labels",
             o->labels_path ? o->labels_path : "", addrset_count(o->watched),
             o->cfg.payjoin_guard ? ", PayJoin guard on" : "");
}

void flows_opts_free(flows_opts *o)
{
    labels_free(o->labels);
    addrset_free(o->watched);
    o->labels = NULL;
    o->watched = NULL;
}
