/* rlp.c: stub (first commit: headers only). */
#include "rlp.h"

#include <string.h>

void eth_rlp_init(eth_rlp *r, const uint8_t *buf, size_t len) { r->base = buf; r->pos = 0; r->end = len; r->depth = 0; }
cw_code eth_rlp_next(eth_rlp *r, const char *field, eth_rlp_item *it, cw_err *err) { (void)r; (void)it; return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "%s: RLP reader not implemented yet", field); }
cw_code eth_rlp_bytes(eth_rlp *r, const char *field, cw_span *out, cw_err *err) { (void)out; return eth_rlp_next(r, field, NULL, err); }
cw_code eth_rlp_fixed(eth_rlp *r, const char *field, size_t n, uint8_t *out, cw_err *err) { (void)n; (void)out; return eth_rlp_next(r, field, NULL, err); }
cw_code eth_rlp_uint64(eth_rlp *r, const char *field, uint64_t *out, cw_err *err) { (void)out; return eth_rlp_next(r, field, NULL, err); }
cw_code eth_rlp_u256(eth_rlp *r, const char *field, cw_u256 *out, cw_err *err) { (void)out; return eth_rlp_next(r, field, NULL, err); }
cw_code eth_rlp_list(eth_rlp *r, const char *field, eth_rlp *sub, eth_rlp_item *item, cw_err *err) { (void)sub; (void)item; return eth_rlp_next(r, field, NULL, err); }
cw_code eth_rlp_end(const eth_rlp *r, const char *what, cw_err *err) { (void)r; return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "%s: not implemented yet", what); }
cw_code eth_rlp_check(const uint8_t *buf, size_t len, cw_err *err) { (void)buf; (void)len; return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "RLP check not implemented yet"); }
void eth_rlp_w_init(eth_rlp_w *w, uint8_t *buf, size_t cap, cw_keccak_ctx *hash) { memset(w, 0, sizeof *w); w->p = buf; w->cap = cap; w->hash = hash; }
void eth_rlp_w_raw(eth_rlp_w *w, const void *p, size_t n) { (void)p; w->n += n; w->overflow = true; }
void eth_rlp_w_bytes(eth_rlp_w *w, const void *p, size_t n) { eth_rlp_w_raw(w, p, n); }
void eth_rlp_w_uint64(eth_rlp_w *w, uint64_t v) { (void)v; eth_rlp_w_raw(w, NULL, 0); }
void eth_rlp_w_u256(eth_rlp_w *w, const cw_u256 *v) { (void)v; eth_rlp_w_raw(w, NULL, 0); }
void eth_rlp_w_list(eth_rlp_w *w, size_t payload_len) { (void)payload_len; eth_rlp_w_raw(w, NULL, 0); }
size_t eth_rlp_size_bytes(const void *p, size_t n) { (void)p; return n; }
size_t eth_rlp_size_uint64(uint64_t v) { (void)v; return 0; }
size_t eth_rlp_size_u256(const cw_u256 *v) { (void)v; return 0; }
size_t eth_rlp_size_list(size_t payload_len) { return payload_len; }
