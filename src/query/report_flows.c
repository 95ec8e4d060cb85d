/* report_flows: UsersFlow.getUsersFlow, getUsersFlowPretty and
 * getInteractionActions, Matomo's top paths by interaction step.
 *
 * A visit's interaction steps are its pageviews and site searches in order
 * (step 1 is the first; a reload is a step of its own, as in Matomo's
 * pageview_position). Each step's action is grouped by its label: the
 * page's path as the Actions reports show it (cut to levelOfDetail
 * folders), or its title; every site search is "Search". Per step and
 * action: the visits there (nb_visits), those that had a next step
 * (nb_proceeded) and those that ended there (nb_exits); per step and
 * action, the next step's actions with their visits. So the visits of
 * step n+1 are the proceeded of step n, and a step's actions add up to it.
 *
 * Only the first FLOW_MAX_STEPS + 1 steps of each visit are read (the one
 * past the last shown decides its proceeded). docs/users-flow.md has the
 * parameters and how Tally differs from Matomo. */
#include "report_flows.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../enrich/enrich.h"

#define FLOW_SEARCH 0 /* the group of every site search */

struct flow_cell {
    uint64_t visits, proceeded, exits;
};

/* (step, action, next action) -> visits: open addressing, key 0 empty. */
struct flow_link {
    uint64_t key; /* step << 58 | group << 29 | next group, + 1 */
    uint64_t visits;
};
#define FLOW_GROUP_BITS 29
#define FLOW_MAX_GROUPS ((1u << FLOW_GROUP_BITS) - 1)

struct flow {
    const struct report_context *ctx;
    bool by_title;
    size_t detail;             /* path levels kept, 0 all */
    size_t steps;              /* steps shown */
    const char *explore_url;   /* NULL: every visit */
    size_t explore_step;       /* 1-based */
    uint32_t explore_group;    /* the group labelled explore_url, UINT32_MAX none yet */
    struct arena *arena;       /* labels: the answer's */
    struct arena scratch;      /* path levels */
    uint32_t *group_of;        /* string id -> group + 1 */
    const char **labels;       /* group -> label */
    size_t group_count, group_cap;
    uint32_t *label_slots;     /* label -> group + 1: open addressing */
    size_t label_cap;
    struct flow_cell *cells;   /* [group * FLOW_MAX_STEPS + step] */
    struct flow_link *links;
    size_t link_cap, link_used;
};

/* ---- grouping actions by label ---- */

static const char *page_label(struct flow *f, uint32_t id)
{
    const char *s = report_text(f->ctx, id);
    if (!*s) return f->by_title ? "Page Name Not Defined" : "Page URL Not Defined";
    if (f->by_title) return s;
    const char *levels[ENRICH_MAX_LEVELS];
    size_t n = enrich_path_levels(s, &f->scratch, levels, ENRICH_MAX_LEVELS);
    if (!n) return arena_strdup(f->arena, s);
    if (n == 1 && strcmp(levels[0], "/") == 0) return "/";
    /* A path cut to its first folders ends in '/': the folder "/shop/" and
     * the page "/shop" stay two rows, as in the Actions tree. */
    size_t keep = f->detail && f->detail < n ? f->detail : n;
    struct buf label;
    buf_init(&label);
    for (size_t i = 0; i < keep; i++) {
        buf_putc(&label, '/');
        buf_puts(&label, levels[i]);
    }
    if (keep < n) buf_putc(&label, '/');
    const char *copy = arena_strdup(f->arena, label.data);
    buf_free(&label);
    arena_reset(&f->scratch);
    return copy;
}

static int labels_grow(struct flow *f)
{
    size_t cap = f->label_cap ? f->label_cap * 2 : 256;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots) return -ENOMEM;
    for (size_t g = FLOW_SEARCH + 1; g < f->group_count; g++) {
        size_t j = report_hash(f->labels[g]) & (cap - 1);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = (uint32_t)g + 1;
    }
    free(f->label_slots);
    f->label_slots = slots;
    f->label_cap = cap;
    return 0;
}

/* A new group labelled label, its cells zeroed; not in the label map. */
static int group_new(struct flow *f, const char *label, uint32_t *out)
{
    if (f->group_count == FLOW_MAX_GROUPS) return -ENOMEM;
    if (f->group_count == f->group_cap) {
        size_t cap = f->group_cap ? f->group_cap * 2 : 256;
        const char **labels = realloc(f->labels, cap * sizeof *labels);
        if (labels) f->labels = labels;
        struct flow_cell *cells = realloc(f->cells, cap * FLOW_MAX_STEPS * sizeof *cells);
        if (cells) f->cells = cells;
        if (!labels || !cells) return -ENOMEM;
        f->group_cap = cap;
    }
    uint32_t g = (uint32_t)f->group_count++;
    f->labels[g] = label;
    memset(&f->cells[(size_t)g * FLOW_MAX_STEPS], 0, FLOW_MAX_STEPS * sizeof *f->cells);
    if (f->explore_url && f->explore_group == UINT32_MAX && strcmp(label, f->explore_url) == 0)
        f->explore_group = g;
    *out = g;
    return 0;
}

/* The page group labelled label, created when new. */
static int group_for_label(struct flow *f, const char *label, uint32_t *out)
{
    if ((f->group_count + 1) * 2 > f->label_cap && labels_grow(f)) return -ENOMEM;
    size_t j = report_hash(label) & (f->label_cap - 1);
    while (f->label_slots[j]) {
        uint32_t g = f->label_slots[j] - 1;
        if (strcmp(f->labels[g], label) == 0) {
            *out = g;
            return 0;
        }
        j = (j + 1) & (f->label_cap - 1);
    }
    int rc = group_new(f, label, out);
    if (!rc) f->label_slots[j] = *out + 1;
    return rc;
}

/* The group of an action that is a step (a pageview or a site search). */
static int group_of_action(struct flow *f, const struct action_row *a, uint32_t *out)
{
    if (a->kind == HIT_SITE_SEARCH) {
        *out = FLOW_SEARCH;
        return 0;
    }
    uint32_t id = f->by_title ? a->b : a->a;
    if (f->group_of[id]) {
        *out = f->group_of[id] - 1;
        return 0;
    }
    int rc = group_for_label(f, page_label(f, id), out);
    if (!rc) f->group_of[id] = *out + 1;
    return rc;
}

/* ---- counting ---- */

static int link_add(struct flow *f, size_t step, uint32_t from, uint32_t to)
{
    if ((f->link_used + 1) * 4 > f->link_cap * 3) {
        size_t cap = f->link_cap ? f->link_cap * 2 : 1024;
        struct flow_link *links = calloc(cap, sizeof *links);
        if (!links) return -ENOMEM;
        for (size_t i = 0; i < f->link_cap; i++) {
            if (!f->links[i].key) continue;
            size_t j = hash_mix64(f->links[i].key) & (cap - 1);
            while (links[j].key) j = (j + 1) & (cap - 1);
            links[j] = f->links[i];
        }
        free(f->links);
        f->links = links;
        f->link_cap = cap;
    }
    uint64_t key = ((uint64_t)step << (2 * FLOW_GROUP_BITS) | (uint64_t)from << FLOW_GROUP_BITS | to) + 1;
    size_t j = hash_mix64(key) & (f->link_cap - 1);
    while (f->links[j].key && f->links[j].key != key) j = (j + 1) & (f->link_cap - 1);
    if (!f->links[j].key) {
        f->links[j].key = key;
        f->link_used++;
    }
    f->links[j].visits++;
    return 0;
}

static int flow_visit(struct flow *f, const struct visit_row *v)
{
    const struct site_index *s = f->ctx->site;
    uint32_t step_group[FLOW_MAX_STEPS + 1];
    size_t n = 0;
    for (uint32_t i = v->first_action; i != INDEX_NONE && n <= f->steps; i = s->actions[i].next) {
        const struct action_row *a = &s->actions[i];
        if (a->kind != HIT_PAGEVIEW && a->kind != HIT_SITE_SEARCH) continue;
        int rc = group_of_action(f, a, &step_group[n++]);
        if (rc) return rc;
    }
    if (f->explore_url &&
        (n < f->explore_step || step_group[f->explore_step - 1] != f->explore_group))
        return 0;
    for (size_t step = 0; step < n && step < f->steps; step++) {
        struct flow_cell *c = &f->cells[(size_t)step_group[step] * FLOW_MAX_STEPS + step];
        c->visits++;
        if (step + 1 == n) {
            c->exits++;
            continue;
        }
        c->proceeded++;
        /* The step after the last shown has no row to lead to. */
        if (step + 1 < f->steps) {
            int rc = link_add(f, step, step_group[step], step_group[step + 1]);
            if (rc) return rc;
        }
    }
    return 0;
}

/* ---- parameters ---- */

/* A whole number in [min, max] from text, or def when text is absent. */
static int whole_param(struct report_context *ctx, const char *name, const char *text,
                       int64_t min, int64_t max, int64_t def, int64_t *out)
{
    *out = def;
    if (!text) return 0;
    if (parse_i64(text, min, max, out)) {
        snprintf(ctx->err, ctx->errlen, "%s: expected a whole number from %lld to %lld", name,
                 (long long)min, (long long)max);
        return -EINVAL;
    }
    return 0;
}

struct flow_options {
    int64_t limit, offset, position;
};

static int flow_parse(const struct report_query *q, struct report_context *ctx,
                      enum flow_report which, struct flow *f, struct flow_options *o)
{
    const struct report_flow_params *p = &q->flow;
    if (p->data_source && strcmp(p->data_source, "page_title") == 0) f->by_title = true;
    else if (p->data_source && strcmp(p->data_source, "page_url") != 0) {
        snprintf(ctx->err, ctx->errlen, "dataSource: expected page_url or page_title");
        return -EINVAL;
    }
    int64_t detail, step;
    int rc = whole_param(ctx, "levelOfDetail", p->level_of_detail, 1, ENRICH_MAX_LEVELS, 0, &detail);
    if (!rc && detail && f->by_title) {
        snprintf(ctx->err, ctx->errlen, "levelOfDetail: folders are a level of URLs, not of "
                                        "titles: leave it out with dataSource=page_title");
        rc = -EINVAL;
    }
    if (!rc) rc = whole_param(ctx, "limitActionsPerStep", p->limit_actions_per_step, 1, 100000, 5,
                              &o->limit);
    if (!rc) rc = whole_param(ctx, "exploreStep", p->explore_step, 1, FLOW_MAX_STEPS, 0, &step);
    if (!rc && (!step != !(p->explore_url && *p->explore_url))) {
        snprintf(ctx->err, ctx->errlen, "exploreStep and exploreUrl go together: the step (1 to "
                                        "%d) and the label of the action to follow at it",
                 FLOW_MAX_STEPS);
        rc = -EINVAL;
    }
    if (!rc && which == FLOW_STEP_ACTIONS) {
        rc = whole_param(ctx, "offsetActionsPerStep", p->offset_actions_per_step, 0, INT32_MAX, 0,
                         &o->offset);
        if (!rc && !p->interaction_position) {
            snprintf(ctx->err, ctx->errlen,
                     "interactionPosition is missing: the step to list (1 to %d)", FLOW_MAX_STEPS);
            rc = -EINVAL;
        }
        if (!rc)
            rc = whole_param(ctx, "interactionPosition", p->interaction_position, 1,
                             FLOW_MAX_STEPS, 0, &o->position);
    }
    if (rc) return rc;
    f->detail = (size_t)detail;
    f->steps = FLOW_MAX_STEPS;
    if (step) {
        /* Matomo shows the explored step and the three after it. */
        f->explore_url = p->explore_url;
        f->explore_step = (size_t)step;
        if (f->explore_step + 3 < f->steps) f->steps = f->explore_step + 3;
    }
    return 0;
}

/* ---- the tables ---- */

enum { C_VISITS, C_EXITS, C_PROCEEDED, C_PAGES_IN_GROUP, C_PROCEEDED_RATE, C_EXIT_RATE, C_COUNT };
static const struct report_column step_columns[C_COUNT] = {
    {"nb_visits", REPORT_INT},           {"nb_exits", REPORT_INT},
    {"nb_proceeded", REPORT_INT},        {"nb_pages_in_group", REPORT_INT},
    {"proceeded_rate", REPORT_NUMBER},   {"exit_rate", REPORT_PERCENT},
};
static const struct report_column next_columns[] = {{"nb_visits", REPORT_INT}};

struct flow_rank {
    uint32_t group;
    uint64_t visits;
    const char *label;
};

static int most_first(const void *x, const void *y)
{
    const struct flow_rank *a = x, *b = y;
    if (a->visits != b->visits) return a->visits > b->visits ? -1 : 1;
    return strcmp(a->label, b->label);
}

/* What a table needs beyond the counts: each step's actions, most first,
 * and which of them keep a row of their own (the rest are "Others"). */
struct flow_build {
    struct flow *f;
    struct arena *arena;
    bool pretty;
    size_t limit;                 /* rows of their own per step */
    struct flow_rank *ranked[FLOW_MAX_STEPS];
    size_t ranked_count[FLOW_MAX_STEPS];
    uint8_t *own_row;             /* [group * FLOW_MAX_STEPS + step] */
    struct flow_link *links;      /* the used links, sorted by key */
    size_t link_count;
    uint32_t *row_of;             /* group -> row + 1 in the next table being built */
};

static int by_key(const void *x, const void *y)
{
    const struct flow_link *a = x, *b = y;
    return a->key < b->key ? -1 : a->key > b->key;
}

static double *row_values(struct arena *arena, size_t n)
{
    double *v = arena_alloc(arena, n * sizeof *v);
    if (v)
        for (size_t i = 0; i < n; i++) v[i] = NAN;
    return v;
}

static void set_counts(struct flow_build *b, double *v, const struct flow_cell *c)
{
    v[C_VISITS] = (double)c->visits;
    v[C_EXITS] = (double)c->exits;
    v[C_PROCEEDED] = (double)c->proceeded;
    if (b->pretty && c->visits) {
        /* Matomo's: a ratio with two decimals, and a whole percentage. */
        v[C_PROCEEDED_RATE] = round(100.0 * (double)c->proceeded / (double)c->visits) / 100;
        v[C_EXIT_RATE] = round(100.0 * (double)c->exits / (double)c->visits);
    }
}

/* The next step's actions after the groups from[0 .. n) at step: one row
 * per action with a row of its own at the next step, the rest "Others". */
static int next_table(struct flow_build *b, size_t step, const uint32_t *from, size_t n,
                      struct report_table **out)
{
    *out = NULL;
    if (step + 1 >= b->f->steps) return 0;
    struct flow_rank *next = malloc((b->f->group_count + 1) * sizeof *next);
    if (!next) return -ENOMEM;
    size_t count = 0;
    uint64_t others = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t lo = ((uint64_t)step << (2 * FLOW_GROUP_BITS) | (uint64_t)from[i] << FLOW_GROUP_BITS) + 1;
        uint64_t hi = lo + ((uint64_t)1 << FLOW_GROUP_BITS);
        /* the first link at or after lo */
        size_t l = 0, h = b->link_count;
        while (l < h) {
            size_t m = l + (h - l) / 2;
            if (b->links[m].key < lo) l = m + 1;
            else h = m;
        }
        for (; l < b->link_count && b->links[l].key < hi; l++) {
            uint32_t to = (uint32_t)((b->links[l].key - 1) & FLOW_MAX_GROUPS);
            if (!b->own_row[(size_t)to * FLOW_MAX_STEPS + step + 1]) {
                others += b->links[l].visits;
                continue;
            }
            if (!b->row_of[to]) {
                next[count] = (struct flow_rank){to, 0, b->f->labels[to]};
                b->row_of[to] = (uint32_t)++count;
            }
            next[b->row_of[to] - 1].visits += b->links[l].visits;
        }
    }
    for (size_t i = 0; i < count; i++) b->row_of[next[i].group] = 0;
    if (others) next[count++] = (struct flow_rank){UINT32_MAX, others, "Others"};
    qsort(next, count, sizeof *next, most_first);
    struct report_table *t = arena_alloc(b->arena, sizeof *t);
    struct report_row *rows = arena_alloc(b->arena, (count ? count : 1) * sizeof *rows);
    int rc = t && rows ? 0 : -ENOMEM;
    for (size_t i = 0; !rc && i < count; i++) {
        double *v = arena_alloc(b->arena, sizeof *v);
        if (!v) rc = -ENOMEM;
        else {
            *v = (double)next[i].visits;
            rows[i] = (struct report_row){.label = next[i].label, .values = v};
        }
    }
    free(next);
    if (rc) return rc;
    *t = (struct report_table){.columns = next_columns, .column_count = COUNT(next_columns),
                               .rows = rows, .row_count = count};
    *out = t;
    return 0;
}

/* The actions of step, most first, from the offset-th; with a limit, the
 * rest summed into "Others" (whose next actions are theirs together). */
static int step_table(struct flow_build *b, size_t step, size_t offset, bool group_rest,
                      struct report_table **out)
{
    struct flow *f = b->f;
    size_t n = b->ranked_count[step];
    const struct flow_rank *ranked = b->ranked[step];
    if (offset > n) offset = n;
    size_t own = n - offset;
    if (group_rest && own > b->limit) own = b->limit;
    bool others = offset + own < n;
    struct report_table *t = arena_alloc(b->arena, sizeof *t);
    struct report_row *rows = arena_alloc(b->arena, (own + 1) * sizeof *rows);
    if (!t || !rows) return -ENOMEM;
    for (size_t i = 0; i < own; i++) {
        const struct flow_rank *r = &ranked[offset + i];
        double *v = row_values(b->arena, C_COUNT);
        if (!v) return -ENOMEM;
        set_counts(b, v, &f->cells[(size_t)r->group * FLOW_MAX_STEPS + step]);
        rows[i] = (struct report_row){.label = r->label, .values = v};
        int rc = next_table(b, step, &r->group, 1, &rows[i].subtable);
        if (rc) return rc;
    }
    if (others) {
        size_t rest = n - offset - own;
        uint32_t *groups = malloc(rest * sizeof *groups);
        double *v = row_values(b->arena, C_COUNT);
        if (!groups || !v) {
            free(groups);
            return -ENOMEM;
        }
        struct flow_cell sum = {0};
        for (size_t i = 0; i < rest; i++) {
            groups[i] = ranked[offset + own + i].group;
            const struct flow_cell *c = &f->cells[(size_t)groups[i] * FLOW_MAX_STEPS + step];
            sum.visits += c->visits;
            sum.exits += c->exits;
            sum.proceeded += c->proceeded;
        }
        set_counts(b, v, &sum);
        v[C_PAGES_IN_GROUP] = (double)rest;
        rows[own] = (struct report_row){.label = "Others", .values = v};
        int rc = next_table(b, step, groups, rest, &rows[own].subtable);
        free(groups);
        if (rc) return rc;
    }
    *t = (struct report_table){.columns = step_columns,
                               .column_count = b->pretty ? C_COUNT : C_PROCEEDED_RATE,
                               .rows = rows, .row_count = own + others};
    *out = t;
    return 0;
}

static int build_prepare(struct flow_build *b, bool group_rest)
{
    struct flow *f = b->f;
    b->own_row = calloc(f->group_count * FLOW_MAX_STEPS, 1);
    b->row_of = calloc(f->group_count, sizeof *b->row_of);
    if (!b->own_row || !b->row_of) return -ENOMEM;
    for (size_t step = 0; step < f->steps; step++) {
        b->ranked[step] = malloc(f->group_count * sizeof **b->ranked);
        if (!b->ranked[step]) return -ENOMEM;
        size_t n = 0;
        for (uint32_t g = 0; g < f->group_count; g++) {
            uint64_t visits = f->cells[(size_t)g * FLOW_MAX_STEPS + step].visits;
            if (visits) b->ranked[step][n++] = (struct flow_rank){g, visits, f->labels[g]};
        }
        qsort(b->ranked[step], n, sizeof **b->ranked, most_first);
        b->ranked_count[step] = n;
        for (size_t i = 0; i < n && (!group_rest || i < b->limit); i++)
            b->own_row[(size_t)b->ranked[step][i].group * FLOW_MAX_STEPS + step] = 1;
    }
    b->links = malloc((f->link_used ? f->link_used : 1) * sizeof *b->links);
    if (!b->links) return -ENOMEM;
    for (size_t i = 0; i < f->link_cap; i++)
        if (f->links[i].key) b->links[b->link_count++] = f->links[i];
    qsort(b->links, b->link_count, sizeof *b->links, by_key);
    return 0;
}

static int steps_table(struct flow_build *b, struct report_table **out)
{
    struct flow *f = b->f;
    struct report_table *t = arena_alloc(b->arena, sizeof *t);
    struct report_row *rows = arena_alloc(b->arena, f->steps * sizeof *rows);
    if (!t || !rows) return -ENOMEM;
    size_t count = 0;
    for (size_t step = 0; step < f->steps && b->ranked_count[step]; step++) {
        struct flow_cell sum = {0};
        for (size_t i = 0; i < b->ranked_count[step]; i++) {
            const struct flow_cell *c =
                &f->cells[(size_t)b->ranked[step][i].group * FLOW_MAX_STEPS + step];
            sum.visits += c->visits;
            sum.exits += c->exits;
            sum.proceeded += c->proceeded;
        }
        double *v = row_values(b->arena, C_COUNT);
        char label[32];
        snprintf(label, sizeof label, b->pretty ? "Interaction %zu" : "%zu", step + 1);
        const char *copy = arena_strdup(b->arena, label);
        if (!v || !copy) return -ENOMEM;
        set_counts(b, v, &sum);
        rows[count] = (struct report_row){.label = copy, .values = v};
        int rc = step_table(b, step, 0, true, &rows[count].subtable);
        if (rc) return rc;
        count++;
    }
    *t = (struct report_table){.columns = step_columns,
                               .column_count = b->pretty ? C_COUNT : C_PROCEEDED_RATE,
                               .rows = rows, .row_count = count};
    *out = t;
    return 0;
}

int flow_report(const struct report_query *q, struct report_context *ctx, enum flow_report which,
                struct arena *arena, struct report_table **out)
{
    struct flow f = {.ctx = ctx, .arena = arena, .explore_group = UINT32_MAX};
    struct flow_options o;
    int rc = flow_parse(q, ctx, which, &f, &o);
    if (rc) return rc;
    arena_init(&f.scratch, 0);
    uint32_t search;
    /* FLOW_SEARCH, the first group: a page titled "Search" is another. */
    rc = group_new(&f, "Search", &search);
    f.group_of = calloc(ctx->index->dict.count ? ctx->index->dict.count : 1, sizeof *f.group_of);
    if (!rc && !f.group_of) rc = -ENOMEM;
    uint32_t *rows = NULL;
    size_t n = 0;
    if (!rc && ctx->site) rc = report_select_visits(q, ctx, &rows, &n);
    for (size_t i = 0; i < n && !rc; i++) rc = flow_visit(&f, &ctx->site->visits[rows[i]]);
    free(rows);
    struct flow_build b = {.f = &f, .arena = arena, .pretty = which == FLOW_STEPS_PRETTY,
                           .limit = (size_t)o.limit};
    if (!rc) rc = build_prepare(&b, which != FLOW_STEP_ACTIONS);
    if (!rc && which == FLOW_STEP_ACTIONS) {
        size_t step = (size_t)o.position - 1;
        rc = step_table(&b, step, (size_t)o.offset, false, out);
    } else if (!rc) {
        rc = steps_table(&b, out);
    }
    for (size_t step = 0; step < FLOW_MAX_STEPS; step++) free(b.ranked[step]);
    free(b.own_row);
    free(b.row_of);
    free(b.links);
    free(f.group_of);
    free(f.labels);
    free(f.label_slots);
    free(f.cells);
    free(f.links);
    arena_free(&f.scratch);
    return rc;
}
