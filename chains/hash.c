#define OPENSSL_SUPPRESS_DEPRECATED 1 /* see hash.h: the low-level API is the fast one */
#include "hash.h"

#include <openssl/ripemd.h>
#include <openssl/sha.h>
#include <string.h>

_Static_assert(sizeof(SHA256_CTX) <= sizeof(cw_sha256_ctx), "cw_sha256_ctx too small for SHA256_CTX");

void cw_sha256_init(cw_sha256_ctx *c) { SHA256_Init((SHA256_CTX *)c); }
void cw_sha256_update(cw_sha256_ctx *c, const void *p, size_t n) { SHA256_Update((SHA256_CTX *)c, p, n); }
void cw_sha256_final(cw_sha256_ctx *c, uint8_t out[32]) { SHA256_Final(out, (SHA256_CTX *)c); }

void cw_sha256(const void *p, size_t n, uint8_t out[32])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, p, n);
    SHA256_Final(out, &c);
}

void cw_sha256d(const void *p, size_t n, uint8_t out[32])
{
    uint8_t once[32];
    cw_sha256(p, n, once);
    cw_sha256(once, sizeof once, out);
}

void cw_hash160(const void *p, size_t n, uint8_t out[20])
{
    uint8_t once[32];
    cw_sha256(p, n, once);
    RIPEMD160(once, sizeof once, out);
}

void cw_tagged_hash(const char *tag, const void *p, size_t n, uint8_t out[32])
{
    uint8_t th[32];
    cw_sha256(tag, strlen(tag), th);
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, th, 32);
    SHA256_Update(&c, th, 32);
    SHA256_Update(&c, p, n);
    SHA256_Final(out, &c);
}
