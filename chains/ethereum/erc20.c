/* erc20.c: ERC-20 calldata and Transfer logs (see erc20.h). */
#include "erc20.h"

#include <string.h>

const uint8_t erc20_transfer_topic[32] = {
    0xdd, 0xf2, 0x52, 0xad, 0x1b, 0xe2, 0xc8, 0x9b, 0x69, 0xc2, 0xb0, 0x68, 0xfc, 0x37, 0x8d, 0xaa,
    0x95, 0x2b, 0xa7, 0xf1, 0x63, 0xc4, 0xa1, 0x16, 0x28, 0xf5, 0x5a, 0x4d, 0xf5, 0x23, 0xb3, 0xef};

/* An ABI address word: 12 zero bytes (Tron: or 11 zeros and 0x41) then 20. */
static cw_code addr_word(const uint8_t *w, size_t off, const char *field, bool tron, uint8_t out[20], cw_err *err)
{
    size_t z = 0;
    while (z < 12 && w[z] == 0)
        z++;
    if (z < 12 && !(tron && z == 11 && w[11] == 0x41))
        return cw_err_set(err, CW_EFORMAT, off + z,
                          "byte %zu, field %s: an address word must start with 12 zero bytes (byte %zu is 0x%02x)",
                          off + z, field, off + z, w[z]);
    memcpy(out, w + 12, 20);
    return CW_OK;
}

cw_code erc20_call_decode_at(cw_span data, size_t base, cw_chain chain, erc20_call *out, cw_err *err)
{
    memset(out, 0, sizeof *out);
    if (data.n < 4)
        return CW_OK;
    uint32_t sel = (uint32_t)data.p[0] << 24 | (uint32_t)data.p[1] << 16 | (uint32_t)data.p[2] << 8 | data.p[3];
    bool tron = chain == CW_CHAIN_TRON;
    cw_code rc;
    if (sel == ERC20_SEL_TRANSFER) {
        if (data.n < ERC20_TRANSFER_LEN)
            return cw_err_set(err, CW_EFORMAT, base,
                              "byte %zu, field transfer calldata: %zu bytes, transfer(address,uint256) takes %d",
                              base, data.n, ERC20_TRANSFER_LEN);
        out->trailing = data.n - ERC20_TRANSFER_LEN;
        if ((rc = addr_word(data.p + 4, base + 4, "transfer to", tron, out->to, err)))
            return rc;
        out->kind = ERC20_CALL_TRANSFER;
        return cw_u256_from_be(data.p + 36, 32, &out->amount, err);
    }
    if (sel == ERC20_SEL_TRANSFER_FROM) {
        if (data.n < ERC20_TRANSFER_FROM_LEN)
            return cw_err_set(
                err, CW_EFORMAT, base,
                "byte %zu, field transferFrom calldata: %zu bytes, transferFrom(address,address,uint256) takes %d",
                base, data.n, ERC20_TRANSFER_FROM_LEN);
        out->trailing = data.n - ERC20_TRANSFER_FROM_LEN;
        if ((rc = addr_word(data.p + 4, base + 4, "transferFrom from", tron, out->from, err)) ||
            (rc = addr_word(data.p + 36, base + 36, "transferFrom to", tron, out->to, err)))
            return rc;
        out->kind = ERC20_CALL_TRANSFER_FROM;
        return cw_u256_from_be(data.p + 68, 32, &out->amount, err);
    }
    return CW_OK;
}

cw_code erc20_call_decode(cw_span data, cw_chain chain, erc20_call *out, cw_err *err)
{
    return erc20_call_decode_at(data, 0, chain, out, err);
}

static void account(cw_addr *a, const cw_addr *contract, const uint8_t b[20])
{
    bool tron = contract->chain == CW_CHAIN_TRON;
    cw_addr_set(a, tron ? CW_CHAIN_TRON : CW_CHAIN_EVM, CW_NET_MAIN, tron ? CW_ADDR_TRON : CW_ADDR_EVM, 0, b, 20);
}

void erc20_call_to_transfer(const erc20_call *c, const cw_addr *sender, const cw_addr *contract, cw_transfer *out)
{
    memset(out, 0, sizeof *out);
    out->kind = CW_XFER_TOKEN_CALL;
    if (c->kind == ERC20_CALL_TRANSFER_FROM)
        account(&out->from, contract, c->from);
    else
        out->from = *sender;
    account(&out->to, contract, c->to);
    out->asset.kind = CW_ASSET_TOKEN;
    out->asset.contract = *contract;
    out->amount = c->amount;
}

cw_code erc20_log_decode(const uint8_t (*topics)[32], size_t n_topics, cw_span data, erc20_log *out, cw_err *err)
{
    memset(out, 0, sizeof *out);
    if (n_topics == 0 || memcmp(topics[0], erc20_transfer_topic, 32) != 0)
        return CW_OK;
    bool nft = n_topics == 4 && data.n == 0;
    if (!nft && !(n_topics == 3 && data.n == 32))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                          "a Transfer log with %zu topics and %zu bytes of data is neither ERC-20 (3 topics, 32 bytes) "
                          "nor ERC-721 (4 topics, no data)",
                          n_topics, data.n);
    cw_code rc;
    if ((rc = addr_word(topics[1], 0, "topic 1 (from)", false, out->from, err)) ||
        (rc = addr_word(topics[2], 0, "topic 2 (to)", false, out->to, err)))
        return rc;
    if (nft) {
        out->kind = ERC20_LOG_NFT;
        return cw_u256_from_be(topics[3], 32, &out->amount, err);
    }
    out->kind = ERC20_LOG_TRANSFER;
    return cw_u256_from_be(data.p, 32, &out->amount, err);
}

cw_code erc20_log_to_transfer(const erc20_log *l, const cw_addr *contract, uint32_t log_index, cw_transfer *out,
                              cw_err *err)
{
    memset(out, 0, sizeof *out);
    if (l->kind != ERC20_LOG_TRANSFER)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "log %u is %s, not an ERC-20 Transfer with an amount", log_index,
                          l->kind == ERC20_LOG_NFT ? "an ERC-721 (NFT) Transfer" : "not a Transfer");
    out->kind = CW_XFER_TOKEN_LOG;
    out->index = log_index;
    account(&out->from, contract, l->from);
    account(&out->to, contract, l->to);
    out->asset.kind = CW_ASSET_TOKEN;
    out->asset.contract = *contract;
    out->amount = l->amount;
    return CW_OK;
}
