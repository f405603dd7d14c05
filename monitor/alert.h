/*
 * alert.h: alert ids, canonical JSON and signatures of alert records.
 *
 * Alert records are built as jansson objects (json_t) by the pipeline and
 * made canonical and signed here. Canonical JSON = object keys sorted
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
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
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

#endif
