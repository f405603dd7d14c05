/* libFuzzer target: OFAC's classic sdn.xml (watchlists/import_sdn_xml.c, libxml2's reader),
 * parsed into an import that is not committed. */
#include "fuzz_import.h"

static cw_code read_file(const char *path, wl_import *imp, cw_err *err)
{
    return import_sdn_xml(path, imp, NULL, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_import(data, size, "sdn-xml", read_file);
    return 0;
}
