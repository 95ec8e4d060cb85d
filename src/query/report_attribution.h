/* report_attribution: multi-channel conversion attribution
 * (MultiChannelConversionAttribution.getChannelAttribution): conversions
 * and revenue credited to the channels of the visitor's earlier visits by
 * six models at once; .getConversionPaths: the sequences of channel types
 * those visits form, most converting first. docs/attribution.md has the
 * definitions. */
#ifndef TALLY_QUERY_REPORT_ATTRIBUTION_H
#define TALLY_QUERY_REPORT_ATTRIBUTION_H

#include "agg.h"

enum attribution_report { ATTR_CHANNELS, ATTR_PATHS };

/* -EINVAL with ctx->err for an idGoal or numDaysPriorToConversion it
 * cannot use. */
int attribution_report(const struct report_query *q, struct report_context *ctx,
                       enum attribution_report what, struct arena *arena,
                       struct report_table **out);

#endif
