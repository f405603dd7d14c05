/*
 * keys.h: the API keys of a datadir, kept hashed in <datadir>/apikeys.
 *
 * A key is "cwk_" and 43 characters of URL-safe base64 (32 random bytes,
 * randombytes_buf): printed once by `chainwatch apikey add`, never stored.
 * The file keeps, one key a line, "NAME ROLE HASH CREATED": HASH is the
 * lowercase hex BLAKE2b-256 (crypto_generichash, no key) of the whole key
 * text. A fast hash fits: the key is 256 random bits, so there is nothing
 * to guess that a slow password hash (pwhash) would protect. A presented
 * key is hashed and compared with every stored hash in constant time
 * (sodium_memcmp); the server then keeps what a connection's key matched
 * for that connection's later requests while the set is unchanged
 * (server.c, api_conn). The file is mode 0600, rewritten whole (temporary file,
 * fsync, rename), so a reader sees the old or the new set, never half.
 */
#ifndef CW_API_KEYS_H
#define CW_API_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "chains/err.h"
#include "server.h"

#define API_KEY_PREFIX "cwk_"
#define API_KEY_TEXT_MAX 64 /* "cwk_" + 43 + NUL fits */
#define API_KEY_NAME_MAX 64

typedef struct {
    char name[API_KEY_NAME_MAX + 1];
    api_role role;
    uint8_t hash[32];
    int64_t created; /* unix seconds */
} api_key_entry;

typedef struct {
    api_key_entry *v;
    size_t n;
} api_keyset;

/* Reads <datadir>/apikeys into *out (the caller frees it with
 * api_keys_free). A missing file is an empty set. CW_EIO: unreadable;
 * CW_EFORMAT: a line that is not a key (its line number in the message);
 * CW_ENOMEM. */
cw_code api_keys_load(const char *datadir, api_keyset *out, cw_err *err);
void api_keys_free(api_keyset *ks);

/* Makes a key named name (1..64 of [A-Za-z0-9_.@-], unique: CW_EARG when
 * taken or malformed) with role, adds its hash to the file, and writes the
 * key text into key_out (the only copy: the caller prints it once and
 * wipes it with sodium_memzero). CW_EIO: the file could not be written. */
cw_code api_keys_add(const char *datadir, const char *name, api_role role, char key_out[API_KEY_TEXT_MAX],
                     cw_err *err);
/* Removes the key named name; CW_ENOTFOUND when there is none. */
cw_code api_keys_remove(const char *datadir, const char *name, cw_err *err);

/* The entry whose hash is the hash of key[0..n), or NULL. Compares with
 * every entry (sodium_memcmp), whichever matches. */
const api_key_entry *api_keys_check(const api_keyset *ks, const char *key, size_t n);

#endif
