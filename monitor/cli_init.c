/* `chainwatch init` and `chainwatch verify`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alert.h"
#include "cli.h"
#include "keys.h"
#include "watchlists/store.h"

int cmd_init(int argc, char **argv);
int cmd_verify(int argc, char **argv);

static const char init_usage[] =
    "usage: chainwatch init [--datadir D]\n"
    "\n"
    "Creates the datadir (default ~/.chainwatch, mode 0700), its LMDB store and\n"
    "the node's Ed25519 signing key (signing.key, mode 0600, and signing.pub),\n"
    "which signs every alert. Prints the public key: give it to whoever checks\n"
    "your alerts with 'chainwatch verify --pubkey HEX'. Running it again keeps\n"
    "the existing key; it never replaces one.\n";

static const char verify_usage[] =
    "usage: chainwatch verify FILE|- [--pubkey HEX] [--datadir D]\n"
    "\n"
    "Checks the signature of every alert record in FILE (JSON lines; - reads\n"
    "standard input) against --pubkey, or the datadir's signing.pub.\n"
    "Prints FILE:LINE: REASON for each record that fails, then a summary.\n"
    "Exit 0 if every record is valid (and there is at least one), 1 if any\n"
    "is invalid or there are none, 2 on usage errors or an unreadable file or key.\n";

/* Resolves --datadir or the default; false (message printed) when neither. */
static bool pick_datadir(const char *verb, const char *given, char *buf, size_t cap, const char **out)
{
    if (given) {
        *out = given;
        return true;
    }
    if (!store_default_datadir(buf, cap)) {
        fprintf(stderr, "chainwatch: %s: HOME is not set: pass --datadir\n", verb);
        return false;
    }
    *out = buf;
    return true;
}

int cmd_init(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(init_usage, stdout);
        return CLI_EXIT_OK;
    }
    const char *given = NULL;
    for (int i = 1; i < argc;) {
        const char *v;
        if (cli_opt(argc, argv, &i, "--datadir", &v)) {
            if (v == NULL || *v == '\0') {
                fprintf(stderr, "chainwatch: init: --datadir needs a directory\n");
                return CLI_EXIT_USAGE;
            }
            given = v;
        } else {
            fprintf(stderr, "chainwatch: init: unexpected argument '%s' (see chainwatch init --help)\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    char buf[4096];
    const char *datadir;
    if (!pick_datadir("init", given, buf, sizeof buf, &datadir))
        return CLI_EXIT_USAGE;

    bool new_dir = mkdir(datadir, 0700) == 0;
    if (!new_dir && errno != EEXIST) {
        cw_err e;
        cw_err_set(&e, CW_EIO, CW_NO_OFFSET, "cannot create datadir %s: %s", datadir, strerror(errno));
        return cli_fail("init", &e);
    }
    cw_err err = {0};
    cw_store *st = NULL;
    if (store_open(datadir, 0, false, &st, &err) != CW_OK)
        return cli_fail("init", &err);
    char store_file[4200];
    snprintf(store_file, sizeof store_file, "%s", store_path(st));
    store_close(st);

    char pub[65];
    bool created;
    if (keys_create(datadir, pub, &created, &err) != CW_OK)
        return cli_fail("init", &err);
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

/* Verifies every record of an open stream; prints failures and the summary.
 * Returns the exit code. */
static int verify_stream(FILE *in, const char *name, const uint8_t pk[32])
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0, total = 0, valid = 0;
    while ((len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        size_t n = (size_t)len;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        size_t k = 0;
        while (k < n && (line[k] == ' ' || line[k] == '\t'))
            k++;
        if (k == n)
            continue;
        total++;
        char reason[160];
        if (alert_verify(line, n, pk, reason) == CW_OK)
            valid++;
        else
            printf("%s:%lu: %s\n", name, lineno, reason);
        if (!cli_out_ok("verify")) { /* a report cut by a full disk stops here, and says so */
            free(line);
            return CLI_EXIT_FAIL;
        }
    }
    bool read_failed = ferror(in) != 0;
    int read_errno = errno;
    free(line);
    if (read_failed) {
        cw_err e;
        cw_err_set(&e, CW_EIO, CW_NO_OFFSET, "reading %s after line %lu: %s", name, lineno, strerror(read_errno));
        fflush(stdout);
        cli_fail("verify", &e);
        return CLI_EXIT_USAGE;
    }
    printf("%lu records, %lu valid, %lu invalid\n", total, valid, total - valid);
    if (total == 0)
        fprintf(stderr, "chainwatch: verify: %s holds no records\n", name);
    return total > 0 && valid == total ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int cmd_verify(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(verify_usage, stdout);
        return CLI_EXIT_OK;
    }
    const char *file = NULL, *pubhex = NULL, *given = NULL;
    for (int i = 1; i < argc;) {
        const char *v, *opt;
        if (cli_opt(argc, argv, &i, opt = "--pubkey", &v)) {
            pubhex = v;
        } else if (cli_opt(argc, argv, &i, opt = "--datadir", &v)) {
            given = v;
        } else if (file == NULL && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) {
            file = argv[i++];
            continue;
        } else {
            fprintf(stderr, "chainwatch: verify: unexpected argument '%s' (see chainwatch verify --help)\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
        if (v == NULL || *v == '\0') {
            fprintf(stderr, "chainwatch: verify: %s needs a value\n", opt);
            return CLI_EXIT_USAGE;
        }
    }
    if (file == NULL) {
        fprintf(stderr, "chainwatch: verify: missing FILE (a file of alert records, or - for standard input)\n");
        return CLI_EXIT_USAGE;
    }
    uint8_t pk[32];
    if (pubhex) {
        if (!keys_parse_public_hex(pubhex, pk)) {
            fprintf(stderr, "chainwatch: verify: --pubkey must be 64 hex characters (the line 'public key:' of "
                            "chainwatch init)\n");
            return CLI_EXIT_USAGE;
        }
    } else {
        char buf[4096];
        const char *datadir;
        if (!pick_datadir("verify", given, buf, sizeof buf, &datadir))
            return CLI_EXIT_USAGE;
        cw_err err = {0};
        if (keys_load_public(datadir, pk, &err) != CW_OK) {
            cli_fail("verify", &err);
            return CLI_EXIT_USAGE;
        }
    }
    bool is_stdin = strcmp(file, "-") == 0;
    FILE *in = is_stdin ? stdin : fopen(file, "r");
    if (in == NULL) {
        cw_err e;
        cw_err_set(&e, CW_EIO, CW_NO_OFFSET, "cannot open %s: %s", file, strerror(errno));
        cli_fail("verify", &e);
        return CLI_EXIT_USAGE;
    }
    int rc = verify_stream(in, file, pk);
    if (!is_stdin)
        fclose(in);
    return rc;
}
