/* libFuzzer target: btc_tx_parse on arbitrary bytes. Properties beyond "no
 * crash": a parsed tx spans exactly its bytes and its witness spans stay
 * inside them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chains/bitcoin/coinjoin.h"
#include "chains/bitcoin/tx.h"

/* The multi-party detector on a parsed tx: a why line exactly when
 * something was found, and a known name. */
static void classify(const cw_tx *tx)
{
    char why[BTC_MP_WHY_MAX];
    btc_multiparty k = btc_multiparty_detect(tx, why, sizeof why);
    if ((k != BTC_MP_NONE) != (why[0] != '\0') || strcmp(btc_multiparty_name(k), "unknown") == 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cap = btc_arena_bound(size);
    void *mem = malloc(cap);
    if (mem == NULL)
        return 0;
    cw_arena arena;
    cw_arena_init(&arena, mem, cap);
    cw_tx tx;
    cw_err err;
    size_t used;
    for (int net = 0; net < 2; net++) {
        cw_arena_reset(&arena);
        if (btc_tx_parse(data, size, &used, (cw_net)net, &arena, &tx, &err) == CW_OK) {
            if (used > size || tx.size != used || tx.raw.p != data || tx.base_size > tx.size)
                abort();
            for (size_t i = 0; i < tx.n_in; i++) {
                const cw_txin *in = &tx.in[i];
                if (in->witness.n && (in->witness.p < data || in->witness.p + in->witness.n > data + size))
                    abort();
                btc_witness_iter it;
                cw_span item;
                btc_witness_begin(in, &it);
                uint32_t k = 0;
                while (btc_witness_next(&it, &item))
                    k++;
                if (k != in->witness_items)
                    abort();
            }
            classify(&tx);
            /* again as if the resolver knew every prevout, with values and
             * addresses taken from the outputs, so the value checks run too */
            for (size_t i = 0; i < tx.n_in && tx.n_out > 0; i++) {
                tx.in[i].resolved = true;
                tx.in[i].value = tx.out[i % tx.n_out].value;
                tx.in[i].addr = tx.out[(i + 1) % tx.n_out].addr;
            }
            classify(&tx);
        } else if (err.msg[0] == '\0') {
            abort(); /* every error says what */
        }
    }
    free(mem);
    return 0;
}
