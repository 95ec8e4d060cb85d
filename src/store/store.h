/* store: the embedded, crash-safe hit store.
 *
 * DATA/wal/NNNNNNNN.log   write-ahead log: the truth. Each record is
 *                         [u32 length][u32 crc32c][payload] (little endian),
 *                         payload = one hit encoded by store_hit_encode.
 * DATA/seg/SITE/YYYY-MM-DD.N.seg
 *                         a sealed (site, UTC day): immutable columnar file,
 *                         N = 0 for the first seal, 1.. for late hits (deltas).
 * DATA/quarantine/        files that failed their checksums, moved aside.
 *
 * A hit is appended to the log before its HTTP answer; today's hits live in
 * memory tables rebuilt from the log at start; days closed for longer than
 * the grace period are sealed and their log files removed. Each segment
 * records `sealed_through_seq`, so replaying a log that outlived its seal
 * never counts a hit twice.
 *
 * Not thread-safe: the caller serialises calls on one store. Several
 * read-only opens may run beside one writer. */
#ifndef TALLY_STORE_H
#define TALLY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../base/base.h"
#include "../track/track.h"

/* store_append never syncs: callers decide when with store_sync, so that
 * one fdatasync can cover many appends (group commit). The policy says
 * what the caller promises; the store only needs to know whether to sync
 * at all (on store_sync, log rotation and close). */
enum store_fsync {
    STORE_FSYNC_ALWAYS,   /* store_sync before each acknowledgement (grouped) */
    STORE_FSYNC_INTERVAL, /* store_sync once a second */
    STORE_FSYNC_NEVER,    /* the OS decides (tests, benchmarks): store_sync does nothing */
};
/* "always" | "interval" | "never"; -EINVAL otherwise. */
int store_fsync_parse(const char *s, enum store_fsync *out);

struct store_options {
    const char *data_dir;
    enum store_fsync fsync;
    bool read_only;          /* no lock, no truncation, no sealing: CLI readers */
    int64_t seal_grace_ms;   /* a UTC day is sealed this long after it ends */
};

struct store;

/* Opens (creating folders as needed), verifies segments, replays the log.
 * A torn log tail is truncated with a warning (read-only opens just stop
 * there); a segment that fails its checksums is moved to quarantine/ and
 * reported. A writer takes DATA/LOCK; a second writer gets -EBUSY and a
 * message naming the process holding it. */
int store_open(const struct store_options *opts, struct store **out, char *err, size_t errlen);
void store_close(struct store *store);

/* Assigns seq to each hit, encodes all of them, writes them to the log in
 * one write(), then adds them to memory tables. Returns 0 only when every
 * hit is in the log: safe from a crash of the process (store_sync makes it
 * safe from a power loss too).
 * -EINVAL, nothing written, when a hit has site_id 0 or a time_ms outside
 * 1970-01-01 .. 9999-12-31; -EROFS on a read-only store. */
int store_append(struct store *store, struct hit *hits, size_t count);
/* fdatasync the log if anything was appended since the last sync (never
 * under STORE_FSYNC_NEVER). */
int store_sync(struct store *store);
/* The same, for a sync outside the caller's lock (group commit): *fd_out
 * becomes a duplicate of the log's descriptor, whose fdatasync covers every
 * hit appended so far, or -1 when there is nothing to sync. The caller
 * fdatasyncs and closes it; appends may go on meanwhile. */
int store_sync_handle(struct store *store, int *fd_out);
/* Seals every (site, day) whose UTC day ended more than seal_grace_ms before
 * now_ms, then removes log files holding only sealed hits. Late hits to an
 * already sealed day become a delta segment once none arrived for
 * STORE_DELTA_QUIET_MS, so an import makes one delta per day it touches. */
#define STORE_DELTA_QUIET_MS 60000
int store_seal(struct store *store, int64_t now_ms, char *err, size_t errlen);

/* Calls fn for every stored hit of site_id (0 = every site) with
 * from_ms <= time_ms < to_ms: sealed days first, then memory, each in append
 * order. The hit and its strings are valid only during the call, and fn
 * must not call into the store. A non-zero return from fn stops the scan
 * and is returned. */
typedef int (*store_hit_fn)(const struct hit *hit, void *arg);
int store_scan(struct store *store, uint32_t site_id, int64_t from_ms, int64_t to_ms,
               store_hit_fn fn, void *arg);
uint64_t store_hit_count(const struct store *store); /* sealed + memory */

/* Verifies every segment and log checksum under data_dir without changing
 * anything unless quarantine is set. Writes one line per problem to out;
 * returns the number of problems (0 = healthy) or a negative errno. */
int store_check(const char *data_dir, bool quarantine, FILE *out);

/* The log payload: every HIT_FIELDS field in order; numbers little endian,
 * strings as u32 length, bytes, NUL. Decoding points hit's strings into
 * data, which must outlive the hit. -EINVAL on a truncated payload. */
void store_hit_encode(const struct hit *hit, struct buf *out);
int store_hit_decode(const void *data, size_t len, struct hit *hit);

#endif
