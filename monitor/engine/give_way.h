/*
 * give_way.h: yielding the CPU often when this process runs SCHED_IDLE.
 *
 * `--cpu-idle` (replay, watch) puts a backfill in the idle scheduling
 * class so that a screening API beside it keeps the CPU. On the kernels
 * measured (Linux 6.18, EEVDF, preempt=none, HZ=250, a 2-vCPU KVM guest)
 * a running idle-class task is not taken off its CPU at once when a
 * normal task wakes there: the woken one can wait up to a tick (4 ms).
 * Measured with a task that only spins in the idle class beside `serve`
 * (wrk -c4, 6 s runs): p99 2.9-3.4 ms when it never yields, 1.1-2.0 ms
 * when it yields every 500 us, 0.9-1.4 ms every 50 us; 0.15-0.5 ms with
 * nothing beside it. So a --cpu-idle backfill yields every
 * GIVE_WAY_US of work, in every loop that runs long: per tx connected,
 * per coin gathered, sorted and written at a batch's end, per write the
 * commit moves from the write-back overlay into LMDB (store_txn_give_way).
 * sched_yield returns at once when nobody waits; the clock (vDSO) is read
 * every GIVE_WAY_CALLS calls.
 *
 * What stays un-yielded is counted rather than guessed: at each yield the
 * thread's CPU time since the last one is taken, and the longest such
 * stretch is kept (give_way.longest_ns; replay prints it). Measured on
 * the api bench's replay: LMDB's commit (its page writes are kernel time,
 * 50-220 ms a batch in syscalls of 1-3 ms, which a yield cannot split)
 * and the prevout cache's doublings in the first batch stay; the
 * user-space stretches of 20-80 ms at a batch's end are gone.
 *
 * Not thread-safe: one give_way per thread that calls it.
 */
#ifndef CW_GIVE_WAY_H
#define CW_GIVE_WAY_H

#include <stdbool.h>
#include <stdint.h>

#define GIVE_WAY_US 50
#define GIVE_WAY_CALLS 4

typedef struct {
    bool on;             /* the process ran SCHED_IDLE when give_way_init looked */
    unsigned calls;      /* calls since the clock was last read */
    uint64_t at_ns;      /* CLOCK_MONOTONIC of the last yield */
    uint64_t cpu_at_ns;  /* the thread's CPU time at the last yield */
    uint64_t yields;     /* sched_yield calls so far */
    uint64_t longest_ns; /* the most CPU time the thread ran between two yields (give_way_longest_ns) */
} give_way;

/* Looks at the process's scheduling policy once: g yields only under
 * SCHED_IDLE (policies set later are not seen). */
void give_way_init(give_way *g);

/* Called in a long loop: yields the CPU when g is on and GIVE_WAY_US have
 * passed since the last yield. g may be NULL (nothing). */
void give_way_tick(give_way *g);

/* The longest stretch of CPU time g's thread ran between two yields, the
 * one running now (since the last yield) included: a run's last commit
 * comes after its last yield. 0 when g is off. Call it from g's thread. */
uint64_t give_way_longest_ns(const give_way *g);

/* give_way_tick for callbacks that take a context (store_txn_give_way):
 * ctx is the give_way, or NULL. */
void give_way_tick_ctx(void *ctx);

#endif
