/*
 * capture_settings.c: a capture's settings record, read strictly
 * (capture_settings.h). Every field is looked up, typed and range-checked
 * here, once, so the replay never has to guess a default for what the
 * live run had.
 */
#include "capture_settings.h"

#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define SETTINGS_JSON_MAX (1u << 20) /* the object is well under 4 KB; more is damage */

static cw_code bad(cw_err *err, const char *path, uint64_t rec_off, uint64_t at, const char *what)
{
    return cw_err_set(err, CW_EFORMAT, (size_t)at, "%s: byte %llu (the settings record at byte %llu): %s", path,
                      (unsigned long long)at, (unsigned long long)rec_off, what);
}

/* An integer field in [lo, hi]; *why names it when it is not. */
static bool get_int(const json_t *o, const char *key, int64_t lo, int64_t hi, int64_t *out, char *why, size_t cap)
{
    const json_t *v = json_object_get(o, key);
    if (v == NULL) {
        snprintf(why, cap, "no '%s' (%" PRId64 "..%" PRId64 ")", key, lo, hi);
        return false;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        snprintf(why, cap, "'%s' is not an integer in %" PRId64 "..%" PRId64, key, lo, hi);
        return false;
    }
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* "" or exactly `digits` lowercase hex digits after `prefix`. */
static bool get_hex(const json_t *o, const char *key, const char *prefix, size_t digits, char *out, size_t cap,
                    char *why, size_t wcap)
{
    const json_t *v = json_object_get(o, key);
    size_t pl = strlen(prefix);
    const char *s = json_string_value(v);
    bool ok = s != NULL && json_string_length(v) == strlen(s);
    if (ok && s[0] != '\0') {
        ok = strlen(s) == pl + digits && strncmp(s, prefix, pl) == 0;
        for (size_t i = pl; ok && i < pl + digits; i++)
            ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
    }
    if (!ok || strlen(s) >= cap) {
        snprintf(why, wcap, "'%s' is not \"\" or a string of %s%zu lowercase hex digits", key, pl ? "0x and " : "",
                 digits);
        return false;
    }
    memcpy(out, s, strlen(s) + 1);
    return true;
}

cw_code capture_settings_parse(const uint8_t *json, size_t len, const char *path, uint64_t rec_off,
                               uint64_t json_off, bool want_chain_id, capture_settings *out, cw_err *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    if ((json == NULL && len) || path == NULL || out == NULL)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "capture_settings_parse: NULL argument");
    if (len > SETTINGS_JSON_MAX)
        return bad(err, path, rec_off, json_off, "the settings are over 1 MB (a damaged record)");
    json_error_t je;
    json_t *o = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        char why[256];
        uint64_t at = json_off + (je.position > 0 && (size_t)je.position <= len ? (uint64_t)je.position : 0);
        snprintf(why, sizeof why, "the settings are not JSON: %s", je.text);
        return bad(err, path, rec_off, at, why);
    }
    char why[160];
    int64_t v = 0;
    bool ok = json_is_object(o);
    if (!ok)
        snprintf(why, sizeof why, "the settings are not a JSON object");
    ok = ok && get_int(o, "confirmations", 1, INT32_MAX, &out->confirmations, why, sizeof why);
    if (ok) {
        const json_t *f = json_object_get(o, "finalized");
        if (!(ok = json_is_boolean(f)))
            snprintf(why, sizeof why, "'finalized' is not true or false");
        else
            out->finalized = json_is_true(f);
    }
    ok = ok && get_int(o, "start", -1, INT32_MAX, &out->start, why, sizeof why);
    ok = ok && get_int(o, "tip", -1, (int64_t)1 << 62, &out->tip, why, sizeof why);
    ok = ok && get_hex(o, "tip_hash", "0x", 64, out->tip_hash, sizeof out->tip_hash, why, sizeof why);
    if (ok && (out->tip < 0) != (out->tip_hash[0] == '\0')) {
        ok = false;
        snprintf(why, sizeof why, "'tip' %lld and 'tip_hash' \"%s\" disagree (a tip has a hash, none has none)",
                 (long long)out->tip, out->tip_hash);
    }
    ok = ok && get_int(o, "max_reorg", 0, INT32_MAX, &out->max_reorg, why, sizeof why);
    if ((ok = ok && get_int(o, "hops", 0, 8, &v, why, sizeof why)))
        out->hops = (unsigned)v;
    if ((ok = ok && get_int(o, "min_share_ppm", 0, 1000000, &v, why, sizeof why)))
        out->min_share_ppm = (uint32_t)v;
    if ((ok = ok && get_int(o, "hold_share_ppm", 0, 1000000, &v, why, sizeof why)))
        out->hold_share_ppm = (uint32_t)v;
    if (ok && !json_is_object(json_object_get(o, "rules"))) {
        ok = false;
        snprintf(why, sizeof why, "'rules' is not a JSON object (the pattern rules' configuration)");
    }
    ok = ok && get_hex(o, "labels_blake2b", "", 64, out->labels_blake2b, sizeof out->labels_blake2b, why, sizeof why);
    if (ok && (json_object_get(o, "chain_id") || want_chain_id)) {
        if ((ok = get_int(o, "chain_id", 0, (int64_t)1 << 53, &v, why, sizeof why))) {
            out->chain_id = (uint64_t)v;
            out->has_chain_id = true;
        }
    }
    if (!ok) {
        json_decref(o);
        memset(out, 0, sizeof *out);
        return bad(err, path, rec_off, json_off, why);
    }
    out->rules = json_incref(json_object_get(o, "rules"));
    json_decref(o);
    return CW_OK;
}

void capture_settings_free(capture_settings *s)
{
    if (s == NULL)
        return;
    json_decref(s->rules);
    s->rules = NULL;
}

static void text_of(const json_t *v, char *out, size_t cap)
{
    if (cap == 0)
        return;
    if (v == NULL) {
        snprintf(out, cap, "(absent)");
        return;
    }
    char *t = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    snprintf(out, cap, "%s", t ? t : "(out of memory)");
    free(t);
}

bool capture_settings_diff(const json_t *recorded, const json_t *given, const char *prefix, char *what, size_t cap,
                           char *rec_text, char *given_text, size_t vcap)
{
    if (json_equal((json_t *)recorded, (json_t *)given))
        return false;
    if (json_is_object(recorded) && json_is_object(given)) {
        /* keys in sorted order, from both sides, so the first named is stable */
        const char *best = NULL;
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)recorded, key, val)
            if (!json_equal(val, json_object_get(given, key)) && (best == NULL || strcmp(key, best) < 0))
                best = key;
        json_object_foreach((json_t *)given, key, val)
            if (json_object_get(recorded, key) == NULL && (best == NULL || strcmp(key, best) < 0))
                best = key;
        if (best) {
            char sub[256];
            snprintf(sub, sizeof sub, "%s.%s", prefix, best);
            return capture_settings_diff(json_object_get(recorded, best), json_object_get(given, best), sub, what, cap,
                                         rec_text, given_text, vcap);
        }
    }
    snprintf(what, cap, "%s", prefix);
    text_of(recorded, rec_text, vcap);
    text_of(given, given_text, vcap);
    return true;
}
