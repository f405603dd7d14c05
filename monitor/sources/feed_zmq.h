/*
 * feed_zmq.h: the Bitcoin Core ZeroMQ subscriber (rawtx, rawblock, sequence).
 *
 * bitcoind publishes on PUB sockets with no replay and no acknowledgement:
 * a slow subscriber loses messages silently (SNDHWM), and a restart resets
 * every counter to 0. The only evidence of loss is the 4-byte counter frame,
 * so every message goes through the checks of feed_check.h, which report
 * breaks as GAP events instead of hiding them; the caller decides how to
 * recover (feed_dispatch.h: the pipeline resyncs from the node's REST
 * interface, rest.h). Malformed messages are
 * reported as BAD events and never stop the feed: a monitor must outlive one
 * garbage frame. This file owns only the sockets.
 *
 * One feed is used from one thread (libzmq sockets are not thread-safe);
 * endpoints are copied; tap_ctx is borrowed and must outlive the feed.
 */
#ifndef CW_FEED_ZMQ_H
#define CW_FEED_ZMQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/err.h"
#include "feed_check.h"

typedef struct {
    /* NULL = topic not subscribed. The same endpoint string (compared with
     * strcmp) may serve several topics: one SUB socket per distinct
     * endpoint, subscribed to each of its topics, as bitcoind shares one PUB
     * socket among the topics of one endpoint. */
    const char *endpoint[FEED_TOPIC_COUNT];
    /* 0 = 100000. A connected block arrives as a burst of one rawtx per
     * transaction; libzmq's default of 1000 would make bitcoind drop them. */
    int rcvhwm;
    /* 0 = 16 MB. A rawblock can exceed 4 MB. A larger frame makes libzmq
     * drop the connection (it reconnects); nothing is reported for it. */
    int64_t maxmsgsize;
    /* NULL = none. Called from feed_next with every whole message read,
     * before it is checked (so BAD messages too), e.g. to record it
     * (capture.h). The message is valid only during the call. */
    void (*tap)(void *tap_ctx, const feed_message *m);
    void *tap_ctx;
} feed_config;

typedef struct feed feed;

/* Creates a context and one SUB socket per distinct endpoint and connects
 * them (ZMQ_LINGER 0, RCVHWM, MAXMSGSIZE, TCP keepalive, reconnect every
 * 100 ms backing off to 5 s; ZMQ_IPV6 for endpoints with a '['). connect is
 * asynchronous: an endpoint with nothing listening is not an error, it is
 * retried forever. Refuses (CW_EARG, *out untouched) a NULL cfg/out, a
 * config with no endpoint, a negative rcvhwm or maxmsgsize, and an endpoint
 * libzmq cannot parse (naming it); CW_ENOMEM / CW_EIO when libzmq fails. */
cw_code feed_open(const feed_config *cfg, feed **out, cw_err *err);

/* Waits up to timeout_ms (-1 = forever, 0 = just look) for one message over
 * all sockets and fills *ev with one event, setting *got. *got = false with
 * CW_OK on timeout and when a signal interrupted the wait (EINTR), so the
 * caller can check its stop flag and call again.
 *
 * Each message goes through feed_checker_take (feed_check.h), with the
 * topics of the endpoint it arrived on: a GAP event comes first and, on the
 * next call (without waiting), the MSG itself: nothing is dropped. BAD
 * events are counted and the feed goes on. A MSG's body is owned by the
 * feed and valid until the next feed_next or feed_close call. CW_EARG for
 * NULL arguments; CW_EIO when libzmq fails otherwise (e.g. the context was
 * terminated). */
cw_code feed_next(feed *f, int timeout_ms, feed_event *ev, bool *got, cw_err *err);

/* Counters since feed_open. */
void feed_stats_get(const feed *f, feed_stats *out);

/* The counter of the last message seen on a topic, for persisting across
 * restarts (false if none yet), and restoring it: after feed_set_last the
 * next message is checked against it, so what was missed while chainwatch
 * was down shows up as a gap (or a restart). */
bool feed_get_last(const feed *f, feed_topic t, uint32_t *seq);
void feed_set_last(feed *f, feed_topic t, uint32_t seq);

/* Whether a MSG is held behind the GAP just returned: the next feed_next
 * returns it without waiting. A caller that stops should take it first. */
bool feed_has_pending(const feed *f);

/* Closes the sockets (linger 0: nothing waits) and the context. NULL is a
 * no-op. */
void feed_close(feed *f);

#endif
