#include "json.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"

void cw_json_init(cw_json *j, cw_buf *out)
{
    memset(j, 0, sizeof *j);
    j->out = out;
}

bool cw_json_ok(const cw_json *j) { return !j->failed; }

static void put(cw_json *j, const void *p, size_t n)
{
    if (!j->failed && cw_buf_append(j->out, p, n, NULL) != CW_OK)
        j->failed = true;
}

static void putc_(cw_json *j, char c) { put(j, &c, 1); }

/* Before any value: a comma if a sibling came before, unless after a key. */
static void pre_value(cw_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->need_comma[j->depth])
        putc_(j, ',');
    j->need_comma[j->depth] = true;
}

static void open_(cw_json *j, char c)
{
    pre_value(j);
    putc_(j, c);
    if (j->depth >= CW_JSON_MAX_DEPTH) {
        j->failed = true; /* a programming error: nesting deeper than any record we write */
        return;
    }
    j->need_comma[++j->depth] = false;
}

static void close_(cw_json *j, char c)
{
    putc_(j, c);
    if (j->depth > 0)
        j->depth--;
}

void cw_json_obj_begin(cw_json *j) { open_(j, '{'); }
void cw_json_obj_end(cw_json *j) { close_(j, '}'); }
void cw_json_arr_begin(cw_json *j) { open_(j, '['); }
void cw_json_arr_end(cw_json *j) { close_(j, ']'); }

/* Length of a valid UTF-8 sequence at p (n bytes left), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

/* How many bytes from p[0] on (of n) are printable ASCII other than '"'
 * and '\\' (bytes kept as they are), eight at a time: a word holds a
 * byte to look at when one is under 0x20, at or over 0x80, or equal to
 * '"' or '\\' (the exact tests of "Bit Twiddling Hacks": a zero byte of
 * x is in (x - 0x01..01) & ~x & 0x80..80, a byte under k <= 0x80 in
 * (x - k * 0x01..01) & ~x & 0x80..80). The byte loop in write_escaped
 * takes over at that word. */
static size_t plain_prefix(const unsigned char *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v, q, b;
        memcpy(&v, p + i, 8);
        q = v ^ (ones * '"');
        b = v ^ (ones * '\\');
        if (((v - ones * 0x20) & ~v & high) | (v & high) | ((q - ones) & ~q & high) | ((b - ones) & ~b & high))
            break;
    }
    return i;
}

static bool plain_byte(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

/* s[0..n) escaped, without the quotes. Plain bytes are copied in runs, one
 * append a run: whole words by plain_prefix, then byte by byte up to the
 * byte that needs a look (or the end). */
static void write_escaped(cw_json *j, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t start = 0; /* the current run of bytes copied as they are */
    for (size_t i = 0;;) {
        i += plain_prefix(p + i, n - i);
        while (i < n && plain_byte(p[i]))
            i++;
        if (i == n)
            break;
        unsigned char c = p[i];
        const char *esc = NULL;
        char ubuf[8];
        size_t step = 1;
        if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\r') esc = "\\r";
        else if (c == '\t') esc = "\\t";
        else if (c == '\b') esc = "\\b";
        else if (c == '\f') esc = "\\f";
        else if (c < 0x20) { snprintf(ubuf, sizeof ubuf, "\\u%04x", c); esc = ubuf; }
        else { /* >= 0x80: a valid UTF-8 sequence stays in the run */
            step = utf8_len(p + i, n - i);
            if (step == 0) { esc = "\xef\xbf\xbd"; step = 1; }
        }
        if (esc) {
            put(j, p + start, i - start);
            put(j, esc, strlen(esc));
            start = i + step;
        }
        i += step;
    }
    put(j, p + start, n - start);
}

static void write_string(cw_json *j, const char *s, size_t n)
{
    putc_(j, '"');
    write_escaped(j, s, n);
    putc_(j, '"');
}

void cw_json_str_begin(cw_json *j)
{
    pre_value(j);
    putc_(j, '"');
}

void cw_json_str_add(cw_json *j, const char *s) { write_escaped(j, s, strlen(s)); }

void cw_json_str_end(cw_json *j) { putc_(j, '"'); }

void cw_json_key(cw_json *j, const char *key)
{
    pre_value(j);
    write_string(j, key, strlen(key));
    putc_(j, ':');
    j->after_key = true;
}

void cw_json_strn(cw_json *j, const char *s, size_t n)
{
    pre_value(j);
    write_string(j, s, n);
}

void cw_json_str(cw_json *j, const char *s)
{
    if (s == NULL) {
        cw_json_null(j);
        return;
    }
    cw_json_strn(j, s, strlen(s));
}

void cw_json_u64(cw_json *j, uint64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%" PRIu64, v);
    pre_value(j);
    put(j, b, (size_t)n);
}

void cw_json_i64(cw_json *j, int64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%" PRId64, v);
    pre_value(j);
    put(j, b, (size_t)n);
}

void cw_json_bool(cw_json *j, bool v)
{
    pre_value(j);
    put(j, v ? "true" : "false", v ? 4 : 5);
}

void cw_json_null(cw_json *j)
{
    pre_value(j);
    put(j, "null", 4);
}

static void write_hex(cw_json *j, const uint8_t *p, size_t n, bool rev)
{
    char small[2 * 64 + 1];
    char *t = n <= 64 ? small : malloc(2 * n + 1);
    if (t == NULL) {
        j->failed = true;
        return;
    }
    if (rev)
        cw_hex_encode_rev(p, n, t);
    else
        cw_hex_encode(p, n, t);
    pre_value(j);
    putc_(j, '"');
    put(j, t, 2 * n);
    putc_(j, '"');
    if (t != small)
        free(t);
}

void cw_json_hex(cw_json *j, const uint8_t *p, size_t n) { write_hex(j, p, n, false); }
void cw_json_hex_rev(cw_json *j, const uint8_t *p, size_t n) { write_hex(j, p, n, true); }

void cw_json_newline(cw_json *j)
{
    putc_(j, '\n');
    j->need_comma[0] = false;
}
