/* deadline.c: a bound on the time to send a request and to take its reply
 * (deadline.h). */
#include "deadline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_received */
#include <sys/socket.h>
#include <time.h>

/* RECEIVING: the first request, from the accept; WAITING: a later one,
 * from the last reply's end (keep-alive). Both on the clock. */
enum { PHASE_HANDLING, PHASE_RECEIVING, PHASE_SENDING, PHASE_WAITING };

struct api_deadline_conn {
    int fd;
    atomic_llong since_ms; /* when the phase began */
    atomic_llong extra_ms; /* sending: the reply's allowance past the limit */
    long long reply_rate;  /* the watchdog's, copied at open */
    atomic_int phase;
    bool cut;
    api_deadline_conn *prev, *next;
};

struct api_deadline {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    long long limit_ms, reply_rate;
    api_deadline_conn *head;
    _Atomic uint64_t cut_requests, cut_replies, cut_idle;
};

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether fd got any of a request in the phase being cut (waited_ms
 * long): a request begun and not finished (a slow one) rather than a
 * connection idle since its accept or since its last reply (a keep-alive
 * one a client's pool holds). From the kernel's TCP_INFO, read only for a
 * connection being cut, never per request: for the first request, any
 * byte received at all (bytes that came before the accept count too); for
 * a later one, data received since the last reply (the kernel's time of
 * the last data, in jiffies: a few ms coarse, hence 20 ms; a part of a
 * request pipelined before that reply's end reads as idle). Unknown: a
 * request. */
static bool received_in_phase(int fd, bool first, long long waited_ms)
{
    struct tcp_info ti;
    socklen_t n = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &n) != 0)
        return true;
    if (first)
        return n < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received ||
               ti.tcpi_bytes_received > 0;
    return (long long)ti.tcpi_last_data_recv + 20 < waited_ms;
}

static void *watchdog(void *arg)
{
    api_deadline *d = arg;
    pthread_mutex_lock(&d->mu);
    while (!d->stop) {
        long long now = mono_ms();
        for (api_deadline_conn *c = d->head; c; c = c->next) {
            int phase = atomic_load_explicit(&c->phase, memory_order_acquire);
            if (c->cut || phase == PHASE_HANDLING)
                continue;
            long long waited = now - atomic_load_explicit(&c->since_ms, memory_order_relaxed);
            long long extra = phase == PHASE_SENDING ? atomic_load_explicit(&c->extra_ms, memory_order_relaxed) : 0;
            if (waited > d->limit_ms + extra) {
                _Atomic uint64_t *n = phase == PHASE_SENDING ? &d->cut_replies
                                      : received_in_phase(c->fd, phase == PHASE_RECEIVING, waited) ? &d->cut_requests
                                                                                                    : &d->cut_idle;
                atomic_fetch_add_explicit(n, 1, memory_order_relaxed); /* counted before the client can see it */
                shutdown(c->fd, SHUT_RDWR); /* MHD's next read or write fails; MHD closes it */
                c->cut = true;
            }
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&d->cv, &d->mu, &until);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

api_deadline *api_deadline_new(unsigned limit_s, unsigned reply_rate)
{
    api_deadline *d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    d->limit_ms = (long long)limit_s * 1000;
    d->reply_rate = reply_rate ? reply_rate : 16384;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    if (pthread_create(&d->thread, NULL, watchdog, d) != 0) {
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->cv);
        free(d);
        return NULL;
    }
    return d;
}

void api_deadline_free(api_deadline *d)
{
    if (d == NULL)
        return;
    pthread_mutex_lock(&d->mu);
    d->stop = true;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    while (d->head) { /* none after MHD_stop_daemon; freed all the same */
        api_deadline_conn *n = d->head->next;
        free(d->head);
        d->head = n;
    }
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    free(d);
}

api_deadline_conn *api_deadline_open(api_deadline *d, int fd)
{
    api_deadline_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->fd = fd;
    c->reply_rate = d->reply_rate;
    atomic_init(&c->since_ms, mono_ms());
    atomic_init(&c->extra_ms, 0);
    atomic_init(&c->phase, PHASE_RECEIVING);
    pthread_mutex_lock(&d->mu);
    c->next = d->head;
    if (d->head)
        d->head->prev = c;
    d->head = c;
    pthread_mutex_unlock(&d->mu);
    return c;
}

void api_deadline_close(api_deadline *d, api_deadline_conn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&d->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        d->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&d->mu);
    free(c);
}

void api_deadline_received(api_deadline_conn *c)
{
    if (c)
        atomic_store_explicit(&c->phase, PHASE_HANDLING, memory_order_relaxed);
}

/* The time and allowance are stored before the phase, the phase with
 * release order and the watchdog reads it with acquire: it never sees a
 * new phase with the last phase's time (which would cut a reply early).
 * Plain stores on x86. */
void api_deadline_sending(api_deadline_conn *c, long long now_ms, size_t reply_bytes)
{
    if (c == NULL)
        return;
    atomic_store_explicit(&c->since_ms, now_ms, memory_order_relaxed);
    atomic_store_explicit(&c->extra_ms, (long long)reply_bytes * 1000 / c->reply_rate, memory_order_relaxed);
    atomic_store_explicit(&c->phase, PHASE_SENDING, memory_order_release);
}

void api_deadline_waiting(api_deadline_conn *c)
{
    if (c == NULL)
        return;
    atomic_store_explicit(&c->since_ms, mono_ms(), memory_order_relaxed);
    atomic_store_explicit(&c->phase, PHASE_WAITING, memory_order_release);
}

void api_deadline_counts(const api_deadline *d, uint64_t *requests, uint64_t *replies, uint64_t *idle)
{
    *idle = d ? atomic_load_explicit(&((api_deadline *)d)->cut_idle, memory_order_relaxed) : 0;
    *requests = d ? atomic_load_explicit(&((api_deadline *)d)->cut_requests, memory_order_relaxed) : 0;
    *replies = d ? atomic_load_explicit(&((api_deadline *)d)->cut_replies, memory_order_relaxed) : 0;
}
