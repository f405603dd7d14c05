/* support.h: fixtures for the criterion suites (real data from ../shared/data). */
#ifndef CW_TEST_SUPPORT_H
#define CW_TEST_SUPPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "chains/addr.h"
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
/* Runs chainwatch (CW_BIN) with the arguments after errout (NULL-terminated,
 * at most 37) and stdin `in` (in_len bytes; in may be NULL). When j is
 * given, *j is stdout parsed as one JSON object on one line (NULL when
 * stdout is empty; anything else fails the test); *errout gets stderr
 * (caller frees; freed when errout is NULL). Returns the exit status. */
int cw_in(const uint8_t *in, size_t in_len, json_t **j, char **errout, ...);
/* cw_in with a NUL-terminated text as stdin (NULL: none). */
int cw_in_text(const char *in, json_t **j, char **errout, ...);

/* Every record of <datadir>/alerts.jsonl, parsed (an empty array when the
 * file is absent); a whole line that is not JSON fails the test, a last
 * line without its newline (being written) is left for the next read. */
json_t *alerts_read(const char *datadir);
/* The first record in all (alerts_read) of txid and status, and of the
 * block whose hash is `block` when block is not NULL; NULL when none. A
 * borrowed reference. */
json_t *alerts_find(json_t *all, const char *txid, const char *status, const char *block);

/* The real regtest node's block files (SOURCES.md: btc/regtest-v30) as the
 * node wrote them, blk00000.dat (obfuscated) and xor.dat, in a new
 * directory dir (mode 0700): what `replay --blocksdir` reads. */
void regtest_blocksdir(const char *dir);

void test_sleep_ms(int ms);
/* rm -rf dir (kept, and named on stderr, when CW_KEEP_TEST_DIRS is set), and free(dir). */
void test_remove_dir(char *dir);
/* Lines (newlines) in the file at path, 0 when it does not exist: e.g.
 * the faults the shim's CW_FAULT_LOG recorded, one a failed call. */
size_t test_file_lines(const char *path);
/* runs runs of a store that fails now and then, behind the shim's
 * CW_FAULT_WHILE gate file and counted in its CW_FAULT_LOG fault_log: the
 * gate made, kept until a call met the fault (a line more in fault_log, at
 * most 30 s), removed, then 500 ms for a pass that works between runs (a
 * late one only merges two runs). */
void test_fault_runs(const char *gate, const char *fault_log, int runs);
/* SIGTERM to pid with the shim's CW_FAULT_WHILE gate file made first (the
 * store failing from then on: the shutdown's final flush meets it), waits
 * for it, removes the gate; returns its wait status. */
int test_stop_with_gate(int pid, const char *gate);
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
/* The same with the request body `body` (JSON text) and serve's extra
 * options opts (NULL-terminated, may be NULL: e.g. --labels FILE). */
json_t *test_api_screen_body(const char *dd, const char *const *opts, const char *body);
/* An API key of role ("screen", "review", "admin") added to datadir dd
 * under name (a name dd has no key of): the key into key. */
void test_api_key(const char *dd, const char *name, const char *role, char key[128]);
/* Imports into datadir dd (chainwatch init'ed) a one-line CSV watchlist
 * of source "bystander" listing the genesis coinbase's address, which no
 * generated chain pays: a store a screen will answer from (screens refuse
 * a store no list was ever imported into) whose records it does not
 * change. */
void test_import_bystander(const char *dd);
/* POSTs body (JSON text) to path ("/v1/screen") of the serve listening on
 * 127.0.0.1:port, with the API key: the answer's JSON (the test fails when
 * it is not JSON; the caller json_decref()s) and its HTTP status in *status. */
json_t *test_api_post(unsigned port, const char *key, const char *path, const char *body, long *status);
/* Starts `chainwatch serve --listen 127.0.0.1:0 --datadir dd` and the
 * extra options opts (NULL-terminated, may be NULL), with the environment
 * env added (NAME=VALUE, NULL-terminated, may be NULL); its stderr is
 * appended to log (sanitizer reports included: the caller checks them
 * after stopping it). Reads the {"port":N} line serve prints on stdout
 * once it listens: the pid, the port in *port; fails the test when
 * serve does not start. */
pid_t test_serve_start(const char *dd, const char *log, const char *const *opts, const char *const *env,
                       unsigned *port);

/* Stops a serve started by test_serve_start (SIGTERM) and fails the test
 * unless it exits 0 with no sanitizer report in log; the log is then
 * removed, so the next serve of the test starts a clean one. */
void test_serve_stop(pid_t pid, const char *log);

/* Starts anvil (the binary at path) on 127.0.0.1, port 0, not mining
 * (evm_mine mines), chain id 31337, with extra arguments (NULL-ended, or
 * NULL), its output in <dir>/anvil.log; it dies with the test process
 * (PR_SET_PDEATHSIG). Waits for its "Listening on" line and writes
 * http://127.0.0.1:PORT into url; fails the test when it does not start
 * (not installed: scripts/setup). Returns its pid. */
pid_t test_anvil_start(const char *path, const char *dir, const char *const *extra, char url[64]);

/* The tables dbs[0..n) of s, each key and value in key order, into out
 * (replaced; one read transaction): two stores hold the same state exactly
 * when their dumps are byte for byte equal. */
void test_dump_tables(cw_store *s, const store_db *dbs, size_t n, cw_buf *out);

/* What a chainwatch before the consolidator window's index (rulestats.h)
 * leaves of a pool's index: the waiting entries (0xF1) of the sources
 * srcs[0..n) kept past its list, and its count (0xF2), deleted from s
 * (one write transaction). The window no longer sees them until they
 * sweep into the pool again. */
void test_forget_window_index(cw_store *s, const cw_addr *pool, const cw_addr *const *srcs, size_t n);

#endif
