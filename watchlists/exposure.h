/*
 * exposure.h: designated money followed forward, per output and per
 * address.
 *
 * Design note. Money leaving a designated cluster is "tainted". Each
 * unspent output that carries some of it has a `taint` record: how many of
 * its satoshis came from the designated source, after how many hops, from
 * which designated address, and the txids of the path. A tx that spends
 * tainted outputs passes the taint on to its outputs in proportion to their
 * values (the haircut method: a tx with 40% tainted input value gives each
 * output 40% tainted value), one hop further. Records are deleted when
 * their output is spent, so the taint database holds only live money.
 * Every address that ever received tainted money has an `exposure` record:
 * the fewest hops, the total received, the source and the path of its
 * closest payment. Both are written through the journal.
 *
 * Taint from several sources mixes into one amount; the record keeps the
 * source and path of the closest tainted input (fewest hops; the largest
 * of those), so its hop count and its path always agree.
 *
 * Errors: store errors pass up (CW_ESTORE, CW_EDAMAGED, CW_EFULL); a
 * record that does not decode is CW_EDAMAGED (STORE_DAMAGED in the
 * message), never "no exposure". Results are copies. Writers take the
 * block's journal (its transaction is the caller's to commit or abort).
 */
#ifndef CW_EXPOSURE_H
#define CW_EXPOSURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "watchlists/store/journal.h"
#include "watchlists/store/store.h"
#include "watchlist.h"

#define EXPOSURE_MAX_HOPS 8 /* the most --hops allows */

typedef struct {
    uint64_t amount;                     /* tainted satoshis */
    uint8_t hops;                        /* 1: paid straight from the designated cluster */
    uint8_t n_path;                      /* txids from the designated source on: n_path == hops */
    uint8_t path[EXPOSURE_MAX_HOPS][32];
    uint8_t source[WL_KEY_MAX];          /* the designated address it came from (watchlist key) */
    size_t source_len;
} exposure_taint;

/* The taint of an unspent output; CW_ENOTFOUND when it carries none. */
cw_code exposure_taint_get(store_txn *t, const uint8_t outpoint[36], exposure_taint *out, cw_err *err);
/* Sets an output's taint, journaled. CW_EARG for a path over EXPOSURE_MAX_HOPS. */
cw_code exposure_taint_put(journal *j, const uint8_t outpoint[36], const exposure_taint *v, cw_err *err);
/* The output was spent: its taint moves on with the tx (absent is fine). */
cw_code exposure_taint_del(journal *j, const uint8_t outpoint[36], cw_err *err);

typedef struct {
    uint8_t min_hops;                    /* of its closest tainted payment */
    uint64_t amount;                     /* tainted satoshis received in all */
    uint64_t payments;                   /* tainted payments received */
    exposure_taint closest;                   /* source and path of the closest (then largest) payment */
} exposure_address;

/* `watchlist check`: NULL when key/value is a well-formed record of db
 * (taint, exposure; any other db: NULL), else what is wrong with it. */
const char *exposure_check_record(store_db db, cw_span k, cw_span v);

/* An address's exposure; CW_ENOTFOUND when it never received tainted money. */
cw_code exposure_address_get(store_txn *t, const uint8_t *key, size_t klen, exposure_address *out, cw_err *err);
/* Adds one tainted payment to the address's record (created on the
 * first), journaled: amount and payments grow, the closest payment is kept
 * (fewer hops, then larger amount). */
cw_code exposure_address_add(journal *j, const uint8_t *key, size_t klen, const exposure_taint *payment, cw_err *err);

#endif
