#include "tx.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/ecrecover.h"
#include "chains/ethereum/erc20.h"
#include "chains/hash.h"
#include "pb.h"

static const struct {
    uint32_t type;
    const char *name;
} contract_types[] = {
    {0, "AccountCreateContract"}, {1, "TransferContract"}, {2, "TransferAssetContract"},
    {3, "VoteAssetContract"}, {4, "VoteWitnessContract"}, {5, "WitnessCreateContract"},
    {6, "AssetIssueContract"}, {8, "WitnessUpdateContract"}, {9, "ParticipateAssetIssueContract"},
    {10, "AccountUpdateContract"}, {11, "FreezeBalanceContract"}, {12, "UnfreezeBalanceContract"},
    {13, "WithdrawBalanceContract"}, {14, "UnfreezeAssetContract"}, {15, "UpdateAssetContract"},
    {16, "ProposalCreateContract"}, {17, "ProposalApproveContract"}, {18, "ProposalDeleteContract"},
    {19, "SetAccountIdContract"}, {20, "CustomContract"}, {30, "CreateSmartContract"},
    {31, "TriggerSmartContract"}, {32, "GetContract"}, {33, "UpdateSettingContract"},
    {41, "ExchangeCreateContract"}, {42, "ExchangeInjectContract"}, {43, "ExchangeWithdrawContract"},
    {44, "ExchangeTransactionContract"}, {45, "UpdateEnergyLimitContract"},
    {46, "AccountPermissionUpdateContract"}, {48, "ClearABIContract"}, {49, "UpdateBrokerageContract"},
    {51, "ShieldedTransferContract"}, {52, "MarketSellAssetContract"}, {53, "MarketCancelOrderContract"},
    {54, "FreezeBalanceV2Contract"}, {55, "UnfreezeBalanceV2Contract"}, {56, "WithdrawExpireUnfreezeContract"},
    {57, "DelegateResourceContract"}, {58, "UnDelegateResourceContract"}, {59, "CancelAllUnfreezeV2Contract"},
};

const char *tron_contract_type_name(uint32_t type)
{
    for (size_t i = 0; i < sizeof contract_types / sizeof *contract_types; i++)
        if (contract_types[i].type == type)
            return contract_types[i].name;
    return NULL;
}

bool tron_contract_type_from_name(const char *name, uint32_t *type)
{
    for (size_t i = 0; i < sizeof contract_types / sizeof *contract_types; i++)
        if (strcmp(contract_types[i].name, name) == 0) {
            *type = contract_types[i].type;
            return true;
        }
    return false;
}

void tron_addr(cw_addr *a, const uint8_t acct[20])
{
    cw_addr_set(a, CW_CHAIN_TRON, CW_NET_MAIN, CW_ADDR_TRON, 0, acct, 20);
}

/* ---- field readers: each names the message and field in its errors ---- */

static cw_code want_wire(const tron_pb_field *f, uint8_t wire, const char *msg, const char *field, cw_err *err)
{
    if (f->wire == wire)
        return CW_OK;
    return cw_err_set(err, CW_EFORMAT, f->at, "%s.%s at byte %zu: wire type %u, expected %s", msg, field, f->at,
                      f->wire, wire == TRON_PB_LEN ? "bytes (2)" : "varint (0)");
}

/* Marks field `num` seen (bit in *seen); a second one is refused: two
 * values, and readers that take the first or the last would disagree. */
static cw_code once(uint64_t *seen, const tron_pb_field *f, const char *msg, const char *field, cw_err *err)
{
    uint64_t bit = 1ull << (f->num & 63);
    if (*seen & bit)
        return cw_err_set(err, CW_EFORMAT, f->at, "%s.%s at byte %zu is repeated", msg, field, f->at);
    *seen |= bit;
    return CW_OK;
}

static cw_code read_addr(const tron_pb_field *f, const char *msg, const char *field, uint8_t out[20], cw_err *err)
{
    cw_code rc = want_wire(f, TRON_PB_LEN, msg, field, err);
    if (rc)
        return rc;
    if (f->bytes.n != 21 || f->bytes.p[0] != 0x41)
        return cw_err_set(err, CW_EFORMAT, f->bytes_at,
                          "%s.%s at byte %zu: %zu bytes%s, expected 21 bytes starting 0x41", msg, field, f->at,
                          f->bytes.n, f->bytes.n == 21 ? " not starting 0x41" : "");
    memcpy(out, f->bytes.p + 1, 20);
    return CW_OK;
}

/* An int64 field that must not be negative (amounts, values). */
static cw_code read_amount(const tron_pb_field *f, const char *msg, const char *field, uint64_t *out, cw_err *err)
{
    cw_code rc = want_wire(f, TRON_PB_VARINT, msg, field, err);
    if (rc)
        return rc;
    if (f->v > (uint64_t)INT64_MAX)
        return cw_err_set(err, CW_EFORMAT, f->at, "%s.%s at byte %zu is negative", msg, field, f->at);
    *out = f->v;
    return CW_OK;
}

/* TRC-10 ids are decimal text (allowSameTokenName); 1000001 and up. */
cw_code tron_asset_id_parse(const uint8_t *p, size_t n, size_t at, const char *what, uint64_t *out, cw_err *err)
{
    uint64_t v = 0;
    if (n == 0 || n > 19 || p[0] == '0')
        return cw_err_set(err, CW_EFORMAT, at, "%s at byte %zu is not a TRC-10 id (decimal text, 1 to 19 digits)",
                          what, at);
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return cw_err_set(err, CW_EFORMAT, at + i,
                              "%s at byte %zu is not a TRC-10 id: byte %zu is not a digit (a token name from before "
                              "allowSameTokenName?)",
                              what, at, at + i);
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return CW_OK;
}

/* ---- the value-moving contracts: one loop, a field table each ---- */

typedef enum {
    FIELD_ADDR,     /* 21 bytes starting 0x41 -> uint8_t[20] (read_addr) */
    FIELD_AMOUNT,   /* non-negative int64 -> uint64_t (read_amount) */
    FIELD_BYTES,    /* bytes -> cw_span into the input */
    FIELD_ASSET_ID, /* a TRC-10 id as decimal text -> uint64_t */
} field_kind;

#define NO_FLAG SIZE_MAX

typedef struct {
    uint32_t num;
    field_kind kind;
    const char *name;
    size_t off;     /* offsetof(tron_raw, where the value goes) */
    size_t has_off; /* offsetof(tron_raw, its bool has_ flag), or NO_FLAG */
    bool required;  /* "has no <name>" when absent: named in table order */
} field_spec;

typedef struct {
    const char *msg;
    const field_spec *fields;
    size_t n;
} message_spec;

#define FIELDS(msg, table) {msg, table, sizeof table / sizeof *table}
#define AT(member) offsetof(tron_raw, member)

static const field_spec transfer_fields[] = {
    {1, FIELD_ADDR, "owner_address", AT(owner), AT(has_owner), true},
    {2, FIELD_ADDR, "to_address", AT(to), AT(has_to), true},
    {3, FIELD_AMOUNT, "amount", AT(amount), NO_FLAG, false},
};
static const field_spec transfer_asset_fields[] = {
    {1, FIELD_ASSET_ID, "asset_name", AT(asset_id), NO_FLAG, true},
    {2, FIELD_ADDR, "owner_address", AT(owner), AT(has_owner), true},
    {3, FIELD_ADDR, "to_address", AT(to), AT(has_to), true},
    {4, FIELD_AMOUNT, "amount", AT(amount), NO_FLAG, false},
};
static const field_spec trigger_fields[] = {
    {1, FIELD_ADDR, "owner_address", AT(owner), AT(has_owner), true},
    {2, FIELD_ADDR, "contract_address", AT(contract), AT(has_contract), true},
    {3, FIELD_AMOUNT, "call_value", AT(call_value), NO_FLAG, false},
    {4, FIELD_BYTES, "data", AT(call_data), NO_FLAG, false},
    {5, FIELD_AMOUNT, "call_token_value", AT(call_token_value), NO_FLAG, false},
    {6, FIELD_AMOUNT, "token_id", AT(token_id), NO_FLAG, false},
};
static const message_spec transfer_msg = FIELDS("TransferContract", transfer_fields);
static const message_spec transfer_asset_msg = FIELDS("TransferAssetContract", transfer_asset_fields);
static const message_spec trigger_msg = FIELDS("TriggerSmartContract", trigger_fields);

static cw_code read_field(const message_spec *m, const field_spec *fs, const tron_pb_field *f, tron_raw *out,
                          cw_err *err)
{
    void *dst = (char *)out + fs->off;
    cw_code rc;
    switch (fs->kind) {
    case FIELD_ADDR: return read_addr(f, m->msg, fs->name, dst, err);
    case FIELD_AMOUNT: return read_amount(f, m->msg, fs->name, dst, err);
    case FIELD_BYTES:
        if (!(rc = want_wire(f, TRON_PB_LEN, m->msg, fs->name, err)))
            *(cw_span *)dst = f->bytes;
        return rc;
    case FIELD_ASSET_ID: {
        if ((rc = want_wire(f, TRON_PB_LEN, m->msg, fs->name, err)))
            return rc;
        char what[64];
        snprintf(what, sizeof what, "%s.%s", m->msg, fs->name);
        return tron_asset_id_parse(f->bytes.p, f->bytes.n, f->bytes_at, what, dst, err);
    }
    }
    return cw_err_set(err, CW_EFORMAT, f->at, "%s.%s: no reader", m->msg, fs->name); /* not reached */
}

/* Reads message r by m's table: every field known and singular, each
 * value read into out; then the required ones present. */
static cw_code parse_fields(tron_pb *r, const message_spec *m, tron_raw *out, cw_err *err)
{
    uint64_t seen = 0;
    tron_pb_field f;
    bool done;
    cw_code rc;
    while (!(rc = tron_pb_next(r, &f, &done, err)) && !done) {
        const field_spec *fs = NULL;
        for (size_t i = 0; i < m->n && !fs; i++)
            if (m->fields[i].num == f.num)
                fs = &m->fields[i];
        if (!fs)
            return cw_err_set(err, CW_EFORMAT, f.at, "%s: unknown field %u at byte %zu", m->msg, f.num, f.at);
        if (!(rc = once(&seen, &f, m->msg, fs->name, err)))
            rc = read_field(m, fs, &f, out, err);
        if (fs->has_off != NO_FLAG)
            *(bool *)((char *)out + fs->has_off) = true;
        if (rc)
            return rc;
    }
    if (rc)
        return rc;
    for (size_t i = 0; i < m->n; i++)
        if (m->fields[i].required && !(seen & 1ull << (m->fields[i].num & 63)))
            return cw_err_set(err, CW_EFORMAT, r->base, "%s at byte %zu has no %s", m->msg, r->base,
                              m->fields[i].name);
    return CW_OK;
}

/* Another contract type: only its owner (field 1, when it is an address). */
static cw_code parse_other(tron_pb *r, tron_raw *out, cw_err *err)
{
    tron_pb_field f;
    bool done;
    cw_code rc;
    while (!(rc = tron_pb_next(r, &f, &done, err)) && !done)
        if (f.num == 1 && f.wire == TRON_PB_LEN && f.bytes.n == 21 && f.bytes.p[0] == 0x41 && !out->has_owner) {
            memcpy(out->owner, f.bytes.p + 1, 20);
            out->has_owner = true;
        }
    return rc;
}

/* google.protobuf.Any: type_url (1) and value (2). */
static cw_code parse_any(const tron_pb_field *pf, tron_raw *out, cw_err *err)
{
    static const char M[] = "Contract.parameter";
    tron_pb r;
    tron_pb_init(&r, pf->bytes.p, pf->bytes.n, pf->bytes_at);
    uint64_t seen = 0;
    tron_pb_field f, url = {0}, value = {0};
    bool done, has_url = false, has_value = false;
    cw_code rc;
    while (!(rc = tron_pb_next(&r, &f, &done, err)) && !done) {
        if (f.num == 1) {
            if ((rc = once(&seen, &f, M, "type_url", err)) || (rc = want_wire(&f, TRON_PB_LEN, M, "type_url", err)))
                return rc;
            url = f, has_url = true;
        } else if (f.num == 2) {
            if ((rc = once(&seen, &f, M, "value", err)) || (rc = want_wire(&f, TRON_PB_LEN, M, "value", err)))
                return rc;
            value = f, has_value = true;
        } else {
            return cw_err_set(err, CW_EFORMAT, f.at, "%s: unknown field %u at byte %zu", M, f.num, f.at);
        }
    }
    if (rc)
        return rc;
    if (!has_url || !has_value)
        return cw_err_set(err, CW_EFORMAT, pf->at, "%s at byte %zu has no %s", M, pf->at,
                          has_url ? "value" : "type_url");
    const char *name = tron_contract_type_name(out->contract_type);
    static const char prefix[] = "type.googleapis.com/protocol.";
    size_t pl = sizeof prefix - 1;
    if (name && (url.bytes.n != pl + strlen(name) || memcmp(url.bytes.p, prefix, pl) != 0 ||
                 memcmp(url.bytes.p + pl, name, strlen(name)) != 0))
        return cw_err_set(err, CW_EFORMAT, url.bytes_at,
                          "%s.type_url at byte %zu does not name %s, the contract's type (%u)", M, url.at, name,
                          out->contract_type);
    tron_pb v;
    tron_pb_init(&v, value.bytes.p, value.bytes.n, value.bytes_at);
    switch (out->contract_type) {
    case TRON_CT_TRANSFER: return parse_fields(&v, &transfer_msg, out, err);
    case TRON_CT_TRANSFER_ASSET: return parse_fields(&v, &transfer_asset_msg, out, err);
    case TRON_CT_TRIGGER_SMART: return parse_fields(&v, &trigger_msg, out, err);
    default: return parse_other(&v, out, err);
    }
}

static cw_code parse_contract(const tron_pb_field *cf, tron_raw *out, cw_err *err)
{
    static const char M[] = "Transaction.Contract";
    tron_pb r;
    tron_pb_init(&r, cf->bytes.p, cf->bytes.n, cf->bytes_at);
    uint64_t seen = 0;
    tron_pb_field f, param = {0};
    bool done, has_param = false;
    cw_code rc;
    while (!(rc = tron_pb_next(&r, &f, &done, err)) && !done) {
        switch (f.num) {
        case 1:
            if ((rc = once(&seen, &f, M, "type", err)) || (rc = want_wire(&f, TRON_PB_VARINT, M, "type", err)))
                return rc;
            if (f.v > UINT32_MAX)
                return cw_err_set(err, CW_EFORMAT, f.at, "%s.type at byte %zu is out of range", M, f.at);
            out->contract_type = (uint32_t)f.v;
            break;
        case 2:
            if ((rc = once(&seen, &f, M, "parameter", err)) || (rc = want_wire(&f, TRON_PB_LEN, M, "parameter", err)))
                return rc;
            param = f, has_param = true;
            break;
        case 3: /* provider */
        case 4: /* ContractName */
            if ((rc = want_wire(&f, TRON_PB_LEN, M, f.num == 3 ? "provider" : "ContractName", err)))
                return rc;
            break;
        case 5:
            if ((rc = once(&seen, &f, M, "Permission_id", err)) ||
                (rc = want_wire(&f, TRON_PB_VARINT, M, "Permission_id", err)))
                return rc;
            if (f.v > INT32_MAX)
                return cw_err_set(err, CW_EFORMAT, f.at, "%s.Permission_id at byte %zu is out of range", M, f.at);
            out->permission_id = (uint32_t)f.v;
            break;
        default:
            return cw_err_set(err, CW_EFORMAT, f.at, "%s: unknown field %u at byte %zu", M, f.num, f.at);
        }
    }
    if (rc)
        return rc;
    if (!has_param)
        return cw_err_set(err, CW_EFORMAT, cf->at, "%s at byte %zu has no parameter", M, cf->at);
    return parse_any(&param, out, err); /* after the loop: the type may follow the parameter */
}

static cw_code read_i64(const tron_pb_field *f, const char *field, int64_t *out, cw_err *err)
{
    cw_code rc = want_wire(f, TRON_PB_VARINT, "Transaction.raw", field, err);
    if (rc == CW_OK)
        *out = (int64_t)f->v;
    return rc;
}

cw_code tron_raw_parse(const uint8_t *raw, size_t n, tron_raw *out, cw_err *err)
{
    static const char M[] = "Transaction.raw";
    memset(out, 0, sizeof *out);
    if (n == 0)
        return cw_err_set(err, CW_ETRUNC, 0, "%s: no bytes", M);
    if (n > TRON_RAW_MAX)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "%s: %zu bytes, over java-tron's limit of %u", M, n,
                          TRON_RAW_MAX);
    out->raw = (cw_span){raw, n};
    tron_pb r;
    tron_pb_init(&r, raw, n, 0);
    uint64_t seen = 0;
    tron_pb_field f, contract = {0};
    size_t n_contract = 0;
    bool done;
    cw_code rc;
    while (!(rc = tron_pb_next(&r, &f, &done, err)) && !done) {
        switch (f.num) {
        case 1:
            if (!(rc = once(&seen, &f, M, "ref_block_bytes", err)) &&
                !(rc = want_wire(&f, TRON_PB_LEN, M, "ref_block_bytes", err)))
                out->ref_block_bytes = f.bytes;
            break;
        case 3: /* ref_block_num */
            if (!(rc = once(&seen, &f, M, "ref_block_num", err)))
                rc = want_wire(&f, TRON_PB_VARINT, M, "ref_block_num", err);
            break;
        case 4:
            if (!(rc = once(&seen, &f, M, "ref_block_hash", err)) &&
                !(rc = want_wire(&f, TRON_PB_LEN, M, "ref_block_hash", err)))
                out->ref_block_hash = f.bytes;
            break;
        case 8:
            if (!(rc = once(&seen, &f, M, "expiration", err)))
                rc = read_i64(&f, "expiration", &out->expiration, err);
            break;
        case 9:  /* auths (repeated) */
        case 12: /* scripts */
            rc = want_wire(&f, TRON_PB_LEN, M, f.num == 9 ? "auths" : "scripts", err);
            break;
        case 10:
            if (!(rc = once(&seen, &f, M, "data", err)) && !(rc = want_wire(&f, TRON_PB_LEN, M, "data", err)))
                out->memo = f.bytes;
            break;
        case 11:
            if (!(rc = want_wire(&f, TRON_PB_LEN, M, "contract", err))) {
                if (++n_contract > 1)
                    rc = cw_err_set(err, CW_EFORMAT, f.at, "%s at byte %zu: a second contract (java-tron takes one)",
                                    M, f.at);
                contract = f;
            }
            break;
        case 14:
            if (!(rc = once(&seen, &f, M, "timestamp", err)))
                rc = read_i64(&f, "timestamp", &out->timestamp, err);
            break;
        case 18:
            if (!(rc = once(&seen, &f, M, "fee_limit", err)))
                rc = read_i64(&f, "fee_limit", &out->fee_limit, err);
            break;
        default:
            rc = cw_err_set(err, CW_EFORMAT, f.at, "%s: unknown field %u at byte %zu", M, f.num, f.at);
        }
        if (rc)
            return rc;
    }
    if (rc)
        return rc;
    if (n_contract == 0)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s has no contract", M);
    if ((rc = parse_contract(&contract, out, err)))
        return rc;
    cw_sha256(raw, n, out->txid);
    return CW_OK;
}

cw_code tron_sig_recover(const tron_raw *r, const uint8_t *sig, size_t n, uint8_t signer[20], cw_err *err)
{
    if (n != TRON_SIG_LEN)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "signature: %zu bytes, expected %d (r, s, v)", n,
                          TRON_SIG_LEN);
    int v = sig[64];
    if (v >= 27)
        v -= 27;
    if (v != 0 && v != 1)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "signature: v is %u, expected 0, 1, 27 or 28", sig[64]);
    return cw_ecrecover(r->txid, sig, v, signer, NULL, err);
}

cw_code tron_raw_check_signer(const tron_raw *r, const uint8_t *sig, size_t n, uint8_t signer[20], cw_err *err)
{
    cw_code rc = tron_sig_recover(r, sig, n, signer, err);
    if (rc)
        return rc;
    if (r->has_owner && memcmp(signer, r->owner, 20) == 0)
        return CW_OK;
    cw_addr s, o;
    char st[CW_ADDR_TEXT_MAX], ot[CW_ADDR_TEXT_MAX] = "(none)";
    tron_addr(&s, signer);
    cw_addr_format(&s, st, sizeof st);
    if (r->has_owner) {
        tron_addr(&o, r->owner);
        cw_addr_format(&o, ot, sizeof ot);
    }
    return cw_err_set(err, CW_ECHECKSUM, CW_NO_OFFSET,
                      "signature: signed by %s, not by the owner %s in the signed bytes%s", st, ot,
                      r->permission_id ? " (a multi-signature permission: not supported)" : "");
}

/* The next transfer of xf: from -> to, amount; asset native unless set after. */
static cw_transfer *xfer_add(cw_transfer *xf, size_t *n, cw_xfer_kind kind, const uint8_t from[20],
                             const uint8_t to[20], uint64_t amount)
{
    cw_transfer *t = &xf[(*n)++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    tron_addr(&t->from, from);
    tron_addr(&t->to, to);
    cw_u256_set_u64(&t->amount, amount);
    return t;
}

cw_code tron_raw_transfers(const tron_raw *r, bool calldata, cw_transfer *xf, size_t *n, cw_err *err)
{
    *n = 0;
    cw_transfer *t;
    switch (r->contract_type) {
    case TRON_CT_TRANSFER:
        xfer_add(xf, n, CW_XFER_VALUE, r->owner, r->to, r->amount);
        return CW_OK;
    case TRON_CT_TRANSFER_ASSET:
        t = xfer_add(xf, n, CW_XFER_TRC10, r->owner, r->to, r->amount);
        t->asset.kind = CW_ASSET_TRC10;
        t->asset.id = r->asset_id;
        return CW_OK;
    case TRON_CT_TRIGGER_SMART: {
        if (r->call_value)
            xfer_add(xf, n, CW_XFER_VALUE, r->owner, r->contract, r->call_value);
        if (r->call_token_value) {
            t = xfer_add(xf, n, CW_XFER_TRC10, r->owner, r->contract, r->call_token_value);
            t->asset.kind = CW_ASSET_TRC10;
            t->asset.id = r->token_id;
        }
        if (!calldata)
            return CW_OK;
        erc20_call c;
        cw_code rc = erc20_call_decode(r->call_data, CW_CHAIN_TRON, &c, err);
        if (rc)
            return cw_err_prefix(err, rc, "TriggerSmartContract.data");
        if (c.kind != ERC20_CALL_NONE) {
            cw_addr sender, contract;
            tron_addr(&sender, r->owner);
            tron_addr(&contract, r->contract);
            erc20_call_to_transfer(&c, &sender, &contract, &xf[(*n)++]);
        }
        return CW_OK;
    }
    default:
        return CW_OK;
    }
}

void tron_tx_init(cw_tx *tx, const tron_raw *r, cw_transfer *xf, size_t n_xfer)
{
    memset(tx, 0, sizeof *tx);
    tx->chain = CW_CHAIN_TRON;
    tx->net = CW_NET_MAIN;
    memcpy(tx->txid, r->txid, 32);
    memcpy(tx->wtxid, r->txid, 32);
    tx->raw = r->raw;
    tx->size = tx->base_size = r->raw.n;
    tx->xfer = xf;
    tx->n_xfer = n_xfer;
}
