/* query: answers questions about the stored hits. The index (every hit in
 * memory, dictionary-encoded), the segment language, Matomo's reports and
 * the visitor log over the index; time zones (TZif files from the system
 * zoneinfo) and display names (iso-codes); and, for the CLI, per-day
 * statistics and visits folded straight from the store. */
#ifndef TALLY_QUERY_H
#define TALLY_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "../config/config.h"
#include "../store/store.h"

/* ---- time zones ---- */
struct tz;
/* Loads /usr/share/zoneinfo/NAME ("UTC" always works). -ENOENT / -EINVAL. */
int tz_load(const char *name, struct tz **out);
void tz_free(struct tz *tz);
int64_t tz_offset_ms(const struct tz *tz, int64_t utc_ms);     /* local - UTC */
int64_t tz_local_day(const struct tz *tz, int64_t utc_ms);     /* day number, local */
int64_t tz_day_start_ms(const struct tz *tz, int64_t local_day); /* UTC ms of local midnight */

/* ---- per-day statistics (tally stats) ---- */
struct day_stats {
    int64_t day;                /* local day number in the site's zone */
    uint64_t visits;            /* visits that started that day */
    uint64_t unique_visitors;   /* exact distinct visitor ids with a hit that day */
    uint64_t pageviews;
    uint64_t actions;           /* hit_kind_is_action */
    uint64_t bots;              /* requests from bots, dropped and only counted */
};
/* Fills out[0 .. to_day-from_day] for the site's local days from_day..to_day. */
int query_daily_stats(struct store *store, const struct site *site, int64_t from_day,
                      int64_t to_day, struct day_stats *out);

/* ---- visits ---- */
struct visit {
    uint64_t visit_id;
    uint64_t visitor_id;
    int64_t first_ms, last_ms;
    uint32_t hits, actions, pageviews;
    const char *entry_url, *exit_url;     /* first and last pageview, "" if none */
    bool returning;
    uint32_t visit_count;
    int32_t days_since_last_visit;
    uint8_t referrer_type;
    const char *referrer_name, *referrer_url;
    const char *campaign_name, *campaign_source, *campaign_medium, *campaign_keyword;
    bool converted;                       /* a goal or an order */
    bool ordered;
    double revenue;
};
/* Calls fn for each visit of site that started in [from_ms, to_ms), in start
 * order, with every hit of the visit folded in (hits up to one day past
 * to_ms are looked at). Strings are valid during the call only. */
typedef int (*query_visit_fn)(const struct visit *visit, void *arg);
int query_visits(struct store *store, uint32_t site_id, int64_t from_ms, int64_t to_ms,
                 query_visit_fn fn, void *arg);

/* ---- segments: Matomo's segment language ----
 *
 * "countryCode==de;pageUrl=@%2Fblog,referrerType==search": ';' is AND, ','
 * is OR and binds tighter, so this is countryCode==de AND (pageUrl contains
 * "/blog" OR referrerType==search). Values are URL-encoded (decoded once
 * more here: %XX is a byte, '+' a space, as PHP's urldecode does); a
 * backslash makes the next character literal. docs/segments.md has it all.
 *
 * What the parser guarantees the evaluator: NUMBER dimensions only get
 * == != < <= > >=, with a number (is_number) or, for == and !=, an empty
 * value. TEXT dimensions take every operator; < <= > >= compare bytes
 * (strcmp), which orders "2026-01-31" before "2026-02-01". An empty value
 * comes only with == (absent or empty) and != (present and non-empty).
 * A visit matches an action condition when any of its actions matches,
 * except for != and !@ with a value, which, as in Matomo, match a visit none
 * of whose actions matches the == or =@ form ("pageUrl!@%2Fblog": never saw
 * a blog page). */
enum segment_op {
    SEGMENT_EQ,           /* == */
    SEGMENT_NE,           /* != */
    SEGMENT_LE,           /* <= */
    SEGMENT_GE,           /* >= */
    SEGMENT_LT,           /* <  */
    SEGMENT_GT,           /* >  */
    SEGMENT_CONTAINS,     /* =@ */
    SEGMENT_NOT_CONTAINS, /* !@ */
    SEGMENT_STARTS,       /* =^ */
    SEGMENT_ENDS,         /* =$ */
};

/* X(id, "matomoName", scope, type, "Category", "Name shown"):
 * scope VISIT (one value per visit) or ACTION (any action of the visit);
 * type TEXT or NUMBER. */
#define SEGMENT_DIMENSIONS(X)                                                            \
    X(VISITOR_TYPE, "visitorType", VISIT, TEXT, "Visitors", "Visitor type (new, returning, returningCustomer)") \
    X(VISIT_COUNT, "visitCount", VISIT, NUMBER, "Visitors", "Number of visits")          \
    X(DAYS_SINCE_LAST_VISIT, "daysSinceLastVisit", VISIT, NUMBER, "Visitors", "Days since last visit") \
    X(DAYS_SINCE_FIRST_VISIT, "daysSinceFirstVisit", VISIT, NUMBER, "Visitors", "Days since first visit") \
    X(VISIT_DURATION, "visitDuration", VISIT, NUMBER, "Visits", "Visit duration (seconds)") \
    X(ACTIONS, "actions", VISIT, NUMBER, "Visits", "Number of actions")                  \
    X(PAGEVIEWS, "pageviews", VISIT, NUMBER, "Visits", "Number of pageviews")            \
    X(USER_ID, "userId", VISIT, TEXT, "Visitors", "User ID")                             \
    X(VISITOR_ID, "visitorId", VISIT, TEXT, "Visitors", "Visitor ID (16 hex digits)")    \
    X(VISIT_ID, "visitId", VISIT, NUMBER, "Visits", "Visit ID")                          \
    X(VISIT_CONVERTED, "visitConverted", VISIT, NUMBER, "Visits", "Visit converted a goal (0 or 1)") \
    X(VISIT_CONVERTED_GOAL_ID, "visitConvertedGoalId", VISIT, NUMBER, "Visits", "Goal ID converted in the visit") \
    X(VISIT_ECOMMERCE_STATUS, "visitEcommerceStatus", VISIT, TEXT, "Ecommerce", "Ecommerce status (none, ordered, abandonedCart, orderedThenAbandonedCart)") \
    X(REVENUE_ORDER, "revenueOrder", VISIT, NUMBER, "Ecommerce", "Revenue of the visit's orders") \
    X(DAYS_SINCE_LAST_ECOMMERCE_ORDER, "daysSinceLastEcommerceOrder", VISIT, NUMBER, "Ecommerce", "Days since the visitor's last order before this visit") \
    X(VISITOR_ORDERS, "visitorOrders", VISIT, NUMBER, "Ecommerce", "Orders by the visitor so far, this visit's included") \
    X(VISITOR_REVENUE, "visitorRevenue", VISIT, NUMBER, "Ecommerce", "Revenue from the visitor so far, this visit's included") \
    X(VISITOR_AVERAGE_ORDER_VALUE, "visitorAverageOrderValue", VISIT, NUMBER, "Ecommerce", "Average order value of the visitor so far") \
    X(BUYER_TYPE, "buyerType", VISIT, TEXT, "Ecommerce", "Buyer type so far (none, oneTime, occasional, frequent)") \
    X(VISIT_START_SERVER_HOUR, "visitStartServerHour", VISIT, NUMBER, "Visits", "Hour the visit started (site time)") \
    X(VISIT_END_SERVER_HOUR, "visitEndServerHour", VISIT, NUMBER, "Visits", "Hour the visit ended (site time)") \
    X(VISIT_LOCAL_HOUR, "visitLocalHour", VISIT, NUMBER, "Visits", "Hour the visit started (visitor's time)") \
    X(DAY_OF_WEEK, "dayOfWeek", VISIT, NUMBER, "Visits", "Day of week (1 Monday .. 7 Sunday)") \
    X(VISIT_START_SERVER_DATE, "visitStartServerDate", VISIT, TEXT, "Visits", "Date the visit started (YYYY-MM-DD, site time)") \
    X(COUNTRY_CODE, "countryCode", VISIT, TEXT, "Visit location", "Country code (de, fr, ...)") \
    X(REGION_CODE, "regionCode", VISIT, TEXT, "Visit location", "Region code")           \
    X(CITY, "city", VISIT, TEXT, "Visit location", "City")                               \
    X(CONTINENT_CODE, "continentCode", VISIT, TEXT, "Visit location", "Continent code (eur, amn, ...)") \
    X(LANGUAGE_CODE, "languageCode", VISIT, TEXT, "Visit location", "Browser language (de, de-at, ...)") \
    X(DEVICE_TYPE, "deviceType", VISIT, TEXT, "Visit device", "Device type (desktop, smartphone, tablet, ...)") \
    X(DEVICE_BRAND, "deviceBrand", VISIT, TEXT, "Visit device", "Device brand")          \
    X(DEVICE_MODEL, "deviceModel", VISIT, TEXT, "Visit device", "Device model")          \
    X(BROWSER_CODE, "browserCode", VISIT, TEXT, "Visit device", "Browser code (CH, FF, SF, ...)") \
    X(BROWSER_NAME, "browserName", VISIT, TEXT, "Visit device", "Browser")               \
    X(BROWSER_VERSION, "browserVersion", VISIT, TEXT, "Visit device", "Browser version") \
    X(BROWSER_ENGINE, "browserEngine", VISIT, TEXT, "Visit device", "Browser engine")    \
    X(OPERATING_SYSTEM_CODE, "operatingSystemCode", VISIT, TEXT, "Visit device", "Operating system code (WIN, MAC, LIN, AND, IOS, ...)") \
    X(OPERATING_SYSTEM_NAME, "operatingSystemName", VISIT, TEXT, "Visit device", "Operating system") \
    X(OPERATING_SYSTEM_VERSION, "operatingSystemVersion", VISIT, TEXT, "Visit device", "Operating system version") \
    X(RESOLUTION, "resolution", VISIT, TEXT, "Visit device", "Screen resolution (1920x1080)") \
    X(REFERRER_TYPE, "referrerType", VISIT, TEXT, "Referrers", "Channel type (direct, search, website, campaign, social, ai, email, paid_search, paid_social)") \
    X(REFERRER_NAME, "referrerName", VISIT, TEXT, "Referrers", "Referrer name (search engine, website, network, campaign)") \
    X(REFERRER_KEYWORD, "referrerKeyword", VISIT, TEXT, "Referrers", "Keyword")          \
    X(REFERRER_URL, "referrerUrl", VISIT, TEXT, "Referrers", "Referrer URL")             \
    X(CAMPAIGN_NAME, "campaignName", VISIT, TEXT, "Referrers", "Campaign name")          \
    X(CAMPAIGN_KEYWORD, "campaignKeyword", VISIT, TEXT, "Referrers", "Campaign keyword") \
    X(CAMPAIGN_SOURCE, "campaignSource", VISIT, TEXT, "Referrers", "Campaign source")    \
    X(CAMPAIGN_MEDIUM, "campaignMedium", VISIT, TEXT, "Referrers", "Campaign medium")    \
    X(CAMPAIGN_CONTENT, "campaignContent", VISIT, TEXT, "Referrers", "Campaign content") \
    X(CAMPAIGN_ID, "campaignId", VISIT, TEXT, "Referrers", "Campaign ID")                \
    X(CAMPAIGN_GROUP, "campaignGroup", VISIT, TEXT, "Referrers", "Campaign group")       \
    X(CAMPAIGN_PLACEMENT, "campaignPlacement", VISIT, TEXT, "Referrers", "Campaign placement") \
    X(ENTRY_PAGE_URL, "entryPageUrl", VISIT, TEXT, "Behaviour", "Entry page URL")        \
    X(ENTRY_PAGE_TITLE, "entryPageTitle", VISIT, TEXT, "Behaviour", "Entry page title")  \
    X(EXIT_PAGE_URL, "exitPageUrl", VISIT, TEXT, "Behaviour", "Exit page URL")           \
    X(EXIT_PAGE_TITLE, "exitPageTitle", VISIT, TEXT, "Behaviour", "Exit page title")     \
    X(PAGE_URL, "pageUrl", ACTION, TEXT, "Behaviour", "Page URL")                        \
    X(PAGE_TITLE, "pageTitle", ACTION, TEXT, "Behaviour", "Page title")                  \
    X(EVENT_CATEGORY, "eventCategory", ACTION, TEXT, "Events", "Event category")         \
    X(EVENT_ACTION, "eventAction", ACTION, TEXT, "Events", "Event action")               \
    X(EVENT_NAME, "eventName", ACTION, TEXT, "Events", "Event name")                     \
    X(EVENT_VALUE, "eventValue", ACTION, NUMBER, "Events", "Event value")                \
    X(OUTLINK_URL, "outlinkUrl", ACTION, TEXT, "Behaviour", "Outlink URL")               \
    X(DOWNLOAD_URL, "downloadUrl", ACTION, TEXT, "Behaviour", "Download URL")            \
    X(SITE_SEARCH_KEYWORD, "siteSearchKeyword", ACTION, TEXT, "Behaviour", "Site search keyword") \
    X(SITE_SEARCH_CATEGORY, "siteSearchCategory", ACTION, TEXT, "Behaviour", "Site search category") \
    X(CONTENT_NAME, "contentName", ACTION, TEXT, "Contents", "Content name")             \
    X(CONTENT_PIECE, "contentPiece", ACTION, TEXT, "Contents", "Content piece")          \
    X(CONTENT_TARGET, "contentTarget", ACTION, TEXT, "Contents", "Content target")       \
    X(CONTENT_INTERACTION, "contentInteraction", ACTION, TEXT, "Contents", "Content interaction") \
    X(ORDER_ID, "orderId", ACTION, TEXT, "Ecommerce", "Order ID")                         \
    X(PRODUCT_SKU, "productSku", ACTION, TEXT, "Ecommerce", "Product SKU in an order or a cart") \
    X(PRODUCT_NAME, "productName", ACTION, TEXT, "Ecommerce", "Product name in an order or a cart") \
    X(PRODUCT_CATEGORY, "productCategory", ACTION, TEXT, "Ecommerce", "Product category in an order or a cart") \
    X(PRODUCT_PURCHASED_SKU, "productPurchasedSku", ACTION, TEXT, "Ecommerce", "Product SKU ordered") \
    X(PRODUCT_PURCHASED_NAME, "productPurchasedName", ACTION, TEXT, "Ecommerce", "Product name ordered") \
    X(PRODUCT_PURCHASED_CATEGORY, "productPurchasedCategory", ACTION, TEXT, "Ecommerce", "Product category ordered") \
    X(PRODUCT_VIEW_SKU, "productViewSku", ACTION, TEXT, "Ecommerce", "Product SKU viewed") \
    X(PRODUCT_VIEW_NAME, "productViewName", ACTION, TEXT, "Ecommerce", "Product name viewed") \
    X(PRODUCT_VIEW_CATEGORY, "productViewCategory", ACTION, TEXT, "Ecommerce", "Product category viewed") \
    X(DIMENSION, "dimension", ACTION, TEXT, "Custom dimensions", "Custom dimension N (dimension1, dimension2, ...)")

enum segment_dimension {
#define SEGMENT_DIMENSION_ENUM(id, name, scope, type, category, label) SEGMENT_DIM_##id,
    SEGMENT_DIMENSIONS(SEGMENT_DIMENSION_ENUM)
#undef SEGMENT_DIMENSION_ENUM
    SEGMENT_DIM_COUNT
};
enum segment_scope { SEGMENT_SCOPE_VISIT, SEGMENT_SCOPE_ACTION };
enum segment_type { SEGMENT_TYPE_TEXT, SEGMENT_TYPE_NUMBER };

struct segment_dimension_info {
    const char *name;  /* "countryCode"; "dimension" stands for dimension1, dimension2, ... */
    enum segment_scope scope;
    enum segment_type type;
    const char *category;
    const char *label;
};
/* Indexed by enum segment_dimension. */
extern const struct segment_dimension_info segment_dimension_infos[SEGMENT_DIM_COUNT];

struct segment_condition {
    enum segment_dimension dimension;
    unsigned dimension_index;  /* N of dimensionN, else 0 */
    enum segment_op op;
    const char *value;         /* decoded, NUL-terminated; "" matches an absent value */
    double number;             /* the value as a number when it parses as one */
    bool is_number;
};
struct segment_group {         /* conditions joined by ',' (OR) */
    struct segment_condition *conditions;
    size_t count;
};
struct segment {               /* groups joined by ';' (AND); 0 groups = every visit */
    struct segment_group *groups;
    size_t count;
};

/* Parses text (already URL-decoded once by HTTP, as Matomo receives it).
 * On error returns -EINVAL and writes a message naming the 1-based byte
 * position and what was expected, e.g. "segment: unknown dimension
 * 'contry' at position 1", "segment: expected an operator (==, !=, <=, >=,
 * <, >, =@, !@, =^, =$) at position 12". An empty text is the empty segment. */
int segment_parse(const char *text, struct segment **out, char *err, size_t errlen);
void segment_free(struct segment *segment);
/* The dimension named name (dimensionN too; *index gets N) or -1. */
int segment_dimension_find(const char *name, unsigned *index);

/* ---- the index: every stored hit, in memory, for reports ----
 * Fed the whole store at start and every batch after it reached the log.
 * Not thread-safe: a writer must exclude readers. */
struct index;
int index_create(struct index **out);
void index_destroy(struct index *index);
/* Adds one stored hit; bots are left out (tally stats counts them). */
int index_add(struct index *index, const struct hit *hit);
uint64_t index_hit_count(const struct index *index);
/* The goals every report counts conversions with: each site's stored
 * visits are evaluated again when its goals changed, then every new
 * action as it arrives. Call it at start, before feeding the store, and
 * with each new version of goals.json. -ENOMEM. */
int index_set_goals(struct index *index, const struct sites *sites, const struct goals *goals);
/* Reorders each site for reading (visits by start time, each visit's
 * actions contiguous) so that a period is one run of memory: after loading,
 * and (only_if_worth_it) once an eighth of a site is new since the last. */
void index_compact(struct index *index, bool only_if_worth_it);

/* ---- reports ----
 * A report is a table: named numeric columns, labelled rows, each row
 * optionally with a subtable (hierarchies: folders, engines -> keywords). */

enum report_format {
    REPORT_INT,     /* 12 */
    REPORT_NUMBER,  /* 2.5 (at most two decimals) */
    REPORT_PERCENT, /* "25%" (Matomo's rates) */
    REPORT_PERCENT_2DP, /* "3.25%", at most two decimals (Matomo's conversion rates) */
};
struct report_column {
    const char *name;   /* "nb_visits" */
    enum report_format format;
};
struct report_extra {
    const char *name, *value;
};
#define REPORT_MAX_EXTRAS 4
struct report_table;
struct report_row {
    const char *label;
    double *values;                   /* one per column; NAN = not applicable */
    struct report_extra extras[REPORT_MAX_EXTRAS];
    size_t extra_count;
    struct report_table *subtable;
    uint32_t subtable_id;             /* set by the API: depth-first, before any filter */
};
struct report_table {
    const struct report_column *columns;
    size_t column_count;
    struct report_row *rows;
    size_t row_count;
    bool single;                      /* one object without label (VisitsSummary.get) */
};

/* UsersFlow's parameters as sent (NULL when absent); report_flows.c checks them. */
struct report_flow_params {
    const char *data_source, *level_of_detail, *limit_actions_per_step, *explore_step,
        *explore_url, *interaction_position, *offset_actions_per_step;
};

struct report_query {
    const struct index *index;
    uint32_t site_id;
    const struct tz *tz;              /* the site's zone */
    int64_t from_ms, to_ms;           /* visits that started in [from_ms, to_ms) */
    const struct segment *segment;    /* NULL: every visit */
    const struct names *names;        /* display names; NULL: codes only */
    int64_t now_ms;
    bool flat;                        /* hierarchies as one flat table */
    size_t truncate;                  /* rows kept per table, the rest summed as "Others"; 0: all */
    /* The goals the reports list (the index keeps their conversions). */
    const struct goal *goals;         /* the site's, in id order (goals_copy_site) */
    size_t goal_count;
    const char *id_goal;              /* Goals reports: NULL every goal, "N", "ecommerceOrder",
                                       * "ecommerceAbandonedCart" */
    bool abandoned_carts;             /* items reports: abandoned carts instead of orders */
    bool goal_columns;                /* visit reports: conversions per goal as columns too */
    const char *lapsed_days;          /* Customers.get: raw lapsedDays, NULL for the default */
    const char *attribution_days;     /* attribution: raw numDaysPriorToConversion, NULL default */
    const char *cohort_period;        /* Cohorts.get: raw cohortPeriod, NULL for the default */
    struct report_flow_params flow;   /* UsersFlow.* */
    /* Funnels reports: the idFunnel's definition, and the raw funnelScope,
     * funnelWindowDays and step (NULL when absent). */
    const struct funnel *funnel;
    const char *funnel_scope, *funnel_window_days, *funnel_step;
};
/* Runs the report that Matomo calls method ("UserCountry.getCountry"),
 * sorted by its main metric. -ENOENT for a method that is not a report. */
int report_run(const struct report_query *q, const char *method, struct arena *arena,
               struct report_table **out, char *err, size_t errlen);
/* The i-th method report_run knows (documentation order), NULL past the last. */
const char *report_method(size_t i);

/* Live: visits with their actions as Matomo's JSON (Live.getLastVisitsDetails
 * shape). visitor_id != 0 keeps one visitor's visits. Newest first. */
int report_live_visits(const struct report_query *q, uint64_t visitor_id, size_t offset,
                       size_t limit, struct buf *json);
/* Live.getCounters: visits, actions, visitors and converted visits since
 * since_ms, as a JSON array of one object. */
int report_live_counters(const struct report_query *q, int64_t since_ms, struct buf *json);
/* Live.getVisitorProfile as a JSON object; -ENOENT when the visitor has no visit. */
int report_visitor_profile(const struct report_query *q, uint64_t visitor_id, struct buf *json);
/* The visitor id of the most recent visit in the query's range (0: none),
 * for Live.getVisitorProfile without visitorId. */
uint64_t report_latest_visitor(const struct report_query *q);
/* Transitions for one page as Matomo's JSON object (pageMetrics, previousPages,
 * previousSiteSearches, referrers, followingPages, followingSiteSearches,
 * outlinks, downloads): the pageviews of the visits of q whose URL (by_title:
 * title) is exactly action; each list most first, its rows after the first
 * group_after summed into one "Others" row. A page without pageviews gives
 * zeros. -ENOMEM. (report_transitions.c) */
int report_transitions(const struct report_query *q, const char *action, bool by_title,
                       size_t group_after, struct buf *json);
/* ---- display names ----
 * Country, region and language names from Debian's iso-codes package
 * (iso_3166-1.json, iso_3166-2.json, iso_639-2.json), loaded once; reports
 * show them beside the codes the store keeps. Lookups ignore case and
 * return NULL for an unknown code or names == NULL; strings live until
 * names_free. */
struct names;
/* iso_codes_dir NULL means /usr/share/iso-codes/json. -ENOENT when a file
 * is missing, -EINVAL when it is not what iso-codes writes; err says which. */
int names_load(const char *iso_codes_dir, struct names **out, char *err, size_t errlen);
void names_free(struct names *names);
/* "de" -> "Germany"; the short common name where iso-codes has one
 * ("kr" -> "South Korea"). */
const char *names_country(const struct names *names, const char *alpha2);
/* "de", "BY" -> "Bayern" (ISO 3166-2 "DE-BY"; iso-codes names regions in
 * their own language). */
const char *names_region(const struct names *names, const char *country_alpha2,
                         const char *region_code);
/* "de", "de-at", "deu" -> "German": the language of a tag's first subtag,
 * by ISO 639-1 or 639-2 code; one name where iso-codes lists several. */
const char *names_language(const struct names *names, const char *code);
/* Matomo's continent codes: "eur" -> "Europe", also afr, amc, amn, ams, ant,
 * asi, oce; NULL otherwise. */
const char *names_continent(const char *matomo_code);

#endif
