/*
 * webhook.h: delivery of the webhook outbox (hookdb.h) to HTTP endpoints
 * (libcurl), signed with the datadir's Ed25519 key.
 *
 * Design note. Events are written by cases.c in the transaction of the
 * change they announce, so none is lost to a crash. Each endpoint has a
 * cursor in the store (the last event it took, the failed tries of the
 * next, when it may be tried again): events go to an endpoint one at a
 * time, in order, and a failing event holds back the ones after it, so a
 * receiver never sees "released" before "opened". A failed try is retried
 * after base, 2*base, 4*base, ... (capped at max) milliseconds counted
 * from the end of the failed try (a timeout included); after
 * max_tries failures the event becomes a dead letter for that endpoint
 * (kept in the store, listed by `chainwatch cases webhooks`) and the
 * cursor moves on. The cursor is written after every try, so a restart
 * continues where the last run stopped: at worst an event whose 2xx was
 * received but whose cursor write did not happen is sent again (receivers
 * deduplicate by the body's "seq"). Events every configured endpoint took
 * leave the store.
 *
 * The request: POST, Content-Type: application/json, the event's exact
 * bytes as body, and
 *   X-Chainwatch-Event: the event's type
 *   X-Chainwatch-Seq: the event's number
 *   X-Chainwatch-Signature: t=<unix seconds>,ed25519=<128 hex chars>
 * where the signature is Ed25519 (crypto_sign_detached) over the bytes
 * "<t>.<body>" with signing.key; a receiver checks it with signing.pub and
 * refuses a t far from its clock (replays). Any 2xx answer is delivery;
 * anything else (3xx included: redirects are not followed), a timeout or
 * a refused connection is a failed try.
 */
#ifndef CW_WEBHOOK_H
#define CW_WEBHOOK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/buf.h"
#include "chains/err.h"
#include "watchlists/store/store.h"

#define WEBHOOK_MAX_URLS 16

typedef struct {
    const char *urls[WEBHOOK_MAX_URLS]; /* http:// or https:// (webhook_url_valid) */
    size_t n_urls;
    uint32_t max_tries;   /* failed tries before a dead letter (0: 8) */
    uint64_t base_ms;     /* first retry delay (0: 1000) */
    uint64_t max_ms;      /* retry delay cap (0: 600000) */
    long timeout_ms;      /* per request, connect included (0: 5000) */
} webhook_config;

typedef struct {
    uint64_t delivered, failed, dead; /* tries of this pass */
    uint64_t pending;                 /* events still owed to some endpoint after the pass */
    uint64_t next_due_ms;             /* earliest retry time of a waiting endpoint, 0 when none waits */
} webhook_stats;

/* True when url is http:// or https:// with a host, at most 400 bytes,
 * no spaces or control characters. */
bool webhook_url_valid(const char *url);

/* Signs body for the X-Chainwatch-Signature header value, written into
 * out (at least 160 bytes): "t=<ts>,ed25519=<hex>". */
void webhook_sign(const uint8_t sk[64], long long ts, const char *body, size_t n, char *out, size_t cap);
/* Checks a header value against body and pk: true when it parses and the
 * signature holds (the timestamp's freshness is the receiver's call). */
bool webhook_verify(const uint8_t pk[32], const char *header, const char *body, size_t n);

/* One delivery pass over every configured endpoint at time now_ms (Unix
 * ms): each endpoint whose retry time has come gets its due events in
 * order until one fails or none is left (a failure's retry time counts
 * from the wall clock at the try's end, never before now_ms); then events every endpoint took
 * are pruned. Store writes go through store_write (no transaction of this
 * thread may be open). Store errors stop the pass and are returned; a
 * receiver's failure is not an error (it is counted and scheduled). stop,
 * when set and nonzero, ends the pass between two events; another thread
 * or a signal handler may set it during the pass (read with a relaxed
 * atomic_load: it carries only itself). */
cw_code webhook_pass(cw_store *s, const uint8_t sk[64], const webhook_config *cfg, uint64_t now_ms,
                     const atomic_int *stop, webhook_stats *st, cw_err *err);

/* The webhook state as JSON lines appended to out: one per endpoint with
 * a cursor ({"endpoint", "delivered", "attempts", "next_try_ms", "dead",
 * "pending"}) and one per dead letter ({"dead_letter": url, "seq",
 * "attempts", "error", "at", "event"}), then one summary line
 * {"events_stored", "last_seq"}: the events still in the store (a backlog
 * when no deliverer runs) and the last number handed out. */
cw_code webhook_status(store_txn *t, cw_buf *out, cw_err *err);

/* Unix time in milliseconds (CLOCK_REALTIME). */
uint64_t webhook_now_ms(void);

/* Takes <datadir>/webhooks.lock (fcntl, held until the fd is closed): one
 * deliverer per datadir, or two would send events twice and race on the
 * cursors. CW_EARG when another process holds it; CW_ESTORE when it cannot
 * be opened or made (a read-only datadir, a permission, no datadir: the
 * store's own directory, so the CLI's exit 3 as for a store it cannot
 * open), the message naming the path and the system's reason, err->cause
 * the errno. *fd: the lock's descriptor, for the caller to close. */
cw_code webhook_lock(const char *datadir, int *fd, cw_err *err);

/* Whether a delivery pass's error can pass by waiting: a store error
 * store_error_passes accepts (a resource short now: reader slots, disk
 * space, memory, a busy call), or CW_ENOMEM (memory other processes
 * hold). False for every other: it recurs identically on every pass.
 * `cases deliver` stops on those (exit 3); the runner below keeps trying
 * (its process has other work) and says in its log that it will not pass
 * by waiting. */
bool webhook_error_passes(const cw_err *err);

/* The log of a deliverer's store errors, rate-limited: `cases deliver`
 * and the runner below print the lines it writes. A store that fails now
 * and then (every other pass, say) must not log two lines a pass, and a
 * failure must still be seen at once. So:
 *   - "delivery to URL is failing: ERROR; ..." when a run of failed passes
 *     starts, unless such a line (or the two below) was logged less than
 *     window_ms ago; a run that starts inside that quiet time is counted
 *     instead, and announced by this line once the quiet time is over if
 *     it lasts that long ("failing for S s");
 *   - "delivery to URL still failing, now: ERROR" when a logged run's
 *     error changes, under the same quiet time;
 *   - "delivery to URL resumed after S s of store errors (N failed passes);
 *     P events still owed" when a run that was logged ends (one for each
 *     "is failing" line, so never more often than those);
 *   - "delivery to URL: N more runs of store errors came and went ..." with
 *     the runs and failed passes that were counted rather than logged, and
 *     the last error: at the first pass that works once the quiet time is
 *     over, and at the end (webhook_errlog_end); the next "is failing"
 *     line carries them instead when it comes first.
 * A store failing every other pass thus logs one "is failing" and one
 * "resumed" line per window, the rest folded into counts, and nothing is
 * left uncounted at a stop. Not thread-safe: one per deliverer. */
#define WEBHOOK_LOG_WINDOW_MS 60000
typedef enum { WEBHOOK_LOG_NONE = 0, WEBHOOK_LOG_ERROR, WEBHOOK_LOG_WARN, WEBHOOK_LOG_INFO } webhook_log_level;
typedef struct {
    uint64_t window_ms;    /* the quiet time after a line (0: WEBHOOK_LOG_WINDOW_MS) */
    uint64_t next_line_ms; /* no "is failing", "still failing" or "came and went" line before this */
    bool failing;          /* the last pass failed */
    bool told;             /* this run of failures has its "is failing" line */
    uint64_t run_since_ms, run_fails; /* the current (or last) run of failed passes */
    uint64_t hidden_runs, hidden_fails, hidden_since_ms; /* counted, not logged one by one */
    uint64_t runs, fails;  /* runs and failed passes since start */
    char run_msg[CW_ERR_MSG_MAX];    /* the current run's last error */
    char told_msg[CW_ERR_MSG_MAX];   /* the last error a line named */
    char hidden_msg[CW_ERR_MSG_MAX]; /* the last error of the counted runs */
} webhook_errlog;

/* l before the first pass; window_ms 0: WEBHOOK_LOG_WINDOW_MS. */
void webhook_errlog_init(webhook_errlog *l, uint64_t window_ms);
/* A pass ended in err at now_ms (the next try after retry_ms): writes the
 * line to log, if any, into line (cap bytes; 1024 hold any) and returns its
 * level, WEBHOOK_LOG_NONE when nothing is to be logged. */
webhook_log_level webhook_errlog_failed(webhook_errlog *l, const char *url, uint64_t now_ms, const cw_err *err,
                                        uint64_t retry_ms, char *line, size_t cap);
/* A pass worked at now_ms with pending events still owed: as above. */
webhook_log_level webhook_errlog_worked(webhook_errlog *l, const char *url, uint64_t now_ms, uint64_t pending,
                                        char *line, size_t cap);
/* The deliverer stops: the runs counted and not yet logged, if any, as
 * one "came and went" line (a run still failing included). */
webhook_log_level webhook_errlog_end(webhook_errlog *l, const char *url, uint64_t now_ms, char *line, size_t cap);

/* Delivery on a thread of its own (`serve --webhook`, `watch --webhook`):
 * takes the lock, loads the signing key, opens a writable view of base
 * (store_view_open) and runs webhook_pass every 200 ms or when a retry is
 * due, until webhook_runner_stop. A receiver's failure never stops it.
 *
 * A store error does not stop it either: the thread logs it on stderr
 * (rate-limited by webhook_errlog above: never once per try, nor two
 * lines per cycle of a store that comes and goes; a line about an error
 * that does not pass by waiting, webhook_error_passes, says so), keeps
 * the datadir's
 * webhooks.lock (the
 * cursors stay this process's to move: another deliverer would read the
 * same failing store, or race this thread once the store answers again;
 * webhook_pass leaves no transaction open), and tries a new pass after
 * WEBHOOK_STORE_RETRY_MIN_MS, doubled after each failed pass up to
 * WEBHOOK_STORE_RETRY_MAX_MS. The first pass that works logs the recovery
 * (of a run that was logged) and delivery goes on from the cursors: an event whose 2xx came but
 * whose cursor write failed is sent again (the at-least-once contract
 * above), none is skipped. webhook_runner_health reports the state, for
 * /healthz, /metrics and watch's status line.
 *
 * Errors from start: the lock's, the key's, the view's; CW_ENOMEM. */
#define WEBHOOK_STORE_RETRY_MIN_MS 200
#define WEBHOOK_STORE_RETRY_MAX_MS 10000
typedef struct webhook_runner webhook_runner;
cw_code webhook_runner_start(cw_store *base, const char *datadir, const webhook_config *cfg, webhook_runner **out,
                             cw_err *err);

/* The runner's state as of its last pass. */
typedef struct {
    const char *url;         /* the (first) endpoint, owned by the runner's config */
    bool failing;            /* the last pass ended in a store error */
    char error[CW_ERR_MSG_MAX]; /* that error's message ("" when not failing) */
    uint64_t failing_since_ms;  /* Unix ms of the first failed pass of this run of failures (0: not failing) */
    uint64_t retry_ms;          /* the current delay before the next pass while failing (0: not failing) */
    uint64_t store_errors;      /* failed passes since start */
    uint64_t delivered, failed, dead; /* tries since start (webhook_stats summed) */
    uint64_t pending;           /* events owed after the last pass that worked (unknown while failing) */
    bool pending_known;         /* a pass has worked since start: before its end (a backlog's first pass
                                 * can take minutes), pending is unknown, not 0 */
} webhook_health;

/* Copies r's state into h (a short lock shared with the thread; never
 * waits for a pass or a POST). r NULL: h zeroed. */
void webhook_runner_health(webhook_runner *r, webhook_health *h);

/* r's state as a phrase for a status line, written into out: "" when r
 * is NULL, else ", webhooks: D delivered, P pending" (", pending not yet
 * known" before the first pass ends) or, while store
 * errors stop delivery, ", webhooks: FAILING for S s (the error; next try
 * in T ms)". True when failing. */
bool webhook_runner_describe(webhook_runner *r, char *out, size_t cap);

/* Stops the thread (between two events), closes the view, frees r and
 * releases the lock. NULL is a no-op. Call before closing base, and after
 * anything that reads webhook_runner_health (an API server) is gone. */
void webhook_runner_stop(webhook_runner *r);

#endif
