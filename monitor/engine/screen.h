/*
 * screen.h: the screening decision an exchange needs before crediting a
 * deposit or sending a withdrawal, for one address or one transaction, and
 * the JSON the screening verbs (`screen`, `cluster`, `trace`) share.
 *
 * Design note. Screening reads what the monitor wrote (watchlist, clusters,
 * exposure, the prevout index) inside the caller's read transaction and
 * writes nothing, so it runs beside a live `watch`. The tx-level findings
 * come from flows_tx without a journal: the analysis the pipeline makes for
 * a mempool tx, so a screen and the monitor's records cannot disagree. A
 * cluster or exposure whose designated source is no longer listed (a newer
 * import delisted it) is not reported, as the pipeline does not record it.
 *
 * Decisions, least severe first: allow, review, hold, block. Each reason
 * carries the decision it calls for; an address's decision is its most
 * severe reason's (allow when it has none), a tx's the most severe of its
 * own findings and of every address it touches.
 *
 *   designated  the address is listed                                  block
 *   key_linked  a key-linked form of a listed key (same key, another
 *               address type)                                          hold
 *   cluster     a member of a cluster with designated members that
 *               still propagates (cluster_propagates)                       hold
 *               ... one that stopped (service, supercluster): shown    allow
 *   exposure    received designated money within cfg->hops hops
 *               (exposure_address_get). With an amount: the tainted
 *               received share of it (capped at 100%) at or above
 *               cfg->hold_share_ppm: hold; at or above
 *               cfg->min_share_ppm: review; below: shown, allow.
 *               Without an amount: closest payment 1 hop: hold,
 *               more: review.
 *   service     a labelled service (cfg->labels): shown               allow
 *
 * A tx adds its own findings (flows_tx): a cluster hit (paying from or to
 * a member of a designated cluster) holds; an output's exposure holds at or
 * above cfg->hold_share_ppm of the output, else is reviewed.
 *
 * All JSON here is built as jansson values holding integers only, so
 * alert_canonical (the one writer's canonical form) prints it.
 */
#ifndef CW_SCREEN_H
#define CW_SCREEN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "chains/model.h"
#include "decode_eth.h"
#include "flows.h"
#include "watchlists/cluster.h"
#include "watchlists/exposure.h"
#include "watchlists/store/store.h"

typedef enum { SCREEN_ALLOW = 0, SCREEN_REVIEW, SCREEN_HOLD, SCREEN_BLOCK } screen_decision;

/* "allow", "review", "hold", "block". */
const char *screen_decision_name(screen_decision d);

/* How far the monitor's knowledge goes: {height, hash} of the connected
 * tip, or null when nothing is connected (a screen then knows the
 * watchlist only). */
cw_code screen_tip_json(store_txn *t, json_t **out, cw_err *err);

/* The entity of one designation as alert records render it: {uid, source,
 * name, list, programs, designated}; fields the store lacks are null (an
 * empty programs array). Never NULL except out of memory. A store error
 * reading the record (not its absence) sets *rc (when still CW_OK) and err:
 * the caller must fail rather than show the nulls. Known gap: a stored
 * record that is not JSON also gives the nulls, with *rc left CW_OK (the
 * pipeline's own reader refuses it as damage). The caller owns the
 * returned object. */
json_t *screen_entity_json(store_txn *t, const char *source, const char *uid, cw_code *rc, cw_err *err);

/* The entity of key's first designation into *out (the caller's), or NULL
 * when key is not listed. Store errors are returned, never read as "not
 * listed". */
cw_code screen_key_entity(store_txn *t, const uint8_t *key, size_t klen, json_t **out, cw_err *err);

/* A key's address text ("" for a key that has none) into out[cap]. */
const char *screen_key_text(const uint8_t *key, size_t klen, char *out, size_t cap);

/* Sets on obj what a cluster is: root, size, merged (false: the address
 * never shared a tx's inputs), designated_count, designated_member
 * ({address, entity, joined_by} or null), flags (["service",
 * "supercluster"]), propagates, note (why propagation stops, or null),
 * service (its label or null), last_merge_txid, joined_by (the tx that
 * joined the address, null for a root) and sample (member addresses).
 * `join` is what cluster_find gave for the address. Reads the designated
 * member's designation and join tx, and copies that tx (zero: none) to
 * designated_join when not NULL; store errors are returned. */
cw_code screen_cluster_fields(store_txn *t, const cluster_info *c, const uint8_t join[32], json_t *obj,
                              uint8_t designated_join[32], cw_err *err);

/* Sets on obj an address's exposure: hops (of its closest payment),
 * tainted_received, payments, closest_amount, source_address and path
 * (txids from the designated source to the address, in order). CW_OK, or
 * CW_ENOMEM when a field could not be made (obj is then incomplete: drop
 * it, never print it). Every builder here fails the same way. */
cw_code screen_exposure_fields(const exposure_address *e, json_t *obj, cw_err *err);

/* The designated and key_linked reasons of an address alone (one per
 * designation), as screen_address gives them. */
cw_code screen_designations(store_txn *t, const cw_addr *a, json_t *reasons, screen_decision *out, cw_err *err);

/* Screens one address (chain-neutral: EVM and Tron keys find their
 * designations; clusters and exposure exist for Bitcoin). amount: the
 * satoshis at stake, or -1 for none. Appends one object per reason to
 * `reasons` (a JSON array) and sets *out to the decision. Errors: the
 * store's (CW_ESTORE; CW_EDAMAGED for a damaged record), CW_ENOMEM. */
cw_code screen_address(const flows_config *cfg, store_txn *t, const cw_addr *a, int64_t amount, json_t *reasons,
                       screen_decision *out, cw_err *err);

/* Screens a decoded tx: resolves its inputs from the prevout index (inputs
 * it lacks fall back to the scriptSig/witness hint), screens every distinct
 * input and output address (with its value in the tx as the amount when
 * known), runs flows_tx read-only for the tx's own findings, and sets on obj
 * subject (txid), addresses ([{address, inputs, outputs, amount_in,
 * amount_out, resolved, decision, reasons}]) and reasons (the tx's
 * findings). *out is the most severe decision of all. cfg must be enabled. */
cw_code screen_tx(const flows_config *cfg, store_txn *t, cw_tx *tx, json_t *obj, screen_decision *out, cw_err *err);

/* Screens an account-chain tx (Tron today; any cw_tx whose value moves as
 * transfers, chains/model.h): every distinct address it names, the
 * signer, each transfer's from and to (a TRC-20 call's recipient from its
 * calldata, never the contract called), is screened as screen_address
 * does with no amount (account-chain exposure is not kept), and sets on
 * obj subject (the txid as the node prints it), transfers ([{kind, from,
 * to, asset_kind, asset, amount}], amounts exact decimal strings),
 * addresses ([{address, roles ("signer", "from", "to"), decision,
 * reasons}]) and reasons (the tx's own findings: none for account
 * chains). signer may be NULL. *out is the most severe decision. Errors as
 * screen_address's. */
cw_code screen_account_tx(const flows_config *cfg, store_txn *t, const cw_tx *tx, const cw_addr *signer, json_t *obj,
                          screen_decision *out, cw_err *err);

/* Most authorizations screen_eth_tx takes: each costs 25000 gas, so 2048
 * need 51M gas, above any Ethereum block (and EIP-7825's 2^24 per tx). */
#define SCREEN_ETH_AUTH_MAX 2048
/* Largest chain id screen_eth_tx answers for: its answer's integers are
 * jansson's (signed 64-bit); EIP-2294 bounds chain ids below this anyway. */
#define SCREEN_ETH_CHAIN_ID_MAX INT64_MAX

/* The trace of one address (`chainwatch trace`, and the review console's
 * graph): into tr (the caller's object) address, hops_limit, tip,
 * designations, exposed, beyond_hops, exposure (the closest tainted
 * payment: source_address, source_entity, path of txids, hops, amounts;
 * or null), cluster (when it has designated members; else null),
 * patterns (a Bitcoin address: the pattern rules' stats of it, payers,
 * pooled payouts, rules fired and risk, rules_address_json; or null) and a
 * one-line summary. Read only; store errors are returned. */
cw_code screen_trace(store_txn *t, const cw_addr *a, unsigned hops, json_t *tr, cw_err *err);
/* "Name (PROGRAM, PROGRAM)" of an entity object, or "no longer listed". */
void screen_entity_text(const json_t *entity, char *out, size_t cap);
/* Screens a signed Ethereum tx before broadcast (screen_eth.c): every
 * distinct address it touches, screened with screen_address (no amount):
 * the sender, `to`, an ERC-20 call's from and recipient, a type 4 tx's
 * authorities and delegates, each with its roles ("sender", "to" or
 * "token_contract", "token_from", "token_recipient", "authority",
 * "delegate"). Sets on obj subject (the tx hash), chain, chain_id, from,
 * to, value (wei), token (as `decode` shows it, or null), addresses
 * ([{address, roles, decision, reasons}]), reasons (empty: an account tx
 * has no tx-level findings here) and, for type 4,
 * authorizations_unrecovered. *out is the most severe decision. Store
 * errors are returned, never read as allow; a tx with more than
 * SCREEN_ETH_AUTH_MAX authorizations or a chain id above
 * SCREEN_ETH_CHAIN_ID_MAX is CW_ELIMIT (not screened). */
cw_code screen_eth_tx(const flows_config *cfg, store_txn *t, const eth_view *v, json_t *obj, screen_decision *out,
                      cw_err *err);

/* What screen_answer screens: an address (addr), a decoded Bitcoin tx
 * (tx, of network net), a decoded Ethereum tx (eth) or a decoded
 * account-chain tx (acct: a signed Tron tx's, chain acct->chain, with its
 * recovered signer acct_signer, NULL when unknown); exactly one of addr,
 * tx, eth and acct is set. amount: satoshis at stake, -1 for none
 * (Bitcoin addresses only); direction: "deposit", "withdrawal" or NULL.
 * tokens: the known tokens (watchlists/tokens.h) the pattern rules name
 * and price an eth or acct tx's token transfer by (a stablecoin 1:1), or
 * NULL: none known, a token transfer is then not scored (rules.h). */
typedef struct {
    const cw_addr *addr;
    cw_tx *tx;
    const eth_view *eth;
    const cw_tx *acct;
    const cw_addr *acct_signer;
    cw_net net;
    int64_t amount;
    const char *direction;
    const tokens_table *tokens;
} screen_subject;

/* The policy an answer was made under: {hops, min_share_ppm, min_amount,
 * hold_share_ppm, labels}. NULL when out of memory. */
json_t *screen_policy_json(const flows_config *cfg);

/* The one answer of `chainwatch screen` and the API's POST /v1/screen, so
 * both say the same: {type ("address"|"tx"), subject, chain (address,
 * Ethereum or account-chain tx) or network (Bitcoin tx), reasons, (tx:
 * addresses, and what screen_tx, screen_eth_tx or screen_account_tx
 * set), patterns (the pattern rules, read only: an address's stats or
 * null; a tx's findings as if it confirmed now, an array of {rule,
 * address, risk, evidence, explanation}: a Bitcoin tx's by rules_tx, an
 * Ethereum or account-chain tx's by rules_account_raw_tx, its transfers
 * being its value and the token call in its calldata), tip,
 * direction, amount, decision (a pattern risk of high or severe holds,
 * medium reviews), policy}, into *out (the caller's), and the
 * decision into *d. Errors: the store's (never a partial answer),
 * CW_ENOMEM, and wl_require_imported's CW_ENOTFOUND for a store no
 * watchlist was ever imported into (no answer rather than "allow"). */
cw_code screen_answer(const flows_config *cfg, store_txn *t, const screen_subject *s, json_t **out, screen_decision *d,
                      cw_err *err);

#endif
