/* libFuzzer target: capture files (monitor/sources/capture.c), read the way
 * `replay --capture` reads them: each record through the feed checks
 * (monitor/sources/feed_check.c), a GAP's held message taken back. Every
 * frame lies in the file, record offsets grow, a refusal says why and
 * sticks. Version 2 (Tron) captures: an HTTP exchange has its 3 frames.
 * Ethereum captures: each record is the settings record or an exchange
 * with a known outcome (capture_eth_record), or refused with its offset. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"
#include "monitor/sources/capture.h"
#include "monitor/sources/feed_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    capture_reader *r;
    capture_info info;
    cw_err err = {0};
    if (capture_reader_open(fuzz_file(data, size), &r, &info, &err) != CW_OK) {
        if (err.msg[0] == '\0')
            abort();
        return 0;
    }
    if (info.topics == 0 || info.topics > 7 || info.header_len > size)
        abort();
    feed_checker fc = {0};
    uint64_t last = 0;
    for (;;) {
        feed_message m;
        bool got;
        cw_code rc = capture_read(r, &m, &got, &err);
        if (rc != CW_OK) {
            cw_err again = {0};
            if (err.msg[0] == '\0' || capture_read(r, &m, &got, &again) != rc)
                abort();
            break;
        }
        if (!got)
            break;
        uint64_t at = capture_reader_offset(r);
        if (at < info.header_len || (last && at <= last) || capture_reader_pos(r) > size)
            abort();
        last = at;
        if (m.nframes == 0)
            abort();
        size_t sum = 0;
        for (unsigned i = 0; i < m.nframes && i < FEED_MSG_FRAMES; i++)
            for (size_t j = 0; j < m.len[i]; j++)
                sum += m.frame[i][j]; /* ASan: each frame is inside the reader's buffer */
        (void)sum;
        if (info.chain == CAPTURE_CHAIN_ETHEREUM) {
            capture_eth_kind k;
            cw_code o = CW_ETRUNC;
            cw_err e = {0};
            cw_code rc2 = capture_eth_record(r, &m, &k, &o, &e);
            if (rc2 == CW_OK && (capture_reader_kind(r) != CAPTURE_REC_HTTP ||
                                 (o != CW_OK && o != CW_EIO && o != CW_ELIMIT && o != CW_ENOMEM) ||
                                 (k == CAPTURE_ETH_SETTINGS && o != CW_OK)))
                abort();
            if (rc2 != CW_OK && (rc2 != CW_EFORMAT || e.offset != at || e.msg[0] == '\0'))
                abort();
            continue;
        }
        if (capture_reader_kind(r) == CAPTURE_REC_HTTP) {
            /* version 2's HTTP exchange: path, request body, reply */
            if (info.version < 2 || m.nframes != 3)
                abort();
            continue;
        }
        if (info.chain == CAPTURE_CHAIN_TRON)
            continue; /* triggers go to feed_tron (fuzz_tron_feed), not the Bitcoin checks */
        feed_event ev;
        feed_checker_take(&fc, &m, info.topics, "capture", &ev);
        if (ev.kind == FEED_EV_GAP && !feed_checker_pending(&fc, &ev))
            abort(); /* the message behind a gap is held, never dropped */
        if (ev.kind == FEED_EV_MSG && ev.body && (ev.body < m.frame[1] || ev.body + ev.len > m.frame[1] + m.len[1]))
            abort();
    }
    capture_reader_close(r);
    return 0;
}
