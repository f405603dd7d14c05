/* decode_eth.c: a signed Ethereum tx for the verbs (see decode_eth.h). */
#include "decode_eth.h"

#include <string.h>

#include "chains/addr.h"
#include "chains/hex.h"
#include "chains/u256.h"

cw_code decode_eth_view(const uint8_t *raw, size_t n, const tokens_table *tokens, eth_view *v, cw_err *err)
{
    memset(v, 0, sizeof *v);
    cw_code rc = eth_tx_decode(raw, n, &v->tx, err);
    if (rc)
        return rc;
    if ((rc = eth_tx_recover(&v->tx, &v->from, err)))
        return rc;
    eth_tx_hash(&v->tx, v->hash);
    if ((rc = eth_tx_call_decode(&v->tx, &v->call, err)))
        return rc;
    if (v->call.kind != ERC20_CALL_NONE && tokens) {
        cw_addr c;
        cw_addr_set(&c, CW_CHAIN_EVM, CW_NET_MAIN, CW_ADDR_EVM, 0, v->tx.to, 20);
        v->token = tokens_find(tokens, &c);
    }
    return CW_OK;
}

static void put_addr(cw_json *j, const char *key, const uint8_t a20[20])
{
    cw_json_key(j, key);
    if (!a20) {
        cw_json_null(j);
        return;
    }
    cw_addr a;
    char text[CW_ADDR_TEXT_MAX];
    cw_addr_set(&a, CW_CHAIN_EVM, CW_NET_MAIN, CW_ADDR_EVM, 0, a20, 20);
    cw_addr_format(&a, text, sizeof text);
    cw_json_str(j, text);
}

static void put_dec(cw_json *j, const char *key, const cw_u256 *v)
{
    char dec[CW_U256_DEC_MAX];
    cw_u256_to_dec(v, dec);
    cw_json_key(j, key);
    cw_json_str(j, dec);
}

void decode_eth_tx_json(cw_json *j, const eth_view *v)
{
    const eth_tx *tx = &v->tx;
    cw_json_obj_begin(j);
    cw_json_key(j, "chain");
    cw_json_str(j, "ethereum");
    cw_json_key(j, "hash");
    char h[67] = "0x";
    cw_hex_encode(v->hash, 32, h + 2);
    cw_json_str(j, h);
    cw_json_key(j, "type");
    cw_json_u64(j, tx->type);
    cw_json_key(j, "chain_id");
    if (tx->has_chain_id)
        cw_json_u64(j, tx->chain_id);
    else
        cw_json_null(j);
    cw_json_key(j, "nonce");
    cw_json_u64(j, tx->nonce);
    put_addr(j, "from", v->from.addr);
    put_addr(j, "to", tx->has_to ? tx->to : NULL);
    put_dec(j, "value", &tx->value);
    cw_json_key(j, "gas_limit");
    cw_json_u64(j, tx->gas);
    if (tx->type <= ETH_TX_ACCESS_LIST) {
        put_dec(j, "gas_price", &tx->gas_price);
    } else {
        put_dec(j, "max_fee_per_gas", &tx->max_fee);
        put_dec(j, "max_priority_fee_per_gas", &tx->max_priority_fee);
    }
    cw_json_key(j, "data_size");
    cw_json_u64(j, tx->data.n);
    if (tx->type != ETH_TX_LEGACY) {
        cw_json_key(j, "access_list");
        cw_json_obj_begin(j);
        cw_json_key(j, "addresses");
        cw_json_u64(j, tx->n_access);
        cw_json_key(j, "storage_keys");
        cw_json_u64(j, tx->n_storage_keys);
        cw_json_obj_end(j);
    }
    if (tx->type == ETH_TX_BLOB) {
        put_dec(j, "max_fee_per_blob_gas", &tx->max_fee_per_blob_gas);
        cw_json_key(j, "blob_hashes");
        cw_json_u64(j, tx->n_blob_hashes);
    }
    cw_json_key(j, "token");
    if (v->call.kind == ERC20_CALL_NONE) {
        cw_json_null(j);
    } else {
        cw_json_obj_begin(j);
        cw_json_key(j, "kind");
        cw_json_str(j, v->call.kind == ERC20_CALL_TRANSFER ? "transfer" : "transferFrom");
        put_addr(j, "contract", tx->to);
        cw_json_key(j, "symbol");
        cw_json_str(j, v->token ? v->token->symbol : NULL);
        cw_json_key(j, "decimals");
        if (v->token)
            cw_json_u64(j, v->token->decimals);
        else
            cw_json_null(j);
        put_addr(j, "from", v->call.kind == ERC20_CALL_TRANSFER_FROM ? v->call.from : v->from.addr);
        put_addr(j, "recipient", v->call.to);
        put_dec(j, "amount", &v->call.amount);
        cw_json_key(j, "trailing_bytes"); /* after the arguments: the token ignores them, the transfer stands */
        cw_json_u64(j, v->call.trailing);
        cw_json_obj_end(j);
    }
    if (tx->type == ETH_TX_SET_CODE) {
        cw_json_key(j, "authorities");
        cw_json_arr_begin(j);
        eth_auth_iter it;
        eth_auth a;
        eth_auth_begin(tx, &it);
        while (eth_auth_next(&it, &a)) {
            eth_signer s;
            cw_err e = {0};
            bool ok = eth_auth_recover(&a, &s, &e) == CW_OK;
            bool applies = ok && eth_auth_check_chain(&a, tx->chain_id, &e) == CW_OK;
            cw_json_obj_begin(j);
            put_addr(j, "authority", ok ? s.addr : NULL);
            cw_json_key(j, "error");
            cw_json_str(j, applies ? NULL : e.msg);
            put_addr(j, "delegate", a.address);
            put_dec(j, "chain_id", &a.chain_id);
            cw_json_key(j, "nonce");
            cw_json_u64(j, a.nonce);
            cw_json_obj_end(j);
        }
        cw_json_arr_end(j);
    }
    cw_json_obj_end(j);
}
