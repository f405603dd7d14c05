/* http_floor.c: the floor under `scripts/bench api`'s latency figures.
 *
 * A server that does nothing but answer: one thread, epoll, keep-alive,
 * every request (anything up to a blank line) answered with the same fixed
 * reply, as long as the one chainwatch gives a clean address. No parsing,
 * no store, no allocation per request. The bench runs wrk against it with
 * the same connections, cores and run length as against `serve`: what wrk
 * reports here is what this machine's scheduler, loopback and wrk itself
 * cost, and no server can be measured below it.
 *
 *   cw_httpfloor            listens on 127.0.0.1, an ephemeral port; prints
 *                           "listening on port N" and serves until killed.
 *
 * Loopback only, by construction: it binds INADDR_LOOPBACK.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define FLOOR_BODY "{\"identifications\":[]}"
/* Content-Length: the 22 bytes of FLOOR_BODY (checked at compile time) */
static const char floor_reply[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 22\r\n\r\n" FLOOR_BODY;
_Static_assert(sizeof FLOOR_BODY - 1 == 22, "Content-Length");

typedef struct {
    int fd;
    int matched; /* how much of "\r\n\r\n" the bytes read so far end with */
} floor_conn;

/* Counts the requests that end in buf (a blank line ends each: wrk sends
 * GETs without bodies), carrying a split "\r\n\r\n" across reads. */
static int floor_requests(floor_conn *c, const char *buf, ssize_t n)
{
    static const char end[] = "\r\n\r\n";
    int done = 0;
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == end[c->matched])
            c->matched++;
        else
            c->matched = buf[i] == '\r' ? 1 : 0;
        if (c->matched == 4) {
            done++;
            c->matched = 0;
        }
    }
    return done;
}

int main(void)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 512) ||
        getsockname(ls, (struct sockaddr *)&sa, &sl)) {
        fprintf(stderr, "cw_httpfloor: cannot listen on 127.0.0.1: %s\n", strerror(errno));
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev)) {
        fprintf(stderr, "cw_httpfloor: epoll: %s\n", strerror(errno));
        return 1;
    }
    printf("listening on port %u\n", (unsigned)ntohs(sa.sin_port));
    fflush(stdout);
    char buf[16384], out[64 * sizeof floor_reply];
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1);
        if (n < 0 && errno != EINTR)
            return 1;
        for (int i = 0; i < n; i++) {
            floor_conn *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    floor_conn *nc = calloc(1, sizeof *nc);
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
                    if (!nc || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev)) {
                        free(nc);
                        close(fd);
                        continue;
                    }
                    nc->fd = fd;
                }
                continue;
            }
            ssize_t got = read(c->fd, buf, sizeof buf);
            if (got <= 0) {
                if (got < 0 && (errno == EAGAIN || errno == EINTR))
                    continue;
                close(c->fd);
                free(c);
                continue;
            }
            /* replies to all requests read, in one write; a reply that does
             * not fit the socket at once closes the connection (wrk's
             * requests are answered long before a send buffer fills) */
            int k = floor_requests(c, buf, got);
            size_t len = 0;
            for (int r = 0; r < k && len + sizeof floor_reply <= sizeof out; r++, len += sizeof floor_reply - 1)
                memcpy(out + len, floor_reply, sizeof floor_reply - 1);
            if (len && write(c->fd, out, len) != (ssize_t)len) {
                close(c->fd);
                free(c);
            }
        }
    }
}
