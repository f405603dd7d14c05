/* libFuzzer target: what chainwatch reads that a webhook receiver, an
 * operator or a damaged store hands it in the cases module: the
 * X-Chainwatch-Signature header (webhook_verify), webhook URLs
 * (webhook_url_valid), and records of the cases, case_audit, hooks and
 * hook_state tables (`watchlist check`'s casedb/hookdb_check_record: the
 * first input byte picks the table, the next one the key length). None may
 * crash; a header never verifies without the key's signature; an accepted
 * URL keeps its invariants. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_file.h"
#include "monitor/records/webhook.h"
#include "watchlists/casedb.h"
#include "watchlists/hookdb.h"

static uint8_t pk[32], sk[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (sodium_init() < 0)
        abort();
    uint8_t seed[32] = {1};
    crypto_sign_seed_keypair(pk, sk, seed);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_str(data, size);
    static const char body[] = "{\"seq\":1,\"type\":\"case.opened\"}";
    if (webhook_verify(pk, s, body, sizeof body - 1)) {
        /* only a header this key signed verifies: re-sign and compare */
        long long ts = atoll(s + 2);
        char h[200];
        webhook_sign(sk, ts, body, sizeof body - 1, h, sizeof h);
        const char *mine = strchr(h, ','), *theirs = strchr(s, ',');
        if (mine == NULL || theirs == NULL || strcasecmp(mine, theirs) != 0)
            abort();
    }
    if (webhook_url_valid(s)) {
        size_t n = strlen(s);
        if (n > HOOKDB_URL_MAX || (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0))
            abort();
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
                abort();
    }
    free(s);
    if (size >= 2) {
        static const store_db dbs[] = {STORE_CASES, STORE_CASE_AUDIT, STORE_HOOKS, STORE_HOOK_STATE};
        store_db db = dbs[data[0] % 4];
        size_t kn = data[1] <= size - 2 ? data[1] : size - 2;
        cw_span k = {data + 2, kn}, v = {data + 2 + kn, size - 2 - kn};
        (void)casedb_check_record(db, k, v);
        (void)hookdb_check_record(db, k, v);
    }
    return 0;
}
