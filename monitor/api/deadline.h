/*
 * deadline.h: a bound on the time a client may take to send a request,
 * and on the time it may take to read the reply.
 *
 * libmicrohttpd's connection timeout is on idleness: a client that sends a
 * request line or headers one byte every few seconds (slowloris) keeps a
 * connection, and a server thread's slot, for as long as it likes. The
 * server's own check (server.c) sees a dripped body only when bytes
 * arrive, and sees nothing before the headers are complete. The same holds
 * the other way: a client that reads a large reply a byte at a time (a
 * tiny receive window), or never, keeps the reply's buffer and the
 * connection for as long as it keeps reading under the idle limit.
 *
 * Design note. Each connection gets a small record (MHD's socket context,
 * from MHD_OPTION_NOTIFY_CONNECTION) holding its socket, a phase and the
 * time the phase began. Receiving: from the accept, then from the moment
 * the last reply was fully sent (keep-alive), until the whole request is
 * in. Handling: the handler runs (off the clock: a handler's own time is
 * its business, see server.h). Sending: from the moment the reply is
 * queued until MHD reports it completed (all of it handed to the kernel,
 * or the connection gone). A watchdog thread looks at every record four
 * times a second and, for one receiving or sending longer than the limit,
 * shuts the socket down (shutdown(2), never close: the descriptor stays
 * MHD's) so MHD's next read or write fails and MHD closes the connection
 * itself; it counts the cut by phase (api_deadline_counts, for /metrics):
 * a receiving connection that got no byte since the phase began is idle
 * (a keep-alive connection a client's pool holds, or one that never sent
 * anything), not a slow request, and is counted apart (the kernel's time
 * of the last data received, TCP_INFO, read only for a connection cut).
 * Records leave the list in MHD's CLOSED notification, under the list's
 * lock, before MHD closes the descriptor, so the watchdog never shuts down
 * a descriptor that was reused by another connection.
 *
 A request gets the limit (--api-timeout). A reply gets the limit plus a
 * second per reply_rate bytes of it (--api-reply-rate, 16 KB by default):
 * a reply the kernel takes whole is complete at once (Linux's send buffer
 * starts at tcp_wmem's 16 KB and grows with the window, up to 4 MB), but
 * to a distant or slow client a large reply takes as long as the link
 * needs, and a flat limit would cut a steady reader of a batch answer
 * (300 KB in 10 s is 30 KB/s). With the allowance a reader at reply_rate
 * or faster keeps any reply, and one that reads slower, or a byte at a
 * time, is still cut.
 *
 * Cost per request: five relaxed atomic stores and one clock read (the
 * next request's start, which the server read anyway before); the
 * reply's start reuses the time the server takes for its latency
 * histogram. The lock is taken per connection (start, close), not per
 * request.
 */
#ifndef CW_API_DEADLINE_H
#define CW_API_DEADLINE_H

#include <stddef.h>
#include <stdint.h>

typedef struct api_deadline api_deadline;
typedef struct api_deadline_conn api_deadline_conn;

/* A watchdog closing connections that take more than limit_s seconds to
 * send a request, or more than limit_s seconds plus one per reply_rate
 * bytes (> 0) to take a reply. NULL when out of memory or the thread
 * cannot start. */
api_deadline *api_deadline_new(unsigned limit_s, unsigned reply_rate);
/* Stops the watchdog and frees it; call after MHD_stop_daemon (every
 * connection closed). NULL is a no-op. */
void api_deadline_free(api_deadline *d);

/* A connection on socket fd was accepted: its record (NULL when out of
 * memory: the connection is then only under MHD's idle timeout). */
api_deadline_conn *api_deadline_open(api_deadline *d, int fd);
/* The connection closes: the record leaves the watch and is freed. */
void api_deadline_close(api_deadline *d, api_deadline_conn *c);
/* The whole request arrived (its handler runs): off the clock. */
void api_deadline_received(api_deadline_conn *c);
/* Its reply (reply_bytes of body) was queued at now_ms (CLOCK_MONOTONIC
 * milliseconds): the clock runs until the reply is fully sent. */
void api_deadline_sending(api_deadline_conn *c, long long now_ms, size_t reply_bytes);
/* Its reply was fully sent (or the request ended otherwise): the clock
 * starts again for the next request. */
void api_deadline_waiting(api_deadline_conn *c);

/* Connections cut since start: while sending a request (some of it
 * came, not all), while taking a reply, and idle (nothing of a request
 * came: a pooled keep-alive connection). d NULL: zeros. */
void api_deadline_counts(const api_deadline *d, uint64_t *requests, uint64_t *replies, uint64_t *idle);

#endif
