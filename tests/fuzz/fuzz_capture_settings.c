/* libFuzzer target: a capture's settings record (monitor/sources/
 * capture_settings.c), as replay --capture reads a Tron or Ethereum
 * capture's first record. The first byte picks whether a chain id is
 * required and the record's offset; the rest is the JSON. Any input is
 * taken with every field in its range or refused with a message naming
 * the file and a byte inside the record's JSON; nothing is left to free
 * after a refusal. The accepted rules are then compared with a fixed
 * configuration (capture_settings_diff): a difference always names a key
 * path under "rules". */
#include <stdlib.h>
#include <string.h>

#include "monitor/sources/capture_settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool want = data[0] & 1;
    uint64_t rec_off = 21 + (data[0] >> 1), json_off = rec_off + 32;
    capture_settings s;
    cw_err err = {0};
    cw_code rc = capture_settings_parse(data + 1, size - 1, "fuzz.cwcap", rec_off, json_off, want, &s, &err);
    if (rc != CW_OK) {
        if (s.rules != NULL || err.msg[0] == '\0' || (rc != CW_EFORMAT && rc != CW_ENOMEM) ||
            strncmp(err.msg, "fuzz.cwcap: byte ", 17) != 0 || err.offset < json_off || err.offset > json_off + size)
            abort();
        return 0;
    }
    if (s.confirmations < 1 || s.start < -1 || s.tip < -1 || s.max_reorg < 0 || s.hops > 8 ||
        s.min_share_ppm > 1000000 || s.hold_share_ppm > 1000000 || !json_is_object(s.rules) ||
        (want && !s.has_chain_id) || (s.tip < 0) != (s.tip_hash[0] == '\0') ||
        (s.tip_hash[0] && strlen(s.tip_hash) != 66) || (s.labels_blake2b[0] && strlen(s.labels_blake2b) != 64))
        abort();
    json_t *mine = json_pack("{sbsI}", "enabled", 1, "min_gap", (json_int_t)1);
    char what[64], rt[64], gt[64];
    if (capture_settings_diff(s.rules, mine, "rules", what, sizeof what, rt, gt, sizeof rt) &&
        strncmp(what, "rules", 5) != 0)
        abort();
    json_decref(mine);
    capture_settings_free(&s);
    return 0;
}
