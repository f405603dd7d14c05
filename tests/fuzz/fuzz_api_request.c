/* libFuzzer target: the API's request parser (monitor/api/request.h) and
 * the JSON body reading it does (jansson, duplicate keys refused), on
 * arbitrary bytes: the input is a target, then (after the first newline)
 * a body. Properties beyond "no crash": a parsed target's path starts with
 * '/', holds no control character and no "." or ".." segment; its
 * segments and query values are NUL-free strings inside the arena; route
 * matching never reports more params than the pattern has. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/api/request.h"
#include "monitor/api/server.h"

static const char *const patterns[] = {"/api/v1/address/{address}", "/v1/screen", "/v1/alerts", "/v1/alerts/{id}",
                                       "/v1/cases/{id}/release", "/", "/healthz", NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t tlen = nl ? (size_t)(nl - data) : size;
    static api_url u;
    cw_err err = {0};
    if (api_url_parse((const char *)data, tlen, &u, &err) == CW_OK) {
        if (u.path[0] != '/')
            abort();
        for (const char *p = u.path; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                abort();
        for (size_t i = 0; i < u.n_seg; i++) {
            if (u.seg[i] < u.arena || u.seg[i] >= u.arena + sizeof u.arena || !strcmp(u.seg[i], ".") ||
                !strcmp(u.seg[i], "..") || u.seg[i][0] == '\0')
                abort();
        }
        for (size_t i = 0; i < u.n_query; i++)
            if (api_url_query(&u, u.qname[i]) != u.qvalue[i])
                abort(); /* names are unique */
        for (int k = 0; patterns[k]; k++) {
            const char *names[API_MAX_PARAMS], *values[API_MAX_PARAMS];
            size_t lens[API_MAX_PARAMS], n;
            if (api_url_match(patterns[k], &u, names, lens, values, API_MAX_PARAMS, &n) && n > 1)
                abort();
        }
    } else if (err.msg[0] == '\0') {
        abort();
    }
    if (nl) {
        json_error_t je;
        json_t *j = json_loadb((const char *)nl + 1, size - tlen - 1, JSON_REJECT_DUPLICATES, &je);
        json_decref(j);
    }
    return 0;
}
