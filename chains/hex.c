#include "hex.h"

#include <string.h>

static const char digits[] = "0123456789abcdef";

void cw_hex_encode(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void cw_hex_encode_rev(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[n - 1 - i];
        out[2 * i] = digits[b >> 4];
        out[2 * i + 1] = digits[b & 15];
    }
    out[2 * n] = '\0';
}

static int nibble(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

cw_code cw_hex_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n_out, cw_err *err)
{
    if (len % 2 != 0)
        return cw_err_set(err, CW_EFORMAT, len, "hex: odd number of digits (%zu)", len);
    if (len / 2 > cap)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "hex: %zu bytes do not fit in %zu", len / 2, cap);
    for (size_t i = 0; i < len; i += 2) {
        int hi = nibble((unsigned char)s[i]), lo = nibble((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0) {
            size_t at = hi < 0 ? i : i + 1;
            return cw_err_set(err, CW_EFORMAT, at, "hex: character %zu is not a hex digit", at);
        }
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    if (n_out)
        *n_out = len / 2;
    return CW_OK;
}

cw_code cw_hex_decode_hash_rev(const char *s, uint8_t out[32], cw_err *err)
{
    uint8_t tmp[32];
    size_t n;
    size_t len = strlen(s);
    if (len != 64)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "hash: expected 64 hex digits, got %zu", len);
    cw_code rc = cw_hex_decode(s, len, tmp, sizeof tmp, &n, err);
    if (rc != CW_OK)
        return rc;
    for (int i = 0; i < 32; i++)
        out[i] = tmp[31 - i];
    return CW_OK;
}

bool cw_looks_like_hex(const uint8_t *p, size_t n)
{
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (nibble(c) >= 0)
            any = true;
        else if (!(c == ' ' || c == '\n' || c == '\r' || c == '\t'))
            return false;
    }
    return any;
}
