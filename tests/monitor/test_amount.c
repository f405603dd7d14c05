/* A record's amount in its asset (monitor/records/amount.h). Expected
 * strings computed independently with Python's decimal module:
 * format(Decimal(base_units).scaleb(-decimals), 'f'). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "monitor/records/amount.h"

/* 77 digits: the first 77 of str(2**255 + 12345) */
#define D77 "57896044618658097711785492504343953926634992332820282019728792003956564832313"
#define USDT "0xdac17f958d2ee523a2206206994597c13d831ec7"

static const char *text_of(json_t *rec)
{
    static char out[AMOUNT_TEXT_MAX];
    cr_assert_not_null(rec);
    size_t n = amount_text(rec, out, sizeof out);
    cr_assert_eq(n, strlen(out));
    json_decref(rec);
    return out;
}

static json_t *eth(const char *amount)
{
    return json_pack("{s:s, s:{s:s, s:s, s:n, s:i}, s:b}", "amount", amount, "asset", "kind", "native", "symbol",
                     "ETH", "contract", "decimals", 18, "amount_known", 1);
}

Test(amount, units_are_exact_digit_for_digit)
{
    char out[AMOUNT_TEXT_MAX];
    cr_assert_eq(amount_units("0", 18, out, sizeof out), 20);
    cr_assert_str_eq(out, "0.000000000000000000");
    amount_units("1", 18, out, sizeof out);
    cr_assert_str_eq(out, "0.000000000000000001");
    amount_units("1000000000000000000", 18, out, sizeof out);
    cr_assert_str_eq(out, "1.000000000000000000");
    amount_units("30000000", 8, out, sizeof out);
    cr_assert_str_eq(out, "0.30000000");
    amount_units("15", 0, out, sizeof out);
    cr_assert_str_eq(out, "15");
    cr_assert_eq(amount_units(D77, 18, out, sizeof out), 78);
    cr_assert_str_eq(out, "57896044618658097711785492504343953926634992332820282019728.792003956564832313");
    /* 2^256 - 1 (78 digits) with 77 decimals */
    amount_units("115792089237316195423570985008687907853269984665640564039457584007913129639935", 77, out,
                 sizeof out);
    cr_assert_str_eq(out, "1.15792089237316195423570985008687907853269984665640564039457584007913129639935");
}

Test(amount, units_refuse_what_is_not_a_number_or_does_not_fit)
{
    char out[AMOUNT_TEXT_MAX], small[5];
    cr_assert_eq(amount_units("", 2, out, sizeof out), 0);
    cr_assert_eq(amount_units("-1", 2, out, sizeof out), 0);
    cr_assert_eq(amount_units("1.5", 2, out, sizeof out), 0);
    cr_assert_eq(amount_units("1e3", 2, out, sizeof out), 0);
    cr_assert_eq(amount_units(NULL, 2, out, sizeof out), 0);
    cr_assert_eq(amount_units("1", 78, out, sizeof out), 0);
    cr_assert_eq(amount_units("1" D77 "0", 0, out, sizeof out), 0, "79 digits is more than 256 bits");
    cr_assert_eq(amount_units("12345", 2, small, sizeof small), 0, "123.45 needs 7 bytes");
    cr_assert_eq(amount_units("1234", 0, small, sizeof small), 4);
}

Test(amount, a_record_is_written_in_its_asset)
{
    cr_assert_str_eq(text_of(eth("0")), "0.000000000000000000 ETH");
    cr_assert_str_eq(text_of(eth("1")), "0.000000000000000001 ETH");
    cr_assert_str_eq(text_of(eth("1500000000000000000")), "1.500000000000000000 ETH");
    cr_assert_str_eq(text_of(eth(D77)), "57896044618658097711785492504343953926634992332820282019728.792003956564832313 ETH");
    /* Bitcoin: integer satoshis */
    cr_assert_str_eq(text_of(json_pack("{s:i, s:s}", "amount", 30000000, "asset", "BTC")), "0.30000000 BTC");
    /* a token with its metadata */
    cr_assert_str_eq(text_of(json_pack("{s:s, s:{s:s, s:s, s:s, s:i}}", "amount", "123456789012345678", "asset", "kind",
                                       "token", "symbol", "USDT", "contract", USDT, "decimals", 6)),
                     "123456789012.345678 USDT");
    /* symbol null: the contract names it */
    cr_assert_str_eq(text_of(json_pack("{s:s, s:{s:s, s:n, s:s, s:i}}", "amount", "2500", "asset", "kind", "token",
                                       "symbol", "contract", USDT, "decimals", 3)),
                     "2.500 " USDT);
    /* decimals unknown: base units, never a guessed point */
    cr_assert_str_eq(text_of(json_pack("{s:s, s:{s:s, s:n, s:s, s:n}}", "amount", "123", "asset", "kind", "token",
                                       "symbol", "contract", USDT, "decimals")),
                     "123 base units of " USDT);
    cr_assert_str_eq(text_of(json_pack("{s:s, s:{s:s, s:I, s:n, s:n, s:n}}", "amount", "5", "asset", "kind", "trc10",
                                       "id", (json_int_t)1002000, "symbol", "contract", "decimals")),
                     "5 base units of TRC-10 token 1002000");
    /* not known, or not a number: said, never 0 */
    cr_assert_str_eq(text_of(json_pack("{s:i, s:s, s:b}", "amount", 0, "asset", "BTC", "amount_known", 0)),
                     "an unknown amount of BTC");
    cr_assert_str_eq(text_of(json_pack("{s:s, s:s}", "amount", "1.5", "asset", "BTC")), "an unknown amount of BTC");
    cr_assert_str_eq(text_of(json_pack("{s:i}", "amount", 7)), "7 base units of (unknown asset)");
    /* USD cents when the record has them */
    cr_assert_str_eq(text_of(json_pack("{s:i, s:s, s:i}", "amount", 30000000, "asset", "BTC", "amount_usd_cents", 2850005)),
                     "0.30000000 BTC (USD 28500.05)");
    cr_assert_str_eq(text_of(json_pack("{s:i, s:s, s:i}", "amount", 1, "asset", "BTC", "amount_usd_cents", 7)),
                     "0.00000001 BTC (USD 0.07)");
}

Test(amount, the_text_is_cut_never_overrun)
{
    json_t *r = eth(D77);
    char small[10];
    size_t n = amount_text(r, small, sizeof small);
    cr_assert_eq(n, 9);
    cr_assert_str_eq(small, "578960446");
    json_decref(r);
}
