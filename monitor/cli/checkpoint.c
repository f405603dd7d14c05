/* `chainwatch checkpoint`: a signed statement of the audit trail's head, for verify --checkpoint. */
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

static const char checkpoint_usage[] =
    "usage: chainwatch checkpoint [--datadir D]\n"
    "\n"
    "Prints one signed line vouching for the datadir's audit trail: the seq\n"
    "and line hash of the last record the alerts file has made durable, the\n"
    "time, and the public key. Keep checkpoints away from the alerts file\n"
    "(e.g. one a day, mailed or stored elsewhere): 'chainwatch verify FILE\n"
    "--checkpoint CP' then shows whether the file still holds that record,\n"
    "which a cut-off end (not visible in the chain itself) does not.\n"
    "Runs beside a running watch (read only).\n"
    "\n"
    "Exit status: 0 printed; 1 the signing key could not be read, or standard\n"
    "output failed; 2 a usage error or a malformed key; 3 a store error (the\n"
    "store could not be opened or read, or is damaged).\n"
    "\n"
    "Options:\n";

int cmd_checkpoint(int argc, char **argv)
{
    const char *given = NULL;
    cli_arg args[] = {
        {"datadir", ARG_PATH, &given, .metavar = "D", .help = "default ~/.chainwatch"},
        {0},
    };
    int help_rc;
    if (cli_args_help(argc, argv, false, checkpoint_usage, args, &help_rc))
        return help_rc;
    int n_pos;
    if (cli_args_parse("checkpoint", args, argc, argv, NULL, 0, &n_pos))
        return CLI_EXIT_USAGE;
    char buf[4096];
    const char *datadir;
    if ((datadir = cli_datadir("checkpoint", given, buf, sizeof buf)) == NULL)
        return CLI_EXIT_USAGE;
    cw_err err = {0};
    uint8_t *sk = keys_secret_open(datadir, &err);
    if (sk == NULL)
        return cli_fail("checkpoint", &err);
    cw_store *st = NULL;
    store_txn *t = NULL;
    int rc = cli_store_read("checkpoint", datadir, &st, &t);
    alert_trail head;
    if (rc == CLI_EXIT_OK && pipeline_trail_durable(t, sk + 32, &head, &err) != CW_OK) {
        cli_fail("checkpoint", &err);
        rc = CLI_EXIT_UNCHECKED;
    }
    if (t)
        cli_store_done(st, t);
    cw_buf out = CW_BUF_INIT;
    json_t *r = NULL;
    if (rc == CLI_EXIT_OK) {
        char hash[65], pub[65], now[32];
        cw_hex_encode(head.hash, 32, hash);
        cw_hex_encode(sk + 32, 32, pub);
        time_t tt = time(NULL);
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
        bool ok = true;
        r = json_object();
        alert_put(r, "type", json_string("trail_checkpoint"), &ok);
        alert_put(r, "head_seq", json_integer((json_int_t)head.seq), &ok);
        alert_put(r, "head_hash", json_string(hash), &ok);
        alert_put(r, "time", json_string(now), &ok);
        alert_put(r, "pubkey", json_string(pub), &ok);
        if (!ok)
            cw_err_set(&err, CW_ENOMEM, CW_NO_OFFSET, "out of memory building the checkpoint");
        if (!ok || alert_sign(r, sk, &out, &err) != CW_OK || cw_buf_append(&out, "\n", 1, &err) != CW_OK)
            rc = cli_fail("checkpoint", &err);
        else if (fwrite(out.p, 1, out.n, stdout) != out.n || fflush(stdout) != 0)
            rc = CLI_EXIT_FAIL;
    }
    json_decref(r);
    cw_buf_free(&out);
    keys_secret_free(sk);
    return rc;
}
