/* The monitor end to end, with real sockets on 127.0.0.1: a publisher that
 * replays what a real Bitcoin Core v30 node published (zmq-capture.jsonl:
 * payments, an RBF bump, a reorg, a restart), a REST server serving that
 * node's blocks, and `chainwatch watch` run as a process. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chains/bitcoin/block.h"
#include "chains/hex.h"
#include "tests/rest_server.h"
#include "tests/support.h"
#include "tests/zmq_pub.h"

#define CAPTURE "btc/regtest-v30/zmq-capture.jsonl"
/* the regtest node's coinbase address: every mined block pays it */
#define COINBASE_ADDR "bcrt1qm8u6rvn20zmwgwtzledx7nqw4le2zntfrs7w2n"
#define PAID_BECH32 "bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0"
#define PAID_LEGACY "mqBXtoBQx88vMij3Hj8YM3RXDDvbrNfx9v"

static char *setup_datadir(bool list_coinbase)
{
    char *dir = strdup("/tmp/cw-watch-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char csv[512], path[600];
    snprintf(path, sizeof path, "%s/list.csv", dir);
    snprintf(csv, sizeof csv,
             "chain,address,entity,program,note\n"
             "bitcoin," PAID_BECH32 ",Test front company,DPRK4,\n"
             "bitcoin," PAID_LEGACY ",Test IT worker,DPRK3,\n%s",
             list_coinbase ? "bitcoin," COINBASE_ADDR ",Test miner,TEST,\n" : "");
    FILE *f = fopen(path, "w");
    fputs(csv, f);
    fclose(f);
    char *out, *err;
    char *init[] = {CW_BIN, "init", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(init, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", path, "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    return dir;
}

/* start_watch with up to 4 more options (NULL-terminated). */
static pid_t start_watch_with(const char *dir, const char *ep, const char *rest, const char *const *extra)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char log[600], alerts[600], a1[300], a2[300], a3[300], a4[300];
        snprintf(log, sizeof log, "%s/watch.log", dir);
        snprintf(alerts, sizeof alerts, "--alerts=%s/alerts.jsonl", dir);
        snprintf(a1, sizeof a1, "--zmqpubrawtx=%s", ep);
        snprintf(a2, sizeof a2, "--zmqpubrawblock=%s", ep);
        snprintf(a3, sizeof a3, "--zmqpubsequence=%s", ep);
        snprintf(a4, sizeof a4, "--rest=%s", rest ? rest : "");
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        char *argv[20] = {CW_BIN, "watch", "--datadir", (char *)dir, "--network", "regtest", a1, a2, a3, alerts,
                          "--status-interval", "0"};
        int n = 12;
        if (rest)
            argv[n++] = a4;
        for (int i = 0; extra && extra[i] && i < 4; i++)
            argv[n++] = (char *)extra[i];
        argv[n] = NULL;
        execv(CW_BIN, argv);
        _exit(127);
    }
    return pid;
}

static pid_t start_watch(const char *dir, const char *ep, const char *rest, const char *extra)
{
    const char *more[] = {extra, NULL};
    return start_watch_with(dir, ep, rest, more);
}


/* Waits until the file holds a record matching txid+status (+block hash). */
static json_t *find(json_t *all, const char *txid, const char *status, const char *block)
{
    return alerts_find(all, txid, status, block);
}

static json_t *wait_for(const char *dir, const char *txid, const char *status, const char *block, int ms)
{
    for (int waited = 0;; waited += 100) {
        json_t *all = alerts_read(dir);
        if (find(all, txid, status, block) || waited >= ms)
            return all;
        json_decref(all);
        test_sleep_ms(100);
    }
}

static size_t count_rule(json_t *all, const char *rule, const char *status)
{
    size_t i, n = 0;
    json_t *r;
    json_array_foreach(all, i, r) {
        const char *ru = json_string_value(json_object_get(r, "rule"));
        const char *s = json_string_value(json_object_get(r, "status"));
        n += ru && strcmp(ru, rule) == 0 && (!status || (s && strcmp(s, status) == 0));
    }
    return n;
}

static void verify_file(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/alerts.jsonl", dir);
    char *out, *err;
    char *v[] = {CW_BIN, "verify", path, "--datadir", (char *)dir, "--from-start", NULL}; /* the whole trail */
    cr_assert_eq(run_cmd(v, NULL, 0, &out, &err), 0, "verify: %s %s", out, err);
    free(out), free(err);
}

Test(watch, capture_replay_mempool_confirm_rbf_reorg_restart, .timeout = 120)
{
    char *dir = setup_datadir(false);
    zpub *pub = zpub_start();
    pid_t pid = start_watch(dir, zpub_endpoint(pub), NULL, NULL);
    watch_wait_ready(dir, pub);
    cr_assert_eq(zpub_replay_capture(pub, CAPTURE, 0, -1), 342);
    json_t *all = wait_for(dir, "78c9750fef95723fd220adbf811f2cfcfce93a372b26114af612042ec2939fe8", "confirmed",
                           "2f0ae58e0b99c85bff7dbe2984bc8917b2dc951193c87407cbbb434e0de0043c", 20000);
    watch_stop(pid);
    zpub_stop(pub);

    /* the 0.5 BTC payment: mempool, then confirmed in block 102, one id */
    json_t *m = find(all, "debfb5eb53533f09166f351c39f1e42e9853c7cc129d8ab347522942458d2ab3", "mempool", NULL);
    json_t *c = find(all, "debfb5eb53533f09166f351c39f1e42e9853c7cc129d8ab347522942458d2ab3", "confirmed",
                     "09117bbe37bd5d85bf6d62bdce8fc396c0e0473eea464d603dcab82b046cda35");
    cr_assert_not_null(m, "mempool record of the 0.5 BTC payment");
    cr_assert_not_null(c, "confirmed record of the 0.5 BTC payment");
    cr_assert_str_eq(json_string_value(json_object_get(m, "id")), json_string_value(json_object_get(c, "id")));
    cr_assert_eq(json_integer_value(json_object_get(m, "amount")), 50000000);
    cr_assert_str_eq(json_string_value(json_object_get(m, "address")), PAID_BECH32);
    cr_assert_str_eq(json_string_value(json_object_get(m, "direction")), "to_designated");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(c, "block"), "height")), 102);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "entity"), "name")), "Test front company");
    cr_assert_str_eq(json_string_value(json_object_get(c, "severity")), "severe");
    /* the 0.7 BTC payment to the legacy address */
    c = find(all, "c2d6700161361376c80fe3deba52a29c49a3c1d20c8daa5b8b1c6c3c52003acb", "confirmed", NULL);
    cr_assert_not_null(c);
    cr_assert_eq(json_integer_value(json_object_get(c, "amount")), 70000000);
    /* RBF: the original was seen in the mempool; the replacement confirmed
     * in 70a17254, was reorged out with it, and confirmed on the new branch */
    cr_assert_not_null(find(all, "1a43b61152b66fb7f318a3a0828418a160cdf58267c5ecdc22ede620ca459986", "mempool", NULL));
    const char *repl = "ed35d83afa996234357beb2bf9c0270ca1e702bbc824a53885acd9bf3021c3fb";
    cr_assert_not_null(find(all, repl, "confirmed", "70a172546b3d5e769d0cb3e68c962d501f7901e910b02945ff55f707bc7ab63e"));
    cr_assert_not_null(find(all, repl, "reorged", "70a172546b3d5e769d0cb3e68c962d501f7901e910b02945ff55f707bc7ab63e"));
    json_t *again = find(all, repl, "confirmed", "01e75f864834b3fc21c06297780b0962ab0bfc4b392a76e2509b0d6cfd7d5fa6");
    cr_assert_not_null(again, "the replacement confirmed again on the new branch");
    /* the restart: each topic's counter went back */
    cr_assert_geq(count_rule(all, "feed_gap", NULL), 3);
    /* after the restart: the 0.1 BTC payment, mempool and confirmed */
    cr_assert_not_null(find(all, "78c9750fef95723fd220adbf811f2cfcfce93a372b26114af612042ec2939fe8", "mempool", NULL));
    /* no record twice */
    size_t i, j;
    json_t *a, *b;
    json_array_foreach(all, i, a) json_array_foreach(all, j, b) if (i < j) {
        bool same = json_equal(json_object_get(a, "id"), json_object_get(b, "id")) &&
                    json_equal(json_object_get(a, "status"), json_object_get(b, "status")) &&
                    json_equal(json_object_get(a, "block"), json_object_get(b, "block"));
        cr_assert(!same, "record %zu and %zu are the same alert, status and block", i, j);
    }
    verify_file(dir);
    json_decref(all);
    test_remove_dir(dir);
}

/* The recorded regtest node's blocks, served by a REST server on
 * 127.0.0.1 (its chain is set by each test as the node's would grow). */
typedef struct {
    uint8_t **blocks;
    size_t *lens;
    uint8_t (*chain)[32];
    size_t chain_len, n;
    rest_server *srv;
} regtest_node;

static void node_start(regtest_node *node)
{
    node->n = regtest_blocks_load(&node->blocks, &node->lens, &node->chain, &node->chain_len);
    cr_assert_geq(node->chain_len, 106);
    node->srv = rest_server_start();
    cr_assert_not_null(node->srv);
    for (size_t i = 0; i < node->n; i++)
        rest_server_add_block(node->srv, node->blocks[i], node->lens[i]);
}

static void node_stop(regtest_node *node)
{
    rest_server_stop(node->srv);
    regtest_blocks_free(node->blocks, node->lens, node->chain, node->n);
}

/* A rawblock lost on the way (its counter skips): the gap is recorded and
 * the block is fetched from the node's REST interface. The server follows
 * the node: its chain grows as the capture's blocks are published. */
Test(watch, dropped_block_recovered_through_rest, .timeout = 120)
{
    regtest_node node;
    node_start(&node);
    rest_server *srv = node.srv;
    uint8_t(*chain)[32] = node.chain;
    rest_server_set_chain(srv, chain, 1); /* the node has only genesis so far */

    char *dir = setup_datadir(true);
    zpub *pub = zpub_start();
    pid_t pid = start_watch(dir, zpub_endpoint(pub), rest_server_url(srv), "--start-height=1");
    watch_wait_ready(dir, pub);

    size_t n;
    uint8_t *text = fixture(CAPTURE, &n);
    text = realloc(text, n + 1);
    text[n] = '\0';
    char *save = NULL;
    int rawblocks = 0, dropped = 0;
    size_t height = 0;
    for (char *line = strtok_r((char *)text, "\n", &save); line && rawblocks < 60; line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *topic = json_string_value(json_object_get(j, "topic"));
        size_t bl;
        uint8_t *body = unhex(json_string_value(json_object_get(j, "body_hex")), &bl);
        if (strcmp(topic, "rawblock") == 0) {
            height++;
            rest_server_set_chain(srv, chain, height + 1); /* the node has this block now */
            rawblocks++;
        }
        zpub_set_counter(pub, topic, (uint32_t)json_integer_value(json_object_get(j, "seq")));
        if (strcmp(topic, "rawblock") == 0 && rawblocks == 30)
            dropped++; /* lost: never sent, the counter moves on */
        else
            zpub_send(pub, topic, body, bl);
        bool is_block = strcmp(topic, "rawblock") == 0;
        free(body);
        json_decref(j); /* topic points into j */
        if (is_block)
            test_sleep_ms(5);
    }
    cr_assert_eq(dropped, 1);
    /* wait for the coinbase of block 60 to be confirmed */
    json_t *all = NULL;
    char want[65];
    for (int waited = 0; waited < 20000; waited += 100) {
        json_decref(all);
        all = alerts_read(dir);
        if (count_rule(all, "designated_address", "confirmed") >= 60)
            break;
        test_sleep_ms(100);
    }
    watch_stop(pid);
    zpub_stop(pub);
    /* every block 1..60 confirmed the miner's coinbase, block 30 included */
    size_t i;
    json_t *r;
    bool heights[61] = {0};
    json_array_foreach(all, i, r) {
        json_t *b = json_object_get(r, "block");
        if (b && json_is_object(b) && strcmp(json_string_value(json_object_get(r, "status")), "confirmed") == 0) {
            json_int_t h = json_integer_value(json_object_get(b, "height"));
            if (h >= 1 && h <= 60)
                heights[h] = true;
        }
    }
    for (int h = 1; h <= 60; h++)
        cr_assert(heights[h], "no confirmed record at height %d", h);
    cw_hex_encode_rev(chain[30], 32, want);
    size_t gaps = count_rule(all, "feed_gap", NULL);
    cr_assert_geq(gaps, 1, "the lost rawblock is recorded as a feed gap");
    cr_assert_gt(rest_server_requests(srv), 0, "recovery went through REST");
    verify_file(dir);
    json_decref(all);
    free(text);
    node_stop(&node);
    test_remove_dir(dir);
}

/* Replays capture lines [*line_no, ...) until `until_blocks` rawblocks have
 * been published in all, keeping the REST server's chain in step with the
 * node's, with `garbage` malformed messages after every real one. */
typedef struct {
    char **lines;
    size_t n_lines, next;
    int rawblocks;
    size_t height;
    size_t garbage_sent;
} replay_state;

static void replay_until(replay_state *st, zpub *pub, rest_server *srv, uint8_t (*chain)[32], int until_blocks,
                         int garbage)
{
    while (st->next < st->n_lines && st->rawblocks < until_blocks) {
        json_t *j = json_loads(st->lines[st->next++], 0, NULL);
        const char *topic = json_string_value(json_object_get(j, "topic"));
        size_t bl;
        uint8_t *body = unhex(json_string_value(json_object_get(j, "body_hex")), &bl);
        if (strcmp(topic, "rawblock") == 0) {
            st->height++;
            rest_server_set_chain(srv, chain, st->height + 1);
            st->rawblocks++;
        }
        zpub_set_counter(pub, topic, (uint32_t)json_integer_value(json_object_get(j, "seq")));
        zpub_send(pub, topic, body, bl);
        for (int g = 0; g < garbage; g++) {
            static const char *const topics[] = {"rawtxlock", "rawtx", "hashblock", "rawblock"};
            const void *frames[3] = {topics[g % 4], "\x01\x02garbage", "\x05\x00\x00"};
            size_t lens[3] = {strlen(topics[g % 4]), 9, (size_t)(g % 3 == 0 ? 3 : 4)};
            zpub_send_frames(pub, frames, lens, 2 + (g % 2));
            st->garbage_sent++;
        }
        bool is_block = strcmp(topic, "rawblock") == 0;
        free(body);
        json_decref(j); /* topic points into j */
        if (is_block)
            test_sleep_ms(5);
    }
}

/* 1,000+ garbage frames in the feed, chainwatch killed with SIGKILL in the
 * middle and started again: every block's record is there exactly once. */
Test(watch, garbage_and_sigkill_lose_nothing_and_repeat_nothing, .timeout = 120)
{
    regtest_node node;
    node_start(&node);
    rest_server *srv = node.srv;
    uint8_t(*chain)[32] = node.chain;
    rest_server_set_chain(srv, chain, 1);
    char *dir = setup_datadir(true);
    zpub *pub = zpub_start();
    pid_t pid = start_watch(dir, zpub_endpoint(pub), rest_server_url(srv), "--start-height=1");
    watch_wait_ready(dir, pub);

    size_t n;
    char *text = (char *)fixture(CAPTURE, &n);
    text = realloc(text, n + 1);
    text[n] = '\0';
    replay_state st = {0};
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        st.lines = realloc(st.lines, (st.n_lines + 1) * sizeof *st.lines);
        st.lines[st.n_lines++] = line;
    }
    replay_until(&st, pub, srv, chain, 40, 12);
    kill(pid, SIGKILL); /* mid-stream: whatever it was doing */
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFSIGNALED(status));
    /* the restarted watcher appends to the same log: wait for its own line */
    char logp[600];
    snprintf(logp, sizeof logp, "%s/watch.log", dir);
    unlink(logp);
    pid = start_watch(dir, zpub_endpoint(pub), rest_server_url(srv), "--start-height=1");
    watch_wait_ready(dir, pub);
    replay_until(&st, pub, srv, chain, 70, 12);
    cr_assert_geq(st.garbage_sent, 1000);
    json_t *all = NULL;
    for (int waited = 0; waited < 20000; waited += 100) {
        json_decref(all);
        all = alerts_read(dir);
        if (count_rule(all, "designated_address", "confirmed") >= 70)
            break;
        test_sleep_ms(100);
    }
    watch_stop(pid);
    zpub_stop(pub);
    int per_height[71] = {0};
    size_t i, j;
    json_t *r, *q;
    json_array_foreach(all, i, r) {
        const char *s = json_string_value(json_object_get(r, "status"));
        json_t *b = json_object_get(r, "block");
        if (s && strcmp(s, "confirmed") == 0 && json_is_object(b)) {
            json_int_t h = json_integer_value(json_object_get(b, "height"));
            if (h >= 1 && h <= 70)
                per_height[h]++;
        }
    }
    for (int h = 1; h <= 70; h++) {
        if (per_height[h] == 1)
            continue;
        char seen[512] = "";
        json_array_foreach(all, i, r) {
            json_t *b = json_object_get(r, "block");
            if (json_is_object(b) && json_integer_value(json_object_get(b, "height")) == h) {
                size_t used = strlen(seen);
                snprintf(seen + used, sizeof seen - used, " [%zu %s %s %.16s]", i,
                         json_string_value(json_object_get(r, "status")), json_string_value(json_object_get(r, "seen_at")),
                         json_string_value(json_object_get(r, "sig")));
            }
        }
        cr_assert_eq(per_height[h], 1, "height %d has %d confirmed records of the miner's coinbase:%s (kept in %s)", h,
                     per_height[h], seen, dir);
    }
    json_array_foreach(all, i, r) json_array_foreach(all, j, q) if (i < j) {
        bool same = json_equal(json_object_get(r, "id"), json_object_get(q, "id")) &&
                    json_equal(json_object_get(r, "status"), json_object_get(q, "status")) &&
                    json_equal(json_object_get(r, "block"), json_object_get(q, "block"));
        cr_assert(!same, "records %zu and %zu repeat one alert", i, j);
    }
    verify_file(dir);
    json_decref(all);
    free(st.lines);
    free(text);
    node_stop(&node);
    test_remove_dir(dir);
}

/* ---- a two-block reorg over REST, with blocks built here ---- */

#include "chains/addr.h"
#include "chains/bitcoin/script.h"
#include "chains/hash.h"
#include "monitor/engine/chainstate.h"
#include "monitor/records/keys.h"
#include "monitor/engine/pipeline.h"
#include "monitor/sources/rest.h"
#include "watchlists/store/store.h"
#include "watchlists/watchlist.h"

static void put32(cw_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    cw_buf_append(b, x, 4, NULL);
}

static void put64(cw_buf *b, uint64_t v)
{
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}

/* A legacy tx: one input (prevout, empty scriptSig), one output. */
static void make_tx(cw_buf *out, const uint8_t prev_txid[32], uint32_t vout, const uint8_t *script, size_t slen,
                    uint64_t value, const uint8_t *coinbase_sig, size_t cblen)
{
    put32(out, 2);
    uint8_t one = 1;
    cw_buf_append(out, &one, 1, NULL);
    cw_buf_append(out, prev_txid, 32, NULL);
    put32(out, vout);
    uint8_t l = (uint8_t)cblen;
    cw_buf_append(out, &l, 1, NULL);
    cw_buf_append(out, coinbase_sig, cblen, NULL);
    put32(out, 0xffffffffu);
    cw_buf_append(out, &one, 1, NULL);
    put64(out, value);
    l = (uint8_t)slen;
    cw_buf_append(out, &l, 1, NULL);
    cw_buf_append(out, script, slen, NULL);
    put32(out, 0);
}

/* A block on prev at height: a coinbase (BIP-34) paying `miner`, then `extra`
 * (a serialized tx) if given. chainwatch checks structure and merkle root,
 * not proof of work, so the nonce can stay 0. */
static void make_block(cw_buf *out, const uint8_t prev[32], int64_t height, uint32_t salt, const cw_buf *extra,
                       uint8_t hash_out[32], uint8_t coinbase_txid[32])
{
    static const uint8_t zero[32];
    uint8_t miner[25] = {0x76, 0xa9, 0x14};
    miner[23] = 0x88, miner[24] = 0xac;
    miner[3] = (uint8_t)salt;
    uint8_t sig[6] = {0x03, (uint8_t)height, (uint8_t)(height >> 8), (uint8_t)(height >> 16), (uint8_t)salt, 0x51};
    cw_buf cb = CW_BUF_INIT;
    make_tx(&cb, zero, 0xffffffffu, miner, sizeof miner, 5000000000ull, sig, sizeof sig);
    uint8_t ids[2][32];
    cw_sha256d(cb.p, cb.n, ids[0]);
    memcpy(coinbase_txid, ids[0], 32);
    size_t n = 1;
    if (extra) {
        cw_sha256d(extra->p, extra->n, ids[1]);
        n = 2;
    }
    uint8_t root[32];
    bool mutated;
    btc_merkle_root(ids, n, root, &mutated);
    out->n = 0;
    put32(out, 0x20000000);
    cw_buf_append(out, prev, 32, NULL);
    cw_buf_append(out, root, 32, NULL);
    put32(out, 1795440000u + (uint32_t)height);
    put32(out, 0x207fffff);
    put32(out, salt);
    uint8_t count = (uint8_t)n;
    cw_buf_append(out, &count, 1, NULL);
    cw_buf_append(out, cb.p, cb.n, NULL);
    if (extra)
        cw_buf_append(out, extra->p, extra->n, NULL);
    cw_sha256d(out->p, 80, hash_out);
    cw_buf_free(&cb);
}

static bool sink_collect(void *ctx, const char *line, size_t len)
{
    cw_buf_append(ctx, line, len, NULL);
    cw_buf_append(ctx, "\n", 1, NULL);
    return true;
}

/* Dumps the databases that make up confirmed state. */
static void dump_state(cw_store *s, cw_buf *out)
{
    store_txn *t;
    cr_assert_eq(store_begin(s, false, &t, NULL), CW_OK);
    store_db dbs[] = {STORE_UTXO, STORE_CHAIN, STORE_UNDO};
    for (size_t d = 0; d < 3; d++) {
        store_cursor *c;
        cr_assert_eq(store_cursor_open(t, dbs[d], &c, NULL), CW_OK);
        cw_span k, v;
        for (bool more = store_cursor_seek(c, NULL, 0, &k, &v); more; more = store_cursor_next(c, &k, &v)) {
            if (dbs[d] == STORE_UNDO && v.n >= 48) {
                /* undo records end with alert ids, which differ between runs by design */
                cw_buf_append(out, k.p, k.n, NULL);
                continue;
            }
            cw_buf_append(out, k.p, k.n, NULL);
            cw_buf_append(out, v.p, v.n, NULL);
        }
        store_cursor_close(c);
    }
    chaindb_tip tip;
    chaindb_get_tip(t, &tip, NULL);
    cw_buf_append(out, &tip, sizeof tip, NULL);
    store_abort(t);
}

static char *fresh_store(cw_store **s, uint8_t sk[64], const char *listed)
{
    char *dir = strdup("/tmp/cw-reorg-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(store_open(dir, 0, false, s, NULL), CW_OK);
    char pub[65];
    bool created;
    cr_assert_eq(keys_create(dir, pub, &created, NULL), CW_OK);
    cr_assert_eq(keys_load_secret(dir, sk, NULL), CW_OK);
    wl_import *imp = wl_import_new("test", "csv");
    wl_import_allow_test_networks(imp, true);
    wl_entity *e = wl_import_entity(imp, "paid");
    wl_entity_set_name(e, "Paid party");
    wl_import_address(imp, "paid", "XBT", listed);
    wl_summary sum;
    cr_assert_eq(wl_import_commit(*s, imp, &sum, NULL), CW_OK);
    wl_import_free(imp);
    return dir;
}

Test(watch, two_block_reorg_reverts_state_and_the_alert, .timeout = 60)
{
    regtest_node node;
    node_start(&node);
    rest_server *srv = node.srv;
    uint8_t(*chain)[32] = node.chain;
    size_t chain_len = node.chain_len;
    /* branch A on the node's tip (height 105): A1 pays the listed address, A2 */
    size_t base = chain_len; /* heights 0..base-1 */
    uint8_t listed_script[22] = {0x00, 0x14};
    memset(listed_script + 2, 0x42, 20);
    cw_addr la;
    btc_script_classify(listed_script, sizeof listed_script, CW_NET_REGTEST, &la);
    char listed[CW_ADDR_TEXT_MAX];
    cw_addr_format(&la, listed, sizeof listed);
    uint8_t (*achain)[32] = calloc(base + 2, 32), (*bchain)[32] = calloc(base + 3, 32);
    memcpy(achain, chain, base * 32);
    memcpy(bchain, chain, base * 32);
    cw_buf blk = CW_BUF_INIT, pay = CW_BUF_INIT;
    uint8_t cbid[32], some_prev[32];
    memset(some_prev, 0x77, 32); /* an output from before the start: unresolved, fine */
    make_tx(&pay, some_prev, 0, listed_script, sizeof listed_script, 123456789, NULL, 0);
    uint8_t pay_txid[32];
    cw_sha256d(pay.p, pay.n, pay_txid);
    make_block(&blk, chain[base - 1], (int64_t)base, 1, &pay, achain[base], cbid);
    rest_server_add_block(srv, blk.p, blk.n);
    make_block(&blk, achain[base], (int64_t)base + 1, 1, NULL, achain[base + 1], cbid);
    rest_server_add_block(srv, blk.p, blk.n);
    for (int i = 0; i < 3; i++) { /* branch B: three blocks, no payment */
        make_block(&blk, bchain[base - 1 + i], (int64_t)base + i, 2, NULL, bchain[base + i], cbid);
        rest_server_add_block(srv, blk.p, blk.n);
    }

    uint8_t sk[64];
    cw_store *s;
    char *dir = fresh_store(&s, sk, listed);
    rest_client *rc;
    cr_assert_eq(rest_open(rest_server_url(srv), &rc, NULL), CW_OK);
    cw_buf records = CW_BUF_INIT;
    pipeline_config pc = {s, CW_NET_REGTEST, sk, sink_collect, NULL, &records, rc, 100, NULL, false, NULL, NULL, NULL, NULL};
    pipeline *p;
    cw_err err = {0};
    cr_assert_eq(pipeline_open(&pc, &p, &err), CW_OK, "%s", err.msg);
    rest_server_set_chain(srv, achain, base + 2);
    cr_assert_eq(pipeline_sync(p, &err), CW_OK, "%s", err.msg);
    char txid[65];
    cw_hex_encode_rev(pay_txid, 32, txid);
    cw_buf_append(&records, "", 1, NULL);
    cr_assert(strstr((char *)records.p, txid) && strstr((char *)records.p, "\"status\":\"confirmed\""),
              "the payment confirmed on branch A: %s", (char *)records.p);
    records.n = 0;
    rest_server_set_chain(srv, bchain, base + 3); /* the node reorganises: two blocks out, three in */
    cr_assert_eq(pipeline_sync(p, &err), CW_OK, "%s", err.msg);
    pipeline_stats st;
    pipeline_stats_get(p, &st);
    cr_assert_eq(st.blocks_disconnected, 2);
    cr_assert_eq(st.tip_height, (int64_t)base + 2);
    cw_buf_append(&records, "", 1, NULL);
    cr_assert(strstr((char *)records.p, "\"status\":\"reorged\"") && strstr((char *)records.p, txid),
              "a reorged record for the payment: %s", (char *)records.p);
    cw_buf after = CW_BUF_INIT, direct = CW_BUF_INIT;
    dump_state(s, &after);
    pipeline_close(p);
    store_close(s);

    /* a datadir that only ever saw branch B holds the same confirmed state */
    cw_store *s2;
    char *dir2 = fresh_store(&s2, sk, listed);
    records.n = 0;
    pc.store = s2;
    cr_assert_eq(pipeline_open(&pc, &p, &err), CW_OK);
    cr_assert_eq(pipeline_sync(p, &err), CW_OK, "%s", err.msg);
    dump_state(s2, &direct);
    cr_assert_eq(after.n, direct.n, "state sizes differ: %zu vs %zu", after.n, direct.n);
    cr_assert_eq(memcmp(after.p, direct.p, after.n), 0, "the store after the reorg differs from never seeing branch A");
    pipeline_close(p);
    store_close(s2);
    rest_close(rc);
    node_stop(&node);
    cw_buf_free(&after), cw_buf_free(&direct), cw_buf_free(&records), cw_buf_free(&blk), cw_buf_free(&pay);
    free(achain), free(bchain);
    test_remove_dir(dir);
    test_remove_dir(dir2);
}

/* "id status height hash direction address amount entity" of every
 * confirmed record whose block is on the final chain, sorted. */
static char *confirmed_on_chain(json_t *all, uint8_t (*chain)[32], size_t chain_len)
{
    char items[64][400];
    size_t n = 0, i;
    json_t *r;
    json_array_foreach(all, i, r) {
        const char *s = json_string_value(json_object_get(r, "status"));
        json_t *b = json_object_get(r, "block");
        if (!s || strcmp(s, "confirmed") != 0 || !json_is_object(b) || n == 64)
            continue;
        json_int_t h = json_integer_value(json_object_get(b, "height"));
        char want[65];
        if (h < 0 || (size_t)h >= chain_len)
            continue;
        cw_hex_encode_rev(chain[h], 32, want);
        if (strcmp(want, json_string_value(json_object_get(b, "hash"))) != 0)
            continue; /* a block the node reorganised away */
        snprintf(items[n++], 400, "%s %s %lld %s %s %s %lld %s", json_string_value(json_object_get(r, "id")), s,
                 (long long)h, want, json_string_value(json_object_get(r, "direction")),
                 json_string_value(json_object_get(r, "address")), (long long)json_integer_value(json_object_get(r, "amount")),
                 json_string_value(json_object_get(json_object_get(r, "entity"), "name")));
    }
    qsort(items, n, 400, (int (*)(const void *, const void *))strcmp);
    char *out = calloc(n * 400 + 1, 1);
    for (i = 0; i < n; i++) {
        strcat(out, items[i]);
        strcat(out, "\n");
    }
    return out;
}

/* The live run over the capture and a replay of the same node's block
 * files give the same confirmed records: ids, blocks, amounts, entities. */
Test(watch, live_equals_replay, .timeout = 120)
{
    char *dir = setup_datadir(false);
    zpub *pub = zpub_start();
    pid_t pid = start_watch(dir, zpub_endpoint(pub), NULL, NULL);
    watch_wait_ready(dir, pub);
    zpub_replay_capture(pub, CAPTURE, 0, -1);
    json_t *live = wait_for(dir, "78c9750fef95723fd220adbf811f2cfcfce93a372b26114af612042ec2939fe8", "confirmed",
                            "2f0ae58e0b99c85bff7dbe2984bc8917b2dc951193c87407cbbb434e0de0043c", 20000);
    watch_stop(pid);
    zpub_stop(pub);

    char *dir2 = setup_datadir(false);
    char blocks[700];
    snprintf(blocks, sizeof blocks, "%s/blocks", dir2);
    regtest_blocksdir(blocks);
    char *out, *err;
    char *argv[] = {CW_BIN, "replay", "--blocksdir", blocks, "--datadir", dir2, "--network", "regtest", NULL};
    cr_assert_eq(run_cmd(argv, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    json_t *replayed = alerts_read(dir2);

    uint8_t **blks;
    size_t *lens;
    uint8_t(*chain)[32];
    size_t chain_len;
    size_t nb = regtest_blocks_load(&blks, &lens, &chain, &chain_len);
    char *a = confirmed_on_chain(live, chain, chain_len), *b = confirmed_on_chain(replayed, chain, chain_len);
    cr_assert_gt(strlen(a), 100, "live run produced confirmed records");
    cr_assert_str_eq(a, b);
    free(a), free(b);
    json_decref(live), json_decref(replayed);
    regtest_blocks_free(blks, lens, chain, nb);
    test_remove_dir(dir);
    test_remove_dir(dir2);
}

/* With the sequence feed a rawtx hit waits for its 'A'. The wait list had a
 * cap of 256: past it the oldest hit was dropped and its mempool sighting
 * never recorded. 300 payments to a listed address, their rawtx first and
 * then their 'A's, give exactly 300 mempool records. */
Test(watch, every_held_hit_is_recorded_at_its_accept, .timeout = 60)
{
    uint8_t listed_script[22] = {0x00, 0x14};
    memset(listed_script + 2, 0x42, 20);
    cw_addr la;
    btc_script_classify(listed_script, sizeof listed_script, CW_NET_REGTEST, &la);
    char listed[CW_ADDR_TEXT_MAX];
    cw_addr_format(&la, listed, sizeof listed);
    uint8_t sk[64];
    cw_store *s;
    char *dir = fresh_store(&s, sk, listed);
    cw_buf records = CW_BUF_INIT;
    pipeline_config pc = {s, CW_NET_REGTEST, sk, sink_collect, NULL, &records, NULL, 100, NULL, true, NULL, NULL, NULL, NULL};
    pipeline *p;
    cw_err err = {0};
    cr_assert_eq(pipeline_open(&pc, &p, &err), CW_OK, "%s", err.msg);
    enum { N = 300 };
    uint8_t (*txids)[32] = calloc(N, 32);
    cw_buf tx = CW_BUF_INIT;
    for (int i = 0; i < N; i++) {
        uint8_t prev[32];
        memset(prev, 0x11, 32);
        memcpy(prev, &i, sizeof i); /* 300 distinct spends of outputs from before the start */
        tx.n = 0;
        make_tx(&tx, prev, 0, listed_script, sizeof listed_script, 100000 + (uint64_t)i, NULL, 0);
        cw_sha256d(tx.p, tx.n, txids[i]);
        cr_assert_eq(pipeline_tx(p, tx.p, tx.n, &err), CW_OK, "%s", err.msg);
    }
    cr_assert_eq(records.n, 0, "held until their 'A': %.*s", (int)records.n, (char *)records.p);
    for (int i = 0; i < N; i++) {
        uint8_t body[41];
        for (int k = 0; k < 32; k++)
            body[k] = txids[i][31 - k]; /* as the node publishes it: byte-reversed */
        body[32] = 'A';
        uint64_t seq = 1000 + (uint64_t)i;
        memcpy(body + 33, &seq, 8);
        cr_assert_eq(pipeline_sequence(p, body, sizeof body, &err), CW_OK, "%s", err.msg);
    }
    cw_buf_append(&records, "", 1, NULL);
    size_t mempool = 0;
    for (char *q = (char *)records.p; (q = strstr(q, "\"status\":\"mempool\"")); q++)
        mempool++;
    cr_assert_eq(mempool, N, "%zu mempool records", mempool);
    pipeline_close(p);
    store_close(s);
    cw_buf_free(&tx);
    cw_buf_free(&records);
    free(txids);
    sodium_memzero(sk, sizeof sk);
    test_remove_dir(dir);
}

/* The watch's log (stderr), as text: the start's lines are short. */
static char *read_log(const char *path)
{
    char *text = malloc(1 << 16);
    FILE *f = fopen(path, "r");
    cr_assert(text && f, "%s", path);
    text[fread(text, 1, (1 << 16) - 1, f)] = '\0';
    fclose(f);
    return text;
}

/* One chainwatch.conf serves the watches of several chains: its lines for
 * another chain (a Tron run's finalized = true, Ethereum's rpc) are left
 * unused, each named in a warning, and the Bitcoin watch starts; the lines
 * under [ethereum] and [tron] are left without one (they are those chains'
 * watches' alone, conf.h). The same options as flags are refused (exit 2).
 * Before, any of them in the file stopped every Bitcoin watch ("--rpc,
 * --finalized, --tokens and --max-reorg are for --chain ethereum"). */
Test(watch, another_chains_conf_lines_are_left_unused_their_flags_refused, .timeout = 60)
{
    char *dir = setup_datadir(false);
    char conf[600], log[600];
    snprintf(conf, sizeof conf, "%s/chainwatch.conf", dir);
    snprintf(log, sizeof log, "%s/watch.log", dir);
    FILE *f = fopen(conf, "w");
    cr_assert_not_null(f);
    fputs("finalized = true\nrpc = http://127.0.0.1:8545\nzmqpubtron = tcp://127.0.0.1:5555\nmax-reorg = 5\n"
          "[ethereum]\nconfirmations = 12\n[tron]\ntron-http = http://127.0.0.1:8090\n[bitcoin]\nrcvhwm = 5000\n",
          f);
    cr_assert_eq(fclose(f), 0);
    zpub *pub = zpub_start();
    pid_t pid = start_watch(dir, zpub_endpoint(pub), NULL, NULL);
    watch_wait_ready(dir, pub);
    watch_stop(pid);
    zpub_stop(pub);
    static const char *const unused[] = {
        "chainwatch.conf: finalized is for --chain ethereum and tron; not used by a bitcoin watch",
        "chainwatch.conf: rpc is for --chain ethereum; not used by a bitcoin watch",
        "chainwatch.conf: zmqpubtron is for --chain tron; not used by a bitcoin watch",
        "chainwatch.conf: max-reorg is for --chain ethereum and tron; not used by a bitcoin watch",
    };
    char *text = read_log(log);
    for (size_t i = 0; i < sizeof unused / sizeof *unused; i++)
        cr_assert(strstr(text, unused[i]), "no '%s' in: %s", unused[i], text);
    /* the [ethereum] and [tron] sections are not this watch's: no warning */
    cr_assert_null(strstr(text, "confirmations is for"), "%s", text);
    cr_assert_null(strstr(text, "tron-http is for"), "%s", text);
    free(text);
    static const struct {
        const char *flag, *line;
    } flags[] = {
        {"--finalized", "chainwatch: watch: --finalized is for --chain ethereum and tron, not bitcoin"},
        {"--rpc=http://127.0.0.1:8545", "chainwatch: watch: --rpc is for --chain ethereum, not bitcoin"},
        {"--poll-ms=500", "chainwatch: watch: --poll-ms is for --chain ethereum and tron, not bitcoin"},
    };
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        unlink(log);
        pid = start_watch(dir, "tcp://127.0.0.1:1", NULL, flags[i].flag);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "%s: status %d", flags[i].flag, status);
        text = read_log(log);
        cr_assert(strstr(text, flags[i].line), "no '%s' in: %s", flags[i].line, text);
        free(text);
    }
    test_remove_dir(dir);
}

/* A watch catching up from --start-height 1 over a node serving the whole
 * regtest chain, which holds its answers after n requests (chaininfo,
 * then a hash and a block for each height; armed before the watch starts):
 * returns once a request is held, the catch-up caught mid-batch whatever
 * the machine's speed. */
static pid_t start_catch_up(regtest_node *node, char **dir, zpub **pub, const char *more, size_t n)
{
    node_start(node);
    rest_server_set_chain(node->srv, node->chain, node->chain_len);
    *dir = setup_datadir(true);
    *pub = zpub_start();
    const char *extra[] = {"--start-height=1", more, NULL};
    rest_server_hold_at(node->srv, n);
    pid_t pid = start_watch_with(*dir, zpub_endpoint(*pub), rest_server_url(node->srv), extra);
    for (int waited = 0; rest_server_waiting(node->srv) == 0 && waited < 20000; waited++)
        test_sleep_ms(1);
    cr_assert_eq(rest_server_waiting(node->srv), 1, "the catch-up never reached request %zu", n + 1);
    return pid;
}

/* A catch-up from the node shows where it is and says what it did: with
 * --status-interval 1 and the node holding its answers for 1.5 s a few
 * requests in, the batch connected next brings a "catching up" line (its
 * last block, the node's tip, the rate, the time left); when the node's whole
 * chain from --start-height 1 is in, "caught up" counts every block. The
 * status line after it counts the txs that came since, not the catch-up's.
 * Before, a catch-up of hours printed nothing until it was done. */
Test(watch, a_catch_up_shows_its_progress_and_what_it_did, .timeout = 60)
{
    regtest_node node;
    char *dir;
    zpub *pub;
    pid_t pid = start_catch_up(&node, &dir, &pub, "--status-interval=1", 4); /* a slow node, mid-way */
    size_t tip = node.chain_len - 1;
    test_sleep_ms(1500);
    rest_server_hold(node.srv, false);
    char log[600], want[160];
    snprintf(log, sizeof log, "%s/watch.log", dir);
    snprintf(want, sizeof want, "caught up: blocks 1..%zu (%zu) in ", tip, tip);
    watch_wait_ready(dir, pub); /* the log exists */
    char *text = NULL;
    for (int waited = 0; waited < 20000; waited += 50) {
        free(text);
        text = read_log(log);
        if (strstr(text, want))
            break;
        test_sleep_ms(50);
    }
    /* the main loop's first status line after it (a second later) */
    for (int waited = 0; waited < 10000 && !strstr(text, "info: status: "); waited += 50) {
        test_sleep_ms(50);
        free(text);
        text = read_log(log);
    }
    const char *status = strstr(text, "info: status: ");
    cr_assert(status, "no status line after the catch-up: %s", text);
    cr_assert(strncmp(status, "info: status: 0.0 tx/s, tip ", 28) == 0,
              "the first status line counted the catch-up's txs: %s", text);
    free(text);
    watch_stop(pid);
    zpub_stop(pub);
    text = read_log(log);
    cr_assert(strstr(text, want), "no '%s' in: %s", want, text);
    snprintf(want, sizeof want, " of %zu, ", tip);
    const char *line = strstr(text, "info: catching up: block ");
    cr_assert(line && strstr(line, want) && strstr(line, " blocks/s, about "), "no progress line in: %s", text);
    free(text);
    test_remove_dir(dir);
    node_stop(&node);
}

/* A node that fails mid-catch-up (every answer after its 21st an HTTP
 * 500: blocks 1..10 given): the blocks fetched before the failure are
 * connected, each once, in one batch, and the rest wait for the next
 * sync. Batching the catch-up must not throw a batch's fetched blocks away
 * with the node's error: the records are exactly the coinbase payments to
 * the listed miner of blocks 1..10, and the summary says so. */
Test(watch, a_node_failing_mid_catch_up_keeps_the_blocks_it_gave, .timeout = 60)
{
    regtest_node node;
    char *dir;
    zpub *pub;
    pid_t pid = start_catch_up(&node, &dir, &pub, NULL, 21); /* chaininfo and blocks 1..10: a batch of ten */
    size_t tip = node.chain_len - 1;
    rest_server_fail(node.srv, 500, 1000000);
    rest_server_hold(node.srv, false);
    char log[600];
    snprintf(log, sizeof log, "%s/watch.log", dir);
    watch_wait_ready(dir, pub);
    char *text = NULL;
    for (int waited = 0; waited < 20000; waited += 50) {
        free(text);
        text = read_log(log);
        if (strstr(text, "catching up stopped: blocks 1.."))
            break;
        test_sleep_ms(50);
    }
    watch_stop(pid);
    zpub_stop(pub);
    const char *line = strstr(text, "catching up stopped: blocks 1..");
    cr_assert(line, "no summary of a partial catch-up in: %s", text);
    cr_assert(strstr(text, "warn: catching up with the node: "), "the node's error is not logged: %s", text);
    unsigned long k = strtoul(line + strlen("catching up stopped: blocks 1.."), NULL, 10);
    cr_assert_eq(k, 10, "connected up to %lu of %zu", k, tip);
    free(text);
    json_t *all = alerts_read(dir);
    size_t i, per_height[200] = {0}, n = 0;
    json_t *r;
    json_array_foreach(all, i, r) {
        const char *st = json_string_value(json_object_get(r, "status"));
        if (st == NULL || strcmp(st, "confirmed") != 0)
            continue;
        json_int_t h = json_integer_value(json_object_get(json_object_get(r, "block"), "height"));
        cr_assert(h >= 1 && (unsigned long)h <= k, "a record of block %lld, past the %lu connected", (long long)h, k);
        per_height[h]++, n++;
    }
    for (unsigned long h = 1; h <= k; h++)
        cr_assert_geq(per_height[h], 1, "block %lu connected without its record", h);
    cr_assert_eq(count_rule(all, "designated_address", "confirmed"), n);
    json_decref(all);
    test_remove_dir(dir);
    node_stop(&node);
}
