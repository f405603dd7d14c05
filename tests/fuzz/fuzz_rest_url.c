/* libFuzzer target: the node URL `--rest` takes (monitor/sources/rest.c
 * rest_open, which makes no request). The response bodies are parsed inside
 * the request functions, which need a server: the test suite's REST server
 * (tests/rest_server.c) covers them. An accepted URL is plain http, at most
 * 160 chars, with a host and no whitespace, control character, '?' or '#'. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_file.h"
#include "monitor/sources/rest.h"

/* Held for the whole run, so each rest_open's curl_global_init only counts
 * a reference instead of starting libcurl (and OpenSSL) again. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fuzz_str(data, size);
    rest_client *c;
    cw_err err = {0};
    if (rest_open(url, &c, &err) == CW_OK) {
        size_t n = strlen(url);
        if (n < 8 || n > 160 || strncasecmp(url, "http://", 7) != 0)
            abort();
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f || url[i] == '?' || url[i] == '#')
                abort();
        rest_close(c);
    } else if (c != NULL || err.msg[0] == '\0') {
        abort();
    }
    free(url);
    return 0;
}
