/*
 * coinjoin.c: multi-party tx shapes (see coinjoin.h for the rules and
 * their sources). One pass gathers the shape of the tx (output value runs,
 * input facts); each detector then reads that shape and the tx.
 */
#include "coinjoin.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tx.h"

#define SAT_PER_BTC 100000000ull

/* Equal values at or below this are dust limits and token/ordinal postage
 * (330, 546, 600, 1,000, 10,000 sats) that one owner sends in batches. */
#define POSTAGE_MAX 10000ull
/* The smallest number of equal outputs read as a join (header: why 3). */
#define JOIN_MIN_EQUAL 3

/* Whirlpool: rounds of 5 (2019-2023) and 6..8 ("surge cycles", 2023). */
#define WHIRLPOOL_MIN_IO 5
#define WHIRLPOOL_MAX_IO 8
/* A premixer's input is the pool value plus its share of the miner fee. */
#define WHIRLPOOL_MINER_FEE_MAX 110000ull
static const uint64_t whirlpool_pools[] = {100000ull, 1000000ull, 5000000ull, 50000000ull};

/* Wasabi 1 (ZeroLink): a base denomination near 0.1 BTC. */
#define WASABI1_BASE 10000000ull
#define WASABI1_BASE_TOLERANCE 2000000ull
#define WASABI1_MIN_EQUAL 10
/* The two coordinator addresses of 2018-2019 (P2WPKH programs of
 * bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew and
 * bc1qa24tsgchvuxsaccp8vrnkfd85hrcpafg20kmjw). */
static const uint8_t wasabi1_coordinators[][20] = {
    {0x86, 0x9f, 0x5c, 0x7a, 0x4c, 0xd7, 0x77, 0x6a, 0xe0, 0xc0,
     0xfc, 0xd9, 0xc3, 0x31, 0x5a, 0xbb, 0x23, 0x9a, 0x9f, 0x0d},
    {0xea, 0xaa, 0xb8, 0x23, 0x17, 0x67, 0x0d, 0x0e, 0xe3, 0x01,
     0x3b, 0x07, 0x3b, 0x25, 0xa7, 0xa5, 0xc7, 0x80, 0xf5, 0x28},
};

/* Wasabi 2 (WabiSabi). */
#define WASABI2_MIN_INPUTS 20
#define WASABI2_DENOM_MIN 5000ull
#define WASABI2_DENOM_MAX 134375000000ull

/* Output values are counted by sorting a copy on the stack up to this many
 * outputs (16 KiB); above it, by pairwise comparison. */
#define VALUE_SORT_MAX 2048
/* Distinct-address counts stop here: a join of more participants than this
 * is recognised by the count reaching the cap. */
#define DISTINCT_CAP 64

/* What the detectors read, gathered once. */
typedef struct {
    bool all_resolved;   /* every input's value and address are known */
    uint64_t in_max;     /* largest known input value */
    uint64_t in_sum;     /* sum of the known input values */
    uint64_t out_max, out_sum;
    bool nulldata;       /* an OP_RETURN output */
    /* Runs of equal output values. */
    uint64_t eq_value;   /* the most frequent value (ties: the larger) */
    size_t eq_count;
    size_t repeated;     /* values held by more than one output */
    size_t unique;       /* outputs no other output equals */
} shape;

/* ---------- why lines ---------- */

static void say(char *why, size_t cap, const char *fmt, ...)
{
    if (why == NULL || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
}

/* Satoshis as BTC without trailing zeros: 1000000 -> "0.01". */
static const char *btc(uint64_t sats, char buf[32])
{
    uint64_t whole = sats / SAT_PER_BTC, frac = sats % SAT_PER_BTC;
    if (frac == 0) {
        snprintf(buf, 32, "%llu", (unsigned long long)whole);
        return buf;
    }
    int digits = 8;
    while (frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    snprintf(buf, 32, "%llu.%0*llu", (unsigned long long)whole, digits, (unsigned long long)frac);
    return buf;
}

/* ---------- the shape ---------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void add_run(shape *s, uint64_t value, size_t count)
{
    if (count == 1)
        s->unique++;
    else
        s->repeated++;
    if (count > s->eq_count || (count == s->eq_count && value > s->eq_value)) {
        s->eq_value = value;
        s->eq_count = count;
    }
}

static void count_values(const cw_tx *tx, shape *s)
{
    size_t n = tx->n_out;
    if (n <= VALUE_SORT_MAX) {
        uint64_t v[VALUE_SORT_MAX];
        for (size_t i = 0; i < n; i++)
            v[i] = tx->out[i].value;
        qsort(v, n, sizeof v[0], cmp_u64);
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && v[j] == v[i])
                j++;
            add_run(s, v[i], j - i);
            i = j;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t x = tx->out[i].value;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = tx->out[j].value == x;
        if (seen)
            continue;
        size_t count = 1;
        for (size_t j = i + 1; j < n; j++)
            count += tx->out[j].value == x;
        add_run(s, x, count);
    }
}

/* Real values cannot sum past 21M BTC, but a hand-made or fuzzed tx can:
 * sums saturate instead of wrapping. */
static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static void gather(const cw_tx *tx, shape *s)
{
    memset(s, 0, sizeof *s);
    s->all_resolved = true;
    for (size_t i = 0; i < tx->n_in; i++) {
        const cw_txin *in = &tx->in[i];
        if (!in->resolved) {
            s->all_resolved = false;
            continue;
        }
        if (in->value > s->in_max)
            s->in_max = in->value;
        s->in_sum = sat_add(s->in_sum, in->value);
    }
    for (size_t i = 0; i < tx->n_out; i++) {
        const cw_txout *o = &tx->out[i];
        if (o->value > s->out_max)
            s->out_max = o->value;
        s->out_sum = sat_add(s->out_sum, o->value);
        s->nulldata |= o->type == CW_SCRIPT_NULLDATA;
    }
    count_values(tx, s);
}

/* ---------- inputs and outputs ---------- */

/* The address kind an input spends from: the prevout's when resolved, else
 * read from the spend when unmistakable. CW_ADDR_NONE when it cannot be told;
 * -1 for "a scriptSig: legacy or wrapped, not native segwit". */
#define KIND_NOT_NATIVE (-1)
static int input_kind(const cw_txin *in)
{
    if (in->resolved)
        return in->addr.kind;
    if (in->script_sig.n > 0)
        return KIND_NOT_NATIVE;
    cw_span item;
    /* [signature, compressed key]; a 33-byte taproot control block starts c0/c1 */
    if (in->witness_items == 2 && btc_witness_item(in, 1, &item) && item.n == 33 &&
        (item.p[0] == 0x02 || item.p[0] == 0x03))
        return CW_ADDR_P2WPKH;
    if (in->witness_items == 1 && btc_witness_item(in, 0, &item) && (item.n == 64 || item.n == 65))
        return CW_ADDR_P2TR;
    return CW_ADDR_NONE;
}

/* True when no input is known to be of another kind than a or b. */
static bool inputs_may_be(const cw_tx *tx, cw_addr_kind a, cw_addr_kind b)
{
    for (size_t i = 0; i < tx->n_in; i++) {
        int k = input_kind(&tx->in[i]);
        if (k == CW_ADDR_NONE && !tx->in[i].resolved)
            continue; /* cannot be told */
        if (k != (int)a && k != (int)b)
            return false;
    }
    return true;
}

static size_t outputs_of_kind(const cw_tx *tx, cw_addr_kind a, cw_addr_kind b)
{
    size_t n = 0;
    for (size_t i = 0; i < tx->n_out; i++)
        n += tx->out[i].addr.kind == a || tx->out[i].addr.kind == b;
    return n;
}

/* At least `want` distinct addresses (counted up to DISTINCT_CAP) among the
 * resolved inputs (inputs == true), or among the outputs of value `value`.
 * Inputs and outputs without an address are not counted. */
static bool distinct_at_least(const cw_tx *tx, bool inputs, uint64_t value, size_t want)
{
    if (want > DISTINCT_CAP)
        want = DISTINCT_CAP;
    const cw_addr *seen[DISTINCT_CAP];
    size_t n_seen = 0, n = inputs ? tx->n_in : tx->n_out;
    for (size_t i = 0; i < n && n_seen < want; i++) {
        const cw_addr *a;
        if (inputs) {
            if (!tx->in[i].resolved)
                continue;
            a = &tx->in[i].addr;
        } else {
            if (tx->out[i].value != value)
                continue;
            a = &tx->out[i].addr;
        }
        if (a->kind == CW_ADDR_NONE)
            continue;
        bool dup = false;
        for (size_t j = 0; j < n_seen && !dup; j++)
            dup = cw_addr_eq(seen[j], a);
        if (!dup)
            seen[n_seen++] = a;
    }
    return n_seen >= want;
}

/* ---------- detectors, most specific first ---------- */

static bool is_whirlpool(const cw_tx *tx, const shape *s, char *why, size_t cap)
{
    size_t n = tx->n_out;
    if (tx->n_in != n || n < WHIRLPOOL_MIN_IO || n > WHIRLPOOL_MAX_IO || s->eq_count != n)
        return false;
    uint64_t pool = s->eq_value;
    bool is_pool = false;
    for (size_t i = 0; i < sizeof whirlpool_pools / sizeof whirlpool_pools[0]; i++)
        is_pool |= whirlpool_pools[i] == pool;
    if (!is_pool || outputs_of_kind(tx, CW_ADDR_P2WPKH, CW_ADDR_P2WPKH) != n ||
        !inputs_may_be(tx, CW_ADDR_P2WPKH, CW_ADDR_P2WPKH))
        return false;
    size_t remixers = 0;
    for (size_t i = 0; i < tx->n_in; i++) {
        const cw_txin *in = &tx->in[i];
        if (!in->resolved)
            continue;
        if (in->value < pool || in->value > pool + WHIRLPOOL_MINER_FEE_MAX)
            return false;
        remixers += in->value == pool;
    }
    if (s->all_resolved && remixers == 0)
        return false;
    char b[32];
    say(why, cap, "%zu inputs, %zu equal outputs of %s BTC (Whirlpool pool)", tx->n_in, n, btc(pool, b));
    return true;
}

/* Wasabi 2's standard denominations: 2^i, 3^i, 2*3^i, and 1, 2, 5 * 10^i. */
static bool is_power_of(uint64_t v, uint64_t base)
{
    while (v % base == 0)
        v /= base;
    return v == 1;
}

static bool wasabi2_denomination(uint64_t v)
{
    if (v < WASABI2_DENOM_MIN || v > WASABI2_DENOM_MAX)
        return false;
    if ((v & (v - 1)) == 0 || is_power_of(v, 3) || (v % 2 == 0 && is_power_of(v / 2, 3)))
        return true;
    while (v % 10 == 0)
        v /= 10;
    return v == 1 || v == 2 || v == 5;
}

static bool is_wasabi2(const cw_tx *tx, const shape *s, char *why, size_t cap)
{
    (void)s;
    size_t n = tx->n_out;
    if (tx->n_in < WASABI2_MIN_INPUTS || n < 2)
        return false;
    size_t std = 0;
    bool std_repeated = false;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = tx->out[i].value;
        if (i > 0 && v > tx->out[i - 1].value)
            return false; /* outputs are ordered by value, largest first */
        if (wasabi2_denomination(v)) {
            std++;
            std_repeated |= i > 0 && v == tx->out[i - 1].value;
        }
    }
    /* more than 80% standard, at least 80% P2WPKH/P2TR (integer forms) */
    if (std * 5 <= n * 4 || !std_repeated || outputs_of_kind(tx, CW_ADDR_P2WPKH, CW_ADDR_P2TR) * 5 < n * 4)
        return false;
    if (!inputs_may_be(tx, CW_ADDR_P2WPKH, CW_ADDR_P2TR))
        return false;
    uint64_t prev = UINT64_MAX;
    for (size_t i = 0; i < tx->n_in; i++) {
        if (!tx->in[i].resolved)
            continue;
        if (tx->in[i].value > prev)
            return false; /* inputs too, largest first */
        prev = tx->in[i].value;
    }
    say(why, cap, "%zu inputs, %zu of %zu outputs standard denominations, largest first (Wasabi 2 / WabiSabi)",
        tx->n_in, std, n);
    return true;
}

static bool pays_wasabi1_coordinator(const cw_tx *tx, size_t *which)
{
    for (size_t i = 0; i < tx->n_out; i++) {
        const cw_addr *a = &tx->out[i].addr;
        if (a->kind != CW_ADDR_P2WPKH || a->len != 20)
            continue;
        for (size_t c = 0; c < sizeof wasabi1_coordinators / sizeof wasabi1_coordinators[0]; c++)
            if (memcmp(a->payload, wasabi1_coordinators[c], 20) == 0) {
                *which = i;
                return true;
            }
    }
    return false;
}

static bool is_wasabi1(const cw_tx *tx, const shape *s, char *why, size_t cap)
{
    char b[32];
    size_t coord;
    if (s->eq_count >= JOIN_MIN_EQUAL && s->eq_value > POSTAGE_MAX && pays_wasabi1_coordinator(tx, &coord)) {
        say(why, cap, "%zu equal outputs of %s BTC, output %zu pays the Wasabi 1 coordinator", s->eq_count,
            btc(s->eq_value, b), coord);
        return true;
    }
    uint64_t v = s->eq_value;
    if (s->eq_count < WASABI1_MIN_EQUAL || tx->n_in < s->eq_count || s->unique < 2 ||
        v < WASABI1_BASE - WASABI1_BASE_TOLERANCE || v > WASABI1_BASE + WASABI1_BASE_TOLERANCE)
        return false;
    if (outputs_of_kind(tx, CW_ADDR_P2WPKH, CW_ADDR_P2WPKH) != tx->n_out ||
        !inputs_may_be(tx, CW_ADDR_P2WPKH, CW_ADDR_P2WPKH))
        return false;
    say(why, cap, "%zu inputs, %zu equal outputs of %s BTC near the 0.1 BTC base, %zu unique (Wasabi 1 / ZeroLink)",
        tx->n_in, s->eq_count, btc(v, b), s->unique);
    return true;
}

static uint64_t largest_other_output(const cw_tx *tx, uint64_t eq_value)
{
    uint64_t m = 0;
    for (size_t i = 0; i < tx->n_out; i++)
        if (tx->out[i].value != eq_value && tx->out[i].value > m)
            m = tx->out[i].value;
    return m;
}

/* What every equal-output join needs: k >= 3 equal outputs above postage
 * paying k distinct addresses, >= k inputs, no OP_RETURN, and when the
 * inputs are known, k distinct spending addresses (k participants). */
static bool equal_join_basics(const cw_tx *tx, const shape *s)
{
    size_t k = s->eq_count;
    return k >= JOIN_MIN_EQUAL && s->eq_value > POSTAGE_MAX && tx->n_in >= k && !s->nulldata &&
           distinct_at_least(tx, false, s->eq_value, k) && (!s->all_resolved || distinct_at_least(tx, true, 0, k));
}

static bool is_joinmarket(const cw_tx *tx, const shape *s, char *why, size_t cap)
{
    size_t k = s->eq_count, n = tx->n_out;
    if (s->repeated != 1 || (n != 2 * k && n != 2 * k - 1) || !equal_join_basics(tx, s))
        return false;
    if (s->all_resolved) {
        /* No participant takes out more than an equal output and one change;
         * the taker also pays the miner fee and the makers' fees (well under
         * 1% of the amount). A bigger input is no participant's. */
        uint64_t fee = s->in_sum > s->out_sum ? s->in_sum - s->out_sum : 0;
        uint64_t take = sat_add(sat_add(s->eq_value, largest_other_output(tx, s->eq_value)), fee);
        if (s->in_max > sat_add(take, s->eq_value / 100))
            return false;
    }
    char b[32];
    say(why, cap, "%zu inputs, %zu equal outputs of %s BTC and %zu change (JoinMarket)", tx->n_in, k,
        btc(s->eq_value, b), n - k);
    return true;
}

static bool is_equal_outputs(const cw_tx *tx, const shape *s, char *why, size_t cap)
{
    size_t k = s->eq_count;
    if (k * 3 < tx->n_out || !equal_join_basics(tx, s))
        return false;
    char b[32];
    say(why, cap, "%zu inputs, %zu of %zu outputs equal at %s BTC", tx->n_in, k, tx->n_out, btc(s->eq_value, b));
    return true;
}

static bool is_payjoin(const cw_tx *tx, const shape *s, char *why, size_t cap)
{
    if (tx->n_out != 2 || tx->n_in < 2 || !s->all_resolved || s->in_max <= s->out_max)
        return false;
    if (tx->out[0].addr.kind == CW_ADDR_NONE || tx->out[1].addr.kind == CW_ADDR_NONE)
        return false;
    uint8_t kind = tx->in[0].addr.kind;
    for (size_t i = 1; i < tx->n_in; i++)
        if (tx->in[i].addr.kind != kind)
            return false;
    if (kind == CW_ADDR_NONE || !distinct_at_least(tx, true, 0, 2))
        return false;
    /* Change sent back to a spending address marks one owner's wallet (and
     * BIP 78 wallets use fresh addresses): seen in real 2018 txs, years
     * before PayJoin, that the rest of this check would flag. */
    for (size_t o = 0; o < 2; o++)
        for (size_t i = 0; i < tx->n_in; i++)
            if (cw_addr_eq(&tx->out[o].addr, &tx->in[i].addr))
                return false;
    char b[32], c[32];
    say(why, cap, "an input of %s BTC alone covers the largest output (%s BTC): %zu other input(s) unnecessary "
        "(possible PayJoin)", btc(s->in_max, b), btc(s->out_max, c), tx->n_in - 1);
    return true;
}

btc_multiparty btc_multiparty_detect(const cw_tx *tx, char *why, size_t why_cap)
{
    return btc_multiparty_detect_opts(tx, 0, why, why_cap);
}

btc_multiparty btc_multiparty_detect_opts(const cw_tx *tx, unsigned flags, char *why, size_t why_cap)
{
    say(why, why_cap, "%s", "");
    if (tx == NULL || tx->chain != CW_CHAIN_BITCOIN || (tx->flags & CW_TX_COINBASE) || tx->n_in == 0 ||
        tx->n_out == 0)
        return BTC_MP_NONE;
    shape s;
    gather(tx, &s);
    if (is_whirlpool(tx, &s, why, why_cap))
        return BTC_MP_WHIRLPOOL;
    if (is_wasabi2(tx, &s, why, why_cap))
        return BTC_MP_WASABI2;
    if (is_wasabi1(tx, &s, why, why_cap))
        return BTC_MP_WASABI1;
    if (is_joinmarket(tx, &s, why, why_cap))
        return BTC_MP_JOINMARKET;
    if (is_equal_outputs(tx, &s, why, why_cap))
        return BTC_MP_EQUAL_OUTPUTS;
    /* one unnecessary input is no evidence of two owners (coinjoin.h) */
    if ((flags & BTC_MP_PAYJOIN_GUARD) && is_payjoin(tx, &s, why, why_cap))
        return BTC_MP_PAYJOIN;
    return BTC_MP_NONE;
}

const char *btc_multiparty_name(btc_multiparty k)
{
    switch (k) {
    case BTC_MP_NONE: return "none";
    case BTC_MP_WASABI1: return "wasabi1";
    case BTC_MP_WASABI2: return "wasabi2";
    case BTC_MP_WHIRLPOOL: return "whirlpool";
    case BTC_MP_JOINMARKET: return "joinmarket";
    case BTC_MP_EQUAL_OUTPUTS: return "equal_outputs";
    case BTC_MP_PAYJOIN: return "payjoin";
    }
    return "unknown";
}
