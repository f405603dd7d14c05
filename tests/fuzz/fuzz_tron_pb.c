/* libFuzzer target: tron_raw_parse (the strict protobuf reader of a Tron
 * tx's signed bytes) on arbitrary bytes. Beyond "no crash": every error
 * says what, a parsed tx's spans stay inside the input, and the transfers
 * it asks for (calldata read) have Tron addresses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chains/tron/tx.h"

static void inside(const uint8_t *data, size_t size, cw_span s)
{
    if (s.n && (s.p < data || s.p + s.n > data + size))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tron_raw r;
    cw_err err;
    err.msg[0] = '\0';
    if (tron_raw_parse(data, size, &r, &err) != CW_OK) {
        if (err.msg[0] == '\0')
            abort();
        return 0;
    }
    inside(data, size, r.call_data);
    inside(data, size, r.memo);
    inside(data, size, r.ref_block_bytes);
    inside(data, size, r.ref_block_hash);
    cw_transfer xf[TRON_CALL_XFER_MAX];
    size_t n = 0;
    err.msg[0] = '\0';
    cw_code rc = tron_raw_transfers(&r, true, xf, &n, &err);
    if (rc != CW_OK && err.msg[0] == '\0')
        abort();
    if (n > TRON_CALL_XFER_MAX)
        abort();
    for (size_t i = 0; i < n; i++)
        if (xf[i].from.chain != CW_CHAIN_TRON || xf[i].to.chain != CW_CHAIN_TRON)
            abort();
    /* a signature over it: any 65 bytes from the input must not crash recovery */
    if (size >= TRON_SIG_LEN) {
        uint8_t signer[20];
        tron_raw_check_signer(&r, data, TRON_SIG_LEN, signer, &err);
    }
    return 0;
}
