/*
 * out.c: checked output for every verb (cli.h). A compliance export cut
 * by a full disk must not end with exit 0, so stdout and the files verbs
 * write are checked once, here, rather than at each printf.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* The one failure of standard output is reported once, whoever sees it
 * first (a verb's loop, or main at the end). */
static bool stdout_reported;

static bool stdout_failed(const char *verb, int e)
{
    if (!stdout_reported) {
        stdout_reported = true;
        fprintf(stderr, "chainwatch: %s: writing standard output: %s\n", verb, strerror(e ? e : EIO));
    }
    return false;
}

/* The error of a stream whose error flag is set. glibc keeps what a
 * buffered write could not write, so flushing again names it; a failed
 * fwrite of a whole block leaves nothing to flush, and then the errno it
 * left (the callers check right after writing) is the one. */
static int flush_errno(void)
{
    int saved = errno;
    errno = 0;
    if (fflush(stdout) != 0 && errno)
        return errno;
    return saved;
}

bool cli_out_ok(const char *verb)
{
    if (stdout_reported)
        return false;
    if (!ferror(stdout))
        return true;
    return stdout_failed(verb, flush_errno());
}

/* Durable when the descriptor is a file; pipes, terminals and devices
 * (/dev/null) have nothing to sync and say EINVAL or EROFS. */
static int sync_fd(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
        return errno;
    return 0;
}

bool cli_out_flush(const char *verb)
{
    if (stdout_reported)
        return false;
    if (ferror(stdout))
        return stdout_failed(verb, flush_errno());
    errno = 0;
    int e = fflush(stdout) != 0 ? errno : 0;
    if (e || ferror(stdout))
        return stdout_failed(verb, e);
    return true;
}

int cli_finish_output(const char *verb, int rc)
{
    bool ok = cli_out_flush(verb);
    int e;
    /* once a run, when stdout is a file: what was redirected there is kept */
    if (ok && (e = sync_fd(fileno(stdout))) != 0)
        ok = stdout_failed(verb, e);
    if (ok)
        return rc;
    /* a success or a decision that was not delivered is a failure; an
     * error code already says the run failed, and which way */
    return rc == CLI_EXIT_OK || rc >= CLI_EXIT_REVIEW ? CLI_EXIT_FAIL : rc;
}

cw_code cli_close_file(FILE *f, const char *path, cw_err *err)
{
    int saved = errno; /* what a failed fwrite just before left (see flush_errno) */
    errno = 0;
    int e = fflush(f) != 0 ? (errno ? errno : EIO) : 0;
    if (e == 0 && ferror(f))
        e = saved ? saved : EIO;
    if (e == 0)
        e = sync_fd(fileno(f));
    if (fclose(f) != 0 && e == 0)
        e = errno ? errno : EIO;
    if (e)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "writing %s: %s", path, strerror(e));
    return CW_OK;
}

const char *cli_quote(const char *text, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    if (cap == 0)
        return out;
    for (const unsigned char *p = (const unsigned char *)text; *p && n + 5 < cap; p++) {
        if (*p < 0x20 || *p == 0x7f) { /* a newline or an escape sequence must not reach the terminal */
            char e = *p == '\t' ? 't' : *p == '\n' ? 'n' : *p == '\r' ? 'r' : 0;
            out[n++] = '\\';
            if (e) {
                out[n++] = e;
            } else {
                out[n++] = 'x';
                out[n++] = hex[*p >> 4];
                out[n++] = hex[*p & 15];
            }
        } else {
            out[n++] = (char)*p;
        }
    }
    out[n] = '\0';
    return out;
}

int cli_exit_status(cw_code code)
{
    switch (code) {
    case CW_OK:
        return CLI_EXIT_OK;
    case CW_ESTORE:   /* LMDB refused: at open (the map could not be mapped, a datadir without a usable store), */
    case CW_EFULL:    /* a read or a write (a full disk); a map still full after store_write grew it */
    case CW_EDAMAGED: /* a damaged store is "could not check", never a result */
    case CW_EVERSION: /* a store this version must not read: nothing checked either */
        return CLI_EXIT_UNCHECKED;
    case CW_EIO:      /* a file or socket other than the store: the alerts file, a capture, the node */
    case CW_ENOMEM:
    case CW_ENOTFOUND: /* a block missing at run time, a key not there */
        return CLI_EXIT_FAIL;
    default:
        return CLI_EXIT_USAGE;
    }
}

int cli_fail(const char *context, const cw_err *err)
{
    fprintf(stderr, "chainwatch: %s: %s\n", context, err->msg);
    cli_store_format_hint(context, err);
    return cli_exit_status(err->code);
}

void cli_store_format_hint(const char *context, const cw_err *err)
{
    if (err->code == CW_EVERSION)
        fprintf(stderr, "chainwatch: %s: %s\n", context, STORE_FORMAT_HINT);
}

double cli_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cli_write_buf(const char *verb, cw_buf *b)
{
    if (b->n)
        fwrite(b->p, 1, b->n, stdout); /* a short write sets the stream's error */
    b->n = 0;
    return cli_out_ok(verb) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int cli_write_json_line(const char *verb, const char *what, cw_json *j, cw_buf *out)
{
    cw_json_newline(j);
    if (cw_json_ok(j))
        return cli_write_buf(verb, out);
    return cli_fail(what, &(cw_err){.code = CW_ENOMEM, .offset = CW_NO_OFFSET, .msg = "out of memory"});
}
