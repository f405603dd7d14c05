/* request.c: the request target parser and route matcher (request.h). */
#include "request.h"

#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes p[0..n) into *dst (NUL-terminated, advancing *dst). off: where p
 * starts in the target, for messages. */
static cw_code decode(const char *p, size_t n, bool plus_space, size_t off, char **dst, const char *what, cw_err *err)
{
    char *d = *dst;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexval(p[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(p[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return cw_err_set(err, CW_EFORMAT, off + i, "%s: '%%' at byte %zu is not followed by two hex digits",
                                  what, off + i);
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f)
            return cw_err_set(err, CW_EFORMAT, off + i, "%s: a control character (0x%02x) at byte %zu", what, c,
                              off + i);
        *d++ = (char)c;
    }
    *d++ = '\0';
    *dst = d;
    return CW_OK;
}

cw_code api_url_parse(const char *target, size_t n, api_url *u, cw_err *err)
{
    u->n_seg = u->n_query = 0;
    u->path[0] = '\0';
    if (n > API_URL_MAX)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "request target: %zu bytes, more than %d", n, API_URL_MAX);
    if (n == 0 || target[0] != '/')
        return cw_err_set(err, CW_EFORMAT, 0, "request target: it must start with '/'");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)target[i] <= 0x20 || (unsigned char)target[i] >= 0x7f)
            return cw_err_set(err, CW_EFORMAT, i, "request target: byte %zu (0x%02x) must be percent-encoded", i,
                              (unsigned char)target[i]);
    const char *q = memchr(target, '?', n);
    size_t plen = q ? (size_t)(q - target) : n;
    char *a = u->arena;
    /* path segments */
    size_t pos = 1;
    while (pos < plen) {
        const char *slash = memchr(target + pos, '/', plen - pos);
        size_t end = slash ? (size_t)(slash - target) : plen;
        if (end == pos) {
            if (!slash) /* a trailing '/' ("/v1/alerts/") */
                break;
            return cw_err_set(err, CW_EFORMAT, pos, "request target: an empty path segment at byte %zu", pos);
        }
        if (u->n_seg == API_URL_MAX_SEGMENTS)
            return cw_err_set(err, CW_ELIMIT, pos, "request target: more than %d path segments",
                              API_URL_MAX_SEGMENTS);
        const char *seg = a;
        cw_code rc = decode(target + pos, end - pos, false, pos, &a, "request path", err);
        if (rc)
            return rc;
        if (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0)
            return cw_err_set(err, CW_EFORMAT, pos, "request target: a '%s' path segment at byte %zu", seg, pos);
        if (strchr(seg, '/'))
            return cw_err_set(err, CW_EFORMAT, pos, "request target: an encoded '/' in the path at byte %zu", pos);
        u->seg[u->n_seg++] = seg;
        pos = end + 1;
    }
    /* the decoded path, for handlers and logs */
    size_t pl = 0;
    for (size_t i = 0; i < u->n_seg; i++) {
        size_t l = strlen(u->seg[i]);
        if (pl + 1 + l > API_URL_MAX)
            return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "request target: path too long");
        u->path[pl++] = '/';
        memcpy(u->path + pl, u->seg[i], l);
        pl += l;
    }
    if (pl == 0)
        u->path[pl++] = '/';
    u->path[pl] = '\0';
    if (!q)
        return CW_OK;
    /* query: name[=value] pairs split by '&' */
    pos = plen + 1;
    while (pos < n) {
        const char *amp = memchr(target + pos, '&', n - pos);
        size_t end = amp ? (size_t)(amp - target) : n;
        if (end > pos) {
            if (u->n_query == API_URL_MAX_QUERY)
                return cw_err_set(err, CW_ELIMIT, pos, "request query: more than %d parameters", API_URL_MAX_QUERY);
            const char *eq = memchr(target + pos, '=', end - pos);
            size_t nend = eq ? (size_t)(eq - target) : end;
            if (nend == pos)
                return cw_err_set(err, CW_EFORMAT, pos, "request query: a parameter without a name at byte %zu", pos);
            const char *name = a;
            cw_code rc = decode(target + pos, nend - pos, true, pos, &a, "request query", err);
            const char *value = a;
            if (rc == CW_OK)
                rc = eq ? decode(eq + 1, end - nend - 1, true, nend + 1, &a, "request query", err)
                        : decode("", 0, true, end, &a, "request query", err);
            if (rc)
                return rc;
            if (api_url_query(u, name))
                return cw_err_set(err, CW_EFORMAT, pos, "request query: parameter '%.64s' given twice", name);
            u->qname[u->n_query] = name;
            u->qvalue[u->n_query++] = value;
        }
        pos = end + 1;
    }
    return CW_OK;
}

const char *api_url_query(const api_url *u, const char *name)
{
    for (size_t i = 0; i < u->n_query; i++)
        if (strcmp(u->qname[i], name) == 0)
            return u->qvalue[i];
    return NULL;
}

static bool name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

/* The next pattern segment from *p: [s, s+len). False at the end. */
static bool next_seg(const char **p, const char **s, size_t *len)
{
    if (**p != '/')
        return false;
    (*p)++;
    *s = *p;
    while (**p && **p != '/')
        (*p)++;
    *len = (size_t)(*p - *s);
    return true;
}

bool api_pattern_ok(const char *pattern, size_t max)
{
    if (pattern == NULL || pattern[0] != '/')
        return false;
    if (strcmp(pattern, "/") == 0)
        return true;
    const char *p = pattern, *s;
    size_t len, segs = 0, params = 0;
    while (next_seg(&p, &s, &len)) {
        if (len == 0 || ++segs > API_URL_MAX_SEGMENTS)
            return false;
        if (s[0] == '{') {
            if (len < 3 || s[len - 1] != '}' || ++params > max)
                return false;
            for (size_t i = 1; i + 1 < len; i++)
                if (!name_char(s[i]))
                    return false;
        } else {
            for (size_t i = 0; i < len; i++)
                if (s[i] == '{' || s[i] == '}')
                    return false;
        }
    }
    return *p == '\0';
}

bool api_url_match(const char *pattern, const api_url *u, const char **names, size_t name_lens[],
                   const char **values, size_t max, size_t *n)
{
    *n = 0;
    if (!api_pattern_ok(pattern, max))
        return false;
    if (strcmp(pattern, "/") == 0)
        return u->n_seg == 0;
    const char *p = pattern, *s;
    size_t len, i = 0;
    while (next_seg(&p, &s, &len)) {
        if (i == u->n_seg)
            return false;
        if (s[0] == '{') {
            names[*n] = s + 1;
            name_lens[*n] = len - 2;
            values[(*n)++] = u->seg[i];
        } else if (strlen(u->seg[i]) != len || memcmp(u->seg[i], s, len) != 0) {
            return false;
        }
        i++;
    }
    return i == u->n_seg;
}
