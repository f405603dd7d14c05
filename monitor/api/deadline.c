/* deadline.c: a bound on the time to send a request and to take its reply
 * (deadline.h). */
#include "deadline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

enum { PHASE_HANDLING, PHASE_RECEIVING, PHASE_SENDING };

struct api_deadline_conn {
    int fd;
    atomic_llong since_ms; /* when the phase began */
    atomic_int phase;
    bool cut;
    api_deadline_conn *prev, *next;
};

struct api_deadline {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    long long limit_ms;
    api_deadline_conn *head;
    _Atomic uint64_t cut_requests, cut_replies;
};

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
            if (now - atomic_load_explicit(&c->since_ms, memory_order_relaxed) > d->limit_ms) {
                shutdown(c->fd, SHUT_RDWR); /* MHD's next read or write fails; MHD closes it */
                c->cut = true;
                atomic_fetch_add_explicit(phase == PHASE_SENDING ? &d->cut_replies : &d->cut_requests, 1,
                                          memory_order_relaxed);
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

api_deadline *api_deadline_new(unsigned limit_s)
{
    api_deadline *d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    d->limit_ms = (long long)limit_s * 1000;
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
    atomic_init(&c->since_ms, mono_ms());
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

/* The time is stored before the phase, the phase with release order and
 * the watchdog reads it with acquire: it never sees a new phase with the
 * last phase's time (which would cut a reply early). A plain store on
 * x86. */
void api_deadline_sending(api_deadline_conn *c, long long now_ms)
{
    if (c == NULL)
        return;
    atomic_store_explicit(&c->since_ms, now_ms, memory_order_relaxed);
    atomic_store_explicit(&c->phase, PHASE_SENDING, memory_order_release);
}

void api_deadline_waiting(api_deadline_conn *c)
{
    if (c == NULL)
        return;
    atomic_store_explicit(&c->since_ms, mono_ms(), memory_order_relaxed);
    atomic_store_explicit(&c->phase, PHASE_RECEIVING, memory_order_release);
}

void api_deadline_counts(const api_deadline *d, uint64_t *requests, uint64_t *replies)
{
    *requests = d ? atomic_load_explicit(&((api_deadline *)d)->cut_requests, memory_order_relaxed) : 0;
    *replies = d ? atomic_load_explicit(&((api_deadline *)d)->cut_replies, memory_order_relaxed) : 0;
}
