/* LD_PRELOAD fault injection for the record-building tests: once the
 * process computes its first alert id (its first crypto_generichash_init:
 * libsodium's BLAKE2b is used for alert ids and the audit trail only), the
 * $CW_FAILALLOC_N-th malloc, calloc or realloc after it (1-based) returns
 * NULL with ENOMEM, once. $CW_FAILALLOC_COUNT=1 prints at exit how many
 * allocations followed the arming ("failalloc: N allocations after arming"),
 * for choosing the range of N to try ($CW_FAILALLOC_ON=txn: armed at the
 * first LMDB transaction instead, see mdb_txn_begin below). glibc's __libc_* allocators are the
 * real ones, so no dlsym (which allocates) is needed on that path. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

static int armed;
static long after, fail_at = -1;

static int should_fail(void)
{
    if (!armed)
        return 0;
    long n = __atomic_add_fetch(&after, 1, __ATOMIC_RELAXED);
    if (n == fail_at) {
        errno = ENOMEM;
        return 1;
    }
    return 0;
}

void *malloc(size_t n) { return should_fail() ? NULL : __libc_malloc(n); }

void *calloc(size_t n, size_t size) { return should_fail() ? NULL : __libc_calloc(n, size); }

void *realloc(void *p, size_t n)
{
    /* realloc(p, 0) frees: not an allocation that can fail */
    return n && should_fail() ? NULL : __libc_realloc(p, n);
}

static void report(void)
{
    if (getenv("CW_FAILALLOC_COUNT"))
        fprintf(stderr, "failalloc: %ld allocations after arming\n", after);
}

typedef struct crypto_generichash_blake2b_state crypto_generichash_state;

static void arm(void)
{
    const char *n = getenv("CW_FAILALLOC_N");
    fail_at = n ? atol(n) : -1;
    atexit(report);
    armed = 1;
}

/* With CW_FAILALLOC_ON=txn the shim arms at the first LMDB transaction
 * instead (the read-only verbs, screen, cluster and trace, compute no
 * alert id: what follows is their reading and their answer's building). */
int mdb_txn_begin(void *env, void *parent, unsigned int flags, void **txn)
{
    static int (*real)(void *, void *, unsigned int, void **);
    if (real == NULL)
        real = (int (*)(void *, void *, unsigned int, void **))dlsym(RTLD_NEXT, "mdb_txn_begin");
    const char *on = getenv("CW_FAILALLOC_ON");
    if (!armed && on && strcmp(on, "txn") == 0)
        arm();
    return real(env, parent, flags, txn);
}

int crypto_generichash_init(crypto_generichash_state *state, const unsigned char *key, const size_t keylen,
                            const size_t outlen)
{
    static int (*real)(crypto_generichash_state *, const unsigned char *, size_t, size_t);
    if (real == NULL)
        real = (int (*)(crypto_generichash_state *, const unsigned char *, size_t, size_t))dlsym(
            RTLD_NEXT, "crypto_generichash_init");
    if (!armed && getenv("CW_FAILALLOC_ON") == NULL)
        arm();
    return real(state, key, keylen, outlen);
}
