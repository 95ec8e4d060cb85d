/* The log record payload of one hit, generated from HIT_FIELDS:
 *
 *   u8 format version (1) | u16 field count | every field in HIT_FIELDS order
 *
 * Numbers are little endian (F64 as its IEEE bits, so NaN survives);
 * strings are u32 length, bytes, NUL. The field count lets a newer build
 * append fields: an older record simply ends early and its missing
 * trailing fields decode to their absent values; a newer record's extra
 * trailing fields are ignored by an older build. */
#include <errno.h>
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

/* Encoded size of each type; a string adds its length to its 5 bytes. */
#define ENC_SIZE_U8 1
#define ENC_SIZE_U16 2
#define ENC_SIZE_U32 4
#define ENC_SIZE_I32 4
#define ENC_SIZE_U64 8
#define ENC_SIZE_I64 8
#define ENC_SIZE_F64 8
#define ENC_SIZE_STR 5
#define ENC_FIXED_SIZE(type, name) +ENC_SIZE_##type
enum { ENC_FIXED = 3 HIT_FIELDS(ENC_FIXED_SIZE) };
#undef ENC_FIXED_SIZE

static inline unsigned char *put_U8(unsigned char *p, uint8_t v, size_t unused)
{
    (void)unused;
    *p = v;
    return p + 1;
}
static inline unsigned char *put_U16(unsigned char *p, uint16_t v, size_t unused)
{
    (void)unused;
    store_put16(p, v);
    return p + 2;
}
static inline unsigned char *put_U32(unsigned char *p, uint32_t v, size_t unused)
{
    (void)unused;
    store_put32(p, v);
    return p + 4;
}
static inline unsigned char *put_I32(unsigned char *p, int32_t v, size_t unused)
{
    (void)unused;
    store_put32(p, (uint32_t)v);
    return p + 4;
}
static inline unsigned char *put_U64(unsigned char *p, uint64_t v, size_t unused)
{
    (void)unused;
    store_put64(p, v);
    return p + 8;
}
static inline unsigned char *put_I64(unsigned char *p, int64_t v, size_t unused)
{
    (void)unused;
    store_put64(p, (uint64_t)v);
    return p + 8;
}
static inline unsigned char *put_F64(unsigned char *p, double v, size_t unused)
{
    (void)unused;
    store_put64(p, store_f64_bits(v));
    return p + 8;
}
static inline unsigned char *put_STR(unsigned char *p, const char *s, size_t len)
{
    store_put32(p, (uint32_t)len);
    if (len) memcpy(p + 4, s, len);
    p[4 + len] = '\0';
    return p + 5 + len;
}

/* Appends the payload to out with one reservation: this runs once per hit
 * on the ingest path, so no per-field capacity checks. A NULL string (the
 * contract says never, but a NULL must not crash the writer) is stored as "". */
void store_hit_encode(const struct hit *hit, struct buf *out)
{
    size_t lens[STORE_FIELD_COUNT];
    const char *strs[STORE_FIELD_COUNT];
    size_t size = ENC_FIXED;
#define LEN_U8(name)
#define LEN_U16(name)
#define LEN_U32(name)
#define LEN_I32(name)
#define LEN_U64(name)
#define LEN_I64(name)
#define LEN_F64(name)
#define LEN_STR(name)                                                                      \
    strs[STORE_F_##name] = hit->name ? hit->name : "";                                     \
    lens[STORE_F_##name] = strlen(strs[STORE_F_##name]);                                   \
    size += lens[STORE_F_##name];
#define ENC_LEN(type, name) LEN_##type(name)
    HIT_FIELDS(ENC_LEN)

    buf_reserve(out, size);
    unsigned char *p = (unsigned char *)out->data + out->len;
    p[0] = STORE_RECORD_VERSION;
    store_put16(p + 1, STORE_FIELD_COUNT);
    p += 3;
#define VAL_U8(name) hit->name, 0
#define VAL_U16(name) hit->name, 0
#define VAL_U32(name) hit->name, 0
#define VAL_I32(name) hit->name, 0
#define VAL_U64(name) hit->name, 0
#define VAL_I64(name) hit->name, 0
#define VAL_F64(name) hit->name, 0
#define VAL_STR(name) strs[STORE_F_##name], lens[STORE_F_##name]
#define ENC_PUT(type, name) p = put_##type(p, VAL_##type(name));
    HIT_FIELDS(ENC_PUT)
    out->len += size;
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
    if (len - *pos < 5) return -EINVAL;
    uint32_t n = store_le32(p + *pos);
    if (n > len - *pos - 5) return -EINVAL;
    const unsigned char *s = p + *pos + 4;
    if (s[n] != '\0') return -EINVAL;
    *out = (const char *)s;
    *pos += 5 + (size_t)n;
    return 0;
}

/* On -EINVAL the hit may be partly filled: callers discard it. */
int store_hit_decode(const void *data, size_t len, struct hit *hit)
{
    const unsigned char *p = data;
    hit_clear(hit);
    if (len < 3 || p[0] != STORE_RECORD_VERSION) return -EINVAL;
    size_t nfields = store_le16(p + 1), pos = 3, i = 0;
#define DEC_GET(type, name)                                                                \
    if (i++ == nfields) goto done;                                                         \
    if (get_##type(p, len, &pos, &hit->name)) return -EINVAL;
    HIT_FIELDS(DEC_GET)
    /* Fields newer than this build (nfields > ours): ignore their bytes. */
    if (nfields > STORE_FIELD_COUNT) return 0;
done:
    /* An older record must end exactly where its last field does. */
    return pos == len ? 0 : -EINVAL;
}
