/*
 * account.h: the account-chain engine. Ethereum (every EVM chain) today,
 * Tron through the same code: blocks of cw_tx whose value moves as
 * cw_transfer lists (chains/model.h), followed from a node that is asked
 * (JSON-RPC), not one that pushes (ZeroMQ).
 *
 * Design note.
 * - Same store, records, outbox, sinks and audit trail as Bitcoin: the
 *   engine is a pipeline (pipeline.h) whose confirmed state is a chain of
 *   block hashes (chaindb's chain, tip and undo records; the undo record
 *   of an account block holds no coins, only its alert ids) instead of a
 *   utxo set. Each block is connected in one write transaction with its
 *   records and its journal (watchlists/store/journal.c), so a reorg
 *   undoes it exactly and its alerts get `reorged` records.
 * - Chain-neutral: the engine never parses a node's reply. A source
 *   (account_source, below) hands it checked blocks; for Ethereum that is
 *   monitor/sources/eth_follow.h over JSON-RPC, for Tron its own.
 * - Alert ids are alert_id(chain, network, txid, rule, address): a tx seen
 *   pending, then confirmed, then reorged keeps one id per address.
 * - A datadir follows one chain: the first connected block stores the
 *   chain's id in the cursor ("seq.account.chain"); a datadir holding
 *   another chain (or Bitcoin's blocks) is refused with CW_EARG.
 * - Followed height. A block is connected once it has `confirmations`
 *   blocks on top counting itself (1: the node's head), or, with
 *   `finalized`, once the node's "finalized" tag reaches it. Every block is
 *   checked against its parent: a block whose parent hash is not our tip
 *   starts a walk down to the fork (by the source's hash_at), our blocks
 *   above it are disconnected (newest first, one transaction each) and the
 *   node's connected. After a restart or an outage the same sync continues
 *   from the stored tip: nothing is skipped, nothing connected twice.
 *
 * Contract: one thread, as pipeline.h. Errors for which store_error_stops()
 * is true stop the monitor; the source's errors (CW_EIO transport, CW_EFORMAT
 * a malformed reply naming the block or tx) fail the call, nothing of the
 * failing block committed, and the caller retries later.
 */
#ifndef CW_ACCOUNT_H
#define CW_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "chains/model.h"
#include "pipeline.h"
#include "watchlists/labels.h"
#include "watchlists/tokens.h"

/* One block as the source hands it over: its txs carry chain, net, txid
 * (display order, as the node prints it), flags (CW_TX_FAILED for a
 * reverted tx: its transfers did not happen) and their transfers.
 * Hashes are in display order too. Owned by the source (block_free). */
typedef struct {
    int64_t number;
    uint8_t hash[32];
    uint8_t parent[32];
    uint64_t time;    /* seconds since 1970 */
    cw_tx *txs;
    size_t n_txs;
    /* The key that signed each tx (04 || X || Y, recovered by the source),
     * or NULL when the source has none: each one goes to key linking
     * (watchlists/keylink.h), so a key's other addresses (Bitcoin, Tron)
     * are designated with its EVM address. */
    const uint8_t (*senders)[65];
} account_block;

/* A pending tx handed to account_pending_fn: valid during the call. */
typedef cw_code (*account_pending_fn)(void *ctx, const cw_tx *tx, cw_err *err);

/* What the engine asks of a node. Every function returns CW_OK, a
 * transport error (CW_EIO) or a refused reply (CW_EFORMAT, naming what and
 * where); none is ever read as "no block" or "nothing new". */
typedef struct {
    void *ctx;
    /* The node's newest block number. */
    cw_code (*head)(void *ctx, int64_t *number, cw_err *err);
    /* The newest finalized block number; CW_ENOTFOUND when the node has no
     * such tag (then `finalized` cannot be used). May be NULL: no tag. */
    cw_code (*finalized)(void *ctx, int64_t *number, cw_err *err);
    /* The hash of the node's block at number; CW_ENOTFOUND above its head. */
    cw_code (*hash_at)(void *ctx, int64_t number, uint8_t hash[32], cw_err *err);
    /* The block at number with every tx and its transfers, checked (the
     * source refuses a reply it cannot vouch for); CW_ENOTFOUND above the
     * head. *out is freed with block_free. */
    cw_code (*block)(void *ctx, int64_t number, account_block **out, cw_err *err);
    void (*block_free)(void *ctx, account_block *b);
    /* Calls fn for each tx that entered the node's pending pool since the
     * last call (the first call starts the watch: nothing before it). May
     * be NULL: no pending txs. fn's error stops the walk and is returned. */
    cw_code (*pending)(void *ctx, account_pending_fn fn, void *fn_ctx, cw_err *err);
} account_source;

#define ACCOUNT_MAX_REORG_DEFAULT 64
#define ACCOUNT_LIE_REPEATS 16
#define ACCOUNT_FLIP_MAX 3

/* Copied by account_open; pointers borrowed until account_close. */
typedef struct {
    cw_store *store;
    const char *chain;       /* records' `chain`: "ethereum", "tron" */
    const char *network;     /* records' `network`: "mainnet", "sepolia", "chain-<id>" */
    const char *native_symbol; /* the coin's symbol in records: "ETH", "TRX" */
    unsigned native_decimals;  /* 18 for ETH, 6 for TRX */
    uint64_t chain_id;       /* the one chain this datadir follows */
    cw_net net;              /* the addresses' space (CW_NET_MAIN for EVM) */
    const uint8_t *sk;       /* Ed25519 secret key (64 bytes) signing every record */
    pipeline_sink_fn sink;
    pipeline_sync_fn durable;
    void *sink_ctx;
    const account_source *src;
    int64_t start;           /* first block on an empty store; -1: the followed head */
    uint32_t confirmations;  /* >= 1; a block is connected with this many blocks counting itself */
    bool finalized;          /* follow the node's "finalized" tag instead */
    /* The deepest reorg followed (0: ACCOUNT_MAX_REORG_DEFAULT). A node
     * whose chain cannot be followed fails account_sync with CW_ECHECKSUM,
     * naming the blocks, before anything is disconnected or connected for
     * it: a fork deeper than this; the node contradicting itself (its
     * block at h+1 does not name its block at h as parent, or is not the
     * block its hash at h+1 said) ACCOUNT_LIE_REPEATS times in a row; or
     * one block reorged away ACCOUNT_FLIP_MAX times (a chain that flips
     * back and forth). The caller stops: it is a node to fix, not a wait. */
    uint32_t max_reorg;
    const atomic_int *stop;   /* set: syncs stop between blocks (as pipeline_config.stop) */
    /* Known tokens (watchlists/tokens.h): records name a token's symbol and
     * decimals; an unknown token is recorded with its contract and a null
     * symbol. NULL: none known. */
    const tokens_table *tokens;
    /* Account-level exposure (watchlists/acct_exposure.h): follow
     * designated money this many transfers (0: off), stopped at labelled
     * services. */
    unsigned hops;
    const labels *labels;    /* watchlists/labels.h's labels, or NULL */
    /* indirect_exposure records: a transfer carrying designated money from
     * 2 hops on, at least min_share_ppm of it (0: 1%); hold from
     * hold_share_ppm (0: 10%), else review. */
    uint32_t min_share_ppm, hold_share_ppm;
    /* The pattern rules (rules/rules.h) on each confirmed block's
     * transfers (rules_account_tx: payer = the sending account), in the
     * block's transaction with its journal; records as Bitcoin's rules
     * records with the transfer's asset. NULL: off. */
    const rules_config *rules;
} account_config;

typedef struct account account;

/* Opens the engine on cfg->store (takes the datadir lock as pipeline_open
 * does). CW_EARG for a datadir that follows another chain; store errors;
 * CW_ENOMEM. */
cw_code account_open(const account_config *cfg, account **out, cw_err *err);
/* Frees a; records still queued stay in the outbox for the next run. */
void account_close(account *a);

/* Brings the connected chain up to the followed height (confirmations or
 * finalized): walks down to a fork when our tip is off the node's chain,
 * disconnects (reorged records), connects the node's blocks one
 * transaction each, or 32 a transaction while more than 32 are due
 * (catching up: one commit and one fsync per batch; a batch is whole or
 * not at all), each flushed and made durable. CW_OK with *stop set:
 * stopped between blocks. CW_ECHECKSUM: the node's chain cannot be
 * followed (account_config.max_reorg): stop, do not retry. The sources
 * never return CW_ECHECKSUM, so it always means this. */
cw_code account_sync(account *a, cw_err *err);
/* Asks the source for new pending txs and records `mempool` sightings of
 * those touching a designated address (committed, handed to the sink, made
 * durable with the next block). */
cw_code account_poll_pending(account *a, cw_err *err);
/* Replay: connects blocks from..to (inclusive) in batches of `batch` blocks
 * per write transaction; the store must be empty or its tip at from - 1
 * (CW_EARG otherwise). progress (may be NULL) is called after each batch. */
cw_code account_replay(account *a, int64_t from, int64_t to, unsigned batch,
                       void (*progress)(void *ctx, int64_t done, int64_t total), void *progress_ctx, cw_err *err);
/* Whether this datadir already holds blocks from..to on the node's chain:
 * *held true when it has a connected block at from and at to and the node's
 * hash at to is ours (then a replay of from..to has nothing to do); false
 * otherwise (a range below where it started, or a chain the node left).
 * Store and node errors are returned. */
cw_code account_holds(account *a, int64_t from, int64_t to, bool *held, cw_err *err);
/* Connects one checked block on top of our tip (CW_EARG when its parent is
 * not the tip), in its own transaction, then flushed (used by sync, by
 * replay and by tests that build blocks by hand). */
cw_code account_connect(account *a, const account_block *b, cw_err *err);
/* Disconnects our tip (reorged records), one transaction, flushed. */
cw_code account_disconnect_tip(account *a, cw_err *err);
/* Records a pending tx as a mempool sighting if it touches a designated
 * address (what account_poll_pending does per tx). */
cw_code account_pending_tx(account *a, const cw_tx *tx, cw_err *err);

/* The pipeline underneath (stats, flush): pipeline_stats_get, pipeline_flush. */
pipeline *account_pipeline(account *a);

#endif
