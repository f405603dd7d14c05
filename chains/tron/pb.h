/*
 * pb.h: a strict reader of protocol buffers wire format, for the bytes a
 * Tron transaction is signed over (Transaction.raw) and nothing else.
 *
 * Strict on purpose: the signed bytes are the truth and the JSON beside
 * them is not, so every way two readers could see different values is
 * refused: a varint over 10 bytes or over 64 bits, a non-minimal varint
 * (a trailing 0x80... 0x00 group), field number 0, group wire types (3, 4)
 * and unknown ones (6, 7), a length or fixed field running past its
 * message. Duplicate singular fields and wrong wire types of known fields
 * are the message readers' to refuse (tx.c), since only they know which
 * fields are singular.
 *
 * Offsets in errors are from the start of the whole signed bytes (`base`
 * of each reader), so a user can find the byte in raw_data_hex (x2).
 */
#ifndef CW_TRON_PB_H
#define CW_TRON_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chains/err.h"
#include "chains/model.h"

enum { TRON_PB_VARINT = 0, TRON_PB_I64 = 1, TRON_PB_LEN = 2, TRON_PB_I32 = 5 };

typedef struct {
    const uint8_t *p;
    size_t n, pos;
    size_t base; /* offset of p[0] in the whole input */
} tron_pb;

typedef struct {
    uint32_t num;   /* field number, 1 .. 2^29-1 */
    uint8_t wire;   /* TRON_PB_* */
    uint64_t v;     /* VARINT, I64, I32 */
    cw_span bytes;  /* LEN: points into the input */
    size_t at;      /* offset of the field's key in the whole input */
    size_t bytes_at; /* LEN: offset of bytes.p in the whole input (a nested
                      * message's reader takes it as its base) */
} tron_pb_field;

static inline void tron_pb_init(tron_pb *r, const uint8_t *p, size_t n, size_t base)
{
    r->p = p, r->n = n, r->pos = 0, r->base = base;
}

/* Reads the next field. *done is set (CW_OK) at the end of the message.
 * Errors name the offset and what is wrong (CW_ETRUNC, CW_EFORMAT). */
cw_code tron_pb_next(tron_pb *r, tron_pb_field *f, bool *done, cw_err *err);

#endif
