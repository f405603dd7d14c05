/* erc20.c: stub (first commit: headers only). */
#include "erc20.h"

#include <string.h>

const uint8_t erc20_transfer_topic[32] = {
    0xdd, 0xf2, 0x52, 0xad, 0x1b, 0xe2, 0xc8, 0x9b, 0x69, 0xc2, 0xb0, 0x68, 0xfc, 0x37, 0x8d, 0xaa,
    0x95, 0x2b, 0xa7, 0xf1, 0x63, 0xc4, 0xa1, 0x16, 0x28, 0xf5, 0x5a, 0x4d, 0xf5, 0x23, 0xb3, 0xef};

cw_code erc20_call_decode(cw_span data, cw_chain chain, erc20_call *out, cw_err *err) { (void)data; (void)chain; memset(out, 0, sizeof *out); return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "not implemented yet"); }
void erc20_call_to_transfer(const erc20_call *c, const cw_addr *sender, const cw_addr *contract, cw_transfer *out) { (void)c; (void)sender; (void)contract; memset(out, 0, sizeof *out); }
cw_code erc20_log_decode(const uint8_t (*topics)[32], size_t n_topics, cw_span data, erc20_log *out, cw_err *err) { (void)topics; (void)n_topics; (void)data; memset(out, 0, sizeof *out); return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "not implemented yet"); }
cw_code erc20_log_to_transfer(const erc20_log *l, const cw_addr *contract, uint32_t log_index, cw_transfer *out, cw_err *err) { (void)l; (void)contract; (void)log_index; memset(out, 0, sizeof *out); return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "not implemented yet"); }
