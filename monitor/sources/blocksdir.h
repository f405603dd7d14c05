/*
 * blocksdir.h: a Bitcoin Core blocks/ directory read as a chain.
 *
 * Design note. blk?????.dat files hold blocks in arrival order, stale
 * branches and orphans included, obfuscated with the 8-byte key of xor.dat
 * (Core 28+; absent or all zero: plain). The scan reads every record once,
 * keeps only (file, offset, size, hash, prev, bits) per block, links blocks
 * to their parents, and picks the tip with the most work (of equal ones,
 * the one stored first, as Bitcoin Core keeps the first it received); the
 * best chain is that tip's ancestry. Blocks off it are never processed.
 *
 * Damage is read around, never stopped at. Zero padding after the last
 * record was never obfuscated, so zeros running to the end of a file end it
 * silently (judged on the raw bytes). Anything else that is no record (zero
 * bytes between records: space a node reserved and never wrote; a bad size
 * field; the leftovers of a cut record a restarted node wrote a shorter
 * block over; a record cut short by the end of the file) is skipped to the
 * next network magic, as Core's -reindex does, and listed as a
 * blocksdir_skip. Only the magic is a place to resync: blocks are full of
 * zero bytes. A record that does not end where a record ends (a magic,
 * zeros to a magic or the end) is read whole: when another record starts
 * inside it (its block written again after a restart) it was cut short, and
 * it is skipped in favour of that one. A record followed by zeros or
 * leftovers rather than at once by a magic or the file's end, or whose last
 * eight bytes are zero (never written), is decoded whole during the scan (a
 * block cut short in reserved space, a size that points into the padding):
 * when it is no block it is skipped to the next magic, unless another copy
 * of its block is whole (then it counts as a duplicate). Of two records of
 * one block the whole one is read (both decoded), else the later. So the
 * scan reads each record's head plus one block per file with padding.
 * Unreadable bytes at the very start of a file are an error (a missing
 * xor.dat), as are records of another network.
 */
#ifndef CW_BLOCKSDIR_H
#define CW_BLOCKSDIR_H

#include <stdbool.h>
#include <stdint.h>

#include "chains/buf.h"
#include "chains/model.h"

typedef struct blocksdir blocksdir;

typedef struct {
    size_t files, records, orphans, stale;
    size_t truncated;         /* records cut short by the end of their file */
    size_t skipped;           /* spans of blk files and whole --rawblocks files skipped (blocksdir_skipped) */
    uint64_t skipped_bytes;   /* their bytes */
    size_t duplicates;        /* records of a block already read (the whole one is used, else the later) */
    size_t gaps;              /* --rawblocks: runs of blocks whose parent is missing, off the best chain */
    size_t gap_blocks;        /* --rawblocks: the blocks in them (orphans included), not replayable */
    uint8_t tip[32];          /* the best chain's tip, internal order (when best_height >= 0) */
    int64_t first_height;     /* the best chain's first height: 0, or where --rawblocks files begin */
    int64_t best_height;      /* -1 if no chain */
    bool obfuscated;
} blocksdir_info;

/* What was skipped, and why: a span of a blk file, or a whole --rawblocks
 * file (offset 0, its length). */
typedef struct {
    const char *file;         /* the file's name in the directory, owned by the blocksdir */
    uint64_t offset, length;
    char why[224];
} blocksdir_skip;

/* Scans dir for blocks of network `net`. Refuses a directory without
 * blk*.dat files, a file whose first bytes are no record, and records of
 * another network (naming file and offset); skips and lists other damage
 * (see above). */
cw_code blocksdir_open(const char *dir, cw_net net, blocksdir **out, blocksdir_info *info, cw_err *err);
/* The same over a directory of single blocks, one per file, raw bytes or
 * hex text (--rawblocks), in any order. There is no magic to check the
 * network against. A block whose parent is not in the directory starts a
 * chain at its coinbase's BIP-34 height (an orphan if it has none), so a
 * few consecutive mainnet blocks replay at their real heights. A file that
 * cannot be read or is not a whole block (every tx decoded, merkle root and
 * witness commitment checked) is listed in blocksdir_skipped and the scan
 * goes on. Blocks that do not descend from the best chain's first block
 * (another run behind a missing parent) are counted in info->gaps and
 * gap_blocks and named by blocksdir_gaps: the caller decides whether to
 * refuse them. */
cw_code blocksdir_open_raw(const char *dir, cw_net net, blocksdir **out, blocksdir_info *info, cw_err *err);
/* Both opens: *info is zeroed first and filled (best_height -1 when no
 * chain was found: not an error); *out is set only on CW_OK, to be freed
 * with blocksdir_close. Codes: CW_EIO naming the file (the directory, a
 * file or an xor.dat that exists cannot be opened; a read error in a file,
 * never taken for a cut record), CW_EARG (no block files; another
 * network's record), CW_EFORMAT (a file that starts with no record; an
 * xor.dat that is not 8 bytes), CW_ENOMEM (also while listing the files:
 * never a shorter list). */
/* NULL is a no-op. */
void blocksdir_close(blocksdir *b);
/* Hash (internal order) of the best chain's block at height; false when
 * height is outside first_height..best_height. */
bool blocksdir_hash_at(const blocksdir *b, int64_t height, uint8_t hash[32]);
/* Reads (and de-obfuscates) the best chain's block at height into out,
 * replacing its contents. CW_ENOTFOUND for a height off the best chain;
 * CW_EIO when the file cannot be opened or holds fewer bytes than the scan
 * found (it changed since); CW_ENOMEM; --rawblocks: cw_read_file's codes
 * and CW_EFORMAT for bad hex. The bytes are not checked again against the
 * scanned hash: the caller's decode checks the merkle root. */
cw_code blocksdir_read(blocksdir *b, int64_t height, cw_buf *out, cw_err *err);
/* Where the best chain's block at height is stored: its file's name (owned
 * by b) and, for blk files, the offset of its record; NULL if none. */
const char *blocksdir_file_at(const blocksdir *b, int64_t height, uint64_t *record_offset);
/* Size in bytes of the best chain's block at height (0 if none). */
uint64_t blocksdir_size_at(const blocksdir *b, int64_t height);
/* What the scan skipped, in scan order: sets *out (owned by b) and returns
 * how many (info->skipped). */
size_t blocksdir_skipped(const blocksdir *b, const blocksdir_skip **out);
/* --rawblocks: one line per run of blocks behind a missing parent ("FILE:
 * block HASH (height H: heights A..B are missing ...) follows PARENT, which
 * is not in the directory"), each ending in a newline; "" when none. */
const char *blocksdir_gaps(const blocksdir *b);

#endif
