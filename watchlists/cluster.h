/*
 * cluster.h: wallets by common-input ownership, as a union-find forest in
 * the store.
 *
 * Design note. All inputs of an ordinary transaction are signed by one
 * wallet, so their addresses belong together (the common-input-ownership
 * heuristic; multi-party transactions such as CoinJoins are the exception
 * and the caller must not merge them). Each address that ever shared a tx's
 * inputs with another has a `cluster` entry naming its parent and the tx
 * that joined it; a root has no entry but a `cluster_info` record, and an
 * address never merged has neither (the store's Bloom filters answer that
 * common case from memory). Roots carry a `cluster_info` record:
 * size, designated members (count and the first one), whether a labelled
 * service is inside, a supercluster flag, the last merging tx, and a few
 * sample members. Merges are union by size (ties: the smaller key wins, so
 * every run builds the same forest) with path compression; every write goes
 * through the journal, so a disconnected block takes its merges back.
 *
 * Designated membership is counted when addresses join, and counted again
 * from the watchlist by cluster_refresh when an import changed the list (the
 * monitor checks between blocks), so a cluster whose member is designated
 * later, or delisted, says so from the next block on. Labels work the same
 * way: a cluster learns of a service when the service's address merges in,
 * or when cluster_refresh runs with the labels of a new run.
 *
 * Errors: store errors pass up (CW_ESTORE, CW_EDAMAGED, CW_EFULL); a
 * record that does not decode, a parent link to nothing, or a chain of
 * parents deeper than union by size allows is CW_EDAMAGED (STORE_DAMAGED
 * in the message), never "not in a cluster". Every result is a copy
 * (cluster_info holds its keys), nothing points into the store. Writers
 * take the block's journal, whose transaction the caller commits or
 * aborts; after an error, abort.
 */
#ifndef CW_CLUSTER_H
#define CW_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "watchlists/store/journal.h"
#include "labels.h"
#include "watchlists/store/store.h"
#include "watchlist.h"

#define CLUSTER_SAMPLE_MAX 8
#define CLUSTER_SERVICE_MAX 64

enum {
    CLUSTER_SERVICE = 1 << 0, /* a labelled service (exchange, ...) is a member: no propagation */
    CLUSTER_SUPER = 1 << 1,   /* grew past the size limit: no propagation */
};

typedef struct {
    uint8_t key[WL_KEY_MAX];
    size_t len;
} cluster_key;

typedef struct {
    cluster_key root;
    uint64_t size;                 /* addresses */
    uint32_t designated;           /* designated members, as counted at merges */
    uint32_t flags;                /* CLUSTER_SERVICE, CLUSTER_SUPER */
    uint8_t merge_txid[32];        /* the tx that last merged into it (zero: none) */
    cluster_key first_designated;       /* len 0: none */
    char service[CLUSTER_SERVICE_MAX];  /* the first labelled service inside, or "" */
    size_t n_sample;
    cluster_key sample[CLUSTER_SAMPLE_MAX];  /* the first members to join */
} cluster_info;

/* Finds key's cluster (read only: no path compression). An address never
 * merged is its own root: size 1, designated when the watchlist lists it.
 * Fills *join_txid (may be NULL) with the tx that joined key to its cluster
 * (zero for a root). CW_EARG for a key over WL_KEY_MAX; CW_EDAMAGED for a
 * damaged record or a member whose root has no cluster_info; store and
 * watchlist errors pass up. */
cw_code cluster_find(store_txn *t, const uint8_t *key, size_t klen, cluster_info *info, uint8_t join_txid[32], cw_err *err);

/* The same when the caller already knows whether the watchlist lists key
 * (saves a lookup on the hot path). */
cw_code cluster_find_listed(store_txn *t, const uint8_t *key, size_t klen, bool listed, cluster_info *info,
                       uint8_t join_txid[32], cw_err *err);

/* `watchlist check`: NULL when key/value is a well-formed record of db
 * (cluster: its parent present as a member or a root; cluster_info;
 * cluster_desig: its root's record present; any other db: NULL), else what
 * is wrong with it. A store error reading the parent is reported as
 * damage of this record ("could not be read"). */
const char *cluster_check_record(store_txn *t, store_db db, cw_span k, cw_span v);

/* What one address brings to a merge. */
typedef struct {
    cluster_key key;
    bool designated;     /* the watchlist lists it */
    const char *service; /* its label when it is a known service, else NULL */
} cluster_member;

typedef struct {
    bool merged;         /* two or more clusters became one */
    bool became_designated; /* a cluster without designated members joined one with */
    bool became_super;   /* the merge crossed the size limit */
    cluster_info info;        /* the merged cluster */
} cluster_merge_result;

/* Merges the clusters of members[0..n) (the input addresses of one tx),
 * journaled. Duplicated members are fine. At most 64 distinct clusters
 * merge per call (the rest are left out): merge more in chunks that share
 * a member. `limit` is the supercluster size
 * (a cluster above it gets CLUSTER_SUPER). CW_EARG for n == 0; store errors
 * and CW_EDAMAGED as cluster_find. *out is the merged cluster. */
cw_code cluster_merge(journal *j, const cluster_member *members, size_t n, const uint8_t txid[32], uint64_t limit,
                 cluster_merge_result *out, cw_err *err);

typedef struct {
    uint64_t roots_changed;   /* cluster records whose designated members were recounted */
    uint64_t services_marked; /* clusters newly marked as holding a labelled service */
} cluster_refresh_stats;

/* Brings cluster records up to date with the watchlist and labels as they
 * are now, in write transaction t (no journal: run it outside a block's
 * transaction, and again after a disconnect, whose journal may restore
 * older counts). With `recount` every cluster's designated members are
 * counted again from the watchlist: the listed addresses' clusters and
 * those cluster_desig lists (every cluster with designated members), so it
 * costs the list's size, not the number of clusters; labelled addresses
 * (services may be NULL) mark their clusters as services. Not with
 * write-back on t (it walks cluster_desig with a cursor, which would not
 * see pending writes). CW_ENOMEM, store errors, CW_EDAMAGED. */
cw_code cluster_refresh(store_txn *t, bool recount, const labels *services, cluster_refresh_stats *st, cw_err *err);

/* True when designation and exposure propagate through this cluster. */
static inline bool cluster_propagates(const cluster_info *c) { return (c->flags & (CLUSTER_SERVICE | CLUSTER_SUPER)) == 0; }

#endif
