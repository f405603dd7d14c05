/*
 * feed_zmq.h: the Bitcoin Core ZeroMQ subscriber (rawtx, rawblock, sequence).
 *
 * bitcoind publishes on PUB sockets with no replay and no acknowledgement:
 * a slow subscriber loses messages silently (SNDHWM), and a restart resets
 * every counter to 0. The only evidence of loss is the 4-byte counter frame,
 * so this layer checks it per topic and reports breaks as GAP events instead
 * of hiding them; the caller decides how to recover (JSON-RPC resync, see
 * FORMATS.md section 1). Malformed messages are reported as BAD events and
 * never stop the feed: a monitor must outlive one garbage frame.
 *
 * One feed is used from one thread (libzmq sockets are not thread-safe).
 */
#ifndef CW_FEED_ZMQ_H
#define CW_FEED_ZMQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/err.h"

typedef enum { FEED_RAWTX = 0, FEED_RAWBLOCK, FEED_SEQUENCE, FEED_TOPIC_COUNT } feed_topic;

/* "rawtx", "rawblock", "sequence" (the exact topic frames); "?" for any
 * other value, so it is safe to call on a BAD event's topic. */
const char *feed_topic_name(feed_topic t);

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
} feed_config;

typedef enum { FEED_EV_MSG = 1, FEED_EV_GAP, FEED_EV_BAD } feed_event_kind;

typedef struct {
    feed_event_kind kind;
    /* MSG and GAP: the topic. BAD: the topic when the topic frame was one of
     * the three names, else FEED_TOPIC_COUNT. */
    feed_topic topic;
    /* MSG: the body frame, owned by the feed, valid until the next
     * feed_next or feed_close call. NULL/0 for GAP and BAD. */
    const uint8_t *body;
    size_t len;
    uint32_t seq;      /* MSG: the counter; GAP: the counter that came */
    uint32_t expected; /* GAP: last + 1 (mod 2^32) */
    /* GAP: the counter went back (to 0, or below `expected` when the
     * restart's first messages were missed): bitcoind restarted. See
     * feed_seq_gap. 0xffffffff -> 0 is no gap at all. */
    bool restart;
    char reason[160]; /* BAD: one line saying why; "" otherwise */
    double received_at; /* seconds since the epoch (CLOCK_REALTIME) the frames were read */
} feed_event;

typedef struct {
    uint64_t msgs[FEED_TOPIC_COUNT]; /* MSG events delivered */
    uint64_t gaps[FEED_TOPIC_COUNT]; /* GAP events (restarts included) */
    uint64_t bad;                    /* BAD events */
    /* Messages known missing: got - expected for a forward gap; for a
     * restart, the counters 0..got-1 of the new run (what was lost before
     * the restart cannot be known). */
    uint64_t lost_estimate;
} feed_stats;

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
 * A message whose counter is not last + 1 (mod 2^32) for its topic yields
 * first a GAP event and, on the next call (without waiting), the MSG itself:
 * nothing is dropped. The first message of each topic after open sets the
 * baseline silently. BAD (counted, the feed goes on; the counter baseline is
 * not touched): a frame count other than 3, a topic frame that is not
 * exactly one of the three names ("rawtxlock" passes the SUBSCRIBE prefix
 * filter of "rawtx" and is refused here), a topic that arrived on an
 * endpoint not configured for it, and a counter frame not exactly 4 bytes.
 * CW_EARG for NULL arguments; CW_EIO when libzmq fails otherwise (e.g. the
 * context was terminated). */
cw_code feed_next(feed *f, int timeout_ms, feed_event *ev, bool *got, cw_err *err);

/* Counters since feed_open. */
void feed_stats_get(const feed *f, feed_stats *out);

/* The counter of the last message seen on a topic, for persisting across
 * restarts (false if none yet), and restoring it: after feed_set_last the
 * next message is checked against it, so what was missed while chainwatch
 * was down shows up as a gap (or a restart). */
bool feed_get_last(const feed *f, feed_topic t, uint32_t *seq);
void feed_set_last(feed *f, feed_topic t, uint32_t seq);

/* Closes the sockets (linger 0: nothing waits) and the context. NULL is a
 * no-op. */
void feed_close(feed *f);

/* Is `got` a break after `last`? false when got == last + 1 (mod 2^32,
 * so 0xffffffff -> 0 is normal). Otherwise true, with *expected = last + 1
 * (mod 2^32) and *restart = (got < *expected): the counter went back, to 0
 * or (when a restart's first messages were missed) to a small value. A
 * forward jump across the wrap (0xfffffffe -> 1) therefore reads as a
 * restart: at bitcoind's rates a wrap takes years, a restart is routine.
 * Either out pointer may be NULL. */
bool feed_seq_gap(uint32_t last, uint32_t got, uint32_t *expected, bool *restart);

#endif
