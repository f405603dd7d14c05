/*
 * rulestats.h: the statistics the pattern rules (monitor/engine/rules/)
 * keep per address, per (payee, counterparty) pair and per unspent output,
 * in LMDB, every write through the block's journal.
 *
 * Design note. The rules judge payouts by who pays an address, how much,
 * how often, and where the money goes next. Three tables hold exactly what
 * that needs, nothing more (ordinary traffic outside the amount bands the
 * rules look at writes nothing):
 *   rule_addr  address key -> one record: totals in and out (USD cents
 *              and native base units), first and last seen, how many payers
 *              pay it on a recurring cadence, how many payout-like
 *              addresses pooled into it, which rules fired on it (a bit
 *              each) and its score; then its counterparties (at most
 *              RS_LIST_MAX), each with the pair's payments: count,
 *              first/last time and txid, amounts, smallest and largest
 *              gap, payments at cadence. Kind 'P': a payer (cluster root
 *              on UTXO chains, account on account chains) paying it; kind
 *              'S': a payout-like address sweeping into it (a pool). One
 *              record per address, so a payment is one read and one write
 *              (the throughput bound: scripts/bench rules), and the list
 *              is the evidence of a record and the trace back from a pool
 *              to the payouts that fed it;
 *   rule_origin address key -> whether it is a payout paid on cadence or a
 *              pool (the trace starts from them; see below);
 *   rule_pair  payee key + payer key -> the pair of a payer that is not in
 *              the payee's full list (rs_pair_*): every payer is counted
 *              and judged (a flood of throwaway payers cannot push the
 *              real ones out of sight), the list keeps the recurring ones
 *              first (the evidence), and the record counts the rest
 *              (payers_beyond). Written only for an address paid by more
 *              than RS_LIST_MAX, so a payout's payment stays one read.
 *              Also 0x00 + pool key + source key -> the sweeps of a
 *              source past a pool's full list (rs_source_*: a payer's key
 *              starts with its payee's length, 1..WL_KEY_MAX, never 0, so
 *              the two shapes never meet): every source is kept (the pool
 *              record's pool_sources counts them all, listed or not) and
 *              walked by the trace back from the pool in key order
 *              (rs_source_walk: a cursor, so rule_pair is never a
 *              write-back table, store_write_back). And the index the
 *              consolidator's window reads them by (0xF0, 0xF1, 0xF2:
 *              rs_window_*, below);
 *   rule_trace outpoint(36) -> the payout or pool address its money came
 *              from and after how many hops: followed forward like
 *              exposure's taint, deleted when spent, so a payment into a
 *              designated address or a labelled exchange can be traced back
 *              to the payouts that fed it. On account chains (no outputs)
 *              the trace is per account: 'A' || address key (27 bytes for
 *              an EVM or Tron account; a key of 36 bytes is refused, so the
 *              two shapes never meet) -> the same, plus when the account
 *              got it and how much of the origin's money it got
 *              (rs_trace_account_get).
 * Native totals: an address's in_native and out_native are 128-bit
 * (*_native_hi: wei pass 2^64 at 18.4 ETH; the account sweep test compares
 * them, exactly); the others (offramp_native, a pair's total_native ...)
 * are uint64 and, like an amount or total a record carries, stay at
 * 2^63-1 (RS_TOTAL_MAX: the records' JSON integers are signed) rather than
 * pass it: they saturate, never wrap (rs_sat_add, rs_wide_add). These are
 * the evidence's.
 * rule_addr, rule_origin and rule_trace are read by key only, so the
 * pipeline keeps their writes in memory until the commit
 * (store_write_back); rule_pair is walked by a cursor (rs_source_walk),
 * which sees no pending write-back write, so its writes go to LMDB. Every write goes through the
 * journal (journal.h), so disconnecting a block restores them byte for byte, and live and replay (one
 * code path, connect.c) write the same bytes. Values are varints (the
 * module owns the encoding: rulestats.c); a value that does not decode is
 * CW_EDAMAGED, never "absent".
 *
 * Errors: store errors pass up (CW_ESTORE, CW_EDAMAGED, CW_EFULL); CW_EARG
 * for a key over WL_KEY_MAX.
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

/* Totals are per unit, never mixed: a payment with a price counts in USD
 * cents (*_cents, any asset), one without in base units of the chain's
 * coin (*_native: satoshis, wei, sun); a token is scored only with a
 * price, so its base units are never added to anything. */
typedef struct {
    uint64_t n_in, n_out;           /* payments in the rules' bands, in and out */
    uint64_t in_cents, out_cents;   /* those with a price, USD cents */
    uint64_t in_native, out_native; /* those of the coin without one, base units: low words (*_native_hi) */
    uint64_t first_seen, last_seen; /* block times */
    uint64_t recurring_payers;      /* payers whose payments reached the cadence */
    uint64_t pool_sources;          /* distinct payout-like addresses that swept into it (listed, or past the list in rule_pair) */
    uint64_t fired;                 /* RS_* bits */
    uint64_t score;                 /* the weights of the rules fired (rules.h) */
    uint64_t offramp_pieces;        /* pooled money reaching labelled services, payments */
    uint64_t offramp_cents, offramp_native; /* per unit as above; offramp_native saturates at RS_TOTAL_MAX */
    uint64_t salaries;              /* salary-sized payments received from payers */
    uint64_t payers_beyond;         /* distinct payers kept in rule_pair, not in the list (its payers + these = all) */
    uint64_t in_native_hi, out_native_hi; /* in_native and out_native are 128-bit: these are their high words */
} rs_addr;

typedef struct {
    uint64_t count;                 /* salary-sized payments (kind P) or sweeps (kind S) */
    uint64_t tiny;                  /* tiny payments before the first salary-sized one */
    uint64_t at_cadence;            /* payments whose gap to the one before was in the cadence */
    uint64_t first_time, last_time;
    uint64_t min_gap, max_gap;      /* seconds; 0 with fewer than two payments */
    uint64_t total_cents, total_native; /* per unit as rs_addr's (total_native saturated at RS_TOTAL_MAX) */
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
    uint64_t when;                  /* account traces: when the account got it (unix time); 0 for outpoints */
    /* account traces: how much of the origin's money the account got, in
     * millionths of the least a hit needs (rules.h hit_min_*: so that
     * assets add up), saturated at RS_TOTAL_MAX; a record written before
     * it was kept reads RS_TOTAL_MAX (no limit). 0 for outpoints: an
     * output's value is what it holds */
    uint64_t amount;
} rs_trace;

#define RS_LIST_MAX 64

/* One counterparty of an address: kind RS_KIND_PAYER (a payer paying it)
 * or RS_KIND_SOURCE (a payout-like address sweeping into it). */
typedef struct {
    char kind;
    uint8_t klen;
    uint8_t key[WL_KEY_MAX];
    rs_pair p;
} rs_entry;

/* An address's whole record: its stats and its counterparties, in the
 * order they first paid (at most RS_LIST_MAX: an address paid by more is
 * no payout, and its new counterparties are not kept). */
typedef struct {
    rs_addr a;
    size_t n;
    rs_entry e[RS_LIST_MAX];
    bool stored;   /* rs_record_get found it ... */
    cw_span raw;   /* ... as these bytes, good until the next write in the transaction */
} rs_record;

/* An address's stats only (the hot path: is an input a payout or a
 * pool?); CW_ENOTFOUND when none. */
cw_code rs_addr_get(store_txn *t, const uint8_t *key, size_t klen, rs_addr *out, cw_err *err);
/* The whole record; CW_ENOTFOUND (and *out empty) when none. */
cw_code rs_record_get(store_txn *t, const uint8_t *key, size_t klen, rs_record *out, cw_err *err);
/* Writes the whole record, journaled. When it was read by rs_record_get
 * and nothing was written in the transaction since, the journal takes the
 * old value from it (r->stored, r->raw) rather than reading it again; a
 * record built otherwise must have stored false (the key is read). */
cw_code rs_record_put(journal *j, const uint8_t *key, size_t klen, const rs_record *r, cw_err *err);
/* The entry of (kind, key), or NULL. */
rs_entry *rs_record_find(rs_record *r, char kind, const uint8_t *key, size_t klen);
/* A new zeroed entry for (kind, key); NULL when the record is full. */
rs_entry *rs_record_add(rs_record *r, char kind, const uint8_t *key, size_t klen);

/* rule_origin: the few addresses a trace starts from (a payout paid on
 * cadence, a pool of two or more payouts), apart from rule_addr so that
 * the check every input makes is a small table's (its Bloom filter nearly
 * always answers), and the payers that pay salaries. */
enum {
    RS_ORIGIN_PAYOUT = 1,
    RS_ORIGIN_POOL = 2,
    RS_ORIGIN_PAYER = 4, /* a payer that has paid a salary-sized amount: its tiny payments are worth keeping */
};
/* *flags 0 when the address is neither; store errors. */
cw_code rs_origin_get(store_txn *t, const uint8_t *key, size_t klen, unsigned *flags, cw_err *err);
/* Adds flags to the address's (journaled; nothing written when set already). */
cw_code rs_origin_add(journal *j, const uint8_t *key, size_t klen, unsigned flags, cw_err *err);

/* rule_pair: a payer's pair with a payee whose list had no room for it;
 * CW_ENOTFOUND when none. CW_EARG for an empty key or one over WL_KEY_MAX. */
cw_code rs_pair_get(store_txn *t, const uint8_t *payee, size_t plen, const uint8_t *payer, size_t klen, rs_pair *out,
                    cw_err *err);
cw_code rs_pair_put(journal *j, const uint8_t *payee, size_t plen, const uint8_t *payer, size_t klen, const rs_pair *p,
                    cw_err *err);
/* Moved into the list: absent is fine. */
cw_code rs_pair_del(journal *j, const uint8_t *payee, size_t plen, const uint8_t *payer, size_t klen, cw_err *err);

/* rule_pair, sources: a source's sweeps into a pool whose list had no
 * room for it; CW_ENOTFOUND when none. CW_EARG for an empty key or one over
 * WL_KEY_MAX. Never deleted but by the journal (a source past the list
 * stays there). */
cw_code rs_source_get(store_txn *t, const uint8_t *pool, size_t plen, const uint8_t *src, size_t slen, rs_pair *out,
                      cw_err *err);
cw_code rs_source_put(journal *j, const uint8_t *pool, size_t plen, const uint8_t *src, size_t slen, const rs_pair *p,
                      cw_err *err);

/* A pool's sources past its list, streamed in key order by a cursor (one
 * at a time: no memory grows with the pool). Open it, call next until it
 * returns CW_ENOTFOUND (the end) or an error (store errors; CW_EDAMAGED for
 * a record that does not decode: never a silent end), then close it (always,
 * before t ends). It reads LMDB only: rule_pair must not be write-back in
 * t. Writes to other tables in t between calls are fine; writes to
 * rule_pair are not. */
typedef struct {
    store_txn *t;
    store_cursor *c;
    uint8_t prefix[2 + WL_KEY_MAX];
    size_t n;
    bool started;
} rs_source_walk;
cw_code rs_source_walk_open(store_txn *t, const uint8_t *pool, size_t plen, rs_source_walk *w, cw_err *err);
/* CW_OK: the next source's key (src, *slen) and sweeps (*p). */
cw_code rs_source_walk_next(rs_source_walk *w, uint8_t src[WL_KEY_MAX], size_t *slen, rs_pair *p, cw_err *err);
/* NULL cursor (open failed or closed already): a no-op. */
void rs_source_walk_close(rs_source_walk *w);

/* The consolidator's window over a pool's sources past its list: three
 * more rule_pair key shapes (first byte above WL_KEY_MAX, so they never
 * meet a payer's key or the 0x00 source shape), every write journaled.
 * The invariant, for each source s kept past pool p's list (rs_source_*)
 * since this index exists:
 *   - s is a payout paid on cadence (rule_origin RS_ORIGIN_PAYOUT): the
 *     window entry 0xF0 plen(1) p ~last(8, big-endian) s exists, last =
 *     s's last sweep into p (rs_pair last_time), so a cursor reads p's
 *     payouts past its list newest sweep first and stops at the window's
 *     start (rs_window_walk);
 *   - else the waiting entry 0xF1 slen(1) s p exists: when s becomes a
 *     payout (rules.c, the one place RS_ORIGIN_PAYOUT is set) its waiting
 *     entries move to the window (rs_waiting_first), so no check ever
 *     reads rule_origin for a source past the list.
 * And 0xF2 plen(1) p -> 8 bytes LE: how many of p's sources past its
 * list are indexed so (rs_indexed_*); the pool's other sources past the
 * list (kept by a chainwatch before this index, or counted and never kept
 * before rule_pair kept sources) are not seen by the window, and the
 * records say how many. Values of 0xF0 and 0xF1 entries: one byte, 1. */
cw_code rs_window_put(journal *j, const uint8_t *pool, size_t plen, const uint8_t *src, size_t slen, uint64_t last,
                      cw_err *err);
/* Whether src is in pool's window at last: CW_OK or CW_ENOTFOUND;
 * CW_EDAMAGED for an entry that does not decode. */
cw_code rs_window_get(store_txn *t, const uint8_t *pool, size_t plen, const uint8_t *src, size_t slen, uint64_t last,
                      cw_err *err);
/* Absent is fine. *had (may be NULL): whether it was there. */
cw_code rs_window_del(journal *j, const uint8_t *pool, size_t plen, const uint8_t *src, size_t slen, uint64_t last,
                      bool *had, cw_err *err);
cw_code rs_waiting_put(journal *j, const uint8_t *src, size_t slen, const uint8_t *pool, size_t plen, cw_err *err);
/* Absent is fine. */
cw_code rs_waiting_del(journal *j, const uint8_t *src, size_t slen, const uint8_t *pool, size_t plen, cw_err *err);
/* Whether (src, pool) waits: CW_OK or CW_ENOTFOUND. */
cw_code rs_waiting_get(store_txn *t, const uint8_t *src, size_t slen, const uint8_t *pool, size_t plen, cw_err *err);
/* The first pool src waits in (key order) into pool (*plen bytes); CW_ENOTFOUND
 * when none. A cursor opened and closed per call, so the caller may write
 * rule_pair between calls (moving each entry as it goes). */
cw_code rs_waiting_first(store_txn *t, const uint8_t *src, size_t slen, uint8_t pool[WL_KEY_MAX], size_t *plen,
                         cw_err *err);
/* *n: the pool's indexed sources past its list (0 when none). */
cw_code rs_indexed_get(store_txn *t, const uint8_t *pool, size_t plen, uint64_t *n, cw_err *err);
cw_code rs_indexed_put(journal *j, const uint8_t *pool, size_t plen, uint64_t n, cw_err *err);

/* A pool's window entries, newest last sweep first (same cursor contract
 * as rs_source_walk: close always; no rule_pair write between calls). */
typedef rs_source_walk rs_window_walk;
cw_code rs_window_walk_open(store_txn *t, const uint8_t *pool, size_t plen, rs_window_walk *w, cw_err *err);
/* CW_OK: the next source (src, *slen) and its last sweep (*last);
 * CW_ENOTFOUND past the pool's last; CW_EDAMAGED for an entry that does not
 * decode. */
cw_code rs_window_walk_next(rs_window_walk *w, uint8_t src[WL_KEY_MAX], size_t *slen, uint64_t *last, cw_err *err);
void rs_window_walk_close(rs_window_walk *w);

/* An output's trace; CW_ENOTFOUND when it carries none. */
cw_code rs_trace_get(store_txn *t, const uint8_t outpoint[36], rs_trace *out, cw_err *err);
cw_code rs_trace_put(journal *j, const uint8_t outpoint[36], const rs_trace *v, cw_err *err);
/* Spent: absent is fine. */
cw_code rs_trace_del(journal *j, const uint8_t outpoint[36], cw_err *err);

/* An account's trace (account chains: key = the account's address key,
 * at most WL_KEY_MAX - 1 bytes and never 35: 'A' || key must not be 36
 * bytes long, an outpoint's length; CW_EARG otherwise); CW_ENOTFOUND when
 * it carries none. Traces of accounts are replaced (the nearest origin
 * wins: rules_account.c), never deleted but by the journal. */
cw_code rs_trace_account_get(store_txn *t, const uint8_t *key, size_t klen, rs_trace *out, cw_err *err);
cw_code rs_trace_account_put(journal *j, const uint8_t *key, size_t klen, const rs_trace *v, cw_err *err);

/* The cap of a total: 2^63-1, the largest integer a record's JSON carries
 * (jansson's integers are signed 64-bit). */
#define RS_TOTAL_MAX ((uint64_t)INT64_MAX)
/* a + b, or RS_TOTAL_MAX when it would pass it (totals saturate). */
static inline uint64_t rs_sat_add(uint64_t a, uint64_t b)
{
    return a >= RS_TOTAL_MAX || b >= RS_TOTAL_MAX - a ? RS_TOTAL_MAX : a + b;
}

/* (*lo, *hi) += (add_lo, add_hi), 128-bit, saturating at 2^128-1. */
static inline void rs_wide_add(uint64_t *lo, uint64_t *hi, uint64_t add_lo, uint64_t add_hi)
{
    uint64_t l = *lo + add_lo, c = l < *lo, h = *hi + add_hi;
    bool over = h < *hi || h + c < h;
    if (over) {
        *lo = *hi = UINT64_MAX;
        return;
    }
    *lo = l, *hi = h + c;
}
/* A 128-bit total as a record's JSON integer: saturated at RS_TOTAL_MAX. */
static inline uint64_t rs_wide_cap(uint64_t lo, uint64_t hi) { return hi || lo > RS_TOTAL_MAX ? RS_TOTAL_MAX : lo; }

/* `watchlist check`: NULL when k/v is a well-formed record of db (the
 * three tables above, both key shapes of rule_trace; any other db: NULL),
 * else what is wrong. */
const char *rs_check_record(store_db db, cw_span k, cw_span v);

#endif
