/*
 * blkfile.h: the framing of Bitcoin Core's blk?????.dat files: records of
 * 4-byte network magic, u32 LE size, block bytes; zero padding after the
 * last record (files are preallocated). De-obfuscation (xor.dat) is the
 * reader's job, before these bytes get here.
 */
#ifndef CW_BTC_BLKFILE_H
#define CW_BTC_BLKFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "../model.h"

/* True when buf starts with the magic of a known network. */
bool btc_blk_is_framed(const uint8_t *buf, size_t len);

/* Reads the record at *pos. On success *block spans the block bytes, *net is
 * the magic's network and *pos moves past the record. At the end of data
 * (end of buffer, or a zero magic: padding) sets *done and returns CW_OK.
 * Refuses an unknown magic, a size over 4,000,000, and a size past the end. */
cw_code btc_blk_next(const uint8_t *buf, size_t len, size_t *pos, cw_net *net, cw_span *block, bool *done,
                     cw_err *err);

#endif
