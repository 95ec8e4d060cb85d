/* report_live: the visitor log, real-time counters and visitor profiles,
 * in the JSON shapes of Matomo's Live plugin. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"


static void json_key_string(struct buf *b, const char *key, const char *value)
{
    buf_printf(b, ",\"%s\":", key);
    buf_json_string(b, value);
}

static void json_number(struct buf *b, double x)
{
    if (!isfinite(x)) buf_puts(b, "null");
    else if (x == (double)(int64_t)x) buf_printf(b, "%" PRId64, (int64_t)x);
    else buf_printf(b, "%.2f", x);
}

static const char *action_type(int kind)
{
    switch (kind) {
    case HIT_PAGEVIEW: return "action";
    case HIT_EVENT: return "event";
    case HIT_OUTLINK: return "outlink";
    case HIT_DOWNLOAD: return "download";
    case HIT_SITE_SEARCH: return "search";
    case HIT_CONTENT_IMPRESSION: return "contentImpression";
    case HIT_CONTENT_INTERACTION: return "contentInteraction";
    case HIT_GOAL: return "goal";
    case HIT_ECOMMERCE_ORDER: return "ecommerceOrder";
    case HIT_CART_UPDATE: return "cartUpdate";
    default: return "action";
    }
}

static void action_json(const struct report_context *ctx, const struct site_index *s,
                        const struct visit_row *v, uint32_t i, struct buf *b)
{
    const struct action_row *a = &s->actions[i];
    buf_puts(b, "{\"type\":");
    buf_json_string(b, action_type(a->kind));
    buf_printf(b, ",\"timestamp\":%" PRId64, a->time_ms / 1000);
    switch (a->kind) {
    case HIT_PAGEVIEW:
    case HIT_CUSTOM_ACTION: {
        json_key_string(b, "url", report_text(ctx, a->a));
        json_key_string(b, "pageTitle", report_text(ctx, a->b));
        int64_t until = v->end_ms;
        for (uint32_t j = a->next; j != INDEX_NONE; j = s->actions[j].next)
            if (s->actions[j].kind == HIT_PAGEVIEW) {
                until = s->actions[j].time_ms;
                break;
            }
        buf_printf(b, ",\"timeSpent\":%" PRId64, (until - a->time_ms) / 1000);
        if (a->c) json_key_string(b, "productSku", report_text(ctx, a->c));
        break;
    }
    case HIT_EVENT:
        json_key_string(b, "eventCategory", report_text(ctx, a->a));
        json_key_string(b, "eventAction", report_text(ctx, a->b));
        json_key_string(b, "eventName", report_text(ctx, a->c));
        if (isfinite(a->value)) {
            buf_puts(b, ",\"eventValue\":");
            json_number(b, a->value);
        }
        break;
    case HIT_OUTLINK:
    case HIT_DOWNLOAD:
        json_key_string(b, "url", report_text(ctx, a->a));
        break;
    case HIT_SITE_SEARCH:
        json_key_string(b, "siteSearchKeyword", report_text(ctx, a->a));
        json_key_string(b, "siteSearchCategory", report_text(ctx, a->b));
        if (isfinite(a->value)) buf_printf(b, ",\"siteSearchCount\":%.0f", a->value);
        break;
    case HIT_CONTENT_IMPRESSION:
    case HIT_CONTENT_INTERACTION:
        json_key_string(b, "contentName", report_text(ctx, a->a));
        json_key_string(b, "contentPiece", report_text(ctx, a->b));
        json_key_string(b, "contentTarget", report_text(ctx, a->c));
        if (a->kind == HIT_CONTENT_INTERACTION) json_key_string(b, "contentInteraction", report_text(ctx, a->d));
        break;
    case HIT_GOAL:
        buf_printf(b, ",\"goalId\":%d", a->goal_id);
        size_t goal = report_goal_position(ctx->q, (uint32_t)a->goal_id);
        /* a goal deleted since keeps its conversions, without a name */
        if (goal < ctx->q->goal_count) json_key_string(b, "goalName", ctx->q->goals[goal].name);
        buf_puts(b, ",\"revenue\":");
        json_number(b, isfinite(a->value) ? a->value : 0);
        break;
    case HIT_ECOMMERCE_ORDER:
    case HIT_CART_UPDATE:
        if (a->kind == HIT_ECOMMERCE_ORDER) {
            json_key_string(b, "orderId", report_text(ctx, a->a));
            /* an order id sent again: shown, never counted */
            if (s->ecommerce[a->c].duplicate) buf_puts(b, ",\"duplicate\":true");
        }
        buf_puts(b, ",\"revenue\":");
        json_number(b, isfinite(a->value) ? a->value : 0);
        buf_printf(b, ",\"items\":%s", *report_text(ctx, a->b) ? report_text(ctx, a->b) : "[]");
        break;
    }
    buf_putc(b, '}');
}

/* Goals and orders: what the visit brought in. */
static double visit_revenue(const struct site_index *s, uint32_t row)
{
    const struct conversion *c;
    size_t goals = visit_conversions(s, row, &c);
    double revenue = 0;
    for (size_t k = 0; k < goals; k++) revenue += c[k].revenue;
    return revenue;
}

static void visit_json(const struct report_context *ctx, uint32_t site_id, uint32_t row,
                       struct buf *b)
{
    const struct site_index *s = ctx->site;
    const struct visit_row *v = &s->visits[row];
    const uint32_t *t = v->text;
    int64_t start = s->visit_start[row];
    char date[11];
    format_date(tz_local_day(ctx->tz, start), date);
    buf_printf(b, "{\"idSite\":%u,\"idVisit\":%" PRIu64 ",\"visitorId\":\"%016" PRIx64 "\"",
               site_id, v->visit_id, v->visitor_id);
    buf_printf(b, ",\"visitorType\":\"%s\",\"visitCount\":%u", report_visitor_type(v),
               v->visit_count);
    buf_printf(b, ",\"daysSinceLastVisit\":%d,\"daysSinceFirstVisit\":%d",
               v->days_since_last < 0 ? 0 : v->days_since_last,
               v->days_since_first < 0 ? 0 : v->days_since_first);
    buf_printf(b, ",\"serverDate\":\"%s\",\"firstActionTimestamp\":%" PRId64
                  ",\"lastActionTimestamp\":%" PRId64 ",\"visitDuration\":%" PRId64,
               date, start / 1000, v->end_ms / 1000, (v->end_ms - start) / 1000);
    buf_printf(b, ",\"serverHour\":%d", report_local_hour(ctx, start));
    if (v->local_time_s >= 0)
        buf_printf(b, ",\"visitLocalHour\":%d", v->local_time_s / 3600);
    buf_printf(b, ",\"actions\":%u,\"pageviews\":%u,\"visitConverted\":%d", v->actions,
               v->pageviews, v->conversion_count > 0);
    json_key_string(b, "visitEcommerceStatus", report_ecommerce_status(v));
    buf_puts(b, ",\"revenue\":");
    json_number(b, visit_revenue(s, row));
    json_key_string(b, "userId", report_text(ctx, v->user_id));
    json_key_string(b, "referrerType", referrer_type_name(v->referrer_type));
    json_key_string(b, "referrerName", report_text(ctx, t[VT_REFERRER_NAME]));
    json_key_string(b, "referrerKeyword", report_text(ctx, t[VT_REFERRER_KEYWORD]));
    json_key_string(b, "referrerUrl", report_text(ctx, t[VT_REFERRER_URL]));
    json_key_string(b, "campaignName", report_text(ctx, t[VT_CAMPAIGN_NAME]));
    json_key_string(b, "campaignKeyword", report_text(ctx, t[VT_CAMPAIGN_KEYWORD]));
    json_key_string(b, "campaignSource", report_text(ctx, t[VT_CAMPAIGN_SOURCE]));
    json_key_string(b, "campaignMedium", report_text(ctx, t[VT_CAMPAIGN_MEDIUM]));
    json_key_string(b, "deviceType", report_text(ctx, t[VT_DEVICE_TYPE]));
    json_key_string(b, "deviceBrand", report_text(ctx, t[VT_DEVICE_BRAND]));
    json_key_string(b, "deviceModel", report_text(ctx, t[VT_DEVICE_MODEL]));
    json_key_string(b, "operatingSystemName", report_text(ctx, t[VT_OS]));
    json_key_string(b, "operatingSystemVersion", report_text(ctx, t[VT_OS_VERSION]));
    json_key_string(b, "operatingSystemCode", report_os_code(report_text(ctx, t[VT_OS])));
    json_key_string(b, "browserName", report_text(ctx, t[VT_BROWSER]));
    json_key_string(b, "browserVersion", report_text(ctx, t[VT_BROWSER_VERSION]));
    json_key_string(b, "browserCode", report_browser_code(report_text(ctx, t[VT_BROWSER])));
    json_key_string(b, "browserFamily", report_text(ctx, t[VT_BROWSER_ENGINE]));
    json_key_string(b, "resolution", report_text(ctx, t[VT_RESOLUTION]));
    json_key_string(b, "languageCode", report_text(ctx, t[VT_LOCALE] ? t[VT_LOCALE] : t[VT_LANGUAGE]));
    json_key_string(b, "continentCode", report_text(ctx, t[VT_CONTINENT]));
    json_key_string(b, "countryCode", report_text(ctx, t[VT_COUNTRY]));
    const char *country = names_country(ctx->names, report_text(ctx, t[VT_COUNTRY]));
    json_key_string(b, "country", country ? country : "Unknown");
    json_key_string(b, "regionCode", report_text(ctx, t[VT_REGION]));
    json_key_string(b, "city", report_text(ctx, t[VT_CITY]));
    json_key_string(b, "entryPageUrl", report_text(ctx, v->entry_url));
    json_key_string(b, "exitPageUrl", report_text(ctx, v->exit_url));
    buf_puts(b, ",\"actionDetails\":[");
    for (uint32_t i = v->first_action; i != INDEX_NONE; i = s->actions[i].next) {
        if (i != v->first_action) buf_putc(b, ',');
        action_json(ctx, s, v, i, b);
    }
    buf_puts(b, "]}");
}


static int newest_first(const void *a, const void *b, void *site)
{
    const struct site_index *s = site;
    int64_t x = s->visit_start[*(const uint32_t *)a];
    int64_t y = s->visit_start[*(const uint32_t *)b];
    if (x != y) return x > y ? -1 : 1;
    return *(const uint32_t *)a > *(const uint32_t *)b ? -1 : 1;
}

/* Selected visit rows, filtered to one visitor when visitor_id != 0,
 * newest first. */
static int newest_visits(const struct report_query *q, struct report_context *ctx,
                         uint64_t visitor_id, uint32_t **rows, size_t *n)
{
    int rc = report_select_visits(q, ctx, rows, n);
    if (rc || !*n) return rc;
    if (visitor_id) {
        size_t k = 0;
        for (size_t i = 0; i < *n; i++)
            if (ctx->site->visits[(*rows)[i]].visitor_id == visitor_id) (*rows)[k++] = (*rows)[i];
        *n = k;
    }
    qsort_r(*rows, *n, sizeof **rows, newest_first, (void *)ctx->site);
    return 0;
}

int report_live_visits(const struct report_query *q, uint64_t visitor_id, size_t offset,
                       size_t limit, struct buf *json)
{
    struct report_context ctx;
    report_context_init(&ctx, q);
    uint32_t *rows;
    size_t n;
    int rc = newest_visits(q, &ctx, visitor_id, &rows, &n);
    if (rc) return rc;
    buf_putc(json, '[');
    for (size_t i = offset; i < n && i - offset < limit; i++) {
        if (i > offset) buf_putc(json, ',');
        visit_json(&ctx, q->site_id, rows[i], json);
    }
    buf_putc(json, ']');
    free(rows);
    return 0;
}

int report_live_counters(const struct report_query *q, int64_t since_ms, struct buf *json)
{
    struct report_context ctx;
    report_context_init(&ctx, q);
    uint32_t *rows;
    size_t n;
    /* A visit counts when its last hit is recent, whenever it started. */
    struct report_query all = *q;
    all.from_ms = since_ms - MS_PER_DAY;
    all.to_ms = INT64_MAX;
    int rc = report_select_visits(&all, &ctx, &rows, &n);
    if (rc) return rc;
    uint64_t visits = 0, actions = 0, converted = 0, visitors = 0;
    struct arena arena;
    arena_init(&arena, 0);
    struct agg distinct;
    agg_init(&distinct, &arena, 0);
    for (size_t i = 0; i < n; i++) {
        const struct visit_row *v = &ctx.site->visits[rows[i]];
        if (v->end_ms < since_ms) continue;
        visits++;
        actions += v->actions;
        converted += v->conversion_count > 0;
        bool created;
        agg_entry(&distinct, v->visitor_id, 0, INDEX_NONE, &created);
        visitors += created;
    }
    buf_printf(json,
               "[{\"visits\":%" PRIu64 ",\"actions\":%" PRIu64 ",\"visitors\":%" PRIu64
               ",\"visitsConverted\":%" PRIu64 "}]",
               visits, actions, visitors, converted);
    agg_free(&distinct);
    arena_free(&arena);
    free(rows);
    return 0;
}

uint64_t report_latest_visitor(const struct report_query *q)
{
    struct report_context ctx;
    report_context_init(&ctx, q);
    uint32_t *rows;
    size_t n;
    if (newest_visits(q, &ctx, 0, &rows, &n)) return 0;
    uint64_t id = n ? ctx.site->visits[rows[0]].visitor_id : 0;
    free(rows);
    return id;
}

/* A small count per distinct string id (devices, locations). */
struct tally_item {
    uint32_t id;
    uint32_t count;
};

static void tally_add(struct tally_item *items, size_t *n, size_t max, uint32_t id)
{
    for (size_t i = 0; i < *n; i++)
        if (items[i].id == id) {
            items[i].count++;
            return;
        }
    if (*n < max) items[(*n)++] = (struct tally_item){id, 1};
}

static void visit_summary_json(const struct report_context *ctx, uint32_t row, struct buf *b)
{
    const struct visit_row *v = &ctx->site->visits[row];
    char date[11];
    int64_t start = ctx->site->visit_start[row];
    format_date(tz_local_day(ctx->tz, start), date);
    buf_printf(b, "{\"date\":\"%s\",\"timestamp\":%" PRId64, date, start / 1000);
    json_key_string(b, "referrerType", referrer_type_name(v->referrer_type));
    json_key_string(b, "referrerName", report_text(ctx, v->text[VT_REFERRER_NAME]));
    buf_putc(b, '}');
}

int report_visitor_profile(const struct report_query *q, uint64_t visitor_id, struct buf *json)
{
    struct report_context ctx;
    report_context_init(&ctx, q);
    struct report_query all = *q;
    all.from_ms = INT64_MIN;
    all.to_ms = INT64_MAX;
    uint32_t *rows;
    size_t n;
    int rc = newest_visits(&all, &ctx, visitor_id, &rows, &n);
    if (rc) return rc;
    if (!n) {
        free(rows);
        return -ENOENT;
    }
    uint64_t actions = 0, pageviews = 0, converted = 0, duration = 0;
    uint64_t outlinks = 0, downloads = 0, searches = 0, events = 0;
    double revenue = 0;
    struct tally_item devices[32], countries[64];
    size_t device_count = 0, country_count = 0;
    const char *user_id = "";
    for (size_t i = 0; i < n; i++) {
        const struct visit_row *v = &ctx.site->visits[rows[i]];
        actions += v->actions;
        pageviews += v->pageviews;
        const struct conversion *c;
        size_t goals = visit_conversions(ctx.site, rows[i], &c);
        for (size_t k = 0; k < goals; k++) converted += c[k].count;
        duration += (uint64_t)((v->end_ms - ctx.site->visit_start[rows[i]]) / 1000);
        revenue += visit_revenue(ctx.site, rows[i]);
        for (uint32_t a = v->first_action; a != INDEX_NONE; a = ctx.site->actions[a].next) {
            int kind = ctx.site->actions[a].kind;
            outlinks += kind == HIT_OUTLINK;
            downloads += kind == HIT_DOWNLOAD;
            searches += kind == HIT_SITE_SEARCH;
            events += kind == HIT_EVENT;
        }
        tally_add(devices, &device_count, 32, v->text[VT_DEVICE_TYPE]);
        tally_add(countries, &country_count, 64, v->text[VT_COUNTRY]);
        if (!*user_id) user_id = report_text(&ctx, v->user_id);
    }
    buf_printf(json, "{\"visitorId\":\"%016" PRIx64 "\"", visitor_id);
    json_key_string(json, "userId", user_id);
    buf_printf(json,
               ",\"totalVisits\":%zu,\"totalVisitDuration\":%" PRIu64 ",\"totalActions\":%" PRIu64
               ",\"totalPageViews\":%" PRIu64 ",\"totalOutlinks\":%" PRIu64
               ",\"totalDownloads\":%" PRIu64 ",\"totalSearches\":%" PRIu64
               ",\"totalEvents\":%" PRIu64 ",\"totalConversions\":%" PRIu64
               ",\"totalRevenue\":",
               n, duration, actions, pageviews, outlinks, downloads, searches, events, converted);
    json_number(json, revenue);
    buf_puts(json, ",\"firstVisit\":");
    visit_summary_json(&ctx, rows[n - 1], json);
    buf_puts(json, ",\"lastVisit\":");
    visit_summary_json(&ctx, rows[0], json);
    buf_puts(json, ",\"devices\":[");
    for (size_t i = 0; i < device_count; i++) {
        buf_printf(json, "%s{\"type\":", i ? "," : "");
        buf_json_string(json, *report_text(&ctx, devices[i].id) ? report_text(&ctx, devices[i].id) : "unknown");
        buf_printf(json, ",\"count\":%u}", devices[i].count);
    }
    buf_puts(json, "],\"countries\":[");
    for (size_t i = 0; i < country_count; i++) {
        const char *code = report_text(&ctx, countries[i].id);
        const char *name = names_country(ctx.names, code);
        buf_printf(json, "%s{\"country\":", i ? "," : "");
        buf_json_string(json, *code ? code : "xx");
        buf_puts(json, ",\"prettyName\":");
        buf_json_string(json, name ? name : "Unknown");
        buf_printf(json, ",\"nb_visits\":%u}", countries[i].count);
    }
    buf_puts(json, "],\"lastVisits\":[");
    for (size_t i = 0; i < n && i < 10; i++) {
        if (i) buf_putc(json, ',');
        visit_json(&ctx, q->site_id, rows[i], json);
    }
    buf_puts(json, "]}");
    free(rows);
    return 0;
}
