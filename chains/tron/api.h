/*
 * api.h: java-tron's JSON into the model: the HTTP API's bodies
 * (/wallet/getblockbynum, /wallet/getnowblock, /wallet/gettransactioninfo
 * byblocknum, a signed tx as /wallet/gettransactionbyid returns it) and the
 * native queue's triggers (FORMATS.md section 6).
 *
 * Design note.
 * - Values come from the signed bytes whenever the JSON carries them
 *   (raw_data_hex, decoded by tx.h); raw_data and the other renderings
 *   are never trusted. txID must equal sha256(raw_data_hex).
 * - A TRC-20 transfer of a mined tx is its Transfer log (topic0 ddf252ad...,
 *   3 topics, 32-byte data; chains/ethereum/erc20.h reads it), never the
 *   calldata and never `toAddress` (the contract). A log with Transfer's
 *   topic0 in another shape (ERC-721's 4 topics, a non-standard token) moves
 *   no fungible amount and is not a transfer here: one odd contract on
 *   mainnet must not stop the monitor. Logs are indexed block-wide in the order the block
 *   gives them (the infos in block order, each tx's logs in order): what
 *   an ethCompatible trigger's logIndex is, so a block read from the feed
 *   and the same block read over HTTP give the same transfers and ids.
 * - A tx failed when its ret[0].contractRet (block) or receipt.result
 *   (info) or result (trigger) is present and not SUCCESS: CW_TX_FAILED.
 * - Parsing uses jansson (no I/O). Whatever this returns owns its memory
 *   (the *_free functions); errors say what and where (the JSON path, the
 *   tx id, the field).
 */
#ifndef CW_TRON_API_H
#define CW_TRON_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/err.h"
#include "chains/model.h"
#include "tx.h"

/* Signatures of one tx kept (java-tron allows up to 5 per permission, 27
 * keys in all). */
#define TRON_SIGS_MAX 32

/* ---- a signed tx (decode tx, screen) ---- */

typedef struct {
    uint8_t *bytes;                 /* the signed bytes (owned) */
    tron_raw raw;                   /* spans into bytes */
    size_t n_sig;
    uint8_t signer[20];             /* recovered from the first signature, = raw.owner */
    cw_transfer xf[TRON_CALL_XFER_MAX];
    cw_tx tx;                       /* xfer -> xf */
} tron_signed;

/* {"txID" (or "txid"), "raw_data_hex", "signature": [hex, ...] (or one hex
 * string), "raw_data" (optional, not read)}: decodes the signed bytes,
 * checks txID against sha256(raw_data_hex), recovers every signature's
 * signer and requires the first to be the owner. CW_EFORMAT naming the
 * field; CW_ECHECKSUM for a txID or signer that does not match. On error
 * nothing is owned (no free needed); on success tron_signed_free. */
cw_code tron_signed_parse(const char *json, size_t n, tron_signed *out, cw_err *err);
void tron_signed_free(tron_signed *s);

/* ---- blocks over HTTP ---- */

typedef struct {
    int64_t number;
    uint8_t hash[32];    /* blockID, display order */
    uint8_t parent[32];  /* parentHash */
    bool parent_known;   /* false for a block built from triggers (the
                          * blockTrigger has no parentHash) */
    int64_t time_ms;
    size_t n_tx;
    cw_tx *txs;          /* chain TRON, txid, flags, transfers */
    uint32_t *ctype;     /* each tx's contract type */
    uint8_t *bytes;      /* every tx's signed bytes (owned) */
    cw_transfer *xf;     /* every tx's transfers (owned) */
    size_t n_xf;
    bool infos_applied;
} tron_block;

/* A getblockbynum / getnowblock body. {} (no such block) is CW_ENOTFOUND.
 * Every tx's txID is checked against its raw_data_hex; transfers are the
 * signed bytes' TRX and TRC-10 ones (tron_raw_transfers without calldata):
 * apply the infos for the TRC-20 ones. tron_block_free in every case. */
cw_code tron_block_parse(const char *json, size_t n, tron_block *out, cw_err *err);
void tron_block_free(tron_block *b);

/* A gettransactioninfobyblocknum body (a JSON array; {} or [] for a block
 * without txs) for block b: each info's id must be one of b's txs and its
 * blockNumber b's number, and every TriggerSmartContract tx must have one.
 * Adds the Transfer logs (CW_XFER_TOKEN_LOG, block-wide index) and sets CW_TX_FAILED from
 * receipt.result. b is unchanged on error. */
cw_code tron_block_apply_infos(tron_block *b, const char *json, size_t n, cw_err *err);

/* ---- native queue triggers ---- */

typedef enum {
    TRON_TRIG_BLOCK = 1,        /* blockTrigger */
    TRON_TRIG_TX,               /* transactionTrigger */
    TRON_TRIG_LOG,              /* contractLogTrigger */
    TRON_TRIG_EVENT,            /* contractEventTrigger */
    TRON_TRIG_SOLIDITY,         /* solidityTrigger */
    TRON_TRIG_SOLIDITY_LOG,     /* solidityLogTrigger */
    TRON_TRIG_SOLIDITY_EVENT,   /* solidityEventTrigger */
} tron_trigger_kind;

/* The trigger named by a topic frame (exactly, not a prefix); 0 when none. */
tron_trigger_kind tron_trigger_kind_of(const char *name, size_t n);
const char *tron_trigger_name(tron_trigger_kind k);

typedef struct {
    tron_trigger_kind kind;
    int64_t time_ms;            /* timeStamp */
    int64_t block_number;       /* every kind but solidityTrigger */
    bool has_block_hash;
    uint8_t block_hash[32];
    int64_t solidified;         /* latestSolidifiedBlockNumber; -1 when absent */
    /* blockTrigger */
    uint64_t tx_count;          /* transactionSize */
    uint8_t (*txids)[32];       /* transactionList, tx_count of them (owned) */
    /* transactionTrigger, and the log/event triggers' tx */
    uint8_t txid[32];
    uint32_t contract_type;     /* transactionTrigger's contractType; 0 for logs */
    bool has_tx_index;
    uint64_t tx_index;          /* transactionIndex (newer java-tron) */
    bool complete;              /* transactionTrigger: it names every transfer (false:
                                 * logList null for a contract call, i.e.
                                 * ethCompatible off, or a value transfer
                                 * without fromAddress/toAddress, as older
                                 * java-tron sends): read the block over HTTP */
    bool removed;               /* log/event: removed */
    cw_tx tx;                   /* chain TRON, txid, flags, transfers */
    cw_transfer *xf;            /* owned */
} tron_trigger;

/* One trigger's JSON, whose kind the topic frame gave (the JSON's own
 * triggerName must agree). Transfers: a transactionTrigger's TRX and
 * TRC-10 from its fields (assetName "trx" / the id, assetAmount, from and
 * to), its TRC-20 transfers from logList's Transfer logs (see `complete`); a contractLogTrigger's or Transfer contractEventTrigger's one
 * Transfer (index from uniqueId's _N is within the tx; the log's block-wide
 * index is not in these triggers, so they are not the block's source of
 * truth). CW_EFORMAT naming the field. tron_trigger_free in every case. */
cw_code tron_trigger_parse(tron_trigger_kind kind, const char *json, size_t n, tron_trigger *out, cw_err *err);
void tron_trigger_free(tron_trigger *t);

#endif
