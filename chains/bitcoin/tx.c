#include "tx.h"

#include <string.h>

#include "chains/hash.h"
#include "internal.h"
#include "script.h"

/* The smallest serialized input (32+4 prevout, 1 script length, 4 sequence)
 * and output (8 value, 1 script length) bound how many a buffer can hold. */
#define MIN_TXIN_BYTES 41
#define MIN_TXOUT_BYTES 9

size_t btc_arena_bound(size_t len)
{
    return (len / MIN_TXIN_BYTES + 1) * sizeof(cw_txin) + (len / MIN_TXOUT_BYTES + 1) * sizeof(cw_txout) +
           64 * 16 /* alignment slack */ + (len / 60 + 1) * 32 /* slack per tx of a block */;
}

static cw_code read_count(btc_reader *r, uint64_t *n, size_t min_each, const char *what)
{
    size_t at = r->pos;
    cw_code rc = btc_read_compact(r, n, what);
    if (rc)
        return rc;
    if (*n > btc_left(r) / min_each)
        return cw_err_set(r->err, CW_ETRUNC, at, "byte %zu: truncated: %s %llu needs at least %llu bytes, %zu left",
                          at, what, (unsigned long long)*n, (unsigned long long)*n * min_each, btc_left(r));
    return CW_OK;
}

cw_code btc_tx_read(btc_reader *r, cw_net net, cw_arena *arena, cw_tx *tx)
{
    cw_code rc;
    size_t start = r->pos;
    memset(tx, 0, sizeof *tx);
    tx->chain = CW_CHAIN_BITCOIN;
    tx->net = (uint8_t)net;

    uint32_t version;
    if ((rc = btc_read_u32(r, &version, "tx version")))
        return rc;
    tx->version = (int32_t)version;

    bool segwit = false;
    size_t body_start = r->pos; /* first byte hashed after version for the txid */
    if (btc_left(r) >= 1 && r->buf[r->pos] == 0x00) {
        if (btc_need(r, 2, "segwit flag"))
            return CW_ETRUNC;
        uint8_t flag = r->buf[r->pos + 1];
        if (flag != 0x01)
            return cw_err_set(r->err, CW_EFORMAT, r->pos + 1,
                              "byte %zu: segwit marker followed by flag 0x%02x (only 0x01 is defined)", r->pos + 1,
                              flag);
        segwit = true;
        r->pos += 2;
        body_start = r->pos;
    }

    uint64_t n_in = 0;
    if ((rc = read_count(r, &n_in, MIN_TXIN_BYTES, "input count")))
        return rc;
    if (n_in == 0)
        return cw_err_set(r->err, CW_EFORMAT, r->pos - 1, "byte %zu: transaction has no inputs", r->pos - 1);
    tx->in = cw_arena_alloc(arena, (size_t)n_in, sizeof(cw_txin));
    if (tx->in == NULL)
        return cw_err_set(r->err, CW_ENOMEM, r->pos, "arena too small for %llu inputs", (unsigned long long)n_in);
    tx->n_in = (size_t)n_in;
    for (size_t i = 0; i < tx->n_in; i++) {
        cw_txin *in = &tx->in[i];
        memset(in, 0, sizeof *in);
        if ((rc = btc_need(r, 36, "input prevout")))
            return cw_err_prefix(r->err, rc, "input %zu", i);
        memcpy(in->prev_txid, r->buf + r->pos, 32);
        r->pos += 32;
        if ((rc = btc_read_u32(r, &in->prev_vout, "input prevout index")) ||
            (rc = btc_read_var_bytes(r, &in->script_sig, "scriptSig")) ||
            (rc = btc_read_u32(r, &in->sequence, "input sequence")))
            return cw_err_prefix(r->err, rc, "input %zu", i);
    }

    uint64_t n_out = 0;
    if ((rc = read_count(r, &n_out, MIN_TXOUT_BYTES, "output count")))
        return rc;
    tx->out = cw_arena_alloc(arena, (size_t)n_out, sizeof(cw_txout));
    if (tx->out == NULL && n_out > 0)
        return cw_err_set(r->err, CW_ENOMEM, r->pos, "arena too small for %llu outputs", (unsigned long long)n_out);
    tx->n_out = (size_t)n_out;
    uint64_t out_total = 0; /* <= BTC_MAX_MONEY after each output, so the sum cannot wrap */
    for (size_t i = 0; i < tx->n_out; i++) {
        cw_txout *out = &tx->out[i];
        size_t at = r->pos;
        out->n = (uint32_t)i;
        if ((rc = btc_read_u64(r, &out->value, "output value")) ||
            (rc = btc_read_var_bytes(r, &out->script, "scriptPubKey")))
            return cw_err_prefix(r->err, rc, "output %zu", i);
        /* Core's CheckTransaction: each value and the running total in
         * 0..MAX_MONEY (a value read as negative int64 is above it here) */
        if (out->value > BTC_MAX_MONEY)
            return cw_err_set(r->err, CW_ELIMIT, at,
                              "byte %zu: output %zu: value %llu sat is %s 21,000,000 BTC (%llu sat): no valid tx "
                              "carries it",
                              at, i, (unsigned long long)out->value,
                              (int64_t)out->value < 0 ? "negative as a signed amount, and above" : "above",
                              (unsigned long long)BTC_MAX_MONEY);
        out_total += out->value;
        if (out_total > BTC_MAX_MONEY)
            return cw_err_set(r->err, CW_ELIMIT, at,
                              "byte %zu: output %zu: value %llu sat brings the outputs' total to %llu sat, above "
                              "21,000,000 BTC (%llu sat): no valid tx carries it",
                              at, i, (unsigned long long)out->value, (unsigned long long)out_total,
                              (unsigned long long)BTC_MAX_MONEY);
        out->type = btc_script_classify(out->script.p, out->script.n, net, &out->addr);
    }
    size_t body_end = r->pos;

    if (segwit) {
        bool any = false;
        for (size_t i = 0; i < tx->n_in; i++) {
            cw_txin *in = &tx->in[i];
            size_t wstart = r->pos;
            uint64_t items = 0;
            if ((rc = btc_read_compact(r, &items, "witness item count")))
                return cw_err_prefix(r->err, rc, "witness of input %zu", i);
            for (uint64_t k = 0; k < items; k++) {
                cw_span item;
                if ((rc = btc_read_var_bytes(r, &item, "witness item")))
                    return cw_err_prefix(r->err, rc, "witness of input %zu", i);
            }
            in->witness.p = r->buf + wstart;
            in->witness.n = r->pos - wstart;
            in->witness_items = (uint32_t)items;
            any |= items > 0;
        }
        if (!any)
            return cw_err_set(r->err, CW_EFORMAT, body_end,
                              "byte %zu: segwit flag set but every witness is empty (superfluous witness record)",
                              body_end);
    }
    uint32_t locktime;
    if ((rc = btc_read_u32(r, &locktime, "locktime")))
        return rc;
    tx->locktime = locktime;

    const uint8_t *p = r->buf + start;
    tx->raw.p = p;
    tx->raw.n = r->pos - start;
    tx->size = tx->raw.n;
    if (segwit) {
        tx->flags |= CW_TX_SEGWIT;
        tx->base_size = 4 + (body_end - body_start) + 4;
        cw_sha256_ctx c;
        uint8_t once[32];
        cw_sha256_init(&c);
        cw_sha256_update(&c, p, 4);
        cw_sha256_update(&c, r->buf + body_start, body_end - body_start);
        cw_sha256_update(&c, r->buf + r->pos - 4, 4);
        cw_sha256_final(&c, once);
        cw_sha256(once, 32, tx->txid);
        cw_sha256d(p, tx->size, tx->wtxid);
    } else {
        tx->base_size = tx->size;
        cw_sha256d(p, tx->size, tx->txid);
        memcpy(tx->wtxid, tx->txid, 32);
    }
    static const uint8_t zero[32];
    if (tx->n_in == 1 && tx->in[0].prev_vout == 0xffffffffu && memcmp(tx->in[0].prev_txid, zero, 32) == 0)
        tx->flags |= CW_TX_COINBASE;
    return CW_OK;
}

cw_code btc_tx_parse(const uint8_t *buf, size_t len, size_t *consumed, cw_net net, cw_arena *arena, cw_tx *tx,
                     cw_err *err)
{
    btc_reader r = {buf, 0, len, err};
    cw_code rc = btc_tx_read(&r, net, arena, tx);
    if (rc)
        return rc;
    if (consumed)
        *consumed = r.pos;
    else if (r.pos != len)
        return cw_err_set(err, CW_EFORMAT, r.pos, "byte %zu: %zu trailing bytes after the transaction", r.pos,
                          len - r.pos);
    return CW_OK;
}

void btc_witness_begin(const cw_txin *in, btc_witness_iter *it)
{
    btc_reader r = {in->witness.p, 0, in->witness.n, NULL};
    uint64_t n = 0;
    it->remaining = 0;
    it->p = NULL;
    it->left = 0;
    if (in->witness.n == 0 || btc_read_compact(&r, &n, "witness item count"))
        return;
    it->p = in->witness.p + r.pos;
    it->left = in->witness.n - r.pos;
    it->remaining = in->witness_items;
}

bool btc_witness_next(btc_witness_iter *it, cw_span *item)
{
    if (it->remaining == 0)
        return false;
    /* Bounds are still checked: a hand-built cw_txin may lie. */
    btc_reader r = {it->p, 0, it->left, NULL};
    if (btc_read_var_bytes(&r, item, "witness item")) {
        it->remaining = 0;
        return false;
    }
    it->p += r.pos;
    it->left -= r.pos;
    it->remaining--;
    return true;
}

bool btc_witness_item(const cw_txin *in, uint32_t i, cw_span *item)
{
    btc_witness_iter it;
    btc_witness_begin(in, &it);
    for (uint32_t k = 0; btc_witness_next(&it, item); k++)
        if (k == i)
            return true;
    return false;
}
