/*
 * watchlist.h: designations in the store. Importers feed a wl_import with
 * entities and listed addresses; wl_import_commit() resolves every address
 * (decoded where chainwatch can, kept as normalised text where it cannot,
 * never dropped), adds the key-linked forms, and replaces the source's
 * previous list in one write transaction, recording provenance and the diff
 * against the previous import. Lookups read wl_addr by key.
 *
 * Address keys (wl_addr): 'a' + chain + address space + kind + version +
 * len + payload for decoded addresses; 't' + normalised text otherwise.
 * Testnet and regtest share base58 forms, so their P2PKH/P2SH keys share
 * the testnet space; EVM and Tron keys are always mainnet.
 *
 * Errors: lookups fail closed. A store error or a designation that does
 * not decode is returned (CW_ESTORE, CW_EDAMAGED with STORE_DAMAGED in the
 * message), never "not listed"; callers treat it as "unknown" (exit 3,
 * stop the batch: store_error_stops()).
 *
 * Ownership: a wl_import owns every string it is given (copied) and every
 * wl_entity it hands out (valid until wl_import_free). A wl_ref's strings
 * point into the store (valid until its transaction ends) or, inside the
 * import, into the import's buffers. Lookups take a read or write
 * transaction the caller owns; wl_import_commit opens its own write
 * transactions, so the caller must hold none on that store.
 */
#ifndef CW_WATCHLIST_H
#define CW_WATCHLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/model.h"
#include "watchlists/store/store.h"

#define WL_KEY_MAX 128
#define WL_REF_MAX 511 /* LMDB's limit on a DUPSORT value */
/* Longest address text an import stores (Monero integrated addresses are
 * 106): a longer one, once trimmed, makes wl_import_commit refuse the
 * import rather than store it cut. */
#define WL_TEXT_MAX 120
/* Default of the shrink guard (wl_import_set_shrink): percent of a source's
 * previous addresses an import may remove. */
#define WL_MAX_SHRINK_DEFAULT 10.0

enum {
    WL_REF_LINKED = 1 << 0,   /* not listed itself: a key-linked form of `linked_from` */
    WL_REF_INVALID = 1 << 1,  /* failed its checksum or format: kept as text, flagged */
    WL_REF_MISMATCH = 1 << 2, /* the ticker names another chain than the address's form */
    WL_REF_TEXT = 1 << 3,     /* a chain chainwatch does not decode yet: kept as text */
    WL_REF_NEW_TICKER = 1 << 4,
    /* never stored: a ref wl_lookup builds for an address a revealed key
     * links to a designated one at run time (keylink.h), always with
     * WL_REF_LINKED; the reveal_ fields say where the key was seen */
    WL_REF_KEYLINK = 1 << 5,
};

/* One designation of one address, as stored (strings point into the store
 * or the caller's buffer; valid until the transaction ends). For a
 * WL_REF_KEYLINK ref: source, uid and ticker are the root's designation,
 * chain and listed this address's, linked_from the root (the designated
 * address), reveal_txid (32 bytes, the chain's order: keylink.h),
 * reveal_chain and reveal_height the tx that revealed the key; for every
 * other ref reveal_txid is NULL. */
typedef struct {
    uint8_t flags;
    const char *source, *uid, *ticker, *chain, *listed, *linked_from;
    const uint8_t *reveal_txid;
    uint8_t reveal_chain;
    int64_t reveal_height;
} wl_ref;

/* ---- address text ---- */
/* Layout, never part of an address: ASCII whitespace, the Unicode spaces
 * (U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F,
 * U+3000) and the invisible format characters a copy from a web page or a
 * word processor carries along (U+00AD, U+180E, U+200B..U+200F,
 * U+202A..U+202E, U+2060..U+2064, U+2066..U+2069, U+FEFF). Returns the
 * byte length (UTF-8) of the one s starts with, 0 when s starts with
 * anything else or NUL (it reads no byte past a NUL); *space (may be NULL)
 * is set when it separates words (a space, a line break) rather than being
 * invisible. The one predicate every importer uses. */
size_t wl_layout_len(const char *s, bool *space);

/* What a text is, as an address. The one place that decides it, for the
 * importers (wl_import_commit) and for lookups. */
typedef enum {
    WL_FORM_NONE,    /* no address of any form: empty, whitespace or a control
                      * character, a character no address uses (anything not
                      * ASCII, ';', '/', ...), over WL_TEXT_MAX */
    WL_FORM_DECODED, /* a Bitcoin (any network), EVM or Tron address */
    WL_FORM_TEXT,    /* the form of a chain kept as text (Litecoin, Monero, CashAddr, ...) */
    WL_FORM_BROKEN,  /* shaped like a Bitcoin, EVM or Tron address, or one
                      * with something pasted along, but it does not decode:
                      * 0x..., bc1/tb1/bcrt1..., base58 1/3/m/n/2 of 25..35
                      * characters, T of 25..40, 40 hex digits (0x dropped),
                      * a payment URI (bitcoin:1...), punctuation at either
                      * end (1....).  A typo far more likely than another
                      * chain's address. */
} wl_form;
/* Classifies text as given (nothing is trimmed: the caller decides what
 * layout it drops). For WL_FORM_DECODED, *decoded (may be NULL) is the
 * address; for WL_FORM_NONE and WL_FORM_BROKEN, why (may be NULL) says
 * what is wrong, in words a user can act on. */
wl_form wl_text_form(const char *text, cw_addr *decoded, cw_err *why);

/* ---- keys ---- */
/* The wl_addr key of a decoded address into out; returns its length (6 +
 * payload, never 0). Never fails. */
size_t wl_key_from_addr(const cw_addr *a, uint8_t out[WL_KEY_MAX]);
/* The key text is stored under, by its wl_text_form (*form, may be NULL):
 * the binary address for WL_FORM_DECODED, the normalised text for
 * WL_FORM_TEXT and WL_FORM_BROKEN (an import keeps broken text as listed,
 * flagged WL_REF_INVALID, so that is where a lookup finds it). Returns the
 * key length, or 0 with err set for WL_FORM_NONE. A caller that answers
 * "not listed" must refuse WL_FORM_BROKEN text no list holds: err says why. */
size_t wl_key_of_text(const char *text, uint8_t out[WL_KEY_MAX], wl_form *form, cw_err *err);
/* Text as a user or a file gives it, when only an address will do: the key
 * for WL_FORM_DECODED and WL_FORM_TEXT; 0 with err set for WL_FORM_NONE and
 * WL_FORM_BROKEN: a typo must not read as "not listed". */
size_t wl_key_from_text(const char *text, uint8_t out[WL_KEY_MAX], cw_err *err);

/* The address text of a key (as cw_addr_format writes it, or the kept
 * text) into out (NUL-terminated); returns its length, 0 for a key that is
 * neither or when cap is too small (out is then ""). Regtest P2PKH/P2SH
 * keys come back in testnet form (the same text). */
size_t wl_key_to_text(const uint8_t *key, size_t klen, char *out, size_t cap);

/* ---- lookups ----
 * Lookups see two sources of designations: what imports listed (wl_addr,
 * with the key-linked forms an import derives from a listed address), and
 * the addresses a revealed public key linked to a designated one while
 * the monitor ran (keylink.h): a linked address counts as listed while its
 * root is. */
/* Sets *listed when the key has any designation, listed or key-linked (the
 * monitor's hot path: a store_get in wl_addr and one in keylink, usually
 * answered by their Bloom filters). Returns CW_OK (listed or not), or the
 * store's error (CW_ESTORE, CW_EDAMAGED; message prefixed "watchlist")
 * with *listed false: the caller must treat that as "unknown", never as
 * clean. Does not decode the refs. */
cw_code wl_is_listed(store_txn *t, const uint8_t *key, size_t klen, bool *listed, cw_err *err);
/* The same for what imports listed only (wl_addr), without runtime key
 * links: what a key link may hang on. */
cw_code wl_is_listed_by_import(store_txn *t, const uint8_t *key, size_t klen, bool *listed, cw_err *err);
typedef void (*wl_ref_fn)(void *ctx, const wl_ref *ref);
/* Calls fn (may be NULL: count only) for each ref under key in value
 * order, then, when a revealed key links the address to a designated
 * root, for each of the root's refs as a WL_REF_KEYLINK ref; *count
 * receives how many (0: not listed). The ref's strings live
 * until t ends; fn must not write to the store. A read error returns the
 * store's code (CW_ESTORE, CW_EDAMAGED), a ref that does not decode
 * CW_EDAMAGED (message starting with STORE_DAMAGED), with *count 0: fn may
 * have been called for refs before it, so the caller discards what it
 * gathered. */
cw_code wl_lookup(store_txn *t, const uint8_t *key, size_t klen, wl_ref_fn fn, void *ctx, size_t *count, cw_err *err);
/* Decodes one wl_addr value (the strings point into v, which must stay
 * alive); false if it is not a ref (for `watchlist check`). */
bool wl_ref_decode(cw_span v, wl_ref *r);
/* `watchlist check`: NULL when key/value is a well-formed record of db
 * (wl_addr, wl_entity, wl_meta, wl_diff; any other db: NULL), else what is
 * wrong with it (a constant string). */
const char *wl_check_record(store_db db, cw_span k, cw_span v);
/* The entity record (JSON text, not NUL-terminated; the span lives until
 * t ends) of source/uid; CW_ENOTFOUND if absent, CW_EARG when source and
 * uid together pass 511 bytes, else store_get's errors. */
cw_code wl_entity_json(store_txn *t, const char *source, const char *uid, cw_span *json, cw_err *err);
/* What each source's last import left (`watchlist stats` and `diff`):
 * WL_PROVENANCE is the provenance record (file sha256, publication date,
 * import time, counts), WL_DIFF what that import added and removed; both
 * JSON text, not NUL-terminated, living until t ends. */
typedef enum { WL_PROVENANCE, WL_DIFF } wl_source_record;
/* The record of one source; CW_ENOTFOUND when the source never imported,
 * else the store's code (CW_ESTORE, CW_EDAMAGED). */
cw_code wl_source_json(store_txn *t, wl_source_record what, const char *source, cw_span *json, cw_err *err);
/* Calls fn for every source's record in source order; fn returns false to
 * stop early (e.g. its output failed: then CW_OK). *count (may be NULL)
 * receives how many fn saw. A read error ends the walk with the store's
 * code, never as "no more sources". */
typedef bool (*wl_json_fn)(void *ctx, cw_span json);
cw_code wl_source_each(store_txn *t, wl_source_record what, wl_json_fn fn, void *ctx, size_t *count, cw_err *err);
/* CW_OK when at least one source has been imported into t's store;
 * CW_ENOTFOUND when none has ("no watchlist has been imported ..."):
 * every address would then look not listed, so a screen refuses rather
 * than answer (a --datadir typo, or a store made by serve or init and
 * never imported into); else the store's code. One cursor seek. */
cw_code wl_require_imported(store_txn *t, cw_err *err);
/* Walks every ref of every source in key order (what imports stored:
 * not the runtime key links of keylink.h); the store's code
 * (CW_ESTORE, CW_EDAMAGED) on a read error, CW_EDAMAGED for a ref that
 * does not decode (the walk stops there; fn saw the refs before it). */
cw_code wl_each_ref(store_txn *t, wl_ref_fn fn, void *ctx, cw_err *err);

/* ---- imports ---- */
typedef struct wl_import wl_import;
typedef struct wl_entity wl_entity;

/* An empty import of source (the name under which wl_import_commit
 * replaces the previous list) read as format ("sdn_advanced", "csv", ...;
 * recorded in provenance). Both copied; NULL is taken as "". Returns NULL
 * only when out of memory for the struct; a failed copy marks the import
 * failed (wl_import_ok). */
wl_import *wl_import_new(const char *source, const char *format);
/* Frees the import, its entities and its last diff. NULL is a no-op. */
void wl_import_free(wl_import *imp);
/* Own lists accept every Bitcoin network; official lists are mainnet. */
void wl_import_allow_test_networks(wl_import *imp, bool allow);
/* Provenance recorded in wl_meta (copied; an allocation failure marks the
 * import failed). */
void wl_import_set_file(wl_import *imp, const char *path, const char *sha256_hex);
void wl_import_set_published(wl_import *imp, const char *yyyy_mm_dd);
/* The shrink guard wl_import_commit applies: an import that would remove
 * more than max_pct percent of the source's previous addresses, or all of
 * them, or that has no address at all, is refused unless allow is set.
 * Default: WL_MAX_SHRINK_DEFAULT, not allowed. The first import of a
 * source removes nothing, so only the zero-address rule applies to it.
 * max_pct is clamped to 0..100. */
void wl_import_set_shrink(wl_import *imp, double max_pct, bool allow);
/* The diff of the last wl_import_commit attempt (JSON, as `watchlist diff`
 * prints it: source, previous, current, added, removed, entities_added,
 * entities_removed), also when the commit was refused; NULL before one.
 * Owned by imp. */
const char *wl_import_diff_json(const wl_import *imp);

/* The entity with this uid (not NULL), created empty on first use; NULL
 * on OOM (the import is then marked failed). Owned by imp. The setters
 * below copy their string (NULL is taken as "" by the set_ ones; the add_
 * ones need a string and ignore "" and repeats, aliases also the name);
 * an allocation failure marks the import failed, never cuts a field. */
wl_entity *wl_import_entity(wl_import *imp, const char *uid);
bool wl_import_has_entity(const wl_import *imp, const char *uid);
void wl_entity_set_name(wl_entity *e, const char *name);
const char *wl_entity_name(const wl_entity *e);
void wl_entity_add_alias(wl_entity *e, const char *alias);
void wl_entity_add_program(wl_entity *e, const char *program);
void wl_entity_set_type(wl_entity *e, const char *type);   /* individual, entity, vessel, aircraft */
void wl_entity_set_list(wl_entity *e, const char *list);   /* SDN, EU, UN, ... */
void wl_entity_set_designated(wl_entity *e, const char *yyyy_mm_dd);

/* A listed address of entity uid under ticker (as the file spells it),
 * copied; it is resolved only at the commit. A NULL argument (a caller's
 * failed copy) marks the import failed. */
void wl_import_address(wl_import *imp, const char *uid, const char *ticker, const char *text);
size_t wl_import_address_count(const wl_import *imp);
/* A warning the summary and the provenance record carry (e.g. cut remarks);
 * warnings share 512 bytes, further text is dropped. */
void wl_import_warn(wl_import *imp, const char *text);
/* False once an allocation failed: the import must not be committed. */
bool wl_import_ok(const wl_import *imp);

/* What an import did, for the summary. Counts are of listed addresses. */
typedef struct {
    size_t addresses, entities, linked, text_kept;
    size_t added, removed, entities_added, entities_removed;
    bool had_previous;
    char by_chain[1024];    /* "bitcoin 519, evm 83, ..." */
    char by_ticker[1024];   /* "XBT 519, USDT 93, ..." */
    char new_tickers[256];  /* "" when none */
    char invalid[2048];     /* "ticker text (why); ..." */
    char mismatched[1024];
    size_t n_invalid, n_mismatched, n_new_tickers;
    char warnings[512];
    /* The shrink guard's inputs and decision (see wl_import_set_shrink):
     * distinct listed designations before and after, removed as a percent
     * of previous, the limit applied. */
    size_t shrink_previous, shrink_new;
    double shrink_pct, shrink_max_pct;
    bool shrink_refused;
} wl_summary;

/* Resolves and stores the import as the source's whole list, replacing the
 * previous one atomically (grows the map and retries when full). Each
 * address has its layout dropped (wl_layout_len, around and inside) and a
 * trailing period, then is classed by wl_text_form. Text that is no address
 * or a broken Bitcoin/EVM/Tron shape (or fails the decoder its ticker
 * names) is kept as written and flagged WL_REF_INVALID, and the summary
 * names each one (n_invalid, invalid): it is not refused, because one typo
 * of the publisher's would otherwise hold back every new designation of the
 * list, and a lookup of the text as listed still finds it. Refuses,
 * leaving the store untouched: an import the shrink guard stops (CW_ELIMIT,
 * out->shrink_refused set, the counts in out, the diff in
 * wl_import_diff_json); an address over WL_TEXT_MAX once trimmed
 * (CW_ELIMIT); a designation whose source, uid, ticker and text pass
 * WL_REF_MAX bytes (CW_ELIMIT); an import whose reading ran out of memory
 * (CW_ENOMEM). Store errors pass up (CW_ESTORE, CW_EDAMAGED, CW_EFULL when
 * still full after 8 doublings of the map), the store untouched.
 * `out` is zeroed first, so its shrink fields are valid on any return.
 * imp stays the caller's to free. */
cw_code wl_import_commit(cw_store *s, wl_import *imp, wl_summary *out, cw_err *err);

#endif
