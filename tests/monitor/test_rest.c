/* REST client against a real HTTP server serving the real blocks of a
 * Bitcoin Core v30 regtest node (101 blocks mined, a reorg, a restart). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chains/bitcoin/block.h"
#include "chains/hex.h"
#include "monitor/sources/rest.h"
#include "tests/rest_server.h"
#include "tests/support.h"

/* From events.json of the recording. */
#define LAST_MINED "2f0ae58e0b99c85bff7dbe2984bc8917b2dc951193c87407cbbb434e0de0043c"
#define CONFIRMED_THREE "09117bbe37bd5d85bf6d62bdce8fc396c0e0473eea464d603dcab82b046cda35"
#define INVALIDATED "70a172546b3d5e769d0cb3e68c962d501f7901e910b02945ff55f707bc7ab63e"
#define MINED_101 "4010631cb7b44cf63573b5817eddd4678f58928e06a52988c39ba02f780c7434"
#define REORG_1 "01e75f864834b3fc21c06297780b0962ab0bfc4b392a76e2509b0d6cfd7d5fa6"
#define REORG_2 "2b4c27825a752a5b6e755abd68fd47308940b981d9c4087339a5d789b97b5ab9"

static uint8_t **blocks;
static size_t *lens;
static uint8_t (*chain)[32];
static size_t chain_len, nblocks;
static rest_server *srv;
static rest_client *cli;

static void setup(void)
{
    nblocks = regtest_blocks_load(&blocks, &lens, &chain, &chain_len);
    srv = rest_server_start();
    cr_assert_not_null(srv, "test REST server did not start");
    for (size_t i = 0; i < nblocks; i++)
        rest_server_add_block(srv, blocks[i], lens[i]);
    rest_server_set_chain(srv, (const uint8_t (*)[32])chain, chain_len);
    cw_err err = {0};
    cr_assert_eq(rest_open(rest_server_url(srv), &cli, &err), CW_OK, "%s", err.msg);
}

static void teardown(void)
{
    rest_close(cli);
    rest_server_stop(srv);
    regtest_blocks_free(blocks, lens, chain, nblocks);
}

TestSuite(rest, .init = setup, .fini = teardown, .timeout = 60);

static void hash_of(const char *display, uint8_t out[32])
{
    cr_assert_eq(cw_hex_decode_hash_rev(display, out, NULL), CW_OK);
}

static const char *disp(const uint8_t h[32], char out[65])
{
    cw_hex_encode_rev(h, 32, out);
    return out;
}

/* Index in `blocks` of the block with that hash, or nblocks. */
static size_t block_index(const uint8_t hash[32])
{
    for (size_t i = 0; i < nblocks; i++) {
        btc_header h;
        cr_assert_eq(btc_header_parse(blocks[i], lens[i], &h, NULL), CW_OK);
        if (memcmp(h.hash, hash, 32) == 0)
            return i;
    }
    return nblocks;
}

Test(rest, loader_finds_the_recorded_chain)
{
    uint8_t h[32];
    char s[65];
    /* 101 mined, 1 confirming three payments, 1 later invalidated (stale),
     * 2 on the new branch, 1 after the restart; plus genesis. */
    cr_assert_eq(nblocks, 107, "blocks in blk00000.dat: %zu", nblocks);
    cr_assert_eq(chain_len, 106, "active chain: %zu blocks", chain_len);
    cr_assert_str_eq(disp(chain[chain_len - 1], s), LAST_MINED);
    cr_assert_str_eq(disp(chain[101], s), MINED_101);
    cr_assert_str_eq(disp(chain[102], s), CONFIRMED_THREE);
    cr_assert_str_eq(disp(chain[103], s), REORG_1);
    cr_assert_str_eq(disp(chain[104], s), REORG_2);
    hash_of(INVALIDATED, h);
    for (size_t i = 0; i < chain_len; i++)
        cr_assert_neq(memcmp(chain[i], h, 32), 0, "the invalidated block is in the active chain at %zu", i);
    cr_assert_lt(block_index(h), nblocks, "the invalidated block is not in the file");
}

Test(rest, chaininfo_is_the_tip)
{
    int64_t height = -1;
    uint8_t best[32];
    char s[65];
    cw_err err = {0};
    cr_assert_eq(rest_chaininfo(cli, &height, best, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(height, 105);
    cr_assert_eq(height, (int64_t)chain_len - 1);
    cr_assert_str_eq(disp(best, s), LAST_MINED);
}

Test(rest, block_hash_at_heights)
{
    static const int64_t heights[] = {0, 1, 50, 101, 102, 103, 104, 105};
    for (size_t i = 0; i < sizeof heights / sizeof *heights; i++) {
        uint8_t h[32];
        cw_err err = {0};
        cr_assert_eq(rest_block_hash_at(cli, heights[i], h, &err), CW_OK, "height %lld: %s", (long long)heights[i],
                     err.msg);
        cr_assert_eq(memcmp(h, chain[heights[i]], 32), 0, "hash at height %lld", (long long)heights[i]);
    }
    uint8_t h[32];
    char s[65];
    cw_err err = {0};
    cr_assert_eq(rest_block_hash_at(cli, 102, h, &err), CW_OK, "%s", err.msg);
    cr_assert_str_eq(disp(h, s), CONFIRMED_THREE);
    /* The regtest genesis block everyone knows. */
    cr_assert_eq(rest_block_hash_at(cli, 0, h, &err), CW_OK, "%s", err.msg);
    cr_assert_str_eq(disp(h, s), "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206");
}

Test(rest, block_hash_above_tip_is_not_found)
{
    uint8_t h[32];
    cw_err err = {0};
    cr_assert_eq(rest_block_hash_at(cli, (int64_t)chain_len, h, &err), CW_ENOTFOUND, "%s", err.msg);
    cr_assert(strstr(err.msg, "/rest/blockhashbyheight/106.hex"), "%s", err.msg);
    cr_assert(strstr(err.msg, "404"), "%s", err.msg);
    cr_assert_eq(rest_block_hash_at(cli, -1, h, &err), CW_EARG);
}

Test(rest, blocks_are_byte_identical)
{
    cw_buf out = CW_BUF_INIT;
    size_t checked = 0;
    for (size_t height = 0; height < chain_len; height += 7) {
        cw_err err = {0};
        size_t i = block_index(chain[height]);
        cr_assert_lt(i, nblocks);
        cr_assert_eq(rest_block(cli, chain[height], &out, &err), CW_OK, "height %zu: %s", height, err.msg);
        cr_assert_eq(out.n, lens[i], "height %zu: %zu bytes, want %zu", height, out.n, lens[i]);
        cr_assert_eq(memcmp(out.p, blocks[i], out.n), 0, "height %zu differs", height);
        checked++;
    }
    /* The block with the three payments has more than a coinbase. */
    uint8_t h[32];
    hash_of(CONFIRMED_THREE, h);
    size_t i = block_index(h);
    cw_err err = {0};
    cr_assert_eq(rest_block(cli, h, &out, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(out.n, lens[i]);
    cr_assert_eq(memcmp(out.p, blocks[i], out.n), 0);
    cr_assert_gt(out.n, 500, "block " CONFIRMED_THREE " is only %zu bytes", out.n);
    cr_assert_eq(checked, 16);
    cw_buf_free(&out);
}

Test(rest, unknown_block_is_not_found)
{
    uint8_t h[32];
    memset(h, 0xab, sizeof h);
    cw_buf out = CW_BUF_INIT;
    cw_err err = {0};
    cr_assert_eq(rest_block(cli, h, &out, &err), CW_ENOTFOUND, "%s", err.msg);
    cr_assert(strstr(err.msg, "/rest/block/abababab"), "%s", err.msg);
    cr_assert_eq(out.n, 0);
    cw_buf_free(&out);
}

Test(rest, stale_block_is_served_by_hash)
{
    uint8_t h[32];
    hash_of(INVALIDATED, h);
    size_t i = block_index(h);
    cr_assert_lt(i, nblocks);
    cw_buf out = CW_BUF_INIT;
    cw_err err = {0};
    cr_assert_eq(rest_block(cli, h, &out, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(out.n, lens[i]);
    cr_assert_eq(memcmp(out.p, blocks[i], out.n), 0);
    /* It sits on the block that confirmed the three payments, at 103. */
    btc_header hd;
    cr_assert_eq(btc_header_parse(out.p, out.n, &hd, NULL), CW_OK);
    cr_assert_eq(memcmp(hd.prev, chain[102], 32), 0);
    /* Not in the active chain: bitcoind answers headers from it empty. */
    cr_assert_eq(rest_headers(cli, h, 5, &out, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(out.n, 0);
    cw_buf_free(&out);
}

Test(rest, headers_follow_the_chain)
{
    cw_buf out = CW_BUF_INIT;
    cw_err err = {0};
    cr_assert_eq(rest_headers(cli, chain[100], 5, &out, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(out.n, 5 * 80);
    for (size_t k = 0; k < 5; k++) {
        btc_header h;
        cr_assert_eq(btc_header_parse(out.p + 80 * k, 80, &h, NULL), CW_OK);
        cr_assert_eq(memcmp(h.hash, chain[100 + k], 32), 0, "header %zu is not the block at height %zu", k, 100 + k);
        if (k)
            cr_assert_eq(memcmp(h.prev, chain[99 + k], 32), 0);
        /* Byte-identical to the block's own first 80 bytes. */
        cr_assert_eq(memcmp(out.p + 80 * k, blocks[block_index(chain[100 + k])], 80), 0);
    }
    /* Near the tip fewer come back: 104 and 105 only. */
    cr_assert_eq(rest_headers(cli, chain[104], 5, &out, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(out.n, 2 * 80);
    cr_assert_eq(rest_headers(cli, chain[0], 0, &out, &err), CW_EARG);
    cr_assert_eq(rest_headers(cli, chain[0], REST_MAX_HEADERS + 1, &out, &err), CW_EARG);
    /* The whole chain in one request. */
    cr_assert_eq(rest_headers(cli, chain[0], REST_MAX_HEADERS, &out, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(out.n, chain_len * 80);
    cw_buf_free(&out);
}

Test(rest, server_error_names_url_and_status_then_recovers)
{
    uint8_t h[32];
    cw_err err = {0};
    size_t before = rest_server_requests(srv);
    rest_server_fail(srv, 500, 1);
    cr_assert_eq(rest_block_hash_at(cli, 5, h, &err), CW_EIO);
    char want[128];
    snprintf(want, sizeof want, "%s/rest/blockhashbyheight/5.hex", rest_server_url(srv));
    cr_assert(strstr(err.msg, want), "message does not name %s: %s", want, err.msg);
    cr_assert(strstr(err.msg, "HTTP 500"), "%s", err.msg);
    cr_assert_null(strchr(err.msg, '\n'), "%s", err.msg);
    /* Only one failure was asked for: the retry succeeds. */
    cr_assert_eq(rest_block_hash_at(cli, 5, h, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(memcmp(h, chain[5], 32), 0);
    cr_assert_eq(rest_server_requests(srv), before + 2);

    rest_server_fail(srv, 503, 2);
    int64_t height;
    cr_assert_eq(rest_chaininfo(cli, &height, h, &err), CW_EIO);
    cr_assert(strstr(err.msg, "/rest/chaininfo.json") && strstr(err.msg, "503"), "%s", err.msg);
    cw_buf out = CW_BUF_INIT;
    cr_assert_eq(rest_block(cli, chain[3], &out, &err), CW_EIO);
    cr_assert(strstr(err.msg, "503"), "%s", err.msg);
    cr_assert_eq(rest_chaininfo(cli, &height, h, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(height, 105);
    cw_buf_free(&out);
}

Test(rest, chain_change_is_seen)
{
    /* The test thread rewinds the chain while the server thread runs, as a
     * reorg would: the client sees the new tip. */
    rest_server_set_chain(srv, (const uint8_t (*)[32])chain, 103);
    int64_t height;
    uint8_t best[32];
    char s[65];
    cw_err err = {0};
    cr_assert_eq(rest_chaininfo(cli, &height, best, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(height, 102);
    cr_assert_str_eq(disp(best, s), CONFIRMED_THREE);
    uint8_t h[32];
    cr_assert_eq(rest_block_hash_at(cli, 103, h, &err), CW_ENOTFOUND, "%s", err.msg);
}

Test(rest, bad_base_urls_are_refused)
{
    static const char *bad[] = {"https://127.0.0.1:8332", "ftp://127.0.0.1/", "127.0.0.1:8332", "http://",
                                "http:///rest", "", "http://127.0.0.1:8332/?x=1", "http://127.0.0.1 :8332"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rest_client *c = (rest_client *)1;
        cw_err err = {0};
        cr_assert_eq(rest_open(bad[i], &c, &err), CW_EARG, "\"%s\" accepted", bad[i]);
        cr_assert_null(c);
        cr_assert_neq(err.msg[0], '\0');
    }
    rest_client *c = NULL;
    cw_err err = {0};
    cr_assert_eq(rest_open(NULL, &c, &err), CW_EARG);
    cr_assert(strstr(err.msg, "http://127.0.0.1:8332"), "%s", err.msg);
    cr_assert_eq(rest_open("ftp://x", &c, &err), CW_EARG);
    cr_assert(strstr(err.msg, "ftp://x"), "%s", err.msg);
}

Test(rest, trailing_slash_is_tolerated)
{
    char url[96];
    snprintf(url, sizeof url, "%s/", rest_server_url(srv));
    rest_client *c = NULL;
    cw_err err = {0};
    cr_assert_eq(rest_open(url, &c, &err), CW_OK, "%s", err.msg);
    uint8_t h[32];
    cr_assert_eq(rest_block_hash_at(c, 1, h, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(memcmp(h, chain[1], 32), 0);
    rest_close(c);
}

Test(rest, nothing_listening_fails_clearly)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    unsigned port = ntohs(sa.sin_port);
    close(fd);

    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
    rest_client *c = NULL;
    cw_err err = {0};
    cr_assert_eq(rest_open(url, &c, &err), CW_OK, "%s", err.msg);
    int64_t height;
    uint8_t h[32];
    cr_assert_eq(rest_chaininfo(c, &height, h, &err), CW_EIO);
    char want[96];
    snprintf(want, sizeof want, "%s/rest/chaininfo.json", url);
    cr_assert(strstr(err.msg, want), "message does not name %s: %s", want, err.msg);
    cr_assert(strstr(err.msg, "connect"), "%s", err.msg);
    cr_assert(strstr(err.msg, "-rest=1"), "%s", err.msg);
    rest_close(c);
}

Test(rest, unknown_path_is_404_from_server)
{
    /* A node with -rest off answers every /rest/ path 404: chaininfo says
     * what to check. Simulated with an injected 404. */
    rest_server_fail(srv, 404, 1);
    int64_t height;
    uint8_t h[32];
    cw_err err = {0};
    cr_assert_eq(rest_chaininfo(cli, &height, h, &err), CW_ENOTFOUND);
    cr_assert(strstr(err.msg, "-rest=1"), "%s", err.msg);
}
