/*
 * alert.h: alert ids, canonical JSON and signatures of alert records.
 *
 * Alert records are built as jansson objects (json_t) by the pipeline, with
 * alert_put/alert_push ("building records" below), and made canonical and
 * signed here. Canonical JSON = object keys sorted
 * bytewise, no whitespace, integers as integers, strings UTF-8 with minimal
 * escapes: exactly what cw_json writes, so the canonical bytes are produced
 * by walking the json_t with cw_json (one writer). Verification parses a line
 * and canonicalizes it again, so a record re-serialized by another tool (keys
 * reordered, whitespace added) still verifies, and any change of a value
 * does not.
 */
#ifndef CW_ALERT_H
#define CW_ALERT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/buf.h"
#include "chains/err.h"

/* Lowercase hex (32 chars and a NUL) of BLAKE2b-128 (crypto_generichash,
 * 16-byte output, no key) over chain 0x1f network 0x1f txid 0x1f rule 0x1f
 * address. Deterministic, so live, replay and other datadirs give a tx the
 * same id. NULL fields count as empty strings. */
void alert_id(const char *chain, const char *network, const char *txid, const char *rule, const char *address,
              char out[33]);

/* Appends the canonical form of any JSON value to out (no newline): objects
 * with keys sorted bytewise, recursively; arrays in their order. Refuses
 * (CW_EFORMAT, naming the path, e.g. ".entity.score") real numbers, since
 * records carry integers only, keys holding a NUL byte, and nesting deeper
 * than CW_JSON_MAX_DEPTH; CW_ENOMEM if the buffer cannot grow. On failure
 * out keeps its earlier length. */
cw_code alert_canonical(const json_t *v, cw_buf *out, cw_err *err);

/* Signs a record: removes any "sig" member, signs the canonical bytes of
 * the rest (Ed25519 detached, crypto_sign_detached), sets "sig" to the
 * 128-char lowercase hex signature, and appends the canonical form WITH sig
 * to line (no newline). Refuses a record that is not an object (CW_EARG)
 * and whatever alert_canonical refuses. */
cw_code alert_sign(json_t *record, const uint8_t sk[64], cw_buf *line, cw_err *err);

/* Verifies one line (len bytes; no NUL needed) against public key pk.
 * Parses it (jansson, duplicate keys refused), takes "sig" out, recomputes
 * the canonical bytes without it and checks the signature.
 * Returns CW_OK (reason ""), CW_ECHECKSUM for a wrong signature (reason
 * "signature does not match: the record was changed or signed by another
 * key"), CW_EFORMAT when the line is not a JSON object, has no "sig", a sig
 * that is not a string of 128 hex chars (either case), or holds a real
 * number (reason says which). reason is always a NUL-terminated line. */
cw_code alert_verify(const char *line, size_t len, const uint8_t pk[32], char reason[160]);

/* ---- the audit trail ----
 *
 * Every record a datadir writes carries `seq` (1, 2, 3, ... per datadir)
 * and `prev`, the lowercase hex BLAKE2b-256 (crypto_generichash, 32 bytes,
 * no key) of the previous record's complete signed line (its canonical
 * form with sig). Both are signed, so deleting, repeating, reordering or
 * splicing records breaks the chain where it happened. The `prev` of seq 1
 * is the trail's genesis: BLAKE2b-256 of "chainwatch-trail-v1" followed by
 * the 32-byte public key, so two datadirs' trails cannot be spliced. */
typedef struct {
    uint64_t seq;     /* the last record's seq; 0 before the first record */
    uint8_t hash[32]; /* that record's line hash; the genesis when seq is 0 */
} alert_trail;

/* The trail of a key before its first record: seq 0, hash = the genesis. */
void alert_trail_start(const uint8_t pk[32], alert_trail *out);
/* BLAKE2b-256 of a signed line's bytes (canonical JSON, no newline). */
void alert_line_hash(const char *line, size_t len, uint8_t out[32]);

/* Chains and signs: sets seq = head->seq + 1 and prev = hex(head->hash),
 * signs as alert_sign does, appends the line, and only then moves *head to
 * the new record. On failure *head is unchanged and line keeps its length.
 * Refuses a head whose seq cannot grow (CW_ELIMIT). */
cw_code alert_sign_chained(json_t *record, const uint8_t sk[64], alert_trail *head, cw_buf *line, cw_err *err);

/* What alert_check learnt of a line. */
typedef struct {
    bool chained;     /* seq (a positive integer) and prev (64 hex chars) present */
    bool has_seq;     /* seq present as a positive integer, even if the signature failed */
    uint64_t seq;
    uint8_t prev[32];
    uint8_t hash[32]; /* line hash of the record's canonical form (valid records only) */
} alert_link;

/* alert_verify plus the record's place in the trail: on CW_OK link->hash
 * is the hash its successor's prev must hold (of the canonical form, so a
 * re-serialized line hashes as written). On CW_ECHECKSUM link->has_seq and
 * link->seq still say which seq the (untrusted) record claims. A `seq` or
 * `prev` of the wrong type or form is CW_EFORMAT. */
cw_code alert_check(const char *line, size_t len, const uint8_t pk[32], alert_link *link, char reason[160]);

/* ---- building records ----
 * One way to build a record: a jansson tree, filled with these setters.
 * The signed alert records (pipeline), the checkpoint line, and the
 * answers of screen, cluster and trace (engine/screen.c, cli/) are all
 * built so. A tree, because a record is edited after it is built (sig
 * taken out and put back, seq and prev set), is canonicalised (keys
 * sorted, alert_canonical), and verify parses lines back into one; the
 * screen answers share their reason objects with the records' evidence.
 * chains/json.h (cw_json) is the one writer of bytes: the canonical form
 * of these trees, and output that is streamed, never signed nor edited
 * (decode's lines, watchlist lookup/export/stats, address), where a tree
 * per line would only cost memory.
 * The setters latch the first failure in *ok (never set back to true), so
 * a builder checks once at the end and never signs or prints a record with
 * a field missing. A NULL val (a failed json_string etc.) or a NULL obj/arr
 * counts as a failure; val's reference is always taken (decref'd on
 * failure): fill a child before putting it, never after. */
void alert_put(json_t *obj, const char *key, json_t *val, bool *ok);
void alert_push(json_t *arr, json_t *val, bool *ok);

/* The time now as records write it (an alert's seen_at, a case's audit
 * times): UTC, ISO 8601 with milliseconds, "2026-12-03T10:15:00.123Z"
 * (24 chars and a NUL). */
#define ALERT_TIME_MAX 32
void alert_now_iso(char out[ALERT_TIME_MAX]);

#endif
