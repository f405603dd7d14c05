#include "overlay.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "chains/hashtab.h"
#include "chains/sort.h"

/* An entry and its key bytes, in one piece of a chunk: they never move, so
 * the tables hold the key by reference and the entry by pointer. */
typedef struct node {
    overlay_entry e;
    uint8_t key[];
} node;

/* Nodes and values come from big chunks, freed together: a batch makes
 * hundreds of thousands of them and frees them all at its commit. */
typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    uint8_t mem[];
} chunk;

/* One table per database (key -> node *), made at its first write. */
struct overlay {
    cw_htab *db[256];
    size_t count, bytes;
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

overlay *overlay_new(void)
{
    overlay *o = calloc(1, sizeof *o);
    if (o == NULL || sodium_init() < 0) {
        free(o);
        return NULL;
    }
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
    for (size_t i = 0; i < 256; i++)
        if (o->db[i]) {
            cw_htab_free(o->db[i]);
            free(o->db[i]);
        }
    free(o);
}

const overlay_entry *overlay_find(const overlay *o, uint8_t db, const void *key, size_t klen)
{
    if (o->db[db] == NULL)
        return NULL;
    node *const *n = cw_htab_get(o->db[db], key, klen);
    return n ? &(*n)->e : NULL;
}

bool overlay_set(overlay *o, uint8_t db, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (klen > 0xffff || vlen > 0xffffffffu)
        return false;
    cw_htab *t = o->db[db];
    if (t == NULL) {
        if ((t = malloc(sizeof *t)) == NULL)
            return false;
        if (cw_htab_init(t, 0, sizeof(node *), 0, o->seed ^ ((uint64_t)db << 56), 1024, NULL)) {
            free(t);
            return false;
        }
        o->db[db] = t;
    }
    node *n, **slot = cw_htab_get(t, key, klen);
    if (slot)
        n = *slot;
    else {
        /* the node first: the table holds its key bytes by reference */
        if ((n = take(o, sizeof *n + klen)) == NULL)
            return false;
        memcpy(n->key, key, klen);
        void *v = NULL;
        if (cw_htab_put(t, n->key, klen, &v, NULL, NULL))
            return false; /* the node stays unused in its chunk, freed with it */
        *(node **)v = n;
        n->e.db = db;
        n->e.klen = (uint16_t)klen;
        n->e.key = n->key;
        n->e.val = NULL;
        n->e.vlen = 0;
        n->e.cap = 0;
        o->count++;
        o->bytes += sizeof *n + klen + t->esize;
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
    for (size_t d = 0; d < 256; d++) {
        const cw_htab *t = o->db[d];
        for (size_t i = t ? cw_htab_next(t, 0) : CW_HTAB_NONE; i != CW_HTAB_NONE; i = cw_htab_next(t, i + 1))
            fn(ctx, &(*(node *const *)cw_htab_val(t, i))->e);
    }
}

static int cmp_entry(const void *a, const void *b)
{
    const overlay_entry *x = *(const overlay_entry *const *)a, *y = *(const overlay_entry *const *)b;
    if (x->db != y->db)
        return x->db < y->db ? -1 : 1;
    return cw_bytes_cmp(x->key, x->klen, y->key, y->klen);
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

const overlay_entry **overlay_sorted(const overlay *o, void (*tick)(void *ctx), void *ctx)
{
    const overlay_entry **all = malloc((o->count + 1) * sizeof *all);
    sort_item *items = malloc((o->count + 1) * sizeof *items);
    if (all == NULL || items == NULL) {
        free(all), free(items);
        return NULL;
    }
    size_t k = 0;
    for (size_t d = 0; d < 256; d++) {
        const cw_htab *t = o->db[d];
        for (size_t i = t ? cw_htab_next(t, 0) : CW_HTAB_NONE; i != CW_HTAB_NONE; i = cw_htab_next(t, i + 1)) {
            const node *n = *(node *const *)cw_htab_val(t, i);
            items[k].w0 = (uint64_t)n->e.db << 56 | key_word(&n->e, 0) >> 8;
            items[k].w1 = key_word(&n->e, 7);
            items[k].w2 = key_word(&n->e, 15);
            items[k++].e = &n->e;
            if (tick && (k & 255u) == 0)
                tick(ctx);
        }
    }
    cw_sort_ticking(items, k, sizeof *items, cmp_item, tick, ctx);
    for (size_t i = 0; i < k; i++)
        all[i] = items[i].e;
    free(items);
    return all;
}
