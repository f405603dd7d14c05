#include "blkfile.h"

#include <string.h>

#include "block.h"
#include "params.h"
#include "reader.h"

bool btc_blk_is_framed(const uint8_t *buf, size_t len)
{
    cw_net net;
    return len >= 8 && btc_net_from_magic(buf, &net);
}

bool btc_blk_all_zero(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i])
            return false;
    return true;
}

size_t btc_blk_find_magic(const uint8_t *buf, size_t len, size_t from, cw_net net)
{
    const uint8_t *m = btc_params_for(net)->magic;
    for (size_t at = from; at < len && len - at >= 4; at++) {
        const uint8_t *hit = memchr(buf + at, m[0], len - at - 3);
        if (hit == NULL)
            break;
        at = (size_t)(hit - buf);
        if (memcmp(hit, m, 4) == 0)
            return at;
    }
    return len;
}

cw_code btc_blk_next(const uint8_t *buf, size_t len, size_t *pos, cw_net *net, cw_span *block, bool *done,
                     cw_err *err)
{
    size_t at = *pos;
    *done = false;
    if (at >= len || btc_blk_all_zero(buf + at, len - at)) {
        *done = true;
        return CW_OK;
    }
    if (len - at >= 4 && btc_blk_all_zero(buf + at, 4))
        return cw_err_set(err, CW_EFORMAT, at, "byte %zu: zero bytes where a record should start, with data after them",
                          at);
    if (len - at < 8)
        return cw_err_set(err, CW_ETRUNC, at, "byte %zu: truncated block record header: %zu bytes left", at,
                          len - at);
    if (!btc_net_from_magic(buf + at, net))
        return cw_err_set(err, CW_EFORMAT, at, "byte %zu: unknown network magic %02x%02x%02x%02x", at, buf[at],
                          buf[at + 1], buf[at + 2], buf[at + 3]);
    size_t size = btc_le32(buf + at + 4);
    if (size > BTC_MAX_BLOCK_SIZE)
        return cw_err_set(err, CW_ELIMIT, at + 4, "byte %zu: block record size %zu exceeds %u", at + 4, size,
                          BTC_MAX_BLOCK_SIZE);
    if (size > len - at - 8)
        return cw_err_set(err, CW_ETRUNC, at + 8, "byte %zu: truncated block record: size %zu, %zu bytes left", at + 8,
                          size, len - at - 8);
    block->p = buf + at + 8;
    block->n = size;
    *pos = at + 8 + size;
    return CW_OK;
}
