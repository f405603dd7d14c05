#include "feed_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const topic_names[FEED_TOPIC_COUNT] = {"rawtx", "rawblock", "sequence"};

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

bool feed_checker_get_last(const feed_checker *c, feed_topic t, uint32_t *seq)
{
    if (c == NULL || (int)t < 0 || t >= FEED_TOPIC_COUNT || !c->have_last[t])
        return false;
    *seq = c->last[t];
    return true;
}

void feed_checker_set_last(feed_checker *c, feed_topic t, uint32_t seq)
{
    if (c == NULL || (int)t < 0 || t >= FEED_TOPIC_COUNT)
        return;
    c->have_last[t] = true;
    c->last[t] = seq;
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

void feed_checker_take(feed_checker *c, const feed_message *m, unsigned topics, const char *source, feed_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->received_at = m->received_at;
    unsigned total = m->nframes;
    const uint8_t *tp = total >= 1 ? m->frame[0] : NULL;
    size_t tn = total >= 1 ? m->len[0] : 0;
    int topic = tp ? topic_of(tp, tn) : -1;
    char q[48 * 4 + 8] = "";
    if (tp)
        quote_frame(tp, tn, q, sizeof q);
    if (topic < 0) {
        bad(ev, -1, "unknown topic '%s' (%u frame%s)", q, total, total == 1 ? "" : "s");
    } else if (total != 3) {
        bad(ev, topic, "3 frames expected, got %u (topic %s)", total, q);
    } else if (!(topics & (1u << topic))) {
        bad(ev, topic, "topic %s arrived on '%s', which is not configured for it", q, source ? source : "?");
    } else if (m->len[2] != 4) {
        bad(ev, topic, "sequence frame of %zu bytes, 4 expected (topic %s)", m->len[2], q);
    } else {
        const uint8_t *cf = m->frame[2];
        uint32_t seq = (uint32_t)cf[0] | (uint32_t)cf[1] << 8 | (uint32_t)cf[2] << 16 | (uint32_t)cf[3] << 24;
        ev->kind = FEED_EV_MSG;
        ev->topic = (feed_topic)topic;
        ev->body = m->frame[1];
        ev->len = m->len[1];
        ev->seq = seq;
        uint32_t exp;
        bool restart;
        if (c->have_last[topic] && feed_seq_gap(c->last[topic], seq, &exp, &restart)) {
            /* the GAP goes first, so the caller learns of the loss before
             * it handles what came after it */
            c->pending_ev = *ev;
            c->pending = true;
            ev->kind = FEED_EV_GAP;
            ev->body = NULL;
            ev->len = 0;
            ev->expected = exp;
            ev->restart = restart;
            c->st.gaps[topic]++;
            c->st.lost_estimate += restart ? seq : seq - exp;
        } else {
            c->have_last[topic] = true;
            c->last[topic] = seq;
            c->st.msgs[topic]++;
        }
    }
    if (ev->kind == FEED_EV_BAD)
        c->st.bad++;
}

bool feed_checker_pending(feed_checker *c, feed_event *ev)
{
    if (!c->pending)
        return false;
    c->pending = false;
    *ev = c->pending_ev;
    c->have_last[ev->topic] = true;
    c->last[ev->topic] = ev->seq;
    c->st.msgs[ev->topic]++;
    return true;
}

bool feed_checker_has_pending(const feed_checker *c)
{
    return c->pending;
}
