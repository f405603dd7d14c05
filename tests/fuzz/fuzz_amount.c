/* libFuzzer target: a record's amount in its asset (monitor/records/
 * amount.h). The input is a record's JSON (what a case, a report or the
 * trace graph reads back from the store). Nothing may crash or overrun;
 * the text always fits AMOUNT_TEXT_MAX; and the units are exact: the
 * digits of amount_units' output, the point removed and leading zeros
 * dropped, are the base units' digits with their leading zeros dropped. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/records/amount.h"

static const char *skip_zeros(const char *s)
{
    while (*s == '0' && s[1])
        s++;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *rec = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    char out[AMOUNT_TEXT_MAX], units[AMOUNT_TEXT_MAX];
    if (rec) {
        size_t n = amount_text(rec, out, sizeof out);
        if (n == 0 || n >= sizeof out || strlen(out) != n)
            abort();
        if (amount_of_record(rec, units, sizeof units) && strchr(units, ' '))
            abort();
        json_decref(rec);
    }
    /* the raw bytes as digits, with the first byte as the decimals */
    if (size > 1 && size < 90) {
        char digits[96];
        memcpy(digits, data + 1, size - 1);
        digits[size - 1] = '\0';
        size_t n = amount_units(digits, data[0] % 80, units, sizeof units);
        size_t len = strlen(digits); /* a NUL in the input ends the string */
        bool valid = len >= 1 && len <= 78 && strspn(digits, "0123456789") == len && data[0] % 80 <= 77;
        if ((n > 0) != valid)
            abort();
        if (n) {
            char flat[AMOUNT_TEXT_MAX];
            size_t k = 0;
            for (size_t i = 0; units[i]; i++)
                if (units[i] != '.')
                    flat[k++] = units[i];
            flat[k] = '\0';
            if (strcmp(skip_zeros(flat), skip_zeros(digits)) != 0)
                abort();
        }
    }
    return 0;
}
