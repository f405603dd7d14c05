/*
 * err.h: the one error type of chainwatch.
 *
 * Every fallible function takes a `cw_err *` last and returns a cw_code
 * (CW_OK == 0). On failure it fills the error with a code, the byte offset in
 * the input where the problem was found (CW_NO_OFFSET when not about input
 * bytes), and one line a user can act on: what was wrong and where. Callers
 * may pass NULL when they only need the code.
 *
 * Messages never end with a newline; the CLI prints them as one line.
 */
#ifndef CW_ERR_H
#define CW_ERR_H

#include <stddef.h>

typedef enum {
    CW_OK = 0,
    CW_ETRUNC,     /* input ended before a field was complete */
    CW_EFORMAT,    /* bytes present but not a valid encoding */
    CW_ELIMIT,     /* a size or count above the protocol's limit */
    CW_ECHECKSUM,  /* a checksum or hash commitment did not match */
    CW_EARG,       /* a caller or user argument is invalid */
    CW_ENOMEM,     /* out of memory, or a caller-supplied buffer too small */
    CW_EIO,        /* reading or writing a file or socket failed */
    CW_ESTORE,     /* the LMDB store refused an operation */
    CW_EFULL,      /* the store's map is full: grow it and retry the transaction */
    CW_ENOTFOUND,  /* a looked-up item does not exist */
    CW_EDAMAGED,   /* the store's file is cut or damaged: nothing read from it can be trusted */
    CW_EVERSION,   /* the store was written in a format this version does not read (store.h: STORE_FORMAT) */
} cw_code;

#define CW_NO_OFFSET ((size_t)-1)
#define CW_ERR_MSG_MAX 256

typedef struct {
    cw_code code;
    size_t offset;             /* byte offset into the input, or CW_NO_OFFSET */
    char msg[CW_ERR_MSG_MAX];  /* one line, no trailing newline */
    /* The library's or the system's error number behind code (an errno, an
     * LMDB return code), 0 when none was given: for the module that set it
     * to classify its own errors without reading msg (store.h:
     * store_error_passes). cw_err_set clears it; cw_err_prefix keeps it. */
    int cause;
} cw_err;

/* Fills `err` (if not NULL) and returns `code`, so callers can write
 * `return cw_err_set(err, CW_ETRUNC, off, "...")`. */
cw_code cw_err_set(cw_err *err, cw_code code, size_t offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Prefixes the existing message with context ("tx 17: ..."), keeping code
 * and offset. Returns `code` (the failure being passed up), so it works
 * when err is NULL too. */
cw_code cw_err_prefix(cw_err *err, cw_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* A short constant name for a code: "truncated", "bad format", ... */
const char *cw_code_name(cw_code code);

#endif
