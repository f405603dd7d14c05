#include "bloom.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "chains/hash.h"

#define PROBES 7

struct bloom {
    uint64_t *bits;
    uint64_t mask; /* bit count - 1 (a power of two) */
    size_t keys, capacity;
    uint64_t seed;
};

bloom *bloom_new(size_t keys)
{
    bloom *b = calloc(1, sizeof *b);
    if (b == NULL || sodium_init() < 0) {
        free(b);
        return NULL;
    }
    uint64_t bits = 1u << 20;
    while (bits < (uint64_t)keys * 10)
        bits <<= 1;
    b->bits = aligned_alloc(64, bits / 8); /* blocks on cache lines */
    if (b->bits)
        memset(b->bits, 0, bits / 8);
    if (b->bits == NULL) {
        free(b);
        return NULL;
    }
    b->mask = bits - 1;
    b->capacity = bits / 10;
    randombytes_buf(&b->seed, sizeof b->seed);
    return b;
}

void bloom_free(bloom *b)
{
    if (b == NULL)
        return;
    free(b->bits);
    free(b);
}

/* Blocked: all probes of a key fall in one 512-bit block (one cache line),
 * so a lookup costs one cache miss, not seven, for a slightly higher false
 * positive rate. */
static uint64_t *block_of(const bloom *b, uint64_t h) { return b->bits + ((h & b->mask) >> 9 << 3); }

void bloom_add(bloom *b, const void *key, size_t len)
{
    uint64_t h = cw_hash64(b->seed, key, len), h2 = cw_mix64(h);
    uint64_t *blk = block_of(b, h);
    bool fresh = false;
    for (int i = 0; i < PROBES; i++, h2 >>= 9) {
        uint64_t bit = 1ull << (h2 & 63);
        fresh |= !(blk[(h2 >> 6) & 7] & bit);
        blk[(h2 >> 6) & 7] |= bit;
    }
    b->keys += fresh; /* a key written again (a cluster record rewritten at every merge) is no new key */
}

bool bloom_maybe(const bloom *b, const void *key, size_t len)
{
    uint64_t h = cw_hash64(b->seed, key, len), h2 = cw_mix64(h);
    const uint64_t *blk = block_of(b, h);
    for (int i = 0; i < PROBES; i++, h2 >>= 9)
        if (!(blk[(h2 >> 6) & 7] & (1ull << (h2 & 63))))
            return false;
    return true;
}

bool bloom_full(const bloom *b) { return b->keys > b->capacity; }
size_t bloom_keys(const bloom *b) { return b->keys; }
