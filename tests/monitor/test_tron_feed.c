/* monitor/sources/feed_tron.c and tron_http.c against a real ZeroMQ PUB
 * sending triggers as java-tron's native queue does (2 frames: trigger
 * name, JSON; no counter) and a real HTTP server answering in java-tron's
 * shapes. Triggers are built from the real data (tests/tron_fixture.h):
 * real mainnet txs and their real infos, and the Nile samples as they are. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/hex.h"
#include "monitor/sources/feed_tron.h"
#include "monitor/sources/tron_http.h"
#include "tests/support.h"
#include "tests/tron_fixture.h"
#include "tests/tron_http_server.h"
#include "tests/zmq_pub.h"

#define USDT_TX "0130dfde9281a48378109039ef512229d5359fbee2a8adbb17ad73aebc67ea99"
#define TRX_TX "5144c4f5a52a08e57dfdf550b4f925c396e68c59a80339cea69497bee116437f"
#define N0 69316562

static void send2(zpub *p, const char *topic, char *json)
{
    const void *frames[2] = {topic, json};
    size_t lens[2] = {strlen(topic), strlen(json)};
    zpub_send_frames(p, frames, lens, 2);
    free(json);
}

static const char *text_of(const cw_addr *a)
{
    static char buf[4][CW_ADDR_TEXT_MAX];
    static int k;
    char *out = buf[k++ & 3];
    cw_addr_format(a, out, CW_ADDR_TEXT_MAX);
    return out;
}

/* The next event within 5 s (the test fails without one). */
static feed_tron_event next(feed_tron *f)
{
    feed_tron_event ev;
    bool got = false;
    cw_err err = {0};
    for (int i = 0; i < 50 && !got; i++)
        cr_assert_eq(feed_tron_next(f, 100, &ev, &got, &err), CW_OK, "%s", err.msg);
    cr_assert(got, "no event within 5 s");
    return ev;
}

/* Nothing but solidified numbers within ms. */
static void expect_none(feed_tron *f, int ms)
{
    feed_tron_event ev;
    bool got;
    cw_err err = {0};
    do
        cr_assert_eq(feed_tron_next(f, ms, &ev, &got, &err), CW_OK);
    while (got && ev.kind == FEED_TRON_SOLIDIFIED);
    cr_assert_not(got, "unexpected event %d", ev.kind);
}

static void hash_of(int64_t n, uint8_t tag, char out[65]) { tron_block_id(n, tag, out); }

/* Block N0 with the real USDT and TRX txs, then empty blocks: as java-tron
 * sends them (blockTrigger, then each transactionTrigger: 4.7's order). */
static void send_block(zpub *p, int64_t n, uint8_t tag, json_t *txs, json_t *infos, bool with_txs, int skip_tx)
{
    char h[65];
    hash_of(n, tag, h);
    send2(p, "blockTrigger", tron_trig_block(n, h, txs, n - 19));
    int logs = 0;
    for (size_t i = 0; with_txs && i < json_array_size(txs); i++) {
        json_t *info = infos ? json_array_get(infos, i) : NULL;
        if ((int)i != skip_tx)
            send2(p, "transactionTrigger", tron_trig_tx(json_array_get(txs, i), info, n, h, n - 19, (int)i, logs));
        logs += (int)json_array_size(json_object_get(info, "log"));
    }
}

static void real_txs(json_t **txs, json_t **infos, int64_t n)
{
    *txs = json_array();
    *infos = json_array();
    const char *ids[] = {USDT_TX, TRX_TX};
    for (int i = 0; i < 2; i++) {
        json_array_append_new(*txs, tron_api_tx_by_id(ids[i]));
        json_array_append_new(*infos, tron_info_by_id(ids[i], n));
    }
}

Test(tron_feed, blocks_gaps_duplicates_replacements_over_zeromq, .timeout = 60)
{
    zpub *p = zpub_start();
    feed_tron *f;
    cw_err err = {0};
    feed_tron_config cfg = {.endpoint = zpub_endpoint(p)};
    cr_assert_eq(feed_tron_open(&cfg, &f, &err), CW_OK, "%s", err.msg);
    cr_assert(zpub_wait_subscription(p, 20000), "the feed never subscribed");
    json_t *txs, *infos;
    real_txs(&txs, &infos, N0);

    /* N0: whole: the USDT transfer from the logList, the TRX one from the fields */
    send_block(p, N0, 0xaa, txs, infos, true, -1);
    feed_tron_event ev = next(f);
    cr_assert_eq(ev.kind, FEED_TRON_SOLIDIFIED);
    cr_assert_eq(ev.solidified, N0 - 19);
    ev = next(f);
    cr_assert_eq(ev.kind, FEED_TRON_BLOCK, "got %d: %s", ev.kind, ev.why);
    cr_assert_eq(ev.block.number, N0);
    cr_assert_eq(ev.block.n_tx, 2);
    char hex[65];
    cw_hex_encode(ev.block.txs[0].txid, 32, hex);
    cr_assert_str_eq(hex, USDT_TX);
    cr_assert_eq(ev.block.txs[0].n_xfer, 1);
    const cw_transfer *x = &ev.block.txs[0].xfer[0];
    cr_assert_eq(x->kind, CW_XFER_TOKEN_LOG);
    cr_assert_str_eq(text_of(&x->to), "TXVj38D1XR3TPgSHTCZGC8wkLDAGqF1oqx");
    cr_assert_str_eq(text_of(&x->asset.contract), "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    cr_assert_eq(ev.block.txs[1].n_xfer, 1);
    cr_assert_str_eq(text_of(&ev.block.txs[1].xfer[0].from), "TD3UjWy82fFre6VEqEVpK2J2HKm3NewYE3");
    cr_assert_not(ev.block.parent_known);

    /* a duplicate of a tx trigger and of the blockTrigger: nothing */
    char h0[65];
    hash_of(N0, 0xaa, h0);
    send2(p, "transactionTrigger", tron_trig_tx(json_array_get(txs, 0), json_array_get(infos, 0), N0, h0, N0 - 19, 0, 0));
    send2(p, "blockTrigger", tron_trig_block(N0, h0, txs, N0 - 19));
    /* N0+1 empty; N0+2's blockTrigger lost; N0+3 empty */
    send_block(p, N0 + 1, 0xaa, NULL, NULL, false, -1);
    send_block(p, N0 + 3, 0xaa, NULL, NULL, false, -1);
    ev = next(f);
    cr_assert_eq(ev.kind, FEED_TRON_SOLIDIFIED);
    ev = next(f);
    cr_assert_eq(ev.kind, FEED_TRON_BLOCK);
    cr_assert_eq(ev.block.number, N0 + 1);
    cr_assert_eq(ev.block.n_tx, 0);
    ev = next(f);
    cr_assert_eq(ev.kind, FEED_TRON_SOLIDIFIED);
    ev = next(f);
    cr_assert_eq(ev.kind, FEED_TRON_GAP);
    cr_assert_eq(ev.gap_from, N0 + 2);
    cr_assert_eq(ev.gap_to, N0 + 2);
    cr_assert(strstr(ev.why, "blockTrigger never came") != NULL, "%s", ev.why);
    ev = next(f);
    cr_assert_eq(ev.kind, FEED_TRON_BLOCK);
    cr_assert_eq(ev.block.number, N0 + 3);

    /* N0+4 lists 2 txs but one transactionTrigger is lost: a gap once N0+5 comes */
    send_block(p, N0 + 4, 0xaa, txs, infos, true, 1);
    expect_none(f, 300); /* waiting for the missing trigger (after its solidified event) */
    send_block(p, N0 + 5, 0xaa, NULL, NULL, false, -1);
    for (;;) {
        ev = next(f);
        if (ev.kind != FEED_TRON_SOLIDIFIED)
            break;
    }
    cr_assert_eq(ev.kind, FEED_TRON_GAP);
    cr_assert_eq(ev.gap_from, N0 + 4);
    cr_assert(strstr(ev.why, "1 of 2 transactionTriggers came") != NULL, "%s", ev.why);
    ev = next(f);
    cr_assert_eq(ev.kind, FEED_TRON_BLOCK);
    cr_assert_eq(ev.block.number, N0 + 5);

    /* out of order (older java-tron): the txs before their blockTrigger */
    char h6[65];
    hash_of(N0 + 6, 0xaa, h6);
    send2(p, "transactionTrigger", tron_trig_tx(json_array_get(txs, 1), json_array_get(infos, 1), N0 + 6, h6, 0, 0, 0));
    json_t *one = json_array();
    json_array_append(one, json_array_get(txs, 1));
    send2(p, "blockTrigger", tron_trig_block(N0 + 6, h6, one, N0 - 13));
    do
        ev = next(f);
    while (ev.kind == FEED_TRON_SOLIDIFIED);
    cr_assert_eq(ev.kind, FEED_TRON_BLOCK);
    cr_assert_eq(ev.block.number, N0 + 6);
    cr_assert_eq(ev.block.n_tx, 1);

    /* the node switches forks: another N0+6, empty */
    send_block(p, N0 + 6, 0xbb, NULL, NULL, false, -1);
    ev = next(f);
    cr_assert_eq(ev.kind, FEED_TRON_BLOCK);
    cr_assert_eq(ev.block.number, N0 + 6);
    cr_assert_eq(ev.block.n_tx, 0);
    cr_assert_eq(ev.block.hash[8], 0xbb);

    /* garbage never stops the feed: 3 frames, an unknown topic, bad JSON */
    const void *fr[3] = {"blockTrigger", "{}", "x"};
    size_t ln[3] = {12, 2, 1};
    zpub_send_frames(p, fr, ln, 3);
    send2(p, "blockTrigger", strdup("{\"triggerName\":\"blockTrigger\""));
    ev = next(f);
    cr_assert_eq(ev.kind, FEED_TRON_BAD);
    cr_assert(strstr(ev.why, "3 frames") != NULL, "%s", ev.why);
    ev = next(f);
    cr_assert_eq(ev.kind, FEED_TRON_BAD);
    cr_assert(strstr(ev.why, "blockTrigger: blockTrigger: not JSON") != NULL, "%s", ev.why);
    send2(p, "solidityTrigger", tron_trig_solidity(N0 + 1));
    ev = next(f);
    cr_assert_eq(ev.kind, FEED_TRON_SOLIDIFIED);
    cr_assert_eq(ev.solidified, N0 + 1);

    feed_tron_stats st;
    feed_tron_stats_get(f, &st);
    cr_assert_eq(st.duplicates, 1, "the blockTrigger sent twice");
    cr_assert_eq(st.late, 1, "the tx trigger sent again after its block passed");
    cr_assert_eq(st.replaced, 1);
    cr_assert_eq(st.bad, 2);
    cr_assert_eq(st.gaps, 2);
    cr_assert_eq(st.blocks, 6);
    json_decref(one);
    json_decref(txs);
    json_decref(infos);
    feed_tron_close(f);
    zpub_stop(p);
}

/* The real Nile samples, sent as they are: the blockTrigger starts the
 * feed; the old transactionTrigger (fromAddress null, no logList) can never
 * make its block whole: a gap, read over HTTP. */
Test(tron_feed, real_nile_samples)
{
    feed_tron *f;
    cw_err err = {0};
    feed_tron_config cfg = {.endpoint = "tcp://127.0.0.1:1"};
    cr_assert_eq(feed_tron_open(&cfg, &f, &err), CW_OK, "%s", err.msg);
    size_t n;
    char *b = (char *)fixture("tron/sample_blockTrigger_nile_2021-07-21.json", &n);
    feed_tron_take(f, "blockTrigger", 12, b, n);
    feed_tron_event ev = next(f);
    cr_assert_eq(ev.kind, FEED_TRON_SOLIDIFIED);
    cr_assert_eq(ev.solidified, 17924914);
    ev = next(f);
    cr_assert_eq(ev.kind, FEED_TRON_BLOCK);
    cr_assert_eq(ev.block.number, 17924932);
    free(b);
    char *t = (char *)fixture("tron/sample_transactionTrigger_nile_2021-07-21.json", &n);
    feed_tron_take(f, "transactionTrigger", 18, t, n);
    /* its block (17925042) and the ones before: not whole until a later blockTrigger */
    char *later = tron_trig_block(17925043, "000000000111834415f8ef62981126da6a34d15d712ed6cf7b81342ba069a08b", NULL,
                                  17925025);
    feed_tron_take(f, "blockTrigger", 12, later, strlen(later));
    do
        ev = next(f);
    while (ev.kind == FEED_TRON_SOLIDIFIED);
    cr_assert_eq(ev.kind, FEED_TRON_GAP);
    cr_assert_eq(ev.gap_from, 17924933);
    cr_assert_eq(ev.gap_to, 17925042);
    free(t);
    free(later);
    feed_tron_close(f);
}

/* ---- HTTP ---- */

static void serve_real_block(tron_server *s, int64_t n)
{
    json_t *txs, *infos;
    real_txs(&txs, &infos, n);
    char parent[65];
    tron_block_id(n - 1, 0xaa, parent);
    char *body = tron_block_body(n, 0xaa, parent, 1738601505000, txs);
    char *it = json_dumps(infos, JSON_COMPACT);
    tron_server_set(s, n, body, it);
    free(body);
    free(it);
    json_decref(txs);
    json_decref(infos);
}

Test(tron_feed, http_block_and_errors, .timeout = 60)
{
    tron_server *s = tron_server_start();
    cr_assert_not_null(s);
    serve_real_block(s, N0);
    size_t n;
    char *now = (char *)fixture("tron/api/getnowblock_47964392.getblock-docs.json", &n);
    now[n - 1] = '\0';
    tron_server_set(s, 47964392, now, NULL);
    free(now);
    tron_http *h;
    cw_err err = {0};
    tron_http_options o = {.url = tron_server_url(s), .retries = 2, .backoff_ms = 10};
    cr_assert_eq(tron_http_open(&o, &h, &err), CW_OK, "%s", err.msg);
    tron_block b;
    cr_assert_eq(tron_http_block(h, N0, &b, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(b.n_tx, 2);
    cr_assert(b.parent_known);
    cr_assert_eq(b.txs[0].xfer[0].kind, CW_XFER_TOKEN_LOG);
    cr_assert_str_eq(text_of(&b.txs[0].xfer[0].to), "TXVj38D1XR3TPgSHTCZGC8wkLDAGqF1oqx");
    tron_block_free(&b);
    int64_t num;
    uint8_t hash[32];
    cr_assert_eq(tron_http_now(h, &num, hash, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(num, N0, "the highest block served");
    tron_server_set(s, N0, NULL, NULL);
    cr_assert_eq(tron_http_now(h, &num, hash, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(num, 47964392, "getnowblock_47964392, the real body");
    serve_real_block(s, N0);
    /* no such block */
    cr_assert_eq(tron_http_block(h, N0 + 1, &b, &err), CW_ENOTFOUND);
    cr_assert(strstr(err.msg, "/wallet/getblockbynum 69316563 at http://127.0.0.1:") != NULL, "%s", err.msg);
    /* two failures, then the answer: retried */
    tron_server_fail(s, 503, 2);
    cr_assert_eq(tron_http_block(h, N0, &b, &err), CW_OK, "%s", err.msg);
    tron_block_free(&b);
    tron_http_stats st;
    tron_http_stats_get(h, &st);
    cr_assert_eq(st.retries, 2);
    /* three: given up, the call and the status named */
    tron_server_fail(s, 500, 3);
    cr_assert_eq(tron_http_block(h, N0, &b, &err), CW_EIO);
    cr_assert(strstr(err.msg, "/wallet/getblockbynum 69316562 at http://127.0.0.1:") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "HTTP status 500 (after 3 tries)") != NULL, "%s", err.msg);
    /* a 404 is not retried */
    tron_server_fail(s, 404, 1);
    cr_assert_eq(tron_http_block(h, N0, &b, &err), CW_EIO);
    cr_assert(strstr(err.msg, "HTTP status 404 (after 1 try)") != NULL, "%s", err.msg);
    /* infos that do not match the block: refused, naming the call */
    tron_server_set(s, N0, NULL, NULL);
    serve_real_block(s, N0);
    json_t *bad = json_array();
    json_array_append_new(bad, tron_info_by_id(TRX_TX, N0));
    char *bt = json_dumps(bad, JSON_COMPACT);
    json_t *txs, *infos;
    real_txs(&txs, &infos, N0);
    char parent[65];
    tron_block_id(N0 - 1, 0xaa, parent);
    char *body = tron_block_body(N0, 0xaa, parent, 1738601505000, txs);
    tron_server_set(s, N0, body, bt);
    cr_assert_eq(tron_http_block(h, N0, &b, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "/wallet/gettransactioninfobyblocknum 69316562 at") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "no info for contract call " USDT_TX) != NULL, "%s", err.msg);
    free(body);
    free(bt);
    json_decref(bad);
    json_decref(txs);
    json_decref(infos);
    tron_http_close(h);
    /* bounded replies and timeouts */
    tron_http_options small = {.url = tron_server_url(s), .max_reply = 1000};
    cr_assert_eq(tron_http_open(&small, &h, &err), CW_OK);
    cr_assert_eq(tron_http_block(h, N0, &b, &err), CW_ELIMIT);
    cr_assert(strstr(err.msg, "the reply is over 1000 bytes") != NULL, "%s", err.msg);
    tron_http_close(h);
    tron_http_options quick = {.url = tron_server_url(s), .timeout_ms = 200};
    cr_assert_eq(tron_http_open(&quick, &h, &err), CW_OK);
    tron_server_delay(s, 600);
    cr_assert_eq(tron_http_now(h, &num, hash, &err), CW_EIO);
    cr_assert(strstr(err.msg, "/wallet/getnowblock at http://127.0.0.1:") != NULL &&
                  strstr(err.msg, "Timeout was reached (limits: 5000 ms to connect, 200 ms in all)") != NULL,
              "%s", err.msg);
    tron_server_delay(s, 0);
    tron_http_close(h);
    tron_server_stop(s);
    /* nobody listening */
    tron_http_options gone = {.url = "http://127.0.0.1:1"};
    cr_assert_eq(tron_http_open(&gone, &h, &err), CW_OK);
    cr_assert_eq(tron_http_block(h, 5, &b, &err), CW_EIO);
    cr_assert(strstr(err.msg, "/wallet/getblockbynum 5 at http://127.0.0.1:1: ") != NULL, "%s", err.msg);
    tron_http_close(h);
    /* URLs refused up front */
    tron_http_options u1 = {.url = "ftp://x"}, u2 = {.url = "http://a b"};
    cr_assert_eq(tron_http_open(&u1, &h, &err), CW_EARG);
    cr_assert_eq(tron_http_open(&u2, &h, &err), CW_EARG);
}

/* A node down or hanging fails every poll with the same error, and watch
 * logs an error once until its text changes (account_run.c's poll_log):
 * the text must not carry libcurl's elapsed time ("after 0 ms", "after 201
 * milliseconds"), which made every failed poll of one outage a new log
 * line (curl_why.h, shared with the Ethereum client). A real server that
 * answers too late, and a port that refuses (bound, not listening). */
Test(tron_http, a_node_down_or_hanging_fails_with_the_same_words_every_time, .timeout = 30)
{
    tron_server *s = tron_server_start();
    cr_assert_not_null(s);
    tron_server_delay(s, 400);
    int closed = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(closed, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    getsockname(closed, (struct sockaddr *)&sa, &sl);
    char refused[64];
    snprintf(refused, sizeof refused, "http://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
    const char *urls[2] = {tron_server_url(s), refused};
    for (int k = 0; k < 2; k++) {
        tron_http_options o = {.url = urls[k], .timeout_ms = 120 + 30 * k, .retries = 1, .backoff_ms = 10};
        tron_http *h;
        cw_err err = {0};
        char first[CW_ERR_MSG_MAX] = "";
        cr_assert_eq(tron_http_open(&o, &h, &err), CW_OK, "%s", err.msg);
        for (int i = 0; i < 3; i++) {
            tron_block b;
            cr_assert_eq(tron_http_block(h, N0, &b, &err), CW_EIO, "%s", err.msg);
            cr_assert(strstr(err.msg, urls[k]) && strstr(err.msg, "(after 2 tries)"), "%s", err.msg);
            cr_assert(!strstr(err.msg, " milliseconds") && !strstr(err.msg, " ms:"), "an elapsed time: %s", err.msg);
            if (i == 0)
                snprintf(first, sizeof first, "%s", err.msg);
            cr_assert_str_eq(err.msg, first);
        }
        if (k == 0)
            cr_assert(strstr(first, "Timeout was reached (limits: 5000 ms to connect, 120 ms in all)"), "%s", first);
        else
            cr_assert(strstr(first, "Couldn't connect to server") || strstr(first, "onnection refused"), "%s", first);
        tron_http_close(h);
    }
    close(closed);
    tron_server_delay(s, 0);
    tron_server_stop(s);
}
