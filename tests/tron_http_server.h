/*
 * tron_http_server.h: a real HTTP server (libmicrohttpd, its own thread,
 * 127.0.0.1 only, an ephemeral port) answering like java-tron's FullNode
 * HTTP API for the calls monitor/sources/tron_http.h makes, POST with a
 * JSON body {"num": N} (GET ?num=N too):
 *   /wallet/getblockbynum                the body set for N, else {}
 *   /wallet/gettransactioninfobyblocknum the infos set for N, else []
 *   /wallet/getnowblock                  the body of the highest N set
 * Other paths 404; a body without a whole-number "num" 400 (java-tron
 * answers {"Error": ...} with 200 there; chainwatch never sends one).
 * Thread-safe: the test changes blocks and injects failures while the
 * server answers.
 */
#ifndef CW_TEST_TRON_HTTP_SERVER_H
#define CW_TEST_TRON_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tron_server tron_server;

tron_server *tron_server_start(void);
const char *tron_server_url(const tron_server *s);
/* Sets (copies) block N's getblockbynum body and its infos body (NULL: []);
 * a body of NULL removes the block. */
void tron_server_set(tron_server *s, int64_t number, const char *block_body, const char *infos_body);
/* The next `times` requests answer `status` with a short text body. */
void tron_server_fail(tron_server *s, int status, int times);
/* Each answer waits ms first (0: none). */
void tron_server_delay(tron_server *s, int ms);
/* refuse: the server stops listening (connections are refused, as by a
 * node that is down); false: it listens again on the same port. */
void tron_server_refuse(tron_server *s, bool refuse);
/* Requests answered (failed ones too), and those for one path. */
size_t tron_server_requests(const tron_server *s, const char *path);
void tron_server_stop(tron_server *s);

#endif
