/*
 * hint.h: the address an input most likely spends from, read from the input
 * alone (scriptSig and witness), for when the prevout is not in the index.
 *
 * A hint is evidence, not proof: the resolver replaces it with the prevout's
 * real address when it has one. Recognised spends:
 *   P2PKH        scriptSig <sig> <pubkey>             -> HASH160(pubkey)
 *   P2SH-P2WPKH  scriptSig <0014{20}>, witness [sig, pk] -> P2SH(HASH160(push))
 *   P2SH-P2WSH   scriptSig <0020{32}>                 -> P2SH(HASH160(push))
 *   P2SH         scriptSig OP_0 <sig>... <redeemScript> -> P2SH(HASH160(script))
 *   P2WPKH       witness [sig, 33-byte pubkey]        -> HASH160(pubkey)
 *   P2WSH        witness [..., witnessScript]         -> SHA256(script)
 * Taproot key-path spends carry no key (the prevout is needed); script-path
 * spends are not derived here.
 */
#ifndef CW_BTC_HINT_H
#define CW_BTC_HINT_H

#include <stdbool.h>

#include "chains/model.h"

/* Fills *out and returns true when the input matches one of the spends above. */
bool btc_input_hint(const cw_txin *in, cw_net net, cw_addr *out);

#endif
