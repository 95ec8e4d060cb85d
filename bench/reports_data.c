/* The reports benchmark's data: `tally demo`'s traffic (src/demo.c) with a
 * 5,000-page catalogue: PAGEVIEWS over the 30 UTC days before today, and
 * HISTORY_PAGEVIEWS more (a quieter year's start) over the days from the
 * 1st of the month eleven months before yesterday's to those 30, so that
 * twelve calendar months have first visits and returns (the cohort row);
 * visitors of the history come back in the 30 days as in any month. All
 * fed through the real pipeline (api_track) into a fresh data folder and
 * sealed. Then the
 * stored hits are read back and written as two tab-separated files that
 * ClickHouse and SQLite load, so the three engines answer over the same
 * visits:
 *
 *   actions.tsv  one row per action (pageview, event, download, outlink,
 *                site search, content interaction), tracked goal, order
 *                and cart update:
 *                visit_id visitor_id visit_start time time_msec kind url
 *                goal_id revenue order_id quantity sku
 *                (time_msec: the time's milliseconds, which order a visit's
 *                actions as Tally does; url: a download's or outlink's
 *                target, else the page; quantity: an order's items; sku: a
 *                product view's)
 *   items.tsv    one row per line of an order:
 *                visit_id visit_start order_id sku price quantity
 *   visits.tsv   one row per visit, folded from all its hits as Matomo's
 *                log_visit keeps it:
 *                visit_id visitor_id user_id start start_msec duration actions
 *                pageviews converted is_returning referrer_type referrer_name
 *                device_type browser country_code entry_url exit_url
 *                (start_msec: the start's milliseconds, which order a visitor's
 *                visits and bound the attribution window as Tally does)
 *                (converted: under the goals defined, as Matomo decides it when
 *                the hits arrive, so the peers' visits table has it ready)
 *
 * Times are Unix seconds; visitor ids are written as signed 64-bit numbers
 * (SQLite has no unsigned integers). Progress goes to stderr; stdout gets
 * "name value" lines for scripts/bench-reports.sh.
 *
 * usage: reports_data DATA_DIR EXPORT_DIR PAGEVIEWS HISTORY_PAGEVIEWS */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/api/api.h"
#include "../src/config/config.h"
#include "../src/demo.h"

#define DAYS 30
#define CATALOGUE 5000
/* src/demo.c's visits have about 3.4 pageviews on average. */
#define PAGEVIEWS_PER_VISIT 3.4
#define SEAL_GRACE_MS 3600000

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned visits_for(uint64_t pageviews)
{
    return (unsigned)((double)pageviews / PAGEVIEWS_PER_VISIT + 0.5);
}

struct generation {
    double started;
    int64_t first_day_ms;
    unsigned days;
};

static void report_progress(const struct demo_result *so_far, int64_t time_ms, void *arg)
{
    const struct generation *g = arg;
    double elapsed = seconds_now() - g->started;
    fprintf(stderr, "\rgenerating: day %3" PRId64 "/%u, %" PRIu64 " hits, %.0f hits/s   ",
            (int64_t)((time_ms - g->first_day_ms) / MS_PER_DAY + 1), g->days, so_far->hits_stored,
            (double)so_far->hits_stored / elapsed);
}

/* Feeds the traffic through a fresh store in data_dir and seals it all:
 * pageviews over the DAYS days before end_ms, history_pageviews over the
 * history_days before those. */
static int generate(const char *data_dir, uint64_t pageviews, uint64_t history_pageviews,
                    unsigned history_days, int64_t end_ms)
{
    char err[512];
    struct site draft = {.name = "Leaf & Cup (bench)", .urls = {"https://shop.example.com"},
                         .url_count = 1, .timezone = "UTC", .currency = "EUR",
                         .honour_dnt = true, .ipv4_mask_bytes = 2, .ipv6_mask_bits = 80};
    uint32_t site_id;
    struct api_options opts = {.data_dir = data_dir, .fsync = STORE_FSYNC_NEVER,
                               .seal_grace_ms = SEAL_GRACE_MS};
    struct api *api;
    if (sites_add(data_dir, &draft, &site_id, err, sizeof err) ||
        demo_goals(data_dir, site_id, err, sizeof err) || api_create(&opts, &api, err, sizeof err)) {
        fprintf(stderr, "reports_data: %s\n", err);
        return -1;
    }
    struct sites *sites;
    if (sites_load(data_dir, &sites, err, sizeof err)) {
        fprintf(stderr, "reports_data: %s\n", err);
        api_destroy(api);
        return -1;
    }
    unsigned days = DAYS + history_days;
    struct generation g = {seconds_now(), end_ms - days * MS_PER_DAY, days};
    struct demo_options demo = {.visits = visits_for(pageviews), .days = DAYS,
                                .history_visits = visits_for(history_pageviews),
                                .history_days = history_days, .end_ms = end_ms,
                                .catalogue = CATALOGUE, .seed = 4, .progress = report_progress,
                                .progress_arg = &g};
    struct demo_result result;
    int rc = demo_run(api, sites_find(sites, site_id), &demo, &result, err, sizeof err);
    /* The last day too: as a server would an hour after midnight. */
    api_maintain(api, end_ms + SEAL_GRACE_MS + 1);
    api_destroy(api);
    sites_free(sites);
    fprintf(stderr, "\rgenerated %" PRIu64 " hits in %.0f s%30s\n", result.hits_stored,
            seconds_now() - g.started, "");
    if (rc || result.hits_refused) {
        fprintf(stderr, "reports_data: %s\n",
                rc ? err : "the pipeline refused generated hits (a bug)");
        return -1;
    }
    return 0;
}

/* ---- export ---- */

/* Interned strings: the visits table stores small ids. */
struct names {
    char **items;
    size_t count, cap;
    uint32_t *slots; /* open addressing: item index + 1, 0 = empty */
    size_t slot_cap;
};

static uint64_t hash_string(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static uint32_t names_intern(struct names *n, const char *s)
{
    if ((n->count + 1) * 2 > n->slot_cap) {
        size_t cap = n->slot_cap ? n->slot_cap * 2 : 1024;
        uint32_t *slots = calloc(cap, sizeof *slots);
        if (!slots) abort();
        for (size_t i = 0; i < n->count; i++) {
            size_t j = hash_string(n->items[i]) & (cap - 1);
            while (slots[j]) j = (j + 1) & (cap - 1);
            slots[j] = (uint32_t)i + 1;
        }
        free(n->slots);
        n->slots = slots;
        n->slot_cap = cap;
    }
    size_t j = hash_string(s) & (n->slot_cap - 1);
    while (n->slots[j]) {
        if (strcmp(n->items[n->slots[j] - 1], s) == 0) return n->slots[j] - 1;
        j = (j + 1) & (n->slot_cap - 1);
    }
    if (n->count == n->cap) {
        n->cap = n->cap ? n->cap * 2 : 256;
        n->items = realloc(n->items, n->cap * sizeof *n->items);
        if (!n->items) abort();
    }
    n->items[n->count] = strdup(s);
    if (!n->items[n->count]) abort();
    n->slots[j] = (uint32_t)++n->count;
    return (uint32_t)n->count - 1;
}

static void names_free(struct names *n)
{
    for (size_t i = 0; i < n->count; i++) free(n->items[i]);
    free(n->items);
    free(n->slots);
}

struct visit_row {
    uint64_t visitor_id;
    int64_t first_ms, last_ms, entry_ms, exit_ms;
    uint32_t actions, pageviews;
    uint32_t user_id, referrer_name, device_type, browser, country, entry_url, exit_url;
    uint8_t referrer_type;
    bool started, converted, is_returning;
};

struct export {
    FILE *actions, *items;
    struct goal *goals;       /* the site's, with their patterns compiled */
    pcre2_code **codes;
    size_t goal_count;
    pcre2_match_data *match;
    struct names order_ids;   /* an order id counts the first time only */
    struct visit_row *visits; /* by visit_id: the session numbers visits from 1 */
    size_t visit_cap;
    struct names names;
    int64_t recent_from_ms;   /* the 30 days' start; the counts split there */
    uint64_t action_count[2], pageview_count[2]; /* [0] history, [1] the 30 days */
    int error; /* the first problem, as a negative errno */
    char why[256];
};

/* The peers load plain tab-separated text: a string with a tab, a newline,
 * a backslash or a quote would need escaping that ClickHouse and SQLite's
 * importer disagree on. The generated traffic has none; say so if it ever does. */
static const char *plain(struct export *e, const char *s)
{
    if (!e->error && strpbrk(s, "\t\n\r\\\"")) {
        e->error = -EINVAL;
        snprintf(e->why, sizeof e->why, "a stored string needs escaping: %.80s", s);
    }
    return s;
}

static bool pattern_matches(struct export *e, size_t g, const char *subject)
{
    return e->codes[g] && pcre2_match(e->codes[g], (PCRE2_SPTR)subject, strlen(subject), 0, 0,
                                      e->match, NULL) >= 0;
}

/* Whether the hit converts a goal or is a first order: what Matomo's
 * tracker records in log_visit.visit_goal_converted. */
static bool converts(struct export *e, const struct hit *hit)
{
    if (hit->kind == HIT_ECOMMERCE_ORDER) {
        size_t before = e->order_ids.count;
        names_intern(&e->order_ids, hit->order_id);
        return e->order_ids.count > before;
    }
    for (size_t g = 0; g < e->goal_count; g++) {
        const struct goal *goal = &e->goals[g];
        bool hit_converts;
        switch (goal->match) {
        case GOAL_MATCH_URL: hit_converts = hit->kind == HIT_PAGEVIEW && pattern_matches(e, g, hit->url); break;
        case GOAL_MATCH_TITLE:
            hit_converts = hit->kind == HIT_PAGEVIEW && pattern_matches(e, g, hit->action_name);
            break;
        case GOAL_MATCH_EVENT_CATEGORY:
            hit_converts = hit->kind == HIT_EVENT && pattern_matches(e, g, hit->event_category);
            break;
        case GOAL_MATCH_EVENT_ACTION:
            hit_converts = hit->kind == HIT_EVENT && pattern_matches(e, g, hit->event_action);
            break;
        case GOAL_MATCH_EVENT_NAME:
            hit_converts = hit->kind == HIT_EVENT && pattern_matches(e, g, hit->event_name);
            break;
        case GOAL_MATCH_OUTLINK:
            hit_converts = hit->kind == HIT_OUTLINK && pattern_matches(e, g, hit->target_url);
            break;
        case GOAL_MATCH_DOWNLOAD:
            hit_converts = hit->kind == HIT_DOWNLOAD && pattern_matches(e, g, hit->target_url);
            break;
        default: hit_converts = false; break;
        }
        if (hit_converts || (hit->kind == HIT_GOAL && hit->goal_id == (int32_t)goal->id)) return true;
    }
    return false;
}

/* An order's lines into items.tsv; returns the quantity ordered. */
static double export_items(struct export *e, const struct hit *hit, int64_t visit_start_ms)
{
    json_t *items = json_loads(hit->items, 0, NULL);
    double quantity = 0;
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *line = json_array_get(items, i);
        double q = json_number_value(json_array_get(line, 4));
        fprintf(e->items, "%" PRIu64 "\t%" PRId64 "\t%s\t%s\t%.2f\t%.0f\n", hit->visit_id,
                visit_start_ms / 1000, plain(e, hit->order_id),
                plain(e, json_string_value(json_array_get(line, 0))),
                json_number_value(json_array_get(line, 3)), q);
        quantity += q;
    }
    json_decref(items);
    return quantity;
}

static int export_hit(const struct hit *hit, void *arg)
{
    struct export *e = arg;
    if (!hit->visit_id) return 0;
    if (hit->visit_id >= e->visit_cap) {
        size_t cap = e->visit_cap ? e->visit_cap : 1 << 16;
        while (cap <= hit->visit_id) cap *= 2;
        struct visit_row *grown = realloc(e->visits, cap * sizeof *grown);
        if (!grown) return -ENOMEM;
        memset(grown + e->visit_cap, 0, (cap - e->visit_cap) * sizeof *grown);
        e->visits = grown;
        e->visit_cap = cap;
    }
    struct visit_row *v = &e->visits[hit->visit_id];
    if (hit->flags & HIT_FLAG_VISIT_START) {
        /* A visit's dimensions are its first hit's. */
        v->started = true;
        v->visitor_id = hit->visitor_id;
        v->first_ms = v->last_ms = hit->time_ms;
        v->is_returning = (hit->flags & HIT_FLAG_RETURNING) != 0;
        v->user_id = names_intern(&e->names, plain(e, hit->user_id));
        v->referrer_type = hit->referrer_type;
        v->referrer_name = names_intern(&e->names, plain(e, hit->referrer_name));
        v->device_type = names_intern(&e->names, plain(e, hit->device_type));
        v->browser = names_intern(&e->names, plain(e, hit->browser));
        v->country = names_intern(&e->names, plain(e, hit->country_code));
    } else if (!v->started) {
        /* Sealed days come in order and each in append order, so a visit's
         * first hit always comes first; the visit_start column relies on it. */
        e->error = -EINVAL;
        snprintf(e->why, sizeof e->why, "hit %" PRIu64 " came before its visit's first hit",
                 hit->seq);
        return e->error;
    }
    if (hit->time_ms < v->first_ms) v->first_ms = hit->time_ms;
    if (hit->time_ms > v->last_ms) v->last_ms = hit->time_ms;
    if (converts(e, hit)) v->converted = true;
    if (hit->kind == HIT_PAGEVIEW) {
        uint32_t url = names_intern(&e->names, plain(e, hit->url));
        if (v->pageviews == 0 || hit->time_ms < v->entry_ms) {
            v->entry_url = url;
            v->entry_ms = hit->time_ms;
        }
        if (v->pageviews == 0 || hit->time_ms >= v->exit_ms) {
            v->exit_url = url;
            v->exit_ms = hit->time_ms;
        }
        v->pageviews++;
        e->pageview_count[v->first_ms >= e->recent_from_ms]++;
    }
    if (hit_kind_is_action(hit->kind)) {
        v->actions++;
        e->action_count[v->first_ms >= e->recent_from_ms]++;
    }
    bool ecommerce = hit->kind == HIT_ECOMMERCE_ORDER || hit->kind == HIT_CART_UPDATE;
    if (hit_kind_is_action(hit->kind) || hit->kind == HIT_GOAL || ecommerce) {
        double quantity = hit->kind == HIT_ECOMMERCE_ORDER ? export_items(e, hit, v->first_ms) : 0;
        fprintf(e->actions,
                "%" PRIu64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64
                "\t%d\t%s\t%d\t%.2f\t%s\t%.0f\t%s\n",
                hit->visit_id, (int64_t)hit->visitor_id, v->first_ms / 1000, hit->time_ms / 1000,
                hit->time_ms % 1000, hit->kind, plain(e, *hit->target_url ? hit->target_url : hit->url),
                hit->goal_id > 0 ? hit->goal_id : 0,
                isfinite(hit->revenue) ? hit->revenue : 0, plain(e, hit->order_id), quantity,
                plain(e, hit->product_sku));
    }
    return e->error;
}

static int write_visits(struct export *e, FILE *out)
{
    uint64_t written[2] = {0};
    for (size_t id = 0; id < e->visit_cap; id++) {
        const struct visit_row *v = &e->visits[id];
        if (!v->started) continue;
        char **s = e->names.items;
        fprintf(out,
                "%zu\t%" PRId64 "\t%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRIu32
                "\t%" PRIu32 "\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
                id, (int64_t)v->visitor_id, s[v->user_id], v->first_ms / 1000, v->first_ms % 1000,
                (v->last_ms - v->first_ms) / 1000, v->actions, v->pageviews, v->converted,
                v->is_returning, referrer_type_name(v->referrer_type), s[v->referrer_name],
                s[v->device_type], s[v->browser], s[v->country], s[v->entry_url],
                s[v->exit_url]);
        written[v->first_ms >= e->recent_from_ms]++;
    }
    printf("visits %" PRIu64 "\nall_visits %" PRIu64 "\n", written[1], written[0] + written[1]);
    return ferror(out) ? -EIO : 0;
}

/* Counts printed: visits, actions and pageviews of the visits that started
 * from recent_from_ms (the 30 days), then all_* over everything stored. */
static int export_tsv(const char *data_dir, const char *export_dir, int64_t recent_from_ms)
{
    char err[512], path[4096];
    struct store_options so = {.data_dir = data_dir, .read_only = true};
    struct store *store;
    if (store_open(&so, &store, err, sizeof err)) {
        fprintf(stderr, "reports_data: %s\n", err);
        return -1;
    }
    struct export e = {.recent_from_ms = recent_from_ms};
    struct goals *goals;
    if (goals_load(data_dir, &goals, err, sizeof err) ||
        goals_copy_site(goals, 1, &e.goals, &e.goal_count)) {
        fprintf(stderr, "reports_data: %s\n", err);
        store_close(store);
        return -1;
    }
    goals_free(goals);
    e.codes = calloc(e.goal_count + 1, sizeof *e.codes);
    e.match = pcre2_match_data_create(1, NULL);
    if (!e.codes || !e.match) abort();
    for (size_t g = 0; g < e.goal_count; g++)
        if (goal_compile(&e.goals[g], &e.codes[g], err, sizeof err)) {
            fprintf(stderr, "reports_data: goal %u: %s\n", e.goals[g].id, err);
            return -1;
        }
    snprintf(path, sizeof path, "%s/actions.tsv", export_dir);
    e.actions = fopen(path, "w");
    snprintf(path, sizeof path, "%s/items.tsv", export_dir);
    e.items = fopen(path, "w");
    int rc = e.actions && e.items ? store_scan(store, 1, 0, (int64_t)1 << 52, export_hit, &e) : -errno;
    if (e.actions && fclose(e.actions) && !rc) rc = -EIO;
    if (e.items && fclose(e.items) && !rc) rc = -EIO;
    store_close(store);
    if (!rc) {
        snprintf(path, sizeof path, "%s/visits.tsv", export_dir);
        FILE *out = fopen(path, "w");
        rc = out ? write_visits(&e, out) : -errno;
        if (out && fclose(out) && !rc) rc = -EIO;
    }
    if (rc) fprintf(stderr, "reports_data: export: %s\n", e.error ? e.why : strerror(-rc));
    printf("actions %" PRIu64 "\npageviews %" PRIu64 "\nall_actions %" PRIu64
           "\nall_pageviews %" PRIu64 "\n",
           e.action_count[1], e.pageview_count[1], e.action_count[0] + e.action_count[1],
           e.pageview_count[0] + e.pageview_count[1]);
    free(e.visits);
    names_free(&e.names);
    names_free(&e.order_ids);
    for (size_t g = 0; g < e.goal_count; g++) pcre2_code_free(e.codes[g]);
    free(e.codes);
    pcre2_match_data_free(e.match);
    goal_array_free(e.goals, e.goal_count);
    return rc ? -1 : 0;
}

/* A pageview count from argument `name`, or -1 after saying why not. */
static long long parse_pageviews(const char *name, const char *text, unsigned long long min)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (errno || *end || n < min || n > 2000000000ull) {
        fprintf(stderr, "reports_data: %s: expected %llu to 2000000000, got '%s'\n", name, min,
                text);
        return -1;
    }
    return (long long)n;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s DATA_DIR EXPORT_DIR PAGEVIEWS HISTORY_PAGEVIEWS\n", argv[0]);
        return 2;
    }
    long long pageviews = parse_pageviews("PAGEVIEWS", argv[3], 100);
    long long history = parse_pageviews("HISTORY_PAGEVIEWS", argv[4], 0);
    if (pageviews < 0 || history < 0) return 2;
    /* Whole UTC days ending at today's midnight: the bench asks for them by date. */
    int64_t today_ms = now_ms() / MS_PER_DAY * MS_PER_DAY;
    int64_t first_day = today_ms / MS_PER_DAY - DAYS;
    /* The history starts on the 1st of the month eleven before yesterday's:
     * with the 30 days, twelve whole calendar months (the current one up
     * to yesterday). */
    int y, m, d;
    civil_from_days(today_ms / MS_PER_DAY - 1, &y, &m, &d);
    int months = y * 12 + (m - 1) - 11;
    int64_t history_first_day = days_from_civil(months / 12, months % 12 + 1, 1);
    if (generate(argv[1], (uint64_t)pageviews, (uint64_t)history,
                 (unsigned)(first_day - history_first_day), today_ms))
        return 1;
    double started = seconds_now();
    if (export_tsv(argv[1], argv[2], first_day * MS_PER_DAY)) return 1;
    fprintf(stderr, "exported for the peers in %.0f s\n", seconds_now() - started);
    printf("first_day %" PRId64 "\nhistory_first_day %" PRId64 "\n", first_day * 86400,
           history_first_day * 86400);
    return 0;
}
