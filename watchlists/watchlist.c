/*
 * watchlist.c: resolving, linking and storing designations.
 *
 * Design note. An import is built in memory (designation lists are small:
 * the whole SDN list has 761 addresses) and written in one LMDB write
 * transaction: delete the source's old refs and entities, put the new ones,
 * the provenance record and the diff. A reader sees the old list or the
 * new one; a killed import leaves the old one. Holding the import in memory
 * also makes a full map cheap to handle: grow and write again, no re-parse.
 */
#include "watchlist.h"
#include "keylink.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "chains/addr.h"
#include "chains/hash.h"
#include "chains/hashtab.h"
#include "htab_secret.h"
#include "chains/json.h"
#include "ticker.h"

/* ---------- keys ---------- */

size_t wl_key_from_addr(const cw_addr *a, uint8_t out[WL_KEY_MAX])
{
    uint8_t net = a->net;
    if (a->chain == CW_CHAIN_BITCOIN && (a->kind == CW_ADDR_P2PKH || a->kind == CW_ADDR_P2SH) &&
        net == CW_NET_REGTEST)
        net = CW_NET_TEST; /* same base58 version bytes: one key space */
    if (a->chain != CW_CHAIN_BITCOIN)
        net = CW_NET_MAIN;
    out[0] = 'a';
    out[1] = a->chain;
    out[2] = net;
    out[3] = a->kind;
    out[4] = a->version;
    out[5] = a->len;
    memcpy(out + 6, a->payload, a->len);
    return 6u + a->len;
}

static size_t text_key(const char *normalised, uint8_t out[WL_KEY_MAX])
{
    size_t n = strlen(normalised);
    if (n == 0 || n + 1 > WL_KEY_MAX)
        return 0;
    out[0] = 't';
    memcpy(out + 1, normalised, n);
    return n + 1;
}

/* ---------- address text ---------- */

size_t wl_layout_len(const char *s, bool *space)
{
    const unsigned char *u = (const unsigned char *)s;
    bool sp = true;
    size_t n = 0;
    if (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r'))
        n = 1;
    else if (u[0] == 0xc2 && (u[1] == 0x85 || u[1] == 0xa0 || u[1] == 0xad))
        n = 2, sp = u[1] != 0xad; /* NEL, no-break space; soft hyphen */
    else if (u[0] == 0xe1 && u[1] == 0x9a && u[2] == 0x80)
        n = 3; /* ogham space mark */
    else if (u[0] == 0xe1 && u[1] == 0xa0 && u[2] == 0x8e)
        n = 3, sp = false; /* Mongolian vowel separator */
    else if (u[0] == 0xe2 && u[1] == 0x80 && ((u[2] >= 0x80 && u[2] <= 0x8f) || (u[2] >= 0xa8 && u[2] <= 0xaf)))
        /* U+2000..U+200A spaces; U+200B..U+200F zero-width space, ZWNJ, ZWJ,
         * direction marks; U+2028/9 line breaks; U+202A..U+202E embeddings;
         * U+202F narrow no-break space. (U+2010..U+2027 are visible.) */
        n = 3, sp = u[2] <= 0x8a || u[2] == 0xa8 || u[2] == 0xa9 || u[2] == 0xaf;
    else if (u[0] == 0xe2 && u[1] == 0x81 && (u[2] == 0x9f || (u[2] >= 0xa0 && u[2] <= 0xa9 && u[2] != 0xa5)))
        n = 3, sp = u[2] == 0x9f; /* medium mathematical space; word joiner, invisible operators, isolates */
    else if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80)
        n = 3; /* ideographic space */
    else if (u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf)
        n = 3, sp = false; /* byte order mark, zero-width no-break space */
    if (n && space)
        *space = sp;
    return n;
}

/* Ranges, not strchr over an alphabet: this runs on every text lookup. */
static bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool is_hex(unsigned char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }
/* the punctuation of CashAddr prefixes (:) and account forms (0.0.123, a-b_c) */
static bool is_punct(unsigned char c) { return c == ':' || c == '.' || c == '-' || c == '_'; }

static bool all_of(const char *s, size_t n, bool (*ok)(unsigned char))
{
    for (size_t i = 0; i < n; i++)
        if (!ok((unsigned char)s[i]))
            return false;
    return true;
}

/* The shapes only Bitcoin, EVM and Tron use, for alphanumeric text that
 * did not decode: the form's name, or NULL. The Tron range stops well short
 * of the 43-44 characters of a Solana key (base58 too, some start with T). */
static const char *broken_shape(const char *t, size_t n)
{
    if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
        return "EVM";
    if (strncasecmp(t, "bc1", 3) == 0 || strncasecmp(t, "tb1", 3) == 0 || strncasecmp(t, "bcrt1", 5) == 0)
        return "Bitcoin";
    if (!all_of(t, n, is_alnum))
        return NULL;
    if (strchr("13mn2", t[0]) && n >= 25 && n <= 35)
        return "Bitcoin";
    if (t[0] == 'T' && n >= 25 && n <= 40)
        return "Tron";
    return NULL;
}

wl_form wl_text_form(const char *text, cw_addr *decoded, cw_err *why)
{
    cw_err scratch;
    if (why == NULL)
        why = &scratch;
    size_t n = strlen(text);
    if (n == 0)
        return cw_err_set(why, CW_EARG, CW_NO_OFFSET, "empty"), WL_FORM_NONE;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c <= ' ' || c == 0x7f)
            return cw_err_set(why, CW_EARG, CW_NO_OFFSET, "whitespace or a control character at character %zu", i + 1),
                   WL_FORM_NONE;
        if (c >= 0x80)
            return cw_err_set(why, CW_EARG, CW_NO_OFFSET,
                              "character %zu is not ASCII: no address form uses it (an invisible space, or a "
                              "look-alike letter?)",
                              i + 1),
                   WL_FORM_NONE;
        if (!is_alnum(c) && !is_punct(c))
            return cw_err_set(why, CW_EARG, CW_NO_OFFSET, "character %zu ('%c') is in no address form", i + 1, c),
                   WL_FORM_NONE;
    }
    if (n > WL_TEXT_MAX)
        return cw_err_set(why, CW_EARG, CW_NO_OFFSET, "longer than any address (%zu characters, at most %d)", n,
                          WL_TEXT_MAX),
               WL_FORM_NONE;
    cw_addr a;
    cw_err perr; /* not zeroed: this runs on every text lookup, and a failed parse sets it */
    perr.msg[0] = '\0';
    if (cw_addr_parse(text, CW_NET_ANY, &a, &perr) == CW_OK) {
        if (decoded)
            *decoded = a;
        return WL_FORM_DECODED;
    }
    const char *p = is_punct((unsigned char)text[0])       ? text
                    : is_punct((unsigned char)text[n - 1]) ? text + n - 1
                                                           : NULL;
    if (p)
        return cw_err_set(why, CW_EFORMAT, CW_NO_OFFSET,
                          "'%c' at its %s: no address form %s with punctuation (pasted along?)", *p,
                          p == text ? "start" : "end", p == text ? "starts" : "ends"),
               WL_FORM_BROKEN;
    /* scheme:address, as a payment URI (BIP-21) writes it; CashAddr's
     * prefix:payload is no such address, so it stays text */
    const char *colon = strrchr(text, ':');
    if (colon) {
        cw_addr inner;
        const char *rest = colon + 1;
        if (cw_addr_parse(rest, CW_NET_ANY, &inner, NULL) == CW_OK || broken_shape(rest, strlen(rest)))
            return cw_err_set(why, CW_EFORMAT, CW_NO_OFFSET,
                              "a payment URI (%.*s:...): give the address alone", (int)(colon - text),
                              text),
                   WL_FORM_BROKEN;
        return WL_FORM_TEXT;
    }
    if (n == 40 && all_of(text, n, is_hex))
        return cw_err_set(why, CW_EFORMAT, CW_NO_OFFSET, "40 hex digits: an EVM address without its 0x?"),
               WL_FORM_BROKEN;
    const char *shape = broken_shape(text, n);
    if (shape)
        return cw_err_set(why, CW_EFORMAT, CW_NO_OFFSET, "not a valid %s address: %s", shape, perr.msg),
               WL_FORM_BROKEN;
    return WL_FORM_TEXT;
}

/* ---------- keys of text ---------- */

size_t wl_key_of_text(const char *text, uint8_t out[WL_KEY_MAX], wl_form *form, cw_err *err)
{
    cw_addr a;
    /* err is written for NONE and BROKEN only: the caller decides what a
     * broken text no list holds means */
    wl_form f = wl_text_form(text, &a, err);
    if (form)
        *form = f;
    if (f == WL_FORM_DECODED)
        return wl_key_from_addr(&a, out);
    if (f == WL_FORM_NONE)
        return 0;
    char norm[WL_TEXT_MAX + 16];
    if (!ticker_normalise_text(NULL, text, norm, sizeof norm)) {
        cw_err_set(err, CW_EARG, CW_NO_OFFSET, "empty, or over %d characters", WL_TEXT_MAX);
        return 0;
    }
    return text_key(norm, out);
}

size_t wl_key_from_text(const char *text, uint8_t out[WL_KEY_MAX], cw_err *err)
{
    wl_form f;
    size_t n = wl_key_of_text(text, out, &f, err);
    return f == WL_FORM_BROKEN ? 0 : n;
}

size_t wl_key_to_text(const uint8_t *key, size_t klen, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    out[0] = '\0';
    if (klen >= 1 && key[0] == 't') { /* kept as normalised text */
        if (klen - 1 >= cap)
            return 0;
        memcpy(out, key + 1, klen - 1);
        out[klen - 1] = '\0';
        return klen - 1;
    }
    if (klen < 6 || key[0] != 'a' || key[5] > CW_ADDR_PAYLOAD_MAX || klen != 6u + key[5])
        return 0;
    cw_addr a;
    memset(&a, 0, sizeof a);
    a.chain = key[1];
    a.net = key[2]; /* regtest base58 was keyed as testnet: the same text */
    a.kind = key[3];
    a.version = key[4];
    a.len = key[5];
    memcpy(a.payload, key + 6, a.len);
    return cw_addr_format(&a, out, cap);
}

/* ---------- refs ---------- */

static size_t encode_ref(const wl_ref *r, uint8_t *out, size_t cap)
{
    const char *f[6] = {r->source, r->uid, r->ticker, r->chain, r->listed, r->linked_from ? r->linked_from : ""};
    size_t n = 1;
    if (cap < 1)
        return 0;
    out[0] = r->flags;
    for (int i = 0; i < 6; i++) {
        size_t l = strlen(f[i]) + 1;
        if (n + l > cap)
            return 0;
        memcpy(out + n, f[i], l);
        n += l;
    }
    return n;
}

static bool decode_ref(cw_span v, wl_ref *r)
{
    if (v.n < 7 || v.p[v.n - 1] != '\0')
        return false;
    const char *f[6];
    size_t pos = 1;
    for (int i = 0; i < 6; i++) {
        if (pos >= v.n)
            return false;
        f[i] = (const char *)v.p + pos;
        const uint8_t *z = memchr(v.p + pos, 0, v.n - pos);
        if (z == NULL)
            return false;
        pos = (size_t)(z - v.p) + 1;
    }
    r->flags = v.p[0];
    r->source = f[0];
    r->uid = f[1];
    r->ticker = f[2];
    r->chain = f[3];
    r->listed = f[4];
    r->linked_from = f[5][0] ? f[5] : NULL;
    r->reveal_txid = NULL;
    r->reveal_chain = 0;
    r->reveal_height = 0;
    return true;
}

bool wl_ref_decode(cw_span v, wl_ref *r) { return decode_ref(v, r); }

/* A value of wl_addr that does not decode is damage: skipping it would
 * answer "not listed" for what the store holds listed. */
static cw_code bad_ref(const store_txn *t, const uint8_t *key, size_t klen, cw_err *err)
{
    char text[WL_KEY_MAX * 2 + 1];
    if (wl_key_to_text(key, klen, text, sizeof text) == 0)
        snprintf(text, sizeof text, "(%zu-byte key)", klen);
    return store_damaged(t, err, "a designation of %s does not decode", text);
}

cw_code wl_is_listed_by_import(store_txn *t, const uint8_t *key, size_t klen, bool *listed, cw_err *err)
{
    cw_span v;
    *listed = false;
    cw_code rc = store_get(t, STORE_WL_ADDR, key, klen, &v, err);
    if (rc == CW_ENOTFOUND)
        return CW_OK;
    if (rc)
        return cw_err_prefix(err, rc, "watchlist");
    *listed = true;
    return CW_OK;
}

cw_code wl_is_listed(store_txn *t, const uint8_t *key, size_t klen, bool *listed, cw_err *err)
{
    cw_code rc = wl_is_listed_by_import(t, key, klen, listed, err);
    if (rc || *listed)
        return rc;
    keylink_entry e;
    if ((rc = keylink_get(t, key, klen, &e, err)) == CW_ENOTFOUND)
        return CW_OK;
    if (rc)
        return cw_err_prefix(err, rc, "watchlist");
    return wl_is_listed_by_import(t, e.root, e.root_len, listed, err); /* a delisted root carries nothing */
}

static cw_code lookup_listed(store_txn *t, const uint8_t *key, size_t klen, wl_ref_fn fn, void *ctx, size_t *count,
                             cw_err *err);

typedef struct {
    wl_ref_fn fn;
    void *ctx;
    const keylink_entry *e;
    const char *chain;
} relay_ctx;

/* A root's ref as the linked address's. */
static void relay_ref(void *arg, const wl_ref *r)
{
    relay_ctx *c = arg;
    wl_ref l = *r;
    l.flags = (uint8_t)(r->flags | WL_REF_LINKED | WL_REF_KEYLINK);
    l.chain = c->chain;
    l.listed = c->e->text;
    l.linked_from = c->e->root_text;
    l.reveal_txid = c->e->txid;
    l.reveal_chain = c->e->chain;
    l.reveal_height = c->e->height;
    c->fn(c->ctx, &l);
}

cw_code wl_lookup(store_txn *t, const uint8_t *key, size_t klen, wl_ref_fn fn, void *ctx, size_t *count, cw_err *err)
{
    cw_code rc = lookup_listed(t, key, klen, fn, ctx, count, err);
    if (rc)
        return rc;
    keylink_entry e;
    if ((rc = keylink_get(t, key, klen, &e, err)) == CW_ENOTFOUND)
        return CW_OK;
    if (rc) {
        *count = 0;
        return cw_err_prefix(err, rc, "watchlist");
    }
    size_t n = 0;
    relay_ctx rl = {fn, ctx, &e, cw_chain_name((cw_chain)(klen > 1 ? key[1] : 0))};
    if ((rc = lookup_listed(t, e.root, e.root_len, fn ? relay_ref : NULL, &rl, &n, err))) {
        *count = 0;
        return rc;
    }
    *count += n;
    return CW_OK;
}

/* The refs imports stored under key (wl_addr). */
static cw_code lookup_listed(store_txn *t, const uint8_t *key, size_t klen, wl_ref_fn fn, void *ctx, size_t *count,
                             cw_err *err)
{
    *count = 0;
    store_cursor *c;
    cw_code rc = store_cursor_open(t, STORE_WL_ADDR, &c, err);
    if (rc)
        return cw_err_prefix(err, rc, "watchlist");
    cw_span k, v;
    bool more = store_cursor_seek(c, key, klen, &k, &v) && k.n == klen && memcmp(k.p, key, klen) == 0;
    while (more) {
        wl_ref r;
        if (!decode_ref(v, &r)) {
            store_cursor_close(c);
            *count = 0;
            return bad_ref(t, key, klen, err);
        }
        (*count)++;
        if (fn)
            fn(ctx, &r);
        more = store_cursor_next_dup(c, &v);
    }
    rc = store_cursor_error(c, err);
    store_cursor_close(c);
    if (rc) {
        *count = 0;
        return cw_err_prefix(err, rc, "watchlist");
    }
    return CW_OK;
}

static bool json_object_text(cw_span v)
{
    json_t *j = json_loadb((const char *)v.p, v.n, 0, NULL);
    bool ok = json_is_object(j);
    json_decref(j);
    return ok;
}

const char *wl_check_record(store_db db, cw_span k, cw_span v)
{
    wl_ref r;
    switch (db) {
    case STORE_WL_ADDR:
        if (k.n == 0 || k.n > WL_KEY_MAX)
            return "a key longer than any address key";
        return decode_ref(v, &r) ? NULL : "a designation that does not decode";
    case STORE_WL_ENTITY:
        if (k.n < 2 || memchr(k.p, 0, k.n) == NULL)
            return "a key that is not source NUL uid";
        return json_object_text(v) ? NULL : "an entity record that is not a JSON object";
    case STORE_WL_META:
    case STORE_WL_DIFF:
        return json_object_text(v) ? NULL : "a record that is not a JSON object";
    default:
        return NULL;
    }
}

cw_code wl_each_ref(store_txn *t, wl_ref_fn fn, void *ctx, cw_err *err)
{
    store_cursor *c;
    cw_code rc = store_cursor_open(t, STORE_WL_ADDR, &c, err);
    if (rc)
        return rc;
    cw_span k, v;
    for (bool more = store_cursor_seek(c, NULL, 0, &k, &v); more; more = store_cursor_next(c, &k, &v)) {
        wl_ref r;
        if (!decode_ref(v, &r)) {
            store_cursor_close(c);
            return bad_ref(t, k.p, k.n, err);
        }
        fn(ctx, &r);
    }
    rc = store_cursor_error(c, err);
    store_cursor_close(c);
    return rc;
}

static size_t entity_key(const char *source, const char *uid, uint8_t *out, size_t cap)
{
    size_t a = strlen(source), b = strlen(uid);
    if (a + 1 + b > cap)
        return 0;
    memcpy(out, source, a);
    out[a] = '\0';
    memcpy(out + a + 1, uid, b);
    return a + 1 + b;
}

cw_code wl_entity_json(store_txn *t, const char *source, const char *uid, cw_span *json, cw_err *err)
{
    uint8_t key[512];
    size_t kn = entity_key(source, uid, key, sizeof key);
    if (kn == 0)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "entity key too long");
    return store_get(t, STORE_WL_ENTITY, key, kn, json, err);
}

static store_db source_db(wl_source_record what) { return what == WL_DIFF ? STORE_WL_DIFF : STORE_WL_META; }

cw_code wl_source_json(store_txn *t, wl_source_record what, const char *source, cw_span *json, cw_err *err)
{
    return store_get(t, source_db(what), source, strlen(source), json, err);
}

cw_code wl_source_each(store_txn *t, wl_source_record what, wl_json_fn fn, void *ctx, size_t *count, cw_err *err)
{
    size_t n = 0;
    if (count)
        *count = 0;
    store_cursor *c;
    cw_code rc = store_cursor_open(t, source_db(what), &c, err);
    if (rc)
        return rc;
    cw_span k, v;
    for (bool more = store_cursor_seek(c, NULL, 0, &k, &v); more; more = store_cursor_next(c, &k, &v)) {
        n++;
        if (!fn(ctx, v))
            break;
    }
    rc = store_cursor_error(c, err); /* a walk cut by a read error is no "no more sources" */
    store_cursor_close(c);
    if (count)
        *count = n;
    return rc;
}

static bool stop_at_first(void *ctx, cw_span json)
{
    (void)ctx, (void)json;
    return false;
}

cw_code wl_require_imported(store_txn *t, cw_err *err)
{
    size_t n = 0;
    cw_code rc = wl_source_each(t, WL_PROVENANCE, stop_at_first, NULL, &n, err);
    if (rc == CW_OK && n == 0)
        rc = cw_err_set(err, CW_ENOTFOUND, CW_NO_OFFSET,
                        "no watchlist has been imported into this datadir, so every address would look not listed: "
                        "check --datadir, or run 'chainwatch watchlist import' first");
    return rc;
}

/* ---------- the import under construction ---------- */

struct wl_entity {
    char *uid, *name, *type, *list, *designated;
    char **aliases, **programs;
    size_t n_aliases, n_programs;
    bool *failed; /* the import's flag */
};

typedef struct {
    char *uid, *ticker, *text;
} listing;

struct wl_import {
    char *source, *format, *file, *sha256, *published;
    char warnings[512];
    bool test_nets, failed;
    double max_shrink_pct;
    bool allow_shrink;
    char *diff_json; /* the last commit attempt's diff, kept even when refused */
    wl_entity **ents;
    size_t n_ents, cap_ents;
    cw_htab index; /* uid (by reference: ents[i]->uid) -> i + 1; made at the first entity */
    listing *list;
    size_t n_list, cap_list;
};

static char *dup_or_fail(const char *s, bool *failed)
{
    char *d = strdup(s ? s : "");
    if (d == NULL)
        *failed = true;
    return d;
}

/* On failure the old value stays, so no field is ever NULL. */
static void set_str(char **dst, const char *s, bool *failed)
{
    char *d = strdup(s ? s : "");
    if (d == NULL) {
        *failed = true;
        return;
    }
    free(*dst);
    *dst = d;
}

wl_import *wl_import_new(const char *source, const char *format)
{
    wl_import *imp = calloc(1, sizeof *imp);
    if (imp == NULL)
        return NULL;
    imp->source = dup_or_fail(source, &imp->failed);
    imp->format = dup_or_fail(format, &imp->failed);
    imp->file = dup_or_fail("", &imp->failed);
    imp->sha256 = dup_or_fail("", &imp->failed);
    imp->published = dup_or_fail("", &imp->failed);
    imp->max_shrink_pct = WL_MAX_SHRINK_DEFAULT;
    return imp;
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void wl_import_free(wl_import *imp)
{
    if (imp == NULL)
        return;
    for (size_t i = 0; i < imp->n_ents; i++) {
        wl_entity *e = imp->ents[i];
        free(e->uid);
        free(e->name);
        free(e->type);
        free(e->list);
        free(e->designated);
        free_strs(e->aliases, e->n_aliases);
        free_strs(e->programs, e->n_programs);
        free(e);
    }
    free(imp->ents);
    cw_htab_free(&imp->index);
    for (size_t i = 0; i < imp->n_list; i++) {
        free(imp->list[i].uid);
        free(imp->list[i].ticker);
        free(imp->list[i].text);
    }
    free(imp->list);
    free(imp->source);
    free(imp->format);
    free(imp->file);
    free(imp->sha256);
    free(imp->published);
    free(imp->diff_json);
    free(imp);
}

void wl_import_allow_test_networks(wl_import *imp, bool allow) { imp->test_nets = allow; }
void wl_import_set_shrink(wl_import *imp, double max_pct, bool allow)
{
    imp->max_shrink_pct = max_pct < 0 ? 0 : max_pct > 100 ? 100 : max_pct;
    imp->allow_shrink = allow;
}
const char *wl_import_diff_json(const wl_import *imp) { return imp->diff_json; }
void wl_import_warn(wl_import *imp, const char *text)
{
    size_t used = strlen(imp->warnings);
    snprintf(imp->warnings + used, sizeof imp->warnings - used, "%s%s", used ? "; " : "", text);
}
void wl_import_set_file(wl_import *imp, const char *path, const char *sha)
{
    set_str(&imp->file, path, &imp->failed);
    set_str(&imp->sha256, sha, &imp->failed);
}
void wl_import_set_published(wl_import *imp, const char *d) { set_str(&imp->published, d, &imp->failed); }
bool wl_import_ok(const wl_import *imp) { return !imp->failed; }
size_t wl_import_address_count(const wl_import *imp) { return imp->n_list; }

bool wl_import_has_entity(const wl_import *imp, const char *uid)
{
    return cw_htab_get(&imp->index, uid, strlen(uid)) != NULL;
}

wl_entity *wl_import_entity(wl_import *imp, const char *uid)
{
    size_t *at = cw_htab_get(&imp->index, uid, strlen(uid));
    if (at)
        return imp->ents[*at - 1];
    if (imp->index.cap == 0 && htab_secret_init(&imp->index, 0, sizeof(size_t), 0, 256, NULL)) {
        imp->failed = true; /* a list file must not be able to pick uids that collide: a secret seed or nothing */
        return NULL;
    }
    if (imp->n_ents == imp->cap_ents) {
        size_t cap = imp->cap_ents ? imp->cap_ents * 2 : 64;
        wl_entity **v = realloc(imp->ents, cap * sizeof *v);
        if (v == NULL) {
            imp->failed = true;
            return NULL;
        }
        imp->ents = v;
        imp->cap_ents = cap;
    }
    wl_entity *e = calloc(1, sizeof *e);
    if (e == NULL) {
        imp->failed = true;
        return NULL;
    }
    e->failed = &imp->failed;
    e->uid = strdup(uid);
    e->name = strdup("");
    e->type = strdup("");
    e->list = strdup("");
    e->designated = strdup("");
    if (!e->uid || !e->name || !e->type || !e->list || !e->designated) {
        free(e->uid), free(e->name), free(e->type), free(e->list), free(e->designated), free(e);
        imp->failed = true;
        return NULL;
    }
    void *v = NULL;
    if (cw_htab_put(&imp->index, e->uid, strlen(e->uid), &v, NULL, NULL)) {
        free(e->uid), free(e->name), free(e->type), free(e->list), free(e->designated), free(e);
        imp->failed = true;
        return NULL;
    }
    imp->ents[imp->n_ents++] = e;
    *(size_t *)v = imp->n_ents;
    return e;
}

static void push_str(char ***v, size_t *n, const char *s, bool *failed)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i], s) == 0)
            return; /* keep each alias/program once */
    char **nv = realloc(*v, (*n + 1) * sizeof **v);
    char *copy = strdup(s);
    if (nv)
        *v = nv;
    if (nv == NULL || copy == NULL) {
        free(copy);
        *failed = true;
        return;
    }
    nv[(*n)++] = copy;
}

void wl_entity_set_name(wl_entity *e, const char *name) { set_str(&e->name, name, e->failed); }
const char *wl_entity_name(const wl_entity *e) { return e->name; }
void wl_entity_add_alias(wl_entity *e, const char *a)
{
    if (a[0] && strcmp(a, e->name) != 0)
        push_str(&e->aliases, &e->n_aliases, a, e->failed);
}
void wl_entity_add_program(wl_entity *e, const char *p)
{
    if (p[0])
        push_str(&e->programs, &e->n_programs, p, e->failed);
}
void wl_entity_set_type(wl_entity *e, const char *t) { set_str(&e->type, t, e->failed); }
void wl_entity_set_list(wl_entity *e, const char *l) { set_str(&e->list, l, e->failed); }
void wl_entity_set_designated(wl_entity *e, const char *d) { set_str(&e->designated, d, e->failed); }

void wl_import_address(wl_import *imp, const char *uid, const char *ticker, const char *text)
{
    if (uid == NULL || ticker == NULL || text == NULL) {
        imp->failed = true; /* the caller's copy failed */
        return;
    }
    if (imp->n_list == imp->cap_list) {
        size_t cap = imp->cap_list ? imp->cap_list * 2 : 256;
        listing *v = realloc(imp->list, cap * sizeof *v);
        if (v == NULL) {
            imp->failed = true;
            return;
        }
        imp->list = v;
        imp->cap_list = cap;
    }
    listing *l = &imp->list[imp->n_list];
    l->uid = strdup(uid);
    l->ticker = strdup(ticker);
    l->text = strdup(text);
    if (!l->uid || !l->ticker || !l->text) {
        free(l->uid), free(l->ticker), free(l->text);
        imp->failed = true;
        return;
    }
    imp->n_list++;
}

/* ---------- resolving ---------- */

typedef struct {
    uint8_t key[WL_KEY_MAX];
    size_t klen;
    uint8_t flags;
    char chain[32];
    char why[192]; /* for invalid and mismatched entries */
    char text[WL_TEXT_MAX + 1]; /* the listed text, trimmed: what the ref and the diff carry */
    bool decoded;
    cw_addr addr;
    /* Kept as text, but the text is also a valid Bitcoin/EVM/Tron address
     * (Omni USDT, BSV/BCH legacy, a testnet address in a mainnet list): the
     * same key can pay on that chain, so the ref is stored there too. */
    bool also_decoded;
    cw_addr also;
} resolved;

static void lower_copy(char *dst, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        dst[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
    dst[i] = '\0';
}

/* Refuses (CW_ELIMIT) text longer than WL_TEXT_MAX once trimmed: no
 * chain's address is that long, and cutting it would store a different
 * string than the list names. */
static cw_code resolve(const wl_import *imp, const listing *l, resolved *r, cw_err *errp)
{
    memset(r, 0, sizeof *r);
    const ticker_info *ti = ticker_lookup(l->ticker);
    if (ti == NULL || ti->decode == TICKER_DECODE_TOKEN) {
        if (ti == NULL)
            r->flags |= WL_REF_NEW_TICKER;
        lower_copy(r->chain, sizeof r->chain, l->ticker);
    } else {
        snprintf(r->chain, sizeof r->chain, "%s", ti->chain);
    }
    /* Layout (line breaks, indentation, a no-break or zero-width space a
     * copy from a web page carries) is never part of an address, around it
     * or inside it: it is dropped wherever it is. A trailing period ends a
     * remark sentence. Length is counted on what is kept. */
    size_t n = 0, dots = 0;
    for (const char *p = l->text; *p;) {
        size_t k = wl_layout_len(p, NULL);
        if (k) {
            p += k;
            continue;
        }
        if (n < WL_TEXT_MAX)
            r->text[n] = *p;
        dots = *p == '.' ? dots + 1 : 0;
        n++, p++;
    }
    r->text[n < WL_TEXT_MAX ? n : WL_TEXT_MAX] = '\0';
    if (n - dots > WL_TEXT_MAX)
        return cw_err_set(errp, CW_ELIMIT, CW_NO_OFFSET,
                          "entity %.60s: %.20s address of %zu characters (\"%.40s...\") is over the %d an address "
                          "may have: no chain's address is that long (two addresses run together, or a remark?): "
                          "refused rather than cut",
                          l->uid, l->ticker, n - dots, r->text, WL_TEXT_MAX);
    r->text[n - dots] = '\0';
    const char *t = r->text;

    cw_addr a;
    cw_err err = {0};
    wl_form form = wl_text_form(t, &a, &err);
    cw_code rc = form == WL_FORM_DECODED ? CW_OK : CW_EFORMAT;
    /* Tokens live on many chains: only their EVM (0x) and Tron (T) forms are
     * expected to decode; anything else (Solana, BNB Beacon, Omni) is text. */
    bool want_decoder = ti && ti->decode != TICKER_DECODE_TEXT &&
                        (ti->decode != TICKER_DECODE_TOKEN || (t[0] == '0' && t[1] == 'x') || t[0] == 'T');
    if (rc == CW_OK && a.chain == CW_CHAIN_BITCOIN && a.net != CW_NET_MAIN && !imp->test_nets)
        rc = cw_err_set(&err, CW_EARG, CW_NO_OFFSET, "a %s address in a mainnet list", cw_net_name((cw_net)a.net));
    if (rc == CW_OK && (want_decoder || ti == NULL)) {
        cw_chain expect = !ti ? 0
                          : ti->decode == TICKER_DECODE_BITCOIN ? CW_CHAIN_BITCOIN
                          : ti->decode == TICKER_DECODE_EVM     ? CW_CHAIN_EVM
                          : ti->decode == TICKER_DECODE_TRON    ? CW_CHAIN_TRON
                                                                : 0;
        if (expect && a.chain != expect) {
            r->flags |= WL_REF_MISMATCH;
            snprintf(r->why, sizeof r->why, "listed as %s but is a %s address", l->ticker,
                     cw_chain_name((cw_chain)a.chain));
        }
        snprintf(r->chain, sizeof r->chain, "%s", cw_chain_name((cw_chain)a.chain));
        r->decoded = true;
        r->addr = a;
        r->klen = wl_key_from_addr(&a, r->key);
        return CW_OK;
    }
    /* Kept as text: a chain we do not decode, or an address that failed. */
    r->flags |= WL_REF_TEXT;
    if (cw_addr_parse(t, CW_NET_ANY, &r->also, NULL) == CW_OK)
        r->also_decoded = true;
    /* Whatever the ticker, text that is no address, or has the shape of one
     * chainwatch decodes and fails, can never match a payment: flagged, so
     * the summary names it (the import still keeps it, see wl_import_commit). */
    if (want_decoder || form == WL_FORM_NONE || form == WL_FORM_BROKEN) {
        r->flags |= WL_REF_INVALID;
        snprintf(r->why, sizeof r->why, "%.191s", err.msg[0] ? err.msg : "not an address");
    }
    char norm[WL_TEXT_MAX + 16];
    if (!ticker_normalise_text(ti, t, norm, sizeof norm)) {
        snprintf(norm, sizeof norm, "%s", t[0] ? t : "(empty)");
        r->flags |= WL_REF_INVALID;
        snprintf(r->why, sizeof r->why, "empty or over %d characters once normalised", WL_TEXT_MAX);
    }
    r->klen = text_key(norm, r->key);
    return CW_OK;
}

/* Key-linked forms of a decoded address: the same key's other scripts.
 * Testnet and regtest share base58 forms, so a testnet P2PKH (m/n...) is
 * also regtest's: it links to both tb1q... and bcrt1q... */
static size_t linked_forms(const cw_addr *a, cw_addr out[4])
{
    size_t n = 0;
    if (a->chain == CW_CHAIN_BITCOIN && (a->kind == CW_ADDR_P2PKH || a->kind == CW_ADDR_P2WPKH)) {
        cw_addr x = *a;
        x.kind = a->kind == CW_ADDR_P2PKH ? CW_ADDR_P2WPKH : CW_ADDR_P2PKH;
        out[n++] = x;
        if (a->kind == CW_ADDR_P2PKH && a->net == CW_NET_TEST) {
            x.net = CW_NET_REGTEST;
            out[n++] = x;
        }
        uint8_t redeem[22] = {0x00, 0x14};
        memcpy(redeem + 2, a->payload, 20);
        cw_addr y = *a;
        y.kind = CW_ADDR_P2SH;
        cw_hash160(redeem, sizeof redeem, y.payload); /* P2SH-P2WPKH */
        out[n++] = y;
    } else if (a->chain == CW_CHAIN_EVM || a->chain == CW_CHAIN_TRON) {
        cw_addr x = *a;
        x.chain = a->chain == CW_CHAIN_EVM ? CW_CHAIN_TRON : CW_CHAIN_EVM;
        x.kind = a->chain == CW_CHAIN_EVM ? CW_ADDR_TRON : CW_ADDR_EVM;
        out[n++] = x;
    }
    return n;
}

/* ---------- committing ---------- */

typedef struct {
    uint8_t *key;
    size_t klen;
    uint8_t *val;
    size_t vlen;
} kv;

typedef struct {
    kv *v;
    size_t n, cap;
    bool failed;
} kv_list;

static void kv_push(kv_list *l, const void *k, size_t kn, const void *v, size_t vn)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        kv *nv = realloc(l->v, cap * sizeof *nv);
        if (nv == NULL) {
            l->failed = true;
            return;
        }
        l->v = nv;
        l->cap = cap;
    }
    kv *e = &l->v[l->n];
    e->key = malloc(kn ? kn : 1);
    e->val = malloc(vn ? vn : 1);
    if (e->key == NULL || e->val == NULL) {
        free(e->key);
        free(e->val);
        l->failed = true;
        return;
    }
    memcpy(e->key, k, kn);
    memcpy(e->val, v, vn);
    e->klen = kn;
    e->vlen = vn;
    l->n++;
}

static void kv_free(kv_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].key);
        free(l->v[i].val);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* A listed (not linked) designation as a comparable string for diffs. */
static char *diff_item(const char *uid, const char *ticker, const char *listed)
{
    size_t n = strlen(uid) + strlen(ticker) + strlen(listed) + 3;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s\x1f%s\x1f%s", listed, ticker, uid);
    return s;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

typedef struct {
    char **v;
    size_t n, cap;
    bool failed;
} str_list;

static void str_push(str_list *l, char *s)
{
    if (s == NULL) {
        l->failed = true;
        return;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        char **nv = realloc(l->v, cap * sizeof *nv);
        if (nv == NULL) {
            free(s);
            l->failed = true;
            return;
        }
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = s;
}

static void str_sort_unique(str_list *l)
{
    if (l->n == 0)
        return;
    qsort(l->v, l->n, sizeof *l->v, cmp_str);
    size_t w = 1;
    for (size_t i = 1; i < l->n; i++) {
        if (strcmp(l->v[i], l->v[w - 1]) == 0)
            free(l->v[i]);
        else
            l->v[w++] = l->v[i];
    }
    l->n = w;
}

static void str_free(str_list *l) { free_strs(l->v, l->n), memset(l, 0, sizeof *l); }

/* Writes the items of `a` missing from `b` (both sorted) as JSON objects. */
static size_t json_missing(cw_json *j, const str_list *a, const str_list *b, bool entities)
{
    size_t count = 0, k = 0;
    for (size_t i = 0; i < a->n; i++) {
        while (k < b->n && strcmp(b->v[k], a->v[i]) < 0)
            k++;
        if (k < b->n && strcmp(b->v[k], a->v[i]) == 0)
            continue;
        count++;
        char *copy = strdup(a->v[i]);
        if (copy == NULL)
            continue;
        char *f1 = copy, *f2 = strchr(f1, '\x1f'), *f3 = f2 ? strchr(f2 + 1, '\x1f') : NULL;
        if (f2) *f2++ = '\0';
        if (f3) *f3++ = '\0';
        cw_json_obj_begin(j);
        if (entities) {
            cw_json_key(j, "uid");
            cw_json_str(j, f1);
            cw_json_key(j, "name");
            cw_json_str(j, f2 ? f2 : "");
        } else {
            cw_json_key(j, "address");
            cw_json_str(j, f1);
            cw_json_key(j, "ticker");
            cw_json_str(j, f2 ? f2 : "");
            cw_json_key(j, "uid");
            cw_json_str(j, f3 ? f3 : "");
        }
        cw_json_obj_end(j);
        free(copy);
    }
    return count;
}

static void entity_json(cw_json *j, const wl_import *imp, const wl_entity *e)
{
    cw_json_obj_begin(j);
    cw_json_key(j, "aliases");
    cw_json_arr_begin(j);
    for (size_t i = 0; i < e->n_aliases; i++)
        cw_json_str(j, e->aliases[i]);
    cw_json_arr_end(j);
    cw_json_key(j, "designated");
    if (e->designated[0])
        cw_json_str(j, e->designated);
    else
        cw_json_null(j);
    cw_json_key(j, "list");
    cw_json_str(j, e->list);
    cw_json_key(j, "name");
    cw_json_str(j, e->name);
    cw_json_key(j, "programs");
    cw_json_arr_begin(j);
    for (size_t i = 0; i < e->n_programs; i++)
        cw_json_str(j, e->programs[i]);
    cw_json_arr_end(j);
    cw_json_key(j, "source");
    cw_json_str(j, imp->source);
    cw_json_key(j, "type");
    cw_json_str(j, e->type);
    cw_json_key(j, "uid");
    cw_json_str(j, e->uid);
    cw_json_obj_end(j);
}

/* "name n, name n" counts, most first. */
typedef struct {
    char name[40];
    size_t n;
} tally;

static void tally_add(tally *t, size_t *nt, size_t cap, const char *name)
{
    for (size_t i = 0; i < *nt; i++)
        if (strcmp(t[i].name, name) == 0) {
            t[i].n++;
            return;
        }
    if (*nt < cap) {
        snprintf(t[*nt].name, sizeof t[*nt].name, "%s", name);
        t[(*nt)++].n = 1;
    }
}

static int cmp_tally(const void *a, const void *b)
{
    const tally *x = a, *y = b;
    return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->name, y->name);
}

static void tally_text(tally *t, size_t nt, char *out, size_t cap)
{
    qsort(t, nt, sizeof *t, cmp_tally);
    out[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < nt && used + 1 < cap; i++) {
        int w = snprintf(out + used, cap - used, "%s%s %zu", i ? ", " : "", t[i].name, t[i].n);
        if (w < 0 || (size_t)w >= cap - used)
            break;
        used += (size_t)w;
    }
}

static void tally_json(cw_json *j, tally *t, size_t nt)
{
    qsort(t, nt, sizeof *t, cmp_tally);
    cw_json_obj_begin(j);
    for (size_t i = 0; i < nt; i++) {
        cw_json_key(j, t[i].name);
        cw_json_u64(j, t[i].n);
    }
    cw_json_obj_end(j);
}

/* Is `word` an item of the ", "-separated list? */
static bool list_has(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ','))
            return true;
    return false;
}

static void append(char *buf, size_t cap, const char *fmt, const char *a, const char *b, const char *c)
{
    size_t used = strlen(buf);
    if (used + 1 < cap)
        snprintf(buf + used, cap - used, fmt, a, b, c);
}

/* The shrink guard. A wrong file (another list sharing the schema, an
 * empty or cut download) parses cleanly and would replace the source's
 * list with a fraction of it, and every later screen would say "allow".
 * Counts are of distinct listed designations (address, ticker, uid). */
static cw_code check_shrink(const wl_import *imp, size_t previous, size_t now, wl_summary *sum, cw_err *err)
{
    sum->shrink_previous = previous;
    sum->shrink_new = now;
    sum->shrink_max_pct = imp->max_shrink_pct;
    sum->shrink_pct = previous ? 100.0 * (double)sum->removed / (double)previous : 0.0;
    const char *why = NULL;
    if (now == 0)
        why = "the new list has no addresses";
    else if (previous > 0 && sum->removed == previous)
        why = "it removes every address of the previous list";
    else if (previous > 0 && sum->shrink_pct > imp->max_shrink_pct)
        why = "it removes more than the allowed share";
    if (why == NULL || imp->allow_shrink)
        return CW_OK;
    sum->shrink_refused = true;
    return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET,
                      "source '%s': refused: %s: previous %zu addresses, new %zu, removed %zu (%.1f%%, limit "
                      "%.1f%%); if the list really shrank, import it again with --allow-shrink",
                      imp->source, why, previous, now, sum->removed, sum->shrink_pct, imp->max_shrink_pct);
}

typedef struct {
    wl_import *imp;
    resolved *res;
    wl_summary *sum;
    const char *now;
} import_write;

/* The import's write transaction (store_write runs it again after a full
 * map: it rebuilds *sum from the start). */
static cw_code write_import(store_txn *t, void *arg, cw_err *err)
{
    import_write *w = arg;
    wl_import *imp = w->imp;
    resolved *res = w->res;
    wl_summary *sum = w->sum;
    const char *now = w->now;
    cw_code rc = CW_OK;
    kv_list old_refs = {0}, old_ents = {0};
    str_list old_items = {0}, new_items = {0}, old_uids = {0}, new_uids = {0};
    cw_buf jb = CW_BUF_INIT;
    store_cursor *c = NULL;
    cw_span k, v;
    char *prev_meta = NULL;

    /* The source's current refs and entities, to delete and to diff. */
    if ((rc = store_cursor_open(t, STORE_WL_ADDR, &c, err)))
        goto fail;
    /* A ref that does not decode or a walk cut by a read error would leave
     * old refs in the store and out of the diff and the shrink guard. */
    for (bool more = store_cursor_seek(c, NULL, 0, &k, &v); more; more = store_cursor_next(c, &k, &v)) {
        wl_ref r;
        if (!decode_ref(v, &r)) {
            rc = bad_ref(t, k.p, k.n, err);
            goto fail;
        }
        if (strcmp(r.source, imp->source) != 0)
            continue;
        kv_push(&old_refs, k.p, k.n, v.p, v.n);
        if (!(r.flags & WL_REF_LINKED))
            str_push(&old_items, diff_item(r.uid, r.ticker, r.listed));
    }
    if ((rc = store_cursor_error(c, err))) {
        cw_err_prefix(err, rc, "source '%s': reading its previous list", imp->source);
        goto fail;
    }
    store_cursor_close(c);
    c = NULL;
    size_t sl = strlen(imp->source);
    if ((rc = store_cursor_open(t, STORE_WL_ENTITY, &c, err)))
        goto fail;
    for (bool more = store_cursor_seek(c, imp->source, sl + 1, &k, &v);
         more && k.n > sl && memcmp(k.p, imp->source, sl) == 0 && k.p[sl] == '\0'; more = store_cursor_next(c, &k, &v)) {
        kv_push(&old_ents, k.p, k.n, v.p, v.n);
        json_t *e = json_loadb((const char *)v.p, v.n, 0, NULL);
        const char *name = e ? json_string_value(json_object_get(e, "name")) : NULL;
        char uid[256];
        snprintf(uid, sizeof uid, "%.*s", (int)(k.n - sl - 1), (const char *)k.p + sl + 1);
        size_t n = strlen(uid) + (name ? strlen(name) : 0) + 2;
        char *item = malloc(n);
        if (item)
            snprintf(item, n, "%s\x1f%s", uid, name ? name : "");
        str_push(&old_uids, item);
        json_decref(e);
    }
    if ((rc = store_cursor_error(c, err))) {
        cw_err_prefix(err, rc, "source '%s': reading its previous entities", imp->source);
        goto fail;
    }
    store_cursor_close(c);
    c = NULL;
    if (old_refs.failed || old_ents.failed || old_items.failed || old_uids.failed) {
        rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory reading the previous list");
        goto fail;
    }
    cw_span pm;
    /* Only an absent record is "no previous import": an unreadable one
     * would drop the previous list from the diff. */
    rc = store_get(t, STORE_WL_META, imp->source, sl, &pm, err);
    if (rc == CW_OK) {
        if ((prev_meta = malloc(pm.n + 1)) == NULL) {
            rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory reading the previous list");
            goto fail;
        }
        memcpy(prev_meta, pm.p, pm.n);
        prev_meta[pm.n] = '\0';
    } else if (rc != CW_ENOTFOUND) {
        cw_err_prefix(err, rc, "source '%s': reading its previous import", imp->source);
        goto fail;
    }
    rc = CW_OK;
    for (size_t i = 0; i < old_refs.n; i++)
        if ((rc = store_del(t, STORE_WL_ADDR, old_refs.v[i].key, old_refs.v[i].klen, old_refs.v[i].val,
                            old_refs.v[i].vlen, err)) && rc != CW_ENOTFOUND)
            goto fail;
    for (size_t i = 0; i < old_ents.n; i++)
        if ((rc = store_del(t, STORE_WL_ENTITY, old_ents.v[i].key, old_ents.v[i].klen, NULL, 0, err)) &&
            rc != CW_ENOTFOUND)
            goto fail;

    /* The new refs: listed ones, then their linked forms. */
    tally chains[32], tickers[64], programs[128];
    size_t nc = 0, ntk = 0, np = 0;
    memset(sum, 0, sizeof *sum);
    for (size_t i = 0; i < imp->n_list; i++) {
        const listing *l = &imp->list[i];
        resolved *r = &res[i];
        const char *text = r->text;
        wl_ref ref = {r->flags, imp->source, l->uid, l->ticker, r->chain, text, NULL, NULL, 0, 0};
        uint8_t val[WL_REF_MAX];
        size_t vn = encode_ref(&ref, val, sizeof val);
        if (vn == 0 || r->klen == 0) {
            rc = cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET,
                            "designation of %.60s (entity %.60s) is too long to store: source, uid, ticker and "
                            "address together must fit in %d bytes",
                            l->text, l->uid, WL_REF_MAX);
            goto fail;
        }
        if ((rc = store_put(t, STORE_WL_ADDR, r->key, r->klen, val, vn, err)))
            goto fail;
        str_push(&new_items, diff_item(l->uid, l->ticker, text));
        sum->addresses++;
        tally_add(chains, &nc, 32, r->chain);
        tally_add(tickers, &ntk, 64, l->ticker);
        if (r->flags & WL_REF_TEXT)
            sum->text_kept++;
        if (r->flags & WL_REF_INVALID) {
            sum->n_invalid++;
            append(sum->invalid, sizeof sum->invalid, "%s %s (%s); ", l->ticker, text, r->why);
        }
        if (r->flags & WL_REF_MISMATCH) {
            sum->n_mismatched++;
            append(sum->mismatched, sizeof sum->mismatched, "%s%s (%s); ", "", text, r->why);
        }
        if ((r->flags & WL_REF_NEW_TICKER) && !list_has(sum->new_tickers, l->ticker)) {
            sum->n_new_tickers++;
            append(sum->new_tickers, sizeof sum->new_tickers, "%s%s%s", sum->new_tickers[0] ? ", " : "", l->ticker,
                   "");
        }
        if (r->also_decoded) {
            uint8_t lk[WL_KEY_MAX];
            size_t lkn = wl_key_from_addr(&r->also, lk);
            wl_ref lref = {WL_REF_LINKED | (r->flags & WL_REF_INVALID), imp->source, l->uid, l->ticker,
                           cw_chain_name((cw_chain)r->also.chain), text, text, NULL, 0, 0};
            if ((vn = encode_ref(&lref, val, sizeof val)) == 0) {
                rc = cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "designation of %.60s is too long to store", text);
                goto fail;
            }
            if ((rc = store_put(t, STORE_WL_ADDR, lk, lkn, val, vn, err)))
                goto fail;
            sum->linked++;
        }
        if (!r->decoded)
            continue;
        cw_addr forms[4];
        size_t nf = linked_forms(&r->addr, forms);
        for (size_t f = 0; f < nf; f++) {
            uint8_t lk[WL_KEY_MAX];
            size_t lkn = wl_key_from_addr(&forms[f], lk);
            char chain[32];
            snprintf(chain, sizeof chain, "%s", cw_chain_name((cw_chain)forms[f].chain));
            char ltext[CW_ADDR_TEXT_MAX];
            if (cw_addr_format(&forms[f], ltext, sizeof ltext) == 0)
                continue;
            wl_ref lref = {WL_REF_LINKED, imp->source, l->uid, l->ticker, chain, ltext, text, NULL, 0, 0};
            if ((vn = encode_ref(&lref, val, sizeof val)) == 0) {
                rc = cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET,
                                "key-linked form of %.60s (entity %.60s) is too long to store", text, l->uid);
                goto fail;
            }
            if ((rc = store_put(t, STORE_WL_ADDR, lk, lkn, val, vn, err)))
                goto fail;
            sum->linked++;
        }
    }
    /* Entities. */
    for (size_t i = 0; i < imp->n_ents; i++) {
        const wl_entity *e = imp->ents[i];
        uint8_t key[512];
        size_t kn = entity_key(imp->source, e->uid, key, sizeof key);
        jb.n = 0;
        cw_json j;
        cw_json_init(&j, &jb);
        entity_json(&j, imp, e);
        if (kn == 0 || !cw_json_ok(&j)) {
            rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "entity %.60s: record too large", e->uid);
            goto fail;
        }
        if ((rc = store_put(t, STORE_WL_ENTITY, key, kn, jb.p, jb.n, err)))
            goto fail;
        size_t n = strlen(e->uid) + strlen(e->name) + 2;
        char *item = malloc(n);
        if (item)
            snprintf(item, n, "%s\x1f%s", e->uid, e->name);
        str_push(&new_uids, item);
        for (size_t p = 0; p < e->n_programs; p++)
            tally_add(programs, &np, 128, e->programs[p]);
    }
    sum->entities = imp->n_ents;
    snprintf(sum->warnings, sizeof sum->warnings, "%s", imp->warnings);
    tally_text(chains, nc, sum->by_chain, sizeof sum->by_chain);
    tally_text(tickers, ntk, sum->by_ticker, sizeof sum->by_ticker);
    str_sort_unique(&old_items);
    str_sort_unique(&new_items);
    str_sort_unique(&old_uids);
    str_sort_unique(&new_uids);
    if (new_items.failed || new_uids.failed) {
        rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
        goto fail;
    }

    /* The diff against the previous import. */
    jb.n = 0;
    cw_json j;
    cw_json_init(&j, &jb);
    cw_json_obj_begin(&j);
    cw_json_key(&j, "source");
    cw_json_str(&j, imp->source);
    cw_json_key(&j, "previous");
    json_t *pmj = prev_meta ? json_loads(prev_meta, 0, NULL) : NULL;
    if (pmj) {
        cw_json_obj_begin(&j);
        const char *fields[] = {"imported_at", "published", "sha256", "file"};
        for (int f = 0; f < 4; f++) {
            cw_json_key(&j, fields[f]);
            cw_json_str(&j, json_string_value(json_object_get(pmj, fields[f])));
        }
        cw_json_obj_end(&j);
    } else {
        cw_json_null(&j);
    }
    json_decref(pmj);
    sum->had_previous = prev_meta != NULL;
    cw_json_key(&j, "current");
    cw_json_obj_begin(&j);
    cw_json_key(&j, "imported_at");
    cw_json_str(&j, now);
    cw_json_key(&j, "published");
    cw_json_str(&j, imp->published);
    cw_json_key(&j, "sha256");
    cw_json_str(&j, imp->sha256);
    cw_json_key(&j, "file");
    cw_json_str(&j, imp->file);
    cw_json_obj_end(&j);
    cw_json_key(&j, "added");
    cw_json_arr_begin(&j);
    sum->added = json_missing(&j, &new_items, &old_items, false);
    cw_json_arr_end(&j);
    cw_json_key(&j, "removed");
    cw_json_arr_begin(&j);
    sum->removed = json_missing(&j, &old_items, &new_items, false);
    cw_json_arr_end(&j);
    cw_json_key(&j, "entities_added");
    cw_json_arr_begin(&j);
    sum->entities_added = json_missing(&j, &new_uids, &old_uids, true);
    cw_json_arr_end(&j);
    cw_json_key(&j, "entities_removed");
    cw_json_arr_begin(&j);
    sum->entities_removed = json_missing(&j, &old_uids, &new_uids, true);
    cw_json_arr_end(&j);
    cw_json_obj_end(&j);
    if (!cw_json_ok(&j)) {
        rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory writing the diff");
        goto fail;
    }
    free(imp->diff_json);
    if ((imp->diff_json = malloc(jb.n + 1)) != NULL) {
        memcpy(imp->diff_json, jb.p, jb.n);
        imp->diff_json[jb.n] = '\0';
    }
    if ((rc = check_shrink(imp, old_items.n, new_items.n, sum, err)))
        goto fail;
    if ((rc = store_put(t, STORE_WL_DIFF, imp->source, sl, jb.p, jb.n, err)))
        goto fail;

    /* Provenance. */
    jb.n = 0;
    cw_json_init(&j, &jb);
    cw_json_obj_begin(&j);
    cw_json_key(&j, "source");
    cw_json_str(&j, imp->source);
    cw_json_key(&j, "format");
    cw_json_str(&j, imp->format);
    cw_json_key(&j, "file");
    cw_json_str(&j, imp->file);
    cw_json_key(&j, "sha256");
    cw_json_str(&j, imp->sha256);
    cw_json_key(&j, "published");
    cw_json_str(&j, imp->published);
    cw_json_key(&j, "imported_at");
    cw_json_str(&j, now);
    cw_json_key(&j, "addresses");
    cw_json_u64(&j, sum->addresses);
    cw_json_key(&j, "linked");
    cw_json_u64(&j, sum->linked);
    cw_json_key(&j, "entities");
    cw_json_u64(&j, sum->entities);
    cw_json_key(&j, "text_kept");
    cw_json_u64(&j, sum->text_kept);
    cw_json_key(&j, "invalid");
    cw_json_u64(&j, sum->n_invalid);
    cw_json_key(&j, "warnings");
    cw_json_str(&j, imp->warnings);
    cw_json_key(&j, "by_chain");
    tally_json(&j, chains, nc);
    cw_json_key(&j, "by_ticker");
    tally_json(&j, tickers, ntk);
    cw_json_key(&j, "by_program");
    tally_json(&j, programs, np);
    cw_json_obj_end(&j);
    if (!cw_json_ok(&j)) {
        rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory writing provenance");
        goto fail;
    }
    if ((rc = store_put(t, STORE_WL_META, imp->source, sl, jb.p, jb.n, err)))
        goto fail;
fail:
    store_cursor_close(c);
    kv_free(&old_refs);
    kv_free(&old_ents);
    str_free(&old_items);
    str_free(&new_items);
    str_free(&old_uids);
    str_free(&new_uids);
    cw_buf_free(&jb);
    free(prev_meta);
    return rc;
}

cw_code wl_import_commit(cw_store *s, wl_import *imp, wl_summary *out, cw_err *err)
{
    memset(out, 0, sizeof *out);
    if (imp->failed)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory while reading the list: nothing imported");
    resolved *res = calloc(imp->n_list ? imp->n_list : 1, sizeof *res);
    if (res == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory resolving %zu addresses", imp->n_list);
    for (size_t i = 0; i < imp->n_list; i++)
        if (resolve(imp, &imp->list[i], &res[i], err) != CW_OK) {
            free(res);
            return CW_ELIMIT;
        }
    char now[32];
    time_t tt = time(NULL);
    struct tm tm;
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
    import_write w = {imp, res, out, now};
    cw_code rc = store_write(s, write_import, &w, err);
    free(res);
    return rc;
}
