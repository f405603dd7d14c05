#include "model.h"

#include <string.h>

void *cw_arena_alloc(cw_arena *a, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    size_t start = (a->used + 15) & ~(size_t)15; /* keep structs aligned */
    if (start < a->used || start > a->cap || bytes > a->cap - start)
        return NULL;
    a->used = start + bytes;
    return a->base + start;
}

static const char *const net_names[CW_NET_COUNT] = {"main", "test", "testnet4", "signet", "regtest"};

const char *cw_net_name(cw_net net)
{
    return (unsigned)net < CW_NET_COUNT ? net_names[net] : "unknown";
}

bool cw_net_from_name(const char *s, cw_net *out)
{
    for (int i = 0; i < CW_NET_COUNT; i++) {
        if (strcmp(s, net_names[i]) == 0) {
            *out = (cw_net)i;
            return true;
        }
    }
    /* Bitcoin Core's -chain= spellings */
    if (strcmp(s, "mainnet") == 0 || strcmp(s, "bitcoin") == 0) { *out = CW_NET_MAIN; return true; }
    if (strcmp(s, "testnet") == 0 || strcmp(s, "testnet3") == 0) { *out = CW_NET_TEST; return true; }
    return false;
}

cw_net cw_net_space(cw_net net)
{
    return (net == CW_NET_TESTNET4 || net == CW_NET_SIGNET) ? CW_NET_TEST : net;
}

const char *cw_chain_name(cw_chain chain)
{
    switch (chain) {
    case CW_CHAIN_BITCOIN: return "bitcoin";
    case CW_CHAIN_EVM: return "evm";
    case CW_CHAIN_TRON: return "tron";
    }
    return "unknown";
}

const char *cw_addr_kind_name(cw_addr_kind k)
{
    switch (k) {
    case CW_ADDR_NONE: return "none";
    case CW_ADDR_P2PKH: return "p2pkh";
    case CW_ADDR_P2SH: return "p2sh";
    case CW_ADDR_P2WPKH: return "p2wpkh";
    case CW_ADDR_P2WSH: return "p2wsh";
    case CW_ADDR_P2TR: return "p2tr";
    case CW_ADDR_WITNESS: return "witness";
    case CW_ADDR_EVM: return "evm";
    case CW_ADDR_TRON: return "tron";
    }
    return "unknown";
}

const char *cw_script_type_name(cw_script_type t)
{
    switch (t) {
    case CW_SCRIPT_NONSTANDARD: return "nonstandard";
    case CW_SCRIPT_P2PK: return "p2pk";
    case CW_SCRIPT_P2PKH: return "p2pkh";
    case CW_SCRIPT_P2SH: return "p2sh";
    case CW_SCRIPT_P2WPKH: return "p2wpkh";
    case CW_SCRIPT_P2WSH: return "p2wsh";
    case CW_SCRIPT_P2TR: return "p2tr";
    case CW_SCRIPT_ANCHOR: return "anchor";
    case CW_SCRIPT_WITNESS_UNKNOWN: return "witness_unknown";
    case CW_SCRIPT_NULLDATA: return "nulldata";
    case CW_SCRIPT_MULTISIG: return "multisig";
    }
    return "unknown";
}

void cw_addr_set(cw_addr *a, cw_chain chain, cw_net net, cw_addr_kind kind, int version, const uint8_t *p, size_t n)
{
    memset(a, 0, sizeof *a);
    a->chain = (uint8_t)chain;
    a->net = (uint8_t)(chain == CW_CHAIN_BITCOIN ? cw_net_space(net) : CW_NET_MAIN);
    a->kind = (uint8_t)kind;
    a->version = (uint8_t)version;
    a->len = (uint8_t)(n <= CW_ADDR_PAYLOAD_MAX ? n : CW_ADDR_PAYLOAD_MAX);
    memcpy(a->payload, p, a->len);
}

bool cw_addr_eq(const cw_addr *a, const cw_addr *b)
{
    return a->chain == b->chain && a->net == b->net && a->kind == b->kind && a->version == b->version &&
           a->len == b->len && memcmp(a->payload, b->payload, a->len) == 0;
}
