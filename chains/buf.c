#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"

cw_code cw_buf_reserve(cw_buf *b, size_t extra, cw_err *err)
{
    if (extra <= b->cap - b->n)
        return CW_OK;
    if (extra > SIZE_MAX / 2 - b->n)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "buffer of %zu bytes cannot grow by %zu", b->n, extra);
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->n < extra)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (p == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory growing a buffer to %zu bytes", cap);
    b->p = p;
    b->cap = cap;
    return CW_OK;
}

cw_code cw_buf_append(cw_buf *b, const void *p, size_t n, cw_err *err)
{
    cw_code rc = cw_buf_reserve(b, n, err);
    if (rc)
        return rc;
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    return CW_OK;
}

void cw_buf_free(cw_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

cw_code cw_read_file(const char *path, size_t max_bytes, cw_buf *b, cw_err *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot open %s: %s", path, strerror(errno));
    b->n = 0;
    cw_code rc = CW_OK;
    for (;;) {
        if ((rc = cw_buf_reserve(b, 65536, err)))
            break;
        size_t got = fread(b->p + b->n, 1, b->cap - b->n, f);
        b->n += got;
        if (b->n > max_bytes) {
            rc = cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "%s is larger than %zu bytes", is_stdin ? "standard input" : path,
                            max_bytes);
            break;
        }
        if (got == 0) {
            if (ferror(f))
                rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot read %s: %s", path, strerror(errno));
            break;
        }
    }
    if (!is_stdin)
        fclose(f);
    return rc;
}

cw_code cw_buf_unhex_if_text(cw_buf *b, cw_err *err)
{
    if (!cw_looks_like_hex(b->p, b->n))
        return CW_OK;
    size_t w = 0; /* strip whitespace, then decode in place (output is shorter) */
    for (size_t i = 0; i < b->n; i++)
        if (b->p[i] != ' ' && b->p[i] != '\n' && b->p[i] != '\r' && b->p[i] != '\t')
            b->p[w++] = b->p[i];
    size_t n;
    cw_code rc = cw_hex_decode((const char *)b->p, w, b->p, b->cap, &n, err);
    if (rc)
        return rc;
    b->n = n;
    return CW_OK;
}
