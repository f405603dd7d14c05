/* libFuzzer target: feed_tron's assembly of java-tron triggers into blocks
 * and gaps (monitor/sources/feed_tron.c), without ZeroMQ. The input is a
 * sequence of messages: one byte picks the topic (blockTrigger,
 * transactionTrigger, solidityTrigger, an unknown one), two bytes give the
 * JSON's length, then the JSON. Beyond "no crash": blocks and gaps come out
 * in number order, never twice for one number unless a replacement came,
 * and every block's txs point into its own transfer list. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/sources/feed_tron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const topics[] = {"blockTrigger", "transactionTrigger", "solidityTrigger", "contractLogTrigger"};
    feed_tron *f;
    feed_tron_config cfg = {.endpoint = "tcp://127.0.0.1:1", .max_pending = 8};
    if (feed_tron_open(&cfg, &f, NULL))
        return 0;
    size_t pos = 0;
    int64_t last = -1;
    feed_tron_stats st;
    uint64_t replaced = 0;
    while (pos + 3 <= size) {
        const char *topic = topics[data[pos] % 4];
        size_t n = (size_t)data[pos + 1] << 8 | data[pos + 2];
        pos += 3;
        if (n > size - pos)
            n = size - pos;
        feed_tron_take(f, topic, strlen(topic), (const char *)data + pos, n);
        pos += n;
        feed_tron_event ev;
        bool got;
        while (feed_tron_next(f, 0, &ev, &got, NULL) == CW_OK && got) {
            feed_tron_stats_get(f, &st);
            if (ev.kind == FEED_TRON_BLOCK) {
                /* in order, unless the node switched forks (a replacement) */
                if (last >= 0 && ev.block.number != last + 1 && st.replaced == replaced)
                    abort();
                for (size_t i = 0; i < ev.block.n_tx; i++)
                    if (ev.block.txs[i].n_xfer && (ev.block.txs[i].xfer < ev.block.xf ||
                                                   ev.block.txs[i].xfer + ev.block.txs[i].n_xfer > ev.block.xf + ev.block.n_xf))
                        abort();
                last = ev.block.number;
            } else if (ev.kind == FEED_TRON_GAP) {
                if (ev.gap_from > ev.gap_to || (last >= 0 && ev.gap_from != last + 1 && st.replaced == replaced))
                    abort();
                last = ev.gap_to;
            } else if (ev.kind == FEED_TRON_BAD && ev.why[0] == '\0') {
                abort();
            }
            replaced = st.replaced;
        }
    }
    feed_tron_close(f);
    return 0;
}
