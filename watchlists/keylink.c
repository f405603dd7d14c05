#include "keylink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/hash.h"
#include "chains/hex.h"
#include "chains/le.h"
#include "watchlist.h"

#define KEYLINK_VERSION 1
#define HEAD 43 /* version chain by height(8) txid(32) */
#define VALUE_MAX (HEAD + 1 + WL_KEY_MAX + 2 * CW_ADDR_TEXT_MAX)

/* Decodes a value; false when it is not a link. */
static bool decode(cw_span v, keylink_entry *e)
{
    if (v.n < HEAD + 1 + 2 || v.p[0] != KEYLINK_VERSION || v.p[v.n - 1] != '\0')
        return false;
    e->chain = v.p[1];
    e->by = v.p[2];
    e->height = (int64_t)cw_get_le(v.p + 3, 8);
    e->txid = v.p + 11;
    size_t rl = v.p[HEAD];
    if (rl == 0 || rl > WL_KEY_MAX || v.n < HEAD + 1 + rl + 2)
        return false;
    e->root = v.p + HEAD + 1;
    e->root_len = rl;
    const char *texts = (const char *)v.p + HEAD + 1 + rl;
    size_t left = v.n - (HEAD + 1 + rl);
    const char *z = memchr(texts, 0, left);
    if (z == NULL || z == texts || (size_t)(z - texts) + 1 >= left)
        return false;
    e->root_text = texts;
    e->text = z + 1;
    /* exactly two strings: the second ends at the value's last byte */
    return memchr(e->text, 0, left - (size_t)(z - texts) - 1) == (const char *)v.p + v.n - 1 && e->text[0] != '\0';
}

cw_code keylink_get(store_txn *t, const uint8_t *key, size_t klen, keylink_entry *out, cw_err *err)
{
    cw_span v;
    cw_code rc = store_get(t, STORE_KEYLINK, key, klen, &v, err);
    if (rc)
        return rc;
    if (!decode(v, out)) {
        char text[CW_ADDR_TEXT_MAX];
        if (wl_key_to_text(key, klen, text, sizeof text) == 0)
            snprintf(text, sizeof text, "(%zu-byte key)", klen);
        return store_damaged(t, err, "the key link of %s does not decode", text);
    }
    return CW_OK;
}

const char *keylink_check_record(cw_span k, cw_span v)
{
    keylink_entry e;
    if (k.n < 7 || k.n > WL_KEY_MAX || k.p[0] != 'a')
        return "a key that is not a decoded address";
    if (!decode(v, &e))
        return "a key link that does not decode";
    if (e.root_len < 7 || e.root[0] != 'a')
        return "a key link whose designated address is not a decoded address";
    return NULL;
}

size_t keylink_txid_text(cw_chain chain, const uint8_t txid[32], char out[67])
{
    if (chain == CW_CHAIN_BITCOIN) {
        cw_hex_encode_rev(txid, 32, out);
        return 64;
    }
    if (chain == CW_CHAIN_EVM) {
        out[0] = '0', out[1] = 'x';
        cw_hex_encode(txid, 32, out + 2);
        return 66;
    }
    cw_hex_encode(txid, 32, out);
    return 64;
}

/* ---------- linking ---------- */

typedef struct {
    bool direct; /* a ref that is not WL_REF_LINKED */
} direct_ctx;

static void see_ref(void *arg, const wl_ref *r)
{
    direct_ctx *d = arg;
    if (!(r->flags & WL_REF_LINKED))
        d->direct = true;
}

/* Where the designation of the key's forms hangs: *root_len 0 when no form
 * is designated. */
static cw_code find_root(store_txn *t, const cw_addr *forms, const uint8_t (*keys)[WL_KEY_MAX], const size_t *klen,
                         uint8_t root[WL_KEY_MAX], size_t *root_len, cw_err *err)
{
    int first_listed = -1;
    *root_len = 0;
    for (int f = 0; f < CW_FORM_COUNT; f++) {
        if (forms[f].kind == CW_ADDR_NONE)
            continue;
        bool listed;
        cw_code rc = wl_is_listed_by_import(t, keys[f], klen[f], &listed, err);
        if (rc)
            return rc;
        if (!listed)
            continue;
        direct_ctx d = {false};
        size_t n;
        if ((rc = wl_lookup(t, keys[f], klen[f], see_ref, &d, &n, err)))
            return rc;
        if (d.direct) {
            memcpy(root, keys[f], klen[f]);
            *root_len = klen[f];
            return CW_OK;
        }
        if (first_listed < 0)
            first_listed = f;
    }
    if (first_listed >= 0) {
        memcpy(root, keys[first_listed], klen[first_listed]);
        *root_len = klen[first_listed];
        return CW_OK;
    }
    for (int f = 0; f < CW_FORM_COUNT; f++) {
        if (forms[f].kind == CW_ADDR_NONE)
            continue;
        keylink_entry e;
        cw_code rc = keylink_get(t, keys[f], klen[f], &e, err);
        if (rc == CW_ENOTFOUND)
            continue;
        if (rc)
            return rc;
        bool listed; /* a root a later import delisted carries nothing */
        if ((rc = wl_is_listed_by_import(t, e.root, e.root_len, &listed, err)))
            return rc;
        if (listed) {
            memcpy(root, e.root, e.root_len); /* copied before any write moves the span */
            *root_len = e.root_len;
            return CW_OK;
        }
    }
    return CW_OK;
}

/* keylink_observe, checking the forms in `check` only. */
static cw_code observe(journal *j, const cw_pubkey *key, cw_net btc_net, cw_chain chain, cw_revealed_by by,
                       const uint8_t txid[32], int64_t height, unsigned check, bool *designated, keylink_stats *st,
                       cw_err *err)
{
    store_txn *t = j->t;
    *designated = false;
    cw_addr forms[CW_FORM_COUNT];
    /* a failed taproot tweak (probability ~2^-128) leaves that form out */
    (void)cw_pubkey_forms(key, btc_net, check, forms, NULL);
    uint8_t keys[CW_FORM_COUNT][WL_KEY_MAX];
    size_t klen[CW_FORM_COUNT];
    for (int f = 0; f < CW_FORM_COUNT; f++)
        klen[f] = forms[f].kind == CW_ADDR_NONE ? 0 : wl_key_from_addr(&forms[f], keys[f]);
    if (st)
        st->keys++;
    uint8_t root[WL_KEY_MAX];
    size_t root_len;
    cw_code rc = find_root(t, forms, (const uint8_t(*)[WL_KEY_MAX])keys, klen, root, &root_len, err);
    if (rc || root_len == 0)
        return rc;
    *designated = true;
    if (st)
        st->designated++;
    if (check != CW_FORMS_ALL) { /* a root: every form gets its link */
        (void)cw_pubkey_forms(key, btc_net, CW_FORMS_ALL, forms, NULL);
        for (int f = 0; f < CW_FORM_COUNT; f++)
            klen[f] = forms[f].kind == CW_ADDR_NONE ? 0 : wl_key_from_addr(&forms[f], keys[f]);
    }
    char root_text[CW_ADDR_TEXT_MAX];
    if (wl_key_to_text(root, root_len, root_text, sizeof root_text) == 0)
        return store_damaged(t, err, "a designated address key that has no text");
    uint8_t v[VALUE_MAX];
    v[0] = KEYLINK_VERSION;
    v[1] = (uint8_t)chain;
    v[2] = (uint8_t)by;
    cw_put_le(v + 3, (uint64_t)height, 8);
    memcpy(v + 11, txid, 32);
    v[HEAD] = (uint8_t)root_len;
    memcpy(v + HEAD + 1, root, root_len);
    size_t rt = strlen(root_text) + 1;
    memcpy(v + HEAD + 1 + root_len, root_text, rt);
    size_t base = HEAD + 1 + root_len + rt;
    for (int f = 0; f < CW_FORM_COUNT; f++) {
        if (klen[f] == 0 || (klen[f] == root_len && memcmp(keys[f], root, root_len) == 0))
            continue;
        bool imported; /* listed, or a form an import linked: designated already, its refs say why */
        if ((rc = wl_is_listed_by_import(t, keys[f], klen[f], &imported, err)))
            return rc;
        if (imported)
            continue;
        keylink_entry had;
        rc = keylink_get(t, keys[f], klen[f], &had, err);
        bool stale = false;
        if (rc == CW_OK) {
            bool listed; /* linked already: the first reveal stays, unless its root was delisted */
            if ((rc = wl_is_listed_by_import(t, had.root, had.root_len, &listed, err)))
                return rc;
            if (listed)
                continue;
            stale = true;
        } else if (rc != CW_ENOTFOUND)
            return rc;
        char text[CW_ADDR_TEXT_MAX];
        size_t tl = cw_addr_format(&forms[f], text, sizeof text);
        if (tl == 0)
            continue;
        memcpy(v + base, text, tl + 1);
        rc = stale ? journal_put(j, STORE_KEYLINK, keys[f], klen[f], v, base + tl + 1, err)
                   : journal_put_known(j, STORE_KEYLINK, keys[f], klen[f], NULL, v, base + tl + 1, err);
        if (rc)
            return rc;
        if (st)
            st->links++;
    }
    return CW_OK;
}

cw_code keylink_observe(journal *j, const cw_pubkey *key, cw_net btc_net, cw_chain chain, cw_revealed_by by,
                        const uint8_t txid[32], int64_t height, keylink_stats *st, cw_err *err)
{
    bool designated;
    return observe(j, key, btc_net, chain, by, txid, height, CW_FORMS_ALL, &designated, st, err);
}

struct keylink_seen {
    uint64_t epoch; /* the wl_meta fingerprint and scope the keys were checked under */
    bool have_epoch;
    uint8_t (*key)[33]; /* 0x00 in byte 0: an empty slot (keys start 02/03) */
};

keylink_seen *keylink_seen_new(void)
{
    keylink_seen *s = calloc(1, sizeof *s);
    if (s && (s->key = calloc(KEYLINK_SEEN_SLOTS, sizeof *s->key)) == NULL) {
        free(s);
        s = NULL;
    }
    return s;
}

void keylink_seen_free(keylink_seen *s)
{
    if (s) {
        free(s->key);
        free(s);
    }
}

static void seen_clear(keylink_seen *s)
{
    memset(s->key, 0, KEYLINK_SEEN_SLOTS * sizeof *s->key);
    s->have_epoch = false;
}

/* A fixed seed: the worst a chosen collision does is evict, costing work. */
static uint8_t *seen_slot(keylink_seen *s, const uint8_t k33[33])
{
    return s->key[cw_hash64(0x6b65796c696e6bull, k33, 33) & (KEYLINK_SEEN_SLOTS - 1)];
}

cw_code keylink_scope_read(store_txn *t, cw_net btc_net, keylink_seen *seen, keylink_scope *out, cw_err *err)
{
    out->forms = CW_FORMS_ALL;
    out->seen = seen;
    static const struct {
        uint8_t chain, kind, version, len;
        unsigned forms;
    } kinds[] = {
        {CW_CHAIN_BITCOIN, CW_ADDR_P2PKH, 0, 20, (1u << CW_FORM_P2PKH) | (1u << CW_FORM_P2PKH_UNCOMP)},
        {CW_CHAIN_BITCOIN, CW_ADDR_P2WPKH, 0, 20, 1u << CW_FORM_P2WPKH},
        {CW_CHAIN_BITCOIN, CW_ADDR_P2SH, 0, 20, 1u << CW_FORM_P2SH_P2WPKH},
        {CW_CHAIN_BITCOIN, CW_ADDR_P2TR, 1, 32, 1u << CW_FORM_P2TR},
        {CW_CHAIN_EVM, CW_ADDR_EVM, 0, 20, 1u << CW_FORM_EVM},
        {CW_CHAIN_TRON, CW_ADDR_TRON, 0, 20, 1u << CW_FORM_TRON},
    };
    store_cursor *c;
    cw_code rc = store_cursor_open(t, STORE_WL_ADDR, &c, err);
    if (rc)
        return rc;
    unsigned forms = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        static const uint8_t zero[32];
        cw_addr a;
        cw_addr_set(&a, (cw_chain)kinds[i].chain, btc_net, (cw_addr_kind)kinds[i].kind, kinds[i].version, zero,
                    kinds[i].len);
        uint8_t prefix[WL_KEY_MAX];
        wl_key_from_addr(&a, prefix); /* 'a' chain space kind version len: the first 6 bytes */
        cw_span k, v;
        if (store_cursor_seek(c, prefix, 6, &k, &v)) {
            if (k.n >= 6 && memcmp(k.p, prefix, 6) == 0)
                forms |= kinds[i].forms;
        } else if ((rc = store_cursor_error(c, err)))
            break;
    }
    store_cursor_close(c);
    if (rc == CW_OK)
        out->forms = forms;
    if (seen) {
        /* a read error ends the fingerprint's walk early: a different value,
         * so the table is emptied (never kept across an unknown change) */
        uint64_t epoch = cw_mix64(store_fingerprint(t, STORE_WL_META) ^ (uint64_t)out->forms << 56 ^ (uint64_t)btc_net);
        if (rc || !seen->have_epoch || seen->epoch != epoch)
            seen_clear(seen);
        seen->epoch = epoch;
        seen->have_epoch = rc == CW_OK;
    }
    return rc;
}

cw_code keylink_observe_sender(journal *j, const uint8_t pubkey65[65], cw_net btc_net, cw_chain chain,
                               const uint8_t txid[32], int64_t height, keylink_stats *st, cw_err *err)
{
    cw_pubkey k;
    cw_code rc = cw_pubkey_parse(pubkey65, 65, &k, err);
    if (rc)
        return cw_err_prefix(err, rc, "keylink: a recovered sender");
    return keylink_observe(j, &k, btc_net, chain, CW_REVEALED_BY_SIGNATURE, txid, height, st, err);
}

/* One revealed key of a Bitcoin tx: the memory of clean keys first (no
 * parse, no forms), then the parse and the check. */
static cw_code counted(journal *j, cw_reveal r, cw_span raw, const cw_tx *tx, cw_revealed_by by, int64_t height,
                       const keylink_scope *scope, keylink_stats *st, cw_err *err)
{
    if (r == CW_REVEAL_UNCHECKED) {
        if (st)
            st->unchecked++;
        return CW_OK;
    }
    if (r == CW_REVEAL_MISMATCH) {
        if (st)
            st->mismatch++;
        return CW_OK;
    }
    if (r != CW_REVEAL_KEY)
        return CW_OK;
    uint8_t k33[33], *slot = NULL;
    if (scope && scope->seen && cw_pubkey_compress_bytes(raw, k33)) {
        slot = seen_slot(scope->seen, k33);
        if (memcmp(slot, k33, 33) == 0) {
            if (st)
                st->keys++, st->seen++;
            return CW_OK;
        }
    }
    cw_pubkey k;
    if (cw_pubkey_parse(raw.p, raw.n, &k, NULL) != CW_OK) {
        if (st)
            st->bad_key++;
        return CW_OK;
    }
    bool designated;
    cw_code rc = observe(j, &k, (cw_net)tx->net, (cw_chain)tx->chain, by, tx->txid, height,
                         scope ? scope->forms : CW_FORMS_ALL, &designated, st, err);
    if (rc == CW_OK && slot && !designated)
        memcpy(slot, k.compressed, 33); /* the parsed key's own bytes: a valid point */
    return rc;
}

cw_code keylink_tx(journal *j, const cw_tx *tx, int64_t height, const keylink_scope *scope, keylink_stats *st,
                   cw_err *err)
{
    if (scope && scope->forms == 0)
        return CW_OK; /* nothing a key could link to: not even the key parse */
    cw_code rc = CW_OK;
    cw_span raw;
    for (size_t i = 0; rc == CW_OK && !(tx->flags & CW_TX_COINBASE) && i < tx->n_in; i++) {
        cw_revealed_by by;
        cw_reveal r = cw_reveal_input_raw(&tx->in[i], &raw, &by);
        rc = counted(j, r, raw, tx, by, height, scope, st, err);
    }
    for (size_t i = 0; rc == CW_OK && i < tx->n_out; i++) {
        if (tx->out[i].type != CW_SCRIPT_P2PK)
            continue;
        cw_reveal r = cw_reveal_output_raw(&tx->out[i], &raw);
        rc = counted(j, r, raw, tx, CW_REVEALED_BY_P2PK, height, scope, st, err);
    }
    return rc;
}

cw_code keylink_disconnect(store_txn *t, cw_chain chain, int64_t height, uint64_t *removed, cw_err *err)
{
    if (removed)
        *removed = 0;
    /* collect first: deleting under an open cursor is not this store's API */
    typedef struct {
        uint8_t k[WL_KEY_MAX];
        size_t n;
    } doomed;
    doomed *list = NULL;
    size_t n = 0, cap = 0;
    store_cursor *c;
    cw_code rc = store_cursor_open(t, STORE_KEYLINK, &c, err);
    if (rc)
        return rc;
    cw_span k, v;
    for (bool more = store_cursor_seek(c, NULL, 0, &k, &v); more; more = store_cursor_next(c, &k, &v)) {
        keylink_entry e;
        if (k.n > WL_KEY_MAX || !decode(v, &e)) {
            rc = store_damaged(t, err, "a key link does not decode");
            break;
        }
        if (e.chain != (uint8_t)chain || e.height < height)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            doomed *g = realloc(list, nc * sizeof *g);
            if (g == NULL) {
                rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "keylink: out of memory listing %zu links to remove", n);
                break;
            }
            list = g, cap = nc;
        }
        memcpy(list[n].k, k.p, k.n);
        list[n++].n = k.n;
    }
    if (rc == CW_OK)
        rc = store_cursor_error(c, err);
    store_cursor_close(c);
    for (size_t i = 0; rc == CW_OK && i < n; i++)
        if ((rc = store_del(t, STORE_KEYLINK, list[i].k, list[i].n, NULL, 0, err)) == CW_OK && removed)
            (*removed)++;
    free(list);
    return rc;
}
