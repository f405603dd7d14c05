#include "ecrecover.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <string.h>

#include "keccak.h"

/* secp256k1's group order n, big-endian. */
static const uint8_t CURVE_N[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                    0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
static const uint8_t ZERO32[32];

/* 1 <= v < n, else the error naming v. */
static cw_code in_range(const uint8_t v[32], const char *name, cw_err *err)
{
    if (memcmp(v, ZERO32, 32) == 0)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "signature: %s is zero, not below the secp256k1 order", name);
    if (memcmp(v, CURVE_N, 32) >= 0)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "signature: %s is not below the secp256k1 order", name);
    return CW_OK;
}

cw_code cw_ecrecover(const uint8_t hash[32], const uint8_t sig64[64], int recid, uint8_t account[20],
                     uint8_t pubkey[65], cw_err *err)
{
    if (recid < 0 || recid > 3)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "signature: recovery id %d is not 0..3", recid);
    cw_code rc = in_range(sig64, "r", err);
    if (rc == CW_OK)
        rc = in_range(sig64 + 32, "s", err);
    if (rc)
        return rc;
    secp256k1_ecdsa_recoverable_signature sig;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(secp256k1_context_static, &sig, sig64, recid))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "signature: r or s is not below the secp256k1 order");
    secp256k1_pubkey pub;
    if (!secp256k1_ecdsa_recover(secp256k1_context_static, &pub, &sig, hash))
        return cw_err_set(err, CW_ECHECKSUM, CW_NO_OFFSET, "signature: no public key recovers from it for this hash");
    uint8_t ser[65];
    size_t n = sizeof ser;
    secp256k1_ec_pubkey_serialize(secp256k1_context_static, ser, &n, &pub, SECP256K1_EC_UNCOMPRESSED);
    uint8_t h[32];
    cw_keccak256(ser + 1, 64, h);
    memcpy(account, h + 12, 20);
    if (pubkey)
        memcpy(pubkey, ser, 65);
    return CW_OK;
}
