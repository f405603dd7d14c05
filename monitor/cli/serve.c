/*
 * `chainwatch serve`: the HTTP API (monitor/api/server.h) over a datadir,
 * beside a `watch` in another process or none. It reads the store only
 * (LMDB readers: never waits for the writer). `watch --api` runs the same
 * server inside the monitor's process (watch.c, cli_api_start).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "args.h"
#include "args_flows.h"
#include "cli.h"
#include "monitor/api/server.h"
#include "monitor/records/webhook.h"
#include "stop.h"

static const char usage[] =
    "usage: chainwatch serve [--listen HOST:PORT] [--datadir D] [options]\n"
    "\n"
    "The HTTP API: address screening answered like Chainalysis' sanctions API\n"
    "(GET /api/v1/address/ADDR), POST /v1/screen (address, batch, raw tx, PSBT),\n"
    "alerts (GET /v1/alerts, /v1/alerts/ID), the hold queue (/v1/cases) and its\n"
    "review console (/console/), /metrics and /healthz. API keys:\n"
    "chainwatch apikey add NAME --role screen|review|admin. Runs until SIGINT or\n"
    "SIGTERM. See the README's API section.\n"
    "\n"
    "Exit status: 0 stopped by SIGINT/SIGTERM; 1 a failure (the address cannot\n"
    "be listened on); 2 a usage error, or another deliverer holds --webhook's\n"
    "lock; 3 a store error (the store could not be opened). Once serving, store\n"
    "errors are answered per request (HTTP 503), and --webhook's are retried.\n"
    "\n"
    "Options:\n";

void cli_api_table(cli_api_opts *o, void *t)
{
    const cli_arg table[] = {
        {"allow-remote", ARG_FLAG, &o->allow_remote,
         .help = "allow a --listen address that is not loopback (put TLS\nand a firewall in front: the API speaks plain HTTP)"},
        {"api-threads", ARG_INT, &o->threads, 1, 64, .metavar = "N", .help = "server threads (default 2)"},
        {"api-max-body", ARG_SIZE, &o->max_body, 1024, (int64_t)64 << 20, .metavar = "SIZE",
         .help = "largest request body (default 1M; more: 413)"},
        {"api-timeout", ARG_SECONDS, &o->timeout, 1, 3600, .metavar = "S",
         .help = "idle limit, and the most time a client may take to send\na request (line, headers and body) or to take its reply\n(default 10s; a reply gets more, see --api-reply-rate)"},
        {"api-reply-rate", ARG_INT, &o->reply_rate, 1, (int64_t)1 << 30, .metavar = "BYTES",
         .help = "a reply may take --api-timeout plus one second per BYTES\nof it (default 16384: a steady reader at 16 KB/s keeps\nany reply; a slower one is cut)"},
        {"api-rate", ARG_INT, &o->rate, 0, 10000000, .metavar = "N",
         .help = "requests per second per API key (default 0: no limit;\npast it: 429)"},
        {0},
    };
    memcpy(t, table, sizeof table);
}

cw_code cli_api_start(const cli_api_opts *o, const char *listen, const char *datadir, cw_store *s, api_status *status,
                      const void *flows_template, const char *feed_name, webhook_runner *hooks, api_server **out,
                      cw_err *err)
{
    api_config cfg = {
        .listen = listen,
        .allow_remote = o->allow_remote,
        .datadir = datadir,
        .threads = (unsigned)o->threads,
        .max_body = (size_t)o->max_body,
        .timeout_s = (unsigned)o->timeout,
        .reply_rate = (unsigned)o->reply_rate,
        .rate_per_key = (unsigned)o->rate,
        .feed_name = feed_name,
        .flows_template = flows_template,
        .writable = o->writable,
        .webhooks = hooks,
    };
    api_server *srv;
    cw_code rc = api_server_new(&cfg, s, status, &srv, err);
    if (rc)
        return rc;
    if ((rc = api_register_all(srv, err)) || (rc = api_server_start(srv, err))) {
        api_server_free(srv);
        return rc;
    }
    *out = srv;
    return CW_OK;
}

void cli_webhook_table(cli_webhook_opts *o, void *t)
{
    const cli_arg table[] = {
        {"webhook", ARG_STRING, &o->url, .metavar = "URL",
         .help = "also deliver the webhook outbox (case and decision events,\nsigned) to URL from this process, as "
                 "chainwatch cases deliver does;\nmore URLs: run cases deliver beside it instead",
         .from = ARG_CONF},
        {"webhook-max-tries", ARG_INT, &o->max_tries, 1, 1000, .metavar = "N",
         .help = "failed tries before an event is a dead letter (default 8)", .from = ARG_CONF},
        {"webhook-retry-base-ms", ARG_INT, &o->retry_base_ms, 1, 86400000, .metavar = "MS",
         .help = "first retry delay, doubled each try (default 1000)", .from = ARG_CONF},
        {0},
    };
    memcpy(t, table, sizeof table);
}

cw_code cli_webhook_start(const cli_webhook_opts *o, cw_store *s, const char *datadir, webhook_runner **out,
                          cw_err *err)
{
    *out = NULL;
    if (o->url == NULL)
        return CW_OK;
    if (!webhook_url_valid(o->url))
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "'%.60s' is not an http:// or https:// URL (at most 400 bytes)",
                          o->url);
    webhook_config hc = {.urls = {o->url}, .n_urls = 1, .max_tries = (uint32_t)o->max_tries,
                         .base_ms = (uint64_t)o->retry_base_ms};
    return webhook_runner_start(s, datadir, &hc, out, err);
}

int cmd_serve(int argc, char **argv)
{
    const char *listen = "127.0.0.1:8480", *datadir_opt = NULL;
    cli_webhook_opts wo = CLI_WEBHOOK_OPTS_INIT;
    cli_arg hook_t[4];
    cli_webhook_table(&wo, hook_t);
    cli_api_opts ao = CLI_API_OPTS_INIT;
    flows_opts fo;
    flows_opts_init(&fo);
    cli_arg api_t[8];
    cli_api_table(&ao, api_t);
    cli_arg t[] = {
        {"listen", ARG_STRING, &listen, .metavar = "HOST:PORT",
         .help = "where to listen (default 127.0.0.1:8480; port 0: any free\nport, printed at start)"},
        {"datadir", ARG_PATH, &datadir_opt, .metavar = "D", .help = "default ~/.chainwatch"},
        {NULL, ARG_MORE, hook_t, .help = NULL},
        {NULL, ARG_MORE, api_t, .help = NULL},
        {NULL, ARG_MORE, fo.args, .help = "The screening policy of POST /v1/screen (as chainwatch screen):"},
        {0},
    };
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        cli_args_usage(stdout, t);
        flows_opts_free(&fo);
        return CLI_EXIT_OK;
    }
    int n_pos;
    const char *pos[1];
    if (cli_args_parse("serve", t, argc, argv, pos, 0, &n_pos)) {
        flows_opts_free(&fo);
        return CLI_EXIT_USAGE;
    }
    char ddbuf[4096];
    const char *datadir = cli_datadir("serve", datadir_opt, ddbuf, sizeof ddbuf);
    if (datadir == NULL) {
        flows_opts_free(&fo);
        return CLI_EXIT_USAGE;
    }
    if (wo.url && !webhook_url_valid(wo.url)) {
        fprintf(stderr, "chainwatch: serve: --webhook: not an http:// or https:// URL (at most 400 bytes)\n");
        flows_opts_free(&fo);
        return CLI_EXIT_USAGE;
    }
    /* a datadir init made, never a new one: opened to write, LMDB would
     * make a store at a mistyped path, and a server with nothing to answer
     * from (screening refuses it, but serve would run) */
    char store_path[4200];
    struct stat st;
    snprintf(store_path, sizeof store_path, "%s/store.mdb", datadir);
    if (stat(store_path, &st) != 0) {
        fprintf(stderr, "chainwatch: serve: %s: %s: check --datadir, or run 'chainwatch init --datadir %s' first\n",
                store_path, strerror(errno), datadir);
        flows_opts_free(&fo);
        return CLI_EXIT_UNCHECKED;
    }
    cw_store *s = NULL;
    cw_err err = {0};
    if (store_open(datadir, 0, !ao.writable, &s, &err)) {
        fprintf(stderr, "chainwatch: serve: %s\n", err.msg);
        cli_store_format_hint("serve", &err);
        flows_opts_free(&fo);
        return CLI_EXIT_UNCHECKED;
    }
    cli_stop_install();
    api_server *srv = NULL;
    webhook_runner *hooks = NULL;
    int rc = CLI_EXIT_OK;
    /* the deliverer first: the server reports it (/healthz) and stops before it */
    if (cli_webhook_start(&wo, s, datadir, &hooks, &err)) {
        rc = cli_fail("serve: --webhook", &err);
    } else if (cli_api_start(&ao, listen, datadir, s, NULL, &fo, "serve", hooks, &srv, &err)) {
        rc = cli_fail("serve", &err);
        webhook_runner_stop(hooks);
    } else {
        fprintf(stderr, "chainwatch: serve: listening on %s (port %u), datadir %s; stop with SIGINT or SIGTERM\n",
                listen, api_server_port(srv), datadir);
        /* one line for scripts and tests: the port bound (--listen ...:0 picks one) */
        printf("{\"port\":%u}\n", api_server_port(srv));
        fflush(stdout);
        /* signals may land on a server thread: poll the flag, never pause() */
        while (!cli_stop_requested())
            nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
        fprintf(stderr, "chainwatch: serve: stopping\n");
        api_server_free(srv);
        webhook_runner_stop(hooks);
    }
    store_close(s);
    flows_opts_free(&fo);
    return rc;
}
