/* query internals: the in-memory index that reports scan.
 *
 * Every stored hit of every site is kept here, dictionary-encoded: each
 * distinct string once, hits as fixed-width rows of ids. Visits are rows
 * of their own, with the dimensions of their first hit; actions are rows
 * chained per visit. Reports are scans over these arrays: exact, and fast
 * enough that nothing is pre-aggregated. */
#ifndef TALLY_QUERY_INTERNAL_H
#define TALLY_QUERY_INTERNAL_H

#include "query.h"

/* ---- strings -> ids ---- */
struct dict {
    char *pool;            /* every string, NUL-terminated, one after another */
    size_t pool_len, pool_cap;
    uint64_t *offsets;     /* id -> offset in pool; id 0 is "" */
    uint32_t count, cap;
    uint32_t *slots;       /* open addressing: id, 0 = empty */
    size_t slot_cap;
};
static inline const char *dict_str(const struct dict *d, uint32_t id)
{
    return d->pool + d->offsets[id];
}

/* X(column, hit field): a visit's text dimensions, from its first hit. */
#define VISIT_TEXT_COLUMNS(X)                                                            \
    X(COUNTRY, country_code)                                                             \
    X(REGION, region_code)                                                               \
    X(CITY, city)                                                                        \
    X(CONTINENT, continent_code)                                                         \
    X(LANGUAGE, language)                                                                \
    X(LOCALE, locale)                                                                    \
    X(DEVICE_TYPE, device_type)                                                          \
    X(DEVICE_BRAND, device_brand)                                                        \
    X(DEVICE_MODEL, device_model)                                                        \
    X(BROWSER, browser)                                                                  \
    X(BROWSER_VERSION, browser_version)                                                  \
    X(BROWSER_ENGINE, browser_engine)                                                    \
    X(OS, os)                                                                            \
    X(OS_VERSION, os_version)                                                            \
    X(REFERRER_NAME, referrer_name)                                                      \
    X(REFERRER_KEYWORD, referrer_keyword)                                                \
    X(REFERRER_URL, referrer_url)                                                        \
    X(CAMPAIGN_NAME, campaign_name)                                                      \
    X(CAMPAIGN_KEYWORD, campaign_keyword)                                                \
    X(CAMPAIGN_SOURCE, campaign_source)                                                  \
    X(CAMPAIGN_MEDIUM, campaign_medium)                                                  \
    X(CAMPAIGN_CONTENT, campaign_content)                                                \
    X(CAMPAIGN_ID, campaign_id)                                                          \
    X(CAMPAIGN_GROUP, campaign_group)                                                    \
    X(CAMPAIGN_PLACEMENT, campaign_placement)

enum visit_text {
#define VISIT_TEXT_ENUM(column, field) VT_##column,
    VISIT_TEXT_COLUMNS(VISIT_TEXT_ENUM)
#undef VISIT_TEXT_ENUM
    VT_RESOLUTION, /* "1920x1080", built from screen_width and _height */
    VT_COUNT
};

enum visit_flag {
    VISIT_RETURNING = 1 << 0,
    /* One of the visit's action_counts would have passed UINT16_MAX: they
     * stopped, and Actions.get walks the visit's actions instead. */
    VISIT_COUNTS_FULL = 1 << 1,
};

/* The visit's actions of each kind Actions.get counts besides pageviews,
 * kept by index_add so that it reads visit rows rather than actions; the
 * distinct targets ("unique") and keywords still need the visit's actions. */
enum action_count {
    AC_DOWNLOADS, AC_OUTLINKS, AC_SEARCHES, AC_EVENTS, AC_CONTENT_IMPRESSIONS,
    AC_CONTENT_INTERACTIONS, AC_COUNT
};

/* Matomo's visitEcommerceStatus, from the times of the visit's last order
 * and last cart update: a cart updated after the last order is abandoned
 * again. Times, not arrival: two tabs of one visit, or a restart, give the
 * same answer. */
enum ecommerce_status {
    ECOMMERCE_NONE,
    ECOMMERCE_ORDERED,
    ECOMMERCE_ABANDONED_CART,
    ECOMMERCE_ORDERED_THEN_ABANDONED,
};

#define INDEX_NONE UINT32_MAX

/* What every report reads comes first, in the row's first cache line
 * (rows are 64-byte aligned): a scan touches one line per visit. */
struct visit_row {
    _Alignas(64) uint32_t first_action; /* chain through action_row.next */
    uint32_t last_action;
    uint32_t actions, pageviews, uniq_pageviews, hits;
    uint32_t visitor;              /* dense per site: the visitor's ordinal */
    uint32_t visit_count;          /* (not hot: it fills what the alignment left here) */
    int64_t end_ms;                /* the last hit, heartbeats included */
    uint32_t user_id;              /* string id, 0 none */
    uint8_t referrer_type, flags, ecommerce_status;
    uint16_t orders;               /* orders counted (duplicate order ids are not) */
    uint16_t conversion_count;     /* site_index.conversions[first_conversion ..] */
    uint32_t first_conversion;
    double order_revenue;          /* their grand totals */
    /* the rest: dimensions and what fewer reports need */
    uint64_t visit_id, visitor_id;
    int32_t days_since_last, days_since_first;
    int32_t local_time_s;          /* the visitor's clock at the first hit, -1 unknown */
    uint32_t entry_url, entry_title, exit_url, exit_title;
    uint32_t abandoned_cart;       /* ecommerce row of the cart left, INDEX_NONE none */
    uint32_t last_cart, last_order; /* ecommerce rows, latest by time; INDEX_NONE none */
    /* The visitor's purchases before this visit started (recomputed in
     * start order by index_compact): lifecycle segments and Customers. */
    double prior_revenue;
    int64_t prior_order_ms;        /* the last of them, 0 none */
    uint32_t prior_orders;
    uint32_t text[VT_COUNT];
    uint16_t action_counts[AC_COUNT]; /* unless VISIT_COUNTS_FULL */
};
/* Millions of rows: the counts above filled what the alignment left. */
_Static_assert(sizeof(struct visit_row) == 256, "a visit row is four cache lines");


/* A visit's conversions of one goal under the goals defined now
 * (conversions.c); goal 0 is ecommerce orders. */
struct conversion {
    uint32_t goal_id;
    uint32_t count;
    double revenue;
};

/* What an order or a cart update says beyond its action row. */
struct ecommerce_row {
    int64_t time_ms;
    double subtotal, tax, shipping, discount;   /* NAN when not sent */
    uint32_t first_item, item_count;            /* in site_index.items */
    bool duplicate;        /* an order id the site had already: not counted, as Matomo */
};
/* One product line of an order or a cart: [sku, name, category, price, quantity]. */
struct item_row {
    uint32_t sku, name, category;  /* string ids; a category of several is its JSON array */
    double price, quantity;
};

/* An action's strings by kind:
 *   pageview: a url, b title, c product sku, d product name, e product category
 *   event: a category, b action, c name, value = event value
 *   outlink, download: a target url
 *   site search: a keyword, b category, value = result count (NAN unknown)
 *   content impression / interaction: a name, b piece, c target, d interaction
 *   goal: value = revenue, goal_id
 *   order: a order id, b items (JSON), c its ecommerce row, value = grand total
 *   cart update: b items, c its ecommerce row, value = cart total */
struct action_row {
    int64_t time_ms;
    uint32_t next;
    uint32_t a, b, c, d, e;
    uint32_t dimensions;           /* {"1":"v",...} as stored */
    double value;
    int32_t goal_id;
    uint8_t kind;
};

struct site_index {
    uint32_t site_id;
    int64_t *visit_start;          /* hot: every report filters on it */
    struct visit_row *visits;
    size_t visit_count, visit_cap;
    /* Rows [0, compacted_visits) are in start order (by the second): a
     * period is a contiguous run of them, found by binary search. Rows
     * after them arrived since index_compact, in arrival order. */
    size_t compacted_visits;
    bool starts_moved;             /* a compacted visit's start changed: scan them all */
    /* visitor_id -> ordinal + 1, open addressing */
    uint64_t *visitor_keys;
    uint32_t *visitor_ordinals;
    size_t visitor_slot_cap, visitor_count;
    struct action_row *actions;
    size_t action_count, action_cap;
    size_t compacted_actions;      /* actions[0 ..) are grouped by visit (index_compact) */
    struct ecommerce_row *ecommerce;
    size_t ecommerce_count, ecommerce_cap;
    struct item_row *items;
    size_t item_count, item_cap;
    uint32_t *order_ids;           /* string ids of the order ids seen: open addressing, 0 empty */
    size_t order_id_cap, order_id_count;
    /* Each visit's conversions, a run per visit sorted by goal id, and
     * the plan that decides them from the site's goals (NULL: none). */
    struct conversion *conversions;
    size_t conversion_count, conversion_cap;
    struct goal_plan *goals;
    /* Per visitor ordinal: purchases so far and the latest visit start,
     * for the prior_* of each new visit. */
    struct visitor_history *history;
    size_t history_cap;
    bool history_stale;            /* a visit or order arrived out of order: recompute */
};

struct visitor_history {
    uint32_t orders;
    double revenue;
    int64_t last_order_ms, last_start_ms;
};

struct index {
    struct dict dict;
    struct site_index *sites;      /* sorted by site_id */
    size_t site_count;
    uint64_t *visit_keys;          /* visit_id -> (site slot << 32 | row) + 1 */
    uint64_t *visit_vals;
    size_t visit_slot_cap, visit_slot_used;
    uint64_t hits;
};

uint32_t dict_find(const struct dict *d, const char *s); /* INDEX_NONE when absent */
/* FNV-1a over s, then mixed: the dictionary's hash, and the reports' key
 * for labels they build (folders, hosts, families). */
uint64_t index_hash(const char *s, size_t len);
/* Sorts keys ascending by their bits from `from_bit` up (lower bits keep
 * their input order): LSD radix. */
void index_radix_sort(uint64_t *keys, size_t n, unsigned from_bit);
const struct site_index *index_site(const struct index *index, uint32_t site_id);

/* ---- conversions (conversions.c) ---- */
struct goal_plan;
/* Compiles goals (a site's, in id order; copied). */
int goal_plan_create(const struct goal *goals, size_t goal_count, struct goal_plan **out);
void goal_plan_free(struct goal_plan *p);
/* Whether p decides conversions as goals would (NULL is no goals). */
bool goal_plan_same(const struct goal_plan *p, const struct goal *goals, size_t goal_count);
/* Adds what action a of visit v converts (p NULL: nothing). */
void conversions_add_action(struct goal_plan *p, const struct dict *d, struct site_index *s,
                            struct visit_row *v, const struct action_row *a);
void conversions_add_order(struct site_index *s, struct visit_row *v, double revenue);
/* Every visit's conversions again, under p. */
void conversions_rebuild(struct goal_plan *p, const struct dict *d, struct site_index *s);
/* Packs the lists in visit order, dropping what grown lists left behind. */
void conversions_compact(struct site_index *s);

#endif
