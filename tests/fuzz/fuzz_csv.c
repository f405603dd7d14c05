/* libFuzzer target: the RFC 4180 reader the CSV importers share
 * (watchlists/csv.c), on the input as a file. Every record's fields lie in
 * the reader's record buffer; a file read to its end hashes to the sha256 of
 * its bytes (the hash the import records for the file). */
#include <stdlib.h>
#include <string.h>

#include "chains/hash.h"
#include "chains/hex.h"
#include "fuzz_file.h"
#include "watchlists/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    csv_reader r;
    cw_err err = {0};
    if (csv_open(&r, path, NULL, NULL, &err) != CW_OK)
        abort();
    int got;
    size_t records = 0;
    while ((got = csv_next(&r, &err)) == 1) {
        if (r.n_fields < 1 || r.n_fields > CSV_MAX_FIELDS || r.line_no <= records)
            abort();
        for (int i = 0; i < r.n_fields; i++)
            if (r.field[i] < r.rec || r.field[i] + strlen(r.field[i]) >= r.rec + r.rec_cap)
                abort();
        records++;
    }
    if (got == -1 && err.msg[0] == '\0')
        abort();
    char sha[65];
    csv_close(&r, sha);
    if (got == 0) {
        uint8_t h[32];
        char want[65];
        cw_sha256(data, size, h);
        cw_hex_encode(h, 32, want);
        if (strcmp(sha, want) != 0)
            abort();
    }
    return 0;
}
