/*
 * tx.c: Ethereum transactions (see tx.h).
 *
 * The decoder reads the fields in the order of each type's payload with
 * the strict RLP reader; the encoder writes them back from the fields in
 * the same order (emit_payload), once to count the list's length and once
 * to write or hash. Hash, signing hash and encoding share that one writer,
 * so they cannot disagree about a field's position.
 */
#include "tx.h"

#include <stdio.h>
#include <string.h>

#include "chains/ecrecover.h"
#include "chains/ethereum/erc20.h"
#include "chains/ethereum/rlp.h"
#include "chains/keccak.h"

/* ---- decoding ---- */

/* r and s: canonical integers of at most 32 bytes, left-padded. */
static cw_code read_word(eth_rlp *r, const char *field, uint8_t out[32], cw_err *err)
{
    cw_u256 v;
    cw_code rc = eth_rlp_u256(r, field, &v, err);
    if (rc)
        return rc;
    cw_u256_to_be(&v, out);
    return CW_OK;
}

static cw_code read_to(eth_rlp *r, bool required, eth_tx *tx, cw_err *err)
{
    size_t at = r->pos;
    cw_span s = {NULL, 0};
    cw_code rc = eth_rlp_bytes(r, "to", &s, err);
    if (rc)
        return rc;
    if (s.n == 0 && !required) {
        tx->has_to = false;
        return CW_OK;
    }
    if (s.n != 20)
        return cw_err_set(err, CW_EFORMAT, at, "byte %zu, field to: %zu bytes, expected 20%s", at, s.n,
                          required ? " (this type cannot create a contract)" : " or empty (a creation)");
    tx->has_to = true;
    memcpy(tx->to, s.p, 20);
    return CW_OK;
}

static cw_code read_chain_id(eth_rlp *r, eth_tx *tx, cw_err *err)
{
    cw_code rc = eth_rlp_uint64(r, "chainId", &tx->chain_id, err);
    if (rc)
        return rc;
    tx->has_chain_id = true;
    return CW_OK;
}

/* Opens the list field `field` for reading (*list) and keeps the whole
 * encoded list item, header included, in *kept: the tx's access list,
 * blob hashes and authorizations are kept as they came (tx.h). */
static cw_code read_kept_list(eth_rlp *r, const char *field, eth_rlp *list, cw_span *kept, cw_err *err)
{
    eth_rlp_item item;
    cw_code rc = eth_rlp_list(r, field, list, &item, err);
    if (rc)
        return rc;
    kept->p = r->base + item.off;
    kept->n = item.size;
    return CW_OK;
}

static cw_code read_access_list(eth_rlp *r, eth_tx *tx, cw_err *err)
{
    eth_rlp list, entry, keys;
    cw_code rc = read_kept_list(r, "accessList", &list, &tx->access_list, err);
    if (rc)
        return rc;
    size_t i = 0;
    for (; !eth_rlp_done(&list); i++) {
        uint8_t addr[20], key[32];
        if ((rc = eth_rlp_list(&list, "accessList entry", &entry, NULL, err)) ||
            (rc = eth_rlp_fixed(&entry, "accessList address", 20, addr, err)) ||
            (rc = eth_rlp_list(&entry, "accessList storageKeys", &keys, NULL, err)))
            return cw_err_prefix(err, rc, "accessList entry %zu", i);
        while (!eth_rlp_done(&keys)) {
            if ((rc = eth_rlp_fixed(&keys, "accessList storageKey", 32, key, err)))
                return cw_err_prefix(err, rc, "accessList entry %zu", i);
            tx->n_storage_keys++;
        }
        if ((rc = eth_rlp_end(&entry, "an accessList entry's storageKeys", err)))
            return cw_err_prefix(err, rc, "accessList entry %zu", i);
    }
    tx->n_access = i;
    return CW_OK;
}

static cw_code read_blob_hashes(eth_rlp *r, eth_tx *tx, cw_err *err)
{
    eth_rlp list;
    cw_code rc = read_kept_list(r, "blobVersionedHashes", &list, &tx->blob_hashes, err);
    if (rc)
        return rc;
    while (!eth_rlp_done(&list)) {
        uint8_t h[32];
        if ((rc = eth_rlp_fixed(&list, "blobVersionedHash", 32, h, err)))
            return rc;
        tx->n_blob_hashes++;
    }
    return CW_OK;
}

/* One authorization [chainId, address, nonce, yParity, r, s]; *a may be NULL. */
static cw_code read_auth(eth_rlp *list, eth_auth *a, cw_err *err)
{
    eth_auth tmp;
    if (!a)
        a = &tmp;
    eth_rlp f;
    eth_rlp_item item;
    uint64_t y;
    cw_code rc;
    if ((rc = eth_rlp_list(list, "authorization", &f, &item, err)) ||
        (rc = eth_rlp_u256(&f, "authorization chainId", &a->chain_id, err)) ||
        (rc = eth_rlp_fixed(&f, "authorization address", 20, a->address, err)) ||
        (rc = eth_rlp_uint64(&f, "authorization nonce", &a->nonce, err)))
        return rc;
    size_t at = f.pos;
    if ((rc = eth_rlp_uint64(&f, "authorization yParity", &y, err)))
        return rc;
    if (y > 0xff)
        return cw_err_set(err, CW_ELIMIT, at, "byte %zu, field authorization yParity: %llu is above 255 (a uint8)", at,
                          (unsigned long long)y);
    if ((rc = read_word(&f, "authorization r", a->r, err)) || (rc = read_word(&f, "authorization s", a->s, err)) ||
        (rc = eth_rlp_end(&f, "authorization s", err)))
        return rc;
    a->y_parity = (uint8_t)y;
    a->off = item.off;
    return CW_OK;
}

static cw_code read_auth_list(eth_rlp *r, eth_tx *tx, cw_err *err)
{
    eth_rlp list;
    cw_code rc = read_kept_list(r, "authorizationList", &list, &tx->auth_list, err);
    if (rc)
        return rc;
    for (size_t i = 0; !eth_rlp_done(&list); i++) {
        if ((rc = read_auth(&list, NULL, err)))
            return cw_err_prefix(err, rc, "authorization %zu", i);
        tx->n_auth++;
    }
    return CW_OK;
}

static cw_code read_y_parity(eth_rlp *r, eth_tx *tx, cw_err *err)
{
    size_t at = r->pos;
    uint64_t y;
    cw_code rc = eth_rlp_uint64(r, "yParity", &y, err);
    if (rc)
        return rc;
    if (y > 1)
        return cw_err_set(err, CW_EFORMAT, at, "byte %zu, field yParity: %llu, must be 0 or 1", at, (unsigned long long)y);
    tx->y_parity = (uint8_t)y;
    cw_u256_set_u64(&tx->v, y);
    return CW_OK;
}

/* Legacy v: 27/28, or 35 + 2*chainId + recid (EIP-155). */
static cw_code legacy_v(eth_tx *tx, size_t at, cw_err *err)
{
    uint64_t v;
    char dec[CW_U256_DEC_MAX];
    if (cw_u256_to_u64(&tx->v, &v) && (v == 27 || v == 28)) {
        tx->y_parity = (uint8_t)(v - 27);
        return CW_OK;
    }
    cw_u256 k, c35;
    cw_u256_set_u64(&c35, 35);
    if (!cw_u256_sub(&k, &tx->v, &c35)) {
        cw_u256_to_dec(&tx->v, dec);
        return cw_err_set(err, CW_EFORMAT, at,
                          "byte %zu, field v: %s is neither 27/28 nor 35 + 2*chainId + {0,1} (EIP-155)", at, dec);
    }
    tx->y_parity = (uint8_t)(k.w[0] & 1);
    /* chainId = k / 2 must fit in 64 bits: k < 2^65. */
    if (k.w[3] || k.w[2] || k.w[1] > 1) {
        cw_u256_to_dec(&tx->v, dec);
        return cw_err_set(err, CW_ELIMIT, at, "byte %zu, field v: %s gives a chain id above 2^64-1", at, dec);
    }
    tx->chain_id = (k.w[0] >> 1) | (k.w[1] << 63);
    tx->has_chain_id = true;
    return CW_OK;
}

static cw_code decode_legacy(const uint8_t *buf, size_t len, eth_tx *tx, cw_err *err)
{
    eth_rlp top, f;
    eth_rlp_init(&top, buf, len);
    cw_code rc;
    if ((rc = eth_rlp_list(&top, "tx", &f, NULL, err)) || (rc = eth_rlp_end(&top, "the tx", err)) ||
        (rc = eth_rlp_uint64(&f, "nonce", &tx->nonce, err)) ||
        (rc = eth_rlp_u256(&f, "gasPrice", &tx->gas_price, err)) ||
        (rc = eth_rlp_uint64(&f, "gasLimit", &tx->gas, err)) || (rc = read_to(&f, false, tx, err)) ||
        (rc = eth_rlp_u256(&f, "value", &tx->value, err)) || (rc = eth_rlp_bytes(&f, "data", &tx->data, err)))
        return rc;
    size_t v_at = f.pos;
    if ((rc = eth_rlp_u256(&f, "v", &tx->v, err)) || (rc = read_word(&f, "r", tx->r, err)) ||
        (rc = read_word(&f, "s", tx->s, err)) || (rc = eth_rlp_end(&f, "s (a legacy tx has 9 fields)", err)))
        return rc;
    return legacy_v(tx, v_at, err);
}

/* The fields of a typed payload, after the list header. */
static cw_code decode_typed_fields(eth_rlp *f, eth_tx *tx, cw_err *err)
{
    cw_code rc;
    if ((rc = read_chain_id(f, tx, err)) || (rc = eth_rlp_uint64(f, "nonce", &tx->nonce, err)))
        return rc;
    if (tx->type == ETH_TX_ACCESS_LIST) {
        if ((rc = eth_rlp_u256(f, "gasPrice", &tx->gas_price, err)))
            return rc;
    } else if ((rc = eth_rlp_u256(f, "maxPriorityFeePerGas", &tx->max_priority_fee, err)) ||
               (rc = eth_rlp_u256(f, "maxFeePerGas", &tx->max_fee, err))) {
        return rc;
    }
    bool need_to = tx->type == ETH_TX_BLOB || tx->type == ETH_TX_SET_CODE;
    if ((rc = eth_rlp_uint64(f, "gasLimit", &tx->gas, err)) || (rc = read_to(f, need_to, tx, err)) ||
        (rc = eth_rlp_u256(f, "value", &tx->value, err)) || (rc = eth_rlp_bytes(f, "data", &tx->data, err)) ||
        (rc = read_access_list(f, tx, err)))
        return rc;
    if (tx->type == ETH_TX_BLOB &&
        ((rc = eth_rlp_u256(f, "maxFeePerBlobGas", &tx->max_fee_per_blob_gas, err)) ||
         (rc = read_blob_hashes(f, tx, err))))
        return rc;
    if (tx->type == ETH_TX_SET_CODE && (rc = read_auth_list(f, tx, err)))
        return rc;
    if ((rc = read_y_parity(f, tx, err)) || (rc = read_word(f, "r", tx->r, err)) ||
        (rc = read_word(f, "s", tx->s, err)) || (rc = eth_rlp_end(f, "s (the last field of the tx)", err)))
        return rc;
    return CW_OK;
}

/* The network form of a blob tx: [tx, blobs, commitments, proofs] or
 * (PeerDAS) [tx, wrapperVersion, blobs, commitments, cellProofs]. The
 * sidecar lists are checked as RLP and skipped. */
static cw_code decode_blob_wrapper(eth_rlp *outer, eth_tx *tx, cw_err *err)
{
    eth_rlp f, skip;
    cw_code rc = eth_rlp_list(outer, "tx (in the blob network wrapper)", &f, NULL, err);
    if (rc || (rc = decode_typed_fields(&f, tx, err)))
        return rc;
    tx->blob_wrapper = true;
    static const char *const names[] = {"blobs", "commitments", "proofs"};
    if (!eth_rlp_done(outer) && outer->base[outer->pos] < 0xc0) {
        size_t at = outer->pos;
        uint64_t ver;
        if ((rc = eth_rlp_uint64(outer, "wrapperVersion", &ver, err)))
            return rc;
        if (ver != 1)
            return cw_err_set(err, CW_EFORMAT, at, "byte %zu, field wrapperVersion: %llu, only 1 is known", at,
                              (unsigned long long)ver);
    }
    for (int i = 0; i < 3; i++) {
        eth_rlp_item it;
        if ((rc = eth_rlp_list(outer, names[i], &skip, &it, err)))
            return rc;
        while (!eth_rlp_done(&skip))
            if ((rc = eth_rlp_bytes(&skip, names[i], &(cw_span){0}, err)))
                return rc;
    }
    return eth_rlp_end(outer, "the blob sidecar", err);
}

cw_code eth_tx_decode(const uint8_t *buf, size_t len, eth_tx *tx, cw_err *err)
{
    memset(tx, 0, sizeof *tx);
    if (len == 0)
        return cw_err_set(err, CW_ETRUNC, 0, "byte 0: empty input, expected a signed Ethereum tx");
    if (len > ETH_TX_SIZE_MAX)
        return cw_err_set(err, CW_ELIMIT, 0, "tx of %zu bytes is above the limit (%u)", len, ETH_TX_SIZE_MAX);
    tx->raw.p = buf;
    tx->raw.n = len;
    uint8_t b = buf[0];
    if (b >= 0xc0) {
        tx->type = ETH_TX_LEGACY;
        return decode_legacy(buf, len, tx, err);
    }
    if (b == 0 || b > ETH_TX_SET_CODE)
        return cw_err_set(err, CW_EFORMAT, 0,
                          "byte 0, field type: 0x%02x is neither a known tx type (1-4) nor an RLP list (a legacy tx)", b);
    tx->type = b;
    eth_rlp top, f;
    eth_rlp_init(&top, buf, len);
    top.pos = 1;
    cw_code rc = eth_rlp_list(&top, "payload", &f, NULL, err);
    if (rc || (rc = eth_rlp_end(&top, "the tx", err)))
        return rc;
    if (b == ETH_TX_BLOB && !eth_rlp_done(&f) && buf[f.pos] >= 0xc0)
        return decode_blob_wrapper(&f, tx, err);
    return decode_typed_fields(&f, tx, err);
}

/* ---- encoding ---- */

static void put_word(eth_rlp_w *w, const uint8_t b[32])
{
    size_t z = 0;
    while (z < 32 && b[z] == 0)
        z++;
    eth_rlp_w_bytes(w, b + z, 32 - z);
}

static void put_list_span(eth_rlp_w *w, cw_span s)
{
    if (s.n == 0) {
        eth_rlp_w_list(w, 0);
        return;
    }
    eth_rlp_w_raw(w, s.p, s.n);
}

enum { FORM_SIGNED, FORM_UNSIGNED };

static void emit_items(const eth_tx *tx, eth_rlp_w *w, int form)
{
    if (tx->type == ETH_TX_LEGACY) {
        eth_rlp_w_uint64(w, tx->nonce);
        eth_rlp_w_u256(w, &tx->gas_price);
        eth_rlp_w_uint64(w, tx->gas);
        eth_rlp_w_bytes(w, tx->to, tx->has_to ? 20 : 0);
        eth_rlp_w_u256(w, &tx->value);
        eth_rlp_w_bytes(w, tx->data.p, tx->data.n);
        if (form == FORM_SIGNED) {
            eth_rlp_w_u256(w, &tx->v);
            put_word(w, tx->r);
            put_word(w, tx->s);
        } else if (tx->has_chain_id) {
            eth_rlp_w_uint64(w, tx->chain_id);
            eth_rlp_w_uint64(w, 0);
            eth_rlp_w_uint64(w, 0);
        }
        return;
    }
    eth_rlp_w_uint64(w, tx->chain_id);
    eth_rlp_w_uint64(w, tx->nonce);
    if (tx->type == ETH_TX_ACCESS_LIST) {
        eth_rlp_w_u256(w, &tx->gas_price);
    } else {
        eth_rlp_w_u256(w, &tx->max_priority_fee);
        eth_rlp_w_u256(w, &tx->max_fee);
    }
    eth_rlp_w_uint64(w, tx->gas);
    eth_rlp_w_bytes(w, tx->to, tx->has_to ? 20 : 0);
    eth_rlp_w_u256(w, &tx->value);
    eth_rlp_w_bytes(w, tx->data.p, tx->data.n);
    put_list_span(w, tx->access_list);
    if (tx->type == ETH_TX_BLOB) {
        eth_rlp_w_u256(w, &tx->max_fee_per_blob_gas);
        put_list_span(w, tx->blob_hashes);
    }
    if (tx->type == ETH_TX_SET_CODE)
        put_list_span(w, tx->auth_list);
    if (form == FORM_SIGNED) {
        eth_rlp_w_uint64(w, tx->y_parity);
        put_word(w, tx->r);
        put_word(w, tx->s);
    }
}

/* Type byte (typed), list header, items. */
static void emit(const eth_tx *tx, eth_rlp_w *w, int form)
{
    eth_rlp_w count;
    eth_rlp_w_init(&count, NULL, 0, NULL);
    emit_items(tx, &count, form);
    if (tx->type != ETH_TX_LEGACY) {
        uint8_t t = tx->type;
        eth_rlp_w_raw(w, &t, 1);
    }
    eth_rlp_w_list(w, count.n);
    emit_items(tx, w, form);
}

cw_code eth_tx_encode(const eth_tx *tx, uint8_t *buf, size_t cap, size_t *len, cw_err *err)
{
    *len = 0;
    if (tx->type > ETH_TX_SET_CODE)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "tx type %u is not known (0-4)", tx->type);
    if (tx->y_parity > 1)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "yParity %u, must be 0 or 1", tx->y_parity);
    if (tx->type != ETH_TX_LEGACY) {
        if (!tx->has_chain_id)
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "a type %u tx needs a chain id", tx->type);
        if (tx->v.w[0] != tx->y_parity || tx->v.w[1] || tx->v.w[2] || tx->v.w[3])
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "a typed tx's v must equal its yParity (%u)", tx->y_parity);
        if (!tx->has_to && (tx->type == ETH_TX_BLOB || tx->type == ETH_TX_SET_CODE))
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "a type %u tx cannot create a contract: it needs `to`", tx->type);
    } else {
        cw_u256 want, t;
        if (tx->has_chain_id) { /* 35 + 2*chainId + yParity, over 65 bits */
            cw_u256_set_u64(&want, tx->chain_id);
            cw_u256_add(&want, &want, &want);
            cw_u256_set_u64(&t, 35u + tx->y_parity);
            cw_u256_add(&want, &want, &t);
        } else {
            cw_u256_set_u64(&want, 27u + tx->y_parity);
        }
        if (cw_u256_cmp(&want, &tx->v) != 0)
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET,
                              "legacy v does not match %s and yParity %u (EIP-155: v = 35 + 2*chainId + yParity)",
                              tx->has_chain_id ? "the chain id" : "no chain id (v = 27 + yParity)", tx->y_parity);
    }
    eth_rlp_w w;
    eth_rlp_w_init(&w, buf, cap, NULL);
    emit(tx, &w, FORM_SIGNED);
    *len = w.n;
    if (w.overflow || (!buf && w.n > 0))
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "the encoded tx needs %zu bytes, the buffer has %zu", w.n, cap);
    return CW_OK;
}

void eth_tx_hash(const eth_tx *tx, uint8_t out[32])
{
    cw_keccak_ctx k;
    cw_keccak256_init(&k);
    eth_rlp_w w;
    eth_rlp_w_init(&w, NULL, 0, &k);
    emit(tx, &w, FORM_SIGNED);
    cw_keccak256_final(&k, out);
}

void eth_tx_sighash(const eth_tx *tx, uint8_t out[32])
{
    cw_keccak_ctx k;
    cw_keccak256_init(&k);
    eth_rlp_w w;
    eth_rlp_w_init(&w, NULL, 0, &k);
    emit(tx, &w, FORM_UNSIGNED);
    cw_keccak256_final(&k, out);
}

/* ---- validity rules ---- */

static uint64_t sat_add(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }
static uint64_t sat_mul(uint64_t a, uint64_t b) { return b && a > UINT64_MAX / b ? UINT64_MAX : a * b; }

cw_code eth_tx_check(const eth_tx *tx, const eth_rules *rules, cw_err *err)
{
    static const char *const fork_names[] = {"London", "Shanghai", "Cancun", "Prague"};
    const char *fork = rules->fork <= ETH_FORK_PRAGUE ? fork_names[rules->fork] : "?";
    unsigned max_type = rules->fork >= ETH_FORK_PRAGUE ? 4 : rules->fork >= ETH_FORK_CANCUN ? 3 : 2;
    if (tx->type > max_type)
        return cw_err_set(err, CW_EFORMAT, 0, "type %u txs do not exist before %s", tx->type,
                          tx->type == 3 ? "Cancun" : tx->type == 4 ? "Prague" : "a later fork");
    if (tx->has_chain_id) {
        if (tx->chain_id == 0)
            return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "chain id 0 is no network's (invalid chain id)");
        if (rules->chain_id && tx->chain_id != rules->chain_id)
            return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "signed for chain id %llu, this network is chain id %llu",
                              (unsigned long long)tx->chain_id, (unsigned long long)rules->chain_id);
    }
    if (tx->nonce == UINT64_MAX)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "nonce 2^64-1 is not allowed (EIP-2681)");
    const cw_u256 *price = tx->type <= ETH_TX_ACCESS_LIST ? &tx->gas_price : &tx->max_fee;
    if (tx->type >= ETH_TX_DYNAMIC_FEE && cw_u256_cmp(&tx->max_priority_fee, &tx->max_fee) > 0)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "maxPriorityFeePerGas is above maxFeePerGas");
    cw_u256 gas, one, prod;
    cw_u256_set_u64(&gas, tx->gas);
    cw_u256_set_u64(&one, 1);
    if (!cw_u256_mul_div(&prod, price, &gas, &one))
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "gasLimit * %s is above 2^256-1",
                          tx->type <= ETH_TX_ACCESS_LIST ? "gasPrice" : "maxFeePerGas");
    bool create = !tx->has_to;
    if (create && rules->fork >= ETH_FORK_SHANGHAI && tx->data.n > 49152)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "init code of %zu bytes is above 49152 (EIP-3860, %s)",
                          tx->data.n, fork);
    uint64_t zero = 0, nonzero;
    for (size_t i = 0; i < tx->data.n; i++)
        zero += tx->data.p[i] == 0;
    nonzero = tx->data.n - zero;
    uint64_t g = 21000;
    if (create)
        g = sat_add(g, 32000);
    g = sat_add(g, sat_add(sat_mul(zero, 4), sat_mul(nonzero, 16)));
    g = sat_add(g, sat_add(sat_mul(tx->n_access, 2400), sat_mul(tx->n_storage_keys, 1900)));
    if (create && rules->fork >= ETH_FORK_SHANGHAI)
        g = sat_add(g, sat_mul((tx->data.n + 31) / 32, 2));
    if (rules->fork >= ETH_FORK_PRAGUE)
        g = sat_add(g, sat_mul(tx->n_auth, 25000));
    uint64_t floor = 0;
    if (rules->fork >= ETH_FORK_PRAGUE) /* EIP-7623 */
        floor = sat_add(21000, sat_mul(sat_add(zero, sat_mul(nonzero, 4)), 10));
    uint64_t need = g > floor ? g : floor;
    if (tx->gas < need)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "gasLimit %llu is below the intrinsic gas %llu (%s)",
                          (unsigned long long)tx->gas, (unsigned long long)need, fork);
    if (tx->type == ETH_TX_BLOB) {
        unsigned max_blobs = rules->fork >= ETH_FORK_PRAGUE ? 9 : 6;
        if (tx->n_blob_hashes == 0)
            return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "a blob tx without blob hashes");
        if (tx->n_blob_hashes > max_blobs)
            return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "%zu blobs, above %u (%s)", tx->n_blob_hashes, max_blobs,
                              fork);
        eth_rlp r, l;
        eth_rlp_init(&r, tx->blob_hashes.p, tx->blob_hashes.n);
        if (eth_rlp_list(&r, "blobVersionedHashes", &l, NULL, NULL) == CW_OK) {
            cw_span h;
            for (size_t i = 0; eth_rlp_bytes(&l, "hash", &h, NULL) == CW_OK; i++)
                if (h.n != 32 || h.p[0] != 0x01)
                    return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                                      "blob hash %zu does not start with version 0x01 (KZG)", i);
        }
    }
    if (tx->type == ETH_TX_SET_CODE && tx->n_auth == 0)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "a type 4 tx with an empty authorization list");
    return CW_OK;
}

/* ---- signatures ---- */

/* n/2: EIP-2's bound on s (a high s is the same signature's malleated twin). */
static const uint8_t CURVE_HALF_N[32] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4,
                                         0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

/* The signer of hash by (r, s, recid) through chains/ecrecover (which
 * checks r and s against the order), with Ethereum's own rule on top: s at
 * most n/2 (EIP-2). Every refusal is CW_EFORMAT (tx.h's contract), its
 * message led by `what` (the tx's signature or an authorization). */
static cw_code recover(const uint8_t hash[32], const uint8_t r[32], const uint8_t s[32], int recid, const char *what,
                       eth_signer *out, cw_err *err)
{
    uint8_t sig64[64];
    memcpy(sig64, r, 32);
    memcpy(sig64 + 32, s, 32);
    cw_err e = {0};
    eth_signer got; /* *out is written only for a signature Ethereum accepts */
    if (cw_ecrecover(hash, sig64, recid, got.addr, got.pubkey, &e) == CW_OK) {
        if (memcmp(s, CURVE_HALF_N, 32) <= 0) {
            *out = got;
            return CW_OK;
        }
        cw_err_set(&e, CW_EFORMAT, CW_NO_OFFSET, "signature: s is above n/2 (EIP-2 requires low s)");
    }
    const char *msg = strncmp(e.msg, "signature: ", 11) == 0 ? e.msg + 11 : e.msg;
    return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: %s (invalid signature)", what, msg);
}

cw_code eth_tx_recover(const eth_tx *tx, eth_signer *out, cw_err *err)
{
    if (tx->y_parity > 1)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "signature: yParity %u, must be 0 or 1", tx->y_parity);
    uint8_t h[32];
    eth_tx_sighash(tx, h);
    return recover(h, tx->r, tx->s, tx->y_parity, "signature", out, err);
}

/* Where span s stands in tx->raw, or CW_NO_OFFSET when it is not inside it
 * (a tx built from fields). */
static size_t raw_offset(const eth_tx *tx, cw_span s)
{
    uintptr_t sp = (uintptr_t)s.p, rp = (uintptr_t)tx->raw.p;
    if (tx->raw.p && s.p && sp >= rp && sp - rp <= tx->raw.n && s.n <= tx->raw.n - (sp - rp))
        return (size_t)(sp - rp);
    return CW_NO_OFFSET;
}

cw_code eth_tx_call_decode(const eth_tx *tx, erc20_call *out, cw_err *err)
{
    memset(out, 0, sizeof *out);
    if (!tx->has_to)
        return CW_OK;
    size_t at = raw_offset(tx, tx->data);
    cw_code rc = erc20_call_decode_at(tx->data, at == CW_NO_OFFSET ? 0 : at, CW_CHAIN_EVM, out, err);
    return rc ? cw_err_prefix(err, rc, "data") : CW_OK;
}

void eth_auth_begin(const eth_tx *tx, eth_auth_iter *it)
{
    it->base = tx->auth_list.p;
    it->pos = 0;
    it->end = 0;
    if (tx->type != ETH_TX_SET_CODE || tx->auth_list.n == 0)
        return;
    /* Offsets count from the tx input when the list lies inside it (a
     * decoded tx), so eth_auth.off says where in the input it stands. */
    size_t shift = raw_offset(tx, tx->auth_list);
    if (shift != CW_NO_OFFSET)
        it->base = tx->raw.p;
    else
        shift = 0;
    eth_rlp r, l;
    eth_rlp_init(&r, it->base, shift + tx->auth_list.n);
    r.pos = shift;
    if (eth_rlp_list(&r, "authorizationList", &l, NULL, NULL) == CW_OK) {
        it->pos = l.pos;
        it->end = l.end;
    }
}

bool eth_auth_next(eth_auth_iter *it, eth_auth *out)
{
    if (it->pos >= it->end)
        return false;
    eth_rlp l = {it->base, it->pos, it->end, 1};
    if (read_auth(&l, out, NULL) != CW_OK) {
        it->pos = it->end;
        return false;
    }
    it->pos = l.pos;
    return true;
}

void eth_auth_sighash(const eth_auth *a, uint8_t out[32])
{
    eth_rlp_w count, w;
    eth_rlp_w_init(&count, NULL, 0, NULL);
    eth_rlp_w_u256(&count, &a->chain_id);
    eth_rlp_w_bytes(&count, a->address, 20);
    eth_rlp_w_uint64(&count, a->nonce);
    cw_keccak_ctx k;
    cw_keccak256_init(&k);
    eth_rlp_w_init(&w, NULL, 0, &k);
    uint8_t magic = 0x05;
    eth_rlp_w_raw(&w, &magic, 1);
    eth_rlp_w_list(&w, count.n);
    eth_rlp_w_u256(&w, &a->chain_id);
    eth_rlp_w_bytes(&w, a->address, 20);
    eth_rlp_w_uint64(&w, a->nonce);
    cw_keccak256_final(&k, out);
}

cw_code eth_auth_recover(const eth_auth *a, eth_signer *out, cw_err *err)
{
    if (a->y_parity > 1)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "authorization: yParity %u, must be 0 or 1", a->y_parity);
    if (a->nonce == UINT64_MAX) /* EIP-7702: the nonce must be below 2^64-1 (EIP-2681), else a node skips it */
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                          "authorization: nonce 2^64-1 is not allowed (EIP-7702, EIP-2681: a node skips it)");
    uint8_t h[32];
    eth_auth_sighash(a, h);
    return recover(h, a->r, a->s, a->y_parity, "authorization", out, err);
}

cw_code eth_auth_check_chain(const eth_auth *a, uint64_t chain_id, cw_err *err)
{
    cw_u256 want;
    cw_u256_set_u64(&want, chain_id);
    if (cw_u256_is_zero(&a->chain_id) || cw_u256_cmp(&a->chain_id, &want) == 0)
        return CW_OK;
    char dec[CW_U256_DEC_MAX];
    cw_u256_to_dec(&a->chain_id, dec);
    return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                      "authorization: chain id %s is neither 0 nor the tx's (%llu): a node skips it (EIP-7702)", dec,
                      (unsigned long long)chain_id);
}

/* ---- model ---- */

cw_code eth_tx_to_model(const eth_tx *tx, const eth_signer *from, unsigned flags, cw_transfer *xfer, size_t cap,
                        cw_tx *out, cw_err *err)
{
    memset(out, 0, sizeof *out);
    if (cap < 1)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "no room for the tx's transfers (need up to %d)",
                          ETH_TX_XFER_MAX);
    out->chain = CW_CHAIN_EVM;
    out->net = CW_NET_MAIN;
    eth_tx_hash(tx, out->txid);
    memcpy(out->wtxid, out->txid, 32);
    out->raw = tx->raw;
    out->size = out->base_size = tx->raw.n;
    out->version = tx->type;
    cw_transfer *x = &xfer[0];
    memset(x, 0, sizeof *x);
    x->kind = CW_XFER_VALUE;
    cw_addr_set(&x->from, CW_CHAIN_EVM, CW_NET_MAIN, CW_ADDR_EVM, 0, from->addr, 20);
    if (tx->has_to)
        cw_addr_set(&x->to, CW_CHAIN_EVM, CW_NET_MAIN, CW_ADDR_EVM, 0, tx->to, 20);
    x->asset.kind = CW_ASSET_NATIVE;
    x->amount = tx->value;
    size_t n = 1;
    if ((flags & ETH_MODEL_CALLDATA) && tx->has_to) {
        erc20_call c;
        cw_code rc = eth_tx_call_decode(tx, &c, err);
        if (rc)
            return rc;
        if (c.kind != ERC20_CALL_NONE) {
            if (cap < 2)
                return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "no room for the tx's transfers (need up to %d)",
                                  ETH_TX_XFER_MAX);
            erc20_call_to_transfer(&c, &x->from, &x->to, &xfer[1]);
            n = 2;
        }
    }
    out->xfer = xfer;
    out->n_xfer = n;
    return CW_OK;
}
