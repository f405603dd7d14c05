/*
 * blocksdir.c: the blk scan (design note; what is refused and skipped is in
 * blocksdir.h).
 *
 * Passes, all at open, none later:
 *   1. List: blk?????.dat names (or, --rawblocks, every regular file),
 *      sorted, so file order is the node's write order; xor.dat's key.
 *   2. Scan each file from byte 0 (scan_file). probe() reads a record's 8
 *      head bytes and 80-byte header only, then jumps over the block: a
 *      128 MB file costs some hundred kilobytes of reads. Every outcome is
 *      a record (an entry), a skip (to the next magic, listed with why), or
 *      an error (byte 0 unreadable, another network). The record's end is
 *      checked too (plausible_end): a record that does not end where one
 *      ends is searched for a record inside it, the only costly case.
 *      --rawblocks files have no framing to trust: each is read and
 *      decoded whole (merkle root and witness commitment checked) here,
 *      and read again when replayed.
 *   3. Link: entries are sorted by hash (bsearch for parents), duplicates
 *      collapse to the later record, and each entry's height and
 *      cumulative work come from its parent, walked up with an explicit
 *      stack (no recursion: a chain is 900k deep). No parent: genesis
 *      (prev zero), a --rawblocks chain start (BIP-34 height), else an
 *      orphan, as is every descendant of one.
 *   4. Pick the tip with the most work, ties to the one stored first, and
 *      lay its ancestry into best[] (entry by height).
 * Reads (blocksdir_read) are then one pread of the block's bytes and the
 * xor, eight bytes at a time with the key rotated to the block's offset.
 *
 * Invariants: an entry's header was parsed from the file and its hash is
 * that header's; only best-chain blocks are ever read; heights are
 * contiguous from base to the tip. The scan trusts headers as found (no
 * proof-of-work check, work from nBits): a blocks/ directory is the
 * user's own node's, and every block read is decoded and its merkle root
 * checked when it is connected (chainstate_connect). Memory is one entry
 * (~130 bytes) per record: ~120 MB for mainnet's 900k blocks, the price
 * of choosing the best chain before reading any block.
 *
 * Not thread-safe; a blocksdir is read by one caller. The files must not
 * change after the scan (a running node appends to its last file: the
 * scan sees what was there at open).
 */
#include "blocksdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chains/bitcoin/blkfile.h"
#include "chains/bitcoin/block.h"
#include "chains/bitcoin/params.h"
#include "chains/bitcoin/tx.h"
#include "chains/hash.h"
#include "chains/hex.h"
#include "monitor/engine/decode.h"

typedef struct {
    uint8_t hash[32], prev[32];
    uint32_t file;
    uint64_t offset; /* of the block bytes (after magic and size) */
    uint32_t size;
    uint32_t bits;
    int64_t height;  /* -1 until linked; -2 orphan */
    int64_t bip34;   /* --rawblocks: the coinbase's height, for a block whose parent is absent; -1 none */
    long double work; /* cumulative */
    uint8_t checked;  /* CHECK_*: whether the whole record was decoded at scan time */
} entry;

/* A record is trusted on its header when it ends where a record ends; the
 * others (and both copies of a block stored twice) are decoded whole. */
enum {
    CHECK_NONE,
    CHECK_GOOD,
    CHECK_BAD,     /* found no whole block while picking between two copies */
    CHECK_SKIPPED, /* found no whole block by the scan: listed as skipped, pending */
};

struct blocksdir {
    char dir[4096];
    char **files;
    size_t n_files;
    uint8_t key[8];
    bool xor;
    entry *e;
    size_t n, cap;
    bool raw_files; /* --rawblocks: one block per file, raw or hex */
    size_t *best;   /* entry index by height - base */
    int64_t base;   /* height of best[0]: 0, or a --rawblocks chain's first block */
    int64_t best_len;
    blocksdir_skip *skips;
    uint8_t (*skip_hash)[32]; /* per skip: the block of a record that did not decode... */
    bool *skip_pending;       /* ...dropped (a duplicate) when another copy of it is whole */
    size_t n_skips, cap_skips;
    block_walker walker;      /* decoding suspect records at scan time */
    cw_buf rec;
    char *gaps;     /* --rawblocks: one line per block whose parent is missing, off the best chain */
    size_t gaps_len;
    int read_errno;       /* the scan's first read error (0 none): the file's scan fails with it, */
    uint64_t read_err_at; /* at this byte, never reads as a record cut short */
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int cmp_hash(const void *a, const void *b) { return memcmp(((const entry *)a)->hash, ((const entry *)b)->hash, 32); }

static entry *find(blocksdir *b, const uint8_t hash[32])
{
    entry key;
    memcpy(key.hash, hash, 32);
    return bsearch(&key, b->e, b->n, sizeof *b->e, cmp_hash);
}

/* Work of one block: 2^256 / (target + 1), as a long double. */
static long double block_work(uint32_t bits)
{
    int exp = (int)(bits >> 24);
    long double mant = (long double)(bits & 0x007fffff);
    if (mant == 0)
        return 0;
    long double target = mant * powl(256.0L, (long double)(exp - 3));
    return powl(2.0L, 256.0L) / (target + 1.0L);
}

static entry *new_entry(blocksdir *b, cw_err *err)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        entry *ne = realloc(b->e, cap * sizeof *ne);
        if (ne == NULL) {
            cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory indexing blocks");
            return NULL;
        }
        b->e = ne;
        b->cap = cap;
    }
    entry *e = &b->e[b->n++];
    memset(e, 0, sizeof *e);
    e->height = -1;
    e->bip34 = -1;
    return e;
}

/* Reads up to n bytes at pos; returns how many (fewer at the file's end).
 * A read error also returns what was read, and is noted in b for the scan
 * to fail with (scan_file). */
static size_t read_at(blocksdir *b, int fd, uint64_t pos, uint8_t *out, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, out + got, n - got, (off_t)(pos + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && b->read_errno == 0) {
            b->read_errno = errno;
            b->read_err_at = pos + got;
        }
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static void unxor(const blocksdir *b, uint64_t pos, uint8_t *p, size_t n)
{
    for (size_t i = 0; b->xor && i < n; i++)
        p[i] ^= b->key[(pos + i) % 8];
}

/* The offset of the next record start (the network's magic, de-obfuscated)
 * in [pos, limit), or limit. Only the magic counts: zero bytes are all over
 * blocks, so stopping at them would end a file at its first damage. */
static uint64_t find_magic(blocksdir *b, int fd, uint64_t pos, uint64_t limit, cw_net net)
{
    uint8_t buf[65536];
    while (pos + 4 <= limit) {
        size_t want = limit - pos < sizeof buf ? (size_t)(limit - pos) : sizeof buf;
        size_t n = read_at(b, fd, pos, buf, want);
        if (n < 4)
            break;
        unxor(b, pos, buf, n);
        size_t at = btc_blk_find_magic(buf, n, 0, net);
        if (at < n)
            return pos + at;
        pos += n - 3; /* a magic may straddle two reads */
    }
    return limit;
}

/* The offset of the first non-zero raw byte in [pos, limit), or limit.
 * Padding was never obfuscated: judged on the raw bytes. */
static uint64_t next_nonzero(blocksdir *b, int fd, uint64_t pos, uint64_t limit)
{
    uint8_t buf[65536];
    while (pos < limit) {
        size_t want = limit - pos < sizeof buf ? (size_t)(limit - pos) : sizeof buf;
        size_t n = read_at(b, fd, pos, buf, want);
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++)
            if (buf[i])
                return pos + i;
        pos += n;
    }
    return limit;
}

/* The end of a file's data: the offset after its last non-zero byte. */
static uint64_t last_nonzero_end(blocksdir *b, int fd, uint64_t file_size)
{
    uint8_t buf[65536];
    uint64_t end = file_size;
    while (end > 0) {
        size_t want = end < sizeof buf ? (size_t)end : sizeof buf;
        size_t n = read_at(b, fd, end - want, buf, want);
        if (n < want)
            return file_size; /* unreadable: let the scan say where */
        for (size_t i = want; i > 0; i--)
            if (buf[i - 1])
                return end - want + i;
        end -= want;
    }
    return 0;
}

typedef enum { REC_OK, REC_ZERO, REC_SHORT, REC_NOMAGIC, REC_OTHERNET, REC_BADSIZE, REC_PASTEND } rec_kind;

typedef struct {
    rec_kind kind;
    cw_net net;
    uint32_t size;
    btc_header h;
} rec_probe;

/* What the bytes at pos are: a record that fits the file and starts with
 * a block header, or why not. */
static rec_probe probe(blocksdir *b, int fd, uint64_t pos, uint64_t file_size, cw_net net)
{
    rec_probe r = {.kind = REC_OK};
    uint8_t raw[88];
    size_t got = read_at(b, fd, pos, raw, sizeof raw);
    if (btc_blk_all_zero(raw, got < 4 ? got : 4))
        r.kind = REC_ZERO;
    else if (got < 8)
        r.kind = REC_SHORT;
    if (r.kind != REC_OK)
        return r;
    unxor(b, pos, raw, got);
    r.size = (uint32_t)raw[4] | (uint32_t)raw[5] << 8 | (uint32_t)raw[6] << 16 | (uint32_t)raw[7] << 24;
    if (!btc_net_from_magic(raw, &r.net))
        r.kind = REC_NOMAGIC;
    else if (r.net != net)
        r.kind = REC_OTHERNET;
    else if (r.size < 81 || r.size > BTC_MAX_BLOCK_SIZE)
        r.kind = REC_BADSIZE;
    else if (pos + 8 + r.size > file_size || got < 88)
        r.kind = REC_PASTEND;
    if (r.kind != REC_OK)
        return r;
    btc_header_parse(raw + 8, 80, &r.h, NULL);
    return r;
}

/* What follows a record ending at `end`. */
typedef enum {
    END_RECORD, /* the end of the file or the next record's magic: trusted on its header */
    END_ZEROS,  /* zero bytes up to one of those: padding, or the zeros of a record cut short */
    END_OTHER,  /* anything else */
} end_kind;

/* How the record [start, end) ends; *tail_zero: its last eight raw bytes are
 * zero. Obfuscated, those were never written; plain, few blocks end so (a
 * zero lock time is four). Either way the record is decoded whole. */
static end_kind record_end(blocksdir *b, int fd, uint64_t start, uint64_t end, uint64_t file_size, cw_net net,
                           bool *tail_zero)
{
    uint8_t m[12]; /* the record's last eight bytes and the next four, one read */
    uint64_t from = end - 8 >= start ? end - 8 : start;
    size_t got = read_at(b, fd, from, m, (size_t)(end - from) + 4);
    size_t tail = (size_t)(end - from);
    *tail_zero = got >= tail && tail == 8 && btc_blk_all_zero(m, 8);
    if (end == file_size)
        return END_RECORD;
    if (got < tail)
        return END_OTHER;
    got -= tail;
    if (!btc_blk_all_zero(m + tail, got)) { /* the common case: a magic, four bytes read */
        unxor(b, end, m + tail, got);
        return got == 4 && memcmp(m + tail, btc_params_for(net)->magic, 4) == 0 ? END_RECORD : END_OTHER;
    }
    uint64_t nz = next_nonzero(b, fd, end, file_size);
    if (nz == file_size)
        return END_ZEROS;
    return find_magic(b, fd, end, nz + 4 < file_size ? nz + 4 : file_size, net) <= nz ? END_ZEROS : END_OTHER;
}

static bool plausible_end(blocksdir *b, int fd, uint64_t start, uint64_t end, uint64_t file_size, cw_net net)
{
    bool tz;
    return record_end(b, fd, start, end, file_size, net, &tz) != END_OTHER;
}

/* Reads (and de-obfuscates) size bytes of block at offset of file fi. */
static cw_code read_block_at(const blocksdir *b, uint32_t fi, uint64_t offset, uint32_t size, cw_buf *out, cw_err *err)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", b->dir, b->files[fi]);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot open %s: %s", path, strerror(errno));
    out->n = 0;
    cw_code rc = cw_buf_reserve(out, size, err);
    ssize_t got = rc ? -1 : pread(fd, out->p, size, (off_t)offset);
    int read_errno = errno;
    close(fd);
    if (rc)
        return rc;
    if (got != (ssize_t)size)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "%s: could not read the block at byte %llu: %s", path,
                          (unsigned long long)offset, got < 0 ? strerror(read_errno) : "the file is shorter");
    out->n = size;
    if (b->xor) { /* eight bytes at a time, with the key rotated to the block's offset */
        uint8_t rot[8];
        for (int i = 0; i < 8; i++)
            rot[i] = b->key[(offset + (uint64_t)i) % 8];
        uint64_t k;
        memcpy(&k, rot, 8);
        size_t i = 0;
        for (; i + 8 <= size; i += 8) {
            uint64_t w;
            memcpy(&w, out->p + i, 8);
            w ^= k;
            memcpy(out->p + i, &w, 8);
        }
        for (; i < size; i++)
            out->p[i] ^= rot[i % 8];
    }
    return CW_OK;
}

/* Whether p is one whole block: every tx decoded, the merkle root and the
 * witness commitment checked; why says what is wrong. */
static cw_code whole_block(block_walker *w, const uint8_t *p, size_t n, cw_net net, block_summary *s, cw_err *why)
{
    cw_code rc = decode_block_walk(w, p, n, net, NULL, NULL, s, why);
    if (rc == CW_OK && (!s->merkle_ok || s->merkle_mutated))
        rc = cw_err_set(why, CW_ECHECKSUM, CW_NO_OFFSET, "its txs do not hash to the header's merkle root");
    else if (rc == CW_OK && (s->witness == BTC_WITNESS_BAD || s->witness == BTC_WITNESS_MISSING))
        rc = cw_err_set(why, CW_ECHECKSUM, CW_NO_OFFSET, "its witness commitment does not match");
    return rc;
}

/* Decodes a blk record whole: CW_OK (whole), CW_ENOMEM or CW_EIO (no
 * verdict), or another code with why filled (no block). */
static cw_code check_record(blocksdir *b, uint32_t fi, uint64_t offset, uint32_t size, cw_net net, cw_err *why)
{
    cw_code rc = read_block_at(b, fi, offset, size, &b->rec, why);
    if (rc)
        return rc;
    block_summary s;
    return whole_block(&b->walker, b->rec.p, b->rec.n, net, &s, why);
}

static cw_code skip(blocksdir *b, uint32_t fi, uint64_t pos, uint64_t next, blocksdir_info *info, cw_err *err,
                    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;

static cw_code skip(blocksdir *b, uint32_t fi, uint64_t pos, uint64_t next, blocksdir_info *info, cw_err *err,
                    const char *fmt, ...)
{
    if (b->n_skips == b->cap_skips) {
        size_t cap = b->cap_skips ? b->cap_skips * 2 : 16;
        blocksdir_skip *ns = realloc(b->skips, cap * sizeof *ns);
        if (ns == NULL)
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory listing skipped bytes");
        b->skips = ns;
        uint8_t(*nh)[32] = realloc(b->skip_hash, cap * sizeof *nh);
        if (nh)
            b->skip_hash = nh;
        bool *np = nh ? realloc(b->skip_pending, cap * sizeof *np) : NULL;
        if (np == NULL)
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory listing skipped bytes");
        b->skip_pending = np;
        b->cap_skips = cap;
    }
    b->skip_pending[b->n_skips] = false;
    blocksdir_skip *s = &b->skips[b->n_skips++];
    s->file = b->files[fi];
    s->offset = pos;
    s->length = next - pos;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof s->why, fmt, ap);
    va_end(ap);
    info->skipped++;
    info->skipped_bytes += next - pos;
    return CW_OK;
}

/* Only each record's head and block header are read (pread, then a jump
 * over the block), plus the bytes where it ends: a 128 MB file costs some
 * hundred kilobytes of reads. A record whose end is not where a record ends
 * is read whole, to find a record a restarted node wrote inside it. */
static cw_code scan_file(blocksdir *b, uint32_t fi, cw_net net, blocksdir_info *info, cw_err *err)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", b->dir, b->files[fi]);
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        cw_code rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot open %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    uint64_t file_size = (uint64_t)st.st_size, pos = 0;
    /* zero padding to the end is no damage: spans stop where it starts
     * (records may still run into it: a block can end in zero bytes) */
    b->read_errno = 0;
    uint64_t data_end = last_nonzero_end(b, fd, file_size);
    cw_code rc = CW_OK;
    char hx[65];
    while (rc == CW_OK && b->read_errno == 0 && pos < data_end) {
        rec_probe r = probe(b, fd, pos, file_size, net);
        uint64_t next = r.kind == REC_OK ? pos : find_magic(b, fd, pos + 1, data_end, net);
        switch (r.kind) {
        case REC_ZERO:
            rc = skip(b, fi, pos, next, info, err, "%s (space a node reserved and never wrote, or a crash's leftovers)",
                      next_nonzero(b, fd, pos, next) >= next ? "zero bytes between records"
                                                          : "zero bytes and bytes that are no record");
            break;
        case REC_SHORT:
            rc = skip(b, fi, pos, data_end, info, err, "%llu bytes at the end of the file, too few for a record",
                      (unsigned long long)(data_end - pos));
            next = data_end;
            break;
        case REC_NOMAGIC:
            if (pos == 0) { /* a node writes every file from a record: the wrong key, or not a blk file */
                rc = cw_err_set(err, CW_EFORMAT, pos, "%s: byte 0: unknown network magic%s", path,
                                b->xor ? "" : " (is xor.dat missing?)");
                break;
            }
            rc = skip(b, fi, pos, next, info, err, "bytes that are no record (left by a crash?)");
            break;
        case REC_OTHERNET:
            rc = cw_err_set(err, CW_EARG, pos, "%s: byte %llu: a %s block, but --network is %s", path,
                            (unsigned long long)pos, cw_net_name(r.net), cw_net_name(net));
            break;
        case REC_BADSIZE:
            rc = skip(b, fi, pos, next, info, err, "a record size of %u bytes, no block's (81..%u)", r.size,
                      BTC_MAX_BLOCK_SIZE);
            break;
        case REC_PASTEND:
            if (next == data_end)
                info->truncated++;
            rc = skip(b, fi, pos, next, info, err, next == data_end
                          ? "a record of %u bytes cut short by the end of the file (a node stopped mid-write?)"
                          : "a record of %u bytes cut short: another record starts inside it", r.size);
            break;
        case REC_OK: {
            uint64_t end = pos + 8 + r.size;
            bool tail_zero;
            end_kind ek = record_end(b, fd, pos + 8, end, file_size, net, &tail_zero);
            if (ek == END_OTHER) {
                /* cut short with another record inside it (a restarted node
                 * wrote it again), or whole and followed by leftovers */
                for (uint64_t m = find_magic(b, fd, pos + 8, end, net); m < end;
                     m = find_magic(b, fd, m + 1, end, net)) {
                    rec_probe in = probe(b, fd, m, file_size, net);
                    if (in.kind == REC_OK && (memcmp(in.h.hash, r.h.hash, 32) == 0 ||
                                            plausible_end(b, fd, m + 8, m + 8 + in.size, file_size, net))) {
                        next = m;
                        break;
                    }
                }
                if (next != pos) {
                    cw_hex_encode_rev(r.h.hash, 32, hx);
                    rc = skip(b, fi, pos, next, info, err,
                              "a record of block %s cut short: another record starts inside it "
                              "(written again after a restart?)", hx);
                    break;
                }
            }
            /* A record that ends in zeros (padding, a gap, or its own
             * unwritten tail) or in leftovers may be cut short or carry a
             * damaged size; decoded whole, it either is a block or is
             * skipped to the next magic (its size is not to be trusted). */
            uint8_t checked = CHECK_NONE;
            cw_err why = {0};
            if (ek != END_RECORD || tail_zero) {
                cw_code crc = check_record(b, fi, pos + 8, r.size, net, &why);
                if (crc == CW_ENOMEM || crc == CW_EIO) { /* no verdict on the record: an error */
                    rc = cw_err_set(err, crc, CW_NO_OFFSET, "%s", why.msg);
                    break;
                }
                checked = crc == CW_OK ? CHECK_GOOD : CHECK_SKIPPED;
            }
            entry *e = new_entry(b, err);
            if (e == NULL) {
                rc = CW_ENOMEM;
                break;
            }
            memcpy(e->hash, r.h.hash, 32);
            memcpy(e->prev, r.h.prev, 32);
            e->bits = r.h.bits;
            e->file = fi;
            e->offset = pos + 8;
            e->size = r.size;
            e->checked = checked;
            info->records++;
            next = end;
            if (checked == CHECK_SKIPPED) { /* named unless another copy of the block is whole (open_dir) */
                next = find_magic(b, fd, pos + 1, data_end, net);
                cw_hex_encode_rev(r.h.hash, 32, hx);
                rc = skip(b, fi, pos, next, info, err,
                          "a record of block %s that is no whole block (cut short, or a bad size?): %s", hx, why.msg);
                if (rc == CW_OK) {
                    b->skip_pending[b->n_skips - 1] = true;
                    memcpy(b->skip_hash[b->n_skips - 1], r.h.hash, 32);
                }
            }
            break;
        }
        }
        pos = next;
        if (b->read_errno) /* what was read since may have passed for a cut record */
            break;
    }
    close(fd);
    if (b->read_errno && rc == CW_OK)
        rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "%s: cannot read byte %llu: %s", path,
                        (unsigned long long)b->read_err_at, strerror(b->read_errno));
    return rc;
}

/* A --rawblocks file: one block, raw bytes or hex text. */
static cw_code read_raw_block(const blocksdir *b, uint32_t fi, cw_buf *out, cw_err *err)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", b->dir, b->files[fi]);
    cw_code rc = cw_read_file(path, 2 * (size_t)BTC_MAX_BLOCK_SIZE + 64, out, err);
    cw_err hex_err = {0};
    if (rc == CW_OK && (rc = cw_buf_unhex_if_text(out, &hex_err)))
        cw_err_set(err, rc, hex_err.offset, "%s: %s", path, hex_err.msg);
    return rc;
}

/* A file that cannot be read or is not one whole block (header, every tx,
 * the merkle root and witness commitment) is named and skipped: the others
 * still make a chain, and the caller exits non-zero at the end. */
static cw_code scan_raw_file(blocksdir *b, uint32_t fi, cw_net net, blocksdir_info *info, cw_err *err)
{
    cw_buf buf = CW_BUF_INIT;
    cw_err why = {0};
    cw_code rc = read_raw_block(b, fi, &buf, &why);
    if (rc == CW_ENOMEM) {
        cw_buf_free(&buf);
        return cw_err_set(err, rc, CW_NO_OFFSET, "%s", why.msg);
    }
    block_summary s = {0};
    if (rc == CW_OK) {
        rc = whole_block(&b->walker, buf.p, buf.n, net, &s, &why);
    }
    uint64_t size = buf.n;
    cw_buf_free(&buf);
    if (rc) {
        char path[8192];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", b->dir, b->files[fi]);
        uint64_t len = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
        return skip(b, fi, 0, len, info, err, "not a block: %s", why.msg);
    }
    entry *e = new_entry(b, err);
    if (e == NULL)
        return CW_ENOMEM;
    memcpy(e->hash, s.header.hash, 32);
    memcpy(e->prev, s.header.prev, 32);
    e->bits = s.header.bits;
    e->file = fi;
    e->size = (uint32_t)size;
    e->bip34 = s.has_height ? s.height : -1; /* places a chain whose parent is not here */
    info->records++;
    return CW_OK;
}

typedef struct {
    int64_t height;
    size_t idx;
} root_at;

static int cmp_root_at(const void *a, const void *b)
{
    int64_t x = ((const root_at *)a)->height, y = ((const root_at *)b)->height;
    return (x > y) - (x < y);
}

/* --rawblocks: the blocks that do not descend from the best chain's first
 * block (`first`) sit behind a missing parent. Each such run gets one line
 * naming the block right after its gap, its height and the parent that is
 * missing: the run's own first block, or for a run below the chain's start
 * the first block above it (the genesis follows no missing block). stale
 * counts only the branches off the best chain. stack has room for b->n. */
static cw_code find_gaps(blocksdir *b, size_t first, size_t *stack, blocksdir_info *info, cw_err *err)
{
    static const uint8_t zero[32];
    size_t *root = malloc((b->n + 1) * sizeof *root);
    if (root == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory looking for gaps");
    for (size_t i = 0; i < b->n; i++)
        root[i] = (size_t)-1;
    for (size_t i = 0; i < b->n; i++) {
        size_t sp = 0, cur = i;
        while (root[cur] == (size_t)-1) {
            entry *parent = memcmp(b->e[cur].prev, zero, 32) == 0 ? NULL : find(b, b->e[cur].prev);
            if (parent == NULL) {
                root[cur] = cur;
                break;
            }
            stack[sp++] = cur;
            cur = (size_t)(parent - b->e);
        }
        while (sp > 0)
            root[stack[--sp]] = root[cur];
    }
    int64_t *top = malloc((b->n + 1) * sizeof *top); /* the highest block of each run, by its root */
    if (top == NULL) {
        free(root);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory looking for gaps");
    }
    for (size_t i = 0; i < b->n; i++)
        top[i] = -1;
    for (size_t i = 0; i < b->n; i++)
        if (b->e[i].height > top[root[i]])
            top[root[i]] = b->e[i].height;
    /* the runs' roots that have a height, lowest first */
    root_at *placed = malloc((b->n + 1) * sizeof *placed);
    if (placed == NULL) {
        free(root);
        free(top);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory looking for gaps");
    }
    size_t n_placed = 0;
    for (size_t i = 0; i < b->n; i++)
        if (root[i] == i && b->e[i].height >= 0)
            placed[n_placed++] = (root_at){b->e[i].height, i};
    qsort(placed, n_placed, sizeof *placed, cmp_root_at);
    int64_t tip = b->base + b->best_len - 1;
    size_t off_chain = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (root[i] == first)
            continue;
        off_chain++;
        if (root[i] != i)
            continue;
        const entry *e = &b->e[i];
        char hx[65], px[65], where[200], line[600];
        cw_hex_encode_rev(e->hash, 32, hx);
        cw_hex_encode_rev(e->prev, 32, px);
        if (e->height < 0)
            snprintf(where, sizeof where, "no height in its coinbase: where it belongs is unknown");
        else if (e->height > tip + 1)
            snprintf(where, sizeof where, "height %lld: heights %lld..%lld are missing after the chain's tip",
                     (long long)e->height, (long long)(tip + 1), (long long)(e->height - 1));
        else if (top[i] >= 0 && top[i] < b->base - 1) {
            /* a run below the chain: the parent missing is the one of the
             * first block above it (the chain's first, or another run's) */
            size_t lo = 0, hi = n_placed; /* the first run root placed above top[i] */
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (placed[mid].height <= top[i])
                    lo = mid + 1;
                else
                    hi = mid;
            }
            const entry *above = lo < n_placed ? &b->e[placed[lo].idx] : &b->e[first];
            snprintf(where, sizeof where, "height %lld: heights %lld..%lld are missing %s, after heights %lld..%lld",
                     (long long)above->height, (long long)(top[i] + 1), (long long)(above->height - 1),
                     above == &b->e[first] ? "before the chain's start" : "before it", (long long)e->height,
                     (long long)top[i]);
            e = above;
            cw_hex_encode_rev(e->hash, 32, hx);
            cw_hex_encode_rev(e->prev, 32, px);
        } else
            snprintf(where, sizeof where, "height %lld: a branch whose fork point is missing", (long long)e->height);
        int n = snprintf(line, sizeof line, "%s: block %s (%s) follows %s, which is not in the directory\n",
                         b->files[e->file], hx, where, px);
        char *ng = realloc(b->gaps, b->gaps_len + (size_t)n + 1);
        if (ng == NULL) {
            free(root);
            free(top);
            free(placed);
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory listing gaps");
        }
        b->gaps = ng;
        memcpy(b->gaps + b->gaps_len, line, (size_t)n + 1);
        b->gaps_len += (size_t)n;
        info->gaps++;
    }
    free(placed);
    free(top);
    free(root);
    info->gap_blocks = off_chain;
    info->stale = b->n - off_chain - (size_t)b->best_len;
    return CW_OK;
}

static cw_code open_dir(const char *dir, bool raw_files, cw_net net, blocksdir **out, blocksdir_info *info,
                        cw_err *err);

/* Of two copies of a block, the one to keep: a whole one over one that is
 * not (each decoded when the scan did not), else the later (a cut record
 * whose header survived, written again whole after a restart). */
static cw_code pick_copy(blocksdir *b, entry *k, entry *e, cw_net net, cw_err *err)
{
    for (int i = 0; i < 2 && !b->raw_files; i++) {
        entry *c = i ? e : k;
        if (c->checked != CHECK_NONE)
            continue;
        cw_err why = {0};
        cw_code rc = check_record(b, c->file, c->offset, c->size, net, &why);
        if (rc == CW_ENOMEM || rc == CW_EIO)
            return cw_err_set(err, rc, CW_NO_OFFSET, "%s", why.msg);
        c->checked = rc == CW_OK ? CHECK_GOOD : CHECK_BAD;
    }
    bool later = e->file > k->file || (e->file == k->file && e->offset > k->offset);
    bool e_bad = e->checked >= CHECK_BAD, k_bad = k->checked >= CHECK_BAD;
    if (e_bad == k_bad ? later : k_bad)
        *k = *e;
    return CW_OK;
}

/* The same block stored twice: one copy is kept (pick_copy). Records the
 * scan found no whole block are listed as skipped, pending: a whole copy
 * of the block makes one a duplicate instead; without one it stays
 * skipped and leaves the index. */
static cw_code dedup(blocksdir *b, cw_net net, blocksdir_info *info, cw_err *err)
{
    size_t kept = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (kept && memcmp(b->e[kept - 1].hash, b->e[i].hash, 32) == 0) {
            cw_code rc = pick_copy(b, &b->e[kept - 1], &b->e[i], net, err);
            if (rc)
                return rc;
            continue;
        }
        b->e[kept++] = b->e[i];
    }
    b->n = kept;
    size_t n = 0;
    for (size_t i = 0; i < b->n_skips; i++) {
        if (b->skip_pending[i]) {
            const entry *k = find(b, b->skip_hash[i]);
            if (k && k->checked != CHECK_SKIPPED && k->checked != CHECK_BAD) {
                info->skipped--; /* a duplicate of a whole copy */
                info->skipped_bytes -= b->skips[i].length;
                continue;
            }
            info->records--;
        }
        b->skips[n] = b->skips[i];
        memcpy(b->skip_hash[n], b->skip_hash[i], 32);
        b->skip_pending[n++] = b->skip_pending[i];
    }
    b->n_skips = n;
    kept = 0;
    for (size_t i = 0; i < b->n; i++)
        if (b->e[i].checked != CHECK_SKIPPED)
            b->e[kept++] = b->e[i];
    b->n = kept;
    info->duplicates = info->records - kept;
    return CW_OK;
}

cw_code blocksdir_open(const char *dir, cw_net net, blocksdir **out, blocksdir_info *info, cw_err *err)
{
    return open_dir(dir, false, net, out, info, err);
}

cw_code blocksdir_open_raw(const char *dir, cw_net net, blocksdir **out, blocksdir_info *info, cw_err *err)
{
    return open_dir(dir, true, net, out, info, err);
}

static cw_code open_dir(const char *dir, bool raw_files, cw_net net, blocksdir **out, blocksdir_info *info,
                        cw_err *err)
{
    memset(info, 0, sizeof *info);
    info->best_height = -1;
    blocksdir *b = calloc(1, sizeof *b);
    if (b == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    snprintf(b->dir, sizeof b->dir, "%s", dir);
    b->raw_files = raw_files;
    DIR *d = opendir(dir);
    if (d == NULL) {
        free(b);
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot open blocks directory %s: %s", dir, strerror(errno));
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        bool take = raw_files ? de->d_name[0] != '.'
                              : l == 12 && strncmp(de->d_name, "blk", 3) == 0 && strcmp(de->d_name + 8, ".dat") == 0;
        if (take && raw_files) {
            char fp[8192];
            struct stat st;
            snprintf(fp, sizeof fp, "%s/%s", dir, de->d_name);
            take = stat(fp, &st) == 0 && S_ISREG(st.st_mode);
        }
        if (take) {
            /* a file left out of the list would drop its blocks from the chain */
            char **nf = realloc(b->files, (b->n_files + 1) * sizeof *nf);
            if (nf != NULL)
                b->files = nf;
            if (nf == NULL || (b->files[b->n_files] = strdup(de->d_name)) == NULL) {
                closedir(d);
                blocksdir_close(b);
                return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory listing %s (at %s)", dir, de->d_name);
            }
            b->n_files++;
        }
    }
    closedir(d);
    cw_code rc = CW_OK;
    if (b->n_files == 0)
        rc = cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                        raw_files ? "%s holds no files (one block per file, raw or hex)"
                                  : "%s holds no blk?????.dat files (pass a node's blocks/ directory)",
                        dir);
    qsort(b->files, b->n_files, sizeof *b->files, cmp_str);
    info->files = b->n_files;
    char kp[8192];
    snprintf(kp, sizeof kp, "%s/xor.dat", dir);
    FILE *kf = raw_files ? NULL : fopen(kp, "rb");
    if (rc == CW_OK && !raw_files && kf == NULL && errno != ENOENT) /* only an absent key means "not obfuscated" */
        rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot open the obfuscation key %s: %s", kp, strerror(errno));
    if (rc == CW_OK && kf) {
        size_t got = fread(b->key, 1, 8, kf);
        if (got != 8)
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: %zu bytes, an obfuscation key is 8", kp, got);
        for (int i = 0; i < 8; i++)
            b->xor |= b->key[i] != 0;
    }
    if (kf)
        fclose(kf);
    info->obfuscated = b->xor;
    for (size_t fi = 0; rc == CW_OK && fi < b->n_files; fi++)
        rc = raw_files ? scan_raw_file(b, (uint32_t)fi, net, info, err) : scan_file(b, (uint32_t)fi, net, info, err);
    if (rc) {
        blocksdir_close(b);
        return rc;
    }
    /* link: sort by hash, then resolve heights and work from parents */
    qsort(b->e, b->n, sizeof *b->e, cmp_hash);
    if ((rc = dedup(b, net, info, err))) {
        blocksdir_close(b);
        return rc;
    }
    static const uint8_t zero[32];
    size_t *stack = malloc((b->n + 1) * sizeof *stack);
    for (size_t i = 0; stack && i < b->n; i++) {
        size_t sp = 0, cur = i;
        while (b->e[cur].height == -1) { /* walk up to a resolved ancestor */
            stack[sp++] = cur;
            if (memcmp(b->e[cur].prev, zero, 32) == 0)
                break;
            entry *parent = find(b, b->e[cur].prev);
            if (parent == NULL && b->raw_files && b->e[cur].bip34 >= 0)
                break; /* a chain's first block: placed by its coinbase height */
            if (parent == NULL || parent->height == -2) {
                b->e[cur].height = -2; /* orphan: its parent is not in the files */
                sp--;
                break;
            }
            cur = (size_t)(parent - b->e);
        }
        while (sp > 0) {
            entry *e = &b->e[stack[--sp]];
            entry *parent = memcmp(e->prev, zero, 32) == 0 ? NULL : find(b, e->prev);
            if (parent == NULL) { /* genesis, or a --rawblocks chain's first block */
                e->height = memcmp(e->prev, zero, 32) == 0 ? 0 : e->bip34;
                e->work = block_work(e->bits);
            } else {
                if (parent->height < 0) {
                    e->height = -2;
                    continue;
                }
                e->height = parent->height + 1;
                e->work = parent->work + block_work(e->bits);
            }
        }
    }
    size_t best = (size_t)-1;
    for (size_t i = 0; i < b->n; i++) {
        if (b->e[i].height == -2)
            info->orphans++;
        else if (best == (size_t)-1 || b->e[i].work > b->e[best].work ||
                 (b->e[i].work == b->e[best].work && (b->e[i].file < b->e[best].file ||
                                                      (b->e[i].file == b->e[best].file && b->e[i].offset < b->e[best].offset))))
            best = i; /* equal work: the tip stored first, as Core keeps the first it saw */
    }
    if (best != (size_t)-1) {
        size_t first = best; /* the best chain's first block: genesis, or where the files begin */
        for (entry *par; (par = find(b, b->e[first].prev)) != NULL;)
            first = (size_t)(par - b->e);
        b->base = b->e[first].height;
        b->best_len = b->e[best].height - b->base + 1;
        b->best = malloc((size_t)b->best_len * sizeof *b->best);
        for (size_t cur = best; b->best;) {
            b->best[b->e[cur].height - b->base] = cur;
            if (cur == first)
                break;
            cur = (size_t)(find(b, b->e[cur].prev) - b->e);
        }
        if (b->best == NULL || stack == NULL) {
            free(stack);
            blocksdir_close(b);
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory for the best chain");
        }
        info->first_height = b->base;
        info->best_height = b->e[best].height;
        memcpy(info->tip, b->e[best].hash, 32);
        info->stale = b->n - info->orphans - (size_t)b->best_len;
        if (b->raw_files && (rc = find_gaps(b, first, stack, info, err))) {
            free(stack);
            blocksdir_close(b);
            return rc;
        }
    }
    free(stack);
    *out = b;
    return CW_OK;
}

void blocksdir_close(blocksdir *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n_files; i++)
        free(b->files[i]);
    free(b->files);
    free(b->e);
    free(b->best);
    free(b->skips);
    free(b->skip_hash);
    free(b->skip_pending);
    block_walker_free(&b->walker);
    cw_buf_free(&b->rec);
    free(b->gaps);
    free(b);
}

bool blocksdir_hash_at(const blocksdir *b, int64_t height, uint8_t hash[32])
{
    if (height < b->base || height - b->base >= b->best_len)
        return false;
    memcpy(hash, b->e[b->best[height - b->base]].hash, 32);
    return true;
}

cw_code blocksdir_read(blocksdir *b, int64_t height, cw_buf *out, cw_err *err)
{
    if (height < b->base || height - b->base >= b->best_len)
        return cw_err_set(err, CW_ENOTFOUND, CW_NO_OFFSET, "no block at height %lld in %s", (long long)height, b->dir);
    const entry *e = &b->e[b->best[height - b->base]];
    if (b->raw_files)
        return read_raw_block(b, e->file, out, err);
    return read_block_at(b, e->file, e->offset, e->size, out, err);
}

const char *blocksdir_file_at(const blocksdir *b, int64_t height, uint64_t *record_offset)
{
    if (height < b->base || height - b->base >= b->best_len)
        return NULL;
    const entry *e = &b->e[b->best[height - b->base]];
    *record_offset = b->raw_files ? 0 : e->offset - 8;
    return b->files[e->file];
}

uint64_t blocksdir_size_at(const blocksdir *b, int64_t height)
{
    if (height < b->base || height - b->base >= b->best_len)
        return 0;
    return b->e[b->best[height - b->base]].size;
}

size_t blocksdir_skipped(const blocksdir *b, const blocksdir_skip **out)
{
    *out = b->skips;
    return b->n_skips;
}

const char *blocksdir_gaps(const blocksdir *b) { return b->gaps ? b->gaps : ""; }
