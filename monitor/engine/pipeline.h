/*
 * pipeline.h: from raw transactions and blocks to signed alert records, the
 * same code for the live monitor and (later) replay.
 *
 * Design note (the commit protocol, in full in pipeline_internal.h).
 * Everything a block causes (utxo changes, undo record, chain tip, alert
 * records) is written in one LMDB write transaction, and the records go
 * into an outbox in that same transaction. Only after the commit
 * are they handed to the sinks (pipeline_flush), and only after the sinks
 * have them (file fsynced) are they taken out of the outbox. A crash at any
 * point therefore loses nothing; the one duplicate a crash between fsync and
 * outbox removal could cause is caught by the alerts file sink, which finds
 * the re-sent records' seq in the file and skips exactly those it holds
 * (sink.h).
 *
 * Confirmed state follows the node: a block that extends our tip is
 * connected; anything else (unknown parent, a 'D' for our tip, a gap in the
 * feed, a restart) makes pipeline_sync() ask the node's REST interface for
 * its chain, disconnect our blocks above the fork and connect the node's.
 */
#ifndef CW_PIPELINE_H
#define CW_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "monitor/records/alert.h"
#include "chains/model.h"
#include "flows.h"
#include "monitor/sources/rest.h"
#include "watchlists/store/store.h"

typedef struct pipeline pipeline;

/* Receives one signed record (canonical JSON, no newline). Returns false if
 * the sink failed: the record stays in the outbox for the next flush. */
typedef bool (*pipeline_sink_fn)(void *ctx, const char *line, size_t len);
/* Called after a batch of records was handed to the sink: make it durable
 * (fsync); false keeps the batch in the outbox. */
typedef bool (*pipeline_sync_fn)(void *ctx);

typedef struct {
    cw_store *store;
    cw_net net;
    const uint8_t *sk;        /* Ed25519 secret key (64 bytes) signing every record */
    pipeline_sink_fn sink;
    pipeline_sync_fn durable;
    void *sink_ctx;
    rest_client *rest;        /* NULL: no recovery, blocks must arrive in order */
    int64_t start_height;     /* first height to connect on an empty store; -1: the node's tip */
    volatile const int *stop; /* when set and nonzero, long syncs stop between blocks */
    bool sequence_feed;       /* the 'sequence' topic is subscribed: mempool records wait for its 'A' */
    const flows_config *flows; /* clusters and exposure (flows.h); NULL: off */
} pipeline_config;

/* The rules records are counted by (pipeline_stats.by_rule). */
typedef enum {
    PIPELINE_RULE_DESIGNATED_ADDRESS = 0,
    PIPELINE_RULE_CLUSTER_HIT,
    PIPELINE_RULE_INDIRECT_EXPOSURE,
    PIPELINE_RULE_FEED_GAP,
    PIPELINE_RULE_COUNT
} pipeline_rule;
/* "designated_address", ... as in the records' `rule` field. */
const char *pipeline_rule_name(pipeline_rule r);

typedef struct {
    uint64_t txs, blocks_connected, blocks_disconnected, alerts, records_written;
    uint64_t unknown_parent, syncs, stale_blocks, feed_gaps;
    uint64_t inputs_resolved, inputs_unresolved; /* of connected blocks' non-coinbase inputs */
    int64_t tip_height;       /* -1 when nothing is connected */
    int64_t node_height;      /* from the last REST sync, -1 unknown */
    uint64_t by_rule[PIPELINE_RULE_COUNT]; /* new records by rule (reorged records not counted) */
    uint64_t reorged;         /* records re-issued with status reorged */
    flows_stats flows;        /* clustering and exposure counters */
    uint64_t cached_coins;    /* outputs of the open batch held in memory (coins.h) */
    uint64_t cache_bytes;     /* the memory that cache uses */
} pipeline_stats;

cw_code pipeline_open(const pipeline_config *cfg, pipeline **out, cw_err *err);
void pipeline_close(pipeline *p);

/* A transaction from the rawtx feed. Raises `mempool` records for
 * designated addresses, once per alert id. The node also republishes every
 * tx of a connected block on rawtx: with the sequence feed, a hit is held
 * until its 'A' (mempool accept) arrives and dropped at the block's 'C', so
 * a tx first seen in a block gets only its `confirmed` record. Without the
 * sequence feed every rawtx hit counts as a mempool sighting. */
cw_code pipeline_tx(pipeline *p, const uint8_t *raw, size_t len, cw_err *err);
/* A block (rawblock): connected when it extends the tip, ignored when
 * already connected, otherwise a sync. */
cw_code pipeline_block(pipeline *p, const uint8_t *raw, size_t len, cw_err *err);
/* A 'sequence' message body (33 or 41 bytes). */
cw_code pipeline_sequence(pipeline *p, const uint8_t *body, size_t len, cw_err *err);
/* A gap (or restart) on a feed topic: a feed_gap record, then a sync for
 * block topics. `received_at` is when the message that revealed the gap
 * arrived (feed_event.received_at): the record's id is drawn from it, so a
 * replayed capture gives the gap the id the live run gave it. */
cw_code pipeline_gap(pipeline *p, const char *topic, uint32_t expected, uint32_t got, bool restart,
                     double received_at, cw_err *err);
/* Connects a block known to be at `height` of the best chain (replay):
 * refused unless the store is empty or the block extends its tip. */
cw_code pipeline_connect_at(pipeline *p, const uint8_t *raw, size_t len, int64_t height, cw_err *err);

/* Replay: many blocks in one write transaction (one fsync, not one per
 * block). pipeline_batch opens the transaction and calls fn, in which
 * pipeline_connect_at adds blocks to it; when fn returns CW_OK the batch is
 * committed and its records handed to the sink. Any failure (fn's, the
 * commit's) aborts the whole batch: the store is back at the batch's start.
 * A full map grows the map and calls fn again in a new transaction
 * (store_write), so fn must start from the batch's first block each time it
 * is called. Inside a batch new outputs wait in a memory cache and outputs
 * spent within the batch never reach LMDB (coins.h): bigger batches are
 * faster, but LMDB holds a transaction's dirty pages in memory and the
 * cache grows with the batch (pipeline_stats.cache_bytes). */
typedef cw_code (*pipeline_batch_fn)(pipeline *p, void *ctx, cw_err *err);
cw_code pipeline_batch(pipeline *p, pipeline_batch_fn fn, void *ctx, cw_err *err);

/* Reconciles the connected chain with the node's (REST). */
cw_code pipeline_sync(pipeline *p, cw_err *err);
/* Hands outbox records to the sink, oldest first. */
cw_code pipeline_flush(pipeline *p, cw_err *err);

void pipeline_stats_get(const pipeline *p, pipeline_stats *out);

/* The audit trail (alert.h). Every record gets the next seq and the hash of
 * the record before it in its own write transaction, from the head kept in
 * the store (alertdb.h), so an aborted transaction or batch gives its
 * numbers back and a restart continues the chain.
 * pipeline_trail_head: the head as t sees it (the trail start of public key
 * pk when no record was written yet); CW_EDAMAGED if the stored head is
 * damaged. pipeline_trail_durable: the last record the sinks have made
 * durable, i.e. the one before the oldest record still in the outbox (the
 * head when the outbox is empty): what a checkpoint may vouch for. */
cw_code pipeline_trail_head(store_txn *t, const uint8_t pk[32], alert_trail *out, cw_err *err);
cw_code pipeline_trail_durable(store_txn *t, const uint8_t pk[32], alert_trail *out, cw_err *err);

/* The feed's per-topic counters: noted after each message, saved in the
 * cursor with the next block's transaction (and by pipeline_save_counters),
 * loaded at start. names[i] is the topic name, seq[i] its counter. */
void pipeline_note_counter(pipeline *p, int topic, const char *name, uint32_t seq);
cw_code pipeline_save_counters(pipeline *p, cw_err *err);
/* Reads a saved counter; false when none was saved. */
bool pipeline_saved_counter(pipeline *p, const char *name, uint32_t *seq);

#endif
