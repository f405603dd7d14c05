/*
 * model.h: the chain-neutral model every decoder produces and everything
 * after decoding consumes (resolver, watchlist, rules, alerts).
 *
 * Design notes
 * - Addresses are binary (`cw_addr`): chain, address space, kind and the
 *   canonical payload (hash160, witness program, 20-byte account). That form
 *   is the store's key. Text forms exist only at the edges (addr.h).
 * - Decoders do not allocate and do not copy scripts: a `cw_span` points into
 *   the caller's input buffer, which must outlive the decoded tx. Input and
 *   output arrays come from a caller-owned `cw_arena` that is reset per tx or
 *   per block, so the hot path has no malloc.
 * - Values of UTXO chains are base units in 64 bits (satoshis).
 * - Account chains (Ethereum and every EVM chain, Tron) use the same cw_tx
 *   with no inputs or outputs: what a tx moves is a list of transfers
 *   (`cw_transfer`: from, to, asset, exact 256-bit amount). The native value
 *   of the call is one transfer; each token Transfer log (or, for a tx not
 *   yet mined, the ERC-20/TRC-20 call's calldata) is another. Transfers and
 *   not one input with outputs, because a token's `from` need not be the
 *   signer (transferFrom, contract wallets) and one tx can move several
 *   assets between several pairs. The txid of an account chain is kept in
 *   display order (as the node prints it), not reversed.
 */
#ifndef CW_MODEL_H
#define CW_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "u256.h"

typedef struct {
    const uint8_t *p;
    size_t n;
} cw_span;

typedef enum {
    CW_CHAIN_BITCOIN = 1,
    CW_CHAIN_EVM = 2,   /* every EVM chain: one 20-byte account space */
    CW_CHAIN_TRON = 3,  /* 0x41 + the same 20 bytes an EVM account has */
    /* later: litecoin, dogecoin, dash, bitcoin cash */
} cw_chain;

/* Networks of a chain. TESTNET4 and SIGNET share testnet3's address forms
 * (tb1, m/n/2), so addresses carry the address space: see cw_net_space(). */
typedef enum {
    CW_NET_MAIN = 0,
    CW_NET_TEST = 1, /* testnet3 */
    CW_NET_TESTNET4 = 2,
    CW_NET_SIGNET = 3,
    CW_NET_REGTEST = 4,
} cw_net;
#define CW_NET_COUNT 5

typedef enum {
    CW_ADDR_NONE = 0,
    CW_ADDR_P2PKH,    /* payload: hash160 of the key (20) */
    CW_ADDR_P2SH,     /* payload: hash160 of the redeem script (20) */
    CW_ADDR_P2WPKH,   /* witness v0, 20-byte program */
    CW_ADDR_P2WSH,    /* witness v0, 32-byte program */
    CW_ADDR_P2TR,     /* witness v1, 32-byte program */
    CW_ADDR_WITNESS,  /* any other witness version/length (2..40 bytes) */
    CW_ADDR_EVM,      /* 20-byte account (chain CW_CHAIN_EVM) */
    CW_ADDR_TRON,     /* 20-byte account; text adds the 0x41 prefix (chain CW_CHAIN_TRON) */
} cw_addr_kind;

#define CW_ADDR_PAYLOAD_MAX 40

typedef struct {
    uint8_t chain;    /* cw_chain */
    uint8_t net;      /* address space: CW_NET_MAIN, CW_NET_TEST or CW_NET_REGTEST */
    uint8_t kind;     /* cw_addr_kind */
    uint8_t version;  /* witness version (0..16) for witness kinds, else 0 */
    uint8_t len;      /* payload length */
    uint8_t payload[CW_ADDR_PAYLOAD_MAX];
} cw_addr;

/* Output script classes (Bitcoin Core's Solver, with short names). */
typedef enum {
    CW_SCRIPT_NONSTANDARD = 0,
    CW_SCRIPT_P2PK,
    CW_SCRIPT_P2PKH,
    CW_SCRIPT_P2SH,
    CW_SCRIPT_P2WPKH,
    CW_SCRIPT_P2WSH,
    CW_SCRIPT_P2TR,
    CW_SCRIPT_ANCHOR,          /* P2A: OP_1 <4e73> */
    CW_SCRIPT_WITNESS_UNKNOWN, /* witness v1..16 other than the above */
    CW_SCRIPT_NULLDATA,        /* OP_RETURN <pushes> */
    CW_SCRIPT_MULTISIG,        /* bare m-of-n */
} cw_script_type;

typedef struct {
    uint8_t prev_txid[32];  /* internal byte order */
    uint32_t prev_vout;
    uint32_t sequence;
    cw_span script_sig;
    cw_span witness;        /* this input's witness stack, items included */
    uint32_t witness_items;
    /* Filled by the resolver (the prevout index, above chains/), not by decoders. */
    bool resolved;
    cw_addr addr;           /* kind NONE when the prevout has no address */
    uint64_t value;
} cw_txin;

typedef struct {
    uint32_t n;             /* index in the tx */
    uint64_t value;         /* base units */
    cw_span script;
    cw_script_type type;
    cw_addr addr;           /* kind CW_ADDR_NONE when the script has no address */
} cw_txout;

/* What a transfer moves. */
typedef enum {
    CW_ASSET_NATIVE = 0, /* the chain's coin: ETH (wei), TRX (sun), BTC */
    CW_ASSET_TOKEN = 1,  /* an ERC-20 / TRC-20 token: `contract` */
    CW_ASSET_TRC10 = 2,  /* a Tron TRC-10 asset: `id` */
} cw_asset_kind;

typedef struct {
    uint8_t kind;     /* cw_asset_kind */
    cw_addr contract; /* CW_ASSET_TOKEN: the token contract (kind EVM or TRON) */
    uint64_t id;      /* CW_ASSET_TRC10: the asset id */
} cw_asset;

/* Where a transfer was read from. */
typedef enum {
    CW_XFER_VALUE = 0,      /* the tx's (or an internal call's) native value */
    CW_XFER_TOKEN_LOG = 1,  /* a Transfer event in the receipt: what happened */
    CW_XFER_TOKEN_CALL = 2, /* transfer/transferFrom calldata of a tx not yet mined: what is asked */
    CW_XFER_TRC10 = 3,      /* Tron TransferAssetContract */
} cw_xfer_kind;

typedef struct {
    uint8_t kind;      /* cw_xfer_kind */
    uint32_t index;    /* the log index in the block for TOKEN_LOG; else 0 */
    cw_addr from, to;  /* to: kind NONE for a contract creation */
    cw_asset asset;
    cw_u256 amount;    /* base units (wei, token units, sun) */
} cw_transfer;

typedef enum {
    CW_TX_COINBASE = 1u << 0,
    CW_TX_SEGWIT = 1u << 1,   /* serialized with witness data */
    CW_TX_FAILED = 1u << 2,   /* account chains: execution failed (reverted); its transfers did not happen */
} cw_tx_flags;

typedef struct {
    uint8_t chain;
    uint8_t net;             /* cw_net the decoder ran for */
    uint32_t flags;          /* cw_tx_flags */
    uint8_t txid[32];        /* internal byte order; display reversed */
    uint8_t wtxid[32];       /* hash with witness (= txid without); the witness merkle tree uses 0 for the coinbase */
    int32_t version;
    uint32_t locktime;
    size_t size;             /* serialized size with witness */
    size_t base_size;        /* serialized size without witness */
    cw_span raw;             /* the whole serialization */
    cw_txin *in;
    size_t n_in;
    cw_txout *out;
    size_t n_out;
    /* Account chains: what the tx moves (UTXO chains: NULL, 0). */
    cw_transfer *xfer;
    size_t n_xfer;
} cw_tx;

/* weight = base*3 + total (BIP-141); vsize rounds up. */
static inline uint64_t cw_tx_weight(const cw_tx *tx) { return (uint64_t)tx->base_size * 3 + tx->size; }
static inline uint64_t cw_tx_vsize(const cw_tx *tx) { return (cw_tx_weight(tx) + 3) / 4; }

/*
 * cw_arena: a bump allocator over one caller-owned buffer. Decoders take
 * their input/output arrays from it and fail with CW_ENOMEM (naming the size
 * needed) instead of calling malloc. Reset it between txs or blocks.
 */
typedef struct {
    uint8_t *base;
    size_t cap;
    size_t used;
} cw_arena;

static inline void cw_arena_init(cw_arena *a, void *buf, size_t cap) { a->base = buf; a->cap = cap; a->used = 0; }
static inline void cw_arena_reset(cw_arena *a) { a->used = 0; }
/* Returns NULL when `n * size` bytes do not fit (or overflow). */
void *cw_arena_alloc(cw_arena *a, size_t n, size_t size);

/* Names used in JSON and on the command line. */
const char *cw_net_name(cw_net net);          /* "main", "test", "testnet4", "signet", "regtest" */
bool cw_net_from_name(const char *s, cw_net *out);
cw_net cw_net_space(cw_net net);              /* TESTNET4/SIGNET -> TEST */
const char *cw_chain_name(cw_chain chain);    /* "bitcoin" */
const char *cw_addr_kind_name(cw_addr_kind k);/* "p2pkh", ... "witness" */
const char *cw_script_type_name(cw_script_type t);

/* Fills an address (payload copied, rest zeroed); net is reduced to its
 * address space for Bitcoin. */
void cw_addr_set(cw_addr *a, cw_chain chain, cw_net net, cw_addr_kind kind, int version, const uint8_t *p, size_t n);

/* Two addresses are the same key when all fields up to len and the payload match. */
bool cw_addr_eq(const cw_addr *a, const cw_addr *b);

#endif
