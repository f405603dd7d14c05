/* fault: the one LD_PRELOAD fault shim of the tests. It makes chosen LMDB
 * calls, libc writes to files and allocations fail as a damaged store, a
 * failing or full disk, or an exhausted heap would, where nothing else can
 * provoke those errors on demand. Without any of the variables below it
 * changes nothing (every call goes to the real function).
 *
 * LOADING. LD_PRELOAD=<path of cw_fault>. In a sanitizer build the ASan
 * runtime must come first in the preload list (ASan refuses to start
 * otherwise): tests/CMakeLists.txt hands each suite CW_FAULT_PRELOAD, the
 * whole list ("<libasan.so>:<cw_fault>" under SANITIZE, "<cw_fault>"
 * otherwise), so a test only does setenv("LD_PRELOAD", CW_FAULT_PRELOAD, 1).
 *
 * CW_FAIL_COMMIT=N
 *     the Nth mdb_txn_commit of the process (1-based) aborts its
 *     transaction and returns MDB_MAP_FULL, as LMDB does when the pages a
 *     commit writes do not fit the map. CW_TRACE_COMMIT=1 logs
 *     "[commit N]" to stderr at each commit.
 *
 * CW_FAIL_MDB=FUNC:N:CODE[,FUNC:N:CODE...]
 *     the Nth call (1-based, counted per function over the whole process)
 *     of LMDB function FUNC returns CODE without doing anything; "N+" fails
 *     the Nth and every later call. FUNC is one of mdb_get, mdb_cursor_get,
 *     mdb_cursor_open, mdb_put, mdb_del, mdb_txn_begin, mdb_txn_commit,
 *     mdb_env_open, mdb_dbi_open, mdb_stat. CODE is a number or one of
 *     MDB_NOTFOUND, MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_PANIC,
 *     MDB_VERSION_MISMATCH, MDB_INVALID, MDB_MAP_FULL, MDB_BAD_TXN,
 *     MDB_READERS_FULL, MDB_MAP_RESIZED, MDB_BAD_VALSIZE, MDB_TXN_FULL, EIO,
 *     ENOSPC, ENOMEM, EACCES, EROFS, EINVAL, EAGAIN, EDQUOT.
 *     Example: CW_FAIL_MDB=mdb_get:1+:EIO (every read fails),
 *     CW_FAIL_MDB=mdb_cursor_get:3:MDB_CORRUPTED.
 *     For mdb_get, mdb_put and mdb_del an entry may end with "@HEX": it
 *     then counts and fails only calls with exactly that key (any
 *     database), e.g. CW_FAIL_MDB=mdb_get:1+:EIO@<hex of a watchlist key>
 *     fails every read of one address and nothing else. Each entry keeps
 *     its own count of the calls it matches.
 *     Any entry of a function that takes a database (mdb_get, mdb_put,
 *     mdb_del, mdb_cursor_get, mdb_cursor_open, mdb_stat) may end with
 *     "#NAME" (after its "@HEX" when both): it then counts and fails only
 *     calls on the database opened under NAME (mdb_dbi_open, as
 *     store.c's names: wl_addr, rule_addr, ...), e.g.
 *     CW_FAIL_MDB=mdb_get:1+:EIO#rule_addr fails every read of the pattern
 *     rules' records and no read a screening of addresses makes before
 *     them; mdb_get:1+:EIO@<hex>#rule_addr only that key's there;
 *     mdb_cursor_get:1+:EIO#rule_pair a walk over rule_pair.
 *     A failed mdb_txn_commit aborts its transaction first (LMDB's contract:
 *     the transaction is gone either way); a failed mdb_cursor_get leaves
 *     the cursor where it was.
 *
 * CW_FAIL_IO=FUNC:N:ERRNO[,...]
 *     the same for libc writes to regular files (standard streams, pipes,
 *     devices and sockets are never failed, so the program can still say
 *     what went wrong): FUNC is write, pwrite, pwrite64, pwritev, ftruncate,
 *     fsync, fdatasync, fallocate or posix_fallocate, or the read pread
 *     (pread64: a read error of the disk); the call returns -1
 *     with errno ERRNO (posix_fallocate returns it). ERRNO takes the names
 *     above or a number. The name "disk" stands for all the writes at once:
 *     CW_FAIL_IO=disk:1+:ENOSPC is a full disk. An entry ending in "@any"
 *     counts and fails the calls on every descriptor instead (standard
 *     streams, pipes and devices too): a disk that loses what the page
 *     cache took, whatever the program syncs, stdout redirected to a file
 *     or /dev/null included, is CW_FAIL_IO=fsync:1+:EIO@any,fdatasync:1+:EIO@any
 *     (a program that syncs only what it should then fails only there).
 *
 * CW_FAULT_LOG=PATH
 *     each call CW_FAIL_MDB or CW_FAIL_IO fails appends one line "FUNC" to
 *     PATH (created if absent): a test counts the faults a process met,
 *     e.g. how many passes of a deliverer a gated fault failed.
 *
 * CW_FAIL_OPEN=NAME:ERRNO[,...]
 *     every open, open64 or openat for writing (O_WRONLY, O_RDWR or
 *     O_CREAT) of a path whose last component is NAME fails with ERRNO
 *     (the names above, EROFS, or a number), as on a read-only filesystem
 *     (EROFS) or a directory the user may not write (EACCES, which a test
 *     running as root cannot get from a chmod), e.g.
 *     CW_FAIL_OPEN=webhooks.lock:EROFS. Reads are never failed.
 *
 * CW_FAULT_WHILE=PATH
 *     CW_FAIL_MDB and CW_FAIL_IO apply only while the file PATH exists
 *     (checked at each call they could match; calls made while it is
 *     absent are neither failed nor counted): a test switches a fault on
 *     and off in a running process by creating and removing the file, e.g.
 *     a store that fails for a while and then recovers.
 *
 * CW_DELAY_LISTEN=MS
 *     every listen() of the process sleeps MS milliseconds first: a server
 *     slow between binding its port and listening on it, so a test can
 *     start a second server inside that window (two `serve` racing for one
 *     port).
 *
 * CW_SNDBUF=BYTES
 *     every socket the process accepts (accept, accept4) gets SO_SNDBUF
 *     BYTES (the kernel doubles it): a server whose replies wait in a small
 *     send buffer, as over a slow network, where on loopback the kernel
 *     would buffer megabytes of a reply a client does not read.
 *
 * CW_TRACE_MDB=1 logs "[FUNC N]" to stderr at each call of an intercepted
 * LMDB or libc function, to find the N of a test; CW_TRACE_MDB=db logs
 * "[FUNC N #NAME]" for the calls on a named database (to find its NAME).
 *
 * CW_COUNT_YIELD=1 prints at exit how many times the process called
 * sched_yield ("fault: N sched_yield calls"): a --cpu-idle replay gives way
 * to other tasks by yielding (pipeline_give_way), a default one never.
 *
 * CW_FAIL_ALLOC=N
 *     once the process computes its first alert id (its first
 *     crypto_generichash_init: libsodium's BLAKE2b serves alert ids and the
 *     audit trail only, so that call marks the start of record building),
 *     the Nth malloc, calloc or realloc after it (1-based) returns NULL with
 *     ENOMEM, once. CW_COUNT_ALLOC=1 prints at exit how many allocations
 *     followed the arming ("fault: N allocations after arming"), for
 *     choosing the range of N to try. CW_FAIL_ALLOC_ON=txn arms it at the
 *     process's first LMDB transaction instead (the read-only verbs,
 *     screen, cluster and trace, compute no alert id: what follows is their
 *     reading and the building of their answer); CW_FAIL_ALLOC_ON=opendir
 *     right after its first opendir (replay's listing of a blocks
 *     directory, before any transaction). Allocations inside jansson's
 *     json_loadb/json_loads are never failed nor counted (its parser
 *     crashes on a failed allocation: see json_loadb below).
 *     Not under ASan: its runtime defines malloc and, being first in the
 *     preload list, wins the symbol lookup, so an interposed malloc here
 *     would never be called (and calling __libc_malloc behind ASan's back
 *     would hand it blocks it cannot free). The shim built with
 *     -fsanitize=address leaves the allocators out; tests/CMakeLists.txt
 *     defines CW_FAULT_ALLOC only outside SANITIZE, and the tests that need
 *     it skip without it. glibc's __libc_* allocators are the real ones, so
 *     no dlsym (which allocates) is needed on that path. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static const struct {
    const char *name;
    int code;
} codes[] = {
    {"MDB_NOTFOUND", MDB_NOTFOUND},
    {"MDB_CORRUPTED", MDB_CORRUPTED},
    {"MDB_PAGE_NOTFOUND", MDB_PAGE_NOTFOUND},
    {"MDB_PANIC", MDB_PANIC},
    {"MDB_VERSION_MISMATCH", MDB_VERSION_MISMATCH},
    {"MDB_INVALID", MDB_INVALID},
    {"MDB_MAP_FULL", MDB_MAP_FULL},
    {"MDB_BAD_TXN", MDB_BAD_TXN},
    {"MDB_READERS_FULL", MDB_READERS_FULL},
    {"MDB_MAP_RESIZED", MDB_MAP_RESIZED},
    {"EIO", EIO},
    {"ENOSPC", ENOSPC},
    {"ENOMEM", ENOMEM},
    {"EACCES", EACCES},
    {"MDB_BAD_VALSIZE", MDB_BAD_VALSIZE},
    {"MDB_TXN_FULL", MDB_TXN_FULL},
    {"EROFS", EROFS},
    {"EINVAL", EINVAL},
    {"EAGAIN", EAGAIN},
    {"EDQUOT", EDQUOT},
};

static int parse_code(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strlen(codes[i].name) == n && strncmp(codes[i].name, s, n) == 0)
            return codes[i].code;
    return atoi(s);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Does hex text h[0..n) spell the key k? */
static bool key_is(const char *h, size_t n, const MDB_val *k)
{
    if (k == NULL || n != 2 * k->mv_size)
        return false;
    const unsigned char *b = k->mv_data;
    for (size_t i = 0; i < k->mv_size; i++)
        if (hexval(h[2 * i]) * 16 + hexval(h[2 * i + 1]) != b[i])
            return false;
    return true;
}

#define MAX_SPECS 32

/* CW_FAULT_LOG: one line per failed call, written with the system call
 * itself (this file's write() is the shim's). */
static void fault_log(const char *fn)
{
    const char *path = getenv("CW_FAULT_LOG");
    if (path == NULL)
        return;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    char line[64];
    int n = snprintf(line, sizeof line, "%s\n", fn);
    (void)syscall(SYS_write, fd, line, (size_t)n);
    (void)syscall(SYS_close, fd);
}

/* The names of the databases the process opened (mdb_dbi_open), by
 * handle, for "#NAME" entries; handles past the table or opened without a
 * name have none. */
#define MAX_DBIS 64
static char dbi_names[MAX_DBIS][32];

static const char *dbi_name(MDB_dbi dbi) { return dbi < MAX_DBIS && dbi_names[dbi][0] ? dbi_names[dbi] : NULL; }

/* Does the spec list in env var `var` fail this call of `fn` (with `key`,
 * for the keyed functions, on database `db`, NULL when unnamed or not
 * one's)? Each entry counts the calls it matches (its function, "disk" for
 * every libc write when is_disk, its key when it names one, its database
 * when it names one ("#NAME"); for a libc write, a regular file past the
 * standard streams (regular_fd) unless it says "@any"), so
 * "mdb_get:2:EIO@abcd" is the second read of that key. Sets *code. */
static bool should_fail(const char *var, const char *fn, bool is_disk, const MDB_val *key, const char *db,
                        bool regular_fd, int *code)
{
    static int counts[2][MAX_SPECS]; /* [0] CW_FAIL_MDB, [1] CW_FAIL_IO */
    int *count = counts[strcmp(var, "CW_FAIL_IO") == 0];
    const char *spec = getenv(var), *gate = getenv("CW_FAULT_WHILE");
    if (spec == NULL || (gate && access(gate, F_OK) != 0))
        return false;
    size_t fl = strlen(fn);
    bool fail = false;
    int i = 0;
    for (const char *p = spec; *p && i < MAX_SPECS; i++) {
        const char *end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        const char *c1 = memchr(p, ':', (size_t)(end - p));
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
        if (c2) {
            size_t nl = (size_t)(c1 - p);
            bool full_disk = is_disk && strncmp(fn, "pread", 5) != 0; /* a full disk fails writes, not reads */
            bool match = (nl == fl && strncmp(p, fn, fl) == 0) || (full_disk && nl == 4 && strncmp(p, "disk", 4) == 0);
            const char *hash = is_disk ? NULL : memchr(c2, '#', (size_t)(end - c2));
            const char *tail = hash ? hash : end; /* where "@HEX" ends */
            const char *at = memchr(c2, '@', (size_t)(tail - c2));
            if (match && at && !is_disk)
                match = key_is(at + 1, (size_t)(tail - at - 1), key);
            else if (match && is_disk) /* a libc write: regular files past stdio, or "@any" descriptor */
                match = at ? (size_t)(end - at - 1) == 3 && strncmp(at + 1, "any", 3) == 0 : regular_fd;
            if (match && hash) /* "#NAME": calls on that database only */
                match = db && strlen(db) == (size_t)(end - hash - 1) && strncmp(hash + 1, db, strlen(db)) == 0;
            if (match) {
                int n = atoi(c1 + 1), call = ++count[i];
                bool from = c2[-1] == '+';
                if (!fail && (call == n || (from && call >= n))) {
                    *code = parse_code(c2 + 1, (size_t)((at ? at : tail) - c2 - 1));
                    fail = true;
                    fault_log(fn);
                }
            }
        }
        p = *end ? end + 1 : end;
    }
    return fail;
}

static void trace_db(const char *fn, int n, const char *db)
{
    const char *t = getenv("CW_TRACE_MDB");
    if (t && db && strcmp(t, "db") == 0)
        fprintf(stderr, "[%s %d #%s]\n", fn, n, db);
    else if (t)
        fprintf(stderr, "[%s %d]\n", fn, n);
}

static void trace(const char *fn, int n) { trace_db(fn, n, NULL); }

#define REAL(fn) static __typeof__(fn) *real; if (real == NULL) real = (__typeof__(fn) *)dlsym(RTLD_NEXT, #fn)

/* The counters are plain ints: the programs under test make their LMDB
 * calls from one thread at a time, and a test needs exact numbering. */
#define MDB_FAULT(fn, key, db)                                                                                         \
    static int calls;                                                                                                  \
    int code;                                                                                                          \
    trace_db(#fn, ++calls, db);                                                                                        \
    if (should_fail("CW_FAIL_MDB", #fn, false, key, db, false, &code))                                                 \
        return code;

int mdb_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data)
{
    REAL(mdb_get);
    MDB_FAULT(mdb_get, key, dbi_name(dbi))
    return real(txn, dbi, key, data);
}

int mdb_cursor_get(MDB_cursor *c, MDB_val *key, MDB_val *data, MDB_cursor_op op)
{
    REAL(mdb_cursor_get);
    MDB_FAULT(mdb_cursor_get, NULL, dbi_name(mdb_cursor_dbi(c)))
    return real(c, key, data, op);
}

int mdb_cursor_open(MDB_txn *txn, MDB_dbi dbi, MDB_cursor **c)
{
    REAL(mdb_cursor_open);
    MDB_FAULT(mdb_cursor_open, NULL, dbi_name(dbi))
    return real(txn, dbi, c);
}

int mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned flags)
{
    REAL(mdb_put);
    MDB_FAULT(mdb_put, key, dbi_name(dbi))
    return real(txn, dbi, key, data, flags);
}

int mdb_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data)
{
    REAL(mdb_del);
    MDB_FAULT(mdb_del, key, dbi_name(dbi))
    return real(txn, dbi, key, data);
}

static void alloc_arm_at_txn(void); /* CW_FAIL_ALLOC_ON=txn, below */

int mdb_txn_begin(MDB_env *env, MDB_txn *parent, unsigned flags, MDB_txn **txn)
{
    REAL(mdb_txn_begin);
    alloc_arm_at_txn();
    MDB_FAULT(mdb_txn_begin, NULL, NULL)
    return real(env, parent, flags, txn);
}

int mdb_env_open(MDB_env *env, const char *path, unsigned flags, mdb_mode_t mode)
{
    REAL(mdb_env_open);
    MDB_FAULT(mdb_env_open, NULL, NULL)
    return real(env, path, flags, mode);
}

int mdb_dbi_open(MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *dbi)
{
    REAL(mdb_dbi_open);
    MDB_FAULT(mdb_dbi_open, NULL, NULL)
    int rc = real(txn, name, flags, dbi);
    if (rc == 0 && name && *dbi < MAX_DBIS) /* remembered for "#NAME" */
        snprintf(dbi_names[*dbi], sizeof dbi_names[*dbi], "%s", name);
    return rc;
}

int mdb_stat(MDB_txn *txn, MDB_dbi dbi, MDB_stat *st)
{
    REAL(mdb_stat);
    MDB_FAULT(mdb_stat, NULL, dbi_name(dbi))
    return real(txn, dbi, st);
}

int mdb_txn_commit(MDB_txn *txn)
{
    REAL(mdb_txn_commit);
    static int calls;
    calls++;
    const char *at = getenv("CW_FAIL_COMMIT");
    if (getenv("CW_TRACE_COMMIT"))
        fprintf(stderr, "[commit %d]\n", calls);
    trace("mdb_txn_commit", calls);
    int code;
    if (at && atoi(at) == calls)
        code = MDB_MAP_FULL;
    else if (!should_fail("CW_FAIL_MDB", "mdb_txn_commit", false, NULL, NULL, false, &code))
        return real(txn);
    mdb_txn_abort(txn);
    return code;
}

/* ---- libc writes to regular files ---- */

static bool regular(int fd)
{
    struct stat st;
    return fd > 2 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

#define IO_FAULT(fn, fd)                                                                                               \
    static int calls;                                                                                                  \
    int code;                                                                                                          \
    bool reg = regular(fd);                                                                                            \
    if (reg)                                                                                                           \
        trace(#fn, ++calls);                                                                                           \
    if (should_fail("CW_FAIL_IO", #fn, true, NULL, NULL, reg, &code)) {                                                \
        errno = code;                                                                                                  \
        return -1;                                                                                                     \
    }

ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(write);
    IO_FAULT(write, fd)
    return real(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    REAL(pwrite);
    IO_FAULT(pwrite, fd)
    return real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    REAL(pwrite64);
    IO_FAULT(pwrite64, fd)
    return real(fd, buf, n, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    REAL(pwritev);
    IO_FAULT(pwritev, fd)
    return real(fd, iov, cnt, off);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    REAL(pread);
    IO_FAULT(pread, fd)
    return real(fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
    REAL(pread64);
    IO_FAULT(pread64, fd)
    return real(fd, buf, n, off);
}

int ftruncate(int fd, off_t len)
{
    REAL(ftruncate);
    IO_FAULT(ftruncate, fd)
    return real(fd, len);
}

int fsync(int fd)
{
    REAL(fsync);
    IO_FAULT(fsync, fd)
    return real(fd);
}

int fdatasync(int fd)
{
    REAL(fdatasync);
    IO_FAULT(fdatasync, fd)
    return real(fd);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    REAL(fallocate);
    IO_FAULT(fallocate, fd)
    return real(fd, mode, off, len);
}

int posix_fallocate(int fd, off_t off, off_t len)
{
    REAL(posix_fallocate);
    static int calls;
    int code;
    bool reg = regular(fd);
    if (reg)
        trace("posix_fallocate", ++calls);
    if (should_fail("CW_FAIL_IO", "posix_fallocate", true, NULL, NULL, reg, &code))
        return code;
    return real(fd, off, len);
}

/* ---- opens for writing refused (CW_FAIL_OPEN) ---- */

/* Does CW_FAIL_OPEN refuse opening path with flags? Sets *code. */
static bool open_fails(const char *path, int flags, int *code)
{
    const char *spec = getenv("CW_FAIL_OPEN");
    if (spec == NULL || path == NULL || !(flags & (O_WRONLY | O_RDWR | O_CREAT)))
        return false;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (const char *p = spec; *p;) {
        const char *end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (colon && strlen(base) == (size_t)(colon - p) && strncmp(p, base, strlen(base)) == 0) {
            *code = parse_code(colon + 1, (size_t)(end - colon - 1));
            fault_log("open");
            return true;
        }
        p = *end ? end + 1 : end;
    }
    return false;
}

#define OPEN_BODY(call)                                                                                                \
    mode_t mode = 0;                                                                                                   \
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) { /* as glibc: a mode was passed */                     \
        va_list ap;                                                                                                    \
        va_start(ap, flags);                                                                                           \
        mode = (mode_t)va_arg(ap, int);                                                                                \
        va_end(ap);                                                                                                    \
    }                                                                                                                  \
    int code;                                                                                                          \
    if (open_fails(path, flags, &code)) {                                                                              \
        errno = code;                                                                                                  \
        return -1;                                                                                                     \
    }                                                                                                                  \
    return call;

int open(const char *path, int flags, ...)
{
    REAL(open);
    OPEN_BODY(real(path, flags, mode))
}

int open64(const char *path, int flags, ...)
{
    REAL(open64);
    OPEN_BODY(real(path, flags, mode))
}

int openat(int dirfd, const char *path, int flags, ...)
{
    REAL(openat);
    OPEN_BODY(real(dirfd, path, flags, mode))
}

/* ---- sched_yield counted (CW_COUNT_YIELD; under ASan too) ---- */

static long yields;

static void report_yields(void) { fprintf(stderr, "fault: %ld sched_yield calls\n", yields); }

__attribute__((constructor)) static void count_yields(void)
{
    if (getenv("CW_COUNT_YIELD"))
        atexit(report_yields); /* printed even when there was none */
}

int sched_yield(void)
{
    static int (*real)(void);
    if (real == NULL)
        real = (int (*)(void))dlsym(RTLD_NEXT, "sched_yield");
    __atomic_fetch_add(&yields, 1, __ATOMIC_RELAXED);
    return real();
}

/* ---- allocations once record building starts (not under ASan) ---- */

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CW_FAULT_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define CW_FAULT_ASAN 1
#endif

#ifndef CW_FAULT_ASAN
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

static int armed;
static long after, fail_at = -1;
static int in_json_load; /* inside jansson's parser: see json_loadb below */

static int alloc_fails(void)
{
    if (!armed || in_json_load)
        return 0;
    long n = __atomic_add_fetch(&after, 1, __ATOMIC_RELAXED);
    if (n == fail_at) {
        errno = ENOMEM;
        return 1;
    }
    return 0;
}

void *malloc(size_t n) { return alloc_fails() ? NULL : __libc_malloc(n); }

void *calloc(size_t n, size_t size) { return alloc_fails() ? NULL : __libc_calloc(n, size); }

void *realloc(void *p, size_t n)
{
    /* realloc(p, 0) frees: not an allocation that can fail */
    return n && alloc_fails() ? NULL : __libc_realloc(p, n);
}

static void report(void)
{
    if (getenv("CW_COUNT_ALLOC"))
        fprintf(stderr, "fault: %ld allocations after arming\n", after);
}

static void arm(void)
{
    const char *n = getenv("CW_FAIL_ALLOC");
    fail_at = n ? atol(n) : -1;
    atexit(report);
    armed = 1;
}

typedef struct crypto_generichash_blake2b_state crypto_generichash_state;

int crypto_generichash_init(crypto_generichash_state *state, const unsigned char *key, const size_t keylen,
                            const size_t outlen)
{
    static int (*real)(crypto_generichash_state *, const unsigned char *, size_t, size_t);
    if (real == NULL)
        real = (int (*)(crypto_generichash_state *, const unsigned char *, size_t, size_t))dlsym(
            RTLD_NEXT, "crypto_generichash_init");
    if (!armed && getenv("CW_FAIL_ALLOC_ON") == NULL)
        arm();
    return real(state, key, keylen, outlen);
}

/* jansson 2.14's parser ignores a failed growth of its token buffer (lex_save)
 * and then asserts or reads past what it saved: an allocation failing inside
 * json_loadb/json_loads crashes libjansson itself, whatever its caller does.
 * That is jansson's, not chainwatch's to handle, so allocations inside its
 * parser are neither failed nor counted: the positions CW_FAIL_ALLOC tries
 * are chainwatch's own allocations and the builders'. */
typedef struct json_t json_t;
typedef struct json_error_t json_error_t;

json_t *json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error)
{
    static json_t *(*real)(const char *, size_t, size_t, json_error_t *);
    if (real == NULL) {
        in_json_load++; /* dlsym may allocate */
        real = (json_t * (*)(const char *, size_t, size_t, json_error_t *)) dlsym(RTLD_NEXT, "json_loadb");
        in_json_load--;
    }
    in_json_load++;
    json_t *j = real(buffer, buflen, flags, error);
    in_json_load--;
    return j;
}

json_t *json_loads(const char *input, size_t flags, json_error_t *error)
{
    static json_t *(*real)(const char *, size_t, json_error_t *);
    if (real == NULL) {
        in_json_load++;
        real = (json_t * (*)(const char *, size_t, json_error_t *)) dlsym(RTLD_NEXT, "json_loads");
        in_json_load--;
    }
    in_json_load++;
    json_t *j = real(input, flags, error);
    in_json_load--;
    return j;
}

static void alloc_arm_at_txn(void)
{
    const char *on = getenv("CW_FAIL_ALLOC_ON");
    if (!armed && on && strcmp(on, "txn") == 0)
        arm();
}

DIR *opendir(const char *name)
{
    REAL(opendir);
    DIR *d = real(name);
    const char *on = getenv("CW_FAIL_ALLOC_ON");
    if (!armed && on && strcmp(on, "opendir") == 0)
        arm(); /* after: the DIR's own allocation is not counted */
    return d;
}
#else
static void alloc_arm_at_txn(void) {}
#endif

/* ---- a slow listen() (CW_DELAY_LISTEN) ---- */

int listen(int fd, int backlog)
{
    REAL(listen);
    const char *v = getenv("CW_DELAY_LISTEN");
    long ms = v ? strtol(v, NULL, 10) : 0;
    if (ms > 0) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    return real(fd, backlog);
}

/* ---- a small send buffer on accepted sockets (CW_SNDBUF) ---- */

static int small_sndbuf(int fd)
{
    const char *v = getenv("CW_SNDBUF");
    int n = v ? atoi(v) : 0;
    if (fd >= 0 && n > 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof n);
    return fd;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    REAL(accept);
    return small_sndbuf(real(fd, addr, len));
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    REAL(accept4);
    return small_sndbuf(real(fd, addr, len, flags));
}
