/* psbt.c: strict BIP-174 (version 0) reader (psbt.h). */
#include "psbt.h"

#include <stdio.h>
#include <string.h>

#include "chains/hex.h"
#include "reader.h"
#include "script.h"
#include "tx.h"

#define PSBT_MAX_PAIRS 1000 /* per map: bounds the duplicate-key check */

size_t btc_psbt_arena_bound(size_t len) { return 2 * btc_arena_bound(len); }

typedef struct {
    size_t key_at, klen, val_at, vlen;
} pair;

/* The next key-value pair of the map at r; *end true at its 0x00
 * separator. */
static cw_code next_pair(btc_reader *r, pair *p, bool *end, const char *map)
{
    uint64_t kl = 0, vl = 0;
    size_t at = r->pos;
    if (btc_read_compact(r, &kl, "key length"))
        return cw_err_prefix(r->err, r->err ? r->err->code : CW_ETRUNC, "%s", map);
    if (kl == 0) {
        *end = true;
        return CW_OK;
    }
    *end = false;
    if (btc_left(r) < kl)
        return cw_err_set(r->err, CW_ETRUNC, at, "%s: byte %zu: a key of %llu bytes, %zu left", map, at,
                          (unsigned long long)kl, btc_left(r));
    p->key_at = r->pos;
    p->klen = (size_t)kl;
    r->pos += (size_t)kl;
    at = r->pos;
    if (btc_read_compact(r, &vl, "value length"))
        return cw_err_prefix(r->err, r->err ? r->err->code : CW_ETRUNC, "%s", map);
    if (btc_left(r) < vl)
        return cw_err_set(r->err, CW_ETRUNC, at, "%s: byte %zu: a value of %llu bytes, %zu left", map, at,
                          (unsigned long long)vl, btc_left(r));
    p->val_at = r->pos;
    p->vlen = (size_t)vl;
    r->pos += (size_t)vl;
    return CW_OK;
}

/* Was p's key given before in the map that started at map_at? */
static bool duplicate(const uint8_t *buf, size_t map_at, const pair *p)
{
    btc_reader r = {buf, map_at, p->key_at, NULL};
    pair q = {0};
    bool end = false;
    while (r.pos < p->key_at) {
        size_t before = r.pos;
        if (next_pair(&r, &q, &end, "") || end)
            return false;
        if (q.key_at >= p->key_at)
            return false;
        if (q.klen == p->klen && memcmp(buf + q.key_at, buf + p->key_at, p->klen) == 0)
            return true;
        if (r.pos <= before)
            return false;
    }
    return false;
}

static cw_code bad(cw_err *err, size_t at, const char *map, const char *what)
{
    return cw_err_set(err, CW_EFORMAT, at, "%s: byte %zu: %s", map, at, what);
}

/* Key length must be exactly want. */
static cw_code key_len(cw_err *err, const pair *p, size_t want, const char *map, const char *field)
{
    if (p->klen == want)
        return CW_OK;
    return cw_err_set(err, CW_EFORMAT, p->key_at, "%s: byte %zu: %s key of %zu bytes, not %zu", map, p->key_at, field,
                      p->klen, want);
}

static cw_code key_pubkey(cw_err *err, const pair *p, const char *map, const char *field)
{
    if (p->klen == 34 || p->klen == 66)
        return CW_OK;
    return cw_err_set(err, CW_EFORMAT, p->key_at,
                      "%s: byte %zu: %s key of %zu bytes: a public key of 33 or 65 bytes after the type", map,
                      p->key_at, field, p->klen);
}

static cw_code bip32_value(cw_err *err, const pair *p, const char *map)
{
    if (p->vlen >= 4 && p->vlen % 4 == 0)
        return CW_OK;
    return cw_err_set(err, CW_EFORMAT, p->val_at,
                      "%s: byte %zu: a BIP32 derivation of %zu bytes (a fingerprint and 4-byte path steps)", map,
                      p->val_at, p->vlen);
}

/* A witness UTXO: exactly one output (value, script). */
static cw_code witness_utxo(const uint8_t *buf, const pair *p, uint64_t *value, cw_span *script, const char *map,
                            cw_err *err)
{
    btc_reader r = {buf, p->val_at, p->val_at + p->vlen, err};
    uint64_t sl = 0;
    if (btc_read_u64(&r, value, "witness UTXO value") || btc_read_compact(&r, &sl, "witness UTXO script length"))
        return cw_err_prefix(err, err ? err->code : CW_ETRUNC, "%s", map);
    if (btc_left(&r) != sl)
        return bad(err, p->val_at, map, "the witness UTXO is not exactly one output");
    if (*value > BTC_MAX_MONEY)
        return bad(err, p->val_at, map, "the witness UTXO's value is above 21M BTC");
    script->p = buf + r.pos;
    script->n = (size_t)sl;
    return CW_OK;
}

/* Walks the map at r up to its 0x00 separator: each pair is read, counted
 * (at most PSBT_MAX_PAIRS), refused when its key was given before in this
 * map, then handed to fn with its key type (ctx: the map's state), whose
 * error stops the walk. map names the map in errors ("global", "input 1",
 * "output 0"). */
typedef cw_code (*pair_fn)(void *ctx, btc_reader *r, const pair *p, uint8_t type, const char *map);

static cw_code walk_map(btc_reader *r, const char *map, pair_fn fn, void *ctx)
{
    size_t map_at = r->pos, n = 0;
    for (;;) {
        pair p = {0};
        bool end = false;
        cw_code rc = next_pair(r, &p, &end, map);
        if (rc)
            return rc;
        if (end)
            return CW_OK;
        if (++n > PSBT_MAX_PAIRS)
            return cw_err_set(r->err, CW_ELIMIT, p.key_at, "%s: more than %d keys", map, PSBT_MAX_PAIRS);
        if (duplicate(r->buf, map_at, &p))
            return bad(r->err, p.key_at, map, "a key given twice");
        if ((rc = fn(ctx, r, &p, r->buf[p.key_at], map)))
            return rc;
    }
}

typedef struct {
    cw_net net;
    cw_arena *arena;
    btc_psbt *out;
    bool have_tx;
} global_map;

static cw_code global_pair(void *ctx, btc_reader *r, const pair *p, uint8_t type, const char *map)
{
    global_map *g = ctx;
    const uint8_t *buf = r->buf;
    cw_code rc;
    switch (type) {
    case 0x00: {
        if ((rc = key_len(r->err, p, 1, map, "the unsigned tx")))
            return rc;
        cw_code trc = btc_tx_parse(buf + p->val_at, p->vlen, NULL, g->net, g->arena, &g->out->tx, r->err);
        if (trc)
            return cw_err_prefix(r->err, trc, "global: the unsigned tx at byte %zu", p->val_at);
        if (g->out->tx.flags & CW_TX_SEGWIT)
            return bad(r->err, p->val_at, map, "the unsigned tx is serialized with witnesses");
        for (size_t i = 0; i < g->out->tx.n_in; i++)
            if (g->out->tx.in[i].script_sig.n)
                return bad(r->err, p->val_at, map, "the unsigned tx has a scriptSig (it must be unsigned)");
        g->have_tx = true;
        return CW_OK;
    }
    case 0x01:
        if (p->klen != 79)
            return bad(r->err, p->key_at, map, "an xpub key that is not 78 bytes after the type");
        return bip32_value(r->err, p, map);
    case 0x02: case 0x03: case 0x04: case 0x05: case 0x06:
        return bad(r->err, p->key_at, map, "a PSBT version 2 field in a version 0 PSBT");
    case 0xfb:
        if ((rc = key_len(r->err, p, 1, map, "the version")))
            return rc;
        if (p->vlen != 4)
            return bad(r->err, p->val_at, map, "a version that is not 4 bytes");
        g->out->version = btc_le32(buf + p->val_at);
        if (g->out->version != 0)
            return cw_err_set(r->err, CW_EFORMAT, p->val_at, "%s: byte %zu: PSBT version %u: only version 0 is read",
                              map, p->val_at, g->out->version);
        return CW_OK;
    default: /* proprietary and unknown: kept by BIP-174, not read here */
        return CW_OK;
    }
}

static cw_code parse_global(btc_reader *r, cw_net net, cw_arena *arena, btc_psbt *out, bool *have_tx)
{
    global_map g = {net, arena, out, false};
    cw_code rc = walk_map(r, "global", global_pair, &g);
    *have_tx = g.have_tx;
    return rc;
}

typedef struct {
    cw_net net;
    cw_arena *arena;
    btc_psbt *out;
    cw_txin *in;
    bool have_w, have_nw, final;
    uint64_t w_value, nw_value;
    cw_span w_script, nw_script;
} input_map;

static cw_code input_pair(void *ctx, btc_reader *r, const pair *p, uint8_t type, const char *map)
{
    input_map *m = ctx;
    const uint8_t *buf = r->buf;
    cw_code rc;
    switch (type) {
    case 0x00: { /* the whole previous tx: its txid must be the one spent */
        if ((rc = key_len(r->err, p, 1, map, "the non-witness UTXO")))
            return rc;
        size_t mark = m->arena->used;
        cw_tx prev;
        cw_code trc = btc_tx_parse(buf + p->val_at, p->vlen, NULL, m->net, m->arena, &prev, r->err);
        if (trc) {
            m->arena->used = mark;
            return cw_err_prefix(r->err, trc, "%s: the non-witness UTXO at byte %zu", map, p->val_at);
        }
        bool match = memcmp(prev.txid, m->in->prev_txid, 32) == 0 && m->in->prev_vout < prev.n_out;
        if (match) {
            m->nw_value = prev.out[m->in->prev_vout].value;
            m->nw_script = prev.out[m->in->prev_vout].script;
        }
        m->arena->used = mark; /* prev's arrays are not kept */
        if (!match)
            return bad(r->err, p->val_at, map, "the non-witness UTXO is not the tx this input spends");
        m->have_nw = true;
        return CW_OK;
    }
    case 0x01:
        if ((rc = key_len(r->err, p, 1, map, "the witness UTXO")) ||
            (rc = witness_utxo(buf, p, &m->w_value, &m->w_script, map, r->err)))
            return rc;
        m->have_w = true;
        return CW_OK;
    case 0x02:
        if ((rc = key_pubkey(r->err, p, map, "a partial signature")))
            return rc;
        if (p->vlen == 0)
            return bad(r->err, p->val_at, map, "an empty partial signature");
        m->out->n_partial_sigs++;
        return CW_OK;
    case 0x03:
        if ((rc = key_len(r->err, p, 1, map, "the sighash type")))
            return rc;
        if (p->vlen != 4)
            return bad(r->err, p->val_at, map, "a sighash type that is not 4 bytes");
        return CW_OK;
    case 0x04: case 0x05: case 0x09:
        return key_len(r->err, p, 1, map, type == 0x04 ? "the redeem script" : type == 0x05 ? "the witness script"
                                                                                          : "the proof of reserves");
    case 0x07: case 0x08:
        if ((rc = key_len(r->err, p, 1, map, type == 0x07 ? "the final scriptSig" : "the final witness")))
            return rc;
        m->final = true;
        return CW_OK;
    case 0x06:
        if ((rc = key_pubkey(r->err, p, map, "a BIP32 derivation")))
            return rc;
        return bip32_value(r->err, p, map);
    case 0x0a: case 0x0c:
        return key_len(r->err, p, 21, map, "a 20-byte hash preimage");
    case 0x0b: case 0x0d:
        return key_len(r->err, p, 33, map, "a 32-byte hash preimage");
    case 0x0e: case 0x0f: case 0x10: case 0x11: case 0x12:
        return bad(r->err, p->key_at, map, "a PSBT version 2 field in a version 0 PSBT");
    case 0x13:
        if ((rc = key_len(r->err, p, 1, map, "the taproot key signature")))
            return rc;
        if (p->vlen != 64 && p->vlen != 65)
            return bad(r->err, p->val_at, map, "a taproot key signature of other than 64 or 65 bytes");
        m->out->n_partial_sigs++;
        return CW_OK;
    case 0x14:
        if ((rc = key_len(r->err, p, 65, map, "a taproot script signature")))
            return rc;
        if (p->vlen != 64 && p->vlen != 65)
            return bad(r->err, p->val_at, map, "a taproot script signature of other than 64 or 65 bytes");
        m->out->n_partial_sigs++;
        return CW_OK;
    case 0x15:
        if (p->klen < 34 || (p->klen - 34) % 32 != 0)
            return bad(r->err, p->key_at, map, "a taproot leaf script key that is not a control block");
        if (p->vlen == 0)
            return bad(r->err, p->val_at, map, "an empty taproot leaf script");
        return CW_OK;
    case 0x16: {
        if ((rc = key_len(r->err, p, 33, map, "a taproot BIP32 derivation")))
            return rc;
        btc_reader v = {buf, p->val_at, p->val_at + p->vlen, r->err};
        uint64_t nh = 0;
        if (btc_read_compact(&v, &nh, "leaf hash count"))
            return cw_err_prefix(r->err, r->err ? r->err->code : CW_ETRUNC, "%s", map);
        if (nh > btc_left(&v) / 32 || btc_left(&v) - nh * 32 < 4 || (btc_left(&v) - nh * 32) % 4 != 0)
            return bad(r->err, p->val_at, map, "a taproot BIP32 derivation of the wrong length");
        return CW_OK;
    }
    case 0x17: case 0x18:
        if ((rc = key_len(r->err, p, 1, map, type == 0x17 ? "the taproot internal key" : "the taproot merkle root")))
            return rc;
        if (p->vlen != 32)
            return bad(r->err, p->val_at, map, "a taproot key or merkle root that is not 32 bytes");
        return CW_OK;
    default:
        return CW_OK;
    }
}

static cw_code parse_input(btc_reader *r, size_t idx, cw_net net, cw_arena *arena, btc_psbt *out)
{
    size_t map_at = r->pos;
    char map[32];
    snprintf(map, sizeof map, "input %zu", idx);
    input_map m = {.net = net, .arena = arena, .out = out, .in = &out->tx.in[idx]};
    cw_code rc = walk_map(r, map, input_pair, &m);
    if (rc)
        return rc;
    if (m.have_w && m.have_nw &&
        (m.w_value != m.nw_value || m.w_script.n != m.nw_script.n ||
         memcmp(m.w_script.p, m.nw_script.p, m.w_script.n) != 0))
        return bad(r->err, map_at, map, "the witness UTXO and the non-witness UTXO disagree");
    if (m.have_w || m.have_nw) {
        m.in->value = m.have_nw ? m.nw_value : m.w_value;
        cw_span s = m.have_nw ? m.nw_script : m.w_script;
        btc_script_classify(s.p, s.n, net, &m.in->addr);
        m.in->resolved = true;
        out->n_utxo++;
    }
    out->n_final += m.final;
    return CW_OK;
}

static cw_code output_pair(void *ctx, btc_reader *r, const pair *p, uint8_t type, const char *map)
{
    (void)ctx;
    cw_code rc;
    switch (type) {
    case 0x00: case 0x01:
        return key_len(r->err, p, 1, map, type == 0 ? "the redeem script" : "the witness script");
    case 0x02:
        if ((rc = key_pubkey(r->err, p, map, "a BIP32 derivation")))
            return rc;
        return bip32_value(r->err, p, map);
    case 0x03: case 0x04:
        return bad(r->err, p->key_at, map, "a PSBT version 2 field in a version 0 PSBT");
    case 0x05:
        if ((rc = key_len(r->err, p, 1, map, "the taproot internal key")))
            return rc;
        if (p->vlen != 32)
            return bad(r->err, p->val_at, map, "a taproot internal key that is not 32 bytes");
        return CW_OK;
    case 0x06:
        if ((rc = key_len(r->err, p, 1, map, "the taproot tree")))
            return rc;
        if (p->vlen == 0)
            return bad(r->err, p->val_at, map, "an empty taproot tree");
        return CW_OK;
    case 0x07:
        return key_len(r->err, p, 33, map, "a taproot BIP32 derivation");
    default:
        return CW_OK;
    }
}

static cw_code parse_output(btc_reader *r, size_t idx)
{
    char map[32];
    snprintf(map, sizeof map, "output %zu", idx);
    return walk_map(r, map, output_pair, NULL);
}

cw_code btc_psbt_parse(const uint8_t *buf, size_t len, cw_net net, cw_arena *arena, btc_psbt *out, cw_err *err)
{
    static const uint8_t magic[5] = {0x70, 0x73, 0x62, 0x74, 0xff};
    memset(out, 0, sizeof *out);
    if (len < 5 || memcmp(buf, magic, 5) != 0)
        return cw_err_set(err, CW_EFORMAT, 0, "byte 0: not a PSBT (it must start with 'psbt' 0xff)");
    btc_reader r = {buf, 5, len, err};
    bool have_tx = false;
    cw_code rc = parse_global(&r, net, arena, out, &have_tx);
    if (rc)
        return rc;
    if (!have_tx)
        return cw_err_set(err, CW_EFORMAT, 5, "global: no unsigned tx (PSBT_GLOBAL_UNSIGNED_TX)");
    for (size_t i = 0; i < out->tx.n_in; i++)
        if ((rc = parse_input(&r, i, net, arena, out)))
            return rc;
    for (size_t i = 0; i < out->tx.n_out; i++)
        if ((rc = parse_output(&r, i)))
            return rc;
    if (r.pos != len)
        return cw_err_set(err, CW_EFORMAT, r.pos, "byte %zu: %zu bytes after the last output's map", r.pos, len - r.pos);
    return CW_OK;
}

/* ---- text forms ---- */

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

cw_code btc_psbt_text(const char *text, size_t n, cw_buf *out, cw_err *err)
{
    if (n >= 10 && cw_looks_like_hex((const uint8_t *)text, n) && (memcmp(text, "70736274ff", 10) == 0 ||
                                                                   memcmp(text, "70736274FF", 10) == 0)) {
        if (n % 2)
            return cw_err_set(err, CW_EFORMAT, n, "PSBT hex: an odd number of digits");
        size_t got;
        cw_code rc = cw_buf_reserve(out, n / 2, err);
        if (rc == CW_OK)
            rc = cw_hex_decode(text, n, out->p + out->n, n / 2, &got, err);
        if (rc == CW_OK)
            out->n += got;
        return rc;
    }
    if (n == 0 || n % 4)
        return cw_err_set(err, CW_EFORMAT, n, "PSBT: neither hex (70736274ff...) nor padded base64 (%zu characters, "
                          "not a multiple of 4)", n);
    cw_code rc = cw_buf_reserve(out, n / 4 * 3, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        size_t pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = text[i + k];
            if (c == '=' && i + 4 == n && k >= 2 && (k == 3 || text[i + 3] == '=')) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad || (v[k] = b64val(c)) < 0)
                return cw_err_set(err, CW_EFORMAT, i + k, "PSBT base64: character %zu ('%c') is not base64", i + k,
                                  c >= 0x20 && c < 0x7f ? c : '?');
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        /* unused bits of the last group must be zero (one encoding per byte string) */
        if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
            return cw_err_set(err, CW_EFORMAT, i, "PSBT base64: non-zero padding bits in the last group");
        out->p[out->n++] = (uint8_t)(w >> 16);
        if (pad < 2)
            out->p[out->n++] = (uint8_t)(w >> 8);
        if (pad < 1)
            out->p[out->n++] = (uint8_t)w;
    }
    return CW_OK;
}
