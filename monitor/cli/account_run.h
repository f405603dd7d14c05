/*
 * account_run.h: `watch --chain ethereum|tron` and `replay --chain ethereum`:
 * the account-chain engine (monitor/engine/account.h) over an Ethereum
 * node's JSON-RPC (monitor/sources/eth_follow.h), with the same keys,
 * store, alerts file and ZeroMQ publisher as the Bitcoin verbs. watch.c
 * and replay.c parse the options (their tables) and call these.
 */
#ifndef CW_CLI_ACCOUNT_RUN_H
#define CW_CLI_ACCOUNT_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "monitor/engine/rules/rules.h"
#include "cli.h"
#include "watchlists/labels.h"

typedef struct {
    const char *datadir, *alerts, *pub, *rpc, *tokens;
    int64_t rpc_rate;        /* requests per second, 0: unlimited */
    int64_t confirmations;   /* >= 1 */
    bool finalized;
    int64_t poll_ms;         /* watch: how often the node is asked */
    int64_t start;           /* watch: first block of an empty datadir, -1: the followed head */
    uint64_t status_interval; /* watch: seconds between status lines, 0: off */
    int64_t from, to;        /* replay: the range (to -1: the node's head) */
    int64_t batch;           /* replay: blocks per write transaction */
    unsigned hops;           /* account exposure: follow this many transfers (0: off) */
    const labels *labels;    /* services that stop it, or NULL */
    uint32_t min_share_ppm, hold_share_ppm; /* indirect_exposure records (account.h) */
    /* --chain tron (watch only): java-tron's native queue and HTTP API
     * (monitor/sources/tron_follow.h) instead of --rpc */
    bool tron;
    const char *zmq_tron, *tron_http;
    /* --chain tron: watch --record FILE appends the queue's messages and
     * the HTTP replies used to a capture (capture.h version 2); replay
     * --capture FILE runs such a capture instead of the node (no network) */
    const char *record, *capture;
    /* The pattern rules (rules/rules.h) on confirmed blocks, or NULL: off.
     * Set after the positional fields above (watch.c, replay.c). */
    const rules_config *rules;
    /* --chain ethereum (watch): the deepest reorg followed (account.h's
     * max_reorg; 0: its default); the same record and replay --capture
     * work as for tron, every JSON-RPC exchange in the capture */
    int64_t max_reorg;
    /* watch --webhook: the webhook outbox delivered by this process (cli.h);
     * NULL or no URL: none */
    const cli_webhook_opts *webhook;
    /* replay --capture of a Tron capture (of an Ethereum one: the
     * confirmations, finalized and max_reorg bits): which of the options
     * above the command line gave (ACCOUNT_GIVEN_*): one not given takes
     * the capture's settings record's value, one given must equal it */
    unsigned given;
    /* --chain tron (watch): the native queue's ZeroMQ receive high-water
     * mark (feed_tron.h; 0: its default) */
    int64_t rcvhwm;
    /* watch --log-level: "error", "warn", "info" or "debug", the lines
     * logged up to it; NULL: info */
    const char *log_level;
} account_run_opts;

#define ACCOUNT_GIVEN_START 1u      /* --start-height */
#define ACCOUNT_GIVEN_HOPS 2u       /* --hops, or --clusters off (0) */
#define ACCOUNT_GIVEN_MIN_SHARE 4u  /* --min-exposure, or --clusters off */
#define ACCOUNT_GIVEN_HOLD_SHARE 8u /* --hold-exposure, or --clusters off */
#define ACCOUNT_GIVEN_CONFIRMATIONS 16u /* --confirmations */
#define ACCOUNT_GIVEN_FINALIZED 32u     /* --finalized */
#define ACCOUNT_GIVEN_MAX_REORG 64u     /* --max-reorg */

/* The CLI_EXIT_* codes of watch and replay (cli.h). */
int account_run_watch(const account_run_opts *o);
int account_run_replay(const account_run_opts *o);
/* replay --capture of a Tron capture (o->capture; o->tron set): every
 * trigger in the capture's order through tron_follow and the account
 * engine as watch runs them, the HTTP calls answered from the capture's
 * exchanges (the same request: its recorded replies in order, the last one
 * again once they are used up; a request never recorded is an error that
 * names it). With the settings the recording ran with (its settings
 * record, capture_settings.h: start, confirmations or finalized, max
 * reorg, --tokens bytes, exposure); before anything is replayed it
 * refuses (exit 2, naming the setting, the recorded and the given value)
 * an option in o->given that differs, pattern rules or --labels other
 * than the recording's, a datadir whose tip is not the one the recording
 * began on (height and hash) or a node whose chain id is not the recorded
 * one, and a settings record that is cut or damaged (with its byte
 * offset). A settings record after the first is a watch started again on
 * the same file: that session is replayed as the live one ran (its
 * settings checked the same way). A capture written before settings were
 * recorded (its first record is no settings record) is replayed with
 * the options given, unchecked, after a warning. Exit codes as watch; a
 * capture cut short or damaged after its settings record is replayed up
 * to the damage, then reported with its offset, exit 2. */
int account_run_replay_tron_capture(const account_run_opts *o);
/* replay --capture of an Ethereum capture (o->capture): read through
 * first, and refused (exit 2, naming the byte offset) when it is cut or
 * damaged, before anything is replayed; then watch's polls over the
 * capture's exchanges, each request answered by the next recorded
 * exchange after checking it is the same request (no network), with the
 * options the recording ran with (its settings record). Until the
 * exchanges are used up: the live run's records, all but seen_at, sig and
 * prev. A replay that asks anything else than the live run did stops
 * there (exit 2, naming the offset). A settings record after the first
 * (watch started again on the same file) starts the next session as the
 * live run did; the datadir's tip must then be the recorded one. A
 * --confirmations, --finalized or --max-reorg in o->given that differs
 * from a session's recorded one is refused before that session (exit 2,
 * naming the setting, the recorded and the given value). */
int account_run_replay_eth_capture(const account_run_opts *o);

#endif
