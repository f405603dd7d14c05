/* libFuzzer target: the strict number parsers of the command line
 * (monitor/cli/num.c), each on the input as one option value. A value they
 * accept must lie in the range asked for, and one they refuse must say why. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"
#include "monitor/cli/cli.h"

static void check(cw_code rc, const cw_err *err, int in_range)
{
    if (rc == CW_OK ? !in_range : (rc != CW_EARG || err->msg[0] == '\0'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *v = fuzz_str(data, size);
    cw_err err = {0};
    int64_t i = 0;
    cw_code rc = cli_parse_int(v, INT64_MIN, INT64_MAX, &i, &err);
    /* digits only, so the C library reads the same number */
    check(rc, &err, rc != CW_OK || strtoll(v, NULL, 10) == i);
    rc = cli_parse_int(v, -5, 1000, &i, &err);
    check(rc, &err, i >= -5 && i <= 1000);
    uint64_t u = 0;
    rc = cli_parse_size(v, 1, UINT64_MAX, &u, &err);
    check(rc, &err, u >= 1);
    rc = cli_parse_size(v, 4096, (uint64_t)1 << 40, &u, &err);
    check(rc, &err, u >= 4096 && u <= (uint64_t)1 << 40);
    rc = cli_parse_seconds(v, 0, UINT64_MAX, &u, &err);
    check(rc, &err, 1);
    rc = cli_parse_seconds(v, 1, 86400, &u, &err);
    check(rc, &err, u >= 1 && u <= 86400);
    uint32_t ppm = 0;
    rc = cli_parse_share(v, &ppm, &err);
    check(rc, &err, ppm <= 1000000);
    rc = cli_parse_btc(v, &u, &err);
    check(rc, &err, u <= UINT64_C(2100000000000000));
    free(v);
    return 0;
}
