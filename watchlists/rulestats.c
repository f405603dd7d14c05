#include "rulestats.h"

#include <stdlib.h>
#include <string.h>

#include "chains/be.h"
#include "chains/le.h"

/* rs_addr and rs_pair are runs of uint64_t (the pair then two txids). A
 * record is the address's fields as varints in declaration order, a count
 * byte, then per entry kind(1) klen(1) txids(1: 1 when the first and last
 * txid differ) key, the pair's fields as varints, the last txid and, when
 * they differ, the first. */
#define ADDR_FIELDS (sizeof(rs_addr) / 8)
#define PAIR_FIELDS ((sizeof(rs_pair) - 64) / 8)
#define TRACE_MIN ((size_t)(1 + 1 + 32 + 1)) /* pool, hops, txid, origin length */
/* an account's: pool, hops, txid, when (8, LE), origin length, origin,
 * then the amount (8, LE; absent in records written before it was kept) */
#define ATRACE_MIN ((size_t)(1 + 1 + 32 + 8 + 1))
#define ATRACE_TAG 'A'

_Static_assert(sizeof(rs_addr) % 8 == 0, "rs_addr is uint64_t fields only");

/* Varints (LEB128): most fields of a fresh record are zero or small, and
 * the bytes written per payment bound the rules' throughput. */
static size_t put_var(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Reads n varints into v; false when they run past end or overflow. */
static bool get_vars(const uint8_t **p, const uint8_t *end, uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t x = 0;
        for (int shift = 0;; shift += 7) {
            if (*p >= end || shift > 63)
                return false;
            uint8_t b = *(*p)++;
            x |= (uint64_t)(b & 0x7f) << shift;
            if (!(b & 0x80))
                break;
        }
        v[i] = x;
    }
    return true;
}

/* NULL when v is a well-formed record (decoded into r when r is not NULL). */
static const char *record_decode(cw_span v, rs_record *r)
{
    const uint8_t *p = v.p, *end = v.p + v.n;
    rs_addr a;
    if (!get_vars(&p, end, (uint64_t *)&a, ADDR_FIELDS) || p >= end)
        return "a rule_addr record whose fields do not decode";
    size_t n = *p++;
    if (n > RS_LIST_MAX)
        return "a rule_addr record with too many counterparties";
    if (r) {
        r->a = a;
        r->n = n;
    }
    for (size_t i = 0; i < n; i++) {
        if (end - p < 3)
            return "a rule_addr record cut inside a counterparty";
        char kind = (char)p[0];
        size_t klen = p[1];
        bool two = p[2] & 1;
        if ((kind != RS_KIND_PAYER && kind != RS_KIND_SOURCE) || klen == 0 || klen > WL_KEY_MAX ||
            (size_t)(end - p) < 3 + klen)
            return "a rule_addr record with a counterparty that does not decode";
        rs_entry e;
        e.kind = kind;
        e.klen = (uint8_t)klen;
        memcpy(e.key, p + 3, klen);
        p += 3 + klen;
        if (!get_vars(&p, end, (uint64_t *)&e.p, PAIR_FIELDS) || (size_t)(end - p) < (two ? 64u : 32u))
            return "a rule_addr record with a counterparty that does not decode";
        memcpy(e.p.last_txid, p, 32);
        memcpy(e.p.first_txid, two ? p + 32 : p, 32);
        p += two ? 64 : 32;
        if (r)
            r->e[i] = e;
    }
    return p == end ? NULL : "a rule_addr record with bytes after its counterparties";
}

cw_code rs_addr_get(store_txn *t, const uint8_t *key, size_t klen, rs_addr *out, cw_err *err)
{
    cw_span v;
    cw_code rc = store_get(t, STORE_RULE_ADDR, key, klen, &v, err);
    if (rc)
        return rc;
    const uint8_t *p = v.p;
    if (!get_vars(&p, v.p + v.n, (uint64_t *)out, ADDR_FIELDS))
        return store_damaged(t, err, "a rule_addr record whose fields do not decode");
    return CW_OK;
}

cw_code rs_record_get(store_txn *t, const uint8_t *key, size_t klen, rs_record *out, cw_err *err)
{
    memset(&out->a, 0, sizeof out->a);
    out->n = 0;
    out->stored = false;
    out->raw = (cw_span){NULL, 0};
    cw_span v;
    cw_code rc = store_get(t, STORE_RULE_ADDR, key, klen, &v, err);
    if (rc == CW_ENOTFOUND)
        out->raw.n = 1; /* read and absent: the journal logs "absent" without a read */
    if (rc)
        return rc;
    out->stored = true;
    out->raw = v;
    const char *why = record_decode(v, out);
    if (why) {
        memset(&out->a, 0, sizeof out->a);
        out->n = 0;
        return store_damaged(t, err, "%s", why);
    }
    return CW_OK;
}

cw_code rs_record_put(journal *j, const uint8_t *key, size_t klen, const rs_record *r, cw_err *err)
{
    if (klen == 0 || klen > WL_KEY_MAX || r->n > RS_LIST_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "rule stats: a key over %d bytes or too many counterparties",
                          WL_KEY_MAX);
    uint8_t *buf = malloc(ADDR_FIELDS * 10 + 1 + r->n * (3 + WL_KEY_MAX + PAIR_FIELDS * 10 + 64));
    if (buf == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "rule stats: out of memory");
    size_t at = 0;
    const uint64_t *f = (const uint64_t *)&r->a;
    for (size_t i = 0; i < ADDR_FIELDS; i++)
        at += put_var(buf + at, f[i]);
    buf[at++] = (uint8_t)r->n;
    for (size_t i = 0; i < r->n; i++) {
        const rs_entry *e = &r->e[i];
        bool two = memcmp(e->p.first_txid, e->p.last_txid, 32) != 0;
        buf[at] = (uint8_t)e->kind;
        buf[at + 1] = e->klen;
        buf[at + 2] = two;
        memcpy(buf + at + 3, e->key, e->klen);
        at += 3 + e->klen;
        const uint64_t *pf = (const uint64_t *)&e->p;
        for (size_t k = 0; k < PAIR_FIELDS; k++)
            at += put_var(buf + at, pf[k]);
        memcpy(buf + at, e->p.last_txid, 32);
        at += 32;
        if (two) {
            memcpy(buf + at, e->p.first_txid, 32);
            at += 32;
        }
    }
    cw_code rc = r->stored ? journal_put_known(j, STORE_RULE_ADDR, key, klen, &r->raw, buf, at, err)
                 : r->raw.n == 1 && r->raw.p == NULL ? journal_put_known(j, STORE_RULE_ADDR, key, klen, NULL, buf, at, err)
                                                     : journal_put(j, STORE_RULE_ADDR, key, klen, buf, at, err);
    free(buf);
    return rc;
}

rs_entry *rs_record_find(rs_record *r, char kind, const uint8_t *key, size_t klen)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->e[i].kind == kind && r->e[i].klen == klen && memcmp(r->e[i].key, key, klen) == 0)
            return &r->e[i];
    return NULL;
}

rs_entry *rs_record_add(rs_record *r, char kind, const uint8_t *key, size_t klen)
{
    if (r->n >= RS_LIST_MAX || klen == 0 || klen > WL_KEY_MAX)
        return NULL;
    rs_entry *e = &r->e[r->n++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->klen = (uint8_t)klen;
    memcpy(e->key, key, klen);
    return e;
}

cw_code rs_origin_get(store_txn *t, const uint8_t *key, size_t klen, unsigned *flags, cw_err *err)
{
    *flags = 0;
    cw_span v;
    cw_code rc = store_get(t, STORE_RULE_ORIGIN, key, klen, &v, err);
    if (rc == CW_ENOTFOUND)
        return CW_OK;
    if (rc)
        return rc;
    if (v.n != 1 || v.p[0] == 0 || v.p[0] > 7)
        return store_damaged(t, err, "a rule_origin record that does not decode");
    *flags = v.p[0];
    return CW_OK;
}

cw_code rs_origin_add(journal *j, const uint8_t *key, size_t klen, unsigned flags, cw_err *err)
{
    unsigned old;
    cw_code rc = rs_origin_get(j->t, key, klen, &old, err);
    if (rc || (old | flags) == old)
        return rc;
    uint8_t b = (uint8_t)(old | flags);
    return journal_put(j, STORE_RULE_ORIGIN, key, klen, &b, 1, err);
}

cw_code rs_trace_get(store_txn *t, const uint8_t outpoint[36], rs_trace *out, cw_err *err)
{
    cw_span v;
    cw_code rc = store_get(t, STORE_RULE_TRACE, outpoint, 36, &v, err);
    if (rc)
        return rc;
    if (v.n < TRACE_MIN || v.n != TRACE_MIN + (size_t)v.p[34] || v.p[34] > WL_KEY_MAX)
        return store_damaged(t, err, "a rule_trace record of %zu bytes that does not decode", v.n);
    out->pool = v.p[0];
    out->hops = v.p[1];
    memcpy(out->first_txid, v.p + 2, 32);
    out->when = 0;
    out->amount = 0;
    out->origin_len = v.p[34];
    memcpy(out->origin, v.p + TRACE_MIN, out->origin_len);
    return CW_OK;
}

cw_code rs_trace_put(journal *j, const uint8_t outpoint[36], const rs_trace *v, cw_err *err)
{
    if (v->origin_len > WL_KEY_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "rule stats: a key over %d bytes", WL_KEY_MAX);
    uint8_t buf[TRACE_MIN + WL_KEY_MAX];
    buf[0] = v->pool;
    buf[1] = v->hops;
    memcpy(buf + 2, v->first_txid, 32);
    buf[34] = (uint8_t)v->origin_len;
    memcpy(buf + TRACE_MIN, v->origin, v->origin_len);
    return journal_put(j, STORE_RULE_TRACE, outpoint, 36, buf, TRACE_MIN + v->origin_len, err);
}

cw_code rs_trace_del(journal *j, const uint8_t outpoint[36], cw_err *err)
{
    return journal_del(j, STORE_RULE_TRACE, outpoint, 36, err);
}

static cw_code account_trace_key(const uint8_t *key, size_t klen, uint8_t out[WL_KEY_MAX], cw_err *err)
{
    if (klen == 0 || klen + 1 > WL_KEY_MAX || klen + 1 == 36)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "rule stats: an account trace key of %zu bytes (1..%d, never 35: it would read as an outpoint)",
                          klen, WL_KEY_MAX - 1);
    out[0] = ATRACE_TAG;
    memcpy(out + 1, key, klen);
    return CW_OK;
}

/* rule_pair: a payer's key plen(1) payee payer, a pool source's
 * 0x00 plen(1) pool source (plen is 1..WL_KEY_MAX, so a payer's key never
 * starts with 0: the shapes never meet); value two(1) the pair's fields
 * as varints, the last txid and, when they differ, the first. */
#define PAIR_KEY_MAX (2 + 2 * WL_KEY_MAX)
#define SOURCE_TAG 0x00

static cw_code pair_key_of(char kind, const uint8_t *payee, size_t plen, const uint8_t *payer, size_t klen,
                           uint8_t out[PAIR_KEY_MAX], size_t *n, cw_err *err)
{
    if (plen == 0 || plen > WL_KEY_MAX || klen == 0 || klen > WL_KEY_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "rule stats: a pair's key of %zu and %zu bytes (1..%d each)",
                          plen, klen, WL_KEY_MAX);
    size_t at = 0;
    if (kind == RS_KIND_SOURCE)
        out[at++] = SOURCE_TAG;
    out[at++] = (uint8_t)plen;
    memcpy(out + at, payee, plen);
    memcpy(out + at + plen, payer, klen);
    *n = at + plen + klen;
    return CW_OK;
}

static cw_code pair_key(const uint8_t *payee, size_t plen, const uint8_t *payer, size_t klen,
                        uint8_t out[PAIR_KEY_MAX], size_t *n, cw_err *err)
{
    return pair_key_of(RS_KIND_PAYER, payee, plen, payer, klen, out, n, err);
}

static cw_code pair_value(const rs_pair *p, uint8_t buf[1 + PAIR_FIELDS * 10 + 64], size_t *n)
{
    size_t at = 0;
    bool two = memcmp(p->first_txid, p->last_txid, 32) != 0;
    buf[at++] = two;
    const uint64_t *pf = (const uint64_t *)p;
    for (size_t i = 0; i < PAIR_FIELDS; i++)
        at += put_var(buf + at, pf[i]);
    memcpy(buf + at, p->last_txid, 32);
    at += 32;
    if (two) {
        memcpy(buf + at, p->first_txid, 32);
        at += 32;
    }
    *n = at;
    return CW_OK;
}

static bool pair_decode(cw_span v, rs_pair *out)
{
    const uint8_t *p = v.p, *end = v.p + v.n;
    rs_pair pr;
    if (v.n < 1 || v.p[0] > 1)
        return false;
    bool two = *p++;
    if (!get_vars(&p, end, (uint64_t *)&pr, PAIR_FIELDS) || (size_t)(end - p) != (two ? 64u : 32u))
        return false;
    memcpy(pr.last_txid, p, 32);
    memcpy(pr.first_txid, two ? p + 32 : p, 32);
    if (out)
        *out = pr;
    return true;
}

/* rs_pair_get and rs_source_get: one key shape each (pair_key_of), one
 * value encoding. */
static cw_code pair_get_of(char kind, store_txn *t, const uint8_t *owner, size_t olen, const uint8_t *other,
                           size_t klen, rs_pair *out, cw_err *err)
{
    uint8_t k[PAIR_KEY_MAX];
    size_t kn = 0;
    cw_code rc = pair_key_of(kind, owner, olen, other, klen, k, &kn, err);
    cw_span v;
    if (rc || (rc = store_get(t, STORE_RULE_PAIR, k, kn, &v, err)))
        return rc;
    if (!pair_decode(v, out))
        return store_damaged(t, err, "a rule_pair %s record of %zu bytes that does not decode",
                             kind == RS_KIND_SOURCE ? "source" : "payer", v.n);
    return CW_OK;
}

static cw_code pair_put_of(char kind, journal *j, const uint8_t *owner, size_t olen, const uint8_t *other,
                           size_t klen, const rs_pair *p, cw_err *err)
{
    uint8_t k[PAIR_KEY_MAX], buf[1 + PAIR_FIELDS * 10 + 64];
    size_t kn = 0, vn = 0;
    cw_code rc = pair_key_of(kind, owner, olen, other, klen, k, &kn, err);
    if (rc || (rc = pair_value(p, buf, &vn)))
        return rc;
    return journal_put(j, STORE_RULE_PAIR, k, kn, buf, vn, err);
}

cw_code rs_pair_get(store_txn *t, const uint8_t *payee, size_t plen, const uint8_t *payer, size_t klen, rs_pair *out,
                    cw_err *err)
{
    return pair_get_of(RS_KIND_PAYER, t, payee, plen, payer, klen, out, err);
}

cw_code rs_pair_put(journal *j, const uint8_t *payee, size_t plen, const uint8_t *payer, size_t klen, const rs_pair *p,
                    cw_err *err)
{
    return pair_put_of(RS_KIND_PAYER, j, payee, plen, payer, klen, p, err);
}

cw_code rs_source_get(store_txn *t, const uint8_t *pool, size_t plen, const uint8_t *src, size_t slen, rs_pair *out,
                      cw_err *err)
{
    return pair_get_of(RS_KIND_SOURCE, t, pool, plen, src, slen, out, err);
}

cw_code rs_source_put(journal *j, const uint8_t *pool, size_t plen, const uint8_t *src, size_t slen, const rs_pair *p,
                      cw_err *err)
{
    return pair_put_of(RS_KIND_SOURCE, j, pool, plen, src, slen, p, err);
}

cw_code rs_source_walk_open(store_txn *t, const uint8_t *pool, size_t plen, rs_source_walk *w, cw_err *err)
{
    memset(w, 0, sizeof *w);
    if (plen == 0 || plen > WL_KEY_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "rule stats: a pool key of %zu bytes (1..%d)", plen, WL_KEY_MAX);
    w->t = t;
    w->prefix[0] = SOURCE_TAG;
    w->prefix[1] = (uint8_t)plen;
    memcpy(w->prefix + 2, pool, plen);
    w->n = 2 + plen;
    return store_cursor_open(t, STORE_RULE_PAIR, &w->c, err);
}

/* The walk's next key under its prefix (the seek, then the cursor's
 * steps): CW_OK with k at least the prefix long (the caller decodes what
 * follows it: a key that is the prefix alone is the caller's damage, never
 * the walk's end, which would hide every entry after it), CW_ENOTFOUND past
 * the prefix, or the store's error. Shared by the three walks of rule_pair
 * prefixes: a pool's sources, its window, the pools a source waits in. */
static cw_code walk_step(rs_source_walk *w, cw_span *k, cw_span *v, cw_err *err)
{
    bool got = w->started ? store_cursor_next(w->c, k, v) : store_cursor_seek(w->c, w->prefix, w->n, k, v);
    w->started = true;
    if (!got) {
        cw_code rc = store_cursor_error(w->c, err);
        return rc ? rc : CW_ENOTFOUND;
    }
    if (k->n < w->n || memcmp(k->p, w->prefix, w->n) != 0)
        return CW_ENOTFOUND; /* past the prefix */
    return CW_OK;
}

cw_code rs_source_walk_next(rs_source_walk *w, uint8_t src[WL_KEY_MAX], size_t *slen, rs_pair *p, cw_err *err)
{
    cw_span k, v;
    cw_code rc = walk_step(w, &k, &v, err);
    if (rc)
        return rc; /* CW_ENOTFOUND past the pool's last source */
    if (k.n == w->n || k.n - w->n > WL_KEY_MAX || !pair_decode(v, p))
        return store_damaged(w->t, err, "a rule_pair source record of %zu bytes that does not decode", v.n);
    *slen = k.n - w->n;
    memcpy(src, k.p + w->n, *slen);
    return CW_OK;
}

void rs_source_walk_close(rs_source_walk *w)
{
    store_cursor_close(w->c);
    w->c = NULL;
}

/* The window index (rulestats.h): 0xF0 plen pool ~last(8, BE) source,
 * 0xF1 slen source pool, 0xF2 plen pool (a count, 8 bytes LE). */
#define WINDOW_TAG 0xF0
#define WAITING_TAG 0xF1
#define INDEXED_TAG 0xF2
#define WINDOW_KEY_MAX (2 + 8 + 2 * WL_KEY_MAX)
_Static_assert(WL_KEY_MAX < WINDOW_TAG, "the window index's tags are above every payer key's first byte");

static cw_code two_keys_check(size_t plen, size_t slen, cw_err *err)
{
    if (plen == 0 || plen > WL_KEY_MAX || slen == 0 || slen > WL_KEY_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "rule stats: a pool's and a source's key of %zu and %zu bytes (1..%d each)", plen, slen,
                          WL_KEY_MAX);
    return CW_OK;
}

static size_t window_key(const uint8_t *pool, size_t plen, const uint8_t *src, size_t slen, uint64_t last,
                         uint8_t out[WINDOW_KEY_MAX])
{
    out[0] = WINDOW_TAG;
    out[1] = (uint8_t)plen;
    memcpy(out + 2, pool, plen);
    cw_put_be(out + 2 + plen, ~last, 8);
    memcpy(out + 10 + plen, src, slen);
    return 10 + plen + slen;
}

static size_t waiting_key(const uint8_t *src, size_t slen, const uint8_t *pool, size_t plen,
                          uint8_t out[WINDOW_KEY_MAX])
{
    out[0] = WAITING_TAG;
    out[1] = (uint8_t)slen;
    memcpy(out + 2, src, slen);
    memcpy(out + 2 + slen, pool, plen);
    return 2 + slen + plen;
}

static const uint8_t index_mark = 1;

cw_code rs_window_put(journal *j, const uint8_t *pool, size_t plen, const uint8_t *src, size_t slen, uint64_t last,
                      cw_err *err)
{
    uint8_t k[WINDOW_KEY_MAX];
    cw_code rc = two_keys_check(plen, slen, err);
    return rc ? rc
              : journal_put(j, STORE_RULE_PAIR, k, window_key(pool, plen, src, slen, last, k), &index_mark, 1, err);
}

cw_code rs_window_get(store_txn *t, const uint8_t *pool, size_t plen, const uint8_t *src, size_t slen, uint64_t last,
                      cw_err *err)
{
    uint8_t k[WINDOW_KEY_MAX];
    cw_span v;
    cw_code rc = two_keys_check(plen, slen, err);
    if (rc || (rc = store_get(t, STORE_RULE_PAIR, k, window_key(pool, plen, src, slen, last, k), &v, err)))
        return rc;
    if (v.n != 1 || v.p[0] != index_mark)
        return store_damaged(t, err, "a rule_pair window entry of %zu bytes that does not decode", v.n);
    return CW_OK;
}

cw_code rs_window_del(journal *j, const uint8_t *pool, size_t plen, const uint8_t *src, size_t slen, uint64_t last,
                      bool *had, cw_err *err)
{
    uint8_t k[WINDOW_KEY_MAX];
    cw_code rc = two_keys_check(plen, slen, err);
    if (rc)
        return rc;
    size_t kn = window_key(pool, plen, src, slen, last, k);
    if (had) {
        cw_span v;
        rc = store_get(j->t, STORE_RULE_PAIR, k, kn, &v, err);
        if (rc == CW_ENOTFOUND) {
            *had = false;
            return CW_OK;
        }
        if (rc)
            return rc;
        *had = true;
    }
    return journal_del(j, STORE_RULE_PAIR, k, kn, err);
}

cw_code rs_waiting_put(journal *j, const uint8_t *src, size_t slen, const uint8_t *pool, size_t plen, cw_err *err)
{
    uint8_t k[WINDOW_KEY_MAX];
    cw_code rc = two_keys_check(plen, slen, err);
    return rc ? rc : journal_put(j, STORE_RULE_PAIR, k, waiting_key(src, slen, pool, plen, k), &index_mark, 1, err);
}

cw_code rs_waiting_del(journal *j, const uint8_t *src, size_t slen, const uint8_t *pool, size_t plen, cw_err *err)
{
    uint8_t k[WINDOW_KEY_MAX];
    cw_code rc = two_keys_check(plen, slen, err);
    return rc ? rc : journal_del(j, STORE_RULE_PAIR, k, waiting_key(src, slen, pool, plen, k), err);
}

cw_code rs_waiting_get(store_txn *t, const uint8_t *src, size_t slen, const uint8_t *pool, size_t plen, cw_err *err)
{
    uint8_t k[WINDOW_KEY_MAX];
    cw_span v;
    cw_code rc = two_keys_check(plen, slen, err);
    if (rc || (rc = store_get(t, STORE_RULE_PAIR, k, waiting_key(src, slen, pool, plen, k), &v, err)))
        return rc;
    if (v.n != 1 || v.p[0] != index_mark)
        return store_damaged(t, err, "a rule_pair waiting entry of %zu bytes that does not decode", v.n);
    return CW_OK;
}

cw_code rs_waiting_first(store_txn *t, const uint8_t *src, size_t slen, uint8_t pool[WL_KEY_MAX], size_t *plen,
                         cw_err *err)
{
    if (slen == 0 || slen > WL_KEY_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "rule stats: a source key of %zu bytes (1..%d)", slen, WL_KEY_MAX);
    /* a walk of the prefix 0xF1 slen src: rs_source_walk's shape */
    rs_source_walk w;
    cw_code rc = rs_source_walk_open(t, src, slen, &w, err);
    w.prefix[0] = WAITING_TAG;
    cw_span k, v;
    if (rc == CW_OK && (rc = walk_step(&w, &k, &v, err)) == CW_OK) {
        if (k.n == w.n || k.n - w.n > WL_KEY_MAX || v.n != 1 || v.p[0] != index_mark) {
            rc = store_damaged(t, err, "a rule_pair waiting entry (key of %zu bytes, value of %zu) that does not decode",
                               k.n, v.n);
        } else {
            *plen = k.n - w.n;
            memcpy(pool, k.p + w.n, *plen);
        }
    }
    rs_source_walk_close(&w);
    return rc;
}

static cw_code indexed_key(const uint8_t *pool, size_t plen, uint8_t out[2 + WL_KEY_MAX], cw_err *err)
{
    if (plen == 0 || plen > WL_KEY_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "rule stats: a pool key of %zu bytes (1..%d)", plen, WL_KEY_MAX);
    out[0] = INDEXED_TAG;
    out[1] = (uint8_t)plen;
    memcpy(out + 2, pool, plen);
    return CW_OK;
}

cw_code rs_indexed_get(store_txn *t, const uint8_t *pool, size_t plen, uint64_t *n, cw_err *err)
{
    uint8_t k[2 + WL_KEY_MAX];
    cw_span v;
    *n = 0;
    cw_code rc = indexed_key(pool, plen, k, err);
    if (rc || (rc = store_get(t, STORE_RULE_PAIR, k, 2 + plen, &v, err)))
        return rc == CW_ENOTFOUND ? CW_OK : rc;
    if (v.n != 8)
        return store_damaged(t, err, "a rule_pair indexed count of %zu bytes that does not decode", v.n);
    *n = cw_get_le(v.p, 8);
    return CW_OK;
}

cw_code rs_indexed_put(journal *j, const uint8_t *pool, size_t plen, uint64_t n, cw_err *err)
{
    uint8_t k[2 + WL_KEY_MAX], b[8];
    cw_code rc = indexed_key(pool, plen, k, err);
    if (rc)
        return rc;
    cw_put_le(b, n, 8);
    return journal_put(j, STORE_RULE_PAIR, k, 2 + plen, b, 8, err);
}

cw_code rs_window_walk_open(store_txn *t, const uint8_t *pool, size_t plen, rs_window_walk *w, cw_err *err)
{
    cw_code rc = rs_source_walk_open(t, pool, plen, w, err);
    w->prefix[0] = WINDOW_TAG;
    return rc;
}

cw_code rs_window_walk_next(rs_window_walk *w, uint8_t src[WL_KEY_MAX], size_t *slen, uint64_t *last, cw_err *err)
{
    cw_span k, v;
    cw_code rc = walk_step(w, &k, &v, err);
    if (rc)
        return rc; /* CW_ENOTFOUND past the pool's prefix */
    if (k.n <= w->n + 8 || k.n - w->n - 8 > WL_KEY_MAX || v.n != 1 || v.p[0] != index_mark)
        return store_damaged(w->t, err, "a rule_pair window entry (key of %zu bytes, value of %zu) that does not decode",
                             k.n, v.n);
    *last = ~cw_get_be(k.p + w->n, 8);
    *slen = k.n - w->n - 8;
    memcpy(src, k.p + w->n + 8, *slen);
    return CW_OK;
}

void rs_window_walk_close(rs_window_walk *w) { rs_source_walk_close(w); }

cw_code rs_pair_del(journal *j, const uint8_t *payee, size_t plen, const uint8_t *payer, size_t klen, cw_err *err)
{
    uint8_t k[PAIR_KEY_MAX];
    size_t kn = 0;
    cw_code rc = pair_key(payee, plen, payer, klen, k, &kn, err);
    return rc ? rc : journal_del(j, STORE_RULE_PAIR, k, kn, err);
}

static bool account_trace_ok(cw_span v)
{
    return v.n >= ATRACE_MIN && v.p[42] > 0 && v.p[42] <= WL_KEY_MAX &&
           (v.n == ATRACE_MIN + (size_t)v.p[42] || v.n == ATRACE_MIN + (size_t)v.p[42] + 8);
}

cw_code rs_trace_account_get(store_txn *t, const uint8_t *key, size_t klen, rs_trace *out, cw_err *err)
{
    uint8_t k[WL_KEY_MAX];
    cw_code rc = account_trace_key(key, klen, k, err);
    if (rc)
        return rc;
    cw_span v;
    if ((rc = store_get(t, STORE_RULE_TRACE, k, klen + 1, &v, err)))
        return rc;
    if (!account_trace_ok(v))
        return store_damaged(t, err, "an account's rule_trace record of %zu bytes that does not decode", v.n);
    memset(out, 0, sizeof *out);
    out->pool = v.p[0];
    out->hops = v.p[1];
    memcpy(out->first_txid, v.p + 2, 32);
    out->when = cw_get_le(v.p + 34, 8);
    out->origin_len = v.p[42];
    memcpy(out->origin, v.p + ATRACE_MIN, out->origin_len);
    out->amount = v.n == ATRACE_MIN + out->origin_len + 8 ? cw_get_le(v.p + ATRACE_MIN + out->origin_len, 8) : RS_TOTAL_MAX;
    return CW_OK;
}

cw_code rs_trace_account_put(journal *j, const uint8_t *key, size_t klen, const rs_trace *v, cw_err *err)
{
    uint8_t k[WL_KEY_MAX];
    cw_code rc = account_trace_key(key, klen, k, err);
    if (rc)
        return rc;
    if (v->origin_len == 0 || v->origin_len > WL_KEY_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "rule stats: an origin key of %zu bytes", v->origin_len);
    uint8_t buf[ATRACE_MIN + WL_KEY_MAX + 8];
    buf[0] = v->pool;
    buf[1] = v->hops;
    memcpy(buf + 2, v->first_txid, 32);
    cw_put_le(buf + 34, v->when, 8);
    buf[42] = (uint8_t)v->origin_len;
    memcpy(buf + ATRACE_MIN, v->origin, v->origin_len);
    cw_put_le(buf + ATRACE_MIN + v->origin_len, v->amount, 8);
    return journal_put(j, STORE_RULE_TRACE, k, klen + 1, buf, ATRACE_MIN + v->origin_len + 8, err);
}

const char *rs_check_record(store_db db, cw_span k, cw_span v)
{
    switch (db) {
    case STORE_RULE_ADDR:
        if (k.n == 0 || k.n > WL_KEY_MAX)
            return "a key that is not an address key";
        return record_decode(v, NULL);
    case STORE_RULE_ORIGIN:
        if (k.n == 0 || k.n > WL_KEY_MAX)
            return "a key that is not an address key";
        return v.n == 1 && v.p[0] >= 1 && v.p[0] <= 7 ? NULL : "a value that is not origin flags";
    case STORE_RULE_PAIR:
        if (k.n >= 1 && k.p[0] == WINDOW_TAG) {
            if (k.n < 2 || k.p[1] == 0 || k.p[1] > WL_KEY_MAX || k.n <= 10u + k.p[1] || k.n > 10u + k.p[1] + WL_KEY_MAX)
                return "a key that is not a pool's window entry (a pool's key, a time, a source's key)";
            return v.n == 1 && v.p[0] == index_mark ? NULL : "a value that is not a window entry's mark";
        }
        if (k.n >= 1 && k.p[0] == WAITING_TAG) {
            if (k.n < 2 || k.p[1] == 0 || k.p[1] > WL_KEY_MAX || k.n <= 2u + k.p[1] || k.n > 2u + k.p[1] + WL_KEY_MAX)
                return "a key that is not a waiting source's and its pool's keys";
            return v.n == 1 && v.p[0] == index_mark ? NULL : "a value that is not a waiting entry's mark";
        }
        if (k.n >= 1 && k.p[0] == INDEXED_TAG) {
            if (k.n < 3 || k.p[1] == 0 || k.p[1] > WL_KEY_MAX || k.n != 2u + k.p[1])
                return "a key that is not a pool's indexed count";
            return v.n == 8 ? NULL : "a value that is not a count (8 bytes)";
        }
        if (k.n >= 1 && k.p[0] == SOURCE_TAG) {
            if (k.n < 4 || k.p[1] == 0 || k.p[1] > WL_KEY_MAX || k.n <= 2u + k.p[1] || k.n > 2u + k.p[1] + WL_KEY_MAX)
                return "a key that is not a pool's and a source's address keys";
            return pair_decode(v, NULL) ? NULL : "a value that is not a source's sweeps";
        }
        if (k.n < 3 || k.p[0] == 0 || k.p[0] > WL_KEY_MAX || k.n <= 1u + k.p[0] || k.n > 1u + k.p[0] + WL_KEY_MAX)
            return "a key that is not a payee's and a payer's address keys";
        return pair_decode(v, NULL) ? NULL : "a value that is not a pair's payments";
    case STORE_RULE_TRACE:
        if (k.n >= 2 && k.n <= WL_KEY_MAX && k.n != 36 && k.p[0] == ATRACE_TAG)
            return account_trace_ok(v) ? NULL : "an account's trace that does not decode";
        if (k.n != 36)
            return "a key that is neither an outpoint (36 bytes) nor an account's ('A' and its address key)";
        return v.n >= TRACE_MIN && v.n == TRACE_MIN + (size_t)v.p[34] ? NULL : "a value that does not decode";
    default:
        return NULL;
    }
}
