/* libFuzzer target: the strict RLP reader on arbitrary bytes. Properties
 * beyond "no crash": a checked item re-encodes to the same bytes (strict
 * means exactly one encoding), and every error says what and where. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chains/ethereum/rlp.h"

/* Re-encodes one checked item from its parts with the writer. */
static size_t reencode(const uint8_t *p, size_t n, uint8_t *out, size_t cap, unsigned depth)
{
    eth_rlp r;
    eth_rlp_item it;
    eth_rlp_init(&r, p, n);
    if (eth_rlp_next(&r, "item", &it, NULL) != CW_OK)
        abort();
    eth_rlp_w w;
    eth_rlp_w_init(&w, out, cap, NULL);
    if (!it.is_list) {
        eth_rlp_w_bytes(&w, it.payload.p, it.payload.n);
        return w.n;
    }
    /* the list's items, each re-encoded recursively (depth is bounded by the check) */
    uint8_t *tmp = malloc(it.payload.n + 1);
    size_t t = 0;
    eth_rlp sub;
    eth_rlp_init(&sub, it.payload.p, it.payload.n);
    while (!eth_rlp_done(&sub)) {
        eth_rlp_item c;
        if (eth_rlp_next(&sub, "item", &c, NULL) != CW_OK)
            abort();
        t += reencode(it.payload.p + c.off, c.size, tmp + t, it.payload.n + 1 - t, depth + 1);
    }
    eth_rlp_w_list(&w, t);
    eth_rlp_w_raw(&w, tmp, t);
    free(tmp);
    return w.n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cw_err err;
    if (eth_rlp_check(data, size, &err) == CW_OK) {
        uint8_t *out = malloc(size + 16);
        size_t n = reencode(data, size, out, size + 16, 0);
        if (n != size || memcmp(out, data, size) != 0)
            abort();
        free(out);
    } else if (err.msg[0] == '\0' || (err.offset != CW_NO_OFFSET && err.offset > size)) {
        abort();
    }
    /* the typed readers on the same bytes: no crash, errors said */
    eth_rlp r;
    eth_rlp_init(&r, data, size);
    uint64_t v;
    cw_u256 u;
    cw_span s;
    while (!eth_rlp_done(&r)) {
        size_t at = r.pos;
        if (eth_rlp_uint64(&r, "a", &v, &err) && eth_rlp_u256(&r, "b", &u, &err) && eth_rlp_bytes(&r, "c", &s, &err)) {
            eth_rlp sub;
            if (eth_rlp_list(&r, "d", &sub, NULL, &err) != CW_OK)
                break;
        }
        if (r.pos <= at)
            abort();
    }
    return 0;
}
