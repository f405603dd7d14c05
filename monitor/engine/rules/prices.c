#include "prices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "chains/be.h"

typedef struct {
    char asset[16];
    int64_t day;
    uint64_t micro; /* micro-dollars per whole unit */
} price_row;

struct prices {
    price_row *rows; /* sorted by asset (case-folded), then day */
    size_t n;
};

static int row_cmp(const void *a, const void *b)
{
    const price_row *x = a, *y = b;
    int c = strcasecmp(x->asset, y->asset);
    if (c)
        return c;
    return x->day < y->day ? -1 : x->day > y->day;
}

bool prices_day(const char *s, size_t n, int64_t *day)
{
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return false;
    int v[3] = {0, 0, 0}, at[3] = {0, 5, 8}, len[3] = {4, 2, 2};
    for (int f = 0; f < 3; f++)
        for (int i = 0; i < len[f]; i++) {
            char c = s[at[f] + i];
            if (c < '0' || c > '9')
                return false;
            v[f] = v[f] * 10 + (c - '0');
        }
    int y = v[0], m = v[1], d = v[2];
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap))
        return false;
    /* days from civil (Howard Hinnant's algorithm) */
    y -= m <= 2;
    int64_t era = y / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *day = era * 146097 + doe - 719468;
    return true;
}

static bool parse_usd(const char *s, size_t n, uint64_t *micro)
{
    uint64_t whole = 0, frac = 0;
    size_t i = 0, digits = 0, fd = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        if (whole > (UINT64_MAX / 1000000 - 9) / 10)
            return false;
        whole = whole * 10 + (uint64_t)(s[i] - '0');
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, fd++) {
            if (fd == 6)
                return false;
            frac = frac * 10 + (uint64_t)(s[i] - '0');
        }
        if (fd == 0)
            return false;
    }
    if (i != n || digits == 0)
        return false;
    for (size_t k = fd; k < 6; k++)
        frac *= 10;
    *micro = whole * 1000000 + frac;
    return *micro > 0;
}

static cw_code bad(cw_err *err, const char *name, size_t line, const char *what)
{
    return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s line %zu: %s", name, line, what);
}

cw_code prices_parse(const char *text, size_t len, const char *name, prices **out, cw_err *err)
{
    *out = NULL;
    prices *p = calloc(1, sizeof *p);
    size_t cap = 0, line = 0;
    if (p == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", name);
    size_t at = 0;
    bool header = false;
    cw_code rc = CW_OK;
    while (at < len && rc == CW_OK) {
        const char *s = text + at;
        const char *nl = memchr(s, '\n', len - at);
        size_t n = nl ? (size_t)(nl - s) : len - at;
        at += n + (nl != NULL);
        line++;
        if (n && s[n - 1] == '\r')
            n--;
        if (memchr(s, '\0', n)) {
            rc = bad(err, name, line, "a NUL byte (is this a text file?)");
            break;
        }
        if (n == 0)
            continue;
        if (!header) {
            size_t skip = n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
            if (n - skip != 14 || strncasecmp(s + skip, "date,asset,usd", 14) != 0)
                rc = bad(err, name, line, "the header must be date,asset,usd");
            header = true;
            continue;
        }
        const char *c1 = memchr(s, ',', n);
        const char *c2 = c1 ? memchr(c1 + 1, ',', n - (size_t)(c1 + 1 - s)) : NULL;
        if (c1 == NULL || c2 == NULL || memchr(c2 + 1, ',', n - (size_t)(c2 + 1 - s))) {
            rc = bad(err, name, line, "3 fields expected (date,asset,usd)");
            break;
        }
        price_row r;
        memset(&r, 0, sizeof r);
        size_t an = (size_t)(c2 - c1 - 1);
        if (!prices_day(s, (size_t)(c1 - s), &r.day)) {
            rc = bad(err, name, line, "the date is not YYYY-MM-DD");
            break;
        }
        bool asset_ok = an >= 1 && an < sizeof r.asset;
        for (size_t i = 0; asset_ok && i < an; i++) {
            char ch = c1[1 + i];
            asset_ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                       ch == '_' || ch == '-';
        }
        if (!asset_ok) {
            rc = bad(err, name, line, "the asset is not a ticker of 1-15 letters, digits, '.', '_' or '-'");
            break;
        }
        memcpy(r.asset, c1 + 1, an);
        if (!parse_usd(c2 + 1, n - (size_t)(c2 + 1 - s), &r.micro)) {
            rc = bad(err, name, line, "the usd price is not a positive decimal with at most 6 decimals");
            break;
        }
        if (p->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            price_row *g = realloc(p->rows, nc * sizeof *g);
            if (g == NULL) {
                rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory at line %zu", name, line);
                break;
            }
            p->rows = g, cap = nc;
        }
        p->rows[p->n++] = r;
    }
    if (rc == CW_OK && !header)
        rc = bad(err, name, line ? line : 1, "empty: the header date,asset,usd is missing");
    if (rc == CW_OK && p->n)
        qsort(p->rows, p->n, sizeof *p->rows, row_cmp);
    for (size_t i = 1; rc == CW_OK && i < p->n; i++)
        if (row_cmp(&p->rows[i - 1], &p->rows[i]) == 0)
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: %s has two prices for one day", name, p->rows[i].asset);
    if (rc) {
        prices_free(p);
        return rc;
    }
    *out = p;
    return CW_OK;
}

cw_code prices_load(const char *path, prices **out, cw_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot read %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    cw_code rc = CW_OK;
    for (;;) {
        if (cap - n < 65536) {
            char *g = realloc(buf, cap + 65536 + cap / 2);
            if (g == NULL) {
                rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", path);
                break;
            }
            buf = g, cap += 65536 + cap / 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot read %s: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (rc == CW_OK)
        rc = prices_parse(buf ? buf : "", n, path, out, err);
    free(buf);
    return rc;
}

void prices_free(prices *p)
{
    if (p == NULL)
        return;
    free(p->rows);
    free(p);
}

size_t prices_count(const prices *p) { return p ? p->n : 0; }

void prices_digest(const prices *p, unsigned char out[32])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    for (size_t i = 0; p && i < p->n; i++) {
        unsigned char row[sizeof p->rows[i].asset + 16] = {0};
        memcpy(row, p->rows[i].asset, strnlen(p->rows[i].asset, sizeof p->rows[i].asset));
        cw_put_be(row + sizeof p->rows[i].asset, (uint64_t)p->rows[i].day, 8);
        cw_put_be(row + sizeof p->rows[i].asset + 8, p->rows[i].micro, 8);
        crypto_generichash_update(&h, row, sizeof row);
    }
    crypto_generichash_final(&h, out, 32);
}

static bool stablecoin(const char *asset)
{
    static const char *const usd[] = {"USDC", "USDT", "DAI", "BUSD", "TUSD", "USDP", "PYUSD", "FDUSD"};
    for (size_t i = 0; i < sizeof usd / sizeof *usd; i++)
        if (strcasecmp(asset, usd[i]) == 0)
            return true;
    return false;
}

/* The micro-dollar price of a whole unit of asset on when's UTC day (or
 * the latest earlier day), or a stablecoin's 1 USD; false when none. */
static bool price_micro(const prices *p, const char *asset, int64_t when, uint64_t *micro)
{
    int64_t day = when >= 0 ? when / 86400 : (when - 86399) / 86400;
    if (p && p->n) {
        /* the last row of asset with row.day <= day */
        size_t lo = 0, hi = p->n;
        price_row key;
        memset(&key, 0, sizeof key);
        snprintf(key.asset, sizeof key.asset, "%s", asset);
        key.day = day;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (row_cmp(&p->rows[mid], &key) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo > 0 && strcasecmp(p->rows[lo - 1].asset, asset) == 0) {
            *micro = p->rows[lo - 1].micro;
            return true;
        }
    }
    if (stablecoin(asset)) {
        *micro = 1000000;
        return true;
    }
    return false;
}

bool prices_cents(const prices *p, const char *asset, unsigned decimals, uint64_t amount, int64_t when,
                  uint64_t *cents)
{
    uint64_t micro = 0;
    if (decimals > 30 || !price_micro(p, asset, when, &micro))
        return false;
    /* cents = amount * micro / 10^decimals / 10^4, in 128 bits */
    unsigned __int128 v = (unsigned __int128)amount * micro;
    for (unsigned i = 0; i < decimals + 4; i++)
        v /= 10;
    *cents = v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
    return true;
}

bool prices_cents_u256(const prices *p, const char *asset, unsigned decimals, const cw_u256 *amount, int64_t when,
                       uint64_t *cents)
{
    uint64_t small;
    if (decimals <= 30 && cw_u256_to_u64(amount, &small))
        return prices_cents(p, asset, decimals, small, when, cents); /* the common case, in 128 bits */
    uint64_t micro = 0;
    if (decimals > PRICES_DECIMALS_MAX || !price_micro(p, asset, when, &micro))
        return false;
    /* floor(amount * micro / 10^(decimals + 4)) over 512 bits: exact */
    static const cw_u256 ten = {{10, 0, 0, 0}}, one = {{1, 0, 0, 0}};
    cw_u256 num, den = one, r;
    cw_u256_set_u64(&num, micro);
    for (unsigned i = 0; i < decimals + 4; i++) { /* 10^76 < 2^256 */
        cw_u256 next;
        cw_u256_mul_div(&next, &den, &ten, &one);
        den = next;
    }
    uint64_t v;
    if (!cw_u256_mul_div(&r, amount, &num, &den))
        v = UINT64_MAX; /* cannot overflow with den >= 10^4 and micro < 2^64, but never wrap */
    else if (!cw_u256_to_u64(&r, &v))
        v = UINT64_MAX;
    *cents = v;
    return true;
}
