/* give_way.c: see give_way.h for why a --cpu-idle process yields often. */
#define _GNU_SOURCE
#include "give_way.h"

#include <sched.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void give_way_init(give_way *g)
{
    g->on = sched_getscheduler(0) == SCHED_IDLE;
    g->calls = 0;
    g->at_ns = g->on ? now_ns() : 0;
}

void give_way_tick(give_way *g)
{
    if (g == NULL || !g->on || ++g->calls < GIVE_WAY_CALLS)
        return;
    g->calls = 0;
    if (now_ns() - g->at_ns < (uint64_t)GIVE_WAY_US * 1000u)
        return;
    sched_yield();
    g->at_ns = now_ns();
}
