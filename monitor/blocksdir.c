#include "blocksdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
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

typedef struct {
    uint8_t hash[32], prev[32];
    uint32_t file;
    uint64_t offset; /* of the block bytes (after magic and size) */
    uint32_t size;
    uint32_t bits;
    int64_t height;  /* -1 until linked; -2 orphan */
    int64_t bip34;   /* --rawblocks: the coinbase's height, for a block whose parent is absent; -1 none */
    long double work; /* cumulative */
} entry;

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
    char warnings[1024];
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int cmp_hash(const void *a, const void *b) { return memcmp(((const entry *)a)->hash, ((const entry *)b)->hash, 32); }

static entry *find(blocksdir *b, const uint8_t hash[32])
{
    entry key;
    memcpy(key.hash, hash, 32);
    return bsearch(&key, b->e, b->n, sizeof *b->e, cmp_hash);
}

static void warn(blocksdir *b, const char *msg)
{
    size_t used = strlen(b->warnings);
    snprintf(b->warnings + used, sizeof b->warnings - used, "%s%s", used ? "; " : "", msg);
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

/* Reads the 88 bytes (record head and block header) at pos, or fewer at
 * the end of the file; returns how many. */
static size_t read_head(int fd, uint64_t pos, uint8_t out[88])
{
    size_t got = 0;
    while (got < 88) {
        ssize_t n = pread(fd, out + got, 88 - got, (off_t)(pos + got));
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

/* The offset of the next record start (the network's magic, de-obfuscated)
 * at or after pos, or the end of the file (or of its data: zero padding). */
static uint64_t find_magic(const blocksdir *b, int fd, uint64_t pos, uint64_t file_size, const uint8_t magic[4])
{
    uint8_t buf[65536];
    while (pos + 4 <= file_size) {
        ssize_t n = pread(fd, buf, sizeof buf, (off_t)pos);
        if (n < 4)
            break;
        for (ssize_t i = 0; i + 4 <= n; i++) {
            uint64_t at = pos + (uint64_t)i;
            if (buf[i] == 0 && buf[i + 1] == 0 && buf[i + 2] == 0 && buf[i + 3] == 0)
                return at; /* the zero padding: the data ends here */
            bool hit = true;
            for (int k = 0; k < 4 && hit; k++)
                hit = (uint8_t)(buf[i + k] ^ (b->xor ? b->key[(at + (uint64_t)k) % 8] : 0)) == magic[k];
            if (hit)
                return at;
        }
        pos += (uint64_t)n - 3; /* a magic may straddle two reads */
    }
    return file_size;
}

/* Only each record's head and block header are read (pread, then a jump
 * over the block): a 128 MB file costs some hundred kilobytes of reads. */
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
    size_t records_here = 0;
    cw_code rc = CW_OK;
    uint8_t raw[88];
    while (pos + 8 <= file_size) {
        size_t got = read_head(fd, pos, raw);
        if (got < 8) {
            rc = cw_err_set(err, CW_EIO, pos, "%s: cannot read byte %llu: %s", path, (unsigned long long)pos,
                            strerror(errno));
            break;
        }
        /* padding was never obfuscated: judge the end on the raw bytes */
        if (raw[0] == 0 && raw[1] == 0 && raw[2] == 0 && raw[3] == 0)
            break;
        uint8_t head[8];
        for (int i = 0; i < 8; i++)
            head[i] = raw[i] ^ (b->xor ? b->key[(pos + (uint64_t)i) % 8] : 0);
        cw_net rec_net;
        if (!btc_net_from_magic(head, &rec_net)) {
            if (records_here == 0) { /* the file's first record: the wrong key, or not a blk file */
                rc = cw_err_set(err, CW_EFORMAT, pos, "%s: byte %llu: unknown network magic%s", path,
                                (unsigned long long)pos, b->xor ? "" : " (is xor.dat missing?)");
                break;
            }
            /* Left over from a record a crash cut short, which a node that
             * restarted wrote a shorter block over: skip to the next magic,
             * as Core's -reindex does. */
            uint64_t next = find_magic(b, fd, pos + 1, file_size, btc_params_for(net)->magic);
            char w[300];
            snprintf(w, sizeof w, "%s: bytes %llu..%llu are no record (left by a crash?): skipped", b->files[fi],
                     (unsigned long long)pos, (unsigned long long)(next - 1));
            warn(b, w);
            info->skipped_bytes += next - pos;
            pos = next;
            continue;
        }
        if (rec_net != net) {
            rc = cw_err_set(err, CW_EARG, pos, "%s: byte %llu: a %s block, but --network is %s", path,
                            (unsigned long long)pos, cw_net_name(rec_net), cw_net_name(net));
            break;
        }
        uint32_t size = (uint32_t)head[4] | (uint32_t)head[5] << 8 | (uint32_t)head[6] << 16 | (uint32_t)head[7] << 24;
        if (size < 81 || size > BTC_MAX_BLOCK_SIZE || pos + 8 + size > file_size || got < 88) {
            char w[300];
            snprintf(w, sizeof w, "%s: byte %llu: record of %u bytes cut short (a node stopped mid-write?): skipped",
                     b->files[fi], (unsigned long long)pos, size);
            warn(b, w);
            info->truncated++;
            break;
        }
        uint8_t hdr[80];
        for (int i = 0; i < 80; i++)
            hdr[i] = raw[8 + i] ^ (b->xor ? b->key[(pos + 8 + (uint64_t)i) % 8] : 0);
        entry *e = new_entry(b, err);
        if (e == NULL) {
            rc = CW_ENOMEM;
            break;
        }
        btc_header h;
        btc_header_parse(hdr, 80, &h, NULL);
        memcpy(e->hash, h.hash, 32);
        memcpy(e->prev, h.prev, 32);
        e->bits = h.bits;
        e->file = fi;
        e->offset = pos + 8;
        e->size = size;
        info->records++;
        records_here++;
        pos += 8 + size;
    }
    close(fd);
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

static cw_code scan_raw_file(blocksdir *b, uint32_t fi, cw_net net, blocksdir_info *info, cw_err *err)
{
    cw_buf buf = CW_BUF_INIT;
    cw_code rc = read_raw_block(b, fi, &buf, err);
    btc_block blk;
    cw_err why = {0};
    if (rc == CW_OK && (rc = btc_block_open(buf.p, buf.n, net, &blk, &why)))
        cw_err_set(err, rc, why.offset, "%s/%s is not a block: %s", b->dir, b->files[fi], why.msg);
    entry *e = rc ? NULL : new_entry(b, err);
    if (e == NULL) {
        cw_buf_free(&buf);
        return rc ? rc : CW_ENOMEM;
    }
    memcpy(e->hash, blk.header.hash, 32);
    memcpy(e->prev, blk.header.prev, 32);
    e->bits = blk.header.bits;
    e->file = fi;
    e->size = (uint32_t)buf.n;
    /* the coinbase's BIP-34 height places a chain whose parent is not here */
    size_t cap = btc_arena_bound(buf.n);
    void *mem = malloc(cap);
    cw_arena a;
    cw_tx cb;
    if (mem) {
        cw_arena_init(&a, mem, cap);
        if (btc_block_next(&blk, &a, &cb, NULL) == CW_OK && !btc_coinbase_height(&cb, &e->bip34))
            e->bip34 = -1;
    }
    free(mem);
    info->records++;
    cw_buf_free(&buf);
    return CW_OK;
}

static cw_code open_dir(const char *dir, bool raw_files, cw_net net, blocksdir **out, blocksdir_info *info,
                        cw_err *err);

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
            char **nf = realloc(b->files, (b->n_files + 1) * sizeof *nf);
            if (nf == NULL)
                break;
            b->files = nf;
            b->files[b->n_files++] = strdup(de->d_name);
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
    free(stack);
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
        if (b->best == NULL) {
            blocksdir_close(b);
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory for the best chain");
        }
        info->first_height = b->base;
        info->best_height = b->e[best].height;
        info->stale = b->n - info->orphans - (size_t)b->best_len;
    }
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
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", b->dir, b->files[e->file]);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot open %s: %s", path, strerror(errno));
    out->n = 0;
    cw_code rc = cw_buf_reserve(out, e->size, err);
    ssize_t got = rc ? -1 : pread(fd, out->p, e->size, (off_t)e->offset);
    close(fd);
    if (rc)
        return rc;
    if (got != (ssize_t)e->size)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "%s: could not read the block at byte %llu", path,
                          (unsigned long long)e->offset);
    out->n = e->size;
    if (b->xor) { /* eight bytes at a time, with the key rotated to the block's offset */
        uint8_t rot[8];
        for (int i = 0; i < 8; i++)
            rot[i] = b->key[(e->offset + (uint64_t)i) % 8];
        uint64_t k;
        memcpy(&k, rot, 8);
        size_t i = 0;
        for (; i + 8 <= e->size; i += 8) {
            uint64_t w;
            memcpy(&w, out->p + i, 8);
            w ^= k;
            memcpy(out->p + i, &w, 8);
        }
        for (; i < e->size; i++)
            out->p[i] ^= rot[i % 8];
    }
    return CW_OK;
}

uint64_t blocksdir_size_at(const blocksdir *b, int64_t height)
{
    if (height < b->base || height - b->base >= b->best_len)
        return 0;
    return b->e[b->best[height - b->base]].size;
}

const char *blocksdir_warnings(const blocksdir *b) { return b->warnings; }
