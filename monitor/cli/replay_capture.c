/*
 * `chainwatch replay --capture FILE`: a capture recorded by `chainwatch
 * watch --record` (capture.h) run through the live monitor's code.
 *
 * Design note. The recorded messages go through feed_checker_take (the
 * frame, topic and counter checks the live feed uses,
 * monitor/sources/feed_check.c) and feed_dispatch (the calls watch makes
 * into the pipeline), with the pipeline configured as the
 * recorder was (network and subscribed topics come from the capture's
 * header), so the alert records equal the live run's in every field but
 * `seen_at` and `sig`. Only what happened outside the feed differs: watch
 * asks the node's REST interface to catch up when it starts, which a replay
 * cannot repeat (the node has moved on), so --rest here serves only what
 * the capture itself asks for (gaps, unknown parents, reorgs).
 *
 * A capture cut short (a recorder that crashed mid-write) is replayed up to
 * its last whole record, then reported with the byte offset, exit status 2.
 * So is one with bad frames or messages the pipeline refused (a damaged
 * block, and the blocks after it whose parent it was): every usable message
 * is still replayed, as watch would, but the exit status says the screen
 * is incomplete (1 instead when a refusal was the disk's or memory's; a
 * store error stops the replay, exit 3, and no later failure lowers that).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "monitor/sources/capture.h"
#include "account_run.h"
#include "cli.h"
#include "stop.h"
#include "args_flows.h"
#include "args_rules.h"
#include "monitor/sources/feed_dispatch.h"
#include "monitor/records/keys.h"
#include "monitor/engine/pipeline.h"
#include "monitor/sources/rest.h"
#include "monitor/records/sink.h"
#include "watchlists/store/store.h"

static const char usage[] =
    "usage: chainwatch replay --capture FILE [--datadir D] [--network N] [--alerts FILE|-]\n"
    "                         [--pub EP] [--rest URL] [--start-height H]\n"
    "                         [--log-level error|warn|info]\n"
    "\n"
    "Replays a capture written by 'chainwatch watch --record FILE': every recorded\n"
    "message, in the order the monitor handled it, goes through the same feed checks\n"
    "(frames, topics, counter gaps and node restarts) and the same pipeline as\n"
    "'watch', so the alert records are the live run's (all fields but seen_at and\n"
    "sig). The network and the subscribed topics come from the capture; --network,\n"
    "if given, must agree. --rest (the node's REST interface) lets it fetch blocks\n"
    "the capture lacks (after a gap) and follow reorgs; unlike watch it does not\n"
    "catch up with the node first. --start-height is watch's (an empty datadir's\n"
    "first block when the node is asked). Bad messages are reported with their byte\n"
    "offset and skipped, as watch skips them. --pub also publishes each record on\n"
    "a ZeroMQ PUB socket (topic alert), as watch --pub does. The clustering and\n"
    "exposure options below are watch's: pass the ones the recording ran with.\n"
    "A Tron capture (watch --chain tron --record) runs through the Tron follower\n"
    "and the account engine, every HTTP call answered from the capture (no\n"
    "network), with the settings watch ran with (its settings record: start\n"
    "height, confirmations, max reorg, tokens, exposure): no option is needed.\n"
    "Refused before anything is replayed (exit 2, naming the setting, the\n"
    "recorded and the given value): an option that contradicts the recording\n"
    "(--start-height, --confirmations, --finalized, --max-reorg, --hops,\n"
    "--min-exposure, --hold-exposure, --clusters off),\n"
    "pattern rules options or --labels other than watch's (give the same files),\n"
    "a datadir whose Tron chain is not where the recording began (a new one when\n"
    "it began on one; one past it is refused), a cut or damaged settings record\n"
    "(its byte offset). A capture from before settings were recorded replays\n"
    "with the options given (--start-height as watch had it), after a warning.\n"
    "An Ethereum capture (watch --chain ethereum --record) answers the\n"
    "follower's every JSON-RPC request from its recorded exchanges, in order,\n"
    "with the settings watch ran with; it is read through first and refused\n"
    "(exit 2) when cut or damaged, or given a --confirmations, --finalized or\n"
    "--max-reorg that contradicts the recording's.\n"
    "\n"
    "Shows progress on a terminal and prints a summary (frames, txs, blocks,\n"
    "alerts, elapsed). Defaults: --datadir ~/.chainwatch, --alerts\n"
    "<datadir>/alerts.jsonl, --log-level warn. Exit status: 0 replayed, every\n"
    "message used; 2 a usage error, or a capture that is not one, is cut short or\n"
    "damaged (the records before the damage are replayed; the message names the\n"
    "byte offset), or holds bad frames or messages the pipeline refused (every\n"
    "other message is replayed; the summary counts them); 1 a failure of the\n"
    "alerts file or an interruption (SIGINT/SIGTERM); 3 a store error (the store\n"
    "could not be opened, read or written, or is damaged).\n";

/* What the log lines and the progress line share: a log line must not
 * land in the middle of the progress line. */
typedef struct {
    int level;              /* the highest feed_log_level printed */
    bool tty;
    bool progress_shown;    /* a progress line without a newline is on the terminal */
    const capture_reader *reader;
} replay_view;

static void end_progress_line(replay_view *v)
{
    if (v->progress_shown) {
        fputc('\n', stderr);
        v->progress_shown = false;
    }
}

static void log_event(void *ctx, feed_log_level level, const char *line)
{
    replay_view *v = ctx;
    if ((int)level > v->level)
        return;
    end_progress_line(v);
    fprintf(stderr, "chainwatch: replay: byte %llu: %s%s\n", (unsigned long long)capture_reader_offset(v->reader),
            level == FEED_LOG_ERROR ? "error: " : "", line);
}

static void topic_list(unsigned topics, char *out, size_t cap)
{
    out[0] = '\0';
    for (int t = 0; t < FEED_TOPIC_COUNT; t++)
        if (topics & (1u << t))
            snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? "," : "", feed_topic_name((feed_topic)t));
}

bool replay_capture_hook(int argc, char **argv, int *exit_code)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--capture") == 0 || strncmp(argv[i], "--capture=", 10) == 0) {
            *exit_code = cmd_replay_capture(argc, argv);
            return true;
        }
    }
    return false;
}

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};

int cmd_replay_capture(int argc, char **argv)
{
    const char *path = NULL, *datadir = NULL, *alerts = NULL, *netname = NULL, *rest_url = NULL, *pub = NULL;
    int64_t start_height = -1, confirmations = 1, max_reorg = 0;
    bool finalized = false;
    int level = FEED_LOG_WARN;
    flows_opts fo;
    flows_opts_init(&fo);
    rules_opts ro;
    rules_opts_init(&ro);
    cli_arg args[] = {
        {"capture", ARG_PATH, &path, .metavar = "FILE", .help = "a capture written by watch --record"},
        {"datadir", ARG_PATH, &datadir, .metavar = "D", .help = "default ~/.chainwatch"},
        {"network", ARG_STRING, &netname, .metavar = "N", .help = "must agree with the capture's, if given"},
        {"alerts", ARG_PATH, &alerts, .metavar = "FILE|-", .help = "default <datadir>/alerts.jsonl; '-' is stdout"},
        {"pub", ARG_STRING, &pub, .metavar = "EP", .help = "also publish each record (ZeroMQ PUB, topic alert)"},
        {"rest", ARG_STRING, &rest_url, .metavar = "URL", .help = "the node's REST interface, for missing blocks"},
        {"start-height", ARG_INT, &start_height, 0, INT32_MAX, .metavar = "H",
         .help = "an empty datadir's first block when the node is asked\n(a Tron capture: its own; if given, it must agree)"},
        {"log-level", ARG_ENUM, &level, .choices = log_levels, .metavar = "LEVEL",
         .help = "error, warn (default), info or debug"},
        {"confirmations", ARG_INT, &confirmations, 1, 10000, .metavar = "N",
         .help = "a Tron or Ethereum capture: its own; if given, it must agree"},
        {"finalized", ARG_FLAG, &finalized, .help = "the same (a Tron capture's default)"},
        {"max-reorg", ARG_INT, &max_reorg, 1, 100000, .metavar = "N", .help = "the same"},
        {.kind = ARG_MORE, .dest = fo.args, .help = "Clusters and exposure (on by default), as watch takes them:"},
        {.kind = ARG_MORE, .dest = ro.args, .help = "Pattern rules (on by default; docs/rules.md), as watch takes them:"},
        {0},
    };
    if (cli_wants_help(argc, argv)) {
        printf("%s\nOptions:\n", usage);
        cli_args_usage(stdout, args);
        return CLI_EXIT_OK;
    }
    capture_reader *reader = NULL;
    int rc = CLI_EXIT_USAGE; /* until the options and the capture are good */
    int n_pos;
    if (cli_args_parse("replay", args, argc, argv, NULL, 0, &n_pos))
        goto early_out;
    replay_view view = {level, isatty(2) == 1, false, NULL};
    char dd[4096];
    if (datadir == NULL) {
        if (!store_default_datadir(dd, sizeof dd)) {
            fprintf(stderr, "chainwatch: replay: HOME is not set: pass --datadir\n");
            goto early_out;
        }
        datadir = dd;
    }
    cw_err err = {0};
    capture_info info;
    if (capture_reader_open(path, &reader, &info, &err)) {
        rc = cli_fail("replay", &err);
        goto early_out;
    }
    view.reader = reader;
    bool depth_given = cli_args_given(args, "confirmations") || finalized || cli_args_given(args, "max-reorg");
    if (depth_given && info.chain != CAPTURE_CHAIN_TRON && info.chain != CAPTURE_CHAIN_ETHEREUM) {
        fprintf(stderr, "chainwatch: replay: --confirmations, --finalized and --max-reorg are for a tron or ethereum "
                        "capture: %s is bitcoin's\n", path);
        goto early_out;
    }
    if (finalized && cli_args_given(args, "confirmations")) {
        fprintf(stderr, "chainwatch: replay: --finalized and --confirmations: give one of them\n");
        goto early_out;
    }
    /* account_run.c: a Tron capture feeds tron_follow, an Ethereum one
     * answers the follower's JSON-RPC; the account engine either way */
    if (info.chain == CAPTURE_CHAIN_TRON || info.chain == CAPTURE_CHAIN_ETHEREUM) {
        bool tron = info.chain == CAPTURE_CHAIN_TRON;
        if (netname && strcmp(netname, info.network) != 0) {
            fprintf(stderr, "chainwatch: replay: %s was recorded on %s %s, not %s\n", path, tron ? "tron" : "ethereum",
                    info.network, netname);
            goto early_out;
        }
        if (tron && rest_url) {
            fprintf(stderr, "chainwatch: replay: --rest is Bitcoin's: a Tron capture holds its HTTP replies\n");
            goto early_out;
        }
        if (!tron && (rest_url || start_height >= 0)) {
            fprintf(stderr, "chainwatch: replay: --%s is not for an ethereum capture: it holds the node's answers and "
                            "the options watch ran with\n", rest_url ? "rest" : "start-height");
            goto early_out;
        }
        capture_reader_close(reader);
        reader = NULL;
        if ((rc = rules_opts_load_account("replay", &ro, &fo)))
            goto early_out;
        const flows_config *fc = flows_opts_config(&fo);
        /* finalized for Tron as watch --chain tron (solidified blocks are
         * confirmed); an ethereum capture's start is -1 (refused above) */
        account_run_opts ao = {datadir, alerts, pub, NULL, NULL, 0, 1, tron, 0, start_height, 0, -1, -1, 1,
                               fc ? fc->hops : 0, fc ? fc->labels : NULL, fc ? fc->min_share_ppm : 0,
                               fc ? fc->hold_share_ppm : 0, tron, NULL, NULL, NULL, path, rules_opts_config(&ro), 0, NULL, 0, 0, NULL};
        /* an option not given takes the capture's settings record's value */
        bool clusters_off = fc == NULL && cli_args_given(fo.args, "clusters");
        ao.given = (start_height >= 0 ? ACCOUNT_GIVEN_START : 0) |
                   (clusters_off || cli_args_given(fo.args, "hops") ? ACCOUNT_GIVEN_HOPS : 0) |
                   (clusters_off || cli_args_given(fo.args, "min-exposure") ? ACCOUNT_GIVEN_MIN_SHARE : 0) |
                   (clusters_off || cli_args_given(fo.args, "hold-exposure") ? ACCOUNT_GIVEN_HOLD_SHARE : 0) |
                   (cli_args_given(args, "confirmations") ? ACCOUNT_GIVEN_CONFIRMATIONS : 0) |
                   (finalized ? ACCOUNT_GIVEN_FINALIZED : 0) |
                   (cli_args_given(args, "max-reorg") ? ACCOUNT_GIVEN_MAX_REORG : 0);
        /* checked against the settings record, which they then come from; a
         * Tron capture without one (an older watch's) runs with them */
        ao.confirmations = confirmations;
        ao.finalized = finalized || (tron && !cli_args_given(args, "confirmations"));
        ao.max_reorg = max_reorg;
        rc = tron ? account_run_replay_tron_capture(&ao) : account_run_replay_eth_capture(&ao);
        goto early_out;
    }
    cw_net net = info.net;
    if (netname) {
        cw_net asked;
        if (!cw_net_from_name(netname, &asked)) {
            fprintf(stderr, "chainwatch: replay: unknown network '%s'\n", netname);
            goto early_out;
        }
        if (asked != net) {
            fprintf(stderr, "chainwatch: replay: %s was recorded on %s, not %s\n", path, cw_net_name(net),
                    cw_net_name(asked));
            goto early_out;
        }
    }

    uint8_t *sk = NULL; /* keys_secret_free at out */
    cw_store *store = NULL;
    rest_client *rest = NULL;
    alert_sink sink = {.fd = -1};
    pipeline *p = NULL;
    rc = CLI_EXIT_FAIL;
    if ((sk = keys_secret_open(datadir, &err)) == NULL) {
        fprintf(stderr, "chainwatch: replay: %s (run 'chainwatch init --datadir %s' first)\n", err.msg, datadir);
        goto out;
    }
    char alerts_default[4200];
    snprintf(alerts_default, sizeof alerts_default, "%s/alerts.jsonl", datadir);
    if (store_open(datadir, 0, false, &store, &err) ||
        alert_sink_open(&sink, alerts ? alerts : alerts_default, &err) ||
        (pub && alert_sink_bind_pub(&sink, pub, &err)) ||
        (rest_url && rest_open(rest_url, &rest, &err)) || flows_opts_load(&fo, net, &err)) {
        rc = cli_fail("replay", &err);
        goto out;
    }
    if (rules_opts_load(&ro, fo.labels, fo.cfg.enabled, &err)) {
        rc = err.code == CW_EARG || err.code == CW_EFORMAT ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
        fprintf(stderr, "chainwatch: replay: %s\n", err.msg);
        goto out;
    }
    char flows_line[512];
    flows_opts_describe(&fo, flows_line, sizeof flows_line);
    fprintf(stderr, "chainwatch: replay: %s\n", flows_line);
    /* configured as the recorder was: the sequence topic changes when a
     * mempool record is raised (pipeline_config.sequence_feed) */
    pipeline_config pc = {.store = store,
                          .net = net,
                          .sk = sk,
                          .sink = alert_sink_line,
                          .durable = alert_sink_durable,
                          .sink_ctx = &sink,
                          .rest = rest,
                          .start_height = start_height,
                          .stop = cli_stop_flag(),
                          .sequence_feed = (info.topics & (1u << FEED_SEQUENCE)) != 0,
                          .flows = flows_opts_config(&fo),
                          .rules = rules_opts_config(&ro)};
    if (pipeline_open(&pc, &p, &err)) {
        rc = cli_fail("replay", &err);
        goto out;
    }
    cli_stop_install();

    /* the start watch makes, minus catching up with the node (see above) */
    feed_checker check = {0};
    uint32_t saved[FEED_TOPIC_COUNT];
    unsigned found;
    if (feed_saved_counters(p, info.topics, saved, &found, &err)) {
        rc = cli_fail("replay", &err);
        goto out;
    }
    for (int t = 0; t < FEED_TOPIC_COUNT; t++)
        if (found & (1u << t))
            feed_checker_set_last(&check, (feed_topic)t, saved[t]);
    alert_sink_load_tail(&sink);
    if (pipeline_flush(p, &err))
        fprintf(stderr, "chainwatch: replay: flushing records left from the last run: %s\n", err.msg);
    else
        alert_sink_drop_tail(&sink);

    char topics[64];
    topic_list(info.topics, topics, sizeof topics);
    double t0 = cli_seconds(), last_progress = 0;
    uint64_t messages = 0, failures = 0, failed_blocks = 0;
    bool failed_hard = false; /* a refusal that is no fault of the capture (store, I/O, memory) */
    cw_err read_err = {0}, store_err = {0};
    bool read_failed = false;
    cw_code store_failed = CW_OK; /* a store error stops the replay: nothing after it would be screened */
    for (;;) {
        feed_event ev;
        /* a MSG held behind a GAP still points into the reader's buffer:
         * handle it before reading on */
        if (!feed_checker_pending(&check, &ev)) {
            if (cli_stop_requested())
                break;
            feed_message m;
            bool got = false;
            if (capture_read(reader, &m, &got, &read_err)) {
                read_failed = true;
                break;
            }
            if (!got)
                break;
            messages++;
            feed_checker_take(&check, &m, info.topics, "the recorder", &ev);
        }
        cw_code drc = feed_dispatch(p, &ev, log_event, &view, &store_err);
        if (drc) {
            failures++;
            failed_blocks += ev.kind == FEED_EV_MSG && ev.topic == FEED_RAWBLOCK;
            failed_hard |= drc == CW_EIO || drc == CW_ENOMEM || drc == CW_ESTORE || drc == CW_EFULL ||
                           drc == CW_EDAMAGED;
        }
        if (store_error_stops(drc)) {
            store_failed = drc;
            break;
        }
        double now = cli_seconds();
        if (view.tty && now - last_progress > 0.5) {
            pipeline_stats st;
            pipeline_stats_get(p, &st);
            uint64_t size = capture_reader_size(reader), pos = capture_reader_pos(reader);
            fprintf(stderr, "\r  %.0f%%  %llu frames  %llu txs  %llu blocks  %llu alerts  %.0f frames/s ",
                    size ? 100.0 * (double)pos / (double)size : 100.0, (unsigned long long)messages,
                    (unsigned long long)st.txs, (unsigned long long)st.blocks_connected,
                    (unsigned long long)st.alerts, (double)messages / (now - t0 + 1e-9));
            view.progress_shown = true;
            last_progress = now;
        }
    }
    end_progress_line(&view);
    rc = CLI_EXIT_OK;
    if (store_failed) {
        fprintf(stderr, "chainwatch: replay: stopped at message %llu: the store failed (%s); nothing of that message "
                        "was recorded\n", (unsigned long long)messages, store_err.msg);
        rc = cli_exit_status(store_failed); /* 3: a store error */
    }
    if (pipeline_flush(p, &err)) {
        fprintf(stderr, "chainwatch: replay: final flush: %s (the records stay in the outbox for the next run)\n",
                err.msg);
        if (rc != CLI_EXIT_UNCHECKED) /* the alerts file's failure is 1; the store's 3, and it stays 3 */
            rc = cli_exit_status(err.code) == CLI_EXIT_UNCHECKED ? CLI_EXIT_UNCHECKED : CLI_EXIT_FAIL;
    }
    /* after a store failure the counters would count the failed message as handled */
    if (!store_failed && pipeline_save_counters(p, &err)) {
        fprintf(stderr, "chainwatch: replay: saving the feed counters: %s\n", err.msg);
        if (rc != CLI_EXIT_UNCHECKED)
            rc = cli_exit_status(err.code) == CLI_EXIT_UNCHECKED ? CLI_EXIT_UNCHECKED : CLI_EXIT_FAIL;
    }
    if (read_failed) {
        /* everything before the damage was replayed; say where it stopped */
        int why = cli_fail("replay", &read_err);
        if (rc == CLI_EXIT_OK)
            rc = why;
    }
    if (rc == CLI_EXIT_OK && (failures || check.st.bad)) {
        /* everything usable was replayed, but a screen that skipped
         * messages must not look like a clean run */
        fprintf(stderr,
                "chainwatch: replay: %s: %llu messages refused (%llu of %llu blocks), %llu bad frames skipped\n", path,
                (unsigned long long)failures, (unsigned long long)failed_blocks,
                (unsigned long long)check.st.msgs[FEED_RAWBLOCK], (unsigned long long)check.st.bad);
        rc = failed_hard ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    if (cli_stop_requested() && rc == CLI_EXIT_OK) {
        fprintf(stderr, "chainwatch: replay: interrupted at byte %llu\n",
                (unsigned long long)capture_reader_pos(reader));
        rc = CLI_EXIT_FAIL;
    }
    pipeline_stats st;
    pipeline_stats_get(p, &st);
    uint64_t gaps = 0;
    for (int t = 0; t < FEED_TOPIC_COUNT; t++)
        gaps += check.st.gaps[t];
    double el = cli_seconds() - t0;
    printf("replayed capture %s (%s; %s) into %s\n", path, cw_net_name(net), topics, datadir);
    printf("  frames      %llu messages: %llu rawtx, %llu rawblock, %llu sequence, %llu bad (skipped)%s\n",
           (unsigned long long)messages, (unsigned long long)check.st.msgs[FEED_RAWTX],
           (unsigned long long)check.st.msgs[FEED_RAWBLOCK], (unsigned long long)check.st.msgs[FEED_SEQUENCE],
           (unsigned long long)check.st.bad, read_failed ? "; the capture is damaged after them" : "");
    printf("  gaps        %llu (counter breaks and node restarts, recorded as feed_gap)\n", (unsigned long long)gaps);
    printf("  txs         %llu (%.0f tx/s)\n", (unsigned long long)st.txs, (double)st.txs / (el + 1e-9));
    printf("  blocks      %llu connected, %llu disconnected\n", (unsigned long long)st.blocks_connected,
           (unsigned long long)st.blocks_disconnected);
    printf("  alerts      %llu records\n", (unsigned long long)st.alerts);
    if (failures)
        printf("  refused     %llu messages the pipeline could not use, %llu of them blocks (see the lines above)\n",
               (unsigned long long)failures, (unsigned long long)failed_blocks);
    printf("  elapsed     %.2f s\n", el);
out:
    pipeline_close(p);
    keys_secret_free(sk);
    rest_close(rest);
    alert_sink_close(&sink);
    store_close(store);
early_out: /* before the store was opened; rc says why */
    capture_reader_close(reader);
    flows_opts_free(&fo);
    rules_opts_free(&ro);
    return rc;
}
