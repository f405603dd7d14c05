/*
 * feed_check.h: what a Bitcoin Core ZeroMQ message must look like, and the
 * per-topic counter check that reveals lost messages, with no sockets.
 *
 * Design note. Every source of feed messages (the live SUB sockets in
 * feed_zmq.c, a recorded capture in capture.h) hands each whole multipart
 * message to feed_checker_take, so a replay judges frames, topics and
 * counters with exactly the code the live monitor used: the same BAD
 * reasons, the same GAP events, the same statistics. The checker never
 * copies a body; events point into the caller's message, which must stay
 * alive until the event (or the MSG held behind a GAP) has been handled.
 */
#ifndef CW_FEED_CHECK_H
#define CW_FEED_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { FEED_RAWTX = 0, FEED_RAWBLOCK, FEED_SEQUENCE, FEED_TOPIC_COUNT } feed_topic;

/* Bit t set = topic t. */
#define FEED_ALL_TOPICS ((1u << FEED_TOPIC_COUNT) - 1u)

/* "rawtx", "rawblock", "sequence" (the exact topic frames); "?" for any
 * other value, so it is safe to call on a BAD event's topic. */
const char *feed_topic_name(feed_topic t);

/* One whole multipart message as it came off a socket. Only the first three
 * frames are kept (topic, body, counter): the checks look at nothing else,
 * and a message with more frames is refused for its frame count alone. */
#define FEED_MSG_FRAMES 3
typedef struct {
    const uint8_t *frame[FEED_MSG_FRAMES]; /* frame[i] valid for i < nframes (and i < 3) */
    size_t len[FEED_MSG_FRAMES];
    unsigned nframes;   /* how many frames the message had, >= 1 */
    double received_at; /* seconds since the epoch (CLOCK_REALTIME) it was read */
} feed_message;

typedef enum { FEED_EV_MSG = 1, FEED_EV_GAP, FEED_EV_BAD } feed_event_kind;

typedef struct {
    feed_event_kind kind;
    /* MSG and GAP: the topic. BAD: the topic when the topic frame was one of
     * the three names, else FEED_TOPIC_COUNT. */
    feed_topic topic;
    /* MSG: the body frame, owned by whoever read the message (see the
     * source's own rules). NULL/0 for GAP and BAD. */
    const uint8_t *body;
    size_t len;
    uint32_t seq;      /* MSG: the counter; GAP: the counter that came */
    uint32_t expected; /* GAP: last + 1 (mod 2^32) */
    /* GAP: the counter went back (to 0, or below `expected` when the
     * restart's first messages were missed): bitcoind restarted. See
     * feed_seq_gap. 0xffffffff -> 0 is no gap at all. */
    bool restart;
    char reason[160]; /* BAD: one line saying why; "" otherwise */
    double received_at; /* the message's feed_message.received_at */
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

/* The state of the checks: the last counter per topic, the MSG held behind
 * a GAP, the statistics. Zero-initialise it ({0}); touch it only through
 * the functions below. */
typedef struct {
    bool have_last[FEED_TOPIC_COUNT];
    uint32_t last[FEED_TOPIC_COUNT];
    bool pending;
    feed_event pending_ev;
    feed_stats st;
} feed_checker;

/* Runs one whole message through the checks and fills *ev (both non-NULL):
 * - BAD (counted; the counter baseline is not touched) for a topic frame
 *   that is not exactly one of the three names ("rawtxlock" passes the
 *   SUBSCRIBE prefix filter of "rawtx" and is refused here), a frame count
 *   other than 3, a topic not in `topics` (the bit mask of topics the
 *   message's source was configured for; `source` names it in the reason),
 *   or a counter frame not exactly 4 bytes;
 * - GAP when the counter is not last + 1 (mod 2^32) for its topic: the MSG
 *   itself is held and feed_checker_pending returns it next, so nothing is
 *   dropped;
 * - MSG otherwise. The first message of each topic sets the baseline
 *   silently.
 * ev->body points into m->frame[1]. Must not be called while a MSG is
 * pending (call feed_checker_pending first). */
void feed_checker_take(feed_checker *c, const feed_message *m, unsigned topics, const char *source, feed_event *ev);

/* The MSG held behind the GAP just returned, if any: fills *ev, makes its
 * counter the topic's last, and returns true. False (ev untouched) when
 * nothing is held. */
bool feed_checker_pending(feed_checker *c, feed_event *ev);

/* Whether a MSG is held (feed_checker_pending would return it). */
bool feed_checker_has_pending(const feed_checker *c);

/* The last counter seen on a topic (false if none yet), and setting it
 * (e.g. to a counter saved by the last run, so what was missed while
 * chainwatch was down shows up as a gap). Out-of-range topics are ignored
 * (false). */
bool feed_checker_get_last(const feed_checker *c, feed_topic t, uint32_t *seq);
void feed_checker_set_last(feed_checker *c, feed_topic t, uint32_t seq);

/* Is `got` a break after `last`? false when got == last + 1 (mod 2^32,
 * so 0xffffffff -> 0 is normal). Otherwise true, with *expected = last + 1
 * (mod 2^32) and *restart = (got < *expected): the counter went back, to 0
 * or (when a restart's first messages were missed) to a small value. A
 * forward jump across the wrap (0xfffffffe -> 1) therefore reads as a
 * restart: at bitcoind's rates a wrap takes years, a restart is routine.
 * Either out pointer may be NULL. */
bool feed_seq_gap(uint32_t last, uint32_t got, uint32_t *expected, bool *restart);

#endif
