/* MultiChannelConversionAttribution.getChannelAttribution and
 * .getConversionPaths through the real server, on journeys whose credits
 * and paths are worked out by hand below. Days are counted back from today
 * (UTC, the site's zone); the reports ask for D-3 .. D-1, where the
 * conversions of A, B and C are; the paths also for D-5 .. D-1, which adds
 * D's and E's.
 *
 *   A  D-10 from Google (search), D-6 from blog.example.org (website),
 *      D-2 direct, converting goal 1 with revenue 12
 *   B  D-3 from Facebook (social), ordering B1 for 30: one touchpoint
 *   C  D-45 from Google, D-20 through campaign "spring", D-1 direct,
 *      converting goal 1 with revenue 6; D-45 is outside the default
 *      30-day window and inside a 60-day one
 *   D  D-8 from Google, D-6 from news.example.net (website), D-4 direct,
 *      converting goal 1 with revenue 8 and ordering D1 for 20: two
 *      conversions in one visit
 *   E  D-9, D-7 and D-5 from Google, ordering E1 for 40 in the last:
 *      consecutive repeats of one channel type
 *
 * Shares of a conversion, touchpoints oldest first:
 *   A (3 touches: search, website, direct; the last non-direct: website)
 *     first 1,0,0  last 0,0,1  lastNonDirect 0,1,0  linear 1/3 each
 *     positionBased .4,.2,.4  timeDecay 1/6, 2/6, 3/6
 *   B (1 touch) 1 in every model
 *   C (2 touches: campaign, direct) first 1,0  last 0,1  lastNonDirect 1,0
 *     linear .5,.5  positionBased .5,.5  timeDecay 1/3, 2/3
 * Revenue is the same share of the conversion's revenue.
 *
 * Paths (channel types of the same touchpoints, oldest first):
 *   A  Search Engines > Websites > Direct Entry       1 conversion, 12
 *   B  Social Networks                                1 conversion, 30
 *   C  Campaigns > Direct Entry (60 days: Search Engines > Campaigns >
 *      Direct Entry)                                  1 conversion, 6
 *   D  Search Engines > Websites > Direct Entry       2 conversions, 28
 *   E  Search Engines > Search Engines > Search Engines  1 conversion, 40 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test.h"

#define SHOP "https://shop.example.com"

static struct server server;
static char data_dir[256];
static char token[33];
static int64_t today;
static char range[32];
static char wide[32]; /* D-5 .. D-1 */

static json_t *api(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *api(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *j = api_jsonv(&server, token, 1, fmt, ap);
    va_end(ap);
    return j;
}

/* One hit of visitor v, days_ago days back at minute m of the day, with
 * query params (already URL-encoded). */
static bool track(char v, int days_ago, int m, const char *params)
{
    char query[2048], cid[17];
    memset(cid, v, 16);
    cid[16] = '\0';
    int64_t t = ((today - days_ago) * MS_PER_DAY + m * 60000LL) / 1000;
    snprintf(query, sizeof query, "idsite=1&rec=1&send_image=0&cid=%s&cdt=%lld&token_auth=%s&%s",
             cid, (long long)t, token, params);
    return track_get(&server, query, "") == 204;
}

#define PAGE "url=" SHOP "%2F&action_name=Home"
#define GOOGLE "&urlref=https%3A%2F%2Fwww.google.com%2Fsearch%3Fq%3Dtea"

static bool send_journeys(void)
{
    return track('a', 10, 540, PAGE GOOGLE) &&
           track('a', 6, 540, PAGE "&urlref=https%3A%2F%2Fblog.example.org%2Fpost") &&
           track('a', 2, 540, PAGE) && track('a', 2, 550, "url=" SHOP "%2F&idgoal=1&revenue=12") &&
           track('b', 3, 540, PAGE "&urlref=https%3A%2F%2Fwww.facebook.com%2F") &&
           track('b', 3, 550, "url=" SHOP "%2Fthanks&idgoal=0&ec_id=B1&revenue=30") &&
           track('c', 45, 540, PAGE GOOGLE) &&
           track('c', 20, 540, "url=" SHOP "%2F%3Fmtm_campaign%3Dspring&action_name=Home") &&
           track('c', 1, 540, PAGE) && track('c', 1, 550, "url=" SHOP "%2F&idgoal=1&revenue=6") &&
           track('d', 8, 540, PAGE GOOGLE) &&
           track('d', 6, 540, PAGE "&urlref=https%3A%2F%2Fnews.example.net%2Fa") &&
           track('d', 4, 540, PAGE) && track('d', 4, 550, "url=" SHOP "%2F&idgoal=1&revenue=8") &&
           track('d', 4, 555, "url=" SHOP "%2Fthanks&idgoal=0&ec_id=D1&revenue=20") &&
           track('e', 9, 540, PAGE GOOGLE) && track('e', 7, 540, PAGE GOOGLE) &&
           track('e', 5, 540, PAGE GOOGLE) &&
           track('e', 5, 550, "url=" SHOP "%2Fthanks&idgoal=0&ec_id=E1&revenue=40");
}

#define METHOD "method=MultiChannelConversionAttribution.getChannelAttribution&period=range&date="

static void test_every_model(void)
{
    json_t *rows = keep(api(METHOD "%s", range));
    ASSERT_ROWS(rows, 5);
    ASSERT_ROW(rows, "Search Engines",
               "nb_conversions_attrib_firstInteraction=1 revenue_attrib_firstInteraction=12 "
               "nb_conversions_attrib_lastInteraction=0 nb_conversions_attrib_lastNonDirect=0 "
               "nb_conversions_attrib_linear=0.33 revenue_attrib_linear=4 "
               "nb_conversions_attrib_positionBased=0.4 revenue_attrib_positionBased=4.8 "
               "nb_conversions_attrib_timeDecay=0.17 revenue_attrib_timeDecay=2");
    ASSERT_ROW(rows, "Websites",
               "nb_conversions_attrib_firstInteraction=0 nb_conversions_attrib_lastInteraction=0 "
               "nb_conversions_attrib_lastNonDirect=1 revenue_attrib_lastNonDirect=12 "
               "nb_conversions_attrib_linear=0.33 nb_conversions_attrib_positionBased=0.2 "
               "revenue_attrib_positionBased=2.4 nb_conversions_attrib_timeDecay=0.33 "
               "revenue_attrib_timeDecay=4");
    /* A's last touch and C's: 1/3 + 1/2, .4 + .5, 1/2 + 2/3. */
    ASSERT_ROW(rows, "Direct Entry",
               "nb_conversions_attrib_firstInteraction=0 nb_conversions_attrib_lastInteraction=2 "
               "revenue_attrib_lastInteraction=18 nb_conversions_attrib_lastNonDirect=0 "
               "nb_conversions_attrib_linear=0.83 revenue_attrib_linear=7 "
               "nb_conversions_attrib_positionBased=0.9 revenue_attrib_positionBased=7.8 "
               "nb_conversions_attrib_timeDecay=1.17 revenue_attrib_timeDecay=10");
    /* B alone: a single touch gets everything, in every model. */
    ASSERT_ROW(rows, "Social Networks",
               "nb_conversions_attrib_firstInteraction=1 nb_conversions_attrib_lastInteraction=1 "
               "nb_conversions_attrib_lastNonDirect=1 nb_conversions_attrib_linear=1 "
               "nb_conversions_attrib_positionBased=1 nb_conversions_attrib_timeDecay=1 "
               "revenue_attrib_timeDecay=30");
    ASSERT_ROW(rows, "Campaigns",
               "nb_conversions_attrib_firstInteraction=1 revenue_attrib_firstInteraction=6 "
               "nb_conversions_attrib_lastInteraction=0 nb_conversions_attrib_lastNonDirect=1 "
               "nb_conversions_attrib_linear=0.5 nb_conversions_attrib_positionBased=0.5 "
               "nb_conversions_attrib_timeDecay=0.33 revenue_attrib_timeDecay=2");
    /* The default model (last non-direct) orders the rows: Websites,
     * Social Networks and Campaigns have 1 each (then by label). */
    ASSERT_TRUE(!strcmp(json_string_value(json_object_get(json_array_get(rows, 0), "label")),
                        "Campaigns"));
}

static void test_window(void)
{
    /* 60 days reach C's D-45 visit from Google: first interaction moves
     * from Campaigns to Search Engines; the last non-direct stays. */
    json_t *rows = keep(api(METHOD "%s&numDaysPriorToConversion=60", range));
    ASSERT_ROW(rows, "Search Engines",
               "nb_conversions_attrib_firstInteraction=2 revenue_attrib_firstInteraction=18 "
               "nb_conversions_attrib_lastNonDirect=0");
    ASSERT_ROW(rows, "Campaigns",
               "nb_conversions_attrib_firstInteraction=0 nb_conversions_attrib_lastNonDirect=1");
    /* 7 days: A keeps its D-6 website visit and its direct one; C only its
     * direct one, whose conversion goes to Direct Entry in every model
     * (no touch was not direct). */
    rows = keep(api(METHOD "%s&numDaysPriorToConversion=7", range));
    ASSERT_ROWS(rows, 3);
    ASSERT_ROW(rows, "Direct Entry",
               "nb_conversions_attrib_firstInteraction=1 nb_conversions_attrib_lastInteraction=2 "
               "nb_conversions_attrib_lastNonDirect=1");
    ASSERT_ROW(rows, "Websites",
               "nb_conversions_attrib_firstInteraction=1 nb_conversions_attrib_lastNonDirect=1");
    ASSERT_TRUE(report_row(rows, "Search Engines") == NULL);
}

static void test_one_goal_and_orders(void)
{
    json_t *rows = keep(api(METHOD "%s&idGoal=ecommerceOrder", range));
    ASSERT_ROWS(rows, 1);
    ASSERT_ROW(rows, "Social Networks", "nb_conversions_attrib_linear=1 revenue_attrib_linear=30");
    rows = keep(api(METHOD "%s&idGoal=1", range));
    ASSERT_ROWS(rows, 4);
    ASSERT_TRUE(report_row(rows, "Social Networks") == NULL);
}

static void test_refusals(void)
{
    const char *bad[] = {"&numDaysPriorToConversion=45", "&idGoal=ecommerceAbandonedCart",
                         "&idGoal=9"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char query[256];
        int status;
        snprintf(query, sizeof query, "format=json&" METHOD "%s%s", range, bad[i]);
        char *body = api_get(&server, token, 1, query, &status);
        ASSERT_EQ_INT(status, 400);
        free(body);
    }
}

#define PATHS "method=MultiChannelConversionAttribution.getConversionPaths&period=range&date="
#define SEWD "Search Engines > Websites > Direct Entry"

static void test_paths(void)
{
    json_t *rows = keep(api(PATHS "%s", range));
    ASSERT_ROWS(rows, 3);
    ASSERT_ROW(rows, SEWD, "nb_conversions=1 revenue=12 nb_visits_converted=1");
    ASSERT_ROW(rows, "Social Networks", "nb_conversions=1 revenue=30 nb_visits_converted=1");
    ASSERT_ROW(rows, "Campaigns > Direct Entry",
               "nb_conversions=1 revenue=6 nb_visits_converted=1");
    /* D-5 .. D-1: D's two conversions (one visit) join A's path: 1 + 2
     * conversions, 12 + 8 + 20 revenue, 2 visits; E's repeats stay. */
    rows = keep(api(PATHS "%s&expanded=1", wide));
    ASSERT_ROWS(rows, 4);
    ASSERT_ROW(rows, SEWD, "nb_conversions=3 revenue=40 nb_visits_converted=2");
    ASSERT_ROW(rows, "Search Engines > Search Engines > Search Engines",
               "nb_conversions=1 revenue=40 nb_visits_converted=1");
    /* The most converting path first, then ties by label. */
    ASSERT_TRUE(
        !strcmp(json_string_value(json_object_get(json_array_get(rows, 0), "label")), SEWD));
    ASSERT_TRUE(!strcmp(json_string_value(json_object_get(json_array_get(rows, 1), "label")),
                        "Campaigns > Direct Entry"));
    /* The subtable: the channels of A's and D's paths. */
    const json_t *channels = json_object_get(report_row(rows, SEWD), "subtable");
    ASSERT_ROWS(channels, 2);
    ASSERT_ROW(channels, "Google > blog.example.org > Direct Entry",
               "nb_conversions=1 revenue=12 nb_visits_converted=1");
    ASSERT_ROW(channels, "Google > news.example.net > Direct Entry",
               "nb_conversions=2 revenue=28 nb_visits_converted=1");
    ASSERT_ROW(json_object_get(report_row(rows, "Campaigns > Direct Entry"), "subtable"),
               "spring > Direct Entry", "nb_conversions=1");
    /* Truncated to one row: the other three in Others, 1 + 1 + 1
     * conversions, 40 + 30 + 6 revenue. */
    rows = keep(api(PATHS "%s&filter_truncate=1", wide));
    ASSERT_ROWS(rows, 2);
    ASSERT_ROW(rows, "Others", "nb_conversions=3 revenue=76 nb_visits_converted=3");
    rows = keep(api(PATHS "%s&filter_limit=1", wide));
    ASSERT_ROWS(rows, 1);
}

static void test_paths_window_and_goal(void)
{
    /* 60 days: C's D-45 Google visit opens its path. */
    json_t *rows = keep(api(PATHS "%s&numDaysPriorToConversion=60", range));
    ASSERT_ROWS(rows, 3);
    ASSERT_ROW(rows, "Search Engines > Campaigns > Direct Entry", "nb_conversions=1 revenue=6");
    ASSERT_TRUE(report_row(rows, "Campaigns > Direct Entry") == NULL);
    /* 7 days: A loses its D-10 Google visit, C keeps only its direct one. */
    rows = keep(api(PATHS "%s&numDaysPriorToConversion=7", range));
    ASSERT_ROWS(rows, 3);
    ASSERT_ROW(rows, "Websites > Direct Entry", "nb_conversions=1 revenue=12");
    ASSERT_ROW(rows, "Direct Entry", "nb_conversions=1 revenue=6");
    /* Goal 1 only: D's order leaves its path, B's and E's paths go. */
    rows = keep(api(PATHS "%s&idGoal=1", wide));
    ASSERT_ROWS(rows, 2);
    ASSERT_ROW(rows, SEWD, "nb_conversions=2 revenue=20 nb_visits_converted=2");
    ASSERT_ROW(rows, "Campaigns > Direct Entry", "nb_conversions=1 revenue=6");
    /* The orders: B's, D's and E's. */
    rows = keep(api(PATHS "%s&idGoal=ecommerceOrder", wide));
    ASSERT_ROWS(rows, 3);
    ASSERT_ROW(rows, SEWD, "nb_conversions=1 revenue=20 nb_visits_converted=1");
    ASSERT_ROW(rows, "Social Networks", "nb_conversions=1 revenue=30");
}

static void test_paths_refusals(void)
{
    const char *bad[] = {"&numDaysPriorToConversion=45", "&idGoal=ecommerceAbandonedCart",
                         "&idGoal=9"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char query[256];
        int status;
        snprintf(query, sizeof query, "format=json&" PATHS "%s%s", range, bad[i]);
        char *body = api_get(&server, token, 1, query, &status);
        ASSERT_EQ_INT(status, 400);
        free(body);
    }
}

static bool start(void)
{
    struct buf out;
    buf_init(&out);
    bool ok = harness_tmpdir(data_dir) == 0 &&
              run_tally(&out, "site add --data %s --name Shop --url " SHOP, data_dir) == 0 &&
              harness_token_create(data_dir, 1, token) == 0 &&
              run_tally(&out, "goal add --data %s --site 1 --name Lead --match manual", data_dir) == 0 &&
              server_start(&server, data_dir, "") == 0;
    if (!ok) printf("# %s\n", out.data ? out.data : "");
    buf_free(&out);
    return ok;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    today = now_ms() / MS_PER_DAY;
    char from[11], to[11];
    format_date(today - 3, from);
    format_date(today - 1, to);
    snprintf(range, sizeof range, "%s,%s", from, to);
    format_date(today - 5, from);
    snprintf(wide, sizeof wide, "%s,%s", from, to);
    if (!start()) {
        printf("Bail out! cannot set up a site with a goal and a server\n");
        return 1;
    }
    if (!send_journeys()) {
        server_log_tail(&server, 3000);
        printf("Bail out! the journeys were not tracked\n");
        server_stop(&server);
        return 1;
    }
    TEST_RUN(test_every_model);
    TEST_RUN(test_window);
    TEST_RUN(test_one_goal_and_orders);
    TEST_RUN(test_refusals);
    TEST_RUN(test_paths);
    TEST_RUN(test_paths_window_and_goal);
    TEST_RUN(test_paths_refusals);
    keep(NULL);
    server_stop(&server);
    harness_rmtree(data_dir);
    return TEST_DONE();
}
