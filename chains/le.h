/*
 * le.h: n-byte little-endian integers (n <= 8), the store's record
 * encoding. Byte by byte, so any alignment and any host order.
 * n is not checked (the hot path): 0 writes nothing and reads 0; above 8
 * is undefined. cw_put_le keeps the low n bytes of v; cw_get_le reads
 * exactly n bytes of p.
 */
#ifndef CW_LE_H
#define CW_LE_H

#include <stdint.h>

static inline void cw_put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t cw_get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

#endif
