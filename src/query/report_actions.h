/* report_actions: the reports grouped by actions (pages, titles, site
 * search, outlinks, downloads, events, contents). */
#ifndef TALLY_QUERY_REPORT_ACTIONS_H
#define TALLY_QUERY_REPORT_ACTIONS_H

#include "report.h"

enum action_report {
    AR_SUMMARY,
    AR_PAGE_URLS,
    AR_PAGE_TITLES,
    AR_ENTRY_URLS,
    AR_EXIT_URLS,
    AR_ENTRY_TITLES,
    AR_EXIT_TITLES,
    AR_SEARCH_KEYWORDS,
    AR_SEARCH_NO_RESULT,
    AR_SEARCH_CATEGORIES,
    AR_OUTLINKS,
    AR_DOWNLOADS,
    AR_EVENT_CATEGORY,
    AR_EVENT_ACTION,
    AR_EVENT_NAME,
    AR_CONTENT_NAMES,
    AR_CONTENT_PIECES,
};

int action_report(const struct report_query *q, struct report_context *ctx,
                  enum action_report which, struct arena *arena, struct report_table **out);

#endif
