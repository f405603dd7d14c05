#include "import_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chains/hex.h"

cw_code import_file_open(import_file *in, const char *path, const import_progress *p, const wl_import *imp,
                         cw_err *err)
{
    memset(in, 0, sizeof *in);
    in->f = fopen(path, "rb");
    if (in->f == NULL)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(in->f), &st) == 0)
        in->size = (uint64_t)st.st_size;
    in->path = path;
    in->progress = p;
    in->imp = imp;
    cw_sha256_init(&in->sha);
    return CW_OK;
}

static void report(import_file *in)
{
    if (in->progress && in->progress->fn && in->done >= in->next_report) {
        in->progress->fn(in->progress->ctx, in->done, in->size, wl_import_address_count(in->imp));
        in->next_report = in->done + (1u << 20);
    }
}

long import_file_read(import_file *in, void *buf, size_t cap)
{
    size_t got = fread(buf, 1, cap, in->f);
    if (got == 0 && ferror(in->f))
        return -1;
    cw_sha256_update(&in->sha, buf, got);
    in->done += got;
    report(in);
    return (long)got;
}

bool import_file_line(import_file *in, char **line, size_t *cap, size_t *len, bool *bad)
{
    *len = 0;
    *bad = false;
    int c;
    bool any = false;
    while ((c = getc(in->f)) != EOF) {
        any = true;
        uint8_t b = (uint8_t)c;
        cw_sha256_update(&in->sha, &b, 1);
        in->done++;
        if (c == '\n')
            break;
        if (c == '\0')
            *bad = true;
        if (*len + 2 > *cap) {
            size_t nc = *cap ? *cap * 2 : 4096;
            char *nl = realloc(*line, nc);
            if (nl == NULL) {
                *bad = true;
                return false;
            }
            *line = nl;
            *cap = nc;
        }
        (*line)[(*len)++] = (char)c;
    }
    if (!any)
        return false;
    if (*len > 0 && (*line)[*len - 1] == '\r')
        (*len)--;
    if (*cap == 0) {
        *line = malloc(1);
        *cap = 1;
    }
    (*line)[*len] = '\0';
    report(in);
    return true;
}

void import_file_close(import_file *in, char sha_hex[65])
{
    uint8_t h[32];
    cw_sha256_final(&in->sha, h);
    cw_hex_encode(h, 32, sha_hex);
    if (in->f)
        fclose(in->f);
    in->f = NULL;
}

bool xml_prolog_has_doctype(xml_prolog_guard *g, const char *buf, long n)
{
    static const char doctype[] = "<!DOCTYPE";
    for (long i = 0; i < n && !g->done; i++) {
        unsigned char c = (unsigned char)buf[i];
        bool name_start = c == '_' || c == ':' || c >= 0x80 || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
        if (g->match == 1 && name_start) {
            g->done = true; /* "<" + a name: the root element */
            break;
        }
        if (c == '\n')
            g->line++;
        if (c == (unsigned char)doctype[g->match])
            g->match++;
        else
            g->match = c == '<';
        if (g->match == sizeof doctype - 1) {
            g->doctype_line = g->line + 1;
            return true;
        }
    }
    return false;
}
