/* LD_PRELOAD fault injection for test_cli_strict: every fsync and fdatasync
 * fails with EIO, as on a disk that lost the write after the page cache took
 * it. Only an fsync'd file can tell the user so. */
#include <errno.h>

int fsync(int fd)
{
    (void)fd;
    errno = EIO;
    return -1;
}

int fdatasync(int fd)
{
    (void)fd;
    errno = EIO;
    return -1;
}
