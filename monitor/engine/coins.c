#include "coins.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "chains/buf.h"
#include "watchlists/chaindb.h"

typedef struct {
    uint8_t key[COINS_KEY_LEN];
    uint8_t vlen;
    uint8_t val[COINS_VALUE_MAX];
} slot;

/* Probes walk `hashes` (8 per cache line), and touch a slot only on a full
 * hash match: the table is far bigger than the CPU caches, so each line
 * read is a miss. */
struct coins {
    uint64_t *hashes; /* 0: empty; kept so moves need no rehash */
    slot *slots;
    size_t cap; /* a power of two */
    size_t count;
    uint64_t seed[2];
};

#define INITIAL_CAP ((size_t)1 << 16)

/* txids are hashes, but anyone can grind txids whose low bits collide; a
 * secret seed through a full 64-bit mix takes that away at a fraction of
 * SipHash's cost (the cache is probed four times per tx). */
static uint64_t hash_key(const coins *c, const uint8_t key[COINS_KEY_LEN])
{
    uint64_t a, b, v;
    memcpy(&a, key, 8);
    memcpy(&b, key + 8, 8);
    v = (uint64_t)key[32] << 24 | (uint64_t)key[33] << 16 | (uint64_t)key[34] << 8 | key[35];
    return (cw_mix64(a ^ c->seed[0]) ^ cw_mix64(b ^ c->seed[1] ^ (v << 1))) | 1;
}

static bool alloc_table(coins *c, size_t cap);

cw_code coins_new(coins **out, cw_err *err)
{
    coins *c = calloc(1, sizeof *c);
    if (c == NULL || sodium_init() < 0 || !alloc_table(c, INITIAL_CAP)) {
        free(c);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory for the prevout cache");
    }
    randombytes_buf(c->seed, sizeof c->seed); /* libsodium: the OS's CSPRNG */
    *out = c;
    return CW_OK;
}

void coins_free(coins *c)
{
    if (c == NULL)
        return;
    free(c->hashes);
    free(c->slots);
    free(c);
}

static slot *find(const coins *c, const uint8_t key[COINS_KEY_LEN], uint64_t h)
{
    for (size_t i = (size_t)h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        if (c->hashes[i] == 0)
            return NULL;
        if (c->hashes[i] == h && memcmp(c->slots[i].key, key, COINS_KEY_LEN) == 0)
            return &c->slots[i];
    }
}

static void insert(coins *c, uint64_t h, const slot *in)
{
    size_t i = (size_t)h & (c->cap - 1);
    while (c->hashes[i])
        i = (i + 1) & (c->cap - 1);
    c->hashes[i] = h;
    c->slots[i] = *in;
}

/* Allocates an empty table of cap entries (slots are only read where a
 * hash is set, so they need no clearing). */
static bool alloc_table(coins *c, size_t cap)
{
    uint64_t *h = calloc(cap, sizeof *h);
    slot *s = malloc(cap * sizeof *s);
    if (h == NULL || s == NULL) {
        free(h), free(s);
        return false;
    }
    c->hashes = h;
    c->slots = s;
    c->cap = cap;
    return true;
}

static cw_code grow(coins *c, cw_err *err)
{
    slot *old = c->slots;
    uint64_t *old_h = c->hashes;
    size_t old_cap = c->cap;
    if (!alloc_table(c, old_cap * 2))
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory growing the prevout cache to %zu entries",
                          old_cap * 2);
    for (size_t i = 0; i < old_cap; i++)
        if (old_h[i])
            insert(c, old_h[i], &old[i]);
    free(old);
    free(old_h);
    return CW_OK;
}

cw_code coins_add(coins *c, const uint8_t key[COINS_KEY_LEN], const uint8_t *val, size_t vlen, cw_err *err)
{
    if (vlen > COINS_VALUE_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "a %zu-byte coin does not fit the prevout cache", vlen);
    uint64_t h = hash_key(c, key);
    slot *s = find(c, key, h);
    if (s == NULL) {
        if ((c->count + 1) * 10 > c->cap * 7) { /* load <= 0.7 keeps probes short */
            cw_code rc = grow(c, err);
            if (rc)
                return rc;
        }
        slot n;
        memcpy(n.key, key, COINS_KEY_LEN);
        n.vlen = (uint8_t)vlen;
        memcpy(n.val, val, vlen);
        insert(c, h, &n);
        c->count++;
        return CW_OK;
    }
    s->vlen = (uint8_t)vlen;
    memcpy(s->val, val, vlen);
    return CW_OK;
}

/* Backward-shift deletion: later slots of the probe run move up so that no
 * lookup ever stops early at the hole. */
static void remove_at(coins *c, size_t i)
{
    size_t mask = c->cap - 1;
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        if (c->hashes[j] == 0)
            break;
        size_t home = (size_t)c->hashes[j] & mask;
        /* j's entry may fill the hole at i if its home is not in (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            c->hashes[i] = c->hashes[j];
            c->slots[i] = c->slots[j];
            i = j;
        }
    }
    c->hashes[i] = 0;
    c->count--;
}

bool coins_get(coins *c, const uint8_t key[COINS_KEY_LEN], uint8_t *val, size_t *vlen, bool take)
{
    slot *s = find(c, key, hash_key(c, key));
    if (s == NULL)
        return false;
    memcpy(val, s->val, s->vlen);
    *vlen = s->vlen;
    if (take)
        remove_at(c, (size_t)(s - c->slots));
    return true;
}

size_t coins_count(const coins *c) { return c->count; }
size_t coins_memory(const coins *c) { return c->cap * (sizeof(slot) + sizeof(uint64_t)); }

static int cmp_slot_ptr(const void *a, const void *b)
{
    const slot *x = *(const slot *const *)a, *y = *(const slot *const *)b;
    return memcmp(x->key, y->key, COINS_KEY_LEN);
}

cw_code coins_flush(coins *c, store_txn *t, cw_err *err)
{
    if (c->count == 0)
        return CW_OK;
    const slot **order = malloc(c->count * sizeof *order);
    if (order == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory flushing %zu cached coins", c->count);
    size_t n = 0;
    for (size_t i = 0; i < c->cap; i++)
        if (c->hashes[i])
            order[n++] = &c->slots[i];
    qsort(order, n, sizeof *order, cmp_slot_ptr); /* key order: neighbouring puts share B-tree pages */
    cw_code rc = CW_OK;
    for (size_t i = 0; i < n && rc == CW_OK; i++)
        rc = chaindb_coin_put(t, order[i]->key, order[i]->val, order[i]->vlen, err);
    free(order);
    if (rc == CW_OK)
        coins_clear(c);
    return rc;
}

void coins_clear(coins *c)
{
    if (c->count == 0)
        return;
    memset(c->hashes, 0, c->cap * sizeof *c->hashes); /* the table stays this size: the next batch needs it too */
    c->count = 0;
}
