/*
 * num.c: the one reading of numbers the CLI takes, from flags and from
 * chainwatch.conf alike (cli.h has the forms). atoi and strtoull read "1G"
 * as 1 and "abc" as 0; a monitor configured that way runs, silently wrong,
 * so every form here is read whole or refused.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Messages quote the value; a long one is cut so the line stays one line. */
#define QUOTE_MAX 64

static cw_code refuse(cw_err *err, const char *v, const char *why)
{
    char q[QUOTE_MAX + 8];
    cli_quote(v, q, sizeof q);
    return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "'%s%s' %s", q, strlen(q) < strlen(v) ? "..." : "", why);
}

/* Leading digits of *p as an unsigned value; false on overflow or none. */
static bool digits(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t x = 0;
    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (x > (UINT64_MAX - d) / 10)
            return false;
        x = x * 10 + d;
    }
    *p = s;
    *out = x;
    return true;
}

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static cw_code out_of_range(cw_err *err, const char *v, int64_t min, int64_t max)
{
    char why[96];
    if (max == INT64_MAX)
        snprintf(why, sizeof why, "is out of range (%lld or more)", (long long)min);
    else
        snprintf(why, sizeof why, "is out of range (%lld to %lld)", (long long)min, (long long)max);
    return refuse(err, v, why);
}

cw_code cli_parse_int(const char *v, int64_t min, int64_t max, int64_t *out, cw_err *err)
{
    const char *p = v;
    bool neg = *p == '-';
    if (neg && min < 0)
        p++;
    uint64_t mag;
    const char *start = p;
    if (!digits(&p, &mag) || *p) {
        if (*start == '+' || (*start == '-' && min >= 0)) {
            char why[80];
            snprintf(why, sizeof why, "is not a whole number of %lld or more (no sign)", (long long)(min > 0 ? min : 0));
            return refuse(err, v, min >= 0 ? why : "is not a whole number");
        }
        /* all digits yet unread: more than 64 bits */
        if (all_digits(start))
            return out_of_range(err, v, min, max);
        return refuse(err, v, "is not a whole number");
    }
    if ((!neg && mag > (uint64_t)INT64_MAX) || (neg && mag > (uint64_t)INT64_MAX + 1))
        return out_of_range(err, v, min, max);
    int64_t x = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    if (x < min || x > max)
        return out_of_range(err, v, min, max);
    *out = x;
    return CW_OK;
}

/* Multiplier of a size or duration suffix, 0 when unknown. */
static uint64_t suffix_scale(const char *s, bool size)
{
    if (size) {
        static const char letters[] = "kmgt";
        char c = (char)(*s | 0x20);
        const char *at = *s ? strchr(letters, c) : NULL;
        if (at == NULL)
            return 0;
        if (s[1] != '\0' && strcmp(s + 1, "iB") != 0)
            return 0;
        return (uint64_t)1 << (10 * (at - letters + 1));
    }
    if (s[0] == '\0' || s[1] != '\0')
        return 0;
    switch (*s) {
    case 's': return 1;
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    default: return 0;
    }
}

static cw_code scaled(const char *v, uint64_t min, uint64_t max, bool size, uint64_t *out, cw_err *err)
{
    const char *p = v;
    uint64_t x = 0, scale = 1;
    if (*p == '-' || *p == '+')
        return refuse(err, v, size ? "is not a size (no sign)" : "is not a duration (no sign)");
    bool read = digits(&p, &x);
    if (!read && !all_digits(v))
        return refuse(err, v, size ? "is not a size (bytes, or a number with k, M, G or T)"
                                   : "is not a duration (seconds, or a number with s, m, h or d)");
    if (read && *p == '.')
        return refuse(err, v, size ? "is not a whole number of bytes (write 1536M, not 1.5G)"
                                   : "is not a whole number of seconds");
    if (read && *p && (scale = suffix_scale(p, size)) == 0)
        return refuse(err, v, size ? "has an unknown suffix (k, M, G or T: powers of 1024)"
                                   : "has an unknown suffix (s, m, h or d)");
    /* !read here: all digits, past 64 bits */
    if (!read || x > UINT64_MAX / scale || x * scale < min || x * scale > max) {
        char why[128];
        snprintf(why, sizeof why, "is out of range (%llu to %llu %s)", (unsigned long long)min,
                 (unsigned long long)max, size ? "bytes" : "seconds");
        return refuse(err, v, why);
    }
    *out = x * scale;
    return CW_OK;
}

cw_code cli_parse_size(const char *v, uint64_t min, uint64_t max, uint64_t *out, cw_err *err)
{
    return scaled(v, min, max, true, out, err);
}

cw_code cli_parse_seconds(const char *v, uint64_t min, uint64_t max, uint64_t *out, cw_err *err)
{
    return scaled(v, min, max, false, out, err);
}

/* Digits, an optional point and up to `places` fractional digits (more
 * only when they are zeros), as an integer scaled by 10^places. */
static bool fixed_point(const char *v, int places, const char **end, uint64_t *out)
{
    const char *p = v;
    uint64_t whole;
    if (!digits(&p, &whole))
        return false;
    uint64_t frac = 0;
    int n = 0;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false; /* "1." */
        for (; *p >= '0' && *p <= '9'; p++, n++) {
            if (n < places)
                frac = frac * 10 + (uint64_t)(*p - '0');
            else if (*p != '0')
                return false; /* finer than the unit */
        }
    }
    for (; n < places; n++)
        frac *= 10;
    uint64_t unit = 1;
    for (int i = 0; i < places; i++)
        unit *= 10;
    if (whole > (UINT64_MAX - frac) / unit)
        return false;
    *out = whole * unit + frac;
    *end = p;
    return true;
}

cw_code cli_parse_share(const char *v, uint32_t *ppm, cw_err *err)
{
    const char *end;
    uint64_t x;
    /* a percentage has 4 places to reach a millionth, a fraction 6 */
    bool percent = v[0] != '\0' && v[strlen(v) - 1] == '%';
    if (!fixed_point(v, percent ? 4 : 6, &end, &x) || *end != (percent ? '%' : '\0') || (percent && end[1]))
        return refuse(err, v, "is not a share (a percentage like 1% or 0.5%, or a fraction like 0.01, to a millionth)");
    /* "1" read as a fraction is 100%: whoever wrote it most likely meant 1%,
     * and a threshold silently 100 times too high hides every exposure */
    if (!percent && x >= 1000000)
        return refuse(err, v, "is ambiguous: a bare number is a fraction (0.01 is 1%); write 1% for one percent, 100% "
                              "for all");
    if (x > 1000000)
        return refuse(err, v, "is above 100%");
    *ppm = (uint32_t)x;
    return CW_OK;
}

cw_code cli_parse_percent(const char *v, uint32_t *ppm, cw_err *err)
{
    const char *end;
    uint64_t x;
    if (!fixed_point(v, 4, &end, &x) || (*end && strcmp(end, "%") != 0))
        return refuse(err, v, "is not a percentage (like 10, 10% or 0.5, to a ten-thousandth)");
    if (x > 1000000)
        return refuse(err, v, "is above 100");
    *ppm = (uint32_t)x;
    return CW_OK;
}

cw_code cli_parse_btc(const char *v, uint64_t *sats, cw_err *err)
{
    const char *end;
    uint64_t x;
    if (!fixed_point(v, 8, &end, &x) || *end)
        return refuse(err, v, "is not an amount in BTC (like 0.0001, to a satoshi, no sign)");
    if (x > (uint64_t)21000000 * 100000000)
        return refuse(err, v, "is above 21,000,000 BTC");
    *sats = x;
    return CW_OK;
}
