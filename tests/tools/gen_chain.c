/*
 * cw_genchain: writes a synthetic but valid Bitcoin block directory for
 * tests and benchmarks: real serialization, real txids, merkle roots and
 * witness commitments, blk?????.dat records (optionally xor-obfuscated
 * with an xor.dat key, as Bitcoin Core 28+ writes them).
 *
 * Shapes: P2WPKH/P2TR/P2PKH/P2SH outputs, 1-5 inputs and 2-3 outputs per
 * tx spending earlier outputs (mostly recent ones, see pool_take), a
 * fan-in consolidation every 200th tx, and payments to chosen addresses
 * (by default in every 10th tx; --pay-every N). The same seed gives identical files.
 * Signatures are random bytes of the right size: chainwatch does not
 * verify scripts or proof of work, and neither does this generator. The
 * bytes are written by tests/chain_build.c, the serializer the tests'
 * hand-made chains use too; this file only picks the shapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/bitcoin/script.h"
#include "chains/buf.h"
#include "tests/chain_build.h"
#include "gen_scenario.h"

static uint64_t rng;
static uint64_t next_rand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng * 0x2545F4914F6CDD1Dull;
}
static uint64_t rand_below(uint64_t n) { return n ? next_rand() % n : 0; }
static void rand_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)next_rand();
}

typedef struct {
    uint8_t txid[32];
    uint32_t vout;
    uint64_t value;
    uint8_t kind; /* 0 p2wpkh, 1 p2tr, 2 p2pkh, 3 p2sh */
} coin;

static coin *pool;
static size_t n_pool, cap_pool;
static bool spend_paid; /* --spend-paid: payments to the chosen addresses are spent on like any output */

static void pool_add(const uint8_t txid[32], uint32_t vout, uint64_t value, uint8_t kind)
{
    if (n_pool == cap_pool) {
        cap_pool = cap_pool ? cap_pool * 2 : 1 << 16;
        pool = realloc(pool, cap_pool * sizeof *pool);
    }
    coin *c = &pool[n_pool++];
    memcpy(c->txid, txid, 32);
    c->vout = vout;
    c->value = value;
    c->kind = kind;
}

/* Like real chains, most outputs are spent soon after they are made: two
 * spends in three take one of the newest 20,000 coins (a few blocks' worth
 * at bench sizes), the rest any coin at all. Swap-removal keeps that window
 * made of recent coins: the last coin moves into the hole. */
static coin pool_take(void)
{
    size_t window = n_pool < 20000 ? n_pool : 20000;
    size_t i = rand_below(3) < 2 ? n_pool - 1 - (size_t)rand_below(window) : (size_t)rand_below(n_pool);
    coin c = pool[i];
    pool[i] = pool[--n_pool];
    return c;
}

static size_t random_script(uint8_t kind, uint8_t *s)
{
    switch (kind) {
    case 0: s[0] = 0x00, s[1] = 20, rand_bytes(s + 2, 20); return 22;
    case 1: s[0] = 0x51, s[1] = 32, rand_bytes(s + 2, 32); return 34;
    case 2: s[0] = 0x76, s[1] = 0xa9, s[2] = 20, rand_bytes(s + 3, 20), s[23] = 0x88, s[24] = 0xac; return 25;
    default: s[0] = 0xa9, s[1] = 20, rand_bytes(s + 2, 20), s[22] = 0x87; return 23;
    }
}

/* Inputs from the pool, outputs to random scripts (or the chosen ones);
 * serialized by chain_build (the tests' serializer too). */
static void build_tx(cb_tx *t, size_t n_in, size_t n_out, const cw_addr *pay, size_t n_pay)
{
    coin in[64];
    uint64_t total = 0;
    for (size_t i = 0; i < n_in; i++) {
        in[i] = pool_take();
        total += in[i].value;
    }
    uint64_t fee = 200 * (n_in + n_out), avail = total > fee ? total - fee : 0;
    uint8_t kinds[8];
    cb_output outs[8];
    cb_input ins[64];
    for (size_t o = 0; o < n_out; o++) {
        outs[o].value = o + 1 == n_out ? avail : avail / n_out;
        avail -= o + 1 == n_out ? 0 : outs[o].value;
        if (pay && n_pay && o == 0) {
            const cw_addr *pa = &pay[rand_below(n_pay)];
            outs[o].script_len = btc_script_for_addr(pa, outs[o].script);
            /* not re-spent unless asked: keeps the chosen addresses' outputs for analysts */
            kinds[o] = !spend_paid ? 255 : pa->kind == CW_ADDR_P2WPKH ? 0 : pa->kind == CW_ADDR_P2TR ? 1 : pa->kind == CW_ADDR_P2PKH ? 2 : 3;
        } else {
            kinds[o] = (uint8_t)rand_below(4);
            outs[o].script_len = random_script(kinds[o], outs[o].script);
        }
    }
    for (size_t i = 0; i < n_in; i++) {
        cb_input *x = &ins[i];
        memcpy(x->prev_txid, in[i].txid, 32);
        x->prev_vout = in[i].vout;
        x->spend = in[i].kind >= 2 ? CB_SPEND_LEGACY : in[i].kind == 0 ? CB_SPEND_WPKH : CB_SPEND_TR;
        uint8_t sig[73];
        rand_bytes(sig, sizeof sig);
        sig[0] = 0x30, sig[1] = 70;
        memcpy(x->sig, sig, 72);
        rand_bytes(x->pubkey, 33);
        x->pubkey[0] = 0x02;
    }
    cb_tx_serialize(t, ins, n_in, outs, n_out);
    for (size_t o = 0; o < n_out; o++)
        if (kinds[o] != 255)
            pool_add(t->txid, (uint32_t)o, outs[o].value, kinds[o]);
}

int main(int argc, char **argv)
{
    const char *out = NULL, *netname = "regtest";
    long blocks = 100, per_block = 100;
    uint64_t seed = 1;
    bool xor = false;
    long pay_every = 10;
    uint64_t start_time = 1700000000; /* block 0's time; each next block 600 s later */
    cw_addr pay[16];
    size_t n_pay = 0;
    const char *scenario = NULL, *truth = NULL, *prices = NULL, *plan = NULL;
    uint64_t interval = 600;
    static cw_addr exch[64];
    cw_addr facilitator;
    bool have_facilitator = false;
    scen_opts so = {.itw_networks = 4, .employees = 500, .freelancers = 100, .contributors = 80, .exchanges = exch};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--out") == 0 && v) out = v, i++;
        else if (strcmp(a, "--blocks") == 0 && v) blocks = atol(v), i++;
        else if (strcmp(a, "--txs-per-block") == 0 && v) per_block = atol(v), i++;
        else if (strcmp(a, "--seed") == 0 && v) seed = strtoull(v, NULL, 10), i++;
        else if (strcmp(a, "--network") == 0 && v) netname = v, i++;
        else if (strcmp(a, "--xor") == 0) xor = true;
        else if (strcmp(a, "--pay-every") == 0 && v) pay_every = atol(v), i++;
        else if (strcmp(a, "--spend-paid") == 0) spend_paid = true;
        else if (strcmp(a, "--scenario") == 0 && v) scenario = v, i++;
        else if (strcmp(a, "--truth") == 0 && v) truth = v, i++;
        else if (strcmp(a, "--prices") == 0 && v) prices = v, i++;
        else if (strcmp(a, "--account-plan") == 0 && v) plan = v, i++;
        else if (strcmp(a, "--block-interval") == 0 && v) interval = strtoull(v, NULL, 10), i++;
        else if (strcmp(a, "--itw-networks") == 0 && v) so.itw_networks = (unsigned)atol(v), i++;
        else if (strcmp(a, "--employees") == 0 && v) so.employees = (unsigned)atol(v), i++;
        else if (strcmp(a, "--freelancers") == 0 && v) so.freelancers = (unsigned)atol(v), i++;
        else if (strcmp(a, "--contributors") == 0 && v) so.contributors = (unsigned)atol(v), i++;
        else if ((strcmp(a, "--exchange") == 0 || strcmp(a, "--facilitator") == 0) && v) {
            cw_err err;
            cw_addr x;
            if (cw_addr_parse(v, CW_NET_ANY, &x, &err)) {
                fprintf(stderr, "cw_genchain: %s %s: %s\n", a, v, err.msg);
                return 2;
            }
            if (a[2] == 'f')
                facilitator = x, have_facilitator = true;
            else if (so.n_exchanges < 64)
                exch[so.n_exchanges++] = x;
            i++;
        }
        else if (strcmp(a, "--start-time") == 0 && v) start_time = strtoull(v, NULL, 10), i++;
        else if (strcmp(a, "--pay") == 0 && v && n_pay < 16) {
            cw_err err;
            if (cw_addr_parse(v, CW_NET_ANY, &pay[n_pay], &err)) {
                fprintf(stderr, "cw_genchain: --pay %s: %s\n", v, err.msg);
                return 2;
            }
            n_pay++, i++;
        } else {
            fprintf(stderr, "usage: cw_genchain --out DIR [--blocks N] [--txs-per-block M] [--seed S] [--xor]\n"
                            "                   [--network regtest|main|...] [--pay ADDR]... [--pay-every N]\n"
                            "                   [--start-time UNIX] [--spend-paid] [--block-interval SECONDS]\n"
                            "                   [--scenario payroll --truth FILE --prices FILE --exchange ADDR...\n"
                            "                    --facilitator ADDR --itw-networks N --employees N --freelancers N\n"
                            "                    --contributors N]\n"
                            "       cw_genchain --scenario payroll --account-plan FILE --truth FILE --exchange 0xADDR...\n"
                            "                   [--facilitator 0xADDR] [--prices FILE] [--seed S] [--blocks N]\n"
                            "                   [--block-interval SECONDS] [--start-time UNIX] [--itw-networks N] ...\n");
            return 2;
        }
    }
    if (plan) { /* account mode: the scenario alone, as token transfers (gen_scenario.h) */
        bool evm = true;
        for (size_t k = 0; k < so.n_exchanges; k++)
            evm = evm && exch[k].chain == CW_CHAIN_EVM;
        if (have_facilitator)
            evm = evm && facilitator.chain == CW_CHAIN_EVM;
        if (scenario == NULL || strcmp(scenario, "payroll") != 0 || truth == NULL || so.n_exchanges == 0 || !evm ||
            blocks < 1 || interval < 1) {
            fprintf(stderr, "cw_genchain: --account-plan needs --scenario payroll, --truth FILE and --exchange 0xADDR "
                            "(EVM addresses only)\n");
            return 2;
        }
        rng = seed * 0x9E3779B97F4A7C15ull + 1;
        start_time -= start_time % 86400;
        so.start_time = start_time;
        so.end_time = start_time + (uint64_t)blocks * interval;
        so.facilitator = have_facilitator ? &facilitator : NULL;
        so.net = CW_NET_MAIN;
        so.account = true;
        scen_init(&so, next_rand);
        int bad = scen_write_plan(plan) != 0 || scen_write_truth(truth) != 0 || (prices && scen_write_prices(prices) != 0);
        scen_free();
        if (bad) {
            fprintf(stderr, "cw_genchain: cannot write %s, %s%s%s\n", plan, truth, prices ? " or " : "", prices ? prices : "");
            return 1;
        }
        printf("cw_genchain: scenario payroll (seed %llu) as account payments: plan in %s, ground truth in %s\n",
               (unsigned long long)seed, plan, truth);
        return 0;
    }
    cw_net net;
    if (out == NULL || blocks < 1 || per_block < 0 || pay_every < 1 || !cw_net_from_name(netname, &net)) {
        fprintf(stderr, "cw_genchain: --out DIR is required; --blocks >= 1; --pay-every >= 1; a known --network\n");
        return 2;
    }
    if (scenario && (strcmp(scenario, "payroll") != 0 || truth == NULL || prices == NULL || so.n_exchanges == 0 ||
                     interval < 1)) {
        fprintf(stderr, "cw_genchain: --scenario payroll needs --truth FILE, --prices FILE and --exchange ADDR\n");
        return 2;
    }
    rng = seed * 0x9E3779B97F4A7C15ull + 1;
    if (scenario) {
        start_time -= start_time % 86400; /* days of the price file start at midnight UTC */
        so.start_time = start_time;
        so.end_time = start_time + (uint64_t)blocks * interval;
        so.facilitator = have_facilitator ? &facilitator : NULL;
        so.net = net;
        scen_init(&so, next_rand);
    }
    if (cb_mkdirs(out) != 0) {
        perror(out);
        return 1;
    }
    uint8_t key[8] = {0};
    if (xor) {
        rand_bytes(key, 8);
        if (cb_write_xor_key(out, key) != 0) {
            perror(out);
            return 1;
        }
    }
    cw_buf blk = CW_BUF_INIT, file = CW_BUF_INIT;
    cb_header hdr = {.version = 0x20000000, .bits = 0x207fffff};
    cb_tx *txs = calloc((size_t)per_block + 1, sizeof *txs);
    size_t body_cap = (size_t)per_block + 1;
    const cb_tx **body = malloc(body_cap * sizeof *body);
    int file_no = 0;
    uint64_t total_txs = 0;
    for (long h = 0; h < blocks; h++) {
        /* coinbase: BIP-34 height, 50 BTC to a fresh P2WPKH, witness commitment */
        size_t n = 0;
        for (long k = 0; k < per_block && n_pool > 8; k++) {
            /* mostly 1-2 inputs (payments), sometimes up to 5, a consolidation every 200th */
            static const uint8_t spread[20] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 5};
            size_t n_in = (k + 1) % 200 == 0 ? 20 + (size_t)rand_below(31) : spread[rand_below(20)];
            if (n_in > n_pool - 4)
                n_in = 1;
            build_tx(&txs[1 + n], n_in, 2 + (size_t)rand_below(2), pay, (k % pay_every == 0) ? n_pay : 0);
            body[n] = &txs[1 + n];
            n++;
        }
        hdr.time = (uint32_t)(start_time + (uint64_t)h * interval);
        if (scenario && h > 0) { /* the scenario's txs due in this block's time */
            cb_tx *st;
            size_t ns = scen_block(hdr.time, hdr.time + interval, &st);
            if (n + ns > body_cap) {
                body_cap = n + ns;
                body = realloc(body, body_cap * sizeof *body);
            }
            for (size_t k = 0; k < ns; k++)
                body[n++] = &st[k];
        }
        /* the first block seeds the pool with many outputs, so txs start at once */
        size_t n_cb_out = h == 0 ? 4000 : 1;
        cb_output *fund = NULL;
        size_t n_fund = h == 0 && scenario ? scen_funding(&fund) : 0;
        cb_output *cb_out = malloc((n_cb_out + n_fund) * sizeof *cb_out);
        for (size_t o = 0; o < n_cb_out; o++) {
            cb_out[o].value = 5000000000ull / n_cb_out;
            cb_out[o].script_len = random_script(0, cb_out[o].script);
        }
        for (size_t o = 0; o < n_fund; o++)
            cb_out[n_cb_out + o] = fund[o];
        free(fund);
        static const uint8_t tail[1] = {0x51}; /* OP_1 after the height */
        hdr.nonce = (uint32_t)h;
        hdr.height = h;
        uint8_t hash[32];
        cb_block_serialize(&blk, hash, &hdr, &txs[0], tail, sizeof tail, cb_out, n_cb_out + n_fund, body, n);
        if (n_fund)
            scen_funded(txs[0].txid, (uint32_t)n_cb_out);
        memcpy(hdr.prev, hash, 32);
        /* coinbase outputs join the pool (no maturity: nothing here validates it) */
        for (size_t o = 0; o < n_cb_out; o++)
            pool_add(txs[0].txid, (uint32_t)o, cb_out[o].value, 0);
        free(cb_out);
        total_txs += n + 1;
        if (file.n + blk.n + 8 > (128u << 20) || h + 1 == blocks) {
            if (h + 1 == blocks || file.n == 0)
                cb_blk_record(&file, net, blk.p, blk.n);
            char fp[4096];
            snprintf(fp, sizeof fp, "%s/blk%05d.dat", out, file_no++);
            if (cb_write_blk(fp, &file, xor ? key : NULL) != 0) {
                perror(fp);
                return 1;
            }
            file.n = 0;
            if (h + 1 == blocks)
                break;
        }
        cb_blk_record(&file, net, blk.p, blk.n);
    }
    printf("cw_genchain: %ld blocks, %llu txs, %d files%s in %s (seed %llu)\n", blocks, (unsigned long long)total_txs,
           file_no, xor ? ", xor-obfuscated" : "", out, (unsigned long long)seed);
    if (scenario) {
        if (scen_write_truth(truth) != 0 || scen_write_prices(prices) != 0) {
            perror(truth);
            return 1;
        }
        scen_free();
        printf("cw_genchain: scenario payroll: ground truth in %s, prices in %s\n", truth, prices);
    }
    for (long i = 0; i <= per_block; i++)
        cb_tx_free(&txs[i]);
    free(txs), free(body), free(pool);
    cw_buf_free(&blk), cw_buf_free(&file);
    return 0;
}
