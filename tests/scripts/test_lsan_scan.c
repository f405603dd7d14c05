/* scripts/lsan-scan: which sanitizer reports in the ASan build's ctest log
 * fail CI. The logs below are shaped as ctest -V prints them ("N: " before
 * each line of test N); the criterion leak is copied from a real CI log,
 * the others are it with one frame changed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEAD                                                                                                        \
    "26: =================================================================\n"                                        \
    "26: ==12458==ERROR: LeakSanitizer: detected memory leaks\n"                                                     \
    "26: \n"
#define LEAK(frames)                                                                                                \
    "26: Direct leak of 96 byte(s) in 2 object(s) allocated from:\n"                                                 \
    "26:     #0 0x7fa1926b83b7 in __interceptor_calloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:77\n" \
    frames "26: \n"
#define TAIL "26: SUMMARY: AddressSanitizer: 96 byte(s) leaked in 2 allocation(s).\n"
#define CRIT "26:     #1 0x7fa192ce2332  (/lib/x86_64-linux-gnu/libcriterion.so.3+0x1a332)\n"

/* The scan's verdict on text: 0 (nothing of ours) or 1. */
static int scan(const char *text)
{
    char path[] = "/tmp/cw-lsan-scan-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "awk -f '%s/lsan-scan' '%s'", CW_SCRIPTS_DIR, path);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char out[16] = "";
    cr_assert_not_null(fgets(out, sizeof out, p), "lsan-scan printed nothing");
    cr_assert_eq(pclose(p), 0);
    unlink(path);
    cr_assert(strcmp(out, "0\n") == 0 || strcmp(out, "1\n") == 0, "lsan-scan printed '%s'", out);
    return out[0] - '0';
}

Test(lsan_scan, criterions_own_leak_is_forgiven)
{
    cr_assert_eq(scan(HEAD LEAK(CRIT) TAIL), 0);
    /* criterion's, called from libc's start */
    cr_assert_eq(scan(HEAD LEAK(CRIT "26:     #2 0x7f0000000001 in __libc_start_call_main ../sysdeps/nptl/"
                                     "libc_start_call_main.h:58\n") TAIL),
                 0);
    cr_assert_eq(scan("no reports at all\n"), 0);
}

Test(lsan_scan, a_leak_through_our_code_counts)
{
    cr_assert_eq(scan(HEAD LEAK("26:     #1 0x55d0 in feed_open /work/x/monitor/sources/feed_zmq.c:120\n") TAIL), 1);
    /* ours below criterion */
    cr_assert_eq(scan(HEAD LEAK(CRIT "26:     #2 0x55d0 in t /work/x/tests/monitor/test_feed.c:9\n") TAIL), 1);
    /* the second of two leaks */
    cr_assert_eq(scan(HEAD LEAK(CRIT) LEAK("26:     #1 0x55d0 in f /work/x/chains/json.c:3\n") TAIL), 1);
}

/* A stack cut short in a library without frame pointers names no caller
 * of ours, and no criterion frame either: it counts. Before, a leak whose
 * frames were all in libc (an opendir's DIR never closed, libc without its
 * symbols) was forgiven as if it were criterion's runner. */
Test(lsan_scan, a_stack_cut_short_outside_criterion_counts)
{
    cr_assert_eq(scan(HEAD LEAK("26:     #1 0x7fd1e96e7fb4  (/lib/x86_64-linux-gnu/libjansson.so.4+0x5fb4)\n") TAIL), 1);
    cr_assert_eq(scan(HEAD LEAK("26:     #1 0x7fb5c40edda4  (/lib/x86_64-linux-gnu/libc.so.6+0xdda4)\n") TAIL), 1);
    cr_assert_eq(scan(HEAD LEAK("") TAIL), 1, "only the allocator's frame: nothing says it is criterion's");
}

Test(lsan_scan, memory_errors_count)
{
    cr_assert_eq(scan("3: ==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020\n"), 1);
    cr_assert_eq(scan("3: monitor/api/server.c:12:5: runtime error: signed integer overflow\n"), 1);
}
