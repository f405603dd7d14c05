#include "curl_why.h"

#include <stdio.h>
#include <string.h>

void curl_why(CURLcode cc, const char *ebuf, long connect_timeout_ms, long timeout_ms, char *out, size_t cap)
{
    if (cap == 0)
        return;
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(out, cap, "%s (limits: %ld ms to connect, %ld ms in all)", curl_easy_strerror(cc),
                 connect_timeout_ms, timeout_ms);
        return;
    }
    const char *src = ebuf && ebuf[0] ? ebuf : curl_easy_strerror(cc);
    size_t n = 0;
    while (*src && n + 1 < cap) {
        if (strncmp(src, " after ", 7) == 0 && src[7] >= '0' && src[7] <= '9') {
            const char *q = src + 7;
            while (*q >= '0' && *q <= '9')
                q++;
            if (strncmp(q, " milliseconds", 13) == 0) {
                src = q + 13;
                continue;
            }
            if (strncmp(q, " ms", 3) == 0) {
                src = q + 3;
                continue;
            }
        }
        out[n++] = *src++;
    }
    out[n] = 0;
}
