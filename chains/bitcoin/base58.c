/*
 * Base58 is a base conversion, quadratic in the length. Encoding sits on the
 * decode hot path (every P2PKH/P2SH output), so it divides 32-bit limbs by
 * 58^5 and peels five digits per pass: 7 passes for a 25-byte address
 * instead of a division per digit and byte. Decoding is rarer (user and
 * watchlist input) and stays schoolbook.
 */
#include "base58.h"

#include <string.h>

#include "chains/hash.h"

static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static const int8_t digit_of[128] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, 0,  1,  2,  3,  4,  5,  6,  7,  8,  -1, -1, -1, -1, -1, -1, -1, 9,
    10, 11, 12, 13, 14, 15, 16, -1, 17, 18, 19, 20, 21, -1, 22, 23, 24, 25, 26, 27, 28, 29,
    30, 31, 32, -1, -1, -1, -1, -1, -1, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, -1, 44,
    45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, -1, -1, -1, -1, -1,
};

size_t base58_encode(const uint8_t *p, size_t n, char *out, size_t cap)
{
    if (n > BASE58_MAX_BYTES)
        return 0;
    size_t zeros = 0;
    while (zeros < n && p[zeros] == 0)
        zeros++;
    /* The number as big-endian 32-bit limbs, divided by 58^5 per pass. */
    enum { LIMBS = (BASE58_MAX_BYTES + 3) / 4 };
    uint32_t limb[LIMBS];
    size_t nl = (n - zeros + 3) / 4, lead = nl * 4 - (n - zeros);
    for (size_t i = 0; i < nl; i++) {
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            size_t at = i * 4 + k; /* position in the padded buffer */
            v = v << 8 | (at < lead ? 0 : p[zeros + at - lead]);
        }
        limb[i] = v;
    }
    uint8_t b58[BASE58_MAX_BYTES * 138 / 100 + 8]; /* least significant first */
    size_t len = 0, top = 0;
    while (top < nl) {
        uint64_t rem = 0;
        for (size_t i = top; i < nl; i++) {
            uint64_t cur = rem << 32 | limb[i];
            limb[i] = (uint32_t)(cur / 656356768u); /* 58^5 */
            rem = cur % 656356768u;
        }
        while (top < nl && limb[top] == 0)
            top++;
        for (int k = 0; k < 5; k++) {
            b58[len++] = (uint8_t)(rem % 58);
            rem /= 58;
        }
    }
    while (len > 0 && b58[len - 1] == 0) /* the last pass pads with zero digits */
        len--;
    size_t total = zeros + len;
    if (total + 1 > cap)
        return 0;
    memset(out, '1', zeros);
    for (size_t j = 0; j < len; j++)
        out[zeros + j] = alphabet[b58[len - 1 - j]];
    out[total] = '\0';
    return total;
}

size_t base58check_encode(const uint8_t *p, size_t n, char *out, size_t cap)
{
    if (n + 4 > BASE58_MAX_BYTES)
        return 0;
    uint8_t buf[BASE58_MAX_BYTES], sum[32];
    memcpy(buf, p, n);
    cw_sha256d(p, n, sum);
    memcpy(buf + n, sum, 4);
    return base58_encode(buf, n + 4, out, cap);
}

cw_code base58_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n_out, cw_err *err)
{
    /* log(58)/log(256) < 0.733: bytes needed for len digits */
    if (len > BASE58_MAX_BYTES * 138 / 100)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "base58: text of %zu characters is too long", len);
    size_t zeros = 0;
    while (zeros < len && s[zeros] == '1')
        zeros++;
    uint8_t b256[BASE58_MAX_BYTES + 8];
    size_t blen = 0;
    for (size_t i = zeros; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int d = c < 128 ? digit_of[c] : -1;
        if (d < 0)
            return cw_err_set(err, CW_EFORMAT, i, "base58: character %zu ('%c') is not in the alphabet", i,
                              c >= 32 && c < 127 ? c : '?');
        uint32_t carry = (uint32_t)d;
        for (size_t j = 0; j < blen; j++) {
            carry += (uint32_t)b256[j] * 58;
            b256[j] = (uint8_t)carry;
            carry >>= 8;
        }
        while (carry) {
            if (blen == sizeof b256)
                return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "base58: value too large");
            b256[blen++] = (uint8_t)carry;
            carry >>= 8;
        }
    }
    size_t total = zeros + blen;
    if (total > cap)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "base58: %zu bytes decoded, at most %zu expected", total,
                          cap);
    memset(out, 0, zeros);
    for (size_t j = 0; j < blen; j++)
        out[zeros + j] = b256[blen - 1 - j];
    *n_out = total;
    return CW_OK;
}

cw_code base58check_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n_out, cw_err *err)
{
    uint8_t buf[BASE58_MAX_BYTES + 8];
    size_t n;
    cw_code rc = base58_decode(s, len, buf, sizeof buf, &n, err);
    if (rc)
        return rc;
    if (n < 4)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "base58check: %zu bytes is too short for a checksum", n);
    uint8_t sum[32];
    cw_sha256d(buf, n - 4, sum);
    if (memcmp(sum, buf + n - 4, 4) != 0)
        return cw_err_set(err, CW_ECHECKSUM, CW_NO_OFFSET, "base58check: bad checksum");
    if (n - 4 > cap)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "base58check: payload of %zu bytes, at most %zu expected",
                          n - 4, cap);
    memcpy(out, buf, n - 4);
    *n_out = n - 4;
    return CW_OK;
}
