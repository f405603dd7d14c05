#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <stdint.h>
#include <zmq.h>

cw_code alert_sink_open(alert_sink *s, const char *path, cw_err *err)
{
    memset(s, 0, sizeof *s);
    if (strcmp(path, "-") == 0) {
        s->fd = 1;
        s->is_stdout = true;
        return CW_OK;
    }
    s->fd = open(path, O_RDWR | O_APPEND | O_CREAT, 0644);
    if (s->fd < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot open the alerts file %s: %s", path, strerror(errno));
    /* A file that ends mid-record (a crash during a write): that record was
     * never made durable, so it is still queued; cut the fragment. */
    struct stat st;
    if (fstat(s->fd, &st) != 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot read the alerts file %s: %s", path, strerror(errno));
    /* A read error must not pass for the start of the last line: cutting
     * there would drop whole records. */
    off_t end = st.st_size;
    while (end > 0) {
        char chunk[4096];
        size_t n = end >= (off_t)sizeof chunk ? sizeof chunk : (size_t)end;
        ssize_t r = pread(s->fd, chunk, n, end - (off_t)n);
        if (r != (ssize_t)n)
            return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot read the alerts file %s at byte %lld: %s", path,
                              (long long)(end - (off_t)n), r < 0 ? strerror(errno) : "it shrank while read");
        size_t i = n;
        while (i > 0 && chunk[i - 1] != '\n')
            i--;
        end -= (off_t)(n - i);
        if (i > 0)
            break;
    }
    if (end != st.st_size && ftruncate(s->fd, end) != 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot cut a partial record from %s: %s", path, strerror(errno));
    return CW_OK;
}

cw_code alert_sink_bind_pub(alert_sink *s, const char *endpoint, cw_err *err)
{
    s->pub_ctx = zmq_ctx_new();
    s->pub = s->pub_ctx ? zmq_socket(s->pub_ctx, ZMQ_PUB) : NULL;
    int linger = 1000; /* at exit, a second to hand queued records to subscribers */
    if (s->pub)
        zmq_setsockopt(s->pub, ZMQ_LINGER, &linger, sizeof linger);
    if (s->pub == NULL || zmq_bind(s->pub, endpoint) != 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot bind --pub %s: %s", endpoint, zmq_strerror(zmq_errno()));
    return CW_OK;
}

void alert_sink_close(alert_sink *s)
{
    if (s->fd > 2)
        close(s->fd);
    s->fd = -1;
    alert_sink_drop_tail(s);
    if (s->pub_ctx) { /* only a socket this sink bound itself */
        if (s->pub)
            zmq_close(s->pub);
        zmq_ctx_term(s->pub_ctx);
        s->pub = s->pub_ctx = NULL;
    }
}

void alert_sink_load_tail(alert_sink *s)
{
    if (s->is_stdout || s->fd < 0)
        return;
    struct stat st;
    if (fstat(s->fd, &st) != 0 || st.st_size == 0)
        return;
    s->resending = true;
    s->resend_end = (long long)st.st_size;
    s->cmp_off = -1;
    size_t n = st.st_size > (1 << 20) ? (1 << 20) : (size_t)st.st_size;
    s->tail = malloc(n);
    if (s->tail && pread(s->fd, s->tail, n, st.st_size - (off_t)n) == (ssize_t)n) {
        s->tail_len = n;
    } else {
        free(s->tail);
        s->tail = NULL;
    }
}

void alert_sink_drop_tail(alert_sink *s)
{
    s->resending = false;
    free(s->tail);
    s->tail = NULL;
    s->tail_len = 0;
}

/* Is this exact line (followed by a newline or the end) in the tail? */
static bool in_tail(const alert_sink *s, const char *line, size_t len)
{
    const char *end = s->tail + s->tail_len;
    for (const char *p = s->tail; p + len <= end;) {
        const char *hit = memchr(p, line[0], (size_t)(end - p));
        if (hit == NULL || hit + len > end)
            return false;
        if (memcmp(hit, line, len) == 0 && (hit + len == end || hit[len] == '\n') && (hit == s->tail || hit[-1] == '\n'))
            return true;
        p = hit + 1;
    }
    return false;
}

/* The trail seq of a record line; 0 when it has none (or is no record). */
static uint64_t seq_of(const char *line, size_t len)
{
    json_t *r = json_loadb(line, len, 0, NULL);
    json_t *v = json_object_get(r, "seq");
    uint64_t seq = json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
    json_decref(r);
    return seq;
}

/* Reads the file's line that ends just before `end` (at a newline or the
 * file's end) into *buf; its start in *start. False at the file's start or
 * on a read error. */
static bool line_before(const alert_sink *s, long long end, char **buf, size_t *cap, long long *start)
{
    if (end <= 0)
        return false;
    long long e = end;
    char c;
    if (pread(s->fd, &c, 1, (off_t)(e - 1)) == 1 && c == '\n')
        e--; /* the newline ending the line */
    long long b = e;
    while (b > 0) {
        char chunk[4096];
        size_t n = b >= (long long)sizeof chunk ? sizeof chunk : (size_t)b;
        if (pread(s->fd, chunk, n, (off_t)(b - (long long)n)) != (ssize_t)n)
            return false;
        size_t i = n;
        while (i > 0 && chunk[i - 1] != '\n')
            i--;
        if (i > 0) {
            b = b - (long long)n + (long long)i;
            break;
        }
        b -= (long long)n;
    }
    size_t len = (size_t)(e - b);
    if (len + 1 > *cap) {
        char *m = realloc(*buf, len + 1);
        if (m == NULL)
            return false;
        *buf = m;
        *cap = len + 1;
    }
    if (pread(s->fd, *buf, len, (off_t)b) != (ssize_t)len)
        return false;
    (*buf)[len] = '\0';
    *start = b;
    return true;
}

/* Finds the line holding trail seq `seq` in the file as it was at load,
 * walking back from its end: the trail is in seq order, so the walk stops
 * at the first lower seq (or a line without one). -1 when absent. */
static long long find_seq(const alert_sink *s, uint64_t seq)
{
    char *buf = NULL;
    size_t cap = 0;
    long long end = s->resend_end, start, found = -1;
    while (line_before(s, end, &buf, &cap, &start)) {
        uint64_t got = seq_of(buf, strlen(buf));
        if (got == seq)
            found = start;
        if (got <= seq)
            break;
        end = start;
    }
    free(buf);
    return found;
}

/* Is this re-sent record already in the file? Exact for records with a
 * trail seq: the same bytes where the file holds that seq. */
static bool already_in_file(alert_sink *s, const char *line, size_t len)
{
    if (s->cmp_off < 0) {
        uint64_t seq = seq_of(line, len);
        if (seq == 0) /* written before the trail: the old tail search */
            return s->tail && in_tail(s, line, len);
        if ((s->cmp_off = find_seq(s, seq)) < 0) {
            s->resending = false; /* not in the file: neither is anything after it */
            return false;
        }
    }
    bool same = false;
    if (s->cmp_off + (long long)len + 1 <= s->resend_end) {
        char *buf = malloc(len + 1);
        same = buf && pread(s->fd, buf, len + 1, (off_t)s->cmp_off) == (ssize_t)(len + 1) &&
               memcmp(buf, line, len) == 0 && buf[len] == '\n';
        free(buf);
    }
    if (!same) {
        s->resending = false; /* the file ends, or holds something else, from here */
        return false;
    }
    s->cmp_off += (long long)len + 1;
    return true;
}

bool alert_sink_line(void *ctx, const char *line, size_t len)
{
    alert_sink *s = ctx;
    if (len == 0)
        return true;
    if (s->resending && already_in_file(s, line, len))
        return true;
    /* line and newline in one write; a write that fails half way (disk
     * full) is rolled back, so the file never holds half a record: the
     * record stays queued and is written whole later */
    char *buf = malloc(len + 1);
    if (buf == NULL)
        return false;
    memcpy(buf, line, len);
    buf[len] = '\n';
    struct stat st;
    off_t before = !s->is_stdout && fstat(s->fd, &st) == 0 ? st.st_size : -1;
    for (size_t done = 0; done < len + 1;) {
        ssize_t w = write(s->fd, buf + done, len + 1 - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (before >= 0 && ftruncate(s->fd, before) != 0)
                fprintf(stderr, "chainwatch: alerts file: cannot roll back a partial record: %s\n", strerror(errno));
            free(buf);
            return false;
        }
        done += (size_t)w;
    }
    free(buf);
    if (s->pub) {
        zmq_send(s->pub, "alert", 5, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send(s->pub, line, len, ZMQ_DONTWAIT);
    }
    return true;
}

bool alert_sink_durable(void *ctx)
{
    alert_sink *s = ctx;
    /* stdout redirected to a file holds records like the alerts file does:
     * the outbox may drop them only once they are on disk. A pipe, a
     * terminal or /dev/null has nothing to sync (and fsync says EINVAL). */
    struct stat st;
    if (s->is_stdout && (fstat(s->fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))))
        return true;
    return fsync(s->fd) == 0 || errno == EINVAL;
}
