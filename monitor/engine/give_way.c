/* give_way.c: see give_way.h for why a --cpu-idle process yields often. */
#define _GNU_SOURCE
#include "give_way.h"

#include <sched.h>
#include <time.h>

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

void give_way_init(give_way *g)
{
    g->on = sched_getscheduler(0) == SCHED_IDLE;
    g->calls = 0;
    g->at_ns = g->on ? now_ns() : 0;
    g->cpu_at_ns = g->on ? clock_ns(CLOCK_THREAD_CPUTIME_ID) : 0;
    g->yields = g->longest_ns = 0;
}

void give_way_tick(give_way *g)
{
    if (g == NULL || !g->on || ++g->calls < GIVE_WAY_CALLS)
        return;
    g->calls = 0;
    if (now_ns() - g->at_ns < (uint64_t)GIVE_WAY_US * 1000u)
        return;
    /* a system call, unlike the monotonic clock; one per yield, which is
     * one itself */
    uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    if (cpu - g->cpu_at_ns > g->longest_ns)
        g->longest_ns = cpu - g->cpu_at_ns;
    sched_yield();
    g->yields++;
    g->cpu_at_ns = cpu;
    g->at_ns = now_ns();
}

uint64_t give_way_longest_ns(const give_way *g)
{
    if (!g->on)
        return 0;
    uint64_t open = clock_ns(CLOCK_THREAD_CPUTIME_ID) - g->cpu_at_ns;
    return open > g->longest_ns ? open : g->longest_ns;
}

void give_way_tick_ctx(void *ctx) { give_way_tick(ctx); }
