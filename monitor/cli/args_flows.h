/*
 * args_flows.h: the clustering and exposure options `watch` and `replay`
 * share (flags and config-file keys alike; `screen` takes some of them),
 * as an option table for args.h, and the files they name.
 *
 *   --clusters on|off          clustering and exposure (default on)
 *   --labels FILE              known services (chain,address,entity,category,source)
 *   --watch FILE               your own deposit/withdrawal addresses, one per line
 *   --hops N                   follow designated money N txs (default 3, at most 8)
 *   --min-exposure SHARE       e.g. 1% or 0.01 (default 1%)
 *   --min-exposure-amount BTC  default 0.0001
 *   --hold-exposure SHARE      a watched deposit at or above is held (default 10%)
 *   --cluster-limit N          supercluster size (default 100000)
 *   --payjoin-guard on|off     withhold merges of PayJoin-like txs (default off)
 */
#ifndef CW_CLI_FLOWS_H
#define CW_CLI_FLOWS_H

#include <stdbool.h>
#include <stddef.h>

#include "args.h"
#include "monitor/engine/flows.h"

typedef struct {
    flows_config cfg;
    const char *labels_path, *watch_path;
    int64_t hops; /* read here, copied to cfg.hops by flows_opts_load */
    labels *labels;
    addrset *watched;
    /* The options above as a table (ARG_MORE it into a verb's table);
     * flows_opts_init fills it, pointing into this struct: do not copy
     * the struct after. Every one may also come from chainwatch.conf. */
    cli_arg args[10];
} flows_opts;

/* The defaults and the table; nothing to free yet. */
void flows_opts_init(flows_opts *o);
/* Takes what the table read into cfg and loads the files named (labels
 * for network net), also when --clusters is off. Call it before
 * flows_opts_config. Errors are labels_load's and addrset_load's, naming
 * the file; what was loaded before the error stays in o for
 * flows_opts_free. */
cw_code flows_opts_load(flows_opts *o, cw_net net, cw_err *err);
/* The configuration for pipeline_config.flows: NULL when --clusters off.
 * It points into o (and its labels and watched set): valid until
 * flows_opts_free, so o must outlive the pipeline. */
const flows_config *flows_opts_config(const flows_opts *o);
/* One line for the start of a run: what is on and with which files (cut
 * to cap). */
void flows_opts_describe(const flows_opts *o, char *out, size_t cap);
/* Frees the loaded files; safe after init alone and twice. */
void flows_opts_free(flows_opts *o);

#endif
