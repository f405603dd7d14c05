/* rules_fault.h: a raw tx's screen (`chainwatch screen` and POST
 * /v1/screen on a real serve over 127.0.0.1) with the store failing while
 * the pattern rules read their tables (rule_addr, rule_origin, rule_trace,
 * rule_pair), after the screening of the tx's addresses has read its own.
 *
 * Fail closed: a read the rules cannot make must never become "no
 * pattern", "allow" or a shorter patterns list. The CLI exits 3 with the
 * error on stderr ("pattern rules: store damaged: ... in rule_..."), prints
 * nothing on stdout; the API answers 503 {"error":{"code":"store_error"}}
 * naming it too, and the same serve answers again once the store reads
 * (CW_FAULT_WHILE); nothing is written to the store either way.
 *
 * The faults come from the one shim (tests/tools/fault.c) with CW_FAIL_MDB
 * entries restricted to a rule table by "#NAME". */
#ifndef CW_TEST_RULES_FAULT_H
#define CW_TEST_RULES_FAULT_H

#include "chains/addr.h"
#include "watchlists/store/store.h"

typedef struct {
    const char *dd;                /* the datadir screened against */
    cw_store *store;               /* the test's own open store of dd (a process opens it once), or NULL */
    const char *const *cli;        /* the screen's arguments after "chainwatch screen" (NULL-terminated; --datadir added) */
    int want_exit;                 /* its exit without a fault: 10 review, 11 hold */
    const char *body;              /* POST /v1/screen's body (NULL: no API check, e.g. a form the CLI has no way to take) */
    const char *const *serve_opts; /* serve's extra options (NULL-terminated, or NULL) */
    const char *rule;              /* a finding of this rule is in `patterns` without a fault */
    const char *preload;           /* the suite's CW_FAULT_PRELOAD */
} rules_fault_case;

/* For each CW_FAIL_MDB value in specs (NULL-terminated; each must fail a
 * read the rules make), asserts the above for the CLI (when c->cli) and
 * the API (when c->body), after checking that without a fault the screen
 * finds c->rule (the rules did read: the fault is on a path the answer
 * depends on). Every table of the store is byte-identical after. */
void rules_fault_check(const rules_fault_case *c, const char *const *specs);

/* a's watchlist key in hex, for a spec's @HEX ("mdb_get:1+:EIO@HEX#rule_addr"):
 * one of four static buffers in turn (four specs built at once stay valid). */
const char *rules_fault_key_hex(const cw_addr *a);

/* The key of src's entry in pool's consolidator window at its last sweep
 * `last` (rulestats.h: 0xF0 plen pool ~last src) in hex, for a spec's @HEX
 * (rule_pair): one of four static buffers in turn. */
const char *rules_fault_window_key_hex(const cw_addr *pool, const cw_addr *src, uint64_t last);

#endif
