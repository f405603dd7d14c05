/*
 * prices.h: daily USD prices of assets, for the pattern rules' amounts.
 *
 * File: CSV with the header `date,asset,usd` and one price a row:
 *   2024-03-01,BTC,61234.56
 * date is YYYY-MM-DD (UTC), asset a ticker of 1-15 characters [A-Za-z0-9._-]
 * (compared without case), usd a positive decimal with at most 6
 * fractional digits (no exponent, no sign, no thousands separator). CRLF
 * and blank lines are fine; a date given twice for one asset is refused.
 * Prices are kept as micro-dollars (integers): no float ever touches an
 * amount.
 *
 * Lookup: the price of the asset on the tx's UTC day, or else on the
 * latest earlier day the file gives (markets close; files have gaps),
 * never a later one. Stablecoins (USDC, USDT, DAI, BUSD, TUSD, USDP, PYUSD,
 * FDUSD) are 1 USD when the file has no row for them. No price: the rules
 * fall back to their native thresholds (rules.h).
 */
#ifndef CW_RULES_PRICES_H
#define CW_RULES_PRICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/err.h"
#include "chains/u256.h"

typedef struct prices prices;

/* Parses the CSV text (len bytes, need not end in a newline). On success
 * *out owns the table (prices_free). Refuses with CW_EFORMAT naming `name`
 * and the line: a missing or other header, a row without 3 fields, a bad
 * date, asset or price, a repeated (date, asset); CW_ENOMEM. */
cw_code prices_parse(const char *text, size_t len, const char *name, prices **out, cw_err *err);
/* Reads and parses the file at path (CW_EIO naming it when unreadable). */
cw_code prices_load(const char *path, prices **out, cw_err *err);
void prices_free(prices *p);
size_t prices_count(const prices *p);
/* A BLAKE2b-256 digest of the table's rows (asset, day, price), in their
 * sorted order: equal tables, equal digests (a capture's settings record
 * names the prices a recording ran with). p NULL: the empty table's. */
void prices_digest(const prices *p, unsigned char out[32]);

/* USD cents of `amount` base units of `asset` (decimals: 8 for BTC) on
 * the UTC day of unix time `when`: true and *cents set when a price is
 * known (p may be NULL: stablecoins only), false otherwise. Rounds down;
 * saturates at UINT64_MAX. */
bool prices_cents(const prices *p, const char *asset, unsigned decimals, uint64_t amount, int64_t when,
                  uint64_t *cents);

/* The same for an exact 256-bit amount (account chains: an 18-decimal
 * stablecoin's salary does not fit in 64 bits). Exact floor; saturates at
 * UINT64_MAX; false (no price) for decimals above PRICES_DECIMALS_MAX. */
#define PRICES_DECIMALS_MAX 72
bool prices_cents_u256(const prices *p, const char *asset, unsigned decimals, const cw_u256 *amount, int64_t when,
                       uint64_t *cents);

/* Days since 1970-01-01 of a YYYY-MM-DD date; false when it is not one. */
bool prices_day(const char *s, size_t n, int64_t *day);

#endif
