/*
 * labels.h: known services by address (exchanges, mixers, coinjoin
 * coordinators, bridges, ...), read from a labels CSV into memory.
 *
 * The file has the header `chain,address,entity,category,source` and one
 * label a row (RFC 4180: fields may be quoted, with doubled quotes and
 * commas inside; CRLF and a UTF-8 byte order mark are fine; blank lines are
 * skipped). Chains: BTC (also XBT, bitcoin), ETH (also evm, ethereum: every
 * EVM chain shares the account space), TRON (also TRX). Fields are trimmed.
 *
 * Addresses are decoded with cw_addr_parse() and indexed by their watchlist
 * key (wl_key_from_addr), so any text form finds the same label: bech32 in
 * either case, EVM in any valid case. A row whose address does not decode
 * for its chain (bad checksum, another Bitcoin network than `net`, an ETH
 * row holding a Bitcoin address) is counted and the first one reported in
 * the stats, not fatal: label sets are hand-made and go stale. A row of a
 * chain chainwatch does not decode is counted and skipped. One address may
 * carry several labels (one row each); all are kept, in file order.
 *
 * Labels are hints ("a known service"), never designations: they do not go
 * into the store and never raise an alert by themselves.
 *
 * A loaded index is read-only: lookups from several threads are safe.
 */
#ifndef CW_LABELS_H
#define CW_LABELS_H

#include <stddef.h>

#include "chains/model.h"

typedef struct label label;
struct label {
    const char *entity;   /* "binance.com"; may be "" (the file names no entity) */
    const char *category; /* "exchange", "coinjoin", ... as the file spells it */
    const char *source;   /* the label set, e.g. "graphsense/graphsense-tagpacks" */
    const char *chain;    /* "BTC", "ETH" or "TRON", whichever alias the file used */
    const char *address;  /* the address as written in the file */
    size_t line;          /* line of the file the row starts on */
    const label *next;    /* the next label of the same address (file order), or NULL */
};

typedef struct labels labels;

#define LABELS_CATEGORIES_MAX 64
#define LABELS_CATEGORY_TEXT 40
#define LABELS_WHY_MAX 256

/* Loaded rows of one chain ("BTC", "ETH", "TRON") and category. */
typedef struct {
    char chain[8];
    char category[LABELS_CATEGORY_TEXT];
    size_t count;
} labels_category_count;

typedef struct {
    size_t rows;        /* data rows read (the header and blank lines are not rows) */
    size_t loaded;      /* rows indexed: findable by address */
    size_t addresses;   /* distinct addresses indexed */
    size_t repeated;    /* loaded rows for an address already labelled (reached by `next`) */
    size_t unparsable;  /* rows whose address does not decode for its chain: not indexed */
    size_t other_chain; /* rows of chains chainwatch does not decode: not indexed */
    char first_unparsable[LABELS_WHY_MAX]; /* "line 17: 1ABC...: why", "" when none */
    /* loaded rows by chain and category, in first-seen order */
    size_t n_categories;
    labels_category_count by_category[LABELS_CATEGORIES_MAX];
    size_t categories_over; /* loaded rows whose chain/category did not fit the table above */
} labels_stats;

/* Reads the labels CSV at `path`. `net` is the Bitcoin network whose
 * addresses BTC rows may hold (CW_NET_MAIN for published label sets);
 * account-chain rows have no network. On success *out owns the index (free
 * it with labels_free) and *st (may be NULL) the counts. Refuses, naming the
 * path and the line: a file that cannot be read, a missing or different
 * header, a row with other than 5 fields, a quoted field never closed, a NUL
 * byte, an empty chain or category; CW_ENOMEM when memory runs out.
 * On failure *out is NULL and nothing is kept. */
cw_code labels_load(const char *path, cw_net net, labels **out, labels_stats *st, cw_err *err);

/* The first label of address `a` (follow ->next for more), or NULL when it
 * is not a known service. l may be NULL (no labels loaded). */
const label *labels_find(const labels *l, const cw_addr *a);

/* Loaded rows of chain ("BTC", "ETH", "TRON" or an alias, any case) and
 * category in the stats; 0 when none. */
size_t labels_stats_count(const labels_stats *st, const char *chain, const char *category);

/* Calls fn once per labelled address: its watchlist key and its first
 * label, in the order the addresses first appear in the file. */
void labels_each(const labels *l, void (*fn)(void *ctx, const uint8_t *key, size_t klen, const label *first), void *ctx);
void labels_free(labels *l);

#endif
