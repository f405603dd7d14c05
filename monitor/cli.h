/*
 * cli.h: the verbs of the chainwatch executable and their shared conventions.
 *
 * Exit codes: 0 success; 1 a runtime failure (I/O, out of memory); 2 a usage
 * error or invalid input (malformed tx/block, invalid address). Machine
 * output is one JSON object per line on stdout; errors are one line on
 * stderr, "chainwatch: <what>: <why>".
 */
#ifndef CW_CLI_H
#define CW_CLI_H

#include <stdbool.h>

#include "chains/err.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };
/* Screening verbs (lookup): the check itself could not be made. Distinct
 * from 1 ("not listed"), so a broken store never reads as a clean result. */
enum { CLI_EXIT_UNCHECKED = 3 };

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

/* Prints "chainwatch: <context>: <message>" to stderr and returns the exit
 * code for the error (2 for input and argument errors, 1 otherwise). */
int cli_fail(const char *context, const cw_err *err);

/* Matches "--name VALUE" or "--name=VALUE" at argv[*i]; on a match sets
 * *value, advances *i past what it used and returns true. A "--name" with no
 * value sets *value to NULL. */
bool cli_opt(int argc, char **argv, int *i, const char *name, const char **value);

bool cli_wants_help(int argc, char **argv);

#endif
