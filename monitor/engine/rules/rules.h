/*
 * rules.h: the pattern rules for DPRK IT-worker payout networks, run on
 * every confirmed tx (watch and replay, the same code: connect.c) and read
 * only for screening.
 *
 * Design note. The rules read payments, not chains: per tx they need the
 * paying side (input addresses, and for UTXO chains the outpoints spent),
 * the payer's identity (the cluster root on UTXO chains, the sender account
 * on account chains) and the outputs (address, amount, asset). cw_tx is that
 * model for both families (chains/model.h). Bitcoin's txs go through
 * rules_tx (inputs and outputs); an account chain's through
 * rules_account_tx, transfer by transfer (rules_account.c: payer = the
 * sending account, a sweep judged against what the account received and
 * has not sent on, the trace kept per account). Both call the same
 * pay/sweep/trace/fire steps (rules_internal.h), so a rule means the same
 * on every chain.
 *
 * Per tx, in order (docs/rules.md has the why and the sources):
 *   1. Inputs: is an input address payout-like (paid on cadence by a payer)
 *      or a pool (payout-like addresses swept into it)? What trace does each
 *      spent output carry (rulestats.h: rule_trace)?
 *   2. Outputs, each not back to an input address and not a labelled
 *      service (exchange hot wallets are never payees):
 *      - a sweep (a payout-like input pays it): the output's address learns
 *        a pool source; `consolidator` fires when enough distinct sources
 *        swept into it within the window (below: the consolidator's
 *        window), and every source then gets `payout_toward_designated`
 *        (toward the pool);
 *      - otherwise a payment in the tiny or salary band by the payer:
 *        the pair's cadence; `shared_payout` when enough distinct payers
 *        pay the address on cadence; `test_then_salary` when a tiny first
 *        payment was followed by a salary-sized one;
 *      - the trace: money from a payout or pool reaching a designated
 *        address or cluster within `hops` fires `payout_toward_designated`
 *        on the payouts behind it (the pool's sources, traced back through
 *        rule_pair), naming their payers; pooled money reaching labelled
 *        exchanges/OTC/swap services in `min_pieces` payments fires
 *        `off_ramp_after_pool` on the pool.
 * The consolidator's window, exactly. At each sweep into an address not
 * yet flagged, with now the tx's time (a raw tx's: the screen's now):
 *   counted: the distinct sources whose LAST sweep into it is at or after
 *     now - pool_window (ends included) and that are payouts paid on
 *     cadence as of now (rule_origin RS_ORIGIN_PAYOUT: a payer became
 *     recurring for them; a source that becomes one after its sweep counts
 *     from then on), wherever the pool keeps them: in its 64-entry list,
 *     or past it in rule_pair (rulestats.h: the window index);
 *   fires: when the count reaches pool_min_sources, once per address.
 *   cost, bounded: the list's in-window sources (rule_origin read only
 *     when that many could be enough), and at most pool_min_sources steps
 *     of a cursor over the pool's payouts past its list, newest sweep
 *     first (no rule_origin read: the index holds payouts only; a source
 *     moves into it when it becomes a payout); once, when it fires, a
 *     cursor step per payout past the list in the window, so the record's
 *     count is exact. No cap is reached, so none under-counts.
 *   records: the consolidator's evidence has sources_in_window (the count,
 *     exact), sources_in_window_not_listed (those of them past the list),
 *     sources (the listed ones in the window, payouts or not, then the
 *     payouts past the list in the window, newest first: EVIDENCE_MAX, 32,
 *     in all; the counts are not cut), sources_total and sources_not_listed
 *     (every distinct source), window_from/window_to, and
 *     sources_not_examined_by_window: sources past the list the window
 *     cannot see, because a chainwatch before the window index kept them
 *     there (or, before rule_pair kept sources, only counted them); 0 for
 *     a pool whose sources went past its list under this version. They
 *     count once they sweep into it again. screen's patterns give the same
 *     number for any address. Read only (a screen of a tx), what the sweep
 *     would write past the list (the source sweeping, a source it moves
 *     past the list, their first time in the window index) is read as if
 *     written: the findings are the records of the tx, field by field.
 *     A sweep into a pool already flagged reads none of its window.
 * Each rule fires once per address (the address's fired bits), and adds
 * its weight to the address's score; the score gives the risk.
 * Amounts: USD cents through prices.h when the asset has a price on the
 * tx's day, else the native bands (satoshis). Integers only.
 */
#ifndef CW_RULES_H
#define CW_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/addr.h"
#include "chains/model.h"
#include "prices.h"
#include "watchlists/labels.h"
#include "watchlists/rulestats.h"
#include "watchlists/tokens.h"
#include "watchlists/store/journal.h"

typedef enum {
    RULE_SHARED_PAYOUT = 0,
    RULE_CONSOLIDATOR,
    RULE_TOWARD_DESIGNATED,
    RULE_OFF_RAMP,
    RULE_TEST_THEN_SALARY,
    RULE_COUNT
} rule_kind;

/* "shared_payout", ... as in the records' `rule` field. */
const char *rule_name(rule_kind r);

typedef enum { RISK_NONE = 0, RISK_LOW, RISK_MEDIUM, RISK_HIGH, RISK_SEVERE } rule_risk;
const char *rule_risk_name(rule_risk r); /* "none", "low", ... */

typedef struct {
    uint64_t lo, hi; /* inclusive */
} rule_band;

/* An account chain's native band for one asset, in its base units
 * (exact 256-bit): used when the asset has no price. */
typedef struct {
    cw_u256 lo, hi; /* inclusive */
} rule_band256;

typedef struct {
    char symbol[16];       /* "ETH", "TRX" (compared without case); "" ends the list */
    unsigned decimals;     /* must match the asset's too (18, 6) */
    rule_band256 salary, tiny;
    cw_u256 hit_min;       /* payout_toward_designated: the least that counts as a hit without a price */
} rule_asset_band;

#define RULES_ASSET_BANDS 4

typedef struct {
    bool enabled;
    bool payer_cluster;        /* payer = the first input's cluster root (clusters on); else its address */
    const prices *prices;      /* NULL: native bands only (stablecoins still 1:1) */
    const labels *labels;      /* services: never payees; exchanges/OTC/swaps are off-ramps */
    /* bands: USD cents with a price, satoshis without */
    rule_band salary_cents, tiny_cents;
    rule_band salary_native, tiny_native;
    /* account chains without a price: per asset (ETH and TRX by default);
     * an asset with neither a price nor a band is not scored */
    rule_asset_band asset_band[RULES_ASSET_BANDS];
    uint64_t trace_window;         /* account chains: an account passes a trace on for this long after it got it */
    uint64_t min_gap, max_gap;     /* seconds: a gap in this range is "on cadence" */
    unsigned min_recurring;        /* salary-sized payments at cadence that make a payer recurring (payments, >= 2) */
    unsigned shared_min_payers;    /* shared_payout: recurring payers (>= 2) */
    unsigned shared_max_payers;    /* ... and at most (more is a service, not a payout) */
    unsigned pool_min_sources;     /* consolidator: payouts paid on cadence, listed or past the list ... */
    uint64_t pool_window;          /* ... whose last sweep is within this many seconds (above: the window) */
    uint64_t test_window;          /* test_then_salary: seconds from the tiny payment to the salary */
    unsigned hops;                 /* trace forward this many txs (1..8) */
    /* payout_toward_designated: the least traced money reaching a
     * designated address that counts (USD cents with a price, satoshis
     * without; account chains: asset_band[].hit_min). Less is no hit: dust
     * sent on to a designated address by whoever a payout paid would
     * otherwise put a severe record on the payout and name its payers */
    uint64_t hit_min_cents, hit_min_native;
    uint32_t sweep_ppm;            /* a payout-like address paying this share of its inputs or more sweeps */
    unsigned offramp_min_pieces;   /* off_ramp_after_pool: payments into labelled services */
    /* payout_toward_designated through a pool: at most this many of the
     * pool's sources past its 64-entry list (rule_pair) are walked per hit
     * (each costs two reads); the rest are counted in the records'
     * sources_not_examined, never skipped silently */
    uint64_t pool_trace_max;
    unsigned toward_pool_weight;   /* the score of payout_toward_designated when the target is a flagged pool */
    unsigned weight[RULE_COUNT];   /* score per rule */
    unsigned risk_at[5];           /* score thresholds for RISK_LOW..RISK_SEVERE (index = risk) */
    rule_risk severity[RULE_COUNT]; /* the record's severity per rule */
} rules_config;

/* The defaults of docs/rules.md, enabled. */
void rules_config_default(rules_config *c);
/* A reason the config cannot work (bands upside down, min above max, ...),
 * or NULL. */
const char *rules_config_check(const rules_config *c);

/* The risk of a score (RISK_NONE below risk_at[RISK_LOW]). */
rule_risk rules_risk(const rules_config *c, uint64_t score);

typedef struct {
    rule_kind rule;
    char address[CW_ADDR_TEXT_MAX]; /* the address the record is about */
    uint64_t amount;              /* the triggering payment, base units (account chains: saturated at 2^63-1) */
    bool account;                 /* an account chain's: the transfer's asset and exact amount */
    cw_asset asset;
    cw_u256 amount_exact;
    uint64_t cents;               /* ... in USD cents, when amount_usd */
    bool amount_usd;
    uint64_t score;               /* the address's score after this rule */
    rule_risk risk;
    json_t *evidence;             /* owned by the rules scratch until the next rules_tx */
    char explanation[1024];
} rule_finding;

typedef struct {
    uint64_t txs, payments, sweeps, traced, fired[RULE_COUNT];
} rules_stats;

/* Runs the rules on tx, confirmed at unix time `when`. With a journal j
 * (t is its write transaction) the stats are written; with j == NULL only
 * read (screening: nothing changes, findings as if the tx confirmed
 * now). The payer is the cluster root of the first input address with
 * payer_cluster (clusters on), else that address. *found and
 * *n receive the findings, owned here until the next call on the same
 * thread (the scratch is per thread; rules_thread_free). Not reentrant.
 * Store errors pass up (the caller aborts t); CW_ENOMEM. */
cw_code rules_tx(const rules_config *cfg, store_txn *t, journal *j, const cw_tx *tx, int64_t when,
                 const rule_finding **found, size_t *n, rules_stats *st, cw_err *err);

/* An account chain's assets as the rules name them. */
typedef struct {
    const char *native_symbol;   /* "ETH", "TRX" */
    unsigned native_decimals;    /* 18, 6 */
    const tokens_table *tokens;  /* known tokens (symbol, decimals), or NULL */
} rules_chain;

/* rules_tx for an account chain's tx (rules_account.c): each transfer of
 * a confirmed, successful tx (a CW_TX_FAILED tx moved nothing: no
 * findings) is a payment from its `from` account to its `to`. Skipped:
 * TOKEN_CALL transfers (a pending call's intent, never in a block),
 * contract creations, zero amounts, self-transfers, mints and burns (the
 * zero account on either side). Amounts: USD cents when
 * the asset has a price (stablecoins by their token symbol 1:1, else
 * cfg->prices by symbol), else the asset's band in cfg->asset_band; an
 * unknown token (not in chain->tokens) or a TRC-10 asset is not scored and
 * carries no trace (any contract can log a Transfer with any `from`). Same
 * journal, scratch and error contract as rules_tx (j NULL: read only,
 * every write skipped); findings carry the transfer's asset and exact
 * amount (account true). */
cw_code rules_account_tx(const rules_config *cfg, const rules_chain *chain, store_txn *t, journal *j, const cw_tx *tx,
                         int64_t when, const rule_finding **found, size_t *n, rules_stats *st, cw_err *err);

/* rules_account_tx for a signed tx that has not run (screen and POST
 * /v1/screen of a raw Ethereum or Tron tx): read only (no journal:
 * nothing is written, t may be a read transaction), findings as if tx
 * confirmed successfully at `when` (now). Its transfers are what it asks
 * (chains/ethereum/tx.h eth_tx_to_model with ETH_MODEL_CALLDATA,
 * chains/tron/tx.h tron_raw_transfers with calldata): the native value,
 * and the ERC-20/TRC-20 transfer/transferFrom call decoded from the
 * calldata (CW_XFER_TOKEN_CALL). rules_account_tx skips TOKEN_CALL
 * transfers because a confirmed tx's Transfer logs are what happened;
 * a raw tx has no logs, so the decoded call is the only evidence of the
 * token payment it makes, and is judged as that payment (a payer's
 * transferFrom of another account's tokens: that account pays). Not
 * seen: internal calls, tokens a called contract moves itself, a revert
 * (only running the tx tells). CW_TX_FAILED and every skip otherwise as
 * rules_account_tx; same scratch and errors. */
cw_code rules_account_raw_tx(const rules_config *cfg, const rules_chain *chain, store_txn *t, const cw_tx *tx,
                             int64_t when, const rule_finding **found, size_t *n, cw_err *err);

/* Frees the calling thread's rules_tx scratch (findings handed out die). */
void rules_thread_free(void);

/* The stats of one address as JSON (screen, trace): NULL when it has none
 * (*rc CW_OK) or on error (*rc set, err filled). */
json_t *rules_address_json(const rules_config *cfg, store_txn *t, const uint8_t *key, size_t klen, cw_code *rc,
                           cw_err *err);

#endif
