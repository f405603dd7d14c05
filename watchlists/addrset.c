#include "addrset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/sort.h"
#include "watchlist.h"

typedef struct {
    uint8_t len;
    uint8_t key[WL_KEY_MAX];
} set_key;

struct addrset {
    set_key *keys;
    size_t n;
};

static int cmp_key(const void *a, const void *b)
{
    const set_key *x = a, *y = b;
    return cw_bytes_cmp(x->key, x->len, y->key, y->len);
}

cw_code addrset_load(const char *path, addrset **out, cw_err *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot open %s: %s", path, strerror(errno));
    addrset *s = calloc(1, sizeof *s);
    size_t cap = 0;
    char *line = NULL;
    size_t lcap = 0, lineno = 0;
    cw_code rc = s ? CW_OK : cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    while (rc == CW_OK && getline(&line, &lcap, f) > 0) {
        lineno++;
        char *p = line, *e;
        while (*p == ' ' || *p == '\t')
            p++;
        e = p + strlen(p);
        while (e > p && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        if (*p == '\0' || *p == '#')
            continue;
        if (s->n == cap) {
            cap = cap ? cap * 2 : 256;
            set_key *nk = realloc(s->keys, cap * sizeof *nk);
            if (nk == NULL) {
                rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
                break;
            }
            s->keys = nk;
        }
        cw_err why = {0};
        size_t kn = wl_key_from_text(p, s->keys[s->n].key, &why);
        if (kn == 0 || kn > 255) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s:%zu: '%s' is not an address: %s", path, lineno, p,
                            why.msg[0] ? why.msg : "unusable");
            break;
        }
        s->keys[s->n++].len = (uint8_t)kn;
    }
    free(line);
    fclose(f);
    if (rc) {
        addrset_free(s);
        return rc;
    }
    qsort(s->keys, s->n, sizeof *s->keys, cmp_key);
    *out = s;
    return CW_OK;
}

void addrset_free(addrset *s)
{
    if (s == NULL)
        return;
    free(s->keys);
    free(s);
}

size_t addrset_count(const addrset *s) { return s ? s->n : 0; }

bool addrset_has_key(const addrset *s, const uint8_t *key, size_t klen)
{
    if (s == NULL || s->n == 0 || klen > WL_KEY_MAX)
        return false;
    set_key k = {.len = (uint8_t)klen};
    memcpy(k.key, key, klen);
    return bsearch(&k, s->keys, s->n, sizeof *s->keys, cmp_key) != NULL;
}

bool addrset_has(const addrset *s, const cw_addr *a)
{
    uint8_t key[WL_KEY_MAX];
    size_t kn = wl_key_from_addr(a, key);
    return addrset_has_key(s, key, kn);
}
