/*
 * json.h: the one JSON writer. Every JSON chainwatch prints goes through it.
 *
 * It appends to a cw_buf and places commas itself. Strings are written as
 * UTF-8 with the minimal escapes (", \, control characters); invalid UTF-8
 * bytes become U+FFFD, so output is always valid JSON. Integers are written
 * as integers, never floats. Keys are written in the order given: canonical
 * JSON (sorted keys, for signing) is the caller's order to keep.
 * An allocation failure is sticky: check cw_json_ok() at the end.
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

void cw_json_init(cw_json *j, cw_buf *out);
bool cw_json_ok(const cw_json *j);

void cw_json_obj_begin(cw_json *j);
void cw_json_obj_end(cw_json *j);
void cw_json_arr_begin(cw_json *j);
void cw_json_arr_end(cw_json *j);
void cw_json_key(cw_json *j, const char *key);

void cw_json_str(cw_json *j, const char *s);
void cw_json_strn(cw_json *j, const char *s, size_t n);
void cw_json_u64(cw_json *j, uint64_t v);
void cw_json_i64(cw_json *j, int64_t v);
void cw_json_bool(cw_json *j, bool v);
void cw_json_null(cw_json *j);
/* Bytes as a lowercase hex string; _rev in reverse order (hash display). */
void cw_json_hex(cw_json *j, const uint8_t *p, size_t n);
void cw_json_hex_rev(cw_json *j, const uint8_t *p, size_t n);

/* Appends a raw newline (between JSON lines). */
void cw_json_newline(cw_json *j);

#endif
