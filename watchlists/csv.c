/* csv.c: the shared CSV reader (see csv.h). */
#include "csv.h"

#include <ctype.h>

#include <stdlib.h>
#include <string.h>

static bool rec_reserve(csv_reader *r, size_t need)
{
    if (need <= r->rec_cap)
        return true;
    size_t cap = r->rec_cap ? r->rec_cap : 4096;
    while (cap < need)
        cap *= 2;
    char *p = realloc(r->rec, cap);
    if (p == NULL)
        return false;
    r->rec = p;
    r->rec_cap = cap;
    return true;
}

int csv_next(csv_reader *r, cw_err *err)
{
    import_line_status st = import_file_line(&r->in, &r->line, &r->cap, &r->len);
    if (st == IMPORT_LINE_EOF)
        return 0;
    r->line_no = ++r->next_line;
    if (st != IMPORT_LINE_OK)
        return import_line_error(&r->in, st, r->line_no, err), -1;
    const char *p = r->line;
    if (r->line_no == 1 && r->len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3; /* UTF-8 byte order mark */
    size_t w = 0;
    r->n_fields = 0;
    if (!rec_reserve(r, r->len + 2))
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", r->in.path), -1;
    r->field[r->n_fields++] = r->rec;
    bool quoted = false;
    for (;;) {
        char c = *p;
        if (c == '\0') {
            if (!quoted)
                break;
            /* a newline inside quotes: the record goes on on the next line */
            st = import_file_line(&r->in, &r->line, &r->cap, &r->len);
            if (st == IMPORT_LINE_EOF)
                return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                                  "%s: line %zu: a quoted field is not closed before the end of the file", r->in.path,
                                  r->line_no), -1;
            r->next_line++;
            if (st != IMPORT_LINE_OK)
                return import_line_error(&r->in, st, r->next_line, err), -1;
            if (w + r->len > IMPORT_LINE_MAX)
                return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET,
                                  "%s: line %zu: a record (a quoted field left open?) longer than %zu bytes, the "
                                  "most a CSV record may have",
                                  r->in.path, r->line_no, IMPORT_LINE_MAX), -1;
            /* field pointers index r->rec, which only grows by realloc: rebase them */
            char *old = r->rec;
            if (!rec_reserve(r, w + r->len + 3))
                return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", r->in.path), -1;
            for (int i = 0; i < r->n_fields; i++)
                r->field[i] = r->rec + (r->field[i] - old);
            r->rec[w++] = '\n';
            p = r->line;
            continue;
        }
        if (quoted) {
            if (c == '"' && p[1] == '"') {
                r->rec[w++] = '"';
                p += 2;
            } else if (c == '"') {
                quoted = false;
                p++;
            } else {
                r->rec[w++] = c;
                p++;
            }
        } else if (c == '"') {
            quoted = true;
            p++;
        } else if (c == ',') {
            r->rec[w++] = '\0';
            if (r->n_fields == CSV_MAX_FIELDS)
                return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %zu: more than %d fields", r->in.path,
                                  r->line_no, CSV_MAX_FIELDS), -1;
            r->field[r->n_fields++] = r->rec + w;
            p++;
        } else {
            r->rec[w++] = c;
            p++;
        }
        if (!rec_reserve(r, w + 2))
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", r->in.path), -1;
    }
    r->rec[w] = '\0';
    return 1;
}

cw_code csv_open(csv_reader *r, const char *path, const import_progress *p, const wl_import *imp, cw_err *err)
{
    memset(r, 0, sizeof *r);
    return import_file_open(&r->in, path, p, imp, err);
}

void csv_close(csv_reader *r, char sha[65])
{
    import_file_close(&r->in, sha);
    free(r->line);
    free(r->rec);
}

char *csv_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

bool csv_blank(const csv_reader *r)
{
    if (r->n_fields != 1)
        return false;
    for (const char *p = r->field[0]; *p; p++)
        if (!isspace((unsigned char)*p))
            return false;
    return true;
}
