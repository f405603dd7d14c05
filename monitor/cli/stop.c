/* stop.c: SIGINT/SIGTERM as a stop request (stop.h). */
#include "stop.h"

#include <signal.h>
#include <stddef.h>

/* The handler stores to stop_flag. C11 (7.14.1.1p5) lets a signal handler
 * touch an atomic object only when it is lock-free: a lock-based atomic
 * could be interrupted while its own lock is held and deadlock. On every
 * target we build for atomic_int is always lock-free; refuse to build on
 * one where it is not rather than ship a handler that may hang. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the stop flag must be a lock-free atomic to be set from a signal handler");

static atomic_int stop_flag;

/* async-signal-safe: one store to a lock-free atomic. Relaxed: the flag
 * carries only itself (no data is published with it), and the readers
 * poll it between units of work. */
static void on_stop(int sig)
{
    (void)sig;
    atomic_store_explicit(&stop_flag, 1, memory_order_relaxed);
}

void cli_stop_install(void)
{
    atomic_store_explicit(&stop_flag, 0, memory_order_relaxed);
    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool cli_stop_requested(void) { return atomic_load_explicit(&stop_flag, memory_order_relaxed) != 0; }

const atomic_int *cli_stop_flag(void) { return &stop_flag; }
