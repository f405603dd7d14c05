#include "bloom.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define PROBES 7

struct bloom {
    uint64_t *bits;
    uint64_t mask; /* bit count - 1 (a power of two) */
    size_t keys, capacity;
    uint64_t seed;
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30, x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27, x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Eight bytes at a time through a full mix: keys are hashes and addresses. */
static uint64_t hash(const bloom *b, const uint8_t *p, size_t n)
{
    uint64_t h = b->seed ^ (n * 0x9e3779b97f4a7c15ull);
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix64(h ^ w);
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    return mix64(h ^ w ^ 0xff);
}

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
    b->bits = calloc(bits / 64, sizeof *b->bits);
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

void bloom_add(bloom *b, const void *key, size_t len)
{
    uint64_t h = hash(b, key, len), h2 = mix64(h) | 1;
    for (int i = 0; i < PROBES; i++, h += h2)
        b->bits[(h & b->mask) >> 6] |= 1ull << (h & 63);
    b->keys++;
}

bool bloom_maybe(const bloom *b, const void *key, size_t len)
{
    uint64_t h = hash(b, key, len), h2 = mix64(h) | 1;
    for (int i = 0; i < PROBES; i++, h += h2)
        if (!(b->bits[(h & b->mask) >> 6] & (1ull << (h & 63))))
            return false;
    return true;
}

bool bloom_full(const bloom *b) { return b->keys > b->capacity; }
size_t bloom_keys(const bloom *b) { return b->keys; }
