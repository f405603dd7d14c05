#include "pipeline.h"

#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/records/alert.h"
#include "chains/addr.h"
#include "chains/bitcoin/block.h"
#include "chains/bitcoin/hint.h"
#include "chains/bitcoin/tx.h"
#include "chains/hex.h"
#include "chainstate.h"
#include "flows.h"
#include "watchlists/store/journal.h"
#include "watchlists/watchlist.h"

#define MAX_COUNTERS 8
#define ACCEPTED_RING 4096 /* recent 'A' txids, for a rawtx arriving after its 'A' */
#define MAX_PENDING 256    /* rawtx hits waiting for their 'A' */

typedef struct {
    uint8_t txid[32];
    uint8_t *raw;
    size_t len;
} pending_tx;

struct pipeline {
    pipeline_config cfg;
    struct {
        char name[24];
        uint32_t seq;
        bool set;
    } counters[MAX_COUNTERS];
    block_walker walker;
    void *arena_mem;
    size_t arena_cap;
    uint64_t outbox_seq;
    uint8_t written[8]; /* outbox key of the last record handed to the sink */
    bool have_written;
    uint8_t (*accepted)[32];
    size_t accepted_next;
    pending_tx pending[MAX_PENDING];
    size_t n_pending;
    uint8_t pending_c[32]; /* a 'C' whose rawblock has not come yet */
    bool have_pending_c;
    store_txn *batch;      /* an open replay batch, or NULL */
    coins *cache;          /* outputs created in the open batch, not yet in it (coins.h) */
    const flow_finding *findings; /* flows_tx's, of the last tx analysed */
    int lock_fd;           /* <datadir>/monitor.lock, held while open: one monitor per datadir */
    bool refresh_labels;   /* labels not yet applied to clusters merged before this run */
    bool refresh_recount;  /* a disconnect may have restored older designated counts */
    pipeline_stats st;
    pipeline_stats st_at_batch; /* st when the open batch began: an abort restores it */
};

/* The one place a full map is handled: after CW_EFULL the write was
 * aborted whole, so grow the map and let the caller run it again (a few
 * times at most). False: stop with rc as it is. */
static bool retry_after_full(pipeline *p, cw_code rc, int attempt, cw_err *err)
{
    return rc == CW_EFULL && attempt < 4 && store_grow(p->cfg.store, err) == CW_OK;
}

/* ---------- records ---------- */

static void now_iso(char out[32])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%.20s.%03dZ", base, (int)((ts.tv_nsec / 1000000) % 1000));
}

static void be64(uint64_t v, uint8_t k[8])
{
    for (int i = 0; i < 8; i++)
        k[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* ---------- the audit trail (alert.h) ---------- */

/* The trail head lives in the cursor database under "trail": seq (8, BE)
 * and the last record's line hash (32). Read and written inside each
 * record's own write transaction, never cached, so an aborted transaction
 * or batch (CW_EFULL retries included) takes its seq numbers back with it. */
#define TRAIL_KEY PIPELINE_TRAIL_KEY

cw_code pipeline_trail_head(store_txn *t, const uint8_t pk[32], alert_trail *out, cw_err *err)
{
    cw_span v;
    cw_code rc = store_get(t, STORE_CURSOR, TRAIL_KEY, strlen(TRAIL_KEY), &v, err);
    if (rc == CW_ENOTFOUND) {
        alert_trail_start(pk, out);
        return CW_OK;
    }
    if (rc)
        return rc;
    if (v.n != 40)
        return cw_err_set(err, CW_EDAMAGED, CW_NO_OFFSET,
                          "the audit trail head in the store is damaged (%zu bytes, 40 expected)", v.n);
    out->seq = 0;
    for (int i = 0; i < 8; i++)
        out->seq = out->seq << 8 | v.p[i];
    memcpy(out->hash, v.p + 8, 32);
    return CW_OK;
}

cw_code pipeline_trail_durable(store_txn *t, const uint8_t pk[32], alert_trail *out, cw_err *err)
{
    cw_code rc = pipeline_trail_head(t, pk, out, err);
    if (rc)
        return rc;
    /* records leave the outbox only once the sinks made them durable: the
     * oldest one still queued follows the last durable record */
    store_cursor *c;
    if ((rc = store_cursor_open(t, STORE_OUTBOX, &c, err)))
        return rc;
    cw_span k, v;
    for (bool more = store_cursor_seek(c, NULL, 0, &k, &v); more; more = store_cursor_next(c, &k, &v)) {
        json_t *r = json_loadb((const char *)v.p, v.n, 0, NULL);
        if (r == NULL) {
            store_cursor_close(c);
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "cannot read a queued record (out of memory or damaged)");
        }
        json_t *seq = json_object_get(r, "seq");
        const char *prev = json_string_value(json_object_get(r, "prev"));
        size_t n = 0;
        bool chained = json_is_integer(seq) && json_integer_value(seq) >= 1 && prev && strlen(prev) == 64 &&
                       cw_hex_decode(prev, 64, out->hash, 32, &n, NULL) == CW_OK && n == 32;
        if (chained)
            out->seq = (uint64_t)json_integer_value(seq) - 1;
        json_decref(r);
        if (chained)
            break; /* records of an older version carry no seq: the next one tells */
    }
    store_cursor_close(c);
    return CW_OK;
}

static cw_code trail_put(store_txn *t, const alert_trail *h, cw_err *err)
{
    uint8_t v[40];
    be64(h->seq, v);
    memcpy(v + 8, h->hash, 32);
    return store_put(t, STORE_CURSOR, TRAIL_KEY, strlen(TRAIL_KEY), v, sizeof v, err);
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
        rc = store_put(t, STORE_ALERTS, id, strlen(id), line.p, line.n, err);
    if (rc == CW_OK)
        rc = trail_put(t, &head, err);
    if (rc == CW_OK) {
        uint8_t k[8];
        be64(++p->outbox_seq, k);
        rc = store_put(t, STORE_OUTBOX, k, 8, line.p, line.n, err);
    }
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

const char *pipeline_rule_name(pipeline_rule r)
{
    static const char *const names[PIPELINE_RULE_COUNT] = {"designated_address", "cluster_hit", "indirect_exposure",
                                                           "feed_gap"};
    return r < PIPELINE_RULE_COUNT ? names[r] : "?";
}

/* The latest record of an alert id, parsed into *out; *out NULL if none.
 * A record that cannot be parsed (out of memory) is an error, never "none":
 * that would skip a reorged record or repeat a sighting. */
static cw_code latest_record(store_txn *t, const char *id, json_t **out, cw_err *err)
{
    *out = NULL;
    cw_span v;
    cw_code rc = store_get(t, STORE_ALERTS, id, strlen(id), &v, err);
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

static json_t *block_json(const chainstate_block *b)
{
    json_t *o = json_object();
    char h[65];
    bool ok = true;
    cw_hex_encode_rev(b->hash, 32, h);
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
static cw_code already_recorded(store_txn *t, const char *id, const char *status, const chainstate_block *blk, bool *skip,
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
        char h[65];
        cw_hex_encode_rev(blk->hash, 32, h);
        *skip = ph && strcmp(ph, h) == 0;
    }
    json_decref(prev);
    return CW_OK;
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
    alert_put(r, "chain", json_string("bitcoin"), ok);
    alert_put(r, "network", json_string(cw_net_name((cw_net)p->cfg.net)), ok);
    alert_put(r, "txid", json_string(txid), ok);
    alert_put(r, "block", blk ? block_json(blk) : json_null(), ok);
    alert_put(r, "direction", json_string(to_designated ? "to_designated" : "from_designated"), ok);
    alert_put(r, "address", json_string(addr), ok);
    alert_put(r, "linked_from", ref->linked_from[0] ? json_string(ref->linked_from) : json_null(), ok);
    json_t *entity = entity_json(t, ref);
    alert_put(r, "designated_after_tx", entity ? designated_after_json(entity, blk) : NULL, ok);
    alert_put(r, "entity", entity, ok);
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

/* The designated_address records of one tx, with status and block. */
static cw_code tx_records_of(pipeline *p, store_txn *t, const cw_tx *tx, const match *m, size_t n, const char *status,
                             const chainstate_block *blk, cw_buf *ids, cw_err *err);

static cw_code tx_records(pipeline *p, store_txn *t, const cw_tx *tx, const char *status, const chainstate_block *blk,
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
    now_iso(seen);
    const char *network = cw_net_name((cw_net)p->cfg.net);
    for (size_t i = 0; i < n; i++) {
        char addr[CW_ADDR_TEXT_MAX];
        if (cw_addr_format(&m[i].addr, addr, sizeof addr) == 0)
            continue;
        char id[33];
        alert_id("bitcoin", network, txid, "designated_address", addr, id);
        if (ids && cw_buf_append(ids, id, 32, err))
            return CW_ENOMEM;
        bool skip;
        cw_code rc = already_recorded(t, id, status, blk, &skip, err);
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
        alert_put(r, "evidence", ev, &ok);
        alert_put(r, "amount", json_integer((json_int_t)m[i].amount), &ok);
        alert_put(r, "amount_known", json_boolean(m[i].to || m[i].resolved), &ok);
        if (m[i].returned)
            alert_put(r, "returned", json_integer((json_int_t)m[i].returned), &ok);
        r = built(r, ok);
        rc = commit_record(p, t, r, err);
        json_decref(r);
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

/* cluster_hit and indirect_exposure records of one tx's findings. */
static cw_code flow_records(pipeline *p, store_txn *t, const cw_tx *tx, const flow_finding *f, size_t n,
                            const char *status, const chainstate_block *blk, cw_buf *ids, cw_err *err)
{
    if (n == 0)
        return CW_OK;
    const flows_config *fc = p->cfg.flows;
    char txid[65], seen[32];
    cw_hex_encode_rev(tx->txid, 32, txid);
    now_iso(seen);
    const char *network = cw_net_name((cw_net)p->cfg.net);
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
        alert_id("bitcoin", network, txid, rule, addr, id);
        if (ids && cw_buf_append(ids, id, 32, err))
            return CW_ENOMEM;
        bool skip;
        cw_code rc = already_recorded(t, id, status, blk, &skip, err);
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
        r = built(r, ok);
        rc = commit_record(p, t, r, err);
        json_decref(r);
        if (rc)
            return rc;
    }
    return CW_OK;
}

/* ---------- clusters against today's watchlist and labels ---------- */

/* An import since the last look (the wl_meta fingerprint moved), labels
 * given to this run, or a disconnect: bring cluster records up to date
 * (cluster_refresh), in a write transaction of its own, between blocks. */
static cw_code refresh_clusters(pipeline *p, cw_err *err)
{
    if (p->cfg.flows == NULL || p->batch)
        return CW_OK;
    store_txn *t;
    cw_code rc = store_begin(p->cfg.store, false, &t, err);
    if (rc)
        return rc;
    uint64_t fp = store_fingerprint(t, STORE_WL_META), saved = 0;
    bool known = chainstate_cursor_get(t, "flows.wl_fp", &saved, NULL) == CW_OK;
    store_abort(t);
    bool recount = !known || saved != fp || p->refresh_recount;
    const labels *lb = p->refresh_labels ? p->cfg.flows->labels : NULL;
    if (!recount && lb == NULL)
        return CW_OK;
    for (int attempt = 0;; attempt++) {
        if ((rc = store_begin(p->cfg.store, true, &t, err)))
            return rc;
        cluster_refresh_stats st;
        rc = cluster_refresh(t, recount, lb, &st, err);
        if (rc == CW_OK)
            rc = chainstate_cursor_put(t, "flows.wl_fp", fp, err);
        if (rc == CW_OK)
            rc = store_commit(t, err);
        else
            store_abort(t);
        if (!retry_after_full(p, rc, attempt, err))
            break;
    }
    if (rc == CW_OK)
        p->refresh_labels = p->refresh_recount = false;
    return rc;
}

/* ---------- open / close ---------- */

/* One monitor (watch or replay) per datadir: its Bloom filters and caches
 * assume no other process writes chain state (store.h). Imports and the
 * read-only verbs run beside it freely. The lock goes with the process. */
static cw_code lock_datadir(pipeline *p, cw_err *err)
{
    char path[4200];
    const char *store = store_path(p->cfg.store), *slash = strrchr(store, '/');
    snprintf(path, sizeof path, "%.*s/monitor.lock", slash ? (int)(slash - store) : 1, slash ? store : ".");
    p->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (p->lock_fd < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot open %s: %s", path, strerror(errno));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(p->lock_fd, F_SETLK, &fl) == 0)
        return CW_OK;
    struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    fcntl(p->lock_fd, F_GETLK, &who);
    close(p->lock_fd);
    p->lock_fd = -1;
    return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                      "%.*s is in use by another chainwatch watch or replay (pid %ld): one monitor per datadir",
                      slash ? (int)(slash - store) : 1, slash ? store : ".", (long)who.l_pid);
}

cw_code pipeline_open(const pipeline_config *cfg, pipeline **out, cw_err *err)
{
    pipeline *p = calloc(1, sizeof *p);
    if (p == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    p->cfg = *cfg;
    p->lock_fd = -1;
    cw_code lrc = lock_datadir(p, err);
    if (lrc) {
        free(p);
        return lrc;
    }
    p->st.node_height = -1;
    cw_code crc = CW_OK;
    /* the watchlist, clusters and taint: mostly asked about keys they never held */
    if ((crc = store_filter_enable(cfg->store, STORE_WL_ADDR, err)) ||
        (cfg->flows && ((crc = store_filter_enable(cfg->store, STORE_CLUSTER, err)) ||
                        (crc = store_filter_enable(cfg->store, STORE_CLUSTER_INFO, err)) ||
                        (crc = store_filter_enable(cfg->store, STORE_TAINT, err))))) {
        pipeline_close(p);
        return crc;
    }
    crc = coins_new(&p->cache, err);
    if (crc) {
        pipeline_close(p);
        return crc;
    }
    /* continue the outbox numbering after whatever a crash left in it */
    store_txn *t;
    cw_code rc = store_begin(cfg->store, false, &t, err);
    if (rc) {
        pipeline_close(p);
        return rc;
    }
    store_cursor *c;
    if (store_cursor_open(t, STORE_OUTBOX, &c, err) == CW_OK) {
        cw_span k, v;
        for (bool more = store_cursor_seek(c, NULL, 0, &k, &v); more; more = store_cursor_next(c, &k, &v))
            if (k.n == 8) {
                uint64_t s = 0;
                for (int i = 0; i < 8; i++)
                    s = s << 8 | k.p[i];
                if (s > p->outbox_seq)
                    p->outbox_seq = s;
            }
        store_cursor_close(c);
    }
    chainstate_tip tip;
    rc = chainstate_get_tip(t, &tip, err);
    store_abort(t);
    if (rc) {
        pipeline_close(p);
        return rc;
    }
    p->st.tip_height = tip.valid ? tip.height : -1;
    p->refresh_labels = cfg->flows && cfg->flows->labels;
    if ((rc = refresh_clusters(p, err))) {
        pipeline_close(p);
        return rc;
    }
    *out = p;
    return CW_OK;
}

static void drop_pending(pipeline *p)
{
    for (size_t i = 0; i < p->n_pending; i++)
        free(p->pending[i].raw);
    p->n_pending = 0;
}

void pipeline_close(pipeline *p)
{
    if (p == NULL)
        return;
    drop_pending(p);
    pipeline_batch_abort(p);
    coins_free(p->cache);
    if (p->lock_fd >= 0)
        close(p->lock_fd);
    free(p->accepted);
    block_walker_free(&p->walker);
    free(p->arena_mem);
    free(p);
}

void pipeline_stats_get(const pipeline *p, pipeline_stats *out)
{
    *out = p->st;
    out->cached_coins = coins_count(p->cache);
    out->cache_bytes = coins_memory(p->cache) + (p->batch ? store_pending_bytes(p->batch) : 0);
}

void pipeline_note_counter(pipeline *p, int topic, const char *name, uint32_t seq)
{
    if (topic < 0 || topic >= MAX_COUNTERS)
        return;
    snprintf(p->counters[topic].name, sizeof p->counters[topic].name, "seq.%s", name);
    p->counters[topic].seq = seq;
    p->counters[topic].set = true;
}

/* Writes the noted counters into t (the block's own transaction). */
static cw_code put_counters(pipeline *p, store_txn *t, cw_err *err)
{
    for (int i = 0; i < MAX_COUNTERS; i++)
        if (p->counters[i].set) {
            cw_code rc = chainstate_cursor_put(t, p->counters[i].name, p->counters[i].seq, err);
            if (rc)
                return rc;
        }
    return CW_OK;
}

cw_code pipeline_save_counters(pipeline *p, cw_err *err)
{
    store_txn *t;
    cw_code rc = store_begin(p->cfg.store, true, &t, err);
    if (rc)
        return rc;
    rc = put_counters(p, t, err);
    return rc ? (store_abort(t), rc) : store_commit(t, err);
}

bool pipeline_saved_counter(pipeline *p, const char *name, uint32_t *seq)
{
    char key[32];
    snprintf(key, sizeof key, "seq.%s", name);
    store_txn *t;
    if (store_begin(p->cfg.store, false, &t, NULL))
        return false;
    uint64_t v;
    bool ok = chainstate_cursor_get(t, key, &v, NULL) == CW_OK;
    store_abort(t);
    if (ok)
        *seq = (uint32_t)v;
    return ok;
}

/* ---------- flush ---------- */

/*
 * Records go to the sink in outbox order. A mempool sighting is written at
 * once but made durable (fsync) with the next block: the file is fsynced
 * per block, and a record stays in the outbox until it is durable, so a
 * crash re-sends it (the sink's tail check drops what the file has).
 * `written` remembers what this process already handed to the sink.
 */
static cw_code flush_records(pipeline *p, bool durable, cw_err *err)
{
    for (;;) {
        store_txn *t;
        cw_code rc = store_begin(p->cfg.store, false, &t, err);
        if (rc)
            return rc;
        store_cursor *c;
        if ((rc = store_cursor_open(t, STORE_OUTBOX, &c, err))) {
            store_abort(t);
            return rc;
        }
        cw_span k, v;
        size_t sent = 0;
        bool ok = true, more = p->have_written ? store_cursor_seek(c, p->written, 8, &k, &v)
                                                : store_cursor_seek(c, NULL, 0, &k, &v);
        if (more && p->have_written && k.n == 8 && memcmp(k.p, p->written, 8) == 0)
            more = store_cursor_next(c, &k, &v); /* already handed over */
        size_t bytes = 0;
        for (; more && sent < 4096 && bytes < (512u << 10); more = store_cursor_next(c, &k, &v)) {
            bytes += v.n + 1;
            if (!p->cfg.sink(p->cfg.sink_ctx, (const char *)v.p, v.n)) {
                ok = false;
                break;
            }
            memcpy(p->written, k.p, 8);
            p->have_written = true;
            sent++;
        }
        store_cursor_close(c);
        store_abort(t);
        p->st.records_written += sent;
        if (!ok)
            return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "the alert sink refused a record (it stays queued)");
        if (more)
            continue; /* more to hand over first (batches stay under the sink's 1 MB tail check) */
        if (!durable || !p->have_written)
            return CW_OK;
        if (p->cfg.durable && !p->cfg.durable(p->cfg.sink_ctx))
            return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "the alert sink could not make records durable (fsync)");
        /* durable: everything up to `written` leaves the outbox */
        if ((rc = store_begin(p->cfg.store, true, &t, err)))
            return rc;
        if ((rc = store_cursor_open(t, STORE_OUTBOX, &c, err)) == CW_OK) {
            cw_buf keys = CW_BUF_INIT;
            for (bool m = store_cursor_seek(c, NULL, 0, &k, &v); m && k.n == 8 && memcmp(k.p, p->written, 8) <= 0;
                 m = store_cursor_next(c, &k, &v))
                if ((rc = cw_buf_append(&keys, k.p, 8, err)))
                    break;
            store_cursor_close(c);
            for (size_t i = 0; rc == CW_OK && i + 8 <= keys.n; i += 8)
                rc = store_del(t, STORE_OUTBOX, keys.p + i, 8, NULL, 0, err);
            cw_buf_free(&keys);
        }
        if (rc == CW_OK)
            rc = store_commit(t, err); /* NOSYNC could corrupt the store on a power loss: one fsync it is */
        else
            store_abort(t);
        if (rc == CW_EFULL && store_grow(p->cfg.store, err) == CW_OK)
            return flush_records(p, durable, err); /* grown: the records are durable, remove them again */
        if (rc == CW_OK)
            p->have_written = false; /* the outbox is empty up to here */
        return rc;
    }
}

cw_code pipeline_flush(pipeline *p, cw_err *err) { return flush_records(p, true, err); }

/* ---------- mempool ---------- */

static cw_code arena_for(pipeline *p, size_t len, cw_arena *a, cw_err *err)
{
    size_t need = btc_arena_bound(len);
    if (need > p->arena_cap) {
        void *m = realloc(p->arena_mem, need);
        if (m == NULL)
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory for a %zu-byte arena", need);
        p->arena_mem = m;
        p->arena_cap = need;
    }
    cw_arena_init(a, p->arena_mem, p->arena_cap);
    return CW_OK;
}

static bool recently_accepted(const pipeline *p, const uint8_t txid[32])
{
    if (p->accepted == NULL)
        return false;
    for (size_t i = 0; i < ACCEPTED_RING; i++)
        if (memcmp(p->accepted[i], txid, 32) == 0)
            return true;
    return false;
}

/* Decodes, looks for designated addresses with a read transaction, and
 * records a mempool sighting (if `now`) or holds the tx for its 'A'. The
 * writer (and its fsync) is taken only when there is something to record. */
static cw_code screen_tx(pipeline *p, const uint8_t *raw, size_t len, bool now, cw_err *err)
{
    cw_arena a;
    cw_code rc = arena_for(p, len, &a, err);
    if (rc)
        return rc;
    cw_tx tx;
    if ((rc = btc_tx_parse(raw, len, NULL, p->cfg.net, &a, &tx, err)))
        return rc;
    if (tx.flags & CW_TX_COINBASE)
        return CW_OK; /* published when its block connects: handled there */
    store_txn *t;
    if ((rc = store_begin(p->cfg.store, false, &t, err)))
        return rc;
    rc = chainstate_resolve_inputs(t, &tx, err);
    match_list ml = {0};
    if (rc == CW_OK)
        rc = find_matches(t, &tx, &ml, err);
    size_t hits = ml.n, n_flows = 0;
    free(ml.m);
    if (rc == CW_OK && p->cfg.flows)
        rc = flows_tx(p->cfg.flows, t, NULL, &tx, &p->findings, &n_flows, NULL, err);
    store_abort(t);
    if (rc || hits + n_flows == 0)
        return rc;
    if (!now && !recently_accepted(p, tx.txid)) {
        if (p->n_pending == MAX_PENDING) { /* oldest out: its 'A' is long overdue */
            free(p->pending[0].raw);
            memmove(p->pending, p->pending + 1, (MAX_PENDING - 1) * sizeof *p->pending);
            p->n_pending--;
        }
        pending_tx *q = &p->pending[p->n_pending];
        if ((q->raw = malloc(len)) == NULL)
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory holding a tx for its 'A'");
        memcpy(q->raw, raw, len);
        q->len = len;
        memcpy(q->txid, tx.txid, 32);
        p->n_pending++;
        return CW_OK;
    }
    for (int attempt = 0;; attempt++) {
        if ((rc = store_begin(p->cfg.store, true, &t, err)))
            return rc;
        rc = tx_records(p, t, &tx, "mempool", NULL, NULL, err);
        if (rc == CW_OK && p->cfg.flows) /* the same findings: a mempool tx changes no state */
            rc = flows_tx(p->cfg.flows, t, NULL, &tx, &p->findings, &n_flows, NULL, err);
        if (rc == CW_OK && n_flows)
            rc = flow_records(p, t, &tx, p->findings, n_flows, "mempool", NULL, NULL, err);
        if (rc == CW_OK)
            rc = store_commit(t, err);
        else
            store_abort(t);
        if (!retry_after_full(p, rc, attempt, err))
            break;
    }
    return rc ? rc : flush_records(p, false, err); /* durable with the next block */
}

cw_code pipeline_tx(pipeline *p, const uint8_t *raw, size_t len, cw_err *err)
{
    p->st.txs++;
    return screen_tx(p, raw, len, !p->cfg.sequence_feed, err);
}

/* 'A': the tx entered the mempool; a held rawtx hit becomes a sighting. */
static cw_code accepted(pipeline *p, const uint8_t txid[32], cw_err *err)
{
    if (p->accepted == NULL && (p->accepted = calloc(ACCEPTED_RING, 32)) == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    memcpy(p->accepted[p->accepted_next], txid, 32);
    p->accepted_next = (p->accepted_next + 1) % ACCEPTED_RING;
    for (size_t i = 0; i < p->n_pending; i++)
        if (memcmp(p->pending[i].txid, txid, 32) == 0) {
            pending_tx q = p->pending[i];
            memmove(p->pending + i, p->pending + i + 1, (p->n_pending - i - 1) * sizeof *p->pending);
            p->n_pending--;
            cw_code rc = screen_tx(p, q.raw, q.len, true, err);
            free(q.raw);
            return rc;
        }
    return CW_OK;
}

/* ---------- blocks ---------- */

typedef struct {
    pipeline *p;
    store_txn *t;
    cw_buf ids;
    chainstate_block blk; /* hash/height/time known before the walk */
    journal jn;   /* what clusters and exposure change, for the disconnect */
} block_ctx;

static cw_code block_tx(void *arg, cw_tx *tx, cw_err *err)
{
    block_ctx *c = arg;
    pipeline *p = c->p;
    p->st.txs++;
    if (!(tx->flags & CW_TX_COINBASE))
        for (size_t i = 0; i < tx->n_in; i++) {
            if (tx->in[i].resolved)
                p->st.inputs_resolved++;
            else
                p->st.inputs_unresolved++;
        }
    cw_code rc = tx_records(p, c->t, tx, "confirmed", &c->blk, &c->ids, err);
    if (rc || p->cfg.flows == NULL)
        return rc;
    size_t n;
    if ((rc = flows_tx(p->cfg.flows, c->t, &c->jn, tx, &p->findings, &n, &p->st.flows, err)))
        return rc;
    return flow_records(p, c->t, tx, p->findings, n, "confirmed", &c->blk, &c->ids, err);
}

/* chainstate_connect with the block's journal around it. */
static cw_code connect_with_journal(pipeline *p, block_ctx *c, coins *cache, const uint8_t *raw, size_t len,
                                    int64_t height, cw_err *err)
{
    chainstate_block done;
    journal_init(&c->jn, c->t);
    cw_code rc = chainstate_connect(c->t, cache, &p->walker, raw, len, p->cfg.net, height, block_tx, c, &c->ids, &done, err);
    if (rc == CW_OK)
        rc = journal_save(&c->jn, done.hash, err);
    uint8_t old[32];
    if (rc == CW_OK && height >= JN_KEEP_BLOCKS && chainstate_hash_at(c->t, height - JN_KEEP_BLOCKS, old, NULL) == CW_OK)
        rc = journal_prune(c->t, old, err);
    journal_free(&c->jn);
    return rc;
}

/* Connects one block at height in its own transaction. */
static cw_code read_tip(pipeline *p, chainstate_tip *tip, cw_err *err);

void pipeline_batch_abort(pipeline *p)
{
    if (p->batch == NULL)
        return;
    store_abort(p->batch);
    p->batch = NULL;
    coins_clear(p->cache);
    p->st = p->st_at_batch; /* nothing the batch counted happened */
    chainstate_tip tip;
    p->st.tip_height = read_tip(p, &tip, NULL) == CW_OK && tip.valid ? tip.height : -1;
}

/* Clusters and exposure rewrite the same records often: with flows on,
 * their writes wait in memory until the commit (store_write_back). */
static cw_code write_back_flows(pipeline *p, store_txn *t, cw_err *err)
{
    static const store_db dbs[] = {STORE_CLUSTER, STORE_CLUSTER_INFO, STORE_TAINT, STORE_EXPOSURE};
    cw_code rc = CW_OK;
    for (size_t i = 0; p->cfg.flows && rc == CW_OK && i < sizeof dbs / sizeof *dbs; i++)
        rc = store_write_back(t, dbs[i], err);
    return rc;
}

cw_code pipeline_batch_begin(pipeline *p, cw_err *err)
{
    if (p->batch)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "a batch is already open");
    cw_code rc = refresh_clusters(p, err);
    if (rc)
        return rc;
    p->st_at_batch = p->st;
    rc = store_begin(p->cfg.store, true, &p->batch, err);
    if (rc == CW_OK && (rc = write_back_flows(p, p->batch, err)))
        pipeline_batch_abort(p);
    return rc;
}

cw_code pipeline_batch_commit(pipeline *p, cw_err *err)
{
    if (p->batch == NULL)
        return CW_OK;
    cw_code rc = coins_flush(p->cache, p->batch, err);
    if (rc == CW_OK)
        rc = put_counters(p, p->batch, err);
    if (rc) {
        pipeline_batch_abort(p);
        return rc;
    }
    rc = store_commit(p->batch, err);
    p->batch = NULL;
    if (rc) {
        p->st = p->st_at_batch;
        chainstate_tip tip;
        p->st.tip_height = read_tip(p, &tip, NULL) == CW_OK && tip.valid ? tip.height : -1;
        return rc;
    }
    return pipeline_flush(p, err);
}

/* Inside an open batch: connect into it, no commit, no flush. */
static cw_code connect_in_batch(pipeline *p, const uint8_t *raw, size_t len, int64_t height, const btc_header *h,
                                cw_err *err)
{
    block_ctx c = {p, p->batch, CW_BUF_INIT, {0}, {0}};
    c.blk.height = height;
    memcpy(c.blk.hash, h->hash, 32);
    c.blk.time = h->time;
    cw_code rc = connect_with_journal(p, &c, p->cache, raw, len, height, err);
    cw_buf_free(&c.ids);
    if (rc) {
        pipeline_batch_abort(p);
        return rc;
    }
    p->st.blocks_connected++;
    p->st.tip_height = height;
    return CW_OK;
}

static cw_code connect_block(pipeline *p, const uint8_t *raw, size_t len, int64_t height, cw_err *err)
{
    btc_header h;
    cw_code rc = btc_header_parse(raw, len, &h, err);
    if (rc)
        return rc;
    if (p->batch)
        return connect_in_batch(p, raw, len, height, &h, err);
    if ((rc = refresh_clusters(p, err))) /* an import while we ran */
        return rc;
    pipeline_stats st0 = p->st; /* a failed attempt counted nothing that happened */
    for (int attempt = 0;; attempt++) {
        p->st = st0;
        block_ctx c = {p, NULL, CW_BUF_INIT, {0}, {0}};
        c.blk.height = height;
        memcpy(c.blk.hash, h.hash, 32);
        c.blk.time = h.time;
        if ((rc = store_begin(p->cfg.store, true, &c.t, err)))
            return rc;
        /* ids are collected during the walk; the undo record is written at
         * its end from the same buffer */
        rc = write_back_flows(p, c.t, err);
        if (rc == CW_OK)
            rc = connect_with_journal(p, &c, NULL, raw, len, height, err);
        if (rc == CW_OK)
            rc = put_counters(p, c.t, err); /* the feed position moves with the block */
        if (rc == CW_OK)
            rc = store_commit(c.t, err);
        else
            store_abort(c.t);
        cw_buf_free(&c.ids);
        if (rc == CW_OK) {
            p->st.blocks_connected++;
            p->st.tip_height = height;
            return pipeline_flush(p, err);
        }
        if (!retry_after_full(p, rc, attempt, err)) {
            p->st = st0;
            return rc;
        }
    }
}

/* Disconnects the tip in its own transaction, with `reorged` records for
 * the alerts it had confirmed. */
/* One attempt; CW_EFULL leaves the store untouched for a retry. */
static cw_code disconnect_tip_once(pipeline *p, cw_err *err)
{
    store_txn *t;
    cw_code rc = store_begin(p->cfg.store, true, &t, err);
    if (rc)
        return rc;
    cw_buf ids = CW_BUF_INIT;
    chainstate_block blk;
    rc = chainstate_disconnect_tip(t, &blk, &ids, err);
    if (rc == CW_OK)
        rc = journal_revert_block(t, blk.hash, p->cfg.flows != NULL, err); /* clusters and exposure as before the block */
    for (size_t i = 0; rc == CW_OK && i + 32 <= ids.n; i += 32) {
        char id[33];
        memcpy(id, ids.p + i, 32);
        id[32] = '\0';
        json_t *prev;
        if ((rc = latest_record(t, id, &prev, err)) || prev == NULL)
            continue;
        const char *st = json_string_value(json_object_get(prev, "status"));
        if (st && strcmp(st, "confirmed") == 0) {
            char seen[32];
            bool ok = true;
            now_iso(seen);
            alert_put(prev, "status", json_string("reorged"), &ok);
            alert_put(prev, "seen_at", json_string(seen), &ok);
            json_object_del(prev, "sig");
            prev = built(prev, ok);
            rc = commit_record(p, t, prev, err);
        }
        json_decref(prev);
    }
    cw_buf_free(&ids);
    if (rc == CW_OK)
        rc = store_commit(t, err);
    else
        store_abort(t);
    return rc;
}

static cw_code disconnect_tip(pipeline *p, cw_err *err)
{
    cw_code rc;
    pipeline_stats st0 = p->st;
    for (int attempt = 0;; attempt++) {
        p->st = st0; /* what a failed attempt counted did not happen */
        rc = disconnect_tip_once(p, err);
        if (!retry_after_full(p, rc, attempt, err))
            break;
    }
    if (rc) {
        p->st = st0;
        return rc;
    }
    p->st.blocks_disconnected++;
    p->refresh_recount = p->refresh_labels = p->cfg.flows != NULL; /* the journal restored older records */
    p->refresh_labels = p->refresh_labels && p->cfg.flows->labels;
    chainstate_tip now;
    p->st.tip_height = read_tip(p, &now, NULL) == CW_OK && now.valid ? now.height : -1;
    return pipeline_flush(p, err);
}

static cw_code read_tip(pipeline *p, chainstate_tip *tip, cw_err *err)
{
    store_txn *t;
    cw_code rc = store_begin(p->cfg.store, false, &t, err);
    if (rc)
        return rc;
    rc = chainstate_get_tip(t, tip, err);
    store_abort(t);
    return rc;
}

/* Our block hash at height, and whether we have one. */
static bool our_hash_at(pipeline *p, int64_t h, uint8_t out[32])
{
    store_txn *t;
    if (store_begin(p->cfg.store, false, &t, NULL))
        return false;
    bool ok = chainstate_hash_at(t, h, out, NULL) == CW_OK;
    store_abort(t);
    return ok;
}

cw_code pipeline_sync(pipeline *p, cw_err *err)
{
    if (p->cfg.rest == NULL)
        return CW_OK;
    p->st.syncs++;
    int64_t node_h;
    uint8_t node_best[32];
    cw_code rc = rest_chaininfo(p->cfg.rest, &node_h, node_best, err);
    if (rc)
        return rc;
    p->st.node_height = node_h;
    chainstate_tip tip;
    if ((rc = read_tip(p, &tip, err)))
        return rc;
    int64_t next;
    if (!tip.valid) {
        next = p->cfg.start_height >= 0 ? p->cfg.start_height : node_h;
    } else {
        uint8_t ours[32];
        if (tip.height > node_h && our_hash_at(p, node_h, ours) && memcmp(ours, node_best, 32) == 0)
            return CW_OK; /* the node is behind us on our own chain (reindexing, another node): wait */
        /* walk down to the fork: the highest height where we agree */
        int64_t h = tip.height < node_h ? tip.height : node_h;
        for (;;) {
            uint8_t theirs[32];
            if (!our_hash_at(p, h, ours))
                break; /* below our first block: every block we have is off the node's chain */
            if ((rc = rest_block_hash_at(p->cfg.rest, h, theirs, err)))
                return rc;
            if (memcmp(ours, theirs, 32) == 0)
                break;
            h--;
        }
        for (;;) { /* disconnect down to the fork, judged on the stored tip */
            if ((rc = read_tip(p, &tip, err)))
                return rc;
            if (!tip.valid || tip.height <= h)
                break;
            if ((rc = disconnect_tip(p, err)))
                return rc;
        }
        next = h + 1; /* also after disconnecting everything: the fork's first block */
    }
    if (next < 0)
        next = 0;
    cw_buf blk = CW_BUF_INIT;
    for (int64_t h = next; h <= node_h && rc == CW_OK; h++) {
        if (p->cfg.stop && *p->cfg.stop)
            break; /* SIGINT/SIGTERM: stop between blocks; the next start catches up */
        uint8_t hash[32];
        if ((rc = rest_block_hash_at(p->cfg.rest, h, hash, err)))
            break;
        if ((rc = rest_block(p->cfg.rest, hash, &blk, err)))
            break;
        rc = connect_block(p, blk.p, blk.n, h, err);
    }
    cw_buf_free(&blk);
    return rc;
}

cw_code pipeline_connect_at(pipeline *p, const uint8_t *raw, size_t len, int64_t height, cw_err *err)
{
    return connect_block(p, raw, len, height, err); /* chainstate_connect refuses a block that does not extend the tip */
}

cw_code pipeline_block(pipeline *p, const uint8_t *raw, size_t len, cw_err *err)
{
    btc_header h;
    cw_code rc = btc_header_parse(raw, len, &h, err);
    if (rc)
        return rc;
    store_txn *t;
    if ((rc = store_begin(p->cfg.store, false, &t, err)))
        return rc;
    chainstate_tip tip;
    rc = chainstate_get_tip(t, &tip, err);
    bool known = chainstate_is_connected(t, h.hash, NULL);
    store_abort(t);
    if (rc)
        return rc;
    if (known) {
        p->st.stale_blocks++;
        return CW_OK;
    }
    if (tip.valid && memcmp(h.prev, tip.hash, 32) == 0)
        return connect_block(p, raw, len, tip.height + 1, err);
    if (p->cfg.rest)
        return pipeline_sync(p, err);
    if (!tip.valid) {
        /* no REST and nothing yet: start here, at the coinbase's height */
        block_walker w = {0};
        block_summary s;
        rc = decode_block_walk(&w, raw, len, p->cfg.net, NULL, NULL, &s, err);
        block_walker_free(&w);
        if (rc)
            return rc;
        int64_t height = s.has_height ? s.height : (p->cfg.start_height >= 0 ? p->cfg.start_height : 0);
        return connect_block(p, raw, len, height, err);
    }
    p->st.unknown_parent++;
    char got[65], want[65];
    cw_hex_encode_rev(h.prev, 32, got);
    cw_hex_encode_rev(tip.hash, 32, want);
    return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                      "block's parent %s is not our tip %s and there is no --rest to recover through", got, want);
}

cw_code pipeline_sequence(pipeline *p, const uint8_t *body, size_t len, cw_err *err)
{
    if (len != 33 && len != 41)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "sequence body of %zu bytes (33 or 41 expected)", len);
    uint8_t hash[32];
    for (int i = 0; i < 32; i++)
        hash[i] = body[31 - i]; /* published byte-reversed */
    char label = (char)body[32];
    if (label == 'A')
        return accepted(p, hash, err);
    if (label == 'R')
        return CW_OK;
    if (label != 'C' && label != 'D')
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "sequence label '%c' (C, D, A or R expected)", label);
    chainstate_tip tip;
    cw_code rc = read_tip(p, &tip, err);
    if (rc)
        return rc;
    if (label == 'D') {
        if (!tip.valid || memcmp(tip.hash, hash, 32) != 0)
            return CW_OK; /* not ours (or already gone) */
        return p->cfg.rest ? pipeline_sync(p, err) : disconnect_tip(p, err);
    }
    /* 'C': the rawtx messages before it were the block's txs, not mempool
     * sightings. Its rawblock follows (UpdatedBlockTip comes after
     * BlockConnected), so an unknown block is only remembered; if the next
     * 'C' finds it still missing, the rawblock was lost: sync. */
    drop_pending(p);
    if (!p->cfg.rest)
        return CW_OK;
    store_txn *t;
    if ((rc = store_begin(p->cfg.store, false, &t, err)))
        return rc;
    bool known = chainstate_is_connected(t, hash, NULL);
    bool earlier_missing = p->have_pending_c && !chainstate_is_connected(t, p->pending_c, NULL);
    store_abort(t);
    if (earlier_missing) {
        p->have_pending_c = false;
        if ((rc = pipeline_sync(p, err)))
            return rc;
    }
    if (!known) {
        memcpy(p->pending_c, hash, 32);
        p->have_pending_c = true;
    }
    return CW_OK;
}

cw_code pipeline_gap(pipeline *p, const char *topic, uint32_t expected, uint32_t got, bool restart,
                     double received_at, cw_err *err)
{
    p->st.feed_gaps++;
    char seen[32];
    now_iso(seen);
    json_t *r = json_object();
    char id[33], what[96];
    bool ok = true;
    snprintf(what, sizeof what, "%s:%u:%u:%.6f", topic, expected, got, received_at);
    alert_id("bitcoin", cw_net_name((cw_net)p->cfg.net), what, "feed_gap", topic, id);
    alert_put(r, "id", json_string(id), &ok);
    alert_put(r, "rule", json_string("feed_gap"), &ok);
    alert_put(r, "severity", json_string(restart ? "medium" : "high"), &ok);
    alert_put(r, "chain", json_string("bitcoin"), &ok);
    alert_put(r, "network", json_string(cw_net_name((cw_net)p->cfg.net)), &ok);
    alert_put(r, "topic", json_string(topic), &ok);
    alert_put(r, "expected", json_integer(expected), &ok);
    alert_put(r, "got", json_integer(got), &ok);
    alert_put(r, "restart", json_boolean(restart), &ok);
    alert_put(r, "lost", json_integer(restart ? got : (json_int_t)(uint32_t)(got - expected)), &ok);
    alert_put(r, "seen_at", json_string(seen), &ok);
    r = built(r, ok);
    cw_code rc;
    for (int attempt = 0;; attempt++) {
        store_txn *t;
        rc = store_begin(p->cfg.store, true, &t, err);
        if (rc == CW_OK) {
            rc = commit_record(p, t, r, err);
            if (rc == CW_OK)
                rc = store_commit(t, err);
            else
                store_abort(t);
        }
        if (!retry_after_full(p, rc, attempt, err))
            break;
    }
    json_decref(r);
    if (rc == CW_OK)
        rc = pipeline_flush(p, err);
    /* confirmed state cannot have gaps: ask the node (block topics; a lost
     * rawtx only costs a mempool sighting, its block still comes) */
    if (rc == CW_OK && strcmp(topic, "rawtx") != 0)
        rc = pipeline_sync(p, err);
    return rc;
}
