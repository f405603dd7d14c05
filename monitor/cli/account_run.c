/*
 * account_run.c: `watch --chain ethereum` and `replay --chain ethereum`
 * (account_run.h). The node is asked, not subscribed to: watch polls it
 * every --poll-ms for new pending txs (an HTTP filter) and new blocks,
 * and a node that does not answer is asked again at the next poll (its
 * errors are logged, never a reason to stop); a store error stops it, as
 * in the Bitcoin watch.
 */
#include "account_run.h"
#include "monitor/records/webhook.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "chains/be.h"
#include "chains/hex.h"
#include "cli.h"
#include "monitor/engine/account.h"
#include "monitor/engine/rules/prices.h"
#include "monitor/records/keys.h"
#include "monitor/records/sink.h"
#include "monitor/sources/capture.h"
#include "monitor/sources/capture_settings.h"
#include "monitor/sources/eth_follow.h"
#include "monitor/sources/tron_follow.h"
#include "stop.h"
#include "watchlists/chaindb.h"
#include "watchlists/store/store.h"
#include "watchlists/tokens.h"

/* The log's levels, most severe first; run_log writes a line whose level
 * is at most log_max (watch --log-level: account_run_watch sets it). */
static const char *const log_levels[] = {"error", "warn", "info", "debug"};
static int log_max = 2;

static int log_rank(const char *level)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(level, log_levels[i]) == 0)
            return i;
    return 2;
}

static void run_log(const char *verb, const char *level, const char *fmt, ...)
{
    if (log_rank(level) > log_max)
        return;
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    fprintf(stderr, "%s %s: %s: ", ts, level, verb);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- recording and replaying a capture (capture.h v2): tron, ethereum ---- */

#define HELD_MAX 8

/* watch --record: tron's queue messages and HTTP replies, or every
 * JSON-RPC exchange of ethereum's follower. A capture that cannot be
 * written stops the recording, never the monitoring (as in the Bitcoin
 * watch). The exchanges made before the chain is known (it names the
 * network in the header) are held until the file is opened. */
typedef struct {
    capture_writer *w;
    const char *path;
    bool failed;
    double last_sync;
    size_t n_held;
    struct {
        char *path, *body;
        uint8_t *reply;
        size_t n;
        double t;
    } held[HELD_MAX];
} cap_recorder;

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void recorder_fail(cap_recorder *r, const cw_err *err)
{
    run_log("watch", "error", "recording to %s: %s; recording stopped after %llu messages (watching goes on)",
            r->path, err->msg, (unsigned long long)capture_writer_count(r->w));
    cw_err ignored = {0};
    capture_writer_close(r->w, &ignored);
    r->w = NULL;
    r->failed = true;
}

static void recorder_sync(cap_recorder *r, bool force)
{
    double now = cli_seconds();
    if (r->w == NULL || !capture_writer_dirty(r->w) || (!force && now - r->last_sync < 1.0))
        return;
    cw_err err = {0};
    if (capture_writer_sync(r->w, &err))
        recorder_fail(r, &err);
    r->last_sync = now;
}

static void tron_record_http(void *ctx, const char *path, const char *body, const cw_buf *reply)
{
    cap_recorder *r = ctx;
    if (r->failed)
        return;
    double t = wall_now();
    if (r->w == NULL) { /* before the header: held */
        if (r->n_held == HELD_MAX) {
            cw_err e = {.code = CW_ELIMIT};
            snprintf(e.msg, sizeof e.msg, "more than %d HTTP replies before the chain was known", HELD_MAX);
            recorder_fail(r, &e);
            return;
        }
        size_t i = r->n_held;
        r->held[i].path = strdup(path);
        r->held[i].body = strdup(body);
        r->held[i].reply = malloc(reply->n ? reply->n : 1);
        r->held[i].n = reply->n;
        r->held[i].t = t;
        if (r->held[i].reply && reply->n)
            memcpy(r->held[i].reply, reply->p, reply->n);
        r->n_held++;
        if (!r->held[i].path || !r->held[i].body || !r->held[i].reply) {
            cw_err e = {.code = CW_ENOMEM};
            snprintf(e.msg, sizeof e.msg, "out of memory holding an HTTP reply");
            recorder_fail(r, &e);
        }
        return;
    }
    cw_err err = {0};
    if (capture_write_http(r->w, t, path, body, reply->p, reply->n, &err))
        recorder_fail(r, &err);
    else
        recorder_sync(r, false);
}

static void tron_record_message(void *ctx, unsigned nframes, const void *const frame[3], const size_t len[3])
{
    cap_recorder *r = ctx;
    if (r->w == NULL)
        return;
    feed_message m = {.frame = {frame[0], frame[1], frame[2]},
                      .len = {len[0], len[1], len[2]},
                      .nframes = nframes,
                      .received_at = wall_now()};
    cw_err err = {0};
    if (capture_write(r->w, &m, &err))
        recorder_fail(r, &err);
    else
        recorder_sync(r, false);
}

/* A capture's settings record (capture_settings.h): an exchange whose
 * path is "settings" (a request path always starts with '/'). */
static bool is_settings_record(const capture_reader *r, const feed_message *m)
{
    return capture_reader_kind(r) == CAPTURE_REC_HTTP && m->len[0] == 8 && memcmp(m->frame[0], "settings", 8) == 0;
}

/* Opens the file once the network and the datadir's tip are known,
 * writes the settings record (its JSON and the tokens file's bytes) and
 * then what was held. An existing capture without a settings record first
 * (an older watch's) is refused: record to a new file. */
static cw_code recorder_open(cap_recorder *r, capture_chain chain, const char *network, const char *settings,
                             const cw_buf *tokens, cw_err *err)
{
    capture_open_info ci = {0};
    cw_code rc = r->failed ? CW_OK : capture_writer_open_v2(r->path, chain, network, &r->w, &ci, err);
    if (rc)
        return rc;
    if (ci.cut_bytes && !r->failed)
        run_log("watch", "warn", "capture %s ended in a partial record at byte %llu (%llu bytes, left by a crash): cut off",
                r->path, (unsigned long long)ci.cut_at, (unsigned long long)ci.cut_bytes);
    if (r->w && ci.records > 0) {
        /* a capture from before settings were recorded (tron): appending a
         * session to it would leave one whose first run nothing checks */
        capture_reader *cr = NULL;
        feed_message m;
        bool got = false;
        rc = capture_reader_open(r->path, &cr, NULL, err);
        if (rc == CW_OK)
            rc = capture_read(cr, &m, &got, err);
        if (rc == CW_OK && !(got && is_settings_record(cr, &m)))
            rc = cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                            "%s holds a %s capture without a settings record (written by an older chainwatch): record "
                            "to a new file", r->path, capture_chain_name(chain));
        capture_reader_close(cr);
        if (rc) {
            cw_err ignored = {0};
            capture_writer_close(r->w, &ignored);
            r->w = NULL;
            return rc;
        }
    }
    if (settings && r->w) {
        cw_err werr = {0};
        if (capture_write_http(r->w, wall_now(), "settings", settings, tokens->p, tokens->n, &werr))
            recorder_fail(r, &werr);
    }
    for (size_t i = 0; i < r->n_held && r->w; i++) {
        cw_err werr = {0};
        if (capture_write_http(r->w, r->held[i].t, r->held[i].path, r->held[i].body, r->held[i].reply, r->held[i].n,
                               &werr))
            recorder_fail(r, &werr);
    }
    return CW_OK;
}

/* ethereum: rpc.h's tap. The outcome's name (capture.h). */
static const char *eth_outcome_name(cw_code rc)
{
    return rc == CW_OK ? "ok" : rc == CW_ELIMIT ? "elimit" : rc == CW_ENOMEM ? "enomem" : "eio";
}

static void eth_record_rpc(void *ctx, const char *req, size_t req_len, cw_code rc, const cw_err *err,
                           const cw_buf *reply)
{
    (void)req_len; /* the request is text without NULs (json_dumps) */
    if (rc == CW_OK) {
        tron_record_http(ctx, "ok", req, reply);
        return;
    }
    cw_buf msg = {(uint8_t *)(uintptr_t)err->msg, strlen(err->msg), 0};
    tron_record_http(ctx, eth_outcome_name(rc), req, &msg);
}

static void recorder_close(cap_recorder *r)
{
    if (r->w) {
        cw_err err = {0};
        if (capture_writer_close(r->w, &err))
            run_log("watch", "error", "closing the capture %s: %s", r->path, err.msg);
        r->w = NULL;
    }
    for (size_t i = 0; i < r->n_held; i++)
        free(r->held[i].path), free(r->held[i].body), free(r->held[i].reply);
    r->n_held = 0;
}

/* replay --capture: the capture's HTTP exchanges, answered by request. */
typedef struct {
    char *path, *body;
    uint8_t *reply;
    size_t n;
    bool used;
} tron_exchange;

typedef struct {
    const char *file;
    tron_exchange *x;
    size_t n, cap;
} tron_answers;

static cw_code tron_answer(void *ctx, const char *path, const char *body, cw_buf *reply, cw_err *err)
{
    tron_answers *a = ctx;
    tron_exchange *again = NULL;
    for (size_t i = 0; i < a->n; i++) {
        tron_exchange *x = &a->x[i];
        if (strcmp(x->path, path) != 0 || strcmp(x->body, body) != 0)
            continue;
        if (!x->used) {
            x->used = true;
            again = x;
            break;
        }
        again = x; /* the last one used, if none is left */
    }
    if (again == NULL)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET,
                          "%s %s: the capture %s holds no reply to it (the live run never asked it)", path, body,
                          a->file);
    return cw_buf_append(reply, again->reply, again->n, err);
}

static void tron_answers_free(tron_answers *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->x[i].path), free(a->x[i].body), free(a->x[i].reply);
    free(a->x);
}

/* replay --capture of an Ethereum capture: the follower's requests are
 * answered from the capture's exchanges strictly in order, each request
 * checked byte for byte against the one recorded (rpc.h's answer). The
 * capture was read through once before (eth_capture_scan): a damaged one
 * never gets here. done: the exchanges are used up (the live run stopped
 * there) or the replay asked something else than the live run did
 * (diverged): either way the replay stops at once. */
typedef struct {
    const char *file;
    capture_reader *r;
    uint64_t used, total; /* exchanges answered, and in the file (the settings records not counted) */
    bool done, diverged;
    cw_err why; /* diverged, or a read error */
    /* a settings record after the first: the live watch stopped and was
     * started again (appending to the same capture); its settings */
    bool restart;
    json_t *next_set;
    cw_buf next_tokens;
} eth_answers;

static cw_code eth_answer(void *ctx, const char *req, size_t req_len, cw_buf *reply, cw_err *err)
{
    eth_answers *a = ctx;
    if (a->done)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "the capture %s is used up", a->file);
    feed_message m;
    bool got = false;
    cw_err rerr = {0};
    if (capture_read(a->r, &m, &got, &rerr) || !got) {
        a->done = true;
        if (got == false && rerr.code == CW_OK)
            return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "the capture %s ends here (the live run stopped)", a->file);
        a->diverged = true;
        a->why = rerr;
        *err = rerr;
        return rerr.code;
    }
    uint64_t at = capture_reader_offset(a->r);
    capture_eth_kind kind;
    cw_code outcome = CW_OK;
    bool known = capture_eth_record(a->r, &m, &kind, &outcome, &a->why) == CW_OK;
    if (known && kind == CAPTURE_ETH_SETTINGS) { /* the live run ended here (and started again) */
        a->done = a->restart = true;
        a->next_set = json_loadb((const char *)m.frame[1], m.len[1], 0, NULL);
        a->next_tokens.n = 0;
        if (cw_buf_append(&a->next_tokens, m.frame[2], m.len[2], err))
            return CW_ENOMEM;
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "the live run stopped here (byte %llu) and started again",
                          (unsigned long long)at);
    }
    if (!known || m.len[1] != req_len || memcmp(m.frame[1], req, req_len) != 0) {
        a->done = a->diverged = true;
        if (known)
            cw_err_set(&a->why, CW_EFORMAT, at,
                       "%s: record at byte %llu: the replay asked %.60s where the live run asked %.60s: it no longer "
                       "follows the capture (another datadir state or other options than the recording's?)",
                       a->file, (unsigned long long)at, req, (const char *)m.frame[1]);
        *err = a->why;
        return CW_EFORMAT;
    }
    a->used++;
    if (outcome != CW_OK)
        return cw_err_set(err, outcome, CW_NO_OFFSET, "%.*s", (int)(m.len[2] < 250 ? m.len[2] : 250),
                          (const char *)m.frame[2]);
    return cw_buf_append(reply, m.frame[2], m.len[2], err);
}

static void labels_digest_one(void *ctx, const uint8_t *key, size_t klen, const label *first)
{
    crypto_generichash_state *h = ctx;
    uint8_t n[8];
    cw_put_be(n, klen, 8);
    crypto_generichash_update(h, n, sizeof n);
    crypto_generichash_update(h, key, klen);
    for (const label *l = first; l; l = l->next) {
        const char *f[5] = {l->entity, l->category, l->source, l->chain, l->address};
        for (int i = 0; i < 5; i++)
            crypto_generichash_update(h, (const unsigned char *)(f[i] ? f[i] : ""), strlen(f[i] ? f[i] : "") + 1);
    }
}

/* The --labels index (services: they stop exposure and are the rules'
 * off-ramps, so they decide records) as the hex BLAKE2b of its addresses
 * and labels, in file order; "" without labels. */
static void eth_labels_digest(const labels *l, char hex[65])
{
    hex[0] = '\0';
    if (l == NULL)
        return;
    crypto_generichash_state h;
    unsigned char d[32];
    crypto_generichash_init(&h, NULL, 0, sizeof d);
    labels_each(l, labels_digest_one, &h);
    crypto_generichash_final(&h, d, sizeof d);
    sodium_bin2hex(hex, 65, d, sizeof d);
}

/* The pattern rules' configuration as JSON (the settings record's
 * `rules`): every value that decides a rule record, the prices table by
 * its digest (prices_digest), the --labels by theirs. Other rules options give other records, so
 * a replay compares its own with the recording's (json_equal). A new
 * reference; NULL without memory. */
static json_t *eth_rules_json(const rules_config *r)
{
    if (r == NULL || !r->enabled)
        return json_pack("{sb}", "enabled", 0);
    json_t *j = json_pack("{sbsbsIsIsIsIsIsIsIsIsIsIsIsIsIsIsIsIsIsIsI}", "enabled", 1, "payer_cluster",
                          r->payer_cluster, "salary_cents_lo", (json_int_t)r->salary_cents.lo, "salary_cents_hi",
                          (json_int_t)r->salary_cents.hi, "tiny_cents_lo", (json_int_t)r->tiny_cents.lo,
                          "tiny_cents_hi", (json_int_t)r->tiny_cents.hi, "salary_native_lo",
                          (json_int_t)r->salary_native.lo, "salary_native_hi", (json_int_t)r->salary_native.hi,
                          "tiny_native_lo", (json_int_t)r->tiny_native.lo, "tiny_native_hi",
                          (json_int_t)r->tiny_native.hi, "trace_window", (json_int_t)r->trace_window, "min_gap",
                          (json_int_t)r->min_gap, "max_gap", (json_int_t)r->max_gap, "min_recurring",
                          (json_int_t)r->min_recurring, "shared_min_payers", (json_int_t)r->shared_min_payers,
                          "shared_max_payers", (json_int_t)r->shared_max_payers, "pool_min_sources",
                          (json_int_t)r->pool_min_sources, "pool_window", (json_int_t)r->pool_window,
                          "test_window", (json_int_t)r->test_window, "hops", (json_int_t)r->hops, "sweep_ppm",
                          (json_int_t)r->sweep_ppm);
    json_t *more = json_pack("{sIsIsI}", "offramp_min_pieces", (json_int_t)r->offramp_min_pieces,
                             "toward_pool_weight", (json_int_t)r->toward_pool_weight, "prices",
                             (json_int_t)prices_count(r->prices));
    json_t *weight = json_array(), *sev = json_array(), *risk = json_array(), *bands = json_array();
    bool ok = j && more && weight && sev && risk && bands && json_object_update(j, more) == 0;
    for (int i = 0; ok && i < RULE_COUNT; i++)
        ok = json_array_append_new(weight, json_integer(r->weight[i])) == 0 &&
             json_array_append_new(sev, json_integer(r->severity[i])) == 0;
    for (int i = 0; ok && i < 5; i++)
        ok = json_array_append_new(risk, json_integer(r->risk_at[i])) == 0;
    for (int i = 0; ok && i < RULES_ASSET_BANDS && r->asset_band[i].symbol[0]; i++) {
        const rule_asset_band *b = &r->asset_band[i];
        char v[4][CW_U256_DEC_MAX];
        cw_u256_to_dec(&b->salary.lo, v[0]), cw_u256_to_dec(&b->salary.hi, v[1]);
        cw_u256_to_dec(&b->tiny.lo, v[2]), cw_u256_to_dec(&b->tiny.hi, v[3]);
        ok = json_array_append_new(bands, json_pack("[sIssss]", b->symbol, (json_int_t)b->decimals, v[0], v[1],
                                                    v[2], v[3])) == 0;
    }
    /* added after the first Ethereum captures: rules_json_compat drops
     * them from this run's side when a recording lacks them */
    json_t *hit_bands = json_array();
    ok = ok && hit_bands && json_object_set_new(j, "pool_trace_max", json_integer((json_int_t)r->pool_trace_max)) == 0 &&
         json_object_set_new(j, "hit_min_cents", json_integer((json_int_t)r->hit_min_cents)) == 0 &&
         json_object_set_new(j, "hit_min_native", json_integer((json_int_t)r->hit_min_native)) == 0;
    for (int i = 0; ok && i < RULES_ASSET_BANDS && r->asset_band[i].symbol[0]; i++) {
        char v[CW_U256_DEC_MAX];
        cw_u256_to_dec(&r->asset_band[i].hit_min, v);
        ok = json_array_append_new(hit_bands, json_pack("[ss]", r->asset_band[i].symbol, v)) == 0;
    }
    ok = ok && json_object_set(j, "asset_hit_min", hit_bands) == 0;
    json_decref(hit_bands);
    unsigned char d[32];
    char hex[65];
    prices_digest(r->prices, d);
    sodium_bin2hex(hex, sizeof hex, d, sizeof d);
    char lab[65];
    eth_labels_digest(r->labels, lab); /* the off-ramps and services that are never payees */
    ok = ok && json_object_set_new(j, "prices_blake2b", json_string(hex)) == 0 &&
         json_object_set_new(j, "labels_blake2b", json_string(lab)) == 0 &&
         json_object_set(j, "weight", weight) == 0 && json_object_set(j, "severity", sev) == 0 &&
         json_object_set(j, "risk_at", risk) == 0 && json_object_set(j, "asset_bands", bands) == 0;
    json_decref(more), json_decref(weight), json_decref(sev), json_decref(risk), json_decref(bands);
    if (!ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* The rules keys eth_rules_json gained after the first Ethereum captures
 * were recorded: a recording that lacks one cannot say what it was, so a
 * replay of it compares the rest (mine: this run's rules JSON, changed in
 * place). Tron captures carry settings only since they all had them. */
static void rules_json_compat(json_t *mine, const json_t *recorded)
{
    static const char *const later[] = {"pool_trace_max", "hit_min_cents", "hit_min_native", "asset_hit_min"};
    for (size_t i = 0; recorded && i < sizeof later / sizeof *later; i++)
        if (json_object_get(recorded, later[i]) == NULL)
            json_object_del(mine, later[i]);
}

/* The settings record's JSON (capture.h, capture_settings.h): what
 * decides the records beside the node's answers, for ethereum and tron
 * alike. tip_hash: the datadir's tip block's hash ("" for none), so that a
 * replay into a datadir that followed another branch to the same height is
 * refused; chain_id: the one the follower checked (tron: block 0's, TIP-474;
 * ethereum: eth_chainId). A new string (free it), NULL without memory. */
static char *account_settings_text(const account_run_opts *o, int64_t start, int64_t tip, const char *tip_hash,
                                   uint64_t chain_id)
{
    json_t *j = json_pack("{sIsbsIsIsssIsIsIsIsosI}", "confirmations", (json_int_t)o->confirmations, "finalized",
                          o->finalized, "start", (json_int_t)start, "tip", (json_int_t)tip, "tip_hash", tip_hash,
                          "hops", (json_int_t)o->hops, "min_share_ppm", (json_int_t)o->min_share_ppm,
                          "hold_share_ppm", (json_int_t)o->hold_share_ppm, "max_reorg", (json_int_t)o->max_reorg,
                          "rules", eth_rules_json(o->rules), "chain_id", (json_int_t)chain_id);
    char lab[65];
    eth_labels_digest(o->labels, lab);
    if (j && json_object_set_new(j, "labels_blake2b", json_string(lab))) {
        json_decref(j);
        j = NULL;
    }
    char *t = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    return t;
}

/* A whole (small) file: the --tokens CSV kept in the capture. */
static cw_code eth_read_file(const char *path, cw_buf *out, cw_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot read %s: %s", path, strerror(errno));
    char chunk[4096];
    size_t n;
    cw_code rc = CW_OK;
    while (rc == CW_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = out->n + n > (16u << 20) ? cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "%s: over 16 MB", path)
                                      : cw_buf_append(out, chunk, n, err);
    if (rc == CW_OK && ferror(f))
        rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "reading %s failed", path);
    fclose(f);
    return rc;
}

/* What watch and replay both open. */
typedef struct {
    const char *verb;
    uint8_t *sk;
    cw_store *store;
    alert_sink sink;
    eth_follow *node;
    tron_follow *tron;
    tokens_table tokens;
    bool tokens_set;
    account *a;
    char network[32];
    uint64_t chain_id;
    cap_recorder *rec;     /* watch --chain tron|ethereum --record */
    tron_answers *answers;  /* replay --capture of a Tron capture */
    eth_answers *eth_ans;   /* replay --capture of an Ethereum capture */
    bool note_filters;      /* watch: log each pending filter made (note_pending_filter) */
    uint64_t filters_noted; /* the filters made so far that were logged */
} run_ctx;

/* The datadir's tip block's hash as the node writes it (0x and 64 hex
 * digits), "" when nothing is connected: a capture's settings name it and
 * its replay compares it (docs/capture.md). */
static cw_code run_tip_hash(run_ctx *c, char out[67], cw_err *err)
{
    store_txn *t;
    chaindb_tip tip = {0};
    out[0] = '\0';
    cw_code rc = store_begin(c->store, false, &t, err);
    if (rc)
        return rc;
    rc = chaindb_get_tip(t, &tip, err);
    store_abort(t);
    if (rc == CW_OK && tip.valid) {
        out[0] = '0', out[1] = 'x';
        cw_hex_encode(tip.hash, 32, out + 2);
    }
    return rc;
}

static void run_close(run_ctx *c)
{
    account_close(c->a);
    eth_follow_close(c->node);
    tron_follow_close(c->tron);
    alert_sink_close(&c->sink);
    store_close(c->store);
    if (c->tokens_set)
        tokens_free(&c->tokens);
    keys_secret_free(c->sk);
}

/* Opens everything; CLI_EXIT_OK or the exit code after the message. */
static int run_open(run_ctx *c, const account_run_opts *o, int64_t start, bool quiet_flush)
{
    cw_err err = {0};
    char what[64];
    snprintf(what, sizeof what, "%s --chain %s", c->verb, o->tron ? "tron" : "ethereum");
    if ((c->sk = keys_secret_open(o->datadir, &err)) == NULL) {
        cli_fail(what, &err);
        fprintf(stderr, "chainwatch: %s: run 'chainwatch init --datadir %s' first\n", c->verb, o->datadir);
        return CLI_EXIT_FAIL;
    }
    if (store_open(o->datadir, 0, false, &c->store, &err))
        return cli_fail(what, &err);
    char alerts_default[4200];
    snprintf(alerts_default, sizeof alerts_default, "%s/alerts.jsonl", o->datadir);
    if (alert_sink_open(&c->sink, o->alerts ? o->alerts : alerts_default, &err) ||
        (o->pub && alert_sink_bind_pub(&c->sink, o->pub, &err)))
        return cli_fail(what, &err);
    if (tokens_init(&c->tokens, &err))
        return cli_fail(what, &err);
    c->tokens_set = true;
    if (o->tokens && tokens_load_csv(&c->tokens, o->tokens, &err))
        return cli_fail(what, &err);
    const account_source *src;
    if (o->tron) {
        feed_tron_config fc = {.endpoint = o->zmq_tron, .rcvhwm = (int)o->rcvhwm};
        tron_http_options ho = {.url = o->tron_http, .retries = 3};
        if (c->rec) {
            fc.tap = tron_record_message;
            fc.tap_ctx = c->rec;
            ho.tap = tron_record_http;
            ho.hook_ctx = c->rec;
        }
        if (c->answers) {
            ho.answer = tron_answer;
            ho.hook_ctx = c->answers;
        }
        if (tron_follow_open(&fc, &ho, &c->tron, &err))
            return cli_fail(what, &err);
        if (tron_follow_chain_id(c->tron, &c->chain_id, &err)) {
            fprintf(stderr, "chainwatch: %s: cannot ask the node its chain (block 0): %s\n", c->verb, err.msg);
            return CLI_EXIT_FAIL;
        }
        tron_network_name(c->chain_id, c->network);
        src = tron_follow_source(c->tron);
    } else {
        rpc_options ro = {.url = o->rpc, .rate = (double)o->rpc_rate, .retries = 3};
        if (c->rec) {
            ro.tap = eth_record_rpc;
            ro.hook_ctx = c->rec;
        }
        if (c->eth_ans) {
            ro.answer = eth_answer;
            ro.hook_ctx = c->eth_ans;
        }
        if (eth_follow_open(&ro, &c->node, &err))
            return cli_fail(what, &err);
        if (eth_follow_chain_id(c->node, &c->chain_id, &err)) {
            fprintf(stderr, "chainwatch: %s: cannot ask the node its chain: %s\n", c->verb, err.msg);
            return CLI_EXIT_FAIL;
        }
        eth_network_name(c->chain_id, c->network);
        src = eth_follow_source(c->node);
    }
    account_config ac = {.store = c->store,
                         .chain = o->tron ? "tron" : "ethereum",
                         .network = c->network,
                         .native_symbol = o->tron ? "TRX" : "ETH",
                         .native_decimals = o->tron ? 6 : 18,
                         .chain_id = c->chain_id,
                         .net = CW_NET_MAIN,
                         .sk = c->sk,
                         .sink = alert_sink_line,
                         .durable = alert_sink_durable,
                         .sink_ctx = &c->sink,
                         .src = src,
                         .start = start,
                         .confirmations = (uint32_t)o->confirmations,
                         .finalized = o->finalized,
                         .max_reorg = o->max_reorg > 0 ? (uint32_t)o->max_reorg : 0,
                         .stop = cli_stop_flag(),
                         .tokens = &c->tokens,
                         .hops = o->hops,
                         .labels = o->labels,
                         .min_share_ppm = o->min_share_ppm,
                         .hold_share_ppm = o->hold_share_ppm,
                         .rules = o->rules};
    if (account_open(&ac, &c->a, &err))
        return cli_fail(what, &err);
    if (c->rec) { /* now the network and the datadir's tip are known */
        pipeline_stats st0;
        pipeline_stats_get(account_pipeline(c->a), &st0);
        cw_buf tokens = CW_BUF_INIT;
        char tip_hash[67];
        cw_code rc = run_tip_hash(c, tip_hash, &err);
        char *settings = rc ? NULL : account_settings_text(o, start, st0.tip_height, tip_hash, c->chain_id);
        if (rc == CW_OK && settings == NULL)
            rc = cw_err_set(&err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
        if (rc == CW_OK && o->tokens)
            rc = eth_read_file(o->tokens, &tokens, &err);
        if (rc == CW_OK)
            rc = recorder_open(c->rec, o->tron ? CAPTURE_CHAIN_TRON : CAPTURE_CHAIN_ETHEREUM, c->network, settings,
                               &tokens, &err);
        free(settings);
        cw_buf_free(&tokens);
        if (rc)
            return cli_fail("watch --record", &err);
    }
    /* records a crash left in the outbox go out first, minus what the file has */
    alert_sink_load_tail(&c->sink);
    if (pipeline_flush(account_pipeline(c->a), &err)) {
        if (!quiet_flush)
            run_log(c->verb, "warn", "flushing records left from the last run: %s (they stay queued)", err.msg);
    } else {
        alert_sink_drop_tail(&c->sink);
    }
    return CLI_EXIT_OK;
}

static void sleep_ms(int64_t ms)
{
    /* in short steps, so SIGINT/SIGTERM stop it soon */
    while (ms > 0 && !cli_stop_requested()) {
        int64_t step = ms < 50 ? ms : 50;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

/* A poll that fails again and again (a provider's rate limit, a node
 * down): one line when its error starts or changes, and one when it
 * clears, each saying how many polls repeated the error before. */
typedef struct {
    const char *verb, *what, *again; /* "pending txs", "(asking again every 1000 ms)" */
    bool failing;
    char last[CW_ERR_MSG_MAX];
    uint64_t repeats; /* polls that failed with `last` after the one logged */
    uint64_t failures; /* all failed polls */
    const bool *mute;  /* set: nothing logged (a replay's capture is used up) */
} poll_log;

static void poll_log_result(poll_log *l, cw_code rc, const cw_err *err)
{
    if (l->mute && *l->mute)
        return;
    if (rc)
        l->failures++;
    if (rc == CW_OK) {
        if (l->failing)
            run_log(l->verb, "info", "%s: the node answers again (the last error was repeated by %llu more failed "
                                     "poll%s)", l->what, (unsigned long long)l->repeats, l->repeats == 1 ? "" : "s");
        l->failing = false;
        l->repeats = 0;
        return;
    }
    if (l->failing && strcmp(l->last, err->msg) == 0) {
        l->repeats++;
        return;
    }
    if (l->failing)
        run_log(l->verb, "warn", "%s: %s %s (the previous error was repeated by %llu more failed poll%s)", l->what,
                err->msg, l->again, (unsigned long long)l->repeats, l->repeats == 1 ? "" : "s");
    else
        run_log(l->verb, "warn", "%s: %s %s", l->what, err->msg, l->again);
    l->failing = true;
    l->repeats = 0;
    snprintf(l->last, sizeof l->last, "%s", err->msg);
}

/* Ethereum's pending filter is made at watch's first poll (after its
 * "watching" line), and again when the node forgot it: the node shows a
 * filter only the txs that enter its pool after it was made, so a line
 * says from when pending txs are seen (an operator, and the tests, wait
 * for it) and what becomes of those sent before. A poll makes no RPC
 * request for this, so a capture's replay asks the same as the live run. */
static void note_pending_filter(run_ctx *c)
{
    if (!c->note_filters || c->node == NULL)
        return;
    uint64_t made = 0;
    const char *id = eth_follow_pending_filter(c->node, &made);
    if (made == c->filters_noted)
        return;
    if (c->filters_noted == 0)
        run_log(c->verb, "info", "pending txs: following the node's pending pool from now on (filter %s): a tx "
                "that entered it before this line is not seen pending; it is screened when its block is connected", id);
    else
        run_log(c->verb, "info", "pending txs: the node forgot the filter; a new one (filter %s) follows its pending "
                "pool from now on: txs that entered it in between are screened when their blocks are connected", id);
    c->filters_noted = made;
}

/* One poll of the node, as watch makes it and a capture's replay repeats
 * it: new pending txs first (a tx seen pending and mined before the next
 * poll still gets its mempool record before its confirmation), then the
 * chain. CLI_EXIT_OK to go on; else the exit code to stop with, logged. */
static int poll_once(run_ctx *c, const char *datadir, poll_log *pend, poll_log *follow, cw_err *err)
{
    cw_code prc = account_poll_pending(c->a, err);
    if (store_error_stops(prc)) {
        run_log(c->verb, "error", "stopping: the store failed (%s). Fix it (chainwatch watchlist check --datadir %s) "
                "and start watch again: it catches up from its tip", err->msg, datadir);
        return cli_exit_status(prc);
    }
    poll_log_result(pend, prc, err);
    note_pending_filter(c);
    cw_code src = account_sync(c->a, err);
    if (store_error_stops(src)) {
        run_log(c->verb, "error", "stopping: the store failed (%s). Fix it (chainwatch watchlist check --datadir %s) "
                "and start watch again: it catches up from its tip", err->msg, datadir);
        return cli_exit_status(src);
    }
    if (src == CW_ECHECKSUM) { /* the node's chain does not link (account.h): never retried */
        run_log(c->verb, "error", "stopping: %s", err->msg);
        return CLI_EXIT_FAIL;
    }
    poll_log_result(follow, src, err);
    return CLI_EXIT_OK;
}

int account_run_watch(const account_run_opts *o)
{
    log_max = o->log_level ? log_rank(o->log_level) : 2;
    run_ctx c = {.verb = "watch", .sink = {.fd = -1}, .note_filters = true};
    cap_recorder rec = {.path = o->record};
    if (o->record)
        c.rec = &rec;
    cli_stop_install();
    signal(SIGPIPE, SIG_IGN);
    int rc = run_open(&c, o, o->start, false);
    if (rc) {
        run_close(&c);
        recorder_close(&rec);
        return rc;
    }
    webhook_runner *hooks = NULL; /* after run_open took the monitor lock: one watch per datadir */
    cw_err herr = {0};
    if (o->webhook && cli_webhook_start(o->webhook, c.store, o->datadir, &hooks, &herr)) {
        rc = cli_fail("watch --webhook", &herr);
        run_close(&c);
        recorder_close(&rec);
        return rc;
    }
    if (hooks)
        run_log("watch", "info", "delivering webhooks to %s", o->webhook->url);
    if (c.tron) { /* triggers at or below our tip are not kept: the engine has those blocks */
        pipeline_stats st0;
        pipeline_stats_get(account_pipeline(c.a), &st0);
        tron_follow_set_tip(c.tron, st0.tip_height);
    }
    char depth[64];
    if (o->finalized)
        snprintf(depth, sizeof depth, o->tron ? "blocks up to the solidified block" : "blocks up to the finalized tag");
    else if (o->confirmations == 1)
        snprintf(depth, sizeof depth, "every block at the head");
    else
        snprintf(depth, sizeof depth, "blocks %lld deep (--confirmations)", (long long)o->confirmations);
    run_log("watch", "info", "watching %s %s (chain id %llu) at %s: %s; alerts to %s", o->tron ? "tron" : "ethereum",
         c.network, (unsigned long long)c.chain_id, o->tron ? o->zmq_tron : o->rpc, depth,
         o->alerts ? o->alerts : "<datadir>/alerts.jsonl");
    pipeline *p = account_pipeline(c.a);
    cw_err err = {0};
    double last_status = cli_seconds();
    uint64_t last_txs = 0;
    char again[64];
    snprintf(again, sizeof again, "(asking again every %lld ms)", (long long)o->poll_ms);
    poll_log pend = {"watch", "pending txs", again, false, "", 0, 0, NULL};
    poll_log follow = {"watch", "following the node", again, false, "", 0, 0, NULL};
    rc = CLI_EXIT_OK;
    uint64_t bad_seen = 0, bad_logged = 0;
    while (!cli_stop_requested()) {
        if (c.tron) { /* the node's triggers for up to --poll-ms; gaps refilled over HTTP */
            cw_code trc = tron_follow_poll(c.tron, (int)o->poll_ms, &bad_seen, &err);
            if (trc == CW_EIO && err.code == CW_EIO && strstr(err.msg, "ZeroMQ") != NULL) {
                rc = CLI_EXIT_FAIL;
                run_log("watch", "error", "stopping: %s", err.msg);
                break;
            }
            if (trc)
                run_log("watch", "warn", "refilling a gap over HTTP: %s (the block is asked for again when it is due)",
                        err.msg);
            if (bad_seen > bad_logged) {
                run_log("watch", "warn", "%llu malformed messages from the node's queue so far (skipped)",
                        (unsigned long long)bad_seen);
                bad_logged = bad_seen;
            }
        }
        if ((rc = poll_once(&c, o->datadir, &pend, &follow, &err)))
            break;
        double now = cli_seconds();
        if (o->status_interval && now - last_status >= (double)o->status_interval) {
            pipeline_stats st;
            pipeline_stats_get(p, &st);
            char wh[CW_ERR_MSG_MAX + 128];
            bool hooks_failing = webhook_runner_describe(hooks, wh, sizeof wh);
            run_log("watch", hooks_failing ? "warn" : "info",
                    "status: %.1f tx/s, tip %lld, node %lld, blocks +%llu -%llu, alerts %llu%s",
                 (double)(st.txs - last_txs) / (now - last_status), (long long)st.tip_height, (long long)st.node_height,
                 (unsigned long long)st.blocks_connected, (unsigned long long)st.blocks_disconnected,
                 (unsigned long long)st.alerts, wh);
            last_txs = st.txs;
            last_status = now;
        }
        if (!c.tron)
            sleep_ms(o->poll_ms);
        if (c.rec)
            recorder_sync(c.rec, false);
    }
    if (pipeline_flush(p, &err)) { /* a store error: 3, as in watch and the replays; the alerts file's: a warning */
        run_log("watch", store_error_stops(err.code) ? "error" : "warn",
                "final flush: %s (the records stay in the outbox for the next start)", err.msg);
        if (store_error_stops(err.code) && rc == CLI_EXIT_OK)
            rc = cli_exit_status(err.code);
    }
    pipeline_stats st;
    pipeline_stats_get(p, &st);
    char wh[CW_ERR_MSG_MAX + 128];
    bool hooks_failing = webhook_runner_describe(hooks, wh, sizeof wh);
    run_log("watch", hooks_failing ? "warn" : "info", "stopped: tip %lld, blocks +%llu -%llu, %llu txs, %llu alerts%s",
         (long long)st.tip_height, (unsigned long long)st.blocks_connected, (unsigned long long)st.blocks_disconnected,
         (unsigned long long)st.txs, (unsigned long long)st.alerts, wh);
    if (c.rec && c.rec->w)
        run_log("watch", "info", "recorded %llu records to %s", (unsigned long long)capture_writer_count(c.rec->w),
                o->record);
    webhook_runner_stop(hooks); /* its thread and view end before the store closes */
    run_close(&c);
    recorder_close(&rec);
    return rc;
}

/* The replay summary's records, by rule, and what the pattern rules did
 * (as replay.c prints them for Bitcoin). */
static void print_alerts_and_rules(const pipeline_stats *st)
{
    printf("  alerts      %llu records", (unsigned long long)st->alerts);
    for (int r = 0; r < PIPELINE_RULE_COUNT; r++)
        if (st->by_rule[r])
            printf(", %s %llu", pipeline_rule_name((pipeline_rule)r), (unsigned long long)st->by_rule[r]);
    printf("\n");
    if (st->rules.txs)
        printf("  rules       %llu txs judged, %llu payments in the salary or tiny band tracked, %llu sweeps, %llu "
               "transfers traced\n",
               (unsigned long long)st->rules.txs, (unsigned long long)st->rules.payments,
               (unsigned long long)st->rules.sweeps, (unsigned long long)st->rules.traced);
}

typedef struct {
    bool tty;
    double t0, last;
    int64_t from;
    pipeline *p;
} replay_progress;

static void replay_progress_fn(void *ctx, int64_t done, int64_t total)
{
    replay_progress *pr = ctx;
    double now = cli_seconds();
    if (!pr->tty || (done < total && now - pr->last < 0.5))
        return;
    pr->last = now;
    pipeline_stats st;
    pipeline_stats_get(pr->p, &st);
    double el = now - pr->t0 + 1e-9, rate = (double)done / el;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\r  block %lld/%lld  %.0f blocks/s  %.0f tx/s  %llu alerts  ETA %02d:%02d:%02d ",
            (long long)(pr->from + done - 1), (long long)(pr->from + total - 1), rate, (double)st.txs / el,
            (unsigned long long)st.alerts, (int)(eta / 3600), (int)(eta / 60) % 60, (int)eta % 60);
}

int account_run_replay(const account_run_opts *o)
{
    run_ctx c = {.verb = "replay", .sink = {.fd = -1}};
    cli_stop_install();
    int rc = run_open(&c, o, -1, false);
    if (rc) {
        run_close(&c);
        return rc;
    }
    cw_err err = {0};
    const account_source *s = eth_follow_source(c.node);
    int64_t head, to = o->to, from = o->from;
    if (s->head(s->ctx, &head, &err)) {
        fprintf(stderr, "chainwatch: replay: %s\n", err.msg);
        run_close(&c);
        return CLI_EXIT_FAIL;
    }
    if (to < 0)
        to = head;
    if (from > head || to > head) {
        fprintf(stderr, "chainwatch: replay: blocks %lld..%lld: the node's head is %lld\n", (long long)from,
                (long long)to, (long long)head);
        run_close(&c);
        return CLI_EXIT_USAGE;
    }
    /* an interrupted replay continues from its tip, which must be the node's block */
    pipeline *p = account_pipeline(c.a);
    pipeline_stats st0;
    pipeline_stats_get(p, &st0);
    if (st0.tip_height >= to) {
        /* the range is at or below the tip: nothing to do when this datadir
         * holds it on the node's chain, a refusal otherwise (never a replay
         * that reports an odd range) */
        bool held = false;
        cw_code hrc = account_holds(c.a, from, to, &held, &err);
        if (hrc) {
            fprintf(stderr, "chainwatch: replay: %s\n", err.msg);
            run_close(&c);
            return store_error_stops(hrc) ? cli_exit_status(hrc) : CLI_EXIT_FAIL;
        }
        if (!held) {
            fprintf(stderr,
                    "chainwatch: replay: this datadir's tip is block %lld and it does not hold blocks %lld..%lld "
                    "of the node's chain: a replay of them needs an empty datadir or its tip at %lld\n",
                    (long long)st0.tip_height, (long long)from, (long long)to, (long long)from - 1);
            run_close(&c);
            return CLI_EXIT_USAGE;
        }
        fprintf(stderr, "chainwatch: replay: nothing to replay: this datadir's tip is block %lld and it holds blocks "
                        "%lld..%lld already\n",
                (long long)st0.tip_height, (long long)from, (long long)to);
        printf("replayed ethereum %s: nothing (blocks %lld..%lld are in %s already)\n", c.network, (long long)from,
               (long long)to, o->datadir);
        printf("  blocks      0 connected\n");
        run_close(&c);
        return CLI_EXIT_OK;
    }
    if (st0.tip_height >= from && st0.tip_height < to) {
        fprintf(stderr, "chainwatch: replay: continuing after block %lld (this datadir's tip)\n",
                (long long)st0.tip_height);
        from = st0.tip_height + 1;
    }
    replay_progress pr = {isatty(2) == 1, cli_seconds(), 0, from, p};
    cw_code arc = from <= to ? account_replay(c.a, from, to, (unsigned)o->batch, replay_progress_fn, &pr, &err) : CW_OK;
    if (pr.tty)
        fputc('\n', stderr);
    pipeline_stats st;
    pipeline_stats_get(p, &st);
    double el = cli_seconds() - pr.t0;
    bool interrupted = cli_stop_requested();
    if (arc) {
        fprintf(stderr, "chainwatch: replay: %s\n", err.msg);
        rc = store_error_stops(arc) ? cli_exit_status(arc)
                                    : arc == CW_EARG ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    if (st.blocks_connected == 0)
        printf("replayed ethereum %s: no blocks from %s into %s%s\n", c.network, o->rpc, o->datadir,
               interrupted ? " (interrupted: run again to continue)" : "");
    else
        printf("replayed ethereum %s blocks %lld..%lld from %s into %s%s\n", c.network, (long long)from,
               (long long)(from + (int64_t)st.blocks_connected - 1), o->rpc, o->datadir,
               interrupted ? " (interrupted: run again to continue)" : "");
    printf("  blocks      %llu connected\n", (unsigned long long)st.blocks_connected);
    printf("  txs         %llu (%.0f tx/s)\n", (unsigned long long)st.txs, (double)st.txs / (el + 1e-9));
    print_alerts_and_rules(&st);
    rpc_stats rs;
    rpc_stats_get(eth_follow_rpc(c.node), &rs);
    printf("  node        %llu requests, %llu retries, %.1f MB\n", (unsigned long long)rs.requests,
           (unsigned long long)rs.retries, (double)rs.bytes / 1e6);
    printf("  elapsed     %.2f s\n", el);
    run_close(&c);
    if (rc == CLI_EXIT_OK && interrupted)
        rc = 130;
    return rc;
}

/* Reads the capture's HTTP exchanges (first pass), up to any damage; the
 * settings records are none. */
static int load_answers(const char *path, tron_answers *a)
{
    capture_reader *r;
    cw_err err = {0};
    if (capture_reader_open(path, &r, NULL, &err))
        return cli_fail("replay", &err);
    feed_message m;
    bool got = true;
    cw_code rc = CW_OK;
    while (rc == CW_OK && (rc = capture_read(r, &m, &got, &err)) == CW_OK && got) {
        if (capture_reader_kind(r) != CAPTURE_REC_HTTP || is_settings_record(r, &m))
            continue;
        if (a->n == a->cap) {
            size_t nc = a->cap ? a->cap * 2 : 64;
            tron_exchange *nx = realloc(a->x, nc * sizeof *nx);
            if (nx == NULL) {
                rc = cw_err_set(&err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory for its HTTP replies", path);
                break;
            }
            a->x = nx;
            a->cap = nc;
        }
        tron_exchange *x = &a->x[a->n];
        x->path = strndup((const char *)m.frame[0], m.len[0]);
        x->body = strndup((const char *)m.frame[1], m.len[1]);
        x->reply = malloc(m.len[2] ? m.len[2] : 1);
        x->n = m.len[2];
        x->used = false;
        a->n++;
        if (!x->path || !x->body || !x->reply) {
            rc = cw_err_set(&err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory for its HTTP replies", path);
            break;
        }
        memcpy(x->reply, m.frame[2], m.len[2]);
    }
    capture_reader_close(r);
    if (rc == CW_ETRUNC || rc == CW_EFORMAT || rc == CW_ELIMIT)
        return CLI_EXIT_OK; /* damage: the replay runs up to it and reports it there */
    if (rc) {
        fprintf(stderr, "chainwatch: replay: %s\n", err.msg);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* One watch run's settings, from its settings record (the frames copied:
 * they point into the reader's buffer). */
typedef struct {
    capture_settings set;
    cw_buf tokens; /* the --tokens file's bytes, empty: none */
    uint64_t at;   /* the record's offset */
    char network[17]; /* the capture header's */
} tron_session;

static void tron_session_free(tron_session *s)
{
    capture_settings_free(&s->set);
    cw_buf_free(&s->tokens);
}

/* Parses the settings record m (the last read from r) into *s. */
static cw_code tron_session_read(const char *file, const capture_reader *r, const feed_message *m, tron_session *s,
                                 cw_err *err)
{
    tron_session_free(s);
    s->at = capture_reader_offset(r);
    uint64_t json_at = s->at + 16 + 4 + m->len[0] + 4; /* capture.h: length, time, count, frame 0, frame 1's length */
    cw_code rc = capture_settings_parse(m->frame[1], m->len[1], file, s->at, json_at, true, &s->set, err);
    if (rc == CW_OK)
        rc = cw_buf_append(&s->tokens, m->frame[2], m->len[2], err);
    return rc;
}

static int given_differs(const char *file, unsigned session, const char *option, const char *recorded,
                         const char *given)
{
    fprintf(stderr, "chainwatch: replay: %s: session %u: %s differs from the recording's: recorded %s, given %s "
                    "(leave the option out: the capture's is used)\n", file, session, option, recorded, given);
    return CLI_EXIT_USAGE;
}

/* --confirmations, --finalized and --max-reorg, when the replay's command
 * line gave them (o->given), against the session's recorded ones
 * (max_reorg 0: the engine's default): how deep blocks connect decides
 * every record. CLI_EXIT_OK, or CLI_EXIT_USAGE after the message. */
static int depth_given_differs(const account_run_opts *o, unsigned session, int64_t confirmations, bool finalized,
                               int64_t max_reorg)
{
    char a[64], b[64];
    if ((o->given & ACCOUNT_GIVEN_CONFIRMATIONS) && (finalized || o->confirmations != confirmations)) {
        snprintf(a, sizeof a, finalized ? "--finalized" : "%lld", (long long)confirmations);
        snprintf(b, sizeof b, "%lld", (long long)o->confirmations);
        return given_differs(o->capture, session, "--confirmations", a, b);
    }
    if ((o->given & ACCOUNT_GIVEN_FINALIZED) && !finalized) {
        snprintf(a, sizeof a, "--confirmations %lld", (long long)confirmations);
        return given_differs(o->capture, session, "--finalized", a, "--finalized");
    }
    int64_t recorded = max_reorg ? max_reorg : ACCOUNT_MAX_REORG_DEFAULT;
    if ((o->given & ACCOUNT_GIVEN_MAX_REORG) && o->max_reorg != recorded) {
        snprintf(a, sizeof a, max_reorg ? "%lld" : "%lld (the default)", (long long)recorded);
        snprintf(b, sizeof b, "%lld", (long long)o->max_reorg);
        return given_differs(o->capture, session, "--max-reorg", a, b);
    }
    return CLI_EXIT_OK;
}

/* The options a session runs with: the recording's settings, each option
 * the command line gave checked against them; the rules and --labels
 * (not in the capture: given again, or refused). CLI_EXIT_OK or the exit
 * code after the message. */
static int tron_session_options(const account_run_opts *o, const tron_session *s, unsigned session,
                                account_run_opts *ro)
{
    const capture_settings *set = &s->set;
    char a[64], b[64];
    *ro = *o;
    int drc = depth_given_differs(o, session, set->confirmations, set->finalized, set->max_reorg);
    if (drc)
        return drc;
    ro->confirmations = set->confirmations;
    ro->finalized = set->finalized;
    ro->max_reorg = set->max_reorg;
    if ((o->given & ACCOUNT_GIVEN_START) && o->start != set->start) {
        snprintf(a, sizeof a, set->start < 0 ? "none (the node's head)" : "%lld", (long long)set->start);
        snprintf(b, sizeof b, "%lld", (long long)o->start);
        return given_differs(o->capture, session, "--start-height", a, b);
    }
    ro->start = set->start;
    if ((o->given & ACCOUNT_GIVEN_HOPS) && o->hops != set->hops) {
        snprintf(a, sizeof a, "%u", set->hops);
        snprintf(b, sizeof b, o->hops ? "%u" : "%u (--clusters off)", o->hops);
        return given_differs(o->capture, session, "--hops", a, b);
    }
    ro->hops = set->hops;
    if ((o->given & ACCOUNT_GIVEN_MIN_SHARE) && o->min_share_ppm != set->min_share_ppm) {
        snprintf(a, sizeof a, "%u ppm", set->min_share_ppm);
        snprintf(b, sizeof b, "%u ppm", o->min_share_ppm);
        return given_differs(o->capture, session, "--min-exposure", a, b);
    }
    ro->min_share_ppm = set->min_share_ppm;
    if ((o->given & ACCOUNT_GIVEN_HOLD_SHARE) && o->hold_share_ppm != set->hold_share_ppm) {
        snprintf(a, sizeof a, "%u ppm", set->hold_share_ppm);
        snprintf(b, sizeof b, "%u ppm", o->hold_share_ppm);
        return given_differs(o->capture, session, "--hold-exposure", a, b);
    }
    ro->hold_share_ppm = set->hold_share_ppm;
    /* the pattern rules decide records: the same, or refused (the prices
     * and labels files are in the capture by their digests only) */
    json_t *mine = eth_rules_json(o->rules);
    if (mine == NULL) {
        fprintf(stderr, "chainwatch: replay: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    char what[128], rt[200], gt[200];
    /* rules on or off first: it explains every other difference */
    bool differs = capture_settings_diff(json_object_get(set->rules, "enabled"), json_object_get(mine, "enabled"),
                                         "rules.enabled", what, sizeof what, rt, gt, sizeof rt) ||
                   capture_settings_diff(set->rules, mine, "rules", what, sizeof what, rt, gt, sizeof rt);
    json_decref(mine);
    if (differs) {
        fprintf(stderr, "chainwatch: replay: %s: session %u: the pattern rules differ from the recording's at %s: "
                        "recorded %s, given %s: pass the rules options watch ran with (--rules, --prices, the bands, "
                        "windows and weights of docs/rules.md, --labels)\n", o->capture, session, what, rt, gt);
        return CLI_EXIT_USAGE;
    }
    char lab[65];
    eth_labels_digest(o->labels, lab);
    if (strcmp(lab, set->labels_blake2b) != 0) {
        char ra[80], ga[80];
        snprintf(ra, sizeof ra, set->labels_blake2b[0] ? "a file of BLAKE2b %s" : "none", set->labels_blake2b);
        snprintf(ga, sizeof ga, lab[0] ? "a file of BLAKE2b %s" : "none", lab);
        fprintf(stderr, "chainwatch: replay: %s: session %u: --labels differs from the recording's: recorded %s, "
                        "given %s: pass the --labels file watch ran with, unchanged (it is not in the capture)\n",
                o->capture, session, ra, ga);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* The datadir and the node (block 0, answered from the capture) as the
 * recording's session began: the same chain id, the same tip (height and
 * hash). CLI_EXIT_OK or the exit code after the message. */
static int tron_session_check(run_ctx *c, const account_run_opts *o, const tron_session *s, unsigned session)
{
    const capture_settings *set = &s->set;
    if (c->chain_id != set->chain_id || strcmp(c->network, s->network) != 0) {
        fprintf(stderr, "chainwatch: replay: %s: session %u: the chain differs from the recording's: recorded chain id "
                        "%llu (the header says %s), the capture's block 0 gives %llu (%s): a damaged capture\n",
                o->capture, session, (unsigned long long)set->chain_id, s->network, (unsigned long long)c->chain_id,
                c->network);
        return CLI_EXIT_USAGE;
    }
    pipeline_stats st0;
    pipeline_stats_get(account_pipeline(c->a), &st0);
    char hash_now[67];
    cw_err terr = {0};
    if (run_tip_hash(c, hash_now, &terr))
        return cli_fail("replay", &terr);
    if (st0.tip_height != set->tip || strcmp(hash_now, set->tip_hash) != 0) {
        char then[120], now[120];
        snprintf(then, sizeof then, set->tip < 0 ? "none (a new datadir)" : "block %lld %s", (long long)set->tip,
                 set->tip_hash);
        snprintf(now, sizeof now, st0.tip_height < 0 ? "none (a new datadir)" : "block %lld %s",
                 (long long)st0.tip_height, hash_now);
        fprintf(stderr, "chainwatch: replay: %s: session %u: this datadir's tron chain is not where the recording "
                        "began: recorded tip %s, this datadir's tip %s%s: replay into a datadir in the recorded state "
                        "(a new one, when the recording began on a new one)%s\n", o->capture, session, then, now,
                st0.tip_height > set->tip ? " (past it: replayed already, or followed further)"
                : st0.tip_height == set->tip ? " (another branch or chain at that height)" : "",
                session > 1 ? "; a watch killed between asking for a block and recording it leaves a capture that "
                              "replays only up to there" : "");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Totals over a capture's sessions. */
typedef struct {
    uint64_t messages, bad, warnings, sessions;
    pipeline_stats st; /* blocks, alerts and rules summed; tip_height the last session's */
    char network[32];
} tron_replay_sums;

static void tron_sums_add(tron_replay_sums *sum, const pipeline_stats *st)
{
    sum->st.blocks_connected += st->blocks_connected;
    sum->st.blocks_disconnected += st->blocks_disconnected;
    sum->st.alerts += st->alerts;
    sum->st.txs += st->txs;
    for (int i = 0; i < PIPELINE_RULE_COUNT; i++)
        sum->st.by_rule[i] += st->by_rule[i];
    sum->st.rules.txs += st->rules.txs;
    sum->st.rules.payments += st->rules.payments;
    sum->st.rules.sweeps += st->rules.sweeps;
    sum->st.rules.traced += st->rules.traced;
    sum->st.tip_height = st->tip_height;
}

/* The recording's --tokens file, as it was then, written to a temporary
 * file (tokpath, a mkstemp template the caller owns and unlinks once the
 * run has read it) because the run takes tokens by path. *path is set to
 * tokpath, or left as it is when the recording had no --tokens.
 * CLI_EXIT_OK, or CLI_EXIT_FAIL after the message (nothing left behind). */
static int capture_tokens_file(const cw_buf *tokens, char *tokpath, const char **path)
{
    if (tokens == NULL || tokens->n == 0)
        return CLI_EXIT_OK;
    int fd = mkstemp(tokpath);
    if (fd >= 0)
        errno = 0; /* a short write sets none; mkstemp's tries may have left one */
    bool ok = fd >= 0 && write(fd, tokens->p, tokens->n) == (ssize_t)tokens->n;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    int e = errno;
    if (!ok) {
        fprintf(stderr, "chainwatch: replay: cannot write the capture's tokens to %s: %s\n", tokpath,
                fd >= 0 && e == 0 ? "short write" : strerror(e));
        if (fd >= 0)
            unlink(tokpath);
        return CLI_EXIT_FAIL;
    }
    *path = tokpath;
    return CLI_EXIT_OK;
}

/* One watch run of the capture: its options (ro), the datadir checked
 * against its settings s (NULL: an older capture, unchecked), then every
 * trigger up to the end of the file or the next settings record (*next
 * set, read into s). CLI_EXIT_OK or the exit code after the message. */
static int tron_replay_session(const account_run_opts *ro, tron_answers *ans, capture_reader *r, tron_session *s,
                               unsigned session, tron_replay_sums *sum, bool *next)
{
    *next = false;
    char tokpath[] = "/tmp/chainwatch-tokens-XXXXXX";
    account_run_opts o2 = *ro;
    o2.tokens = NULL;
    if (capture_tokens_file(s ? &s->tokens : NULL, tokpath, &o2.tokens))
        return CLI_EXIT_FAIL;
    run_ctx c = {.verb = "replay", .sink = {.fd = -1}, .answers = ans};
    int rc = run_open(&c, &o2, o2.start, false);
    if (o2.tokens)
        unlink(tokpath);
    if (rc == CLI_EXIT_OK && s)
        rc = tron_session_check(&c, ro, s, session);
    if (rc) {
        run_close(&c);
        return rc;
    }
    snprintf(sum->network, sizeof sum->network, "%s", c.network);
    pipeline_stats st0;
    pipeline_stats_get(account_pipeline(c.a), &st0);
    tron_follow_set_tip(c.tron, st0.tip_height);
    feed_tron *feed = tron_follow_feed(c.tron);
    cw_err err = {0};
    for (;;) {
        if (cli_stop_requested()) {
            rc = 130;
            break;
        }
        feed_message m;
        bool got;
        cw_err rerr = {0};
        if (capture_read(r, &m, &got, &rerr)) {
            fprintf(stderr, "chainwatch: replay: %s (the records before it are written)\n", rerr.msg);
            rc = rerr.code == CW_EIO ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
            break;
        }
        if (!got)
            break;
        if (is_settings_record(r, &m)) { /* the live watch stopped here and was started again */
            if (s == NULL) {
                fprintf(stderr, "chainwatch: replay: %s: record at byte %llu: a settings record in a capture that "
                                "began without one (a damaged capture)\n", ro->capture,
                        (unsigned long long)capture_reader_offset(r));
                rc = CLI_EXIT_USAGE;
            } else if (tron_session_read(ro->capture, r, &m, s, &err)) {
                fprintf(stderr, "chainwatch: replay: %s (the records before it are written)\n", err.msg);
                rc = err.code == CW_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
            } else {
                *next = true;
            }
            break;
        }
        if (capture_reader_kind(r) == CAPTURE_REC_HTTP)
            continue;
        sum->messages++;
        if (m.nframes == 2)
            feed_tron_take(feed, (const char *)m.frame[0], m.len[0], (const char *)m.frame[1], m.len[1]);
        else
            sum->bad++; /* the live feed refused it the same way: not 2 frames */
        /* as watch's loop does after reading the queue */
        cw_code trc = tron_follow_poll(c.tron, 0, &sum->bad, &err);
        if (trc) {
            sum->warnings++;
            run_log("replay", "warn", "refilling a gap: %s", err.msg);
        }
        cw_code prc = account_poll_pending(c.a, &err);
        if (store_error_stops(prc)) {
            rc = cli_exit_status(prc);
            run_log("replay", "error", "stopping: the store failed (%s)", err.msg);
            break;
        }
        if (prc) {
            sum->warnings++;
            run_log("replay", "warn", "pending txs: %s", err.msg);
        }
        cw_code src = account_sync(c.a, &err);
        if (store_error_stops(src)) {
            rc = cli_exit_status(src);
            run_log("replay", "error", "stopping: the store failed (%s)", err.msg);
            break;
        }
        if (src == CW_ECHECKSUM) { /* as watch: the node's chain cannot be followed (account.h) */
            rc = CLI_EXIT_FAIL;
            run_log("replay", "error", "stopping: %s", err.msg);
            break;
        }
        if (src) {
            sum->warnings++;
            run_log("replay", "warn", "following the capture: %s", err.msg);
        }
    }
    pipeline *p = account_pipeline(c.a);
    if (pipeline_flush(p, &err)) {
        run_log("replay", "warn", "final flush: %s (the records stay in the outbox)", err.msg);
        if (rc == CLI_EXIT_OK) /* the alerts file's failure is 1, the store's 3 */
            rc = cli_exit_status(err.code) == CLI_EXIT_UNCHECKED ? CLI_EXIT_UNCHECKED : CLI_EXIT_FAIL;
    }
    pipeline_stats st;
    pipeline_stats_get(p, &st);
    tron_sums_add(sum, &st);
    sum->sessions++;
    run_close(&c);
    return rc;
}

int account_run_replay_tron_capture(const account_run_opts *o)
{
    tron_answers ans = {.file = o->capture};
    int rc = load_answers(o->capture, &ans);
    if (rc) {
        tron_answers_free(&ans);
        return rc;
    }
    account_run_opts ro = *o;
    ro.zmq_tron = "inproc://chainwatch-replay"; /* nothing publishes there: the capture's messages are taken */
    ro.tron_http = "http://capture.invalid";     /* never asked: answered from the capture */
    capture_reader *r = NULL;
    cw_err err = {0};
    tron_session s = {.tokens = CW_BUF_INIT};
    bool legacy = false;
    feed_message m;
    bool got = false;
    /* the first record: the settings record, read before anything is replayed */
    capture_info info;
    if (capture_reader_open(o->capture, &r, &info, &err)) {
        rc = cli_fail("replay", &err);
    } else if (capture_read(r, &m, &got, &err) || !got) {
        if (!got && err.code == CW_OK)
            cw_err_set(&err, CW_ETRUNC, capture_reader_pos(r), "%s: byte %llu: no settings record (the recording "
                       "never began)", o->capture, (unsigned long long)capture_reader_pos(r));
        fprintf(stderr, "chainwatch: replay: %s: refused, nothing replayed\n", err.msg);
        rc = err.code == CW_EIO || err.code == CW_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    } else if (!is_settings_record(r, &m)) {
        /* written before captures carried their settings: readable, unchecked */
        legacy = true;
        fprintf(stderr, "chainwatch: replay: warning: %s has no settings record (written by an older chainwatch): "
                        "nothing checks that the options given (--start-height, the exposure and rules options) and "
                        "this datadir are the recording's; replaying with them as given\n", o->capture);
        capture_reader_close(r);
        r = NULL;
        if (capture_reader_open(o->capture, &r, NULL, &err))
            rc = cli_fail("replay", &err);
    } else if (tron_session_read(o->capture, r, &m, &s, &err)) {
        fprintf(stderr, "chainwatch: replay: %s: refused, nothing replayed\n", err.msg);
        rc = err.code == CW_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    } else {
        snprintf(s.network, sizeof s.network, "%s", info.network);
    }
    cli_stop_install();
    tron_replay_sums sum = {.st = {.tip_height = -1}};
    double t0 = cli_seconds();
    for (unsigned session = 1; rc == CLI_EXIT_OK; session++) {
        account_run_opts so = ro;
        if (!legacy && (rc = tron_session_options(&ro, &s, session, &so)))
            break;
        bool next = false;
        rc = tron_replay_session(&so, &ans, r, legacy ? NULL : &s, session, &sum, &next);
        if (!next)
            break;
    }
    if (sum.sessions) {
        printf("replayed tron %s capture %s into %s\n", sum.network, o->capture, o->datadir);
        printf("  sessions    %llu watch run%s%s\n", (unsigned long long)sum.sessions, sum.sessions == 1 ? "" : "s",
               legacy ? " (no settings recorded: run with the options given)" : ", with the recorded settings");
        printf("  messages    %llu (%llu malformed)\n", (unsigned long long)sum.messages, (unsigned long long)sum.bad);
        printf("  http        %zu recorded replies\n", ans.n);
        printf("  blocks      %llu connected, %llu disconnected, tip %lld\n",
               (unsigned long long)sum.st.blocks_connected, (unsigned long long)sum.st.blocks_disconnected,
               (long long)sum.st.tip_height);
        print_alerts_and_rules(&sum.st);
        printf("  warnings    %llu\n", (unsigned long long)sum.warnings);
        printf("  elapsed     %.2f s\n", cli_seconds() - t0);
    }
    tron_session_free(&s);
    capture_reader_close(r);
    tron_answers_free(&ans);
    return rc;
}

/* ---- replay --capture of an Ethereum capture ---- */

/* Reads an Ethereum capture through before anything is replayed: its
 * settings record (the first; *settings a new reference, its tokens bytes
 * appended to tokens) and how many exchanges follow. The reader's errors
 * (a cut or damaged capture, with the offset), and CW_EFORMAT with the
 * offset for a record that is no exchange, a first record that is no
 * settings record or settings that are not a JSON object. */
static cw_code eth_capture_scan(const char *path, json_t **settings, cw_buf *tokens, uint64_t *exchanges, cw_err *err)
{
    *settings = NULL;
    *exchanges = 0;
    capture_reader *r;
    capture_info info;
    cw_code rc = capture_reader_open(path, &r, &info, err);
    if (rc)
        return rc;
    if (info.chain != CAPTURE_CHAIN_ETHEREUM)
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s is a capture of %s, not ethereum", path,
                        capture_chain_name(info.chain));
    for (bool first = true; rc == CW_OK; first = false) {
        feed_message m;
        bool got = false;
        if ((rc = capture_read(r, &m, &got, err)) || !got)
            break;
        uint64_t at = capture_reader_offset(r);
        capture_eth_kind kind;
        cw_code outcome;
        if ((rc = capture_eth_record(r, &m, &kind, &outcome, err)))
            break;
        if (first && kind != CAPTURE_ETH_SETTINGS) {
            rc = cw_err_set(err, CW_EFORMAT, at, "%s: record at byte %llu: the first record is not the settings record",
                            path, (unsigned long long)at);
        } else if (kind == CAPTURE_ETH_SETTINGS) { /* the first, or a watch started again on the same file */
            json_t *later = NULL;
            json_t **dst = first ? settings : &later;
            json_error_t je;
            if ((*dst = json_loadb((const char *)m.frame[1], m.len[1], 0, &je)) == NULL || !json_is_object(*dst))
                rc = cw_err_set(err, CW_EFORMAT, at, "%s: record at byte %llu: the settings are not a JSON object",
                                path, (unsigned long long)at);
            else if (first)
                rc = cw_buf_append(tokens, m.frame[2], m.len[2], err);
            json_decref(later);
        } else {
            (*exchanges)++;
        }
    }
    if (rc == CW_OK && *settings == NULL)
        rc = cw_err_set(err, CW_ETRUNC, capture_reader_pos(r), "%s: byte %llu: no settings record (the recording "
                        "never began)", path, (unsigned long long)capture_reader_pos(r));
    capture_reader_close(r);
    if (rc) {
        json_decref(*settings);
        *settings = NULL;
    }
    return rc;
}

static int64_t setting(const json_t *s, const char *name, int64_t dflt)
{
    json_t *v = json_object_get(s, name);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* Totals over a capture's sessions (one per watch run that recorded to it). */
typedef struct {
    uint64_t polls, failed, connected, disconnected, alerts;
    int64_t tip;
    char network[32];
} eth_replay_sums;

/* One session: the settings `set` and tokens as the live watch had them,
 * its polls until the capture says it stopped (or the replay diverged).
 * CLI_EXIT_OK, or the exit code after the message. */
static int eth_replay_session(const account_run_opts *o, eth_answers *ans, const json_t *set, const cw_buf *tokens,
                              unsigned session, eth_replay_sums *sum)
{
    account_run_opts ro = *o;
    ro.confirmations = setting(set, "confirmations", 1);
    ro.finalized = setting(set, "finalized", 0) != 0;
    ro.start = setting(set, "start", -1);
    ro.max_reorg = setting(set, "max_reorg", 0);
    int drc = depth_given_differs(o, session, ro.confirmations, ro.finalized, ro.max_reorg);
    if (drc)
        return drc;
    ro.rpc = "http://capture.invalid"; /* never asked: answered from the capture */
    ro.rpc_rate = 0;
    ro.tokens = NULL;
    int64_t tip_then = setting(set, "tip", -1);
    int64_t hops = setting(set, "hops", 0), min_ppm = setting(set, "min_share_ppm", 0),
            hold_ppm = setting(set, "hold_share_ppm", 0);
    if (hops != (int64_t)o->hops || min_ppm != (int64_t)o->min_share_ppm || hold_ppm != (int64_t)o->hold_share_ppm) {
        fprintf(stderr, "chainwatch: replay: %s was recorded with exposure over %lld hops (min share %lld ppm, hold "
                        "from %lld ppm); this replay has %u hops (%u, %u ppm): pass the clustering and exposure "
                        "options watch ran with\n", o->capture, (long long)hops, (long long)min_ppm,
                (long long)hold_ppm, o->hops, o->min_share_ppm, o->hold_share_ppm);
        return CLI_EXIT_USAGE;
    }
    /* the pattern rules decide records too: the same, or refused */
    json_t *mine = eth_rules_json(o->rules);
    const json_t *theirs = json_object_get(set, "rules");
    if (mine)
        rules_json_compat(mine, theirs);
    bool same = mine && theirs && json_equal(mine, (json_t *)theirs);
    if (!same) {
        char *a = theirs ? json_dumps(theirs, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        char *b = mine ? json_dumps(mine, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        fprintf(stderr, "chainwatch: replay: %s: session %u was recorded with other pattern rules options than this "
                        "replay's (they would give other records): pass the rules options watch ran with "
                        "(--rules, --prices, the bands, windows and weights of docs/rules.md)\n  recorded: %s\n  "
                        "this replay: %s\n", o->capture, session, a ? a : "(none: recorded by an older watch)",
                b ? b : "(out of memory)");
        free(a), free(b);
        json_decref(mine);
        return mine ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    json_decref(mine);
    /* so do the --labels (not in the capture: the same file, or refused) */
    char lab[65];
    eth_labels_digest(o->labels, lab);
    const char *lab_then = json_string_value(json_object_get(set, "labels_blake2b"));
    if (lab_then == NULL || strcmp(lab_then, lab) != 0) {
        fprintf(stderr, "chainwatch: replay: %s: session %u was recorded with %s; this replay has %s: pass the "
                        "--labels file (and --clusters) watch ran with, unchanged\n", o->capture, session,
                lab_then == NULL ? "labels unknown (an older watch)" : lab_then[0] ? "a --labels file" : "no --labels",
                lab[0] ? (lab_then && lab_then[0] ? "another --labels file" : "a --labels file") : "none");
        return CLI_EXIT_USAGE;
    }
    char tokpath[] = "/tmp/chainwatch-tokens-XXXXXX";
    if (capture_tokens_file(tokens, tokpath, &ro.tokens))
        return CLI_EXIT_FAIL;
    run_ctx c = {.verb = "replay", .sink = {.fd = -1}, .eth_ans = ans};
    int rc = run_open(&c, &ro, ro.start, false);
    if (ro.tokens)
        unlink(tokpath);
    if (rc == CLI_EXIT_OK) {
        pipeline_stats st0;
        pipeline_stats_get(account_pipeline(c.a), &st0);
        if (st0.tip_height != tip_then) {
            fprintf(stderr, "chainwatch: replay: session %u of the recording began on a datadir whose tip was block "
                            "%lld; this one's is %lld: replay into a datadir in that state (a new one, when the "
                            "recording began on a new one)%s\n", session, (long long)tip_then,
                    (long long)st0.tip_height,
                    session > 1 ? " (a watch killed between asking for a block and recording it leaves a capture "
                                  "that replays only up to there)" : "");
            rc = CLI_EXIT_USAGE;
        }
    }
    if (rc == CLI_EXIT_OK) { /* the same height on another branch would not follow the capture either */
        const char *hash_then = json_string_value(json_object_get(set, "tip_hash"));
        char hash_now[67];
        cw_err terr = {0};
        if (run_tip_hash(&c, hash_now, &terr)) {
            rc = cli_fail("replay", &terr);
        } else if (hash_then == NULL || strcmp(hash_then, hash_now) != 0) {
            fprintf(stderr, "chainwatch: replay: session %u of the recording began on a datadir whose tip was block "
                            "%lld %s; this one's tip is block %lld %s: it followed another branch, so the recorded "
                            "answers would not follow it: replay into a datadir on the recorded branch (a copy of "
                            "the live one as it was, or one filled by replay --from/--to from a node on that "
                            "branch)\n", session, (long long)tip_then,
                    hash_then == NULL ? "(hash unknown: recorded by an older watch)" : hash_then[0] ? hash_then
                                                                                                     : "(none)",
                    (long long)tip_then, hash_now[0] ? hash_now : "(none)");
            rc = CLI_EXIT_USAGE;
        }
    }
    if (rc) {
        run_close(&c);
        return rc;
    }
    snprintf(sum->network, sizeof sum->network, "%s", c.network);
    poll_log pend = {"replay", "pending txs", "(as the live run had it)", false, "", 0, 0, NULL};
    poll_log follow = {"replay", "following the node", "(as the live run had it)", false, "", 0, 0, NULL};
    pend.mute = follow.mute = &ans->done;
    cw_err err = {0};
    while (!ans->done) {
        if (cli_stop_requested()) {
            rc = 130;
            break;
        }
        sum->polls++;
        if ((rc = poll_once(&c, o->datadir, &pend, &follow, &err)))
            break;
    }
    if (ans->diverged) {
        fprintf(stderr, "chainwatch: replay: %s (the records before it are written)\n", ans->why.msg);
        if (rc == CLI_EXIT_OK)
            rc = ans->why.code == CW_EIO ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    pipeline *p = account_pipeline(c.a);
    if (pipeline_flush(p, &err)) {
        run_log("replay", "warn", "final flush: %s (the records stay in the outbox)", err.msg);
        if (rc == CLI_EXIT_OK) /* the alerts file's failure is 1, the store's 3 */
            rc = cli_exit_status(err.code) == CLI_EXIT_UNCHECKED ? CLI_EXIT_UNCHECKED : CLI_EXIT_FAIL;
    }
    pipeline_stats st;
    pipeline_stats_get(p, &st);
    sum->failed += pend.failures + follow.failures;
    sum->connected += st.blocks_connected;
    sum->disconnected += st.blocks_disconnected;
    sum->alerts += st.alerts;
    sum->tip = st.tip_height;
    run_close(&c);
    return rc;
}

int account_run_replay_eth_capture(const account_run_opts *o)
{
    json_t *set = NULL;
    cw_buf tokens = CW_BUF_INIT;
    uint64_t total = 0;
    cw_err err = {0};
    cw_code scan = eth_capture_scan(o->capture, &set, &tokens, &total, &err);
    if (scan) {
        fprintf(stderr, "chainwatch: replay: %s: refused, nothing replayed%s\n", err.msg,
                scan == CW_ETRUNC ? " (a recorder that crashed leaves its last record cut short: 'truncate -s "
                                    "OFFSET FILE' keeps the records before it)" : "");
        cw_buf_free(&tokens);
        return scan == CW_EIO || scan == CW_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    eth_answers ans = {.file = o->capture, .total = total};
    int rc = CLI_EXIT_OK;
    feed_message m;
    bool got = false;
    if (capture_reader_open(o->capture, &ans.r, NULL, &err) || capture_read(ans.r, &m, &got, &err)) /* the settings */
        rc = cli_fail("replay", &err);
    cli_stop_install();
    eth_replay_sums sum = {.tip = -1};
    double t0 = cli_seconds();
    unsigned sessions = 0;
    while (rc == CLI_EXIT_OK) {
        rc = eth_replay_session(o, &ans, set, &tokens, ++sessions, &sum);
        json_decref(set);
        set = NULL;
        if (rc || !ans.restart)
            break;
        /* the next watch run's settings; its exchanges follow */
        set = ans.next_set;
        ans.next_set = NULL;
        cw_buf_free(&tokens);
        tokens = ans.next_tokens;
        ans.next_tokens = (cw_buf)CW_BUF_INIT;
        ans.restart = ans.done = false;
        if (set == NULL) {
            fprintf(stderr, "chainwatch: replay: %s: the settings of session %u are not JSON\n", o->capture,
                    sessions + 1);
            rc = CLI_EXIT_USAGE;
        }
    }
    json_decref(set);
    json_decref(ans.next_set);
    cw_buf_free(&tokens);
    cw_buf_free(&ans.next_tokens);
    if (sessions && sum.network[0]) {
        printf("replayed ethereum %s capture %s into %s\n", sum.network, o->capture, o->datadir);
        printf("  exchanges   %llu of %llu answered (%llu polls, %u watch run%s)\n", (unsigned long long)ans.used,
               (unsigned long long)ans.total, (unsigned long long)sum.polls, sessions, sessions == 1 ? "" : "s");
        printf("  blocks      %llu connected, %llu disconnected, tip %lld\n", (unsigned long long)sum.connected,
               (unsigned long long)sum.disconnected, (long long)sum.tip);
        printf("  alerts      %llu records\n", (unsigned long long)sum.alerts);
        printf("  node errors %llu failed polls (as the live run saw them)\n", (unsigned long long)sum.failed);
        printf("  elapsed     %.2f s\n", cli_seconds() - t0);
    }
    capture_reader_close(ans.r);
    return rc;
}
