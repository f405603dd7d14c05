#include "alert.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chains/hex.h"
#include "chains/json.h"
#include "chains/sort.h"

void alert_id(const char *chain, const char *network, const char *txid, const char *rule, const char *address,
              char out[33])
{
    const char *fields[5] = {chain, network, txid, rule, address};
    const unsigned char sep = 0x1f; /* unit separator: cannot occur in any of the fields */
    crypto_generichash_state st;
    unsigned char h[16];
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    for (int i = 0; i < 5; i++) {
        if (i)
            crypto_generichash_update(&st, &sep, 1);
        if (fields[i])
            crypto_generichash_update(&st, (const unsigned char *)fields[i], strlen(fields[i]));
    }
    crypto_generichash_final(&st, h, sizeof h);
    cw_hex_encode(h, sizeof h, out);
}

/* ---- canonical form ---- */

typedef struct {
    const char *key;
    size_t len;
    const json_t *val;
} member;

static int member_cmp(const void *a, const void *b)
{
    const member *x = a, *y = b;
    return cw_bytes_cmp(x->key, x->len, y->key, y->len);
}

/* path names where in the record a refused value sits, for the message. */
static cw_code walk(cw_json *j, const json_t *v, char *path, size_t plen, size_t pcap, cw_err *err)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (j->depth >= CW_JSON_MAX_DEPTH)
            return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "canonical JSON: nesting deeper than %d at %s",
                              CW_JSON_MAX_DEPTH, plen ? path : ".");
        size_t n = json_object_size(v), k = 0;
        member *m = n ? malloc(n * sizeof *m) : NULL;
        if (n && m == NULL)
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "canonical JSON: out of memory");
        const char *key;
        size_t klen;
        json_t *val;
        json_object_keylen_foreach((json_t *)v, key, klen, val)
        {
            if (k < n)
                m[k++] = (member){key, klen, val};
        }
        if (k > 1)
            qsort(m, k, sizeof *m, member_cmp);
        cw_json_obj_begin(j);
        cw_code rc = CW_OK;
        for (size_t i = 0; i < k && rc == CW_OK; i++) {
            if (memchr(m[i].key, '\0', m[i].len)) {
                rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "canonical JSON: a key under %s holds a NUL byte",
                                plen ? path : ".");
                break;
            }
            snprintf(path + plen, pcap - plen, ".%s", m[i].key);
            size_t sub = strlen(path);
            cw_json_key(j, m[i].key);
            rc = walk(j, m[i].val, path, sub, pcap, err);
            path[plen] = '\0';
        }
        free(m);
        if (rc)
            return rc;
        cw_json_obj_end(j);
        return CW_OK;
    }
    case JSON_ARRAY: {
        if (j->depth >= CW_JSON_MAX_DEPTH)
            return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "canonical JSON: nesting deeper than %d at %s",
                              CW_JSON_MAX_DEPTH, plen ? path : ".");
        cw_json_arr_begin(j);
        for (size_t i = 0; i < json_array_size(v); i++) {
            snprintf(path + plen, pcap - plen, "[%zu]", i);
            cw_code rc = walk(j, json_array_get(v, i), path, strlen(path), pcap, err);
            path[plen] = '\0';
            if (rc)
                return rc;
        }
        cw_json_arr_end(j);
        return CW_OK;
    }
    case JSON_STRING:
        cw_json_strn(j, json_string_value(v), json_string_length(v));
        return CW_OK;
    case JSON_INTEGER:
        cw_json_i64(j, (int64_t)json_integer_value(v));
        return CW_OK;
    case JSON_REAL:
        /* a float's text is not canonical across writers, and amounts must be exact */
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                          "canonical JSON: real number %.17g at %s refused: records carry integers only",
                          json_real_value(v), plen ? path : ".");
    case JSON_TRUE:
        cw_json_bool(j, true);
        return CW_OK;
    case JSON_FALSE:
        cw_json_bool(j, false);
        return CW_OK;
    case JSON_NULL:
        cw_json_null(j);
        return CW_OK;
    }
    return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "canonical JSON: unknown value type at %s", plen ? path : ".");
}

cw_code alert_canonical(const json_t *v, cw_buf *out, cw_err *err)
{
    if (v == NULL)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "canonical JSON: no value given");
    size_t before = out->n;
    char path[256] = "";
    cw_json j;
    cw_json_init(&j, out);
    cw_code rc = walk(&j, v, path, 0, sizeof path, err);
    if (rc == CW_OK && !cw_json_ok(&j))
        rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "canonical JSON: out of memory");
    if (rc)
        out->n = before;
    return rc;
}

/* ---- signatures ---- */

cw_code alert_sign(json_t *record, const uint8_t sk[64], cw_buf *line, cw_err *err)
{
    if (!json_is_object(record))
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "alert_sign: the record is not a JSON object");
    if (sodium_init() < 0)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "alert_sign: libsodium failed to initialise");
    json_object_del(record, "sig");
    cw_buf body = CW_BUF_INIT;
    cw_code rc = alert_canonical(record, &body, err);
    if (rc) {
        cw_buf_free(&body);
        return cw_err_prefix(err, rc, "alert_sign");
    }
    uint8_t sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, NULL, body.p, body.n, sk);
    cw_buf_free(&body);
    char hex[2 * crypto_sign_BYTES + 1];
    cw_hex_encode(sig, sizeof sig, hex);
    if (json_object_set_new(record, "sig", json_string(hex)) != 0)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "alert_sign: out of memory setting sig");
    rc = alert_canonical(record, line, err);
    return rc ? cw_err_prefix(err, rc, "alert_sign") : CW_OK;
}

/* Truncation is acceptable: the reason stays one readable line. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static cw_code why(char reason[160], cw_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, 160, fmt, ap);
    va_end(ap);
    return code;
}

/* Reads seq and prev from a parsed record into link; CW_EFORMAT (reason
 * set) when either is present in the wrong form. */
static cw_code read_link(const json_t *rec, alert_link *link, char reason[160])
{
    json_t *seq = json_object_get(rec, "seq"), *prev = json_object_get(rec, "prev");
    if (seq) {
        if (!json_is_integer(seq) || json_integer_value(seq) < 1)
            return why(reason, CW_EFORMAT, "%s", "\"seq\" is not a positive integer");
        link->has_seq = true;
        link->seq = (uint64_t)json_integer_value(seq);
    }
    if (prev) {
        size_t n = 0;
        if (!json_is_string(prev) || json_string_length(prev) != 64 ||
            cw_hex_decode(json_string_value(prev), 64, link->prev, sizeof link->prev, &n, NULL) != CW_OK || n != 32)
            return why(reason, CW_EFORMAT, "%s", "\"prev\" is not 64 hex characters");
    }
    link->chained = seq && prev;
    return CW_OK;
}

cw_code alert_check(const char *line, size_t len, const uint8_t pk[32], alert_link *link, char reason[160])
{
    memset(link, 0, sizeof *link);
    reason[0] = '\0';
    if (sodium_init() < 0)
        return why(reason, CW_EIO, "%s", "libsodium failed to initialise");
    json_error_t jerr;
    /* duplicate keys would let a reader and the verifier see different records */
    json_t *rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (rec == NULL) {
        return why(reason, CW_EFORMAT, "not JSON: %s (column %d)", jerr.text, jerr.column);
    }
    cw_code rc;
    cw_buf full = CW_BUF_INIT, body = CW_BUF_INIT;
    if (!json_is_object(rec)) {
        rc = why(reason, CW_EFORMAT, "%s", "not a JSON object: a record is one {...} per line");
        goto out;
    }
    json_t *sigv = json_object_get(rec, "sig");
    if (sigv == NULL) {
        rc = why(reason, CW_EFORMAT, "%s", "no \"sig\": the record is not signed");
        goto out;
    }
    if (!json_is_string(sigv)) {
        rc = why(reason, CW_EFORMAT, "%s", "\"sig\" is not a string");
        goto out;
    }
    const char *sighex = json_string_value(sigv);
    size_t siglen = json_string_length(sigv);
    uint8_t sig[crypto_sign_BYTES];
    size_t n = 0;
    if (siglen != 2 * crypto_sign_BYTES) {
        rc = why(reason, CW_EFORMAT, "\"sig\" is %zu characters, expected 128 hex characters", siglen);
        goto out;
    }
    if (cw_hex_decode(sighex, siglen, sig, sizeof sig, &n, NULL) != CW_OK || n != sizeof sig) {
        rc = why(reason, CW_EFORMAT, "%s", "\"sig\" is not hex");
        goto out;
    }
    if ((rc = read_link(rec, link, reason)))
        goto out;
    cw_err e = {0};
    /* the successor's prev is over the line as signed: the canonical form with sig */
    if (alert_canonical(rec, &full, &e) != CW_OK) {
        rc = why(reason, e.code == CW_ENOMEM ? CW_ENOMEM : CW_EFORMAT, "%s", e.msg);
        goto out;
    }
    json_object_del(rec, "sig");
    if (alert_canonical(rec, &body, &e) != CW_OK) {
        rc = why(reason, e.code == CW_ENOMEM ? CW_ENOMEM : CW_EFORMAT, "%s", e.msg);
    } else if (crypto_sign_verify_detached(sig, body.p, body.n, pk) != 0) {
        rc = why(reason, CW_ECHECKSUM, "%s",
                 "signature does not match: the record was changed or signed by another key");
    } else {
        alert_line_hash((const char *)full.p, full.n, link->hash);
        rc = CW_OK;
    }
out:
    if (rc != CW_OK && rc != CW_ECHECKSUM)
        link->chained = link->has_seq = false;
    if (rc != CW_OK)
        link->chained = false;
    cw_buf_free(&full);
    cw_buf_free(&body);
    json_decref(rec);
    return rc;
}

cw_code alert_verify(const char *line, size_t len, const uint8_t pk[32], char reason[160])
{
    alert_link link;
    return alert_check(line, len, pk, &link, reason);
}

/* ---- the audit trail ---- */

void alert_trail_start(const uint8_t pk[32], alert_trail *out)
{
    static const char tag[] = "chainwatch-trail-v1";
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof out->hash);
    crypto_generichash_update(&st, (const unsigned char *)tag, sizeof tag - 1);
    crypto_generichash_update(&st, pk, 32);
    crypto_generichash_final(&st, out->hash, sizeof out->hash);
    out->seq = 0;
}

void alert_line_hash(const char *line, size_t len, uint8_t out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)line, len, NULL, 0);
}

cw_code alert_sign_chained(json_t *record, const uint8_t sk[64], alert_trail *head, cw_buf *line, cw_err *err)
{
    if (!json_is_object(record))
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "alert_sign: the record is not a JSON object");
    if (head->seq >= (uint64_t)INT64_MAX)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "alert_sign: the audit trail's seq cannot grow");
    char prev[65];
    cw_hex_encode(head->hash, sizeof head->hash, prev);
    bool ok = true;
    alert_put(record, "seq", json_integer((json_int_t)(head->seq + 1)), &ok);
    alert_put(record, "prev", json_string(prev), &ok);
    if (!ok)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "alert_sign: out of memory setting seq and prev");
    size_t before = line->n;
    cw_code rc = alert_sign(record, sk, line, err);
    if (rc) {
        line->n = before;
        return rc;
    }
    alert_line_hash((const char *)line->p + before, line->n - before, head->hash);
    head->seq++;
    return CW_OK;
}

/* ---- building records ---- */

void alert_put(json_t *obj, const char *key, json_t *val, bool *ok)
{
    /* jansson takes val's reference even when it refuses (NULL obj included) */
    if (json_object_set_new(obj, key, val) != 0)
        *ok = false;
}

void alert_push(json_t *arr, json_t *val, bool *ok)
{
    if (json_array_append_new(arr, val) != 0)
        *ok = false;
}

void alert_now_iso(char out[ALERT_TIME_MAX])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, ALERT_TIME_MAX, "%.20s.%03dZ", base, (int)((ts.tv_nsec / 1000000) % 1000));
}
