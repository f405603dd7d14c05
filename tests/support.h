/* support.h: fixtures for the criterion suites (real data from ../shared/data). */
#ifndef CW_TEST_SUPPORT_H
#define CW_TEST_SUPPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "chains/buf.h"
#include "chains/model.h"
#include "watchlists/store/store.h"
#include "zmq_pub.h"

/* Reads ../shared/data/<rel>; a .bz2 file is decompressed. Aborts the test
 * (cr_assert) when missing. Caller frees. */
uint8_t *fixture(const char *rel, size_t *len);
/* Parses a JSON fixture. Caller json_decref()s. */
json_t *fixture_json(const char *rel);
/* Hex to malloc'd bytes (cr_assert on bad hex). */
uint8_t *unhex(const char *hex, size_t *len);

/* The block file names of SOURCES.md, by height. */
#define BLOCK_514485 "btc/block-000000000000000000050f70113ab1932c195442cb49bcc4ee4d7f426c8a3295.raw"
#define BLOCK_514492 "btc/block-00000000000000000008513c860373da0484f065983aeb063ebf81c172e81d48.raw"
#define BLOCK_540107 "btc/block-00000000000000000021868c2cefc52a480d173c849412fe81c4e5ab806f94ab.blk"
#define TX_TAPROOT "btc/tx-7393096d97bfee8660f4100ffd61874d62f9a65de9fb6acf740c4c386990ef73.raw"
#define TX_BIGWITNESS "btc/tx-73be398c4bdc43709db7398106609eea2a7841aaf3a4fa2000dc18184faa2a7e.raw"

/* An arena big enough for any tx/block of len bytes (caller frees .base). */
cw_arena test_arena(size_t len);

/* Runs argv (NULL-terminated) with stdin from `in` (may be NULL), captures
 * stdout and stderr (caller frees), returns the exit status. */
int run_cmd(char *const argv[], const uint8_t *in, size_t in_len, char **out, char **err);

/* Every record of <datadir>/alerts.jsonl, parsed (an empty array when the
 * file is absent); a whole line that is not JSON fails the test, a last
 * line without its newline (being written) is left for the next read. */
json_t *alerts_read(const char *datadir);

void test_sleep_ms(int ms);
/* rm -rf dir (kept, and named on stderr, when CW_KEEP_TEST_DIRS is set), and free(dir). */
void test_remove_dir(char *dir);
/* Waits (at most 15 s) for the watcher of datadir to log "watching (", then
 * for pub's subscribers: PUB drops what it sends before they join. */
void watch_wait_ready(const char *datadir, zpub *pub);
/* SIGTERM, then asserts the watcher exited 0. */
void watch_stop(pid_t pid);

/* POST /v1/screen {"address": addr} to a real `chainwatch serve` on
 * 127.0.0.1:0 over datadir dd (an API key with the screen role added
 * first): the answer's JSON (the caller json_decref()s). serve's stderr
 * goes to dd/serve.log, checked for sanitizer reports after SIGTERM. */
json_t *test_api_screen(const char *dd, const char *addr);

/* The tables dbs[0..n) of s, each key and value in key order, into out
 * (replaced; one read transaction): two stores hold the same state exactly
 * when their dumps are byte for byte equal. */
void test_dump_tables(cw_store *s, const store_db *dbs, size_t n, cw_buf *out);

#endif
