/* libFuzzer target: blk-file records and blocks on arbitrary bytes, walked
 * the way the monitor walks them, merkle and witness checks included. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chains/bitcoin/blkfile.h"
#include "chains/bitcoin/block.h"
#include "chains/bitcoin/tx.h"

static void walk_block(const uint8_t *p, size_t n)
{
    btc_block b;
    cw_err err;
    if (btc_block_open(p, n, CW_NET_MAIN, &b, &err) != CW_OK)
        return;
    size_t cap = btc_arena_bound(n);
    void *mem = malloc(cap);
    uint8_t(*ids)[32] = malloc((size_t)b.tx_count * 32 + 32);
    if (mem == NULL || ids == NULL)
        goto out;
    cw_arena arena;
    cw_arena_init(&arena, mem, cap);
    while (b.next < b.tx_count) {
        cw_tx tx;
        uint64_t i = b.next;
        cw_arena_reset(&arena);
        if (btc_block_next(&b, &arena, &tx, &err) != CW_OK)
            goto out;
        memcpy(ids[i], tx.txid, 32);
        if (i == 0)
            btc_witness_check(&tx, tx.wtxid);
        int64_t h;
        btc_coinbase_height(&tx, &h);
    }
    btc_block_finish(&b, &err);
    uint8_t root[32];
    bool mutated;
    btc_merkle_root(ids, (size_t)b.tx_count, root, &mutated);
out:
    free(ids);
    free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (btc_blk_is_framed(data, size)) {
        size_t pos = 0;
        for (;;) {
            cw_net net;
            cw_span blk;
            bool done;
            cw_err err;
            if (btc_blk_next(data, size, &pos, &net, &blk, &done, &err) != CW_OK) {
                /* resync as the blk scan does: the next main-net magic */
                size_t next = btc_blk_find_magic(data, size, pos + 1, CW_NET_MAIN);
                if (next <= pos || next > size)
                    abort();
                pos = next;
                continue;
            }
            if (done)
                break;
            if (blk.p < data || blk.p + blk.n > data + size)
                abort();
            walk_block(blk.p, blk.n);
        }
    } else {
        walk_block(data, size);
    }
    return 0;
}
