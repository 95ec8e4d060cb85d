/* The log record payload of one hit, generated from HIT_FIELDS:
 *
 *   u8 format version (1) | u16 field count N | presence bitmap, ceil(N/8)
 *   bytes, bit i of byte i/8 set when field i is present | each present
 *   field in HIT_FIELDS order
 *
 * Only fields that differ from their absent value (hit_clear) are written:
 * a pageview sets a third of the fields, so records are about a third of
 * their full size, which is less to write, copy and keep in memory.
 * Numbers are little endian at their full width (F64 as its IEEE bits);
 * strings are a LEB128 length, the bytes and a NUL, so a decoded hit can
 * point into the record. The field count lets a newer build append fields:
 * an older record's missing trailing fields decode as absent, and a newer
 * record's extra fields come after every field an older build knows, which
 * simply stops reading there. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "internal.h"

const struct store_field store_fields[STORE_FIELD_COUNT] = {
#define STORE_FIELD_ROW(type, name) {#name, STORE_T_##type, STORE_WIDTH_##type},
    HIT_FIELDS(STORE_FIELD_ROW)
#undef STORE_FIELD_ROW
};

int store_fsync_parse(const char *s, enum store_fsync *out)
{
    if (!s) return -EINVAL;
    if (strcmp(s, "always") == 0) *out = STORE_FSYNC_ALWAYS;
    else if (strcmp(s, "interval") == 0) *out = STORE_FSYNC_INTERVAL;
    else if (strcmp(s, "never") == 0) *out = STORE_FSYNC_NEVER;
    else return -EINVAL;
    return 0;
}

/* Whether a field holds something other than its absent value. */
#define PRESENT_U8(v) ((v) != 0)
#define PRESENT_U16(v) ((v) != 0)
#define PRESENT_U32(v) ((v) != 0)
#define PRESENT_U64(v) ((v) != 0)
#define PRESENT_I64(v) ((v) != 0)
#define PRESENT_I32(v) ((v) != -1)
#define PRESENT_F64(v) (!isnan(v))
#define PRESENT_STR(v) ((v) && (v)[0])

#define BITMAP_BYTES ((STORE_FIELD_COUNT + 7) / 8)

static inline unsigned char *put_U8(unsigned char *p, uint8_t v)
{
    *p = v;
    return p + 1;
}
static inline unsigned char *put_U16(unsigned char *p, uint16_t v)
{
    store_put16(p, v);
    return p + 2;
}
static inline unsigned char *put_U32(unsigned char *p, uint32_t v)
{
    store_put32(p, v);
    return p + 4;
}
static inline unsigned char *put_I32(unsigned char *p, int32_t v)
{
    store_put32(p, (uint32_t)v);
    return p + 4;
}
static inline unsigned char *put_U64(unsigned char *p, uint64_t v)
{
    store_put64(p, v);
    return p + 8;
}
static inline unsigned char *put_I64(unsigned char *p, int64_t v)
{
    store_put64(p, (uint64_t)v);
    return p + 8;
}
static inline unsigned char *put_F64(unsigned char *p, double v)
{
    store_put64(p, store_f64_bits(v));
    return p + 8;
}
static inline unsigned char *put_STR(unsigned char *p, const char *s)
{
    size_t len = strlen(s);
    size_t v = len;
    do {
        *p++ = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    memcpy(p, s, len);
    p[len] = '\0';
    return p + len + 1;
}

/* Worst-case encoded size of a present field (a string: 5 bytes of length,
 * its bytes and the NUL). */
#define MAX_SIZE_U8(v) 1
#define MAX_SIZE_U16(v) 2
#define MAX_SIZE_U32(v) 4
#define MAX_SIZE_I32(v) 4
#define MAX_SIZE_U64(v) 8
#define MAX_SIZE_I64(v) 8
#define MAX_SIZE_F64(v) 8
#define MAX_SIZE_STR(v) (6 + strlen(v))

/* Appends the payload to out with one reservation: this runs once per hit
 * on the ingest path. */
void store_hit_encode(const struct hit *hit, struct buf *out)
{
    size_t size = 3 + BITMAP_BYTES;
#define ENC_SIZE(type, name)                                                               \
    if (PRESENT_##type(hit->name)) size += MAX_SIZE_##type(hit->name);
    HIT_FIELDS(ENC_SIZE)
#undef ENC_SIZE

    buf_reserve(out, size);
    unsigned char *start = (unsigned char *)out->data + out->len;
    unsigned char *bitmap = start + 3, *p = bitmap + BITMAP_BYTES;
    start[0] = STORE_RECORD_VERSION;
    store_put16(start + 1, STORE_FIELD_COUNT);
    memset(bitmap, 0, BITMAP_BYTES);
#define ENC_PUT(type, name)                                                                \
    if (PRESENT_##type(hit->name)) {                                                       \
        bitmap[STORE_F_##name / 8] |= (unsigned char)(1u << (STORE_F_##name % 8));          \
        p = put_##type(p, hit->name);                                                      \
    }
    HIT_FIELDS(ENC_PUT)
#undef ENC_PUT
    out->len += (size_t)(p - start);
    out->data[out->len] = '\0';
}

/* Each getter checks the bytes left before reading: the payload may be
 * hostile (a crafted log file), so a short or lying payload is -EINVAL. */
#define GET_FIXED(type, ctype, width, expr)                                                 \
    static inline int get_##type(const unsigned char *p, size_t len, size_t *pos,           \
                                 ctype *out)                                                \
    {                                                                                       \
        if (len - *pos < (width)) return -EINVAL;                                           \
        const unsigned char *q = p + *pos;                                                  \
        *out = (ctype)(expr);                                                               \
        *pos += (width);                                                                    \
        return 0;                                                                           \
    }
GET_FIXED(U8, uint8_t, 1, q[0])
GET_FIXED(U16, uint16_t, 2, store_le16(q))
GET_FIXED(U32, uint32_t, 4, store_le32(q))
GET_FIXED(I32, int32_t, 4, store_le32(q))
GET_FIXED(U64, uint64_t, 8, store_le64(q))
GET_FIXED(I64, int64_t, 8, store_le64(q))
GET_FIXED(F64, double, 8, store_bits_f64(store_le64(q)))
#undef GET_FIXED

static inline int get_STR(const unsigned char *p, size_t len, size_t *pos, const char **out)
{
    uint64_t n = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (*pos >= len || shift > 28) return -EINVAL;
        unsigned char b = p[(*pos)++];
        n |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
    }
    /* Present strings are never empty, and they end with their NUL. */
    if (n == 0 || n >= len - *pos || p[*pos + n] != '\0') return -EINVAL;
    *out = (const char *)p + *pos;
    *pos += (size_t)n + 1;
    return 0;
}

/* On -EINVAL the hit may be partly filled: callers discard it. */
int store_hit_decode(const void *data, size_t len, struct hit *hit)
{
    const unsigned char *p = data;
    hit_clear(hit);
    if (len < 3 || p[0] != STORE_RECORD_VERSION) return -EINVAL;
    size_t nfields = store_le16(p + 1), bitmap_bytes = (nfields + 7) / 8;
    if (len - 3 < bitmap_bytes) return -EINVAL;
    const unsigned char *bitmap = p + 3;
    size_t pos = 3 + bitmap_bytes;
#define DEC_GET(type, name)                                                                \
    if (STORE_F_##name < nfields && (bitmap[STORE_F_##name / 8] >> (STORE_F_##name % 8)) & 1 && \
        (get_##type(p, len, &pos, &hit->name) || !PRESENT_##type(hit->name)))              \
        return -EINVAL;
    HIT_FIELDS(DEC_GET)
#undef DEC_GET
    /* Fields newer than this build follow every field it knows. */
    if (nfields > STORE_FIELD_COUNT) return 0;
    /* Bits past the last field, or bytes past the last present field, mean
     * the record is not what it claims. */
    if (nfields % 8 && bitmap[bitmap_bytes - 1] >> (nfields % 8)) return -EINVAL;
    return pos == len ? 0 : -EINVAL;
}
