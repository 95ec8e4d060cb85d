/* report internals shared by the report files of query/. */
#ifndef TALLY_QUERY_REPORT_H
#define TALLY_QUERY_REPORT_H

#include <string.h>

#include "internal.h"

struct report_context {
    const struct index *index;
    const struct site_index *site;    /* NULL: the site has no data */
    const struct tz *tz;
    const struct segment *segment;
    const struct names *names;        /* NULL: codes, not names */
    const struct report_query *q;
    char *err;                        /* a report's reason for -EINVAL ("idGoal 7 is not a goal") */
    size_t errlen;
};
#define COUNT(a) (sizeof(a) / sizeof *(a))

void report_context_init(struct report_context *ctx, const struct report_query *q);
/* Position of goal id in q's goals (id order), or q->goal_count. */
size_t report_goal_position(const struct report_query *q, uint32_t id);
/* A visit's conversions under the goals defined now, sorted by goal id,
 * ecommerce orders (goal 0) first; returns how many goals. */
static inline size_t visit_conversions(const struct site_index *s, uint32_t row,
                                       const struct conversion **out)
{
    const struct visit_row *v = &s->visits[row];
    *out = v->conversion_count ? &s->conversions[v->first_conversion] : NULL;
    return v->conversion_count;
}
static inline uint64_t report_hash(const char *s)
{
    return index_hash(s, strlen(s));
}
static inline const char *report_text(const struct report_context *ctx, uint32_t id)
{
    return dict_str(&ctx->index->dict, id);
}

int report_local_hour(const struct report_context *ctx, int64_t utc_ms);
int report_day_of_week(const struct report_context *ctx, int64_t utc_ms); /* 1 Monday .. 7 */

const char *report_browser_code(const char *name);
const char *report_os_code(const char *name);
const char *report_ecommerce_status(const struct visit_row *v);
/* "new", "returning" or "returningCustomer" (an order in an earlier visit). */
const char *report_visitor_type(const struct visit_row *v);
/* "countryCode==de": Matomo's per-row segment, the value URL-encoded; in arena. */
const char *report_row_segment(struct arena *arena, const char *dimension, const char *value);
/* "Direct Entry", "Search Engines", ... as Referrers.getReferrerType labels them. */
const char *report_channel_label(unsigned referrer_type);

struct segment_plan;
int segment_plan_create(const struct report_context *ctx, struct segment_plan **out);
void segment_plan_free(struct segment_plan *p);
bool segment_plan_matches(struct segment_plan *p, const struct site_index *s, uint32_t row);

/* Buckets of a fixed scale: lower bounds, ascending, and labels (Matomo's
 * VisitorInterest and Goals ranges; report.c). */
struct report_bucket {
    double from;
    const char *label;
};
extern const struct report_bucket report_visit_count_buckets[]; /* "1 visit" .. "201+ visits" */
extern const size_t report_visit_count_bucket_count;
extern const struct report_bucket report_days_buckets[];        /* "0 days" .. "365+ days" */
extern const size_t report_days_bucket_count;
/* The bucket x falls in (the first when x is below every bound). */
size_t report_bucket_of(const struct report_bucket *b, size_t n, double x);

/* The visits of the query (started in the range, kept by the segment), in
 * row order. *rows is malloc'd (NULL when there is none). */
int report_select_visits(const struct report_query *q, struct report_context *ctx,
                         uint32_t **rows, size_t *count);

#endif
