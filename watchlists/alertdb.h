/*
 * alertdb.h: the tables of alert records and their encoding. Only this
 * module builds their keys; the engine (monitor/engine/records.c) builds,
 * chains and signs the records and calls these typed functions.
 *
 * Formats:
 *   alerts  alert id (32 hex chars) -> its latest signed record (one line
 *           of canonical JSON, no newline)
 *   outbox  sequence number (8, big-endian, from 1, so the outbox walks
 *           oldest first) -> a signed record committed with its block and
 *           not yet made durable by the sinks; a sequence queue
 *           (watchlists/store/seqq.h: keys, walks and removal are its)
 *   cursor  "trail" -> the audit trail head: seq(8, BE) and the line hash
 *           of the last record (32) (alert.h); "records" -> the number of
 *           alert ids in `alerts` (8, BE), "records/RULE" -> those of
 *           RULE (8, BE): kept by alertdb_latest_put in the transaction
 *           that adds the id, so /metrics reads them instead of walking
 *           the table. A store from before them has no "records": the
 *           first new id counts the table once. The alerts table is never
 *           undone by a reorg (a reorged record replaces its id's latest),
 *           so neither are the counts. The cursor's other keys are
 *           chaindb.h's
 *
 * Every function works inside the caller's transaction t.
 */
#ifndef CW_ALERTDB_H
#define CW_ALERTDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/model.h"
#include "watchlists/store/store.h"

/* ---- alerts ---- */

/* The latest record of an alert id (valid until t ends or changes);
 * CW_ENOTFOUND if the id has none. */
cw_code alertdb_latest_get(store_txn *t, const char *id, cw_span *line, cw_err *err);
/* Stores line as id's latest record. A new id counts one more for rule
 * (its record's "rule"; NULL or longer than ALERTDB_RULE_MAX: in the
 * total only); a later record of an id counts nothing (an id's rule is
 * part of it, alert_id). */
cw_code alertdb_latest_put(store_txn *t, const char *id, const char *rule, const char *line, size_t n, cw_err *err);

#define ALERTDB_RULE_MAX 63
/* Called once per rule with its count of alert ids, in no set order. */
typedef void (*alertdb_count_fn)(void *ctx, const char *rule, uint64_t n);
/* The alert ids by rule: the kept counts (O(rules)), or, in a store no
 * new id was written to since they exist, a walk of the table (*walked
 * true). *total (may be NULL): every id, those without a rule too.
 * Errors: the store's; CW_EDAMAGED for a count or record that does not
 * decode; CW_ENOMEM. */
cw_code alertdb_count_by_rule(store_txn *t, alertdb_count_fn fn, void *ctx, uint64_t *total, bool *walked,
                              cw_err *err);

/* ---- outbox ---- */

/* Queues a record under seq (>= 1). */
cw_code alertdb_outbox_put(store_txn *t, uint64_t seq, const char *line, size_t n, cw_err *err);
/* The highest seq queued, 0 when the outbox is empty. A read error that
 * cuts the walk is returned: numbering on from a lower seq would
 * overwrite queued records. */
cw_code alertdb_outbox_last(store_txn *t, uint64_t *seq, cw_err *err);
/* Called for each queued record in seq order; false stops the walk. */
typedef bool (*alertdb_outbox_fn)(void *ctx, uint64_t seq, cw_span line);
/* Walks the records with seq > after (0: all of them). CW_OK at the end or
 * when fn stopped it; a read error that cut the walk is returned. A key
 * that is not 8 bytes is passed over silently (`watchlist check` reports
 * it); line is valid during the call only. */
cw_code alertdb_outbox_each(store_txn *t, uint64_t after, alertdb_outbox_fn fn, void *ctx, cw_err *err);
/* Removes every queued record with seq <= last (CW_ENOMEM while
 * collecting their keys; on any error the caller aborts t). */
cw_code alertdb_outbox_remove_through(store_txn *t, uint64_t last, cw_err *err);

/* ---- the audit trail head ---- */

/* CW_ENOTFOUND when no record was written yet; CW_EDAMAGED when the stored
 * head is not 40 bytes. */
cw_code alertdb_trail_get(store_txn *t, uint64_t *seq, uint8_t hash[32], cw_err *err);
cw_code alertdb_trail_put(store_txn *t, uint64_t seq, const uint8_t hash[32], cw_err *err);

/* Is k the cursor's "trail" key (this module's, not chaindb.h's)? */
bool alertdb_is_trail_key(cw_span k);

/* `watchlist check`: NULL when key/value is a well-formed record of db
 * (alerts, outbox, and the cursor's "trail"; other records: NULL), else
 * what is wrong. A record is judged to be a JSON object; its signature and
 * chain are `chainwatch verify`'s. */
const char *alertdb_check_record(store_db db, cw_span k, cw_span v);

#endif
