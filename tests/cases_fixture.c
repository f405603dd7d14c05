/* cases_fixture.c: see cases_fixture.h. */
#include "cases_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support.h"

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static int run(char **err, char *const *argv)
{
    char *out;
    int rc = run_cmd(argv, NULL, 0, &out, err);
    free(out);
    return rc;
}
#define cw(j, e, ...) run(e, (char *const[]){CW_BIN, __VA_ARGS__, NULL})

/* A datadir after replaying the regtest blocks with the list and CASES_EXPOSED_TAPROOT
 * watched: one hold (indirect exposure into the watched address). */
void cases_hold_datadir(char *root, size_t cap, char *dd, size_t dcap)
{
    snprintf(root, cap, "/tmp/cw-cases-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    snprintf(dd, dcap, "%s/dd", root);
    char blocks[256], path[300], list[300], watch[300];
    snprintf(blocks, sizeof blocks, "%s/blocks", root);
    cr_assert_eq(mkdir(blocks, 0700), 0);
    size_t n, kn;
    uint8_t *raw = fixture("btc/regtest-v30/blk00000.dat.bz2", &n);
    uint8_t *key = fixture("btc/regtest-v30/xor.dat", &kn);
    snprintf(path, sizeof path, "%s/blk00000.dat", blocks);
    FILE *f = fopen(path, "wb");
    cr_assert_eq(fwrite(raw, 1, n, f), n);
    fclose(f);
    snprintf(path, sizeof path, "%s/xor.dat", blocks);
    f = fopen(path, "wb");
    cr_assert_eq(fwrite(key, 1, kn, f), kn);
    fclose(f);
    free(raw), free(key);
    snprintf(list, sizeof list, "%s/list.csv", root);
    write_text(list, "chain,address,entity,program,note\n"
                     "bitcoin,bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0,Test front company,DPRK4,\n"
                     "bitcoin,mqBXtoBQx88vMij3Hj8YM3RXDDvbrNfx9v,Test IT worker,DPRK3,\n");
    snprintf(watch, sizeof watch, "%s/watch.txt", root);
    write_text(watch, CASES_EXPOSED_TAPROOT "\n");
    char *err;
    cr_assert_eq(cw(NULL, &err, "init", "--datadir", dd), 0, "%s", err);
    free(err);
    cr_assert_eq(cw(NULL, &err, "watchlist", "import", "csv", list, "--datadir", dd), 0, "%s", err);
    free(err);
    cr_assert_eq(cw(NULL, &err, "replay", "--blocksdir", blocks, "--datadir", dd, "--network", "regtest", "--watch",
                    watch),
                 0, "%s", err);
    free(err);
}

void cases_rm_root(const char *root)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}
