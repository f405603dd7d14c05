/*
 * capture.c: the capture file writer and reader (format in capture.h).
 *
 * The reader keeps a window of the file in memory and hands out frames that
 * point into it, so replaying a capture copies nothing per message. Every
 * length is checked against the file's size before anything is allocated
 * for it: a damaged length costs an error message, never a huge malloc.
 * The writer validates an existing file with the same reader before it
 * appends, because appending after a cut-short record would make every
 * later record unreadable.
 */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "CWCAP"
#define MAGIC_LEN 5
#define NET_NAME_MAX 16
#define HEADER_MAX (7 + 2 * (1 + NET_NAME_MAX) + 1)
#define RECORD_MIN 16u      /* time (8) + frame count (4) + one empty frame (4) */
#define READ_CHUNK (1u << 20)

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static double get_f64(const uint8_t *p)
{
    uint64_t bits = 0;
    for (int i = 7; i >= 0; i--)
        bits = bits << 8 | p[i];
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static void put_f64(uint8_t *p, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(bits >> (8 * i));
}

/* The header a writer puts at the start of a new file; its length.
 * Bitcoin: version 1 (read by every chainwatch that reads captures);
 * another chain: version 2, which names it. */
const char *capture_chain_name(capture_chain chain)
{
    switch (chain) {
    case CAPTURE_CHAIN_BITCOIN: return "bitcoin";
    case CAPTURE_CHAIN_TRON: return "tron";
    case CAPTURE_CHAIN_ETHEREUM: return "ethereum";
    }
    return "?";
}

static size_t make_header(uint8_t out[HEADER_MAX], capture_chain chain, const char *network, unsigned topics)
{
    size_t n = strlen(network), at = 7;
    memcpy(out, MAGIC, MAGIC_LEN);
    out[5] = chain == CAPTURE_CHAIN_BITCOIN ? '1' : '2';
    out[6] = '\n';
    if (chain != CAPTURE_CHAIN_BITCOIN) {
        const char *name = capture_chain_name(chain);
        out[at++] = (uint8_t)strlen(name);
        memcpy(out + at, name, strlen(name));
        at += strlen(name);
    }
    out[at++] = (uint8_t)n;
    memcpy(out + at, network, n);
    at += n;
    out[at++] = (uint8_t)topics;
    return at;
}

/* A version-2 network name (tron, ethereum): a-z, 0-9 and '-'. */
static bool v2_name_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return n > 0;
}

/* Reads one length-prefixed name at p[at] (1..NET_NAME_MAX bytes) into
 * out; *next is where the field after it starts. */
static cw_code header_name(const uint8_t *p, size_t n, size_t at, const char *path, const char *what, char *out,
                           size_t *next, cw_err *err)
{
    if (n < at + 1)
        return cw_err_set(err, CW_ETRUNC, n, "%s: byte %zu: the file ends inside its header", path, n);
    size_t nl = p[at];
    if (nl == 0 || nl > NET_NAME_MAX)
        return cw_err_set(err, CW_EFORMAT, at, "%s: byte %zu: %s name length %zu (1..%d)", path, at, what, nl,
                          NET_NAME_MAX);
    if (n < at + 1 + nl)
        return cw_err_set(err, CW_ETRUNC, n, "%s: byte %zu: the file ends inside its header", path, n);
    memcpy(out, p + at + 1, nl);
    out[nl] = '\0';
    *next = at + 1 + nl;
    return CW_OK;
}

static void printable(char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            *s = '?';
}

/* Parses a header from the first `n` bytes of the file. */
static cw_code parse_header(const uint8_t *p, size_t n, const char *path, capture_info *info, cw_err *err)
{
    size_t m = n < MAGIC_LEN ? n : MAGIC_LEN;
    if (memcmp(p, MAGIC, m) != 0 || (n >= 7 && !(p[5] >= '0' && p[5] <= '9' && p[6] == '\n')))
        return cw_err_set(err, CW_EFORMAT, 0, "%s: not a chainwatch capture (byte 0: no \"CWCAP<version>\\n\" magic)",
                          path);
    if (n >= 6 && p[5] != '1' && p[5] != '2')
        return cw_err_set(err, CW_EFORMAT, 5,
                          "%s: byte 5: capture format version %c, this chainwatch reads versions 1 and 2", path, p[5]);
    if (n < 8)
        return cw_err_set(err, CW_ETRUNC, n, "%s: byte %zu: the file ends inside its header", path, n);
    unsigned version = (unsigned)(p[5] - '0');
    capture_info ci = {.version = version, .chain = CAPTURE_CHAIN_BITCOIN};
    size_t at = 7;
    cw_code rc;
    if (version == 2) {
        char chain[NET_NAME_MAX + 1];
        if ((rc = header_name(p, n, at, path, "chain", chain, &at, err)))
            return rc;
        if (strcmp(chain, "bitcoin") == 0)
            ci.chain = CAPTURE_CHAIN_BITCOIN;
        else if (strcmp(chain, "tron") == 0)
            ci.chain = CAPTURE_CHAIN_TRON;
        else if (strcmp(chain, "ethereum") == 0)
            ci.chain = CAPTURE_CHAIN_ETHEREUM;
        else {
            printable(chain);
            return cw_err_set(err, CW_EFORMAT, 8, "%s: byte 8: unknown chain '%s' (bitcoin, tron or ethereum)", path,
                              chain);
        }
    }
    size_t net_at = at;
    if ((rc = header_name(p, n, at, path, "network", ci.network, &at, err)))
        return rc;
    size_t nl = strlen(ci.network);
    bool known = ci.chain == CAPTURE_CHAIN_BITCOIN ? cw_net_from_name(ci.network, &ci.net)
                                                   : v2_name_ok(ci.network, nl);
    if (nl != (size_t)p[net_at] || !known) {
        memcpy(ci.network, p + net_at + 1, p[net_at]);
        ci.network[p[net_at]] = '\0';
        printable(ci.network);
        return cw_err_set(err, CW_EFORMAT, net_at + 1, "%s: byte %zu: unknown network '%s' (chain %s)", path, net_at + 1,
                          ci.network, capture_chain_name(ci.chain));
    }
    if (ci.chain != CAPTURE_CHAIN_BITCOIN)
        ci.net = CW_NET_MAIN;
    if (n < at + 1)
        return cw_err_set(err, CW_ETRUNC, n, "%s: byte %zu: the file ends inside its header", path, n);
    unsigned topics = p[at];
    if (topics == 0 || topics > FEED_ALL_TOPICS)
        return cw_err_set(err, CW_EFORMAT, at, "%s: byte %zu: topics byte 0x%02x (bits 0-2, at least one)", path, at,
                          topics);
    ci.topics = topics;
    ci.header_len = at + 1;
    if (info)
        *info = ci;
    return CW_OK;
}

/* ---------------- reading ---------------- */

struct capture_reader {
    int fd;
    bool own_fd;
    char *path;
    uint8_t *buf;      /* file bytes [buf_off, buf_off + len) */
    size_t cap, len;
    uint64_t buf_off;
    uint64_t pos;      /* where the next record starts */
    uint64_t rec_off;  /* where the last record returned (or refused) starts */
    uint64_t size;     /* the file's size when last looked at */
    cw_err failure;    /* sticky after an error: the rest cannot be framed */
    bool failed;
    capture_info info;
    capture_record_kind kind; /* of the last record returned */
};

static cw_code refresh_size(capture_reader *r, cw_err *err)
{
    struct stat st;
    if (fstat(r->fd, &st) != 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "%s: stat: %s", r->path, strerror(errno));
    r->size = (uint64_t)st.st_size;
    return CW_OK;
}

/* Makes the n bytes at r->pos readable at r->buf + (r->pos - r->buf_off)
 * and sets *have to how many of them the file holds (fewer at its end). */
static cw_code window(capture_reader *r, size_t n, size_t *have, cw_err *err)
{
    size_t at = (size_t)(r->pos - r->buf_off);
    if (r->len - at >= n) {
        *have = n;
        return CW_OK;
    }
    size_t keep = r->len - at;
    if (keep > 0)
        memmove(r->buf, r->buf + at, keep);
    r->buf_off = r->pos;
    r->len = keep;
    size_t want = n > READ_CHUNK ? n : READ_CHUNK;
    if (r->cap < want) {
        uint8_t *nb = realloc(r->buf, want);
        if (nb == NULL)
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory for a %zu-byte record", r->path, n);
        r->buf = nb;
        r->cap = want;
    }
    while (r->len < n) {
        ssize_t got = pread(r->fd, r->buf + r->len, r->cap - r->len, (off_t)(r->buf_off + r->len));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return cw_err_set(err, CW_EIO, r->buf_off + r->len, "%s: byte %llu: read: %s", r->path,
                              (unsigned long long)(r->buf_off + r->len), strerror(errno));
        if (got == 0)
            break;
        r->len += (size_t)got;
    }
    *have = r->len < n ? r->len : n;
    return CW_OK;
}

static cw_code reader_init(capture_reader *r, int fd, bool own_fd, const char *path, capture_info *info, cw_err *err)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->own_fd = own_fd;
    r->path = strdup(path);
    if (r->path == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "capture: out of memory");
    cw_code rc = refresh_size(r, err);
    size_t have = 0;
    if (rc == CW_OK)
        rc = window(r, HEADER_MAX, &have, err);
    if (rc == CW_OK && have == 0)
        rc = cw_err_set(err, CW_ETRUNC, 0, "%s: empty file, not a chainwatch capture", path);
    if (rc == CW_OK)
        rc = parse_header(r->buf, have, path, &r->info, err);
    if (rc)
        return rc;
    r->pos = r->rec_off = r->info.header_len;
    if (info)
        *info = r->info;
    return CW_OK;
}

static void reader_free(capture_reader *r)
{
    if (r->own_fd && r->fd >= 0)
        close(r->fd);
    free(r->buf);
    free(r->path);
}

cw_code capture_reader_open(const char *path, capture_reader **out, capture_info *info, cw_err *err)
{
    if (path == NULL || out == NULL)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "capture_reader_open: NULL %s", path ? "out" : "path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot open capture %s: %s", path, strerror(errno));
    capture_reader *r = malloc(sizeof *r);
    if (r == NULL) {
        close(fd);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "capture: out of memory");
    }
    cw_code rc = reader_init(r, fd, true, path, info, err);
    if (rc) {
        reader_free(r);
        free(r);
        return rc;
    }
    *out = r;
    return CW_OK;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static cw_code fail_record(capture_reader *r, cw_code code, cw_err *err, const char *fmt, ...)
{
    char why[CW_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    r->failed = true;
    cw_err_set(&r->failure, code, r->rec_off, "%s: record at byte %llu: %s", r->path,
               (unsigned long long)r->rec_off, why);
    if (err)
        *err = r->failure;
    return code;
}

cw_code capture_read(capture_reader *r, feed_message *m, bool *got, cw_err *err)
{
    if (got)
        *got = false;
    if (r == NULL || m == NULL || got == NULL)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "capture_read: NULL %s",
                          r == NULL ? "reader" : m == NULL ? "message" : "got");
    if (r->failed) {
        if (err)
            *err = r->failure;
        return r->failure.code;
    }
    r->rec_off = r->pos;
    size_t have;
    cw_code rc = window(r, 4, &have, err);
    if (rc)
        return rc;
    if (have == 0)
        return CW_OK; /* the end, between records */
    if (have < 4)
        return fail_record(r, CW_ETRUNC, err, "the file ends %zu byte%s into its 4-byte length (cut short)", have,
                           have == 1 ? "" : "s");
    uint32_t len = get32(r->buf + (r->pos - r->buf_off));
    if (len < RECORD_MIN)
        return fail_record(r, CW_EFORMAT, err, "length %u is below the minimum of %u", len, RECORD_MIN);
    if (len > CAPTURE_MAX_RECORD)
        return fail_record(r, CW_ELIMIT, err, "length %u is above the limit of %u", len, CAPTURE_MAX_RECORD);
    uint64_t total = 4 + (uint64_t)len;
    if (r->pos + total > r->size && (rc = refresh_size(r, err)))
        return rc;
    if (r->pos + total > r->size)
        return fail_record(r, CW_ETRUNC, err,
                           "%llu bytes long, but the file ends %llu bytes into it (cut short: the recorder stopped "
                           "mid-write, or the length is damaged)",
                           (unsigned long long)total, (unsigned long long)(r->size - r->pos));
    if ((rc = window(r, (size_t)total, &have, err)))
        return rc;
    if (have < total)
        return fail_record(r, CW_ETRUNC, err, "%llu bytes long, but the file ends %zu bytes into it (cut short)",
                           (unsigned long long)total, have);
    const uint8_t *p = r->buf + (r->pos - r->buf_off);
    uint32_t nframes = get32(p + 12);
    capture_record_kind kind = CAPTURE_REC_MESSAGE;
    if (r->info.version >= 2 && (nframes & CAPTURE_HTTP_FLAG)) {
        kind = CAPTURE_REC_HTTP;
        nframes &= ~CAPTURE_HTTP_FLAG;
        if (nframes != 3)
            return fail_record(r, CW_EFORMAT, err, "an HTTP exchange of %u frames (3: path, request body, reply)",
                               nframes);
    }
    if (nframes == 0)
        return fail_record(r, CW_EFORMAT, err, "a message of 0 frames");
    memset(m, 0, sizeof *m);
    m->received_at = get_f64(p + 4);
    m->nframes = nframes;
    size_t off = 16;
    unsigned stored = nframes < FEED_MSG_FRAMES ? nframes : FEED_MSG_FRAMES;
    for (unsigned i = 0; i < stored; i++) {
        if (off + 4 > total)
            return fail_record(r, CW_EFORMAT, err, "frame %u's length would start at byte %zu of a %llu-byte record", i,
                               off, (unsigned long long)total);
        uint32_t fl = get32(p + off);
        if (fl > total - off - 4)
            return fail_record(r, CW_EFORMAT, err, "frame %u (%u bytes) runs past the record's end", i, fl);
        m->frame[i] = p + off + 4;
        m->len[i] = fl;
        off += 4 + (size_t)fl;
    }
    if (off != total)
        return fail_record(r, CW_EFORMAT, err, "%llu bytes after its %u frame%s (the lengths do not add up)",
                           (unsigned long long)(total - off), stored, stored == 1 ? "" : "s");
    r->pos += total;
    r->kind = kind;
    *got = true;
    return CW_OK;
}

capture_record_kind capture_reader_kind(const capture_reader *r)
{
    return r ? r->kind : CAPTURE_REC_MESSAGE;
}

cw_code capture_eth_record(const capture_reader *r, const feed_message *m, capture_eth_kind *kind, cw_code *outcome,
                           cw_err *err)
{
    if (r == NULL || m == NULL || kind == NULL || outcome == NULL)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "capture_eth_record: NULL argument");
    if (r->info.chain != CAPTURE_CHAIN_ETHEREUM)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "%s is a capture of %s, not ethereum", r->path,
                          capture_chain_name(r->info.chain));
    if (r->kind != CAPTURE_REC_HTTP || m->nframes != 3)
        return cw_err_set(err, CW_EFORMAT, r->rec_off,
                          "%s: record at byte %llu: a feed message in an ethereum capture (only JSON-RPC exchanges "
                          "belong there)",
                          r->path, (unsigned long long)r->rec_off);
    static const struct {
        const char *name;
        cw_code code;
        capture_eth_kind kind;
    } names[] = {{"settings", CW_OK, CAPTURE_ETH_SETTINGS},
                 {"ok", CW_OK, CAPTURE_ETH_EXCHANGE},
                 {"eio", CW_EIO, CAPTURE_ETH_EXCHANGE},
                 {"elimit", CW_ELIMIT, CAPTURE_ETH_EXCHANGE},
                 {"enomem", CW_ENOMEM, CAPTURE_ETH_EXCHANGE}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (m->len[0] == strlen(names[i].name) && memcmp(m->frame[0], names[i].name, m->len[0]) == 0) {
            *kind = names[i].kind;
            *outcome = names[i].code;
            return CW_OK;
        }
    return cw_err_set(err, CW_EFORMAT, r->rec_off,
                      "%s: record at byte %llu: an exchange whose outcome is not ok, eio, elimit or enomem (nor the "
                      "settings record)",
                      r->path, (unsigned long long)r->rec_off);
}

uint64_t capture_reader_offset(const capture_reader *r)
{
    return r ? r->rec_off : 0;
}

uint64_t capture_reader_pos(const capture_reader *r)
{
    return r ? r->pos : 0;
}

uint64_t capture_reader_size(const capture_reader *r)
{
    return r ? r->size : 0;
}

void capture_reader_close(capture_reader *r)
{
    if (r == NULL)
        return;
    reader_free(r);
    free(r);
}

/* ---------------- writing ---------------- */

struct capture_writer {
    int fd;
    unsigned version; /* of the file's header */
    char *path;
    uint64_t size;   /* the end of the last whole record */
    uint64_t count;
    bool dirty;
    uint8_t *buf;
    size_t cap;
};

static void writer_free(capture_writer *w)
{
    if (w->fd >= 0)
        close(w->fd); /* also drops the fcntl lock */
    free(w->path);
    free(w->buf);
    free(w);
}

static cw_code write_all(int fd, const uint8_t *p, size_t n, size_t *done)
{
    *done = 0;
    while (*done < n) {
        ssize_t k = write(fd, p + *done, n - *done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return CW_EIO;
        *done += (size_t)k;
    }
    return CW_OK;
}

/* Reads an existing capture through: checks it is ours (same network and
 * topics), counts its records and cuts a partial last one. */
static cw_code adopt_existing(capture_writer *w, capture_chain chain, const char *network, cw_net net,
                              unsigned topics, capture_open_info *info, cw_err *err)
{
    capture_reader r;
    capture_info ci;
    cw_code rc = reader_init(&r, w->fd, false, w->path, &ci, err);
    if (rc == CW_OK && (ci.chain != chain || (chain != CAPTURE_CHAIN_BITCOIN && strcmp(ci.network, network) != 0)))
        rc = cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                        "%s holds a capture of %s %s; this run is %s %s: record to a new file", w->path,
                        capture_chain_name(ci.chain), ci.network, capture_chain_name(chain), network);
    else if (rc == CW_OK && (ci.net != net || ci.topics != topics)) {
        char want[64] = "", have[64] = "";
        for (int t = 0; t < FEED_TOPIC_COUNT; t++) {
            if (topics & (1u << t))
                snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", want[0] ? "," : "",
                         feed_topic_name((feed_topic)t));
            if (ci.topics & (1u << t))
                snprintf(have + strlen(have), sizeof have - strlen(have), "%s%s", have[0] ? "," : "",
                         feed_topic_name((feed_topic)t));
        }
        rc = cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                        "%s holds a capture of %s (%s); this run is %s (%s): record to a new file", w->path,
                        cw_net_name(ci.net), have, cw_net_name(net), want);
    }
    feed_message m;
    bool got = true;
    while (rc == CW_OK && got) {
        cw_err rerr = {0};
        rc = capture_read(&r, &m, &got, &rerr);
        if (rc == CW_OK && got)
            info->records++;
        if (rc == CW_ETRUNC) {
            /* a crash mid-write: that record never completed, drop it */
            info->cut_at = r.rec_off;
            info->cut_bytes = r.size - r.rec_off;
            if (ftruncate(w->fd, (off_t)r.rec_off) != 0) {
                rc = cw_err_set(err, CW_EIO, r.rec_off, "%s: cannot cut the partial record at byte %llu: %s", w->path,
                                (unsigned long long)r.rec_off, strerror(errno));
                break;
            }
            r.size = r.pos = r.rec_off;
            rc = CW_OK;
            got = false;
        } else if (rc && err) {
            *err = rerr;
        }
    }
    if (rc == CW_OK)
        w->size = r.pos;
    reader_free(&r);
    return rc;
}

static cw_code writer_open(const char *path, capture_chain chain, const char *network, cw_net net, unsigned topics,
                           capture_writer **out, capture_open_info *info, cw_err *err);

cw_code capture_writer_open(const char *path, cw_net net, unsigned topics, capture_writer **out,
                            capture_open_info *info, cw_err *err)
{
    if (path == NULL || out == NULL)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "capture_writer_open: NULL %s", path ? "out" : "path");
    if (topics == 0 || topics > FEED_ALL_TOPICS)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "capture_writer_open: topics 0x%x (bits 0-2, at least one)",
                          topics);
    if ((int)net < 0 || (int)net >= CW_NET_COUNT)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "capture_writer_open: unknown network %d", (int)net);
    return writer_open(path, CAPTURE_CHAIN_BITCOIN, cw_net_name(net), net, topics, out, info, err);
}

cw_code capture_writer_open_v2(const char *path, capture_chain chain, const char *network, capture_writer **out,
                               capture_open_info *info, cw_err *err)
{
    if (path == NULL || out == NULL || network == NULL)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "capture_writer_open_v2: NULL %s",
                          path == NULL ? "path" : out == NULL ? "out" : "network");
    if (chain != CAPTURE_CHAIN_TRON && chain != CAPTURE_CHAIN_ETHEREUM)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "capture_writer_open_v2: chain %d (tron or ethereum)", (int)chain);
    size_t n = strlen(network);
    if (n > NET_NAME_MAX || !v2_name_ok(network, n))
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "capture_writer_open_v2: network '%.40s' (1..16 of a-z, 0-9, '-')", network);
    return writer_open(path, chain, network, CW_NET_MAIN,
                       chain == CAPTURE_CHAIN_TRON ? CAPTURE_TRON_TOPICS : CAPTURE_ETH_TOPICS, out, info, err);
}

cw_code capture_writer_open_tron(const char *path, const char *network, capture_writer **out,
                                 capture_open_info *info, cw_err *err)
{
    return capture_writer_open_v2(path, CAPTURE_CHAIN_TRON, network, out, info, err);
}

static cw_code writer_open(const char *path, capture_chain chain, const char *network, cw_net net, unsigned topics,
                           capture_writer **out, capture_open_info *info, cw_err *err)
{
    capture_open_info local;
    if (info == NULL)
        info = &local;
    memset(info, 0, sizeof *info);
    capture_writer *w = calloc(1, sizeof *w);
    if (w == NULL || (w->path = strdup(path)) == NULL) {
        free(w);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "capture: out of memory");
    }
    w->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        cw_code rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot open capture %s: %s", path, strerror(errno));
        writer_free(w);
        return rc;
    }
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(w->fd, F_SETLK, &lk) != 0) {
        int e = errno;
        cw_code rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "capture %s: %s", path,
                                e == EACCES || e == EAGAIN ? "another process is recording to it" : strerror(e));
        writer_free(w);
        return rc;
    }
    uint8_t hdr[HEADER_MAX], old[HEADER_MAX];
    size_t hl = make_header(hdr, chain, network, topics);
    struct stat st;
    if (fstat(w->fd, &st) != 0) {
        cw_code rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "capture %s: stat: %s", path, strerror(errno));
        writer_free(w);
        return rc;
    }
    /* Empty, or only the start of our header (a crash while creating it):
     * start over. Anything else must be a capture to append to. */
    bool fresh = st.st_size == 0 ||
                 ((size_t)st.st_size < hl && pread(w->fd, old, (size_t)st.st_size, 0) == (ssize_t)st.st_size &&
                  memcmp(old, hdr, (size_t)st.st_size) == 0);
    cw_code rc = CW_OK;
    if (fresh) {
        size_t done;
        if (st.st_size > 0 && ftruncate(w->fd, 0) != 0)
            rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "capture %s: cannot restart a partial header: %s", path,
                            strerror(errno));
        else if (write_all(w->fd, hdr, hl, &done) != CW_OK)
            rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "capture %s: writing the header: %s", path, strerror(errno));
        else if (fdatasync(w->fd) != 0)
            rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "capture %s: sync: %s", path, strerror(errno));
        w->size = hl;
    } else {
        rc = adopt_existing(w, chain, network, net, topics, info, err);
    }
    if (rc) {
        writer_free(w);
        return rc;
    }
    info->size = w->size;
    w->version = chain == CAPTURE_CHAIN_BITCOIN ? 1 : 2;
    *out = w;
    return CW_OK;
}

static cw_code write_record(capture_writer *w, const feed_message *m, uint32_t flag, cw_err *err)
{
    if (w == NULL || m == NULL)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "capture_write: NULL %s", w ? "message" : "writer");
    if (m->nframes == 0)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "capture_write: a message of 0 frames");
    unsigned stored = m->nframes < FEED_MSG_FRAMES ? m->nframes : FEED_MSG_FRAMES;
    uint64_t len = 12;
    for (unsigned i = 0; i < stored; i++) {
        if (m->frame[i] == NULL && m->len[i] != 0)
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "capture_write: frame %u is NULL", i);
        len += 4 + (uint64_t)m->len[i];
    }
    if (len > CAPTURE_MAX_RECORD)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "capture %s: a message of %llu bytes is above the %u limit",
                          w->path, (unsigned long long)len, CAPTURE_MAX_RECORD);
    size_t total = 4 + (size_t)len;
    if (w->cap < total) {
        uint8_t *nb = realloc(w->buf, total);
        if (nb == NULL)
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "capture: out of memory for a %zu-byte record", total);
        w->buf = nb;
        w->cap = total;
    }
    uint8_t *p = w->buf;
    put32(p, (uint32_t)len);
    put_f64(p + 4, m->received_at);
    put32(p + 12, m->nframes | flag);
    size_t off = 16;
    for (unsigned i = 0; i < stored; i++) {
        put32(p + off, (uint32_t)m->len[i]);
        if (m->len[i])
            memcpy(p + off + 4, m->frame[i], m->len[i]);
        off += 4 + m->len[i];
    }
    /* One write per record: a process killed between writes leaves only
     * whole records behind. */
    size_t done;
    if (write_all(w->fd, p, total, &done) != CW_OK) {
        int e = errno;
        if (done > 0 && ftruncate(w->fd, (off_t)w->size) != 0)
            return cw_err_set(err, CW_EIO, w->size,
                              "capture %s: writing the record at byte %llu: %s (and cutting its start off failed: "
                              "the reader will report it cut short)",
                              w->path, (unsigned long long)w->size, strerror(e));
        return cw_err_set(err, CW_EIO, w->size, "capture %s: writing the record at byte %llu: %s", w->path,
                          (unsigned long long)w->size, done == 0 && e == 0 ? "nothing written" : strerror(e));
    }
    w->size += total;
    w->count++;
    w->dirty = true;
    return CW_OK;
}

cw_code capture_write(capture_writer *w, const feed_message *m, cw_err *err)
{
    if (m != NULL && (m->nframes & CAPTURE_HTTP_FLAG))
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "capture_write: a message of %u frames", m->nframes);
    return write_record(w, m, 0, err);
}

cw_code capture_write_http(capture_writer *w, double received_at, const char *path, const char *body,
                           const uint8_t *reply, size_t reply_len, cw_err *err)
{
    if (w == NULL || path == NULL || body == NULL || (reply == NULL && reply_len))
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "capture_write_http: NULL %s",
                          w == NULL ? "writer" : path == NULL ? "path" : body == NULL ? "body" : "reply");
    if (w->version < 2)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "capture %s: a version-1 (bitcoin) capture holds no HTTP exchanges", w->path);
    feed_message m = {.frame = {(const uint8_t *)path, (const uint8_t *)body, reply},
                      .len = {strlen(path), strlen(body), reply_len},
                      .nframes = 3,
                      .received_at = received_at};
    return write_record(w, &m, CAPTURE_HTTP_FLAG, err);
}

cw_code capture_writer_sync(capture_writer *w, cw_err *err)
{
    if (w == NULL)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "capture_writer_sync: NULL writer");
    if (!w->dirty)
        return CW_OK;
    if (fdatasync(w->fd) != 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "capture %s: sync: %s", w->path, strerror(errno));
    w->dirty = false;
    return CW_OK;
}

uint64_t capture_writer_count(const capture_writer *w)
{
    return w ? w->count : 0;
}

bool capture_writer_dirty(const capture_writer *w)
{
    return w != NULL && w->dirty;
}

cw_code capture_writer_close(capture_writer *w, cw_err *err)
{
    if (w == NULL)
        return CW_OK;
    cw_code rc = capture_writer_sync(w, err);
    writer_free(w);
    return rc;
}
