#include "feed_zmq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define FEED_DEFAULT_RCVHWM 100000
#define FEED_DEFAULT_MAXMSGSIZE ((int64_t)16 * 1024 * 1024)
#define FEED_RECONNECT_MS 100
#define FEED_RECONNECT_MAX_MS 5000


struct feed {
    void *ctx;
    int nsock;
    void *sock[FEED_TOPIC_COUNT];
    unsigned topics[FEED_TOPIC_COUNT]; /* per socket: bit t = topic t */
    char *endpoint[FEED_TOPIC_COUNT];  /* per socket */
    int next_sock;                     /* where the next scan starts, so one busy socket cannot starve others */
    feed_checker check; /* counters, the MSG held behind a GAP, statistics */
    zmq_msg_t body;     /* the frame the last MSG (or pending MSG) points into */
    bool body_live;
    void (*tap)(void *, const feed_message *);
    void *tap_ctx;
};

bool feed_get_last(const feed *f, feed_topic t, uint32_t *seq)
{
    return f != NULL && feed_checker_get_last(&f->check, t, seq);
}

void feed_set_last(feed *f, feed_topic t, uint32_t seq)
{
    if (f != NULL)
        feed_checker_set_last(&f->check, t, seq);
}

bool feed_has_pending(const feed *f)
{
    return f != NULL && feed_checker_has_pending(&f->check);
}

static double now_realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static cw_code zmq_fail(cw_err *err, const char *what, const char *endpoint)
{
    int e = zmq_errno();
    cw_code code = e == ENOMEM ? CW_ENOMEM : CW_EIO;
    if (endpoint)
        return cw_err_set(err, code, CW_NO_OFFSET, "zmq %s for endpoint '%s': %s", what, endpoint, zmq_strerror(e));
    return cw_err_set(err, code, CW_NO_OFFSET, "zmq %s: %s", what, zmq_strerror(e));
}

static cw_code setup_socket(feed *f, int i, int hwm, int64_t maxsize, cw_err *err)
{
    const char *ep = f->endpoint[i];
    void *s = zmq_socket(f->ctx, ZMQ_SUB);
    if (s == NULL)
        return zmq_fail(err, "socket", ep);
    f->sock[i] = s;
    int zero = 0, one = 1, ivl = FEED_RECONNECT_MS, ivl_max = FEED_RECONNECT_MAX_MS;
    struct {
        int opt;
        const void *val;
        size_t len;
        const char *name;
    } opts[] = {
        {ZMQ_LINGER, &zero, sizeof zero, "setsockopt ZMQ_LINGER"},
        {ZMQ_RCVHWM, &hwm, sizeof hwm, "setsockopt ZMQ_RCVHWM"},
        {ZMQ_MAXMSGSIZE, &maxsize, sizeof maxsize, "setsockopt ZMQ_MAXMSGSIZE"},
        {ZMQ_TCP_KEEPALIVE, &one, sizeof one, "setsockopt ZMQ_TCP_KEEPALIVE"},
        {ZMQ_RECONNECT_IVL, &ivl, sizeof ivl, "setsockopt ZMQ_RECONNECT_IVL"},
        {ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max, "setsockopt ZMQ_RECONNECT_IVL_MAX"},
    };
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
        if (zmq_setsockopt(s, opts[k].opt, opts[k].val, opts[k].len) != 0)
            return zmq_fail(err, opts[k].name, ep);
    if (strchr(ep, '[') && zmq_setsockopt(s, ZMQ_IPV6, &one, sizeof one) != 0)
        return zmq_fail(err, "setsockopt ZMQ_IPV6", ep);
    for (int t = 0; t < FEED_TOPIC_COUNT; t++)
        if ((f->topics[i] & (1u << t)) &&
            zmq_setsockopt(s, ZMQ_SUBSCRIBE, feed_topic_name((feed_topic)t), strlen(feed_topic_name((feed_topic)t))) != 0)
            return zmq_fail(err, "setsockopt ZMQ_SUBSCRIBE", ep);
    if (zmq_connect(s, ep) != 0) {
        int e = zmq_errno();
        if (e == EINVAL || e == EPROTONOSUPPORT || e == ENOCOMPATPROTO)
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "zmq endpoint '%s' refused: %s", ep, zmq_strerror(e));
        return zmq_fail(err, "connect", ep);
    }
    return CW_OK;
}

cw_code feed_open(const feed_config *cfg, feed **out, cw_err *err)
{
    if (cfg == NULL || out == NULL)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "feed_open: NULL %s", cfg == NULL ? "config" : "out");
    if (cfg->rcvhwm < 0)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "feed config: rcvhwm %d is negative", cfg->rcvhwm);
    if (cfg->maxmsgsize < 0)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "feed config: maxmsgsize %lld is negative",
                          (long long)cfg->maxmsgsize);
    int n = 0;
    for (int t = 0; t < FEED_TOPIC_COUNT; t++)
        if (cfg->endpoint[t] != NULL) {
            if (cfg->endpoint[t][0] == '\0')
                return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "feed config: empty endpoint for topic %s",
                                  feed_topic_name((feed_topic)t));
            n++;
        }
    if (n == 0)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "feed config: no endpoint for any of rawtx, rawblock, sequence");

    feed *f = calloc(1, sizeof *f);
    if (f == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "feed_open: out of memory");
    for (int t = 0; t < FEED_TOPIC_COUNT; t++) {
        if (cfg->endpoint[t] == NULL)
            continue;
        int i = 0;
        while (i < f->nsock && strcmp(f->endpoint[i], cfg->endpoint[t]) != 0)
            i++;
        if (i == f->nsock) {
            f->endpoint[i] = strdup(cfg->endpoint[t]);
            if (f->endpoint[i] == NULL) {
                feed_close(f);
                return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "feed_open: out of memory");
            }
            f->nsock++;
        }
        f->topics[i] |= 1u << t;
    }
    f->ctx = zmq_ctx_new();
    if (f->ctx == NULL) {
        cw_code rc = zmq_fail(err, "ctx_new", NULL);
        feed_close(f);
        return rc;
    }
    int hwm = cfg->rcvhwm ? cfg->rcvhwm : FEED_DEFAULT_RCVHWM;
    int64_t maxsize = cfg->maxmsgsize ? cfg->maxmsgsize : FEED_DEFAULT_MAXMSGSIZE;
    for (int i = 0; i < f->nsock; i++) {
        cw_code rc = setup_socket(f, i, hwm, maxsize, err);
        if (rc != CW_OK) {
            feed_close(f);
            return rc;
        }
    }
    f->tap = cfg->tap;
    f->tap_ctx = cfg->tap_ctx;
    *out = f;
    return CW_OK;
}

/* Reads one whole multipart message from socket i (libzmq delivers all
 * parts at once or none) and turns it into one event. */
static cw_code read_message(feed *f, int i, feed_event *ev, bool *got, cw_err *err)
{
    zmq_msg_t part[3];
    int kept = 0, total = 0;
    bool more = true;
    while (more) {
        zmq_msg_t scratch;
        zmq_msg_t *m = kept < 3 ? &part[kept] : &scratch;
        zmq_msg_init(m);
        int rc;
        while ((rc = zmq_msg_recv(m, f->sock[i], ZMQ_DONTWAIT)) < 0 && zmq_errno() == EINTR && total > 0)
            ; /* mid-message: the rest is already queued, finish it */
        if (rc < 0) {
            int e = zmq_errno();
            zmq_msg_close(m);
            for (int k = 0; k < kept; k++)
                zmq_msg_close(&part[k]);
            if (total == 0 && (e == EAGAIN || e == EINTR))
                return CW_OK; /* readiness was stale, or a signal: *got stays false */
            return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "zmq recv from '%s': %s", f->endpoint[i],
                              zmq_strerror(e));
        }
        more = zmq_msg_more(m);
        total++;
        if (m == &scratch)
            zmq_msg_close(m);
        else
            kept++;
    }

    /* The body frame moves into the feed first: events point into it until
     * the next feed_next, and a small frame's bytes live inside the
     * zmq_msg_t itself, so only the moved-to message's pointer is stable. */
    feed_message m = {.nframes = (unsigned)total, .received_at = now_realtime()};
    for (int k = 0; k < kept; k++) {
        zmq_msg_t *src = &part[k];
        if (k == 1) {
            zmq_msg_init(&f->body);
            zmq_msg_move(&f->body, &part[1]);
            f->body_live = true;
            src = &f->body;
        }
        m.frame[k] = zmq_msg_data(src);
        m.len[k] = zmq_msg_size(src);
    }
    if (f->tap)
        f->tap(f->tap_ctx, &m);
    feed_checker_take(&f->check, &m, f->topics[i], f->endpoint[i], ev);
    *got = true;
    for (int k = 0; k < kept; k++)
        zmq_msg_close(&part[k]);
    return CW_OK;
}

cw_code feed_next(feed *f, int timeout_ms, feed_event *ev, bool *got, cw_err *err)
{
    if (got)
        *got = false;
    if (f == NULL || ev == NULL || got == NULL)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "feed_next: NULL %s",
                          f == NULL ? "feed" : ev == NULL ? "event" : "got");
    if (feed_checker_pending(&f->check, ev)) {
        *got = true;
        return CW_OK;
    }
    if (f->body_live) {
        zmq_msg_close(&f->body);
        f->body_live = false;
    }
    zmq_pollitem_t items[FEED_TOPIC_COUNT];
    for (int i = 0; i < f->nsock; i++)
        items[i] = (zmq_pollitem_t){.socket = f->sock[i], .events = ZMQ_POLLIN};
    int rc = zmq_poll(items, f->nsock, timeout_ms < 0 ? -1 : (long)timeout_ms);
    if (rc < 0) {
        if (zmq_errno() == EINTR)
            return CW_OK;
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "zmq poll: %s", zmq_strerror(zmq_errno()));
    }
    for (int k = 0; k < f->nsock && rc > 0; k++) {
        int i = (f->next_sock + k) % f->nsock;
        if (items[i].revents & ZMQ_POLLIN) {
            f->next_sock = (i + 1) % f->nsock;
            return read_message(f, i, ev, got, err);
        }
    }
    return CW_OK;
}

void feed_stats_get(const feed *f, feed_stats *out)
{
    if (out == NULL)
        return;
    if (f == NULL) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = f->check.st;
}

void feed_close(feed *f)
{
    if (f == NULL)
        return;
    if (f->body_live)
        zmq_msg_close(&f->body);
    for (int i = 0; i < f->nsock; i++) {
        if (f->sock[i])
            zmq_close(f->sock[i]);
        free(f->endpoint[i]);
    }
    if (f->ctx)
        while (zmq_ctx_term(f->ctx) != 0 && zmq_errno() == EINTR)
            ;
    free(f);
}
