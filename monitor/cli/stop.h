/*
 * stop.h: the one handling of SIGINT and SIGTERM for the long-running verbs
 * (watch, replay, replay --capture): a request to stop, read between units
 * of work (a message, a block, a batch), never an exit from the handler, so
 * what was committed stays whole and the verb ends through its own cleanup.
 */
#ifndef CW_CLI_STOP_H
#define CW_CLI_STOP_H

#include <stdatomic.h>
#include <stdbool.h>

/* Installs the handler for SIGINT and SIGTERM, without SA_RESTART: a
 * blocking poll or read returns EINTR, so a loop waiting on a socket sees
 * the request at once. Clears an earlier request. Call once, before the
 * loop; the handler stays for the life of the process. */
void cli_stop_install(void);
/* True once SIGINT or SIGTERM arrived after cli_stop_install. */
bool cli_stop_requested(void);
/* The flag itself, nonzero once a stop was requested, for code below the
 * CLI that polls it (pipeline_config.stop, account_config.stop,
 * webhook_pass): a stop request is an atomic_int everywhere, read with a
 * relaxed atomic_load (the flag carries only itself). Never NULL; owned
 * here. */
const atomic_int *cli_stop_flag(void);

#endif
