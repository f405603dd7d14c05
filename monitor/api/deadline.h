/*
 * deadline.h: a bound on the time a client may take to send a request.
 *
 * libmicrohttpd's connection timeout is on idleness: a client that sends a
 * request line or headers one byte every few seconds (slowloris) keeps a
 * connection, and a server thread's slot, for as long as it likes. The
 * server's own check (server.c) sees a dripped body only when bytes
 * arrive, and sees nothing before the headers are complete.
 *
 * Design note. Each connection gets a small record (MHD's socket context,
 * from MHD_OPTION_NOTIFY_CONNECTION) holding its socket and the time it
 * started waiting for a request: when it was accepted, then when its last
 * answer was queued (keep-alive). While the request is being received
 * (request line, headers, body) the record is "receiving"; once the whole
 * request is in and its handler runs it is not. A watchdog thread looks at
 * every record four times a second and, for one receiving longer than the
 * limit, shuts the socket down (shutdown(2), never close: the descriptor
 * stays MHD's) so MHD's next read fails and MHD closes the connection
 * itself. Records leave the list in MHD's CLOSED notification, under the
 * list's lock, before MHD closes the descriptor, so the watchdog never
 * shuts down a descriptor that was reused by another connection.
 *
 * Cost per request: two relaxed atomic stores; the lock is taken per
 * connection (start, close), not per request.
 */
#ifndef CW_API_DEADLINE_H
#define CW_API_DEADLINE_H

typedef struct api_deadline api_deadline;
typedef struct api_deadline_conn api_deadline_conn;

/* A watchdog closing connections that take more than limit_s seconds to
 * send a request. NULL when out of memory or the thread cannot start. */
api_deadline *api_deadline_new(unsigned limit_s);
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
/* Its answer was queued: the clock starts again for the next request. */
void api_deadline_waiting(api_deadline_conn *c);

#endif
