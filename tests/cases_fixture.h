/* cases_fixture.h: a datadir holding one hold case, for the cases suites
 * (tests/monitor/test_cases.c, tests/api/test_cases_api.c). */
#ifndef CW_TEST_CASES_FIXTURE_H
#define CW_TEST_CASES_FIXTURE_H

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
/* rm -rf root. */
void cases_rm_root(const char *root);

#endif
