#include "hashtab.h"

#include <stdlib.h>

#define MIN_CAP ((size_t)16)

static size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

static unsigned log2_of(size_t pow2)
{
    unsigned k = 0;
    while (((size_t)1 << k) < pow2)
        k++;
    return k;
}

/* Empty arrays for cap slots; false when out of memory or cap * esize
 * overflows. Slots are only read where a hash is set: no clearing. */
static bool alloc_arrays(const cw_htab *t, size_t cap, uint64_t **hashes, unsigned char **slots)
{
    *hashes = NULL;
    *slots = NULL;
    if (cap > SIZE_MAX / (t->esize > sizeof(uint64_t) ? t->esize : sizeof(uint64_t)))
        return false;
    *hashes = calloc(cap, sizeof **hashes);
    *slots = malloc(cap * t->esize); /* esize > 0: a key takes at least a byte */
    if (*hashes == NULL || *slots == NULL) {
        free(*hashes), free(*slots);
        *hashes = NULL, *slots = NULL;
        return false;
    }
    return true;
}

cw_code cw_htab_init(cw_htab *t, size_t ksize, size_t vsize, unsigned flags, uint64_t seed, size_t expected,
                     cw_err *err)
{
    memset(t, 0, sizeof *t);
    if ((flags & CW_HTAB_DIGEST) && ksize < 24)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "a digest-keyed table needs keys of 24 bytes or more, not %zu",
                          ksize);
    if (flags & ~CW_HTAB_DIGEST)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "unknown hash table flags 0x%x", flags);
    if (ksize > SIZE_MAX / 4 || vsize > SIZE_MAX / 4)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "hash table entries of %zu + %zu bytes", ksize, vsize);
    /* The value's alignment: a type's size is a multiple of its alignment,
     * so the largest power of two (up to 8) dividing vsize suffices. */
    size_t valign = vsize ? vsize & (~vsize + 1) : 1;
    if (valign > 8)
        valign = 8;
    size_t kbytes = ksize ? ksize : sizeof(cw_htab_ref), kalign = ksize ? 1 : _Alignof(cw_htab_ref);
    t->ksize = ksize;
    t->vsize = vsize;
    t->flags = flags;
    t->voff = round_up(kbytes, valign);
    t->esize = round_up(t->voff + vsize, valign > kalign ? valign : kalign);
    t->seed[0] = seed;
    t->seed[1] = cw_mix64(seed ^ 0x9e3779b97f4a7c15ull);
    size_t cap = MIN_CAP;
    while (cap * 7 / 10 < expected) {
        if (cap > SIZE_MAX / 4) {
            memset(t, 0, sizeof *t);
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "a hash table for %zu entries does not fit in memory",
                              expected);
        }
        cap *= 2;
    }
    if (!alloc_arrays(t, cap, &t->hashes, &t->slots)) {
        memset(t, 0, sizeof *t);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory for a hash table of %zu entries", cap);
    }
    t->cap = cap;
    t->shift = 64 - log2_of(cap);
    return CW_OK;
}

void cw_htab_free(cw_htab *t)
{
    free(t->hashes);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

void cw_htab_clear(cw_htab *t)
{
    if (t->count == 0)
        return;
    memset(t->hashes, 0, t->cap * sizeof *t->hashes);
    t->count = 0;
}

cw_code cw_htab_grow(cw_htab *t, cw_err *err)
{
    size_t cap = t->cap * 2;
    uint64_t *hashes;
    unsigned char *slots;
    if (t->cap == 0 || cap / 2 != t->cap || !alloc_arrays(t, cap, &hashes, &slots))
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory growing a hash table to %zu entries", cap);
    unsigned shift = t->shift - 1;
    size_t mask = cap - 1;
    for (size_t j = 0; j < t->cap; j++) {
        uint64_t h = t->hashes[j];
        if (h == 0)
            continue;
        size_t i = (size_t)(h >> shift);
        while (hashes[i])
            i = (i + 1) & mask;
        hashes[i] = h;
        memcpy(slots + i * t->esize, t->slots + j * t->esize, t->esize);
    }
    free(t->hashes);
    free(t->slots);
    t->hashes = hashes;
    t->slots = slots;
    t->cap = cap;
    t->shift = shift;
    return CW_OK;
}
