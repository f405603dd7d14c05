/* htab_secret.h: a hash table whose keys come from outside (a list file,
 * a labels file, a record file, txids anyone can grind), seeded with a
 * secret random seed so nobody can pick keys that collide and make probes
 * long (chains/hashtab.h: Seed). chains/ has no randomness of its own; this
 * is the one place that draws such a seed (libsodium: the OS's CSPRNG). */
#ifndef CW_HTAB_SECRET_H
#define CW_HTAB_SECRET_H

#include "chains/hashtab.h"

/* cw_htab_init(t, ksize, vsize, flags, <secret seed>, expected, err).
 * Returns CW_OK, CW_ENOMEM when libsodium cannot start (no randomness: no
 * table rather than a guessable one) or memory runs out, or cw_htab_init's
 * CW_EARG; err may be NULL. On failure *t is left empty (cw_htab_free is
 * safe on it). */
cw_code htab_secret_init(cw_htab *t, size_t ksize, size_t vsize, unsigned flags, size_t expected, cw_err *err);

#endif
