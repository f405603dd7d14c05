#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/buf.h"
#include "chains/le.h"
#include "chains/sort.h"

#define MAX_DEPTH 64
#define CLUSTER_KEY_MAX_STORED 255 /* union by size keeps trees below log2(size); deeper is a damaged store */


/* cluster value: parent_len(1) parent txid(32) */
static bool decode_parent(cw_span v, cluster_key *parent, uint8_t txid[32])
{
    if (v.n < 1 || v.p[0] == 0 || v.p[0] > WL_KEY_MAX || v.n != 1u + v.p[0] + 32)
        return false;
    parent->len = v.p[0];
    memcpy(parent->key, v.p + 1, parent->len);
    if (txid)
        memcpy(txid, v.p + 1 + parent->len, 32);
    return true;
}

/* cluster_info value: size(8) designated(4) flags(4) merge_txid(32)
 * dlen(1) dkey slen(1) service n_sample(1) {klen(1) key}* */
static size_t encode_info(const cluster_info *c, uint8_t *out)
{
    uint8_t *p = out;
    cw_put_le(p, c->size, 8), p += 8;
    cw_put_le(p, c->designated, 4), p += 4;
    cw_put_le(p, c->flags, 4), p += 4;
    memcpy(p, c->merge_txid, 32), p += 32;
    *p++ = (uint8_t)c->first_designated.len;
    memcpy(p, c->first_designated.key, c->first_designated.len), p += c->first_designated.len;
    size_t sl = strlen(c->service);
    *p++ = (uint8_t)sl;
    memcpy(p, c->service, sl), p += sl;
    *p++ = (uint8_t)c->n_sample;
    for (size_t i = 0; i < c->n_sample; i++) {
        *p++ = (uint8_t)c->sample[i].len;
        memcpy(p, c->sample[i].key, c->sample[i].len), p += c->sample[i].len;
    }
    return (size_t)(p - out);
}

#define INFO_MAX (48 + 1 + WL_KEY_MAX + 1 + CLUSTER_SERVICE_MAX + 1 + CLUSTER_SAMPLE_MAX * (1 + WL_KEY_MAX))

static bool decode_info(cw_span v, cluster_info *c)
{
    const uint8_t *p = v.p, *end = v.p + v.n;
    if (v.n < 48 + 3)
        return false;
    c->size = cw_get_le(p, 8), p += 8;
    c->designated = (uint32_t)cw_get_le(p, 4), p += 4;
    c->flags = (uint32_t)cw_get_le(p, 4), p += 4;
    memcpy(c->merge_txid, p, 32), p += 32;
    size_t dl = *p++;
    if (dl > WL_KEY_MAX || end - p < (ptrdiff_t)dl + 1)
        return false;
    c->first_designated.len = dl;
    memcpy(c->first_designated.key, p, dl), p += dl;
    size_t sl = *p++;
    if (sl >= CLUSTER_SERVICE_MAX || end - p < (ptrdiff_t)sl + 1)
        return false;
    memcpy(c->service, p, sl), p += sl;
    c->service[sl] = '\0';
    c->n_sample = *p++;
    if (c->n_sample > CLUSTER_SAMPLE_MAX)
        return false;
    for (size_t i = 0; i < c->n_sample; i++) {
        if (end - p < 1 || *p > WL_KEY_MAX || end - p < 1 + (ptrdiff_t)*p)
            return false;
        c->sample[i].len = *p++;
        memcpy(c->sample[i].key, p, c->sample[i].len), p += c->sample[i].len;
    }
    return p == end;
}

/* A cluster of one: what an address never merged is. */
static void singleton(const cluster_key *k, bool designated, const char *service, cluster_info *c)
{
    memset(c, 0, sizeof *c);
    c->root = *k;
    c->size = 1;
    c->designated = designated;
    if (c->designated)
        c->first_designated = *k;
    if (service && *service) {
        snprintf(c->service, sizeof c->service, "%s", service);
        c->flags |= CLUSTER_SERVICE;
    }
    c->n_sample = 1;
    c->sample[0] = *k;
}

/* Walks to the root; path[] receives the nodes below it (key first).
 * *merged: the root heads a cluster of two or more (cluster_info holds
 * its record); false for an address never merged. Only non-roots have a
 * `cluster` entry; the store's filters answer "no entry" from memory. */
static cw_code walk(store_txn *t, const cluster_key *start, cluster_key *root, cluster_key *path, size_t *n_path, uint8_t join[32],
                    bool *merged, cw_err *err)
{
    cluster_key cur = *start;
    *n_path = 0;
    *merged = false;
    if (join)
        memset(join, 0, 32);
    for (int depth = 0;; depth++) {
        cw_span v;
        cw_code rc = store_get(t, STORE_CLUSTER, cur.key, cur.len, &v, err);
        if (rc == CW_ENOTFOUND) {
            *root = cur;
            if (depth > 0) { /* a parent without a parent: a root */
                *merged = true;
                return CW_OK;
            }
            rc = store_get(t, STORE_CLUSTER_INFO, cur.key, cur.len, &v, err);
            *merged = rc == CW_OK;
            return rc == CW_ENOTFOUND ? CW_OK : rc;
        }
        if (rc)
            return rc;
        if (depth >= MAX_DEPTH)
            return store_damaged(t, err, "the cluster records make a cycle");
        cluster_key parent;
        if (!decode_parent(v, &parent, depth == 0 ? join : NULL))
            return store_damaged(t, err, "a cluster record does not decode");
        if (path)
            path[(*n_path)++] = cur;
        cur = parent;
    }
}

static cw_code load_info(store_txn *t, const cluster_key *root, cluster_info *c, cw_err *err)
{
    cw_span v;
    cw_code rc = store_get(t, STORE_CLUSTER_INFO, root->key, root->len, &v, err);
    if (rc)
        return rc;
    memset(c, 0, sizeof *c);
    if (!decode_info(v, c))
        return store_damaged(t, err, "a cluster_info record does not decode");
    c->root = *root;
    return CW_OK;
}

cw_code cluster_find(store_txn *t, const uint8_t *key, size_t klen, cluster_info *info, uint8_t join_txid[32], cw_err *err)
{
    bool listed = false;
    if (klen && klen <= WL_KEY_MAX) {
        cw_code rc = wl_is_listed(t, key, klen, &listed, err);
        if (rc)
            return rc;
    }
    return cluster_find_listed(t, key, klen, listed, info, join_txid, err);
}

cw_code cluster_find_listed(store_txn *t, const uint8_t *key, size_t klen, bool listed, cluster_info *info,
                       uint8_t join_txid[32], cw_err *err)
{
    if (klen == 0 || klen > WL_KEY_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "cluster: a %zu-byte address key", klen);
    cluster_key k = {.len = klen}, root;
    memcpy(k.key, key, klen);
    size_t n;
    bool merged;
    cw_code rc = walk(t, &k, &root, NULL, &n, join_txid, &merged, err);
    if (rc)
        return rc;
    if (!merged) { /* the common case: an address that never shared a tx's inputs */
        singleton(&root, listed, NULL, info);
        return CW_OK;
    }
    rc = load_info(t, &root, info, err);
    return rc == CW_ENOTFOUND ? store_damaged(t, err, "a cluster_info record is missing") : rc;
}

const char *cluster_check_record(store_txn *t, store_db db, cw_span k, cw_span v)
{
    cluster_key parent;
    cluster_info info;
    cw_span pv;
    cw_code rc;
    if ((db == STORE_CLUSTER || db == STORE_CLUSTER_INFO || db == STORE_CLUSTER_DESIG) &&
        (k.n == 0 || k.n > WL_KEY_MAX))
        return "a key longer than any address key";
    switch (db) {
    case STORE_CLUSTER:
        if (!decode_parent(v, &parent, NULL))
            return "a parent link that does not decode";
        /* the parent is a member with a parent of its own, or a root with its record */
        rc = store_get(t, STORE_CLUSTER, parent.key, parent.len, &pv, NULL);
        if (rc == CW_ENOTFOUND)
            rc = store_get(t, STORE_CLUSTER_INFO, parent.key, parent.len, &pv, NULL);
        if (rc == CW_ENOTFOUND)
            return "its parent is neither a member nor a root (no cluster or cluster_info entry)";
        return rc ? "its parent's entries could not be read" : NULL;
    case STORE_CLUSTER_INFO:
        memset(&info, 0, sizeof info);
        return decode_info(v, &info) ? NULL : "a cluster record that does not decode";
    case STORE_CLUSTER_DESIG:
        if (v.n != 0)
            return "a value where there is none";
        rc = store_get(t, STORE_CLUSTER_INFO, k.p, k.n, &pv, NULL);
        if (rc == CW_ENOTFOUND)
            return "a cluster with designated members that has no cluster_info record";
        return rc ? "its cluster_info record could not be read" : NULL;
    default:
        return NULL;
    }
}

static int key_cmp(const cluster_key *a, const cluster_key *b)
{
    return cw_bytes_cmp(a->key, a->len, b->key, b->len);
}

/* had_entry false: the node is known to have none (saves the journal's read). */
static cw_code put_parent(journal *j, const cluster_key *node, const cluster_key *parent, const uint8_t txid[32], bool had_entry,
                          cw_err *err)
{
    uint8_t v[1 + WL_KEY_MAX + 32];
    v[0] = (uint8_t)parent->len;
    memcpy(v + 1, parent->key, parent->len);
    memcpy(v + 1 + parent->len, txid, 32);
    size_t n = 1 + parent->len + 32;
    return had_entry ? journal_put(j, STORE_CLUSTER, node->key, node->len, v, n, err)
                     : journal_put_known(j, STORE_CLUSTER, node->key, node->len, NULL, v, n, err);
}

#define MERGE_MAX 64 /* distinct roots merged per call: callers chunk bigger merges (cluster.h) */

cw_code cluster_merge(journal *j, const cluster_member *members, size_t n, const uint8_t txid[32], uint64_t limit,
                 cluster_merge_result *out, cw_err *err)
{
    if (n == 0)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "cluster: nothing to merge");
    memset(out, 0, sizeof *out);
    static const uint8_t zero[32];
    cluster_info roots[MERGE_MAX];
    bool had_info[MERGE_MAX];
    size_t n_roots = 0;
    cw_code rc;
    for (size_t i = 0; i < n; i++) {
        cluster_key root, path[MAX_DEPTH + 1];
        size_t n_path;
        bool merged;
        if ((rc = walk(j->t, &members[i].key, &root, path, &n_path, NULL, &merged, err)))
            return rc;
        /* path compression: every node below the root's children points at the root */
        for (size_t p = 0; p + 1 < n_path; p++) {
            cw_span v;
            uint8_t join[32];
            cluster_key parent;
            if ((rc = store_get(j->t, STORE_CLUSTER, path[p].key, path[p].len, &v, err)))
                return rc;
            if (!decode_parent(v, &parent, join))
                return store_damaged(j->t, err, "a cluster record does not decode");
            if ((rc = put_parent(j, &path[p], &root, join, true, err)))
                return rc;
        }
        size_t r = 0;
        while (r < n_roots && key_cmp(&roots[r].root, &root) != 0)
            r++;
        if (r < n_roots)
            continue;
        if (n_roots == MERGE_MAX)
            break;
        had_info[r] = merged;
        if (!merged) /* a cluster of one: the member itself */
            singleton(&root, members[i].designated, members[i].service, &roots[r]);
        else if ((rc = load_info(j->t, &root, &roots[r], err)))
            return rc == CW_ENOTFOUND ? store_damaged(j->t, err, "a cluster_info record is missing") : rc;
        n_roots++;
    }
    size_t w = 0;
    for (size_t r = 1; r < n_roots; r++)
        if (roots[r].size > roots[w].size || (roots[r].size == roots[w].size && key_cmp(&roots[r].root, &roots[w].root) < 0))
            w = r;
    cluster_info m = roots[w];
    if (n_roots == 1) {
        out->info = m;
        return CW_OK;
    }
    bool was_super = (m.flags & CLUSTER_SUPER) != 0, any_designated = false, any_clean = false;
    for (size_t r = 0; r < n_roots; r++) {
        any_designated |= roots[r].designated > 0;
        any_clean |= roots[r].designated == 0;
    }
    out->became_designated = any_designated && any_clean;
    for (size_t r = 0; r < n_roots; r++) {
        if (r == w)
            continue;
        cluster_info *o = &roots[r];
        if ((rc = put_parent(j, &o->root, &m.root, txid, false, err))) /* roots have no entry */
            return rc;
        if (had_info[r] && (rc = journal_del(j, STORE_CLUSTER_INFO, o->root.key, o->root.len, err)))
            return rc;
        if (had_info[r] && o->designated && (rc = journal_del(j, STORE_CLUSTER_DESIG, o->root.key, o->root.len, err)))
            return rc;
        if (m.designated == 0 && o->designated > 0)
            m.first_designated = o->first_designated;
        m.designated += o->designated;
        m.size += o->size;
        m.flags |= o->flags;
        if (m.service[0] == '\0' && o->service[0])
            memcpy(m.service, o->service, sizeof m.service);
        for (size_t s = 0; s < o->n_sample && m.n_sample < CLUSTER_SAMPLE_MAX; s++)
            m.sample[m.n_sample++] = o->sample[s];
    }
    if (m.size > limit)
        m.flags |= CLUSTER_SUPER;
    out->became_super = !was_super && (m.flags & CLUSTER_SUPER);
    memcpy(m.merge_txid, txid ? txid : zero, 32);
    uint8_t buf[INFO_MAX];
    size_t len = encode_info(&m, buf);
    rc = had_info[w] ? journal_put(j, STORE_CLUSTER_INFO, m.root.key, m.root.len, buf, len, err)
                     : journal_put_known(j, STORE_CLUSTER_INFO, m.root.key, m.root.len, NULL, buf, len, err);
    if (rc == CW_OK && m.designated && !(had_info[w] && roots[w].designated)) /* newly designated root */
        rc = journal_put(j, STORE_CLUSTER_DESIG, m.root.key, m.root.len, "", 0, err);
    if (rc)
        return rc;
    out->merged = true;
    out->info = m;
    return CW_OK;
}

/* ---- refresh ---- */

typedef struct {
    cluster_key root, first;
    uint32_t count;
} root_count;

typedef struct {
    root_count *v;
    size_t n, cap;
} root_counts;

static root_count *count_for(root_counts *rc, const cluster_key *root)
{
    for (size_t i = 0; i < rc->n; i++) /* listed addresses in clusters are few (thousands) */
        if (key_cmp(&rc->v[i].root, root) == 0)
            return &rc->v[i];
    if (rc->n == rc->cap) {
        size_t cap = rc->cap ? rc->cap * 2 : 64;
        root_count *nv = realloc(rc->v, cap * sizeof *nv);
        if (nv == NULL)
            return NULL;
        rc->v = nv;
        rc->cap = cap;
    }
    root_count *r = &rc->v[rc->n++];
    memset(r, 0, sizeof *r);
    r->root = *root;
    return r;
}

static cw_code put_info(store_txn *t, const cluster_info *c, cw_err *err)
{
    uint8_t buf[INFO_MAX];
    cw_code rc = store_put(t, STORE_CLUSTER_INFO, c->root.key, c->root.len, buf, encode_info(c, buf), err);
    if (rc == CW_OK && c->designated)
        rc = store_put(t, STORE_CLUSTER_DESIG, c->root.key, c->root.len, "", 0, err);
    else if (rc == CW_OK && (rc = store_del(t, STORE_CLUSTER_DESIG, c->root.key, c->root.len, NULL, 0, err)) == CW_ENOTFOUND)
        rc = CW_OK;
    return rc;
}

typedef struct {
    store_txn *t;
    cluster_refresh_stats *st;
    cw_code rc;
    cw_err *err;
} mark_ctx;

static void mark_service(void *ctx, const uint8_t *key, size_t klen, const label *lb)
{
    mark_ctx *m = ctx;
    if (m->rc != CW_OK || klen > WL_KEY_MAX)
        return;
    cluster_key k = {.len = klen}, root;
    memcpy(k.key, key, klen);
    size_t n_path;
    bool merged;
    if ((m->rc = walk(m->t, &k, &root, NULL, &n_path, NULL, &merged, m->err)) || !merged)
        return;
    cluster_info info;
    if ((m->rc = load_info(m->t, &root, &info, m->err)) || (info.flags & CLUSTER_SERVICE))
        return;
    info.flags |= CLUSTER_SERVICE;
    snprintf(info.service, sizeof info.service, "%s", lb->entity[0] ? lb->entity : lb->category);
    if ((m->rc = put_info(m->t, &info, m->err)) == CW_OK)
        m->st->services_marked++;
}

cw_code cluster_refresh(store_txn *t, bool recount, const labels *services, cluster_refresh_stats *st, cw_err *err)
{
    memset(st, 0, sizeof *st);
    cw_code rc = CW_OK;
    root_counts counts = {0};
    cw_buf roots = CW_BUF_INIT; /* clusters with designated members now: len(1) key */
    store_cursor *c = NULL;
    if (recount) {
        /* 1. every listed address that is in a cluster, by root */
        if ((rc = store_cursor_open(t, STORE_WL_ADDR, &c, err)))
            return rc;
        cw_span k, v;
        cluster_key last = {.len = 0};
        for (bool more = store_cursor_seek(c, NULL, 0, &k, &v); more && rc == CW_OK; more = store_cursor_next(c, &k, &v)) {
            if (k.n > WL_KEY_MAX || (k.n == last.len && memcmp(k.p, last.key, k.n) == 0))
                continue; /* text keys never merge; one visit per key */
            memcpy(last.key, k.p, k.n);
            last.len = k.n;
            cluster_key root, path[MAX_DEPTH + 1];
            size_t n_path;
            bool merged;
            if ((rc = walk(t, &last, &root, path, &n_path, NULL, &merged, err)) || !merged)
                continue;
            root_count *r = count_for(&counts, &root);
            if (r == NULL) {
                rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
                break;
            }
            if (r->count++ == 0)
                r->first = last;
        }
        if (rc == CW_OK)
            rc = store_cursor_error(c, err); /* a walk cut short would undercount designated members */
        store_cursor_close(c);
        c = NULL;
        /* 2. the clusters that count designated members now (the short list
         * in cluster_desig) and those that should: every one whose count or
         * first member differs is rewritten (delistings too) */
        if (rc == CW_OK && (rc = store_cursor_open(t, STORE_CLUSTER_DESIG, &c, err)) == CW_OK) {
            for (bool more = store_cursor_seek(c, NULL, 0, &k, &v); more && rc == CW_OK;
                 more = store_cursor_next(c, &k, &v)) {
                uint8_t len = (uint8_t)k.n;
                if (k.n > CLUSTER_KEY_MAX_STORED || cw_buf_append(&roots, &len, 1, err) || cw_buf_append(&roots, k.p, k.n, err))
                    rc = k.n > CLUSTER_KEY_MAX_STORED ? store_damaged(t, err, "a cluster_desig record does not decode") : CW_ENOMEM;
            }
            if (rc == CW_OK)
                rc = store_cursor_error(c, err);
            store_cursor_close(c);
            c = NULL;
        }
        for (size_t i = 0; rc == CW_OK && i < counts.n; i++) {
            uint8_t len = (uint8_t)counts.v[i].root.len;
            if (cw_buf_append(&roots, &len, 1, err) || cw_buf_append(&roots, counts.v[i].root.key, len, err))
                rc = CW_ENOMEM;
        }
        /* 3. rewrite those that differ (after the cursor: writes move LMDB's pages) */
        for (size_t off = 0; rc == CW_OK && off < roots.n; off += 1u + roots.p[off]) {
            cluster_key root = {.len = roots.p[off]};
            memcpy(root.key, roots.p + off + 1, root.len);
            bool seen = false; /* a root on both lists comes twice */
            for (size_t o2 = 0; o2 < off && !seen; o2 += 1u + roots.p[o2])
                seen = roots.p[o2] == root.len && memcmp(roots.p + o2 + 1, root.key, root.len) == 0;
            if (seen)
                continue;
            cluster_info info;
            if ((rc = load_info(t, &root, &info, err)))
                break;
            root_count *r = NULL;
            for (size_t i = 0; i < counts.n && !r; i++)
                if (key_cmp(&counts.v[i].root, &root) == 0)
                    r = &counts.v[i];
            uint32_t want = r ? r->count : 0;
            bool first_ok = info.first_designated.len == 0; /* a delisted first (a swap keeps the count) */
            if (r) {
                first_ok = false;
                if (info.first_designated.len > 0 &&
                    (rc = wl_is_listed(t, info.first_designated.key, info.first_designated.len, &first_ok, err)))
                    break;
            }
            if (info.designated == want && first_ok)
                continue;
            info.designated = want;
            if (r == NULL)
                info.first_designated.len = 0;
            else if (!first_ok)
                info.first_designated = r->first;
            if ((rc = put_info(t, &info, err)) == CW_OK)
                st->roots_changed++;
        }
    }
    free(counts.v);
    cw_buf_free(&roots);
    /* labelled addresses inside clusters: their clusters stop propagating */
    mark_ctx m = {t, st, rc, err};
    if (rc == CW_OK && services)
        labels_each(services, mark_service, &m);
    return m.rc;
}
