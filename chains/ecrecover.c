#include "ecrecover.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "keccak.h"

cw_code cw_ecrecover(const uint8_t hash[32], const uint8_t sig64[64], int recid, uint8_t account[20], cw_err *err)
{
    if (recid < 0 || recid > 3)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "signature: recovery id %d is not 0..3", recid);
    secp256k1_ecdsa_recoverable_signature sig;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(secp256k1_context_static, &sig, sig64, recid))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "signature: r or s is not below the group order");
    secp256k1_pubkey pub;
    if (!secp256k1_ecdsa_recover(secp256k1_context_static, &pub, &sig, hash))
        return cw_err_set(err, CW_ECHECKSUM, CW_NO_OFFSET, "signature: no public key recovers from it for this hash");
    uint8_t ser[65];
    size_t n = sizeof ser;
    secp256k1_ec_pubkey_serialize(secp256k1_context_static, ser, &n, &pub, SECP256K1_EC_UNCOMPRESSED);
    uint8_t h[32];
    cw_keccak256(ser + 1, 64, h);
    for (int i = 0; i < 20; i++)
        account[i] = h[12 + i];
    return CW_OK;
}
