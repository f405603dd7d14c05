#include "api.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/ethereum/erc20.h"
#include "chains/hex.h"

/* ---- small JSON readers; `where` names the object for messages ---- */

static cw_code load(const char *text, size_t n, json_t **out, const char *what, cw_err *err)
{
    json_error_t je;
    *out = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    if (*out == NULL)
        return cw_err_set(err, CW_EFORMAT, (size_t)je.position, "%s: not JSON: %s (line %d, column %d)", what, je.text,
                          je.line, je.column);
    return CW_OK;
}

/* A string member; NULL (and CW_OK) when absent or null and !required. */
static cw_code get_str(const json_t *o, const char *key, bool required, const char *where, const char **out,
                       size_t *len, cw_err *err)
{
    const json_t *v = json_object_get(o, key);
    *out = NULL;
    if (len)
        *len = 0;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: no \"%s\"", where, key);
        return CW_OK;
    }
    if (!json_is_string(v))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: \"%s\" is not a string", where, key);
    *out = json_string_value(v);
    if (len)
        *len = json_string_length(v);
    return CW_OK;
}

/* An integer member >= 0 (java-tron's longs are JSON numbers). */
static cw_code get_int(const json_t *o, const char *key, bool required, const char *where, int64_t *out, bool *has,
                       cw_err *err)
{
    const json_t *v = json_object_get(o, key);
    if (has)
        *has = false;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: no \"%s\"", where, key);
        return CW_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: \"%s\" is not a whole number >= 0", where, key);
    *out = json_integer_value(v);
    if (has)
        *has = true;
    return CW_OK;
}

/* Exactly `want` bytes of hex (no 0x). */
static cw_code hex_fixed(const char *s, size_t len, uint8_t *out, size_t want, const char *where, const char *key,
                         cw_err *err)
{
    size_t n;
    cw_err herr;
    if (len != 2 * want)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: \"%s\" has %zu hex digits, expected %zu", where, key,
                          len, 2 * want);
    if (cw_hex_decode(s, len, out, want, &n, &herr))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: \"%s\": character %zu is not hex", where, key,
                          herr.offset);
    return CW_OK;
}

static cw_code get_hash(const json_t *o, const char *key, bool required, const char *where, uint8_t out[32], bool *has,
                        cw_err *err)
{
    const char *s;
    size_t len;
    cw_code rc = get_str(o, key, required, where, &s, &len, err);
    if (has)
        *has = s != NULL;
    if (rc || s == NULL)
        return rc;
    return hex_fixed(s, len, out, 32, where, key, err);
}

/* A T-address (or hex 41...) member into 20 bytes; *has false when null. */
static cw_code get_taddr(const json_t *o, const char *key, const char *where, uint8_t out[20], bool *has, cw_err *err)
{
    const char *s;
    cw_code rc = get_str(o, key, false, where, &s, NULL, err);
    *has = false;
    if (rc || s == NULL || *s == '\0')
        return rc;
    cw_addr a;
    cw_err aerr = {0};
    if (cw_addr_parse(s, CW_NET_ANY, &a, &aerr))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: \"%s\" is not a Tron address: %s", where, key, aerr.msg);
    if (a.chain != CW_CHAIN_TRON)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: \"%s\" is another chain's address, not a Tron one", where,
                          key);
    memcpy(out, a.payload, 20);
    *has = true;
    return CW_OK;
}

/* Hex of any even length into a malloc'd buffer (NULL for 0 bytes). */
static cw_code hex_alloc(const char *s, size_t len, uint8_t **out, size_t *n, const char *where, const char *key,
                         cw_err *err)
{
    *out = NULL;
    *n = 0;
    if (len == 0)
        return CW_OK;
    uint8_t *b = malloc(len / 2 + 1);
    if (b == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory for \"%s\"", where, key);
    cw_err herr;
    if (cw_hex_decode(s, len, b, len / 2 + 1, n, &herr)) {
        free(b);
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: \"%s\": %s", where, key, herr.msg);
    }
    *out = b;
    return CW_OK;
}

/* A log object {address, topics|topicList, data}: a Transfer into *out
 * (*is set), or not one (*is false). Malformed hex is an error. */
static cw_code log_transfer(const json_t *log, const char *topics_key, uint32_t index, const char *where,
                            cw_transfer *out, bool *is, cw_err *err)
{
    *is = false;
    const char *addr, *data;
    size_t alen, dlen;
    cw_code rc;
    if ((rc = get_str(log, "address", true, where, &addr, &alen, err)) ||
        (rc = get_str(log, "data", false, where, &data, &dlen, err)))
        return rc;
    const json_t *tl = json_object_get(log, topics_key);
    if (tl != NULL && !json_is_null(tl) && !json_is_array(tl))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: \"%s\" is not an array", where, topics_key);
    size_t nt = json_array_size(tl);
    uint8_t token[21];
    /* the 20-byte EVM form; some renderings prefix 41 */
    if (alen == 42 && addr[0] == '4' && addr[1] == '1')
        addr += 2, alen -= 2;
    if ((rc = hex_fixed(addr, alen, token, 20, where, "address", err)))
        return rc;
    uint8_t topics[4][32];
    for (size_t i = 0; i < nt && i < 4; i++) {
        const json_t *t = json_array_get(tl, i);
        if (!json_is_string(t))
            return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: %s[%zu] is not a string", where, topics_key, i);
        if ((rc = hex_fixed(json_string_value(t), json_string_length(t), topics[i], 32, where, topics_key, err)))
            return rc;
    }
    if (nt == 0 || nt > 4 || memcmp(topics[0], erc20_transfer_topic, 32) != 0)
        return CW_OK; /* not a Transfer event */
    uint8_t word[32];
    size_t wn = 0;
    if (data && dlen == 64) {
        if ((rc = hex_fixed(data, dlen, word, 32, where, "data", err)))
            return rc;
        wn = 32;
    }
    erc20_log l;
    cw_addr contract;
    tron_addr(&contract, token);
    /* an NFT or a non-standard Transfer moves no fungible amount (api.h) */
    if (erc20_log_decode((const uint8_t(*)[32])topics, nt, (cw_span){word, wn}, &l, NULL) != CW_OK ||
        l.kind != ERC20_LOG_TRANSFER)
        return CW_OK;
    if ((rc = erc20_log_to_transfer(&l, &contract, index, out, err)))
        return rc;
    *is = true;
    return CW_OK;
}

/* ---- a signed tx ---- */

void tron_signed_free(tron_signed *s)
{
    free(s->bytes);
    s->bytes = NULL;
}

cw_code tron_signed_parse(const char *text, size_t n, tron_signed *out, cw_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *root;
    cw_code rc = load(text, n, &root, "signed tx", err);
    if (rc)
        return rc;
    const char *W = "signed tx", *txid_s, *hex;
    size_t txid_n, hex_n, raw_n = 0;
    uint8_t txid[32];
    if (!json_is_object(root)) {
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "signed tx: not a JSON object");
        goto out;
    }
    if ((rc = get_str(root, "txID", false, W, &txid_s, &txid_n, err)))
        goto out;
    if (txid_s == NULL && (rc = get_str(root, "txid", false, W, &txid_s, &txid_n, err)))
        goto out;
    if (txid_s == NULL && (rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "signed tx: no \"txID\"")))
        goto out;
    if ((rc = hex_fixed(txid_s, txid_n, txid, 32, W, "txID", err)) ||
        (rc = get_str(root, "raw_data_hex", true, W, &hex, &hex_n, err)))
        goto out;
    if (hex_n == 0) {
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "signed tx: \"raw_data_hex\" is empty");
        goto out;
    }
    if (hex_n / 2 > TRON_RAW_MAX) {
        rc = cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "signed tx: \"raw_data_hex\" of %zu bytes is over %u", hex_n / 2,
                        TRON_RAW_MAX);
        goto out;
    }
    if ((rc = hex_alloc(hex, hex_n, &out->bytes, &raw_n, W, "raw_data_hex", err)))
        goto out;
    if ((rc = tron_raw_parse(out->bytes, raw_n, &out->raw, err))) {
        cw_err_prefix(err, rc, "signed tx: raw_data_hex");
        goto out;
    }
    if (memcmp(out->raw.txid, txid, 32) != 0) {
        char got[65];
        cw_hex_encode(out->raw.txid, 32, got);
        rc = cw_err_set(err, CW_ECHECKSUM, CW_NO_OFFSET,
                        "signed tx: txID %.64s is not sha256(raw_data_hex) = %s: the JSON does not match the signed bytes",
                        txid_s, got);
        goto out;
    }
    const json_t *sigs = json_object_get(root, "signature");
    size_t ns = json_is_array(sigs) ? json_array_size(sigs) : json_is_string(sigs) ? 1 : 0;
    if (sigs == NULL || (!json_is_array(sigs) && !json_is_string(sigs)) || ns == 0) {
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "signed tx: no \"signature\" (an array of hex signatures)");
        goto out;
    }
    if (ns > TRON_SIGS_MAX) {
        rc = cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "signed tx: %zu signatures, at most %d", ns, TRON_SIGS_MAX);
        goto out;
    }
    for (size_t i = 0; i < ns; i++) {
        const json_t *s = json_is_array(sigs) ? json_array_get(sigs, i) : sigs;
        char where[48];
        snprintf(where, sizeof where, "signed tx: signature[%zu]", i);
        if (!json_is_string(s)) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s is not a string", where);
            goto out;
        }
        uint8_t sig[TRON_SIG_LEN], signer[20];
        if ((rc = hex_fixed(json_string_value(s), json_string_length(s), sig, TRON_SIG_LEN, where, "hex", err)))
            goto out;
        rc = i == 0 ? tron_raw_check_signer(&out->raw, sig, sizeof sig, out->signer, err)
                    : tron_sig_recover(&out->raw, sig, sizeof sig, signer, err);
        if (rc) {
            cw_err_prefix(err, rc, "%s", where);
            goto out;
        }
    }
    out->n_sig = ns;
    if (out->raw.contract_type != TRON_CT_TRANSFER && out->raw.contract_type != TRON_CT_TRANSFER_ASSET &&
        out->raw.contract_type != TRON_CT_TRIGGER_SMART && !out->raw.has_owner) {
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "signed tx: contract type %u has no owner address",
                        out->raw.contract_type);
        goto out;
    }
    size_t nx;
    if ((rc = tron_raw_transfers(&out->raw, true, out->xf, &nx, err))) {
        cw_err_prefix(err, rc, "signed tx: raw_data_hex");
        goto out;
    }
    tron_tx_init(&out->tx, &out->raw, out->xf, nx);
out:
    json_decref(root);
    if (rc)
        tron_signed_free(out);
    return rc;
}

/* ---- blocks ---- */

void tron_block_free(tron_block *b)
{
    free(b->txs);
    free(b->ctype);
    free(b->bytes);
    free(b->xf);
    memset(b, 0, sizeof *b);
}

static bool contract_ret_failed(const json_t *tx)
{
    const json_t *ret = json_object_get(tx, "ret");
    const json_t *r0 = json_is_array(ret) ? json_array_get(ret, 0) : NULL;
    const char *cr = json_string_value(json_object_get(r0, "contractRet"));
    return cr != NULL && strcmp(cr, "SUCCESS") != 0;
}

cw_code tron_block_parse(const char *text, size_t n, tron_block *out, cw_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *root;
    cw_code rc = load(text, n, &root, "block", err);
    if (rc)
        return rc;
    char W[96] = "block";
    const json_t *hdr = json_object_get(json_object_get(root, "block_header"), "raw_data");
    const json_t *txs = json_object_get(root, "transactions");
    if (!json_is_object(root)) {
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "block: not a JSON object");
        goto out;
    }
    if (json_object_size(root) == 0) {
        rc = cw_err_set(err, CW_ENOTFOUND, CW_NO_OFFSET, "block: the node has no such block ({})");
        goto out;
    }
    if (!json_is_object(hdr)) {
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "block: no block_header.raw_data");
        goto out;
    }
    if ((rc = get_int(hdr, "number", true, "block_header.raw_data", &out->number, NULL, err)) ||
        (rc = get_int(hdr, "timestamp", true, "block_header.raw_data", &out->time_ms, NULL, err)) ||
        (rc = get_hash(root, "blockID", true, "block", out->hash, NULL, err)) ||
        (rc = get_hash(hdr, "parentHash", true, "block_header.raw_data", out->parent, NULL, err)))
        goto out;
    out->parent_known = true;
    snprintf(W, sizeof W, "block %lld", (long long)out->number);
    /* the number is in the blockID's first 8 bytes: a block under another number is refused */
    uint64_t idnum = 0;
    for (int i = 0; i < 8; i++)
        idnum = idnum << 8 | out->hash[i];
    if (idnum != (uint64_t)out->number) {
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: blockID does not start with the block number", W);
        goto out;
    }
    if (txs != NULL && !json_is_array(txs)) {
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: \"transactions\" is not an array", W);
        goto out;
    }
    size_t nt = json_array_size(txs), total = 0;
    for (size_t i = 0; i < nt; i++) {
        const char *hex = json_string_value(json_object_get(json_array_get(txs, i), "raw_data_hex"));
        total += hex ? strlen(hex) / 2 : 0;
    }
    out->txs = calloc(nt ? nt : 1, sizeof *out->txs);
    out->ctype = calloc(nt ? nt : 1, sizeof *out->ctype);
    out->bytes = malloc(total ? total : 1);
    out->xf = calloc(nt ? nt * TRON_CALL_XFER_MAX : 1, sizeof *out->xf);
    if (!out->txs || !out->ctype || !out->bytes || !out->xf) {
        rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory for %zu txs", W, nt);
        goto out;
    }
    size_t used = 0;
    for (size_t i = 0; i < nt; i++) {
        const json_t *tx = json_array_get(txs, i);
        char tw[160];
        snprintf(tw, sizeof tw, "%s: transactions[%zu]", W, i);
        const char *hex;
        size_t hex_n, rn;
        uint8_t txid[32];
        if (!json_is_object(tx)) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s is not an object", tw);
            goto out;
        }
        if ((rc = get_hash(tx, "txID", true, tw, txid, NULL, err)) ||
            (rc = get_str(tx, "raw_data_hex", true, tw, &hex, &hex_n, err)))
            goto out;
        cw_err herr;
        if (cw_hex_decode(hex, hex_n, out->bytes + used, total - used, &rn, &herr)) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: raw_data_hex: %s", tw, herr.msg);
            goto out;
        }
        tron_raw r;
        if ((rc = tron_raw_parse(out->bytes + used, rn, &r, err))) {
            cw_err_prefix(err, rc, "%s (txID %.64s): raw_data_hex", tw, json_string_value(json_object_get(tx, "txID")));
            goto out;
        }
        used += rn;
        if (memcmp(r.txid, txid, 32) != 0) {
            rc = cw_err_set(err, CW_ECHECKSUM, CW_NO_OFFSET, "%s: txID %.64s is not sha256(raw_data_hex)", tw,
                            json_string_value(json_object_get(tx, "txID")));
            goto out;
        }
        size_t nx;
        tron_raw_transfers(&r, false, out->xf + out->n_xf, &nx, NULL); /* no calldata read: cannot fail */
        tron_tx_init(&out->txs[i], &r, out->xf + out->n_xf, nx);
        out->n_xf += nx;
        out->ctype[i] = r.contract_type;
        if (contract_ret_failed(tx))
            out->txs[i].flags |= CW_TX_FAILED;
    }
    out->n_tx = nt;
out:
    json_decref(root);
    if (rc)
        tron_block_free(out);
    return rc;
}

/* ---- transaction infos ---- */

cw_code tron_block_apply_infos(tron_block *b, const char *text, size_t n, cw_err *err)
{
    json_t *root;
    cw_code rc = load(text, n, &root, "transaction infos", err);
    if (rc)
        return rc;
    char W[96];
    snprintf(W, sizeof W, "transaction infos of block %lld", (long long)b->number);
    if (json_is_object(root) && json_object_size(root) == 0) { /* a block without txs answers {} */
        json_decref(root);
        root = json_array();
    }
    if (!json_is_array(root)) {
        json_decref(root);
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: not a JSON array", W);
    }
    size_t ni = json_array_size(root), cap = b->n_tx * TRON_CALL_XFER_MAX;
    for (size_t i = 0; i < ni; i++)
        cap += json_array_size(json_object_get(json_array_get(root, i), "log"));
    size_t nt = b->n_tx ? b->n_tx : 1;
    cw_transfer *xf = calloc(cap ? cap : 1, sizeof *xf);
    const json_t **info_of = calloc(nt, sizeof *info_of);
    uint32_t *flags = calloc(nt, sizeof *flags);
    size_t *start = calloc(nt, sizeof *start), *count = calloc(nt, sizeof *count);
    if (!xf || !info_of || !flags || !start || !count) {
        rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", W);
        goto out;
    }
    /* match each info to its tx by id (infos come in block order) */
    for (size_t i = 0; i < ni; i++) {
        const json_t *in = json_array_get(root, i);
        char iw[160];
        snprintf(iw, sizeof iw, "%s: [%zu]", W, i);
        uint8_t id[32];
        int64_t num = 0;
        if (!json_is_object(in)) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s is not an object", iw);
            goto out;
        }
        if ((rc = get_hash(in, "id", true, iw, id, NULL, err)) ||
            (rc = get_int(in, "blockNumber", true, iw, &num, NULL, err)))
            goto out;
        if (num != b->number) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: blockNumber %lld, not %lld", iw, (long long)num,
                            (long long)b->number);
            goto out;
        }
        size_t k = i < b->n_tx && memcmp(b->txs[i].txid, id, 32) == 0 ? i : b->n_tx;
        for (size_t j = 0; k == b->n_tx && j < b->n_tx; j++)
            if (memcmp(b->txs[j].txid, id, 32) == 0)
                k = j;
        if (k == b->n_tx) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: id %.64s is not a tx of the block", iw,
                            json_string_value(json_object_get(in, "id")));
            goto out;
        }
        if (info_of[k]) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: a second info for tx %.64s", iw,
                            json_string_value(json_object_get(in, "id")));
            goto out;
        }
        info_of[k] = in;
    }
    size_t nx = 0;
    uint32_t log_index = 0;
    for (size_t i = 0; i < b->n_tx; i++) {
        const cw_tx *tx = &b->txs[i];
        const json_t *in = info_of[i];
        char hex[65];
        cw_hex_encode(tx->txid, 32, hex);
        if (in == NULL && b->ctype[i] == TRON_CT_TRIGGER_SMART) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: no info for contract call %s (its logs are unknown)", W,
                            hex);
            goto out;
        }
        flags[i] = tx->flags;
        const char *res = in ? json_string_value(json_object_get(json_object_get(in, "receipt"), "result")) : NULL;
        if (res && strcmp(res, "SUCCESS") != 0)
            flags[i] |= CW_TX_FAILED;
        start[i] = nx;
        for (size_t k = 0; k < tx->n_xfer; k++)
            xf[nx++] = tx->xfer[k];
        const json_t *logs = in ? json_object_get(in, "log") : NULL;
        if (logs != NULL && !json_is_array(logs)) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: tx %s: \"log\" is not an array", W, hex);
            goto out;
        }
        for (size_t k = 0; k < json_array_size(logs); k++, log_index++) {
            char lw[200];
            snprintf(lw, sizeof lw, "%s: tx %s: log[%zu]", W, hex, k);
            bool is;
            if ((rc = log_transfer(json_array_get(logs, k), "topics", log_index, lw, &xf[nx], &is, err)))
                goto out;
            nx += is;
        }
        count[i] = nx - start[i];
    }
    /* every check passed: the txs take the new list */
    for (size_t i = 0; i < b->n_tx; i++) {
        b->txs[i].flags = flags[i];
        b->txs[i].xfer = xf + start[i];
        b->txs[i].n_xfer = count[i];
    }
    free(b->xf);
    b->xf = xf;
    b->n_xf = nx;
    b->infos_applied = true;
    xf = NULL;
out:
    free(xf);
    free(flags);
    free(info_of);
    free(start);
    free(count);
    json_decref(root);
    return rc;
}

/* ---- triggers ---- */

static const char *const trigger_names[] = {
    NULL, "blockTrigger", "transactionTrigger", "contractLogTrigger", "contractEventTrigger",
    "solidityTrigger", "solidityLogTrigger", "solidityEventTrigger",
};

tron_trigger_kind tron_trigger_kind_of(const char *name, size_t n)
{
    for (int k = TRON_TRIG_BLOCK; k <= TRON_TRIG_SOLIDITY_EVENT; k++)
        if (strlen(trigger_names[k]) == n && memcmp(trigger_names[k], name, n) == 0)
            return (tron_trigger_kind)k;
    return (tron_trigger_kind)0;
}

const char *tron_trigger_name(tron_trigger_kind k)
{
    return k >= TRON_TRIG_BLOCK && k <= TRON_TRIG_SOLIDITY_EVENT ? trigger_names[k] : "unknown";
}

void tron_trigger_free(tron_trigger *t)
{
    free(t->txids);
    free(t->xf);
    t->txids = NULL;
    t->xf = NULL;
}

static void trigger_tx_init(tron_trigger *t, size_t n_xf)
{
    memset(&t->tx, 0, sizeof t->tx);
    t->tx.chain = CW_CHAIN_TRON;
    t->tx.net = CW_NET_MAIN;
    memcpy(t->tx.txid, t->txid, 32);
    memcpy(t->tx.wtxid, t->txid, 32);
    t->tx.xfer = t->xf;
    t->tx.n_xfer = n_xf;
}

static cw_code parse_block_trigger(const json_t *o, tron_trigger *t, const char *W, cw_err *err)
{
    int64_t size;
    cw_code rc = get_int(o, "transactionSize", true, W, &size, NULL, err);
    if (rc)
        return rc;
    const json_t *list = json_object_get(o, "transactionList");
    if (!json_is_array(list))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: \"transactionList\" is not an array", W);
    if (json_array_size(list) != (size_t)size)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: transactionSize %lld but %zu ids in transactionList", W,
                          (long long)size, json_array_size(list));
    t->tx_count = (uint64_t)size;
    t->txids = malloc((size ? (size_t)size : 1) * 32);
    if (t->txids == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", W);
    for (size_t i = 0; i < (size_t)size; i++) {
        const json_t *s = json_array_get(list, i);
        if (!json_is_string(s))
            return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: transactionList[%zu] is not a string", W, i);
        if ((rc = hex_fixed(json_string_value(s), json_string_length(s), t->txids[i], 32, W, "transactionList", err)))
            return rc;
    }
    return CW_OK;
}

static cw_code parse_tx_trigger(const json_t *o, tron_trigger *t, const char *W, cw_err *err)
{
    const char *ctype, *result, *asset;
    bool has_idx, has_from, has_to;
    int64_t v;
    cw_code rc;
    if ((rc = get_hash(o, "transactionId", true, W, t->txid, NULL, err)) ||
        (rc = get_str(o, "contractType", true, W, &ctype, NULL, err)) ||
        (rc = get_str(o, "result", false, W, &result, NULL, err)) ||
        (rc = get_str(o, "assetName", false, W, &asset, NULL, err)) ||
        (rc = get_int(o, "transactionIndex", false, W, &v, &has_idx, err)))
        return rc;
    if (has_idx)
        t->has_tx_index = true, t->tx_index = (uint64_t)v;
    if (!tron_contract_type_from_name(ctype, &t->contract_type))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: unknown contractType \"%s\"", W, ctype);
    uint8_t from[20], to[20];
    if ((rc = get_taddr(o, "fromAddress", W, from, &has_from, err)) ||
        (rc = get_taddr(o, "toAddress", W, to, &has_to, err)))
        return rc;
    const json_t *logs = json_object_get(o, "logList");
    if (logs != NULL && !json_is_null(logs) && !json_is_array(logs))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: \"logList\" is not an array", W);
    size_t nl = json_array_size(logs);
    t->xf = calloc(nl + 3, sizeof *t->xf);
    if (t->xf == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", W);
    size_t nx = 0;
    t->complete = true;
    int64_t amount = 0, call_value = 0;
    if ((rc = get_int(o, "assetAmount", false, W, &amount, NULL, err)) ||
        (rc = get_int(o, "contractCallValue", false, W, &call_value, NULL, err)))
        return rc;
    cw_transfer *x;
    switch (t->contract_type) {
    case TRON_CT_TRANSFER:
    case TRON_CT_TRANSFER_ASSET:
        if (!has_from || !has_to) {
            t->complete = false;
            break;
        }
        x = &t->xf[nx++];
        x->kind = t->contract_type == TRON_CT_TRANSFER ? CW_XFER_VALUE : CW_XFER_TRC10;
        tron_addr(&x->from, from);
        tron_addr(&x->to, to);
        if (t->contract_type == TRON_CT_TRANSFER_ASSET) {
            x->asset.kind = CW_ASSET_TRC10;
            if (asset == NULL ||
                (rc = tron_asset_id_parse((const uint8_t *)asset, strlen(asset), CW_NO_OFFSET, "assetName", &x->asset.id,
                                          err)))
                return rc ? rc : cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: no \"assetName\" (the TRC-10 id)", W);
        }
        cw_u256_set_u64(&x->amount, (uint64_t)amount);
        break;
    case TRON_CT_TRIGGER_SMART:
        if (call_value > 0) {
            if (!has_from || !has_to) {
                t->complete = false;
            } else {
                x = &t->xf[nx++];
                x->kind = CW_XFER_VALUE;
                tron_addr(&x->from, from);
                tron_addr(&x->to, to);
                cw_u256_set_u64(&x->amount, (uint64_t)call_value);
            }
        }
        /* TRC-10 sent along with the call, when the trigger names it (assetName = the id) */
        if (asset && amount > 0 && strcmp(asset, "trx") != 0) {
            if (!has_from || !has_to) {
                t->complete = false;
            } else {
                x = &t->xf[nx++];
                x->kind = CW_XFER_TRC10;
                tron_addr(&x->from, from);
                tron_addr(&x->to, to);
                x->asset.kind = CW_ASSET_TRC10;
                if ((rc = tron_asset_id_parse((const uint8_t *)asset, strlen(asset), CW_NO_OFFSET, "assetName",
                                              &x->asset.id, err)))
                    return rc;
                cw_u256_set_u64(&x->amount, (uint64_t)amount);
            }
        }
        if (logs == NULL || json_is_null(logs))
            t->complete = false;
        break;
    default:
        break;
    }
    for (size_t i = 0; i < nl; i++) {
        const json_t *log = json_array_get(logs, i);
        char lw[200];
        snprintf(lw, sizeof lw, "%s: logList[%zu]", W, i);
        int64_t idx = 0;
        bool is;
        if (!json_is_object(log))
            return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s is not an object", lw);
        if ((rc = get_int(log, "logIndex", true, lw, &idx, NULL, err)) ||
            (rc = log_transfer(log, "topicList", (uint32_t)idx, lw, &t->xf[nx], &is, err)))
            return rc;
        nx += is;
    }
    trigger_tx_init(t, nx);
    if (result && strcmp(result, "SUCCESS") != 0)
        t->tx.flags |= CW_TX_FAILED;
    return CW_OK;
}

/* contractLogTrigger / contractEventTrigger (and the solidity ones). */
static cw_code parse_log_trigger(const json_t *o, tron_trigger *t, const char *W, cw_err *err)
{
    const char *uid;
    size_t ulen;
    cw_code rc;
    if ((rc = get_hash(o, "transactionId", true, W, t->txid, NULL, err)) ||
        (rc = get_str(o, "uniqueId", true, W, &uid, &ulen, err)))
        return rc;
    /* uniqueId = txid "_" index within the tx */
    const char *us = memchr(uid, '_', ulen);
    uint64_t idx = 0;
    if (us == NULL || us == uid + ulen - 1 || (size_t)(us - uid) != 64 || strncmp(uid, json_string_value(json_object_get(o, "transactionId")), 64) != 0)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: uniqueId \"%.80s\" is not transactionId_N", W, uid);
    for (const char *p = us + 1; p < uid + ulen; p++) {
        if (*p < '0' || *p > '9' || idx > UINT32_MAX / 10)
            return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: uniqueId \"%.80s\" is not transactionId_N", W, uid);
        idx = idx * 10 + (uint64_t)(*p - '0');
    }
    const json_t *rm = json_object_get(o, "removed");
    if (rm != NULL && !json_is_boolean(rm) && !json_is_null(rm))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: \"removed\" is not true or false", W);
    t->removed = json_is_true(rm);
    /* the log itself: rawData {address, topics, data} (both kinds), else topicList/data with contractAddress */
    const json_t *raw = json_object_get(o, "rawData");
    t->xf = calloc(1, sizeof *t->xf);
    if (t->xf == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", W);
    bool is = false;
    char lw[200];
    if (json_is_object(raw)) {
        snprintf(lw, sizeof lw, "%s: rawData", W);
        rc = log_transfer(raw, "topics", (uint32_t)idx, lw, t->xf, &is, err);
    } else {
        uint8_t c[20];
        bool has_c;
        if ((rc = get_taddr(o, "contractAddress", W, c, &has_c, err)))
            return rc;
        if (!has_c)
            return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: neither rawData nor contractAddress", W);
        char hex[41];
        cw_hex_encode(c, 20, hex);
        json_t *log = json_pack("{s:s, s:O, s:O}", "address", hex, "topicList", json_object_get(o, "topicList"), "data",
                                json_object_get(o, "data") ? json_object_get(o, "data") : json_null());
        if (log == NULL)
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", W);
        rc = log_transfer(log, "topicList", (uint32_t)idx, W, t->xf, &is, err);
        json_decref(log);
    }
    if (rc)
        return rc;
    trigger_tx_init(t, is ? 1 : 0);
    return CW_OK;
}

cw_code tron_trigger_parse(tron_trigger_kind kind, const char *text, size_t n, tron_trigger *out, cw_err *err)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->solidified = -1;
    if (kind < TRON_TRIG_BLOCK || kind > TRON_TRIG_SOLIDITY_EVENT)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "trigger: unknown kind %d", (int)kind);
    char W[64];
    snprintf(W, sizeof W, "%s", trigger_names[kind]);
    json_t *o;
    cw_code rc = load(text, n, &o, W, err);
    if (rc)
        return rc;
    const char *name;
    bool has;
    int64_t v;
    if (!json_is_object(o)) {
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: not a JSON object", W);
        goto out;
    }
    if ((rc = get_str(o, "triggerName", true, W, &name, NULL, err)))
        goto out;
    if (strcmp(name, trigger_names[kind]) != 0) {
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: triggerName is \"%.40s\", not the topic frame's", W, name);
        goto out;
    }
    if ((rc = get_int(o, "timeStamp", false, W, &out->time_ms, NULL, err)) ||
        (rc = get_int(o, "latestSolidifiedBlockNumber", kind == TRON_TRIG_SOLIDITY, W, &v, &has, err)))
        goto out;
    if (has)
        out->solidified = v;
    if (kind != TRON_TRIG_SOLIDITY) {
        if ((rc = get_int(o, "blockNumber", true, W, &out->block_number, NULL, err)) ||
            (rc = get_hash(o, "blockHash", kind == TRON_TRIG_BLOCK, W, out->block_hash, &out->has_block_hash, err)))
            goto out;
        snprintf(W, sizeof W, "%s of block %lld", trigger_names[kind], (long long)out->block_number);
    }
    switch (kind) {
    case TRON_TRIG_BLOCK: rc = parse_block_trigger(o, out, W, err); break;
    case TRON_TRIG_TX: rc = parse_tx_trigger(o, out, W, err); break;
    case TRON_TRIG_SOLIDITY: break;
    default: rc = parse_log_trigger(o, out, W, err); break;
    }
out:
    json_decref(o);
    return rc;
}
