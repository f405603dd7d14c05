/*
 * bloom.h: a Bloom filter over byte keys: "certainly absent" or "maybe".
 *
 * The store puts one in front of databases that are mostly asked about
 * keys they do not hold (clusters, taint: most addresses were never merged
 * and most outputs carry no designated money), so those reads skip the
 * B-tree. About 10 bits a key keep false positives near 1%; the filter
 * reports when it holds more keys than that, and its owner rebuilds it
 * bigger. The hash is seeded per process.
 */
#ifndef CW_BLOOM_H
#define CW_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bloom bloom;

/* A filter sized for `keys` keys (at least 1M bits); NULL when out of memory. */
bloom *bloom_new(size_t keys);
void bloom_free(bloom *b);
void bloom_add(bloom *b, const void *key, size_t len);
/* False: the key was never added. */
bool bloom_maybe(const bloom *b, const void *key, size_t len);
/* True once more keys were added than it was sized for (a key added again
 * does not count; nor, rarely, a new one whose bits were all set). */
bool bloom_full(const bloom *b);
size_t bloom_keys(const bloom *b);

#endif
