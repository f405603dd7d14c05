/* Multi-party tx detection: hand-built txs of each published shape with
 * realistic values, the ordinary shapes that must stay BTC_MP_NONE, and
 * every tx of three real mainnet blocks of 2018. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/bitcoin/blkfile.h"
#include "chains/bitcoin/coinjoin.h"
#include "chains/bitcoin/script.h"
#include "chains/bitcoin/tx.h"
#include "chains/hex.h"
#include "monitor/decode.h"
#include "support.h"

/* ---------- a tx built by hand ---------- */

typedef struct {
    cw_tx tx;
    cw_txin *in;
    cw_txout *out;
    size_t cap_in, cap_out;
    uint32_t next_addr; /* every new address is distinct */
} txb;

static txb *txb_new(size_t cap_in, size_t cap_out)
{
    txb *b = calloc(1, sizeof *b);
    b->in = calloc(cap_in, sizeof *b->in);
    b->out = calloc(cap_out, sizeof *b->out);
    b->cap_in = cap_in;
    b->cap_out = cap_out;
    b->tx.chain = CW_CHAIN_BITCOIN;
    b->tx.net = CW_NET_MAIN;
    b->tx.in = b->in;
    b->tx.out = b->out;
    b->next_addr = 1;
    return b;
}

static void txb_free(txb *b)
{
    free(b->in);
    free(b->out);
    free(b);
}

static void make_addr(txb *b, cw_addr_kind kind, cw_addr *a)
{
    uint8_t p[32] = {0};
    uint32_t id = b->next_addr++;
    memcpy(p, &id, sizeof id);
    p[31] = 0xc7;
    size_t len = kind == CW_ADDR_P2TR || kind == CW_ADDR_P2WSH ? 32 : 20;
    int version = kind == CW_ADDR_P2TR ? 1 : 0;
    cw_addr_set(a, CW_CHAIN_BITCOIN, CW_NET_MAIN, kind, version, p, len);
}

static cw_script_type script_of(cw_addr_kind k)
{
    switch (k) {
    case CW_ADDR_P2PKH: return CW_SCRIPT_P2PKH;
    case CW_ADDR_P2SH: return CW_SCRIPT_P2SH;
    case CW_ADDR_P2WPKH: return CW_SCRIPT_P2WPKH;
    case CW_ADDR_P2WSH: return CW_SCRIPT_P2WSH;
    case CW_ADDR_P2TR: return CW_SCRIPT_P2TR;
    default: return CW_SCRIPT_NONSTANDARD;
    }
}

/* An input whose prevout is unknown (as seen from the mempool without an index). */
static cw_txin *in_unknown(txb *b)
{
    cr_assert_lt(b->tx.n_in, b->cap_in);
    cw_txin *in = &b->in[b->tx.n_in++];
    memset(in->prev_txid, 0x11, 32);
    in->prev_vout = (uint32_t)b->tx.n_in;
    in->sequence = 0xffffffff;
    return in;
}

/* An input whose prevout was resolved: a fresh address of `kind`. */
static cw_txin *in_known(txb *b, uint64_t value, cw_addr_kind kind)
{
    cw_txin *in = in_unknown(b);
    in->resolved = true;
    in->value = value;
    make_addr(b, kind, &in->addr);
    return in;
}

static cw_txout *out_to(txb *b, uint64_t value, cw_addr_kind kind)
{
    cr_assert_lt(b->tx.n_out, b->cap_out);
    cw_txout *o = &b->out[b->tx.n_out];
    o->n = (uint32_t)b->tx.n_out++;
    o->value = value;
    o->type = script_of(kind);
    make_addr(b, kind, &o->addr);
    return o;
}

static void out_op_return(txb *b)
{
    cr_assert_lt(b->tx.n_out, b->cap_out);
    cw_txout *o = &b->out[b->tx.n_out];
    o->n = (uint32_t)b->tx.n_out++;
    o->value = 0;
    o->type = CW_SCRIPT_NULLDATA;
    memset(&o->addr, 0, sizeof o->addr);
}

static btc_multiparty detect(const txb *b, char *why)
{
    btc_multiparty k = btc_multiparty_detect(&b->tx, why, BTC_MP_WHY_MAX);
    /* the why line is there exactly when something was detected */
    cr_assert_eq(k != BTC_MP_NONE, why[0] != '\0', "%s: why '%s'", btc_multiparty_name(k), why);
    return k;
}

#define assert_kind(b, want)                                                                                        \
    do {                                                                                                            \
        char why_[BTC_MP_WHY_MAX];                                                                                  \
        btc_multiparty got_ = detect((b), why_);                                                                    \
        cr_assert_eq(got_, (want), "got %s (%s), want %s", btc_multiparty_name(got_), why_,                         \
                     btc_multiparty_name(want));                                                                    \
    } while (0)

/* ---------- Whirlpool ---------- */

/* A 0.01 BTC pool round from the mempool: inputs not resolved. */
Test(coinjoin, whirlpool_001_pool_5x5_unresolved)
{
    txb *b = txb_new(5, 5);
    for (int i = 0; i < 5; i++) {
        in_unknown(b);
        out_to(b, 1000000, CW_ADDR_P2WPKH);
    }
    char why[BTC_MP_WHY_MAX];
    cr_assert_eq(detect(b, why), BTC_MP_WHIRLPOOL);
    cr_assert_str_eq(why, "5 inputs, 5 equal outputs of 0.01 BTC (Whirlpool pool)");
    txb_free(b);
}

/* The same with the inputs known: 3 remixers at the pool value, 2 premixers
 * carrying their miner-fee share. */
Test(coinjoin, whirlpool_001_pool_resolved)
{
    txb *b = txb_new(5, 5);
    in_known(b, 1000000, CW_ADDR_P2WPKH);
    in_known(b, 1000302, CW_ADDR_P2WPKH);
    in_known(b, 1000000, CW_ADDR_P2WPKH);
    in_known(b, 1000170, CW_ADDR_P2WPKH);
    in_known(b, 1000000, CW_ADDR_P2WPKH);
    for (int i = 0; i < 5; i++)
        out_to(b, 1000000, CW_ADDR_P2WPKH);
    assert_kind(b, BTC_MP_WHIRLPOOL);
    txb_free(b);
}

/* A 2023 "surge cycle": 8 x 8 in the 0.05 pool. */
Test(coinjoin, whirlpool_surge_cycle_8x8)
{
    txb *b = txb_new(8, 8);
    for (int i = 0; i < 8; i++) {
        if (i < 6)
            in_known(b, 5000000, CW_ADDR_P2WPKH);
        else
            in_known(b, 5000000 + 2113 + (uint64_t)i, CW_ADDR_P2WPKH);
        out_to(b, 5000000, CW_ADDR_P2WPKH);
    }
    char why[BTC_MP_WHY_MAX];
    cr_assert_eq(detect(b, why), BTC_MP_WHIRLPOOL);
    cr_assert_str_eq(why, "8 inputs, 8 equal outputs of 0.05 BTC (Whirlpool pool)");
    txb_free(b);
}

/* Shapes close to Whirlpool that are not: still equal-output joins. */
Test(coinjoin, whirlpool_near_misses)
{
    /* an input far above pool + 0.0011 BTC */
    txb *b = txb_new(9, 9);
    in_known(b, 1000000, CW_ADDR_P2WPKH);
    in_known(b, 1000000, CW_ADDR_P2WPKH);
    in_known(b, 1000000, CW_ADDR_P2WPKH);
    in_known(b, 1000170, CW_ADDR_P2WPKH);
    in_known(b, 1200000, CW_ADDR_P2WPKH);
    for (int i = 0; i < 5; i++)
        out_to(b, 1000000, CW_ADDR_P2WPKH);
    assert_kind(b, BTC_MP_EQUAL_OUTPUTS);
    txb_free(b);

    /* every input known and none at the pool value: no remixer */
    b = txb_new(9, 9);
    for (int i = 0; i < 5; i++) {
        in_known(b, 1000150 + (uint64_t)i, CW_ADDR_P2WPKH);
        out_to(b, 1000000, CW_ADDR_P2WPKH);
    }
    assert_kind(b, BTC_MP_EQUAL_OUTPUTS);
    txb_free(b);

    /* 0.02 BTC is no pool */
    b = txb_new(9, 9);
    for (int i = 0; i < 5; i++) {
        in_unknown(b);
        out_to(b, 2000000, CW_ADDR_P2WPKH);
    }
    assert_kind(b, BTC_MP_EQUAL_OUTPUTS);
    txb_free(b);

    /* Whirlpool pays P2WPKH only */
    b = txb_new(9, 9);
    for (int i = 0; i < 5; i++) {
        in_unknown(b);
        out_to(b, 1000000, CW_ADDR_P2TR);
    }
    assert_kind(b, BTC_MP_EQUAL_OUTPUTS);
    txb_free(b);

    /* an unresolved input with a scriptSig is not native segwit */
    b = txb_new(9, 9);
    static const uint8_t sig[107] = {0x48};
    for (int i = 0; i < 5; i++) {
        cw_txin *in = in_unknown(b);
        if (i == 2)
            in->script_sig = (cw_span){sig, sizeof sig};
        out_to(b, 1000000, CW_ADDR_P2WPKH);
    }
    assert_kind(b, BTC_MP_EQUAL_OUTPUTS);
    txb_free(b);

    /* 9 x 9 is above the largest round */
    b = txb_new(9, 9);
    for (int i = 0; i < 9; i++) {
        in_unknown(b);
        out_to(b, 1000000, CW_ADDR_P2WPKH);
    }
    assert_kind(b, BTC_MP_EQUAL_OUTPUTS);
    txb_free(b);
}

/* An unresolved input whose witness shows a P2WPKH spend passes the kind
 * check; the parser's own witness encoding is used (count, then items). */
Test(coinjoin, whirlpool_reads_p2wpkh_spends_from_witness)
{
    static uint8_t wit[1 + 1 + 71 + 1 + 33];
    wit[0] = 2;
    wit[1] = 71;
    wit[1 + 1 + 71] = 33;
    wit[1 + 1 + 71 + 1] = 0x02;
    static uint8_t legacy_wit[1 + 1 + 71 + 1 + 65];
    legacy_wit[0] = 2;
    legacy_wit[1] = 71;
    legacy_wit[1 + 1 + 71] = 65;
    txb *b = txb_new(5, 5);
    for (int i = 0; i < 5; i++) {
        cw_txin *in = in_unknown(b);
        in->witness = (cw_span){wit, sizeof wit};
        in->witness_items = 2;
        out_to(b, 100000, CW_ADDR_P2WPKH);
    }
    assert_kind(b, BTC_MP_WHIRLPOOL);
    /* a 2-item witness whose second item is no 33-byte key: kind unknown, no veto */
    b->in[0].witness = (cw_span){legacy_wit, sizeof legacy_wit};
    assert_kind(b, BTC_MP_WHIRLPOOL);
    txb_free(b);
}

/* ---------- Wasabi 2 ---------- */

/* Output values of one round, largest first: repeated standard
 * denominations (2^i, 3^i, 2*3^i, 1-2-5 x 10^i) and a few change amounts. */
static const uint64_t wasabi2_outputs[] = {
    34359738368ull, 20000000000ull,                          /* 2^35, 2*10^10 */
    4294967296ull, 4294967296ull,                            /* 2^32 */
    2324522934ull, 2324522934ull, 2324522934ull,             /* 2*3^19 */
    1000000000ull, 1000000000ull,                            /* 10^9 */
    536870912ull, 536870912ull, 536870912ull, 536870912ull, /* 2^29 */
    387420489ull, 387420489ull,                              /* 3^18 */
    200000000ull, 200000000ull, 200000000ull,                /* 2*10^8 */
    134217728ull, 134217728ull,                              /* 2^27 */
    87654321ull,                                             /* change */
    50000000ull, 50000000ull, 50000000ull, 50000000ull,      /* 5*10^7 */
    33554432ull, 33554432ull, 33554432ull,                   /* 2^25 */
    28697814ull, 28697814ull,                                /* 2*3^15 */
    20000000ull, 20000000ull, 20000000ull, 20000000ull, 20000000ull,
    14348907ull, 14348907ull,                                /* 3^15 */
    10000000ull, 10000000ull, 10000000ull, 10000000ull,
    8388608ull, 8388608ull, 8388608ull,
    5000000ull, 5000000ull, 5000000ull, 5000000ull, 5000000ull, 5000000ull,
    4782969ull, 4782969ull, 4782969ull,
    3188646ull,                                              /* 2*3^13 */
    2097152ull, 2097152ull, 2097152ull, 2097152ull,
    1234567ull,                                              /* change */
    1000000ull, 1000000ull, 1000000ull, 1000000ull, 1000000ull,
    524288ull, 524288ull, 524288ull,
    500000ull, 500000ull, 500000ull,
    354294ull, 354294ull,                                    /* 2*3^11 */
    262144ull, 262144ull,
    200000ull, 200000ull, 200000ull, 200000ull,
    131072ull, 131072ull,
    100000ull, 100000ull, 100000ull,
    77777ull,                                                /* change */
    50000ull, 50000ull, 50000ull,
    19683ull,                                                /* 3^9 */
    10000ull, 10000ull,
    5000ull,
};
#define N_WASABI2_OUT (sizeof wasabi2_outputs / sizeof wasabi2_outputs[0])

/* 60 inputs, largest first, summing to the outputs plus a fee. */
static txb *wasabi2_round(bool resolved_inputs)
{
    txb *b = txb_new(60, N_WASABI2_OUT);
    uint64_t total = 0;
    for (size_t i = 0; i < N_WASABI2_OUT; i++) {
        total += wasabi2_outputs[i];
        out_to(b, wasabi2_outputs[i], i % 3 == 0 ? CW_ADDR_P2TR : CW_ADDR_P2WPKH);
    }
    uint64_t fee = 61 * 58 + N_WASABI2_OUT * 31 * 5, sum = 0, weights = 0;
    for (int i = 0; i < 60; i++)
        weights += 120 - (uint64_t)i;
    uint64_t v[60];
    for (int i = 0; i < 60; i++) {
        v[i] = total / weights * (120 - (uint64_t)i);
        sum += v[i];
    }
    v[0] += total + fee - sum;
    for (int i = 0; i < 60; i++) {
        if (resolved_inputs)
            in_known(b, v[i], i % 4 == 0 ? CW_ADDR_P2TR : CW_ADDR_P2WPKH);
        else
            in_unknown(b);
    }
    return b;
}

Test(coinjoin, wasabi2_round_of_60_inputs)
{
    char why[BTC_MP_WHY_MAX];
    txb *b = wasabi2_round(true);
    cr_assert_eq(detect(b, why), BTC_MP_WASABI2, "%s", why);
    cr_assert_str_eq(why, "60 inputs, 88 of 91 outputs standard denominations, largest first (Wasabi 2 / WabiSabi)");
    txb_free(b);
    b = wasabi2_round(false);
    assert_kind(b, BTC_MP_WASABI2);
    txb_free(b);
}

Test(coinjoin, wasabi2_near_misses)
{
    /* outputs not in value order: WabiSabi always orders them */
    txb *b = wasabi2_round(true);
    cw_txout t = b->out[3];
    b->out[3] = b->out[40];
    b->out[40] = t;
    assert_kind(b, BTC_MP_NONE); /* many distinct denominations: no single equal value dominates */
    txb_free(b);

    /* inputs not in value order */
    b = wasabi2_round(true);
    cw_txin ti = b->in[10];
    b->in[10] = b->in[50];
    b->in[50] = ti;
    assert_kind(b, BTC_MP_NONE);
    txb_free(b);

    /* a P2PKH input: the coordinator takes P2WPKH and P2TR only */
    b = wasabi2_round(true);
    b->in[7].addr.kind = CW_ADDR_P2PKH;
    assert_kind(b, BTC_MP_NONE);
    txb_free(b);

    /* 19 inputs */
    b = wasabi2_round(true);
    b->tx.n_in = 19;
    assert_kind(b, BTC_MP_NONE);
    txb_free(b);

    /* change amounts over 20% of the outputs */
    b = wasabi2_round(true);
    for (size_t i = 20; i < 40; i++)
        b->out[i].value += 1; /* 20000001 etc. stay in order, no longer standard */
    assert_kind(b, BTC_MP_NONE);
    txb_free(b);
}

/* ---------- Wasabi 1 ---------- */

/* A 2020 ZeroLink round: 30 mixed outputs near the 0.1 BTC base, the
 * coordinator fee, 14 change outputs; 41 inputs; everything P2WPKH. */
Test(coinjoin, wasabi1_zerolink_round)
{
    txb *b = txb_new(41, 45);
    for (int i = 0; i < 41; i++)
        in_unknown(b);
    for (int i = 0; i < 45; i++) {
        if (i % 3 != 2 || i >= 42)
            out_to(b, 9971232, CW_ADDR_P2WPKH);
        else if (i == 5)
            out_to(b, 2398772, CW_ADDR_P2WPKH); /* coordinator fee */
        else
            out_to(b, 1482311 + (uint64_t)i * 100003, CW_ADDR_P2WPKH); /* change */
    }
    char why[BTC_MP_WHY_MAX];
    cr_assert_eq(detect(b, why), BTC_MP_WASABI1, "%s", why);
    cr_assert_str_eq(why, "41 inputs, 31 equal outputs of 0.09971232 BTC near the 0.1 BTC base, 14 unique "
                          "(Wasabi 1 / ZeroLink)");
    /* a P2SH output: Wasabi 1 paid bech32 only; still an equal-output join */
    b->out[44].addr.kind = CW_ADDR_P2SH;
    assert_kind(b, BTC_MP_EQUAL_OUTPUTS);
    txb_free(b);
}

/* A 2018 round that pays the published coordinator address, with fewer
 * equal outputs than the structural rule wants. */
Test(coinjoin, wasabi1_coordinator_address)
{
    txb *b = txb_new(8, 12);
    for (int i = 0; i < 8; i++)
        in_unknown(b);
    for (int i = 0; i < 6; i++)
        out_to(b, 10029000, CW_ADDR_P2WPKH);
    for (int i = 0; i < 5; i++)
        out_to(b, 3000000 + (uint64_t)i * 777777, CW_ADDR_P2WPKH);
    cw_txout *fee = out_to(b, 180522, CW_ADDR_P2WPKH);
    cw_err err = {0};
    cr_assert_eq(cw_addr_parse("bc1qa24tsgchvuxsaccp8vrnkfd85hrcpafg20kmjw", CW_NET_MAIN, &fee->addr, &err), CW_OK,
                 "%s", err.msg);
    char why[BTC_MP_WHY_MAX];
    cr_assert_eq(detect(b, why), BTC_MP_WASABI1, "%s", why);
    cr_assert_str_eq(why, "6 equal outputs of 0.10029 BTC, output 11 pays the Wasabi 1 coordinator");
    /* the other published coordinator address too */
    cr_assert_eq(cw_addr_parse("bc1qs604c7jv6amk4cxqlnvuxv26hv3e48cds4m0ew", CW_NET_MAIN, &fee->addr, &err), CW_OK);
    assert_kind(b, BTC_MP_WASABI1);
    /* without it, 6 equal + 6 others is JoinMarket's shape */
    make_addr(b, CW_ADDR_P2WPKH, &fee->addr);
    assert_kind(b, BTC_MP_JOINMARKET);
    txb_free(b);
}

/* ---------- JoinMarket ---------- */

/* A 4-party join of 0.0632 BTC: three makers (one with two inputs) each
 * get the amount, their change and their fee; the taker pays the makers'
 * fees and the miner. */
static txb *joinmarket_4(void)
{
    txb *b = txb_new(6, 8);
    in_known(b, 50000000, CW_ADDR_P2WPKH);  /* maker 1 */
    in_known(b, 3000000, CW_ADDR_P2WPKH);   /* maker 2 */
    in_known(b, 4000000, CW_ADDR_P2WPKH);   /* maker 2 */
    in_known(b, 12345678, CW_ADDR_P2WPKH);  /* maker 3 */
    in_known(b, 8000000, CW_ADDR_P2WPKH);   /* taker */
    out_to(b, 43680250, CW_ADDR_P2WPKH);    /* maker 1 change: 50000000 - 6320000 + 250 */
    out_to(b, 6320000, CW_ADDR_P2WPKH);
    out_to(b, 1676770, CW_ADDR_P2WPKH);     /* taker change: 8000000 - 6320000 - 730 - 2500 */
    out_to(b, 6320000, CW_ADDR_P2WPKH);
    out_to(b, 6320000, CW_ADDR_P2WPKH);
    out_to(b, 680180, CW_ADDR_P2WPKH);      /* maker 2 change */
    out_to(b, 6025978, CW_ADDR_P2WPKH);     /* maker 3 change */
    out_to(b, 6320000, CW_ADDR_P2WPKH);
    return b;
}

Test(coinjoin, joinmarket_four_parties)
{
    txb *b = joinmarket_4();
    char why[BTC_MP_WHY_MAX];
    cr_assert_eq(detect(b, why), BTC_MP_JOINMARKET, "%s", why);
    cr_assert_str_eq(why, "5 inputs, 4 equal outputs of 0.0632 BTC and 4 change (JoinMarket)");
    /* the same seen from the mempool */
    for (size_t i = 0; i < b->tx.n_in; i++)
        b->in[i].resolved = false;
    assert_kind(b, BTC_MP_JOINMARKET);
    txb_free(b);
}

Test(coinjoin, joinmarket_taker_sweep)
{
    txb *b = joinmarket_4();
    /* the taker swept: no change (its output is the last one of the 8) */
    b->out[2] = b->out[7];
    b->tx.n_out = 7;
    b->in[4].value = 6320000 + 730 + 2500;
    char why[BTC_MP_WHY_MAX];
    cr_assert_eq(detect(b, why), BTC_MP_JOINMARKET, "%s", why);
    cr_assert_str_eq(why, "5 inputs, 4 equal outputs of 0.0632 BTC and 3 change (JoinMarket)");
    txb_free(b);
}

Test(coinjoin, joinmarket_near_misses)
{
    /* an input no participant could own (bigger than an equal output plus
     * the largest change plus fees): a 1 BTC coin paying three others:
     * not JoinMarket, yet equal outputs */
    txb *b = txb_new(4, 8);
    in_known(b, 100000000, CW_ADDR_P2WPKH);
    in_known(b, 3000000, CW_ADDR_P2WPKH);
    in_known(b, 4000000, CW_ADDR_P2WPKH);
    in_known(b, 5000000, CW_ADDR_P2WPKH);
    for (int i = 0; i < 4; i++)
        out_to(b, 6320000, CW_ADDR_P2WPKH);
    out_to(b, 30000000, CW_ADDR_P2WPKH);
    out_to(b, 40000000, CW_ADDR_P2WPKH);
    out_to(b, 15000000, CW_ADDR_P2WPKH);
    out_to(b, 1715000, CW_ADDR_P2WPKH);
    assert_kind(b, BTC_MP_EQUAL_OUTPUTS);
    b->in[0].value = 46000000; /* within one participant's take: JoinMarket's shape again */
    assert_kind(b, BTC_MP_JOINMARKET);
    txb_free(b);

    /* two inputs from the same address: only 4 distinct spenders needed, 4 left */
    b = joinmarket_4();
    b->in[2].addr = b->in[1].addr;
    assert_kind(b, BTC_MP_JOINMARKET);
    /* three of them the same: 3 distinct addresses cannot be 4 parties */
    b->in[0].addr = b->in[1].addr;
    assert_kind(b, BTC_MP_NONE);
    txb_free(b);

    /* a second repeated value (two change outputs alike): not JoinMarket's
     * one-amount shape, still a join */
    b = joinmarket_4();
    b->out[5].value = b->out[2].value;
    assert_kind(b, BTC_MP_EQUAL_OUTPUTS);
    txb_free(b);

    /* 2 equal outputs are not enough */
    b = joinmarket_4();
    b->out[4].value = 6320001;
    b->out[7].value = 6320002;
    assert_kind(b, BTC_MP_NONE);
    txb_free(b);

    /* an OP_RETURN: some token protocol, not a join */
    b = joinmarket_4();
    b->out[7].value = 0; /* 3 equal outputs of 8 left: still a join */
    assert_kind(b, BTC_MP_EQUAL_OUTPUTS);
    b->out[7].type = CW_SCRIPT_NULLDATA;
    memset(&b->out[7].addr, 0, sizeof b->out[7].addr);
    assert_kind(b, BTC_MP_NONE);
    txb_free(b);
}

/* The only multi-party tx in the real blocks: 9 P2SH-P2WPKH inputs (the
 * JoinMarket wallet's default script in 2018), 6 outputs of exactly
 * 0.1 BTC and 6 change outputs. */
Test(coinjoin, real_joinmarket_shape_in_block_514492)
{
    size_t n;
    uint8_t *blk = fixture(BLOCK_514492, &n);
    cw_arena a = test_arena(n);
    btc_block bb;
    cw_err err = {0};
    cr_assert_eq(btc_block_open(blk, n, CW_NET_MAIN, &bb, &err), CW_OK, "%s", err.msg);
    bool found = false;
    while (bb.next < bb.tx_count) {
        cw_tx tx;
        cr_assert_eq(btc_block_next(&bb, &a, &tx, &err), CW_OK, "%s", err.msg);
        char id[65];
        cw_hex_encode_rev(tx.txid, 32, id);
        if (strcmp(id, "a23570534b8f31f3fd946b3b4e0d54c0f07ef61fe44aa5a7e35f37e4a14ed229") != 0)
            continue;
        found = true;
        char why[BTC_MP_WHY_MAX];
        cr_assert_eq(btc_multiparty_detect(&tx, why, sizeof why), BTC_MP_JOINMARKET, "%s", why);
        cr_assert_str_eq(why, "9 inputs, 6 equal outputs of 0.1 BTC and 6 change (JoinMarket)");
    }
    cr_assert(found);
    free(a.base);
    free(blk);
}

/* ---------- generic equal outputs ---------- */

Test(coinjoin, ten_equal_outputs)
{
    txb *b = txb_new(12, 10);
    for (int i = 0; i < 12; i++)
        in_known(b, 4164000 + (uint64_t)i * 1000, CW_ADDR_P2WPKH);
    for (int i = 0; i < 10; i++)
        out_to(b, 5000000, CW_ADDR_P2WPKH);
    char why[BTC_MP_WHY_MAX];
    cr_assert_eq(detect(b, why), BTC_MP_EQUAL_OUTPUTS, "%s", why);
    cr_assert_str_eq(why, "12 inputs, 10 of 10 outputs equal at 0.05 BTC");
    /* one sender's inputs at one address: 10 participants need 10 addresses */
    for (int i = 1; i < 12; i++)
        b->in[i].addr = b->in[0].addr;
    assert_kind(b, BTC_MP_NONE);
    txb_free(b);
}

/* One recipient paid in equal parts (block 514485 has such a tx: 18 x 6 BTC
 * to one address) is no join, however many other outputs there are. */
Test(coinjoin, equal_outputs_to_one_address)
{
    txb *b = txb_new(12, 20);
    for (int i = 0; i < 12; i++)
        in_unknown(b);
    for (int i = 0; i < 10; i++)
        out_to(b, 5000000, CW_ADDR_P2WPKH);
    for (int i = 0; i < 10; i++)
        out_to(b, 700000 + (uint64_t)i * 3001, CW_ADDR_P2WPKH);
    assert_kind(b, BTC_MP_JOINMARKET);
    for (int i = 1; i < 10; i++)
        b->out[i].addr = b->out[0].addr;
    assert_kind(b, BTC_MP_NONE);
    txb_free(b);
}

/* Above the stack sort limit the values are counted pairwise: same answer. */
Test(coinjoin, large_join_counted_without_sorting)
{
    txb *b = txb_new(1100, 2100);
    for (int i = 0; i < 1100; i++)
        in_unknown(b);
    for (int i = 0; i < 2100; i++)
        out_to(b, i % 2 ? 1000000 : 20000 + (uint64_t)i * 7, CW_ADDR_P2WPKH);
    char why[BTC_MP_WHY_MAX];
    cr_assert_eq(detect(b, why), BTC_MP_JOINMARKET, "%s", why);
    cr_assert_str_eq(why, "1100 inputs, 1050 equal outputs of 0.01 BTC and 1050 change (JoinMarket)");
    b->tx.n_out = 2000; /* sorted path */
    cr_assert_eq(detect(b, why), BTC_MP_JOINMARKET, "%s", why);
    cr_assert_str_eq(why, "1100 inputs, 1000 equal outputs of 0.01 BTC and 1000 change (JoinMarket)");
    txb_free(b);
}

/* ---------- PayJoin: only with the opt-in guard ---------- */

/* BIP 78: the sender's 0.5 BTC coin pays 0.03 BTC; the receiver adds its
 * 0.02 BTC coin and takes 0.05 BTC. The 0.5 BTC input alone covers every
 * output, so the receiver's input was "unnecessary". The same shape is a
 * wallet paying 0.4699859 BTC from two of its own coins. */
static txb *payjoin(void)
{
    txb *b = txb_new(3, 2);
    in_known(b, 50000000, CW_ADDR_P2WPKH);
    in_known(b, 2000000, CW_ADDR_P2WPKH);
    out_to(b, 46998590, CW_ADDR_P2WPKH);
    out_to(b, 5000000, CW_ADDR_P2WPKH);
    return b;
}

static btc_multiparty detect_guarded(const txb *b, char *why)
{
    btc_multiparty k = btc_multiparty_detect_opts(&b->tx, BTC_MP_PAYJOIN_GUARD, why, BTC_MP_WHY_MAX);
    cr_assert_eq(k != BTC_MP_NONE, why[0] != '\0', "%s: why '%s'", btc_multiparty_name(k), why);
    return k;
}

/* One unnecessary input is no evidence of two owners: by default the tx is
 * ordinary and its inputs merge (coinjoin.h: why). */
Test(coinjoin, unnecessary_input_alone_is_not_multiparty_by_default)
{
    txb *b = payjoin();
    char why[BTC_MP_WHY_MAX];
    cr_assert_eq(detect(b, why), BTC_MP_NONE, "%s", why);
    cr_assert_str_eq(why, "");
    cr_assert_eq(btc_multiparty_detect_opts(&b->tx, 0, why, sizeof why), BTC_MP_NONE, "%s", why);
    /* unknown flag bits change nothing */
    cr_assert_eq(btc_multiparty_detect_opts(&b->tx, ~BTC_MP_PAYJOIN_GUARD, why, sizeof why), BTC_MP_NONE, "%s", why);
    txb_free(b);
}

Test(coinjoin, payjoin_guard_reports_the_unnecessary_input)
{
    txb *b = payjoin();
    char why[BTC_MP_WHY_MAX];
    cr_assert_eq(detect_guarded(b, why), BTC_MP_PAYJOIN, "%s", why);
    cr_assert_str_eq(why, "an input of 0.5 BTC alone covers the largest output (0.4699859 BTC): 1 other input(s) "
                          "unnecessary (possible PayJoin)");
    txb_free(b);
}

/* The guard does not change any CoinJoin answer. */
Test(coinjoin, payjoin_guard_leaves_coinjoins_alone)
{
    txb *b = txb_new(5, 5);
    for (int i = 0; i < 5; i++) {
        in_known(b, i ? 1000000 : 1000170, CW_ADDR_P2WPKH);
        out_to(b, 1000000, CW_ADDR_P2WPKH);
    }
    char why[BTC_MP_WHY_MAX];
    cr_assert_eq(detect_guarded(b, why), BTC_MP_WHIRLPOOL, "%s", why);
    cr_assert_eq(detect(b, why), BTC_MP_WHIRLPOOL, "%s", why);
    txb_free(b);
}

Test(coinjoin, payjoin_guard_needs_every_input_known_and_one_kind)
{
    char why[BTC_MP_WHY_MAX];
    txb *b = payjoin();
    b->in[1].resolved = false;
    cr_assert_eq(detect_guarded(b, why), BTC_MP_NONE, "%s", why);
    txb_free(b);

    /* a P2PKH input next to a P2WPKH one: BIP 78 receivers match the sender's kind */
    b = payjoin();
    make_addr(b, CW_ADDR_P2PKH, &b->in[1].addr);
    cr_assert_eq(detect_guarded(b, why), BTC_MP_NONE, "%s", why);
    txb_free(b);

    /* both inputs at one address: one owner */
    b = payjoin();
    b->in[1].addr = b->in[0].addr;
    cr_assert_eq(detect_guarded(b, why), BTC_MP_NONE, "%s", why);
    txb_free(b);

    /* change back to the big input's address: one wallet paying (two such
     * txs in block 514492, 2018, had every other PayJoin mark) */
    b = payjoin();
    b->out[0].addr = b->in[0].addr;
    cr_assert_eq(detect_guarded(b, why), BTC_MP_NONE, "%s", why);
    txb_free(b);

    /* three outputs */
    b = payjoin();
    b->cap_out = 3;
    b->out = realloc(b->out, 3 * sizeof *b->out);
    b->tx.out = b->out;
    out_to(b, 10000, CW_ADDR_P2WPKH);
    cr_assert_eq(detect_guarded(b, why), BTC_MP_NONE, "%s", why);
    txb_free(b);
}

/* ---------- ordinary txs: none of them multi-party ---------- */

Test(coinjoin, ordinary_payment_two_inputs)
{
    /* 0.03 + 0.025 BTC pay 0.05 BTC with 0.0049 BTC change: both inputs needed */
    txb *b = txb_new(2, 2);
    in_known(b, 3000000, CW_ADDR_P2WPKH);
    in_known(b, 2500000, CW_ADDR_P2WPKH);
    out_to(b, 5000000, CW_ADDR_P2PKH);
    out_to(b, 490000, CW_ADDR_P2WPKH);
    assert_kind(b, BTC_MP_NONE);
    b->in[0].resolved = b->in[1].resolved = false;
    assert_kind(b, BTC_MP_NONE);
    txb_free(b);
}

Test(coinjoin, consolidation)
{
    txb *b = txb_new(50, 1);
    for (int i = 0; i < 50; i++)
        in_known(b, 150000 + (uint64_t)i * 3331, CW_ADDR_P2WPKH);
    out_to(b, 15000000, CW_ADDR_P2WPKH);
    assert_kind(b, BTC_MP_NONE);
    txb_free(b);
}

Test(coinjoin, batch_withdrawal_of_different_amounts)
{
    txb *b = txb_new(3, 26);
    in_known(b, 250000000, CW_ADDR_P2WPKH);
    in_known(b, 180000000, CW_ADDR_P2SH);
    in_known(b, 90000000, CW_ADDR_P2WPKH);
    for (int i = 0; i < 25; i++)
        out_to(b, 1000000 + (uint64_t)i * 1234567, i % 4 ? CW_ADDR_P2WPKH : CW_ADDR_P2PKH);
    out_to(b, 124600000, CW_ADDR_P2WPKH); /* change; fee 29,900 */
    assert_kind(b, BTC_MP_NONE);
    txb_free(b);
}

/* A batch where three customers withdrew the same popular amount: the equal
 * outputs are a small minority. */
Test(coinjoin, batch_with_a_few_equal_amounts)
{
    txb *b = txb_new(5, 20);
    for (int i = 0; i < 5; i++)
        in_unknown(b);
    for (int i = 0; i < 20; i++)
        out_to(b, i < 3 ? 1000000 : 2000000 + (uint64_t)i * 999, CW_ADDR_P2WPKH);
    assert_kind(b, BTC_MP_NONE);
    txb_free(b);
}

/* Inscriptions or rune transfers: equal postage outputs from one owner. */
Test(coinjoin, postage_batch)
{
    txb *b = txb_new(11, 11);
    for (int i = 0; i < 11; i++)
        in_known(b, i < 10 ? 10000 : 250000, CW_ADDR_P2TR);
    for (int i = 0; i < 10; i++)
        out_to(b, 10000, CW_ADDR_P2TR);
    out_to(b, 231000, CW_ADDR_P2TR);
    assert_kind(b, BTC_MP_NONE);
    txb_free(b);
}

/* Whirlpool's Tx0 is one owner splitting a coin into premixes. */
Test(coinjoin, whirlpool_tx0_is_one_owner)
{
    txb *b = txb_new(1, 9);
    in_known(b, 6000000, CW_ADDR_P2WPKH);
    out_op_return(b);
    out_to(b, 50000, CW_ADDR_P2WPKH); /* pool fee */
    for (int i = 0; i < 5; i++)
        out_to(b, 1000170, CW_ADDR_P2WPKH);
    out_to(b, 945000, CW_ADDR_P2WPKH); /* doxxic change */
    assert_kind(b, BTC_MP_NONE);
    txb_free(b);
}

Test(coinjoin, two_equal_outputs_and_others)
{
    txb *b = txb_new(2, 2);
    in_unknown(b);
    in_unknown(b);
    out_to(b, 2500000, CW_ADDR_P2WPKH);
    out_to(b, 2500000, CW_ADDR_P2WPKH);
    assert_kind(b, BTC_MP_NONE);
    txb_free(b);
}

Test(coinjoin, coinbase_and_other_chains)
{
    txb *b = txb_new(5, 5);
    for (int i = 0; i < 5; i++) {
        in_unknown(b);
        out_to(b, 1000000, CW_ADDR_P2WPKH);
    }
    assert_kind(b, BTC_MP_WHIRLPOOL);
    b->tx.flags |= CW_TX_COINBASE;
    assert_kind(b, BTC_MP_NONE);
    b->tx.flags = 0;
    b->tx.chain = CW_CHAIN_EVM;
    assert_kind(b, BTC_MP_NONE);
    cr_assert_eq(btc_multiparty_detect(NULL, NULL, 0), BTC_MP_NONE);
    txb_free(b);
}

/* ---------- the why line and names ---------- */

Test(coinjoin, why_is_optional_and_cut_to_its_buffer)
{
    txb *b = txb_new(5, 5);
    for (int i = 0; i < 5; i++) {
        in_unknown(b);
        out_to(b, 50000000, CW_ADDR_P2WPKH);
    }
    cr_assert_eq(btc_multiparty_detect(&b->tx, NULL, 0), BTC_MP_WHIRLPOOL);
    char small[9];
    memset(small, 'x', sizeof small);
    cr_assert_eq(btc_multiparty_detect(&b->tx, small, sizeof small), BTC_MP_WHIRLPOOL);
    cr_assert_str_eq(small, "5 inputs");
    char why[BTC_MP_WHY_MAX];
    cr_assert_eq(detect(b, why), BTC_MP_WHIRLPOOL);
    cr_assert_str_eq(why, "5 inputs, 5 equal outputs of 0.5 BTC (Whirlpool pool)");
    txb_free(b);
}

Test(coinjoin, names)
{
    cr_assert_str_eq(btc_multiparty_name(BTC_MP_NONE), "none");
    cr_assert_str_eq(btc_multiparty_name(BTC_MP_WASABI1), "wasabi1");
    cr_assert_str_eq(btc_multiparty_name(BTC_MP_WASABI2), "wasabi2");
    cr_assert_str_eq(btc_multiparty_name(BTC_MP_WHIRLPOOL), "whirlpool");
    cr_assert_str_eq(btc_multiparty_name(BTC_MP_JOINMARKET), "joinmarket");
    cr_assert_str_eq(btc_multiparty_name(BTC_MP_EQUAL_OUTPUTS), "equal_outputs");
    cr_assert_str_eq(btc_multiparty_name(BTC_MP_PAYJOIN), "payjoin");
    cr_assert_str_eq(btc_multiparty_name((btc_multiparty)99), "unknown");
}

/* ---------- every tx of real blocks ---------- */

/* Outputs of earlier txs of the same block, so in-block spends resolve as
 * the prevout index would resolve them. */
typedef struct {
    uint8_t txid[32];
    uint32_t n;
    uint64_t value;
    cw_addr addr;
} prevout;

typedef struct {
    prevout *outs;
    size_t n_outs, cap;
    size_t kinds[8];        /* by default */
    size_t guarded[8];      /* with BTC_MP_PAYJOIN_GUARD: what every tx was before it was opt-in */
    size_t txs, resolved_inputs;
    char first[8][65]; /* the first txid of each kind */
    char first_guarded[8][65];
} block_ctx;

static cw_code classify(void *vctx, cw_tx *tx, cw_err *err)
{
    (void)err;
    block_ctx *c = vctx;
    for (size_t i = 0; i < tx->n_in; i++)
        for (size_t j = 0; j < c->n_outs; j++)
            if (c->outs[j].n == tx->in[i].prev_vout && memcmp(c->outs[j].txid, tx->in[i].prev_txid, 32) == 0) {
                tx->in[i].resolved = true;
                tx->in[i].value = c->outs[j].value;
                tx->in[i].addr = c->outs[j].addr;
                c->resolved_inputs++;
                break;
            }
    char why[BTC_MP_WHY_MAX];
    btc_multiparty k = btc_multiparty_detect(tx, why, sizeof why);
    cr_assert_lt((int)k, 8);
    cr_assert_neq(k, BTC_MP_PAYJOIN);
    if (c->kinds[k]++ == 0)
        cw_hex_encode_rev(tx->txid, 32, c->first[k]);
    btc_multiparty g = btc_multiparty_detect_opts(tx, BTC_MP_PAYJOIN_GUARD, why, sizeof why);
    cr_assert(g == k || (k == BTC_MP_NONE && g == BTC_MP_PAYJOIN), "the guard only adds PayJoin");
    if (c->guarded[g]++ == 0)
        cw_hex_encode_rev(tx->txid, 32, c->first_guarded[g]);
    c->txs++;
    for (size_t i = 0; i < tx->n_out; i++) {
        if (c->n_outs == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 4096;
            c->outs = realloc(c->outs, c->cap * sizeof *c->outs);
        }
        prevout *p = &c->outs[c->n_outs++];
        memcpy(p->txid, tx->txid, 32);
        p->n = (uint32_t)i;
        p->value = tx->out[i].value;
        p->addr = tx->out[i].addr;
    }
    return CW_OK;
}

/* Every tx of a file: one raw block, or framed records (blk*.dat) read in
 * order, spends of earlier blocks of the same file resolved too. */
static block_ctx classify_block(const char *file)
{
    size_t n;
    uint8_t *b = fixture(file, &n);
    block_walker w = {0};
    block_summary s;
    block_ctx c = {0};
    cw_err err = {0};
    if (!btc_blk_is_framed(b, n)) {
        cr_assert_eq(decode_block_walk(&w, b, n, CW_NET_MAIN, classify, &c, &s, &err), CW_OK, "%s", err.msg);
    } else {
        size_t pos = 0;
        for (;;) {
            cw_net net;
            cw_span blk;
            bool done;
            cr_assert_eq(btc_blk_next(b, n, &pos, &net, &blk, &done, &err), CW_OK, "%s", err.msg);
            if (done)
                break;
            cr_assert_eq(decode_block_walk(&w, blk.p, blk.n, net, classify, &c, &s, &err), CW_OK, "%s", err.msg);
        }
    }
    block_walker_free(&w);
    free(c.outs);
    free(b);
    return c;
}

/* Exact counts by kind over every tx of the real blocks of ../shared/data,
 * with spends of earlier outputs of the same file resolved (the only
 * prevouts these files hold), by default and with the PayJoin guard. */
typedef struct {
    const char *file;
    size_t txs, resolved, joinmarket;
} block_expect;

Test(coinjoin, real_blocks_by_kind)
{
    const block_expect want[] = {
        {BLOCK_514485, 2165, 232, 0},
        /* a23570534b8f...: the one join of these files (hand-checked: 9
         * inputs from 9 distinct P2SH addresses; 12 outputs, 6 of exactly
         * 0.1 BTC to 6 distinct addresses and 6 of unique values: each
         * participant's equal output and change, n_out = 2k, no
         * coordinator fee: JoinMarket's shape) */
        {BLOCK_514492, 1044, 126, 1},
        {BLOCK_540107, 230, 35, 0},
        {"btc/277647.dat.bz2", 213, 62, 0},
        {"btc/blocks1-256.bz2", 262, 7, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        block_ctx c = classify_block(want[i].file);
        cr_assert_eq(c.txs, want[i].txs, "%s", want[i].file);
        cr_assert_eq(c.resolved_inputs, want[i].resolved, "%s: in-file spends resolved: %zu", want[i].file,
                     c.resolved_inputs);
        cr_assert_eq(c.kinds[BTC_MP_JOINMARKET], want[i].joinmarket, "%s", want[i].file);
        cr_assert_eq(c.kinds[BTC_MP_NONE], want[i].txs - want[i].joinmarket, "%s", want[i].file);
        /* the guard finds nothing more here: it needs every input's value,
         * and no 2-output tx of these files has all its prevouts in-file */
        for (int k = 0; k < 8; k++)
            cr_assert_eq(c.guarded[k], c.kinds[k], "%s: %s with the guard (first %s)", want[i].file,
                         btc_multiparty_name((btc_multiparty)k), c.first_guarded[k]);
        if (want[i].joinmarket)
            cr_assert_str_eq(c.first[BTC_MP_JOINMARKET],
                             "a23570534b8f31f3fd946b3b4e0d54c0f07ef61fe44aa5a7e35f37e4a14ed229");
    }
}

/* ---------- real joins from public fixtures ---------- */

/* A tx given as its prevouts (value, scriptPubKey hex) and outputs. */
typedef struct {
    uint64_t value;
    const char *script;
} coin_hex;

static txb *txb_from(const coin_hex *in, size_t n_in, const coin_hex *out, size_t n_out)
{
    txb *b = txb_new(n_in, n_out);
    for (size_t i = 0; i < n_in + n_out; i++) {
        const coin_hex *c = i < n_in ? &in[i] : &out[i - n_in];
        size_t len;
        uint8_t *script = unhex(c->script, &len);
        cw_addr a;
        cw_script_type t = btc_script_classify(script, len, CW_NET_MAIN, &a);
        free(script);
        cr_assert_neq(a.kind, CW_ADDR_NONE, "%s", c->script);
        if (i < n_in) {
            cw_txin *ti = in_unknown(b);
            ti->resolved = true;
            ti->value = c->value;
            ti->addr = a;
        } else {
            cw_txout *o = out_to(b, c->value, a.kind);
            o->type = t;
            o->addr = a;
        }
    }
    return b;
}

/* Mainnet 9cb79d566256bea130eb88ee0f12a85617bc166f17f49a2e8a6edd8365b94298
 * (block 867013), a JoinMarket join: its prevouts and outputs as the test
 * AcceptsMainnetJoinMarket9cb79d56 of crocs-muni/Dumplings lists them
 * (Dumplings.Tests/OtherCoinJoinDetectionTests.cs, commit a2b0b1fd; the
 * repository states no licence; these are facts of a public mainnet tx).
 * 13 inputs, 9 equal outputs of 0.01483226 BTC and 8 changes (the taker
 * swept: 2k - 1 outputs). */
static const coin_hex jm_9cb79d56_in[] = {
    {2411000, "0014f7a77d9545f6ecfb1ff20b6a63dd396a1f3e1afc"},
    {175813, "0014de4813e4ba6adc77d6ef216f84389d5d23ca06fe"},
    {7526469, "00141053643fc8e48cb827fa9befd6f7ad8fa6b6f7cb"},
    {7412750, "0014e4ef62ea364a30de83f94af2c35384a8015bf134"},
    {1498872, "001409c76d15068d8f6a46c3fd5f858df77cd5b72b39"},
    {1326535, "001451f118685610ab115c7eb3f8e4090d18234c6144"},
    {3468740, "001492e76f2f0e7e2485943d543896af56ce81e16c10"},
    {600000, "0014061e4c3bc95ce2fc16c969291eb74f684636c435"},
    {55896, "00140ae397be23c18308a2916d504e7a5a031554ee14"},
    {36372910, "00144ed58df5d9df4327a28856e33e5a63b4efc7c224"},
    {2423396, "0014d6716b3681a9be7591ddabcdf08f0cb17fff584f"},
    {700000, "0014770452eb67584d7d79d87ed0ee1354f4f35bae50"},
    {590707, "0014d5a62effca01bf5403603f0373eaec39025a7bc6"},
};
static const coin_hex jm_9cb79d56_out[] = {
    {1483226, "00149cf1b54e0b515053a1191b7c3794f068afcdb846"},
    {75085, "00146c10fcf687281fcddfb9403f2e2c2cf0c00ef54d"},
    {1483226, "0014084b604bc6f516e9131222022bec6e1d1356b40e"},
    {1483226, "001473551702c9dcb9c0fa7bde1c7519a6ad0d0dfd57"},
    {1483226, "00140250037f803e357971f734cf759edf31a25cf618"},
    {1985662, "001417cc786bfee9bfcc6802a6ee2b66ea943e3f1718"},
    {5931945, "00143feca0d5cec83934c9ee71210d15b91d6edf12ad"},
    {34889699, "00141766958d6a748e8aafa05d613f2518ea4902c848"},
    {1483226, "0014de773fe7e774712be2afce477b7d95c3e79fa025"},
    {1483226, "00144a3c200d450f9883ebe559427e7bf603105f6c4f"},
    {927921, "0014f882a970c2cc3226b4eaf48a5c9cf7c18d536d69"},
    {940198, "001439371599276e2b0d2b3ee754103e99aabc3a0046"},
    {1483226, "00149bada7e32bd09bccf6b47de1c57548d13ad6a49f"},
    {6043307, "00141370d2f8f22aac1605d69813cd8ac2334cd90b5b"},
    {1483226, "00144b5a2e83df007197e5b7b30e4029a424a0ea414c"},
    {1483226, "0014369ab7c5e949a3ac94d8570b449a90247edac6c7"},
    {407926, "0014f1d69147302d42e39b0c14e6df5fed437728c27e"},
};

/* Mainnet b61e05cee65742dfdc374fa08d9b07603d610f0e825813a8a5cc1a47c2ff2624
 * (block 733936), from the same file (RejectsMainnetTwoPartyB61e05ce): two
 * equal outputs only, not a join. */
static const coin_hex two_b61e05ce_in[] = {
    {257423, "00145b8154c451af4acabf666b3f98612d26085df119"},
    {271230, "0014b48d7cbb44e7405834f4615d80e360370ef12e70"},
};
static const coin_hex two_b61e05ce_out[] = {
    {4472, "00148b1fe55ea929b548b3989837f73e07d9c2f10164"},
    {18279, "00146da0ba0bbcf493f24f2a41318f49d4b5ffd09e7c"},
    {252323, "001459235d73c8e24956592ef3c6e348838e44502847"},
    {252323, "0014f24ee014c1e2e491719dae9caea30ec47e4dfbd5"},
};

#define N(a) (sizeof a / sizeof *a)

Test(coinjoin, real_joinmarket_9cb79d56)
{
    txb *b = txb_from(jm_9cb79d56_in, N(jm_9cb79d56_in), jm_9cb79d56_out, N(jm_9cb79d56_out));
    char why[BTC_MP_WHY_MAX];
    cr_assert_eq(detect(b, why), BTC_MP_JOINMARKET, "%s", why);
    cr_assert_str_eq(why, "13 inputs, 9 equal outputs of 0.01483226 BTC and 8 change (JoinMarket)");
    cr_assert_eq(detect_guarded(b, why), BTC_MP_JOINMARKET, "%s", why);
    /* seen from the mempool, inputs unknown: the same answer */
    for (size_t i = 0; i < b->tx.n_in; i++)
        b->in[i].resolved = false;
    cr_assert_eq(detect(b, why), BTC_MP_JOINMARKET, "%s", why);
    txb_free(b);
}

Test(coinjoin, real_two_party_b61e05ce_is_not_a_join)
{
    txb *b = txb_from(two_b61e05ce_in, N(two_b61e05ce_in), two_b61e05ce_out, N(two_b61e05ce_out));
    char why[BTC_MP_WHY_MAX];
    cr_assert_eq(detect(b, why), BTC_MP_NONE, "%s", why);
    cr_assert_eq(detect_guarded(b, why), BTC_MP_NONE, "%s", why);
    txb_free(b);
}
