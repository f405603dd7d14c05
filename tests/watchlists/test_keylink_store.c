/* watchlists/keylink: links in the store, seen by the watchlist's own
 * lookups, taken back by the journal, following the root's designation.
 * Keys: the generator G (private key 1) and private key 3, whose forms
 * tests/chains/keylink_oracle.py computed independently (mainnet text). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chains/addr.h"
#include "chains/hex.h"
#include "chains/keylink.h"
#include "tests/support.h"
#include "watchlists/keylink.h"
#include "watchlists/store/journal.h"
#include "watchlists/store/store.h"
#include "watchlists/watchlist.h"

#define G_COMP "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
#define G_P2PKH "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"
#define G_P2PKH_U "1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm"
#define G_P2WPKH "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
#define G_P2SH "3JvL6Ymt8MVWiCNHC7oWU6nLeHNJKLZGLN"
#define G_P2TR "bc1pmfr3p9j00pfxjh0zmgp99y8zftmd3s5pmedqhyptwy6lm87hf5sspknck9"
#define G_EVM "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
#define G_TRON "TMVQGm1qAQYVdetCeGRRkTWYYrLXuHK2HC"
#define K3_COMP "02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
#define K3_EVM "0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69"

typedef struct {
    char *dir;
    cw_store *s;
} fx;

static void import(fx *f, const char *const *texts, const char *const *tickers, size_t n)
{
    wl_import *imp = wl_import_new("test", "csv");
    wl_import_set_shrink(imp, 100, true);
    for (size_t i = 0; i < n; i++) {
        char uid[32];
        snprintf(uid, sizeof uid, "e%zu", i);
        wl_entity_set_name(wl_import_entity(imp, uid), uid);
        wl_import_address(imp, uid, tickers[i], texts[i]);
    }
    if (n == 0) { /* an import of nothing: the list emptied */
        wl_entity_set_name(wl_import_entity(imp, "none"), "none");
    }
    wl_summary sum;
    cw_err err = {0};
    cr_assert_eq(wl_import_commit(f->s, imp, &sum, &err), CW_OK, "%s", err.msg);
    wl_import_free(imp);
}

static void fx_open(fx *f)
{
    f->dir = strdup("/tmp/cw-klstore-XXXXXX");
    cr_assert_not_null(mkdtemp(f->dir));
    cr_assert_eq(store_open(f->dir, 0, false, &f->s, NULL), CW_OK);
}

static void fx_close(fx *f)
{
    store_close(f->s);
    test_remove_dir(f->dir);
}

static cw_pubkey key(const char *hex)
{
    uint8_t b[65];
    size_t n;
    cr_assert_eq(cw_hex_decode(hex, strlen(hex), b, sizeof b, &n, NULL), CW_OK);
    cw_pubkey k;
    cr_assert_eq(cw_pubkey_parse(b, n, &k, NULL), CW_OK);
    return k;
}

typedef struct {
    const cw_pubkey *k;
    cw_chain chain;
    int64_t height;
    uint8_t txid[32];
    uint8_t block[32];
    keylink_stats st;
} obs;

/* One block's write: observe, save the journal under the block's hash. */
static cw_code observe_fn(store_txn *t, void *arg, cw_err *err)
{
    obs *o = arg;
    memset(&o->st, 0, sizeof o->st);
    journal j;
    journal_init(&j, t);
    cw_code rc = keylink_observe(&j, o->k, CW_NET_MAIN, o->chain, CW_REVEALED_BY_P2WPKH, o->txid, o->height, &o->st, err);
    if (rc == CW_OK)
        rc = journal_save(&j, o->block, err);
    journal_free(&j);
    return rc;
}

static keylink_stats observe(fx *f, const cw_pubkey *k, cw_chain chain, int64_t height, uint8_t tag)
{
    obs o = {k, chain, height, {0}, {0}, {0}};
    memset(o.txid, tag, 32);
    memset(o.block, tag, 32);
    o.block[0] = 0xbb;
    cw_err err = {0};
    cr_assert_eq(store_write(f->s, observe_fn, &o, &err), CW_OK, "%s", err.msg);
    return o.st;
}

typedef struct {
    size_t n;
    char flags[8][8], listed[8][100], linked_from[8][100], uid[8][16], txid[8][67];
} refs;

static void take(void *ctx, const wl_ref *r)
{
    refs *x = ctx;
    if (x->n >= 8)
        return;
    snprintf(x->flags[x->n], 8, "%s%s", r->flags & WL_REF_LINKED ? "L" : "", r->flags & WL_REF_KEYLINK ? "K" : "");
    snprintf(x->listed[x->n], 100, "%s", r->listed);
    snprintf(x->linked_from[x->n], 100, "%s", r->linked_from ? r->linked_from : "-");
    snprintf(x->uid[x->n], 16, "%s", r->uid);
    if (r->reveal_txid)
        keylink_txid_text((cw_chain)r->reveal_chain, r->reveal_txid, x->txid[x->n]);
    else
        strcpy(x->txid[x->n], "-");
    x->n++;
}

static refs lookup(fx *f, const char *text, bool *listed)
{
    cw_addr a;
    cr_assert_eq(cw_addr_parse(text, CW_NET_MAIN, &a, NULL), CW_OK, "%s", text);
    uint8_t k[WL_KEY_MAX];
    size_t kn = wl_key_from_addr(&a, k);
    store_txn *t;
    cr_assert_eq(store_begin(f->s, false, &t, NULL), CW_OK);
    refs r;
    memset(&r, 0, sizeof r);
    size_t count;
    cw_err err = {0};
    cr_assert_eq(wl_lookup(t, k, kn, take, &r, &count, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(count, r.n);
    cr_assert_eq(wl_is_listed(t, k, kn, listed, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(*listed, count > 0, "wl_is_listed and wl_lookup agree on %s", text);
    store_abort(t);
    return r;
}

Test(keylink_store, evm_designation_links_bitcoin_forms_with_evidence)
{
    fx f;
    fx_open(&f);
    const char *texts[] = {G_EVM};
    const char *tick[] = {"ETH"};
    import(&f, texts, tick, 1);
    cw_pubkey g = key(G_COMP);
    keylink_stats st = observe(&f, &g, CW_CHAIN_BITCOIN, 700000, 0x11);
    cr_assert_eq(st.keys, 1);
    cr_assert_eq(st.designated, 1);
    cr_assert_eq(st.links, 5, "every form but the root and the import's Tron link: %llu", (unsigned long long)st.links);
    static const char *const linked[] = {G_P2PKH, G_P2PKH_U, G_P2WPKH, G_P2SH, G_P2TR};
    for (size_t i = 0; i < 5; i++) {
        bool l;
        refs r = lookup(&f, linked[i], &l);
        cr_assert_eq(r.n, 1, "%s", linked[i]);
        cr_assert_str_eq(r.flags[0], "LK");
        cr_assert_str_eq(r.listed[0], linked[i]);
        cr_assert_str_eq(r.linked_from[0], G_EVM);
        cr_assert_str_eq(r.uid[0], "e0");
        cr_assert_str_eq(r.txid[0], "1111111111111111111111111111111111111111111111111111111111111111");
    }
    /* Tron: the import linked it already (EVM and Tron share the 20 bytes): no runtime link */
    bool l;
    refs r = lookup(&f, G_TRON, &l);
    cr_assert_eq(r.n, 1);
    cr_assert_str_eq(r.flags[0], "L");
    cr_assert_str_eq(r.txid[0], "-");
    /* the same key again, in a later block: nothing new */
    st = observe(&f, &g, CW_CHAIN_BITCOIN, 700001, 0x22);
    cr_assert_eq(st.designated, 1);
    cr_assert_eq(st.links, 0);
    r = lookup(&f, G_P2WPKH, &l);
    cr_assert_str_eq(r.txid[0], "1111111111111111111111111111111111111111111111111111111111111111", "the first reveal stays");
    /* a key none of whose forms is designated links nothing */
    cw_pubkey k3 = key(K3_COMP);
    st = observe(&f, &k3, CW_CHAIN_BITCOIN, 700002, 0x33);
    cr_assert_eq(st.keys, 1);
    cr_assert_eq(st.designated, 0);
    cr_assert_eq(st.links, 0);
    fx_close(&f);
}

Test(keylink_store, a_direct_listing_is_the_root_over_an_imported_link)
{
    fx f;
    fx_open(&f);
    /* Tron listed: the import links the EVM form (WL_REF_LINKED); EVM comes
     * first in form order but the Tron listing is the one to hang on */
    const char *texts[] = {G_TRON};
    const char *tick[] = {"TRX"};
    import(&f, texts, tick, 1);
    cw_pubkey g = key(G_COMP);
    keylink_stats st = observe(&f, &g, CW_CHAIN_EVM, 19000000, 0x44);
    cr_assert_eq(st.links, 5, "the five Bitcoin forms (EVM is the import's link)");
    bool l;
    refs r = lookup(&f, G_P2PKH, &l);
    cr_assert_str_eq(r.linked_from[0], G_TRON);
    cr_assert_str_eq(r.txid[0], "0x4444444444444444444444444444444444444444444444444444444444444444",
                     "an EVM txid as the node prints it");
    fx_close(&f);
}

Test(keylink_store, links_follow_the_root_designation)
{
    fx f;
    fx_open(&f);
    const char *texts[] = {G_EVM};
    const char *tick[] = {"ETH"};
    import(&f, texts, tick, 1);
    cw_pubkey g = key(G_COMP);
    observe(&f, &g, CW_CHAIN_BITCOIN, 10, 0x11);
    bool l;
    lookup(&f, G_P2PKH, &l);
    cr_assert(l);
    /* the next import delists it: the link carries nothing */
    const char *other[] = {K3_EVM};
    import(&f, other, tick, 1);
    refs r = lookup(&f, G_P2PKH, &l);
    cr_assert(!l);
    cr_assert_eq(r.n, 0);
    /* relisted under P2PKH: a new reveal replaces the stale links */
    const char *again[] = {G_P2PKH};
    const char *xbt[] = {"XBT"};
    import(&f, again, xbt, 1);
    keylink_stats st = observe(&f, &g, CW_CHAIN_BITCOIN, 20, 0x55);
    /* P2WPKH and P2SH-P2WPKH are the import's links of the P2PKH now: the
     * stale links of P2PKH_UNCOMP, P2TR, EVM and Tron are rewritten */
    cr_assert_eq(st.links, 4, "%llu", (unsigned long long)st.links);
    r = lookup(&f, G_EVM, &l);
    cr_assert(l);
    cr_assert_str_eq(r.linked_from[0], G_P2PKH);
    fx_close(&f);
}

static cw_code revert_fn(store_txn *t, void *arg, cw_err *err) { return journal_revert_block(t, arg, true, err); }

typedef struct {
    cw_chain chain;
    int64_t h;
    uint64_t removed;
} sweep;
static cw_code sweep_fn(store_txn *t, void *arg, cw_err *err)
{
    sweep *s = arg;
    return keylink_disconnect(t, s->chain, s->h, &s->removed, err);
}

static size_t count_links(fx *f)
{
    store_txn *t;
    cr_assert_eq(store_begin(f->s, false, &t, NULL), CW_OK);
    store_cursor *c;
    cr_assert_eq(store_cursor_open(t, STORE_KEYLINK, &c, NULL), CW_OK);
    cw_span k, v;
    size_t n = 0;
    for (bool more = store_cursor_seek(c, NULL, 0, &k, &v); more; more = store_cursor_next(c, &k, &v)) {
        cr_assert_null(keylink_check_record(k, v));
        n++;
    }
    store_cursor_close(c);
    store_abort(t);
    return n;
}

Test(keylink_store, journal_revert_and_the_height_sweep_take_links_back)
{
    fx f;
    fx_open(&f);
    const char *texts[] = {G_EVM, K3_EVM};
    const char *tick[] = {"ETH", "ETH"};
    import(&f, texts, tick, 2);
    cw_pubkey g = key(G_COMP), k3 = key(K3_COMP);
    observe(&f, &g, CW_CHAIN_BITCOIN, 100, 0x11);
    observe(&f, &k3, CW_CHAIN_EVM, 100, 0x22);
    cr_assert_eq(count_links(&f), 10);
    uint8_t block[32];
    memset(block, 0x11, 32);
    block[0] = 0xbb;
    cw_err err = {0};
    cr_assert_eq(store_write(f.s, revert_fn, block, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(count_links(&f), 5, "the Bitcoin block's links are gone, the EVM block's stay");
    bool l;
    lookup(&f, G_P2PKH, &l);
    cr_assert(!l);
    /* the sweep: Bitcoin's links at 100 or above (none left), then EVM's at 101 (none), at 100 (five) */
    observe(&f, &g, CW_CHAIN_BITCOIN, 99, 0x33);
    sweep s = {CW_CHAIN_BITCOIN, 100, 0};
    cr_assert_eq(store_write(f.s, sweep_fn, &s, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(s.removed, 0);
    s = (sweep){CW_CHAIN_EVM, 101, 0};
    cr_assert_eq(store_write(f.s, sweep_fn, &s, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(s.removed, 0);
    s = (sweep){CW_CHAIN_EVM, 100, 0};
    cr_assert_eq(store_write(f.s, sweep_fn, &s, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(s.removed, 5);
    s = (sweep){CW_CHAIN_BITCOIN, 99, 0};
    cr_assert_eq(store_write(f.s, sweep_fn, &s, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(s.removed, 5);
    cr_assert_eq(count_links(&f), 0);
    fx_close(&f);
}

static cw_code put_fn(store_txn *t, void *arg, cw_err *err)
{
    const cw_span *kv = arg;
    return store_put(t, STORE_KEYLINK, kv[0].p, kv[0].n, kv[1].p, kv[1].n, err);
}

Test(keylink_store, a_damaged_link_fails_closed)
{
    fx f;
    fx_open(&f);
    const char *texts[] = {G_EVM};
    const char *tick[] = {"ETH"};
    import(&f, texts, tick, 1);
    cw_addr a;
    cr_assert_eq(cw_addr_parse(G_P2PKH, CW_NET_MAIN, &a, NULL), CW_OK);
    uint8_t k[WL_KEY_MAX];
    size_t kn = wl_key_from_addr(&a, k);
    static const char junk[] = "\x01\x01\x03not a link";
    cw_span kv[2] = {{k, kn}, {(const uint8_t *)junk, sizeof junk}};
    cw_err err = {0};
    cr_assert_eq(store_write(f.s, put_fn, kv, &err), CW_OK, "%s", err.msg);
    cr_assert_str_eq(keylink_check_record(kv[0], kv[1]), "a key link that does not decode");
    store_txn *t;
    cr_assert_eq(store_begin(f.s, false, &t, NULL), CW_OK);
    bool listed = true;
    cr_assert_eq(wl_is_listed(t, k, kn, &listed, &err), CW_EDAMAGED, "never 'not listed'");
    cr_assert(!listed);
    cr_assert(strstr(err.msg, STORE_DAMAGED) && strstr(err.msg, G_P2PKH), "%s", err.msg);
    size_t count = 9;
    cr_assert_eq(wl_lookup(t, k, kn, NULL, NULL, &count, &err), CW_EDAMAGED);
    cr_assert_eq(count, 0);
    store_abort(t);
    /* observing the key must not read the damaged link as absent either */
    cw_pubkey g = key(G_COMP);
    obs o = {&g, CW_CHAIN_BITCOIN, 5, {0}, {0}, {0}};
    cr_assert_eq(store_write(f.s, observe_fn, &o, &err), CW_EDAMAGED, "%s", err.msg);
    /* a recovered sender that is no valid point is refused, nothing written */
    uint8_t bad[65] = {0x04};
    journal j;
    cr_assert_eq(store_begin(f.s, true, &t, NULL), CW_OK);
    journal_init(&j, t);
    cr_assert_eq(keylink_observe_sender(&j, bad, CW_NET_MAIN, CW_CHAIN_EVM, bad + 1, 1, NULL, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "recovered sender") && strstr(err.msg, "not a point"), "%s", err.msg);
    journal_free(&j);
    store_abort(t);
    fx_close(&f);
}

typedef struct {
    keylink_seen *seen;
    keylink_scope scope;
} scope_read;
static cw_code scope_fn(store_txn *t, void *arg, cw_err *err)
{
    scope_read *r = arg;
    return keylink_scope_read(t, CW_NET_MAIN, r->seen, &r->scope, err);
}

static cw_code observe_tx_fn(store_txn *t, void *arg, cw_err *err)
{
    const void **a = arg;
    journal j;
    journal_init(&j, t);
    cw_code rc = keylink_tx(&j, a[0], 30, a[1], (keylink_stats *)a[2], err);
    journal_free(&j);
    return rc;
}

/* The scope follows the kinds imports list; a listed taproot form is found
 * through the BIP-86 tweak only when taproot is in scope. */
Test(keylink_store, scope_and_a_taproot_root)
{
    fx f;
    fx_open(&f);
    const char *texts[] = {G_EVM};
    const char *tick[] = {"ETH"};
    import(&f, texts, tick, 1);
    scope_read rd = {NULL, {0, NULL}};
    keylink_scope sc;
    cw_err err = {0};
    cr_assert_eq(store_write(f.s, scope_fn, &rd, &err), CW_OK, "%s", err.msg);
    sc = rd.scope;
    cr_assert_eq(sc.forms, (1u << CW_FORM_EVM) | (1u << CW_FORM_TRON), "EVM listed, Tron its import link: %#x", sc.forms);
    /* key 3's taproot address listed (oracle: bc1pgxxy...) */
    const char *tr[] = {"bc1pgxxyvcmdncdxs06cudd5yvmwwahaesaj6n3eu7st7x4sw9hrchaqjy33gs"};
    const char *xbt[] = {"XBT"};
    import(&f, tr, xbt, 1);
    cr_assert_eq(store_write(f.s, scope_fn, &rd, &err), CW_OK, "%s", err.msg);
    sc = rd.scope;
    cr_assert_eq(sc.forms, 1u << CW_FORM_P2TR, "%#x", sc.forms);
    /* a tx whose P2PK output is key 3: out of scope (no taproot) nothing, in scope the link */
    cw_pubkey k3 = key(K3_COMP);
    uint8_t script[35] = {33};
    memcpy(script + 1, k3.compressed, 33);
    script[34] = 0xac;
    cw_txout out;
    memset(&out, 0, sizeof out);
    out.script = (cw_span){script, 35};
    out.type = CW_SCRIPT_P2PK;
    cw_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.chain = CW_CHAIN_BITCOIN;
    tx.net = CW_NET_MAIN;
    tx.out = &out;
    tx.n_out = 1;
    keylink_scope none = {CW_FORMS_ALL & ~(1u << CW_FORM_P2TR), NULL};
    keylink_stats st = {0};
    const void *a[3] = {&tx, &none, &st};
    cr_assert_eq(store_write(f.s, observe_tx_fn, a, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(st.keys, 1);
    cr_assert_eq(st.designated, 0, "taproot out of scope: not checked");
    memset(&st, 0, sizeof st);
    a[1] = &sc;
    cr_assert_eq(store_write(f.s, observe_tx_fn, a, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(st.designated, 1);
    cr_assert_eq(st.links, 6, "all six other forms, computed once a root is found");
    bool l;
    refs r = lookup(&f, K3_EVM, &l);
    cr_assert_str_eq(r.linked_from[0], tr[0]);
    fx_close(&f);
}

/* The memory of clean keys: a key seen clean is not computed again, until
 * an import (which may designate one of its forms) empties it. */
Test(keylink_store, clean_keys_are_remembered_until_an_import)
{
    fx f;
    fx_open(&f);
    const char *texts[] = {G_EVM};
    const char *tick[] = {"ETH"};
    import(&f, texts, tick, 1);
    keylink_seen *seen = keylink_seen_new();
    cr_assert_not_null(seen);
    cw_pubkey k3 = key(K3_COMP);
    uint8_t script[67] = {65};
    memcpy(script + 1, k3.uncompressed, 65); /* seen uncompressed, remembered by its compressed bytes */
    script[66] = 0xac;
    cw_txout out;
    memset(&out, 0, sizeof out);
    out.script = (cw_span){script, 67};
    out.type = CW_SCRIPT_P2PK;
    cw_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.chain = CW_CHAIN_BITCOIN;
    tx.net = CW_NET_MAIN;
    tx.out = &out;
    tx.n_out = 1;
    cw_err err = {0};
    keylink_stats st[4];
    memset(st, 0, sizeof st);
    for (int round = 0; round < 4; round++) {
        if (round == 2) {
            const char *both[] = {G_EVM, K3_EVM};
            const char *ticks[] = {"ETH", "ETH"};
            import(&f, both, ticks, 2); /* key 3's EVM address is designated now */
        }
        scope_read rd = {seen, {0, NULL}};
        cr_assert_eq(store_write(f.s, scope_fn, &rd, &err), CW_OK, "%s", err.msg);
        const void *a[3] = {&tx, &rd.scope, &st[round]};
        cr_assert_eq(store_write(f.s, observe_tx_fn, a, &err), CW_OK, "%s", err.msg);
    }
    cr_assert(st[0].keys == 1 && st[0].seen == 0 && st[0].designated == 0, "first sight: computed, clean");
    cr_assert(st[1].keys == 1 && st[1].seen == 1, "second: remembered, nothing computed");
    cr_assert(st[2].seen == 0 && st[2].designated == 1 && st[2].links == 5, "after the import: computed again, linked");
    cr_assert(st[3].seen == 0 && st[3].designated == 1 && st[3].links == 0, "a designated key is never remembered as clean");
    bool l;
    refs r = lookup(&f, "1NZUP3JAc9JkmbvmoTv7nVgZGtyJjirKV1", &l); /* key 3's uncompressed P2PKH (oracle) */
    cr_assert(l);
    cr_assert_str_eq(r.linked_from[0], K3_EVM);
    keylink_seen_free(seen);
    fx_close(&f);
}
