/* report_goals: Goals.get, Goals.getDaysToConversion,
 * Goals.getVisitsUntilConversion, and the goal columns that visit reports
 * add per row when asked (filter_update_columns_when_show_all_goals=1).
 *
 * A visit's conversions come from visit_conversions (conversions.c): every
 * goal defined now, whatever the day the data arrived, and the visit's
 * orders (duplicate order ids excluded) as "goal 0". Abandoned carts are
 * not conversions; they are counted only when idGoal asks for them. */
#include "report_goals.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const char ORDER_KEY[] = "ecommerceOrder";
static const char CART_KEY[] = "ecommerceAbandonedCart";

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) abort();
    return p;
}

/* "goal_KEY_NAME", in arena memory. */
static const char *goal_column(struct arena *arena, const char *key, const char *name)
{
    char text[128];
    snprintf(text, sizeof text, "goal_%s_%s", key, name);
    char *s = arena_strdup(arena, text);
    if (!s) abort();
    return s;
}

/* With every goal shown, slot s is goal s (id order), then orders: its
 * key in column names. */
static const char *slot_key(const struct report_query *q, struct arena *arena, size_t s)
{
    if (s >= q->goal_count) return ORDER_KEY;
    char id[16];
    snprintf(id, sizeof id, "%u", q->goals[s].id);
    char *key = arena_strdup(arena, id);
    if (!key) abort();
    return key;
}

int goal_target_parse(struct report_context *ctx, struct arena *arena, struct target *t)
{
    const struct report_query *q = ctx->q;
    const char *id = q->id_goal;
    *t = (struct target){.kind = TARGET_ALL};
    if (!id || !*id) return 0;
    if (strcmp(id, ORDER_KEY) == 0) {
        *t = (struct target){.kind = TARGET_ORDERS, .key = ORDER_KEY};
        return 0;
    }
    if (strcmp(id, CART_KEY) == 0) {
        *t = (struct target){.kind = TARGET_CARTS, .key = CART_KEY};
        return 0;
    }
    size_t len = strlen(id);
    bool digits = len > 0 && len <= 9 && strspn(id, "0123456789") == len;
    if (!digits) {
        snprintf(ctx->err, ctx->errlen,
                 "idGoal '%.60s' is not a goal: give the id of one of the site's goals "
                 "(Goals.getGoals lists them), ecommerceOrder or ecommerceAbandonedCart",
                 id);
        return -EINVAL;
    }
    uint32_t goal_id = (uint32_t)strtoul(id, NULL, 10);
    if (report_goal_position(q, goal_id) == q->goal_count) {
        snprintf(ctx->err, ctx->errlen,
                 "idGoal %.60s: site %u has no goal with this id (deleted, or never made); "
                 "Goals.getGoals lists its goals, ecommerceOrder and ecommerceAbandonedCart "
                 "are its orders and abandoned carts",
                 id, q->site_id);
        return -EINVAL;
    }
    char key[16];
    snprintf(key, sizeof key, "%u", goal_id);
    t->kind = TARGET_GOAL;
    t->goal_id = goal_id;
    t->key = arena_strdup(arena, key);
    if (!t->key) abort();
    return 0;
}

/* The site has counted an order (ever): its reports show ecommerce
 * columns, as Matomo's do for an ecommerce site. */
static bool site_has_orders(const struct report_context *ctx)
{
    return ctx->site && ctx->site->order_id_count > 0;
}

static bool cart_abandoned(const struct visit_row *v)
{
    return v->ecommerce_status == ECOMMERCE_ABANDONED_CART ||
           v->ecommerce_status == ECOMMERCE_ORDERED_THEN_ABANDONED;
}

/* The cart a visit left: the total of its last cart update. */
static double cart_value(const struct site_index *s, const struct visit_row *v)
{
    for (uint32_t i = v->first_action; i != INDEX_NONE; i = s->actions[i].next) {
        const struct action_row *a = &s->actions[i];
        if (a->kind == HIT_CART_UPDATE && a->c == v->abandoned_cart)
            return isfinite(a->value) ? a->value : 0;
    }
    return 0;
}

static double item_quantities(const struct site_index *s, const struct ecommerce_row *e)
{
    double n = 0;
    for (uint32_t i = e->first_item; i < e->first_item + e->item_count; i++)
        if (isfinite(s->items[i].quantity)) n += s->items[i].quantity;
    return n;
}

double goal_target_visit(const struct report_context *ctx, const struct target *t, uint32_t row,
                         double *revenue)
{
    const struct visit_row *v = &ctx->site->visits[row];
    *revenue = 0;
    switch (t->kind) {
    case TARGET_ORDERS:
        *revenue = v->order_revenue;
        return v->orders;
    case TARGET_CARTS:
        if (!cart_abandoned(v) || v->abandoned_cart == INDEX_NONE) return 0;
        *revenue = cart_value(ctx->site, v);
        return 1;
    default: {
        const struct conversion *c;
        size_t n = visit_conversions(ctx->site, row, &c);
        for (size_t k = 0; k < n; k++) {
            if (c[k].goal_id != t->goal_id) continue;
            *revenue = c[k].revenue;
            return c[k].count;
        }
        return 0;
    }
    }
}

/* ---- one-row tables ---- */

struct single {
    struct arena *arena;
    struct report_column *columns;
    double *values;
    size_t count, cap;
};

static void single_init(struct single *t, struct arena *arena, size_t cap)
{
    *t = (struct single){.arena = arena, .cap = cap};
    t->columns = arena_alloc(arena, cap * sizeof *t->columns);
    t->values = arena_alloc(arena, cap * sizeof *t->values);
    if (!t->columns || !t->values) abort();
}

static void single_add(struct single *t, const char *name, enum report_format f, double v)
{
    if (t->count == t->cap) abort(); /* the caller's count is wrong */
    t->columns[t->count] = (struct report_column){name, f};
    t->values[t->count++] = v;
}

static struct report_table *single_table(struct single *t)
{
    struct report_table *table = arena_alloc(t->arena, sizeof *table);
    struct report_row *row = arena_alloc(t->arena, sizeof *row);
    if (!table || !row) abort();
    *row = (struct report_row){.label = "", .values = t->values};
    *table = (struct report_table){.columns = t->columns, .column_count = t->count, .rows = row,
                                   .row_count = 1, .single = true};
    return table;
}

static double percent(double part, double whole)
{
    return whole ? part / whole * 100 : 0;
}

/* nb_conversions, nb_visits_converted, conversion_rate, revenue; with
 * key "goal_KEY_" before each name. */
static void add_base_columns(struct single *t, const char *key, double conversions,
                             double converted, double visits, double revenue)
{
    static const char *const names[] = {"nb_conversions", "nb_visits_converted",
                                        "conversion_rate", "revenue"};
    const char *n[4];
    for (int i = 0; i < 4; i++)
        n[i] = key ? goal_column(t->arena, key, names[i]) : names[i];
    single_add(t, n[0], REPORT_INT, conversions);
    single_add(t, n[1], REPORT_INT, converted);
    single_add(t, n[2], REPORT_PERCENT_2DP, percent(converted, visits));
    single_add(t, n[3], REPORT_NUMBER, revenue);
}

/* ---- Goals.get ---- */

/* Every goal and orders: the totals, then per goal (and orders). */
static struct report_table *get_all(const struct report_context *ctx, struct arena *arena,
                                    const uint32_t *rows, size_t n)
{
    const struct report_query *q = ctx->q;
    bool orders = site_has_orders(ctx);
    size_t slots = q->goal_count + orders; /* goals in id order, then orders */
    double *conversions = xcalloc(slots, sizeof *conversions);
    double *converted = xcalloc(slots, sizeof *converted);
    double *revenue = xcalloc(slots, sizeof *revenue);
    double total_conversions = 0, total_converted = 0, total_revenue = 0;
    for (size_t i = 0; i < n; i++) {
        const struct conversion *c;
        size_t k = visit_conversions(ctx->site, rows[i], &c);
        total_converted += k > 0;
        for (size_t j = 0; j < k; j++) {
            total_conversions += c[j].count;
            total_revenue += c[j].revenue;
            size_t slot = c[j].goal_id ? report_goal_position(q, c[j].goal_id) : q->goal_count;
            if (slot >= slots) continue;
            conversions[slot] += c[j].count;
            converted[slot]++;
            revenue[slot] += c[j].revenue;
        }
    }
    struct single t;
    single_init(&t, arena, 4 * (slots + 1));
    add_base_columns(&t, NULL, total_conversions, total_converted, (double)n, total_revenue);
    for (size_t s = 0; s < slots; s++)
        add_base_columns(&t, slot_key(q, arena, s), conversions[s], converted[s], (double)n,
                         revenue[s]);
    free(conversions);
    free(converted);
    free(revenue);
    return single_table(&t);
}

static struct report_table *get_orders(const struct report_context *ctx, struct arena *arena,
                                       const uint32_t *rows, size_t n)
{
    const struct site_index *s = ctx->site;
    double orders = 0, converted = 0, revenue = 0, subtotal = 0, tax = 0, shipping = 0,
           discount = 0, items = 0;
    for (size_t i = 0; i < n; i++) {
        const struct visit_row *v = &s->visits[rows[i]];
        if (!v->orders) continue;
        orders += v->orders;
        converted++;
        revenue += v->order_revenue;
        for (uint32_t a = v->first_action; a != INDEX_NONE; a = s->actions[a].next) {
            if (s->actions[a].kind != HIT_ECOMMERCE_ORDER) continue;
            const struct ecommerce_row *e = &s->ecommerce[s->actions[a].c];
            if (e->duplicate) continue;
            if (isfinite(e->subtotal)) subtotal += e->subtotal;
            if (isfinite(e->tax)) tax += e->tax;
            if (isfinite(e->shipping)) shipping += e->shipping;
            if (isfinite(e->discount)) discount += e->discount;
            items += item_quantities(s, e);
        }
    }
    struct single t;
    single_init(&t, arena, 11);
    add_base_columns(&t, NULL, orders, converted, (double)n, revenue);
    single_add(&t, "revenue_subtotal", REPORT_NUMBER, subtotal);
    single_add(&t, "revenue_tax", REPORT_NUMBER, tax);
    single_add(&t, "revenue_shipping", REPORT_NUMBER, shipping);
    single_add(&t, "revenue_discount", REPORT_NUMBER, discount);
    single_add(&t, "items", REPORT_NUMBER, items);
    single_add(&t, "avg_order_revenue", REPORT_NUMBER, orders ? revenue / orders : 0);
    single_add(&t, "items_per_order", REPORT_NUMBER, orders ? items / orders : 0);
    return single_table(&t);
}

static struct report_table *get_carts(const struct report_context *ctx, struct arena *arena,
                                      const uint32_t *rows, size_t n)
{
    const struct site_index *s = ctx->site;
    double carts = 0, revenue = 0, items = 0;
    for (size_t i = 0; i < n; i++) {
        const struct visit_row *v = &s->visits[rows[i]];
        if (!cart_abandoned(v) || v->abandoned_cart == INDEX_NONE) continue;
        carts++;
        revenue += cart_value(s, v);
        items += item_quantities(s, &s->ecommerce[v->abandoned_cart]);
    }
    struct single t;
    single_init(&t, arena, 6);
    /* A visit leaves one cart at most: carts and visits are the same count. */
    add_base_columns(&t, NULL, carts, carts, (double)n, revenue);
    single_add(&t, "items", REPORT_NUMBER, items);
    single_add(&t, "avg_order_revenue", REPORT_NUMBER, carts ? revenue / carts : 0);
    return single_table(&t);
}

static struct report_table *get_goal(const struct report_context *ctx, const struct target *target,
                                     struct arena *arena, const uint32_t *rows, size_t n)
{
    double conversions = 0, converted = 0, revenue = 0;
    for (size_t i = 0; i < n; i++) {
        double r, c = goal_target_visit(ctx, target, rows[i], &r);
        conversions += c;
        converted += c > 0;
        revenue += r;
    }
    struct single t;
    single_init(&t, arena, 4);
    add_base_columns(&t, NULL, conversions, converted, (double)n, revenue);
    return single_table(&t);
}

/* ---- days and visits to conversion ---- */

/* Each conversion of the target, counted in the bucket of its visit's
 * days since the visitor's first visit (or its visit number). */
static struct report_table *conversion_buckets(const struct report_context *ctx,
                                               const struct target *target, bool days,
                                               struct arena *arena, const uint32_t *rows, size_t n)
{
    const struct report_bucket *b = days ? report_days_buckets : report_visit_count_buckets;
    size_t nb = days ? report_days_bucket_count : report_visit_count_bucket_count;
    double *conversions = xcalloc(nb, sizeof *conversions);
    double *revenue = xcalloc(nb, sizeof *revenue);
    for (size_t i = 0; i < n; i++) {
        const struct visit_row *v = &ctx->site->visits[rows[i]];
        double c = 0, r = 0;
        if (target->kind == TARGET_ALL) {
            const struct conversion *conv;
            size_t k = visit_conversions(ctx->site, rows[i], &conv);
            for (size_t j = 0; j < k; j++) {
                c += conv[j].count;
                r += conv[j].revenue;
            }
        } else {
            c = goal_target_visit(ctx, target, rows[i], &r);
        }
        if (!c) continue;
        /* The first visit is 0 days after the first; unknown counts so too. */
        double x = days ? (v->days_since_first < 0 ? 0.0 : (double)v->days_since_first)
                        : (double)v->visit_count;
        size_t k = report_bucket_of(b, nb, x);
        conversions[k] += c;
        revenue[k] += r;
    }
    static const struct report_column columns[] = {{"nb_conversions", REPORT_INT},
                                                   {"revenue", REPORT_NUMBER}};
    struct report_table *t = arena_alloc(arena, sizeof *t);
    struct report_row *out = arena_alloc(arena, nb * sizeof *out);
    double *values = arena_alloc(arena, 2 * nb * sizeof *values);
    if (!t || !out || !values) abort();
    for (size_t k = 0; k < nb; k++) {
        values[2 * k] = conversions[k];
        values[2 * k + 1] = revenue[k];
        out[k] = (struct report_row){.label = b[k].label, .values = &values[2 * k]};
    }
    *t = (struct report_table){.columns = columns, .column_count = 2, .rows = out, .row_count = nb};
    free(conversions);
    free(revenue);
    return t;
}

int goal_report(const struct report_query *q, struct report_context *ctx, enum goal_report which,
                struct arena *arena, struct report_table **out)
{
    struct target target;
    int rc = goal_target_parse(ctx, arena, &target);
    if (rc) return rc;
    uint32_t *rows;
    size_t n;
    rc = report_select_visits(q, ctx, &rows, &n);
    if (rc) return rc;
    switch (which) {
    case GR_GET:
        switch (target.kind) {
        case TARGET_ALL: *out = get_all(ctx, arena, rows, n); break;
        case TARGET_ORDERS: *out = get_orders(ctx, arena, rows, n); break;
        case TARGET_CARTS: *out = get_carts(ctx, arena, rows, n); break;
        default: *out = get_goal(ctx, &target, arena, rows, n); break;
        }
        break;
    case GR_DAYS_TO_CONVERSION:
    case GR_VISITS_UNTIL_CONVERSION:
        *out = conversion_buckets(ctx, &target, which == GR_DAYS_TO_CONVERSION, arena, rows, n);
        break;
    }
    free(rows);
    return 0;
}

/* ---- goal columns of the visit reports ----
 * Each row's entry gets extra metrics: with every goal, the row's
 * conversions and revenue (its converted visits are M_CONVERTED), then
 * per goal (and orders) conversions, converted visits and revenue; with
 * one target, those three of it. */

struct goal_columns {
    struct target target;
    const struct report_query *q;
    size_t slots;          /* TARGET_ALL: goals in id order, then orders when shown */
};

enum { PER_SLOT = 3, TOTALS = 2 };

static void add_visit_goals(void *arg, double *x, const struct report_context *ctx, uint32_t row)
{
    const struct goal_columns *gc = arg;
    if (gc->target.kind != TARGET_ALL) {
        double r, c = goal_target_visit(ctx, &gc->target, row, &r);
        if (!c) return;
        x[0] += c;
        x[1]++;
        x[2] += r;
        return;
    }
    const struct conversion *c;
    size_t k = visit_conversions(ctx->site, row, &c);
    for (size_t j = 0; j < k; j++) {
        x[0] += c[j].count;
        x[1] += c[j].revenue;
        size_t slot = c[j].goal_id ? report_goal_position(gc->q, c[j].goal_id) : gc->q->goal_count;
        if (slot >= gc->slots) continue;
        double *s = &x[TOTALS + PER_SLOT * slot];
        s[0] += c[j].count;
        s[1]++;
        s[2] += c[j].revenue;
    }
}

static struct agg_column column(const char *name, enum report_format f, int metric, int per,
                                double scale)
{
    return (struct agg_column){{name, f}, metric, per, scale};
}

int goal_columns_setup(struct report_context *ctx, struct agg *g, struct arena *arena,
                       const struct agg_column *base, size_t base_count,
                       const struct agg_column **columns, size_t *column_count)
{
    struct goal_columns *gc = arena_alloc(arena, sizeof *gc);
    if (!gc) abort();
    *gc = (struct goal_columns){.q = ctx->q};
    int rc = goal_target_parse(ctx, arena, &gc->target);
    if (rc) return rc;
    bool all = gc->target.kind == TARGET_ALL;
    gc->slots = all ? ctx->q->goal_count + site_has_orders(ctx) : 1;
    agg_set_extras(g, (all ? TOTALS : 0) + PER_SLOT * gc->slots, add_visit_goals, gc);

    size_t n = base_count + (all ? 4 : 0) + 5 * gc->slots;
    struct agg_column *c = arena_alloc(arena, n * sizeof *c);
    if (!c) abort();
    memcpy(c, base, base_count * sizeof *c);
    size_t k = base_count;
    int x = M_COUNT; /* the first extra metric */
    if (all) {
        /* nb_visits_converted is already a visit column (M_CONVERTED). */
        c[k++] = column("nb_conversions", REPORT_INT, x, -1, 1);
        c[k++] = column("revenue", REPORT_NUMBER, x + 1, -1, 1);
        c[k++] = column("conversion_rate", REPORT_PERCENT_2DP, M_CONVERTED, M_VISITS, 100);
        c[k++] = column("revenue_per_visit", REPORT_NUMBER, x + 1, M_VISITS, 1);
        x += TOTALS;
    }
    for (size_t s = 0; s < gc->slots; s++, x += PER_SLOT) {
        const char *key = all ? slot_key(ctx->q, arena, s) : gc->target.key;
        /* As Matomo's: a goal's conversion rate in a row is its
         * conversions per visit of the row. */
        c[k++] = column(goal_column(arena, key, "nb_conversions"), REPORT_INT, x, -1, 1);
        c[k++] = column(goal_column(arena, key, "nb_visits_converted"), REPORT_INT, x + 1, -1, 1);
        c[k++] = column(goal_column(arena, key, "conversion_rate"), REPORT_PERCENT_2DP, x,
                        M_VISITS, 100);
        c[k++] = column(goal_column(arena, key, "revenue"), REPORT_NUMBER, x + 2, -1, 1);
        c[k++] = column(goal_column(arena, key, "revenue_per_visit"), REPORT_NUMBER, x + 2,
                        M_VISITS, 1);
    }
    *columns = c;
    *column_count = k;
    return 0;
}
