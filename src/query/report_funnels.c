/* report_funnels: Funnels.getFunnelFlow, .getMetrics, .getFunnelEntries
 * and .getFunnelExits of one funnel definition, at query time.
 *
 * A journey is a visit (funnelScope=visit, the default: Matomo's
 * definition) or a visitor's visits from the one where they entered the
 * funnel until funnelWindowDays later (funnelScope=visitor). Its actions
 * are walked in time order (ties in arrival order), and each action moves
 * the journey on by the steps it matches among those it may reach next:
 * from the step reached last (none before entering), the following steps
 * up to and including the first required one. So a journey enters at any
 * step that no required step precedes; a required step cannot be skipped
 * (steps after it count only once it was reached); an optional one can;
 * a step counts once per journey, at its first action after the steps
 * before it (repeats and loops back to earlier steps change nothing); one
 * action matching several reachable steps reaches them all at once.
 *
 * Step conditions are decided once per distinct string (a memo per
 * attribute, as conversions.c does for goals); a goal step is reached by
 * an action that converts the goal: a tracked conversion of it (idgoal=N)
 * or an action its pattern matches. docs/funnels.md has the definitions. */
#include "report_funnels.h"

#include <errno.h>
#include <math.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"

/* As conversions.c: a pathological regex on a long URL fails that one
 * match instead of stalling the report. */
#define FUNNEL_MATCH_LIMIT 100000
#define FUNNEL_DEPTH_LIMIT 10000

#define GOAL_BIT (1u << FUNNEL_STEPS_MAX) /* the funnel's own goal converted */
#define MEMO_KNOWN (1u << 31)
#define WINDOW_DAYS_DEFAULT 30
#define WINDOW_DAYS_MAX 90

/* ---- which steps an action matches ---- */

enum source {
    SRC_URL, /* a pageview's URL: url and path steps, url goals */
    SRC_TITLE,
    SRC_EVENT_CATEGORY,
    SRC_EVENT_ACTION,
    SRC_EVENT_NAME,
    SRC_SEARCH,
    SRC_OUTLINK,
    SRC_DOWNLOAD,
    SRC_COUNT
};

struct condition {
    pcre2_code *code;
    bool on_path; /* matched against the URL's path */
    uint32_t bit; /* 1 << step, or GOAL_BIT */
};

struct source_plan {
    struct condition conditions[FUNNEL_STEPS_MAX + 1];
    size_t count;
    uint32_t *memo; /* string id -> MEMO_KNOWN | the bits it matches; 0 unknown */
};

struct matcher {
    const struct dict *dict;
    struct source_plan sources[SRC_COUNT];
    struct {
        uint32_t goal_id, bits;
    } tracked[FUNNEL_STEPS_MAX + 1]; /* conversions tracked with idgoal=N */
    size_t tracked_count;
    pcre2_match_data *match;
    pcre2_match_context *limits;
};

static const enum source goal_sources[] = {
    [GOAL_MATCH_URL] = SRC_URL,
    [GOAL_MATCH_TITLE] = SRC_TITLE,
    [GOAL_MATCH_EVENT_CATEGORY] = SRC_EVENT_CATEGORY,
    [GOAL_MATCH_EVENT_ACTION] = SRC_EVENT_ACTION,
    [GOAL_MATCH_EVENT_NAME] = SRC_EVENT_NAME,
    [GOAL_MATCH_OUTLINK] = SRC_OUTLINK,
    [GOAL_MATCH_DOWNLOAD] = SRC_DOWNLOAD,
};

static const enum source step_sources[] = {
    [FUNNEL_MATCH_URL] = SRC_URL,
    [FUNNEL_MATCH_PATH] = SRC_URL,
    [FUNNEL_MATCH_TITLE] = SRC_TITLE,
    [FUNNEL_MATCH_EVENT_CATEGORY] = SRC_EVENT_CATEGORY,
    [FUNNEL_MATCH_EVENT_ACTION] = SRC_EVENT_ACTION,
    [FUNNEL_MATCH_EVENT_NAME] = SRC_EVENT_NAME,
    [FUNNEL_MATCH_SITE_SEARCH] = SRC_SEARCH,
};

static void add_condition(struct matcher *m, enum source src, bool on_path,
                          enum goal_pattern type, const char *pattern, bool case_sensitive,
                          uint32_t bit)
{
    pcre2_code *code;
    char err[512];
    /* Definitions were validated when saved; one that no longer compiles
     * (a hand-edited file) never matches. */
    if (pattern_compile(type, pattern, case_sensitive, &code, err, sizeof err) || !code) return;
    struct source_plan *p = &m->sources[src];
    p->conditions[p->count++] = (struct condition){code, on_path, bit};
}

/* A goal's conversions reach bit. A goal deleted since never does. */
static void add_goal(struct matcher *m, const struct report_query *q, uint32_t goal_id,
                     uint32_t bit)
{
    const struct goal *g = NULL;
    for (size_t i = 0; i < q->goal_count && !g; i++)
        if (q->goals[i].id == goal_id) g = &q->goals[i];
    if (!g) return;
    size_t t = 0;
    while (t < m->tracked_count && m->tracked[t].goal_id != goal_id) t++;
    if (t == m->tracked_count) m->tracked[m->tracked_count++].goal_id = goal_id;
    m->tracked[t].bits |= bit;
    if (g->match != GOAL_MATCH_MANUAL)
        add_condition(m, goal_sources[g->match], false, g->pattern_type, g->pattern,
                      g->case_sensitive, bit);
}

static void matcher_free(struct matcher *m)
{
    for (size_t s = 0; s < SRC_COUNT; s++) {
        for (size_t c = 0; c < m->sources[s].count; c++)
            pcre2_code_free(m->sources[s].conditions[c].code);
        free(m->sources[s].memo);
    }
    pcre2_match_data_free(m->match);
    pcre2_match_context_free(m->limits);
}

static int matcher_init(struct matcher *m, const struct report_query *q)
{
    const struct funnel *f = q->funnel;
    *m = (struct matcher){.dict = &q->index->dict};
    m->match = pcre2_match_data_create(1, NULL);
    m->limits = pcre2_match_context_create(NULL);
    if (!m->match || !m->limits) return -ENOMEM;
    pcre2_set_match_limit(m->limits, FUNNEL_MATCH_LIMIT);
    pcre2_set_depth_limit(m->limits, FUNNEL_DEPTH_LIMIT);
    for (size_t k = 0; k < f->step_count; k++) {
        const struct funnel_step *st = &f->steps[k];
        if (st->match == FUNNEL_MATCH_GOAL) {
            int64_t id;
            if (!parse_i64(st->pattern, 1, UINT32_MAX, &id)) add_goal(m, q, (uint32_t)id, 1u << k);
        } else {
            add_condition(m, step_sources[st->match], st->match == FUNNEL_MATCH_PATH,
                          st->pattern_type, st->pattern, st->case_sensitive, 1u << k);
        }
    }
    if (f->goal_id) add_goal(m, q, f->goal_id, GOAL_BIT);
    /* The dictionary does not grow under the read lock: every id is below count. */
    for (size_t s = 0; s < SRC_COUNT; s++) {
        if (!m->sources[s].count) continue;
        m->sources[s].memo = calloc(m->dict->count ? m->dict->count : 1, sizeof(uint32_t));
        if (!m->sources[s].memo) return -ENOMEM;
    }
    return 0;
}

/* The path of a URL: from the '/' after the host, without query or fragment. */
static const char *url_path(const char *url, size_t *len)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    p += strcspn(p, "/?#");
    if (*p != '/') {
        *len = 1;
        return "/";
    }
    *len = strcspn(p, "?#");
    return p;
}

static uint32_t string_bits(struct matcher *m, enum source src, uint32_t id)
{
    struct source_plan *p = &m->sources[src];
    if (!p->count) return 0;
    uint32_t known = p->memo[id];
    if (known) return known & ~MEMO_KNOWN;
    const char *s = dict_str(m->dict, id);
    size_t len = strlen(s), path_len = 0;
    const char *path = NULL;
    uint32_t bits = 0;
    for (size_t i = 0; i < p->count; i++) {
        const struct condition *c = &p->conditions[i];
        if (bits & c->bit) continue;
        if (c->on_path && !path) path = url_path(s, &path_len);
        if (pcre2_match(c->code, (PCRE2_SPTR)(c->on_path ? path : s), c->on_path ? path_len : len,
                        0, 0, m->match, m->limits) >= 0)
            bits |= c->bit;
    }
    p->memo[id] = bits | MEMO_KNOWN;
    return bits;
}

static uint32_t action_bits(struct matcher *m, const struct action_row *a)
{
    switch (a->kind) {
    case HIT_PAGEVIEW: return string_bits(m, SRC_URL, a->a) | string_bits(m, SRC_TITLE, a->b);
    case HIT_EVENT:
        return string_bits(m, SRC_EVENT_CATEGORY, a->a) | string_bits(m, SRC_EVENT_ACTION, a->b) |
               string_bits(m, SRC_EVENT_NAME, a->c);
    case HIT_SITE_SEARCH: return string_bits(m, SRC_SEARCH, a->a);
    case HIT_OUTLINK: return string_bits(m, SRC_OUTLINK, a->a);
    case HIT_DOWNLOAD: return string_bits(m, SRC_DOWNLOAD, a->a);
    case HIT_GOAL:
        for (size_t t = 0; t < m->tracked_count; t++)
            if ((int64_t)m->tracked[t].goal_id == a->goal_id) return m->tracked[t].bits;
        return 0;
    default: return 0;
    }
}

/* ---- journeys ---- */

/* One action of a journey, in the order it is walked. */
struct item {
    int64_t t;
    uint32_t action, row, bits, seq;
};

struct walk {
    struct item *items;
    size_t count, cap;
};

static struct item *walk_push(struct walk *w)
{
    if (w->count == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 256;
        w->items = realloc(w->items, w->cap * sizeof *w->items);
        if (!w->items) abort();
    }
    return &w->items[w->count++];
}

/* Appends visit row's actions that match a step or the funnel's goal
 * (keep_all: every action, for where journeys came from and went);
 * returns the bits they match together. */
static uint32_t walk_visit(struct walk *w, struct matcher *m, const struct site_index *s,
                           uint32_t row, bool keep_all)
{
    uint32_t any = 0;
    const struct visit_row *v = &s->visits[row];
    for (uint32_t i = v->first_action; i != INDEX_NONE; i = s->actions[i].next) {
        const struct action_row *a = &s->actions[i];
        uint32_t bits = action_bits(m, a);
        if (!bits && !keep_all) continue;
        uint32_t seq = (uint32_t)w->count;
        *walk_push(w) = (struct item){a->time_ms, i, row, bits, seq};
        any |= bits;
    }
    return any;
}

static int by_time(const void *x, const void *y)
{
    const struct item *a = x, *b = y;
    if (a->t != b->t) return a->t < b->t ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Time order, ties in the order gathered (arrival within a visit). */
static void walk_sort(struct walk *w)
{
    for (size_t i = 1; i < w->count; i++) {
        if (w->items[i].t < w->items[i - 1].t) {
            qsort(w->items, w->count, sizeof *w->items, by_time);
            return;
        }
    }
}

struct journey {
    int entry, last;          /* steps; -1 before entering */
    uint32_t reached;         /* bit k: step k reached */
    bool converted;           /* the funnel's goal, at or after the entry */
    int64_t at[FUNNEL_STEPS_MAX];   /* when each step was reached */
    uint32_t item[FUNNEL_STEPS_MAX]; /* by which item of the walk */
};

struct funnel_plan {
    size_t steps;
    /* reachable[last + 1]: the steps a journey whose furthest step is
     * last may reach next (last = -1: where it may enter) */
    uint32_t reachable[FUNNEL_STEPS_MAX + 1];
    bool has_goal;            /* tied to a goal: conversions are its conversions */
    bool keep_all;            /* every action is walked (entries, exits), not only matches */
    bool visitor_scope;
    int64_t window_ms;        /* visitor scope */
    int64_t enter_before_ms;  /* visitor scope: visits from then on cannot enter */
};

static void plan_init(struct funnel_plan *p, const struct funnel *f, enum funnel_report what)
{
    p->steps = f->step_count;
    p->has_goal = f->goal_id != 0;
    p->keep_all = what == FR_ENTRIES || what == FR_EXITS;
    for (size_t from = 0; from <= f->step_count; from++) {
        uint32_t bits = 0;
        for (size_t k = from; k < f->step_count; k++) {
            bits |= 1u << k;
            if (f->steps[k].required) break;
        }
        p->reachable[from] = bits;
    }
}

static void journey_walk(const struct funnel_plan *p, const struct site_index *s,
                         const struct walk *w, struct journey *j)
{
    *j = (struct journey){.entry = -1, .last = -1};
    for (size_t i = 0; i < w->count; i++) {
        const struct item *it = &w->items[i];
        if (j->entry >= 0 && p->visitor_scope && it->t - j->at[j->entry] > p->window_ms) break;
        uint32_t hit = it->bits & p->reachable[j->last + 1];
        if (hit && j->entry < 0 && p->visitor_scope && s->visit_start[it->row] >= p->enter_before_ms)
            hit = 0;
        for (; hit; hit &= hit - 1) {
            int k = __builtin_ctz(hit);
            j->reached |= 1u << k;
            j->at[k] = it->t;
            j->item[k] = (uint32_t)i;
            if (j->entry < 0) j->entry = k;
            j->last = k;
        }
        if ((it->bits & GOAL_BIT) && j->entry >= 0) j->converted = true;
        /* Nothing further can change: the last step reached, the goal converted (or none). */
        if (j->last == (int)p->steps - 1 && (j->converted || !p->has_goal)) break;
    }
}

/* ---- counting ---- */

struct durations {
    int64_t *ms;
    size_t count, cap;
};

struct funnel_counts {
    uint64_t journeys, conversions, exits_total;
    uint64_t visits[FUNNEL_STEPS_MAX], entries[FUNNEL_STEPS_MAX], proceeded[FUNNEL_STEPS_MAX],
        exits[FUNNEL_STEPS_MAX], skipped[FUNNEL_STEPS_MAX], with_previous[FUNNEL_STEPS_MAX];
    struct durations to_next[FUNNEL_STEPS_MAX];
    /* getFunnelEntries / getFunnelExits: per step, where from / where to */
    struct agg *sources;
};

enum source_kind { SK_PAGE = 1, SK_CHANNEL, SK_REFERRER, SK_EXIT };

static void count_source(struct agg *g, const struct report_context *ctx, enum source_kind kind,
                         uint32_t id, uint32_t parent_id)
{
    bool created;
    uint32_t e = agg_entry(g, kind, id, INDEX_NONE, &created);
    if (created) {
        const char *label = "Exit";
        if (kind == SK_PAGE) label = report_text(ctx, id);
        else if (kind == SK_CHANNEL)
            label = id == REFERRER_DIRECT ? "Direct Entry" : report_channel_label(id);
        g->entries[e].label = *label ? label : "Not defined";
    }
    g->entries[e].m[M_HITS]++;
    if (kind != SK_CHANNEL || !parent_id) return;
    uint32_t child = agg_entry(g, SK_REFERRER, parent_id, e, &created);
    if (created) g->entries[child].label = report_text(ctx, parent_id);
    g->entries[child].m[M_HITS]++;
}

/* Where the journey came from before its entry: the visit's pageview
 * before the entering action, or the visit's channel when there is none. */
static void count_entry_source(struct agg *g, const struct report_context *ctx,
                               const struct walk *w, const struct journey *j)
{
    const struct site_index *s = ctx->site;
    uint32_t at = j->item[j->entry], row = w->items[at].row;
    for (size_t i = at; i-- > 0;) {
        const struct action_row *a = &s->actions[w->items[i].action];
        if (w->items[i].row == row && a->kind == HIT_PAGEVIEW) {
            count_source(g, ctx, SK_PAGE, a->a, 0);
            return;
        }
    }
    const struct visit_row *v = &s->visits[row];
    count_source(g, ctx, SK_CHANNEL, v->referrer_type, v->text[VT_REFERRER_NAME]);
}

/* Where it went when it left: the visit's next pageview after the action
 * that reached its last step, or the end of the visit. */
static void count_exit_destination(struct agg *g, const struct report_context *ctx,
                                   const struct walk *w, const struct journey *j)
{
    const struct site_index *s = ctx->site;
    uint32_t at = j->item[j->last], row = w->items[at].row;
    for (size_t i = at + 1; i < w->count; i++) {
        const struct action_row *a = &s->actions[w->items[i].action];
        if (w->items[i].row == row && a->kind == HIT_PAGEVIEW) {
            count_source(g, ctx, SK_PAGE, a->a, 0);
            return;
        }
    }
    count_source(g, ctx, SK_EXIT, 0, 0);
}

static void durations_add(struct durations *d, int64_t ms)
{
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->ms = realloc(d->ms, d->cap * sizeof *d->ms);
        if (!d->ms) abort();
    }
    d->ms[d->count++] = ms;
}

/* What one report run counts with. */
struct funnel_run {
    struct funnel_counts counts;
    const struct funnel_plan *plan;
    const struct report_context *ctx;
    struct matcher matcher;
    enum funnel_report what;
};

static void count_journey(struct funnel_run *run, const struct walk *w, const struct journey *j)
{
    struct funnel_counts *c = &run->counts;
    const struct funnel_plan *p = run->plan;
    if (j->entry < 0) return;
    int last_step = (int)p->steps - 1;
    c->journeys++;
    c->entries[j->entry]++;
    if (p->has_goal ? j->converted : j->last == last_step) c->conversions++;
    if (j->last != last_step) c->exits_total++;
    for (int k = 0; k <= j->last; k++) {
        if (!(j->reached & 1u << k)) {
            if (k > j->entry) c->skipped[k]++;
            continue;
        }
        c->visits[k]++;
        if (k < j->last) c->proceeded[k]++;
        else if (k != last_step) c->exits[k]++;
        if (k > 0 && j->reached & 1u << (k - 1)) {
            c->with_previous[k]++;
            durations_add(&c->to_next[k - 1], j->at[k] - j->at[k - 1]);
        }
    }
    if (run->what == FR_ENTRIES) count_entry_source(&c->sources[j->entry], run->ctx, w, j);
    if (run->what == FR_EXITS && j->last != last_step)
        count_exit_destination(&c->sources[j->last], run->ctx, w, j);
}

static void walk_journey(struct funnel_run *run, struct walk *w)
{
    struct journey j;
    walk_sort(w);
    journey_walk(run->plan, run->ctx->site, w, &j);
    count_journey(run, w, &j);
}

/* Visit scope: each visit of the query is a journey. */
static void count_visits(struct funnel_run *run, const uint32_t *rows, size_t n)
{
    struct walk w = {0};
    for (size_t i = 0; i < n; i++) {
        w.count = 0;
        if (walk_visit(&w, &run->matcher, run->ctx->site, rows[i], run->plan->keep_all) &
            ~GOAL_BIT)
            walk_journey(run, &w);
    }
    free(w.items);
}

/* Visitor scope: rows are the visits from the range's start to its end
 * plus the window, and each visitor's are one journey. The actions are
 * read once, in row order (memory order); only the visits that match a
 * step are then grouped by visitor. */
static void count_visitors(struct funnel_run *run, const uint32_t *rows, size_t n)
{
    const struct site_index *s = run->ctx->site;
    struct walk all = {0}, w = {0};
    uint32_t *first = malloc((n + 1) * sizeof *first);
    uint64_t *keys = malloc((n ? n : 1) * sizeof *keys);
    if (!first || !keys) abort();
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        first[i] = (uint32_t)all.count;
        if (walk_visit(&all, &run->matcher, s, rows[i], run->plan->keep_all))
            keys[kept++] = (uint64_t)s->visits[rows[i]].visitor << 32 | i;
    }
    first[n] = (uint32_t)all.count;
    index_radix_sort(keys, kept, 32);
    for (size_t i = 0; i < kept;) {
        w.count = 0;
        size_t end = i;
        for (; end < kept && keys[end] >> 32 == keys[i] >> 32; end++) {
            uint32_t visit = (uint32_t)keys[end];
            for (uint32_t k = first[visit]; k < first[visit + 1]; k++) {
                struct item *it = walk_push(&w);
                *it = all.items[k];
                it->seq = (uint32_t)(w.count - 1);
            }
        }
        i = end;
        walk_journey(run, &w);
    }
    free(w.items);
    free(all.items);
    free(first);
    free(keys);
}

/* ---- parameters ---- */

static int parse_scope(struct report_context *ctx, struct funnel_plan *p, int64_t *window_days)
{
    const char *scope = ctx->q->funnel_scope, *days = ctx->q->funnel_window_days;
    *window_days = 0;
    if (scope && strcmp(scope, "visit") != 0 && strcmp(scope, "visitor") != 0) {
        snprintf(ctx->err, ctx->errlen,
                 "funnelScope '%.20s' is not a scope: use visit (the steps within one visit, the "
                 "default) or visitor (the steps across a visitor's visits within "
                 "funnelWindowDays)",
                 scope);
        return -EINVAL;
    }
    p->visitor_scope = scope && strcmp(scope, "visitor") == 0;
    if (!p->visitor_scope) {
        if (!days) return 0;
        snprintf(ctx->err, ctx->errlen,
                 "funnelWindowDays applies to funnelScope=visitor only (a visit is its own "
                 "window)");
        return -EINVAL;
    }
    *window_days = WINDOW_DAYS_DEFAULT;
    if (days && parse_i64(days, 1, WINDOW_DAYS_MAX, window_days)) {
        snprintf(ctx->err, ctx->errlen,
                 "funnelWindowDays '%.20s' is not a window: use a number of days from 1 to %d "
                 "(default %d)",
                 days, WINDOW_DAYS_MAX, WINDOW_DAYS_DEFAULT);
        return -EINVAL;
    }
    p->window_ms = *window_days * MS_PER_DAY;
    p->enter_before_ms = ctx->q->to_ms;
    return 0;
}

/* step=N of getFunnelEntries / getFunnelExits: 0 when absent (every step). */
static int parse_step(struct report_context *ctx, size_t steps, size_t *step)
{
    const char *text = ctx->q->funnel_step;
    int64_t k = 0;
    if (text && parse_i64(text, 1, (int64_t)steps, &k)) {
        snprintf(ctx->err, ctx->errlen,
                 "step '%.20s' is not a step of funnel %u: use its position, 1 to %zu", text,
                 ctx->q->funnel->id, steps);
        return -EINVAL;
    }
    *step = (size_t)k;
    return 0;
}

/* ---- tables ---- */

static double rate(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0;
}

static int cmp_ms(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

/* In seconds; NAN without any. */
static double median_seconds(struct durations *d)
{
    if (!d->count) return NAN;
    qsort(d->ms, d->count, sizeof *d->ms, cmp_ms);
    size_t mid = d->count / 2;
    double ms = d->count % 2 ? (double)d->ms[mid] : ((double)d->ms[mid - 1] + d->ms[mid]) / 2;
    return ms / 1000;
}

static const char *step_definition(struct arena *arena, const struct funnel_step *st)
{
    char text[GOAL_PATTERN_MAX + 100];
    if (st->match == FUNNEL_MATCH_GOAL)
        snprintf(text, sizeof text, "goal %s%s", st->pattern, st->required ? ", required" : "");
    else
        snprintf(text, sizeof text, "%s %s \"%s\"%s%s", funnel_match_name(st->match),
                 goal_pattern_name(st->pattern_type), st->pattern,
                 st->case_sensitive ? ", case sensitive" : "", st->required ? ", required" : "");
    return arena_strdup(arena, text);
}

static const struct report_column flow_columns[] = {
    {"step_position", REPORT_INT},
    {"step_nb_visits", REPORT_INT},
    {"step_nb_visits_actual", REPORT_INT},
    {"step_nb_entries", REPORT_INT},
    {"step_nb_progressions", REPORT_INT},
    {"step_nb_skipped", REPORT_INT},
    {"step_nb_proceeded", REPORT_INT},
    {"step_nb_exits", REPORT_INT},
    {"step_proceeded_rate", REPORT_PERCENT_2DP},
    {"step_exited_rate", REPORT_PERCENT_2DP},
    {"step_conversion_rate", REPORT_PERCENT_2DP},
    {"step_conversion_rate_from_previous", REPORT_PERCENT_2DP},
    {"step_median_time_to_next", REPORT_NUMBER},
    {"funnel_window_days", REPORT_INT},
};

static const struct report_column metrics_columns[] = {
    {"funnel_sum_entries", REPORT_INT},     {"funnel_sum_exits", REPORT_INT},
    {"funnel_nb_conversions", REPORT_INT},  {"funnel_conversion_rate", REPORT_PERCENT_2DP},
    {"funnel_abandoned_rate", REPORT_PERCENT_2DP}, {"funnel_window_days", REPORT_INT},
};

static void *table_alloc(struct arena *arena, size_t size)
{
    void *p = arena_alloc(arena, size ? size : 1);
    if (p) memset(p, 0, size);
    return p;
}

static int flow_table(const struct report_query *q, const struct funnel_plan *p,
                      struct funnel_counts *c, double window_days, struct arena *arena,
                      struct report_table **out)
{
    const size_t cols = COUNT(flow_columns);
    struct report_table *t = table_alloc(arena, sizeof *t);
    struct report_row *rows = table_alloc(arena, p->steps * sizeof *rows);
    double *values = table_alloc(arena, p->steps * cols * sizeof *values);
    if (!t || !rows || !values) return -ENOMEM;
    for (size_t k = 0; k < p->steps; k++) {
        double *v = &values[k * cols];
        uint64_t reached = c->visits[k];
        double row[] = {
            (double)(k + 1),
            (double)reached,
            (double)reached,
            (double)c->entries[k],
            (double)(reached - c->entries[k]),
            (double)c->skipped[k],
            (double)c->proceeded[k],
            (double)c->exits[k],
            rate(c->proceeded[k], reached),
            rate(c->exits[k], reached),
            rate(reached, c->journeys),
            k ? rate(c->with_previous[k], c->visits[k - 1]) : NAN,
            k + 1 < p->steps ? median_seconds(&c->to_next[k]) : NAN,
            window_days,
        };
        memcpy(v, row, sizeof row);
        rows[k] = (struct report_row){
            .label = q->funnel->steps[k].name,
            .values = v,
            .extras = {{"step_definition", step_definition(arena, &q->funnel->steps[k])},
                       {"funnel_scope", p->visitor_scope ? "visitor" : "visit"}},
            .extra_count = 2};
        if (!rows[k].extras[0].value) return -ENOMEM;
    }
    *t = (struct report_table){.columns = flow_columns, .column_count = cols, .rows = rows,
                               .row_count = p->steps};
    *out = t;
    return 0;
}

static int metrics_table(const struct funnel_plan *p, const struct funnel_counts *c,
                         double window_days, struct arena *arena, struct report_table **out)
{
    struct report_table *t = table_alloc(arena, sizeof *t);
    struct report_row *row = table_alloc(arena, sizeof *row);
    double *values = table_alloc(arena, sizeof(double[COUNT(metrics_columns)]));
    if (!t || !row || !values) return -ENOMEM;
    double v[] = {(double)c->journeys,
                  (double)c->exits_total,
                  (double)c->conversions,
                  rate(c->conversions, c->journeys),
                  rate(c->exits_total, c->journeys),
                  window_days};
    memcpy(values, v, sizeof v);
    *row = (struct report_row){.label = "",
                               .values = values,
                               .extras = {{"funnel_scope", p->visitor_scope ? "visitor" : "visit"}},
                               .extra_count = 1};
    *t = (struct report_table){.columns = metrics_columns,
                               .column_count = COUNT(metrics_columns),
                               .rows = row,
                               .row_count = 1,
                               .single = true};
    *out = t;
    return 0;
}

static const struct agg_column source_columns[] = {COL("nb_hits", REPORT_INT, M_HITS)};

/* One step's sources (step > 0), or a row per step with its sources below. */
static int sources_table(const struct report_query *q, const struct funnel_plan *p,
                         struct funnel_counts *c, size_t step, struct arena *arena,
                         struct report_table **out)
{
    if (step) {
        *out = agg_table(&c->sources[step - 1], source_columns, COUNT(source_columns), M_HITS,
                         q->flat, " - ", q->truncate);
        return *out ? 0 : -ENOMEM;
    }
    static const struct report_column columns[] = {{"nb_hits", REPORT_INT},
                                                   {"step_position", REPORT_INT}};
    struct report_table *t = table_alloc(arena, sizeof *t);
    struct report_row *rows = table_alloc(arena, p->steps * sizeof *rows);
    double *values = table_alloc(arena, p->steps * 2 * sizeof *values);
    if (!t || !rows || !values) return -ENOMEM;
    for (size_t k = 0; k < p->steps; k++) {
        struct report_table *sub = agg_table(&c->sources[k], source_columns,
                                             COUNT(source_columns), M_HITS, q->flat, " - ",
                                             q->truncate);
        if (!sub) return -ENOMEM;
        double hits = 0;
        for (size_t i = 0; i < c->sources[k].count; i++)
            if (c->sources[k].entries[i].parent == INDEX_NONE) hits += c->sources[k].entries[i].m[M_HITS];
        values[2 * k] = hits;
        values[2 * k + 1] = (double)(k + 1);
        rows[k] = (struct report_row){.label = q->funnel->steps[k].name,
                                      .values = &values[2 * k],
                                      .subtable = sub->row_count ? sub : NULL};
    }
    *t = (struct report_table){.columns = columns, .column_count = 2, .rows = rows,
                               .row_count = p->steps};
    *out = t;
    return 0;
}

int funnel_report(const struct report_query *q, struct report_context *ctx,
                  enum funnel_report what, struct arena *arena, struct report_table **out)
{
    if (!q->funnel) {
        snprintf(ctx->err, ctx->errlen,
                 "idFunnel is missing: the id of one of the site's funnels (Funnels.getFunnels)");
        return -EINVAL;
    }
    struct funnel_plan p = {0};
    plan_init(&p, q->funnel, what);
    int64_t window_days;
    size_t step = 0;
    int rc = parse_scope(ctx, &p, &window_days);
    if (!rc && p.keep_all) rc = parse_step(ctx, p.steps, &step);
    if (rc) return rc;

    struct funnel_run run = {.plan = &p, .ctx = ctx, .what = what};
    struct funnel_counts *c = &run.counts;
    struct agg sources[FUNNEL_STEPS_MAX];
    if (p.keep_all) {
        for (size_t k = 0; k < p.steps; k++) agg_init(&sources[k], arena, 0);
        c->sources = sources;
    }
    rc = matcher_init(&run.matcher, q);
    if (!rc && ctx->site) {
        /* Visitor scope follows journeys past the range's end, up to the window. */
        struct report_query range = *q;
        struct report_context range_ctx = *ctx;
        range_ctx.q = &range;
        if (p.visitor_scope) range.to_ms = q->to_ms + p.window_ms;
        uint32_t *rows;
        size_t n;
        rc = report_select_visits(&range, &range_ctx, &rows, &n);
        if (!rc && p.visitor_scope) count_visitors(&run, rows, n);
        else if (!rc) count_visits(&run, rows, n);
        free(rows);
    }
    matcher_free(&run.matcher);
    double window = p.visitor_scope ? (double)window_days : NAN;
    if (!rc) {
        switch (what) {
        case FR_FLOW: rc = flow_table(q, &p, c, window, arena, out); break;
        case FR_METRICS: rc = metrics_table(&p, c, window, arena, out); break;
        default: rc = sources_table(q, &p, c, step, arena, out); break;
        }
    }
    for (size_t k = 0; k < p.steps; k++) {
        free(c->to_next[k].ms);
        if (c->sources) agg_free(&sources[k]);
    }
    return rc;
}
