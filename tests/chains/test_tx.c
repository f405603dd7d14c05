/* Transactions: real mainnet txs, Bitcoin Core's tx_valid vectors, and
 * malformed input (every truncation, hand-made faults, random byte flips). */
#include <criterion/criterion.h>
#include <string.h>

#include "chains/bitcoin/block.h"
#include "chains/bitcoin/tx.h"
#include "chains/hash.h"
#include "chains/hex.h"
#include "tests/support.h"

static void txid_hex(const cw_tx *tx, char out[65]) { cw_hex_encode_rev(tx->txid, 32, out); }

/* An independent re-serialization from the model: if any span or field is
 * off by a byte, the bytes differ from the input. */
static void put_compact(uint8_t **p, uint64_t n)
{
    if (n < 0xfd) { *(*p)++ = (uint8_t)n; return; }
    if (n <= 0xffff) { *(*p)++ = 0xfd; memcpy(*p, &(uint16_t){(uint16_t)n}, 2); *p += 2; return; }
    *(*p)++ = 0xfe;
    memcpy(*p, &(uint32_t){(uint32_t)n}, 4);
    *p += 4;
}

static size_t reserialize(const cw_tx *tx, uint8_t *out)
{
    uint8_t *p = out;
    memcpy(p, &tx->version, 4); p += 4;
    bool sw = tx->flags & CW_TX_SEGWIT;
    if (sw) { *p++ = 0; *p++ = 1; }
    put_compact(&p, tx->n_in);
    for (size_t i = 0; i < tx->n_in; i++) {
        memcpy(p, tx->in[i].prev_txid, 32); p += 32;
        memcpy(p, &tx->in[i].prev_vout, 4); p += 4;
        put_compact(&p, tx->in[i].script_sig.n);
        memcpy(p, tx->in[i].script_sig.p, tx->in[i].script_sig.n); p += tx->in[i].script_sig.n;
        memcpy(p, &tx->in[i].sequence, 4); p += 4;
    }
    put_compact(&p, tx->n_out);
    for (size_t i = 0; i < tx->n_out; i++) {
        memcpy(p, &tx->out[i].value, 8); p += 8;
        put_compact(&p, tx->out[i].script.n);
        memcpy(p, tx->out[i].script.p, tx->out[i].script.n); p += tx->out[i].script.n;
    }
    if (sw)
        for (size_t i = 0; i < tx->n_in; i++) {
            memcpy(p, tx->in[i].witness.p, tx->in[i].witness.n);
            p += tx->in[i].witness.n;
        }
    memcpy(p, &tx->locktime, 4); p += 4;
    return (size_t)(p - out);
}

static void parse_ok(const uint8_t *b, size_t n, cw_tx *tx, cw_arena *a)
{
    cw_err err = {0};
    cr_assert_eq(btc_tx_parse(b, n, NULL, CW_NET_MAIN, a, tx, &err), CW_OK, "%s", err.msg);
}

Test(tx, taproot_script_path_spend)
{
    size_t n;
    uint8_t *b = fixture(TX_TAPROOT, &n);
    cw_arena a = test_arena(n);
    cw_tx tx;
    parse_ok(b, n, &tx, &a);
    char id[65];
    txid_hex(&tx, id);
    cr_assert_str_eq(id, "7393096d97bfee8660f4100ffd61874d62f9a65de9fb6acf740c4c386990ef73");
    cr_assert(tx.flags & CW_TX_SEGWIT);
    cr_assert_eq(tx.size, n);
    cr_assert_eq(tx.n_in, 1);
    /* a 998-of-999 tapscript: 998 signatures, one empty slot, the 33,970-byte
     * script, and a 33-byte control block (no merkle path) */
    cr_assert_eq(tx.in[0].witness_items, 1001);
    btc_witness_iter it;
    cw_span item, script = {0}, cb = {0};
    size_t sigs = 0;
    btc_witness_begin(&tx.in[0], &it);
    while (btc_witness_next(&it, &item)) {
        sigs += item.n == 64;
        script = cb;
        cb = item;
    }
    cr_assert_eq(sigs, 998);
    cr_assert_eq(script.n, 33970);
    cr_assert_eq(cb.n, 33, "control block length %zu", cb.n);
    cr_assert_eq(cb.p[0] & 0xfe, 0xc0);
    uint8_t again[200000];
    cr_assert_eq(reserialize(&tx, again), n);
    cr_assert_eq(memcmp(again, b, n), 0);
    /* wtxid is the hash of all bytes */
    uint8_t w[32];
    cw_sha256d(b, n, w);
    cr_assert_eq(memcmp(w, tx.wtxid, 32), 0);
    cr_assert_lt(tx.base_size, n / 2, "the witness dominates this tx");
    free(b);
    free(a.base);
}

Test(tx, half_million_witness_items_with_op_return)
{
    size_t n;
    uint8_t *b = fixture(TX_BIGWITNESS, &n);
    cr_assert_eq(n, 500142);
    cw_arena a = test_arena(n);
    cw_tx tx;
    parse_ok(b, n, &tx, &a);
    char id[65];
    txid_hex(&tx, id);
    cr_assert_str_eq(id, "73be398c4bdc43709db7398106609eea2a7841aaf3a4fa2000dc18184faa2a7e");
    bool has_nulldata = false;
    for (size_t i = 0; i < tx.n_out; i++)
        has_nulldata |= tx.out[i].type == CW_SCRIPT_NULLDATA;
    cr_assert(has_nulldata);
    /* The witness is 500,003 stack items (compact size fe 23a10700), all but
     * a few empty: a stress case for anything that walks witness stacks. */
    cr_assert_eq(tx.in[0].witness_items, 500003);
    btc_witness_iter it;
    cw_span item;
    size_t total = 0, items = 0, empty = 0;
    btc_witness_begin(&tx.in[0], &it);
    while (btc_witness_next(&it, &item)) {
        total += item.n;
        empty += item.n == 0;
        items++;
    }
    cr_assert_eq(items, 500003);
    cr_assert_gt(empty, 500000);
    /* 5-byte count, a length byte per item (all short), the item bytes */
    cr_assert_eq(tx.in[0].witness.n, 5 + items + total);
    cr_assert_eq(tx.n_in, 1);
    cr_assert_eq(cw_tx_weight(&tx), tx.base_size * 3 + n);
    free(b);
    free(a.base);
}

Test(tx, megatx_of_5569_inputs)
{
    size_t n;
    uint8_t *b = fixture("btc/megatx.bin.bz2", &n);
    cr_assert_eq(n, 999657);
    cw_arena a = test_arena(n);
    cw_tx tx;
    parse_ok(b, n, &tx, &a);
    char id[65];
    txid_hex(&tx, id);
    cr_assert_str_eq(id, "bb41a757f405890fb0f5856228e23b715702d714d59bf2b1feb70d8b2b4e3e08");
    cr_assert_eq(tx.n_in, 5569);
    cr_assert_eq(tx.n_out, 1);
    cr_assert(!(tx.flags & CW_TX_SEGWIT));
    cr_assert_eq(memcmp(tx.txid, tx.wtxid, 32), 0);
    free(b);
    free(a.base);
}

/* Core's tx_valid.json: every serialized tx parses and re-serializes to the
 * same bytes (script validity is not the decoder's business). */
Test(tx, core_tx_valid_vectors)
{
    json_t *root = fixture_json("btc/tx_valid.json");
    size_t i, parsed = 0;
    json_t *v;
    json_array_foreach(root, i, v) {
        if (json_array_size(v) != 3 || !json_is_string(json_array_get(v, 1)))
            continue; /* comment rows */
        size_t n;
        uint8_t *b = unhex(json_string_value(json_array_get(v, 1)), &n);
        cw_arena a = test_arena(n);
        cw_tx tx;
        cw_err err = {0};
        cw_code rc = btc_tx_parse(b, n, NULL, CW_NET_MAIN, &a, &tx, &err);
        cr_assert_eq(rc, CW_OK, "vector %zu: %s", i, err.msg);
        uint8_t *again = malloc(n + 16);
        cr_assert_eq(reserialize(&tx, again), n, "vector %zu", i);
        cr_assert_eq(memcmp(again, b, n), 0, "vector %zu", i);
        /* the prevouts named by the vector are the ones decoded */
        json_t *prevs = json_array_get(v, 0);
        cr_assert_eq(json_array_size(prevs) >= tx.n_in, true, "vector %zu", i);
        for (size_t k = 0; k < tx.n_in; k++) {
            json_t *pv = json_array_get(prevs, k);
            /* inputs are listed by outpoint; find ours */
            bool found = false;
            for (size_t m = 0; m < json_array_size(prevs) && !found; m++) {
                json_t *p = json_array_get(prevs, m);
                uint8_t h[32];
                if (cw_hex_decode_hash_rev(json_string_value(json_array_get(p, 0)), h, NULL) != CW_OK)
                    continue;
                found = memcmp(h, tx.in[k].prev_txid, 32) == 0 &&
                        (uint32_t)json_integer_value(json_array_get(p, 1)) == tx.in[k].prev_vout;
            }
            cr_assert(found, "vector %zu input %zu outpoint not among the vector's prevouts", i, k);
            (void)pv;
        }
        parsed++;
        free(again);
        free(b);
        free(a.base);
    }
    cr_assert_gt(parsed, 100, "only %zu vectors", parsed);
    json_decref(root);
}

/* Every proper prefix of a real tx is an error that names an offset within
 * the input, never a crash or an over-read (ASan build). */
static void every_truncation(const uint8_t *b, size_t n)
{
    cw_arena a = test_arena(n);
    for (size_t len = 0; len < n; len++) {
        uint8_t *copy = malloc(len ? len : 1); /* exact-size copy so ASan sees over-reads */
        memcpy(copy, b, len);
        cw_tx tx;
        cw_err err = {0};
        cw_arena_reset(&a);
        cw_code rc = btc_tx_parse(copy, len, NULL, CW_NET_MAIN, &a, &tx, &err);
        cr_assert_neq(rc, CW_OK, "prefix of %zu bytes parsed", len);
        cr_assert(err.offset == CW_NO_OFFSET || err.offset <= len, "offset %zu beyond %zu", err.offset, len);
        cr_assert(strstr(err.msg, "byte ") != NULL, "no offset in '%s'", err.msg);
        free(copy);
    }
    free(a.base);
}

Test(tx, every_truncation_of_a_legacy_tx)
{
    size_t n;
    uint8_t *blk = fixture(BLOCK_514485, &n);
    cw_arena a = test_arena(n);
    btc_block b;
    cw_tx tx;
    cr_assert_eq(btc_block_open(blk, n, CW_NET_MAIN, &b, NULL), CW_OK);
    cr_assert_eq(btc_block_next(&b, &a, &tx, NULL), CW_OK); /* coinbase */
    cr_assert_eq(btc_block_next(&b, &a, &tx, NULL), CW_OK); /* 7205691f...: 2 P2PKH inputs */
    char id[65];
    txid_hex(&tx, id);
    cr_assert_str_eq(id, "7205691f7a03418880f3d58efd035ff4f859a054e6d3f4e9c8776945fabffa82");
    every_truncation(tx.raw.p, tx.raw.n);
    free(a.base);
    free(blk);
}

Test(tx, every_truncation_of_a_taproot_tx, .timeout = 300)
{
    size_t n;
    uint8_t *b = fixture(TX_TAPROOT, &n);
    every_truncation(b, n);
    free(b);
}

static cw_code parse_hex(const char *hex, cw_err *err)
{
    size_t n;
    uint8_t *b = unhex(hex, &n);
    cw_arena a = test_arena(n);
    cw_tx tx;
    cw_code rc = btc_tx_parse(b, n, NULL, CW_NET_MAIN, &a, &tx, err);
    free(a.base);
    free(b);
    return rc;
}

/* 1 input (null prevout, empty script), 1 output of `value`, as hex pieces. */
#define TX_HEAD "01000000" "01" "0000000000000000000000000000000000000000000000000000000000000000" "ffffffff" "00" "ffffffff"
#define TX_ONE_OUT "01" "0000000000000000" "00"
#define TX_TAIL "00000000"

Test(tx, malformed_inputs_name_what_and_where)
{
    struct { const char *hex; cw_code code; const char *what; } cases[] = {
        {TX_HEAD TX_ONE_OUT TX_TAIL "00", CW_EFORMAT, "trailing"},
        {"01000000" "00" "02", CW_EFORMAT, "flag 0x02"},
        {"01000000" "00", CW_ETRUNC, "segwit flag"},
        {"01000000" "0001" "00", CW_EFORMAT, "no inputs"},
        /* 0xfd 0x0100 = 1 in three bytes: non-canonical */
        {"01000000" "fd0100", CW_EFORMAT, "non-canonical"},
        {"01000000" "fe00000004", CW_ELIMIT, "exceeds the limit"},
        {"01000000" "ff0000000000000001", CW_ELIMIT, "exceeds the limit"},
        {"01000000" "05" "00", CW_ETRUNC, "input count 5"},
        {TX_HEAD "01" "0140075af0750700" "00" TX_TAIL, CW_ELIMIT, "21,000,000 BTC"},
        {TX_HEAD "01" "0000000000000000" "06" "6a" TX_TAIL, CW_ETRUNC, "scriptPubKey"},
        /* segwit flag with all-empty witnesses */
        {"01000000" "0001" "01" "0000000000000000000000000000000000000000000000000000000000000000" "ffffffff" "00"
         "ffffffff" TX_ONE_OUT "00" TX_TAIL, CW_EFORMAT, "superfluous witness"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cw_err err = {0};
        cw_code rc = parse_hex(cases[i].hex, &err);
        cr_assert_eq(rc, cases[i].code, "case %zu: code %d (%s)", i, rc, err.msg);
        cr_assert(strstr(err.msg, cases[i].what) != NULL, "case %zu: '%s' lacks '%s'", i, err.msg, cases[i].what);
        cr_assert(strstr(err.msg, "byte ") != NULL, "case %zu: no offset in '%s'", i, err.msg);
    }
    cw_err err = {0};
    cr_assert_eq(parse_hex(TX_HEAD TX_ONE_OUT TX_TAIL, &err), CW_OK, "the well-formed base case: %s", err.msg);
}

/* ---------- output values: Core's CheckTransaction bounds ---------- */

/* Little-endian hex of an 8-byte value. */
static void le64_hex(uint64_t v, char out[17])
{
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", (unsigned)(v >> (8 * i) & 0xff));
}

/* A tx of one null input and outputs of the given values (empty scripts). */
static cw_code parse_values(const uint64_t *v, size_t n, cw_err *err)
{
    char hex[1024];
    size_t at = (size_t)snprintf(hex, sizeof hex, "%s%02zx", TX_HEAD, n);
    for (size_t i = 0; i < n; i++) {
        le64_hex(v[i], hex + at);
        at += 16;
        at += (size_t)snprintf(hex + at, sizeof hex - at, "00");
    }
    snprintf(hex + at, sizeof hex - at, "%s", TX_TAIL);
    return parse_hex(hex, err);
}

#define MAX_MONEY 2100000000000000ull /* 21,000,000 * 100,000,000, as consensus/amount.h */

Test(tx, output_values_bounded_at_max_money)
{
    cw_err err = {0};
    uint64_t exact[] = {MAX_MONEY};
    cr_assert_eq(parse_values(exact, 1, &err), CW_OK, "MAX_MONEY exactly is valid: %s", err.msg);
    uint64_t split[] = {MAX_MONEY - 1, 1};
    cr_assert_eq(parse_values(split, 2, &err), CW_OK, "a total of exactly MAX_MONEY is valid: %s", err.msg);
    uint64_t zero[] = {0, 0, MAX_MONEY};
    cr_assert_eq(parse_values(zero, 3, &err), CW_OK, "zero values are valid: %s", err.msg);

    struct { uint64_t v[3]; size_t n; const char *msg; } bad[] = {
        {{MAX_MONEY + 1}, 1, "byte 47: output 0: value 2100000000000001 sat is above 21,000,000 BTC"},
        /* 0xffffffffffffffff is -1 as Core's signed CAmount */
        {{UINT64_MAX}, 1, "output 0: value 18446744073709551615 sat is negative as a signed amount"},
        {{1, (uint64_t)INT64_MIN}, 2, "byte 56: output 1: value 9223372036854775808 sat is negative"},
        /* each within range, the running total not */
        {{MAX_MONEY, 1}, 2, "byte 56: output 1: value 1 sat brings the outputs' total to 2100000000000001 sat"},
        {{MAX_MONEY / 2 + 1, MAX_MONEY / 2, 7}, 3, "output 1: value 1050000000000000 sat brings the outputs' total to "
                                                  "2100000000000001 sat, above 21,000,000 BTC (2100000000000000 sat)"},
        /* two values whose uint64 sum would wrap to a small number */
        {{MAX_MONEY, (uint64_t)INT64_MAX}, 2, "output 1: value 9223372036854775807 sat is above"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&err, 0, sizeof err);
        cr_assert_eq(parse_values(bad[i].v, bad[i].n, &err), CW_ELIMIT, "case %zu: %s", i, err.msg);
        cr_assert(strstr(err.msg, bad[i].msg) != NULL, "case %zu: '%s' lacks '%s'", i, err.msg, bad[i].msg);
    }
}

/* Core's tx_invalid.json as the oracle: of all its vectors, the decoder
 * refuses for an output value exactly the three CheckTransaction value
 * cases, each at the output Core names, and no other vector. */
Test(tx, core_tx_invalid_value_range_vectors)
{
    json_t *root = fixture_json("btc/tx_invalid.json");
    size_t i, vectors = 0, refused = 0;
    const char *comment = "";
    json_t *v;
    json_array_foreach(root, i, v) {
        if (json_array_size(v) == 1 && json_is_string(json_array_get(v, 0))) {
            comment = json_string_value(json_array_get(v, 0));
            continue;
        }
        if (json_array_size(v) != 3 || !json_is_string(json_array_get(v, 1)))
            continue;
        vectors++;
        cw_err err = {0};
        cw_code rc = parse_hex(json_string_value(json_array_get(v, 1)), &err);
        bool value_error = rc == CW_ELIMIT && strstr(err.msg, "21,000,000 BTC") != NULL;
        const char *want = NULL;
        if (strcmp(comment, "Negative output") == 0)
            want = "output 0: value 18446744073709551615 sat is negative";
        else if (strcmp(comment, "MAX_MONEY + 1 output") == 0)
            want = "output 0: value 2100000000000001 sat is above";
        else if (strcmp(comment, "MAX_MONEY output + 1 output") == 0)
            want = "output 1: value 256 sat brings the outputs' total to 2100000000000256 sat";
        cr_assert_eq(value_error, want != NULL, "vector %zu (\"%s\"): %s", i, comment, err.msg);
        if (want) {
            cr_assert_str_eq(json_string_value(json_array_get(v, 2)), "BADTX", "vector %zu", i);
            cr_assert(strstr(err.msg, want) != NULL, "vector %zu: '%s' lacks '%s'", i, err.msg, want);
            refused++;
        }
    }
    cr_assert_eq(refused, 3, "value-range vectors refused: %zu of %zu", refused, vectors);
    cr_assert_gt(vectors, 80, "only %zu vectors", vectors);
    json_decref(root);
}

/* A block holding such a tx is refused with it: real block 514485 with
 * the first output of its first 2-output tx raised past MAX_MONEY, then to a value that is in
 * range alone but takes the tx's total past it. */
Test(tx, block_with_an_out_of_range_output_is_refused)
{
    size_t n;
    uint8_t *blk = fixture(BLOCK_514485, &n);
    cw_arena a = test_arena(n);
    btc_block b;
    cw_tx tx;
    cr_assert_eq(btc_block_open(blk, n, CW_NET_MAIN, &b, NULL), CW_OK);
    size_t idx = 0; /* the first tx with two outputs */
    do
        cr_assert_eq(btc_block_next(&b, &a, &tx, NULL), CW_OK);
    while (idx++ == 0 || tx.n_out < 2);
    idx--;
    cr_assert_lt(tx.out[0].script.n, 0xfd);
    size_t at = (size_t)(tx.out[0].script.p - 9 - blk); /* value, then a 1-byte script length */
    uint64_t other = tx.out[1].value;
    cr_assert_gt(other, 0);
    uint64_t values[] = {MAX_MONEY + 1, MAX_MONEY - other + 1};
    const char *want[] = {"output 0: value 2100000000000001 sat is above 21,000,000 BTC",
                          "output 1: value %llu sat brings the outputs' total to 2100000000000001 sat"};
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 8; i++)
            blk[at + (size_t)i] = (uint8_t)(values[k] >> (8 * i));
        cw_arena_reset(&a);
        cw_err err = {0};
        cr_assert_eq(btc_block_open(blk, n, CW_NET_MAIN, &b, NULL), CW_OK);
        for (size_t t = 0; t < idx; t++)
            cr_assert_eq(btc_block_next(&b, &a, &tx, NULL), CW_OK);
        cr_assert_eq(btc_block_next(&b, &a, &tx, &err), CW_ELIMIT, "case %d: %s", k, err.msg);
        char w[160], head[32];
        snprintf(w, sizeof w, want[k], (unsigned long long)other);
        snprintf(head, sizeof head, "tx %zu: byte ", idx);
        cr_assert(strncmp(err.msg, head, strlen(head)) == 0, "%s", err.msg);
        cr_assert(strstr(err.msg, w) != NULL, "case %d: '%s' lacks '%s'", k, err.msg, w);
    }
    free(a.base);
    free(blk);
}

Test(tx, arena_too_small_is_an_error_not_a_crash)
{
    size_t n;
    uint8_t *b = fixture(TX_TAPROOT, &n);
    uint8_t small[64];
    cw_arena a;
    cw_arena_init(&a, small, sizeof small);
    cw_tx tx;
    cw_err err = {0};
    cr_assert_eq(btc_tx_parse(b, n, NULL, CW_NET_MAIN, &a, &tx, &err), CW_ENOMEM);
    cr_assert(strstr(err.msg, "arena too small") != NULL, "%s", err.msg);
    free(b);
}

/* Random byte flips over real txs: each result is a clean parse or a clean
 * error. Run under the sanitizer build, this is what catches over-reads. */
Test(tx, random_byte_flips, .timeout = 300)
{
    const char *files[] = {TX_TAPROOT, TX_BIGWITNESS};
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    size_t ok = 0, bad = 0;
    for (int f = 0; f < 2; f++) {
        size_t n;
        uint8_t *orig = fixture(files[f], &n);
        uint8_t *b = malloc(n);
        cw_arena a = test_arena(n);
        for (int round = 0; round < 1500; round++) {
            memcpy(b, orig, n);
            int flips = 1 + round % 4;
            for (int k = 0; k < flips; k++) {
                seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                /* bias towards the structural head of the tx */
                size_t at = (round % 2) ? seed % (n < 400 ? n : 400) : seed % n;
                b[at] ^= (uint8_t)(1u << (seed >> 60 & 7));
            }
            cw_tx tx;
            cw_err err = {0};
            cw_arena_reset(&a);
            if (btc_tx_parse(b, n, NULL, CW_NET_MAIN, &a, &tx, &err) == CW_OK) {
                ok++;
                cr_assert_eq(tx.size, n);
            } else {
                bad++;
                cr_assert_gt(strlen(err.msg), 0);
            }
        }
        free(a.base);
        free(b);
        free(orig);
    }
    cr_assert_gt(ok, 0, "some flips land in data and still parse");
    cr_assert_gt(bad, 0, "some flips break the structure");
}

/* Regression: with err == NULL a truncated tx must still be an error (the
 * context prefix once turned the failure into CW_OK). */
Test(tx, truncation_is_an_error_without_an_error_struct)
{
    size_t n;
    uint8_t *b = fixture(TX_TAPROOT, &n);
    cw_arena a = test_arena(n);
    cw_tx tx;
    size_t used = 0;
    for (size_t len = 41; len < 90; len++) {
        cw_arena_reset(&a);
        cr_assert_neq(btc_tx_parse(b, len, &used, CW_NET_MAIN, &a, &tx, NULL), CW_OK, "%zu bytes", len);
    }
    free(a.base);
    free(b);
}

Test(tx, coinbase_height_never_negative)
{
    /* a coinbase whose height push has its top bit set is not a height */
    cw_txin in = {.script_sig = {(const uint8_t *)"\x08\xff\xff\xff\xff\xff\xff\xff\xff", 9}, .prev_vout = 0xffffffffu};
    cw_tx tx = {.flags = CW_TX_COINBASE, .in = &in, .n_in = 1};
    int64_t h = 0;
    cr_assert(!btc_coinbase_height(&tx, &h));
    in.script_sig = (cw_span){(const uint8_t *)"\x03\xb5\xd9\x07", 4}; /* 514485 */
    cr_assert(btc_coinbase_height(&tx, &h));
    cr_assert_eq(h, 514485);
}
