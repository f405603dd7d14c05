#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np: a writer (map growth) is not starved by readers */
#include "store.h"

#include "bloom.h"
#include "overlay.h"
#include "chains/hash.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <fcntl.h>
#include <unistd.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

static const struct {
    const char *name;
    unsigned flags;
} db_defs[STORE_DB_COUNT] = {
    [STORE_WL_ADDR] = {"wl_addr", MDB_DUPSORT},
    [STORE_WL_ENTITY] = {"wl_entity", 0},
    [STORE_WL_META] = {"wl_meta", 0},
    [STORE_WL_DIFF] = {"wl_diff", 0},
    [STORE_UTXO] = {"utxo", 0},
    [STORE_UNDO] = {"undo", 0},
    [STORE_CHAIN] = {"chain", 0},
    [STORE_CURSOR] = {"cursor", 0},
    [STORE_ALERTS] = {"alerts", 0},
    [STORE_OUTBOX] = {"outbox", 0},
    [STORE_CLUSTER] = {"cluster", 0},
    [STORE_CLUSTER_INFO] = {"cluster_info", 0},
    [STORE_CLUSTER_DESIG] = {"cluster_desig", 0},
    [STORE_TAINT] = {"taint", 0},
    [STORE_EXPOSURE] = {"exposure", 0},
    [STORE_JOURNAL] = {"journal", 0},
    [STORE_ACCT_EXPOSURE] = {"acct_exposure", 0},
    [STORE_KEYLINK] = {"keylink", 0},
    [STORE_CASES] = {"cases", 0},
    [STORE_CASE_AUDIT] = {"case_audit", 0},
    [STORE_HOOKS] = {"hooks", 0},
    [STORE_HOOK_STATE] = {"hook_state", 0},
    [STORE_RULE_ADDR] = {"rule_addr", 0},
    [STORE_RULE_TRACE] = {"rule_trace", 0},
    [STORE_RULE_ORIGIN] = {"rule_origin", 0},
    [STORE_RULE_PAIR] = {"rule_pair", 0},
};

/* What a store and its views share: the environment's map-change lock.
 * Every open transaction of a store holds it shared (taken once per store,
 * at its first open transaction); changing the map size (store_grow, and
 * adopting another process's growth) holds it exclusive, since LMDB allows
 * that only while no transaction of the process is open. */
typedef struct {
    pthread_rwlock_t lock;
    int refs; /* the base store and its views; under views_mu */
    /* LMDB lost the map resizing it (map_lost): the errno, and the size it
     * failed to map; written under the lock exclusive, read under it */
    int lost;
    size_t lost_size;
} store_shared;
static pthread_mutex_t views_mu = PTHREAD_MUTEX_INITIALIZER;

struct cw_store {
    MDB_env *env;
    store_shared *sh;
    int open_txns;    /* this store's open transactions (one thread's) */
    bool view;        /* store_view_open: shares env, does not close it */
    MDB_txn *idle;    /* a view's reset read transaction, renewed by the next read begin */
    MDB_dbi dbi[STORE_DB_COUNT];
    bloom *filter[STORE_DB_COUNT]; /* store_filter_enable: absent keys answered from memory */
    uint64_t guard_fp[STORE_DB_COUNT]; /* wl_addr's filter: the fingerprint of wl_meta it was built at */
    bool readonly;
    unsigned format; /* store_format */
    size_t map_size;
    char path[4096];
};

struct store_txn {
    cw_store *s;
    MDB_txn *txn;
    overlay *ov;      /* pending writes of the write-back databases (store_write_back) */
    uint32_t ov_dbs;  /* which: 1 << db */
    bool guard_checked; /* wl_addr's filter was checked against wl_meta in this transaction */
    bool write;
    uint32_t deleted;   /* 1 << db: keys deleted straight in LMDB (an abort brings them back) */
    void (*give_way)(void *ctx); /* store_txn_give_way */
    void *give_way_ctx;
};

struct store_cursor {
    MDB_cursor *cur;
    cw_store *s;
    int rc; /* the LMDB error that ended the walk early (not MDB_NOTFOUND), else 0 */
    store_db db; /* named in its errors */
};

static cw_code lmdb_fail_text(cw_err *err, int rc, const char *what, const cw_store *s);

/* LMDB's message plus what the user can do about it; err->cause is rc, for
 * store_error_passes. */
static cw_code lmdb_fail(cw_err *err, int rc, const char *what, const cw_store *s)
{
    cw_code c = lmdb_fail_text(err, rc, what, s);
    if (err)
        err->cause = rc;
    return c;
}

static cw_code lmdb_fail_text(cw_err *err, int rc, const char *what, const cw_store *s)
{
    const char *hint = "";
    cw_code code = CW_ESTORE;
    switch (rc) {
    case MDB_MAP_FULL:
        code = CW_EFULL;
        hint = " (the map is full: it is grown automatically; if this persists, pass a larger --map-size)";
        break;
    case MDB_READERS_FULL:
        hint = " (too many readers: stop other chainwatch processes using this datadir)";
        break;
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_PANIC:
    case MDB_BAD_TXN:
    case MDB_BAD_DBI:
    case MDB_INCOMPATIBLE:
    case EIO:
        /* never "run init": the named databases may be there, unreadable */
        return cw_err_set(err, CW_EDAMAGED, CW_NO_OFFSET, "%s %s: %s: %s (%s)", STORE_DAMAGED, s ? s->path : "", what,
                          mdb_strerror(rc), STORE_DAMAGED_HINT);
    case EACCES:
        hint = " (permission denied: check the datadir's owner and mode)";
        break;
    case ENOSPC:
        hint = " (the disk is full: free space on it and run again)";
        break;
    case MDB_BAD_VALSIZE:
        hint = " (a key or value is too large for the store)";
        break;
    default:
        break;
    }
    return cw_err_set(err, code, CW_NO_OFFSET, "store %s: %s: %s%s", s ? s->path : "", what, mdb_strerror(rc), hint);
}

/* Which CW_ESTORE errors pass (store.h). By LMDB's and the kernel's
 * codes, the cause lmdb_fail keeps:
 *   pass: a resource short now, that other processes or the operator free
 *     while this one waits, the request unchanged: MDB_READERS_FULL (reader
 *     slots, freed as other readers end; mdb_reader_check clears dead
 *     ones), ENOSPC and EDQUOT (a full disk or quota: LMDB aborts the
 *     transaction whole, nothing of it written), ENOMEM (memory LMDB could
 *     not allocate), EAGAIN, EINTR, EBUSY (a call to try again), and
 *     MDB_MAP_RESIZED (another process grew the map while a transaction of
 *     this one was open: the next begin adopts the new size).
 *   do not: everything else, as it recurs identically on every pass:
 *     MDB_BAD_VALSIZE (a key or value too large: the same record is too
 *     large every time), MDB_TXN_FULL, MDB_DBS_FULL, MDB_CURSOR_FULL,
 *     MDB_TLS_FULL, MDB_PAGE_FULL, MDB_BAD_RSLOT (limits and misuse fixed
 *     in the code or the environment), EINVAL, EACCES, EPERM and EROFS (a
 *     permission or a read-only filesystem: the descriptors this process
 *     holds do not change), the map lost or not grown for want of address
 *     space (cause 0: a restart or a new limit is needed), and any code
 *     not named here: a deliverer that stops on it is restarted by its
 *     service manager, one that waits on it would wait for ever.
 * EIO is not CW_ESTORE at all: lmdb_fail reports it as damage, as LMDB
 * cannot tell a passing read error from a bad sector, and after a failed
 * write the kernel may have dropped the pages it could not write (a later
 * fsync can then succeed without them): nothing read or written after it
 * is trusted. */
bool store_error_passes(const cw_err *err)
{
    if (err == NULL || err->code != CW_ESTORE)
        return false;
    switch (err->cause) {
    case MDB_READERS_FULL:
    case MDB_MAP_RESIZED:
    case ENOSPC:
    case EDQUOT:
    case ENOMEM:
    case EAGAIN:
    case EINTR:
    case EBUSY:
        return true;
    default:
        return false;
    }
}

static store_fatal_fn fatal_fn;

void store_set_fatal(store_fatal_fn fn) { fatal_fn = fn; }

/* LMDB's own consistency checks (mdb_assert) end in abort() when they fail:
 * damage it cannot return as an error. The process's fatal function says
 * so and ends the process first. */
static void on_lmdb_assert(MDB_env *env, const char *what)
{
    if (fatal_fn == NULL)
        return; /* LMDB aborts */
    const char *path = "";
    mdb_env_get_path(env, &path);
    char msg[CW_ERR_MSG_MAX + 256];
    snprintf(msg, sizeof msg, "%s %s: LMDB found an inconsistency it cannot recover from (%s) (%s)", STORE_DAMAGED,
             path ? path : "", what, STORE_DAMAGED_HINT);
    fatal_fn(msg);
}

bool store_default_datadir(char *buf, size_t cap)
{
    const char *home = getenv("HOME");
    if (home == NULL || home[0] == '\0')
        return false;
    int n = snprintf(buf, cap, "%s/.chainwatch", home);
    return n > 0 && (size_t)n < cap;
}

/* LMDB maps the file: a page past its end is a SIGBUS at the first read,
 * not an error. A file cut short (a copy interrupted, a full disk, a crash
 * of the filesystem) must be refused before any page is touched. */
static cw_code check_size(cw_store *s, cw_err *err)
{
    MDB_envinfo info;
    MDB_stat st;
    struct stat fs;
    int rc;
    if ((rc = mdb_env_info(s->env, &info)) || (rc = mdb_env_stat(s->env, &st)))
        return lmdb_fail(err, rc, "open", s);
    if (stat(s->path, &fs) != 0)
        return cw_err_set(err, CW_ESTORE, CW_NO_OFFSET, "store %s: %s", s->path, strerror(errno));
    uint64_t need = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    if ((uint64_t)fs.st_size < need)
        return cw_err_set(err, CW_EDAMAGED, CW_NO_OFFSET,
                          "%s %s: the file is %llu bytes but its pages reach %llu: it was cut short (%s)",
                          STORE_DAMAGED, s->path, (unsigned long long)fs.st_size, (unsigned long long)need,
                          STORE_DAMAGED_HINT);
    return CW_OK;
}

/* LMDB sizes its lock file with ftruncate and then writes it through a
 * mapping: on a full disk (a full tmpfs) that write is a SIGBUS, not an
 * error. Giving the file its blocks first turns that into ENOSPC here. */
#define LOCK_FILE_BYTES 8192 /* LMDB's size for its default 126 readers */
static cw_code reserve_lock_file(const char *datadir, bool readonly, cw_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/store.mdb-lock", datadir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) /* read only on a read-only datadir: LMDB says what it can do */
        return readonly ? CW_OK : cw_err_set(err, CW_ESTORE, CW_NO_OFFSET, "cannot create %s: %s", path, strerror(errno));
    struct stat st;
    int rc = fstat(fd, &st) != 0 ? errno : 0;
    if (rc == 0 && st.st_blocks * 512 < LOCK_FILE_BYTES)
        rc = posix_fallocate(fd, 0, LOCK_FILE_BYTES);
    close(fd);
    if (rc == ENOSPC)
        return cw_err_set(err, CW_ESTORE, CW_NO_OFFSET, "cannot make %s: the disk is full: free space on it and run again",
                          path);
    if (rc && rc != EOPNOTSUPP && rc != EINVAL)
        return cw_err_set(err, CW_ESTORE, CW_NO_OFFSET, "cannot make %s: %s", path, strerror(rc));
    return CW_OK;
}

static bool known_name(const void *p, size_t n)
{
    for (int i = 0; i < STORE_DB_COUNT; i++)
        if (strlen(db_defs[i].name) == n && memcmp(db_defs[i].name, p, n) == 0)
            return true;
    return false;
}

/* A named database is missing. That is an older datadir only when the
 * store's directory of databases (LMDB's main database) reads through and
 * names nothing this version does not know; a name damaged in place, or a
 * directory that does not read, is damage, and "run init" would hide it. */
static cw_code check_names(MDB_txn *txn, cw_store *s, cw_err *err)
{
    MDB_cursor *c;
    MDB_dbi main;
    int rc = mdb_dbi_open(txn, NULL, 0, &main);
    if (rc == 0)
        rc = mdb_cursor_open(txn, main, &c);
    if (rc)
        return lmdb_fail(err, rc, "databases", s);
    MDB_val k, v;
    for (MDB_cursor_op op = MDB_FIRST; (rc = mdb_cursor_get(c, &k, &v, op)) == 0; op = MDB_NEXT) {
        if (!known_name(k.mv_data, k.mv_size)) {
            mdb_cursor_close(c);
            return cw_err_set(err, CW_EDAMAGED, CW_NO_OFFSET,
                              "%s %s: it holds a database named '%.*s' that chainwatch never made (%s)", STORE_DAMAGED,
                              s->path, (int)(k.mv_size > 64 ? 64 : k.mv_size), (const char *)k.mv_data,
                              STORE_DAMAGED_HINT);
        }
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? CW_OK : lmdb_fail(err, rc, "databases", s);
}

/* The store's format (store.h, "Format version"), checked in the open's
 * transaction before any module reads a record. present[db] is false for a
 * database a read-only open did not find. A store without the format key
 * and without records is new (or made by an `init` before versioning, which
 * wrote nothing): a writable open stamps it. */
static cw_code check_format(MDB_txn *txn, cw_store *s, const bool *present, cw_err *err)
{
    MDB_val k = {strlen(STORE_FORMAT_KEY), (void *)STORE_FORMAT_KEY}, v;
    int rc = present[STORE_CURSOR] ? mdb_get(txn, s->dbi[STORE_CURSOR], &k, &v) : MDB_NOTFOUND;
    if (rc == 0) {
        if (v.mv_size != 8)
            return cw_err_set(err, CW_EDAMAGED, CW_NO_OFFSET, "%s %s: its format record is %zu bytes, not 8 (%s)",
                              STORE_DAMAGED, s->path, v.mv_size, STORE_DAMAGED_HINT);
        uint64_t f = 0;
        for (int i = 7; i >= 0; i--)
            f = f << 8 | ((const uint8_t *)v.mv_data)[i];
        if (f == STORE_FORMAT) {
            s->format = STORE_FORMAT;
            return CW_OK;
        }
        if (f > STORE_FORMAT)
            return cw_err_set(err, CW_EVERSION, CW_NO_OFFSET,
                              "store %s was written by a newer chainwatch (format %llu; this one reads %d): "
                              "refused, it would misread it",
                              s->path, (unsigned long long)f, STORE_FORMAT);
        /* an older versioned format: no upgrade exists yet (format 1 is the first) */
        return cw_err_set(err, CW_EVERSION, CW_NO_OFFSET,
                          "store %s was written by an older chainwatch (format %llu; this one reads %d and has no "
                          "upgrade from it): refused, it would misread it",
                          s->path, (unsigned long long)f, STORE_FORMAT);
    }
    if (rc != MDB_NOTFOUND)
        return lmdb_fail(err, rc, "format", s);
    for (int i = 0; i < STORE_DB_COUNT; i++) {
        MDB_stat st;
        if (!present[i])
            continue;
        if ((rc = mdb_stat(txn, s->dbi[i], &st)))
            return lmdb_fail(err, rc, db_defs[i].name, s);
        if (st.ms_entries > 0)
            return cw_err_set(err, CW_EVERSION, CW_NO_OFFSET,
                              "store %s was written by an earlier chainwatch (no store format; this one reads format "
                              "%d): refused, its pattern-rule records differ and would misread",
                              s->path, STORE_FORMAT);
    }
    if (s->readonly)
        return CW_OK; /* format 0: nothing to misread; the first writable open stamps it */
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)STORE_FORMAT >> (8 * i));
    v = (MDB_val){8, b};
    if ((rc = mdb_put(txn, s->dbi[STORE_CURSOR], &k, &v, 0)))
        return lmdb_fail(err, rc, "writing its format", s);
    s->format = STORE_FORMAT;
    return CW_OK;
}

cw_code store_open(const char *datadir, size_t map_size, bool readonly, cw_store **out, cw_err *err)
{
    struct stat st;
    char file[4096];
    snprintf(file, sizeof file, "%s/store.mdb", datadir);
    if (stat(datadir, &st) != 0) {
        if (readonly || errno != ENOENT)
            return cw_err_set(err, CW_ESTORE, CW_NO_OFFSET, "datadir %s: %s%s", datadir, strerror(errno),
                              readonly ? " (run 'chainwatch init' or import a watchlist first)" : "");
        if (mkdir(datadir, 0700) != 0)
            return cw_err_set(err, CW_ESTORE, CW_NO_OFFSET, "cannot create datadir %s: %s", datadir, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        return cw_err_set(err, CW_ESTORE, CW_NO_OFFSET, "datadir %s is not a directory", datadir);
    } else if (readonly && stat(file, &st) != 0) {
        return cw_err_set(err, CW_ESTORE, CW_NO_OFFSET,
                          "no store in %s (import a watchlist first: chainwatch watchlist import ... --datadir %s)",
                          datadir, datadir);
    } else if (stat(file, &st) == 0 && st.st_size == 0) {
        /* LMDB would say "No such file", or (writing) make a new empty store
         * in its place: a watch screening against no watchlist at all. The
         * file is there, empty: an init that failed, a copy cut at once. */
        return cw_err_set(err, CW_EDAMAGED, CW_NO_OFFSET, "%s %s: the file is empty (%s, or run 'chainwatch init "
                          "--datadir %s' if this datadir never held data)", STORE_DAMAGED, file, STORE_DAMAGED_HINT,
                          datadir);
    }
    cw_code lrc = reserve_lock_file(datadir, readonly, err);
    if (lrc)
        return lrc;
    cw_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory opening the store");
    snprintf(s->path, sizeof s->path, "%s/store.mdb", datadir);
    s->readonly = readonly;
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    /* writer first: growing the map waits only for the reads already open
     * (each store takes the lock once however many transactions it has
     * open, so no thread ever read-locks twice: no deadlock behind a
     * waiting writer) */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    bool lock_ok = (s->sh = calloc(1, sizeof *s->sh)) != NULL && pthread_rwlock_init(&s->sh->lock, &ra) == 0;
    pthread_rwlockattr_destroy(&ra);
    if (!lock_ok) {
        free(s->sh);
        free(s);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory opening the store");
    }
    s->sh->refs = 1;
    int rc = mdb_env_create(&s->env);
    if (rc) {
        pthread_rwlock_destroy(&s->sh->lock);
        free(s->sh);
        free(s);
        return lmdb_fail(err, rc, "create", NULL);
    }
    mdb_env_set_assert(s->env, on_lmdb_assert);
    if (map_size == 0)
        map_size = STORE_DEFAULT_MAP_SIZE;
    if (stat(s->path, &st) == 0 && (size_t)st.st_size > map_size)
        map_size = (size_t)st.st_size;
    s->map_size = map_size;
    if ((rc = mdb_env_set_mapsize(s->env, map_size)) || (rc = mdb_env_set_maxdbs(s->env, 32)) ||
        /* NOMETASYNC: one fsync per commit instead of two. A system crash may
         * undo the last commit, never corrupt; the monitor's outbox and the
         * alert file's tail check make that replay exact. */
        (rc = mdb_env_open(s->env, s->path,
                           MDB_NOSUBDIR | MDB_NOTLS | MDB_NOMETASYNC | (readonly ? MDB_RDONLY : 0), 0600))) {
        cw_code c = lmdb_fail(err, rc, "open", s);
        mdb_env_close(s->env);
        pthread_rwlock_destroy(&s->sh->lock);
        free(s->sh);
        free(s);
        return c;
    }
    if ((rc = check_size(s, err))) {
        store_close(s);
        return rc;
    }
    int dead;
    mdb_reader_check(s->env, &dead); /* clear slots of processes that died holding a read txn */
    /* Adopt a map grown by another process since the file was made. */
    MDB_envinfo info;
    if (mdb_env_info(s->env, &info) == 0 && info.me_mapsize > s->map_size)
        s->map_size = info.me_mapsize;

    MDB_txn *txn;
    if ((rc = mdb_txn_begin(s->env, NULL, readonly ? MDB_RDONLY : 0, &txn))) {
        cw_code c = lmdb_fail(err, rc, "begin", s);
        store_close(s);
        return c;
    }
    bool present[STORE_DB_COUNT];
    int missing = -1; /* the first database a read-only open did not find */
    for (int i = 0; i < STORE_DB_COUNT; i++) {
        rc = mdb_dbi_open(txn, db_defs[i].name, db_defs[i].flags | (readonly ? 0 : MDB_CREATE), &s->dbi[i]);
        present[i] = rc == 0;
        if (rc == MDB_NOTFOUND && readonly) {
            if (missing < 0)
                missing = i;
            continue;
        }
        if (rc) {
            cw_code c = lmdb_fail(err, rc, db_defs[i].name, s);
            mdb_txn_abort(txn);
            store_close(s);
            return c;
        }
    }
    /* the format first: a store of another format may lack a database, and
     * "run init" would be the wrong advice for it */
    cw_code fc = check_format(txn, s, present, err);
    if (fc == CW_OK && missing >= 0) {
        fc = check_names(txn, s, err);
        if (fc == CW_OK)
            fc = cw_err_set(err, CW_ENOTFOUND, CW_NO_OFFSET,
                            "store %s has no %s database yet (run 'chainwatch init --datadir %s' to add it, "
                            "or import a watchlist)",
                            datadir, db_defs[missing].name, datadir);
    }
    if (fc) {
        mdb_txn_abort(txn);
        store_close(s);
        return fc;
    }
    if ((rc = mdb_txn_commit(txn))) {
        cw_code c = lmdb_fail(err, rc, "commit", s);
        store_close(s);
        return c;
    }
    *out = s;
    return CW_OK;
}

void store_close(cw_store *s)
{
    if (s == NULL)
        return;
    if (s->idle)
        mdb_txn_abort(s->idle);
    if (!s->view)
        mdb_env_close(s->env);
    for (int i = 0; i < STORE_DB_COUNT; i++)
        bloom_free(s->filter[i]);
    pthread_mutex_lock(&views_mu);
    bool last = --s->sh->refs == 0;
    pthread_mutex_unlock(&views_mu);
    if (last) {
        pthread_rwlock_destroy(&s->sh->lock);
        free(s->sh);
    }
    free(s);
}

cw_code store_view_open(cw_store *base, bool writable, cw_store **out, cw_err *err)
{
    if (writable && base->readonly)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "store %s is open read-only: no writable view", base->path);
    cw_store *v = calloc(1, sizeof *v);
    if (v == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory opening a view of the store");
    v->env = base->env;
    v->sh = base->sh;
    v->view = true;
    memcpy(v->dbi, base->dbi, sizeof v->dbi);
    v->readonly = !writable;
    v->format = base->format;
    v->map_size = base->map_size;
    memcpy(v->path, base->path, sizeof v->path);
    pthread_mutex_lock(&views_mu);
    base->sh->refs++;
    pthread_mutex_unlock(&views_mu);
    *out = v;
    return CW_OK;
}

/* The map-change lock, shared, from a store's first open transaction to
 * its last. */
static void txn_enter(cw_store *s)
{
    if (s->open_txns++ == 0)
        pthread_rwlock_rdlock(&s->sh->lock);
}
static void txn_leave(cw_store *s)
{
    if (--s->open_txns == 0)
        pthread_rwlock_unlock(&s->sh->lock);
}

unsigned store_format(const cw_store *s) { return s->format; }

const char *store_path(const cw_store *s) { return s->path; }

cw_code store_damaged(const store_txn *t, cw_err *err, const char *fmt, ...)
{
    char what[CW_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return cw_err_set(err, CW_EDAMAGED, CW_NO_OFFSET, "%s %s%s%s (%s)", STORE_DAMAGED, t ? t->s->path : "",
                      t ? ": " : "", what, STORE_DAMAGED_HINT);
}
const char *store_db_name(store_db db) { return db < STORE_DB_COUNT ? db_defs[db].name : "?"; }
size_t store_map_size(const cw_store *s) { return s->map_size; }

/* LMDB (0.9) resizes a map by unmapping it and mapping the new size; when
 * that mmap fails, mdb_env_set_mapsize returns the error with the
 * environment left without a map, and any later call reads unmapped
 * memory (SIGSEGV). So the growth is tried first in address space of its
 * own, while the map is whole: a process whose address space is capped
 * (ulimit -v, systemd's LimitAS=) is refused here and keeps its map.
 * more is what the resize adds to the process (the old map goes first). */
static bool room_for_map(size_t more)
{
    void *p = mmap(NULL, more, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return false;
    munmap(p, more);
    return true;
}

/* A resize that lost the map anyway (the room taken by another thread in
 * between): every later transaction of the store and its views is
 * refused with this, never run on an environment without a map. */
static cw_code map_lost(const cw_store *s, cw_err *err)
{
    return cw_err_set(err, CW_ESTORE, CW_NO_OFFSET,
                      "store %s: the map was lost resizing it to %zu bytes (%s): restart chainwatch (if its "
                      "address space is limited, ulimit -v or systemd's LimitAS=, raise the limit)",
                      s->path, s->sh->lost_size, strerror(s->sh->lost));
}

/* mdb_env_set_mapsize(size) under the lock exclusive; a failure after
 * LMDB unmapped the map is kept in sh (map_lost). */
static int set_mapsize_locked(cw_store *s, size_t size)
{
    int rc = mdb_env_set_mapsize(s->env, size);
    if (rc && rc != EINVAL) { /* EINVAL: refused before unmapping (a write transaction open) */
        s->sh->lost = rc;
        s->sh->lost_size = size;
    }
    return rc;
}

/* Doubles the map. No transaction of this process may be open: only
 * store_write calls it, between its attempts. */
static cw_code store_grow(cw_store *s, cw_err *err)
{
    size_t next = s->map_size * 2;
    if (s->open_txns)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                          "store %s: the map cannot grow while this thread has a transaction open", s->path);
    pthread_rwlock_wrlock(&s->sh->lock); /* no transaction of any view open */
    if (s->sh->lost) {
        cw_code c = map_lost(s, err);
        pthread_rwlock_unlock(&s->sh->lock);
        return c;
    }
    MDB_envinfo info;
    int rc = mdb_env_info(s->env, &info);
    if (rc == 0 && info.me_mapsize > next)
        next = info.me_mapsize; /* a view (or another process) grew it meanwhile */
    if (rc == 0 && next > info.me_mapsize && !room_for_map(next - info.me_mapsize)) {
        pthread_rwlock_unlock(&s->sh->lock);
        return cw_err_set(err, CW_ESTORE, CW_NO_OFFSET,
                          "store %s: the map cannot grow from %zu to %zu bytes: the process has no address space "
                          "for it (raise its limit, ulimit -v or systemd's LimitAS=)",
                          s->path, info.me_mapsize, next);
    }
    if (rc == 0)
        rc = set_mapsize_locked(s, next);
    bool lost = s->sh->lost != 0;
    pthread_rwlock_unlock(&s->sh->lock);
    if (lost)
        return map_lost(s, err);
    if (rc)
        return lmdb_fail(err, rc, "grow map", s);
    s->map_size = next;
    return CW_OK;
}

/* Doubles the map once the file's last page is past half of it, between
 * writes: a full map aborts a write whole and store_write runs it again,
 * and a replay's batch is up to 250,000 txs of work (it was 25% of a
 * 1,000,000-tx replay's CPU when its store crossed the 1 GiB default).
 * The map is address space, not memory or disk. Growth ahead is a saving,
 * not a promise: when it cannot happen (a transaction of this process is
 * open, LMDB refuses) the write that finds the map full still grows it,
 * or says so. */
static void store_grow_ahead(cw_store *s)
{
    MDB_envinfo info;
    MDB_stat st;
    if (s->open_txns)
        return;
    /* both read LMDB's meta pages, in the map: under the lock shared, as
     * a transaction, since another thread (a view) may be resizing it */
    pthread_rwlock_rdlock(&s->sh->lock);
    bool read = !s->sh->lost && mdb_env_info(s->env, &info) == 0 && mdb_env_stat(s->env, &st) == 0;
    pthread_rwlock_unlock(&s->sh->lock);
    if (!read)
        return;
    if (info.me_mapsize > s->map_size)
        s->map_size = info.me_mapsize; /* grown by the base or another view since */
    /* no address space for it: not tried (store_grow would take the lock
     * exclusive, at every commit, to find that out) */
    if (((uint64_t)info.me_last_pgno + 1) * st.ms_psize > s->map_size / 2 && room_for_map(s->map_size)) {
        cw_err ignored = {0}; /* a lost map is not ignored: the next begin refuses it */
        (void)store_grow(s, &ignored);
    }
}

cw_code store_write(cw_store *s, store_write_fn fn, void *ctx, cw_err *err)
{
    cw_code rc;
    for (int attempt = 1;; attempt++) {
        store_txn *t;
        if ((rc = store_begin(s, true, &t, err)))
            return rc;
        rc = fn(t, ctx, err);
        if (rc == CW_OK)
            rc = store_commit(t, err);
        else
            store_abort(t);
        if (rc == CW_OK)
            store_grow_ahead(s);
        /* a full map aborted the write whole: nothing of it is in the store */
        if (rc != CW_EFULL || attempt == STORE_WRITE_TRIES)
            return rc;
        if ((rc = store_grow(s, err)))
            return rc;
    }
}

/* Begins (or, for a view's read, renews) the LMDB transaction of t. */
static int txn_open(cw_store *s, bool write, MDB_txn **txn)
{
    if (!write && s->idle) {
        int rc = mdb_txn_renew(s->idle);
        if (rc == 0) {
            *txn = s->idle;
            s->idle = NULL;
            return 0;
        }
        mdb_txn_abort(s->idle);
        s->idle = NULL;
        if (rc != MDB_MAP_RESIZED)
            return rc;
    }
    return mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, txn);
}

cw_code store_begin(cw_store *s, bool write, store_txn **out, cw_err *err)
{
    if (write && s->readonly)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "store %s is open read-only", s->path);
    store_txn *t = malloc(sizeof *t);
    if (t == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    t->s = s;
    t->ov = NULL;
    t->ov_dbs = 0;
    t->guard_checked = false;
    t->deleted = 0;
    t->write = write;
    t->give_way = NULL;
    t->give_way_ctx = NULL;
    txn_enter(s);
    if (s->sh->lost) {
        txn_leave(s);
        free(t);
        return map_lost(s, err);
    }
    int rc = txn_open(s, write, &t->txn);
    if (rc == MDB_MAP_RESIZED && s->open_txns > 1) {
        txn_leave(s);
        free(t);
        cw_err_set(err, CW_ESTORE, CW_NO_OFFSET,
                   "store %s: another process grew the map while this one had a transaction open: run again", s->path);
        if (err)
            err->cause = MDB_MAP_RESIZED; /* the next begin, with no transaction open, adopts it: it passes */
        return CW_ESTORE;
    }
    if (rc == MDB_MAP_RESIZED) { /* another process grew the map: adopt it, no transaction of ours open */
        txn_leave(s);
        pthread_rwlock_wrlock(&s->sh->lock);
        MDB_envinfo info;
        rc = s->sh->lost ? 0 : set_mapsize_locked(s, 0);
        if (rc == 0 && !s->sh->lost && mdb_env_info(s->env, &info) == 0)
            s->map_size = info.me_mapsize;
        pthread_rwlock_unlock(&s->sh->lock);
        txn_enter(s);
        if (s->sh->lost) {
            txn_leave(s);
            free(t);
            return map_lost(s, err);
        }
        if (rc == 0)
            rc = txn_open(s, write, &t->txn);
    }
    if (rc) {
        txn_leave(s);
        free(t);
        return lmdb_fail(err, rc, "begin transaction", s);
    }
    *out = t;
    return CW_OK;
}

/* Ends t's LMDB read transaction: a view keeps one reset for the next
 * read (its reader slot too: no slot search per request). */
static void txn_close(store_txn *t)
{
    if (!t->write && t->s->view && t->s->idle == NULL) {
        mdb_txn_reset(t->txn);
        t->s->idle = t->txn;
    } else {
        mdb_txn_abort(t->txn);
    }
    txn_leave(t->s);
}

cw_code store_write_back(store_txn *t, store_db db, cw_err *err)
{
    if (db >= STORE_DB_COUNT || (db_defs[db].flags & MDB_DUPSORT))
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "store: no write-back for %s",
                          db < STORE_DB_COUNT ? db_defs[db].name : "?");
    if (t->ov == NULL && (t->ov = overlay_new()) == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "store: out of memory");
    t->ov_dbs |= 1u << db;
    return CW_OK;
}

size_t store_pending_bytes(const store_txn *t) { return t->ov ? overlay_bytes(t->ov) : 0; }

void store_txn_give_way(store_txn *t, void (*tick)(void *ctx), void *ctx)
{
    t->give_way = tick;
    t->give_way_ctx = ctx;
}

/* The overlay's writes into LMDB, in key order, just before the commit. */
static int flush_overlay(store_txn *t)
{
    if (t->ov == NULL || overlay_count(t->ov) == 0)
        return 0;
    const overlay_entry **all = overlay_sorted(t->ov, t->give_way, t->give_way_ctx);
    if (all == NULL)
        return ENOMEM;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < overlay_count(t->ov); i++) {
        MDB_val k = {all[i]->klen, all[i]->key}, v = {all[i]->vlen, all[i]->val};
        rc = all[i]->dead ? mdb_del(t->txn, t->s->dbi[all[i]->db], &k, NULL)
                          : mdb_put(t->txn, t->s->dbi[all[i]->db], &k, &v, 0);
        if (rc == MDB_NOTFOUND)
            rc = 0; /* deleted here, never committed */
        if (t->give_way && (i & (STORE_GIVE_WAY_PUTS - 1)) == STORE_GIVE_WAY_PUTS - 1)
            t->give_way(t->give_way_ctx);
    }
    free(all);
    return rc;
}

cw_code store_commit(store_txn *t, cw_err *err)
{
    cw_store *s = t->s;
    if (!t->write) {
        txn_close(t);
        free(t);
        return CW_OK;
    }
    int rc = flush_overlay(t);
    if (rc)
        mdb_txn_abort(t->txn);
    else
        rc = mdb_txn_commit(t->txn);
    txn_leave(s);
    overlay_free(t->ov);
    free(t);
    return rc ? lmdb_fail(err, rc, "commit", s) : CW_OK;
}

void store_abort(store_txn *t)
{
    if (t == NULL)
        return;
    txn_close(t);
    overlay_free(t->ov);
    free(t);
}

typedef struct {
    bloom *b;
    uint8_t db;
} filter_pending;

static void filter_add_pending(void *ctx, const overlay_entry *e)
{
    filter_pending *fp = ctx;
    if (e->db == fp->db)
        bloom_add(fp->b, e->key, e->klen);
}

/* Fills a filter with every key of db as t sees it. NULL when out of
 * memory or when a read failed (*rc then holds LMDB's code): a filter
 * missing keys would answer "absent" for them, so none is better. */
static bloom *filter_build(store_txn *t, store_db db, size_t at_least, int *rc_out)
{
    MDB_stat st;
    *rc_out = 0;
    if ((*rc_out = mdb_stat(t->txn, t->s->dbi[db], &st)))
        return NULL;
    size_t want = st.ms_entries * 2 > at_least ? st.ms_entries * 2 : at_least;
    bloom *b = bloom_new(want);
    MDB_cursor *c;
    if (b == NULL || (*rc_out = mdb_cursor_open(t->txn, t->s->dbi[db], &c))) {
        bloom_free(b);
        return NULL;
    }
    MDB_val k, v;
    int rc;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_NODUP))
        bloom_add(b, k.mv_data, k.mv_size);
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND) {
        *rc_out = rc;
        bloom_free(b);
        return NULL;
    }
    if (t->ov && (t->ov_dbs & (1u << db))) /* and the writes not in LMDB yet */
        overlay_each(t->ov, filter_add_pending, &(filter_pending){b, (uint8_t)db});
    return b;
}

/* A fingerprint of wl_meta: every import rewrites its source's record
 * there (file hash, import time, counts), so a changed fingerprint means
 * wl_addr may have changed under this process's filter. */
static uint64_t meta_fingerprint(store_txn *t) { return store_fingerprint(t, STORE_WL_META); }

uint64_t store_fingerprint(store_txn *t, store_db db)
{
    MDB_cursor *c;
    /* FNV-1a 64's step from another start than its basis, and each length
     * folded in whole: flows.wl_fp persists these values (chaindb.h's
     * cursor), so they stay as they were (a change would only cost one
     * needless cluster recount per store). */
    uint64_t h = 0x9e3779b97f4a7c15ull;
    if (mdb_cursor_open(t->txn, t->s->dbi[db], &c))
        return 0;
    MDB_val k, v;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const MDB_val *parts[2] = {&k, &v};
        for (int p = 0; p < 2; p++) {
            h = cw_fnv1a64_update(h, parts[p]->mv_data, parts[p]->mv_size);
            h = (h ^ parts[p]->mv_size) * CW_FNV64_PRIME;
        }
    }
    mdb_cursor_close(c);
    return h;
}

/* wl_addr's filter against imports by other processes: checked once per
 * transaction, rebuilt when wl_meta changed. False: no usable filter. */
static bool guard_ok(store_txn *t, store_db db)
{
    if (db != STORE_WL_ADDR || t->guard_checked)
        return true;
    t->guard_checked = true;
    uint64_t fp = meta_fingerprint(t);
    if (fp == t->s->guard_fp[db])
        return true;
    int brc;
    bloom *nf = filter_build(t, db, 0, &brc);
    if (nf == NULL) { /* no memory or a read error: drop the filter rather than trust a stale one */
        bloom_free(t->s->filter[db]);
        t->s->filter[db] = NULL;
        return false;
    }
    bloom_free(t->s->filter[db]);
    t->s->filter[db] = nf;
    t->s->guard_fp[db] = fp;
    return true;
}

cw_code store_filter_enable(cw_store *s, store_db db, cw_err *err)
{
    if (db >= STORE_DB_COUNT)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "store: no database %d", (int)db);
    store_txn *t = NULL;
    cw_code rc = store_begin(s, false, &t, err);
    if (rc)
        return rc;
    int brc;
    bloom *b = filter_build(t, db, 0, &brc);
    if (db == STORE_WL_ADDR)
        s->guard_fp[db] = meta_fingerprint(t);
    store_abort(t);
    if (b == NULL && brc)
        return lmdb_fail(err, brc, db_defs[db].name, s);
    if (b == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "store: out of memory for the %s filter", db_defs[db].name);
    bloom_free(s->filter[db]);
    s->filter[db] = b;
    return CW_OK;
}

cw_code store_get(store_txn *t, store_db db, const void *key, size_t klen, cw_span *val, cw_err *err)
{
    bloom *f = t->s->filter[db];
    if (f && guard_ok(t, db))
        f = t->s->filter[db]; /* guard_ok may have replaced (and freed) it */
    else
        f = NULL;
    /* grown past its size: rebuild it twice as big from what t sees, unless
     * t deleted keys of db (an abort would bring them back, unfiltered) */
    if (f && bloom_full(f) && !(t->deleted & (1u << db))) {
        int brc;
        bloom *nf = filter_build(t, db, bloom_keys(f) * 2, &brc); /* NULL: keep f, which has every key */
        if (nf) {
            bloom_free(f);
            t->s->filter[db] = f = nf;
        }
    }
    if (f && !bloom_maybe(f, key, klen))
        return CW_ENOTFOUND; /* pending writes reach the filter too */
    if (t->ov_dbs & (1u << db)) {
        const overlay_entry *e = overlay_find(t->ov, (uint8_t)db, key, klen);
        if (e && e->dead)
            return CW_ENOTFOUND;
        if (e) {
            val->p = e->val;
            val->n = e->vlen;
            return CW_OK;
        }
    }
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(t->txn, t->s->dbi[db], &k, &v);
    if (rc == MDB_NOTFOUND)
        return CW_ENOTFOUND;
    if (rc) { /* which table: a user (and a test) can tell what was not read */
        char what[48];
        snprintf(what, sizeof what, "get in %s", db_defs[db].name);
        return lmdb_fail(err, rc, what, t->s);
    }
    val->p = v.mv_data;
    val->n = v.mv_size;
    return CW_OK;
}

cw_code store_put(store_txn *t, store_db db, const void *key, size_t klen, const void *val, size_t vlen, cw_err *err)
{
    if (t->ov_dbs & (1u << db)) {
        if (klen == 0 || klen > 511)
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "store: a %zu-byte key for %s", klen, db_defs[db].name);
        if (!overlay_set(t->ov, (uint8_t)db, key, klen, val, vlen))
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "store: out of memory for pending writes");
        if (t->s->filter[db])
            bloom_add(t->s->filter[db], key, klen);
        return CW_OK;
    }
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    int rc = mdb_put(t->txn, t->s->dbi[db], &k, &v, db_defs[db].flags & MDB_DUPSORT ? MDB_NODUPDATA : 0);
    if (t->s->filter[db])
        bloom_add(t->s->filter[db], key, klen); /* before any abort too: a stale "maybe" only costs a read */
    if (rc == MDB_KEYEXIST)
        return CW_OK;
    return rc ? lmdb_fail(err, rc, db_defs[db].name, t->s) : CW_OK;
}

cw_code store_del(store_txn *t, store_db db, const void *key, size_t klen, const void *val, size_t vlen, cw_err *err)
{
    if (t->ov_dbs & (1u << db)) {
        cw_span old;
        cw_code rc = store_get(t, db, key, klen, &old, err);
        if (rc)
            return rc; /* CW_ENOTFOUND as LMDB would say */
        if (!overlay_set(t->ov, (uint8_t)db, key, klen, NULL, 0))
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "store: out of memory for pending writes");
        return CW_OK;
    }
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    t->deleted |= 1u << db;
    int rc = mdb_del(t->txn, t->s->dbi[db], &k, val ? &v : NULL);
    if (rc == MDB_NOTFOUND)
        return CW_ENOTFOUND;
    return rc ? lmdb_fail(err, rc, db_defs[db].name, t->s) : CW_OK;
}

cw_code store_cursor_open(store_txn *t, store_db db, store_cursor **out, cw_err *err)
{
    store_cursor *c = calloc(1, sizeof *c);
    if (c == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    int rc = mdb_cursor_open(t->txn, t->s->dbi[db], &c->cur);
    if (rc) {
        free(c);
        char what[48];
        snprintf(what, sizeof what, "cursor in %s", db_defs[db].name);
        return lmdb_fail(err, rc, what, t->s);
    }
    c->s = t->s;
    c->db = db;
    *out = c;
    return CW_OK;
}

cw_code store_cursor_error(const store_cursor *c, cw_err *err)
{
    if (c->rc == 0)
        return CW_OK;
    char what[48];
    snprintf(what, sizeof what, "read in %s", db_defs[c->db].name);
    return lmdb_fail(err, c->rc, what, c->s);
}

static bool cursor_op(store_cursor *c, MDB_val *k, MDB_val *v, MDB_cursor_op op, cw_span *ks, cw_span *vs)
{
    int rc = mdb_cursor_get(c->cur, k, v, op);
    if (rc != 0) {
        if (rc != MDB_NOTFOUND && c->rc == 0)
            c->rc = rc; /* an end of the walk that is no end: the caller asks store_cursor_error */
        return false;
    }
    if (ks) {
        ks->p = k->mv_data;
        ks->n = k->mv_size;
    }
    vs->p = v->mv_data;
    vs->n = v->mv_size;
    return true;
}

bool store_cursor_seek(store_cursor *c, const void *key, size_t klen, cw_span *ks, cw_span *vs)
{
    MDB_val k = {klen, (void *)key}, v;
    return cursor_op(c, &k, &v, key ? MDB_SET_RANGE : MDB_FIRST, ks, vs);
}

bool store_cursor_next(store_cursor *c, cw_span *ks, cw_span *vs)
{
    MDB_val k, v;
    return cursor_op(c, &k, &v, MDB_NEXT, ks, vs);
}

bool store_cursor_next_dup(store_cursor *c, cw_span *vs)
{
    MDB_val k, v;
    return cursor_op(c, &k, &v, MDB_NEXT_DUP, NULL, vs);
}

void store_cursor_close(store_cursor *c)
{
    if (c == NULL)
        return;
    mdb_cursor_close(c->cur);
    free(c);
}
