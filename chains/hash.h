/*
 * hash.h: the hashes decoders need, all through OpenSSL libcrypto; and, at
 * the end, the non-cryptographic ones of in-memory tables and fingerprints.
 *
 * Why libcrypto and not libsodium: its SHA-256 uses the CPU's SHA extensions
 * (measured 5x libsodium's on this machine), and txids dominate replay.
 * The low-level SHA256_* API is used on purpose: EVP adds a per-call provider
 * dispatch that costs more than hashing a small tx.
 */
#ifndef CW_HASH_H
#define CW_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Incremental SHA-256; the state is opaque but sized for stack use. */
typedef struct {
    uint64_t opaque[14]; /* >= sizeof(SHA256_CTX), checked at compile time */
} cw_sha256_ctx;

void cw_sha256_init(cw_sha256_ctx *c);
void cw_sha256_update(cw_sha256_ctx *c, const void *p, size_t n);
void cw_sha256_final(cw_sha256_ctx *c, uint8_t out[32]);

void cw_sha256(const void *p, size_t n, uint8_t out[32]);
/* SHA256(SHA256(p)): txids, block hashes, base58check checksums. */
void cw_sha256d(const void *p, size_t n, uint8_t out[32]);
/* RIPEMD160(SHA256(p)): key and script hashes. */
void cw_hash160(const void *p, size_t n, uint8_t out[20]);
/* BIP-340 tagged hash: SHA256(SHA256(tag) || SHA256(tag) || msg). */
void cw_tagged_hash(const char *tag, const void *p, size_t n, uint8_t out[32]);

/* ---------- non-cryptographic hashes: in-memory tables, filters, fingerprints ----------
 * The only copies in the project: every table (hashtab.h), the Bloom
 * filters and store_fingerprint use these. */

/* FNV-1a 64 (Fowler, Noll, Vo; the IETF draft draft-eastlake-fnv): a byte
 * at a time, unseeded, the same value in every process and on every host.
 * For values that must stay stable (fingerprints); slow for long keys and
 * open to chosen collisions, so not the tables' hash. */
#define CW_FNV64_BASIS 0xcbf29ce484222325ull /* 14695981039346656037 */
#define CW_FNV64_PRIME 0x100000001b3ull      /* 1099511628211 */

/* Continues an FNV-1a 64 from h over n more bytes. */
static inline uint64_t cw_fnv1a64_update(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * CW_FNV64_PRIME;
    return h;
}

/* FNV-1a 64 of n bytes: "" gives CW_FNV64_BASIS, "a" 0xaf63dc4c8601ec8c. */
static inline uint64_t cw_fnv1a64(const void *p, size_t n) { return cw_fnv1a64_update(CW_FNV64_BASIS, p, n); }

/* A 64-bit finaliser (splitmix64's): every input bit reaches every output
 * bit. */
static inline uint64_t cw_mix64(uint64_t x)
{
    x ^= x >> 30, x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27, x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Seeded hash of a byte string, eight bytes per mixing round: the tables'
 * and filters' hash. With a secret per-process seed nobody outside can
 * choose keys that collide; the value lives only in this process (host
 * byte order). */
static inline uint64_t cw_hash64(uint64_t seed, const void *key, size_t n)
{
    const unsigned char *p = key;
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ull);
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = cw_mix64(h ^ w);
    }
    uint64_t w = 0;
    if (n)
        memcpy(&w, p, n);
    return cw_mix64(h ^ w ^ 0xff);
}

#endif
