/* chainwatch replay on the block files a real Bitcoin Core v30 regtest node
 * wrote (xor-obfuscated blk00000.dat with a stale branch from a reorg). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "tests/support.h"

typedef struct {
    char root[64], blocks[128], dd[128];
} fixture_dirs;

/* A blocks/ directory (as the node wrote it, or de-obfuscated when plain)
 * and an initialised datadir listing the addresses the node paid. */
static void make_dirs(fixture_dirs *d, bool plain, size_t cut_tail)
{
    snprintf(d->root, sizeof d->root, "/tmp/cw-replay-XXXXXX");
    cr_assert_not_null(mkdtemp(d->root));
    snprintf(d->blocks, sizeof d->blocks, "%s/blocks", d->root);
    snprintf(d->dd, sizeof d->dd, "%s/dd", d->root);
    cr_assert_eq(mkdir(d->blocks, 0700), 0);
    size_t n, kn;
    uint8_t *raw = fixture("btc/regtest-v30/blk00000.dat.bz2", &n);
    uint8_t *key = fixture("btc/regtest-v30/xor.dat", &kn);
    size_t records = 28878; /* SOURCES.md: records, then zero padding */
    if (plain)
        for (size_t i = 0; i < records; i++)
            raw[i] ^= key[i % 8];
    char path[256];
    snprintf(path, sizeof path, "%s/blk00000.dat", d->blocks);
    FILE *f = fopen(path, "wb");
    size_t len = cut_tail ? records - cut_tail : n; /* cut: the last record ends early, no padding */
    cr_assert_eq(fwrite(raw, 1, len, f), len);
    fclose(f);
    if (!plain) {
        snprintf(path, sizeof path, "%s/xor.dat", d->blocks);
        f = fopen(path, "wb");
        fwrite(key, 1, 8, f);
        fclose(f);
    }
    free(raw);
    free(key);
    char *out, *err;
    char *init[] = {CW_BIN, "init", "--datadir", d->dd, NULL};
    cr_assert_eq(run_cmd(init, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    snprintf(path, sizeof path, "%s/list.csv", d->root);
    f = fopen(path, "w");
    fputs("chain,address,entity,program,note\n"
          "bitcoin,bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0,Test front company,DPRK4,\n"
          "bitcoin,mqBXtoBQx88vMij3Hj8YM3RXDDvbrNfx9v,Test IT worker,DPRK3,\n",
          f);
    fclose(f);
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", path, "--datadir", d->dd, NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
}

static void cleanup(fixture_dirs *d)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->root);
    cr_assert_eq(system(cmd), 0);
}

static int replay(fixture_dirs *d, const char *from, const char *to, char **out, char **err)
{
    char *argv[16] = {CW_BIN, "replay", "--blocksdir", d->blocks, "--datadir", d->dd, "--network", "regtest"};
    int n = 8;
    if (from)
        argv[n++] = "--from", argv[n++] = (char *)from;
    if (to)
        argv[n++] = "--to", argv[n++] = (char *)to;
    argv[n] = NULL;
    return run_cmd(argv, NULL, 0, out, err);
}

/* "status txid height blockhash direction address amount" per
 * designated_address record, sorted */
static char *records(fixture_dirs *d)
{
    char path[256];
    snprintf(path, sizeof path, "%s/alerts.jsonl", d->dd);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char *line = NULL, *all = calloc(1, 1);
    size_t cap = 0, len = 0;
    char items[32][256];
    size_t n = 0;
    while (getline(&line, &cap, f) > 0 && n < 32) {
        json_t *r = json_loads(line, 0, NULL);
        cr_assert_not_null(r);
        if (strcmp(json_string_value(json_object_get(r, "rule")), "designated_address") != 0) {
            json_decref(r); /* exposure records: tests of their own */
            continue;
        }
        json_t *b = json_object_get(r, "block");
        snprintf(items[n++], 256, "%s %s %lld %s %s %s %lld", json_string_value(json_object_get(r, "status")),
                 json_string_value(json_object_get(r, "txid")), (long long)json_integer_value(json_object_get(b, "height")),
                 json_string_value(json_object_get(b, "hash")), json_string_value(json_object_get(r, "direction")),
                 json_string_value(json_object_get(r, "address")), (long long)json_integer_value(json_object_get(r, "amount")));
        json_decref(r);
    }
    free(line);
    fclose(f);
    qsort(items, n, 256, (int (*)(const void *, const void *))strcmp);
    for (size_t i = 0; i < n; i++) {
        len += strlen(items[i]) + 1;
        all = realloc(all, len + 1);
        strcat(all, items[i]);
        strcat(all, "\n");
    }
    return all;
}

static const char expected[] =
    "confirmed 0957cd71aa76d1c0ee0d5184d6840a453200674a3ccf0aabb781968e1d82fddd 102 "
    "09117bbe37bd5d85bf6d62bdce8fc396c0e0473eea464d603dcab82b046cda35 from_designated mqBXtoBQx88vMij3Hj8YM3RXDDvbrNfx9v 70000000\n"
    "confirmed 78c9750fef95723fd220adbf811f2cfcfce93a372b26114af612042ec2939fe8 105 "
    "2f0ae58e0b99c85bff7dbe2984bc8917b2dc951193c87407cbbb434e0de0043c from_designated bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0 20000000\n"
    "confirmed 78c9750fef95723fd220adbf811f2cfcfce93a372b26114af612042ec2939fe8 105 "
    "2f0ae58e0b99c85bff7dbe2984bc8917b2dc951193c87407cbbb434e0de0043c to_designated mqBXtoBQx88vMij3Hj8YM3RXDDvbrNfx9v 10000000\n"
    "confirmed c2d6700161361376c80fe3deba52a29c49a3c1d20c8daa5b8b1c6c3c52003acb 102 "
    "09117bbe37bd5d85bf6d62bdce8fc396c0e0473eea464d603dcab82b046cda35 to_designated mqBXtoBQx88vMij3Hj8YM3RXDDvbrNfx9v 70000000\n"
    "confirmed debfb5eb53533f09166f351c39f1e42e9853c7cc129d8ab347522942458d2ab3 102 "
    "09117bbe37bd5d85bf6d62bdce8fc396c0e0473eea464d603dcab82b046cda35 to_designated bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0 50000000\n"
    "confirmed ed35d83afa996234357beb2bf9c0270ca1e702bbc824a53885acd9bf3021c3fb 103 "
    "01e75f864834b3fc21c06297780b0962ab0bfc4b392a76e2509b0d6cfd7d5fa6 to_designated bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0 20000000\n";

Test(replay, xor_block_files_best_chain_only)
{
    fixture_dirs d;
    make_dirs(&d, false, 0);
    char *out, *err;
    cr_assert_eq(replay(&d, NULL, NULL, &out, &err), 0, "%s", err);
    cr_assert(strstr(err, "107 blocks (xor-obfuscated), best chain 0..105, 1 stale, 0 orphans"), "%s", err);
    cr_assert(strstr(out, "106 connected"), "%s", out);
    char *got = records(&d);
    /* the stale block 70a17254 (the reorged-out tip) is never processed */
    cr_assert_str_eq(got, expected);
    free(got), free(out), free(err);
    char path[256];
    snprintf(path, sizeof path, "%s/alerts.jsonl", d.dd);
    char *v[] = {CW_BIN, "verify", path, "--datadir", d.dd, NULL};
    cr_assert_eq(run_cmd(v, NULL, 0, &out, &err), 0, "%s", out);
    free(out), free(err);
    cleanup(&d);
}

Test(replay, plain_files_give_the_same_records)
{
    fixture_dirs d;
    make_dirs(&d, true, 0);
    char *out, *err;
    cr_assert_eq(replay(&d, NULL, NULL, &out, &err), 0, "%s", err);
    cr_assert(strstr(err, "(plain)"), "%s", err);
    char *got = records(&d);
    cr_assert_str_eq(got, expected);
    free(got), free(out), free(err);
    cleanup(&d);
}

Test(replay, range_then_resume_equals_one_run)
{
    fixture_dirs d;
    make_dirs(&d, false, 0);
    char *out, *err;
    cr_assert_eq(replay(&d, "0", "101", &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "heights 0..101"), "%s", out);
    cr_assert(strstr(out, "alerts      0 records"), "nothing designated before height 102: %s", out);
    free(out), free(err);
    cr_assert_eq(replay(&d, NULL, "102", &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "heights 102..102"), "continues after its tip: %s", out);
    free(out), free(err);
    cr_assert_eq(replay(&d, NULL, NULL, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "heights 103..105"), "%s", out);
    free(out), free(err);
    char *got = records(&d);
    cr_assert_str_eq(got, expected);
    free(got);
    /* three runs, one trail: seq goes on where the last run stopped */
    char path[256];
    snprintf(path, sizeof path, "%s/alerts.jsonl", d.dd);
    char *v[] = {CW_BIN, "verify", path, "--datadir", d.dd, "--from-start", NULL};
    cr_assert_eq(run_cmd(v, NULL, 0, &out, &err), 0, "%s", out);
    free(out), free(err);
    cleanup(&d);
}

/* The file's lines, and the file rewritten from some of them. */
static size_t read_lines(const char *path, char *lines[64])
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    size_t n = 0, cap = 0;
    char *l = NULL;
    while (n < 64 && getline(&l, &cap, f) > 0)
        lines[n++] = strdup(l);
    free(l);
    fclose(f);
    return n;
}

static void write_lines(const char *path, char *const lines[], size_t n, size_t skip)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (size_t i = 0; i < n; i++)
        if (i != skip)
            fputs(lines[i], f);
    fclose(f);
}

/* Someone removes a `block` record from the trail the replay wrote: every
 * remaining record's signature is still good, but the chain shows the hole;
 * a cut-off end shows only against a checkpoint taken before. */
Test(replay, audit_trail_shows_a_removed_record_and_a_cut_end)
{
    fixture_dirs d;
    make_dirs(&d, false, 0);
    char *out, *err;
    cr_assert_eq(replay(&d, NULL, NULL, &out, &err), 0, "%s", err);
    free(out), free(err);
    char path[256], cp[256];
    snprintf(path, sizeof path, "%s/alerts.jsonl", d.dd);
    snprintf(cp, sizeof cp, "%s/checkpoint.json", d.root);
    char *lines[64];
    size_t n = read_lines(path, lines);
    cr_assert_geq(n, 6, "the six designated_address records at least");
    /* the checkpoint vouches for the last record: seq n, its line's hash */
    char *ck[] = {CW_BIN, "checkpoint", "--datadir", d.dd, NULL};
    cr_assert_eq(run_cmd(ck, NULL, 0, &out, &err), 0, "%s", err);
    json_t *c = json_loads(out, 0, NULL);
    cr_assert_not_null(c, "%s", out);
    cr_assert_eq(json_integer_value(json_object_get(c, "head_seq")), (json_int_t)n, "%s", out);
    json_t *last = json_loads(lines[n - 1], 0, NULL);
    cr_assert_eq(json_integer_value(json_object_get(last, "seq")), (json_int_t)n);
    json_decref(last);
    FILE *f = fopen(cp, "w");
    fputs(out, f);
    fclose(f);
    json_decref(c);
    free(out), free(err);
    char *v[] = {CW_BIN, "verify", path, "--datadir", d.dd, "--from-start", "--checkpoint", cp, NULL};
    cr_assert_eq(run_cmd(v, NULL, 0, &out, &err), 0, "%s", out);
    free(out), free(err);

    /* remove the record of the 0.2 BTC payment to the front company (block 103) */
    size_t gone = n;
    for (size_t i = 0; i < n; i++)
        if (strstr(lines[i], "\"txid\":\"ed35d83afa996234357beb2bf9c0270ca1e702bbc824a53885acd9bf3021c3fb\"") &&
            strstr(lines[i], "\"rule\":\"designated_address\""))
            gone = i;
    cr_assert(gone > 0 && gone < n - 1, "the record is in the file, not first or last (%zu of %zu)", gone, n);
    write_lines(path, lines, n, gone);
    cr_assert_eq(run_cmd(v, NULL, 0, &out, &err), 1, "%s", out);
    char want[512];
    snprintf(want, sizeof want, "%s:%zu: record seq %zu is missing (before seq %zu", path, gone + 1, gone + 1, gone + 2);
    cr_assert(strstr(out, want), "%s", out);
    cr_assert(strstr(out, "1 problems"), "%s", out);
    free(out), free(err);

    /* the last record cut off: the chain alone cannot tell, the checkpoint can */
    write_lines(path, lines, n - 1, n);
    char *plain[] = {CW_BIN, "verify", path, "--datadir", d.dd, "--from-start", NULL};
    cr_assert_eq(run_cmd(plain, NULL, 0, &out, &err), 0, "%s", out);
    free(out), free(err);
    cr_assert_eq(run_cmd(v, NULL, 0, &out, &err), 1, "%s", out);
    snprintf(want, sizeof want, "the checkpoint vouches for seq %zu, but the file ends at seq %zu", n, n - 1);
    cr_assert(strstr(out, want), "%s", out);
    free(out), free(err);

    /* a changed checkpoint is refused */
    write_lines(path, lines, n, n);
    f = fopen(cp, "r+");
    char buf[1024] = "";
    cr_assert_not_null(fgets(buf, sizeof buf, f));
    char *seqp = strstr(buf, "\"head_seq\":");
    cr_assert_not_null(seqp);
    seqp[11] = seqp[11] == '1' ? '2' : '1';
    rewind(f);
    fputs(buf, f);
    fclose(f);
    cr_assert_eq(run_cmd(v, NULL, 0, &out, &err), 1, "%s", out);
    cr_assert(strstr(err, "checkpoint") && strstr(err, "signature does not match"), "%s", err);
    free(out), free(err);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    cleanup(&d);
}

Test(replay, truncated_last_record_is_reported_and_skipped)
{
    fixture_dirs d;
    make_dirs(&d, false, 40); /* the last record loses its last 40 bytes */
    char *out, *err;
    /* everything readable replays; the exit status says a block was not */
    cr_assert_eq(replay(&d, NULL, NULL, &out, &err), 2, "%s", err);
    cr_assert(strstr(err, "skipped blk00000.dat bytes 28393..28837 (445 bytes): a record of 477 bytes cut short by "
                          "the end of the file"), "%s", err);
    cr_assert(strstr(err, "106 blocks"), "%s", err);
    cr_assert(strstr(out, "105 connected") && strstr(out, "skipped     1 spans/files, 445 bytes"), "%s", out);
    free(out), free(err);
    cleanup(&d);
}

Test(replay, refuses_what_it_cannot_read)
{
    fixture_dirs d;
    make_dirs(&d, false, 0);
    char *out, *err;
    char xk[256];
    snprintf(xk, sizeof xk, "%s/xor.dat", d.blocks);
    cr_assert_eq(unlink(xk), 0); /* obfuscated files without their key */
    cr_assert_neq(replay(&d, NULL, NULL, &out, &err), 0);
    cr_assert(strstr(err, "unknown network magic") && strstr(err, "xor.dat"), "%s", err);
    free(out), free(err);
    char *argv[] = {CW_BIN, "replay", "--blocksdir", "/nonexistent", "--datadir", d.dd, NULL};
    cr_assert_neq(run_cmd(argv, NULL, 0, &out, &err), 0);
    cr_assert(strstr(err, "/nonexistent"), "%s", err);
    free(out), free(err);
    char *argv2[] = {CW_BIN, "replay", "--blocksdir", d.blocks, "--datadir", d.dd, "--network", "main", NULL};
    cr_assert_neq(run_cmd(argv2, NULL, 0, &out, &err), 0);
    free(out), free(err);
    cleanup(&d);
}

/* A generated chain (tests/tools/gen_chain.c): same seed, same bytes; it
 * replays cleanly with every input resolved and pays the chosen address. */
Test(replay, generated_chain_is_deterministic_and_replays)
{
    char root[] = "/tmp/cw-gen-XXXXXX";
    cr_assert_not_null(mkdtemp(root));
    char a[128], b[128], dd[128];
    snprintf(a, sizeof a, "%s/a", root);
    snprintf(b, sizeof b, "%s/b", root);
    snprintf(dd, sizeof dd, "%s/dd", root);
    char *out, *err;
    for (int i = 0; i < 2; i++) {
        char *gen[] = {CW_GENCHAIN, "--out", i ? b : a, "--blocks", "25", "--txs-per-block", "120", "--seed", "9",
                       "--xor", "--pay", "bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0", NULL};
        cr_assert_eq(run_cmd(gen, NULL, 0, &out, &err), 0, "%s", err);
        free(out), free(err);
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cmp -s %s/blk00000.dat %s/blk00000.dat && cmp -s %s/xor.dat %s/xor.dat", a, b, a, b);
    cr_assert_eq(system(cmd), 0, "the same seed must give identical files");
    char *init[] = {CW_BIN, "init", "--datadir", dd, NULL};
    cr_assert_eq(run_cmd(init, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char list[256];
    snprintf(list, sizeof list, "%s/list.csv", root);
    FILE *f = fopen(list, "w");
    fputs("chain,address,entity,program,note\nbitcoin,bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0,Gen,TEST,\n", f);
    fclose(f);
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", list, "--datadir", dd, NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char *rep[] = {CW_BIN, "replay", "--blocksdir", a, "--datadir", dd, "--network", "regtest", NULL};
    cr_assert_eq(run_cmd(rep, NULL, 0, &out, &err), 0, "%s", err);
    cr_assert(strstr(err, "25 blocks (xor-obfuscated), best chain 0..24"), "%s", err);
    cr_assert(strstr(out, "25 connected"), "%s", out);
    cr_assert(strstr(out, " 0 unresolved"), "every input spends a generated output: %s", out);
    long alerts = 0;
    const char *al = strstr(out, "alerts");
    cr_assert(al && sscanf(al, "alerts %ld", &alerts) == 1 && alerts > 10, "payments to the chosen address: %s", out);
    free(out), free(err);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

/* ---- block files rearranged as nodes and analysts leave them ---- */

/* The node's records, de-obfuscated: offsets and sizes of each block. */
typedef struct {
    uint8_t *raw;
    size_t n, off[128], len[128];
    uint8_t key[8];
} node_records;

static void load_records(node_records *r)
{
    size_t kn, total;
    r->raw = fixture("btc/regtest-v30/blk00000.dat.bz2", &total);
    uint8_t *key = fixture("btc/regtest-v30/xor.dat", &kn);
    memcpy(r->key, key, 8);
    free(key);
    size_t records = 28878;
    for (size_t i = 0; i < records; i++)
        r->raw[i] ^= r->key[i % 8];
    r->n = 0;
    for (size_t pos = 0; pos + 8 <= records && r->n < 128;) {
        size_t size = r->raw[pos + 4] | (size_t)r->raw[pos + 5] << 8 | (size_t)r->raw[pos + 6] << 16;
        r->off[r->n] = pos + 8;
        r->len[r->n++] = size;
        pos += 8 + size;
    }
    cr_assert_eq(r->n, 107, "the node wrote 107 records");
}

static void write_blk(const char *path, const node_records *r, const size_t *order, size_t n, const uint8_t *orphan,
                      size_t orphan_len, bool xor)
{
    size_t cap = 64;
    for (size_t i = 0; i < n; i++)
        cap += 8 + r->len[order[i]];
    cap += orphan_len + 8;
    uint8_t *buf = malloc(cap), *p = buf;
    for (size_t i = 0; i <= n; i++) {
        const uint8_t *blk = i < n ? r->raw + r->off[order[i]] : orphan;
        size_t len = i < n ? r->len[order[i]] : orphan_len;
        if (blk == NULL)
            break;
        memcpy(p, r->raw, 4); /* regtest magic, from the first record */
        p[4] = (uint8_t)len, p[5] = (uint8_t)(len >> 8), p[6] = (uint8_t)(len >> 16), p[7] = 0;
        memcpy(p + 8, blk, len);
        p += 8 + len;
    }
    size_t total = (size_t)(p - buf);
    for (size_t i = 0; xor && i < total; i++)
        buf[i] ^= r->key[i % 8];
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(buf, 1, total, f), total);
    fclose(f);
    free(buf);
}

Test(replay, out_of_order_blocks_and_an_orphan)
{
    fixture_dirs d;
    make_dirs(&d, false, 0);
    node_records r;
    load_records(&r);
    /* two files, each block's position scrambled (a node syncing headers
     * first writes blocks as they arrive), and an orphan: block 50 with a
     * parent no file holds */
    size_t order[107];
    for (size_t i = 0; i < 107; i++)
        order[i] = (i * 37 + 11) % 107;
    uint8_t orphan[4096];
    cr_assert_lt(r.len[50], sizeof orphan);
    memcpy(orphan, r.raw + r.off[50], r.len[50]);
    orphan[4 + 7] ^= 0x5a; /* prev hash changed: an unknown parent */
    char path[256];
    snprintf(path, sizeof path, "%s/blk00000.dat", d.blocks);
    write_blk(path, &r, order, 60, NULL, 0, true);
    snprintf(path, sizeof path, "%s/blk00001.dat", d.blocks);
    write_blk(path, &r, order + 60, 47, orphan, r.len[50], true);
    free(r.raw);
    char *out, *err;
    cr_assert_eq(replay(&d, NULL, NULL, &out, &err), 0, "%s", err);
    cr_assert(strstr(err, "2 files, 108 blocks (xor-obfuscated), best chain 0..105, 1 stale, 1 orphans"), "%s", err);
    cr_assert(strstr(out, "106 connected"), "%s", out);
    char *got = records(&d);
    cr_assert_str_eq(got, expected);
    free(got), free(out), free(err);
    cleanup(&d);
}

Test(replay, rawblocks_raw_and_hex_in_any_order)
{
    fixture_dirs d;
    make_dirs(&d, false, 0);
    node_records r;
    load_records(&r);
    char raw_dir[256];
    snprintf(raw_dir, sizeof raw_dir, "%s/raw", d.root);
    cr_assert_eq(mkdir(raw_dir, 0700), 0);
    for (size_t i = 0; i < r.n; i++) {
        char path[320];
        snprintf(path, sizeof path, "%s/block-%03zu.%s", raw_dir, 106 - i, i % 2 ? "hex" : "raw"); /* names reversed */
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f);
        if (i % 2) {
            for (size_t k = 0; k < r.len[i]; k++)
                fprintf(f, "%02x", r.raw[r.off[i] + k]);
            fputc('\n', f);
        } else {
            fwrite(r.raw + r.off[i], 1, r.len[i], f);
        }
        fclose(f);
    }
    free(r.raw);
    char *out, *err;
    char *argv[] = {CW_BIN, "replay", "--rawblocks", raw_dir, "--datadir", d.dd, "--network", "regtest", NULL};
    cr_assert_eq(run_cmd(argv, NULL, 0, &out, &err), 0, "%s", err);
    cr_assert(strstr(err, "107 files, 107 blocks, best chain 0..105, 1 stale"), "%s", err);
    char *got = records(&d);
    cr_assert_str_eq(got, expected);
    free(got), free(out), free(err);
    /* a file that is no block is named */
    char bad[320];
    snprintf(bad, sizeof bad, "%s/zz-notes.txt", raw_dir);
    FILE *f = fopen(bad, "w");
    fputs("not a block\n", f);
    fclose(f);
    cr_assert_neq(run_cmd(argv, NULL, 0, &out, &err), 0);
    cr_assert(strstr(err, "zz-notes.txt") && strstr(err, "not a block"), "%s", err);
    free(out), free(err);
    cleanup(&d);
}

/* A real mainnet block alone in a directory replays at its real height
 * (BIP-34), its inputs unresolved (their outputs are older than the start). */
Test(replay, rawblocks_mainnet_block_at_its_height)
{
    char root[] = "/tmp/cw-rawmain-XXXXXX";
    cr_assert_not_null(mkdtemp(root));
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/raw && cp %s/btc/block-000000000000000000050f70113ab1932c195442cb49bcc4ee4d7f426c8a3295.raw "
             "%s/raw/ && %s init --datadir %s/dd >/dev/null",
             root, CW_DATA_DIR, root, CW_BIN, root);
    cr_assert_eq(system(cmd), 0);
    char raw[128], dd[128];
    snprintf(raw, sizeof raw, "%s/raw", root);
    snprintf(dd, sizeof dd, "%s/dd", root);
    char *out, *err;
    char *argv[] = {CW_BIN, "replay", "--rawblocks", raw, "--datadir", dd, NULL};
    cr_assert_eq(run_cmd(argv, NULL, 0, &out, &err), 0, "%s", err);
    cr_assert(strstr(err, "best chain 514485..514485"), "%s", err);
    cr_assert(strstr(out, "heights 514485..514485"), "%s", out);
    cr_assert(strstr(out, "txs         2165 "), "%s", out);
    /* only spends of the block's own outputs resolve */
    cr_assert(strstr(out, " 232 resolved from the prevout index, 4398 unresolved"), "%s", out);
    free(out), free(err);
    char *np[] = {CW_BIN, "replay", "--rawblocks", raw, "--no-state", NULL};
    cr_assert_eq(run_cmd(np, NULL, 0, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "txs         2165 "), "%s", out);
    free(out), free(err);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

Test(replay, from_to_boundaries)
{
    fixture_dirs d;
    make_dirs(&d, false, 0);
    char *out, *err;
    cr_assert_eq(replay(&d, "200", NULL, &out, &err), 2);
    cr_assert(strstr(err, "outside the chain") && strstr(err, "0..105"), "%s", err);
    free(out), free(err);
    cr_assert_eq(replay(&d, "90", "80", &out, &err), 2);
    cr_assert(strstr(err, "--from 90 is above --to 80"), "%s", err);
    free(out), free(err);
    cr_assert_eq(replay(&d, "x", NULL, &out, &err), 2);
    free(out), free(err);
    /* one block, on a fresh datadir: its inputs' outputs are before the start */
    cr_assert_eq(replay(&d, "105", "105", &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "heights 105..105") && strstr(out, "1 connected"), "%s", out);
    cr_assert(!strstr(out, " 0 unresolved"), "%s", out);
    free(out), free(err);
    /* --to beyond the best height stops at it; the tip moves on from 105 */
    cr_assert_eq(replay(&d, NULL, "5000", &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "replayed nothing"), "%s", out);
    free(out), free(err);
    cleanup(&d);
}

/* ---- generated chains: kill and resume, parse-only, nothing twice ---- */

static void gen_chain(const char *dir, const char *blocks, const char *per_block, const char *extra_pay)
{
    char *out, *err;
    char *gen[] = {CW_GENCHAIN, "--out", (char *)dir, "--blocks", (char *)blocks, "--txs-per-block", (char *)per_block,
                   "--seed", "5", "--xor", "--pay-every", "40", "--pay", "bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0",
                   "--pay", (char *)extra_pay, NULL};
    cr_assert_eq(run_cmd(gen, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
}

static int strcmp_ptr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* sorted "id status txid block-hash" lines: what must agree between runs */
static char *record_keys(const char *alerts, size_t *count)
{
    FILE *f = fopen(alerts, "r");
    cr_assert_not_null(f, "%s", alerts);
    char *line = NULL;
    size_t cap = 0, n = 0, ncap = 1024;
    char **items = malloc(ncap * sizeof *items);
    while (getline(&line, &cap, f) > 0) {
        json_t *r = json_loads(line, 0, NULL);
        cr_assert_not_null(r, "a whole JSON record per line: %s", line);
        if (n == ncap)
            items = realloc(items, (ncap *= 2) * sizeof *items);
        char buf[400];
        snprintf(buf, sizeof buf, "%s %s %s %s %lld", json_string_value(json_object_get(r, "id")),
                 json_string_value(json_object_get(r, "status")), json_string_value(json_object_get(r, "txid")),
                 json_string_value(json_object_get(json_object_get(r, "block"), "hash")),
                 (long long)json_integer_value(json_object_get(r, "amount")));
        items[n++] = strdup(buf);
        json_decref(r);
    }
    free(line);
    fclose(f);
    qsort(items, n, sizeof *items, strcmp_ptr);
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(items[i]) + 1;
    char *all = calloc(1, len);
    for (size_t i = 1; i < n; i++)
        cr_assert_str_neq(items[i], items[i - 1], "a record written twice: %s", items[i]);
    for (size_t i = 0; i < n; i++) {
        strcat(all, items[i]);
        strcat(all, "\n");
        free(items[i]);
    }
    free(items);
    *count = n;
    return all;
}

static void init_dd(const char *dd)
{
    char *out, *err;
    char *init[] = {CW_BIN, "init", "--datadir", (char *)dd, NULL};
    cr_assert_eq(run_cmd(init, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char list[256];
    snprintf(list, sizeof list, "%s/list.csv", dd);
    FILE *f = fopen(list, "w");
    fputs("chain,address,entity,program,note\nbitcoin,bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0,Gen,TEST,\n", f);
    fclose(f);
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", list, "--datadir", (char *)dd, NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
}

Test(replay, resume_after_sigkill_loses_and_repeats_nothing)
{
    char root[] = "/tmp/cw-kill-XXXXXX";
    cr_assert_not_null(mkdtemp(root));
    char blocks[128], once[128], killed[128], cmd[1024];
    snprintf(blocks, sizeof blocks, "%s/blocks", root);
    snprintf(once, sizeof once, "%s/once", root);
    snprintf(killed, sizeof killed, "%s/killed", root);
    gen_chain(blocks, "200", "600", "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080");
    init_dd(once);
    init_dd(killed);
    char *out, *err;
    char *rep[] = {CW_BIN, "replay", "--blocksdir", blocks, "--datadir", once, "--network", "regtest", NULL};
    cr_assert_eq(run_cmd(rep, NULL, 0, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "200 connected"), "%s", out);
    long full_txs = 0;
    cr_assert(strstr(out, "txs ") && sscanf(strstr(out, "txs "), "txs %ld", &full_txs) == 1 && full_txs > 100000,
              "%s", out);
    free(out), free(err);
    /* kill -9 the second one several times, each once some batches are in */
    for (int round = 0; round < 3; round++) {
        snprintf(cmd, sizeof cmd,
                 "%s replay --blocksdir %s --datadir %s --network regtest --batch-txs 3000 >/dev/null 2>&1 & pid=$!; "
                 "for i in $(seq 1 400); do [ $(cat %s/alerts.jsonl 2>/dev/null | wc -l) -gt %d ] && break; "
                 "kill -0 $pid 2>/dev/null || break; sleep 0.005; done; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; true",
                 CW_BIN, blocks, killed, killed, 40 + round * 150);
        cr_assert_eq(system(cmd), 0);
    }
    char *rk[] = {CW_BIN, "replay", "--blocksdir", blocks, "--datadir", killed, "--network", "regtest", NULL};
    cr_assert_eq(run_cmd(rk, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char a1[256], a2[256];
    snprintf(a1, sizeof a1, "%s/alerts.jsonl", once);
    snprintf(a2, sizeof a2, "%s/alerts.jsonl", killed);
    size_t n1, n2;
    char *k1 = record_keys(a1, &n1), *k2 = record_keys(a2, &n2);
    cr_assert_gt(n1, 100, "the chain pays the listed address often");
    cr_assert_eq(n1, n2);
    cr_assert_str_eq(k1, k2);
    free(k1), free(k2);
    /* a second replay over what the datadir already holds adds nothing */
    cr_assert_eq(run_cmd(rk, NULL, 0, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "replayed nothing"), "%s", out);
    free(out), free(err);
    k2 = record_keys(a2, &n2);
    cr_assert_eq(n1, n2);
    free(k2);
    /* the killed runs' file is one whole trail: nothing repeated or lost */
    char *vk[] = {CW_BIN, "verify", a2, "--datadir", killed, "--from-start", NULL};
    cr_assert_eq(run_cmd(vk, NULL, 0, &out, &err), 0, "%s", out);
    free(out), free(err);
    /* parse-only sees every tx the full replay did */
    char *np[] = {CW_BIN, "replay", "--blocksdir", blocks, "--network", "regtest", "--no-state", NULL};
    cr_assert_eq(run_cmd(np, NULL, 0, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "blocks      200"), "%s", out);
    long parsed = 0;
    cr_assert(strstr(out, "txs ") && sscanf(strstr(out, "txs "), "txs %ld", &parsed) == 1, "%s", out);
    cr_assert_eq(parsed, full_txs);
    free(out), free(err);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

/* Retroactive screening with the real SDN list: Kim Sang Man was designated
 * on 2023-05-23. Paid in blocks of 2023-03 the records say the payment came
 * before the designation; paid in 2024 they do not. */
Test(replay, designated_after_tx_with_the_real_list)
{
    char root[] = "/tmp/cw-retro-XXXXXX";
    cr_assert_not_null(mkdtemp(root));
    const char *starts[2] = {"1677628800", "1704067200"}; /* 2023-03-01, 2024-01-01 */
    for (int k = 0; k < 2; k++) {
        char blocks[128], dd[128];
        snprintf(blocks, sizeof blocks, "%s/blocks%d", root, k);
        snprintf(dd, sizeof dd, "%s/dd%d", root, k);
        char *out, *err;
        char *gen[] = {CW_GENCHAIN, "--out", blocks, "--network", "main", "--blocks", "6", "--txs-per-block", "200",
                       "--seed", "7", "--pay-every", "50", "--start-time", (char *)starts[k], "--pay",
                       "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ", NULL};
        cr_assert_eq(run_cmd(gen, NULL, 0, &out, &err), 0, "%s", err);
        free(out), free(err);
        char *init[] = {CW_BIN, "init", "--datadir", dd, NULL};
        cr_assert_eq(run_cmd(init, NULL, 0, &out, &err), 0, "%s", err);
        free(out), free(err);
        char *imp[] = {CW_BIN, "watchlist", "import", "sdn-advanced", CW_SDN_XML, "--datadir", dd, NULL};
        cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
        free(out), free(err);
        char *rep[] = {CW_BIN, "replay", "--blocksdir", blocks, "--datadir", dd, NULL};
        cr_assert_eq(run_cmd(rep, NULL, 0, &out, &err), 0, "%s", err);
        free(out), free(err);
        char path[256];
        snprintf(path, sizeof path, "%s/alerts.jsonl", dd);
        FILE *f = fopen(path, "r");
        cr_assert_not_null(f);
        char *line = NULL;
        size_t cap = 0, n = 0;
        while (getline(&line, &cap, f) > 0) {
            json_t *r = json_loads(line, 0, NULL);
            cr_assert_not_null(r);
            json_t *e = json_object_get(r, "entity");
            cr_assert_str_eq(json_string_value(json_object_get(e, "name")), "Kim Sang Man");
            cr_assert_str_eq(json_string_value(json_object_get(e, "designated")), "2023-05-23");
            cr_assert_str_eq(json_string_value(json_object_get(r, "address")), "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ");
            json_t *after = json_object_get(r, "designated_after_tx");
            cr_assert(json_is_boolean(after));
            cr_assert_eq(json_is_true(after), k == 0, "block time %s: %s", starts[k], line);
            json_decref(r);
            n++;
        }
        free(line);
        fclose(f);
        cr_assert_geq(n, 20, "one payment in 50 txs over 1,200 txs");
    }
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

/* One monitor per datadir: a replay into a datadir another monitor holds
 * (here the test itself holds the lock) is refused, naming the holder. */
Test(replay, refuses_a_datadir_another_monitor_holds)
{
    fixture_dirs d;
    make_dirs(&d, false, 0);
    char path[256];
    snprintf(path, sizeof path, "%s/monitor.lock", d.dd);
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    cr_assert_geq(fd, 0);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    cr_assert_eq(fcntl(fd, F_SETLK, &fl), 0);
    char *out, *err;
    cr_assert_neq(replay(&d, NULL, NULL, &out, &err), 0);
    char want[64];
    snprintf(want, sizeof want, "(pid %ld)", (long)getpid());
    cr_assert(strstr(err, "in use by another chainwatch watch or replay") && strstr(err, want), "%s", err);
    free(out), free(err);
    close(fd); /* released: the replay runs */
    cr_assert_eq(replay(&d, NULL, NULL, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "106 connected"), "%s", out);
    free(out), free(err);
    cleanup(&d);
}

/* A node killed mid-write, restarted, writes its next (shorter) block over
 * the cut record: the cut record's tail stays between two records. The scan
 * skips to the next magic, as Core's -reindex does, and says so. */
Test(replay, leftovers_between_records_are_skipped)
{
    fixture_dirs d;
    make_dirs(&d, false, 0);
    node_records r;
    load_records(&r);
    size_t cap = 28878 + 4096 + 64;
    uint8_t *buf = calloc(1, cap), *p = buf;
    for (size_t i = 0; i < r.n; i++) {
        if (i == 60) { /* 700 bytes of a cut block's tail (made up: no magic, no zero run in them) */
            for (int k = 0; k < 700; k++)
                p[k] = (uint8_t)(k * 37 + 11) | 1;
            p += 700;
        }
        memcpy(p, r.raw + r.off[i] - 8, 8 + r.len[i]);
        p += 8 + r.len[i];
    }
    for (int k = 0; k < 300; k++) /* and some before the zero padding */
        p[k] = (uint8_t)(k * 53 + 7) | 1;
    p += 300;
    size_t total = (size_t)(p - buf) + 64; /* zero padding */
    for (size_t i = 0; i < total; i++)
        if (i < (size_t)(p - buf))
            buf[i] ^= r.key[i % 8];
    char path[256];
    snprintf(path, sizeof path, "%s/blk00000.dat", d.blocks);
    FILE *f = fopen(path, "wb");
    cr_assert_eq(fwrite(buf, 1, total, f), total);
    fclose(f);
    free(buf);
    free(r.raw);
    char *out, *err;
    cr_assert_eq(replay(&d, NULL, NULL, &out, &err), 2, "%s", err);
    cr_assert(strstr(err, "skipped blk00000.dat bytes 15440..16139 (700 bytes): bytes that are no record (left by a "
                          "crash?)"), "%s", err);
    /* the padding after the last leftovers is not counted with them */
    cr_assert(strstr(err, "skipped blk00000.dat bytes 29578..29877 (300 bytes): bytes that are no record"), "%s", err);
    cr_assert(strstr(err, "107 blocks (xor-obfuscated), best chain 0..105, 1 stale, 0 orphans, 2 skipped"), "%s", err);
    char *got = records(&d);
    cr_assert_str_eq(got, expected);
    free(got), free(out), free(err);
    cleanup(&d);
}

/* ---- mainnet block files with a crash's damage (issue 10) ----
 *
 * Real mainnet records: the genesis block (the first record of
 * blk_0_to_4.dat) and heights 1..255 (blocks1-256), laid out by each test
 * with the damage a killed and restarted node leaves, in blk files without
 * xor.dat (and with the regtest fixture's key where cheap). Every readable
 * block must connect; each skipped span must be named. */

typedef struct {
    uint8_t *g, *rest;
    const uint8_t *rec[256]; /* framed: magic, size, block */
    size_t len[256];
} mainnet;

static void load_mainnet(mainnet *m)
{
    size_t gn, n;
    m->g = fixture("btc/blk_0_to_4.dat.bz2", &gn);
    m->rest = fixture("btc/blocks1-256.bz2", &n);
    m->rec[0] = m->g;
    m->len[0] = 8 + 285;
    size_t pos = 0;
    for (int h = 1; h < 256; h++) {
        cr_assert_leq(pos + 8, n);
        size_t size = m->rest[pos + 4] | (size_t)m->rest[pos + 5] << 8 | (size_t)m->rest[pos + 6] << 16;
        m->rec[h] = m->rest + pos;
        m->len[h] = 8 + size;
        pos += 8 + size;
    }
    cr_assert_eq(pos, n, "255 records from height 1");
}

static void mainnet_free(mainnet *m) { free(m->g), free(m->rest); }

/* Hashes of mainnet heights 100 and 255 (sha256d of the records' headers,
 * computed apart with Python's hashlib; 100 is the well-known one). */
#define MAIN_100 "000000007bc154e0fa7ea32218a72fe2c1bb9f86cf8c9ebf9a715ed27fdb229a"
#define MAIN_255 "00000000d0a75c861fabf9ff7b92022f60e4afeed9331fe5aa073d8e4706fe3c"

typedef struct {
    uint8_t *p, *unwritten; /* unwritten[i]: a zero byte no node wrote (never obfuscated) */
    size_t n, cap;
} bytes;

/* Appends n bytes of p, or n zero bytes no node wrote when p is NULL. */
static void put(bytes *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        b->unwritten = realloc(b->unwritten, b->cap);
        cr_assert(b->p && b->unwritten);
    }
    if (p)
        memcpy(b->p + b->n, p, n);
    else
        memset(b->p + b->n, 0, n);
    memset(b->unwritten + b->n, p == NULL, n);
    b->n += n;
}

static void bytes_free(bytes *b) { free(b->p), free(b->unwritten); }

static void put_range(bytes *b, const mainnet *m, int from, int to)
{
    for (int h = from; h <= to; h++)
        put(b, m->rec[h], m->len[h]);
}

/* n bytes that are neither zero nor hold a magic */
static void put_garbage(bytes *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)((i * 37 + seed * 11 + 7) | 1);
        put(b, &c, 1);
    }
}

/* Writes dir/name: the data, obfuscated with key (if not NULL) as Core
 * does, then `pad` zero bytes never obfuscated; and dir/xor.dat. */
static void write_blkfile(const char *dir, const char *name, const bytes *b, size_t pad, const uint8_t *key)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    for (size_t i = 0; i < b->n; i++)
        fputc(key && !b->unwritten[i] ? b->p[i] ^ key[i % 8] : b->p[i], f);
    for (size_t i = 0; i < pad; i++)
        fputc(0, f);
    fclose(f);
    if (key) {
        snprintf(path, sizeof path, "%s/xor.dat", dir);
        f = fopen(path, "wb");
        fwrite(key, 1, 8, f);
        fclose(f);
    }
}

typedef struct {
    char root[64], blocks[128], dd[128];
} mainnet_dirs;

static void mainnet_dirs_make(mainnet_dirs *d)
{
    snprintf(d->root, sizeof d->root, "/tmp/cw-mainblk-XXXXXX");
    cr_assert_not_null(mkdtemp(d->root));
    snprintf(d->blocks, sizeof d->blocks, "%s/blocks", d->root);
    snprintf(d->dd, sizeof d->dd, "%s/dd", d->root);
    cr_assert_eq(mkdir(d->blocks, 0700), 0);
}

/* A full replay into a new datadir: the exit status, stdout and stderr. */
static int replay_mainnet(mainnet_dirs *d, const char *flag, const char *dir, const char *extra, char **out, char **err)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && %s init --datadir '%s' >/dev/null", d->dd, CW_BIN, d->dd);
    cr_assert_eq(system(cmd), 0);
    char *argv[] = {CW_BIN, "replay", (char *)flag, (char *)dir, "--datadir", d->dd, (char *)extra, NULL};
    return run_cmd(argv, NULL, 0, out, err);
}

static void mainnet_dirs_free(mainnet_dirs *d)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->root);
    cr_assert_eq(system(cmd), 0);
}

static const uint8_t regtest_key[8] = {0x3a, 0x8f, 0x01, 0x6c, 0xd2, 0x55, 0x00, 0x9b};

/* The whole chain 0..255 connected, tip 255, and exactly `skipped` spans. */
static void assert_all_connected(const char *out, const char *err, int skipped, int duplicates)
{
    char want[200];
    snprintf(want, sizeof want, "best chain 0..255, 0 stale, 0 orphans, %d skipped, %d duplicates, tip " MAIN_255,
             skipped, duplicates);
    cr_assert(strstr(err, want), "'%s' lacks '%s'", err, want);
    cr_assert(strstr(out, "replayed heights 0..255") && strstr(out, "256 connected"), "%s", out);
    cr_assert(strstr(out, "txs         263 "), "%s", out); /* 263 txs in heights 0..255 */
}

/* "FILE bytes A..B (N bytes): WHY" on stderr and in the summary */
static void assert_span(const char *out, const char *err, const char *file, size_t off, size_t len, const char *why)
{
    char want[400];
    snprintf(want, sizeof want, "skipped %s bytes %zu..%zu (%zu bytes): %s", file, off, off + len - 1, len, why);
    cr_assert(strstr(err, want), "stderr '%s' lacks '%s'", err, want);
    cr_assert(strstr(out, want + 8), "summary '%s' lacks '%s'", out, want + 8);
}

/* Zero runs between records (space reserved and never written) no longer
 * end the file: before, the scan stopped at the first and connected
 * 0..100. Zero padding to the end stays silent. */
Test(replay, blk_zero_runs_between_records)
{
    mainnet m;
    load_mainnet(&m);
    for (int x = 0; x < 2; x++) { /* plain, then obfuscated */
        mainnet_dirs d;
        mainnet_dirs_make(&d);
        bytes b = {0};
        put_range(&b, &m, 0, 100);
        size_t z1 = b.n;
        put(&b, NULL, 4096);
        put_range(&b, &m, 101, 200);
        size_t z2 = b.n;
        put(&b, NULL, 5); /* shorter than a magic */
        put_range(&b, &m, 201, 255);
        write_blkfile(d.blocks, "blk00000.dat", &b, 65536, x ? regtest_key : NULL);
        char *out, *err;
        cr_assert_eq(replay_mainnet(&d, "--blocksdir", d.blocks, NULL, &out, &err), 2, "%s", err);
        assert_all_connected(out, err, 2, 0);
        assert_span(out, err, "blk00000.dat", z1, 4096, "zero bytes between records");
        assert_span(out, err, "blk00000.dat", z2, 5, "zero bytes between records");
        cr_assert(strstr(out, "skipped     2 spans/files, 4101 bytes"), "%s", out);
        free(out), free(err);
        /* the same records without the runs: exit 0, nothing skipped */
        bytes c = {0};
        put_range(&c, &m, 0, 255);
        write_blkfile(d.blocks, "blk00000.dat", &c, 65536, x ? regtest_key : NULL);
        cr_assert_eq(replay_mainnet(&d, "--blocksdir", d.blocks, NULL, &out, &err), 0, "%s", err);
        assert_all_connected(out, err, 0, 0);
        cr_assert_null(strstr(out, "skipped"), "%s", out);
        free(out), free(err);
        bytes_free(&b), bytes_free(&c);
        mainnet_dirs_free(&d);
    }
    mainnet_free(&m);
}

/* A bad size field mid-file: the scan goes on at the next magic. Before,
 * it ended the file there (0..100 connected). */
Test(replay, blk_bad_size_mid_file)
{
    mainnet m;
    load_mainnet(&m);
    mainnet_dirs d;
    mainnet_dirs_make(&d);
    bytes b = {0};
    put_range(&b, &m, 0, 100);
    size_t bad = b.n;
    put_range(&b, &m, 101, 101); /* this copy's size field is damaged... */
    b.p[bad + 7] = 0x7f;
    put_range(&b, &m, 101, 255); /* ...and the node wrote the block again */
    /* a second file: a size far too small, then the rest of a record */
    bytes c = {0};
    put_range(&c, &m, 0, 0);
    c.p[4] = 3, c.p[5] = 0;
    write_blkfile(d.blocks, "blk00000.dat", &b, 0, NULL);
    write_blkfile(d.blocks, "blk00001.dat", &c, 100, NULL);
    char *out, *err;
    cr_assert_eq(replay_mainnet(&d, "--blocksdir", d.blocks, NULL, &out, &err), 2, "%s", err);
    assert_all_connected(out, err, 2, 0);
    assert_span(out, err, "blk00000.dat", bad, m.len[101],
                "a record size of 2130706647 bytes, no block's (81..4000000)");
    /* up to the end of the data: the genesis block ends in a zero lock time */
    assert_span(out, err, "blk00001.dat", 0, m.len[0] - 4, "a record size of 3 bytes, no block's (81..4000000)");
    free(out), free(err);
    /* without the second copy, the blocks after the bad record are still
     * read: orphans, named in the count, and the chain ends at 100 */
    bytes e = {0};
    put_range(&e, &m, 0, 101);
    e.p[bad + 7] = 0x7f;
    put_range(&e, &m, 102, 255);
    write_blkfile(d.blocks, "blk00000.dat", &e, 0, NULL);
    char second[256];
    snprintf(second, sizeof second, "%s/blk00001.dat", d.blocks);
    cr_assert_eq(unlink(second), 0);
    cr_assert_eq(replay_mainnet(&d, "--blocksdir", d.blocks, NULL, &out, &err), 2, "%s", err);
    cr_assert(strstr(err, "best chain 0..100, 0 stale, 154 orphans, 1 skipped, 0 duplicates, tip " MAIN_100), "%s",
              err);
    cr_assert(strstr(out, "101 connected"), "%s", out);
    free(out), free(err);
    bytes_free(&b), bytes_free(&c), bytes_free(&e);
    mainnet_dirs_free(&d);
    mainnet_free(&m);
}

/* A restarted node left a record cut short (its size says more than was
 * written) right before the whole record of the same block: the cut one
 * yields to it. Before, the scan jumped into the whole record, then stopped
 * at its zero bytes, and the cut block failed to decode. Also: a cut inside
 * the header, a cut record followed by zeros and the whole one at its
 * reserved end (a duplicate: the later record is read), and garbage. */
Test(replay, blk_cut_record_then_the_whole_one)
{
    mainnet m;
    load_mainnet(&m);
    for (int x = 0; x < 2; x++) {
        mainnet_dirs d;
        mainnet_dirs_make(&d);
        bytes b = {0};
        put_range(&b, &m, 0, 150);
        size_t cut1 = b.n;
        put(&b, m.rec[151], 8 + 100); /* the header and 20 bytes of the coinbase */
        put_range(&b, &m, 151, 199);
        size_t cut2 = b.n;
        put(&b, m.rec[200], 8 + 40); /* half a header */
        put_range(&b, &m, 200, 230);
        size_t cut3 = b.n;
        put(&b, m.rec[231], 8 + 90);
        put(&b, NULL, m.len[231] - 8 - 90); /* reserved, never written */
        put_range(&b, &m, 231, 240);
        size_t junk = b.n;
        put_garbage(&b, 300, 3);
        put(&b, NULL, 50);
        put_garbage(&b, 100, 5);
        put_range(&b, &m, 241, 255);
        write_blkfile(d.blocks, "blk00000.dat", &b, 4096, x ? regtest_key : NULL);
        char *out, *err;
        cr_assert_eq(replay_mainnet(&d, "--blocksdir", d.blocks, NULL, &out, &err), 2, "%s", err);
        assert_all_connected(out, err, 3, 1);
        /* block 151's own header survived the cut: the span names it */
        assert_span(out, err, "blk00000.dat", cut1, 108,
                    "a record of block 00000000f04ec51395de63f4c3c76766d012ce73eaabe7eceaf124eb7696f36a cut short: "
                    "another record starts inside it (written again after a restart?)");
        char want[300]; /* a cut inside the header: its hash is no block's */
        snprintf(want, sizeof want, "blk00000.dat bytes %zu..%zu (48 bytes): a record of block ", cut2, cut2 + 47);
        cr_assert(strstr(err, want), "'%s' lacks '%s'", err, want);
        snprintf(want, sizeof want, "blk00000.dat bytes %zu..", cut3); /* a duplicate, not a skip */
        cr_assert_null(strstr(err, want), "%s", err);
        assert_span(out, err, "blk00000.dat", junk, 450, "bytes that are no record (left by a crash?)");
        free(out), free(err);
        bytes_free(&b);
        mainnet_dirs_free(&d);
    }
    mainnet_free(&m);
}

/* Writes dir/name with n bytes of p (hex text when hex). */
static void write_raw(const char *dir, const char *name, const uint8_t *p, size_t n, bool hex)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    for (size_t i = 0; hex && i < n; i++)
        fprintf(f, "%02x", p[i]);
    if (!hex)
        fwrite(p, 1, n, f);
    fclose(f);
}

/* --rawblocks names every file it cannot use and replays the others; it
 * used to stop at the first stray file with nothing replayed. */
Test(replay, rawblocks_names_every_unreadable_file)
{
    mainnet m;
    load_mainnet(&m);
    mainnet_dirs d;
    mainnet_dirs_make(&d);
    for (int h = 0; h < 256; h++) {
        char name[64];
        snprintf(name, sizeof name, "block-%03d.%s", h, h % 3 ? "raw" : "hex");
        write_raw(d.blocks, name, m.rec[h] + 8, m.len[h] - 8, h % 3 == 0);
    }
    write_raw(d.blocks, "aa-readme.txt", (const uint8_t *)"blocks 0..255\n", 14, false);
    uint8_t copy[512];
    memcpy(copy, m.rec[100] + 8, m.len[100] - 8);
    copy[m.len[100] - 8 - 20] ^= 1; /* a byte of the coinbase's output script: the merkle root fails */
    write_raw(d.blocks, "block-100-copy.raw", copy, m.len[100] - 8, false);
    write_raw(d.blocks, "empty.raw", copy, 0, false);
    char *out, *err;
    cr_assert_eq(replay_mainnet(&d, "--rawblocks", d.blocks, NULL, &out, &err), 2, "%s", err);
    cr_assert(strstr(err, "259 files, 256 blocks, best chain 0..255, 0 stale, 0 orphans, 3 skipped, 0 duplicates, "
                          "tip " MAIN_255), "%s", err);
    cr_assert(strstr(out, "replayed heights 0..255") && strstr(out, "256 connected"), "%s", out);
    assert_span(out, err, "aa-readme.txt", 0, 14, "not a block: ");
    assert_span(out, err, "block-100-copy.raw", 0, m.len[100] - 8,
                "not a block: its txs do not hash to the header's merkle root");
    cr_assert(strstr(err, "skipped empty.raw bytes 0..0 (0 bytes): not a block: "), "%s", err);
    cr_assert(strstr(out, "skipped     3 spans/files"), "%s", out);
    free(out), free(err);
    mainnet_dirs_free(&d);
    mainnet_free(&m);
}

/* Blocks that are not one chain are refused, the gap named, unless
 * --allow-gaps; two mainnet blocks 7 apart used to replay one and call the
 * other "1 stale", exit 0. */
Test(replay, rawblocks_refuses_gaps)
{
    mainnet_dirs d;
    mainnet_dirs_make(&d);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp %s/%s %s/%s %s/", CW_DATA_DIR, BLOCK_514485, CW_DATA_DIR, BLOCK_514492, d.blocks);
    cr_assert_eq(system(cmd), 0);
    char *out, *err;
    cr_assert_eq(replay_mainnet(&d, "--rawblocks", d.blocks, NULL, &out, &err), 2, "%s", err);
    cr_assert(strstr(err, "gap: block-00000000000000000008513c860373da0484f065983aeb063ebf81c172e81d48.raw: block "
                          "00000000000000000008513c860373da0484f065983aeb063ebf81c172e81d48 (height 514492: heights "
                          "514486..514491 are missing after the chain's tip) follows "),
              "%s", err);
    cr_assert(strstr(err, "is not one chain: 1 blocks sit behind 1 missing parents (above); add the missing blocks, "
                          "or pass --allow-gaps to replay only heights 514485..514485"), "%s", err);
    cr_assert(strstr(err, "0 stale"), "%s", err);
    cr_assert_null(strstr(out, "replayed"), "%s", out);
    free(out), free(err);
    /* blocks left out: exit 2 (it was 0) */
    cr_assert_eq(replay_mainnet(&d, "--rawblocks", d.blocks, "--allow-gaps", &out, &err), 2, "%s", err);
    cr_assert(strstr(err, "left out (--allow-gaps): block-00000000000000000008513c"), "%s", err);
    cr_assert(strstr(out, "replayed heights 514485..514485") && strstr(out, "1 connected"), "%s", out);
    cr_assert(strstr(out, "left out    1 blocks behind 1 gaps (--allow-gaps)"), "%s", out);
    free(out), free(err);
    mainnet_dirs_free(&d);

    /* heights 0..255 but 100: the blocks after the gap have no BIP-34
     * height, so where they belong is unknown, and they are named */
    mainnet m;
    load_mainnet(&m);
    mainnet_dirs_make(&d);
    for (int h = 0; h < 256; h++) {
        char name[64];
        snprintf(name, sizeof name, "block-%03d.raw", h);
        if (h != 100)
            write_raw(d.blocks, name, m.rec[h] + 8, m.len[h] - 8, false);
    }
    cr_assert_eq(replay_mainnet(&d, "--rawblocks", d.blocks, NULL, &out, &err), 2, "%s", err);
    cr_assert(strstr(err, "gap: block-101.raw: block 00000000b69bd8e4dc60580117617a466d5c76ada85fb7b87e9baea01f9d9984 "
                          "(no height in its coinbase: where it belongs is unknown) follows " MAIN_100
                          ", which is not in the directory"), "%s", err);
    cr_assert(strstr(err, "155 blocks sit behind 1 missing parents"), "%s", err);
    free(out), free(err);
    mainnet_dirs_free(&d);
    mainnet_free(&m);
}

/* ---- records that end in zeros, copies, replay-time failures, gaps (issue 10 review) ---- */

/* A node killed while writing its last block into reserved space leaves the
 * record's head and zeros up to the reserved end. The scan took the zeros
 * for padding and kept the record; the replay failed on it and aborted the
 * batch of the whole ones (exit 1, "replayed nothing", "0 skipped"). A
 * record that ends in zeros is decoded whole at scan time: this one is
 * named and skipped, 0..254 replay, exit 2. */
Test(replay, blk_cut_last_record_in_reserved_space_is_skipped)
{
    mainnet m;
    load_mainnet(&m);
    mainnet_dirs d;
    mainnet_dirs_make(&d);
    bytes b = {0};
    put_range(&b, &m, 0, 254);
    size_t cut = b.n;
    put(&b, m.rec[255], m.len[255] - 100);
    put(&b, NULL, 100); /* reserved, never written */
    write_blkfile(d.blocks, "blk00000.dat", &b, 65536, NULL);
    char *out, *err;
    int rc = replay_mainnet(&d, "--blocksdir", d.blocks, NULL, &out, &err);
    cr_expect_eq(rc, 2, "exit %d (want 2): %s", rc, err);
    cr_expect(strstr(out, "replayed heights 0..254") && strstr(out, "255 connected"), "%s", out);
    cr_expect(strstr(err, "255 blocks (plain), best chain 0..254, 0 stale, 0 orphans, 1 skipped, 0 duplicates"), "%s",
              err);
    size_t end = cut + m.len[255] - 100; /* to the last non-zero byte written: zeros after it are padding */
    while (b.p[end - 1] == 0)
        end--;
    char want[300];
    snprintf(want, sizeof want, "skipped blk00000.dat bytes %zu..%zu (%zu bytes): a record of block " MAIN_255
             " that is no whole block (cut short, or a bad size?): ", cut, end - 1, end - cut);
    cr_expect(strstr(err, want), "'%s' lacks '%s'", err, want);
    free(out), free(err);
    bytes_free(&b);
    mainnet_dirs_free(&d);
    mainnet_free(&m);
}

/* The real node's file, its last record's tail zeroed (bytes 28778..28877,
 * as a crash in reserved space leaves it): heights 0..104 and their
 * records, the cut block named; a rerun continues and says the same. */
Test(replay, blk_node_file_cut_in_reserved_space_replays_the_rest)
{
    fixture_dirs d;
    make_dirs(&d, false, 0);
    char path[256];
    snprintf(path, sizeof path, "%s/blk00000.dat", d.blocks);
    int fd = open(path, O_WRONLY);
    uint8_t zero[100] = {0};
    cr_assert_eq(pwrite(fd, zero, sizeof zero, 28778), (ssize_t)sizeof zero);
    close(fd);
    char *out, *err;
    for (int run = 0; run < 2; run++) {
        cr_assert_eq(replay(&d, NULL, NULL, &out, &err), 2, "%s", err);
        cr_assert(strstr(err, "skipped blk00000.dat bytes 28393..28777 (385 bytes): a record of block "
                              "2f0ae58e0b99c85bff7dbe2984bc8917b2dc951193c87407cbbb434e0de0043c that is no whole block "
                              "(cut short, or a bad size?): tx 1: "), "%s", err);
        cr_assert(strstr(err, "106 blocks (xor-obfuscated), best chain 0..104, 1 stale, 0 orphans, 1 skipped, "
                              "0 duplicates, tip 2b4c27825a752a5b6e755abd68fd47308940b981d9c4087339a5d789b97b5ab9"),
                  "%s", err);
        cr_assert(strstr(out, run ? "replayed nothing" : "replayed heights 0..104"), "%s", out);
        cr_assert(strstr(out, run ? " 0 connected" : "105 connected"), "%s", out);
        free(out), free(err);
    }
    /* every record but height 105's (the last two lines of `expected`) */
    char *got = records(&d);
    const char *h105 = strstr(expected, "confirmed 78c9750f");
    cr_assert_not_null(h105);
    char want[sizeof expected];
    snprintf(want, sizeof want, "%.*s%s", (int)(h105 - expected), expected,
             strstr(h105 + 1, "\nconfirmed c2d67001") + 1);
    cr_assert_str_eq(got, want);
    free(got);
    cleanup(&d);
}

/* A damaged size field pointing into the zero padding made the record
 * "end" there: records 101..255 vanished without a word ("0 skipped"), and
 * the replay failed on the oversized block with nothing committed. The
 * record is decoded whole, is no block, and the scan goes on at the next
 * magic: the span is named, 101..255 are orphans, 0..99 replay, exit 2. */
Test(replay, blk_size_into_padding_is_skipped_to_the_next_magic)
{
    mainnet m;
    load_mainnet(&m);
    mainnet_dirs d;
    mainnet_dirs_make(&d);
    bytes b = {0};
    put_range(&b, &m, 0, 99);
    size_t bad = b.n;
    put_range(&b, &m, 100, 255);
    uint32_t big = 200000; /* ends inside the padding written below */
    b.p[bad + 4] = (uint8_t)big, b.p[bad + 5] = (uint8_t)(big >> 8), b.p[bad + 6] = (uint8_t)(big >> 16);
    write_blkfile(d.blocks, "blk00000.dat", &b, 400000, NULL);
    char *out, *err;
    int rc = replay_mainnet(&d, "--blocksdir", d.blocks, NULL, &out, &err);
    cr_expect_eq(rc, 2, "exit %d (want 2: damage skipped and reported): %s", rc, err);
    cr_expect(strstr(err, "255 blocks (plain), best chain 0..99, 0 stale, 155 orphans, 1 skipped, 0 duplicates"), "%s",
              err);
    char want[300];
    snprintf(want, sizeof want, "skipped blk00000.dat bytes %zu..%zu (%zu bytes): a record of block " MAIN_100
             " that is no whole block (cut short, or a bad size?): ", bad, bad + m.len[100] - 1, m.len[100]);
    cr_expect(strstr(err, want), "'%s' lacks '%s'", err, want);
    cr_expect(strstr(out, "replayed heights 0..99") && strstr(out, "100 connected"), "%s", out);
    free(out), free(err);
    bytes_free(&b);
    mainnet_dirs_free(&d);
    mainnet_free(&m);
}

/* Two records of block 100, the later cut (its tail never written): "the
 * later record wins" threw the whole one away and the replay failed at
 * height 100 with nothing committed. The whole copy is kept: all of
 * 0..255, one duplicate, nothing lost (exit 0). The same when the later
 * copy's damage is mid-block and a record follows it at once (nothing at
 * scan time looks wrong; both copies are decoded when a block is stored
 * twice). */
Test(replay, blk_whole_copy_wins_over_a_later_broken_one)
{
    mainnet m;
    load_mainnet(&m);
    mainnet_dirs d;
    mainnet_dirs_make(&d);
    bytes b = {0};
    put_range(&b, &m, 0, 255);
    put(&b, m.rec[100], 8 + 90);
    put(&b, NULL, m.len[100] - 8 - 90);
    write_blkfile(d.blocks, "blk00000.dat", &b, 65536, NULL);
    char *out, *err;
    int rc = replay_mainnet(&d, "--blocksdir", d.blocks, NULL, &out, &err);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, err);
    assert_all_connected(out, err, 0, 1);
    free(out), free(err);
    bytes c = {0};
    put_range(&c, &m, 0, 100);
    size_t copy = c.n;
    put_range(&c, &m, 100, 255);
    c.p[copy + 8 + 80] = 0xfc; /* the later copy's tx count: 252 */
    write_blkfile(d.blocks, "blk00000.dat", &c, 65536, regtest_key);
    rc = replay_mainnet(&d, "--blocksdir", d.blocks, NULL, &out, &err);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, err);
    assert_all_connected(out, err, 0, 1);
    free(out), free(err);
    bytes_free(&b), bytes_free(&c);
    mainnet_dirs_free(&d);
    mainnet_free(&m);
}

/* A block whose record looks whole but does not decode is found only by
 * the replay. It used to abort the batch: every good block before it in
 * the batch was thrown away ("replayed nothing") on every run. They are
 * committed now, and the block is named by height, hash, file and offset
 * (exit 1: the chain cannot go on past it). */
Test(replay, blk_block_failing_at_replay_keeps_the_blocks_before_it)
{
    fixture_dirs d;
    make_dirs(&d, false, 0);
    char path[256];
    snprintf(path, sizeof path, "%s/blk00000.dat", d.blocks);
    int fd = open(path, O_RDWR);
    size_t at = 15440 + 8 + 80; /* height 60's tx count (its record is at 15440) */
    uint8_t c;
    cr_assert_eq(pread(fd, &c, 1, (off_t)at), 1);
    c ^= 0x01 ^ 0xfc; /* obfuscated 1 -> obfuscated 252 */
    cr_assert_eq(pwrite(fd, &c, 1, (off_t)at), 1);
    close(fd);
    static const char named[] = "height 60 (block 39655d8b1e706532b01c434084dbc263aa1ec37d8c062c40d23944fffbf64365, "
                                "blk00000.dat byte 15440): byte 80: truncated";
    char *out, *err;
    cr_assert_eq(replay(&d, NULL, NULL, &out, &err), 1, "%s", err);
    cr_assert(strstr(out, "replayed heights 0..59") && strstr(out, "60 connected"), "%s", out);
    cr_assert(strstr(err, named) && strstr(err, "the blocks before it are recorded"), "%s", err);
    free(out), free(err);
    cr_assert_eq(replay(&d, NULL, NULL, &out, &err), 1, "%s", err);
    cr_assert(strstr(out, "replayed nothing") && strstr(err, named), "continues at 60 and fails there: %s\n%s", out,
              err);
    free(out), free(err);
    cleanup(&d);
}

/* --rawblocks, the node's blocks one per file, height 50 missing. The
 * chain from 51 (placed by its BIP-34 height) has the most work; the gap
 * was named by the genesis "following" the null hash. It is named by the
 * block after it and the parent actually missing; --allow-gaps replays
 * 51..105 and exits 2, as blocks were left out (it exited 0). */
Test(replay, rawblocks_gap_below_the_chain_names_the_missing_parent)
{
    fixture_dirs d;
    make_dirs(&d, false, 0);
    node_records r;
    load_records(&r);
    for (size_t i = 0; i < r.n; i++) {
        char name[32];
        snprintf(name, sizeof name, "r%03zu.raw", i);
        if (i != 50)
            write_raw(d.blocks, name, r.raw + r.off[i], r.len[i], false);
    }
    char blk[256];
    snprintf(blk, sizeof blk, "%s/blk00000.dat", d.blocks);
    cr_assert_eq(unlink(blk), 0);
    snprintf(blk, sizeof blk, "%s/xor.dat", d.blocks);
    cr_assert_eq(unlink(blk), 0);
    free(r.raw);
    static const char gap[] =
        "r051.raw: block 414ff4a79c2211b508d04d36db9732893a91a21212491c555fd3396af2239c86 (height 51: heights "
        "50..50 are missing before the chain's start, after heights 0..49) follows "
        "280342ae569bebfffe6becf48c0b19407bf32406e83350303600bd55839556bd, which is not in the directory";
    char *out, *err;
    char *argv[] = {CW_BIN, "replay", "--rawblocks", d.blocks, "--datadir", d.dd, "--network", "regtest", NULL, NULL};
    cr_assert_eq(run_cmd(argv, NULL, 0, &out, &err), 2, "%s", err);
    char want[600];
    snprintf(want, sizeof want, "gap: %s", gap);
    cr_assert(strstr(err, want), "'%s' lacks '%s'", err, want);
    cr_assert(strstr(err, "50 blocks sit behind 1 missing parents"), "%s", err);
    free(out), free(err);
    argv[8] = "--allow-gaps";
    cr_assert_eq(run_cmd(argv, NULL, 0, &out, &err), 2, "%s", err);
    snprintf(want, sizeof want, "left out (--allow-gaps): %s", gap);
    cr_assert(strstr(err, want), "'%s' lacks '%s'", err, want);
    cr_assert(strstr(out, "replayed heights 51..105") && strstr(out, "55 connected"), "%s", out);
    cr_assert(strstr(out, "left out    50 blocks behind 1 gaps (--allow-gaps)"), "%s", out);
    free(out), free(err);
    cleanup(&d);
}

/* Runs replay on d with env (name, value pairs, NULL-terminated) set for
 * the child only. */
static int replay_env(fixture_dirs *d, const char *dd, const char *const *env, char **out, char **err)
{
    for (const char *const *e = env; e && *e; e += 2)
        setenv(e[0], e[1], 1);
    char *argv[] = {CW_BIN, "replay", "--blocksdir", d->blocks, "--datadir", (char *)dd, "--network", "regtest", NULL};
    int rc = run_cmd(argv, NULL, 0, out, err);
    for (const char *const *e = env; e && *e; e += 2)
        unsetenv(e[0]);
    return rc;
}

/* A store error is exit 3, the convention of every verb, and the message
 * names the store and what failed; 1 stays the alerts file's and a block's.
 * Before, replay exited 1 for each of these but the damaged copy (3). The
 * store of each case replays whole once the condition is gone. */
Test(replay, a_store_error_at_open_or_in_a_batch_is_exit_3, .timeout = 120)
{
    fixture_dirs d;
    make_dirs(&d, false, 0);
    char *out, *err, want[400], dd2[200], cmd[1200];
    snprintf(dd2, sizeof dd2, "%s/dd2", d.root);
#if !defined(__SANITIZE_ADDRESS__) /* ASan's shadow memory cannot start under an address-space limit */
    /* ulimit -v (RLIMIT_AS, systemd's LimitAS=) below the 1 GiB map, in
     * the forked child: LMDB cannot map the store */
    char *lim[] = {"/bin/sh", "-c", "ulimit -v 400000 && exec \"$0\" \"$@\"", CW_BIN, "replay", "--blocksdir",
                   d.blocks, "--datadir", d.dd, "--network", "regtest", NULL};
    int rc = run_cmd(lim, NULL, 0, &out, &err);
    snprintf(want, sizeof want, "chainwatch: replay: store %s/store.mdb: open: Cannot allocate memory", d.dd);
    cr_assert_eq(rc, 3, "ulimit -v: exit %d\n%s", rc, err);
    cr_assert(strstr(err, want), "ulimit -v: %s", err);
    free(out), free(err);
#endif
    /* a datadir whose store.mdb LMDB cannot open (a directory in its place) */
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s' && rm '%s/store.mdb' && mkdir '%s/store.mdb'", d.dd, dd2, dd2, dd2);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(replay_env(&d, dd2, NULL, &out, &err), 3, "%s", err);
    snprintf(want, sizeof want, "chainwatch: replay: store %s/store.mdb: open: Is a directory", dd2);
    cr_assert(strstr(err, want), "%s", err);
    free(out), free(err);
    /* a damaged copy: the meta pages zeroed */
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s' && dd if=/dev/zero of='%s/store.mdb' bs=4096 count=2 "
                              "conv=notrunc status=none", dd2, d.dd, dd2, dd2);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(replay_env(&d, dd2, NULL, &out, &err), 3, "%s", err);
    snprintf(want, sizeof want, "chainwatch: replay: store damaged: %s/store.mdb: open: MDB_INVALID", dd2);
    cr_assert(strstr(err, want), "%s", err);
    free(out), free(err);
    /* LMDB refusing the open (permission denied, which root cannot be
     * shown with a mode): the fault shim */
    const char *denied[] = {"LD_PRELOAD", CW_FAULT_PRELOAD, "CW_FAIL_MDB", "mdb_env_open:1:EACCES", NULL};
    cr_assert_eq(replay_env(&d, d.dd, denied, &out, &err), 3, "%s", err);
    snprintf(want, sizeof want, "chainwatch: replay: store %s/store.mdb: open: Permission denied", d.dd);
    cr_assert(strstr(err, want) && strstr(err, "check the datadir's owner and mode"), "%s", err);
    free(out), free(err);
    /* the batch's commit on a full disk (the 3rd commit: open, pipeline,
     * then the one batch of the 106 blocks; the message checks it) */
    const char *full[] = {"LD_PRELOAD", CW_FAULT_PRELOAD, "CW_FAIL_MDB", "mdb_txn_commit:3+:ENOSPC", NULL};
    cr_assert_eq(replay_env(&d, d.dd, full, &out, &err), 3, "%s", err);
    snprintf(want, sizeof want, "chainwatch: replay: height 105: store %s/store.mdb: commit: No space left on device",
             d.dd);
    cr_assert(strstr(err, want) && strstr(err, "nothing from height 0 on was recorded"), "%s", err);
    free(out), free(err);
    cr_assert_eq(replay(&d, NULL, NULL, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "106 connected"), "%s", out);
    free(out), free(err);
    cleanup(&d);
}
