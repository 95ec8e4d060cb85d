/* store internals shared by the store's own files (codec.c, segment.c,
 * store.c); outside src/store only fuzz/fuzz_segment_file.c includes this,
 * to feed segment files to the reader. */
#ifndef TALLY_STORE_INTERNAL_H
#define TALLY_STORE_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "store.h"

/* Field indexes and types, generated from HIT_FIELDS so the log codec and
 * the segment columns can never disagree with struct hit. */
enum store_field_index {
#define STORE_FIELD_ENUM(type, name) STORE_F_##name,
    HIT_FIELDS(STORE_FIELD_ENUM)
#undef STORE_FIELD_ENUM
    STORE_FIELD_COUNT
};

/* Type codes as written into segment directories: never renumber. */
enum store_type {
    STORE_T_U8 = 1,
    STORE_T_U16 = 2,
    STORE_T_U32 = 3,
    STORE_T_I32 = 4,
    STORE_T_U64 = 5,
    STORE_T_I64 = 6,
    STORE_T_F64 = 7,
    STORE_T_STR = 8,
};

#define STORE_WIDTH_U8 1
#define STORE_WIDTH_U16 2
#define STORE_WIDTH_U32 4
#define STORE_WIDTH_I32 4
#define STORE_WIDTH_U64 8
#define STORE_WIDTH_I64 8
#define STORE_WIDTH_F64 8
#define STORE_WIDTH_STR 4 /* a dictionary id in segments */

struct store_field {
    const char *name;
    uint8_t type;  /* enum store_type */
    uint8_t width; /* bytes per row in a segment column */
};
extern const struct store_field store_fields[STORE_FIELD_COUNT];

/* Log payload format version (first byte of every record). */
#define STORE_RECORD_VERSION 1
/* A record longer than this is refused on append and means corruption on
 * replay: tracked strings are capped far below it by http/track. */
#define STORE_MAX_RECORD (16u << 20)
/* Hits must be dated from 1970-01-01 up to 9999-12-31 so their day fits
 * the YYYY-MM-DD file names. */
#define STORE_MAX_DAY 2932896 /* days_from_civil(9999, 12, 31) */

/* ---- little-endian helpers (unaligned-safe) ---- */
static inline uint16_t store_le16(const void *p)
{
    const unsigned char *b = p;
    return (uint16_t)(b[0] | b[1] << 8);
}
static inline uint32_t store_le32(const void *p)
{
    const unsigned char *b = p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static inline uint64_t store_le64(const void *p)
{
    return (uint64_t)store_le32(p) | (uint64_t)store_le32((const char *)p + 4) << 32;
}
static inline void store_put16(void *p, uint16_t v)
{
    unsigned char *b = p;
    b[0] = (unsigned char)v;
    b[1] = (unsigned char)(v >> 8);
}
static inline void store_put32(void *p, uint32_t v)
{
    unsigned char *b = p;
    b[0] = (unsigned char)v;
    b[1] = (unsigned char)(v >> 8);
    b[2] = (unsigned char)(v >> 16);
    b[3] = (unsigned char)(v >> 24);
}
static inline void store_put64(void *p, uint64_t v)
{
    store_put32(p, (uint32_t)v);
    store_put32((char *)p + 4, (uint32_t)(v >> 32));
}
static inline uint64_t store_f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}
static inline double store_bits_f64(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* UTC day number of a time in ms (floor division). */
static inline int64_t store_day_of(int64_t time_ms)
{
    int64_t d = time_ms / MS_PER_DAY;
    return (time_ms % MS_PER_DAY < 0) ? d - 1 : d;
}
/* Site and date a stored hit must have; anything else is refused. */
static inline bool store_hit_placeable(const struct hit *hit)
{
    return hit->site_id != 0 && hit->time_ms >= 0 &&
           hit->time_ms < (int64_t)(STORE_MAX_DAY + 1) * MS_PER_DAY;
}

/* ---- segments (segment.c) ----------------------------------------------
 * An open segment is its file, mmapped read-only, and its header. Its
 * columns are decompressed and verified into a seg_view whenever it is
 * read, so an open store keeps its segments compressed, and reading a row
 * of a view never needs a bounds check. */
struct segment {
    uint32_t site;
    int64_t day;
    uint32_t n; /* 0 = first seal, 1.. = deltas of late hits */
    uint64_t rows;
    uint64_t sealed_through_seq;
    void *map;
    size_t map_len;
};

struct seg_column {
    const unsigned char *data; /* NULL: the file has no such column (older format) */
    uint64_t len;
    /* STR columns: ids are data[0 .. rows*4); the dictionary follows. */
    const unsigned char *dict_offsets; /* u32 each */
    uint32_t dict_count;
    const char *dict_bytes;
};

/* One segment's columns, decoded: raw columns point into the mapping,
 * compressed ones into buffers the view owns and reuses for the next
 * segment it decodes, so a scan over many segments allocates only for the
 * largest. Caller-owned: seg_view_init, then seg_view_free. */
struct seg_view {
    uint64_t rows;
    struct seg_column cols[STORE_FIELD_COUNT];
    unsigned char *bufs[STORE_FIELD_COUNT];
    size_t caps[STORE_FIELD_COUNT];
    unsigned char *scratch;
    size_t scratch_cap;
    struct ZSTD_DCtx_s *dctx;
};
void seg_view_init(struct seg_view *view);
void seg_view_free(struct seg_view *view);

/* Builds the whole segment file for count records (log payloads: record i
 * is arena[offsets[i] .. offsets[i+1] or arena_len)) into out. The records
 * must all belong to (site, day) and decode. */
int segment_build(uint32_t site, int64_t day, uint32_t n, uint64_t sealed_through_seq,
                  const char *arena, size_t arena_len, const uint64_t *offsets, size_t count,
                  struct buf *out);
/* Maps and verifies path, which must be named for (site, day, n): header and
 * directory checksums, every column checksum (over the stored, compressed
 * bytes), every declared size before anything is allocated for it, every
 * offset, length and dictionary id, and that every row belongs to the
 * site, day and seal. The columns are decoded into view for that, and left
 * there. On failure returns -EBADMSG (or an open/mmap/allocation errno)
 * with a one-line reason in why. */
int segment_open(const char *path, uint32_t site, int64_t day, uint32_t n, struct segment *seg,
                 struct seg_view *view, char *why, size_t whylen);
void segment_close(struct segment *seg);
/* Decodes and verifies seg's columns into view, as segment_open did; what
 * the view held before is gone. */
int segment_view(const struct segment *seg, struct seg_view *view, char *why, size_t whylen);
/* Row `row` (< view->rows) into hit; strings point into the view or the
 * mapping, valid until the view decodes another segment or is freed. */
void seg_view_row(const struct seg_view *view, uint64_t row, struct hit *hit);
int64_t seg_view_time_ms(const struct seg_view *view, uint64_t row);

#endif
