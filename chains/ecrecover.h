/*
 * ecrecover.h: the account that signed a 32-byte hash, recovered from a
 * secp256k1 recoverable signature with libsecp256k1, as Ethereum and Tron
 * both define it: keccak256 of the uncompressed public key's 64 bytes, last
 * 20 bytes. Tron puts 0x41 before them; Ethereum prints them with 0x. The
 * one secp256k1 recovery of chainwatch: chains/ethereum/tx.c and
 * chains/tron/tx.c both call it.
 *
 * Pure: libsecp256k1's static context (secp256k1_context_static) is
 * enough for recovery, so there is no global state and no allocation.
 */
#ifndef CW_ECRECOVER_H
#define CW_ECRECOVER_H

#include <stdint.h>

#include "err.h"

/* sig64 = r || s (32-byte big-endian each), recid 0..3. Writes the 20-byte
 * account and, when pubkey is not NULL, the uncompressed public key
 * (0x04 || X || Y, 65 bytes: other address forms of the same key derive
 * from it, chains/keylink.h). CW_EFORMAT naming r or s when it is zero or
 * not below the group order, or when recid is out of range; CW_ECHECKSUM
 * when no public key recovers (the signature does not belong to any key
 * for this hash). On error nothing is written. Does not enforce low-s:
 * neither chain's consensus on old transactions did, and recovery is the
 * same (Ethereum's EIP-2 rule is chains/ethereum/tx.c's). */
cw_code cw_ecrecover(const uint8_t hash[32], const uint8_t sig64[64], int recid, uint8_t account[20],
                     uint8_t pubkey[65], cw_err *err);

#endif
