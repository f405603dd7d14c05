/*
 * labels.c: the labels CSV (see labels.h) into a hash table (hashtab.h)
 * keyed by watchlist key. Labels, their strings and the keys live in a
 * chunked pool, so pointers handed out stay put while the table grows, and
 * freeing is one walk over the chunks.
 */
#include "labels.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chains/addr.h"
#include "chains/hashtab.h"
#include "htab_secret.h"
#include "csv.h"
#include "watchlist.h"

/* ---------- pool ---------- */

#define POOL_CHUNK (64 * 1024)

typedef struct chunk {
    struct chunk *prev;
    size_t used, cap;
    max_align_t data[]; /* aligned for any label */
} chunk;

static void *pool_alloc(chunk **pool, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    chunk *c = *pool;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > POOL_CHUNK ? n : POOL_CHUNK;
        c = malloc(sizeof *c + cap);
        if (c == NULL)
            return NULL;
        c->prev = *pool;
        c->used = 0;
        c->cap = cap;
        *pool = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static const char *pool_str(chunk **pool, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = pool_alloc(pool, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static void pool_free(chunk *c)
{
    while (c) {
        chunk *prev = c->prev;
        free(c);
        c = prev;
    }
}

/* ---------- the index ---------- */

#define KEY_MAX (6 + CW_ADDR_PAYLOAD_MAX) /* wl_key_from_addr of a decoded address */

/* A labelled address; they are kept in file order (labels_each's order). */
typedef struct {
    const uint8_t *key; /* in the pool */
    size_t klen;
    label *first, *last;
} address;

struct labels {
    cw_htab index; /* watchlist key (by reference, in the pool) -> 1 + its position in `addrs` */
    address *addrs;
    size_t n_addrs, cap_addrs;
    chunk *pool;
};

/* Adds lab under key; *is_new tells whether the address was new. */
static bool insert(labels *l, const uint8_t *k, size_t n, label *lab, bool *is_new)
{
    size_t *at = cw_htab_get(&l->index, k, n);
    *is_new = at == NULL;
    if (at) {
        address *a = &l->addrs[*at - 1];
        a->last->next = lab;
        a->last = lab;
        return true;
    }
    if (l->n_addrs == l->cap_addrs) {
        size_t cap = l->cap_addrs ? l->cap_addrs * 2 : 256;
        address *v = realloc(l->addrs, cap * sizeof *v);
        if (v == NULL)
            return false;
        l->addrs = v;
        l->cap_addrs = cap;
    }
    uint8_t *key = pool_alloc(&l->pool, n);
    void *val = NULL;
    if (key == NULL)
        return false;
    memcpy(key, k, n);
    if (cw_htab_put(&l->index, key, n, &val, NULL, NULL))
        return false;
    l->addrs[l->n_addrs++] = (address){key, n, lab, lab};
    *(size_t *)val = l->n_addrs;
    return true;
}

const label *labels_find(const labels *l, const cw_addr *a)
{
    if (l == NULL || a == NULL || a->kind == CW_ADDR_NONE)
        return NULL;
    uint8_t k[WL_KEY_MAX];
    size_t n = wl_key_from_addr(a, k);
    if (n > KEY_MAX)
        return NULL;
    const size_t *at = cw_htab_get(&l->index, k, n);
    return at ? l->addrs[*at - 1].first : NULL;
}

void labels_each(const labels *l, void (*fn)(void *ctx, const uint8_t *key, size_t klen, const label *first), void *ctx)
{
    for (size_t i = 0; l && i < l->n_addrs; i++)
        fn(ctx, l->addrs[i].key, l->addrs[i].klen, l->addrs[i].first);
}

void labels_free(labels *l)
{
    if (l == NULL)
        return;
    cw_htab_free(&l->index);
    free(l->addrs);
    pool_free(l->pool);
    free(l);
}

/* ---------- rows ---------- */

static const char *const header[] = {"chain", "address", "entity", "category", "source"};
#define N_COLUMNS (sizeof header / sizeof header[0])

/* The chains a label file may name, their aliases, and the cw_chain their
 * addresses must decode to. */
static const struct {
    const char *name, *canonical;
    cw_chain chain;
} chains[] = {
    {"BTC", "BTC", CW_CHAIN_BITCOIN}, {"XBT", "BTC", CW_CHAIN_BITCOIN}, {"bitcoin", "BTC", CW_CHAIN_BITCOIN},
    {"ETH", "ETH", CW_CHAIN_EVM},     {"evm", "ETH", CW_CHAIN_EVM},     {"ethereum", "ETH", CW_CHAIN_EVM},
    {"TRON", "TRON", CW_CHAIN_TRON},  {"TRX", "TRON", CW_CHAIN_TRON},
};

static int chain_index(const char *name)
{
    for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++)
        if (strcasecmp(name, chains[i].name) == 0)
            return (int)i;
    return -1;
}

static void count_category(labels_stats *st, const char *chain, const char *category)
{
    for (size_t i = 0; i < st->n_categories; i++)
        if (strcmp(st->by_category[i].chain, chain) == 0 && strcmp(st->by_category[i].category, category) == 0) {
            st->by_category[i].count++;
            return;
        }
    if (st->n_categories == LABELS_CATEGORIES_MAX || strlen(category) >= LABELS_CATEGORY_TEXT) {
        st->categories_over++;
        return;
    }
    labels_category_count *c = &st->by_category[st->n_categories++];
    snprintf(c->chain, sizeof c->chain, "%s", chain);
    snprintf(c->category, sizeof c->category, "%s", category);
    c->count = 1;
}

size_t labels_stats_count(const labels_stats *st, const char *chain, const char *category)
{
    int ci = chain_index(chain);
    const char *canonical = ci >= 0 ? chains[ci].canonical : chain;
    for (size_t i = 0; i < st->n_categories; i++)
        if (strcasecmp(st->by_category[i].chain, canonical) == 0 && strcmp(st->by_category[i].category, category) == 0)
            return st->by_category[i].count;
    return 0;
}

static void note_unparsable(labels_stats *st, size_t line, const char *text, const char *why)
{
    st->unparsable++;
    if (st->first_unparsable[0] == '\0')
        snprintf(st->first_unparsable, sizeof st->first_unparsable, "line %zu: %.100s: %.120s", line, text, why);
}

/* One data row: decoded and indexed, or counted as not indexable. */
static cw_code add_row(labels *l, csv_reader *r, cw_net net, labels_stats *st, cw_err *err)
{
    const char *path = r->in.path;
    size_t line = r->line_no;
    if (r->n_fields != (int)N_COLUMNS)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                          "%s: line %zu: expected %zu fields (chain,address,entity,category,source), found %d", path,
                          line, N_COLUMNS, r->n_fields);
    char *chain = csv_trim(r->field[0]), *text = csv_trim(r->field[1]), *entity = csv_trim(r->field[2]);
    char *category = csv_trim(r->field[3]), *source = csv_trim(r->field[4]);
    /* An entity may be empty (blocklisted addresses often have no name); a
     * row without chain or category says nothing usable. */
    const char *empty = !*chain ? "chain" : !*category ? "category" : NULL;
    if (empty)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %zu: empty %s", path, line, empty);
    st->rows++;
    int ci = chain_index(chain);
    if (ci < 0) {
        st->other_chain++;
        return CW_OK;
    }
    if (!*text) {
        note_unparsable(st, line, "(empty)", "no address");
        return CW_OK;
    }
    cw_addr a;
    cw_err perr = {0};
    if (cw_addr_parse(text, chains[ci].chain == CW_CHAIN_BITCOIN ? (int)net : CW_NET_ANY, &a, &perr) != CW_OK) {
        note_unparsable(st, line, text, perr.msg);
        return CW_OK;
    }
    if (a.chain != chains[ci].chain) {
        char why[64];
        snprintf(why, sizeof why, "a %s address in a %s row", cw_chain_name((cw_chain)a.chain), chains[ci].canonical);
        note_unparsable(st, line, text, why);
        return CW_OK;
    }
    uint8_t key[WL_KEY_MAX];
    size_t klen = wl_key_from_addr(&a, key);
    label *lab = klen <= KEY_MAX ? pool_alloc(&l->pool, sizeof *lab) : NULL;
    if (lab) {
        lab->entity = pool_str(&l->pool, entity);
        lab->category = pool_str(&l->pool, category);
        lab->source = pool_str(&l->pool, source);
        lab->address = pool_str(&l->pool, text);
        lab->chain = chains[ci].canonical;
        lab->line = line;
        lab->next = NULL;
    }
    bool is_new;
    if (lab == NULL || !lab->entity || !lab->category || !lab->source || !lab->address ||
        !insert(l, key, klen, lab, &is_new))
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: line %zu: out of memory", path, line);
    st->loaded++;
    if (is_new)
        st->addresses++;
    else
        st->repeated++;
    count_category(st, chains[ci].canonical, category);
    return CW_OK;
}

static cw_code check_header(csv_reader *r, cw_err *err)
{
    bool ok = r->n_fields == (int)N_COLUMNS;
    for (size_t i = 0; ok && i < N_COLUMNS; i++)
        ok = strcasecmp(csv_trim(r->field[i]), header[i]) == 0;
    if (ok)
        return CW_OK;
    return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                      "%s: line %zu: the header must be chain,address,entity,category,source (found %d field%s, "
                      "first \"%.40s\")",
                      r->in.path, r->line_no, r->n_fields, r->n_fields == 1 ? "" : "s", r->field[0]);
}

cw_code labels_load(const char *path, cw_net net, labels **out, labels_stats *st_out, cw_err *err)
{
    *out = NULL;
    labels_stats st_local;
    labels_stats *st = st_out ? st_out : &st_local;
    memset(st, 0, sizeof *st);
    labels *l = calloc(1, sizeof *l);
    if (l == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", path);
    /* a labels file must not be able to pick keys that collide: a secret seed */
    cw_code irc = htab_secret_init(&l->index, 0, sizeof(size_t), 0, 1024, err);
    if (irc) {
        free(l);
        return cw_err_prefix(err, irc, "%s", path);
    }
    csv_reader r;
    cw_code rc = csv_open(&r, path, NULL, NULL, err);
    if (rc) {
        labels_free(l);
        return rc;
    }
    bool have_header = false;
    int got;
    while ((got = csv_next(&r, err)) == 1) {
        if (csv_blank(&r))
            continue;
        if (!have_header) {
            if ((rc = check_header(&r, err)))
                break;
            have_header = true;
            continue;
        }
        if ((rc = add_row(l, &r, net, st, err)))
            break;
    }
    if (got < 0)
        rc = err ? err->code : CW_EFORMAT;
    if (rc == CW_OK && !have_header)
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: empty: no header chain,address,entity,category,source",
                        path);
    char sha[65];
    csv_close(&r, sha);
    if (rc) {
        labels_free(l);
        return rc;
    }
    *out = l;
    return CW_OK;
}
