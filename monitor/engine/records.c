/*
 * records.c: what the engine records, and how a record is committed.
 *
 * A tx's addresses are matched against the watchlist (find_matches), each
 * match and each flow finding (flows.h) becomes a record with a
 * deterministic id (alert.h), skipped when that sighting is already
 * recorded. commit_record chains it to the audit trail (seq and the hash
 * of the record before it, from the head in the store), signs it, and in
 * the caller's write transaction stores it as the id's latest, opens its
 * case when its decision is hold (cases.h) and queues it in the outbox
 * (outbox.c); the sinks see it only after that
 * transaction commits (pipeline_internal.h: the commit protocol).
 *
 * This file lives in the engine, not in monitor/records/: it is the
 * pipeline's (its config, stats, outbox numbering and transactions) and
 * the rules' output; monitor/records/ is the chain-neutral record format,
 * signing and sinks it calls.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chains/addr.h"
#include "chains/bitcoin/hint.h"
#include "cases.h"
#include "chains/hex.h"
#include "monitor/records/alert.h"
#include "pipeline_internal.h"
#include "watchlists/alertdb.h"
#include "watchlists/keylink.h"
#include "watchlists/watchlist.h"


/* ---------- the audit trail (alert.h) ---------- */

/* The trail head (alertdb.h) is read and written inside each record's own
 * write transaction, never cached, so an aborted transaction or batch
 * (CW_EFULL retries included) takes its seq numbers back with it. */
cw_code pipeline_trail_head(store_txn *t, const uint8_t pk[32], alert_trail *out, cw_err *err)
{
    cw_code rc = alertdb_trail_get(t, &out->seq, out->hash, err);
    if (rc == CW_ENOTFOUND) {
        alert_trail_start(pk, out);
        return CW_OK;
    }
    return rc;
}

typedef struct {
    alert_trail *out;
    bool chained, nomem;
} durable_ctx;

/* The first queued record that carries its place in the trail tells what
 * came before it; records of an older version carry no seq: the next one
 * tells. */
static bool first_chained(void *arg, uint64_t seq, cw_span line)
{
    (void)seq;
    durable_ctx *d = arg;
    json_t *r = json_loadb((const char *)line.p, line.n, 0, NULL);
    if (r == NULL) {
        d->nomem = true;
        return false;
    }
    json_t *s = json_object_get(r, "seq");
    const char *prev = json_string_value(json_object_get(r, "prev"));
    size_t n = 0;
    d->chained = json_is_integer(s) && json_integer_value(s) >= 1 && prev && strlen(prev) == 64 &&
                 cw_hex_decode(prev, 64, d->out->hash, 32, &n, NULL) == CW_OK && n == 32;
    if (d->chained)
        d->out->seq = (uint64_t)json_integer_value(s) - 1;
    json_decref(r);
    return !d->chained;
}

cw_code pipeline_trail_durable(store_txn *t, const uint8_t pk[32], alert_trail *out, cw_err *err)
{
    cw_code rc = pipeline_trail_head(t, pk, out, err);
    if (rc)
        return rc;
    /* records leave the outbox only once the sinks made them durable: the
     * oldest one still queued follows the last durable record */
    durable_ctx d = {out, false, false};
    if ((rc = alertdb_outbox_each(t, 0, first_chained, &d, err)))
        return rc;
    if (d.nomem)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "cannot read a queued record (out of memory or damaged)");
    return CW_OK;
}

/* Chains and signs a record, stores it as the id's latest and queues it in
 * the outbox, all in transaction t. A NULL rec is a record that could not
 * be built (out of memory): refused, so the transaction is aborted rather
 * than a record written with fields missing. */
static cw_code commit_record(pipeline *p, store_txn *t, json_t *rec, cw_err *err)
{
    if (rec == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory building an alert record (nothing written)");
    alert_trail head;
    cw_code rc = pipeline_trail_head(t, p->cfg.sk + 32, &head, err); /* libsodium sk = seed || public key */
    if (rc)
        return rc;
    cw_buf line = CW_BUF_INIT;
    rc = alert_sign_chained(rec, p->cfg.sk, &head, &line, err);
    const char *id = json_string_value(json_object_get(rec, "id"));
    if (rc == CW_OK && id == NULL)
        rc = cw_err_set(err, CW_EARG, CW_NO_OFFSET, "an alert record without an id (nothing written)");
    if (rc == CW_OK)
        rc = alertdb_latest_put(t, id, json_string_value(json_object_get(rec, "rule")), (const char *)line.p, line.n,
                                err);
    if (rc == CW_OK) /* a hold opens its case with the record: never one without the other (cases.h) */
        rc = cases_on_record(t, p->cfg.sk, rec, (const char *)line.p, line.n, err);
    if (rc == CW_OK)
        rc = alertdb_trail_put(t, head.seq, head.hash, err);
    if (rc == CW_OK)
        rc = outbox_queue(p, t, (const char *)line.p, line.n, err);
    cw_buf_free(&line);
    if (rc == CW_OK) {
        p->st.alerts++;
        const char *rule = json_string_value(json_object_get(rec, "rule"));
        const char *status = json_string_value(json_object_get(rec, "status"));
        if (status && strcmp(status, "reorged") == 0)
            p->st.reorged++;
        else
            for (int i = 0; rule && i < PIPELINE_RULE_COUNT; i++)
                if (strcmp(rule, pipeline_rule_name((pipeline_rule)i)) == 0)
                    p->st.by_rule[i]++;
    }
    return rc;
}

/* Ends a record under construction: the record when every setter
 * succeeded, else NULL (freed), which commit_record refuses. */
static json_t *built(json_t *r, bool ok)
{
    if (ok && r)
        return r;
    json_decref(r);
    return NULL;
}

/* Commits a new record r whose setters latched ok (built, commit_record)
 * and releases it: the caller's reference is gone either way. */
static cw_code commit_built(pipeline *p, store_txn *t, json_t *r, bool ok, cw_err *err)
{
    r = built(r, ok);
    cw_code rc = commit_record(p, t, r, err);
    json_decref(r);
    return rc;
}

const char *pipeline_rule_name(pipeline_rule r)
{
    static const char *const names[PIPELINE_RULE_COUNT] = {
        "designated_address", "cluster_hit", "indirect_exposure", "feed_gap", "shared_payout", "consolidator",
        "payout_toward_designated", "off_ramp_after_pool", "test_then_salary"};
    return r < PIPELINE_RULE_COUNT ? names[r] : "?";
}

/* The latest record of an alert id, parsed into *out; *out NULL if none.
 * A record that cannot be parsed (out of memory) is an error, never "none":
 * that would skip a reorged record or repeat a sighting. */
static cw_code latest_record(store_txn *t, const char *id, json_t **out, cw_err *err)
{
    *out = NULL;
    cw_span v;
    cw_code rc = alertdb_latest_get(t, id, &v, err);
    if (rc == CW_ENOTFOUND)
        return CW_OK;
    if (rc)
        return rc;
    if ((*out = json_loadb((const char *)v.p, v.n, 0, NULL)) == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET,
                          "cannot read the latest record of alert %s (out of memory, or a damaged store)", id);
    return CW_OK;
}

typedef struct {
    char source[WL_REF_MAX], uid[WL_REF_MAX], ticker[32], linked_from[WL_REF_MAX];
    bool linked, found;
    char revealed_in[67]; /* a key link's revealing tx (keylink_txid_text), else "" */
} first_ref;

static void take_first(void *ctx, const wl_ref *r)
{
    first_ref *f = ctx;
    if (f->found)
        return;
    f->found = true;
    snprintf(f->source, sizeof f->source, "%s", r->source);
    snprintf(f->uid, sizeof f->uid, "%s", r->uid);
    snprintf(f->ticker, sizeof f->ticker, "%s", r->ticker);
    snprintf(f->linked_from, sizeof f->linked_from, "%s", r->linked_from ? r->linked_from : "");
    f->linked = (r->flags & WL_REF_LINKED) != 0;
    f->revealed_in[0] = '\0';
    if (r->reveal_txid)
        keylink_txid_text((cw_chain)r->reveal_chain, r->reveal_txid, f->revealed_in);
}

/* One match of a tx against the watchlist: an address and a direction. */
typedef struct {
    cw_addr addr;
    bool to;            /* to_designated (an output) or from_designated (an input) */
    bool resolved;      /* inputs: the prevout was in our index (else: a hint) */
    uint64_t amount;
    uint64_t returned;  /* from_designated: what the tx paid back to the same address (change) */
    first_ref ref;
} match;

/* A tx's matches: as many as it has (a tx may pay hundreds of designated
 * addresses; each is a record, none is dropped). Free with free(m). */
typedef struct {
    match *m;
    size_t n, cap;
} match_list;

/* Every designated address a tx pays or spends from, into *ml (emptied
 * first). A store error (a read that failed, a designation that does not
 * decode) is returned, never read as "not listed": the caller must not
 * record the tx, or its block, as screened. */
static cw_code find_matches(store_txn *t, const cw_tx *tx, match_list *ml, cw_err *err)
{
    ml->n = 0;
    for (size_t pass = 0; pass < 2; pass++) {
        size_t count = pass == 0 ? tx->n_out : ((tx->flags & CW_TX_COINBASE) ? 0 : tx->n_in);
        for (size_t i = 0; i < count; i++) {
            cw_addr a;
            uint64_t amount = 0;
            bool resolved = true;
            if (pass == 0) {
                a = tx->out[i].addr;
                amount = tx->out[i].value;
            } else if (tx->in[i].resolved) {
                a = tx->in[i].addr;
                amount = tx->in[i].value;
            } else {
                resolved = false;
                if (!btc_input_hint(&tx->in[i], (cw_net)tx->net, &a))
                    continue;
            }
            if (a.kind == CW_ADDR_NONE)
                continue;
            uint8_t key[WL_KEY_MAX];
            size_t kn = wl_key_from_addr(&a, key);
            bool listed;
            cw_code rc = wl_is_listed(t, key, kn, &listed, err);
            if (rc)
                return rc;
            if (!listed)
                continue;
            /* One record per address and tx (the id says so): an address
             * that spends and is paid change in the same tx is recorded as
             * spending, with the change as `returned`. */
            match *m = ml->m;
            size_t j = 0, n = ml->n;
            while (j < n && !cw_addr_eq(&m[j].addr, &a))
                j++;
            if (j < n && m[j].to && pass == 1) {
                m[j].to = false;
                m[j].returned = m[j].amount;
                m[j].amount = 0;
                m[j].resolved = true;
            }
            if (j == n) {
                if (n == ml->cap) {
                    size_t cap = ml->cap ? ml->cap * 2 : 8;
                    match *grown = realloc(ml->m, cap * sizeof *grown);
                    if (grown == NULL)
                        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory for a tx's %zu matches", n + 1);
                    ml->m = m = grown;
                    ml->cap = cap;
                }
                memset(&m[n], 0, sizeof m[n]);
                m[n].addr = a;
                m[n].to = pass == 0;
                m[n].resolved = resolved;
                size_t c;
                if ((rc = wl_lookup(t, key, kn, take_first, &m[n].ref, &c, err)))
                    return rc;
                ml->n = ++n;
            }
            m[j].amount += amount; /* several outputs to one address: one alert, summed */
            m[j].resolved &= resolved;
        }
    }
    return CW_OK;
}

/* The entity of a record; NULL when out of memory (a designation the
 * store has no entity for gets nulls: that is what the store says). */
static json_t *entity_json(store_txn *t, const first_ref *r)
{
    json_t *e = json_object();
    cw_span ej;
    json_t *stored = NULL;
    bool ok = true;
    cw_code erc = wl_entity_json(t, r->source, r->uid, &ej, NULL);
    if (erc == CW_OK && (stored = json_loadb((const char *)ej.p, ej.n, 0, NULL)) == NULL)
        ok = false; /* present but unreadable here: never a record with the name missing */
    else if (erc != CW_OK && erc != CW_ENOTFOUND)
        ok = false; /* a store error is no absent entity: the record fails, and its tx with it */
    alert_put(e, "uid", json_string(r->uid), &ok);
    alert_put(e, "source", json_string(r->source), &ok);
    const char *name = stored ? json_string_value(json_object_get(stored, "name")) : NULL;
    const char *list = stored ? json_string_value(json_object_get(stored, "list")) : NULL;
    alert_put(e, "name", name ? json_string(name) : json_null(), &ok);
    alert_put(e, "list", list ? json_string(list) : json_null(), &ok);
    json_t *programs = stored ? json_object_get(stored, "programs") : NULL;
    alert_put(e, "programs", programs ? json_incref(programs) : json_array(), &ok);
    const char *designated = stored ? json_string_value(json_object_get(stored, "designated")) : NULL;
    alert_put(e, "designated", designated ? json_string(designated) : json_null(), &ok);
    json_decref(stored);
    return built(e, ok);
}

/* A block or tx hash as records print it: Bitcoin's reversed, an account
 * chain's as the node prints it (kept in display order, with its 0x). */
static void hash_hex(const pipeline *p, const uint8_t h[32], char out[67])
{
    if (p->account && p->chain_name && strcmp(p->chain_name, "tron") == 0) {
        cw_hex_encode(h, 32, out); /* Tron prints txids and block ids without 0x */
    } else if (p->account) {
        out[0] = '0', out[1] = 'x';
        cw_hex_encode(h, 32, out + 2);
    } else
        cw_hex_encode_rev(h, 32, out);
}

static json_t *block_json(const pipeline *p, const chainstate_block *b)
{
    json_t *o = json_object();
    char h[67];
    bool ok = true;
    hash_hex(p, b->hash, h);
    alert_put(o, "hash", json_string(h), &ok);
    alert_put(o, "height", json_integer(b->height), &ok);
    alert_put(o, "time", json_integer(b->time), &ok);
    return built(o, ok);
}

/* Retroactive screening: was the address designated only after this tx?
 * True when the tx's day (its block's time, UTC) is before the entity's
 * designation date; null when either is unknown (a mempool sighting is
 * now, after any designation already listed: false). */
static json_t *designated_after_json(const json_t *entity, const chainstate_block *blk)
{
    const char *d = json_string_value(json_object_get(entity, "designated"));
    if (d == NULL || strlen(d) != 10)
        return json_null();
    if (blk == NULL)
        return json_false();
    time_t t = (time_t)blk->time;
    struct tm tm;
    char day[16];
    gmtime_r(&t, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    return json_boolean(strcmp(day, d) < 0);
}

/* Is this sighting already recorded? A mempool sighting repeats nothing; a
 * confirmation repeats only the same block's. */
static cw_code already_recorded(const pipeline *p, store_txn *t, const char *id, const char *status, const chainstate_block *blk, bool *skip,
                                 cw_err *err)
{
    json_t *prev;
    cw_code rc = latest_record(t, id, &prev, err);
    if (rc)
        return rc;
    const char *prev_status = prev ? json_string_value(json_object_get(prev, "status")) : NULL;
    *skip = false;
    if (strcmp(status, "mempool") == 0)
        *skip = prev != NULL; /* seen already, in the mempool or a block */
    else if (prev_status && strcmp(prev_status, "confirmed") == 0) {
        const char *ph = json_string_value(json_object_get(json_object_get(prev, "block"), "hash"));
        char h[67];
        hash_hex(p, blk->hash, h);
        *skip = ph && strcmp(ph, h) == 0;
    }
    json_decref(prev);
    return CW_OK;
}

/* The record id of one (tx, rule, address) sighting, noted in ids (the
 * ids a block's records carry, for records_reorged) before anything else
 * can fail; *skip says the sighting is already recorded (already_recorded).
 * CW_ENOMEM when ids cannot grow; a store error as latest_record's. */
static cw_code sighting_id(const pipeline *p, store_txn *t, const char *chain, const char *network, const char *txid,
                           const char *rule, const char *addr, const char *status, const chainstate_block *blk,
                           cw_buf *ids, char id[33], bool *skip, cw_err *err)
{
    alert_id(chain, network, txid, rule, addr, id);
    if (ids && cw_buf_append(ids, id, 32, err))
        return CW_ENOMEM;
    return already_recorded(p, t, id, status, blk, skip, err);
}

/* The fields every record of a tx has (the rule's own come after).
 * Every setter's failure is latched in *ok (alert_put). */
static json_t *record_base(pipeline *p, store_txn *t, const char *id, const char *rule, const char *severity,
                           const char *decision, const char *status, const char *txid, const chainstate_block *blk,
                           bool to_designated, const char *addr, const first_ref *ref, const char *seen, bool *ok)
{
    json_t *r = json_object();
    alert_put(r, "id", json_string(id), ok);
    alert_put(r, "rule", json_string(rule), ok);
    alert_put(r, "severity", json_string(severity), ok);
    alert_put(r, "decision", json_string(decision), ok);
    alert_put(r, "status", json_string(status), ok);
    alert_put(r, "chain", json_string(p->chain_name), ok);
    alert_put(r, "network", json_string(p->network_name), ok);
    alert_put(r, "txid", json_string(txid), ok);
    alert_put(r, "block", blk ? block_json(p, blk) : json_null(), ok);
    alert_put(r, "direction", json_string(to_designated ? "to_designated" : "from_designated"), ok);
    alert_put(r, "address", json_string(addr), ok);
    alert_put(r, "linked_from", ref->linked_from[0] ? json_string(ref->linked_from) : json_null(), ok);
    json_t *entity = entity_json(t, ref);
    alert_put(r, "designated_after_tx", entity ? designated_after_json(entity, blk) : NULL, ok);
    alert_put(r, "entity", entity, ok);
    if (!p->account) /* an account chain's record names its asset itself (records_account_tx) */
        alert_put(r, "asset", json_string("BTC"), ok);
    alert_put(r, "seen_at", json_string(seen), ok);
    return r;
}

/* The non-zero txids as a hex array without repeats; NULL when out of memory. */
static json_t *txids_json(const uint8_t (*ids)[32], size_t n)
{
    json_t *a = json_array();
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        static const uint8_t zero[32];
        if (memcmp(ids[i], zero, 32) == 0)
            continue;
        char h[65];
        cw_hex_encode_rev(ids[i], 32, h);
        bool dup = false;
        for (size_t k = 0; k < json_array_size(a) && !dup; k++)
            dup = strcmp(json_string_value(json_array_get(a, k)), h) == 0;
        if (!dup)
            alert_push(a, json_string(h), &ok);
    }
    return built(a, ok);
}

static cw_code tx_records_of(pipeline *p, store_txn *t, const cw_tx *tx, const match *m, size_t n, const char *status,
                             const chainstate_block *blk, cw_buf *ids, cw_err *err);

cw_code records_count_hits(store_txn *t, const cw_tx *tx, size_t *hits, cw_err *err)
{
    match_list ml = {0};
    cw_code rc = find_matches(t, tx, &ml, err);
    *hits = ml.n;
    free(ml.m);
    return rc;
}

cw_code records_tx(pipeline *p, store_txn *t, const cw_tx *tx, const char *status, const chainstate_block *blk,
                   cw_buf *ids, cw_err *err)
{
    match_list ml = {0};
    cw_code mrc = find_matches(t, tx, &ml, err);
    if (mrc || ml.n == 0) {
        free(ml.m);
        return mrc; /* the common case: nothing to format */
    }
    cw_code rc = tx_records_of(p, t, tx, ml.m, ml.n, status, blk, ids, err);
    free(ml.m);
    return rc;
}

static cw_code tx_records_of(pipeline *p, store_txn *t, const cw_tx *tx, const match *m, size_t n, const char *status,
                             const chainstate_block *blk, cw_buf *ids, cw_err *err)
{
    char txid[65], seen[32];
    cw_hex_encode_rev(tx->txid, 32, txid);
    alert_now_iso(seen);
    const char *network = p->network_name;
    for (size_t i = 0; i < n; i++) {
        char addr[CW_ADDR_TEXT_MAX];
        if (cw_addr_format(&m[i].addr, addr, sizeof addr) == 0)
            continue;
        char id[33];
        bool skip;
        cw_code rc = sighting_id(p, t, p->chain_name, network, txid, "designated_address", addr, status, blk, ids, id,
                                 &skip, err);
        if (rc)
            return rc;
        if (skip)
            continue;
        bool ok = true;
        json_t *r = record_base(p, t, id, "designated_address", m[i].ref.linked ? "high" : "severe",
                                m[i].ref.linked ? "hold" : "block", status, txid, blk, m[i].to, addr, &m[i].ref, seen,
                                &ok);
        alert_put(r, "hops", json_integer(0), &ok);
        json_t *ev = json_array();
        alert_push(ev, json_string(txid), &ok);
        if (m[i].ref.revealed_in[0] && strcmp(m[i].ref.revealed_in, txid) != 0)
            alert_push(ev, json_string(m[i].ref.revealed_in), &ok); /* the tx that revealed the linking key */
        alert_put(r, "evidence", ev, &ok);
        alert_put(r, "amount", json_integer((json_int_t)m[i].amount), &ok);
        alert_put(r, "amount_known", json_boolean(m[i].to || m[i].resolved), &ok);
        if (m[i].returned)
            alert_put(r, "returned", json_integer((json_int_t)m[i].returned), &ok);
        rc = commit_built(p, t, r, ok, err);
        if (rc)
            return rc;
    }
    return CW_OK;
}

/* The designation behind a watchlist key (its first ref): ref->found false
 * when the key is no longer listed. A lookup that fails is an error, never
 * "no longer listed": that would drop the record. */
static cw_code ref_of_key(store_txn *t, const uint8_t *key, size_t klen, first_ref *ref, cw_err *err)
{
    memset(ref, 0, sizeof *ref);
    size_t c = 0;
    return wl_lookup(t, key, klen, take_first, ref, &c, err);
}

cw_code records_flows(pipeline *p, store_txn *t, const cw_tx *tx, const flow_finding *f, size_t n,
                      const char *status, const chainstate_block *blk, cw_buf *ids, cw_err *err)
{
    if (n == 0)
        return CW_OK;
    const flows_config *fc = p->cfg.flows;
    char txid[65], seen[32];
    cw_hex_encode_rev(tx->txid, 32, txid);
    alert_now_iso(seen);
    const char *network = p->network_name;
    for (size_t i = 0; i < n; i++) {
        char addr[CW_ADDR_TEXT_MAX], source[CW_ADDR_TEXT_MAX + WL_KEY_MAX];
        if (cw_addr_format(&f[i].addr, addr, sizeof addr) == 0)
            continue;
        bool hit = f[i].kind == FLOW_CLUSTER_HIT;
        const char *rule = hit ? "cluster_hit" : "indirect_exposure";
        const uint8_t *skey = hit ? f[i].cluster.first_designated.key : f[i].taint.source;
        size_t sklen = hit ? f[i].cluster.first_designated.len : f[i].taint.source_len;
        first_ref ref;
        cw_code lrc = ref_of_key(t, skey, sklen, &ref, err);
        if (lrc)
            return lrc;
        if (!ref.found)
            continue; /* the designation is gone (a newer import): nothing to say */
        wl_key_to_text(skey, sklen, source, sizeof source);
        char id[33];
        bool skip;
        cw_code rc = sighting_id(p, t, p->chain_name, network, txid, rule, addr, status, blk, ids, id, &skip, err);
        if (rc)
            return rc;
        if (skip)
            continue;
        bool hold = hit || f[i].share_ppm >= fc->hold_share_ppm;
        const char *decision = hit ? "hold" : f[i].watched && hold ? "hold" : "review";
        bool ok = true;
        json_t *r = record_base(p, t, id, rule, hold ? "high" : "medium", decision, status, txid, blk,
                                hit ? f[i].to : false, addr, &ref, seen, &ok);
        alert_put(r, "linked_from", json_null(), &ok);
        alert_put(r, "watched", json_boolean(f[i].watched), &ok);
        alert_put(r, "amount", json_integer((json_int_t)f[i].amount), &ok);
        alert_put(r, "amount_known", json_boolean(f[i].amount_known), &ok);
        if (hit) {
            uint8_t ev[4][32];
            memcpy(ev[0], tx->txid, 32);
            memcpy(ev[1], f[i].member_join, 32);
            memcpy(ev[2], f[i].designated_join, 32);
            memcpy(ev[3], f[i].cluster.merge_txid, 32);
            alert_put(r, "hops", json_integer(0), &ok);
            alert_put(r, "evidence", txids_json((const uint8_t(*)[32])ev, 4), &ok);
            alert_put(r, "designated_member", json_string(source), &ok);
            json_t *c = json_object();
            char root[CW_ADDR_TEXT_MAX + WL_KEY_MAX];
            wl_key_to_text(f[i].cluster.root.key, f[i].cluster.root.len, root, sizeof root);
            alert_put(c, "root", json_string(root), &ok);
            alert_put(c, "size", json_integer((json_int_t)f[i].cluster.size), &ok);
            alert_put(c, "designated", json_integer(f[i].cluster.designated), &ok);
            alert_put(r, "cluster", c, &ok);
        } else {
            alert_put(r, "hops", json_integer(f[i].hops), &ok);
            alert_put(r, "evidence", txids_json((const uint8_t(*)[32])f[i].taint.path, f[i].taint.n_path), &ok);
            alert_put(r, "source_address", json_string(source), &ok);
            alert_put(r, "share_ppm", json_integer(f[i].share_ppm), &ok);
            alert_put(r, "output_value", json_integer((json_int_t)f[i].value), &ok);
        }
        rc = commit_built(p, t, r, ok, err);
        if (rc)
            return rc;
    }
    return CW_OK;
}

static json_t *asset_json(const pipeline *p, const cw_asset *as, bool *ok);

cw_code records_rules(pipeline *p, store_txn *t, const cw_tx *tx, const rule_finding *f, size_t n,
                      const char *status, const chainstate_block *blk, cw_buf *ids, cw_err *err)
{
    if (n == 0)
        return CW_OK;
    char txid[67], seen[32];
    hash_hex(p, tx->txid, txid); /* Bitcoin's reversed; an account chain's as its other records */
    alert_now_iso(seen);
    /* an account chain's records name their chain and network as its
     * other records do (account.c), and the transfer's asset and exact
     * amount (records_account_tx) */
    const char *chain = p->account ? p->chain_name : "bitcoin";
    const char *network = p->account ? p->network_name : cw_net_name((cw_net)p->cfg.net);
    for (size_t i = 0; i < n; i++) {
        const char *rule = rule_name(f[i].rule);
        char id[33];
        bool skip;
        cw_code rc = sighting_id(p, t, chain, network, txid, rule, f[i].address, status, blk, ids, id, &skip, err);
        if (rc)
            return rc;
        if (skip)
            continue;
        rule_risk sev = p->cfg.rules->severity[f[i].rule];
        rule_risk worst = f[i].risk > sev ? f[i].risk : sev;
        const char *decision = worst >= RISK_HIGH ? "hold" : "review";
        bool ok = true;
        json_t *r = json_object();
        alert_put(r, "id", json_string(id), &ok);
        alert_put(r, "rule", json_string(rule), &ok);
        alert_put(r, "severity", json_string(rule_risk_name(sev)), &ok);
        alert_put(r, "risk", json_string(rule_risk_name(f[i].risk)), &ok);
        alert_put(r, "score", json_integer((json_int_t)f[i].score), &ok);
        alert_put(r, "decision", json_string(decision), &ok);
        alert_put(r, "status", json_string(status), &ok);
        alert_put(r, "chain", json_string(chain), &ok);
        alert_put(r, "network", json_string(network), &ok);
        alert_put(r, "txid", json_string(txid), &ok);
        alert_put(r, "block", blk ? block_json(p, blk) : json_null(), &ok);
        alert_put(r, "direction", json_null(), &ok);
        alert_put(r, "address", json_string(f[i].address), &ok);
        alert_put(r, "entity", json_null(), &ok);
        char dec[CW_U256_DEC_MAX];
        if (f[i].account)
            cw_u256_to_dec(&f[i].amount_exact, dec);
        alert_put(r, "amount", f[i].account ? json_string(dec) : json_integer((json_int_t)f[i].amount), &ok);
        alert_put(r, "amount_usd_cents", f[i].amount_usd ? json_integer((json_int_t)f[i].cents) : json_null(), &ok);
        alert_put(r, "asset", f[i].account ? asset_json(p, &f[i].asset, &ok) : json_string("BTC"), &ok);
        alert_put(r, "evidence", json_incref(f[i].evidence), &ok);
        alert_put(r, "explanation", json_string(f[i].explanation), &ok);
        alert_put(r, "seen_at", json_string(seen), &ok);
        rc = commit_built(p, t, r, ok, err);
        if (rc)
            return rc;
    }
    return CW_OK;
}

cw_code records_reorged(pipeline *p, store_txn *t, const cw_buf *ids, cw_err *err)
{
    cw_code rc = CW_OK;
    for (size_t i = 0; rc == CW_OK && i + 32 <= ids->n; i += 32) {
        char id[33];
        memcpy(id, ids->p + i, 32);
        id[32] = '\0';
        json_t *prev;
        if ((rc = latest_record(t, id, &prev, err)) || prev == NULL)
            continue;
        const char *st = json_string_value(json_object_get(prev, "status"));
        if (st && strcmp(st, "confirmed") == 0) {
            char seen[32];
            bool ok = true;
            alert_now_iso(seen);
            alert_put(prev, "status", json_string("reorged"), &ok);
            alert_put(prev, "seen_at", json_string(seen), &ok);
            json_object_del(prev, "sig");
            prev = built(prev, ok);
            rc = commit_record(p, t, prev, err);
        }
        json_decref(prev);
    }
    return rc;
}

/* ---------- feed gaps ---------- */

typedef struct {
    pipeline *p;
    json_t *r;
    pipeline_stats st0;
} gap_write;

static cw_code write_gap(store_txn *t, void *arg, cw_err *err)
{
    gap_write *g = arg;
    g->p->st = g->st0; /* a full map's retry: what the failed attempt counted did not happen */
    return commit_record(g->p, t, g->r, err);
}

cw_code pipeline_gap(pipeline *p, const char *topic, uint32_t expected, uint32_t got, bool restart,
                     double received_at, cw_err *err)
{
    p->st.feed_gaps++;
    char seen[32];
    alert_now_iso(seen);
    json_t *r = json_object();
    char id[33], what[96];
    bool ok = true;
    snprintf(what, sizeof what, "%s:%u:%u:%.6f", topic, expected, got, received_at);
    alert_id(p->chain_name, p->network_name, what, "feed_gap", topic, id);
    alert_put(r, "id", json_string(id), &ok);
    alert_put(r, "rule", json_string("feed_gap"), &ok);
    alert_put(r, "severity", json_string(restart ? "medium" : "high"), &ok);
    alert_put(r, "chain", json_string(p->chain_name), &ok);
    alert_put(r, "network", json_string(p->network_name), &ok);
    alert_put(r, "topic", json_string(topic), &ok);
    alert_put(r, "expected", json_integer(expected), &ok);
    alert_put(r, "got", json_integer(got), &ok);
    alert_put(r, "restart", json_boolean(restart), &ok);
    alert_put(r, "lost", json_integer(restart ? got : (json_int_t)(uint32_t)(got - expected)), &ok);
    alert_put(r, "seen_at", json_string(seen), &ok);
    r = built(r, ok);
    gap_write g = {p, r, p->st};
    cw_code rc = store_write(p->cfg.store, write_gap, &g, err);
    if (rc)
        p->st = g.st0;
    json_decref(r);
    if (rc == CW_OK)
        rc = pipeline_flush(p, err);
    /* confirmed state cannot have gaps: ask the node (block topics; a lost
     * rawtx only costs a mempool sighting, its block still comes) */
    if (rc == CW_OK && strcmp(topic, "rawtx") != 0)
        rc = pipeline_sync(p, err);
    return rc;
}

/* ---------- account chains ---------- */

/* One designated address a tx's transfers touch, and the transfer the
 * record describes (the first that moves a non-zero amount to or from it,
 * else the first that touches it). */
typedef struct {
    cw_addr addr;
    bool to;
    size_t xfer;
    first_ref ref;
} account_match;

typedef struct {
    account_match *m;
    size_t n, cap;
} account_match_list;

static cw_code account_matches(store_txn *t, const cw_tx *tx, account_match_list *ml, bool refs, cw_err *err)
{
    ml->n = 0;
    for (size_t i = 0; i < tx->n_xfer; i++)
        for (int side = 0; side < 2; side++) {
            const cw_transfer *x = &tx->xfer[i];
            const cw_addr *a = side == 0 ? &x->to : &x->from;
            if (a->kind == CW_ADDR_NONE)
                continue;
            uint8_t key[WL_KEY_MAX];
            size_t kn = wl_key_from_addr(a, key);
            bool listed;
            cw_code rc = wl_is_listed(t, key, kn, &listed, err);
            if (rc)
                return rc;
            if (!listed)
                continue;
            size_t j = 0;
            while (j < ml->n && !cw_addr_eq(&ml->m[j].addr, a))
                j++;
            if (j < ml->n) {
                if (cw_u256_is_zero(&tx->xfer[ml->m[j].xfer].amount) && !cw_u256_is_zero(&x->amount))
                    ml->m[j].xfer = i, ml->m[j].to = side == 0;
                continue;
            }
            if (ml->n == ml->cap) {
                size_t cap = ml->cap ? ml->cap * 2 : 8;
                account_match *grown = realloc(ml->m, cap * sizeof *grown);
                if (grown == NULL)
                    return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory for a tx's %zu matches", ml->n + 1);
                ml->m = grown, ml->cap = cap;
            }
            account_match *m = &ml->m[ml->n++];
            memset(m, 0, sizeof *m);
            m->addr = *a;
            m->to = side == 0;
            m->xfer = i;
            size_t c;
            if (refs && (rc = wl_lookup(t, key, kn, take_first, &m->ref, &c, err)))
                return rc;
        }
    return CW_OK;
}

cw_code records_account_hits(store_txn *t, const cw_tx *tx, size_t *hits, cw_err *err)
{
    account_match_list ml = {0};
    cw_code rc = account_matches(t, tx, &ml, false, err);
    *hits = ml.n;
    free(ml.m);
    return rc;
}

/* {kind, symbol, contract, decimals}: what a record's amount counts. */
static json_t *asset_json(const pipeline *p, const cw_asset *as, bool *ok)
{
    json_t *o = json_object();
    if (as->kind == CW_ASSET_TOKEN) {
        char c[CW_ADDR_TEXT_MAX];
        const token_info *ti = p->tokens ? tokens_find(p->tokens, &as->contract) : NULL;
        alert_put(o, "kind", json_string("token"), ok);
        alert_put(o, "contract", cw_addr_format(&as->contract, c, sizeof c) ? json_string(c) : json_null(), ok);
        alert_put(o, "symbol", ti ? json_string(ti->symbol) : json_null(), ok);
        alert_put(o, "decimals", ti ? json_integer(ti->decimals) : json_null(), ok);
    } else if (as->kind == CW_ASSET_TRC10) {
        alert_put(o, "kind", json_string("trc10"), ok);
        alert_put(o, "id", json_integer((json_int_t)as->id), ok);
        alert_put(o, "symbol", json_null(), ok);
        alert_put(o, "contract", json_null(), ok);
        alert_put(o, "decimals", json_null(), ok);
    } else {
        alert_put(o, "kind", json_string("native"), ok);
        alert_put(o, "symbol", json_string(p->native_symbol ? p->native_symbol : "?"), ok);
        alert_put(o, "contract", json_null(), ok);
        alert_put(o, "decimals", json_integer(p->native_decimals), ok);
    }
    return o;
}

cw_code records_account_tx(pipeline *p, store_txn *t, const cw_tx *tx, const char *status, const chainstate_block *blk,
                           cw_buf *ids, cw_err *err)
{
    account_match_list ml = {0};
    cw_code rc = account_matches(t, tx, &ml, true, err);
    if (rc || ml.n == 0) {
        free(ml.m);
        return rc;
    }
    char txid[67], seen[32];
    hash_hex(p, tx->txid, txid);
    alert_now_iso(seen);
    bool failed = (tx->flags & CW_TX_FAILED) != 0;
    static const char *const xfer_kinds[] = {"value", "token_log", "token_call", "trc10"};
    for (size_t i = 0; rc == CW_OK && i < ml.n; i++) {
        const account_match *m = &ml.m[i];
        const cw_transfer *x = &tx->xfer[m->xfer];
        char addr[CW_ADDR_TEXT_MAX];
        if (cw_addr_format(&m->addr, addr, sizeof addr) == 0)
            continue;
        char id[33];
        bool skip;
        if ((rc = sighting_id(p, t, p->chain_name, p->network_name, txid, "designated_address", addr, status, blk, ids,
                              id, &skip, err)) ||
            skip)
            continue; /* an error ends the loop (rc) */
        bool ok = true;
        json_t *r = record_base(p, t, id, "designated_address", m->ref.linked ? "high" : "severe",
                                m->ref.linked ? "hold" : "block", status, txid, blk, m->to, addr, &m->ref, seen, &ok);
        alert_put(r, "hops", json_integer(0), &ok);
        json_t *ev = json_array();
        alert_push(ev, json_string(txid), &ok);
        alert_put(r, "evidence", ev, &ok);
        alert_put(r, "asset", asset_json(p, &x->asset, &ok), &ok);
        char amount[CW_U256_DEC_MAX];
        cw_u256 zero = {{0, 0, 0, 0}};
        cw_u256_to_dec(failed ? &zero : &x->amount, amount); /* a reverted tx moved nothing */
        alert_put(r, "amount", json_string(amount), &ok);
        alert_put(r, "amount_known", json_true(), &ok);
        alert_put(r, "transfer", json_string(x->kind < 4 ? xfer_kinds[x->kind] : "?"), &ok);
        char other[CW_ADDR_TEXT_MAX];
        const cw_addr *o = m->to ? &x->from : &x->to;
        alert_put(r, "counterparty", cw_addr_format(o, other, sizeof other) ? json_string(other) : json_null(), &ok);
        alert_put(r, "failed", json_boolean(failed), &ok);
        rc = commit_built(p, t, r, ok, err);
    }
    free(ml.m);
    return rc;
}

cw_code records_account_exposure(pipeline *p, store_txn *t, const cw_tx *tx, const cw_transfer *x,
                                 const uint8_t *source, size_t source_len, unsigned hops, const cw_u256 *part,
                                 uint32_t share_ppm, bool hold, const chainstate_block *blk, cw_buf *ids,
                                 cw_err *err)
{
    uint8_t key[WL_KEY_MAX];
    size_t kn = wl_key_from_addr(&x->to, key);
    bool listed;
    cw_code rc = wl_is_listed(t, key, kn, &listed, err);
    if (rc || listed)
        return rc; /* a listed recipient has its designated_address record */
    first_ref ref;
    if ((rc = ref_of_key(t, source, source_len, &ref, err)) || !ref.found)
        return rc; /* the designation is gone: nothing to say */
    char addr[CW_ADDR_TEXT_MAX], src[CW_ADDR_TEXT_MAX + WL_KEY_MAX], txid[67], id[33], dec[CW_U256_DEC_MAX], seen[32];
    if (cw_addr_format(&x->to, addr, sizeof addr) == 0)
        return CW_OK;
    wl_key_to_text(source, source_len, src, sizeof src);
    hash_hex(p, tx->txid, txid);
    bool skip;
    if ((rc = sighting_id(p, t, p->chain_name, p->network_name, txid, "indirect_exposure", addr, "confirmed", blk, ids,
                          id, &skip, err)) ||
        skip)
        return rc;
    alert_now_iso(seen);
    bool ok = true;
    json_t *r = record_base(p, t, id, "indirect_exposure", hold ? "high" : "medium", hold ? "hold" : "review",
                            "confirmed", txid, blk, false, addr, &ref, seen, &ok);
    alert_put(r, "linked_from", json_null(), &ok);
    alert_put(r, "watched", json_false(), &ok);
    alert_put(r, "hops", json_integer(hops), &ok);
    json_t *ev = json_array();
    alert_push(ev, json_string(txid), &ok);
    alert_put(r, "evidence", ev, &ok);
    alert_put(r, "source_address", json_string(src), &ok);
    alert_put(r, "share_ppm", json_integer(share_ppm), &ok);
    alert_put(r, "asset", asset_json(p, &x->asset, &ok), &ok);
    cw_u256_to_dec(part, dec);
    alert_put(r, "amount", json_string(dec), &ok);
    alert_put(r, "amount_known", json_true(), &ok);
    cw_u256_to_dec(&x->amount, dec);
    alert_put(r, "transfer_amount", json_string(dec), &ok);
    char other[CW_ADDR_TEXT_MAX];
    alert_put(r, "counterparty", cw_addr_format(&x->from, other, sizeof other) ? json_string(other) : json_null(), &ok);
    return commit_built(p, t, r, ok, err);
}
