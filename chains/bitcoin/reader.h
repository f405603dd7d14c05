/*
 * reader.h (internal): a bounds-checked cursor over a byte buffer for the
 * Bitcoin decoders. Every read checks the remaining length first and fails
 * with CW_ETRUNC naming the field and its offset; nothing reads past `end`.
 */
#ifndef CW_BTC_READER_H
#define CW_BTC_READER_H

#include <stdint.h>
#include <string.h>

#include "chains/model.h"

/* Bitcoin Core's MAX_SIZE: the largest compact size a message may carry. */
#define BTC_MAX_SIZE 0x02000000u

typedef struct {
    const uint8_t *buf; /* start of the whole input: offsets are relative to it */
    size_t pos;
    size_t end;
    cw_err *err;
} btc_reader;

static inline size_t btc_left(const btc_reader *r) { return r->end - r->pos; }

static inline uint32_t btc_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline cw_code btc_need(btc_reader *r, size_t n, const char *what)
{
    if (btc_left(r) < n)
        return cw_err_set(r->err, CW_ETRUNC, r->pos, "byte %zu: truncated %s: need %zu bytes, %zu left", r->pos,
                          what, n, btc_left(r));
    return CW_OK;
}

static inline cw_code btc_read_u32(btc_reader *r, uint32_t *v, const char *what)
{
    if (btc_need(r, 4, what))
        return CW_ETRUNC;
    *v = btc_le32(r->buf + r->pos);
    r->pos += 4;
    return CW_OK;
}

static inline cw_code btc_read_u64(btc_reader *r, uint64_t *v, const char *what)
{
    if (btc_need(r, 8, what))
        return CW_ETRUNC;
    const uint8_t *p = r->buf + r->pos;
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | p[i];
    *v = x;
    r->pos += 8;
    return CW_OK;
}

static inline cw_code btc_skip(btc_reader *r, size_t n, const char *what)
{
    if (btc_need(r, n, what))
        return CW_ETRUNC;
    r->pos += n;
    return CW_OK;
}

/* Compact size as Bitcoin Core reads it: minimal encoding only, and at most
 * BTC_MAX_SIZE (when range_check is set; Core checks it for lengths and counts). */
static inline cw_code btc_read_compact(btc_reader *r, uint64_t *v, const char *what)
{
    size_t at = r->pos;
    if (btc_need(r, 1, what))
        return CW_ETRUNC;
    uint8_t first = r->buf[r->pos++];
    uint64_t x;
    if (first < 0xfd) {
        x = first;
    } else if (first == 0xfd) {
        if (btc_need(r, 2, what))
            return CW_ETRUNC;
        x = (uint64_t)r->buf[r->pos] | (uint64_t)r->buf[r->pos + 1] << 8;
        r->pos += 2;
        if (x < 0xfd)
            return cw_err_set(r->err, CW_EFORMAT, at, "byte %zu: non-canonical compact size for %s", at, what);
    } else if (first == 0xfe) {
        uint32_t y;
        if (btc_read_u32(r, &y, what))
            return CW_ETRUNC;
        x = y;
        if (x < 0x10000)
            return cw_err_set(r->err, CW_EFORMAT, at, "byte %zu: non-canonical compact size for %s", at, what);
    } else {
        if (btc_read_u64(r, &x, what))
            return CW_ETRUNC;
        if (x < 0x100000000ull)
            return cw_err_set(r->err, CW_EFORMAT, at, "byte %zu: non-canonical compact size for %s", at, what);
    }
    if (x > BTC_MAX_SIZE)
        return cw_err_set(r->err, CW_ELIMIT, at, "byte %zu: %s %llu exceeds the limit %u", at, what,
                          (unsigned long long)x, BTC_MAX_SIZE);
    *v = x;
    return CW_OK;
}

/* A compact-size length followed by that many bytes. */
static inline cw_code btc_read_var_bytes(btc_reader *r, cw_span *out, const char *what)
{
    uint64_t n = 0;
    cw_code rc = btc_read_compact(r, &n, what);
    if (rc)
        return rc;
    if (btc_left(r) < n)
        return cw_err_set(r->err, CW_ETRUNC, r->pos, "byte %zu: truncated %s: length %llu, %zu bytes left", r->pos,
                          what, (unsigned long long)n, btc_left(r));
    out->p = r->buf + r->pos;
    out->n = (size_t)n;
    r->pos += (size_t)n;
    return CW_OK;
}

#endif
