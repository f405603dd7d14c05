/* libFuzzer target: btc_psbt_parse on arbitrary bytes, and btc_psbt_text
 * on the same bytes as text. Properties beyond "no crash": every error
 * says what; a parsed PSBT's resolved inputs carry values within 21M BTC
 * and its tx has the input and output maps it claimed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chains/bitcoin/psbt.h"
#include "chains/bitcoin/tx.h"

static void parse(const uint8_t *data, size_t size)
{
    size_t cap = btc_psbt_arena_bound(size);
    void *mem = malloc(cap ? cap : 1);
    if (mem == NULL)
        return;
    cw_arena arena;
    cw_arena_init(&arena, mem, cap);
    btc_psbt ps;
    cw_err err = {0};
    if (btc_psbt_parse(data, size, CW_NET_MAIN, &arena, &ps, &err) == CW_OK) {
        if (ps.n_utxo > ps.tx.n_in || ps.version != 0)
            abort();
        for (size_t i = 0; i < ps.tx.n_in; i++)
            if (ps.tx.in[i].resolved && ps.tx.in[i].value > BTC_MAX_MONEY)
                abort();
    } else if (err.msg[0] == '\0') {
        abort();
    }
    free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse(data, size);
    cw_buf b = CW_BUF_INIT;
    cw_err err = {0};
    if (btc_psbt_text((const char *)data, size, &b, &err) == CW_OK)
        parse(b.p, b.n);
    else if (err.msg[0] == '\0')
        abort();
    cw_buf_free(&b);
    return 0;
}
