/*
 * hash.h: the hashes decoders need, all through OpenSSL libcrypto.
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

#endif
