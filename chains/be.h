/*
 * be.h: n-byte big-endian integers (n <= 8), the store's key encoding
 * wherever keys must sort by number (sequence numbers, heights) and the
 * fixed-width fields beside them. Byte by byte, so any alignment and any
 * host order. n is not checked: 0 writes nothing and reads 0; above 8 is
 * undefined. cw_put_be keeps the low n bytes of v; cw_get_be reads exactly
 * n bytes of p. (le.h is the little-endian twin.)
 */
#ifndef CW_BE_H
#define CW_BE_H

#include <stdint.h>

static inline void cw_put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static inline uint64_t cw_get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

#endif
