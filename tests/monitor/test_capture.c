/* test_capture.c: capture files (monitor/sources/capture.h) and `replay --capture`.
 *
 * The module directly (records written and read back bit for bit, appending
 * after a crash, every kind of damage refused with its offset), then the
 * executable: `chainwatch watch --record` against a publisher speaking
 * Bitcoin Core's format with the messages a real v30 node published
 * (zmq-capture.jsonl), replayed into a fresh datadir, must give the live
 * run's alert records; damaged captures must give clear errors, never a
 * crash. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chains/buf.h"
#include "monitor/sources/capture.h"
#include "monitor/sources/capture_settings.h"
#include "tests/support.h"
#include "tests/zmq_pub.h"

#define CAPTURE_JSONL "btc/regtest-v30/zmq-capture.jsonl"
#define CAPTURE_MESSAGES 342
#define PAID_BECH32 "bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0"
#define PAID_LEGACY "mqBXtoBQx88vMij3Hj8YM3RXDDvbrNfx9v"
/* the last payment, after the node's restart: its block is the capture's last message */
#define LAST_TXID "78c9750fef95723fd220adbf811f2cfcfce93a372b26114af612042ec2939fe8"
#define LAST_BLOCK "2f0ae58e0b99c85bff7dbe2984bc8917b2dc951193c87407cbbb434e0de0043c"

/* ---------------- helpers ---------------- */

static char *temp_dir(void)
{
    char *dir = strdup("/tmp/cw-capture-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
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

/* A datadir with a key and a watchlist of the two addresses the node paid. */
static char *setup_datadir(void)
{
    char *dir = temp_dir();
    char csv[512], path[600];
    snprintf(path, sizeof path, "%s/list.csv", dir);
    snprintf(csv, sizeof csv,
             "chain,address,entity,program,note\n"
             "bitcoin," PAID_BECH32 ",Test front company,DPRK4,\n"
             "bitcoin," PAID_LEGACY ",Test IT worker,DPRK3,\n");
    write_file(path, csv, strlen(csv));
    char *out, *err;
    char *init[] = {CW_BIN, "init", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(init, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", path, "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    return dir;
}


static bool has_record(json_t *all, const char *txid, const char *status, const char *block)
{
    return alerts_find(all, txid, status, block) != NULL;
}

static size_t count_rule(json_t *all, const char *rule)
{
    size_t i, n = 0;
    json_t *r;
    json_array_foreach(all, i, r) {
        const char *ru = json_string_value(json_object_get(r, "rule"));
        n += ru && strcmp(ru, rule) == 0;
    }
    return n;
}

/* Runs `chainwatch replay --capture path --datadir dir` (plus one extra
 * argument pair if given); returns the exit status; *out and *err get its output. */
static int replay(const char *path, const char *dir, const char *opt, const char *val, char **out, char **err)
{
    char *argv[12] = {CW_BIN, "replay", "--capture", (char *)path, "--datadir", (char *)dir};
    int n = 6;
    if (opt) {
        argv[n++] = (char *)opt;
        argv[n++] = (char *)val;
    }
    argv[n] = NULL;
    return run_cmd(argv, NULL, 0, out, err);
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
    test_remove_dir(dir);
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
    test_remove_dir(dir);
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
    test_remove_dir(dir);
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
    test_remove_dir(dir);
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
        {"wrong version", 0, 5, "3", 1, 0, false, CW_EFORMAT, 5, 0, "version 3"},
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
    test_remove_dir(dir);
}

/* ---------------- the executable ---------------- */

static pid_t start_recording_watch(const char *dir, const char *ep, const char *capture)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char log[600], alerts[600], a1[300], a2[300], a3[300], rec[800];
        snprintf(log, sizeof log, "%s/watch.log", dir);
        snprintf(alerts, sizeof alerts, "--alerts=%s/alerts.jsonl", dir);
        snprintf(a1, sizeof a1, "--zmqpubrawtx=%s", ep);
        snprintf(a2, sizeof a2, "--zmqpubrawblock=%s", ep);
        snprintf(a3, sizeof a3, "--zmqpubsequence=%s", ep);
        snprintf(rec, sizeof rec, "--record=%s", capture);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        char *argv[] = {CW_BIN, "watch", "--datadir", (char *)dir, "--network", "regtest", a1, a2, a3, alerts,
                        "--status-interval", "0", rec, NULL};
        execv(CW_BIN, argv);
        _exit(127);
    }
    return pid;
}

static char *read_log(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/watch.log", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return strdup("");
    cw_buf b = CW_BUF_INIT;
    char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
        cw_buf_append(&b, chunk, k, NULL);
    fclose(f);
    cw_buf_append(&b, "", 1, NULL);
    return (char *)b.p;
}

static size_t count_lines_with(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The records without the fields a replay may change: seen_at and sig, and
 * seq and prev (each datadir's trail numbers and chains its own records). */
static json_t *comparable(json_t *all)
{
    json_t *out = json_deep_copy(all);
    size_t i;
    json_t *r;
    json_array_foreach(out, i, r) {
        json_object_del(r, "seen_at");
        json_object_del(r, "sig");
        json_object_del(r, "seq");
        json_object_del(r, "prev");
    }
    return out;
}

Test(capture, watch_record_then_replay_gives_the_live_records, .timeout = 120)
{
    char *live = setup_datadir();
    char capture[700];
    snprintf(capture, sizeof capture, "%s/feed.cwcap", live);
    zpub *pub = zpub_start();
    pid_t pid = start_recording_watch(live, zpub_endpoint(pub), capture);
    watch_wait_ready(live, pub);
    /* some garbage first, as a node with extra topics on the port would
     * send: recorded, and skipped in the replay as watch skipped it */
    static const char *const junk_topics[] = {"rawtxlock", "rawtx", "sequence"};
    for (int g = 0; g < 3; g++) {
        const void *frames[3] = {junk_topics[g], "\x01\x02garbage", "\x05\x00\x00"};
        size_t lens[3] = {strlen(junk_topics[g]), 9, 3};
        zpub_send_frames(pub, frames, lens, g == 1 ? 2 : 3);
    }
    cr_assert_eq(zpub_replay_capture(pub, CAPTURE_JSONL, 0, -1), CAPTURE_MESSAGES);
    json_t *live_records = NULL;
    for (int waited = 0; waited < 20000; waited += 100) {
        json_decref(live_records);
        live_records = alerts_read(live);
        if (has_record(live_records, LAST_TXID, "confirmed", LAST_BLOCK))
            break;
        test_sleep_ms(100);
    }
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "watch ended with status %d", status);
    zpub_stop(pub);
    json_decref(live_records);
    live_records = alerts_read(live); /* after the final flush */
    cr_assert(has_record(live_records, LAST_TXID, "confirmed", LAST_BLOCK), "the live run saw the last block");
    char *log = read_log(live);
    cr_assert(strstr(log, "recorded 345 messages to"), "watch log: %s", log);
    size_t live_bad = count_lines_with(log, "bad message skipped");
    cr_assert_eq(live_bad, 3, "watch log: %s", log);
    free(log);

    /* the capture holds what was published, in order: 3 bad, then the node's */
    size_t n;
    node_msg *msgs = load_node_capture(&n);
    capture_reader *r;
    capture_info info;
    cw_err err = {0};
    cr_assert_eq(capture_reader_open(capture, &r, &info, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(info.net, CW_NET_REGTEST);
    cr_assert_eq(info.topics, FEED_ALL_TOPICS);
    feed_message m;
    bool got;
    double last_t = 0;
    for (size_t i = 0; i < 3 + n; i++) {
        cr_assert_eq(capture_read(r, &m, &got, &err), CW_OK, "%s", err.msg);
        cr_assert(got, "record %zu missing", i);
        cr_assert_geq(m.received_at, last_t, "arrival times go forward");
        cr_assert_gt(m.received_at, 1.7e9);
        last_t = m.received_at;
        if (i < 3) {
            cr_assert_eq(m.nframes, i == 1 ? 2u : 3u);
            cr_assert_eq(m.len[0], strlen(junk_topics[i]));
            continue;
        }
        const node_msg *want = &msgs[i - 3];
        cr_assert_eq(m.nframes, 3);
        cr_assert(m.len[0] == strlen(want->topic) && memcmp(m.frame[0], want->topic, m.len[0]) == 0, "record %zu topic",
                  i);
        cr_assert(m.len[1] == want->len && memcmp(m.frame[1], want->body, want->len) == 0, "record %zu body", i);
        cr_assert(m.len[2] == 4 && memcmp(m.frame[2], want->counter, 4) == 0, "record %zu counter", i);
    }
    cr_assert_eq(capture_read(r, &m, &got, &err), CW_OK);
    cr_assert_not(got, "nothing after the published messages");
    capture_reader_close(r);
    free_node_capture(msgs, n);

    /* replayed into a datadir that never saw the feed */
    char *fresh = setup_datadir();
    char *out, *errtext;
    /* the 3 bad messages the test sent are skipped as live, and counted in
     * the exit status: 2 */
    cr_assert_eq(replay(capture, fresh, NULL, NULL, &out, &errtext), 2, "replay: %s %s", out, errtext);
    cr_assert(strstr(out, "345 messages: 121 rawtx, 106 rawblock, 115 sequence, 3 bad"), "summary: %s", out);
    cr_assert(strstr(errtext, "0 messages refused (0 of 106 blocks), 3 bad frames skipped"), "%s", errtext);
    cr_assert(strstr(out, "gaps        3 "), "summary: %s", out);
    cr_assert_eq(count_lines_with(errtext, "feed: bad message skipped"), 3, "%s", errtext);
    cr_assert(strstr(errtext, "byte 16: feed: bad message skipped: unknown topic 'rawtxlock'"), "%s", errtext);
    json_t *replayed = alerts_read(fresh);
    cr_assert_gt(json_array_size(live_records), 0);
    cr_assert_eq(json_array_size(replayed), json_array_size(live_records), "live %zu records, replay %zu",
                 json_array_size(live_records), json_array_size(replayed));
    cr_assert_geq(count_rule(replayed, "feed_gap"), 3, "the node's restart, on each topic");
    json_t *a = comparable(live_records), *b = comparable(replayed);
    size_t i;
    json_t *ra;
    json_array_foreach(a, i, ra) {
        char *sa = json_dumps(ra, JSON_SORT_KEYS), *sb = json_dumps(json_array_get(b, i), JSON_SORT_KEYS);
        cr_assert_str_eq(sa, sb, "record %zu differs", i);
        free(sa), free(sb);
    }
    cr_assert(json_equal(a, b));
    char alerts_path[700];
    snprintf(alerts_path, sizeof alerts_path, "%s/alerts.jsonl", fresh);
    char *verify[] = {CW_BIN, "verify", alerts_path, "--datadir", fresh, "--from-start", NULL};
    free(out), free(errtext);
    cr_assert_eq(run_cmd(verify, NULL, 0, &out, &errtext), 0, "verify: %s %s", out, errtext);
    free(out), free(errtext);
    json_decref(a), json_decref(b), json_decref(live_records), json_decref(replayed);
    test_remove_dir(fresh);
    test_remove_dir(live);
}

/* Damaged captures through the executable: the message names the file and
 * the byte, the exit status says so, what came before is replayed. */
Test(capture, replay_of_damaged_captures, .timeout = 120)
{
    char *dir = temp_dir();
    char path[700], *out, *err;

    /* bad magic, wrong version: nothing replayed, exit 2 */
    snprintf(path, sizeof path, "%s/not.cwcap", dir);
    write_file(path, "CWCAPX\nnothing", 14);
    char *dd = setup_datadir();
    cr_assert_eq(replay(path, dd, NULL, NULL, &out, &err), 2, "%s %s", out, err);
    cr_assert(strstr(err, "not a chainwatch capture") && strstr(err, path), "%s", err);
    free(out), free(err);
    snprintf(path, sizeof path, "%s/v3.cwcap", dir);
    write_file(path, "CWCAP3\n\x07regtest\x07", 16);
    cr_assert_eq(replay(path, dd, NULL, NULL, &out, &err), 2, "%s %s", out, err);
    cr_assert(strstr(err, "byte 5: capture format version 3"), "%s", err);
    free(out), free(err);
    /* version 2 names its chain first: a Bitcoin network there is no chain */
    snprintf(path, sizeof path, "%s/v2.cwcap", dir);
    write_file(path, "CWCAP2\n\x07regtest\x07", 16);
    cr_assert_eq(replay(path, dd, NULL, NULL, &out, &err), 2, "%s %s", out, err);
    cr_assert(strstr(err, "byte 8: unknown chain 'regtest' (bitcoin, tron or ethereum)"), "%s", err);
    free(out), free(err);
    /* a missing file: an I/O failure */
    snprintf(path, sizeof path, "%s/missing.cwcap", dir);
    cr_assert_eq(replay(path, dd, NULL, NULL, &out, &err), 1, "%s %s", out, err);
    free(out), free(err);
    /* another network than the capture's */
    uint64_t off[CAPTURE_MESSAGES];
    snprintf(path, sizeof path, "%s/full.cwcap", dir);
    write_node_capture(path, CAPTURE_MESSAGES, off, NULL, 0);
    cr_assert_eq(replay(path, dd, "--network", "main", &out, &err), 2, "%s %s", out, err);
    cr_assert(strstr(err, "recorded on regtest, not main"), "%s", err);
    free(out), free(err);
    /* how deep blocks connect is the account chains' setting: not Bitcoin's */
    cr_assert_eq(replay(path, dd, "--confirmations", "3", &out, &err), 2, "%s %s", out, err);
    cr_assert(strstr(err, "--confirmations, --finalized and --max-reorg are for a tron or ethereum capture"), "%s",
              err);
    free(out), free(err);
    char *argv_missing[] = {CW_BIN, "replay", "--capture", NULL};
    cr_assert_eq(run_cmd(argv_missing, NULL, 0, &out, &err), 2);
    cr_assert(strstr(err, "--capture needs a value"), "%s", err);
    free(out), free(err);
    test_remove_dir(dd);

    /* the last record cut short (the recorder crashed mid-write): every
     * earlier message replayed, the cut reported with its offset */
    uint64_t whole = file_size(path);
    cr_assert_eq(truncate(path, (off_t)(whole - 7)), 0);
    dd = setup_datadir();
    cr_assert_eq(replay(path, dd, NULL, NULL, &out, &err), 2, "%s %s", out, err);
    char want[900];
    snprintf(want, sizeof want, "%s: record at byte %llu: ", path, (unsigned long long)off[CAPTURE_MESSAGES - 1]);
    cr_assert(strstr(err, want) && strstr(err, "cut short"), "'%s' lacks '%s'", err, want);
    cr_assert(strstr(out, "341 messages") && strstr(out, "damaged"), "%s", out);
    json_t *all = alerts_read(dd);
    cr_assert(has_record(all, LAST_TXID, "mempool", NULL), "records before the cut are there");
    cr_assert_not(has_record(all, LAST_TXID, "confirmed", NULL), "its block was the cut record");
    json_decref(all);
    free(out), free(err);
    test_remove_dir(dd);

    /* a record whose length points past the end of the file */
    snprintf(path, sizeof path, "%s/long.cwcap", dir);
    write_node_capture(path, CAPTURE_MESSAGES, off, NULL, 0);
    uint8_t len[4];
    put_le32(len, 50000000);
    patch(path, off[200], len, 4);
    dd = setup_datadir();
    cr_assert_eq(replay(path, dd, NULL, NULL, &out, &err), 2, "%s %s", out, err);
    snprintf(want, sizeof want, "record at byte %llu: 50000004 bytes long", (unsigned long long)off[200]);
    cr_assert(strstr(err, want), "'%s' lacks '%s'", err, want);
    cr_assert(strstr(out, "200 messages"), "%s", out);
    free(out), free(err);
    test_remove_dir(dd);

    /* an unknown topic in the middle: skipped with its offset, as watch
     * skips it live; the rest replays, and the exit status says a message
     * was skipped */
    static const uint8_t counter[4] = {0, 0, 0, 0};
    feed_message lock = {.frame = {(const uint8_t *)"rawtxlock", (const uint8_t *)"\x01", counter},
                         .len = {9, 1, 4},
                         .nframes = 3,
                         .received_at = 1795433496.0};
    uint64_t off2[CAPTURE_MESSAGES + 1];
    snprintf(path, sizeof path, "%s/topic.cwcap", dir);
    write_node_capture(path, CAPTURE_MESSAGES, off2, &lock, 5);
    dd = setup_datadir();
    cr_assert_eq(replay(path, dd, NULL, NULL, &out, &err), 2, "%s %s", out, err);
    cr_assert(strstr(err, "0 messages refused (0 of 106 blocks), 1 bad frames skipped"), "%s", err);
    snprintf(want, sizeof want, "byte %llu: feed: bad message skipped: unknown topic 'rawtxlock'",
             (unsigned long long)off2[5]);
    cr_assert(strstr(err, want), "'%s' lacks '%s'", err, want);
    cr_assert(strstr(out, "343 messages: 121 rawtx, 106 rawblock, 115 sequence, 1 bad"), "%s", out);
    all = alerts_read(dd);
    cr_assert(has_record(all, LAST_TXID, "confirmed", LAST_BLOCK));
    json_decref(all);
    free(out), free(err);
    test_remove_dir(dd);
    test_remove_dir(dir);
}

/* A block damaged in the capture: it and the blocks built on it are
 * refused (no --rest to fetch them again), everything else replays, and the
 * run exits 2 with the count. It used to exit 0 after refusing them. */
Test(capture, replay_of_a_damaged_block_exits_nonzero, .timeout = 120)
{
    char *dir = temp_dir();
    char path[700], *out, *err;
    uint64_t off[CAPTURE_MESSAGES];
    snprintf(path, sizeof path, "%s/block.cwcap", dir);
    write_node_capture(path, CAPTURE_MESSAGES, off, NULL, 0);
    size_t n;
    node_msg *msgs = load_node_capture(&n);
    size_t at = n;
    for (size_t i = 0, blocks = 0; i < n && at == n; i++)
        if (strcmp(msgs[i].topic, "rawblock") == 0 && ++blocks == 11)
            at = i;
    cr_assert_lt(at, n);
    /* record: length, time, frame count, then the topic and the body, each
     * after its length */
    uint64_t body = off[at] + 4 + 8 + 4 + 4 + strlen("rawblock") + 4;
    uint8_t flipped = msgs[at].body[100] ^ 0x40; /* in the coinbase: the merkle root fails */
    patch(path, body + 100, &flipped, 1);
    free_node_capture(msgs, n);
    char *dd = setup_datadir();
    cr_assert_eq(replay(path, dd, NULL, NULL, &out, &err), 2, "%s %s", out, err);
    cr_assert(strstr(err, "96 messages refused (96 of 106 blocks), 0 bad frames skipped"), "%s", err);
    cr_assert(strstr(out, "refused     96 messages the pipeline could not use, 96 of them blocks"), "%s", out);
    cr_assert(strstr(out, "10 connected"), "%s", out);
    free(out), free(err);
    test_remove_dir(dd);
    test_remove_dir(dir);
}

/* Version 2 (capture.h FORMAT): a Tron capture names its chain and holds
 * the node's triggers and the HTTP exchanges the follower made, told apart
 * by bit 31 of the frame count. Real data: a Nile blockTrigger and the
 * getblockbynum reply of java-tron's docs (data/tron). */
Test(capture, tron_capture_round_trip)
{
    char *dir = temp_dir();
    char path[600];
    snprintf(path, sizeof path, "%s/t.cwcap", dir);
    size_t tn, rn;
    uint8_t *trig = fixture("tron/sample_blockTrigger_nile_2021-07-21.json", &tn);
    uint8_t *reply = fixture("tron/api/getblockbynum_30864544.getblock-docs.json", &rn);
    const char *req = "{\"num\":30864544,\"visible\":false}";
    capture_writer *w;
    capture_open_info oi;
    cw_err err = {0};
    cr_assert_eq(capture_writer_open_tron(path, "nile", &w, &oi, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(oi.size, 18, "header: 7 magic + 1 + \"tron\" + 1 + \"nile\" + 1 topics byte");
    feed_message m = {.frame = {(const uint8_t *)"blockTrigger", trig}, .len = {12, tn}, .nframes = 2,
                      .received_at = 1626850000.123456};
    cr_assert_eq(capture_write(w, &m, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(capture_write_http(w, 1626850000.5, "/wallet/getblockbynum", req, reply, rn, &err), CW_OK, "%s",
                 err.msg);
    cr_assert_eq(capture_writer_close(w, &err), CW_OK, "%s", err.msg);

    size_t n;
    uint8_t *raw = read_whole(path, &n);
    uint64_t rec1 = 4 + 12 + 4 + 12 + 4 + tn, rec2 = 4 + 12 + 4 + 21 + 4 + strlen(req) + 4 + rn;
    cr_assert_eq(n, 18 + rec1 + rec2);
    cr_assert_eq(memcmp(raw, "CWCAP2\n\x04tron\x04nile\x07", 18), 0);
    cr_assert_eq(memcmp(raw + 18 + 12, "\x02\x00\x00\x00", 4), 0, "a trigger: F = 2");
    cr_assert_eq(memcmp(raw + 18 + rec1 + 12, "\x03\x00\x00\x80", 4), 0, "an HTTP exchange: F = 3 | bit 31");
    free(raw);

    capture_reader *r;
    capture_info info;
    cr_assert_eq(capture_reader_open(path, &r, &info, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(info.version, 2);
    cr_assert_eq(info.chain, CAPTURE_CHAIN_TRON);
    cr_assert_str_eq(info.network, "nile");
    cr_assert_eq(info.topics, CAPTURE_TRON_TOPICS);
    cr_assert_eq(info.header_len, 18);
    feed_message g;
    bool got;
    cr_assert_eq(capture_read(r, &g, &got, &err), CW_OK, "%s", err.msg);
    cr_assert(got);
    cr_assert_eq(capture_reader_kind(r), CAPTURE_REC_MESSAGE);
    cr_assert_eq(g.nframes, 2);
    cr_assert_eq(g.len[0], 12);
    cr_assert_eq(memcmp(g.frame[0], "blockTrigger", 12), 0);
    cr_assert_eq(g.len[1], tn);
    cr_assert_eq(memcmp(g.frame[1], trig, tn), 0);
    cr_assert_eq(g.received_at, 1626850000.123456);
    cr_assert_eq(capture_read(r, &g, &got, &err), CW_OK, "%s", err.msg);
    cr_assert(got);
    cr_assert_eq(capture_reader_kind(r), CAPTURE_REC_HTTP);
    cr_assert_eq(capture_reader_offset(r), 18 + rec1);
    cr_assert_eq(g.nframes, 3);
    cr_assert_eq(g.len[0], 21);
    cr_assert_eq(memcmp(g.frame[0], "/wallet/getblockbynum", 21), 0);
    cr_assert_eq(g.len[1], strlen(req));
    cr_assert_eq(memcmp(g.frame[1], req, g.len[1]), 0);
    cr_assert_eq(g.len[2], rn);
    cr_assert_eq(memcmp(g.frame[2], reply, rn), 0);
    cr_assert_eq(g.received_at, 1626850000.5);
    cr_assert_eq(capture_read(r, &g, &got, &err), CW_OK);
    cr_assert_not(got);
    capture_reader_close(r);

    /* appended to by the same chain and network; refused to others */
    cr_assert_eq(capture_writer_open_tron(path, "nile", &w, &oi, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(oi.records, 2);
    cr_assert_eq(capture_writer_close(w, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(capture_writer_open_tron(path, "mainnet", &w, &oi, &err), CW_EARG);
    cr_assert(strstr(err.msg, "capture of tron nile; this run is tron mainnet"), "%s", err.msg);
    cr_assert_eq(capture_writer_open(path, CW_NET_MAIN, FEED_ALL_TOPICS, &w, &oi, &err), CW_EARG);
    cr_assert(strstr(err.msg, "capture of tron nile; this run is bitcoin main"), "%s", err.msg);
    cr_assert_eq(capture_writer_open_tron(path, "Nile!", &w, &oi, &err), CW_EARG);
    cr_assert(strstr(err.msg, "a-z, 0-9"), "%s", err.msg);

    /* a Bitcoin (version 1) capture holds no HTTP exchange, nor is it a tron one */
    char bpath[600];
    snprintf(bpath, sizeof bpath, "%s/b.cwcap", dir);
    cr_assert_eq(capture_writer_open(bpath, CW_NET_REGTEST, FEED_ALL_TOPICS, &w, &oi, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(capture_write_http(w, 1.0, "/wallet/getnowblock", "{}", (const uint8_t *)"{}", 2, &err), CW_EARG);
    cr_assert(strstr(err.msg, "holds no HTTP exchanges"), "%s", err.msg);
    cr_assert_eq(capture_writer_close(w, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(capture_writer_open_tron(bpath, "nile", &w, &oi, &err), CW_EARG);
    cr_assert(strstr(err.msg, "capture of bitcoin regtest; this run is tron nile"), "%s", err.msg);

    /* an HTTP exchange of 2 frames: damage, with its offset; so are an unknown
     * chain and a tron network name out of its alphabet */
    patch(path, 18 + rec1 + 12, "\x02\x00\x00\x80", 4);
    int ok;
    cr_assert_eq(read_until_error(path, &err, &ok), CW_EFORMAT);
    cr_assert_eq(ok, 1);
    cr_assert_eq(err.offset, 18 + rec1);
    cr_assert(strstr(err.msg, "an HTTP exchange of 2 frames"), "%s", err.msg);
    patch(path, 8, "trox", 4);
    cr_assert_eq(capture_reader_open(path, &r, &info, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "byte 8: unknown chain 'trox'"), "%s", err.msg);
    patch(path, 8, "tron", 4);
    patch(path, 13, "Nile", 4);
    cr_assert_eq(capture_reader_open(path, &r, &info, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "byte 13: unknown network 'Nile' (chain tron)"), "%s", err.msg);
    /* replay answers HTTP from the capture only: block 0 (the chain) was
     * never recorded here, so it says so and stops, exit 1 */
    patch(path, 13, "nile", 4);
    char *dd = setup_datadir(), *out, *e;
    patch(path, 18 + rec1 + 12, "\x03\x00\x00\x80", 4);
    cr_assert_eq(replay(path, dd, NULL, NULL, &out, &e), 1, "%s %s", out, e);
    cr_assert(strstr(e, "/wallet/getblockbynum {\"num\":0") && strstr(e, "holds no reply to it"), "%s", e);
    free(out), free(e);
    test_remove_dir(dd);
    free(trig);
    free(reply);
    test_remove_dir(dir);
}

/* Ethereum (version 2, chain ethereum): the settings record, then
 * exchanges with their outcome. Every record is told apart by
 * capture_eth_record; what is none of them is refused with its offset,
 * and replay --capture refuses such a file before replaying anything. */
Test(capture, ethereum_capture_records_and_refusals)
{
    char *dir = temp_dir();
    char path[600];
    snprintf(path, sizeof path, "%s/e.cwcap", dir);
    capture_writer *w;
    capture_open_info oi;
    cw_err err = {0};
    cr_assert_eq(capture_writer_open_v2(path, CAPTURE_CHAIN_ETHEREUM, "chain-31337", &w, &oi, &err), CW_OK, "%s",
                 err.msg);
    cr_assert_eq(oi.size, 29, "header: 7 magic + 1 + \"ethereum\" + 1 + \"chain-31337\" + 1 topics byte");
    const char *set = "{\"confirmations\":1,\"finalized\":false,\"start\":-1,\"tip\":-1}";
    const char *q1 = "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"eth_chainId\",\"params\":[]}";
    const char *a1 = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x7a69\"}";
    const char *q2 = "{\"id\":2,\"jsonrpc\":\"2.0\",\"method\":\"eth_blockNumber\",\"params\":[]}";
    const char *e2 = "eth_blockNumber at http://127.0.0.1:8545: Connection refused (after 4 tries)";
    cr_assert_eq(capture_write_http(w, 1.0, "settings", set, NULL, 0, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(capture_write_http(w, 2.0, "ok", q1, (const uint8_t *)a1, strlen(a1), &err), CW_OK, "%s", err.msg);
    cr_assert_eq(capture_write_http(w, 3.0, "eio", q2, (const uint8_t *)e2, strlen(e2), &err), CW_OK, "%s", err.msg);
    cr_assert_eq(capture_writer_close(w, &err), CW_OK, "%s", err.msg);
    size_t n;
    uint8_t *raw = read_whole(path, &n);
    cr_assert_eq(memcmp(raw, "CWCAP2\n\x08" "ethereum\x0b" "chain-31337\x01", 29), 0);
    free(raw);

    capture_reader *r;
    capture_info info;
    cr_assert_eq(capture_reader_open(path, &r, &info, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(info.chain, CAPTURE_CHAIN_ETHEREUM);
    cr_assert_str_eq(info.network, "chain-31337");
    cr_assert_eq(info.topics, CAPTURE_ETH_TOPICS);
    static const capture_eth_kind kinds[] = {CAPTURE_ETH_SETTINGS, CAPTURE_ETH_EXCHANGE, CAPTURE_ETH_EXCHANGE};
    static const cw_code outcomes[] = {CW_OK, CW_OK, CW_EIO};
    for (int i = 0; i < 3; i++) {
        feed_message g;
        bool got;
        cr_assert_eq(capture_read(r, &g, &got, &err), CW_OK, "%s", err.msg);
        cr_assert(got);
        capture_eth_kind k;
        cw_code o;
        cr_assert_eq(capture_eth_record(r, &g, &k, &o, &err), CW_OK, "%s", err.msg);
        cr_assert_eq(k, kinds[i]);
        cr_assert_eq(o, outcomes[i]);
        if (i == 2)
            cr_assert(g.len[2] == strlen(e2) && memcmp(g.frame[2], e2, g.len[2]) == 0);
    }
    capture_reader_close(r);
    /* appended to by the same chain and network only */
    cr_assert_eq(capture_writer_open_v2(path, CAPTURE_CHAIN_ETHEREUM, "chain-31337", &w, &oi, &err), CW_OK, "%s",
                 err.msg);
    cr_assert_eq(oi.records, 3);
    cr_assert_eq(capture_writer_close(w, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(capture_writer_open_v2(path, CAPTURE_CHAIN_ETHEREUM, "mainnet", &w, &oi, &err), CW_EARG);
    cr_assert(strstr(err.msg, "capture of ethereum chain-31337; this run is ethereum mainnet"), "%s", err.msg);
    cr_assert_eq(capture_writer_open_tron(path, "chain-31337", &w, &oi, &err), CW_EARG);
    cr_assert(strstr(err.msg, "capture of ethereum chain-31337; this run is tron chain-31337"), "%s", err.msg);
    cr_assert_eq(capture_writer_open_v2(path, CAPTURE_CHAIN_BITCOIN, "main", &w, &oi, &err), CW_EARG);

    /* an outcome that is none ("oops" over "eio"): refused with the offset,
     * by the reader's check and by replay before anything is replayed */
    uint64_t third = 29 + (4 + 12 + 4 + 8 + 4 + strlen(set) + 4) + (4 + 12 + 4 + 2 + 4 + strlen(q1) + 4 + strlen(a1));
    patch(path, third + 16 + 4, "oop", 3);
    cr_assert_eq(capture_reader_open(path, &r, &info, &err), CW_OK, "%s", err.msg);
    feed_message g;
    bool got;
    capture_eth_kind k;
    cw_code o;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(capture_read(r, &g, &got, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(capture_eth_record(r, &g, &k, &o, &err), CW_EFORMAT);
    cr_assert_eq(err.offset, third);
    cr_assert(strstr(err.msg, "outcome is not ok, eio"), "%s", err.msg);
    capture_reader_close(r);
    char *dd = setup_datadir(), *out, *e;
    cr_assert_eq(replay(path, dd, NULL, NULL, &out, &e), 2, "%s %s", out, e);
    char want[64];
    snprintf(want, sizeof want, "record at byte %llu", (unsigned long long)third);
    cr_assert(strstr(e, want) && strstr(e, "refused, nothing replayed"), "%s", e);
    free(out), free(e);
    /* the settings record missing: the first record is an exchange */
    patch(path, third + 16 + 4, "eio", 3);
    patch(path, 29 + 16 + 4, "ok\0\0\0\0\0\0", 8); /* frame 0's bytes; its length still says 8: not an outcome */
    cr_assert_eq(replay(path, dd, NULL, NULL, &out, &e), 2, "%s %s", out, e);
    cr_assert(strstr(e, "record at byte 29"), "%s", e);
    free(out), free(e);
    json_t *none = alerts_read(dd);
    cr_assert_eq(json_array_size(none), 0);
    json_decref(none);
    test_remove_dir(dd);
    test_remove_dir(dir);
}

/* A store error is exit 3 in replay --capture too, naming the store and
 * what failed: at open (ulimit -v below the map, in the forked child) and
 * mid-replay (a commit on a full disk, the shim), where it stops the replay
 * at the message that failed. Before: 1 for both, the exit of a failing
 * alerts file or an interruption. The same store then replays the whole
 * capture. */
Test(capture, a_store_error_at_open_or_mid_replay_is_exit_3, .timeout = 120)
{
    char *dir = temp_dir();
    char path[700], want[900], *out, *err;
    snprintf(path, sizeof path, "%s/node.cwcap", dir);
    write_node_capture(path, CAPTURE_MESSAGES, NULL, NULL, 0);
    char *dd = setup_datadir();
#if !defined(__SANITIZE_ADDRESS__) /* ASan's shadow memory cannot start under an address-space limit */
    char *lim[] = {"/bin/sh", "-c", "ulimit -v 400000 && exec \"$0\" \"$@\"", CW_BIN, "replay", "--capture", path,
                   "--datadir", dd, NULL};
    int rc = run_cmd(lim, NULL, 0, &out, &err);
    snprintf(want, sizeof want, "chainwatch: replay: store %s/store.mdb: open: Cannot allocate memory", dd);
    cr_assert_eq(rc, 3, "ulimit -v: exit %d\n%s", rc, err);
    cr_assert(strstr(err, want), "ulimit -v: %s", err);
    free(out), free(err);
#endif
    /* commits past the start's fail: the first message that writes stops it */
    setenv("LD_PRELOAD", CW_FAULT_PRELOAD, 1);
    setenv("CW_FAIL_MDB", "mdb_txn_commit:20+:ENOSPC", 1);
    int frc = replay(path, dd, NULL, NULL, &out, &err);
    unsetenv("LD_PRELOAD");
    unsetenv("CW_FAIL_MDB");
    cr_assert_eq(frc, 3, "exit %d\n%s", frc, err);
    snprintf(want, sizeof want, "store %s/store.mdb: commit: No space left on device", dd);
    cr_assert(strstr(err, "chainwatch: replay: stopped at message ") && strstr(err, want), "%s", err);
    free(out), free(err);
    cr_assert_eq(replay(path, dd, NULL, NULL, &out, &err), 0, "%s", err);
    free(out), free(err);
    test_remove_dir(dd);
    test_remove_dir(dir);
}

/* ---------------- a settings record, read strictly ---------------- */


/* The settings a Tron watch writes (account_run.c), keys sorted as
 * json_dumps(JSON_SORT_KEYS) writes them. */
#define SETTINGS_OK                                                                                                   \
    "{\"chain_id\":728126428,\"confirmations\":1,\"finalized\":true,\"hold_share_ppm\":100000,\"hops\":3,"           \
    "\"labels_blake2b\":\"\",\"max_reorg\":0,\"min_share_ppm\":10000,\"rules\":{\"enabled\":false},\"start\":"      \
    "69316562,\"tip\":-1,\"tip_hash\":\"\"}"

/* SETTINGS_OK with `from` replaced by `to` (once). */
static char *settings_with(const char *from, const char *to)
{
    const char *base = SETTINGS_OK, *at = strstr(base, from);
    cr_assert_not_null(at, "%s", from);
    char *s = malloc(strlen(base) + strlen(to) + 1);
    size_t pre = (size_t)(at - base);
    memcpy(s, base, pre);
    strcpy(s + pre, to);
    strcat(s, at + strlen(from));
    return s;
}

Test(capture, settings_record_read_strictly)
{
    capture_settings st;
    cw_err err = {0};
    const char *ok = SETTINGS_OK;
    cr_assert_eq(capture_settings_parse((const uint8_t *)ok, strlen(ok), "t.cwcap", 21, 53, true, &st, &err), CW_OK,
                 "%s", err.msg);
    cr_assert_eq(st.confirmations, 1);
    cr_assert(st.finalized);
    cr_assert_eq(st.start, 69316562);
    cr_assert_eq(st.tip, -1);
    cr_assert_str_eq(st.tip_hash, "");
    cr_assert_eq(st.hops, 3);
    cr_assert_eq(st.min_share_ppm, 10000);
    cr_assert_eq(st.hold_share_ppm, 100000);
    cr_assert(st.has_chain_id && st.chain_id == 728126428u);
    cr_assert(json_is_false(json_object_get(st.rules, "enabled")));
    capture_settings_free(&st);
    capture_settings_free(&st); /* twice is fine */

    /* a tip and its hash, no chain id where none is required */
    char *t = settings_with("\"tip\":-1,\"tip_hash\":\"\"",
                            "\"tip\":69316566,\"tip_hash\":\"0x000000000421afd6aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                            "aaaaaaaa\"");
    char *u = strdup(t);
    memmove(strstr(u, "\"chain_id\""), strstr(u, "\"confirmations\""), strlen(strstr(u, "\"confirmations\"")) + 1);
    cr_assert_eq(capture_settings_parse((const uint8_t *)u, strlen(u), "t.cwcap", 21, 53, false, &st, &err), CW_OK,
                 "%s", err.msg);
    cr_assert_eq(st.tip, 69316566);
    cr_assert_str_eq(st.tip_hash, "0x000000000421afd6aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    cr_assert(!st.has_chain_id);
    capture_settings_free(&st);
    cr_assert_eq(capture_settings_parse((const uint8_t *)u, strlen(u), "t.cwcap", 21, 53, true, &st, &err),
                 CW_EFORMAT);
    cr_assert_str_eq(err.msg, "t.cwcap: byte 53 (the settings record at byte 21): no 'chain_id' (0..9007199254740992)");
    free(t), free(u);

    /* each damage named, at the settings' first byte (53) or, for JSON
     * syntax, the byte jansson stopped at */
    static const struct {
        const char *from, *to, *why;
        size_t at;
    } bad[] = {
        {"\"confirmations\":1", "\"confirmations\":0", "'confirmations' is not an integer in 1..2147483647", 53},
        {"\"finalized\":true", "\"finalized\":1", "'finalized' is not true or false", 53},
        {"\"start\":69316562", "\"start\":-2", "'start' is not an integer in -1..2147483647", 53},
        {"\"start\":69316562", "\"begin\":69316562", "no 'start' (-1..2147483647)", 53},
        {"\"start\":69316562", "\"start\":\"69316562\"", "'start' is not an integer in -1..2147483647", 53},
        {"\"tip\":-1", "\"tip\":5", "'tip' 5 and 'tip_hash' \"\" disagree (a tip has a hash, none has none)", 53},
        {"\"tip_hash\":\"\"", "\"tip_hash\":\"0xAB\"",
         "'tip_hash' is not \"\" or a string of 0x and 64 lowercase hex digits", 53},
        {"\"hops\":3", "\"hops\":9", "'hops' is not an integer in 0..8", 53},
        {"\"min_share_ppm\":10000", "\"min_share_ppm\":1000001", "'min_share_ppm' is not an integer in 0..1000000",
         53},
        {"\"max_reorg\":0", "\"max_reorg\":-1", "'max_reorg' is not an integer in 0..2147483647", 53},
        {"\"rules\":{\"enabled\":false}", "\"rules\":[]",
         "'rules' is not a JSON object (the pattern rules' configuration)", 53},
        {"\"labels_blake2b\":\"\"", "\"labels_blake2b\":\"zz\"",
         "'labels_blake2b' is not \"\" or a string of 64 lowercase hex digits", 53},
        {"\"chain_id\":728126428", "\"chain_id\":-1", "'chain_id' is not an integer in 0..9007199254740992", 53},
        /* a duplicate key would let two readers see two values; jansson
         * stops just past the repeated key (it starts at index 90 of the
         * text: Python's str.index) */
        {"\"hops\":3", "\"hops\":3,\"hops\":4", "the settings are not JSON: duplicate object key near '\"hops\"'",
         53 + 90 + 6},
        {"{\"chain_id\"", "[\"chain_id\"", "the settings are not JSON: ", 53 + 12},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *s = settings_with(bad[i].from, bad[i].to);
        memset(&err, 0, sizeof err);
        cr_assert_eq(capture_settings_parse((const uint8_t *)s, strlen(s), "t.cwcap", 21, 53, true, &st, &err),
                     CW_EFORMAT, "%s", s);
        char want[300];
        snprintf(want, sizeof want, "t.cwcap: byte %zu (the settings record at byte 21): %s", bad[i].at, bad[i].why);
        cr_assert(strncmp(err.msg, want, strlen(want)) == 0, "case %zu: %s\nwant %s", i, err.msg, want);
        cr_assert_eq(err.offset, bad[i].at, "case %zu", i);
        cr_assert_null(st.rules, "nothing to free after a refusal");
        free(s);
    }
    /* not an object; empty; cut short; too big */
    cr_assert_eq(capture_settings_parse((const uint8_t *)"[1]", 3, "t.cwcap", 21, 53, true, &st, &err), CW_EFORMAT);
    cr_assert_str_eq(err.msg, "t.cwcap: byte 53 (the settings record at byte 21): the settings are not a JSON object");
    cr_assert_eq(capture_settings_parse((const uint8_t *)"", 0, "t.cwcap", 21, 53, true, &st, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "byte 53 (the settings record at byte 21): the settings are not JSON"), "%s", err.msg);
    cr_assert_eq(capture_settings_parse((const uint8_t *)ok, 40, "t.cwcap", 21, 53, true, &st, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "byte 93 (the settings record at byte 21): the settings are not JSON"), "%s", err.msg);
    cr_assert_eq(err.offset, 93, "the end of the 40 bytes given");
    uint8_t *big = calloc(1, (1u << 20) + 1);
    cr_assert_eq(capture_settings_parse(big, (1u << 20) + 1, "t.cwcap", 21, 53, true, &st, &err), CW_EFORMAT);
    cr_assert_str_eq(err.msg, "t.cwcap: byte 53 (the settings record at byte 21): the settings are over 1 MB (a "
                              "damaged record)");
    free(big);
    cr_assert_eq(capture_settings_parse(NULL, 1, "t.cwcap", 21, 53, true, &st, &err), CW_EARG);
}

Test(capture, settings_diff_names_the_first_difference)
{
    json_t *a = json_loads("{\"enabled\":true,\"min_gap\":1,\"weight\":[1,2],\"z\":{\"q\":1}}", 0, NULL);
    json_t *b = json_loads("{\"enabled\":true,\"min_gap\":1,\"weight\":[1,3],\"z\":{\"q\":2},\"new\":1}", 0, NULL);
    char what[64], rt[64], gt[64];
    cr_assert_not(capture_settings_diff(a, a, "rules", what, sizeof what, rt, gt, sizeof rt));
    cr_assert(capture_settings_diff(a, b, "rules", what, sizeof what, rt, gt, sizeof rt));
    cr_assert_str_eq(what, "rules.new", "keys in sorted order, from both sides");
    cr_assert_str_eq(rt, "(absent)");
    cr_assert_str_eq(gt, "1");
    json_object_del(b, "new");
    cr_assert(capture_settings_diff(a, b, "rules", what, sizeof what, rt, gt, sizeof rt));
    cr_assert_str_eq(what, "rules.weight");
    cr_assert_str_eq(rt, "[1,2]");
    cr_assert_str_eq(gt, "[1,3]");
    json_array_set_new(json_object_get(b, "weight"), 1, json_integer(2));
    cr_assert(capture_settings_diff(a, b, "rules", what, sizeof what, rt, gt, sizeof rt));
    cr_assert_str_eq(what, "rules.z.q");
    cr_assert_str_eq(rt, "1");
    cr_assert_str_eq(gt, "2");
    json_decref(a), json_decref(b);
}
