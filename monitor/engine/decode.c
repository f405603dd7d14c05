#include "decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/bitcoin/hint.h"
#include "chains/bitcoin/tx.h"
#include "chains/hex.h"

static void addr_json(cw_json *j, const cw_addr *a)
{
    char text[CW_ADDR_TEXT_MAX];
    if (a->kind != CW_ADDR_NONE && cw_addr_format(a, text, sizeof text) > 0)
        cw_json_str(j, text);
    else
        cw_json_null(j);
}

void decode_tx_json(cw_json *j, const cw_tx *tx)
{
    cw_json_obj_begin(j);
    cw_json_key(j, "txid");
    cw_json_hex_rev(j, tx->txid, 32);
    cw_json_key(j, "wtxid");
    cw_json_hex_rev(j, tx->wtxid, 32);
    cw_json_key(j, "size");
    cw_json_u64(j, tx->size);
    cw_json_key(j, "vsize");
    cw_json_u64(j, cw_tx_vsize(tx));
    cw_json_key(j, "weight");
    cw_json_u64(j, cw_tx_weight(tx));
    cw_json_key(j, "coinbase");
    cw_json_bool(j, (tx->flags & CW_TX_COINBASE) != 0);
    cw_json_key(j, "inputs");
    cw_json_arr_begin(j);
    for (size_t i = 0; i < tx->n_in; i++) {
        const cw_txin *in = &tx->in[i];
        cw_json_obj_begin(j);
        cw_json_key(j, "prevout");
        if (tx->flags & CW_TX_COINBASE) {
            cw_json_null(j);
        } else {
            char ref[64 + 1 + 10 + 1];
            cw_hex_encode_rev(in->prev_txid, 32, ref);
            snprintf(ref + 64, sizeof ref - 64, ":%u", in->prev_vout);
            cw_json_str(j, ref);
        }
        cw_json_key(j, "hint");
        cw_addr hint;
        if (!(tx->flags & CW_TX_COINBASE) && btc_input_hint(in, (cw_net)tx->net, &hint))
            addr_json(j, &hint);
        else
            cw_json_null(j);
        cw_json_obj_end(j);
    }
    cw_json_arr_end(j);
    cw_json_key(j, "outputs");
    cw_json_arr_begin(j);
    for (size_t i = 0; i < tx->n_out; i++) {
        const cw_txout *o = &tx->out[i];
        cw_json_obj_begin(j);
        cw_json_key(j, "n");
        cw_json_u64(j, o->n);
        cw_json_key(j, "value");
        cw_json_u64(j, o->value);
        cw_json_key(j, "type");
        cw_json_str(j, cw_script_type_name(o->type));
        cw_json_key(j, "address");
        addr_json(j, &o->addr);
        cw_json_obj_end(j);
    }
    cw_json_arr_end(j);
    cw_json_obj_end(j);
}

void block_walker_free(block_walker *w)
{
    free(w->arena_mem);
    free(w->txids);
    free(w->wtxids);
    memset(w, 0, sizeof *w);
}

static cw_code walker_fit(block_walker *w, size_t len, uint64_t tx_count, cw_err *err)
{
    size_t need = btc_arena_bound(len);
    if (need > w->arena_cap) {
        void *p = realloc(w->arena_mem, need);
        if (p == NULL)
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory for a %zu-byte decode arena", need);
        w->arena_mem = p;
        w->arena_cap = need;
    }
    if (tx_count > w->hash_cap) {
        void *a = realloc(w->txids, tx_count * 32), *b = a ? realloc(w->wtxids, tx_count * 32) : NULL;
        if (a) w->txids = a;
        if (b) w->wtxids = b;
        if (a == NULL || b == NULL)
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory for %llu txids",
                              (unsigned long long)tx_count);
        w->hash_cap = tx_count;
    }
    return CW_OK;
}

cw_code decode_block_walk(block_walker *w, const uint8_t *buf, size_t len, cw_net net, decode_tx_fn fn, void *ctx,
                          block_summary *s, cw_err *err)
{
    memset(s, 0, sizeof *s);
    btc_block b;
    cw_code rc = btc_block_open(buf, len, net, &b, err);
    if (rc)
        return rc;
    if ((rc = walker_fit(w, len, b.tx_count, err)))
        return rc;
    s->header = b.header;
    s->tx_count = b.tx_count;
    s->size = len;
    s->weight = (uint64_t)(b.pos) * 4; /* header and count: no witness */
    cw_arena arena;
    cw_arena_init(&arena, w->arena_mem, w->arena_cap);
    /* The coinbase is re-decoded into its own arena slice for the commitment
     * check at the end, so keep its span. */
    cw_span coinbase = {0};
    while (b.next < b.tx_count) {
        cw_arena_reset(&arena);
        cw_tx tx;
        uint64_t i = b.next;
        if ((rc = btc_block_next(&b, &arena, &tx, err)))
            return rc;
        memcpy(w->txids[i], tx.txid, 32);
        if (i == 0) {
            memset(w->wtxids[0], 0, 32);
            coinbase = tx.raw;
            s->has_height = s->header.version >= 2 && btc_coinbase_height(&tx, &s->height);
        } else {
            memcpy(w->wtxids[i], tx.wtxid, 32);
        }
        s->weight += cw_tx_weight(&tx);
        s->n_segwit += (tx.flags & CW_TX_SEGWIT) != 0;
        s->n_inputs += tx.n_in;
        s->n_outputs += tx.n_out;
        for (size_t k = 0; k < tx.n_out; k++) {
            s->total_out += tx.out[k].value;
            s->by_type[tx.out[k].type]++;
            s->n_with_address += tx.out[k].addr.kind != CW_ADDR_NONE;
        }
        if (fn && (rc = fn(ctx, &tx, err)))
            return rc;
    }
    if ((rc = btc_block_finish(&b, err)))
        return rc;
    uint8_t root[32];
    btc_merkle_root(w->txids, (size_t)s->tx_count, root, &s->merkle_mutated);
    s->merkle_ok = memcmp(root, s->header.merkle_root, 32) == 0;
    btc_merkle_root(w->wtxids, (size_t)s->tx_count, root, &(bool){false});
    cw_arena_reset(&arena);
    cw_tx cb;
    if (btc_tx_parse(coinbase.p, coinbase.n, NULL, net, &arena, &cb, NULL) == CW_OK)
        s->witness = btc_witness_check(&cb, root);
    if (s->witness == BTC_WITNESS_NONE && s->n_segwit > 0)
        s->witness = BTC_WITNESS_MISSING;
    return CW_OK;
}

void decode_block_json(cw_json *j, const block_summary *s)
{
    static const char *const witness_names[] = {"none", "ok", "bad", "missing"};
    cw_json_obj_begin(j);
    cw_json_key(j, "hash");
    cw_json_hex_rev(j, s->header.hash, 32);
    cw_json_key(j, "prev");
    cw_json_hex_rev(j, s->header.prev, 32);
    cw_json_key(j, "merkle_root");
    cw_json_hex_rev(j, s->header.merkle_root, 32);
    cw_json_key(j, "time");
    cw_json_u64(j, s->header.time);
    cw_json_key(j, "height");
    if (s->has_height)
        cw_json_i64(j, s->height);
    else
        cw_json_null(j);
    cw_json_key(j, "version");
    cw_json_i64(j, s->header.version);
    cw_json_key(j, "bits");
    cw_json_u64(j, s->header.bits);
    cw_json_key(j, "nonce");
    cw_json_u64(j, s->header.nonce);
    cw_json_key(j, "size");
    cw_json_u64(j, s->size);
    cw_json_key(j, "weight");
    cw_json_u64(j, s->weight);
    cw_json_key(j, "tx_count");
    cw_json_u64(j, s->tx_count);
    cw_json_key(j, "merkle_ok");
    cw_json_bool(j, s->merkle_ok && !s->merkle_mutated);
    cw_json_key(j, "witness_commitment");
    cw_json_str(j, witness_names[s->witness]);
    cw_json_obj_end(j);
}
