/*
 * gen_scenario.c: the payroll scenarios of gen_scenario.h. Actors hold
 * coins at one address each; events (payments, sweeps, pieces) sit in a
 * heap by time and become real txs (tests/chain_build.c) when their block
 * comes. Amounts are drawn in USD cents and paid in satoshis at the day's
 * price, which the price file then gives chainwatch. Deterministic for a
 * seed (the caller's generator).
 */
#include "gen_scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chains/addr.h"
#include "chains/bitcoin/script.h"
#include "chains/hash.h"

#define DAY 86400ull
#define FEE 1000
#define FUND (1000000000000ull) /* 10,000 BTC per paying actor: nothing checks supply */
/* Account mode: a paying actor's token balance (USD 1,000,000,000 in
 * 6-decimal units); a few hundred payers stay far below 2^64. */
#define FUND_UNITS (1000000000000000ull)
#define UNITS_PER_CENT 10000ull

typedef struct {
    cw_addr addr;
    cb_coin *coins;
    size_t n, cap;
    const char *role;
    int group;
    bool funded;
    bool external; /* an exchange or the facilitator: receives only */
    uint64_t units; /* account mode: token balance in base units */
} actor;

typedef enum { EV_PAY = 1, EV_SWEEP, EV_PIECE, EV_PARTIAL, EV_EXSWEEP } ev_kind;
enum { TAG_NONE = 0, TAG_TEST = 1 }; /* a tiny first payment (account plans name it) */

typedef struct {
    uint64_t time, seq;
    ev_kind kind;
    uint32_t from, to;   /* actors */
    uint64_t cents;      /* EV_PAY */
    uint32_t share;      /* EV_PIECE: pieces left incl. this one; EV_PARTIAL: ppm */
    uint32_t *batch;     /* EV_PAY batches: payees and cents follow */
    uint64_t *batch_cents;
    uint32_t n_batch;
    uint8_t tag; /* TAG_*: set from S.next_tag by push() */
} event;

static struct {
    scen_opts o;
    scen_rand_fn rnd;
    actor *a;
    size_t n, cap;
    event *h; /* min-heap by (time, seq) */
    size_t nh, caph;
    uint64_t seq;
    uint64_t *price_cents; /* per day from start */
    size_t days;
    uint32_t seed;
    cb_tx *txs;
    size_t ntx, captx;
    uint32_t *exch_actor; /* actor ids of the labelled exchanges */
    uint32_t facilitator;
    bool have_facilitator;
    uint8_t next_tag; /* the tag of the next push() (then back to TAG_NONE) */
    FILE *plan;       /* account mode: scen_write_plan's output while it runs */
    bool plan_err;
} S;

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL && n) {
        fputs("gen_scenario: out of memory\n", stderr);
        abort();
    }
    return q;
}

static uint64_t below(uint64_t n) { return n ? S.rnd() % n : 0; }
static uint64_t between(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }

static uint32_t actor_new(const char *role, int group, bool funded)
{
    if (S.n == S.cap) {
        S.cap = S.cap ? S.cap * 2 : 1024;
        S.a = xrealloc(S.a, S.cap * sizeof *S.a);
    }
    actor *x = &S.a[S.n];
    memset(x, 0, sizeof *x);
    /* seeds from 0x10000 up: the tests' hand-made addresses use small ones */
    if (S.o.account) { /* a 20-byte account: SHA-256("cwev" || seed), its first 20 bytes */
        uint8_t in[8] = {'c', 'w', 'e', 'v', (uint8_t)S.seed, (uint8_t)(S.seed >> 8), (uint8_t)(S.seed >> 16),
                         (uint8_t)(S.seed >> 24)}, h[32];
        cw_sha256(in, sizeof in, h);
        x->addr = (cw_addr){.chain = CW_CHAIN_EVM, .kind = CW_ADDR_EVM, .len = 20};
        memcpy(x->addr.payload, h, 20);
    } else
        x->addr = cb_addr_make(S.o.net, (S.seed & 3) == 3 ? CW_ADDR_P2TR : CW_ADDR_P2WPKH, 0x10000 + S.seed);
    S.seed++;
    x->role = role;
    x->group = group;
    x->funded = funded;
    return (uint32_t)S.n++;
}

static uint32_t actor_external(const cw_addr *a, const char *role)
{
    uint32_t id = actor_new(role, 0, false);
    S.a[id].addr = *a;
    S.a[id].external = true;
    return id;
}

static void coin_add(uint32_t id, cb_coin c)
{
    actor *x = &S.a[id];
    if (x->external)
        return;
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 8;
        x->coins = xrealloc(x->coins, x->cap * sizeof *x->coins);
    }
    x->coins[x->n++] = c;
}

static bool ev_less(const event *a, const event *b) { return a->time != b->time ? a->time < b->time : a->seq < b->seq; }

static void push(event e)
{
    e.tag = S.next_tag;
    S.next_tag = TAG_NONE;
    if (e.time >= S.o.end_time) { /* past the end: dropped, with a batch's lists */
        free(e.batch);
        free(e.batch_cents);
        return;
    }
    e.seq = S.seq++;
    if (S.nh == S.caph) {
        S.caph = S.caph ? S.caph * 2 : 4096;
        S.h = xrealloc(S.h, S.caph * sizeof *S.h);
    }
    size_t i = S.nh++;
    S.h[i] = e;
    while (i > 0 && ev_less(&S.h[i], &S.h[(i - 1) / 2])) {
        event t = S.h[i];
        S.h[i] = S.h[(i - 1) / 2];
        S.h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static event pop(void)
{
    event top = S.h[0];
    S.h[0] = S.h[--S.nh];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < S.nh && ev_less(&S.h[l], &S.h[m]))
            m = l;
        if (r < S.nh && ev_less(&S.h[r], &S.h[m]))
            m = r;
        if (m == i)
            break;
        event t = S.h[i];
        S.h[i] = S.h[m];
        S.h[m] = t;
        i = m;
    }
    return top;
}

static void pay(uint64_t when, uint32_t from, uint32_t to, uint64_t cents)
{
    push((event){.time = when, .kind = EV_PAY, .from = from, .to = to, .cents = cents});
}

static void pay_batch(uint64_t when, uint32_t from, const uint32_t *to, const uint64_t *cents, uint32_t n)
{
    event e = {.time = when, .kind = EV_PAY, .from = from, .n_batch = n};
    e.batch = xrealloc(NULL, n * sizeof *e.batch);
    e.batch_cents = xrealloc(NULL, n * sizeof *e.batch_cents);
    memcpy(e.batch, to, n * sizeof *to);
    memcpy(e.batch_cents, cents, n * sizeof *cents);
    push(e);
}

static uint64_t usd_between(uint64_t lo_usd, uint64_t hi_usd) { return between(lo_usd * 100, hi_usd * 100); }

/* log-uniform-ish: a few big invoices, many small ones */
static uint64_t usd_loguniform(uint64_t lo_usd, uint64_t hi_usd)
{
    uint64_t v = lo_usd * 100;
    uint64_t top = hi_usd * 100;
    while (v * 2 <= top && below(2))
        v *= 2;
    uint64_t hi = v * 2 < top ? v * 2 : top;
    return between(v, hi);
}

static uint64_t sats_of(uint64_t cents, uint64_t when)
{
    size_t d = (size_t)((when - S.o.start_time) / DAY);
    if (d >= S.days)
        d = S.days - 1;
    return (uint64_t)((unsigned __int128)cents * 100000000u / S.price_cents[d]);
}

void scen_init(const scen_opts *o, scen_rand_fn rnd)
{
    memset(&S, 0, sizeof S);
    S.o = *o;
    S.rnd = rnd;
    uint64_t span = o->end_time > o->start_time ? o->end_time - o->start_time : DAY;
    S.days = (size_t)(span / DAY) + 2;
    S.price_cents = xrealloc(NULL, S.days * sizeof *S.price_cents);
    uint64_t p = 4000000; /* USD 40,000.00, then a walk of up to 2% a day within 25k-70k */
    for (size_t d = 0; d < S.days; d++) {
        S.price_cents[d] = p;
        int64_t step = (int64_t)below(401) - 200; /* -2.00% .. +2.00% */
        p = (uint64_t)((int64_t)p + (int64_t)p * step / 10000);
        if (p < 2500000)
            p = 2500000;
        if (p > 7000000)
            p = 7000000;
    }
    S.exch_actor = xrealloc(NULL, (o->n_exchanges ? o->n_exchanges : 1) * sizeof *S.exch_actor);
    for (size_t i = 0; i < o->n_exchanges; i++)
        S.exch_actor[i] = actor_external(&o->exchanges[i], "exchange");
    if (o->facilitator) {
        S.facilitator = actor_external(o->facilitator, "facilitator");
        S.have_facilitator = true;
    }
    uint64_t t0 = o->start_time, t1 = o->end_time;
    const uint64_t month = 30 * DAY;
    /* ---- IT-worker networks ---- */
    for (unsigned k = 0; k < o->itw_networks; k++) {
        int g = (int)k + 1;
        uint32_t payout[9];
        for (int i = 0; i < 9; i++) /* the first three are shared by two personas each */
            payout[i] = actor_new(i < 3 ? "itw_shared_payout" : "itw_payout", g, false);
        uint32_t pool = actor_new("itw_consolidator", g, false);
        for (int r = 0; r < 12; r++) {
            uint32_t emp = actor_new("itw_employer", g, true);
            /* the employer is a real company: it pays two ordinary employees
             * monthly from the start, before it hires the worker */
            for (int k = 0; k < 2; k++) {
                uint32_t staff = actor_new("legit_employee", 0, false);
                uint64_t b = usd_between(3000, 7000);
                for (uint64_t w = t0 + between(1, 3) * DAY; w < t1; w += between(29, 31) * DAY)
                    pay(w, emp, staff, b);
            }
            uint32_t to = payout[r < 9 ? r : r - 9]; /* roles 9-11 share payouts 0-2 */
            uint64_t when = t0 + between(15, 70) * DAY + below(DAY);
            if (below(2)) {
                S.next_tag = TAG_TEST;
                pay(when - between(2, 10) * DAY, emp, to, usd_between(24, 636));
            }
            uint64_t base = usd_between(2000, 8000);
            for (; when < t1; when += (below(10) == 0 ? 2 : 1) * between(28, 35) * DAY) {
                uint64_t c = base * between(90, 110) / 100;
                pay(when, emp, to, c);
                push((event){.time = when + between(1, 5) * DAY + below(DAY), .kind = EV_SWEEP, .from = to, .to = pool});
            }
        }
        /* the pool moves on monthly, in pieces */
        for (uint64_t when = t0 + between(40, 60) * DAY; when < t1; when += month + below(5 * DAY)) {
            uint32_t pieces = (uint32_t)between(3, 6);
            bool to_facilitator = S.have_facilitator && (k % 2 == 0);
            for (uint32_t i = 0; i < pieces + to_facilitator; i++) {
                uint32_t dest = to_facilitator && i == pieces ? S.facilitator
                                                               : S.exch_actor[below(o->n_exchanges ? o->n_exchanges : 1)];
                push((event){.time = when + i * DAY + below(DAY / 2), .kind = EV_PIECE, .from = pool, .to = dest,
                             .share = pieces + to_facilitator - i});
            }
        }
    }
    /* ---- a payroll processor and its employees ---- */
    if (o->employees) {
        uint32_t proc = actor_new("legit_payer", 0, true);
        uint32_t hot = o->n_exchanges ? S.exch_actor[0] : actor_new("exchange", 0, false);
        uint32_t *emp = xrealloc(NULL, o->employees * sizeof *emp), *dep = xrealloc(NULL, o->employees * sizeof *dep);
        uint64_t *base = xrealloc(NULL, o->employees * sizeof *base), *c = xrealloc(NULL, o->employees * sizeof *c);
        bool *sweeps = xrealloc(NULL, o->employees * sizeof *sweeps);
        for (unsigned i = 0; i < o->employees; i++) {
            emp[i] = actor_new("legit_employee", 0, false);
            dep[i] = actor_new("exchange_deposit", 0, false);
            base[i] = usd_between(2000, 8000);
            sweeps[i] = below(10) < 7;
            if (below(10) == 0) {
                S.next_tag = TAG_TEST;
                pay(t0 + between(10, 20) * DAY, proc, emp[i], usd_between(24, 200));
            }
        }
        for (uint64_t when = t0 + 25 * DAY; when < t1; when += month) {
            for (unsigned i = 0; i < o->employees; i += 100) {
                uint32_t n = o->employees - i < 100 ? o->employees - i : 100;
                for (uint32_t k = 0; k < n; k++)
                    c[k] = base[i + k] * between(95, 105) / 100;
                pay_batch(when + i * 60, proc, emp + i, c, n);
            }
            for (unsigned i = 0; i < o->employees; i++) {
                uint64_t at = when + between(1, 7) * DAY + below(DAY);
                if (sweeps[i])
                    push((event){.time = at, .kind = EV_SWEEP, .from = emp[i], .to = dep[i]});
                else /* rent, shopping: a part of the pay, change kept */
                    push((event){.time = at, .kind = EV_PARTIAL, .from = emp[i],
                                 .to = S.exch_actor[below(o->n_exchanges ? o->n_exchanges : 1)],
                                 .share = (uint32_t)between(200000, 500000)});
            }
        }
        /* the exchange sweeps its deposit addresses weekly into its hot wallet */
        for (uint64_t when = t0 + 7 * DAY; when < t1; when += 7 * DAY)
            push((event){.time = when, .kind = EV_EXSWEEP, .to = hot});
        free(emp), free(dep), free(base), free(c), free(sweeps);
    }
    /* ---- freelancers and their clients ---- */
    if (o->freelancers) {
        uint32_t n_clients = o->freelancers * 3 + 10;
        uint32_t *client = xrealloc(NULL, n_clients * sizeof *client);
        for (uint32_t i = 0; i < n_clients; i++)
            client[i] = actor_new("legit_payer", 0, true);
        for (unsigned f = 0; f < o->freelancers; f++) {
            uint32_t fl = actor_new("legit_freelancer", 0, false);
            uint32_t dep = actor_new("exchange_deposit", 0, false);
            unsigned k = (unsigned)between(6, 12);
            for (unsigned j = 0; j < k; j++) {
                uint32_t cl = client[below(n_clients)];
                unsigned invoices = (unsigned)between(1, 3);
                for (unsigned v = 0; v < invoices; v++) {
                    uint64_t when = t0 + below(t1 - t0);
                    pay(when, cl, fl, usd_loguniform(300, 15000));
                    if (below(2))
                        push((event){.time = when + between(1, 10) * DAY, .kind = EV_SWEEP, .from = fl, .to = dep});
                }
            }
            if (below(5) == 0) { /* a retainer */
                uint32_t cl = client[below(n_clients)];
                uint64_t b = usd_between(2000, 6000);
                for (uint64_t when = t0 + between(0, 40) * DAY; when < t1; when += between(28, 33) * DAY)
                    pay(when, cl, fl, b);
            }
        }
        free(client);
    }
    /* ---- two DAOs and their contributors ---- */
    if (o->contributors) {
        uint32_t dao[2] = {actor_new("legit_payer", 0, true), actor_new("legit_payer", 0, true)};
        uint32_t *con = xrealloc(NULL, o->contributors * sizeof *con);
        uint64_t *base = xrealloc(NULL, o->contributors * sizeof *base), *c = xrealloc(NULL, o->contributors * sizeof *c);
        uint32_t *both = xrealloc(NULL, o->contributors * sizeof *both);
        uint32_t n_both = 0;
        for (unsigned i = 0; i < o->contributors; i++) {
            con[i] = actor_new("legit_contributor", 0, false);
            base[i] = usd_between(1500, 10000);
            if (below(10) == 0)
                both[n_both++] = i;
        }
        for (uint64_t when = t0 + 3 * DAY; when < t1; when += month) {
            for (unsigned i = 0; i < o->contributors; i++)
                c[i] = base[i];
            pay_batch(when, dao[0], con, c, o->contributors);
            uint32_t *ids = xrealloc(NULL, (n_both ? n_both : 1) * sizeof *ids);
            for (uint32_t i = 0; i < n_both; i++)
                ids[i] = con[both[i]], c[i] = usd_between(1500, 4000);
            if (n_both)
                pay_batch(when + 12 * DAY, dao[1], ids, c, n_both);
            free(ids);
            for (unsigned i = 0; i < o->contributors; i++)
                if (below(2))
                    push((event){.time = when + between(2, 9) * DAY, .kind = EV_PARTIAL, .from = con[i],
                                 .to = S.exch_actor[below(o->n_exchanges ? o->n_exchanges : 1)],
                                 .share = (uint32_t)between(300000, 900000)});
        }
        free(con), free(base), free(c), free(both);
    }
}

size_t scen_funding(cb_output **out)
{
    size_t n = 0;
    for (size_t i = 0; i < S.n; i++)
        n += S.a[i].funded;
    *out = xrealloc(NULL, (n ? n : 1) * sizeof **out);
    size_t k = 0;
    for (size_t i = 0; i < S.n; i++)
        if (S.a[i].funded) {
            (*out)[k].value = FUND;
            (*out)[k].script_len = btc_script_for_addr(&S.a[i].addr, (*out)[k].script);
            k++;
        }
    return n;
}

void scen_funded(const uint8_t coinbase_txid[32], uint32_t first_vout)
{
    uint32_t v = first_vout;
    for (size_t i = 0; i < S.n; i++)
        if (S.a[i].funded) {
            cb_coin c;
            memcpy(c.txid, coinbase_txid, 32);
            c.vout = v++;
            c.value = FUND;
            c.addr = S.a[i].addr;
            coin_add((uint32_t)i, c);
        }
}

static cb_tx *next_tx(void)
{
    if (S.ntx == S.captx) {
        size_t cap = S.captx ? S.captx * 2 : 64;
        S.txs = xrealloc(S.txs, cap * sizeof *S.txs);
        for (size_t i = S.captx; i < cap; i++)
            S.txs[i] = (cb_tx)CB_TX_INIT;
        S.captx = cap;
    }
    return &S.txs[S.ntx++];
}

static uint64_t balance(const actor *x)
{
    uint64_t v = 0;
    for (size_t i = 0; i < x->n; i++)
        v += x->coins[i].value;
    return v;
}

/* Spends all of from's coins to pays (and change back to from when
 * change > 0); the new coins go to their actors. */
static void emit(uint32_t from, const uint32_t *to, const uint64_t *val, size_t n, uint64_t change)
{
    actor *x = &S.a[from];
    cb_pay *pays = xrealloc(NULL, (n + 1) * sizeof *pays);
    for (size_t i = 0; i < n; i++)
        pays[i] = (cb_pay){S.a[to[i]].addr, val[i]};
    if (change)
        pays[n] = (cb_pay){x->addr, change};
    cb_tx *t = next_tx();
    cb_tx_pay(t, x->coins, x->n, pays, n + (change > 0));
    x->n = 0;
    for (size_t i = 0; i < n; i++)
        coin_add(to[i], cb_tx_coin(t, (uint32_t)i));
    if (change)
        coin_add(from, cb_tx_coin(t, (uint32_t)n));
    free(pays);
}

static void run_event(event *e)
{
    actor *x = &S.a[e->from];
    uint64_t bal = balance(x);
    switch (e->kind) {
    case EV_PAY: {
        uint32_t n = e->n_batch ? e->n_batch : 1;
        uint32_t *to = e->n_batch ? e->batch : &e->to;
        uint64_t *v = xrealloc(NULL, n * sizeof *v), total = 0;
        for (uint32_t i = 0; i < n; i++) {
            v[i] = sats_of(e->n_batch ? e->batch_cents[i] : e->cents, e->time);
            total += v[i];
        }
        if (x->n && bal > total + FEE)
            emit(e->from, to, v, n, bal - total - FEE);
        free(v);
        break;
    }
    case EV_SWEEP:
        if (x->n && bal > FEE * 2)
            emit(e->from, &e->to, (uint64_t[]){bal - FEE}, 1, 0);
        break;
    case EV_PIECE: {
        if (!x->n || bal <= FEE * 2)
            break;
        uint64_t piece = e->share <= 1 ? bal - FEE : (bal - FEE) / e->share;
        emit(e->from, &e->to, &piece, 1, bal - FEE - piece);
        break;
    }
    case EV_PARTIAL: {
        if (!x->n || bal <= FEE * 2)
            break;
        uint64_t part = (uint64_t)((unsigned __int128)(bal - FEE) * e->share / 1000000);
        if (part == 0 || part >= bal - FEE)
            break;
        emit(e->from, &e->to, &part, 1, bal - FEE - part);
        break;
    }
    case EV_EXSWEEP: {
        /* every deposit address with coins, 50 inputs a tx, into the hot wallet */
        cb_coin in[50];
        size_t k = 0;
        uint64_t v = 0;
        for (size_t i = 0; i <= S.n; i++) {
            actor *d = i < S.n && strcmp(S.a[i].role, "exchange_deposit") == 0 ? &S.a[i] : NULL;
            size_t take = d ? (d->n < 50 ? d->n : 50) : 0;
            if (k > 0 && (i == S.n || k + take > 50)) {
                cb_tx *t = next_tx();
                cb_pay p = {S.a[e->to].addr, v > FEE ? v - FEE : v};
                cb_tx_pay(t, in, k, &p, 1);
                k = 0, v = 0;
            }
            for (size_t c = 0; c < take; c++) {
                in[k++] = d->coins[c];
                v += d->coins[c].value;
            }
            if (d && take) {
                memmove(d->coins, d->coins + take, (d->n - take) * sizeof *d->coins);
                d->n -= take;
            }
        }
        break;
    }
    }
    free(e->batch);
    free(e->batch_cents);
}

/* ---- account mode: the same events as token transfers ---- */

static const char *const ev_name[] = {[EV_PAY] = "pay", [EV_SWEEP] = "sweep", [EV_PIECE] = "piece",
                                      [EV_PARTIAL] = "partial", [EV_EXSWEEP] = "exsweep"};

static void plan_transfer(uint64_t when, uint32_t from, uint32_t to, uint64_t units, const char *kind)
{
    S.a[from].units -= units;
    S.a[to].units += units;
    if (fprintf(S.plan, "pay,%llu,%u,%u,%llu,%s\n", (unsigned long long)when, from, to, (unsigned long long)units,
                kind) < 0)
        S.plan_err = true;
}

/* What run_event does with coins, done with balances: a payment needs the
 * payer to hold it all (funded payers always do), a sweep moves the whole
 * balance, a piece its share, a partial payment its ppm of the balance. */
static void run_event_account(event *e)
{
    actor *x = &S.a[e->from];
    const char *kind = e->tag == TAG_TEST ? "test" : ev_name[e->kind];
    switch (e->kind) {
    case EV_PAY: {
        uint32_t n = e->n_batch ? e->n_batch : 1;
        uint64_t total = 0;
        for (uint32_t i = 0; i < n; i++)
            total += (e->n_batch ? e->batch_cents[i] : e->cents) * UNITS_PER_CENT;
        if (x->units < total)
            break;
        for (uint32_t i = 0; i < n; i++)
            plan_transfer(e->time, e->from, e->n_batch ? e->batch[i] : e->to,
                          (e->n_batch ? e->batch_cents[i] : e->cents) * UNITS_PER_CENT, kind);
        break;
    }
    case EV_SWEEP:
        if (x->units)
            plan_transfer(e->time, e->from, e->to, x->units, kind);
        break;
    case EV_PIECE:
        if (x->units)
            plan_transfer(e->time, e->from, e->to, e->share <= 1 ? x->units : x->units / e->share, kind);
        break;
    case EV_PARTIAL: {
        uint64_t part = (uint64_t)((unsigned __int128)x->units * e->share / 1000000);
        if (part && part < x->units)
            plan_transfer(e->time, e->from, e->to, part, kind);
        break;
    }
    case EV_EXSWEEP: /* every deposit address holding tokens, one transfer each, into the hot wallet */
        for (size_t i = 0; i < S.n; i++)
            if (S.a[i].units && strcmp(S.a[i].role, "exchange_deposit") == 0)
                plan_transfer(e->time, (uint32_t)i, e->to, S.a[i].units, kind);
        break;
    }
    free(e->batch);
    free(e->batch_cents);
}

int scen_write_plan(const char *path)
{
    S.plan = fopen(path, "w");
    if (S.plan == NULL)
        return -1;
    S.plan_err = false;
    fprintf(S.plan, "# cw_genchain account plan v1: amounts in token base units (6 decimals, USD 1 = 1000000)\n");
    fprintf(S.plan, "# actor,ID,ADDRESS,ROLE,GROUP,FUNDED_UNITS | pay,UNIX_TIME,FROM_ID,TO_ID,UNITS,KIND | "
                    "balance,ID,UNITS (each actor's balance at the end)\n");
    for (size_t i = 0; i < S.n; i++) {
        char t[CW_ADDR_TEXT_MAX];
        cw_addr_format(&S.a[i].addr, t, sizeof t);
        S.a[i].units = S.a[i].funded ? FUND_UNITS : 0;
        fprintf(S.plan, "actor,%zu,%s,%s,%d,%llu\n", i, t, S.a[i].role, S.a[i].group,
                (unsigned long long)S.a[i].units);
    }
    while (S.nh) {
        event e = pop();
        run_event_account(&e);
    }
    for (size_t i = 0; i < S.n; i++)
        fprintf(S.plan, "balance,%zu,%llu\n", i, (unsigned long long)S.a[i].units);
    bool bad = S.plan_err || ferror(S.plan);
    if (fclose(S.plan) != 0)
        bad = true;
    S.plan = NULL;
    return bad ? -1 : 0;
}

size_t scen_block(uint64_t t0, uint64_t t1, cb_tx **txs)
{
    (void)t0;
    S.ntx = 0;
    while (S.nh && S.h[0].time < t1) {
        event e = pop();
        run_event(&e);
    }
    *txs = S.txs;
    return S.ntx;
}

int scen_write_truth(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "address,role,group\n");
    for (size_t i = 0; i < S.n; i++) {
        char t[96];
        cw_addr_format(&S.a[i].addr, t, sizeof t);
        fprintf(f, "%s,%s,%d\n", t, S.a[i].role, S.a[i].group);
    }
    return fclose(f) == 0 ? 0 : -1;
}

int scen_write_prices(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "date,asset,usd\n");
    for (size_t d = 0; d < S.days; d++) {
        time_t t = (time_t)(S.o.start_time + d * DAY);
        struct tm tm;
        gmtime_r(&t, &tm);
        char day[16];
        strftime(day, sizeof day, "%Y-%m-%d", &tm);
        fprintf(f, "%s,BTC,%llu.%02llu\n", day, (unsigned long long)(S.price_cents[d] / 100),
                (unsigned long long)(S.price_cents[d] % 100));
    }
    return fclose(f) == 0 ? 0 : -1;
}

void scen_free(void)
{
    for (size_t i = 0; i < S.n; i++)
        free(S.a[i].coins);
    while (S.nh) {
        event e = pop();
        free(e.batch), free(e.batch_cents);
    }
    for (size_t i = 0; i < S.captx; i++)
        cb_tx_free(&S.txs[i]);
    free(S.txs), free(S.a), free(S.h), free(S.price_cents), free(S.exch_actor);
}
