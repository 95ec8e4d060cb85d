/* report_ecommerce: products sold or left in carts, and customers.
 *
 * Product reports (Goals.getItemsSku/Name/Category) walk the selected
 * visits once: their orders' lines (duplicate order ids excluded, as the
 * index marks them) or their abandoned cart's lines, and their product
 * pageviews. Customers.get makes one pass over the site's visits up to
 * the period's end with a small state per visitor, then ranks the buyers.
 * docs/ecommerce.md has the definitions. */
#include "report_ecommerce.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"

/* ---- products ---- */

/* A product row's metrics, in agg's slots: all of them are sums, which is
 * what agg's "Others" row does with these slots. */
#define M_ITEM_REVENUE M_VALUE_SUM
#define M_ITEM_QUANTITY M_HITS
#define M_ITEM_ORDERS M_CONVERTED /* orders (or abandoned carts) with the product */
#define M_ITEM_VIEWS M_VISITS     /* visits that viewed the product */

static const struct agg_column order_item_columns[] = {
    COL("revenue", REPORT_NUMBER, M_ITEM_REVENUE),
    COL("quantity", REPORT_NUMBER, M_ITEM_QUANTITY),
    COL("orders", REPORT_INT, M_ITEM_ORDERS),
    AVG("avg_price", REPORT_NUMBER, M_ITEM_REVENUE, M_ITEM_QUANTITY),
    AVG("avg_quantity", REPORT_NUMBER, M_ITEM_QUANTITY, M_ITEM_ORDERS),
    COL("nb_visits", REPORT_INT, M_ITEM_VIEWS),
    {{"conversion_rate", REPORT_PERCENT_2DP}, M_ITEM_ORDERS, M_ITEM_VIEWS, 100},
};

static const struct agg_column cart_item_columns[] = {
    COL("revenue", REPORT_NUMBER, M_ITEM_REVENUE),
    COL("quantity", REPORT_NUMBER, M_ITEM_QUANTITY),
    COL("abandoned_carts", REPORT_INT, M_ITEM_ORDERS),
    AVG("avg_price", REPORT_NUMBER, M_ITEM_REVENUE, M_ITEM_QUANTITY),
    AVG("avg_quantity", REPORT_NUMBER, M_ITEM_QUANTITY, M_ITEM_ORDERS),
    COL("nb_visits", REPORT_INT, M_ITEM_VIEWS),
    {{"conversion_rate", REPORT_PERCENT_2DP}, M_ITEM_ORDERS, M_ITEM_VIEWS, 100},
};

/* Matomo's labels for an empty value. */
static const char *const not_defined[] = {
    [ER_ITEMS_SKU] = "Product SKU not defined",
    [ER_ITEMS_NAME] = "Product Name not defined",
    [ER_ITEMS_CATEGORY] = "Product Category not defined",
};
/* The row's segment: the visits that ordered the product. */
static const char *const purchased_dimension[] = {
    [ER_ITEMS_SKU] = "productPurchasedSku",
    [ER_ITEMS_NAME] = "productPurchasedName",
    [ER_ITEMS_CATEGORY] = "productPurchasedCategory",
};

struct items_walk {
    const struct report_query *q;
    struct report_context *ctx;
    enum ecommerce_report which;
    struct agg agg;
    struct arena *arena;
    /* per entry: the order or cart (ecommerce row + 1) it last counted */
    uint32_t *counted;
    size_t counted_cap;
    /* categories: string id -> position + 1 in parts, where [n, entry 1 .. entry n] */
    uint32_t *category_memo;
    uint32_t *parts;
    size_t parts_count, parts_cap;
};

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) abort();
    return p;
}

/* The row of a label; text is copied when it does not live in the index. */
static uint32_t label_entry(struct items_walk *w, uint64_t key, const char *text, bool copy)
{
    bool created;
    uint32_t e = agg_entry(&w->agg, key, 0, INDEX_NONE, &created);
    if (created) {
        struct agg_entry *en = &w->agg.entries[e];
        if (copy && *text) {
            char *label = arena_strdup(w->arena, text);
            if (!label) abort();
            text = label;
        }
        en->label = *text ? text : not_defined[w->which];
        if (!w->q->abandoned_carts)
            en->segment = report_row_segment(w->arena, purchased_dimension[w->which], text);
    }
    if (e >= w->counted_cap) {
        size_t cap = w->counted_cap ? w->counted_cap * 2 : 256;
        while (cap <= e) cap *= 2;
        w->counted = xrealloc(w->counted, cap * sizeof *w->counted);
        memset(w->counted + w->counted_cap, 0, (cap - w->counted_cap) * sizeof *w->counted);
        w->counted_cap = cap;
    }
    return e;
}

static void parts_push(struct items_walk *w, uint32_t x)
{
    if (w->parts_count == w->parts_cap) {
        w->parts_cap = w->parts_cap ? w->parts_cap * 2 : 256;
        w->parts = xrealloc(w->parts, w->parts_cap * sizeof *w->parts);
    }
    w->parts[w->parts_count++] = x;
}

/* The rows of a category string: itself, or each distinct category of a
 * JSON array (["Tea","Green"]: a product counts under both). Decided once
 * per string. Returns the list [n, entries...]. */
static const uint32_t *category_entries(struct items_walk *w, uint32_t id)
{
    if (w->category_memo[id]) return &w->parts[w->category_memo[id] - 1];
    const char *text = report_text(w->ctx, id);
    size_t at = w->parts_count;
    parts_push(w, 0);
    json_t *root = text[0] == '[' ? json_loads(text, 0, NULL) : NULL;
    if (json_is_array(root)) {
        for (size_t i = 0; i < json_array_size(root); i++) {
            const char *one = json_string_value(json_array_get(root, i));
            if (!one || !*one) continue;
            uint32_t e = label_entry(w, report_hash(one), one, true);
            bool again = false; /* ["Tea","Tea"] is one category */
            for (size_t k = at + 1; k < w->parts_count && !again; k++) again = w->parts[k] == e;
            if (!again) parts_push(w, e);
        }
        /* An array of no category at all is "not defined". */
        if (w->parts_count == at + 1) parts_push(w, label_entry(w, report_hash(""), "", false));
    } else {
        /* One category (or text that only looks like an array). */
        parts_push(w, label_entry(w, report_hash(text), text, false));
    }
    json_decref(root);
    w->parts[at] = (uint32_t)(w->parts_count - at - 1);
    w->category_memo[id] = (uint32_t)at + 1;
    return &w->parts[at];
}

/* The rows a product belongs to: its SKU's, its name's or its categories'.
 * *one is scratch for the single-row case. */
static const uint32_t *product_entries(struct items_walk *w, uint32_t sku, uint32_t name,
                                       uint32_t category, uint32_t one[2])
{
    if (w->which == ER_ITEMS_CATEGORY) return category_entries(w, category);
    uint32_t id = w->which == ER_ITEMS_SKU ? sku : name;
    one[0] = 1;
    one[1] = label_entry(w, id, report_text(w->ctx, id), false);
    return one;
}

/* The lines of one order or cart: revenue and quantity per line, and the
 * order counted once per row however many of its lines fall there. */
static void add_lines(struct items_walk *w, uint32_t ecommerce_row)
{
    const struct site_index *s = w->ctx->site;
    const struct ecommerce_row *er = &s->ecommerce[ecommerce_row];
    for (uint32_t i = er->first_item; i < er->first_item + er->item_count; i++) {
        const struct item_row *item = &s->items[i];
        uint32_t one[2];
        const uint32_t *list = product_entries(w, item->sku, item->name, item->category, one);
        for (uint32_t k = 1; k <= list[0]; k++) {
            double *m = w->agg.entries[list[k]].m;
            m[M_ITEM_REVENUE] += item->price * item->quantity;
            m[M_ITEM_QUANTITY] += item->quantity;
            if (w->counted[list[k]] != ecommerce_row + 1) {
                w->counted[list[k]] = ecommerce_row + 1;
                m[M_ITEM_ORDERS]++;
            }
        }
    }
}

static void walk_visit(struct items_walk *w, uint32_t row)
{
    const struct site_index *s = w->ctx->site;
    const struct visit_row *v = &s->visits[row];
    bool orders = !w->q->abandoned_carts && v->orders;
    if (w->q->abandoned_carts && v->abandoned_cart != INDEX_NONE) add_lines(w, v->abandoned_cart);
    if (!v->pageviews && !orders) return;
    for (uint32_t i = v->first_action; i != INDEX_NONE; i = s->actions[i].next) {
        const struct action_row *a = &s->actions[i];
        if (a->kind == HIT_ECOMMERCE_ORDER) {
            if (orders && !s->ecommerce[a->c].duplicate) add_lines(w, a->c);
            continue;
        }
        if (a->kind != HIT_PAGEVIEW) continue;
        /* A product page has a SKU or a name; a category page only a
         * category, and counts in the category report only. */
        if (w->which == ER_ITEMS_CATEGORY ? !a->e : !a->c && !a->d) continue;
        uint32_t one[2];
        const uint32_t *list = product_entries(w, a->c, a->d, a->e, one);
        for (uint32_t k = 1; k <= list[0]; k++)
            if (agg_first_in_visit(&w->agg, list[k], row)) w->agg.entries[list[k]].m[M_ITEM_VIEWS]++;
    }
}

static int items_report(const struct report_query *q, struct report_context *ctx,
                        enum ecommerce_report which, struct arena *arena, struct report_table **out)
{
    uint32_t *rows;
    size_t n;
    int rc = report_select_visits(q, ctx, &rows, &n);
    if (rc) return rc;
    struct items_walk w = {.q = q, .ctx = ctx, .which = which, .arena = arena};
    agg_init(&w.agg, arena, 0);
    if (which == ER_ITEMS_CATEGORY) {
        w.category_memo = calloc(ctx->index->dict.count ? ctx->index->dict.count : 1,
                                 sizeof *w.category_memo);
        if (!w.category_memo) abort();
    }
    for (size_t i = 0; i < n; i++) walk_visit(&w, rows[i]);
    const struct agg_column *columns = q->abandoned_carts ? cart_item_columns : order_item_columns;
    *out = agg_table(&w.agg, columns, COUNT(order_item_columns), M_ITEM_REVENUE, false, "",
                     q->truncate);
    free(w.counted);
    free(w.category_memo);
    free(w.parts);
    agg_free(&w.agg);
    free(rows);
    return 0;
}

/* ---- customers ---- */

#define LAPSED_DAYS_DEFAULT 90
#define LAPSED_DAYS_MAX 3650
#define LOYAL_ORDERS 4
#define CHANNELS 10 /* the referrer types, then one for any other */

enum stage { STAGE_NEW, STAGE_REPEAT, STAGE_LOYAL, STAGE_LAPSED, STAGE_INACTIVE, STAGES };
enum tier { TIER_HIGH, TIER_MEDIUM, TIER_LOW, TIERS };
static const char *const stage_names[STAGES] = {"new", "repeat", "loyal", "lapsed", "inactive"};
static const char *const tier_names[TIERS] = {"high", "medium", "low"};

/* The visits of the first-ever order in a period are exactly the new
 * customers' (the other stages depend on the whole history, which no
 * visit condition sees). */
static const char new_customer_segment[] = "daysSinceLastEcommerceOrder==;visitorOrders>=1";

static const struct report_column customer_columns[] = {
    {"nb_customers", REPORT_INT},     {"nb_orders", REPORT_INT},
    {"revenue", REPORT_NUMBER},       {"avg_order_value", REPORT_NUMBER},
    {"lifetime_orders", REPORT_INT},  {"lifetime_revenue", REPORT_NUMBER},
};

/* One visitor, from their visits up to the period's end that the segment
 * keeps. */
struct customer {
    uint64_t visitor_id;
    double revenue, period_revenue;
    uint32_t orders, period_orders, orders_before;
    uint8_t first_channel;
    bool seen;
    int64_t first_start, last_start;
};

struct ranked {
    double revenue;
    uint32_t orders, visitor;
    uint64_t visitor_id;
};

/* Most lifetime revenue first; then more orders; then the lower visitor
 * id, so that equal customers fall into tiers the same way every time. */
static int by_value(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->revenue != y->revenue) return x->revenue > y->revenue ? -1 : 1;
    if (x->orders != y->orders) return x->orders > y->orders ? -1 : 1;
    return x->visitor_id < y->visitor_id ? -1 : x->visitor_id > y->visitor_id;
}

struct tally {
    double customers, orders, revenue, lifetime_orders, lifetime_revenue;
    uint32_t channels[CHANNELS];
};

static void tally_add(struct tally *t, const struct customer *c)
{
    t->customers++;
    t->orders += c->period_orders;
    t->revenue += c->period_revenue;
    t->lifetime_orders += c->orders;
    t->lifetime_revenue += c->revenue;
    t->channels[c->first_channel < CHANNELS - 1 ? c->first_channel : CHANNELS - 1]++;
}

/* "Search Engines, Direct Entry": up to three channel types by customers,
 * ties in Referrers.getReferrerType's order. */
static const char *top_channels(struct arena *arena, const struct tally *t)
{
    char text[256] = "";
    size_t len = 0;
    bool taken[CHANNELS] = {false};
    for (int k = 0; k < 3; k++) {
        int best = -1;
        for (int c = 0; c < CHANNELS; c++)
            if (!taken[c] && t->channels[c] && (best < 0 || t->channels[c] > t->channels[best]))
                best = c;
        if (best < 0) break;
        taken[best] = true;
        len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", k ? ", " : "",
                                report_channel_label((unsigned)best));
    }
    char *s = arena_strdup(arena, text);
    if (!s) abort();
    return s;
}

static struct report_row customer_row(struct arena *arena, const char *label, const struct tally *t)
{
    struct report_row row = {.label = label};
    row.values = arena_alloc(arena, COUNT(customer_columns) * sizeof *row.values);
    if (!row.values) abort();
    double v[] = {t->customers, t->orders, t->revenue, t->orders ? t->revenue / t->orders : 0,
                  t->lifetime_orders, t->lifetime_revenue};
    memcpy(row.values, v, sizeof v);
    row.extras[row.extra_count++] = (struct report_extra){"top_channels", top_channels(arena, t)};
    return row;
}

static struct report_table *customer_table(struct arena *arena, size_t rows)
{
    struct report_table *t = arena_alloc(arena, sizeof *t);
    struct report_row *r = arena_alloc(arena, rows * sizeof *r);
    if (!t || !r) abort();
    *t = (struct report_table){.columns = customer_columns,
                               .column_count = COUNT(customer_columns),
                               .rows = r,
                               .row_count = rows};
    return t;
}

static int lapsed_days(const struct report_query *q, struct report_context *ctx, int64_t *days)
{
    *days = LAPSED_DAYS_DEFAULT;
    if (!q->lapsed_days || !parse_i64(q->lapsed_days, 1, LAPSED_DAYS_MAX, days)) return 0;
    snprintf(ctx->err, ctx->errlen,
             "lapsedDays: expected a whole number of days from 1 to %d (a customer is lapsed "
             "after that many days without a visit), not '%.40s'",
             LAPSED_DAYS_MAX, q->lapsed_days);
    return -EINVAL;
}

static int customers_report(const struct report_query *q, struct report_context *ctx,
                            struct arena *arena, struct report_table **out)
{
    int64_t lapsed;
    int rc = lapsed_days(q, ctx, &lapsed);
    if (rc) return rc;
    /* Every visit up to the period's end that the segment keeps: one pass. */
    struct report_query upto = *q;
    upto.from_ms = INT64_MIN;
    uint32_t *rows;
    size_t n;
    rc = report_select_visits(&upto, ctx, &rows, &n);
    if (rc) return rc;
    const struct site_index *s = ctx->site;
    size_t visitors = s ? s->visitor_count : 0;
    struct customer *c = calloc(visitors ? visitors : 1, sizeof *c);
    if (!c) abort();
    for (size_t i = 0; i < n; i++) {
        const struct visit_row *v = &s->visits[rows[i]];
        int64_t start = s->visit_start[rows[i]];
        struct customer *x = &c[v->visitor];
        if (!x->seen || start < x->first_start) {
            x->first_start = start;
            x->first_channel = v->referrer_type;
            x->visitor_id = v->visitor_id;
        }
        if (!x->seen || start > x->last_start) x->last_start = start;
        x->seen = true;
        if (!v->orders) continue;
        x->orders += v->orders;
        x->revenue += v->order_revenue;
        if (start >= q->from_ms) {
            x->period_orders += v->orders;
            x->period_revenue += v->order_revenue;
        } else {
            x->orders_before += v->orders;
        }
    }
    free(rows);

    /* The customers, ranked by lifetime value. */
    size_t count = 0;
    for (size_t k = 0; k < visitors; k++) count += c[k].orders > 0;
    struct ranked *ranked = malloc((count ? count : 1) * sizeof *ranked);
    if (!ranked) abort();
    count = 0;
    for (size_t k = 0; k < visitors; k++)
        if (c[k].orders)
            ranked[count++] = (struct ranked){c[k].revenue, c[k].orders, (uint32_t)k, c[k].visitor_id};
    qsort(ranked, count, sizeof *ranked, by_value);

    /* Lapsed is judged at the period's end, or now for a period not over. */
    int64_t as_of = q->now_ms > 0 && q->now_ms < q->to_ms ? q->now_ms : q->to_ms;
    struct tally tally[STAGES][TIERS], stage_tally[STAGES];
    memset(tally, 0, sizeof tally);
    memset(stage_tally, 0, sizeof stage_tally);
    for (size_t r = 0; r < count; r++) {
        const struct customer *x = &c[ranked[r].visitor];
        /* Top 20%: fewer than a fifth of the customers rank above. */
        enum tier tier = (uint64_t)r * 100 < (uint64_t)count * 20   ? TIER_HIGH
                         : (uint64_t)r * 100 < (uint64_t)count * 50 ? TIER_MEDIUM
                                                                    : TIER_LOW;
        enum stage stage;
        if (x->period_orders)
            stage = !x->orders_before            ? STAGE_NEW
                    : x->orders < LOYAL_ORDERS   ? STAGE_REPEAT
                                                 : STAGE_LOYAL;
        else
            stage = (as_of - x->last_start) / MS_PER_DAY > lapsed ? STAGE_LAPSED : STAGE_INACTIVE;
        tally_add(&tally[stage][tier], x);
        tally_add(&stage_tally[stage], x);
    }
    free(ranked);
    free(c);

    if (q->flat) {
        /* flat=1: one row per stage and tier, "new - high" ... "inactive - low". */
        struct report_table *t = customer_table(arena, STAGES * TIERS);
        for (int st = 0; st < STAGES; st++)
            for (int tr = 0; tr < TIERS; tr++) {
                char label[32];
                snprintf(label, sizeof label, "%s - %s", stage_names[st], tier_names[tr]);
                char *l = arena_strdup(arena, label);
                if (!l) abort();
                t->rows[st * TIERS + tr] = customer_row(arena, l, &tally[st][tr]);
            }
        *out = t;
        return 0;
    }
    struct report_table *t = customer_table(arena, STAGES);
    for (int st = 0; st < STAGES; st++) {
        struct report_row *row = &t->rows[st];
        *row = customer_row(arena, stage_names[st], &stage_tally[st]);
        if (st == STAGE_NEW)
            row->extras[row->extra_count++] = (struct report_extra){"segment", new_customer_segment};
        row->subtable = customer_table(arena, TIERS);
        for (int tr = 0; tr < TIERS; tr++)
            row->subtable->rows[tr] = customer_row(arena, tier_names[tr], &tally[st][tr]);
    }
    *out = t;
    return 0;
}

int ecommerce_report(const struct report_query *q, struct report_context *ctx,
                     enum ecommerce_report which, struct arena *arena, struct report_table **out)
{
    if (which == ER_CUSTOMERS) return customers_report(q, ctx, arena, out);
    return items_report(q, ctx, which, arena, out);
}
