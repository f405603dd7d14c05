#include "block.h"

#include <string.h>

#include "chains/hash.h"
#include "internal.h"
#include "reader.h"
#include "script.h"
#include "tx.h"

#define MIN_TX_BYTES 60 /* version, 1 input of 41, 1 output of 9, locktime... */

cw_code btc_header_parse(const uint8_t *buf, size_t len, btc_header *h, cw_err *err)
{
    if (len < BTC_HEADER_SIZE)
        return cw_err_set(err, CW_ETRUNC, len, "byte %zu: truncated block header: need 80 bytes, have %zu", len, len);
    h->version = (int32_t)btc_le32(buf);
    memcpy(h->prev, buf + 4, 32);
    memcpy(h->merkle_root, buf + 36, 32);
    h->time = btc_le32(buf + 68);
    h->bits = btc_le32(buf + 72);
    h->nonce = btc_le32(buf + 76);
    cw_sha256d(buf, BTC_HEADER_SIZE, h->hash);
    return CW_OK;
}

cw_code btc_block_open(const uint8_t *buf, size_t len, cw_net net, btc_block *b, cw_err *err)
{
    memset(b, 0, sizeof *b);
    cw_code rc = btc_header_parse(buf, len, &b->header, err);
    if (rc)
        return rc;
    btc_reader r = {buf, BTC_HEADER_SIZE, len, err};
    if ((rc = btc_read_compact(&r, &b->tx_count, "tx count")))
        return rc;
    if (b->tx_count == 0)
        return cw_err_set(err, CW_EFORMAT, BTC_HEADER_SIZE, "byte 80: block has no transactions");
    if (b->tx_count > btc_left(&r) / MIN_TX_BYTES)
        return cw_err_set(err, CW_ETRUNC, BTC_HEADER_SIZE,
                          "byte 80: truncated: tx count %llu needs at least %llu bytes, %zu left",
                          (unsigned long long)b->tx_count, (unsigned long long)b->tx_count * MIN_TX_BYTES,
                          btc_left(&r));
    b->buf = buf;
    b->len = len;
    b->pos = r.pos;
    b->net = net;
    return CW_OK;
}

cw_code btc_block_next(btc_block *b, cw_arena *arena, cw_tx *tx, cw_err *err)
{
    if (b->next >= b->tx_count)
        return cw_err_set(err, CW_EARG, b->pos, "block: all %llu transactions already read",
                          (unsigned long long)b->tx_count);
    btc_reader r = {b->buf, b->pos, b->len, err};
    cw_code rc = btc_tx_read(&r, b->net, arena, tx);
    if (rc)
        return cw_err_prefix(err, rc, "tx %llu", (unsigned long long)b->next);
    bool coinbase = (tx->flags & CW_TX_COINBASE) != 0;
    if (b->next == 0 && !coinbase)
        return cw_err_set(err, CW_EFORMAT, b->pos, "tx 0: byte %zu: the first transaction is not a coinbase", b->pos);
    if (b->next > 0 && coinbase)
        return cw_err_set(err, CW_EFORMAT, b->pos, "tx %llu: byte %zu: a coinbase after the first transaction",
                          (unsigned long long)b->next, b->pos);
    b->pos = r.pos;
    b->next++;
    return CW_OK;
}

cw_code btc_block_finish(const btc_block *b, cw_err *err)
{
    if (b->next != b->tx_count)
        return cw_err_set(err, CW_EARG, b->pos, "block: %llu of %llu transactions read",
                          (unsigned long long)b->next, (unsigned long long)b->tx_count);
    if (b->pos != b->len)
        return cw_err_set(err, CW_EFORMAT, b->pos, "byte %zu: %zu trailing bytes after the last transaction", b->pos,
                          b->len - b->pos);
    return CW_OK;
}

void btc_merkle_root(uint8_t (*h)[32], size_t n, uint8_t root[32], bool *mutated)
{
    *mutated = false;
    if (n == 0) {
        memset(root, 0, 32);
        return;
    }
    while (n > 1) {
        for (size_t i = 0; i + 1 < n; i += 2)
            if (memcmp(h[i], h[i + 1], 32) == 0)
                *mutated = true;
        size_t m = 0;
        for (size_t i = 0; i < n; i += 2) {
            uint8_t pair[64];
            memcpy(pair, h[i], 32);
            memcpy(pair + 32, h[i + 1 < n ? i + 1 : i], 32); /* odd count: the last pairs with itself */
            cw_sha256d(pair, 64, h[m++]);
        }
        n = m;
    }
    memcpy(root, h[0], 32);
}

btc_witness_status btc_witness_check(const cw_tx *cb, const uint8_t witness_root[32])
{
    static const uint8_t head[6] = {0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed};
    const cw_txout *commit = NULL;
    for (size_t i = 0; i < cb->n_out; i++) /* the last matching output counts */
        if (cb->out[i].script.n >= 38 && memcmp(cb->out[i].script.p, head, 6) == 0)
            commit = &cb->out[i];
    if (commit == NULL)
        return BTC_WITNESS_NONE;
    cw_span reserved;
    if (cb->n_in != 1 || cb->in[0].witness_items != 1 || !btc_witness_item(&cb->in[0], 0, &reserved) ||
        reserved.n != 32)
        return BTC_WITNESS_BAD;
    uint8_t buf[64], want[32];
    memcpy(buf, witness_root, 32);
    memcpy(buf + 32, reserved.p, 32);
    cw_sha256d(buf, 64, want);
    return memcmp(want, commit->script.p + 6, 32) == 0 ? BTC_WITNESS_OK : BTC_WITNESS_BAD;
}

bool btc_coinbase_height(const cw_tx *cb, int64_t *height)
{
    if (!(cb->flags & CW_TX_COINBASE))
        return false;
    const uint8_t *s = cb->in[0].script_sig.p;
    size_t n = cb->in[0].script_sig.n;
    if (n < 1)
        return false;
    if (s[0] >= 0x51 && s[0] <= 0x60) { /* OP_1..OP_16: heights 1..16 */
        *height = s[0] - 0x50;
        return true;
    }
    size_t len = s[0];
    if (len < 1 || len > 8 || n < 1 + len)
        return false;
    if (s[len] & 0x80) /* script numbers are sign-magnitude; heights are positive */
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++)
        v |= (uint64_t)s[1 + i] << (8 * i);
    *height = (int64_t)v;
    return true;
}
