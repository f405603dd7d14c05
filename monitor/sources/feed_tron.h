/*
 * feed_tron.h: java-tron's native message queue (event.subscribe.native,
 * a ZeroMQ PUB): 2 frames per message, [trigger name][JSON], no counter.
 *
 * Design note. Nothing in the wire format says a message was lost, so loss
 * is seen from the chain itself:
 * - block-number continuity: blockTrigger N after N-2 means N-1's was lost;
 * - a block's transaction count: blockTrigger carries transactionSize and
 *   transactionList, so the block is whole only when a transactionTrigger
 *   for each listed tx has come (in either order: java-tron has posted
 *   them before and after the blockTrigger across versions);
 * - a transactionTrigger that cannot name every transfer (logList null:
 *   ethCompatible off; older java-tron's null fromAddress) makes its block
 *   not whole either.
 * Blocks come out in number order: a whole block as FEED_TRON_BLOCK, the
 * others as FEED_TRON_GAP ranges the caller reads over HTTP (tron_http.h);
 * a block is declared a gap once a later blockTrigger arrives while it is
 * not whole. Duplicates are dropped (counted); a blockTrigger for a number
 * already passed with another hash (the node switched forks) comes out
 * again as a block, which the caller treats as a replacement; triggers for
 * blocks already passed are dropped as late (counted): the gap covered
 * them. latestSolidifiedBlockNumber (blockTrigger, solidityTrigger) going
 * up is FEED_TRON_SOLIDIFIED. A malformed message is FEED_TRON_BAD
 * (counted) and never stops the feed.
 *
 * One feed per thread (libzmq sockets are not thread-safe).
 */
#ifndef CW_FEED_TRON_H
#define CW_FEED_TRON_H

#include <stdbool.h>
#include <stdint.h>

#include "chains/err.h"
#include "chains/tron/api.h"

typedef struct {
    const char *endpoint;  /* e.g. tcp://127.0.0.1:5555 (copied) */
    int rcvhwm;            /* 0: 100000 (a block is a burst of triggers) */
    int64_t maxmsgsize;    /* 0: 16 MB */
    unsigned max_pending;  /* blocks held while not whole; 0: 64 (older ones become gaps) */
    /* --record: called with every message read off the socket (malformed
     * ones too) before it is assembled: its frame count and its first
     * min(nframes, 3) frames, valid during the call. NULL: none. */
    void (*tap)(void *ctx, unsigned nframes, const void *const frame[3], const size_t len[3]);
    void *tap_ctx;
} feed_tron_config;

typedef enum {
    FEED_TRON_BLOCK = 1,   /* ev->block: whole from triggers (parent_known false) */
    FEED_TRON_GAP,         /* blocks gap_from..gap_to: read them over HTTP (ev->why says why) */
    FEED_TRON_SOLIDIFIED,  /* ev->solidified went up */
    FEED_TRON_BAD,         /* a malformed message (ev->why), skipped */
} feed_tron_kind;

typedef struct {
    feed_tron_kind kind;
    tron_block block;      /* BLOCK: owned by the feed until the next call */
    int64_t gap_from, gap_to;
    int64_t solidified;
    char why[CW_ERR_MSG_MAX];
} feed_tron_event;

typedef struct {
    uint64_t messages, blocks, gaps, gap_blocks, bad, duplicates, late, replaced;
} feed_tron_stats;

typedef struct feed_tron feed_tron;

/* Connects a SUB socket (subscribed to blockTrigger, transactionTrigger and
 * solidityTrigger; ZMQ_LINGER 0, TCP keepalive, reconnect). Nothing
 * listening is not an error (libzmq retries). CW_EARG for a bad endpoint
 * (naming it), CW_ENOMEM / CW_EIO from libzmq. */
cw_code feed_tron_open(const feed_tron_config *cfg, feed_tron **out, cw_err *err);
void feed_tron_close(feed_tron *f);

/* Waits up to timeout_ms (-1 forever, 0 just look) and sets *got with one
 * event (several may come from one message: the next call returns them
 * without waiting). *got false on timeout or EINTR. CW_EIO when libzmq
 * fails. */
cw_code feed_tron_next(feed_tron *f, int timeout_ms, feed_tron_event *ev, bool *got, cw_err *err);

/* Takes one message as the socket would give it (topic, JSON): the
 * assembly above without ZeroMQ, for tests, replay and the bench. Events
 * it makes are returned by feed_tron_next (timeout 0). */
void feed_tron_take(feed_tron *f, const char *topic, size_t topic_n, const char *json, size_t json_n);

/* The highest block number passed (emitted as a block or covered by a
 * gap), -1 before the first blockTrigger; setting it (a restart: the
 * store's tip) makes blocks after it come out, earlier ones dropped. */
int64_t feed_tron_last(const feed_tron *f);
void feed_tron_set_last(feed_tron *f, int64_t number);

void feed_tron_stats_get(const feed_tron *f, feed_tron_stats *out);

#endif
