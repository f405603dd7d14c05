/* import_file.h (internal): a file read in chunks that hashes (sha256) and
 * reports progress as it goes, shared by every importer. */
#ifndef CW_IMPORT_FILE_H
#define CW_IMPORT_FILE_H

#include <stdio.h>

#include "chains/hash.h"
#include "import.h"

typedef struct {
    FILE *f;
    const char *path;
    uint64_t size, done;
    cw_sha256_ctx sha;
    const import_progress *progress;
    const wl_import *imp;
    uint64_t next_report;
} import_file;

cw_code import_file_open(import_file *in, const char *path, const import_progress *p, const wl_import *imp,
                         cw_err *err);
/* Reads up to cap bytes; 0 at the end; -1 on a read error (errno set). */
long import_file_read(import_file *in, void *buf, size_t cap);
/* The longest line (and CSV record) an importer reads: far above any real
 * list's (OFAC's remarks are cut at 1,000 characters; an OpenSanctions
 * entity is a few KiB), so memory stays bounded on a file with no newlines
 * (/dev/zero, a binary, a 1 GB single line). */
#define IMPORT_LINE_MAX ((size_t)1 << 20)

typedef enum {
    IMPORT_LINE_OK = 1, /* a line in *line, NUL-terminated, without CR/LF */
    IMPORT_LINE_EOF = 0,
    IMPORT_LINE_NUL = -1,   /* a NUL byte: not a text file (reading stopped there) */
    IMPORT_LINE_LONG = -2,  /* over IMPORT_LINE_MAX bytes (reading stopped there) */
    IMPORT_LINE_NOMEM = -3,
    IMPORT_LINE_EIO = -4,
} import_line_status;

/* Reads one line into a growing buffer of at most IMPORT_LINE_MAX + 1 bytes. */
import_line_status import_file_line(import_file *in, char **line, size_t *cap, size_t *len);
/* The error for a failed import_file_line status, naming the file and line. */
cw_code import_line_error(const import_file *in, import_line_status st, size_t line_no, cw_err *err);
/* Finishes: hex sha256 of everything read (65 bytes), closes. */
void import_file_close(import_file *in, char sha_hex[65]);

/* An XML element's value as the schema means it. libxml2's reader hands an
 * element's text over in pieces (text, CDATA, whitespace nodes, split by
 * comments); they are joined here, leading and trailing whitespace
 * (wl_layout_len's spaces: ASCII and Unicode) dropped and each inner run of
 * it (line breaks, indentation, no-break spaces) kept as one ASCII space;
 * xml_text_strip_spaces then drops those too where whitespace is not
 * part of the value (an address). Memory is bounded: a value over
 * XML_VALUE_MAX bytes once collapsed is marked `over` and not kept further,
 * and the importer refuses it when it uses that element. */
#define XML_VALUE_MAX 4096

typedef struct {
    char *p; /* NUL-terminated when n > 0 or after xml_text_value */
    size_t n, cap;
    bool space; /* whitespace after the last kept character */
    bool over;  /* longer than XML_VALUE_MAX: the value is incomplete */
    bool oom;
} xml_text;

void xml_text_add(xml_text *t, const char *piece);
void xml_text_clear(xml_text *t);
void xml_text_free(xml_text *t);
/* The value so far ("" when none); valid until the next add or clear. */
const char *xml_text_value(xml_text *t);
void xml_text_strip_spaces(xml_text *t);

/* libxml2 reads ahead: by the time its reader hands over a DOCTYPE node it
 * may already have parsed (and tried to expand) the entities after it. So
 * the XML importers scan the bytes before the root element as they are
 * read, before the parser sees them, and stop the read at "<!DOCTYPE". */
typedef struct {
    bool done;          /* the root element has started */
    size_t match;       /* bytes of "<!DOCTYPE" matched so far */
    int line;           /* newlines seen in the prolog */
    int doctype_line;   /* 1-based line of the DOCTYPE, once found */
} xml_prolog_guard;

/* Feeds the next bytes; true when they complete a "<!DOCTYPE" in the prolog. */
bool xml_prolog_has_doctype(xml_prolog_guard *g, const char *buf, long n);

#endif
