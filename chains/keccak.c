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

static const unsigned rotations[24] = {1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14,
                                       27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44};
static const unsigned lanes[24] = {10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4,
                                   15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1};

static uint64_t rotl(uint64_t x, unsigned n) { return (x << n) | (x >> (64 - n)); }

static void keccak_f(uint64_t s[25])
{
    for (int round = 0; round < 24; round++) {
        uint64_t c[5], t;
        for (int x = 0; x < 5; x++)
            c[x] = s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20];
        for (int x = 0; x < 5; x++) {
            t = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
            for (int y = 0; y < 25; y += 5)
                s[y + x] ^= t;
        }
        t = s[1];
        for (int i = 0; i < 24; i++) { /* rho and pi */
            uint64_t next = s[lanes[i]];
            s[lanes[i]] = rotl(t, rotations[i]);
            t = next;
        }
        for (int y = 0; y < 25; y += 5) { /* chi */
            uint64_t row[5];
            memcpy(row, s + y, sizeof row);
            for (int x = 0; x < 5; x++)
                s[y + x] = row[x] ^ (~row[(x + 1) % 5] & row[(x + 2) % 5]);
        }
        s[0] ^= round_constants[round];
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
