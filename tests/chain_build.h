/*
 * chain_build.h: synthetic Bitcoin chains for tests and tools, with real
 * serialization: txs from explicit inputs and outputs, coinbases, blocks
 * with the right merkle root, BIP-141 witness commitment and BIP-34 height,
 * written as Bitcoin Core blk?????.dat files (optionally obfuscated with an
 * xor.dat key, as Core 28+ writes them) for `chainwatch replay --blocksdir`.
 *
 * Design note. Two layers. The serializers (cb_tx_serialize,
 * cb_block_serialize, cb_blk_record, cb_write_blk) take every byte they
 * write from the caller, signatures included, so cw_genchain (random
 * shapes from a seed) and the tests (chosen shapes) share one serializer and
 * a generator keeps its byte-exact output for a seed. Above them, coins and
 * a block tree (cb_chain) for tests: spend coins you got from earlier txs or
 * coinbases, pay addresses, mine blocks on any parent (a reorg is two
 * branches from a fork point; with the same bits, the branch with more
 * blocks has more work) and write every block, all branches, to one file.
 *
 * Nothing here signs or checks scripts or proof of work, and neither does
 * chainwatch: signatures and keys are stand-in bytes of the right sizes,
 * the spend's shape following the kind of address spent (P2WPKH: empty
 * scriptSig and a [signature, key] witness; P2TR: a 64-byte key-path
 * witness; P2PKH/P2SH: a <signature> <key> scriptSig). No criterion here:
 * the tools link it too. Allocation failures abort (tests and tools only).
 */
#ifndef CW_TEST_CHAIN_BUILD_H
#define CW_TEST_CHAIN_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/model.h"
#include "chains/buf.h"

/* ---------- serialization ---------- */

typedef enum {
    CB_SPEND_WPKH,   /* empty scriptSig; witness [72-byte signature, 33-byte key] */
    CB_SPEND_TR,     /* empty scriptSig; witness [64-byte signature] (taproot key path) */
    CB_SPEND_LEGACY, /* scriptSig <72-byte signature> <33-byte key>; no witness */
} cb_spend;

typedef struct {
    uint8_t prev_txid[32]; /* internal byte order */
    uint32_t prev_vout;
    cb_spend spend;
    uint8_t sig[72];       /* written as is: all 72 bytes, or the first 64 for CB_SPEND_TR */
    uint8_t pubkey[33];
} cb_input;

typedef struct {
    uint64_t value;
    uint8_t script[42];
    size_t script_len;
} cb_output;

typedef struct {
    cw_addr addr;
    uint64_t value;
} cb_pay;

typedef struct {
    cw_buf full, stripped;    /* with witness (when any input has one) and without */
    uint8_t txid[32], wtxid[32];
    cb_pay *pays;             /* cb_tx_pay: what each output pays (for cb_tx_coin); else NULL */
    size_t n_pays;
} cb_tx;

#define CB_TX_INIT {CW_BUF_INIT, CW_BUF_INIT, {0}, {0}, NULL, 0}

/* A version-2 tx, inputs with sequence 0xfffffffd, locktime 0; segwit
 * serialization when any input spends with a witness (the others then get
 * an empty witness). Replaces t's bytes and ids (t->pays is kept). */
void cb_tx_serialize(cb_tx *t, const cb_input *in, size_t n_in, const cb_output *out, size_t n_out);

/* A coinbase at `height`: scriptSig = a 3-byte push of the height (BIP-34)
 * then `tail` (a few bytes that make it unique, e.g. OP_1), the outputs, a
 * zero-value OP_RETURN output with the BIP-141 witness commitment, and the
 * 32-byte zero witness reserved value. */
void cb_coinbase_serialize(cb_tx *t, int64_t height, const uint8_t *tail, size_t tail_len, const cb_output *out,
                           size_t n_out, const uint8_t commitment[32]);

typedef struct {
    uint32_t version;      /* 0x20000000 */
    uint8_t prev[32];      /* internal order; zero for a first block */
    uint32_t time, bits, nonce;
    int64_t height;        /* for the coinbase (BIP-34) */
} cb_header;

/* A whole block: builds *coinbase (cb_coinbase_serialize, with the
 * commitment over the wtxids of the coinbase (as zero) and txs), the merkle
 * root over the txids, the 80-byte header, then the txs. Replaces *out;
 * hash gets the block hash (internal order). */
void cb_block_serialize(cw_buf *out, uint8_t hash[32], const cb_header *h, cb_tx *coinbase, const uint8_t *cb_tail,
                        size_t cb_tail_len, const cb_output *cb_out, size_t n_cb_out, const cb_tx *const *txs,
                        size_t n_txs);

/* Appends one blk?????.dat record: the network's magic, the size (LE),
 * the block. */
void cb_blk_record(cw_buf *file, cw_net net, const uint8_t *block, size_t len);
/* Writes file's bytes to path, first obfuscated in place with key (byte i
 * of the file with key[i % 8], as Core does) unless key is NULL. 0, or -1
 * with errno set. */
int cb_write_blk(const char *path, cw_buf *file, const uint8_t key[8]);
/* dir/xor.dat holding key. 0 or -1 (errno). */
int cb_write_xor_key(const char *dir, const uint8_t key[8]);
/* mkdir -p. 0 or -1 (errno). */
int cb_mkdirs(const char *dir);

/* ---------- coins and txs for tests ---------- */

/* An address of kind P2PKH, P2SH, P2WPKH, P2WSH or P2TR on `net` made
 * from `seed`: distinct seeds give distinct addresses, and the payload's
 * first byte is the seed's low byte, so for one kind the order of watchlist
 * keys (and so cluster roots) follows the seeds. P2WPKH and P2PKH payloads
 * are the HASH160 of a stand-in public key that cb_tx_pay puts in their
 * spends, so chainwatch's input hints (hint.h) name the right address when
 * the prevout is unknown (the key is remembered per process). */
cw_addr cb_addr_make(cw_net net, cw_addr_kind kind, uint32_t seed);
/* The address's canonical text (cw_addr_format). */
const char *cb_addr_text(const cw_addr *a, char out[96]);
/* Parses text for net; aborts on a bad address (a typo in a test). */
cw_addr cb_addr_parse(const char *text, cw_net net);

/* An output someone can spend: where it is, its value, what it pays. */
typedef struct {
    uint8_t txid[32];
    uint32_t vout;
    uint64_t value;
    cw_addr addr;
} cb_coin;

/* A tx spending `in` (in order, each in the style of its address's kind,
 * with a stand-in signature derived from the outpoint and the address's key
 * when cb_addr_make made it, else a stand-in key) to `out`
 * (in order). Values are not checked: the fee is whatever the caller left.
 * Free with cb_tx_free. */
void cb_tx_pay(cb_tx *t, const cb_coin *in, size_t n_in, const cb_pay *out, size_t n_out);
/* Output vout of a tx made by cb_tx_pay, as a coin. */
cb_coin cb_tx_coin(const cb_tx *t, uint32_t vout);
/* Sum of the coins' values. */
uint64_t cb_coins_value(const cb_coin *in, size_t n);
/* The txid as displayed (reversed hex). */
const char *cb_txid_hex(const uint8_t txid[32], char out[65]);
void cb_tx_free(cb_tx *t);

/* ---------- a block tree for tests ---------- */

typedef struct {
    cw_buf raw;
    uint8_t hash[32], prev[32];
    int64_t height;
    long parent;       /* index of the parent in the chain, -1 for a first block */
    cb_tx coinbase;    /* its pays are the coinbase's outputs (the commitment is after them) */
} cb_block;

typedef struct {
    cw_net net;
    uint32_t time0;    /* a block at height h has time time0 + spacing * h */
    uint32_t spacing;  /* 600 unless the test sets it (a day a block for monthly payments) */
    uint32_t bits;     /* every block's (0x207fffff: regtest's) */
    cb_block *blocks;  /* in the order mined: the order they are written */
    size_t n, cap;
} cb_chain;

void cb_chain_init(cb_chain *c, cw_net net);
/* Mines a block on blocks[parent] (-1: a first block, height 0, zero
 * parent) whose coinbase pays `pays` (any values: no subsidy rule here)
 * and which holds txs[0..n_txs) in order. Returns its index. Two blocks
 * at one height differ (the coinbase carries the index). */
size_t cb_chain_mine(cb_chain *c, long parent, const cb_pay *pays, size_t n_pays, const cb_tx *const *txs,
                     size_t n_txs);
/* Output vout of block b's coinbase, as a coin. */
cb_coin cb_chain_coinbase_coin(const cb_chain *c, size_t b, uint32_t vout);
/* The block hashes from the first block to blocks[tip], by height:
 * out[h] (internal order). Returns the count (tip's height + 1), at most
 * cap written. */
size_t cb_chain_path(const cb_chain *c, size_t tip, uint8_t (*out)[32], size_t cap);
/* Writes every block (all branches, in the order mined) to dir/blk00000.dat,
 * creating dir; with xor, obfuscated with a fixed key written to
 * dir/xor.dat. 0 or -1 (errno). */
int cb_chain_write(const cb_chain *c, const char *dir, bool xor);
/* The same for blocks[idx[0..n)] only, in that order. */
int cb_chain_write_some(const cb_chain *c, const char *dir, bool xor, const size_t *idx, size_t n);
void cb_chain_free(cb_chain *c);

#endif
