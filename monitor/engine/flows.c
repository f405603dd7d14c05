#include "flows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/bitcoin/coinjoin.h"
#include "chains/bitcoin/hint.h"
#include "chains/hex.h"
#include "chains/sort.h"
#include "chainstate.h"
#include "watchlists/watchlist.h"

void flows_config_default(flows_config *c)
{
    memset(c, 0, sizeof *c);
    c->enabled = true;
    c->hops = 3;
    c->min_share_ppm = 10000; /* 1% */
    c->min_amount = 10000;    /* 0.0001 BTC */
    c->hold_share_ppm = 100000; /* 10% */
    c->cluster_limit = 100000;
}


typedef struct {
    bool has_addr, resolved;
    cw_addr addr;
    uint8_t key[WL_KEY_MAX];
    size_t klen;
    uint64_t value;
    bool listed;
    cluster_info cluster;
    uint8_t join[32];
    bool source;            /* designated money leaves here (hop 0) */
    exposure_taint taint;        /* the taint it carries (source: all of its value) */
    bool tainted;
} input_view;

static bool service_label(const flows_config *cfg, const cw_addr *a)
{
    return cfg->labels && labels_find(cfg->labels, a) != NULL;
}

/* Per-tx scratch, kept between calls and grown to the biggest tx seen:
 * every input and every finding of a tx is analysed and kept, however many
 * (a consolidation of thousands of inputs, a payout to thousands of
 * addresses), with no allocation for the common tx. One per thread: the
 * API's threads screen txs while `watch` runs the pipeline in the same
 * process (flows_thread_free at a thread's end). */
static _Thread_local struct {
    input_view *in;
    cluster_member *members;
    cluster_key *merging;
    size_t *first_of;
    size_t cap_in;
    flow_finding *found;
    size_t cap_found;
} scratch;

static cw_code scratch_inputs(size_t n, cw_err *err)
{
    if (n <= scratch.cap_in)
        return CW_OK;
    size_t cap = scratch.cap_in ? scratch.cap_in : 256;
    while (cap < n)
        cap *= 2;
    input_view *in = realloc(scratch.in, cap * sizeof *in);
    if (in)
        scratch.in = in;
    cluster_member *m = in ? realloc(scratch.members, cap * sizeof *m) : NULL;
    if (m)
        scratch.members = m;
    cluster_key *k = m ? realloc(scratch.merging, cap * sizeof *k) : NULL;
    if (k)
        scratch.merging = k;
    size_t *f = k ? realloc(scratch.first_of, cap * sizeof *f) : NULL;
    if (f == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "flows: out of memory for a tx of %zu inputs", n);
    scratch.first_of = f;
    scratch.cap_in = cap;
    return CW_OK;
}

/* The finding of this kind, direction and address (one record each: the
 * record id is per tx, rule and address), new or to add to (*fresh).
 * NULL only when out of memory (err set). Grows scratch.found: a pointer
 * to a finding is good until the next call. */
static flow_finding *add_finding(size_t *n, flows_stats *st, flow_kind kind, bool to, const cw_addr *a, bool *fresh,
                                 cw_err *err)
{
    flow_finding *out = scratch.found;
    for (size_t i = 0; i < *n; i++)
        if (out[i].kind == kind && out[i].to == to && cw_addr_eq(&out[i].addr, a)) {
            *fresh = false;
            return &out[i];
        }
    if (*n == scratch.cap_found) {
        size_t cap = scratch.cap_found ? scratch.cap_found * 2 : 64;
        flow_finding *grown = realloc(scratch.found, cap * sizeof *grown);
        if (grown == NULL) {
            cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "flows: out of memory for %zu findings", *n + 1);
            return NULL;
        }
        scratch.found = out = grown;
        scratch.cap_found = cap;
    }
    flow_finding *f = &out[(*n)++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->to = to;
    f->addr = *a;
    *fresh = true;
    if (st)
        st->findings++;
    return f;
}

/* cluster.c's order of roots (cw_bytes_cmp): which of two equal-sized
 * clusters' roots a union keeps */
static bool key_less(const cluster_key *a, const cluster_key *b)
{
    return cw_bytes_cmp(a->key, a->len, b->key, b->len) < 0;
}

static bool same_root(const cluster_info *a, const cluster_info *b)
{
    return a->root.len == b->root.len && memcmp(a->root.key, b->root.key, a->root.len) == 0;
}

/* Where the designated member of a cluster joined it (zero for a root or a
 * cluster of one). */
static cw_code designated_join(store_txn *t, const cluster_info *c, uint8_t out[32], cw_err *err)
{
    memset(out, 0, 32);
    if (c->first_designated.len == 0)
        return CW_OK;
    cluster_info tmp;
    return cluster_find(t, c->first_designated.key, c->first_designated.len, &tmp, out, err);
}

static cw_code flows_scan(const flows_config *cfg, store_txn *t, journal *j, const cw_tx *tx, size_t n_in, size_t *n,
                          flows_stats *st, cw_err *err);

cw_code flows_tx(const flows_config *cfg, store_txn *t, journal *j, const cw_tx *tx, const flow_finding **found,
                 size_t *n, flows_stats *st, cw_err *err)
{
    *n = 0;
    *found = scratch.found;
    if (!cfg->enabled || (tx->flags & CW_TX_COINBASE))
        return CW_OK;
    size_t n_in = tx->n_in;
    cw_code rc = flows_scan(cfg, t, j, tx, n_in, n, st, err);
    *found = scratch.found;
    return rc;
}

static cw_code flows_scan(const flows_config *cfg, store_txn *t, journal *j, const cw_tx *tx, size_t n_in, size_t *n,
                          flows_stats *st, cw_err *err)
{
    cw_code rc = scratch_inputs(n_in, err);
    if (rc)
        return rc;
    input_view *in = scratch.in;
    flow_finding *out;
    /* 1. clustering: the input addresses merge, unless several parties signed */
    cluster_member *members = scratch.members;
    size_t n_members = 0;
    for (size_t i = 0; i < n_in; i++) {
        input_view *v = &in[i];
        memset(v, 0, sizeof *v);
        const cw_txin *ti = &tx->in[i];
        v->resolved = ti->resolved;
        v->value = ti->resolved ? ti->value : 0;
        if (ti->resolved && ti->addr.kind != CW_ADDR_NONE)
            v->addr = ti->addr, v->has_addr = true;
        else if (!ti->resolved && btc_input_hint(ti, (cw_net)tx->net, &v->addr))
            v->has_addr = true; /* the key that signed it names the address */
        if (!v->has_addr)
            continue;
        v->klen = wl_key_from_addr(&v->addr, v->key);
        if ((rc = wl_is_listed(t, v->key, v->klen, &v->listed, err)))
            return rc;
        cluster_member *m = &members[n_members++];
        memcpy(m->key.key, v->key, v->klen);
        m->key.len = v->klen;
        m->designated = v->listed;
        const label *lb = cfg->labels ? labels_find(cfg->labels, &v->addr) : NULL;
        m->service = lb ? (lb->entity[0] ? lb->entity : lb->category) : NULL;
    }
    char why[160];
    btc_multiparty mp = btc_multiparty_detect_opts(tx, cfg->payjoin_guard ? BTC_MP_PAYJOIN_GUARD : 0, why, sizeof why);
    if (mp != BTC_MP_NONE) {
        if (st) {
            size_t k = (size_t)mp < 8 ? (size_t)mp : 7;
            st->multiparty_skipped++;
            if (st->multiparty_by_kind[k]++ == 0) { /* the reason kept, with the tx that showed it */
                char txid[65];
                cw_hex_encode_rev(tx->txid, 32, txid);
                snprintf(st->multiparty_example[k], sizeof st->multiparty_example[k], "%.16s…: %s", txid, why);
            }
        }
    }
    cluster_merge_result mr;
    bool one_cluster = false; /* every input address is now in mr.info */
    if (mp == BTC_MP_NONE && j && n_members >= 2) {
        /* cluster_merge takes up to 64 distinct clusters at a time: a bigger
         * consolidation goes in chunks, each holding the first member */
        bool merged = false, super = false;
        for (size_t start = 0; start < n_members;) {
            cluster_member chunk[64];
            size_t k = 0;
            if (start > 0)
                chunk[k++] = members[0];
            while (k < 64 && start < n_members)
                chunk[k++] = members[start++];
            if ((rc = cluster_merge(j, chunk, k, tx->txid, cfg->cluster_limit, &mr, err)))
                return rc;
            merged |= mr.merged;
            super |= mr.became_super;
        }
        one_cluster = true;
        if (st && merged)
            st->merges++;
        if (st && super)
            st->clusters_stopped++;
    }
    for (size_t i = 0; i < n_in && !one_cluster; i++) {
        if (!in[i].has_addr)
            continue;
        if ((rc = cluster_find_listed(t, in[i].key, in[i].klen, in[i].listed, &in[i].cluster, in[i].join, err)))
            return rc;
        const label *lb = cfg->labels ? labels_find(cfg->labels, &in[i].addr) : NULL;
        if (lb && in[i].cluster.size == 1) { /* a service never merged: as cluster_merge would take it */
            in[i].cluster.flags |= CLUSTER_SERVICE;
            snprintf(in[i].cluster.service, sizeof in[i].cluster.service, "%s", lb->entity[0] ? lb->entity : lb->category);
        }
    }
    cluster_key *merging = scratch.merging; /* read only: the roots this tx merges */
    size_t n_merging = 0;
    cluster_info ro_merged;
    if (!j && mp == BTC_MP_NONE && n_members >= 2) {
        /* Read only (mempool, screening): the merge this tx makes when it
         * confirms is not written, but its findings must be the block's:
         * judge every input, and every output in a merging cluster, by the
         * cluster they will form together. As cluster_merge: the winner among
         * the distinct roots (the biggest, then the smaller key), then the
         * others folded in, in input order. (cluster_merge's 64-root chunks can
         * pick another winner for a merge of more than 64 clusters.) */
        size_t *first_of = scratch.first_of, w = (size_t)-1;
        for (size_t i = 0; i < n_in; i++) {
            if (!in[i].has_addr)
                continue;
            bool seen = false;
            for (size_t k = 0; k < n_merging && !seen; k++)
                seen = same_root(&in[first_of[k]].cluster, &in[i].cluster);
            if (seen)
                continue;
            merging[n_merging] = in[i].cluster.root;
            first_of[n_merging] = i;
            const cluster_info *o = &in[i].cluster;
            if (w == (size_t)-1 || o->size > in[w].cluster.size ||
                (o->size == in[w].cluster.size && key_less(&o->root, &in[w].cluster.root)))
                w = i;
            n_merging++;
        }
        ro_merged = in[w].cluster;
        for (size_t k = 0; k < n_merging; k++) {
            const cluster_info *o = &in[first_of[k]].cluster;
            if (first_of[k] == w)
                continue;
            if (ro_merged.designated == 0 && o->designated > 0)
                ro_merged.first_designated = o->first_designated;
            if (ro_merged.service[0] == '\0' && o->service[0])
                memcpy(ro_merged.service, o->service, sizeof ro_merged.service);
            ro_merged.size += o->size;
            ro_merged.designated += o->designated;
            ro_merged.flags |= o->flags;
        }
        if (n_merging > 1 && ro_merged.size > cfg->cluster_limit)
            ro_merged.flags |= CLUSTER_SUPER;
        memcpy(ro_merged.merge_txid, tx->txid, 32);
        for (size_t i = 0; i < n_in; i++)
            if (in[i].has_addr)
                in[i].cluster = ro_merged;
        if (n_merging < 2)
            n_merging = 0;
    }
    /* 2. what each input carries */
    uint64_t total_in = 0, tainted_in = 0;
    bool all_resolved = true, any_source = false;
    size_t dominant = (size_t)-1;
    int min_hops = 255;
    for (size_t i = 0; i < n_in; i++) {
        input_view *v = &in[i];
        all_resolved &= v->resolved;
        total_in += v->value;
        if (v->has_addr) {
            if (one_cluster)
                v->cluster = mr.info; /* the join tx is looked up only for a hit */
            bool via_cluster = v->cluster.designated > 0 && cluster_propagates(&v->cluster);
            if (v->listed || via_cluster) {
                v->source = v->tainted = true;
                v->taint.amount = v->value;
                v->taint.hops = 0;
                if (v->listed) { /* the designated address itself */
                    memcpy(v->taint.source, v->key, v->klen);
                    v->taint.source_len = v->klen;
                } else { /* the cluster's designated member */
                    memcpy(v->taint.source, v->cluster.first_designated.key, v->cluster.first_designated.len);
                    v->taint.source_len = v->cluster.first_designated.len;
                }
                any_source = true;
                bool fresh;
                flow_finding *f = NULL;
                if (!v->listed && (f = add_finding(n, st, FLOW_CLUSTER_HIT, false, &v->addr, &fresh, err)) == NULL)
                    return CW_ENOMEM;
                if (f && !fresh) { /* another coin of the same member */
                    f->amount += v->value;
                    f->amount_known &= v->resolved;
                } else if (f) { /* a member of a designated cluster pays: a cluster hit */
                    {
                        f->amount = v->value;
                        f->amount_known = v->resolved;
                        f->cluster = v->cluster;
                        cluster_info tmp;
                        if (one_cluster && (rc = cluster_find(t, v->key, v->klen, &tmp, v->join, err)))
                            return rc;
                        memcpy(f->member_join, v->join, 32);
                        if ((rc = designated_join(t, &v->cluster, f->designated_join, err)))
                            return rc;
                    }
                }
            }
        }
        if (v->resolved) { /* only outputs we saw created can carry taint */
            uint8_t op[36];
            exposure_taint carried;
            chaindb_outpoint_key(tx->in[i].prev_txid, tx->in[i].prev_vout, op);
            rc = exposure_taint_get(t, op, &carried, err);
            if (rc == CW_OK) {
                if (!v->source) {
                    v->taint = carried;
                    v->tainted = true;
                    if (v->taint.amount > v->value)
                        v->taint.amount = v->value;
                }
                if (j && (rc = exposure_taint_del(j, op, err))) /* spent: its taint moves on with this tx */
                    return rc;
            } else if (rc != CW_ENOTFOUND) {
                return rc;
            }
        }
        if (v->tainted) {
            tainted_in += v->taint.amount;
            if (v->taint.hops < min_hops)
                min_hops = v->taint.hops;
            /* the closest input names the source and the path, so hops and
             * evidence agree; the largest among equally close ones */
            if (dominant == (size_t)-1 || v->taint.hops < in[dominant].taint.hops ||
                (v->taint.hops == in[dominant].taint.hops && v->taint.amount > in[dominant].taint.amount))
                dominant = i;
        }
    }
    /* 3. payments to members of a designated cluster (not from inside it) */
    for (size_t o = 0; o < tx->n_out; o++) {
        const cw_txout *to = &tx->out[o];
        if (to->addr.kind == CW_ADDR_NONE)
            continue;
        uint8_t key[WL_KEY_MAX];
        size_t kn = wl_key_from_addr(&to->addr, key);
        bool listed;
        if ((rc = wl_is_listed(t, key, kn, &listed, err)))
            return rc;
        if (listed)
            continue; /* a designated_address record already */
        cluster_info c;
        uint8_t join[32];
        if ((rc = cluster_find_listed(t, key, kn, false, &c, join, err)))
            return rc;
        for (size_t k = 0; k < n_merging; k++)
            if (c.root.len == merging[k].len && memcmp(c.root.key, merging[k].key, c.root.len) == 0)
                c = ro_merged;
        if (c.designated == 0 || !cluster_propagates(&c))
            continue;
        bool internal = false;
        for (size_t i = 0; i < n_in && !internal; i++)
            internal = in[i].has_addr && same_root(&in[i].cluster, &c);
        if (internal)
            continue; /* change inside the designated wallet */
        bool fresh;
        flow_finding *f = add_finding(n, st, FLOW_CLUSTER_HIT, true, &to->addr, &fresh, err);
        if (f == NULL)
            return CW_ENOMEM;
        if (!fresh) { /* another output to the same member */
            f->amount += to->value;
            continue;
        }
        f->amount = to->value;
        f->amount_known = true;
        f->watched = addrset_has(cfg->watched, &to->addr);
        f->cluster = c;
        memcpy(f->member_join, join, 32);
        if ((rc = designated_join(t, &c, f->designated_join, err)))
            return rc;
    }
    /* 4. the tainted share goes to every output, one hop further */
    uint64_t total_out = 0;
    for (size_t o = 0; o < tx->n_out; o++)
        total_out += tx->out[o].value;
    if (!all_resolved) {
        /* inputs from before our start have no known value: they brought
         * what the outputs take beyond the known inputs, split evenly; a
         * designated one among them brings its part as taint */
        size_t unknown = 0, unknown_sources = 0;
        for (size_t i = 0; i < n_in; i++)
            if (!in[i].resolved) {
                unknown++;
                unknown_sources += in[i].source;
            }
        uint64_t rest = total_out > total_in ? total_out - total_in : 0;
        if (unknown && unknown_sources)
            tainted_in += (uint64_t)((unsigned __int128)rest * unknown_sources / unknown);
    }
    if (tainted_in == 0)
        return CW_OK;
    uint64_t denom = all_resolved ? total_in : total_out; /* unknown inputs: judge by what the tx pays out */
    if (denom == 0)
        return CW_OK;
    if (tainted_in > denom)
        tainted_in = denom;
    int hops = any_source ? 1 : min_hops + 1;
    if (hops > (int)cfg->hops)
        return CW_OK; /* past the limit: the taint was not kept, but a watched address still wants to know */
    const exposure_taint *dom = &in[dominant].taint;
    for (size_t o = 0; o < tx->n_out; o++) {
        const cw_txout *to = &tx->out[o];
        if (to->addr.kind == CW_ADDR_NONE || to->value == 0)
            continue;
        uint8_t key[WL_KEY_MAX];
        size_t kn = wl_key_from_addr(&to->addr, key);
        bool listed;
        if ((rc = wl_is_listed(t, key, kn, &listed, err)))
            return rc;
        if (listed)
            continue; /* back to a designated address: still designated money */
        cluster_info c;
        if ((rc = cluster_find_listed(t, key, kn, false, &c, NULL, err)))
            return rc;
        for (size_t k = 0; k < n_merging; k++)
            if (c.root.len == merging[k].len && memcmp(c.root.key, merging[k].key, c.root.len) == 0)
                c = ro_merged;
        if (c.designated > 0 && cluster_propagates(&c))
            continue; /* into a designated wallet: a cluster hit, not exposure */
        unsigned __int128 share = (unsigned __int128)to->value * tainted_in / denom;
        exposure_taint ot;
        memset(&ot, 0, sizeof ot);
        ot.amount = (uint64_t)share;
        if (ot.amount == 0)
            continue;
        ot.hops = (uint8_t)hops;
        memcpy(ot.source, dom->source, dom->source_len);
        ot.source_len = dom->source_len;
        ot.n_path = dom->n_path < EXPOSURE_MAX_HOPS ? dom->n_path : EXPOSURE_MAX_HOPS - 1;
        memcpy(ot.path, dom->path, (size_t)ot.n_path * 32);
        memcpy(ot.path[ot.n_path++], tx->txid, 32);
        uint32_t ppm = (uint32_t)((unsigned __int128)ot.amount * 1000000u / to->value);
        bool watched = addrset_has(cfg->watched, &to->addr);
        bool stops = !cluster_propagates(&c) || service_label(cfg, &to->addr);
        /* one record per address: its outputs in this tx are judged together */
        flow_finding *prior = NULL;
        out = scratch.found;
        for (size_t k = 0; k < *n && !prior; k++)
            if (out[k].kind == FLOW_EXPOSURE && cw_addr_eq(&out[k].addr, &to->addr))
                prior = &out[k];
        uint64_t sum_amount = ot.amount + (prior ? prior->amount : 0), sum_value = to->value + (prior ? prior->value : 0);
        uint32_t sum_ppm = (uint32_t)((unsigned __int128)sum_amount * 1000000u / sum_value);
        if (prior || (ppm >= cfg->min_share_ppm && ot.amount >= cfg->min_amount) || watched ||
            (sum_ppm >= cfg->min_share_ppm && sum_amount >= cfg->min_amount)) {
            bool fresh;
            flow_finding *f = add_finding(n, st, FLOW_EXPOSURE, true, &to->addr, &fresh, err);
            if (f == NULL)
                return CW_ENOMEM;
            {
                f->amount = sum_amount;
                f->amount_known = true;
                f->value = sum_value;
                f->share_ppm = sum_ppm;
                f->hops = (uint8_t)hops;
                f->taint = ot;
                f->taint.amount = sum_amount;
                f->watched = watched;
            }
        }
        if (j == NULL)
            continue;
        if ((rc = exposure_address_add(j, key, kn, &ot, err)))
            return rc;
        if (hops < (int)cfg->hops && !stops) { /* the next tx that spends it is one hop further */
            uint8_t op[36];
            chaindb_outpoint_key(tx->txid, (uint32_t)o, op);
            if ((rc = exposure_taint_put(j, op, &ot, err)))
                return rc;
            if (st)
                st->taint_outputs++;
        }
    }
    return CW_OK;
}

void flows_thread_free(void)
{
    free(scratch.in);
    free(scratch.members);
    free(scratch.merging);
    free(scratch.first_of);
    free(scratch.found);
    memset(&scratch, 0, sizeof scratch);
}
