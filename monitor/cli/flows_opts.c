#include "flows_opts.h"

#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char flows_opts_usage[] =
    "Clusters and exposure (on by default):\n"
    "  --clusters on|off          common-input clustering and exposure tracing\n"
    "  --labels FILE              known services (chain,address,entity,category,source):\n"
    "                             designation and exposure stop at them\n"
    "  --watch FILE               your own deposit addresses, one per line: any payment\n"
    "                             into them with designated or indirect exposure is\n"
    "                             recorded with decision hold or review\n"
    "  --hops N                   follow designated money N txs (default 3, at most 8)\n"
    "  --min-exposure SHARE       smallest share worth a record, 1% or 0.01 (default 1%)\n"
    "  --min-exposure-amount BTC  and smallest amount (default 0.0001)\n"
    "  --hold-exposure SHARE      watched deposits at or above it: hold (default 10%)\n"
    "  --cluster-limit N          a bigger cluster stops propagating (default 100000)\n"
    "  A SHARE is 1% or 0.01; a bare 1 or more is refused as ambiguous (write 100%).\n"
    "  --payjoin-guard on|off     also leave unmerged a 2-output tx with an unnecessary\n"
    "                             input (possible PayJoin; default off: ordinary\n"
    "                             wallets make that shape, and skipping it splits them)\n";

void flows_opts_init(flows_opts *o)
{
    memset(o, 0, sizeof *o);
    flows_config_default(&o->cfg);
}

int flows_opts_set(flows_opts *o, const char *name, const char *value, char *why, size_t why_cap)
{
    cw_err err = {0};
    int64_t n;
    cw_code rc = CW_OK;
    if (strcmp(name, "clusters") == 0) {
        if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0)
            return snprintf(why, why_cap, "--clusters takes on or off"), -1;
        o->cfg.enabled = strcmp(value, "on") == 0;
    } else if (strcmp(name, "labels") == 0) {
        o->labels_path = value;
    } else if (strcmp(name, "watch") == 0) {
        o->watch_path = value;
    } else if (strcmp(name, "hops") == 0) {
        if ((rc = cli_parse_int(value, 1, EXP_MAX_HOPS, &n, &err)) == CW_OK)
            o->cfg.hops = (unsigned)n;
    } else if (strcmp(name, "min-exposure") == 0) {
        rc = cli_parse_share(value, &o->cfg.min_share_ppm, &err);
    } else if (strcmp(name, "hold-exposure") == 0) {
        rc = cli_parse_share(value, &o->cfg.hold_share_ppm, &err);
    } else if (strcmp(name, "min-exposure-amount") == 0) {
        rc = cli_parse_btc(value, &o->cfg.min_amount, &err);
    } else if (strcmp(name, "payjoin-guard") == 0) {
        if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0)
            return snprintf(why, why_cap, "--payjoin-guard takes on or off"), -1;
        o->cfg.payjoin_guard = strcmp(value, "on") == 0;
    } else if (strcmp(name, "cluster-limit") == 0) {
        if ((rc = cli_parse_int(value, 2, INT64_MAX, &n, &err)) == CW_OK)
            o->cfg.cluster_limit = (uint64_t)n;
    } else {
        return 0;
    }
    if (rc)
        return snprintf(why, why_cap, "--%s: %s", name, err.msg), -1;
    return 1;
}

int flows_opts_take(flows_opts *o, int argc, char **argv, int *i, char *why, size_t why_cap)
{
    const char *a = argv[*i], *eq = strchr(a, '=');
    if (strncmp(a, "--", 2) != 0)
        return 0;
    char name[64];
    snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - a - 2) : (int)strlen(a + 2), a + 2);
    const char *v = eq ? eq + 1 : (*i + 1 < argc ? argv[*i + 1] : NULL);
    int taken = v ? flows_opts_set(o, name, v, why, why_cap) : 0;
    if (taken == 1)
        *i += eq ? 1 : 2;
    return taken;
}

cw_code flows_opts_load(flows_opts *o, cw_net net, cw_err *err)
{
    cw_code rc;
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
