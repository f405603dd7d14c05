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
} account_run_opts;

/* The CLI_EXIT_* codes of watch and replay (cli.h). */
int account_run_watch(const account_run_opts *o);
int account_run_replay(const account_run_opts *o);
/* replay --capture of a Tron capture (o->capture; o->tron set): every
 * trigger in the capture's order through tron_follow and the account
 * engine as watch runs them, the HTTP calls answered from the capture's
 * exchanges (the same request: its recorded replies in order, the last one
 * again once they are used up; a request never recorded is an error that
 * names it). Exit codes as watch; a capture cut short or damaged is
 * replayed up to the damage, then reported with its offset, exit 2. */
int account_run_replay_tron_capture(const account_run_opts *o);

#endif
