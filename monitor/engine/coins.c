#include "coins.h"

#include <stdlib.h>
#include <string.h>

#include "chains/hashtab.h"
#include "chains/sort.h"
#include "watchlists/htab_secret.h"
#include "watchlists/chaindb.h"

/* An entry's value: the encoded coin. */
typedef struct {
    uint8_t vlen;
    uint8_t val[COINS_VALUE_MAX];
} coin;

struct coins {
    cw_htab t; /* outpoint -> coin */
};

#define INITIAL_ENTRIES ((size_t)45000) /* a first table of 2^16 slots */

cw_code coins_new(coins **out, cw_err *err)
{
    coins *c = calloc(1, sizeof *c);
    if (c == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory for the prevout cache");
    /* txids are hashes, but anyone can grind txids whose bits collide in a
     * known hash: the seed is secret. The digest hash reads 24 of the 36
     * bytes (the cache is probed four times per tx). */
    if (htab_secret_init(&c->t, COINS_KEY_LEN, sizeof(coin), CW_HTAB_DIGEST, INITIAL_ENTRIES, err)) {
        free(c);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory for the prevout cache");
    }
    *out = c;
    return CW_OK;
}

void coins_free(coins *c)
{
    if (c == NULL)
        return;
    cw_htab_free(&c->t);
    free(c);
}

cw_code coins_add(coins *c, const uint8_t key[COINS_KEY_LEN], const uint8_t *val, size_t vlen, cw_err *err)
{
    if (vlen > COINS_VALUE_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "a %zu-byte coin does not fit the prevout cache", vlen);
    void *v = NULL;
    if (cw_htab_put(&c->t, key, COINS_KEY_LEN, &v, NULL, err))
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory growing the prevout cache to %zu entries",
                          c->t.cap * 2);
    coin *s = v;
    s->vlen = (uint8_t)vlen;
    memcpy(s->val, val, vlen);
    return CW_OK;
}

bool coins_get(coins *c, const uint8_t key[COINS_KEY_LEN], uint8_t *val, size_t *vlen, bool take)
{
    size_t pos = cw_htab_find(&c->t, key, COINS_KEY_LEN);
    if (pos == CW_HTAB_NONE)
        return false;
    const coin *s = cw_htab_val(&c->t, pos);
    memcpy(val, s->val, s->vlen);
    *vlen = s->vlen;
    if (take)
        cw_htab_delete_at(&c->t, pos);
    return true;
}

size_t coins_count(const coins *c) { return cw_htab_count(&c->t); }
size_t coins_memory(const coins *c) { return cw_htab_memory(&c->t); }

typedef struct {
    const uint8_t *key;
    const coin *v;
} flush_item;

static int cmp_item(const void *a, const void *b)
{
    return memcmp(((const flush_item *)a)->key, ((const flush_item *)b)->key, COINS_KEY_LEN);
}

cw_code coins_flush(coins *c, store_txn *t, give_way *gw, cw_err *err)
{
    size_t count = cw_htab_count(&c->t);
    if (count == 0)
        return CW_OK;
    flush_item *order = malloc(count * sizeof *order);
    if (order == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory flushing %zu cached coins", count);
    size_t n = 0, klen;
    for (size_t i = cw_htab_next(&c->t, 0); i != CW_HTAB_NONE; i = cw_htab_next(&c->t, i + 1)) {
        order[n++] = (flush_item){cw_htab_key(&c->t, i, &klen), cw_htab_val(&c->t, i)};
        if ((n & 255u) == 0)
            give_way_tick(gw); /* a walk over millions of slots: 20 ms and more */
    }
    /* key order: neighbouring puts share B-tree pages */
    /* giving way as it goes: sorting a large batch's coins takes 100-200
     * ms, too long for a --cpu-idle replay to hold a CPU */
    cw_sort_ticking(order, n, sizeof *order, cmp_item, gw && gw->on ? give_way_tick_ctx : NULL, gw);
    cw_code rc = CW_OK;
    for (size_t i = 0; i < n && rc == CW_OK; i++) {
        rc = chaindb_coin_put(t, order[i].key, order[i].v->val, order[i].v->vlen, err);
        give_way_tick(gw);
    }
    free(order);
    if (rc == CW_OK)
        coins_clear(c);
    return rc;
}

/* The table stays this size: the next batch needs it too. */
void coins_clear(coins *c) { cw_htab_clear(&c->t); }
