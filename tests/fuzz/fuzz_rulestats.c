/* libFuzzer target: the pattern rules' stored records as `watchlist check`
 * reads them (watchlists/rulestats.c rs_check_record): rule_addr (an
 * address's stats and counterparties), rule_trace (an outpoint's or an
 * account's trace, with or without its amount), rule_origin, rule_pair (a
 * payer past a full list, a pool's source past its list, and the
 * consolidator window's index: window, waiting and count entries). Input:
 * one byte picks the table, one the key's length, then the key and the
 * value. Damage is a message, never a crash or a read past the value. */
#include <stdlib.h>
#include <string.h>

#include "watchlists/rulestats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const store_db dbs[] = {STORE_RULE_ADDR, STORE_RULE_TRACE, STORE_RULE_ORIGIN, STORE_RULE_PAIR};
    if (size < 2)
        return 0;
    store_db db = dbs[data[0] % 4];
    size_t kn = data[1];
    if (kn > size - 2)
        kn = size - 2;
    /* copies of their own size: a read past either is the sanitizer's */
    uint8_t *k = malloc(kn ? kn : 1), *v = malloc(size - 2 - kn ? size - 2 - kn : 1);
    if (k == NULL || v == NULL)
        abort();
    memcpy(k, data + 2, kn);
    memcpy(v, data + 2 + kn, size - 2 - kn);
    const char *why = rs_check_record(db, (cw_span){k, kn}, (cw_span){v, size - 2 - kn});
    if (why && why[0] == '\0')
        abort(); /* damage is named */
    free(k);
    free(v);
    return 0;
}
