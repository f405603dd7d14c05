/*
 * capture_settings.h: the settings record of an account chain's capture
 * (capture.h version 2, chain tron or ethereum), read strictly.
 *
 * The settings record is the exchange record whose first frame is
 * "settings": frame 1 a JSON object of what the watch that recorded ran
 * with and that decides its records, frame 2 the bytes of its --tokens
 * file (empty: none). docs/capture.md lists the fields; account_run.c
 * writes them. A replay takes the recording's settings from here (and
 * refuses options that contradict them), so every field is checked for
 * its type and range before anything is replayed: a damaged record is
 * refused with the byte offset in the file, never replayed with a
 * default in place of what the live run had.
 *
 * Fields (JSON object, other keys ignored):
 *   confirmations   integer 1..2^31-1
 *   finalized       boolean
 *   start           integer -1..2^31-1 (an empty datadir's first block, -1 the head)
 *   tip             integer -1..2^62 (the datadir's tip when the run began, -1 none)
 *   tip_hash        string: "" (no tip) or "0x" and 64 lowercase hex digits
 *   max_reorg       integer 0..2^31-1 (0: the engine's default)
 *   hops            integer 0..8 (account exposure; 0 off)
 *   min_share_ppm, hold_share_ppm   integers 0..1000000
 *   rules           object (the pattern rules' configuration: compared,
 *                   key by key, with the replay's own)
 *   labels_blake2b  string: "" (no --labels) or 64 lowercase hex digits
 *   chain_id        integer 0..2^53 (the chain id the follower checked:
 *                   tron's TIP-474 id from block 0, ethereum's eth_chainId);
 *                   required for tron (want_chain_id), optional otherwise
 */
#ifndef CW_CAPTURE_SETTINGS_H
#define CW_CAPTURE_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chains/err.h"

typedef struct {
    int64_t confirmations;
    bool finalized;
    int64_t start;
    int64_t tip;
    char tip_hash[67];
    int64_t max_reorg;
    unsigned hops;
    uint32_t min_share_ppm, hold_share_ppm;
    json_t *rules;          /* owned: capture_settings_free */
    char labels_blake2b[65];
    bool has_chain_id;
    uint64_t chain_id;
} capture_settings;

/* Parses the settings JSON (len bytes at json, not NUL-terminated) of the
 * record that starts at byte rec_off of the capture `path`; json_off is
 * the file offset of json's first byte (for a JSON syntax error's exact
 * byte). want_chain_id: chain_id is required. On CW_OK *out holds the
 * fields (free with capture_settings_free). Refuses CW_EFORMAT, err->offset
 * the byte, the message "PATH: byte N (the settings record at byte M):
 * ..." naming the field and what it must be; CW_ENOMEM; CW_EARG for NULL
 * arguments. *out is zeroed (nothing to free) on any error. */
cw_code capture_settings_parse(const uint8_t *json, size_t len, const char *path, uint64_t rec_off,
                               uint64_t json_off, bool want_chain_id, capture_settings *out, cw_err *err);

/* NULL and a zeroed struct are fine; twice is fine. */
void capture_settings_free(capture_settings *s);

/* The first difference between two settings objects' values (the
 * recorded and this run's, e.g. the `rules` objects): the key path into
 * what (e.g. "rules.min_gap", cut to cap) and each side's JSON text
 * (cut to vcap; "(absent)" where a side lacks the key). false when they
 * are equal. prefix names the top object ("rules"). */
bool capture_settings_diff(const json_t *recorded, const json_t *given, const char *prefix, char *what, size_t cap,
                           char *rec_text, char *given_text, size_t vcap);

#endif
