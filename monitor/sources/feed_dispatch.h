/*
 * feed_dispatch.h: one feed event into the pipeline, the same way for every
 * source.
 *
 * Design note. `chainwatch watch` (live ZeroMQ) and `chainwatch replay
 * --capture` (a recorded file) both turn messages into feed_events with
 * feed_checker_take (feed_check.h) and hand each event to feed_dispatch.
 * Keeping the counter bookkeeping, the gap handling and the choice of
 * pipeline call in this one function is what makes a replayed capture
 * produce the records the live run produced: there is no second path to
 * drift apart.
 */
#ifndef CW_FEED_DISPATCH_H
#define CW_FEED_DISPATCH_H

#include <stdint.h>

#include "chains/err.h"
#include "feed_check.h"
#include "monitor/engine/pipeline.h"

/* The levels of `watch`'s log (--log-level; monitor/cli/watch.c). */
typedef enum { FEED_LOG_ERROR = 0, FEED_LOG_WARN, FEED_LOG_INFO, FEED_LOG_DEBUG } feed_log_level;

/* Receives one line (no newline) worth logging about an event: a bad
 * message skipped, a gap, a message the pipeline refused or failed on. */
typedef void (*feed_log_fn)(void *ctx, feed_log_level level, const char *line);

/* Hands ev to the pipeline: MSG and GAP counters are noted first
 * (pipeline_note_counter: saved with this message's own block); a BAD
 * event is logged (warn) and skipped; a GAP is logged (warn) and becomes
 * pipeline_gap, its id drawn from ev->received_at; a MSG goes to
 * pipeline_tx, pipeline_block or pipeline_sequence by topic. A pipeline
 * failure is logged, at warn for malformed input (CW_EFORMAT, CW_ETRUNC,
 * CW_ELIMIT) and error otherwise, as "<topic> #<counter>: <why>", and its
 * code is returned (with *err filled, if err is not NULL); the caller goes
 * on with the next event, as the live monitor does. BAD events return
 * CW_OK. log may be NULL (nothing is logged). p and ev must not be NULL. */
cw_code feed_dispatch(pipeline *p, const feed_event *ev, feed_log_fn log, void *log_ctx, cw_err *err);

/* The counters the last run saved (pipeline_saved_counter) for the topics
 * in the bit mask `topics`: fills seq[t] and sets bit t of *found for each
 * one found. Restoring them into the feed's checks makes what came while
 * chainwatch was down show up as a gap (or, if the node restarted, as a
 * restart). A counter the store cannot read is an error naming the topic
 * (read as never saved, that topic's downtime would show no gap). */
cw_code feed_saved_counters(pipeline *p, unsigned topics, uint32_t seq[FEED_TOPIC_COUNT], unsigned *found,
                            cw_err *err);

#endif
