/*
 * curl_why.h: why a libcurl transfer to a node failed, in words that are
 * the same at every try. The node followers (rpc.h for Ethereum,
 * tron_http.h for Tron) put it in their errors, and watch logs a poll's
 * error once until its text changes (account_run.c's poll_log): libcurl's
 * own message carries the elapsed time ("Failed to connect to 127.0.0.1
 * port 8545 after 0 ms: ...", "Operation timed out after 1002
 * milliseconds with 0 bytes received"), which made every failed poll of
 * the same outage a new error and a new log line.
 */
#ifndef CW_CURL_WHY_H
#define CW_CURL_WHY_H

#include <curl/curl.h>
#include <stddef.h>

/* Writes into out (cap bytes, NUL-terminated, cut to fit) the failure of
 * a transfer that returned cc with libcurl's error buffer ebuf (may be
 * empty: curl_easy_strerror(cc) is used):
 * - a timeout (CURLE_OPERATION_TIMEDOUT) names the configured limits
 *   instead of the elapsed time: "Timeout was reached (limits: 5000 ms to
 *   connect, 60000 ms in all)";
 * - any other message loses every " after N ms" / " after N milliseconds"
 *   (N digits), the rest kept as libcurl wrote it. */
void curl_why(CURLcode cc, const char *ebuf, long connect_timeout_ms, long timeout_ms, char *out, size_t cap);

#endif
