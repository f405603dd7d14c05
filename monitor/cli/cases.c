/*
 * `chainwatch cases list|show|release|block|note|report|webhooks|deliver`:
 * the hold queue (monitor/engine/cases.h) from the command line, the same
 * functions the API's routes call. The reading forms open the store read
 * only, beside a running watch; release, block and note write one
 * transaction each (LMDB serialises them with watch's writes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "monitor/engine/cases.h"
#include "monitor/records/alert.h"
#include "monitor/records/keys.h"
#include "monitor/records/webhook.h"
#include "stop.h"

static const char cases_usage[] =
    "usage: chainwatch cases list [--status S] [--cursor ID] [--limit N]\n"
    "       chainwatch cases show ID\n"
    "       chainwatch cases release|block|note ID --actor NAME --reason TEXT\n"
    "       chainwatch cases report ID [--html]\n"
    "       chainwatch cases webhooks\n"
    "       chainwatch cases deliver URL... [--until-idle] [--max-tries N] [--retry-base-ms MS]\n"
    "                                       [--store-tries N]\n"
    "\n"
    "The hold queue. Every alert record whose decision is hold opens a case, keyed\n"
    "by the alert id, in the transaction that stores the record. A reviewer\n"
    "releases or blocks it (open -> released | blocked) or adds notes; each step is\n"
    "a signed audit entry chained to the one before it and to the hold record.\n"
    "\n"
    "  list      a page of cases as one JSON object {\"cases\":[...],\"next_cursor\":ID|null}\n"
    "  show      the case, its hold record, its audit trail and whether the trail\n"
    "            verifies (\"trail\":{\"ok\":...}) against signing.pub\n"
    "  release   the payment may go out; block: it must not (both need an open\n"
    "  block     case); note: a remark on any case. Prints the new audit entry.\n"
    "  note\n"
    "  report    the blocking report draft of a blocked case (31 CFR 501.603):\n"
    "            JSON, or a printable HTML page with --html\n"
    "  webhooks  each webhook endpoint's cursor and its dead letters (JSON lines)\n"
    "  deliver   posts the webhook outbox to the URLs given, in order per URL,\n"
    "            signed (X-Chainwatch-Signature), retried with exponential backoff;\n"
    "            runs until SIGINT/SIGTERM, or with --until-idle until nothing is\n"
    "            owed. One deliverer per datadir (webhooks.lock). A store error\n"
    "            that can pass (a resource short now: LMDB's reader slots, a\n"
    "            full disk or quota, memory) is retried after 0.2 s, doubled up\n"
    "            to every 10 s; one that recurs identically on every pass (a\n"
    "            value too large, a permission, a read-only filesystem, a\n"
    "            damaged store, a map still full after it grew) ends it at\n"
    "            once, exit 3, as does one that lasts --store-tries passes with\n"
    "            --until-idle (exit 1 when it was out of memory); the events\n"
    "            stay owed. Store errors are logged at most one line a minute\n"
    "            while they come and go: \"is failing\" when a run of them\n"
    "            starts, \"resumed\" when that run ends, and the runs between\n"
    "            counted (runs, failed passes, the last error) into one \"came\n"
    "            and went\" line once the minute is over or at the stop, or\n"
    "            into the next \"is failing\" line; the stop line counts every\n"
    "            failed pass. SIGINT/SIGTERM end it between two tries, a wait\n"
    "            included (a request in flight: its --timeout-ms).\n"
    "\n"
    "Exit status: 0 done; 1 a failure that is not the store's (signing.key or\n"
    "signing.pub unreadable, standard output), or show: the trail does not verify,\n"
    "or deliver --until-idle stopped by SIGINT/SIGTERM with events owed;\n"
    "2 bad input or no such case, or deliver: another deliverer holds\n"
    "webhooks.lock; 3 a store error (the store could not be opened, read or\n"
    "written, or is damaged; deliver: webhooks.lock cannot be opened, as in a\n"
    "read-only datadir);\n"
    "5 release or block refused in the case's state (already released or blocked),\n"
    "or report of a case that is not blocked.\n"
    "\n"
    "Options:\n";

enum { CLI_EXIT_CONFLICT = 5 };

typedef struct {
    const char *datadir, *status, *after, *actor, *reason;
    int64_t limit, max_tries, base_ms, max_ms, timeout_ms, store_tries;
    bool html, until_idle;
} cases_opts;

static int usage_error(const char *fmt, const char *a)
{
    fprintf(stderr, "chainwatch: cases: ");
    fprintf(stderr, fmt, a);
    fputs(" (see chainwatch cases --help)\n", stderr);
    return CLI_EXIT_USAGE;
}

/* CW_ENOTFOUND (no such case) and CW_EARG (a bad id) are the user's input. */
static int read_fail(const char *verb, const cw_err *err)
{
    if (err->code == CW_ENOTFOUND || err->code == CW_EARG) {
        fprintf(stderr, "chainwatch: %s: %s\n", verb, err->msg);
        return CLI_EXIT_USAGE;
    }
    return cli_unchecked(verb, err);
}

static int do_list(const cases_opts *o, const char *datadir)
{
    cw_store *s;
    store_txn *t;
    int rc = cli_store_read("cases list", datadir, &s, &t);
    if (rc)
        return rc;
    cw_err err = {0};
    json_t *page = NULL;
    if (cases_list(t, o->status, o->after, (size_t)o->limit, &page, &err))
        rc = read_fail("cases list", &err);
    else
        rc = cli_print_json("cases list", page);
    json_decref(page);
    cli_store_done(s, t);
    return rc;
}

static int do_show(const char *id, const char *datadir)
{
    cw_err err = {0};
    uint8_t pk[32];
    if (keys_load_public(datadir, pk, &err)) /* signing.pub: the verb's own file, not the store (1; 2 malformed) */
        return cli_fail("cases show", &err);
    cw_store *s;
    store_txn *t;
    int rc = cli_store_read("cases show", datadir, &s, &t);
    if (rc)
        return rc;
    json_t *c = NULL;
    if (cases_show(t, pk, id, &c, &err))
        rc = read_fail("cases show", &err);
    else {
        rc = cli_print_json("cases show", c);
        if (rc == CLI_EXIT_OK && !json_is_true(json_object_get(json_object_get(c, "trail"), "ok"))) {
            fprintf(stderr, "chainwatch: cases show: the audit trail of %s does not verify: %s\n", id,
                    json_string_value(json_object_get(json_object_get(c, "trail"), "error")));
            rc = CLI_EXIT_FAIL;
        }
    }
    json_decref(c);
    cli_store_done(s, t);
    return rc;
}

static int do_report(const char *id, bool html, const char *datadir)
{
    cw_err err = {0};
    uint8_t pk[32];
    if (keys_load_public(datadir, pk, &err)) /* signing.pub: the verb's own file, not the store (1; 2 malformed) */
        return cli_fail("cases report", &err);
    cw_store *s;
    store_txn *t;
    int rc = cli_store_read("cases report", datadir, &s, &t);
    if (rc)
        return rc;
    json_t *r = NULL;
    bool conflict = false;
    if (cases_report(t, pk, id, &conflict, &r, &err)) {
        if (conflict) {
            fprintf(stderr, "chainwatch: cases report: %s\n", err.msg);
            rc = CLI_EXIT_CONFLICT;
        } else
            rc = read_fail("cases report", &err);
    } else if (html) {
        cw_buf b = CW_BUF_INIT;
        rc = cases_report_html(r, &b, &err) ? cli_unchecked("cases report", &err) : cli_write_buf("cases report", &b);
        cw_buf_free(&b);
    } else
        rc = cli_print_json("cases report", r);
    json_decref(r);
    cli_store_done(s, t);
    return rc;
}

typedef struct {
    const uint8_t *sk;
    const char *id, *actor, *reason;
    case_action a;
    bool conflict;
    json_t *entry;
} act_ctx;

static cw_code act_fn(store_txn *t, void *arg, cw_err *err)
{
    act_ctx *c = arg;
    json_decref(c->entry); /* a full map's retry: start over */
    c->entry = NULL;
    return cases_act(t, c->sk, c->id, c->a, c->actor, c->reason, &c->conflict, &c->entry, err);
}

static int do_act(case_action a, const char *id, const cases_opts *o, const char *datadir)
{
    const char *verb = a == CASE_RELEASE ? "cases release" : a == CASE_BLOCK ? "cases block" : "cases note";
    if (o->actor == NULL || o->reason == NULL) {
        fprintf(stderr, "chainwatch: %s: --actor and --reason are required (who decided, and why)\n", verb);
        return CLI_EXIT_USAGE;
    }
    cw_err err = {0};
    uint8_t *sk = keys_secret_open(datadir, &err);
    if (sk == NULL)
        return cli_fail(verb, &err);
    cw_store *s = NULL;
    int rc = CLI_EXIT_OK;
    act_ctx c = {sk, id, o->actor, o->reason, a, false, NULL};
    if (store_open(datadir, 0, false, &s, &err))
        rc = cli_fail(verb, &err);
    else if (store_write(s, act_fn, &c, &err)) {
        if (c.conflict) {
            fprintf(stderr, "chainwatch: %s: %s\n", verb, err.msg);
            rc = CLI_EXIT_CONFLICT;
        } else if (err.code == CW_ENOTFOUND || err.code == CW_EARG) {
            fprintf(stderr, "chainwatch: %s: %s\n", verb, err.msg);
            rc = CLI_EXIT_USAGE;
        } else
            rc = cli_fail(verb, &err);
    } else
        rc = cli_print_json(verb, c.entry);
    json_decref(c.entry);
    store_close(s);
    keys_secret_free(sk);
    return rc;
}

static int do_webhooks(const char *datadir)
{
    cw_store *s;
    store_txn *t;
    int rc = cli_store_read("cases webhooks", datadir, &s, &t);
    if (rc)
        return rc;
    cw_err err = {0};
    cw_buf b = CW_BUF_INIT;
    rc = webhook_status(t, &b, &err) ? cli_unchecked("cases webhooks", &err) : cli_write_buf("cases webhooks", &b);
    cw_buf_free(&b);
    cli_store_done(s, t);
    return rc;
}

/* Sleeps ms, in slices of at most 100 ms, until a stop request. */
static void deliver_wait(uint64_t ms)
{
    while (ms > 0 && !cli_stop_requested()) {
        uint64_t step = ms < 100 ? ms : 100;
        nanosleep(&(struct timespec){(time_t)(step / 1000), (long)(step % 1000) * 1000000L}, NULL);
        ms -= step;
    }
}

static int do_deliver(const char **urls, int n_urls, const cases_opts *o, const char *datadir)
{
    webhook_config cfg = {.max_tries = (uint32_t)o->max_tries,
                          .base_ms = (uint64_t)o->base_ms,
                          .max_ms = (uint64_t)o->max_ms,
                          .timeout_ms = (long)o->timeout_ms};
    if (n_urls == 0)
        return usage_error("deliver needs at least one URL%s", "");
    for (int i = 0; i < n_urls; i++) {
        if (!webhook_url_valid(urls[i])) {
            char q[120];
            return usage_error("'%s' is not an http:// or https:// URL (at most 400 bytes)",
                               cli_quote(urls[i], q, sizeof q));
        }
        cfg.urls[cfg.n_urls++] = urls[i];
    }
    cw_err err = {0};
    int lock;
    if (webhook_lock(datadir, &lock, &err)) /* held by another deliverer: 2, as serve/watch --webhook; else 3 */
        return cli_fail("cases deliver", &err);
    uint8_t *sk = keys_secret_open(datadir, &err);
    cw_store *s = NULL;
    int rc = CLI_EXIT_OK;
    if (sk == NULL)
        rc = cli_fail("cases deliver", &err);
    else if (store_open(datadir, 0, false, &s, &err))
        rc = cli_fail("cases deliver", &err);
    cli_stop_install();
    uint64_t total_ok = 0, total_fail = 0, total_dead = 0, total_store = 0;
    /* store errors in a row (the webhook runner's backoff, webhook.h), and
     * their log, rate-limited as the runner's (webhook_errlog) */
    uint64_t backoff = 0;
    int64_t failing = 0;
    uint64_t since = 0;
    cw_err last = {0};
    webhook_errlog log;
    webhook_errlog_init(&log, 0);
    char line[1024];
    /* --until-idle: whether it ended with nothing owed, and what the last
     * pass that worked left owed (a stop ends it before that) */
    bool idle = false, owed_known = false;
    uint64_t owed = 0;
    while (rc == CLI_EXIT_OK && !cli_stop_requested()) {
        webhook_stats st;
        uint64_t now = webhook_now_ms();
        cw_code prc = webhook_pass(s, sk, &cfg, now, cli_stop_flag(), &st, &err);
        total_ok += st.delivered;
        total_fail += st.failed;
        total_dead += st.dead;
        if (prc) {
            total_store++;
            if (err.msg[0] == '\0')
                snprintf(err.msg, sizeof err.msg, "store error %d", (int)prc);
            last = err;
            /* The deliverer of serve and watch (webhook_runner) retries
             * every store error, as its process has other work; this one
             * exists only to deliver, so an error that recurs identically
             * on every pass (webhook_error_passes: a value too large, a
             * permission, the map lost, damage, a disk's EIO, a map still
             * full after it grew) ends it with its exit status, 3 for the
             * store's, rather than a wait for ever. (No CW_EIO waits:
             * webhook_pass returns none, a receiver's failure is counted
             * and the store's I/O errors are CW_EDAMAGED.) */
            if (!webhook_error_passes(&err)) {
                rc = cli_fail("cases deliver", &err);
                fprintf(stderr, "chainwatch: cases deliver: stopping: waiting cannot cure this (%s); the events stay "
                                "in the store\n", cw_code_name(prc));
                break;
            }
            if (failing++ == 0)
                since = now;
            if (o->until_idle && failing >= o->store_tries) {
                /* --until-idle promises an empty outbox: a store error that
                 * outlasts the retries must not read as done */
                rc = cli_fail("cases deliver", &err);
                fprintf(stderr, "chainwatch: cases deliver: giving up after %lld passes in a row failed over %.1f s "
                                "(--store-tries); the events stay in the store\n",
                        (long long)failing, (double)(webhook_now_ms() - since) / 1000.0);
                break;
            }
            backoff = backoff == 0 ? WEBHOOK_STORE_RETRY_MIN_MS : backoff * 2;
            if (backoff > WEBHOOK_STORE_RETRY_MAX_MS)
                backoff = WEBHOOK_STORE_RETRY_MAX_MS;
            if (webhook_errlog_failed(&log, cfg.urls[0], now, &err, backoff, line, sizeof line))
                fprintf(stderr, "chainwatch: cases deliver: %s\n", line);
            deliver_wait(backoff);
            continue;
        }
        if (webhook_errlog_worked(&log, cfg.urls[0], webhook_now_ms(), st.pending, line, sizeof line))
            fprintf(stderr, "chainwatch: cases deliver: %s\n", line);
        failing = 0, backoff = 0;
        owed = st.pending, owed_known = true;
        if (st.delivered || st.failed || st.dead)
            fprintf(stderr, "cases deliver: %llu delivered, %llu failed, %llu dead letters, %llu owed\n",
                    (unsigned long long)st.delivered, (unsigned long long)st.failed, (unsigned long long)st.dead,
                    (unsigned long long)st.pending);
        if (o->until_idle && st.pending == 0) {
            idle = true;
            break;
        }
        /* sleep until the next retry is due, polling for new events every 200 ms */
        uint64_t t = webhook_now_ms(), wait = 200;
        if (st.next_due_ms > t && st.next_due_ms - t < wait)
            wait = st.next_due_ms - t;
        deliver_wait(wait);
    }
    if (webhook_errlog_end(&log, cfg.urls[0], webhook_now_ms(), line, sizeof line))
        fprintf(stderr, "chainwatch: cases deliver: %s\n", line);
    if (rc == CLI_EXIT_OK && failing && o->until_idle) {
        /* stopped while the store failed: the outbox was not emptied */
        fprintf(stderr, "chainwatch: cases deliver: stopped while the store failed: %s\n", last.msg);
        rc = cli_exit_status(last.code);
    } else if (rc == CLI_EXIT_OK && o->until_idle && !idle) {
        /* stopped (SIGINT/SIGTERM) with events owed: --until-idle's 0 says
         * nothing is owed, so this is not 0 */
        if (owed_known)
            fprintf(stderr, "chainwatch: cases deliver: stopped with %llu events owed (they stay in the store)\n",
                    (unsigned long long)owed);
        else
            fprintf(stderr, "chainwatch: cases deliver: stopped before a pass ended: events may be owed (they stay "
                            "in the store)\n");
        rc = CLI_EXIT_FAIL;
    }
    fprintf(stderr, "cases deliver: stopped: %llu delivered, %llu failed tries, %llu dead letters, %llu passes failed "
                    "on the store\n",
            (unsigned long long)total_ok, (unsigned long long)total_fail, (unsigned long long)total_dead,
            (unsigned long long)total_store);
    store_close(s);
    keys_secret_free(sk);
    close(lock);
    return rc;
}

int cmd_cases(int argc, char **argv)
{
    cases_opts o = {.limit = 100, .max_tries = 8, .base_ms = 1000, .max_ms = 600000, .timeout_ms = 5000,
                    .store_tries = 6};
    cli_arg args[] = {
        {"datadir", ARG_PATH, &o.datadir, .metavar = "D", .help = "default ~/.chainwatch"},
        {"status", ARG_STRING, &o.status, .metavar = "S", .help = "list: open, released or blocked (default all)"},
        {"cursor", ARG_STRING, &o.after, .metavar = "ID", .help = "list: the next page (the last page's next_cursor)"},
        {"limit", ARG_INT, &o.limit, 1, CASES_PAGE_MAX, .metavar = "N", .help = "list: cases per page (default 100)"},
        {"actor", ARG_STRING, &o.actor, .metavar = "NAME", .help = "release, block, note: who decides"},
        {"reason", ARG_STRING, &o.reason, .metavar = "TEXT", .help = "release, block, note: why (required)"},
        {"html", ARG_FLAG, &o.html, .help = "report: a printable HTML page instead of JSON"},
        {"until-idle", ARG_FLAG, &o.until_idle, .help = "deliver: stop once every event reached every URL"},
        {"max-tries", ARG_INT, &o.max_tries, 1, 1000, .metavar = "N",
         .help = "deliver: failed tries before an event becomes a dead letter (default 8)"},
        {"retry-base-ms", ARG_INT, &o.base_ms, 1, 86400000, .metavar = "MS",
         .help = "deliver: first retry delay, doubled each try (default 1000)"},
        {"retry-max-ms", ARG_INT, &o.max_ms, 1, 86400000, .metavar = "MS",
         .help = "deliver: the longest retry delay (default 600000)"},
        {"timeout-ms", ARG_INT, &o.timeout_ms, 100, 600000, .metavar = "MS",
         .help = "deliver: per request (default 5000)"},
        {"store-tries", ARG_INT, &o.store_tries, 1, 1000, .metavar = "N",
         .help = "deliver --until-idle: passes in a row ending in a store\nerror before it gives up, exit 3 (default 6: about 6 s)"},
        {0},
    };
    int help_rc;
    if (cli_args_help(argc, argv, true, cases_usage, args, &help_rc))
        return help_rc;
    const char *sub = argv[1];
    const char *pos[WEBHOOK_MAX_URLS] = {0};
    int n_pos = 0;
    char vb[64];
    snprintf(vb, sizeof vb, "cases %.40s", sub);
    if (cli_args_parse(vb, args, argc - 1, argv + 1, pos, WEBHOOK_MAX_URLS, &n_pos))
        return CLI_EXIT_USAGE;
    char buf[4096];
    const char *datadir = cli_datadir(vb, o.datadir, buf, sizeof buf);
    if (datadir == NULL)
        return CLI_EXIT_USAGE;
    case_action a;
    if (strcmp(sub, "deliver") == 0)
        return do_deliver(pos, n_pos, &o, datadir);
    if (strcmp(sub, "list") == 0 || strcmp(sub, "webhooks") == 0) {
        if (n_pos)
            return usage_error("unexpected argument '%s'", pos[0]);
        return sub[0] == 'l' ? do_list(&o, datadir) : do_webhooks(datadir);
    }
    bool known = strcmp(sub, "show") == 0 || strcmp(sub, "report") == 0 || cases_action_parse(sub, &a);
    if (!known) {
        char q[80];
        return usage_error("unknown subcommand '%s'", cli_quote(sub, q, sizeof q));
    }
    if (n_pos != 1)
        return usage_error("%s needs one case id", sub);
    if (strcmp(sub, "show") == 0)
        return do_show(pos[0], datadir);
    if (strcmp(sub, "report") == 0)
        return do_report(pos[0], o.html, datadir);
    return do_act(a, pos[0], &o, datadir);
}
