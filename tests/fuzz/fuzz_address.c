/* libFuzzer target: address text. Properties: whatever parses formats back
 * to text that parses to the same binary address (canonical round trip),
 * and cw_addr_parse_canon agrees with cw_addr_parse and gives exactly the
 * text cw_addr_format writes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 200)
        return 0;
    char text[201];
    memcpy(text, data, size);
    text[size] = '\0';
    for (int net = CW_NET_ANY; net < CW_NET_COUNT; net++) {
        cw_addr a, b;
        cw_err err;
        if (cw_addr_parse(text, net, &a, &err) != CW_OK) {
            char unused[CW_ADDR_TEXT_MAX];
            cw_err err2;
            if (err.msg[0] == '\0' || cw_addr_parse_canon(text, net, &b, unused, &err2) != err.code ||
                strcmp(err.msg, err2.msg) != 0)
                abort();
            continue;
        }
        char canon[CW_ADDR_TEXT_MAX];
        if (cw_addr_format(&a, canon, sizeof canon) == 0)
            abort();
        if (cw_addr_parse(canon, net, &b, &err) != CW_OK || !cw_addr_eq(&a, &b))
            abort();
        char from_parse[CW_ADDR_TEXT_MAX];
        if (cw_addr_parse_canon(text, net, &b, from_parse, &err) != CW_OK || !cw_addr_eq(&a, &b) ||
            strcmp(from_parse, canon) != 0)
            abort();
    }
    return 0;
}
