/* rest.c: Bitcoin Core REST client over one reused libcurl easy handle. */
#include "rest.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chains/bitcoin/block.h"
#include "chains/hex.h"

#define REST_BASE_MAX 160
#define REST_URL_MAX (REST_BASE_MAX + 128)
#define REST_JSON_MAX (1024u * 1024)
#define REST_HASH_MAX 256u
#define REST_HINT "is bitcoind running with -rest=1?"

struct rest_client {
    CURL *h;
    char base[REST_BASE_MAX + 1];
    char url[REST_URL_MAX];
    cw_buf *body;    /* where the write callback appends */
    size_t cap;      /* body cap of the request in flight */
    bool over;       /* the body passed cap: the callback aborted the transfer */
    bool oom;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    rest_client *c = ud;
    size_t len = size * n;
    if (len > c->cap - c->body->n) {
        /* Keep what fits: an error page's first line still explains it. */
        cw_buf_append(c->body, p, c->cap - c->body->n, NULL);
        c->over = true;
        return 0;  /* makes curl fail with CURLE_WRITE_ERROR */
    }
    if (cw_buf_append(c->body, p, len, NULL) != CW_OK) {
        c->oom = true;
        return 0;
    }
    return len;
}

cw_code rest_open(const char *base_url, rest_client **out, cw_err *err)
{
    *out = NULL;
    if (!base_url)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "REST URL missing: give one like http://127.0.0.1:8332");
    size_t n = strlen(base_url);
    if (n < 7 || strncasecmp(base_url, "http://", 7) != 0)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "REST URL \"%.100s\" refused: bitcoind's REST is plain http, give one like "
                          "http://127.0.0.1:8332",
                          base_url);
    if (n > REST_BASE_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "REST URL \"%.60s...\" refused: over %d chars", base_url,
                          REST_BASE_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)base_url[i];
        if (ch <= ' ' || ch == 0x7f || ch == '?' || ch == '#')
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                              "REST URL \"%s\" refused: character %zu is a space, control, '?' or '#'", base_url,
                              i + 1);
    }
    while (n > 7 && base_url[n - 1] == '/')
        n--;
    if (n == 7 || base_url[7] == '/' || base_url[7] == ':')
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "REST URL \"%s\" refused: no host", base_url);

    rest_client *c = calloc(1, sizeof *c);
    if (!c)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory opening REST client for %s", base_url);
    memcpy(c->base, base_url, n);
    c->base[n] = '\0';
    /* Reference-counted, and thread-safe in the curl versions we build on
     * (>= 7.84); pairs with curl_global_cleanup() in rest_close(). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(c);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "libcurl failed to initialise for %s", base_url);
    }
    c->h = curl_easy_init();
    if (!c->h) {
        curl_global_cleanup();
        free(c);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "libcurl could not create a handle for %s", base_url);
    }
    CURL *h = c->h;
    /* NOSIGNAL: curl's SIGALRM-based DNS timeouts longjmp out of a
     * signal handler, which is unsafe in any program with its own handlers
     * (watch and replay stop on SIGINT/SIGTERM). No redirects: bitcoind never sends them,
     * and following one could leave the node we were told to use. */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "chainwatch");
    *out = c;
    return CW_OK;
}

void rest_close(rest_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->h);
    curl_global_cleanup();
    free(c);
}

/* bitcoind's error bodies are short text ("Block height out of range");
 * quoting the first line tells the user what the node thought was wrong. */
static void body_excerpt(const cw_buf *b, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; b->p && i < b->n && k + 1 < cap; i++) {
        unsigned char ch = b->p[i];
        if (ch == '\n' || ch == '\r')
            break;
        out[k++] = (ch >= ' ' && ch < 0x7f) ? (char)ch : '?';
    }
    out[k] = '\0';
}

/* GETs c->url into body (replaced), capped at cap bytes. CW_OK only for 200;
 * what_404 is the explanation a 404 gets for this endpoint. */
static cw_code get(rest_client *c, cw_buf *body, size_t cap, const char *what_404, cw_err *err)
{
    body->n = 0;
    c->body = body;
    c->cap = cap;
    c->over = c->oom = false;
    curl_easy_setopt(c->h, CURLOPT_URL, c->url);
    /* Refuses early when the server announces a body over the cap. */
    curl_easy_setopt(c->h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cap);
    CURLcode rc = curl_easy_perform(c->h);
    c->body = NULL;
    if (c->oom) {
        body->n = 0;
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "GET %s: out of memory reading the body", c->url);
    }
    long status = 0;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    /* A non-200 status explains more than the cap or the transfer error it
     * may have caused (a large HTML 404 page from something not bitcoind). */
    if (status == 200 || status == 0) {
        if (c->over || rc == CURLE_FILESIZE_EXCEEDED) {
            body->n = 0;
            return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET,
                              "GET %s: body over %zu bytes, refused: is this a bitcoind REST server?", c->url, cap);
        }
        if (rc != CURLE_OK) {
            body->n = 0;
            /* curl's short text, not its error buffer: the buffer repeats
             * the host and port the URL already names, and the line must
             * stay under CW_ERR_MSG_MAX with the hint intact. */
            const char *why = curl_easy_strerror(rc);
            const char *hint = (rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
                                rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_GOT_NOTHING ||
                                rc == CURLE_RECV_ERROR)
                                   ? REST_HINT
                                   : "check the REST URL";
            return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "GET %s: %s (curl error %d): %s", c->url, why, (int)rc,
                              hint);
        }
        return CW_OK;
    }
    char said[64];
    body_excerpt(body, said, sizeof said);
    body->n = 0;
    if (status == 404)
        return cw_err_set(err, CW_ENOTFOUND, CW_NO_OFFSET, "GET %s: HTTP 404%s%s%s: %s", c->url, said[0] ? " \"" : "",
                          said, said[0] ? "\"" : "", what_404);
    return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "GET %s: HTTP %ld%s%s%s: %s", c->url, status,
                      said[0] ? " \"" : "", said, said[0] ? "\"" : "",
                      status == 403 ? "bitcoind refused: is -rest=1 set and the client allowed?"
                      : status == 503 ? "bitcoind is busy or starting: retry later"
                                      : "unexpected answer from bitcoind's REST interface");
}

cw_code rest_chaininfo(rest_client *c, int64_t *height, uint8_t best_hash[32], cw_err *err)
{
    snprintf(c->url, sizeof c->url, "%s/rest/chaininfo.json", c->base);
    cw_buf body = CW_BUF_INIT;
    cw_code rc = get(c, &body, REST_JSON_MAX, REST_HINT, err);
    if (rc != CW_OK) {
        cw_buf_free(&body);
        return rc;
    }
    json_error_t je;
    json_t *j = json_loadb((const char *)body.p, body.n, 0, &je);
    cw_buf_free(&body);
    if (!j)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "GET %s: body is not JSON (%s at char %d)", c->url, je.text,
                          je.position);
    json_t *blocks = json_object_get(j, "blocks");
    json_t *best = json_object_get(j, "bestblockhash");
    const char *hex = json_string_value(best);
    if (!json_is_integer(blocks) || json_integer_value(blocks) < 0 || !hex || strlen(hex) != 64 ||
        cw_hex_decode_hash_rev(hex, best_hash, NULL) != CW_OK) {
        json_decref(j);
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                          "GET %s: \"blocks\" (integer >= 0) or \"bestblockhash\" (64 hex) missing or malformed",
                          c->url);
    }
    *height = (int64_t)json_integer_value(blocks);
    json_decref(j);
    return CW_OK;
}

cw_code rest_block_hash_at(rest_client *c, int64_t height, uint8_t hash[32], cw_err *err)
{
    if (height < 0)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "block height %lld refused: negative", (long long)height);
    snprintf(c->url, sizeof c->url, "%s/rest/blockhashbyheight/%lld.hex", c->base, (long long)height);
    cw_buf body = CW_BUF_INIT;
    cw_code rc = get(c, &body, REST_HASH_MAX, "height above the node's tip (or REST disabled)", err);
    if (rc != CW_OK) {
        cw_buf_free(&body);
        return rc;
    }
    size_t n = body.n;
    while (n > 0 && (body.p[n - 1] == '\n' || body.p[n - 1] == '\r' || body.p[n - 1] == ' '))
        n--;
    char hex[65];
    bool ok = n == 64;
    if (ok) {
        memcpy(hex, body.p, 64);
        hex[64] = '\0';
        ok = cw_hex_decode_hash_rev(hex, hash, NULL) == CW_OK;
    }
    cw_buf_free(&body);
    if (!ok)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "GET %s: body is not a 64-hex-char block hash", c->url);
    return CW_OK;
}

cw_code rest_block(rest_client *c, const uint8_t hash[32], cw_buf *out, cw_err *err)
{
    char hex[65];
    cw_hex_encode_rev(hash, 32, hex);
    snprintf(c->url, sizeof c->url, "%s/rest/block/%s.bin", c->base, hex);
    cw_code rc = get(c, out, REST_MAX_BLOCK_BYTES, "block unknown to this node (or pruned, or REST disabled)", err);
    if (rc != CW_OK)
        return rc;
    btc_header h;
    if (btc_header_parse(out->p, out->n, &h, NULL) != CW_OK) {
        size_t got = out->n;
        out->n = 0;
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "GET %s: body of %zu bytes is too short for a block",
                          c->url, got);
    }
    if (memcmp(h.hash, hash, 32) != 0) {
        char got[65];
        cw_hex_encode_rev(h.hash, 32, got);
        out->n = 0;
        return cw_err_set(err, CW_ECHECKSUM, CW_NO_OFFSET, "GET %s: the node sent block %s instead", c->url, got);
    }
    return CW_OK;
}

cw_code rest_headers(rest_client *c, const uint8_t from_hash[32], size_t count, cw_buf *out, cw_err *err)
{
    if (count == 0 || count > REST_MAX_HEADERS) {
        out->n = 0;
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "header count %zu refused: must be 1 to %u", count,
                          REST_MAX_HEADERS);
    }
    char hex[65];
    cw_hex_encode_rev(from_hash, 32, hex);
    snprintf(c->url, sizeof c->url, "%s/rest/headers/%s.bin?count=%zu", c->base, hex, count);
    cw_code rc = get(c, out, count * BTC_HEADER_SIZE, "REST disabled, or bitcoind older than v24", err);
    if (rc != CW_OK)
        return rc;
    if (out->n % BTC_HEADER_SIZE != 0) {
        size_t got = out->n;
        out->n = 0;
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "GET %s: body of %zu bytes is not whole 80-byte headers",
                          c->url, got);
    }
    uint8_t prev[32];
    for (size_t off = 0; off < out->n; off += BTC_HEADER_SIZE) {
        btc_header h;
        btc_header_parse(out->p + off, BTC_HEADER_SIZE, &h, NULL);
        bool ok = off == 0 ? memcmp(h.hash, from_hash, 32) == 0 : memcmp(h.prev, prev, 32) == 0;
        if (!ok) {
            out->n = 0;
            return cw_err_set(err, CW_ECHECKSUM, CW_NO_OFFSET, "GET %s: header %zu does not %s", c->url,
                              off / BTC_HEADER_SIZE, off == 0 ? "hash to the one asked for" : "follow the one before");
        }
        memcpy(prev, h.hash, 32);
    }
    return CW_OK;
}
