/* query: reads the store. Time zones (TZif files from the system zoneinfo),
 * per-day statistics and visits folded from their hits. Issue 4 adds the
 * segment language and reports here. */
#ifndef TALLY_QUERY_H
#define TALLY_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "../config/config.h"
#include "../store/store.h"

/* ---- time zones ---- */
struct tz;
/* Loads /usr/share/zoneinfo/NAME ("UTC" always works). -ENOENT / -EINVAL. */
int tz_load(const char *name, struct tz **out);
void tz_free(struct tz *tz);
int64_t tz_offset_ms(const struct tz *tz, int64_t utc_ms);     /* local - UTC */
int64_t tz_local_day(const struct tz *tz, int64_t utc_ms);     /* day number, local */
int64_t tz_day_start_ms(const struct tz *tz, int64_t local_day); /* UTC ms of local midnight */

/* ---- per-day statistics (tally stats) ---- */
struct day_stats {
    int64_t day;                /* local day number in the site's zone */
    uint64_t visits;            /* visits that started that day */
    uint64_t unique_visitors;   /* exact distinct visitor ids with a hit that day */
    uint64_t pageviews;
    uint64_t actions;           /* hit_kind_is_action */
    uint64_t bots;              /* requests from bots, dropped and only counted */
};
/* Fills out[0 .. to_day-from_day] for the site's local days from_day..to_day. */
int query_daily_stats(struct store *store, const struct site *site, int64_t from_day,
                      int64_t to_day, struct day_stats *out);

/* ---- visits ---- */
struct visit {
    uint64_t visit_id;
    uint64_t visitor_id;
    int64_t first_ms, last_ms;
    uint32_t hits, actions, pageviews;
    const char *entry_url, *exit_url;     /* first and last pageview, "" if none */
    bool returning;
    uint32_t visit_count;
    int32_t days_since_last_visit;
    uint8_t referrer_type;
    const char *referrer_name, *referrer_url;
    const char *campaign_name, *campaign_source, *campaign_medium, *campaign_keyword;
    bool converted;                       /* a goal or an order */
    bool ordered;
    double revenue;
};
/* Calls fn for each visit of site that started in [from_ms, to_ms), in start
 * order, with every hit of the visit folded in (hits up to one day past
 * to_ms are looked at). Strings are valid during the call only. */
typedef int (*query_visit_fn)(const struct visit *visit, void *arg);
int query_visits(struct store *store, uint32_t site_id, int64_t from_ms, int64_t to_ms,
                 query_visit_fn fn, void *arg);

#endif
