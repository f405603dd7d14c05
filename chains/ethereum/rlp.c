/* rlp.c: the strict RLP reader and the writer (see rlp.h). */
#include "rlp.h"

#include <string.h>

#include "chains/be.h"

void eth_rlp_init(eth_rlp *r, const uint8_t *buf, size_t len)
{
    r->base = buf;
    r->pos = 0;
    r->end = len;
    r->depth = 0;
}

cw_code eth_rlp_next(eth_rlp *r, const char *field, eth_rlp_item *it, cw_err *err)
{
    size_t at = r->pos;
    if (at >= r->end)
        return cw_err_set(err, CW_ETRUNC, at, "byte %zu, field %s: missing (the list ends before it)", at, field);
    const uint8_t *p = r->base;
    uint8_t b = p[at];
    size_t left = r->end - at - 1; /* bytes after the first */
    size_t hdr, len;
    bool list = b >= 0xc0;
    if (b < 0x80) {
        hdr = 0;
        len = 1;
    } else if (b <= 0xb7 || (b >= 0xc0 && b <= 0xf7)) {
        hdr = 1;
        len = (size_t)(b - (list ? 0xc0 : 0x80));
        if (!list && len == 1) {
            if (left < 1)
                return cw_err_set(err, CW_ETRUNC, at, "byte %zu, field %s: input ends inside the item", at, field);
            if (p[at + 1] < 0x80)
                return cw_err_set(err, CW_EFORMAT, at,
                                  "byte %zu, field %s: non-canonical RLP: single byte 0x%02x below 0x80 wrapped in a string",
                                  at, field, p[at + 1]);
        }
    } else {
        size_t ll = (size_t)(b - (list ? 0xf7 : 0xb7));
        if (left < ll)
            return cw_err_set(err, CW_ETRUNC, at, "byte %zu, field %s: input ends inside the length", at, field);
        if (p[at + 1] == 0)
            return cw_err_set(err, CW_EFORMAT, at, "byte %zu, field %s: non-canonical RLP: length with a leading zero byte",
                              at, field);
        if (ll > 4)
            return cw_err_set(err, CW_ELIMIT, at, "byte %zu, field %s: item length of %zu bytes is above the limit (%u)", at,
                              field, ll, ETH_RLP_LEN_MAX);
        uint64_t v = 0;
        for (size_t i = 0; i < ll; i++)
            v = v << 8 | p[at + 1 + i];
        if (v > ETH_RLP_LEN_MAX)
            return cw_err_set(err, CW_ELIMIT, at, "byte %zu, field %s: item length %llu is above the limit (%u)", at, field,
                              (unsigned long long)v, ETH_RLP_LEN_MAX);
        if (v <= 55)
            return cw_err_set(err, CW_EFORMAT, at,
                              "byte %zu, field %s: non-canonical RLP: length %llu in the long form (55 or less is short)",
                              at, field, (unsigned long long)v);
        hdr = 1 + ll;
        len = (size_t)v;
    }
    if (hdr > 0 && (r->end - at) - hdr < len)
        return cw_err_set(err, CW_ETRUNC, at, "byte %zu, field %s: item of %zu bytes runs past the end of its %s (%zu left)",
                          at, field, len, r->depth ? "list" : "input", (r->end - at) - hdr);
    if (it) {
        it->is_list = list;
        it->off = at;
        it->size = hdr + len;
        it->payload.p = p + at + hdr;
        it->payload.n = len;
    }
    r->pos = at + hdr + len;
    return CW_OK;
}

cw_code eth_rlp_bytes(eth_rlp *r, const char *field, cw_span *out, cw_err *err)
{
    eth_rlp_item it = {0};
    size_t at = r->pos;
    cw_code rc = eth_rlp_next(r, field, &it, err);
    if (rc)
        return rc;
    if (it.is_list) {
        r->pos = at;
        return cw_err_set(err, CW_EFORMAT, at, "byte %zu, field %s: a list where a byte string is expected", at, field);
    }
    *out = it.payload;
    return CW_OK;
}

cw_code eth_rlp_fixed(eth_rlp *r, const char *field, size_t n, uint8_t *out, cw_err *err)
{
    size_t at = r->pos;
    cw_span s = {NULL, 0};
    cw_code rc = eth_rlp_bytes(r, field, &s, err);
    if (rc)
        return rc;
    if (s.n != n) {
        r->pos = at;
        return cw_err_set(err, CW_EFORMAT, at, "byte %zu, field %s: %zu bytes, expected %zu", at, field, s.n, n);
    }
    memcpy(out, s.p, n);
    return CW_OK;
}

/* A canonical big-endian integer of at most `width` bytes. */
static cw_code read_int(eth_rlp *r, const char *field, size_t width, cw_span *out, cw_err *err)
{
    size_t at = r->pos;
    cw_code rc = eth_rlp_bytes(r, field, out, err);
    if (rc)
        return rc;
    if (out->n > 0 && out->p[0] == 0) {
        r->pos = at;
        return cw_err_set(err, CW_EFORMAT, at, "byte %zu, field %s: leading zero in an integer", at, field);
    }
    if (out->n > width) {
        r->pos = at;
        return cw_err_set(err, CW_ELIMIT, at, "byte %zu, field %s: integer of %zu bytes is above 2^%zu-1", at, field,
                          out->n, width * 8);
    }
    return CW_OK;
}

cw_code eth_rlp_uint64(eth_rlp *r, const char *field, uint64_t *out, cw_err *err)
{
    cw_span s = {NULL, 0};
    cw_code rc = read_int(r, field, 8, &s, err);
    if (rc)
        return rc;
    *out = cw_get_be(s.p, (int)s.n); /* read_int: at most 8 bytes */
    return CW_OK;
}

cw_code eth_rlp_u256(eth_rlp *r, const char *field, cw_u256 *out, cw_err *err)
{
    cw_span s = {NULL, 0};
    cw_code rc = read_int(r, field, 32, &s, err);
    if (rc)
        return rc;
    return cw_u256_from_be(s.p, s.n, out, err);
}

cw_code eth_rlp_list(eth_rlp *r, const char *field, eth_rlp *sub, eth_rlp_item *item, cw_err *err)
{
    size_t at = r->pos;
    eth_rlp_item it = {0};
    if (r->depth + 1 > ETH_RLP_DEPTH_MAX && at < r->end)
        return cw_err_set(err, CW_ELIMIT, at, "byte %zu, field %s: lists nested deeper than %d", at, field,
                          ETH_RLP_DEPTH_MAX);
    cw_code rc = eth_rlp_next(r, field, &it, err);
    if (rc)
        return rc;
    if (!it.is_list) {
        r->pos = at;
        return cw_err_set(err, CW_EFORMAT, at, "byte %zu, field %s: a byte string where a list is expected", at, field);
    }
    sub->base = r->base;
    sub->pos = (size_t)(it.payload.p - r->base);
    sub->end = sub->pos + it.payload.n;
    sub->depth = r->depth + 1;
    if (item)
        *item = it;
    return CW_OK;
}

cw_code eth_rlp_end(const eth_rlp *r, const char *what, cw_err *err)
{
    if (r->pos < r->end)
        return cw_err_set(err, CW_EFORMAT, r->pos, "byte %zu: extra %s after %s", r->pos,
                          r->depth ? "item" : "bytes", what);
    return CW_OK;
}

cw_code eth_rlp_check(const uint8_t *buf, size_t len, cw_err *err)
{
    /* Iterative walk with one reader per open list. */
    eth_rlp stack[ETH_RLP_DEPTH_MAX + 1];
    unsigned top = 0;
    eth_rlp_init(&stack[0], buf, len);
    eth_rlp_item it = {0};
    cw_code rc = eth_rlp_next(&stack[0], "item", &it, err);
    if (rc)
        return rc;
    if ((rc = eth_rlp_end(&stack[0], "the item", err)))
        return rc;
    if (!it.is_list)
        return CW_OK;
    eth_rlp_init(&stack[0], buf, len);
    if ((rc = eth_rlp_list(&stack[0], "item", &stack[1], NULL, err)))
        return rc;
    top = 1;
    while (top > 0) {
        eth_rlp *r = &stack[top];
        if (eth_rlp_done(r)) {
            top--;
            continue;
        }
        if (r->base[r->pos] >= 0xc0) {
            if (top == ETH_RLP_DEPTH_MAX)
                return cw_err_set(err, CW_ELIMIT, r->pos, "byte %zu: lists nested deeper than %d", r->pos,
                                  ETH_RLP_DEPTH_MAX);
            if ((rc = eth_rlp_list(r, "item", &stack[top + 1], NULL, err)))
                return rc;
            top++;
        } else if ((rc = eth_rlp_next(r, "item", NULL, err))) {
            return rc;
        }
    }
    return CW_OK;
}

/* ---- writer ---- */

void eth_rlp_w_init(eth_rlp_w *w, uint8_t *buf, size_t cap, cw_keccak_ctx *hash)
{
    w->p = buf;
    w->cap = buf ? cap : 0;
    w->n = 0;
    w->overflow = false;
    w->hash = hash;
}

void eth_rlp_w_raw(eth_rlp_w *w, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (w->hash)
        cw_keccak256_update(w->hash, p, n);
    if (w->p) {
        if (!w->overflow && w->cap - w->n >= n)
            memcpy(w->p + w->n, p, n);
        else
            w->overflow = true;
    }
    w->n += n;
}

static size_t be_len(uint64_t v)
{
    size_t n = 0;
    while (v) {
        n++;
        v >>= 8;
    }
    return n;
}

static void header(eth_rlp_w *w, uint8_t base, size_t len)
{
    uint8_t h[9];
    if (len <= 55) {
        h[0] = (uint8_t)(base + len);
        eth_rlp_w_raw(w, h, 1);
        return;
    }
    size_t ll = be_len(len);
    h[0] = (uint8_t)(base + 55 + ll);
    for (size_t i = 0; i < ll; i++)
        h[1 + i] = (uint8_t)(len >> (8 * (ll - 1 - i)));
    eth_rlp_w_raw(w, h, 1 + ll);
}

void eth_rlp_w_bytes(eth_rlp_w *w, const void *p, size_t n)
{
    if (n == 1 && ((const uint8_t *)p)[0] < 0x80) {
        eth_rlp_w_raw(w, p, 1);
        return;
    }
    header(w, 0x80, n);
    eth_rlp_w_raw(w, p, n);
}

void eth_rlp_w_uint64(eth_rlp_w *w, uint64_t v)
{
    uint8_t b[8];
    size_t n = be_len(v);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    eth_rlp_w_bytes(w, b, n);
}

static size_t u256_trim(const cw_u256 *v, uint8_t b[32])
{
    cw_u256_to_be(v, b);
    size_t z = 0;
    while (z < 32 && b[z] == 0)
        z++;
    return z;
}

void eth_rlp_w_u256(eth_rlp_w *w, const cw_u256 *v)
{
    uint8_t b[32];
    size_t z = u256_trim(v, b);
    eth_rlp_w_bytes(w, b + z, 32 - z);
}

void eth_rlp_w_list(eth_rlp_w *w, size_t payload_len) { header(w, 0xc0, payload_len); }

static size_t header_size(size_t len) { return len <= 55 ? 1 : 1 + be_len(len); }

size_t eth_rlp_size_bytes(const void *p, size_t n)
{
    if (n == 1 && ((const uint8_t *)p)[0] < 0x80)
        return 1;
    return header_size(n) + n;
}

size_t eth_rlp_size_uint64(uint64_t v)
{
    if (v < 0x80)
        return 1;
    return 1 + be_len(v);
}

size_t eth_rlp_size_u256(const cw_u256 *v)
{
    uint8_t b[32];
    size_t z = u256_trim(v, b);
    return eth_rlp_size_bytes(b + z, 32 - z);
}

size_t eth_rlp_size_list(size_t payload_len) { return header_size(payload_len) + payload_len; }
