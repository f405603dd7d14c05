/* `chainwatch decode tx --chain tron FILE|-`: a signed Tron tx, as
 * java-tron's HTTP API returns it, to one JSON object (decode_tron.h). */
#include "decode_tron.h"

#include <stdio.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/hex.h"
#include "cli.h"

#define MAX_TRON_JSON (4u << 20) /* a signed tx is at most 500 KB of bytes, 1 MB of hex */

static void put_addr(cw_json *j, const char *key, const cw_addr *a)
{
    char text[CW_ADDR_TEXT_MAX];
    cw_json_key(j, key);
    if (a && cw_addr_format(a, text, sizeof text))
        cw_json_str(j, text);
    else
        cw_json_null(j);
}

static void put_u256(cw_json *j, const char *key, const cw_u256 *v)
{
    char num[CW_U256_DEC_MAX];
    cw_json_key(j, key);
    if (v) {
        cw_u256_to_dec(v, num);
        cw_json_str(j, num);
    } else {
        cw_json_null(j);
    }
}

void decode_tron_json(cw_json *j, const tron_signed *s, const tokens_table *tokens)
{
    const tron_raw *r = &s->raw;
    const cw_tx *tx = &s->tx;
    char txid[65];
    cw_hex_encode(r->txid, 32, txid);
    /* the transfer the tx is about: the TRX / TRC-10 transfer, or the TRC-20 call */
    const cw_transfer *m = NULL;
    for (size_t i = 0; i < tx->n_xfer; i++)
        if (m == NULL || tx->xfer[i].kind == CW_XFER_TOKEN_CALL)
            m = &tx->xfer[i];
    const char *ctype = tron_contract_type_name(r->contract_type);
    cw_json_obj_begin(j);
    cw_json_key(j, "txid");
    cw_json_str(j, txid);
    cw_json_key(j, "contract_type");
    if (ctype)
        cw_json_str(j, ctype);
    else
        cw_json_u64(j, r->contract_type);
    cw_addr a;
    tron_addr(&a, s->signer);
    put_addr(j, "owner", &a);
    put_addr(j, "to", m ? &m->to : NULL);
    const char *kind = NULL, *symbol = NULL;
    unsigned decimals = 0;
    bool has_decimals = false;
    char asset[CW_ADDR_TEXT_MAX] = "";
    if (m && m->asset.kind == CW_ASSET_NATIVE) {
        kind = "trx", symbol = "TRX", decimals = 6, has_decimals = true;
        strcpy(asset, "TRX");
    } else if (m && m->asset.kind == CW_ASSET_TRC10) {
        kind = "trc10";
        snprintf(asset, sizeof asset, "%llu", (unsigned long long)m->asset.id);
    } else if (m) {
        kind = "trc20";
        cw_addr_format(&m->asset.contract, asset, sizeof asset);
        const token_info *ti = tokens ? tokens_find(tokens, &m->asset.contract) : NULL;
        if (ti)
            symbol = ti->symbol, decimals = ti->decimals, has_decimals = true;
    }
    cw_json_key(j, "asset_kind");
    cw_json_str(j, kind);
    cw_json_key(j, "asset");
    cw_json_str(j, m ? asset : NULL);
    cw_json_key(j, "symbol");
    cw_json_str(j, symbol);
    cw_json_key(j, "decimals");
    if (has_decimals)
        cw_json_u64(j, decimals);
    else
        cw_json_null(j);
    put_u256(j, "amount", m ? &m->amount : NULL);
    if (r->has_contract)
        tron_addr(&a, r->contract);
    put_addr(j, "contract", r->has_contract ? &a : NULL);
    cw_u256 cv;
    cw_u256_set_u64(&cv, r->call_value);
    put_u256(j, "call_value", r->contract_type == TRON_CT_TRIGGER_SMART ? &cv : NULL);
    cw_json_key(j, "memo");
    if (r->memo.n)
        cw_json_hex(j, r->memo.p, r->memo.n);
    else
        cw_json_null(j);
    cw_json_key(j, "timestamp");
    cw_json_i64(j, r->timestamp);
    cw_json_key(j, "expiration");
    cw_json_i64(j, r->expiration);
    cw_json_key(j, "fee_limit");
    cw_json_i64(j, r->fee_limit);
    cw_json_key(j, "signatures");
    cw_json_u64(j, s->n_sig);
    cw_json_obj_end(j);
}

int decode_tron_tx(const char *source, const char *tokens_path)
{
    cw_buf in = CW_BUF_INIT, out = CW_BUF_INIT;
    cw_err err = {0};
    tokens_table tokens;
    int rc = cli_tokens_load("decode tx", tokens_path, &tokens);
    if (rc)
        return rc;
    if (cw_read_file(source, MAX_TRON_JSON, &in, &err)) {
        rc = cli_fail("decode tx --chain tron", &err);
    } else if (in.n == 0) {
        fprintf(stderr, "chainwatch: decode tx --chain tron: empty input\n");
        rc = CLI_EXIT_USAGE;
    } else {
        tron_signed s;
        if (tron_signed_parse((const char *)in.p, in.n, &s, &err)) {
            rc = cli_fail("decode tx --chain tron", &err);
        } else {
            cw_json j;
            cw_json_init(&j, &out);
            decode_tron_json(&j, &s, &tokens);
            rc = cli_write_json_line("decode", "decode tx --chain tron", &j, &out);
            tron_signed_free(&s);
        }
    }
    tokens_free(&tokens);
    cw_buf_free(&in);
    cw_buf_free(&out);
    return rc;
}
