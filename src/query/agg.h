/* agg: the group-by every report uses. Entries are keyed by (k1, k2) and
 * a parent (hierarchies), carry Matomo's metrics, and count distinct
 * visits, visitors and users exactly. */
#ifndef TALLY_QUERY_AGG_H
#define TALLY_QUERY_AGG_H

#include "report.h"

/* Ordered so that what one pageview or one visit updates sits together. */
enum agg_metric {
    M_HITS,
    M_TIME,            /* seconds spent on pages */
    M_VISITS,
    M_EXIT_VISITS,
    M_ENTRY_VISITS,
    M_ENTRY_ACTIONS,
    M_ENTRY_LENGTH,
    M_ENTRY_BOUNCES,
    M_ACTIONS,
    M_MAX_ACTIONS,
    M_LENGTH,          /* seconds */
    M_BOUNCES,
    M_CONVERTED,
    M_PAGEVIEWS,
    M_UNIQ_VISITORS,
    M_USERS,
    M_UNIQ_PAGEVIEWS,
    M_VALUE_SUM,
    M_VALUE_MIN,
    M_VALUE_MAX,
    M_VALUE_COUNT,
    M_IMPRESSIONS,
    M_INTERACTIONS,
    M_COUNT
};

struct agg_entry {
    /* First what a pageview or a visit updates: one cache line. */
    uint32_t last_visit;   /* visit row + 1 that last counted here */
    uint32_t last_visitor; /* visitor ordinal + 1 that last counted here */
    double m[M_COUNT];
    uint64_t k1, k2;
    uint32_t parent;       /* INDEX_NONE for top rows */
    const char *label;
    const char *code;      /* extra "code" column, or NULL */
    const char *url;       /* extra "url" column, or NULL */
    const char *segment;   /* extra "segment" column, or NULL */
    /* Distinct visitors: noted as (visitor, entry) pairs while few; a row
     * seen by many switches to a bitmap over visitor ordinals. */
    uint64_t *visitor_bits;
    uint32_t notes;
};

struct agg_pairs {         /* exact set of (entry, id): distinct users */
    uint64_t *ids;
    uint32_t *entries;     /* entry + 1; 0 = empty */
    size_t cap, used;
};

struct agg {
    struct agg_entry *entries;
    size_t count, cap;
    uint32_t *slots;       /* entry + 1 */
    size_t slot_cap;
    struct agg_pairs users;
    /* (visitor ordinal << 32 | entry), once per visit and entry: sorted
     * by visitor when the table is built, they give exact distinct
     * visitors per entry (and for "Others") in sequential passes */
    uint64_t *seen;
    size_t seen_count, seen_cap;
    uint32_t visitor_count; /* the site's: bitmaps have this many bits */
    bool borrows_bitmaps;   /* a flat copy: the bitmaps belong to the tree */
    struct arena *arena;   /* labels */
    int required_metric;   /* tables leave out entries where it is 0; -1: none */
    /* Extra metrics (goal columns): extra_count per entry, at
     * extras[entry * extra_count], summed like counts (into "Others" too).
     * visit_extras adds one visit's to an entry's, from agg_add_visit. */
    size_t extra_count;
    double *extras;
    void (*visit_extras)(void *arg, double *extras, const struct report_context *ctx,
                         uint32_t row);
    void *visit_extras_arg;
};

/* visitor_count: the site's (struct site_index), or 0 when no visitors are
 * counted. */
void agg_init(struct agg *g, struct arena *arena, uint32_t visitor_count);
/* Gives every entry count extra metrics, which fn (if not NULL) adds to
 * for each visit agg_add_visit counts. Before the first agg_entry. */
void agg_set_extras(struct agg *g, size_t count,
                    void (*fn)(void *arg, double *extras, const struct report_context *ctx,
                               uint32_t row),
                    void *arg);
void agg_free(struct agg *g);
/* The entry for (k1, k2, parent); *created says whether it is new (its
 * label is then the caller's to set). */
uint32_t agg_entry(struct agg *g, uint64_t k1, uint64_t k2, uint32_t parent, bool *created);
/* Counts one visit into entry e: visits, actions, length, bounces,
 * conversions, distinct visitors and users. Once per visit and entry. */
void agg_add_visit(struct agg *g, uint32_t e, const struct report_context *ctx, uint32_t row);
/* Marks visit row as seen by entry e; true the first time (count it). */
bool agg_first_in_visit(struct agg *g, uint32_t e, uint32_t row);
/* Notes that a visitor (ordinal) was seen in entry e; agg_table turns
 * these into exact distinct counts. Call it once per visit and entry. */
void agg_add_visitor(struct agg *g, uint32_t e, uint32_t visitor);

/* How a table column is computed from entry metrics: m[metric] /
 * m[per] (per < 0: as is) * scale. A metric (or per) from M_COUNT up is
 * the entry's extra metric number metric - M_COUNT. */
struct agg_column {
    struct report_column column;
    int metric, per;
    double scale;
};
/* Column definitions: a metric as is, a rate in percent, an average. */
#define COL(name, format, metric) {{name, format}, metric, -1, 1}
#define RATE(name, metric, per) {{name, REPORT_PERCENT}, metric, per, 100}
#define AVG(name, format, metric, per) {{name, format}, metric, per, 1}

/* Builds the report table of g: top entries as rows, children as
 * subtables (or, flat, leaves with labels joined by flat_separator),
 * sorted by sort_metric descending (-1: by k1 ascending), truncated per q->truncate with an
 * "Others" row whose distinct counts are exact. */
struct report_table *agg_table(struct agg *g, const struct agg_column *columns,
                               size_t column_count, int sort_metric, bool flat,
                               const char *flat_separator, size_t truncate);

#endif
