/* report_attribution: MultiChannelConversionAttribution.getChannelAttribution.
 *
 * Each conversion of the period (idGoal: one goal or ecommerceOrder;
 * absent: every goal and the orders) is credited to the channels of its
 * visitor's visits in the look-back window: the converting visit and the
 * visits that started up to numDaysPriorToConversion days before it (7,
 * 30, 60 or 90; at most the 110 latest). Six models credit the same
 * touchpoints at once, so any two compare side by side. A visit's channel
 * is the one it arrived through (docs/channels.md). Rows are channel
 * types, their subtables channels (engine, website, network, campaign). */
#include "report_attribution.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_goals.h"

#define MAX_TOUCHPOINTS 110

enum model { FIRST, LAST, LAST_NON_DIRECT, LINEAR, POSITION_BASED, TIME_DECAY, MODEL_COUNT };
static const char *const model_names[MODEL_COUNT] = {
    "firstInteraction", "lastInteraction", "lastNonDirect", "linear", "positionBased", "timeDecay",
};

/* The share of a conversion that touchpoint i of n (oldest first) gets
 * under each model; last_non_direct is the position the model credits. */
static void shares(size_t i, size_t n, size_t last_non_direct, double out[MODEL_COUNT])
{
    out[FIRST] = i == 0;
    out[LAST] = i == n - 1;
    out[LAST_NON_DIRECT] = i == last_non_direct;
    out[LINEAR] = 1.0 / (double)n;
    if (n <= 2) out[POSITION_BASED] = 1.0 / (double)n;
    else out[POSITION_BASED] = i == 0 || i == n - 1 ? 0.4 : 0.2 / (double)(n - 2);
    out[TIME_DECAY] = (double)(i + 1) / ((double)n * (double)(n + 1) / 2);
}

static int parse_days(struct report_context *ctx, int *days)
{
    const char *text = ctx->q->attribution_days;
    *days = 30;
    if (!text) return 0;
    if (!strcmp(text, "7") || !strcmp(text, "30") || !strcmp(text, "60") || !strcmp(text, "90")) {
        *days = atoi(text);
        return 0;
    }
    snprintf(ctx->err, ctx->errlen,
             "numDaysPriorToConversion '%.20s' is not a look-back window: use 7, 30, 60 or 90 "
             "(days before the converting visit; default 30)",
             text);
    return -EINVAL;
}

/* Every visit of the site that started before `to`, grouped by visitor and
 * in start order within each: (visitor << 32 | row) keys. */
static uint64_t *visits_by_visitor(const struct site_index *s, int64_t to, size_t *count)
{
    uint64_t *keys = malloc((s->visit_count ? s->visit_count : 1) * sizeof *keys);
    if (!keys) abort();
    size_t n = 0;
    for (size_t r = 0; r < s->visit_count; r++)
        if (s->visit_start[r] < to) keys[n++] = (uint64_t)s->visits[r].visitor << 32 | r;
    index_radix_sort(keys, n, 32);
    /* Rows arrived since the last compaction are not in start order:
     * insertion sort within each visitor (a visitor has few visits). */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && keys[j - 1] >> 32 == keys[j] >> 32; j--) {
            uint32_t a = (uint32_t)keys[j - 1], b = (uint32_t)keys[j];
            if (s->visit_start[a] < s->visit_start[b] ||
                (s->visit_start[a] == s->visit_start[b] && a < b))
                break;
            uint64_t t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    *count = n;
    return keys;
}

/* Position of row in keys (it is there: it started before the range's end). */
static size_t find_visit(const uint64_t *keys, size_t n, uint32_t visitor, uint32_t row)
{
    size_t lo = 0, hi = n;
    uint64_t want = (uint64_t)visitor << 32;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (keys[mid] < want) lo = mid + 1;
        else hi = mid;
    }
    while (lo < n && (uint32_t)keys[lo] != row) lo++;
    return lo;
}

/* The conversions of a visit that the report credits, and their revenue. */
static double conversions_of(const struct report_context *ctx, const struct target *t,
                             uint32_t row, double *revenue)
{
    if (t->kind != TARGET_ALL) return goal_target_visit(ctx, t, row, revenue);
    const struct conversion *c;
    size_t n = visit_conversions(ctx->site, row, &c);
    double count = 0;
    *revenue = 0;
    for (size_t k = 0; k < n; k++) {
        count += c[k].count;
        *revenue += c[k].revenue;
    }
    return count;
}

/* Rows: channel types; children: channels. Credits go to the extras:
 * conversions of model m at m, revenue at MODEL_COUNT + m; the default
 * model's conversions also to M_VALUE_SUM, which orders the rows. */
static void credit(struct agg *g, struct arena *arena, const struct report_context *ctx,
                   uint32_t touch, const double share[MODEL_COUNT], double conversions,
                   double revenue)
{
    const struct visit_row *v = &ctx->site->visits[touch];
    uint32_t name = v->text[VT_REFERRER_NAME];
    bool created;
    uint32_t entries[2];
    entries[0] = agg_entry(g, v->referrer_type, 0, INDEX_NONE, &created);
    if (created) {
        struct agg_entry *en = &g->entries[entries[0]];
        en->label = report_channel_label(v->referrer_type);
        en->code = referrer_type_name(v->referrer_type);
        en->segment = report_row_segment(arena, "referrerType", en->code);
    }
    size_t levels = 1;
    if (v->referrer_type != REFERRER_DIRECT) {
        entries[levels] = agg_entry(g, v->referrer_type, name, entries[0], &created);
        if (created) {
            const char *label = report_text(ctx, name);
            g->entries[entries[levels]].label = *label ? label : "Unknown";
        }
        levels++;
    }
    for (size_t l = 0; l < levels; l++) {
        double *x = &g->extras[(size_t)entries[l] * g->extra_count];
        for (int m = 0; m < MODEL_COUNT; m++) {
            x[m] += share[m] * conversions;
            x[MODEL_COUNT + m] += share[m] * revenue;
        }
        g->entries[entries[l]].m[M_VALUE_SUM] += share[LAST_NON_DIRECT] * conversions;
    }
}

int attribution_report(const struct report_query *q, struct report_context *ctx,
                       struct arena *arena, struct report_table **out)
{
    struct target target;
    int days, rc = goal_target_parse(ctx, arena, &target);
    if (!rc && target.kind == TARGET_CARTS) {
        snprintf(ctx->err, ctx->errlen,
                 "idGoal ecommerceAbandonedCart: abandoned carts are not conversions; use a goal "
                 "id or ecommerceOrder, or leave idGoal out for every goal and the orders");
        rc = -EINVAL;
    }
    if (!rc) rc = parse_days(ctx, &days);
    if (rc) return rc;
    uint32_t *rows;
    size_t n;
    rc = report_select_visits(q, ctx, &rows, &n);
    if (rc) return rc;

    struct agg g;
    agg_init(&g, arena, 0);
    agg_set_extras(&g, 2 * MODEL_COUNT, NULL, NULL);
    const struct site_index *s = ctx->site;
    size_t key_count = 0;
    uint64_t *keys = s && n ? visits_by_visitor(s, q->to_ms, &key_count) : NULL;
    for (size_t i = 0; i < n; i++) {
        double revenue, conversions = conversions_of(ctx, &target, rows[i], &revenue);
        if (!conversions) continue;
        /* The touchpoints: the visitor's visits from the window's start to
         * this one, the latest MAX_TOUCHPOINTS. */
        const struct visit_row *v = &s->visits[rows[i]];
        int64_t from = s->visit_start[rows[i]] - (int64_t)days * MS_PER_DAY;
        size_t last = find_visit(keys, key_count, v->visitor, rows[i]), first = last;
        while (first > 0 && keys[first - 1] >> 32 == v->visitor &&
               s->visit_start[(uint32_t)keys[first - 1]] >= from && last - first + 1 < MAX_TOUCHPOINTS)
            first--;
        size_t touches = last - first + 1, last_non_direct = touches - 1;
        for (size_t k = touches; k-- > 0;)
            if (s->visits[(uint32_t)keys[first + k]].referrer_type != REFERRER_DIRECT) {
                last_non_direct = k;
                break;
            }
        for (size_t k = 0; k < touches; k++) {
            double share[MODEL_COUNT];
            shares(k, touches, last_non_direct, share);
            credit(&g, arena, ctx, (uint32_t)keys[first + k], share, conversions, revenue);
        }
    }
    free(keys);
    free(rows);

    struct agg_column *columns = arena_alloc(arena, 2 * MODEL_COUNT * sizeof *columns);
    if (!columns) abort();
    for (int m = 0; m < MODEL_COUNT; m++) {
        char name[64];
        snprintf(name, sizeof name, "nb_conversions_attrib_%s", model_names[m]);
        columns[m] = (struct agg_column){{arena_strdup(arena, name), REPORT_NUMBER}, M_COUNT + m, -1, 1};
        snprintf(name, sizeof name, "revenue_attrib_%s", model_names[m]);
        columns[MODEL_COUNT + m] =
            (struct agg_column){{arena_strdup(arena, name), REPORT_NUMBER}, M_COUNT + MODEL_COUNT + m, -1, 1};
        if (!columns[m].column.name || !columns[MODEL_COUNT + m].column.name) abort();
    }
    *out = agg_table(&g, columns, 2 * MODEL_COUNT, M_VALUE_SUM, q->flat, " - ", q->truncate);
    agg_free(&g);
    return 0;
}
