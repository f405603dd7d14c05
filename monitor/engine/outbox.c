/*
 * outbox.c: the outbox (alertdb.h) between a committed record and the
 * sinks.
 *
 * Design note. A record enters the outbox in the write transaction that
 * made it (records.c), under the next sequence number, so the outbox is in
 * commit order and holds nothing a crash could take back. outbox_flush
 * hands records to the sink oldest first from a read transaction, then
 * asks the sink to make them durable (fsync), and only then removes them,
 * in a write transaction of its own. A crash before the removal hands them
 * over again after the restart; the alerts file sink finds their seq in its
 * tail and skips what it holds (sink.h). A mempool sighting is written at
 * once but made durable with the next block: the file is fsynced per
 * block, and until then the record stays queued.
 */
#include <string.h>

#include "pipeline_internal.h"
#include "watchlists/alertdb.h"

cw_code outbox_resume(pipeline *p, store_txn *t, cw_err *err)
{
    uint64_t last;
    cw_code rc = alertdb_outbox_last(t, &last, err);
    if (rc == CW_OK && last > p->outbox_seq)
        p->outbox_seq = last;
    return rc;
}

cw_code outbox_queue(pipeline *p, store_txn *t, const char *line, size_t n, cw_err *err)
{
    return alertdb_outbox_put(t, ++p->outbox_seq, line, n, err);
}

typedef struct {
    pipeline *p;
    size_t sent, bytes;
    bool refused, more;
} send_ctx;

/* Hands one record to the sink. A pass stops at 4096 records or 512 KiB
 * (more is then set): batches stay under the sink's 1 MB tail check. */
static bool send_one(void *arg, uint64_t seq, cw_span line)
{
    send_ctx *s = arg;
    if (s->sent >= 4096 || s->bytes >= (512u << 10)) {
        s->more = true;
        return false;
    }
    s->bytes += line.n + 1;
    if (!s->p->cfg.sink(s->p->cfg.sink_ctx, (const char *)line.p, line.n)) {
        s->refused = true;
        return false;
    }
    s->p->written = seq;
    s->sent++;
    return true;
}

static cw_code remove_written(store_txn *t, void *arg, cw_err *err)
{
    const pipeline *p = arg;
    return alertdb_outbox_remove_through(t, p->written, err);
}

cw_code outbox_flush(pipeline *p, bool durable, cw_err *err)
{
    for (;;) {
        store_txn *t;
        cw_code rc = store_begin(p->cfg.store, false, &t, err);
        if (rc)
            return rc;
        send_ctx s = {p, 0, 0, false, false};
        rc = alertdb_outbox_each(t, p->written, send_one, &s, err); /* `written`: already handed over */
        store_abort(t);
        p->st.records_written += s.sent;
        if (rc)
            return rc;
        if (s.refused)
            return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "the alert sink refused a record (it stays queued)");
        if (s.more)
            continue;
        if (!durable || p->written == 0)
            return CW_OK;
        if (p->cfg.durable && !p->cfg.durable(p->cfg.sink_ctx))
            return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "the alert sink could not make records durable (fsync)");
        /* durable: everything up to `written` leaves the outbox (one fsync:
         * NOSYNC could corrupt the store on a power loss) */
        if ((rc = store_write(p->cfg.store, remove_written, p, err)))
            return rc;
        p->written = 0; /* the outbox is empty up to here */
        return CW_OK;
    }
}

cw_code pipeline_flush(pipeline *p, cw_err *err) { return outbox_flush(p, true, err); }
