/* Blocks: real mainnet blocks, blk-file records, headers, merkle and
 * witness commitments, and malformed blocks. */
#include <criterion/criterion.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/bitcoin/blkfile.h"
#include "chains/bitcoin/block.h"
#include "chains/bitcoin/tx.h"
#include "chains/hex.h"
#include "monitor/engine/decode.h"
#include "tests/support.h"

static void hash_hex(const uint8_t h[32], char out[65]) { cw_hex_encode_rev(h, 32, out); }

static block_summary walk(const uint8_t *b, size_t n, cw_net net)
{
    block_walker w = {0};
    block_summary s;
    cw_err err = {0};
    cr_assert_eq(decode_block_walk(&w, b, n, net, NULL, NULL, &s, &err), CW_OK, "%s", err.msg);
    block_walker_free(&w);
    return s;
}

static void check_block(const char *file, const char *hash, const char *root, uint64_t tx_count, int64_t height)
{
    size_t n;
    uint8_t *b = fixture(file, &n);
    block_summary s = walk(b, n, CW_NET_MAIN);
    char h[65];
    hash_hex(s.header.hash, h);
    cr_assert_str_eq(h, hash);
    hash_hex(s.header.merkle_root, h);
    cr_assert_str_eq(h, root);
    cr_assert_eq(s.tx_count, tx_count);
    cr_assert(s.merkle_ok && !s.merkle_mutated, "merkle root of %s", file);
    cr_assert_eq(s.witness, BTC_WITNESS_OK, "witness commitment of %s", file);
    cr_assert(s.has_height);
    cr_assert_eq(s.height, height);
    cr_assert_leq(s.weight, 4000000);
    free(b);
}

Test(block, mainnet_514485)
{
    check_block(BLOCK_514485, "000000000000000000050f70113ab1932c195442cb49bcc4ee4d7f426c8a3295",
                "1aa601dc86a2de6826cd5aa433c90074a5ecc893e62fc517b551b11b4143d5a1", 2165, 514485);
}

Test(block, mainnet_514492)
{
    check_block(BLOCK_514492, "00000000000000000008513c860373da0484f065983aeb063ebf81c172e81d48",
                "93de493bb58a9cd8c2412ac87a4b2617736452fe6a4600b1b7a7fe4b688df99d", 1044, 514492);
}

Test(block, mainnet_540107)
{
    check_block(BLOCK_540107, "00000000000000000021868c2cefc52a480d173c849412fe81c4e5ab806f94ab",
                "bc337232e053ba46ae12f21c640d16190cbba10f914759ef54a7f07eda58be70", 230, 540107);
}

/* Every txid, value and address of block 514485 equals what an independent
 * decoder produced (block-514485.expected.jsonl). */
typedef struct {
    json_t **lines;
    size_t next, n;
    size_t segwit;
} expect_ctx;

static cw_code compare_tx(void *ctx, cw_tx *tx, cw_err *err)
{
    (void)err;
    expect_ctx *c = ctx;
    cr_assert_lt(c->next, c->n, "more txs than expected");
    json_t *e = c->lines[c->next++];
    char id[65];
    cw_hex_encode_rev(tx->txid, 32, id);
    cr_assert_str_eq(id, json_string_value(json_object_get(e, "txid")), "tx %zu", c->next - 1);
    json_t *outs = json_object_get(e, "outputs");
    cr_assert_eq(tx->n_out, json_array_size(outs), "tx %s: output count", id);
    for (size_t i = 0; i < tx->n_out; i++) {
        json_t *o = json_array_get(outs, i);
        cr_assert_eq(tx->out[i].n, (uint32_t)json_integer_value(json_array_get(o, 0)));
        cr_assert_eq(tx->out[i].value, (uint64_t)json_integer_value(json_array_get(o, 1)), "tx %s:%zu value", id, i);
        const char *want = json_string_value(json_array_get(o, 2));
        char text[CW_ADDR_TEXT_MAX] = "";
        if (tx->out[i].addr.kind != CW_ADDR_NONE)
            cr_assert_gt(cw_addr_format(&tx->out[i].addr, text, sizeof text), 0);
        if (want == NULL)
            cr_assert_str_empty(text, "tx %s:%zu: expected no address, got %s", id, i, text);
        else
            cr_assert_str_eq(text, want, "tx %s:%zu address", id, i);
    }
    c->segwit += (tx->flags & CW_TX_SEGWIT) != 0;
    return CW_OK;
}

Test(block, block_514485_matches_independent_decoder)
{
    size_t n;
    uint8_t *b = fixture(BLOCK_514485, &n);
    size_t en;
    uint8_t *text = fixture("btc/block-514485.expected.jsonl", &en);
    expect_ctx c = {calloc(4000, sizeof(json_t *)), 0, 0, 0};
    json_t *head = NULL;
    char *save = NULL;
    text = realloc(text, en + 1);
    text[en] = '\0';
    for (char *line = strtok_r((char *)text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        cr_assert_not_null(j);
        if (head == NULL)
            head = j;
        else
            c.lines[c.n++] = j;
    }
    cr_assert_eq(c.n, 2165);
    block_walker w = {0};
    block_summary s;
    cw_err err = {0};
    cr_assert_eq(decode_block_walk(&w, b, n, CW_NET_MAIN, compare_tx, &c, &s, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(c.next, 2165);
    cr_assert_eq(c.segwit, 621, "SOURCES.md: 621 segwit txs");
    char h[65];
    hash_hex(s.header.hash, h);
    cr_assert_str_eq(h, json_string_value(json_object_get(head, "hash")));
    cr_assert_eq(s.tx_count, (uint64_t)json_integer_value(json_object_get(head, "tx_count")));
    for (size_t i = 0; i < c.n; i++)
        json_decref(c.lines[i]);
    json_decref(head);
    free(c.lines);
    block_walker_free(&w);
    free(text);
    free(b);
}

/* Framed blk records: genesis to block 4, then blocks 1..255 as Core stores
 * them; each block's prev is the hash of the one before. */
static size_t walk_records(const uint8_t *b, size_t n, uint8_t first_prev[32], char last_hash[65], cw_err *err)
{
    size_t pos = 0, count = 0;
    uint8_t prev[32];
    memcpy(prev, first_prev, 32);
    block_walker w = {0};
    for (;;) {
        cw_net net;
        cw_span blk;
        bool done;
        cr_assert_eq(btc_blk_next(b, n, &pos, &net, &blk, &done, err), CW_OK, "%s", err->msg);
        if (done)
            break;
        cr_assert_eq(net, CW_NET_MAIN);
        block_summary s;
        cr_assert_eq(decode_block_walk(&w, blk.p, blk.n, net, NULL, NULL, &s, err), CW_OK, "%s", err->msg);
        cr_assert(s.merkle_ok, "record %zu", count);
        cr_assert_eq(memcmp(s.header.prev, prev, 32), 0, "record %zu does not extend the previous one", count);
        memcpy(prev, s.header.hash, 32);
        hash_hex(s.header.hash, last_hash);
        count++;
    }
    block_walker_free(&w);
    return count;
}

Test(block, blk_records_genesis_to_4)
{
    size_t n;
    uint8_t *b = fixture("btc/blk_0_to_4.dat.bz2", &n);
    cr_assert(btc_blk_is_framed(b, n));
    uint8_t zero[32] = {0};
    char last[65];
    cw_err err = {0};
    /* Five linked records from the mainnet genesis block. (Despite the file's
     * name, records 1..4 are not mainnet heights 1..4: mainnet block 1 is
     * 00000000839a8e68..., this file's second record is 00000000ebe5ec3e...) */
    cr_assert_eq(walk_records(b, n, zero, last, &err), 5);
    cr_assert_str_eq(last, "000000002f264d6504013e73b9c913de9098d4d771c1bb219af475d2a01b128e");
    /* the genesis block itself */
    block_summary s = walk(b + 8, 285, CW_NET_MAIN);
    char h[65];
    hash_hex(s.header.hash, h);
    cr_assert_str_eq(h, "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
    cr_assert_eq(s.witness, BTC_WITNESS_NONE);
    free(b);
}

Test(block, blk_records_1_to_255)
{
    size_t n;
    uint8_t *b = fixture("btc/blocks1-256.bz2", &n);
    uint8_t genesis[32];
    cw_hex_decode_hash_rev("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f", genesis, NULL);
    char last[65];
    cw_err err = {0};
    cr_assert_eq(walk_records(b, n, genesis, last, &err), 255);
    free(b);
}

Test(block, framed_record_277647)
{
    size_t n;
    uint8_t *b = fixture("btc/277647.dat.bz2", &n);
    size_t pos = 0;
    cw_net net;
    cw_span blk;
    bool done;
    cr_assert_eq(btc_blk_next(b, n, &pos, &net, &blk, &done, NULL), CW_OK);
    cr_assert(!done);
    block_summary s = walk(blk.p, blk.n, net);
    cr_assert_eq(s.tx_count, 213);
    cr_assert(s.merkle_ok);
    cr_assert(s.has_height);
    cr_assert_eq(s.height, 277647);
    cr_assert_eq(btc_blk_next(b, n, &pos, &net, &blk, &done, NULL), CW_OK);
    cr_assert(done, "one record only");
    free(b);
}

Test(block, blk_record_errors)
{
    uint8_t rec[16] = {0xf9, 0xbe, 0xb4, 0xd9, 0xff, 0xff, 0xff, 0x00};
    size_t pos = 0;
    cw_net net;
    cw_span blk;
    bool done;
    cw_err err = {0};
    cr_assert_eq(btc_blk_next(rec, sizeof rec, &pos, &net, &blk, &done, &err), CW_ELIMIT);
    rec[6] = 0;
    rec[5] = 0;
    rec[4] = 100; /* 100 bytes claimed, 8 present */
    cr_assert_eq(btc_blk_next(rec, sizeof rec, &pos, &net, &blk, &done, &err), CW_ETRUNC);
    cr_assert(strstr(err.msg, "truncated block record") != NULL, "%s", err.msg);
    uint8_t junk[8] = {1, 2, 3, 4, 0, 0, 0, 0};
    cr_assert_eq(btc_blk_next(junk, sizeof junk, &pos, &net, &blk, &done, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "unknown network magic 01020304") != NULL, "%s", err.msg);
    uint8_t pad[32] = {0};
    cr_assert_eq(btc_blk_next(pad, sizeof pad, &pos, &net, &blk, &done, &err), CW_OK);
    cr_assert(done, "zero padding ends the file");
    pad[20] = 0xf9; /* zeros with data after them are no padding */
    cr_assert_eq(btc_blk_next(pad, sizeof pad, &pos, &net, &blk, &done, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "byte 0: zero bytes where a record should start") != NULL, "%s", err.msg);
}

/* Real records with a crash's damage between them (a zero run with a
 * stray byte, garbage) and zero padding: a reader that resyncs with
 * btc_blk_find_magic reads all 255 and stops only at the padding. The old
 * framing took the first zero run for the end (50 records). */
Test(block, blk_resync_on_magic_only)
{
    size_t n;
    uint8_t *recs = fixture("btc/blocks1-256.bz2", &n);
    size_t at50 = 0;
    for (int r = 0; r < 50; r++)
        at50 += 8 + (recs[at50 + 4] | (size_t)recs[at50 + 5] << 8);
    size_t len = n + 1000 + 20 + 64;
    uint8_t *buf = calloc(1, len);
    memcpy(buf, recs, at50);
    buf[at50 + 500] = 0xbe; /* inside the zero run: not a magic's start */
    for (int k = 0; k < 20; k++)
        buf[at50 + 1000 + k] = (uint8_t)(k * 37 + 1);
    memcpy(buf + at50 + 1020, recs + at50, n - at50);
    size_t pos = 0, count = 0, resyncs = 0, skipped_from = 0, skipped_to = 0;
    for (;;) {
        cw_net net;
        cw_span blk;
        bool done;
        cw_err err = {0};
        if (btc_blk_next(buf, len, &pos, &net, &blk, &done, &err) != CW_OK) {
            skipped_from = pos;
            pos = btc_blk_find_magic(buf, len, pos + 1, CW_NET_MAIN);
            skipped_to = pos;
            resyncs++;
            continue;
        }
        if (done)
            break;
        count++;
    }
    cr_assert_eq(count, 255);
    cr_assert_eq(resyncs, 1);
    cr_assert_eq(skipped_from, at50);
    cr_assert_eq(skipped_to, at50 + 1020);
    cr_assert_eq(btc_blk_find_magic(buf, len, n + 1020, CW_NET_MAIN), len, "none in the padding");
    cr_assert_eq(btc_blk_find_magic(buf, 3, 0, CW_NET_MAIN), 3, "too short for one");
    free(buf);
    free(recs);
}

/* Headers 1..11: each hashes to the next one's prev. */
Test(block, mainnet_headers_1_to_11)
{
    size_t n;
    uint8_t *text = fixture("btc/blockheaders-mainnet-1-11.txt", &n);
    text = realloc(text, n + 1);
    text[n] = '\0';
    char *save = NULL;
    uint8_t prev[32];
    cw_hex_decode_hash_rev("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f", prev, NULL);
    int count = 0;
    char h[65] = "";
    for (char *line = strtok_r((char *)text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t bl;
        uint8_t *hdr = unhex(line, &bl);
        cr_assert_eq(bl, 80);
        btc_header hd;
        cr_assert_eq(btc_header_parse(hdr, bl, &hd, NULL), CW_OK);
        cr_assert_eq(memcmp(hd.prev, prev, 32), 0, "header %d", count + 1);
        cr_assert_eq(hd.bits, 0x1d00ffff);
        memcpy(prev, hd.hash, 32);
        hash_hex(hd.hash, h);
        free(hdr);
        count++;
    }
    cr_assert_eq(count, 11);
    cr_assert_str_eq(h, "0000000097be56d606cdd9c54b04d4747e957d3608abe69198c661f2add73073"); /* block 11 */
    free(text);
}

Test(block, every_truncation_of_a_header_and_many_of_a_block, .timeout = 300)
{
    size_t n;
    uint8_t *b = fixture(BLOCK_514492, &n);
    block_walker w = {0};
    for (size_t len = 0; len < 81; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, b, len);
        block_summary s;
        cw_err err = {0};
        cr_assert_neq(decode_block_walk(&w, copy, len, CW_NET_MAIN, NULL, NULL, &s, &err), CW_OK, "%zu bytes", len);
        cr_assert(strstr(err.msg, "byte ") != NULL, "%s", err.msg);
        free(copy);
    }
    /* a block cut anywhere (stride through all 761,563 bytes) */
    for (size_t len = 81; len < n; len += 997) {
        uint8_t *copy = malloc(len);
        memcpy(copy, b, len);
        block_summary s;
        cw_err err = {0};
        cr_assert_neq(decode_block_walk(&w, copy, len, CW_NET_MAIN, NULL, NULL, &s, &err), CW_OK, "%zu bytes", len);
        cr_assert(strstr(err.msg, "byte ") != NULL, "%s", err.msg);
        free(copy);
    }
    block_walker_free(&w);
    free(b);
}

Test(block, tampering_is_detected)
{
    size_t n;
    uint8_t *b = fixture(BLOCK_514485, &n);
    /* a flipped bit inside an output value: still parses, merkle root fails */
    block_walker w = {0};
    block_summary s;
    b[n - 40] ^= 0x01;
    cw_err err = {0};
    cw_code rc = decode_block_walk(&w, b, n, CW_NET_MAIN, NULL, NULL, &s, &err);
    if (rc == CW_OK)
        cr_assert(!s.merkle_ok, "a changed tx must change the merkle root");
    b[n - 40] ^= 0x01;
    /* trailing garbage */
    uint8_t *longer = malloc(n + 3);
    memcpy(longer, b, n);
    memset(longer + n, 0xab, 3);
    cr_assert_eq(decode_block_walk(&w, longer, n + 3, CW_NET_MAIN, NULL, NULL, &s, &err), CW_EFORMAT);
    cr_assert(strstr(err.msg, "3 trailing bytes") != NULL, "%s", err.msg);
    /* a tx count larger than the bytes can hold */
    b[80] = 0xfd, b[81] = 0xff, b[82] = 0xff;
    cr_assert_eq(decode_block_walk(&w, b, n, CW_NET_MAIN, NULL, NULL, &s, &err), CW_ETRUNC, "%s", err.msg);
    block_walker_free(&w);
    free(longer);
    free(b);
}

Test(block, merkle_mutation_flag)
{
    uint8_t h[3][32];
    memset(h, 0, sizeof h);
    h[0][0] = 1;
    h[1][0] = 1; /* two equal siblings */
    h[2][0] = 2;
    uint8_t root[32];
    bool mutated;
    btc_merkle_root(h, 3, root, &mutated);
    cr_assert(mutated);
    uint8_t one[1][32] = {{7}};
    btc_merkle_root(one, 1, root, &mutated);
    cr_assert(!mutated);
    cr_assert_eq(root[0], 7, "a single hash is its own root");
}
