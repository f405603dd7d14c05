/*
 * rules_account.c: the pattern rules on account chains (Ethereum, Tron):
 * rules_account_tx (rules.h). The rules themselves are rules.c's
 * (rules_internal.h); this file says what a payment, a sweep and a trace
 * are when money moves as transfers between accounts.
 *
 * Design note.
 * - A payment is one transfer of a confirmed, successful tx: payer = the
 *   `from` account (an account is its own wallet: no clustering), payee =
 *   `to`. Skipped as on Bitcoin: a payee that is a labelled service, and
 *   (the account form of change) a transfer to itself; and what is not a
 *   movement: TOKEN_CALL transfers (a pending call's calldata: a mined
 *   tx's token moves are its Transfer logs), contract creations, zero
 *   amounts, mints and burns (from or to the zero account: else a token's
 *   issuer would be a "payer" of everyone it mints to).
 * - A raw tx (rules_account_raw_tx: screen, before broadcast) has not run:
 *   it has no logs, and what it asks is all there is to judge. Its
 *   transfers are its native value and the ERC-20/TRC-20
 *   transfer/transferFrom call read from its calldata (TOKEN_CALL, from =
 *   the call's `from` for transferFrom, else the signer), judged as the
 *   payments they would be if the tx confirmed now and succeeded, with
 *   the same skips otherwise. What only running it shows (internal calls,
 *   a contract's own Transfers, a revert) is not there.
 * - Read only (no journal: screening): every write below is skipped
 *   whole (the stats, pairs, origins and traces the payment would write
 *   are only read), so each transfer is judged against the store as it
 *   is; the findings are those the confirmed tx would make, one transfer
 *   at a time.
 * - Amounts: USD cents when the asset has a price on the day (a known
 *   token's symbol: USDC, USDT ... 1:1; else --prices by symbol: ETH, TRX,
 *   WETH ...), else the asset's band in rules_config.asset_band (symbol and
 *   decimals must both match), else the transfer is not scored. Bands
 *   compare the exact 256-bit amount. The stats total per unit
 *   (rulestats.h): USD cents with a price, the coin's base units without
 *   (128-bit for an address), never a token's base units.
 * - Only assets we can name carry anything: the native coin and tokens in
 *   the tokens table. A token's Transfer log can be emitted by any contract
 *   with any `from`, so an unknown token could make an innocent payout
 *   "pay" a designated address; it is neither scored nor traced.
 * - A sweep: an account has no inputs to compare an output with. A
 *   payout-like account (it received a salary-sized payment) sweeps when
 *   one transfer moves at least sweep_ppm of what it received in the bands
 *   and has not sent on yet, like with like: a priced transfer in USD
 *   cents, an unpriced coin transfer in the coin's base units (exact).
 *   Its sends of scored assets count as sent on (rules_note_sent), so
 *   once it swept its pay, small payments after it are payments.
 * - The trace is per account (rulestats.h: 'A' || key): an account that is
 *   a payout paid on cadence or a pool starts one with each transfer out;
 *   an account that got a trace passes it on with its transfers for
 *   trace_window after it got it (balances are fungible: any later transfer
 *   may be that money, so the window bounds the guess), up to `hops`
 *   transfers from the origin. Nearest origin wins: a trace replaces the
 *   account's when it has fewer hops or the old one expired; the same
 *   origin again restarts the window (the nearer hops kept; at equal
 *   hops the new money's tx becomes the evidence's), so
 *   dust sent ahead of the money cannot make the money's trace expire. Reaching a
 *   designated address (linked keys too) or a labelled service is
 *   rules.c's (rules_trace_reach); there are no clusters here.
 * - How much: a trace also keeps how much of the origin's money the
 *   account got (rs_trace.amount, in millionths of the hit minimum so that
 *   assets add up; the same origin's pieces add up). A transfer carries on
 *   the least of its amount and that; below the minimum (rules.h
 *   hit_min_*) reaching a designated address is no payout_toward_designated:
 *   whoever a payout paid dust cannot frame it with its own money.
 */
#include <string.h>
#include <strings.h>

#include "rules_internal.h"
#include "watchlists/watchlist.h"

/* The unit and price symbol of a transfer's asset; false when the rules
 * cannot name it (an unknown token, a TRC-10 asset). */
static bool asset_unit(const rules_chain *ch, const cw_asset *as, rules_unit *u)
{
    if (as->kind == CW_ASSET_NATIVE) {
        u->symbol = ch->native_symbol;
        u->decimals = ch->native_decimals;
        return u->symbol != NULL;
    }
    if (as->kind != CW_ASSET_TOKEN || ch->tokens == NULL)
        return false;
    const token_info *ti = tokens_find(ch->tokens, &as->contract);
    if (ti == NULL)
        return false;
    u->symbol = ti->symbol;
    u->decimals = ti->decimals;
    return true;
}

/* The zero account (0x00..00; Tron's T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb):
 * a token's Transfer log from it is a mint, to it a burn. Nobody holds
 * it: it pays and is paid by nobody. */
static bool zero_account(const cw_addr *a)
{
    if (a->kind != CW_ADDR_EVM && a->kind != CW_ADDR_TRON)
        return false;
    for (size_t i = 0; i < a->len; i++)
        if (a->payload[i])
            return false;
    return true;
}

static const rule_asset_band *asset_band(const rules_config *cfg, const rules_unit *u)
{
    for (size_t i = 0; i < RULES_ASSET_BANDS && cfg->asset_band[i].symbol[0]; i++)
        if (cfg->asset_band[i].decimals == u->decimals && strcasecmp(cfg->asset_band[i].symbol, u->symbol) == 0)
            return &cfg->asset_band[i];
    return NULL;
}

static bool in_band256(const cw_u256 *v, const rule_band256 *b)
{
    return cw_u256_cmp(v, &b->lo) >= 0 && cw_u256_cmp(v, &b->hi) <= 0;
}

#define HIT_PPM 1000000u

/* A transfer's amount in millionths of the least a hit needs in its asset
 * (rules.h hit_min_*; rs_trace.amount), saturated at RS_TOTAL_MAX: an
 * asset without a price or a band cannot be judged, and counts whole. */
static uint64_t hit_ppm(const rules_config *cfg, const rules_unit *u, const cw_u256 *amount, const amount_view *a)
{
    const rule_asset_band *b = a->usd ? NULL : asset_band(cfg, u);
    if (a->usd) {
        if (cfg->hit_min_cents == 0)
            return RS_TOTAL_MAX;
        unsigned __int128 v = (unsigned __int128)a->cents * HIT_PPM / cfg->hit_min_cents;
        return v > RS_TOTAL_MAX ? RS_TOTAL_MAX : (uint64_t)v;
    }
    if (b == NULL || cw_u256_is_zero(&b->hit_min))
        return RS_TOTAL_MAX;
    cw_u256 ppm, v;
    cw_u256_set_u64(&ppm, HIT_PPM);
    uint64_t out;
    if (!cw_u256_mul_div(&v, amount, &ppm, &b->hit_min) || !cw_u256_to_u64(&v, &out) || out > RS_TOTAL_MAX)
        return RS_TOTAL_MAX;
    return out;
}

/* The view of a transfer: *scored false when neither a price nor a band
 * applies (kind NONE then). */
static amount_view view_of(const rules_config *cfg, const rules_unit *u, bool coin, const cw_u256 *amount, int64_t when,
                           bool *scored)
{
    amount_view a = {BAND_NONE, false, 0, 0, u, false, coin, amount->w[0], amount->w[1]};
    if (amount->w[2] | amount->w[3])
        a.exact_lo = a.exact_hi = UINT64_MAX; /* past 2^128: saturated, as the totals */
    if (!cw_u256_to_u64(amount, &a.native) || a.native > RS_TOTAL_MAX)
        a.native = RS_TOTAL_MAX; /* the stats' cap (rulestats.h); the bands compare the exact amount */
    a.usd = prices_cents_u256(cfg->prices, u->symbol, u->decimals, amount, when, &a.cents);
    if (a.usd && a.cents > RS_TOTAL_MAX)
        a.cents = RS_TOTAL_MAX;
    if (a.usd) {
        *scored = true;
        if (a.cents >= cfg->salary_cents.lo && a.cents <= cfg->salary_cents.hi)
            a.kind = BAND_SALARY;
        else if (a.cents >= cfg->tiny_cents.lo && a.cents <= cfg->tiny_cents.hi)
            a.kind = BAND_TINY;
        return a;
    }
    const rule_asset_band *b = asset_band(cfg, u);
    *scored = b != NULL;
    if (b && in_band256(amount, &b->salary))
        a.kind = BAND_SALARY;
    else if (b && in_band256(amount, &b->tiny))
        a.kind = BAND_TINY;
    return a;
}

/* Is this transfer by a payout-like account a sweep? ad: its stats. Like
 * with like (rulestats.h: totals per unit): a priced transfer against
 * what it got and sent with a price (USD cents), the coin's without one
 * against the coin's without one (base units, exact: 128-bit totals); a
 * token without a price has no totals, and is no sweep. */
static bool is_sweep(const rules_config *cfg, const rs_addr *ad, const amount_view *a)
{
    typedef unsigned __int128 u128;
    u128 in, out, v;
    if (a->usd)
        in = ad->in_cents, out = ad->out_cents, v = a->cents;
    else if (a->coin)
        in = (u128)ad->in_native_hi << 64 | ad->in_native, out = (u128)ad->out_native_hi << 64 | ad->out_native,
        v = (u128)a->exact_hi << 64 | a->exact_lo;
    else
        return false;
    if (in <= out)
        return false; /* sent on all it received already */
    /* v * 1e6 >= (in - out) * ppm without overflow (the share is at most 1e6 ppm) */
    u128 d = in - out;
    if (v >= d)
        return true;
    if (d >> 100) /* past 2^100 base units (10^12 ether): to a millionth */
        return v >= d / 1000000u * cfg->sweep_ppm;
    return v * 1000000u >= d * cfg->sweep_ppm;
}

/* Is a trace an account got at `got` still passed on at `now`? */
static bool fresh(const rules_config *cfg, uint64_t got, int64_t now)
{
    return (uint64_t)now <= got || (uint64_t)now - got <= cfg->trace_window;
}

/* The trace carried by a transfer from an account to `to`. */
static cw_code trace_to(rules_run *r, const rs_trace *origin, const uint8_t *tkey, size_t tlen, const label *lb,
                        const amount_view *a0, uint64_t ppm, cw_err *err)
{
    const rules_config *cfg = r->cfg;
    rs_trace tr = *origin;
    /* what of the origin's money this transfer can carry: no more than it
     * moves, nor than the sender got of it (balances are fungible: the
     * rest may be anyone's). A framer paid dust by a payout, sending its
     * own money on to a designated address, carries the dust only */
    tr.amount = ppm < origin->amount ? ppm : origin->amount;
    amount_view av = *a0;
    av.below_hit = tr.amount < HIT_PPM;
    const amount_view *a = &av;
    tr.hops = (uint8_t)(origin->hops + 1);
    if (tr.hops == 1)
        memcpy(tr.first_txid, r->tx->txid, 32);
    if (tr.hops > cfg->hops)
        return CW_OK;
    r->st->traced++;
    bool carry;
    cw_code rc = rules_trace_reach(r, &tr, tkey, tlen, false, lb, a, &carry, err);
    if (rc || !carry || r->j == NULL || tr.hops >= cfg->hops)
        return rc;
    rs_trace have;
    rc = rs_trace_account_get(r->t, tkey, tlen, &have, err);
    if (rc != CW_OK && rc != CW_ENOTFOUND)
        return rc;
    if (rc == CW_OK && have.hops <= tr.hops && fresh(cfg, have.when, r->when)) {
        /* it carries a nearer (or as near) origin already. The same
         * origin's new money adds to what it got and restarts the window
         * (else 1 base unit sent ahead would make the money itself expire
         * early: an evasion) */
        if (have.pool != tr.pool || have.origin_len != tr.origin_len ||
            memcmp(have.origin, tr.origin, tr.origin_len) != 0)
            return CW_OK;
        uint64_t sum = rs_sat_add(have.amount, tr.amount);
        uint64_t when = have.when > (uint64_t)r->when ? have.when : (uint64_t)r->when;
        if (have.hops < tr.hops || have.when >= (uint64_t)r->when)
            tr = have; /* as near as it was; at the same hops the new money's tx is the evidence */
        tr.when = when;
        tr.amount = sum;
        return rs_trace_account_put(r->j, tkey, tlen, &tr, err);
    }
    tr.when = (uint64_t)r->when;
    return rs_trace_account_put(r->j, tkey, tlen, &tr, err);
}

/* rules_account_tx and rules_account_raw_tx: calls says whether a
 * TOKEN_CALL transfer is a payment (a raw tx's: the call is all it shows)
 * or skipped (a confirmed tx's: its Transfer logs are what happened). */
static cw_code account_tx(const rules_config *cfg, const rules_chain *chain, store_txn *t, journal *j, const cw_tx *tx,
                          int64_t when, bool calls, const rule_finding **found, size_t *n, rules_stats *st, cw_err *err)
{
    rules_scratch_reset();
    rules_scratch_out(found, n);
    rules_stats dummy;
    if (st == NULL)
        st = &dummy;
    if (!cfg->enabled || (tx->flags & CW_TX_FAILED) || tx->n_xfer == 0)
        return CW_OK;
    st->txs++;
    rules_unit coin = {chain->native_symbol, chain->native_decimals};
    rules_run r = {cfg, t, j, tx, when, st, NULL, &coin};
    cw_code rc = CW_OK;
    for (size_t k = 0; rc == CW_OK && k < tx->n_xfer; k++) {
        const cw_transfer *x = &tx->xfer[k];
        if ((x->kind == CW_XFER_TOKEN_CALL && !calls) || x->from.kind == CW_ADDR_NONE || x->to.kind == CW_ADDR_NONE ||
            cw_u256_is_zero(&x->amount) || cw_addr_eq(&x->from, &x->to) || zero_account(&x->from) ||
            zero_account(&x->to))
            continue;
        rules_unit unit;
        if (!asset_unit(chain, &x->asset, &unit))
            continue; /* an asset we cannot name: see the design note */
        r.xfer = x;
        bool scored;
        amount_view a = view_of(cfg, &unit, x->asset.kind == CW_ASSET_NATIVE, &x->amount, when, &scored);
        uint8_t fkey[WL_KEY_MAX], tkey[WL_KEY_MAX];
        size_t flen = wl_key_from_addr(&x->from, fkey), tlen = wl_key_from_addr(&x->to, tkey);
        /* where a trace starts: the payer itself (a payout on cadence, a
         * pool), else the trace it got, while fresh */
        unsigned of;
        if ((rc = rs_origin_get(t, fkey, flen, &of, err)))
            break;
        rs_trace origin;
        bool have_origin = (of & (RS_ORIGIN_PAYOUT | RS_ORIGIN_POOL)) != 0;
        if (have_origin) {
            memset(&origin, 0, sizeof origin);
            memcpy(origin.origin, fkey, flen);
            origin.origin_len = flen;
            origin.pool = (of & RS_ORIGIN_POOL) != 0;
            origin.amount = RS_TOTAL_MAX; /* its own money: all of it */
        } else {
            rc = rs_trace_account_get(t, fkey, flen, &origin, err);
            if (rc == CW_OK)
                have_origin = fresh(cfg, origin.when, when);
            else if (rc != CW_ENOTFOUND)
                break;
            rc = CW_OK;
        }
        const label *lb = cfg->labels ? labels_find(cfg->labels, &x->to) : NULL;
        /* a payout-like payer: is this its sweep? */
        bool sweep = false;
        if (scored) {
            rs_addr ad;
            rc = rs_addr_get(t, fkey, flen, &ad, err);
            if (rc == CW_OK && ad.salaries > 0) {
                sweep = lb == NULL && is_sweep(cfg, &ad, &a);
                rc = rules_note_sent(&r, fkey, flen, &a, err);
            } else if (rc == CW_ENOTFOUND) {
                rc = CW_OK;
            }
            if (rc)
                break;
        }
        if (sweep) {
            st->sweeps++;
            rc = rules_sweep_into(&r, fkey, flen, tkey, tlen, &a, err);
        } else if (lb == NULL && a.kind != BAND_NONE) {
            /* tiny payments are kept only from payers that pay salaries
             * (rules.h, test_then_salary) */
            if (a.kind == BAND_TINY && !(of & RS_ORIGIN_PAYER))
                a.kind = BAND_NONE;
            if (a.kind != BAND_NONE) {
                st->payments++;
                rc = rules_pay_into(&r, fkey, flen, tkey, tlen, &a, err);
                if (rc == CW_OK && a.kind == BAND_SALARY && j)
                    rc = rs_origin_add(j, fkey, flen, RS_ORIGIN_PAYER, err);
            }
        }
        if (rc == CW_OK && have_origin)
            rc = trace_to(&r, &origin, tkey, tlen, lb, &a, hit_ppm(cfg, &unit, &x->amount, &a), err);
    }
    if (rc)
        return rc;
    rules_scratch_out(found, n);
    return CW_OK;
}

cw_code rules_account_tx(const rules_config *cfg, const rules_chain *chain, store_txn *t, journal *j, const cw_tx *tx,
                         int64_t when, const rule_finding **found, size_t *n, rules_stats *st, cw_err *err)
{
    return account_tx(cfg, chain, t, j, tx, when, false, found, n, st, err);
}

cw_code rules_account_raw_tx(const rules_config *cfg, const rules_chain *chain, store_txn *t, const cw_tx *tx,
                             int64_t when, const rule_finding **found, size_t *n, cw_err *err)
{
    return account_tx(cfg, chain, t, NULL, tx, when, true, found, n, NULL, err);
}
