/* rules_fault.c: see rules_fault.h. */
#include "rules_fault.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"
#include "chains/hex.h"
#include "watchlists/store/store.h"
#include "watchlists/watchlist.h"

static void dump_store(const rules_fault_case *c, cw_buf *out)
{
    cw_store *s = c->store;
    cw_err err = {0};
    if (s == NULL)
        cr_assert_eq(store_open(c->dd, 0, true, &s, &err), CW_OK, "%s", err.msg);
    store_db dbs[STORE_DB_COUNT];
    for (int i = 0; i < STORE_DB_COUNT; i++)
        dbs[i] = (store_db)i;
    test_dump_tables(s, dbs, STORE_DB_COUNT, out);
    if (s != c->store)
        store_close(s);
}

/* Does the answer's `patterns` hold a finding of rule? */
static bool has_rule(const json_t *answer, const char *rule)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(answer, "patterns"), i, f)
    {
        const char *r = json_string_value(json_object_get(f, "rule"));
        if (r && strcmp(r, rule) == 0)
            return true;
    }
    return false;
}

/* The table a spec names ("...#rule_addr"): the error must name it. */
static const char *spec_table(const char *spec)
{
    const char *h = strrchr(spec, '#');
    cr_assert_not_null(h, "%s: a spec restricted to a rule table (#NAME)", spec);
    return h + 1;
}

static int screen_cli(const rules_fault_case *c, char **out, char **err)
{
    char *argv[40] = {CW_BIN, "screen"};
    int n = 2;
    for (int i = 0; c->cli[i] && n < 36; i++)
        argv[n++] = (char *)c->cli[i];
    argv[n++] = "--datadir";
    argv[n++] = (char *)c->dd;
    argv[n] = NULL;
    return run_cmd(argv, NULL, 0, out, err);
}

static void check_fault_cli(const rules_fault_case *c, const char *spec)
{
    char *out, *err;
    setenv("LD_PRELOAD", c->preload, 1);
    setenv("CW_FAIL_MDB", spec, 1);
    int rc = screen_cli(c, &out, &err);
    unsetenv("LD_PRELOAD");
    unsetenv("CW_FAIL_MDB");
    /* never an answer: a shorter patterns list would be one */
    cr_assert_eq(rc, 3, "%s: exit %d (want 3, the check was not made): %s %s", spec, rc, out, err);
    cr_assert_str_eq(out, "", "%s: nothing on stdout", spec);
    char table[64];
    snprintf(table, sizeof table, " in %s: ", spec_table(spec));
    cr_assert(strstr(err, "chainwatch: screen: pattern rules: " STORE_DAMAGED) && strstr(err, table) &&
                  strstr(err, "Input/output error") && strstr(err, STORE_DAMAGED_HINT),
              "%s: the error names the rules, the table and what to do: %s", spec, err);
    free(out), free(err);
}

/* Every read the rules make, failed in turn: the CLI's run traced
 * (CW_TRACE_MDB=db) names each mdb_get and mdb_cursor_get on a rule table;
 * the k-th of a table and function fails alone ("FN:k:EIO#TABLE"), after
 * the reads before it succeeded: exit 3 naming it, every time (of a
 * table read hundreds of times, a sample: the first 4, every 16th, the
 * last 2). A read whose error some path took as "absent" or "the end"
 * would answer. Returns how many reads there were. */
static int sweep_cli(const rules_fault_case *c)
{
    static const char *const fns[] = {"mdb_get", "mdb_cursor_get"};
    static const char *const tables[] = {"rule_addr", "rule_origin", "rule_trace", "rule_pair"};
    char *out, *err;
    setenv("LD_PRELOAD", c->preload, 1);
    setenv("CW_TRACE_MDB", "db", 1);
    int rc = screen_cli(c, &out, &err);
    unsetenv("CW_TRACE_MDB");
    unsetenv("LD_PRELOAD");
    cr_assert_eq(rc, c->want_exit, "traced: exit %d: %s", rc, err);
    int calls[2][4] = {{0}}, total = 0;
    for (const char *p = err, *close; (p = strchr(p, '[')) != NULL && (close = strchr(p, ']')) != NULL; p = close)
        for (int f = 0; f < 2; f++)
            for (int t = 0; t < 4; t++) {
                char want[64], tail[40];
                int n = snprintf(want, sizeof want, "[%s ", fns[f]);
                const char *h = strncmp(p, want, (size_t)n) == 0 ? memchr(p, '#', (size_t)(close - p)) : NULL;
                snprintf(tail, sizeof tail, "#%s]", tables[t]);
                if (h && strncmp(h, tail, strlen(tail)) == 0)
                    calls[f][t]++, total++;
            }
    free(out), free(err);
    for (int f = 0; f < 2; f++)
        for (int t = 0; t < 4; t++)
            for (int k = 1; k <= calls[f][t]; k++) {
                /* a walk of hundreds of reads: its first and last ones and
                 * every 16th (each run is a process: the suite stays fast) */
                if (k > 4 && k < calls[f][t] - 1 && k % 16 != 0)
                    continue;
                char spec[96];
                snprintf(spec, sizeof spec, "%s:%d:EIO#%s", fns[f], k, tables[t]);
                check_fault_cli(c, spec);
            }
    return total;
}

static void check_cli(const rules_fault_case *c, const char *spec)
{
    char *out, *err;
    int rc = screen_cli(c, &out, &err);
    json_t *j = json_loads(out, 0, NULL);
    cr_assert_eq(rc, c->want_exit, "without a fault: exit %d (want %d): %s %s", rc, c->want_exit, out, err);
    cr_assert(j && has_rule(j, c->rule), "without a fault: no %s finding: %s", c->rule, out);
    json_decref(j);
    free(out), free(err);
    check_fault_cli(c, spec);
}

static json_t *post(unsigned port, const char *key, const char *body, long want, const char *spec)
{
    long status;
    json_t *j = test_api_post(port, key, "/v1/screen", body, &status);
    cr_assert_eq(status, want, "%s: HTTP %ld (want %ld): %s", spec, status, want, json_dumps(j, 0));
    return j;
}

static void check_api(const rules_fault_case *c, const char *spec)
{
    static int keys;
    char name[64], key[128], logp[4300], gate[300], env_pre[4300], env_spec[600], env_gate[320];
    snprintf(name, sizeof name, "fault%d", ++keys);
    test_api_key(c->dd, name, "screen", key);
    snprintf(logp, sizeof logp, "%s/serve-fault.log", c->dd);
    unlink(logp);
    snprintf(gate, sizeof gate, "/tmp/cw_rules_fault_%ld_on", (long)getpid());
    unlink(gate);
    snprintf(env_pre, sizeof env_pre, "LD_PRELOAD=%s", c->preload);
    snprintf(env_spec, sizeof env_spec, "CW_FAIL_MDB=%s", spec);
    snprintf(env_gate, sizeof env_gate, "CW_FAULT_WHILE=%s", gate);
    const char *env[] = {env_pre, env_spec, env_gate, NULL};
    unsigned port;
    pid_t pid = test_serve_start(c->dd, logp, c->serve_opts, env, &port);
    /* the store reads: the finding */
    json_t *ok = post(port, key, c->body, 200, spec);
    cr_assert(has_rule(ok, c->rule), "%s: without a fault: no %s finding: %s", spec, c->rule, json_dumps(ok, 0));
    /* the rules' read fails: 503, never an answer */
    FILE *g = fopen(gate, "w");
    cr_assert_not_null(g);
    fclose(g);
    json_t *e = post(port, key, c->body, 503, spec);
    unlink(gate);
    json_t *eo = json_object_get(e, "error");
    const char *code = json_string_value(json_object_get(eo, "code")), *msg = json_string_value(json_object_get(eo, "message"));
    char table[64];
    snprintf(table, sizeof table, " in %s: ", spec_table(spec));
    cr_assert(code && strcmp(code, "store_error") == 0 && json_object_size(e) == 1, "%s: %s", spec, json_dumps(e, 0));
    cr_assert(msg && strstr(msg, "the check could not be made: pattern rules: " STORE_DAMAGED) && strstr(msg, table),
              "%s: %s", spec, msg ? msg : "(none)");
    json_decref(e);
    /* the same serve answers again once the store reads, the same finding */
    json_t *again = post(port, key, c->body, 200, spec);
    cr_assert(json_equal(json_object_get(again, "patterns"), json_object_get(ok, "patterns")), "%s: %s vs %s", spec,
              json_dumps(again, 0), json_dumps(ok, 0));
    json_decref(ok), json_decref(again);
    test_serve_stop(pid, logp);
}

void rules_fault_check(const rules_fault_case *c, const char *const *specs)
{
    /* a finding may name today (hit_date, a pair's last day): the answers
     * compared must not straddle midnight */
    if (86400 - time(NULL) % 86400 < 60)
        sleep(61);
    cw_buf before = CW_BUF_INIT, after = CW_BUF_INIT;
    dump_store(c, &before);
    cr_assert_gt(before.n, 0);
    for (int i = 0; specs[i]; i++) {
        if (c->cli)
            check_cli(c, specs[i]);
        if (c->body)
            check_api(c, specs[i]);
    }
    if (c->cli) {
        int n = sweep_cli(c);
        cr_assert_gt(n, 0, "the rules read no rule table");
    }
    dump_store(c, &after);
    cr_assert_eq(after.n, before.n, "the store after the screens: %zu bytes, then %zu", before.n, after.n);
    cr_assert_eq(memcmp(after.p, before.p, before.n), 0, "the store changed under the screens");
    cw_buf_free(&before), cw_buf_free(&after);
}

const char *rules_fault_key_hex(const cw_addr *a)
{
    static char buf[4][2 * WL_KEY_MAX + 1];
    static int at;
    char *b = buf[at++ % 4];
    uint8_t key[WL_KEY_MAX];
    cw_hex_encode(key, wl_key_from_addr(a, key), b);
    return b;
}

const char *rules_fault_window_key_hex(const cw_addr *pool, const cw_addr *src, uint64_t last)
{
    static char buf[4][2 * (2 + 8 + 2 * WL_KEY_MAX) + 1];
    static int at;
    char *b = buf[at++ % 4];
    uint8_t k[2 + 8 + 2 * WL_KEY_MAX];
    size_t pl = wl_key_from_addr(pool, k + 2);
    k[0] = 0xF0, k[1] = (uint8_t)pl;
    uint64_t inv = ~last; /* newest first: the time inverted, big-endian */
    for (int i = 0; i < 8; i++)
        k[2 + pl + i] = (uint8_t)(inv >> (56 - 8 * i));
    cw_hex_encode(k, 2 + pl + 8 + wl_key_from_addr(src, k + 2 + pl + 8), b);
    return b;
}
