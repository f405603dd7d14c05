/* libFuzzer target: OFAC SDN_ADVANCED.XML (watchlists/import_sdn_advanced.c, libxml2's reader),
 * parsed into an import that is not committed. */
#include "fuzz_import.h"

static cw_code read_file(const char *path, wl_import *imp, cw_err *err)
{
    return import_sdn_advanced(path, imp, NULL, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_import(data, size, "sdn-advanced", read_file);
    return 0;
}
