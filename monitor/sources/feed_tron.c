#include "feed_tron.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define HIST 128

/* A block being assembled from its triggers. */
typedef struct {
    int64_t number;
    bool have_block;
    uint8_t hash[32];
    int64_t time_ms;
    uint64_t tx_count;
    uint8_t (*txids)[32];
    tron_trigger *txs;
    size_t n_txs, cap_txs;
} pblock;

struct feed_tron {
    void (*tap)(void *ctx, unsigned nframes, const void *const frame[3], const size_t len[3]);
    void *tap_ctx;
    feed_tron_config cfg;
    char endpoint[256];
    void *ctx, *sock;
    pblock *pb;
    size_t n_pb, cap_pb;
    feed_tron_event *q;
    size_t q_head, q_n, q_cap;
    feed_tron_event cur;
    bool cur_owned;
    int64_t last, top, solidified;
    struct {
        int64_t number;
        uint8_t hash[32];
    } hist[HIST];
    feed_tron_stats st;
    char *json;       /* NUL-terminated copy of a message's JSON for messages */
};

static void pb_clear(pblock *b)
{
    free(b->txids);
    for (size_t i = 0; i < b->n_txs; i++)
        tron_trigger_free(&b->txs[i]);
    free(b->txs);
    memset(b, 0, sizeof *b);
}

static void pb_remove(feed_tron *f, size_t i)
{
    pb_clear(&f->pb[i]);
    f->pb[i] = f->pb[--f->n_pb];
}

static pblock *pb_find(feed_tron *f, int64_t number, bool create)
{
    for (size_t i = 0; i < f->n_pb; i++)
        if (f->pb[i].number == number)
            return &f->pb[i];
    if (!create)
        return NULL;
    unsigned max = f->cfg.max_pending ? f->cfg.max_pending : 64;
    if (f->n_pb >= max) { /* the oldest goes; if still ahead, settling reads it over HTTP */
        size_t lo = 0;
        for (size_t i = 1; i < f->n_pb; i++)
            if (f->pb[i].number < f->pb[lo].number)
                lo = i;
        pb_remove(f, lo);
    }
    if (f->n_pb == f->cap_pb) {
        size_t cap = f->cap_pb ? f->cap_pb * 2 : 16;
        pblock *n = realloc(f->pb, cap * sizeof *n);
        if (n == NULL)
            return NULL;
        f->pb = n, f->cap_pb = cap;
    }
    pblock *b = &f->pb[f->n_pb++];
    memset(b, 0, sizeof *b);
    b->number = number;
    return b;
}

/* ---- the event queue ---- */

static feed_tron_event *q_push(feed_tron *f)
{
    if (f->q_head + f->q_n == f->q_cap) {
        if (f->q_head > 0) {
            memmove(f->q, f->q + f->q_head, f->q_n * sizeof *f->q);
            f->q_head = 0;
        } else {
            size_t cap = f->q_cap ? f->q_cap * 2 : 16;
            feed_tron_event *n = realloc(f->q, cap * sizeof *n);
            if (n == NULL)
                return NULL;
            f->q = n, f->q_cap = cap;
        }
    }
    feed_tron_event *e = &f->q[f->q_head + f->q_n++];
    memset(e, 0, sizeof *e);
    return e;
}

static void gap(feed_tron *f, int64_t number, const char *why)
{
    feed_tron_event *prev = f->q_n ? &f->q[f->q_head + f->q_n - 1] : NULL;
    f->st.gap_blocks++;
    if (prev && prev->kind == FEED_TRON_GAP && prev->gap_to + 1 == number) {
        prev->gap_to = number;
        return;
    }
    feed_tron_event *e = q_push(f);
    if (e == NULL)
        return; /* out of memory: the next blockTrigger's continuity check finds it again */
    f->st.gaps++;
    e->kind = FEED_TRON_GAP;
    e->gap_from = e->gap_to = number;
    snprintf(e->why, sizeof e->why, "%s", why);
}

static void remember(feed_tron *f, int64_t number, const uint8_t hash[32])
{
    f->hist[number % HIST].number = number;
    memcpy(f->hist[number % HIST].hash, hash, 32);
}

static const uint8_t *seen_hash(const feed_tron *f, int64_t number)
{
    return f->hist[number % HIST].number == number ? f->hist[number % HIST].hash : NULL;
}

/* The tx trigger of b for txid, or NULL. */
static tron_trigger *tx_of(pblock *b, const uint8_t txid[32])
{
    for (size_t i = 0; i < b->n_txs; i++)
        if (memcmp(b->txs[i].txid, txid, 32) == 0)
            return &b->txs[i];
    return NULL;
}

/* 1 whole, 0 waiting for triggers, -1 never whole (a tx trigger that cannot name its transfers). */
static int whole(pblock *b, char *why, size_t cap)
{
    if (!b->have_block) {
        snprintf(why, cap, "block %lld: its blockTrigger never came", (long long)b->number);
        return 0;
    }
    size_t have = 0;
    for (uint64_t i = 0; i < b->tx_count; i++) {
        tron_trigger *t = tx_of(b, b->txids[i]);
        if (t && !t->complete) {
            snprintf(why, cap, "block %lld: a transactionTrigger without its transfers (logList null: is ethCompatible on?)",
                     (long long)b->number);
            return -1;
        }
        have += t != NULL;
    }
    if (have < b->tx_count) {
        snprintf(why, cap, "block %lld: %zu of %llu transactionTriggers came", (long long)b->number, have,
                 (unsigned long long)b->tx_count);
        return 0;
    }
    return 1;
}

static void emit_block(feed_tron *f, pblock *b)
{
    size_t nx = 0;
    for (uint64_t i = 0; i < b->tx_count; i++)
        nx += tx_of(b, b->txids[i])->tx.n_xfer;
    feed_tron_event *e = q_push(f);
    tron_block *o = e ? &e->block : NULL;
    if (o == NULL || (o->txs = calloc(b->tx_count ? b->tx_count : 1, sizeof *o->txs)) == NULL ||
        (o->ctype = calloc(b->tx_count ? b->tx_count : 1, sizeof *o->ctype)) == NULL ||
        (o->xf = calloc(nx ? nx : 1, sizeof *o->xf)) == NULL) {
        if (o) {
            tron_block_free(o);
            f->q_n--;
        }
        gap(f, b->number, "out of memory assembling the block from its triggers");
        return;
    }
    e->kind = FEED_TRON_BLOCK;
    o->number = b->number;
    memcpy(o->hash, b->hash, 32);
    o->time_ms = b->time_ms;
    o->n_tx = b->tx_count;
    o->infos_applied = true;
    for (uint64_t i = 0; i < b->tx_count; i++) {
        tron_trigger *t = tx_of(b, b->txids[i]);
        o->txs[i] = t->tx;
        o->txs[i].xfer = o->xf + o->n_xf;
        memcpy(o->xf + o->n_xf, t->tx.xfer, t->tx.n_xfer * sizeof *o->xf);
        o->n_xf += t->tx.n_xfer;
        o->ctype[i] = t->contract_type;
    }
    f->st.blocks++;
}

/* Passes every block after f->last that can be decided: whole ones as
 * blocks; below f->top (a later blockTrigger came), the others as gaps. */
static void settle(feed_tron *f)
{
    for (;;) {
        int64_t k = f->last + 1;
        pblock *b = pb_find(f, k, false);
        char why[CW_ERR_MSG_MAX];
        int w = b ? whole(b, why, sizeof why) : 0;
        if (!b)
            snprintf(why, sizeof why, "block %lld: its blockTrigger never came", (long long)k);
        if (w == 1) {
            emit_block(f, b);
            remember(f, k, b->hash);
        } else if (k < f->top || w < 0) {
            gap(f, k, why);
            if (b && b->have_block)
                remember(f, k, b->hash);
        } else {
            return;
        }
        f->last = k;
        if (b)
            pb_remove(f, (size_t)(b - f->pb));
    }
}

static void bad(feed_tron *f, const char *fmt, const char *a, const char *b)
{
    f->st.bad++;
    feed_tron_event *e = q_push(f);
    if (e == NULL)
        return;
    e->kind = FEED_TRON_BAD;
    char tmp[2 * CW_ERR_MSG_MAX];
    snprintf(tmp, sizeof tmp, fmt, a, b);
    snprintf(e->why, sizeof e->why, "%.*s", (int)sizeof e->why - 1, tmp);
}

static void solid(feed_tron *f, int64_t s)
{
    if (s <= f->solidified)
        return;
    f->solidified = s;
    feed_tron_event *e = q_push(f);
    if (e) {
        e->kind = FEED_TRON_SOLIDIFIED;
        e->solidified = s;
    }
}

static void on_block(feed_tron *f, tron_trigger *t)
{
    int64_t n = t->block_number;
    if (f->last >= 0 && n <= f->last) {
        const uint8_t *h = seen_hash(f, n);
        if (h && memcmp(h, t->block_hash, 32) == 0) {
            f->st.duplicates++;
            return;
        }
        /* another block at a number already passed: the node switched forks */
        f->st.replaced++;
        f->last = n - 1;
        for (size_t i = 0; i < f->n_pb;)
            if (f->pb[i].number > n)
                pb_remove(f, i);
            else
                i++;
    }
    if (f->last < 0)
        f->last = n - 1; /* the first: what came before is the caller's (HTTP from its tip) */
    pblock *b = pb_find(f, n, true);
    if (b == NULL) {
        gap(f, n, "out of memory holding the block's triggers");
        return;
    }
    if (b->have_block && memcmp(b->hash, t->block_hash, 32) == 0) {
        f->st.duplicates++;
        return;
    }
    free(b->txids);
    b->have_block = true;
    memcpy(b->hash, t->block_hash, 32);
    b->time_ms = t->time_ms;
    b->tx_count = t->tx_count;
    b->txids = t->txids; /* taken */
    t->txids = NULL;
    /* tx triggers of another block at this number (the replaced one) go */
    for (size_t i = 0; i < b->n_txs;)
        if (b->txs[i].has_block_hash && memcmp(b->txs[i].block_hash, b->hash, 32) != 0) {
            tron_trigger_free(&b->txs[i]);
            b->txs[i] = b->txs[--b->n_txs];
        } else {
            i++;
        }
    f->top = n;
}

static void on_tx(feed_tron *f, tron_trigger *t)
{
    int64_t n = t->block_number;
    const uint8_t *h = seen_hash(f, n);
    if (f->last >= 0 && n <= f->last && (h == NULL || !t->has_block_hash || memcmp(h, t->block_hash, 32) == 0)) {
        f->st.late++;
        tron_trigger_free(t);
        return;
    }
    pblock *b = pb_find(f, n, true);
    if (b == NULL) {
        tron_trigger_free(t);
        return;
    }
    if (tx_of(b, t->txid)) {
        f->st.duplicates++;
        tron_trigger_free(t);
        return;
    }
    if (b->n_txs == b->cap_txs) {
        size_t cap = b->cap_txs ? b->cap_txs * 2 : 8;
        tron_trigger *nt = realloc(b->txs, cap * sizeof *nt);
        if (nt == NULL) {
            tron_trigger_free(t);
            return;
        }
        b->txs = nt, b->cap_txs = cap;
    }
    b->txs[b->n_txs++] = *t; /* taken */
    memset(t, 0, sizeof *t);
    /* the tx's transfers point into its own list (moved with it) */
    tron_trigger *mine = &b->txs[b->n_txs - 1];
    mine->tx.xfer = mine->xf;
}

void feed_tron_take(feed_tron *f, const char *topic, size_t topic_n, const char *json, size_t json_n)
{
    f->st.messages++;
    char name[40];
    snprintf(name, sizeof name, "%.*s", (int)(topic_n < 32 ? topic_n : 32), topic);
    tron_trigger_kind k = tron_trigger_kind_of(topic, topic_n);
    if (k == 0) {
        bad(f, "a message with topic '%s'%s: not a trigger chainwatch reads", name, "");
        return;
    }
    if (k != TRON_TRIG_BLOCK && k != TRON_TRIG_TX && k != TRON_TRIG_SOLIDITY)
        return; /* log and event triggers: the transactionTrigger's logList is what counts */
    tron_trigger t;
    cw_err err = {0};
    if (tron_trigger_parse(k, json, json_n, &t, &err)) {
        bad(f, "%s: %s", name, err.msg);
        tron_trigger_free(&t);
        return;
    }
    if (t.solidified >= 0)
        solid(f, t.solidified);
    if (k == TRON_TRIG_BLOCK)
        on_block(f, &t);
    else if (k == TRON_TRIG_TX)
        on_tx(f, &t);
    tron_trigger_free(&t);
    if (f->last >= 0)
        settle(f);
}

cw_code feed_tron_open(const feed_tron_config *cfg, feed_tron **out, cw_err *err)
{
    if (cfg->endpoint == NULL || strlen(cfg->endpoint) >= 256)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "--zmqpubtron: an endpoint is needed (tcp://host:port)");
    feed_tron *f = calloc(1, sizeof *f);
    if (f == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    f->cfg = *cfg;
    snprintf(f->endpoint, sizeof f->endpoint, "%s", cfg->endpoint);
    f->tap = cfg->tap;
    f->tap_ctx = cfg->tap_ctx;
    f->last = f->top = f->solidified = -1;
    for (int i = 0; i < HIST; i++)
        f->hist[i].number = -1;
    f->ctx = zmq_ctx_new();
    f->sock = f->ctx ? zmq_socket(f->ctx, ZMQ_SUB) : NULL;
    if (f->sock == NULL) {
        feed_tron_close(f);
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "ZeroMQ: %s", zmq_strerror(zmq_errno()));
    }
    int zero = 0, one = 1, hwm = cfg->rcvhwm ? cfg->rcvhwm : 100000, ivl = 100, ivlmax = 5000;
    int64_t maxmsg = cfg->maxmsgsize ? cfg->maxmsgsize : 16 << 20;
    zmq_setsockopt(f->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(f->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(f->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(f->sock, ZMQ_TCP_KEEPALIVE, &one, sizeof one);
    zmq_setsockopt(f->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt(f->sock, ZMQ_RECONNECT_IVL_MAX, &ivlmax, sizeof ivlmax);
    static const char *const topics[] = {"blockTrigger", "transactionTrigger", "solidityTrigger"};
    for (int i = 0; i < 3; i++)
        zmq_setsockopt(f->sock, ZMQ_SUBSCRIBE, topics[i], strlen(topics[i]));
    if (zmq_connect(f->sock, f->endpoint) != 0) {
        cw_err_set(err, CW_EARG, CW_NO_OFFSET, "--zmqpubtron: cannot use '%s': %s", f->endpoint,
                   zmq_strerror(zmq_errno()));
        feed_tron_close(f);
        return CW_EARG;
    }
    *out = f;
    return CW_OK;
}

static void drop_cur(feed_tron *f)
{
    if (f->cur_owned && f->cur.kind == FEED_TRON_BLOCK)
        tron_block_free(&f->cur.block);
    f->cur_owned = false;
}

void feed_tron_close(feed_tron *f)
{
    if (f == NULL)
        return;
    drop_cur(f);
    for (size_t i = 0; i < f->q_n; i++)
        if (f->q[f->q_head + i].kind == FEED_TRON_BLOCK)
            tron_block_free(&f->q[f->q_head + i].block);
    free(f->q);
    while (f->n_pb)
        pb_remove(f, 0);
    free(f->pb);
    if (f->sock)
        zmq_close(f->sock);
    if (f->ctx)
        zmq_ctx_term(f->ctx);
    free(f);
}

static bool pop(feed_tron *f, feed_tron_event *ev)
{
    if (f->q_n == 0)
        return false;
    f->cur = f->q[f->q_head++];
    f->q_n--;
    if (f->q_n == 0)
        f->q_head = 0;
    f->cur_owned = true;
    *ev = f->cur;
    return true;
}

cw_code feed_tron_next(feed_tron *f, int timeout_ms, feed_tron_event *ev, bool *got, cw_err *err)
{
    drop_cur(f);
    *got = pop(f, ev);
    if (*got)
        return CW_OK;
    zmq_pollitem_t it = {f->sock, 0, ZMQ_POLLIN, 0};
    int r = zmq_poll(&it, 1, timeout_ms);
    if (r < 0) {
        if (zmq_errno() == EINTR)
            return CW_OK;
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "ZeroMQ %s: %s", f->endpoint, zmq_strerror(zmq_errno()));
    }
    if (r == 0)
        return CW_OK;
    /* every frame of one message: [topic][json], nothing else */
    zmq_msg_t m[3];
    int n = 0;
    bool more = true, over = false;
    while (more) {
        zmq_msg_t *mm = &m[n < 3 ? n : 2];
        if (n >= 3)
            zmq_msg_close(mm);
        zmq_msg_init(mm);
        if (zmq_msg_recv(mm, f->sock, ZMQ_DONTWAIT) < 0) {
            int e = zmq_errno();
            zmq_msg_close(mm);
            for (int i = 0; i < (n < 3 ? n : 3); i++)
                zmq_msg_close(&m[i]);
            if (e == EAGAIN || e == EINTR)
                return CW_OK;
            return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "ZeroMQ %s: %s", f->endpoint, zmq_strerror(e));
        }
        more = zmq_msg_more(mm);
        n++;
        over |= n > 2;
    }
    if (f->tap) {
        const void *fr[3] = {0};
        size_t ln[3] = {0};
        for (int i = 0; i < (n < 3 ? n : 3); i++)
            fr[i] = zmq_msg_data(&m[i]), ln[i] = zmq_msg_size(&m[i]);
        f->tap(f->tap_ctx, (unsigned)n, fr, ln);
    }
    if (n != 2 || over) {
        char cnt[16];
        snprintf(cnt, sizeof cnt, "%d", n);
        bad(f, "a message of %s frames (java-tron sends 2: [trigger name][JSON])%s", cnt, "");
        f->st.messages++;
    } else {
        feed_tron_take(f, zmq_msg_data(&m[0]), zmq_msg_size(&m[0]), zmq_msg_data(&m[1]), zmq_msg_size(&m[1]));
    }
    for (int i = 0; i < (n < 3 ? n : 3); i++)
        zmq_msg_close(&m[i]);
    *got = pop(f, ev);
    return CW_OK;
}

int64_t feed_tron_last(const feed_tron *f) { return f->last; }

void feed_tron_set_last(feed_tron *f, int64_t number)
{
    f->last = number;
    if (f->top < number)
        f->top = number;
    for (size_t i = 0; i < f->n_pb;)
        if (f->pb[i].number <= number)
            pb_remove(f, i);
        else
            i++;
}

void feed_tron_stats_get(const feed_tron *f, feed_tron_stats *out) { *out = f->st; }
