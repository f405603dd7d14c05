/* rest_server.c: a bitcoind-like REST server for tests, and the regtest
 * block loader. */
#include "rest_server.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/bitcoin/blkfile.h"
#include "chains/bitcoin/block.h"
#include "chains/hex.h"
#include "support.h"

/* Bitcoin Core's MAX_REST_HEADERS_RESULTS. */
#define MAX_HEADERS 2000

typedef struct {
    uint8_t hash[32];
    uint8_t *bytes;
    size_t len;
} stored_block;

struct rest_server {
    struct MHD_Daemon *d;
    char url[64];
    pthread_mutex_t mu;
    stored_block *blocks;
    size_t nblocks, capblocks;
    uint8_t (*chain)[32];
    size_t chain_len;
    int fail_status, fail_times;
    size_t requests;
    pthread_cond_t cv; /* signalled when `hold` is cleared */
    bool hold;         /* rest_server_hold: requests wait */
    size_t hold_at;    /* rest_server_hold_at: hold from this many answered requests on (0: not armed) */
    size_t waiting;    /* requests waiting on `hold` now */
};

typedef struct {
    unsigned status;
    const char *type;
    uint8_t *body;  /* malloc'd; MHD frees it */
    size_t len;
} reply;

static void set_text(reply *r, unsigned status, const char *fmt, const char *arg)
{
    char tmp[256];
    int n = snprintf(tmp, sizeof tmp, fmt, arg);
    r->status = status;
    r->type = "text/plain";
    r->len = (size_t)n;
    r->body = malloc(r->len + 1);
    memcpy(r->body, tmp, r->len + 1);
}

static void set_bytes(reply *r, const uint8_t *p, size_t n, bool as_hex)
{
    r->status = MHD_HTTP_OK;
    if (as_hex) {
        r->type = "text/plain";
        r->body = malloc(2 * n + 2);
        cw_hex_encode(p, n, (char *)r->body);
        r->body[2 * n] = '\n';
        r->len = 2 * n + 1;
    } else {
        r->type = "application/octet-stream";
        r->body = malloc(n ? n : 1);
        if (n)
            memcpy(r->body, p, n);
        r->len = n;
    }
}

static const stored_block *find_block(const rest_server *s, const uint8_t hash[32])
{
    for (size_t i = 0; i < s->nblocks; i++)
        if (memcmp(s->blocks[i].hash, hash, 32) == 0)
            return &s->blocks[i];
    return NULL;
}

static bool chain_index(const rest_server *s, const uint8_t hash[32], size_t *h)
{
    for (size_t i = 0; i < s->chain_len; i++)
        if (memcmp(s->chain[i], hash, 32) == 0) {
            *h = i;
            return true;
        }
    return false;
}

/* Splits "<stem>.<ext>" (what follows a route prefix); false when there is no
 * extension or the stem is not exactly stem_len chars (0: any length). */
static bool split_ext(const char *rest, char *stem, size_t stem_cap, const char **ext)
{
    const char *dot = strrchr(rest, '.');
    if (!dot || dot == rest || (size_t)(dot - rest) >= stem_cap || strchr(rest, '/'))
        return false;
    memcpy(stem, rest, (size_t)(dot - rest));
    stem[dot - rest] = '\0';
    *ext = dot + 1;
    return true;
}

static bool parse_hash(const char *hex, uint8_t out[32])
{
    return strlen(hex) == 64 && cw_hex_decode_hash_rev(hex, out, NULL) == CW_OK;
}

/* Answers one request from the state; called with the mutex held. */
static void route(rest_server *s, struct MHD_Connection *conn, const char *url, reply *r)
{
    char stem[128];
    const char *ext;
    uint8_t hash[32];
    if (strcmp(url, "/rest/chaininfo.json") == 0) {
        int64_t h = (int64_t)s->chain_len - 1;
        char hex[65];
        if (s->chain_len)
            cw_hex_encode_rev(s->chain[s->chain_len - 1], 32, hex);
        else
            memset(hex, '0', 64), hex[64] = '\0';
        char tmp[512];
        int n = snprintf(tmp, sizeof tmp,
                         "{\"chain\":\"regtest\",\"blocks\":%" PRId64 ",\"headers\":%" PRId64
                         ",\"bestblockhash\":\"%s\",\"difficulty\":4.656542373906925e-10,"
                         "\"mediantime\":0,\"verificationprogress\":1,\"initialblockdownload\":false,"
                         "\"chainwork\":\"00\",\"size_on_disk\":0,\"pruned\":false,\"warnings\":[]}\n",
                         h, h, hex);
        r->status = MHD_HTTP_OK;
        r->type = "application/json";
        r->len = (size_t)n;
        r->body = malloc(r->len + 1);
        memcpy(r->body, tmp, r->len + 1);
        return;
    }
    if (strncmp(url, "/rest/blockhashbyheight/", 24) == 0 && split_ext(url + 24, stem, sizeof stem, &ext)) {
        char *end;
        long long h = strtoll(stem, &end, 10);
        if (!stem[0] || *end || h < 0)
            return set_text(r, MHD_HTTP_BAD_REQUEST, "Invalid height: %s\r\n", stem);
        if ((unsigned long long)h >= s->chain_len)
            return set_text(r, MHD_HTTP_NOT_FOUND, "Block height out of range\r\n%s", "");
        if (strcmp(ext, "json") == 0) {
            char hex[65], tmp[128];
            cw_hex_encode_rev(s->chain[h], 32, hex);
            snprintf(tmp, sizeof tmp, "{\"blockhash\":\"%s\"}\n", hex);
            set_text(r, MHD_HTTP_OK, "%s", tmp);
            r->type = "application/json";
            return;
        }
        if (strcmp(ext, "hex") == 0) {
            /* Display order, as bitcoind's GetHex(). */
            r->status = MHD_HTTP_OK;
            r->type = "text/plain";
            r->body = malloc(66);
            cw_hex_encode_rev(s->chain[h], 32, (char *)r->body);
            r->body[64] = '\n';
            r->len = 65;
            return;
        }
        if (strcmp(ext, "bin") == 0)
            return set_bytes(r, s->chain[h], 32, false);
        return set_text(r, MHD_HTTP_NOT_FOUND, "output format not found (available: .bin, .hex, .json)%s", "");
    }
    if (strncmp(url, "/rest/block/", 12) == 0 && split_ext(url + 12, stem, sizeof stem, &ext)) {
        if (!parse_hash(stem, hash))
            return set_text(r, MHD_HTTP_BAD_REQUEST, "Invalid hash: %s\r\n", stem);
        const stored_block *b = find_block(s, hash);
        if (!b)
            return set_text(r, MHD_HTTP_NOT_FOUND, "%s not found\r\n", stem);
        if (strcmp(ext, "bin") == 0 || strcmp(ext, "hex") == 0)
            return set_bytes(r, b->bytes, b->len, ext[0] == 'h');
        return set_text(r, MHD_HTTP_NOT_FOUND, "output format not found (available: .bin, .hex)%s", "");
    }
    if (strncmp(url, "/rest/headers/", 14) == 0 && split_ext(url + 14, stem, sizeof stem, &ext)) {
        const char *cs = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "count");
        char *end = NULL;
        long count = cs ? strtol(cs, &end, 10) : 5;  /* bitcoind's default */
        if ((cs && (!cs[0] || *end)) || count < 1 || count > MAX_HEADERS)
            return set_text(r, MHD_HTTP_BAD_REQUEST,
                            "Header count is invalid or out of acceptable range (1-2000): %s\r\n", cs ? cs : "");
        if (!parse_hash(stem, hash))
            return set_text(r, MHD_HTTP_BAD_REQUEST, "Invalid hash: %s\r\n", stem);
        if (strcmp(ext, "bin") != 0 && strcmp(ext, "hex") != 0)
            return set_text(r, MHD_HTTP_NOT_FOUND, "output format not found (available: .bin, .hex)%s", "");
        uint8_t *hdrs = malloc((size_t)count * BTC_HEADER_SIZE);
        size_t k = 0, h;
        /* As bitcoind: only blocks of the active chain, from that one up. A
         * chain block the test did not add ends the answer early. */
        if (chain_index(s, hash, &h))
            for (; h < s->chain_len && k < (size_t)count; h++, k++) {
                const stored_block *b = find_block(s, s->chain[h]);
                if (!b)
                    break;
                memcpy(hdrs + k * BTC_HEADER_SIZE, b->bytes, BTC_HEADER_SIZE);
            }
        set_bytes(r, hdrs, k * BTC_HEADER_SIZE, ext[0] == 'h');
        free(hdrs);
        return;
    }
    set_text(r, MHD_HTTP_NOT_FOUND, "Not found: %s", url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    rest_server *s = cls;
    /* MHD calls once when the headers arrive; answer on the second call so
     * a request body (none expected) is drained first. */
    if (*con_cls == NULL) {
        *con_cls = s;
        return MHD_YES;
    }
    *upload_size = 0;
    reply r = {0};
    pthread_mutex_lock(&s->mu);
    if (s->hold_at && s->requests >= s->hold_at)
        s->hold = true, s->hold_at = 0;
    if (s->hold) { /* the client waits for its answer until the test lets it go */
        s->waiting++;
        while (s->hold)
            pthread_cond_wait(&s->cv, &s->mu);
        s->waiting--;
    }
    s->requests++;
    if (s->fail_times > 0) {
        s->fail_times--;
        char st[16];
        snprintf(st, sizeof st, "%d", s->fail_status);
        set_text(&r, (unsigned)s->fail_status, "Injected failure: HTTP %s\r\n", st);
    } else if (strcmp(method, "GET") != 0) {
        set_text(&r, MHD_HTTP_METHOD_NOT_ALLOWED, "Only GET: not %s", method);
    } else {
        route(s, conn, url, &r);
    }
    pthread_mutex_unlock(&s->mu);
    struct MHD_Response *resp = MHD_create_response_from_buffer(r.len, r.body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(r.body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", r.type);
    enum MHD_Result ok = MHD_queue_response(conn, r.status, resp);
    MHD_destroy_response(resp);
    return ok;
}

rest_server *rest_server_start(void)
{
    rest_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned int)30, MHD_OPTION_END);
    if (!s->d) {
        fprintf(stderr, "rest_server: MHD_start_daemon on 127.0.0.1 failed\n");
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || info->port == 0) {
        fprintf(stderr, "rest_server: cannot read the bound port\n");
        rest_server_stop(s);
        return NULL;
    }
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%u", (unsigned)info->port);
    return s;
}

const char *rest_server_url(const rest_server *s) { return s->url; }

void rest_server_add_block(rest_server *s, const uint8_t *block, size_t len)
{
    btc_header h;
    if (btc_header_parse(block, len, &h, NULL) != CW_OK)
        return;
    uint8_t *copy = malloc(len);
    memcpy(copy, block, len);
    pthread_mutex_lock(&s->mu);
    if (find_block(s, h.hash)) {
        pthread_mutex_unlock(&s->mu);
        free(copy);
        return;
    }
    if (s->nblocks == s->capblocks) {
        s->capblocks = s->capblocks ? 2 * s->capblocks : 64;
        s->blocks = realloc(s->blocks, s->capblocks * sizeof *s->blocks);
    }
    stored_block *b = &s->blocks[s->nblocks++];
    memcpy(b->hash, h.hash, 32);
    b->bytes = copy;
    b->len = len;
    pthread_mutex_unlock(&s->mu);
}

void rest_server_set_chain(rest_server *s, const uint8_t (*hashes)[32], size_t n)
{
    uint8_t (*copy)[32] = NULL;
    if (n) {
        copy = malloc(n * sizeof *copy);
        memcpy(copy, hashes, n * sizeof *copy);
    }
    pthread_mutex_lock(&s->mu);
    uint8_t (*old)[32] = s->chain;
    s->chain = copy;
    s->chain_len = n;
    pthread_mutex_unlock(&s->mu);
    free(old);
}

void rest_server_fail(rest_server *s, int http_status, int times)
{
    pthread_mutex_lock(&s->mu);
    s->fail_status = http_status;
    s->fail_times = times > 0 ? times : 0;
    pthread_mutex_unlock(&s->mu);
}

size_t rest_server_requests(const rest_server *s)
{
    rest_server *m = (rest_server *)s;  /* the mutex is state, not the server's value */
    pthread_mutex_lock(&m->mu);
    size_t n = m->requests;
    pthread_mutex_unlock(&m->mu);
    return n;
}

void rest_server_hold(rest_server *s, bool on)
{
    pthread_mutex_lock(&s->mu);
    s->hold = on;
    if (!on) /* and an arm that never fired: it would hold a later request, or the stop */
        s->hold_at = 0, pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void rest_server_hold_at(rest_server *s, size_t n)
{
    pthread_mutex_lock(&s->mu);
    s->hold_at = n;
    pthread_mutex_unlock(&s->mu);
}

size_t rest_server_waiting(const rest_server *s)
{
    rest_server *m = (rest_server *)s; /* the mutex is state, not the server's value */
    pthread_mutex_lock(&m->mu);
    size_t n = m->waiting;
    pthread_mutex_unlock(&m->mu);
    return n;
}

void rest_server_stop(rest_server *s)
{
    if (!s)
        return;
    rest_server_hold(s, false); /* a held request would keep MHD_stop_daemon waiting */
    if (s->d)
        MHD_stop_daemon(s->d);
    for (size_t i = 0; i < s->nblocks; i++)
        free(s->blocks[i].bytes);
    free(s->blocks);
    free(s->chain);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- the regtest blocks ---- */

size_t regtest_blocks_load(uint8_t ***blocks, size_t **lens, uint8_t (**chain)[32], size_t *chain_len)
{
    size_t n, keylen;
    uint8_t *raw = fixture("btc/regtest-v30/blk00000.dat.bz2", &n);
    uint8_t *key = fixture("btc/regtest-v30/xor.dat", &keylen);
    cr_assert_eq(keylen, 8, "xor.dat: %zu bytes, want 8", keylen);
    uint8_t *dec = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        dec[i] = raw[i] ^ key[i % 8];
    free(key);

    size_t cap = 128, count = 0, pos = 0;
    uint8_t **bl = malloc(cap * sizeof *bl);
    size_t *ln = malloc(cap * sizeof *ln);
    uint8_t (*hashes)[32] = malloc(cap * sizeof *hashes);
    uint8_t (*prevs)[32] = malloc(cap * sizeof *prevs);
    for (;;) {
        /* Bitcoin Core preallocates blk files and never obfuscates the zero
         * padding: test the raw bytes, which de-obfuscated would be the key. */
        if (pos + 4 <= n && !raw[pos] && !raw[pos + 1] && !raw[pos + 2] && !raw[pos + 3])
            break;
        cw_net net;
        cw_span sp;
        bool done = false;
        cw_err err = {0};
        size_t at = pos;
        cr_assert_eq(btc_blk_next(dec, n, &pos, &net, &sp, &done, &err), CW_OK, "blk00000.dat at %zu: %s", at,
                     err.msg);
        if (done)
            break;
        cr_assert_eq(net, CW_NET_REGTEST, "blk00000.dat record at %zu is not regtest", at);
        if (count == cap) {
            cap *= 2;
            bl = realloc(bl, cap * sizeof *bl);
            ln = realloc(ln, cap * sizeof *ln);
            hashes = realloc(hashes, cap * sizeof *hashes);
            prevs = realloc(prevs, cap * sizeof *prevs);
        }
        btc_header h;
        cr_assert_eq(btc_header_parse(sp.p, sp.n, &h, &err), CW_OK, "block at %zu: %s", at, err.msg);
        bl[count] = malloc(sp.n);
        memcpy(bl[count], sp.p, sp.n);
        ln[count] = sp.n;
        memcpy(hashes[count], h.hash, 32);
        memcpy(prevs[count], h.prev, 32);
        count++;
    }
    free(raw);
    free(dec);
    cr_assert_gt(count, 0, "no blocks in blk00000.dat");

    /* Height of every block by its prev link (-1: not connected to genesis).
     * Parents come first in a blk file, but do not rely on it: iterate until
     * nothing changes. */
    static const uint8_t zero[32];
    long *height = malloc(count * sizeof *height);
    for (size_t i = 0; i < count; i++)
        height[i] = memcmp(prevs[i], zero, 32) == 0 ? 0 : -1;
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < count; i++) {
            if (height[i] >= 0)
                continue;
            for (size_t j = 0; j < count; j++)
                if (height[j] >= 0 && memcmp(prevs[i], hashes[j], 32) == 0) {
                    height[i] = height[j] + 1;
                    changed = true;
                    break;
                }
        }
    }
    /* The tip: the highest block; on a tie the first received, as bitcoind. */
    size_t tip = 0;
    for (size_t i = 1; i < count; i++)
        if (height[i] > height[tip])
            tip = i;
    cr_assert_geq(height[tip], 0, "no block of blk00000.dat connects to a genesis block");

    *chain_len = (size_t)height[tip] + 1;
    *chain = malloc(*chain_len * sizeof **chain);
    for (size_t i = tip;;) {
        memcpy((*chain)[height[i]], hashes[i], 32);
        if (height[i] == 0)
            break;
        size_t j = 0;
        while (j < count && !(height[j] == height[i] - 1 && memcmp(hashes[j], prevs[i], 32) == 0))
            j++;
        cr_assert_lt(j, count);
        i = j;
    }
    free(height);
    free(hashes);
    free(prevs);
    *blocks = bl;
    *lens = ln;
    return count;
}

void regtest_blocks_free(uint8_t **blocks, size_t *lens, uint8_t (*chain)[32], size_t n)
{
    for (size_t i = 0; blocks && i < n; i++)
        free(blocks[i]);
    free(blocks);
    free(lens);
    free(chain);
}
