#include "feed_zmq.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define FEED_DEFAULT_RCVHWM 100000
#define FEED_DEFAULT_MAXMSGSIZE ((int64_t)16 * 1024 * 1024)
#define FEED_RECONNECT_MS 100
#define FEED_RECONNECT_MAX_MS 5000

static const char *const topic_names[FEED_TOPIC_COUNT] = {"rawtx", "rawblock", "sequence"};

struct feed {
    void *ctx;
    int nsock;
    void *sock[FEED_TOPIC_COUNT];
    unsigned topics[FEED_TOPIC_COUNT]; /* per socket: bit t = topic t */
    char *endpoint[FEED_TOPIC_COUNT];  /* per socket */
    int next_sock;                     /* where the next scan starts, so one busy socket cannot starve others */
    bool have_last[FEED_TOPIC_COUNT];
    uint32_t last[FEED_TOPIC_COUNT];
    zmq_msg_t body; /* the frame the last MSG (or pending MSG) points into */
    bool body_live;
    bool pending; /* a MSG held back behind the GAP just returned */
    feed_event pending_ev;
    feed_stats st;
};

bool feed_get_last(const feed *f, feed_topic t, uint32_t *seq)
{
    if (f == NULL || (int)t < 0 || t >= FEED_TOPIC_COUNT || !f->have_last[t])
        return false;
    *seq = f->last[t];
    return true;
}

void feed_set_last(feed *f, feed_topic t, uint32_t seq)
{
    if (f == NULL || (int)t < 0 || t >= FEED_TOPIC_COUNT)
        return;
    f->have_last[t] = true;
    f->last[t] = seq;
}

const char *feed_topic_name(feed_topic t)
{
    if ((int)t < 0 || t >= FEED_TOPIC_COUNT)
        return "?";
    return topic_names[t];
}

bool feed_seq_gap(uint32_t last, uint32_t got, uint32_t *expected, bool *restart)
{
    uint32_t exp = last + 1u; /* unsigned: wraps at 2^32 by definition */
    if (expected)
        *expected = exp;
    if (restart)
        *restart = false;
    if (got == exp)
        return false;
    if (restart)
        *restart = got < exp;
    return true;
}

static double now_realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int topic_of(const void *p, size_t n)
{
    for (int t = 0; t < FEED_TOPIC_COUNT; t++)
        if (strlen(topic_names[t]) == n && memcmp(topic_names[t], p, n) == 0)
            return t;
    return -1;
}

/* A topic frame as a quoted, printable, bounded string for reasons. */
static void quote_frame(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t o = 0, max = 40;
    for (size_t i = 0; i < n && i < max && o + 5 < cap; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\'' && p[i] != '\\')
            out[o++] = (char)p[i];
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", p[i]);
    }
    if (n > max && o + 4 < cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
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
            zmq_setsockopt(s, ZMQ_SUBSCRIBE, topic_names[t], strlen(topic_names[t])) != 0)
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
                                  topic_names[t]);
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
    *out = f;
    return CW_OK;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void bad(feed_event *ev, int topic, const char *fmt, ...)
{
    ev->kind = FEED_EV_BAD;
    ev->topic = topic < 0 ? FEED_TOPIC_COUNT : (feed_topic)topic;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev->reason, sizeof ev->reason, fmt, ap);
    va_end(ap);
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

    memset(ev, 0, sizeof *ev);
    ev->received_at = now_realtime();
    *got = true;
    const uint8_t *tp = zmq_msg_data(&part[0]);
    size_t tn = zmq_msg_size(&part[0]);
    int topic = topic_of(tp, tn);
    char q[48 * 4 + 8];
    quote_frame(tp, tn, q, sizeof q);
    if (topic < 0) {
        bad(ev, -1, "unknown topic '%s' (%d frame%s)", q, total, total == 1 ? "" : "s");
    } else if (total != 3) {
        bad(ev, topic, "3 frames expected, got %d (topic %s)", total, q);
    } else if (!(f->topics[i] & (1u << topic))) {
        bad(ev, topic, "topic %s arrived on '%s', which is not configured for it", q, f->endpoint[i]);
    } else if (zmq_msg_size(&part[2]) != 4) {
        bad(ev, topic, "sequence frame of %zu bytes, 4 expected (topic %s)", zmq_msg_size(&part[2]), q);
    } else {
        const uint8_t *c = zmq_msg_data(&part[2]);
        uint32_t seq = (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
        zmq_msg_init(&f->body);
        zmq_msg_move(&f->body, &part[1]);
        f->body_live = true;
        ev->kind = FEED_EV_MSG;
        ev->topic = (feed_topic)topic;
        ev->body = zmq_msg_data(&f->body);
        ev->len = zmq_msg_size(&f->body);
        ev->seq = seq;
        uint32_t exp;
        bool restart;
        if (f->have_last[topic] && feed_seq_gap(f->last[topic], seq, &exp, &restart)) {
            f->pending_ev = *ev;
            f->pending = true;
            ev->kind = FEED_EV_GAP;
            ev->body = NULL;
            ev->len = 0;
            ev->expected = exp;
            ev->restart = restart;
            f->st.gaps[topic]++;
            f->st.lost_estimate += restart ? seq : seq - exp;
        } else {
            f->have_last[topic] = true;
            f->last[topic] = seq;
            f->st.msgs[topic]++;
        }
    }
    if (ev->kind == FEED_EV_BAD)
        f->st.bad++;
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
    if (f->pending) {
        f->pending = false;
        *ev = f->pending_ev;
        f->have_last[ev->topic] = true;
        f->last[ev->topic] = ev->seq;
        f->st.msgs[ev->topic]++;
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
    *out = f->st;
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
