/* `chainwatch init`: the datadir, its store and the signing key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <time.h>

#include "monitor/records/alert.h"
#include "chains/hex.h"
#include "args.h"
#include "cli.h"
#include "monitor/records/keys.h"
#include "monitor/engine/pipeline.h"
#include "watchlists/store/store.h"

static const char init_usage[] =
    "usage: chainwatch init [--datadir D]\n"
    "\n"
    "Creates the datadir (default ~/.chainwatch, mode 0700), its LMDB store and\n"
    "the node's Ed25519 signing key (signing.key, mode 0600, and signing.pub),\n"
    "which signs every alert. Prints the public key: give it to whoever checks\n"
    "your alerts with 'chainwatch verify --pubkey HEX'. Running it again keeps\n"
    "the existing key; it never replaces one.\n"
    "\n"
    "Exit status: 0 made (or kept); 1 the datadir or the key could not be made;\n"
    "2 a usage error; 3 a store error (the store could not be made or opened:\n"
    "a map that cannot be mapped under ulimit -v, a full disk, a damaged or\n"
    "unreadable store.mdb). What a failed init made is removed again.\n"
    "\n"
    "Options:\n";

/* What this init made, so a failure (a full disk) takes it away again:
 * a half-made datadir would be read later as an older one ("run init"), a
 * key without its public half as a key that was lost. */
typedef struct {
    const char *datadir;
    bool dir, store, key, pub;
} init_made;

static bool exists(const char *datadir, const char *name)
{
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", datadir, name);
    return stat(path, &st) == 0;
}

static void remove_in(const char *datadir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", datadir, name);
    unlink(path);
}

static int init_failed(const init_made *m, const cw_err *err)
{
    if (m->key)
        remove_in(m->datadir, "signing.key");
    if (m->pub)
        remove_in(m->datadir, "signing.pub");
    if (m->store) {
        remove_in(m->datadir, "store.mdb");
        remove_in(m->datadir, "store.mdb-lock");
    }
    if (m->dir)
        rmdir(m->datadir);
    int rc = cli_fail("init", err);
    fprintf(stderr, "chainwatch: init: nothing was made: %s is as before\n", m->datadir);
    return rc;
}

int cmd_init(int argc, char **argv)
{
    const char *given = NULL;
    cli_arg args[] = {
        {"datadir", ARG_PATH, &given, .metavar = "D", .help = "default ~/.chainwatch"},
        {0},
    };
    int help_rc;
    if (cli_args_help(argc, argv, false, init_usage, args, &help_rc))
        return help_rc;
    int n_pos;
    if (cli_args_parse("init", args, argc, argv, NULL, 0, &n_pos))
        return CLI_EXIT_USAGE;
    char buf[4096];
    const char *datadir;
    if ((datadir = cli_datadir("init", given, buf, sizeof buf)) == NULL)
        return CLI_EXIT_USAGE;

    bool new_dir = mkdir(datadir, 0700) == 0;
    struct stat ds;
    if (!new_dir && errno != EEXIST) {
        cw_err e;
        cw_err_set(&e, CW_EIO, CW_NO_OFFSET, "cannot create datadir %s: %s", datadir, strerror(errno));
        return cli_fail("init", &e);
    }
    if (!new_dir && (stat(datadir, &ds) != 0 || !S_ISDIR(ds.st_mode))) {
        /* a file in its place: the datadir cannot be made (1, as above), no store error */
        cw_err e;
        cw_err_set(&e, CW_EIO, CW_NO_OFFSET, "cannot create datadir %s: a file of that name is in the way", datadir);
        return cli_fail("init", &e);
    }
    cw_err err = {0};
    cw_store *st = NULL;
    char file[4200];
    struct stat fs;
    snprintf(file, sizeof file, "%s/store.mdb", datadir);
    /* an empty store.mdb holds nothing (an init cut by a full disk): make
     * it again; store_open refuses one to every other verb */
    if (stat(file, &fs) == 0 && S_ISREG(fs.st_mode) && fs.st_size == 0 && unlink(file) != 0) {
        cw_err_set(&err, CW_EIO, CW_NO_OFFSET, "cannot remove the empty %s: %s", file, strerror(errno));
        return cli_fail("init", &err);
    }
    init_made made = {datadir, new_dir, !exists(datadir, "store.mdb"), !exists(datadir, "signing.key"),
                      !exists(datadir, "signing.pub")};
    if (store_open(datadir, 0, false, &st, &err) != CW_OK)
        return init_failed(&made, &err);
    char store_file[4200];
    snprintf(store_file, sizeof store_file, "%s", store_path(st));
    store_close(st);

    char pub[65];
    bool created;
    if (keys_create(datadir, pub, &created, &err) != CW_OK)
        return init_failed(&made, &err);
    printf("%s %s\n", new_dir ? "created datadir" : "datadir", datadir);
    printf("store: %s\n", store_file);
    if (created)
        printf("created signing key: %s/signing.key (mode 0600; keep it private and backed up)\n", datadir);
    else
        printf("kept the existing signing key: %s/signing.key (init never replaces it)\n", datadir);
    printf("public key file: %s/signing.pub\n", datadir);
    printf("public key: %s\n", pub);
    return CLI_EXIT_OK;
}
