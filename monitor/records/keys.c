#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chains/hex.h"

#define KEY_FILE "signing.key"
#define PUB_FILE "signing.pub"

static cw_code path_of(const char *datadir, const char *name, char *out, size_t cap, cw_err *err)
{
    int n = snprintf(out, cap, "%s/%s", datadir, name);
    if (n < 0 || (size_t)n >= cap)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "datadir path too long: %s", datadir);
    return CW_OK;
}

/* Reads a small hex file into out (exactly `want` bytes), trailing
 * whitespace allowed. fd is closed. The text buffer is wiped: it may be a
 * secret key. */
static cw_code read_hex_fd(int fd, const char *path, uint8_t *out, size_t want, cw_err *err)
{
    char text[512];
    size_t n = 0;
    cw_code rc = CW_OK;
    for (;;) {
        ssize_t r = read(fd, text + n, sizeof text - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == sizeof text) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s is too long: expected %zu hex characters", path,
                            2 * want);
            break;
        }
    }
    close(fd);
    while (rc == CW_OK && n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' || text[n - 1] == '\t'))
        n--;
    size_t got = 0;
    if (rc == CW_OK && (n != 2 * want || cw_hex_decode(text, n, out, want, &got, NULL) != CW_OK || got != want))
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s is not %zu hex characters (%zu-byte key): the file is damaged",
                        path, 2 * want, want);
    sodium_memzero(text, sizeof text);
    return rc;
}

/* Writes hex of p plus a newline to a new file; O_EXCL so an existing file
 * is never replaced, even by a concurrent init. EEXIST is returned as CW_OK
 * with *existed set, for the caller to decide. */
static cw_code write_new_hex(const char *path, const uint8_t *p, size_t n, mode_t mode, bool *existed, cw_err *err)
{
    char text[2 * 64 + 2];
    cw_hex_encode(p, n, text);
    size_t len = 2 * n;
    text[len++] = '\n';
    *existed = false;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        sodium_memzero(text, sizeof text);
        if (errno == EEXIST) {
            *existed = true;
            return CW_OK;
        }
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot create %s: %s", path, strerror(errno));
    }
    size_t off = 0;
    cw_code rc = CW_OK;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot write %s: %s", path, strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    /* the key must survive a crash right after init: alerts signed with it follow */
    if (rc == CW_OK && fsync(fd) != 0)
        rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot sync %s: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == CW_OK)
        rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot write %s: %s", path, strerror(errno));
    if (rc)
        unlink(path);
    sodium_memzero(text, sizeof text);
    return rc;
}

cw_code keys_load_secret(const char *datadir, uint8_t sk[64], cw_err *err)
{
    char path[4096];
    memset(sk, 0, 64); /* every failure below leaves it zero, as promised */
    cw_code rc = path_of(datadir, KEY_FILE, path, sizeof path, err);
    if (rc)
        return rc;
    if (sodium_init() < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "libsodium failed to initialise");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot open %s: %s%s", path, strerror(errno),
                          errno == ENOENT ? " (run 'chainwatch init' to create the signing key)" : "");
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot stat %s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "%s is not a regular file", path);
    }
    /* a key others can read lets them forge alerts; one they can write lets them swap it */
    if (st.st_mode & 0077) {
        close(fd);
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "%s has mode %04o: group or others can access the signing key; run: chmod 600 %s", path,
                          (unsigned)(st.st_mode & 07777), path);
    }
    rc = read_hex_fd(fd, path, sk, 64, err);
    if (rc == CW_OK) {
        /* the stored public half must be the one the seed gives, or signatures would not verify */
        uint8_t pk[32], sk2[64];
        crypto_sign_seed_keypair(pk, sk2, sk);
        if (sodium_memcmp(sk, sk2, 64) != 0)
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                            "%s is damaged: its public half does not match its seed", path);
        sodium_memzero(sk2, sizeof sk2);
    }
    if (rc)
        sodium_memzero(sk, 64);
    return rc;
}

uint8_t *keys_secret_open(const char *datadir, cw_err *err)
{
    if (sodium_init() < 0) {
        cw_err_set(err, CW_EIO, CW_NO_OFFSET, "libsodium failed to initialise");
        return NULL;
    }
    uint8_t *sk = sodium_malloc(64);
    if (sk == NULL) {
        cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "cannot allocate locked memory for the signing key");
        return NULL;
    }
    if (keys_load_secret(datadir, sk, err) != CW_OK) {
        sodium_free(sk); /* zeroed by keys_load_secret, and sodium_free wipes again */
        return NULL;
    }
    sodium_mprotect_readonly(sk); /* a stray write cannot change the key unnoticed */
    return sk;
}

void keys_secret_free(uint8_t *sk)
{
    if (sk)
        sodium_free(sk); /* makes it writable, wipes and unmaps */
}

cw_code keys_load_public(const char *datadir, uint8_t pk[32], cw_err *err)
{
    char path[4096];
    cw_code rc = path_of(datadir, PUB_FILE, path, sizeof path, err);
    if (rc)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot open %s: %s%s", path, strerror(errno),
                          errno == ENOENT ? " (run 'chainwatch init' on this datadir)" : "");
    return read_hex_fd(fd, path, pk, 32, err);
}

bool keys_parse_public_hex(const char *hex, uint8_t pk[32])
{
    if (hex == NULL || strlen(hex) != 64)
        return false;
    uint8_t tmp[32];
    size_t n = 0;
    if (cw_hex_decode(hex, 64, tmp, sizeof tmp, &n, NULL) != CW_OK || n != 32)
        return false;
    memcpy(pk, tmp, 32);
    return true;
}

/* signing.pub beside an existing key: written if missing, else must match. */
static cw_code ensure_public(const char *pubpath, const char *datadir, const uint8_t pk[32], cw_err *err)
{
    bool existed;
    cw_code rc = write_new_hex(pubpath, pk, 32, 0644, &existed, err);
    if (rc || !existed)
        return rc;
    uint8_t onfile[32];
    if ((rc = keys_load_public(datadir, onfile, err)))
        return rc;
    if (memcmp(onfile, pk, 32) != 0)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                          "%s does not match the key in signing.key: remove %s and run 'chainwatch init' to rewrite it",
                          pubpath, pubpath);
    return CW_OK;
}

cw_code keys_create(const char *datadir, char pub_hex[65], bool *created, cw_err *err)
{
    char keypath[4096], pubpath[4096];
    cw_code rc;
    *created = false;
    if ((rc = path_of(datadir, KEY_FILE, keypath, sizeof keypath, err)) ||
        (rc = path_of(datadir, PUB_FILE, pubpath, sizeof pubpath, err)))
        return rc;
    if (sodium_init() < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "libsodium failed to initialise");
    if (mkdir(datadir, 0700) != 0 && errno != EEXIST)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot create datadir %s: %s", datadir, strerror(errno));

    uint8_t pk[32], sk[64];
    struct stat st;
    if (stat(keypath, &st) != 0) {
        if (errno != ENOENT)
            return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot stat %s: %s", keypath, strerror(errno));
        /* a public key without its secret means a key was lost: a new one must not hide that */
        if (stat(pubpath, &st) == 0)
            return cw_err_set(err, CW_EIO, CW_NO_OFFSET,
                              "%s exists but %s does not: the signing key was lost or moved; restore it, or move %s "
                              "away to create a new key",
                              pubpath, keypath, pubpath);
        crypto_sign_keypair(pk, sk);
        bool existed;
        rc = write_new_hex(keypath, sk, 64, 0600, &existed, err);
        sodium_memzero(sk, sizeof sk);
        if (rc)
            return rc;
        if (!existed) {
            bool pub_existed;
            if ((rc = write_new_hex(pubpath, pk, 32, 0644, &pub_existed, err)))
                return rc;
            if (pub_existed)
                return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "%s appeared while creating the key: run init again",
                                  pubpath);
            *created = true;
            cw_hex_encode(pk, 32, pub_hex);
            return CW_OK;
        }
        /* another process created the key between our stat and open: use theirs */
    }
    if ((rc = keys_load_secret(datadir, sk, err)))
        return rc;
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    sodium_memzero(sk, sizeof sk);
    if ((rc = ensure_public(pubpath, datadir, pk, err)))
        return rc;
    cw_hex_encode(pk, 32, pub_hex);
    return CW_OK;
}
