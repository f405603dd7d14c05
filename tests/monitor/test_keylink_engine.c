/* One key, every chain, end to end through the pipeline (in process): a
 * watchlist that designates only the EVM form of a key; Bitcoin blocks
 * (chain_build.h) in which a tx spends a P2WPKH output with that key. The
 * key is the generator G (private key 1): its EVM address
 * 0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf and its regtest forms
 * bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080 (P2WPKH) and
 * mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r (P2PKH) were computed by
 * tests/chains/keylink_oracle.py, independently of chains/.
 *
 * What must hold: the revealing tx is recorded as spending from a
 * designated (linked) address; a later payment to the P2PKH form raises a
 * designated_address record with linked_from = the EVM address and the
 * revealing txid in evidence; a mempool tx reads links but never writes
 * one; disconnecting the revealing block removes exactly the links it made
 * (and their effect: a payment to the P2PKH form on the new branch raises
 * nothing); a replay batch gives the same records as block-by-block. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chains/addr.h"
#include "chains/bitcoin/script.h"
#include "chains/hex.h"
#include "chains/keylink.h"
#include "monitor/engine/pipeline.h"
#include "monitor/records/keys.h"
#include "tests/chain_build.h"
#include "tests/support.h"
#include "watchlists/keylink.h"
#include "watchlists/store/store.h"
#include "watchlists/watchlist.h"

#define G_COMP "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
#define G_EVM "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
#define G_P2WPKH "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
#define G_P2PKH "mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r"

static bool sink_collect(void *ctx, const char *line, size_t len)
{
    cw_buf_append(ctx, line, len, NULL);
    cw_buf_append(ctx, "\n", 1, NULL);
    return true;
}

/* Every record the sink got, parsed. */
static json_t *records_of(cw_buf *b)
{
    json_t *a = json_array();
    size_t start = 0;
    for (size_t i = 0; i < b->n; i++)
        if (b->p[i] == '\n') {
            json_t *r = json_loadb((const char *)b->p + start, i - start, 0, NULL);
            cr_assert_not_null(r, "a record that is not JSON");
            json_array_append_new(a, r);
            start = i + 1;
        }
    return a;
}

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

typedef struct {
    char *dir;
    cw_store *s;
    uint8_t sk[64];
    cw_buf out;
    pipeline *p;
} env;

/* A fresh datadir whose watchlist holds G's EVM address only, and a
 * pipeline on it (regtest, no REST, no flows). */
static void env_open(env *e)
{
    memset(e, 0, sizeof *e);
    e->dir = strdup("/tmp/cw-keylink-XXXXXX");
    cr_assert_not_null(mkdtemp(e->dir));
    cr_assert_eq(store_open(e->dir, 0, false, &e->s, NULL), CW_OK);
    char pub[65];
    bool created;
    cr_assert_eq(keys_create(e->dir, pub, &created, NULL), CW_OK);
    cr_assert_eq(keys_load_secret(e->dir, e->sk, NULL), CW_OK);
    wl_import *imp = wl_import_new("test", "csv");
    wl_import_allow_test_networks(imp, true);
    wl_entity *en = wl_import_entity(imp, "evm-front");
    wl_entity_set_name(en, "EVM front");
    wl_entity_add_program(en, "DPRK3");
    wl_import_address(imp, "evm-front", "ETH", G_EVM);
    wl_summary sum;
    cw_err err = {0};
    cr_assert_eq(wl_import_commit(e->s, imp, &sum, &err), CW_OK, "%s", err.msg);
    wl_import_free(imp);
    e->out = (cw_buf)CW_BUF_INIT;
    pipeline_config pc = {e->s, CW_NET_REGTEST, e->sk, sink_collect, NULL, &e->out, NULL, 0, NULL, false, NULL, NULL, NULL, NULL};
    cr_assert_eq(pipeline_open(&pc, &e->p, &err), CW_OK, "%s", err.msg);
}

static void env_close(env *e)
{
    pipeline_close(e->p);
    store_close(e->s);
    cw_buf_free(&e->out);
    sodium_memzero(e->sk, sizeof e->sk);
    test_remove_dir(e->dir);
}

static bool listed(env *e, const char *text)
{
    uint8_t key[WL_KEY_MAX];
    cw_addr a;
    cr_assert_eq(cw_addr_parse(text, CW_NET_REGTEST, &a, NULL), CW_OK, "%s", text);
    size_t kn = wl_key_from_addr(&a, key);
    store_txn *t;
    cr_assert_eq(store_begin(e->s, false, &t, NULL), CW_OK);
    bool l = false;
    cw_err err = {0};
    cr_assert_eq(wl_is_listed(t, key, kn, &l, &err), CW_OK, "%s", err.msg);
    store_abort(t);
    return l;
}

/* Every link in the table as "address<-root@height" lines, sorted by key. */
static char *links(env *e, size_t *n)
{
    store_txn *t;
    cr_assert_eq(store_begin(e->s, false, &t, NULL), CW_OK);
    store_cursor *c;
    cr_assert_eq(store_cursor_open(t, STORE_KEYLINK, &c, NULL), CW_OK);
    cw_span k, v;
    cw_buf b = CW_BUF_INIT;
    *n = 0;
    for (bool more = store_cursor_seek(c, NULL, 0, &k, &v); more; more = store_cursor_next(c, &k, &v)) {
        keylink_entry le;
        cr_assert_eq(keylink_get(t, k.p, k.n, &le, NULL), CW_OK);
        char line[300];
        snprintf(line, sizeof line, "%s<-%s@%lld;", le.text, le.root_text, (long long)le.height);
        cw_buf_append(&b, line, strlen(line), NULL);
        (*n)++;
    }
    cr_assert_eq(store_cursor_error(c, NULL), CW_OK);
    store_cursor_close(c);
    store_abort(t);
    cw_buf_append(&b, "", 1, NULL);
    return (char *)b.p;
}

typedef struct {
    cb_chain c;
    cw_addr miner, other, g_wpkh, g_pkh;
    cb_tx reveal, pay_pkh, pay_pkh_b;
    size_t b0, b1, b2, b1b;
} scenario;

/* b0: coinbase pays G's P2WPKH (before anyone knows the key) and the miner;
 * b1: `reveal` spends that output with G's key in its witness;
 * b2: `pay_pkh` pays G's P2PKH from b1's coinbase;
 * b1b (on b0, the other branch): `pay_pkh_b` pays G's P2PKH, no reveal. */
static void build(scenario *sc)
{
    memset(sc, 0, sizeof *sc);
    cb_chain_init(&sc->c, CW_NET_REGTEST);
    sc->miner = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 1);
    sc->other = cb_addr_make(CW_NET_REGTEST, CW_ADDR_P2WPKH, 2);
    sc->g_wpkh = cb_addr_parse(G_P2WPKH, CW_NET_REGTEST);
    sc->g_pkh = cb_addr_parse(G_P2PKH, CW_NET_REGTEST);
    cb_pay p0[2] = {{sc->g_wpkh, 5000000000ull}, {sc->miner, 1000}};
    sc->b0 = cb_chain_mine(&sc->c, -1, p0, 2, NULL, 0);
    cb_coin g_coin = cb_chain_coinbase_coin(&sc->c, sc->b0, 0);

    cb_input in = {{0}, 0, CB_SPEND_WPKH, {0x30, 69}, {0}};
    memcpy(in.prev_txid, g_coin.txid, 32);
    in.prev_vout = g_coin.vout;
    in.sig[71] = 0x01;
    size_t n;
    cr_assert_eq(cw_hex_decode(G_COMP, 66, in.pubkey, 33, &n, NULL), CW_OK);
    cb_output o = {4999990000ull, {0}, 0};
    o.script_len = btc_script_for_addr(&sc->other, o.script);
    sc->reveal = (cb_tx)CB_TX_INIT;
    cb_tx_serialize(&sc->reveal, &in, 1, &o, 1);
    const cb_tx *t1[] = {&sc->reveal};
    cb_pay p1[1] = {{sc->miner, 5000000000ull}};
    sc->b1 = cb_chain_mine(&sc->c, (long)sc->b0, p1, 1, t1, 1);

    cb_coin m1 = cb_chain_coinbase_coin(&sc->c, sc->b1, 0);
    cb_pay to_pkh[1] = {{sc->g_pkh, 123456789}};
    sc->pay_pkh = (cb_tx)CB_TX_INIT;
    cb_tx_pay(&sc->pay_pkh, &m1, 1, to_pkh, 1);
    const cb_tx *t2[] = {&sc->pay_pkh};
    sc->b2 = cb_chain_mine(&sc->c, (long)sc->b1, p1, 1, t2, 1);

    cb_coin m0 = cb_chain_coinbase_coin(&sc->c, sc->b0, 1);
    cb_pay to_pkh_b[1] = {{sc->g_pkh, 777}};
    sc->pay_pkh_b = (cb_tx)CB_TX_INIT;
    cb_tx_pay(&sc->pay_pkh_b, &m0, 1, to_pkh_b, 1);
    const cb_tx *t3[] = {&sc->pay_pkh_b};
    sc->b1b = cb_chain_mine(&sc->c, (long)sc->b0, p1, 1, t3, 1);
}

static void scenario_free(scenario *sc)
{
    cb_tx_free(&sc->reveal);
    cb_tx_free(&sc->pay_pkh);
    cb_tx_free(&sc->pay_pkh_b);
    cb_chain_free(&sc->c);
}

static void connect(env *e, const scenario *sc, size_t b)
{
    cw_err err = {0};
    const cb_block *blk = &sc->c.blocks[b];
    cr_assert_eq(pipeline_connect_at(e->p, blk->raw.p, blk->raw.n, blk->height, &err), CW_OK, "%s", err.msg);
}

static void disconnect_tip(env *e, const scenario *sc, size_t b)
{
    uint8_t body[33];
    for (int i = 0; i < 32; i++)
        body[i] = sc->c.blocks[b].hash[31 - i];
    body[32] = 'D';
    cw_err err = {0};
    cr_assert_eq(pipeline_sequence(e->p, body, sizeof body, &err), CW_OK, "%s", err.msg);
}

/* The G forms a reveal links, each "<- root @ height" (sorted by key:
 * bitcoin's 'a' keys by network space and kind). Not Tron: the import
 * linked it to the listed EVM address already. */
#define ALL_LINKS(h)                                                                                                   \
    "mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r<-" G_EVM "@" h ";"                                                           \
    "mtoKs9V381UAhUia3d7Vb9GNak8Qvmcsme<-" G_EVM "@" h ";"                                                           \
    "2NAUYAHhujozruyzpsFRP63mbrdaU5wnEpN<-" G_EVM "@" h ";"                                                          \
    "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080<-" G_EVM "@" h ";"                                                 \
    "bcrt1pmfr3p9j00pfxjh0zmgp99y8zftmd3s5pmedqhyptwy6lm87hf5ssm803es<-" G_EVM "@" h ";"

Test(keylink_engine, reveal_links_every_form_and_a_reorg_takes_it_back, .timeout = 60)
{
    scenario sc;
    build(&sc);
    env e;
    env_open(&e);
    char t1[65], t2[65];
    cb_txid_hex(sc.reveal.txid, t1);
    cb_txid_hex(sc.pay_pkh.txid, t2);

    connect(&e, &sc, sc.b0);
    cr_assert(!listed(&e, G_P2PKH) && !listed(&e, G_P2WPKH), "nothing links before the key is seen");
    /* the reveal in the mempool: read, never written */
    cw_err err = {0};
    cr_assert_eq(pipeline_tx(e.p, sc.reveal.full.p, sc.reveal.full.n, &err), CW_OK, "%s", err.msg);
    size_t n;
    free(links(&e, &n));
    cr_assert_eq(n, 0, "a mempool tx wrote %zu links", n);
    cr_assert_eq(e.out.n, 0, "no record before the key is linked: %.*s", (int)e.out.n, (char *)e.out.p);

    connect(&e, &sc, sc.b1);
    char *l = links(&e, &n);
    cr_assert_str_eq(l, ALL_LINKS("1"));
    cr_assert_eq(n, 5);
    free(l);
    cr_assert(listed(&e, G_P2PKH) && listed(&e, G_P2WPKH));
    {   /* `watchlist lookup` shows the link and where the key was seen (exit 0: listed) */
        char *argv[] = {CW_BIN, "watchlist", "lookup", G_P2PKH, "--datadir", e.dir, NULL};
        char *out, *errout;
        cr_assert_eq(run_cmd(argv, NULL, 0, &out, &errout), 0, "%s", errout);
        json_t *j = json_loads(out, 0, NULL);
        cr_assert_not_null(j, "%s", out);
        json_t *d = json_array_get(json_object_get(j, "designations"), 0);
        cr_assert_not_null(d, "%s", out);
        cr_assert_str_eq(str(d, "linked_from"), G_EVM, "%s", out);
        cr_assert_str_eq(str(d, "listed_as"), G_P2PKH);
        cr_assert_str_eq(str(d, "uid"), "evm-front");
        cr_assert_str_eq(str(json_object_get(d, "revealed_in"), "txid"), t1, "%s", out);
        cr_assert_str_eq(str(json_object_get(d, "revealed_in"), "chain"), "bitcoin");
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(d, "revealed_in"), "height")), 1);
        json_decref(j);
        free(out), free(errout);
    }
    pipeline_stats st;
    pipeline_stats_get(e.p, &st);
    cr_assert_eq(st.keylink.designated, 1);
    cr_assert_eq(st.keylink.links, 5);

    /* a mempool payment to the P2PKH form reads the link */
    cr_assert_eq(pipeline_tx(e.p, sc.pay_pkh.full.p, sc.pay_pkh.full.n, &err), CW_OK, "%s", err.msg);
    connect(&e, &sc, sc.b2);
    json_t *recs = records_of(&e.out);
    cr_assert_eq(json_array_size(recs), 3, "reveal confirmed, payment mempool + confirmed: %.*s", (int)e.out.n,
                 (char *)e.out.p);
    json_t *rev = json_array_get(recs, 0), *mp = json_array_get(recs, 1), *cf = json_array_get(recs, 2);
    cr_assert_str_eq(str(rev, "rule"), "designated_address");
    cr_assert_str_eq(str(rev, "txid"), t1);
    cr_assert_str_eq(str(rev, "status"), "confirmed");
    cr_assert_str_eq(str(rev, "direction"), "from_designated");
    cr_assert_str_eq(str(rev, "address"), G_P2WPKH);
    cr_assert_str_eq(str(rev, "linked_from"), G_EVM);
    cr_assert_eq(json_array_size(json_object_get(rev, "evidence")), 1, "the tx is its own reveal");
    cr_assert_str_eq(str(json_object_get(rev, "entity"), "uid"), "evm-front");
    cr_assert_str_eq(str(json_object_get(rev, "entity"), "name"), "EVM front");
    cr_assert_str_eq(str(rev, "decision"), "hold");
    for (int i = 0; i < 2; i++) {
        json_t *r = i ? cf : mp;
        cr_assert_str_eq(str(r, "status"), i ? "confirmed" : "mempool");
        cr_assert_str_eq(str(r, "txid"), t2);
        cr_assert_str_eq(str(r, "direction"), "to_designated");
        cr_assert_str_eq(str(r, "address"), G_P2PKH);
        cr_assert_str_eq(str(r, "linked_from"), G_EVM);
        json_t *ev = json_object_get(r, "evidence");
        cr_assert_eq(json_array_size(ev), 2);
        cr_assert_str_eq(json_string_value(json_array_get(ev, 0)), t2);
        cr_assert_str_eq(json_string_value(json_array_get(ev, 1)), t1, "the revealing tx is evidence");
        cr_assert_eq(json_integer_value(json_object_get(r, "amount")), 123456789);
    }
    cr_assert_str_eq(str(mp, "id"), str(cf, "id"), "mempool -> confirmed keeps the id");
    json_decref(recs);

    /* disconnect b2: the links stay (b1 made them) */
    e.out.n = 0;
    disconnect_tip(&e, &sc, sc.b2);
    l = links(&e, &n);
    cr_assert_str_eq(l, ALL_LINKS("1"));
    free(l);
    /* disconnect b1, the revealing block: its links go, exactly */
    disconnect_tip(&e, &sc, sc.b1);
    free(links(&e, &n));
    cr_assert_eq(n, 0);
    cr_assert(!listed(&e, G_P2PKH) && !listed(&e, G_P2WPKH) && listed(&e, G_EVM));
    recs = records_of(&e.out);
    cr_assert_eq(json_array_size(recs), 2, "two reorged records: %.*s", (int)e.out.n, (char *)e.out.p);
    cr_assert_str_eq(str(json_array_get(recs, 0), "status"), "reorged");
    cr_assert_str_eq(str(json_array_get(recs, 0), "txid"), t2);
    cr_assert_str_eq(str(json_array_get(recs, 1), "txid"), t1);
    json_decref(recs);
    /* the other branch pays G's P2PKH with no reveal: nothing to say */
    e.out.n = 0;
    connect(&e, &sc, sc.b1b);
    cr_assert_eq(e.out.n, 0, "the link's effect is gone: %.*s", (int)e.out.n, (char *)e.out.p);
    env_close(&e);
    scenario_free(&sc);
}

/* Records without what differs between runs by design. */
static char *canonical(cw_buf *out)
{
    json_t *recs = records_of(out);
    cw_buf b = CW_BUF_INIT;
    size_t i;
    json_t *r;
    json_array_foreach(recs, i, r)
    {
        json_object_del(r, "seen_at");
        json_object_del(r, "sig");
        json_object_del(r, "seq");
        json_object_del(r, "prev");
        char *s = json_dumps(r, JSON_SORT_KEYS | JSON_COMPACT);
        cw_buf_append(&b, s, strlen(s), NULL);
        cw_buf_append(&b, "\n", 1, NULL);
        free(s);
    }
    json_decref(recs);
    cw_buf_append(&b, "", 1, NULL);
    return (char *)b.p;
}

typedef struct {
    const scenario *sc;
    const size_t *idx;
    size_t n;
} batch_ctx;

static cw_code batch_fn(pipeline *p, void *arg, cw_err *err)
{
    batch_ctx *b = arg;
    for (size_t i = 0; i < b->n; i++) {
        const cb_block *blk = &b->sc->c.blocks[b->idx[i]];
        cw_code rc = pipeline_connect_at(p, blk->raw.p, blk->raw.n, blk->height, err);
        if (rc)
            return rc;
    }
    return CW_OK;
}

Test(keylink_engine, replay_batch_gives_the_live_records, .timeout = 60)
{
    scenario sc;
    build(&sc);
    env live, replay;
    env_open(&live);
    env_open(&replay);
    size_t order[3] = {sc.b0, sc.b1, sc.b2};
    for (size_t i = 0; i < 3; i++)
        connect(&live, &sc, order[i]);
    batch_ctx bc = {&sc, order, 3};
    cw_err err = {0};
    cr_assert_eq(pipeline_batch(replay.p, batch_fn, &bc, &err), CW_OK, "%s", err.msg);
    char *a = canonical(&live.out), *b = canonical(&replay.out);
    cr_assert_str_eq(a, b);
    cr_assert_neq(strstr(a, "\"linked_from\":\"" G_EVM "\""), NULL, "%s", a);
    size_t na, nb;
    char *la = links(&live, &na), *lb = links(&replay, &nb);
    cr_assert_str_eq(la, lb);
    cr_assert_eq(na, 5);
    free(a), free(b), free(la), free(lb);
    env_close(&live);
    env_close(&replay);
    scenario_free(&sc);
}
