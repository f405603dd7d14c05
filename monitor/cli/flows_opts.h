/*
 * cli_flows.h: the clustering and exposure options `watch` and `replay`
 * share (flags and config-file keys alike), and the files they name.
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

#include "monitor/engine/flows.h"

typedef struct {
    flows_config cfg;
    const char *labels_path, *watch_path;
    labels *labels;
    addrset *watched;
} flows_opts;

extern const char flows_opts_usage[];

void flows_opts_init(flows_opts *o);
/* One option by name (without "--"). Returns 1 when taken, 0 when the name
 * is not one of these, -1 for a bad value (why says what is wrong:
 * "--hops: '9' is out of range (1 to 8)"). Numbers are read by cli.h's
 * parsers: shares exact to a millionth, BTC to a satoshi, no garbage. */
int flows_opts_set(flows_opts *o, const char *name, const char *value, char *why, size_t why_cap);
/* argv[*i] as one of these options (--name VALUE or --name=VALUE): 1 taken
 * (*i moves past it), 0 not one of these, -1 a bad value (why says so). */
int flows_opts_take(flows_opts *o, int argc, char **argv, int *i, char *why, size_t why_cap);
/* Loads the files named (labels for network net). Errors name the file. */
cw_code flows_opts_load(flows_opts *o, cw_net net, cw_err *err);
/* The configuration for pipeline_config.flows: NULL when --clusters off. */
const flows_config *flows_opts_config(const flows_opts *o);
/* One line for the start of a run: what is on and with which files. */
void flows_opts_describe(const flows_opts *o, char *out, size_t cap);
void flows_opts_free(flows_opts *o);

#endif
