/*
 * test_api: the HTTP API over loopback. A real `chainwatch serve` on
 * 127.0.0.1 with a port it picks (--listen 127.0.0.1:0, read from its
 * first stdout line), a libcurl client here. Datadirs hold the bundled
 * OFAC subset (ofac/sdn_subset.csv with its comments: SUEX OTC, S.R.O.,
 * uid 33151, holds 1295rkVyNfFpqZpXvKGhDqwhP1jZcNNDMV, per `watchlist
 * export` and the CSV itself) and a regtest list for replays.
 * Also the request parser (monitor/api/request.h) directly.
 */
#define _GNU_SOURCE /* SCHED_IDLE */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "chains/addr.h"
#include "chains/buf.h"
#include "chains/hex.h"
#include "monitor/api/request.h"
#include "monitor/cli/cli.h"
#include "monitor/engine/give_way.h"
#include "tests/support.h"
#include "tests/tron_fixture.h"

#define SUEX_BTC "1295rkVyNfFpqZpXvKGhDqwhP1jZcNNDMV"
#define GENESIS_ADDR "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa" /* not listed */
#define REG_LISTED "bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0"

typedef struct {
    char root[64], dd[128];
    char key_screen[80], key_review[80], key_admin[80];
    pid_t pid;
    unsigned port;
} api_fx;

static void must_run(char *const argv[])
{
    char *out, *err;
    int rc = run_cmd(argv, NULL, 0, &out, &err);
    cr_assert_eq(rc, 0, "%s: %s", argv[1], err);
    free(out), free(err);
}

static void key_add(api_fx *fx, const char *name, const char *role, char *out, size_t cap)
{
    char *o, *e;
    char *argv[] = {CW_BIN, "apikey", "add", (char *)name, "--role", (char *)role, "--datadir", fx->dd, NULL};
    cr_assert_eq(run_cmd(argv, NULL, 0, &o, &e), 0, "%s", e);
    size_t n = strcspn(o, "\n");
    cr_assert(n > 4 && n < cap && strncmp(o, "cwk_", 4) == 0, "key: %s", o);
    memcpy(out, o, n);
    out[n] = '\0';
    free(o), free(e);
}

/* A datadir with the OFAC subset and a regtest list, and three keys. */
static void fx_make(api_fx *fx)
{
    memset(fx, 0, sizeof *fx);
    snprintf(fx->root, sizeof fx->root, "/tmp/cw-api-XXXXXX");
    cr_assert_not_null(mkdtemp(fx->root));
    snprintf(fx->dd, sizeof fx->dd, "%s/dd", fx->root);
    char *init[] = {CW_BIN, "init", "--datadir", fx->dd, NULL};
    must_run(init);
    char *imp[] = {CW_BIN, "watchlist", "import", "sdn-csv", CW_DATA_DIR "/ofac/sdn_subset.csv", "--comments",
                   CW_DATA_DIR "/ofac/sdn_comments_subset.csv", "--datadir", fx->dd, NULL};
    must_run(imp);
    char path[256];
    snprintf(path, sizeof path, "%s/list.csv", fx->root);
    FILE *f = fopen(path, "w");
    fputs("chain,address,entity,program,note\nbitcoin," REG_LISTED ",Test front company,DPRK4,\n"
          "ethereum,0x3535353535353535353535353535353535353535,Test EVM front,DPRK4,\n",
          f);
    fclose(f);
    char *imp2[] = {CW_BIN, "watchlist", "import", "csv", path, "--datadir", fx->dd, NULL};
    must_run(imp2);
    key_add(fx, "exchange", "screen", fx->key_screen, sizeof fx->key_screen);
    key_add(fx, "analyst", "review", fx->key_review, sizeof fx->key_review);
    key_add(fx, "ops", "admin", fx->key_admin, sizeof fx->key_admin);
}

/* Starts serve on 127.0.0.1:0 with extra options (NULL-terminated) and
 * environment (NAME=VALUE, NULL-terminated); reads the port. */
static void serve_start(api_fx *fx, const char *const *opts, const char *const *env)
{
    char logp[300];
    snprintf(logp, sizeof logp, "%s/serve.log", fx->root); /* serve_stop reads it for sanitizer reports */
    fx->pid = test_serve_start(fx->dd, logp, opts, env, &fx->port);
}

/* SIGTERM; serve exits 0 and its log holds no sanitizer report (in the
 * ASan build leaks do not change exit statuses: scripts/test). */
static void serve_stop(api_fx *fx)
{
    char logp[300];
    snprintf(logp, sizeof logp, "%s/serve.log", fx->root);
    test_serve_stop(fx->pid, logp);
}

static void fx_done(api_fx *fx) { test_remove_dir(strdup(fx->root)); }

typedef struct {
    long status;
    char *body;
    size_t n;
    char ctype[128];
} reply;

static size_t on_body(char *p, size_t sz, size_t nm, void *ctx)
{
    reply *r = ctx;
    r->body = realloc(r->body, r->n + sz * nm + 1);
    memcpy(r->body + r->n, p, sz * nm);
    r->n += sz * nm;
    r->body[r->n] = '\0';
    return sz * nm;
}

static const char *extra_header; /* one more request header for the next http() */

/* One request on 127.0.0.1:port; key and body may be NULL. */
static reply http(const api_fx *fx, const char *method, const char *target, const char *key, const char *body)
{
    reply r = {0};
    r.body = calloc(1, 1);
    CURL *c = curl_easy_init();
    char url[8300], hdr[200];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", fx->port, target);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    struct curl_slist *h = NULL;
    if (key) {
        snprintf(hdr, sizeof hdr, "X-API-Key: %s", key);
        h = curl_slist_append(h, hdr);
    }
    if (extra_header) {
        h = curl_slist_append(h, extra_header);
        extra_header = NULL;
    }
    if (body) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    CURLcode rc = curl_easy_perform(c);
    cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method, target, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(r.ctype, sizeof r.ctype, "%s", ct ? ct : "");
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

/* The reply as JSON (must parse). */
static json_t *js(const reply *r)
{
    json_error_t je;
    json_t *j = json_loadb(r->body, r->n, 0, &je);
    cr_assert_not_null(j, "not JSON (%s): %s", je.text, r->body);
    return j;
}

/* A 4xx/5xx JSON error with code. */
static void is_error(reply *r, long status, const char *code)
{
    cr_assert_eq(r->status, status, "want %ld, got %ld: %s", status, r->status, r->body);
    cr_assert_str_eq(r->ctype, "application/json");
    json_t *j = js(r);
    const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    cr_assert(c && m && m[0], "not an error object: %s", r->body);
    cr_assert_str_eq(c, code, "%s", r->body);
    json_decref(j);
    free(r->body);
}

/* ---- the request parser ---- */

Test(api, url_parser)
{
    static api_url u;
    cw_err e = {0};
    const char *t = "/api/v1/address/1295rk%56?x=a+b&limit=10&empty";
    cr_assert_eq(api_url_parse(t, strlen(t), &u, &e), CW_OK, "%s", e.msg);
    cr_assert_eq(u.n_seg, 4);
    cr_assert_str_eq(u.seg[3], "1295rkV");
    cr_assert_str_eq(u.path, "/api/v1/address/1295rkV");
    cr_assert_str_eq(api_url_query(&u, "x"), "a b");
    cr_assert_str_eq(api_url_query(&u, "limit"), "10");
    cr_assert_str_eq(api_url_query(&u, "empty"), "");
    cr_assert_null(api_url_query(&u, "nope"));
    const char *names[8], *values[8];
    size_t lens[8], n;
    cr_assert(api_url_match("/api/v1/address/{address}", &u, names, lens, values, 8, &n));
    cr_assert_eq(n, 1);
    cr_assert_eq(lens[0], 7);
    cr_assert_str_eq(values[0], "1295rkV");
    cr_assert(!api_url_match("/api/v1/address", &u, names, lens, values, 8, &n));
    cr_assert(!api_url_match("/api/v1/address/{address}/x", &u, names, lens, values, 8, &n));
    cr_assert(!api_url_match("/api/v1/{bad name}/x", &u, names, lens, values, 8, &n));
    /* refusals, each naming where */
    static const struct {
        const char *t, *what;
    } bad[] = {
        {"v1/x", "start with '/'"},       {"/a%zz", "two hex digits"},   {"/a%4", "two hex digits"},
        {"/a%00", "control character"},   {"/a/../b", "'..'"},           {"/a//b", "empty path segment"},
        {"/a?x=1&x=2", "given twice"},    {"/a?=1", "without a name"},   {"/a b", "percent-encoded"},
        {"/a%2fb", "encoded '/'"},        {"/a/./b", "'.'"},             {"/a\x7f", "percent-encoded"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_neq(api_url_parse(bad[i].t, strlen(bad[i].t), &u, &e), CW_OK, "'%s' accepted", bad[i].t);
        cr_assert(strstr(e.msg, bad[i].what), "'%s': %s", bad[i].t, e.msg);
    }
    char big[API_URL_MAX + 10];
    memset(big, 'a', sizeof big);
    big[0] = '/';
    cr_assert_eq(api_url_parse(big, sizeof big, &u, &e), CW_ELIMIT);
    char many[200] = "";
    for (int i = 0; i < 17; i++)
        strcat(many, "/s");
    cr_assert_eq(api_url_parse(many, strlen(many), &u, &e), CW_ELIMIT);
    cr_assert_eq(api_url_parse("/", 1, &u, &e), CW_OK);
    cr_assert_eq(u.n_seg, 0);
    cr_assert_str_eq(u.path, "/");
    cr_assert_eq(api_url_parse("/v1/alerts/", 11, &u, &e), CW_OK); /* a trailing '/' is the same path */
    cr_assert_str_eq(u.path, "/v1/alerts");
}

/* ---- over loopback ---- */

Test(api, address_like_chainalysis_and_auth)
{
    api_fx fx;
    fx_make(&fx);
    serve_start(&fx, NULL, NULL);

    reply r = http(&fx, "GET", "/api/v1/address/" SUEX_BTC, fx.key_screen, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(r.ctype, "application/json");
    json_t *j = js(&r);
    cr_assert_eq(json_object_size(j), 1, "only identifications: %s", r.body);
    json_t *ids = json_object_get(j, "identifications");
    cr_assert_eq(json_array_size(ids), 1, "%s", r.body);
    json_t *id = json_array_get(ids, 0);
    cr_assert_eq(json_object_size(id), 4, "category, name, description, url: %s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(id, "category")), "sanctions");
    cr_assert_str_eq(json_string_value(json_object_get(id, "name")), "SANCTIONS: OFAC SDN SUEX OTC, S.R.O. " SUEX_BTC);
    cr_assert(strstr(json_string_value(json_object_get(id, "description")), "CYBER2"), "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(id, "url")),
                     "https://sanctionssearch.ofac.treas.gov/Details.aspx?id=33151");
    json_decref(j);
    free(r.body);

    /* clean: an empty list, exactly */
    r = http(&fx, "GET", "/api/v1/address/" GENESIS_ADDR, fx.key_screen, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "{\"identifications\":[]}\n");
    free(r.body);
    /* Authorization: Bearer works as X-API-Key does; a review key screens too */
    r = http(&fx, "GET", "/api/v1/address/" SUEX_BTC, fx.key_review, NULL);
    cr_assert_eq(r.status, 200);
    free(r.body);

    /* refusals */
    r = http(&fx, "GET", "/api/v1/address/" SUEX_BTC, NULL, NULL);
    is_error(&r, 401, "unauthorized");
    r = http(&fx, "GET", "/api/v1/address/" SUEX_BTC, "cwk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL);
    is_error(&r, 401, "unauthorized");
    char almost[80];
    snprintf(almost, sizeof almost, "%s", fx.key_screen);
    almost[strlen(almost) - 1] ^= 1; /* one bit off */
    r = http(&fx, "GET", "/api/v1/address/" SUEX_BTC, almost, NULL);
    is_error(&r, 401, "unauthorized");
    r = http(&fx, "GET", "/v1/alerts", fx.key_screen, NULL);
    is_error(&r, 403, "forbidden");
    r = http(&fx, "GET", "/v1/alerts", fx.key_review, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(r.body, "{\"alerts\":[],\"next_cursor\":null}\n");
    free(r.body);
    /* public */
    r = http(&fx, "GET", "/healthz", NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    j = js(&r);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "ok");
    cr_assert_eq(json_array_size(json_object_get(j, "lists")), 2);
    cr_assert(json_is_null(json_object_get(j, "feed")));
    json_decref(j);
    free(r.body);

    /* a key added while the server runs works within a second or two; removed, it stops */
    char late[80];
    key_add(&fx, "late", "screen", late, sizeof late);
    long st = 0;
    for (int i = 0; i < 40 && st != 200; i++) {
        test_sleep_ms(100);
        r = http(&fx, "GET", "/api/v1/address/" GENESIS_ADDR, late, NULL);
        st = r.status;
        free(r.body);
    }
    cr_assert_eq(st, 200, "a new key was never accepted");
    char *rm[] = {CW_BIN, "apikey", "remove", "late", "--datadir", fx.dd, NULL};
    must_run(rm);
    for (int i = 0; i < 40 && st != 401; i++) {
        test_sleep_ms(100);
        r = http(&fx, "GET", "/api/v1/address/" GENESIS_ADDR, late, NULL);
        st = r.status;
        free(r.body);
    }
    cr_assert_eq(st, 401, "a removed key still works");

    /* the file keeps hashes only */
    char path[256], *keys;
    snprintf(path, sizeof path, "%s/apikeys", fx.dd);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600);
    size_t n;
    cw_buf b = CW_BUF_INIT;
    cr_assert_eq(cw_read_file(path, 1 << 20, &b, NULL), CW_OK);
    cw_buf_append(&b, "", 1, NULL);
    keys = (char *)b.p;
    (void)n;
    cr_assert_null(strstr(keys, fx.key_screen + 4), "a key in clear in apikeys");
    cr_assert(strstr(keys, "exchange screen "), "%s", keys);
    cw_buf_free(&b);
    serve_stop(&fx);
    fx_done(&fx);
}

Test(api, malformed_requests_are_4xx_json)
{
    api_fx fx;
    fx_make(&fx);
    const char *opts[] = {"--api-max-body", "2k", NULL};
    serve_start(&fx, opts, NULL);
    const char *k = fx.key_admin;
    reply r = http(&fx, "GET", "/api/v1/address/1295rkVyNfFpqZpXvKGhDqwhP1jZcNNDMX", k, NULL); /* checksum */
    is_error(&r, 400, "bad_address");
    r = http(&fx, "GET", "/api/v1/address/%zz", k, NULL);
    is_error(&r, 400, "bad_request");
    r = http(&fx, "GET", "/v1/nothing", k, NULL);
    is_error(&r, 404, "not_found");
    r = http(&fx, "DELETE", "/v1/screen", k, NULL);
    is_error(&r, 405, "method_not_allowed");
    r = http(&fx, "POST", "/v1/screen", k, "{\"address\":");
    is_error(&r, 400, "bad_json");
    r = http(&fx, "POST", "/v1/screen", k, "[1]");
    is_error(&r, 400, "bad_request");
    r = http(&fx, "POST", "/v1/screen", k, "{\"address\":\"" SUEX_BTC "\",\"address\":\"" SUEX_BTC "\"}");
    is_error(&r, 400, "bad_json"); /* a duplicate key */
    r = http(&fx, "POST", "/v1/screen", k, "{\"adress\":\"" SUEX_BTC "\"}");
    is_error(&r, 400, "bad_request");
    r = http(&fx, "POST", "/v1/screen", k, "{\"address\":\"" SUEX_BTC "\",\"tx\":\"00\"}");
    is_error(&r, 400, "bad_request");
    r = http(&fx, "POST", "/v1/screen", k, "{\"address\":\"" SUEX_BTC "\",\"amount\":0.5}");
    is_error(&r, 400, "bad_request"); /* a float: amounts are strings of BTC or amount_sats */
    r = http(&fx, "POST", "/v1/screen", k, "{\"address\":\"" SUEX_BTC "\",\"direction\":\"sideways\"}");
    is_error(&r, 400, "bad_request");
    r = http(&fx, "POST", "/v1/screen", k, "{\"tx\":\"0200zz\"}");
    is_error(&r, 400, "bad_request");
    r = http(&fx, "POST", "/v1/screen", k, "{\"tx\":\"02000000\"}");
    is_error(&r, 400, "bad_tx");
    r = http(&fx, "POST", "/v1/screen", k, "{\"psbt\":\"cHNidP8BAA==\"}");
    is_error(&r, 400, "bad_psbt");
    r = http(&fx, "POST", "/v1/screen", k, "{\"addresses\":[]}");
    is_error(&r, 400, "bad_request");
    r = http(&fx, "POST", "/v1/screen", k, "{\"addresses\":[\"" SUEX_BTC "\",\"nope\"]}");
    is_error(&r, 400, "bad_address");
    r = http(&fx, "POST", "/v1/screen", k, NULL);
    is_error(&r, 400, "bad_request");
    /* the body limit (2k here): 413 */
    char big[4000];
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "{\"address\":\"x\"", 14);
    big[sizeof big - 2] = '}';
    r = http(&fx, "POST", "/v1/screen", k, big);
    is_error(&r, 413, "too_large"); /* declared by Content-Length: refused before reading */
    extra_header = "Transfer-Encoding: chunked"; /* no length declared: read, dropped past the limit */
    r = http(&fx, "POST", "/v1/screen", k, big);
    is_error(&r, 413, "too_large");
    r = http(&fx, "GET", "/v1/alerts?limit=0", k, NULL);
    is_error(&r, 400, "bad_request");
    r = http(&fx, "GET", "/v1/alerts?since=yesterday", k, NULL);
    is_error(&r, 400, "bad_request");
    r = http(&fx, "GET", "/v1/alerts?status=confirmed&status=mempool", k, NULL);
    is_error(&r, 400, "bad_request");
    r = http(&fx, "GET", "/v1/alerts?colour=red", k, NULL);
    is_error(&r, 400, "bad_request");
    r = http(&fx, "GET", "/v1/alerts?cursor=xyz", k, NULL);
    is_error(&r, 400, "bad_request");
    r = http(&fx, "GET", "/v1/alerts/NOTANID", k, NULL);
    is_error(&r, 400, "bad_request");
    r = http(&fx, "GET", "/v1/alerts/0123456789abcdef0123456789abcdef", k, NULL);
    is_error(&r, 404, "not_found");
    serve_stop(&fx);

    /* the batch limit, with the default body limit */
    serve_start(&fx, NULL, NULL);
    cw_buf b = CW_BUF_INIT;
    cw_buf_append(&b, "{\"addresses\":[", 14, NULL);
    for (int i = 0; i < 1001; i++)
        cw_buf_append(&b, i ? ",\"" GENESIS_ADDR "\"" : "\"" GENESIS_ADDR "\"", i ? 37 : 36, NULL);
    cw_buf_append(&b, "]}", 3, NULL);
    r = http(&fx, "POST", "/v1/screen", k, (char *)b.p);
    cr_assert(strstr(r.body, "at most 1000"), "%s", r.body);
    is_error(&r, 413, "too_many_addresses");
    /* 1,000 is fine */
    memcpy(strstr((char *)b.p, ",\"" GENESIS_ADDR "\"]}"), "]}", 3);
    r = http(&fx, "POST", "/v1/screen", k, (char *)b.p);
    cr_assert_eq(r.status, 200, "%.300s", r.body);
    json_t *j = js(&r);
    cr_assert_eq(json_integer_value(json_object_get(j, "count")), 1000);
    cr_assert_eq(json_array_size(json_object_get(j, "results")), 1000);
    cr_assert_str_eq(json_string_value(json_object_get(j, "decision")), "allow");
    json_decref(j);
    free(r.body);
    cw_buf_free(&b);
    serve_stop(&fx);

    /* a non-loopback bind is refused unless --allow-remote */
    char *o, *e;
    char *argv[] = {CW_BIN, "serve", "--listen", "0.0.0.0:0", "--datadir", fx.dd, NULL};
    cr_assert_eq(run_cmd(argv, NULL, 0, &o, &e), 2, "%s", e);
    cr_assert(strstr(e, "not a loopback address") && strstr(e, "--allow-remote"), "%s", e);
    free(o), free(e);
    fx_done(&fx);
}

Test(api, screen_answers_as_the_cli_does)
{
    api_fx fx;
    fx_make(&fx);
    serve_start(&fx, NULL, NULL);
    reply r = http(&fx, "POST", "/v1/screen", fx.key_screen,
                   "{\"address\":\"" SUEX_BTC "\",\"amount\":\"0.5\",\"direction\":\"deposit\"}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *api = js(&r);
    free(r.body);
    cr_assert_str_eq(json_string_value(json_object_get(api, "decision")), "block");
    cr_assert_str_eq(json_string_value(json_object_get(api, "risk")), "severe");
    cr_assert_eq(json_integer_value(json_object_get(api, "amount")), 50000000);
    cr_assert(json_is_null(json_object_get(api, "alert_id")));
    json_t *reason = json_array_get(json_object_get(api, "reasons"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(reason, "kind")), "designated");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(reason, "entity"), "uid")), "33151");
    /* the CLI's answer is the same object, without the API's risk and alert_id */
    char *o, *e;
    char *argv[] = {CW_BIN, "screen", SUEX_BTC, "--amount", "0.5", "--direction", "deposit", "--datadir", fx.dd, NULL};
    cr_assert_eq(run_cmd(argv, NULL, 0, &o, &e), 12, "%s", e);
    json_t *cli = json_loads(o, 0, NULL);
    cr_assert_not_null(cli, "%s", o);
    json_object_del(api, "risk");
    json_object_del(api, "alert_id");
    cr_assert(json_equal(api, cli), "API and CLI differ:\n%s\n%s", json_dumps(api, JSON_SORT_KEYS), o);
    free(o), free(e);
    json_decref(cli);
    json_decref(api);

    /* a batch: the most severe decides; each result in order */
    r = http(&fx, "POST", "/v1/screen", fx.key_screen,
             "{\"addresses\":[\"" GENESIS_ADDR "\",\"" SUEX_BTC "\",\"0x19aa5fe80d33a56d56c78e82ea5e50e5d80b4dff\"]}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *j = js(&r);
    cr_assert_str_eq(json_string_value(json_object_get(j, "decision")), "block");
    json_t *res = json_object_get(j, "results");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(res, 0), "decision")), "allow");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(res, 1), "decision")), "block");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(res, 2), "chain")), "evm");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(res, 2), "decision")), "block");
    json_decref(j);
    free(r.body);

    /* a raw tx (the taproot spend of SOURCES.md): screened as the CLI screens it */
    size_t n;
    uint8_t *raw = fixture(TX_TAPROOT, &n);
    char *hex = malloc(2 * n + 1);
    cw_hex_encode(raw, n, hex);
    char *body = malloc(2 * n + 64);
    sprintf(body, "{\"tx\":\"%s\"}", hex);
    r = http(&fx, "POST", "/v1/screen", fx.key_screen, body);
    cr_assert_eq(r.status, 200, "%s", r.body);
    j = js(&r);
    cr_assert_str_eq(json_string_value(json_object_get(j, "type")), "tx");
    cr_assert_str_eq(json_string_value(json_object_get(j, "subject")),
                     "7393096d97bfee8660f4100ffd61874d62f9a65de9fb6acf740c4c386990ef73");
    cr_assert_str_eq(json_string_value(json_object_get(j, "decision")), "allow");
    cr_assert_eq(json_array_size(json_object_get(j, "alert_ids")), 0);
    char *argv2[] = {CW_BIN, "screen", "@" CW_DATA_DIR "/" TX_TAPROOT, "--datadir", fx.dd, NULL};
    cr_assert_eq(run_cmd(argv2, NULL, 0, &o, &e), 0, "%s", e);
    cli = json_loads(o, 0, NULL);
    json_object_del(j, "risk");
    json_object_del(j, "alert_id");
    json_object_del(j, "alert_ids");
    cr_assert(json_equal(j, cli), "tx: API and CLI differ");
    json_decref(cli), json_decref(j);
    free(o), free(e), free(body), free(hex), free(raw), free(r.body);

    /* a PSBT (BIP-174's signer vector, regtest): its UTXO fields resolve the inputs */
    r = http(&fx, "POST", "/v1/screen", fx.key_screen,
             "{\"network\":\"regtest\",\"direction\":\"withdrawal\",\"psbt\":\"cHNidP8BAKACAAAAAqsJSaCMWvfEm4IS9Bfi8Vqz9cM9"
             "zxU4IagTn4d6W3vkAAAAAAD+////qwlJoIxa98SbghL0F+LxWrP1wz3PFTghqBOfh3pbe+QBAAAAAP7///8CYDvqCwAAAAAZdqkUdopAu9dAy+gdmI"
             "5x3ipNXHE5ax2IrI4kAAAAAAAAGXapFG9GILVT+glechue4O/p+gOcykWXiKwAAAAAAAEBItPf9QUAAAAAGXapFNSO0xELlAFMsRS9Mtb00GbcdCVr"
             "iKwAAQEgAOH1BQAAAAAXqRQ1RebjO4MsRwUPJNPuuTycA5SLx4cBBBYAFIXRNTfy4mVAWjTbr6nj3aAfuCMIACICAurVlmh8qAYEPtw94RbN8p1ekl"
             "fBls0FXPaYyNAr8k6ZELSmumcAAACAAAAAgAIAAIAAIgIDlPYr6d8ZlSxVh3aK63aYBhrSxKJciU9H2MFitNchPQUQtKa6ZwAAAIABAACAAgAAgAA=\"}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    j = js(&r);
    cr_assert_str_eq(json_string_value(json_object_get(j, "subject")),
                     "fed6cd1fde4db4e13e7e800317e37f9cbd75ec364389670eeff80da993c7e560");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "psbt"), "inputs_with_utxo")), 2);
    cr_assert_eq(json_integer_value(json_object_get(j, "inputs_unresolved")), 0);
    cr_assert_str_eq(json_string_value(json_object_get(j, "direction")), "withdrawal");
    json_decref(j);
    free(r.body);
    serve_stop(&fx);
    fx_done(&fx);
}

Test(api, store_error_is_5xx_never_clean)
{
    api_fx fx;
    fx_make(&fx);
    /* every LMDB read after the open's (its format read) fails as a failing disk would */
    const char *env[] = {"LD_PRELOAD=" CW_FAULT_PRELOAD, "CW_FAIL_MDB=mdb_get:2+:EIO,mdb_cursor_get:1+:EIO", NULL};
    serve_start(&fx, NULL, env);
    reply r = http(&fx, "GET", "/api/v1/address/" GENESIS_ADDR, fx.key_screen, NULL);
    cr_assert(strstr(r.body, "could not be made"), "%s", r.body);
    is_error(&r, 503, "store_error");
    r = http(&fx, "GET", "/api/v1/address/" SUEX_BTC, fx.key_screen, NULL);
    is_error(&r, 503, "store_error");
    r = http(&fx, "POST", "/v1/screen", fx.key_screen, "{\"addresses\":[\"" GENESIS_ADDR "\"]}");
    is_error(&r, 503, "store_error");
    r = http(&fx, "GET", "/v1/alerts", fx.key_review, NULL);
    is_error(&r, 503, "store_error");
    r = http(&fx, "GET", "/metrics", NULL, NULL);
    is_error(&r, 503, "store_error");
    r = http(&fx, "GET", "/healthz", NULL, NULL);
    cr_assert_eq(r.status, 503, "%s", r.body);
    json_t *j = js(&r);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "down");
    json_decref(j);
    free(r.body);
    serve_stop(&fx);
    fx_done(&fx);
}

/* A datadir no list was imported into (a --datadir typo: serve makes the
 * store) answers no screening: 503, never {"identifications":[]} or
 * allow. Once a list is imported, the running server answers. */
Test(api, a_store_no_list_was_imported_into_answers_no_screening)
{
    api_fx fx;
    memset(&fx, 0, sizeof fx);
    snprintf(fx.root, sizeof fx.root, "/tmp/cw-api-XXXXXX");
    cr_assert_not_null(mkdtemp(fx.root));
    snprintf(fx.dd, sizeof fx.dd, "%s/dd", fx.root);
    char *init[] = {CW_BIN, "init", "--datadir", fx.dd, NULL};
    must_run(init);
    key_add(&fx, "exchange", "screen", fx.key_screen, sizeof fx.key_screen);
    serve_start(&fx, NULL, NULL);
    const char *clean = "/api/v1/address/bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq";
    reply r = http(&fx, "GET", clean, fx.key_screen, NULL);
    cr_assert(strstr(r.body, "no watchlist has been imported"), "%s", r.body);
    is_error(&r, 503, "store_error");
    r = http(&fx, "POST", "/v1/screen", fx.key_screen, "{\"address\":\"" GENESIS_ADDR "\"}");
    is_error(&r, 503, "store_error");
    r = http(&fx, "POST", "/v1/screen", fx.key_screen, "{\"addresses\":[\"" GENESIS_ADDR "\"]}");
    is_error(&r, 503, "store_error");
    test_import_bystander(fx.dd); /* lists GENESIS_ADDR */
    r = http(&fx, "GET", clean, fx.key_screen, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(r.body, "{\"identifications\":[]}\n");
    free(r.body);
    r = http(&fx, "GET", "/api/v1/address/" GENESIS_ADDR, fx.key_screen, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.body, "\"category\":\"sanctions\""), "%s", r.body);
    free(r.body);
    serve_stop(&fx);
    fx_done(&fx);
}

/* Screening goes on, right, while a replay writes blocks into the same
 * store; then the replay's records are served by /v1/alerts. */
Test(api, screening_while_replay_writes_and_alerts_paging)
{
    api_fx fx;
    fx_make(&fx);
    char blocks[160];
    snprintf(blocks, sizeof blocks, "%s/blocks", fx.root);
    char *gen[] = {CW_GENCHAIN, "--out", blocks, "--network", "regtest", "--blocks", "30", "--txs-per-block", "400",
                   "--seed", "7", "--pay", REG_LISTED, "--pay-every", "150", NULL};
    must_run(gen);
    serve_start(&fx, NULL, NULL);
    pid_t rp = fork();
    cr_assert_geq(rp, 0);
    if (rp == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1), dup2(devnull, 2);
        execl(CW_BIN, CW_BIN, "replay", "--blocksdir", blocks, "--datadir", fx.dd, "--network", "regtest", NULL);
        _exit(127);
    }
    int during = 0, st = 0;
    bool running = true;
    while (running) {
        reply r = http(&fx, "GET", "/api/v1/address/" SUEX_BTC, fx.key_screen, NULL);
        cr_assert_eq(r.status, 200, "%s", r.body);
        cr_assert(strstr(r.body, "\"category\":\"sanctions\""), "%s", r.body);
        free(r.body);
        r = http(&fx, "GET", "/api/v1/address/" GENESIS_ADDR, fx.key_screen, NULL);
        cr_assert_eq(r.status, 200, "%s", r.body);
        cr_assert_str_eq(r.body, "{\"identifications\":[]}\n");
        free(r.body);
        if (waitpid(rp, &st, WNOHANG) == rp)
            running = false;
        else
            during++;
    }
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "replay failed: %d", st);
    cr_assert_gt(during, 0, "no request ran during the replay");

    /* the replay's records: every designated_address record, paged by 2 */
    reply r = http(&fx, "GET", "/v1/alerts?rule=designated_address&limit=1000", fx.key_review, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *all = js(&r);
    free(r.body);
    size_t total = json_array_size(json_object_get(all, "alerts"));
    cr_assert_gt(total, 2, "the replay paid the listed address: records expected");
    cr_assert(json_is_null(json_object_get(all, "next_cursor")));
    size_t seen = 0;
    char target[200] = "/v1/alerts?rule=designated_address&limit=2";
    for (int page = 0; page < 1000; page++) {
        r = http(&fx, "GET", target, fx.key_review, NULL);
        cr_assert_eq(r.status, 200, "%s", r.body);
        json_t *j = js(&r);
        free(r.body);
        json_t *list = json_object_get(j, "alerts");
        for (size_t i = 0; i < json_array_size(list); i++, seen++)
            cr_assert(json_equal(json_array_get(list, i), json_array_get(json_object_get(all, "alerts"), seen)),
                      "page %d item %zu differs from the unpaged list", page, i);
        const char *next = json_string_value(json_object_get(j, "next_cursor"));
        if (!next) {
            json_decref(j);
            break;
        }
        snprintf(target, sizeof target, "/v1/alerts?rule=designated_address&limit=2&cursor=%s", next);
        json_decref(j);
    }
    cr_assert_eq(seen, total, "paging saw %zu of %zu", seen, total);
    /* one by id: the same record as alerts.jsonl holds */
    json_t *first = json_array_get(json_object_get(all, "alerts"), 0);
    const char *id = json_string_value(json_object_get(first, "id"));
    char path[128];
    snprintf(path, sizeof path, "/v1/alerts/%s", id);
    r = http(&fx, "GET", path, fx.key_review, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *one = js(&r);
    free(r.body);
    cr_assert(json_equal(one, first));
    json_t *file = alerts_read(fx.dd);
    bool in_file = false;
    for (size_t i = 0; i < json_array_size(file); i++)
        in_file |= json_equal(json_array_get(file, i), one);
    cr_assert(in_file, "the record served is not the one in alerts.jsonl");
    json_decref(file);
    json_decref(one);
    /* status filter: every record is confirmed after a replay; none mempool */
    r = http(&fx, "GET", "/v1/alerts?rule=designated_address&status=mempool", fx.key_review, NULL);
    cr_assert_str_eq(r.body, "{\"alerts\":[],\"next_cursor\":null}\n");
    free(r.body);
    r = http(&fx, "GET", "/v1/alerts?since=2999-01-01", fx.key_review, NULL);
    cr_assert_str_eq(r.body, "{\"alerts\":[],\"next_cursor\":null}\n");
    free(r.body);

    /* metrics count them by rule; healthz sees the tip */
    r = http(&fx, "GET", "/metrics", NULL, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert(strncmp(r.ctype, "text/plain", 10) == 0, "%s", r.ctype);
    char want[128];
    snprintf(want, sizeof want, "chainwatch_records{rule=\"designated_address\"} %zu\n", total);
    cr_assert(strstr(r.body, want), "%s not in:\n%s", want, r.body);
    cr_assert(strstr(r.body, "chainwatch_tip_height 29\n"), "%s", r.body);
    cr_assert(strstr(r.body, "chainwatch_api_request_duration_seconds_bucket{route=\"GET /api/v1/address/{address}\",le=\"+Inf\"}"),
              "%s", r.body);
    free(r.body);
    /* the counts are the store's (alertdb.h), not the server's: the same after a restart */
    serve_stop(&fx);
    serve_start(&fx, NULL, NULL);
    r = http(&fx, "GET", "/metrics", NULL, NULL);
    cr_assert(strstr(r.body, want), "after a restart: %s not in:\n%s", want, r.body);
    free(r.body);
    r = http(&fx, "GET", "/healthz", NULL, NULL);
    json_t *h = js(&r);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(h, "store"), "tip_height")), 29, "%s", r.body);
    json_decref(h);
    free(r.body);
    json_decref(all);
    serve_stop(&fx);
    fx_done(&fx);
}

typedef struct {
    api_fx *fx;
    _Atomic int stop, ok;
    int bad;
} screener;

/* Screens a listed address until told to stop; counts right and wrong
 * answers (no assertions off the test's thread). */
static void *screen_loop(void *p)
{
    screener *s = p;
    char url[200], hdr[200];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/api/v1/address/" REG_LISTED, s->fx->port);
    snprintf(hdr, sizeof hdr, "X-API-Key: %s", s->fx->key_screen);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, hdr);
    while (!atomic_load(&s->stop)) {
        reply r = {0};
        r.body = calloc(1, 1);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
        long status = 0;
        bool ok = curl_easy_perform(c) == CURLE_OK && curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
                  status == 200 && strstr(r.body, "Test front company");
        if (ok)
            atomic_fetch_add(&s->ok, 1);
        else
            s->bad++;
        free(r.body);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

/* `watch --api` in the monitor's own process: it serves while the
 * pipeline writes the real regtest node's feed into the same store, and
 * /healthz and /metrics see the running feed. */
Test(api, watch_api_same_process, .timeout = 120)
{
    api_fx fx;
    fx_make(&fx);
    zpub *pub = zpub_start();
    char log[300];
    snprintf(log, sizeof log, "%s/watch.log", fx.dd);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char a1[300], a2[300], a3[300];
        snprintf(a1, sizeof a1, "--zmqpubrawtx=%s", zpub_endpoint(pub));
        snprintf(a2, sizeof a2, "--zmqpubrawblock=%s", zpub_endpoint(pub));
        snprintf(a3, sizeof a3, "--zmqpubsequence=%s", zpub_endpoint(pub));
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2), dup2(fd, 1);
        execl(CW_BIN, CW_BIN, "watch", "--datadir", fx.dd, "--network", "regtest", a1, a2, a3, "--status-interval",
              "0", "--api=127.0.0.1:0", NULL);
        _exit(127);
    }
    watch_wait_ready(fx.dd, pub);
    /* the port, from the log: "API listening on 127.0.0.1:0 (port N)" */
    cw_buf b = CW_BUF_INIT;
    cr_assert_eq(cw_read_file(log, 1 << 20, &b, NULL), CW_OK);
    cw_buf_append(&b, "", 1, NULL);
    const char *at = strstr((char *)b.p, "(port ");
    cr_assert_not_null(at, "%s", (char *)b.p);
    fx.port = (unsigned)atoi(at + 6);
    cw_buf_free(&b);
    cr_assert_gt(fx.port, 0);

    reply r = http(&fx, "GET", "/healthz", NULL, NULL);
    json_t *h = js(&r);
    cr_assert_not_null(json_object_get(h, "feed"));
    cr_assert(json_is_null(json_object_get(h, "node_reachable")), "no message yet: %s", r.body);
    json_decref(h);
    free(r.body);

    /* the capture goes in (ZeroMQ from this thread) while a thread screens */
    screener sc = {&fx, 0, 0, 0};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, screen_loop, &sc), 0);
    for (int i = 0; i < 100 && atomic_load(&sc.ok) == 0; i++)
        test_sleep_ms(20);
    cr_assert_eq(zpub_replay_capture(pub, "btc/regtest-v30/zmq-capture.jsonl", 0, -1), 342);
    int st;
    /* the monitor records its alerts; the API serves them from the same process */
    size_t n = 0;
    for (int i = 0; i < 200 && n == 0; i++) {
        test_sleep_ms(100);
        r = http(&fx, "GET", "/v1/alerts?rule=designated_address", fx.key_review, NULL);
        cr_assert_eq(r.status, 200, "%s", r.body);
        json_t *j = js(&r);
        n = json_array_size(json_object_get(j, "alerts"));
        json_decref(j);
        free(r.body);
    }
    cr_assert_gt(n, 0, "no record served while watch ran");
    /* the screener ran from before the first message until the records were in */
    atomic_store(&sc.stop, 1);
    pthread_join(th, NULL);
    cr_assert_eq(sc.bad, 0, "%d answers were wrong while watch wrote", sc.bad);
    cr_assert_gt(atomic_load(&sc.ok), 1);
    r = http(&fx, "GET", "/healthz", NULL, NULL);
    h = js(&r);
    cr_assert_eq(json_is_true(json_object_get(h, "node_reachable")), true, "%s", r.body);
    cr_assert(json_is_true(json_object_get(json_object_get(h, "feed"), "fresh")), "%s", r.body);
    json_decref(h);
    free(r.body);
    r = http(&fx, "GET", "/metrics", NULL, NULL);
    cr_assert(strstr(r.body, "chainwatch_blocks_total ") && !strstr(r.body, "chainwatch_blocks_total 0\n"), "%s",
              r.body);
    cr_assert(strstr(r.body, "chainwatch_txs_total "), "%s", r.body);
    free(r.body);
    kill(pid, SIGTERM);
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "watch --api ended with %d", st);
    cw_buf wl = CW_BUF_INIT;
    cr_assert_eq(cw_read_file(log, 1 << 22, &wl, NULL), CW_OK);
    cw_buf_append(&wl, "", 1, NULL);
    cr_assert(!strstr((char *)wl.p, "Sanitizer") && !strstr((char *)wl.p, "runtime error"), "%s", (char *)wl.p);
    cw_buf_free(&wl);
    zpub_stop(pub);
    fx_done(&fx);
}

Test(api, rate_limit_per_key)
{
    api_fx fx;
    fx_make(&fx);
    const char *opts[] = {"--api-rate", "5", NULL};
    serve_start(&fx, opts, NULL);
    int ok = 0, limited = 0;
    for (int i = 0; i < 20; i++) {
        reply r = http(&fx, "GET", "/api/v1/address/" GENESIS_ADDR, fx.key_screen, NULL);
        if (r.status == 200) {
            ok++;
            free(r.body);
        } else {
            is_error(&r, 429, "rate_limited");
            limited++;
        }
    }
    /* a burst of one second's worth (5), then about 5 a second: 20 quick requests cannot all pass */
    cr_assert_geq(ok, 5);
    cr_assert_geq(limited, 10, "ok %d, limited %d", ok, limited);
    /* another key has its own bucket */
    reply r = http(&fx, "GET", "/api/v1/address/" GENESIS_ADDR, fx.key_review, NULL);
    cr_assert_eq(r.status, 200);
    free(r.body);
    serve_stop(&fx);
    fx_done(&fx);
}

/* A key's rate bucket is its own, not its line's in the key file: removing
 * an earlier key must not hand a drained key a fresh burst (buckets were
 * indexed by position, which shifts on removal). */
Test(api, rate_bucket_survives_removal_of_another_key)
{
    api_fx fx;
    fx_make(&fx);
    const char *opts[] = {"--api-rate", "20", NULL};
    serve_start(&fx, opts, NULL);
    /* drain ops (third key) */
    for (int i = 0; i < 40; i++) {
        reply r = http(&fx, "GET", "/api/v1/address/" GENESIS_ADDR, fx.key_admin, NULL);
        free(r.body);
    }
    char *o, *e;
    char *argv[] = {CW_BIN, "apikey", "remove", "exchange", "--datadir", fx.dd, NULL};
    cr_assert_eq(run_cmd(argv, NULL, 0, &o, &e), 0, "%s", e);
    free(o), free(e);
    /* keep ops drained until the server has seen the removal (exchange: 401).
     * The server looks at the key file once a second: pace the loop (2 ms a
     * round, up to 6 s), or a fast machine runs it out before the next look. */
    bool gone = false, refused = false;
    int passed = 0; /* ops's requests answered since its last 429 */
    struct timespec t0 = {0}, t1;
    for (int i = 0; i < 3000 && !gone; i++) {
        test_sleep_ms(2);
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        reply r = http(&fx, "GET", "/api/v1/address/" GENESIS_ADDR, fx.key_admin, NULL);
        if (r.status == 429) /* less than one token when the server looked, at or after t */
            refused = true, t0 = t, passed = 0;
        else
            passed += r.status == 200;
        free(r.body);
        r = http(&fx, "GET", "/api/v1/address/" GENESIS_ADDR, fx.key_screen, NULL);
        gone = r.status == 401;
        free(r.body);
    }
    cr_assert(gone, "the server never dropped the removed key");
    int ok = 0;
    for (int i = 0; i < 10; i++) {
        reply r = http(&fx, "GET", "/api/v1/address/" GENESIS_ADDR, fx.key_admin, NULL);
        ok += r.status == 200;
        free(r.body);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* Less than one token at ops's last 429, then refilled at 20/s: since
     * then at most 1 + 20 * secs requests pass (a few ms: 1 or 2; longer on
     * a loaded machine), where a fresh bucket (20) passes all of them. */
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    int refill = 1 + (int)(secs * 20.0 + 0.5);
    serve_stop(&fx);
    fx_done(&fx);
    /* A machine this slow refills the bucket as fast as the requests come:
     * the run cannot tell, which is no failure (no upper bound on time). */
    if (!refused || refill >= passed + 10)
        cr_skip_test("ops's requests took %.2f s since its last 429 (one: %s): too slow to tell a refill from a fresh "
                     "bucket (%d of 10 passed)", secs, refused ? "yes" : "no", ok);
    cr_assert_leq(passed + ok, refill,
                  "ops got a fresh bucket after another key was removed: %d of %d passed in %.3f s", passed + ok,
                  passed + 10, secs);
}

/* A raw TCP connection to the fixture's server on 127.0.0.1, for the tests
 * that must control each byte (slow requests, slow readers); rcvbuf > 0
 * sets SO_RCVBUF before connecting. */
static int raw_connect(const api_fx *fx, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    if (rcvbuf > 0)
        cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fx->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* --api-timeout is a limit on the whole request, not only on idleness: a
 * client dripping its body a byte at a time under the idle limit
 * (slowloris) is cut off once the request is older than the limit. */
Test(api, slow_body_is_cut_at_the_request_time_limit, .timeout = 60)
{
    api_fx fx;
    fx_make(&fx);
    const char *opts[] = {"--api-timeout", "2", NULL};
    serve_start(&fx, opts, NULL);
    int fd = raw_connect(&fx, 0);
    char head[300];
    int hn = snprintf(head, sizeof head,
                      "POST /v1/screen HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: %s\r\n"
                      "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n",
                      fx.key_screen);
    cr_assert_eq(send(fd, head, (size_t)hn, MSG_NOSIGNAL), hn);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool cut = false;
    char got[512] = "";
    for (int i = 0; i < 14 && !cut; i++) {
        struct timespec d = {0, 700 * 1000 * 1000}; /* under the 2 s idle limit */
        nanosleep(&d, NULL);
        ssize_t r = recv(fd, got, sizeof got - 1, MSG_DONTWAIT);
        if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            cut = true;
            break;
        }
        if (send(fd, " ", 1, MSG_NOSIGNAL) != 1)
            cut = true;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    close(fd);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert(cut, "a body dripped under the idle limit kept the request open for %.1f s (limit 2 s)", secs);
    /* no upper bound: a late wake-up of this test makes it longer; cut
     * within the loop's 9.8 s of drips is the proof (MHD's idle timeout
     * alone never fires while a byte comes every 700 ms) */
    if (got[0])
        cr_assert(strstr(got, " 408 "), "%s", got);
    serve_stop(&fx);
    fx_done(&fx);
}

/* Sends head, then one byte of drip every 700 ms (under the 2 s idle
 * limit) until the server closes the connection or 14 bytes went; returns
 * the seconds from connect to the close (-1: never closed); what the
 * server sent goes to got. */
static double drip_until_cut(const api_fx *fx, const char *head, const char *drip, char *got, size_t cap)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int fd = raw_connect(fx, 0);
    cr_assert_eq(send(fd, head, strlen(head), MSG_NOSIGNAL), (ssize_t)strlen(head));
    got[0] = '\0';
    bool cut = false;
    for (size_t i = 0; i < 14 && !cut; i++) {
        struct timespec d = {0, 700 * 1000 * 1000};
        nanosleep(&d, NULL);
        ssize_t r = recv(fd, got, cap - 1, MSG_DONTWAIT);
        if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            got[r > 0 ? r : 0] = '\0';
            cut = true;
            break;
        }
        if (send(fd, drip + (i % strlen(drip)), 1, MSG_NOSIGNAL) != 1)
            cut = true;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    close(fd);
    return cut ? (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 : -1;
}

/* The same limit holds before the body: a request line or headers sent a
 * byte at a time under the idle limit (libmicrohttpd's timeout resets at
 * every byte) are cut once the connection has waited 2 s for its request;
 * a request that completes in time is answered. */
Test(api, slow_headers_and_request_line_are_cut_at_the_request_time_limit, .timeout = 60)
{
    api_fx fx;
    fx_make(&fx);
    const char *opts[] = {"--api-timeout", "2", NULL};
    serve_start(&fx, opts, NULL);
    char got[512];
    double secs = drip_until_cut(&fx, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", "abcdefg", got, sizeof got);
    cr_assert_gt(secs, 0, "headers dripped under the idle limit kept the connection for 10 s (limit 2 s)");
    cr_assert_geq(secs, 1.9, "headers cut after %.1f s, limit 2 s", secs); /* no upper bound: see above */
    cr_assert_eq(got[0], '\0', "no answer to a request never finished: %s", got);
    secs = drip_until_cut(&fx, "G", "ET /healthz", got, sizeof got);
    cr_assert_gt(secs, 0, "a dripped request line kept the connection for 10 s (limit 2 s)");
    cr_assert_geq(secs, 1.9, "request line cut after %.1f s, limit 2 s", secs); /* no upper bound: see above */
    /* slow but in time: the headers end after about 1.4 s */
    int fd = raw_connect(&fx, 0);
    const char *parts[] = {"GET /healthz HTTP/1.1\r\n", "Host: 127.0.0.1\r\n", "Connection: close\r\n\r\n"};
    for (int i = 0; i < 3; i++) {
        if (i)
            test_sleep_ms(700);
        cr_assert_eq(send(fd, parts[i], strlen(parts[i]), MSG_NOSIGNAL), (ssize_t)strlen(parts[i]));
    }
    size_t n = 0;
    for (ssize_t r; n < sizeof got - 1 && (r = recv(fd, got + n, sizeof got - 1 - n, 0)) > 0;)
        n += (size_t)r;
    got[n] = '\0';
    close(fd);
    cr_assert(strncmp(got, "HTTP/1.1 200", 12) == 0 || strncmp(got, "HTTP/1.1 503", 12) == 0,
              "a request finished within the limit is answered: %s", got);
    serve_stop(&fx);
    fx_done(&fx);
}

/* A batch screen of 1,000 addresses (about 300 KB of reply): its JSON body
 * into body (NUL-ended, for http()) and the whole HTTP request, with the
 * screen key, into req (close: "Connection: close"). */
static void batch_request(const api_fx *fx, bool close, cw_buf *body, cw_buf *req)
{
    cw_buf_append(body, "{\"addresses\":[", 14, NULL);
    for (int i = 0; i < 1000; i++)
        cw_buf_append(body, i ? ",\"" GENESIS_ADDR "\"" : "\"" GENESIS_ADDR "\"", strlen(GENESIS_ADDR) + 2 + (i > 0),
                      NULL);
    cw_buf_append(body, "]}", 3, NULL);
    char head[400];
    int hn = snprintf(head, sizeof head,
                      "POST /v1/screen HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: %s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n%s\r\n",
                      fx->key_screen, body->n - 1, close ? "Connection: close\r\n" : "");
    cw_buf_append(req, head, (size_t)hn, NULL);
    cw_buf_append(req, body->p, body->n - 1, NULL);
}

/* Opens a loopback connection to fx's server with a 4 KB receive buffer
 * and sends req whole. */
static int slow_client(const api_fx *fx, const char *req, size_t n)
{
    int fd = raw_connect(fx, 4096);
    for (size_t sent = 0; sent < n;) {
        ssize_t w = send(fd, req + sent, n - sent, MSG_NOSIGNAL);
        cr_assert_gt(w, 0, "sending the request: %s", strerror(errno));
        sent += (size_t)w;
    }
    return fd;
}

/* A client that takes its reply slowly: a batch screen of 1,000 addresses
 * (about 300 KB of reply), read 2 KB every 50 ms (40 KB/s) through a 4 KB
 * receive buffer. The server's send buffer is kept small (CW_SNDBUF, the
 * fault shim: on loopback the kernel would otherwise take megabytes of the
 * reply at once), so the server writes a little every fraction of a
 * second: libmicrohttpd's idle timeout never fires, and the reply would
 * take 7 s. With --api-timeout 2 and --api-reply-rate 1M (the reply's
 * allowance: 0.3 s) the server closes the connection once the reply has
 * waited 2.3 s (never before 2 s from the connect: the reply was not
 * queued earlier), counts it in /metrics, and answers other clients
 * meanwhile. Then a client that reads nothing at all is closed too. */
Test(api, a_reply_the_client_does_not_take_within_the_limit_is_cut_and_counted, .timeout = 120)
{
    api_fx fx;
    fx_make(&fx);
    const char *opts[] = {"--api-timeout", "2", "--api-reply-rate", "1048576", NULL};
    const char *env[] = {"LD_PRELOAD=" CW_FAULT_PRELOAD, "CW_SNDBUF=16384", NULL};
    serve_start(&fx, opts, env);
    cw_buf body = CW_BUF_INIT, req = CW_BUF_INIT;
    batch_request(&fx, false, &body, &req);
    /* the size of the reply, to a client that reads it at once */
    reply one = http(&fx, "POST", "/v1/screen", fx.key_screen, (const char *)body.p);
    cr_assert_eq(one.status, 200, "%s", one.body);
    size_t one_len = strlen(one.body);
    free(one.body);
    cr_assert_gt(one_len, 200000, "a large reply: %zu bytes", one_len);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int fd = slow_client(&fx, (const char *)req.p, req.n);
    size_t got = 0;
    bool cut = false, others_served = false;
    char buf[2048];
    for (int i = 0; i < 1800 && !cut; i++) { /* up to 90 s of slow reading */
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r > 0)
            got += (size_t)r;
        else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            cut = true;
        if (i == 10) { /* another client, while this one holds its reply */
            reply h = http(&fx, "GET", "/api/v1/address/" GENESIS_ADDR, fx.key_screen, NULL);
            others_served = h.status == 200 && strstr(h.body, "\"identifications\":[]") != NULL;
            cr_assert(others_served, "another client meanwhile: %ld %s", h.status, h.body);
            free(h.body);
        }
        if (!cut)
            test_sleep_ms(50);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    close(fd);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert(cut, "a client taking its reply at 40 KB/s kept the connection for %.0f s (limit 2 s); it took %zu bytes",
              secs, got);
    cr_assert_geq(secs, 2.0, "cut after %.2f s: before the reply had waited the limit", secs);
    cr_assert_lt(got, one_len, "the client did not take the whole reply (%zu bytes of %zu)", got, one_len);
    cr_assert(others_served);
    reply m = http(&fx, "GET", "/metrics", NULL, NULL);
    cr_assert_eq(m.status, 200);
    cr_assert(strstr(m.body, "\nchainwatch_api_connections_cut_total{phase=\"reply\"} 1\n"), "%s", m.body);
    cr_assert(strstr(m.body, "\nchainwatch_api_connections_cut_total{phase=\"request\"} 0\n"), "%s", m.body);
    free(m.body);
    /* a client that reads nothing at all: the server closes its end too
     * (by the limit, or by libmicrohttpd's idle timeout, the same 2 s). Its
     * FIN waits behind the reply the client does not take, so the client
     * cannot see it: the server's socket is looked at in /proc/net/tcp
     * (state 01 ESTABLISHED until the server shuts it down) */
    fd = slow_client(&fx, (const char *)req.p, req.n);
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&me, &ml), 0);
    cut = false;
    int state = -1;
    for (int i = 0; i < 900 && !cut; i++) {
        FILE *f = fopen("/proc/net/tcp", "r");
        cr_assert_not_null(f);
        char line[512];
        state = -1;
        while (fgets(line, sizeof line, f)) {
            unsigned lport, rport, st;
            if (sscanf(line, " %*d: %*8x:%x %*8x:%x %x", &lport, &rport, &st) == 3 && lport == fx.port &&
                rport == ntohs(me.sin_port))
                state = (int)st;
        }
        fclose(f);
        cut = state != 1; /* FIN_WAIT1 (a FIN queued), or gone */
        if (!cut)
            test_sleep_ms(100);
    }
    close(fd);
    cr_assert(cut, "a client that reads nothing kept its connection for 90 s (state %d)", state);
    cw_buf_free(&body);
    cw_buf_free(&req);
    serve_stop(&fx);
    fx_done(&fx);
}

/* A steady reader of a large reply keeps it past --api-timeout: the same
 * 300 KB batch answer read 2 KB every 40 ms (about 50 KB/s, 6 s in all)
 * with --api-timeout 3, under the default --api-reply-rate (16 KB/s: the
 * reply may take 3 s + 18 s). The whole reply arrives. The read taking
 * over 4 s is asserted so that the test shows something: a flat limit of
 * 3 s would have cut it (a slow machine only reads slower; 21 s is over 3
 * times the nominal time, and libmicrohttpd's idle limit, the same 3 s,
 * is met only by a test process stalled that long between two reads). */
Test(api, a_steady_reader_of_a_large_reply_keeps_it_past_the_limit, .timeout = 120)
{
    api_fx fx;
    fx_make(&fx);
    const char *opts[] = {"--api-timeout", "3", NULL};
    const char *env[] = {"LD_PRELOAD=" CW_FAULT_PRELOAD, "CW_SNDBUF=16384", NULL};
    serve_start(&fx, opts, env);
    cw_buf body = CW_BUF_INIT, req = CW_BUF_INIT;
    batch_request(&fx, true, &body, &req);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int fd = slow_client(&fx, (const char *)req.p, req.n);
    cw_buf got = CW_BUF_INIT;
    char buf[2048];
    bool ended = false, reset = false;
    for (int i = 0; i < 3000 && !ended; i++) { /* a cap: 120 s of reading */
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r > 0)
            cw_buf_append(&got, buf, (size_t)r, NULL);
        else if (r == 0)
            ended = true;
        else if (errno != EAGAIN && errno != EWOULDBLOCK)
            ended = reset = true;
        if (!ended)
            test_sleep_ms(40);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    close(fd);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert(ended && !reset, "the reply did not end cleanly (%zu bytes in %.1f s)", got.n, secs);
    cr_assert_gt(secs, 4.0, "read in %.2f s: too fast to show the allowance", secs);
    /* all of it: the status line, and the body up to its closing brace */
    cw_buf_append(&got, "", 1, NULL);
    const char *text = (const char *)got.p;
    cr_assert(strncmp(text, "HTTP/1.1 200", 12) == 0, "%.200s", text);
    const char *b = strstr(text, "\r\n\r\n");
    cr_assert_not_null(b);
    json_t *j = json_loads(b + 4, 0, NULL);
    cr_assert_not_null(j, "the body is whole JSON (%zu bytes read)", got.n);
    cr_assert_eq(json_array_size(json_object_get(j, "results")), 1000, "%.300s", b + 4);
    json_decref(j);
    reply m = http(&fx, "GET", "/metrics", NULL, NULL);
    cr_assert(strstr(m.body, "\nchainwatch_api_connections_cut_total{phase=\"reply\"} 0\n"), "%s", m.body);
    free(m.body);
    cw_buf_free(&got);
    cw_buf_free(&body);
    cw_buf_free(&req);
    serve_stop(&fx);
    fx_done(&fx);
}

/* A client that keeps its connection open between requests (a pooled
 * keep-alive connection, as HTTP client libraries keep them) and sends
 * nothing more is closed once idle for the limit, but it is no slow
 * request: /metrics does not count it as one (an operator alerting on
 * chainwatch_api_connections_cut_total{phase="request"} for slowloris
 * would be paged by every idle pool). Before, the watchdog cut it first
 * and counted it. The wait is a lower bound only: 4 s idle, limit 2 s. */
Test(api, an_idle_keep_alive_connection_is_not_counted_as_a_slow_request, .timeout = 60)
{
    api_fx fx;
    fx_make(&fx);
    const char *opts[] = {"--api-timeout", "2", NULL};
    serve_start(&fx, opts, NULL);
    int fd = raw_connect(&fx, 0);
    const char *req = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    cr_assert_eq(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    char got[4096];
    size_t n = 0;
    for (ssize_t r; n < sizeof got - 1 && !(n > 4 && got[n - 1] == '\n' && strstr(got, "\r\n\r\n{") &&
                                              got[n - 2] == '}') &&
                    (r = recv(fd, got + n, sizeof got - 1 - n, 0)) > 0;) {
        n += (size_t)r;
        got[n] = '\0';
    }
    got[n] = '\0';
    cr_assert(strncmp(got, "HTTP/1.1 200", 12) == 0 || strncmp(got, "HTTP/1.1 503", 12) == 0, "%s", got);
    cr_assert_null(strstr(got, "Connection: close"), "a keep-alive reply: %s", got);
    /* idle: closed by the server within a few seconds */
    ssize_t r = recv(fd, got, sizeof got, 0);
    cr_assert_leq(r, 0, "nothing more comes on an idle connection");
    close(fd);
    reply m = http(&fx, "GET", "/metrics", NULL, NULL);
    cr_assert_eq(m.status, 200);
    cr_assert(strstr(m.body, "\nchainwatch_api_connections_cut_total{phase=\"request\"} 0\n"), "%s",
              strstr(m.body, "chainwatch_api_connections_cut_total") ? strstr(m.body, "chainwatch_api_connections_cut_total")
                                                                      : m.body);
    free(m.body);
    /* a request dripped under the idle limit still counts as one */
    cr_assert_gt(drip_until_cut(&fx, "G", "ET /healthz", got, sizeof got), 0, "a dripped request line was never cut");
    m = http(&fx, "GET", "/metrics", NULL, NULL);
    cr_assert_eq(m.status, 200);
    cr_assert(strstr(m.body, "\nchainwatch_api_connections_cut_total{phase=\"request\"} 1\n"), "%s", m.body);
    free(m.body);
    serve_stop(&fx);
    fx_done(&fx);
}

/* One GET on an open keep-alive connection; returns the status, the body
 * in body (cap bytes). The reply must come whole on this connection. */
static long ka_get(int fd, const char *target, const char *key, char *body, size_t cap)
{
    char req[512], got[8192];
    int n = key ? snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: %s\r\n\r\n", target, key)
                : snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", target);
    cr_assert_eq(send(fd, req, (size_t)n, MSG_NOSIGNAL), n, "the connection was closed");
    size_t have = 0, need = 0;
    for (;;) {
        ssize_t r = recv(fd, got + have, sizeof got - 1 - have, 0);
        cr_assert_gt(r, 0, "the connection was closed before the reply to %s came whole", target);
        have += (size_t)r;
        got[have] = '\0';
        char *end = strstr(got, "\r\n\r\n"), *cl = strcasestr(got, "\r\nContent-Length: ");
        if (end && cl && cl < end) {
            need = (size_t)(end + 4 - got) + strtoul(cl + 18, NULL, 10);
            if (have >= need)
                break;
        }
    }
    cr_assert_eq(have, need, "nothing but the reply");
    long status = strtol(got + 9, NULL, 10);
    /* a request refused before its body is read (401, 403) ends its connection */
    if (status < 400)
        cr_assert_null(strstr(got, "Connection: close"), "a keep-alive reply: %s", got);
    snprintf(body, cap, "%s", strstr(got, "\r\n\r\n") + 4);
    return status;
}

/* A connection keeps the key it presented, and is checked again for each
 * request (server.c api_conn): on one keep-alive connection that used a
 * good key, a wrong key of the same length, no key, or a key of another
 * role is refused or judged by its own role (a refusal closes the
 * connection: the next step opens another and uses the good key first),
 * and a key removed from the file stops working on the connection that
 * used it. */
static int ka_open(const api_fx *fx, const char *key)
{
    char body[4096];
    int fd = raw_connect(fx, 0);
    cr_assert_eq(ka_get(fd, "/api/v1/address/" SUEX_BTC, key, body, sizeof body), 200, "%s", body);
    cr_assert(strstr(body, "SUEX OTC"), "%s", body);
    return fd;
}

Test(api, a_keep_alive_connection_is_judged_by_each_requests_key, .timeout = 60)
{
    api_fx fx;
    fx_make(&fx);
    serve_start(&fx, NULL, NULL);
    char body[4096], almost[80];
    snprintf(almost, sizeof almost, "%s", fx.key_screen);
    almost[strlen(almost) - 1] ^= 1; /* one bit off: the same length */
    int fd = ka_open(&fx, fx.key_screen);
    cr_assert_eq(ka_get(fd, "/api/v1/address/" SUEX_BTC, fx.key_screen, body, sizeof body), 200, "%s", body);
    cr_assert_eq(ka_get(fd, "/api/v1/address/" SUEX_BTC, almost, body, sizeof body), 401, "%s", body);
    close(fd);
    fd = ka_open(&fx, fx.key_screen);
    cr_assert_eq(ka_get(fd, "/api/v1/address/" SUEX_BTC, NULL, body, sizeof body), 401, "%s", body);
    close(fd);
    fd = ka_open(&fx, fx.key_screen);
    cr_assert_eq(ka_get(fd, "/v1/alerts", fx.key_screen, body, sizeof body), 403, "%s", body);
    close(fd);
    fd = ka_open(&fx, fx.key_review);
    cr_assert_eq(ka_get(fd, "/v1/alerts", fx.key_review, body, sizeof body), 200, "%s", body);
    cr_assert_eq(ka_get(fd, "/api/v1/address/" SUEX_BTC, fx.key_screen, body, sizeof body), 200, "%s", body);
    cr_assert_eq(ka_get(fd, "/v1/alerts", fx.key_screen, body, sizeof body), 403, "%s", body);
    close(fd);
    fd = ka_open(&fx, fx.key_screen);
    cr_assert_eq(ka_get(fd, "/v1/alerts", fx.key_review, body, sizeof body), 200, "%s", body);
    close(fd);
    /* a key removed while a connection keeps it */
    char late[80];
    key_add(&fx, "late", "screen", late, sizeof late);
    long st = 0;
    for (int i = 0; i < 40 && st != 200; i++) {
        test_sleep_ms(100);
        reply r = http(&fx, "GET", "/api/v1/address/" GENESIS_ADDR, late, NULL);
        st = r.status;
        free(r.body);
    }
    cr_assert_eq(st, 200, "a new key was never accepted");
    fd = ka_open(&fx, late);
    char *rm[] = {CW_BIN, "apikey", "remove", "late", "--datadir", fx.dd, NULL};
    must_run(rm);
    for (int i = 0; i < 40 && st != 401; i++) {
        test_sleep_ms(100);
        st = ka_get(fd, "/api/v1/address/" GENESIS_ADDR, late, body, sizeof body);
    }
    cr_assert_eq(st, 401, "a removed key still works on the connection that used it");
    close(fd);
    serve_stop(&fx);
    fx_done(&fx);
}

/* EIP-155's example tx (chains/ethereum's vector): it pays 0x3535...35,
 * listed by the fixture's own list. */
#define EIP155_TX                                                                                                      \
    "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195f" \
    "e537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"

Test(api, ethereum_tx_as_the_cli_screens_it)
{
    api_fx fx;
    fx_make(&fx);
    serve_start(&fx, NULL, NULL);
    reply r = http(&fx, "POST", "/v1/screen", fx.key_screen, "{\"tx\":\"" EIP155_TX "\",\"direction\":\"withdrawal\"}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *api = js(&r);
    free(r.body);
    cr_assert_str_eq(json_string_value(json_object_get(api, "chain")), "ethereum");
    cr_assert_str_eq(json_string_value(json_object_get(api, "decision")), "block");
    cr_assert_str_eq(json_string_value(json_object_get(api, "risk")), "severe");
    /* the same bytes named as Ethereum, without 0x */
    r = http(&fx, "POST", "/v1/screen", fx.key_screen, "{\"chain\":\"ethereum\",\"tx\":\"" EIP155_TX "\"}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    r = http(&fx, "POST", "/v1/screen", fx.key_screen, "{\"tx\":\"" EIP155_TX "\",\"amount\":\"1\"}");
    is_error(&r, 400, "bad_request");
    r = http(&fx, "POST", "/v1/screen", fx.key_screen, "{\"tx\":\"0xf86c09\"}");
    is_error(&r, 400, "bad_tx");
    r = http(&fx, "POST", "/v1/screen", fx.key_screen, "{\"tx\":\"" EIP155_TX "\",\"chain\":\"dogecoin\"}");
    is_error(&r, 400, "bad_request");
    char *o, *e;
    char *argv[] = {CW_BIN, "screen", EIP155_TX, "--direction", "withdrawal", "--datadir", fx.dd, NULL};
    cr_assert_eq(run_cmd(argv, NULL, 0, &o, &e), 12, "%s", e);
    json_t *cli = json_loads(o, 0, NULL);
    cr_assert_not_null(cli, "%s", o);
    json_object_del(api, "risk");
    json_object_del(api, "alert_id");
    json_object_del(api, "alert_ids");
    cr_assert(json_equal(api, cli), "API and CLI differ:\n%s\n%s", json_dumps(api, JSON_SORT_KEYS), o);
    free(o), free(e);
    json_decref(cli);
    json_decref(api);
    serve_stop(&fx);
    fx_done(&fx);
}

/* A signed Tron tx as java-tron's HTTP API returns it: a real mainnet USDT
 * payment (signed_txs.jsonl line 0) re-signed with its recipient replaced
 * by TA3941uFAvmVibSkQ6fMJXxmaSNovX86mz, a Cheil Credit Bank address on
 * the OFAC list of 2025-11-19 (sdn_advanced.xml, uid 22985). POST
 * /v1/screen gives the answer `chainwatch screen --chain tron` prints,
 * whether the tx comes as an object (told by its shape) or as a string
 * with "chain":"tron"; refusals are 400s naming the field. */
Test(api, tron_tx_as_the_cli_screens_it, .timeout = 120)
{
    api_fx fx;
    fx_make(&fx);
    char *imp[] = {CW_BIN, "watchlist", "import", "sdn-advanced", CW_SDN_XML, "--datadir", fx.dd, NULL};
    must_run(imp);
    serve_start(&fx, NULL, NULL);
    /* GET /api/v1/address writes its answer without a JSON tree: the exact
     * bytes, as Chainalysis names an identification (SDN_ADVANCED.XML: Kim
     * Sang Man, uid 43377, DPRK4, designated 2023-05-23; Lazarus Group, uid
     * 27307, DPRK3, 2019-09-13), one space between the fields; twice (the
     * second answer comes from the thread's parsed-entity memo) */
    for (int round = 0; round < 2; round++) {
        reply a = http(&fx, "GET", "/api/v1/address/1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ", fx.key_screen, NULL);
        cr_assert_str_eq(a.body,
                         "{\"identifications\":[{\"category\":\"sanctions\",\"description\":\"Kim Sang Man is designated "
                         "on the SDN list (programs: DPRK4); ofac-sdn lists 1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ under it "
                         "(ofac-sdn entry 43377).\",\"name\":\"SANCTIONS: OFAC SDN Kim Sang Man 2023-05-23 "
                         "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ\",\"url\":\"https://sanctionssearch.ofac.treas.gov/"
                         "Details.aspx?id=43377\"}]}\n");
        free(a.body);
        /* an EVM address given in lower case is named in its checksummed form */
        a = http(&fx, "GET", "/api/v1/address/0x098b716b8aaf21512996dc57eb0615e2383e2f96", fx.key_screen, NULL);
        cr_assert_str_eq(a.body,
                         "{\"identifications\":[{\"category\":\"sanctions\",\"description\":\"Lazarus Group is "
                         "designated on the SDN list (programs: DPRK3); ofac-sdn lists "
                         "0x098B716B8Aaf21512996dC57EB0615e2383E2f96 under it (ofac-sdn entry 27307).\",\"name\":"
                         "\"SANCTIONS: OFAC SDN Lazarus Group 2019-09-13 0x098B716B8Aaf21512996dC57EB0615e2383E2f96\","
                         "\"url\":\"https://sanctionssearch.ofac.treas.gov/Details.aspx?id=27307\"}]}\n");
        free(a.body);
    }
    cw_addr cheil;
    cr_assert_eq(cw_addr_parse("TA3941uFAvmVibSkQ6fMJXxmaSNovX86mz", CW_NET_ANY, &cheil, NULL), CW_OK);
    json_t *t = tron_test_resigned(0, cheil.payload);
    char *txt = json_dumps(t, JSON_COMPACT);
    /* by its shape: tx is an object */
    json_t *req = json_pack("{s:O,s:s}", "tx", t, "direction", "withdrawal");
    char *body = json_dumps(req, JSON_COMPACT);
    reply r = http(&fx, "POST", "/v1/screen", fx.key_screen, body);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *api = js(&r);
    free(r.body), free(body), json_decref(req);
    cr_assert_str_eq(json_string_value(json_object_get(api, "chain")), "tron");
    cr_assert_str_eq(json_string_value(json_object_get(api, "type")), "tx");
    cr_assert_str_eq(json_string_value(json_object_get(api, "subject")), json_string_value(json_object_get(t, "txID")));
    cr_assert_str_eq(json_string_value(json_object_get(api, "decision")), "block");
    cr_assert_str_eq(json_string_value(json_object_get(api, "risk")), "severe");
    cr_assert_str_eq(json_string_value(json_object_get(api, "direction")), "withdrawal");
    json_t *x = json_array_get(json_object_get(api, "transfers"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(x, "to")), "TA3941uFAvmVibSkQ6fMJXxmaSNovX86mz");
    cr_assert_str_eq(json_string_value(json_object_get(x, "amount")), "41677389");
    /* named: "chain":"tron" and the JSON as a string */
    req = json_pack("{s:s,s:s,s:s}", "chain", "tron", "tx", txt, "direction", "withdrawal");
    body = json_dumps(req, JSON_COMPACT);
    r = http(&fx, "POST", "/v1/screen", fx.key_screen, body);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *api2 = js(&r);
    free(r.body), free(body), json_decref(req);
    cr_assert(json_equal(api, api2), "object and string forms differ:\n%s", json_dumps(api2, JSON_SORT_KEYS));
    json_decref(api2);
    /* the CLI, same tx on stdin */
    char *o, *e;
    char *argv[] = {CW_BIN, "screen", "--chain", "tron", "-", "--direction", "withdrawal", "--datadir", fx.dd, NULL};
    cr_assert_eq(run_cmd(argv, (const uint8_t *)txt, strlen(txt), &o, &e), 12, "%s", e);
    json_t *cli = json_loads(o, 0, NULL);
    cr_assert_not_null(cli, "%s", o);
    json_object_del(api, "risk");
    json_object_del(api, "alert_id");
    json_object_del(api, "alert_ids");
    cr_assert(json_equal(api, cli), "API and CLI differ:\n%s\n%s", json_dumps(api, JSON_SORT_KEYS), o);
    free(o), free(e);
    json_decref(cli);
    json_decref(api);
    /* refusals: BTC amount, a tampered signature, not JSON, a chain unknown */
    req = json_pack("{s:O,s:s}", "tx", t, "amount", "1");
    body = json_dumps(req, JSON_COMPACT);
    r = http(&fx, "POST", "/v1/screen", fx.key_screen, body);
    is_error(&r, 400, "bad_request");
    free(body), json_decref(req);
    json_t *orig = tron_api_tx(5);
    json_object_set(t, "signature", json_object_get(orig, "signature"));
    req = json_pack("{s:O}", "tx", t);
    body = json_dumps(req, JSON_COMPACT);
    r = http(&fx, "POST", "/v1/screen", fx.key_screen, body);
    cr_assert_eq(r.status, 400, "%s", r.body);
    cr_assert(strstr(r.body, "\"bad_tx\"") && strstr(r.body, "signature[0]"), "%s", r.body);
    free(r.body), free(body), json_decref(req), json_decref(orig);
    r = http(&fx, "POST", "/v1/screen", fx.key_screen, "{\"chain\":\"tron\",\"tx\":\"0a02abcd\"}");
    is_error(&r, 400, "bad_tx");
    r = http(&fx, "POST", "/v1/screen", fx.key_screen, "{\"chain\":\"tron\",\"tx\":7}");
    is_error(&r, 400, "bad_request");
    r = http(&fx, "POST", "/v1/screen", fx.key_screen, "{\"chain\":\"dogecoin\",\"tx\":{}}");
    is_error(&r, 400, "bad_request");
    free(txt);
    json_decref(t);
    serve_stop(&fx);
    fx_done(&fx);
}

/* replay --nice N and --cpu-idle (cli_nice): the backfill beside a
 * screening API runs at a lower CPU priority, then under SCHED_IDLE, its
 * later threads too (Linux keeps niceness and policy per thread; a thread
 * inherits its creator's). In a child: the test's own priority is left
 * alone. */
static void *thread_nice(void *p)
{
    errno = 0;
    *(int *)p = getpriority(PRIO_PROCESS, 0);
    return NULL;
}

static void *thread_policy(void *p)
{
    *(int *)p = sched_getscheduler(0);
    return NULL;
}

Test(api, replay_nice_lowers_the_priority_of_later_threads)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int base = getpriority(PRIO_PROCESS, 0);
        if (cli_nice("replay", 0, false) != 0 || getpriority(PRIO_PROCESS, 0) != base)
            _exit(1); /* 0: no change */
        if (cli_nice("replay", 5, false) != 0)
            _exit(2);
        int want = base + 5 > 19 ? 19 : base + 5;
        if (getpriority(PRIO_PROCESS, 0) != want)
            _exit(3);
        int seen = -100;
        pthread_t th;
        if (pthread_create(&th, NULL, thread_nice, &seen) != 0 || pthread_join(th, NULL) != 0 || seen != want)
            _exit(4);
        if (cli_nice("replay", 19, false) != 0 || getpriority(PRIO_PROCESS, 0) != 19)
            _exit(5); /* capped at 19 */
        if (sched_getscheduler(0) != SCHED_OTHER)
            _exit(6); /* --nice alone keeps the policy */
        if (cli_nice("replay", 0, true) != 0 || sched_getscheduler(0) != SCHED_IDLE)
            _exit(7); /* --cpu-idle */
        seen = -100;
        if (pthread_create(&th, NULL, thread_policy, &seen) != 0 || pthread_join(th, NULL) != 0 || seen != SCHED_IDLE)
            _exit(8); /* and the threads started after */
        _exit(0);
    }
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "step %d failed", WEXITSTATUS(st));
}

/* The yields counted in stderr by the fault shim (CW_COUNT_YIELD). */
static long yields_in(const char *err)
{
    const char *at = strstr(err, "fault: ");
    long n = -1;
    cr_assert(at && sscanf(at, "fault: %ld sched_yield calls", &n) == 1, "no yield count in:\n%s", err);
    return n;
}

/* replay --cpu-idle gives way: SCHED_IDLE alone lets the scheduler run the
 * replay until its next tick (4 ms at HZ=250) while a screening request
 * waits for the CPU (give_way.h), so the replay yields after every
 * GIVE_WAY_US of work (never more often); at the default priority it never
 * yields. Both replays connect the same chain into the same records. Small
 * (2,000 txs): a SCHED_IDLE process on cores busy with other suites runs
 * at a fraction of a percent of a CPU. */
Test(api, replay_cpu_idle_yields_to_other_tasks_and_connects_the_same, .timeout = 240)
{
    char root[] = "/tmp/cw-api-yield-XXXXXX";
    cr_assert_not_null(mkdtemp(root));
    char blocks[300], dd[2][300], alerts[2][300];
    snprintf(blocks, sizeof blocks, "%s/blocks", root);
    char *gen[] = {CW_GENCHAIN, "--out", blocks, "--network", "regtest", "--blocks", "10", "--txs-per-block", "200",
                   "--seed", "3", "--spend-paid", NULL};
    must_run(gen);
    char *out[2], *err[2];
    long wall_us = 0; /* the --cpu-idle run's, process start to exit: more than its work took */
    for (int i = 0; i < 2; i++) {
        snprintf(dd[i], sizeof dd[i], "%s/dd%d", root, i);
        snprintf(alerts[i], sizeof alerts[i], "%s/alerts%d.jsonl", root, i);
        char *init[] = {CW_BIN, "init", "--datadir", dd[i], NULL};
        must_run(init);
        setenv("LD_PRELOAD", CW_FAULT_PRELOAD, 1);
        setenv("CW_COUNT_YIELD", "1", 1);
        char *rep[] = {CW_BIN, "replay", "--blocksdir", blocks, "--datadir", dd[i], "--network", "regtest",
                       "--alerts", alerts[i], i ? "--cpu-idle" : NULL, NULL};
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = run_cmd(rep, NULL, 0, &out[i], &err[i]);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        wall_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
        unsetenv("LD_PRELOAD");
        unsetenv("CW_COUNT_YIELD");
        cr_assert_eq(rc, 0, "%s", err[i]);
    }
    long plain = yields_in(err[0]), idle = yields_in(err[1]);
    cr_assert_eq(plain, 0, "a default-priority replay yielded %ld times", plain);
    cr_assert_gt(idle, 0, "a --cpu-idle replay of 2,000 txs never yielded");
    cr_assert_leq(idle, 1 + wall_us / GIVE_WAY_US, "%ld yields in %ld us: more than one per %d us of work", idle,
                  wall_us, GIVE_WAY_US);
    /* the summary counts the same yields the shim saw, and says how long
     * the longest stretch between two was; a default-priority run has no
     * such line */
    cr_assert_null(strstr(out[0], "cpu-idle"), "%s", out[0]);
    char *line = strstr(out[1], "\n  cpu-idle    gave way ");
    cr_assert_not_null(line, "%s", out[1]);
    long said = -1;
    double longest_ms = -1;
    cr_assert_eq(sscanf(line, "\n  cpu-idle    gave way %ld times; longest stretch without giving way %lf ms of CPU",
                        &said, &longest_ms),
                 2, "%s", line);
    cr_assert_eq(said, idle, "the summary says %ld yields, the shim counted %ld", said, idle);
    cr_assert_gt(longest_ms, 0.0, "%s", line);
    cr_assert_lt(longest_ms * 1000.0, (double)wall_us, "%s", line);
    memmove(line + 1, strchr(line + 1, '\n') + 1, strlen(strchr(line + 1, '\n') + 1) + 1);
    /* the same chain connected: the summaries' counts (not the datadir,
     * the rates or the time) */
    char *counts[2];
    for (int i = 0; i < 2; i++) {
        counts[i] = strstr(out[i], "\n  blocks");
        cr_assert_not_null(counts[i], "%s", out[i]);
        char *el = strstr(out[i], "  elapsed");
        cr_assert_not_null(el, "%s", out[i]);
        *el = 0;
        char *tx = strstr(out[i], "tx/s"); /* "txs N (R tx/s)": the rate differs */
        cr_assert_not_null(tx, "%s", out[i]);
        char *open = tx;
        while (open > out[i] && *open != '(')
            open--;
        memmove(open, tx + 4, strlen(tx + 4) + 1);
        char *mb = strstr(out[i], "MB/s");
        if (mb) {
            char *o2 = mb;
            while (o2 > out[i] && *o2 != '(')
                o2--;
            memmove(o2, mb + 4, strlen(mb + 4) + 1);
        }
    }
    cr_assert_str_eq(counts[0], counts[1], "the two replays' summaries differ");
    cr_assert_not_null(strstr(counts[0], "blocks      10 connected"), "%s", counts[0]);
    for (int i = 0; i < 2; i++)
        free(out[i]), free(err[i]);
    test_remove_dir(strdup(root));
}

/* watch --nice/--cpu-idle lower the whole process: with --api in it, the
 * API's threads would run at the priority meant to keep the CPU for them,
 * so the pair is refused, naming the way out. */
Test(api, watch_refuses_nice_with_its_own_api, .timeout = 60)
{
    api_fx fx;
    fx_make(&fx);
    const char *variants[2][2] = {{"--nice", "5"}, {"--cpu-idle", NULL}};
    for (int v = 0; v < 2; v++) {
        char *argv[] = {CW_BIN, "watch", "--datadir", fx.dd, "--network", "regtest", "--zmqpubrawtx=tcp://127.0.0.1:1",
                        "--api", "127.0.0.1:0", (char *)variants[v][0], (char *)variants[v][1], NULL};
        char *o, *e;
        cr_assert_eq(run_cmd(argv, NULL, 0, &o, &e), 2, "%s: %s", variants[v][0], e);
        cr_assert(strstr(e, "--nice and --cpu-idle lower the whole process") && strstr(e, "chainwatch serve"), "%s", e);
        free(o), free(e);
    }
    fx_done(&fx);
}

/* --api-threads N: one listening socket per server thread on the one port
 * (SO_REUSEPORT: the kernel spreads new connections over them; one shared
 * socket let the first thread awake accept a whole burst, and the others
 * idle), counted in /proc/net/tcp; a second server on that port is still
 * refused ("in use"), not let into the group. */
Test(api, each_server_thread_listens_and_a_port_in_use_is_refused)
{
    api_fx fx;
    fx_make(&fx);
    const char *opts[] = {"--api-threads", "3", NULL};
    serve_start(&fx, opts, NULL);
    FILE *f = fopen("/proc/net/tcp", "r");
    cr_assert_not_null(f);
    char line[512];
    int listening = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned port, st;
        if (sscanf(line, " %*d: %*8[0-9A-F]:%x %*8[0-9A-F]:%*x %x", &port, &st) == 2 && port == fx.port && st == 0x0A)
            listening++;
    }
    fclose(f);
    cr_assert_eq(listening, 3, "listening sockets on port %u: %d", fx.port, listening);
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", fx.port);
    char *o, *e;
    char *argv[] = {CW_BIN, "serve", "--listen", listen, "--datadir", fx.dd, "--api-threads", "2", NULL};
    int rc = run_cmd(argv, NULL, 0, &o, &e);
    cr_assert_neq(rc, 0, "a second server on the port started");
    cr_assert(strstr(e, "in use"), "%s", e);
    free(o), free(e);
    reply r = http(&fx, "GET", "/api/v1/address/" GENESIS_ADDR, fx.key_screen, NULL);
    cr_assert_str_eq(r.body, "{\"identifications\":[]}\n");
    free(r.body);
    serve_stop(&fx);
    fx_done(&fx);
}

/* Starts `serve --listen 127.0.0.1:PORT --api-threads 2` on datadir dd,
 * its stdout on *out_fd (the port line when it listens). */
static pid_t serve_spawn(const char *dd, unsigned port, int *out_fd)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(p[1], 1);
        int nul = open("/dev/null", O_WRONLY);
        dup2(nul, 2);
        /* slow between binding and listening: the other server starts inside that window */
        setenv("LD_PRELOAD", CW_FAULT_PRELOAD, 1);
        setenv("CW_DELAY_LISTEN", "400", 1);
        close(p[0]);
        close(p[1]);
        char listen[64];
        snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
        char *argv[] = {CW_BIN, "serve", "--listen", listen, "--datadir", (char *)dd, "--api-threads", "2", NULL};
        execv(CW_BIN, argv);
        _exit(127);
    }
    close(p[1]);
    *out_fd = p[0];
    return pid;
}

/* Whether a spawned serve listens: true at its port line, false when it
 * ended (EOF) first. */
static bool serve_listened(int fd)
{
    char buf[256];
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
        if (r <= 0)
            return false;
        got += (size_t)r;
        buf[got] = '\0';
        if (strchr(buf, '\n'))
            return strncmp(buf, "{\"port\":", 8) == 0;
    }
}

/* SO_REUSEPORT lets every socket of the same user with the option join a
 * port's group: two servers started at the same moment must not both pass
 * the check for a port in use (a plain bind, then closed) and then share
 * the port, each answering from its own datadir. Each server is slowed
 * between binding and listening (CW_DELAY_LISTEN, tests/tools/fault.c) so
 * the second starts inside the first's window: at most one listens. */
Test(api, two_servers_started_at_once_never_share_a_port, .timeout = 120)
{
    char root[] = "/tmp/cw-api-race-XXXXXX";
    cr_assert_not_null(mkdtemp(root));
    char dd[2][300];
    for (int i = 0; i < 2; i++) {
        snprintf(dd[i], sizeof dd[i], "%s/dd%d", root, i);
        char *init[] = {CW_BIN, "init", "--datadir", dd[i], NULL};
        must_run(init);
    }
    int both = 0, none = 0;
    for (int round = 0; round < 3; round++) {
        int s = socket(AF_INET, SOCK_STREAM, 0); /* a free port */
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof a;
        cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
        cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &al), 0);
        close(s);
        unsigned port = ntohs(a.sin_port);
        int fd[2];
        pid_t pid[2];
        for (int i = 0; i < 2; i++)
            pid[i] = serve_spawn(dd[i], port, &fd[i]);
        int up = 0;
        for (int i = 0; i < 2; i++) {
            up += serve_listened(fd[i]);
            close(fd[i]);
        }
        for (int i = 0; i < 2; i++) {
            kill(pid[i], SIGTERM);
            int st;
            cr_assert_eq(waitpid(pid[i], &st, 0), pid[i]);
        }
        both += up == 2;
        none += up == 0;
    }
    test_remove_dir(strdup(root));
    cr_assert_eq(both, 0, "in %d of 3 rounds both servers listened on one port", both);
    cr_assert_lt(none, 3, "no server ever started");
}

/* src copied to dst with each `from` replaced by `to` (NULL: copied as is). */
static void file_with(const char *src, const char *dst, const char *from, const char *to)
{
    cw_buf b = CW_BUF_INIT;
    cr_assert_eq(cw_read_file(src, 1 << 24, &b, NULL), CW_OK, "%s", src);
    cr_assert_eq(cw_buf_append(&b, "", 1, NULL), CW_OK);
    FILE *f = fopen(dst, "w");
    cr_assert_not_null(f);
    const char *p = (const char *)b.p, *hit;
    int n = 0;
    while (from && (hit = strstr(p, from)) != NULL) {
        fwrite(p, 1, (size_t)(hit - p), f);
        fputs(to, f);
        p = hit + strlen(from);
        n++;
    }
    fputs(p, f);
    fclose(f);
    cr_assert(from == NULL || n > 0, "'%s' not in %s", from, src);
    cw_buf_free(&b);
}

static void sdn_reimport(api_fx *fx, const char *from, const char *to)
{
    char csv[300], com[300];
    snprintf(csv, sizeof csv, "%s/sdn.csv", fx->root);
    snprintf(com, sizeof com, "%s/comments.csv", fx->root);
    file_with(CW_DATA_DIR "/ofac/sdn_subset.csv", csv, from, to);
    file_with(CW_DATA_DIR "/ofac/sdn_comments_subset.csv", com, NULL, NULL);
    char *imp[] = {CW_BIN, "watchlist", "import", "sdn-csv", csv, "--comments", com, "--datadir", fx->dd, NULL};
    must_run(imp);
}

/* GET /api/v1/address reuses a thread's parsed entity record only while
 * the store holds the same bytes: an import while serve runs (the entity
 * renamed to a name of the same length, so its record keeps its length;
 * the address delisted; listed again) is seen by the next answer of every
 * server thread, never the memo's. */
Test(api, address_answer_follows_imports_while_serving, .timeout = 60)
{
    api_fx fx;
    fx_make(&fx);
    const char *opts[] = {"--api-threads", "2", NULL};
    serve_start(&fx, opts, NULL);
    const char *names[] = {"SUEX OTC, S.R.O.", "SUEX OTD, S.R.O.", NULL, "SUEX OTC, S.R.O."};
    for (int step = 0; step < 4; step++) {
        if (step == 1)
            sdn_reimport(&fx, "\"SUEX OTC, S.R.O.\"", "\"SUEX OTD, S.R.O.\"");
        else if (step == 2)
            sdn_reimport(&fx, "Digital Currency Address - XBT " SUEX_BTC, "Website suex.example");
        else if (step == 3)
            sdn_reimport(&fx, NULL, NULL);
        for (int i = 0; i < 8; i++) { /* each of the two threads answers some (one connection each) */
            reply r = http(&fx, "GET", "/api/v1/address/" SUEX_BTC, fx.key_screen, NULL);
            cr_assert_eq(r.status, 200, "%s", r.body);
            json_t *j = js(&r);
            json_t *ids = json_object_get(j, "identifications");
            if (names[step] == NULL) {
                cr_assert_eq(json_array_size(ids), 0, "step %d: delisted, yet %s", step, r.body);
            } else {
                char want[200];
                snprintf(want, sizeof want, "SANCTIONS: OFAC SDN %s " SUEX_BTC, names[step]);
                cr_assert_eq(json_array_size(ids), 1, "step %d: %s", step, r.body);
                cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ids, 0), "name")), want,
                                 "step %d", step);
            }
            json_decref(j);
            free(r.body);
        }
    }
    serve_stop(&fx);
    fx_done(&fx);
}

/* The entity memo never hides a store error: once the entity record of a
 * listed address cannot be read, the answer is 503, though the thread
 * parsed that record for the request before (one server thread, so the
 * memo is the same; the key is "ofac-sdn\0" "33151", SUEX's record). */
Test(api, an_entity_read_error_is_503_though_the_memo_has_it)
{
    api_fx fx;
    fx_make(&fx);
    const char *opts[] = {"--api-threads", "1", NULL};
    const char *env[] = {"LD_PRELOAD=" CW_FAULT_PRELOAD, "CW_FAIL_MDB=mdb_get:2+:EIO@6f6661632d73646e003333313531",
                         NULL};
    serve_start(&fx, opts, env);
    reply r = http(&fx, "GET", "/api/v1/address/" SUEX_BTC, fx.key_screen, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.body, "SUEX OTC, S.R.O."), "%s", r.body);
    free(r.body);
    for (int i = 0; i < 2; i++) {
        r = http(&fx, "GET", "/api/v1/address/" SUEX_BTC, fx.key_screen, NULL);
        cr_assert(strstr(r.body, "could not be made"), "%s", r.body);
        is_error(&r, 503, "store_error");
    }
    r = http(&fx, "GET", "/api/v1/address/" GENESIS_ADDR, fx.key_screen, NULL); /* other reads still work */
    cr_assert_str_eq(r.body, "{\"identifications\":[]}\n");
    free(r.body);
    serve_stop(&fx);
    fx_done(&fx);
}
