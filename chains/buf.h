/*
 * buf.h: a growable byte buffer and whole-file reads.
 *
 * A cw_buf starts as CW_BUF_INIT (or zeroed) and owns p; the caller frees
 * it with cw_buf_free, which leaves it empty and reusable. Growing may move
 * p: pointers into a buffer die at the next append. cw_read_file is the one
 * I/O in chains/ (the CLI's input files); everything else here is pure.
 */
#ifndef CW_BUF_H
#define CW_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"

typedef struct {
    uint8_t *p;
    size_t n;
    size_t cap;
} cw_buf;

#define CW_BUF_INIT {NULL, 0, 0}

/* Makes room for `extra` more bytes; CW_ENOMEM on failure (buffer intact). */
cw_code cw_buf_reserve(cw_buf *b, size_t extra, cw_err *err);
/* Appends n bytes (p may be NULL when n is 0); CW_ENOMEM leaves b as it was. */
cw_code cw_buf_append(cw_buf *b, const void *p, size_t n, cw_err *err);
void cw_buf_free(cw_buf *b);

/* Reads a whole file ("-" is standard input) into b, replacing its contents.
 * Refuses files over max_bytes (CW_ELIMIT). CW_EIO when the file cannot be
 * opened or read, naming the path and errno's text; CW_ENOMEM. On error b
 * holds what was read so far (the caller frees it). */
cw_code cw_read_file(const char *path, size_t max_bytes, cw_buf *b, cw_err *err);

/* If the bytes are hex text (whitespace allowed: cw_looks_like_hex),
 * decodes them in place; other bytes are left as they are (raw input).
 * Hex text of odd length or with a stray character is CW_EFORMAT (b then
 * holds the text with its whitespace removed). */
cw_code cw_buf_unhex_if_text(cw_buf *b, cw_err *err);

#endif
