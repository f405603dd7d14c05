/* Multi-party tx detection: hand-built txs of each published shape with
 * realistic values, the ordinary shapes that must stay BTC_MP_NONE, every
 * tx of the real mainnet blocks of ../shared/data, and real joins from
 * public test fixtures. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/bitcoin/blkfile.h"
#include "chains/bitcoin/coinjoin.h"
#include "chains/bitcoin/script.h"
#include "chains/bitcoin/tx.h"
#include "chains/hex.h"
#include "monitor/engine/decode.h"
#include "tests/support.h"

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

/* A real Whirlpool mix (0.01 BTC pool) with every prevout: the raw txs of
 * the test test_common_input_ownership in Safari-Chain/newt, src/lib.rs
 * (commit 1ccec495; the repository states no licence; these are public
 * mainnet txs, copied as facts). The mix spends two remixes (outputs of
 * the earlier mixes 0ab7cb30... and 7bafc86a...) and three premixes (Tx0
 * outputs of 6db2860f..., 76ede963..., 87095303..., each a pool value plus
 * a miner-fee share). */
static const char wp_mix_0ab7cb30[] =
    "01000000000105431e152d6bbb8999195dded08eaa2ffc2ca0deef50826348b023a88f4a3db1480300000000ffffffffe23fe51cf5ac"
    "ff1f97a2bfbb927edfeb23b09d8c171f84922048d7cfc8534e910200000000ffffffff44fee26fc02dc0de5feb7f3c8b0d9f5f394635"
    "476dffdeb8eb2f2f08f33e30a30400000000ffffffff982d8ab9d9ac013b48a0de70998c5a7d3408ff22511f114acd84687bb0adf9a3"
    "1600000000ffffffff38c096e1cf2a811d2648403e4a56ad25ce1080ab84a0acd9664d0b862b3461d08c00000000ffffffff0540420f"
    "00000000001600140da6910d6b26915be0805efabf3d50d8358e282340420f00000000001600140ebbbc724902c4ff5479c900c5b13d"
    "b4b7cc11bf40420f000000000016001420e96bcc789179721fbbb319300b4ecd2941fbca40420f00000000001600143ba605de380d5a"
    "4fb5ce5fbf287c87be380d864440420f0000000000160014a998e07e4c768916fb80a1c50e124653b1ccbf4a02483045022100b63f9d"
    "50edef3f70eb06a60d4a3b22d28399595f5a6bd0c74d3b7b106f942fd802206cf3db9654c5fe1b8b93de2daddab712510667e258fee7"
    "1303bfb80d872441440121035ad05ccb684a855fe181a0675650297ab79e7e7171cc03b92fabf7b8d4b3959402483045022100833b18"
    "451e722f6d0e53d05699945a6db095fa92f60300a0bfb5cb85cd9a2a3402207dbb0e13fafe7c056e23e811ae79d55e2fcae851ec576b"
    "b06277ff92d22c71c0012103f4b03d582cd5699248a80af269fcc645ecc26becc761842230cac3d8413c51720247304402204324ef15"
    "21394e17c42eb4959c758d77e8336156de7ae321fb56a54c8ee57f4a02205c37b555f38e9b0d7cff9198165710fd2d59d0fe4520890e"
    "5342ea59a79acf56012102e4c8ca32d3e6f4abfe004f658a67f9f300b9c2d116e1fa291247e548d0bc4fca024730440220268432a70b"
    "8606852a9eec07b8fb2e0740b2d2d844eae80716ccfdbcda7e5dcf022043f073329f2ac9a96c39d122e183d4b04893389f5dfb702b02"
    "6008ae4c4e780a012102f8b45b34ba6d73dce62d415e13e61afa34253d3d921097b1542935e8a7bc6fe302473044022033deefc1f7b5"
    "6c41c62ce27f76a6032de917559c0d5889520d548adbbaa40ed3022007bf86f5d2701fcce5ba26097dd8cdf6c49f2b80e09233047ec6"
    "afa7e163eccd01210363cbd09fadc91fae0c0a9fad9d18ceb1c7413dcb70969fe34f04f929a1f645ff00000000";

static const char wp_tx0_6db2860f[] =
    "0100000000010192b209f003d203f9e72756963b95b762b4cfb788d99fbde6b1501bb56fbcfd9e0000000000ffffffff090000000000"
    "000000426a4057de40bbc4e3661114c519797a86b605c961f0cec568fa7597f1641c7723bdf72522df8a645abb001d24d6b979478ca3"
    "9816243bb9fb8e3cb79d6a715dbb176050c300000000000016001478fca19ac504d63def5e15fdfa1b00c06b3186e255300300000000"
    "00160014ccd968ddb97952054cb0b0104d13e628f7358d9557490f000000000016001409adf657d5afe006f1697ef94a126746657ab9"
    "c057490f00000000001600143def4094b95655be042bae91c7057dd3267d62bd57490f00000000001600145c5a8407eb9994bffce72e"
    "c8b5fc2db1a877337c57490f00000000001600149025bd5e7ff9065440dd657f697d365e7b4bb4ca57490f00000000001600149bc0f8"
    "169f359f8d44dc554c48fa07623f38351e57490f0000000000160014bdf1c85ad9148974b91188653e087e73f2d5ef46024730440220"
    "70ac382afc2bd5dfe636dbe2d047725978bd2d2fc37677acb26b750ededcaed80220228ec67071d293f9046aae41a0890d027dcf5ce0"
    "727c1a8f2a1d40b027183a7d012102e0ba24e121fb45163cc570eb1e2ff648e6accceb1de92c8826b22ffe0979dce200000000";

static const char wp_tx0_76ede963[] =
    "010000000001031081d69b995f1f97bacdf50ed2b4c6ba4afce36273c4ba53814fe0c3a2921407340000006a473044022000cf525ba3"
    "4c3cc5df7259bde4aba148e64259f49fbd2d73268e6ca0087eee9c02204f39cc780a3f520d5a1ce2dc58551af2b63a980d3fd4c5e86d"
    "185670e200952e012102c1eb8406911d5d72e5f234ae0725144f21398b3c9f9956fc72f1ca45b209151afffffffff7833b6d036c05c8"
    "a666391d493c4817d0b3e910074d42e0ea3cce618e706f410000000000ffffffff245d59e95e77114c237259e85a187ebae062bab369"
    "70b856f7b32df6784c51430100000000ffffffff110000000000000000426a4030b086f664c1467e9dba4573ddffd3309486dc3ac6f3"
    "d6a81135f3930cd4ff641897c32d06bdd10d7048c41b2343002af2a9c024d7b3b327a534cb8f5ee603f450c300000000000016001452"
    "86b9c60138b902727ff20ccf6548c11568f0fbb190050000000000160014753cfea5cc01d9579d73c100558837466d246b8228480f00"
    "0000000016001423a652f02eb7af96d54fca33170e675cd1ab28df28480f000000000016001423bec0fb6bfb41aa8452e0ec12122cc1"
    "de293c4628480f000000000016001424eebb26fd4cb1775b8b7295f838740f4b207eda28480f000000000016001429a8d862a8f41708"
    "64d5de9f0e156f35442dc0dc28480f00000000001600143695d8823eb5f9ac8cb00dd59f4db7d286455f7928480f0000000000160014"
    "59478018a428a6104d23578c5261dd160cb07b1d28480f000000000016001460137dfcad3cc2fdf5ffd90309dab2fde5349f2528480f"
    "0000000000160014663c3207bbf527e7dc1dd8d0053917dbf3bc65e228480f00000000001600146e8eff9c029006d26f1378e1855681"
    "d1b0b44f0e28480f000000000016001472540586c8a5f25869705b384b0ed85f9108094528480f000000000016001483e4d6828b634f"
    "694cfc49e3ed1c694f7781f37628480f0000000000160014a3be255bbbb996f582f136621d093bb290651c3928480f00000000001600"
    "14c3b0b0ec229082d1e549e6b44bf52fc5c783b42e28480f0000000000160014e48c746dcf75801c4cb32df41f1189aff60621f30002"
    "483045022100b9589ca25bad58f017661ebdd7bf53039b5b97bfa2fcf561ff1cf9f2bbbb44c202205e45772b268a33dcafec5d1d13c6"
    "83a7b61f5b1aa54c2e8f6943bb620e5e476401210240daa3096f01381ce2804bc87cdd61f274ad9f16d6d49aa495dedd574c24b18102"
    "4730440220101c2605be3d60a39682e16e50b10aabec39391a5f192af9dbcb1842a04f2ce902200ab7e9427b4d1839ee44f713d511ba"
    "8c47eb57a5ed6b99275004baf682539fc50121024e2252d10a0ada99b6c49c39735e0b8760c62e55b2a843a934813cfde97af6470000"
    "0000";

static const char wp_mix_7bafc86a[] =
    "01000000000105a63ab0aa7b35a4100a70a4bd055a7f22f09e2208d4fbcbe2d7ea4135009357180400000000ffffffffa773ce7f00e9"
    "ccfb6cf7c0c2f8af5f57a2078e4ebbdd057634121e400fab5c250400000000ffffffff022a63a18a20b6df21da4dcab91c721eaf7bd7"
    "ce3b863acf8041c351f99476a50000000000ffffffff00bbeceb2ad18849f7f81f44a4e681e03091198d672a9d667cddbcd3fbbc73b0"
    "0200000000ffffffffefec194c1cf5ee4d4405851a963710887da504463c04b1fd5b6d4257d7294bb70600000000ffffffff0540420f"
    "00000000001600142335a77e481b083ee6dc96c7b3a66df842bff08b40420f00000000001600145ff469b1b935f1b6770f4da6449994"
    "2027216f0340420f00000000001600147496b5b19011ec9a184072fbd925b91a203dcbea40420f0000000000160014ab07696bf78c46"
    "f5364ea2b10cd19b6da7ef346e40420f0000000000160014bd0c488616a1ef28c76fda0aa8a9f100f3a9eca702473044022024d8641e"
    "ca58c60016b610ca6beb6f4402abe33a8b8db944e18a523c2b0ff57f0220022da6730262c380d7441ea8585098dba76efbdcbee2b1fc"
    "f5b8d06139bf995e0121025f10beb134d2d6ea2b7d73bc739f3e71adef202ef2cb8218771712819bc2c7f20247304402203d3641686a"
    "30da1dab7d1b92cba7d2e6d2956a7a1062c312a73c490f7c1b4cf302207919eba6af8731b941e5a4bee459f487f8d493a6899e8ac6c5"
    "4ff9d34b438bab012103341da0d8542dbc8e1de9b5dbf7dbd052790c891c339a790a2cae3d3b92a1e3ec02483045022100d254738816"
    "ff902db174fbf3338ad998cac0793ee5be031e123dd5f0c635f08c02206def61dec9d95ea390bd16c9e7049ff74d05d8cbab6634877f"
    "54a12594aa014d01210368dea4147ca31431a4c68a85661f4f08c222cb4b7d65c57c694476efbbadbbe802483045022100d5349c628e"
    "5228560167d588e4865a1080a978d495f038e7b00ec8e5a5a5dc6a02201cac2ef74dbccf51efb9bab9321ea07e9b222876f084c711d2"
    "ddb8f6df303ec701210226c076ffbecc196412c018b4ba6941f1b92da0a10d5e8841059f94f98819b4480247304402206317bd0bc8bc"
    "f6f741f6e8dc46e3ac3228d86d4a741a825f5a5fd7c0b412e71702203acb635484ed6c4deafb13a57a8e4efa1e9bd50dac5ce2e2d7c8"
    "152a683c2afc012103607be345b9e8bb3a6d94ad12bfac23af849e123184fc970afbda77cb32ee17bc00000000";

static const char wp_tx0_87095303[] =
    "010000000001019a84949654b7b83c75675ac3bd026380fbaf9d90391057f53b3043b6a10a635d0000000000ffffffff040000000000"
    "000000426a409f51dfdf7584cb3971cd17406537ea739a9a1ba4f57e5600f4e447210b5a6362eb6582204a61650ebe1fa83168d5dbc4"
    "720d4bc615bc3719b993f125e3df4ad0d535000000000000160014ac930a7c44a628cf909273b0d401a6bc61294eaf50c30000000000"
    "00160014240272cad422987ece94e5d3e7946a50be4f06101a680f00000000001600147b6b4d27cbb1f328b2d2393dd78fb3c1a97e85"
    "f7024730440220484180d13b6237a9b5313cb6f0f317953870926692eb5c18215dd71a67e24d0f02206d2807b48d8680705a56637dd5"
    "a653ed0170dcb6088fa4b5bab18eac7be1815701210376fbcd19eb2ccca98e781453c6c15651cb8f293c21de1b8dfdf68a0531990ee1"
    "00000000";

/* 00601af905bede31086d9b1b79ee8399bd60c97e9c5bba197bdebeee028b9bea: the mix */
static const char wp_mix_curr[] =
    "01000000000105f1ecbda8223b6cc28bd37f417f43fd8fa462dfede0e6385a18d5ffa430cbb70a0400000000ffffffff0c7b737926e5"
    "a21ceec19d20a630b80eb10e7e382efda4544e6ad1730f86b26d0300000000ffffffff679aafd80a2fc306a23d7c1a9bb0cf0d4d4c94"
    "d88f79243e8232d7b063e9ed760900000000ffffffffe30fa68d80a9533e843132ca2b8f6de641cbdb110d60e92a3add2ce96ac8af7b"
    "0100000000ffffffffae66da81e04dd25798394fb93161b9837e69034390a260df2d2959bc035309870300000000ffffffff0540420f"
    "000000000016001407539ac33dfcf782804085a13be4041a944cff1640420f00000000001600142de3d3be2b2cd8b00da7c9e46b645d"
    "b3c136679d40420f00000000001600144668edd866cf4d9e1cd137c367b7c3f85158d21640420f00000000001600147f6f0faa9ad593"
    "e2ab53e3c889c69e19a36eef5d40420f0000000000160014e8abfe7ccf2048fbd7611b4b325557ac55708ece02483045022100c23d6b"
    "f44eb2589eca610268dc8f8f243dc8a6870d8ae1718c4f05210943d69a022064fd5ab81fb9dd831e3c4834787a8a8f06a5573f8f43b3"
    "12ac8080877f8372850121023a21e68d0fa1c4ba8888f02ee40e8a9935d95a744c3d40d7f2d9f99a879be0f202483045022100dd7793"
    "41477ef8581495bf937893c70890b0ebb3d02af796e57020fd64d1b33c0220268551e07d0fa2187d715a918a0784d9cc5cb0cdcae761"
    "25e48486af39b5ec59012103cccd7c5db03f9487f54c79fc379900238e2d55cd168585739a0423b308705c0202483045022100f78292"
    "3ca6a3be8ddd5d6a3cd0a20df3d852b5edac5f5764c23156f509faa258022054d3b363a6a4582974e71ba6bd514236b5057b9fd4ca28"
    "94e0406e62fbeac9f1012102dd008796933c9d52f97a602338224b78ad1b1f82c62d56765869e11379817a9e02483045022100d7a255"
    "b4ff94d5f18851561f8ea79db3be6d076cd3e975e610f17e943484cb0e02205ee4e8f4aefe09bf40c34d8a9fe3a66b35148ab322a63e"
    "e0b34e168e3723f1c601210367b386171c9ccd683ef16b226f6ca4a8327f6f67027851013e05c6ffcf06531202473044022076cd0cc2"
    "31afce90ce6ef1b716d273d215d37dc69aa1b6201af02f326f22f6cf02206a1ca8909a0649a7addf63f73c4c405abc7fc8f4b381828d"
    "78185bd83ecbdd590121023c899fd40d457014ecd3b1cedb10c48f545b81304e17bc0c9888756e105aa5a700000000";

typedef struct {
    uint8_t *buf;
    cw_arena arena;
    cw_tx tx;
    char txid[65];
} parsed_tx;

static void parse_tx_hex(const char *hex, parsed_tx *p)
{
    size_t n;
    p->buf = unhex(hex, &n);
    p->arena = test_arena(n);
    cw_err err = {0};
    cr_assert_eq(btc_tx_parse(p->buf, n, NULL, CW_NET_MAIN, &p->arena, &p->tx, &err), CW_OK, "%s", err.msg);
    cw_hex_encode_rev(p->tx.txid, 32, p->txid);
}

static void parsed_free(parsed_tx *p)
{
    free(p->arena.base);
    free(p->buf);
}

Test(coinjoin, real_whirlpool_mix_with_its_prevouts)
{
    const char *prev_hex[] = {wp_mix_0ab7cb30, wp_tx0_6db2860f, wp_tx0_76ede963, wp_mix_7bafc86a, wp_tx0_87095303};
    const char *prev_id[] = {"0ab7cb30a4ffd5185a38e6e0eddf62a48ffd437f417fd38bc26c3b22a8bdecf1",
                             "6db2860f73d16a4e54a4fd2e387e0eb10eb830a6209dc1ee1ca2e52679737b0c",
                             "76ede963b0d732823e24798fd8944c4d0dcfb09b1a7c3da206c32f0ad8af9a67",
                             "7bafc86ae92cdd3a2ae9600d11dbcb41e66d8f2bca3231843e53a9808da60fe3",
                             "87095303bc59292ddf60a2904303697e83b96131b94f399857d24de081da66ae"};
    /* the earlier mixes are mixes; a Tx0 (one owner splitting a coin into
     * premixes, with an OP_RETURN and a pool fee) is not a join */
    const btc_multiparty prev_kind[] = {BTC_MP_WHIRLPOOL, BTC_MP_NONE, BTC_MP_NONE, BTC_MP_WHIRLPOOL, BTC_MP_NONE};
    parsed_tx prev[5], mix;
    char why[BTC_MP_WHY_MAX];
    for (int i = 0; i < 5; i++) {
        parse_tx_hex(prev_hex[i], &prev[i]);
        cr_assert_str_eq(prev[i].txid, prev_id[i]);
        btc_multiparty k = btc_multiparty_detect(&prev[i].tx, why, sizeof why);
        cr_assert_eq(k, prev_kind[i], "%s: %s (%s)", prev_id[i], btc_multiparty_name(k), why);
        cr_assert_eq(btc_multiparty_detect_opts(&prev[i].tx, BTC_MP_PAYJOIN_GUARD, why, sizeof why), prev_kind[i]);
    }
    parse_tx_hex(wp_mix_curr, &mix);
    cr_assert_str_eq(mix.txid, "00601af905bede31086d9b1b79ee8399bd60c97e9c5bba197bdebeee028b9bea");
    cr_assert_eq(btc_multiparty_detect(&mix.tx, why, sizeof why), BTC_MP_WHIRLPOOL, "unresolved: %s", why);
    /* every input resolved from its prevout, as the prevout index would */
    size_t remixes = 0;
    for (size_t i = 0; i < mix.tx.n_in; i++) {
        cw_txin *in = &mix.tx.in[i];
        for (int p = 0; p < 5 && !in->resolved; p++)
            if (memcmp(prev[p].tx.txid, in->prev_txid, 32) == 0) {
                cr_assert_lt(in->prev_vout, prev[p].tx.n_out);
                in->resolved = true;
                in->value = prev[p].tx.out[in->prev_vout].value;
                in->addr = prev[p].tx.out[in->prev_vout].addr;
            }
        cr_assert(in->resolved, "input %zu: its prevout is one of the five", i);
        remixes += in->value == 1000000;
    }
    cr_assert_eq(remixes, 2);
    cr_assert_eq(btc_multiparty_detect(&mix.tx, why, sizeof why), BTC_MP_WHIRLPOOL, "%s", why);
    cr_assert_str_eq(why, "5 inputs, 5 equal outputs of 0.01 BTC (Whirlpool pool)");
    cr_assert_eq(btc_multiparty_detect_opts(&mix.tx, BTC_MP_PAYJOIN_GUARD, why, sizeof why), BTC_MP_WHIRLPOOL);
    /* a premix carrying more than the largest miner-fee share is no premix */
    for (size_t i = 0; i < mix.tx.n_in; i++)
        if (mix.tx.in[i].value != 1000000) {
            mix.tx.in[i].value = 1000000 + 110001;
            break;
        }
    cr_assert_neq(btc_multiparty_detect(&mix.tx, why, sizeof why), BTC_MP_WHIRLPOOL, "%s", why);
    for (int i = 0; i < 5; i++)
        parsed_free(&prev[i]);
    parsed_free(&mix);
}
