/* report_attribution: multi-channel conversion attribution
 * (MultiChannelConversionAttribution.getChannelAttribution): conversions
 * and revenue credited to the channels of the visitor's earlier visits by
 * six models at once. docs/attribution.md has the definitions. */
#ifndef TALLY_QUERY_REPORT_ATTRIBUTION_H
#define TALLY_QUERY_REPORT_ATTRIBUTION_H

#include "agg.h"

/* -EINVAL with ctx->err for an idGoal or numDaysPriorToConversion it
 * cannot use. */
int attribution_report(const struct report_query *q, struct report_context *ctx,
                       struct arena *arena, struct report_table **out);

#endif
