#include "u256.h"

#include <string.h>

int cw_u256_cmp(const cw_u256 *a, const cw_u256 *b)
{
    for (int i = 3; i >= 0; i--) {
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    }
    return 0;
}

bool cw_u256_to_u64(const cw_u256 *a, uint64_t *out)
{
    if (a->w[1] | a->w[2] | a->w[3])
        return false;
    *out = a->w[0];
    return true;
}

cw_code cw_u256_from_be(const uint8_t *p, size_t n, cw_u256 *out, cw_err *err)
{
    size_t skip = 0;
    while (n - skip > 32) {
        if (p[skip] != 0)
            return cw_err_set(err, CW_ELIMIT, skip, "integer of %zu bytes does not fit in 256 bits", n);
        skip++;
    }
    cw_u256 r = {{0, 0, 0, 0}};
    for (size_t i = skip; i < n; i++) {
        size_t bit = (n - 1 - i) * 8; /* position of this byte's lowest bit */
        r.w[bit / 64] |= (uint64_t)p[i] << (bit % 64);
    }
    *out = r;
    return CW_OK;
}

void cw_u256_to_be(const cw_u256 *a, uint8_t out[32])
{
    for (int i = 0; i < 32; i++) {
        unsigned bit = (unsigned)(31 - i) * 8;
        out[i] = (uint8_t)(a->w[bit / 64] >> (bit % 64));
    }
}

bool cw_u256_add(cw_u256 *r, const cw_u256 *a, const cw_u256 *b)
{
    cw_u256 s;
    uint64_t carry = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t x = a->w[i] + b->w[i];
        uint64_t c1 = x < a->w[i];
        uint64_t y = x + carry;
        uint64_t c2 = y < x;
        s.w[i] = y;
        carry = c1 | c2;
    }
    if (carry)
        return false;
    *r = s;
    return true;
}

bool cw_u256_sub(cw_u256 *r, const cw_u256 *a, const cw_u256 *b)
{
    if (cw_u256_cmp(a, b) < 0)
        return false;
    cw_u256 d;
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t x = a->w[i] - b->w[i];
        uint64_t b1 = a->w[i] < b->w[i];
        uint64_t y = x - borrow;
        uint64_t b2 = x < borrow;
        d.w[i] = y;
        borrow = b1 | b2;
    }
    *r = d;
    return true;
}

/* 512-bit helpers for mul_div: 8 limbs, least significant first. */
static void mul_256(const cw_u256 *a, const cw_u256 *b, uint64_t p[8])
{
    memset(p, 0, 8 * sizeof p[0]);
    for (int i = 0; i < 4; i++) {
        unsigned __int128 carry = 0;
        for (int j = 0; j < 4; j++) {
            unsigned __int128 t = (unsigned __int128)a->w[i] * b->w[j] + p[i + j] + carry;
            p[i + j] = (uint64_t)t;
            carry = t >> 64;
        }
        p[i + 4] = (uint64_t)carry;
    }
}

bool cw_u256_mul_div(cw_u256 *r, const cw_u256 *a, const cw_u256 *num, const cw_u256 *den)
{
    if (cw_u256_is_zero(den))
        return false;
    uint64_t p[8];
    mul_256(a, num, p);
    /* Long division, one bit at a time: rem stays < den, so it fits in 257
     * bits; the top bit is carried in `over`. Not on the hot path. */
    cw_u256 rem = {{0, 0, 0, 0}};
    uint64_t q[8] = {0};
    for (int bit = 511; bit >= 0; bit--) {
        uint64_t over = rem.w[3] >> 63;
        for (int i = 3; i > 0; i--)
            rem.w[i] = (rem.w[i] << 1) | (rem.w[i - 1] >> 63);
        rem.w[0] = (rem.w[0] << 1) | ((p[bit / 64] >> (bit % 64)) & 1);
        if (over || cw_u256_cmp(&rem, den) >= 0) {
            /* rem - den, with the 257th bit: wrapping subtraction is exact
             * because the true difference is below den. */
            uint64_t borrow = 0;
            for (int i = 0; i < 4; i++) {
                uint64_t x = rem.w[i] - den->w[i];
                uint64_t b1 = rem.w[i] < den->w[i];
                uint64_t y = x - borrow;
                uint64_t b2 = x < borrow;
                rem.w[i] = y;
                borrow = b1 | b2;
            }
            q[bit / 64] |= (uint64_t)1 << (bit % 64);
        }
    }
    if (q[4] | q[5] | q[6] | q[7])
        return false;
    memcpy(r->w, q, sizeof r->w);
    return true;
}

/* Divides a by 10^19 in place, returning the remainder. */
static uint64_t divmod_1e19(cw_u256 *a)
{
    const uint64_t d = 10000000000000000000ull;
    unsigned __int128 rem = 0;
    for (int i = 3; i >= 0; i--) {
        unsigned __int128 cur = (rem << 64) | a->w[i];
        a->w[i] = (uint64_t)(cur / d);
        rem = cur % d;
    }
    return (uint64_t)rem;
}

size_t cw_u256_to_dec(const cw_u256 *a, char out[CW_U256_DEC_MAX])
{
    char tmp[CW_U256_DEC_MAX + 19];
    size_t n = 0;
    cw_u256 v = *a;
    do {
        uint64_t chunk = divmod_1e19(&v);
        bool last = cw_u256_is_zero(&v);
        for (int k = 0; k < 19; k++) {
            tmp[n++] = (char)('0' + chunk % 10);
            chunk /= 10;
            if (last && chunk == 0)
                break;
        }
    } while (!cw_u256_is_zero(&v));
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

/* r = r * m + add, false on overflow. */
static bool mul_small_add(cw_u256 *r, uint64_t m, uint64_t add)
{
    unsigned __int128 carry = add;
    cw_u256 t;
    for (int i = 0; i < 4; i++) {
        unsigned __int128 x = (unsigned __int128)r->w[i] * m + carry;
        t.w[i] = (uint64_t)x;
        carry = x >> 64;
    }
    if (carry)
        return false;
    *r = t;
    return true;
}

cw_code cw_u256_from_dec(const char *s, size_t len, cw_u256 *out, cw_err *err)
{
    if (len == 0)
        return cw_err_set(err, CW_EFORMAT, 0, "empty decimal number");
    if (len > 1 && s[0] == '0')
        return cw_err_set(err, CW_EFORMAT, 0, "decimal number with a leading zero");
    cw_u256 r = {{0, 0, 0, 0}};
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return cw_err_set(err, CW_EFORMAT, i, "'%c' at offset %zu is not a decimal digit",
                              (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?', i);
        if (!mul_small_add(&r, 10, (uint64_t)(s[i] - '0')))
            return cw_err_set(err, CW_ELIMIT, i, "decimal number does not fit in 256 bits");
    }
    *out = r;
    return CW_OK;
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

cw_code cw_u256_from_quantity(const char *s, size_t len, cw_u256 *out, cw_err *err)
{
    if (len < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return cw_err_set(err, CW_EFORMAT, 0, "quantity is not 0x followed by hex digits");
    if (len - 2 > 64)
        return cw_err_set(err, CW_ELIMIT, 2, "quantity of %zu hex digits does not fit in 256 bits", len - 2);
    if (len > 3 && s[2] == '0')
        return cw_err_set(err, CW_EFORMAT, 2, "quantity with a leading zero");
    cw_u256 r = {{0, 0, 0, 0}};
    for (size_t i = 2; i < len; i++) {
        int v = hex_val(s[i]);
        if (v < 0)
            return cw_err_set(err, CW_EFORMAT, i, "'%c' at offset %zu is not a hex digit",
                              (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?', i);
        size_t bit = (len - 1 - i) * 4;
        r.w[bit / 64] |= (uint64_t)v << (bit % 64);
    }
    *out = r;
    return CW_OK;
}

size_t cw_u256_to_units(const cw_u256 *a, unsigned decimals, char *out, size_t cap)
{
    char dec[CW_U256_DEC_MAX];
    size_t n = cw_u256_to_dec(a, dec);
    char buf[CW_U256_DEC_MAX + 80];
    size_t len = 0;
    if (decimals > 77)
        return 0;
    if (n <= decimals) {
        buf[len++] = '0';
        buf[len++] = '.';
        for (size_t i = n; i < decimals; i++)
            buf[len++] = '0';
        memcpy(buf + len, dec, n);
        len += n;
    } else {
        memcpy(buf, dec, n - decimals);
        len = n - decimals;
        buf[len++] = '.';
        memcpy(buf + len, dec + n - decimals, decimals);
        len += decimals;
    }
    while (buf[len - 1] == '0' && memchr(buf, '.', len))
        len--;
    if (buf[len - 1] == '.')
        len--;
    if (len + 1 > cap)
        return 0;
    memcpy(out, buf, len);
    out[len] = '\0';
    return len;
}
