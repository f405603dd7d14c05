/* watch --chain tron end to end: a real ZeroMQ PUB in the test sends
 * triggers as java-tron's native queue does (tests/tron_fixture.h builds
 * them from real mainnet txs and their real infos), a real HTTP server in
 * the test answers the /wallet calls in java-tron's shapes, and chainwatch runs as
 * a separate process against the real 2025-11-19 SDN list. A USDT payment
 * to a Cheil Credit Bank address (TA3941uFAvmVibSkQ6fMJXxmaSNovX86mz,
 * uid 22985) is the real USDT tx 0130dfde with its recipient replaced and
 * re-signed (tron_test_resigned), its info the real one with the log's
 * recipient replaced the same way. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chains/addr.h"
#include "chains/hex.h"
#include "monitor/records/keys.h"
#include "monitor/records/webhook.h"
#include "tests/cases_fixture.h"
#include "tests/support.h"
#include "tests/tron_fixture.h"
#include "tests/tron_http_server.h"
#include "tests/zmq_pub.h"

static uint8_t *slurp(const char *path, size_t *n);

#define CHEIL "TA3941uFAvmVibSkQ6fMJXxmaSNovX86mz"
#define N0 69316562
/* block 0 of mainnet ends in TIP-474's chain id 0x2b6653dc */
#define GENESIS_ID "00000000000000001ebf88508a03865c71d452e25f4d51194196a1d22b6653dc"
/* eth_sign.h's ETH_TEST_KEY's account: the re-signed txs' owner */
#define TEST_OWNER_WORD "0000000000000000000000009d8a62f656a8d1615c1294fd71e9cfb3e4855a4f"

typedef struct {
    char dir[128];
    zpub *pub;
    tron_server *http;
    json_t *pay[2];  /* the two payments to Cheil (HTTP API shape) */
    json_t *info[2]; /* their infos (blockNumber set when served) */
} rig;

static const char *jstr(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* A USDT payment to Cheil from signed_txs.jsonl line `line`, and its info. */
static void payment(size_t line, const char *info_of, json_t **tx, json_t **info)
{
    cw_addr cheil;
    cr_assert_eq(cw_addr_parse(CHEIL, CW_NET_ANY, &cheil, NULL), CW_OK);
    *tx = tron_test_resigned(line, cheil.payload);
    *info = tron_info_by_id(info_of, 0);
    json_object_set(*info, "id", json_object_get(*tx, "txID"));
    json_t *topics = json_object_get(json_array_get(json_object_get(*info, "log"), 0), "topics");
    char word[65];
    snprintf(word, sizeof word, "000000000000000000000000");
    cw_hex_encode(cheil.payload, 20, word + 24);
    json_array_set_new(topics, 1, json_string(TEST_OWNER_WORD));
    json_array_set_new(topics, 2, json_string(word));
}

static void rig_start(rig *r)
{
    snprintf(r->dir, sizeof r->dir, "/tmp/cw-tron-watch-XXXXXX");
    cr_assert_not_null(mkdtemp(r->dir));
    char *argv1[] = {CW_BIN, "init", "--datadir", r->dir, NULL};
    char *out, *err;
    cr_assert_eq(run_cmd(argv1, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char *argv2[] = {CW_BIN, "watchlist", "import", "sdn-advanced", CW_SDN_XML, "--datadir", r->dir, NULL};
    cr_assert_eq(run_cmd(argv2, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    r->pub = zpub_start();
    r->http = tron_server_start();
    cr_assert_not_null(r->http);
    char *g = strdup("{\"blockID\":\"" GENESIS_ID "\",\"block_header\":{\"raw_data\":{\"number\":0,\"parentHash\":"
                     "\"957dc2d350daecc7bb6a38f3938ebde0a0c1cedafe15f0edae4256a2907449f6\",\"timestamp\":0}}}");
    tron_server_set(r->http, 0, g, NULL);
    free(g);
    payment(0, "0130dfde9281a48378109039ef512229d5359fbee2a8adbb17ad73aebc67ea99", &r->pay[0], &r->info[0]);
    payment(2, "46710419b68bd4a87ad3227011874f34602d986a61c264676dfb70a06b5d24ed", &r->pay[1], &r->info[1]);
}

static void rig_stop(rig *r)
{
    zpub_stop(r->pub);
    tron_server_stop(r->http);
    for (int i = 0; i < 2; i++)
        json_decref(r->pay[i]), json_decref(r->info[i]);
    test_remove_dir(strdup(r->dir));
}

/* Block n (blockID tag, parent's tag) with payments `which` (bit 0: pay[0],
 * bit 1: pay[1]) served over HTTP; with `send`, also its triggers on the
 * queue, latestSolidifiedBlockNumber `solid`. */
static void block(rig *r, int64_t n, uint8_t tag, uint8_t ptag, int which, bool send, int64_t solid)
{
    json_t *txs = json_array(), *infos = json_array();
    for (int i = 0; i < 2; i++)
        if (which & (1 << i)) {
            json_array_append(txs, r->pay[i]);
            json_t *in = json_deep_copy(r->info[i]);
            json_object_set_new(in, "blockNumber", json_integer(n));
            json_array_append_new(infos, in);
        }
    char parent[65], id[65];
    tron_block_id(n - 1, ptag, parent);
    tron_block_id(n, tag, id);
    char *body = tron_block_body(n, tag, parent, 1700000000000 + n * 3000, txs); /* the triggers' timeStamp */
    char *it = json_dumps(infos, JSON_COMPACT);
    tron_server_set(r->http, n, body, it);
    free(body);
    free(it);
    if (send) {
        char *bt = tron_trig_block(n, id, txs, solid);
        const void *fr[2] = {"blockTrigger", bt};
        size_t ln[2] = {12, strlen(bt)};
        zpub_send_frames(r->pub, fr, ln, 2);
        free(bt);
        int logs = 0;
        for (size_t i = 0; i < json_array_size(txs); i++) {
            char *tt = tron_trig_tx(json_array_get(txs, i), json_array_get(infos, i), n, id, solid, (int)i, logs);
            logs += (int)json_array_size(json_object_get(json_array_get(infos, i), "log"));
            const void *f2[2] = {"transactionTrigger", tt};
            size_t l2[2] = {18, strlen(tt)};
            zpub_send_frames(r->pub, f2, l2, 2);
            free(tt);
        }
    }
    json_decref(txs);
    json_decref(infos);
}

/* Starts watch (its output appended to r->dir/watch.log) and waits until
 * this run has logged "watching" (a line past where the log ended when it
 * was started: a restart on the same log never returns on the last run's
 * line) and has subscribed to the publisher. */
static pid_t start_watch(rig *r, const char *extra)
{
    char log[200];
    snprintf(log, sizeof log, "%s/watch.log", r->dir);
    struct stat lst;
    long from = stat(log, &lst) == 0 ? (long)lst.st_size : 0;
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        char zmq[128], http[128];
        snprintf(zmq, sizeof zmq, "--zmqpubtron=%s", zpub_endpoint(r->pub));
        snprintf(http, sizeof http, "--tron-http=%s", tron_server_url(r->http));
        char *argv[16] = {CW_BIN, "watch", "--chain", "tron", zmq, http, "--datadir", r->dir, "--start-height",
                          "69316562", "--status-interval", "0", "--poll-ms", "50", (char *)extra, NULL};
        execv(CW_BIN, argv);
        _exit(127);
    }
    for (int i = 0; i < 300; i++) {
        FILE *f = fopen(log, "r");
        char line[1024];
        bool ready = false;
        if (f && fseek(f, from, SEEK_SET) == 0)
            while (fgets(line, sizeof line, f))
                ready |= strstr(line, "watching tron mainnet (chain id 728126428)") != NULL;
        if (f)
            fclose(f);
        if (ready) {
            cr_assert(zpub_wait_subscription(r->pub, 20000), "watch never subscribed");
            return pid;
        }
        test_sleep_ms(50);
    }
    cr_assert_fail("watch did not start (see %s/watch.log)", r->dir);
    return pid;
}

static void stop_watch(pid_t pid)
{
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "watch exited %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* Records of txid with status (all addresses). */
static size_t count(json_t *all, const char *txid, const char *status, json_t **last)
{
    size_t n = 0, i;
    json_t *r;
    json_array_foreach(all, i, r)
    {
        if (strcmp(jstr(r, "txid") ? jstr(r, "txid") : "", txid) == 0 && strcmp(jstr(r, "status"), status) == 0) {
            n++;
            if (last)
                *last = r;
        }
    }
    return n;
}

static json_t *wait_record(rig *r, const char *txid, const char *status)
{
    for (int i = 0; i < 300; i++) {
        json_t *all = alerts_read(r->dir), *hit = NULL;
        if (count(all, txid, status, &hit)) {
            json_incref(hit);
            json_decref(all);
            return hit;
        }
        json_decref(all);
        test_sleep_ms(50);
    }
    cr_assert_fail("no %s record of %s (see %s/watch.log)", status, txid, r->dir);
    return NULL;
}

/* Mempool (in a block not yet solidified), then confirmed when solidified;
 * a block whose triggers were lost is refilled over HTTP; each status once. */
Test(tron_watch, usdt_to_cheil_once_per_status_and_gap_refilled, .timeout = 120)
{
    rig r;
    rig_start(&r);
    block(&r, N0, 0xaa, 0xaa, 0, false, 0);
    pid_t w = start_watch(&r, NULL);
    const char *t1 = jstr(r.pay[0], "txID"), *t2 = jstr(r.pay[1], "txID");
    block(&r, N0, 0xaa, 0xaa, 0, true, N0 - 1);
    block(&r, N0 + 1, 0xaa, 0xaa, 1, true, N0 - 1);
    json_t *m = wait_record(&r, t1, "mempool");
    cr_assert_str_eq(jstr(m, "chain"), "tron");
    cr_assert_str_eq(jstr(m, "network"), "mainnet");
    cr_assert_str_eq(jstr(m, "address"), CHEIL);
    cr_assert_str_eq(jstr(m, "amount"), "41677389");
    cr_assert_str_eq(jstr(json_object_get(m, "asset"), "symbol"), "USDT");
    cr_assert_str_eq(jstr(json_object_get(m, "asset"), "contract"), "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    cr_assert_str_eq(jstr(json_object_get(m, "entity"), "name"), "CHEIL CREDIT BANK");
    cr_assert_str_eq(jstr(json_object_get(m, "entity"), "uid"), "22985");
    /* N0+2 solidifies N0+1: confirmed, same id */
    block(&r, N0 + 2, 0xaa, 0xaa, 0, true, N0 + 1);
    json_t *c = wait_record(&r, t1, "confirmed");
    cr_assert_str_eq(jstr(c, "id"), jstr(m, "id"));
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(c, "block"), "height")), N0 + 1);
    /* N0+3's triggers are lost; it is on the node (HTTP) with the second payment */
    size_t before = tron_server_requests(r.http, "/wallet/getblockbynum");
    block(&r, N0 + 3, 0xaa, 0xaa, 2, false, 0);
    block(&r, N0 + 4, 0xaa, 0xaa, 0, true, N0 + 2);
    json_t *m2 = wait_record(&r, t2, "mempool");
    cr_assert_gt(tron_server_requests(r.http, "/wallet/getblockbynum"), before, "the gap came over HTTP");
    cr_assert_gt(tron_server_requests(r.http, "/wallet/gettransactioninfobyblocknum"), 0);
    block(&r, N0 + 5, 0xaa, 0xaa, 0, true, N0 + 4);
    json_t *c2 = wait_record(&r, t2, "confirmed");
    cr_assert_str_eq(jstr(c2, "id"), jstr(m2, "id"));
    cr_assert_str_eq(jstr(c2, "amount"), "1000");
    stop_watch(w);
    json_t *all = alerts_read(r.dir);
    cr_assert_eq(count(all, t1, "mempool", NULL), 1);
    cr_assert_eq(count(all, t1, "confirmed", NULL), 1);
    cr_assert_eq(count(all, t2, "mempool", NULL), 1);
    cr_assert_eq(count(all, t2, "confirmed", NULL), 1);
    json_decref(all);
    json_decref(m), json_decref(c), json_decref(m2), json_decref(c2);
    rig_stop(&r);
}

/* --confirmations 1: blocks connect at the head; the node replaces the
 * block with the payment before it is solidified: reorged, same id. */
Test(tron_watch, replaced_unsolidified_block_is_reorged, .timeout = 120)
{
    rig r;
    rig_start(&r);
    block(&r, N0, 0xaa, 0xaa, 0, false, 0);
    pid_t w = start_watch(&r, "--confirmations=1");
    const char *t1 = jstr(r.pay[0], "txID");
    block(&r, N0, 0xaa, 0xaa, 0, true, N0 - 5);
    block(&r, N0 + 1, 0xaa, 0xaa, 1, true, N0 - 5);
    json_t *c = wait_record(&r, t1, "confirmed");
    /* the node switches to another N0+1 (without the payment) and builds on it */
    block(&r, N0 + 1, 0xbb, 0xaa, 0, true, N0 - 4);
    block(&r, N0 + 2, 0xbb, 0xbb, 0, true, N0 - 3);
    json_t *g = wait_record(&r, t1, "reorged");
    cr_assert_str_eq(jstr(g, "id"), jstr(c, "id"));
    stop_watch(w);
    json_t *all = alerts_read(r.dir);
    cr_assert_eq(count(all, t1, "mempool", NULL), 1, "sighted once, before its block was connected");
    cr_assert_eq(count(all, t1, "confirmed", NULL), 1);
    cr_assert_eq(count(all, t1, "reorged", NULL), 1);
    json_decref(all);
    json_decref(c), json_decref(g);
    rig_stop(&r);
}

/* kill -9 after the mempool record; what the node did meanwhile is read
 * over HTTP at the restart: nothing lost, nothing repeated. */
Test(tron_watch, kill_9_loses_and_repeats_nothing, .timeout = 120)
{
    rig r;
    rig_start(&r);
    block(&r, N0, 0xaa, 0xaa, 0, false, 0);
    pid_t w = start_watch(&r, NULL);
    const char *t1 = jstr(r.pay[0], "txID"), *t2 = jstr(r.pay[1], "txID");
    block(&r, N0, 0xaa, 0xaa, 0, true, N0 - 1);
    block(&r, N0 + 1, 0xaa, 0xaa, 1, true, N0 - 1);
    json_t *m = wait_record(&r, t1, "mempool");
    kill(w, SIGKILL);
    waitpid(w, NULL, 0);
    /* while it is down: N0+2 (the second payment) and N0+3 */
    block(&r, N0 + 2, 0xaa, 0xaa, 2, true, N0);
    block(&r, N0 + 3, 0xaa, 0xaa, 0, true, N0 + 1);
    w = start_watch(&r, NULL);
    block(&r, N0 + 4, 0xaa, 0xaa, 0, true, N0 + 3);
    json_t *c = wait_record(&r, t1, "confirmed");
    json_t *c2 = wait_record(&r, t2, "confirmed");
    cr_assert_str_eq(jstr(c, "id"), jstr(m, "id"));
    stop_watch(w);
    json_t *all = alerts_read(r.dir);
    cr_assert_eq(count(all, t1, "mempool", NULL), 1);
    cr_assert_eq(count(all, t1, "confirmed", NULL), 1);
    cr_assert_eq(count(all, t2, "confirmed", NULL), 1);
    cr_assert_eq(count(all, t2, "mempool", NULL), 0, "seen first when solidified: no sighting before");
    json_decref(all);
    json_decref(m), json_decref(c), json_decref(c2);
    rig_stop(&r);
}

/* SIGTERM with the store failing at the final flush (from the moment the
 * gate file exists, every read of the outbox fails: the flush's walk over
 * it, which nothing else in an idle watch makes): exit 3 naming the store's
 * error, as Bitcoin's watch and the replays, never 0. The outbox worked
 * before the gate (the mempool record reached the file); nothing is lost:
 * a restart with a healthy store flushes, exit 0, the record once. */
Test(tron_watch, a_store_error_at_the_final_flush_is_exit_3, .timeout = 60)
{
    rig r;
    rig_start(&r);
    char gate[200];
    snprintf(gate, sizeof gate, "%s/store-fails", r.dir);
    block(&r, N0, 0xaa, 0xaa, 0, false, 0);
    setenv("LD_PRELOAD", CW_FAULT_PRELOAD, 1); /* inherited by watch only: the test execs nothing meanwhile */
    setenv("CW_FAIL_MDB", "mdb_cursor_get:1+:EIO#outbox", 1);
    setenv("CW_FAULT_WHILE", gate, 1);
    pid_t w = start_watch(&r, NULL);
    unsetenv("LD_PRELOAD");
    unsetenv("CW_FAIL_MDB");
    unsetenv("CW_FAULT_WHILE");
    const char *t1 = jstr(r.pay[0], "txID");
    block(&r, N0, 0xaa, 0xaa, 0, true, N0 - 1);
    block(&r, N0 + 1, 0xaa, 0xaa, 1, true, N0 - 1);
    json_decref(wait_record(&r, t1, "mempool"));
    int st = test_stop_with_gate(w, gate); /* the final flush meets the failing store */
    char log[200];
    snprintf(log, sizeof log, "%s/watch.log", r.dir);
    size_t n;
    char *text = (char *)slurp(log, &n);
    text[n] = '\0';
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3, "watch (status %d) stopped on SIGTERM with the store failing:\n%s",
              st, text);
    cr_assert(strstr(text, "error: watch: final flush: ") && strstr(text, "outbox: Input/output error"), "%s", text);
    cr_assert_not(strstr(text, "stopping: the store failed"), "the failure came before the stop:\n%s", text);
    free(text);
    char log1[220];
    snprintf(log1, sizeof log1, "%s/watch1.log", r.dir);
    cr_assert_eq(rename(log, log1), 0); /* start_watch waits for its own "watching" line */
    w = start_watch(&r, NULL);
    stop_watch(w);
    json_t *all = alerts_read(r.dir);
    cr_assert_eq(count(all, t1, "mempool", NULL), 1);
    json_decref(all);
    rig_stop(&r);
}

/* A record without what differs between two runs by design: when it was
 * seen, its signature (a signing key per datadir) and the hash of the line
 * before it (which holds those two). Its place in the trail (seq) is the
 * same: both datadirs began alike (docs/capture.md). */
static json_t *comparable(json_t *all)
{
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r)
    {
        json_object_del(r, "seen_at");
        json_object_del(r, "sig");
        json_object_del(r, "prev");
    }
    return all;
}

/* The whole file at path (*n its length). */
static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)size + 1);
    cr_assert_eq(fread(b, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *n = (size_t)size;
    return b;
}

static void spill(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* replay --capture cap --datadir dd [extra...]: the exit status, out and
 * err (free them). */
static int replay_capture(const char *cap, const char *dd, const char *x1, const char *x2, char **out, char **err)
{
    char *argv[] = {CW_BIN, "replay", "--capture", (char *)cap, "--datadir", (char *)dd, (char *)x1, (char *)x2, NULL};
    return run_cmd(argv, NULL, 0, out, err);
}

/* A fresh datadir with the SDN list imported (as the rig's). */
static void fresh_datadir(char *dir, bool import)
{
    cr_assert_not_null(mkdtemp(dir));
    char *out, *err;
    char *a1[] = {CW_BIN, "init", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(a1, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    if (!import)
        return;
    char *a2[] = {CW_BIN, "watchlist", "import", "sdn-advanced", CW_SDN_XML, "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(a2, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
}

static void assert_same_records(json_t *live, json_t *again, const char *what)
{
    cr_assert_eq(json_array_size(again), json_array_size(live), "%zu records, the live run %zu",
                 json_array_size(again), json_array_size(live));
    for (size_t i = 0; i < json_array_size(live); i++) {
        char *a = json_dumps(json_array_get(live, i), JSON_SORT_KEYS | JSON_COMPACT);
        char *b = json_dumps(json_array_get(again, i), JSON_SORT_KEYS | JSON_COMPACT);
        cr_assert_str_eq(b, a, "%s: record %zu differs", what, i);
        free(a), free(b);
    }
}

/* watch --chain tron --record, then replay --capture of that file into a
 * fresh datadir with no node at all: the same records. The live run has a
 * gap refilled over HTTP (N0+3, whose triggers are lost, carries the second
 * payment), so the replay can only match by answering from the capture's
 * recorded replies. */
Test(tron_watch, record_then_replay_capture_gives_the_live_records, .timeout = 120)
{
    rig r;
    rig_start(&r);
    char cap[300], rec[320];
    snprintf(cap, sizeof cap, "%s/tron.cwcap", r.dir);
    snprintf(rec, sizeof rec, "--record=%s", cap);
    /* a --tokens file (from chainwatch.conf) that renames USDT: the live
     * records name it USDTX, and only a replay that takes the file's bytes
     * from the capture can say so too */
    char tokens[300], conf[300];
    snprintf(tokens, sizeof tokens, "%s/tokens.csv", r.dir);
    snprintf(conf, sizeof conf, "%s/chainwatch.conf", r.dir);
    const char *token_rows = "chain,token,contract_address,decimals,source\n"
                             "TRON,USDTX,TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t,6,test\n";
    spill(tokens, (const uint8_t *)token_rows, strlen(token_rows));
    FILE *cf = fopen(conf, "w");
    cr_assert_not_null(cf);
    fprintf(cf, "tokens = %s\n", tokens);
    fclose(cf);
    block(&r, N0, 0xaa, 0xaa, 0, false, 0);
    pid_t w = start_watch(&r, rec);
    const char *t1 = jstr(r.pay[0], "txID"), *t2 = jstr(r.pay[1], "txID");
    block(&r, N0, 0xaa, 0xaa, 0, true, N0 - 1);
    block(&r, N0 + 1, 0xaa, 0xaa, 1, true, N0 - 1);
    json_decref(wait_record(&r, t1, "mempool"));
    block(&r, N0 + 2, 0xaa, 0xaa, 0, true, N0 + 1);
    json_decref(wait_record(&r, t1, "confirmed"));
    /* watch stopped and started again on the same file: a second session,
     * after its own settings record (its datadir's tip then) */
    stop_watch(w);
    w = start_watch(&r, rec);
    size_t before = tron_server_requests(r.http, "/wallet/getblockbynum");
    block(&r, N0 + 3, 0xaa, 0xaa, 2, false, 0);
    block(&r, N0 + 4, 0xaa, 0xaa, 0, true, N0 + 2);
    json_decref(wait_record(&r, t2, "mempool"));
    cr_assert_gt(tron_server_requests(r.http, "/wallet/getblockbynum"), before, "the gap came over HTTP");
    block(&r, N0 + 5, 0xaa, 0xaa, 0, true, N0 + 4);
    json_decref(wait_record(&r, t2, "confirmed"));
    stop_watch(w);
    json_t *live = comparable(alerts_read(r.dir));
    char *live_text = json_dumps(live, JSON_COMPACT);
    cr_assert(strstr(live_text, "\"USDTX\"") && !strstr(live_text, "\"USDT\""), "%s", live_text);
    free(live_text);
    cr_assert_eq(count(live, t1, "mempool", NULL), 1);
    cr_assert_eq(count(live, t2, "confirmed", NULL), 1);

    /* the replay: a fresh datadir, the node's HTTP server never asked */
    char d2[128] = "/tmp/cw-tron-replay-XXXXXX";
    cr_assert_not_null(mkdtemp(d2));
    char *out, *err;
    char *a1[] = {CW_BIN, "init", "--datadir", d2, NULL};
    cr_assert_eq(run_cmd(a1, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char *a2[] = {CW_BIN, "watchlist", "import", "sdn-advanced", CW_SDN_XML, "--datadir", d2, NULL};
    cr_assert_eq(run_cmd(a2, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    size_t asked = tron_server_requests(r.http, "/wallet/getblockbynum");
    /* no options: the start height and the rest come from the capture */
    char *a3[] = {CW_BIN, "replay", "--capture", cap, "--datadir", d2, NULL};
    cr_assert_eq(run_cmd(a3, NULL, 0, &out, &err), 0, "%s\n%s", out, err);
    cr_assert(strstr(out, "replayed tron mainnet capture"), "%s", out);
    cr_assert(strstr(out, "  warnings    0\n"), "%s\n%s", out, err);
    /* from the recorded start (N0): without it (the head) the replay would
     * connect 4 blocks and ask for block N0-1, which the live run never did */
    cr_assert(strstr(out, "  sessions    2 watch runs, with the recorded settings\n"), "%s", out);
    cr_assert(strstr(out, "  blocks      5 connected, 0 disconnected, tip 69316566\n"), "%s", out);
    free(out), free(err);
    cr_assert_eq(tron_server_requests(r.http, "/wallet/getblockbynum"), asked, "the replay asked the node");
    json_t *again = comparable(alerts_read(d2));
    assert_same_records(live, again, "the replay");

    /* the same datadir again: its tron chain is past where the capture
     * starts (a new datadir's): refused before anything is replayed */
    cr_assert_eq(replay_capture(cap, d2, NULL, NULL, &out, &err), 2, "%s\n%s", out, err);
    cr_assert(strstr(err, "session 1: this datadir's tron chain is not where the recording began: recorded tip none "
                          "(a new datadir), this datadir's tip block 69316566 0x"),
              "%s", err);
    cr_assert(strstr(err, "(past it: replayed already, or followed further)"), "%s", err);
    free(out), free(err);
    json_t *unchanged = comparable(alerts_read(d2));
    assert_same_records(live, unchanged, "after the refused replay");
    json_decref(unchanged);

    /* the second session began on the first's tip: a datadir at that
     * height on another branch (its hash patched in the capture) is
     * refused there, after the first session is replayed */
    {
        size_t bn;
        uint8_t *bb = slurp(cap, &bn);
        uint8_t *second = NULL;
        for (size_t i = 0, seen = 0; second == NULL && i + 14 <= bn; i++)
            if (memcmp(bb + i, "\"tip_hash\":\"0x", 14) == 0 && ++seen == 1)
                second = bb + i + 14;
        cr_assert_not_null(second, "the second session's settings name its tip's hash");
        second[63] = second[63] == '0' ? '1' : '0'; /* the last hex digit: the same length */
        char branch[300];
        snprintf(branch, sizeof branch, "%s/branch.cwcap", r.dir);
        spill(branch, bb, bn);
        free(bb);
        char d6[128] = "/tmp/cw-tron-replay-XXXXXX";
        fresh_datadir(d6, false);
        cr_assert_eq(replay_capture(branch, d6, NULL, NULL, &out, &err), 2, "%s\n%s", out, err);
        cr_assert(strstr(err, "session 2: this datadir's tron chain is not where the recording began: recorded tip "
                              "block 69316563 0x"), "%s", err);
        cr_assert(strstr(err, "(another branch or chain at that height)"), "%s", err);
        cr_assert(strstr(out, "  sessions    1 watch run"), "the first session is replayed: %s", out);
        free(out), free(err);
        /* the second settings record damaged (in a fresh copy of the
         * capture): the first session replayed, then the damage named with
         * its offset */
        bb = slurp(cap, &bn);
        size_t fins = 0;
        for (size_t i = 0; i + 16 <= bn; i++)
            if (memcmp(bb + i, "\"finalized\":true", 16) == 0 && ++fins == 2)
                memcpy(bb + i + 12, "4444", 4);
        cr_assert_eq(fins, 2, "one settings record per session");
        spill(branch, bb, bn);
        free(bb);
        test_remove_dir(strdup(d6));
        strcpy(d6, "/tmp/cw-tron-replay-XXXXXX");
        fresh_datadir(d6, false);
        cr_assert_eq(replay_capture(branch, d6, NULL, NULL, &out, &err), 2, "%s\n%s", out, err);
        cr_assert(strstr(err, "(the settings record at byte ") && strstr(err, "'finalized' is not true or false (the "
                                                                            "records before it are written)"),
                  "%s", err);
        cr_assert(strstr(out, "  sessions    1 watch run"), "the first session is replayed: %s", out);
        free(out), free(err);
        test_remove_dir(strdup(d6));
    }

    /* options that contradict the recording's settings: refused, naming
     * the setting, the recorded and the given value; nothing replayed */
    char d4[128] = "/tmp/cw-tron-replay-XXXXXX";
    fresh_datadir(d4, false);
    static const struct {
        const char *opt, *val, *msg;
    } contra[] = {
        {"--start-height", "69316563", "--start-height differs from the recording's: recorded 69316562, given 69316563"},
        {"--hops", "2", "--hops differs from the recording's: recorded 3, given 2"},
        {"--clusters", "off", "--hops differs from the recording's: recorded 3, given 0 (--clusters off)"},
        {"--min-exposure", "2%", "--min-exposure differs from the recording's: recorded 10000 ppm, given 20000 ppm"},
        {"--hold-exposure", "50%", "--hold-exposure differs from the recording's: recorded 100000 ppm, given 500000 ppm"},
        {"--recurring-payments", "7", "the pattern rules differ from the recording's at rules.min_recurring: "
                                      "recorded 3, given 7"},
        {"--rules-pool-trace-max", "7", "the pattern rules differ from the recording's at rules.pool_trace_max: "
                                        "recorded 10000, given 7"},
        /* the default least hit, USD 100 (docs/rules.md): 0.05 ETH at USD 2,000 in wei, 1,000 TRX at USD 0.10
         * in sun; given 5 TRX */
        {"--rules-min-hit-trx", "5", "the pattern rules differ from the recording's at rules.asset_hit_min: recorded "
                                     "[[\"ETH\",\"50000000000000000\"],[\"TRX\",\"1000000000\"]], given "
                                     "[[\"ETH\",\"50000000000000000\"],[\"TRX\",\"5000000\"]]"},
        {"--rules", "off", "the pattern rules differ from the recording's at rules.enabled: recorded true, given false"},
    };
    /* a --labels file (services stop exposure and are the rules' off-ramps):
     * in the capture by its digest only, so the same file or none */
    char labels[300];
    snprintf(labels, sizeof labels, "%s/labels.csv", r.dir);
    FILE *lf = fopen(labels, "w");
    cr_assert_not_null(lf);
    fprintf(lf, "chain,address,entity,category,source\nTRX,%s,Some exchange,exchange,test\n", CHEIL);
    fclose(lf);
    cr_assert_eq(replay_capture(cap, d4, "--labels", labels, &out, &err), 2, "%s", err);
    cr_assert(strstr(err, "session 1: the pattern rules differ from the recording's at rules.labels_blake2b: recorded "
                          "\"\", given \""), "%s", err);
    free(out), free(err);
    for (size_t i = 0; i < sizeof contra / sizeof *contra; i++) {
        cr_assert_eq(replay_capture(cap, d4, contra[i].opt, contra[i].val, &out, &err), 2, "%s %s\n%s\n%s",
                     contra[i].opt, contra[i].val, out, err);
        cr_assert(strstr(err, contra[i].msg), "%s %s: %s", contra[i].opt, contra[i].val, err);
        cr_assert(strstr(err, "session 1: "), "%s", err);
        free(out), free(err);
    }
    /* the recorded value given again is no contradiction (only checked up
     * to the datadir here: d2 is past the start) */
    cr_assert_eq(replay_capture(cap, d2, "--start-height", "69316562", &out, &err), 2, "%s", err);
    cr_assert(strstr(err, "not where the recording began") && !strstr(err, "differs"), "%s", err);
    free(out), free(err);
    json_t *none = alerts_read(d4);
    cr_assert_eq(json_array_size(none), 0, "a refused replay wrote records");
    json_decref(none);

    /* a settings record cut short or damaged: refused with its offset,
     * nothing replayed. The header of a mainnet capture is 21 bytes
     * ("CWCAP2\n", 4 "tron", 7 "mainnet", topics); the settings JSON
     * starts 16 + 4 + 8 ("settings") + 4 bytes into the record: byte 53 */
    size_t cn;
    uint8_t *cb = slurp(cap, &cn);
    cr_assert_eq(memcmp(cb, "CWCAP2\n\x04tron\x07mainnet\x07", 21), 0);
    cr_assert_eq(memcmp(cb + 21 + 16, "\x08\0\0\0settings", 12), 0, "the first record is the settings record");
    cr_assert_eq(memcmp(cb + 53, "{\"chain_id\":728126428,\"confirmations\":1,", 40), 0, "%.60s", cb + 53);
    uint32_t l1 = (uint32_t)cb[49] | (uint32_t)cb[50] << 8 | (uint32_t)cb[51] << 16 | (uint32_t)cb[52] << 24;
    const uint8_t *f2 = cb + 53 + l1;
    uint32_t l2 = (uint32_t)f2[0] | (uint32_t)f2[1] << 8 | (uint32_t)f2[2] << 16 | (uint32_t)f2[3] << 24;
    cr_assert(l2 == strlen(token_rows) && memcmp(f2 + 4, token_rows, l2) == 0, "frame 2: the --tokens file's bytes");
    char bad[300];
    snprintf(bad, sizeof bad, "%s/bad.cwcap", r.dir);
    spill(bad, cb, 21 + 40);
    cr_assert_eq(replay_capture(bad, d4, NULL, NULL, &out, &err), 2, "%s", err);
    cr_assert(strstr(err, "record at byte 21: ") && strstr(err, "cut short") &&
                  strstr(err, "refused, nothing replayed"), "%s", err);
    free(out), free(err);
    spill(bad, cb, 21); /* the header alone: the recording never began */
    cr_assert_eq(replay_capture(bad, d4, NULL, NULL, &out, &err), 2, "%s", err);
    cr_assert(strstr(err, "byte 21: no settings record (the recording never began): refused, nothing replayed"), "%s",
              err);
    free(out), free(err);
    uint8_t *fin = NULL;
    for (size_t i = 53; fin == NULL && i + 16 <= cn; i++)
        if (memcmp(cb + i, "\"finalized\":true", 16) == 0)
            fin = cb + i;
    cr_assert_not_null(fin);
    memcpy(fin + 12, "4444", 4); /* the same length: the record still frames */
    spill(bad, cb, cn);
    cr_assert_eq(replay_capture(bad, d4, NULL, NULL, &out, &err), 2, "%s", err);
    cr_assert(strstr(err, "byte 53 (the settings record at byte 21): 'finalized' is not true or false"), "%s", err);
    free(out), free(err);
    memcpy(fin + 12, "true", 4);
    /* a header naming another chain than block 0's reply (and the settings) */
    memcpy(cb + 13, "chain-1", 7);
    spill(bad, cb, cn);
    cr_assert_eq(replay_capture(bad, d4, NULL, NULL, &out, &err), 2, "%s", err);
    cr_assert(strstr(err, "session 1: the chain differs from the recording's: recorded chain id 728126428 (the header "
                          "says chain-1), the capture's block 0 gives 728126428 (mainnet): a damaged capture"),
              "%s", err);
    free(out), free(err);
    memcpy(cb + 13, "mainnet", 7);
    cb[53] = '['; /* not JSON at its first byte */
    spill(bad, cb, cn);
    cr_assert_eq(replay_capture(bad, d4, NULL, NULL, &out, &err), 2, "%s", err);
    cr_assert(strstr(err, "(the settings record at byte 21): the settings are not JSON"), "%s", err);
    free(out), free(err);
    none = alerts_read(d4);
    cr_assert_eq(json_array_size(none), 0, "a refused replay wrote records");
    json_decref(none);

    /* a capture from before settings were recorded (the same file without
     * its settings record) still replays, with the options given and a
     * warning that nothing was checked; watch refuses to append to it */
    cb[53] = '{';
    size_t kept = 21, dropped = 0;
    for (size_t at = 21; at < cn;) { /* capture.h: u32 L, f64 time, u32 F, then u32 length + frame 0 */
        uint32_t len = (uint32_t)cb[at] | (uint32_t)cb[at + 1] << 8 | (uint32_t)cb[at + 2] << 16 |
                       (uint32_t)cb[at + 3] << 24;
        cr_assert_leq(at + 4 + len, cn);
        bool settings = (cb[at + 15] & 0x80) && memcmp(cb + at + 16, "\x08\0\0\0settings", 12) == 0;
        if (!settings) {
            memmove(cb + kept, cb + at, 4 + (size_t)len);
            kept += 4 + (size_t)len;
        }
        dropped += settings;
        at += 4 + (size_t)len;
    }
    cr_assert_eq(dropped, 2, "one settings record per watch run");
    char old[300];
    snprintf(old, sizeof old, "%s/old.cwcap", r.dir);
    spill(old, cb, kept);
    free(cb);
    char d5[128] = "/tmp/cw-tron-replay-XXXXXX";
    fresh_datadir(d5, true);
    cr_assert_eq(replay_capture(old, d5, "--start-height", "69316562", &out, &err), 0, "%s\n%s", out, err);
    cr_assert(strstr(err, "has no settings record (written by an older chainwatch): nothing checks"), "%s", err);
    cr_assert(strstr(out, "(no settings recorded: run with the options given)"), "%s", out);
    free(out), free(err);
    /* the same records but for what the settings carried: without the
     * --tokens bytes USDT keeps its built-in name */
    json_t *legacy = comparable(alerts_read(d5));
    cr_assert_eq(json_array_size(legacy), json_array_size(live));
    char *legacy_text = json_dumps(legacy, JSON_COMPACT);
    cr_assert(strstr(legacy_text, "\"USDT\"") && !strstr(legacy_text, "\"USDTX\""), "%s", legacy_text);
    free(legacy_text);
    json_decref(legacy);
    char zmq[128], http[128], recopt[320];
    snprintf(zmq, sizeof zmq, "--zmqpubtron=%s", zpub_endpoint(r.pub));
    snprintf(http, sizeof http, "--tron-http=%s", tron_server_url(r.http));
    snprintf(recopt, sizeof recopt, "--record=%s", old);
    char *aw[] = {CW_BIN, "watch", "--chain", "tron", zmq, http, "--datadir", d4, recopt, NULL};
    cr_assert_eq(run_cmd(aw, NULL, 0, &out, &err), 2, "%s\n%s", out, err);
    cr_assert(strstr(err, "holds a tron capture without a settings record (written by an older chainwatch): record "
                          "to a new file"), "%s", err);
    free(out), free(err);
    test_remove_dir(strdup(d4));
    test_remove_dir(strdup(d5));

    /* cut short: the records before the cut, then a clear error, exit 2 */
    char cut[300];
    snprintf(cut, sizeof cut, "%s/cut.cwcap", r.dir);
    FILE *in = fopen(cap, "rb"), *o = fopen(cut, "wb");
    cr_assert(in && o);
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    fseek(in, 0, SEEK_SET);
    char *bytes = malloc((size_t)size);
    cr_assert_eq(fread(bytes, 1, (size_t)size, in), (size_t)size);
    fwrite(bytes, 1, (size_t)size - 3, o);
    fclose(in), fclose(o), free(bytes);
    char d3[128] = "/tmp/cw-tron-replay-XXXXXX";
    cr_assert_not_null(mkdtemp(d3));
    char *a4[] = {CW_BIN, "init", "--datadir", d3, NULL};
    cr_assert_eq(run_cmd(a4, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char *a6[] = {CW_BIN, "watchlist", "import", "sdn-advanced", CW_SDN_XML, "--datadir", d3, NULL};
    cr_assert_eq(run_cmd(a6, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char *a5[] = {CW_BIN, "replay", "--capture", cut, "--datadir", d3, NULL};
    cr_assert_eq(run_cmd(a5, NULL, 0, &out, &err), 2, "%s\n%s", out, err);
    cr_assert(strstr(err, cut) && strstr(err, "cut short"), "%s", err);
    free(out), free(err);
    json_t *before_cut = alerts_read(d3);
    cr_assert_eq(count(before_cut, t1, "mempool", NULL), 1, "the records before the cut are written");
    cr_assert_eq(count(before_cut, t2, "mempool", NULL), 1);
    json_decref(before_cut);
    json_decref(live);
    json_decref(again);
    test_remove_dir(strdup(d2));
    test_remove_dir(strdup(d3));
    rig_stop(&r);
}

/* A capture recorded with --confirmations 3 (blocks connect 3 deep at the
 * head, not at the solidified block, so the settings record says
 * confirmations 3, finalized false): a replay with no option takes them and
 * gives the live run's records (the payment seen in N0+1 at the head, then
 * confirmed when N0+3 counts it 3 deep; tip N0+1 with the head at N0+3:
 * replayed with the default, the solidified blocks, it would connect
 * nothing, and at the head everything). The recorded value given again is
 * accepted; a contradicting --confirmations, --finalized or --max-reorg is
 * refused naming the setting and both values, nothing replayed. */
Test(tron_watch, a_capture_recorded_with_confirmations_3_replays_with_them, .timeout = 120)
{
    rig r;
    rig_start(&r);
    char cap[300], rec[320];
    snprintf(cap, sizeof cap, "%s/tron.cwcap", r.dir);
    snprintf(rec, sizeof rec, "--record=%s", cap);
    block(&r, N0, 0xaa, 0xaa, 0, false, 0);
    /* start_watch takes one extra option: --confirmations from chainwatch.conf,
     * in its [tron] section (conf.h), which wins over the line outside the
     * sections; the [ethereum] one is not this watch's. The capture's
     * settings record and the log say 3. */
    char conf[300];
    snprintf(conf, sizeof conf, "%s/chainwatch.conf", r.dir);
    FILE *cf = fopen(conf, "w");
    cr_assert_not_null(cf);
    fprintf(cf, "[tron]\nconfirmations = 3\n[ethereum]\nconfirmations = 12\n[rules]\nconfirmations = 7\n");
    fclose(cf);
    pid_t w = start_watch(&r, rec);
    const char *t1 = jstr(r.pay[0], "txID");
    block(&r, N0, 0xaa, 0xaa, 0, true, N0 - 9);
    block(&r, N0 + 1, 0xaa, 0xaa, 1, true, N0 - 9);
    json_t *m = wait_record(&r, t1, "mempool");
    block(&r, N0 + 2, 0xaa, 0xaa, 0, true, N0 - 9);
    block(&r, N0 + 3, 0xaa, 0xaa, 0, true, N0 - 9);
    json_t *c = wait_record(&r, t1, "confirmed");
    cr_assert_str_eq(jstr(c, "id"), jstr(m, "id"));
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(c, "block"), "height")), N0 + 1);
    stop_watch(w);
    char log[220];
    snprintf(log, sizeof log, "%s/watch.log", r.dir);
    size_t ln;
    char *text = (char *)slurp(log, &ln);
    text[ln] = '\0';
    cr_assert(strstr(text, "blocks 3 deep (--confirmations)") && strstr(text, "stopped: tip 69316563, blocks +2 -0"), "%s",
              text);
    free(text);
    json_t *live = comparable(alerts_read(r.dir));
    cr_assert_eq(json_array_size(live), 2, "the mempool and the confirmed record");
    size_t cn;
    uint8_t *cb = slurp(cap, &cn);
    cr_assert_eq(memcmp(cb + 53, "{\"chain_id\":728126428,\"confirmations\":3,\"finalized\":false,", 58), 0, "%.80s",
                 cb + 53);
    free(cb);

    char d2[128] = "/tmp/cw-tron-replay-XXXXXX";
    fresh_datadir(d2, true);
    char *out, *err;
    /* contradicting options first (refused before anything is replayed) */
    static const struct {
        const char *opt, *val, *msg;
    } contra[] = {
        {"--confirmations", "5", "session 1: --confirmations differs from the recording's: recorded 3, given 5"},
        {"--confirmations", "1", "session 1: --confirmations differs from the recording's: recorded 3, given 1"},
        {"--finalized", NULL, "session 1: --finalized differs from the recording's: recorded --confirmations 3, given "
                              "--finalized"},
        {"--max-reorg", "10", "session 1: --max-reorg differs from the recording's: recorded 64 (the default), given 10"},
    };
    for (size_t i = 0; i < sizeof contra / sizeof *contra; i++) {
        cr_assert_eq(replay_capture(cap, d2, contra[i].opt, contra[i].val, &out, &err), 2, "%s %s\n%s\n%s",
                     contra[i].opt, contra[i].val ? contra[i].val : "", out, err);
        cr_assert(strstr(err, contra[i].msg), "%s: %s", contra[i].opt, err);
        free(out), free(err);
        json_t *none = alerts_read(d2);
        cr_assert_eq(json_array_size(none), 0, "a refused replay wrote records");
        json_decref(none);
    }
    /* no option: the recorded settings */
    cr_assert_eq(replay_capture(cap, d2, NULL, NULL, &out, &err), 0, "%s\n%s", out, err);
    cr_assert(strstr(out, "  sessions    1 watch run, with the recorded settings\n"), "%s", out);
    cr_assert(strstr(out, "  blocks      2 connected, 0 disconnected, tip 69316563\n"), "%s", out);
    free(out), free(err);
    json_t *again = comparable(alerts_read(d2));
    assert_same_records(live, again, "the replay with no option");
    json_decref(again);
    /* the recorded value given again is no contradiction (checked up to
     * the datadir: d2 is past the start now) */
    cr_assert_eq(replay_capture(cap, d2, "--confirmations", "3", &out, &err), 2, "%s", err);
    cr_assert(strstr(err, "not where the recording began") && !strstr(err, "differs"), "%s", err);
    free(out), free(err);
    json_decref(live);
    json_decref(m), json_decref(c);
    test_remove_dir(strdup(d2));
    rig_stop(&r);
}

/* watch --chain tron --webhook: the account chains' watch delivers its
 * outbox from its own process too: the payment to Cheil Credit Bank is a
 * `block` record, announced as alert.blocked, signed with the datadir's
 * key (checked with libsodium through webhook_verify). */
Test(tron_watch, webhook_delivered_from_watch_itself, .timeout = 120)
{
    rig r;
    rig_start(&r);
    receiver *hook = receiver_start(0, 1, 503); /* the first try fails: retried */
    char arg[120];
    snprintf(arg, sizeof arg, "--webhook=http://127.0.0.1:%u/hooks", hook->port);
    block(&r, N0, 0xaa, 0xaa, 0, false, 0);
    /* start_watch takes one extra option: the retry delay comes from chainwatch.conf */
    char conf[300];
    snprintf(conf, sizeof conf, "%s/chainwatch.conf", r.dir);
    FILE *f = fopen(conf, "w");
    cr_assert_not_null(f);
    fputs("webhook-retry-base-ms = 50\n", f);
    fclose(f);
    pid_t w = start_watch(&r, arg);
    const char *t1 = jstr(r.pay[0], "txID");
    block(&r, N0, 0xaa, 0xaa, 0, true, N0 - 1);
    block(&r, N0 + 1, 0xaa, 0xaa, 1, true, N0 - 1);
    json_decref(wait_record(&r, t1, "mempool"));
    size_t ok = 0;
    for (int i = 0; i < 300 && ok == 0; i++) {
        test_sleep_ms(50);
        pthread_mutex_lock(&hook->mu);
        size_t k;
        json_t *q;
        json_array_foreach(hook->got, k, q) ok += json_integer_value(json_object_get(q, "status")) == 200;
        pthread_mutex_unlock(&hook->mu);
    }
    stop_watch(w);
    uint8_t pk[32];
    cr_assert_eq(keys_load_public(r.dir, pk, NULL), CW_OK);
    pthread_mutex_lock(&hook->mu);
    cr_assert_geq(json_array_size(hook->got), 2, "a failed try, then the event");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(hook->got, 0), "status")), 503);
    json_t *q = json_array_get(hook->got, 1);
    cr_assert_eq(json_integer_value(json_object_get(q, "seq")), 1, "the same event again");
    cr_assert_str_eq(jstr(q, "type"), "alert.blocked");
    const char *body = jstr(q, "body");
    cr_assert(webhook_verify(pk, jstr(q, "sig"), body, strlen(body)), "signed with the datadir's key");
    json_t *ev = json_loads(body, 0, NULL);
    json_t *al = json_object_get(ev, "alert");
    cr_assert_str_eq(jstr(al, "txid"), t1);
    cr_assert_str_eq(jstr(al, "address"), CHEIL);
    cr_assert_str_eq(jstr(al, "amount"), "41677389");
    cr_assert_str_eq(jstr(json_object_get(al, "asset"), "symbol"), "USDT");
    json_decref(ev);
    pthread_mutex_unlock(&hook->mu);
    receiver_stop(hook);
    rig_stop(&r);
}

/* Lines of watch's log holding a, from the first line holding `from` on
 * (NULL: all of them); the last one in `last` when given. */
static int log_lines(rig *r, const char *a, const char *from, char *last, size_t cap)
{
    char path[200], line[2048];
    snprintf(path, sizeof path, "%s/watch.log", r->dir);
    FILE *f = fopen(path, "r");
    int n = 0;
    bool on = from == NULL;
    while (f && fgets(line, sizeof line, f))
        if ((on |= strstr(line, from ? from : "") != NULL) && strstr(line, a)) {
            n++;
            if (last)
                snprintf(last, cap, "%s", line);
        }
    if (f)
        fclose(f);
    return n;
}

static void wait_log(rig *r, const char *a, const char *from)
{
    for (int i = 0; i < 400 && log_lines(r, a, from, NULL, 0) == 0; i++)
        test_sleep_ms(50);
    cr_assert_gt(log_lines(r, a, from, NULL, 0), 0, "no '%s' in %s/watch.log", a, r->dir);
}

#define DOWN "warn: watch: following the node: /wallet/getblockbynum "

/* The node's HTTP API goes down (connections refused) while a block it
 * must give is due: every poll fails with the same error, logged once
 * (before, the text carried libcurl's elapsed time, so an outage could log
 * a line per poll: curl_why.h), and the recovery is logged with how many
 * polls repeated the error; the block then comes and its record too. */
Test(tron_watch, a_node_down_is_logged_once_and_its_recovery_too, .timeout = 120)
{
    rig r;
    rig_start(&r);
    block(&r, N0, 0xaa, 0xaa, 0, false, 0);
    pid_t w = start_watch(&r, NULL);
    const char *t2 = jstr(r.pay[1], "txID");
    block(&r, N0, 0xaa, 0xaa, 0, true, N0 - 1);
    block(&r, N0 + 1, 0xaa, 0xaa, 0, true, N0 - 1);
    test_sleep_ms(200);
    /* N0+2's triggers are lost while the node's HTTP API is down; N0+3
     * solidifies it: the engine needs it over HTTP at every poll */
    block(&r, N0 + 2, 0xaa, 0xaa, 2, false, 0);
    tron_server_refuse(r.http, true);
    block(&r, N0 + 3, 0xaa, 0xaa, 0, true, N0 + 2);
    wait_log(&r, DOWN, NULL);
    /* a poll with its 3 retries takes 1.4 s (backoff 200+400+800 ms): 2 or more */
    test_sleep_ms(3500);
    char first[2048];
    cr_assert_eq(log_lines(&r, DOWN, NULL, first, sizeof first), 1, "one line for one outage (see %s/watch.log)",
                 r.dir);
    cr_assert(strstr(first, tron_server_url(r.http)) && strstr(first, "(after 4 tries)") && !strstr(first, " ms:") &&
                  !strstr(first, "milliseconds"),
              "%s", first);
    cr_assert_leq(log_lines(&r, "refilling a gap over HTTP", NULL, NULL, 0), 1, "one gap, at most one line");
    cr_assert_eq(log_lines(&r, "the node answers again", DOWN, NULL, 0), 0);
    tron_server_refuse(r.http, false);
    wait_log(&r, "info: watch: following the node: the node answers again", DOWN);
    char back[2048];
    log_lines(&r, "the node answers again", DOWN, back, sizeof back);
    const char *rep = strstr(back, "repeated by ");
    cr_assert_not_null(rep, "%s", back);
    long more = strtol(rep + 12, NULL, 10);
    cr_assert_geq(more, 1, "the failed polls after the logged one are counted: %s", back);
    block(&r, N0 + 4, 0xaa, 0xaa, 0, true, N0 + 3);
    json_t *c2 = wait_record(&r, t2, "confirmed");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(c2, "block"), "height")), N0 + 2);
    stop_watch(w);
    cr_assert_eq(log_lines(&r, DOWN, NULL, NULL, 0), 1);
    cr_assert_eq(log_lines(&r, "the node answers again", DOWN, NULL, 0), 1);
    json_decref(c2);
    rig_stop(&r);
}
