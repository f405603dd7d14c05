/*
 * cli.h: the verbs of the chainwatch executable and their shared conventions.
 *
 * Exit codes: 0 success; 1 a runtime failure (I/O, out of memory); 2 a usage
 * error or invalid input (malformed tx/block, invalid address); 3 a check
 * that could not be made; 4 an import the shrink guard refused; 10-12
 * screen decisions. Machine
 * output is one JSON object per line on stdout; errors are one line on
 * stderr, "chainwatch: <what>: <why>".
 */
#ifndef CW_CLI_H
#define CW_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "chains/err.h"
#include "chains/model.h"
#include "watchlists/store.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };
/* Screening verbs (lookup): the check itself could not be made. Distinct
 * from 1 ("not listed"), so a broken store never reads as a clean result. */
enum { CLI_EXIT_UNCHECKED = 3 };
/* `screen`: the decision, when the check was made (allow is 0). Above 3 so
 * a script testing "non-zero" never reads an error as a decision or the
 * reverse. */
enum { CLI_EXIT_REVIEW = 10, CLI_EXIT_HOLD = 11, CLI_EXIT_BLOCK = 12 };
/* `watchlist import`: refused by the shrink guard (the new list would
 * remove too large a share of the source's addresses, all of them, or has
 * none); the store is unchanged. Distinct from 1 and 2 so a nightly job
 * can page someone instead of retrying. --allow-shrink overrides. */
enum { CLI_EXIT_SHRINK = 4 };

int cmd_decode(int argc, char **argv);
int cmd_address(int argc, char **argv);
int cmd_watchlist(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_replay(int argc, char **argv);
/* `replay --capture FILE` (cli_replay_capture.c). cmd_replay calls the
 * hook first: with --capture among the arguments it runs cmd_replay_capture,
 * with --help it prints blocks_usage and then the capture form; either way
 * it sets *exit_code and returns true. Otherwise it returns false and
 * cmd_replay goes on. */
int cmd_replay_capture(int argc, char **argv);
bool replay_capture_hook(int argc, char **argv, const char *blocks_usage, int *exit_code);
/* Screening (cli_screen.c) and what the monitor learnt of an address
 * (cli_trace.c): read only, beside a running `watch`. */
int cmd_screen(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_trace(int argc, char **argv);

/* ---- shared by the screening verbs (cli_screen.c) ---- */

/* The datadir to use: `given`, else ~/.chainwatch into buf. Returns NULL
 * (after saying so on stderr, for `verb`) when HOME is unset. */
const char *cli_datadir(const char *verb, const char *given, char *buf, size_t cap);
/* Opens the datadir's store read only and begins a read transaction.
 * Returns CLI_EXIT_OK, or CLI_EXIT_UNCHECKED after one line on stderr
 * (missing datadir, no store, a store older than the databases this
 * version reads, LMDB refusing). Close with cli_store_done. */
int cli_store_read(const char *verb, const char *datadir, cw_store **s, store_txn **t);
void cli_store_done(cw_store *s, store_txn *t);
/* Parses an address to screen: Bitcoin (of network `net`, or any when
 * net is CW_NET_ANY from chains/addr.h), EVM or Tron. Returns CLI_EXIT_OK,
 * or CLI_EXIT_USAGE after one line on stderr: a typo must never screen as
 * "not listed", so text chainwatch cannot decode is refused too (other
 * chains' addresses: `watchlist lookup`). */
int cli_screen_address(const char *verb, const char *text, int net, cw_addr *out);
/* Prints a JSON value in canonical form (sorted keys, one line) on stdout. */
int cli_print_json(const char *verb, const json_t *v);

/* Prints "chainwatch: <context>: <message>" to stderr and returns the exit
 * code for the error (2 for input and argument errors, 1 otherwise). */
int cli_fail(const char *context, const cw_err *err);

/* Matches "--name VALUE" or "--name=VALUE" at argv[*i]; on a match sets
 * *value, advances *i past what it used and returns true. A "--name" with no
 * value sets *value to NULL. */
bool cli_opt(int argc, char **argv, int *i, const char *name, const char **value);

/* Monotonic seconds, for progress lines and elapsed times. */
double cli_seconds(void);

bool cli_wants_help(int argc, char **argv);

#endif
