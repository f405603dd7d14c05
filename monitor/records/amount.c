/* amount.c: a record's amount in its asset, as text (amount.h). */
#include "amount.h"

#include <stdio.h>
#include <string.h>

size_t amount_units(const char *digits, unsigned decimals, char *out, size_t cap)
{
    size_t n = digits ? strlen(digits) : 0;
    if (n == 0 || n > 78 || strspn(digits, "0123456789") != n || decimals > 77)
        return 0;
    size_t d = decimals, len = n > d ? n + (d ? 1 : 0) : d + 2;
    if (len + 1 > cap)
        return 0;
    size_t o = 0;
    if (n <= d) { /* 0.000ddd */
        out[o++] = '0';
        out[o++] = '.';
        memset(out + o, '0', d - n);
        o += d - n;
        memcpy(out + o, digits, n);
        o += n;
    } else {
        memcpy(out, digits, n - d);
        o = n - d;
        if (d) {
            out[o++] = '.';
            memcpy(out + o, digits + n - d, d);
            o += d;
        }
    }
    out[o] = '\0';
    return o;
}

int amount_asset_decimals(const json_t *asset)
{
    if (json_is_string(asset))
        return strcmp(json_string_value(asset), "BTC") == 0 ? 8 : -1;
    const json_t *d = json_object_get(asset, "decimals");
    if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > 77)
        return -1;
    return (int)json_integer_value(d);
}

const char *amount_asset_name(const json_t *asset, char *buf, size_t cap)
{
    if (json_is_string(asset))
        return json_string_value(asset);
    const char *s = json_string_value(json_object_get(asset, "symbol"));
    if (s == NULL || *s == '\0')
        s = json_string_value(json_object_get(asset, "contract"));
    if (s && *s)
        return s;
    const json_t *id = json_object_get(asset, "id");
    if (json_is_integer(id) && cap > 0) {
        snprintf(buf, cap, "TRC-10 token %lld", (long long)json_integer_value(id));
        return buf;
    }
    return "(unknown asset)";
}

/* The record's base units as digits, or false. */
static bool base_digits(const json_t *rec, char *out, size_t cap)
{
    const json_t *amt = json_object_get(rec, "amount");
    if (json_is_integer(amt) && json_integer_value(amt) >= 0) {
        snprintf(out, cap, "%lld", (long long)json_integer_value(amt));
        return true;
    }
    size_t n = json_string_length(amt);
    if (!json_is_string(amt) || n == 0 || n > 78 || n >= cap ||
        strspn(json_string_value(amt), "0123456789") != n)
        return false;
    memcpy(out, json_string_value(amt), n + 1);
    return true;
}

static bool known(const json_t *rec)
{
    const json_t *k = json_object_get(rec, "amount_known");
    return k == NULL || json_is_true(k);
}

bool amount_of_record(const json_t *rec, char *out, size_t cap)
{
    char digits[96];
    int dec = amount_asset_decimals(json_object_get(rec, "asset"));
    return known(rec) && dec >= 0 && base_digits(rec, digits, sizeof digits) &&
           amount_units(digits, (unsigned)dec, out, cap) > 0;
}

size_t amount_text(const json_t *rec, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    char units[AMOUNT_TEXT_MAX], digits[96], tb[64];
    const char *name = amount_asset_name(json_object_get(rec, "asset"), tb, sizeof tb);
    int n;
    if (amount_of_record(rec, units, sizeof units))
        n = snprintf(out, cap, "%s %s", units, name);
    else if (known(rec) && base_digits(rec, digits, sizeof digits))
        n = snprintf(out, cap, "%s base units of %s", digits, name);
    else
        n = snprintf(out, cap, "an unknown amount of %s", name);
    const json_t *usd = json_object_get(rec, "amount_usd_cents");
    if (n >= 0 && (size_t)n < cap && json_is_integer(usd) && json_integer_value(usd) >= 0) {
        long long c = (long long)json_integer_value(usd);
        n += snprintf(out + n, cap - (size_t)n, " (USD %lld.%02lld)", c / 100, c % 100);
    }
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}
