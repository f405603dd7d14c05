/*
 * addrset.h: a set of addresses read from a file, one per line: an
 * exchange's own deposit and withdrawal addresses (`--watch FILE`).
 *
 * Lines are trimmed; empty lines and lines starting with '#' are skipped.
 * Every other line must be an address chainwatch can key (Bitcoin of any
 * network, EVM, Tron, or text for other chains): a line that is not is an
 * error naming the file and line, since a typo would silently leave a
 * deposit address unscreened. Lookups are a binary search over sorted keys.
 */
#ifndef CW_ADDRSET_H
#define CW_ADDRSET_H

#include <stdbool.h>
#include <stddef.h>

#include "chains/model.h"

typedef struct addrset addrset;

/* Loads path into *out (the caller's, freed with addrset_free). CW_EIO
 * when unreadable, CW_EFORMAT for a bad line (named), CW_ENOMEM. On error
 * *out is untouched. */
cw_code addrset_load(const char *path, addrset **out, cw_err *err);
/* NULL is a no-op. */
void addrset_free(addrset *s);
size_t addrset_count(const addrset *s);
/* Membership by address or by watchlist key (wl_key_from_addr's form);
 * false for a NULL set (no --watch). Read-only: safe to share. */
bool addrset_has(const addrset *s, const cw_addr *a);
bool addrset_has_key(const addrset *s, const uint8_t *key, size_t klen);

#endif
