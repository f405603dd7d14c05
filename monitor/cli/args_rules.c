#include "args_rules.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const severities[] = {"none", "low", "medium", "high", "severe", NULL};

void rules_opts_init(rules_opts *o)
{
    memset(o, 0, sizeof *o);
    rules_config_default(&o->cfg);
    rules_config *c = &o->cfg;
    o->salary_usd[0] = (int64_t)(c->salary_cents.lo / 100), o->salary_usd[1] = (int64_t)(c->salary_cents.hi / 100);
    o->tiny_usd[0] = (int64_t)(c->tiny_cents.lo / 100), o->tiny_usd[1] = (int64_t)(c->tiny_cents.hi / 100);
    o->salary_sat[0] = c->salary_native.lo, o->salary_sat[1] = c->salary_native.hi;
    o->tiny_sat[0] = c->tiny_native.lo, o->tiny_sat[1] = c->tiny_native.hi;
    o->recurring = c->min_recurring;
    o->min_payers = c->shared_min_payers, o->max_payers = c->shared_max_payers;
    o->min_sources = c->pool_min_sources;
    o->hops = c->hops;
    o->pieces = c->offramp_min_pieces;
    o->pool_trace_max = (int64_t)c->pool_trace_max;
    for (int r = 0; r < RULE_COUNT; r++)
        o->weight[r] = c->weight[r], o->severity[r] = (int)c->severity[r];
    o->toward_pool_weight = c->toward_pool_weight;
    for (int r = RISK_LOW; r <= RISK_SEVERE; r++)
        o->risk_at[r] = c->risk_at[r];
    o->min_gap = c->min_gap, o->max_gap = c->max_gap, o->pool_window = c->pool_window, o->test_window = c->test_window;
    o->trace_window = c->trace_window;
    o->hit_min_usd = (int64_t)(c->hit_min_cents / 100), o->hit_min_sat = c->hit_min_native;
    const int64_t usd_max = 1000000000; /* a billion dollars: cents fit easily */
    const cli_arg t[] = {
        {"rules", ARG_SWITCH, &c->enabled, .metavar = "on|off",
         .help = "the IT-worker payout pattern rules on confirmed blocks\n(default on; docs/rules.md)", .from = ARG_CONF},
        {"prices", ARG_PATH, &o->prices_path, .metavar = "FILE",
         .help = "daily USD prices, CSV date,asset,usd: amounts in USD;\nwithout one the native bands below apply",
         .from = ARG_CONF},
        {"salary-min-usd", ARG_INT, &o->salary_usd[0], 0, usd_max, .metavar = "USD",
         .help = "salary-sized payment, low end (default 1500)", .from = ARG_CONF},
        {"salary-max-usd", ARG_INT, &o->salary_usd[1], 0, usd_max, .metavar = "USD",
         .help = "... high end (default 12000)", .from = ARG_CONF},
        {"tiny-min-usd", ARG_INT, &o->tiny_usd[0], 0, usd_max, .metavar = "USD",
         .help = "tiny first (test) payment, low end (default 10)", .from = ARG_CONF},
        {"tiny-max-usd", ARG_INT, &o->tiny_usd[1], 0, usd_max, .metavar = "USD",
         .help = "... high end (default 1000)", .from = ARG_CONF},
        {"salary-min-btc", ARG_BTC, &o->salary_sat[0], .metavar = "BTC",
         .help = "the salary band without a price (default 0.0375-0.3)", .from = ARG_CONF},
        {"salary-max-btc", ARG_BTC, &o->salary_sat[1], .metavar = "BTC", .from = ARG_CONF},
        {"tiny-min-btc", ARG_BTC, &o->tiny_sat[0], .metavar = "BTC",
         .help = "the tiny band without a price (default 0.00025-0.0025)", .from = ARG_CONF},
        {"tiny-max-btc", ARG_BTC, &o->tiny_sat[1], .metavar = "BTC", .from = ARG_CONF},
        {"salary-min-eth", ARG_STRING, &o->asset_text[0][0], .metavar = "ETH",
         .help = "--chain ethereum: the salary band of ether without a price\n(default 0.75-6)", .from = ARG_CONF},
        {"salary-max-eth", ARG_STRING, &o->asset_text[0][1], .metavar = "ETH", .from = ARG_CONF},
        {"tiny-min-eth", ARG_STRING, &o->asset_text[0][2], .metavar = "ETH",
         .help = "... its tiny band (default 0.005-0.5)", .from = ARG_CONF},
        {"tiny-max-eth", ARG_STRING, &o->asset_text[0][3], .metavar = "ETH", .from = ARG_CONF},
        {"salary-min-trx", ARG_STRING, &o->asset_text[1][0], .metavar = "TRX",
         .help = "--chain tron: the salary band of TRX without a price\n(default 15000-120000)", .from = ARG_CONF},
        {"salary-max-trx", ARG_STRING, &o->asset_text[1][1], .metavar = "TRX", .from = ARG_CONF},
        {"tiny-min-trx", ARG_STRING, &o->asset_text[1][2], .metavar = "TRX",
         .help = "... its tiny band (default 100-10000)", .from = ARG_CONF},
        {"tiny-max-trx", ARG_STRING, &o->asset_text[1][3], .metavar = "TRX", .from = ARG_CONF},
        {"cadence-min-gap", ARG_SECONDS, &o->min_gap, 0, 3650 * 86400LL, .metavar = "T",
         .help = "a gap between two salaries on cadence, shortest\n(default 20d)", .from = ARG_CONF},
        {"cadence-max-gap", ARG_SECONDS, &o->max_gap, 0, 3650 * 86400LL, .metavar = "T",
         .help = "... and longest (default 130d)", .from = ARG_CONF},
        {"recurring-payments", ARG_INT, &o->recurring, 2, 1000, .metavar = "N",
         .help = "salary payments on cadence that make a payer recurring\n(default 3)", .from = ARG_CONF},
        {"shared-payout-min-payers", ARG_INT, &o->min_payers, 2, 1000, .metavar = "N",
         .help = "shared_payout: recurring payers at least (default 2)", .from = ARG_CONF},
        {"shared-payout-max-payers", ARG_INT, &o->max_payers, 2, 100000, .metavar = "N",
         .help = "... and at most: more is a service (default 12)", .from = ARG_CONF},
        {"consolidator-min-sources", ARG_INT, &o->min_sources, 2, 100000, .metavar = "N",
         .help = "consolidator: payout addresses sweeping in (default 5)", .from = ARG_CONF},
        {"consolidator-window", ARG_SECONDS, &o->pool_window, 86400, 3650 * 86400LL, .metavar = "T",
         .help = "... within this time (default 62d)", .from = ARG_CONF},
        {"sweep-share", ARG_SHARE, &o->cfg.sweep_ppm, .metavar = "SHARE",
         .help = "a payout address paying this share of what it spends\nto one address sweeps (default 80%)",
         .from = ARG_CONF},
        {"test-window", ARG_SECONDS, &o->test_window, 0, 3650 * 86400LL, .metavar = "T",
         .help = "test_then_salary: tiny to salary within (default 45d)", .from = ARG_CONF},
        {"rules-hops", ARG_INT, &o->hops, 1, 8, .metavar = "N",
         .help = "follow payouts and pools N txs (default 4, at most 8)", .from = ARG_CONF},
        {"rules-trace-window", ARG_SECONDS, &o->trace_window, 3600, 3650 * 86400LL, .metavar = "T",
         .help = "account chains: an account passes on the trace it got\nfor this long (default 62d)",
         .from = ARG_CONF},
        {"rules-min-hit-usd", ARG_INT, &o->hit_min_usd, 0, usd_max, .metavar = "USD",
         .help = "payout_toward_designated: the least traced money reaching\na designated address that counts; less is its\n"
                 "designated_address record only (default 100)",
         .from = ARG_CONF},
        {"rules-min-hit-btc", ARG_BTC, &o->hit_min_sat, .metavar = "BTC",
         .help = "... without a price (default 0.0025)", .from = ARG_CONF},
        {"rules-min-hit-eth", ARG_STRING, &o->asset_text[0][4], .metavar = "ETH",
         .help = "... of ether (default 0.05)", .from = ARG_CONF},
        {"rules-min-hit-trx", ARG_STRING, &o->asset_text[1][4], .metavar = "TRX",
         .help = "... of TRX (default 1000)", .from = ARG_CONF},
        {"off-ramp-min-pieces", ARG_INT, &o->pieces, 1, 100000, .metavar = "N",
         .help = "off_ramp_after_pool: payments into labelled exchange,\nOTC or swap services (default 3)",
         .from = ARG_CONF},
        {"rules-pool-trace-max", ARG_INT, &o->pool_trace_max, 0, 100000000, .metavar = "N",
         .help = "payout_toward_designated through a pool: sources past\nits 64-entry list walked per hit; the rest are\n"
                 "counted in sources_not_examined (default 10000)",
         .from = ARG_CONF},
        {"weight-shared-payout", ARG_INT, &o->weight[RULE_SHARED_PAYOUT], 0, 100, .metavar = "N",
         .help = "score weights (defaults 2, 3, 4, 3, 2, 1)", .from = ARG_CONF},
        {"weight-consolidator", ARG_INT, &o->weight[RULE_CONSOLIDATOR], 0, 100, .metavar = "N", .from = ARG_CONF},
        {"weight-payout-toward-designated", ARG_INT, &o->weight[RULE_TOWARD_DESIGNATED], 0, 100, .metavar = "N",
         .from = ARG_CONF},
        {"weight-payout-toward-pool", ARG_INT, &o->toward_pool_weight, 0, 100, .metavar = "N", .from = ARG_CONF},
        {"weight-off-ramp-after-pool", ARG_INT, &o->weight[RULE_OFF_RAMP], 0, 100, .metavar = "N", .from = ARG_CONF},
        {"weight-test-then-salary", ARG_INT, &o->weight[RULE_TEST_THEN_SALARY], 0, 100, .metavar = "N",
         .from = ARG_CONF},
        {"risk-low", ARG_INT, &o->risk_at[RISK_LOW], 0, 1000, .metavar = "SCORE",
         .help = "score at which an address's risk is low, medium, high,\nsevere (defaults 1, 2, 3, 6)", .from = ARG_CONF},
        {"risk-medium", ARG_INT, &o->risk_at[RISK_MEDIUM], 0, 1000, .metavar = "SCORE", .from = ARG_CONF},
        {"risk-high", ARG_INT, &o->risk_at[RISK_HIGH], 0, 1000, .metavar = "SCORE", .from = ARG_CONF},
        {"risk-severe", ARG_INT, &o->risk_at[RISK_SEVERE], 0, 1000, .metavar = "SCORE", .from = ARG_CONF},
        {"severity-shared-payout", ARG_ENUM, &o->severity[RULE_SHARED_PAYOUT], .choices = severities,
         .metavar = "LEVEL", .help = "a record's severity per rule (defaults medium, high,\nsevere, high, low)",
         .from = ARG_CONF},
        {"severity-consolidator", ARG_ENUM, &o->severity[RULE_CONSOLIDATOR], .choices = severities, .metavar = "LEVEL",
         .from = ARG_CONF},
        {"severity-payout-toward-designated", ARG_ENUM, &o->severity[RULE_TOWARD_DESIGNATED], .choices = severities,
         .metavar = "LEVEL", .from = ARG_CONF},
        {"severity-off-ramp-after-pool", ARG_ENUM, &o->severity[RULE_OFF_RAMP], .choices = severities,
         .metavar = "LEVEL", .from = ARG_CONF},
        {"severity-test-then-salary", ARG_ENUM, &o->severity[RULE_TEST_THEN_SALARY], .choices = severities,
         .metavar = "LEVEL", .from = ARG_CONF},
        {0},
    };
    _Static_assert(sizeof t / sizeof *t <= RULES_OPTS_MAX, "rules_opts.args fits the table");
    memcpy(o->args, t, sizeof t);
}

/* An amount in whole units ("1.5") as base units with `decimals`
 * decimals, exactly. */
static cw_code parse_units(const char *name, const char *unit, const char *s, unsigned decimals, cw_u256 *out,
                           cw_err *err)
{
    char digits[CW_U256_DEC_MAX + 80];
    size_t n = 0, frac = 0, i = 0, whole = 0;
    bool point = false, ok = s[0] != '\0';
    for (; ok && s[i]; i++) {
        if (s[i] == '.' && !point && whole > 0) {
            point = true;
        } else if (s[i] >= '0' && s[i] <= '9' && n + 1 < CW_U256_DEC_MAX) {
            if (point && ++frac > decimals)
                ok = false;
            whole += !point;
            if (n > 0 || s[i] != '0')
                digits[n++] = s[i];
        } else {
            ok = false;
        }
    }
    if (!ok || whole == 0 || (point && frac == 0))
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "--%s: '%s' is not an amount in %s (digits, at most %u after the point)", name, s, unit,
                          decimals);
    for (; frac < decimals; frac++)
        digits[n++] = '0';
    if (n == 0)
        digits[n++] = '0';
    size_t skip = 0;
    while (skip + 1 < n && digits[skip] == '0')
        skip++;
    cw_err e = {0};
    if (cw_u256_from_dec(digits + skip, n - skip, out, &e))
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "--%s: '%s' is too large", name, s);
    return CW_OK;
}

cw_code rules_opts_load(rules_opts *o, const labels *services, bool clusters, cw_err *err)
{
    rules_config *c = &o->cfg;
    static const char *const names[2][5] = {
        {"salary-min-eth", "salary-max-eth", "tiny-min-eth", "tiny-max-eth", "rules-min-hit-eth"},
        {"salary-min-trx", "salary-max-trx", "tiny-min-trx", "tiny-max-trx", "rules-min-hit-trx"}};
    static const char *const units[2] = {"ETH", "TRX"};
    for (int a = 0; a < 2; a++) {
        rule_asset_band *b = NULL;
        for (size_t i = 0; i < RULES_ASSET_BANDS && b == NULL; i++)
            if (strcmp(c->asset_band[i].symbol, units[a]) == 0)
                b = &c->asset_band[i];
        cw_u256 *ends[5] = {&b->salary.lo, &b->salary.hi, &b->tiny.lo, &b->tiny.hi, &b->hit_min};
        for (int k = 0; k < 5; k++) {
            cw_code rc;
            if (o->asset_text[a][k] &&
                (rc = parse_units(names[a][k], units[a], o->asset_text[a][k], b->decimals, ends[k], err)))
                return rc;
        }
    }
    c->trace_window = o->trace_window;
    c->hit_min_cents = (uint64_t)o->hit_min_usd * 100, c->hit_min_native = o->hit_min_sat;
    c->salary_cents = (rule_band){(uint64_t)o->salary_usd[0] * 100, (uint64_t)o->salary_usd[1] * 100};
    c->tiny_cents = (rule_band){(uint64_t)o->tiny_usd[0] * 100, (uint64_t)o->tiny_usd[1] * 100};
    c->salary_native = (rule_band){o->salary_sat[0], o->salary_sat[1]};
    c->tiny_native = (rule_band){o->tiny_sat[0], o->tiny_sat[1]};
    c->min_recurring = (unsigned)o->recurring;
    c->shared_min_payers = (unsigned)o->min_payers, c->shared_max_payers = (unsigned)o->max_payers;
    c->pool_min_sources = (unsigned)o->min_sources;
    c->hops = (unsigned)o->hops;
    c->offramp_min_pieces = (unsigned)o->pieces;
    c->pool_trace_max = (uint64_t)o->pool_trace_max;
    for (int r = 0; r < RULE_COUNT; r++)
        c->weight[r] = (unsigned)o->weight[r], c->severity[r] = (rule_risk)o->severity[r];
    c->toward_pool_weight = (unsigned)o->toward_pool_weight;
    for (int r = RISK_LOW; r <= RISK_SEVERE; r++)
        c->risk_at[r] = (unsigned)o->risk_at[r];
    c->min_gap = o->min_gap, c->max_gap = o->max_gap, c->pool_window = o->pool_window, c->test_window = o->test_window;
    c->labels = services;
    c->payer_cluster = clusters;
    const char *why = rules_config_check(c);
    if (why)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "rules: %s", why);
    if (o->prices_path) {
        cw_code rc = prices_load(o->prices_path, &o->prices, err);
        if (rc)
            return rc;
        c->prices = o->prices;
    }
    return CW_OK;
}

const rules_config *rules_opts_config(const rules_opts *o) { return o->cfg.enabled ? &o->cfg : NULL; }

void rules_opts_describe(const rules_opts *o, char *out, size_t cap)
{
    if (!o->cfg.enabled) {
        snprintf(out, cap, "pattern rules off");
        return;
    }
    snprintf(out, cap, "pattern rules on: %s%s (%zu prices), salary USD %lld-%lld, %lld payments on a %llu-%llu day "
                       "cadence, payers are %s, %u hops",
             o->prices_path ? "prices from " : "no prices, native bands", o->prices_path ? o->prices_path : "",
             prices_count(o->prices), (long long)o->salary_usd[0], (long long)o->salary_usd[1], (long long)o->recurring,
             (unsigned long long)(o->cfg.min_gap / 86400), (unsigned long long)(o->cfg.max_gap / 86400),
             o->cfg.payer_cluster ? "clusters" : "addresses", o->cfg.hops);
}

const char *rules_opts_given(const rules_opts *o)
{
    if (cli_args_given(o->args, "rules") && !o->cfg.enabled)
        return NULL;
    for (const cli_arg *a = o->args; a->kind != ARG_END; a++)
        if (a->kind != ARG_MORE && a->given)
            return a->name;
    return NULL;
}

int rules_opts_load_account(const char *verb, rules_opts *o, flows_opts *fo)
{
    cw_err err = {0};
    if (flows_opts_load(fo, CW_NET_MAIN, &err))
        return cli_fail(verb, &err);
    if (rules_opts_load(o, fo->labels, false, &err)) {
        fprintf(stderr, "chainwatch: %s: %s\n", verb, err.msg);
        return err.code == CW_EARG || err.code == CW_EFORMAT ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

void rules_opts_free(rules_opts *o)
{
    prices_free(o->prices);
    o->prices = NULL;
    o->cfg.prices = NULL;
}
