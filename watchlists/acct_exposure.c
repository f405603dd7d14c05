/* acct_exposure.c: the account-chain haircut (acct_exposure.h). */
#include "acct_exposure.h"

#include <string.h>

#include "chains/be.h"

#define ACCT_ASSET_LEN 21
#define ACCT_KEY_MAX (1 + WL_KEY_MAX + ACCT_ASSET_LEN)
#define ACCT_VAL_FIXED (1 + 1 + 32 + 32 + 32 + 1)

static size_t make_key(const cw_addr *a, const cw_asset *as, uint8_t out[ACCT_KEY_MAX])
{
    size_t kn = wl_key_from_addr(a, out + 1);
    out[0] = (uint8_t)kn;
    uint8_t *p = out + 1 + kn;
    memset(p, 0, ACCT_ASSET_LEN);
    p[0] = as->kind;
    if (as->kind == CW_ASSET_TOKEN && as->contract.len == 20)
        memcpy(p + 1, as->contract.payload, 20);
    else if (as->kind == CW_ASSET_TRC10)
        cw_put_be(p + 13, as->id, 8);
    return 1 + kn + ACCT_ASSET_LEN;
}

static size_t encode(const acct_exposure *e, uint8_t *out)
{
    out[0] = 1;
    out[1] = e->hops;
    cw_u256_to_be(&e->received, out + 2);
    cw_u256_to_be(&e->tainted, out + 34);
    memcpy(out + 66, e->txid, 32);
    out[98] = (uint8_t)e->source_len;
    memcpy(out + 99, e->source, e->source_len);
    return ACCT_VAL_FIXED + e->source_len;
}

static bool decode(cw_span v, acct_exposure *e)
{
    if (v.n < ACCT_VAL_FIXED || v.p[0] != 1 || v.p[1] == 0 || v.p[1] > ACCT_EXPOSURE_MAX_HOPS ||
        v.p[98] > WL_KEY_MAX || v.n != (size_t)ACCT_VAL_FIXED + v.p[98])
        return false;
    memset(e, 0, sizeof *e);
    e->hops = v.p[1];
    cw_u256_from_be(v.p + 2, 32, &e->received, NULL);
    cw_u256_from_be(v.p + 34, 32, &e->tainted, NULL);
    memcpy(e->txid, v.p + 66, 32);
    e->source_len = v.p[98];
    memcpy(e->source, v.p + 99, e->source_len);
    return cw_u256_cmp(&e->tainted, &e->received) <= 0;
}

static bool decode_asset(const uint8_t *p, cw_asset *as)
{
    memset(as, 0, sizeof *as);
    as->kind = p[0];
    if (as->kind == CW_ASSET_TOKEN)
        cw_addr_set(&as->contract, CW_CHAIN_EVM, CW_NET_MAIN, CW_ADDR_EVM, 0, p + 1, 20);
    else if (as->kind == CW_ASSET_TRC10)
        for (int i = 0; i < 8; i++)
            as->id = (as->id << 8) | p[13 + i];
    return as->kind <= CW_ASSET_TRC10;
}

cw_code acct_exposure_get(store_txn *t, const cw_addr *a, const cw_asset *as, acct_exposure *out, cw_err *err)
{
    uint8_t k[ACCT_KEY_MAX];
    size_t kn = make_key(a, as, k);
    cw_span v;
    cw_code rc = store_get(t, STORE_ACCT_EXPOSURE, k, kn, &v, err);
    if (rc)
        return rc;
    if (!decode(v, out))
        return store_damaged(t, err, "an account exposure record does not decode");
    return CW_OK;
}

cw_code acct_exposure_each(store_txn *t, const cw_addr *a, acct_exposure_fn fn, void *ctx, cw_err *err)
{
    uint8_t prefix[1 + WL_KEY_MAX];
    size_t kn = wl_key_from_addr(a, prefix + 1);
    prefix[0] = (uint8_t)kn;
    store_cursor *c;
    cw_code rc = store_cursor_open(t, STORE_ACCT_EXPOSURE, &c, err);
    if (rc)
        return rc;
    cw_span k, v;
    bool more = store_cursor_seek(c, prefix, 1 + kn, &k, &v);
    while (more && k.n == 1 + kn + ACCT_ASSET_LEN && memcmp(k.p, prefix, 1 + kn) == 0) {
        acct_exposure e;
        cw_asset as;
        if (!decode(v, &e) || !decode_asset(k.p + 1 + kn, &as)) {
            store_cursor_close(c);
            return store_damaged(t, err, "an account exposure record does not decode");
        }
        if (as.kind == CW_ASSET_TOKEN && a->chain == CW_CHAIN_TRON)
            cw_addr_set(&as.contract, CW_CHAIN_TRON, CW_NET_MAIN, CW_ADDR_TRON, 0, k.p + 1 + kn + 1, 20);
        if (!fn(ctx, &as, &e))
            break;
        more = store_cursor_next(c, &k, &v);
    }
    rc = store_cursor_error(c, err);
    store_cursor_close(c);
    return rc;
}

uint32_t acct_exposure_share_ppm(const acct_exposure *e)
{
    static const cw_u256 million = {{1000000, 0, 0, 0}};
    cw_u256 r;
    uint64_t ppm;
    if (cw_u256_is_zero(&e->received) || !cw_u256_mul_div(&r, &e->tainted, &million, &e->received) ||
        !cw_u256_to_u64(&r, &ppm))
        return 0;
    return ppm > 1000000 ? 1000000 : (uint32_t)ppm;
}

cw_code acct_exposure_transfer(const acct_exposure_config *cfg, journal *j, const cw_transfer *x,
                               const uint8_t txid[32], acct_exposure_move *moved, cw_err *err)
{
    cw_u256 part = {{0, 0, 0, 0}};
    if (moved)
        memset(moved, 0, sizeof *moved);
    if (x->to.kind == CW_ADDR_NONE || cw_u256_is_zero(&x->amount))
        return CW_OK;
    store_txn *t = j->t;
    /* how much of it is designated money, and from where */
    uint8_t hops = 0, source[WL_KEY_MAX];
    size_t source_len = 0;
    if (x->from.kind != CW_ADDR_NONE) {
        uint8_t fk[WL_KEY_MAX];
        size_t fkn = wl_key_from_addr(&x->from, fk);
        bool listed;
        cw_code rc = wl_is_listed(t, fk, fkn, &listed, err);
        if (rc)
            return rc;
        if (listed) {
            part = x->amount;
            hops = 1;
            memcpy(source, fk, fkn);
            source_len = fkn;
        } else if (cfg->labels == NULL || labels_find(cfg->labels, &x->from) == NULL) {
            acct_exposure fe;
            rc = acct_exposure_get(t, &x->from, &x->asset, &fe, err);
            if (rc && rc != CW_ENOTFOUND)
                return rc;
            if (rc == CW_OK && fe.hops < cfg->hops && !cw_u256_is_zero(&fe.tainted) &&
                cw_u256_mul_div(&part, &x->amount, &fe.tainted, &fe.received) && !cw_u256_is_zero(&part)) {
                hops = (uint8_t)(fe.hops + 1);
                memcpy(source, fe.source, fe.source_len);
                source_len = fe.source_len;
            } else {
                cw_u256_set_u64(&part, 0);
            }
        }
    }
    /* the recipient's pool */
    acct_exposure te;
    cw_code rc = acct_exposure_get(t, &x->to, &x->asset, &te, err);
    if (rc && rc != CW_ENOTFOUND)
        return rc;
    bool have = rc == CW_OK;
    if (!have && hops == 0)
        return CW_OK; /* clean money to an account with no record: nothing to keep */
    if (!have) {
        memset(&te, 0, sizeof te);
        te.hops = ACCT_EXPOSURE_MAX_HOPS + 1; /* replaced below */
    }
    /* Saturating: any contract can log a Transfer of any amount, so a total
     * past 2^256-1 is a fake token's, and refusing it would stop the chain
     * at that block for good. tainted <= received still holds (part <=
     * amount; tainted saturates only when received has), and the journal
     * keeps the exact value before, so a reorg still takes it back. */
    static const cw_u256 max = {{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}};
    if (!cw_u256_add(&te.received, &te.received, &x->amount))
        te.received = max;
    if (!cw_u256_add(&te.tainted, &te.tainted, &part))
        te.tainted = max;
    if (hops && hops < te.hops) {
        te.hops = hops;
        memcpy(te.txid, txid, 32);
        memcpy(te.source, source, source_len);
        te.source_len = source_len;
    }
    if (moved && hops) {
        moved->part = part;
        moved->hops = hops;
        memcpy(moved->source, source, source_len);
        moved->source_len = source_len;
    }
    uint8_t k[ACCT_KEY_MAX], v[ACCT_VAL_FIXED + WL_KEY_MAX];
    size_t kn = make_key(&x->to, &x->asset, k);
    return journal_put(j, STORE_ACCT_EXPOSURE, k, kn, v, encode(&te, v), err);
}

const char *acct_exposure_check_record(cw_span k, cw_span v)
{
    acct_exposure e;
    cw_asset as;
    if (k.n < 1 || k.n != 1u + k.p[0] + ACCT_ASSET_LEN || !decode_asset(k.p + 1 + k.p[0], &as))
        return "a key that is not address key + asset";
    if (!decode(v, &e))
        return "a value that is not an account exposure record";
    return NULL;
}
