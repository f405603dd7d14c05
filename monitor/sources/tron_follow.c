#include "tron_follow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE 512       /* blocks kept by number */
#define GAP_REFILL 64   /* blocks of one gap refilled at once; more are left to the engine */

typedef struct {
    bool used;
    bool from_feed;     /* built from triggers: parent unknown */
    tron_block b;
} slot;

struct tron_follow {
    feed_tron *feed;
    tron_http *http;
    account_source src;
    slot cache[CACHE];
    int64_t head, solidified;
    /* txs handed to pending: up to this block */
    int64_t pending_done;
    /* the highest block handed to the engine to connect: never sighted after */
    int64_t handed;
    tron_follow_stats st;
};

static slot *slot_of(tron_follow *t, int64_t n) { return &t->cache[(uint64_t)n % CACHE]; }

static tron_block *cached(tron_follow *t, int64_t n)
{
    slot *s = slot_of(t, n);
    return s->used && s->b.number == n ? &s->b : NULL;
}

static void put(tron_follow *t, tron_block *b, bool from_feed)
{
    slot *s = slot_of(t, b->number);
    if (s->used)
        tron_block_free(&s->b);
    s->used = true;
    s->from_feed = from_feed;
    s->b = *b; /* taken */
    memset(b, 0, sizeof *b);
}

static void drop_above(tron_follow *t, int64_t n)
{
    for (size_t i = 0; i < CACHE; i++)
        if (t->cache[i].used && t->cache[i].b.number > n) {
            tron_block_free(&t->cache[i].b);
            t->cache[i].used = false;
        }
}

/* Block n over HTTP into the cache. */
static cw_code fetch(tron_follow *t, int64_t n, cw_err *err)
{
    tron_block b;
    cw_code rc = tron_http_block(t->http, n, &b, err);
    if (rc)
        return rc;
    put(t, &b, false);
    t->st.http_blocks++;
    return CW_OK;
}

/* ---- the account_source ---- */

static cw_code src_head(void *ctx, int64_t *number, cw_err *err)
{
    tron_follow *t = ctx;
    if (t->head < 0) {
        uint8_t h[32];
        cw_code rc = tron_http_now(t->http, number, h, err);
        if (rc == CW_OK)
            t->head = *number;
        return rc;
    }
    *number = t->head;
    return CW_OK;
}

static cw_code src_finalized(void *ctx, int64_t *number, cw_err *err)
{
    tron_follow *t = ctx;
    if (t->solidified < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET,
                          "waiting for the node's first trigger with latestSolidifiedBlockNumber (is the native queue "
                          "on and the blockTrigger topic enabled?)");
    *number = t->solidified;
    return CW_OK;
}

static cw_code src_hash_at(void *ctx, int64_t n, uint8_t hash[32], cw_err *err)
{
    tron_follow *t = ctx;
    tron_block *b = cached(t, n);
    if (b == NULL) {
        cw_code rc = fetch(t, n, err);
        if (rc)
            return rc;
        b = cached(t, n);
    }
    memcpy(hash, b->hash, 32);
    return CW_OK;
}

typedef struct {
    account_block ab;
    cw_transfer *xf;
} owned_block;

static cw_code src_block(void *ctx, int64_t n, account_block **out, cw_err *err)
{
    tron_follow *t = ctx;
    tron_block *b = cached(t, n);
    slot *s = slot_of(t, n);
    /* a trigger block's parent is the block cached before it, if there is one */
    tron_block *prev = b && s->from_feed ? cached(t, n - 1) : NULL;
    if (b == NULL || (s->from_feed && prev == NULL)) {
        cw_code rc = fetch(t, n, err);
        if (rc)
            return rc;
        b = cached(t, n);
    }
    owned_block *o = calloc(1, sizeof *o);
    cw_tx *txs = calloc(b->n_tx ? b->n_tx : 1, sizeof *txs);
    cw_transfer *xf = calloc(b->n_xf ? b->n_xf : 1, sizeof *xf);
    if (!o || !txs || !xf) {
        free(o), free(txs), free(xf);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "block %lld: out of memory", (long long)n);
    }
    o->ab.number = b->number;
    memcpy(o->ab.hash, b->hash, 32);
    memcpy(o->ab.parent, b->parent_known ? b->parent : prev->hash, 32);
    o->ab.time = (uint64_t)(b->time_ms / 1000);
    o->ab.txs = txs;
    o->ab.n_txs = b->n_tx;
    o->xf = xf;
    memcpy(xf, b->xf, b->n_xf * sizeof *xf);
    for (size_t i = 0; i < b->n_tx; i++) {
        txs[i] = b->txs[i];
        txs[i].raw = (cw_span){NULL, 0}; /* the cache's bytes may go: nothing after decoding reads them */
        txs[i].xfer = xf + (b->txs[i].xfer - b->xf);
    }
    if (s->from_feed)
        t->st.trigger_blocks++;
    if (n > t->handed)
        t->handed = n;
    *out = &o->ab;
    return CW_OK;
}

static void src_block_free(void *ctx, account_block *b)
{
    (void)ctx;
    owned_block *o = (owned_block *)b;
    if (o == NULL)
        return;
    free(o->ab.txs);
    free(o->xf);
    free(o);
}

static cw_code src_pending(void *ctx, account_pending_fn fn, void *fn_ctx, cw_err *err)
{
    tron_follow *t = ctx;
    if (t->pending_done < 0)
        t->pending_done = t->solidified >= 0 ? t->solidified : t->head;
    /* solidified blocks are (or are about to be) connected: their txs are
     * confirmed, never sighted after that */
    if (t->solidified > t->pending_done)
        t->pending_done = t->solidified;
    if (t->handed > t->pending_done) /* connected (--confirmations): confirmed, not sighted */
        t->pending_done = t->handed;
    for (int64_t n = t->pending_done + 1; n <= t->head; n++) {
        tron_block *b = cached(t, n);
        for (size_t i = 0; b && i < b->n_tx; i++) {
            cw_code rc = fn(fn_ctx, &b->txs[i], err);
            if (rc)
                return rc; /* this block again next time: sightings are idempotent by id */
        }
        t->pending_done = n; /* a block not here (a gap HTTP could not refill yet) is recorded when connected */
    }
    return CW_OK;
}

cw_code tron_follow_open(const feed_tron_config *fc, const tron_http_options *ho, tron_follow **out, cw_err *err)
{
    tron_follow *t = calloc(1, sizeof *t);
    if (t == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    t->head = t->solidified = t->pending_done = t->handed = -1;
    cw_code rc = tron_http_open(ho, &t->http, err);
    if (rc == CW_OK)
        rc = feed_tron_open(fc, &t->feed, err);
    if (rc) {
        tron_follow_close(t);
        return rc;
    }
    t->src = (account_source){t, src_head, src_finalized, src_hash_at, src_block, src_block_free, src_pending};
    *out = t;
    return CW_OK;
}

void tron_follow_close(tron_follow *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < CACHE; i++)
        if (t->cache[i].used)
            tron_block_free(&t->cache[i].b);
    feed_tron_close(t->feed);
    tron_http_close(t->http);
    free(t);
}

const account_source *tron_follow_source(tron_follow *t) { return &t->src; }
tron_http *tron_follow_http(tron_follow *t) { return t->http; }
feed_tron *tron_follow_feed(tron_follow *t) { return t->feed; }

void tron_follow_set_tip(tron_follow *t, int64_t tip)
{
    if (tip >= 0 && feed_tron_last(t->feed) < tip)
        feed_tron_set_last(t->feed, tip);
    if (tip > t->handed)
        t->handed = tip;
}

cw_code tron_follow_poll(tron_follow *t, int timeout_ms, uint64_t *bad, cw_err *err)
{
    cw_code first = CW_OK;
    cw_err ferr = {0};
    for (int wait = timeout_ms;; wait = 0) {
        feed_tron_event ev;
        bool got;
        cw_code rc = feed_tron_next(t->feed, wait, &ev, &got, err);
        if (rc)
            return rc;
        if (!got)
            break;
        switch (ev.kind) {
        case FEED_TRON_BLOCK: {
            tron_block *old = cached(t, ev.block.number);
            if (old && memcmp(old->hash, ev.block.hash, 32) != 0) {
                t->st.replaced++;
                drop_above(t, ev.block.number);
                if (t->pending_done >= ev.block.number)
                    t->pending_done = ev.block.number - 1; /* the replacement's txs are new sightings */
                if (t->handed >= ev.block.number)
                    t->handed = ev.block.number - 1; /* the engine disconnects ours and asks again */
            }
            if (ev.block.number > t->head || (old && memcmp(old->hash, ev.block.hash, 32) != 0))
                t->head = ev.block.number;
            /* the feed owns the event's block until the next call: keep a copy */
            const tron_block *fb = &ev.block;
            tron_block mine = *fb;
            mine.txs = calloc(fb->n_tx ? fb->n_tx : 1, sizeof *mine.txs);
            mine.ctype = calloc(fb->n_tx ? fb->n_tx : 1, sizeof *mine.ctype);
            mine.xf = calloc(fb->n_xf ? fb->n_xf : 1, sizeof *mine.xf);
            mine.bytes = NULL;
            if (!mine.txs || !mine.ctype || !mine.xf) {
                tron_block_free(&mine);
                break; /* out of memory: the block comes over HTTP when asked */
            }
            memcpy(mine.txs, fb->txs, fb->n_tx * sizeof *mine.txs);
            memcpy(mine.ctype, fb->ctype, fb->n_tx * sizeof *mine.ctype);
            memcpy(mine.xf, fb->xf, fb->n_xf * sizeof *mine.xf);
            for (size_t i = 0; i < fb->n_tx; i++)
                mine.txs[i].xfer = mine.xf + (fb->txs[i].xfer - fb->xf);
            put(t, &mine, true);
            break;
        }
        case FEED_TRON_GAP:
            t->st.gaps++;
            if (ev.gap_to > t->head)
                t->head = ev.gap_to;
            for (int64_t n = ev.gap_from; n <= ev.gap_to; n++) {
                t->st.gap_blocks++;
                slot *s = slot_of(t, n);
                if (s->used && s->b.number == n) {
                    tron_block_free(&s->b);
                    s->used = false;
                }
                /* refill now (the last GAP_REFILL of a long gap), so pending sees their txs */
                if (n > ev.gap_to - GAP_REFILL && first == CW_OK) {
                    cw_code frc = fetch(t, n, &ferr);
                    if (frc)
                        first = frc;
                }
            }
            break;
        case FEED_TRON_SOLIDIFIED:
            t->solidified = ev.solidified;
            break;
        case FEED_TRON_BAD:
            if (bad)
                (*bad)++;
            break;
        }
    }
    if (first) {
        if (err)
            *err = ferr;
        return first;
    }
    return CW_OK;
}

cw_code tron_follow_chain_id(tron_follow *t, uint64_t *id, cw_err *err)
{
    tron_block b;
    cw_code rc = tron_http_block(t->http, 0, &b, err);
    if (rc)
        return rc;
    *id = (uint64_t)b.hash[28] << 24 | (uint64_t)b.hash[29] << 16 | (uint64_t)b.hash[30] << 8 | b.hash[31];
    tron_block_free(&b);
    return CW_OK;
}

void tron_network_name(uint64_t id, char out[32])
{
    if (id == 728126428u)
        snprintf(out, 32, "mainnet");
    else if (id == 3448148188u)
        snprintf(out, 32, "nile");
    else if (id == 2494104990u)
        snprintf(out, 32, "shasta");
    else
        snprintf(out, 32, "chain-%llu", (unsigned long long)id);
}

void tron_follow_stats_get(const tron_follow *t, tron_follow_stats *out) { *out = t->st; }
