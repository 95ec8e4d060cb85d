/* session: visitor identity and visit assignment.
 *
 * One open-addressing hash map (linear probing, power-of-two capacity)
 * holds one 80-byte slot per (site, visitor) ever seen: the visitor's
 * current visit and the history needed for visit counts and "days since".
 * The map only grows (doubling, amortised); no allocation happens per hit.
 * Visits follow issue 2: 30 minutes of inactivity, new_visit=1, or a
 * campaign / external referrer other than the visit's starts a new one. */
#include "session.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/base.h"

#define SALT_BYTES 32
#define SALT_FILE_BYTES (SALT_BYTES + 8) /* salt, then its UTC day (i64 LE) */
#define NO_TIME INT64_MIN

struct visitor_slot {
    uint64_t visitor_id; /* 0 = empty slot */
    uint32_t site_id;
    uint32_t visit_count; /* visits of this visitor so far */
    uint64_t visit_id;    /* current (latest) visit */
    int64_t visit_start;  /* its first and last hit times */
    int64_t visit_last;
    int64_t first_visit_start; /* of the visitor's first visit */
    int64_t prev_visit_last;   /* last hit of the visit before the current one */
    uint64_t acq_key;          /* campaign/external referrer that started it, 0 = none */
    uint32_t cur_visit_count;  /* the current visit's own fields, copied to its hits */
    int32_t cur_days_last;
    int32_t cur_days_first;
    bool cookieless; /* id from the salt: unreachable once the salt rotates */
};

struct session {
    char salt_path[4096];
    unsigned char salt[SALT_BYTES];
    int64_t salt_day;
    uint64_t next_visit_id;
    struct visitor_slot *slots;
    size_t cap; /* power of two */
    size_t used;
};

static size_t slot_index(const struct session *s, uint32_t site_id, uint64_t visitor_id)
{
    return (size_t)(hash_mix64(visitor_id ^ ((uint64_t)site_id << 40) ^ site_id)) & (s->cap - 1);
}

/* Returns the slot of (site, visitor), creating an empty one (visit_count
 * 0) when absent. Grows at 70% load so probes stay short. */
static struct visitor_slot *slot_get(struct session *s, uint32_t site_id, uint64_t visitor_id)
{
    if ((s->used + 1) * 10 > s->cap * 7) {
        size_t old_cap = s->cap;
        struct visitor_slot *old = s->slots;
        s->cap = old_cap * 2;
        s->slots = calloc(s->cap, sizeof *s->slots);
        if (!s->slots) abort(); /* like buf: no memory means no promises kept */
        for (size_t i = 0; i < old_cap; i++) {
            if (!old[i].visitor_id) continue;
            size_t j = slot_index(s, old[i].site_id, old[i].visitor_id);
            while (s->slots[j].visitor_id)
                j = (j + 1) & (s->cap - 1);
            s->slots[j] = old[i];
        }
        free(old);
    }
    size_t i = slot_index(s, site_id, visitor_id);
    for (;;) {
        struct visitor_slot *slot = &s->slots[i];
        if (slot->visitor_id == visitor_id && slot->site_id == site_id) return slot;
        if (!slot->visitor_id) {
            memset(slot, 0, sizeof *slot);
            slot->visitor_id = visitor_id;
            slot->site_id = site_id;
            slot->visit_start = slot->visit_last = NO_TIME;
            slot->first_visit_start = slot->prev_visit_last = NO_TIME;
            s->used++;
            return slot;
        }
        i = (i + 1) & (s->cap - 1);
    }
}

/* Rebuilds the map without the slots no hit can reach again: cookieless
 * visitors (their ids came from a salt that is gone) and slots of lone
 * heartbeats that started nothing. Without this the map would grow by a
 * day's cookieless visitors every day. */
static void forget_unreachable(struct session *s)
{
    struct visitor_slot *old = s->slots;
    s->slots = calloc(s->cap, sizeof *s->slots);
    if (!s->slots) abort();
    s->used = 0;
    for (size_t i = 0; i < s->cap; i++) {
        if (!old[i].visitor_id || old[i].cookieless || old[i].visit_count == 0) continue;
        size_t j = slot_index(s, old[i].site_id, old[i].visitor_id);
        while (s->slots[j].visitor_id)
            j = (j + 1) & (s->cap - 1);
        s->slots[j] = old[i];
        s->used++;
    }
    free(old);
}

size_t session_visitor_count(const struct session *session) { return session->used; }

/* ---- salt ---------------------------------------------------------------- */

static int64_t utc_day(int64_t ms)
{
    return ms >= 0 ? ms / MS_PER_DAY : -((-ms + MS_PER_DAY - 1) / MS_PER_DAY);
}

/* Replaces the salt with fresh random bytes for `day` and overwrites the
 * file, so the previous day's salt no longer exists anywhere. */
static int salt_rotate(struct session *s, int64_t day)
{
    unsigned char file[SALT_FILE_BYTES];
    unsigned char fresh[SALT_BYTES];
    randombytes_buf(fresh, sizeof fresh);
    memcpy(file, fresh, SALT_BYTES);
    for (int i = 0; i < 8; i++)
        file[SALT_BYTES + i] = (unsigned char)((uint64_t)day >> (8 * i));
    int rc = file_write_atomic(s->salt_path, file, sizeof file, 0600);
    sodium_memzero(file, sizeof file);
    if (rc < 0) {
        sodium_memzero(fresh, sizeof fresh);
        return rc;
    }
    memcpy(s->salt, fresh, SALT_BYTES);
    sodium_memzero(fresh, sizeof fresh);
    s->salt_day = day;
    return 0;
}

int session_create(const char *data_dir, struct session **out, char *err, size_t errlen)
{
    *out = NULL;
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialise; cannot make the visitor salt");
        return -EIO;
    }
    struct session *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    if ((size_t)snprintf(s->salt_path, sizeof s->salt_path, "%s/salt", data_dir) >=
        sizeof s->salt_path) {
        snprintf(err, errlen, "data folder path is too long: %s", data_dir);
        free(s);
        return -ENAMETOOLONG;
    }
    s->cap = 1024;
    s->slots = calloc(s->cap, sizeof *s->slots);
    if (!s->slots) {
        free(s);
        return -ENOMEM;
    }
    s->next_visit_id = 1;

    struct buf b;
    buf_init(&b);
    int rc = file_read_all(s->salt_path, &b);
    int64_t today = utc_day(now_ms());
    if (rc == 0 && b.len == SALT_FILE_BYTES) {
        memcpy(s->salt, b.data, SALT_BYTES);
        uint64_t day = 0;
        for (int i = 0; i < 8; i++)
            day |= (uint64_t)(unsigned char)b.data[SALT_BYTES + i] << (8 * i);
        s->salt_day = (int64_t)day;
    } else if (rc == 0 || rc == -ENOENT) {
        /* Missing, or not something we wrote: a new salt only costs
         * cookieless visitors their continuity for today. */
        if (rc == 0)
            log_warn("%s has an unexpected size; replacing it with a new salt", s->salt_path);
        s->salt_day = NO_TIME;
    } else {
        snprintf(err, errlen, "cannot read %s: %s; check the data folder's permissions",
                 s->salt_path, strerror(-rc));
        sodium_memzero(b.data, b.len);
        buf_free(&b);
        session_destroy(s);
        return rc;
    }
    if (b.data) sodium_memzero(b.data, b.len);
    buf_free(&b);

    /* A salt from an earlier day must not outlive its day, even if no hit
     * arrives to trigger the rotation. */
    if (s->salt_day != today) {
        rc = salt_rotate(s, today);
        if (rc < 0) {
            snprintf(err, errlen, "cannot write %s: %s; check the data folder's permissions",
                     s->salt_path, strerror(-rc));
            session_destroy(s);
            return rc;
        }
    }
    *out = s;
    return 0;
}

void session_destroy(struct session *session)
{
    if (!session) return;
    sodium_memzero(session->salt, sizeof session->salt);
    free(session->slots);
    free(session);
}

/* ---- identity -------------------------------------------------------------- */

static bool parse_hex64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;
    for (; s && s[n]; n++) {
        char c = s[n];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0 || n >= 16) return false;
        v = v << 4 | (uint64_t)d;
    }
    if (n != 16 || v == 0) return false;
    *out = v;
    return true;
}

static uint64_t be64(const unsigned char b[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v ? v : 1; /* 0 marks "no visitor" */
}

static void assign_visitor(struct session *s, struct track_request *req)
{
    struct hit *h = &req->hit;
    unsigned char digest[8];
    h->flags &= (uint16_t) ~(HIT_FLAG_ID_COOKIELESS | HIT_FLAG_ID_USER);

    if (parse_hex64(req->forced_visitor_hex, &h->visitor_id)) return;
    if (h->user_id && h->user_id[0]) {
        /* Unkeyed on purpose: the same uid is the same visitor on every
         * device and every day, which is what setting a user id asks for. */
        crypto_generichash(digest, sizeof digest, (const unsigned char *)h->user_id,
                           strlen(h->user_id), NULL, 0);
        h->visitor_id = be64(digest);
        h->flags |= HIT_FLAG_ID_USER;
        return;
    }
    if (parse_hex64(req->visitor_hex, &h->visitor_id)) return;

    crypto_generichash_state st;
    unsigned char site[4];
    for (int i = 0; i < 4; i++)
        site[i] = (unsigned char)(h->site_id >> (8 * i));
    const char *ip = h->ip_anon ? h->ip_anon : "";
    const char *ua = req->user_agent ? req->user_agent : "";
    crypto_generichash_init(&st, s->salt, SALT_BYTES, sizeof digest);
    crypto_generichash_update(&st, site, sizeof site);
    /* The NUL keeps ("1.2", "3ua") and ("1.23", "ua") apart. */
    crypto_generichash_update(&st, (const unsigned char *)ip, strlen(ip) + 1);
    crypto_generichash_update(&st, (const unsigned char *)ua, strlen(ua));
    crypto_generichash_final(&st, digest, sizeof digest);
    h->visitor_id = be64(digest);
    h->flags |= HIT_FLAG_ID_COOKIELESS;
}

/* ---- visits ------------------------------------------------------------------ */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    h ^= 0xff; /* field separator */
    h *= 0x100000001b3ULL;
    return h;
}

/* What started the hit's acquisition: a campaign (name, source, medium) or
 * an external referrer (its host or engine); 0 for direct / internal. */
static uint64_t acquisition_key(const struct hit *h)
{
    uint64_t k = 0xcbf29ce484222325ULL;
    switch (h->referrer_type) {
    case REFERRER_CAMPAIGN:
        k = fnv1a(fnv1a(fnv1a(fnv1a(k, "c"), h->campaign_name), h->campaign_source),
                  h->campaign_medium);
        break;
    case REFERRER_WEBSITE:
    case REFERRER_SEARCH:
    case REFERRER_SOCIAL:
        k = fnv1a(fnv1a(k, "r"), h->referrer_name);
        break;
    default:
        return 0;
    }
    return k ? k : 1;
}

static int32_t whole_days(int64_t from_ms, int64_t to_ms)
{
    if (from_ms == NO_TIME || to_ms < from_ms) return from_ms == NO_TIME ? -1 : 0;
    int64_t d = (to_ms - from_ms) / MS_PER_DAY;
    return d > INT32_MAX ? INT32_MAX : (int32_t)d;
}

static void copy_visit(const struct visitor_slot *v, struct hit *h)
{
    h->visit_id = v->visit_id;
    h->visit_count = v->cur_visit_count;
    h->days_since_last_visit = v->cur_days_last;
    h->days_since_first_visit = v->cur_days_first;
    if (v->cur_visit_count > 1) h->flags |= HIT_FLAG_RETURNING;
}

int session_assign(struct session *session, struct track_request *req, int64_t now_ms)
{
    struct hit *h = &req->hit;
    int64_t day = utc_day(now_ms);
    if (day != session->salt_day) {
        /* Any change of day rotates, also a clock stepping back: a fresh
         * random salt never links anything, a stale one might. */
        int rc = salt_rotate(session, day);
        if (rc < 0) {
            log_error("cannot write %s (%s): cookieless visitor ids cannot rotate; "
                      "check the data folder's free space and permissions",
                      session->salt_path, strerror(-rc));
            return rc;
        }
        forget_unreachable(session);
    }
    assign_visitor(session, req);
    h->flags &= (uint16_t) ~(HIT_FLAG_VISIT_START | HIT_FLAG_RETURNING);

    struct visitor_slot *v = slot_get(session, h->site_id, h->visitor_id);
    v->cookieless = h->flags & HIT_FLAG_ID_COOKIELESS;
    int64_t t = h->time_ms;
    uint64_t key = acquisition_key(h);

    bool joins = false;
    if (v->visit_count > 0) {
        bool split = (h->flags & HIT_FLAG_NEW_VISIT) || (key != 0 && key != v->acq_key);
        joins = !split && t >= v->visit_start - SESSION_TIMEOUT_MS &&
                t <= v->visit_last + SESSION_TIMEOUT_MS;
    }
    /* A heartbeat only extends an open visit; alone it would be a visit
     * without a single action (Matomo drops it too). */
    if (h->kind == HIT_HEARTBEAT && !joins) return SESSION_IGNORED;

    if (v->visit_count > 0) {
        if (joins) {
            /* Out-of-order hits (imports) within 30 minutes of the visit's
             * span join it and widen the span. */
            if (t > v->visit_last) v->visit_last = t;
            if (t < v->visit_start) v->visit_start = t;
            copy_visit(v, h);
            return 0;
        }
        if (t < v->visit_start) {
            /* An older hit outside the open visit: a visit of its own that
             * does not replace the open one. Its history fields are the
             * best we know (exact for in-order streams, approximate here). */
            h->visit_id = session->next_visit_id++;
            h->visit_count = ++v->visit_count;
            h->days_since_last_visit =
                v->prev_visit_last < t ? whole_days(v->prev_visit_last, t) : -1;
            if (v->first_visit_start > t) v->first_visit_start = t;
            h->days_since_first_visit = whole_days(v->first_visit_start, t);
            h->flags |= HIT_FLAG_VISIT_START;
            if (h->visit_count > 1) h->flags |= HIT_FLAG_RETURNING;
            return 0;
        }
        v->prev_visit_last = v->visit_last;
    }

    v->visit_id = session->next_visit_id++;
    v->visit_start = v->visit_last = t;
    if (v->first_visit_start == NO_TIME || t < v->first_visit_start) v->first_visit_start = t;
    v->acq_key = key;
    v->visit_count++;
    v->cur_visit_count = v->visit_count;
    v->cur_days_last = whole_days(v->prev_visit_last, t);
    v->cur_days_first = whole_days(v->first_visit_start, t);
    copy_visit(v, h);
    h->flags |= HIT_FLAG_VISIT_START;
    return 0;
}

/* Folds one stored hit into the map. Each field is a max/min fold, so the
 * order of hits does not matter: the current visit is the one holding the
 * latest hit; a visit's acquisition key is that of any of its hits that has
 * one (a hit with another key would have started another visit). */
void session_restore(struct session *session, const struct hit *h)
{
    if (!h->visitor_id || !h->visit_id) return;
    if (h->visit_id >= session->next_visit_id) session->next_visit_id = h->visit_id + 1;
    /* A cookieless id of another day can never come back. */
    bool cookieless = h->flags & HIT_FLAG_ID_COOKIELESS;
    if (cookieless && utc_day(h->time_ms) != session->salt_day) return;

    struct visitor_slot *v = slot_get(session, h->site_id, h->visitor_id);
    v->cookieless = cookieless;
    int64_t t = h->time_ms;
    uint64_t key = acquisition_key(h);
    if (h->visit_count > v->visit_count) v->visit_count = h->visit_count;
    if (v->first_visit_start == NO_TIME || t < v->first_visit_start) v->first_visit_start = t;

    if (h->visit_id == v->visit_id) {
        if (t > v->visit_last) v->visit_last = t;
        if (t < v->visit_start) v->visit_start = t;
        if (key) v->acq_key = key;
        return;
    }
    if (v->visit_id == 0 || t > v->visit_last) {
        /* This hit's visit is newer: it becomes the current one. */
        if (v->visit_id != 0 && v->visit_last > v->prev_visit_last)
            v->prev_visit_last = v->visit_last;
        v->visit_id = h->visit_id;
        v->visit_start = v->visit_last = t;
        v->acq_key = key;
        v->cur_visit_count = h->visit_count;
        v->cur_days_last = h->days_since_last_visit;
        v->cur_days_first = h->days_since_first_visit;
        return;
    }
    if (t > v->prev_visit_last) v->prev_visit_last = t;
}
