/*
 * cli.h: the verbs of the chainwatch executable and their shared conventions.
 *
 * Exit codes: 0 success; 1 a finding where the verb defines one (lookup's
 * "not listed", verify's bad record, cases show's trail that does not
 * verify), or a runtime failure that is not the store's (the alerts file,
 * a capture or blocks file, standard output, out of memory, an
 * interruption where the verb says so); 2 a usage error or invalid input
 * (malformed tx/block, invalid address); 3 a store error: the store could
 * not be opened, read or written, is damaged or in another format, so
 * nothing was checked (cli_exit_status: CW_ESTORE, CW_EFULL, CW_EDAMAGED,
 * CW_EVERSION); 4 an import the shrink guard refused; 5 a case action
 * refused in the case's state; 10-12 screen decisions; 130 replay
 * interrupted. Machine
 * output is one JSON object per line on stdout; errors are one line on
 * stderr, "chainwatch: <what>: <why>". Each verb reads its options with
 * the one table-driven parser of args.h; SIGINT/SIGTERM are stop.h's.
 * Every verb exits 2 on a usage error, 0 for --help, and 3 on a store
 * error (verify and apikey read no store); besides that:
 *   decode, address        0 ok; 2 malformed input; 1 I/O
 *   watchlist import       0; 4 shrink guard; else cli_fail's code
 *   watchlist lookup       0 any listed; 1 none listed ("not listed", the
 *                          one verb where 1 is an answer); 2 bad input;
 *                          3 the store could not be read or the answers
 *                          not written
 *   watchlist stats, diff, export, check
 *                          0; 3 the store unreadable (check: or damage
 *                          found; export: 1 when stdout fails)
 *   init, checkpoint       0; else cli_fail's code (1, 2 or 3)
 *   watch                  0 stopped by SIGINT/SIGTERM; 1 a failure that
 *                          is not the store's (the feed, the alerts file);
 *                          3 a store error stops it (the final flush at
 *                          a stop request included)
 *   verify                 0 every record valid and one clean chain; 1 not;
 *                          2 an unreadable file, key or checkpoint
 *   replay                 0; 2 input refused or skipped (--allow-gaps);
 *                          1 a failure (a block refused, the alerts file);
 *                          3 a store error; 130 SIGINT/SIGTERM
 *   replay --capture       0; 2 a bad or cut capture or refused messages;
 *                          1 the alerts file, interruption; 3 a store error
 *   screen                 0 allow, 10 review, 11 hold, 12 block; 1; 3
 *   cluster, trace         0; 2 bad input; 3 the store unreadable (trace: 1
 *                          the graph could not be written)
 *   cases                  0; 1 a failure (show: the audit trail does not
 *                          verify; deliver --until-idle stopped by
 *                          SIGINT/SIGTERM with events owed); 2 bad input
 *                          or no such case (deliver: another deliverer
 *                          holds webhooks.lock); 3 a store
 *                          error (deliver: one that recurs on every pass,
 *                          store_error_passes, or one that persists with
 *                          --until-idle, others are retried; webhooks.lock
 *                          that cannot be opened);
 *                          5 release/block refused in the case's state,
 *                          report of a case that is not blocked
 *   serve                  0 stopped by SIGINT/SIGTERM; 1 a failure (the
 *                          port); 2 usage, --webhook's lock held; 3 store
 * cli_finish_output turns a success into 1 when stdout could not be written.
 * A --datadir that does not exist is named, with the status of the first
 * thing the verb opens there: 3 the store (or webhooks.lock), 1 the signing
 * key or apikeys, 2 verify's public key.
 */
#ifndef CW_CLI_H
#define CW_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "chains/buf.h"
#include "chains/err.h"
#include "chains/json.h"
#include "chains/model.h"
#include "watchlists/store/store.h"
#include "watchlists/tokens.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };
/* A store error, every verb: the check itself could not be made. Distinct
 * from 1 ("not listed", a finding, a file of the verb's own), so a broken
 * store never reads as a clean result nor as a result at all. */
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
/* A signed statement of the datadir's audit trail head (checkpoint.c). */
int cmd_checkpoint(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_replay(int argc, char **argv);
/* `replay --capture FILE` (replay_capture.c). cmd_replay calls the hook
 * first: with --capture among the options it runs cmd_replay_capture, sets
 * *exit_code and returns true; otherwise it returns false and cmd_replay
 * goes on. `replay --help` prints the blocks form, then calls
 * cmd_replay_capture for the capture form's help. */
int cmd_replay_capture(int argc, char **argv);
bool replay_capture_hook(int argc, char **argv, int *exit_code);
/* Screening (screen.c) and what the monitor learnt of an address
 * (cluster.c, trace.c): read only, beside a running `watch`. */
int cmd_screen(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_trace(int argc, char **argv);
/* The hold queue, its audit trails, report drafts and webhooks (cases.c). */
int cmd_cases(int argc, char **argv);
/* The HTTP API alone (serve.c) and its keys (apikey.c). */
int cmd_serve(int argc, char **argv);
int cmd_apikey(int argc, char **argv);

/* ---- the API's options, shared by serve and watch --api (serve.c) ---- */
typedef struct api_server api_server;
typedef struct api_status api_status;
typedef struct {
    bool allow_remote;
    int64_t threads;
    uint64_t max_body, timeout;
    int64_t rate;
    bool writable; /* routes that write (api_write): serve then opens the store read-write */
    int64_t reply_rate; /* --api-reply-rate: bytes/s a reply may take past --api-timeout */
} cli_api_opts;
/* writable: the hold queue's routes record reviewers' decisions
 * (monitor/api/cases_api.h), in serve and in watch --api alike. */
#define CLI_API_OPTS_INIT {false, 2, (uint64_t)1 << 20, 10, 0, true, 16384}
/* Fills t (a cli_arg[7] of args.h, the last the table's end) with the API's options
 * pointing into o, for ARG_MORE in a verb's table (args.h). */
void cli_api_table(cli_api_opts *o, void *t);
typedef struct webhook_runner webhook_runner;
/* Makes, registers (api_register_all) and starts the server on s for
 * listen; status: a watch's live facts or NULL; flows_template: the verb's
 * flows_opts (args_flows.h) or NULL; hooks: the verb's webhook deliverer
 * (cli_webhook_start) or NULL, for /healthz and /metrics: start it first
 * and stop it after api_server_free. */
cw_code cli_api_start(const cli_api_opts *o, const char *listen, const char *datadir, cw_store *s, api_status *status,
                      const void *flows_template, const char *feed_name, webhook_runner *hooks, api_server **out,
                      cw_err *err);

/* ---- webhook delivery in the verb's process, shared by serve and watch
 * (serve.c): the deliverer of monitor/records/webhook.h on a thread ---- */
typedef struct {
    const char *url;       /* --webhook URL, or NULL: no delivery here */
    int64_t max_tries;     /* --webhook-max-tries */
    int64_t retry_base_ms; /* --webhook-retry-base-ms */
} cli_webhook_opts;
#define CLI_WEBHOOK_OPTS_INIT {NULL, 8, 1000}
/* Fills t (a cli_arg[4] of args.h, the last the table's end) with the
 * webhook options pointing into o, each also a chainwatch.conf key (for
 * watch; serve reads no file). */
void cli_webhook_table(cli_webhook_opts *o, void *t);
/* Starts delivery of the datadir's webhook outbox to o->url on a thread
 * (webhook_runner_start over s) when o->url is set; *out stays NULL when
 * it is not. CW_EARG: the URL is not http(s) (webhook_url_valid), or
 * another deliverer holds the datadir's webhooks.lock; else the runner's
 * errors. Stop with webhook_runner_stop before closing s (and after
 * api_server_free when the API was given it). */
cw_code cli_webhook_start(const cli_webhook_opts *o, cw_store *s, const char *datadir, webhook_runner **out,
                          cw_err *err);

/* ---- shared by the screening verbs (screen.c) ---- */

/* The datadir to use: `given` itself when not NULL (returned as is, buf
 * untouched), else ~/.chainwatch written into the caller's buf (cap bytes)
 * and buf returned: the result lives as long as `given` or buf. Returns
 * NULL (after one line on stderr, for `verb`) when HOME is unset or the
 * path does not fit in cap. */
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
/* What cluster and trace do first: --network (netname, or NULL: any), the
 * address (cli_screen_address), then the store (cli_store_read). Returns
 * CLI_EXIT_OK with *a, *s and *t set, or the exit code after one line on
 * stderr (text NULL: "expected an address"). */
int cli_address_store(const char *verb, const char *text, const char *netname, const char *datadir, cw_addr *a,
                      cw_store **s, store_txn **t);
/* A check that could not be made: one line, CLI_EXIT_UNCHECKED (3), or
 * CLI_EXIT_FAIL for CW_ENOMEM. */
int cli_unchecked(const char *verb, const cw_err *err);
/* Prints a JSON value in canonical form (sorted keys, one line) on stdout. */
int cli_print_json(const char *verb, const json_t *v);

/* The exit status for an error code: the one mapping of cw_err codes to
 * exit statuses. 3 (CLI_EXIT_UNCHECKED) for the store's errors: CW_ESTORE
 * (LMDB refused: at open, e.g. a map that cannot be mapped under ulimit -v
 * or a datadir whose store cannot be opened, or a read or write), CW_EFULL
 * (a map still full after store_write grew it), CW_EDAMAGED, CW_EVERSION;
 * 1 for CW_EIO (files and sockets other than the store: the alerts file,
 * a capture, the node), CW_ENOMEM and CW_ENOTFOUND (a missing block); 2
 * for input and argument errors (every other code); 0 for CW_OK. */
int cli_exit_status(cw_code code);
/* Prints "chainwatch: <context>: <message>" to stderr (with
 * cli_store_format_hint's line for CW_EVERSION) and returns
 * cli_exit_status(err->code). The read verbs (lookup, stats, diff, export,
 * check, screen, cluster, trace) answer every error of reading the store
 * with 3 through cli_unchecked (1 is lookup's "not listed"). */
int cli_fail(const char *context, const cw_err *err);
/* After the error line of a store in another format (CW_EVERSION, which
 * every verb answers with 3): a second line, "chainwatch: <context>: "
 * STORE_FORMAT_HINT, saying what to do. No-op for every other code. */
void cli_store_format_hint(const char *context, const cw_err *err);

/* ---- checked output (out.c) ----
 * Every verb's output is checked: a write that fails (a full disk, a closed
 * pipe) is one line on stderr, "chainwatch: <verb>: writing standard output:
 * <why>" (once per run), and a non-zero exit, never 0. */

/* False once a write to stdout has failed (reported as above): verbs that
 * write much call it in their loops to stop early. */
bool cli_out_ok(const char *verb);
/* Writes b to stdout and empties it: CLI_EXIT_OK, or CLI_EXIT_FAIL once a
 * write failed (reported as above), so a verb writing thousands of lines
 * stops at once rather than writing on into a full disk. */
int cli_write_buf(const char *verb, cw_buf *b);
/* One JSON line: ends j's line (j writes into out) and writes out as
 * cli_write_buf does; when j failed (out of memory) writes nothing and
 * reports it as `what` failing (cli_fail). */
int cli_write_json_line(const char *verb, const char *what, cw_json *j, cw_buf *out);

/* A raw signed Ethereum tx from `source` (decode.c): hex with or without
 * 0x, "-" (standard input) or @FILE / FILE (raw bytes or hex text) into
 * raw; errors printed; CLI exit code. */
int cli_eth_raw_tx(const char *verb, const char *source, size_t max_bytes, cw_buf *raw);
/* The built-in token table plus `path` (NULL: none) into *t (decode.c);
 * errors printed (file:line); CLI exit code. tokens_free() it on success. */
int cli_tokens_load(const char *verb, const char *path, tokens_table *t);
/* Flushes stdout. False (after the report) when any write to it failed. */
bool cli_out_flush(const char *verb);
/* What main does after every verb: cli_out_flush and, when stdout is a
 * regular file, fsync (what was redirected there is kept); then the exit
 * code: rc
 * unchanged when everything was written; else CLI_EXIT_FAIL in place of a
 * success or a screen decision (an answer not delivered), and an error code
 * rc kept (lookup's 3 stays 3). */
int cli_finish_output(const char *verb, int rc);
/* Closes a file a verb wrote for the user to keep: fflush, fsync (when a
 * regular file), fclose, in that order; any failure is CW_EIO "writing
 * <path>: <why>". The FILE is closed either way. */
cw_code cli_close_file(FILE *f, const char *path, cw_err *err);

/* User text for a message: control characters written as \t, \n, \r or
 * \xHH, so the message stays one line and a terminal shows what was typed.
 * Cut to fit cap (5 bytes or more). Returns out. */
const char *cli_quote(const char *text, char *out, size_t cap);

/* ---- numbers in flags and chainwatch.conf (num.c) ----
 * The one reading of numeric options: the whole value is the number, or it
 * is refused (never atoi's 0 for "abc" or 1 for "1G"). No leading or
 * trailing spaces, no '+', a '-' only where min is negative, no overflow.
 * Each returns CW_OK, or CW_EARG with a message quoting the value, like
 * "'abc' is not a whole number" or "'9' is out of range (1 to 8)".
 *   int      [-]digits, within min..max
 *   size     digits with an optional suffix k, M, G or T (either case,
 *            optionally followed by "iB"): powers of 1024, so 64k is 65536
 *            and 1G 1073741824; no suffix is bytes; no fractions (1536M)
 *   seconds  digits with an optional suffix s, m, h or d
 *   share    a percentage (1%, 0.5%) or a fraction (0.01), 0 to 1, exact to
 *            a millionth, as parts per million (no floating point); a bare
 *            number of 1 or more is refused as ambiguous ("1" meant 1%
 *            far more often than 100%): 100% is written with its '%'
 *   percent  a number of percent, 0 to 100, with or without '%' (10, 0.5%),
 *            exact to a ten-thousandth, as parts per million
 *   btc      an amount in BTC (0.0001), exact to a satoshi, at most 21M */
cw_code cli_parse_int(const char *v, int64_t min, int64_t max, int64_t *out, cw_err *err);
cw_code cli_parse_size(const char *v, uint64_t min, uint64_t max, uint64_t *out, cw_err *err);
cw_code cli_parse_seconds(const char *v, uint64_t min, uint64_t max, uint64_t *out, cw_err *err);
cw_code cli_parse_share(const char *v, uint32_t *ppm, cw_err *err);
cw_code cli_parse_percent(const char *v, uint32_t *ppm, cw_err *err);
cw_code cli_parse_btc(const char *v, uint64_t *sats, cw_err *err);
/* Flags and chainwatch.conf reach these through the option tables of
 * args.h, which name the option in every refusal. */

/* Seconds on CLOCK_MONOTONIC (arbitrary origin: only differences mean
 * anything), for progress lines and elapsed times. Never fails. */
double cli_seconds(void);

/* Lowers the calling thread's CPU priority by n (0 to 19, as nice(1):
 * niceness now + n, at most 19), for a backfill that must not take the
 * CPU from a screening API beside it; with idle, also moves it to Linux's
 * SCHED_IDLE policy (as chrt --idle 0, systemd's CPUSchedulingPolicy=idle):
 * the kernel then runs it only when no other task wants that CPU, and a
 * request waking the API takes the CPU from it at once, where a nice 19
 * task can still finish its slice first. Threads started after inherit
 * both: call it before starting any. n == 0 and !idle is a no-op. Returns
 * CLI_EXIT_OK, or CLI_EXIT_FAIL after one line on stderr naming verb and
 * the option (the priority was not lowered: the caller stops rather than
 * run at the priority it was told not to take). */
int cli_nice(const char *verb, int64_t n, bool idle);

/* True when any of argv[0..argc) is exactly --help or -h, wherever it
 * stands (also as another option's value, also after "--"): help wins over
 * every other argument (args.c). */
bool cli_wants_help(int argc, char **argv);

#endif
