/*
 * buf.h: a growable byte buffer and whole-file reads.
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
cw_code cw_buf_append(cw_buf *b, const void *p, size_t n, cw_err *err);
void cw_buf_free(cw_buf *b);

/* Reads a whole file ("-" is standard input) into b, replacing its contents.
 * Refuses files over max_bytes. Errors name the path and errno's text. */
cw_code cw_read_file(const char *path, size_t max_bytes, cw_buf *b, cw_err *err);

/* If the bytes are hex text (whitespace allowed), decodes them in place. */
cw_code cw_buf_unhex_if_text(cw_buf *b, cw_err *err);

#endif
