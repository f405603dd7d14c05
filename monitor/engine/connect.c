/*
 * connect.c: confirmed state follows the node. A block that extends our
 * tip is connected; anything else (an unknown parent, a 'D' for our tip, a
 * gap in the feed, a restart) makes pipeline_sync ask the node's REST
 * interface for its chain, disconnect our blocks above the fork and
 * connect the node's.
 *
 * Design note. Each block is connected in one write transaction
 * (store_write) with everything it causes: chain state (chainstate.h),
 * clusters, exposure and the pattern rules' stats with the journal that
 * undoes them (flows.h, rules/rules.h, journal.h), its records into the alerts table and the outbox (records.c),
 * the trail head and the feed counters; the sinks get the records after
 * the commit (outbox.c). A disconnect is one transaction too: chain state
 * by the undo record, clusters and exposure by the journal, and a
 * `reorged` record for each alert the block had confirmed. A crash at any
 * point leaves the store at a block boundary; the records of a block
 * rolled back are made again when it is connected again, with the same
 * ids (pipeline_internal.h: the commit protocol). A catch-up from the
 * node (pipeline_sync) connects its blocks in batches instead, as replay
 * does: fetched first, outside any transaction (a slow or failing node
 * never holds the write lock), then connected in one (pipeline_batch),
 * still ending at a block boundary.
 */
#include <string.h>

#include "chains/bitcoin/block.h"
#include "chains/hex.h"
#include "pipeline_internal.h"
#include "watchlists/chaindb.h"
#include "watchlists/keylink.h"
#include "watchlists/store/journal.h"

typedef struct {
    pipeline *p;
    store_txn *t;
    cw_buf ids;
    chainstate_block blk; /* hash/height/time known before the walk */
    journal jn;   /* what clusters, exposure and key links change, for the disconnect */
    keylink_scope scope; /* the key forms the watchlist can designate, read at the block's start */
} block_ctx;

static cw_code block_tx(void *arg, cw_tx *tx, cw_err *err)
{
    block_ctx *c = arg;
    pipeline *p = c->p;
    p->st.txs++;
    pipeline_give_way(p);
    if (!(tx->flags & CW_TX_COINBASE))
        for (size_t i = 0; i < tx->n_in; i++) {
            if (tx->in[i].resolved)
                p->st.inputs_resolved++;
            else
                p->st.inputs_unresolved++;
        }
    /* keys first: a tx that reveals a designated key is recorded as spending
     * from a designated address, and so is a payment to its other forms in
     * the same tx */
    cw_code rc = keylink_tx(&c->jn, tx, c->blk.height, &c->scope, &p->st.keylink, err);
    if (rc == CW_OK)
        rc = records_tx(p, c->t, tx, "confirmed", &c->blk, &c->ids, err);
    size_t n;
    if (rc == CW_OK && p->cfg.flows) {
        if ((rc = flows_tx(p->cfg.flows, c->t, &c->jn, tx, &p->findings, &n, &p->st.flows, err)))
            return rc;
        rc = records_flows(p, c->t, tx, p->findings, n, "confirmed", &c->blk, &c->ids, err);
    }
    if (rc == CW_OK && p->cfg.rules) {
        /* after flows: the payer's cluster includes this tx's merge */
        const rule_finding *rf;
        if ((rc = rules_tx(p->cfg.rules, c->t, &c->jn, tx, c->blk.time, &rf, &n, &p->st.rules, err)))
            return rc;
        rc = records_rules(p, c->t, tx, rf, n, "confirmed", &c->blk, &c->ids, err);
    }
    return rc;
}

/* chainstate_connect with the block's journal around it. */
static cw_code connect_with_journal(pipeline *p, block_ctx *c, coins *cache, const uint8_t *raw, size_t len,
                                    int64_t height, cw_err *err)
{
    chainstate_block done;
    journal_init(&c->jn, c->t);
    cw_code rc = keylink_scope_read(c->t, p->cfg.net, p->seen, &c->scope, err);
    if (rc == CW_OK)
        rc = chainstate_connect(c->t, cache, &p->walker, raw, len, p->cfg.net, height, block_tx, c, &c->ids, &done, err);
    if (rc == CW_OK)
        rc = journal_save(&c->jn, done.hash, err);
    uint8_t old[32];
    if (rc == CW_OK && height >= JOURNAL_KEEP_BLOCKS) {
        /* absent: below the first block we connected; a read error is no
         * reason to keep the journal growing unseen */
        rc = chaindb_hash_at(c->t, height - JOURNAL_KEEP_BLOCKS, old, err);
        if (rc == CW_OK)
            rc = journal_prune(c->t, old, err);
        else if (rc == CW_ENOTFOUND)
            rc = CW_OK;
    }
    journal_free(&c->jn);
    return rc;
}

/* Clusters and exposure rewrite the same records often: with flows on,
 * their writes wait in memory until the commit (store_write_back). */
cw_code connect_write_back(pipeline *p, store_txn *t, cw_err *err)
{
    static const store_db dbs[] = {STORE_CLUSTER, STORE_CLUSTER_INFO, STORE_TAINT, STORE_EXPOSURE};
    cw_code rc = CW_OK;
    for (size_t i = 0; p->cfg.flows && rc == CW_OK && i < sizeof dbs / sizeof *dbs; i++)
        rc = store_write_back(t, dbs[i], err);
    /* the rules' tables read by key only (rulestats.h); not rule_pair: the
     * trace back from a pool walks its sources there with a cursor, which
     * would not see pending write-back writes (and it is written only for
     * addresses past a full 64-entry list) */
    static const store_db rdbs[] = {STORE_RULE_ADDR, STORE_RULE_TRACE, STORE_RULE_ORIGIN};
    for (size_t i = 0; p->cfg.rules && rc == CW_OK && i < sizeof rdbs / sizeof *rdbs; i++)
        rc = store_write_back(t, rdbs[i], err);
    return rc;
}

/* Inside an open batch: connect into it, no commit, no flush. */
static cw_code connect_in_batch(pipeline *p, const uint8_t *raw, size_t len, int64_t height, const btc_header *h,
                                cw_err *err)
{
    block_ctx c = {p, p->batch, CW_BUF_INIT, {0}, {0}, {0}};
    c.blk.height = height;
    memcpy(c.blk.hash, h->hash, 32);
    c.blk.time = h->time;
    cw_code rc = connect_with_journal(p, &c, p->cache, raw, len, height, err);
    cw_buf_free(&c.ids);
    if (rc)
        return rc; /* the batch's store_write aborts it whole (pipeline.c) */
    p->st.blocks_connected++;
    p->st.tip_height = height;
    return CW_OK;
}

typedef struct {
    pipeline *p;
    const uint8_t *raw;
    size_t len;
    int64_t height;
    const btc_header *h;
    pipeline_stats st0; /* a failed attempt counted nothing that happened */
} block_write;

/* Everything the block causes, in one write transaction. */
static cw_code write_block(store_txn *t, void *arg, cw_err *err)
{
    block_write *w = arg;
    pipeline *p = w->p;
    p->st = w->st0;
    block_ctx c = {p, t, CW_BUF_INIT, {0}, {0}, {0}};
    c.blk.height = w->height;
    memcpy(c.blk.hash, w->h->hash, 32);
    c.blk.time = w->h->time;
    /* ids are collected during the walk; the undo record is written at
     * its end from the same buffer */
    cw_code rc = connect_write_back(p, t, err);
    if (rc == CW_OK)
        rc = connect_with_journal(p, &c, NULL, w->raw, w->len, w->height, err);
    if (rc == CW_OK)
        rc = pipeline_put_counters(p, t, err); /* the feed position moves with the block */
    cw_buf_free(&c.ids);
    return rc;
}

/* Connects one block at height: into the open batch, or in its own
 * transaction and then flushed. */
static cw_code connect_block(pipeline *p, const uint8_t *raw, size_t len, int64_t height, cw_err *err)
{
    btc_header h;
    cw_code rc = btc_header_parse(raw, len, &h, err);
    if (rc)
        return rc;
    if (p->batch)
        return connect_in_batch(p, raw, len, height, &h, err);
    if ((rc = pipeline_refresh_clusters(p, err))) /* an import while we ran */
        return rc;
    block_write w = {p, raw, len, height, &h, p->st};
    if ((rc = store_write(p->cfg.store, write_block, &w, err))) {
        p->st = w.st0;
        return rc;
    }
    p->st.blocks_connected++;
    p->st.tip_height = height;
    return pipeline_flush(p, err);
}

typedef struct {
    pipeline *p;
    pipeline_stats st0; /* what a failed attempt counted did not happen */
} disconnect_write;

/* Disconnects the tip in one write transaction, with `reorged` records for
 * the alerts it had confirmed. */
static cw_code write_disconnect(store_txn *t, void *arg, cw_err *err)
{
    disconnect_write *w = arg;
    pipeline *p = w->p;
    p->st = w->st0;
    cw_buf ids = CW_BUF_INIT;
    chainstate_block blk;
    cw_code rc = chainstate_disconnect_tip(t, &blk, &ids, err);
    if (rc == CW_OK)
        rc = journal_revert_block(t, blk.hash, p->cfg.flows != NULL || p->cfg.rules != NULL,
                                  err); /* clusters, exposure, key links and rule stats as before the block */
    if (rc == CW_OK) /* key links of a block whose journal was pruned */
        rc = keylink_disconnect(t, CW_CHAIN_BITCOIN, blk.height, NULL, err);
    if (rc == CW_OK)
        rc = records_reorged(p, t, &ids, err);
    cw_buf_free(&ids);
    return rc;
}

static cw_code disconnect_tip(pipeline *p, cw_err *err)
{
    disconnect_write w = {p, p->st};
    cw_code rc = store_write(p->cfg.store, write_disconnect, &w, err);
    if (rc) {
        p->st = w.st0;
        return rc;
    }
    p->st.blocks_disconnected++;
    p->refresh_recount = p->refresh_labels = p->cfg.flows != NULL; /* the journal restored older records */
    p->refresh_labels = p->refresh_labels && p->cfg.flows->labels;
    chaindb_tip now;
    p->st.tip_height = connect_read_tip(p, &now, NULL) == CW_OK && now.valid ? now.height : -1;
    return pipeline_flush(p, err);
}

cw_code connect_read_tip(pipeline *p, chaindb_tip *tip, cw_err *err)
{
    store_txn *t;
    cw_code rc = store_begin(p->cfg.store, false, &t, err);
    if (rc)
        return rc;
    rc = chaindb_get_tip(t, tip, err);
    store_abort(t);
    return rc;
}

cw_code connect_read_hash_at(cw_store *store, int64_t h, uint8_t out[32], bool *have, cw_err *err)
{
    store_txn *t;
    *have = false;
    cw_code rc = store_begin(store, false, &t, err);
    if (rc)
        return rc;
    rc = chaindb_hash_at(t, h, out, err);
    store_abort(t);
    if (rc == CW_ENOTFOUND)
        return CW_OK;
    *have = rc == CW_OK;
    return rc;
}

/* A catch-up's batch: at most SYNC_BATCH_BLOCKS blocks, fetched until
 * they reach SYNC_BATCH_BYTES (the memory held: that plus one block, up to
 * twice over as buffers grow by doubling; the commit and the coin cache's
 * flush are paid once a batch). */
#define SYNC_BATCH_BLOCKS 64
#define SYNC_BATCH_BYTES ((size_t)64 << 20)

typedef struct {
    cw_buf blk[SYNC_BATCH_BLOCKS];
    size_t n;      /* blocks fetched */
    int64_t first; /* blk[0]'s height */
} sync_batch;

/* pipeline_batch's fn: the fetched blocks into the open batch. Run again
 * from the first when a full map made the batch start over. */
static cw_code sync_connect(pipeline *p, void *ctx, cw_err *err)
{
    const sync_batch *b = ctx;
    for (size_t i = 0; i < b->n; i++) {
        cw_code rc = connect_block(p, b->blk[i].p, b->blk[i].n, b->first + (int64_t)i, err);
        if (rc)
            return rc;
    }
    return CW_OK;
}

cw_code pipeline_sync(pipeline *p, cw_err *err)
{
    if (p->cfg.rest == NULL)
        return CW_OK;
    p->st.syncs++;
    int64_t node_h;
    uint8_t node_best[32];
    cw_code rc = rest_chaininfo(p->cfg.rest, &node_h, node_best, err);
    if (rc)
        return rc;
    p->st.node_height = node_h;
    chaindb_tip tip;
    if ((rc = connect_read_tip(p, &tip, err)))
        return rc;
    int64_t next;
    if (!tip.valid) {
        next = p->cfg.start_height >= 0 ? p->cfg.start_height : node_h;
    } else {
        uint8_t ours[32];
        bool have;
        if (tip.height > node_h) {
            if ((rc = connect_read_hash_at(p->cfg.store, node_h, ours, &have, err)))
                return rc;
            if (have && memcmp(ours, node_best, 32) == 0)
                return CW_OK; /* the node is behind us on our own chain (reindexing, another node): wait */
        }
        /* walk down to the fork: the highest height where we agree */
        int64_t h = tip.height < node_h ? tip.height : node_h;
        for (;;) {
            uint8_t theirs[32];
            if ((rc = connect_read_hash_at(p->cfg.store, h, ours, &have, err)))
                return rc;
            if (!have)
                break; /* below our first block: every block we have is off the node's chain */
            if ((rc = rest_block_hash_at(p->cfg.rest, h, theirs, err)))
                return rc;
            if (memcmp(ours, theirs, 32) == 0)
                break;
            h--;
        }
        for (;;) { /* disconnect down to the fork, judged on the stored tip */
            if ((rc = connect_read_tip(p, &tip, err)))
                return rc;
            if (!tip.valid || tip.height <= h)
                break;
            if ((rc = disconnect_tip(p, err)))
                return rc;
        }
        next = h + 1; /* also after disconnecting everything: the fork's first block */
    }
    if (next < 0)
        next = 0;
    if (next <= node_h && p->cfg.sync_progress)
        p->cfg.sync_progress(p->cfg.sync_progress_ctx, next, next - 1, node_h);
    sync_batch b = {0};
    cw_code fetch_rc = CW_OK;
    cw_err fetch_err = {0};
    bool stopped = false;
    for (int64_t h = next; h <= node_h && rc == CW_OK && fetch_rc == CW_OK && !stopped;) {
        size_t bytes = 0;
        b.first = h;
        for (b.n = 0; h <= node_h && b.n < SYNC_BATCH_BLOCKS && bytes < SYNC_BATCH_BYTES; b.n++, h++) {
            /* SIGINT/SIGTERM: what was fetched is connected; the next start catches up */
            if ((stopped = p->cfg.stop && atomic_load_explicit(p->cfg.stop, memory_order_relaxed)))
                break;
            uint8_t hash[32];
            fetch_rc = rest_block_hash_at(p->cfg.rest, h, hash, &fetch_err);
            if (fetch_rc == CW_OK)
                fetch_rc = rest_block(p->cfg.rest, hash, &b.blk[b.n], &fetch_err);
            if (fetch_rc)
                break;
            bytes += b.blk[b.n].n;
        }
        if (b.n == 1) /* a gap's one block: its own transaction, as a block from the feed */
            rc = connect_block(p, b.blk[0].p, b.blk[0].n, b.first, err);
        else if (b.n > 1)
            rc = pipeline_batch(p, sync_connect, &b, err);
        if (rc == CW_OK && b.n && p->cfg.sync_progress)
            p->cfg.sync_progress(p->cfg.sync_progress_ctx, next, b.first + (int64_t)b.n - 1, node_h);
        /* freed each batch: a slot would keep the capacity of the largest
         * block it ever held, 64 of them far past SYNC_BATCH_BYTES */
        for (size_t i = 0; i < SYNC_BATCH_BLOCKS; i++)
            cw_buf_free(&b.blk[i]);
    }
    if (rc == CW_OK && fetch_rc) { /* the blocks before the node's error are in */
        if (err)
            *err = fetch_err;
        rc = fetch_rc;
    }
    return rc;
}

cw_code pipeline_connect_at(pipeline *p, const uint8_t *raw, size_t len, int64_t height, cw_err *err)
{
    return connect_block(p, raw, len, height, err); /* chainstate_connect refuses a block that does not extend the tip */
}

cw_code pipeline_block(pipeline *p, const uint8_t *raw, size_t len, cw_err *err)
{
    btc_header h;
    cw_code rc = btc_header_parse(raw, len, &h, err);
    if (rc)
        return rc;
    store_txn *t;
    if ((rc = store_begin(p->cfg.store, false, &t, err)))
        return rc;
    chaindb_tip tip;
    bool known = false;
    rc = chaindb_get_tip(t, &tip, err);
    if (rc == CW_OK) /* a read error is no "unknown block": that would connect or sync on a guess */
        rc = chaindb_is_connected(t, h.hash, &known, NULL, err);
    store_abort(t);
    if (rc)
        return rc;
    if (known) {
        p->st.stale_blocks++;
        return CW_OK;
    }
    if (tip.valid && memcmp(h.prev, tip.hash, 32) == 0)
        return connect_block(p, raw, len, tip.height + 1, err);
    if (p->cfg.rest)
        return pipeline_sync(p, err);
    if (!tip.valid) {
        /* no REST and nothing yet: start here, at the coinbase's height */
        block_walker w = {0};
        block_summary s;
        rc = decode_block_walk(&w, raw, len, p->cfg.net, NULL, NULL, &s, err);
        block_walker_free(&w);
        if (rc)
            return rc;
        int64_t height = s.has_height ? s.height : (p->cfg.start_height >= 0 ? p->cfg.start_height : 0);
        return connect_block(p, raw, len, height, err);
    }
    p->st.unknown_parent++;
    char got[65], want[65];
    cw_hex_encode_rev(h.prev, 32, got);
    cw_hex_encode_rev(tip.hash, 32, want);
    return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                      "block's parent %s is not our tip %s and there is no --rest to recover through", got, want);
}

cw_code pipeline_sequence(pipeline *p, const uint8_t *body, size_t len, cw_err *err)
{
    if (len != 33 && len != 41)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "sequence body of %zu bytes (33 or 41 expected)", len);
    uint8_t hash[32];
    for (int i = 0; i < 32; i++)
        hash[i] = body[31 - i]; /* published byte-reversed */
    char label = (char)body[32];
    if (label == 'A')
        return mempool_accepted(p, hash, err);
    if (label == 'R')
        return CW_OK;
    if (label != 'C' && label != 'D')
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "sequence label '%c' (C, D, A or R expected)", label);
    chaindb_tip tip;
    cw_code rc = connect_read_tip(p, &tip, err);
    if (rc)
        return rc;
    if (label == 'D') {
        if (!tip.valid || memcmp(tip.hash, hash, 32) != 0)
            return CW_OK; /* not ours (or already gone) */
        return p->cfg.rest ? pipeline_sync(p, err) : disconnect_tip(p, err);
    }
    /* 'C': the rawtx messages before it were the block's txs, not mempool
     * sightings. Its rawblock follows (UpdatedBlockTip comes after
     * BlockConnected), so an unknown block is only remembered; if the next
     * 'C' finds it still missing, the rawblock was lost: sync. */
    mempool_drop_pending(p);
    if (!p->cfg.rest)
        return CW_OK;
    store_txn *t;
    if ((rc = store_begin(p->cfg.store, false, &t, err)))
        return rc;
    bool known = false, earlier_known = true;
    rc = chaindb_is_connected(t, hash, &known, NULL, err);
    if (rc == CW_OK && p->have_pending_c)
        rc = chaindb_is_connected(t, p->pending_c, &earlier_known, NULL, err);
    store_abort(t);
    if (rc)
        return rc;
    bool earlier_missing = p->have_pending_c && !earlier_known;
    if (earlier_missing) {
        p->have_pending_c = false;
        if ((rc = pipeline_sync(p, err)))
            return rc;
    }
    if (!known) {
        memcpy(p->pending_c, hash, 32);
        p->have_pending_c = true;
    }
    return CW_OK;
}
