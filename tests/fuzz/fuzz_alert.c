/* libFuzzer target: one line of alerts.jsonl as `chainwatch verify` checks
 * it (monitor/records/alert.c alert_check), against a fixed key. A line
 * that parses with a well-formed signature, signed again with that key,
 * must then verify (canonical form and parse agree on every value); a line
 * that verifies links its successor by the hash of its canonical form. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/records/alert.h"

static uint8_t pk[32], sk[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    if (sodium_init() < 0 || crypto_sign_seed_keypair(pk, sk, seed) != 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    alert_link link;
    char reason[160];
    reason[0] = 'x';
    cw_code rc = alert_check(line, size, pk, &link, reason);
    if (memchr(reason, '\0', sizeof reason) == NULL || (rc != CW_OK && reason[0] == '\0'))
        abort();
    if (rc != CW_OK && rc != CW_ECHECKSUM)
        return 0;
    json_t *rec = json_loadb(line, size, JSON_REJECT_DUPLICATES, NULL);
    if (rec == NULL)
        abort(); /* alert_check parsed it */
    cw_err err = {0};
    if (rc == CW_OK) { /* the successor's prev: the hash of the canonical line */
        cw_buf canon = CW_BUF_INIT;
        uint8_t h[32];
        if (alert_canonical(rec, &canon, &err) != CW_OK)
            abort();
        alert_line_hash((const char *)canon.p, canon.n, h);
        if (memcmp(h, link.hash, 32) != 0)
            abort();
        cw_buf_free(&canon);
        json_decref(rec);
        return 0;
    }
    cw_buf signed_line = CW_BUF_INIT;
    if (alert_sign(rec, sk, &signed_line, &err) != CW_OK)
        abort(); /* alert_check canonicalized it */
    if (alert_verify((const char *)signed_line.p, signed_line.n, pk, reason) != CW_OK)
        abort();
    cw_buf_free(&signed_line);
    json_decref(rec);
    return 0;
}
