/*
 * gen_scenario.h: payroll scenarios for cw_genchain (--scenario payroll):
 * DPRK IT-worker payout networks and their legitimate twins, as real txs
 * mixed into the generator's ordinary traffic, with a ground-truth file and
 * a daily price file for `chainwatch replay --prices`.
 *
 * IT-worker network (--itw-networks N, each): 12 roles (personas), each
 * paid about monthly (gaps 28-35 days, now and then a skipped month) by its
 * own unwitting employer (a company that also pays two ordinary employees
 * monthly), USD 2,000-8,000 a time, half of them after a
 * tiny first payment (USD 24-636); 9 payout addresses, 3 of them shared by
 * two personas; each payout address sweeps what it got into the network's
 * consolidator 1-5 days later; the consolidator moves the pool on monthly
 * in 3-6 pieces into labelled exchange addresses (--exchange), and for
 * every other network also to the designated facilitator (--facilitator).
 *
 * Legitimate twins: a payroll processor paying --employees employees
 * monthly in batches (USD 2,000-8,000, a tenth after a test payment), most
 * of whom sweep to their own exchange deposit address (the exchange sweeps
 * deposits weekly into a labelled hot wallet); --freelancers freelancers
 * paid by 6-12 clients each (1-3 invoices of USD 300-15,000 at random
 * times; a fifth with one monthly retainer client); two DAOs paying
 * --contributors contributors monthly in one batch each, a tenth of them
 * paid by both.
 *
 * Account mode (opts.account: --account-plan FILE): the same actors and
 * the same schedule (the same random draws, so the same seed gives the
 * same scenario) as token transfers between 20-byte EVM accounts, for a
 * driver to replay on an EVM node (scripts/anvil-scenario): no coins, no
 * funding txs; paying actors start with FUND_UNITS; amounts are token
 * base units with 6 decimals (USD 1 = 1,000,000 units: a stablecoin);
 * a sweep, piece or partial payment is an explicit amount computed from
 * the running balances; a batch is one transfer per payee; the exchange's
 * weekly sweep is one transfer per deposit address. The plan (text, one
 * record a line, '#' comments):
 *   actor,ID,ADDRESS,ROLE,GROUP,FUNDED_UNITS   (IDs 0.. in order; ADDRESS
 *                                               EIP-55; role/group as truth)
 *   pay,UNIX_TIME,FROM_ID,TO_ID,UNITS,KIND     (in time order; KIND pay,
 *                                               test, sweep, piece, partial,
 *                                               exsweep)
 *   balance,ID,UNITS                           (every actor's balance after
 *                                               all payments: the driver's check)
 *
 * Ground truth (CSV address,role,group): itw_payout, itw_shared_payout
 * (paid by two personas), itw_consolidator,
 * itw_employer, legit_employee, legit_freelancer, legit_contributor,
 * legit_payer, exchange_deposit, exchange, facilitator.
 */
#ifndef CW_GEN_SCENARIO_H
#define CW_GEN_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "chains/model.h"
#include "tests/chain_build.h"

typedef struct {
    unsigned itw_networks, employees, freelancers, contributors;
    const cw_addr *exchanges; /* labelled exchange addresses (at least one) */
    size_t n_exchanges;
    const cw_addr *facilitator; /* a designated DPRK address, or NULL */
    uint64_t start_time, end_time;
    cw_net net;
    bool account; /* account mode: EVM accounts, scen_write_plan instead of blocks */
} scen_opts;

typedef uint64_t (*scen_rand_fn)(void);

/* Builds the actors and schedules their payments. */
void scen_init(const scen_opts *o, scen_rand_fn rnd);
/* The funding outputs for block 0's coinbase (one per paying actor). */
size_t scen_funding(cb_output **out);
/* Block 0 is mined: its coinbase txid, and the vout of the first funding output. */
void scen_funded(const uint8_t coinbase_txid[32], uint32_t first_vout);
/* The scenario's txs due in [t0, t1), in order (a tx may spend an earlier
 * one's outputs). *txs is owned by the scenario until the next call. */
size_t scen_block(uint64_t t0, uint64_t t1, cb_tx **txs);
/* Writes the ground truth and the daily prices (date,asset,usd). 0 or -1. */
int scen_write_truth(const char *path);
int scen_write_prices(const char *path);
/* Account mode: runs the whole schedule and writes the plan (format
 * above). Instead of scen_funding/scen_funded/scen_block. 0 or -1. */
int scen_write_plan(const char *path);
void scen_free(void);

#endif
