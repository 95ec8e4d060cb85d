/* The store on real files in a fresh temp folder per test: codec round
 * trips and hostile payloads, log replay, torn and corrupt logs, sealing,
 * crash windows of sealing, late hits, corrupt segments, locking, scan
 * filters, and the append rate (printed, not asserted). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "../src/store/store.h"
#include "test.h"

#define DAY0 20466LL /* 2026-01-13 */
#define T(day, ms) ((int64_t)(day) * MS_PER_DAY + (ms))

/* ---- fixtures ---- */

static char tmp_dir[256];

static void make_tmp(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "%s/tally-store-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        exit(2);
    }
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_tmp(void) { nftw(tmp_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static struct store *open_store(bool read_only, int *rc_out)
{
    struct store_options o = {.data_dir = tmp_dir, .fsync = STORE_FSYNC_NEVER,
                              .read_only = read_only, .seal_grace_ms = 3600 * 1000};
    struct store *s = NULL;
    char err[512];
    int rc = store_open(&o, &s, err, sizeof err);
    if (rc_out) *rc_out = rc;
    if (rc && !rc_out) printf("# store_open: %s\n", err);
    return s;
}

/* A hit with some distinguishing strings; the strings live in `text`. */
struct sample {
    struct hit hit;
    char url[96], name[48];
};

static void sample(struct sample *s, uint32_t site, int64_t time_ms, int i)
{
    hit_clear(&s->hit);
    snprintf(s->url, sizeof s->url, "https://example.com/page/%d?q=%d", i % 37, i);
    snprintf(s->name, sizeof s->name, "Page %d", i % 11);
    s->hit.site_id = site;
    s->hit.time_ms = time_ms;
    s->hit.kind = HIT_PAGEVIEW;
    s->hit.visitor_id = 0x1234567800000000ull + (uint64_t)(i % 50);
    s->hit.url = s->url;
    s->hit.action_name = s->name;
    s->hit.revenue = i % 3 ? NAN : i * 0.25;
    s->hit.goal_id = i % 5 - 1;
}

static int append_samples(struct store *st, uint32_t site, int64_t t0, int n, int first)
{
    for (int i = 0; i < n; i++) {
        struct sample s;
        sample(&s, site, t0 + i * 1000, first + i);
        int rc = store_append(st, &s.hit, 1);
        if (rc) return rc;
    }
    return 0;
}

/* Collects scanned hits as their encodings (equal encodings = equal hits,
 * NaN bits included) plus seqs and times. */
struct collect {
    struct buf enc;
    uint64_t seqs[4096];
    int64_t times[4096];
    uint32_t sites[4096];
    size_t n;
};

static int collect_fn(const struct hit *hit, void *arg)
{
    struct collect *c = arg;
    store_hit_encode(hit, &c->enc);
    if (c->n < 4096) {
        c->seqs[c->n] = hit->seq;
        c->times[c->n] = hit->time_ms;
        c->sites[c->n] = hit->site_id;
    }
    c->n++;
    return 0;
}

static size_t scan_count(struct store *st, uint32_t site, int64_t from, int64_t to)
{
    struct collect *c = calloc(1, sizeof *c);
    store_scan(st, site, from, to, collect_fn, c);
    size_t n = c->n;
    buf_free(&c->enc);
    free(c);
    return n;
}

static bool seqs_unique(const struct collect *c)
{
    for (size_t i = 0; i < c->n && i < 4096; i++)
        for (size_t j = i + 1; j < c->n && j < 4096; j++)
            if (c->seqs[i] == c->seqs[j]) return false;
    return true;
}

static int count_files(const char *sub, const char *suffix)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, sub);
    DIR *d = opendir(path);
    if (!d) return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name), sl = strlen(suffix);
        if (de->d_name[0] != '.' && l >= sl && strcmp(de->d_name + l - sl, suffix) == 0) n++;
    }
    closedir(d);
    return n;
}

/* Path of the only (or first by name) file in DATA/sub ending in suffix. */
static bool find_file(const char *sub, const char *suffix, char out[512])
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, sub);
    struct dirent **list;
    int n = scandir(path, &list, NULL, alphasort);
    bool found = false;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(list[i]->d_name), sl = strlen(suffix);
        if (!found && l >= sl && strcmp(list[i]->d_name + l - sl, suffix) == 0) {
            found = snprintf(out, 512, "%s/%s", path, list[i]->d_name) < 512;
        }
        free(list[i]);
    }
    if (n >= 0) free(list);
    return found;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) ? -1 : st.st_size;
}

static void flip_byte(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    unsigned char c;
    if (pread(fd, &c, 1, off) == 1) {
        c ^= 0x5a;
        if (pwrite(fd, &c, 1, off) != 1) perror("pwrite");
    }
    close(fd);
}

static bool copy_file(const char *from, const char *to)
{
    struct buf b;
    buf_init(&b);
    bool ok = file_read_all(from, &b) == 0 && file_write_atomic(to, b.data, b.len, 0644) == 0;
    buf_free(&b);
    return ok;
}

/* ---- codec ---- */

static void test_fsync_parse(void)
{
    enum store_fsync f;
    ASSERT_EQ_INT(store_fsync_parse("always", &f), 0);
    ASSERT_EQ_INT(f, STORE_FSYNC_ALWAYS);
    ASSERT_EQ_INT(store_fsync_parse("interval", &f), 0);
    ASSERT_EQ_INT(f, STORE_FSYNC_INTERVAL);
    ASSERT_EQ_INT(store_fsync_parse("never", &f), 0);
    ASSERT_EQ_INT(f, STORE_FSYNC_NEVER);
    ASSERT_EQ_INT(store_fsync_parse("sometimes", &f), -EINVAL);
    ASSERT_EQ_INT(store_fsync_parse("", &f), -EINVAL);
}

/* Every field gets a value derived from its position, so a field written
 * into the wrong slot or skipped shows up. */
static void fill_every_field(struct hit *h, const char *long_str)
{
    int k = 0;
#define FILL_U8(name) h->name = (uint8_t)(200 + k);
#define FILL_U16(name) h->name = (uint16_t)(60000 + k);
#define FILL_U32(name) h->name = 4000000000u + (uint32_t)k;
#define FILL_I32(name) h->name = -1000000 * k - 7;
#define FILL_U64(name) h->name = 0xfedcba9876543210ull + (uint64_t)k;
#define FILL_I64(name) h->name = -((int64_t)1 << 50) - k;
#define FILL_F64(name) h->name = k % 2 ? -1.5e300 / (k + 1) : NAN;
#define FILL_STR(name) h->name = k % 3 == 0 ? "" : k % 3 == 1 ? long_str : "d\xc3\xa9j\xc3\xa0 \"vu\"\n<x>";
#define FILL(type, name) FILL_##type(name) k++;
    HIT_FIELDS(FILL)
#undef FILL
}

static void test_codec_round_trip_every_field(void)
{
    static char long_str[70000];
    memset(long_str, 'x', sizeof long_str - 1);
    long_str[100] = '\xe2'; /* arbitrary bytes survive */
    struct hit in, out;
    fill_every_field(&in, long_str);
    struct buf b;
    buf_init(&b);
    store_hit_encode(&in, &b);
    int rc = store_hit_decode(b.data, b.len, &out);
    ASSERT_EQ_INT(rc, 0);
#define CMP_NUM(name) ASSERT_EQ_U64((uint64_t)in.name, (uint64_t)out.name);
#define CMP_U8(name) CMP_NUM(name)
#define CMP_U16(name) CMP_NUM(name)
#define CMP_U32(name) CMP_NUM(name)
#define CMP_I32(name) CMP_NUM(name)
#define CMP_U64(name) CMP_NUM(name)
#define CMP_I64(name) CMP_NUM(name)
#define CMP_F64(name)                                                                      \
    {                                                                                      \
        uint64_t bits_in, bits_out;                                                        \
        memcpy(&bits_in, &in.name, 8);                                                     \
        memcpy(&bits_out, &out.name, 8);                                                   \
        ASSERT_EQ_U64(bits_in, bits_out);                                                  \
    }
#define CMP_STR(name) ASSERT_EQ_STR(in.name, out.name);
#define CMP(type, name) CMP_##type(name)
    HIT_FIELDS(CMP)
    ASSERT_EQ_INT(strlen(out.url) + strlen(out.action_name) + strlen(out.urlref) +
                      strlen(out.pv_id),
                  2 * (sizeof long_str - 1) + strlen("d\xc3\xa9j\xc3\xa0 \"vu\"\n<x>"));
    /* Strings point into the buffer, not into the input. */
    ASSERT_TRUE(out.action_name > b.data && out.action_name < b.data + b.len);
    buf_free(&b);
}

static void test_codec_rejects_truncated_and_garbage(void)
{
    struct hit in, out;
    hit_clear(&in);
    in.site_id = 3;
    in.url = "https://example.com/";
    in.user_id = "someone";
    struct buf b;
    buf_init(&b);
    store_hit_encode(&in, &b);
    for (size_t len = 0; len < b.len; len++) {
        char *copy = malloc(len ? len : 1); /* exact size: ASan sees any over-read */
        memcpy(copy, b.data, len);
        int rc = store_hit_decode(copy, len, &out);
        free(copy);
        if (rc != -EINVAL) TEST_FAIL_("truncated to %zu of %zu bytes decoded (rc %d)", len, b.len, rc);
    }
    /* Trailing garbage after a complete current-format record. */
    buf_append(&b, "zz", 2);
    ASSERT_EQ_INT(store_hit_decode(b.data, b.len, &out), -EINVAL);
    /* Unknown version. */
    b.data[0] = 2;
    ASSERT_EQ_INT(store_hit_decode(b.data, b.len - 2, &out), -EINVAL);
    b.data[0] = 1;
    /* Hand-made records holding only url (field 10 of the first 11). */
    buf_free(&b);
    static const unsigned char past_end[] = {1, 11, 0, 0x00, 0x04, 0x7f, 'a'};
    ASSERT_EQ_INT(store_hit_decode(past_end, sizeof past_end, &out), -EINVAL);
    static const unsigned char no_nul[] = {1, 11, 0, 0x00, 0x04, 0x01, 'a'};
    ASSERT_EQ_INT(store_hit_decode(no_nul, sizeof no_nul, &out), -EINVAL);
    static const unsigned char empty_present[] = {1, 11, 0, 0x00, 0x04, 0x00, 0};
    ASSERT_EQ_INT(store_hit_decode(empty_present, sizeof empty_present, &out), -EINVAL);
    static const unsigned char bit_past_count[] = {1, 11, 0, 0x00, 0x0c, 0x01, 'a', 0};
    ASSERT_EQ_INT(store_hit_decode(bit_past_count, sizeof bit_past_count, &out), -EINVAL);
    static const unsigned char good[] = {1, 11, 0, 0x00, 0x04, 0x01, 'a', 0};
    ASSERT_EQ_INT(store_hit_decode(good, sizeof good, &out), 0);
    ASSERT_EQ_STR(out.url, "a");
    ASSERT_EQ_INT(out.site_id, 0);

    /* Random bytes: never a crash, and a random prefix is never accepted
     * as more than it is. */
    srand(7);
    unsigned char junk[512];
    int accepted = 0;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(rand() % (int)sizeof junk);
        for (size_t i = 0; i < len; i++) junk[i] = (unsigned char)rand();
        if (len) junk[0] = 1;
        if (store_hit_decode(junk, len, &out) == 0) accepted++;
    }
    ASSERT_EQ_INT(accepted, 0);
}

/* A record written before fields were appended: the missing ones read as
 * absent. A record from a newer build: extra trailing fields are ignored. */
static void test_codec_old_and_new_records(void)
{
    /* Three fields (seq, site_id, time_ms), all present. */
    unsigned char old[3 + 1 + 8 + 4 + 8] = {1, 3, 0, 0x07};
    old[4] = 42;
    old[12] = 9;
    int64_t t = T(DAY0, 5);
    for (int i = 0; i < 8; i++) old[16 + i] = (unsigned char)(t >> (8 * i));
    struct hit out;
    ASSERT_EQ_INT(store_hit_decode(old, sizeof old, &out), 0);
    ASSERT_EQ_U64(out.seq, 42);
    ASSERT_EQ_INT(out.site_id, 9);
    ASSERT_EQ_INT(out.time_ms, t);
    ASSERT_EQ_STR(out.url, "");
    ASSERT_EQ_STR(out.campaign_id, "");
    ASSERT_TRUE(isnan(out.revenue));
    ASSERT_EQ_INT(out.goal_id, -1);
    ASSERT_EQ_INT(out.days_since_last_visit, -1);

    /* A newer build's record: one more field, present, after all of ours. */
    struct hit in;
    hit_clear(&in);
    in.site_id = 5;
    in.campaign_id = "last";
    struct buf b, newer;
    buf_init(&b);
    buf_init(&newer);
    store_hit_encode(&in, &b);
    size_t ours = (size_t)((unsigned char)b.data[1] | (unsigned char)b.data[2] << 8);
    size_t n = ours + 1, old_bytes = (ours + 7) / 8, new_bytes = (n + 7) / 8;
    unsigned char header[3] = {1, (unsigned char)(n & 0xff), (unsigned char)(n >> 8)};
    buf_append(&newer, header, 3);
    buf_append(&newer, b.data + 3, old_bytes);
    if (new_bytes > old_bytes) buf_putc(&newer, 0);
    newer.data[3 + (n - 1) / 8] |= (char)(1u << ((n - 1) % 8));
    buf_append(&newer, b.data + 3 + old_bytes, b.len - 3 - old_bytes);
    buf_append(&newer, "\x07\x00\x00\x00", 4); /* the future field's value */
    ASSERT_EQ_INT(store_hit_decode(newer.data, newer.len, &out), 0);
    ASSERT_EQ_INT(out.site_id, 5);
    ASSERT_EQ_STR(out.campaign_id, "last");
    buf_free(&b);
    buf_free(&newer);
}

/* ---- log ---- */

static void test_append_close_reopen_identical(void)
{
    make_tmp();
    struct store *st = open_store(false, NULL);
    ASSERT_TRUE(st);
    struct buf expected;
    buf_init(&expected);
    static char long_str[20000];
    memset(long_str, 'y', sizeof long_str - 1);
    for (int i = 0; i < 300; i++) {
        struct sample s[3];
        for (int j = 0; j < 3; j++) sample(&s[j], 1, T(DAY0, i * 3000 + j), i * 3 + j);
        if (i == 7) fill_every_field(&s[1].hit, long_str), s[1].hit.site_id = 1,
                    s[1].hit.time_ms = T(DAY0, i * 3000 + 1);
        struct hit batch[3] = {s[0].hit, s[1].hit, s[2].hit};
        ASSERT_EQ_INT(store_append(st, batch, 3), 0);
        ASSERT_EQ_U64(batch[0].seq, (uint64_t)i * 3 + 1);
        ASSERT_EQ_U64(batch[2].seq, (uint64_t)i * 3 + 3);
        for (int j = 0; j < 3; j++) store_hit_encode(&batch[j], &expected);
    }
    ASSERT_EQ_U64(store_hit_count(st), 900);
    struct collect *c = calloc(1, sizeof *c);
    ASSERT_EQ_INT(store_scan(st, 0, 0, INT64_MAX, collect_fn, c), 0);
    ASSERT_EQ_INT(c->enc.len, expected.len);
    ASSERT_TRUE(memcmp(c->enc.data, expected.data, expected.len) == 0);
    store_close(st);

    st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_U64(store_hit_count(st), 900);
    buf_reset(&c->enc);
    c->n = 0;
    ASSERT_EQ_INT(store_scan(st, 1, T(DAY0, 0), T(DAY0 + 1, 0), collect_fn, c), 0);
    ASSERT_EQ_INT(c->n, 900);
    ASSERT_TRUE(c->enc.len == expected.len && memcmp(c->enc.data, expected.data, expected.len) == 0);
    /* seq continues after the restored maximum. */
    struct sample s;
    sample(&s, 1, T(DAY0, 5), 0);
    ASSERT_EQ_INT(store_append(st, &s.hit, 1), 0);
    ASSERT_EQ_U64(s.hit.seq, 901);
    /* Refused hits: nothing written, nothing counted. */
    s.hit.site_id = 0;
    ASSERT_EQ_INT(store_append(st, &s.hit, 1), -EINVAL);
    s.hit.site_id = 1;
    s.hit.time_ms = -1;
    ASSERT_EQ_INT(store_append(st, &s.hit, 1), -EINVAL);
    ASSERT_EQ_U64(store_hit_count(st), 901);
    store_close(st);

    /* A stopping callback stops the scan with its value. */
    st = open_store(true, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_U64(store_hit_count(st), 901);
    struct sample w;
    sample(&w, 1, T(DAY0, 5), 0);
    ASSERT_EQ_INT(store_append(st, &w.hit, 1), -EROFS);
    store_close(st);
    buf_free(&c->enc);
    free(c);
    buf_free(&expected);
    rm_tmp();
}

/* The sync policies only change when data reaches the disk, never what
 * is stored. */
static void test_fsync_policies(void)
{
    make_tmp();
    enum store_fsync policies[] = {STORE_FSYNC_ALWAYS, STORE_FSYNC_INTERVAL, STORE_FSYNC_NEVER};
    for (int p = 0; p < 3; p++) {
        struct store_options o = {.data_dir = tmp_dir, .fsync = policies[p],
                                  .seal_grace_ms = 3600 * 1000};
        struct store *st = NULL;
        char err[256];
        ASSERT_EQ_INT(store_open(&o, &st, err, sizeof err), 0);
        ASSERT_EQ_INT(append_samples(st, 1, T(DAY0, p * 100000), 20, p * 20), 0);
        ASSERT_EQ_INT(store_sync(st), 0);
        ASSERT_EQ_INT(store_sync(st), 0);
        ASSERT_EQ_U64(store_hit_count(st), (uint64_t)(p + 1) * 20);
        store_close(st);
    }
    struct store *st = open_store(true, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_U64(store_hit_count(st), 60);
    ASSERT_EQ_INT(count_files("wal", ".log"), 3); /* one per writer open */
    store_close(st);
    rm_tmp();
}

static void test_torn_tail_truncated_and_appends_continue(void)
{
    make_tmp();
    struct store *st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_INT(append_samples(st, 2, T(DAY0, 0), 10, 0), 0);
    store_close(st);
    char log[512];
    ASSERT_TRUE(find_file("wal", ".log", log));
    off_t full = file_size(log);
    /* Every sample record has the same size here only approximately, so
     * find the last record's start by re-reading the lengths. */
    int fd = open(log, O_RDWR);
    off_t off = 0, last = 0;
    while (off < full) {
        unsigned char h[4];
        ASSERT_EQ_INT(pread(fd, h, 4, off), 4);
        last = off;
        off += 8 + (h[0] | h[1] << 8 | h[2] << 16 | (off_t)h[3] << 24);
    }
    ASSERT_EQ_INT(off, full);
    ASSERT_EQ_INT(ftruncate(fd, last + 20), 0); /* mid-record */
    unsigned char junk[300];
    memset(junk, 0xab, sizeof junk);
    ASSERT_EQ_INT(pwrite(fd, junk, sizeof junk, last + 20), (ssize_t)sizeof junk);
    close(fd);

    /* The checker sees it without changing anything. */
    FILE *out = tmpfile();
    ASSERT_EQ_INT(store_check(tmp_dir, false, out), 1);
    ASSERT_EQ_INT(file_size(log), last + 20 + 300);
    fclose(out);

    /* A read-only open stops there and changes nothing. */
    st = open_store(true, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_U64(store_hit_count(st), 9);
    store_close(st);
    ASSERT_EQ_INT(file_size(log), last + 20 + 300);

    st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_U64(store_hit_count(st), 9);
    ASSERT_EQ_INT(file_size(log), last);
    ASSERT_EQ_INT(count_files("quarantine", ""), 1);
    char tail[512], want[64];
    snprintf(want, sizeof want, ".log.tail-%lld", (long long)last);
    ASSERT_TRUE(find_file("quarantine", want, tail));
    ASSERT_EQ_INT(file_size(tail), 20 + 300);
    ASSERT_EQ_INT(append_samples(st, 2, T(DAY0, 50000), 5, 100), 0);
    store_close(st);

    st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_U64(store_hit_count(st), 14);
    struct collect *c = calloc(1, sizeof *c);
    store_scan(st, 2, 0, INT64_MAX, collect_fn, c);
    ASSERT_EQ_INT(c->n, 14);
    ASSERT_EQ_U64(c->seqs[8], 9);
    ASSERT_EQ_U64(c->seqs[9], 10); /* seq 10 was torn: its number is reused, never duplicated */
    ASSERT_TRUE(seqs_unique(c));
    out = tmpfile();
    ASSERT_EQ_INT(store_check(tmp_dir, false, out), 0);
    fclose(out);
    store_close(st);
    buf_free(&c->enc);
    free(c);
    rm_tmp();
}

static void test_flipped_byte_quarantines_the_tail(void)
{
    make_tmp();
    struct store *st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_INT(append_samples(st, 1, T(DAY0, 0), 20, 0), 0);
    store_close(st);
    char log[512];
    ASSERT_TRUE(find_file("wal", ".log", log));
    off_t full = file_size(log);
    int fd = open(log, O_RDONLY);
    off_t off = 0, rec5 = 0;
    for (int i = 0; i < 5; i++) {
        unsigned char h[4];
        ASSERT_EQ_INT(pread(fd, h, 4, off), 4);
        off += 8 + (h[0] | h[1] << 8 | h[2] << 16 | (off_t)h[3] << 24);
    }
    rec5 = off;
    close(fd);
    flip_byte(log, rec5 + 40);

    FILE *out = tmpfile();
    ASSERT_EQ_INT(store_check(tmp_dir, false, out), 1);
    char line[1024] = "";
    rewind(out);
    ASSERT_TRUE(fgets(line, sizeof line, out) != NULL);
    ASSERT_CONTAINS(line, "checksum mismatch");
    fclose(out);

    st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_U64(store_hit_count(st), 5);
    ASSERT_EQ_INT(file_size(log), rec5);
    char tail[512], want[64];
    snprintf(want, sizeof want, ".log.tail-%lld", (long long)rec5);
    ASSERT_TRUE(find_file("quarantine", want, tail));
    ASSERT_EQ_INT(file_size(tail), full - rec5);
    store_close(st);
    rm_tmp();
}

/* Records whose checksum is right but whose payload is not a hit (a
 * crafted or buggy file), and a log of pure noise: quarantined, no crash. */
static void test_hostile_log_records(void)
{
    make_tmp();
    struct store *st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_INT(append_samples(st, 1, T(DAY0, 0), 3, 0), 0);
    store_close(st);

    char path[600];
    snprintf(path, sizeof path, "%s/wal/00000050.log", tmp_dir);
    unsigned char rec[8 + 40];
    memset(rec, 0xff, sizeof rec);
    rec[8] = 1; /* version 1, then an absurd field count and lengths */
    uint32_t len = 40, crc = crc32c(0, rec + 8, 40);
    for (int i = 0; i < 4; i++) rec[i] = (unsigned char)(len >> (8 * i));
    for (int i = 0; i < 4; i++) rec[4 + i] = (unsigned char)(crc >> (8 * i));
    ASSERT_EQ_INT(file_write_atomic(path, rec, sizeof rec, 0644), 0);

    /* A valid record of a hit without a site. */
    struct hit h;
    hit_clear(&h);
    h.time_ms = T(DAY0, 1);
    struct buf b;
    buf_init(&b);
    buf_append(&b, "12345678", 8);
    store_hit_encode(&h, &b);
    uint32_t plen = (uint32_t)b.len - 8, pcrc = crc32c(0, b.data + 8, plen);
    for (int i = 0; i < 4; i++) b.data[i] = (char)(plen >> (8 * i));
    for (int i = 0; i < 4; i++) b.data[4 + i] = (char)(pcrc >> (8 * i));
    snprintf(path, sizeof path, "%s/wal/00000051.log", tmp_dir);
    ASSERT_EQ_INT(file_write_atomic(path, b.data, b.len, 0644), 0);
    buf_free(&b);

    unsigned char noise[70000];
    srand(11);
    for (size_t i = 0; i < sizeof noise; i++) noise[i] = (unsigned char)rand();
    snprintf(path, sizeof path, "%s/wal/00000052.log", tmp_dir);
    ASSERT_EQ_INT(file_write_atomic(path, noise, sizeof noise, 0644), 0);

    FILE *out = tmpfile();
    ASSERT_EQ_INT(store_check(tmp_dir, false, out), 3);
    fclose(out);
    st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_U64(store_hit_count(st), 3);
    ASSERT_EQ_INT(file_size(path), 0);
    ASSERT_EQ_INT(count_files("quarantine", ""), 3);
    ASSERT_TRUE(find_file("quarantine", "00000052.log.tail-0", path));
    ASSERT_EQ_INT(file_size(path), sizeof noise);
    struct sample s;
    sample(&s, 1, T(DAY0, 9), 9);
    ASSERT_EQ_INT(store_append(st, &s.hit, 1), 0);
    ASSERT_EQ_U64(s.hit.seq, 4);
    store_close(st);
    out = tmpfile();
    ASSERT_EQ_INT(store_check(tmp_dir, false, out), 0);
    fclose(out);
    rm_tmp();
}

/* A write that fails halfway (here: the file size limit, like a full
 * disk) is undone: the caller got an error for exactly those hits, and the
 * log holds no torn record that would cost later hits at replay. */
static void test_failed_write_leaves_no_torn_record(void)
{
    make_tmp();
    int *acked = mmap(NULL, sizeof *acked, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                      -1, 0);
    ASSERT_TRUE(acked != MAP_FAILED);
    *acked = 0;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct store *st = open_store(false, NULL);
        if (!st) _exit(2);
        struct rlimit lim = {16 * 1024, 16 * 1024};
        setrlimit(RLIMIT_FSIZE, &lim);
        int failures = 0;
        for (int attempt = 0; attempt < 60; attempt++) {
            struct sample s[7];
            struct hit batch[7];
            for (int j = 0; j < 7; j++) {
                sample(&s[j], 1, T(DAY0, attempt * 10 + j), attempt * 7 + j);
                batch[j] = s[j].hit;
            }
            if (store_append(st, batch, 7) == 0) *acked += 7;
            else failures++;
        }
        store_close(st);
        _exit(failures > 0 ? 0 : 3);
    }
    int status = -1;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ_INT(WEXITSTATUS(status), 0);
    ASSERT_TRUE(*acked > 0);
    FILE *out = tmpfile();
    ASSERT_EQ_INT(store_check(tmp_dir, false, out), 0);
    fclose(out);
    struct store *st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_U64(store_hit_count(st), (uint64_t)*acked);
    ASSERT_EQ_INT(count_files("quarantine", ""), 0);
    store_close(st);
    munmap(acked, sizeof *acked);
    rm_tmp();
}

/* ---- sealing ---- */

static void test_seal_then_reopen_serves_segment(void)
{
    make_tmp();
    struct store *st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_INT(append_samples(st, 1, T(DAY0, 1000), 50, 0), 0);
    ASSERT_EQ_INT(append_samples(st, 2, T(DAY0, 2000), 30, 50), 0);
    int64_t today = now_ms();
    ASSERT_EQ_INT(append_samples(st, 1, today - 1000, 4, 80), 0); /* today: stays in memory */
    /* Per site, sealing keeps the order: sealed days, then memory. */
    struct collect *before = calloc(1, sizeof *before);
    store_scan(st, 1, 0, INT64_MAX, collect_fn, before);
    store_scan(st, 2, 0, INT64_MAX, collect_fn, before);
    ASSERT_EQ_INT(before->n, 84);

    char err[256] = "";
    /* Not yet: DAY0 ended less than the grace period before this "now". */
    ASSERT_EQ_INT(store_seal(st, T(DAY0 + 1, 3600 * 1000 - 1), err, sizeof err), 0);
    ASSERT_EQ_INT(count_files("seg/1", ".seg"), 0);
    ASSERT_EQ_INT(store_seal(st, today, err, sizeof err), 0);
    ASSERT_EQ_STR(err, "");
    ASSERT_EQ_INT(count_files("seg/1", ".seg"), 1);
    ASSERT_EQ_INT(count_files("seg/2", ".seg"), 1);
    char seg[512];
    ASSERT_TRUE(find_file("seg/1", ".seg", seg));
    ASSERT_CONTAINS(seg, "/seg/1/2026-01-13.0.seg");
    ASSERT_EQ_U64(store_hit_count(st), 84);
    /* Today's hits keep the log alive. */
    ASSERT_EQ_INT(count_files("wal", ".log"), 1);

    struct collect *after = calloc(1, sizeof *after);
    store_scan(st, 1, 0, INT64_MAX, collect_fn, after);
    store_scan(st, 2, 0, INT64_MAX, collect_fn, after);
    ASSERT_EQ_INT(after->n, 84);
    ASSERT_TRUE(after->enc.len == before->enc.len &&
                memcmp(after->enc.data, before->enc.data, before->enc.len) == 0);
    store_close(st);

    st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_U64(store_hit_count(st), 84);
    buf_reset(&after->enc);
    after->n = 0;
    store_scan(st, 1, 0, INT64_MAX, collect_fn, after);
    store_scan(st, 2, 0, INT64_MAX, collect_fn, after);
    ASSERT_TRUE(after->enc.len == before->enc.len &&
                memcmp(after->enc.data, before->enc.data, before->enc.len) == 0);
    ASSERT_EQ_INT(scan_count(st, 1, T(DAY0, 0), T(DAY0 + 1, 0)), 50);
    ASSERT_EQ_INT(scan_count(st, 2, T(DAY0, 0), T(DAY0 + 1, 0)), 30);

    /* Once today is sealed too, every log goes. */
    ASSERT_EQ_INT(store_seal(st, today + 2 * MS_PER_DAY, err, sizeof err), 0);
    ASSERT_EQ_INT(count_files("wal", ".log"), 0);
    ASSERT_EQ_INT(count_files("seg/1", ".seg"), 2);
    struct sample s;
    sample(&s, 1, today, 1);
    ASSERT_EQ_INT(store_append(st, &s.hit, 1), 0);
    ASSERT_EQ_U64(s.hit.seq, 85);
    ASSERT_EQ_INT(count_files("wal", ".log"), 1);
    store_close(st);

    st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_U64(store_hit_count(st), 85);
    sample(&s, 1, today, 2);
    ASSERT_EQ_INT(store_append(st, &s.hit, 1), 0);
    ASSERT_EQ_U64(s.hit.seq, 86);
    store_close(st);
    FILE *out = tmpfile();
    ASSERT_EQ_INT(store_check(tmp_dir, false, out), 0);
    fclose(out);
    buf_free(&before->enc);
    buf_free(&after->enc);
    free(before);
    free(after);
    rm_tmp();
}

static void test_crash_between_rename_and_log_removal(void)
{
    make_tmp();
    struct store *st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_INT(append_samples(st, 1, T(DAY0, 0), 40, 0), 0);
    char log[512], aside[600];
    ASSERT_TRUE(find_file("wal", ".log", log));
    snprintf(aside, sizeof aside, "%s/aside", tmp_dir);
    ASSERT_TRUE(copy_file(log, aside));
    char err[256];
    ASSERT_EQ_INT(store_seal(st, now_ms(), err, sizeof err), 0);
    ASSERT_EQ_INT(count_files("wal", ".log"), 0);
    store_close(st);
    ASSERT_EQ_INT(rename(aside, log), 0); /* the unlink never reached the disk */
    /* And a temp file of a seal interrupted before its rename. */
    char tmp_seg[600];
    snprintf(tmp_seg, sizeof tmp_seg, "%s/seg/1/2026-01-14.0.seg.tmp.999", tmp_dir);
    ASSERT_EQ_INT(file_write_atomic(tmp_seg, "half a segment", 14, 0644), 0);
    FILE *out = tmpfile();
    ASSERT_EQ_INT(store_check(tmp_dir, false, out), 0); /* neither is damage */
    fclose(out);
    st = open_store(true, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_U64(store_hit_count(st), 40);
    store_close(st);
    ASSERT_EQ_INT(file_size(tmp_seg), 14);

    st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_U64(store_hit_count(st), 40);
    ASSERT_EQ_INT(file_size(tmp_seg), -1); /* the writer cleans up */
    struct collect *c = calloc(1, sizeof *c);
    store_scan(st, 0, 0, INT64_MAX, collect_fn, c);
    ASSERT_EQ_INT(c->n, 40);
    ASSERT_TRUE(seqs_unique(c));
    /* The revived log holds nothing unsealed: the next seal removes it. */
    ASSERT_EQ_INT(store_seal(st, now_ms(), err, sizeof err), 0);
    ASSERT_EQ_INT(count_files("wal", ".log"), 0);
    ASSERT_EQ_U64(store_hit_count(st), 40);
    struct sample s;
    sample(&s, 1, T(DAY0, 5), 0);
    ASSERT_EQ_INT(store_append(st, &s.hit, 1), 0);
    ASSERT_EQ_U64(s.hit.seq, 41);
    store_close(st);
    buf_free(&c->enc);
    free(c);
    rm_tmp();
}

static void test_late_hit_makes_delta_segment(void)
{
    make_tmp();
    struct store *st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_INT(append_samples(st, 3, T(DAY0, 0), 10, 0), 0);
    char err[256];
    ASSERT_EQ_INT(store_seal(st, now_ms(), err, sizeof err), 0);
    ASSERT_EQ_INT(count_files("seg/3", ".seg"), 1);

    /* A cdt-dated hit for the sealed day: memory first, scan sees both. */
    struct sample s;
    sample(&s, 3, T(DAY0, 999), 77);
    ASSERT_EQ_INT(store_append(st, &s.hit, 1), 0);
    ASSERT_EQ_U64(s.hit.seq, 11);
    ASSERT_EQ_INT(scan_count(st, 3, T(DAY0, 0), T(DAY0 + 1, 0)), 11);
    store_close(st);

    /* Across a restart the late hit is replayed, not skipped. */
    st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_INT(scan_count(st, 3, T(DAY0, 0), T(DAY0 + 1, 0)), 11);
    ASSERT_EQ_INT(store_seal(st, now_ms(), err, sizeof err), 0);
    char seg[512];
    ASSERT_EQ_INT(count_files("seg/3", ".seg"), 2);
    ASSERT_TRUE(find_file("seg/3", ".1.seg", seg));
    ASSERT_EQ_INT(count_files("wal", ".log"), 0);
    struct collect *c = calloc(1, sizeof *c);
    store_scan(st, 3, T(DAY0, 0), T(DAY0 + 1, 0), collect_fn, c);
    ASSERT_EQ_INT(c->n, 11);
    ASSERT_EQ_U64(c->seqs[10], 11); /* the delta after the first seal */
    ASSERT_EQ_INT(c->times[10], T(DAY0, 999));
    store_close(st);

    st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_U64(store_hit_count(st), 11);
    sample(&s, 3, T(DAY0, 1), 78);
    ASSERT_EQ_INT(store_append(st, &s.hit, 1), 0);
    ASSERT_EQ_U64(s.hit.seq, 12);
    /* Late hits that are still arriving wait; once quiet they are sealed. */
    ASSERT_EQ_INT(store_seal(st, now_ms(), err, sizeof err), 0);
    ASSERT_TRUE(!find_file("seg/3", ".2.seg", seg));
    ASSERT_EQ_INT(store_seal(st, now_ms() + STORE_DELTA_QUIET_MS, err, sizeof err), 0);
    ASSERT_TRUE(find_file("seg/3", ".2.seg", seg));
    ASSERT_EQ_U64(store_hit_count(st), 12);
    store_close(st);
    buf_free(&c->enc);
    free(c);
    rm_tmp();
}

static void test_corrupt_segment_quarantined(void)
{
    make_tmp();
    struct store *st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_INT(append_samples(st, 1, T(DAY0, 0), 25, 0), 0);
    ASSERT_EQ_INT(append_samples(st, 1, T(DAY0 + 1, 0), 7, 25), 0);
    char err[256];
    ASSERT_EQ_INT(store_seal(st, now_ms(), err, sizeof err), 0);
    store_close(st);
    char seg[512], good[512], keep[600];
    ASSERT_TRUE(find_file("seg/1", "2026-01-13.0.seg", seg));
    ASSERT_TRUE(find_file("seg/1", "2026-01-14.0.seg", good));
    snprintf(keep, sizeof keep, "%s/pristine", tmp_dir);
    ASSERT_TRUE(copy_file(seg, keep));
    off_t size = file_size(seg);

    /* A flipped byte anywhere is caught (the file is skipped: 7 hits of the
     * other day remain) or, in the alignment padding no checksum covers,
     * changes nothing served; no open crashes. Read-only opens only skip. */
    struct collect *pristine = calloc(1, sizeof *pristine), *now = calloc(1, sizeof *now);
    st = open_store(true, NULL);
    ASSERT_TRUE(st);
    store_scan(st, 1, 0, INT64_MAX, collect_fn, pristine);
    ASSERT_EQ_INT(pristine->n, 32);
    store_close(st);
    int missed = 0, harmless = 0;
    log_set_level((enum log_level)(LOG_ERROR + 1)); /* thousands of expected errors */
    for (off_t off = 0; off < size; off += (off < 64 ? 1 : 7)) {
        flip_byte(seg, off);
        struct store *ro = open_store(true, NULL);
        buf_reset(&now->enc);
        now->n = 0;
        if (ro) store_scan(ro, 1, 0, INT64_MAX, collect_fn, now);
        if (ro && now->n == 32 && now->enc.len == pristine->enc.len &&
            memcmp(now->enc.data, pristine->enc.data, now->enc.len) == 0)
            harmless++;
        else if (!ro || now->n != 7)
            missed++;
        store_close(ro);
        flip_byte(seg, off);
    }
    /* Truncations too. */
    for (off_t cut = 0; cut < size; cut += 211) {
        ASSERT_TRUE(copy_file(keep, seg));
        ASSERT_EQ_INT(truncate(seg, cut), 0);
        struct store *ro = open_store(true, NULL);
        if (!ro || store_hit_count(ro) != 7) missed++;
        store_close(ro);
    }
    log_set_level(LOG_WARN);
    ASSERT_EQ_INT(missed, 0);
    printf("# %d flipped bytes were alignment padding\n", harmless);
    buf_free(&pristine->enc);
    buf_free(&now->enc);
    free(pristine);
    free(now);

    ASSERT_TRUE(copy_file(keep, seg));
    flip_byte(seg, size / 2);
    FILE *out = tmpfile();
    ASSERT_EQ_INT(store_check(tmp_dir, false, out), 1);
    rewind(out);
    char line[1024] = "";
    ASSERT_TRUE(fgets(line, sizeof line, out) != NULL);
    ASSERT_CONTAINS(line, "2026-01-13.0.seg");
    ASSERT_CONTAINS(line, "checksum mismatch");
    fclose(out);
    ASSERT_EQ_INT(file_size(seg), size); /* a plain check moves nothing */

    st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_U64(store_hit_count(st), 7); /* never served as wrong numbers */
    ASSERT_EQ_INT(scan_count(st, 1, T(DAY0, 0), T(DAY0 + 1, 0)), 0);
    ASSERT_EQ_INT(file_size(seg), -1);
    ASSERT_TRUE(find_file("quarantine", "seg-1-2026-01-13.0.seg", line));
    store_close(st);
    out = tmpfile();
    ASSERT_EQ_INT(store_check(tmp_dir, false, out), 0);
    fclose(out);

    /* check --quarantine moves a bad file itself, and refuses beside a writer. */
    ASSERT_TRUE(copy_file(keep, seg));
    flip_byte(seg, 3);
    st = open_store(false, NULL);
    ASSERT_TRUE(st);
    out = tmpfile();
    ASSERT_EQ_INT(store_check(tmp_dir, true, out), -EBUSY);
    store_close(st);
    ASSERT_TRUE(copy_file(keep, seg));
    flip_byte(seg, 3);
    ASSERT_EQ_INT(store_check(tmp_dir, true, out), 1);
    ASSERT_EQ_INT(file_size(seg), -1);
    ASSERT_EQ_INT(store_check(tmp_dir, false, out), 0);
    fclose(out);
    rm_tmp();
}

/* ---- segment files, read and forged by hand ----
 * Offsets, codecs and transforms follow the format documented at the top of
 * src/store/segment.c; this is a second reading of that text. */
#define SEG_FIXED 48
#define SEG_ENTRY 72

static uint32_t rd32(const char *p)
{
    const unsigned char *b = (const unsigned char *)p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static void wr32(char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (char)(v >> (8 * i));
}
static uint64_t rd64(const char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr64(char *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

static char *seg_entry(struct buf *f, const char *name)
{
    uint32_t ncols = rd32(f->data + 12);
    for (uint32_t i = 0; i < ncols && i < 4096; i++) {
        char *e = f->data + SEG_FIXED + (size_t)i * SEG_ENTRY;
        if (strcmp(e, name) == 0) return e;
    }
    return NULL;
}

/* Recomputes every checksum that can be, as a forger would. */
static void seg_reseal(struct buf *f)
{
    uint32_t ncols = rd32(f->data + 12);
    if (ncols > 4096 || SEG_FIXED + (size_t)ncols * SEG_ENTRY + 4 > f->len) return;
    for (uint32_t i = 0; i < ncols; i++) {
        char *e = f->data + SEG_FIXED + (size_t)i * SEG_ENTRY;
        uint64_t off = rd64(e + 40), len = rd64(e + 48);
        if (off <= f->len && len <= f->len - off) wr32(e + 36, crc32c(0, f->data + off, len));
    }
    size_t header = SEG_FIXED + (size_t)ncols * SEG_ENTRY;
    wr32(f->data + header, crc32c(0, f->data, header));
}

/* Undoes the transforms of n values of `width` bytes: shuffle, then delta. */
static void untransform(unsigned char *p, size_t n, unsigned width, unsigned transform)
{
    if (transform & 2) {
        unsigned char *t = malloc(n * width + 1);
        memcpy(t, p, n * width);
        for (size_t i = 0; i < n; i++)
            for (unsigned k = 0; k < width; k++) p[i * width + k] = t[k * n + i];
        free(t);
    }
    if (transform & 1) {
        uint64_t sum = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t v = 0;
            for (unsigned k = 0; k < width; k++) v |= (uint64_t)p[i * width + k] << (8 * k);
            sum += v;
            for (unsigned k = 0; k < width; k++) p[i * width + k] = (unsigned char)(sum >> (8 * k));
        }
    }
}

/* Rewrites the segment in f with every column's values stored raw: format
 * version 1, as builds before compression wrote it. With `compress`, each
 * column is then one zstd frame without transforms (version 2). */
static void seg_recode(struct buf *f, bool compress)
{
    static const unsigned widths[] = {0, 1, 2, 4, 4, 8, 8, 8, 4}; /* by type code */
    uint32_t ncols = rd32(f->data + 12);
    uint64_t rows = rd64(f->data + 32);
    size_t header = SEG_FIXED + (size_t)ncols * SEG_ENTRY;
    struct buf out;
    buf_init(&out);
    buf_append(&out, f->data, header + 4);
    for (uint32_t i = 0; i < ncols; i++) {
        const char *e = f->data + SEG_FIXED + (size_t)i * SEG_ENTRY;
        const char *src = f->data + rd64(e + 40);
        size_t len = rd64(e + 48);
        unsigned char *v;
        if (e[33] == 1) {
            len = ZSTD_getFrameContentSize(src, rd64(e + 48));
            v = malloc(len + 1);
            ASSERT_EQ_U64(ZSTD_decompress(v, len, src, rd64(e + 48)), len);
            unsigned type = (unsigned char)e[32];
            untransform(v, rows, widths[type], (unsigned char)e[34]);
            if (type == 8) /* and the dictionary offsets */
                untransform(v + rows * 4 + 4, rd32((char *)v + rows * 4), 4, (unsigned char)e[34]);
        } else {
            v = malloc(len + 1);
            memcpy(v, src, len);
        }
        if (compress) {
            size_t cap = ZSTD_compressBound(len);
            unsigned char *z = malloc(cap);
            len = ZSTD_compress(z, cap, v, len, 1);
            free(v);
            v = z;
        }
        while (out.len % 8) buf_putc(&out, '\0');
        uint64_t off = out.len;
        buf_append(&out, v, len);
        free(v);
        char *oe = out.data + SEG_FIXED + (size_t)i * SEG_ENTRY;
        oe[33] = compress;
        oe[34] = 0;
        wr64(oe + 40, off);
        wr64(oe + 48, len);
    }
    wr32(out.data + 8, compress ? 2 : 1);
    buf_free(f);
    *f = out;
    seg_reseal(f);
}

/* A hostile segment whose checksums are all correct (anyone can compute
 * CRC32C) but whose structure lies: every lie is refused, none crashes,
 * whether the lie sits in raw columns (a version 1 file) or inside
 * compressed ones. */
enum lie {
    LIE_NONE, LIE_OFFSET_PAST_END, LIE_SHORT_STR_COLUMN, LIE_DICT_COUNT, LIE_DICT_ID,
    LIE_DICT_OFFSET, LIE_DICT_NO_NUL, LIE_ROWS, LIE_NCOLS, LIE_SITE_VALUE, LIE_TIME_VALUE,
    LIE_SEQ_VALUE, LIE_TYPE, LIE_DUP_NAME, LIE_VERSION, LIE_HEADER_DAY, LIE_UNKNOWN_COLUMN,
    LIE_CODEC, LIE_COUNT
};

/* Lies told in a column's values, before it is compressed. */
static bool lie_in_values(enum lie lie)
{
    return lie == LIE_SHORT_STR_COLUMN || lie == LIE_DICT_COUNT || lie == LIE_DICT_ID ||
           lie == LIE_DICT_OFFSET || lie == LIE_DICT_NO_NUL || lie == LIE_SITE_VALUE ||
           lie == LIE_TIME_VALUE || lie == LIE_SEQ_VALUE;
}

static void seg_lie(struct buf *f, enum lie lie)
{
    char *url = seg_entry(f, "url");
    uint64_t rows = rd64(f->data + 32);
    char *col = f->data + rd64(url + 40);
    uint64_t ids = rows * 4;
    uint32_t count = rd32(col + ids);
    char *bytes = col + ids + 4 + 4 * (uint64_t)count;
    switch (lie) {
    case LIE_NONE: break;
    case LIE_OFFSET_PAST_END: wr64(url + 40, f->len - 4); break;
    case LIE_SHORT_STR_COLUMN: wr64(url + 48, ids); break;
    case LIE_DICT_COUNT: wr32(col + ids, 0xfffffff0u); break;
    case LIE_DICT_ID: wr32(col + 4, count); break; /* row 1 names entry `count` */
    case LIE_DICT_OFFSET: wr32(col + ids + 8, 0x7fffffff); break;
    case LIE_DICT_NO_NUL: memset(bytes, 'A', rd64(url + 48) - (uint64_t)(bytes - col)); break;
    case LIE_ROWS: wr64(f->data + 32, rows + 1); break;
    case LIE_NCOLS: wr32(f->data + 12, 5000); break;
    case LIE_SITE_VALUE: wr32(f->data + rd64(seg_entry(f, "site_id") + 40) + 8, 2); break;
    case LIE_TIME_VALUE:
        wr64(f->data + rd64(seg_entry(f, "time_ms") + 40), (uint64_t)T(DAY0 + 1, 0));
        break;
    case LIE_SEQ_VALUE: wr64(f->data + rd64(seg_entry(f, "seq") + 40), 1000000); break;
    case LIE_TYPE: url[32] = 3; break;
    case LIE_DUP_NAME: snprintf(seg_entry(f, "action_name"), 32, "url"); break;
    case LIE_VERSION: wr32(f->data + 8, 3); break;
    case LIE_HEADER_DAY: wr64(f->data + 24, (uint64_t)DAY0 + 1); break;
    case LIE_UNKNOWN_COLUMN: snprintf(seg_entry(f, "pv_id"), 32, "a_future_field"); break;
    case LIE_CODEC: url[33] = (char)(url[33] ? 7 : 1); break; /* zstd claimed in version 1 */
    case LIE_COUNT: break;
    }
    seg_reseal(f);
}

static int pv_id_nonempty(const struct hit *hit, void *arg)
{
    *(int *)arg += hit->pv_id[0] != '\0';
    return 0;
}

/* Seals 12 hits with pv_id set into one segment of site 1 and returns its
 * path and bytes. */
static void seal_twelve(char seg[512], struct buf *file)
{
    struct store *st = open_store(false, NULL);
    ASSERT_TRUE(st);
    for (int i = 0; i < 12; i++) {
        struct sample s;
        sample(&s, 1, T(DAY0, i), i);
        s.hit.pv_id = "abc123";
        ASSERT_EQ_INT(store_append(st, &s.hit, 1), 0);
    }
    char err[256];
    ASSERT_EQ_INT(store_seal(st, now_ms(), err, sizeof err), 0);
    store_close(st);
    ASSERT_TRUE(find_file("seg/1", ".0.seg", seg));
    buf_init(file);
    ASSERT_EQ_INT(file_read_all(seg, file), 0);
}

/* Opens the store read-only over the file in f and returns what `tally
 * check` says about it ("" when nothing), checking the hits served. */
static void open_forged(const char *seg, const struct buf *f, uint64_t expect, char line[512])
{
    ASSERT_EQ_INT(file_write_atomic(seg, f->data, f->len, 0644), 0);
    struct store *st = open_store(true, NULL);
    ASSERT_TRUE(st);
    if (store_hit_count(st) != expect)
        TEST_FAIL_("%llu hits served, expected %llu", (unsigned long long)store_hit_count(st),
                   (unsigned long long)expect);
    store_close(st);
    FILE *out = tmpfile();
    ASSERT_EQ_INT(store_check(tmp_dir, false, out), expect ? 0 : 1);
    rewind(out);
    if (!fgets(line, 512, out)) line[0] = '\0';
    fclose(out);
}

static void test_hostile_segment_with_valid_checksums(void)
{
    make_tmp();
    char seg[512];
    struct buf pristine;
    seal_twelve(seg, &pristine);

    log_set_level((enum log_level)(LOG_ERROR + 1));
    for (int compressed = 0; compressed < 2; compressed++) {
        for (int lie = 0; lie < LIE_COUNT; lie++) {
            struct buf f;
            buf_init(&f);
            buf_append(&f, pristine.data, pristine.len);
            seg_recode(&f, false);
            if (!compressed || lie_in_values((enum lie)lie)) seg_lie(&f, (enum lie)lie);
            if (compressed) seg_recode(&f, true);
            if (compressed && !lie_in_values((enum lie)lie)) seg_lie(&f, (enum lie)lie);
            uint64_t expect = lie == LIE_NONE || lie == LIE_UNKNOWN_COLUMN ? 12 : 0;
            char line[512];
            open_forged(seg, &f, expect, line);
            buf_free(&f);
            struct store *st = open_store(true, NULL);
            int with_pv_id = 0;
            store_scan(st, 0, 0, INT64_MAX, pv_id_nonempty, &with_pv_id);
            store_close(st);
            /* A column this build does not know is skipped; the field it
             * replaced reads as absent. */
            ASSERT_EQ_INT(with_pv_id, lie == LIE_NONE ? 12 : 0);
            /* Refused for the lie itself, not for a checksum. */
            if (lie == LIE_NCOLS || lie == LIE_OFFSET_PAST_END)
                ASSERT_NOT_CONTAINS(line, "mismatch");
            else if (!expect)
                ASSERT_NOT_CONTAINS(line, "checksum");
            if (!expect)
                printf("# %s lie %d: %s", compressed ? "zstd" : "raw", lie,
                       strstr(line, ": ") ? strstr(line, ": ") + 2 : line);
        }
    }
    log_set_level(LOG_WARN);
    buf_free(&pristine);
    rm_tmp();
}

/* Appends a hand-made zstd frame that declares `content` bytes but holds
 * one RLE block of `block` zero bytes, and points column `name` at it. */
static void seg_point_at_frame(struct buf *f, const char *name, uint64_t content, uint32_t block)
{
    char frame[17];
    wr32(frame, 0xFD2FB528u); /* magic */
    frame[4] = (char)0xE0;    /* single segment, 8-byte content size */
    wr64(frame + 5, content);
    uint32_t block_header = 1 | 1 << 1 | block << 3; /* last block, RLE */
    for (int i = 0; i < 3; i++) frame[13 + i] = (char)(block_header >> (8 * i));
    frame[16] = 0;
    while (f->len % 8) buf_putc(f, '\0');
    char *e = seg_entry(f, name);
    wr64(e + 40, f->len);
    wr64(e + 48, sizeof frame);
    e[33] = 1;
    e[34] = 0;
    buf_append(f, frame, sizeof frame);
    seg_reseal(f);
}

/* Compressed columns that lie about their size are refused before
 * anything is allocated for them, and frames that lie about their content
 * are refused when they are decompressed. */
static void test_hostile_compressed_columns(void)
{
    make_tmp();
    char seg[512], line[512];
    struct buf pristine, f;
    seal_twelve(seg, &pristine);
    log_set_level((enum log_level)(LOG_ERROR + 1));

    /* Changed in place after it was opened (segments are only ever renamed
     * into place): a scan decodes it again and refuses it. */
    struct store *st = open_store(true, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_INT(scan_count(st, 1, 0, INT64_MAX), 12);
    char *url = seg_entry(&pristine, "url");
    flip_byte(seg, (off_t)(rd64(url + 40) + rd64(url + 48) / 2));
    struct collect *c = calloc(1, sizeof *c);
    ASSERT_EQ_INT(store_scan(st, 1, 0, INT64_MAX, collect_fn, c), -EBADMSG);
    ASSERT_EQ_INT(c->n, 0);
    buf_free(&c->enc);
    free(c);
    store_close(st);

    /* A terabyte promised: refused by its declared size, not by malloc. */
    buf_init(&f);
    buf_append(&f, pristine.data, pristine.len);
    seg_point_at_frame(&f, "seq", (uint64_t)1 << 40, 1000);
    open_forged(seg, &f, 0, line);
    ASSERT_CONTAINS(line, "column seq declares a decompressed size impossible for 12 rows");
    buf_free(&f);

    /* The header's row count raised to match: still more than 17 stored
     * bytes can hold. */
    buf_init(&f);
    buf_append(&f, pristine.data, pristine.len);
    wr64(f.data + 32, (uint64_t)1 << 28);
    seg_point_at_frame(&f, "seq", (uint64_t)8 << 28, 1000);
    open_forged(seg, &f, 0, line);
    ASSERT_CONTAINS(line, "column seq declares a decompressed size impossible for 268435456 rows");
    buf_free(&f);

    /* The right size declared, one byte short delivered. */
    buf_init(&f);
    buf_append(&f, pristine.data, pristine.len);
    seg_point_at_frame(&f, "seq", 12 * 8, 12 * 8 - 1);
    open_forged(seg, &f, 0, line);
    ASSERT_CONTAINS(line, "column seq does not decompress");
    buf_free(&f);

    /* A frame with bytes after it. */
    buf_init(&f);
    buf_append(&f, pristine.data, pristine.len);
    wr64(seg_entry(&f, "url") + 48, rd64(seg_entry(&f, "url") + 48) + 1);
    seg_reseal(&f);
    open_forged(seg, &f, 0, line);
    ASSERT_CONTAINS(line, "column url is not one zstd frame");
    buf_free(&f);

    /* Garbage inside the frame, checksums recomputed. */
    buf_init(&f);
    buf_append(&f, pristine.data, pristine.len);
    url = seg_entry(&f, "url");
    ASSERT_EQ_INT(url[33], 1);
    memset(f.data + rd64(url + 40) + 6, 0xff, rd64(url + 48) - 6);
    seg_reseal(&f);
    open_forged(seg, &f, 0, line);
    ASSERT_CONTAINS(line, "column url");
    buf_free(&f);

    /* A flipped byte inside a compressed column: caught by its checksum
     * before decompression, and a writer moves the file aside. */
    buf_init(&f);
    buf_append(&f, pristine.data, pristine.len);
    url = seg_entry(&f, "url");
    f.data[rd64(url + 40) + rd64(url + 48) / 2] ^= 0x10;
    open_forged(seg, &f, 0, line);
    ASSERT_CONTAINS(line, "column url checksum mismatch");
    buf_free(&f);
    st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_U64(store_hit_count(st), 0);
    store_close(st);
    ASSERT_EQ_INT(file_size(seg), -1);
    ASSERT_TRUE(find_file("quarantine", "seg-1-2026-01-13.0.seg", line));

    log_set_level(LOG_WARN);
    buf_free(&pristine);
    rm_tmp();
}

/* Every field type through a sealed segment and back, bit for bit; the
 * same file rewritten as format version 1 reads the same. */
static void test_segment_round_trip_every_field(void)
{
    make_tmp();
    struct store *st = open_store(false, NULL);
    ASSERT_TRUE(st);
    static char long_str[70000];
    memset(long_str, 'x', sizeof long_str - 1);
    long_str[100] = '\xe2';
    for (int i = 0; i < 40; i++) {
        struct hit h;
        fill_every_field(&h, long_str);
        h.site_id = 1;
        h.time_ms = T(DAY0, 1000 * i);
        /* Rising, falling, repeating and extreme values, and strings that
         * vary by row. */
        h.visit_id += (uint64_t)i / 3;
        h.visitor_id -= (uint64_t)i * 0x0101010101ull;
        h.days_since_last_visit = i % 2 ? INT32_MIN : INT32_MAX;
        h.screen_width = (uint16_t)(i * 2000);
        h.revenue = i % 4 ? h.revenue : -0.0;
        char url[64], name[64];
        snprintf(url, sizeof url, "https://example.com/%d", i % 7);
        snprintf(name, sizeof name, "row %d", i);
        h.url = url;
        h.action_name = name;
        ASSERT_EQ_INT(store_append(st, &h, 1), 0);
    }
    struct collect *before = calloc(1, sizeof *before), *after = calloc(1, sizeof *after);
    store_scan(st, 1, 0, INT64_MAX, collect_fn, before);
    ASSERT_EQ_INT(before->n, 40);
    char err[256];
    ASSERT_EQ_INT(store_seal(st, now_ms(), err, sizeof err), 0);
    store_close(st);

    char seg[512];
    ASSERT_TRUE(find_file("seg/1", ".0.seg", seg));
    struct buf f;
    buf_init(&f);
    ASSERT_EQ_INT(file_read_all(seg, &f), 0);
    ASSERT_EQ_INT(rd32(f.data + 8), 2);
    ASSERT_EQ_INT(seg_entry(&f, "url")[33], 1); /* compressed */
    size_t compressed_size = f.len;
    for (int version = 2; version >= 1; version--) {
        if (version == 1) {
            seg_recode(&f, false);
            ASSERT_TRUE(compressed_size * 4 < f.len);
            ASSERT_EQ_INT(file_write_atomic(seg, f.data, f.len, 0644), 0);
        }
        st = open_store(true, NULL);
        ASSERT_TRUE(st);
        buf_reset(&after->enc);
        after->n = 0;
        store_scan(st, 1, 0, INT64_MAX, collect_fn, after);
        ASSERT_EQ_INT(after->n, 40);
        ASSERT_TRUE(after->enc.len == before->enc.len &&
                    memcmp(after->enc.data, before->enc.data, before->enc.len) == 0);
        store_close(st);
    }
    buf_free(&f);
    buf_free(&before->enc);
    buf_free(&after->enc);
    free(before);
    free(after);
    rm_tmp();
}

/* ---- locking ---- */

static void test_second_writer_busy(void)
{
    make_tmp();
    struct store *st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_INT(append_samples(st, 1, T(DAY0, 0), 3, 0), 0);
    struct store_options o = {.data_dir = tmp_dir, .fsync = STORE_FSYNC_NEVER};
    struct store *second = NULL;
    char err[512] = "", pid[32];
    ASSERT_EQ_INT(store_open(&o, &second, err, sizeof err), -EBUSY);
    ASSERT_TRUE(second == NULL);
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    ASSERT_CONTAINS(err, pid);
    /* Readers run beside the writer. */
    struct store *ro = open_store(true, NULL);
    ASSERT_TRUE(ro);
    ASSERT_EQ_U64(store_hit_count(ro), 3);
    store_close(ro);
    store_close(st);
    ASSERT_EQ_INT(store_open(&o, &second, err, sizeof err), 0);
    store_close(second);
    rm_tmp();
}

/* A reader process opening the store again and again while the writer
 * appends, seals and removes logs: thanks to seal.lock it never sees a hit
 * twice (segment and log both listed) or misses one (neither listed).
 * `appended` (shared memory) counts hits already in the log before each
 * open starts, a lower bound for what that open must see. */
static int reader_loop(const int *appended, double seconds_to_run)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct collect *c = calloc(1, sizeof *c);
    int opens = 0;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 > seconds_to_run) break;
        int at_least = __atomic_load_n(appended, __ATOMIC_SEQ_CST);
        struct store *st = open_store(true, NULL);
        if (!st) return 2;
        buf_reset(&c->enc);
        c->n = 0;
        store_scan(st, 0, 0, INT64_MAX, collect_fn, c);
        store_close(st);
        if (c->n < (size_t)at_least) {
            printf("# reader saw %zu hits, at least %d were stored\n", c->n, at_least);
            return 3;
        }
        if (c->n > 4096 || !seqs_unique(c)) return 4;
        opens++;
    }
    return opens > 3 ? 0 : 5;
}

static void test_reader_beside_sealing_writer(void)
{
    make_tmp();
    struct store *st = open_store(false, NULL);
    ASSERT_TRUE(st);
    int *appended = mmap(NULL, sizeof *appended, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(appended != MAP_FAILED);
    ASSERT_EQ_INT(append_samples(st, 1, T(DAY0, 0), 100, 0), 0);
    ASSERT_EQ_INT(append_samples(st, 1, T(DAY0 + 1, 0), 100, 100), 0);
    *appended = 200;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) _exit(reader_loop(appended, 2.0));
    char err[256];
    for (int k = 0; k < 100; k++) {
        ASSERT_EQ_INT(append_samples(st, 1, T(DAY0 + k % 3, 50000 + k), 20, *appended), 0);
        __atomic_add_fetch(appended, 20, __ATOMIC_SEQ_CST);
        ASSERT_EQ_INT(store_seal(st, now_ms(), err, sizeof err), 0);
        usleep(10000);
    }
    int status = -1;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ_INT(WEXITSTATUS(status), 0);
    ASSERT_EQ_U64(store_hit_count(st), (uint64_t)*appended);
    store_close(st);
    munmap(appended, sizeof *appended);
    rm_tmp();
}

/* ---- scans ---- */

static void test_scan_filters_exact(void)
{
    make_tmp();
    struct store *st = open_store(false, NULL);
    ASSERT_TRUE(st);
    /* Sites 1..3, days DAY0..DAY0+2, hits at the first and last ms of each
     * day and at noon; site s gets s hits at noon. */
    for (uint32_t site = 1; site <= 3; site++)
        for (int d = 0; d < 3; d++) {
            struct sample s;
            sample(&s, site, T(DAY0 + d, 0), 0);
            ASSERT_EQ_INT(store_append(st, &s.hit, 1), 0);
            sample(&s, site, T(DAY0 + d, MS_PER_DAY - 1), 1);
            ASSERT_EQ_INT(store_append(st, &s.hit, 1), 0);
            for (uint32_t k = 0; k < site; k++) {
                sample(&s, site, T(DAY0 + d, MS_PER_DAY / 2), 2);
                ASSERT_EQ_INT(store_append(st, &s.hit, 1), 0);
            }
        }
    char err[256];
    for (int pass = 0; pass < 3; pass++) {
        /* pass 0: all in memory; 1: DAY0 sealed (mixed); 2: after reopen */
        if (pass == 1) {
            ASSERT_EQ_INT(store_seal(st, T(DAY0 + 1, 3600 * 1000 + 1), err, sizeof err), 0);
            ASSERT_EQ_INT(count_files("seg/2", ".seg"), 1);
        }
        if (pass == 2) {
            store_close(st);
            st = open_store(false, NULL);
            ASSERT_TRUE(st);
        }
        ASSERT_EQ_U64(store_hit_count(st), 3 * (2 + 1) + 3 * (2 + 2) + 3 * (2 + 3));
        ASSERT_EQ_INT(scan_count(st, 0, 0, INT64_MAX), 36);
        ASSERT_EQ_INT(scan_count(st, 2, 0, INT64_MAX), 12);
        ASSERT_EQ_INT(scan_count(st, 4, 0, INT64_MAX), 0);
        ASSERT_EQ_INT(scan_count(st, 3, T(DAY0, 0), T(DAY0 + 1, 0)), 5);
        ASSERT_EQ_INT(scan_count(st, 3, T(DAY0, 1), T(DAY0 + 1, 0)), 4);
        ASSERT_EQ_INT(scan_count(st, 3, T(DAY0, 0), T(DAY0 + 1, -1)), 4);
        ASSERT_EQ_INT(scan_count(st, 1, T(DAY0, MS_PER_DAY - 1), T(DAY0 + 1, 1)), 2);
        /* Per site s: DAY0 noon (s) and last ms, all of DAY0+1 (2 + s), DAY0+2's first ms. */
        ASSERT_EQ_INT(scan_count(st, 0, T(DAY0, MS_PER_DAY / 2), T(DAY0 + 2, MS_PER_DAY / 2)),
                      (1 + 1 + 3 + 1) + (2 + 1 + 4 + 1) + (3 + 1 + 5 + 1));
        ASSERT_EQ_INT(scan_count(st, 0, T(DAY0 + 1, 0), T(DAY0 + 1, 0)), 0);
        ASSERT_EQ_INT(scan_count(st, 0, T(DAY0 + 3, 0), INT64_MAX), 0);
        /* Sealed first, then memory; each in append order. */
        struct collect *c = calloc(1, sizeof *c);
        store_scan(st, 1, 0, INT64_MAX, collect_fn, c);
        ASSERT_EQ_INT(c->n, 9);
        for (size_t i = 1; i < c->n; i++) ASSERT_TRUE(c->seqs[i] > c->seqs[i - 1]);
        for (size_t i = 0; i < c->n; i++) ASSERT_EQ_INT(c->sites[i], 1);
        buf_free(&c->enc);
        free(c);
    }
    store_close(st);
    rm_tmp();
}

static int stop_at_three(const struct hit *hit, void *arg)
{
    (void)hit;
    return ++*(int *)arg == 3 ? 42 : 0;
}

static void test_scan_stops_on_nonzero(void)
{
    make_tmp();
    struct store *st = open_store(false, NULL);
    ASSERT_TRUE(st);
    ASSERT_EQ_INT(append_samples(st, 1, T(DAY0, 0), 10, 0), 0);
    int seen = 0;
    ASSERT_EQ_INT(store_scan(st, 0, 0, INT64_MAX, stop_at_three, &seen), 42);
    ASSERT_EQ_INT(seen, 3);
    store_close(st);
    rm_tmp();
}

/* ---- speed (printed, not asserted) ---- */

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int count_fn(const struct hit *hit, void *arg)
{
    *(uint64_t *)arg += hit->site_id != 0;
    return 0;
}

static uint64_t fast_count(struct store *st)
{
    uint64_t n = 0;
    store_scan(st, 0, 0, INT64_MAX, count_fn, &n);
    return n;
}

static void test_append_rate(void)
{
    make_tmp();
    struct store *st = open_store(false, NULL);
    ASSERT_TRUE(st);
    enum { N = 1000000, NB = 200000, BATCH = 64 };
    static struct sample s[BATCH];
    int64_t t0 = now_ms() - 60000;
    double start = seconds();
    for (int i = 0; i < N; i++) {
        sample(&s[0], 1 + (uint32_t)(i & 3), t0 + i / 100, i);
        if (store_append(st, &s[0].hit, 1)) TEST_FAIL_("append %d failed", i);
    }
    double single = seconds() - start;
    printf("# append rate: %.0f hits/s (one hit per call)\n", N / single);
    start = seconds();
    for (int i = 0; i < NB; i += BATCH) {
        struct hit batch[BATCH];
        for (int j = 0; j < BATCH; j++) {
            sample(&s[j], 1 + (uint32_t)(j & 3), t0 + i / 100, i + j);
            batch[j] = s[j].hit;
        }
        if (store_append(st, batch, BATCH)) TEST_FAIL_("append batch %d failed", i);
    }
    double batched = seconds() - start;
    uint64_t expect = N + (NB + BATCH - 1) / BATCH * BATCH;
    printf("# append rate: %.0f hits/s (batches of %d)\n", (expect - N) / batched, BATCH);
    ASSERT_EQ_U64(store_hit_count(st), expect);
    start = seconds();
    ASSERT_EQ_U64(fast_count(st), expect);
    printf("# memory scan: %.0f hits/s\n", expect / (seconds() - start));
    store_close(st);
    start = seconds();
    st = open_store(false, NULL);
    ASSERT_TRUE(st);
    printf("# replay: %.0f hits/s\n", expect / (seconds() - start));
    ASSERT_EQ_U64(store_hit_count(st), expect);
    char err[256];
    start = seconds();
    ASSERT_EQ_INT(store_seal(st, t0 + 2 * MS_PER_DAY, err, sizeof err), 0);
    printf("# seal: %.0f hits/s\n", expect / (seconds() - start));
    start = seconds();
    ASSERT_EQ_U64(fast_count(st), expect);
    printf("# segment scan: %.0f hits/s\n", expect / (seconds() - start));
    store_close(st);
    rm_tmp();
}

int main(void)
{
    TEST_RUN(test_fsync_parse);
    TEST_RUN(test_codec_round_trip_every_field);
    TEST_RUN(test_codec_rejects_truncated_and_garbage);
    TEST_RUN(test_codec_old_and_new_records);
    TEST_RUN(test_append_close_reopen_identical);
    TEST_RUN(test_fsync_policies);
    TEST_RUN(test_torn_tail_truncated_and_appends_continue);
    TEST_RUN(test_flipped_byte_quarantines_the_tail);
    TEST_RUN(test_hostile_log_records);
    TEST_RUN(test_failed_write_leaves_no_torn_record);
    TEST_RUN(test_seal_then_reopen_serves_segment);
    TEST_RUN(test_crash_between_rename_and_log_removal);
    TEST_RUN(test_late_hit_makes_delta_segment);
    TEST_RUN(test_corrupt_segment_quarantined);
    TEST_RUN(test_hostile_segment_with_valid_checksums);
    TEST_RUN(test_hostile_compressed_columns);
    TEST_RUN(test_segment_round_trip_every_field);
    TEST_RUN(test_second_writer_busy);
    TEST_RUN(test_reader_beside_sealing_writer);
    TEST_RUN(test_scan_filters_exact);
    TEST_RUN(test_scan_stops_on_nonzero);
    TEST_RUN(test_append_rate);
    return TEST_DONE();
}
