#include "rules_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chains/bitcoin/hint.h"
#include "chains/hex.h"
#include "chains/sort.h"
#include "monitor/records/alert.h"
#include "watchlists/chaindb.h"
#include "watchlists/cluster.h"
#include "watchlists/watchlist.h"

#define DAY RULES_DAY

static const char *const rule_names[RULE_COUNT] = {"shared_payout", "consolidator", "payout_toward_designated",
                                                   "off_ramp_after_pool", "test_then_salary"};
static const uint64_t rule_bits[RULE_COUNT] = {RS_SHARED_PAYOUT, RS_CONSOLIDATOR, RS_TOWARD_DESIGNATED, RS_OFF_RAMP,
                                               RS_TEST_THEN_SALARY};

const char *rule_name(rule_kind r) { return r < RULE_COUNT ? rule_names[r] : "?"; }

const char *rule_risk_name(rule_risk r)
{
    static const char *const names[] = {"none", "low", "medium", "high", "severe"};
    return (unsigned)r <= RISK_SEVERE ? names[r] : "?";
}

void rules_config_default(rules_config *c)
{
    memset(c, 0, sizeof *c);
    c->enabled = true;
    /* USD 2,000-8,000 a month in the sources; the band is wider on both
     * sides (bonuses, part months, fees) */
    c->salary_cents = (rule_band){150000, 1200000};
    /* first payments of USD 24-636 */
    c->tiny_cents = (rule_band){1000, 100000};
    /* without a price: at USD 40,000 a bitcoin (docs/rules.md) */
    c->salary_native = (rule_band){3750000, 30000000};
    c->tiny_native = (rule_band){25000, 250000};
    /* account chains without a price (docs/rules.md): ETH at USD 2,000,
     * TRX at USD 0.10, the USD bands above converted */
    static const struct {
        const char *sym;
        unsigned dec;
        uint64_t sal_lo, sal_hi, tiny_lo, tiny_hi, hit; /* in 10^-6 of a whole unit */
    } bands[] = {{"ETH", 18, 750000, 6000000, 5000, 500000, 50000},
                 {"TRX", 6, 15000000000ull, 120000000000ull, 100000000, 10000000000ull, 1000000000ull}};
    for (size_t i = 0; i < sizeof bands / sizeof *bands; i++) {
        rule_asset_band *b = &c->asset_band[i];
        snprintf(b->symbol, sizeof b->symbol, "%s", bands[i].sym);
        b->decimals = bands[i].dec;
        cw_u256 scale, one = {{1, 0, 0, 0}}, v;
        cw_u256_set_u64(&scale, 1);
        for (unsigned d = 6; d < bands[i].dec; d++) {
            cw_u256 ten = {{10, 0, 0, 0}}, next;
            cw_u256_mul_div(&next, &scale, &ten, &one);
            scale = next;
        }
        const uint64_t *ends[5] = {&bands[i].sal_lo, &bands[i].sal_hi, &bands[i].tiny_lo, &bands[i].tiny_hi,
                                   &bands[i].hit};
        cw_u256 *dst[5] = {&b->salary.lo, &b->salary.hi, &b->tiny.lo, &b->tiny.hi, &b->hit_min};
        for (int k = 0; k < 5; k++) {
            cw_u256_set_u64(&v, *ends[k]);
            cw_u256_mul_div(dst[k], &v, &scale, &one);
        }
    }
    c->trace_window = 62 * DAY;
    c->min_gap = 20 * DAY;
    c->max_gap = 130 * DAY; /* "gaps of 1-4 months" */
    c->min_recurring = 3;
    c->shared_min_payers = 2;
    c->shared_max_payers = 12;
    c->pool_min_sources = 5;
    c->pool_window = 62 * DAY;
    c->test_window = 45 * DAY;
    c->hops = 4;
    /* USD 100: a tenth of the tiny band's top, far below any salary: a
     * framer must give that much to a designated address (and, traced, get
     * it from the payout first); without a price, USD 100 at the bands'
     * prices (BTC 40,000: 0.0025; ETH 2,000: 0.05; TRX 0.10: 1,000) */
    c->hit_min_cents = 10000;
    c->hit_min_native = 250000;
    c->sweep_ppm = 800000;
    c->offramp_min_pieces = 3;
    c->pool_trace_max = 10000;
    c->weight[RULE_SHARED_PAYOUT] = 2;
    c->weight[RULE_CONSOLIDATOR] = 3;
    c->weight[RULE_TOWARD_DESIGNATED] = 4;
    c->weight[RULE_OFF_RAMP] = 2;
    c->weight[RULE_TEST_THEN_SALARY] = 1;
    c->toward_pool_weight = 3;
    c->risk_at[RISK_LOW] = 1;
    c->risk_at[RISK_MEDIUM] = 2;
    c->risk_at[RISK_HIGH] = 3;
    c->risk_at[RISK_SEVERE] = 6;
    c->severity[RULE_SHARED_PAYOUT] = RISK_MEDIUM;
    c->severity[RULE_CONSOLIDATOR] = RISK_HIGH;
    c->severity[RULE_TOWARD_DESIGNATED] = RISK_SEVERE;
    c->severity[RULE_OFF_RAMP] = RISK_HIGH;
    c->severity[RULE_TEST_THEN_SALARY] = RISK_LOW;
}

const char *rules_config_check(const rules_config *c)
{
    if (c->salary_cents.lo > c->salary_cents.hi || c->salary_native.lo > c->salary_native.hi)
        return "the salary band's low end is above its high end";
    if (c->tiny_cents.lo > c->tiny_cents.hi || c->tiny_native.lo > c->tiny_native.hi)
        return "the tiny band's low end is above its high end";
    if (c->tiny_cents.hi >= c->salary_cents.lo || c->tiny_native.hi >= c->salary_native.lo)
        return "the tiny band must end below the salary band";
    for (size_t i = 0; i < RULES_ASSET_BANDS && c->asset_band[i].symbol[0]; i++) {
        const rule_asset_band *b = &c->asset_band[i];
        if (cw_u256_cmp(&b->salary.lo, &b->salary.hi) > 0 || cw_u256_cmp(&b->tiny.lo, &b->tiny.hi) > 0)
            return "an asset's salary or tiny band has its low end above its high end";
        if (cw_u256_cmp(&b->tiny.hi, &b->salary.lo) >= 0)
            return "an asset's tiny band must end below its salary band";
    }
    if (c->min_gap > c->max_gap)
        return "the cadence's shortest gap is above its longest";
    if (c->shared_min_payers > c->shared_max_payers)
        return "shared-payout-min-payers is above shared-payout-max-payers";
    if (c->min_recurring < 2)
        return "a recurring payer needs at least 2 payments";
    for (int r = RISK_LOW; r < RISK_SEVERE; r++)
        if (c->risk_at[r] > c->risk_at[r + 1])
            return "risk thresholds must rise from low to severe";
    return NULL;
}

rule_risk rules_risk(const rules_config *c, uint64_t score)
{
    for (int r = RISK_SEVERE; r >= RISK_LOW; r--)
        if (score >= c->risk_at[r])
            return (rule_risk)r;
    return RISK_NONE;
}

/* ---------- scratch: findings and their evidence, kept until the next call ---------- */

void rules_scratch_reset(void);

/* One per thread: the API's threads screen txs (screen_answer) while
 * `watch --api` runs the pipeline's rules in the same process
 * (rules_thread_free at a thread's end). */
static _Thread_local struct {
    rule_finding *f;
    size_t n, cap;
} out;

void rules_thread_free(void)
{
    rules_scratch_reset();
    free(out.f);
    memset(&out, 0, sizeof out);
}

void rules_scratch_out(const rule_finding **found, size_t *n)
{
    *found = out.f;
    *n = out.n;
}

void rules_scratch_reset(void)
{
    for (size_t i = 0; i < out.n; i++)
        json_decref(out.f[i].evidence);
    out.n = 0;
}

static rule_finding *finding_add(cw_err *err)
{
    if (out.n == out.cap) {
        size_t cap = out.cap ? out.cap * 2 : 16;
        rule_finding *g = realloc(out.f, cap * sizeof *g);
        if (g == NULL) {
            cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "rules: out of memory for %zu findings", out.n + 1);
            return NULL;
        }
        out.f = g, out.cap = cap;
    }
    rule_finding *f = &out.f[out.n++];
    memset(f, 0, sizeof *f);
    return f;
}

/* ---------- small helpers ---------- */

/* The finding's words (cut at the buffer's end, addresses included). */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void explain(rule_finding *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->explanation, sizeof f->explanation, fmt, ap);
    va_end(ap);
}

static void day_text(uint64_t when, char out_[11])
{
    time_t t = (time_t)when;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out_, 11, "%Y-%m-%d", &tm);
}

static void key_text(const uint8_t *key, size_t klen, char *buf, size_t cap)
{
    if (wl_key_to_text(key, klen, buf, cap) == 0)
        cw_hex_encode(key, klen < 40 ? klen : 40, buf), (void)cap;
}

/* A txid as the chain's records print it (records.c: hash_hex): Bitcoin's
 * reversed, an account chain's in display order (Ethereum's with 0x). */
static json_t *txid_json(uint8_t chain, const uint8_t id[32])
{
    char h[67];
    if (chain == CW_CHAIN_EVM) {
        h[0] = '0', h[1] = 'x';
        cw_hex_encode(id, 32, h + 2);
    } else if (chain == CW_CHAIN_TRON) {
        cw_hex_encode(id, 32, h);
    } else {
        cw_hex_encode_rev(id, 32, h);
    }
    return json_string(h);
}

/* The chain of an address key (watchlist.h: 'a', chain, ...); Bitcoin's
 * for anything else (a cluster root is an address key too). */
static uint8_t key_chain(const uint8_t *key, size_t klen)
{
    return klen > 2 && key[0] == 'a' ? key[1] : CW_CHAIN_BITCOIN;
}

static json_t *day_json(uint64_t when)
{
    char d[11];
    day_text(when, d);
    return json_string(d);
}

static amount_view classify(const rules_config *c, uint64_t sats, int64_t when)
{
    amount_view a = {BAND_NONE, false, 0, sats, NULL, false, true, sats, 0};
    a.usd = prices_cents(c->prices, "BTC", 8, sats, when, &a.cents);
    const rule_band *sal = a.usd ? &c->salary_cents : &c->salary_native, *tiny = a.usd ? &c->tiny_cents : &c->tiny_native;
    uint64_t v = a.usd ? a.cents : sats;
    if (v >= sal->lo && v <= sal->hi)
        a.kind = BAND_SALARY;
    else if (v >= tiny->lo && v <= tiny->hi)
        a.kind = BAND_TINY;
    return a;
}

/* Bitcoin's amount view of a value: its USD cents when BTC has a price. */
static amount_view btc_view(const rules_config *c, uint64_t sats, int64_t when)
{
    amount_view a = {BAND_NONE, false, 0, sats, NULL, false, true, sats, 0};
    a.usd = prices_cents(c->prices, "BTC", 8, sats, when, &a.cents);
    return a;
}

/* money_text's buffer: "at least " + 78 digits and a point + a symbol */
#define MONEY_MAX 128

static const char *money_text(const amount_view *a, uint64_t native, char *buf, size_t cap)
{
    if (a->usd) {
        snprintf(buf, cap, "USD %llu.%02llu", (unsigned long long)(a->cents / 100), (unsigned long long)(a->cents % 100));
    } else if (a->unit == NULL) {
        snprintf(buf, cap, "%llu sat", (unsigned long long)native);
    } else if (a->unit->symbol == NULL) {
        snprintf(buf, cap, "%llu base units", (unsigned long long)native);
    } else {
        char u[CW_U256_DEC_MAX + 2];
        cw_u256 v;
        cw_u256_set_u64(&v, native);
        if (cw_u256_to_units(&v, a->unit->decimals, u, sizeof u) == 0)
            snprintf(u, sizeof u, "?");
        snprintf(buf, cap, "%s%s %s", native == RS_TOTAL_MAX ? "at least " : "", u, a->unit->symbol);
    }
    return buf;
}

/* A record's total in words, per unit (rulestats.h): "USD 120.00", "1.5
 * ETH", "USD 120.00 and 1.5 ETH" (the coin's without a price: its unit is
 * r->coin, satoshis when NULL); buf holds TOTALS_MAX. */
#define TOTALS_MAX (2 * MONEY_MAX + 8)
static const char *totals_text(const rules_run *r, uint64_t cents, uint64_t native, char *buf, size_t cap)
{
    char u[MONEY_MAX], n[MONEY_MAX];
    amount_view usd = {BAND_NONE, true, cents, 0, NULL, false, false, 0, 0};
    amount_view coin = {BAND_NONE, false, 0, native, r->coin, false, true, native, 0};
    money_text(&usd, 0, u, sizeof u);
    money_text(&coin, native, n, sizeof n);
    if (native == 0)
        snprintf(buf, cap, "%s", u);
    else if (cents == 0)
        snprintf(buf, cap, "%s", n);
    else
        snprintf(buf, cap, "%s and %s", u, n);
    return buf;
}

static bool is_offramp(const label *lb)
{
    for (; lb; lb = lb->next)
        if (strcmp(lb->category, "exchange") == 0 || strcmp(lb->category, "otc") == 0 ||
            strcmp(lb->category, "instant_swapper") == 0 || strcmp(lb->category, "dex") == 0 ||
            strcmp(lb->category, "bridge") == 0 || strcmp(lb->category, "custodial_wallet") == 0)
            return true;
    return false;
}

/* ---------- evidence: an address's counterparties ---------- */

#define EVIDENCE_MAX 32

static json_t *pair_json(uint8_t chain, const uint8_t *cp, size_t clen, const rs_pair *p, const char *role)
{
    char who[CW_ADDR_TEXT_MAX + WL_KEY_MAX];
    key_text(cp, clen, who, sizeof who);
    json_t *o = json_object();
    bool ok = true;
    alert_put(o, role, json_string(who), &ok);
    alert_put(o, "payments", json_integer((json_int_t)p->count), &ok);
    alert_put(o, "tiny_first", json_boolean(p->flags & RS_PAIR_TINY_FIRST), &ok);
    alert_put(o, "first", day_json(p->first_time), &ok);
    alert_put(o, "last", day_json(p->last_time), &ok);
    alert_put(o, "first_txid", txid_json(chain, p->first_txid), &ok);
    alert_put(o, "last_txid", txid_json(chain, p->last_txid), &ok);
    alert_put(o, "total_usd_cents", json_integer((json_int_t)p->total_cents), &ok);
    alert_put(o, "total_base_units", json_integer((json_int_t)p->total_native), &ok);
    alert_put(o, "min_gap_days", json_integer((json_int_t)(p->min_gap / DAY)), &ok);
    alert_put(o, "max_gap_days", json_integer((json_int_t)(p->max_gap / DAY)), &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The record's counterparties of one kind as a JSON array: recurring ones
 * only (payers) when asked, those last seen at or after `since`, at most
 * EVIDENCE_MAX (*total: how many matched). */
static cw_code entries_json(uint8_t chain, const rs_record *rec, char kind, bool only_recurring, uint64_t since,
                            json_t **arr, size_t *total, cw_err *err)
{
    json_t *a = json_array();
    bool ok = a != NULL;
    size_t n = 0, all = 0;
    for (size_t i = 0; ok && i < rec->n; i++) {
        const rs_entry *e = &rec->e[i];
        if (e->kind != kind || (only_recurring && !(e->p.flags & RS_PAIR_RECURRING)) || e->p.last_time < since)
            continue;
        all++;
        if (n++ < EVIDENCE_MAX)
            alert_push(a, pair_json(chain, e->key, e->klen, &e->p, kind == RS_KIND_PAYER ? "payer" : "source"), &ok);
    }
    if (!ok) {
        json_decref(a);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "rules: out of memory building evidence");
    }
    *arr = a;
    if (total)
        *total = all;
    return CW_OK;
}

/* A record read for change (heap: it is large); *found false when the
 * address has none (an empty record). */
static cw_code rec_load(store_txn *t, const uint8_t *key, size_t klen, rs_record **out, bool *found, cw_err *err)
{
    *out = malloc(sizeof **out);
    if (*out == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "rules: out of memory");
    cw_code rc = rs_record_get(t, key, klen, *out, err);
    if (found)
        *found = rc == CW_OK;
    if (rc == CW_ENOTFOUND)
        rc = CW_OK;
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* ---------- findings ---------- */

typedef rules_run run;

/* A finding about address, made by the payment a (of the transfer
 * r->xfer on account chains). */
static rule_finding *fire(const run *r, rule_kind k, const char *address, const amount_view *a, uint64_t score,
                          json_t *evidence, cw_err *err)
{
    rule_finding *f = finding_add(err);
    if (f == NULL) {
        json_decref(evidence);
        return NULL;
    }
    f->rule = k;
    snprintf(f->address, sizeof f->address, "%s", address);
    f->amount = a->native;
    f->amount_usd = a->usd;
    f->cents = a->usd ? a->cents : 0;
    if (r->xfer) {
        f->account = true;
        f->asset = r->xfer->asset;
        f->amount_exact = r->xfer->amount;
    }
    f->score = score;
    f->risk = rules_risk(r->cfg, score);
    f->evidence = evidence;
    return f;
}

/* Adds a rule's bit and weight to a record in memory; false when the bit
 * was set already (the rule fires once per address). */
static bool mark(rs_record *rec, uint64_t bit, unsigned weight)
{
    if (rec->a.fired & bit)
        return false;
    rec->a.fired |= bit;
    rec->a.score += weight;
    return true;
}

static cw_code rec_save(run *r, const uint8_t *key, size_t klen, const rs_record *rec, cw_err *err)
{
    return r->j ? rs_record_put(r->j, key, klen, rec, err) : CW_OK;
}

/* A pool's sources as its records count them: every distinct one
 * (pool_sources: listed, or past the list in rule_pair) and those past
 * the list. */
typedef struct {
    uint64_t total, not_listed;
} src_counts;

/* payout_toward_designated on one payout address, naming its payers.
 * target: the designated address or the pool reached; sc: the pool's
 * source counts when the payout is one of a pool's sources walked (NULL
 * otherwise; the walk adds sources_not_examined after: walk_sources). */
static cw_code toward_one(run *r, const uint8_t *payout, size_t plen, bool to_pool, const char *target,
                          const char *pool, const uint8_t *swept_txid, unsigned hops, const rs_trace *tr,
                          const amount_view *a, const src_counts *sc, cw_err *err)
{
    uint64_t bit = to_pool ? RS_TOWARD_POOL : RS_TOWARD_DESIGNATED;
    unsigned w = to_pool ? r->cfg->toward_pool_weight : r->cfg->weight[RULE_TOWARD_DESIGNATED];
    /* a designated address spending is a designated_address record already */
    bool listed;
    cw_code rc = wl_is_listed(r->t, payout, plen, &listed, err);
    if (rc || listed)
        return rc;
    rs_record *rec;
    bool found;
    if ((rc = rec_load(r->t, payout, plen, &rec, &found, err)))
        return rc;
    /* straight from the address: only a payout (paid on cadence) counts;
     * through a pool, the pool's sources were judged when they swept */
    if ((!to_pool && pool == NULL && rec->a.recurring_payers == 0) || !mark(rec, bit, w)) {
        free(rec);
        return CW_OK;
    }
    json_t *payers = NULL;
    size_t n_payers = 0;
    if ((rc = rec_save(r, payout, plen, rec, err)) == CW_OK)
        rc = entries_json(r->tx->chain, rec, RS_KIND_PAYER, false, 0, &payers, &n_payers, err);
    uint64_t score = rec->a.score;
    n_payers += rec->a.payers_beyond; /* every distinct payer, listed or not */
    free(rec);
    if (rc)
        return rc;
    char addr[CW_ADDR_TEXT_MAX + WL_KEY_MAX];
    key_text(payout, plen, addr, sizeof addr);
    json_t *ev = json_object();
    bool ok = true;
    alert_put(ev, "target", json_string(target), &ok);
    alert_put(ev, "target_kind", json_string(to_pool ? "consolidator" : "designated"), &ok);
    alert_put(ev, "via_pool", pool ? json_string(pool) : json_null(), &ok);
    alert_put(ev, "hops", json_integer(hops), &ok);
    /* the path: the payout's last sweep into the pool (through a pool),
     * the tx that left the payout or the pool, the tx that hit */
    uint8_t ch = r->tx->chain;
    alert_put(ev, "swept_into_pool_txid", swept_txid ? txid_json(ch, swept_txid) : json_null(), &ok);
    alert_put(ev, pool ? "left_pool_txid" : "left_payout_txid", tr ? txid_json(ch, tr->first_txid) : json_null(), &ok);
    alert_put(ev, "hit_txid", txid_json(ch, r->tx->txid), &ok);
    alert_put(ev, "hit_date", day_json((uint64_t)r->when), &ok);
    alert_put(ev, "payers", payers, &ok);
    alert_put(ev, "payers_total", json_integer((json_int_t)n_payers), &ok);
    if (sc) {
        alert_put(ev, "sources_total", json_integer((json_int_t)sc->total), &ok);
        alert_put(ev, "sources_not_listed", json_integer((json_int_t)sc->not_listed), &ok);
    }
    if (!ok) {
        json_decref(ev);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "rules: out of memory building evidence");
    }
    rule_finding *f = fire(r, RULE_TOWARD_DESIGNATED, addr, a, score, ev, err);
    if (f == NULL)
        return CW_ENOMEM;
    r->st->fired[RULE_TOWARD_DESIGNATED]++;
    if (to_pool)
        explain(f,
                "Money paid to %s (by %zu payer%s) was swept into %s, an address pooling the pay of several "
                "payout addresses (consolidator). Payers paying this address fund a pooling network; "
                "the payer named in the evidence should review who it pays here.",
                addr, n_payers, n_payers == 1 ? "" : "s", target);
    else
        explain(f,
                "Money paid to %s (by %zu payer%s) reached %s, an address under DPRK-program sanctions, %u "
                "transaction%s later%s%s. The payer named in the evidence is paying a DPRK-linked payout address "
                "and should stop.",
                addr, n_payers, n_payers == 1 ? "" : "s", target, hops, hops == 1 ? "" : "s",
                pool ? " through the pool " : "", pool ? pool : "");
    return CW_OK;
}

typedef struct {
    uint8_t key[WL_KEY_MAX];
    size_t len;
    uint8_t swept[32]; /* its last sweep into the pool */
} key_buf;

/* A pool's listed sources (kind S), copied (toward_one reads other
 * records), and its counts. Read only, unsaved: the sources past the list
 * whose rule_pair entries the sweep being judged would have written (the
 * source sweeping, a source it moved past the list), which the walk over
 * rule_pair sees as if written (walk_sources). */
typedef struct {
    key_buf *list;
    size_t n;
    src_counts sc;
    const rs_entry *unsaved[2];
    size_t n_unsaved;
} pool_view;

/* The pool's source counts: pool_sources counts every distinct source, the
 * listed ones and those past the list (rule_pair). */
static src_counts source_counts(const rs_record *rec)
{
    uint64_t listed = 0;
    for (size_t i = 0; i < rec->n; i++)
        listed += rec->e[i].kind == RS_KIND_SOURCE;
    src_counts c;
    c.total = rec->a.pool_sources > listed ? rec->a.pool_sources : listed;
    c.not_listed = c.total - listed;
    return c;
}

static cw_code pool_view_of(const rs_record *rec, pool_view *v, cw_err *err)
{
    v->n = 0;
    v->n_unsaved = 0;
    v->list = malloc((rec->n ? rec->n : 1) * sizeof *v->list);
    if (v->list == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "rules: out of memory tracing back a pool");
    for (size_t i = 0; i < rec->n; i++)
        if (rec->e[i].kind == RS_KIND_SOURCE) {
            memcpy(v->list[v->n].key, rec->e[i].key, rec->e[i].klen);
            memcpy(v->list[v->n].swept, rec->e[i].p.last_txid, 32);
            v->list[v->n++].len = rec->e[i].klen;
        }
    v->sc = source_counts(rec);
    return CW_OK;
}

/* How a walk over a pool's sources reaches each: through the pool, by the
 * trace tr that reached target (pool: the pool's text), or, pool NULL,
 * toward the pool just flagged (target: its text; each source's own
 * sweep is the path). */
typedef struct {
    bool to_pool;
    const char *target, *pool;
    const rs_trace *tr;
    const amount_view *a;
} walk_how;

static cw_code source_reached(run *r, const walk_how *w, const src_counts *sc, const uint8_t *key, size_t len,
                              const uint8_t swept[32], cw_err *err)
{
    if (w->pool)
        return toward_one(r, key, len, w->to_pool, w->target, w->pool, swept, w->tr->hops + 1u, w->tr, w->a, sc, err);
    rs_trace tr = {0};
    memcpy(tr.origin, key, len);
    tr.origin_len = len;
    tr.hops = 1;
    memcpy(tr.first_txid, r->tx->txid, 32);
    return toward_one(r, key, len, true, w->target, NULL, swept, 1, &tr, w->a, sc, err);
}

/* The least of v's unsaved sources not walked yet (done), or NULL. */
static const rs_entry *unsaved_next(const pool_view *v, const bool done[2], size_t *at)
{
    const rs_entry *u = NULL;
    for (size_t i = 0; i < v->n_unsaved; i++)
        if (!done[i] && (u == NULL || cw_bytes_cmp(v->unsaved[i]->key, v->unsaved[i]->klen, u->key, u->klen) < 0))
            u = v->unsaved[i], *at = i;
    return u;
}

/* Every source of the pool pkey: the listed ones (v), then those past the
 * list, streamed from rule_pair in key order (rs_source_walk: no memory
 * grows with the pool), at most cfg->pool_trace_max of them; read only,
 * v's unsaved sources in their places in that order, as if written (a
 * screen names what the record of the tx would: the sweep it is). Each
 * record it makes says how many of the pool's sources were not examined
 * (sources_not_examined: past the bound, or counted but not kept by an
 * older version): a cap reached is never a silent skip. */
static cw_code walk_sources(run *r, const uint8_t *pkey, size_t plen, const pool_view *v, const walk_how *w,
                            cw_err *err)
{
    size_t first = out.n; /* the findings this walk makes */
    cw_code rc = CW_OK;
    for (size_t i = 0; rc == CW_OK && i < v->n; i++)
        rc = source_reached(r, w, &v->sc, v->list[i].key, v->list[i].len, v->list[i].swept, err);
    uint64_t walked = 0, max = r->cfg->pool_trace_max;
    if (rc == CW_OK && v->sc.not_listed > 0 && max > 0) {
        rs_source_walk sw;
        uint8_t k[WL_KEY_MAX];
        size_t kl = 0, ui = 0;
        rs_pair p;
        bool have = false, end = false, done[2] = {false, false};
        rc = rs_source_walk_open(r->t, pkey, plen, &sw, err);
        while (rc == CW_OK && walked < max) {
            if (!have && !end) {
                if ((rc = rs_source_walk_next(&sw, k, &kl, &p, err)) == CW_ENOTFOUND)
                    rc = CW_OK, end = true;
                else if (rc)
                    break;
                else
                    have = true;
            }
            const rs_entry *u = unsaved_next(v, done, &ui);
            if (!have && u == NULL)
                break;
            int c = !have ? -1 : u == NULL ? 1 : cw_bytes_cmp(u->key, u->klen, k, kl);
            walked++;
            if (c <= 0) { /* an unsaved source first; at the same key, it is what would be written */
                done[ui] = true;
                have = have && c != 0;
                rc = source_reached(r, w, &v->sc, u->key, u->klen, u->p.last_txid, err);
            } else {
                have = false;
                rc = source_reached(r, w, &v->sc, k, kl, p.last_txid, err);
            }
        }
        rs_source_walk_close(&sw);
    }
    if (rc)
        return rc;
    uint64_t not_examined = v->sc.not_listed > walked ? v->sc.not_listed - walked : 0;
    bool ok = true;
    for (size_t i = first; i < out.n; i++)
        alert_put(out.f[i].evidence, "sources_not_examined", json_integer((json_int_t)not_examined), &ok);
    return ok ? CW_OK : cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "rules: out of memory building evidence");
}

/* The trace reached a target: the payouts behind it are the origin (a
 * payout) or the sources of the origin (a pool: walk_sources). */
static cw_code toward(run *r, const rs_trace *tr, bool to_pool, const char *target, const amount_view *a, cw_err *err)
{
    if (!tr->pool)
        return toward_one(r, tr->origin, tr->origin_len, to_pool, target, NULL, NULL, tr->hops, tr, a, NULL, err);
    char pool[CW_ADDR_TEXT_MAX + WL_KEY_MAX];
    key_text(tr->origin, tr->origin_len, pool, sizeof pool);
    rs_record *rec;
    cw_code rc = rec_load(r->t, tr->origin, tr->origin_len, &rec, NULL, err);
    if (rc)
        return rc;
    pool_view v;
    rc = pool_view_of(rec, &v, err);
    free(rec);
    if (rc)
        return rc;
    walk_how w = {to_pool, target, pool, tr, a};
    rc = walk_sources(r, tr->origin, tr->origin_len, &v, &w, err);
    free(v.list);
    return rc;
}

/* ---------- per input ---------- */

typedef struct {
    bool has_addr;
    uint8_t key[WL_KEY_MAX];
    size_t klen;
    bool payout_like;  /* paid a salary-sized amount: its sweeps feed pools */
    bool recurring;    /* paid on cadence: a payout the trace starts from */
    bool pool_like;    /* two or more payouts swept into it: the trace starts from it too */
    bool carried;      /* its coin carried a trace: tr */
    rs_trace tr;
} in_view;

static struct {
    in_view *in;
    size_t cap;
} ins;

static cw_code grow_inputs(size_t n, cw_err *err)
{
    if (n <= ins.cap)
        return CW_OK;
    size_t cap = ins.cap ? ins.cap : 64;
    while (cap < n)
        cap *= 2;
    in_view *g = realloc(ins.in, cap * sizeof *g);
    if (g == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "rules: out of memory for a tx of %zu inputs", n);
    ins.in = g, ins.cap = cap;
    return CW_OK;
}

/* a's amount into the totals, per unit (rulestats.h): USD cents with a
 * price, else the coin's base units (128-bit: *hi, or saturated at
 * RS_TOTAL_MAX when hi is NULL); a token without a price: neither. */
static void total_add(uint64_t *cents, uint64_t *native, uint64_t *hi, const amount_view *a)
{
    if (a->usd)
        *cents = rs_sat_add(*cents, a->cents);
    else if (a->coin && hi)
        rs_wide_add(native, hi, a->exact_lo, a->exact_hi);
    else if (a->coin)
        *native = rs_sat_add(*native, a->native);
}

/* One payment into a pair: count, gaps, amounts, last tx. */
static void pair_note(rs_pair *p, bool fresh, uint64_t now, const uint8_t txid[32], const amount_view *a)
{
    uint64_t cents = a->usd ? a->cents : 0;
    if (fresh) {
        p->first_time = now;
        memcpy(p->first_txid, txid, 32);
        p->first_native = a->native, p->first_cents = cents;
    }
    p->last_time = now;
    memcpy(p->last_txid, txid, 32);
    p->last_native = a->native, p->last_cents = cents;
    total_add(&p->total_cents, &p->total_native, NULL, a);
}

/* The paid address's text, made only when a rule fires (formatting every
 * output's address costs more than the rest of the rules' work). */
#define LAZY_TEXT char lazy_text_[CW_ADDR_TEXT_MAX + WL_KEY_MAX] = ""
#define OTEXT (lazy_text_[0] ? lazy_text_ : (key_text(okey, olen, lazy_text_, sizeof lazy_text_), lazy_text_))

/* ---------- the sweep side: pools ---------- */

/* What one sweep put past a pool's list. */
typedef struct {
    uint64_t placed;  /* sources that went past the list (read only too: as if written) */
    uint64_t indexed; /* sources the window index got for the first time (journal: the pool's indexed count grows) */
    bool has_moved;   /* read only: a listed source gave way (moved, its entry, not written to rule_pair) */
    rs_entry moved;
} past_note;

static cw_code window_index(run *r, const uint8_t *okey, size_t olen, const uint8_t *src, size_t slen, bool newly,
                            uint64_t old_last, uint64_t last, past_note *pn, cw_err *err);

/* A full list (RS_LIST_MAX) and a new source: one entry that is no
 * evidence of a pool gives way, else nothing (the list stays full). First
 * the one-off payer (never recurring) seen longest ago, else the source
 * that is not a payout paid on cadence seen longest ago: otherwise anyone
 * could fill a pool's list with throwaway payments (the same money sent
 * round) before its payouts sweep in, and the consolidator would never
 * fire. A payer giving way goes on in rule_pair (counted in payers_beyond),
 * so does a source (counted in pool_sources still, walked by the trace
 * back from the pool: walk_sources; a source given way is no payout, so
 * it waits in the window index). With no such entry the new source
 * itself goes to rule_pair (rules_sweep_into). Deterministic: the
 * entries' order and times only. */
static cw_code make_room_for_source(run *r, const uint8_t *okey, size_t olen, rs_record *rec, past_note *pn,
                                    cw_err *err)
{
    size_t victim = rec->n;
    for (size_t i = 0; i < rec->n; i++) {
        const rs_entry *e = &rec->e[i];
        if (e->kind == RS_KIND_PAYER && !(e->p.flags & RS_PAIR_RECURRING) &&
            (victim == rec->n || e->p.last_time < rec->e[victim].p.last_time))
            victim = i;
    }
    bool payer = victim < rec->n;
    for (size_t i = 0; !payer && i < rec->n; i++) {
        const rs_entry *e = &rec->e[i];
        unsigned of = 0;
        if (e->kind != RS_KIND_SOURCE)
            continue;
        cw_code rc = rs_origin_get(r->t, e->key, e->klen, &of, err);
        if (rc)
            return rc;
        if (!(of & RS_ORIGIN_PAYOUT) && (victim == rec->n || e->p.last_time < rec->e[victim].p.last_time))
            victim = i;
    }
    if (victim < rec->n) {
        const rs_entry *v = &rec->e[victim];
        if (payer) /* kept and counted in rule_pair (rulestats.h): it may pay again */
            rec->a.payers_beyond++;
        pn->placed += !payer;
        if (!payer && !r->j) /* read only: the walk back from the pool sees it past the list */
            pn->has_moved = true, pn->moved = *v;
        if (r->j) { /* a source too: it stays one of the pool's (pool_sources), past the list */
            cw_code rc = payer ? rs_pair_put(r->j, okey, olen, v->key, v->klen, &v->p, err)
                               : rs_source_put(r->j, okey, olen, v->key, v->klen, &v->p, err);
            if (rc == CW_OK && !payer) /* the window sees it there too */
                rc = window_index(r, okey, olen, v->key, v->klen, true, 0, v->p.last_time, pn, err);
            if (rc)
                return rc;
        }
        memmove(&rec->e[victim], &rec->e[victim + 1], (rec->n - victim - 1) * sizeof rec->e[0]);
        rec->n--;
    }
    return CW_OK;
}

/* The record of the payee of a sweep or a payment, or *rec NULL when the
 * payee is designated (linked keys included): it is no payout or pool to
 * find, every payment into it is a designated_address record (severe)
 * already, and a pattern record on it would only say less, later. Its
 * payers and sweepers are still judged, by the trace (rules_trace_reach). */
static cw_code payee_load(run *r, const uint8_t *okey, size_t olen, rs_record **rec, bool *found, cw_err *err)
{
    bool listed;
    *rec = NULL;
    cw_code rc = wl_is_listed(r->t, okey, olen, &listed, err);
    if (rc || listed)
        return rc;
    return rec_load(r->t, okey, olen, rec, found, err);
}

/* The entry of kind (a payer, a pool's source) for key past okey's full
 * list, read from rule_pair into *b: CW_OK when it is there, CW_ENOTFOUND
 * when not (*b then a fresh entry), or the store's error. */
static cw_code beyond_load(run *r, char kind, const uint8_t *okey, size_t olen, const uint8_t *key, size_t klen,
                           rs_entry *b, cw_err *err)
{
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->klen = (uint8_t)klen;
    memcpy(b->key, key, klen);
    return kind == RS_KIND_SOURCE ? rs_source_get(r->t, okey, olen, key, klen, &b->p, err)
                                  : rs_pair_get(r->t, okey, olen, key, klen, &b->p, err);
}

/* Whether src, kept past the pool okey's list, is in its window index:
 * a payout's window entry at its last sweep `last`, any other source's
 * waiting entry (*had). Absent is no error: a chainwatch before the index
 * kept it there (rulestats.h). */
static cw_code window_has(run *r, const uint8_t *okey, size_t olen, const uint8_t *src, size_t slen, bool payout,
                          uint64_t last, bool *had, cw_err *err)
{
    cw_code rc = payout ? rs_window_get(r->t, okey, olen, src, slen, last, err)
                        : rs_waiting_get(r->t, src, slen, okey, olen, err);
    *had = rc == CW_OK;
    return rc == CW_ENOTFOUND ? CW_OK : rc;
}

/* A source kept past the pool okey's list, indexed for the window
 * (rulestats.h: the window index): a payout (rule_origin) gets its window
 * entry at its last sweep `last` (the one at its previous sweep, old_last,
 * goes), any other source its waiting entry (moved to the window when it
 * becomes a payout: window_promote). newly: it has just gone past the list
 * (else it was there, and may have been kept by a chainwatch before this
 * index: then it is indexed now, for the first time). pn->indexed counts
 * the first times. Journal only (read only, rules_sweep_into counts the
 * same first times when it needs them: window_has). */
static cw_code window_index(run *r, const uint8_t *okey, size_t olen, const uint8_t *src, size_t slen, bool newly,
                            uint64_t old_last, uint64_t last, past_note *pn, cw_err *err)
{
    unsigned of = 0;
    cw_code rc = rs_origin_get(r->t, src, slen, &of, err);
    bool payout = (of & RS_ORIGIN_PAYOUT) != 0, had = false;
    if (rc || (!newly && (rc = window_has(r, okey, olen, src, slen, payout, old_last, &had, err))))
        return rc;
    if (payout) {
        if (had && (rc = rs_window_del(r->j, okey, olen, src, slen, old_last, NULL, err)))
            return rc;
        rc = rs_window_put(r->j, okey, olen, src, slen, last, err);
    } else if (!had) {
        rc = rs_waiting_put(r->j, src, slen, okey, olen, err);
    }
    pn->indexed += rc == CW_OK && !had;
    return rc;
}

/* key has just become a payout paid on cadence: every pool it waits in
 * (past the pool's list, not a payout when it swept) now sees it in its
 * window, at its last sweep there. Journal only; one cursor seek when it
 * waits nowhere (the common case). */
static cw_code window_promote(run *r, const uint8_t *key, size_t klen, cw_err *err)
{
    for (;;) {
        uint8_t pool[WL_KEY_MAX];
        size_t plen;
        cw_code rc = rs_waiting_first(r->t, key, klen, pool, &plen, err);
        if (rc == CW_ENOTFOUND)
            return CW_OK;
        rs_pair p;
        if (rc || (rc = rs_source_get(r->t, pool, plen, key, klen, &p, err)) == CW_ENOTFOUND)
            return rc == CW_ENOTFOUND ? store_damaged(r->t, err,
                                                      "pattern rules: a source waiting in a pool's window index has "
                                                      "no sweeps in rule_pair")
                                      : rc;
        if (rc || (rc = rs_window_put(r->j, pool, plen, key, klen, p.last_time, err)) ||
            (rc = rs_waiting_del(r->j, key, klen, pool, plen, err)))
            return rc;
    }
}

/* The pool okey's payouts past its list whose last sweep is at or after
 * since, newest first (the window index), not counting skip (the source
 * sweeping now, counted by the caller): stops once *n reaches stop. With
 * arr, each one's sweeps (read from rule_pair) go into it while it has
 * fewer than room entries. */
static cw_code window_past(run *r, const uint8_t *okey, size_t olen, uint64_t since, const uint8_t *skip,
                           size_t skip_len, uint64_t stop, uint64_t *n, json_t *arr, size_t room, cw_err *err)
{
    *n = 0;
    rs_window_walk w;
    cw_code rc = rs_window_walk_open(r->t, okey, olen, &w, err);
    while (rc == CW_OK && *n < stop) {
        uint8_t k[WL_KEY_MAX];
        size_t kl;
        uint64_t last;
        if ((rc = rs_window_walk_next(&w, k, &kl, &last, err)) == CW_ENOTFOUND) {
            rc = CW_OK;
            break;
        }
        if (rc || last < since)
            break;
        if (kl == skip_len && memcmp(k, skip, kl) == 0)
            continue;
        ++*n;
        if (arr && json_array_size(arr) < room) {
            /* the walk's cursor reads rule_pair: a read between its steps is fine */
            rs_pair p;
            if ((rc = rs_source_get(r->t, okey, olen, k, kl, &p, err)) == CW_OK &&
                json_array_append_new(arr, pair_json(r->tx->chain, k, kl, &p, "source")))
                rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "rules: out of memory building evidence");
            else if (rc == CW_ENOTFOUND)
                rc = store_damaged(r->t, err, "pattern rules: a pool's window entry has no sweeps in rule_pair");
        }
    }
    rs_window_walk_close(&w);
    return rc;
}

cw_code rules_sweep_into(run *r, const uint8_t *src_key, size_t src_len, const uint8_t *okey, size_t olen,
                         const amount_view *a, cw_err *err)
{
    LAZY_TEXT;
    const rules_config *cfg = r->cfg;
    uint64_t now = (uint64_t)r->when;
    rs_record *rec;
    bool found;
    cw_code rc = payee_load(r, okey, olen, &rec, &found, err);
    if (rc || rec == NULL)
        return rc;
    rs_entry *e = rs_record_find(rec, RS_KIND_SOURCE, src_key, src_len);
    bool fresh = e == NULL;
    /* a full list: the source may be past it already (rule_pair); a new
     * one takes the place of an entry that is no evidence of a pool, else
     * it goes past the list itself. Kept and counted either way: the
     * trace back from the pool walks them all (walk_sources), and the
     * window sees them (the window index) */
    rs_entry beyond;
    bool is_beyond = false;
    past_note pn = {0};
    if (fresh && rec->n >= RS_LIST_MAX) {
        rc = beyond_load(r, RS_KIND_SOURCE, okey, olen, src_key, src_len, &beyond, err);
        if (rc != CW_OK && rc != CW_ENOTFOUND) {
            free(rec);
            return rc;
        }
        is_beyond = rc == CW_OK;
        fresh = !is_beyond;
        rc = fresh ? make_room_for_source(r, okey, olen, rec, &pn, err) : CW_OK;
        if (rc) {
            free(rec);
            return rc;
        }
        is_beyond = is_beyond || rec->n >= RS_LIST_MAX;
        e = is_beyond ? &beyond : NULL;
    }
    if (fresh && !is_beyond && (e = rs_record_add(rec, RS_KIND_SOURCE, src_key, src_len)) == NULL) {
        free(rec);
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "rules: a source key of %zu bytes", src_len);
    }
    uint64_t old_last = e->p.last_time;
    if (!fresh) {
        uint64_t gap = now - e->p.last_time;
        if (e->p.min_gap == 0 || gap < e->p.min_gap)
            e->p.min_gap = gap;
        if (gap > e->p.max_gap)
            e->p.max_gap = gap;
    }
    e->p.count++;
    pair_note(&e->p, fresh, now, r->tx->txid, a);
    pn.placed += fresh && is_beyond;
    if (is_beyond && r->j &&
        ((rc = rs_source_put(r->j, okey, olen, src_key, src_len, &e->p, err)) ||
         (rc = window_index(r, okey, olen, src_key, src_len, fresh, old_last, now, &pn, err)))) {
        free(rec);
        return rc;
    }
    if (pn.indexed && r->j) {
        uint64_t ix;
        if ((rc = rs_indexed_get(r->t, okey, olen, &ix, err)) ||
            (rc = rs_indexed_put(r->j, okey, olen, ix + pn.indexed, err))) {
            free(rec);
            return rc;
        }
    }
    if (!found)
        rec->a.first_seen = now;
    rec->a.n_in++;
    total_add(&rec->a.in_cents, &rec->a.in_native, &rec->a.in_native_hi, a);
    rec->a.last_seen = now;
    rec->a.pool_sources += fresh;
    bool now_pool = fresh && rec->a.pool_sources == 2; /* rule_origin learns it after the record is saved */
    if (rec->a.fired & RS_CONSOLIDATOR) {
        /* a new source into a flagged pool: that payout is tied to it too */
        rc = rec_save(r, okey, olen, rec, err);
        free(rec);
        if (rc == CW_OK && now_pool && r->j)
            rc = rs_origin_add(r->j, okey, olen, RS_ORIGIN_POOL, err);
        if (rc || !fresh)
            return rc;
        rs_trace tr = {0};
        memcpy(tr.origin, src_key, src_len);
        tr.origin_len = src_len;
        tr.hops = 1;
        memcpy(tr.first_txid, r->tx->txid, 32);
        return toward_one(r, src_key, src_len, true, OTEXT, NULL, NULL, 1, &tr, a, NULL, err);
    }
    /* distinct payouts (paid on cadence: rule_origin, as of now) whose
     * last sweep into it is within the window, listed or past the list
     * (rules.h: the consolidator's window); one salary-sized payment makes
     * an address sweep, but a merchant paid in full by salaried people is
     * no pool of payouts. Cheap first: the listed sources in the window
     * whatever they are, the payouts past the list (the window index: no
     * read of rule_origin, at most pool_min_sources steps), this source
     * when it is past the list; rule_origin for the listed ones only when
     * that many could be enough */
    uint64_t since = now > cfg->pool_window ? now - cfg->pool_window : 0;
    uint64_t listed_in = 0, past = 0, cur = 0, in_window = 0;
    for (size_t i = 0; i < rec->n; i++)
        listed_in += rec->e[i].kind == RS_KIND_SOURCE && rec->e[i].p.last_time >= since;
    src_counts sc = source_counts(rec);
    if (is_beyond) {
        unsigned of = 0;
        rc = rs_origin_get(r->t, src_key, src_len, &of, err);
        cur = (of & RS_ORIGIN_PAYOUT) != 0;
    }
    if (rc == CW_OK && sc.not_listed > (uint64_t)is_beyond)
        rc = window_past(r, okey, olen, since, src_key, src_len, cfg->pool_min_sources, &past, NULL, 0, err);
    uint64_t listed_pay = 0;
    if (rc == CW_OK && listed_in + past + cur >= cfg->pool_min_sources) {
        for (size_t i = 0; rc == CW_OK && i < rec->n; i++) {
            unsigned of = 0;
            if (rec->e[i].kind == RS_KIND_SOURCE && rec->e[i].p.last_time >= since &&
                (rc = rs_origin_get(r->t, rec->e[i].key, rec->e[i].klen, &of, err)) == CW_OK)
                listed_pay += (of & RS_ORIGIN_PAYOUT) != 0;
        }
        in_window = listed_pay + past + cur;
    }
    if (rc) {
        free(rec);
        return rc;
    }
    if (in_window < cfg->pool_min_sources || !mark(rec, RS_CONSOLIDATOR, cfg->weight[RULE_CONSOLIDATOR])) {
        rc = rec_save(r, okey, olen, rec, err);
        free(rec);
        if (rc == CW_OK && now_pool && r->j)
            rc = rs_origin_add(r->j, okey, olen, RS_ORIGIN_POOL, err);
        return rc;
    }
    /* it fires: the exact count (every payout past the list in the window,
     * a cursor step each, once per pool), the evidence's sources (the
     * listed ones in the window, then those past the list: this one, then
     * the window index's newest first, EVIDENCE_MAX in all), and how many
     * sources past the list the window could not see (kept by an earlier
     * chainwatch, before the window index) */
    json_t *sources = NULL;
    pool_view all = {.list = NULL};
    uint64_t indexed = 0;
    if ((rc = rec_save(r, okey, olen, rec, err)) == CW_OK &&
        (rc = entries_json(r->tx->chain, rec, RS_KIND_SOURCE, false, since, &sources, NULL, err)) == CW_OK &&
        (rc = pool_view_of(rec, &all, err)) == CW_OK && !r->j) {
        /* read only: what this sweep would have written past the list */
        if (is_beyond)
            all.unsaved[all.n_unsaved++] = e;
        if (pn.has_moved)
            all.unsaved[all.n_unsaved++] = &pn.moved;
    }
    if (rc == CW_OK && cur && json_array_size(sources) < EVIDENCE_MAX &&
        json_array_append_new(sources, pair_json(r->tx->chain, src_key, src_len, &e->p, "source")))
        rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "rules: out of memory building evidence");
    if (rc == CW_OK && sc.not_listed > (uint64_t)is_beyond)
        rc = window_past(r, okey, olen, since, src_key, src_len, UINT64_MAX, &past, sources, EVIDENCE_MAX, err);
    if (rc == CW_OK && sc.not_listed > 0 && (rc = rs_indexed_get(r->t, okey, olen, &indexed, err)) == CW_OK && !r->j) {
        /* read only: as if written (window_index's first times): the
         * sources this sweep put past the list, and this source when it
         * was past the list already but not indexed (kept by a chainwatch
         * before the index: its sweep now is what the window sees) */
        indexed += pn.placed;
        bool had = true;
        if (is_beyond && !fresh)
            rc = window_has(r, okey, olen, src_key, src_len, cur != 0, old_last, &had, err);
        indexed += !had;
    }
    if (rc == CW_OK && now_pool && r->j)
        rc = rs_origin_add(r->j, okey, olen, RS_ORIGIN_POOL, err);
    rs_addr ad = rec->a;
    free(rec);
    if (rc) {
        json_decref(sources);
        free(all.list);
        return rc;
    }
    in_window = listed_pay + past + cur;
    uint64_t unseen = sc.not_listed > indexed ? sc.not_listed - indexed : 0;
    json_t *ev = json_object();
    bool ok = true;
    char d0[11], d1[11];
    day_text(since, d0), day_text(now, d1);
    alert_put(ev, "sources", sources, &ok);
    alert_put(ev, "sources_in_window", json_integer((json_int_t)in_window), &ok);
    alert_put(ev, "sources_in_window_not_listed", json_integer((json_int_t)(past + cur)), &ok);
    /* every distinct source: the list's, and those past its cap (rule_pair) */
    alert_put(ev, "sources_total", json_integer((json_int_t)all.sc.total), &ok);
    alert_put(ev, "sources_not_listed", json_integer((json_int_t)all.sc.not_listed), &ok);
    alert_put(ev, "sources_not_examined_by_window", json_integer((json_int_t)unseen), &ok);
    alert_put(ev, "window_from", json_string(d0), &ok);
    alert_put(ev, "window_to", json_string(d1), &ok);
    alert_put(ev, "pooled_usd_cents", json_integer((json_int_t)ad.in_cents), &ok);
    alert_put(ev, "pooled_base_units", json_integer((json_int_t)rs_wide_cap(ad.in_native, ad.in_native_hi)), &ok);
    if (!ok) {
        json_decref(ev);
        free(all.list);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "rules: out of memory building evidence");
    }
    rule_finding *f = fire(r, RULE_CONSOLIDATOR, OTEXT, a, ad.score, ev, err);
    if (f == NULL) {
        free(all.list);
        return CW_ENOMEM;
    }
    r->st->fired[RULE_CONSOLIDATOR]++;
    char m[TOTALS_MAX];
    explain(f,
            "%s pools money from %llu payout addresses (each paid salary-sized amounts by its own payer) "
            "between %s and %s, %s in all so far: the shape of an IT-worker consolidation address, which pools "
            "the pay of several roles before it moves on.",
            OTEXT, (unsigned long long)in_window, d0, d1,
            totals_text(r, ad.in_cents, rs_wide_cap(ad.in_native, ad.in_native_hi), m, sizeof m));
    /* every payout that fed it is now tied to a flagged pool */
    walk_how w = {true, OTEXT, NULL, NULL, a};
    rc = walk_sources(r, okey, olen, &all, &w, err);
    free(all.list);
    return rc;
}

/* ---------- the payment side: payouts ---------- */

/* A payer not in okey's full list paid (b: its pair, updated): a payer
 * that became recurring takes the list place of the one-off payer (never
 * recurring) seen longest ago, which goes to rule_pair; else (or with no
 * such payer) b is kept in rule_pair. Deterministic: the entries' order
 * and times only. Writes only with a journal. */
static cw_code pay_beyond(run *r, const uint8_t *okey, size_t olen, rs_record *rec, const rs_entry *b,
                          bool recurring_now, cw_err *err)
{
    size_t victim = rec->n;
    for (size_t i = 0; recurring_now && i < rec->n; i++) {
        const rs_entry *e = &rec->e[i];
        if (e->kind == RS_KIND_PAYER && !(e->p.flags & RS_PAIR_RECURRING) &&
            (victim == rec->n || e->p.last_time < rec->e[victim].p.last_time))
            victim = i;
    }
    if (victim == rec->n)
        return r->j ? rs_pair_put(r->j, okey, olen, b->key, b->klen, &b->p, err) : CW_OK;
    const rs_entry *v = &rec->e[victim];
    cw_code rc = CW_OK;
    if (r->j && ((rc = rs_pair_put(r->j, okey, olen, v->key, v->klen, &v->p, err)) ||
                 (rc = rs_pair_del(r->j, okey, olen, b->key, b->klen, err))))
        return rc;
    memmove(&rec->e[victim], &rec->e[victim + 1], (rec->n - victim - 1) * sizeof rec->e[0]);
    rec->e[rec->n - 1] = *b;
    return CW_OK;
}

cw_code rules_pay_into(run *r, const uint8_t *payer, size_t payer_len, const uint8_t *okey, size_t olen,
                       const amount_view *a, cw_err *err)
{
    LAZY_TEXT;
    uint64_t value = a->native;
    const rules_config *cfg = r->cfg;
    uint64_t now = (uint64_t)r->when;
    rs_record *rec;
    bool found;
    cw_code rc = payee_load(r, okey, olen, &rec, &found, err);
    if (rc || rec == NULL)
        return rc;
    rs_entry *e = rs_record_find(rec, RS_KIND_PAYER, payer, payer_len);
    bool fresh = e == NULL;
    /* the list is full: the payer's pair is in rule_pair (or starts
     * there). Every payer is judged and counted, so throwaway payers sent
     * in first hide no real one; a payer that becomes recurring takes the
     * place of a one-off payer in the list (the evidence) */
    rs_entry beyond;
    bool is_beyond = fresh && rec->n >= RS_LIST_MAX;
    if (is_beyond) {
        rc = beyond_load(r, RS_KIND_PAYER, okey, olen, payer, payer_len, &beyond, err);
        if (rc != CW_OK && rc != CW_ENOTFOUND) {
            free(rec);
            return rc;
        }
        fresh = rc == CW_ENOTFOUND;
        rc = CW_OK;
        e = &beyond;
    }
    if (!fresh && a->kind == BAND_TINY && e->p.count > 0) {
        free(rec);
        return CW_OK; /* a small payment after salaries says nothing the rules use */
    }
    if (is_beyond)
        rec->a.payers_beyond += fresh;
    else if (fresh && (e = rs_record_add(rec, RS_KIND_PAYER, payer, payer_len)) == NULL) {
        free(rec);
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "rules: a payer key of %zu bytes", payer_len);
    }
    rs_pair *p = &e->p;
    if (fresh && a->kind == BAND_TINY)
        p->flags |= RS_PAIR_TINY_FIRST;
    bool tested = false;
    if (a->kind == BAND_TINY) {
        p->tiny++;
    } else {
        if (p->count > 0) {
            uint64_t gap = now - p->last_time;
            if (p->min_gap == 0 || gap < p->min_gap)
                p->min_gap = gap;
            if (gap > p->max_gap)
                p->max_gap = gap;
            if (gap >= cfg->min_gap && gap <= cfg->max_gap)
                p->at_cadence++;
        } else if (p->tiny > 0 && now - p->first_time <= cfg->test_window && !(p->flags & RS_PAIR_TEST_FIRED)) {
            tested = true;
            p->flags |= RS_PAIR_TEST_FIRED;
        }
        p->count++;
    }
    pair_note(p, fresh, now, r->tx->txid, a);
    bool recurring_now =
        a->kind == BAND_SALARY && !(p->flags & RS_PAIR_RECURRING) && p->at_cadence + 1 >= cfg->min_recurring;
    if (recurring_now)
        p->flags |= RS_PAIR_RECURRING;
    if (!found)
        rec->a.first_seen = now;
    rec->a.n_in++;
    total_add(&rec->a.in_cents, &rec->a.in_native, &rec->a.in_native_hi, a);
    rec->a.last_seen = now;
    rec->a.recurring_payers += recurring_now;
    bool now_payout = recurring_now && rec->a.recurring_payers == 1; /* rule_origin learns it after the save */
    rec->a.salaries += a->kind == BAND_SALARY;
    rs_pair pair = *p;
    tested = tested && mark(rec, RS_TEST_THEN_SALARY, cfg->weight[RULE_TEST_THEN_SALARY]);
    uint64_t test_score = rec->a.score;
    bool shared = recurring_now && rec->a.recurring_payers >= cfg->shared_min_payers &&
                  rec->a.recurring_payers <= cfg->shared_max_payers &&
                  mark(rec, RS_SHARED_PAYOUT, cfg->weight[RULE_SHARED_PAYOUT]);
    if (is_beyond && (rc = pay_beyond(r, okey, olen, rec, &beyond, recurring_now, err))) {
        free(rec);
        return rc;
    }
    json_t *payers = NULL;
    if ((rc = rec_save(r, okey, olen, rec, err)) == CW_OK && shared)
        rc = entries_json(r->tx->chain, rec, RS_KIND_PAYER, true, 0, &payers, NULL, err);
    if (rc == CW_OK && now_payout && r->j && (rc = rs_origin_add(r->j, okey, olen, RS_ORIGIN_PAYOUT, err)) == CW_OK)
        rc = window_promote(r, okey, olen, err); /* the pools it waits in past their lists see it now */
    rs_addr ad = rec->a;
    size_t listed = 0;
    for (size_t i = 0; i < rec->n; i++)
        listed += rec->e[i].kind == RS_KIND_PAYER;
    free(rec);
    if (rc)
        return rc;
    char m[MONEY_MAX], payer_text[CW_ADDR_TEXT_MAX + WL_KEY_MAX];
    key_text(payer, payer_len, payer_text, sizeof payer_text);
    if (tested) {
        json_t *ev = pair_json(r->tx->chain, payer, payer_len, &pair, "payer");
        bool ok = ev != NULL;
        /* an unpriced test before a priced salary was in another asset
         * (account chains: a band's, e.g. ETH before USDC) than a's, and the
         * pair keeps no asset per payment: its base units, unnamed */
        static const rules_unit unnamed = {NULL, 0};
        amount_view t0 = {BAND_TINY, pair.first_cents > 0, pair.first_cents, pair.first_native,
                          pair.first_cents == 0 && a->usd && a->unit ? &unnamed : a->unit, false, false, 0, 0};
        alert_put(ev, "test_usd_cents", json_integer((json_int_t)pair.first_cents), &ok);
        alert_put(ev, "test_base_units", json_integer((json_int_t)pair.first_native), &ok);
        alert_put(ev, "salary_usd_cents", json_integer((json_int_t)a->cents), &ok);
        alert_put(ev, "salary_base_units", json_integer((json_int_t)value), &ok);
        if (!ok) {
            json_decref(ev);
            json_decref(payers);
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "rules: out of memory building evidence");
        }
        rule_finding *f = fire(r, RULE_TEST_THEN_SALARY, OTEXT, a, test_score, ev, err);
        if (f == NULL) {
            json_decref(payers);
            return CW_ENOMEM;
        }
        r->st->fired[RULE_TEST_THEN_SALARY]++;
        char m0[MONEY_MAX], d0[11];
        day_text(pair.first_time, d0);
        explain(f,
                "%s was first paid a tiny amount (%s on %s) and then a salary-sized one (%s) by the same payer "
                "%s: the test-then-salary start seen in IT-worker payouts. Weak alone (many payroll set-ups "
                "test an address first); it counts when other rules agree.",
                OTEXT, money_text(&t0, pair.first_native, m0, sizeof m0), d0, money_text(a, value, m, sizeof m),
                payer_text);
    }
    if (shared) {
        json_t *ev = json_object();
        bool ok = true;
        alert_put(ev, "payers", payers, &ok);
        alert_put(ev, "recurring_payers", json_integer((json_int_t)ad.recurring_payers), &ok);
        alert_put(ev, "payers_total", json_integer((json_int_t)(listed + ad.payers_beyond)), &ok);
        alert_put(ev, "payers_not_listed", json_integer((json_int_t)ad.payers_beyond), &ok);
        alert_put(ev, "received_usd_cents", json_integer((json_int_t)ad.in_cents), &ok);
        alert_put(ev, "received_base_units", json_integer((json_int_t)rs_wide_cap(ad.in_native, ad.in_native_hi)), &ok);
        if (!ok) {
            json_decref(ev);
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "rules: out of memory building evidence");
        }
        rule_finding *f = fire(r, RULE_SHARED_PAYOUT, OTEXT, a, ad.score, ev, err);
        if (f == NULL)
            return CW_ENOMEM;
        r->st->fired[RULE_SHARED_PAYOUT]++;
        explain(f,
                "%s is paid salary-sized amounts on a monthly-like cadence (gaps of %llu-%llu days) by %llu unrelated "
                "payers (distinct wallets; %llu distinct payers in all): one payout address shared by several "
                "personas, as DPRK IT workers do. This payment: %s from %s.",
                OTEXT, (unsigned long long)(cfg->min_gap / DAY), (unsigned long long)(cfg->max_gap / DAY),
                (unsigned long long)ad.recurring_payers, (unsigned long long)(listed + ad.payers_beyond),
                money_text(a, value, m, sizeof m), payer_text);
    }
    return CW_OK;
}

/* ---------- the trace forward ---------- */

cw_code rules_trace_reach(run *r, const rs_trace *tr, const uint8_t *okey, size_t olen, bool clusters,
                          const label *lb, const amount_view *a, bool *carry, cw_err *err)
{
    LAZY_TEXT;
    const rules_config *cfg = r->cfg;
    *carry = false;
    /* a designated address (linked keys included: wl_is_listed) or a
     * member of a designated cluster */
    bool listed;
    cw_code rc = wl_is_listed(r->t, okey, olen, &listed, err);
    if (rc)
        return rc;
    if (!listed && clusters) {
        cluster_info ci;
        if ((rc = cluster_find_listed(r->t, okey, olen, false, &ci, NULL, err)))
            return rc;
        listed = ci.designated > 0 && cluster_propagates(&ci);
    }
    if (listed)
        return a->below_hit ? CW_OK : toward(r, tr, false, OTEXT, a, err);
    if (lb == NULL) {
        *carry = true;
        return CW_OK;
    }
    /* a labelled service: the end of the trace; pooled money arriving
     * there is an off-ramp piece */
    if (!tr->pool || !is_offramp(lb))
        return CW_OK;
    rs_record *rec;
    bool found = false;
    if ((rc = rec_load(r->t, tr->origin, tr->origin_len, &rec, &found, err)))
        return rc;
    if (!found || !(rec->a.fired & RS_CONSOLIDATOR)) {
        free(rec);
        return CW_OK;
    }
    rec->a.offramp_pieces++;
    total_add(&rec->a.offramp_cents, &rec->a.offramp_native, NULL, a);
    total_add(&rec->a.out_cents, &rec->a.out_native, &rec->a.out_native_hi, a);
    rec->a.n_out++;
    bool fires = rec->a.offramp_pieces >= cfg->offramp_min_pieces && mark(rec, RS_OFF_RAMP, cfg->weight[RULE_OFF_RAMP]);
    rc = rec_save(r, tr->origin, tr->origin_len, rec, err);
    rs_addr pa = rec->a;
    free(rec);
    if (rc || !fires)
        return rc;
    char pool[CW_ADDR_TEXT_MAX + WL_KEY_MAX];
    key_text(tr->origin, tr->origin_len, pool, sizeof pool);
    json_t *ev = json_object();
    bool ok = true;
    alert_put(ev, "pool", json_string(pool), &ok);
    alert_put(ev, "service", json_string(OTEXT), &ok);
    alert_put(ev, "service_entity", json_string(lb->entity[0] ? lb->entity : lb->category), &ok);
    alert_put(ev, "service_category", json_string(lb->category), &ok);
    alert_put(ev, "pieces", json_integer((json_int_t)pa.offramp_pieces), &ok);
    alert_put(ev, "off_ramped_usd_cents", json_integer((json_int_t)pa.offramp_cents), &ok);
    alert_put(ev, "off_ramped_base_units", json_integer((json_int_t)pa.offramp_native), &ok);
    alert_put(ev, "hops", json_integer(tr->hops), &ok);
    alert_put(ev, "left_pool_txid", txid_json(r->tx->chain, tr->first_txid), &ok);
    alert_put(ev, "hit_txid", txid_json(r->tx->chain, r->tx->txid), &ok);
    if (!ok) {
        json_decref(ev);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "rules: out of memory building evidence");
    }
    rule_finding *f = fire(r, RULE_OFF_RAMP, pool, a, pa.score, ev, err);
    if (f == NULL)
        return CW_ENOMEM;
    r->st->fired[RULE_OFF_RAMP]++;
    char tt[TOTALS_MAX];
    explain(f,
            "%s, flagged as a consolidator of payout addresses, has sent its pooled money to labelled "
            "exchange/OTC/swap services in %llu payments so far (%s in all; this one to %s, %s): the "
            "off-ramp in pieces that follows IT-worker pooling.",
            pool, (unsigned long long)pa.offramp_pieces, totals_text(r, pa.offramp_cents, pa.offramp_native, tt, sizeof tt), OTEXT,
            lb->entity[0] ? lb->entity : lb->category);
    return CW_OK;
}

/* Bitcoin: the trace carried to output vout. */
static cw_code trace_out(run *r, const rs_trace *origin, uint32_t vout, const uint8_t *okey, size_t olen,
                         const label *lb, uint64_t value, uint64_t traced_in, cw_err *err)
{
    const rules_config *cfg = r->cfg;
    rs_trace tr = *origin;
    tr.hops = (uint8_t)(origin->hops + 1);
    if (tr.hops == 1)
        memcpy(tr.first_txid, r->tx->txid, 32);
    if (tr.hops > cfg->hops)
        return CW_OK;
    r->st->traced++;
    amount_view a = btc_view(cfg, value, r->when);
    /* what of the origin's money this output can hold: the least of its
     * value and the traced inputs' (rules_tx) */
    uint64_t part = value < traced_in ? value : traced_in;
    amount_view traced = btc_view(cfg, part, r->when);
    a.below_hit = traced.usd ? traced.cents < cfg->hit_min_cents : part < cfg->hit_min_native;
    bool carry;
    cw_code rc = rules_trace_reach(r, &tr, okey, olen, true, lb, &a, &carry, err);
    if (rc || !carry || r->j == NULL || tr.hops >= cfg->hops)
        return rc;
    uint8_t op[CHAINDB_OUTPOINT_LEN];
    chaindb_outpoint_key(r->tx->txid, vout, op);
    return rs_trace_put(r->j, op, &tr, err);
}

cw_code rules_note_sent(run *r, const uint8_t *key, size_t klen, const amount_view *a, cw_err *err)
{
    if (r->j == NULL)
        return CW_OK;
    rs_record *rec;
    bool found = false;
    cw_code rc = rec_load(r->t, key, klen, &rec, &found, err);
    if (rc == CW_OK && found) {
        rec->a.n_out++;
        total_add(&rec->a.out_cents, &rec->a.out_native, &rec->a.out_native_hi, a);
        rc = rec_save(r, key, klen, rec, err);
    }
    free(rec);
    return rc;
}

/* ---------- per tx ---------- */

cw_code rules_tx(const rules_config *cfg, store_txn *t, journal *j, const cw_tx *tx, int64_t when,
                 const rule_finding **found, size_t *n, rules_stats *st, cw_err *err)
{
    rules_scratch_reset();
    *found = out.f;
    *n = 0;
    rules_stats dummy;
    if (st == NULL)
        st = &dummy;
    if (!cfg->enabled || (tx->flags & CW_TX_COINBASE))
        return CW_OK;
    st->txs++;
    run r = {cfg, t, j, tx, when, st, NULL, NULL};
    cw_code rc = grow_inputs(tx->n_in, err);
    if (rc)
        return rc;
    /* 1. inputs. Whether an input is a payout sweeping (its record) is
     * asked only when the tx has a sweep's shape (one output taking most
     * of what it spends); whether it starts a trace, from the small
     * rule_origin table. */
    uint64_t total_in = 0;
    bool all_resolved = true, sweep_shape = false;
    for (size_t i = 0; i < tx->n_in; i++) {
        total_in += tx->in[i].resolved ? tx->in[i].value : 0;
        all_resolved &= tx->in[i].resolved;
    }
    for (size_t o = 0; all_resolved && total_in > 0 && o < tx->n_out && !sweep_shape; o++)
        sweep_shape = (unsigned __int128)tx->out[o].value * 1000000u >= (unsigned __int128)total_in * cfg->sweep_ppm;
    const in_view *payout_src = NULL;
    rs_trace origin;
    bool have_origin = false;
    size_t first_addr = (size_t)-1;
    for (size_t i = 0; i < tx->n_in; i++) {
        in_view *v = &ins.in[i];
        memset(v, 0, sizeof *v);
        const cw_txin *ti = &tx->in[i];
        cw_addr a;
        if (ti->resolved && ti->addr.kind != CW_ADDR_NONE)
            a = ti->addr, v->has_addr = true;
        else if (!ti->resolved && btc_input_hint(ti, (cw_net)tx->net, &a))
            v->has_addr = true;
        if (v->has_addr) {
            v->klen = wl_key_from_addr(&a, v->key);
            if (first_addr == (size_t)-1)
                first_addr = i;
            unsigned of;
            if ((rc = rs_origin_get(t, v->key, v->klen, &of, err)))
                return rc;
            v->recurring = (of & RS_ORIGIN_PAYOUT) != 0;
            v->pool_like = (of & RS_ORIGIN_POOL) != 0;
            if (sweep_shape && payout_src == NULL) {
                rs_addr ad;
                rc = rs_addr_get(t, v->key, v->klen, &ad, err);
                if (rc == CW_OK)
                    v->payout_like = ad.salaries > 0;
                else if (rc != CW_ENOTFOUND)
                    return rc;
                if (v->payout_like)
                    payout_src = v;
            }
            /* the nearest origin: a pool or payout spending, else what its coins carry */
            if (v->pool_like || v->recurring) {
                if (!have_origin || origin.hops > 0 || (v->pool_like && !origin.pool)) {
                    memset(&origin, 0, sizeof origin);
                    memcpy(origin.origin, v->key, v->klen);
                    origin.origin_len = v->klen;
                    origin.pool = v->pool_like;
                    origin.hops = 0;
                    have_origin = true;
                }
            }
        }
        if (ti->resolved) {
            uint8_t op[CHAINDB_OUTPOINT_LEN];
            chaindb_outpoint_key(ti->prev_txid, ti->prev_vout, op);
            rs_trace *carried = &v->tr;
            rc = rs_trace_get(t, op, carried, err);
            if (rc == CW_OK) {
                v->carried = true;
                if (!have_origin || carried->hops < origin.hops)
                    origin = *carried, have_origin = true;
                if (j && (rc = rs_trace_del(j, op, err)))
                    return rc;
            } else if (rc != CW_ENOTFOUND) {
                return rc;
            }
        }
    }
    if (first_addr == (size_t)-1)
        return CW_OK; /* nobody we can name pays */
    /* the money of the origin's in this tx: the inputs that are the origin
     * or carry its trace (an output gets the trace whole, but no more of
     * the origin's money than came in: a framer paying a designated
     * address from its own coins and a dust coin of a payout's is no hit) */
    uint64_t traced_in = 0;
    for (size_t i = 0; have_origin && i < tx->n_in; i++) {
        const in_view *v = &ins.in[i];
        bool own = (v->recurring || v->pool_like) && v->klen == origin.origin_len &&
                   memcmp(v->key, origin.origin, v->klen) == 0;
        bool via = v->carried && v->tr.origin_len == origin.origin_len && v->tr.pool == origin.pool &&
                   memcmp(v->tr.origin, origin.origin, origin.origin_len) == 0;
        if ((own || via) && tx->in[i].resolved)
            traced_in = rs_sat_add(traced_in, tx->in[i].value);
    }
    const uint8_t *payer_root = NULL;
    size_t payer_len = 0;
    cluster_info payer_ci;
    /* 2. outputs */
    for (size_t o = 0; o < tx->n_out; o++) {
        const cw_txout *to = &tx->out[o];
        if (to->addr.kind == CW_ADDR_NONE || to->value == 0)
            continue;
        uint8_t okey[WL_KEY_MAX];
        size_t olen = wl_key_from_addr(&to->addr, okey);
        bool change = false;
        for (size_t i = 0; i < tx->n_in && !change; i++)
            change = ins.in[i].has_addr && ins.in[i].klen == olen && memcmp(ins.in[i].key, okey, olen) == 0;
        if (change)
            continue;
        const label *lb = cfg->labels ? labels_find(cfg->labels, &to->addr) : NULL;
        amount_view a = {BAND_NONE, false, 0, to->value, NULL, false, true, to->value, 0};
        bool need_text = payout_src || have_origin;
        if (!need_text) {
            a = classify(cfg, to->value, when);
            need_text = a.kind != BAND_NONE && lb == NULL;
        }
        if (!need_text)
            continue;
        /* a payout-like address paying (nearly) all it spends to one
         * address sweeps; a part of it (rent, a purchase) is a payment */
        bool sweep = payout_src && all_resolved && total_in > 0 &&
                     (unsigned __int128)to->value * 1000000u >= (unsigned __int128)total_in * cfg->sweep_ppm;
        if (sweep && lb == NULL) {
            st->sweeps++;
            a.usd = prices_cents(cfg->prices, "BTC", 8, to->value, when, &a.cents);
            if ((rc = rules_sweep_into(&r, payout_src->key, payout_src->klen, okey, olen, &a, err)))
                return rc;
        } else if (!sweep && lb == NULL) {
            if (have_origin || payout_src)
                a = classify(cfg, to->value, when);
            if (a.kind != BAND_NONE && payer_root == NULL) {
                payer_root = ins.in[first_addr].key;
                payer_len = ins.in[first_addr].klen;
                if (cfg->payer_cluster) {
                    if ((rc = cluster_find(t, payer_root, payer_len, &payer_ci, NULL, err)))
                        return rc;
                    payer_root = payer_ci.root.key;
                    payer_len = payer_ci.root.len;
                }
            }
            if (a.kind == BAND_TINY) {
                /* tiny payments are most of all payments; only a payer that
                 * pays salaries makes one worth keeping (test_then_salary) */
                unsigned pf;
                if ((rc = rs_origin_get(t, payer_root, payer_len, &pf, err)))
                    return rc;
                if (!(pf & RS_ORIGIN_PAYER))
                    a.kind = BAND_NONE;
            }
            if (a.kind != BAND_NONE) {
                st->payments++;
                if ((rc = rules_pay_into(&r, payer_root, payer_len, okey, olen, &a, err)))
                    return rc;
                if (a.kind == BAND_SALARY && j && (rc = rs_origin_add(j, payer_root, payer_len, RS_ORIGIN_PAYER, err)))
                    return rc;
            }
        }
        if (have_origin && (rc = trace_out(&r, &origin, (uint32_t)o, okey, olen, lb, to->value, traced_in, err)))
            return rc;
    }
    *found = out.f;
    *n = out.n;
    return CW_OK;
}

json_t *rules_address_json(const rules_config *cfg, store_txn *t, const uint8_t *key, size_t klen, cw_code *rc,
                           cw_err *err)
{
    rs_record *rec;
    bool found;
    if ((*rc = rec_load(t, key, klen, &rec, &found, err)))
        return NULL;
    if (!found) {
        free(rec);
        return NULL;
    }
    const rs_addr *a = &rec->a;
    json_t *o = json_object(), *fired = json_array(), *payers = NULL, *sources = NULL;
    bool ok = true;
    for (int k = 0; k < RULE_COUNT; k++)
        if ((a->fired & rule_bits[k]) || (k == RULE_TOWARD_DESIGNATED && (a->fired & RS_TOWARD_POOL)))
            alert_push(fired, json_string(rule_names[k]), &ok);
    alert_put(o, "rules", fired, &ok);
    alert_put(o, "score", json_integer((json_int_t)a->score), &ok);
    alert_put(o, "risk", json_string(rule_risk_name(rules_risk(cfg, a->score))), &ok);
    alert_put(o, "payments_in", json_integer((json_int_t)a->n_in), &ok);
    alert_put(o, "payments_out", json_integer((json_int_t)a->n_out), &ok);
    alert_put(o, "in_usd_cents", json_integer((json_int_t)a->in_cents), &ok);
    alert_put(o, "in_base_units", json_integer((json_int_t)rs_wide_cap(a->in_native, a->in_native_hi)), &ok);
    alert_put(o, "out_usd_cents", json_integer((json_int_t)a->out_cents), &ok);
    alert_put(o, "out_base_units", json_integer((json_int_t)rs_wide_cap(a->out_native, a->out_native_hi)), &ok);
    alert_put(o, "first_seen", a->first_seen ? day_json(a->first_seen) : json_null(), &ok);
    alert_put(o, "last_seen", a->last_seen ? day_json(a->last_seen) : json_null(), &ok);
    alert_put(o, "salary_payments", json_integer((json_int_t)a->salaries), &ok);
    alert_put(o, "recurring_payers", json_integer((json_int_t)a->recurring_payers), &ok);
    size_t listed = 0;
    for (size_t i = 0; i < rec->n; i++)
        listed += rec->e[i].kind == RS_KIND_PAYER;
    /* every distinct payer: the list's, and those past its cap (rule_pair) */
    alert_put(o, "payers_total", json_integer((json_int_t)(listed + a->payers_beyond)), &ok);
    alert_put(o, "payers_not_listed", json_integer((json_int_t)a->payers_beyond), &ok);
    alert_put(o, "pool_sources", json_integer((json_int_t)a->pool_sources), &ok);
    src_counts sc = source_counts(rec); /* every distinct source too, past the list included */
    alert_put(o, "sources_total", json_integer((json_int_t)sc.total), &ok);
    alert_put(o, "sources_not_listed", json_integer((json_int_t)sc.not_listed), &ok);
    /* those past the list the consolidator's window cannot see (kept by a
     * chainwatch before the window index, or counted and never kept) */
    uint64_t indexed = 0;
    if (sc.not_listed > 0 && (*rc = rs_indexed_get(t, key, klen, &indexed, err))) {
        free(rec);
        json_decref(o);
        return NULL;
    }
    alert_put(o, "sources_not_examined_by_window",
              json_integer((json_int_t)(sc.not_listed > indexed ? sc.not_listed - indexed : 0)), &ok);
    uint8_t chain = key_chain(key, klen);
    if (ok && (*rc = entries_json(chain, rec, RS_KIND_PAYER, false, 0, &payers, NULL, err)) == CW_OK)
        *rc = entries_json(chain, rec, RS_KIND_SOURCE, false, 0, &sources, NULL, err);
    free(rec);
    if (*rc) {
        json_decref(payers);
        json_decref(o);
        return NULL;
    }
    alert_put(o, "payers", payers, &ok);
    alert_put(o, "sources", sources, &ok);
    if (!ok) {
        json_decref(o);
        *rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "rules: out of memory");
        return NULL;
    }
    return o;
}
