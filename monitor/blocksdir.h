/*
 * blocksdir.h: a Bitcoin Core blocks/ directory read as a chain.
 *
 * Design note. blk?????.dat files hold blocks in arrival order, stale
 * branches and orphans included, obfuscated with the 8-byte key of xor.dat
 * (Core 28+; absent or all zero: plain). The scan reads every record once,
 * keeps only (file, offset, size, hash, prev, bits) per block, links blocks
 * to their parents, and picks the tip with the most work (of equal ones,
 * the one stored first, as Bitcoin Core keeps the first it received); the
 * best chain is that tip's ancestry. Blocks off it are never processed. Zero padding after
 * the last record was never obfuscated, so the end of data is judged on the
 * raw bytes; a record cut short (a node killed mid-write) is reported and
 * skipped, and so are bytes between records that are no record (what is
 * left when a restarted node wrote a shorter block over a cut record): the
 * scan moves on to the next magic, as Core's -reindex does. Unreadable
 * bytes at the start of a file are an error (a missing xor.dat).
 */
#ifndef CW_BLOCKSDIR_H
#define CW_BLOCKSDIR_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "chains/model.h"

typedef struct blocksdir blocksdir;

typedef struct {
    size_t files, records, orphans, stale, truncated;
    uint64_t skipped_bytes;   /* bytes between records that were no record (a crash's leftovers) */
    int64_t first_height;     /* the best chain's first height: 0, or where --rawblocks files begin */
    int64_t best_height;      /* -1 if no chain */
    bool obfuscated;
} blocksdir_info;

/* Scans dir for blocks of network `net`. Refuses a directory without
 * blk*.dat files and records of another network (naming file and offset). */
cw_code blocksdir_open(const char *dir, cw_net net, blocksdir **out, blocksdir_info *info, cw_err *err);
/* The same over a directory of single blocks, one per file, raw bytes or
 * hex text (--rawblocks), in any order. There is no magic to check the
 * network against. A block whose parent is not in the directory starts a
 * chain at its coinbase's BIP-34 height (an orphan if it has none), so a
 * few consecutive mainnet blocks replay at their real heights. Refuses a
 * file that is not a block, naming it. */
cw_code blocksdir_open_raw(const char *dir, cw_net net, blocksdir **out, blocksdir_info *info, cw_err *err);
void blocksdir_close(blocksdir *b);
/* Hash (internal order) of the best chain's block at height. */
bool blocksdir_hash_at(const blocksdir *b, int64_t height, uint8_t hash[32]);
/* Reads (and de-obfuscates) the best chain's block at height into out. */
cw_code blocksdir_read(blocksdir *b, int64_t height, cw_buf *out, cw_err *err);
/* Size in bytes of the best chain's block at height (0 if none). */
uint64_t blocksdir_size_at(const blocksdir *b, int64_t height);
/* Warnings collected during the scan (truncated records, ...), or "". */
const char *blocksdir_warnings(const blocksdir *b);

#endif
