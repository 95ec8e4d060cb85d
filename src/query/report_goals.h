/* report_goals: Matomo's Goals reports (Goals.get, getDaysToConversion,
 * getVisitsUntilConversion) and the goal columns of the visit reports
 * (filter_update_columns_when_show_all_goals=1). Conversions are those of
 * visit_conversions: the goals as defined now, and orders. */
#ifndef TALLY_QUERY_REPORT_GOALS_H
#define TALLY_QUERY_REPORT_GOALS_H

#include "agg.h"

/* What idGoal asks for: every goal and orders, one goal, orders, or
 * abandoned carts. */
enum target_kind { TARGET_ALL, TARGET_GOAL, TARGET_ORDERS, TARGET_CARTS };

struct target {
    enum target_kind kind;
    uint32_t goal_id;      /* TARGET_GOAL */
    const char *key;       /* in column names: "3", "ecommerceOrder", "ecommerceAbandonedCart" */
};

/* q->id_goal, checked: absent or empty is every goal. -EINVAL with
 * ctx->err for what is not a goal of the site. */
int goal_target_parse(struct report_context *ctx, struct arena *arena, struct target *t);
/* One visit's conversions of target t (not TARGET_ALL); their revenue goes
 * to *revenue. */
double goal_target_visit(const struct report_context *ctx, const struct target *t, uint32_t row,
                         double *revenue);

enum goal_report {
    GR_GET,
    GR_DAYS_TO_CONVERSION,
    GR_VISITS_UNTIL_CONVERSION,
};

/* -EINVAL with ctx->err when q->id_goal is not a goal of the site. */
int goal_report(const struct report_query *q, struct report_context *ctx, enum goal_report which,
                struct arena *arena, struct report_table **out);

/* For a visit report asked for goal columns: sets g up (before its first
 * agg_entry) to add up each visit's conversions per row, and returns the
 * columns to show, base's followed by the goal columns, in arena memory.
 * -EINVAL with ctx->err when q->id_goal is not a goal of the site. */
int goal_columns_setup(struct report_context *ctx, struct agg *g, struct arena *arena,
                       const struct agg_column *base, size_t base_count,
                       const struct agg_column **columns, size_t *column_count);

#endif
