/* fuzz_file.h: the readers that take a path (importers, captures) get each
 * input as a file: one temporary file per fuzzing process, rewritten for
 * every input and removed at exit. A memory stream (fmemopen) would not do:
 * the readers open the path themselves, fstat it for its size and report
 * offsets of the file they read. */
#ifndef CW_FUZZ_FILE_H
#define CW_FUZZ_FILE_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_path[64];

static inline void fuzz_file_remove(void) { unlink(fuzz_path); }

/* The path of a file holding exactly data[0..size); aborts when the file
 * cannot be written (the run would test nothing). */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
    if (fuzz_path[0] == '\0') {
        snprintf(fuzz_path, sizeof fuzz_path, "/tmp/cw-fuzz-%ld", (long)getpid());
        atexit(fuzz_file_remove);
    }
    FILE *f = fopen(fuzz_path, "wb");
    if (f == NULL || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
    return fuzz_path;
}

/* data as a NUL-terminated string (the caller frees). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    for (size_t i = 0; i < size; i++)
        s[i] = (char)data[i];
    s[size] = '\0';
    return s;
}
#endif
