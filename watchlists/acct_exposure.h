/*
 * acct_exposure.h: designated money followed on account chains (Ethereum
 * and every EVM chain, Tron), per account and asset.
 *
 * Design note. An account chain has no outputs to taint and no common-input
 * heuristic: an account is its own "cluster". What an account received is
 * one pool per asset, and its exposure is a haircut over that pool: the
 * share of everything it received (since it first received designated
 * money) that came from designated money. A transfer of v from A to B:
 *   - A designated (listed): v of it is designated money, hops 1;
 *   - A exposed at hops h < the limit, not a labelled service:
 *     floor(v * A.tainted / A.received) of it (cw_u256_mul_div, exact, no
 *     floats), hops h + 1, A's source kept;
 *   - else nothing designated.
 * B's record (created only once B receives designated money, then kept up
 *   to date with everything B receives, which dilutes its share) grows by
 *   v received and by the designated part; its hops, source and evidence
 *   tx are those of its closest (fewest hops) designated payment. A
 *   labelled service (exchange, bridge, ...) gets its record but passes
 *   nothing on: its pool is everyone's money.
 * Amounts are per asset: ETH and each token contract are separate pools;
 * money is never converted between them. A reverted tx moves nothing.
 *
 * Table `acct_exposure` (written through the block's journal, so a reorg
 * takes it back exactly):
 *   key   klen(1) address key (wl_key_from_addr) asset kind(1) contract(20,
 *         zeros for the native coin) -- an account's assets sort together
 *   value version(1)=1 hops(1) received(32, BE) tainted(32, BE) txid(32)
 *         source_len(1) source(source_len)
 *
 * Errors: store errors pass up; a record that does not decode is
 * CW_EDAMAGED (store_damaged), never "no exposure". A total that would
 * pass 2^256-1 (only a fake token's Transfer logs can) stays at 2^256-1,
 * never an error: one such log would otherwise stop the chain at its block.
 */
#ifndef CW_ACCT_EXPOSURE_H
#define CW_ACCT_EXPOSURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/model.h"
#include "labels.h"
#include "watchlist.h"
#include "watchlists/store/journal.h"
#include "watchlists/store/store.h"

#define ACCT_EXPOSURE_MAX_HOPS 8

typedef struct {
    uint8_t hops;          /* of its closest designated payment (1: straight from a designated account) */
    cw_u256 received;      /* everything received since the first designated payment */
    cw_u256 tainted;       /* of which designated money (<= received) */
    uint8_t txid[32];      /* the tx of its closest designated payment */
    uint8_t source[WL_KEY_MAX]; /* the designated account it came from (watchlist key) */
    size_t source_len;
} acct_exposure;

/* An account's record for one asset; CW_ENOTFOUND when none. */
cw_code acct_exposure_get(store_txn *t, const cw_addr *a, const cw_asset *as, acct_exposure *out, cw_err *err);

/* Each asset record of an account, in key order; fn returns false to stop. */
typedef bool (*acct_exposure_fn)(void *ctx, const cw_asset *as, const acct_exposure *e);
cw_code acct_exposure_each(store_txn *t, const cw_addr *a, acct_exposure_fn fn, void *ctx, cw_err *err);

/* The share of a record that is designated money, in parts per million. */
uint32_t acct_exposure_share_ppm(const acct_exposure *e);

typedef struct {
    unsigned hops;          /* follow this many transfers (1..ACCT_EXPOSURE_MAX_HOPS) */
    const labels *labels;   /* services that pass nothing on, or NULL */
} acct_exposure_config;

/* What one transfer carried of designated money. */
typedef struct {
    cw_u256 part;                /* zero: none */
    uint8_t hops;                /* 1: from a designated account; 0 with part zero */
    uint8_t source[WL_KEY_MAX];  /* the designated account it came from */
    size_t source_len;
} acct_exposure_move;

/* One transfer of a tx being connected (in order), journaled. *moved (may
 * be NULL) is what of it was designated money. Transfers without a
 * recipient or with a zero amount change nothing. */
cw_code acct_exposure_transfer(const acct_exposure_config *cfg, journal *j, const cw_transfer *x,
                               const uint8_t txid[32], acct_exposure_move *moved, cw_err *err);

/* `watchlist check`: NULL when key/value is a well-formed record, else what is wrong. */
const char *acct_exposure_check_record(cw_span k, cw_span v);

#endif
