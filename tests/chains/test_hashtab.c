/* The one hash table (chains/hashtab.h) and the non-cryptographic hashes
 * (chains/hash.h): FNV-1a 64 against its published vectors (checked with an
 * independent Python computation), and the table against a plain array
 * oracle: inserts, finds, deletes, growth, forced collisions, wraparound,
 * iteration, and allocation failures (malloc/calloc wrapped at link time,
 * see tests/CMakeLists.txt, which works under ASan too). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "chains/hash.h"
#include "chains/hashtab.h"

/* ---------- allocation failure: the Nth malloc/calloc from now returns NULL ---------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
static long fail_in; /* 0: off; else allocations left until the failing one */

static bool fail_now(void) { return fail_in > 0 && --fail_in == 0; }
void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return fail_now() ? NULL : __real_calloc(n, size); }

/* ---------- helpers ---------- */

static uint64_t rng_state;
static uint64_t rnd(void) { return cw_mix64(rng_state += 0x9e3779b97f4a7c15ull); }

/* A 36-byte outpoint-shaped key: 32 random bytes for key i, then i big-endian. */
static void outpoint(uint8_t k[36], uint32_t i)
{
    uint64_t s = rng_state;
    rng_state = (uint64_t)i * 0x2545f4914f6cdd1dull;
    for (int w = 0; w < 4; w++) {
        uint64_t r = rnd();
        memcpy(k + 8 * w, &r, 8);
    }
    rng_state = s;
    k[32] = (uint8_t)(i >> 24), k[33] = (uint8_t)(i >> 16), k[34] = (uint8_t)(i >> 8), k[35] = (uint8_t)i;
}

/* ---------- FNV-1a 64 ---------- */

Test(fnv, published_vectors)
{
    /* draft-eastlake-fnv's FNV-1a 64 test values; the same from python3 */
    cr_assert_eq(cw_fnv1a64("", 0), 0xcbf29ce484222325ull);
    cr_assert_eq(CW_FNV64_BASIS, 14695981039346656037ull);
    cr_assert_eq(cw_fnv1a64("a", 1), 0xaf63dc4c8601ec8cull);
    cr_assert_eq(cw_fnv1a64("foobar", 6), 0x85944171f73967e8ull);
    cr_assert_eq(cw_fnv1a64("chongo was here!\n", 17), 0x46810940eff5f915ull);
    /* the old copies' basis had lost its last digit: not the same function */
    cr_assert_neq(1469598103934665603ull, CW_FNV64_BASIS);
}

Test(fnv, update_continues)
{
    cr_assert_eq(cw_fnv1a64_update(cw_fnv1a64("foo", 3), "bar", 3), cw_fnv1a64("foobar", 6));
    cr_assert_eq(cw_fnv1a64_update(CW_FNV64_BASIS, "foobar", 6), 0x85944171f73967e8ull);
}

Test(hash64, seed_and_every_byte_matter)
{
    uint8_t k[37] = {0};
    uint64_t base = cw_hash64(1, k, sizeof k);
    cr_assert_neq(cw_hash64(2, k, sizeof k), base);
    cr_assert_neq(cw_hash64(1, k, 36), base, "the length is hashed");
    for (size_t i = 0; i < sizeof k; i++) {
        k[i] ^= 1;
        cr_assert_neq(cw_hash64(1, k, sizeof k), base, "byte %zu", i);
        k[i] ^= 1;
    }
}

/* ---------- the table ---------- */

Test(hashtab, insert_find_delete_grow)
{
    cw_htab t;
    cw_err err = {0};
    cr_assert_eq(cw_htab_init(&t, 36, sizeof(uint64_t), CW_HTAB_DIGEST, 42, 0, &err), CW_OK, "%s", err.msg);
    size_t cap0 = t.cap;
    enum { N = 100000 };
    uint8_t k[36];
    for (uint32_t i = 0; i < N; i++) {
        outpoint(k, i);
        void *v = NULL;
        bool added = false;
        cr_assert_eq(cw_htab_put(&t, k, 36, &v, &added, &err), CW_OK, "%s", err.msg);
        cr_assert(added);
        cr_assert_eq(*(uint64_t *)v, 0, "a new value is zeroed");
        *(uint64_t *)v = (uint64_t)i * 3 + 1;
    }
    cr_assert_eq(cw_htab_count(&t), N);
    cr_assert_gt(t.cap, cap0, "the table grew");
    cr_assert_leq(cw_htab_count(&t) * 10, t.cap * 7, "load stays <= 0.7");
    /* a put of a present key finds it */
    outpoint(k, 7);
    void *v;
    bool added = true;
    cr_assert_eq(cw_htab_put(&t, k, 36, &v, &added, &err), CW_OK);
    cr_assert_not(added);
    cr_assert_eq(*(uint64_t *)v, 7 * 3 + 1);
    /* delete the odd ones */
    for (uint32_t i = 1; i < N; i += 2) {
        outpoint(k, i);
        cr_assert(cw_htab_del(&t, k, 36), "key %u", i);
        cr_assert_not(cw_htab_del(&t, k, 36), "key %u deleted twice", i);
    }
    cr_assert_eq(cw_htab_count(&t), N / 2);
    for (uint32_t i = 0; i < N; i++) {
        outpoint(k, i);
        const uint64_t *got = cw_htab_get(&t, k, 36);
        if (i % 2)
            cr_assert_null(got, "key %u was deleted", i);
        else {
            cr_assert_not_null(got, "key %u lost", i);
            cr_assert_eq(*got, (uint64_t)i * 3 + 1);
        }
    }
    /* a key that differs only in the vout is another key */
    outpoint(k, 2);
    k[35] ^= 0x80;
    cr_assert_null(cw_htab_get(&t, k, 36));
    cw_htab_free(&t);
    cr_assert_null(t.hashes);
    cr_assert_null(cw_htab_get(&t, k, 36), "a freed table is empty");
}

/* Random puts and deletes over a small key space against a flat array: every
 * backward shift must leave every other key findable. */
Test(hashtab, random_ops_match_an_array)
{
    enum { KEYS = 3000, OPS = 300000 };
    static uint32_t oracle[KEYS]; /* 0: absent, else the value */
    cw_htab t;
    cr_assert_eq(cw_htab_init(&t, sizeof(uint32_t), sizeof(uint32_t), 0, 7, 0, NULL), CW_OK);
    rng_state = 99;
    size_t present = 0;
    for (uint32_t op = 1; op <= OPS; op++) {
        uint32_t key = (uint32_t)(rnd() % KEYS);
        if (rnd() % 3) {
            void *v = NULL;
            bool added = false;
            cr_assert_eq(cw_htab_put(&t, &key, sizeof key, &v, &added, NULL), CW_OK);
            cr_assert_eq(added, oracle[key] == 0, "op %u key %u", op, key);
            present += added;
            *(uint32_t *)v = oracle[key] = op;
        } else {
            cr_assert_eq(cw_htab_del(&t, &key, sizeof key), oracle[key] != 0, "op %u key %u", op, key);
            present -= oracle[key] != 0;
            oracle[key] = 0;
        }
        if (op % 50000 == 0)
            for (uint32_t k = 0; k < KEYS; k++) {
                const uint32_t *got = cw_htab_get(&t, &k, sizeof k);
                cr_assert_eq(got ? *got : 0, oracle[k], "op %u key %u", op, k);
            }
    }
    cr_assert_eq(cw_htab_count(&t), present);
    cw_htab_free(&t);
}

/* Digest keys equal in bytes 0..15 and in their last 8 all hash alike: one
 * probe run holds them all. Seeds are tried until the run starts in the
 * table's last slot, so it wraps around to slot 0. */
Test(hashtab, forced_collisions_wrap_around)
{
    cw_htab t;
    uint8_t k[36] = {1, 2, 3};
    size_t seed = 0;
    for (;; seed++) {
        cr_assert_eq(cw_htab_init(&t, 36, sizeof(uint32_t), CW_HTAB_DIGEST, seed, 11, NULL), CW_OK);
        cr_assert_eq(t.cap, 16);
        if ((cw_htab_hash(&t, k, 36) >> t.shift) == t.cap - 1)
            break;
        cw_htab_free(&t);
    }
    enum { N = 11 };
    uint64_t h0 = cw_htab_hash(&t, k, 36);
    for (uint32_t i = 0; i < N; i++) {
        k[20] = (uint8_t)i; /* a byte the digest hash does not read */
        cr_assert_eq(cw_htab_hash(&t, k, 36), h0);
        void *v = NULL;
        cr_assert_eq(cw_htab_put(&t, k, 36, &v, NULL, NULL), CW_OK);
        *(uint32_t *)v = i + 100;
    }
    cr_assert_eq(t.cap, 16, "no growth: the run wrapped");
    cr_assert_neq(t.hashes[0], 0, "slot 0 holds the run's tail");
    for (uint32_t del = 0; del < N; del += 3) { /* holes at the start, the wrap and the end */
        k[20] = (uint8_t)del;
        cr_assert(cw_htab_del(&t, k, 36));
        for (uint32_t i = 0; i < N; i++) {
            k[20] = (uint8_t)i;
            const uint32_t *got = cw_htab_get(&t, k, 36);
            if (i % 3 == 0 && i <= del)
                cr_assert_null(got, "deleted %u", i);
            else
                cr_assert(got && *got == i + 100, "key %u after deleting %u", i, del);
        }
    }
    /* more of them than fit: the table grows, the run stays whole */
    for (uint32_t i = 0; i < 200; i++) {
        k[20] = (uint8_t)i;
        void *v = NULL;
        cr_assert_eq(cw_htab_put(&t, k, 36, &v, NULL, NULL), CW_OK);
        *(uint32_t *)v = i + 100;
    }
    cr_assert_eq(cw_htab_count(&t), 200);
    for (uint32_t i = 0; i < 200; i++) {
        k[20] = (uint8_t)i;
        const uint32_t *got = cw_htab_get(&t, k, 36);
        cr_assert(got && *got == i + 100, "key %u", i);
    }
    cw_htab_free(&t);
}

Test(hashtab, byte_string_keys_by_reference)
{
    cw_htab t;
    cr_assert_eq(cw_htab_init(&t, 0, sizeof(size_t), 0, 5, 0, NULL), CW_OK);
    static const char *const keys[] = {"", "a", "ab", "abc", "b", "NK-2vDnD2WdWXLbBLP4xWTyZZ", "a\0b", "a\0c"};
    static const size_t lens[] = {0, 1, 2, 3, 1, 25, 3, 3};
    for (size_t i = 0; i < 8; i++) {
        void *v = NULL;
        bool added;
        cr_assert_eq(cw_htab_put(&t, keys[i], lens[i], &v, &added, NULL), CW_OK);
        cr_assert(added, "key %zu is its own key", i);
        *(size_t *)v = i + 1;
    }
    cr_assert_eq(cw_htab_count(&t), 8);
    /* lookups with other copies of the bytes */
    char buf[32];
    for (size_t i = 0; i < 8; i++) {
        memcpy(buf, keys[i], lens[i]);
        const size_t *got = cw_htab_get(&t, buf, lens[i]);
        cr_assert(got && *got == i + 1, "key %zu", i);
        size_t klen;
        cr_assert_eq(cw_htab_key(&t, cw_htab_find(&t, buf, lens[i]), &klen), keys[i], "held by reference");
        cr_assert_eq(klen, lens[i]);
    }
    cr_assert_null(cw_htab_get(&t, "abcd", 4));
    cr_assert_null(cw_htab_get(&t, "a\0d", 3));
    cw_htab_free(&t);
}

Test(hashtab, iteration_visits_each_entry_once)
{
    cw_htab t;
    cr_assert_eq(cw_htab_init(&t, sizeof(uint32_t), sizeof(uint32_t), 0, 11, 0, NULL), CW_OK);
    cr_assert_eq(cw_htab_next(&t, 0), CW_HTAB_NONE, "an empty table");
    enum { N = 5000 };
    static uint8_t seen[N];
    for (uint32_t i = 0; i < N; i++) {
        void *v = NULL;
        cr_assert_eq(cw_htab_put(&t, &i, sizeof i, &v, NULL, NULL), CW_OK);
        *(uint32_t *)v = ~i;
    }
    size_t visits = 0;
    for (size_t p = cw_htab_next(&t, 0); p != CW_HTAB_NONE; p = cw_htab_next(&t, p + 1)) {
        size_t klen;
        uint32_t key;
        memcpy(&key, cw_htab_key(&t, p, &klen), sizeof key);
        cr_assert_eq(klen, sizeof key);
        cr_assert_lt(key, N);
        cr_assert_eq(*(const uint32_t *)cw_htab_val(&t, p), ~key);
        seen[key]++;
        visits++;
    }
    cr_assert_eq(visits, N);
    for (uint32_t i = 0; i < N; i++)
        cr_assert_eq(seen[i], 1, "key %u", i);
    /* clear keeps the capacity and forgets every key */
    size_t cap = t.cap;
    cw_htab_clear(&t);
    cr_assert_eq(t.cap, cap);
    cr_assert_eq(cw_htab_count(&t), 0);
    cr_assert_eq(cw_htab_next(&t, 0), CW_HTAB_NONE);
    uint32_t k = 17;
    cr_assert_null(cw_htab_get(&t, &k, sizeof k));
    void *v;
    bool added;
    cr_assert_eq(cw_htab_put(&t, &k, sizeof k, &v, &added, NULL), CW_OK);
    cr_assert(added);
    cw_htab_free(&t);
}

Test(hashtab, refuses_what_it_cannot_hold)
{
    cw_htab t;
    cw_err err = {0};
    cr_assert_eq(cw_htab_init(&t, 20, 8, CW_HTAB_DIGEST, 0, 0, &err), CW_EARG, "digest keys need 24 bytes");
    cr_assert(strstr(err.msg, "24 bytes"), "%s", err.msg);
    cr_assert_eq(cw_htab_init(&t, 8, 8, 0x10, 0, 0, &err), CW_EARG, "unknown flags");
    void *v;
    cr_assert_eq(cw_htab_put(&t, "12345678", 8, &v, NULL, &err), CW_EARG, "not initialised");
    cr_assert_eq(cw_htab_init(&t, 8, 8, 0, 0, 0, &err), CW_OK);
    cr_assert_eq(cw_htab_put(&t, "1234567", 7, &v, NULL, &err), CW_EARG);
    cr_assert(strstr(err.msg, "7-byte key"), "%s", err.msg);
    cr_assert_eq(cw_htab_count(&t), 0);
    cr_assert_eq(cw_htab_put(&t, "12345678", 8, &v, NULL, &err), CW_OK);
    cr_assert_eq(cw_htab_find(&t, "1234567", 7), CW_HTAB_NONE, "a short key is not a prefix match");
    cw_htab_free(&t);
}

Test(hashtab, value_layout)
{
    cw_htab t;
    cr_assert_eq(cw_htab_init(&t, 36, 65, CW_HTAB_DIGEST, 0, 0, NULL), CW_OK);
    cr_assert_eq(t.esize, 101, "byte values pack after the key: the prevout cache's 101-byte slot");
    cw_htab_free(&t);
    cr_assert_eq(cw_htab_init(&t, 36, 8, 0, 0, 0, NULL), CW_OK);
    cr_assert_eq(t.voff % 8, 0, "8-byte values are aligned");
    cr_assert_eq(t.esize % 8, 0);
    cw_htab_free(&t);
    cr_assert_eq(cw_htab_init(&t, 0, 4, 0, 0, 0, NULL), CW_OK);
    cr_assert_eq(t.esize % _Alignof(cw_htab_ref), 0, "references stay aligned");
    cw_htab_free(&t);
}

Test(hashtab, init_out_of_memory)
{
    cw_htab t;
    cw_err err = {0};
    fail_in = 1;
    cw_code rc = cw_htab_init(&t, 8, 8, 0, 0, 100, &err);
    fail_in = 0;
    cr_assert_eq(rc, CW_ENOMEM);
    cr_assert(strstr(err.msg, "out of memory"), "%s", err.msg);
    cr_assert_null(t.hashes);
    cr_assert_eq(t.cap, 0);
    cw_htab_free(&t); /* safe on the empty table */
    fail_in = 2; /* the slots this time */
    rc = cw_htab_init(&t, 8, 8, 0, 0, 100, &err);
    fail_in = 0;
    cr_assert_eq(rc, CW_ENOMEM);
    cr_assert_null(t.hashes);
}

/* Growth that cannot allocate: the put fails with CW_ENOMEM, the key is not
 * there, nothing else is lost; the next put (memory back) succeeds. */
Test(hashtab, growth_out_of_memory_drops_nothing)
{
    cw_htab t;
    cw_err err = {0};
    cr_assert_eq(cw_htab_init(&t, sizeof(uint32_t), sizeof(uint32_t), 0, 3, 0, NULL), CW_OK);
    uint32_t i = 0;
    void *v = NULL;
    for (; (cw_htab_count(&t) + 2) * 10 <= t.cap * 7; i++) {
        cr_assert_eq(cw_htab_put(&t, &i, sizeof i, &v, NULL, NULL), CW_OK);
        *(uint32_t *)v = i;
    }
    cr_assert_eq(cw_htab_put(&t, &i, sizeof i, &v, NULL, NULL), CW_OK, "the last key before growth");
    *(uint32_t *)v = i++;
    size_t cap = t.cap, count = cw_htab_count(&t);
    for (long n = 1; n <= 2; n++) { /* the hashes, then the slots */
        fail_in = n;
        cw_code rc = cw_htab_put(&t, &i, sizeof i, &v, NULL, &err);
        fail_in = 0;
        cr_assert_eq(rc, CW_ENOMEM, "allocation %ld", n);
        cr_assert(strstr(err.msg, "out of memory growing"), "%s", err.msg);
        cr_assert_eq(t.cap, cap);
        cr_assert_eq(cw_htab_count(&t), count);
        cr_assert_null(cw_htab_get(&t, &i, sizeof i), "the refused key is absent");
        for (uint32_t j = 0; j < i; j++) {
            const uint32_t *got = cw_htab_get(&t, &j, sizeof j);
            cr_assert(got && *got == j, "key %u kept", j);
        }
    }
    /* a present key needs no growth: found even with no memory */
    fail_in = 1;
    uint32_t old = 0;
    cw_code rc = cw_htab_put(&t, &old, sizeof old, &v, NULL, NULL);
    fail_in = 0;
    cr_assert_eq(rc, CW_OK);
    cr_assert_eq(cw_htab_put(&t, &i, sizeof i, &v, NULL, NULL), CW_OK);
    cr_assert_gt(t.cap, cap);
    cw_htab_free(&t);
}
