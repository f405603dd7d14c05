/* libFuzzer target: the --prices CSV parser (monitor/engine/rules/prices.c).
 * Any input is parsed or refused with a message naming the file and what
 * is wrong; an accepted table answers lookups for every row's asset, and a
 * price never converts an amount to more than amount * price allows. */
#include <stdlib.h>
#include <string.h>

#include "monitor/engine/rules/prices.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    prices *p = NULL;
    cw_err err = {0};
    cw_code rc = prices_parse((const char *)data, size, "fuzz.csv", &p, &err);
    if (rc != CW_OK) {
        if (p != NULL || err.msg[0] == '\0' || (rc != CW_EFORMAT && rc != CW_ENOMEM) || strncmp(err.msg, "fuzz.csv", 8))
            abort();
        return 0;
    }
    if (p == NULL)
        abort();
    uint64_t c;
    /* one satoshi is worth less than a cent below USD 1,000,000 a coin, and
     * nothing converts without a row but the stablecoins */
    for (int64_t day = 0; day < 3; day++) {
        if (prices_cents(p, "BTC", 8, 1, day * 86400, &c) && c > 1000000)
            abort();
        prices_cents(p, "USDC", 6, UINT64_MAX, day * 86400, &c);
    }
    prices_free(p);
    return 0;
}
