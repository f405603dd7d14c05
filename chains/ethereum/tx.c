/* tx.c: stub (first commit: headers only). */
#include "tx.h"

#include <string.h>

#define NI(err) cw_err_set(err, CW_EARG, CW_NO_OFFSET, "Ethereum tx decoding is not implemented yet")
cw_code eth_tx_decode(const uint8_t *buf, size_t len, eth_tx *tx, cw_err *err) { (void)buf; (void)len; memset(tx, 0, sizeof *tx); return NI(err); }
cw_code eth_tx_encode(const eth_tx *tx, uint8_t *buf, size_t cap, size_t *len, cw_err *err) { (void)tx; (void)buf; (void)cap; *len = 0; return NI(err); }
void eth_tx_hash(const eth_tx *tx, uint8_t out[32]) { (void)tx; memset(out, 0, 32); }
void eth_tx_sighash(const eth_tx *tx, uint8_t out[32]) { (void)tx; memset(out, 0, 32); }
cw_code eth_tx_check(const eth_tx *tx, const eth_rules *rules, cw_err *err) { (void)tx; (void)rules; return NI(err); }
cw_code eth_tx_recover(const eth_tx *tx, eth_signer *out, cw_err *err) { (void)tx; (void)out; return NI(err); }
void eth_auth_begin(const eth_tx *tx, eth_auth_iter *it) { it->base = tx->auth_list.p; it->pos = it->end = 0; }
bool eth_auth_next(eth_auth_iter *it, eth_auth *out) { (void)it; (void)out; return false; }
cw_code eth_auth_recover(const eth_auth *a, eth_signer *out, cw_err *err) { (void)a; (void)out; return NI(err); }
cw_code eth_tx_to_model(const eth_tx *tx, const eth_signer *from, unsigned flags, cw_transfer *xfer, size_t cap,
                        cw_tx *out, cw_err *err) { (void)tx; (void)from; (void)flags; (void)xfer; (void)cap; (void)out; return NI(err); }
