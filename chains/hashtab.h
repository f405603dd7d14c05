/*
 * hashtab.h: the one in-memory hash table (the prevout cache, the write-back
 * overlay, labels, the importers' dedupe indexes).
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones: a table that sees as many deletes as inserts, like the
 * prevout cache, never degrades). Each slot holds the key (or a reference
 * to it) and a fixed-size value the caller lays out. The 64-bit hashes sit
 * in their own array, 8 per cache line: a probe reads them and touches a
 * slot only on a full hash match, which matters when the table is far
 * bigger than the CPU caches. The hot operations are inline so a caller
 * with a constant key size pays no call per probe.
 *
 * Keys, fixed at cw_htab_init:
 *   - ksize > 0: every key is exactly ksize bytes, copied into the slot.
 *   - ksize == 0: byte strings of any length, held BY REFERENCE: the table
 *     keeps the pointer given to cw_htab_put and compares contents. The
 *     caller owns those bytes and must keep them alive and unchanged while
 *     the entry is in the table (the users keep them in their own pools).
 * Hash (cw_htab_hash), one per table:
 *   - default: cw_hash64 (chains/hash.h) over the whole key, with the seed.
 *   - CW_HTAB_DIGEST: for fixed keys of at least 24 bytes that start with 16
 *     bytes of a cryptographic hash (txids): two parallel mixes of those 16
 *     bytes and the key's last 8 bytes (the vout of an outpoint), about a
 *     third of cw_hash64's work on a 36-byte key. Keys equal in those 24
 *     bytes all collide: only worth it where nobody can choose them without
 *     breaking the digest (and the secret seed).
 * Seed: give a secret random one (libsodium's randombytes) where keys come
 * from outside, so nobody can pick keys that collide and make probes long
 * (watchlists/htab_secret.h draws one and sets the table up with it);
 * chains/ has no randomness of its own.
 *
 * Values: vsize bytes per entry, aligned for any type whose size is vsize
 * (the largest power of two up to 8 dividing vsize). A new entry's value is
 * zeroed. Pointers to values and keys, and positions, stay valid only until
 * the next put or delete (growth and deletion move entries).
 *
 * Growth: the capacity is a power of two, doubled before an insert would
 * take the load above 0.7. If that allocation fails, cw_htab_put returns
 * CW_ENOMEM and the table is unchanged (the key is not added): never a
 * silent drop. Memory is freed only by cw_htab_free; cw_htab_clear keeps
 * the capacity.
 *
 * Iteration (cw_htab_next) is in slot order: it depends on the seed, so it
 * is no order callers may rely on; no put or delete during it.
 *
 * Pure: no I/O, no globals; allocation only in init and growth.
 */
#ifndef CW_HASHTAB_H
#define CW_HASHTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "hash.h"

/* A key held by reference (tables with ksize 0). */
typedef struct {
    const void *p;
    size_t n;
} cw_htab_ref;

#define CW_HTAB_DIGEST 1u /* flag: keys start with a cryptographic digest (above) */
#define CW_HTAB_NONE SIZE_MAX /* no position */

typedef struct {
    uint64_t *hashes;     /* per slot: 0 empty, else the key's hash with bit 0 set */
    unsigned char *slots; /* cap slots of esize bytes: the key (or a cw_htab_ref), then the value */
    size_t cap, count;    /* cap: a power of two */
    unsigned shift;       /* a key's home slot is hash >> shift (the high bits) */
    unsigned flags;
    size_t ksize, vsize, voff, esize;
    uint64_t seed[2];
} cw_htab;

/* Sets up an empty table for at least `expected` entries before its first
 * growth. ksize: the key size (0: byte strings by reference); vsize: the
 * value size (may be 0: a set); flags: 0 or CW_HTAB_DIGEST. Refuses with
 * CW_EARG: CW_HTAB_DIGEST with ksize < 24, any other flag, a key or value
 * size above SIZE_MAX / 4; CW_ENOMEM when out of memory.
 * On failure *t is left empty (cw_htab_free is safe on it). */
cw_code cw_htab_init(cw_htab *t, size_t ksize, size_t vsize, unsigned flags, uint64_t seed, size_t expected,
                     cw_err *err);
/* Frees the table's memory (not referenced keys); *t is left empty. */
void cw_htab_free(cw_htab *t);
/* Removes every entry; keeps the capacity. */
void cw_htab_clear(cw_htab *t);
/* Doubles the capacity now (cw_htab_put does it when needed). CW_ENOMEM
 * leaves the table as it was (also the code for a table never
 * initialised, or a capacity that would overflow). */
cw_code cw_htab_grow(cw_htab *t, cw_err *err);

static inline size_t cw_htab_count(const cw_htab *t) { return t->count; }
/* Bytes the table's arrays take (not referenced keys). */
static inline size_t cw_htab_memory(const cw_htab *t) { return t->cap * (t->esize + sizeof(uint64_t)); }

/* The hash of a key, as the table uses it (always odd: 0 marks an empty slot). */
static inline uint64_t cw_htab_hash(const cw_htab *t, const void *key, size_t klen)
{
    if ((t->flags & CW_HTAB_DIGEST) && klen >= 24) { /* always >= 24 there: init refuses less */
        const unsigned char *k = key;
        uint64_t a, b, c;
        memcpy(&a, k, 8);
        memcpy(&b, k + 8, 8);
        memcpy(&c, k + klen - 8, 8);
        return (cw_mix64(a ^ t->seed[0]) ^ cw_mix64(b ^ c ^ t->seed[1])) | 1;
    }
    return cw_hash64(t->seed[0], key, klen) | 1;
}

static inline unsigned char *cw_htab_slot_(const cw_htab *t, size_t pos) { return t->slots + pos * t->esize; }

/* klen rather than t->ksize (the callers checked they are equal): a caller
 * with a constant key size gets an inlined compare. */
static inline bool cw_htab_eq_(const cw_htab *t, const unsigned char *slot, const void *key, size_t klen)
{
    if (t->ksize)
        return memcmp(slot, key, klen) == 0;
    const cw_htab_ref *r = (const cw_htab_ref *)(const void *)slot;
    return r->n == klen && memcmp(r->p, key, klen) == 0;
}

/* The position of key, or CW_HTAB_NONE when absent (also for a key of the
 * wrong size in a fixed-key table, and in an empty or uninitialised one). */
static inline size_t cw_htab_find(const cw_htab *t, const void *key, size_t klen)
{
    if (t->count == 0 || (t->ksize && klen != t->ksize))
        return CW_HTAB_NONE;
    uint64_t h = cw_htab_hash(t, key, klen);
    size_t mask = t->cap - 1;
    for (size_t i = (size_t)(h >> t->shift);; i = (i + 1) & mask) {
        uint64_t s = t->hashes[i];
        if (s == 0)
            return CW_HTAB_NONE;
        if (s == h && cw_htab_eq_(t, cw_htab_slot_(t, i), key, klen))
            return i;
    }
}

/* The value at a position from cw_htab_find, cw_htab_put or cw_htab_next. */
static inline void *cw_htab_val(const cw_htab *t, size_t pos) { return cw_htab_slot_(t, pos) + t->voff; }

/* The key at a position; *klen gets its length. */
static inline const void *cw_htab_key(const cw_htab *t, size_t pos, size_t *klen)
{
    const unsigned char *s = cw_htab_slot_(t, pos);
    if (t->ksize) {
        *klen = t->ksize;
        return s;
    }
    const cw_htab_ref *r = (const cw_htab_ref *)(const void *)s;
    *klen = r->n;
    return r->p;
}

/* The value of key, or NULL when absent. */
static inline void *cw_htab_get(const cw_htab *t, const void *key, size_t klen)
{
    size_t pos = cw_htab_find(t, key, klen);
    return pos == CW_HTAB_NONE ? NULL : cw_htab_val(t, pos);
}

/* Finds key or adds it (with a zeroed value): *val gets the value's
 * address, *added (may be NULL) whether the key is new. A new key of a
 * ksize-0 table is kept by reference: `key` itself must outlive the entry.
 * CW_EARG for a key of the wrong size; CW_ENOMEM when the table had to grow
 * and could not (nothing added, the table unchanged); CW_EARG for a table
 * not initialised. */
static inline cw_code cw_htab_put(cw_htab *t, const void *key, size_t klen, void **val, bool *added, cw_err *err)
{
    if (t->cap == 0)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "a hash table used before cw_htab_init");
    if (t->ksize && klen != t->ksize)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "a %zu-byte key for a table of %zu-byte keys", klen, t->ksize);
    uint64_t h = cw_htab_hash(t, key, klen);
    size_t mask = t->cap - 1, i = (size_t)(h >> t->shift);
    for (;; i = (i + 1) & mask) {
        uint64_t s = t->hashes[i];
        if (s == 0)
            break;
        if (s == h && cw_htab_eq_(t, cw_htab_slot_(t, i), key, klen)) {
            *val = cw_htab_val(t, i);
            if (added)
                *added = false;
            return CW_OK;
        }
    }
    if ((t->count + 1) * 10 > t->cap * 7) { /* load <= 0.7 keeps probes short */
        cw_code rc = cw_htab_grow(t, err);
        if (rc)
            return rc;
        mask = t->cap - 1;
        for (i = (size_t)(h >> t->shift); t->hashes[i]; i = (i + 1) & mask)
            ;
    }
    unsigned char *s = cw_htab_slot_(t, i);
    if (t->ksize)
        memcpy(s, key, klen);
    else
        *(cw_htab_ref *)(void *)s = (cw_htab_ref){key, klen};
    memset(s + t->voff, 0, t->vsize);
    t->hashes[i] = h;
    t->count++;
    *val = s + t->voff;
    if (added)
        *added = true;
    return CW_OK;
}

/* Removes the entry at pos (from cw_htab_find). Later entries of its probe
 * run move back so no lookup stops early at the hole. */
static inline void cw_htab_delete_at(cw_htab *t, size_t pos)
{
    size_t mask = t->cap - 1, i = pos;
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        uint64_t hj = t->hashes[j];
        if (hj == 0)
            break;
        size_t home = (size_t)(hj >> t->shift);
        /* j's entry may fill the hole at i unless its home lies in (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            t->hashes[i] = hj;
            memcpy(cw_htab_slot_(t, i), cw_htab_slot_(t, j), t->esize);
            i = j;
        }
    }
    t->hashes[i] = 0;
    t->count--;
}

/* Removes key; false when it was absent. */
static inline bool cw_htab_del(cw_htab *t, const void *key, size_t klen)
{
    size_t pos = cw_htab_find(t, key, klen);
    if (pos == CW_HTAB_NONE)
        return false;
    cw_htab_delete_at(t, pos);
    return true;
}

/* The first occupied position at or after pos, or CW_HTAB_NONE:
 *   for (size_t i = cw_htab_next(t, 0); i != CW_HTAB_NONE; i = cw_htab_next(t, i + 1)) */
static inline size_t cw_htab_next(const cw_htab *t, size_t pos)
{
    for (; pos < t->cap; pos++)
        if (t->hashes[pos])
            return pos;
    return CW_HTAB_NONE;
}

#endif
