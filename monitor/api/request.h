/*
 * request.h: the API's request target parser and route matcher. Pure code
 * (no I/O, no globals), fuzzed by tests/fuzz/fuzz_api_request.c.
 *
 * A target is "/path?query" as the client sent it (origin form): the
 * path's segments and the query's name=value pairs are percent-decoded
 * into one arena the caller gives. Refused (CW_EFORMAT or CW_ELIMIT, with
 * what and where): no leading '/', a '%' not followed by two hex digits, a
 * decoded NUL or control character, a "." or ".." segment, an empty
 * segment inside the path ("//"), more than API_URL_MAX_SEGMENTS segments
 * or API_URL_MAX_QUERY parameters, a target longer than API_URL_MAX, a
 * query parameter named twice or with an empty name. '+' in a query is a
 * space (form encoding); in the path it is itself.
 */
#ifndef CW_API_REQUEST_H
#define CW_API_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "chains/err.h"

#define API_URL_MAX 4096
#define API_URL_MAX_SEGMENTS 16
#define API_URL_MAX_QUERY 16

typedef struct {
    char path[API_URL_MAX + 1];           /* decoded path ("/" joined segments), NUL-terminated */
    const char *seg[API_URL_MAX_SEGMENTS]; /* into arena */
    size_t n_seg;
    const char *qname[API_URL_MAX_QUERY], *qvalue[API_URL_MAX_QUERY]; /* into arena */
    size_t n_query;
    char arena[2 * API_URL_MAX + 2 * API_URL_MAX_SEGMENTS + 4 * API_URL_MAX_QUERY];
} api_url;

/* Parses target[0..n) into *out. */
cw_code api_url_parse(const char *target, size_t n, api_url *out, cw_err *err);

/* The value of query parameter name, NULL when absent. */
const char *api_url_query(const api_url *u, const char *name);

/* Does pattern ("/v1/cases/{id}/release") match the url's segments? On a
 * match, names[i]/values[i] (i < *n, at most API_MAX_PARAMS of server.h,
 * here max) are the "{name}" segments (names point into pattern, values
 * into u). A malformed pattern matches nothing. */
bool api_url_match(const char *pattern, const api_url *u, const char **names, size_t name_lens[],
                   const char **values, size_t max, size_t *n);

/* Is pattern well formed: starts with '/', segments non-empty, a "{name}"
 * segment is the whole segment with a non-empty name of [a-z0-9_],
 * at most API_URL_MAX_SEGMENTS segments and max "{...}" segments. */
bool api_pattern_ok(const char *pattern, size_t max);

#endif
