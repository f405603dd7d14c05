#include "pb.h"

/* A varint at r->pos: at most 10 bytes, the 10th only 0 or 1 (64 bits),
 * and minimal (no last byte 0x00 after the first). */
static cw_code varint(tron_pb *r, uint64_t *out, const char *what, cw_err *err)
{
    size_t start = r->pos;
    uint64_t v = 0;
    for (unsigned i = 0;; i++) {
        if (r->pos >= r->n)
            return cw_err_set(err, CW_ETRUNC, r->base + start, "protobuf: %s at byte %zu is cut at the end of its message",
                              what, r->base + start);
        uint8_t b = r->p[r->pos++];
        if (i == 9 && b > 1)
            return cw_err_set(err, CW_EFORMAT, r->base + start, "protobuf: %s at byte %zu is over 64 bits", what,
                              r->base + start);
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (b == 0 && i > 0)
                return cw_err_set(err, CW_EFORMAT, r->base + start,
                                  "protobuf: %s at byte %zu is not minimally encoded (ends in 0x00)", what,
                                  r->base + start);
            break;
        }
    }
    *out = v;
    return CW_OK;
}

cw_code tron_pb_next(tron_pb *r, tron_pb_field *f, bool *done, cw_err *err)
{
    *done = false;
    if (r->pos == r->n) {
        *done = true;
        return CW_OK;
    }
    f->at = r->base + r->pos;
    uint64_t key;
    cw_code rc = varint(r, &key, "field key", err);
    if (rc)
        return rc;
    uint64_t num = key >> 3;
    f->wire = (uint8_t)(key & 7);
    if (num == 0 || num > 0x1fffffff)
        return cw_err_set(err, CW_EFORMAT, f->at, "protobuf: field number %llu at byte %zu is out of range",
                          (unsigned long long)num, f->at);
    f->num = (uint32_t)num;
    f->v = 0;
    f->bytes = (cw_span){NULL, 0};
    f->bytes_at = 0;
    switch (f->wire) {
    case TRON_PB_VARINT:
        return varint(r, &f->v, "varint value", err);
    case TRON_PB_I64:
    case TRON_PB_I32: {
        size_t k = f->wire == TRON_PB_I64 ? 8 : 4;
        if (r->n - r->pos < k)
            return cw_err_set(err, CW_ETRUNC, f->at, "protobuf: field %u at byte %zu: fixed%zu value is cut", f->num,
                              f->at, k * 8);
        for (size_t i = 0; i < k; i++)
            f->v |= (uint64_t)r->p[r->pos + i] << (8 * i);
        r->pos += k;
        return CW_OK;
    }
    case TRON_PB_LEN: {
        uint64_t len;
        if ((rc = varint(r, &len, "length", err)))
            return rc;
        if (len > r->n - r->pos)
            return cw_err_set(err, CW_ETRUNC, f->at,
                              "protobuf: field %u at byte %zu: length %llu runs past its message (%zu bytes left)",
                              f->num, f->at, (unsigned long long)len, r->n - r->pos);
        f->bytes = (cw_span){r->p + r->pos, (size_t)len};
        f->bytes_at = r->base + r->pos;
        r->pos += (size_t)len;
        return CW_OK;
    }
    default:
        return cw_err_set(err, CW_EFORMAT, f->at, "protobuf: field %u at byte %zu has wire type %u (%s)", f->num,
                          f->at, f->wire, f->wire == 3 || f->wire == 4 ? "groups are not used by Tron" : "no such type");
    }
}
