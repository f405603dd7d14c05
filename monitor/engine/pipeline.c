/*
 * pipeline.c: the pipeline's life (open, close, the datadir lock), its
 * stats and feed counters, the clusters' refresh against today's
 * watchlist, replay batches, and giving way to other tasks under
 * --cpu-idle (give_way.h). The rest is split by concern (pipeline_internal.h):
 * connect.c, mempool.c, records.c, outbox.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipeline_internal.h"
#include "watchlists/chaindb.h"
#include "watchlists/cluster.h"

/* ---------- clusters against today's watchlist and labels ---------- */

typedef struct {
    bool recount;
    const labels *labels;
    uint64_t fp; /* the wl_meta fingerprint the refresh is made against */
} refresh_write;

static cw_code write_refresh(store_txn *t, void *arg, cw_err *err)
{
    refresh_write *w = arg;
    cluster_refresh_stats st;
    cw_code rc = cluster_refresh(t, w->recount, w->labels, &st, err);
    return rc ? rc : chaindb_flows_fp_put(t, w->fp, err);
}

/* The wl_meta fingerprint moved since the last look (an import), labels
 * were given to this run, or a disconnect: cluster_refresh. */
cw_code pipeline_refresh_clusters(pipeline *p, cw_err *err)
{
    if (p->cfg.flows == NULL || p->batch)
        return CW_OK;
    store_txn *t;
    cw_code rc = store_begin(p->cfg.store, false, &t, err);
    if (rc)
        return rc;
    uint64_t fp = store_fingerprint(t, STORE_WL_META), saved = 0;
    bool known = chaindb_flows_fp_get(t, &saved, NULL) == CW_OK;
    store_abort(t);
    refresh_write w = {!known || saved != fp || p->refresh_recount,
                       p->refresh_labels ? p->cfg.flows->labels : NULL, fp};
    if (!w.recount && w.labels == NULL)
        return CW_OK;
    if ((rc = store_write(p->cfg.store, write_refresh, &w, err)))
        return rc;
    p->refresh_labels = p->refresh_recount = false;
    return CW_OK;
}

/* ---------- open / close ---------- */

/* One monitor (watch or replay) per datadir: its Bloom filters and caches
 * assume no other process writes chain state (store.h). Imports and the
 * read-only verbs run beside it freely. The lock goes with the process. */
static cw_code lock_datadir(pipeline *p, cw_err *err)
{
    char path[4200];
    const char *store = store_path(p->cfg.store), *slash = strrchr(store, '/');
    snprintf(path, sizeof path, "%.*s/monitor.lock", slash ? (int)(slash - store) : 1, slash ? store : ".");
    p->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (p->lock_fd < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot open %s: %s", path, strerror(errno));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(p->lock_fd, F_SETLK, &fl) == 0)
        return CW_OK;
    struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    fcntl(p->lock_fd, F_GETLK, &who);
    close(p->lock_fd);
    p->lock_fd = -1;
    return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                      "%.*s is in use by another chainwatch watch or replay (pid %ld): one monitor per datadir",
                      slash ? (int)(slash - store) : 1, slash ? store : ".", (long)who.l_pid);
}

cw_code pipeline_open(const pipeline_config *cfg, pipeline **out, cw_err *err)
{
    pipeline *p = calloc(1, sizeof *p);
    if (p == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    p->cfg = *cfg;
    p->lock_fd = -1;
    p->chain_name = "bitcoin";
    p->network_name = cw_net_name(cfg->net);
    cw_code lrc = lock_datadir(p, err);
    if (lrc) {
        free(p);
        return lrc;
    }
    p->st.node_height = -1;
    give_way_init(&p->give_way);
    cw_code crc = CW_OK;
    /* the watchlist, key links, clusters and taint: mostly asked about keys
     * they never held (key links: this process is the one writer, monitor.lock) */
    if ((crc = store_filter_enable(cfg->store, STORE_WL_ADDR, err)) ||
        (crc = store_filter_enable(cfg->store, STORE_KEYLINK, err)) ||
        (cfg->flows && ((crc = store_filter_enable(cfg->store, STORE_CLUSTER, err)) ||
                        (crc = store_filter_enable(cfg->store, STORE_CLUSTER_INFO, err)) ||
                        (crc = store_filter_enable(cfg->store, STORE_TAINT, err)))) ||
        (cfg->rules && ((crc = store_filter_enable(cfg->store, STORE_RULE_ADDR, err)) ||
                        (crc = store_filter_enable(cfg->store, STORE_RULE_TRACE, err)) ||
                        (crc = store_filter_enable(cfg->store, STORE_RULE_ORIGIN, err))))) {
        pipeline_close(p);
        return crc;
    }
    if ((p->seen = keylink_seen_new()) == NULL) {
        pipeline_close(p);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory for the table of revealed keys (%zu KB)",
                          (size_t)KEYLINK_SEEN_SLOTS * 33 / 1024);
    }
    crc = coins_new(&p->cache, err);
    if (crc) {
        pipeline_close(p);
        return crc;
    }
    /* continue the outbox numbering after whatever a crash left in it */
    store_txn *t;
    cw_code rc = store_begin(cfg->store, false, &t, err);
    if (rc) {
        pipeline_close(p);
        return rc;
    }
    chaindb_tip tip;
    if ((rc = outbox_resume(p, t, err)) == CW_OK)
        rc = chaindb_get_tip(t, &tip, err);
    store_abort(t);
    if (rc) {
        pipeline_close(p);
        return rc;
    }
    p->st.tip_height = tip.valid ? tip.height : -1;
    p->refresh_labels = cfg->flows && cfg->flows->labels;
    if ((rc = pipeline_refresh_clusters(p, err))) {
        pipeline_close(p);
        return rc;
    }
    *out = p;
    return CW_OK;
}

void pipeline_close(pipeline *p)
{
    if (p == NULL)
        return;
    mempool_free(p);
    coins_free(p->cache);
    keylink_seen_free(p->seen);
    if (p->lock_fd >= 0)
        close(p->lock_fd);
    free(p->accepted);
    block_walker_free(&p->walker);
    free(p->arena_mem);
    free(p);
}

void pipeline_stats_get(const pipeline *p, pipeline_stats *out)
{
    *out = p->st;
    out->cached_coins = coins_count(p->cache);
    out->cache_bytes = coins_memory(p->cache) + (p->batch ? store_pending_bytes(p->batch) : 0);
    out->gave_way = p->give_way.yields;
    out->longest_stretch_ns = give_way_longest_ns(&p->give_way);
}

void pipeline_note_counter(pipeline *p, int topic, const char *name, uint32_t seq)
{
    if (topic < 0 || topic >= MAX_COUNTERS)
        return;
    snprintf(p->counters[topic].topic, sizeof p->counters[topic].topic, "%s", name);
    p->counters[topic].seq = seq;
    p->counters[topic].set = true;
}

cw_code pipeline_put_counters(pipeline *p, store_txn *t, cw_err *err)
{
    for (int i = 0; i < MAX_COUNTERS; i++)
        if (p->counters[i].set) {
            cw_code rc = chaindb_feed_counter_put(t, p->counters[i].topic, p->counters[i].seq, err);
            if (rc)
                return rc;
        }
    return CW_OK;
}

static cw_code write_counters(store_txn *t, void *arg, cw_err *err) { return pipeline_put_counters(arg, t, err); }

cw_code pipeline_save_counters(pipeline *p, cw_err *err) { return store_write(p->cfg.store, write_counters, p, err); }

cw_code pipeline_saved_counter(pipeline *p, const char *name, uint32_t *seq, bool *found, cw_err *err)
{
    store_txn *t;
    *found = false;
    cw_code rc = store_begin(p->cfg.store, false, &t, err);
    if (rc)
        return rc;
    uint64_t v;
    rc = chaindb_feed_counter_get(t, name, &v, err);
    store_abort(t);
    if (rc == CW_ENOTFOUND)
        return CW_OK;
    if (rc == CW_OK) {
        *found = true;
        *seq = (uint32_t)v;
    }
    return rc;
}

/* ---------- giving way (--cpu-idle) ---------- */

void pipeline_give_way(pipeline *p) { give_way_tick(&p->give_way); }

/* ---------- replay batches ---------- */

typedef struct {
    pipeline *p;
    pipeline_batch_fn fn;
    void *ctx;
} batch_write;

/* The batch's write transaction. store_write runs it again after a full
 * map: the caller's fn then connects the batch's blocks again from its
 * first (pipeline.h), so the stats and the coins cache start over too. */
static cw_code write_batch(store_txn *t, void *arg, cw_err *err)
{
    batch_write *w = arg;
    pipeline *p = w->p;
    p->st = p->st_at_batch;
    coins_clear(p->cache);
    p->batch = t;
    if (p->give_way.on) /* the commit's move of the write-back writes into LMDB */
        store_txn_give_way(t, give_way_tick_ctx, &p->give_way);
    cw_code rc = connect_write_back(p, t, err);
    if (rc == CW_OK)
        rc = w->fn(p, w->ctx, err);
    if (rc == CW_OK)
        rc = coins_flush(p->cache, t, &p->give_way, err);
    if (rc == CW_OK)
        rc = pipeline_put_counters(p, t, err);
    p->batch = NULL;
    coins_clear(p->cache);
    return rc;
}

cw_code pipeline_batch(pipeline *p, pipeline_batch_fn fn, void *ctx, cw_err *err)
{
    if (p->batch)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "a batch is already open");
    cw_code rc = pipeline_refresh_clusters(p, err);
    if (rc)
        return rc;
    p->st_at_batch = p->st;
    batch_write w = {p, fn, ctx};
    if ((rc = store_write(p->cfg.store, write_batch, &w, err))) {
        p->st = p->st_at_batch; /* nothing the batch counted happened */
        chaindb_tip tip;
        p->st.tip_height = connect_read_tip(p, &tip, NULL) == CW_OK && tip.valid ? tip.height : -1;
        return rc;
    }
    return pipeline_flush(p, err);
}
