/* Keccak-f[1600] with rate 1088 bits (136 bytes) and 256-bit output. */
#include "keccak.h"

#include <string.h>

static const uint64_t round_constants[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808aull, 0x8000000080008000ull,
    0x000000000000808bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
    0x000000000000008aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000aull,
    0x000000008000808bull, 0x800000000000008bull, 0x8000000000008089ull, 0x8000000000008003ull,
    0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800aull, 0x800000008000000aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull,
};

static uint64_t rotl(uint64_t x, unsigned n) { return (x << n) | (x >> (64 - n)); }

/* One round (theta, rho, pi, chi, iota) from in to out, written out lane by
 * lane: the loop form with its (x + 1) % 5 indices and table-driven rho/pi
 * cost about ten times as many instructions, and Keccak is on every path
 * that touches Ethereum or Tron (tx hashes, senders, EIP-55 checksums of
 * each address screened). Lane (x, y) is in[x + 5y]. Pi moves lane (x, y)
 * to (y, 2x + 3y), so output row Y is built from the five lanes with
 * 2x + 3y = Y (mod 5), each rotated by its rho offset; chi then mixes the
 * row. The offsets are the standard ones (FIPS 202, table 2); the test
 * suite checks this against a plain loop transcription of the spec. */
static inline void keccak_round(const uint64_t in[25], uint64_t out[25], uint64_t rc)
{
    uint64_t c0 = in[0] ^ in[5] ^ in[10] ^ in[15] ^ in[20];
    uint64_t c1 = in[1] ^ in[6] ^ in[11] ^ in[16] ^ in[21];
    uint64_t c2 = in[2] ^ in[7] ^ in[12] ^ in[17] ^ in[22];
    uint64_t c3 = in[3] ^ in[8] ^ in[13] ^ in[18] ^ in[23];
    uint64_t c4 = in[4] ^ in[9] ^ in[14] ^ in[19] ^ in[24];
    uint64_t d0 = c4 ^ rotl(c1, 1), d1 = c0 ^ rotl(c2, 1), d2 = c1 ^ rotl(c3, 1);
    uint64_t d3 = c2 ^ rotl(c4, 1), d4 = c3 ^ rotl(c0, 1);
    uint64_t b0, b1, b2, b3, b4;
#define CHI_ROW(y)                                                                                                     \
    do {                                                                                                               \
        out[(y) + 0] = b0 ^ (~b1 & b2);                                                                                \
        out[(y) + 1] = b1 ^ (~b2 & b3);                                                                                \
        out[(y) + 2] = b2 ^ (~b3 & b4);                                                                                \
        out[(y) + 3] = b3 ^ (~b4 & b0);                                                                                \
        out[(y) + 4] = b4 ^ (~b0 & b1);                                                                                \
    } while (0)
    b0 = in[0] ^ d0, b1 = rotl(in[6] ^ d1, 44), b2 = rotl(in[12] ^ d2, 43);
    b3 = rotl(in[18] ^ d3, 21), b4 = rotl(in[24] ^ d4, 14);
    CHI_ROW(0);
    out[0] ^= rc;
    b0 = rotl(in[3] ^ d3, 28), b1 = rotl(in[9] ^ d4, 20), b2 = rotl(in[10] ^ d0, 3);
    b3 = rotl(in[16] ^ d1, 45), b4 = rotl(in[22] ^ d2, 61);
    CHI_ROW(5);
    b0 = rotl(in[1] ^ d1, 1), b1 = rotl(in[7] ^ d2, 6), b2 = rotl(in[13] ^ d3, 25);
    b3 = rotl(in[19] ^ d4, 8), b4 = rotl(in[20] ^ d0, 18);
    CHI_ROW(10);
    b0 = rotl(in[4] ^ d4, 27), b1 = rotl(in[5] ^ d0, 36), b2 = rotl(in[11] ^ d1, 10);
    b3 = rotl(in[17] ^ d2, 15), b4 = rotl(in[23] ^ d3, 56);
    CHI_ROW(15);
    b0 = rotl(in[2] ^ d2, 62), b1 = rotl(in[8] ^ d3, 55), b2 = rotl(in[14] ^ d4, 39);
    b3 = rotl(in[15] ^ d0, 41), b4 = rotl(in[21] ^ d1, 2);
    CHI_ROW(20);
#undef CHI_ROW
}

/* Keccak-f[1600]: 24 rounds, two at a time so the state goes from s to a
 * scratch copy and back without a copy per round. */
static void keccak_f(uint64_t s[25])
{
    uint64_t t[25];
    for (int round = 0; round < 24; round += 2) {
        keccak_round(s, t, round_constants[round]);
        keccak_round(t, s, round_constants[round + 1]);
    }
}

static void absorb(uint64_t s[25], const uint8_t *block)
{
    for (int i = 0; i < 17; i++) {
        uint64_t lane = 0;
        for (int b = 7; b >= 0; b--)
            lane = lane << 8 | block[i * 8 + b];
        s[i] ^= lane;
    }
}

void cw_keccak256(const void *p, size_t n, uint8_t out[32])
{
    cw_keccak_ctx c;
    cw_keccak256_init(&c);
    cw_keccak256_update(&c, p, n);
    cw_keccak256_final(&c, out);
}

enum { RATE = 136 };

void cw_keccak256_init(cw_keccak_ctx *c) { memset(c, 0, sizeof *c); }

void cw_keccak256_update(cw_keccak_ctx *c, const void *p, size_t n)
{
    const uint8_t *in = p;
    if (c->n > 0) {
        size_t take = RATE - c->n < n ? RATE - c->n : n;
        memcpy(c->buf + c->n, in, take);
        c->n += take;
        in += take;
        n -= take;
        if (c->n < RATE)
            return;
        absorb(c->s, c->buf);
        keccak_f(c->s);
        c->n = 0;
    }
    while (n >= RATE) {
        absorb(c->s, in);
        keccak_f(c->s);
        in += RATE;
        n -= RATE;
    }
    memcpy(c->buf, in, n);
    c->n = n;
}

void cw_keccak256_final(cw_keccak_ctx *c, uint8_t out[32])
{
    memset(c->buf + c->n, 0, RATE - c->n);
    c->buf[c->n] ^= 0x01;
    c->buf[RATE - 1] ^= 0x80;
    absorb(c->s, c->buf);
    keccak_f(c->s);
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 8; b++)
            out[i * 8 + b] = (uint8_t)(c->s[i] >> (8 * b));
}
