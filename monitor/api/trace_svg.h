/*
 * trace_svg.h: the trace graph of a case as SVG, drawn server-side for the
 * review console from the same evidence `chainwatch trace` prints
 * (screen_trace, engine/screen.h) and `trace --dot` draws: the designated
 * source, each tx of the path in order (the case's own tx marked), the
 * address of the case, its cluster when that has designated members, and
 * the pattern rules' view of it (risk, rules fired, payers, pooled
 * payouts: a note right of the address) when a rule fired on it.
 *
 * No layout engine: the path is one row left to right (the flow's order
 * is the story), the cluster a box under the address. Every text is
 * escaped; full txids and addresses are in <title> tooltips and data-id
 * attributes (what tests and the console read).
 */
#ifndef CW_TRACE_SVG_H
#define CW_TRACE_SVG_H

#include <jansson.h>

#include "chains/buf.h"
#include "chains/err.h"

/* Appends the SVG document (one <svg> element, UTF-8) of trace tr
 * (screen_trace's object) to out; case_txid (may be NULL) is the tx of the
 * case's record, drawn highlighted when it is on the path and added as the
 * last hop when it is not. CW_ENOMEM. */
cw_code trace_svg(const json_t *tr, const char *case_txid, cw_buf *out, cw_err *err);

#endif
