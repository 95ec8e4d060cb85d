/* report_funnels: the Funnels reports of a funnel definition (funnels.json),
 * computed at query time over any range and segment:
 * Funnels.getFunnelFlow (a row per step: reached, entered, proceeded,
 * exited, skipped, rates, median time to the next step), .getMetrics (the
 * funnel's entries, exits, conversions and rates), .getFunnelEntries (where
 * the journeys that entered at a step came from) and .getFunnelExits (where
 * those that left at a step went). Per visit (funnelScope=visit, Matomo's
 * definition) or per visitor across visits within funnelWindowDays of the
 * entry. docs/funnels.md has the definitions. */
#ifndef TALLY_QUERY_REPORT_FUNNELS_H
#define TALLY_QUERY_REPORT_FUNNELS_H

#include "report.h"

enum funnel_report { FR_FLOW, FR_METRICS, FR_ENTRIES, FR_EXITS };

/* -EINVAL with a message in ctx->err for a missing funnel, a funnelScope,
 * funnelWindowDays or step it cannot use; -ENOMEM. */
int funnel_report(const struct report_query *q, struct report_context *ctx,
                  enum funnel_report what, struct arena *arena, struct report_table **out);

#endif
