/*
 * casedb.h: the tables of hold cases and their audit trails, and their
 * encoding. Only this module builds their keys; the engine
 * (monitor/engine/cases.c) decides when a case opens or changes, builds,
 * chains and signs the audit entries, and calls these typed functions.
 *
 * Formats:
 *   cases       alert id (32 lowercase hex chars) -> the case: one JSON
 *               object (cases.h says which fields), no newline
 *   case_audit  alert id (32) + entry number (8, big-endian, from 1) -> one
 *               signed audit entry (canonical JSON, no newline)
 *
 * The audit table is append only: this module has no function that
 * replaces or deletes an entry, and casedb_audit_append refuses a number
 * that is already taken. Every function works inside the caller's
 * transaction t.
 */
#ifndef CW_CASEDB_H
#define CW_CASEDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/model.h"
#include "watchlists/store/store.h"

#define CASEDB_ID_LEN 32

/* True when id is 32 lowercase hex chars (an alert id): the only keys the
 * functions below accept (CW_EARG otherwise, saying so). */
bool casedb_id_valid(const char *id);

/* The case of an alert id (valid until t ends or changes); CW_ENOTFOUND
 * when the id opened none. */
cw_code casedb_get(store_txn *t, const char *id, cw_span *rec, cw_err *err);
/* Stores (replaces) the case record of id. */
cw_code casedb_put(store_txn *t, const char *id, const char *rec, size_t n, cw_err *err);

/* Called for each case in id order, from the first id > after (NULL or
 * "": from the first); false stops the walk. rec is valid during the call
 * only. CW_OK at the end or when fn stopped; a read error that cut the
 * walk is returned (a list must never look shorter than it is). */
typedef bool (*casedb_fn)(void *ctx, const char *id, cw_span rec);
cw_code casedb_each(store_txn *t, const char *after, casedb_fn fn, void *ctx, cw_err *err);

/* Appends entry number seq (>= 1) of id's audit trail. Refuses (CW_EARG)
 * a seq already present: an audit entry is never rewritten. */
cw_code casedb_audit_append(store_txn *t, const char *id, uint64_t seq, const char *line, size_t n, cw_err *err);
/* Called for each audit entry of id, in entry order; false stops. A read
 * error that cut the walk is returned. */
typedef bool (*casedb_audit_fn)(void *ctx, uint64_t seq, cw_span line);
cw_code casedb_audit_each(store_txn *t, const char *id, casedb_audit_fn fn, void *ctx, cw_err *err);

/* `watchlist check`: NULL when key/value is a well-formed record of db
 * (cases, case_audit; other databases: NULL), else what is wrong. */
const char *casedb_check_record(store_db db, cw_span k, cw_span v);

#endif
