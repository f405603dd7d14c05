#include "zmq_pub.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "chains/hex.h"

#define ZPUB_MAX_TOPICS 16

struct zpub {
    void *ctx;
    void *sock;
    char endpoint[64];
    int ntopics;
    struct {
        char name[64];
        uint32_t next;
    } topic[ZPUB_MAX_TOPICS];
};

zpub *zpub_start(void)
{
    zpub *p = calloc(1, sizeof *p);
    cr_assert_not_null(p);
    p->ctx = zmq_ctx_new();
    cr_assert_not_null(p->ctx, "zpub: zmq_ctx_new: %s", zmq_strerror(errno));
    /* XPUB: a PUB to its subscribers, which also hands this side each
     * subscription as it takes effect (zpub_wait_subscription); verbose,
     * so a subscriber that reconnects is seen again */
    p->sock = zmq_socket(p->ctx, ZMQ_XPUB);
    cr_assert_not_null(p->sock, "zpub: zmq_socket: %s", zmq_strerror(errno));
    int hwm = 1000, zero = 0, one = 1;
    cr_assert_eq(zmq_setsockopt(p->sock, ZMQ_XPUB_VERBOSE, &one, sizeof one), 0);
    cr_assert_eq(zmq_setsockopt(p->sock, ZMQ_SNDHWM, &hwm, sizeof hwm), 0);
    cr_assert_eq(zmq_setsockopt(p->sock, ZMQ_LINGER, &zero, sizeof zero), 0);
    cr_assert_eq(zmq_setsockopt(p->sock, ZMQ_TCP_KEEPALIVE, &one, sizeof one), 0);
    cr_assert_eq(zmq_bind(p->sock, "tcp://127.0.0.1:*"), 0, "zpub: bind: %s", zmq_strerror(errno));
    size_t n = sizeof p->endpoint;
    cr_assert_eq(zmq_getsockopt(p->sock, ZMQ_LAST_ENDPOINT, p->endpoint, &n), 0);
    return p;
}

const char *zpub_endpoint(const zpub *p)
{
    return p->endpoint;
}

static uint32_t *counter(zpub *p, const char *topic)
{
    for (int i = 0; i < p->ntopics; i++)
        if (strcmp(p->topic[i].name, topic) == 0)
            return &p->topic[i].next;
    cr_assert_lt(p->ntopics, ZPUB_MAX_TOPICS, "zpub: too many topics");
    cr_assert_lt(strlen(topic), sizeof p->topic[0].name, "zpub: topic too long");
    strcpy(p->topic[p->ntopics].name, topic);
    p->topic[p->ntopics].next = 0;
    return &p->topic[p->ntopics++].next;
}

void zpub_send_frames(zpub *p, const void *const *frames, const size_t *lens, int n)
{
    cr_assert_gt(n, 0);
    for (int i = 0; i < n; i++) {
        int rc;
        while ((rc = zmq_send(p->sock, frames[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0)) < 0 && errno == EINTR)
            ;
        cr_assert_geq(rc, 0, "zpub: send frame %d: %s", i, zmq_strerror(errno));
    }
}

void zpub_send(zpub *p, const char *topic, const void *body, size_t len)
{
    uint32_t *c = counter(p, topic);
    uint8_t le[4] = {(uint8_t)*c, (uint8_t)(*c >> 8), (uint8_t)(*c >> 16), (uint8_t)(*c >> 24)};
    const void *frames[3] = {topic, body, le};
    size_t lens[3] = {strlen(topic), len, 4};
    zpub_send_frames(p, frames, lens, 3);
    (*c)++;
}

void zpub_set_counter(zpub *p, const char *topic, uint32_t next)
{
    *counter(p, topic) = next;
}

int zpub_replay_capture(zpub *p, const char *jsonl_path, int first, int count)
{
    char path[1024];
    FILE *fp = fopen(jsonl_path, "r");
    if (fp == NULL && jsonl_path[0] != '/') {
        snprintf(path, sizeof path, "%s/%s", CW_DATA_DIR, jsonl_path);
        fp = fopen(path, "r");
    }
    cr_assert_not_null(fp, "zpub: open %s: %s", jsonl_path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int idx = 0, sent = 0;
    while (getline(&line, &cap, fp) > 0 && (count < 0 || sent < count)) {
        if (idx++ < first)
            continue;
        json_error_t je;
        json_t *rec = json_loads(line, 0, &je);
        cr_assert_not_null(rec, "zpub: %s record %d: %s", jsonl_path, idx - 1, je.text);
        const char *topic = json_string_value(json_object_get(rec, "topic"));
        const char *hex = json_string_value(json_object_get(rec, "body_hex"));
        json_t *seq = json_object_get(rec, "seq");
        cr_assert(topic && hex && json_is_integer(seq), "zpub: record %d lacks topic/body_hex/seq", idx - 1);
        size_t hl = strlen(hex), bl = 0;
        uint8_t *body = malloc(hl / 2 + 1);
        cr_assert_not_null(body);
        cw_err err = {0};
        cr_assert_eq(cw_hex_decode(hex, hl, body, hl / 2 + 1, &bl, &err), CW_OK, "zpub: record %d: %s", idx - 1,
                     err.msg);
        zpub_set_counter(p, topic, (uint32_t)json_integer_value(seq));
        zpub_send(p, topic, body, bl);
        free(body);
        json_decref(rec);
        sent++;
    }
    free(line);
    fclose(fp);
    return sent;
}

bool zpub_wait_subscription(zpub *p, int cap_ms)
{
    bool seen = false;
    zmq_pollitem_t it = {p->sock, 0, ZMQ_POLLIN, 0};
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long spent = (now.tv_sec - t0.tv_sec) * 1000L + (now.tv_nsec - t0.tv_nsec) / 1000000L;
        /* before the first subscription: up to cap_ms; after it, until the
         * rest of that subscriber's topics (sent together) stop coming */
        long wait = seen ? 100 : cap_ms - spent;
        if (wait <= 0 || zmq_poll(&it, 1, wait) <= 0)
            return seen;
        uint8_t msg[256];
        int n = zmq_recv(p->sock, msg, sizeof msg, ZMQ_DONTWAIT);
        if (n >= 1 && msg[0] == 1)
            seen = true; /* 1: subscribe, 0: unsubscribe */
    }
}

void zpub_stop(zpub *p)
{
    if (p == NULL)
        return;
    zmq_close(p->sock);
    while (zmq_ctx_term(p->ctx) != 0 && errno == EINTR)
        ;
    free(p);
}
