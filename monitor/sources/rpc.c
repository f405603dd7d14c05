/* rpc.c: JSON-RPC 2.0 over HTTP with one reused libcurl handle (rpc.h). */
#include "rpc.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "chains/buf.h"
#include "curl_why.h"

#define RPC_URL_MAX 512

struct rpc_client {
    CURL *h;
    struct curl_slist *headers;
    rpc_options o;
    char url[RPC_URL_MAX + 1];
    cw_buf body;
    bool over, oom;
    uint64_t next_id;
    double next_slot; /* CLOCK_MONOTONIC seconds: the rate limit's next free slot */
    rpc_error last;
    rpc_stats st;
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    rpc_client *c = ud;
    size_t len = size * n;
    if (len > c->o.max_reply - c->body.n) {
        c->over = true;
        return 0;
    }
    if (cw_buf_append(&c->body, p, len, NULL) != CW_OK) {
        c->oom = true;
        return 0;
    }
    return len;
}

cw_code rpc_open(const rpc_options *o, rpc_client **out, cw_err *err)
{
    *out = NULL;
    const char *u = o->url;
    if (u == NULL)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "RPC URL missing: give one like http://127.0.0.1:8545");
    size_t n = strlen(u);
    bool http = n > 7 && strncasecmp(u, "http://", 7) == 0, https = n > 8 && strncasecmp(u, "https://", 8) == 0;
    if (!http && !https)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "RPC URL \"%.100s\" refused: give the node's HTTP JSON-RPC endpoint, like http://127.0.0.1:8545",
                          u);
    if (n > RPC_URL_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "RPC URL \"%.60s...\" refused: over %d chars", u, RPC_URL_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)u[i];
        if (ch <= ' ' || ch == 0x7f)
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                              "RPC URL \"%.100s\" refused: character %zu is a space or a control character", u, i + 1);
    }
    size_t host = http ? 7 : 8;
    if (u[host] == '/' || u[host] == ':' || u[host] == '\0')
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "RPC URL \"%.100s\" refused: no host", u);
    rpc_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory opening an RPC client for %s", u);
    c->o = *o;
    if (c->o.max_reply == 0)
        c->o.max_reply = 64u << 20;
    if (c->o.connect_timeout_ms <= 0)
        c->o.connect_timeout_ms = 5000;
    if (c->o.timeout_ms <= 0)
        c->o.timeout_ms = 60000;
    if (c->o.backoff_ms == 0)
        c->o.backoff_ms = 200;
    memcpy(c->url, u, n + 1);
    c->o.url = c->url;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(c);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "libcurl failed to initialise for %s", u);
    }
    if ((c->h = curl_easy_init()) == NULL ||
        (c->headers = curl_slist_append(NULL, "Content-Type: application/json")) == NULL) {
        if (c->h)
            curl_easy_cleanup(c->h);
        curl_global_cleanup();
        free(c);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "libcurl could not create a handle for %s", u);
    }
    CURL *h = c->h;
    /* NOSIGNAL: watch and replay have their own SIGINT/SIGTERM handlers;
     * no redirects: following one could leave the node we were given. */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->o.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->o.timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "chainwatch");
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->o.max_reply);
    *out = c;
    return CW_OK;
}

void rpc_close(rpc_client *c)
{
    if (c == NULL)
        return;
    curl_slist_free_all(c->headers);
    curl_easy_cleanup(c->h);
    curl_global_cleanup();
    cw_buf_free(&c->body);
    free(c);
}

const char *rpc_url(const rpc_client *c) { return c->url; }
const rpc_error *rpc_last_error(const rpc_client *c) { return &c->last; }
void rpc_stats_get(const rpc_client *c, rpc_stats *out) { *out = c->st; }

/* Waits for the rate limit's next slot. */
static void rate_wait(rpc_client *c)
{
    if (c->o.rate <= 0)
        return;
    double now = mono(), gap = 1.0 / c->o.rate;
    if (c->next_slot > now)
        sleep_s(c->next_slot - now);
    c->next_slot = (c->next_slot > now ? c->next_slot : now) + gap;
}

/* POSTs body text; the reply in c->body. Retries transport failures. */
static cw_code post_net(rpc_client *c, const char *what, const char *req, size_t len, cw_err *err)
{
    unsigned delay = c->o.backoff_ms;
    char why[CURL_ERROR_SIZE + 64];
    for (unsigned attempt = 0;; attempt++) {
        rate_wait(c);
        c->body.n = 0;
        c->over = c->oom = false;
        char ebuf[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, ebuf);
        curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, req);
        curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        c->st.requests++;
        CURLcode cc = curl_easy_perform(c->h);
        curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, NULL);
        long status = 0;
        curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
        if (c->oom)
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s at %s: out of memory for the reply", what, c->url);
        if (c->over || cc == CURLE_FILESIZE_EXCEEDED)
            return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "%s at %s: reply over %zu bytes refused", what, c->url,
                              c->o.max_reply);
        bool retry;
        if (cc != CURLE_OK) {
            curl_why(cc, ebuf, c->o.connect_timeout_ms, c->o.timeout_ms, why, sizeof why);
            retry = true;
        } else if (status != 200) {
            /* a JSON-RPC error can come with a 4xx on some nodes: let the
             * body speak when it is JSON */
            if (status < 500 && status != 429 && c->body.n && c->body.p[0] == '{') {
                c->st.bytes += c->body.n;
                return CW_OK;
            }
            snprintf(why, sizeof why, "HTTP status %ld", status);
            retry = status >= 500 || status == 429;
        } else {
            c->st.bytes += c->body.n;
            return CW_OK;
        }
        if (!retry || attempt >= c->o.retries)
            return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "%s at %s: %s (after %u %s)", what, c->url, why,
                              attempt + 1, attempt ? "tries" : "try");
        c->st.retries++;
        sleep_s(delay / 1000.0);
        if (delay < 30000)
            delay *= 2;
    }
}

/* One exchange: answered (replay), or over the network and told to the
 * tap (record). The outcome is the same either way: what follows parses
 * c->body or passes the error up. */
static cw_code post(rpc_client *c, const char *what, const char *req, size_t len, cw_err *err)
{
    cw_err local = {0};
    if (err == NULL)
        err = &local;
    if (c->o.answer) {
        c->body.n = 0;
        c->st.requests++;
        cw_code rc = c->o.answer(c->o.hook_ctx, req, len, &c->body, err);
        if (rc == CW_OK)
            c->st.bytes += c->body.n;
        return rc;
    }
    cw_code rc = post_net(c, what, req, len, err);
    if (c->o.tap)
        c->o.tap(c->o.hook_ctx, req, len, rc, rc ? err : NULL, &c->body);
    return rc;
}

/* One reply object: its result (new reference) or the node's error. */
static cw_code take_reply(rpc_client *c, const char *method, json_t *r, uint64_t id, json_t **result, cw_err *err)
{
    if (!json_is_object(r))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s at %s: the reply is not a JSON-RPC object", method, c->url);
    json_t *e = json_object_get(r, "error");
    if (e && !json_is_null(e)) {
        c->last.set = true;
        c->last.code = json_integer_value(json_object_get(e, "code"));
        const char *m = json_string_value(json_object_get(e, "message"));
        snprintf(c->last.message, sizeof c->last.message, "%s", m ? m : "(no message)");
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "%s at %s: the node answered error %lld: %s", method, c->url,
                          c->last.code, c->last.message);
    }
    json_t *jid = json_object_get(r, "id");
    if (!json_is_integer(jid) || (uint64_t)json_integer_value(jid) != id)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s at %s: the reply's id is not the request's (%llu)", method,
                          c->url, (unsigned long long)id);
    json_t *res = json_object_get(r, "result");
    if (res == NULL)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s at %s: the reply has neither result nor error", method,
                          c->url);
    *result = json_incref(res);
    return CW_OK;
}

static json_t *request(rpc_client *c, const char *method, json_t *params, uint64_t *id)
{
    *id = ++c->next_id;
    json_t *q = json_object();
    if (q == NULL) {
        json_decref(params);
        return NULL;
    }
    json_object_set_new(q, "jsonrpc", json_string("2.0"));
    json_object_set_new(q, "id", json_integer((json_int_t)*id));
    json_object_set_new(q, "method", json_string(method));
    json_object_set_new(q, "params", params ? params : json_array());
    return q;
}

cw_code rpc_call(rpc_client *c, const char *method, json_t *params, json_t **result, cw_err *err)
{
    *result = NULL;
    c->last.set = false;
    uint64_t id;
    json_t *q = request(c, method, params, &id);
    char *text = q ? json_dumps(q, JSON_COMPACT) : NULL;
    json_decref(q);
    if (text == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s at %s: out of memory building the request", method, c->url);
    cw_code rc = post(c, method, text, strlen(text), err);
    free(text);
    if (rc)
        return rc;
    json_error_t je;
    json_t *r = json_loadb((const char *)c->body.p, c->body.n, 0, &je);
    if (r == NULL)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s at %s: the reply is not JSON (%s at byte %d)", method,
                          c->url, je.text, je.position);
    rc = take_reply(c, method, r, id, result, err);
    json_decref(r);
    return rc;
}

cw_code rpc_batch(rpc_client *c, size_t n, const char *const *methods, json_t **params, json_t **results, cw_err *err)
{
    c->last.set = false;
    for (size_t i = 0; i < n; i++)
        results[i] = NULL;
    if (n == 0)
        return CW_OK;
    json_t *arr = json_array();
    uint64_t first = c->next_id + 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t id;
        json_t *q = request(c, methods[i], params[i], &id);
        params[i] = NULL;
        if (q == NULL || arr == NULL || json_array_append_new(arr, q)) {
            for (size_t k = i + 1; k < n; k++)
                json_decref(params[k]), params[k] = NULL;
            json_decref(arr);
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s at %s: out of memory building a batch", methods[0],
                              c->url);
        }
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (text == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s at %s: out of memory building a batch", methods[0], c->url);
    char what[96];
    snprintf(what, sizeof what, "a batch of %zu %s", n, methods[0]);
    cw_code rc = post(c, what, text, strlen(text), err);
    free(text);
    if (rc)
        return rc;
    json_error_t je;
    json_t *r = json_loadb((const char *)c->body.p, c->body.n, 0, &je);
    if (r == NULL)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s at %s: the reply is not JSON (%s at byte %d)", what,
                          c->url, je.text, je.position);
    if (json_is_object(r)) { /* the node refused the batch as a whole */
        json_t *res;
        rc = take_reply(c, what, r, 0, &res, err);
        json_decref(r);
        if (rc == CW_OK) {
            json_decref(res);
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s at %s: one object answered a batch", what, c->url);
        }
        return rc;
    }
    if (!json_is_array(r) || json_array_size(r) != n) {
        json_decref(r);
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s at %s: %zu answers to %zu calls", what, c->url,
                          json_is_array(r) ? json_array_size(r) : 0, n);
    }
    size_t i;
    json_t *one;
    json_array_foreach(r, i, one)
    {
        json_t *jid = json_object_get(one, "id");
        uint64_t id = json_is_integer(jid) ? (uint64_t)json_integer_value(jid) : 0;
        if (id < first || id >= first + n || results[id - first]) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s at %s: answer %zu has an id that is no call's", what,
                            c->url, i);
            break;
        }
        size_t k = id - first;
        if ((rc = take_reply(c, methods[k], one, id, &results[k], err)))
            break;
    }
    json_decref(r);
    if (rc)
        for (size_t k = 0; k < n; k++)
            json_decref(results[k]), results[k] = NULL;
    return rc;
}
