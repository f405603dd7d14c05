/*
 * cases.h: the hold queue. Every record whose decision is `hold` opens a
 * case, keyed by the alert id, in the write transaction that commits the
 * record (records.c calls cases_on_record), so a hold is never lost: if
 * the record is in the store, so is its case. A reviewer then releases or
 * blocks it (or adds notes); each step is an audit entry.
 *
 * Design note (the audit trail of a case). Entries are numbered 1, 2, ...
 * per case and signed with the datadir's Ed25519 key like records
 * (alert_sign_chained: `seq`, `prev` and `sig`), so they verify with
 * `chainwatch verify` tools and signing.pub. Entry 1 (action "open") has as
 * `prev` the line hash of the signed hold record that opened the case:
 * the trail is chained to the alert itself. casedb.h stores entries append
 * only; the case record keeps the number and hash of the last entry, and
 * cases_show verifies the whole chain every time it is shown, and that
 * each entry's state follows from the one before by its action (the
 * unsigned case record's state must be the last entry's).
 *
 * States: open -> released | blocked. A released or blocked case takes
 * notes only; release of a blocked case, block of a released one, or the
 * same decision twice is refused (a conflict: the API answers 409).
 *
 * Webhook events (hookdb.h) are queued in the same transaction as the
 * change they announce: "case.opened", "case.released", "case.blocked"
 * (with the blocking report draft, cases_report, as "report"), and
 * "alert.blocked" for each new record whose decision is `block` (no case:
 * the payment must not go out). Body: canonical JSON with "type", "seq"
 * (the event number), "time" and "case" or "alert" (and "entry" for a
 * decision).
 *
 * The case record (casedb.h's value): {"id", "state", "opened_at",
 * "updated_at", "entries" (the last entry number), "head" (hex line hash of
 * the last entry), "opened_by" (hex line hash of the hold record), "rule",
 * "address", "txid", "amount", "asset", "chain", "network", "entity", and
 * "alert": the signed hold record as it was}.
 *
 * A later sighting of a case's payment (same id: a mempool hold then
 * confirmed, or its block reorged out) appends an entry by "chainwatch"
 * with action "confirmed" or "reorged" and the state unchanged: the
 * reviewer's decision is about the payment, and sees where it stands.
 *
 * Every function works in the caller's transaction t (store_write's fn:
 * redoable, nothing kept outside t) and never commits it.
 */
#ifndef CW_CASES_H
#define CW_CASES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/buf.h"
#include "chains/err.h"
#include "watchlists/store/store.h"

#define CASES_ACTOR_MAX 128
#define CASES_REASON_MAX 4096
#define CASES_PAGE_MAX 500

typedef enum { CASE_RELEASE = 0, CASE_BLOCK, CASE_NOTE } case_action;

/* "release", "block", "note" -> *a; false for anything else. */
bool cases_action_parse(const char *s, case_action *a);
const char *cases_action_name(case_action a);

/* After a record (rec, and its signed line) was stored in t: opens the
 * case of a new `hold` record whose id has none yet (entry 1, event
 * case.opened), or notes a `confirmed` or `reorged` record of an id that
 * has one (see above); queues alert.blocked for a `block` record (not for
 * a `reorged` re-issue). Anything else: nothing. sk: the datadir's secret key
 * (64 bytes). Store errors as they come; CW_ENOMEM. */
cw_code cases_on_record(store_txn *t, const uint8_t sk[64], const json_t *rec, const char *line, size_t n,
                        cw_err *err);

/* A reviewer's step on case id. actor: 1..CASES_ACTOR_MAX bytes of UTF-8
 * without control characters; reason: 1..CASES_REASON_MAX bytes of UTF-8
 * (else CW_EARG). CW_ENOTFOUND: no case of that id (or id is not an alert
 * id: CW_EARG). A transition that is not allowed: CW_EARG with *conflict
 * set (the message says the case's state). On success the case is updated,
 * the entry appended and (release, block) an event queued; *entry_out,
 * when not NULL, receives the new entry (caller decrefs). CW_EDAMAGED when
 * the case's trail does not check against sk's public half (as cases_show
 * checks it, the case's state included): no step is taken on a case whose
 * state or trail was changed behind this module's back. */
cw_code cases_act(store_txn *t, const uint8_t sk[64], const char *id, case_action a, const char *actor,
                  const char *reason, bool *conflict, json_t **entry_out, cw_err *err);

/* The case with its audit entries: the case record plus "audit": [entries]
 * and "trail": {"ok": bool, "error": text or null} from checking every
 * entry's signature against pk and the chain from the hold record to
 * "head", and the case's state against its last entry's. A trail that
 * does not check is reported, not an error (the
 * reviewer must see it). CW_ENOTFOUND; store errors; CW_ENOMEM. */
cw_code cases_show(store_txn *t, const uint8_t pk[32], const char *id, json_t **out, cw_err *err);

/* A page of cases in id order after `after` (NULL: from the start),
 * state "open", "released", "blocked" or NULL (all; else CW_EARG), at most
 * limit (1..CASES_PAGE_MAX) summaries (the case record without "alert").
 * *out: {"cases": [...], "next_cursor": the id to pass as after for the
 * next page, or null at the end} (the convention of GET /v1/alerts). */
cw_code cases_list(store_txn *t, const char *state, const char *after, size_t limit, json_t **out, cw_err *err);

/* How many cases are in each state (a walk of the cases table). */
typedef struct {
    uint64_t open, released, blocked;
} cases_counts;
cw_code cases_count(store_txn *t, cases_counts *out, cw_err *err);

/* The blocking report draft of a blocked case (CW_EARG with *conflict set
 * when the case is not blocked): what 31 CFR 501.603(b)(1)(ii) asks an
 * initial report of blocked property to hold, filled from the case, the
 * record and the block entry, with fields chainwatch cannot know (the
 * holder's name and address, the US dollar value) present and null for
 * the compliance officer to fill. pk: the trail is checked against it as
 * cases_show checks it, and a trail that does not check is CW_EDAMAGED
 * (no draft for OFAC from a forged entry); NULL only for a caller that
 * checked it in t already (cases_act). */
cw_code cases_report(store_txn *t, const uint8_t pk[32], const char *id, bool *conflict, json_t **out, cw_err *err);
/* The report as one printable HTML page (every value escaped), appended
 * to out. */
cw_code cases_report_html(const json_t *report, cw_buf *out, cw_err *err);

/* Appends s to out with &, <, >, " and ' escaped for HTML. */
cw_code cases_html_escape(cw_buf *out, const char *s, cw_err *err);

#endif
