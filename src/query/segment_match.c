/* segment_match: which visits of the index a parsed segment keeps.
 *
 * Text conditions on dictionary columns are decided once per distinct
 * string (a memo indexed by string id), so a scan costs an array read per
 * visit. == and != compare exactly; =@ !@ =^ =$ ignore ASCII case, as the
 * LIKE of Matomo's database does. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report.h"

static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (!n) return true;
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return true;
    return false;
}

static bool text_matches(enum segment_op op, const char *want, const char *s)
{
    size_t ls = strlen(s), lw = strlen(want);
    switch (op) {
    case SEGMENT_EQ: return strcmp(s, want) == 0;
    case SEGMENT_NE: return strcmp(s, want) != 0;
    case SEGMENT_CONTAINS: return contains_nocase(s, want);
    case SEGMENT_NOT_CONTAINS: return !contains_nocase(s, want);
    case SEGMENT_STARTS: return strncasecmp(s, want, lw) == 0;
    case SEGMENT_ENDS: return ls >= lw && strcasecmp(s + ls - lw, want) == 0;
    case SEGMENT_LT: return strcmp(s, want) < 0;
    case SEGMENT_GT: return strcmp(s, want) > 0;
    case SEGMENT_LE: return strcmp(s, want) <= 0;
    case SEGMENT_GE: return strcmp(s, want) >= 0;
    }
    return false;
}

static bool number_matches_op(enum segment_op op, const struct segment_condition *c, double x)
{
    if (!c->is_number) {
        /* "visitCount==" matches nothing numeric; != everything. */
        return op == SEGMENT_NE || op == SEGMENT_NOT_CONTAINS;
    }
    double y = c->number;
    switch (op) {
    case SEGMENT_EQ: return x == y;
    case SEGMENT_NE: return x != y;
    case SEGMENT_LE: return x <= y;
    case SEGMENT_GE: return x >= y;
    case SEGMENT_LT: return x < y;
    case SEGMENT_GT: return x > y;
    default: {
        char text[32];
        snprintf(text, sizeof text, "%.15g", x);
        return text_matches(op, c->value, text);
    }
    }
}

static bool number_matches(const struct segment_condition *c, double x)
{
    return number_matches_op(c->op, c, x);
}

/* One condition of the plan, with its memo over string ids:
 * 0 unknown, 1 no, 2 yes. An action condition with != or !@ keeps the
 * visits where no action matches == or =@ (Matomo 4's meaning: "never saw
 * that page"), so it is planned as the positive operator, negated. */
struct cond_plan {
    const struct segment_condition *c;
    enum segment_op op;    /* what each value is compared with */
    bool negated;          /* the visit matches when no action does */
    uint8_t *memo;
    char dim_key[16]; /* "N" for dimensionN */
};

struct segment_plan {
    const struct segment *segment;
    const struct report_context *ctx;
    struct cond_plan *conds; /* flattened, group after group */
};

static bool memo_matches(struct segment_plan *p, struct cond_plan *cp, uint32_t id)
{
    uint8_t m = cp->memo[id];
    if (!m) {
        m = text_matches(cp->op, cp->c->value, dict_str(&p->ctx->index->dict, id)) ? 2 : 1;
        cp->memo[id] = m;
    }
    return m == 2;
}

/* dimensionN: the value under "N" of a hit's dimensions JSON ({"1":"v"}),
 * decided once per distinct JSON string through the memo. */
static bool dimension_matches(struct segment_plan *p, struct cond_plan *cp, uint32_t id)
{
    uint8_t m = cp->memo[id];
    if (!m) {
        json_t *root = json_loads(dict_str(&p->ctx->index->dict, id), 0, NULL);
        const char *value = json_string_value(json_object_get(root, cp->dim_key));
        m = text_matches(cp->op, cp->c->value, value ? value : "") ? 2 : 1;
        json_decref(root);
        cp->memo[id] = m;
    }
    return m == 2;
}

/* A product category: one, or a JSON array of up to five, any of which
 * may match. */
static bool category_matches(struct segment_plan *p, struct cond_plan *cp, uint32_t id)
{
    uint8_t m = cp->memo[id];
    if (!m) {
        const char *text = dict_str(&p->ctx->index->dict, id);
        json_t *root = text[0] == '[' ? json_loads(text, 0, NULL) : NULL;
        bool any = false;
        if (json_is_array(root)) {
            for (size_t i = 0; i < json_array_size(root) && !any; i++) {
                const char *one = json_string_value(json_array_get(root, i));
                any = one && text_matches(cp->op, cp->c->value, one);
            }
        } else {
            any = text_matches(cp->op, cp->c->value, text);
        }
        json_decref(root);
        m = any ? 2 : 1;
        cp->memo[id] = m;
    }
    return m == 2;
}

/* The products of an order or a cart update (orders only for the
 * productPurchased* dimensions; a duplicate order is not one). */
static bool items_match(struct segment_plan *p, struct cond_plan *cp, const struct action_row *a)
{
    enum segment_dimension d = cp->c->dimension;
    bool purchased = d == SEGMENT_DIM_PRODUCT_PURCHASED_SKU ||
                     d == SEGMENT_DIM_PRODUCT_PURCHASED_NAME ||
                     d == SEGMENT_DIM_PRODUCT_PURCHASED_CATEGORY;
    if (a->kind != HIT_ECOMMERCE_ORDER && (purchased || a->kind != HIT_CART_UPDATE)) return false;
    const struct site_index *s = p->ctx->site;
    const struct ecommerce_row *e = &s->ecommerce[a->c];
    if (a->kind == HIT_ECOMMERCE_ORDER && e->duplicate) return false;
    for (uint32_t i = e->first_item; i < e->first_item + e->item_count; i++) {
        const struct item_row *item = &s->items[i];
        bool hit = d == SEGMENT_DIM_PRODUCT_SKU || d == SEGMENT_DIM_PRODUCT_PURCHASED_SKU
                       ? memo_matches(p, cp, item->sku)
                   : d == SEGMENT_DIM_PRODUCT_NAME || d == SEGMENT_DIM_PRODUCT_PURCHASED_NAME
                       ? memo_matches(p, cp, item->name)
                       : category_matches(p, cp, item->category);
        if (hit) return true;
    }
    return false;
}

static bool action_matches(struct segment_plan *p, struct cond_plan *cp, const struct action_row *a)
{
    const struct segment_condition *c = cp->c;
    uint32_t id;
    switch (c->dimension) {
    case SEGMENT_DIM_PAGE_URL:
        if (a->kind != HIT_PAGEVIEW) return false;
        id = a->a;
        break;
    case SEGMENT_DIM_PAGE_TITLE:
        if (a->kind != HIT_PAGEVIEW) return false;
        id = a->b;
        break;
    case SEGMENT_DIM_EVENT_CATEGORY:
    case SEGMENT_DIM_EVENT_ACTION:
    case SEGMENT_DIM_EVENT_NAME:
        if (a->kind != HIT_EVENT) return false;
        id = c->dimension == SEGMENT_DIM_EVENT_CATEGORY ? a->a
             : c->dimension == SEGMENT_DIM_EVENT_ACTION ? a->b
                                                        : a->c;
        break;
    case SEGMENT_DIM_EVENT_VALUE:
        return a->kind == HIT_EVENT && isfinite(a->value) && number_matches_op(cp->op, c, a->value);
    case SEGMENT_DIM_OUTLINK_URL:
        if (a->kind != HIT_OUTLINK) return false;
        id = a->a;
        break;
    case SEGMENT_DIM_DOWNLOAD_URL:
        if (a->kind != HIT_DOWNLOAD) return false;
        id = a->a;
        break;
    case SEGMENT_DIM_SITE_SEARCH_KEYWORD:
    case SEGMENT_DIM_SITE_SEARCH_CATEGORY:
        if (a->kind != HIT_SITE_SEARCH) return false;
        id = c->dimension == SEGMENT_DIM_SITE_SEARCH_KEYWORD ? a->a : a->b;
        break;
    case SEGMENT_DIM_CONTENT_NAME:
    case SEGMENT_DIM_CONTENT_PIECE:
    case SEGMENT_DIM_CONTENT_TARGET:
    case SEGMENT_DIM_CONTENT_INTERACTION:
        if (a->kind != HIT_CONTENT_IMPRESSION && a->kind != HIT_CONTENT_INTERACTION)
            return false;
        id = c->dimension == SEGMENT_DIM_CONTENT_NAME     ? a->a
             : c->dimension == SEGMENT_DIM_CONTENT_PIECE  ? a->b
             : c->dimension == SEGMENT_DIM_CONTENT_TARGET ? a->c
                                                          : a->d;
        break;
    case SEGMENT_DIM_ORDER_ID:
        /* An order id sent again is not an order (Matomo keeps only the first). */
        if (a->kind != HIT_ECOMMERCE_ORDER || p->ctx->site->ecommerce[a->c].duplicate) return false;
        id = a->a;
        break;
    case SEGMENT_DIM_PRODUCT_VIEW_SKU:
    case SEGMENT_DIM_PRODUCT_VIEW_NAME:
        if (a->kind != HIT_PAGEVIEW) return false;
        id = c->dimension == SEGMENT_DIM_PRODUCT_VIEW_SKU ? a->c : a->d;
        break;
    case SEGMENT_DIM_PRODUCT_VIEW_CATEGORY:
        return a->kind == HIT_PAGEVIEW && category_matches(p, cp, a->e);
    case SEGMENT_DIM_PRODUCT_SKU:
    case SEGMENT_DIM_PRODUCT_NAME:
    case SEGMENT_DIM_PRODUCT_CATEGORY:
    case SEGMENT_DIM_PRODUCT_PURCHASED_SKU:
    case SEGMENT_DIM_PRODUCT_PURCHASED_NAME:
    case SEGMENT_DIM_PRODUCT_PURCHASED_CATEGORY:
        return items_match(p, cp, a);
    case SEGMENT_DIM_DIMENSION:
        return dimension_matches(p, cp, a->dimensions);
    default:
        return false;
    }
    return memo_matches(p, cp, id);
}

static const struct {
    const char *name, *code;
} browser_codes[] = {
    {"Chrome", "CH"},          {"Chrome Mobile", "CM"},  {"Chrome Mobile iOS", "CI"},
    {"Firefox", "FF"},         {"Firefox Mobile", "FM"}, {"Safari", "SF"},
    {"Mobile Safari", "MF"},   {"Edge", "PS"},           {"Opera", "OP"},
    {"Samsung Internet", "SB"}, {"IE", "IE"},            {"Yandex Browser", "YA"},
    {"UC Browser", "UC"},      {"Brave", "BR"},          {"Vivaldi", "VI"},
};
static const struct {
    const char *name, *code;
} os_codes[] = {
    {"Windows", "WIN"}, {"Mac OS X", "MAC"}, {"macOS", "MAC"},  {"Mac", "MAC"},
    {"Linux", "LIN"},   {"GNU/Linux", "LIN"}, {"iPadOS", "IOS"},
    {"Ubuntu", "UBT"},  {"Android", "AND"},  {"iOS", "IOS"},    {"Chrome OS", "COS"},
    {"ChromeOS", "COS"}, {"Fedora", "FED"},  {"Debian", "DEB"}, {"FreeBSD", "BSD"},
};

const char *report_browser_code(const char *name)
{
    for (size_t i = 0; i < sizeof browser_codes / sizeof *browser_codes; i++)
        if (strcmp(browser_codes[i].name, name) == 0) return browser_codes[i].code;
    return *name ? "UNK" : "";
}

const char *report_os_code(const char *name)
{
    if (strncmp(name, "Windows", 7) == 0) return "WIN";
    for (size_t i = 0; i < sizeof os_codes / sizeof *os_codes; i++)
        if (strcmp(os_codes[i].name, name) == 0) return os_codes[i].code;
    return *name ? "UNK" : "";
}

const char *report_ecommerce_status(const struct visit_row *v)
{
    static const char *const names[] = {"none", "ordered", "abandonedCart",
                                        "orderedThenAbandonedCart"};
    return names[v->ecommerce_status];
}

const char *report_visitor_type(const struct visit_row *v)
{
    if (!(v->flags & VISIT_RETURNING)) return "new";
    return v->prior_orders ? "returningCustomer" : "returning";
}

/* Orders so far: 1 one-time, 2 to 3 occasional, 4 and more frequent. */
static const char *buyer_type(uint32_t orders)
{
    return orders >= 4 ? "frequent" : orders >= 2 ? "occasional" : orders ? "oneTime" : "none";
}

/* A number the visit may not have (no earlier order): absent, it matches
 * "==" with no value and "!=" with one; present, as any number. */
static bool optional_number_matches(const struct segment_condition *c, bool present, double x)
{
    if (!present) return *c->value ? c->op == SEGMENT_NE : c->op == SEGMENT_EQ;
    return number_matches(c, x);
}

static bool visit_condition(struct segment_plan *p, struct cond_plan *cp,
                            const struct site_index *s, uint32_t row)
{
    const struct segment_condition *c = cp->c;
    const struct visit_row *v = &s->visits[row];
    const struct report_context *ctx = p->ctx;
    int64_t start = s->visit_start[row];
    char text[40];
    switch (c->dimension) {
    case SEGMENT_DIM_VISITOR_TYPE: return text_matches(c->op, c->value, report_visitor_type(v));
    case SEGMENT_DIM_VISIT_COUNT: return number_matches(c, v->visit_count);
    case SEGMENT_DIM_DAYS_SINCE_LAST_VISIT:
        return number_matches(c, v->days_since_last < 0 ? 0 : v->days_since_last);
    case SEGMENT_DIM_DAYS_SINCE_FIRST_VISIT:
        return number_matches(c, v->days_since_first < 0 ? 0 : v->days_since_first);
    case SEGMENT_DIM_VISIT_DURATION: return number_matches(c, (double)((v->end_ms - start) / 1000));
    case SEGMENT_DIM_ACTIONS: return number_matches(c, v->actions);
    case SEGMENT_DIM_PAGEVIEWS: return number_matches(c, v->pageviews);
    case SEGMENT_DIM_USER_ID: return memo_matches(p, cp, v->user_id);
    case SEGMENT_DIM_VISITOR_ID:
        snprintf(text, sizeof text, "%016" PRIx64, v->visitor_id);
        return text_matches(c->op, c->value, text);
    case SEGMENT_DIM_VISIT_ID: return number_matches(c, (double)v->visit_id);
    case SEGMENT_DIM_VISIT_CONVERTED: return number_matches(c, v->conversion_count > 0);
    case SEGMENT_DIM_VISIT_CONVERTED_GOAL_ID: {
        const struct conversion *conv;
        size_t n = visit_conversions(s, row, &conv);
        for (size_t k = 0; k < n; k++)
            if (conv[k].goal_id && number_matches(c, conv[k].goal_id)) return true;
        return false;
    }
    case SEGMENT_DIM_VISIT_ECOMMERCE_STATUS:
        return text_matches(c->op, c->value, report_ecommerce_status(v));
    case SEGMENT_DIM_REVENUE_ORDER: return number_matches(c, v->order_revenue);
    case SEGMENT_DIM_DAYS_SINCE_LAST_ECOMMERCE_ORDER:
        return optional_number_matches(c, v->prior_order_ms != 0,
                                       (double)((start - v->prior_order_ms) / MS_PER_DAY));
    case SEGMENT_DIM_VISITOR_ORDERS: return number_matches(c, v->prior_orders + v->orders);
    case SEGMENT_DIM_VISITOR_REVENUE: return number_matches(c, v->prior_revenue + v->order_revenue);
    case SEGMENT_DIM_VISITOR_AVERAGE_ORDER_VALUE: {
        uint32_t orders = v->prior_orders + v->orders;
        return optional_number_matches(c, orders > 0,
                                       orders ? (v->prior_revenue + v->order_revenue) / orders : 0);
    }
    case SEGMENT_DIM_BUYER_TYPE:
        return text_matches(c->op, c->value, buyer_type(v->prior_orders + v->orders));
    case SEGMENT_DIM_VISIT_START_SERVER_HOUR:
        return number_matches(c, report_local_hour(ctx, start));
    case SEGMENT_DIM_VISIT_END_SERVER_HOUR:
        return number_matches(c, report_local_hour(ctx, v->end_ms));
    case SEGMENT_DIM_VISIT_LOCAL_HOUR:
        return v->local_time_s >= 0 && number_matches(c, v->local_time_s / 3600);
    case SEGMENT_DIM_DAY_OF_WEEK: return number_matches(c, report_day_of_week(ctx, start));
    case SEGMENT_DIM_VISIT_START_SERVER_DATE:
        format_date(tz_local_day(ctx->tz, start), text);
        return text_matches(c->op, c->value, text);
    case SEGMENT_DIM_COUNTRY_CODE: return memo_matches(p, cp, v->text[VT_COUNTRY]);
    case SEGMENT_DIM_REGION_CODE: return memo_matches(p, cp, v->text[VT_REGION]);
    case SEGMENT_DIM_CITY: return memo_matches(p, cp, v->text[VT_CITY]);
    case SEGMENT_DIM_CONTINENT_CODE: return memo_matches(p, cp, v->text[VT_CONTINENT]);
    case SEGMENT_DIM_LANGUAGE_CODE:
        /* "de" matches German of any region; "de-at" only Austrian. */
        return memo_matches(p, cp, strchr(c->value, '-') ? v->text[VT_LOCALE] : v->text[VT_LANGUAGE]);
    case SEGMENT_DIM_DEVICE_TYPE: return memo_matches(p, cp, v->text[VT_DEVICE_TYPE]);
    case SEGMENT_DIM_DEVICE_BRAND: return memo_matches(p, cp, v->text[VT_DEVICE_BRAND]);
    case SEGMENT_DIM_DEVICE_MODEL: return memo_matches(p, cp, v->text[VT_DEVICE_MODEL]);
    case SEGMENT_DIM_BROWSER_CODE:
        return text_matches(c->op, c->value,
                            report_browser_code(dict_str(&ctx->index->dict, v->text[VT_BROWSER])));
    case SEGMENT_DIM_BROWSER_NAME: return memo_matches(p, cp, v->text[VT_BROWSER]);
    case SEGMENT_DIM_BROWSER_VERSION: return memo_matches(p, cp, v->text[VT_BROWSER_VERSION]);
    case SEGMENT_DIM_BROWSER_ENGINE: return memo_matches(p, cp, v->text[VT_BROWSER_ENGINE]);
    case SEGMENT_DIM_OPERATING_SYSTEM_CODE:
        return text_matches(c->op, c->value,
                            report_os_code(dict_str(&ctx->index->dict, v->text[VT_OS])));
    case SEGMENT_DIM_OPERATING_SYSTEM_NAME: return memo_matches(p, cp, v->text[VT_OS]);
    case SEGMENT_DIM_OPERATING_SYSTEM_VERSION: return memo_matches(p, cp, v->text[VT_OS_VERSION]);
    case SEGMENT_DIM_RESOLUTION: return memo_matches(p, cp, v->text[VT_RESOLUTION]);
    case SEGMENT_DIM_REFERRER_TYPE:
        return text_matches(c->op, c->value, referrer_type_name(v->referrer_type));
    case SEGMENT_DIM_REFERRER_NAME: return memo_matches(p, cp, v->text[VT_REFERRER_NAME]);
    case SEGMENT_DIM_REFERRER_KEYWORD: return memo_matches(p, cp, v->text[VT_REFERRER_KEYWORD]);
    case SEGMENT_DIM_REFERRER_URL: return memo_matches(p, cp, v->text[VT_REFERRER_URL]);
    case SEGMENT_DIM_CAMPAIGN_NAME: return memo_matches(p, cp, v->text[VT_CAMPAIGN_NAME]);
    case SEGMENT_DIM_CAMPAIGN_KEYWORD: return memo_matches(p, cp, v->text[VT_CAMPAIGN_KEYWORD]);
    case SEGMENT_DIM_CAMPAIGN_SOURCE: return memo_matches(p, cp, v->text[VT_CAMPAIGN_SOURCE]);
    case SEGMENT_DIM_CAMPAIGN_MEDIUM: return memo_matches(p, cp, v->text[VT_CAMPAIGN_MEDIUM]);
    case SEGMENT_DIM_CAMPAIGN_CONTENT: return memo_matches(p, cp, v->text[VT_CAMPAIGN_CONTENT]);
    case SEGMENT_DIM_CAMPAIGN_ID: return memo_matches(p, cp, v->text[VT_CAMPAIGN_ID]);
    case SEGMENT_DIM_CAMPAIGN_GROUP: return memo_matches(p, cp, v->text[VT_CAMPAIGN_GROUP]);
    case SEGMENT_DIM_CAMPAIGN_PLACEMENT: return memo_matches(p, cp, v->text[VT_CAMPAIGN_PLACEMENT]);
    case SEGMENT_DIM_ENTRY_PAGE_URL: return memo_matches(p, cp, v->entry_url);
    case SEGMENT_DIM_ENTRY_PAGE_TITLE: return memo_matches(p, cp, v->entry_title);
    case SEGMENT_DIM_EXIT_PAGE_URL: return memo_matches(p, cp, v->exit_url);
    case SEGMENT_DIM_EXIT_PAGE_TITLE: return memo_matches(p, cp, v->exit_title);
    default:
        break;
    }
    /* An action condition: any action of the visit (none, when negated). */
    for (uint32_t i = v->first_action; i != INDEX_NONE; i = s->actions[i].next)
        if (action_matches(p, cp, &s->actions[i])) return !cp->negated;
    return cp->negated;
}

int segment_plan_create(const struct report_context *ctx, struct segment_plan **out)
{
    *out = NULL;
    const struct segment *seg = ctx->segment;
    if (!seg || !seg->count) return 0;
    struct segment_plan *p = calloc(1, sizeof *p);
    size_t n = 0;
    for (size_t g = 0; g < seg->count; g++) n += seg->groups[g].count;
    if (!p || !(p->conds = calloc(n, sizeof *p->conds))) {
        free(p);
        return -ENOMEM;
    }
    p->segment = seg;
    p->ctx = ctx;
    size_t k = 0, words = ctx->index->dict.count;
    for (size_t g = 0; g < seg->count; g++) {
        for (size_t i = 0; i < seg->groups[g].count; i++, k++) {
            struct cond_plan *cp = &p->conds[k];
            cp->c = &seg->groups[g].conditions[i];
            cp->op = cp->c->op;
            bool action = segment_dimension_infos[cp->c->dimension].scope == SEGMENT_SCOPE_ACTION;
            if (action && (cp->op == SEGMENT_NE || cp->op == SEGMENT_NOT_CONTAINS)) {
                cp->op = cp->op == SEGMENT_NE ? SEGMENT_EQ : SEGMENT_CONTAINS;
                cp->negated = true;
            }
            snprintf(cp->dim_key, sizeof cp->dim_key, "%u", cp->c->dimension_index);
            cp->memo = calloc(words ? words : 1, 1);
            if (!cp->memo) {
                segment_plan_free(p);
                return -ENOMEM;
            }
        }
    }
    *out = p;
    return 0;
}

void segment_plan_free(struct segment_plan *p)
{
    if (!p) return;
    size_t n = 0;
    for (size_t g = 0; g < p->segment->count; g++) n += p->segment->groups[g].count;
    for (size_t k = 0; k < n; k++) free(p->conds[k].memo);
    free(p->conds);
    free(p);
}

bool segment_plan_matches(struct segment_plan *p, const struct site_index *s, uint32_t row)
{
    if (!p) return true;
    struct cond_plan *cp = p->conds;
    for (size_t g = 0; g < p->segment->count; g++) {
        const struct segment_group *group = &p->segment->groups[g];
        bool any = false;
        for (size_t i = 0; i < group->count; i++)
            if (!any && visit_condition(p, &cp[i], s, row)) any = true;
        if (!any) return false;
        cp += group->count;
    }
    return true;
}
