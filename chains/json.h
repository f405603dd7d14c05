/*
 * json.h: the one JSON writer. Every JSON chainwatch prints goes through it.
 *
 * It appends to a cw_buf and places commas itself. Strings are written as
 * UTF-8 with the minimal escapes (", \, control characters); invalid UTF-8
 * bytes (overlong forms, surrogates, code points above U+10FFFF, cut
 * sequences) become U+FFFD, so output is always valid UTF-8. Integers are
 * written as integers, never floats. Keys are written in the order given:
 * canonical JSON (sorted keys, for signing) is the caller's order to keep.
 *
 * Errors: no call returns one. The first failure (the buffer cannot grow,
 * nesting deeper than CW_JSON_MAX_DEPTH) is sticky: every later call is a
 * no-op on the buffer and cw_json_ok() returns false. Check it once at the
 * end and treat false as CW_ENOMEM; the buffer then holds a cut document
 * that must not be written out.
 *
 * It is a writer, not a validator: it does not check that begin/end pairs
 * match, that every key gets a value, or that keys are unique. Callers
 * write well-formed sequences (the structure is fixed by the code).
 *
 * Ownership: the writer borrows `out` (the caller owns and frees it) and
 * copies every string and byte span it is given; nothing is kept after a
 * call returns. No globals; one writer per buffer, not shared between
 * threads. The only allocation besides the buffer's growth is a scratch
 * string for hex spans over 64 bytes.
 */
#ifndef CW_JSON_H
#define CW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CW_JSON_MAX_DEPTH 32

typedef struct {
    cw_buf *out;
    int depth;
    bool need_comma[CW_JSON_MAX_DEPTH + 1];
    bool after_key;
    bool failed;
} cw_json;

/* Starts a writer appending to out (existing bytes are kept, so several
 * documents can share one buffer). Never fails. */
void cw_json_init(cw_json *j, cw_buf *out);
/* False once any write failed (see above): the output is cut. */
bool cw_json_ok(const cw_json *j);

void cw_json_obj_begin(cw_json *j);
void cw_json_obj_end(cw_json *j);
void cw_json_arr_begin(cw_json *j);
void cw_json_arr_end(cw_json *j);
/* Writes "key": the next value call completes the member. key must be a
 * NUL-terminated string (not NULL); it is escaped like any string. */
void cw_json_key(cw_json *j, const char *key);

/* A NUL-terminated string; NULL writes null (for optional fields). */
void cw_json_str(cw_json *j, const char *s);
/* n bytes from s (may contain NUL, written as \u0000); s not NULL unless n 0. */
void cw_json_strn(cw_json *j, const char *s, size_t n);
/* One string value written in pieces, for text assembled from several
 * fields without a buffer: cw_json_str_begin, any number of
 * cw_json_str_add (each a NUL-terminated string, not NULL, escaped as
 * cw_json_str escapes; each piece on its own, so a UTF-8 sequence must not
 * straddle two), then cw_json_str_end. No other call in between. */
void cw_json_str_begin(cw_json *j);
void cw_json_str_add(cw_json *j, const char *s);
void cw_json_str_end(cw_json *j);
void cw_json_u64(cw_json *j, uint64_t v);
void cw_json_i64(cw_json *j, int64_t v);
void cw_json_bool(cw_json *j, bool v);
void cw_json_null(cw_json *j);
/* Bytes as a lowercase hex string; _rev in reverse order (hash display). */
void cw_json_hex(cw_json *j, const uint8_t *p, size_t n);
void cw_json_hex_rev(cw_json *j, const uint8_t *p, size_t n);

/* Appends a raw newline and resets the top level, so the next value starts
 * a new JSON line without a comma. Call only at depth 0. */
void cw_json_newline(cw_json *j);

#endif
