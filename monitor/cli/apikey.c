/*
 * `chainwatch apikey add NAME --role screen|review|admin | list | remove
 * NAME`: the API keys of a datadir (monitor/api/keys.h). A new key is
 * printed once, on stdout; only its hash is kept. A running server picks
 * up changes within a second.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "args.h"
#include "cli.h"
#include "monitor/api/keys.h"

static const char usage[] =
    "usage: chainwatch apikey add NAME --role screen|review|admin [--datadir D]\n"
    "       chainwatch apikey list [--datadir D]\n"
    "       chainwatch apikey remove NAME [--datadir D]\n"
    "\n"
    "API keys for chainwatch serve and watch --api, kept hashed (BLAKE2b-256) in\n"
    "DATADIR/apikeys. `add` prints the new key once: store it in your secret\n"
    "manager, it cannot be shown again. Roles: screen (address and tx screening),\n"
    "review (also alerts and cases), admin (everything).\n"
    "\n"
    "Exit status: 0 done; 1 DATADIR/apikeys could not be read or written (or\n"
    "DATADIR does not exist), or remove: no such key; 2 a usage error or a\n"
    "malformed apikeys file. The keys are no part of the store: apikey has no\n"
    "store error (3).\n"
    "\n"
    "Options:\n";

static const char *const roles[] = {"screen", "review", "admin", NULL};

/* A datadir that is not there has no apikeys file, but that is no empty
 * set of keys: a mistyped --datadir would list none, exit 0 (add refuses
 * it in api_keys_add). CLI_EXIT_OK, or CLI_EXIT_FAIL after one line. */
static int datadir_there(const char *verb, const char *datadir)
{
    struct stat st;
    if (stat(datadir, &st) == 0 && S_ISDIR(st.st_mode))
        return CLI_EXIT_OK;
    fprintf(stderr, "chainwatch: %s: datadir %s: not a directory (run 'chainwatch init' first)\n", verb, datadir);
    return CLI_EXIT_FAIL;
}

int cmd_apikey(int argc, char **argv)
{
    const char *datadir_opt = NULL;
    int role = -1;
    cli_arg t[] = {
        {"role", ARG_ENUM, &role, .choices = roles, .metavar = "R", .help = "screen, review or admin (add)"},
        {"datadir", ARG_PATH, &datadir_opt, .metavar = "D", .help = "default ~/.chainwatch"},
        {0},
    };
    int help_rc;
    if (cli_args_help(argc, argv, true, usage, t, &help_rc))
        return help_rc;
    const char *pos[2] = {NULL, NULL};
    int n_pos;
    if (cli_args_parse("apikey", t, argc, argv, pos, 2, &n_pos))
        return CLI_EXIT_USAGE;
    const char *what = pos[0] ? pos[0] : "";
    char ddbuf[4096];
    const char *datadir = cli_datadir("apikey", datadir_opt, ddbuf, sizeof ddbuf);
    if (datadir == NULL)
        return CLI_EXIT_USAGE;
    cw_err err = {0};
    if (strcmp(what, "add") == 0) {
        if (n_pos != 2 || role < 0) {
            fprintf(stderr, "chainwatch: apikey: add NAME --role screen|review|admin\n");
            return CLI_EXIT_USAGE;
        }
        char key[API_KEY_TEXT_MAX];
        if (api_keys_add(datadir, pos[1], (api_role)(role + 1), key, &err))
            return cli_fail("apikey add", &err);
        printf("%s\n", key);
        sodium_memzero(key, sizeof key);
        fprintf(stderr, "chainwatch: apikey: key '%s' (role %s) added to %s/apikeys; it is shown only this once\n",
                pos[1], roles[role], datadir);
        return CLI_EXIT_OK;
    }
    if (strcmp(what, "remove") == 0) {
        if (n_pos != 2) {
            fprintf(stderr, "chainwatch: apikey: remove NAME\n");
            return CLI_EXIT_USAGE;
        }
        if (datadir_there("apikey remove", datadir))
            return CLI_EXIT_FAIL;
        if (api_keys_remove(datadir, pos[1], &err))
            return cli_fail("apikey remove", &err);
        fprintf(stderr, "chainwatch: apikey: key '%s' removed\n", pos[1]);
        return CLI_EXIT_OK;
    }
    if (strcmp(what, "list") == 0 && n_pos == 1) {
        if (datadir_there("apikey list", datadir))
            return CLI_EXIT_FAIL;
        api_keyset ks;
        if (api_keys_load(datadir, &ks, &err))
            return cli_fail("apikey list", &err);
        for (size_t i = 0; i < ks.n; i++) {
            char when[32];
            time_t c = (time_t)ks.v[i].created;
            struct tm tm;
            gmtime_r(&c, &tm);
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
            printf("{\"name\":\"%s\",\"role\":\"%s\",\"created\":\"%s\"}\n", ks.v[i].name,
                   api_role_name(ks.v[i].role), when);
        }
        api_keys_free(&ks);
        return CLI_EXIT_OK;
    }
    fprintf(stderr, "chainwatch: apikey: expected add, list or remove (see chainwatch apikey --help)\n");
    return CLI_EXIT_USAGE;
}
