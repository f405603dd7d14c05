/*
 * zmq_pub.h: a test publisher that speaks Bitcoin Core's ZeroMQ format.
 *
 * Like bitcoind's notifiers: one ZMQ_PUB socket that binds, SNDHWM 1000
 * (DEFAULT_ZMQ_SNDHWM), TCP keepalive, 3 frames per message [topic][body]
 * [4-byte LE counter], one counter per topic starting at 0. PUB drops
 * silently when a subscriber's queue is full, exactly as bitcoind does, so
 * tests see the real failure mode. Failures abort the running test
 * (cr_assert); nothing here returns an error code.
 */
#ifndef CW_TEST_ZMQ_PUB_H
#define CW_TEST_ZMQ_PUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zpub zpub;

/* A PUB socket bound to tcp://127.0.0.1 on an ephemeral port. */
zpub *zpub_start(void);

/* "tcp://127.0.0.1:PORT", owned by p. */
const char *zpub_endpoint(const zpub *p);

/* Sends topic, body, then the topic's counter (LE), and adds 1 to it. */
void zpub_send(zpub *p, const char *topic, const void *body, size_t len);

/* Makes `next` the counter of the topic's next zpub_send: 0 mimics a
 * restart, a jump mimics lost messages. */
void zpub_set_counter(zpub *p, const char *topic, uint32_t next);

/* Sends n raw frames as one multipart message (n >= 1); counters untouched. */
void zpub_send_frames(zpub *p, const void *const *frames, const size_t *lens, int n);

/* Sends records [first, first + count) of a zmq-capture.jsonl (a path, or
 * one relative to the shared data directory as fixture() takes), each with
 * its recorded topic, body and seq (the topic's counter is set from the
 * record). count < 0 = to the end. Returns how many were sent. */
int zpub_replay_capture(zpub *p, const char *jsonl_path, int first, int count);

/* Waits until a subscriber's subscription reaches this publisher (up to
 * cap_ms), then until the rest of its topics have (no more for 100 ms):
 * from then on nothing sent to those topics is lost to ZeroMQ's slow
 * joiner, however loaded the machine. Each subscription is seen once: a
 * later call waits for a new subscriber (or one that reconnected).
 * Returns whether one came. */
bool zpub_wait_subscription(zpub *p, int cap_ms);

/* Closes the socket (linger 0) and context. NULL is a no-op. */
void zpub_stop(zpub *p);

#endif
