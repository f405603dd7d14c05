/*
 * capture.h: capture files, every message a ZeroMQ feed received with the
 * time it arrived, written by `chainwatch watch --record FILE` and read
 * back by `chainwatch replay --capture FILE`.
 *
 * Design note. A capture holds the messages exactly as they came off the
 * sockets, in the order the monitor read them, malformed ones included:
 * the replay runs them through the same checks (feed_check.h) and the same
 * dispatch (feed_dispatch.h) as the live run, so it makes the same
 * decisions, gaps and restarts included. The arrival time is stored bit for
 * bit (a feed_gap record's id is drawn from it). Records are appended with
 * one write(2) each as they arrive and the file is fdatasync'ed at least
 * once a second by the caller (capture_writer_sync): a crashed process
 * leaves at most its last record cut short, which the reader reports with
 * its offset and the writer cuts off when it opens the file again.
 *
 * FORMAT, version 1 (Bitcoin). Integers are unsigned little-endian.
 *
 *   Header, at offset 0:
 *     off  size  field
 *     0    7     "CWCAP1\n": the magic "CWCAP", the version as one ASCII
 *                digit, a newline (so `head -1` names the file)
 *     7    1     n, the length of the network name, 1..16
 *     8    n     the network name in ASCII, as cw_net_name() spells it:
 *                "main", "test", "testnet4", "signet" or "regtest"
 *     8+n  1     the recorder's topics: bit 0 rawtx, bit 1 rawblock, bit 2
 *                sequence (feed_topic bits); at least one set, bits 3-7 zero
 *
 *   Then records, back to back to the end of the file. Each:
 *     off  size  field
 *     0    4     L, the number of bytes of the record after this field,
 *                16 <= L <= CAPTURE_MAX_RECORD
 *     4    8     received_at: the IEEE-754 binary64 bits of the arrival
 *                time, seconds since the Unix epoch (CLOCK_REALTIME)
 *     12   4     F, the number of frames the message had, >= 1
 *     16   ...   the first min(F, 3) frames, each a u32 length then that
 *                many bytes. Bitcoin Core's messages have F = 3: the topic,
 *                the body, the 4-byte little-endian counter.
 *   L must equal 12 + the sum over the stored frames of (4 + length).
 *
 * A file that ends inside a record (its length prefix included) is cut
 * short; bytes after a complete record are always the start of another.
 *
 * FORMAT, version 2: a capture that names its chain (written for Tron;
 * Bitcoin recorders still write version 1, and both are read).
 *
 *   Header, at offset 0:
 *     0    7     "CWCAP2\n"
 *     7    1     c, the length of the chain name, 1..16
 *     8    c     the chain: "bitcoin", "tron" or "ethereum"
 *     8+c  1     n, the length of the network name, 1..16
 *     9+c  n     the network: for bitcoin as in version 1; for tron the
 *                name tron_network_name() gives ("mainnet", "nile",
 *                "shasta", "chain-<id>"); for ethereum eth_network_name()'s
 *                ("mainnet", "sepolia", "chain-31337"); a-z, 0-9 and '-'
 *     9+c+n 1    topics: bitcoin as in version 1; tron 7 (blockTrigger,
 *                transactionTrigger, solidityTrigger: CAPTURE_TRON_TOPICS);
 *                ethereum 1 (CAPTURE_ETH_TOPICS)
 *
 *   Records as in version 1, of two kinds told apart by bit 31 of F:
 *     clear: a feed message (tron: F = 2, the trigger name and its JSON);
 *     set (CAPTURE_HTTP_FLAG): an HTTP exchange the follower made and
 *       its successful reply, F & 0x7fffffff = 3 frames: the request path
 *       ("/wallet/getblockbynum"), the request body ({"num":5}), the reply
 *       body; received_at is when the reply came. A replay answers the
 *       same request from these, in order, without any network.
 *   Tron: the first record (and the first of each later watch run
 *   appending to the file) is the settings record, an exchange whose path
 *   is "settings" (a request path starts with '/'), as Ethereum's below,
 *   its JSON with chain_id too (capture_settings.h). Captures written
 *   before it existed begin with the block-0 exchange: read, unchecked.
 *
 *   Ethereum (docs/capture.md has the whole story): every record is an
 *   exchange (bit 31 set), in the order the follower made them:
 *     the first (and the first of each later watch run appending to
 *       the file): frame 0 "settings", frame 1 a JSON object of what the
 *       watch ran with that decides its records (confirmations,
 *       finalized, start, the datadir's tip), frame 2 the bytes of its
 *       --tokens file (empty: none);
 *     each after it: frame 0 the outcome, "ok" or the transport error
 *       "eio", "elimit", "enomem"; frame 1 the JSON-RPC request text as
 *       sent (an object, or a batch's array); frame 2 for "ok" the node's
 *       HTTP body as received, else the error's message. A replay answers
 *       the follower's requests from these strictly in order, each request
 *       checked byte for byte against the recorded one.
 *
 * Contract: every function takes a cw_err * last (may be NULL), returns
 * CW_OK or a code with the message naming the file and, for the bytes of
 * the file, the byte offset (also in err->offset). Nothing here exits or
 * aborts; no input crashes the reader.
 */
#ifndef CW_CAPTURE_H
#define CW_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "chains/err.h"
#include "chains/model.h"
#include "feed_check.h"

#define CAPTURE_VERSION 2       /* the newest version read (1 and 2 are) */
#define CAPTURE_HTTP_FLAG 0x80000000u /* bit 31 of F: an HTTP exchange record (version 2) */
#define CAPTURE_TRON_TOPICS 7u

#define CAPTURE_ETH_TOPICS 1u   /* ethereum: bit 0, JSON-RPC exchanges (the only kind) */

typedef enum { CAPTURE_CHAIN_BITCOIN = 0, CAPTURE_CHAIN_TRON = 1, CAPTURE_CHAIN_ETHEREUM = 2 } capture_chain;
/* "bitcoin", "tron", "ethereum" (as the version-2 header spells them). */
const char *capture_chain_name(capture_chain chain);
typedef enum { CAPTURE_REC_MESSAGE = 0, CAPTURE_REC_HTTP = 1 } capture_record_kind;
/* The largest record accepted (L): well above the feed's 16 MB frame
 * limit; a bigger length can only be a damaged file. */
#define CAPTURE_MAX_RECORD ((uint32_t)64 * 1024 * 1024)

/* What a capture's header says. */
typedef struct {
    unsigned version;     /* 1 or 2 */
    capture_chain chain;  /* version 1: always bitcoin */
    char network[17];     /* the header's network name */
    cw_net net;           /* bitcoin's network (tron: CW_NET_MAIN) */
    unsigned topics;      /* bit mask of feed_topic, never 0 */
    uint64_t header_len;  /* where the first record starts */
} capture_info;

/* ---- writing ---- */

typedef struct capture_writer capture_writer;

/* What capture_writer_open found in an existing file. */
typedef struct {
    uint64_t records;   /* complete records already there */
    uint64_t size;      /* the file's size after open: new records go here */
    uint64_t cut_at;    /* offset of a partial last record that was cut off, 0 if none */
    uint64_t cut_bytes; /* how many bytes were cut there */
} capture_open_info;

/* Opens `path` for appending records, creating it with a header for `net`
 * and `topics` when it does not exist or is empty (or holds only the start
 * of that header). An existing capture is checked record by record and
 * appended to; a partial last record (a crash mid-write) is cut off and
 * reported in *info. Holds a write lock (fcntl) on the file until closed,
 * so two recorders never interleave.
 * Refuses: CW_EARG for a NULL path/out, `topics` 0 or above 7, an unknown
 * net, an existing capture of another network or other topics (record to a
 * new file); CW_EIO when the file cannot be opened, locked (another process
 * records to it), read, cut or written; CW_EFORMAT, CW_ELIMIT for a file
 * that is not a version-1 capture or is damaged before its last record
 * (with the offset). *out is set only on CW_OK; info may be NULL. */
cw_code capture_writer_open(const char *path, cw_net net, unsigned topics, capture_writer **out,
                            capture_open_info *info, cw_err *err);

/* As capture_writer_open, for a Tron capture (version 2, chain "tron",
 * `network` as tron_network_name() spells it, topics CAPTURE_TRON_TOPICS).
 * Refuses CW_EARG for NULL arguments, a network name that is not 1..16
 * of a-z, 0-9, '-', and an existing capture of another chain or network. */
cw_code capture_writer_open_tron(const char *path, const char *network, capture_writer **out,
                                 capture_open_info *info, cw_err *err);

/* As capture_writer_open_tron, for chain tron or ethereum (topics
 * CAPTURE_TRON_TOPICS or CAPTURE_ETH_TOPICS); the network as the chain's
 * follower names it (eth_network_name: "mainnet", "chain-31337").
 * CW_EARG for another chain. */
cw_code capture_writer_open_v2(const char *path, capture_chain chain, const char *network, capture_writer **out,
                               capture_open_info *info, cw_err *err);

/* Appends one HTTP exchange record (version 2 files only: CW_EARG on a
 * Bitcoin capture): the request path and body (NUL-terminated) and the
 * reply's reply_len bytes. Errors as capture_write. */
cw_code capture_write_http(capture_writer *w, double received_at, const char *path, const char *body,
                           const uint8_t *reply, size_t reply_len, cw_err *err);

/* Appends one record (one write(2)). Refuses CW_EARG for NULL arguments,
 * nframes 0, a NULL frame with a nonzero length, and CW_ELIMIT for a
 * message larger than CAPTURE_MAX_RECORD allows. CW_EIO when the write
 * fails; what it wrote of the record is cut off again when possible, so the
 * file keeps only whole records, and later writes may succeed. */
cw_code capture_write(capture_writer *w, const feed_message *m, cw_err *err);

/* fdatasync if anything was written since the last sync. CW_EIO on
 * failure. */
cw_code capture_writer_sync(capture_writer *w, cw_err *err);

/* Records written through this writer, and whether any await a sync. */
uint64_t capture_writer_count(const capture_writer *w);
bool capture_writer_dirty(const capture_writer *w);

/* Syncs, unlocks and closes; returns the sync's result. NULL is a no-op
 * (CW_OK). */
cw_code capture_writer_close(capture_writer *w, cw_err *err);

/* ---- reading ---- */

typedef struct capture_reader capture_reader;

/* Opens a capture and reads its header into *info (info may be NULL).
 * Refuses: CW_EARG for NULL path/out; CW_EIO when the file cannot be
 * opened or read; CW_ETRUNC for a file shorter than its header; CW_EFORMAT
 * when the first bytes are not the magic "CWCAP" + digit + newline ("not a
 * chainwatch capture", offset 0), for a version other than 1 or 2 (offset
 * 5), a chain or network name of bad length or unknown (its offset), or a
 * topics byte that is 0 or above 7 (its offset). *out is set only on CW_OK. */
cw_code capture_reader_open(const char *path, capture_reader **out, capture_info *info, cw_err *err);

/* Reads the next record into *m and sets *got. m's frames point into the
 * reader's buffer and stay valid until the next capture_read or close.
 * At the end of the file: CW_OK with *got = false. Errors, each with the
 * record's offset (err->offset, and capture_reader_offset): CW_ETRUNC when
 * the file ends inside the record (a recorder stopped mid-write, or a
 * length pointing past the end), CW_ELIMIT for a length above
 * CAPTURE_MAX_RECORD, CW_EFORMAT for a length below 16, a frame count of
 * 0, an HTTP exchange (version 2) of other than 3 frames, or frame
 * lengths that do not add up to the record's length, CW_EIO
 * when reading fails. After an error every later call returns it again
 * (the rest of the file cannot be framed). CW_EARG for NULL arguments. */
cw_code capture_read(capture_reader *r, feed_message *m, bool *got, cw_err *err);

/* The kind of the record the last capture_read returned (version 1:
 * always CAPTURE_REC_MESSAGE). For CAPTURE_REC_HTTP, the message's
 * frames are the path, the request body and the reply; nframes is 3. */
capture_record_kind capture_reader_kind(const capture_reader *r);

/* An Ethereum capture's records (version 2, chain ethereum). */
typedef enum { CAPTURE_ETH_SETTINGS = 0, CAPTURE_ETH_EXCHANGE = 1 } capture_eth_kind;

/* What the record m that the last capture_read returned is in an
 * Ethereum capture: the settings record (first frame "settings"), or an
 * exchange with *outcome CW_OK ("ok": the third frame is the node's HTTP
 * body) or the transport error it recorded (CW_EIO "eio", CW_ELIMIT
 * "elimit", CW_ENOMEM "enomem": the third frame is its message).
 * CW_EFORMAT with the record's offset for a feed message (no exchange) or a
 * first frame that is none of those names; CW_EARG for NULL arguments or a
 * capture of another chain. Whether the settings record comes first is
 * the caller's to check. */
cw_code capture_eth_record(const capture_reader *r, const feed_message *m, capture_eth_kind *kind, cw_code *outcome,
                           cw_err *err);

/* The offset of the record the last capture_read returned (or failed on);
 * the header's length before the first read. */
uint64_t capture_reader_offset(const capture_reader *r);

/* Bytes consumed so far (the end of the last record read) and the file's
 * size when last looked at: for progress. */
uint64_t capture_reader_pos(const capture_reader *r);
uint64_t capture_reader_size(const capture_reader *r);

/* NULL is a no-op. */
void capture_reader_close(capture_reader *r);

#endif
