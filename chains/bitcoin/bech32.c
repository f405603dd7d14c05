#include "bech32.h"

#include <stdbool.h>
#include <string.h>

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t pre)
{
    uint8_t b = (uint8_t)(pre >> 25);
    return ((pre & 0x1ffffff) << 5) ^ (-((b >> 0) & 1) & 0x3b6a57b2u) ^ (-((b >> 1) & 1) & 0x26508e6du) ^
           (-((b >> 2) & 1) & 0x1ea119fau) ^ (-((b >> 3) & 1) & 0x3d4233ddu) ^ (-((b >> 4) & 1) & 0x2a1462b3u);
}

static uint32_t variant_const(bech32_variant v) { return v == BECH32M ? 0x2bc830a3u : 1u; }

static uint32_t hrp_polymod(const char *hrp, size_t hlen)
{
    uint32_t chk = 1;
    for (size_t i = 0; i < hlen; i++)
        chk = polymod_step(chk) ^ ((unsigned char)hrp[i] >> 5);
    chk = polymod_step(chk);
    for (size_t i = 0; i < hlen; i++)
        chk = polymod_step(chk) ^ ((unsigned char)hrp[i] & 0x1f);
    return chk;
}

size_t bech32_encode(const char *hrp, const uint8_t *data5, size_t n5, bech32_variant v, char *out, size_t cap)
{
    size_t hlen = strlen(hrp);
    size_t total = hlen + 1 + n5 + 6;
    if (hlen == 0 || total > BECH32_MAX_LEN || total + 1 > cap)
        return 0;
    uint32_t chk = hrp_polymod(hrp, hlen);
    memcpy(out, hrp, hlen);
    out[hlen] = '1';
    char *o = out + hlen + 1;
    for (size_t i = 0; i < n5; i++) {
        if (data5[i] >> 5)
            return 0;
        chk = polymod_step(chk) ^ data5[i];
        *o++ = charset[data5[i]];
    }
    for (int i = 0; i < 6; i++)
        chk = polymod_step(chk);
    chk ^= variant_const(v);
    for (int i = 0; i < 6; i++)
        *o++ = charset[(chk >> ((5 - i) * 5)) & 31];
    *o = '\0';
    return total;
}

cw_code bech32_decode(const char *s, char *hrp_out, uint8_t *data5, size_t *n5, bech32_variant *v, cw_err *err)
{
    size_t len = strlen(s);
    if (len > BECH32_MAX_LEN)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "bech32: %zu characters, at most %d allowed", len,
                          BECH32_MAX_LEN);
    bool lower = false, upper = false;
    size_t sep = (size_t)-1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 33 || c > 126)
            return cw_err_set(err, CW_EFORMAT, i, "bech32: character %zu (0x%02x) is out of range", i, c);
        if (c >= 'a' && c <= 'z') lower = true;
        if (c >= 'A' && c <= 'Z') upper = true;
        if (c == '1') sep = i;
    }
    if (lower && upper)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "bech32: mixed case");
    if (sep == (size_t)-1)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "bech32: no separator '1'");
    if (sep == 0)
        return cw_err_set(err, CW_EFORMAT, 0, "bech32: empty human-readable part");
    if (len - sep - 1 < 6)
        return cw_err_set(err, CW_EFORMAT, sep, "bech32: checksum too short (%zu characters after the separator)",
                          len - sep - 1);
    for (size_t i = 0; i < sep; i++) {
        char c = s[i];
        hrp_out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    hrp_out[sep] = '\0';
    uint32_t chk = hrp_polymod(hrp_out, sep);
    size_t nd = len - sep - 1;
    for (size_t i = 0; i < nd; i++) {
        char c = s[sep + 1 + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        const char *hit = strchr(charset, c);
        if (hit == NULL || c == '\0')
            return cw_err_set(err, CW_EFORMAT, sep + 1 + i, "bech32: character %zu ('%c') is not in the charset",
                              sep + 1 + i, s[sep + 1 + i]);
        uint8_t d = (uint8_t)(hit - charset);
        chk = polymod_step(chk) ^ d;
        if (i < nd - 6)
            data5[i] = d;
    }
    if (chk == variant_const(BECH32))
        *v = BECH32;
    else if (chk == variant_const(BECH32M))
        *v = BECH32M;
    else
        return cw_err_set(err, CW_ECHECKSUM, CW_NO_OFFSET, "bech32: bad checksum");
    *n5 = nd - 6;
    return CW_OK;
}

/* Regroups bits; pad adds zero bits at the end (encoding), !pad refuses
 * leftovers of 5+ bits or nonzero padding (decoding). */
static bool convert_bits(uint8_t *out, size_t outcap, size_t *outlen, int outbits, const uint8_t *in, size_t inlen,
                         int inbits, bool pad)
{
    uint32_t val = 0;
    int bits = 0;
    uint32_t maxv = (1u << outbits) - 1;
    *outlen = 0;
    for (size_t i = 0; i < inlen; i++) {
        val = (val << inbits) | in[i];
        bits += inbits;
        while (bits >= outbits) {
            bits -= outbits;
            if (*outlen == outcap)
                return false;
            out[(*outlen)++] = (uint8_t)((val >> bits) & maxv);
        }
    }
    if (pad) {
        if (bits) {
            if (*outlen == outcap)
                return false;
            out[(*outlen)++] = (uint8_t)((val << (outbits - bits)) & maxv);
        }
    } else if (bits >= inbits || ((val << (outbits - bits)) & maxv)) {
        return false;
    }
    return true;
}

size_t segwit_addr_encode(const char *hrp, int version, const uint8_t *prog, size_t prog_len, char *out, size_t cap)
{
    if (version < 0 || version > 16 || prog_len < 2 || prog_len > 40)
        return 0;
    if (version == 0 && prog_len != 20 && prog_len != 32)
        return 0;
    uint8_t data[1 + 64];
    size_t n;
    data[0] = (uint8_t)version;
    if (!convert_bits(data + 1, sizeof data - 1, &n, 5, prog, prog_len, 8, true))
        return 0;
    return bech32_encode(hrp, data, n + 1, version == 0 ? BECH32 : BECH32M, out, cap);
}

cw_code segwit_addr_decode(const char *s, char *hrp_out, int *version, uint8_t prog[40], size_t *prog_len, cw_err *err)
{
    uint8_t data[BECH32_MAX_LEN];
    size_t n;
    bech32_variant v;
    cw_code rc = bech32_decode(s, hrp_out, data, &n, &v, err);
    if (rc)
        return rc;
    if (n < 1)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "segwit address: no witness version");
    if (data[0] > 16)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "segwit address: witness version %u is over 16", data[0]);
    /* Up to 90 characters hold at most 52 program bytes: decode into room
     * for all of them, then refuse what is over 40. */
    uint8_t wide[BECH32_MAX_LEN * 5 / 8 + 1];
    size_t wide_len;
    if (!convert_bits(wide, sizeof wide, &wide_len, 8, data + 1, n - 1, 5, false))
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "segwit address: invalid padding in the program");
    *prog_len = wide_len;
    if (*prog_len < 2 || *prog_len > 40)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                          "segwit address: wrong length: program of %zu bytes (2 to 40 allowed)", *prog_len);
    if (data[0] == 0 && *prog_len != 20 && *prog_len != 32)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                          "segwit address: wrong length: v0 program of %zu bytes (20 or 32 allowed)", *prog_len);
    if (data[0] == 0 && v != BECH32)
        return cw_err_set(err, CW_ECHECKSUM, CW_NO_OFFSET,
                          "segwit address: wrong witness version encoding: v0 must use bech32, not bech32m");
    if (data[0] != 0 && v != BECH32M)
        return cw_err_set(err, CW_ECHECKSUM, CW_NO_OFFSET,
                          "segwit address: wrong witness version encoding: v%u must use bech32m, not bech32", data[0]);
    memcpy(prog, wide, wide_len);
    *version = data[0];
    return CW_OK;
}
