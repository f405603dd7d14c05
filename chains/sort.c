/* sort.c: see sort.h. */
#define _GNU_SOURCE /* qsort_r */
#include "sort.h"

#include <stdlib.h>
#include <string.h>

int cw_bytes_cmp(const void *a, size_t an, const void *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (an > bn) - (an < bn);
}

typedef struct {
    int (*cmp)(const void *, const void *);
    void (*tick)(void *ctx);
    void *ctx;
    unsigned n;
} sort_ticker;

static int cmp_ticking(const void *a, const void *b, void *arg)
{
    sort_ticker *s = arg;
    if (++s->n % CW_SORT_TICK_EVERY == 0)
        s->tick(s->ctx);
    return s->cmp(a, b);
}

void cw_sort_ticking(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *),
                     void (*tick)(void *ctx), void *ctx)
{
    if (tick == NULL) {
        qsort(base, n, size, cmp);
        return;
    }
    sort_ticker s = {cmp, tick, ctx, 0};
    qsort_r(base, n, size, cmp_ticking, &s);
}
