#include "tron_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "curl_why.h"

#define URL_MAX 400

struct tron_http {
    tron_http_options o;
    char url[URL_MAX + 1];
    CURL *curl;
    struct curl_slist *headers;
    cw_buf *reply;       /* the request's reply being written */
    bool over;           /* the reply passed max_reply */
    tron_http_stats stats;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    tron_http *h = ud;
    size_t len = size * n;
    if (h->reply->n + len > h->o.max_reply) {
        h->over = true;
        return 0; /* aborts the transfer: never parsed cut */
    }
    return cw_buf_append(h->reply, p, len, NULL) == CW_OK ? len : 0;
}

cw_code tron_http_open(const tron_http_options *o, tron_http **out, cw_err *err)
{
    const char *u = o->url ? o->url : "";
    size_t n = strlen(u);
    if ((strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) || n <= 8)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "--tron-http: '%.80s' is not http://host:port", u);
    if (n > URL_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "--tron-http: the URL is over %d bytes", URL_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] <= ' ' || u[i] == 0x7f)
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "--tron-http: a space or control character at %zu", i);
    tron_http *h = calloc(1, sizeof *h);
    if (h == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    h->o = *o;
    if (h->o.max_reply == 0)
        h->o.max_reply = 64u << 20;
    if (h->o.connect_timeout_ms == 0)
        h->o.connect_timeout_ms = 5000;
    if (h->o.timeout_ms == 0)
        h->o.timeout_ms = 60000;
    if (h->o.backoff_ms == 0)
        h->o.backoff_ms = 200;
    memcpy(h->url, u, n + 1);
    while (n > 0 && h->url[n - 1] == '/')
        h->url[--n] = '\0';
    h->o.url = h->url;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    h->curl = curl_easy_init();
    h->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (h->curl == NULL || h->headers == NULL) {
        tron_http_close(h);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "libcurl: out of memory");
    }
    curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, h->o.connect_timeout_ms);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, h->o.timeout_ms);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "chainwatch");
    *out = h;
    return CW_OK;
}

void tron_http_close(tron_http *h)
{
    if (h == NULL)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers);
    free(h);
}

const char *tron_http_url(const tron_http *h) { return h->url; }

void tron_http_stats_get(const tron_http *h, tron_http_stats *out) { *out = h->stats; }

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

cw_code tron_http_post(tron_http *h, const char *path, const char *body, const char *what, cw_buf *reply,
                       cw_err *err)
{
    char url[URL_MAX + 128];
    snprintf(url, sizeof url, "%s%s", h->url, path);
    if (h->o.answer) {
        reply->n = 0;
        h->stats.requests++;
        cw_code rc = h->o.answer(h->o.hook_ctx, path, body, reply, err);
        h->stats.bytes += reply->n;
        return rc;
    }
    char ebuf[CURL_ERROR_SIZE];
    unsigned delay = h->o.backoff_ms;
    for (unsigned attempt = 0;; attempt++) {
        reply->n = 0;
        h->reply = reply;
        h->over = false;
        ebuf[0] = '\0';
        curl_easy_setopt(h->curl, CURLOPT_URL, url);
        curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, ebuf);
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        CURLcode cc = curl_easy_perform(h->curl);
        curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
        h->reply = NULL;
        h->stats.requests++;
        h->stats.bytes += reply->n;
        long status = 0;
        if (cc == CURLE_OK)
            curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
        if (h->over)
            return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "%s at %s: the reply is over %zu bytes", what, h->url,
                              h->o.max_reply);
        if (cc == CURLE_OK && status == 200) {
            if (h->o.tap)
                h->o.tap(h->o.hook_ctx, path, body, reply);
            return CW_OK;
        }
        bool retry = cc != CURLE_OK || status >= 500 || status == 429;
        if (!retry || attempt >= h->o.retries) {
            if (cc != CURLE_OK) { /* the same words at every poll of one outage: logged once (curl_why.h) */
                char why[CURL_ERROR_SIZE + 64];
                curl_why(cc, ebuf, h->o.connect_timeout_ms, h->o.timeout_ms, why, sizeof why);
                return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "%s at %s: %s (after %u %s)", what, h->url, why,
                                  attempt + 1, attempt ? "tries" : "try");
            }
            return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "%s at %s: HTTP status %ld (after %u %s): %.80s", what,
                              h->url, status, attempt + 1, attempt ? "tries" : "try",
                              reply->n ? (const char *)reply->p : "");
        }
        h->stats.retries++;
        sleep_ms(delay);
        delay = delay > 30000 ? 60000 : delay * 2;
    }
}

/* NUL-terminates the reply for messages (jansson takes the length). */
static cw_code terminate(cw_buf *b, cw_err *err)
{
    cw_code rc = cw_buf_append(b, "", 1, err);
    if (rc == CW_OK)
        b->n--;
    return rc;
}

cw_code tron_http_block(tron_http *h, int64_t number, tron_block *out, cw_err *err)
{
    cw_buf reply = CW_BUF_INIT;
    char body[64], what[96];
    snprintf(body, sizeof body, "{\"num\":%lld}", (long long)number);
    snprintf(what, sizeof what, "/wallet/getblockbynum %lld", (long long)number);
    cw_code rc = tron_http_post(h, "/wallet/getblockbynum", body, what, &reply, err);
    if (rc == CW_OK && (rc = terminate(&reply, err)) == CW_OK &&
        (rc = tron_block_parse((const char *)reply.p, reply.n, out, err)) != CW_OK)
        cw_err_prefix(err, rc, "%s at %s", what, h->url);
    if (rc == CW_OK && out->number != number) {
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s at %s: the node answered block %lld", what, h->url,
                        (long long)out->number);
        tron_block_free(out);
    }
    if (rc == CW_OK && out->n_tx > 0) {
        snprintf(what, sizeof what, "/wallet/gettransactioninfobyblocknum %lld", (long long)number);
        rc = tron_http_post(h, "/wallet/gettransactioninfobyblocknum", body, what, &reply, err);
        if (rc == CW_OK && (rc = terminate(&reply, err)) == CW_OK &&
            (rc = tron_block_apply_infos(out, (const char *)reply.p, reply.n, err)) != CW_OK)
            cw_err_prefix(err, rc, "%s at %s", what, h->url);
        if (rc)
            tron_block_free(out);
    }
    cw_buf_free(&reply);
    return rc;
}

cw_code tron_http_now(tron_http *h, int64_t *number, uint8_t hash[32], cw_err *err)
{
    cw_buf reply = CW_BUF_INIT;
    tron_block b;
    cw_code rc = tron_http_post(h, "/wallet/getnowblock", "{}", "/wallet/getnowblock", &reply, err);
    if (rc == CW_OK && (rc = terminate(&reply, err)) == CW_OK &&
        (rc = tron_block_parse((const char *)reply.p, reply.n, &b, err)) != CW_OK)
        cw_err_prefix(err, rc, "/wallet/getnowblock at %s", h->url);
    if (rc == CW_OK) {
        *number = b.number;
        memcpy(hash, b.hash, 32);
        tron_block_free(&b);
    }
    cw_buf_free(&reply);
    return rc;
}
