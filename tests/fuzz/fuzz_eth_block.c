/* libFuzzer target: an Ethereum node's block and receipts JSON
 * (monitor/sources/eth_follow.c eth_block_from_json), the input as
 * {"block": ..., "receipts": [...]} (the seed is a real anvil block,
 * tests/data/eth_follow/block2.json). Anything is refused or accepted,
 * never a crash, a hang or a leak; an accepted block's txs each carry at
 * least their value transfer. */
#include <jansson.h>
#include <stdlib.h>

#include "monitor/sources/eth_follow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *d = json_loadb((const char *)data, size, 0, NULL);
    if (d == NULL)
        return 0;
    account_block *b = NULL;
    cw_err err = {0};
    if (eth_block_from_json(json_object_get(d, "block"), json_object_get(d, "receipts"), -1, &b, &err) == CW_OK) {
        for (size_t i = 0; i < b->n_txs; i++)
            if (b->txs[i].n_xfer < 1)
                abort();
        eth_block_free(b);
    } else if (b != NULL || err.msg[0] == '\0') {
        abort(); /* a refusal says why and hands nothing back */
    }
    json_decref(d);
    return 0;
}
