/*
 * sink.h: where signed alert records go: a JSON-lines file (appended,
 * fsynced when the pipeline asks) or stdout, and optionally a ZeroMQ PUB
 * socket (topic "alert"). Plugs into pipeline_config's sink/durable.
 *
 * After a crash the pipeline re-sends what its outbox still holds, oldest
 * first; the sink skips exactly the records the file already has, so each
 * record lands once. Records carry their trail seq (alert.h): the first
 * re-sent record's seq is looked up in the file (backwards from its end,
 * one line per seq), and from there each re-sent record is compared byte
 * for byte with the file's next line; the first that differs, or the
 * file's end, ends the skipping. Records without seq (written before the
 * trail) fall back to a search of the file's last megabyte.
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
    bool resending;  /* between alert_sink_load_tail and the first new record */
    long long resend_end; /* the file's size at alert_sink_load_tail */
    long long cmp_off;    /* where the next re-sent record should be in the file; -1 not looked up yet */
} alert_sink;

/* Opens s (the caller's struct, zeroed first): "-" is stdout; otherwise
 * the file is created (0644) or appended, and a last line without its
 * newline (a crash mid-write: that record is still in the outbox) is cut
 * off. CW_EIO naming the file when it cannot be opened, read or cut (a read
 * error never cuts). */
cw_code alert_sink_open(alert_sink *s, const char *path, cw_err *err);
/* Binds a ZeroMQ PUB socket at endpoint (e.g. tcp://127.0.0.1:28340): every
 * record is also published as ["alert", line], without waiting for slow
 * subscribers. Publishing is best effort (a full queue drops the message,
 * unreported): the file is the record that counts. CW_EIO when the bind
 * fails. alert_sink_close closes it. */
cw_code alert_sink_bind_pub(alert_sink *s, const char *endpoint, cw_err *err);
/* Closes the file (not stdout), the tail and a socket this sink bound. */
void alert_sink_close(alert_sink *s);
/* Starts skipping re-sent records the file holds (see above), then stops
 * once the restart's re-sends are done. No-op for stdout or an empty file.
 * Has no error path: when the tail cannot be read, re-sent records that
 * carry no seq are written again (a duplicate, never a loss). */
void alert_sink_load_tail(alert_sink *s);
/* Stops skipping and frees the tail. */
void alert_sink_drop_tail(alert_sink *s);
/* pipeline_sink_fn and pipeline_sync_fn (ctx is the alert_sink).
 * alert_sink_line writes line and a newline in one write; false when out
 * of memory or the write failed (a partial write is cut off again, so the
 * file never holds half a record). alert_sink_durable fsyncs the file, or
 * stdout when it is a regular file or block device: false when that fails;
 * true for a stdout that is a pipe, terminal or other device, and for
 * files that cannot be synced (EINVAL). */
bool alert_sink_line(void *ctx, const char *line, size_t len);
bool alert_sink_durable(void *ctx);

#endif
