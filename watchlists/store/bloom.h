/*
 * bloom.h: a Bloom filter over byte keys: "certainly absent" or "maybe".
 *
 * Design note.
 *
 * Why. The store puts one in front of databases that are mostly asked
 * about keys they do not hold (wl_addr: almost no address is listed;
 * clusters, taint: most addresses were never merged and most outputs carry
 * no designated money), so those reads skip the B-tree. About 10 bits a
 * key and 7 probes in one 512-bit block (one cache miss a lookup) keep
 * false positives near 1%.
 *
 * What an error costs. A false positive ("maybe" for an absent key) costs
 * one LMDB read that finds nothing: time, never a wrong answer. A false
 * negative ("absent" for a key the store holds) would be a listed address
 * screened as clean, so the store (store.c) keeps one rule above all:
 * the filter holds a superset of the database's keys.
 *   - Every put adds its key first, before LMDB answers and whether the
 *     transaction later commits or aborts (an extra key only costs a read).
 *   - Deletes never remove keys (a Bloom filter cannot): stale keys only
 *     cost reads until the next rebuild.
 *   - A filter built from a walk that hit a read error, or that could not
 *     get memory, is not used: no filter is slower, never wrong.
 *   - A filter only fronts a database this process alone writes (clusters,
 *     taint), or wl_addr, which imports in other processes change: there
 *     it is checked against a fingerprint of wl_meta once per transaction
 *     and rebuilt (or dropped) when an import happened.
 *
 * Rebuild rules. bloom_full() says the filter holds more distinct keys
 * than it was sized for (its false positives climb past ~1%). store_get
 * then rebuilds it twice as big from every key the asking transaction
 * sees (LMDB plus its pending write-back writes), unless that transaction
 * deleted keys of the database straight in LMDB (an abort would bring them
 * back, missing from the new filter): the old filter stays until a later
 * transaction rebuilds. A rebuild that fails keeps the old filter.
 *
 * The hash is seeded per filter from libsodium's random bytes, so keys
 * chosen by others cannot be made to collide. Not thread-safe: adds and
 * lookups on one filter come from one thread (the store's).
 */
#ifndef CW_BLOOM_H
#define CW_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bloom bloom;

/* A filter sized for `keys` keys (10 bits a key, rounded up to a power of
 * two, at least 1M bits); NULL when out of memory or libsodium fails.
 * Free it with bloom_free (NULL is a no-op). */
bloom *bloom_new(size_t keys);
void bloom_free(bloom *b);
/* Adds len bytes of key (not kept). Never fails. */
void bloom_add(bloom *b, const void *key, size_t len);
/* False: the key was never added. True: it may have been. */
bool bloom_maybe(const bloom *b, const void *key, size_t len);
/* True once more keys were added than it was sized for (a key added again
 * does not count; nor, rarely, a new one whose bits were all set). */
bool bloom_full(const bloom *b);
/* Distinct keys added, as counted for bloom_full. */
size_t bloom_keys(const bloom *b);

#endif
