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

import_line_status import_file_line(import_file *in, char **line, size_t *cap, size_t *len)
{
    *len = 0;
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
            return IMPORT_LINE_NUL;
        if (*len >= IMPORT_LINE_MAX)
            return IMPORT_LINE_LONG;
        if (*len + 2 > *cap) {
            size_t nc = *cap ? *cap * 2 : 4096;
            char *nl = realloc(*line, nc);
            if (nl == NULL)
                return IMPORT_LINE_NOMEM;
            *line = nl;
            *cap = nc;
        }
        (*line)[(*len)++] = (char)c;
    }
    if (ferror(in->f))
        return IMPORT_LINE_EIO;
    if (!any)
        return IMPORT_LINE_EOF;
    if (*len > 0 && (*line)[*len - 1] == '\r')
        (*len)--;
    if (*cap == 0) {
        if ((*line = malloc(1)) == NULL)
            return IMPORT_LINE_NOMEM;
        *cap = 1;
    }
    (*line)[*len] = '\0';
    report(in);
    return IMPORT_LINE_OK;
}

cw_code import_line_error(const import_file *in, import_line_status st, size_t line_no, cw_err *err)
{
    switch (st) {
    case IMPORT_LINE_NUL:
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %zu: a NUL byte: not a text file (is it compressed?)",
                          in->path, line_no);
    case IMPORT_LINE_LONG:
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET,
                          "%s: line %zu: longer than %zu bytes, the most a line (or CSV record) may have: not a "
                          "designation list",
                          in->path, line_no, IMPORT_LINE_MAX);
    case IMPORT_LINE_EIO:
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "%s: read error at line %zu", in->path, line_no);
    default:
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: line %zu: out of memory reading the line", in->path,
                          line_no);
    }
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

static void xml_text_push(xml_text *t, char c)
{
    if (t->n >= XML_VALUE_MAX) {
        t->over = true;
        return;
    }
    if (t->n + 2 > t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 128;
        char *np = realloc(t->p, nc);
        if (np == NULL) {
            t->oom = true;
            return;
        }
        t->p = np;
        t->cap = nc;
    }
    t->p[t->n++] = c;
    t->p[t->n] = '\0';
}

void xml_text_add(xml_text *t, const char *piece)
{
    for (const char *c = piece; *c && !t->over && !t->oom; c++) {
        /* Unicode spaces (a no-break space) collapse like ASCII ones;
         * invisible format characters stay (a name may need a ZWNJ), and
         * wl_import_commit drops them from addresses. */
        bool space;
        size_t k = wl_layout_len(c, &space);
        if (k && space) {
            t->space = t->n > 0; /* leading whitespace is dropped */
            c += k - 1;
            continue;
        }
        if (t->space)
            xml_text_push(t, ' ');
        t->space = false;
        xml_text_push(t, *c);
    }
}

void xml_text_clear(xml_text *t)
{
    t->n = 0;
    t->space = t->over = false;
    if (t->p)
        t->p[0] = '\0';
}

void xml_text_free(xml_text *t)
{
    free(t->p);
    memset(t, 0, sizeof *t);
}

const char *xml_text_value(xml_text *t) { return t->n ? t->p : ""; }

void xml_text_strip_spaces(xml_text *t)
{
    size_t w = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->p[i] != ' ')
            t->p[w++] = t->p[i];
    t->n = w;
    if (t->p)
        t->p[w] = '\0';
}
