/* rest_node.c: a node for `scripts/bench api`'s watch runs.
 *
 * `watch --rest` catching up from height 0 is how an operator backfills a
 * datadir beside a screening API (README: with --cpu-idle). The bench needs
 * a node that serves a long chain over bitcoind's REST interface without a
 * bitcoind: this loads a blocks/ directory (cw_genchain's, read by the
 * blocksdir module as `replay` reads it) into the tests' REST server
 * (tests/rest_server.h: libmicrohttpd on 127.0.0.1, an ephemeral port) and
 * serves its best chain until SIGINT or SIGTERM.
 *
 *   cw_restnode BLOCKSDIR [NETWORK]   NETWORK: regtest (default) or another
 *                                     cw_net name; prints "listening on port
 *                                     N, tip H" once every block is loaded
 *
 * Every block is held in memory (the 1,002 x 1,500-tx bench chain: 520 MB):
 * a request is answered without touching the disk, as a node with the
 * chain in its cache would.
 */
#define _POSIX_C_SOURCE 200809L /* sigwait */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/buf.h"
#include "monitor/sources/blocksdir.h"
#include "tests/rest_server.h"

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: cw_restnode BLOCKSDIR [NETWORK]\n");
        return 2;
    }
    cw_net net = CW_NET_REGTEST;
    if (argc == 3 && !cw_net_from_name(argv[2], &net)) {
        fprintf(stderr, "cw_restnode: unknown network '%s'\n", argv[2]);
        return 2;
    }
    blocksdir *bd;
    blocksdir_info info;
    cw_err err = {0};
    if (blocksdir_open(argv[1], net, &bd, &info, &err)) {
        fprintf(stderr, "cw_restnode: %s\n", err.msg);
        return 1;
    }
    if (info.best_height < 0 || info.first_height != 0) {
        fprintf(stderr, "cw_restnode: %s holds no chain from height 0\n", argv[1]);
        blocksdir_close(bd);
        return 1;
    }
    /* SIGINT and SIGTERM blocked in every thread (the server's inherits the
     * mask) and taken by sigwait below: none is delivered to a thread that
     * does not wait for it */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    size_t n = (size_t)info.best_height + 1;
    uint8_t(*chain)[32] = malloc(n * sizeof *chain);
    rest_server *s = rest_server_start();
    if (chain == NULL || s == NULL) {
        fprintf(stderr, "cw_restnode: out of memory, or no server\n");
        free(chain), rest_server_stop(s), blocksdir_close(bd);
        return 1;
    }
    cw_buf b = CW_BUF_INIT;
    for (size_t h = 0; h < n; h++) {
        if (!blocksdir_hash_at(bd, (int64_t)h, chain[h]) || blocksdir_read(bd, (int64_t)h, &b, &err)) {
            fprintf(stderr, "cw_restnode: block %zu: %s\n", h, err.msg[0] ? err.msg : "not on the best chain");
            cw_buf_free(&b), free(chain), rest_server_stop(s), blocksdir_close(bd);
            return 1;
        }
        rest_server_add_block(s, b.p, b.n);
    }
    cw_buf_free(&b);
    blocksdir_close(bd);
    rest_server_set_chain(s, (const uint8_t(*)[32])chain, n);
    free(chain);
    const char *url = rest_server_url(s);
    printf("listening on port %s, tip %zu\n", strrchr(url, ':') + 1, n - 1);
    fflush(stdout);
    int sig;
    sigwait(&stop, &sig);
    rest_server_stop(s);
    return 0;
}
