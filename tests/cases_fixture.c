/* cases_fixture.c: see cases_fixture.h. */
#include "cases_fixture.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chains/buf.h"
#include "support.h"

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static int run(char **err, char *const *argv)
{
    char *out;
    int rc = run_cmd(argv, NULL, 0, &out, err);
    free(out);
    return rc;
}
#define cw(j, e, ...) run(e, (char *const[]){CW_BIN, __VA_ARGS__, NULL})

/* A datadir after replaying the regtest blocks with the list and CASES_EXPOSED_TAPROOT
 * watched: one hold (indirect exposure into the watched address). */
void cases_prepare_datadir(char *root, size_t cap, char *dd, size_t dcap)
{
    snprintf(root, cap, "/tmp/cw-cases-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    snprintf(dd, dcap, "%s/dd", root);
    char blocks[256], list[300], watch[300];
    snprintf(blocks, sizeof blocks, "%s/blocks", root);
    regtest_blocksdir(blocks);
    snprintf(list, sizeof list, "%s/list.csv", root);
    write_text(list, "chain,address,entity,program,note\n"
                     "bitcoin,bcrt1q4x7w9d6luc7ru88rk6ncknf55a5un4kyees2a0,Test front company,DPRK4,\n"
                     "bitcoin,mqBXtoBQx88vMij3Hj8YM3RXDDvbrNfx9v,Test IT worker,DPRK3,\n");
    snprintf(watch, sizeof watch, "%s/watch.txt", root);
    write_text(watch, CASES_EXPOSED_TAPROOT "\n");
    char *err;
    cr_assert_eq(cw(NULL, &err, "init", "--datadir", dd), 0, "%s", err);
    free(err);
    cr_assert_eq(cw(NULL, &err, "watchlist", "import", "csv", list, "--datadir", dd), 0, "%s", err);
    free(err);
}

int cases_replay(const char *root, const char *dd, char **err)
{
    char blocks[256], watch[300];
    snprintf(blocks, sizeof blocks, "%s/blocks", root);
    snprintf(watch, sizeof watch, "%s/watch.txt", root);
    return cw(NULL, err, "replay", "--blocksdir", blocks, "--datadir", (char *)dd, "--network", "regtest", "--watch",
              watch);
}

void cases_hold_datadir(char *root, size_t cap, char *dd, size_t dcap)
{
    cases_prepare_datadir(root, cap, dd, dcap);
    char *err;
    cr_assert_eq(cases_replay(root, dd, &err), 0, "%s", err);
    free(err);
}

void cases_rm_root(const char *root)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

/* ---- the webhook receiver ---- */


typedef struct {
    cw_buf body;
} upload;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *size, void **con_cls)
{
    (void)url, (void)version;
    receiver *r = cls;
    if (*con_cls == NULL) {
        upload *u = calloc(1, sizeof *u);
        *con_cls = u;
        return MHD_YES;
    }
    upload *u = *con_cls;
    if (*size) {
        cw_buf_append(&u->body, data, *size, NULL);
        *size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&r->mu);
    int status = 200;
    if (r->fail_first > 0) {
        r->fail_first--;
        status = r->status_when_failing;
    }
    json_t *o = json_object();
    const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Chainwatch-Signature");
    const char *seq = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Chainwatch-Seq");
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Chainwatch-Event");
    json_object_set_new(o, "method", json_string(method));
    json_object_set_new(o, "sig", json_string(sig ? sig : ""));
    json_object_set_new(o, "seq", json_integer(seq ? atoll(seq) : -1));
    json_object_set_new(o, "type", json_string(type ? type : ""));
    json_object_set_new(o, "body", json_stringn(u->body.p ? (const char *)u->body.p : "", u->body.n));
    json_object_set_new(o, "status", json_integer(status));
    json_array_append_new(r->got, o);
    pthread_mutex_unlock(&r->mu);
    int delay = atomic_load_explicit(&r->delay_ms, memory_order_relaxed);
    if (delay > 0)
        test_sleep_ms(delay);
    struct MHD_Response *resp = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)c, (void)code;
    upload *u = *con_cls;
    if (u) {
        cw_buf_free(&u->body);
        free(u);
    }
    *con_cls = NULL;
}

/* Starts a receiver on 127.0.0.1:port (0: a free one). */
receiver *receiver_start(unsigned port, int fail_first, int status_when_failing)
{
    receiver *r = calloc(1, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    atomic_init(&r->delay_ms, 0);
    r->fail_first = fail_first;
    r->status_when_failing = status_when_failing;
    r->got = json_array();
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL, on_request, r,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_done, r,
                            MHD_OPTION_END);
    cr_assert_not_null(r->d, "the receiver could not listen on 127.0.0.1:%u", port);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
    r->port = info->port;
    return r;
}

void receiver_stop(receiver *r)
{
    MHD_stop_daemon(r->d);
    json_decref(r->got);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

