/* chainwatch: the executable. Dispatches verbs; each lives in its own file. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "monitor/cli/cli.h"

static const char usage[] =
    "usage: chainwatch <verb> [options]   (chainwatch <verb> --help for details)\n"
    "\n"
    "  decode tx|block   decode Bitcoin transactions and blocks to JSON lines\n"
    "  address ADDR      parse and check an address\n"
    "  watchlist ...     import designation lists; stats, lookup, diff, export, check\n"
    "  init              create the datadir, its store and the alert signing key\n"
    "  watch             the monitor: Bitcoin Core ZeroMQ feeds to signed alerts\n"
    "  verify FILE       check the signatures and the audit trail of an alert file\n"
    "  checkpoint        a signed statement of the audit trail's head, for verify --checkpoint\n"
    "  replay            a node's blocks/ dir, or a capture from watch --record, through the\n"
    "                    same pipeline\n"
    "  screen ADDR|RAWTX allow, review, hold or block before a deposit or withdrawal\n"
    "                    (exit 0, 10, 11, 12)\n"
    "  cluster ADDR      the wallet (common-input cluster) an address belongs to\n"
    "  trace ADDR        how designated money reached an address (JSON, Graphviz)\n"
    "  serve             the HTTP API: screening (Chainalysis-compatible), alerts,\n"
    "                    metrics, health\n"
    "  apikey ...        add, list or remove the API's keys\n"
    "  version           print the version\n";

/* Damage found where no error can be returned (store.h) ends here: one
 * line and exit 3, "could not check", never an abort that a script might
 * take for something else. */
static void store_fatal(const char *msg)
{
    fflush(stdout);
    fprintf(stderr, "chainwatch: %s\n", msg);
    _exit(CLI_EXIT_UNCHECKED);
}

/* The store (store.mdb and its lock file) is the one mapped file: a SIGBUS
 * is a page the file cannot give (a full disk, a file cut under a running
 * process, a failing disk). Only async-signal-safe calls here. */
static void on_sigbus(int sig)
{
    (void)sig;
    static const char msg[] = "chainwatch: the store's mapped files could not be read or written (SIGBUS): the disk "
                              "is full, or store.mdb was cut while in use, or its disk failed; free space and run "
                              "again, or if the disk has room: " STORE_DAMAGED_HINT "\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(CLI_EXIT_UNCHECKED);
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "decode") == 0)
        return cmd_decode(argc - 1, argv + 1);
    if (strcmp(verb, "address") == 0)
        return cmd_address(argc - 1, argv + 1);
    if (strcmp(verb, "watchlist") == 0)
        return cmd_watchlist(argc - 1, argv + 1);
    if (strcmp(verb, "init") == 0)
        return cmd_init(argc - 1, argv + 1);
    if (strcmp(verb, "verify") == 0)
        return cmd_verify(argc - 1, argv + 1);
    if (strcmp(verb, "checkpoint") == 0)
        return cmd_checkpoint(argc - 1, argv + 1);
    if (strcmp(verb, "watch") == 0)
        return cmd_watch(argc - 1, argv + 1);
    if (strcmp(verb, "replay") == 0)
        return cmd_replay(argc - 1, argv + 1);
    if (strcmp(verb, "screen") == 0)
        return cmd_screen(argc - 1, argv + 1);
    if (strcmp(verb, "cluster") == 0)
        return cmd_cluster(argc - 1, argv + 1);
    if (strcmp(verb, "trace") == 0)
        return cmd_trace(argc - 1, argv + 1);
    if (strcmp(verb, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(verb, "apikey") == 0)
        return cmd_apikey(argc - 1, argv + 1);
    if (strcmp(verb, "version") == 0 || strcmp(verb, "--version") == 0) {
        printf("chainwatch %s\n", CW_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(verb, "help") == 0 || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    fprintf(stderr, "chainwatch: unknown verb '%s'\n%s", verb, usage);
    return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    store_set_fatal(store_fatal);
    struct sigaction sa = {0};
    sa.sa_handler = on_sigbus;
    sigaction(SIGBUS, &sa, NULL);
    int rc = dispatch(argc, argv);
    /* every verb's output is checked here, after it: a cut output never exits 0 */
    char verb[64] = "output";
    if (argc >= 2)
        snprintf(verb, sizeof verb, "%s%s%s", argv[1], argc >= 3 && strcmp(argv[1], "watchlist") == 0 ? " " : "",
                 argc >= 3 && strcmp(argv[1], "watchlist") == 0 ? argv[2] : "");
    return cli_finish_output(verb, rc);
}
