#include "feed_dispatch.h"

#include <stdarg.h>
#include <stdio.h>

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void say(feed_log_fn log, void *ctx, feed_log_level level, const char *fmt, ...)
{
    if (log == NULL)
        return;
    char line[CW_ERR_MSG_MAX + 200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log(ctx, level, line);
}

cw_code feed_dispatch(pipeline *p, const feed_event *ev, feed_log_fn log, void *log_ctx, cw_err *err)
{
    cw_err local = {0};
    if (err == NULL)
        err = &local;
    err->msg[0] = '\0';
    const char *topic = feed_topic_name(ev->topic);
    if (ev->kind == FEED_EV_MSG || ev->kind == FEED_EV_GAP)
        pipeline_note_counter(p, ev->topic, topic, ev->seq);
    cw_code rc = CW_OK;
    switch (ev->kind) {
    case FEED_EV_BAD:
        say(log, log_ctx, FEED_LOG_WARN, "feed: bad message skipped: %s", ev->reason);
        return CW_OK;
    case FEED_EV_GAP:
        say(log, log_ctx, FEED_LOG_WARN, "feed: %s counter %s: expected %u, got %u", topic,
            ev->restart ? "restarted (node restart)" : "skipped (messages lost)", ev->expected, ev->seq);
        rc = pipeline_gap(p, topic, ev->expected, ev->seq, ev->restart, ev->received_at, err);
        break;
    case FEED_EV_MSG:
        if (ev->topic == FEED_RAWTX)
            rc = pipeline_tx(p, ev->body, ev->len, err);
        else if (ev->topic == FEED_RAWBLOCK)
            rc = pipeline_block(p, ev->body, ev->len, err);
        else if (ev->topic == FEED_SEQUENCE)
            rc = pipeline_sequence(p, ev->body, ev->len, err);
        break;
    }
    if (rc)
        say(log, log_ctx, rc == CW_EFORMAT || rc == CW_ETRUNC || rc == CW_ELIMIT ? FEED_LOG_WARN : FEED_LOG_ERROR,
            "%s #%u: %s", topic, ev->seq, err->msg);
    return rc;
}

cw_code feed_saved_counters(pipeline *p, unsigned topics, uint32_t seq[FEED_TOPIC_COUNT], unsigned *found,
                            cw_err *err)
{
    *found = 0;
    for (int t = 0; t < FEED_TOPIC_COUNT; t++) {
        bool have = false;
        cw_code rc;
        if ((topics & (1u << t)) &&
            (rc = pipeline_saved_counter(p, feed_topic_name((feed_topic)t), &seq[t], &have, err)))
            return cw_err_prefix(err, rc, "feed counter of %s", feed_topic_name((feed_topic)t));
        if (have)
            *found |= 1u << t;
    }
    return CW_OK;
}
