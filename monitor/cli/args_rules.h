/*
 * args_rules.h: the pattern rules' options `watch` and `replay` share
 * (flags and chainwatch.conf keys alike, e.g. under a [rules] header,
 * which is a heading only: conf.h), as an option table
 * for args.h, and the prices file they name. docs/rules.md explains each
 * rule and its defaults.
 */
#ifndef CW_CLI_RULES_H
#define CW_CLI_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "args.h"
#include "args_flows.h"
#include "monitor/engine/rules/rules.h"

#define RULES_OPTS_MAX 56

typedef struct {
    rules_config cfg;
    const char *prices_path;
    prices *prices;
    /* read here (whole dollars, counts), copied into cfg by rules_opts_load */
    int64_t salary_usd[2], tiny_usd[2];
    uint64_t salary_sat[2], tiny_sat[2];
    int64_t recurring, min_payers, max_payers, min_sources, hops, pieces, pool_trace_max;
    int64_t weight[RULE_COUNT], toward_pool_weight, risk_at[5];
    int severity[RULE_COUNT];
    uint64_t min_gap, max_gap, pool_window, test_window, trace_window;
    int64_t hit_min_usd;
    uint64_t hit_min_sat;
    /* account chains' native bands as given (ETH, TRX x salary lo/hi,
     * tiny lo/hi, the least hit), in whole units: parsed by rules_opts_load */
    const char *asset_text[2][5];
    cli_arg args[RULES_OPTS_MAX];
} rules_opts;

/* The defaults and the table (pointing into o: do not copy o after). */
void rules_opts_init(rules_opts *o);
/* Takes what the table read into cfg (the ETH and TRX amounts parsed
 * exactly: at most 18 and 6 decimals), loads --prices, and checks the
 * result (rules_config_check): CW_EARG naming the option, or the prices
 * file's error. services: the labels the flows options loaded (or NULL);
 * clusters: payers are cluster roots. */
cw_code rules_opts_load(rules_opts *o, const labels *services, bool clusters, cw_err *err);
/* What verb (watch, replay) loads before following or replaying an
 * account chain (Ethereum, Tron, or a capture of one): the flow options
 * (flows_opts_load, CW_NET_MAIN: account addresses name no Bitcoin
 * network), then the rules' with the services those loaded, payers being
 * accounts (no clusters). Returns CLI_EXIT_OK, or the exit code after one
 * line "chainwatch: VERB: ..." on stderr: cli_fail's for the flow options;
 * CLI_EXIT_USAGE for a bad rules option or prices file (CW_EARG,
 * CW_EFORMAT), else CLI_EXIT_FAIL. The caller frees fo and o either way. */
int rules_opts_load_account(const char *verb, rules_opts *o, flows_opts *fo);
/* The configuration for pipeline_config.rules: NULL when --rules off. */
const rules_config *rules_opts_config(const rules_opts *o);
/* The first rules option the command line gave (its name), NULL when
 * none or when --rules off was given. */
const char *rules_opts_given(const rules_opts *o);
/* One line for the start of a run. */
void rules_opts_describe(const rules_opts *o, char *out, size_t cap);
void rules_opts_free(rules_opts *o);

#endif
