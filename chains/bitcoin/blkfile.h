/*
 * blkfile.h: the framing of Bitcoin Core's blk?????.dat files: records of
 * 4-byte network magic, u32 LE size, block bytes; zero padding after the
 * last record (files are preallocated). De-obfuscation (xor.dat) is the
 * reader's job, before these bytes get here.
 *
 * A crash leaves other bytes between records: a record cut short, the tail
 * of a cut record a restarted node wrote a shorter block over, space it
 * reserved and never wrote (zeros). Only zeros that run to the end of the
 * data are padding; anything else is damage a reader reports and skips by
 * looking for the next network magic (btc_blk_find_magic), as Core's
 * -reindex does. Zero bytes are never a place to resync on: blocks are full
 * of them.
 */
#ifndef CW_BTC_BLKFILE_H
#define CW_BTC_BLKFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "chains/model.h"

/* True when buf starts with the magic of a known network. */
bool btc_blk_is_framed(const uint8_t *buf, size_t len);

/* Reads the record at *pos. On success *block spans the block bytes, *net is
 * the magic's network and *pos moves past the record. At the end of data
 * (end of buffer, or zero bytes from *pos to the end: padding) sets *done and
 * returns CW_OK. Refuses (CW_EFORMAT) zero bytes followed by more data and
 * an unknown magic, (CW_ELIMIT) a size over 4,000,000, and (CW_ETRUNC) a
 * size past the end; *pos is left at the record, so the caller may resync
 * with btc_blk_find_magic(buf, len, *pos + 1, net). */
cw_code btc_blk_next(const uint8_t *buf, size_t len, size_t *pos, cw_net *net, cw_span *block, bool *done,
                     cw_err *err);

/* The offset of the first magic of network `net` at or after `from`, or len
 * when there is none. */
size_t btc_blk_find_magic(const uint8_t *buf, size_t len, size_t from, cw_net net);

/* True when all len bytes are zero (len 0 included). */
bool btc_blk_all_zero(const uint8_t *buf, size_t len);

#endif
