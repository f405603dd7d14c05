/*
 * cases.c: the hold queue, its signed audit trails, webhook events and
 * blocking report drafts (cases.h).
 */
#include "cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chains/hex.h"
#include "monitor/records/alert.h"
#include "monitor/records/amount.h"
#include "watchlists/casedb.h"
#include "watchlists/hookdb.h"

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static bool is(const char *a, const char *b) { return a && strcmp(a, b) == 0; }

bool cases_action_parse(const char *s, case_action *a)
{
    static const char *const names[] = {"release", "block", "note"};
    for (int i = 0; i < 3; i++)
        if (is(s, names[i])) {
            *a = (case_action)i;
            return true;
        }
    return false;
}

const char *cases_action_name(case_action a)
{
    return a == CASE_RELEASE ? "release" : a == CASE_BLOCK ? "block" : a == CASE_NOTE ? "note" : "?";
}

static cw_code nomem(cw_err *err, const char *what)
{
    return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory building %s (nothing written)", what);
}

/* Parses a stored case record; CW_EDAMAGED when it is not a JSON object. */
static cw_code load_case(store_txn *t, const char *id, json_t **out, cw_err *err)
{
    cw_span v;
    cw_code rc = casedb_get(t, id, &v, err);
    if (rc)
        return rc == CW_ENOTFOUND ? cw_err_set(err, CW_ENOTFOUND, CW_NO_OFFSET, "no case %s", id) : rc;
    json_t *c = json_loadb((const char *)v.p, v.n, 0, NULL);
    if (!json_is_object(c)) {
        json_decref(c);
        return store_damaged(t, err, "the case record of %s does not decode", id);
    }
    *out = c;
    return CW_OK;
}

static cw_code save_case(store_txn *t, const json_t *c, cw_err *err)
{
    cw_buf b = CW_BUF_INIT;
    cw_code rc = alert_canonical(c, &b, err);
    if (rc == CW_OK)
        rc = casedb_put(t, str(c, "id"), (const char *)b.p, b.n, err);
    cw_buf_free(&b);
    return rc;
}

/* The case record without the hold record: what lists and events show. */
static json_t *summary(const json_t *c)
{
    json_t *s = json_deep_copy(c);
    if (s)
        json_object_del(s, "alert");
    return s;
}

/* Queues a webhook event: {"type","seq","time", k1: v1, k2: v2, k3: v3}
 * (k2, k3 may be NULL; references to the values are taken). */
static cw_code queue_event3(store_txn *t, const char *type, const char *now, const char *k1, json_t *v1, const char *k2,
                            json_t *v2, const char *k3, json_t *v3, cw_err *err)
{
    uint64_t last, seq;
    cw_code rc = hookdb_event_last(t, &last, err);
    if (rc) {
        json_decref(v1);
        json_decref(v2);
        json_decref(v3);
        return rc;
    }
    bool ok = true;
    json_t *e = json_object();
    alert_put(e, "type", json_string(type), &ok);
    alert_put(e, "seq", json_integer((json_int_t)(last + 1)), &ok);
    alert_put(e, "time", json_string(now), &ok);
    alert_put(e, k1, v1, &ok);
    if (k2)
        alert_put(e, k2, v2, &ok);
    if (k3)
        alert_put(e, k3, v3, &ok);
    cw_buf b = CW_BUF_INIT;
    rc = ok ? alert_canonical(e, &b, err) : nomem(err, "a webhook event");
    if (rc == CW_OK)
        rc = hookdb_event_add(t, (const char *)b.p, b.n, &seq, err);
    if (rc == CW_OK && seq != last + 1)
        rc = cw_err_set(err, CW_ESTORE, CW_NO_OFFSET, "webhook event numbered %llu, %llu expected",
                        (unsigned long long)seq, (unsigned long long)(last + 1));
    cw_buf_free(&b);
    json_decref(e);
    return rc;
}

static cw_code queue_event(store_txn *t, const char *type, const char *now, const char *k1, json_t *v1, const char *k2,
                           json_t *v2, cw_err *err)
{
    return queue_event3(t, type, now, k1, v1, k2, v2, NULL, NULL, err);
}

/* Appends an audit entry to case c (in memory and in t) and moves c's
 * head, state and updated_at. */
static cw_code append_entry(store_txn *t, const uint8_t sk[64], json_t *c, const char *action, const char *actor,
                            const char *reason, const char *now, const char *state, json_t **entry_out, cw_err *err)
{
    const char *id = str(c, "id");
    json_int_t n = json_integer_value(json_object_get(c, "entries"));
    const char *head_hex = n == 0 ? str(c, "opened_by") : str(c, "head");
    alert_trail head = {(uint64_t)n, {0}};
    size_t hn = 0;
    if (id == NULL || n < 0 || head_hex == NULL || strlen(head_hex) != 64 ||
        cw_hex_decode(head_hex, 64, head.hash, 32, &hn, NULL) != CW_OK || hn != 32)
        return store_damaged(t, err, "the case record of %s has no valid trail head", id ? id : "?");
    bool ok = true;
    json_t *e = json_object();
    alert_put(e, "type", json_string("case_audit"), &ok);
    alert_put(e, "case", json_string(id), &ok);
    alert_put(e, "action", json_string(action), &ok);
    alert_put(e, "actor", json_string(actor), &ok);
    alert_put(e, "reason", json_string(reason), &ok);
    alert_put(e, "time", json_string(now), &ok);
    alert_put(e, "state", json_string(state), &ok);
    if (!ok) {
        json_decref(e);
        return nomem(err, "an audit entry");
    }
    cw_buf line = CW_BUF_INIT;
    cw_code rc = alert_sign_chained(e, sk, &head, &line, err);
    if (rc == CW_OK)
        rc = casedb_audit_append(t, id, head.seq, (const char *)line.p, line.n, err);
    cw_buf_free(&line);
    if (rc == CW_OK) {
        char hex[65];
        cw_hex_encode(head.hash, 32, hex);
        alert_put(c, "entries", json_integer((json_int_t)head.seq), &ok);
        alert_put(c, "head", json_string(hex), &ok);
        alert_put(c, "state", json_string(state), &ok);
        alert_put(c, "updated_at", json_string(now), &ok);
        if (!ok)
            rc = nomem(err, "a case record");
    }
    if (rc == CW_OK && entry_out)
        *entry_out = json_incref(e);
    json_decref(e);
    return rc;
}

static json_t *copy_or_null(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return v ? json_deep_copy(v) : json_null();
}

/* A confirmation (after a mempool sighting) or a reorg of the payment of
 * an existing case: an audit entry by chainwatch, the state unchanged, so
 * the reviewer sees where the payment stands. */
static cw_code record_update(store_txn *t, const uint8_t sk[64], const char *id, const json_t *rec, cw_err *err)
{
    const char *status = str(rec, "status");
    const json_t *b = json_object_get(rec, "block");
    char reason[300];
    if (is(status, "confirmed"))
        snprintf(reason, sizeof reason, "the payment was confirmed in block %lld %s",
                 (long long)json_integer_value(json_object_get(b, "height")),
                 str(b, "hash") ? str(b, "hash") : "?");
    else if (is(status, "reorged"))
        snprintf(reason, sizeof reason,
                 "block %lld %s, which confirmed the payment, left the best chain (reorg): it may confirm again",
                 (long long)json_integer_value(json_object_get(b, "height")), str(b, "hash") ? str(b, "hash") : "?");
    else
        return CW_OK;
    json_t *c;
    cw_code rc = load_case(t, id, &c, err);
    if (rc)
        return rc;
    char state[16], when[32];
    snprintf(state, sizeof state, "%s", str(c, "state") ? str(c, "state") : "");
    snprintf(when, sizeof when, "%s", str(rec, "seen_at") ? str(rec, "seen_at") : "");
    if (when[0] == '\0')
        alert_now_iso(when);
    rc = append_entry(t, sk, c, status, "chainwatch", reason, when, state, NULL, err);
    if (rc == CW_OK)
        rc = save_case(t, c, err);
    json_decref(c);
    return rc;
}

cw_code cases_on_record(store_txn *t, const uint8_t sk[64], const json_t *rec, const char *line, size_t n,
                        cw_err *err)
{
    const char *decision = str(rec, "decision"), *status = str(rec, "status"), *id = str(rec, "id");
    if (id == NULL || decision == NULL)
        return CW_OK;
    char now[32];
    alert_now_iso(now);
    if (is(decision, "block"))
        return is(status, "reorged") ? CW_OK
                                     : queue_event(t, "alert.blocked", now, "alert", json_deep_copy(rec), NULL, NULL, err);
    if (!is(decision, "hold"))
        return CW_OK;
    cw_span old;
    cw_code rc = casedb_get(t, id, &old, err);
    if (rc == CW_OK)
        return record_update(t, sk, id, rec, err); /* a later sighting of the case's payment */
    if (rc != CW_ENOTFOUND || is(status, "reorged"))
        return rc == CW_ENOTFOUND ? CW_OK : rc;
    uint8_t h[32];
    char hex[65];
    alert_line_hash(line, n, h);
    cw_hex_encode(h, 32, hex);
    const char *seen = str(rec, "seen_at");
    bool ok = true;
    json_t *c = json_object();
    alert_put(c, "id", json_string(id), &ok);
    alert_put(c, "state", json_string("open"), &ok);
    alert_put(c, "opened_at", json_string(seen ? seen : now), &ok);
    alert_put(c, "updated_at", json_string(seen ? seen : now), &ok);
    alert_put(c, "entries", json_integer(0), &ok);
    alert_put(c, "opened_by", json_string(hex), &ok);
    alert_put(c, "head", json_string(hex), &ok);
    /* amount_known: the queue shows "an unknown amount" as the case page does (amount.h) */
    static const char *const copied[] = {"rule", "address", "txid", "amount", "asset", "chain", "network", "entity",
                                         "direction", "amount_known"};
    for (size_t i = 0; i < sizeof copied / sizeof *copied; i++)
        alert_put(c, copied[i], copy_or_null(rec, copied[i]), &ok);
    alert_put(c, "alert", json_deep_copy(rec), &ok);
    if (!ok) {
        json_decref(c);
        return nomem(err, "a case record");
    }
    char reason[512];
    snprintf(reason, sizeof reason, "decision hold: rule %s, %s %s in tx %s", str(rec, "rule") ? str(rec, "rule") : "?",
             str(rec, "direction") ? str(rec, "direction") : "address", str(rec, "address") ? str(rec, "address") : "?",
             str(rec, "txid") ? str(rec, "txid") : "?");
    rc = append_entry(t, sk, c, "open", "chainwatch", reason, seen ? seen : now, "open", NULL, err);
    if (rc == CW_OK)
        rc = save_case(t, c, err);
    if (rc == CW_OK)
        rc = queue_event(t, "case.opened", now, "case", summary(c), "alert", json_deep_copy(rec), err);
    json_decref(c);
    return rc;
}

/* UTF-8 (jansson checks it when the string is made) without control
 * characters for an actor; reasons may hold newlines. */
static bool clean_text(const char *s, size_t max, bool multiline)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && !(multiline && (ch == '\n' || ch == '\t'))) || ch == 0x7f)
            return false;
    }
    return true;
}

static bool valid_utf8(const char *s)
{
    json_t *j = json_string(s);
    bool ok = j != NULL;
    json_decref(j);
    return ok;
}

static cw_code trail_check_before_step(store_txn *t, const uint8_t sk[64], const char *id, const json_t *c,
                                       cw_err *err);

cw_code cases_act(store_txn *t, const uint8_t sk[64], const char *id, case_action a, const char *actor,
                  const char *reason, bool *conflict, json_t **entry_out, cw_err *err)
{
    *conflict = false;
    if (entry_out)
        *entry_out = NULL;
    if (!casedb_id_valid(id))
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "'%.40s' is not a case id (the alert id: 32 lowercase hex chars)",
                          id ? id : "");
    if (!actor || !valid_utf8(actor) || !clean_text(actor, CASES_ACTOR_MAX, false))
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "the actor must be 1 to %d bytes of UTF-8 without control characters", CASES_ACTOR_MAX);
    if (!reason || !valid_utf8(reason) || !clean_text(reason, CASES_REASON_MAX, true))
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "a reason is required: 1 to %d bytes of UTF-8 (no control characters but newline and tab)",
                          CASES_REASON_MAX);
    json_t *c = NULL;
    cw_code rc = load_case(t, id, &c, err);
    if (rc == CW_OK)
        rc = trail_check_before_step(t, sk, id, c, err);
    if (rc) {
        json_decref(c);
        return rc;
    }
    const char *state = str(c, "state");
    const char *next = state;
    if (a != CASE_NOTE) {
        if (!is(state, "open")) {
            *conflict = true;
            rc = cw_err_set(err, CW_EARG, CW_NO_OFFSET, "case %s is %s: only an open case can be %s", id,
                            state ? state : "in no known state", a == CASE_RELEASE ? "released" : "blocked");
            json_decref(c);
            return rc;
        }
        next = a == CASE_RELEASE ? "released" : "blocked";
    }
    if (next == NULL) {
        json_decref(c);
        return store_damaged(t, err, "the case record of %s has no state", id);
    }
    char now[32];
    alert_now_iso(now);
    char next_s[16];
    snprintf(next_s, sizeof next_s, "%s", next);
    json_t *entry = NULL;
    rc = append_entry(t, sk, c, cases_action_name(a), actor, reason, now, next_s, &entry, err);
    if (rc == CW_OK)
        rc = save_case(t, c, err);
    if (rc == CW_OK && a == CASE_RELEASE)
        rc = queue_event(t, "case.released", now, "case", summary(c), "entry", json_incref(entry), err);
    if (rc == CW_OK && a == CASE_BLOCK) {
        /* the blocking report draft goes out with the decision: drawn in t,
         * which holds the block entry just appended */
        json_t *report = NULL;
        bool not_blocked = false;
        rc = cases_report(t, NULL, id, &not_blocked, &report, err); /* the trail was checked above */
        if (rc == CW_OK)
            rc = queue_event3(t, "case.blocked", now, "case", summary(c), "entry", json_incref(entry), "report", report,
                              err);
    }
    if (rc == CW_OK && entry_out)
        *entry_out = json_incref(entry);
    json_decref(entry);
    json_decref(c);
    return rc;
}

/* ---- reading ---- */

typedef struct {
    json_t *entries;
    const uint8_t *pk;
    uint8_t prev[32];
    uint64_t expect;
    char error[200];
    bool nomem;
    char state[16]; /* the state after the entries so far ("" before the first) */
} trail_walk;

/* Whether an entry's state follows from the state before it by its action
 * (cases.h's state machine): the trail itself says where the case stands,
 * so a state written behind the module's back cannot be carried forward
 * by a later entry that copies it. */
static bool transition_ok(const char *before, const char *action, const char *after)
{
    if (!action || !after)
        return false;
    if (before[0] == '\0')
        return is(action, "open") && is(after, "open");
    if (is(action, "release"))
        return is(before, "open") && is(after, "released");
    if (is(action, "block"))
        return is(before, "open") && is(after, "blocked");
    if (is(action, "note") || is(action, "confirmed") || is(action, "reorged"))
        return is(before, after);
    return false;
}

static bool check_entry(void *ctx, uint64_t seq, cw_span line)
{
    trail_walk *w = ctx;
    json_t *e = json_loadb((const char *)line.p, line.n, 0, NULL);
    if (e == NULL) {
        if (w->error[0] == '\0')
            snprintf(w->error, sizeof w->error, "entry %llu is not JSON", (unsigned long long)seq);
        return true;
    }
    if (json_array_append_new(w->entries, e) != 0) { /* e is freed */
        w->nomem = true;
        return false;
    }
    if (w->error[0])
        return true; /* keep listing what is there; the first problem is what is said */
    alert_link link;
    char reason[160];
    w->expect++;
    if (alert_check((const char *)line.p, line.n, w->pk, &link, reason) != CW_OK)
        snprintf(w->error, sizeof w->error, "entry %llu: %s", (unsigned long long)seq, reason);
    else if (seq != w->expect || !link.chained || link.seq != seq)
        snprintf(w->error, sizeof w->error, "entry %llu is out of order (entry %llu expected)", (unsigned long long)seq,
                 (unsigned long long)w->expect);
    else if (memcmp(link.prev, w->prev, 32) != 0)
        snprintf(w->error, sizeof w->error, "entry %llu does not follow the entry before it (prev differs)",
                 (unsigned long long)seq);
    else if (!transition_ok(w->state, str(e, "action"), str(e, "state")))
        snprintf(w->error, sizeof w->error, "entry %llu: %.12s to state %.12s does not follow from %.12s",
                 (unsigned long long)seq, str(e, "action") ? str(e, "action") : "?",
                 str(e, "state") ? str(e, "state") : "?", w->state[0] ? w->state : "no entry");
    else {
        memcpy(w->prev, link.hash, 32);
        snprintf(w->state, sizeof w->state, "%s", str(e, "state"));
    }
    return true;
}

static bool hex32(const char *s, uint8_t out[32])
{
    size_t n = 0;
    return s && strlen(s) == 64 && cw_hex_decode(s, 64, out, 32, &n, NULL) == CW_OK && n == 32;
}

/* Checks the trail of case c (loaded from id) against pk: every entry's
 * signature, the chain from the hold record to the case's head, and the
 * case's state against the state its last entry records (the case record
 * is not signed: a state changed behind the trail's back must show).
 * w->entries receives the entries, w->error the first problem (empty when
 * none). Store errors and CW_ENOMEM are returned. */
static cw_code trail_verify(store_txn *t, const uint8_t pk[32], const char *id, const json_t *c, trail_walk *w,
                            cw_err *err)
{
    w->pk = pk;
    uint8_t head[32], opened[32];
    if (!hex32(str(c, "opened_by"), opened) || !hex32(str(c, "head"), head))
        snprintf(w->error, sizeof w->error, "the case record has no valid trail head");
    else {
        /* the hold record the trail starts from must be the one stored */
        cw_buf b = CW_BUF_INIT;
        uint8_t h[32];
        json_t *al = json_object_get(c, "alert");
        if (al == NULL || alert_canonical(al, &b, NULL) != CW_OK)
            snprintf(w->error, sizeof w->error, "the case's hold record is missing or not canonical");
        else {
            alert_line_hash((const char *)b.p, b.n, h);
            char reason[160];
            if (memcmp(h, opened, 32) != 0)
                snprintf(w->error, sizeof w->error, "the case's hold record is not the one that opened it");
            else if (alert_verify((const char *)b.p, b.n, pk, reason) != CW_OK)
                snprintf(w->error, sizeof w->error, "the hold record: %s", reason);
        }
        cw_buf_free(&b);
        memcpy(w->prev, opened, 32);
    }
    if (w->entries == NULL)
        return nomem(err, "a case");
    cw_code rc = casedb_audit_each(t, id, check_entry, w, err);
    if (rc == CW_OK && w->nomem)
        rc = nomem(err, "a case's audit trail");
    if (rc == CW_OK && w->error[0] == '\0') {
        json_int_t n = json_integer_value(json_object_get(c, "entries"));
        const json_t *last = json_array_get(w->entries, json_array_size(w->entries) - 1);
        if ((json_int_t)w->expect != n)
            snprintf(w->error, sizeof w->error, "the trail holds %llu entries, the case says %lld",
                     (unsigned long long)w->expect, (long long)n);
        else if (memcmp(w->prev, head, 32) != 0)
            snprintf(w->error, sizeof w->error, "the last entry is not the case's head");
        else if (!is(str(last, "state"), str(c, "state")))
            snprintf(w->error, sizeof w->error, "the case says it is %.20s, its last audit entry says %.20s",
                     str(c, "state") ? str(c, "state") : "(no state)", str(last, "state") ? str(last, "state") : "?");
    }
    return rc;
}

/* A decision is taken on a trail that checks, or not at all: a case whose
 * state or trail was changed behind the module's back is damaged (fail
 * closed), not released or blocked on the strength of an unsigned field.
 * The public key is the second half of a libsodium secret key. */
static cw_code trail_check_before_step(store_txn *t, const uint8_t sk[64], const char *id, const json_t *c,
                                       cw_err *err)
{
    trail_walk w = {.entries = json_array()};
    cw_code rc = trail_verify(t, sk + 32, id, c, &w, err);
    json_decref(w.entries);
    if (rc == CW_OK && w.error[0])
        rc = store_damaged(t, err, "the audit trail of case %s does not check (%s): no step is taken on it", id,
                           w.error);
    return rc;
}

cw_code cases_show(store_txn *t, const uint8_t pk[32], const char *id, json_t **out, cw_err *err)
{
    json_t *c = NULL;
    cw_code rc = load_case(t, id, &c, err);
    if (rc)
        return rc;
    trail_walk w = {.entries = json_array()};
    rc = trail_verify(t, pk, id, c, &w, err);
    if (rc) {
        json_decref(w.entries);
        json_decref(c);
        return rc;
    }
    bool ok = true;
    json_t *tr = json_object();
    alert_put(tr, "ok", json_boolean(w.error[0] == '\0'), &ok);
    alert_put(tr, "error", w.error[0] ? json_string(w.error) : json_null(), &ok);
    alert_put(c, "audit", w.entries, &ok);
    alert_put(c, "trail", tr, &ok);
    if (!ok) {
        json_decref(c);
        return nomem(err, "a case");
    }
    *out = c;
    return CW_OK;
}

typedef struct {
    const char *state;
    size_t limit;
    json_t *list;
    char last[33];
    bool more, nomem, damaged;
    cases_counts *counts;
} list_walk;

static bool list_one(void *ctx, const char *id, cw_span rec)
{
    list_walk *w = ctx;
    json_t *c = json_loadb((const char *)rec.p, rec.n, 0, NULL);
    if (!json_is_object(c)) {
        json_decref(c);
        w->damaged = true;
        snprintf(w->last, sizeof w->last, "%s", id);
        return false;
    }
    const char *st = str(c, "state");
    if (w->counts) {
        w->counts->open += is(st, "open");
        w->counts->released += is(st, "released");
        w->counts->blocked += is(st, "blocked");
        json_decref(c);
        return true;
    }
    if (w->state && !is(st, w->state)) {
        json_decref(c);
        return true;
    }
    if (json_array_size(w->list) == w->limit) {
        w->more = true;
        json_decref(c);
        return false;
    }
    json_object_del(c, "alert");
    if (json_array_append_new(w->list, c) != 0) {
        w->nomem = true;
        return false;
    }
    snprintf(w->last, sizeof w->last, "%s", id);
    return true;
}

cw_code cases_list(store_txn *t, const char *state, const char *after, size_t limit, json_t **out, cw_err *err)
{
    if (state && !is(state, "open") && !is(state, "released") && !is(state, "blocked"))
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "status must be open, released or blocked");
    if (limit < 1 || limit > CASES_PAGE_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "limit must be 1 to %d", CASES_PAGE_MAX);
    if (after && after[0] && !casedb_id_valid(after))
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "cursor: the next_cursor of the previous page (a case id, 32 lowercase hex chars)");
    list_walk w = {.state = state, .limit = limit, .list = json_array()};
    if (w.list == NULL)
        return nomem(err, "a list of cases");
    cw_code rc = casedb_each(t, after, list_one, &w, err);
    if (rc == CW_OK && w.nomem)
        rc = nomem(err, "a list of cases");
    if (rc == CW_OK && w.damaged)
        rc = store_damaged(t, err, "the case record of %s does not decode", w.last);
    bool ok = true;
    json_t *o = NULL;
    if (rc == CW_OK) {
        o = json_object();
        alert_put(o, "cases", json_incref(w.list), &ok);
        alert_put(o, "next_cursor", w.more ? json_string(w.last) : json_null(), &ok);
        if (!ok)
            rc = nomem(err, "a list of cases");
    }
    json_decref(w.list);
    if (rc) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return CW_OK;
}

cw_code cases_count(store_txn *t, cases_counts *out, cw_err *err)
{
    memset(out, 0, sizeof *out);
    list_walk w = {.counts = out};
    cw_code rc = casedb_each(t, NULL, list_one, &w, err);
    if (rc == CW_OK && w.damaged)
        rc = store_damaged(t, err, "the case record of %s does not decode", w.last);
    return rc;
}

/* ---- the blocking report draft ---- */

/* The amount of a record in whole units (amount.h), or null when it is
 * not known (or the token's decimals are not): a report must not invent
 * a number. */
static json_t *unit_amount(const json_t *al)
{
    char u[AMOUNT_TEXT_MAX];
    return amount_of_record(al, u, sizeof u) ? json_string(u) : json_null();
}

cw_code cases_report(store_txn *t, const uint8_t pk[32], const char *id, bool *conflict, json_t **out, cw_err *err)
{
    *conflict = false;
    json_t *c;
    cw_code rc = load_case(t, id, &c, err);
    if (rc)
        return rc;
    if (!is(str(c, "state"), "blocked")) {
        *conflict = true;
        rc = cw_err_set(err, CW_EARG, CW_NO_OFFSET, "case %s is %s: a blocking report is drawn for blocked cases only",
                        id, str(c, "state") ? str(c, "state") : "in no known state");
        json_decref(c);
        return rc;
    }
    /* the block entry: its actor, reason and time are the blocking's; a
     * draft for OFAC is drawn from a trail that checks, or not at all */
    trail_walk w = {.entries = json_array()};
    uint8_t dummy[32] = {0};
    if (pk) {
        rc = trail_verify(t, pk, id, c, &w, err);
        if (rc == CW_OK && w.error[0])
            rc = store_damaged(t, err, "the audit trail of case %s does not check (%s): no report is drawn from it",
                               id, w.error);
    } else {
        w.pk = dummy;
        rc = w.entries ? casedb_audit_each(t, id, check_entry, &w, err) : nomem(err, "a report");
    }
    json_t *blk = NULL;
    for (size_t i = 0; rc == CW_OK && i < json_array_size(w.entries); i++)
        if (is(str(json_array_get(w.entries, i), "action"), "block"))
            blk = json_array_get(w.entries, i);
    if (rc == CW_OK && blk == NULL)
        rc = store_damaged(t, err, "case %s is blocked but its trail has no block entry", id);
    if (rc) {
        json_decref(w.entries);
        json_decref(c);
        return rc;
    }
    const json_t *al = json_object_get(c, "alert");
    const char *when = str(blk, "time");
    char day[11] = "";
    if (when && strlen(when) >= 10)
        memcpy(day, when, 10);
    bool ok = true;
    json_t *r = json_object();
    alert_put(r, "type", json_string("blocked_property_report_draft"), &ok);
    alert_put(r, "regulation", json_string("31 CFR 501.603(b)(1): initial report of blocked property"), &ok);
    alert_put(r, "due", json_string("within 10 business days from the date the property became blocked"), &ok);
    alert_put(r, "draft", json_true(), &ok);
    /* (A) the holder and a contact: chainwatch does not know them */
    json_t *holder = json_object();
    static const char *const hk[] = {"name", "address", "contact_name", "contact_phone", "contact_email"};
    for (size_t i = 0; i < 5; i++)
        alert_put(holder, hk[i], json_null(), &ok);
    alert_put(r, "holder", holder, &ok);
    /* (B) the transaction associated with the blocking */
    json_t *tx = json_object();
    alert_put(tx, "chain", copy_or_null(al, "chain"), &ok);
    alert_put(tx, "network", copy_or_null(al, "network"), &ok);
    alert_put(tx, "txid", copy_or_null(al, "txid"), &ok);
    alert_put(tx, "block", copy_or_null(al, "block"), &ok);
    alert_put(tx, "status", copy_or_null(al, "status"), &ok);
    alert_put(tx, "direction", copy_or_null(al, "direction"), &ok);
    alert_put(tx, "address", copy_or_null(al, "address"), &ok);
    alert_put(tx, "evidence", copy_or_null(al, "evidence"), &ok);
    alert_put(tx, "seen_at", copy_or_null(al, "seen_at"), &ok);
    alert_put(r, "transaction", tx, &ok);
    /* (C) the sanctions target and program. The designated address is the
     * case's own only under designated_address; indirect exposure names
     * the source the money came from, a cluster hit the designated member
     * (the case's address is the customer's, not the target's). */
    const char *designated = is(str(al, "rule"), "designated_address") ? str(al, "address")
                             : is(str(al, "rule"), "indirect_exposure") ? str(al, "source_address")
                             : is(str(al, "rule"), "cluster_hit")       ? str(al, "designated_member")
                                                                         : NULL;
    json_t *ent = json_object_get(al, "entity");
    json_t *party = json_object();
    alert_put(party, "name", copy_or_null(ent, "name"), &ok);
    alert_put(party, "uid", copy_or_null(ent, "uid"), &ok);
    alert_put(party, "list", copy_or_null(ent, "list"), &ok);
    alert_put(party, "source", copy_or_null(ent, "source"), &ok);
    alert_put(party, "programs", ent && json_object_get(ent, "programs") ? json_deep_copy(json_object_get(ent, "programs"))
                                                                         : json_array(),
              &ok);
    alert_put(party, "designated", copy_or_null(ent, "designated"), &ok);
    alert_put(party, "address", designated ? json_string(designated) : json_null(), &ok);
    alert_put(r, "designated_party", party, &ok);
    /* (D) the property and (E) its value */
    json_t *prop = json_object();
    char desc[400];
    {
        json_t *amt = unit_amount(al);
        char tb[64];
        const char *a = amt && json_string_value(amt) ? json_string_value(amt) : "an unknown amount of";
        const char *asset_name = amount_asset_name(json_object_get(al, "asset"), tb, sizeof tb);
        const char *txid = str(al, "txid") ? str(al, "txid") : "?", *addr = str(al, "address") ? str(al, "address") : "?";
        if (is(str(al, "rule"), "designated_address"))
            snprintf(desc, sizeof desc, "virtual currency: %s %s %s designated address %s in transaction %s", a,
                     asset_name, is(str(al, "direction"), "from_designated") ? "from" : "to", addr, txid);
        else /* the case's address is exposed to, or clustered with, the designated one */
            snprintf(desc, sizeof desc,
                     "virtual currency: %s %s paid to %s in transaction %s (rule %s: linked to designated address %s)",
                     a, asset_name, addr, txid, str(al, "rule") ? str(al, "rule") : "?",
                     designated ? designated : "unknown");
        json_decref(amt);
    }
    alert_put(prop, "description", json_string(desc), &ok);
    alert_put(prop, "asset", copy_or_null(al, "asset"), &ok);
    alert_put(prop, "amount_base_units", copy_or_null(al, "amount"), &ok);
    alert_put(prop, "amount", unit_amount(al), &ok);
    alert_put(prop, "amount_known", copy_or_null(al, "amount_known"), &ok);
    {
        char text[AMOUNT_TEXT_MAX];
        amount_text(al, text, sizeof text);
        alert_put(prop, "amount_text", json_string(text), &ok);
    }
    /* the record's own USD value (pattern rules with --prices), else for the officer to fill */
    const json_t *cents = json_object_get(al, "amount_usd_cents");
    if (json_is_integer(cents) && json_integer_value(cents) >= 0) {
        char usd[32];
        snprintf(usd, sizeof usd, "%lld.%02lld", (long long)json_integer_value(cents) / 100,
                 (long long)json_integer_value(cents) % 100);
        alert_put(prop, "value_usd", json_string(usd), &ok);
    } else {
        alert_put(prop, "value_usd", json_null(), &ok);
    }
    alert_put(prop, "value_note",
              json_string(json_is_integer(cents) && json_integer_value(cents) >= 0
                              ? "estimated from the price at the payment's date (--prices): check it against the "
                                "blocking date's rate"
                              : "the actual or, if unknown, estimated value in US dollars: fill in at the blocking "
                                "date's rate"),
              &ok);
    alert_put(r, "property", prop, &ok);
    /* (F) the date the property was blocked */
    alert_put(r, "date_blocked", json_string(day), &ok);
    alert_put(r, "blocked_at", copy_or_null(blk, "time"), &ok);
    json_t *cs = json_object();
    alert_put(cs, "id", json_string(id), &ok);
    alert_put(cs, "alert_id", copy_or_null(al, "id"), &ok);
    alert_put(cs, "rule", copy_or_null(al, "rule"), &ok);
    alert_put(cs, "opened_at", copy_or_null(c, "opened_at"), &ok);
    alert_put(cs, "blocked_by", copy_or_null(blk, "actor"), &ok);
    alert_put(cs, "reason", copy_or_null(blk, "reason"), &ok);
    alert_put(cs, "audit_head", copy_or_null(c, "head"), &ok);
    alert_put(r, "case", cs, &ok);
    json_decref(w.entries);
    json_decref(c);
    if (!ok) {
        json_decref(r);
        return nomem(err, "a blocking report");
    }
    *out = r;
    return CW_OK;
}

cw_code cases_html_escape(cw_buf *out, const char *s, cw_err *err)
{
    cw_code rc = CW_OK;
    for (const char *p = s; rc == CW_OK && p && *p; p++) {
        const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '"' ? "&quot;"
                        : *p == '\'' ? "&#39;" : NULL;
        rc = rep ? cw_buf_append(out, rep, strlen(rep), err) : cw_buf_append(out, p, 1, err);
    }
    return rc;
}

static cw_code put(cw_buf *o, const char *s, cw_err *err) { return cw_buf_append(o, s, strlen(s), err); }

/* A value as text: strings as they are, null as "(to be filled)", others
 * as compact JSON. */
static cw_code put_value(cw_buf *o, const json_t *v, cw_err *err)
{
    if (v == NULL || json_is_null(v))
        return put(o, "<em class=\"fill\">(to be filled)</em>", err);
    if (json_is_string(v))
        return cases_html_escape(o, json_string_value(v), err);
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL)
        return nomem(err, "a report page");
    cw_code rc = cases_html_escape(o, s, err);
    free(s);
    return rc;
}

static cw_code section(cw_buf *o, const char *title, const json_t *obj, cw_err *err)
{
    cw_code rc = put(o, "<h2>", err);
    if (rc == CW_OK)
        rc = cases_html_escape(o, title, err);
    if (rc == CW_OK)
        rc = put(o, "</h2>\n<table>\n", err);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (rc == CW_OK)
            rc = put(o, "<tr><th>", err);
        if (rc == CW_OK)
            rc = cases_html_escape(o, k, err);
        if (rc == CW_OK)
            rc = put(o, "</th><td>", err);
        if (rc == CW_OK)
            rc = put_value(o, v, err);
        if (rc == CW_OK)
            rc = put(o, "</td></tr>\n", err);
    }
    return rc == CW_OK ? put(o, "</table>\n", err) : rc;
}

cw_code cases_report_html(const json_t *r, cw_buf *out, cw_err *err)
{
    cw_code rc = put(out,
                     "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                     "<title>Blocked property report (draft)</title>\n<style>\n"
                     "body{font:14px/1.4 sans-serif;max-width:52em;margin:2em auto;color:#111}\n"
                     "table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:4px 8px;"
                     "text-align:left;vertical-align:top}th{width:14em;background:#eee}\n"
                     "td{word-break:break-all}.fill{color:#a00}.note{font-size:12px;color:#444}\n"
                     "@media print{body{margin:0}}\n</style></head><body>\n"
                     "<h1>Report of blocked property: DRAFT</h1>\n<p class=\"note\">",
                     err);
    if (rc == CW_OK)
        rc = put_value(out, json_object_get(r, "regulation"), err);
    if (rc == CW_OK)
        rc = put(out, ". Due ", err);
    if (rc == CW_OK)
        rc = put_value(out, json_object_get(r, "due"), err);
    if (rc == CW_OK)
        rc = put(out, ". Drafted by chainwatch from the case's signed records; review every field before filing.</p>\n",
                 err);
    static const struct {
        const char *key, *title;
    } parts[] = {{"holder", "Holder and contact"},
                 {"designated_party", "Sanctions target (designated party) and program"},
                 {"property", "Blocked property and its value"},
                 {"transaction", "Transaction associated with the blocking"},
                 {"case", "Case"}};
    for (size_t i = 0; rc == CW_OK && i < sizeof parts / sizeof *parts; i++)
        rc = section(out, parts[i].title, json_object_get(r, parts[i].key), err);
    if (rc == CW_OK)
        rc = put(out, "<h2>Date blocked</h2>\n<p id=\"date-blocked\">", err);
    if (rc == CW_OK)
        rc = put_value(out, json_object_get(r, "date_blocked"), err);
    if (rc == CW_OK)
        rc = put(out, "</p>\n</body></html>\n", err);
    return rc;
}
