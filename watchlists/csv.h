/* csv.h (internal): the RFC 4180 reader the CSV importers share: quoted
 * fields, doubled quotes, CRLF, a UTF-8 BOM, newlines inside quotes. It reads
 * through import_file, so the file is hashed and progress reported as it
 * goes, and its errors name the file and the line a record starts on. */
#ifndef CW_CSV_H
#define CW_CSV_H

#include <stdbool.h>

#include "import_file.h"

#define CSV_MAX_FIELDS 32

typedef struct {
    import_file in;
    char *line;
    size_t cap, len;
    char *rec; /* the record, fields NUL-separated after parsing */
    size_t rec_cap;
    char *field[CSV_MAX_FIELDS];
    int n_fields;
    size_t line_no;   /* line where the current record starts */
    size_t next_line; /* lines consumed so far */
} csv_reader;

/* Opens path (p and imp may be NULL: no progress reports). */
cw_code csv_open(csv_reader *r, const char *path, const import_progress *p, const wl_import *imp, cw_err *err);
/* Reads the next record into r->field[0..n_fields), NUL-terminated and
 * valid until the next call; r->line_no is the line it starts on. Returns 1
 * with fields set, 0 at the end of the file, -1 on error (err set): a NUL
 * byte, a quoted field not closed before the end, more than CSV_MAX_FIELDS
 * fields, out of memory. A blank line is one empty field. */
int csv_next(csv_reader *r, cw_err *err);
/* Closes and frees; sha receives the hex sha256 of the bytes read. */
void csv_close(csv_reader *r, char sha[65]);

/* A field without its leading and trailing white space (cut in place:
 * returns a pointer into s). */
char *csv_trim(char *s);
/* True when the record read is a blank line (one field of white space). */
bool csv_blank(const csv_reader *r);

#endif
