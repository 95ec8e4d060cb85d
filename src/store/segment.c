/* Segment files: one sealed (site, UTC day), columnar and immutable.
 *
 * Layout (little endian):
 *   0   "TALLYSEG"
 *   8   u32 format version (2; 1 is still read)   12  u32 column count
 *   16  u32 site                   20  u32 n (0 first seal, 1.. deltas)
 *   24  i64 day (days since 1970-01-01, UTC)
 *   32  u64 row count              40  u64 sealed_through_seq
 *   48  column directory, SEG_ENTRY bytes per column:
 *         char name[32] (NUL-padded) | u8 type | u8 codec | u8 transform | 1 zero byte
 *         | u32 crc32c of the stored bytes | u64 offset | u64 length of the stored bytes
 *         | 8 bytes min | 8 bytes max
 *       (min/max of the values as i64 for I32/I64, u64 for unsigned, f64 bits
 *        for F64 ignoring NaN; zero for STR)
 *   then u32 crc32c of every byte before it; columns follow, 8-aligned.
 * A column's values: a numeric column is rows fixed-width values. A STR
 * column is rows u32 dictionary ids, then u32 count, count u32 offsets into
 * the bytes that follow, and the NUL-terminated strings; id 0 is always "".
 *
 * Stored, those values are either as they are (codec 0) or one zstd frame
 * that declares its content size (codec 1). Before compression the
 * transform bits rewrite the fixed-width arrays (a numeric column; a STR
 * column's ids and its offsets): 1 = delta, each value minus the one
 * before it, wrapping at its width, so rising sequences become small
 * numbers; 2 = byte shuffle, every value's first byte, then every second
 * byte..., so the bytes that rarely change sit together. Delta is applied
 * first. Raw columns have transform 0; version 1 files only raw columns.
 * The checksums cover the stored bytes, so damage is caught before any
 * decompression.
 *
 * Columns are matched by name, so a segment written before a field was
 * appended to HIT_FIELDS reads that field as absent. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "internal.h"

#define SEG_MAGIC "TALLYSEG"
#define SEG_VERSION 2
#define SEG_FIXED 48
#define SEG_ENTRY 72
#define SEG_NAME 32
#define SEG_MAX_COLUMNS 4096
/* Rows of one segment and bytes of one column's dictionary (count, offsets
 * and strings): the writer refuses more and the reader believes no more,
 * so a hostile file cannot make it allocate without bound. */
#define SEG_MAX_ROWS UINT32_MAX
#define SEG_MAX_DICT (1u << 30)
/* A zstd block regenerates at most 128 KiB and takes at least 4 bytes (an
 * RLE block), so no frame holds more than this many times its own size. */
#define SEG_ZSTD_MAX_RATIO (ZSTD_BLOCKSIZE_MAX / 4)
/* Measured in docs/storage.md: higher levels save a few percent while
 * sealing, which pauses ingestion, gets 2 to 90 times slower; reading is
 * as fast at any level. */
#define SEG_ZSTD_LEVEL 3

enum seg_codec { SEG_CODEC_RAW = 0, SEG_CODEC_ZSTD = 1 };
enum seg_transform { SEG_DELTA = 1, SEG_SHUFFLE = 2 };

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

/* ---- transforms ---- */

/* A fixed-width array inside a column's bytes: the whole of a numeric
 * column; a STR column's ids and its dictionary offsets. */
struct span {
    size_t off, n; /* byte offset, values */
    unsigned width;
};

static size_t column_spans(uint8_t type, unsigned width, uint64_t rows, uint32_t dict_count,
                           struct span spans[2])
{
    spans[0] = (struct span){0, rows, width};
    if (type != STORE_T_STR) return 1;
    spans[1] = (struct span){rows * 4 + 4, dict_count, 4};
    return 2;
}

static void delta_encode(unsigned char *p, size_t n, unsigned width)
{
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char *v = p + i * width;
        uint64_t x = width == 1   ? *v
                     : width == 2 ? store_le16(v)
                     : width == 4 ? store_le32(v)
                                  : store_le64(v);
        uint64_t d = x - prev;
        prev = x;
        switch (width) {
        case 1: *v = (unsigned char)d; break;
        case 2: store_put16(v, (uint16_t)d); break;
        case 4: store_put32(v, (uint32_t)d); break;
        default: store_put64(v, d);
        }
    }
}

/* The inverse, on the read path of every server start: one loop per width. */
static void delta_decode(unsigned char *p, size_t n, unsigned width)
{
    uint64_t sum = 0;
    switch (width) {
    case 1:
        for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(sum += p[i]);
        break;
    case 2:
        for (size_t i = 0; i < n; i++)
            store_put16(p + 2 * i, (uint16_t)(sum += store_le16(p + 2 * i)));
        break;
    case 4:
        for (size_t i = 0; i < n; i++)
            store_put32(p + 4 * i, (uint32_t)(sum += store_le32(p + 4 * i)));
        break;
    default:
        for (size_t i = 0; i < n; i++) store_put64(p + 8 * i, sum += store_le64(p + 8 * i));
    }
}

/* Byte k of value i moves to k * n + i (shuffle), and back. */
static void shuffle(const unsigned char *in, unsigned char *out, size_t n, unsigned width)
{
    for (size_t i = 0; i < n; i++)
        for (unsigned k = 0; k < width; k++) out[k * n + i] = in[i * width + k];
}

/* On the read path of every server start, so each width has its own loop. */
static void unshuffle(const unsigned char *in, unsigned char *out, size_t n, unsigned width)
{
    switch (width) {
    case 2:
        for (size_t i = 0; i < n; i++) {
            out[2 * i] = in[i];
            out[2 * i + 1] = in[n + i];
        }
        break;
    case 4:
        for (size_t i = 0; i < n; i++) {
            out[4 * i] = in[i];
            out[4 * i + 1] = in[n + i];
            out[4 * i + 2] = in[2 * n + i];
            out[4 * i + 3] = in[3 * n + i];
        }
        break;
    default:
        for (size_t i = 0; i < n; i++)
            for (unsigned k = 0; k < width; k++) out[i * width + k] = in[k * n + i];
    }
}

/* ---- building ---- */

/* Interns a column's strings: open addressing over ids, strings kept once
 * in `bytes` with their start offsets. */
struct dict {
    struct buf bytes;
    uint32_t *offsets;
    uint32_t count, cap;
    uint32_t *slots; /* id + 1, 0 = empty */
    uint32_t nslots;
};

static uint64_t hash_str(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static void dict_init(struct dict *d)
{
    *d = (struct dict){0};
    buf_init(&d->bytes);
    d->nslots = 64;
    d->slots = calloc(d->nslots, sizeof *d->slots);
    if (!d->slots) abort();
}

static void dict_free(struct dict *d)
{
    buf_free(&d->bytes);
    free(d->offsets);
    free(d->slots);
}

static void dict_grow_slots(struct dict *d)
{
    uint32_t nslots = d->nslots * 2;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots) abort();
    for (uint32_t id = 0; id < d->count; id++) {
        const char *s = d->bytes.data + d->offsets[id];
        uint32_t i = (uint32_t)hash_str(s, strlen(s)) & (nslots - 1);
        while (slots[i]) i = (i + 1) & (nslots - 1);
        slots[i] = id + 1;
    }
    free(d->slots);
    d->slots = slots;
    d->nslots = nslots;
}

/* Returns the id of s, adding it; -EFBIG when the dictionary outgrows
 * SEG_MAX_DICT. */
static int64_t dict_intern(struct dict *d, const char *s)
{
    if (s[0] == '\0') return 0; /* most optional fields are empty */
    size_t len = strlen(s);
    uint32_t i = (uint32_t)hash_str(s, len) & (d->nslots - 1);
    for (; d->slots[i]; i = (i + 1) & (d->nslots - 1)) {
        uint32_t id = d->slots[i] - 1;
        const char *t = d->bytes.data + d->offsets[id];
        if (strncmp(t, s, len) == 0 && t[len] == '\0') return id;
    }
    if (4 + 4 * ((uint64_t)d->count + 1) + d->bytes.len + len + 1 > SEG_MAX_DICT) return -EFBIG;
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        uint32_t *offsets = realloc(d->offsets, d->cap * sizeof *offsets);
        if (!offsets) abort();
        d->offsets = offsets;
    }
    uint32_t id = d->count++;
    d->offsets[id] = (uint32_t)d->bytes.len;
    buf_append(&d->bytes, s, len + 1);
    d->slots[i] = id + 1;
    if (d->count * 2 > d->nslots) dict_grow_slots(d);
    return id;
}

struct col_build {
    unsigned char *data; /* rows * width */
    struct dict dict;    /* STR only */
    bool any;            /* min/max seen a value (F64: a non-NaN one) */
    int64_t imin, imax;
    uint64_t umin, umax;
    double fmin, fmax;
};

static void note_signed(struct col_build *c, int64_t v)
{
    if (!c->any || v < c->imin) c->imin = v;
    if (!c->any || v > c->imax) c->imax = v;
    c->any = true;
}
static void note_unsigned(struct col_build *c, uint64_t v)
{
    if (!c->any || v < c->umin) c->umin = v;
    if (!c->any || v > c->umax) c->umax = v;
    c->any = true;
}
static void note_double(struct col_build *c, double v)
{
    if (isnan(v)) return;
    if (!c->any || v < c->fmin) c->fmin = v;
    if (!c->any || v > c->fmax) c->fmax = v;
    c->any = true;
}

#define SET_U8(c, r, v) ((c)->data[r] = (v), note_unsigned(c, v))
#define SET_U16(c, r, v) (store_put16((c)->data + (r) * 2, v), note_unsigned(c, v))
#define SET_U32(c, r, v) (store_put32((c)->data + (r) * 4, v), note_unsigned(c, v))
#define SET_U64(c, r, v) (store_put64((c)->data + (r) * 8, v), note_unsigned(c, v))
#define SET_I32(c, r, v) (store_put32((c)->data + (r) * 4, (uint32_t)(v)), note_signed(c, v))
#define SET_I64(c, r, v) (store_put64((c)->data + (r) * 8, (uint64_t)(v)), note_signed(c, v))
#define SET_F64(c, r, v) (store_put64((c)->data + (r) * 8, store_f64_bits(v)), note_double(c, v))

static int set_str(struct col_build *c, size_t row, const char *s)
{
    int64_t id = dict_intern(&c->dict, s);
    if (id < 0) return (int)id;
    store_put32(c->data + row * 4, (uint32_t)id);
    return 0;
}

static void put_minmax(unsigned char *e, uint8_t type, const struct col_build *c)
{
    uint64_t lo = 0, hi = 0;
    switch (type) {
    case STORE_T_I32:
    case STORE_T_I64:
        lo = (uint64_t)c->imin;
        hi = (uint64_t)c->imax;
        break;
    case STORE_T_F64:
        lo = store_f64_bits(c->any ? c->fmin : NAN);
        hi = store_f64_bits(c->any ? c->fmax : NAN);
        break;
    case STORE_T_STR:
        break;
    default:
        lo = c->umin;
        hi = c->umax;
    }
    store_put64(e, lo);
    store_put64(e + 8, hi);
}

/* A column as it goes into the file. */
struct stored {
    unsigned char *data; /* malloc'd */
    size_t len;
    uint8_t codec, transform;
};

/* Buffers reused from column to column: a segment's columns are of every
 * size, and fresh pages for each would cost more than the compression. */
struct encoder {
    ZSTD_CCtx *cctx;
    unsigned char *work, *scratch, *frame, *best;
    size_t cap; /* of each buffer */
};

static void encoder_reserve(struct encoder *enc, size_t len)
{
    size_t need = ZSTD_compressBound(len) + 1;
    if (need <= enc->cap) return;
    unsigned char **bufs[] = {&enc->work, &enc->scratch, &enc->frame, &enc->best};
    for (size_t i = 0; i < 4; i++) {
        free(*bufs[i]);
        *bufs[i] = malloc(need);
        if (!*bufs[i]) abort();
    }
    enc->cap = need;
}

static void encoder_free(struct encoder *enc)
{
    ZSTD_freeCCtx(enc->cctx);
    free(enc->work);
    free(enc->scratch);
    free(enc->frame);
    free(enc->best);
}

/* Compresses the column `raw` (its values as documented at the top) with
 * each transform that can help its type and keeps the smallest, or raw
 * bytes when zstd does not pay. */
static void column_encode(struct encoder *enc, uint8_t type, unsigned width, uint64_t rows,
                          const struct buf *raw, struct stored *out)
{
    static const uint8_t all[] = {0, SEG_DELTA, SEG_SHUFFLE, SEG_DELTA | SEG_SHUFFLE};
    static const uint8_t bytes_only[] = {0, SEG_DELTA};
    static const uint8_t floats[] = {0, SEG_SHUFFLE};
    const uint8_t *tries = type == STORE_T_F64 ? floats : width == 1 ? bytes_only : all;
    size_t ntries = type == STORE_T_F64 || width == 1 ? 2 : 4;
    struct span spans[2];
    size_t nspans = column_spans(type, width, rows,
                                 type == STORE_T_STR ? store_le32(raw->data + rows * 4) : 0, spans);

    encoder_reserve(enc, raw->len);
    const unsigned char *best = (const unsigned char *)raw->data;
    *out = (struct stored){NULL, raw->len, SEG_CODEC_RAW, 0};
    for (size_t t = 0; t < ntries; t++) {
        unsigned char *work = enc->work;
        memcpy(work, raw->data, raw->len);
        for (size_t k = 0; k < nspans; k++) {
            unsigned char *p = work + spans[k].off;
            if (tries[t] & SEG_DELTA) delta_encode(p, spans[k].n, spans[k].width);
            if (tries[t] & SEG_SHUFFLE) {
                shuffle(p, enc->scratch, spans[k].n, spans[k].width);
                memcpy(p, enc->scratch, spans[k].n * spans[k].width);
            }
        }
        size_t len = ZSTD_compressCCtx(enc->cctx, enc->frame, enc->cap, work, raw->len,
                                       SEG_ZSTD_LEVEL);
        if (ZSTD_isError(len)) abort(); /* cap is the bound zstd itself promises */
        if (len < out->len) {
            *out = (struct stored){NULL, len, SEG_CODEC_ZSTD, tries[t]};
            unsigned char *keep = enc->frame;
            enc->frame = enc->best;
            enc->best = keep;
            best = keep;
        }
    }
    out->data = malloc(out->len + 1);
    if (!out->data) abort();
    memcpy(out->data, best, out->len);
}

/* Column f's values in the layout documented at the top. */
static void column_values(const struct col_build *c, size_t f, size_t rows, struct buf *out)
{
    buf_reset(out);
    buf_append(out, c->data, rows * store_fields[f].width);
    if (store_fields[f].type != STORE_T_STR) return;
    const struct dict *d = &c->dict;
    unsigned char word[4];
    store_put32(word, d->count);
    buf_append(out, word, 4);
    for (uint32_t i = 0; i < d->count; i++) {
        store_put32(word, d->offsets[i]);
        buf_append(out, word, 4);
    }
    buf_append(out, d->bytes.data, d->bytes.len);
}

int segment_build(uint32_t site, int64_t day, uint32_t n, uint64_t sealed_through_seq,
                  const char *arena, size_t arena_len, const uint64_t *offsets, size_t count,
                  struct buf *out)
{
    if (count > SEG_MAX_ROWS) return -EFBIG;
    struct col_build *cols = calloc(STORE_FIELD_COUNT, sizeof *cols);
    if (!cols) abort();
    int rc = 0;
    for (size_t f = 0; f < STORE_FIELD_COUNT; f++) {
        cols[f].data = malloc(count * store_fields[f].width + 1);
        if (!cols[f].data) abort();
        if (store_fields[f].type == STORE_T_STR) {
            dict_init(&cols[f].dict);
            buf_append(&cols[f].dict.bytes, "", 1); /* id 0 is "" */
            cols[f].dict.offsets = malloc(64 * sizeof *cols[f].dict.offsets);
            if (!cols[f].dict.offsets) abort();
            cols[f].dict.offsets[0] = 0;
            cols[f].dict.count = 1;
            cols[f].dict.cap = 64;
        }
    }

    for (size_t r = 0; r < count && rc == 0; r++) {
        size_t end = r + 1 < count ? offsets[r + 1] : arena_len;
        struct hit hit;
        if (store_hit_decode(arena + offsets[r], end - offsets[r], &hit)) {
            rc = -EINVAL;
            break;
        }
#define SEG_SET_U8(name) SET_U8(&cols[STORE_F_##name], r, hit.name);
#define SEG_SET_U16(name) SET_U16(&cols[STORE_F_##name], r, hit.name);
#define SEG_SET_U32(name) SET_U32(&cols[STORE_F_##name], r, hit.name);
#define SEG_SET_U64(name) SET_U64(&cols[STORE_F_##name], r, hit.name);
#define SEG_SET_I32(name) SET_I32(&cols[STORE_F_##name], r, hit.name);
#define SEG_SET_I64(name) SET_I64(&cols[STORE_F_##name], r, hit.name);
#define SEG_SET_F64(name) SET_F64(&cols[STORE_F_##name], r, hit.name);
#define SEG_SET_STR(name)                                                                  \
    if (rc == 0) rc = set_str(&cols[STORE_F_##name], r, hit.name);
#define SEG_SET(type, name) SEG_SET_##type(name)
        HIT_FIELDS(SEG_SET)
    }

    if (rc == 0) {
        struct stored stored[STORE_FIELD_COUNT];
        struct encoder enc = {.cctx = ZSTD_createCCtx()};
        if (!enc.cctx) abort();
        struct buf values;
        buf_init(&values);
        for (size_t f = 0; f < STORE_FIELD_COUNT; f++) {
            column_values(&cols[f], f, count, &values);
            column_encode(&enc, store_fields[f].type, store_fields[f].width, count, &values,
                          &stored[f]);
        }
        buf_free(&values);
        encoder_free(&enc);

        size_t header = SEG_FIXED + (size_t)STORE_FIELD_COUNT * SEG_ENTRY;
        size_t pos = align8(header + 4);
        size_t col_off[STORE_FIELD_COUNT];
        for (size_t f = 0; f < STORE_FIELD_COUNT; f++) {
            col_off[f] = pos;
            pos = align8(pos + stored[f].len);
        }
        buf_reserve(out, pos);
        unsigned char *base = (unsigned char *)out->data + out->len;
        memset(base, 0, pos);
        memcpy(base, SEG_MAGIC, 8);
        store_put32(base + 8, SEG_VERSION);
        store_put32(base + 12, STORE_FIELD_COUNT);
        store_put32(base + 16, site);
        store_put32(base + 20, n);
        store_put64(base + 24, (uint64_t)day);
        store_put64(base + 32, count);
        store_put64(base + 40, sealed_through_seq);
        for (size_t f = 0; f < STORE_FIELD_COUNT; f++) {
            const struct stored *c = &stored[f];
            memcpy(base + col_off[f], c->data, c->len);
            unsigned char *e = base + SEG_FIXED + f * SEG_ENTRY;
            snprintf((char *)e, SEG_NAME, "%s", store_fields[f].name);
            e[32] = store_fields[f].type;
            e[33] = c->codec;
            e[34] = c->transform;
            store_put32(e + 36, crc32c(0, c->data, c->len));
            store_put64(e + 40, col_off[f]);
            store_put64(e + 48, c->len);
            put_minmax(e + 56, store_fields[f].type, &cols[f]);
            free(c->data);
        }
        store_put32(base + header, crc32c(0, base, header));
        out->len += pos;
        out->data[out->len] = '\0';
    }

    for (size_t f = 0; f < STORE_FIELD_COUNT; f++) {
        free(cols[f].data);
        if (store_fields[f].type == STORE_T_STR) dict_free(&cols[f].dict);
    }
    free(cols);
    return rc;
}

/* ---- opening and verifying ---- */

/* Checks a STR column's dictionary so that every id read later names a
 * NUL-terminated string inside the mapping. */
static int verify_dict(struct seg_column *c, uint64_t rows, char *why, size_t whylen,
                       const char *name)
{
    uint64_t ids_len = rows * 4;
    if (c->len < ids_len + 4) {
        snprintf(why, whylen, "column %s is too short for %llu rows", name,
                 (unsigned long long)rows);
        return -EBADMSG;
    }
    uint32_t count = store_le32(c->data + ids_len);
    uint64_t rest = c->len - ids_len - 4;
    if (count == 0 || count > rest / 4 || rest - 4 * (uint64_t)count == 0) {
        snprintf(why, whylen, "column %s has a dictionary of impossible size", name);
        return -EBADMSG;
    }
    const unsigned char *offs = c->data + ids_len + 4;
    const char *bytes = (const char *)offs + 4 * (uint64_t)count;
    uint64_t bytes_len = rest - 4 * (uint64_t)count;
    if (store_le32(offs) != 0 || bytes[0] != '\0' || bytes[bytes_len - 1] != '\0') {
        snprintf(why, whylen, "column %s has a malformed dictionary", name);
        return -EBADMSG;
    }
    uint32_t prev = 0;
    for (uint32_t i = 1; i < count; i++) {
        uint32_t o = store_le32(offs + 4 * (uint64_t)i);
        /* Strictly increasing and the previous string ends before this one. */
        if (o <= prev || o >= bytes_len || bytes[o - 1] != '\0') {
            snprintf(why, whylen, "column %s has a malformed dictionary offset %u", name, i);
            return -EBADMSG;
        }
        prev = o;
    }
    for (uint64_t r = 0; r < rows; r++) {
        if (store_le32(c->data + r * 4) >= count) {
            snprintf(why, whylen, "column %s row %llu names a missing dictionary entry", name,
                     (unsigned long long)r);
            return -EBADMSG;
        }
    }
    c->dict_offsets = offs;
    c->dict_count = count;
    c->dict_bytes = bytes;
    return 0;
}

void seg_view_init(struct seg_view *v) { *v = (struct seg_view){0}; }

void seg_view_free(struct seg_view *v)
{
    for (size_t f = 0; f < STORE_FIELD_COUNT; f++) free(v->bufs[f]);
    free(v->scratch);
    ZSTD_freeDCtx(v->dctx);
    seg_view_init(v);
}

/* *buf with room for len bytes; its contents are not kept. */
static unsigned char *reserve(unsigned char **buf, size_t *cap, size_t len)
{
    if (len <= *cap) return *buf;
    free(*buf);
    *buf = malloc(len);
    *cap = *buf ? len : 0;
    return *buf;
}

/* Decompresses field f's column, stored with codec 1, into the view's
 * buffer, after checking the size its frame declares against what the type
 * and row count allow (and what so many stored bytes can hold): no file
 * makes this allocate more than an honest one of its rows would. */
static int column_decode(struct seg_view *v, size_t f, const unsigned char *src, uint64_t len,
                         uint8_t transform, char *why, size_t whylen)
{
    const char *name = store_fields[f].name;
    uint8_t type = store_fields[f].type;
    unsigned width = store_fields[f].width;
    size_t frame = ZSTD_findFrameCompressedSize(src, len);
    if (ZSTD_isError(frame) || frame != len) {
        snprintf(why, whylen, "column %s is not one zstd frame", name);
        return -EBADMSG;
    }
    unsigned long long size = ZSTD_getFrameContentSize(src, len);
    uint64_t values = v->rows * width;
    bool fits = size != ZSTD_CONTENTSIZE_UNKNOWN && size != ZSTD_CONTENTSIZE_ERROR &&
                size / SEG_ZSTD_MAX_RATIO <= len &&
                (type == STORE_T_STR ? size >= values + 4 && size - values <= SEG_MAX_DICT
                                     : size == values);
    if (!fits) {
        snprintf(why, whylen, "column %s declares a decompressed size impossible for %llu rows",
                 name, (unsigned long long)v->rows);
        return -EBADMSG;
    }
    unsigned char *p = reserve(&v->bufs[f], &v->caps[f], size + 1);
    if (!p) {
        snprintf(why, whylen, "no memory for the %llu bytes of column %s", size, name);
        return -ENOMEM;
    }
    size_t got = ZSTD_decompressDCtx(v->dctx, p, size, src, len);
    if (ZSTD_isError(got) || got != size) {
        snprintf(why, whylen, "column %s does not decompress: %s", name,
                 ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short frame");
        return -EBADMSG;
    }
    struct seg_column *c = &v->cols[f];
    c->data = p;
    c->len = size;

    uint32_t dict_count = 0;
    if (type == STORE_T_STR) {
        dict_count = store_le32(p + values);
        if (dict_count > (size - values - 4) / 4) {
            snprintf(why, whylen, "column %s has a dictionary of impossible size", name);
            return -EBADMSG;
        }
    }
    struct span spans[2];
    size_t nspans = column_spans(type, width, v->rows, dict_count, spans);
    for (size_t k = 0; k < nspans; k++) {
        unsigned char *vals = p + spans[k].off;
        size_t bytes = spans[k].n * spans[k].width;
        if (transform & SEG_SHUFFLE) {
            unsigned char *scratch = reserve(&v->scratch, &v->scratch_cap, bytes + 1);
            if (!scratch) {
                snprintf(why, whylen, "no memory to decode column %s", name);
                return -ENOMEM;
            }
            memcpy(scratch, vals, bytes);
            unshuffle(scratch, vals, spans[k].n, spans[k].width);
        }
        if (transform & SEG_DELTA) delta_decode(vals, spans[k].n, spans[k].width);
    }
    return 0;
}

static int decode_columns(const struct segment *seg, uint32_t version, uint32_t ncols,
                          size_t header, struct seg_view *v, char *why, size_t whylen)
{
    const unsigned char *m = seg->map;
    size_t size = seg->map_len;
    for (uint32_t i = 0; i < ncols; i++) {
        const unsigned char *e = m + SEG_FIXED + (size_t)i * SEG_ENTRY;
        char name[SEG_NAME];
        memcpy(name, e, SEG_NAME);
        if (name[SEG_NAME - 1] != '\0') {
            snprintf(why, whylen, "column %u has an unterminated name", i);
            return -EBADMSG;
        }
        uint8_t type = e[32], codec = e[33], transform = e[34];
        uint64_t off = store_le64(e + 40), len = store_le64(e + 48);
        if (off < header + 4 || off > size || len > size - off) {
            snprintf(why, whylen, "column %s lies outside the file", name);
            return -EBADMSG;
        }
        if (crc32c(0, m + off, len) != store_le32(e + 36)) {
            snprintf(why, whylen, "column %s checksum mismatch", name);
            return -EBADMSG;
        }
        size_t f = 0;
        while (f < STORE_FIELD_COUNT && strcmp(store_fields[f].name, name) != 0) f++;
        if (f == STORE_FIELD_COUNT) continue; /* written by a newer build: not ours to read */
        struct seg_column *c = &v->cols[f];
        if (c->data) {
            snprintf(why, whylen, "column %s appears twice", name);
            return -EBADMSG;
        }
        if (type != store_fields[f].type) {
            snprintf(why, whylen, "column %s has type %u, expected %u", name, type,
                     store_fields[f].type);
            return -EBADMSG;
        }
        bool known = codec == SEG_CODEC_RAW ? transform == 0
                                            : codec == SEG_CODEC_ZSTD && version >= 2 &&
                                                  (transform & ~(SEG_DELTA | SEG_SHUFFLE)) == 0;
        if (!known) {
            snprintf(why, whylen, "column %s has unknown encoding %u/%u for format version %u",
                     name, codec, transform, version);
            return -EBADMSG;
        }
        if (codec == SEG_CODEC_ZSTD) {
            int rc = column_decode(v, f, m + off, len, transform, why, whylen);
            if (rc) return rc;
        } else {
            c->data = m + off;
            c->len = len;
        }
        if (type == STORE_T_STR) {
            int rc = verify_dict(c, seg->rows, why, whylen, name);
            if (rc) return rc;
        } else if (c->len != seg->rows * store_fields[f].width) {
            snprintf(why, whylen, "column %s holds %llu bytes, not %llu rows", name,
                     (unsigned long long)c->len, (unsigned long long)seg->rows);
            return -EBADMSG;
        }
    }
    return 0;
}

/* Reads the header of the mapped file into seg (site, day, n, rows, seal)
 * after checking its checksum. */
static int read_header(struct segment *seg, uint32_t *version, uint32_t *ncols, size_t *header,
                       char *why, size_t whylen)
{
    const unsigned char *m = seg->map;
    size_t size = seg->map_len;
    if (size < SEG_FIXED + 4 || memcmp(m, SEG_MAGIC, 8) != 0) {
        snprintf(why, whylen, "not a segment file (bad magic or too short)");
        return -EBADMSG;
    }
    *version = store_le32(m + 8);
    if (*version != 1 && *version != SEG_VERSION) {
        snprintf(why, whylen, "unsupported segment format version %u (this build reads 1 to %d)",
                 *version, SEG_VERSION);
        return -EBADMSG;
    }
    *ncols = store_le32(m + 12);
    if (*ncols > SEG_MAX_COLUMNS || SEG_FIXED + (size_t)*ncols * SEG_ENTRY + 4 > size) {
        snprintf(why, whylen, "column directory runs past the end of the file");
        return -EBADMSG;
    }
    *header = SEG_FIXED + (size_t)*ncols * SEG_ENTRY;
    if (crc32c(0, m, *header) != store_le32(m + *header)) {
        snprintf(why, whylen, "header checksum mismatch");
        return -EBADMSG;
    }
    seg->site = store_le32(m + 16);
    seg->n = store_le32(m + 20);
    seg->day = (int64_t)store_le64(m + 24);
    seg->rows = store_le64(m + 32);
    seg->sealed_through_seq = store_le64(m + 40);
    /* Raw columns cannot hold more rows than the file has bytes. */
    if (seg->rows > (*version == 1 ? size : SEG_MAX_ROWS)) {
        snprintf(why, whylen, "impossible row count %llu", (unsigned long long)seg->rows);
        return -EBADMSG;
    }
    return 0;
}

int segment_view(const struct segment *seg, struct seg_view *v, char *why, size_t whylen)
{
    struct segment again = *seg;
    uint32_t version, ncols;
    size_t header;
    int rc = read_header(&again, &version, &ncols, &header, why, whylen);
    if (rc) return rc;
    if (again.site != seg->site || again.day != seg->day || again.n != seg->n ||
        again.rows != seg->rows || again.sealed_through_seq != seg->sealed_through_seq) {
        snprintf(why, whylen, "header names site %u day %lld part %u, not what its file name says",
                 again.site, (long long)again.day, again.n);
        return -EBADMSG;
    }
    for (size_t f = 0; f < STORE_FIELD_COUNT; f++) v->cols[f] = (struct seg_column){0};
    v->rows = seg->rows;
    if (!v->dctx && !(v->dctx = ZSTD_createDCtx())) {
        snprintf(why, whylen, "no memory for a zstd decoder");
        return -ENOMEM;
    }
    rc = decode_columns(seg, version, ncols, header, v, why, whylen);
    if (rc) return rc;
    const struct seg_column *cs = &v->cols[STORE_F_seq], *csite = &v->cols[STORE_F_site_id],
                            *ct = &v->cols[STORE_F_time_ms];
    if (!cs->data || !csite->data || !ct->data) {
        snprintf(why, whylen, "seq, site_id or time_ms column missing");
        return -EBADMSG;
    }
    /* The store files rows by these three; a file that lies about them
     * would serve hits under the wrong site or day, or replay duplicates. */
    for (uint64_t r = 0; r < seg->rows; r++) {
        int64_t t = (int64_t)store_le64(ct->data + r * 8);
        if (store_le32(csite->data + r * 4) != seg->site ||
            store_le64(cs->data + r * 8) > seg->sealed_through_seq || t < 0 ||
            store_day_of(t) != seg->day) {
            snprintf(why, whylen, "row %llu does not belong to this site, day or seal",
                     (unsigned long long)r);
            return -EBADMSG;
        }
    }
    return 0;
}

int segment_open(const char *path, uint32_t site, int64_t day, uint32_t n, struct segment *seg,
                 struct seg_view *view, char *why, size_t whylen)
{
    *seg = (struct segment){0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        return rc;
    }
    struct stat st;
    if (fstat(fd, &st)) {
        int rc = -errno;
        snprintf(why, whylen, "cannot stat: %s", strerror(errno));
        close(fd);
        return rc;
    }
    if (st.st_size < SEG_FIXED + 4) {
        close(fd);
        snprintf(why, whylen, "not a segment file (%lld bytes)", (long long)st.st_size);
        return -EBADMSG;
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    int saved = errno;
    close(fd);
    if (map == MAP_FAILED) {
        snprintf(why, whylen, "cannot mmap: %s", strerror(saved));
        return -saved;
    }
    seg->map = map;
    seg->map_len = (size_t)st.st_size;
    uint32_t version, ncols;
    size_t header;
    int rc = read_header(seg, &version, &ncols, &header, why, whylen);
    if (rc == 0 && (seg->site != site || seg->day != day || seg->n != n)) {
        snprintf(why, whylen, "header names site %u day %lld part %u, not what its file name says",
                 seg->site, (long long)seg->day, seg->n);
        rc = -EBADMSG;
    }
    if (rc == 0) rc = segment_view(seg, view, why, whylen);
    if (rc) segment_close(seg);
    return rc;
}

void segment_close(struct segment *seg)
{
    if (seg->map) munmap(seg->map, seg->map_len);
    *seg = (struct segment){0};
}

static inline const char *seg_str(const struct seg_column *c, uint64_t row)
{
    uint32_t id = store_le32(c->data + row * 4);
    return c->dict_bytes + store_le32(c->dict_offsets + 4 * (uint64_t)id);
}

int64_t seg_view_time_ms(const struct seg_view *v, uint64_t row)
{
    return (int64_t)store_le64(v->cols[STORE_F_time_ms].data + row * 8);
}

void seg_view_row(const struct seg_view *v, uint64_t row, struct hit *hit)
{
    hit_clear(hit);
    const struct seg_column *c;
#define ROW_U8(name) hit->name = c->data[row];
#define ROW_U16(name) hit->name = store_le16(c->data + row * 2);
#define ROW_U32(name) hit->name = store_le32(c->data + row * 4);
#define ROW_I32(name) hit->name = (int32_t)store_le32(c->data + row * 4);
#define ROW_U64(name) hit->name = store_le64(c->data + row * 8);
#define ROW_I64(name) hit->name = (int64_t)store_le64(c->data + row * 8);
#define ROW_F64(name) hit->name = store_bits_f64(store_le64(c->data + row * 8));
#define ROW_STR(name) hit->name = seg_str(c, row);
#define ROW_GET(type, name)                                                                \
    c = &v->cols[STORE_F_##name];                                                          \
    if (c->data) {                                                                         \
        ROW_##type(name)                                                                   \
    }
    HIT_FIELDS(ROW_GET)
}
