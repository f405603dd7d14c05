#include "overlay.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct node {
    struct node *next;
    uint64_t hash;
    ovl_entry e;
} node;

struct overlay {
    node **buckets;
    size_t cap, count, bytes;
    uint64_t seed;
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30, x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27, x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t hash(const overlay *o, uint8_t db, const uint8_t *p, size_t n)
{
    uint64_t h = o->seed ^ ((uint64_t)db << 56) ^ n;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix64(h ^ w);
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    return mix64(h ^ w ^ 0xa5);
}

overlay *ovl_new(void)
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

void ovl_free(overlay *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->cap; i++)
        for (node *n = o->buckets[i], *next; n; n = next) {
            next = n->next;
            free(n->e.val);
            free(n);
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

const ovl_entry *ovl_find(const overlay *o, uint8_t db, const void *key, size_t klen)
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

bool ovl_set(overlay *o, uint8_t db, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (klen > 0xffff || vlen > 0xffffffffu)
        return false;
    uint64_t h = hash(o, db, key, klen);
    node *n = find(o, db, key, klen, h);
    if (n == NULL) {
        if (o->count >= o->cap)
            grow(o);
        if ((n = malloc(sizeof *n + klen)) == NULL)
            return false;
        n->hash = h;
        n->e.db = db;
        n->e.klen = (uint16_t)klen;
        n->e.key = (uint8_t *)(n + 1);
        memcpy(n->e.key, key, klen);
        n->e.val = NULL;
        n->e.vlen = 0;
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
    if (vlen > n->e.vlen || n->e.val == NULL) {
        uint8_t *v = realloc(n->e.val, vlen ? vlen : 1);
        if (v == NULL)
            return false;
        n->e.val = v;
    }
    memcpy(n->e.val, val, vlen);
    n->e.vlen = (uint32_t)vlen;
    o->bytes += vlen;
    return true;
}

size_t ovl_count(const overlay *o) { return o->count; }
size_t ovl_bytes(const overlay *o) { return o->bytes; }

void ovl_each(const overlay *o, void (*fn)(void *ctx, const ovl_entry *e), void *ctx)
{
    for (size_t i = 0; i < o->cap; i++)
        for (node *n = o->buckets[i]; n; n = n->next)
            fn(ctx, &n->e);
}

static int cmp_entry(const void *a, const void *b)
{
    const ovl_entry *x = *(const ovl_entry *const *)a, *y = *(const ovl_entry *const *)b;
    if (x->db != y->db)
        return x->db < y->db ? -1 : 1;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

const ovl_entry **ovl_sorted(const overlay *o)
{
    const ovl_entry **all = malloc((o->count + 1) * sizeof *all);
    if (all == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < o->cap; i++)
        for (node *n = o->buckets[i]; n; n = n->next)
            all[k++] = &n->e;
    qsort(all, k, sizeof *all, cmp_entry);
    return all;
}
