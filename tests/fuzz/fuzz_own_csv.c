/* libFuzzer target: a company's own CSV list (watchlists/import_csv.c
 * import_own_csv), parsed into an import that is not committed. */
#include "fuzz_import.h"

static cw_code read_own(const char *path, wl_import *imp, cw_err *err)
{
    wl_import_allow_test_networks(imp, true); /* as `watchlist import csv` does */
    return import_own_csv(path, imp, NULL, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_import(data, size, "csv", read_own);
    return 0;
}
