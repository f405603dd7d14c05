/*
 * rulestats.h: the statistics the pattern rules (monitor/engine/rules/)
 * keep per address, per (payee, counterparty) pair and per unspent output,
 * in LMDB, every write through the block's journal.
 *
 * Design note. The rules judge payouts by who pays an address, how much,
 * how often, and where the money goes next. Three tables hold exactly what
 * that needs, nothing more (ordinary traffic outside the amount bands the
 * rules look at writes nothing):
 *   rule_addr  address key -> totals in and out (USD cents and native base
 *              units), first and last seen, how many payers pay it on a
 *              recurring cadence, how many payout-like addresses pooled
 *              into it, which rules fired on it (a bit each) and its score;
 *   rule_pair  kind(1) | payee key length(1) | payee key | counterparty key
 *              -> the pair's payments: count, first/last time and txid,
 *              amounts, smallest and largest gap, payments at cadence.
 *              Kind 'P': a payer (cluster root on UTXO chains, account on
 *              account chains) paying a payee; kind 'S': a payout-like
 *              address sweeping into a pool. A prefix walk over kind|payee
 *              lists an address's counterparties (the evidence of a record
 *              and the trace back from a pool to the payouts that fed it);
 *   rule_trace outpoint(36) -> the payout or pool address its money came
 *              from and after how many hops: followed forward like
 *              exposure's taint, deleted when spent, so a payment into a
 *              designated address or a labelled exchange can be traced back
 *              to the payouts that fed it.
 * Every write goes through the journal (journal.h), so disconnecting a
 * block restores the three tables byte for byte, and live and replay (one
 * code path, connect.c) write the same bytes. Values are little-endian
 * fixed fields (the module owns the encoding); a value of another length
 * is CW_EDAMAGED, never "absent".
 *
 * Errors: store errors pass up (CW_ESTORE, CW_EDAMAGED, CW_EFULL); CW_EARG
 * for a key over WL_KEY_MAX. Cursors read LMDB only, so these tables are
 * never write-back (store_write_back).
 */
#ifndef CW_RULESTATS_H
#define CW_RULESTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "watchlist.h"
#include "watchlists/store/journal.h"
#include "watchlists/store/store.h"

/* rule bits of rule_addr.fired */
enum {
    RS_SHARED_PAYOUT = 1 << 0,
    RS_CONSOLIDATOR = 1 << 1,
    RS_TOWARD_DESIGNATED = 1 << 2, /* its money reached a designated address or cluster */
    RS_OFF_RAMP = 1 << 3,
    RS_TEST_THEN_SALARY = 1 << 4,
    RS_TOWARD_POOL = 1 << 5,       /* its money reached a flagged consolidator */
};

typedef struct {
    uint64_t n_in, n_out;           /* payments in the rules' bands, in and out */
    uint64_t in_cents, out_cents;   /* of those, USD cents (0 when no price) */
    uint64_t in_native, out_native; /* base units (satoshis) */
    uint64_t first_seen, last_seen; /* block times */
    uint64_t recurring_payers;      /* payers whose payments reached the cadence */
    uint64_t pool_sources;          /* payout-like addresses that swept into it */
    uint64_t fired;                 /* RS_* bits */
    uint64_t score;                 /* the weights of the rules fired (rules.h) */
    uint64_t offramp_pieces;        /* pooled money reaching labelled services, payments */
    uint64_t offramp_cents, offramp_native;
    uint64_t salaries;              /* salary-sized payments received from payers */
} rs_addr;

typedef struct {
    uint64_t count;                 /* salary-sized payments (kind P) or sweeps (kind S) */
    uint64_t tiny;                  /* tiny payments before the first salary-sized one */
    uint64_t at_cadence;            /* payments whose gap to the one before was in the cadence */
    uint64_t first_time, last_time;
    uint64_t min_gap, max_gap;      /* seconds; 0 with fewer than two payments */
    uint64_t total_cents, total_native;
    uint64_t first_cents, first_native;  /* the pair's first payment (tiny or not) */
    uint64_t last_cents, last_native;
    uint64_t flags;                 /* RS_PAIR_* */
    uint8_t first_txid[32], last_txid[32];
} rs_pair;

enum {
    RS_PAIR_RECURRING = 1 << 0, /* counted in the payee's recurring_payers */
    RS_PAIR_TEST_FIRED = 1 << 1,
    RS_PAIR_TINY_FIRST = 1 << 2, /* the first payment was tiny */
};

#define RS_KIND_PAYER 'P'
#define RS_KIND_SOURCE 'S'

typedef struct {
    uint8_t origin[WL_KEY_MAX];     /* payout or pool address (watchlist key) */
    size_t origin_len;
    uint8_t pool;                   /* 1: origin is a pool (consolidation) address */
    uint8_t hops;                   /* txs since the origin: 1 = paid straight by it */
    uint8_t first_txid[32];         /* the tx that left the origin */
} rs_trace;

/* An address's stats; CW_ENOTFOUND when none. */
cw_code rs_addr_get(store_txn *t, const uint8_t *key, size_t klen, rs_addr *out, cw_err *err);
cw_code rs_addr_put(journal *j, const uint8_t *key, size_t klen, const rs_addr *v, cw_err *err);

/* A pair's stats; CW_ENOTFOUND when none. */
cw_code rs_pair_get(store_txn *t, char kind, const uint8_t *payee, size_t plen, const uint8_t *cp, size_t clen,
                    rs_pair *out, cw_err *err);
cw_code rs_pair_put(journal *j, char kind, const uint8_t *payee, size_t plen, const uint8_t *cp, size_t clen,
                    const rs_pair *v, cw_err *err);
/* Calls fn for each counterparty of payee under kind, in key order; fn
 * returns false to stop. A read error that cut the walk is returned. */
typedef bool (*rs_pair_fn)(void *ctx, const uint8_t *cp, size_t clen, const rs_pair *v);
cw_code rs_pair_each(store_txn *t, char kind, const uint8_t *payee, size_t plen, rs_pair_fn fn, void *ctx,
                     cw_err *err);

/* An output's trace; CW_ENOTFOUND when it carries none. */
cw_code rs_trace_get(store_txn *t, const uint8_t outpoint[36], rs_trace *out, cw_err *err);
cw_code rs_trace_put(journal *j, const uint8_t outpoint[36], const rs_trace *v, cw_err *err);
/* Spent: absent is fine. */
cw_code rs_trace_del(journal *j, const uint8_t outpoint[36], cw_err *err);

/* `watchlist check`: NULL when k/v is a well-formed record of db (the
 * three tables above; any other db: NULL), else what is wrong. */
const char *rs_check_record(store_db db, cw_span k, cw_span v);

#endif
