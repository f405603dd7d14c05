/* keys.c: API keys kept hashed in <datadir>/apikeys (keys.h). */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chains/hex.h"

static void keys_path(const char *datadir, char *out, size_t cap) { snprintf(out, cap, "%s/apikeys", datadir); }

static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > API_KEY_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '@' || c == '-'))
            return false;
    }
    return true;
}

static void key_hash(const char *key, size_t n, uint8_t out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)key, n, NULL, 0);
}

void api_keys_free(api_keyset *ks)
{
    free(ks->v);
    ks->v = NULL;
    ks->n = 0;
}

static cw_code parse_line(char *line, size_t lineno, const char *path, api_key_entry *e, cw_err *err)
{
    char *save = NULL, *name = strtok_r(line, " ", &save), *role = strtok_r(NULL, " ", &save),
         *hash = strtok_r(NULL, " ", &save), *created = strtok_r(NULL, " ", &save),
         *extra = strtok_r(NULL, " ", &save);
    memset(e, 0, sizeof *e);
    char *end = NULL;
    size_t hn = 0;
    long long c = created ? strtoll(created, &end, 10) : 0;
    if (!name || !role || !hash || !created || extra || !name_ok(name) || !api_role_from_name(role, &e->role) ||
        e->role == API_ROLE_PUBLIC || strlen(hash) != 64 || cw_hex_decode(hash, 64, e->hash, 32, &hn, NULL) != CW_OK || hn != 32 ||
        *end != '\0' || c < 0)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                          "%s line %zu: not 'NAME ROLE HASH CREATED' (manage keys with chainwatch apikey)", path, lineno);
    memcpy(e->name, name, strlen(name) + 1);
    e->created = c;
    return CW_OK;
}

cw_code api_keys_load(const char *datadir, api_keyset *out, cw_err *err)
{
    out->v = NULL;
    out->n = 0;
    char path[4200];
    keys_path(datadir, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT)
            return CW_OK;
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "reading %s: %s", path, strerror(errno));
    }
    char line[512];
    size_t lineno = 0, cap = 0;
    cw_code rc = CW_OK;
    while (rc == CW_OK && fgets(line, sizeof line, f)) {
        lineno++;
        size_t l = strlen(line);
        if (l && line[l - 1] == '\n')
            line[--l] = '\0';
        else if (!feof(f)) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s line %zu: too long", path, lineno);
            break;
        }
        if (l == 0 || line[0] == '#')
            continue;
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            api_key_entry *nv = realloc(out->v, nc * sizeof *nv);
            if (nv == NULL) {
                rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory reading %s", path);
                break;
            }
            out->v = nv;
            cap = nc;
        }
        rc = parse_line(line, lineno, path, &out->v[out->n], err);
        if (rc == CW_OK)
            out->n++;
    }
    if (rc == CW_OK && ferror(f))
        rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "reading %s: read error", path);
    fclose(f);
    sodium_memzero(line, sizeof line);
    if (rc)
        api_keys_free(out);
    return rc;
}

/* Rewrites the file whole: temporary, fsync, rename, fsync of the dir. */
static cw_code keys_save(const char *datadir, const api_keyset *ks, cw_err *err)
{
    char path[4200], tmp[4210];
    keys_path(datadir, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "writing %s: %s", tmp, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        unlink(tmp);
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "writing %s: %s", tmp, strerror(errno));
    }
    fputs("# chainwatch API keys: NAME ROLE BLAKE2b-256(key) CREATED (manage with chainwatch apikey)\n", f);
    for (size_t i = 0; i < ks->n; i++) {
        char hex[65];
        cw_hex_encode(ks->v[i].hash, 32, hex);
        fprintf(f, "%s %s %s %lld\n", ks->v[i].name, api_role_name(ks->v[i].role), hex, (long long)ks->v[i].created);
    }
    bool ok = fflush(f) == 0 && !ferror(f) && fsync(fileno(f)) == 0;
    int e = errno;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        e = ok ? errno : e;
        unlink(tmp);
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "writing %s: %s", path, strerror(e));
    }
    int dfd = open(datadir, O_RDONLY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return CW_OK;
}

cw_code api_keys_add(const char *datadir, const char *name, api_role role, char key_out[API_KEY_TEXT_MAX],
                     cw_err *err)
{
    if (!name_ok(name))
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "key name '%.80s': 1 to %d of the characters A-Z a-z 0-9 _ . @ -", name, API_KEY_NAME_MAX);
    if (role == API_ROLE_PUBLIC)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "a key's role is screen, review or admin");
    struct stat st;
    if (stat(datadir, &st) != 0 || !S_ISDIR(st.st_mode))
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "datadir %s: not a directory (run 'chainwatch init' first)",
                          datadir);
    if (sodium_init() < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "libsodium could not start");
    api_keyset ks;
    cw_code rc = api_keys_load(datadir, &ks, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < ks.n; i++)
        if (strcmp(ks.v[i].name, name) == 0) {
            api_keys_free(&ks);
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                              "a key named '%s' exists (remove it first: chainwatch apikey remove %s)", name, name);
        }
    api_key_entry *nv = realloc(ks.v, (ks.n + 1) * sizeof *nv);
    if (nv == NULL) {
        api_keys_free(&ks);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    }
    ks.v = nv;
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    memcpy(key_out, API_KEY_PREFIX, sizeof API_KEY_PREFIX - 1);
    sodium_bin2base64(key_out + sizeof API_KEY_PREFIX - 1, API_KEY_TEXT_MAX - (sizeof API_KEY_PREFIX - 1), raw,
                      sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    api_key_entry *e = &ks.v[ks.n++];
    memset(e, 0, sizeof *e);
    memcpy(e->name, name, strlen(name) + 1);
    e->role = role;
    e->created = (int64_t)time(NULL);
    key_hash(key_out, strlen(key_out), e->hash);
    rc = keys_save(datadir, &ks, err);
    api_keys_free(&ks);
    if (rc)
        sodium_memzero(key_out, API_KEY_TEXT_MAX);
    return rc;
}

cw_code api_keys_remove(const char *datadir, const char *name, cw_err *err)
{
    api_keyset ks;
    cw_code rc = api_keys_load(datadir, &ks, err);
    if (rc)
        return rc;
    size_t j = 0;
    for (size_t i = 0; i < ks.n; i++)
        if (strcmp(ks.v[i].name, name) != 0)
            ks.v[j++] = ks.v[i];
    if (j == ks.n) {
        api_keys_free(&ks);
        return cw_err_set(err, CW_ENOTFOUND, CW_NO_OFFSET, "no key named '%.80s' (chainwatch apikey list)", name);
    }
    ks.n = j;
    rc = keys_save(datadir, &ks, err);
    api_keys_free(&ks);
    return rc;
}

const api_key_entry *api_keys_check(const api_keyset *ks, const char *key, size_t n)
{
    uint8_t h[32];
    key_hash(key, n, h);
    const api_key_entry *found = NULL;
    for (size_t i = 0; i < ks->n; i++)
        if (sodium_memcmp(h, ks->v[i].hash, 32) == 0 && found == NULL)
            found = &ks->v[i];
    sodium_memzero(h, sizeof h);
    return found;
}
