/*
 * coins.h: the write-back cache in front of the prevout index (utxo).
 *
 * Design note. Most outputs are spent within a few blocks of their
 * creation. Writing every new output to LMDB and deleting it again a few
 * blocks later costs a put, a get and a delete (about 4.6 us together on
 * the reference machine), which caps replay near 100k tx/s. Bitcoin Core
 * puts a memory cache (dbcache) in front of its chainstate for the same
 * reason; this is the same idea, reduced to what chainwatch needs:
 *
 *   - The cache holds only outputs created inside the current write
 *     transaction and not yet written to it ("fresh" coins, in Core's
 *     words). Spending a fresh coin removes it from the cache: it never
 *     touches LMDB. Coins already in LMDB are read and deleted there
 *     directly, as before.
 *   - coins_flush() writes what is left into the transaction, in key order
 *     (fewer B-tree pages touched), just before it commits; coins_clear()
 *     drops everything when the transaction aborts. So a committed store
 *     always holds exactly the utxo set of its tip, and a crash costs
 *     nothing but the uncommitted batch.
 *
 * The table is chains/hashtab.h's (open addressing, linear probing,
 * backward-shift deletion), keyed by the 36-byte outpoint with its digest
 * hash, under a per-process random seed: the outpoints come from the
 * network, and txids ground to collide in a known hash must not turn
 * lookups quadratic.
 *
 * Ownership: the caller owns the cache (coins_new/coins_free) and pairs it
 * with one write transaction at a time; keys and values are copied in and
 * out. Not thread-safe.
 */
#ifndef CW_COINS_H
#define CW_COINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/err.h"
#include "give_way.h"
#include "watchlists/store/store.h"

#define COINS_KEY_LEN 36   /* txid (32, internal order) + vout (4, big-endian): the utxo key */
#define COINS_VALUE_MAX 64 /* an encoded coin: value(8) + address (5 + at most 40) */

typedef struct coins coins;

/* A new, empty cache. CW_ENOMEM when out of memory. */
cw_code coins_new(coins **out, cw_err *err);
/* Frees the cache and its coins (unflushed ones are lost). NULL is a no-op. */
void coins_free(coins *c);

/* Adds a coin created in the current transaction. A key already present is
 * overwritten (a duplicate txid, as BIP 30 allowed before height 227931:
 * the newer output wins, as in Core). vlen <= COINS_VALUE_MAX, else
 * CW_EARG. CW_ENOMEM when the table cannot grow. */
cw_code coins_add(coins *c, const uint8_t key[COINS_KEY_LEN], const uint8_t *val, size_t vlen, cw_err *err);

/* Finds a coin: copies it to val (COINS_VALUE_MAX bytes) and sets *vlen.
 * With `take` the coin leaves the cache (it was spent). False if absent. */
bool coins_get(coins *c, const uint8_t key[COINS_KEY_LEN], uint8_t *val, size_t *vlen, bool take);

/* Coins held, and the bytes of memory the table uses. */
size_t coins_count(const coins *c);
size_t coins_memory(const coins *c);

/* Writes every coin into the utxo database of write transaction t, in key
 * order, and empties the cache; gw (may be NULL) is ticked as the coins are
 * gathered and sorted and per coin written, so a --cpu-idle replay gives
 * way during a large batch's flush too. CW_ENOMEM (no room to sort) or store_put's error (CW_EFULL: grow,
 * redo the batch); the cache then keeps its coins, some of them written:
 * the transaction must be aborted (and the cache cleared). */
cw_code coins_flush(coins *c, store_txn *t, give_way *gw, cw_err *err);

/* Empties the cache (its transaction was aborted). */
void coins_clear(coins *c);

#endif
