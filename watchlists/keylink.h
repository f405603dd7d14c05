/*
 * keylink.h: one key, every chain. When a confirmed tx reveals a public key
 * and one of the key's addresses (chains/keylink.h: P2PKH in both
 * encodings, P2WPKH, P2SH-P2WPKH, BIP-86 taproot, EVM, Tron) is
 * designated, the key's other addresses are treated as designated from
 * then on: linked from the designated one, with the revealing tx as
 * evidence.
 *
 * Design note.
 * - Table `keylink`: address key (the wl_addr key of watchlist.h) ->
 *     version(1)=1 chain(1) by(1) height(8, LE, signed) txid(32)
 *     root_len(1) root (a wl_addr key) root_text NUL text NUL
 *   chain, by, height and txid: where the key was revealed (cw_chain,
 *   cw_revealed_by; the txid in the chain's own order: Bitcoin's internal
 *   order, an account chain's as its node prints it). root: the designated
 *   address the link hangs on, always an address an import listed (a
 *   form found only through another runtime link hands on that link's
 *   root), so a link is one hop. root_text and text: the two addresses as
 *   text, so refs built from a link point into the store like every ref.
 * - Lookups see links through the watchlist itself: wl_is_listed and
 *   wl_lookup (watchlist.h) answer for a linked address with its root's
 *   designations, flagged WL_REF_LINKED | WL_REF_KEYLINK, linked_from the
 *   root and reveal_* the revealing tx. A link whose root a later import
 *   delisted answers "not listed": links follow the designation, they do
 *   not copy it.
 * - Writes only from confirmed blocks, through the block's journal
 *   (journal.h), so a disconnected block takes its links back exactly.
 *   Mempool txs and `screen` read links but never write one. A form that
 *   already has a link keeps its first one (the earliest reveal): a later
 *   block revealing the same key writes nothing, so disconnecting it
 *   leaves the first link alone. keylink_disconnect is the net under a
 *   pruned journal (a reorg deeper than JOURNAL_KEEP_BLOCKS): it removes
 *   the chain's links at or above a height.
 * - The monitor puts a Bloom filter in front of the table
 *   (store_filter_enable): one writing process per datadir
 *   (monitor.lock), so the filter sees every link that process makes.
 *
 * Errors: store errors pass up (CW_ESTORE, CW_EDAMAGED, CW_EFULL); a link
 * that does not decode is CW_EDAMAGED (STORE_DAMAGED), never "not linked".
 * Writers take the block's journal, whose transaction the caller commits
 * or aborts; after an error, abort.
 */
#ifndef CW_WL_KEYLINK_H
#define CW_WL_KEYLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/keylink.h"
#include "chains/model.h"
#include "watchlists/store/journal.h"
#include "watchlists/store/store.h"

/* One stored link. Pointers point into the store: valid until the
 * transaction ends or the key's next write. */
typedef struct {
    uint8_t chain;            /* cw_chain the key was revealed on */
    uint8_t by;               /* cw_revealed_by */
    int64_t height;           /* of the revealing block */
    const uint8_t *txid;      /* 32 bytes, the chain's order (see above) */
    const uint8_t *root;      /* the designated address's wl_addr key */
    size_t root_len;
    const char *root_text;    /* its text */
    const char *text;         /* the linked address's own text */
} keylink_entry;

/* The link of an address key: CW_ENOTFOUND when it has none; CW_EDAMAGED
 * for a record that does not decode; store errors. */
cw_code keylink_get(store_txn *t, const uint8_t *key, size_t klen, keylink_entry *out, cw_err *err);

typedef struct {
    uint64_t keys;        /* revealed keys looked at (checked ones) */
    uint64_t seen;        /* of those, keys found clean before (keylink_seen): nothing computed */
    uint64_t designated;  /* of those, keys with a designated form */
    uint64_t links;       /* links written */
    uint64_t unchecked;   /* key shapes whose prevout was unknown (not counted) */
    uint64_t mismatch;    /* key pushes that do not hash to the output they spend: refused */
    uint64_t bad_key;     /* key-shaped bytes that are no valid point (or hybrid): refused */
} keylink_stats;

/* A revealed key, in a confirmed block: when one of its forms is
 * designated (listed by an import, or already linked), every other form
 * gets a link, journaled, except the forms an import lists (directly or as
 * its own linked forms: their refs say why already) and forms whose link
 * still hangs on a listed root (the first reveal stays; a link whose root
 * was delisted is replaced). The root is the first designated
 * form in cw_key_form order that an import lists directly (not as a
 * WL_REF_LINKED form), else the first listed at all, else the root of the
 * first form already linked. Bitcoin forms are made in btc_net's address
 * space. chain, by, txid (32 bytes, the chain's order) and height are
 * stored as the link's evidence. st (may be NULL) is added to.
 * Store errors; CW_ENOMEM from the journal. */
cw_code keylink_observe(journal *j, const cw_pubkey *key, cw_net btc_net, cw_chain chain, cw_revealed_by by,
                        const uint8_t txid[32], int64_t height, keylink_stats *st, cw_err *err);

/*
 * The account chains' entry point (Ethereum, Tron: monitor/engine/account.c).
 * Call it for every sender recovered from a tx of a CONFIRMED block (never
 * for a pending tx), inside that block's write transaction, with the
 * block's journal (the one journal_save stores under the block's hash and
 * journal_revert_block takes back on a disconnect):
 *
 *   keylink_observe_sender(&block_journal, pubkey65, CW_NET_MAIN, CW_CHAIN_EVM,
 *                          txhash, block_number, &stats, &err);
 *
 * pubkey65 is secp256k1_ec_pubkey_serialize(..., SECP256K1_EC_UNCOMPRESSED)
 * of the recovered key (04 || X || Y); txhash the tx hash as the node
 * prints it (not reversed); chain CW_CHAIN_EVM or CW_CHAIN_TRON;
 * btc_net the Bitcoin network whose addresses to link (CW_NET_MAIN unless
 * the datadir watches a test network). A key that is no valid point is
 * CW_EFORMAT (nothing written: a recovered key always is one). Otherwise as
 * keylink_observe (by = CW_REVEALED_BY_SIGNATURE). After a disconnect of
 * its own (journal_revert_block), the engine also calls
 * keylink_disconnect(t, chain, height, NULL, err) in the same transaction.
 */
cw_code keylink_observe_sender(journal *j, const uint8_t pubkey65[65], cw_net btc_net, cw_chain chain,
                               const uint8_t txid[32], int64_t height, keylink_stats *st, cw_err *err);

/* Which forms of a key can be designated at all: a form whose kind (and,
 * for Bitcoin, address space) no import lists cannot be a root, so the
 * check skips computing it (the BIP-86 tweak is a point multiplication,
 * ~30 us; EVM and Tron a Keccak). Read once per block: an import between
 * blocks changes it. */
/* Keys a process found clean (no form designated, none linked) since the
 * watchlist last changed: a key seen again (address reuse) is then not
 * parsed nor its forms computed again. A fixed-size direct-mapped table of
 * compressed keys (KEYLINK_SEEN_SLOTS, ~4.5 MB): a newer key takes an
 * older one's slot, so a miss only costs the work. Sound because nothing
 * but an import makes a clean key designated: a link needs a designated
 * form of the same key, and disconnects and delistings only take
 * designations away. keylink_scope_read empties it when wl_meta (which
 * every import rewrites) or the scope changed. Owned by the caller, one
 * thread. */
typedef struct keylink_seen keylink_seen;
#define KEYLINK_SEEN_SLOTS (1u << 17)
/* NULL when out of memory. */
keylink_seen *keylink_seen_new(void);
void keylink_seen_free(keylink_seen *s);

typedef struct {
    unsigned forms;      /* bit (1u << cw_key_form) */
    keylink_seen *seen;  /* borrowed, may be NULL: no memory of clean keys */
} keylink_scope;
/* The forms of btc_net's space that imports list in t (a cursor seek per
 * kind into wl_addr), and seen (may be NULL) emptied when the watchlist
 * changed since its last read. Store errors (the scope is then all forms,
 * seen emptied). */
cw_code keylink_scope_read(store_txn *t, cw_net btc_net, keylink_seen *seen, keylink_scope *out, cw_err *err);

/* Every key a Bitcoin tx of a confirmed block reveals (cw_reveal_input on
 * each input of a non-coinbase tx, cw_reveal_output on each output) goes
 * through keylink_observe, for tx->net's address space, checking only the
 * forms in scope (NULL: every form; an empty scope skips the tx; a link,
 * once a root is found, is written for every form). Inputs must have been resolved (chainstate)
 * where the prevout index knew them. */
cw_code keylink_tx(journal *j, const cw_tx *tx, int64_t height, const keylink_scope *scope, keylink_stats *st,
                   cw_err *err);

/* Removes every link revealed on `chain` at `height` or above, in write
 * transaction t, not journaled: after a disconnect whose journal restored
 * what it could, this catches links of a block whose journal was pruned.
 * Walks the whole table (links are few: only designated keys make them).
 * *removed (may be NULL) gets the count. Store errors; CW_EDAMAGED for a
 * link that does not decode. */
cw_code keylink_disconnect(store_txn *t, cw_chain chain, int64_t height, uint64_t *removed, cw_err *err);

/* The revealing txid as text: 64 hex characters, reversed for Bitcoin
 * (as explorers show it), "0x" + hex for EVM, hex for Tron. out needs 67
 * bytes; returns the length. */
size_t keylink_txid_text(cw_chain chain, const uint8_t txid[32], char out[67]);

/* `watchlist check`: NULL when k/v is a well-formed link, else what is wrong. */
const char *keylink_check_record(cw_span k, cw_span v);

#endif
