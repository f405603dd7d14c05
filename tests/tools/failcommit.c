/* LD_PRELOAD fault injection for the review tests: the commit number
 * $CW_FAIL_COMMIT (1-based, counting every mdb_txn_commit of the process)
 * aborts its transaction and reports MDB_MAP_FULL, as LMDB does when the
 * pages a commit writes do not fit the map. $CW_TRACE_COMMIT=1 logs each
 * commit's number to stderr. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>

int mdb_txn_commit(MDB_txn *txn)
{
    static int (*real)(MDB_txn *);
    static int n;
    if (real == NULL)
        real = (int (*)(MDB_txn *))dlsym(RTLD_NEXT, "mdb_txn_commit");
    n++;
    const char *at = getenv("CW_FAIL_COMMIT");
    if (getenv("CW_TRACE_COMMIT"))
        fprintf(stderr, "[commit %d]\n", n);
    if (at && atoi(at) == n) {
        mdb_txn_abort(txn);
        return MDB_MAP_FULL;
    }
    return real(txn);
}
