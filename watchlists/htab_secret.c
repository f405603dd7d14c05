#include "htab_secret.h"

#include <sodium.h>
#include <stdint.h>

cw_code htab_secret_init(cw_htab *t, size_t ksize, size_t vsize, unsigned flags, size_t expected, cw_err *err)
{
    memset(t, 0, sizeof *t);
    if (sodium_init() < 0)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "libsodium could not start (no randomness for a hash seed)");
    uint64_t seed;
    randombytes_buf(&seed, sizeof seed);
    return cw_htab_init(t, ksize, vsize, flags, seed, expected, err);
}
