/* libFuzzer target: OpenSanctions FollowTheMoney JSON lines (watchlists/import_opensanctions.c),
 * parsed into an import that is not committed. */
#include "fuzz_import.h"

static cw_code read_file(const char *path, wl_import *imp, cw_err *err)
{
    return import_opensanctions(path, imp, NULL, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_import(data, size, "opensanctions", read_file);
    return 0;
}
