/* report internals shared by the report files of query/. */
#ifndef TALLY_QUERY_REPORT_H
#define TALLY_QUERY_REPORT_H

#include <string.h>

#include "internal.h"

/* ---- conversions (conversions.c) ----
 * A visit's conversions under the goals of the query: one entry per goal
 * converted, in goal id order, ecommerce orders first as goal 0. */
struct conversion {
    uint32_t goal_id;      /* 0: ecommerce orders */
    uint32_t count;
    double revenue;
};
struct goal_plan;
int goal_plan_create(const struct index *index, const struct goal *goals, size_t goal_count,
                     struct goal_plan **out);
void goal_plan_free(struct goal_plan *p);
/* out stays valid until the next call; asking for the same visit again is free. */
size_t goal_plan_visit(struct goal_plan *p, const struct site_index *s, uint32_t row,
                       const struct conversion **out);
bool goal_plan_converted(struct goal_plan *p, const struct site_index *s, uint32_t row);

struct report_context {
    const struct index *index;
    const struct site_index *site;    /* NULL: the site has no data */
    const struct tz *tz;
    const struct segment *segment;
    const struct names *names;        /* NULL: codes, not names */
    const struct report_query *q;
    struct goal_plan *goals;
    char *err;                        /* a report's reason for -EINVAL ("idGoal 7 is not a goal") */
    size_t errlen;
};
#define COUNT(a) (sizeof(a) / sizeof *(a))

int report_context_init(struct report_context *ctx, const struct report_query *q);
void report_context_free(struct report_context *ctx);
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

/* The visits of the query (started in the range, kept by the segment), in
 * row order. *rows is malloc'd (NULL when there is none). */
int report_select_visits(const struct report_query *q, struct report_context *ctx,
                         uint32_t **rows, size_t *count);

#endif
