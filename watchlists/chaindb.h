/*
 * chaindb.h: the tables of the confirmed chain and their encoding. Only
 * this module builds their keys and values; the engine (monitor/engine/
 * chainstate.h) decides what to connect and calls these typed functions.
 *
 * Formats (integers big-endian (BE) in keys, so keys sort by number;
 * little-endian (LE) in values):
 *   utxo    outpoint: txid(32, internal order) + vout(4, BE), so a tx's
 *           outputs sort together
 *           -> coin: value(8, LE) chain(1) net(1) kind(1) version(1)
 *              len(1) payload(len)
 *   chain   height(8, BE) -> block hash(32, internal order)
 *   undo    block hash(32) -> height(8, LE) prev(32) time(4, LE)
 *              n_spent(4, LE) { outpoint(36) coin_len(1) coin }
 *              n_created(4, LE) { outpoint(36) }
 *              n_alerts(4, LE) { alert id(32 hex chars) }
 *           (the alert part may be absent in records of older versions)
 *   cursor  "tip" -> height(8, LE) hash(32); "seq.<topic>" (a feed's
 *           counter) and "flows.wl_fp" (the watchlist fingerprint the
 *           clusters were last refreshed at) -> value(8, LE); "trail" is
 *           the audit trail head, alertdb.h's.
 *
 * Every function works inside the caller's transaction t. A record that
 * does not decode is CW_EDAMAGED ("store damaged: ..."), never "absent".
 */
#ifndef CW_CHAINDB_H
#define CW_CHAINDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/buf.h"
#include "chains/model.h"
#include "watchlists/store/store.h"

#define CHAINDB_OUTPOINT_LEN 36
#define CHAINDB_COIN_MAX (13 + CW_ADDR_PAYLOAD_MAX)

typedef struct {
    bool valid;        /* false: nothing connected yet */
    int64_t height;
    uint8_t hash[32];  /* internal order */
} chaindb_tip;

/* ---- utxo ---- */

/* The utxo (and taint) key of an output. */
void chaindb_outpoint_key(const uint8_t txid[32], uint32_t vout, uint8_t k[CHAINDB_OUTPOINT_LEN]);
/* A coin value into out; returns its length. */
size_t chaindb_coin_encode(uint64_t value, const cw_addr *a, uint8_t out[CHAINDB_COIN_MAX]);
/* False when v is not a coin. */
bool chaindb_coin_decode(cw_span v, uint64_t *value, cw_addr *a);
/* The encoded coin of an outpoint (valid until t ends or changes);
 * CW_ENOTFOUND if unspent output is not in the index. */
cw_code chaindb_coin_get(store_txn *t, const uint8_t op[CHAINDB_OUTPOINT_LEN], cw_span *coin, cw_err *err);
/* Puts an encoded coin (chaindb_coin_encode). */
cw_code chaindb_coin_put(store_txn *t, const uint8_t op[CHAINDB_OUTPOINT_LEN], const uint8_t *coin, size_t n,
                         cw_err *err);
/* CW_ENOTFOUND if absent. */
cw_code chaindb_coin_del(store_txn *t, const uint8_t op[CHAINDB_OUTPOINT_LEN], cw_err *err);

/* ---- chain and tip ---- */

/* The tip; tip->valid false when none is stored. */
cw_code chaindb_get_tip(store_txn *t, chaindb_tip *out, cw_err *err);
/* Stores tip (deletes it when !tip->valid). */
cw_code chaindb_set_tip(store_txn *t, const chaindb_tip *tip, cw_err *err);
/* Hash of the connected block at height; CW_ENOTFOUND if none. */
cw_code chaindb_hash_at(store_txn *t, int64_t height, uint8_t hash[32], cw_err *err);
/* The height a chain key stands for; false when k is not a chain key. */
bool chaindb_chain_key_height(cw_span k, uint64_t *height);
cw_code chaindb_chain_put(store_txn *t, int64_t height, const uint8_t hash[32], cw_err *err);
cw_code chaindb_chain_del(store_txn *t, int64_t height, cw_err *err);

/* ---- undo ---- */

/* What connecting a block changed, built while it is connected: spent
 * outputs with their coins, created outpoints, the ids of its alerts. */
typedef struct {
    cw_buf spent, created;
    uint32_t n_spent, n_created;
} chaindb_undo;
#define CHAINDB_UNDO_INIT {CW_BUF_INIT, CW_BUF_INIT, 0, 0}
/* CW_ENOMEM, or CW_EDAMAGED for a coin longer than the format holds. */
cw_code chaindb_undo_spent(chaindb_undo *u, const uint8_t op[CHAINDB_OUTPOINT_LEN], cw_span coin, cw_err *err);
cw_code chaindb_undo_created(chaindb_undo *u, const uint8_t op[CHAINDB_OUTPOINT_LEN], cw_err *err);
void chaindb_undo_free(chaindb_undo *u);
/* Writes the undo record of block `hash` at height (parent prev, header
 * time); alert_ids: 32 hex chars each, concatenated, or NULL. */
cw_code chaindb_undo_put(store_txn *t, const uint8_t hash[32], int64_t height, const uint8_t prev[32], uint32_t time,
                         const chaindb_undo *u, const cw_buf *alert_ids, cw_err *err);
/* Is this block (by hash) connected, i.e. has it an undo record? *yes and
 * (when height is not NULL, and *yes) *height. A read error is returned,
 * never "not connected"; an undo record too short to hold its height is
 * CW_EDAMAGED. */
cw_code chaindb_is_connected(store_txn *t, const uint8_t hash[32], bool *yes, int64_t *height, cw_err *err);
/* Reverts block `hash` by its undo record and deletes the record: the
 * outputs it spent come back first, then the outputs it created go (which
 * also undoes outputs created and spent inside the block). Fills height,
 * prev and time and appends its alert ids to alert_ids (when not NULL).
 * A missing or malformed record is CW_EDAMAGED. The utxo writes before an
 * error stay in t: on any error the caller aborts t. The chain entry and
 * the tip are the caller's (chainstate_disconnect_tip). */
cw_code chaindb_undo_revert(store_txn *t, const uint8_t hash[32], int64_t *height, uint8_t prev[32], uint32_t *time,
                            cw_buf *alert_ids, cw_err *err);

/* ---- cursor: the monitor's named positions ---- */

/* A feed topic's message counter ("seq.<topic>"); CW_ENOTFOUND if none
 * saved; CW_EARG for a topic name of 28 bytes or more (no key for it). */
cw_code chaindb_feed_counter_get(store_txn *t, const char *topic, uint64_t *value, cw_err *err);
cw_code chaindb_feed_counter_put(store_txn *t, const char *topic, uint64_t value, cw_err *err);
/* The wl_meta fingerprint the clusters were last refreshed against
 * ("flows.wl_fp"); CW_ENOTFOUND if never. */
cw_code chaindb_flows_fp_get(store_txn *t, uint64_t *value, cw_err *err);
cw_code chaindb_flows_fp_put(store_txn *t, uint64_t value, cw_err *err);

/* `watchlist check`: NULL when key/value is a well-formed record of db
 * (utxo, chain, cursor, undo; any other db: NULL), else what is wrong.
 * The cursor's "trail" is alertdb's: given here it reads as a counter of
 * the wrong size, so the caller routes it to alertdb_check_record first
 * (store_check.c does). Undo records are checked for their height only. */
const char *chaindb_check_record(store_db db, cw_span k, cw_span v);

#endif
