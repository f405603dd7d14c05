/*
 * coinjoin.h: is a Bitcoin transaction the work of several owners?
 *
 * Common-input-ownership clustering merges the addresses a tx spends from:
 * one owner signed all inputs. CoinJoins (Whirlpool, Wasabi, JoinMarket and
 * look-alikes) and PayJoins break that assumption on purpose, and merging
 * across them glues strangers into one cluster. The clusterer asks this
 * module first and does not merge the inputs of a tx classified as anything
 * but BTC_MP_NONE. PayJoin-like txs are reported only on request (below).
 *
 * The detector is pure: it reads a decoded cw_tx (chains/model.h) and
 * nothing else, does no I/O, no allocation, keeps no state, and touches no
 * globals (its tables are constants). It works on what it is given:
 * - Outputs (values, address kinds) are always known and carry most of the
 *   evidence.
 * - Inputs may or may not be resolved. Where `in->resolved` is set,
 *   `in->value` and `in->addr` are used; the value-based checks (Whirlpool
 *   input bounds, JoinMarket's input bound, PayJoin) run only when every
 *   input is resolved, and checks on input script kinds skip inputs whose
 *   kind cannot be told. For an unresolved input the kind is read from the
 *   spend when it is unmistakable (empty scriptSig and a [signature,
 *   33-byte key] witness is P2WPKH; a lone 64/65-byte witness item is a
 *   taproot key path; any scriptSig is not native segwit).
 *
 * Checks run from the most to the least specific; the first that holds
 * names the tx. The rules follow the published protocols and the scanner
 * rules of coinjoin measurement work (Dumplings, crocs-muni; the Samourai
 * CoinJoin Detection Heuristic), tightened where noted. Thresholds (sats;
 * 1 BTC = 100,000,000):
 *
 * BTC_MP_WHIRLPOOL  Samourai/Sparrow Whirlpool mix: n inputs and n outputs
 *   with n in 5..8 (5 until May 2023; "surge cycles" since allow 6..8),
 *   every output P2WPKH and equal to a pool denomination (100,000,
 *   1,000,000, 5,000,000 or 50,000,000). Known inputs must be P2WPKH and
 *   within [pool, pool + 110,000] (premixers carry their miner-fee share,
 *   at most 0.0011 BTC); with all inputs known, at least one is exactly the
 *   pool value (a remixer: every round has some).
 * BTC_MP_WASABI2  WabiSabi (Wasabi 2.x, and the coordinators that run its
 *   code): >= 20 inputs (rounds started at >= 50; later coordinators run
 *   smaller ones), outputs in non-increasing value order, more than 80% of
 *   them standard denominations (powers of 2, of 3, 2 x powers of 3, and
 *   1-2-5 x powers of 10, from 5,000 to 134,375,000,000), at least one
 *   denomination repeated, at least 80% of outputs P2WPKH/P2TR; known
 *   inputs P2WPKH/P2TR in non-increasing value order.
 * BTC_MP_WASABI1  ZeroLink (Wasabi 1.x): either an output pays one of the
 *   two published zkSNACKs coordinator addresses (2018-2019) with >= 3
 *   equal outputs, or >= 10 equal P2WPKH outputs within 0.1 BTC +- 0.02
 *   (the base denomination floated with the round), at least as many
 *   inputs as equal outputs, >= 2 outputs of unique value (coordinator fee
 *   and change), every output and known input P2WPKH.
 * BTC_MP_JOINMARKET  k >= 3 equal outputs above 10,000 as the only repeated
 *   value, n_out = 2k (every participant has change) or 2k-1 (the taker
 *   swept), the equal outputs at k distinct addresses, >= k inputs, no
 *   OP_RETURN. With every input known: >= k distinct input addresses, and
 *   no input larger than one participant's take (an equal output plus the
 *   largest change) plus the fee paid and 1% of the amount for maker fees.
 *   JoinMarket has no coordinator output, so 2k+1 is not its shape (it
 *   still meets the generic check below).
 * BTC_MP_EQUAL_OUTPUTS  any other equal-output join: k >= 3 outputs of one
 *   value above 10,000 at k distinct addresses, at least a third of all
 *   outputs, >= k inputs, no OP_RETURN; with every input known, >= k
 *   distinct input addresses (k participants have k addresses).
 *   Why 3: two equal outputs happen by chance (a payment that equals its
 *   change, a two-way split) and one-party batch payouts of a popular
 *   amount are common; three equal outputs from at least three inputs, as a
 *   large share of the outputs, is the smallest shape published joins use.
 *   Why above 10,000: values at or below are dust limits and token/ordinal
 *   postage (330, 546, 600, 1,000, 10,000) that one owner sends in equal
 *   batches.
 * BTC_MP_PAYJOIN  only with BTC_MP_PAYJOIN_GUARD (off by default; see
 *   "Why PayJoin is not skipped by default" below). Exactly 2 outputs,
 *   >= 2 inputs, every input known, the inputs at >= 2 distinct addresses
 *   of one address kind (BIP 78 receivers contribute inputs of the
 *   sender's kind), no output paying back to an input's address, and one
 *   input larger than every output: that input alone could have paid
 *   either output, so the others were unnecessary for a single owner (an
 *   "unnecessary input").
 *
 * Why PayJoin is not skipped by default. Common-input ownership (Meiklejohn
 * et al., "A Fistful of Bitcoins", IMC 2013, heuristic 1) is what joins a
 * designated wallet's addresses; every tx wrongly withheld from it leaves
 * that wallet split and its other addresses reading as clean, which a
 * sanctions screen must not do on a guess. The CoinJoin shapes above are
 * evidence: published protocols whose outputs no single payer makes (equal
 * denominations across many participants, coordinator fees, pool sizes;
 * ZeroLink by Ficsor/nopara73 for Wasabi 1, Samourai's Whirlpool,
 * JoinMarket, WabiSabi; the Dumplings scanner's rules follow the same
 * shapes). A PayJoin (BIP 78, "A Simple Payjoin Proposal", created
 * 2019-05-01, since deployed by BTCPay Server, JoinMarket, Wasabi,
 * BlueWallet and Sparrow) is by design a 2-output payment that looks like
 * any other: its only published on-chain tell is the unnecessary input
 * heuristic (UIH), i.e. an input the payment did not need. Ordinary wallets
 * make that shape constantly (coin selection that adds inputs it did not
 * need, spending every coin of an address, consolidating while paying);
 * Ghesmati, Kern, Judmayer, Stifter and Weippl ("Unnecessary Input
 * Heuristics and PayJoin Transactions", HCII 2021, ePrint 2022/589) study
 * how far ordinary multi-input 2-output txs resemble PayJoins under the UIH
 * because of naive coin selection, and Moser and Narayanan ("Resurrecting
 * Address Clustering in Bitcoin", FC 2022) show that change heuristics of
 * this kind (e.g. "optimal change") had not been validated against ground
 * truth and must be before a clustering relies on them. Issue 10 found the
 * shape in about 1.1% of all txs of mainnet blocks of 2018-2019, before BIP
 * 78 was written: false positives for all practical purposes. (The blocks in
 * ../shared/data hold too few of their prevouts for the check to run:
 * tests/chains/test_coinjoin.c, real_blocks_by_kind.) So one unnecessary input is
 * not evidence of two owners: by default such a tx is BTC_MP_NONE and its
 * inputs merge. A user who prefers incomplete clusters to the risk of gluing
 * a PayJoin receiver to its payer turns the guard on (flows config
 * payjoin_guard, CLI --payjoin-guard on); it then only withholds a merge (a
 * cluster less complete, never wrongly joined), and is counted as "payjoin"
 * in the replay summary. A PayJoin whose receiver picked its input well is
 * indistinguishable from a payment and is never found.
 *
 * Everything else is BTC_MP_NONE: ordinary payments, consolidations, batch
 * payouts of differing amounts, coinbases, and txs of other chains.
 */
#ifndef CW_BTC_COINJOIN_H
#define CW_BTC_COINJOIN_H

#include <stddef.h>

#include "chains/model.h"

typedef enum {
    BTC_MP_NONE = 0,
    BTC_MP_WASABI1,
    BTC_MP_WASABI2,
    BTC_MP_WHIRLPOOL,
    BTC_MP_JOINMARKET,
    BTC_MP_EQUAL_OUTPUTS,
    BTC_MP_PAYJOIN,
} btc_multiparty;

/* Enough for any `why` line this module writes. */
#define BTC_MP_WHY_MAX 160

/* Flags for btc_multiparty_detect_opts. */
#define BTC_MP_PAYJOIN_GUARD 0x1u /* also report the unnecessary-input shape as BTC_MP_PAYJOIN */

/* Classifies `tx` with the CoinJoin shapes only (flags 0): never returns
 * BTC_MP_PAYJOIN. When why != NULL and why_cap > 0, writes one line (NUL
 * terminated, cut to why_cap) naming the evidence, e.g. "5 inputs, 5 equal
 * outputs of 0.01 BTC (Whirlpool pool)"; "" for BTC_MP_NONE. Any tx is
 * accepted; a coinbase or a non-Bitcoin tx is BTC_MP_NONE. Cost is linear
 * in inputs and outputs, up to a copy-and-sort of the output values
 * (quadratic only above 2,048 outputs). */
btc_multiparty btc_multiparty_detect(const cw_tx *tx, char *why, size_t why_cap);

/* As btc_multiparty_detect, with `flags` (BTC_MP_PAYJOIN_GUARD); unknown
 * flag bits are ignored. */
btc_multiparty btc_multiparty_detect_opts(const cw_tx *tx, unsigned flags, char *why, size_t why_cap);

/* A short constant name: "none", "wasabi1", "wasabi2", "whirlpool",
 * "joinmarket", "equal_outputs", "payjoin"; "unknown" for other values. */
const char *btc_multiparty_name(btc_multiparty k);

#endif
