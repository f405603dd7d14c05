/*
 * sink.h: where signed alert records go: a JSON-lines file (appended,
 * fsynced when the pipeline asks) or stdout, and optionally a ZeroMQ PUB
 * socket (topic "alert"). Plugs into pipeline_config's sink/durable.
 *
 * After a crash the pipeline re-sends what its outbox still holds; the file
 * tail loaded at start lets the sink skip records the file already has, so
 * each record lands exactly once.
 */
#ifndef CW_SINK_H
#define CW_SINK_H

#include <stdbool.h>
#include <stddef.h>

#include "chains/err.h"

typedef struct {
    int fd;          /* the file, or 1 for stdout */
    bool is_stdout;
    void *pub;       /* ZMQ PUB socket or NULL (the caller's, unless alert_sink_bind_pub made it) */
    void *pub_ctx;   /* set by alert_sink_bind_pub: the sink owns socket and context */
    char *tail;      /* the file's last bytes at start, while re-sending */
    size_t tail_len;
} alert_sink;

/* "-" is stdout; otherwise the file is created or appended. */
cw_code alert_sink_open(alert_sink *s, const char *path, cw_err *err);
/* Binds a ZeroMQ PUB socket at endpoint (e.g. tcp://127.0.0.1:28340): every
 * record is also published as ["alert", line], without waiting for slow
 * subscribers. alert_sink_close closes it. */
cw_code alert_sink_bind_pub(alert_sink *s, const char *endpoint, cw_err *err);
void alert_sink_close(alert_sink *s);
/* Remembers the file's last megabyte, then forgets it once the restart's
 * re-sends are done. */
void alert_sink_load_tail(alert_sink *s);
void alert_sink_drop_tail(alert_sink *s);
/* pipeline_sink_fn and pipeline_sync_fn. */
bool alert_sink_line(void *ctx, const char *line, size_t len);
bool alert_sink_durable(void *ctx);

#endif
