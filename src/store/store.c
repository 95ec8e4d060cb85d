/* The store: write-ahead log, memory tables, sealing, scans and checks.
 *
 * Log rotation: a writer starts a new log file at each open (so replay never
 * has to append behind a truncated tail) and whenever the UTC day of arrival
 * changes, so every log file holds about one day of arrivals. Once that day
 * is sealed (plus any late hits it carried) the whole file is unsealed-free
 * and removed; a single ever-growing file could never be removed while the
 * server runs.
 *
 * Crash safety of sealing, step by step:
 *   1. the segment is written to a temp file, fsynced, renamed, and the
 *      folder fsynced: before the rename, replay rebuilds the same memory
 *      table from the log; after it, replay skips every record of that
 *      (site, day) whose seq <= the segment's sealed_through_seq;
 *   2. only then are log files whose records are all sealed unlinked.
 * So a crash between any two steps neither loses nor duplicates a hit.
 *
 * Locks (flock, so they vanish with a killed process):
 *   DATA/LOCK       the writer holds it exclusively for its lifetime and
 *                   writes its pid into it for the -EBUSY message;
 *   DATA/seal.lock  the writer holds it exclusively while it replays and
 *                   truncates logs at open, renames a segment, or removes
 *                   logs; readers hold it shared while they list segments
 *                   and read logs, so no seal can move hits from the logs
 *                   they have not read yet into segments they already listed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define FILE_MODE 0640
#define WAL_CHUNK (1u << 20)

/* Which log files a memory table's records came from, so sealing the table
 * can tell when a log file holds nothing unsealed any more. */
struct log_ref {
    uint32_t log_no;
    uint64_t count;
};

/* Everything known about one (site, UTC day): its segments' seal point and
 * its unsealed hits. Allocated once and kept until close, so pointers to it
 * stay valid across hash growth and seals. */
struct day_table {
    uint32_t site;
    int64_t day;
    uint64_t sealed_through; /* max sealed_through_seq of its segments, 0 if none */
    uint32_t next_n;         /* N of the next segment to write */
    struct buf arena;        /* encoded records, back to back */
    uint64_t *offsets;       /* start of each record in arena */
    size_t count, cap;
    uint64_t max_seq;
    int64_t last_append_ms;  /* wall clock of the last store_append; 0 for replayed hits */
    struct log_ref *refs;
    size_t nrefs, refs_cap;
};

struct log_file {
    uint32_t no;
    uint64_t unsealed;
};

/* One hit of the batch being appended: where its payload sits in `batch`. */
struct pending {
    struct day_table *table;
    size_t off, len;
};

struct store {
    char *dir;
    enum store_fsync fsync;
    bool read_only;
    int64_t seal_grace_ms;
    int lock_fd, seal_fd;

    uint64_t last_seq, sealed_hits, memory_hits;

    struct segment **segs; /* sorted by (site, day, n) */
    size_t nsegs, segs_cap;

    struct day_table **slots; /* open addressing on (site, day) */
    size_t nslots, ntables;
    struct day_table *recent; /* most hits go to the same table as the previous one */

    struct log_file *logs; /* sorted by no */
    size_t nlogs, logs_cap;
    int log_fd; /* the log being appended to, -1 before the first append */
    uint32_t log_no, next_log_no;
    int64_t log_day;
    uint64_t log_size;
    bool dirty;

    struct buf batch;
    struct pending *pend;
    size_t pend_cap;
};

/* ---- small helpers ---- */

static int path_fmt(char out[PATH_MAX], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int path_fmt(char out[PATH_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, PATH_MAX, fmt, ap);
    va_end(ap);
    return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static void *xrealloc(void *p, size_t n, size_t size)
{
    p = realloc(p, n * size);
    if (!p) abort(); /* like struct buf: no sensible recovery */
    return p;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = fsync(fd) ? -errno : 0;
    close(fd);
    return rc;
}

/* Parses a decimal u32 that is the whole of [s, s+len), no leading zeros. */
static bool parse_u32_exact(const char *s, size_t len, uint32_t *out)
{
    if (len == 0 || len > 10 || (s[0] == '0' && len > 1)) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX) return false;
    *out = (uint32_t)v;
    return true;
}

/* "00000012.log" -> 12 */
static bool parse_log_name(const char *name, uint32_t *no)
{
    size_t len = strlen(name);
    if (len < 5 || strcmp(name + len - 4, ".log") != 0) return false;
    len -= 4;
    while (len > 1 && name[0] == '0') name++, len--;
    return parse_u32_exact(name, len, no);
}

/* "2026-11-28.3.seg" -> day, 3 */
static bool parse_seg_name(const char *name, int64_t *day, uint32_t *n)
{
    size_t len = strlen(name);
    if (len < 16 || name[10] != '.' || strcmp(name + len - 4, ".seg") != 0) return false;
    char date[11];
    memcpy(date, name, 10);
    date[10] = '\0';
    if (parse_date(date, day) || *day < 0 || *day > STORE_MAX_DAY) return false;
    return parse_u32_exact(name + 11, len - 15, n);
}

/* ---- locks ---- */

static void seal_lock(int fd, int op)
{
    if (fd < 0) return;
    while (flock(fd, op) && errno == EINTR) {}
}

static int take_writer_lock(struct store *s, char *err, size_t errlen)
{
    char path[PATH_MAX];
    int rc = path_fmt(path, "%s/LOCK", s->dir);
    if (rc) return rc;
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, FILE_MODE);
    if (s->lock_fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot open %s: %s; check the permissions of the data folder", path,
                 strerror(errno));
        return rc;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB)) {
        rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
        char pid[32] = "";
        ssize_t n = pread(s->lock_fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\r\n")] = '\0';
        if (rc == -EBUSY)
            snprintf(err, errlen,
                     "data folder %s is in use by another tally process (pid %s); stop it first "
                     "or use a different --data folder",
                     s->dir, pid[0] ? pid : "unknown");
        else
            snprintf(err, errlen, "cannot lock %s: %s", path, strerror(-rc));
        return rc;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(s->lock_fd, 0) || pwrite(s->lock_fd, pid, (size_t)len, 0) != len) {
        rc = -errno;
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return rc;
    }
    return 0;
}

/* ---- quarantine ---- */

/* DATA/quarantine/NAME, or NAME.1, NAME.2 ... when taken: quarantined files
 * are evidence and are never overwritten. */
static int quarantine_path(const char *dir, const char *name, char out[PATH_MAX])
{
    char qdir[PATH_MAX];
    int rc = path_fmt(qdir, "%s/quarantine", dir);
    if (rc || (rc = mkdir_p(qdir, 0750))) return rc;
    if ((rc = path_fmt(out, "%s/%s", qdir, name))) return rc;
    struct stat st;
    for (unsigned i = 1; lstat(out, &st) == 0; i++)
        if ((rc = path_fmt(out, "%s/%s.%u", qdir, name, i))) return rc;
    return 0;
}

static int quarantine_move(const char *dir, const char *path, const char *name,
                           char moved[PATH_MAX])
{
    int rc = quarantine_path(dir, name, moved);
    if (rc) return rc;
    return rename(path, moved) ? -errno : 0;
}

/* Saves the bytes of a log from off to its end into quarantine, then cuts
 * the log there, so a corruption in the middle never silently destroys the
 * records behind it. */
static int quarantine_log_tail(const char *dir, const char *path, const char *name, uint64_t off,
                               char moved[PATH_MAX])
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct buf tail;
    buf_init(&tail);
    char qname[PATH_MAX];
    int rc = 0;
    for (uint64_t pos = off;;) {
        buf_reserve(&tail, WAL_CHUNK);
        ssize_t n = pread(fd, tail.data + tail.len, WAL_CHUNK, (off_t)pos);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0) break;
        tail.len += (size_t)n;
        pos += (uint64_t)n;
    }
    if (rc == 0) rc = path_fmt(qname, "%s.tail-%" PRIu64, name, off);
    if (rc == 0) rc = quarantine_path(dir, qname, moved);
    if (rc == 0) rc = file_write_atomic(moved, tail.data, tail.len, FILE_MODE);
    if (rc == 0 && (ftruncate(fd, (off_t)off) || fsync(fd))) rc = -errno;
    buf_free(&tail);
    close(fd);
    return rc;
}

/* ---- log reading ---- */

typedef int (*wal_record_fn)(void *arg, const struct hit *hit, const char *payload, size_t len);

struct wal_problem {
    uint64_t offset;   /* where the first bad record starts */
    uint64_t file_len; /* bytes in the file when it was read */
    bool cut_short;    /* the record merely runs past the end (an unfinished write) */
    char why[128];
};

/* Streams path record by record (a log can be larger than memory), calling
 * fn for each valid one. Returns 0 at a clean end, 1 when it stopped at a bad
 * record (described in *bad), fn's non-zero return, or a negative errno.
 * Reads with read(), not mmap, because a writer may truncate the file
 * underneath a reader. */
static int wal_read(const char *path, wal_record_fn fn, void *arg, struct wal_problem *bad)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct buf b;
    buf_init(&b);
    uint64_t base = 0; /* file offset of b.data[0] */
    size_t pos = 0;
    bool eof = false;
    int rc = 0;
    *bad = (struct wal_problem){0};
    for (;;) {
        size_t avail = b.len - pos, need = 8;
        if (avail >= 8) {
            uint32_t len = store_le32(b.data + pos);
            if (len < 3 || len > STORE_MAX_RECORD) {
                snprintf(bad->why, sizeof bad->why, "impossible record length %u", len);
                rc = 1;
                break;
            }
            need = 8 + (size_t)len;
            if (avail >= need) {
                const char *payload = b.data + pos + 8;
                struct hit hit;
                if (crc32c(0, payload, len) != store_le32(b.data + pos + 4)) {
                    snprintf(bad->why, sizeof bad->why, "record checksum mismatch");
                    rc = 1;
                    break;
                }
                if (store_hit_decode(payload, len, &hit) || !store_hit_placeable(&hit)) {
                    snprintf(bad->why, sizeof bad->why, "record does not decode to a valid hit");
                    rc = 1;
                    break;
                }
                if ((rc = fn(arg, &hit, payload, len))) break;
                pos += need;
                continue;
            }
        }
        if (eof) {
            if (avail) {
                snprintf(bad->why, sizeof bad->why, "record cut short by the end of the file");
                bad->cut_short = true;
                rc = 1;
            }
            break;
        }
        /* Keep the unread part and read at least one more chunk. */
        if (avail) memmove(b.data, b.data + pos, avail);
        base += pos;
        b.len = avail;
        pos = 0;
        buf_reserve(&b, need > WAL_CHUNK ? need : WAL_CHUNK);
        ssize_t n = read(fd, b.data + b.len, b.cap - b.len - 1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0) eof = true;
        b.len += (size_t)n;
    }
    bad->offset = base + pos;
    struct stat st;
    bad->file_len = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : base + b.len;
    buf_free(&b);
    close(fd);
    return rc;
}

/* Sorted numbers of DATA/wal/NNNNNNNN.log; *out is malloced (may be NULL). */
static int list_logs(const char *dir, uint32_t **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    char path[PATH_MAX];
    int rc = path_fmt(path, "%s/wal", dir);
    if (rc) return rc;
    DIR *d = opendir(path);
    if (!d) return errno == ENOENT ? 0 : -errno;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        uint32_t no;
        if (!parse_log_name(de->d_name, &no)) continue;
        if (*count == cap) *out = xrealloc(*out, cap = cap ? cap * 2 : 16, sizeof **out);
        (*out)[(*count)++] = no;
    }
    closedir(d);
    for (size_t i = 1; i < *count; i++) /* insertion sort: a handful of files */
        for (size_t j = i; j > 0 && (*out)[j - 1] > (*out)[j]; j--) {
            uint32_t t = (*out)[j];
            (*out)[j] = (*out)[j - 1];
            (*out)[j - 1] = t;
        }
    return 0;
}

/* Calls fn for every DATA/seg/SITE/YYYY-MM-DD.N.seg; removes leftover temp
 * files of an interrupted seal when remove_temps is set. */
typedef int (*seg_file_fn)(void *arg, const char *path, uint32_t site, int64_t day, uint32_t n);

static int walk_segments(const char *dir, bool remove_temps, seg_file_fn fn, void *arg)
{
    char path[PATH_MAX];
    int rc = path_fmt(path, "%s/seg", dir);
    if (rc) return rc;
    DIR *d = opendir(path);
    if (!d) return errno == ENOENT ? 0 : -errno;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        uint32_t site;
        if (!parse_u32_exact(de->d_name, strlen(de->d_name), &site) || site == 0) continue;
        char sdir[PATH_MAX];
        if ((rc = path_fmt(sdir, "%s/%s", path, de->d_name))) break;
        DIR *sd = opendir(sdir);
        if (!sd) continue;
        struct dirent *fe;
        while (rc == 0 && (fe = readdir(sd))) {
            char fpath[PATH_MAX];
            if ((rc = path_fmt(fpath, "%s/%s", sdir, fe->d_name))) break;
            int64_t day;
            uint32_t n;
            if (parse_seg_name(fe->d_name, &day, &n)) rc = fn(arg, fpath, site, day, n);
            else if (remove_temps && strstr(fe->d_name, ".seg.tmp.")) unlink(fpath);
        }
        closedir(sd);
    }
    closedir(d);
    return rc;
}

/* ---- tables ---- */

static size_t table_hash(uint32_t site, int64_t day)
{
    uint64_t h = ((uint64_t)site << 32 ^ (uint64_t)day) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 17);
}

static struct day_table *table_get(struct store *s, uint32_t site, int64_t day)
{
    struct day_table *t = s->recent;
    if (t && t->site == site && t->day == day) return t;
    if (s->ntables * 2 >= s->nslots) {
        size_t nslots = s->nslots ? s->nslots * 2 : 64;
        struct day_table **slots = calloc(nslots, sizeof *slots);
        if (!slots) abort();
        for (size_t i = 0; i < s->nslots; i++) {
            struct day_table *o = s->slots[i];
            if (!o) continue;
            size_t j = table_hash(o->site, o->day) & (nslots - 1);
            while (slots[j]) j = (j + 1) & (nslots - 1);
            slots[j] = o;
        }
        free(s->slots);
        s->slots = slots;
        s->nslots = nslots;
    }
    size_t i = table_hash(site, day) & (s->nslots - 1);
    for (; (t = s->slots[i]); i = (i + 1) & (s->nslots - 1))
        if (t->site == site && t->day == day) return s->recent = t;
    t = calloc(1, sizeof *t);
    if (!t) abort();
    t->site = site;
    t->day = day;
    buf_init(&t->arena);
    s->slots[i] = t;
    s->ntables++;
    return s->recent = t;
}

static void table_release_memory(struct day_table *t)
{
    buf_free(&t->arena);
    free(t->offsets);
    free(t->refs);
    t->offsets = NULL;
    t->refs = NULL;
    t->count = t->cap = t->nrefs = t->refs_cap = 0;
    t->max_seq = 0;
}

static void table_add(struct store *s, struct day_table *t, const char *payload, size_t len,
                      uint64_t seq, uint32_t log_no)
{
    if (t->count == t->cap) t->offsets = xrealloc(t->offsets, t->cap = t->cap ? t->cap * 2 : 256, 8);
    t->offsets[t->count++] = t->arena.len;
    buf_append(&t->arena, payload, len);
    if (seq > t->max_seq) t->max_seq = seq;
    if (!t->nrefs || t->refs[t->nrefs - 1].log_no != log_no) {
        if (t->nrefs == t->refs_cap)
            t->refs = xrealloc(t->refs, t->refs_cap = t->refs_cap ? t->refs_cap * 2 : 4,
                               sizeof *t->refs);
        t->refs[t->nrefs++] = (struct log_ref){log_no, 0};
    }
    t->refs[t->nrefs - 1].count++;
    s->memory_hits++;
}

static struct log_file *log_find(struct store *s, uint32_t no)
{
    size_t lo = 0, hi = s->nlogs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->logs[mid].no == no) return &s->logs[mid];
        if (s->logs[mid].no < no) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* Log numbers only grow, so appending keeps the array sorted. */
static struct log_file *log_add(struct store *s, uint32_t no)
{
    if (s->nlogs == s->logs_cap)
        s->logs = xrealloc(s->logs, s->logs_cap = s->logs_cap ? s->logs_cap * 2 : 16,
                           sizeof *s->logs);
    s->logs[s->nlogs] = (struct log_file){no, 0};
    return &s->logs[s->nlogs++];
}

static int seg_cmp(const void *a, const void *b)
{
    const struct segment *x = *(struct segment *const *)a, *y = *(struct segment *const *)b;
    if (x->site != y->site) return x->site < y->site ? -1 : 1;
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    return x->n < y->n ? -1 : x->n > y->n;
}

static int table_cmp(const void *a, const void *b)
{
    const struct day_table *x = *(struct day_table *const *)a, *y = *(struct day_table *const *)b;
    if (x->site != y->site) return x->site < y->site ? -1 : 1;
    return x->day < y->day ? -1 : x->day > y->day;
}

static void segment_add(struct store *s, struct segment *seg)
{
    if (s->nsegs == s->segs_cap)
        s->segs = xrealloc(s->segs, s->segs_cap = s->segs_cap ? s->segs_cap * 2 : 64,
                           sizeof *s->segs);
    s->segs[s->nsegs++] = seg;
    struct day_table *t = table_get(s, seg->site, seg->day);
    if (seg->sealed_through_seq > t->sealed_through) t->sealed_through = seg->sealed_through_seq;
    if (seg->n >= t->next_n) t->next_n = seg->n + 1;
    if (seg->sealed_through_seq > s->last_seq) s->last_seq = seg->sealed_through_seq;
    s->sealed_hits += seg->rows;
}

/* ---- open ---- */

struct load_ctx {
    struct store *store;
    struct seg_view view; /* reused from one segment to the next */
};

static int load_segment(void *arg, const char *path, uint32_t site, int64_t day, uint32_t n)
{
    struct load_ctx *c = arg;
    struct store *s = c->store;
    struct segment *seg = malloc(sizeof *seg);
    if (!seg) abort();
    char why[256];
    int rc = segment_open(path, site, day, n, seg, &c->view, why, sizeof why);
    if (rc == 0) {
        segment_add(s, seg);
        return 0;
    }
    free(seg);
    if (rc != -EBADMSG) {
        /* Not a verdict on the file (no memory, too many maps...): serving
         * the store without it would give wrong numbers. */
        log_error("%s: %s", path, why);
        return rc;
    }
    if (s->read_only) {
        log_error("%s: %s; skipped (run `tally check --quarantine` to move it aside)", path, why);
        return 0;
    }
    char moved[PATH_MAX], name[PATH_MAX], date[11];
    format_date(day, date);
    if (path_fmt(name, "seg-%u-%s.%u.seg", site, date, n) ||
        quarantine_move(s->dir, path, name, moved)) {
        log_error("%s: %s; could not move it to quarantine: skipped", path, why);
        return 0;
    }
    log_error("%s: %s; moved to %s and skipped: its hits are not served", path, why, moved);
    return 0;
}

struct replay_ctx {
    struct store *store;
    uint32_t log_no;
    struct log_file *log;
};

static int replay_record(void *arg, const struct hit *hit, const char *payload, size_t len)
{
    struct replay_ctx *c = arg;
    struct store *s = c->store;
    if (hit->seq > s->last_seq) s->last_seq = hit->seq;
    struct day_table *t = table_get(s, hit->site_id, store_day_of(hit->time_ms));
    /* Sealed already: the log outlived its seal (crash before removal). */
    if (hit->seq <= t->sealed_through) return 0;
    table_add(s, t, payload, len, hit->seq, c->log_no);
    c->log->unsealed++;
    return 0;
}

static int replay_logs(struct store *s, char *err, size_t errlen)
{
    uint32_t *nos;
    size_t count;
    int rc = list_logs(s->dir, &nos, &count);
    if (rc) {
        snprintf(err, errlen, "cannot list %s/wal: %s", s->dir, strerror(-rc));
        return rc;
    }
    for (size_t i = 0; i < count && rc == 0; i++) {
        char path[PATH_MAX], name[32];
        snprintf(name, sizeof name, "%08" PRIu32 ".log", nos[i]);
        if ((rc = path_fmt(path, "%s/wal/%s", s->dir, name))) break;
        struct replay_ctx ctx = {s, nos[i], log_add(s, nos[i])};
        struct wal_problem bad;
        rc = wal_read(path, replay_record, &ctx, &bad);
        if (rc < 0) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(-rc));
            break;
        }
        if (rc == 1 && s->read_only) {
            /* A writer may be in the middle of this record; leave it be. */
            if (!bad.cut_short)
                log_warn("%s: %s at offset %" PRIu64 "; reading stops there", path, bad.why,
                         bad.offset);
        } else if (rc == 1) {
            char moved[PATH_MAX];
            rc = quarantine_log_tail(s->dir, path, name, bad.offset, moved);
            if (rc) {
                snprintf(err, errlen,
                         "%s: %s at offset %" PRIu64 ", and saving the rest failed: %s; "
                         "check free space and permissions",
                         path, bad.why, bad.offset, strerror(-rc));
                break;
            }
            log_warn("%s: %s at offset %" PRIu64 "; truncated there, the %" PRIu64
                     " bytes after it are kept in %s",
                     path, bad.why, bad.offset, bad.file_len - bad.offset, moved);
        }
        rc = 0;
        if (nos[i] >= s->next_log_no) s->next_log_no = nos[i] + 1;
    }
    free(nos);
    return rc;
}

int store_open(const struct store_options *opts, struct store **out, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen) err[0] = '\0';
    struct store *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->dir = strdup(opts->data_dir);
    if (!s->dir) abort();
    s->fsync = opts->fsync;
    s->read_only = opts->read_only;
    s->seal_grace_ms = opts->seal_grace_ms;
    s->lock_fd = s->seal_fd = s->log_fd = -1;
    s->next_log_no = 1;
    buf_init(&s->batch);

    int rc = 0;
    char path[PATH_MAX];
    if (s->read_only) {
        struct stat st;
        if (stat(s->dir, &st) || !S_ISDIR(st.st_mode)) {
            rc = -ENOENT;
            snprintf(err, errlen, "data folder %s does not exist; pass the --data folder of a "
                     "tally server", s->dir);
            goto fail;
        }
        if ((rc = path_fmt(path, "%s/seal.lock", s->dir))) goto fail;
        /* No seal.lock: no writer ever ran here, so nothing can be sealed under us. */
        s->seal_fd = open(path, O_RDONLY | O_CLOEXEC);
    } else {
        static const char *const subdirs[] = {"", "/wal", "/seg", "/quarantine"};
        for (size_t i = 0; i < 4; i++) {
            if ((rc = path_fmt(path, "%s%s", s->dir, subdirs[i])) || (rc = mkdir_p(path, 0750))) {
                snprintf(err, errlen, "cannot create %s: %s", path, strerror(-rc));
                goto fail;
            }
        }
        if ((rc = fsync_path(s->dir))) {
            snprintf(err, errlen, "cannot sync %s: %s", s->dir, strerror(-rc));
            goto fail;
        }
        if ((rc = take_writer_lock(s, err, errlen))) goto fail;
        if ((rc = path_fmt(path, "%s/seal.lock", s->dir))) goto fail;
        s->seal_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, FILE_MODE);
        if (s->seal_fd < 0) {
            rc = -errno;
            snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
            goto fail;
        }
    }

    /* Segments and logs are listed under one lock so a seal cannot move
     * hits from one to the other between the two listings. */
    seal_lock(s->seal_fd, s->read_only ? LOCK_SH : LOCK_EX);
    struct load_ctx load = {.store = s};
    seg_view_init(&load.view);
    rc = walk_segments(s->dir, !s->read_only, load_segment, &load);
    seg_view_free(&load.view);
    if (rc)
        snprintf(err, errlen, "cannot read the segments under %s/seg: %s (see the error above)",
                 s->dir, strerror(-rc));
    else {
        if (s->nsegs) qsort(s->segs, s->nsegs, sizeof *s->segs, seg_cmp);
        rc = replay_logs(s, err, errlen);
    }
    seal_lock(s->seal_fd, LOCK_UN);
    if (rc) goto fail;
    *out = s;
    return 0;
fail:
    store_close(s);
    return rc;
}

void store_close(struct store *s)
{
    if (!s) return;
    if (s->log_fd >= 0) {
        if (s->dirty && s->fsync != STORE_FSYNC_NEVER) fdatasync(s->log_fd);
        close(s->log_fd);
    }
    for (size_t i = 0; i < s->nsegs; i++) {
        segment_close(s->segs[i]);
        free(s->segs[i]);
    }
    free(s->segs);
    for (size_t i = 0; i < s->nslots; i++) {
        if (!s->slots[i]) continue;
        table_release_memory(s->slots[i]);
        free(s->slots[i]);
    }
    free(s->slots);
    free(s->logs);
    free(s->pend);
    buf_free(&s->batch);
    if (s->seal_fd >= 0) close(s->seal_fd);
    if (s->lock_fd >= 0) close(s->lock_fd); /* releases the writer lock */
    free(s->dir);
    free(s);
}

/* ---- appending ---- */

/* Closes the current log (synced per policy) and starts the next one. */
static int log_rotate(struct store *s, int64_t day)
{
    if (s->log_fd >= 0) {
        if (s->dirty && s->fsync != STORE_FSYNC_NEVER && fdatasync(s->log_fd)) return -errno;
        close(s->log_fd);
        s->log_fd = -1;
        s->dirty = false;
    }
    char path[PATH_MAX];
    for (;;) {
        int rc = path_fmt(path, "%s/wal/%08" PRIu32 ".log", s->dir, s->next_log_no);
        if (rc) return rc;
        s->log_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, FILE_MODE);
        if (s->log_fd >= 0) break;
        if (errno != EEXIST) return -errno;
        s->next_log_no++; /* someone left a file there: never append to it */
    }
    s->log_no = s->next_log_no++;
    s->log_day = day;
    s->log_size = 0;
    log_add(s, s->log_no);
    if (s->fsync != STORE_FSYNC_NEVER) {
        /* The new name must survive a power cut like the records in it. */
        char wal[PATH_MAX];
        int rc = path_fmt(wal, "%s/wal", s->dir);
        if (rc == 0) rc = fsync_path(wal);
        if (rc) {
            /* Not durable: retire it (empty, removed by the next seal). */
            close(s->log_fd);
            s->log_fd = -1;
            return rc;
        }
    }
    return 0;
}

/* A failed write or sync leaves the log as it was before the batch, or, when
 * even that fails, retires the file so the next batch starts a fresh one;
 * replay cuts the torn end of the retired file. */
static void log_undo_batch(struct store *s)
{
    if (ftruncate(s->log_fd, (off_t)s->log_size) == 0) return;
    log_error("cannot undo a failed log write: %s; starting a new log file", strerror(errno));
    close(s->log_fd);
    s->log_fd = -1;
    s->dirty = false;
}

int store_append(struct store *s, struct hit *hits, size_t count)
{
    if (s->read_only) return -EROFS;
    if (count == 0) return 0;
    for (size_t i = 0; i < count; i++)
        if (!store_hit_placeable(&hits[i])) return -EINVAL;

    int64_t now = now_ms(), today = store_day_of(now);
    int rc;
    if ((s->log_fd < 0 || today != s->log_day) && (rc = log_rotate(s, today))) return rc;

    if (count > s->pend_cap) s->pend = xrealloc(s->pend, s->pend_cap = count, sizeof *s->pend);
    buf_reset(&s->batch);
    for (size_t i = 0; i < count; i++) {
        size_t start = s->batch.len;
        buf_reserve(&s->batch, 8);
        s->batch.len += 8;
        hits[i].seq = ++s->last_seq;
        store_hit_encode(&hits[i], &s->batch);
        size_t len = s->batch.len - start - 8;
        if (len > STORE_MAX_RECORD) return -EMSGSIZE;
        char *rec = s->batch.data + start;
        store_put32(rec, (uint32_t)len);
        store_put32(rec + 4, crc32c(0, rec + 8, len));
        s->pend[i] = (struct pending){
            table_get(s, hits[i].site_id, store_day_of(hits[i].time_ms)), start + 8, len};
    }

    if ((rc = write_all(s->log_fd, s->batch.data, s->batch.len))) {
        log_undo_batch(s);
        return rc;
    }
    s->log_size += s->batch.len;
    s->dirty = true;

    for (size_t i = 0; i < count; i++) {
        table_add(s, s->pend[i].table, s->batch.data + s->pend[i].off, s->pend[i].len,
                  hits[i].seq, s->log_no);
        s->pend[i].table->last_append_ms = now;
    }
    log_find(s, s->log_no)->unsealed += count;
    return 0;
}

int store_sync(struct store *s)
{
    if (!s->dirty || s->log_fd < 0 || s->fsync == STORE_FSYNC_NEVER) return 0;
    if (fdatasync(s->log_fd)) return -errno;
    s->dirty = false;
    return 0;
}

int store_sync_handle(struct store *s, int *fd_out)
{
    *fd_out = -1;
    if (!s->dirty || s->log_fd < 0 || s->fsync == STORE_FSYNC_NEVER) return 0;
    /* A duplicate stays valid when a rotation closes the log meanwhile, and
     * syncs the same file. */
    int fd = fcntl(s->log_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return -errno;
    s->dirty = false;
    *fd_out = fd;
    return 0;
}

/* ---- sealing ---- */

static int seal_table(struct store *s, struct day_table *t, char *err, size_t errlen)
{
    char sdir[PATH_MAX], path[PATH_MAX], date[11];
    format_date(t->day, date);
    int rc = path_fmt(sdir, "%s/seg/%" PRIu32, s->dir, t->site);
    if (rc == 0) rc = path_fmt(path, "%s/%s.%" PRIu32 ".seg", sdir, date, t->next_n);
    if (rc == 0 && (rc = mkdir_p(sdir, 0750)))
        snprintf(err, errlen, "cannot create %s: %s", sdir, strerror(-rc));
    if (rc) return rc;
    /* The site folder's own name must be durable before any log holding
     * its hits can be removed. */
    char segdir[PATH_MAX];
    if ((rc = path_fmt(segdir, "%s/seg", s->dir)) == 0 && (rc = fsync_path(segdir)))
        snprintf(err, errlen, "cannot sync %s: %s", segdir, strerror(-rc));
    if (rc) return rc;

    struct buf file;
    buf_init(&file);
    rc = segment_build(t->site, t->day, t->next_n, t->max_seq, t->arena.data, t->arena.len,
                       t->offsets, t->count, &file);
    if (rc) {
        snprintf(err, errlen, "cannot build segment %s: %s", path, strerror(-rc));
        buf_free(&file);
        return rc;
    }
    seal_lock(s->seal_fd, LOCK_EX);
    rc = file_write_atomic(path, file.data, file.len, FILE_MODE);
    seal_lock(s->seal_fd, LOCK_UN);
    buf_free(&file);
    if (rc) {
        snprintf(err, errlen, "cannot write %s: %s; check free space and permissions", path,
                 strerror(-rc));
        return rc;
    }

    /* Serve the day from the file just written, verified like any other. */
    struct segment *seg = malloc(sizeof *seg);
    if (!seg) abort();
    char why[256];
    struct seg_view view;
    seg_view_init(&view);
    rc = segment_open(path, t->site, t->day, t->next_n, seg, &view, why, sizeof why);
    seg_view_free(&view);
    if (rc) {
        free(seg);
        snprintf(err, errlen, "segment %s fails its checks right after writing: %s", path, why);
        return rc;
    }
    s->memory_hits -= t->count;
    for (size_t i = 0; i < t->nrefs; i++) {
        struct log_file *lf = log_find(s, t->refs[i].log_no);
        if (lf) lf->unsealed -= t->refs[i].count;
    }
    table_release_memory(t);
    segment_add(s, seg);
    return 0;
}

/* Unlinks log files holding nothing unsealed. The log being written is
 * retired first when all of it is sealed (its records are in fsynced
 * segments, so it needs no sync); the next append starts a new one. */
static int remove_sealed_logs(struct store *s, char *err, size_t errlen)
{
    if (s->log_fd >= 0 && log_find(s, s->log_no)->unsealed == 0) {
        close(s->log_fd);
        s->log_fd = -1;
        s->dirty = false;
    }
    size_t kept = 0;
    bool any = false;
    for (size_t i = 0; i < s->nlogs; i++)
        if (s->logs[i].unsealed == 0 && !(s->log_fd >= 0 && s->logs[i].no == s->log_no)) any = true;
    if (!any) return 0;
    char wal[PATH_MAX];
    int rc = path_fmt(wal, "%s/wal", s->dir);
    if (rc) return rc;
    seal_lock(s->seal_fd, LOCK_EX);
    for (size_t i = 0; i < s->nlogs; i++) {
        struct log_file *lf = &s->logs[i];
        if (lf->unsealed == 0 && !(s->log_fd >= 0 && lf->no == s->log_no)) {
            char path[PATH_MAX];
            int prc = path_fmt(path, "%s/%08" PRIu32 ".log", wal, lf->no);
            if (prc == 0 && (unlink(path) == 0 || errno == ENOENT)) continue;
            if (rc == 0) {
                rc = prc ? prc : -errno;
                snprintf(err, errlen, "cannot remove sealed log %s/%08" PRIu32 ".log: %s", wal,
                         lf->no, strerror(-rc));
            }
        }
        s->logs[kept++] = *lf;
    }
    s->nlogs = kept;
    int sync_rc = fsync_path(wal);
    seal_lock(s->seal_fd, LOCK_UN);
    return rc ? rc : sync_rc;
}

int store_seal(struct store *s, int64_t now, char *err, size_t errlen)
{
    if (s->read_only) {
        snprintf(err, errlen, "the store was opened read-only");
        return -EROFS;
    }
    /* A log whose arrival day is over gets no more records: retire it so it
     * can be removed once its hits are sealed. */
    if (s->log_fd >= 0 && s->log_day != store_day_of(now)) {
        if (s->dirty && s->fsync != STORE_FSYNC_NEVER && fdatasync(s->log_fd)) {
            int rc = -errno;
            snprintf(err, errlen, "cannot sync the log: %s", strerror(errno));
            return rc;
        }
        close(s->log_fd);
        s->log_fd = -1;
        s->dirty = false;
    }

    struct day_table **due = NULL;
    size_t ndue = 0;
    for (size_t i = 0; i < s->nslots; i++) {
        struct day_table *t = s->slots[i];
        if (!t || t->count == 0) continue;
        if (now - (t->day + 1) * MS_PER_DAY <= s->seal_grace_ms) continue;
        /* Late hits to a sealed day (an import, cdt) wait until they stop
         * arriving, so an import makes one delta per day, not one a second. */
        if (t->next_n > 0 && now - t->last_append_ms < STORE_DELTA_QUIET_MS) continue;
        due = xrealloc(due, ndue + 1, sizeof *due);
        due[ndue++] = t;
    }
    if (ndue) qsort(due, ndue, sizeof *due, table_cmp);
    int rc = 0;
    for (size_t i = 0; i < ndue && rc == 0; i++) rc = seal_table(s, due[i], err, errlen);
    free(due);
    if (rc) return rc;
    if (ndue) qsort(s->segs, s->nsegs, sizeof *s->segs, seg_cmp);
    return remove_sealed_logs(s, err, errlen);
}

/* ---- reading ---- */

int store_scan(struct store *s, uint32_t site_id, int64_t from_ms, int64_t to_ms,
               store_hit_fn fn, void *arg)
{
    if (from_ms >= to_ms) return 0;
    int64_t from_day = store_day_of(from_ms), to_day = store_day_of(to_ms - 1);
    struct hit hit;
    struct seg_view view;
    seg_view_init(&view);
    int rc = 0;
    for (size_t i = 0; i < s->nsegs && rc == 0; i++) {
        const struct segment *seg = s->segs[i];
        if ((site_id && seg->site != site_id) || seg->day < from_day || seg->day > to_day)
            continue;
        char why[256], date[11];
        if ((rc = segment_view(seg, &view, why, sizeof why))) {
            /* Verified when opened: only no memory for its columns, or the
             * file changed in place, gets here. */
            format_date(seg->day, date);
            log_error("segment %s.%" PRIu32 " of site %" PRIu32 " cannot be read: %s", date,
                      seg->n, seg->site, why);
            break;
        }
        bool whole_day = seg->day > from_day && seg->day < to_day;
        for (uint64_t r = 0; r < seg->rows && rc == 0; r++) {
            if (!whole_day) {
                int64_t t = seg_view_time_ms(&view, r);
                if (t < from_ms || t >= to_ms) continue;
            }
            seg_view_row(&view, r, &hit);
            rc = fn(&hit, arg);
        }
    }
    seg_view_free(&view);
    if (rc) return rc;

    struct day_table **tabs = NULL;
    size_t ntabs = 0;
    for (size_t i = 0; i < s->nslots; i++) {
        struct day_table *t = s->slots[i];
        if (!t || !t->count || (site_id && t->site != site_id) || t->day < from_day ||
            t->day > to_day)
            continue;
        tabs = xrealloc(tabs, ntabs + 1, sizeof *tabs);
        tabs[ntabs++] = t;
    }
    if (ntabs) qsort(tabs, ntabs, sizeof *tabs, table_cmp);
    for (size_t i = 0; i < ntabs && rc == 0; i++) {
        const struct day_table *t = tabs[i];
        for (size_t r = 0; r < t->count && rc == 0; r++) {
            size_t end = r + 1 < t->count ? t->offsets[r + 1] : t->arena.len;
            /* Decoded once already when appended or replayed. */
            if (store_hit_decode(t->arena.data + t->offsets[r], end - t->offsets[r], &hit))
                abort();
            if (hit.time_ms < from_ms || hit.time_ms >= to_ms) continue;
            rc = fn(&hit, arg);
        }
    }
    free(tabs);
    return rc;
}

uint64_t store_hit_count(const struct store *s) { return s->sealed_hits + s->memory_hits; }

/* ---- check ---- */

struct check_ctx {
    const char *dir;
    bool quarantine;
    FILE *out;
    int problems;
    struct seg_view view;
};

static int check_segment(void *arg, const char *path, uint32_t site, int64_t day, uint32_t n)
{
    struct check_ctx *c = arg;
    struct segment seg;
    char why[256];
    int vrc = segment_open(path, site, day, n, &seg, &c->view, why, sizeof why);
    if (vrc == 0) {
        segment_close(&seg);
        return 0;
    }
    c->problems++;
    if (!c->quarantine || vrc != -EBADMSG) {
        fprintf(c->out, "%s: %s\n", path, why);
        return 0;
    }
    char moved[PATH_MAX], name[PATH_MAX], date[11];
    format_date(day, date);
    int rc = path_fmt(name, "seg-%u-%s.%u.seg", site, date, n);
    if (rc == 0) rc = quarantine_move(c->dir, path, name, moved);
    if (rc) fprintf(c->out, "%s: %s (could not quarantine: %s)\n", path, why, strerror(-rc));
    else fprintf(c->out, "%s: %s (moved to %s)\n", path, why, moved);
    return 0;
}

static int check_record(void *arg, const struct hit *hit, const char *payload, size_t len)
{
    (void)arg, (void)hit, (void)payload, (void)len;
    return 0;
}

int store_check(const char *dir, bool quarantine, FILE *out)
{
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) return -ENOENT;
    char path[PATH_MAX];
    int rc = path_fmt(path, "%s/LOCK", dir);
    if (rc) return rc;
    /* Repairs need the writer gone; a plain check runs beside it and only
     * has to forgive the record it may be writing at the end of its log. */
    int lock_fd = open(path, quarantine ? O_RDWR | O_CREAT | O_CLOEXEC : O_RDONLY | O_CLOEXEC,
                       FILE_MODE);
    bool writer_active = false;
    if (lock_fd >= 0) {
        if (flock(lock_fd, (quarantine ? LOCK_EX : LOCK_SH) | LOCK_NB)) {
            if (quarantine) {
                close(lock_fd);
                return -EBUSY;
            }
            writer_active = true;
        } else if (!quarantine) {
            flock(lock_fd, LOCK_UN);
        }
    }
    int seal_fd = -1;
    if (path_fmt(path, "%s/seal.lock", dir) == 0) seal_fd = open(path, O_RDONLY | O_CLOEXEC);
    seal_lock(seal_fd, quarantine ? LOCK_EX : LOCK_SH);

    struct check_ctx c = {.dir = dir, .quarantine = quarantine, .out = out};
    seg_view_init(&c.view);
    rc = walk_segments(dir, false, check_segment, &c);
    seg_view_free(&c.view);
    uint32_t *nos = NULL;
    size_t count = 0;
    if (rc == 0) rc = list_logs(dir, &nos, &count);
    for (size_t i = 0; i < count && rc == 0; i++) {
        char name[32];
        snprintf(name, sizeof name, "%08" PRIu32 ".log", nos[i]);
        if ((rc = path_fmt(path, "%s/wal/%s", dir, name))) break;
        struct wal_problem bad;
        rc = wal_read(path, check_record, NULL, &bad);
        if (rc < 0) break;
        rc = 0;
        if (bad.why[0] == '\0') continue;
        if (writer_active && bad.cut_short && i + 1 == count) continue;
        c.problems++;
        fprintf(out, "%s: %s at offset %" PRIu64 " (%" PRIu64 " bytes from there to the end)",
                path, bad.why, bad.offset, bad.file_len - bad.offset);
        if (quarantine) {
            char moved[PATH_MAX];
            int qrc = quarantine_log_tail(dir, path, name, bad.offset, moved);
            if (qrc) fprintf(out, " (could not quarantine: %s)", strerror(-qrc));
            else fprintf(out, " (truncated; the rest moved to %s)", moved);
        }
        fputc('\n', out);
    }
    free(nos);
    seal_lock(seal_fd, LOCK_UN);
    if (seal_fd >= 0) close(seal_fd);
    if (lock_fd >= 0) close(lock_fd);
    return rc ? rc : c.problems;
}
