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
#include <sys/wait.h>
#include <unistd.h>

#include "monitor/sources/eth_follow.h"
#include "monitor/sources/rpc.h"
#include "tests/support.h"

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
    char log[600];
    snprintf(log, sizeof log, "%s/anvil.log", n->dir);
    n->pid = fork();
    cr_assert_geq(n->pid, 0);
    if (n->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(CW_ANVIL, CW_ANVIL, "--host", "127.0.0.1", "--port", "0", "--no-mining", "--chain-id", "31337",
              (char *)NULL);
        _exit(127);
    }
    int port = 0;
    for (int i = 0; i < 300 && port == 0; i++) {
        test_sleep_ms(50);
        FILE *f = fopen(log, "r");
        char line[512];
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "Listening on 127.0.0.1:%d", &port) == 1)
                break;
        if (f)
            fclose(f);
    }
    cr_assert_gt(port, 0, "anvil (%s) did not start: is it installed (scripts/setup)?", CW_ANVIL);
    snprintf(n->url, sizeof n->url, "http://127.0.0.1:%d", port);
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

static pid_t start_watch(const char *dir, const char *url, const char *extra1, const char *extra2)
{
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
    /* ready once it has logged that it watches */
    char log[600];
    snprintf(log, sizeof log, "%s/watch.log", dir);
    for (int i = 0; i < 300; i++) {
        FILE *f = fopen(log, "r");
        char line[1024];
        bool ready = false;
        while (f && fgets(line, sizeof line, f))
            ready |= strstr(line, "watching ethereum") != NULL;
        if (f)
            fclose(f);
        if (ready)
            return pid;
        test_sleep_ms(50);
    }
    cr_assert_fail("watch did not start (see %s)", log);
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
    for (int i = 0; i < 400; i++) {
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
    for (int i = 0; i < 400; i++) {
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

#define KILL_BLOCKS 30

Test(eth_follow, kill9_mid_stream_loses_and_repeats_nothing_and_replay_equals_live, .timeout = 180)
{
    node n;
    node_start(&n);
    char *hs[KILL_BLOCKS];
    for (int i = 0; i < KILL_BLOCKS; i++) { /* blocks 1..30, one payment each */
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
    cr_assert(strstr(out, "30 connected") != NULL, "%s", out);
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
