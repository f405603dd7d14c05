/* test_capture.c: capture files (monitor/capture.h): records written and
 * read back bit for bit, appending after a crash, every kind of damage
 * refused with its offset. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor/buf.h"
#include "monitor/capture.h"
#include "support.h"

#define CAPTURE_JSONL "btc/regtest-v30/zmq-capture.jsonl"
#define CAPTURE_MESSAGES 342

/* ---------------- helpers ---------------- */

static char *temp_dir(void)
{
    char *dir = strdup("/tmp/cw-capture-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

/* CW_KEEP_TEST_DIRS=1 keeps the directories to look at. */
static void remove_dir(char *dir)
{
    if (getenv("CW_KEEP_TEST_DIRS"))
        fprintf(stderr, "kept %s\n", dir);
    else {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        cr_assert_eq(system(cmd), 0);
    }
    free(dir);
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "stat %s", path);
    return (uint64_t)st.st_size;
}

/* Overwrites bytes of a file in place. */
static void patch(const char *path, uint64_t off, const void *bytes, size_t n)
{
    int fd = open(path, O_WRONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(pwrite(fd, bytes, n, (off_t)off), (ssize_t)n);
    close(fd);
}

static void write_file(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

/* One message of the real node's capture. */
typedef struct {
    char topic[16];
    uint8_t *body;
    size_t len;
    uint8_t counter[4];
    double t;
} node_msg;

static node_msg *load_node_capture(size_t *n)
{
    size_t len;
    char *text = (char *)fixture(CAPTURE_JSONL, &len);
    text = realloc(text, len + 1);
    text[len] = '\0';
    node_msg *msgs = NULL;
    size_t cnt = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        cr_assert_not_null(j);
        msgs = realloc(msgs, (cnt + 1) * sizeof *msgs);
        node_msg *m = &msgs[cnt++];
        snprintf(m->topic, sizeof m->topic, "%s", json_string_value(json_object_get(j, "topic")));
        m->body = unhex(json_string_value(json_object_get(j, "body_hex")), &m->len);
        uint32_t seq = (uint32_t)json_integer_value(json_object_get(j, "seq"));
        for (int i = 0; i < 4; i++)
            m->counter[i] = (uint8_t)(seq >> (8 * i));
        m->t = json_real_value(json_object_get(j, "t"));
        json_decref(j);
    }
    free(text);
    cr_assert_eq(cnt, CAPTURE_MESSAGES);
    *n = cnt;
    return msgs;
}

static void free_node_capture(node_msg *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(msgs[i].body);
    free(msgs);
}

static feed_message as_message(const node_msg *m)
{
    feed_message fm = {.nframes = 3, .received_at = m->t};
    fm.frame[0] = (const uint8_t *)m->topic;
    fm.len[0] = strlen(m->topic);
    fm.frame[1] = m->body;
    fm.len[1] = m->len;
    fm.frame[2] = m->counter;
    fm.len[2] = 4;
    return fm;
}

/* The size of m's record in a capture (length prefix included). */
static uint64_t record_size(const feed_message *m)
{
    uint64_t n = 4 + 8 + 4;
    for (unsigned i = 0; i < m->nframes && i < 3; i++)
        n += 4 + m->len[i];
    return n;
}

/* Writes the node's messages [0, count) to a regtest capture of all three
 * topics; offsets[i] (if given) = where record i starts. `extra` (may be
 * NULL) is written before message `extra_at`. */
static void write_node_capture(const char *path, size_t count, uint64_t *offsets, const feed_message *extra,
                               size_t extra_at)
{
    size_t n;
    node_msg *msgs = load_node_capture(&n);
    cr_assert_leq(count, n);
    capture_writer *w;
    capture_open_info oi;
    cw_err err = {0};
    cr_assert_eq(capture_writer_open(path, CW_NET_REGTEST, FEED_ALL_TOPICS, &w, &oi, &err), CW_OK, "%s", err.msg);
    uint64_t at = oi.size;
    size_t k = 0;
    for (size_t i = 0; i < count; i++) {
        if (extra && i == extra_at) {
            if (offsets)
                offsets[k++] = at;
            cr_assert_eq(capture_write(w, extra, &err), CW_OK, "%s", err.msg);
            at += record_size(extra);
        }
        feed_message m = as_message(&msgs[i]);
        if (offsets)
            offsets[k++] = at;
        cr_assert_eq(capture_write(w, &m, &err), CW_OK, "%s", err.msg);
        at += record_size(&m);
    }
    cr_assert_eq(capture_writer_close(w, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(file_size(path), at);
    free_node_capture(msgs, n);
}

/* ---------------- the module ---------------- */

Test(capture, records_read_back_exactly)
{
    char *dir = temp_dir();
    char path[600];
    snprintf(path, sizeof path, "%s/c.cwcap", dir);
    enum { N = 400 };
    static uint8_t bodies[N][3000];
    feed_message in[N];
    uint32_t rng = 12345;
    for (int i = 0; i < N; i++) {
        static const char *const topics[] = {"rawtx", "rawblock", "sequence", "rawtxlock", ""};
        memset(&in[i], 0, sizeof in[i]);
        /* frame counts 1..5, mostly 3; a message of 5 keeps its first 3 frames */
        in[i].nframes = i % 7 == 0 ? (unsigned)(1 + i % 5) : 3;
        in[i].received_at = 1795433495.551011 + i * 0.000123456789 + (i % 11 == 0 ? 1e-9 : 0);
        rng = rng * 1103515245u + 12345u;
        size_t blen = i % 13 == 0 ? 0 : (rng >> 8) % sizeof bodies[i];
        for (size_t k = 0; k < blen; k++) {
            rng = rng * 1103515245u + 12345u;
            bodies[i][k] = (uint8_t)(rng >> 16);
        }
        in[i].frame[0] = (const uint8_t *)topics[i % 5];
        in[i].len[0] = strlen(topics[i % 5]);
        in[i].frame[1] = bodies[i];
        in[i].len[1] = blen;
        in[i].frame[2] = (const uint8_t *)&in[i].received_at; /* any bytes will do */
        in[i].len[2] = i % 9 == 0 ? 3 : 4;
    }
    capture_writer *w;
    capture_open_info oi;
    cw_err err = {0};
    cr_assert_eq(capture_writer_open(path, CW_NET_REGTEST, 5, &w, &oi, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(oi.records, 0);
    cr_assert_eq(oi.cut_bytes, 0);
    cr_assert_eq(oi.size, 16, "header: 7 magic + 1 + \"regtest\" + 1 topics byte");
    for (int i = 0; i < N; i++)
        cr_assert_eq(capture_write(w, &in[i], &err), CW_OK, "record %d: %s", i, err.msg);
    cr_assert_eq(capture_writer_count(w), N);
    cr_assert_eq(capture_writer_close(w, &err), CW_OK, "%s", err.msg);

    /* the header, byte for byte, as capture.h documents it */
    size_t flen;
    uint8_t *raw = NULL;
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    raw = malloc(16);
    flen = fread(raw, 1, 16, f);
    fclose(f);
    cr_assert_eq(flen, 16);
    cr_assert_eq(memcmp(raw, "CWCAP1\n\x07regtest\x05", 16), 0);
    free(raw);

    capture_reader *r;
    capture_info info;
    cr_assert_eq(capture_reader_open(path, &r, &info, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(info.net, CW_NET_REGTEST);
    cr_assert_eq(info.topics, 5);
    cr_assert_eq(info.header_len, 16);
    uint64_t at = 16;
    for (int i = 0; i < N; i++) {
        feed_message m;
        bool got = false;
        cr_assert_eq(capture_read(r, &m, &got, &err), CW_OK, "record %d: %s", i, err.msg);
        cr_assert(got, "record %d missing", i);
        cr_assert_eq(capture_reader_offset(r), at, "record %d at %llu, want %llu", i,
                     (unsigned long long)capture_reader_offset(r), (unsigned long long)at);
        at += record_size(&in[i]);
        cr_assert_eq(m.nframes, in[i].nframes, "record %d", i);
        cr_assert_eq(memcmp(&m.received_at, &in[i].received_at, sizeof(double)), 0, "record %d: time not bit-exact", i);
        for (unsigned k = 0; k < 3; k++) {
            if (k < in[i].nframes) {
                cr_assert_eq(m.len[k], in[i].len[k], "record %d frame %u", i, k);
                cr_assert(m.len[k] == 0 || memcmp(m.frame[k], in[i].frame[k], m.len[k]) == 0, "record %d frame %u",
                          i, k);
            } else {
                cr_assert_null(m.frame[k]);
                cr_assert_eq(m.len[k], 0);
            }
        }
    }
    feed_message m;
    bool got = true;
    cr_assert_eq(capture_read(r, &m, &got, &err), CW_OK);
    cr_assert_not(got, "nothing after the last record");
    cr_assert_eq(capture_read(r, &m, &got, &err), CW_OK);
    cr_assert_not(got);
    cr_assert_eq(capture_reader_pos(r), file_size(path));
    capture_reader_close(r);
    capture_reader_close(NULL);
    remove_dir(dir);
}

Test(capture, append_cuts_a_partial_last_record)
{
    char *dir = temp_dir();
    char path[600];
    snprintf(path, sizeof path, "%s/c.cwcap", dir);
    uint64_t off[5];
    write_node_capture(path, 3, off, NULL, 0);
    uint64_t whole = file_size(path);
    /* a crash mid-write: the start of a record (its length and a bit more) */
    FILE *f = fopen(path, "ab");
    fwrite("\x40\x00\x00\x00\x01\x02\x03\x04\x05\x06", 1, 10, f);
    fclose(f);
    capture_writer *w;
    capture_open_info oi;
    cw_err err = {0};
    cr_assert_eq(capture_writer_open(path, CW_NET_REGTEST, FEED_ALL_TOPICS, &w, &oi, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(oi.records, 3);
    cr_assert_eq(oi.cut_at, whole);
    cr_assert_eq(oi.cut_bytes, 10);
    cr_assert_eq(oi.size, whole);
    static const uint8_t counter[4] = {9, 0, 0, 0};
    feed_message m = {.frame = {(const uint8_t *)"rawtx", (const uint8_t *)"\x02\x00", counter},
                      .len = {5, 2, 4},
                      .nframes = 3,
                      .received_at = 1.5};
    cr_assert_eq(capture_write(w, &m, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(capture_writer_close(w, &err), CW_OK);

    capture_reader *r;
    cr_assert_eq(capture_reader_open(path, &r, NULL, &err), CW_OK, "%s", err.msg);
    int n = 0;
    bool got = true;
    feed_message back;
    while (capture_read(r, &back, &got, &err) == CW_OK && got)
        n++;
    cr_assert_eq(err.code, CW_OK, "%s", err.msg);
    cr_assert_eq(n, 4, "3 old records and the new one");
    cr_assert_eq(back.received_at, 1.5);
    capture_reader_close(r);

    /* only the start of a header (a crash while creating the file): start over */
    snprintf(path, sizeof path, "%s/d.cwcap", dir);
    write_file(path, "CWCAP1\n\x07reg", 11);
    cr_assert_eq(capture_writer_open(path, CW_NET_REGTEST, FEED_ALL_TOPICS, &w, &oi, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(oi.size, 16);
    capture_writer_close(w, NULL);
    remove_dir(dir);
}

Test(capture, writer_refuses)
{
    char *dir = temp_dir();
    char path[600];
    snprintf(path, sizeof path, "%s/c.cwcap", dir);
    write_node_capture(path, 2, NULL, NULL, 0);
    capture_writer *w = (capture_writer *)0x1;
    cw_err err = {0};
    /* another network, other topics: a capture must stay one run's configuration */
    cr_assert_eq(capture_writer_open(path, CW_NET_MAIN, FEED_ALL_TOPICS, &w, NULL, &err), CW_EARG);
    cr_assert(strstr(err.msg, "regtest") && strstr(err.msg, "new file"), "%s", err.msg);
    cr_assert_eq(capture_writer_open(path, CW_NET_REGTEST, 3, &w, NULL, &err), CW_EARG);
    cr_assert(strstr(err.msg, "rawtx,rawblock,sequence"), "%s", err.msg);
    cr_assert_eq(capture_writer_open(path, CW_NET_REGTEST, 0, &w, NULL, &err), CW_EARG);
    cr_assert_eq(capture_writer_open(path, CW_NET_REGTEST, 8, &w, NULL, &err), CW_EARG);
    cr_assert_eq(capture_writer_open(NULL, CW_NET_REGTEST, 1, &w, NULL, &err), CW_EARG);
    cr_assert_eq(w, (capture_writer *)0x1, "out touched on failure");
    /* not a capture: never appended to */
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    write_file(path, "some notes\n", 11);
    cr_assert_eq(capture_writer_open(path, CW_NET_REGTEST, 1, &w, NULL, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "not a chainwatch capture"), "%s", err.msg);
    cr_assert_eq(file_size(path), 11);
    /* damaged before its last record: refused, not cut */
    snprintf(path, sizeof path, "%s/damaged.cwcap", dir);
    uint64_t off[4];
    write_node_capture(path, 4, off, NULL, 0);
    uint64_t size = file_size(path);
    patch(path, off[1], "\x03\x00\x00\x00", 4); /* length 3: below the minimum */
    cr_assert_eq(capture_writer_open(path, CW_NET_REGTEST, FEED_ALL_TOPICS, &w, NULL, &err), CW_EFORMAT);
    cr_assert_eq(err.offset, off[1]);
    cr_assert_eq(file_size(path), size);
    /* a message of 0 frames, a NULL frame */
    snprintf(path, sizeof path, "%s/e.cwcap", dir);
    cr_assert_eq(capture_writer_open(path, CW_NET_REGTEST, 1, &w, NULL, &err), CW_OK, "%s", err.msg);
    feed_message m = {.nframes = 0};
    cr_assert_eq(capture_write(w, &m, &err), CW_EARG);
    m.nframes = 1;
    m.len[0] = 3;
    cr_assert_eq(capture_write(w, &m, &err), CW_EARG);
    cr_assert_eq(capture_write(w, NULL, &err), CW_EARG);
    cr_assert_eq(capture_writer_count(w), 0);
    cr_assert_eq(capture_writer_close(w, &err), CW_OK);
    cr_assert_eq(capture_writer_close(NULL, &err), CW_OK);
    remove_dir(dir);
}

Test(capture, second_recorder_is_refused)
{
    char *dir = temp_dir();
    char path[600];
    snprintf(path, sizeof path, "%s/c.cwcap", dir);
    capture_writer *w;
    cw_err err = {0};
    cr_assert_eq(capture_writer_open(path, CW_NET_REGTEST, 1, &w, NULL, &err), CW_OK, "%s", err.msg);
    /* fcntl locks are per process: the second recorder is another process */
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        capture_writer *w2;
        cw_err e2 = {0};
        cw_code rc = capture_writer_open(path, CW_NET_REGTEST, 1, &w2, NULL, &e2);
        _exit(rc == CW_EIO && strstr(e2.msg, "another process") ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a second recorder was let in");
    capture_writer_close(w, NULL);
    remove_dir(dir);
}

/* Opens path and reads until the first error; returns its code, with the
 * error and the number of good records. */
static cw_code read_until_error(const char *path, cw_err *err, int *good)
{
    capture_reader *r;
    *good = 0;
    cw_code rc = capture_reader_open(path, &r, NULL, err);
    if (rc)
        return rc;
    feed_message m;
    bool got = true;
    while ((rc = capture_read(r, &m, &got, err)) == CW_OK && got)
        (*good)++;
    if (rc) {
        /* the error sticks: the rest of the file cannot be framed */
        cw_err again = {0};
        cr_assert_eq(capture_read(r, &m, &got, &again), rc);
        cr_assert_not(got);
        cr_assert_eq(again.offset, err->offset);
        cr_assert_eq(capture_reader_offset(r), err->offset);
    }
    capture_reader_close(r);
    return rc;
}

static uint8_t *read_whole(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*n + 1);
    cr_assert_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

Test(capture, reader_reports_damage_with_its_offset)
{
    char *dir = temp_dir();
    char good[600], path[640];
    snprintf(good, sizeof good, "%s/good.cwcap", dir);
    snprintf(path, sizeof path, "%s/bad.cwcap", dir);
    uint64_t off[10];
    write_node_capture(good, 10, off, NULL, 0);
    size_t n;
    uint8_t *orig = read_whole(good, &n);
    uint8_t *b = malloc(n);
    cw_err err;
    int ok;
    struct {
        const char *what;
        size_t cut;        /* file length; 0 = n */
        size_t at;         /* patch offset */
        const char *bytes; /* patch (NULL: none) */
        size_t blen;
        uint32_t le32;     /* or a little-endian u32 at `at` when bytes is NULL and le32_set */
        bool le32_set;
        cw_code code;
        uint64_t offset;
        int good;
        const char *says;
    } cases[] = {
        {"bad magic", 0, 0, "XWCAP", 5, 0, false, CW_EFORMAT, 0, 0, "not a chainwatch capture"},
        {"text file", 0, 0, "hello\nworld", 11, 0, false, CW_EFORMAT, 0, 0, "not a chainwatch capture"},
        {"wrong version", 0, 5, "2", 1, 0, false, CW_EFORMAT, 5, 0, "version 2"},
        {"empty file", 1, 0, NULL, 0, 0, false, CW_ETRUNC, 0, 0, "empty"},
        {"header cut", 11, 0, NULL, 0, 0, false, CW_ETRUNC, 11, 0, "inside its header"},
        {"unknown network", 0, 8, "regtesx", 7, 0, false, CW_EFORMAT, 8, 0, "unknown network 'regtesx'"},
        {"network name length", 0, 7, "\x00", 1, 0, false, CW_EFORMAT, 7, 0, "network name length 0"},
        {"topics byte", 0, 15, "\x08", 1, 0, false, CW_EFORMAT, 15, 0, "topics byte 0x08"},
        {"last record cut short", (size_t)off[9] + 30, 0, NULL, 0, 0, false, CW_ETRUNC, off[9], 9, "cut short"},
        {"cut inside a length", (size_t)off[9] + 2, 0, NULL, 0, 0, false, CW_ETRUNC, off[9], 9, "cut short"},
        {"length beyond the file", 0, (size_t)off[4], NULL, 0, 1000000, true, CW_ETRUNC, off[4], 4, "1000004 bytes long"},
        {"length above the limit", 0, (size_t)off[4], NULL, 0, 0xfffffff0u, true, CW_ELIMIT, off[4], 4, "above the limit"},
        {"length below the minimum", 0, (size_t)off[4], NULL, 0, 15, true, CW_EFORMAT, off[4], 4, "below the minimum"},
        {"lengths that do not add up", 0, (size_t)off[4], NULL, 0, (uint32_t)(off[5] - off[4] - 4 + 1), true,
         CW_EFORMAT, off[4], 4, "do not add up"},
        {"zero frames", 0, (size_t)off[4] + 12, NULL, 0, 0, true, CW_EFORMAT, off[4], 4, "0 frames"},
        {"frame past the record", 0, (size_t)off[4] + 16, NULL, 0, 100000, true, CW_EFORMAT, off[4], 4,
         "runs past the record's end"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        memcpy(b, orig, n);
        size_t len = cases[c].cut == 1 ? 0 : cases[c].cut ? cases[c].cut : n;
        if (cases[c].bytes)
            memcpy(b + cases[c].at, cases[c].bytes, cases[c].blen);
        if (cases[c].le32_set)
            put_le32(b + cases[c].at, cases[c].le32);
        write_file(path, b, len);
        memset(&err, 0, sizeof err);
        cw_code rc = read_until_error(path, &err, &ok);
        cr_assert_eq(rc, cases[c].code, "%s: code %d (%s), want %d", cases[c].what, rc, err.msg, cases[c].code);
        cr_assert_eq(err.offset, cases[c].offset, "%s: offset %zu, want %llu (%s)", cases[c].what, err.offset,
                     (unsigned long long)cases[c].offset, err.msg);
        cr_assert_eq(ok, cases[c].good, "%s: %d good records before it, want %d", cases[c].what, ok, cases[c].good);
        cr_assert(strstr(err.msg, cases[c].says), "%s: '%s' lacks '%s'", cases[c].what, err.msg, cases[c].says);
        cr_assert(strstr(err.msg, path), "%s: '%s' does not name the file", cases[c].what, err.msg);
        if (cases[c].good > 0) {
            char where[48];
            snprintf(where, sizeof where, "record at byte %llu", (unsigned long long)cases[c].offset);
            cr_assert(strstr(err.msg, where), "%s: '%s' lacks '%s'", cases[c].what, err.msg, where);
        }
    }
    cw_err e2;
    capture_reader *r = (capture_reader *)0x1;
    snprintf(path, sizeof path, "%s/missing.cwcap", dir);
    cr_assert_eq(capture_reader_open(path, &r, NULL, &e2), CW_EIO);
    cr_assert(strstr(e2.msg, path), "%s", e2.msg);
    cr_assert_eq(capture_reader_open(NULL, &r, NULL, &e2), CW_EARG);
    cr_assert_eq(r, (capture_reader *)0x1);
    free(orig);
    free(b);
    remove_dir(dir);
}
