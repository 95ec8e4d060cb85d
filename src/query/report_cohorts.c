/* report_cohorts: Cohorts.get, Tally's retention triangle.
 *
 * A visitor's cohort is the period (cohortPeriod: day, week from Monday,
 * or month, in the site's zone) of their first visit in the index, every
 * visit counted whatever the segment. The report has one row per cohort
 * period that overlaps the requested range, oldest first; a cohort holds
 * the visitors whose first visit started inside the range (a week cut by
 * the range's start keeps only the visitors who came first within it).
 *
 * Offset k of a cohort is the k-th period after the cohort's own: k = 0
 * is the cohort period itself. Offsets go on past the range, up to the
 * period the query's now_ms falls in (the one running now is counted as
 * far as it went), and at most COHORT_MAX_OFFSETS of them. The segment
 * selects the visits that count for offsets: visitors_k is the cohort's
 * visitors with a visit kept by the segment in period k; nb_visitors, the
 * cohort's size, does not depend on it.
 *
 * Cost: two passes over the site's visit rows (first visits, then the
 * visits of the cohorts), and 16 bytes per visitor of the site. */
#include "report_cohorts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum cohort_unit { CU_DAY, CU_WEEK, CU_MONTH };

static const char *const unit_names[] = {"day", "week", "month"};

/* Per offset k: the cell columns, in order, "visitors_k" and so on. */
static const struct {
    const char *name;
    enum report_format format;
} cell_columns[] = {
    {"visitors", REPORT_INT},  {"retention", REPORT_PERCENT_2DP}, {"converted", REPORT_INT},
    {"orders", REPORT_INT},    {"revenue", REPORT_NUMBER},
};
enum { CELLS = sizeof cell_columns / sizeof *cell_columns };

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* A local day's period number: days count from 1970-01-01 (a Thursday),
 * weeks from Monday 1969-12-29, months from January of year 0. */
static int64_t period_of_day(enum cohort_unit u, int64_t day)
{
    int y, m, d;
    switch (u) {
    case CU_DAY: return day;
    case CU_WEEK: return floor_div(day + 3, 7);
    case CU_MONTH: break;
    }
    civil_from_days(day, &y, &m, &d);
    return (int64_t)y * 12 + (m - 1);
}

static int64_t period_first_day(enum cohort_unit u, int64_t period)
{
    switch (u) {
    case CU_DAY: return period;
    case CU_WEEK: return period * 7 - 3;
    case CU_MONTH: break;
    }
    int64_t year = floor_div(period, 12);
    return days_from_civil((int)year, (int)(period - year * 12) + 1, 1);
}

static int64_t period_of_ms(const struct report_context *ctx, enum cohort_unit u, int64_t utc_ms)
{
    return period_of_day(u, tz_local_day(ctx->tz, utc_ms));
}

static int parse_unit(struct report_context *ctx, const char *text, enum cohort_unit *u)
{
    *u = CU_MONTH;
    if (!text || !*text) return 0;
    for (size_t i = 0; i < COUNT(unit_names); i++) {
        if (strcmp(text, unit_names[i]) == 0) {
            *u = (enum cohort_unit)i;
            return 0;
        }
    }
    snprintf(ctx->err, ctx->errlen,
             "cohortPeriod '%.40s' is not valid: use day, week or month (the default)", text);
    return -EINVAL;
}

/* An arena label: the first day of period p. */
static const char *period_label(struct arena *arena, enum cohort_unit u, int64_t p)
{
    char text[11];
    format_date(period_first_day(u, p), text);
    return arena_strdup(arena, text);
}

/* The table's columns: nb_visitors, then the cells of each offset. */
static struct report_column *make_columns(struct arena *arena, size_t offsets)
{
    struct report_column *c = arena_alloc(arena, (1 + CELLS * offsets) * sizeof *c);
    if (!c) return NULL;
    c[0] = (struct report_column){"nb_visitors", REPORT_INT};
    for (size_t k = 0; k < offsets; k++) {
        for (size_t i = 0; i < CELLS; i++) {
            char name[32];
            snprintf(name, sizeof name, "%s_%zu", cell_columns[i].name, k);
            const char *s = arena_strdup(arena, name);
            if (!s) return NULL;
            c[1 + CELLS * k + i] = (struct report_column){s, cell_columns[i].format};
        }
    }
    return c;
}

/* Counts of one cohort, per offset. */
struct cohort {
    double size;
    double visitors[COHORT_MAX_OFFSETS], converted[COHORT_MAX_OFFSETS];
    double orders[COHORT_MAX_OFFSETS], revenue[COHORT_MAX_OFFSETS];
};

static double percent(double part, double whole)
{
    return whole ? part / whole * 100 : 0;
}

/* Cohort c's row (period p, offsets [0, n) of the table's `offsets`),
 * with a subtable of one row per offset of its own. */
static int make_row(struct arena *arena, enum cohort_unit u, int64_t p, const struct cohort *c,
                    size_t n, size_t offsets, const struct report_column *sub_columns,
                    struct report_row *row)
{
    double *values = arena_alloc(arena, (1 + CELLS * offsets) * sizeof *values);
    struct report_table *sub = arena_alloc(arena, sizeof *sub);
    struct report_row *sub_rows = arena_alloc(arena, (n ? n : 1) * sizeof *sub_rows);
    double *sub_values = arena_alloc(arena, (n ? n : 1) * CELLS * sizeof *sub_values);
    const char *label = period_label(arena, u, p);
    if (!values || !sub || !sub_rows || !sub_values || !label) return -ENOMEM;
    values[0] = c->size;
    for (size_t k = 0; k < offsets; k++) {
        double *cell = &values[1 + CELLS * k];
        if (k >= n) {
            /* Past the last period that has started: no cell. */
            for (size_t i = 0; i < CELLS; i++) cell[i] = NAN;
            continue;
        }
        cell[0] = c->visitors[k];
        cell[1] = percent(c->visitors[k], c->size);
        cell[2] = c->converted[k];
        cell[3] = c->orders[k];
        cell[4] = c->revenue[k];
        double *sv = &sub_values[CELLS * k];
        memcpy(sv, cell, CELLS * sizeof *sv);
        char offset[24];
        snprintf(offset, sizeof offset, "%zu", k);
        const char *sub_label = arena_strdup(arena, offset);
        const char *date = period_label(arena, u, p + (int64_t)k);
        if (!sub_label || !date) return -ENOMEM;
        sub_rows[k] = (struct report_row){.label = sub_label, .values = sv, .extra_count = 1};
        sub_rows[k].extras[0] = (struct report_extra){"date", date};
    }
    *sub = (struct report_table){.columns = sub_columns, .column_count = CELLS, .rows = sub_rows,
                                 .row_count = n};
    *row = (struct report_row){.label = label, .values = values, .subtable = sub};
    return 0;
}

/* Periods c0 .. c0 + n - 1 as instants: bounds[i] is the UTC start of
 * period c0 + i, bounds[n] the end of the last. A visit's period is found
 * among them instead of converting each start to a local date. */
struct periods {
    int64_t *bounds;
    size_t n;
    size_t hint; /* the last answer: rows come mostly in start order */
};

static int periods_init(struct periods *p, const struct report_context *ctx, enum cohort_unit u,
                        int64_t c0, size_t n)
{
    p->n = n;
    p->hint = 0;
    p->bounds = malloc((n + 1) * sizeof *p->bounds);
    if (!p->bounds) return -ENOMEM;
    for (size_t i = 0; i <= n; i++)
        p->bounds[i] = tz_day_start_ms(ctx->tz, period_first_day(u, c0 + (int64_t)i));
    return 0;
}

/* The i with bounds[i] <= utc_ms < bounds[i + 1], or -1 outside them all. */
static int64_t periods_find(struct periods *p, int64_t utc_ms)
{
    if (utc_ms < p->bounds[0] || utc_ms >= p->bounds[p->n]) return -1;
    if (utc_ms >= p->bounds[p->hint] && utc_ms < p->bounds[p->hint + 1]) return (int64_t)p->hint;
    size_t lo = 0, hi = p->n; /* bounds[lo] <= utc_ms < bounds[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->bounds[mid] <= utc_ms) lo = mid;
        else hi = mid;
    }
    p->hint = lo;
    return (int64_t)lo;
}

/* The visits' side: each visitor's first visit start, then per cohort
 * visitor the offsets with a visit the segment keeps (bit k), and the
 * offsets with a conversion. Fills cohorts[0 .. c1-c0]. */
static int count_visits(const struct report_query *q, struct report_context *ctx,
                        enum cohort_unit u, int64_t c0, int64_t c1, int64_t last,
                        struct cohort *cohorts)
{
    const struct site_index *s = ctx->site;
    size_t nv = s->visitor_count;
    int64_t *first = malloc((nv ? nv : 1) * sizeof *first);
    int32_t *cohort_of = malloc((nv ? nv : 1) * sizeof *cohort_of);
    uint64_t *visited = calloc(nv ? nv : 1, sizeof *visited);
    uint64_t *converted = calloc(nv ? nv : 1, sizeof *converted);
    struct segment_plan *plan = NULL;
    /* From the first cohort to the period of now or the last cohort's last
     * offset, whichever comes first. */
    struct periods periods = {0};
    int64_t end = c1 + COHORT_MAX_OFFSETS - 1 < last ? c1 + COHORT_MAX_OFFSETS - 1 : last;
    int rc = !first || !cohort_of || !visited || !converted ? -ENOMEM
                                                             : segment_plan_create(ctx, &plan);
    if (!rc) rc = periods_init(&periods, ctx, u, c0, (size_t)(end - c0 + 1));
    if (rc) goto done;
    /* Rows after compacted_visits arrived later and in any order: the
     * minimum over every row is the first visit, whatever the order. */
    for (size_t i = 0; i < nv; i++) first[i] = INT64_MAX;
    for (size_t r = 0; r < s->visit_count; r++) {
        uint32_t v = s->visits[r].visitor;
        if (v < nv && s->visit_start[r] < first[v]) first[v] = s->visit_start[r];
    }
    for (size_t i = 0; i < nv; i++) {
        cohort_of[i] = -1;
        if (first[i] < q->from_ms || first[i] >= q->to_ms) continue;
        int64_t c = periods_find(&periods, first[i]);
        if (c < 0 || c > c1 - c0) continue; /* a first visit after now_ms's period */
        cohort_of[i] = (int32_t)c;
        cohorts[c].size++;
    }
    for (size_t r = 0; r < s->visit_count; r++) {
        /* Periods before the first cohort hold no cohort visitor's visit. */
        int64_t p = periods_find(&periods, s->visit_start[r]);
        if (p < 0) continue;
        const struct visit_row *v = &s->visits[r];
        if (v->visitor >= nv || cohort_of[v->visitor] < 0) continue;
        int64_t k = p - cohort_of[v->visitor];
        if (k < 0 || k >= COHORT_MAX_OFFSETS) continue;
        if (!segment_plan_matches(plan, s, (uint32_t)r)) continue;
        uint64_t bit = 1ULL << k;
        visited[v->visitor] |= bit;
        if (v->conversion_count) converted[v->visitor] |= bit;
        struct cohort *co = &cohorts[cohort_of[v->visitor]];
        co->orders[k] += v->orders;
        co->revenue[k] += v->order_revenue;
    }
    for (size_t i = 0; i < nv; i++) {
        if (cohort_of[i] < 0) continue;
        struct cohort *co = &cohorts[cohort_of[i]];
        for (uint64_t b = visited[i]; b; b &= b - 1) co->visitors[__builtin_ctzll(b)]++;
        for (uint64_t b = converted[i]; b; b &= b - 1) co->converted[__builtin_ctzll(b)]++;
    }
done:
    free(periods.bounds);
    segment_plan_free(plan);
    free(first);
    free(cohort_of);
    free(visited);
    free(converted);
    return rc;
}

int cohort_report(const struct report_query *q, struct report_context *ctx, struct arena *arena,
                  struct report_table **out)
{
    enum cohort_unit u;
    int rc = parse_unit(ctx, q->cohort_period, &u);
    if (rc) return rc;
    struct report_table *t = arena_alloc(arena, sizeof *t);
    struct report_column *sub_columns = arena_alloc(arena, CELLS * sizeof *sub_columns);
    if (!t || !sub_columns) return -ENOMEM;
    for (size_t i = 0; i < CELLS; i++)
        sub_columns[i] = (struct report_column){cell_columns[i].name, cell_columns[i].format};
    *t = (struct report_table){0};
    *out = t;
    const struct site_index *s = ctx->site;

    /* The cohorts: the periods from the range's start, or the site's first
     * visit when later, to the range's end or now_ms, whichever is first. */
    int64_t earliest = INT64_MAX, latest = INT64_MIN;
    for (size_t r = 0; s && r < s->visit_count; r++) {
        if (s->visit_start[r] < earliest) earliest = s->visit_start[r];
        if (s->visit_start[r] > latest) latest = s->visit_start[r];
    }
    int64_t from = q->from_ms > earliest ? q->from_ms : earliest;
    int64_t to = q->to_ms;
    /* Without a clock (now_ms 0), the latest visit is "now". */
    int64_t now = q->now_ms > 0 ? q->now_ms : latest;
    if (!s || !s->visit_count || from >= to || from > now) {
        t->columns = make_columns(arena, 0);
        t->column_count = 1;
        return t->columns ? 0 : -ENOMEM;
    }
    int64_t last = period_of_ms(ctx, u, now);
    int64_t c0 = period_of_ms(ctx, u, from);
    int64_t c1 = period_of_ms(ctx, u, to - 1);
    if (c1 > last) c1 = last;
    size_t ncoh = (size_t)(c1 - c0 + 1);
    size_t offsets = (size_t)(last - c0 + 1);
    if (offsets > COHORT_MAX_OFFSETS) offsets = COHORT_MAX_OFFSETS;

    struct cohort *cohorts = calloc(ncoh, sizeof *cohorts);
    if (!cohorts) return -ENOMEM;
    rc = count_visits(q, ctx, u, c0, c1, last, cohorts);
    struct report_column *columns = rc ? NULL : make_columns(arena, offsets);
    struct report_row *rows = rc ? NULL : arena_alloc(arena, ncoh * sizeof *rows);
    if (!rc && (!columns || !rows)) rc = -ENOMEM;
    for (size_t i = 0; !rc && i < ncoh; i++) {
        int64_t p = c0 + (int64_t)i;
        size_t n = (size_t)(last - p + 1);
        if (n > offsets) n = offsets;
        rc = make_row(arena, u, p, &cohorts[i], n, offsets, sub_columns, &rows[i]);
    }
    free(cohorts);
    if (rc) return rc;
    *t = (struct report_table){.columns = columns, .column_count = 1 + CELLS * offsets,
                               .rows = rows, .row_count = ncoh};
    return 0;
}
