/*
 * block.h: Bitcoin block headers and blocks, merkle and witness commitments.
 *
 * A block is walked, not materialised: btc_block_open() reads the header
 * and the tx count, btc_block_next() decodes one tx at a time into the
 * caller's arena, btc_block_finish() refuses trailing bytes. Merkle checks
 * take the txids the caller collected on the way.
 */
#ifndef CW_BTC_BLOCK_H
#define CW_BTC_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/model.h"

#define BTC_HEADER_SIZE 80
/* Consensus limit on a serialized block (MAX_BLOCK_SERIALIZED_SIZE). */
#define BTC_MAX_BLOCK_SIZE 4000000u

typedef struct {
    int32_t version;
    uint8_t prev[32];        /* internal order */
    uint8_t merkle_root[32]; /* internal order */
    uint32_t time;
    uint32_t bits;
    uint32_t nonce;
    uint8_t hash[32];        /* SHA256d of the 80 bytes, internal order */
} btc_header;

/* Parses the first 80 bytes of buf (len >= 80, else CW_ETRUNC). */
cw_code btc_header_parse(const uint8_t *buf, size_t len, btc_header *h, cw_err *err);

typedef struct {
    btc_header header;
    uint64_t tx_count;
    uint64_t next;       /* index of the tx btc_block_next() returns next */
    const uint8_t *buf;
    size_t len;
    size_t pos;
    cw_net net;
} btc_block;

/* Reads header and tx count. Refuses a count of zero and a count the
 * remaining bytes cannot hold (each tx is at least 60 bytes). */
cw_code btc_block_open(const uint8_t *buf, size_t len, cw_net net, btc_block *b, cw_err *err);
/* Decodes tx number b->next (call while b->next < b->tx_count). Errors name
 * the tx index and the byte offset in the block. */
cw_code btc_block_next(btc_block *b, cw_arena *arena, cw_tx *tx, cw_err *err);
/* After the last tx: refuses trailing bytes. */
cw_code btc_block_finish(const btc_block *b, cw_err *err);

/* Merkle root over n hashes (internal order), computed in place: `hashes`
 * is overwritten. *mutated is set when two equal siblings were hashed
 * (CVE-2012-2459), which a valid block never has. n == 0 gives zeros. */
void btc_merkle_root(uint8_t (*hashes)[32], size_t n, uint8_t root[32], bool *mutated);

typedef enum {
    BTC_WITNESS_NONE = 0,   /* no commitment in the coinbase */
    BTC_WITNESS_OK = 1,
    BTC_WITNESS_BAD = 2,    /* commitment present but does not match */
    BTC_WITNESS_MISSING = 3, /* witness data in the block but no commitment (Core: unexpected-witness) */
} btc_witness_status;

/* Checks the BIP-141 commitment of the coinbase against the witness merkle
 * root (of wtxids with the coinbase's set to zero). */
btc_witness_status btc_witness_check(const cw_tx *coinbase, const uint8_t witness_root[32]);

/* BIP-34 height from the coinbase scriptSig (blocks of version >= 2). */
bool btc_coinbase_height(const cw_tx *coinbase, int64_t *height);

#endif
