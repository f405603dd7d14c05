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
/* Reads one line (without CR/LF) into a growing buffer; false at EOF. A NUL
 * byte in the line is an error (*bad set). */
bool import_file_line(import_file *in, char **line, size_t *cap, size_t *len, bool *bad);
/* Finishes: hex sha256 of everything read (65 bytes), closes. */
void import_file_close(import_file *in, char sha_hex[65]);

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
