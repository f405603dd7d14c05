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
 *
 * Contract common to every entry point below.
 *   - One thread. A pipeline is not thread-safe: every call on it (and on
 *     its store's writer) comes from one thread. Only *cfg.stop may be
 *     changed from elsewhere (a signal handler, stop.h): it is an atomic,
 *     read with a relaxed load between blocks.
 *   - Which errors stop the monitor. A code for which store_error_stops()
 *     (store.h) is true (CW_ESTORE, CW_EDAMAGED, CW_EFULL) means the store did not
 *     answer: the transaction it happened in was aborted whole (what
 *     earlier transactions of the same call committed, e.g. a sync's
 *     blocks, stays), and `watch` and `replay` stop (exit 1, or 3 for
 *     CW_EDAMAGED). Every other code fails this one
 *     message and the caller goes on with the next (feed_dispatch.h):
 *     CW_EFORMAT, CW_ETRUNC, CW_ELIMIT for a malformed tx, block or
 *     'sequence' body; CW_EARG for a block that cannot be placed; CW_EIO for
 *     a sink that refused or could not fsync, or the REST client's transport
 *     errors (rest.h); CW_ENOMEM.
 *   - A full LMDB map (CW_EFULL) is retried inside: every write goes through
 *     store_write, which grows the map and runs the whole transaction again
 *     (STORE_WRITE_TRIES times); CW_EFULL is returned only when that fails,
 *     and then stops the monitor like any store error.
 *   - Records are committed before a call returns, and handed to the sink
 *     (pipeline_flush). A sink failure after the commit returns CW_EIO: the
 *     records stay in the store and in the outbox, and the next flush hands
 *     them over (nothing is lost, but the call reports the failure).
 */
#ifndef CW_PIPELINE_H
#define CW_PIPELINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "monitor/records/alert.h"
#include "chains/model.h"
#include "flows.h"
#include "rules/rules.h"
#include "monitor/sources/rest.h"
#include "watchlists/keylink.h"
#include "watchlists/store/store.h"

typedef struct pipeline pipeline;

/* Receives one signed record (canonical JSON, no newline). Returns false if
 * the sink failed: the record stays in the outbox for the next flush. */
typedef bool (*pipeline_sink_fn)(void *ctx, const char *line, size_t len);
/* Called after a batch of records was handed to the sink: make it durable
 * (fsync); false keeps the batch in the outbox. */
typedef bool (*pipeline_sync_fn)(void *ctx);

/* Copied by pipeline_open; every pointer in it is borrowed and must stay
 * valid until pipeline_close: store, sk, sink_ctx, rest, stop, flows (and
 * flows->labels). The pipeline closes none of them. */
typedef struct {
    cw_store *store;
    cw_net net;
    const uint8_t *sk;        /* Ed25519 secret key (64 bytes) signing every record */
    pipeline_sink_fn sink;
    pipeline_sync_fn durable;
    void *sink_ctx;
    rest_client *rest;        /* NULL: no recovery, blocks must arrive in order */
    int64_t start_height;     /* first height to connect on an empty store; -1: the node's tip */
    const atomic_int *stop;   /* when set and nonzero, long syncs stop between blocks */
    bool sequence_feed;       /* the 'sequence' topic is subscribed: mempool records wait for its 'A' */
    const flows_config *flows; /* clusters and exposure (flows.h); NULL: off */
    const rules_config *rules; /* the pattern rules (rules/rules.h) on confirmed blocks; NULL: off */
    /* A long catch-up's progress: pipeline_sync calls it once as it starts
     * connecting blocks from `from` (connected == from - 1) and after each
     * batch it connects (connected: the batch's last height), node_height
     * being the node's tip it catches up to. NULL: none. It must not call
     * into the pipeline. */
    void (*sync_progress)(void *ctx, int64_t from, int64_t connected, int64_t node_height);
    void *sync_progress_ctx;
} pipeline_config;

/* The rules records are counted by (pipeline_stats.by_rule). */
typedef enum {
    PIPELINE_RULE_DESIGNATED_ADDRESS = 0,
    PIPELINE_RULE_CLUSTER_HIT,
    PIPELINE_RULE_INDIRECT_EXPOSURE,
    PIPELINE_RULE_FEED_GAP,
    PIPELINE_RULE_SHARED_PAYOUT, /* the pattern rules, in rule_kind order (rules/rules.h) */
    PIPELINE_RULE_CONSOLIDATOR,
    PIPELINE_RULE_TOWARD_DESIGNATED,
    PIPELINE_RULE_OFF_RAMP,
    PIPELINE_RULE_TEST_THEN_SALARY,
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
    keylink_stats keylink;    /* keys revealed by confirmed txs and the links they made (keylink.h) */
    rules_stats rules;        /* pattern rules' counters */
    uint64_t cached_coins;    /* outputs of the open batch held in memory (coins.h) */
    uint64_t cache_bytes;     /* the memory that cache uses */
    uint64_t gave_way;        /* --cpu-idle: CPU yields (give_way.h); 0 otherwise */
    uint64_t longest_stretch_ns; /* --cpu-idle: the most CPU time run between two yields */
} pipeline_stats;

/* Opens the pipeline on cfg->store and sets *out (untouched on failure).
 * Side effects: takes <datadir>/monitor.lock (fcntl, held until close:
 * CW_EARG naming the holder's pid when another watch or replay has it,
 * CW_EIO when it cannot be opened); turns on Bloom filters for the whole
 * store handle (store_filter_enable: wl_addr always; cluster, cluster_info
 * and taint with flows), which stay on after close or a failed open; reads
 * the outbox's last number and the tip; with flows, may write (a cluster
 * refresh and "flows.wl_fp") when the watchlist changed since the last run
 * or labels are given. Store errors as above; CW_ENOMEM. */
cw_code pipeline_open(const pipeline_config *cfg, pipeline **out, cw_err *err);
/* Frees p and releases the datadir lock. NULL is a no-op. It does not
 * flush: records still in the outbox are handed over by the next run's
 * first flush. rawtx hits held for their 'A' are dropped (their block
 * records them as confirmed). Not to be called from inside a batch's fn. */
void pipeline_close(pipeline *p);

/* A transaction from the rawtx feed. Raises `mempool` records for
 * designated addresses, once per alert id. The node also republishes every
 * tx of a connected block on rawtx: with the sequence feed, a hit is held
 * until its 'A' (mempool accept) arrives and dropped at the block's 'C', so
 * a tx first seen in a block gets only its `confirmed` record. Without the
 * sequence feed every rawtx hit counts as a mempool sighting.
 * A coinbase is ignored (CW_OK). Held hits have no cap: each leaves at its
 * 'A' or at the next 'C' (CW_ENOMEM when one cannot be held).
 * A sighting's records are committed and handed to the sink before the
 * call returns, but made durable (fsync, outbox removal) with the next
 * block's flush. Parse errors fail this message; store errors stop. */
cw_code pipeline_tx(pipeline *p, const uint8_t *raw, size_t len, cw_err *err);
/* A block (rawblock): ignored (CW_OK, stats.stale_blocks) when already
 * connected; connected in one write transaction, then flushed and made
 * durable, when it extends the tip. Otherwise (an unknown parent):
 * pipeline_sync when there is a REST client (the node's blocks are
 * connected, not this one); without REST, on an empty store it is connected
 * at its coinbase's height (BIP34; else start_height, else 0), and on a
 * non-empty one it is refused with CW_EARG (stats.unknown_parent), nothing
 * written. A header that does not parse: CW_EFORMAT/CW_ETRUNC. */
cw_code pipeline_block(pipeline *p, const uint8_t *raw, size_t len, cw_err *err);
/* A 'sequence' message body (33 or 41 bytes; else CW_EFORMAT, as is a
 * label other than C, D, A, R). 'A': a held rawtx hit becomes a mempool
 * sighting (as pipeline_tx). 'R': ignored. 'D' for our tip: pipeline_sync
 * with REST, else the tip is disconnected (reorged records, flushed);
 * a 'D' for another block is ignored. 'C': held hits are dropped; with
 * REST an unknown block is remembered, and a sync follows when the next
 * 'C' finds it still missing (its rawblock was lost). */
cw_code pipeline_sequence(pipeline *p, const uint8_t *body, size_t len, cw_err *err);
/* A gap (or restart) on a feed topic: a feed_gap record, then a sync for
 * block topics. `received_at` is when the message that revealed the gap
 * arrived (feed_event.received_at): the record's id is drawn from it, so a
 * replayed capture gives the gap the id the live run gave it. The record
 * is committed, flushed and made durable before the sync; a gap on rawtx
 * causes no sync (its txs' blocks still come). */
cw_code pipeline_gap(pipeline *p, const char *topic, uint32_t expected, uint32_t got, bool restart,
                     double received_at, cw_err *err);
/* Connects a block known to be at `height` of the best chain (replay):
 * refused with CW_EARG unless the store is empty or the block extends its
 * tip at height - 1; CW_EFORMAT for a merkle root that does not match.
 * Inside a batch's fn it joins the batch (no commit, no flush); outside,
 * one write transaction, then a durable flush. */
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
 * cache grows with the batch (pipeline_stats.cache_bytes).
 * CW_EARG when called from inside a batch (one at a time). After a
 * failure no batch is open, the stats are as before the call (the tip as
 * stored) and pipeline_batch may be called again. After the commit the
 * records are flushed and made durable; a sink failure then returns CW_EIO
 * though the batch is committed (its records stay queued). */
typedef cw_code (*pipeline_batch_fn)(pipeline *p, void *ctx, cw_err *err);
cw_code pipeline_batch(pipeline *p, pipeline_batch_fn fn, void *ctx, cw_err *err);

/* Reconciles the connected chain with the node's (REST). Without a REST
 * client: CW_OK, nothing done. When the node is behind us on our own chain
 * it waits (CW_OK). Otherwise it disconnects our blocks above the fork,
 * one write transaction each (no depth limit of its own), and connects the
 * node's up to its tip (from start_height, or the node's tip, on an empty
 * store): fetched a batch at a time (up to 64 blocks or 64 MiB) outside
 * any transaction, each batch connected in one (pipeline_batch), so a
 * node error leaves the blocks fetched before it connected and is then
 * returned. With flows, a block older than the journal's last 288
 * (JOURNAL_KEEP_BLOCKS) cannot be disconnected: CW_ESTORE ("a reorg this
 * deep needs a rebuild"), which stops the monitor. *cfg.stop set: it
 * connects what it fetched and returns CW_OK, partly caught up (the next
 * start continues); the walk down and the disconnects do not look at it.
 * REST errors (rest.h) are returned as they are. */
cw_code pipeline_sync(pipeline *p, cw_err *err);
/* Hands outbox records to the sink, oldest first, has the sink make them
 * durable and then removes them from the outbox (a write transaction).
 * CW_EIO when the sink refuses a record or cannot fsync: what it did not
 * take stays queued for the next flush. */
cw_code pipeline_flush(pipeline *p, cw_err *err);

/* The counters so far, into *out. From the pipeline's own thread: under
 * --cpu-idle longest_stretch_ns reads that thread's CPU clock. */
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
/* Reads a saved counter: *found false when none was saved; a read error
 * is returned (a lost counter would hide downtime as no gap). */
cw_code pipeline_saved_counter(pipeline *p, const char *name, uint32_t *seq, bool *found, cw_err *err);

#endif
