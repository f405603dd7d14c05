/* eth_follow.c: an Ethereum node over JSON-RPC as an account_source (eth_follow.h). */
#include "eth_follow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/ethereum/erc20.h"
#include "chains/ethereum/rlp.h"
#include "chains/ethereum/tx.h"
#include "chains/hex.h"

#define ETH_RECEIPT_BATCH 64
#define ETH_PENDING_BATCH 64
#define ETH_LOG_TOPICS_MAX 4

struct eth_follow {
    rpc_client *rpc;
    account_source src;
    bool no_block_receipts; /* the node lacks eth_getBlockReceipts: per-tx receipts */
    char filter[80];        /* the pending-tx filter's id, "" before the first poll */
    uint64_t filters_made;  /* filters the node gave (eth_follow_pending_filter) */
};

/* A block and the memory behind it (one free). */
typedef struct {
    account_block b; /* first: eth_block_free casts back */
    cw_transfer *xfer;
    uint8_t (*senders)[65];
} eth_block_mem;

void eth_network_name(uint64_t chain_id, char out[32])
{
    switch (chain_id) {
    case 1: snprintf(out, 32, "mainnet"); break;
    case 11155111: snprintf(out, 32, "sepolia"); break;
    case 17000: snprintf(out, 32, "holesky"); break;
    case 560048: snprintf(out, 32, "hoodi"); break;
    default: snprintf(out, 32, "chain-%llu", (unsigned long long)chain_id); break;
    }
}

/* ---------- JSON fields ---------- */

static const char *str_field(const json_t *o, const char *name) { return json_string_value(json_object_get(o, name)); }

static cw_code bad(cw_err *err, const char *where, const char *field, const char *why)
{
    return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: field %s: %s", where, field, why);
}

static cw_code qty_u256(const json_t *o, const char *name, const char *where, cw_u256 *out, cw_err *err)
{
    const char *s = str_field(o, name);
    if (s == NULL)
        return bad(err, where, name, "missing or not a string");
    cw_err e = {0};
    if (cw_u256_from_quantity(s, strlen(s), out, &e))
        return bad(err, where, name, e.msg);
    return CW_OK;
}

static cw_code qty_u64(const json_t *o, const char *name, const char *where, uint64_t *out, cw_err *err)
{
    cw_u256 v;
    cw_code rc = qty_u256(o, name, where, &v, err);
    if (rc == CW_OK && !cw_u256_to_u64(&v, out))
        return bad(err, where, name, "above 2^64-1");
    return rc;
}

/* "0x" and exactly n bytes of hex. */
static cw_code hex_fixed(const char *s, const char *where, const char *field, uint8_t *out, size_t n, cw_err *err)
{
    size_t got = 0;
    if (s == NULL)
        return bad(err, where, field, "missing or not a string");
    if (strncmp(s, "0x", 2) != 0 || strlen(s) != 2 + 2 * n || cw_hex_decode(s + 2, 2 * n, out, n, &got, NULL) ||
        got != n) {
        char why[64];
        snprintf(why, sizeof why, "not 0x and %zu hex digits", 2 * n);
        return bad(err, where, field, why);
    }
    return CW_OK;
}

/* "0x" and any even number of hex digits, into a new buffer (free it). */
static cw_code hex_data(const char *s, const char *where, const char *field, uint8_t **out, size_t *n, cw_err *err)
{
    *out = NULL;
    *n = 0;
    if (s == NULL)
        return bad(err, where, field, "missing or not a string");
    size_t len = strlen(s);
    if (strncmp(s, "0x", 2) != 0 || len % 2)
        return bad(err, where, field, "not 0x and an even number of hex digits");
    size_t bytes = (len - 2) / 2;
    if (bytes > ETH_TX_SIZE_MAX)
        return bad(err, where, field, "over the largest tx size");
    *out = malloc(bytes ? bytes : 1);
    if (*out == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory for %s", where, field);
    size_t got = 0;
    if (bytes && (cw_hex_decode(s + 2, len - 2, *out, bytes, &got, NULL) || got != bytes)) {
        free(*out);
        *out = NULL;
        return bad(err, where, field, "not hex");
    }
    *n = bytes;
    return CW_OK;
}

static cw_code addr_field(const char *s, const char *where, const char *field, cw_addr *out, cw_err *err)
{
    uint8_t a[20];
    cw_code rc = hex_fixed(s, where, field, a, 20, err);
    if (rc == CW_OK)
        cw_addr_set(out, CW_CHAIN_EVM, CW_NET_MAIN, CW_ADDR_EVM, 0, a, 20);
    return rc;
}

/* ---------- typed-tx lists, encoded as eth_tx_encode wants them ---------- */

/* accessList [{address, storageKeys: [..]}] as rlp([[addr, [key..]]..]).
 * w may be a counting writer (p NULL). */
static cw_code write_access_list(const json_t *al, const char *where, eth_rlp_w *w, size_t *n_entries, size_t *n_keys,
                                 cw_err *err)
{
    if (!json_is_array(al))
        return bad(err, where, "accessList", "not an array");
    size_t payload = 0, i;
    json_t *e;
    *n_entries = *n_keys = 0;
    /* first pass: sizes */
    json_array_foreach(al, i, e)
    {
        uint8_t a[20];
        cw_code rc = hex_fixed(str_field(e, "address"), where, "accessList.address", a, 20, err);
        if (rc)
            return rc;
        json_t *keys = json_object_get(e, "storageKeys");
        if (!json_is_array(keys))
            return bad(err, where, "accessList.storageKeys", "not an array");
        size_t kp = json_array_size(keys) * 33;
        payload += eth_rlp_size_list(eth_rlp_size_bytes(a, 20) + eth_rlp_size_list(kp));
    }
    eth_rlp_w_list(w, payload);
    json_array_foreach(al, i, e)
    {
        uint8_t a[20];
        hex_fixed(str_field(e, "address"), where, "accessList.address", a, 20, NULL);
        json_t *keys = json_object_get(e, "storageKeys");
        size_t kp = json_array_size(keys) * 33;
        eth_rlp_w_list(w, eth_rlp_size_bytes(a, 20) + eth_rlp_size_list(kp));
        eth_rlp_w_bytes(w, a, 20);
        eth_rlp_w_list(w, kp);
        size_t k;
        json_t *kj;
        json_array_foreach(keys, k, kj)
        {
            uint8_t key[32];
            cw_code rc = hex_fixed(json_string_value(kj), where, "accessList.storageKeys", key, 32, err);
            if (rc)
                return rc;
            eth_rlp_w_bytes(w, key, 32);
            (*n_keys)++;
        }
        (*n_entries)++;
    }
    return CW_OK;
}

static cw_code write_blob_hashes(const json_t *bh, const char *where, eth_rlp_w *w, size_t *n, cw_err *err)
{
    if (!json_is_array(bh))
        return bad(err, where, "blobVersionedHashes", "not an array");
    *n = json_array_size(bh);
    eth_rlp_w_list(w, *n * 33);
    size_t i;
    json_t *e;
    json_array_foreach(bh, i, e)
    {
        uint8_t h[32];
        cw_code rc = hex_fixed(json_string_value(e), where, "blobVersionedHashes", h, 32, err);
        if (rc)
            return rc;
        eth_rlp_w_bytes(w, h, 32);
    }
    return CW_OK;
}

/* A quantity as a 32-byte big-endian word (r, s). */
static cw_code word_field(const json_t *o, const char *name, const char *where, uint8_t out[32], cw_err *err)
{
    cw_u256 v;
    cw_code rc = qty_u256(o, name, where, &v, err);
    if (rc == CW_OK)
        cw_u256_to_be(&v, out);
    return rc;
}

/* One authorization [chainId, address, nonce, yParity, r, s]. */
static size_t auth_payload(const cw_u256 *cid, const uint8_t a[20], uint64_t nonce, uint64_t yp, const cw_u256 *r,
                           const cw_u256 *s)
{
    return eth_rlp_size_u256(cid) + eth_rlp_size_bytes(a, 20) + eth_rlp_size_uint64(nonce) + eth_rlp_size_uint64(yp) +
           eth_rlp_size_u256(r) + eth_rlp_size_u256(s);
}

static cw_code write_auth_list(const json_t *al, const char *where, eth_rlp_w *w, size_t *n, cw_err *err)
{
    if (!json_is_array(al))
        return bad(err, where, "authorizationList", "not an array");
    *n = json_array_size(al);
    size_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            eth_rlp_w_list(w, total);
        size_t i;
        json_t *e;
        json_array_foreach(al, i, e)
        {
            cw_u256 cid, r, s;
            uint64_t nonce, yp;
            uint8_t a[20];
            cw_code rc;
            if ((rc = qty_u256(e, "chainId", where, &cid, err)) ||
                (rc = hex_fixed(str_field(e, "address"), where, "authorizationList.address", a, 20, err)) ||
                (rc = qty_u64(e, "nonce", where, &nonce, err)) || (rc = qty_u64(e, "yParity", where, &yp, err)) ||
                (rc = qty_u256(e, "r", where, &r, err)) || (rc = qty_u256(e, "s", where, &s, err)))
                return rc;
            size_t pl = auth_payload(&cid, a, nonce, yp, &r, &s);
            if (pass == 0) {
                total += eth_rlp_size_list(pl);
                continue;
            }
            eth_rlp_w_list(w, pl);
            eth_rlp_w_u256(w, &cid);
            eth_rlp_w_bytes(w, a, 20);
            eth_rlp_w_uint64(w, nonce);
            eth_rlp_w_uint64(w, yp);
            eth_rlp_w_u256(w, &r);
            eth_rlp_w_u256(w, &s);
        }
    }
    return CW_OK;
}

/* Encodes a list with fn into a new buffer (two passes: size, then bytes). */
typedef cw_code (*list_fn)(const json_t *j, const char *where, eth_rlp_w *w, void *a, void *b, cw_err *err);

static cw_code al_fn(const json_t *j, const char *where, eth_rlp_w *w, void *a, void *b, cw_err *err)
{
    return write_access_list(j, where, w, a, b, err);
}
static cw_code bh_fn(const json_t *j, const char *where, eth_rlp_w *w, void *a, void *b, cw_err *err)
{
    (void)b;
    return write_blob_hashes(j, where, w, a, err);
}
static cw_code auth_fn(const json_t *j, const char *where, eth_rlp_w *w, void *a, void *b, cw_err *err)
{
    (void)b;
    return write_auth_list(j, where, w, a, err);
}

static cw_code encode_list(list_fn fn, const json_t *j, const char *where, uint8_t **buf, cw_span *out, void *a, void *b,
                           cw_err *err)
{
    eth_rlp_w w;
    eth_rlp_w_init(&w, NULL, 0, NULL);
    cw_code rc = fn(j, where, &w, a, b, err);
    if (rc)
        return rc;
    size_t n = w.n;
    if ((*buf = malloc(n)) == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory encoding a list", where);
    eth_rlp_w_init(&w, *buf, n, NULL);
    if ((rc = fn(j, where, &w, a, b, err)))
        return rc;
    out->p = *buf;
    out->n = n;
    return CW_OK;
}

/* ---------- one tx ---------- */

cw_code eth_tx_from_json(const json_t *j, bool calldata, cw_transfer *xfer, size_t cap, cw_tx *out,
                         uint8_t pubkey65[65], cw_err *err)
{
    char where[96];
    const char *hs = str_field(j, "hash");
    snprintf(where, sizeof where, "tx %.66s", hs ? hs : "(no hash)");
    if (!json_is_object(j))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "a tx is not a JSON object");
    uint8_t node_hash[32];
    cw_code rc = hex_fixed(hs, where, "hash", node_hash, 32, err);
    if (rc)
        return rc;
    eth_tx tx;
    memset(&tx, 0, sizeof tx);
    uint64_t type;
    if ((rc = qty_u64(j, "type", where, &type, err)))
        return rc;
    if (type > ETH_TX_SET_CODE) {
        char why[64];
        snprintf(why, sizeof why, "type %llu is not one chainwatch knows (0 to 4)", (unsigned long long)type);
        return bad(err, where, "type", why);
    }
    tx.type = (uint8_t)type;
    uint8_t *data = NULL, *al = NULL, *bh = NULL, *auth = NULL;
    size_t dn = 0;
    cw_u256 v;
    if ((rc = qty_u64(j, "nonce", where, &tx.nonce, err)) || (rc = qty_u64(j, "gas", where, &tx.gas, err)) ||
        (rc = qty_u256(j, "value", where, &tx.value, err)) || (rc = qty_u256(j, "v", where, &v, err)) ||
        (rc = word_field(j, "r", where, tx.r, err)) || (rc = word_field(j, "s", where, tx.s, err)))
        goto out;
    if ((rc = hex_data(str_field(j, "input"), where, "input", &data, &dn, err)))
        goto out;
    tx.data.p = data;
    tx.data.n = dn;
    tx.v = v;
    json_t *to = json_object_get(j, "to");
    if (to && !json_is_null(to)) {
        if ((rc = hex_fixed(json_string_value(to), where, "to", tx.to, 20, err)))
            goto out;
        tx.has_to = true;
    }
    if (tx.type == ETH_TX_LEGACY) {
        if ((rc = qty_u256(j, "gasPrice", where, &tx.gas_price, err)))
            goto out;
        uint64_t v64;
        if (!cw_u256_to_u64(&v, &v64)) {
            rc = bad(err, where, "v", "above 2^64-1");
            goto out;
        }
        if (v64 == 27 || v64 == 28) {
            tx.y_parity = (uint8_t)(v64 - 27);
        } else if (v64 >= 35) {
            tx.has_chain_id = true;
            tx.chain_id = (v64 - 35) / 2;
            tx.y_parity = (uint8_t)((v64 - 35) % 2);
        } else {
            rc = bad(err, where, "v", "neither 27/28 nor EIP-155 (35 + 2 * chainId + 0/1)");
            goto out;
        }
    } else {
        tx.has_chain_id = true;
        uint64_t yp;
        if ((rc = qty_u64(j, "chainId", where, &tx.chain_id, err)))
            goto out;
        if (!cw_u256_to_u64(&v, &yp) || yp > 1) {
            rc = bad(err, where, "v", "a typed tx's v (yParity) is 0 or 1");
            goto out;
        }
        tx.y_parity = (uint8_t)yp;
        if (tx.type == ETH_TX_ACCESS_LIST) {
            if ((rc = qty_u256(j, "gasPrice", where, &tx.gas_price, err)))
                goto out;
        } else if ((rc = qty_u256(j, "maxPriorityFeePerGas", where, &tx.max_priority_fee, err)) ||
                   (rc = qty_u256(j, "maxFeePerGas", where, &tx.max_fee, err))) {
            goto out;
        }
        json_t *alj = json_object_get(j, "accessList");
        json_t *empty = NULL;
        if (alj == NULL)
            alj = empty = json_array(); /* some nodes leave an empty list out */
        rc = encode_list(al_fn, alj, where, &al, &tx.access_list, &tx.n_access, &tx.n_storage_keys, err);
        json_decref(empty);
        if (rc)
            goto out;
        if (tx.type == ETH_TX_BLOB &&
            ((rc = qty_u256(j, "maxFeePerBlobGas", where, &tx.max_fee_per_blob_gas, err)) ||
             (rc = encode_list(bh_fn, json_object_get(j, "blobVersionedHashes"), where, &bh, &tx.blob_hashes,
                               &tx.n_blob_hashes, NULL, err))))
            goto out;
        if (tx.type == ETH_TX_SET_CODE &&
            (rc = encode_list(auth_fn, json_object_get(j, "authorizationList"), where, &auth, &tx.auth_list, &tx.n_auth,
                              NULL, err)))
            goto out;
    }
    /* the node's own chainId for a legacy tx, when it gives one, must agree */
    if (tx.type == ETH_TX_LEGACY && json_object_get(j, "chainId") && tx.has_chain_id) {
        uint64_t cid;
        if ((rc = qty_u64(j, "chainId", where, &cid, err)))
            goto out;
        if (cid != tx.chain_id) {
            rc = bad(err, where, "chainId", "differs from the chain id in v");
            goto out;
        }
    }
    /* rebuilt from the fields: its Keccak must be the node's hash */
    uint8_t mine[32];
    eth_tx_hash(&tx, mine);
    if (memcmp(mine, node_hash, 32) != 0) {
        char h[65];
        cw_hex_encode(mine, 32, h);
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                        "%s: the tx rebuilt from the node's fields hashes to 0x%s: a field is wrong (the node's reply "
                        "is refused)",
                        where, h);
        goto out;
    }
    eth_signer signer;
    cw_err rerr = {0};
    if ((rc = eth_tx_recover(&tx, &signer, &rerr))) {
        rc = cw_err_set(err, rc, CW_NO_OFFSET, "%s: no sender recovers from the signature: %s", where, rerr.msg);
        goto out;
    }
    uint8_t from[20];
    if ((rc = hex_fixed(str_field(j, "from"), where, "from", from, 20, err)))
        goto out;
    if (memcmp(from, signer.addr, 20) != 0) {
        char h[41];
        cw_hex_encode(signer.addr, 20, h);
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                        "%s: the node says `from` is %s but the signature recovers 0x%s (the reply is refused)", where,
                        str_field(j, "from"), h);
        goto out;
    }
    if (pubkey65)
        memcpy(pubkey65, signer.pubkey, 65);
    cw_err merr = {0};
    if ((rc = eth_tx_to_model(&tx, &signer, calldata ? ETH_MODEL_CALLDATA : 0, xfer, cap, out, &merr)))
        rc = cw_err_set(err, rc, CW_NO_OFFSET, "%s: %s", where, merr.msg);
    out->raw.p = NULL; /* the fields were JSON: no raw bytes kept */
    out->raw.n = 0;
out:
    free(data);
    free(al);
    free(bh);
    free(auth);
    return rc;
}

/* ---------- blocks ---------- */

void eth_block_free(account_block *b)
{
    if (b == NULL)
        return;
    eth_block_mem *m = (eth_block_mem *)b;
    free(m->xfer);
    free(m->senders);
    free(b->txs);
    free(m);
}

static cw_code log_topics(const json_t *log, const char *where, uint8_t (*t)[32], size_t *n, cw_err *err)
{
    json_t *topics = json_object_get(log, "topics");
    if (!json_is_array(topics))
        return bad(err, where, "logs.topics", "not an array");
    *n = json_array_size(topics);
    if (*n > ETH_LOG_TOPICS_MAX)
        return bad(err, where, "logs.topics", "more than 4 topics");
    for (size_t i = 0; i < *n; i++) {
        cw_code rc = hex_fixed(json_string_value(json_array_get(topics, i)), where, "logs.topics", t[i], 32, err);
        if (rc)
            return rc;
    }
    return CW_OK;
}

cw_code eth_block_from_json(const json_t *bj, const json_t *receipts, int64_t want, account_block **out, cw_err *err)
{
    *out = NULL;
    if (!json_is_object(bj))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "block %lld: the node's block is not a JSON object",
                          (long long)want);
    char where[96];
    snprintf(where, sizeof where, "block %lld", (long long)want);
    uint64_t number, time;
    uint8_t hash[32], parent[32];
    cw_code rc;
    if ((rc = qty_u64(bj, "number", where, &number, err)) || (rc = qty_u64(bj, "timestamp", where, &time, err)) ||
        (rc = hex_fixed(str_field(bj, "hash"), where, "hash", hash, 32, err)) ||
        (rc = hex_fixed(str_field(bj, "parentHash"), where, "parentHash", parent, 32, err)))
        return rc;
    if (number > INT64_MAX || (want >= 0 && (int64_t)number != want))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "block %lld: the node answered with block %llu",
                          (long long)want, (unsigned long long)number);
    snprintf(where, sizeof where, "block %llu", (unsigned long long)number);
    json_t *txs = json_object_get(bj, "transactions");
    if (!json_is_array(txs))
        return bad(err, where, "transactions", "not an array");
    size_t n = json_array_size(txs);
    if (!json_is_array(receipts) || json_array_size(receipts) != n) {
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: %zu receipts for %zu txs", where,
                          json_is_array(receipts) ? json_array_size(receipts) : 0, n);
    }
    /* room: each tx's value and call, and each of its logs */
    size_t slots = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *logs = json_object_get(json_array_get(receipts, i), "logs");
        if (!json_is_array(logs))
            return bad(err, where, "receipt.logs", "not an array");
        slots += ETH_TX_XFER_MAX + json_array_size(logs);
    }
    eth_block_mem *m = calloc(1, sizeof *m);
    if (m == NULL || (n && (m->b.txs = calloc(n, sizeof *m->b.txs)) == NULL) ||
        (n && (m->senders = calloc(n, sizeof *m->senders)) == NULL) ||
        (slots && (m->xfer = calloc(slots, sizeof *m->xfer)) == NULL)) {
        eth_block_free(m ? &m->b : NULL);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory for %zu txs", where, n);
    }
    account_block *b = &m->b;
    b->number = (int64_t)number;
    b->time = time;
    memcpy(b->hash, hash, 32);
    memcpy(b->parent, parent, 32);
    b->n_txs = n;
    b->senders = (const uint8_t(*)[65])m->senders;
    size_t used = 0;
    for (size_t i = 0; i < n && rc == CW_OK; i++) {
        const json_t *tj = json_array_get(txs, i), *rj = json_array_get(receipts, i);
        json_t *logs = json_object_get(rj, "logs");
        cw_tx *tx = &b->txs[i];
        if (!json_is_object(tj)) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: tx %zu is not an object (ask with full txs)", where, i);
            break;
        }
        /* the block's own txs are mined: token moves come from the logs, not the calldata */
        if ((rc = eth_tx_from_json(tj, false, m->xfer + used, ETH_TX_XFER_MAX, tx, m->senders[i], err)))
            break;
        char twhere[256];
        snprintf(twhere, sizeof twhere, "%s, receipt of tx %.66s", where, str_field(tj, "hash"));
        uint8_t rh[32], rb[32];
        if ((rc = hex_fixed(str_field(rj, "transactionHash"), twhere, "transactionHash", rh, 32, err)))
            break;
        if (memcmp(rh, tx->txid, 32) != 0) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: receipt %zu is another tx's", where, i);
            break;
        }
        if (str_field(rj, "blockHash")) {
            if ((rc = hex_fixed(str_field(rj, "blockHash"), twhere, "blockHash", rb, 32, err)))
                break;
            if (memcmp(rb, hash, 32) != 0) {
                rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET,
                                "%s: receipt %zu is from another block at that height (the node reorged while we "
                                "asked): try again",
                                where, i);
                break;
            }
        }
        const char *st = str_field(rj, "status");
        bool failed = false;
        if (st) { /* Byzantium on; older receipts carry a state root instead */
            if (strcmp(st, "0x0") == 0)
                failed = true;
            else if (strcmp(st, "0x1") != 0) {
                rc = bad(err, twhere, "status", "neither 0x0 nor 0x1");
                break;
            }
        }
        if (failed) {
            if (json_array_size(logs)) {
                rc = bad(err, twhere, "logs", "a reverted tx has no logs");
                break;
            }
            tx->flags |= CW_TX_FAILED;
        }
        size_t k;
        json_t *lj;
        json_array_foreach(logs, k, lj)
        {
            uint8_t topics[ETH_LOG_TOPICS_MAX][32];
            size_t nt = 0;
            if ((rc = log_topics(lj, twhere, topics, &nt, err)))
                break;
            if (nt == 0 || memcmp(topics[0], erc20_transfer_topic, 32) != 0)
                continue;
            cw_addr contract;
            uint64_t index;
            uint8_t *data;
            size_t dn;
            if ((rc = addr_field(str_field(lj, "address"), twhere, "logs.address", &contract, err)) ||
                (rc = qty_u64(lj, "logIndex", twhere, &index, err)) ||
                (rc = hex_data(str_field(lj, "data"), twhere, "logs.data", &data, &dn, err)))
                break;
            erc20_log el;
            cw_span ds = {data, dn};
            /* A Transfer topic with another shape is no standard token
             * event (anyone can emit one): skipped, never a reason to stop
             * following the chain. ERC-721 moves no fungible amount. */
            if (erc20_log_decode((const uint8_t(*)[32])topics, nt, ds, &el, NULL) == CW_OK &&
                el.kind == ERC20_LOG_TRANSFER) {
                if (index > UINT32_MAX)
                    rc = bad(err, twhere, "logs.logIndex", "above 2^32-1");
                else
                    rc = erc20_log_to_transfer(&el, &contract, (uint32_t)index, &m->xfer[used + tx->n_xfer], err);
                if (rc == CW_OK)
                    tx->n_xfer++;
            }
            free(data);
            if (rc)
                break;
        }
        tx->xfer = m->xfer + used;
        used += ETH_TX_XFER_MAX + json_array_size(logs);
    }
    if (rc) {
        eth_block_free(b);
        return rc;
    }
    *out = b;
    return CW_OK;
}

/* ---------- the source ---------- */

static json_t *num_param(int64_t n, bool full)
{
    char h[24];
    snprintf(h, sizeof h, "0x%llx", (unsigned long long)n);
    return json_pack("[sb]", h, full);
}

static cw_code src_head(void *ctx, int64_t *number, cw_err *err)
{
    eth_follow *f = ctx;
    json_t *r;
    cw_code rc = rpc_call(f->rpc, "eth_blockNumber", NULL, &r, err);
    if (rc)
        return rc;
    uint64_t v;
    json_t *wrap = json_pack("{sO}", "n", r);
    rc = qty_u64(wrap, "n", "eth_blockNumber", &v, err);
    json_decref(wrap);
    json_decref(r);
    if (rc == CW_OK && v > INT64_MAX)
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "eth_blockNumber: out of range");
    if (rc == CW_OK)
        *number = (int64_t)v;
    return rc;
}

static cw_code src_finalized(void *ctx, int64_t *number, cw_err *err)
{
    eth_follow *f = ctx;
    json_t *r;
    cw_code rc = rpc_call(f->rpc, "eth_getBlockByNumber", json_pack("[sb]", "finalized", 0), &r, err);
    if (rc == CW_EARG)
        return cw_err_set(err, CW_ENOTFOUND, CW_NO_OFFSET,
                          "eth_getBlockByNumber(\"finalized\") at %s: the node has no finalized tag (%s)",
                          rpc_url(f->rpc), rpc_last_error(f->rpc)->message);
    if (rc)
        return rc;
    uint64_t v = 0;
    if (json_is_null(r))
        rc = cw_err_set(err, CW_ENOTFOUND, CW_NO_OFFSET, "eth_getBlockByNumber(\"finalized\") at %s: no finalized block",
                        rpc_url(f->rpc));
    else if ((rc = qty_u64(r, "number", "the finalized block", &v, err)) == CW_OK && v > INT64_MAX)
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "the finalized block: number out of range");
    json_decref(r);
    if (rc == CW_OK)
        *number = (int64_t)v;
    return rc;
}

static cw_code src_hash_at(void *ctx, int64_t number, uint8_t hash[32], cw_err *err)
{
    eth_follow *f = ctx;
    json_t *r;
    cw_code rc = rpc_call(f->rpc, "eth_getBlockByNumber", num_param(number, false), &r, err);
    if (rc)
        return rc;
    char where[64];
    snprintf(where, sizeof where, "block %lld", (long long)number);
    if (json_is_null(r))
        rc = CW_ENOTFOUND;
    else
        rc = hex_fixed(str_field(r, "hash"), where, "hash", hash, 32, err);
    json_decref(r);
    return rc;
}

/* Receipts one by one (batched), for a node without eth_getBlockReceipts. */
static cw_code receipts_per_tx(eth_follow *f, const json_t *txs, json_t **out, cw_err *err)
{
    size_t n = json_array_size(txs);
    json_t *all = json_array();
    if (all == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    for (size_t i = 0; i < n; i += ETH_RECEIPT_BATCH) {
        size_t k = n - i < ETH_RECEIPT_BATCH ? n - i : ETH_RECEIPT_BATCH;
        const char *methods[ETH_RECEIPT_BATCH];
        json_t *params[ETH_RECEIPT_BATCH], *res[ETH_RECEIPT_BATCH];
        for (size_t q = 0; q < k; q++) {
            methods[q] = "eth_getTransactionReceipt";
            params[q] = json_pack("[s?]", str_field(json_array_get(txs, i + q), "hash"));
        }
        cw_code rc = rpc_batch(f->rpc, k, methods, params, res, err);
        if (rc) {
            json_decref(all);
            return rc;
        }
        for (size_t q = 0; q < k; q++)
            json_array_append_new(all, res[q]);
    }
    *out = all;
    return CW_OK;
}

static cw_code src_block(void *ctx, int64_t number, account_block **out, cw_err *err)
{
    eth_follow *f = ctx;
    json_t *bj = NULL, *rj = NULL;
    cw_code rc = rpc_call(f->rpc, "eth_getBlockByNumber", num_param(number, true), &bj, err);
    if (rc)
        return rc;
    if (json_is_null(bj)) {
        json_decref(bj);
        return CW_ENOTFOUND;
    }
    json_t *txs = json_object_get(bj, "transactions");
    if (!f->no_block_receipts && json_array_size(txs)) {
        const char *h = str_field(bj, "hash");
        rc = rpc_call(f->rpc, "eth_getBlockReceipts", json_pack("[s?]", h), &rj, err);
        if (rc == CW_EARG && rpc_last_error(f->rpc)->code == -32601) { /* method not found */
            f->no_block_receipts = true;
            rc = CW_OK;
        } else if (rc == CW_OK && json_is_null(rj)) {
            json_decref(rj);
            rj = NULL;
            rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "eth_getBlockReceipts at %s: block %lld is gone (a reorg): try again",
                            rpc_url(f->rpc), (long long)number);
        }
    }
    if (rc == CW_OK && rj == NULL)
        rc = json_array_size(txs) ? receipts_per_tx(f, txs, &rj, err) : ((rj = json_array()) ? CW_OK : CW_ENOMEM);
    if (rc == CW_OK)
        rc = eth_block_from_json(bj, rj, number, out, err);
    json_decref(bj);
    json_decref(rj);
    return rc;
}

static void src_block_free(void *ctx, account_block *b)
{
    (void)ctx;
    eth_block_free(b);
}

static cw_code new_filter(eth_follow *f, cw_err *err)
{
    json_t *r;
    cw_code rc = rpc_call(f->rpc, "eth_newPendingTransactionFilter", NULL, &r, err);
    if (rc)
        return rc;
    const char *id = json_string_value(r);
    if (id == NULL || strlen(id) >= sizeof f->filter)
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "eth_newPendingTransactionFilter at %s: the filter id is not a short string",
                        rpc_url(f->rpc));
    else {
        snprintf(f->filter, sizeof f->filter, "%s", id);
        f->filters_made++;
    }
    json_decref(r);
    return rc;
}

/* Whether a node's error message is about a filter ("filter" in any case). */
static bool names_the_filter(const char *m)
{
    for (; *m; m++) {
        size_t i = 0;
        while (i < 6 && m[i] && (m[i] | 0x20) == "filter"[i])
            i++;
        if (i == 6)
            return true;
    }
    return false;
}

static cw_code src_pending(void *ctx, account_pending_fn fn, void *fn_ctx, cw_err *err)
{
    eth_follow *f = ctx;
    if (f->filter[0] == '\0')
        return new_filter(f, err); /* the watch starts now */
    json_t *hashes;
    cw_code rc = rpc_call(f->rpc, "eth_getFilterChanges", json_pack("[s]", f->filter), &hashes, err);
    if (rc == CW_EARG && names_the_filter(rpc_last_error(f->rpc)->message)) {
        /* The node refused the filter: it forgot it (a restart, or the
         * ~5 minutes geth keeps an unpolled filter; "filter not found" in
         * geth and erigon, "Filter with id ... does not exist" in
         * nethermind). A new one; the blocks bring what came between. Any
         * other error (a provider's rate limit) is the caller's to log, and
         * the same filter is asked again next time: a new filter per error
         * would lose the pending txs between, silently. */
        f->filter[0] = '\0';
        return new_filter(f, err);
    }
    if (rc)
        return rc;
    if (!json_is_array(hashes)) {
        json_decref(hashes);
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "eth_getFilterChanges at %s: not an array", rpc_url(f->rpc));
    }
    cw_code first = CW_OK;
    cw_err ferr = {0};
    size_t n = json_array_size(hashes);
    for (size_t i = 0; i < n && rc == CW_OK; i += ETH_PENDING_BATCH) {
        size_t k = n - i < ETH_PENDING_BATCH ? n - i : ETH_PENDING_BATCH;
        const char *methods[ETH_PENDING_BATCH];
        json_t *params[ETH_PENDING_BATCH], *res[ETH_PENDING_BATCH];
        for (size_t q = 0; q < k; q++) {
            methods[q] = "eth_getTransactionByHash";
            params[q] = json_pack("[O]", json_array_get(hashes, i + q));
        }
        if ((rc = rpc_batch(f->rpc, k, methods, params, res, err)))
            break;
        for (size_t q = 0; q < k; q++) {
            if (rc == CW_OK && !json_is_null(res[q])) { /* null: gone from the pool already */
                cw_transfer xfer[ETH_TX_XFER_MAX];
                cw_tx tx;
                cw_code trc = eth_tx_from_json(res[q], true, xfer, ETH_TX_XFER_MAX, &tx, NULL, &ferr);
                if (trc == CW_OK)
                    rc = fn(fn_ctx, &tx, err); /* a store error stops */
                else if (first == CW_OK)
                    first = trc; /* one bad tx does not hide the others */
            }
            json_decref(res[q]);
        }
    }
    json_decref(hashes);
    if (rc == CW_OK && first) {
        *err = ferr;
        rc = first;
    }
    return rc;
}

cw_code eth_follow_open(const rpc_options *o, eth_follow **out, cw_err *err)
{
    eth_follow *f = calloc(1, sizeof *f);
    if (f == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    cw_code rc = rpc_open(o, &f->rpc, err);
    if (rc) {
        free(f);
        return rc;
    }
    f->src = (account_source){f, src_head, src_finalized, src_hash_at, src_block, src_block_free, src_pending};
    *out = f;
    return CW_OK;
}

void eth_follow_close(eth_follow *f)
{
    if (f == NULL)
        return;
    rpc_close(f->rpc);
    free(f);
}

const account_source *eth_follow_source(eth_follow *f) { return &f->src; }

const char *eth_follow_pending_filter(const eth_follow *f, uint64_t *made)
{
    *made = f->filters_made;
    return f->filter;
}
rpc_client *eth_follow_rpc(eth_follow *f) { return f->rpc; }

cw_code eth_follow_chain_id(eth_follow *f, uint64_t *id, cw_err *err)
{
    json_t *r;
    cw_code rc = rpc_call(f->rpc, "eth_chainId", NULL, &r, err);
    if (rc)
        return rc;
    json_t *wrap = json_pack("{sO}", "n", r);
    rc = qty_u64(wrap, "n", "eth_chainId", id, err);
    json_decref(wrap);
    json_decref(r);
    return rc;
}
