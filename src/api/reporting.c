/* reporting: Matomo's Reporting API (module=API&method=...). Parameters
 * are checked, the caller's access verified, periods resolved in the
 * site's time zone; then the report runs on the index under a shared lock
 * and is written as JSON, CSV or TSV. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "internal.h"

#define REPORTING_MAX_PERIODS 1000
#define REPORTING_MAX_RANGE_DAYS 36600
#define REPORTING_DEFAULT_LIMIT 100

/* ---- parameters ---- */

static const char *param(const struct track_params *p, const char *name)
{
    const char *v = track_params_get(p, name);
    return v && *v ? v : NULL;
}

/* -1 when absent; -2 when malformed. */
static int64_t param_int(const struct track_params *p, const char *name, int64_t min, int64_t max)
{
    const char *v = param(p, name);
    int64_t x;
    if (!v) return -1;
    return parse_i64(v, min, max, &x) ? -2 : x;
}

static bool param_flag(const struct track_params *p, const char *name)
{
    const char *v = param(p, name);
    return v && strcmp(v, "0") != 0 && strcasecmp(v, "false") != 0;
}

/* ---- periods ---- */

enum period_kind { PERIOD_DAY, PERIOD_WEEK, PERIOD_MONTH, PERIOD_YEAR, PERIOD_RANGE };

struct period {
    int64_t first_day, last_day; /* local days, inclusive */
    char label[24];
};

static const char *const period_names[] = {"day", "week", "month", "year", "range"};

static int period_kind_parse(const char *s, enum period_kind *out)
{
    for (int i = 0; i < 5; i++)
        if (s && strcmp(s, period_names[i]) == 0) {
            *out = (enum period_kind)i;
            return 0;
        }
    return -EINVAL;
}

/* The period of kind k containing day. */
static struct period period_of(enum period_kind k, int64_t day)
{
    struct period p = {day, day, ""};
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    char a[11], b[11];
    switch (k) {
    case PERIOD_WEEK: {
        int64_t monday = day - (((day % 7) + 7 + 3) % 7);
        p.first_day = monday;
        p.last_day = monday + 6;
        format_date(p.first_day, a);
        format_date(p.last_day, b);
        snprintf(p.label, sizeof p.label, "%s,%s", a, b);
        return p;
    }
    case PERIOD_MONTH:
        p.first_day = days_from_civil(y, m, 1);
        p.last_day = days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - 1;
        snprintf(p.label, sizeof p.label, "%04d-%02d", y, m);
        return p;
    case PERIOD_YEAR:
        p.first_day = days_from_civil(y, 1, 1);
        p.last_day = days_from_civil(y + 1, 1, 1) - 1;
        snprintf(p.label, sizeof p.label, "%04d", y);
        return p;
    default:
        format_date(day, p.label);
        return p;
    }
}

static int date_word(const char *s, int64_t today, int64_t *day)
{
    if (strcmp(s, "today") == 0 || strcmp(s, "now") == 0) {
        *day = today;
        return 0;
    }
    if (strcmp(s, "yesterday") == 0) {
        *day = today - 1;
        return 0;
    }
    return parse_date(s, day);
}

/* Resolves Matomo's date parameter for period kind k into periods; *multi
 * says whether the answer is keyed by period (lastN, previousN, A,B with
 * a period other than range). */
static int periods_parse(enum period_kind k, const char *date, int64_t today,
                         struct period *out, size_t *count, bool *multi, char *err, size_t errlen)
{
    *multi = false;
    *count = 0;
    if (!date) {
        snprintf(err, errlen, "date is missing: use today, yesterday, YYYY-MM-DD, lastN, previousN "
                              "or YYYY-MM-DD,YYYY-MM-DD");
        return -EINVAL;
    }
    int64_t n = 0, from, to;
    bool last = strncmp(date, "last", 4) == 0, previous = strncmp(date, "previous", 8) == 0;
    if (last || previous) {
        if (parse_i64(date + (last ? 4 : 8), 1, REPORTING_MAX_PERIODS, &n)) goto bad;
        if (k == PERIOD_RANGE) {
            /* lastN days, ending today (last) or yesterday (previous) */
            to = last ? today : today - 1;
            out[0] = (struct period){to - n + 1, to, ""};
        } else {
            struct period end = period_of(k, today);
            if (previous) end = period_of(k, end.first_day - 1);
            *multi = true;
            *count = (size_t)n;
            for (int64_t i = n - 1; i >= 0; i--) {
                out[i] = end;
                end = period_of(k, end.first_day - 1);
            }
            return 0;
        }
    } else if (strchr(date, ',')) {
        char a[16], b[16];
        const char *comma = strchr(date, ',');
        if ((size_t)(comma - date) >= sizeof a || strlen(comma + 1) >= sizeof b) goto bad;
        memcpy(a, date, (size_t)(comma - date));
        a[comma - date] = '\0';
        strcpy(b, comma + 1);
        if (date_word(a, today, &from) || date_word(b, today, &to) || to < from) goto bad;
        if (to - from >= REPORTING_MAX_RANGE_DAYS) goto bad;
        if (k == PERIOD_RANGE) {
            out[0] = (struct period){from, to, ""};
        } else {
            *multi = true;
            for (struct period p = period_of(k, from); p.first_day <= to;
                 p = period_of(k, p.last_day + 1)) {
                if (*count == REPORTING_MAX_PERIODS) goto bad;
                out[(*count)++] = p;
            }
            return 0;
        }
    } else {
        if (date_word(date, today, &from)) goto bad;
        if (k == PERIOD_RANGE) goto bad;
        out[0] = period_of(k, from);
    }
    if (k == PERIOD_RANGE) {
        char a[11], b[11];
        format_date(out[0].first_day, a);
        format_date(out[0].last_day, b);
        snprintf(out[0].label, sizeof out[0].label, "%s,%s", a, b);
    }
    *count = 1;
    return 0;
bad:
    if (k == PERIOD_RANGE)
        snprintf(err, errlen,
                 "date '%.40s' is not valid for period=range: use FROM,TO (each YYYY-MM-DD, today "
                 "or yesterday), lastN or previousN (N days, up to %d)",
                 date, REPORTING_MAX_PERIODS);
    else
        snprintf(err, errlen,
                 "date '%.40s' is not valid for period=%s: use today, yesterday, YYYY-MM-DD, "
                 "lastN, previousN (N up to %d) or FROM,TO",
                 date, period_names[k], REPORTING_MAX_PERIODS);
    return -EINVAL;
}

/* ---- the request ---- */

enum output_format { OUT_JSON, OUT_CSV, OUT_TSV };

struct request {
    const struct track_params *params;
    const char *method;
    struct site site;          /* copied under the api lock: the snapshot may be replaced */
    struct goal *goals;        /* the site's, copied likewise */
    size_t goal_count;
    struct funnel funnel;      /* Funnels reports: the idFunnel's, copied likewise */
    struct tz *tz;
    struct segment *segment;
    enum output_format format;
    enum period_kind period_kind;
    struct period *periods;
    size_t period_count;
    bool multi;
    struct report_query q;     /* site, zone, segment; range set per period */
    /* table filters */
    int64_t limit, offset, truncate, id_subtable;
    const char *sort_column;
    bool sort_ascending, expanded, compare;
    pcre2_code *pattern;
    struct arena arena;
    struct buf out;
    char err[512];
};

static void request_free(struct request *r)
{
    tz_free(r->tz);
    segment_free(r->segment);
    if (r->pattern) pcre2_code_free(r->pattern);
    free(r->periods);
    arena_free(&r->arena);
    buf_free(&r->out);
    free(r->site.name);
    free(r->site.timezone);
    free(r->site.currency);
    goal_array_free(r->goals, r->goal_count);
    funnel_clear(&r->funnel);
}

/* Lock held. */
static bool token_can_view(struct api *api, const char *token, uint32_t site_id)
{
    return access_for(api->users, api->tokens, api->sites, token, site_id) >= ACCESS_VIEW;
}

/* The funnel idFunnel names, for the Funnels reports; api lock held. 0, or
 * 400 with r->err. */
static int request_funnel(struct api *api, struct request *r)
{
    const char *text = param(r->params, "idFunnel");
    int64_t id;
    if (!text || parse_i64(text, 1, UINT32_MAX, &id)) {
        snprintf(r->err, sizeof r->err,
                 "idFunnel: expected the id of one of the site's funnels (Funnels.getFunnels "
                 "lists them)");
        return 400;
    }
    const struct funnel *f = funnels_find(api->funnels, r->site.id, (uint32_t)id);
    if (!f) {
        snprintf(r->err, sizeof r->err,
                 "idFunnel %" PRId64 " is not a funnel of site %u (Funnels.getFunnels lists them)",
                 id, r->site.id);
        return 400;
    }
    funnel_copy(f, &r->funnel);
    return 0;
}

/* Site and access, under the api lock. 0, or an HTTP status with r->err. */
static int request_site(struct api *api, struct request *r)
{
    const char *id_text = param(r->params, "idSite");
    int64_t id;
    if (!id_text || parse_i64(id_text, 1, UINT32_MAX, &id)) {
        snprintf(r->err, sizeof r->err, "idSite: expected a site id (a positive integer)");
        return 400;
    }
    int status = 0;
    pthread_mutex_lock(&api->lock);
    const struct site *site = sites_find(api->sites, (uint32_t)id);
    /* The same answer for a site that does not exist and one the token
     * may not see: a token must not reveal which ids exist. */
    if (!site || !token_can_view(api, param(r->params, "token_auth"), (uint32_t)id)) {
        snprintf(r->err, sizeof r->err,
                 "You can't access this resource: token_auth is missing, wrong, or does not grant "
                 "view access to site %" PRId64 "; create one with `tally token create`",
                 id);
        status = 401;
    } else {
        r->site = (struct site){.id = site->id,
                                .name = strdup(site->name),
                                .timezone = strdup(site->timezone),
                                .currency = strdup(site->currency)};
        if (!r->site.name || !r->site.timezone || !r->site.currency ||
            goals_copy_site(api->goals, site->id, &r->goals, &r->goal_count))
            abort();
        if (strncmp(r->method, "Funnels.", 8) == 0) status = request_funnel(api, r);
    }
    pthread_mutex_unlock(&api->lock);
    return status;
}

static int request_parse(struct api *api, struct request *r)
{
    int status = request_site(api, r);
    if (status) return status;
    if (tz_load(r->site.timezone, &r->tz)) {
        snprintf(r->err, sizeof r->err, "the site's time zone '%s' is not on this machine",
                 r->site.timezone);
        return 500;
    }
    const char *format = param(r->params, "format");
    if (!format || strcasecmp(format, "json") == 0) r->format = OUT_JSON;
    else if (strcasecmp(format, "csv") == 0) r->format = OUT_CSV;
    else if (strcasecmp(format, "tsv") == 0) r->format = OUT_TSV;
    else {
        snprintf(r->err, sizeof r->err, "format '%.20s' is not served: use json, csv or tsv", format);
        return 400;
    }
    const char *segment = track_params_get(r->params, "segment");
    if (segment_parse(segment ? segment : "", &r->segment, r->err, sizeof r->err)) return 400;

    int64_t today = tz_local_day(r->tz, now_ms());
    const char *period = param(r->params, "period");
    if (period_kind_parse(period ? period : "", &r->period_kind)) {
        snprintf(r->err, sizeof r->err, "period '%.20s' is not valid: use day, week, month, year or range",
                 period ? period : "");
        return 400;
    }
    /* One more than the most periods: compare=1 puts the compared one last. */
    r->periods = calloc(REPORTING_MAX_PERIODS + 1, sizeof *r->periods);
    if (!r->periods) abort();
    if (periods_parse(r->period_kind, param(r->params, "date"), today, r->periods,
                      &r->period_count, &r->multi, r->err, sizeof r->err))
        return 400;

    r->limit = param_int(r->params, "filter_limit", -1, INT32_MAX);
    r->offset = param_int(r->params, "filter_offset", 0, INT32_MAX);
    r->truncate = param_int(r->params, "filter_truncate", 0, INT32_MAX);
    r->id_subtable = param_int(r->params, "idSubtable", 1, INT32_MAX);
    if (r->limit == -2 || r->offset == -2 || r->truncate == -2 || r->id_subtable == -2) {
        snprintf(r->err, sizeof r->err,
                 "filter_limit, filter_offset, filter_truncate and idSubtable take whole numbers "
                 "(filter_limit=-1 for every row)");
        return 400;
    }
    if (r->limit == -1 && !param(r->params, "filter_limit")) r->limit = REPORTING_DEFAULT_LIMIT;
    if (r->offset < 0) r->offset = 0;
    r->sort_column = param(r->params, "filter_sort_column");
    const char *order = param(r->params, "filter_sort_order");
    r->sort_ascending = order && strcasecmp(order, "asc") == 0;
    r->expanded = param_flag(r->params, "expanded");
    r->compare = param_flag(r->params, "compare");
    const char *pattern = param(r->params, "filter_pattern");
    if (pattern) {
        int code;
        PCRE2_SIZE at;
        r->pattern = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_CASELESS | PCRE2_UTF, &code, &at, NULL);
        if (!r->pattern) {
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(code, msg, sizeof msg);
            snprintf(r->err, sizeof r->err, "filter_pattern: %s at position %zu", (char *)msg,
                     (size_t)at + 1);
            return 400;
        }
    }
    r->q = (struct report_query){.index = api->index,
                                 .site_id = r->site.id,
                                 .tz = r->tz,
                                 .segment = r->segment,
                                 .names = api->names,
                                 .now_ms = now_ms(),
                                 .flat = param_flag(r->params, "flat"),
                                 .truncate = r->truncate > 0 ? (size_t)r->truncate : 0,
                                 .goals = r->goals,
                                 .goal_count = r->goal_count,
                                 .id_goal = param(r->params, "idGoal"),
                                 .abandoned_carts = param_flag(r->params, "abandonedCarts"),
                                 .goal_columns = param_flag(r->params, "filter_update_columns_when_show_all_goals"),
                                 .lapsed_days = param(r->params, "lapsedDays"),
                                 .attribution_days = param(r->params, "numDaysPriorToConversion"),
                                 .cohort_period = param(r->params, "cohortPeriod"),
                                 .flow = {.data_source = param(r->params, "dataSource"),
                                          .level_of_detail = param(r->params, "levelOfDetail"),
                                          .limit_actions_per_step = param(r->params, "limitActionsPerStep"),
                                          .explore_step = param(r->params, "exploreStep"),
                                          .explore_url = param(r->params, "exploreUrl"),
                                          .interaction_position = param(r->params, "interactionPosition"),
                                          .offset_actions_per_step = param(r->params, "offsetActionsPerStep")},
                                 .funnel = r->funnel.step_count ? &r->funnel : NULL,
                                 .funnel_scope = param(r->params, "funnelScope"),
                                 .funnel_window_days = param(r->params, "funnelWindowDays"),
                                 .funnel_step = param(r->params, "step")};
    return 0;
}

static void set_range(struct request *r, const struct period *p)
{
    r->q.from_ms = tz_day_start_ms(r->tz, p->first_day);
    r->q.to_ms = tz_day_start_ms(r->tz, p->last_day + 1);
}

/* ---- tables: subtables, filters, sorting ---- */

/* Subtable ids: depth-first over the whole report as computed, from 1,
 * before sorting, filtering or paging, so an id stays valid whatever the
 * request that showed it. */
static void number_subtables(struct report_table *t, uint32_t *next)
{
    for (size_t i = 0; i < t->row_count; i++) {
        if (!t->rows[i].subtable) continue;
        t->rows[i].subtable_id = (*next)++;
        number_subtables(t->rows[i].subtable, next);
    }
}

static struct report_table *find_subtable(struct report_table *t, int64_t id)
{
    for (size_t i = 0; i < t->row_count; i++) {
        struct report_table *sub = t->rows[i].subtable;
        if (!sub) continue;
        if (t->rows[i].subtable_id == id) return sub;
        struct report_table *found = find_subtable(sub, id);
        if (found) return found;
    }
    return NULL;
}

static int column_index(const struct report_table *t, const char *name)
{
    for (size_t c = 0; c < t->column_count; c++)
        if (strcmp(t->columns[c].name, name) == 0) return (int)c;
    return -1;
}

struct sort_ctx {
    int column; /* -1: label */
    bool ascending;
};

static int row_order(const void *a, const void *b, void *arg)
{
    const struct sort_ctx *s = arg;
    const struct report_row *x = a, *y = b;
    int c;
    if (s->column < 0) {
        c = strcmp(x->label, y->label);
    } else {
        double vx = x->values[s->column], vy = y->values[s->column];
        if (isnan(vx)) vx = -INFINITY;
        if (isnan(vy)) vy = -INFINITY;
        c = vx < vy ? -1 : vx > vy;
    }
    if (!s->ascending) c = -c;
    return c ? c : strcmp(x->label, y->label);
}

static bool is_others(const struct report_table *t, size_t i)
{
    return i + 1 == t->row_count && strcmp(t->rows[i].label, "Others") == 0 &&
           !t->rows[i].subtable;
}

/* filter_pattern: rows whose label matches, and folders with a match below. */
static void table_match(struct request *r, struct report_table *t, pcre2_match_data *md)
{
    size_t k = 0;
    for (size_t i = 0; i < t->row_count; i++) {
        const char *label = t->rows[i].label;
        bool keep = pcre2_match(r->pattern, (PCRE2_SPTR)label, strlen(label), 0, 0, md, NULL) >= 0;
        if (!keep && t->rows[i].subtable) {
            table_match(r, t->rows[i].subtable, md);
            keep = t->rows[i].subtable->row_count > 0;
        }
        if (keep) t->rows[k++] = t->rows[i];
    }
    t->row_count = k;
}

/* filter_sort_column: the table and every subtable. */
static void table_sort(struct request *r, struct report_table *t)
{
    struct sort_ctx s = {strcmp(r->sort_column, "label") == 0 ? -1 : column_index(t, r->sort_column),
                         r->sort_ascending};
    size_t n = t->row_count;
    if (n && is_others(t, n - 1)) n--; /* "Others" stays last */
    if (s.column >= 0 || strcmp(r->sort_column, "label") == 0)
        qsort_r(t->rows, n, sizeof *t->rows, row_order, &s);
    for (size_t i = 0; i < t->row_count; i++)
        if (t->rows[i].subtable) table_sort(r, t->rows[i].subtable);
}

static void table_filter(struct request *r, struct report_table *t, pcre2_match_data *md)
{
    if (r->pattern) table_match(r, t, md);
    if (r->sort_column) table_sort(r, t);
}

/* ---- output ---- */

/* "3.25%", "3.1%", "50%": two decimals at most, as Matomo prints a rate
 * rounded to four decimals of the quotient. */
static void percent_2dp(struct buf *b, double v)
{
    char text[64];
    snprintf(text, sizeof text, "%.2f", v);
    size_t n = strlen(text);
    while (n && text[n - 1] == '0') n--;
    if (n && text[n - 1] == '.') n--;
    buf_printf(b, "%.*s%%", (int)n, text);
}

static void json_value(struct buf *b, enum report_format f, double v)
{
    if (f == REPORT_PERCENT_2DP) {
        buf_putc(b, '"');
        percent_2dp(b, v);
        buf_putc(b, '"');
        return;
    }
    if (f == REPORT_PERCENT) buf_printf(b, "\"%.0f%%\"", v);
    else if (f == REPORT_INT || v == floor(v)) buf_printf(b, "%.0f", v);
    else buf_printf(b, "%.2f", v);
}

static void json_table(struct request *r, const struct report_table *t, bool top,
                       const struct report_table *compared);

static const char *row_extra(const struct report_row *row, const char *name)
{
    for (size_t e = 0; e < row->extra_count; e++)
        if (strcmp(row->extras[e].name, name) == 0) return row->extras[e].value;
    return "";
}

/* The compared period's row for row: same label and same code (two
 * "Google" rows, organic and paid, are different rows). */
static const struct report_row *row_match(const struct report_table *t, const struct report_row *row)
{
    if (!t) return NULL;
    for (size_t i = 0; i < t->row_count; i++)
        if (strcmp(t->rows[i].label, row->label) == 0 &&
            strcmp(row_extra(&t->rows[i], "code"), row_extra(row, "code")) == 0)
            return &t->rows[i];
    return NULL;
}

static void json_row(struct request *r, const struct report_table *t, const struct report_row *row,
                     const struct report_row *compared)
{
    struct buf *b = &r->out;
    buf_putc(b, '{');
    bool first = true;
    if (!t->single) {
        buf_puts(b, "\"label\":");
        buf_json_string(b, row->label);
        first = false;
    }
    for (size_t c = 0; c < t->column_count; c++) {
        if (isnan(row->values[c])) continue;
        buf_printf(b, "%s\"%s\":", first ? "" : ",", t->columns[c].name);
        json_value(b, t->columns[c].format, row->values[c]);
        first = false;
    }
    for (size_t e = 0; e < row->extra_count; e++) {
        buf_printf(b, "%s\"%s\":", first ? "" : ",", row->extras[e].name);
        buf_json_string(b, row->extras[e].value);
        first = false;
    }
    if (r->compare) {
        /* Matomo's comparison series: the previous period's values. */
        buf_printf(b, "%s\"comparisons\":[{", first ? "" : ",");
        for (size_t c = 0; c < t->column_count; c++) {
            double v = compared ? compared->values[c] : 0;
            if (isnan(v)) continue;
            buf_printf(b, "\"%s\":", t->columns[c].name);
            json_value(b, t->columns[c].format, v);
            buf_putc(b, ',');
        }
        buf_printf(b, "\"compareDate\":\"%s\"}]", r->periods[r->period_count].label);
        first = false;
    }
    if (row->subtable) {
        buf_printf(b, "%s\"idsubdatatable\":%u", first ? "" : ",", row->subtable_id);
        if (r->expanded) {
            buf_puts(b, ",\"subtable\":");
            json_table(r, row->subtable, false, NULL);
        }
    }
    buf_putc(b, '}');
}

static void json_table(struct request *r, const struct report_table *t, bool top,
                       const struct report_table *compared)
{
    struct buf *b = &r->out;
    if (t->single) {
        json_row(r, t, &t->rows[0], compared ? &compared->rows[0] : NULL);
        return;
    }
    size_t from = top ? (size_t)r->offset : 0;
    size_t end = t->row_count;
    if (top && r->limit >= 0 && from + (size_t)r->limit < end) end = from + (size_t)r->limit;
    buf_putc(b, '[');
    for (size_t i = from; i < end; i++) {
        if (i > from) buf_putc(b, ',');
        json_row(r, t, &t->rows[i], row_match(compared, &t->rows[i]));
    }
    buf_putc(b, ']');
}

/* CSV and TSV: a header, then rows. Strings that a spreadsheet would run
 * as a formula (= + - @ at the start) get a leading apostrophe. */
static void sv_string(struct buf *b, const char *s, char sep)
{
    bool formula = *s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r';
    if (sep == '\t') {
        if (formula) buf_putc(b, '\'');
        for (; *s; s++) buf_putc(b, *s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
        return;
    }
    bool quote = formula || strpbrk(s, ",\"\n\r") != NULL;
    if (quote) buf_putc(b, '"');
    if (formula) buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '"') buf_putc(b, '"');
        buf_putc(b, *s);
    }
    if (quote) buf_putc(b, '"');
}

static void sv_value(struct buf *b, enum report_format f, double v)
{
    if (isnan(v)) return;
    if (f == REPORT_PERCENT_2DP) percent_2dp(b, v);
    else if (f == REPORT_PERCENT) buf_printf(b, "%.0f%%", v);
    else if (f == REPORT_INT || v == floor(v)) buf_printf(b, "%.0f", v);
    else buf_printf(b, "%.2f", v);
}

/* The extra columns of a table: every name any row has, in order of
 * first appearance, so rows without one still line up. */
static size_t sv_extra_names(const struct report_table *t, const char **names, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < t->row_count; i++)
        for (size_t e = 0; e < t->rows[i].extra_count; e++) {
            size_t k = 0;
            while (k < n && strcmp(names[k], t->rows[i].extras[e].name) != 0) k++;
            if (k == n && n < max) names[n++] = t->rows[i].extras[e].name;
        }
    return n;
}

static void sv_table(struct request *r, const struct report_table *t, const char *date,
                     bool header)
{
    struct buf *b = &r->out;
    char sep = r->format == OUT_TSV ? '\t' : ',';
    const char *extras[2 * REPORT_MAX_EXTRAS];
    size_t extra_count = sv_extra_names(t, extras, 2 * REPORT_MAX_EXTRAS);
    if (header) {
        bool first = true;
        if (r->multi) {
            buf_puts(b, "date");
            first = false;
        }
        if (!t->single) {
            if (!first) buf_putc(b, sep);
            buf_puts(b, "label");
            first = false;
        }
        for (size_t c = 0; c < t->column_count; c++) {
            if (!first) buf_putc(b, sep);
            buf_puts(b, t->columns[c].name);
            first = false;
        }
        for (size_t e = 0; e < extra_count; e++) buf_printf(b, "%c%s", sep, extras[e]);
        buf_putc(b, '\n');
    }
    size_t from = t->single ? 0 : (size_t)r->offset, end = t->row_count;
    if (!t->single && r->limit >= 0 && from + (size_t)r->limit < end) end = from + (size_t)r->limit;
    for (size_t i = from; i < end; i++) {
        const struct report_row *row = &t->rows[i];
        bool first = true;
        if (r->multi) {
            buf_puts(b, date);
            first = false;
        }
        if (!t->single) {
            if (!first) buf_putc(b, sep);
            sv_string(b, row->label, sep);
            first = false;
        }
        for (size_t c = 0; c < t->column_count; c++) {
            if (!first) buf_putc(b, sep);
            sv_value(b, t->columns[c].format, row->values[c]);
            first = false;
        }
        for (size_t e = 0; e < extra_count; e++) {
            buf_putc(b, sep);
            sv_string(b, row_extra(row, extras[e]), sep);
        }
        buf_putc(b, '\n');
    }
}

/* ---- running reports ---- */

/* The period before p, of the same length (compare=1). */
static struct period previous_period(enum period_kind k, const struct period *p)
{
    if (k == PERIOD_RANGE) {
        int64_t len = p->last_day - p->first_day + 1;
        struct period prev = {p->first_day - len, p->first_day - 1, ""};
        char a[11], b[11];
        format_date(prev.first_day, a);
        format_date(prev.last_day, b);
        snprintf(prev.label, sizeof prev.label, "%s,%s", a, b);
        return prev;
    }
    return period_of(k, p->first_day - 1);
}

static int run_table(struct request *r, const struct period *p, struct report_table **out)
{
    set_range(r, p);
    int rc = report_run(&r->q, r->method, &r->arena, out, r->err, sizeof r->err);
    if (rc) return rc;
    uint32_t next = 1;
    number_subtables(*out, &next);
    if (r->id_subtable > 0) {
        struct report_table *sub = find_subtable(*out, r->id_subtable);
        if (!sub) {
            snprintf(r->err, sizeof r->err, "idSubtable %" PRId64 " does not exist in this report",
                     r->id_subtable);
            return -ENOENT;
        }
        *out = sub;
    }
    return 0;
}

static int run_report(struct api *api, struct request *r)
{
    pcre2_match_data *md = r->pattern ? pcre2_match_data_create_from_pattern(r->pattern, NULL) : NULL;
    int rc = 0;
    if (r->format == OUT_JSON && r->multi) buf_putc(&r->out, '{');
    pthread_rwlock_rdlock(&api->index_lock);
    for (size_t i = 0; i < r->period_count && !rc; i++) {
        struct report_table *t, *compared = NULL;
        rc = run_table(r, &r->periods[i], &t);
        if (!rc && r->compare) {
            /* periods[] has room past the last: the compared period goes there. */
            r->periods[r->period_count] = previous_period(r->period_kind, &r->periods[i]);
            rc = run_table(r, &r->periods[r->period_count], &compared);
        }
        if (rc) break;
        table_filter(r, t, md);
        if (compared) table_filter(r, compared, md);
        if (r->format == OUT_JSON) {
            if (r->multi) {
                if (i) buf_putc(&r->out, ',');
                buf_json_string(&r->out, r->periods[i].label);
                buf_putc(&r->out, ':');
            }
            json_table(r, t, true, compared);
        } else {
            sv_table(r, t, r->periods[i].label, i == 0);
        }
    }
    pthread_rwlock_unlock(&api->index_lock);
    if (r->format == OUT_JSON && r->multi) buf_putc(&r->out, '}');
    if (md) pcre2_match_data_free(md);
    return rc;
}

static uint64_t parse_visitor_id(const char *s, bool *ok)
{
    *ok = false;
    if (!s || strlen(s) != 16) return 0;
    uint64_t id = 0;
    for (int i = 0; i < 16; i++) {
        const char *digits = "0123456789abcdef";
        const char *d = strchr(digits, s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
        if (!s[i] || !d) return 0;
        id = id << 4 | (uint64_t)(d - digits);
    }
    *ok = true;
    return id;
}

static int run_live(struct api *api, struct request *r)
{
    if (r->format != OUT_JSON) {
        snprintf(r->err, sizeof r->err, "%s answers in format=json only", r->method);
        return -EINVAL;
    }
    int rc = 0;
    pthread_rwlock_rdlock(&api->index_lock);
    if (strcmp(r->method, "Live.getCounters") == 0) {
        int64_t minutes = param_int(r->params, "lastMinutes", 1, 60 * 24 * 30);
        if (minutes < 0) {
            snprintf(r->err, sizeof r->err, "lastMinutes: expected a number of minutes (1 to 43200)");
            rc = -EINVAL;
        } else {
            r->q.from_ms = INT64_MIN;
            r->q.to_ms = INT64_MAX;
            rc = report_live_counters(&r->q, r->q.now_ms - minutes * 60000, &r->out);
        }
    } else if (strcmp(r->method, "Live.getLastVisitsDetails") == 0) {
        set_range(r, &r->periods[0]);
        if (r->period_count > 1)
            r->q.to_ms = tz_day_start_ms(r->tz, r->periods[r->period_count - 1].last_day + 1);
        rc = report_live_visits(&r->q, 0, (size_t)r->offset,
                                r->limit < 0 ? SIZE_MAX : (size_t)r->limit, &r->out);
    } else {
        const char *text = param(r->params, "visitorId");
        bool ok = true;
        uint64_t visitor = text ? parse_visitor_id(text, &ok) : 0;
        if (!ok) {
            snprintf(r->err, sizeof r->err, "visitorId: expected 16 hexadecimal digits");
            rc = -EINVAL;
        } else {
            if (!visitor) {
                set_range(r, &r->periods[0]);
                r->q.to_ms = tz_day_start_ms(r->tz, r->periods[r->period_count - 1].last_day + 1);
                visitor = report_latest_visitor(&r->q);
            }
            rc = visitor ? report_visitor_profile(&r->q, visitor, &r->out) : -ENOENT;
            if (rc == -ENOENT) snprintf(r->err, sizeof r->err, "no visit of this visitor is stored");
        }
    }
    pthread_rwlock_unlock(&api->index_lock);
    return rc;
}

/* Transitions.*: one page's JSON object, over one period (Matomo refuses
 * several too). */
static bool is_transitions(const char *method)
{
    return strcmp(method, "Transitions.getTransitionsForPageUrl") == 0 ||
           strcmp(method, "Transitions.getTransitionsForPageTitle") == 0 ||
           strcmp(method, "Transitions.getTransitionsForAction") == 0;
}

static int run_transitions(struct api *api, struct request *r)
{
    if (r->format != OUT_JSON) {
        snprintf(r->err, sizeof r->err, "%s answers in format=json only", r->method);
        return -EINVAL;
    }
    if (r->multi) {
        snprintf(r->err, sizeof r->err,
                 "%s takes one period: a day, week, month, year or period=range, not a list of "
                 "periods (lastN or FROM,TO with period=%s)",
                 r->method, period_names[r->period_kind]);
        return -EINVAL;
    }
    const char *action, *name;
    bool by_title;
    if (strcmp(r->method, "Transitions.getTransitionsForAction") == 0) {
        const char *type = param(r->params, "actionType");
        name = "actionName";
        action = param(r->params, name);
        if (!type || (strcmp(type, "url") != 0 && strcmp(type, "title") != 0)) {
            snprintf(r->err, sizeof r->err, "actionType: expected url or title");
            return -EINVAL;
        }
        by_title = strcmp(type, "title") == 0;
    } else {
        by_title = strcmp(r->method, "Transitions.getTransitionsForPageTitle") == 0;
        name = by_title ? "pageTitle" : "pageUrl";
        action = param(r->params, name);
    }
    if (!action) {
        snprintf(r->err, sizeof r->err, "%s is missing: the page's %s, exactly as tracked", name,
                 by_title ? "title" : "full URL (https://example.org/path)");
        return -EINVAL;
    }
    /* Matomo's default: five rows a list, the rest as "Others"; -1 for every row. */
    int64_t group_after = param_int(r->params, "limitBeforeGrouping", -1, INT32_MAX);
    if (group_after == -2 || group_after == 0) {
        snprintf(r->err, sizeof r->err,
                 "limitBeforeGrouping: expected the rows a list shows before \"Others\" (1 or "
                 "more; -1 for every row)");
        return -EINVAL;
    }
    if (!param(r->params, "limitBeforeGrouping")) group_after = 5;
    set_range(r, &r->periods[0]);
    pthread_rwlock_rdlock(&api->index_lock);
    int rc = report_transitions(&r->q, action, by_title,
                                group_after < 0 ? SIZE_MAX : (size_t)group_after, &r->out);
    pthread_rwlock_unlock(&api->index_lock);
    if (rc) snprintf(r->err, sizeof r->err, "the transitions could not be computed: %s", strerror(-rc));
    return rc;
}

static bool is_live(const char *method)
{
    return strcmp(method, "Live.getCounters") == 0 ||
           strcmp(method, "Live.getLastVisitsDetails") == 0 ||
           strcmp(method, "Live.getVisitorProfile") == 0;
}

static bool is_report(const char *method)
{
    for (size_t i = 0; report_method(i); i++)
        if (strcmp(report_method(i), method) == 0) return true;
    return false;
}

/* ---- metadata ---- */

static void segments_metadata(struct buf *b)
{
    buf_putc(b, '[');
    for (size_t i = 0; i < SEGMENT_DIM_COUNT; i++) {
        const struct segment_dimension_info *d = &segment_dimension_infos[i];
        if (i) buf_putc(b, ',');
        buf_puts(b, "{\"type\":\"dimension\",\"category\":");
        buf_json_string(b, d->category);
        buf_puts(b, ",\"name\":");
        buf_json_string(b, d->label);
        buf_puts(b, ",\"segment\":");
        buf_json_string(b, i == SEGMENT_DIM_DIMENSION ? "dimension1" : d->name);
        buf_printf(b, ",\"sqlSegment\":null,\"acceptedValues\":\"\",\"scope\":\"%s\",\"valueType\":\"%s\"}",
                   d->scope == SEGMENT_SCOPE_VISIT ? "visit" : "action",
                   d->type == SEGMENT_TYPE_NUMBER ? "number" : "text");
    }
    buf_putc(b, ']');
}

/* Every report with its metrics, as Matomo's API.getReportMetadata. The
 * columns come from running each report on an empty range. */
static void reports_metadata(struct api *api, struct request *r)
{
    struct buf *b = &r->out;
    r->q.from_ms = r->q.to_ms = 0;
    buf_putc(b, '[');
    pthread_rwlock_rdlock(&api->index_lock);
    for (size_t i = 0; report_method(i); i++) {
        const char *method = report_method(i);
        struct report_table *t;
        if (report_run(&r->q, method, &r->arena, &t, r->err, sizeof r->err)) continue;
        const char *dot = strchr(method, '.');
        if (i) buf_putc(b, ',');
        buf_printf(b, "{\"module\":\"%.*s\",\"action\":\"%s\",\"category\":\"%.*s\",\"name\":\"%s\",\"metrics\":{",
                   (int)(dot - method), method, dot + 1, (int)(dot - method), method, method);
        for (size_t c = 0; c < t->column_count; c++)
            buf_printf(b, "%s\"%s\":\"%s\"", c ? "," : "", t->columns[c].name, t->columns[c].name);
        buf_printf(b, "},\"isSubtableReport\":false,\"single\":%s}", t->single ? "true" : "false");
    }
    pthread_rwlock_unlock(&api->index_lock);
    buf_putc(b, ']');
}

/* ---- entry ---- */

static void answer(struct api_response *resp, struct request *r)
{
    resp->status = 200;
    resp->content_type = r->format == OUT_CSV   ? "text/csv; charset=utf-8"
                         : r->format == OUT_TSV ? "text/tab-separated-values; charset=utf-8"
                                                : "application/json";
    buf_reset(&resp->body);
    buf_append(&resp->body, r->out.data ? r->out.data : "", r->out.len);
}

void reporting_handle(struct api *api, const struct track_params *params, const char *method,
                      struct api_response *resp)
{
    struct request r = {.params = params, .method = method};
    arena_init(&r.arena, 256u << 20);
    buf_init(&r.out);
    bool metadata = strcmp(method, "API.getSegmentsMetadata") == 0 ||
                    strcmp(method, "API.getReportMetadata") == 0;
    if (!metadata && !is_live(method) && !is_report(method) && !is_transitions(method)) {
        char msg[300];
        snprintf(msg, sizeof msg,
                 "The method '%.100s' does not exist; see docs/api.md for the methods Tally serves",
                 method);
        answer_api_error(resp, 400, msg);
        request_free(&r);
        return;
    }
    if (strcmp(method, "API.getSegmentsMetadata") == 0) {
        segments_metadata(&r.out);
        answer(resp, &r);
        request_free(&r);
        return;
    }
    /* Live methods and metadata work without a period: everything. */
    struct track_params with_defaults;
    bool no_period = !param(params, "period") && !param(params, "date");
    if (no_period && (is_live(method) || strcmp(method, "API.getReportMetadata") == 0)) {
        track_params_init(&with_defaults, &r.arena);
        track_params_add(&with_defaults, "period", "range");
        track_params_add(&with_defaults, "date", "1970-01-02,today");
        for (size_t i = 0; i < params->count; i++)
            track_params_add(&with_defaults, params->items[i].name,
                             params->items[i].value ? params->items[i].value : "");
        r.params = &with_defaults;
    }
    int status = request_parse(api, &r);
    if (status) {
        answer_api_error(resp, status, r.err);
        request_free(&r);
        return;
    }
    int rc = 0;
    if (strcmp(method, "API.getReportMetadata") == 0) {
        if (r.format == OUT_JSON) reports_metadata(api, &r);
        else rc = -EINVAL;
        snprintf(r.err, sizeof r.err, "API.getReportMetadata answers in format=json only");
    } else {
        rc = is_live(method)          ? run_live(api, &r)
             : is_transitions(method) ? run_transitions(api, &r)
                                      : run_report(api, &r);
    }
    if (rc) answer_api_error(resp, rc == -ENOENT ? 400 : rc == -ENOMEM ? 503 : 400, r.err);
    else answer(resp, &r);
    request_free(&r);
}
