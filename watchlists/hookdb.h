/*
 * hookdb.h: the webhook outbox and the delivery state of each endpoint,
 * and their encoding. monitor/engine/hooks.c writes events (in the
 * transaction of the change they announce) and delivers them.
 *
 * Formats:
 *   hooks       event number (8, big-endian, from 1) -> the event body, the
 *               exact bytes POSTed (canonical JSON, no newline); a sequence
 *               queue (watchlists/store/seqq.h: keys, walks and removal)
 *   hook_state  "n" -> the last event number handed out (8, BE): numbers
 *               are never reused, even once older events are pruned
 *               'c' + endpoint URL -> its cursor: delivered (8, BE), the
 *               failed tries of the next event (4, BE), the earliest time
 *               of its next try (8, BE, Unix ms), dead letters (8, BE)
 *               'd' + URL + NUL + event number (8, BE) -> a dead letter:
 *               JSON {"attempts","error","at","event"} (event: the body)
 *
 * Events leave `hooks` once every configured endpoint is past them
 * (delivered or dead-lettered): an endpoint taken out of the configuration
 * no longer holds them back; one added later starts at the oldest event
 * still stored. Every function works inside the caller's
 * transaction t.
 */
#ifndef CW_HOOKDB_H
#define CW_HOOKDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/model.h"
#include "watchlists/store/store.h"

#define HOOKDB_URL_MAX 400 /* keys are at most 511 bytes */

typedef struct {
    uint64_t delivered; /* the last event number delivered or dead-lettered */
    uint32_t attempts;  /* failed tries of event delivered + 1 */
    uint64_t next_ms;   /* no try before this time (Unix ms) */
    uint64_t dead;      /* dead letters so far */
} hookdb_endpoint;

/* Hands out the next event number (the counter is written in t, so an
 * aborted transaction gives it back) and stores body under it. *seq is the
 * number. */
cw_code hookdb_event_add(store_txn *t, const char *body, size_t n, uint64_t *seq, cw_err *err);
/* The last number handed out (0: none yet). */
cw_code hookdb_event_last(store_txn *t, uint64_t *seq, cw_err *err);
/* Called for each stored event with number > after, in order; false stops.
 * body is valid during the call only. A read error is returned. */
typedef bool (*hookdb_event_fn)(void *ctx, uint64_t seq, cw_span body);
cw_code hookdb_event_each(store_txn *t, uint64_t after, hookdb_event_fn fn, void *ctx, cw_err *err);
/* The event numbered seq; CW_ENOTFOUND when it is not (or no longer) stored. */
cw_code hookdb_event_get(store_txn *t, uint64_t seq, cw_span *body, cw_err *err);
/* Removes the events numbered <= last. */
cw_code hookdb_event_remove_through(store_txn *t, uint64_t last, cw_err *err);

/* The cursor of an endpoint (URL of 1..HOOKDB_URL_MAX bytes, else CW_EARG);
 * CW_ENOTFOUND for an endpoint never delivered to; CW_EDAMAGED for a cursor
 * that does not decode. */
cw_code hookdb_endpoint_get(store_txn *t, const char *url, hookdb_endpoint *ep, cw_err *err);
cw_code hookdb_endpoint_put(store_txn *t, const char *url, const hookdb_endpoint *ep, cw_err *err);
/* Every endpoint with a cursor, in URL order; false stops. */
typedef bool (*hookdb_endpoint_fn)(void *ctx, const char *url, const hookdb_endpoint *ep);
cw_code hookdb_endpoint_each(store_txn *t, hookdb_endpoint_fn fn, void *ctx, cw_err *err);

/* Stores a dead letter (rec: JSON, see above) of url for event seq. */
cw_code hookdb_dead_put(store_txn *t, const char *url, uint64_t seq, const char *rec, size_t n, cw_err *err);
/* Every dead letter (of every endpoint), by URL then event number. */
typedef bool (*hookdb_dead_fn)(void *ctx, const char *url, uint64_t seq, cw_span rec);
cw_code hookdb_dead_each(store_txn *t, hookdb_dead_fn fn, void *ctx, cw_err *err);

/* `watchlist check`: NULL when key/value is a well-formed record of db
 * (hooks, hook_state; other databases: NULL), else what is wrong. */
const char *hookdb_check_record(store_db db, cw_span k, cw_span v);

#endif
