#include "screen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chains/addr.h"
#include "chains/bitcoin/hint.h"
#include "chains/hex.h"
#include "monitor/records/alert.h"
#include "chainstate.h"
#include "rules/rules.h"
#include "watchlists/acct_exposure.h"
#include "watchlists/labels.h"
#include "watchlists/watchlist.h"

const char *screen_decision_name(screen_decision d)
{
    static const char *const names[] = {"allow", "review", "hold", "block"};
    return (unsigned)d <= SCREEN_BLOCK ? names[d] : "?";
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

/* Answers are built with alert_put/alert_push (alert.h), which latch the
 * first allocation failure in `ok`: each builder checks once, and a failed
 * one is an error, never an answer with a field missing. */
static cw_code nomem(cw_err *err)
{
    return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "screen: out of memory building the answer");
}

static bool is_zero(const uint8_t id[32])
{
    static const uint8_t zero[32];
    return memcmp(id, zero, 32) == 0;
}

/* A txid in display order, or null for the zero id ("none"). */
static json_t *txid_json(const uint8_t id[32])
{
    if (is_zero(id))
        return json_null();
    char h[65];
    cw_hex_encode_rev(id, 32, h);
    return json_string(h);
}

/* Distinct non-zero txids, in the order given. */
static json_t *txids_json(const uint8_t (*ids)[32], size_t n)
{
    json_t *a = json_array();
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        if (is_zero(ids[i]))
            continue;
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++)
            dup = memcmp(ids[k], ids[i], 32) == 0;
        if (!dup)
            alert_push(a, txid_json(ids[i]), &ok);
    }
    if (!ok) {
        json_decref(a);
        return NULL; /* a failure to the caller's alert_put */
    }
    return a;
}

json_t *screen_entity_json(store_txn *t, const char *source, const char *uid, cw_code *rc, cw_err *err)
{
    json_t *e = json_object();
    bool ok = true;
    cw_span ej;
    json_t *stored = NULL;
    cw_code got = wl_entity_json(t, source, uid, &ej, *rc ? NULL : err);
    if (got == CW_OK) {
        /* a stored entity that does not load is no "entity unknown": out of
         * memory, or a damaged record, either way not an answer */
        json_error_t jerr;
        if ((stored = json_loadb((const char *)ej.p, ej.n, 0, &jerr)) == NULL && *rc == CW_OK)
            *rc = json_error_code(&jerr) == json_error_out_of_memory
                      ? nomem(err)
                      : store_damaged(t, err, "the record of entity %s/%s does not parse", source, uid);
    } else if (got != CW_ENOTFOUND && *rc == CW_OK) {
        *rc = got;
    }
    alert_put(e, "uid", json_string(uid), &ok);
    alert_put(e, "source", json_string(source), &ok);
    alert_put(e, "name", str_or_null(stored ? json_string_value(json_object_get(stored, "name")) : NULL), &ok);
    alert_put(e, "list", str_or_null(stored ? json_string_value(json_object_get(stored, "list")) : NULL), &ok);
    json_t *programs = stored ? json_object_get(stored, "programs") : NULL;
    alert_put(e, "programs", json_is_array(programs) ? json_incref(programs) : json_array(), &ok);
    alert_put(e, "designated",
                        str_or_null(stored ? json_string_value(json_object_get(stored, "designated")) : NULL), &ok);
    json_decref(stored);
    if (!ok) {
        json_decref(e);
        if (*rc == CW_OK)
            *rc = nomem(err);
        return NULL;
    }
    return e;
}

typedef struct {
    store_txn *t;
    json_t *entity; /* of the first ref */
    cw_code rc;     /* a store error reading an entity */
    cw_err *err;
} first_entity_ctx;

static void take_first_entity(void *ctx, const wl_ref *r)
{
    first_entity_ctx *c = ctx;
    if (c->entity == NULL)
        c->entity = screen_entity_json(c->t, r->source, r->uid, &c->rc, c->err);
}

cw_code screen_key_entity(store_txn *t, const uint8_t *key, size_t klen, json_t **out, cw_err *err)
{
    first_entity_ctx c = {t, NULL, CW_OK, err};
    size_t n = 0;
    *out = NULL;
    if (klen == 0)
        return CW_OK; /* no key: nothing listed */
    cw_code rc = wl_lookup(t, key, klen, take_first_entity, &c, &n, err);
    if (rc == CW_OK)
        rc = c.rc;
    if (rc)
        json_decref(c.entity);
    else
        *out = c.entity;
    return rc;
}

const char *screen_key_text(const uint8_t *key, size_t klen, char *out, size_t cap)
{
    if (wl_key_to_text(key, klen, out, cap) == 0 && cap)
        out[0] = '\0';
    return out;
}

static json_t *key_json(const cluster_key *k)
{
    char text[WL_KEY_MAX + CW_ADDR_TEXT_MAX];
    return json_string(screen_key_text(k->key, k->len, text, sizeof text));
}

cw_code screen_cluster_fields(store_txn *t, const cluster_info *c, const uint8_t join[32], json_t *obj,
                              uint8_t designated_join[32], cw_err *err)
{
    bool ok = true;
    alert_put(obj, "root", key_json(&c->root), &ok);
    alert_put(obj, "size", json_integer((json_int_t)c->size), &ok);
    alert_put(obj, "merged", json_boolean(c->size > 1), &ok); /* a cluster of one has no record */
    alert_put(obj, "designated_count", json_integer(c->designated), &ok);
    json_t *member = json_null();
    uint8_t djoin[32] = {0};
    if (c->first_designated.len) {
        cluster_info tmp;
        cw_code rc = cluster_find(t, c->first_designated.key, c->first_designated.len, &tmp, djoin, err);
        if (rc)
            return rc;
        json_t *entity;
        if ((rc = screen_key_entity(t, c->first_designated.key, c->first_designated.len, &entity, err)))
            return rc;
        member = json_object();
        alert_put(member, "address", key_json(&c->first_designated), &ok);
        alert_put(member, "entity", entity ? entity : json_null(), &ok); /* null: delisted since it joined */
        alert_put(member, "joined_by", txid_json(djoin), &ok);
    }
    alert_put(obj, "designated_member", member, &ok);
    if (designated_join)
        memcpy(designated_join, djoin, 32);
    json_t *flags = json_array();
    if (c->flags & CLUSTER_SERVICE)
        alert_push(flags, json_string("service"), &ok);
    if (c->flags & CLUSTER_SUPER)
        alert_push(flags, json_string("supercluster"), &ok);
    alert_put(obj, "flags", flags, &ok);
    alert_put(obj, "propagates", json_boolean(cluster_propagates(c)), &ok);
    const char *note = NULL;
    char why[CLUSTER_SERVICE_MAX + 160];
    if (c->flags & CLUSTER_SERVICE) {
        snprintf(why, sizeof why,
                 "a labelled service (%s) is a member: designation and exposure do not propagate through this "
                 "cluster", c->service[0] ? c->service : "unnamed");
        note = why;
    } else if (c->flags & CLUSTER_SUPER) {
        note = "a supercluster (grew past the size limit, too big to be one owner): designation and exposure do not "
               "propagate through this cluster";
    }
    alert_put(obj, "note", str_or_null(note), &ok);
    alert_put(obj, "service", str_or_null(c->service[0] ? c->service : NULL), &ok);
    alert_put(obj, "last_merge_txid", txid_json(c->merge_txid), &ok);
    alert_put(obj, "joined_by", txid_json(join), &ok);
    json_t *sample = json_array();
    for (size_t i = 0; i < c->n_sample; i++)
        alert_push(sample, key_json(&c->sample[i]), &ok);
    alert_put(obj, "sample", sample, &ok);
    return ok ? CW_OK : nomem(err);
}

static json_t *source_json(const uint8_t *key, size_t klen)
{
    char text[WL_KEY_MAX + CW_ADDR_TEXT_MAX];
    return json_string(screen_key_text(key, klen, text, sizeof text));
}

cw_code screen_exposure_fields(const exposure_address *e, json_t *obj, cw_err *err)
{
    bool ok = true;
    alert_put(obj, "hops", json_integer(e->min_hops), &ok);
    alert_put(obj, "tainted_received", json_integer((json_int_t)e->amount), &ok);
    alert_put(obj, "payments", json_integer((json_int_t)e->payments), &ok);
    alert_put(obj, "closest_amount", json_integer((json_int_t)e->closest.amount), &ok);
    alert_put(obj, "source_address", source_json(e->closest.source, e->closest.source_len), &ok);
    alert_put(obj, "path", txids_json((const uint8_t(*)[32])e->closest.path, e->closest.n_path), &ok);
    return ok ? CW_OK : nomem(err);
}

/* A reason object with the fields every reason has. Takes `entity`.
 * NULL when memory ran out (the caller's alert_put/push then fails). */
static json_t *reason(const char *kind, screen_decision d, const char *address, json_t *entity)
{
    json_t *r = json_object();
    bool ok = true;
    alert_put(r, "kind", json_string(kind), &ok);
    alert_put(r, "decision", json_string(screen_decision_name(d)), &ok);
    alert_put(r, "address", json_string(address), &ok);
    alert_put(r, "entity", entity ? entity : json_null(), &ok);
    if (!ok) {
        json_decref(r);
        return NULL;
    }
    return r;
}

static void worst(screen_decision *acc, screen_decision d)
{
    if (d > *acc)
        *acc = d;
}

cw_code screen_tip_json(store_txn *t, json_t **out, cw_err *err)
{
    chaindb_tip tip;
    cw_code rc = chaindb_get_tip(t, &tip, err);
    if (rc)
        return rc;
    if (!tip.valid) {
        *out = json_null();
        return CW_OK;
    }
    char h[65];
    cw_hex_encode_rev(tip.hash, 32, h);
    bool ok = true;
    *out = json_object();
    alert_put(*out, "height", json_integer(tip.height), &ok);
    alert_put(*out, "hash", json_string(h), &ok);
    if (!ok) {
        json_decref(*out);
        *out = NULL;
        return nomem(err);
    }
    return CW_OK;
}

/* ---- one address ---- */

typedef struct {
    store_txn *t;
    const char *address;
    json_t *reasons;
    screen_decision *decision;
    cw_code rc; /* a store error reading an entity */
    cw_err *err;
} designation_ctx;

static void add_designation(void *ctx, const wl_ref *r)
{
    designation_ctx *c = ctx;
    bool ok = true;
    bool linked = (r->flags & WL_REF_LINKED) != 0;
    screen_decision d = linked ? SCREEN_HOLD : SCREEN_BLOCK;
    json_t *o = reason(linked ? "key_linked" : "designated", d, c->address,
                       screen_entity_json(c->t, r->source, r->uid, &c->rc, c->err));
    alert_put(o, "listed_as", str_or_null(r->listed), &ok);
    alert_put(o, "linked_from", str_or_null(linked && r->linked_from && *r->linked_from ? r->linked_from : NULL), &ok);
    alert_push(c->reasons, o, &ok);
    if (!ok && c->rc == CW_OK)
        c->rc = nomem(c->err);
    worst(c->decision, d);
}

/* The exposure decision (see screen.h): the tainted share of `amount`
 * when there is one, else the distance. */
static screen_decision exposure_decision(const flows_config *cfg, const exposure_address *e, int64_t amount,
                                         uint32_t *share_ppm)
{
    if (amount > 0) {
        uint64_t tainted = e->amount < (uint64_t)amount ? e->amount : (uint64_t)amount;
        *share_ppm = (uint32_t)((unsigned __int128)tainted * 1000000u / (uint64_t)amount);
        if (*share_ppm < cfg->min_share_ppm || tainted < cfg->min_amount)
            return SCREEN_ALLOW; /* shown, below what counts */
        return *share_ppm >= cfg->hold_share_ppm ? SCREEN_HOLD : SCREEN_REVIEW;
    }
    if (e->amount < cfg->min_amount)
        return SCREEN_REVIEW; /* dust: anyone can send some from a designated address to anyone */
    return e->min_hops <= 1 ? SCREEN_HOLD : SCREEN_REVIEW;
}

cw_code screen_designations(store_txn *t, const cw_addr *a, json_t *reasons, screen_decision *out, cw_err *err)
{
    *out = SCREEN_ALLOW;
    char text[CW_ADDR_TEXT_MAX];
    if (cw_addr_format(a, text, sizeof text) == 0)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "screen: an address with no text form");
    uint8_t key[WL_KEY_MAX];
    size_t kn = wl_key_from_addr(a, key);
    designation_ctx dc = {t, text, reasons, out, CW_OK, err};
    size_t count = 0;
    cw_code rc = wl_lookup(t, key, kn, add_designation, &dc, &count, err);
    return rc ? rc : dc.rc;
}

static cw_code screen_account_exposure(const flows_config *cfg, store_txn *t, const cw_addr *a, const char *text,
                                       json_t *reasons, screen_decision *out, cw_err *err);

cw_code screen_address(const flows_config *cfg, store_txn *t, const cw_addr *a, int64_t amount, json_t *reasons,
                       screen_decision *out, cw_err *err)
{
    bool ok = true;
    /* designated, or a key-linked form of a designated key */
    cw_code rc = screen_designations(t, a, reasons, out, err);
    if (rc)
        return rc;
    char text[CW_ADDR_TEXT_MAX];
    cw_addr_format(a, text, sizeof text);
    uint8_t key[WL_KEY_MAX];
    size_t kn = wl_key_from_addr(a, key);
    /* a member of a designated cluster */
    cluster_info c;
    uint8_t join[32];
    if ((rc = cluster_find(t, key, kn, &c, join, err)))
        return rc;
    if (c.designated > 0 && c.size > 1) { /* a cluster of one is the address itself: designated above */
        json_t *entity;
        if ((rc = screen_key_entity(t, c.first_designated.key, c.first_designated.len, &entity, err)))
            return rc;
        if (entity) { /* still listed: a delisted member's cluster is not reported, as the pipeline records none */
            screen_decision d = cluster_propagates(&c) ? SCREEN_HOLD : SCREEN_ALLOW;
            json_t *r = reason("cluster", d, text, entity);
            uint8_t ev[3][32]; /* how the address and the designated member joined, and the last merge */
            if (r == NULL)
                return nomem(err);
            if ((rc = screen_cluster_fields(t, &c, join, r, ev[1], err))) {
                json_decref(r);
                return rc;
            }
            memcpy(ev[0], join, 32);
            memcpy(ev[2], c.merge_txid, 32);
            alert_put(r, "evidence", txids_json((const uint8_t(*)[32])ev, 3), &ok);
            alert_push(reasons, r, &ok);
            worst(out, d);
        }
    }
    /* designated money received within the hops that count */
    exposure_address e;
    rc = exposure_address_get(t, key, kn, &e, err);
    if (rc == CW_OK && e.min_hops <= cfg->hops) {
        json_t *entity;
        if ((rc = screen_key_entity(t, e.closest.source, e.closest.source_len, &entity, err)))
            return rc;
        if (entity) { /* still listed, as above */
            uint32_t share = 0;
            screen_decision d = exposure_decision(cfg, &e, amount, &share);
            json_t *r = reason("exposure", d, text, entity);
            if (r == NULL || (rc = screen_exposure_fields(&e, r, err))) {
                json_decref(r);
                return r ? rc : nomem(err);
            }
            alert_put(r, "share_ppm", amount > 0 ? json_integer(share) : json_null(), &ok);
            alert_push(reasons, r, &ok);
            worst(out, d);
        }
    } else if (rc != CW_OK && rc != CW_ENOTFOUND) {
        return rc;
    }
    if ((a->chain == CW_CHAIN_EVM || a->chain == CW_CHAIN_TRON) &&
        (rc = screen_account_exposure(cfg, t, a, text, reasons, out, err)))
        return rc;
    /* a known service: context, never a decision */
    for (const label *l = labels_find(cfg->labels, a); l; l = l->next) {
        json_t *r = reason("service", SCREEN_ALLOW, text, NULL);
        alert_put(r, "label_entity", str_or_null(l->entity[0] ? l->entity : NULL), &ok);
        alert_put(r, "category", json_string(l->category), &ok);
        alert_put(r, "label_source", json_string(l->source), &ok);
        alert_push(reasons, r, &ok);
    }
    return ok ? CW_OK : nomem(err);
}

/* ---- account chains: exposure per asset (watchlists/acct_exposure.h) ---- */

typedef struct {
    cw_asset as;
    acct_exposure e;
} acct_row;

typedef struct {
    acct_row *rows;
    size_t n, cap;
    bool nomem;
} acct_rows;

static bool take_acct_row(void *ctx, const cw_asset *as, const acct_exposure *e)
{
    acct_rows *r = ctx;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        acct_row *g = realloc(r->rows, cap * sizeof *g);
        if (g == NULL) {
            r->nomem = true;
            return false;
        }
        r->rows = g, r->cap = cap;
    }
    r->rows[r->n].as = *as;
    r->rows[r->n++].e = *e;
    return true;
}

/* {kind, contract} of an asset (symbols are the records'; a screen names the contract). */
static json_t *acct_asset_json(const cw_asset *as, bool *ok)
{
    json_t *o = json_object();
    char c[CW_ADDR_TEXT_MAX];
    alert_put(o, "kind", json_string(as->kind == CW_ASSET_TOKEN ? "token" : as->kind == CW_ASSET_TRC10 ? "trc10" : "native"), ok);
    alert_put(o, "contract", as->kind == CW_ASSET_TOKEN && cw_addr_format(&as->contract, c, sizeof c) ? json_string(c) : json_null(), ok);
    return o;
}

/* One `exposure` reason per asset an account received designated money
 * in, within cfg->hops: hold at cfg->hold_share_ppm of what it received,
 * review at cfg->min_share_ppm, else shown (allow). */
static cw_code screen_account_exposure(const flows_config *cfg, store_txn *t, const cw_addr *a, const char *text,
                                       json_t *reasons, screen_decision *out, cw_err *err)
{
    acct_rows rows = {0};
    cw_code rc = acct_exposure_each(t, a, take_acct_row, &rows, err);
    if (rc == CW_OK && rows.nomem)
        rc = nomem(err);
    bool ok = true;
    for (size_t i = 0; rc == CW_OK && i < rows.n; i++) {
        const acct_exposure *e = &rows.rows[i].e;
        if (e->hops > cfg->hops)
            continue;
        json_t *entity;
        if ((rc = screen_key_entity(t, e->source, e->source_len, &entity, err)))
            break;
        if (entity == NULL)
            continue; /* the source is no longer listed */
        uint32_t share = acct_exposure_share_ppm(e);
        screen_decision d = share >= cfg->hold_share_ppm  ? SCREEN_HOLD
                            : share >= cfg->min_share_ppm ? SCREEN_REVIEW
                                                          : SCREEN_ALLOW;
        json_t *r = reason("exposure", d, text, entity);
        if (r == NULL) {
            rc = nomem(err);
            break;
        }
        char dec[CW_U256_DEC_MAX], src[CW_ADDR_TEXT_MAX + WL_KEY_MAX], txid[67] = "0x";
        alert_put(r, "asset", acct_asset_json(&rows.rows[i].as, &ok), &ok);
        alert_put(r, "hops", json_integer(e->hops), &ok);
        cw_u256_to_dec(&e->received, dec);
        alert_put(r, "received", json_string(dec), &ok);
        cw_u256_to_dec(&e->tainted, dec);
        alert_put(r, "tainted_received", json_string(dec), &ok);
        alert_put(r, "share_ppm", json_integer(share), &ok);
        alert_put(r, "source_address", json_string(screen_key_text(e->source, e->source_len, src, sizeof src)), &ok);
        cw_hex_encode(e->txid, 32, txid + 2);
        json_t *ev = json_array();
        alert_push(ev, json_string(txid), &ok);
        alert_put(r, "evidence", ev, &ok);
        alert_push(reasons, r, &ok);
        worst(out, d);
    }
    free(rows.rows);
    return rc ? rc : ok ? CW_OK : nomem(err);
}

/* ---- a transaction ---- */

typedef struct {
    cw_addr addr;
    json_t *inputs, *outputs; /* indices */
    uint64_t amount_in, amount_out;
    bool in_known;            /* every input of this address was resolved */
} tx_addr;

static tx_addr *entry_for(tx_addr *list, size_t *n, const cw_addr *a)
{
    for (size_t i = 0; i < *n; i++)
        if (cw_addr_eq(&list[i].addr, a))
            return &list[i];
    tx_addr *e = &list[(*n)++];
    memset(e, 0, sizeof *e);
    e->addr = *a;
    e->inputs = json_array();
    e->outputs = json_array();
    e->in_known = true;
    return e;
}

/* One of flows_tx's findings as a reason of the tx. NULL when its
 * designated source is no longer listed (the pipeline records nothing). */
static cw_code finding_reason(const flows_config *cfg, store_txn *t, const cw_tx *tx, const flow_finding *f,
                              json_t **out, screen_decision *d, cw_err *err)
{
    *out = NULL;
    char text[CW_ADDR_TEXT_MAX];
    if (cw_addr_format(&f->addr, text, sizeof text) == 0)
        return CW_OK;
    bool hit = f->kind == FLOW_CLUSTER_HIT;
    json_t *entity;
    cw_code rc = hit ? screen_key_entity(t, f->cluster.first_designated.key, f->cluster.first_designated.len, &entity,
                                         err)
                     : screen_key_entity(t, f->taint.source, f->taint.source_len, &entity, err);
    if (rc || entity == NULL)
        return rc;
    *d = hit || f->share_ppm >= cfg->hold_share_ppm ? SCREEN_HOLD : SCREEN_REVIEW;
    json_t *r = reason(hit ? "cluster" : "exposure", *d, text, entity);
    if (r == NULL)
        return nomem(err);
    bool ok = true;
    alert_put(r, "role", json_string(f->to ? "output" : "input"), &ok);
    if (hit) {
        if ((rc = screen_cluster_fields(t, &f->cluster, f->member_join, r, NULL, err))) {
            json_decref(r);
            return rc;
        }
        uint8_t ev[4][32];
        memcpy(ev[0], tx->txid, 32);
        memcpy(ev[1], f->member_join, 32);
        memcpy(ev[2], f->designated_join, 32);
        memcpy(ev[3], f->cluster.merge_txid, 32);
        alert_put(r, "evidence", txids_json((const uint8_t(*)[32])ev, 4), &ok);
        alert_put(r, "amount", json_integer((json_int_t)f->amount), &ok);
        alert_put(r, "amount_known", json_boolean(f->amount_known), &ok);
    } else {
        alert_put(r, "hops", json_integer(f->hops), &ok);
        alert_put(r, "tainted_amount", json_integer((json_int_t)f->amount), &ok);
        alert_put(r, "output_value", json_integer((json_int_t)f->value), &ok);
        alert_put(r, "share_ppm", json_integer(f->share_ppm), &ok);
        alert_put(r, "source_address", source_json(f->taint.source, f->taint.source_len), &ok);
        alert_put(r, "path", txids_json((const uint8_t(*)[32])f->taint.path, f->taint.n_path), &ok);
    }
    if (!ok) {
        json_decref(r);
        return nomem(err);
    }
    *out = r;
    return CW_OK;
}

cw_code screen_tx(const flows_config *cfg, store_txn *t, cw_tx *tx, json_t *obj, screen_decision *out, cw_err *err)
{
    *out = SCREEN_ALLOW;
    bool ok = true;
    char txid[65];
    cw_hex_encode_rev(tx->txid, 32, txid);
    alert_put(obj, "subject", json_string(txid), &ok);
    cw_code rc = chainstate_resolve_inputs(t, tx, err);
    if (rc)
        return rc;
    bool coinbase = (tx->flags & CW_TX_COINBASE) != 0;
    size_t n_in = coinbase ? 0 : tx->n_in;
    tx_addr *list = calloc(n_in + tx->n_out + 1, sizeof *list);
    const flow_finding *found = NULL;
    if (list == NULL) {
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "screen: out of memory");
    }
    size_t n = 0, unresolved = 0;
    for (size_t i = 0; i < n_in; i++) {
        const cw_txin *in = &tx->in[i];
        cw_addr a;
        if (in->resolved)
            a = in->addr;
        else if (!btc_input_hint(in, (cw_net)tx->net, &a))
            a.kind = CW_ADDR_NONE;
        unresolved += !in->resolved;
        if (a.kind == CW_ADDR_NONE)
            continue; /* nothing to screen: a bare script, or a spend the hint cannot read */
        tx_addr *e = entry_for(list, &n, &a);
        alert_push(e->inputs, json_integer((json_int_t)i), &ok);
        e->amount_in += in->resolved ? in->value : 0;
        e->in_known &= in->resolved;
    }
    for (size_t o = 0; o < tx->n_out; o++) {
        const cw_txout *to = &tx->out[o];
        if (to->addr.kind == CW_ADDR_NONE)
            continue;
        tx_addr *e = entry_for(list, &n, &to->addr);
        alert_push(e->outputs, json_integer((json_int_t)o), &ok);
        e->amount_out += to->value;
    }
    json_t *addresses = json_array();
    for (size_t i = 0; i < n && rc == CW_OK; i++) {
        tx_addr *e = &list[i];
        bool spends = json_array_size(e->inputs) > 0, paid = json_array_size(e->outputs) > 0;
        /* the amount at stake for this address: what it spends, else what it is paid */
        int64_t amount = spends && e->in_known && e->amount_in ? (int64_t)e->amount_in
                         : paid && e->amount_out            ? (int64_t)e->amount_out
                                                            : -1;
        char text[CW_ADDR_TEXT_MAX];
        cw_addr_format(&e->addr, text, sizeof text);
        json_t *a = json_object(), *reasons = json_array();
        alert_put(a, "address", json_string(text), &ok);
        alert_put(a, "inputs", e->inputs, &ok);
        alert_put(a, "outputs", e->outputs, &ok);
        e->inputs = e->outputs = NULL;
        alert_put(a, "amount_in", spends && e->in_known ? json_integer((json_int_t)e->amount_in) : json_null(), &ok);
        alert_put(a, "amount_out", paid ? json_integer((json_int_t)e->amount_out) : json_null(), &ok);
        /* an input not in the prevout index is named by its scriptSig/witness: evidence, not proof */
        alert_put(a, "resolved", json_boolean(!spends || e->in_known), &ok);
        screen_decision d;
        rc = screen_address(cfg, t, &e->addr, amount, reasons, &d, err);
        alert_put(a, "decision", json_string(screen_decision_name(d)), &ok);
        alert_put(a, "reasons", reasons, &ok);
        alert_push(addresses, a, &ok);
        worst(out, d);
    }
    for (size_t i = 0; i < n; i++) /* entries an error left unused */
        json_decref(list[i].inputs), json_decref(list[i].outputs);
    free(list);
    alert_put(obj, "addresses", addresses, &ok); /* filled: alert_put takes the reference */
    alert_put(obj, "inputs_unresolved", json_integer((json_int_t)unresolved), &ok);
    /* what the tx itself does: the pipeline's analysis, read only */
    json_t *tx_reasons = json_array();
    size_t nf = 0;
    if (rc == CW_OK)
        rc = flows_tx(cfg, t, NULL, tx, &found, &nf, NULL, err);
    for (size_t i = 0; i < nf && rc == CW_OK; i++) {
        json_t *r;
        screen_decision d = SCREEN_ALLOW;
        if ((rc = finding_reason(cfg, t, tx, &found[i], &r, &d, err)) == CW_OK && r) {
            alert_push(tx_reasons, r, &ok);
            worst(out, d);
        }
    }
    alert_put(obj, "reasons", tx_reasons, &ok);
    if (rc == CW_OK && !ok)
        rc = nomem(err);
    return rc;
}

/* ---- an account-chain transaction ---- */

static const char *xfer_kind_name(uint8_t k)
{
    static const char *const names[] = {"value", "token_log", "token_call", "trc10"};
    return k < sizeof names / sizeof *names ? names[k] : "unknown";
}

/* An account chain's coin: its symbol and decimals (transfers, the rules). */
static const char *native_symbol(uint8_t chain) { return chain == CW_CHAIN_TRON ? "TRX" : "ETH"; }
static unsigned native_decimals(uint8_t chain) { return chain == CW_CHAIN_TRON ? 6 : 18; }

static json_t *transfer_json(const cw_transfer *x)
{
    bool ok = true;
    char from[CW_ADDR_TEXT_MAX], to[CW_ADDR_TEXT_MAX], asset[CW_ADDR_TEXT_MAX], amount[CW_U256_DEC_MAX];
    json_t *o = json_object();
    alert_put(o, "kind", json_string(xfer_kind_name(x->kind)), &ok);
    alert_put(o, "from", cw_addr_format(&x->from, from, sizeof from) ? json_string(from) : json_null(), &ok);
    alert_put(o, "to", cw_addr_format(&x->to, to, sizeof to) ? json_string(to) : json_null(), &ok);
    const char *kind = x->asset.kind == CW_ASSET_NATIVE ? "native" : x->asset.kind == CW_ASSET_TRC10 ? "trc10" : "token";
    if (x->asset.kind == CW_ASSET_NATIVE)
        snprintf(asset, sizeof asset, "%s", native_symbol(x->from.chain));
    else if (x->asset.kind == CW_ASSET_TRC10)
        snprintf(asset, sizeof asset, "%llu", (unsigned long long)x->asset.id);
    else if (cw_addr_format(&x->asset.contract, asset, sizeof asset) == 0)
        asset[0] = '\0';
    alert_put(o, "asset_kind", json_string(kind), &ok);
    alert_put(o, "asset", json_string(asset), &ok);
    cw_u256_to_dec(&x->amount, amount);
    alert_put(o, "amount", json_string(amount), &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

typedef struct {
    cw_addr addr;
    bool role[3]; /* signer, from, to */
} acct_entry;

static void acct_add(acct_entry *list, size_t *n, const cw_addr *a, int role)
{
    if (a->kind == CW_ADDR_NONE)
        return;
    for (size_t i = 0; i < *n; i++)
        if (cw_addr_eq(&list[i].addr, a)) {
            list[i].role[role] = true;
            return;
        }
    memset(&list[*n], 0, sizeof list[*n]);
    list[*n].addr = *a;
    list[(*n)++].role[role] = true;
}

cw_code screen_account_tx(const flows_config *cfg, store_txn *t, const cw_tx *tx, const cw_addr *signer, json_t *obj,
                          screen_decision *out, cw_err *err)
{
    *out = SCREEN_ALLOW;
    bool ok = true;
    char txid[65];
    cw_hex_encode(tx->txid, 32, txid); /* account chains: display order as kept */
    alert_put(obj, "subject", json_string(txid), &ok);
    acct_entry *list = calloc(2 * tx->n_xfer + 1, sizeof *list);
    if (list == NULL)
        return nomem(err);
    size_t n = 0;
    json_t *transfers = json_array();
    if (signer)
        acct_add(list, &n, signer, 0);
    for (size_t i = 0; i < tx->n_xfer; i++) {
        acct_add(list, &n, &tx->xfer[i].from, 1);
        acct_add(list, &n, &tx->xfer[i].to, 2);
        alert_push(transfers, transfer_json(&tx->xfer[i]), &ok);
    }
    alert_put(obj, "transfers", transfers, &ok);
    json_t *addresses = json_array();
    cw_code rc = CW_OK;
    static const char *const roles[] = {"signer", "from", "to"};
    for (size_t i = 0; i < n && rc == CW_OK; i++) {
        char text[CW_ADDR_TEXT_MAX];
        cw_addr_format(&list[i].addr, text, sizeof text);
        json_t *a = json_object(), *reasons = json_array(), *r = json_array();
        for (int k = 0; k < 3; k++)
            if (list[i].role[k])
                alert_push(r, json_string(roles[k]), &ok);
        screen_decision d = SCREEN_ALLOW;
        rc = reasons ? screen_address(cfg, t, &list[i].addr, -1, reasons, &d, err) : nomem(err);
        alert_put(a, "address", json_string(text), &ok);
        alert_put(a, "roles", r, &ok);
        alert_put(a, "decision", json_string(screen_decision_name(d)), &ok);
        alert_put(a, "reasons", reasons, &ok);
        alert_push(addresses, a, &ok);
        worst(out, d);
    }
    free(list);
    alert_put(obj, "addresses", addresses, &ok);
    alert_put(obj, "reasons", json_array(), &ok);
    if (rc == CW_OK && !ok)
        rc = nomem(err);
    return rc;
}

typedef struct {
    store_txn *t;
    unsigned hops;
    json_t *arr;
    cw_code rc;
    cw_err *err;
    bool ok;
    unsigned n, closest;
} acct_trace;

static bool acct_one(void *ctx, const cw_asset *as, const acct_exposure *e)
{
    acct_trace *a = ctx;
    if (e->hops > a->hops)
        return true;
    json_t *x = json_object(), *entity = NULL, *ev = json_array(), *asj = json_object();
    char dec[CW_U256_DEC_MAX], src[WL_KEY_MAX + CW_ADDR_TEXT_MAX], txid[67] = "0x", c[CW_ADDR_TEXT_MAX];
    if ((a->rc = screen_key_entity(a->t, e->source, e->source_len, &entity, a->err))) {
        json_decref(x), json_decref(ev), json_decref(asj);
        return false;
    }
    alert_put(asj, "kind", json_string(as->kind == CW_ASSET_TOKEN ? "token" : as->kind == CW_ASSET_TRC10 ? "trc10" : "native"), &a->ok);
    alert_put(asj, "contract", as->kind == CW_ASSET_TOKEN && cw_addr_format(&as->contract, c, sizeof c) ? json_string(c) : json_null(), &a->ok);
    alert_put(x, "asset", asj, &a->ok);
    alert_put(x, "hops", json_integer(e->hops), &a->ok);
    cw_u256_to_dec(&e->received, dec);
    alert_put(x, "received", json_string(dec), &a->ok);
    cw_u256_to_dec(&e->tainted, dec);
    alert_put(x, "tainted_received", json_string(dec), &a->ok);
    alert_put(x, "share_ppm", json_integer(acct_exposure_share_ppm(e)), &a->ok);
    alert_put(x, "source_address", json_string(screen_key_text(e->source, e->source_len, src, sizeof src)), &a->ok);
    alert_put(x, "source_entity", entity ? entity : json_null(), &a->ok);
    cw_hex_encode(e->txid, 32, txid + 2);
    alert_push(ev, json_string(txid), &a->ok);
    alert_put(x, "evidence", ev, &a->ok);
    alert_push(a->arr, x, &a->ok);
    if (a->n++ == 0 || e->hops < a->closest)
        a->closest = e->hops;
    return true;
}

/* Account chains: no common-input clusters, no output path; what each
 * asset's pool received and how much of it was designated money. */
static cw_code build_account_trace(store_txn *t, const cw_addr *a, unsigned hops, json_t *tr, const char *text,
                                   cw_err *err)
{
    bool ok = true;
    acct_trace at = {t, hops, json_array(), CW_OK, err, true, 0, 0};
    if (at.arr == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "trace: out of memory");
    cw_code rc = acct_exposure_each(t, a, acct_one, &at, err);
    if (rc == CW_OK)
        rc = at.rc;
    if (rc) {
        json_decref(at.arr);
        return rc;
    }
    char summary[512];
    if (at.n)
        snprintf(summary, sizeof summary,
                 "designated money reached %s in %u asset%s, the closest %u hop%s away (per asset: the share of all "
                 "it received)",
                 text, at.n, at.n == 1 ? "" : "s", at.closest, at.closest == 1 ? "" : "s");
    else
        snprintf(summary, sizeof summary, "no designated money reached %s within %u hops, as far as the monitor has "
                 "followed it", text, hops);
    alert_put(tr, "exposed", json_boolean(at.n > 0), &ok);
    alert_put(tr, "exposure", json_null(), &ok);
    alert_put(tr, "account_exposure", at.arr, &ok);
    alert_put(tr, "cluster", json_null(), &ok);
    alert_put(tr, "summary", json_string(summary), &ok);
    return ok && at.ok ? CW_OK : cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "trace: out of memory building the answer");
}

/* ---- trace (chainwatch trace, the console's graph) ---- */

void screen_entity_text(const json_t *entity, char *out, size_t cap)
{
    if (entity == NULL || json_is_null(entity)) {
        snprintf(out, cap, "no longer listed");
        return;
    }
    const char *name = json_string_value(json_object_get(entity, "name"));
    size_t n = (size_t)snprintf(out, cap, "%s", name ? name : json_string_value(json_object_get(entity, "uid")));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(entity, "programs"), i, p)
    {
        if (n >= cap)
            break;
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? ", " : " (", json_string_value(p));
        if (i + 1 == json_array_size(json_object_get(entity, "programs")) && n < cap)
            n += (size_t)snprintf(out + n, cap - n, ")");
    }
}

cw_code screen_trace(store_txn *t, const cw_addr *a, unsigned hops, json_t *tr, cw_err *err)
{
    char text[CW_ADDR_TEXT_MAX], summary[1024], name[512];
    uint8_t key[WL_KEY_MAX];
    cw_addr_format(a, text, sizeof text);
    size_t kn = wl_key_from_addr(a, key);
    bool ok = true; /* alert_put/push latch a failed allocation: checked at the end */
    alert_put(tr, "address", json_string(text), &ok);
    alert_put(tr, "hops_limit", json_integer(hops), &ok);
    json_t *tip;
    cw_code rc = screen_tip_json(t, &tip, err);
    if (rc)
        return rc;
    alert_put(tr, "tip", tip, &ok);
    json_t *designations = json_array();
    screen_decision d;
    if (designations == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "trace: out of memory");
    rc = screen_designations(t, a, designations, &d, err);
    alert_put(tr, "designations", designations, &ok); /* filled: the reference goes to tr */
    if (rc)
        return rc;
    if (a->chain == CW_CHAIN_EVM || a->chain == CW_CHAIN_TRON)
        return ok ? build_account_trace(t, a, hops, tr, text, err)
                  : cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "trace: out of memory");
    exposure_address e;
    rc = exposure_address_get(t, key, kn, &e, err);
    if (rc && rc != CW_ENOTFOUND)
        return rc;
    bool found = rc == CW_OK, exposed = found && e.min_hops <= hops;
    alert_put(tr, "exposed", json_boolean(exposed), &ok);
    alert_put(tr, "beyond_hops", found && !exposed ? json_integer(e.min_hops) : json_null(), &ok);
    if (exposed) {
        json_t *x = json_object();
        json_t *entity;
        if (x == NULL)
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "trace: out of memory");
        if ((rc = screen_exposure_fields(&e, x, err)) ||
            (rc = screen_key_entity(t, e.closest.source, e.closest.source_len, &entity, err))) {
            json_decref(x);
            return rc;
        }
        screen_entity_text(entity, name, sizeof name); /* before alert_put takes entity */
        alert_put(x, "source_entity", entity ? entity : json_null(), &ok); /* null: delisted since */
        char amt[48], source[WL_KEY_MAX + CW_ADDR_TEXT_MAX];
        snprintf(amt, sizeof amt, "%llu.%08llu BTC", (unsigned long long)(e.amount / 100000000), (unsigned long long)(e.amount % 100000000));
        snprintf(summary, sizeof summary, "designated money reached %s %u hop%s from %s (%s): %s tainted in %llu payment%s",
                 text, e.min_hops, e.min_hops == 1 ? "" : "s",
                 screen_key_text(e.closest.source, e.closest.source_len, source, sizeof source), name, amt,
                 (unsigned long long)e.payments, e.payments == 1 ? "" : "s");
        alert_put(tr, "exposure", x, &ok);
    } else {
        alert_put(tr, "exposure", json_null(), &ok);
        if (found)
            snprintf(summary, sizeof summary,
                     "no designated money reached %s within %u hops (the closest came %u hops away)", text, hops,
                     e.min_hops);
        else
            snprintf(summary, sizeof summary,
                     "no designated money reached %s within %u hops, as far as the monitor has followed it", text,
                     hops);
    }
    cluster_info c;
    uint8_t join[32];
    if ((rc = cluster_find(t, key, kn, &c, join, err)))
        return rc;
    json_t *cl = json_null();
    if (c.designated > 0 && c.size > 1) {
        cl = json_object();
        if (cl == NULL)
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "trace: out of memory");
        if ((rc = screen_cluster_fields(t, &c, join, cl, NULL, err))) {
            json_decref(cl);
            return rc;
        }
        size_t n = strlen(summary);
        snprintf(summary + n, sizeof summary - n, "; a member of a cluster of %llu with %u designated member%s%s",
                 (unsigned long long)c.size, c.designated, c.designated == 1 ? "" : "s",
                 cluster_propagates(&c) ? "" : " (a service or supercluster: propagation stops)");
    }
    alert_put(tr, "cluster", cl, &ok);
    /* the pattern rules' view of it (rules.h): payers, pooled sources, risk */
    rules_config rcfg;
    rules_config_default(&rcfg);
    json_t *pat = rules_address_json(&rcfg, t, key, kn, &rc, err);
    if (rc)
        return rc;
    if (pat) {
        size_t n = strlen(summary);
        snprintf(summary + n, sizeof summary - n, "; pattern risk %s",
                 json_string_value(json_object_get(pat, "risk")));
    }
    alert_put(tr, "patterns", pat ? pat : json_null(), &ok);
    alert_put(tr, "summary", json_string(summary), &ok);
    return ok ? CW_OK : cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "trace: out of memory building the answer");
}

/* ---- the answer of screen and POST /v1/screen ---- */

/* The pattern rules, read only (rules.h): what watch and replay learnt of
 * an address, or what a tx would make the rules find if it confirmed now,
 * under `patterns`. A risk of high or severe holds, medium reviews. */
static void rules_for_screen(const flows_config *cfg, rules_config *rc)
{
    rules_config_default(rc);
    rc->labels = cfg->labels;
    rc->payer_cluster = true;
}

static void raise_to(screen_decision *d, rule_risk r)
{
    screen_decision want = r >= RISK_HIGH ? SCREEN_HOLD : r == RISK_MEDIUM ? SCREEN_REVIEW : SCREEN_ALLOW;
    if (want > *d)
        *d = want;
}

static cw_code screen_rules_address(const flows_config *cfg, store_txn *t, const cw_addr *a, json_t *out,
                                    screen_decision *d, cw_err *err)
{
    rules_config rc;
    rules_for_screen(cfg, &rc);
    uint8_t key[WL_KEY_MAX];
    size_t kn = wl_key_from_addr(a, key);
    cw_code c;
    json_t *j = rules_address_json(&rc, t, key, kn, &c, err);
    if (c) /* the answer would lack its patterns: the check was not made */
        return cw_err_prefix(err, c, "pattern rules");
    bool ok = true;
    if (j) {
        const char *risk = json_string_value(json_object_get(j, "risk"));
        for (int r = RISK_LOW; risk && r <= RISK_SEVERE; r++)
            if (strcmp(risk, rule_risk_name((rule_risk)r)) == 0)
                raise_to(d, (rule_risk)r);
    }
    alert_put(out, "patterns", j ? j : json_null(), &ok);
    return ok ? CW_OK : cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
}

/* Findings as `patterns` on out: [{rule, address, risk, evidence,
 * explanation}], the decision raised by each one's risk. */
static cw_code patterns_put(const rule_finding *f, size_t n, json_t *out, screen_decision *d, cw_err *err)
{
    json_t *arr = json_array();
    bool ok = arr != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *o = json_object();
        alert_put(o, "rule", json_string(rule_name(f[i].rule)), &ok);
        alert_put(o, "address", json_string(f[i].address), &ok);
        alert_put(o, "risk", json_string(rule_risk_name(f[i].risk)), &ok);
        alert_put(o, "evidence", json_incref(f[i].evidence), &ok);
        alert_put(o, "explanation", json_string(f[i].explanation), &ok);
        alert_push(arr, o, &ok);
        raise_to(d, f[i].risk);
    }
    alert_put(out, "patterns", arr, &ok);
    return ok ? CW_OK : cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
}

static cw_code screen_rules_tx(const flows_config *cfg, store_txn *t, const cw_tx *tx, json_t *out,
                               screen_decision *d, cw_err *err)
{
    rules_config rc;
    rules_for_screen(cfg, &rc);
    const rule_finding *f;
    size_t n;
    cw_code c = rules_tx(&rc, t, NULL, tx, (int64_t)time(NULL), &f, &n, NULL, err);
    return c ? cw_err_prefix(err, c, "pattern rules") : patterns_put(f, n, out, d, err);
}

/* A raw account-chain tx (tx: its transfers as it asks them, token calls
 * included): the rules read only, as if it confirmed now
 * (rules_account_raw_tx). */
static cw_code screen_rules_account(const flows_config *cfg, store_txn *t, const cw_tx *tx,
                                    const tokens_table *tokens, json_t *out, screen_decision *d, cw_err *err)
{
    rules_config rc;
    rules_for_screen(cfg, &rc);
    rules_chain ch = {native_symbol(tx->chain), native_decimals(tx->chain), tokens};
    const rule_finding *f;
    size_t n;
    cw_code c = rules_account_raw_tx(&rc, &ch, t, tx, (int64_t)time(NULL), &f, &n, err);
    return c ? cw_err_prefix(err, c, "pattern rules") : patterns_put(f, n, out, d, err);
}

json_t *screen_policy_json(const flows_config *cfg)
{
    json_t *p = json_object();
    bool ok = true;
    alert_put(p, "hops", json_integer(cfg->hops), &ok);
    alert_put(p, "min_share_ppm", json_integer(cfg->min_share_ppm), &ok);
    alert_put(p, "min_amount", json_integer((json_int_t)cfg->min_amount), &ok);
    alert_put(p, "hold_share_ppm", json_integer(cfg->hold_share_ppm), &ok);
    alert_put(p, "labels", json_boolean(cfg->labels != NULL), &ok);
    if (!ok) {
        json_decref(p);
        return NULL;
    }
    return p;
}

cw_code screen_answer(const flows_config *cfg, store_txn *t, const screen_subject *s, json_t **answer,
                      screen_decision *d, cw_err *err)
{
    json_t *out = json_object(), *tip = NULL;
    *answer = NULL;
    *d = SCREEN_ALLOW;
    bool ok = out != NULL; /* alert_put latches a failed allocation: no partial answer is given */
    /* fail closed: a store no list was imported into answers nothing */
    cw_code c = ok ? wl_require_imported(t, err) : cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    if (c == CW_OK)
        c = screen_tip_json(t, &tip, err);
    if (c == CW_OK && s->acct) {
        alert_put(out, "type", json_string("tx"), &ok);
        alert_put(out, "chain", json_string(cw_chain_name((cw_chain)s->acct->chain)), &ok);
        c = screen_account_tx(cfg, t, s->acct, s->acct_signer, out, d, err);
        if (c == CW_OK)
            c = screen_rules_account(cfg, t, s->acct, s->tokens, out, d, err);
    } else if (c == CW_OK && s->eth) {
        alert_put(out, "type", json_string("tx"), &ok);
        c = screen_eth_tx(cfg, t, s->eth, out, d, err);
        /* what it asks as transfers: its value, and the token call in its calldata */
        cw_transfer xf[ETH_TX_XFER_MAX];
        cw_tx tx;
        if (c == CW_OK)
            c = eth_tx_to_model(&s->eth->tx, &s->eth->from, ETH_MODEL_CALLDATA, xf, ETH_TX_XFER_MAX, &tx, err);
        if (c == CW_OK)
            c = screen_rules_account(cfg, t, &tx, s->tokens, out, d, err);
    } else if (c == CW_OK && s->addr == NULL) {
        alert_put(out, "type", json_string("tx"), &ok);
        alert_put(out, "network", json_string(cw_net_name(s->net)), &ok);
        c = screen_tx(cfg, t, s->tx, out, d, err);
        if (c == CW_OK)
            c = screen_rules_tx(cfg, t, s->tx, out, d, err);
    } else if (c == CW_OK) {
        json_t *reasons = json_array();
        alert_put(out, "type", json_string("address"), &ok);
        char text[CW_ADDR_TEXT_MAX];
        cw_addr_format(s->addr, text, sizeof text); /* canonical: lowercase bech32, EIP-55 */
        alert_put(out, "subject", json_string(text), &ok);
        alert_put(out, "chain", json_string(cw_chain_name((cw_chain)s->addr->chain)), &ok);
        c = reasons ? screen_address(cfg, t, s->addr, s->amount, reasons, d, err)
                    : cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
        alert_put(out, "reasons", reasons, &ok); /* filled: the reference goes to out */
        if (c == CW_OK)
            c = screen_rules_address(cfg, t, s->addr, out, d, err);
    }
    if (c == CW_OK) {
        alert_put(out, "tip", tip, &ok);
        tip = NULL;
        alert_put(out, "direction", s->direction ? json_string(s->direction) : json_null(), &ok);
        alert_put(out, "amount", s->amount >= 0 ? json_integer(s->amount) : json_null(), &ok);
        alert_put(out, "decision", json_string(screen_decision_name(*d)), &ok);
        alert_put(out, "policy", screen_policy_json(cfg), &ok);
        if (!ok)
            c = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory building the answer");
    }
    json_decref(tip);
    if (c) {
        json_decref(out);
        return c;
    }
    *answer = out;
    return CW_OK;
}
