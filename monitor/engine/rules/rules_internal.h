/*
 * rules_internal.h: what the two front ends of the pattern rules share:
 * rules.c (Bitcoin: inputs and outputs, rules_tx) and rules_account.c
 * (account chains: transfers, rules_account_tx). Each front end works out
 * who pays whom, how much (amount_view) and where a trace starts; the
 * steps below are the rules themselves, one copy for every chain.
 * Private to monitor/engine/rules/.
 */
#ifndef CW_RULES_INTERNAL_H
#define CW_RULES_INTERNAL_H

#include "rules.h"

#define RULES_DAY 86400ull

typedef enum { BAND_NONE = 0, BAND_TINY, BAND_SALARY } band_kind;

/* How an amount without a price is written: NULL (in amount_view) is
 * Bitcoin's "N sat"; else whole units of symbol with decimals; symbol
 * NULL: "N base units" (a token the rules do not know). */
typedef struct {
    const char *symbol;
    unsigned decimals;
} rules_unit;

/* One payment as the rules see it. */
typedef struct {
    band_kind kind;
    bool usd;               /* cents is its value in USD cents */
    uint64_t cents;
    uint64_t native;        /* base units (satoshis; account chains: saturated at RS_TOTAL_MAX) */
    const rules_unit *unit; /* NULL: satoshis */
    /* the traced money it carries is below the least a hit needs
     * (rules_config hit_min_*): reaching a designated address, it is no
     * payout_toward_designated (the front end judges: rules_trace_reach) */
    bool below_hit;
    /* the chain's coin (BTC, ETH, TRX), whose amounts without a price the
     * stats total in base units (rulestats.h: in_native ...): a token is
     * totalled in USD cents only. exact_lo/hi: the amount, 128-bit
     * (saturated at 2^128-1): the totals the sweep test compares are exact */
    bool coin;
    uint64_t exact_lo, exact_hi;
} amount_view;

/* One tx being judged. */
typedef struct {
    const rules_config *cfg;
    store_txn *t;
    journal *j;               /* NULL: read only (screen) */
    const cw_tx *tx;
    int64_t when;
    rules_stats *st;
    const cw_transfer *xfer;  /* account chains: the transfer judged (its asset and exact amount go in findings) */
    const rules_unit *coin;   /* the chain's coin (account chains; NULL: Bitcoin's satoshis) */
} rules_run;

/* The scratch of findings: emptied at the start of a tx, handed out at its end. */
void rules_scratch_reset(void);
void rules_scratch_out(const rule_finding **found, size_t *n);

/* The payment of a (tiny or salary-sized) amount by payer into okey: the
 * pair's cadence, shared_payout, test_then_salary. */
cw_code rules_pay_into(rules_run *r, const uint8_t *payer, size_t payer_len, const uint8_t *okey, size_t olen,
                       const amount_view *a, cw_err *err);
/* A sweep by the payout-like address src into okey: pool sources,
 * consolidator, payout_toward_designated toward a flagged pool. */
cw_code rules_sweep_into(rules_run *r, const uint8_t *src, size_t src_len, const uint8_t *okey, size_t olen,
                         const amount_view *a, cw_err *err);
/* A trace reaching okey (tr->hops counts this step): a designated address
 * (or, with clusters, a member of a designated cluster) fires
 * payout_toward_designated on the payouts behind it unless a->below_hit
 * (dust: the hit is the designated_address record's alone); a labelled service
 * ends it (pooled money reaching an exchange/OTC/swap service is an
 * off-ramp piece). *carry: neither, the trace may go on past okey. */
cw_code rules_trace_reach(rules_run *r, const rs_trace *tr, const uint8_t *okey, size_t olen, bool clusters,
                          const label *lb, const amount_view *a, bool *carry, cw_err *err);
/* An account chain's payout-like address sent a: its record's totals out
 * (the "not sent on" of its sweeps). Journaled; nothing read only. */
cw_code rules_note_sent(rules_run *r, const uint8_t *key, size_t klen, const amount_view *a, cw_err *err);

#endif
