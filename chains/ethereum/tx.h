/*
 * tx.h: Ethereum transactions: strict decoding of a signed tx, its hash,
 * its signing hash, the sender recovered from the signature, re-encoding
 * from fields, and the chain-neutral model (cw_tx with transfers).
 *
 * Design note
 * - Types: 0 legacy (pre-EIP-155 v = 27/28, or EIP-155 v = 35 + 2*chainId
 *   + recid), 1 EIP-2930, 2 EIP-1559, 3 EIP-4844 (blob fields; the network
 *   form rlp([tx, blobs, commitments, proofs]) and the PeerDAS form with a
 *   wrapper version are accepted, the blobs are skipped and never hashed),
 *   4 EIP-7702 (authorization list). Other type bytes are refused.
 * - Decoding is pure: no I/O, no globals, no malloc. Calldata, the access
 *   list, the blob hashes and the authorization list are spans into the
 *   caller's buffer, which must outlive the eth_tx. The lists are checked
 *   in full by the decoder (every address 20 bytes, every key 32 bytes,
 *   every authorization six canonical fields), so walking them later
 *   cannot fail on their shape.
 * - Strict: the encoding must be the one canonical RLP (see rlp.h), no
 *   byte may follow the tx, integers respect their width (nonce and gas
 *   below 2^64, fees and value below 2^256, r and s at most 32 bytes).
 *   Every error names the byte offset in the input and the field
 *   ("byte 14, field gasPrice: leading zero in an integer").
 * - Three steps, each its own function, so a caller pays only for what it
 *   needs: eth_tx_decode (structure), eth_tx_check (the stateless validity
 *   rules a node applies before a tx can be included: chain id, intrinsic
 *   gas, init code size, fee caps), eth_tx_recover (the signature: one
 *   secp256k1 recovery, EIP-2 low s).
 * - The hash and the signing hash are computed from the fields (streamed
 *   into Keccak, never copied), so a tx rebuilt from a node's JSON fields
 *   and a decoded tx hash the same way: eth_tx_hash(decoded) equals
 *   keccak256 of the input bytes (for the network form of a blob tx, of
 *   the inner tx, as nodes report it).
 * - Signatures use libsecp256k1's recovery module with
 *   secp256k1_context_static (no context of ours, no globals).
 */
#ifndef CW_ETH_TX_H
#define CW_ETH_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/err.h"
#include "chains/model.h"
#include "chains/u256.h"

/* Largest signed tx accepted, in bytes (far above any block's gas limit
 * allows; blob sidecars of the network form count). */
#define ETH_TX_SIZE_MAX (32u * 1024 * 1024)

typedef enum {
    ETH_TX_LEGACY = 0,
    ETH_TX_ACCESS_LIST = 1, /* EIP-2930 */
    ETH_TX_DYNAMIC_FEE = 2, /* EIP-1559 */
    ETH_TX_BLOB = 3,        /* EIP-4844 */
    ETH_TX_SET_CODE = 4,    /* EIP-7702 */
} eth_tx_type;

typedef struct {
    uint8_t type;              /* eth_tx_type */
    bool has_chain_id;         /* false only for a pre-EIP-155 legacy tx */
    uint64_t chain_id;         /* refused above 2^64-1 (CW_ELIMIT) */
    uint64_t nonce;
    cw_u256 gas_price;         /* types 0 and 1 */
    cw_u256 max_priority_fee;  /* types 2, 3, 4 (maxPriorityFeePerGas) */
    cw_u256 max_fee;           /* types 2, 3, 4 (maxFeePerGas) */
    uint64_t gas;              /* gas limit */
    bool has_to;               /* false: contract creation (types 0, 1, 2 only) */
    uint8_t to[20];
    cw_u256 value;             /* wei */
    cw_span data;              /* calldata (or init code for a creation) */
    cw_span access_list;       /* types 1-4: the whole encoded list item, header included */
    size_t n_access;           /* entries in it */
    size_t n_storage_keys;     /* storage keys over all entries */
    cw_u256 max_fee_per_blob_gas; /* type 3 */
    cw_span blob_hashes;       /* type 3: the whole encoded list item of 32-byte hashes */
    size_t n_blob_hashes;
    cw_span auth_list;         /* type 4: the whole encoded authorization list item */
    size_t n_auth;
    /* Signature. Legacy: v as signed (27/28 or 35 + 2*chainId + recid);
     * typed: v == y_parity. y_parity is the recovery id (0 or 1) always. */
    cw_u256 v;
    uint8_t y_parity;
    uint8_t r[32], s[32];      /* big-endian, left-padded with zeros */
    bool blob_wrapper;         /* type 3 read from its network form (sidecar skipped) */
    cw_span raw;               /* the input decoded (set by eth_tx_decode only) */
} eth_tx;

/* A recovered signer: the 20-byte address and the uncompressed public key
 * (0x04 || X || Y), from which other chains' addresses derive. */
typedef struct {
    uint8_t addr[20];
    uint8_t pubkey[65];
} eth_signer;

/* Decodes exactly one signed tx from buf[0..len): a legacy RLP list or a
 * typed envelope (type byte || rlp(payload)). Trailing bytes, truncation,
 * non-canonical RLP, a field of the wrong kind or width, a legacy v that is
 * neither 27/28 nor >= 35, a typed yParity other than 0/1, a missing `to`
 * on types 3 and 4, an unknown type byte: all refused (CW_ETRUNC,
 * CW_EFORMAT, CW_ELIMIT) with the offset and the field. (An empty blob or
 * authorization list is well-formed: eth_tx_check refuses it.) On success
 * every field of *tx is set and tx->raw is the input. */
cw_code eth_tx_decode(const uint8_t *buf, size_t len, eth_tx *tx, cw_err *err);

/* The signed encoding rebuilt from the fields (raw is not read): a legacy
 * RLP list or type || rlp(payload), the exact bytes a node hashes. A
 * follower that gets a tx as JSON fills an eth_tx and checks
 * eth_tx_hash() against the node's hash. For the network form of a blob tx
 * this is the inner tx (no sidecar). Writes at most cap bytes; *len gets
 * the size (also when cap is too small: then CW_ENOMEM naming it). Spans
 * (data, access_list, blob_hashes, auth_list) are copied as they are: they
 * must hold canonical encoded lists (as eth_tx_decode leaves them).
 * CW_EARG when the fields contradict each other (legacy v against chain
 * id and y_parity, a type without a chain id, a type 3/4 creation). */
cw_code eth_tx_encode(const eth_tx *tx, uint8_t *buf, size_t cap, size_t *len, cw_err *err);

/* keccak256 of eth_tx_encode's bytes, computed without a buffer. Output in
 * the order nodes print it (no reversal). Assumes fields eth_tx_encode
 * accepts (as a decoded tx's are). */
void eth_tx_hash(const eth_tx *tx, uint8_t out[32]);

/* The hash the sender signed: keccak256(rlp(first 6 fields)) pre-EIP-155,
 * keccak256(rlp(first 6, chainId, 0, 0)) with EIP-155, keccak256(type ||
 * rlp(payload without yParity, r, s)) for typed txs. */
void eth_tx_sighash(const eth_tx *tx, uint8_t out[32]);

/* Stateless validity rules, as a node checks a tx before a block may
 * include it. The forks differ in what they allow; the test data of
 * ethereum/tests runs each case under a named fork. */
typedef enum {
    ETH_FORK_LONDON = 0, /* types 0-2 */
    ETH_FORK_SHANGHAI,   /* + EIP-3860 init code limit and its gas */
    ETH_FORK_CANCUN,     /* + type 3 */
    ETH_FORK_PRAGUE,     /* + type 4, EIP-7623 calldata floor */
} eth_fork;

typedef struct {
    eth_fork fork;
    uint64_t chain_id; /* the network's chain id; 0 accepts any */
} eth_rules;

/* Refuses (CW_EFORMAT/CW_ELIMIT/CW_EARG, naming the rule and the values):
 * a type the fork does not have; a chain id other than rules->chain_id
 * (pre-EIP-155 legacy txs carry none and pass); nonce 2^64-1 (EIP-2681);
 * gas * (gasPrice or maxFee) above 2^256-1; maxPriorityFee above maxFee;
 * gas below the intrinsic gas (21000, +32000 for a creation, 4/16 per
 * zero/non-zero data byte, 2400 per access-list address and 1900 per key,
 * 2 per init-code word from Shanghai, 25000 per authorization, the EIP-7623
 * floor from Prague); init code above 49152 bytes (Shanghai); a type 3 tx
 * without blob hashes, with more than the fork's blobs per block (6, 9) or
 * with a hash whose first byte is not 0x01; a type 4 tx with an empty
 * authorization list. */
cw_code eth_tx_check(const eth_tx *tx, const eth_rules *rules, cw_err *err);

/* Recovers the sender from the signature over eth_tx_sighash. Refuses
 * (CW_EFORMAT, naming r, s or v): r or s zero or not below the curve order,
 * s above n/2 (EIP-2), a signature from which no key can be recovered. */
cw_code eth_tx_recover(const eth_tx *tx, eth_signer *out, cw_err *err);

/* Type 4: one authorization of the list, read in order.
 * Usage: eth_auth_iter it; eth_auth_begin(tx, &it); while (eth_auth_next(&it, &a)) ... */
typedef struct {
    cw_u256 chain_id;    /* 0 = valid on every chain */
    uint8_t address[20]; /* the code the authority delegates to */
    uint64_t nonce;
    uint8_t y_parity;    /* 0..255 as encoded; only 0/1 can recover */
    uint8_t r[32], s[32];
    size_t off;          /* offset of the authorization in the tx input */
} eth_auth;

typedef struct {
    const uint8_t *base;
    size_t pos, end;
} eth_auth_iter;

void eth_auth_begin(const eth_tx *tx, eth_auth_iter *it);
/* False at the end. The list was checked by eth_tx_decode: a tx that did
 * not come from it must hold a canonical list (else iteration stops early). */
bool eth_auth_next(eth_auth_iter *it, eth_auth *out);

/* The hash an authority signs: keccak256(0x05 || rlp([chainId, address,
 * nonce])). */
void eth_auth_sighash(const eth_auth *a, uint8_t out[32]);

/* The authority: the signer of eth_auth_sighash. Refuses what EIP-7702 makes a node skip: y_parity not 0/1,
 * r or s zero or out of range, s above n/2, no recoverable key. A refused
 * authorization does not make the tx invalid; the chain ignores it. */
cw_code eth_auth_recover(const eth_auth *a, eth_signer *out, cw_err *err);

/* Transfers eth_tx_to_model can produce: the native value, and one
 * ERC-20 call read from the calldata. */
#define ETH_TX_XFER_MAX 2

/* Model flags. */
enum {
    /* Read an ERC-20 transfer/transferFrom from the calldata as a
     * CW_XFER_TOKEN_CALL transfer (for a tx not yet mined: what it asks;
     * a mined tx's token moves come from its Transfer logs instead).
     * Malformed calldata with a transfer selector is then an error. */
    ETH_MODEL_CALLDATA = 1u << 0,
};

/* Fills *out (chain CW_CHAIN_EVM, net main, txid = eth_tx_hash in node
 * order, raw, size) with transfers in xfer[0..cap): always first the
 * native value (CW_XFER_VALUE from the signer to `to`, kind NONE for a
 * creation, also when the value is zero: the call still reaches `to`),
 * then with ETH_MODEL_CALLDATA an ERC-20 call when `to` is the token
 * contract. out->xfer points to xfer. CW_ENOMEM when cap is too small. */
cw_code eth_tx_to_model(const eth_tx *tx, const eth_signer *from, unsigned flags, cw_transfer *xfer, size_t cap,
                        cw_tx *out, cw_err *err);

#endif
