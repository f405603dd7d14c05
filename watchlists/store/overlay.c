#include "overlay.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "chains/buf.h"

typedef struct node {
    struct node *next;
    uint64_t hash;
    overlay_entry e;
} node;

/* Nodes and values come from big chunks, freed together: a batch makes
 * hundreds of thousands of them and frees them all at its commit. */
typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    uint8_t mem[];
} chunk;

struct overlay {
    node **buckets;
    size_t cap, count, bytes;
    uint64_t seed;
    chunk *chunks;
};

static void *take(overlay *o, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (o->chunks == NULL || o->chunks->cap - o->chunks->used < n) {
        size_t cap = n > ((size_t)1 << 20) ? n : (size_t)1 << 20;
        chunk *c = malloc(sizeof *c + cap);
        if (c == NULL)
            return NULL;
        c->next = o->chunks;
        c->used = 0;
        c->cap = cap;
        o->chunks = c;
    }
    void *p = o->chunks->mem + o->chunks->used;
    o->chunks->used += n;
    return p;
}

static uint64_t hash(const overlay *o, uint8_t db, const uint8_t *p, size_t n)
{
    return cw_hash64(o->seed ^ ((uint64_t)db << 56), p, n);
}

overlay *overlay_new(void)
{
    overlay *o = calloc(1, sizeof *o);
    if (o == NULL || sodium_init() < 0 || (o->buckets = calloc(1024, sizeof *o->buckets)) == NULL) {
        free(o);
        return NULL;
    }
    o->cap = 1024;
    randombytes_buf(&o->seed, sizeof o->seed);
    return o;
}

void overlay_free(overlay *o)
{
    if (o == NULL)
        return;
    for (chunk *c = o->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(o->buckets);
    free(o);
}

static node *find(const overlay *o, uint8_t db, const void *key, size_t klen, uint64_t h)
{
    for (node *n = o->buckets[h & (o->cap - 1)]; n; n = n->next)
        if (n->hash == h && n->e.db == db && n->e.klen == klen && memcmp(n->e.key, key, klen) == 0)
            return n;
    return NULL;
}

const overlay_entry *overlay_find(const overlay *o, uint8_t db, const void *key, size_t klen)
{
    node *n = find(o, db, key, klen, hash(o, db, key, klen));
    return n ? &n->e : NULL;
}

static void grow(overlay *o)
{
    node **nb = calloc(o->cap * 2, sizeof *nb);
    if (nb == NULL)
        return; /* longer chains, still correct */
    size_t cap = o->cap * 2;
    for (size_t i = 0; i < o->cap; i++)
        for (node *n = o->buckets[i], *next; n; n = next) {
            next = n->next;
            n->next = nb[n->hash & (cap - 1)];
            nb[n->hash & (cap - 1)] = n;
        }
    free(o->buckets);
    o->buckets = nb;
    o->cap = cap;
}

bool overlay_set(overlay *o, uint8_t db, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (klen > 0xffff || vlen > 0xffffffffu)
        return false;
    uint64_t h = hash(o, db, key, klen);
    node *n = find(o, db, key, klen, h);
    if (n == NULL) {
        if (o->count >= o->cap)
            grow(o);
        if ((n = take(o, sizeof *n + klen)) == NULL)
            return false;
        n->hash = h;
        n->e.db = db;
        n->e.klen = (uint16_t)klen;
        n->e.key = (uint8_t *)(n + 1);
        memcpy(n->e.key, key, klen);
        n->e.val = NULL;
        n->e.vlen = 0;
        n->e.cap = 0;
        n->next = o->buckets[h & (o->cap - 1)];
        o->buckets[h & (o->cap - 1)] = n;
        o->count++;
        o->bytes += sizeof *n + klen;
    }
    o->bytes -= n->e.vlen;
    n->e.dead = val == NULL;
    if (val == NULL) {
        n->e.vlen = 0;
        return true;
    }
    if (n->e.val == NULL || vlen > n->e.cap) { /* a bigger value: new room (the old stays with its chunk) */
        uint8_t *v = take(o, vlen ? vlen : 1);
        if (v == NULL)
            return false;
        n->e.val = v;
        n->e.cap = (uint32_t)((vlen + 15) & ~(size_t)15);
    }
    memcpy(n->e.val, val, vlen);
    n->e.vlen = (uint32_t)vlen;
    o->bytes += vlen;
    return true;
}

size_t overlay_count(const overlay *o) { return o->count; }
size_t overlay_bytes(const overlay *o) { return o->bytes; }

void overlay_each(const overlay *o, void (*fn)(void *ctx, const overlay_entry *e), void *ctx)
{
    for (size_t i = 0; i < o->cap; i++)
        for (node *n = o->buckets[i]; n; n = n->next)
            fn(ctx, &n->e);
}

static int cmp_entry(const void *a, const void *b)
{
    const overlay_entry *x = *(const overlay_entry *const *)a, *y = *(const overlay_entry *const *)b;
    if (x->db != y->db)
        return x->db < y->db ? -1 : 1;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

/* Big-endian bytes [off, off + 8) of a key, zero-padded. */
static uint64_t key_word(const overlay_entry *e, size_t off)
{
    uint64_t w = 0;
    for (size_t i = 0; i < 8; i++)
        w = w << 8 | (off + i < e->klen ? e->key[off + i] : 0);
    return w;
}

typedef struct {
    uint64_t w0, w1, w2; /* db and key bytes 0..6, 7..14, 15..22: LMDB's order, but integer compares */
    const overlay_entry *e;
} sort_item;

static int cmp_item(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    if (x->w0 != y->w0)
        return x->w0 < y->w0 ? -1 : 1;
    if (x->w1 != y->w1)
        return x->w1 < y->w1 ? -1 : 1;
    if (x->w2 != y->w2)
        return x->w2 < y->w2 ? -1 : 1;
    return cmp_entry(&x->e, &y->e);
}

const overlay_entry **overlay_sorted(const overlay *o)
{
    const overlay_entry **all = malloc((o->count + 1) * sizeof *all);
    sort_item *items = malloc((o->count + 1) * sizeof *items);
    if (all == NULL || items == NULL) {
        free(all), free(items);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < o->cap; i++)
        for (node *n = o->buckets[i]; n; n = n->next) {
            items[k].w0 = (uint64_t)n->e.db << 56 | key_word(&n->e, 0) >> 8;
            items[k].w1 = key_word(&n->e, 7);
            items[k].w2 = key_word(&n->e, 15);
            items[k++].e = &n->e;
        }
    qsort(items, k, sizeof *items, cmp_item);
    for (size_t i = 0; i < k; i++)
        all[i] = items[i].e;
    free(items);
    return all;
}
