/* idle_wake.c: how long this machine keeps a woken task waiting behind an
 * idle-class one, printed by `scripts/bench api` before its runs.
 *
 * `--cpu-idle` puts a backfill in SCHED_IDLE so that a screening API beside
 * it gets the CPU at once when a request wakes it. Whether "at once" holds
 * is the kernel's (and the hypervisor's) business, and it has differed on
 * this project's VMs from one day to the next: on 2026-12-03 a spinning
 * idle-class task held a woken one for up to a scheduler tick (4 ms), on
 * 2026-12-04 for under 1 ms. So the bench measures it rather than assume:
 *
 *   - a child on core 0 spins in SCHED_IDLE and never yields;
 *   - a child on core 1 writes the time into a pipe, waits for this
 *     process's answer, sleeps 300 us and writes again;
 *   - this process, on core 0 at normal priority, reads each one, takes
 *     how late it woke (the wait behind the spinner, plus the cross-core
 *     wake-up every request of the bench also pays) and answers: one
 *     wake-up at a time, so a late one is counted once, not once for
 *     every write that queued behind it.
 *
 *   cw_idlewake [N]         N wake-ups (default 3000, after 200 not counted
 *                           while the children settle); prints
 *                           "N wake-ups: p50 A ms, p99 B ms, max C ms"
 *
 * Exit 1 on a machine with fewer than two cores, when the spinner could
 * not start (no SCHED_IDLE) or a call fails (said on stderr); the
 * children are killed on every path.
 */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARM_UP 200
#define PERIOD_NS 300000L

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Core 0, idle class, spinning until killed. */
static void spin_idle(void)
{
    struct sched_param sp = {0};
    if (pin(0) || sched_setscheduler(0, SCHED_IDLE, &sp))
        _exit(1);
    for (volatile uint64_t n = 0;; n++)
        ;
}

/* Core 1: the time into fd, then wait for the answer on ack, PERIOD_NS
 * of sleep, again; until killed. */
static void write_times(int fd, int ack)
{
    if (pin(1))
        _exit(1);
    for (;;) {
        struct timespec d = {0, PERIOD_NS};
        nanosleep(&d, NULL);
        uint64_t t = now_ns();
        char c;
        if (write(fd, &t, sizeof t) != (ssize_t)sizeof t || read(ack, &c, 1) != 1)
            _exit(1);
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 3000;
    if (n < 100 || n > 1000000) {
        fprintf(stderr, "cw_idlewake: N from 100 to 1000000, not %s\n", argv[1]);
        return 1;
    }
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        fprintf(stderr, "cw_idlewake: one core: nothing to wake across\n");
        return 1;
    }
    int fd[2], ack[2];
    uint64_t *late = malloc((size_t)n * sizeof *late);
    if (late == NULL || pipe(fd) || pipe(ack) || pin(0)) {
        fprintf(stderr, "cw_idlewake: %s\n", strerror(errno));
        return 1;
    }
    pid_t spinner = fork();
    if (spinner == 0)
        spin_idle();
    pid_t writer = spinner > 0 ? fork() : -1;
    if (writer == 0)
        write_times(fd[1], ack[0]);
    bool forked = spinner > 0 && writer > 0;
    int rc = forked ? 0 : 1;
    for (long i = 0; rc == 0 && i < WARM_UP + n; i++) {
        uint64_t t;
        if (read(fd[0], &t, sizeof t) != (ssize_t)sizeof t || write(ack[1], "", 1) != 1) {
            fprintf(stderr, "cw_idlewake: the writer stopped\n");
            rc = 1;
        } else if (i >= WARM_UP)
            late[i - WARM_UP] = now_ns() - t;
    }
    /* a spinner that could not pin itself or enter SCHED_IDLE has exited:
     * what was measured then was a wake-up with nothing beside it */
    if (rc == 0 && waitpid(spinner, NULL, WNOHANG) != 0) {
        fprintf(stderr, "cw_idlewake: the idle-class spinner did not run (SCHED_IDLE or core 0 refused)\n");
        spinner = -1;
        rc = 1;
    }
    if (spinner > 0)
        kill(spinner, SIGKILL), waitpid(spinner, NULL, 0);
    if (writer > 0)
        kill(writer, SIGKILL), waitpid(writer, NULL, 0);
    if (rc == 0) {
        qsort(late, (size_t)n, sizeof *late, cmp_u64);
        printf("%ld wake-ups: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", n, late[n / 2] / 1e6,
               late[n * 99 / 100] / 1e6, late[n - 1] / 1e6);
    } else if (!forked)
        fprintf(stderr, "cw_idlewake: fork: %s\n", strerror(errno));
    free(late);
    return rc;
}
