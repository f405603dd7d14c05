/*
 * keys.h: the Ed25519 signing key of a datadir (libsodium), which signs
 * every alert record the node writes.
 *
 * Files, both hex text with a trailing newline:
 *   <datadir>/signing.key  the 64-byte libsodium secret key (seed || public
 *                          key), mode 0600. Loading refuses it when group or
 *                          others have any permission on it, saying so and
 *                          how to fix it: a readable key lets anyone forge
 *                          alerts.
 *   <datadir>/signing.pub  the 32-byte public key, for `chainwatch verify`
 *                          and for whoever receives the alerts.
 *
 * The key is never overwritten: records signed with it stay verifiable only
 * as long as it exists. Every function calls sodium_init() itself.
 */
#ifndef CW_KEYS_H
#define CW_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "chains/err.h"

/* Creates the key pair if signing.key is absent (*created = true), making the
 * datadir (mode 0700) if needed; if signing.key exists, loads it (with the
 * checks of keys_load_secret) and returns its public key (*created = false),
 * writing signing.pub again only if that file is missing. pub_hex receives
 * 64 lowercase hex chars and a NUL.
 * Refuses (and writes nothing): a signing.pub without signing.key (a key
 * was lost; move the stale file away), a signing.pub that does not match
 * signing.key, and any I/O error, naming the file. */
cw_code keys_create(const char *datadir, char pub_hex[65], bool *created, cw_err *err);

/* Loads signing.key into sk. Refuses: a missing or unreadable file (CW_EIO),
 * group/other permission bits set (CW_EARG, the message says chmod 600), a
 * content that is not 128 hex chars or whose public half does not derive
 * from its seed (CW_EFORMAT). sk is zeroed on failure. */
cw_code keys_load_secret(const char *datadir, uint8_t sk[64], cw_err *err);

/* keys_load_secret into memory of its own for a key that lives as long as
 * the process runs: sodium_malloc (guard pages, locked out of swap and core
 * dumps), read-only once loaded. NULL on failure (err says why; nothing is
 * left behind). The caller owns it: free with keys_secret_free, which
 * wipes it. */
uint8_t *keys_secret_open(const char *datadir, cw_err *err);
/* Wipes and frees what keys_secret_open returned; NULL is a no-op. */
void keys_secret_free(uint8_t *sk);

/* Loads signing.pub into pk. CW_EIO if missing or unreadable, CW_EFORMAT if
 * it is not 64 hex chars. */
cw_code keys_load_public(const char *datadir, uint8_t pk[32], cw_err *err);

/* True (filling pk) if hex is exactly 64 hex chars, either case, and nothing
 * else; false otherwise (pk untouched). */
bool keys_parse_public_hex(const char *hex, uint8_t pk[32]);

#endif
