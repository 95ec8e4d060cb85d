/* report_flows: Matomo's UsersFlow reports (the top paths through a site by
 * interaction step). docs/users-flow.md has the definitions. */
#ifndef TALLY_QUERY_REPORT_FLOWS_H
#define TALLY_QUERY_REPORT_FLOWS_H

#include "report.h"

/* The most interaction steps a flow shows (Matomo's default maxSteps). */
#define FLOW_MAX_STEPS 10

enum flow_report {
    FLOW_STEPS,          /* UsersFlow.getUsersFlow */
    FLOW_STEPS_PRETTY,   /* UsersFlow.getUsersFlowPretty */
    FLOW_STEP_ACTIONS,   /* UsersFlow.getInteractionActions */
};

/* -EINVAL with a message in ctx->err for a parameter it cannot use;
 * -ENOMEM when the table does not fit the request's arena. */
int flow_report(const struct report_query *q, struct report_context *ctx, enum flow_report which,
                struct arena *arena, struct report_table **out);

#endif
