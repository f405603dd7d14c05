#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

cw_code cw_err_set(cw_err *err, cw_code code, size_t offset, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    err->offset = offset;
    err->cause = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

cw_code cw_err_prefix(cw_err *err, cw_code code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    char head[CW_ERR_MSG_MAX], old[CW_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Truncation is acceptable here: the message stays one readable line. */
    size_t hn = strlen(head);
    if (hn > sizeof err->msg - 3)
        hn = sizeof err->msg - 3;
    memcpy(err->msg, head, hn);
    memcpy(err->msg + hn, ": ", 2);
    size_t room = sizeof err->msg - hn - 3, on = strlen(old);
    if (on > room)
        on = room;
    memcpy(err->msg + hn + 2, old, on);
    err->msg[hn + 2 + on] = '\0';
    return code;
}

const char *cw_code_name(cw_code code)
{
    switch (code) {
    case CW_OK: return "ok";
    case CW_ETRUNC: return "truncated";
    case CW_EFORMAT: return "bad format";
    case CW_ELIMIT: return "over limit";
    case CW_ECHECKSUM: return "checksum mismatch";
    case CW_EARG: return "bad argument";
    case CW_ENOMEM: return "out of memory";
    case CW_EIO: return "i/o error";
    case CW_ESTORE: return "store error";
    case CW_EFULL: return "store full";
    case CW_ENOTFOUND: return "not found";
    case CW_EDAMAGED: return "store damaged";
    case CW_EVERSION: return "store format";
    }
    return "unknown error";
}
