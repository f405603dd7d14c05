/* libFuzzer target: java-tron's JSON (chains/tron/api.h): the first byte
 * picks the reader (each trigger kind, a signed tx, a block then infos),
 * the rest is the JSON. Beyond "no crash": every error says what, and a
 * parsed block's txs point into its own transfer list. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chains/tron/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t pick = data[0] % 10;
    const char *json = (const char *)data + 1;
    size_t n = size - 1;
    cw_err err;
    err.msg[0] = '\0';
    cw_code rc;
    if (pick >= 1 && pick <= 7) {
        tron_trigger t;
        rc = tron_trigger_parse((tron_trigger_kind)pick, json, n, &t, &err);
        if (rc == CW_OK && t.tx.n_xfer && t.tx.xfer != t.xf)
            abort();
        tron_trigger_free(&t);
    } else if (pick == 8) {
        tron_signed s;
        rc = tron_signed_parse(json, n, &s, &err);
        if (rc == CW_OK)
            tron_signed_free(&s);
    } else {
        /* a block, then the same text as its infos */
        tron_block b;
        rc = tron_block_parse(json, n, &b, &err);
        if (rc == CW_OK) {
            cw_code r2 = tron_block_apply_infos(&b, json, n, &err);
            if (r2 != CW_OK && err.msg[0] == '\0')
                abort();
            for (size_t i = 0; i < b.n_tx; i++)
                if (b.txs[i].n_xfer && (b.txs[i].xfer < b.xf || b.txs[i].xfer + b.txs[i].n_xfer > b.xf + b.n_xf))
                    abort();
            tron_block_free(&b);
            return 0;
        }
    }
    if (rc != CW_OK && err.msg[0] == '\0')
        abort();
    return 0;
}
