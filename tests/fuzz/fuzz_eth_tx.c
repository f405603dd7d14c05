/* libFuzzer target: eth_tx_decode on arbitrary bytes. Properties beyond
 * "no crash": a decoded tx encodes back to exactly its bytes (the network
 * form of a blob tx: to its inner tx) and hashes as keccak256 of them;
 * the rules, the recovery, the authorizations, the model and the ERC-20
 * call reader run on it without crashing; every error says what and where. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chains/ethereum/erc20.h"
#include "chains/ethereum/tx.h"
#include "chains/keccak.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eth_tx tx;
    cw_err err;
    if (eth_tx_decode(data, size, &tx, &err) != CW_OK) {
        if (err.msg[0] == '\0' || (err.offset != CW_NO_OFFSET && err.offset > size))
            abort();
        return 0;
    }
    size_t len;
    uint8_t *out = malloc(size + 1);
    if (eth_tx_encode(&tx, out, size + 1, &len, &err) != CW_OK)
        abort();
    uint8_t h1[32], h2[32];
    eth_tx_hash(&tx, h1);
    cw_keccak256(out, len, h2);
    if (memcmp(h1, h2, 32) != 0)
        abort();
    if (!tx.blob_wrapper && (len != size || memcmp(out, data, size) != 0))
        abort();
    free(out);
    eth_rules rules = {ETH_FORK_PRAGUE, 1};
    (void)eth_tx_check(&tx, &rules, &err);
    eth_signer s;
    if (eth_tx_recover(&tx, &s, &err) == CW_OK) {
        cw_transfer x[ETH_TX_XFER_MAX];
        cw_tx m;
        (void)eth_tx_to_model(&tx, &s, ETH_MODEL_CALLDATA, x, ETH_TX_XFER_MAX, &m, &err);
    }
    eth_auth_iter it;
    eth_auth a;
    size_t n = 0;
    eth_auth_begin(&tx, &it);
    while (eth_auth_next(&it, &a)) {
        (void)eth_auth_recover(&a, &s, &err);
        n++;
    }
    if (n != tx.n_auth)
        abort();
    erc20_call c;
    (void)erc20_call_decode(tx.data, CW_CHAIN_EVM, &c, &err);
    (void)erc20_call_decode(tx.data, CW_CHAIN_TRON, &c, &err);
    return 0;
}
