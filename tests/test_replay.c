/* chainwatch replay on the block files a real Bitcoin Core v30 regtest node
 * wrote (xor-obfuscated blk00000.dat with a stale branch from a reorg). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"

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

/* "status txid height blockhash direction address amount" per record, sorted */
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
    cleanup(&d);
}

Test(replay, truncated_last_record_is_reported_and_skipped)
{
    fixture_dirs d;
    make_dirs(&d, false, 40); /* the last record loses its last 40 bytes */
    char *out, *err;
    cr_assert_eq(replay(&d, NULL, NULL, &out, &err), 0, "%s", err);
    cr_assert(strstr(err, "cut short") && strstr(err, "skipped"), "%s", err);
    cr_assert(strstr(err, "106 blocks"), "%s", err);
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
