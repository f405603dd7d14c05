/*
 * test_eth_follow.c: `watch --chain ethereum` and `replay --chain ethereum`
 * against a real node: anvil (tools/node_modules, installed by
 * scripts/setup) on 127.0.0.1 with a free port, mining only when told
 * (--no-mining), so a tx is pending until the test mines it.
 *
 * The watchlist is the real OFAC SDN subset (../shared/data/ofac): entity
 * 29702 (LIFSHITS, Artem Mikhaylovich) lists two EVM addresses, L1 and L2
 * below. Payments come from anvil's funded dev accounts; tokens from
 * MiniToken (tests/data/erc20: source, bytecode and how it was built).
 * Expected amounts are the values the test sends (wei, token units), and
 * ids are compared across statuses: one id per (tx, address).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor/sources/eth_follow.h"
#include "monitor/sources/rpc.h"
#include "chains/hex.h"
#include "monitor/cli/cli.h"
#include "tests/support.h"
#include "chains/addr.h"
#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include "watchlists/store/store.h"
#include "watchlists/watchlist.h"

#define L1 "0x901bb9583b24d97e995513c6778dc6888ab6870e"
#define L2 "0xa7e5d5a720f06526557c513402f2e6b5fa20b008"
/* anvil's default dev accounts (mnemonic "test test ... junk") */
#define ACCT0 "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define ACCT1 "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
#define ACCT2 "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc"

typedef struct {
    pid_t pid;
    char url[64];
    char *dir;
    rpc_client *c;
} node;

static void node_start(node *n)
{
    n->dir = strdup("/tmp/cw-anvil-XXXXXX");
    cr_assert_not_null(mkdtemp(n->dir));
    n->pid = test_anvil_start(CW_ANVIL, n->dir, NULL, n->url);
    rpc_options o = {.url = n->url, .retries = 2};
    cw_err err = {0};
    cr_assert_eq(rpc_open(&o, &n->c, &err), CW_OK, "%s", err.msg);
}

static void node_stop(node *n)
{
    rpc_close(n->c);
    kill(n->pid, SIGKILL);
    waitpid(n->pid, NULL, 0);
    test_remove_dir(n->dir);
}

static json_t *call(node *n, const char *method, json_t *params)
{
    json_t *r;
    cw_err err = {0};
    cr_assert_eq(rpc_call(n->c, method, params, &r, &err), CW_OK, "%s", err.msg);
    return r;
}

static void mine(node *n) { json_decref(call(n, "evm_mine", NULL)); }

/* eth_sendTransaction from an unlocked dev account; the tx hash (free it). */
static char *send_tx(node *n, const char *from, const char *to, const char *value, const char *data, const char *gas)
{
    json_t *tx = json_pack("{ss}", "from", from);
    if (to)
        json_object_set_new(tx, "to", json_string(to));
    if (value)
        json_object_set_new(tx, "value", json_string(value));
    if (data)
        json_object_set_new(tx, "data", json_string(data));
    if (gas)
        json_object_set_new(tx, "gas", json_string(gas));
    json_t *r = call(n, "eth_sendTransaction", json_pack("[o]", tx));
    char *h = strdup(json_string_value(r));
    json_decref(r);
    return h;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return buf;
}

/* Deploys MiniToken (supply 10^12 units to ACCT0) and mines it; its address. */
static char *deploy_token(node *n)
{
    char *bin = read_text(CW_TESTS_DIR "/data/erc20/MiniToken.bin");
    size_t len = strlen(bin) + 2 + 64 + 1;
    char *data = malloc(len);
    snprintf(data, len, "0x%s%064llx", bin, 1000000000000ULL);
    char *h = send_tx(n, ACCT0, NULL, NULL, data, "0x200000");
    mine(n);
    json_t *rc = call(n, "eth_getTransactionReceipt", json_pack("[s]", h));
    const char *addr = json_string_value(json_object_get(rc, "contractAddress"));
    cr_assert_not_null(addr, "the token was not deployed");
    char *out = strdup(addr);
    json_decref(rc);
    free(h), free(data), free(bin);
    return out;
}

/* transfer(to, amount) calldata. */
static void transfer_data(const char *to, unsigned long long amount, char out[2 + 8 + 64 + 64 + 1])
{
    snprintf(out, 2 + 8 + 64 + 64 + 1, "0xa9059cbb000000000000000000000000%s%064llx", to + 2, amount);
}

static char *new_datadir(void)
{
    char *dir = strdup("/tmp/cw-ethw-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char *out, *err;
    char *init[] = {CW_BIN, "init", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(init, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char *imp[] = {CW_BIN, "watchlist", "import", "sdn-csv", CW_DATA_DIR "/ofac/sdn_subset.csv", "--comments",
                   CW_DATA_DIR "/ofac/sdn_comments_subset.csv", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    return dir;
}

/* The line watch logs once its pending filter is made (at its first poll,
 * after "watching ..."): a tx sent before it is never seen pending. */
#define FILTER_MADE "info: watch: pending txs: following the node's pending pool from now on (filter 0x"

/* Whether `line` is in path past byte `from`. */
static bool logged_since(const char *path, long from, const char *line)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    bool seen = false;
    char buf[1024];
    if (fseek(f, from, SEEK_SET) == 0)
        while (!seen && fgets(buf, sizeof buf, f))
            seen = strstr(buf, line) != NULL;
    fclose(f);
    return seen;
}

static long size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* Starts watch on dir (its output appended to dir/watch.log) and waits
 * until this run (what it appends, not an earlier run's lines) has logged
 * "watching" and that its pending filter is made (FILTER_MADE), so a tx
 * the test sends then is seen pending; or until it exits (a test of a
 * watch that stops at once looks at why itself). */
static pid_t start_watch(const char *dir, const char *url, const char *extra1, const char *extra2)
{
    char log[600];
    snprintf(log, sizeof log, "%s/watch.log", dir);
    long from = size_of(log);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char log[600];
        snprintf(log, sizeof log, "%s/watch.log", dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        char *argv[16] = {CW_BIN, "watch", "--chain", "ethereum", "--rpc", (char *)url, "--datadir", (char *)dir,
                          "--poll-ms", "50", "--status-interval", "0"};
        int k = 12;
        if (extra1)
            argv[k++] = (char *)extra1;
        if (extra2)
            argv[k++] = (char *)extra2;
        argv[k] = NULL;
        execv(CW_BIN, argv);
        _exit(127);
    }
    /* up to 30 s: a cap, not a bound on how fast watch must start */
    for (int i = 0; i < 600; i++) {
        if (logged_since(log, from, "info: watch: watching ethereum") && logged_since(log, from, FILTER_MADE))
            return pid;
        siginfo_t si = {0};
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
            return pid; /* it stopped: left for the caller to reap */
        test_sleep_ms(50);
    }
    cr_assert_fail("watch did not start following the pending pool (see %s)", log);
    return pid;
}

static void stop_watch(pid_t pid)
{
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "watch exited %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static bool same_hex(const char *a, const char *b) { return a && b && strcasecmp(a, b) == 0; }

/* The first record of txid, address and status, or NULL. */
static json_t *find(json_t *all, const char *txid, const char *addr, const char *status)
{
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r)
    {
        if (same_hex(json_string_value(json_object_get(r, "txid")), txid) &&
            same_hex(json_string_value(json_object_get(r, "address")), addr) &&
            strcmp(json_string_value(json_object_get(r, "status")), status) == 0)
            return r;
    }
    return NULL;
}

/* Waits (10 s) for such a record; a new reference. */
static json_t *wait_record(const char *dir, const char *txid, const char *addr, const char *status)
{
    /* up to 60 s: 10 s was once too short under load (a cap, not a bound
     * on how fast watch must be; a record found ends the wait at once) */
    for (int i = 0; i < 2400; i++) {
        json_t *all = alerts_read(dir);
        json_t *r = find(all, txid, addr, status);
        if (r) {
            json_incref(r);
            json_decref(all);
            return r;
        }
        json_decref(all);
        test_sleep_ms(25);
    }
    cr_assert_fail("no %s record of %s for %s", status, txid, addr);
    return NULL;
}

static const char *s_of(json_t *r, const char *k) { return json_string_value(json_object_get(r, k)); }

Test(eth_follow, pending_then_confirmed_ether_tokens_and_a_revert, .timeout = 120)
{
    node n;
    node_start(&n);
    char *dir = new_datadir();
    char *token = deploy_token(&n); /* block 1, before the watch: its head */
    char *unknown = deploy_token(&n); /* block 2: a token no table names */
    /* --tokens names the first one (the built-in table has mainnet's USDT/USDC) */
    char csv[600], opt[620];
    snprintf(csv, sizeof csv, "%s/tokens.csv", dir);
    FILE *f = fopen(csv, "w");
    fprintf(f, "chain,token,contract_address,decimals,source\nETH,MINI,%s,6,test deployment\n", token);
    fclose(f);
    snprintf(opt, sizeof opt, "--tokens=%s", csv);
    pid_t w = start_watch(dir, n.url, opt, NULL);

    /* 1.5 ETH to L1: pending, then confirmed, one id */
    char *h1 = send_tx(&n, ACCT1, L1, "0x14d1120d7b160000", NULL, NULL);
    json_t *p1 = wait_record(dir, h1, L1, "mempool");
    cr_assert_str_eq(s_of(p1, "amount"), "1500000000000000000");
    cr_assert_str_eq(s_of(p1, "chain"), "ethereum");
    cr_assert_str_eq(s_of(p1, "network"), "chain-31337");
    cr_assert_str_eq(s_of(p1, "direction"), "to_designated");
    cr_assert_str_eq(s_of(p1, "transfer"), "value");
    cr_assert(same_hex(s_of(p1, "counterparty"), ACCT1));
    cr_assert_str_eq(s_of(json_object_get(p1, "asset"), "kind"), "native");
    cr_assert_str_eq(s_of(json_object_get(p1, "asset"), "symbol"), "ETH");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(p1, "asset"), "decimals")), 18);
    cr_assert_str_eq(s_of(json_object_get(p1, "entity"), "uid"), "29702");
    cr_assert(json_is_null(json_object_get(p1, "block")));
    mine(&n);
    json_t *c1 = wait_record(dir, h1, L1, "confirmed");
    cr_assert_str_eq(s_of(c1, "id"), s_of(p1, "id"));
    cr_assert_str_eq(s_of(c1, "amount"), "1500000000000000000");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(c1, "block"), "height")), 3);
    json_t *b2 = call(&n, "eth_getBlockByNumber", json_pack("[sb]", "0x3", 0));
    cr_assert_str_eq(s_of(json_object_get(c1, "block"), "hash"), s_of(b2, "hash"));
    json_decref(b2);

    /* 2.5 MINI (6 decimals) to L2: the pending call, then the mined Transfer log */
    char data[2 + 8 + 64 + 64 + 1];
    transfer_data(L2, 2500000, data);
    char *h2 = send_tx(&n, ACCT0, token, NULL, data, "0x30000");
    json_t *p2 = wait_record(dir, h2, L2, "mempool");
    cr_assert_str_eq(s_of(p2, "transfer"), "token_call");
    cr_assert_str_eq(s_of(p2, "amount"), "2500000");
    json_t *as = json_object_get(p2, "asset");
    cr_assert_str_eq(s_of(as, "kind"), "token");
    cr_assert(same_hex(s_of(as, "contract"), token), "%s %s", s_of(as, "contract"), token);
    cr_assert_str_eq(s_of(as, "symbol"), "MINI");
    cr_assert_eq(json_integer_value(json_object_get(as, "decimals")), 6);
    mine(&n);
    json_t *c2 = wait_record(dir, h2, L2, "confirmed");
    cr_assert_str_eq(s_of(c2, "id"), s_of(p2, "id"));
    cr_assert_str_eq(s_of(c2, "transfer"), "token_log");
    cr_assert_str_eq(s_of(c2, "amount"), "2500000");
    cr_assert(same_hex(s_of(c2, "counterparty"), ACCT0));
    cr_assert_eq(json_is_false(json_object_get(c2, "failed")), true);

    /* an unknown token to L1: recorded with its contract, symbol null */
    transfer_data(L1, 99, data);
    char *h5 = send_tx(&n, ACCT0, unknown, NULL, data, "0x30000");
    json_decref(wait_record(dir, h5, L1, "mempool"));
    mine(&n);
    json_t *c5 = wait_record(dir, h5, L1, "confirmed");
    as = json_object_get(c5, "asset");
    cr_assert(same_hex(s_of(as, "contract"), unknown));
    cr_assert(json_is_null(json_object_get(as, "symbol")) && json_is_null(json_object_get(as, "decimals")));
    cr_assert_str_eq(s_of(c5, "amount"), "99");
    json_decref(c5);

    /* a transfer ACCT2 cannot pay (it holds no MINI) reverts: asked (pending
     * record), but it moved nothing: no confirmed record for L2 */
    transfer_data(L2, 7, data);
    char *h3 = send_tx(&n, ACCT2, token, NULL, data, "0x30000");
    json_t *p3 = wait_record(dir, h3, L2, "mempool");
    cr_assert_str_eq(s_of(p3, "amount"), "7");
    mine(&n);
    json_t *r3 = call(&n, "eth_getTransactionReceipt", json_pack("[s]", h3));
    cr_assert_str_eq(s_of(r3, "status"), "0x0", "the revert happened on chain");
    json_decref(r3);
    /* a later payment confirms after the reverted block was connected */
    char *h4 = send_tx(&n, ACCT1, L1, "0x1", NULL, NULL);
    json_decref(wait_record(dir, h4, L1, "mempool"));
    mine(&n);
    json_decref(wait_record(dir, h4, L1, "confirmed"));
    json_t *all = alerts_read(dir);
    cr_assert_null(find(all, h3, L2, "confirmed"), "a reverted token transfer is no confirmed payment");
    cr_assert_eq(json_array_size(all), 9, "mempool+confirmed for h1, h2, h5 and h4, the revert's mempool: %zu",
                 json_array_size(all));
    json_decref(all);
    stop_watch(w);
    /* the trail and every signature */
    char path[600], *out, *err;
    snprintf(path, sizeof path, "%s/alerts.jsonl", dir);
    char *ver[] = {CW_BIN, "verify", path, "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(ver, NULL, 0, &out, &err), 0, "%s%s", out, err);
    free(out), free(err);
    json_decref(p1), json_decref(c1), json_decref(p2), json_decref(c2), json_decref(p3);
    free(h1), free(h2), free(h3), free(h4), free(h5), free(token), free(unknown);
    test_remove_dir(dir);
    node_stop(&n);
}

Test(eth_follow, reorg_gives_reorged_then_confirmed_again_with_one_id, .timeout = 120)
{
    node n;
    node_start(&n);
    mine(&n);
    char *dir = new_datadir();
    pid_t w = start_watch(dir, n.url, NULL, NULL);
    char *h = send_tx(&n, ACCT1, L1, "0x2a", NULL, NULL);
    json_t *raw = call(&n, "eth_getRawTransactionByHash", json_pack("[s]", h));
    json_decref(wait_record(dir, h, L1, "mempool"));
    mine(&n);
    json_t *c = wait_record(dir, h, L1, "confirmed");
    /* the block is replaced by one without the tx */
    json_decref(call(&n, "anvil_reorg", json_pack("[i[]]", 1)));
    json_t *r = wait_record(dir, h, L1, "reorged");
    cr_assert_str_eq(s_of(r, "id"), s_of(c, "id"));
    cr_assert_str_eq(s_of(json_object_get(r, "block"), "hash"), s_of(json_object_get(c, "block"), "hash"));
    /* the same signed tx is mined again, in another block */
    json_decref(call(&n, "eth_sendRawTransaction", json_pack("[O]", raw)));
    mine(&n);
    for (int i = 0; i < 2400; i++) { /* a cap of 60 s */
        json_t *all = alerts_read(dir);
        size_t k = json_array_size(all);
        json_decref(all);
        if (k >= 4)
            break;
        test_sleep_ms(25);
    }
    stop_watch(w);
    json_t *all = alerts_read(dir);
    cr_assert_eq(json_array_size(all), 4, "mempool, confirmed, reorged, confirmed: %zu", json_array_size(all));
    static const char *const want[] = {"mempool", "confirmed", "reorged", "confirmed"};
    for (size_t i = 0; i < 4; i++) {
        json_t *x = json_array_get(all, i);
        cr_assert_str_eq(s_of(x, "status"), want[i]);
        cr_assert_str_eq(s_of(x, "id"), s_of(c, "id"));
        cr_assert_eq(json_integer_value(json_object_get(x, "seq")), (json_int_t)i + 1);
    }
    const char *again = s_of(json_object_get(json_array_get(all, 3), "block"), "hash");
    cr_assert_str_neq(again, s_of(json_object_get(c, "block"), "hash"), "confirmed again in another block");
    json_decref(all), json_decref(c), json_decref(r), json_decref(raw);
    free(h);
    test_remove_dir(dir);
    node_stop(&n);
}

/* Records without what differs between two runs (seen_at, sig, seq, prev). */
static json_t *comparable(json_t *all)
{
    json_t *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r)
    {
        json_t *c = json_deep_copy(r);
        json_object_del(c, "seen_at");
        json_object_del(c, "sig");
        json_object_del(c, "seq");
        json_object_del(c, "prev");
        json_array_append_new(out, c);
    }
    return out;
}

/* more than a catch-up batch (32 blocks a write transaction): the kill
 * lands inside the second batch, which must leave nothing behind */
#define KILL_BLOCKS 70

Test(eth_follow, kill9_mid_stream_loses_and_repeats_nothing_and_replay_equals_live, .timeout = 180)
{
    node n;
    node_start(&n);
    char *hs[KILL_BLOCKS];
    for (int i = 0; i < KILL_BLOCKS; i++) { /* blocks 1..70, one payment each */
        char v[24];
        snprintf(v, sizeof v, "0x%x", 1000 + i);
        hs[i] = send_tx(&n, ACCT1, i % 2 ? L2 : L1, v, NULL, NULL);
        mine(&n);
    }
    char *dir = new_datadir();
    /* slowed down (--rpc-rate) so the kill lands mid-stream */
    pid_t w = start_watch(dir, n.url, "--start-height=1", "--rpc-rate=40");
    size_t seen = 0;
    for (int i = 0; i < 400 && seen < 4; i++) {
        json_t *all = alerts_read(dir);
        seen = json_array_size(all);
        json_decref(all);
        test_sleep_ms(10);
    }
    kill(w, SIGKILL);
    waitpid(w, NULL, 0);
    json_t *mid = alerts_read(dir);
    cr_assert(json_array_size(mid) >= 4 && json_array_size(mid) < KILL_BLOCKS, "killed mid-stream: %zu records",
              json_array_size(mid));
    json_decref(mid);
    w = start_watch(dir, n.url, NULL, NULL);
    for (int i = 0; i < 600; i++) {
        json_t *all = alerts_read(dir);
        seen = json_array_size(all);
        json_decref(all);
        if (seen >= KILL_BLOCKS)
            break;
        test_sleep_ms(25);
    }
    test_sleep_ms(300); /* a repeat would show up now */
    stop_watch(w);
    json_t *all = alerts_read(dir);
    cr_assert_eq(json_array_size(all), KILL_BLOCKS, "one record per payment, none lost or repeated: %zu",
                 json_array_size(all));
    for (int i = 0; i < KILL_BLOCKS; i++) {
        json_t *r = json_array_get(all, (size_t)i);
        cr_assert_eq(json_integer_value(json_object_get(r, "seq")), i + 1, "the trail has no hole and no repeat");
        cr_assert(same_hex(s_of(r, "txid"), hs[i]), "record %d is block %d's payment", i, i + 1);
        cr_assert_str_eq(s_of(r, "status"), "confirmed");
        char v[24];
        snprintf(v, sizeof v, "%d", 1000 + i);
        cr_assert_str_eq(s_of(r, "amount"), v);
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "block"), "height")), i + 1);
    }
    char path[600], *out, *err;
    snprintf(path, sizeof path, "%s/alerts.jsonl", dir);
    char *ver[] = {CW_BIN, "verify", path, "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(ver, NULL, 0, &out, &err), 0, "%s%s", out, err);
    free(out), free(err);

    /* replay of the same range into a new datadir: the same records */
    char *dir2 = new_datadir();
    char to[16];
    snprintf(to, sizeof to, "%d", KILL_BLOCKS);
    char *rep[] = {CW_BIN, "replay", "--chain", "ethereum", "--rpc", n.url, "--from", "1", "--to", to,
                   "--datadir", dir2, "--batch-blocks", "7", NULL};
    cr_assert_eq(run_cmd(rep, NULL, 0, &out, &err), 0, "%s%s", out, err);
    cr_assert(strstr(out, "70 connected") != NULL, "%s", out);
    free(out), free(err);
    json_t *replayed = alerts_read(dir2);
    json_t *a = comparable(all), *b = comparable(replayed);
    cr_assert(json_equal(a, b), "replay differs from the live records:\n%s\n%s", json_dumps(a, JSON_COMPACT),
              json_dumps(b, JSON_COMPACT));
    json_decref(a), json_decref(b), json_decref(all), json_decref(replayed);
    for (int i = 0; i < KILL_BLOCKS; i++)
        free(hs[i]);
    test_remove_dir(dir);
    test_remove_dir(dir2);
    node_stop(&n);
}

/* ---------- an honest reorg deeper than a catch-up batch ---------- */

#define DEEP_TIP 45   /* blocks 1..45 on the first branch */
#define DEEP 40       /* 6..45 replaced: more than a catch-up batch (32) */
#define ONE_ETH 1000000000000000000ull /* a salary-sized payment (docs/rules.md: 0.75-6 ETH) */

/* The state a chain leaves that does not depend on how it was followed:
 * the connected chain, exposure and the pattern rules' tables (rules_only:
 * those alone). */
static void dump_state(const char *dir, bool rules_only, cw_buf *out)
{
    cw_store *s;
    cw_err err = {0};
    cr_assert_eq(store_open(dir, 0, true, &s, &err), CW_OK, "%s", err.msg);
    const store_db dbs[] = {STORE_RULE_ADDR, STORE_RULE_TRACE, STORE_RULE_ORIGIN, STORE_RULE_PAIR, STORE_CHAIN,
                            STORE_ACCT_EXPOSURE};
    test_dump_tables(s, dbs, rules_only ? 4 : sizeof dbs / sizeof dbs[0], out);
    store_close(s);
}

static void pay_wei(node *n, const char *from, const char *to, unsigned long long wei)
{
    char v[24];
    snprintf(v, sizeof v, "0x%llx", wei);
    free(send_tx(n, from, to, v, NULL, NULL));
}

/* watch follows 45 blocks (a salary-sized payment to L1 and one to a
 * plain address in each), then the node switches to a branch that
 * replaces blocks 6..45 (40 blocks, other payments: L2 is paid) and grows
 * it to 47. The result must be what a fresh replay of the winning chain
 * gives: the same records (those of the lost blocks reorged, the rest
 * equal but for the run fields) and the same chain, exposure and rules
 * tables byte for byte. */
Test(eth_follow, a_reorg_deeper_than_a_batch_equals_a_fresh_replay_of_the_winner, .timeout = 120)
{
    node n;
    node_start(&n);
    for (int i = 1; i <= DEEP_TIP; i++) {
        char plain[43];
        snprintf(plain, sizeof plain, "0x%040x", 0xa000 + i);
        pay_wei(&n, ACCT1, L1, ONE_ETH + (unsigned long long)i);
        pay_wei(&n, ACCT0, plain, 2 * ONE_ETH + (unsigned long long)i);
        mine(&n);
    }
    char *live = new_datadir();
    pid_t w = start_watch(live, n.url, "--start-height=1", NULL);
    size_t seen = 0;
    for (int i = 0; i < 600 && seen < DEEP_TIP; i++) {
        json_t *all = alerts_read(live);
        seen = json_array_size(all);
        json_decref(all);
        test_sleep_ms(25);
    }
    cr_assert_eq(seen, DEEP_TIP, "one record per payment to L1 before the reorg");
    /* the winning branch: 40 new blocks from 6 on, with other payments
     * (anvil_reorg: [tx, index of the new block]), then two more */
    json_t *txs = json_array();
    for (int k = 0; k < DEEP; k += 3) {
        char v[24], plain[43];
        snprintf(v, sizeof v, "0x%llx", 3 * ONE_ETH + (unsigned long long)k);
        snprintf(plain, sizeof plain, "0x%040x", 0xb000 + k);
        json_array_append_new(txs, json_pack("[{ssssss}i]", "from", ACCT2, "to", k % 2 ? L2 : plain, "value", v, k));
    }
    json_decref(call(&n, "anvil_reorg", json_pack("[io]", DEEP, txs)));
    mine(&n);
    mine(&n);
    json_t *head = call(&n, "eth_blockNumber", NULL);
    cr_assert_str_eq(json_string_value(head), "0x2f", "the winner is 47 blocks long");
    json_decref(head);
    /* watch undoes 40 blocks and connects 42: wait for the last block's
     * payment to L2 (block 6 + 39, odd k) */
    const size_t want = DEEP_TIP + DEEP + 7; /* 45 confirmed, 40 reorged, L2 paid at k = 3, 9, ..., 39 */
    for (int i = 0; i < 800 && seen < want; i++) {
        json_t *all = alerts_read(live);
        seen = json_array_size(all);
        json_decref(all);
        test_sleep_ms(25);
    }
    test_sleep_ms(300); /* a repeat would show up now */
    stop_watch(w);
    char log[600];
    snprintf(log, sizeof log, "%s/watch.log", live);
    char *text = read_text(log);
    cr_assert(strstr(text, "stopped: tip 47, blocks +87 -40,"), "45 connected, 40 undone, 42 connected:\n%s", text);
    free(text);
    json_t *all = alerts_read(live);
    cr_assert_eq(json_array_size(all), want, "%zu records", json_array_size(all));
    /* the records of the blocks that stayed and of the winner's, in order */
    json_t *kept = json_array();
    size_t i, reorged = 0;
    json_t *r;
    json_array_foreach(all, i, r)
    {
        bool lost = false;
        size_t j;
        json_t *q;
        json_array_foreach(all, j, q) lost |= strcmp(s_of(q, "status"), "reorged") == 0 &&
                                             strcmp(s_of(q, "id"), s_of(r, "id")) == 0;
        reorged += strcmp(s_of(r, "status"), "reorged") == 0;
        if (!lost)
            json_array_append(kept, r);
    }
    cr_assert_eq(reorged, DEEP, "each record of blocks 6..45 reorged once");
    cr_assert_eq(json_array_size(kept), 5 + 7);

    char *fresh = new_datadir(), *out, *err;
    char *rep[] = {CW_BIN, "replay", "--chain", "ethereum", "--rpc", n.url, "--from", "1", "--to", "47",
                   "--datadir", fresh, NULL};
    cr_assert_eq(run_cmd(rep, NULL, 0, &out, &err), 0, "%s%s", out, err);
    cr_assert(strstr(out, "47 connected") != NULL, "%s", out);
    free(out), free(err);
    json_t *replayed = alerts_read(fresh);
    json_t *a = comparable(kept), *b = comparable(replayed);
    char *ta = json_dumps(a, JSON_COMPACT), *tb = json_dumps(b, JSON_COMPACT);
    cr_assert(json_equal(a, b), "the live records differ from a fresh replay's:\n%s\n%s", ta, tb);
    free(ta), free(tb);
    cw_buf sa = CW_BUF_INIT, sb = CW_BUF_INIT;
    dump_state(live, true, &sa);
    cr_assert_gt(sa.n, 0, "the salary-sized payments are in the rules' stats");
    dump_state(live, false, &sa);
    dump_state(fresh, false, &sb);
    cr_assert_gt(sa.n, 47 * 40, "the chain and the rules' stats are in the dump (%zu bytes)", sa.n);
    cr_assert_eq(sa.n, sb.n, "the tables: %zu bytes live, %zu replayed", sa.n, sb.n);
    cr_assert_eq(memcmp(sa.p, sb.p, sa.n), 0, "the tables differ from a fresh replay's");
    cw_buf_free(&sa), cw_buf_free(&sb);
    json_decref(a), json_decref(b), json_decref(all), json_decref(kept), json_decref(replayed);
    test_remove_dir(live);
    test_remove_dir(fresh);
    node_stop(&n);
}

/* ---------- a node whose block flips between two branches ---------- */

/* Records of txid with status (any address). */
static size_t n_records(const char *dir, const char *txid, const char *status)
{
    json_t *all = alerts_read(dir);
    size_t i, n = 0;
    json_t *r;
    json_array_foreach(all, i, r) n += same_hex(s_of(r, "txid"), txid) && strcmp(s_of(r, "status"), status) == 0;
    json_decref(all);
    return n;
}

static void wait_records(const char *dir, const char *txid, const char *status, size_t want)
{
    for (int i = 0; i < 400 && n_records(dir, txid, status) < want; i++)
        test_sleep_ms(25);
    cr_assert_eq(n_records(dir, txid, status), want, "%s records of %s (see %s/watch.log)", status, txid, dir);
}

/* Block 2 as A (paying L1) or B (paying L2): back to the snapshot of block
 * 1, the same signed tx, the same base fee and timestamp, so that each
 * branch's block 2 has the same hash every time it comes back. The next
 * snapshot's id in *snap. */
static void block2_as(node *n, char **snap, const char *raw)
{
    if (*snap) {
        json_t *ok = call(n, "evm_revert", json_pack("[s]", *snap));
        cr_assert(json_is_true(ok));
        json_decref(ok);
        free(*snap);
    }
    json_t *id = call(n, "evm_snapshot", NULL);
    *snap = strdup(json_string_value(id));
    json_decref(id);
    json_decref(call(n, "eth_sendRawTransaction", json_pack("[s]", raw)));
    json_decref(call(n, "anvil_setNextBlockBaseFeePerGas", json_pack("[s]", "0x3b9aca00")));
    json_decref(call(n, "evm_mine", json_pack("[i]", 1900000000)));
}

/* The engine's flip-flop stop (test_account.c) against a real node: block
 * 2 alternates between A and B. Each switch is a reorg watch follows
 * (records reorged, then confirmed on the other branch), until A would be
 * reorged away a 4th time: watch stops by itself, exit 1, naming block 2
 * and A's hash, with its tip still A. */
Test(eth_follow, a_node_whose_block_flips_between_two_branches_stops_watch, .timeout = 90)
{
    node n;
    node_start(&n);
    mine(&n);
    char *raw[2], *tx[2];
    const char *to[2] = {L1, L2};
    for (int k = 0; k < 2; k++) { /* the two txs, signed once (ACCT1's nonce 0 both) */
        json_t *t = json_pack("{ssssssss}", "from", ACCT1, "to", to[k], "value", "0x2a", "gasPrice", "0x3b9aca00");
        json_t *h = call(&n, "eth_signTransaction", json_pack("[o]", t));
        raw[k] = strdup(json_string_value(h));
        json_decref(h);
    }
    char *snap = NULL;
    block2_as(&n, &snap, raw[0]);
    json_t *a = call(&n, "eth_getBlockByNumber", json_pack("[sb]", "0x2", 0));
    tx[0] = strdup(json_string_value(json_array_get(json_object_get(a, "transactions"), 0)));
    char *dir = new_datadir();
    pid_t w = start_watch(dir, n.url, "--start-height=1", NULL);
    wait_records(dir, tx[0], "confirmed", 1);
    for (int k = 1; k <= 6; k++) {
        int now = k % 2, was = 1 - now; /* B at odd switches */
        block2_as(&n, &snap, raw[now]);
        if (k == 1) {
            json_t *b = call(&n, "eth_getBlockByNumber", json_pack("[sb]", "0x2", 0));
            tx[1] = strdup(json_string_value(json_array_get(json_object_get(b, "transactions"), 0)));
            cr_assert(!same_hex(s_of(a, "hash"), s_of(b, "hash")));
            json_decref(b);
        }
        wait_records(dir, tx[was], "reorged", (size_t)(k + 1) / 2);
        wait_records(dir, tx[now], "confirmed", (size_t)k / 2 + 1);
    }
    json_t *again = call(&n, "eth_getBlockByNumber", json_pack("[sb]", "0x2", 0));
    cr_assert_str_eq(s_of(again, "hash"), s_of(a, "hash"), "A came back with its hash");
    json_decref(again);
    /* the 7th switch would reorg A away a 4th time */
    block2_as(&n, &snap, raw[1]);
    int st = -1;
    for (int i = 0; i < 400 && waitpid(w, &st, WNOHANG) == 0; i++)
        test_sleep_ms(25);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "watch stopped by itself with exit 1 (%d)",
              WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    char log[600], want[200];
    snprintf(log, sizeof log, "%s/watch.log", dir);
    char *text = read_text(log);
    snprintf(want, sizeof want, "flips back and forth: block 2 (%s) would be reorged away a 4. time",
             s_of(a, "hash"));
    cr_assert(strstr(text, want), "want '%s' in:\n%s", want, text);
    cr_assert(strstr(text, "not followed; our tip stays block 2\n"), "the message whole (before, cut at 256 bytes "
              "before the tip): %s", text);
    free(text);
    cr_assert_eq(n_records(dir, tx[0], "reorged"), 3, "A's 4th reorg is not committed");
    cr_assert_eq(n_records(dir, tx[1], "confirmed"), 3);
    json_decref(a);
    for (int k = 0; k < 2; k++)
        free(raw[k]), free(tx[k]);
    free(snap);
    test_remove_dir(dir);
    node_stop(&n);
}

/* ---------- the node's JSON, checked (tests/data/eth_follow/block2.json) ---------- */

static json_t *block2(void)
{
    json_error_t je;
    json_t *d = json_load_file(CW_TESTS_DIR "/data/eth_follow/block2.json", 0, &je);
    cr_assert_not_null(d, "%s", je.text);
    return d;
}

static void addr_is(const cw_addr *a, const char *hex)
{
    char t[64];
    cr_assert_eq(a->kind, CW_ADDR_EVM);
    cw_hex_encode(a->payload, 20, t);
    cr_assert(strcasecmp(t, hex + 2) == 0, "%s != %s", t, hex);
}

static void amount_is(const cw_u256 *v, const char *dec)
{
    char s[CW_U256_DEC_MAX];
    cw_u256_to_dec(v, s);
    cr_assert_str_eq(s, dec);
}

Test(eth_follow, a_real_block_and_its_receipts_become_the_model)
{
    json_t *d = block2();
    account_block *b;
    cw_err err = {0};
    cr_assert_eq(eth_block_from_json(json_object_get(d, "block"), json_object_get(d, "receipts"), 2, &b, &err), CW_OK,
                 "%s", err.msg);
    cr_assert_eq(b->number, 2);
    cr_assert_eq(b->n_txs, 5);
    char h[65];
    cw_hex_encode(b->hash, 32, h);
    cr_assert(same_hex(h, s_of(json_object_get(d, "block"), "hash") + 2));
    cw_hex_encode(b->parent, 32, h);
    cr_assert(same_hex(h, s_of(json_object_get(d, "block"), "parentHash") + 2));
    /* 1.5 ETH to L1 */
    cr_assert_eq(b->txs[0].n_xfer, 1);
    cr_assert_eq(b->txs[0].xfer[0].kind, CW_XFER_VALUE);
    addr_is(&b->txs[0].xfer[0].from, ACCT1);
    addr_is(&b->txs[0].xfer[0].to, L1);
    amount_is(&b->txs[0].xfer[0].amount, "1500000000000000000");
    cw_hex_encode(b->txs[0].txid, 32, h);
    cr_assert_str_eq(h, "84dd9c466d401a406c56c3f0d05283d00abb37f53229032c526dc99455b5a350");
    /* the token call: its zero value to the contract, then the mined Transfer log (not the calldata) */
    cr_assert_eq(b->txs[1].n_xfer, 2);
    amount_is(&b->txs[1].xfer[0].amount, "0");
    cr_assert_eq(b->txs[1].xfer[1].kind, CW_XFER_TOKEN_LOG);
    cr_assert_eq(b->txs[1].xfer[1].asset.kind, CW_ASSET_TOKEN);
    addr_is(&b->txs[1].xfer[1].asset.contract, s_of(d, "token"));
    addr_is(&b->txs[1].xfer[1].from, ACCT0);
    addr_is(&b->txs[1].xfer[1].to, L2);
    amount_is(&b->txs[1].xfer[1].amount, "2500000");
    /* the reverted transfer: failed, its value only, no token move */
    cr_assert(b->txs[2].flags & CW_TX_FAILED);
    cr_assert_eq(b->txs[2].n_xfer, 1);
    addr_is(&b->txs[2].xfer[0].from, ACCT2);
    /* legacy EIP-155 and an access-list tx rebuild to their hashes too */
    addr_is(&b->txs[3].xfer[0].to, L2);
    amount_is(&b->txs[3].xfer[0].amount, "7");
    cr_assert_eq(b->txs[3].flags & CW_TX_FAILED, 0);
    amount_is(&b->txs[4].xfer[0].amount, "1");
    eth_block_free(b);
    json_decref(d);
}

/* Edits block2 with fn, expects a refusal whose message holds each of want. */
static void refused(void (*fn)(json_t *blk, json_t *rc), cw_code code, const char *want1, const char *want2)
{
    json_t *d = block2();
    fn(json_object_get(d, "block"), json_object_get(d, "receipts"));
    account_block *b = NULL;
    cw_err err = {0};
    cw_code rc = eth_block_from_json(json_object_get(d, "block"), json_object_get(d, "receipts"), 2, &b, &err);
    cr_assert_eq(rc, code, "got %d: %s", rc, err.msg);
    cr_assert_null(b);
    cr_assert(strstr(err.msg, want1) != NULL, "'%s' not in: %s", want1, err.msg);
    cr_assert(want2 == NULL || strstr(err.msg, want2) != NULL, "'%s' not in: %s", want2, err.msg);
    json_decref(d);
}

static json_t *tx_at(json_t *blk, size_t i) { return json_array_get(json_object_get(blk, "transactions"), i); }

static void lie_value(json_t *blk, json_t *rc) { (void)rc; json_object_set_new(tx_at(blk, 0), "value", json_string("0x14d1120d7b160001")); }
static void lie_from(json_t *blk, json_t *rc) { (void)rc; json_object_set_new(tx_at(blk, 1), "from", json_string(ACCT2)); }
static void lie_to(json_t *blk, json_t *rc) { (void)rc; json_object_set_new(tx_at(blk, 3), "to", json_string(L1)); }
static void lie_storage_key(json_t *blk, json_t *rc)
{
    (void)rc;
    json_t *al = json_object_get(tx_at(blk, 4), "accessList");
    json_array_set_new(json_object_get(json_array_get(al, 0), "storageKeys"), 0,
                       json_string("0x0000000000000000000000000000000000000000000000000000000000000002"));
}
static void drop_receipt(json_t *blk, json_t *rc) { (void)blk; json_array_remove(rc, 4); }
static void swap_receipts(json_t *blk, json_t *rc)
{
    (void)blk;
    json_t *a = json_incref(json_array_get(rc, 0));
    json_array_set(rc, 0, json_array_get(rc, 1));
    json_array_set_new(rc, 1, a);
}
static void failed_with_log(json_t *blk, json_t *rc)
{
    (void)blk;
    json_t *logs = json_object_get(json_array_get(rc, 1), "logs");
    json_array_append(json_object_get(json_array_get(rc, 2), "logs"), json_array_get(logs, 0));
}
static void bad_status(json_t *blk, json_t *rc) { (void)blk; json_object_set_new(json_array_get(rc, 0), "status", json_string("0x2")); }
static void bad_hash_hex(json_t *blk, json_t *rc) { (void)rc; json_object_set_new(blk, "hash", json_string("0x12zz")); }
static void no_v(json_t *blk, json_t *rc) { (void)rc; json_object_del(tx_at(blk, 0), "v"); }
static void deposit_type(json_t *blk, json_t *rc) { (void)rc; json_object_set_new(tx_at(blk, 0), "type", json_string("0x7e")); }
static void other_block_receipt(json_t *blk, json_t *rc)
{
    (void)blk;
    json_object_set_new(json_array_get(rc, 0), "blockHash",
                        json_string("0x1111111111111111111111111111111111111111111111111111111111111111"));
}
static void tx_hashes_only(json_t *blk, json_t *rc)
{
    (void)rc;
    json_array_set_new(json_object_get(blk, "transactions"), 0, json_string("0x84dd"));
}
static void leading_zero_qty(json_t *blk, json_t *rc) { (void)rc; json_object_set_new(tx_at(blk, 0), "nonce", json_string("0x00")); }

Test(eth_follow, a_node_reply_that_does_not_add_up_is_refused_naming_what_and_where)
{
    refused(lie_value, CW_EFORMAT, "tx 0x84dd9c466d401a406c56c3f0d05283d00abb37f53229032c526dc99455b5a350",
            "a field is wrong");
    refused(lie_from, CW_EFORMAT, "the signature recovers 0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", "tx 0xc74f");
    refused(lie_to, CW_EFORMAT, "tx 0x5934", "hashes to");
    refused(lie_storage_key, CW_EFORMAT, "tx 0x88f8", "hashes to");
    refused(drop_receipt, CW_EFORMAT, "block 2: 4 receipts for 5 txs", NULL);
    refused(swap_receipts, CW_EFORMAT, "block 2: receipt 0 is another tx's", NULL);
    refused(failed_with_log, CW_EFORMAT, "a reverted tx has no logs", "receipt of tx 0xca6d");
    refused(bad_status, CW_EFORMAT, "field status", "neither 0x0 nor 0x1");
    refused(bad_hash_hex, CW_EFORMAT, "block 2: field hash", NULL);
    refused(no_v, CW_EFORMAT, "field v: missing", NULL);
    refused(deposit_type, CW_EFORMAT, "type 126 is not one chainwatch knows", NULL);
    refused(other_block_receipt, CW_EIO, "receipt 0 is from another block", "try again");
    refused(tx_hashes_only, CW_EFORMAT, "tx 0 is not an object", NULL);
    refused(leading_zero_qty, CW_EFORMAT, "field nonce", NULL);
    /* the block the node was asked for, not another */
    json_t *d = block2();
    account_block *b = NULL;
    cw_err err = {0};
    cr_assert_eq(eth_block_from_json(json_object_get(d, "block"), json_object_get(d, "receipts"), 3, &b, &err),
                 CW_EFORMAT);
    cr_assert(strstr(err.msg, "block 3: the node answered with block 2") != NULL, "%s", err.msg);
    json_decref(d);
}

Test(eth_follow, a_transfer_event_of_another_shape_is_skipped_not_a_stop)
{
    /* anyone can emit a Transfer topic with 2 topics: no standard token
     * event, and no reason to stop following the chain */
    json_t *d = block2();
    json_t *logs = json_object_get(json_array_get(json_object_get(d, "receipts"), 0), "logs");
    json_t *odd = json_deep_copy(json_array_get(json_object_get(json_array_get(json_object_get(d, "receipts"), 1), "logs"), 0));
    json_array_remove(json_object_get(odd, "topics"), 2);
    json_array_append_new(logs, odd);
    account_block *b;
    cw_err err = {0};
    cr_assert_eq(eth_block_from_json(json_object_get(d, "block"), json_object_get(d, "receipts"), 2, &b, &err), CW_OK,
                 "%s", err.msg);
    cr_assert_eq(b->txs[0].n_xfer, 1, "only its value");
    cr_assert_eq(b->txs[1].n_xfer, 2, "the standard log still counts");
    eth_block_free(b);
    json_decref(d);
}

Test(eth_follow, network_names_from_the_chain_id)
{
    char n[32];
    eth_network_name(1, n);
    cr_assert_str_eq(n, "mainnet");
    eth_network_name(11155111, n);
    cr_assert_str_eq(n, "sepolia");
    eth_network_name(17000, n);
    cr_assert_str_eq(n, "holesky");
    eth_network_name(31337, n);
    cr_assert_str_eq(n, "chain-31337");
}

/* ---------- rpc.c against the node ---------- */

Test(eth_follow, rpc_errors_name_the_method_the_url_and_what_failed, .timeout = 60)
{
    node n;
    node_start(&n);
    cw_err err = {0};
    json_t *r = NULL;
    /* the node's error object: not retried, its code kept */
    cr_assert_eq(rpc_call(n.c, "chainwatch_nosuchmethod", NULL, &r, &err), CW_EARG);
    cr_assert_eq(rpc_last_error(n.c)->code, -32601, "%lld", rpc_last_error(n.c)->code);
    cr_assert(strstr(err.msg, "chainwatch_nosuchmethod at http://127.0.0.1:") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "error -32601") != NULL, "%s", err.msg);
    /* a bounded reply: a block's JSON over 200 bytes is refused, never cut */
    rpc_client *small;
    rpc_options so = {.url = n.url, .max_reply = 200};
    cr_assert_eq(rpc_open(&so, &small, &err), CW_OK);
    cr_assert_eq(rpc_call(small, "eth_getBlockByNumber", json_pack("[sb]", "0x0", 1), &r, &err), CW_ELIMIT);
    cr_assert(strstr(err.msg, "eth_getBlockByNumber at http://127.0.0.1:") && strstr(err.msg, "over 200 bytes"), "%s",
              err.msg);
    rpc_close(small);
    /* a batch answers in request order */
    const char *methods[2] = {"eth_chainId", "eth_blockNumber"};
    json_t *params[2] = {NULL, NULL}, *res[2];
    cr_assert_eq(rpc_batch(n.c, 2, methods, params, res, &err), CW_OK, "%s", err.msg);
    cr_assert_str_eq(json_string_value(res[0]), "0x7a69"); /* 31337 */
    cr_assert_str_eq(json_string_value(res[1]), "0x0");
    json_decref(res[0]), json_decref(res[1]);
    /* the rate limit spaces requests: 6 calls at 20/s take at least 0.25 s */
    rpc_client *slow;
    rpc_options ro = {.url = n.url, .rate = 20};
    cr_assert_eq(rpc_open(&ro, &slow, &err), CW_OK);
    double t0 = cli_seconds();
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(rpc_call(slow, "eth_blockNumber", NULL, &r, &err), CW_OK, "%s", err.msg);
        json_decref(r);
    }
    cr_assert_geq(cli_seconds() - t0, 0.25);
    rpc_close(slow);
    /* a node that is gone: transport errors are retried, then named */
    char url[64];
    snprintf(url, sizeof url, "%s", n.url);
    node_stop(&n);
    rpc_client *gone;
    rpc_options go = {.url = url, .retries = 2, .backoff_ms = 10};
    cr_assert_eq(rpc_open(&go, &gone, &err), CW_OK);
    cr_assert_eq(rpc_call(gone, "eth_blockNumber", NULL, &r, &err), CW_EIO);
    cr_assert(strstr(err.msg, "eth_blockNumber at http://127.0.0.1:") && strstr(err.msg, "(after 3 tries)"), "%s",
              err.msg);
    rpc_stats st;
    rpc_stats_get(gone, &st);
    cr_assert_eq(st.requests, 3);
    cr_assert_eq(st.retries, 2);
    rpc_close(gone);
    /* URLs that are no node's */
    rpc_options bad = {.url = "ftp://127.0.0.1:8545"};
    cr_assert_eq(rpc_open(&bad, &gone, &err), CW_EARG);
    cr_assert(strstr(err.msg, "ftp://127.0.0.1:8545") != NULL, "%s", err.msg);
    bad.url = "http:// 127.0.0.1";
    cr_assert_eq(rpc_open(&bad, &gone, &err), CW_EARG);
}

/* ---------- how deep a block must be ---------- */

static void mine_n(node *n, int k)
{
    char h[16];
    snprintf(h, sizeof h, "0x%x", k);
    json_decref(call(n, "anvil_mine", json_pack("[s]", h)));
}

static bool has_record(const char *dir, const char *txid, const char *status)
{
    json_t *all = alerts_read(dir);
    bool yes = find(all, txid, L1, status) != NULL;
    json_decref(all);
    return yes;
}

static void depth_case(const char *opt, int before, int last)
{
    node n;
    node_start(&n);
    char *dir = new_datadir();
    pid_t w = start_watch(dir, n.url, opt, NULL);
    char *h = send_tx(&n, ACCT1, L1, "0x3", NULL, NULL);
    json_decref(wait_record(dir, h, L1, "mempool"));
    mine(&n); /* block 1 */
    mine_n(&n, before);
    test_sleep_ms(400); /* several polls: the block is not deep enough yet */
    cr_assert(!has_record(dir, h, "confirmed"), "%s: confirmed too early", opt);
    mine_n(&n, last);
    json_t *c = wait_record(dir, h, L1, "confirmed");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(c, "block"), "height")), 1);
    json_decref(c);
    stop_watch(w);
    free(h);
    test_remove_dir(dir);
    node_stop(&n);
}

Test(eth_follow, confirmations_wait_for_n_blocks, .timeout = 60)
{
    depth_case("--confirmations=3", 1, 1); /* head 2: 2 blocks count block 1; head 3: 3 do */
}

Test(eth_follow, finalized_waits_for_the_tag, .timeout = 60)
{
    depth_case("--finalized", 63, 1); /* anvil finalizes head - 64 */
}

/* ---------- one key, every chain ---------- */

/* anvil's account 1 (private key 0x59c6995e...690d, the "test test ... junk"
 * mnemonic) as a Bitcoin P2WPKH address: computed independently in Python
 * (secp256k1 point multiplication in plain integers, hashlib sha256 and
 * ripemd160, the BIP-173 checksum), not with chainwatch's code. */
#define ACCT1_P2WPKH "bc1qcjzphr67dug28rw9ueewrqllmxlqe5f0xcnzwg"

Test(eth_follow, a_sender_whose_key_is_listed_on_bitcoin_is_designated, .timeout = 60)
{
    node n;
    node_start(&n);
    mine(&n);
    char *dir = strdup("/tmp/cw-ethk-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char csv[600], *out, *err;
    snprintf(csv, sizeof csv, "%s/list.csv", dir);
    FILE *f = fopen(csv, "w");
    fprintf(f, "chain,address,entity,program,note\nbitcoin,%s,Test key holder,DPRK3,\n", ACCT1_P2WPKH);
    fclose(f);
    char *init[] = {CW_BIN, "init", "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(init, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", csv, "--datadir", dir, NULL};
    cr_assert_eq(run_cmd(imp, NULL, 0, &out, &err), 0, "%s", err);
    free(out), free(err);
    pid_t w = start_watch(dir, n.url, NULL, NULL);
    /* ACCT1 signs a payment to a clean address: its key is revealed, its
     * EVM form linked, and this very tx is from a designated key */
    char *h = send_tx(&n, ACCT1, "0x00000000000000000000000000000000000000aa", "0x5", NULL, NULL);
    mine(&n);
    json_t *c = wait_record(dir, h, ACCT1, "confirmed");
    cr_assert_str_eq(s_of(c, "direction"), "from_designated");
    cr_assert_str_eq(s_of(c, "linked_from"), ACCT1_P2WPKH, "%s", json_dumps(c, 0));
    cr_assert_str_eq(s_of(c, "severity"), "high");
    cr_assert_str_eq(s_of(c, "decision"), "hold");
    json_decref(c);
    stop_watch(w);
    free(h);
    test_remove_dir(dir);
    node_stop(&n);
}

/* ---------- replay ranges against the datadir's tip ---------- */

static int replay_range(const char *url, const char *dir, const char *from, const char *to, char **out, char **err)
{
    char *rep[] = {CW_BIN, "replay", "--chain", "ethereum", "--rpc", (char *)url, "--from", (char *)from,
                   "--to", (char *)to, "--datadir", (char *)dir, NULL};
    return run_cmd(rep, NULL, 0, out, err);
}

Test(eth_follow, replay_below_the_tip_is_a_no_op_or_a_refusal_never_an_odd_range, .timeout = 60)
{
    node n;
    node_start(&n);
    for (int i = 0; i < 5; i++) { /* blocks 1..5, one payment to L1 each */
        char v[8];
        snprintf(v, sizeof v, "0x%x", 7 + i);
        free(send_tx(&n, ACCT1, L1, v, NULL, NULL));
        mine(&n);
    }
    char *dir = new_datadir(), *out, *err;
    cr_assert_eq(replay_range(n.url, dir, "1", "5", &out, &err), 0, "%s%s", out, err);
    free(out), free(err);
    json_t *all = alerts_read(dir);
    cr_assert_eq(json_array_size(all), 5);
    json_decref(all);
    /* 1..3 and 2..5 are already in this datadir: nothing to do, said so, exit 0 */
    const char *ranges[][2] = {{"1", "3"}, {"2", "5"}, {"1", "5"}};
    for (size_t i = 0; i < 3; i++) {
        int rc = replay_range(n.url, dir, ranges[i][0], ranges[i][1], &out, &err);
        cr_assert_eq(rc, 0, "%s..%s: %s%s", ranges[i][0], ranges[i][1], out, err);
        cr_assert(strstr(err, "nothing to replay") != NULL && strstr(err, "tip is block 5") != NULL,
                  "%s..%s: %s", ranges[i][0], ranges[i][1], err);
        cr_assert(strstr(out, "..") == NULL || strstr(out, "blocks 6..5") == NULL, "%s", out);
        cr_assert(strstr(out, "0 connected") != NULL, "%s", out);
        free(out), free(err);
    }
    all = alerts_read(dir);
    cr_assert_eq(json_array_size(all), 5, "no record repeated");
    json_decref(all);
    test_remove_dir(dir);

    /* a datadir that starts at block 3 does not hold 1..4: a clear refusal
     * (exit 2), and no summary of a range that was never replayed */
    dir = new_datadir();
    cr_assert_eq(replay_range(n.url, dir, "3", "5", &out, &err), 0, "%s%s", out, err);
    free(out), free(err);
    int rc = replay_range(n.url, dir, "1", "4", &out, &err);
    cr_assert_eq(rc, 2, "%s%s", out, err);
    cr_assert(strstr(err, "tip is block 5") != NULL && strstr(err, "empty datadir") != NULL, "%s", err);
    cr_assert(strstr(out, "blocks 1..0") == NULL, "no odd range in the summary: %s", out);
    free(out), free(err);
    all = alerts_read(dir);
    cr_assert_eq(json_array_size(all), 3);
    json_decref(all);
    test_remove_dir(dir);
    node_stop(&n);
}

/* ---------- fail closed: a store error while a block connects ---------- */

/* watch on a block paying L1 with the store failing as spec says
 * (tests/tools/fault.c): it must stop by itself with exit 3 and why, write
 * no record and not move its tip, so that a replay then picks the block
 * up. */
static void eth_watch_fails_closed(const char *var, const char *spec)
{
    node n;
    node_start(&n);
    char *h = send_tx(&n, ACCT1, L1, "0x5", NULL, NULL);
    mine(&n); /* block 1: mined before watch starts, so only the connect sees it */
    char *dir = new_datadir();
    setenv("LD_PRELOAD", CW_FAULT_PRELOAD, 1);
    setenv(var, spec, 1);
    pid_t w = start_watch(dir, n.url, "--start-height=1", NULL);
    unsetenv("LD_PRELOAD");
    unsetenv(var);
    int status = 0;
    pid_t done = 0;
    for (int waited = 0; waited < 15000 && (done = waitpid(w, &status, WNOHANG)) == 0; waited += 50)
        test_sleep_ms(50);
    if (done == 0) {
        kill(w, SIGTERM);
        waitpid(w, &status, 0);
    }
    char log[600];
    snprintf(log, sizeof log, "%s/watch.log", dir);
    char *text = read_text(log);
    cr_assert_neq(done, 0, "%s=%s: watch went on after the store failed:\n%s", var, spec, text);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3, "%s=%s: status %d (want exit 3):\n%s", var, spec,
              status, text);
    cr_assert(strstr(text, "stopping: the store failed") != NULL, "no word of why it stopped:\n%s", text);
    free(text);
    json_t *all = alerts_read(dir);
    cr_assert_eq(json_array_size(all), 0, "%s=%s: a record of the failed block was written", var, spec);
    json_decref(all);
    /* the tip did not move: a replay from block 1 is accepted and records it once */
    char *out, *err;
    cr_assert_eq(replay_range(n.url, dir, "1", "1", &out, &err), 0, "%s%s", out, err);
    cr_assert(strstr(out, "1 connected") != NULL, "the tip moved past the failed block:\n%s", out);
    free(out), free(err);
    all = alerts_read(dir);
    cr_assert_eq(json_array_size(all), 1);
    cr_assert(same_hex(s_of(json_array_get(all, 0), "txid"), h));
    json_decref(all);
    free(h);
    test_remove_dir(dir);
    node_stop(&n);
}

Test(eth_follow, watch_stops_on_a_watchlist_read_error_and_commits_nothing, .timeout = 60)
{
    cw_addr a;
    cw_err e = {0};
    cr_assert_eq(cw_addr_parse(L1, CW_NET_MAIN, &a, &e), CW_OK, "%s", e.msg);
    uint8_t key[WL_KEY_MAX];
    size_t k = wl_key_from_addr(&a, key);
    char spec[2 * WL_KEY_MAX + 32] = "mdb_get:1+:EIO@";
    for (size_t i = 0; i < k; i++)
        sprintf(spec + strlen(spec), "%02x", key[i]);
    eth_watch_fails_closed("CW_FAIL_MDB", spec);
}

Test(eth_follow, watch_stops_when_the_block_commit_fails_and_commits_nothing, .timeout = 60)
{
    /* every commit from the second fails (EIO, not retried): the first is
     * open's (CW_TRACE_COMMIT=1 shows it), the second the block's */
    eth_watch_fails_closed("CW_FAIL_MDB", "mdb_txn_commit:2+:EIO");
}

/* SIGTERM with the store failing at the final flush (from the moment the
 * gate file exists, every read of the outbox fails: the flush's walk over
 * it, which an idle watch makes nowhere else): exit 3 naming the store's
 * error, as Bitcoin's watch and the replays, never 0. The outbox worked
 * before the gate (the pending payment's record reached the file); a
 * restart with a healthy store stops with 0, the record still once. */
Test(eth_follow, a_store_error_at_the_final_flush_is_exit_3, .timeout = 60)
{
    node n;
    node_start(&n);
    char *dir = new_datadir();
    char gate[600];
    snprintf(gate, sizeof gate, "%s/store-fails", dir);
    setenv("LD_PRELOAD", CW_FAULT_PRELOAD, 1); /* inherited by watch only: the test execs nothing meanwhile */
    setenv("CW_FAIL_MDB", "mdb_cursor_get:1+:EIO#outbox", 1);
    setenv("CW_FAULT_WHILE", gate, 1);
    pid_t w = start_watch(dir, n.url, NULL, NULL); /* its pending filter made: a tx sent now is seen pending */
    unsetenv("LD_PRELOAD");
    unsetenv("CW_FAIL_MDB");
    unsetenv("CW_FAULT_WHILE");
    char log[600];
    snprintf(log, sizeof log, "%s/watch.log", dir);
    /* a pending payment: its record is handed to the file without a second
     * walk over the outbox (a block's is removed from it after an fsync,
     * which could still be under way when the test sees the line) */
    char *h = send_tx(&n, ACCT1, L1, "0x5", NULL, NULL);
    json_decref(wait_record(dir, h, L1, "mempool"));
    int st = test_stop_with_gate(w, gate); /* the final flush meets the failing store */
    char *text = read_text(log);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3, "watch (status %d) stopped on SIGTERM with the store failing:\n%s",
              st, text);
    cr_assert(strstr(text, "error: watch: final flush: ") && strstr(text, "outbox: Input/output error"), "%s", text);
    cr_assert_not(strstr(text, "stopping: the store failed"), "the failure came before the stop:\n%s", text);
    free(text);
    char log1[620];
    snprintf(log1, sizeof log1, "%s/watch1.log", dir);
    cr_assert_eq(rename(log, log1), 0); /* start_watch waits for its own "watching" line */
    w = start_watch(dir, n.url, NULL, NULL);
    stop_watch(w);
    json_t *all = alerts_read(dir);
    size_t seen = 0, i;
    json_t *r;
    json_array_foreach(all, i, r) seen += same_hex(s_of(r, "txid"), h) && strcmp(s_of(r, "status"), "mempool") == 0;
    cr_assert_eq(seen, 1, "%zu mempool records of the payment", seen);
    json_decref(all);
    free(h);
    test_remove_dir(dir);
    node_stop(&n);
}

/* ---------- when pending txs are seen from ---------- */

/* watch makes its pending filter at its first poll, after "watching", and
 * says so (FILTER_MADE): a node shows a filter only the txs that enter its
 * pool after it was made. A tx already in the pool then is not seen
 * pending, and not lost: it is screened when its block is connected (a
 * `confirmed` record, no `mempool` one); a tx sent after the line gets
 * both, with one id. */
Test(eth_follow, a_tx_in_the_pool_before_the_filter_is_screened_when_mined, .timeout = 60)
{
    node n;
    node_start(&n);
    char *dir = new_datadir();
    char *h0 = send_tx(&n, ACCT1, L1, "0x21", NULL, NULL); /* pending before watch starts */
    pid_t w = start_watch(dir, n.url, NULL, NULL);
    char *h1 = send_tx(&n, ACCT1, L2, "0x22", NULL, NULL);
    json_t *p1 = wait_record(dir, h1, L2, "mempool");
    mine(&n); /* block 1: both */
    json_t *c0 = wait_record(dir, h0, L1, "confirmed");
    json_t *c1 = wait_record(dir, h1, L2, "confirmed");
    stop_watch(w);
    cr_assert_str_eq(s_of(c0, "amount"), "33");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(c0, "block"), "height")), 1);
    cr_assert_str_eq(s_of(c1, "id"), s_of(p1, "id"));
    json_t *all = alerts_read(dir);
    cr_assert_null(find(all, h0, L1, "mempool"), "a tx in the pool before the filter was made was seen pending");
    cr_assert_eq(json_array_size(all), 3, "h0 confirmed, h1 mempool and confirmed: %zu records",
                 json_array_size(all));
    json_decref(all);
    char log[600];
    snprintf(log, sizeof log, "%s/watch.log", dir);
    char *text = read_text(log);
    const char *watching = strstr(text, "info: watch: watching ethereum"), *made = strstr(text, FILTER_MADE);
    cr_assert(watching && made && watching < made, "'watching', then the filter line:\n%s", text);
    cr_assert_null(strstr(made + 1, FILTER_MADE), "one filter line for one filter:\n%s", text);
    cr_assert(strstr(made, "a tx that entered it before this line is not seen pending; it is screened when its "
                           "block is connected"), "%s", text);
    free(text);
    json_decref(p1), json_decref(c0), json_decref(c1);
    free(h0), free(h1);
    test_remove_dir(dir);
    node_stop(&n);
}

/* ---------- a node that forgets the pending filter ---------- */

/* A JSON-RPC proxy on 127.0.0.1 in front of anvil (libmicrohttpd, its own
 * thread; libcurl forwards): when `forget` is set, it answers the next
 * eth_getFilterChanges with geth's "filter not found" error, once, and
 * then counts the eth_newPendingTransactionFilter calls it forwards. */
typedef struct {
    struct MHD_Daemon *d;
    char url[64];
    const char *upstream;
    pthread_mutex_t mu;
    bool forget;
    int refuse_more;     /* after `forget`'s one refusal, refuse this many more */
    const char *message; /* the error's message; NULL: "filter not found" */
    int forgotten, new_filters;
    /* a lying node: from block lie_parent_from on (> 0), a block with its
     * txs names parent 0x11..11; with lie_hashes, every block asked
     * without txs (the follower's hash_at) has hash 0x22..22 */
    long lie_parent_from;
    bool lie_hashes;
    /* a node slow to make a pending filter: each
     * eth_newPendingTransactionFilter is forwarded this late */
    int filter_delay_ms;
} rpc_proxy;

typedef struct {
    char *p;
    size_t n;
} proxy_buf;

static size_t proxy_sink(char *p, size_t sz, size_t nm, void *ctx)
{
    proxy_buf *b = ctx;
    b->p = realloc(b->p, b->n + sz * nm + 1);
    memcpy(b->p + b->n, p, sz * nm);
    b->n += sz * nm;
    b->p[b->n] = '\0';
    return sz * nm;
}

static enum MHD_Result proxy_answer(void *cls, struct MHD_Connection *con, const char *url, const char *method,
                                    const char *version, const char *data, size_t *size, void **state)
{
    (void)url, (void)method, (void)version;
    rpc_proxy *px = cls;
    proxy_buf *in = *state;
    if (in == NULL) {
        *state = calloc(1, sizeof *in);
        return MHD_YES;
    }
    if (*size) {
        proxy_sink((char *)data, 1, *size, in);
        *size = 0;
        return MHD_YES;
    }
    proxy_buf out = {0};
    json_t *req = json_loadb(in->p ? in->p : "", in->n, 0, NULL);
    const char *m = json_string_value(json_object_get(req, "method"));
    pthread_mutex_lock(&px->mu);
    bool refuse = m && strcmp(m, "eth_getFilterChanges") == 0 && (px->forget || px->refuse_more > 0);
    if (refuse && !px->forget)
        px->refuse_more--, px->forgotten++;
    else if (refuse)
        px->forget = false, px->forgotten++;
    json_t *params = json_object_get(req, "params");
    bool by_number = m && strcmp(m, "eth_getBlockByNumber") == 0;
    long lie_from = px->lie_parent_from;
    bool lie_hash = px->lie_hashes;
    if (m && strcmp(m, "eth_newPendingTransactionFilter") == 0 && px->forgotten)
        px->new_filters++;
    int delay = m && strcmp(m, "eth_newPendingTransactionFilter") == 0 ? px->filter_delay_ms : 0;
    pthread_mutex_unlock(&px->mu);
    if (delay)
        test_sleep_ms(delay);
    if (refuse) {
        json_t *e = json_pack("{sssOs{siss}}", "jsonrpc", "2.0", "id", json_object_get(req, "id"), "error", "code",
                              -32000, "message", px->message ? px->message : "filter not found");
        out.p = json_dumps(e, JSON_COMPACT);
        out.n = strlen(out.p);
        json_decref(e);
    } else {
        CURL *h = curl_easy_init();
        struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_URL, px->upstream);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, in->p ? in->p : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)in->n);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, proxy_sink);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
        curl_easy_perform(h);
        curl_slist_free_all(hd);
        curl_easy_cleanup(h);
        json_t *rep = by_number && (lie_from > 0 || lie_hash) ? json_loadb(out.p ? out.p : "", out.n, 0, NULL) : NULL;
        json_t *blk = json_object_get(rep, "result");
        const char *num = json_string_value(json_object_get(blk, "number"));
        bool full = json_is_true(json_array_get(params, 1)), changed = false;
        if (num && full && lie_from > 0 && strtol(num, NULL, 16) >= lie_from) {
            json_object_set_new(blk, "parentHash", json_string("0x1111111111111111111111111111111111111111111111111111111111111111"));
            changed = true;
        }
        if (num && !full && lie_hash) {
            json_object_set_new(blk, "hash", json_string("0x2222222222222222222222222222222222222222222222222222222222222222"));
            changed = true;
        }
        if (changed) {
            free(out.p);
            out.p = json_dumps(rep, JSON_COMPACT);
            out.n = strlen(out.p);
        }
        json_decref(rep);
    }
    json_decref(req);
    struct MHD_Response *r = MHD_create_response_from_buffer(out.n, out.p ? out.p : (char *)"", MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ok = MHD_queue_response(con, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    free(out.p);
    return ok;
}

static void proxy_done(void *cls, struct MHD_Connection *con, void **state, enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)con, (void)code;
    proxy_buf *in = *state;
    if (in)
        free(in->p);
    free(in);
    *state = NULL;
}

static void proxy_start(rpc_proxy *px, const char *upstream)
{
    memset(px, 0, sizeof *px);
    pthread_mutex_init(&px->mu, NULL);
    px->upstream = upstream;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    px->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, proxy_answer, px, MHD_OPTION_SOCK_ADDR,
                             &sa, MHD_OPTION_NOTIFY_COMPLETED, proxy_done, px, MHD_OPTION_END);
    cr_assert_not_null(px->d, "the proxy did not start");
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(px->d, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(px->url, sizeof px->url, "http://127.0.0.1:%u", (unsigned)di->port);
}

static int proxy_get(rpc_proxy *px, int *field)
{
    pthread_mutex_lock(&px->mu);
    int v = *field;
    pthread_mutex_unlock(&px->mu);
    return v;
}

Test(eth_follow, a_forgotten_pending_filter_is_made_again, .timeout = 90)
{
    node n;
    node_start(&n);
    rpc_proxy px;
    proxy_start(&px, n.url);
    char *dir = new_datadir();
    pid_t w = start_watch(dir, px.url, NULL, NULL);
    char *h1 = send_tx(&n, ACCT1, L1, "0x11", NULL, NULL);
    json_decref(wait_record(dir, h1, L1, "mempool"));
    char log[600];
    snprintf(log, sizeof log, "%s/watch.log", dir);
    long from = size_of(log);
    pthread_mutex_lock(&px.mu);
    px.forget = true;
    pthread_mutex_unlock(&px.mu);
    /* the line comes once the node made the new filter (the proxy counts
     * the request before the node has answered it) */
    const char *again = "info: watch: pending txs: the node forgot the filter; a new one (filter 0x";
    for (int i = 0; i < 1200 && !logged_since(log, from, again); i++)
        test_sleep_ms(25);
    cr_assert(logged_since(log, from, again), "no line for the new filter (see %s)", log);
    cr_assert_eq(proxy_get(&px, &px.forgotten), 1, "the node's refusal was never asked for");
    cr_assert_eq(proxy_get(&px, &px.new_filters), 1, "not one new filter after the node forgot the old one");
    /* the new filter works: a tx sent now gets its mempool record */
    char *h2 = send_tx(&n, ACCT1, L1, "0x12", NULL, NULL);
    json_decref(wait_record(dir, h2, L1, "mempool"));
    stop_watch(w);
    MHD_stop_daemon(px.d);
    pthread_mutex_destroy(&px.mu);
    free(h1), free(h2);
    test_remove_dir(dir);
    node_stop(&n);
}

/* A node slow to make the pending filter (1 s here: a busy node): watch
 * logs "watching" long before the filter exists, and a tx sent then would
 * never be seen pending (the race the eth_follow tests lost under load).
 * The filter line comes once the node made it: a tx sent after it is seen
 * pending. A start_watch that waited for "watching" alone fails here every
 * time. */
Test(eth_follow, a_node_slow_to_make_the_filter_is_followed_from_the_filter_line, .timeout = 90)
{
    node n;
    node_start(&n);
    rpc_proxy px;
    proxy_start(&px, n.url);
    px.filter_delay_ms = 1000;
    char *dir = new_datadir();
    pid_t w = start_watch(dir, px.url, NULL, NULL);
    char *h = send_tx(&n, ACCT1, L1, "0x13", NULL, NULL);
    json_t *p = wait_record(dir, h, L1, "mempool");
    cr_assert_str_eq(s_of(p, "amount"), "19");
    stop_watch(w);
    MHD_stop_daemon(px.d);
    pthread_mutex_destroy(&px.mu);
    json_decref(p);
    free(h);
    test_remove_dir(dir);
    node_stop(&n);
}

/* A node that takes the connection and never answers: a clear error
 * naming the method, the URL and the timeout after the retries, within the
 * time asked for (not a hang). */
Test(eth_follow, a_node_that_never_answers_times_out_with_a_clear_error, .timeout = 30)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(listen(s, 8), 0); /* the kernel accepts; nobody reads or answers */
    socklen_t sl = sizeof sa;
    getsockname(s, (struct sockaddr *)&sa, &sl);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
    rpc_options o = {.url = url, .timeout_ms = 300, .retries = 1, .backoff_ms = 10};
    rpc_client *c;
    cw_err err = {0};
    cr_assert_eq(rpc_open(&o, &c, &err), CW_OK, "%s", err.msg);
    json_t *r = NULL;
    double t0 = cli_seconds();
    cr_assert_eq(rpc_call(c, "eth_blockNumber", NULL, &r, &err), CW_EIO, "%s", err.msg);
    double el = cli_seconds() - t0;
    cr_assert(strstr(err.msg, "eth_blockNumber") && strstr(err.msg, url) && strstr(err.msg, "2 tries") &&
                  (strstr(err.msg, "imed out") || strstr(err.msg, "imeout")),
              "%s", err.msg);
    cr_assert(el >= 0.55 && el < 5, "two tries of 300 ms took %.2f s", el);
    rpc_close(c);
    close(s);
}

/* A node down or hanging fails every poll with the same error; watch logs
 * an error once until it changes (poll_log), so its text must not carry
 * what differs from try to try: libcurl's "after 301 milliseconds" /
 * "after 0 ms" (before, such a node's error was logged at every poll). */
Test(eth_follow, a_node_down_or_hanging_fails_with_the_same_words_every_time, .timeout = 30)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), closed = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_in sb = sa;
    cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(listen(s, 8), 0); /* nobody answers */
    cr_assert_eq(bind(closed, (struct sockaddr *)&sb, sizeof sb), 0); /* bound, not listening: refused */
    socklen_t sl = sizeof sa;
    getsockname(s, (struct sockaddr *)&sa, &sl);
    sl = sizeof sb;
    getsockname(closed, (struct sockaddr *)&sb, &sl);
    unsigned ports[2] = {ntohs(sa.sin_port), ntohs(sb.sin_port)};
    for (int k = 0; k < 2; k++) {
        char url[64], first[CW_ERR_MSG_MAX] = "";
        snprintf(url, sizeof url, "http://127.0.0.1:%u", ports[k]);
        rpc_options o = {.url = url, .timeout_ms = 150 + 60 * k, .retries = 0, .backoff_ms = 10};
        rpc_client *c;
        cw_err err = {0};
        cr_assert_eq(rpc_open(&o, &c, &err), CW_OK, "%s", err.msg);
        for (int i = 0; i < 3; i++) {
            json_t *r = NULL;
            cr_assert_eq(rpc_call(c, "eth_blockNumber", NULL, &r, &err), CW_EIO, "%s", err.msg);
            cr_assert(strstr(err.msg, url) && !strstr(err.msg, " milliseconds") && !strstr(err.msg, " ms:"),
                      "an elapsed time in the error: %s", err.msg);
            if (i == 0)
                snprintf(first, sizeof first, "%s", err.msg);
            cr_assert_str_eq(err.msg, first);
        }
        if (k == 0)
            cr_assert(strstr(first, "150 ms in all"), "%s", first);
        rpc_close(c);
    }
    close(s), close(closed);
}

/* Any other error of eth_getFilterChanges (a provider's rate limit here)
 * is not a forgotten filter: it is logged, and the same filter is asked
 * again at the next poll (before, each such error silently made a new
 * filter on the node and lost the pending txs between). */
Test(eth_follow, another_filter_error_is_logged_not_a_new_filter, .timeout = 90)
{
    node n;
    node_start(&n);
    rpc_proxy px;
    proxy_start(&px, n.url);
    px.message = "rate limit exceeded";
    char *dir = new_datadir();
    pid_t w = start_watch(dir, px.url, NULL, NULL);
    char *h1 = send_tx(&n, ACCT1, L1, "0x11", NULL, NULL);
    json_decref(wait_record(dir, h1, L1, "mempool"));
    pthread_mutex_lock(&px.mu);
    px.forget = true;
    pthread_mutex_unlock(&px.mu);
    for (int i = 0; i < 200 && proxy_get(&px, &px.forgotten) == 0; i++)
        test_sleep_ms(25);
    cr_assert_eq(proxy_get(&px, &px.forgotten), 1, "the node's error was never asked for");
    /* the same filter still brings the next tx */
    char *h2 = send_tx(&n, ACCT1, L1, "0x12", NULL, NULL);
    json_decref(wait_record(dir, h2, L1, "mempool"));
    cr_assert_eq(proxy_get(&px, &px.new_filters), 0, "a new filter for an error that is not about the filter");
    stop_watch(w);
    char log[600];
    snprintf(log, sizeof log, "%s/watch.log", dir);
    char *text = read_text(log);
    cr_assert(strstr(text, "pending txs") && strstr(text, "rate limit exceeded"), "the error was not logged:\n%s",
              text);
    free(text);
    MHD_stop_daemon(px.d);
    pthread_mutex_destroy(&px.mu);
    free(h1), free(h2);
    test_remove_dir(dir);
    node_stop(&n);
}

/* ---------- record and replay (capture.h, docs/capture.md) ---------- */

/* The alerts file's lines, each without what differs between two runs by
 * definition: seen_at (when this run saw it), sig (each datadir signs with
 * its own key) and prev (the hash of the line before, which holds both).
 * Re-serialized canonically (sorted keys, no spaces), as the file is. */
static json_t *lines_but_run_fields(const char *dir)
{
    json_t *all = alerts_read(dir), *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r)
    {
        json_object_del(r, "seen_at");
        json_object_del(r, "sig");
        json_object_del(r, "prev");
        char *line = json_dumps(r, JSON_SORT_KEYS | JSON_COMPACT);
        cr_assert_not_null(line);
        json_array_append_new(out, json_string(line));
        free(line);
    }
    json_decref(all);
    return out;
}

static void copy_cut(const char *from, const char *to, long cut, long flip_at)
{
    FILE *in = fopen(from, "rb"), *o = fopen(to, "wb");
    cr_assert(in && o);
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    fseek(in, 0, SEEK_SET);
    char *bytes = malloc((size_t)size);
    cr_assert_eq(fread(bytes, 1, (size_t)size, in), (size_t)size);
    if (flip_at >= 0)
        bytes[flip_at] = (char)0xff;
    fwrite(bytes, 1, (size_t)(size - cut), o);
    fclose(in), fclose(o), free(bytes);
}

/* A copy of the capture `from` as a watch before the rules' JSON had
 * pool_trace_max, hit_min_cents, hit_min_native and asset_hit_min wrote
 * it: each settings record rebuilt without them (capture.h's framing:
 * u32 L, f64 time, u32 F, then u32 length + bytes per frame). */
static void copy_without_later_rules_keys(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *o = fopen(to, "wb");
    cr_assert(in && o);
    fseek(in, 0, SEEK_END);
    size_t n = (size_t)ftell(in), hdr = 29; /* "CWCAP2\n", 8 "ethereum", 11 "chain-31337", topics */
    fseek(in, 0, SEEK_SET);
    uint8_t *b = malloc(n);
    cr_assert_eq(fread(b, 1, n, in), n);
    fwrite(b, 1, hdr, o);
    size_t stripped = 0;
    for (size_t at = hdr; at < n;) {
        uint32_t len = (uint32_t)b[at] | (uint32_t)b[at + 1] << 8 | (uint32_t)b[at + 2] << 16 | (uint32_t)b[at + 3] << 24;
        const uint8_t *f = b + at + 16;
        if (memcmp(f, "\x08\0\0\0settings", 12) != 0) {
            fwrite(b + at, 1, 4 + (size_t)len, o);
            at += 4 + (size_t)len;
            continue;
        }
        const uint8_t *f1 = f + 12;
        uint32_t l1 = (uint32_t)f1[0] | (uint32_t)f1[1] << 8 | (uint32_t)f1[2] << 16 | (uint32_t)f1[3] << 24;
        const uint8_t *f2 = f1 + 4 + l1;
        uint32_t l2 = (uint32_t)f2[0] | (uint32_t)f2[1] << 8 | (uint32_t)f2[2] << 16 | (uint32_t)f2[3] << 24;
        json_t *set = json_loadb((const char *)f1 + 4, l1, 0, NULL);
        json_t *rules = json_object_get(set, "rules");
        cr_assert(json_object_del(rules, "pool_trace_max") == 0 && json_object_del(rules, "hit_min_cents") == 0 &&
                  json_object_del(rules, "hit_min_native") == 0 && json_object_del(rules, "asset_hit_min") == 0);
        char *t = json_dumps(set, JSON_COMPACT | JSON_SORT_KEYS);
        uint32_t nl1 = (uint32_t)strlen(t), nlen = 12 + 4 + 8 + 4 + nl1 + 4 + l2;
        uint8_t le[4];
        for (int i = 0; i < 4; i++)
            le[i] = (uint8_t)(nlen >> (8 * i));
        fwrite(le, 1, 4, o);
        fwrite(b + at + 4, 1, 12 + 12, o); /* time, F, frame 0 */
        for (int i = 0; i < 4; i++)
            le[i] = (uint8_t)(nl1 >> (8 * i));
        fwrite(le, 1, 4, o);
        fwrite(t, 1, nl1, o);
        fwrite(f2, 1, 4 + (size_t)l2, o);
        free(t);
        json_decref(set);
        stripped++;
        at += 4 + (size_t)len;
    }
    cr_assert_eq(stripped, 2, "one settings record per watch run");
    free(b);
    fclose(in), fclose(o);
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

/* watch --chain ethereum --record, then replay --capture of the file into
 * a new datadir with the node gone: the same records, line for line. The
 * live run saw ETH and MiniToken payments pending and mined, a reorg
 * (anvil_reorg) and the same tx mined again, and errors from the node (a
 * proxy refusing the pending poll 3 times): the replay can only match by
 * answering from the capture. */
Test(eth_follow, record_then_replay_capture_gives_the_live_records, .timeout = 150)
{
    node n;
    node_start(&n);
    rpc_proxy px;
    proxy_start(&px, n.url);
    px.message = "rate limit exceeded";
    char *token = deploy_token(&n); /* block 1 */
    char *dir = new_datadir();
    char csv[600], topt[620], cap[600], ropt[620];
    snprintf(csv, sizeof csv, "%s/tokens.csv", dir);
    FILE *f = fopen(csv, "w");
    fprintf(f, "chain,token,contract_address,decimals,source\nETH,MINI,%s,6,test deployment\n", token);
    fclose(f);
    snprintf(topt, sizeof topt, "--tokens=%s", csv);
    snprintf(cap, sizeof cap, "%s/eth.cwcap", dir);
    snprintf(ropt, sizeof ropt, "--record=%s", cap);
    pid_t w = start_watch(dir, px.url, topt, ropt);

    char *h1 = send_tx(&n, ACCT1, L1, "0x14d1120d7b160000", NULL, NULL);
    json_decref(wait_record(dir, h1, L1, "mempool"));
    mine(&n);
    json_decref(wait_record(dir, h1, L1, "confirmed"));
    char data[2 + 8 + 64 + 64 + 1];
    transfer_data(L2, 2500000, data);
    char *h2 = send_tx(&n, ACCT0, token, NULL, data, "0x30000");
    json_decref(wait_record(dir, h2, L2, "mempool"));
    /* the node refuses the pending poll 3 times: recorded as errors */
    pthread_mutex_lock(&px.mu);
    px.forget = true;
    px.refuse_more = 2;
    pthread_mutex_unlock(&px.mu);
    for (int i = 0; i < 200 && proxy_get(&px, &px.forgotten) < 3; i++)
        test_sleep_ms(25);
    cr_assert_eq(proxy_get(&px, &px.forgotten), 3);
    mine(&n);
    json_decref(wait_record(dir, h2, L2, "confirmed"));
    /* a reorg: the block is replaced by one without the tx, which is mined again */
    char *h3 = send_tx(&n, ACCT1, L1, "0x2a", NULL, NULL);
    json_t *raw = call(&n, "eth_getRawTransactionByHash", json_pack("[s]", h3));
    json_decref(wait_record(dir, h3, L1, "mempool"));
    mine(&n);
    json_decref(wait_record(dir, h3, L1, "confirmed"));
    json_decref(call(&n, "anvil_reorg", json_pack("[i[]]", 1)));
    json_decref(wait_record(dir, h3, L1, "reorged"));
    json_decref(call(&n, "eth_sendRawTransaction", json_pack("[O]", raw)));
    mine(&n);
    for (int i = 0; i < 2400; i++) { /* a cap of 60 s */
        json_t *all = alerts_read(dir);
        size_t k = json_array_size(all);
        json_decref(all);
        if (k >= 8)
            break;
        test_sleep_ms(25);
    }
    stop_watch(w);
    char log[600];
    snprintf(log, sizeof log, "%s/watch.log", dir);
    char *text = read_text(log);
    /* the failing poll: one line when it started, one when it cleared, with the count */
    size_t starts = 0;
    for (const char *q = text; (q = strstr(q, "pending txs: eth_getFilterChanges")) != NULL; q++)
        starts++;
    cr_assert_eq(starts, 1, "one line for 3 failed polls with one error:\n%s", text);
    cr_assert(strstr(text, "rate limit exceeded (asking again every 50 ms)"), "%s", text);
    cr_assert(strstr(text, "pending txs: the node answers again (the last error was repeated by 2 more failed polls)"),
              "%s", text);
    free(text);
    unlink(log); /* start_watch waits for the new run's first line */
    /* watch started again on the same capture: a second session in it */
    w = start_watch(dir, px.url, topt, ropt);
    char *h4 = send_tx(&n, ACCT1, L2, "0x99", NULL, NULL);
    json_decref(wait_record(dir, h4, L2, "mempool"));
    mine(&n);
    json_decref(wait_record(dir, h4, L2, "confirmed"));
    stop_watch(w);
    MHD_stop_daemon(px.d);
    pthread_mutex_destroy(&px.mu);
    node_stop(&n); /* the replay has no node at all */
    json_t *live = lines_but_run_fields(dir);
    cr_assert_eq(json_array_size(live), 10, "mempool+confirmed for h1 and h2, mempool, confirmed, reorged, confirmed "
                 "for h3, mempool+confirmed for h4: %zu", json_array_size(live));

    char *d2 = new_datadir(), *out, *err;
    /* other pattern-rules options than watch ran with would give other
     * records: refused before any poll, nothing written */
    char labels[620], lopt[640];
    snprintf(labels, sizeof labels, "%s/labels.csv", dir);
    f = fopen(labels, "w");
    fprintf(f, "chain,address,entity,category,source\nETH,%s,Some exchange,exchange,test\n", L2);
    fclose(f);
    snprintf(lopt, sizeof lopt, "--labels=%s", labels);
    const char *other_rules[] = {"--recurring-payments=4", "--rules=off", "--salary-max-eth=123", lopt};
    for (size_t k = 0; k < 4; k++) {
        char *rep0[] = {CW_BIN, "replay", "--capture", cap, "--datadir", d2, (char *)other_rules[k], NULL};
        cr_assert_eq(run_cmd(rep0, NULL, 0, &out, &err), 2, "%s: %s\n%s", other_rules[k], out, err);
        cr_assert(strstr(err, "pattern rules"), "%s: %s", other_rules[k], err);
        free(out), free(err);
        json_t *none = alerts_read(d2);
        cr_assert_eq(json_array_size(none), 0, "%s: a replay with other rules wrote records", other_rules[k]);
        json_decref(none);
    }
    /* how deep blocks connect, given against the recorded (--confirmations
     * 1, watch's default): refused naming the setting and both values */
    const char *other_depth[][2] = {
        {"--confirmations=2", "session 1: --confirmations differs from the recording's: recorded 1, given 2"},
        {"--finalized", "session 1: --finalized differs from the recording's: recorded --confirmations 1, given "
                        "--finalized"},
        {"--max-reorg=10", "session 1: --max-reorg differs from the recording's: recorded 64 (the default), given 10"},
    };
    for (size_t k = 0; k < 3; k++) {
        char *rep0[] = {CW_BIN, "replay", "--capture", cap, "--datadir", d2, (char *)other_depth[k][0], NULL};
        cr_assert_eq(run_cmd(rep0, NULL, 0, &out, &err), 2, "%s: %s\n%s", other_depth[k][0], out, err);
        cr_assert(strstr(err, other_depth[k][1]), "%s: %s", other_depth[k][0], err);
        free(out), free(err);
        json_t *none = alerts_read(d2);
        cr_assert_eq(json_array_size(none), 0, "%s: a refused replay wrote records", other_depth[k][0]);
        json_decref(none);
    }
    char *rep[] = {CW_BIN, "replay", "--capture", cap, "--datadir", d2, NULL};
    cr_assert_eq(run_cmd(rep, NULL, 0, &out, &err), 0, "%s\n%s", out, err);
    cr_assert(strstr(out, "replayed ethereum chain-31337 capture"), "%s", out);
    cr_assert(strstr(out, "node errors 3 failed polls"), "%s\n%s", out, err);
    cr_assert(strstr(out, "1 disconnected"), "%s", out);
    cr_assert(strstr(out, "2 watch runs"), "%s", out);
    free(out), free(err);
    json_t *again = lines_but_run_fields(d2);
    cr_assert_eq(json_array_size(again), json_array_size(live), "%zu records, the live run %zu",
                 json_array_size(again), json_array_size(live));
    for (size_t i = 0; i < json_array_size(live); i++)
        cr_assert_str_eq(json_string_value(json_array_get(again, i)), json_string_value(json_array_get(live, i)),
                         "record %zu differs", i);
    char path[600];
    snprintf(path, sizeof path, "%s/alerts.jsonl", d2);
    char *ver[] = {CW_BIN, "verify", path, "--datadir", d2, NULL};
    cr_assert_eq(run_cmd(ver, NULL, 0, &out, &err), 0, "%s%s", out, err);
    free(out), free(err);
    /* a capture from before the rules' JSON had its four later keys: the
     * rest compared, the same records */
    char older[620];
    snprintf(older, sizeof older, "%s/older.cwcap", dir);
    copy_without_later_rules_keys(cap, older);
    char *d5 = new_datadir();
    char *rep5[] = {CW_BIN, "replay", "--capture", older, "--datadir", d5, NULL};
    cr_assert_eq(run_cmd(rep5, NULL, 0, &out, &err), 0, "%s\n%s", out, err);
    free(out), free(err);
    json_t *older_lines = lines_but_run_fields(d5);
    cr_assert_eq(json_array_size(older_lines), json_array_size(live));
    json_decref(older_lines);
    test_remove_dir(d5);
    /* the same capture into a datadir that holds it already: it would not
     * follow the capture, so it is refused before any poll */
    cr_assert_eq(run_cmd(rep, NULL, 0, &out, &err), 2, "%s\n%s", out, err);
    cr_assert(strstr(err, "whose tip was block -1"), "%s", err);
    free(out), free(err);

    /* cut short, or a length damaged: refused with the offset, nothing replayed */
    char cut[620];
    snprintf(cut, sizeof cut, "%s/cut.cwcap", dir);
    const long cuts[][2] = {{3, -1}, {0, 32}}; /* the first record's length, high byte (header: 29 bytes) */
    for (size_t k = 0; k < 2; k++) {
        copy_cut(cap, cut, cuts[k][0], cuts[k][1]);
        char *d3 = new_datadir();
        char *rep3[] = {CW_BIN, "replay", "--capture", cut, "--datadir", d3, NULL};
        cr_assert_eq(run_cmd(rep3, NULL, 0, &out, &err), 2, "%s\n%s", out, err);
        cr_assert(strstr(err, cut) && strstr(err, "record at byte") && strstr(err, "refused, nothing replayed"), "%s",
                  err);
        if (k == 0)
            cr_assert(strstr(err, "cut short"), "%s", err);
        free(out), free(err);
        json_t *none = alerts_read(d3);
        cr_assert_eq(json_array_size(none), 0, "a damaged capture replayed records");
        json_decref(none);
        test_remove_dir(d3);
    }
    cr_assert_gt(file_size(cap), 1000);
    json_decref(live), json_decref(again), json_decref(raw);
    free(h1), free(h2), free(h3), free(h4), free(token);
    test_remove_dir(d2);
    test_remove_dir(dir);
}

/* A datadir whose tip is at the recorded height but on another branch
 * would not follow the recorded answers either: replay --capture compares
 * the tip's hash too (before, heights only) and refuses it naming both
 * hashes; a datadir on the recorded branch replays. anvil_reorg replaces
 * blocks 1..2 (block 2 paid L1) with empty ones: same heights, other
 * hashes. */
Test(eth_follow, replay_capture_refuses_a_datadir_on_another_branch_at_the_same_height, .timeout = 90)
{
    node n;
    node_start(&n);
    mine(&n);
    free(send_tx(&n, ACCT1, L1, "0x7", NULL, NULL));
    mine(&n);
    json_t *x2 = call(&n, "eth_getBlockByNumber", json_pack("[sb]", "0x2", 0));
    char *a = new_datadir(), *same = new_datadir(), *out, *err;
    cr_assert_eq(replay_range(n.url, a, "1", "2", &out, &err), 0, "%s%s", out, err);
    free(out), free(err);
    cr_assert_eq(replay_range(n.url, same, "1", "2", &out, &err), 0, "%s%s", out, err);
    free(out), free(err);
    char cap[600], ropt[620];
    snprintf(cap, sizeof cap, "%s/eth.cwcap", a);
    snprintf(ropt, sizeof ropt, "--record=%s", cap);
    stop_watch(start_watch(a, n.url, ropt, NULL)); /* a session that began on tip 2 of branch x */
    json_decref(call(&n, "anvil_reorg", json_pack("[i[]]", 2)));
    json_t *y2 = call(&n, "eth_getBlockByNumber", json_pack("[sb]", "0x2", 0));
    const char *hx = json_string_value(json_object_get(x2, "hash")), *hy = json_string_value(json_object_get(y2, "hash"));
    cr_assert(hx && hy && strcasecmp(hx, hy) != 0, "anvil_reorg gave block 2 another hash: %s %s", hx, hy);
    char *b = new_datadir();
    cr_assert_eq(replay_range(n.url, b, "1", "2", &out, &err), 0, "%s%s", out, err);
    free(out), free(err);
    node_stop(&n);
    char *rep[] = {CW_BIN, "replay", "--capture", cap, "--datadir", b, NULL};
    cr_assert_eq(run_cmd(rep, NULL, 0, &out, &err), 2, "%s\n%s", out, err);
    char want[400];
    snprintf(want, sizeof want, "whose tip was block 2 %s; this one's tip is block 2 %s: it followed another branch",
             hx, hy);
    cr_assert(strstr(err, want), "want '%s' in:\n%s", want, err);
    cr_assert(strstr(out, "replayed") == NULL, "a refused replay printed a summary: %s", out);
    free(out), free(err);
    /* the same height on the recorded branch: replayed */
    char *ok[] = {CW_BIN, "replay", "--capture", cap, "--datadir", same, NULL};
    cr_assert_eq(run_cmd(ok, NULL, 0, &out, &err), 0, "%s\n%s", out, err);
    cr_assert(strstr(out, "replayed ethereum chain-31337 capture"), "%s", out);
    free(out), free(err);
    json_decref(x2), json_decref(y2);
    test_remove_dir(a), test_remove_dir(same), test_remove_dir(b);
}

/* ---------- a node that lies about its chain: watch stops, fail closed ---------- */

/* Blocks 1..3 (one payment to L1 each) followed through the proxy; then
 * the proxy lies as `set` says and block 4 (a payment) is mined. watch
 * must stop by itself, exit 1, with a line naming the blocks (want), and
 * nothing past block 3 recorded. */
static void lying_node_case(void (*set)(rpc_proxy *), const char *extra, const char *want1, const char *want2)
{
    node n;
    node_start(&n);
    rpc_proxy px;
    proxy_start(&px, n.url);
    char *hs[4];
    for (int i = 0; i < 3; i++) {
        hs[i] = send_tx(&n, ACCT1, L1, "0x7", NULL, NULL);
        mine(&n);
    }
    char *dir = new_datadir();
    pid_t w = start_watch(dir, px.url, "--start-height=1", extra);
    json_decref(wait_record(dir, hs[2], L1, "confirmed"));
    pthread_mutex_lock(&px.mu);
    set(&px);
    pthread_mutex_unlock(&px.mu);
    hs[3] = send_tx(&n, ACCT1, L1, "0x8", NULL, NULL);
    mine(&n);
    int status = 0;
    pid_t done = 0;
    for (int waited = 0; waited < 20000 && (done = waitpid(w, &status, WNOHANG)) == 0; waited += 50)
        test_sleep_ms(50);
    if (done == 0) {
        kill(w, SIGTERM);
        waitpid(w, &status, 0);
    }
    char log[600];
    snprintf(log, sizeof log, "%s/watch.log", dir);
    char *text = read_text(log);
    cr_assert_neq(done, 0, "watch went on following a lying node:\n%s", text);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d (want exit 1):\n%s", status, text);
    cr_assert(strstr(text, "error: watch: stopping: ") && strstr(text, want1) && strstr(text, want2),
              "no clear error naming the blocks (%s, %s):\n%s", want1, want2, text);
    free(text);
    json_t *all = alerts_read(dir);
    /* its mempool record may be there (the pending poll is not the chain) */
    cr_assert_null(find(all, hs[3], L1, "confirmed"), "block 4 was followed from a lying node");
    cr_assert_null(find(all, hs[2], L1, "reorged"), "our blocks were undone for a lying node");
    for (int i = 0; i < 3; i++)
        cr_assert_not_null(find(all, hs[i], L1, "confirmed"));
    json_decref(all);
    MHD_stop_daemon(px.d);
    pthread_mutex_destroy(&px.mu);
    for (int i = 0; i < 4; i++)
        free(hs[i]);
    test_remove_dir(dir);
    node_stop(&n);
}

static void lie_parent(rpc_proxy *px) { px->lie_parent_from = 4; }
static void lie_hashes(rpc_proxy *px) { px->lie_hashes = true; }

Test(eth_follow, a_node_whose_blocks_never_link_stops_watch, .timeout = 90)
{
    /* block 4 names a parent that is not block 3, every time: 16 in a row */
    lying_node_case(lie_parent, NULL, "does not link, 16 times in a row", "its block 4 (0x");
}

Test(eth_follow, a_node_whose_hashes_lie_stops_watch_before_undoing_anything, .timeout = 90)
{
    /* its hash at every height is 0x22..22: no block in common; deeper than
     * --max-reorg 2 it stops at once */
    lying_node_case(lie_hashes, "--max-reorg=2", "shares none of our blocks 1..3", "--max-reorg 2");
    /* within the default 64: the block above the fork is not the one its
     * hash said, 16 times in a row */
    lying_node_case(lie_hashes, NULL, "does not link, 16 times in a row",
                    "its hash at 1 is 0x222222");
}
