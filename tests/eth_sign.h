/* eth_sign.h: signing Ethereum txs and authorizations in tests, with
 * libsecp256k1 (RFC 6979 nonces, low s as libsecp256k1 always makes), so
 * tests can build txs the decoders never saw. */
#ifndef CW_TEST_ETH_SIGN_H
#define CW_TEST_ETH_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "chains/ethereum/tx.h"

/* The EIP-155 example key (32 bytes of 0x46); its address is
 * 0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F (EIP-155's published example). */
extern const uint8_t ETH_TEST_KEY[32];

/* Sets y_parity, v (legacy: EIP-155 when has_chain_id), r and s. */
void eth_test_sign(eth_tx *tx, const uint8_t key[32]);
/* Sets y_parity, r and s of one authorization. */
void eth_test_sign_auth(eth_auth *a, const uint8_t key[32]);
/* The encoded list [[chainId, address, nonce, yParity, r, s]...] of n
 * authorizations into buf (cap bytes); returns its size. */
size_t eth_test_auth_list(const eth_auth *a, size_t n, uint8_t *buf, size_t cap);
/* tx encoded into a malloc'd buffer (*len its size); asserts success. */
uint8_t *eth_test_encode(const eth_tx *tx, size_t *len);
/* tx (zeroed first) as the tests' type 2 call on chain 1: nonce, fees of
 * 1 and 40 gwei, 80,000 gas, to (20 bytes), value (wei) and data (borrowed:
 * keep it alive until the tx is encoded). */
void eth_test_call(eth_tx *tx, const uint8_t to[20], const uint8_t *data, size_t n, uint64_t value, uint64_t nonce);
/* tx signed with key and encoded, as hex after prefix ("0x" or "")
 * (malloc'd); when hash is not NULL, the tx hash as nodes print it ("0x" and
 * the keccak of the whole typed encoding, EIP-2718) into it. */
char *eth_test_sign_hex(eth_tx *tx, const uint8_t key[32], const char *prefix, char hash[67]);

#endif
