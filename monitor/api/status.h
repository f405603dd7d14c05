/*
 * status.h: live facts of a `watch` running the API in its own process,
 * for /metrics and /healthz. The watch thread writes them (api_status_*),
 * server threads read them; relaxed atomics: each value is read whole,
 * never a torn or stale-forever value, and no order between them is
 * needed. `serve` has none (NULL): it reports what the store knows.
 */
#ifndef CW_API_STATUS_H
#define CW_API_STATUS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct api_status {
    _Atomic int64_t started;      /* unix seconds the monitor started */
    _Atomic int64_t last_message; /* unix seconds of the last feed message (0: none yet) */
    _Atomic int64_t last_block;   /* unix seconds the last block was connected (0: none yet) */
    _Atomic uint64_t blocks;      /* blocks connected since start */
    _Atomic uint64_t txs;         /* txs screened since start (mempool and blocks) */
    _Atomic int node;             /* 1 the node answered last time asked, 0 not, -1 never asked */
    _Atomic int64_t fresh_s;      /* a feed older than this many seconds is stale (0: 3600) */
};

#include "server.h"

static inline void api_status_init(api_status *st, int64_t now)
{
    atomic_store(&st->started, now);
    atomic_store(&st->last_message, 0);
    atomic_store(&st->last_block, 0);
    atomic_store(&st->blocks, 0);
    atomic_store(&st->txs, 0);
    atomic_store(&st->node, -1);
    atomic_store(&st->fresh_s, 0);
}
static inline void api_status_message(api_status *st, int64_t now)
{
    if (st)
        atomic_store_explicit(&st->last_message, now, memory_order_relaxed);
}
/* The monitor's counts since start (pipeline_stats): a change of blocks
 * marks now as the last block's time. */
static inline void api_status_counts(api_status *st, uint64_t blocks, uint64_t txs, int64_t now)
{
    if (st == NULL)
        return;
    if (atomic_exchange_explicit(&st->blocks, blocks, memory_order_relaxed) != blocks)
        atomic_store_explicit(&st->last_block, now, memory_order_relaxed);
    atomic_store_explicit(&st->txs, txs, memory_order_relaxed);
}
static inline void api_status_node(api_status *st, bool ok)
{
    if (st)
        atomic_store_explicit(&st->node, ok ? 1 : 0, memory_order_relaxed);
}

#endif
