/*
 * tx.h: a Tron transaction from the bytes it is signed over
 * (Transaction.raw, "raw_data_hex" in java-tron's API), into the
 * chain-neutral model.
 *
 * Design note. java-tron's JSON beside the signed bytes ("raw_data") is
 * the node's rendering and proves nothing; the protobuf is decoded here
 * and the JSON never read for a value. txid = sha256(raw). The signature
 * is over the same sha256: 65 bytes r || s || v, v 0/1 (27/28 accepted),
 * and the key it recovers must be the owner_address inside the signed
 * bytes, or the tx is refused (tron_raw_check_signer).
 *
 * Three contract types move value and are decoded field by field:
 *   TransferContract (1)        TRX: owner -> to_address, amount in sun
 *   TransferAssetContract (2)   TRC-10: asset_name is the asset id (decimal
 *                               text since allowSameTokenName), amount
 *   TriggerSmartContract (31)   a contract call: contract_address is the
 *                               CONTRACT, never the token recipient; a
 *                               TRC-20 transfer's recipient and amount are
 *                               in the calldata (transfer / transferFrom)
 *                               for a tx not yet mined, and in the Transfer
 *                               log once mined (api.h).
 * Any other type is read for its envelope (txid, timestamps, type) and
 * moves nothing the monitor follows; tron_raw_parse reports it in
 * contract_type and leaves owner unset unless its field 1 is a 21-byte
 * address (every Tron contract type puts owner_address there).
 *
 * Strictness: exactly one contract (java-tron refuses more), the Any's
 * type_url must name the type the contract's `type` field says, every
 * address 21 bytes starting 0x41, amounts non-negative int64, no duplicate
 * singular field. Errors give the byte offset in the signed bytes.
 *
 * Pure and allocation-free: spans point into the caller's bytes.
 */
#ifndef CW_TRON_TX_H
#define CW_TRON_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/err.h"
#include "chains/model.h"

enum {
    TRON_CT_TRANSFER = 1,
    TRON_CT_TRANSFER_ASSET = 2,
    TRON_CT_TRIGGER_SMART = 31,
};

/* Signed bytes larger than this are refused (java-tron's
 * TRANSACTION_MAX_BYTE_SIZE is 500 KB). */
#define TRON_RAW_MAX (500u * 1024u)
/* A signature: r || s || v. */
#define TRON_SIG_LEN 65
/* The most transfers one signed tx gives: native call value, TRC-10 call
 * token value, and one TRC-20 call. */
#define TRON_CALL_XFER_MAX 3

typedef struct {
    uint8_t txid[32];          /* sha256(raw), in the order the node prints it */
    uint32_t contract_type;    /* TRON_CT_* or any other ContractType number */
    uint32_t permission_id;
    bool has_owner;
    uint8_t owner[20];         /* owner_address without its 0x41 */
    bool has_to;
    uint8_t to[20];            /* TRX / TRC-10 recipient */
    bool has_contract;
    uint8_t contract[20];      /* TriggerSmartContract: the contract called */
    uint64_t amount;           /* TRX: sun; TRC-10: asset units */
    uint64_t asset_id;         /* TRC-10 id */
    uint64_t call_value;       /* TriggerSmartContract: sun sent along */
    uint64_t call_token_value; /* TriggerSmartContract: TRC-10 units sent along */
    uint64_t token_id;         /* ... of this TRC-10 id */
    cw_span call_data;         /* TriggerSmartContract: calldata */
    cw_span memo;              /* raw.data */
    cw_span ref_block_bytes, ref_block_hash;
    int64_t timestamp, expiration, fee_limit; /* ms, ms, sun; 0 when absent */
    cw_span raw;               /* the signed bytes */
} tron_raw;

/* Decodes raw (n bytes, at most TRON_RAW_MAX) into out and computes txid.
 * CW_ETRUNC / CW_EFORMAT / CW_ELIMIT name the byte offset and field. */
cw_code tron_raw_parse(const uint8_t *raw, size_t n, tron_raw *out, cw_err *err);

/* "TransferContract", ... for the types java-tron defines (the
 * protocol's ContractType enum); NULL for a number it does not. */
const char *tron_contract_type_name(uint32_t type);
/* The number of a ContractType name; false when unknown. */
bool tron_contract_type_from_name(const char *name, uint32_t *type);

/* Recovers the signer of one 65-byte signature over txid (v 0, 1, 27 or
 * 28) into signer[20]. CW_EFORMAT for a bad length or v, CW_ECHECKSUM when
 * no key recovers. */
cw_code tron_sig_recover(const tron_raw *r, const uint8_t *sig, size_t n, uint8_t signer[20], cw_err *err);
/* tron_sig_recover, then the signer must be the owner inside the signed
 * bytes: CW_ECHECKSUM "signed by T..., not by the owner T..." otherwise
 * (also for a tx without an owner). */
cw_code tron_raw_check_signer(const tron_raw *r, const uint8_t *sig, size_t n, uint8_t signer[20], cw_err *err);

/* The transfers a signed tx asks for: into xf (cap >= TRON_CALL_XFER_MAX),
 * *n set. TRX and TRC-10 transfers of zero are kept (a tx that moves
 * nothing still names its recipient). With `calldata`, a TRC-20
 * transfer/transferFrom call is one more (CW_XFER_TOKEN_CALL, read by
 * chains/ethereum/erc20.h with Tron's 0x41 byte allowed), and calldata
 * with a transfer selector that does not decode is refused (CW_EFORMAT:
 * screening must not miss a recipient). Without it (a mined tx, whose
 * Transfer logs say what happened) the calldata is not read. */
cw_code tron_raw_transfers(const tron_raw *r, bool calldata, cw_transfer *xf, size_t *n, cw_err *err);

/* Fills tx as a Tron tx (chain, txid, raw, flags 0; xfer/n_xfer as given). */
void tron_tx_init(cw_tx *tx, const tron_raw *r, cw_transfer *xf, size_t n_xfer);

/* A TRC-10 id as decimal text (n bytes at p; `at` its offset for
 * messages, `what` the field): 1 to 19 digits, no leading zero. */
cw_code tron_asset_id_parse(const uint8_t *p, size_t n, size_t at, const char *what, uint64_t *out, cw_err *err);

/* A 20-byte account as a cw_addr of chain TRON. */
void tron_addr(cw_addr *a, const uint8_t acct[20]);

#endif
