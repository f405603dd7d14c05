/* stop.c: SIGINT/SIGTERM as a stop request (stop.h). */
#include "stop.h"

#include <signal.h>
#include <stddef.h>

/* pipeline_config.stop reads the flag as an int */
_Static_assert(sizeof(sig_atomic_t) == sizeof(int), "sig_atomic_t is an int");

static volatile sig_atomic_t stop_flag;

/* async-signal-safe: one store to a sig_atomic_t */
static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

void cli_stop_install(void)
{
    stop_flag = 0;
    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool cli_stop_requested(void) { return stop_flag != 0; }

volatile const int *cli_stop_flag(void) { return (volatile const int *)&stop_flag; }
