/* report: Matomo's reports over the index. Each report selects the visits
 * of its period and segment, then groups them (or their actions) with agg.
 * This file has the visit reports and the method table; actions are in
 * report_actions.c, the visitor log in report_live.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "report_actions.h"
#include "report_attribution.h"
#include "report_cohorts.h"
#include "report_ecommerce.h"
#include "report_flows.h"
#include "report_funnels.h"
#include "report_goals.h"

/* ---- context ---- */

int report_local_hour(const struct report_context *ctx, int64_t utc_ms)
{
    int64_t local = utc_ms + tz_offset_ms(ctx->tz, utc_ms);
    int64_t ms_of_day = ((local % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
    return (int)(ms_of_day / 3600000);
}

int report_day_of_week(const struct report_context *ctx, int64_t utc_ms)
{
    int64_t day = tz_local_day(ctx->tz, utc_ms);
    /* 1970-01-01 was a Thursday (4). */
    return (int)(((day % 7) + 7 + 3) % 7) + 1;
}

size_t report_goal_position(const struct report_query *q, uint32_t id)
{
    size_t lo = 0, hi = q->goal_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q->goals[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < q->goal_count && q->goals[lo].id == id ? lo : q->goal_count;
}

void report_context_init(struct report_context *ctx, const struct report_query *q)
{
    *ctx = (struct report_context){.index = q->index,
                                   .site = index_site(q->index, q->site_id),
                                   .tz = q->tz,
                                   .segment = q->segment,
                                   .names = q->names,
                                   .q = q};
}

/* First compacted row whose visit started at or after second t. */
static size_t first_from(const struct site_index *s, int64_t t)
{
    size_t lo = 0, hi = s->compacted_visits;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->visit_start[mid] / 1000 < t) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void rows_push(uint32_t **rows, size_t *n, size_t *cap, uint32_t row)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        *rows = realloc(*rows, *cap * sizeof **rows);
        if (!*rows) abort();
    }
    (*rows)[(*n)++] = row;
}

int report_select_visits(const struct report_query *q, struct report_context *ctx,
                         uint32_t **rows, size_t *count)
{
    *rows = NULL;
    *count = 0;
    const struct site_index *s = ctx->site;
    if (!s || !s->visit_count) return 0;
    struct segment_plan *plan;
    int rc = segment_plan_create(ctx, &plan);
    if (rc) return rc;
    /* Compacted visits are in start order by the second: the whole seconds
     * around the range, each visit then checked to the millisecond. */
    size_t lo = 0, hi = s->compacted_visits;
    if (!s->starts_moved) {
        lo = first_from(s, q->from_ms / 1000 - (q->from_ms % 1000 < 0));
        hi = first_from(s, q->to_ms / 1000 + 1);
    }
    size_t cap = 0, n = 0;
    uint32_t *out = NULL;
    for (size_t pass = 0; pass < 2; pass++) {
        /* then the visits that arrived since the last compaction */
        size_t from = pass ? s->compacted_visits : lo, to = pass ? s->visit_count : hi;
        for (size_t r = from; r < to; r++) {
            int64_t t = s->visit_start[r];
            if (t >= q->from_ms && t < q->to_ms && segment_plan_matches(plan, s, (uint32_t)r))
                rows_push(&out, &n, &cap, (uint32_t)r);
        }
    }
    segment_plan_free(plan);
    *rows = out;
    *count = n;
    return 0;
}

/* ---- columns ---- */


static const struct agg_column visit_columns[] = {
    COL("nb_uniq_visitors", REPORT_INT, M_UNIQ_VISITORS),
    COL("nb_visits", REPORT_INT, M_VISITS),
    COL("nb_actions", REPORT_INT, M_ACTIONS),
    COL("nb_users", REPORT_INT, M_USERS),
    COL("max_actions", REPORT_INT, M_MAX_ACTIONS),
    COL("sum_visit_length", REPORT_INT, M_LENGTH),
    COL("bounce_count", REPORT_INT, M_BOUNCES),
    COL("nb_visits_converted", REPORT_INT, M_CONVERTED),
};

static const struct agg_column summary_columns[] = {
    COL("nb_uniq_visitors", REPORT_INT, M_UNIQ_VISITORS),
    COL("nb_users", REPORT_INT, M_USERS),
    COL("nb_visits", REPORT_INT, M_VISITS),
    COL("nb_actions", REPORT_INT, M_ACTIONS),
    COL("nb_visits_converted", REPORT_INT, M_CONVERTED),
    COL("bounce_count", REPORT_INT, M_BOUNCES),
    COL("sum_visit_length", REPORT_INT, M_LENGTH),
    COL("max_actions", REPORT_INT, M_MAX_ACTIONS),
    RATE("bounce_rate", M_BOUNCES, M_VISITS),
    AVG("nb_actions_per_visit", REPORT_NUMBER, M_ACTIONS, M_VISITS),
    AVG("avg_time_on_site", REPORT_INT, M_LENGTH, M_VISITS),
    COL("nb_pageviews", REPORT_INT, M_PAGEVIEWS),
    COL("nb_uniq_pageviews", REPORT_INT, M_UNIQ_PAGEVIEWS),
};

/* ---- visit groupings ---- */

enum grouping {
    G_SUMMARY,
    G_COUNTRY, G_REGION, G_CITY, G_CONTINENT, G_LANGUAGE, G_LANGUAGE_CODE,
    G_DEVICE_TYPE, G_BRAND, G_MODEL, G_BROWSER, G_BROWSER_VERSION, G_ENGINE, G_OS, G_OS_VERSION,
    G_RESOLUTION,
    G_REFERRER_TYPE, G_REFERRER_ALL, G_SEARCH_ENGINES, G_KEYWORDS, G_WEBSITES, G_SOCIALS,
    G_AI_ASSISTANTS, G_CAMPAIGNS,
    G_SERVER_HOUR, G_LOCAL_HOUR, G_DAY_OF_WEEK,
    G_DURATION, G_PAGES, G_VISIT_COUNT, G_DAYS_SINCE_LAST,
    G_USERS,
    G_VISITOR_TYPE,
};

static const char *const referrer_labels[] = {
    "Direct Entry", "Websites", "Campaigns", "Search Engines", "Social Networks",
    "AI Assistants", "Email", "Paid Search", "Paid Social",
};

static const char *referrer_label(unsigned type)
{
    return type < COUNT(referrer_labels) ? referrer_labels[type] : "Unknown";
}

static const char *const weekdays[] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                       "Friday", "Saturday", "Sunday"};

/* report_visitor_type's values, in the report's order. */
static const char *const visitor_types[] = {"new", "returning", "returningCustomer"};

static uint64_t visitor_type_key(const struct visit_row *v)
{
    const char *type = report_visitor_type(v);
    uint64_t k = 0;
    while (k + 1 < COUNT(visitor_types) && strcmp(visitor_types[k], type) != 0) k++;
    return k;
}

/* Buckets, as Matomo's VisitorInterest (report.h; Goals reuses the last two). */
static const struct report_bucket duration_buckets[] = {
    {0, "0-10s"},        {11, "11-30s"},      {31, "31-60s"},       {61, "1-2 min"},
    {121, "2-4 min"},    {241, "4-7 min"},    {421, "7-10 min"},    {601, "10-15 min"},
    {901, "15-30 min"},  {1801, "30+ min"},
};
static const struct report_bucket page_buckets[] = {
    {0, "0 pages"},     {1, "1 page"},      {2, "2 pages"},      {3, "3 pages"},
    {4, "4 pages"},     {5, "5 pages"},     {6, "6-7 pages"},    {8, "8-10 pages"},
    {11, "11-14 pages"}, {15, "15-20 pages"}, {21, "21-30 pages"}, {31, "31-50 pages"},
    {51, "51+ pages"},
};
const struct report_bucket report_visit_count_buckets[] = {
    {1, "1 visit"},       {2, "2 visits"},      {3, "3 visits"},      {4, "4 visits"},
    {5, "5 visits"},      {6, "6 visits"},      {7, "7 visits"},      {8, "8 visits"},
    {9, "9-14 visits"},   {15, "15-25 visits"}, {26, "26-50 visits"}, {51, "51-100 visits"},
    {101, "101-200 visits"}, {201, "201+ visits"},
};
const struct report_bucket report_days_buckets[] = {
    {0, "0 days"},        {1, "1 day"},         {2, "2 days"},        {3, "3 days"},
    {4, "4 days"},        {5, "5 days"},        {6, "6 days"},        {7, "7 days"},
    {8, "8-14 days"},     {15, "15-30 days"},   {31, "31-60 days"},   {61, "61-120 days"},
    {121, "121-364 days"}, {365, "365+ days"},
};

const size_t report_visit_count_bucket_count = COUNT(report_visit_count_buckets);
const size_t report_days_bucket_count = COUNT(report_days_buckets);

size_t report_bucket_of(const struct report_bucket *b, size_t n, double x)
{
    size_t i = 0;
    while (i + 1 < n && x >= b[i + 1].from) i++;
    return i;
}

struct group_spec {
    const struct report_bucket *buckets;
    size_t bucket_count;
    int segment_dimension;    /* for the "segment" column, -1 none */
};

/* Matomo's operating system families: iPadOS is iOS, every Linux is
 * GNU/Linux. */
static const char *os_family(const char *os)
{
    static const char *const families[][2] = {
        {"iPadOS", "iOS"},     {"watchOS", "iOS"},      {"tvOS", "iOS"},
        {"Mac OS X", "Mac"},   {"macOS", "Mac"},        {"Mac OS", "Mac"},
        {"Linux", "GNU/Linux"}, {"Ubuntu", "GNU/Linux"}, {"Fedora", "GNU/Linux"},
        {"Debian", "GNU/Linux"}, {"Arch Linux", "GNU/Linux"}, {"Linux Mint", "GNU/Linux"},
        {"ChromeOS", "Chrome OS"},
    };
    if (strncmp(os, "Windows", 7) == 0) return "Windows";
    for (size_t i = 0; i < COUNT(families); i++)
        if (strcmp(families[i][0], os) == 0) return families[i][1];
    return os;
}



static char *label_printf(struct arena *arena, const char *fmt, const char *a, const char *b)
{
    char text[1024];
    snprintf(text, sizeof text, fmt, a, b);
    char *s = arena_strdup(arena, text);
    if (!s) abort();
    return s;
}

static const char *known(const char *s)
{
    return *s ? s : "Unknown";
}

static const char *capitalised(struct arena *arena, const char *s)
{
    if (!*s) return "Unknown";
    char *c = arena_strdup(arena, s);
    if (!c) abort();
    if (c[0] >= 'a' && c[0] <= 'z') c[0] = (char)(c[0] - 'a' + 'A');
    return c;
}

/* "countryCode==de": Matomo's per-row segment, value URL-encoded. */
static const char *row_segment(struct arena *arena, const char *dimension, const char *value)
{
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%s==", dimension);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            buf_putc(&b, (char)*p);
        else
            buf_printf(&b, "%%%02X", *p);
    }
    char *s = arena_strdup(arena, b.data);
    buf_free(&b);
    if (!s) abort();
    return s;
}

/* Puts visit row into its group(s) for grouping g. */
static void group_visit(struct agg *agg, enum grouping g, const struct report_context *ctx,
                        uint32_t row)
{
    const struct visit_row *v = &ctx->site->visits[row];
    const uint32_t *t = v->text;
    struct arena *arena = agg->arena;
    uint64_t k1 = 0, k2 = 0;
    bool sub = false, created;
    double x;
    switch (g) {
    case G_SUMMARY: k1 = 0; break;
    case G_COUNTRY: k1 = t[VT_COUNTRY]; break;
    /* One "Unknown" row, whatever the country. */
    case G_REGION: k1 = t[VT_REGION] ? (uint64_t)t[VT_COUNTRY] << 32 | t[VT_REGION] : 0; break;
    case G_CITY: k1 = t[VT_CITY] ? (uint64_t)t[VT_COUNTRY] << 32 | t[VT_CITY] : 0; break;
    case G_CONTINENT: k1 = t[VT_CONTINENT]; break;
    case G_LANGUAGE: k1 = t[VT_LANGUAGE]; break;
    case G_LANGUAGE_CODE: k1 = t[VT_LOCALE] ? t[VT_LOCALE] : t[VT_LANGUAGE]; break;
    case G_DEVICE_TYPE: k1 = t[VT_DEVICE_TYPE]; break;
    case G_BRAND: k1 = t[VT_DEVICE_BRAND]; break;
    case G_MODEL: k1 = (uint64_t)t[VT_DEVICE_BRAND] << 32 | t[VT_DEVICE_MODEL]; break;
    case G_BROWSER: k1 = t[VT_BROWSER]; break;
    case G_BROWSER_VERSION: k1 = (uint64_t)t[VT_BROWSER] << 32 | t[VT_BROWSER_VERSION]; break;
    case G_ENGINE: k1 = t[VT_BROWSER_ENGINE]; break;
    case G_OS: k1 = report_hash(os_family(report_text(ctx, t[VT_OS]))); break;
    case G_OS_VERSION: k1 = (uint64_t)t[VT_OS] << 32 | t[VT_OS_VERSION]; break;
    case G_RESOLUTION: k1 = t[VT_RESOLUTION]; break;
    case G_REFERRER_TYPE:
        k1 = v->referrer_type;
        k2 = t[VT_REFERRER_NAME];
        sub = v->referrer_type != REFERRER_DIRECT;
        break;
    case G_REFERRER_ALL: k1 = (uint64_t)v->referrer_type << 32 | t[VT_REFERRER_NAME]; break;
    case G_SEARCH_ENGINES:
    case G_KEYWORDS:
        if (v->referrer_type != REFERRER_SEARCH && v->referrer_type != REFERRER_PAID_SEARCH) return;
        k1 = g == G_SEARCH_ENGINES ? t[VT_REFERRER_NAME] : t[VT_REFERRER_KEYWORD];
        k2 = g == G_SEARCH_ENGINES ? t[VT_REFERRER_KEYWORD] : t[VT_REFERRER_NAME];
        sub = true;
        break;
    case G_WEBSITES:
    case G_SOCIALS:
    case G_AI_ASSISTANTS: {
        unsigned want = g == G_WEBSITES ? REFERRER_WEBSITE : g == G_SOCIALS ? REFERRER_SOCIAL : REFERRER_AI;
        if (v->referrer_type != want && !(g == G_SOCIALS && v->referrer_type == REFERRER_PAID_SOCIAL))
            return;
        k1 = t[VT_REFERRER_NAME];
        k2 = t[VT_REFERRER_URL];
        sub = true;
        break;
    }
    case G_CAMPAIGNS:
        if (!t[VT_CAMPAIGN_NAME] && v->referrer_type != REFERRER_CAMPAIGN) return;
        k1 = t[VT_CAMPAIGN_NAME];
        k2 = hash_mix64((uint64_t)t[VT_CAMPAIGN_KEYWORD] << 32 | t[VT_CAMPAIGN_SOURCE]) ^
             t[VT_CAMPAIGN_MEDIUM];
        sub = true;
        break;
    case G_SERVER_HOUR: k1 = (uint64_t)report_local_hour(ctx, ctx->site->visit_start[row]); break;
    case G_LOCAL_HOUR:
        if (v->local_time_s < 0) return;
        k1 = (uint64_t)(v->local_time_s / 3600);
        break;
    case G_DAY_OF_WEEK: k1 = (uint64_t)report_day_of_week(ctx, ctx->site->visit_start[row]); break;
    case G_DURATION:
        x = (double)((v->end_ms - ctx->site->visit_start[row]) / 1000);
        k1 = report_bucket_of(duration_buckets, COUNT(duration_buckets), x);
        break;
    case G_PAGES: k1 = report_bucket_of(page_buckets, COUNT(page_buckets), v->pageviews); break;
    case G_VISIT_COUNT:
        k1 = report_bucket_of(report_visit_count_buckets, report_visit_count_bucket_count,
                              v->visit_count);
        break;
    case G_DAYS_SINCE_LAST:
        /* Only returning visits have a last visit. */
        if (!(v->flags & VISIT_RETURNING) || v->days_since_last < 0) return;
        k1 = report_bucket_of(report_days_buckets, report_days_bucket_count, v->days_since_last);
        break;
    case G_USERS:
        if (!v->user_id) return;
        k1 = v->user_id;
        break;
    case G_VISITOR_TYPE: k1 = visitor_type_key(v); break;
    }
    uint32_t e = agg_entry(agg, k1, 0, INDEX_NONE, &created);
    if (created) {
        struct agg_entry *en = &agg->entries[e];
        const char *a;
        switch (g) {
        case G_SUMMARY: en->label = ""; break;
        case G_COUNTRY:
            a = report_text(ctx, t[VT_COUNTRY]);
            en->code = *a ? a : "xx";
            en->label = names_country(ctx->names, a) ? names_country(ctx->names, a) : "Unknown";
            en->segment = row_segment(arena, "countryCode", a);
            break;
        case G_REGION:
        case G_CITY: {
            const char *country = report_text(ctx, t[VT_COUNTRY]);
            a = report_text(ctx, t[g == G_REGION ? VT_REGION : VT_CITY]);
            const char *name = g == G_REGION ? names_region(ctx->names, country, a) : a;
            const char *cname = names_country(ctx->names, country);
            en->label = *a ? label_printf(arena, "%s, %s", name && *name ? name : a,
                                          cname ? cname : known(country))
                           : "Unknown";
            en->code = g == G_REGION && *a ? label_printf(arena, "%s|%s", a, country) : NULL;
            en->segment = row_segment(arena, g == G_REGION ? "regionCode" : "city", a);
            break;
        }
        case G_CONTINENT:
            a = report_text(ctx, t[VT_CONTINENT]);
            en->label = names_continent(a) ? names_continent(a) : "Unknown";
            en->code = *a ? a : "unk";
            en->segment = row_segment(arena, "continentCode", a);
            break;
        case G_LANGUAGE:
            a = report_text(ctx, t[VT_LANGUAGE]);
            en->label = names_language(ctx->names, a) ? names_language(ctx->names, a) : known(a);
            en->code = *a ? a : NULL;
            en->segment = row_segment(arena, "languageCode", a);
            break;
        case G_LANGUAGE_CODE:
            a = report_text(ctx, (uint32_t)k1);
            en->label = known(a);
            en->segment = row_segment(arena, "languageCode", a);
            break;
        case G_DEVICE_TYPE:
            a = report_text(ctx, t[VT_DEVICE_TYPE]);
            en->label = capitalised(arena, a);
            en->segment = row_segment(arena, "deviceType", a);
            break;
        case G_BRAND:
            a = report_text(ctx, t[VT_DEVICE_BRAND]);
            en->label = known(a);
            en->segment = row_segment(arena, "deviceBrand", a);
            break;
        case G_MODEL:
            a = report_text(ctx, t[VT_DEVICE_MODEL]);
            en->label = *a ? label_printf(arena, "%s - %s", known(report_text(ctx, t[VT_DEVICE_BRAND])), a)
                           : "Unknown";
            en->segment = row_segment(arena, "deviceModel", a);
            break;
        case G_BROWSER:
            a = report_text(ctx, t[VT_BROWSER]);
            en->label = known(a);
            en->code = *a ? report_browser_code(a) : NULL;
            en->segment = row_segment(arena, "browserName", a);
            break;
        case G_BROWSER_VERSION:
        case G_OS_VERSION: {
            uint32_t nid = t[g == G_OS_VERSION ? VT_OS : VT_BROWSER];
            const char *version = report_text(ctx, t[g == G_OS_VERSION ? VT_OS_VERSION : VT_BROWSER_VERSION]);
            a = report_text(ctx, nid);
            en->label = *a ? (*version ? label_printf(arena, "%s %s", a, version) : a) : "Unknown";
            /* The name and the version: "131" alone is Chrome's and Edge's. */
            en->segment = label_printf(arena, "%s;%s",
                                       row_segment(arena, g == G_OS_VERSION ? "operatingSystemName" : "browserName", a),
                                       row_segment(arena, g == G_OS_VERSION ? "operatingSystemVersion" : "browserVersion", version));
            break;
        }
        case G_ENGINE:
            a = report_text(ctx, t[VT_BROWSER_ENGINE]);
            en->label = known(a);
            en->segment = row_segment(arena, "browserEngine", a);
            break;
        case G_OS:
            a = os_family(report_text(ctx, t[VT_OS]));
            en->label = known(a);
            en->code = *a ? report_os_code(a) : NULL;
            en->segment = row_segment(arena, "operatingSystemCode", report_os_code(a));
            break;
        case G_RESOLUTION:
            a = report_text(ctx, t[VT_RESOLUTION]);
            en->label = known(a);
            en->segment = row_segment(arena, "resolution", a);
            break;
        case G_REFERRER_TYPE:
            en->label = referrer_label(v->referrer_type);
            en->code = referrer_type_name(v->referrer_type);
            en->segment = row_segment(arena, "referrerType", referrer_type_name(v->referrer_type));
            break;
        case G_REFERRER_ALL:
            a = report_text(ctx, t[VT_REFERRER_NAME]);
            en->label = v->referrer_type == REFERRER_DIRECT ? "Direct Entry" : known(a);
            en->code = referrer_type_name(v->referrer_type);
            en->segment = label_printf(arena, "%s;%s",
                                       row_segment(arena, "referrerType", referrer_type_name(v->referrer_type)),
                                       row_segment(arena, "referrerName", a));
            break;
        case G_SEARCH_ENGINES:
        case G_WEBSITES:
        case G_SOCIALS:
        case G_AI_ASSISTANTS:
            a = report_text(ctx, t[VT_REFERRER_NAME]);
            en->label = known(a);
            en->segment = row_segment(arena, "referrerName", a);
            break;
        case G_KEYWORDS:
            a = report_text(ctx, t[VT_REFERRER_KEYWORD]);
            en->label = *a ? a : "Keyword not defined";
            en->segment = row_segment(arena, "referrerKeyword", a);
            break;
        case G_CAMPAIGNS:
            a = report_text(ctx, t[VT_CAMPAIGN_NAME]);
            en->label = known(a);
            en->segment = row_segment(arena, "campaignName", a);
            break;
        case G_SERVER_HOUR:
        case G_LOCAL_HOUR: {
            char text[8];
            snprintf(text, sizeof text, "%uh", (unsigned)k1);
            en->label = arena_strdup(arena, text);
            break;
        }
        case G_DAY_OF_WEEK: en->label = weekdays[k1 - 1]; break;
        case G_DURATION: en->label = duration_buckets[k1].label; break;
        case G_PAGES: en->label = page_buckets[k1].label; break;
        case G_VISIT_COUNT: en->label = report_visit_count_buckets[k1].label; break;
        case G_DAYS_SINCE_LAST: en->label = report_days_buckets[k1].label; break;
        case G_USERS:
            en->label = report_text(ctx, v->user_id);
            en->segment = row_segment(arena, "userId", en->label);
            break;
        case G_VISITOR_TYPE: break; /* a fixed row: add_fixed_rows labelled it */
        }
    }
    agg_add_visit(agg, e, ctx, row);
    if (!sub) return;
    uint32_t child = agg_entry(agg, k1, k2, e, &created);
    if (created) {
        struct agg_entry *en = &agg->entries[child];
        const char *a;
        switch (g) {
        case G_REFERRER_TYPE: en->label = known(report_text(ctx, t[VT_REFERRER_NAME])); break;
        case G_SEARCH_ENGINES:
            a = report_text(ctx, t[VT_REFERRER_KEYWORD]);
            en->label = *a ? a : "Keyword not defined";
            break;
        case G_KEYWORDS: en->label = known(report_text(ctx, t[VT_REFERRER_NAME])); break;
        case G_CAMPAIGNS: {
            /* "keyword - source - medium", the parts that were sent */
            struct buf b;
            buf_init(&b);
            const char *parts[3] = {report_text(ctx, t[VT_CAMPAIGN_KEYWORD]),
                                    report_text(ctx, t[VT_CAMPAIGN_SOURCE]),
                                    report_text(ctx, t[VT_CAMPAIGN_MEDIUM])};
            for (int i = 0; i < 3; i++) {
                if (!*parts[i]) continue;
                if (b.len) buf_puts(&b, " - ");
                buf_puts(&b, parts[i]);
            }
            en->label = b.len ? arena_strdup(arena, b.data) : "Unknown";
            buf_free(&b);
            break;
        }
        default:
            a = report_text(ctx, t[VT_REFERRER_URL]);
            en->label = known(a);
            en->url = *a ? a : NULL;
            break;
        }
    }
    agg_add_visit(agg, child, ctx, row);
}

/* Rows every report of a fixed scale shows, visited or not (hours, days,
 * buckets), so charts have no holes. */
static void add_fixed_rows(struct agg *agg, enum grouping g)
{
    size_t n = 0;
    const struct report_bucket *b = NULL;
    switch (g) {
    case G_SERVER_HOUR:
    case G_LOCAL_HOUR: n = 24; break;
    case G_DAY_OF_WEEK: n = 7; break;
    case G_DURATION: b = duration_buckets, n = COUNT(duration_buckets); break;
    case G_PAGES: b = page_buckets, n = COUNT(page_buckets); break;
    case G_VISIT_COUNT: b = report_visit_count_buckets, n = report_visit_count_bucket_count; break;
    case G_DAYS_SINCE_LAST: b = report_days_buckets, n = report_days_bucket_count; break;
    case G_VISITOR_TYPE: n = COUNT(visitor_types); break;
    default: return;
    }
    for (size_t i = 0; i < n; i++) {
        bool created;
        uint64_t key = g == G_DAY_OF_WEEK ? i + 1 : i;
        uint32_t e = agg_entry(agg, key, 0, INDEX_NONE, &created);
        if (!created) continue;
        struct agg_entry *en = &agg->entries[e];
        if (b) {
            en->label = b[i].label;
        } else if (g == G_DAY_OF_WEEK) {
            en->label = weekdays[i];
        } else if (g == G_VISITOR_TYPE) {
            en->label = visitor_types[i];
            en->segment = row_segment(agg->arena, "visitorType", visitor_types[i]);
        } else {
            char text[8];
            snprintf(text, sizeof text, "%zuh", i);
            en->label = arena_strdup(agg->arena, text);
        }
    }
}

static bool fixed_order(enum grouping g)
{
    return g == G_SERVER_HOUR || g == G_LOCAL_HOUR || g == G_DAY_OF_WEEK || g == G_DURATION ||
           g == G_PAGES || g == G_VISIT_COUNT || g == G_DAYS_SINCE_LAST || g == G_VISITOR_TYPE;
}

static int visit_report(const struct report_query *q, struct report_context *ctx,
                        enum grouping g, struct arena *arena, struct report_table **out)
{
    struct agg agg;
    agg_init(&agg, arena, ctx->site ? (uint32_t)ctx->site->visitor_count : 0);
    const struct agg_column *columns = g == G_SUMMARY ? summary_columns : visit_columns;
    size_t column_count = g == G_SUMMARY ? COUNT(summary_columns) : COUNT(visit_columns);
    int rc = q->goal_columns ? goal_columns_setup(ctx, &agg, arena, columns, column_count,
                                                  &columns, &column_count)
                             : 0;
    uint32_t *rows = NULL;
    size_t n = 0;
    if (!rc) rc = report_select_visits(q, ctx, &rows, &n);
    if (rc) {
        agg_free(&agg);
        return rc;
    }
    if (g == G_SUMMARY) {
        bool created;
        agg_entry(&agg, 0, 0, INDEX_NONE, &created);
    }
    add_fixed_rows(&agg, g);
    for (size_t i = 0; i < n; i++) group_visit(&agg, g, ctx, rows[i]);
    if (g == G_SUMMARY) {
        *out = agg_table(&agg, columns, column_count, M_VISITS, false, "", 0);
        (*out)->single = true;
    } else {
        /* Hours, weekdays and buckets keep their natural order (-1). */
        *out = agg_table(&agg, columns, column_count, fixed_order(g) ? -1 : M_VISITS, q->flat,
                         " - ", fixed_order(g) ? 0 : q->truncate);
    }
    agg_free(&agg);
    free(rows);
    return 0;
}

/* VisitFrequency.get: the summary of new and of returning visits. */
static int frequency_report(const struct report_query *q, struct report_context *ctx,
                            struct arena *arena, struct report_table **out)
{
    static const char *const groups[2] = {"new", "returning"};
    /* The overview's columns, for each of the two groups. */
    const struct agg_column *base = summary_columns;
    uint32_t *rows;
    size_t n;
    int rc = report_select_visits(q, ctx, &rows, &n);
    if (rc) return rc;
    struct agg agg;
    agg_init(&agg, arena, ctx->site ? (uint32_t)ctx->site->visitor_count : 0);
    for (int k = 0; k < 2; k++) {
        bool created;
        agg_entry(&agg, (uint64_t)k, 0, INDEX_NONE, &created);
    }
    for (size_t i = 0; i < n; i++) {
        bool created;
        bool returning = ctx->site->visits[rows[i]].flags & VISIT_RETURNING;
        agg_add_visit(&agg, agg_entry(&agg, returning, 0, INDEX_NONE, &created), ctx, rows[i]);
    }
    /* Rows new (k1 0) then returning (1); then one row with every column
     * twice, suffixed _new and _returning. */
    size_t per = COUNT(summary_columns);
    struct report_table *both = agg_table(&agg, base, per, -1, false, "", 0);
    struct report_column *cols = arena_alloc(arena, 2 * per * sizeof *cols);
    struct report_table *t = arena_alloc(arena, sizeof *t);
    struct report_row *row = arena_alloc(arena, sizeof *row);
    double *values = arena_alloc(arena, 2 * per * sizeof *values);
    if (!cols || !t || !row || !values) abort();
    for (int k = 0; k < 2; k++) {
        for (size_t c = 0; c < per; c++) {
            char name[64];
            snprintf(name, sizeof name, "%s_%s", base[c].column.name, groups[k]);
            cols[k * per + c] = (struct report_column){arena_strdup(arena, name), base[c].column.format};
            values[k * per + c] = both->rows[k].values[c];
        }
    }
    *row = (struct report_row){.label = "", .values = values};
    *t = (struct report_table){.columns = cols, .column_count = 2 * per, .rows = row,
                               .row_count = 1, .single = true};
    *out = t;
    agg_free(&agg);
    free(rows);
    return 0;
}

/* For the other report files: a row's segment, a channel type's label. */
const char *report_row_segment(struct arena *arena, const char *dimension, const char *value)
{
    return row_segment(arena, dimension, value);
}

const char *report_channel_label(unsigned referrer_type)
{
    return referrer_label(referrer_type);
}

/* ---- the method table ---- */

struct method {
    const char *name;
    enum { VISITS, FREQUENCY, ACTIONS, GOALS, ECOMMERCE, ATTRIBUTION, COHORTS, FLOWS, FUNNELS } family;
    int what; /* enum grouping, action_report, goal_report, ecommerce_report,
                 attribution_report, flow_report, funnel_report */
};

static const struct method methods[] = {
    {"VisitsSummary.get", VISITS, G_SUMMARY},
    {"VisitFrequency.get", FREQUENCY, 0},
    {"Actions.get", ACTIONS, AR_SUMMARY},
    {"Actions.getPageUrls", ACTIONS, AR_PAGE_URLS},
    {"Actions.getPageTitles", ACTIONS, AR_PAGE_TITLES},
    {"Actions.getEntryPageUrls", ACTIONS, AR_ENTRY_URLS},
    {"Actions.getExitPageUrls", ACTIONS, AR_EXIT_URLS},
    {"Actions.getEntryPageTitles", ACTIONS, AR_ENTRY_TITLES},
    {"Actions.getExitPageTitles", ACTIONS, AR_EXIT_TITLES},
    {"Actions.getSiteSearchKeywords", ACTIONS, AR_SEARCH_KEYWORDS},
    {"Actions.getSiteSearchNoResultKeywords", ACTIONS, AR_SEARCH_NO_RESULT},
    {"Actions.getSiteSearchCategories", ACTIONS, AR_SEARCH_CATEGORIES},
    {"Actions.getOutlinks", ACTIONS, AR_OUTLINKS},
    {"Actions.getDownloads", ACTIONS, AR_DOWNLOADS},
    {"Events.getCategory", ACTIONS, AR_EVENT_CATEGORY},
    {"Events.getAction", ACTIONS, AR_EVENT_ACTION},
    {"Events.getName", ACTIONS, AR_EVENT_NAME},
    {"Contents.getContentNames", ACTIONS, AR_CONTENT_NAMES},
    {"Contents.getContentPieces", ACTIONS, AR_CONTENT_PIECES},
    {"Referrers.getReferrerType", VISITS, G_REFERRER_TYPE},
    {"Referrers.getAll", VISITS, G_REFERRER_ALL},
    {"Referrers.getSearchEngines", VISITS, G_SEARCH_ENGINES},
    {"Referrers.getKeywords", VISITS, G_KEYWORDS},
    {"Referrers.getWebsites", VISITS, G_WEBSITES},
    {"Referrers.getSocials", VISITS, G_SOCIALS},
    {"Referrers.getAIAssistants", VISITS, G_AI_ASSISTANTS},
    {"Referrers.getCampaigns", VISITS, G_CAMPAIGNS},
    {"DevicesDetection.getType", VISITS, G_DEVICE_TYPE},
    {"DevicesDetection.getBrand", VISITS, G_BRAND},
    {"DevicesDetection.getModel", VISITS, G_MODEL},
    {"DevicesDetection.getBrowsers", VISITS, G_BROWSER},
    {"DevicesDetection.getBrowserVersions", VISITS, G_BROWSER_VERSION},
    {"DevicesDetection.getBrowserEngines", VISITS, G_ENGINE},
    {"DevicesDetection.getOsFamilies", VISITS, G_OS},
    {"DevicesDetection.getOsVersions", VISITS, G_OS_VERSION},
    {"Resolution.getResolution", VISITS, G_RESOLUTION},
    {"UserCountry.getContinent", VISITS, G_CONTINENT},
    {"UserCountry.getCountry", VISITS, G_COUNTRY},
    {"UserCountry.getRegion", VISITS, G_REGION},
    {"UserCountry.getCity", VISITS, G_CITY},
    {"UserLanguage.getLanguage", VISITS, G_LANGUAGE},
    {"UserLanguage.getLanguageCode", VISITS, G_LANGUAGE_CODE},
    {"VisitTime.getVisitInformationPerServerTime", VISITS, G_SERVER_HOUR},
    {"VisitTime.getVisitInformationPerLocalTime", VISITS, G_LOCAL_HOUR},
    {"VisitTime.getByDayOfWeek", VISITS, G_DAY_OF_WEEK},
    {"VisitorInterest.getNumberOfVisitsPerVisitDuration", VISITS, G_DURATION},
    {"VisitorInterest.getNumberOfVisitsPerPage", VISITS, G_PAGES},
    {"VisitorInterest.getNumberOfVisitsByVisitCount", VISITS, G_VISIT_COUNT},
    {"VisitorInterest.getNumberOfVisitsByDaysSinceLast", VISITS, G_DAYS_SINCE_LAST},
    {"UserId.getUsers", VISITS, G_USERS},
    {"VisitFrequency.getVisitorTypes", VISITS, G_VISITOR_TYPE},
    {"Goals.get", GOALS, GR_GET},
    {"Goals.getDaysToConversion", GOALS, GR_DAYS_TO_CONVERSION},
    {"Goals.getVisitsUntilConversion", GOALS, GR_VISITS_UNTIL_CONVERSION},
    {"Goals.getItemsSku", ECOMMERCE, ER_ITEMS_SKU},
    {"Goals.getItemsName", ECOMMERCE, ER_ITEMS_NAME},
    {"Goals.getItemsCategory", ECOMMERCE, ER_ITEMS_CATEGORY},
    {"Customers.get", ECOMMERCE, ER_CUSTOMERS},
    {"MultiChannelConversionAttribution.getChannelAttribution", ATTRIBUTION, ATTR_CHANNELS},
    {"MultiChannelConversionAttribution.getConversionPaths", ATTRIBUTION, ATTR_PATHS},
    {"Cohorts.get", COHORTS, 0},
    {"UsersFlow.getUsersFlow", FLOWS, FLOW_STEPS},
    {"UsersFlow.getUsersFlowPretty", FLOWS, FLOW_STEPS_PRETTY},
    {"UsersFlow.getInteractionActions", FLOWS, FLOW_STEP_ACTIONS},
    {"Funnels.getFunnelFlow", FUNNELS, FR_FLOW},
    {"Funnels.getMetrics", FUNNELS, FR_METRICS},
    {"Funnels.getFunnelEntries", FUNNELS, FR_ENTRIES},
    {"Funnels.getFunnelExits", FUNNELS, FR_EXITS},
};

const char *report_method(size_t i)
{
    return i < COUNT(methods) ? methods[i].name : NULL;
}

int report_run(const struct report_query *q, const char *method, struct arena *arena,
               struct report_table **out, char *err, size_t errlen)
{
    const struct method *m = NULL;
    for (size_t i = 0; i < COUNT(methods) && !m; i++)
        if (strcmp(methods[i].name, method) == 0) m = &methods[i];
    if (!m) {
        snprintf(err, errlen, "'%.100s' is not a report", method);
        return -ENOENT;
    }
    struct report_context ctx;
    report_context_init(&ctx, q);
    ctx.err = err;
    ctx.errlen = errlen;
    err[0] = '\0';
    int rc;
    switch (m->family) {
    case VISITS: rc = visit_report(q, &ctx, (enum grouping)m->what, arena, out); break;
    case FREQUENCY: rc = frequency_report(q, &ctx, arena, out); break;
    case GOALS: rc = goal_report(q, &ctx, (enum goal_report)m->what, arena, out); break;
    case ECOMMERCE: rc = ecommerce_report(q, &ctx, (enum ecommerce_report)m->what, arena, out); break;
    case ATTRIBUTION:
        rc = attribution_report(q, &ctx, (enum attribution_report)m->what, arena, out);
        break;
    case COHORTS: rc = cohort_report(q, &ctx, arena, out); break;
    case FLOWS: rc = flow_report(q, &ctx, (enum flow_report)m->what, arena, out); break;
    case FUNNELS: rc = funnel_report(q, &ctx, (enum funnel_report)m->what, arena, out); break;
    default: rc = action_report(q, &ctx, (enum action_report)m->what, arena, out); break;
    }
    if (rc && !err[0]) snprintf(err, errlen, "the report could not be computed: %s", strerror(-rc));
    return rc;
}
