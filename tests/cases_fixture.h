/* cases_fixture.h: a datadir holding one hold case, for the cases suites
 * (tests/monitor/test_cases.c, tests/api/test_cases_api.c). */
#ifndef CW_TEST_CASES_FIXTURE_H
#define CW_TEST_CASES_FIXTURE_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define CASES_EXPOSED_TAPROOT "bcrt1p9emuswdssstyl89vhvcuzd3lkpscen03tr40ppq503xrxj3g73hqm2g07p"
#define CASES_HOLD_TXID "0957cd71aa76d1c0ee0d5184d6840a453200674a3ccf0aabb781968e1d82fddd"
/* The alert id of the hold: BLAKE2b-128 over "bitcoin\x1fregtest\x1f<txid>\x1f
 * indirect_exposure\x1f<address>", by Python's hashlib.blake2b(digest_size=16). */
#define CASES_CASE_ID "191480d0487c1aecaaa3db13a8e01431"

/* Makes root (a new /tmp directory, cap bytes) and in it dd: init, the two
 * test designations imported, the real regtest blocks replayed with
 * CASES_EXPOSED_TAPROOT watched, so the pipeline records one hold (an
 * indirect exposure payment into the watched address) and six blocks.
 * Must run inside a criterion test. */
void cases_hold_datadir(char *root, size_t cap, char *dd, size_t dcap);
/* cases_hold_datadir in two steps: everything but the replay, and the
 * replay (its exit status; *err its stderr, caller frees), which a test
 * may run with a fault injected (tests/tools/fault.c). */
void cases_prepare_datadir(char *root, size_t cap, char *dd, size_t dcap);
int cases_replay(const char *root, const char *dd, char **err);
/* A webhook receiver: libmicrohttpd on 127.0.0.1 (its own thread) that
 * records every request in `got` (under mu): {"method","sig","seq","type",
 * "body","status"}; the first fail_first requests answer
 * status_when_failing, the others 200. */
typedef struct receiver {
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    int fail_first; /* the first N requests answer 503 */
    int status_when_failing;
    json_t *got; /* [{"seq","type","sig","body","status"}] in arrival order */
    unsigned port;
    atomic_int delay_ms; /* each answer waits this long after the request is recorded (a slow receiver); set by
                          * the test while MHD's thread reads it: an atomic (relaxed: it carries only itself) */
} receiver;
/* Starts one on 127.0.0.1:port (0: a free port, in ->port). */
receiver *receiver_start(unsigned port, int fail_first, int status_when_failing);
void receiver_stop(receiver *r);

/* rm -rf root. */
void cases_rm_root(const char *root);

#endif
