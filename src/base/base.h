/* base: small shared helpers every stage uses (logging, buffers, checksums,
 * strict number parsing, UTF-8 validation, JSON escaping, atomic files, dates).
 * Nothing here knows about hits, visits or HTTP. */
#ifndef TALLY_BASE_H
#define TALLY_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- logging ----------------------------------------------------------
 * One sink (stderr), one level set at start. Never log a raw IP or a full
 * user agent: callers pass only derived values. */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* ---- growable byte buffer ---------------------------------------------
 * Owns its bytes; always NUL-terminated after any append so `data` can be
 * used as a C string. Allocation failure aborts: a process that cannot get
 * a few KB cannot keep its promises anyway. */
struct buf {
    char *data;
    size_t len;
    size_t cap;
};
void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, keeps the allocation */
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. Every byte that could
 * end the string or confuse an HTML context (<, >, &, ', control chars,
 * U+2028/9) is escaped, so tracked strings are safe to embed anywhere. */
void buf_json_string(struct buf *b, const char *s);

/* ---- arena ------------------------------------------------------------
 * Bump allocator for per-request and per-query memory: everything is freed
 * at once. Blocks never move, so returned pointers stay valid until
 * arena_reset or arena_free. `limit` (0 = none) caps the total; past it
 * arena_alloc returns NULL and the caller refuses the request. */
struct arena_block;
struct arena {
    struct arena_block *head;
    size_t used;   /* bytes handed out */
    size_t limit;
};
void arena_init(struct arena *a, size_t limit);
void arena_free(struct arena *a);
void arena_reset(struct arena *a);
void *arena_alloc(struct arena *a, size_t size);
/* Copies len bytes and a NUL. */
char *arena_strndup(struct arena *a, const char *s, size_t len);
char *arena_strdup(struct arena *a, const char *s);

/* ---- checksums, hashing ---------------------------------------------- */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);
/* The splitmix64 finaliser: spreads ids that clients choose (or that count
 * up) before they index a hash table. */
static inline uint64_t hash_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* ---- strict parsing ---------------------------------------------------
 * Each returns 0 on success and -EINVAL when s is empty, has trailing
 * garbage or is out of range. */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int parse_f64(const char *s, double *out); /* finite numbers only */
bool utf8_valid(const char *s, size_t len);

/* ---- dates ------------------------------------------------------------
 * Days are counted from 1970-01-01 (day 0) in the proleptic Gregorian
 * calendar; all arithmetic is in UTC. */
int64_t days_from_civil(int year, int month, int day);
void civil_from_days(int64_t days, int *year, int *month, int *day);
/* "YYYY-MM-DD" -> day number; -EINVAL if malformed or not a real date. */
int parse_date(const char *s, int64_t *day);
/* Writes "YYYY-MM-DD" into out (11 bytes). */
void format_date(int64_t day, char out[11]);
int64_t now_ms(void); /* wall clock, UTC, milliseconds */
#define MS_PER_DAY 86400000LL

/* ---- files --------------------------------------------------------------
 * Writes data to path atomically: temp file in the same folder, fsync,
 * rename, fsync of the folder. Readers see the old file or the new one. */
int file_write_atomic(const char *path, const void *data, size_t len, int mode);
/* Reads a whole file into b (appending). */
int file_read_all(const char *path, struct buf *b);
int mkdir_p(const char *path, int mode);

#endif
