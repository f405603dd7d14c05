/*
 * screen_eth.c: screening a signed Ethereum tx before it is broadcast
 * (screen.h: screen_eth_tx). An account tx has no inputs to resolve and no
 * clusters: what it touches is its sender (recovered from the signature),
 * its `to`, and for an ERC-20 call the token's from and recipient read
 * from the calldata; a type 4 tx also touches each authority (the account
 * whose code it sets) and the code it delegates to. Each distinct address
 * is screened once with screen_address (designations and, when the
 * watchlist has them, key-linked forms), its roles listed.
 */
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/hex.h"
#include "monitor/records/alert.h"
#include "screen.h"

typedef struct {
    cw_addr addr;
    json_t *roles;
} eth_entry;

/* Distinct addresses in order of first appearance, at most cap (4 + 2 per
 * authorization: sized from the tx, so none is ever dropped). A linear
 * scan: SCREEN_ETH_AUTH_MAX bounds it to a few million comparisons. */
typedef struct {
    eth_entry *v;
    size_t n, cap;
} eth_entries;

static eth_entry *entry(eth_entries *l, const uint8_t a20[20], bool *ok)
{
    cw_addr a;
    cw_addr_set(&a, CW_CHAIN_EVM, CW_NET_MAIN, CW_ADDR_EVM, 0, a20, 20);
    for (size_t i = 0; i < l->n; i++)
        if (cw_addr_eq(&l->v[i].addr, &a))
            return &l->v[i];
    if (l->n == l->cap) { /* cannot happen: cap counts every address the tx names */
        *ok = false;
        return NULL;
    }
    eth_entry *e = &l->v[l->n++];
    e->addr = a;
    e->roles = json_array();
    if (!e->roles)
        *ok = false;
    return e;
}

static void add_role(eth_entries *l, const uint8_t a20[20], const char *role, bool *ok)
{
    eth_entry *e = entry(l, a20, ok);
    if (e && e->roles)
        alert_push(e->roles, json_string(role), ok);
}

static json_t *addr_json(const uint8_t a20[20])
{
    cw_addr a;
    char text[CW_ADDR_TEXT_MAX];
    cw_addr_set(&a, CW_CHAIN_EVM, CW_NET_MAIN, CW_ADDR_EVM, 0, a20, 20);
    cw_addr_format(&a, text, sizeof text);
    return json_string(text);
}

static json_t *dec_json(const cw_u256 *v)
{
    char dec[CW_U256_DEC_MAX];
    cw_u256_to_dec(v, dec);
    return json_string(dec);
}

cw_code screen_eth_tx(const flows_config *cfg, store_txn *t, const eth_view *v, json_t *obj, screen_decision *out,
                      cw_err *err)
{
    *out = SCREEN_ALLOW;
    bool ok = true;
    const eth_tx *tx = &v->tx;
    char h[67] = "0x";
    cw_hex_encode(v->hash, 32, h + 2);
    alert_put(obj, "subject", json_string(h), &ok);
    alert_put(obj, "chain", json_string("ethereum"), &ok);
    alert_put(obj, "chain_id", tx->has_chain_id ? json_integer((json_int_t)tx->chain_id) : json_null(), &ok);
    alert_put(obj, "from", addr_json(v->from.addr), &ok);
    alert_put(obj, "to", tx->has_to ? addr_json(tx->to) : json_null(), &ok);
    alert_put(obj, "value", dec_json(&tx->value), &ok);
    json_t *token = json_null();
    if (v->call.kind != ERC20_CALL_NONE) {
        json_decref(token);
        token = json_object();
        alert_put(token, "kind", json_string(v->call.kind == ERC20_CALL_TRANSFER ? "transfer" : "transferFrom"), &ok);
        alert_put(token, "contract", addr_json(tx->to), &ok);
        alert_put(token, "symbol", v->token ? json_string(v->token->symbol) : json_null(), &ok);
        alert_put(token, "decimals", v->token ? json_integer(v->token->decimals) : json_null(), &ok);
        alert_put(token, "from",
                  addr_json(v->call.kind == ERC20_CALL_TRANSFER_FROM ? v->call.from : v->from.addr), &ok);
        alert_put(token, "recipient", addr_json(v->call.to), &ok);
        alert_put(token, "amount", dec_json(&v->call.amount), &ok);
        alert_put(token, "trailing_bytes", json_integer((json_int_t)v->call.trailing), &ok);
    }
    alert_put(obj, "token", token, &ok);

    if (tx->has_chain_id && tx->chain_id > SCREEN_ETH_CHAIN_ID_MAX)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "screen: chain id %llu is above 2^63-1: not screened",
                          (unsigned long long)tx->chain_id);
    if (tx->n_auth > SCREEN_ETH_AUTH_MAX)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET,
                          "screen: a tx with %zu authorizations, above %d (25000 gas each: more than any Ethereum "
                          "block holds): not screened",
                          tx->n_auth, SCREEN_ETH_AUTH_MAX);
    eth_entries l = {calloc(4 + 2 * tx->n_auth, sizeof(eth_entry)), 0, 4 + 2 * tx->n_auth};
    if (!l.v)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "screen: out of memory");
    add_role(&l, v->from.addr, "sender", &ok);
    if (tx->has_to)
        add_role(&l, tx->to, v->call.kind != ERC20_CALL_NONE ? "token_contract" : "to", &ok);
    if (v->call.kind == ERC20_CALL_TRANSFER_FROM)
        add_role(&l, v->call.from, "token_from", &ok);
    if (v->call.kind != ERC20_CALL_NONE)
        add_role(&l, v->call.to, "token_recipient", &ok);
    cw_code rc = CW_OK;
    if (tx->type == ETH_TX_SET_CODE) {
        /* every authority that recovers, and the code each delegates to */
        eth_auth_iter it;
        eth_auth a;
        size_t unrecovered = 0;
        eth_auth_begin(tx, &it);
        while (eth_auth_next(&it, &a)) {
            eth_signer s;
            if (eth_auth_recover(&a, &s, NULL) == CW_OK)
                add_role(&l, s.addr, "authority", &ok);
            else
                unrecovered++;
            add_role(&l, a.address, "delegate", &ok);
        }
        alert_put(obj, "authorizations_unrecovered", json_integer((json_int_t)unrecovered), &ok);
    }
    json_t *addresses = json_array();
    for (size_t i = 0; i < l.n && rc == CW_OK; i++) {
        eth_entry *e = &l.v[i];
        char text[CW_ADDR_TEXT_MAX];
        cw_addr_format(&e->addr, text, sizeof text);
        json_t *a = json_object(), *reasons = json_array();
        alert_put(a, "address", json_string(text), &ok);
        alert_put(a, "roles", e->roles, &ok);
        e->roles = NULL;
        screen_decision d = SCREEN_ALLOW;
        if (reasons)
            rc = screen_address(cfg, t, &e->addr, -1, reasons, &d, err);
        alert_put(a, "decision", json_string(screen_decision_name(d)), &ok);
        alert_put(a, "reasons", reasons, &ok);
        alert_push(addresses, a, &ok);
        if (d > *out)
            *out = d;
    }
    for (size_t i = 0; i < l.n; i++)
        json_decref(l.v[i].roles);
    free(l.v);
    alert_put(obj, "addresses", addresses, &ok);
    alert_put(obj, "reasons", json_array(), &ok); /* no tx-level findings for an account tx before broadcast */
    if (rc == CW_OK && !ok)
        rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "screen: out of memory");
    return rc;
}
