/* report_actions: pages, titles, entry and exit pages, site search,
 * outlinks, downloads, events and contents. Each selected visit's actions
 * are walked in order; per-visit counts (nb_visits) are deduplicated per
 * row, distinct visitors counted exactly. */
#include "report_actions.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../enrich/enrich.h"
#include "agg.h"


static const struct agg_column page_columns[] = {
    COL("nb_hits", REPORT_INT, M_HITS),
    COL("nb_visits", REPORT_INT, M_VISITS),
    COL("nb_uniq_visitors", REPORT_INT, M_UNIQ_VISITORS),
    COL("sum_time_spent", REPORT_INT, M_TIME),
    AVG("avg_time_on_page", REPORT_INT, M_TIME, M_HITS),
    COL("entry_nb_visits", REPORT_INT, M_ENTRY_VISITS),
    COL("entry_nb_actions", REPORT_INT, M_ENTRY_ACTIONS),
    COL("entry_sum_visit_length", REPORT_INT, M_ENTRY_LENGTH),
    COL("entry_bounce_count", REPORT_INT, M_ENTRY_BOUNCES),
    COL("exit_nb_visits", REPORT_INT, M_EXIT_VISITS),
    RATE("bounce_rate", M_ENTRY_BOUNCES, M_ENTRY_VISITS),
    RATE("exit_rate", M_EXIT_VISITS, M_VISITS),
};

static const struct agg_column hit_columns[] = {
    COL("nb_hits", REPORT_INT, M_HITS),
    COL("nb_visits", REPORT_INT, M_VISITS),
    COL("nb_uniq_visitors", REPORT_INT, M_UNIQ_VISITORS),
};

static const struct agg_column search_columns[] = {
    COL("nb_hits", REPORT_INT, M_HITS),
    COL("nb_visits", REPORT_INT, M_VISITS),
    COL("nb_uniq_visitors", REPORT_INT, M_UNIQ_VISITORS),
    COL("exit_nb_visits", REPORT_INT, M_EXIT_VISITS),
    RATE("exit_rate", M_EXIT_VISITS, M_VISITS),
};

static const struct agg_column event_columns[] = {
    COL("nb_events", REPORT_INT, M_HITS),
    COL("nb_visits", REPORT_INT, M_VISITS),
    COL("nb_uniq_visitors", REPORT_INT, M_UNIQ_VISITORS),
    COL("sum_event_value", REPORT_NUMBER, M_VALUE_SUM),
    COL("min_event_value", REPORT_NUMBER, M_VALUE_MIN),
    COL("max_event_value", REPORT_NUMBER, M_VALUE_MAX),
    AVG("avg_event_value", REPORT_NUMBER, M_VALUE_SUM, M_VALUE_COUNT),
    COL("nb_events_with_value", REPORT_INT, M_VALUE_COUNT),
};

static const struct agg_column content_columns[] = {
    COL("nb_impressions", REPORT_INT, M_IMPRESSIONS),
    COL("nb_interactions", REPORT_INT, M_INTERACTIONS),
    RATE("interaction_rate", M_INTERACTIONS, M_IMPRESSIONS),
    COL("nb_visits", REPORT_INT, M_VISITS),
    COL("nb_uniq_visitors", REPORT_INT, M_UNIQ_VISITORS),
};

/* ---- a walk over the selected visits' actions ---- */

struct walk {
    const struct report_query *q;
    struct report_context *ctx;
    enum action_report which;
    struct agg agg;
    struct arena *arena;
    struct arena scratch;      /* tree levels */
    /* string id -> leaf entry + 1, for page trees (one walk up per URL) */
    uint32_t *leaf_of;
};


static bool is_title_report(enum action_report r)
{
    return r == AR_PAGE_TITLES || r == AR_ENTRY_TITLES || r == AR_EXIT_TITLES;
}

/* The entry of a page (URL or title id): its leaf, creating the folders
 * above it. Leaves and folders of the same name are different rows, as in
 * Matomo ("shop" the folder, "/shop" the page). */
static uint32_t page_leaf(struct walk *w, uint32_t id)
{
    if (w->leaf_of[id]) return w->leaf_of[id] - 1;
    const char *levels[ENRICH_MAX_LEVELS];
    const char *s = report_text(w->ctx, id);
    bool titles = is_title_report(w->which);
    size_t n;
    if (!*s) {
        levels[0] = titles ? "Page Name Not Defined" : "Page URL Not Defined";
        n = 1;
    } else {
        n = titles ? enrich_title_levels(s, &w->scratch, levels, ENRICH_MAX_LEVELS)
                   : enrich_path_levels(s, &w->scratch, levels, ENRICH_MAX_LEVELS);
        if (!n) {
            levels[0] = s;
            n = 1;
        }
    }
    uint32_t parent = INDEX_NONE, e = INDEX_NONE;
    if (w->q->flat) {
        /* One row per page, labelled with its whole path or title. */
        struct buf label;
        buf_init(&label);
        for (size_t i = 0; i < n; i++) {
            if (titles) {
                if (i) buf_puts(&label, " / ");
            } else if (!(n == 1 && strcmp(levels[0], "/") == 0)) {
                buf_putc(&label, '/');
            }
            buf_puts(&label, levels[i]);
        }
        bool created;
        e = agg_entry(&w->agg, report_hash(label.data), 1, INDEX_NONE, &created);
        if (created) {
            w->agg.entries[e].label = arena_strdup(w->arena, label.data);
            if (!titles) w->agg.entries[e].url = s;
        }
        buf_free(&label);
    } else {
        for (size_t i = 0; i < n; i++) {
            bool leaf = i + 1 == n, created;
            e = agg_entry(&w->agg, report_hash(levels[i]), leaf, parent, &created);
            if (created) {
                struct agg_entry *en = &w->agg.entries[e];
                if (leaf && !titles && strcmp(levels[i], "/") != 0) {
                    char *l = arena_alloc(w->arena, strlen(levels[i]) + 2);
                    if (!l) abort();
                    l[0] = '/';
                    strcpy(l + 1, levels[i]);
                    en->label = l;
                } else {
                    en->label = arena_strdup(w->arena, levels[i]);
                }
                if (leaf && !titles) en->url = s;
            }
            parent = e;
        }
    }
    arena_reset(&w->scratch);
    w->leaf_of[id] = e + 1;
    return e;
}

/* Adds m to entry e and every folder above it, counting the visit and its
 * visitor once per row. */
static void add_up(struct walk *w, uint32_t e, uint32_t row, const double *m)
{
    const struct visit_row *v = &w->ctx->site->visits[row];
    for (; e != INDEX_NONE; e = w->agg.entries[e].parent) {
        struct agg_entry *en = &w->agg.entries[e];
        for (int k = 0; k < M_COUNT; k++) {
            if (k == M_VALUE_MIN || k == M_VALUE_MAX) continue;
            en->m[k] += m[k];
        }
        if (!isnan(m[M_VALUE_MIN])) {
            if (isnan(en->m[M_VALUE_MIN]) || m[M_VALUE_MIN] < en->m[M_VALUE_MIN])
                en->m[M_VALUE_MIN] = m[M_VALUE_MIN];
            if (isnan(en->m[M_VALUE_MAX]) || m[M_VALUE_MAX] > en->m[M_VALUE_MAX])
                en->m[M_VALUE_MAX] = m[M_VALUE_MAX];
        }
        if (agg_first_in_visit(&w->agg, e, row)) {
            en->m[M_VISITS]++;
            agg_add_visitor(&w->agg, e, v->visitor);
        }
    }
}

static void metrics_clear(double *m)
{
    memset(m, 0, M_COUNT * sizeof *m);
    m[M_VALUE_MIN] = m[M_VALUE_MAX] = NAN;
}

/* One pageview into its page row and the folders above it. Pages are
 * most of all actions, so this touches only the metrics they have. */
static void add_pageview(struct walk *w, uint32_t e, uint32_t row, double seconds, bool entry,
                         bool exit)
{
    const struct site_index *s = w->ctx->site;
    const struct visit_row *v = &s->visits[row];
    for (; e != INDEX_NONE; e = w->agg.entries[e].parent) {
        double *m = w->agg.entries[e].m;
        m[M_HITS]++;
        m[M_TIME] += seconds;
        if (entry) {
            m[M_ENTRY_VISITS]++;
            m[M_ENTRY_ACTIONS] += v->actions;
            m[M_ENTRY_LENGTH] += (double)((v->end_ms - s->visit_start[row]) / 1000);
            m[M_ENTRY_BOUNCES] += v->actions <= 1;
        }
        m[M_EXIT_VISITS] += exit;
        if (agg_first_in_visit(&w->agg, e, row)) {
            m[M_VISITS]++;
            agg_add_visitor(&w->agg, e, v->visitor);
        }
    }
}

/* Pages and titles: hits, time spent, entries and exits. */
static void walk_pages(struct walk *w, uint32_t row)
{
    const struct site_index *s = w->ctx->site;
    const struct visit_row *v = &s->visits[row];
    bool titles = is_title_report(w->which);
    uint32_t seen = 0, previous = INDEX_NONE;
    /* Each pageview is added when the next one is found: its time on page
     * runs until then (the last one's until the visit's last hit). */
    for (uint32_t i = v->first_action;; i = s->actions[i].next) {
        const struct action_row *a = i == INDEX_NONE ? NULL : &s->actions[i];
        if (a && a->kind != HIT_PAGEVIEW) continue;
        if (previous != INDEX_NONE) {
            const struct action_row *p = &s->actions[previous];
            int64_t until = a ? a->time_ms : v->end_ms;
            double seconds = (double)((until > p->time_ms ? until - p->time_ms : 0) / 1000);
            add_pageview(w, page_leaf(w, titles ? p->b : p->a), row, seconds, seen == 1, !a);
        }
        if (!a) break;
        seen++;
        previous = i;
    }
}

/* The host of a URL, for outlink and download folders. */
static const char *url_host(struct arena *arena, const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    char *host = arena_strndup(arena, p, n);
    if (!host) abort();
    return *host ? host : "Unknown";
}

static void walk_other(struct walk *w, uint32_t row)
{
    const struct site_index *s = w->ctx->site;
    const struct visit_row *v = &s->visits[row];
    for (uint32_t i = v->first_action; i != INDEX_NONE; i = s->actions[i].next) {
        const struct action_row *a = &s->actions[i];
        double m[M_COUNT];
        metrics_clear(m);
        uint32_t k1 = 0, k2 = 0;
        bool sub = true, created;
        switch (w->which) {
        case AR_SEARCH_KEYWORDS:
        case AR_SEARCH_NO_RESULT:
        case AR_SEARCH_CATEGORIES:
            if (a->kind != HIT_SITE_SEARCH) continue;
            if (w->which == AR_SEARCH_NO_RESULT && !(a->value == 0)) continue;
            k1 = w->which == AR_SEARCH_CATEGORIES ? a->b : a->a;
            if (w->which == AR_SEARCH_CATEGORIES && !k1) continue;
            m[M_HITS] = 1;
            /* The visit ended on this search. */
            m[M_EXIT_VISITS] = a->next == INDEX_NONE;
            sub = false;
            break;
        case AR_OUTLINKS:
        case AR_DOWNLOADS:
            if (a->kind != (w->which == AR_OUTLINKS ? HIT_OUTLINK : HIT_DOWNLOAD)) continue;
            k2 = a->a;
            m[M_HITS] = 1;
            break;
        case AR_EVENT_CATEGORY:
        case AR_EVENT_ACTION:
        case AR_EVENT_NAME:
            if (a->kind != HIT_EVENT) continue;
            k1 = w->which == AR_EVENT_CATEGORY ? a->a : w->which == AR_EVENT_ACTION ? a->b : a->c;
            k2 = w->which == AR_EVENT_CATEGORY ? a->b : w->which == AR_EVENT_ACTION ? a->c : a->b;
            m[M_HITS] = 1;
            if (isfinite(a->value)) {
                m[M_VALUE_SUM] = m[M_VALUE_MIN] = m[M_VALUE_MAX] = a->value;
                m[M_VALUE_COUNT] = 1;
            }
            break;
        case AR_CONTENT_NAMES:
        case AR_CONTENT_PIECES:
            if (a->kind != HIT_CONTENT_IMPRESSION && a->kind != HIT_CONTENT_INTERACTION) continue;
            k1 = w->which == AR_CONTENT_NAMES ? a->a : a->b;
            k2 = w->which == AR_CONTENT_NAMES ? a->b : a->a;
            m[a->kind == HIT_CONTENT_IMPRESSION ? M_IMPRESSIONS : M_INTERACTIONS] = 1;
            break;
        default:
            continue;
        }
        uint32_t e;
        if (w->which == AR_OUTLINKS || w->which == AR_DOWNLOADS) {
            const char *url = report_text(w->ctx, a->a);
            if (w->q->flat) {
                e = agg_entry(&w->agg, a->a, 0, INDEX_NONE, &created);
                if (created) w->agg.entries[e].label = w->agg.entries[e].url = *url ? url : "Unknown";
                add_up(w, e, row, m);
                continue;
            }
            const char *host = url_host(&w->scratch, url);
            e = agg_entry(&w->agg, report_hash(host), 0, INDEX_NONE, &created);
            if (created) w->agg.entries[e].label = arena_strdup(w->arena, host);
            arena_reset(&w->scratch);
        } else {
            e = agg_entry(&w->agg, k1, 0, INDEX_NONE, &created);
            if (created) {
                const char *label = report_text(w->ctx, k1);
                w->agg.entries[e].label = *label ? label : "Unknown";
            }
            if (!sub) {
                add_up(w, e, row, m);
                continue;
            }
        }
        uint32_t child = agg_entry(&w->agg, k2, 1, e, &created);
        if (created) {
            const char *label = report_text(w->ctx, k2);
            w->agg.entries[child].label = *label ? label : "Unknown";
            if (w->which == AR_OUTLINKS || w->which == AR_DOWNLOADS)
                w->agg.entries[child].url = label;
        }
        add_up(w, child, row, m);
    }
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Actions.get: totals of each kind of action. */
static struct report_table *actions_summary(struct walk *w, const uint32_t *rows, size_t n)
{
    static const struct report_column columns[] = {
        {"nb_pageviews", REPORT_INT},  {"nb_uniq_pageviews", REPORT_INT},
        {"nb_downloads", REPORT_INT},  {"nb_uniq_downloads", REPORT_INT},
        {"nb_outlinks", REPORT_INT},   {"nb_uniq_outlinks", REPORT_INT},
        {"nb_searches", REPORT_INT},   {"nb_keywords", REPORT_INT},
        {"nb_events", REPORT_INT},     {"nb_content_impressions", REPORT_INT},
        {"nb_content_interactions", REPORT_INT},
    };
    double *values = arena_alloc(w->arena, COUNT(columns) * sizeof *values);
    if (!values) abort();
    memset(values, 0, COUNT(columns) * sizeof *values);
    /* The visit rows' counts (index_add keeps them), in these columns. */
    static const int column_of[AC_COUNT] = {
        [AC_DOWNLOADS] = 2, [AC_OUTLINKS] = 4, [AC_SEARCHES] = 6, [AC_EVENTS] = 8,
        [AC_CONTENT_IMPRESSIONS] = 9, [AC_CONTENT_INTERACTIONS] = 10,
    };
    /* What the counts cannot say needs the visit's actions: unique
     * downloads and outlinks (distinct per visit, from the visit's (column,
     * target) keys sorted), keywords (distinct over the period), and every
     * count of a visit whose counts were full. */
    struct agg keywords;
    agg_init(&keywords, w->arena, 0);
    uint64_t *keys = NULL;
    size_t key_cap = 0;
    const struct site_index *s = w->ctx->site;
    for (size_t r = 0; r < n; r++) {
        const struct visit_row *v = &s->visits[rows[r]];
        values[0] += v->pageviews;
        values[1] += v->uniq_pageviews;
        bool full = v->flags & VISIT_COUNTS_FULL;
        if (!full) {
            for (int c = 0; c < AC_COUNT; c++) values[column_of[c]] += v->action_counts[c];
            if (!v->action_counts[AC_DOWNLOADS] && !v->action_counts[AC_OUTLINKS] &&
                !v->action_counts[AC_SEARCHES])
                continue;
        }
        size_t key_count = 0;
        for (uint32_t i = v->first_action; i != INDEX_NONE; i = s->actions[i].next) {
            const struct action_row *a = &s->actions[i];
            int total = -1, uniq = -1;
            switch (a->kind) {
            case HIT_DOWNLOAD: total = 2, uniq = 3; break;
            case HIT_OUTLINK: total = 4, uniq = 5; break;
            case HIT_SITE_SEARCH: total = 6; break;
            case HIT_EVENT: total = 8; break;
            case HIT_CONTENT_IMPRESSION: total = 9; break;
            case HIT_CONTENT_INTERACTION: total = 10; break;
            }
            if (full && total >= 0) values[total]++;
            if (a->kind == HIT_SITE_SEARCH) {
                bool created;
                agg_entry(&keywords, a->a, 0, INDEX_NONE, &created);
                values[7] += created;
            }
            if (uniq < 0) continue;
            if (key_count == key_cap) {
                key_cap = key_cap ? key_cap * 2 : 256;
                keys = realloc(keys, key_cap * sizeof *keys);
                if (!keys) abort();
            }
            keys[key_count++] = (uint64_t)uniq << 32 | a->a;
        }
        if (key_count > 1) qsort(keys, key_count, sizeof *keys, compare_u64);
        for (size_t k = 0; k < key_count; k++)
            if (k == 0 || keys[k] != keys[k - 1]) values[keys[k] >> 32]++;
    }
    free(keys);
    agg_free(&keywords);
    struct report_row *row = arena_alloc(w->arena, sizeof *row);
    struct report_table *t = arena_alloc(w->arena, sizeof *t);
    if (!row || !t) abort();
    *row = (struct report_row){.label = "", .values = values};
    *t = (struct report_table){.columns = columns, .column_count = COUNT(columns), .rows = row,
                               .row_count = 1, .single = true};
    return t;
}

int action_report(const struct report_query *q, struct report_context *ctx,
                  enum action_report which, struct arena *arena, struct report_table **out)
{
    uint32_t *rows;
    size_t n;
    int rc = report_select_visits(q, ctx, &rows, &n);
    if (rc) return rc;
    struct walk w = {.q = q, .ctx = ctx, .which = which, .arena = arena};
    if (which == AR_SUMMARY) {
        *out = actions_summary(&w, rows, n);
        free(rows);
        return 0;
    }
    agg_init(&w.agg, arena, ctx->site ? (uint32_t)ctx->site->visitor_count : 0);
    arena_init(&w.scratch, 0);
    bool pages = which <= AR_EXIT_TITLES;
    if (pages) {
        w.leaf_of = calloc(ctx->index->dict.count, sizeof *w.leaf_of);
        if (!w.leaf_of) abort();
    }
    for (size_t i = 0; i < n; i++) {
        if (pages) walk_pages(&w, rows[i]);
        else walk_other(&w, rows[i]);
    }
    const struct agg_column *columns = hit_columns;
    size_t column_count = COUNT(hit_columns);
    int sort = M_HITS;
    switch (which) {
    case AR_PAGE_URLS:
    case AR_PAGE_TITLES:
        columns = page_columns, column_count = COUNT(page_columns);
        break;
    case AR_ENTRY_URLS:
    case AR_ENTRY_TITLES:
        columns = page_columns, column_count = COUNT(page_columns);
        sort = M_ENTRY_VISITS;
        w.agg.required_metric = M_ENTRY_VISITS;
        break;
    case AR_EXIT_URLS:
    case AR_EXIT_TITLES:
        columns = page_columns, column_count = COUNT(page_columns);
        sort = M_EXIT_VISITS;
        w.agg.required_metric = M_EXIT_VISITS;
        break;
    case AR_SEARCH_KEYWORDS:
    case AR_SEARCH_NO_RESULT:
    case AR_SEARCH_CATEGORIES:
        columns = search_columns, column_count = COUNT(search_columns);
        sort = M_VISITS;
        break;
    case AR_EVENT_CATEGORY:
    case AR_EVENT_ACTION:
    case AR_EVENT_NAME:
        columns = event_columns, column_count = COUNT(event_columns);
        break;
    case AR_CONTENT_NAMES:
    case AR_CONTENT_PIECES:
        columns = content_columns, column_count = COUNT(content_columns);
        sort = M_IMPRESSIONS;
        break;
    default:
        break;
    }
    /* Pages and outlinks flatten themselves (full paths and URLs). */
    bool self_flat = pages || which == AR_OUTLINKS || which == AR_DOWNLOADS;
    *out = agg_table(&w.agg, columns, column_count, sort, q->flat && !self_flat, " - ",
                     q->truncate);
    free(w.leaf_of);
    arena_free(&w.scratch);
    agg_free(&w.agg);
    free(rows);
    return 0;
}
