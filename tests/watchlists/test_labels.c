/* Service labels: the real services.csv (20,531 rows of graphsense and
 * etherscan label sets), lookups by any text form of an address, and
 * malformed files refused with their line. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chains/addr.h"
#include "tests/support.h"
#include "watchlists/labels.h"
#include "watchlists/watchlist.h"

#define SERVICES CW_DATA_DIR "/labels/services.csv"

static labels *services;
static labels_stats services_st;

static void load_services(void)
{
    cw_err err = {0};
    cr_assert_eq(labels_load(SERVICES, CW_NET_MAIN, &services, &services_st, &err), CW_OK, "%s", err.msg);
}

static void free_services(void) { labels_free(services); }

static const label *find_text(const labels *l, const char *text)
{
    cw_addr a;
    cw_err err = {0};
    cr_assert_eq(cw_addr_parse(text, CW_NET_ANY, &a, &err), CW_OK, "%s: %s", text, err.msg);
    return labels_find(l, &a);
}

/* ---------- the real file ---------- */

/* Counts checked independently of this code (Python's csv module, plus a
 * base58check/bech32/bech32m check of every address, on the same file):
 * 20,531 rows, 2 addresses that do not decode for their chain, 20,465
 * distinct addresses (64 rows label an address a second or third time).
 * SOURCES.md's per-category counts are for another cut of the file (they
 * sum to 21,679, not 20,531: BTC exchange 5,746, ETH dex 8,566, ETH
 * exchange 1,419, TRON exchange 36 ...); these are the file's. */
Test(labels, services_csv_counts, .init = load_services, .fini = free_services)
{
    const labels_stats *st = &services_st;
    cr_assert_eq(st->rows, 20531);
    cr_assert_eq(st->loaded, 20529);
    cr_assert_eq(st->unparsable, 2);
    cr_assert_eq(st->other_chain, 0);
    cr_assert_eq(st->addresses, 20465);
    cr_assert_eq(st->repeated, 64);
    cr_assert_eq(st->categories_over, 0);
    /* a Polkadot address filed under BTC */
    cr_assert_eq(strncmp(st->first_unparsable, "line 11899: 1UJSCYLh44UYhkm1WwXAwT2W8nirTD74VzPsdhfsstY8S3u: ", 61),
                 0, "%s", st->first_unparsable);

    static const struct {
        const char *chain, *category;
        size_t count;
    } want[] = {
        {"BTC", "exchange", 5735}, /* 5,736 rows, one of them the Polkadot address */
        {"BTC", "coinjoin", 2002},
        {"BTC", "custodial_wallet", 261},
        {"BTC", "mixer", 156},
        {"BTC", "service", 133},
        {"BTC", "gambling", 63},
        {"BTC", "miner", 26},
        {"BTC", "sanctioned_actor", 26},
        {"BTC", "market", 16},
        {"ETH", "dex", 8345},
        {"ETH", "exchange", 1020},
        {"ETH", "stablecoin_blocklisted", 819},
        {"ETH", "defi", 719},
        {"ETH", "defi_lending", 548},
        {"ETH", "bridge", 268},
        {"ETH", "market", 224},
        {"ETH", "mixer", 90},
        {"ETH", "instant_swapper", 19},
        {"ETH", "otc", 13},
        {"ETH", "payment_processor", 12},
        {"ETH", "bridge_exploit", 6},
        {"ETH", "sanctioned_actor", 1},
        {"TRON", "exchange", 27}, /* 28 rows, one of them not a Tron address */
    };
    size_t sum = 0;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t got = labels_stats_count(st, want[i].chain, want[i].category);
        cr_assert_eq(got, want[i].count, "%s %s: %zu, want %zu", want[i].chain, want[i].category, got, want[i].count);
        sum += got;
    }
    cr_assert_eq(st->n_categories, sizeof want / sizeof want[0]);
    cr_assert_eq(sum, st->loaded);
    cr_assert_eq(labels_stats_count(st, "bitcoin", "coinjoin"), 2002, "aliases of the chain count too");
    cr_assert_eq(labels_stats_count(st, "BTC", "dex"), 0);
}

Test(labels, services_csv_lookups, .init = load_services, .fini = free_services)
{
    const label *l = find_text(services, "1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s");
    cr_assert_not_null(l);
    cr_assert_str_eq(l->entity, "binance.com");
    cr_assert_str_eq(l->category, "exchange");
    cr_assert_str_eq(l->source, "graphsense/graphsense-tagpacks");
    cr_assert_str_eq(l->chain, "BTC");
    cr_assert_str_eq(l->address, "1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s");
    cr_assert_null(l->next);

    /* P2SH, P2WPKH, P2WSH; bech32 found in either case */
    l = find_text(services, "3NDzzVxiLBUs1WPvVGRfCYDTAD2Ua2PvW4");
    cr_assert(l && strcmp(l->entity, "Blender.io") == 0 && strcmp(l->category, "mixer") == 0);
    l = find_text(services, "BC1QNFU52L5VGG0GF2HW98EPFVUPVEEPNQ7TG5L75H");
    cr_assert(l && strcmp(l->entity, "Samourai Wallet") == 0 && strcmp(l->category, "coinjoin") == 0);
    cr_assert_str_eq(l->address, "bc1qnfu52l5vgg0gf2hw98epfvupveepnq7tg5l75h", "the text as the file has it");
    l = find_text(services, "bc1qgdjqv0av3q56jvd82tkdjpy7gdp9ut8tlqmgrpmv24sq90ecnvqqjwvw97");
    cr_assert(l && strcmp(l->entity, "bitfinex BTC cold wallet") == 0);
    cr_assert_eq(l->line, 11895);

    /* no entity: 413 rows (blocklisted addresses mostly) name none */
    l = find_text(services, "0x49812738c5c5c3f05622fcbfd192a330ba46a7d5");
    cr_assert(l && strcmp(l->entity, "") == 0 && strcmp(l->category, "exchange") == 0 && l->line == 4233);

    /* a quoted entity with a comma */
    l = find_text(services, "0xfd8610d20aa15b7b2e3be39b396a1bc3516c7144");
    cr_assert(l && strcmp(l->entity, "Tornado.Cash: 1,000 DAI") == 0 && strcmp(l->category, "mixer") == 0);

    /* an address the file labels twice: both labels, in file order, found
     * through its EIP-55 (mixed-case) form too */
    cw_addr a;
    cr_assert_eq(cw_addr_parse("0x8ed95d1746bf1e4dab58d8ed4724f1ef95b20db0", CW_NET_ANY, &a, NULL), CW_OK);
    char eip55[CW_ADDR_TEXT_MAX];
    cr_assert_gt(cw_addr_format(&a, eip55, sizeof eip55), 0);
    cr_assert_str_neq(eip55, "0x8ed95d1746bf1e4dab58d8ed4724f1ef95b20db0");
    l = find_text(services, eip55);
    cr_assert_not_null(l);
    cr_assert_str_eq(l->entity, "0x: Erc20 Bridge Proxy");
    cr_assert_str_eq(l->category, "bridge");
    cr_assert_not_null(l->next);
    cr_assert_str_eq(l->next->category, "dex");
    cr_assert_gt(l->next->line, l->line);
    cr_assert_null(l->next->next);

    l = find_text(services, "TV6MuMXfmLbBqPZvBHdwFsDnQeVfnmiuSi");
    cr_assert(l && strcmp(l->entity, "binance reserve wallets USDC") == 0 && strcmp(l->chain, "TRON") == 0);

    /* not known services: the genesis coinbase address; an OFAC-listed one;
     * the Tron account with the same 20 bytes as a labelled EVM account */
    cr_assert_null(find_text(services, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"));
    cr_assert_null(find_text(services, "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ"));
    cr_assert_eq(cw_addr_parse("0xfd8610d20aa15b7b2e3be39b396a1bc3516c7144", CW_NET_ANY, &a, NULL), CW_OK);
    a.chain = CW_CHAIN_TRON;
    a.kind = CW_ADDR_TRON;
    cr_assert_null(labels_find(services, &a));
    /* the same hash160 as P2SH instead of P2PKH */
    cr_assert_eq(cw_addr_parse("1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s", CW_NET_ANY, &a, NULL), CW_OK);
    a.kind = CW_ADDR_P2SH;
    cr_assert_null(labels_find(services, &a));

    cr_assert_null(labels_find(NULL, &a));
    memset(&a, 0, sizeof a);
    cr_assert_null(labels_find(services, &a));
}

/* Every loaded row is findable by its own text, and finds itself. */
Test(labels, every_row_finds_itself, .init = load_services, .fini = free_services)
{
    FILE *f = fopen(SERVICES, "r");
    cr_assert_not_null(f);
    char line[1024];
    size_t found = 0, rows = 0;
    cr_assert_not_null(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        rows++;
        /* the address is the second field and never quoted in this file */
        char *c1 = strchr(line, ',');
        cr_assert_not_null(c1);
        char *c2 = strchr(c1 + 1, ',');
        cr_assert_not_null(c2);
        *c2 = '\0';
        cw_addr a;
        if (cw_addr_parse(c1 + 1, CW_NET_MAIN, &a, NULL) != CW_OK)
            continue;
        const label *l = labels_find(services, &a);
        cr_assert_not_null(l, "line %zu: %s", rows + 1, c1 + 1);
        bool self = false;
        for (; l && !self; l = l->next)
            self = l->line == rows + 1;
        cr_assert(self, "line %zu: %s finds other rows only", rows + 1, c1 + 1);
        found++;
    }
    fclose(f);
    cr_assert_eq(rows, 20531);
    cr_assert_eq(found, 20529);
}

/* labels_each visits every distinct address once, in the order of its first
 * row (it was the hash table's order, which decided which label names a
 * cluster holding two labelled addresses). */
typedef struct {
    size_t n, last_line;
    bool ordered, first_of_address;
} each_ctx;

static void each_visit(void *ctx, const uint8_t *key, size_t klen, const label *first)
{
    each_ctx *c = ctx;
    cw_addr a;
    cw_err err = {0};
    if (cw_addr_parse(first->address, CW_NET_MAIN, &a, &err) == CW_OK) {
        uint8_t k[WL_KEY_MAX];
        size_t n = wl_key_from_addr(&a, k);
        c->first_of_address &= n == klen && memcmp(k, key, n) == 0 && labels_find(services, &a) == first;
    } else
        c->first_of_address = false;
    c->ordered &= first->line > c->last_line;
    c->last_line = first->line;
    c->n++;
}

Test(labels, each_in_file_order, .init = load_services, .fini = free_services)
{
    each_ctx c = {0, 0, true, true};
    labels_each(services, each_visit, &c);
    cr_assert_eq(c.n, 20465, "every distinct address once");
    cr_assert(c.ordered, "first rows in file order");
    cr_assert(c.first_of_address, "each key with its own address's first label");
}

/* ---------- small files ---------- */

static char dir[] = "/tmp/cw-labels-XXXXXX";

static void make_dir(void) { cr_assert_not_null(mkdtemp(dir)); }

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static const char *write_file(const char *name, const char *text, size_t n)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(text, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
    return path;
}

#define HEADER "chain,address,entity,category,source\n"

Test(labels, csv_forms, .init = make_dir, .fini = remove_dir)
{
    static const char text[] =
        "\xef\xbb\xbf"
        "Chain, Address ,entity,CATEGORY,source\r\n"
        "btc, 1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s ,\"Binance \"\"hot\"\"\",exchange,own\r\n"
        "\r\n"
        "ETH,0xfd8610d20aa15b7b2e3be39b396a1bc3516c7144,\"Tornado.Cash:\n1,000 DAI\",mixer,own\n"
        "XBT,1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s,Binance again,exchange,own\n"
        "TRX,TV6MuMXfmLbBqPZvBHdwFsDnQeVfnmiuSi,binance,exchange,\n"
        "LTC,LQ3B36Yv2rBTxdgAdYpU2UcEZsaNwXeATk,some exchange,exchange,own\n"
        "BTC,1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1t,bad checksum,exchange,own\n"
        "BTC,tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx,testnet,service,own\n"
        "ETH,1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa,wrong chain,dex,own\n"
        "BTC,,no address,exchange,own\n"
        "\n";
    const char *p = write_file("forms.csv", text, sizeof text - 1);
    labels *l;
    labels_stats st;
    cw_err err = {0};
    cr_assert_eq(labels_load(p, CW_NET_MAIN, &l, &st, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(st.rows, 9);
    cr_assert_eq(st.loaded, 4);
    cr_assert_eq(st.addresses, 3);
    cr_assert_eq(st.repeated, 1);
    cr_assert_eq(st.other_chain, 1);
    cr_assert_eq(st.unparsable, 4);
    cr_assert_eq(strncmp(st.first_unparsable, "line 9: 1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1t: ", 44), 0, "%s",
                 st.first_unparsable);
    cr_assert_eq(labels_stats_count(&st, "BTC", "exchange"), 2);
    cr_assert_eq(labels_stats_count(&st, "eth", "mixer"), 1);
    cr_assert_eq(labels_stats_count(&st, "TRON", "exchange"), 1);

    const label *b = find_text(l, "1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s");
    cr_assert_not_null(b);
    cr_assert_str_eq(b->entity, "Binance \"hot\"");
    cr_assert_str_eq(b->chain, "BTC");
    cr_assert_str_eq(b->address, "1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s");
    cr_assert_eq(b->line, 2);
    cr_assert_not_null(b->next);
    cr_assert_str_eq(b->next->entity, "Binance again");
    cr_assert_eq(b->next->line, 6, "a quoted newline takes a line");
    const label *t = find_text(l, "0xfd8610d20aa15b7b2e3be39b396a1bc3516c7144");
    cr_assert(t && strcmp(t->entity, "Tornado.Cash:\n1,000 DAI") == 0 && t->line == 4);
    const label *tr = find_text(l, "TV6MuMXfmLbBqPZvBHdwFsDnQeVfnmiuSi");
    cr_assert(tr && strcmp(tr->source, "") == 0 && strcmp(tr->chain, "TRON") == 0);
    labels_free(l);

    /* the same file for testnet: the tb1 row loads, the mainnet ones do not */
    cr_assert_eq(labels_load(p, CW_NET_TEST, &l, &st, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(st.loaded, 3, "testnet, and the network-less ETH and TRON rows");
    cr_assert_not_null(find_text(l, "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"));
    cr_assert_null(find_text(l, "1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s"));
    labels_free(l);
}

/* Refused files: the message names the file and the line. */
Test(labels, malformed_files, .init = make_dir, .fini = remove_dir)
{
    static const struct {
        const char *name, *text, *want;
    } bad[] = {
        {"short.csv", HEADER "BTC,1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s,binance.com,exchange\n",
         "short.csv: line 2: expected 5 fields (chain,address,entity,category,source), found 4"},
        {"long.csv", HEADER "BTC,1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s,binance.com,exchange,x\n"
                     "BTC,3NDzzVxiLBUs1WPvVGRfCYDTAD2Ua2PvW4,Blender.io,mixer,x,extra\n",
         "long.csv: line 3: expected 5 fields (chain,address,entity,category,source), found 6"},
        {"unterminated.csv", HEADER "BTC,1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s,binance.com,exchange,x\n"
                             "ETH,0xfd8610d20aa15b7b2e3be39b396a1bc3516c7144,\"Tornado.Cash,mixer,x\n"
                             "ETH,0x8ed95d1746bf1e4dab58d8ed4724f1ef95b20db0,0x,dex,x\n",
         "unterminated.csv: line 3: a quoted field is not closed before the end of the file"},
        {"after_multiline.csv", HEADER "ETH,0xfd8610d20aa15b7b2e3be39b396a1bc3516c7144,\"two\nlines\",mixer,x\n"
                                "BTC,1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s,binance.com\n",
         "after_multiline.csv: line 4: expected 5 fields"},
        {"header.csv", "chain,address,name,category,source\n",
         "header.csv: line 1: the header must be chain,address,entity,category,source"},
        {"noheader.csv", "BTC,1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s,binance.com,exchange,x\n",
         "noheader.csv: line 1: the header must be"},
        {"blank_then_header.csv", "\n\nchain,address\n", "blank_then_header.csv: line 3: the header must be"},
        {"empty.csv", "", "empty.csv: empty"},
        {"category.csv", HEADER "\nBTC,1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s,b,,x\n", "category.csv: line 3: empty category"},
        {"chain.csv", HEADER ",1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s,b,exchange,x\n", "chain.csv: line 2: empty chain"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = write_file(bad[i].name, bad[i].text, strlen(bad[i].text));
        labels *l = (labels *)1;
        cw_err err = {0};
        cr_assert_eq(labels_load(p, CW_NET_MAIN, &l, NULL, &err), CW_EFORMAT, "%s: %s", bad[i].name, err.msg);
        cr_assert_null(l, "%s", bad[i].name);
        cr_assert_not_null(strstr(err.msg, bad[i].want), "%s: got '%s', want '%s'", bad[i].name, err.msg, bad[i].want);
        cr_assert_eq(strncmp(err.msg, dir, strlen(dir)), 0, "the message starts with the path: %s", err.msg);
    }

    /* a NUL byte: not a text file */
    static const char nul[] = HEADER "BTC,1NDy\0,b,c,d\n";
    const char *p = write_file("nul.csv", nul, sizeof nul - 1);
    labels *l;
    cw_err err = {0};
    cr_assert_eq(labels_load(p, CW_NET_MAIN, &l, NULL, &err), CW_EFORMAT);
    cr_assert_not_null(strstr(err.msg, "nul.csv: line 2: a NUL byte"), "%s", err.msg);

    /* no file */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none.csv", dir);
    cr_assert_eq(labels_load(missing, CW_NET_MAIN, &l, NULL, &err), CW_EIO);
    cr_assert_not_null(strstr(err.msg, "none.csv"), "%s", err.msg);
    cr_assert_null(l);
    /* errors need no cw_err */
    cr_assert_eq(labels_load(missing, CW_NET_MAIN, &l, NULL, NULL), CW_EIO);
}

/* A header and nothing else is an empty, valid set. */
Test(labels, header_only, .init = make_dir, .fini = remove_dir)
{
    const char *p = write_file("h.csv", HEADER, strlen(HEADER));
    labels *l;
    labels_stats st;
    cw_err err = {0};
    cr_assert_eq(labels_load(p, CW_NET_MAIN, &l, &st, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(st.rows, 0);
    cr_assert_eq(st.n_categories, 0);
    cr_assert_str_eq(st.first_unparsable, "");
    cr_assert_null(find_text(l, "1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s"));
    labels_free(l);
    labels_free(NULL);
}
