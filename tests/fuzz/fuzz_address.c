/* libFuzzer target: address text. Property: whatever parses formats back to
 * text that parses to the same binary address (canonical round trip). */
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
            if (err.msg[0] == '\0')
                abort();
            continue;
        }
        char canon[CW_ADDR_TEXT_MAX];
        if (cw_addr_format(&a, canon, sizeof canon) == 0)
            abort();
        if (cw_addr_parse(canon, net, &b, &err) != CW_OK || !cw_addr_eq(&a, &b))
            abort();
    }
    return 0;
}
