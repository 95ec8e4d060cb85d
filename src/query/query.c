/* query: per-day statistics and visits folded from stored hits. Both are
 * one store_scan with exact counting (no sketches, no sampling). */
#include "query.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../session/session.h"

/* tally stats over more than this many days is a typo, not a report. */
#define QUERY_MAX_DAYS 36600

/* ---- an exact set of (day, visitor) pairs -------------------------------- */

struct pair_set {
    uint64_t *keys; /* visitor ids, 0 = empty */
    uint32_t *days;
    size_t cap, used;
};

static int pair_set_init(struct pair_set *s)
{
    s->cap = 4096;
    s->used = 0;
    s->keys = calloc(s->cap, sizeof *s->keys);
    s->days = calloc(s->cap, sizeof *s->days);
    return s->keys && s->days ? 0 : -ENOMEM;
}

static void pair_set_free(struct pair_set *s)
{
    free(s->keys);
    free(s->days);
}

/* Inserts (day, id); 1 when it was new, 0 when present, -ENOMEM. */
static int pair_set_add(struct pair_set *s, uint32_t day, uint64_t id)
{
    if ((s->used + 1) * 10 > s->cap * 7) {
        struct pair_set bigger = {calloc(s->cap * 2, sizeof *s->keys),
                                  calloc(s->cap * 2, sizeof *s->days), s->cap * 2, s->used};
        if (!bigger.keys || !bigger.days) {
            pair_set_free(&bigger);
            return -ENOMEM;
        }
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->keys[i]) continue;
            size_t j = hash_mix64(s->keys[i] ^ ((uint64_t)s->days[i] << 32)) & (bigger.cap - 1);
            while (bigger.keys[j])
                j = (j + 1) & (bigger.cap - 1);
            bigger.keys[j] = s->keys[i];
            bigger.days[j] = s->days[i];
        }
        pair_set_free(s);
        *s = bigger;
    }
    size_t i = hash_mix64(id ^ ((uint64_t)day << 32)) & (s->cap - 1);
    while (s->keys[i]) {
        if (s->keys[i] == id && s->days[i] == day) return 0;
        i = (i + 1) & (s->cap - 1);
    }
    s->keys[i] = id;
    s->days[i] = day;
    s->used++;
    return 1;
}

/* ---- daily statistics ---------------------------------------------------- */

struct stats_scan {
    const struct tz *tz;
    int64_t from_day, day_count;
    struct day_stats *out;
    struct pair_set visitors;
    /* The local day of the last hit, as a UTC range: hits come in time
     * order within each part of the scan, so most skip the zone lookup. */
    int64_t cached_day, cached_start, cached_end;
};

static int stats_hit(const struct hit *hit, void *arg)
{
    struct stats_scan *s = arg;
    int64_t t = hit->time_ms;
    if (t < s->cached_start || t >= s->cached_end) {
        s->cached_day = tz_local_day(s->tz, t);
        s->cached_start = tz_day_start_ms(s->tz, s->cached_day);
        s->cached_end = tz_day_start_ms(s->tz, s->cached_day + 1);
        if (t < s->cached_start || t >= s->cached_end)
            s->cached_end = s->cached_start; /* no cache */
    }
    int64_t i = s->cached_day - s->from_day;
    if (i < 0 || i >= s->day_count) return 0;
    struct day_stats *d = &s->out[i];
    if (hit->flags & HIT_FLAG_VISIT_START) d->visits++;
    if (hit->kind == HIT_PAGEVIEW) d->pageviews++;
    if (hit_kind_is_action(hit->kind)) d->actions++;
    if (hit->kind == HIT_BOT) d->bots++;
    if (hit->visitor_id) {
        int added = pair_set_add(&s->visitors, (uint32_t)i, hit->visitor_id);
        if (added < 0) return added;
        d->unique_visitors += (uint64_t)added;
    }
    return 0;
}

int query_daily_stats(struct store *store, const struct site *site, int64_t from_day,
                      int64_t to_day, struct day_stats *out)
{
    if (to_day < from_day || to_day - from_day >= QUERY_MAX_DAYS) return -EINVAL;
    struct tz *tz;
    int rc = tz_load(site->timezone, &tz);
    if (rc < 0) return rc;

    struct stats_scan s = {.tz = tz,
                           .from_day = from_day,
                           .day_count = to_day - from_day + 1,
                           .out = out,
                           .cached_start = 0,
                           .cached_end = 0};
    for (int64_t i = 0; i < s.day_count; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].day = from_day + i;
    }
    rc = pair_set_init(&s.visitors);
    if (rc == 0)
        rc = store_scan(store, site->id, tz_day_start_ms(tz, from_day),
                        tz_day_start_ms(tz, to_day + 1), stats_hit, &s);
    pair_set_free(&s.visitors);
    tz_free(tz);
    return rc;
}

/* ---- visits ---------------------------------------------------------------- */

struct visit_acc {
    struct visit v;
    bool started; /* its VISIT_START hit was seen */
    int64_t entry_ms, exit_ms;
    uint64_t entry_seq, exit_seq;
};

struct visits_scan {
    struct arena arena; /* the visits' strings */
    struct visit_acc *items;
    size_t count, cap;
    size_t *index; /* open addressing on visit_id: item index + 1, 0 = empty */
    size_t index_cap;
};

static const char *keep(struct visits_scan *s, const char *str)
{
    if (!str || !*str) return "";
    return arena_strdup(&s->arena, str);
}

static int visits_grow(struct visits_scan *s)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct visit_acc *items = realloc(s->items, cap * sizeof *items);
        if (!items) return -ENOMEM;
        s->items = items;
        s->cap = cap;
    }
    if ((s->count + 1) * 10 > s->index_cap * 7) {
        size_t cap = s->index_cap ? s->index_cap * 2 : 1024;
        size_t *index = calloc(cap, sizeof *index);
        if (!index) return -ENOMEM;
        for (size_t i = 0; i < s->count; i++) {
            size_t j = hash_mix64(s->items[i].v.visit_id) & (cap - 1);
            while (index[j])
                j = (j + 1) & (cap - 1);
            index[j] = i + 1;
        }
        free(s->index);
        s->index = index;
        s->index_cap = cap;
    }
    return 0;
}

static int visits_hit(const struct hit *hit, void *arg)
{
    struct visits_scan *s = arg;
    if (!hit->visit_id) return 0;
    int rc = visits_grow(s);
    if (rc < 0) return rc;

    size_t j = hash_mix64(hit->visit_id) & (s->index_cap - 1);
    while (s->index[j] && s->items[s->index[j] - 1].v.visit_id != hit->visit_id)
        j = (j + 1) & (s->index_cap - 1);
    struct visit_acc *a;
    if (s->index[j]) {
        a = &s->items[s->index[j] - 1];
    } else {
        a = &s->items[s->count++];
        s->index[j] = s->count;
        memset(a, 0, sizeof *a);
        a->v.visit_id = hit->visit_id;
        a->v.visitor_id = hit->visitor_id;
        a->v.first_ms = a->v.last_ms = hit->time_ms;
        a->v.entry_url = a->v.exit_url = "";
        a->v.referrer_name = a->v.referrer_url = "";
        a->v.campaign_name = a->v.campaign_source = a->v.campaign_medium = "";
        a->v.campaign_keyword = "";
    }
    struct visit *v = &a->v;
    if (hit->time_ms < v->first_ms) v->first_ms = hit->time_ms;
    if (hit->time_ms > v->last_ms) v->last_ms = hit->time_ms;
    v->hits++;
    if (hit_kind_is_action(hit->kind)) v->actions++;
    if (hit->kind == HIT_GOAL || hit->kind == HIT_ECOMMERCE_ORDER) {
        v->converted = true;
        if (!isnan(hit->revenue)) v->revenue += hit->revenue;
    }
    if (hit->kind == HIT_ECOMMERCE_ORDER) v->ordered = true;

    if (hit->flags & HIT_FLAG_VISIT_START) {
        /* A visit's acquisition and history are its first hit's. */
        a->started = true;
        v->returning = (hit->flags & HIT_FLAG_RETURNING) != 0;
        v->visit_count = hit->visit_count;
        v->days_since_last_visit = hit->days_since_last_visit;
        v->referrer_type = hit->referrer_type;
        v->referrer_name = keep(s, hit->referrer_name);
        v->referrer_url = keep(s, hit->referrer_url);
        v->campaign_name = keep(s, hit->campaign_name);
        v->campaign_source = keep(s, hit->campaign_source);
        v->campaign_medium = keep(s, hit->campaign_medium);
        v->campaign_keyword = keep(s, hit->campaign_keyword);
    }
    if (hit->kind == HIT_PAGEVIEW) {
        /* Entry and exit by time; equal times by append order. */
        if (v->pageviews == 0 || hit->time_ms < a->entry_ms ||
            (hit->time_ms == a->entry_ms && hit->seq < a->entry_seq)) {
            v->entry_url = keep(s, hit->url);
            a->entry_ms = hit->time_ms;
            a->entry_seq = hit->seq;
        }
        if (v->pageviews == 0 || hit->time_ms > a->exit_ms ||
            (hit->time_ms == a->exit_ms && hit->seq > a->exit_seq)) {
            v->exit_url = keep(s, hit->url);
            a->exit_ms = hit->time_ms;
            a->exit_seq = hit->seq;
        }
        v->pageviews++;
    }
    if (!v->entry_url || !v->exit_url || !v->referrer_name || !v->referrer_url ||
        !v->campaign_name || !v->campaign_source || !v->campaign_medium || !v->campaign_keyword)
        return -ENOMEM;
    return 0;
}

static int visit_order(const void *a, const void *b)
{
    const struct visit_acc *x = a, *y = b;
    if (x->v.first_ms != y->v.first_ms) return x->v.first_ms < y->v.first_ms ? -1 : 1;
    return x->v.visit_id < y->v.visit_id ? -1 : x->v.visit_id > y->v.visit_id;
}

int query_visits(struct store *store, uint32_t site_id, int64_t from_ms, int64_t to_ms,
                 query_visit_fn fn, void *arg)
{
    if (to_ms < from_ms) return -EINVAL;
    struct visits_scan s = {0};
    arena_init(&s.arena, 0);
    /* Imported hits may join a visit up to 30 minutes before its first
     * recorded hit, and a visit may run past to_ms. */
    int rc = store_scan(store, site_id, from_ms - SESSION_TIMEOUT_MS, to_ms + MS_PER_DAY,
                        visits_hit, &s);
    if (rc == 0) {
        size_t kept = 0;
        for (size_t i = 0; i < s.count; i++) {
            /* A visit whose first hit lies before the scan is not ours. */
            if (s.items[i].started && s.items[i].v.first_ms >= from_ms &&
                s.items[i].v.first_ms < to_ms)
                s.items[kept++] = s.items[i];
        }
        if (kept) qsort(s.items, kept, sizeof *s.items, visit_order);
        for (size_t i = 0; i < kept && rc == 0; i++)
            rc = fn(&s.items[i].v, arg);
    }
    free(s.items);
    free(s.index);
    arena_free(&s.arena);
    return rc;
}
