/*
 * rest_server.h: a real HTTP server (libmicrohttpd, its own polling thread,
 * bound to 127.0.0.1 only on an ephemeral port) that answers like bitcoind's
 * REST interface (-rest=1) for the endpoints monitor/sources/rest.h uses, serving
 * blocks the test gives it. And a loader for the real regtest blocks.
 *
 * Endpoints (GET only; anything else 405, unknown paths 404):
 *   /rest/chaininfo.json        {"chain":"regtest","blocks":H,"headers":H,
 *                               "bestblockhash":"<display hex>",...}; with no
 *                               chain set, blocks = -1 and a zero hash
 *   /rest/blockhashbyheight/<h>.hex|.bin|.json
 *                               404 "Block height out of range" above the tip,
 *                               400 for a height that is not a number
 *   /rest/block/<display hex>.bin|.hex
 *                               any block added, stale ones too; 404 if unknown
 *   /rest/headers/<display hex>.bin|.hex?count=N
 *                               up to N (1..2000, else 400) headers of the active
 *                               chain starting at that block; empty (200) when
 *                               the block is not in the active chain, as bitcoind
 *
 * Thread-safe: one mutex guards the state, so the test thread may change the
 * chain or inject failures while the server thread answers.
 */
#ifndef CW_TEST_REST_SERVER_H
#define CW_TEST_REST_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rest_server rest_server;

/* Starts listening on 127.0.0.1 on a free port. NULL on failure (after
 * printing why to stderr). */
rest_server *rest_server_start(void);
/* "http://127.0.0.1:PORT", valid until rest_server_stop(). */
const char *rest_server_url(const rest_server *s);
/* Stores a copy of the block under the hash of its 80-byte header. Adding a
 * block already stored is a no-op; a block under 80 bytes is ignored. */
void rest_server_add_block(rest_server *s, const uint8_t *block, size_t len);
/* Sets the active chain (copied): hashes[i] is the block at height i, in
 * internal order. chaininfo, blockhashbyheight and headers follow it; the
 * blocks themselves need not all have been added. n == 0 empties it. */
void rest_server_set_chain(rest_server *s, const uint8_t (*hashes)[32], size_t n);
/* The next `times` requests, whatever their path, answer `http_status` with
 * a short text body (to test errors and retries). times <= 0 cancels. */
void rest_server_fail(rest_server *s, int http_status, int times);
/* How many requests the server has answered, failed ones included. */
size_t rest_server_requests(const rest_server *s);
/* on: every request from now on waits, unanswered, until rest_server_hold
 * (s, false) (a node slow to answer), so a test can act while the client
 * is inside a request (signal it, switch a fault on). The server has one
 * thread: while one request waits, no other is read. */
void rest_server_hold(rest_server *s, bool on);
/* Holds as rest_server_hold(s, true) does, from the request after the
 * n-th answered (n >= 1) on, decided by the server itself: a test that
 * arms it before the client starts catches the client mid-way however
 * fast it runs. rest_server_hold(s, false) releases it (and disarms it). */
void rest_server_hold_at(rest_server *s, size_t n);
/* How many requests wait on rest_server_hold now (0 or 1). */
size_t rest_server_waiting(const rest_server *s);
/* Stops the thread, closes connections and frees everything. NULL is a no-op. */
void rest_server_stop(rest_server *s);

/*
 * The real blocks of a Bitcoin Core v30 regtest node, recorded in
 * ../shared/data/btc/regtest-v30/blk00000.dat.bz2 (de-obfuscated here with
 * the key in xor.dat). Events of that run (events.json): 101 blocks mined,
 * one confirming three payments (09117bbe...), one (70a17254...) mined then
 * invalidated, two on the new branch (reorg), then after a restart one more,
 * 2f0ae58e..., the last mined and the tip.
 *
 * Returns the number of blocks, all of them in file (arrival) order, the
 * stale one included. *blocks[i] (malloc'd, *lens[i] bytes) is each block.
 * *chain is the active chain by height, found by following prev links from
 * genesis and keeping the longest: (*chain)[h] is the hash (internal order)
 * of the block at height h, *chain_len blocks in all (tip = *chain_len - 1).
 * Must run inside a criterion test: a missing or malformed file fails the
 * test (cr_assert). Free with regtest_blocks_free().
 */
size_t regtest_blocks_load(uint8_t ***blocks, size_t **lens, uint8_t (**chain)[32], size_t *chain_len);
/* Frees what regtest_blocks_load() returned (n = its return value). */
void regtest_blocks_free(uint8_t **blocks, size_t *lens, uint8_t (*chain)[32], size_t n);

#endif
