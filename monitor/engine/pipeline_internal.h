/*
 * pipeline_internal.h: what the files of the pipeline share, and nothing
 * else includes. pipeline.h is the public contract; this header splits its
 * implementation by concern:
 *   pipeline.c  open/close, the datadir lock, stats, feed counters, the
 *               clusters' refresh against today's watchlist, replay batches
 *   connect.c   confirmed state: connect, disconnect, sync with the node,
 *               blocks and 'sequence' messages from the feed
 *   mempool.c   rawtx sightings, held for their 'A' with the sequence feed
 *   records.c   what the engine records: matches against the watchlist,
 *               the records of rules and reorgs and feed gaps, chained
 *               (audit trail) and signed into the alerts table and outbox
 *   outbox.c    the outbox's numbering and its flush to the sinks
 *
 * Commit protocol (every write of the pipeline follows it). Everything a
 * block causes (utxo, undo, chain tip, clusters, exposure, key links and
 * the pattern rules' stats with their journal, its records, the cases its
 * hold records open and their webhook events (cases.h), the trail head,
 * the feed counters) is written in
 * one write transaction (store_write, or a replay batch's), and each record
 * goes into the outbox in that same transaction. After the commit the
 * outbox is handed to the sinks in order; entries leave it only after the
 * sinks made them durable (fsync). A crash
 *   - before the commit: nothing of the block happened; it is connected
 *     again from the node or the blk files, with the same records (ids are
 *     deterministic; the trail head and its seq numbers were rolled back);
 *   - after the commit, before the sinks have it: the outbox still holds the
 *     records; the next flush hands them over;
 *   - after the sink's fsync, before the outbox removal: the records are
 *     handed over again; the alerts file sink finds their seq in its tail
 *     and skips exactly those (sink.h).
 * A full map aborts the transaction whole; store_write grows the map and
 * runs it again from its start, so each write function resets what it
 * changes outside the transaction (the stats) first.
 *
 * Rules for the functions below: one thread (pipeline.h); those taking a
 * store_txn t work inside the caller's transaction and never commit it, so
 * any error they return makes the caller abort t whole; store errors are
 * returned as the store gave them (CW_ESTORE, CW_EDAMAGED, CW_EFULL for
 * store_write to retry), never read as "absent" or "not listed".
 */
#ifndef CW_PIPELINE_INTERNAL_H
#define CW_PIPELINE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/buf.h"
#include "chainstate.h"
#include "coins.h"
#include "decode.h"
#include "flows.h"
#include "give_way.h"
#include "pipeline.h"
#include "watchlists/tokens.h"

#define MAX_COUNTERS 8
#define ACCEPTED_RING 4096 /* recent 'A' txids, for a rawtx arriving after its 'A' */

typedef struct {
    uint8_t txid[32];
    uint8_t *raw;
    size_t len;
} pending_tx;

struct pipeline {
    pipeline_config cfg;
    struct {
        char topic[20];
        uint32_t seq;
        bool set;
    } counters[MAX_COUNTERS]; /* pipeline.c: noted per message, saved with the next block */
    block_walker walker;      /* connect.c: reused across blocks */
    void *arena_mem;          /* mempool.c: a rawtx's decode arena */
    size_t arena_cap;
    uint64_t outbox_seq;      /* outbox.c: the last sequence number queued (never reused) */
    uint64_t written;         /* outbox.c: the last one handed to the sink, 0: none since the last removal */
    uint8_t (*accepted)[32];  /* mempool.c: ring of recent 'A' txids */
    size_t accepted_next;
    pending_tx *pending;      /* mempool.c: rawtx hits waiting for their 'A' (all dropped at the next 'C') */
    size_t n_pending, cap_pending;
    uint8_t pending_c[32];    /* connect.c: a 'C' whose rawblock has not come yet */
    bool have_pending_c;
    store_txn *batch;         /* the open replay batch's transaction, or NULL */
    coins *cache;             /* outputs created in the open batch, not yet in it (coins.h) */
    const flow_finding *findings; /* flows_tx's, of the last tx analysed */
    keylink_seen *seen;       /* connect.c: revealed keys found clean since the watchlist last changed */
    int lock_fd;              /* <datadir>/monitor.lock, held while open: one monitor per datadir */
    bool refresh_labels;      /* labels not yet applied to clusters merged before this run */
    bool refresh_recount;     /* a disconnect may have restored older designated counts */
    /* What records say the chain is: "bitcoin" and cw_net_name(net) from
     * pipeline_open; an account chain's engine (account.c) sets its own
     * and `account` (hashes kept as the node prints them). */
    const char *chain_name, *network_name;
    bool account;
    const char *native_symbol; /* account chains: "ETH", "TRX" */
    unsigned native_decimals;
    const tokens_table *tokens; /* account chains: known tokens (tokens.h), or NULL */
    pipeline_stats st;
    pipeline_stats st_at_batch; /* st when the open batch began: a failed batch restores it */
    give_way give_way;        /* pipeline.c: yields often when the process runs SCHED_IDLE (--cpu-idle) */
};

/* ---- pipeline.c ---- */

/* An import since the last look, labels given to this run, or a
 * disconnect: brings cluster records up to date in a write transaction of
 * its own, between blocks (not inside a batch). */
cw_code pipeline_refresh_clusters(pipeline *p, cw_err *err);
/* Writes the noted feed counters into t (the block's own transaction, or
 * the batch's). */
cw_code pipeline_put_counters(pipeline *p, store_txn *t, cw_err *err);
/* Called once per tx of a block being connected: give_way_tick (when the
 * process runs SCHED_IDLE, --cpu-idle, yields the CPU every GIVE_WAY_US of
 * work; see give_way.h for why). Otherwise nothing. */
void pipeline_give_way(pipeline *p);

/* ---- connect.c ---- */

/* The stored tip, in a read transaction of its own. */
cw_code connect_read_tip(pipeline *p, chaindb_tip *tip, cw_err *err);
/* Our block hash at height h, in a read transaction of its own (the
 * Bitcoin pipeline's and the account engine's walks down to a fork);
 * *have false, CW_OK, when we have none. A read error is returned: read
 * as "none" it would end the walk there and disconnect blocks the node
 * still has. */
cw_code connect_read_hash_at(cw_store *store, int64_t h, uint8_t out[32], bool *have, cw_err *err);
/* Clusters and exposure rewrite the same records often: with flows on,
 * their writes wait in memory until t's commit (store_write_back). */
cw_code connect_write_back(pipeline *p, store_txn *t, cw_err *err);

/* ---- mempool.c ---- */

/* 'A': the tx entered the mempool; a held rawtx hit becomes a sighting
 * (committed in its own write transaction, then handed to the sink, not
 * yet durable). The txid joins a ring of the last 4096 'A's, for a rawtx
 * that comes after its 'A'. CW_ENOMEM; store and sink errors as
 * pipeline_tx. */
cw_code mempool_accepted(pipeline *p, const uint8_t txid[32], cw_err *err);
/* Forgets the held rawtx hits ('C': they were the block's txs). */
void mempool_drop_pending(pipeline *p);
/* Drops the held hits and frees their list (pipeline_close). */
void mempool_free(pipeline *p);

/* ---- records.c ---- */

/* How many designated addresses a tx pays or spends from (read only). A
 * store error is returned, never read as "not listed". */
cw_code records_count_hits(store_txn *t, const cw_tx *tx, size_t *hits, cw_err *err);
/* The designated_address records of a tx, with status ("mempool",
 * "confirmed") and block (NULL in the mempool), in t; each record's id is
 * appended to ids (32 hex chars) when ids is not NULL. */
cw_code records_tx(pipeline *p, store_txn *t, const cw_tx *tx, const char *status, const chainstate_block *blk,
                   cw_buf *ids, cw_err *err);
/* The cluster_hit and indirect_exposure records of a tx's flow findings,
 * as records_tx. Every record is chained, signed, stored as its id's
 * latest and queued in the outbox in t; one that could not be built is
 * CW_ENOMEM (t is then aborted, never written with fields missing). */
cw_code records_flows(pipeline *p, store_txn *t, const cw_tx *tx, const flow_finding *f, size_t n,
                      const char *status, const chainstate_block *blk, cw_buf *ids, cw_err *err);
/* Account chains: the designated_address records of a tx's transfers
 * (direct hits on sender, recipient and token from/to), one per address
 * and tx, with `asset` and `amount` (decimal string, base units); as
 * records_tx otherwise. */
cw_code records_account_tx(pipeline *p, store_txn *t, const cw_tx *tx, const char *status, const chainstate_block *blk,
                           cw_buf *ids, cw_err *err);
/* Account chains: an indirect_exposure record for a transfer that carried
 * designated money (part of its amount, share_ppm of it) from `source`
 * (a watchlist key) at `hops` >= 2; skipped when the source is no longer
 * listed or the recipient is listed itself (its own record). */
cw_code records_account_exposure(pipeline *p, store_txn *t, const cw_tx *tx, const cw_transfer *x,
                                 const uint8_t *source, size_t source_len, unsigned hops, const cw_u256 *part,
                                 uint32_t share_ppm, bool hold, const chainstate_block *blk, cw_buf *ids,
                                 cw_err *err);
/* How many designated addresses an account tx's transfers touch (read only). */
cw_code records_account_hits(store_txn *t, const cw_tx *tx, size_t *hits, cw_err *err);
/* The pattern rules' records (rules/rules.h) of a tx's findings, as
 * records_flows: `rule` the rule's name, `severity` the rule's, `risk`
 * the address's after it, `evidence` an object, `explanation` words. */
cw_code records_rules(pipeline *p, store_txn *t, const cw_tx *tx, const rule_finding *f, size_t n,
                      const char *status, const chainstate_block *blk, cw_buf *ids, cw_err *err);
/* A `reorged` record for each id (32 hex chars each) whose latest record
 * is `confirmed`. */
cw_code records_reorged(pipeline *p, store_txn *t, const cw_buf *ids, cw_err *err);

/* ---- outbox.c ---- */

/* Continues the numbering after whatever a crash left in the outbox. */
cw_code outbox_resume(pipeline *p, store_txn *t, cw_err *err);
/* Queues a signed record under the next sequence number, in t. */
cw_code outbox_queue(pipeline *p, store_txn *t, const char *line, size_t n, cw_err *err);
/* Hands the queued records to the sink (those after `written`), in passes
 * of 4096 records or 512 KiB; when durable, has the sink fsync them and
 * takes them out of the outbox in a write transaction of its own. Without
 * durable they stay queued (and are not handed over twice). CW_EIO when the
 * sink refuses a record or cannot fsync; store errors. */
cw_code outbox_flush(pipeline *p, bool durable, cw_err *err);

#endif
