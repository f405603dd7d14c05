/* test_feed.c: the ZeroMQ feed against a publisher speaking bitcoind's format,
 * fed with a real Bitcoin Core v30 capture. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "monitor/sources/feed_zmq.h"
#include "tests/support.h"
#include "tests/zmq_pub.h"

#define CAPTURE "btc/regtest-v30/zmq-capture.jsonl"
#define WAIT_MS 5000

typedef struct {
    int topic; /* feed_topic, or -1 */
    uint8_t *body;
    size_t len;
    uint32_t seq;
    int nparts;
} rec;

/* Reads the capture independently of zpub (fixture + jansson, line by line). */
static rec *load_capture(int *n)
{
    size_t len;
    char *text = (char *)fixture(CAPTURE, &len);
    rec *r = NULL;
    int cnt = 0;
    for (char *line = text, *end; line < text + len; line = end + 1) {
        end = memchr(line, '\n', (size_t)(text + len - line));
        if (end == NULL)
            end = text + len;
        if (end == line)
            continue;
        json_error_t je;
        json_t *j = json_loadb(line, (size_t)(end - line), 0, &je);
        cr_assert_not_null(j, "capture line %d: %s", cnt + 1, je.text);
        r = realloc(r, (size_t)(cnt + 1) * sizeof *r);
        const char *topic = json_string_value(json_object_get(j, "topic"));
        cr_assert_not_null(topic);
        r[cnt].topic = -1;
        for (int t = 0; t < FEED_TOPIC_COUNT; t++)
            if (strcmp(topic, feed_topic_name((feed_topic)t)) == 0)
                r[cnt].topic = t;
        r[cnt].body = unhex(json_string_value(json_object_get(j, "body_hex")), &r[cnt].len);
        r[cnt].seq = (uint32_t)json_integer_value(json_object_get(j, "seq"));
        r[cnt].nparts = (int)json_integer_value(json_object_get(j, "nparts"));
        json_decref(j);
        cnt++;
    }
    free(text);
    *n = cnt;
    return r;
}

static void free_capture(rec *r, int n)
{
    for (int i = 0; i < n; i++)
        free(r[i].body);
    free(r);
}

static feed *open_feed(const char *rawtx, const char *rawblock, const char *sequence)
{
    feed_config cfg = {.endpoint = {rawtx, rawblock, sequence}};
    feed *f = NULL;
    cw_err err = {0};
    cr_assert_eq(feed_open(&cfg, &f, &err), CW_OK, "feed_open: %s", err.msg);
    cr_assert_not_null(f);
    return f;
}

static void next_ev(feed *f, feed_event *ev, const char *what)
{
    bool got = false;
    cw_err err = {0};
    for (int tries = 0; tries < 3 && !got; tries++) /* a stray signal may wake us early */
        cr_assert_eq(feed_next(f, WAIT_MS, ev, &got, &err), CW_OK, "%s: feed_next: %s", what, err.msg);
    cr_assert(got, "%s: nothing arrived within %d ms", what, WAIT_MS);
}

static void expect_quiet(feed *f, int ms)
{
    feed_event ev;
    bool got = true;
    cw_err err = {0};
    cr_assert_eq(feed_next(f, ms, &ev, &got, &err), CW_OK, "%s", err.msg);
    cr_assert_not(got, "unexpected event kind %d topic %d reason '%s'", ev.kind, ev.topic, ev.reason);
}

Test(feed, seq_gap_rules)
{
    uint32_t exp = 7;
    bool rs = true;
    cr_assert_not(feed_seq_gap(0, 1, &exp, &rs));
    cr_assert_eq(exp, 1);
    cr_assert_not(rs);
    cr_assert_not(feed_seq_gap(41, 42, NULL, NULL));
    /* 0xffffffff -> 0 is the counter wrapping, not a gap */
    cr_assert_not(feed_seq_gap(0xffffffffu, 0, &exp, &rs));
    cr_assert_eq(exp, 0);
    cr_assert_not(rs);
    /* a forward jump: lost messages */
    cr_assert(feed_seq_gap(5, 10, &exp, &rs));
    cr_assert_eq(exp, 6);
    cr_assert_not(rs);
    /* a forward jump across the wrap */
    cr_assert(feed_seq_gap(0xffffffffu, 3, &exp, &rs));
    cr_assert_eq(exp, 0);
    cr_assert_not(rs);
    /* 0 after anything but 0xffffffff: restart (the capture's 118 -> 0) */
    cr_assert(feed_seq_gap(118, 0, &exp, &rs));
    cr_assert_eq(exp, 119);
    cr_assert(rs);
    cr_assert(feed_seq_gap(0xfffffffeu, 0, &exp, &rs));
    cr_assert_eq(exp, 0xffffffffu);
    cr_assert(rs);
    cr_assert(feed_seq_gap(0, 0, &exp, &rs));
    cr_assert_eq(exp, 1);
    cr_assert(rs);
    /* going back to a small nonzero value: a restart whose first messages were missed */
    cr_assert(feed_seq_gap(118, 3, &exp, &rs));
    cr_assert(rs);
    cr_assert(feed_seq_gap(5, 5, &exp, &rs));
    cr_assert(rs);
    cr_assert_str_eq(feed_topic_name(FEED_RAWTX), "rawtx");
    cr_assert_str_eq(feed_topic_name(FEED_RAWBLOCK), "rawblock");
    cr_assert_str_eq(feed_topic_name(FEED_SEQUENCE), "sequence");
    cr_assert_str_eq(feed_topic_name(FEED_TOPIC_COUNT), "?");
}

Test(feed, open_refuses_bad_config)
{
    feed *f = (feed *)0x1;
    cw_err err = {0};
    feed_config none = {0};
    cr_assert_eq(feed_open(&none, &f, &err), CW_EARG);
    cr_assert(strstr(err.msg, "no endpoint"), "%s", err.msg);
    cr_assert_eq(f, (feed *)0x1, "out touched on failure");
    cr_assert_eq(feed_open(NULL, &f, &err), CW_EARG);
    feed_config neg = {.endpoint = {"tcp://127.0.0.1:1"}, .rcvhwm = -1};
    cr_assert_eq(feed_open(&neg, &f, &err), CW_EARG);
    cr_assert(strstr(err.msg, "rcvhwm"), "%s", err.msg);
    feed_config junk = {.endpoint = {NULL, "nonsense-endpoint"}};
    cr_assert_eq(feed_open(&junk, &f, &err), CW_EARG);
    cr_assert(strstr(err.msg, "nonsense-endpoint"), "error should name the endpoint: %s", err.msg);
    cr_assert_eq(f, (feed *)0x1);
    feed_close(NULL);
}

Test(feed, timeout_without_publisher)
{
    /* nothing listens there: connect is retried in the background, not an error */
    feed *f = open_feed("tcp://127.0.0.1:1", NULL, NULL);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    expect_quiet(f, 150);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    cr_assert_geq(ms, 140.0, "returned after %.1f ms", ms);
    feed_stats st;
    feed_stats_get(f, &st);
    cr_assert_eq(st.msgs[FEED_RAWTX] + st.bad + st.gaps[FEED_RAWTX], 0);
    feed_close(f);
}

static void on_alarm(int sig)
{
    (void)sig;
}

Test(feed, signal_interrupts_wait, .timeout = 20)
{
    zpub *p = zpub_start();
    feed *f = open_feed(zpub_endpoint(p), NULL, NULL);
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm; /* no SA_RESTART: the wait must see EINTR */
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = {.it_value = {0, 100000}};
    cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    feed_event ev;
    bool got = true;
    cw_err err = {0};
    cr_assert_eq(feed_next(f, 10000, &ev, &got, &err), CW_OK, "%s", err.msg);
    clock_gettime(CLOCK_MONOTONIC, &b);
    cr_assert_not(got);
    cr_assert_lt(b.tv_sec - a.tv_sec, 5, "the signal did not end the wait");
    feed_close(f);
    zpub_stop(p);
}

Test(feed, real_capture_replay, .timeout = 30)
{
    int n;
    rec *r = load_capture(&n);
    /* what SOURCES.md says about the file, checked on the file */
    cr_assert_eq(n, 342);
    int per[FEED_TOPIC_COUNT] = {0}, restarts[FEED_TOPIC_COUNT] = {0};
    uint32_t last[FEED_TOPIC_COUNT];
    bool seen[FEED_TOPIC_COUNT] = {0};
    for (int i = 0; i < n; i++) {
        cr_assert_geq(r[i].topic, 0, "capture line %d: unexpected topic", i + 1);
        cr_assert_eq(r[i].nparts, 3);
        int t = r[i].topic;
        per[t]++;
        if (seen[t] && r[i].seq == 0 && last[t] != 0xffffffffu)
            restarts[t]++;
        seen[t] = true;
        last[t] = r[i].seq;
    }
    cr_assert_eq(per[FEED_RAWTX], 121);
    cr_assert_eq(per[FEED_SEQUENCE], 115);
    cr_assert_eq(per[FEED_RAWBLOCK], 106);
    for (int t = 0; t < FEED_TOPIC_COUNT; t++)
        cr_assert_eq(restarts[t], 1, "topic %s: %d restarts in the capture", feed_topic_name((feed_topic)t),
                     restarts[t]);

    zpub *p = zpub_start();
    const char *ep = zpub_endpoint(p);
    feed *f = open_feed(ep, ep, ep);
    cr_assert(zpub_wait_subscription(p, 20000), "the feed never subscribed");
    cr_assert_eq(zpub_replay_capture(p, CAPTURE, 0, n), n);

    /* One socket keeps order, so events must match the file one to one. */
    int got_msgs[FEED_TOPIC_COUNT] = {0}, got_restarts[FEED_TOPIC_COUNT] = {0};
    bool have[FEED_TOPIC_COUNT] = {0};
    uint32_t prev[FEED_TOPIC_COUNT];
    double t0 = 0;
    for (int i = 0; i < n; i++) {
        int t = r[i].topic;
        feed_event ev;
        char what[64];
        snprintf(what, sizeof what, "capture record %d", i);
        if (have[t] && r[i].seq != (uint32_t)(prev[t] + 1)) {
            next_ev(f, &ev, what);
            cr_assert_eq(ev.kind, FEED_EV_GAP, "record %d: kind %d, GAP expected", i, ev.kind);
            cr_assert_eq(ev.topic, (feed_topic)t);
            cr_assert_eq(ev.expected, prev[t] + 1);
            cr_assert_eq(ev.seq, r[i].seq);
            cr_assert(ev.restart, "record %d: %u -> %u should be a restart", i, prev[t], r[i].seq);
            got_restarts[t]++;
        }
        next_ev(f, &ev, what);
        cr_assert_eq(ev.kind, FEED_EV_MSG, "record %d: kind %d (%s)", i, ev.kind, ev.reason);
        cr_assert_eq(ev.topic, (feed_topic)t, "record %d: topic %d, want %d", i, ev.topic, t);
        cr_assert_eq(ev.seq, r[i].seq, "record %d: seq %u, want %u", i, ev.seq, r[i].seq);
        cr_assert_eq(ev.len, r[i].len, "record %d: %zu bytes, want %zu", i, ev.len, r[i].len);
        cr_assert(memcmp(ev.body, r[i].body, r[i].len) == 0, "record %d: body differs from body_hex", i);
        cr_assert_geq(ev.received_at, t0);
        cr_assert_gt(ev.received_at, 1.7e9, "received_at is not CLOCK_REALTIME seconds");
        t0 = ev.received_at;
        got_msgs[t]++;
        have[t] = true;
        prev[t] = r[i].seq;
    }
    expect_quiet(f, 100);
    feed_stats st;
    feed_stats_get(f, &st);
    for (int t = 0; t < FEED_TOPIC_COUNT; t++) {
        cr_assert_eq(got_msgs[t], per[t]);
        cr_assert_eq(st.msgs[t], (uint64_t)per[t]);
        cr_assert_eq(got_restarts[t], restarts[t]);
        cr_assert_eq(st.gaps[t], (uint64_t)restarts[t]);
    }
    cr_assert_eq(st.bad, 0);
    cr_assert_eq(st.lost_estimate, 0, "restarts to 0 lose nothing known");
    feed_close(f);
    zpub_stop(p);
    free_capture(r, n);
}

Test(feed, skipped_counter_is_a_gap_and_the_message_arrives, .timeout = 20)
{
    zpub *p = zpub_start();
    feed *f = open_feed(zpub_endpoint(p), NULL, NULL);
    cr_assert(zpub_wait_subscription(p, 20000), "the feed never subscribed");
    feed_event ev;
    for (uint32_t i = 0; i < 3; i++)
        zpub_send(p, "rawtx", "abc", 3);
    zpub_set_counter(p, "rawtx", 3 + 5);
    zpub_send(p, "rawtx", "after-gap", 9);
    zpub_send(p, "rawtx", "next", 4);
    for (uint32_t i = 0; i < 3; i++) {
        next_ev(f, &ev, "before gap");
        cr_assert_eq(ev.kind, FEED_EV_MSG);
        cr_assert_eq(ev.seq, i);
    }
    next_ev(f, &ev, "gap");
    cr_assert_eq(ev.kind, FEED_EV_GAP);
    cr_assert_eq(ev.topic, FEED_RAWTX);
    cr_assert_eq(ev.expected, 3);
    cr_assert_eq(ev.seq, 8);
    cr_assert_not(ev.restart);
    cr_assert_null(ev.body);
    next_ev(f, &ev, "message behind the gap");
    cr_assert_eq(ev.kind, FEED_EV_MSG);
    cr_assert_eq(ev.seq, 8);
    cr_assert_eq(ev.len, 9);
    cr_assert(memcmp(ev.body, "after-gap", 9) == 0);
    next_ev(f, &ev, "after");
    cr_assert_eq(ev.kind, FEED_EV_MSG, "9 follows 8: no second gap");
    cr_assert_eq(ev.seq, 9);
    feed_stats st;
    feed_stats_get(f, &st);
    cr_assert_eq(st.msgs[FEED_RAWTX], 5);
    cr_assert_eq(st.gaps[FEED_RAWTX], 1);
    cr_assert_eq(st.lost_estimate, 5);

    /* a restart that missed its first two messages still reads as one */
    zpub_set_counter(p, "rawtx", 2);
    zpub_send(p, "rawtx", "x", 1);
    next_ev(f, &ev, "restart");
    cr_assert_eq(ev.kind, FEED_EV_GAP);
    cr_assert(ev.restart);
    cr_assert_eq(ev.expected, 10);
    cr_assert_eq(ev.seq, 2);
    next_ev(f, &ev, "restart msg");
    cr_assert_eq(ev.kind, FEED_EV_MSG);
    feed_stats_get(f, &st);
    cr_assert_eq(st.lost_estimate, 5 + 2);
    feed_close(f);
    zpub_stop(p);
}

/* Garbage that passes the SUBSCRIBE prefix filter (a topic frame that does not
 * start with a subscribed name never reaches the SUB socket at all). */
static const char *send_garbage(zpub *p, int kind, int *topic)
{
    static const uint8_t c4[4] = {1, 0, 0, 0}, c5[5] = {1, 0, 0, 0, 0};
    const void *fr[10];
    size_t ln[10];
    switch (kind) {
    case 0:
        fr[0] = "rawtx", ln[0] = 5, fr[1] = "body", ln[1] = 4;
        zpub_send_frames(p, fr, ln, 2);
        *topic = FEED_RAWTX;
        return "3 frames expected, got 2";
    case 1:
        fr[0] = "rawtxlock", ln[0] = 9, fr[1] = "body", ln[1] = 4, fr[2] = c4, ln[2] = 4;
        zpub_send_frames(p, fr, ln, 3);
        *topic = FEED_TOPIC_COUNT;
        return "unknown topic 'rawtxlock'";
    case 2:
        fr[0] = "rawtx", ln[0] = 5, fr[1] = "body", ln[1] = 4, fr[2] = c4, ln[2] = 3;
        zpub_send_frames(p, fr, ln, 3);
        *topic = FEED_RAWTX;
        return "sequence frame of 3 bytes";
    case 3:
        fr[0] = "rawblock", ln[0] = 8, fr[1] = "", ln[1] = 0, fr[2] = "", ln[2] = 0, fr[3] = "", ln[3] = 0;
        zpub_send_frames(p, fr, ln, 4);
        *topic = FEED_RAWBLOCK;
        return "3 frames expected, got 4";
    case 4:
        fr[0] = "sequence", ln[0] = 8;
        zpub_send_frames(p, fr, ln, 1);
        *topic = FEED_SEQUENCE;
        return "3 frames expected, got 1";
    case 5:
        fr[0] = "rawtx", ln[0] = 5, fr[1] = "", ln[1] = 0, fr[2] = "", ln[2] = 0;
        zpub_send_frames(p, fr, ln, 3);
        *topic = FEED_RAWTX;
        return "sequence frame of 0 bytes";
    case 6:
        fr[0] = "sequence\x01\xff", ln[0] = 10, fr[1] = "b", ln[1] = 1, fr[2] = c4, ln[2] = 4;
        zpub_send_frames(p, fr, ln, 3);
        *topic = FEED_TOPIC_COUNT;
        return "unknown topic 'sequence\\x01\\xff'";
    case 7:
        fr[0] = "rawtx", ln[0] = 5, fr[1] = "b", ln[1] = 1, fr[2] = c5, ln[2] = 5;
        zpub_send_frames(p, fr, ln, 3);
        *topic = FEED_RAWTX;
        return "sequence frame of 5 bytes";
    case 8:
        fr[0] = "rawblockx", ln[0] = 9;
        zpub_send_frames(p, fr, ln, 1);
        *topic = FEED_TOPIC_COUNT;
        return "unknown topic 'rawblockx'";
    default:
        for (int i = 0; i < 10; i++)
            fr[i] = "rawtx", ln[i] = i == 0 ? 5 : (size_t)(i % 3);
        zpub_send_frames(p, fr, ln, 10);
        *topic = FEED_RAWTX;
        return "3 frames expected, got 10";
    }
}

Test(feed, garbage_is_counted_and_good_messages_survive, .timeout = 30)
{
    zpub *p = zpub_start();
    const char *ep = zpub_endpoint(p);
    feed *f = open_feed(ep, ep, ep);
    cr_assert(zpub_wait_subscription(p, 20000), "the feed never subscribed");
    static const char *const topics[3] = {"rawtx", "rawblock", "sequence"};
    int good = 0, garbage = 0;
    while (garbage < 1000) {
        const char *reason[10];
        int rtopic[10];
        for (int k = 0; k < 10; k++, garbage++)
            reason[k] = send_garbage(p, garbage % 10 == k ? (garbage / 10 + k) % 10 : k, &rtopic[k]);
        char body[32];
        int blen = snprintf(body, sizeof body, "good-%d", good);
        zpub_send(p, topics[good % 3], body, (size_t)blen);
        /* one socket keeps order: ten BADs, then the good one */
        for (int k = 0; k < 10; k++) {
            feed_event ev;
            next_ev(f, &ev, "garbage");
            cr_assert_eq(ev.kind, FEED_EV_BAD, "garbage %d: kind %d", garbage - 10 + k, ev.kind);
            cr_assert(strstr(ev.reason, reason[k]), "reason '%s' lacks '%s'", ev.reason, reason[k]);
            cr_assert_eq(ev.topic, (feed_topic)rtopic[k], "'%s': topic %d", ev.reason, ev.topic);
            cr_assert_null(ev.body);
        }
        feed_event ev;
        next_ev(f, &ev, "good");
        cr_assert_eq(ev.kind, FEED_EV_MSG, "good %d: kind %d (%s)", good, ev.kind, ev.reason);
        cr_assert_eq(ev.topic, (feed_topic)(good % 3));
        cr_assert_eq(ev.seq, (uint32_t)(good / 3));
        cr_assert_eq(ev.len, (size_t)blen);
        cr_assert(memcmp(ev.body, body, (size_t)blen) == 0);
        good++;
    }
    expect_quiet(f, 100);
    feed_stats st;
    feed_stats_get(f, &st);
    cr_assert_eq(st.bad, 1000);
    cr_assert_eq(st.msgs[0] + st.msgs[1] + st.msgs[2], (uint64_t)good);
    cr_assert_eq(st.gaps[0] + st.gaps[1] + st.gaps[2], 0, "garbage must not move the counter baseline");
    feed_close(f);
    zpub_stop(p);
}

Test(feed, topics_over_two_endpoints, .timeout = 20)
{
    zpub *a = zpub_start(), *b = zpub_start();
    cr_assert_str_neq(zpub_endpoint(a), zpub_endpoint(b));
    feed *f = open_feed(zpub_endpoint(a), zpub_endpoint(b), zpub_endpoint(b));
    cr_assert(zpub_wait_subscription(a, 20000) && zpub_wait_subscription(b, 20000), "the feed never subscribed");
    zpub_set_counter(a, "rawtx", 100);
    for (int i = 0; i < 5; i++)
        zpub_send(a, "rawtx", "tx", 2);
    /* not subscribed on a: filtered by the SUB socket, never seen */
    zpub_send(a, "rawblock", "wrong-endpoint", 14);
    for (int i = 0; i < 3; i++)
        zpub_send(b, "rawblock", "block", 5);
    for (int i = 0; i < 4; i++)
        zpub_send(b, "sequence", "seq", 3);
    uint32_t next[FEED_TOPIC_COUNT] = {100, 0, 0};
    int cnt[FEED_TOPIC_COUNT] = {0};
    for (int i = 0; i < 12; i++) {
        feed_event ev;
        next_ev(f, &ev, "two endpoints");
        cr_assert_eq(ev.kind, FEED_EV_MSG, "kind %d (%s)", ev.kind, ev.reason);
        cr_assert_eq(ev.seq, next[ev.topic]++, "per-topic order and counters");
        cnt[ev.topic]++;
        if (ev.topic == FEED_RAWBLOCK)
            cr_assert(ev.len == 5 && memcmp(ev.body, "block", 5) == 0);
    }
    expect_quiet(f, 150);
    cr_assert_eq(cnt[FEED_RAWTX], 5);
    cr_assert_eq(cnt[FEED_RAWBLOCK], 3);
    cr_assert_eq(cnt[FEED_SEQUENCE], 4);
    feed_stats st;
    feed_stats_get(f, &st);
    cr_assert_eq(st.bad + st.gaps[0] + st.gaps[1] + st.gaps[2], 0);
    feed_close(f);
    zpub_stop(a);
    zpub_stop(b);
}

Test(feed, burst_of_5000_tx_and_a_1mb_block, .timeout = 60)
{
    int n;
    rec *r = load_capture(&n);
    size_t blen;
    uint8_t *block = fixture(BLOCK_514485, &blen);
    cr_assert_gt(blen, 1000000);
    zpub *p = zpub_start();
    const char *ep = zpub_endpoint(p);
    feed *f = open_feed(ep, ep, NULL); /* default rcvhwm: the feed is not read during the burst */
    cr_assert(zpub_wait_subscription(p, 20000), "the feed never subscribed");
    /* The publisher's SNDHWM is bitcoind's 1000, and libzmq's I/O thread
     * learns of drained messages in batches: a sender that never yields
     * loses everything after ~1000 on the PUB side (measured: exactly the
     * first 1000 arrive), whatever the subscriber does. That loss is
     * bitcoind's (raise -zmqpubrawtxhwm); the short yields keep it out of
     * this test, which is about the feed queueing the whole burst. */
    int ntx = 0;
    for (int i = 0; ntx < 5000; i = (i + 1) % n)
        if (r[i].topic == FEED_RAWTX) {
            zpub_send(p, "rawtx", r[i].body, r[i].len);
            ntx++;
            if (ntx % 25 == 0)
                test_sleep_ms(2); /* paced: the suite may share two cores with others */
        }
    zpub_send(p, "rawblock", block, blen);
    int i = 0;
    for (uint32_t k = 0; k < 5000; k++) {
        while (r[i].topic != FEED_RAWTX)
            i = (i + 1) % n;
        feed_event ev;
        next_ev(f, &ev, "burst");
        cr_assert_eq(ev.kind, FEED_EV_MSG, "tx %u: kind %d (expected %u, got %u)", k, ev.kind, ev.expected, ev.seq);
        cr_assert_eq(ev.topic, FEED_RAWTX);
        cr_assert_eq(ev.seq, k);
        cr_assert(ev.len == r[i].len && memcmp(ev.body, r[i].body, ev.len) == 0, "tx %u body", k);
        i = (i + 1) % n;
    }
    feed_event ev;
    next_ev(f, &ev, "block");
    cr_assert_eq(ev.kind, FEED_EV_MSG);
    cr_assert_eq(ev.topic, FEED_RAWBLOCK);
    cr_assert_eq(ev.len, blen);
    cr_assert(memcmp(ev.body, block, blen) == 0);
    feed_stats st;
    feed_stats_get(f, &st);
    cr_assert_eq(st.msgs[FEED_RAWTX], 5000);
    cr_assert_eq(st.msgs[FEED_RAWBLOCK], 1);
    cr_assert_eq(st.gaps[FEED_RAWTX] + st.gaps[FEED_RAWBLOCK], 0);
    cr_assert_eq(st.lost_estimate, 0);
    feed_close(f);
    zpub_stop(p);
    free(block);
    free_capture(r, n);
}
