/*
 * flows.h: what a transaction does to clusters and exposure, and what it
 * reveals: cluster hits and indirect exposure.
 *
 * Design note. One function, flows_tx, is the whole analysis, used three
 * ways: by the pipeline for each tx of a connected block (with a journal:
 * clusters merge, taint moves, all revertible), by the pipeline for a
 * mempool tx and by `chainwatch screen` for a raw tx (without a journal:
 * the same findings, nothing written). Live, replay and screening therefore
 * cannot disagree.
 *
 * Per tx, in order:
 *   1. Clustering: the input addresses merge (common-input ownership),
 *      unless the tx is multi-party (a CoinJoin shape; PayJoin-like only
 *      with payjoin_guard: see chains/bitcoin/coinjoin.h), which is counted
 *      with its reason.
 *   2. Sources: an input whose address is designated, or a member of a
 *      cluster with designated members that still propagates (no labelled
 *      service, not a supercluster), carries fully tainted value (hop 0).
 *      Other inputs carry the taint recorded for their output, if any.
 *   3. Cluster hits: a non-designated member of a designated cluster paying
 *      (input) or being paid (output).
 *   4. Exposure: the tainted share of the inputs goes to every output in
 *      proportion (haircut), one hop further, except outputs back into the
 *      designated cluster. An output at or above the thresholds (or any
 *      tainted payment into a watched address) is a finding. Taint is kept
 *      for the output while hops < the limit and it is not a service's.
 *
 * Clusters follow imports and labels given later: the pipeline runs
 * cluster_refresh (watchlists/cluster.h) between blocks when the watchlist changed, when a
 * run starts with labels, and after a disconnect.
 */
#ifndef CW_FLOWS_H
#define CW_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/model.h"
#include "watchlists/addrset.h"
#include "watchlists/cluster.h"
#include "watchlists/exposure.h"
#include "watchlists/store/journal.h"
#include "watchlists/labels.h"

typedef struct {
    bool enabled;              /* false: flows_tx does nothing */
    unsigned hops;             /* follow taint this many txs (1..EXPOSURE_MAX_HOPS, default 3) */
    uint32_t min_share_ppm;    /* an exposure finding needs this share (10,000 = 1%) */
    uint64_t min_amount;       /* ... and this many tainted satoshis (10,000 = 0.0001 BTC) */
    uint32_t hold_share_ppm;   /* a watched deposit at or above this share is held, below reviewed */
    uint64_t cluster_limit;    /* supercluster size (default 100,000) */
    bool payjoin_guard;        /* also withhold merges of PayJoin-like txs (default off: chains/bitcoin/coinjoin.h);
                                * blocks already connected keep the merges made under the setting then */
    const labels *labels;      /* known services, or NULL */
    const addrset *watched;    /* the user's own deposit addresses, or NULL */
} flows_config;

/* The defaults above, enabled. */
void flows_config_default(flows_config *c);

typedef enum { FLOW_CLUSTER_HIT = 1, FLOW_EXPOSURE } flow_kind;

typedef struct {
    flow_kind kind;
    cw_addr addr;              /* the member (cluster hit) or the paid address (exposure) */
    bool to;                   /* cluster hit: paid to a member (true) or paid by one */
    bool amount_known;
    bool watched;              /* the address is in the watched set */
    uint64_t amount;           /* cluster hit: the value; exposure: tainted satoshis */
    uint64_t value;            /* exposure: the output's value */
    uint32_t share_ppm;        /* exposure: amount / value, parts per million */
    uint8_t hops;              /* exposure: >= 1 */
    exposure_taint taint;           /* exposure: source and path (path ends with this tx) */
    cluster_info cluster;           /* cluster hit: the designated cluster */
    uint8_t member_join[32];   /* cluster hit: the tx that joined the member (zero: it is the root) */
    uint8_t designated_join[32]; /* ... and the designated member */
} flow_finding;

typedef struct {
    uint64_t merges, multiparty_skipped, clusters_stopped, taint_outputs, findings;
    uint64_t multiparty_by_kind[8];
    char multiparty_example[8][200]; /* by kind: the first skipped tx and the detector's reason */
} flows_stats;

/* Analyses tx (inputs resolved where the prevout index knew them): every
 * input and output, however many. Not reentrant (its scratch is per
 * thread, grown to the biggest tx seen): one call at a time per thread;
 * a thread that called it frees the scratch with flows_thread_free before
 * it ends. With a journal (t is
 * its write transaction) the tx's effects are written; with j == NULL only
 * t is read. Sets *found to the findings, (*found)[0..*n), owned by flows
 * and good until the next call. One finding per kind, direction and
 * address: an address's coins and outputs in the tx are summed. A store
 * error is returned (the findings are then incomplete: the caller must not
 * record the tx as analysed); CW_ENOMEM when the scratch cannot grow. */
cw_code flows_tx(const flows_config *cfg, store_txn *t, journal *j, const cw_tx *tx, const flow_finding **found,
                 size_t *n, flows_stats *st, cw_err *err);
/* Frees the calling thread's flows_tx scratch (findings handed out die). */
void flows_thread_free(void);

#endif
