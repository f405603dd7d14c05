#include "tron_http_server.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BLOCKS 256

typedef struct {
    int64_t number;
    char *block, *infos;
} entry;

struct tron_server {
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    char url[64];
    uint16_t port;
    entry e[MAX_BLOCKS];
    size_t n;
    int fail_status, fail_times, delay_ms;
    size_t requests, by_path[3];
};

typedef struct {
    char *body;
    size_t n, cap;
} upload;

static const char *const paths[3] = {"/wallet/getblockbynum", "/wallet/gettransactioninfobyblocknum",
                                     "/wallet/getnowblock"};

static entry *find(tron_server *s, int64_t number)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->e[i].number == number)
            return &s->e[i];
    return NULL;
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result ok = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *data, size_t *data_size, void **con_cls)
{
    (void)version;
    (void)method;
    tron_server *s = cls;
    upload *u = *con_cls;
    if (u == NULL) {
        *con_cls = calloc(1, sizeof *u);
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*data_size) { /* the JSON body, in pieces */
        if (u->n + *data_size + 1 > u->cap) {
            u->cap = (u->n + *data_size + 1) * 2;
            u->body = realloc(u->body, u->cap);
        }
        memcpy(u->body + u->n, data, *data_size);
        u->n += *data_size;
        u->body[u->n] = '\0';
        *data_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&s->mu);
    int delay = s->delay_ms;
    pthread_mutex_unlock(&s->mu);
    if (delay) {
        struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&s->mu);
    s->requests++;
    char *text = NULL;
    unsigned status = MHD_HTTP_OK;
    int p = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(url, paths[i]) == 0)
            p = i;
    if (p >= 0)
        s->by_path[p]++;
    int64_t num = -1;
    json_t *j = u->body ? json_loads(u->body, 0, NULL) : NULL;
    if (json_is_integer(json_object_get(j, "num")))
        num = json_integer_value(json_object_get(j, "num"));
    const char *q = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "num");
    if (q)
        num = strtoll(q, NULL, 10);
    json_decref(j);
    if (s->fail_times > 0) {
        s->fail_times--;
        status = (unsigned)s->fail_status;
        text = strdup("Injected failure");
    } else if (p < 0) {
        status = MHD_HTTP_NOT_FOUND;
        text = strdup("Not found");
    } else if (p == 2) {
        entry *best = NULL;
        for (size_t i = 0; i < s->n; i++)
            if (best == NULL || s->e[i].number > best->number)
                best = &s->e[i];
        text = strdup(best ? best->block : "{}");
    } else if (num < 0) {
        status = MHD_HTTP_BAD_REQUEST;
        text = strdup("{\"Error\":\"num is needed\"}");
    } else {
        entry *e = find(s, num);
        text = strdup(e == NULL ? (p == 0 ? "{}" : "[]") : p == 0 ? e->block : e->infos ? e->infos : "[]");
    }
    pthread_mutex_unlock(&s->mu);
    enum MHD_Result r = answer(conn, status, text);
    free(text);
    return r;
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    upload *u = *con_cls;
    if (u) {
        free(u->body);
        free(u);
    }
    *con_cls = NULL;
}

/* A daemon on 127.0.0.1:port (0: an ephemeral one). */
static struct MHD_Daemon *listen_on(tron_server *s, uint16_t port)
{
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_END); /* SO_REUSEADDR by default: the same port again */
}

tron_server *tron_server_start(void)
{
    tron_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    s->d = listen_on(s, 0);
    const union MHD_DaemonInfo *info = s->d ? MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info || info->port == 0) {
        fprintf(stderr, "tron_server: cannot listen on 127.0.0.1\n");
        tron_server_stop(s);
        return NULL;
    }
    s->port = info->port;
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%u", (unsigned)info->port);
    return s;
}

void tron_server_refuse(tron_server *s, bool refuse)
{
    if (refuse && s->d) {
        MHD_stop_daemon(s->d); /* the listening socket is closed: connections are refused */
        s->d = NULL;
    } else if (!refuse && s->d == NULL) {
        for (int i = 0; i < 100 && (s->d = listen_on(s, s->port)) == NULL; i++) {
            struct timespec ts = {0, 20000000L};
            nanosleep(&ts, NULL);
        }
        if (s->d == NULL)
            fprintf(stderr, "tron_server: cannot listen on 127.0.0.1:%u again\n", (unsigned)s->port);
    }
}

const char *tron_server_url(const tron_server *s) { return s->url; }

void tron_server_set(tron_server *s, int64_t number, const char *block_body, const char *infos_body)
{
    pthread_mutex_lock(&s->mu);
    entry *e = find(s, number);
    if (e) {
        free(e->block);
        free(e->infos);
        if (block_body == NULL) {
            *e = s->e[--s->n];
            pthread_mutex_unlock(&s->mu);
            return;
        }
    } else if (block_body && s->n < MAX_BLOCKS) {
        e = &s->e[s->n++];
    }
    if (e && block_body) {
        e->number = number;
        e->block = strdup(block_body);
        e->infos = infos_body ? strdup(infos_body) : NULL;
    }
    pthread_mutex_unlock(&s->mu);
}

void tron_server_fail(tron_server *s, int status, int times)
{
    pthread_mutex_lock(&s->mu);
    s->fail_status = status;
    s->fail_times = times;
    pthread_mutex_unlock(&s->mu);
}

void tron_server_delay(tron_server *s, int ms)
{
    pthread_mutex_lock(&s->mu);
    s->delay_ms = ms;
    pthread_mutex_unlock(&s->mu);
}

size_t tron_server_requests(const tron_server *s, const char *path)
{
    tron_server *m = (tron_server *)s;
    pthread_mutex_lock(&m->mu);
    size_t n = m->requests;
    for (int i = 0; path && i < 3; i++)
        if (strcmp(path, paths[i]) == 0)
            n = m->by_path[i];
    pthread_mutex_unlock(&m->mu);
    return n;
}

void tron_server_stop(tron_server *s)
{
    if (s == NULL)
        return;
    if (s->d)
        MHD_stop_daemon(s->d);
    for (size_t i = 0; i < s->n; i++)
        free(s->e[i].block), free(s->e[i].infos);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
