/*
 * account.c: the account-chain engine (account.h). A pipeline underneath
 * (its lock, outbox, trail, records and sinks); confirmed state is
 * chaindb's chain of hashes, tip and per-block undo records (alert ids
 * only: an account chain has no coins to restore), plus the journal for
 * what exposure, key links and the pattern rules write. Each block, each disconnect, each mempool sighting
 * is one write transaction (store_write) and then a flush, as connect.c
 * and mempool.c do for Bitcoin; catching up (more than a batch due) and
 * replay put a batch of blocks in one (pipeline_batch). Before anything of
 * ours is undone the node's block above the fork is checked against what
 * its hashes said: a node that cannot be followed stops the sync
 * (CW_ECHECKSUM, account.h) rather than rewriting our chain.
 */
#include "account.h"

#include <stdlib.h>
#include <string.h>

#include "chains/hex.h"
#include "pipeline_internal.h"
#include "watchlists/acct_exposure.h"
#include "watchlists/chaindb.h"
#include "watchlists/keylink.h"
#include "watchlists/store/journal.h"

/* The cursor entry naming the one chain this datadir follows. */
#define ACCOUNT_CHAIN_KEY "account.chain"
/* Syncs restarted because the node moved under us (a reorg between our
 * walk to the fork and the fetch of the next block) before giving up. */
#define ACCOUNT_SYNC_ROUNDS 8
/* Catching up: when more than this many blocks are due, they are
 * connected this many per write transaction (one commit and one fsync per
 * batch, not per block), as account_replay does. */
#define ACCOUNT_CATCHUP_BATCH 32
#define ACCOUNT_FLIPS_KEPT 8

struct account {
    account_config cfg;
    rules_chain rchain; /* the assets as the rules name them */
    pipeline *p;
    cw_chain chain; /* CW_CHAIN_TRON for "tron", else CW_CHAIN_EVM: whose key links a disconnect takes back */
    /* A node that cannot be followed (account_config.max_reorg): its
     * contradictions in a row and the last one, and the blocks reorged
     * away lately with how often each was. */
    unsigned lies;
    char lie[200];
    struct {
        int64_t height;
        uint8_t hash[32];
        unsigned n;
    } flips[ACCOUNT_FLIPS_KEPT];
    unsigned next_flip;
};

pipeline *account_pipeline(account *a) { return a->p; }

static cw_code check_chain(account *a, cw_err *err)
{
    store_txn *t;
    cw_code rc = store_begin(a->cfg.store, false, &t, err);
    if (rc)
        return rc;
    chaindb_tip tip;
    uint64_t id = 0;
    rc = chaindb_get_tip(t, &tip, err);
    cw_code irc = rc ? rc : chaindb_feed_counter_get(t, ACCOUNT_CHAIN_KEY, &id, err);
    store_abort(t);
    if (rc)
        return rc;
    if (irc == CW_ENOTFOUND) {
        if (tip.valid)
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                              "this datadir follows Bitcoin (block %lld connected): one datadir per chain; give "
                              "%s its own --datadir",
                              (long long)tip.height, a->cfg.chain);
        return CW_OK;
    }
    if (irc)
        return irc;
    if (id != a->cfg.chain_id)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "this datadir follows chain id %llu, the node is chain id %llu (%s %s): one datadir per "
                          "chain",
                          (unsigned long long)id, (unsigned long long)a->cfg.chain_id, a->cfg.chain, a->cfg.network);
    return CW_OK;
}

cw_code account_open(const account_config *cfg, account **out, cw_err *err)
{
    if (cfg->confirmations < 1)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "confirmations must be at least 1 (1: the node's head)");
    account *a = calloc(1, sizeof *a);
    if (a == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    a->cfg = *cfg;
    if (a->cfg.max_reorg == 0)
        a->cfg.max_reorg = ACCOUNT_MAX_REORG_DEFAULT;
    a->chain = strcmp(cfg->chain, "tron") == 0 ? CW_CHAIN_TRON : CW_CHAIN_EVM;
    /* no flows (clusters are Bitcoin's); the rules: their tables' filters
     * and write-back, and their records' severities */
    pipeline_config pc = {cfg->store, cfg->net, cfg->sk, cfg->sink, cfg->durable, cfg->sink_ctx, NULL, cfg->start,
                          cfg->stop, false, NULL, cfg->rules, NULL, NULL};
    a->rchain = (rules_chain){cfg->native_symbol, cfg->native_decimals, cfg->tokens};
    cw_code rc = pipeline_open(&pc, &a->p, err);
    if (rc) {
        free(a);
        return rc;
    }
    pipeline *p = a->p;
    p->account = true;
    p->chain_name = cfg->chain;
    p->network_name = cfg->network;
    p->native_symbol = cfg->native_symbol;
    p->native_decimals = cfg->native_decimals;
    p->tokens = cfg->tokens;
    if ((rc = check_chain(a, err))) {
        account_close(a);
        return rc;
    }
    *out = a;
    return CW_OK;
}

void account_close(account *a)
{
    if (a == NULL)
        return;
    pipeline_close(a->p);
    free(a);
}

/* ---------- connect and disconnect ---------- */

/* part / whole in parts per million (whole > 0). */
static uint32_t share_of(const cw_u256 *part, const cw_u256 *whole)
{
    static const cw_u256 million = {{1000000, 0, 0, 0}};
    cw_u256 r;
    uint64_t v;
    if (!cw_u256_mul_div(&r, part, &million, whole) || !cw_u256_to_u64(&r, &v))
        return 0;
    return v > 1000000 ? 1000000 : (uint32_t)v;
}

/* Everything block b causes, in transaction t (its own or a replay
 * batch's): records, chain entry, undo record (its alert ids), tip,
 * journal, the chain id. */
static cw_code connect_in(account *a, store_txn *t, const account_block *b, cw_err *err)
{
    pipeline *p = a->p;
    chaindb_tip tip;
    cw_code rc = chaindb_get_tip(t, &tip, err);
    if (rc)
        return rc;
    if (tip.valid && (b->number != tip.height + 1 || memcmp(b->parent, tip.hash, 32) != 0)) {
        char want[65], got[65];
        cw_hex_encode(tip.hash, 32, want);
        cw_hex_encode(b->parent, 32, got);
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "block %lld (parent 0x%s) does not extend our tip %lld (0x%s)", (long long)b->number, got,
                          (long long)tip.height, want);
    }
    if (b->time > UINT32_MAX || b->number < 0)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "block %lld: time %llu or number out of range",
                          (long long)b->number, (unsigned long long)b->time);
    chainstate_block blk = {0};
    blk.height = b->number;
    memcpy(blk.hash, b->hash, 32);
    memcpy(blk.prev, b->parent, 32);
    blk.time = (uint32_t)b->time;
    cw_buf ids = CW_BUF_INIT;
    journal jn;
    journal_init(&jn, t);
    acct_exposure_config xc = {a->cfg.hops, a->cfg.labels};
    for (size_t i = 0; rc == CW_OK && i < b->n_txs; i++) {
        const cw_tx *tx = &b->txs[i];
        p->st.txs++;
        pipeline_give_way(p);
        /* the signer's key first (a reverted tx was signed too): when one of
         * its forms is designated, the others are linked, and this tx is
         * recorded as sent from a designated address, as Bitcoin's are */
        if (b->senders)
            rc = keylink_observe_sender(&jn, b->senders[i], CW_NET_MAIN, a->chain, tx->txid, b->number,
                                        &p->st.keylink, err);
        if (rc == CW_OK)
            rc = records_account_tx(p, t, tx, "confirmed", &blk, &ids, err);
        /* designated money moves on, transfer by transfer (a reverted tx moved nothing) */
        for (size_t k = 0; rc == CW_OK && a->cfg.hops && !(tx->flags & CW_TX_FAILED) && k < tx->n_xfer; k++) {
            acct_exposure_move mv;
            rc = acct_exposure_transfer(&xc, &jn, &tx->xfer[k], tx->txid, &mv, err);
            if (rc || cw_u256_is_zero(&mv.part))
                continue;
            p->st.flows.taint_outputs++;
            /* from 2 hops on (hop 1 is a designated sender: its own record) */
            uint32_t ppm = share_of(&mv.part, &tx->xfer[k].amount);
            if (mv.hops >= 2 && ppm >= (a->cfg.min_share_ppm ? a->cfg.min_share_ppm : 10000))
                rc = records_account_exposure(p, t, tx, &tx->xfer[k], mv.source, mv.source_len, mv.hops, &mv.part,
                                              ppm, ppm >= (a->cfg.hold_share_ppm ? a->cfg.hold_share_ppm : 100000),
                                              &blk, &ids, err);
        }
        /* the pattern rules on its transfers (a reverted tx moved nothing) */
        if (rc == CW_OK && a->cfg.rules && !(tx->flags & CW_TX_FAILED)) {
            const rule_finding *rf;
            size_t n = 0;
            rc = rules_account_tx(a->cfg.rules, &a->rchain, t, &jn, tx, (int64_t)b->time, &rf, &n, &p->st.rules, err);
            if (rc == CW_OK)
                rc = records_rules(p, t, tx, rf, n, "confirmed", &blk, &ids, err);
        }
    }
    chaindb_undo none = CHAINDB_UNDO_INIT;
    chaindb_tip now = {true, b->number, {0}};
    memcpy(now.hash, b->hash, 32);
    if (rc == CW_OK)
        rc = chaindb_chain_put(t, b->number, b->hash, err);
    if (rc == CW_OK)
        rc = chaindb_undo_put(t, b->hash, b->number, b->parent, blk.time, &none, &ids, err);
    if (rc == CW_OK)
        rc = chaindb_set_tip(t, &now, err);
    if (rc == CW_OK)
        rc = journal_save(&jn, b->hash, err);
    if (rc == CW_OK && b->number >= JOURNAL_KEEP_BLOCKS) {
        uint8_t old[32];
        rc = chaindb_hash_at(t, b->number - JOURNAL_KEEP_BLOCKS, old, err);
        if (rc == CW_OK)
            rc = journal_prune(t, old, err);
        else if (rc == CW_ENOTFOUND)
            rc = CW_OK;
    }
    if (rc == CW_OK)
        rc = chaindb_feed_counter_put(t, ACCOUNT_CHAIN_KEY, a->cfg.chain_id, err);
    journal_free(&jn);
    cw_buf_free(&ids);
    if (rc == CW_OK) {
        p->st.blocks_connected++;
        p->st.tip_height = b->number;
    }
    return rc;
}

typedef struct {
    account *a;
    const account_block *b;
    pipeline_stats st0;
} connect_write;

static cw_code write_connect(store_txn *t, void *arg, cw_err *err)
{
    connect_write *w = arg;
    w->a->p->st = w->st0; /* a full map's retry counts again from the start */
    cw_code rc = connect_write_back(w->a->p, t, err); /* the rules' tables, as a Bitcoin block's */
    return rc ? rc : connect_in(w->a, t, w->b, err);
}

cw_code account_connect(account *a, const account_block *b, cw_err *err)
{
    connect_write w = {a, b, a->p->st};
    cw_code rc = store_write(a->cfg.store, write_connect, &w, err);
    if (rc) {
        a->p->st = w.st0;
        return rc;
    }
    return pipeline_flush(a->p, err);
}

typedef struct {
    account *a;
    pipeline_stats st0;
} disconnect_write;

static cw_code write_disconnect(store_txn *t, void *arg, cw_err *err)
{
    disconnect_write *w = arg;
    pipeline *p = w->a->p;
    p->st = w->st0;
    cw_buf ids = CW_BUF_INIT;
    chainstate_block blk;
    cw_code rc = chainstate_disconnect_tip(t, &blk, &ids, err); /* no coins in the undo record: the chain, the tip, the ids */
    if (rc == CW_OK)
        rc = journal_revert_block(t, blk.hash, w->a->cfg.hops > 0 || w->a->cfg.rules != NULL,
                                  err); /* exposure, key links and rule stats as before the block */
    if (rc == CW_OK) /* and links of a block whose journal was pruned */
        rc = keylink_disconnect(t, w->a->chain, blk.height, NULL, err);
    if (rc == CW_OK)
        rc = records_reorged(p, t, &ids, err);
    cw_buf_free(&ids);
    if (rc == CW_OK) {
        p->st.blocks_disconnected++;
        p->st.tip_height = blk.height - 1;
    }
    return rc;
}

cw_code account_disconnect_tip(account *a, cw_err *err)
{
    disconnect_write w = {a, a->p->st};
    cw_code rc = store_write(a->cfg.store, write_disconnect, &w, err);
    if (rc) {
        a->p->st = w.st0;
        return rc;
    }
    return pipeline_flush(a->p, err);
}

/* ---------- following the node ---------- */

/* The node's hash at h; *have false above its head. */
static cw_code node_hash_at(account *a, int64_t h, uint8_t out[32], bool *have, cw_err *err)
{
    cw_code rc = a->cfg.src->hash_at(a->cfg.src->ctx, h, out, err);
    *have = rc == CW_OK;
    return rc == CW_ENOTFOUND ? CW_OK : rc;
}

/* The highest block to connect: the head less confirmations - 1, or the
 * finalized tag. */
static cw_code followed_height(account *a, int64_t *target, cw_err *err)
{
    const account_source *s = a->cfg.src;
    int64_t head;
    cw_code rc = s->head(s->ctx, &head, err);
    if (rc)
        return rc;
    a->p->st.node_height = head;
    if (a->cfg.finalized) {
        if (s->finalized == NULL)
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "this source has no finalized tag");
        return s->finalized(s->ctx, target, err);
    }
    *target = head - (int64_t)(a->cfg.confirmations - 1);
    return CW_OK;
}

static void hex0x(const uint8_t h[32], char out[67])
{
    out[0] = '0', out[1] = 'x';
    cw_hex_encode(h, 32, out + 2);
}

/* The node contradicted itself (or moved under us): one more in a row;
 * CW_ECHECKSUM once there were ACCOUNT_LIE_REPEATS in a row. */
static cw_code contradiction(account *a, const char *what, bool *moved, cw_err *err)
{
    snprintf(a->lie, sizeof a->lie, "%s", what);
    *moved = true;
    if (++a->lies < ACCOUNT_LIE_REPEATS)
        return CW_OK;
    chaindb_tip tip;
    char t[67] = "?";
    if (connect_read_tip(a->p, &tip, NULL) == CW_OK && tip.valid)
        hex0x(tip.hash, t);
    return cw_err_set(err, CW_ECHECKSUM, CW_NO_OFFSET,
                      "the node's chain does not link, %u times in a row: %s (a node that lies about its blocks): "
                      "nothing past our tip %lld (%.18s...) is committed",
                      a->lies, a->lie, (long long)a->p->st.tip_height, t);
}

/* Block `hash` at `height` is about to be reorged away: CW_ECHECKSUM when
 * it was ACCOUNT_FLIP_MAX times already (the node's chain flips). */
static cw_code count_flip(account *a, int64_t height, const uint8_t hash[32], cw_err *err)
{
    unsigned i;
    for (i = 0; i < ACCOUNT_FLIPS_KEPT; i++)
        if (a->flips[i].n && a->flips[i].height == height && memcmp(a->flips[i].hash, hash, 32) == 0)
            break;
    if (i == ACCOUNT_FLIPS_KEPT) {
        i = a->next_flip++ % ACCOUNT_FLIPS_KEPT;
        a->flips[i].height = height;
        memcpy(a->flips[i].hash, hash, 32);
        a->flips[i].n = 0;
    }
    if (++a->flips[i].n <= ACCOUNT_FLIP_MAX)
        return CW_OK;
    char h[67];
    hex0x(hash, h);
    return cw_err_set(err, CW_ECHECKSUM, CW_NO_OFFSET,
                      /* under CW_ERR_MSG_MAX with the whole hash and 10-digit heights: the tip must not be cut */
                      "the node's chain flips back and forth: block %lld (%s) would be reorged away a %u. time (a "
                      "lying node, or several behind one URL): not followed; our tip stays block %lld",
                      (long long)height, h, a->flips[i].n, (long long)a->p->st.tip_height);
}

typedef struct {
    account *a;
    account_block **blocks;
    size_t n;
} replay_batch;

static cw_code batch_fn(pipeline *p, void *ctx, cw_err *err);

/* Connects blocks next..target (the first may be fetched already: *first,
 * taken over), one transaction per block, or ACCOUNT_CATCHUP_BATCH per
 * transaction while more than a batch is due. Every block must link to
 * the one before (our tip first): one that does not is a contradiction
 * (moved). */
static cw_code connect_up_to(account *a, int64_t next, int64_t target, account_block **first, bool *moved,
                             cw_err *err)
{
    const account_source *s = a->cfg.src;
    pipeline *p = a->p;
    account_block *bl[ACCOUNT_CATCHUP_BATCH];
    cw_code rc = CW_OK;
    for (int64_t h = next; h <= target && rc == CW_OK && !*moved;) {
        if (a->cfg.stop && atomic_load_explicit(a->cfg.stop, memory_order_relaxed))
            break;
        chaindb_tip tip;
        if ((rc = connect_read_tip(p, &tip, err)))
            break;
        size_t want = target - h + 1 > ACCOUNT_CATCHUP_BATCH ? ACCOUNT_CATCHUP_BATCH : 1, n = 0;
        const uint8_t *prev = tip.valid ? tip.hash : NULL;
        int64_t prev_height = tip.valid ? tip.height : h - 1;
        while (n < want) {
            account_block *b = NULL;
            if (*first && h == next)
                b = *first, *first = NULL;
            else if ((rc = s->block(s->ctx, h, &b, err))) {
                if (rc == CW_ENOTFOUND)
                    rc = CW_OK, *moved = true; /* above the node's head now: it moved */
                break;
            }
            if (prev && memcmp(b->parent, prev, 32) != 0) {
                char what[200], bh[67], ph[67], ours[67];
                hex0x(b->hash, bh), hex0x(b->parent, ph), hex0x(prev, ours);
                snprintf(what, sizeof what, "its block %lld (%.18s...) names parent %.18s..., but block %lld is "
                         "%.18s...", (long long)b->number, bh, ph, (long long)prev_height, ours);
                s->block_free(s->ctx, b);
                rc = contradiction(a, what, moved, err);
                break;
            }
            bl[n++] = b;
            prev = b->hash;
            prev_height = b->number;
            h++;
        }
        if (n == 1 && want == 1)
            rc = rc ? rc : account_connect(a, bl[0], err);
        else if (n > 0 && rc == CW_OK) {
            replay_batch rb = {a, bl, n};
            rc = pipeline_batch(p, batch_fn, &rb, err);
        } else if (n > 0) { /* connect what linked, then report the error */
            cw_err keep = err ? *err : (cw_err){0};
            replay_batch rb = {a, bl, n};
            cw_code brc = pipeline_batch(p, batch_fn, &rb, err);
            if (brc)
                rc = brc;
            else if (err)
                *err = keep;
        }
        for (size_t i = 0; i < n; i++)
            s->block_free(s->ctx, bl[i]);
    }
    return rc;
}

/* One round: walk to the fork, disconnect, connect up to the target.
 * *moved: a fetched block did not extend our tip (the node reorged under
 * us): run again. */
static cw_code sync_round(account *a, bool *moved, cw_err *err)
{
    pipeline *p = a->p;
    *moved = false;
    int64_t target;
    cw_code rc = followed_height(a, &target, err);
    if (rc)
        return rc;
    chaindb_tip tip;
    if ((rc = connect_read_tip(p, &tip, err)))
        return rc;
    const account_source *s = a->cfg.src;
    account_block *first = NULL; /* the node's block above the fork, checked before ours are undone */
    int64_t next;
    if (!tip.valid) {
        next = a->cfg.start >= 0 ? a->cfg.start : target;
    } else {
        /* walk down from our tip (or the node's head) to where we agree */
        int64_t h = tip.height < p->st.node_height ? tip.height : p->st.node_height;
        if (tip.height > p->st.node_height) {
            uint8_t ours[32], theirs[32];
            bool have_ours, have_theirs;
            if ((rc = connect_read_hash_at(a->cfg.store, h, ours, &have_ours, err)) ||
                (rc = node_hash_at(a, h, theirs, &have_theirs, err)))
                return rc;
            if (have_ours && have_theirs && memcmp(ours, theirs, 32) == 0)
                return CW_OK; /* the node is behind us on our own chain (restarted, resyncing, another node): wait */
        }
        uint8_t claimed[32], above[32]; /* the node's hash and ours at h + 1 */
        bool have_claimed = false;
        for (;;) {
            uint8_t ours[32], theirs[32];
            bool have_ours, have_theirs;
            if ((rc = connect_read_hash_at(a->cfg.store, h, ours, &have_ours, err)))
                return rc;
            if (!have_ours)
                break; /* below our first block */
            if ((rc = node_hash_at(a, h, theirs, &have_theirs, err)))
                return rc;
            if (have_theirs && memcmp(ours, theirs, 32) == 0)
                break;
            if (tip.height - h + 1 > (int64_t)a->cfg.max_reorg) {
                char t[67];
                hex0x(tip.hash, t);
                return cw_err_set(err, CW_ECHECKSUM, CW_NO_OFFSET,
                                  "the node's chain shares none of our blocks %lld..%lld (tip %.18s...): a reorg "
                                  "deeper than --max-reorg %u is not followed (another chain, or a node that lies "
                                  "about its blocks); nothing was undone",
                                  (long long)h, (long long)tip.height, t, a->cfg.max_reorg);
            }
            memcpy(claimed, theirs, 32);
            memcpy(above, ours, 32);
            have_claimed = have_theirs;
            h--;
        }
        if (h < tip.height) {
            /* a reorg: the node's block above the fork must be the one its
             * hash said and link to our block at the fork, or nothing of
             * ours is undone */
            if ((rc = s->block(s->ctx, h + 1, &first, err)))
                return rc == CW_ENOTFOUND ? (*moved = true, CW_OK) : rc;
            uint8_t fork[32];
            bool have_fork;
            if ((rc = connect_read_hash_at(a->cfg.store, h, fork, &have_fork, err))) {
                s->block_free(s->ctx, first);
                return rc;
            }
            char what[200] = "";
            char bh[67], x[67];
            hex0x(first->hash, bh);
            if (have_claimed && memcmp(first->hash, claimed, 32) != 0) {
                hex0x(claimed, x);
                snprintf(what, sizeof what, "its hash at %lld is %.18s..., but the block it sends for %lld is %.18s...",
                         (long long)h + 1, x, (long long)h + 1, bh);
            } else if (have_fork && memcmp(first->parent, fork, 32) != 0) {
                hex0x(first->parent, x);
                snprintf(what, sizeof what, "its block %lld (%.18s...) names parent %.18s..., but its hash at %lld is "
                         "ours", (long long)h + 1, bh, x, (long long)h);
            }
            if (what[0] == '\0' && have_claimed)
                rc = count_flip(a, h + 1, above, err);
            if (what[0] || rc) {
                s->block_free(s->ctx, first);
                return rc ? rc : contradiction(a, what, moved, err);
            }
        }
        for (;;) {
            if ((rc = connect_read_tip(p, &tip, err)))
                break;
            if (!tip.valid || tip.height <= h)
                break;
            if ((rc = account_disconnect_tip(a, err)))
                break;
        }
        if (rc) {
            if (first)
                s->block_free(s->ctx, first);
            return rc;
        }
        next = h + 1;
    }
    if (next < 0)
        next = 0;
    rc = connect_up_to(a, next, target, &first, moved, err);
    if (first)
        s->block_free(s->ctx, first);
    if (rc == CW_OK && !*moved)
        a->lies = 0;
    return rc;
}

cw_code account_sync(account *a, cw_err *err)
{
    a->p->st.syncs++;
    for (int round = 0; round < ACCOUNT_SYNC_ROUNDS; round++) {
        bool moved;
        cw_code rc = sync_round(a, &moved, err);
        if (rc || !moved)
            return rc;
    }
    return cw_err_set(err, CW_EIO, CW_NO_OFFSET,
                      "the node's chain kept changing during %d syncs in a row (a reorg storm?): will try again",
                      ACCOUNT_SYNC_ROUNDS);
}

/* ---------- pending txs ---------- */

typedef struct {
    account *a;
    const cw_tx *tx;
    pipeline_stats st0;
} sighting_write;

static cw_code write_sighting(store_txn *t, void *arg, cw_err *err)
{
    sighting_write *w = arg;
    w->a->p->st = w->st0;
    return records_account_tx(w->a->p, t, w->tx, "mempool", NULL, NULL, err);
}

cw_code account_pending_tx(account *a, const cw_tx *tx, cw_err *err)
{
    pipeline *p = a->p;
    p->st.txs++;
    store_txn *t;
    cw_code rc = store_begin(a->cfg.store, false, &t, err);
    if (rc)
        return rc;
    size_t hits = 0;
    rc = records_account_hits(t, tx, &hits, err);
    store_abort(t);
    if (rc || hits == 0)
        return rc;
    sighting_write w = {a, tx, p->st};
    if ((rc = store_write(a->cfg.store, write_sighting, &w, err))) {
        p->st = w.st0;
        return rc;
    }
    return outbox_flush(p, false, err); /* durable with the next block */
}

static cw_code pending_cb(void *ctx, const cw_tx *tx, cw_err *err) { return account_pending_tx(ctx, tx, err); }

cw_code account_poll_pending(account *a, cw_err *err)
{
    const account_source *s = a->cfg.src;
    if (s->pending == NULL)
        return CW_OK;
    return s->pending(s->ctx, pending_cb, a, err);
}

/* ---------- replay ---------- */

cw_code account_holds(account *a, int64_t from, int64_t to, bool *held, cw_err *err)
{
    *held = false;
    uint8_t ours[32], theirs[32];
    bool have;
    cw_code rc = connect_read_hash_at(a->cfg.store, from, ours, &have, err);
    if (rc || !have)
        return rc;
    if ((rc = connect_read_hash_at(a->cfg.store, to, ours, &have, err)) || !have)
        return rc;
    if ((rc = node_hash_at(a, to, theirs, &have, err)))
        return rc;
    *held = have && memcmp(ours, theirs, 32) == 0;
    return CW_OK;
}

static cw_code batch_fn(pipeline *p, void *ctx, cw_err *err)
{
    replay_batch *rb = ctx;
    for (size_t i = 0; i < rb->n; i++) {
        cw_code rc = connect_in(rb->a, p->batch, rb->blocks[i], err);
        if (rc)
            return rc;
    }
    return CW_OK;
}

cw_code account_replay(account *a, int64_t from, int64_t to, unsigned batch,
                       void (*progress)(void *ctx, int64_t done, int64_t total), void *progress_ctx, cw_err *err)
{
    if (from < 0 || to < from)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "replay range %lld..%lld is empty or negative", (long long)from,
                          (long long)to);
    if (batch == 0)
        batch = 1;
    chaindb_tip tip;
    cw_code rc = connect_read_tip(a->p, &tip, err);
    if (rc)
        return rc;
    if (tip.valid && tip.height != from - 1)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "this datadir's tip is block %lld: a replay from %lld needs an empty datadir or its tip at "
                          "%lld",
                          (long long)tip.height, (long long)from, (long long)from - 1);
    account_block **bl = calloc(batch, sizeof *bl);
    if (bl == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory for a batch of %u blocks", batch);
    const account_source *s = a->cfg.src;
    for (int64_t h = from; h <= to && rc == CW_OK;) {
        if (a->cfg.stop && atomic_load_explicit(a->cfg.stop, memory_order_relaxed))
            break;
        replay_batch rb = {a, bl, 0};
        for (; rb.n < batch && h <= to; h++) {
            if ((rc = s->block(s->ctx, h, &bl[rb.n], err)))
                break;
            rb.n++;
        }
        if (rc == CW_ENOTFOUND)
            rc = cw_err_set(err, CW_EARG, CW_NO_OFFSET, "block %lld is above the node's head", (long long)h);
        if (rc == CW_OK)
            rc = pipeline_batch(a->p, batch_fn, &rb, err);
        for (size_t i = 0; i < rb.n; i++)
            s->block_free(s->ctx, bl[i]);
        if (rc == CW_OK && progress)
            progress(progress_ctx, h - from, to - from + 1);
    }
    free(bl);
    return rc;
}
