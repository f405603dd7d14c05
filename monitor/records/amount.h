/*
 * amount.h: a record's amount in its asset, as text for people (the
 * blocking report, the trace graph; the review console's console.js
 * formats alike, in JavaScript).
 *
 * Records carry amounts in base units: Bitcoin records an integer of
 * satoshis with "asset":"BTC"; account chains a decimal string (256-bit:
 * up to 78 digits) with "asset":{"kind","symbol","contract","decimals"}
 * (symbol and decimals null for a token chainwatch has no metadata for;
 * a TRC-10 asset has "id" instead of a contract). The text is exact: the
 * digits are moved across the point, never through floating point, and
 * every decimal is kept (1 wei is "0.000000000000000001 ETH", 0.3 BTC is
 * "0.30000000 BTC"), so it matches the base units digit for digit.
 */
#ifndef CW_RECORDS_AMOUNT_H
#define CW_RECORDS_AMOUNT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Room for any text of amount_text (78 digits, a point, a 42-byte
 * contract, the USD part). */
#define AMOUNT_TEXT_MAX 256

/* Base units digits (1..78 decimal digits, nothing else) shifted by
 * decimals (0..77): "0" with 2 is "0.00", "1" with 18 is
 * "0.000000000000000001", "15" with 0 is "15". Writes a NUL; returns the
 * length, or 0 when digits or decimals are out of that range or cap is too
 * small (AMOUNT_TEXT_MAX always suffices). */
size_t amount_units(const char *digits, unsigned decimals, char *out, size_t cap);

/* The decimals of a record's "asset": 8 for "BTC", an object's integer
 * "decimals" (0..77); -1 when not known. */
int amount_asset_decimals(const json_t *asset);

/* How a reader names the asset: "BTC", the symbol, else the token's
 * contract, else "TRC-10 token <id>", else "(unknown asset)". buf (at
 * least 64 bytes) holds the TRC-10 text; the result points into asset,
 * buf or a constant. */
const char *amount_asset_name(const json_t *asset, char *buf, size_t cap);

/* The record's amount in its asset's units (amount_units of "amount"
 * with the asset's decimals) into out: false when the record says the
 * amount is not known ("amount_known":false), the amount is not a
 * non-negative integer or a digit string, or the decimals are not known:
 * a report must not invent a number. */
bool amount_of_record(const json_t *rec, char *out, size_t cap);

/* The whole text of rec's amount: "<units> <asset name>" ("12.345678
 * USDT", "0.30000000 BTC"); when the decimals are not known "<base units>
 * base units of <asset name>"; when the amount is not known "an unknown
 * amount of <asset name>"; then " (USD 12.34)" when the record has an
 * integer "amount_usd_cents". Returns the length (always > 0 for cap >=
 * AMOUNT_TEXT_MAX). */
size_t amount_text(const json_t *rec, char *out, size_t cap);

#endif
