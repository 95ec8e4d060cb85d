/* report_cohorts: Tally's Cohorts.get, a retention triangle. Visitors are
 * grouped by the period (day, week or month) of their first visit; for
 * each later period, how many of them came back, converted, ordered, and
 * their order revenue. docs/cohorts.md has the definitions. */
#ifndef TALLY_QUERY_REPORT_COHORTS_H
#define TALLY_QUERY_REPORT_COHORTS_H

#include "report.h"

/* The most period offsets a cohort row shows (0 .. COHORT_MAX_OFFSETS-1). */
#define COHORT_MAX_OFFSETS 60

/* -EINVAL with a message in ctx->err for a cohortPeriod it does not know;
 * -ENOMEM when the table does not fit the request's arena. */
int cohort_report(const struct report_query *q, struct report_context *ctx, struct arena *arena,
                  struct report_table **out);

#endif
