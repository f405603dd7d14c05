/* nice.c: a verb's CPU priority lowered (cli_nice, cli.h). */
#define _GNU_SOURCE /* SCHED_IDLE */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"

int cli_nice(const char *verb, int64_t n, bool idle)
{
    if (idle) {
        /* SCHED_IDLE takes priority 0; the nice value below still orders
         * idle tasks among themselves */
        struct sched_param sp = {.sched_priority = 0};
        if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0) {
            fprintf(stderr, "chainwatch: %s: --cpu-idle: cannot move to the SCHED_IDLE policy: %s\n", verb,
                    strerror(errno));
            return CLI_EXIT_FAIL;
        }
    }
    if (n <= 0)
        return CLI_EXIT_OK;
    /* nice(2) on Linux sets the calling thread's value, which threads
     * started after inherit: the verb calls this before it starts any */
    errno = 0;
    int now = getpriority(PRIO_PROCESS, 0);
    if (now == -1 && errno) {
        fprintf(stderr, "chainwatch: %s: --nice %lld: cannot read the CPU priority: %s\n", verb, (long long)n,
                strerror(errno));
        return CLI_EXIT_FAIL;
    }
    int want = now + (int)n > 19 ? 19 : now + (int)n;
    if (setpriority(PRIO_PROCESS, 0, want) != 0) {
        fprintf(stderr, "chainwatch: %s: --nice %lld: cannot lower the CPU priority to %d: %s\n", verb, (long long)n,
                want, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}
