/* libFuzzer target: a watchlist key from text as a user or a list gives it
 * (watchlists/watchlist.c wl_key_from_text): Bitcoin, EVM and Tron
 * addresses, else normalised text. A key is 1..WL_KEY_MAX bytes; a refusal
 * says why. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"
#include "watchlists/watchlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_str(data, size);
    uint8_t key[WL_KEY_MAX];
    cw_err err = {0};
    size_t n = wl_key_from_text(text, key, &err);
    if (n > WL_KEY_MAX || (n == 0 && err.msg[0] == '\0'))
        abort();
    if (n) { /* the same text gives the same key */
        uint8_t again[WL_KEY_MAX];
        if (wl_key_from_text(text, again, NULL) != n || memcmp(key, again, n) != 0)
            abort();
    }
    free(text);
    return 0;
}
