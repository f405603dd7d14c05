/*
 * mempool.c: rawtx sightings. A tx is decoded and screened in a read
 * transaction; the writer (and its fsync) is taken only when there is
 * something to record. With the sequence feed a hit waits for its 'A'
 * (mempool accept), since the node republishes every tx of a connected
 * block on rawtx too; a 'C' drops what still waits (connect.c).
 */
#include <stdlib.h>
#include <string.h>

#include "chains/bitcoin/tx.h"
#include "pipeline_internal.h"


static cw_code arena_for(pipeline *p, size_t len, cw_arena *a, cw_err *err)
{
    size_t need = btc_arena_bound(len);
    if (need > p->arena_cap) {
        void *m = realloc(p->arena_mem, need);
        if (m == NULL)
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory for a %zu-byte arena", need);
        p->arena_mem = m;
        p->arena_cap = need;
    }
    cw_arena_init(a, p->arena_mem, p->arena_cap);
    return CW_OK;
}

static bool recently_accepted(const pipeline *p, const uint8_t txid[32])
{
    if (p->accepted == NULL)
        return false;
    for (size_t i = 0; i < ACCEPTED_RING; i++)
        if (memcmp(p->accepted[i], txid, 32) == 0)
            return true;
    return false;
}

typedef struct {
    pipeline *p;
    const cw_tx *tx;
    pipeline_stats st0;
} sighting_write;

/* The records of a mempool sighting, in one write transaction. */
static cw_code write_sighting(store_txn *t, void *arg, cw_err *err)
{
    sighting_write *w = arg;
    pipeline *p = w->p;
    p->st = w->st0; /* a full map's retry: what the failed attempt counted did not happen */
    size_t n_flows = 0;
    cw_code rc = records_tx(p, t, w->tx, "mempool", NULL, NULL, err);
    if (rc == CW_OK && p->cfg.flows) /* the same findings: a mempool tx changes no state */
        rc = flows_tx(p->cfg.flows, t, NULL, w->tx, &p->findings, &n_flows, NULL, err);
    if (rc == CW_OK && n_flows)
        rc = records_flows(p, t, w->tx, p->findings, n_flows, "mempool", NULL, NULL, err);
    return rc;
}

/* Decodes, looks for designated addresses with a read transaction, and
 * records a mempool sighting (if `now`) or holds the tx for its 'A'. The
 * writer (and its fsync) is taken only when there is something to record. */
static cw_code screen_tx(pipeline *p, const uint8_t *raw, size_t len, bool now, cw_err *err)
{
    cw_arena a;
    cw_code rc = arena_for(p, len, &a, err);
    if (rc)
        return rc;
    cw_tx tx;
    if ((rc = btc_tx_parse(raw, len, NULL, p->cfg.net, &a, &tx, err)))
        return rc;
    if (tx.flags & CW_TX_COINBASE)
        return CW_OK; /* published when its block connects: handled there */
    store_txn *t;
    if ((rc = store_begin(p->cfg.store, false, &t, err)))
        return rc;
    rc = chainstate_resolve_inputs(t, &tx, err);
    size_t hits = 0, n_flows = 0;
    if (rc == CW_OK)
        rc = records_count_hits(t, &tx, &hits, err);
    if (rc == CW_OK && p->cfg.flows)
        rc = flows_tx(p->cfg.flows, t, NULL, &tx, &p->findings, &n_flows, NULL, err);
    store_abort(t);
    if (rc || hits + n_flows == 0)
        return rc;
    if (!now && !recently_accepted(p, tx.txid)) {
        /* No cap: a held hit leaves at its 'A' or at the next 'C' (every tx
         * the node publishes is followed by one of them), so the list holds
         * at most a block's worth of hits; dropping one would lose its
         * mempool sighting. */
        if (p->n_pending == p->cap_pending) {
            size_t cap = p->cap_pending ? p->cap_pending * 2 : 64;
            pending_tx *grown = realloc(p->pending, cap * sizeof *grown);
            if (grown == NULL)
                return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory holding a tx for its 'A'");
            p->pending = grown, p->cap_pending = cap;
        }
        pending_tx *q = &p->pending[p->n_pending];
        if ((q->raw = malloc(len)) == NULL)
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory holding a tx for its 'A'");
        memcpy(q->raw, raw, len);
        q->len = len;
        memcpy(q->txid, tx.txid, 32);
        p->n_pending++;
        return CW_OK;
    }
    sighting_write w = {p, &tx, p->st};
    if ((rc = store_write(p->cfg.store, write_sighting, &w, err)))
        p->st = w.st0;
    return rc ? rc : outbox_flush(p, false, err); /* durable with the next block */
}

cw_code pipeline_tx(pipeline *p, const uint8_t *raw, size_t len, cw_err *err)
{
    p->st.txs++;
    return screen_tx(p, raw, len, !p->cfg.sequence_feed, err);
}

cw_code mempool_accepted(pipeline *p, const uint8_t txid[32], cw_err *err)
{
    if (p->accepted == NULL && (p->accepted = calloc(ACCEPTED_RING, 32)) == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    memcpy(p->accepted[p->accepted_next], txid, 32);
    p->accepted_next = (p->accepted_next + 1) % ACCEPTED_RING;
    for (size_t i = 0; i < p->n_pending; i++)
        if (memcmp(p->pending[i].txid, txid, 32) == 0) {
            pending_tx q = p->pending[i];
            memmove(p->pending + i, p->pending + i + 1, (p->n_pending - i - 1) * sizeof *p->pending);
            p->n_pending--;
            cw_code rc = screen_tx(p, q.raw, q.len, true, err);
            free(q.raw);
            return rc;
        }
    return CW_OK;
}

void mempool_drop_pending(pipeline *p)
{
    for (size_t i = 0; i < p->n_pending; i++)
        free(p->pending[i].raw);
    p->n_pending = 0;
}

void mempool_free(pipeline *p)
{
    mempool_drop_pending(p);
    free(p->pending);
    p->pending = NULL, p->cap_pending = 0;
}
