/* libFuzzer target: OFAC's sdn.csv (watchlists/import_csv.c import_sdn_csv),
 * without a comments file, refusing cut remarks and skipping them in turn,
 * parsed into an import that is not committed. */
#include "fuzz_import.h"

static cw_code read_strict(const char *path, wl_import *imp, cw_err *err)
{
    return import_sdn_csv(path, NULL, false, imp, NULL, err);
}

static cw_code read_allow_cut(const char *path, wl_import *imp, cw_err *err)
{
    return import_sdn_csv(path, NULL, true, imp, NULL, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_import(data, size, "sdn-csv", read_strict);
    fuzz_import(data, size, "sdn-csv", read_allow_cut);
    return 0;
}
