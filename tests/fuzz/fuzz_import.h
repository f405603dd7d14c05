/* fuzz_import.h: one designation importer on the input as a file, into a
 * wl_import that is never committed (no store: the parse alone). A refusal
 * must say why. */
#ifndef CW_FUZZ_IMPORT_H
#define CW_FUZZ_IMPORT_H
#include <stdlib.h>

#include "fuzz_file.h"
#include "watchlists/import.h"

static inline void fuzz_import(const uint8_t *data, size_t size, const char *format,
                        cw_code (*read)(const char *path, wl_import *imp, cw_err *err))
{
    wl_import *imp = wl_import_new("fuzz", format);
    if (imp == NULL)
        abort();
    cw_err err = {0};
    if (read(fuzz_file(data, size), imp, &err) != CW_OK && err.msg[0] == '\0')
        abort();
    wl_import_free(imp);
}
#endif
