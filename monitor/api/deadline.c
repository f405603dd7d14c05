/* deadline.c: a bound on the time to send a request (deadline.h). */
#include "deadline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

struct api_deadline_conn {
    int fd;
    atomic_llong since_ms; /* when it started waiting for the request */
    atomic_bool receiving;
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
            if (c->cut || !atomic_load_explicit(&c->receiving, memory_order_relaxed))
                continue;
            if (now - atomic_load_explicit(&c->since_ms, memory_order_relaxed) > d->limit_ms) {
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
    atomic_init(&c->receiving, true);
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
        atomic_store_explicit(&c->receiving, false, memory_order_relaxed);
}

void api_deadline_waiting(api_deadline_conn *c)
{
    if (c == NULL)
        return;
    atomic_store_explicit(&c->since_ms, mono_ms(), memory_order_relaxed);
    atomic_store_explicit(&c->receiving, true, memory_order_relaxed);
}
