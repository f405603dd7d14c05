#include "ticker.h"

#include "chains/bitcoin/bech32.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

static const ticker_info table[] = {
    {"XBT", "bitcoin", TICKER_DECODE_BITCOIN, false},
    {"BTC", "bitcoin", TICKER_DECODE_BITCOIN, false},
    {"ETH", "evm", TICKER_DECODE_EVM, false},
    {"ETC", "evm", TICKER_DECODE_EVM, false},
    {"ARB", "evm", TICKER_DECODE_EVM, false},
    {"BSC", "evm", TICKER_DECODE_EVM, false},
    {"MATIC", "evm", TICKER_DECODE_EVM, false},
    {"POL", "evm", TICKER_DECODE_EVM, false},
    {"AVAX", "evm", TICKER_DECODE_EVM, false},
    {"USDT", "token", TICKER_DECODE_TOKEN, false},
    {"USDC", "token", TICKER_DECODE_TOKEN, false},
    {"BNB", "token", TICKER_DECODE_TOKEN, true}, /* 0x on BNB Smart Chain, bnb1 on the retired Beacon Chain */
    {"TRX", "tron", TICKER_DECODE_TRON, false},
    {"LTC", "litecoin", TICKER_DECODE_TEXT, false},
    {"BCH", "bitcoin-cash", TICKER_DECODE_TEXT, false},
    {"BSV", "bitcoin-sv", TICKER_DECODE_TEXT, false},
    {"BTG", "bitcoin-gold", TICKER_DECODE_TEXT, false},
    {"DASH", "dash", TICKER_DECODE_TEXT, false},
    {"ZEC", "zcash", TICKER_DECODE_TEXT, false},
    {"DOGE", "dogecoin", TICKER_DECODE_TEXT, false},
    {"XMR", "monero", TICKER_DECODE_TEXT, false},
    {"XRP", "ripple", TICKER_DECODE_TEXT, false},
    {"SOL", "solana", TICKER_DECODE_TEXT, false},
    {"XVG", "verge", TICKER_DECODE_TEXT, false},
};

const ticker_info *ticker_lookup(const char *ticker)
{
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (strcasecmp(ticker, table[i].ticker) == 0)
            return &table[i];
    return NULL;
}

/* CashAddr payloads without their prefix: q/p + 41 charset characters. */
static bool bare_cashaddr(const char *s, size_t n)
{
    if (n != 42 || (tolower((unsigned char)s[0]) != 'q' && tolower((unsigned char)s[0]) != 'p'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("qpzry9x8gf2tvdw0s3jn54khce6mua7l", tolower((unsigned char)s[i])))
            return false;
    return true;
}

bool ticker_normalise_text(const ticker_info *t, const char *in, char *out, size_t cap)
{
    while (isspace((unsigned char)*in))
        in++;
    size_t n = strlen(in);
    while (n > 0 && isspace((unsigned char)in[n - 1]))
        n--;
    if (n == 0)
        return false;
    /* Bech32-family and CashAddr text is case-insensitive; base58 is not. */
    char copy[BECH32_MAX_LEN + 1], hrp[BECH32_HRP_MAX + 1];
    uint8_t data[BECH32_MAX_LEN];
    size_t n5;
    bech32_variant v;
    bool bech = false;
    if (n <= BECH32_MAX_LEN) { /* any valid bech32/bech32m text (ltc1, bnb1, ...) is case-insensitive */
        memcpy(copy, in, n);
        copy[n] = '\0';
        bech = bech32_decode(copy, hrp, data, &n5, &v, NULL) == CW_OK;
    }
    bool fold = (t && t->case_insensitive) || memchr(in, ':', n) != NULL || bare_cashaddr(in, n) || bech;
    const char *prefix = bare_cashaddr(in, n) ? "bitcoincash:" : "";
    size_t pn = strlen(prefix);
    if (pn + n + 1 > cap)
        return false;
    memcpy(out, prefix, pn);
    for (size_t i = 0; i < n; i++)
        out[pn + i] = fold ? (char)tolower((unsigned char)in[i]) : in[i];
    out[pn + n] = '\0';
    return true;
}
