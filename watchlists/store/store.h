/*
 * store.h: chainwatch's one LMDB environment. This is the only code that
 * calls LMDB; everything else goes through these functions.
 *
 * Layout: <datadir>/store.mdb (+ store.mdb-lock), named databases, each
 * encoded by the module named (the store only moves bytes):
 *   wl_addr     address key -> designation refs (one value per ref, DUPSORT;
 *               this and the other wl_ tables: watchlists/watchlist.h)
 *   wl_entity   source NUL uid -> entity record (JSON)
 *   wl_meta     source -> provenance and counts of its last import (JSON)
 *   wl_diff     source -> what its last import added and removed (JSON)
 *   utxo        outpoint -> value and address of unspent outputs of connected
 *               blocks (utxo, undo, chain, cursor: monitor/engine/chainstate.h)
 *   undo        block hash -> the outputs it spent and created, and its alerts
 *   chain       height -> hash of each connected block
 *   cursor      "tip" and per-topic feed counters
 *   alerts      alert id -> its latest signed record
 *   outbox      records committed with their block, not yet written out
 *               (alerts, outbox: monitor/engine/pipeline.c)
 *   cluster     address key -> parent address key (union-find; this and the
 *               other cluster tables: watchlists/cluster.h)
 *   cluster_info root address key -> size, designated members, flags, evidence
 *   cluster_desig root address key of every cluster with designated members
 *   taint       outpoint -> the designated money an unspent output carries
 *               (taint, exposure: watchlists/exposure.h)
 *   exposure    address key -> the designated money it ever received
 *   journal     block hash -> the old values of what the block changed in
 *               cluster, cluster_info, taint, exposure and keylink (journal.h)
 *   keylink     address key -> the designated address one revealed key links it
 *               to, and the revealing tx (watchlists/keylink.h)
 *   acct_exposure  account chains: address key + asset -> the share of what
 *               the account received that was designated money (haircut;
 *               watchlists/acct_exposure.h), journaled too
 *               cluster, cluster_info, taint and exposure (journal.h)
 *   cases       alert id -> the hold case it opened (casedb.h)
 *   case_audit  alert id + entry number -> a signed audit entry (append only)
 *   hooks       event number -> a webhook event not yet delivered everywhere
 *               (hooks, hook_state: watchlists/hookdb.h)
 *   hook_state  per webhook endpoint: its delivery cursor, and dead letters
 *
 * Transactions: one write transaction at a time per environment (LMDB
 * serialises writers, across processes too); readers never block a writer
 * (MDB_NOTLS). A cw_store, its transactions and cursors are used by one
 * thread; other threads of the process (the HTTP API) use views of it
 * (store_view_open). That is a rule, not a habit: the
 * Bloom filters live in the cw_store and store_get/store_put update them,
 * read transactions included. A write that finds the map full fails with
 * CW_EFULL: store_write() is the one place that aborts, grows the map and
 * runs the write again.
 *
 * Format version: the cursor table's key STORE_FORMAT_KEY ("store.format",
 * 8 bytes little-endian) holds the format the store was written in. No
 * module's key can take it: cursor keys are "tip", "trail", "flows.wl_fp",
 * "seq.<topic>" and "records[/<rule>]" (chaindb.c, alertdb.c), and the
 * "store." prefix is the store's own. The first writable open of a store
 * that holds no record at all (`init`, or any verb on a fresh datadir)
 * writes STORE_FORMAT; every open (read only too) checks it before anything
 * is read, and refuses with CW_EVERSION ("what" in the message; the CLI adds
 * STORE_FORMAT_HINT) a store that holds records but no format (written
 * before versioning), a newer format, or an older one this version has no
 * upgrade from (none exists yet). Bump STORE_FORMAT whenever a module's
 * encoding changes in a way the previous release would misread.
 *
 * Errors, each with LMDB's message and what to do about it:
 *   CW_EFULL      the map is full (see above)
 *   CW_EDAMAGED   the file is cut or LMDB finds it damaged (STORE_DAMAGED)
 *   CW_ESTORE     any other LMDB failure (readers full, bad value size, a
 *                 map that cannot be mapped, ...); from store_open also a
 *                 datadir, store.mdb or lock file that cannot be made or
 *                 read (the store could not be opened: the CLI's exit 3,
 *                 like every store error, never the 1 of a file of its own)
 *   CW_ENOTFOUND  no such key; from store_open: an older datadir
 *   CW_EVERSION   from store_open: a store format this version does not read
 *   CW_EARG       a write on a read-only store, a bad key size or database
 *   CW_ENOMEM     out of memory
 * An error LMDB returned keeps LMDB's code in err->cause, so that a caller
 * able to wait can tell one that passes from one that recurs without
 * reading the message (store_error_passes).
 *
 * Ownership: store_open returns a cw_store the caller frees with
 * store_close (after every transaction has ended); store_begin returns a
 * transaction that store_commit or store_abort frees, whatever they
 * return; store_cursor_open a cursor to close before its transaction
 * ends. Spans handed out point into LMDB's map (or a transaction's
 * pending writes) and live until that transaction ends or, for a
 * write-back database, until the next put or delete of the same key.
 */
#ifndef CW_STORE_H
#define CW_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "chains/model.h"

typedef enum {
    STORE_WL_ADDR = 0,
    STORE_WL_ENTITY,
    STORE_WL_META,
    STORE_WL_DIFF,
    STORE_UTXO,    /* txid(32) + vout(4, BE) -> value(8, LE) + address */
    STORE_UNDO,    /* block hash -> what connecting it changed */
    STORE_CHAIN,   /* height (8, BE) -> block hash: the connected chain */
    STORE_CURSOR,  /* name -> position of the monitor (tip, per-topic counters) */
    STORE_ALERTS,  /* alert id -> its latest signed record */
    STORE_OUTBOX,  /* sequence (8, BE) -> a signed record committed but not yet written to the sinks */
    STORE_CLUSTER, /* address key -> parent key + the txid that joined it */
    STORE_CLUSTER_INFO, /* root key -> cluster record */
    STORE_CLUSTER_DESIG, /* root key -> "" for clusters with designated members (a recount's short list) */
    STORE_TAINT,   /* outpoint (36) -> taint record */
    STORE_EXPOSURE, /* address key -> exposure record */
    STORE_JOURNAL, /* block hash -> journal of old values, for an exact disconnect */
    STORE_ACCT_EXPOSURE, /* account chains: address key + asset -> exposure (acct_exposure.h) */
    STORE_KEYLINK, /* address key -> the designated address a revealed key links it to (watchlists/keylink.h) */
    STORE_CASES,   /* alert id -> case record (casedb.h) */
    STORE_CASE_AUDIT, /* alert id + entry seq (8, BE) -> signed audit entry */
    STORE_HOOKS,   /* event seq (8, BE) -> webhook event (hookdb.h) */
    STORE_HOOK_STATE, /* endpoint cursor / dead letter (hookdb.h) */
    STORE_RULE_ADDR,  /* address key -> the pattern rules' stats and counterparties (rulestats.h) */
    STORE_RULE_TRACE, /* outpoint (36) -> the payout or pool its money came from (rulestats.h) */
    STORE_RULE_ORIGIN, /* address key -> RS_ORIGIN_* flags: payouts and pools a trace starts from (rulestats.h) */
    STORE_RULE_PAIR, /* payee + payer -> a payer's pair past the payee's full list (rulestats.h) */
    STORE_DB_COUNT
} store_db;

/* The store format this version writes and reads (see "Format version"
 * above): 1 is the first versioned one (rule_addr with the pair counts,
 * rule_pair). Stores written before versioning carry no format. */
#define STORE_FORMAT 1
#define STORE_FORMAT_KEY "store.format" /* in STORE_CURSOR; 8 bytes LE */
/* What a user does about a CW_EVERSION store (the CLI prints it after the
 * error; README "Upgrading" has the steps). */
#define STORE_FORMAT_HINT                                                                                              \
    "keep the chainwatch that wrote this datadir for it, or start a new datadir: copy signing.key, signing.pub "    \
    "(and apikeys, chainwatch.conf) into a new directory, run 'chainwatch init --datadir NEW', import the "          \
    "watchlists again and replay or watch from the height you need (README: Upgrading)"

typedef struct cw_store cw_store;
typedef struct store_txn store_txn;

#define STORE_DEFAULT_MAP_SIZE ((size_t)1 << 30) /* 1 GiB: virtual; the file grows as used */

/* Damage LMDB finds in the middle of an operation and cannot return as an
 * error (its internal assertions) ends the process: by default LMDB
 * aborts. The executable registers fn to say "store damaged" on one line
 * and end with its own exit code instead; fn must not return. Process-wide,
 * set once before the first store_open. */
typedef void (*store_fatal_fn)(const char *msg);
void store_set_fatal(store_fatal_fn fn);

/* "$HOME/.chainwatch" into buf; false if HOME is unset or empty or buf too
 * small. Does not create it. */
bool store_default_datadir(char *buf, size_t cap);

/* Opens (creating when !readonly) the datadir and the environment.
 * map_size 0 means STORE_DEFAULT_MAP_SIZE, or the file's size if larger.
 * Refuses (CW_EDAMAGED, STORE_DAMAGED) a store.mdb shorter than its last
 * used page or empty (only `init` may replace an empty one: it removes it
 * first), and one LMDB finds damaged; CW_EVERSION for a store in another
 * format (see "Format version" above; a writable open writes STORE_FORMAT
 * into a store without records); CW_ENOTFOUND (read only) when an intact
 * store of this format, or one without records, lacks a database this
 * version reads. CW_ESTORE: a read-only
 * open of a datadir or store.mdb that does not exist, a datadir that is
 * not a directory or cannot be created (mode 0700), a lock file that
 * cannot be made (a full disk). Writable opens create every database.
 * On success *out is the store, to be freed with store_close(). */
cw_code store_open(const char *datadir, size_t map_size, bool readonly, cw_store **out, cw_err *err);
/* Closes the environment and frees its filters; a view (store_view_open)
 * frees itself only. Close every view of a store before the store. NULL
 * is a no-op. */
void store_close(cw_store *s);
/* A view of base for another thread of this process (the HTTP API's):
 * the same LMDB environment (LMDB allows one per process), its own
 * transactions, no filters (store_filter_enable on the view gives it its
 * own), and a reset read transaction kept between reads so that a read
 * costs no reader-slot search (MDB_NOTLS: readers never wait for the
 * writer). Read-only unless writable (refused, CW_EARG, on a read-only
 * base). Growing the map (store_write, and adopting another process's
 * growth) waits until no transaction of the base or any view is open:
 * every open transaction holds the shared map lock. Free with store_close
 * before base. */
cw_code store_view_open(cw_store *base, bool writable, cw_store **out, cw_err *err);
/* The format read at open: STORE_FORMAT, or 0 for a store without records
 * opened read only before any writable open stamped it. */
unsigned store_format(const cw_store *s);
/* "<datadir>/store.mdb", owned by s. */
const char *store_path(const cw_store *s);
/* The database's name in the file ("wl_addr", ...). */
const char *store_db_name(store_db db);
/* The map size in bytes, including growth adopted from other processes. */
size_t store_map_size(const cw_store *s);

/* One write transaction: begins it, runs fn(t, ctx, err), commits. fn's
 * error (or the commit's) aborts the transaction whole and is returned;
 * CW_EFULL instead doubles the map (the only place the map grows, with
 * the growth ahead after a commit that leaves the file past half the map)
 * and runs fn again in a new transaction, STORE_WRITE_TRIES times at most, so fn
 * must be redoable: everything it changes outside t it resets itself at
 * its start. No transaction of this process may be open around the call
 * (LMDB resizes the map only then). A map the process has no address
 * space to grow (ulimit -v, LimitAS=) is CW_ESTORE, the store left
 * readable; a resize that lost the map makes every later transaction of
 * the store and its views CW_ESTORE ("restart chainwatch"). */
#define STORE_WRITE_TRIES 9 /* 8 doublings: 256 times the map */
typedef cw_code (*store_write_fn)(store_txn *t, void *ctx, cw_err *err);
cw_code store_write(cw_store *s, store_write_fn fn, void *ctx, cw_err *err);

/* A read (write false) or write transaction into *out. Refuses a write on
 * a store opened read only (CW_EARG). A map grown by another process is
 * adopted first. A second write transaction in the same thread would
 * deadlock in LMDB: end one before beginning the next. */
cw_code store_begin(cw_store *s, bool write, store_txn **out, cw_err *err);
/* Flushes pending write-back writes, then commits. Commit ends (and frees)
 * the transaction, failed or not: on failure nothing of it is stored
 * (CW_EFULL: grow and redo the whole transaction). Committing a read
 * transaction just ends it. */
cw_code store_commit(store_txn *t, cw_err *err);
/* Ends t, dropping its writes. NULL is a no-op. */
void store_abort(store_txn *t);

/* Gets the value (the first, for wl_addr) under key; CW_ENOTFOUND if none
 * (answered from the Bloom filter or the pending writes when they know).
 * The span is valid until the transaction ends (write-back: until the
 * key's next put or delete) and must not be written through. */
cw_code store_get(store_txn *t, store_db db, const void *key, size_t klen, cw_span *val, cw_err *err);
/* Puts key/value (copied), replacing the key's value; in wl_addr a new
 * value joins the key's others (an exact duplicate is a no-op). Keys are
 * 1..511 bytes, wl_addr values at most 511: LMDB refuses more (CW_ESTORE,
 * "too large"), a write-back database CW_EARG. t must be a write
 * transaction (LMDB refuses: CW_ESTORE). */
cw_code store_put(store_txn *t, store_db db, const void *key, size_t klen, const void *val, size_t vlen, cw_err *err);
/* Deletes the key (all its values), or only `val` when given (wl_addr).
 * CW_ENOTFOUND if absent. In a write-back database `val` is ignored. */
cw_code store_del(store_txn *t, store_db db, const void *key, size_t klen, const void *val, size_t vlen, cw_err *err);

/* Puts a Bloom filter (bloom.h) in front of db for this process: reads of
 * keys db never held are answered from memory. For databases this process
 * alone writes (the monitor's clusters and taint: another process's puts
 * would not reach the filter), and for wl_addr, which imports in other
 * processes change: there the filter is checked against a fingerprint of
 * wl_meta (every import rewrites its record) once per transaction and
 * rebuilt when it changed. Built by scanning db's keys. */
cw_code store_filter_enable(cw_store *s, store_db db, cw_err *err);

/* Write-back for db in write transaction t: its puts and deletes wait in
 * memory (overlay.h) and reach LMDB once per key, in key order, at the
 * commit (which then fails whole, CW_EFULL included, if they do not fit);
 * reads see them. Cursors over db do not: use it only for databases read
 * by key (clusters, taint, exposure). Not for DUPSORT databases (CW_EARG). */
cw_code store_write_back(store_txn *t, store_db db, cw_err *err);
/* Memory held by t's pending writes (keys, values, table), 0 without
 * write-back: what a caller watches to commit before memory runs out. */
size_t store_pending_bytes(const store_txn *t);
#define STORE_GIVE_WAY_PUTS 64u
/* Has store_commit call tick(ctx) as it moves t's pending write-back
 * writes into LMDB: while it sorts them and after every
 * STORE_GIVE_WAY_PUTS of them (a large batch's are tens of thousands,
 * tens of milliseconds of CPU). For a process that yields its CPU often
 * (--cpu-idle: monitor/engine/give_way.h), which then yields holding the
 * store's write lock, as it does all through its batch; tick must not use
 * t. NULL: none (the default). LMDB's own commit that follows cannot be
 * split. */
void store_txn_give_way(store_txn *t, void (*tick)(void *ctx), void *ctx);

/* A 64-bit FNV fingerprint of every key and value of db as t sees it (for
 * small databases: wl_meta, whose change means an import happened). Reads
 * LMDB only (not pending write-back writes). It has no error path: a read
 * error ends the walk early and the fingerprint covers what was read (0
 * when no cursor opens), so it can only tell "changed", never "intact". */
uint64_t store_fingerprint(store_txn *t, store_db db);

/* Every error for a store that LMDB cannot read as it should (a cut file,
 * damaged pages, a broken meta page, a read error) has code CW_EDAMAGED, a
 * message holding STORE_DAMAGED and ending with STORE_DAMAGED_HINT, never
 * "run init": only an intact store that lacks a named database is an older
 * datadir (CW_ENOTFOUND from store_open). */
#define STORE_DAMAGED "store damaged:"
#define STORE_DAMAGED_HINT                                                                                             \
    "run 'chainwatch watchlist check' to see where; restore store.mdb from a backup or rebuild it in a new --datadir"

/* The one "this record is damaged" error of every module: CW_EDAMAGED with
 * "store damaged: <store path>: <what> (STORE_DAMAGED_HINT)", what from
 * fmt (e.g. "a tip record does not decode"). t may be NULL (no path). */
cw_code store_damaged(const store_txn *t, cw_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Errors after which a monitor must stop rather than go on with the next
 * block or tx: the store could not be read or written as it should, so
 * what follows would be screened against a store that does not answer.
 * CW_EFULL too: store_write grew the map STORE_WRITE_TRIES times and it
 * still did not fit, so every later write would fail the same way. */
static inline bool store_error_stops(cw_code c) { return c == CW_ESTORE || c == CW_EDAMAGED || c == CW_EFULL; }

/* Whether a store error can pass: true for a CW_ESTORE whose cause (the
 * LMDB or system code kept in err->cause) is a resource short now that
 * other processes or the operator free while the caller waits (reader
 * slots, disk space or quota, memory, EAGAIN/EINTR/EBUSY, a map another
 * process grew), the same request then succeeding unchanged. False for
 * every other error, as it recurs identically on every try: a value too
 * large (MDB_BAD_VALSIZE), a transaction too large, a permission or a
 * read-only filesystem, the map lost, an unknown code, and the other
 * codes (CW_EDAMAGED, an LMDB EIO included; CW_EFULL after store_write's
 * growth; CW_EVERSION). The list and the reasons: store.c. For a caller
 * that can wait (a deliverer), never to skip anything. */
bool store_error_passes(const cw_err *err);

/* Cursor over a database in key order (and value order within a key).
 * seek/next/next_dup return false at the end AND on a read error: a walk
 * that decides anything (a designation, a count) must then call
 * store_cursor_error, which returns CW_OK for a real end and the store's
 * error (CW_EDAMAGED or CW_ESTORE, message filled) when the walk was cut
 * by one. */
typedef struct store_cursor store_cursor;
/* A cursor over db in t into *out; CW_ENOMEM, or LMDB's error. */
cw_code store_cursor_open(store_txn *t, store_db db, store_cursor **out, cw_err *err);
/* Positions at the first key >= `key` (or the first key when key is NULL)
 * and returns it; false at the end. k may be NULL; spans live as
 * store_get's. Cursors read LMDB only: a write-back database's pending
 * writes are not seen (store_write_back). */
bool store_cursor_seek(store_cursor *c, const void *key, size_t klen, cw_span *k, cw_span *v);
/* Next key/value pair; false at the end. */
bool store_cursor_next(store_cursor *c, cw_span *k, cw_span *v);
/* Next value of the current key only (wl_addr); false after its last. */
bool store_cursor_next_dup(store_cursor *c, cw_span *v);
/* CW_OK, or the read error that made seek/next/next_dup return false. */
cw_code store_cursor_error(const store_cursor *c, cw_err *err);
/* Frees the cursor. NULL is a no-op. */
void store_cursor_close(store_cursor *c);

#endif
