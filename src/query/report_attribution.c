/* report_attribution: MultiChannelConversionAttribution.getChannelAttribution
 * and .getConversionPaths.
 *
 * Each conversion of the period (idGoal: one goal or ecommerceOrder;
 * absent: every goal and the orders) is credited to the channels of its
 * visitor's visits in the look-back window: the converting visit and the
 * visits that started up to numDaysPriorToConversion days before it (7,
 * 30, 60 or 90; at most the 110 latest). Six models credit the same
 * touchpoints at once, so any two compare side by side. A visit's channel
 * is the one it arrived through (docs/channels.md). Rows are channel
 * types, their subtables channels (engine, website, network, campaign).
 * getConversionPaths counts the same touchpoints' sequences of channel
 * types instead: one row per path, its channels' sequences below. */
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

/* ---- journeys: what both reports start from ---- */

/* The conversions a report looks at and, per converting visitor, the
 * visits that can be touchpoints. Owns its arrays (journeys_close frees
 * them). */
struct journeys {
    struct target target;
    int days;
    /* The touchpoint visits (journeys_gather): (visitor << 32 | row) keys,
     * and each one's start and channel (type and name), read here once in
     * key order rather than from the visit rows by every conversion. */
    uint64_t *keys;
    int64_t *starts;
    uint8_t *types;
    uint32_t *names;
    size_t key_count;
    /* The converting visits of the period and segment, in key order: their
     * positions in keys, conversions and revenue. */
    size_t *at;
    double *conversions, *revenue;
    size_t n;
};

/* The visits of the marked visitors (a bit per visitor ordinal) that
 * started in [from, to), grouped by visitor and in start order within each,
 * into j's keys, starts, types and names. Only converting visitors are marked, so
 * the sort handles their visits, not the site's. */
static void journeys_gather(struct journeys *j, const struct site_index *s, int64_t from,
                            int64_t to, const uint64_t *marked)
{
    size_t n = 0, cap = 1024;
    uint64_t *keys = malloc(cap * sizeof *keys);
    if (!keys) abort();
    for (size_t r = 0; r < s->visit_count; r++) {
        if (s->visit_start[r] < from || s->visit_start[r] >= to) continue;
        uint32_t visitor = s->visits[r].visitor;
        if (!(marked[visitor / 64] >> (visitor % 64) & 1)) continue;
        if (n == cap) {
            cap *= 2;
            keys = realloc(keys, cap * sizeof *keys);
            if (!keys) abort();
        }
        keys[n++] = (uint64_t)visitor << 32 | r;
    }
    index_radix_sort(keys, n, 32);
    /* Rows arrived since the last compaction are not in start order:
     * insertion sort within each visitor (a visitor has few visits). */
    for (size_t i = 1; i < n; i++)
        for (size_t p = i; p > 0 && keys[p - 1] >> 32 == keys[p] >> 32; p--) {
            uint32_t a = (uint32_t)keys[p - 1], b = (uint32_t)keys[p];
            if (s->visit_start[a] < s->visit_start[b] ||
                (s->visit_start[a] == s->visit_start[b] && a < b))
                break;
            uint64_t t = keys[p];
            keys[p] = keys[p - 1];
            keys[p - 1] = t;
        }
    j->keys = keys;
    j->key_count = n;
    j->starts = malloc((n ? n : 1) * sizeof *j->starts);
    j->types = malloc(n ? n : 1);
    j->names = malloc((n ? n : 1) * sizeof *j->names);
    if (!j->starts || !j->types || !j->names) abort();
    for (size_t k = 0; k < n; k++) {
        uint32_t row = (uint32_t)keys[k];
        j->starts[k] = s->visit_start[row];
        j->types[k] = s->visits[row].referrer_type;
        j->names[k] = s->visits[row].text[VT_REFERRER_NAME];
    }
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

/* The rows a touchpoint of channel (type, name) credits: its channel
 * type's and, but for Direct Entry, its channel's below it (entries[1]
 * INDEX_NONE when none). */
static void channel_entries(struct agg *g, struct arena *arena, const struct report_context *ctx,
                            uint8_t type, uint32_t name, uint32_t entries[2])
{
    bool created;
    entries[1] = INDEX_NONE;
    entries[0] = agg_entry(g, type, 0, INDEX_NONE, &created);
    if (created) {
        struct agg_entry *en = &g->entries[entries[0]];
        en->label = report_channel_label(type);
        en->code = referrer_type_name(type);
        en->segment = report_row_segment(arena, "referrerType", en->code);
    }
    if (type != REFERRER_DIRECT) {
        entries[1] = agg_entry(g, type, name, entries[0], &created);
        if (created) {
            const char *label = report_text(ctx, name);
            g->entries[entries[1]].label = *label ? label : "Unknown";
        }
    }
}

/* Credits go to the extras of a touchpoint's rows (channel_entries):
 * conversions of model m at m, revenue at MODEL_COUNT + m; the default
 * model's conversions also to M_VALUE_SUM, which orders the rows. */
static void credit(struct agg *g, const uint32_t entries[2], const double share[MODEL_COUNT],
                   double conversions, double revenue)
{
    for (size_t l = 0; l < 2 && entries[l] != INDEX_NONE; l++) {
        double *x = &g->extras[(size_t)entries[l] * g->extra_count];
        for (int m = 0; m < MODEL_COUNT; m++) {
            x[m] += share[m] * conversions;
            x[MODEL_COUNT + m] += share[m] * revenue;
        }
        g->entries[entries[l]].m[M_VALUE_SUM] += share[LAST_NON_DIRECT] * conversions;
    }
}

/* Parses idGoal and numDaysPriorToConversion and selects the visits:
 * -EINVAL with ctx->err for a parameter it cannot use. */
static int journeys_open(const struct report_query *q, struct report_context *ctx,
                         struct arena *arena, struct journeys *j)
{
    *j = (struct journeys){0};
    int rc = goal_target_parse(ctx, arena, &j->target);
    if (!rc && j->target.kind == TARGET_CARTS) {
        snprintf(ctx->err, ctx->errlen,
                 "idGoal ecommerceAbandonedCart: abandoned carts are not conversions; use a goal "
                 "id or ecommerceOrder, or leave idGoal out for every goal and the orders");
        rc = -EINVAL;
    }
    uint32_t *rows;
    size_t n;
    if (!rc) rc = parse_days(ctx, &j->days);
    if (!rc) rc = report_select_visits(q, ctx, &rows, &n);
    if (rc || !n) return rc;
    /* Mark the converting visits and their visitors. */
    const struct site_index *s = ctx->site;
    uint64_t *marked = calloc(s->visitor_count / 64 + 1, sizeof *marked);
    uint64_t *converting = calloc(s->visit_count / 64 + 1, sizeof *converting);
    if (!marked || !converting) abort();
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        double revenue;
        if (!conversions_of(ctx, &j->target, rows[i], &revenue)) continue;
        uint32_t visitor = s->visits[rows[i]].visitor;
        marked[visitor / 64] |= 1ull << (visitor % 64);
        converting[rows[i] / 64] |= 1ull << (rows[i] % 64);
        count++;
    }
    free(rows);
    /* A touchpoint starts at most the window before a conversion of the
     * period. The conversions are then taken in key order: each knows its
     * place among its visitor's visits without a search, and consecutive
     * ones read neighbouring keys. */
    if (count) journeys_gather(j, s, q->from_ms - (int64_t)j->days * MS_PER_DAY, q->to_ms, marked);
    j->at = malloc((count ? count : 1) * sizeof *j->at);
    j->conversions = malloc((count ? count : 1) * sizeof *j->conversions);
    j->revenue = malloc((count ? count : 1) * sizeof *j->revenue);
    if (!j->at || !j->conversions || !j->revenue) abort();
    for (size_t k = 0; k < j->key_count; k++) {
        uint32_t row = (uint32_t)j->keys[k];
        if (!(converting[row / 64] >> (row % 64) & 1)) continue;
        j->at[j->n] = k;
        j->conversions[j->n] = conversions_of(ctx, &j->target, row, &j->revenue[j->n]);
        j->n++;
    }
    free(marked);
    free(converting);
    return 0;
}

static void journeys_close(struct journeys *j)
{
    free(j->keys);
    free(j->starts);
    free(j->types);
    free(j->names);
    free(j->at);
    free(j->conversions);
    free(j->revenue);
    *j = (struct journeys){0};
}

/* The touchpoints of converting visit i: the visitor's visits from the
 * window's start to this one, the latest MAX_TOUCHPOINTS, oldest first.
 * Returns how many; they are the rows (uint32_t)j->keys[*first + k]. */
static size_t journey_touches(const struct journeys *j, size_t i, size_t *first)
{
    size_t last = j->at[i], f = last;
    uint64_t visitor = j->keys[last] >> 32;
    int64_t from = j->starts[last] - (int64_t)j->days * MS_PER_DAY;
    while (f > 0 && j->keys[f - 1] >> 32 == visitor && j->starts[f - 1] >= from &&
           last - f + 1 < MAX_TOUCHPOINTS)
        f--;
    *first = f;
    return last - f + 1;
}

/* ---- getChannelAttribution ---- */

static int channel_attribution(const struct report_query *q, struct report_context *ctx,
                               struct arena *arena, struct report_table **out)
{
    struct journeys j;
    int rc = journeys_open(q, ctx, arena, &j);
    if (rc) return rc;
    struct agg g;
    agg_init(&g, arena, 0);
    agg_set_extras(&g, 2 * MODEL_COUNT, NULL, NULL);
    /* Each touchpoint's rows, found once: a visit is a touchpoint of every
     * conversion of its visitor in the window after it. */
    uint32_t(*entries)[2] = malloc((j.key_count ? j.key_count : 1) * sizeof *entries);
    if (!entries) abort();
    for (size_t k = 0; k < j.key_count; k++) entries[k][0] = INDEX_NONE;
    for (size_t i = 0; i < j.n; i++) {
        size_t first, touches = journey_touches(&j, i, &first);
        size_t last_non_direct = touches - 1;
        for (size_t k = touches; k-- > 0;)
            if (j.types[first + k] != REFERRER_DIRECT) {
                last_non_direct = k;
                break;
            }
        for (size_t k = 0; k < touches; k++) {
            double share[MODEL_COUNT];
            shares(k, touches, last_non_direct, share);
            uint32_t *e = entries[first + k];
            if (e[0] == INDEX_NONE)
                channel_entries(&g, arena, ctx, j.types[first + k], j.names[first + k], e);
            credit(&g, e, share, j.conversions[i], j.revenue[i]);
        }
    }
    free(entries);
    journeys_close(&j);

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

/* ---- getConversionPaths ---- */

/* Distinct sequences of uint32_t, each numbered once (from 1) so that an
 * agg key names it exactly. Keys are copied into the arena; the slots are
 * the table's own (paths_free). */
struct paths {
    struct path_slot {
        uint64_t hash;
        const uint32_t *key;
        size_t len;
        uint32_t id;
    } *slots;
    size_t cap, used;
};

static uint64_t path_hash(const uint32_t *key, size_t len)
{
    uint64_t h = len;
    for (size_t i = 0; i < len; i++) h = hash_mix64(h ^ key[i]) + i;
    return h;
}

/* The number of key[0 .. len), new (*created) or known. */
static uint32_t paths_id(struct paths *p, struct arena *arena, const uint32_t *key, size_t len,
                         bool *created)
{
    if (2 * (p->used + 1) > p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        struct path_slot *slots = calloc(cap, sizeof *slots);
        if (!slots) abort();
        for (size_t i = 0; i < p->cap; i++)
            if (p->slots[i].id) {
                size_t k = p->slots[i].hash & (cap - 1);
                while (slots[k].id) k = (k + 1) & (cap - 1);
                slots[k] = p->slots[i];
            }
        free(p->slots);
        p->slots = slots;
        p->cap = cap;
    }
    uint64_t h = path_hash(key, len);
    size_t k = h & (p->cap - 1);
    for (; p->slots[k].id; k = (k + 1) & (p->cap - 1)) {
        const struct path_slot *e = &p->slots[k];
        if (e->hash == h && e->len == len && !memcmp(e->key, key, len * sizeof *key)) {
            *created = false;
            return e->id;
        }
    }
    uint32_t *copy = arena_alloc(arena, len * sizeof *copy);
    if (!copy) abort();
    memcpy(copy, key, len * sizeof *copy);
    p->slots[k] = (struct path_slot){h, copy, len, (uint32_t)++p->used};
    *created = true;
    return p->slots[k].id;
}

static void paths_free(struct paths *p)
{
    free(p->slots);
    *p = (struct paths){0};
}

/* A touchpoint's channel, as a subtable's path shows it. */
static const char *channel_name(const struct report_context *ctx, const struct visit_row *v)
{
    if (v->referrer_type == REFERRER_DIRECT) return report_channel_label(REFERRER_DIRECT);
    const char *name = report_text(ctx, v->text[VT_REFERRER_NAME]);
    return *name ? name : "Unknown";
}

/* The label of a path: its touchpoints' channel types (names: the channels)
 * joined by " > ", in the arena. */
static const char *path_label(struct arena *arena, const struct report_context *ctx,
                              const struct journeys *j, size_t first, size_t touches, bool names)
{
    struct buf b;
    buf_init(&b);
    for (size_t k = 0; k < touches; k++) {
        const struct visit_row *v = &ctx->site->visits[(uint32_t)j->keys[first + k]];
        buf_printf(&b, "%s%s", k ? " > " : "",
                   names ? channel_name(ctx, v) : report_channel_label(v->referrer_type));
    }
    const char *label = arena_strndup(arena, b.data ? b.data : "", b.len);
    if (!label) abort();
    buf_free(&b);
    return label;
}

/* Rows: paths of channel types, one per distinct sequence of the
 * touchpoints' types (repeats kept); children: the same touchpoints'
 * channels. nb_conversions in M_VALUE_SUM (it orders the rows), converting
 * visits in M_CONVERTED, revenue in extra 0. */
static int conversion_paths(const struct report_query *q, struct report_context *ctx,
                            struct arena *arena, struct report_table **out)
{
    struct journeys j;
    int rc = journeys_open(q, ctx, arena, &j);
    if (rc) return rc;
    struct agg g;
    agg_init(&g, arena, 0);
    agg_set_extras(&g, 1, NULL, NULL);
    struct paths types = {0}, channels = {0};
    uint32_t key[2 * MAX_TOUCHPOINTS];
    for (size_t i = 0; i < j.n; i++) {
        size_t first, touches = journey_touches(&j, i, &first);
        bool created;
        for (size_t k = 0; k < touches; k++)
            key[k] = j.types[first + k];
        uint32_t entries[2];
        entries[0] = agg_entry(&g, paths_id(&types, arena, key, touches, &created), 0, INDEX_NONE,
                               &created);
        if (created)
            g.entries[entries[0]].label = path_label(arena, ctx, &j, first, touches, false);
        /* A channel is its type and name, as in getChannelAttribution. */
        for (size_t k = 0; k < touches; k++) {
            key[2 * k] = j.types[first + k];
            key[2 * k + 1] = j.types[first + k] == REFERRER_DIRECT ? 0 : j.names[first + k];
        }
        entries[1] = agg_entry(&g, paths_id(&channels, arena, key, 2 * touches, &created), 0,
                               entries[0], &created);
        if (created) g.entries[entries[1]].label = path_label(arena, ctx, &j, first, touches, true);
        for (size_t l = 0; l < 2; l++) {
            struct agg_entry *e = &g.entries[entries[l]];
            e->m[M_VALUE_SUM] += j.conversions[i];
            e->m[M_CONVERTED]++;
            g.extras[entries[l]] += j.revenue[i];
        }
    }
    paths_free(&types);
    paths_free(&channels);
    journeys_close(&j);

    static const struct agg_column columns[] = {
        COL("nb_conversions", REPORT_INT, M_VALUE_SUM),
        COL("revenue", REPORT_NUMBER, M_COUNT),
        COL("nb_visits_converted", REPORT_INT, M_CONVERTED),
    };
    *out = agg_table(&g, columns, COUNT(columns), M_VALUE_SUM, q->flat, " - ", q->truncate);
    agg_free(&g);
    return 0;
}

int attribution_report(const struct report_query *q, struct report_context *ctx,
                       enum attribution_report what, struct arena *arena,
                       struct report_table **out)
{
    return what == ATTR_PATHS ? conversion_paths(q, ctx, arena, out)
                              : channel_attribution(q, ctx, arena, out);
}
