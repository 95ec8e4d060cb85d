/* Transitions for one page through the Reporting API
 * (Transitions.getTransitionsForPageUrl, ...ForPageTitle, ...ForAction),
 * against expectations computed by hand on a tiny site.
 *
 * The real `tally serve` gets the hits over HTTP as a tracker sends them
 * (cdt with a token to place them in time, cid for the visitor). The site
 * is in UTC; D1 is yesterday, D0 the day before. The page studied is
 * P = /about ("About"); "/" is "Home", /contact "Contact", /shop "Shop".
 *
 *   V0  H D0 09:00 direct     P                                (another day)
 *   V1  A D1 08:00 direct     /, P, /contact
 *   V2  B D1 09:00 Google     P, P again (reloaded), outlink partner.example.net/x
 *   V3  C D1 10:00 website    P, download /files/menu.pdf
 *                  (blog.example.org)
 *   V4  D D1 11:00 direct     /, site search "green tea", P
 *   V5  E D1 12:00 Google     P, /shop
 *   V6  F D1 13:00 direct     /contact, P, event Video/Play (passed over)
 *   V7  A D1 17:00 direct     P                   (A's second visit)
 *   V8  G D1 18:00 direct     P, site search "oolong"
 *
 * P on D1: 9 pageviews (V2 has two).
 * Where they came from (each pageview once):
 *   entries 5: V2's first, V3, V5, V7, V8 -> Direct Entry 2 (V7, V8),
 *     Search Engines 2 (Google 2: V2, V5), Websites 1 (blog.example.org: V3)
 *   loops 1: V2's second view (its previous page is P)
 *   previousPages: / 1 (V1), /contact 1 (V6)
 *   previousSiteSearches: "green tea" 1 (V4)
 *   5 + 1 + 2 + 1 = 9
 * Where they went:
 *   V2's first view went to P again: the loop, not a following page
 *   followingPages: /contact 1 (V1), /shop 1 (V5)
 *   outlinks: partner.example.net/x 1 (V2's second view)
 *   downloads: /files/menu.pdf 1 (V3)
 *   followingSiteSearches: "oolong" 1 (V8)
 *   exits 3: V4, V6 (the event is passed over), V7
 *   1 + 2 + 1 + 1 + 1 + 3 = 9
 * Segment referrerType==search: V2, V5: 3 pageviews, 2 entries (Search
 * Engines 2), 1 loop, followingPages /shop 1, outlinks 1, 0 exits.
 * Range D0..D1: V0 too: 10 pageviews, 6 entries (Direct Entry 3), 4 exits.
 *
 * For the long tail, /menu on D1: eight visits come to it from seven
 * pages, /tea/1 (visitor I, twice) and /tea/2 .. /tea/7 (J .. O), and leave.
 * Lists show five rows, the rest as "Others" (limitBeforeGrouping, 5 by
 * default): /tea/1 2, /tea/2 .. /tea/5 1 each, Others 2 (/tea/6, /tea/7). */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test.h"

#define SITE "https://tea.example.com"
#define P SITE "/about"
/* P URL-encoded, for a format string (%% is %) */
#define P_ENC "https%%3A%%2F%%2Ftea.example.com%%2Fabout"

static const char UA[] =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";

#define HOME "url=" SITE "/|action_name=Home"
#define ABOUT "url=" P "|action_name=About"
#define CONTACT "url=" SITE "/contact|action_name=Contact"
#define MENU "url=" SITE "/menu|action_name=Menu"

static const struct dataset_hit hits[] = {
    {'H', 0, 9, 0, ABOUT},
    {'A', 1, 8, 0, HOME},
    {'A', 1, 8, 1, ABOUT},
    {'A', 1, 8, 2, CONTACT},
    {'B', 1, 9, 0, ABOUT "|urlref=https://www.google.com/search?q=tea"},
    {'B', 1, 9, 1, ABOUT},
    {'B', 1, 9, 2, "url=" P "|link=https://partner.example.net/x"},
    {'C', 1, 10, 0, ABOUT "|urlref=https://blog.example.org/post"},
    {'C', 1, 10, 1, "url=" P "|download=" SITE "/files/menu.pdf"},
    {'D', 1, 11, 0, HOME},
    {'D', 1, 11, 1, "url=" SITE "/search?q=green+tea|search=green tea"},
    {'D', 1, 11, 2, ABOUT},
    {'E', 1, 12, 0, ABOUT "|urlref=https://www.google.com/search?q=tea"},
    {'E', 1, 12, 1, "url=" SITE "/shop|action_name=Shop"},
    {'F', 1, 13, 0, CONTACT},
    {'F', 1, 13, 1, ABOUT},
    {'F', 1, 13, 2, "url=" P "|e_c=Video|e_a=Play"},
    {'A', 1, 17, 0, ABOUT},
    {'G', 1, 18, 0, ABOUT},
    {'G', 1, 18, 1, "url=" SITE "/search?q=oolong|search=oolong"},
    {'I', 1, 19, 0, "url=" SITE "/tea/1"},
    {'I', 1, 19, 1, MENU},
    {'I', 1, 20, 0, "url=" SITE "/tea/1"},
    {'I', 1, 20, 1, MENU},
    {'J', 1, 19, 0, "url=" SITE "/tea/2"},
    {'J', 1, 19, 1, MENU},
    {'K', 1, 19, 0, "url=" SITE "/tea/3"},
    {'K', 1, 19, 1, MENU},
    {'L', 1, 19, 0, "url=" SITE "/tea/4"},
    {'L', 1, 19, 1, MENU},
    {'M', 1, 19, 0, "url=" SITE "/tea/5"},
    {'M', 1, 19, 1, MENU},
    {'N', 1, 19, 0, "url=" SITE "/tea/6"},
    {'N', 1, 19, 1, MENU},
    {'O', 1, 19, 0, "url=" SITE "/tea/7"},
    {'O', 1, 19, 1, MENU},
};

static struct report_site site;
static struct buf out;

#define api(...) report_site_api(&site, __VA_ARGS__)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        TEST_RUN(fn);                                                                              \
        keep(NULL);                                                                                \
    } while (0)

#define TALLY(...) (buf_reset(&out), run_tally(&out, __VA_ARGS__))

static json_t *get(const json_t *j, const char *key)
{
    return json_object_get(j, key);
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_page_url(void)
{
    json_t *j =
        keep(api("method=Transitions.getTransitionsForPageUrl&pageUrl=" P_ENC "&period=day&date=%s",
                 site.d1));
    ASSERT_TRUE(j != NULL);
    ASSERT_FIELDS(get(j, "pageMetrics"), "pageviews=9 entries=5 exits=3 loops=1");
    json_t *prev = get(j, "previousPages");
    ASSERT_ROWS(prev, 2);
    ASSERT_ROW(prev, SITE "/", "referrals=1");
    ASSERT_ROW(prev, SITE "/contact", "referrals=1");
    /* a tie: by label */
    ASSERT_EQ_STR(json_string_value(get(json_array_get(prev, 0), "label")), SITE "/");
    json_t *searches = get(j, "previousSiteSearches");
    ASSERT_ROWS(searches, 1);
    ASSERT_ROW(searches, "green tea", "referrals=1");

    json_t *ref = get(j, "referrers");
    ASSERT_ROWS(ref, 3);
    ASSERT_ROW(ref, "Direct Entry", "referrals=2 shortName=direct");
    ASSERT_ROW(ref, "Search Engines", "referrals=2 shortName=search");
    ASSERT_ROW(ref, "Websites", "referrals=1 shortName=website");
    json_t *se = get(report_row(ref, "Search Engines"), "details");
    ASSERT_ROWS(se, 1);
    ASSERT_ROW(se, "Google", "referrals=2");
    json_t *web = get(report_row(ref, "Websites"), "details");
    ASSERT_ROWS(web, 1);
    ASSERT_ROW(web, "blog.example.org", "referrals=1");
    ASSERT_ROWS(get(report_row(ref, "Direct Entry"), "details"), 0);
    /* the fewest last */
    ASSERT_EQ_STR(json_string_value(get(json_array_get(ref, 2), "label")), "Websites");

    json_t *next = get(j, "followingPages");
    ASSERT_ROWS(next, 2);
    ASSERT_ROW(next, SITE "/contact", "referrals=1");
    ASSERT_ROW(next, SITE "/shop", "referrals=1");
    ASSERT_ROWS(get(j, "outlinks"), 1);
    ASSERT_ROW(get(j, "outlinks"), "https://partner.example.net/x", "referrals=1");
    ASSERT_ROWS(get(j, "downloads"), 1);
    ASSERT_ROW(get(j, "downloads"), SITE "/files/menu.pdf", "referrals=1");
    ASSERT_ROWS(get(j, "followingSiteSearches"), 1);
    ASSERT_ROW(get(j, "followingSiteSearches"), "oolong", "referrals=1");
}

static void test_other_pages(void)
{
    /* /contact: V1 from /, exit; V6 entry (direct), then P */
    json_t *j = keep(api("method=Transitions.getTransitionsForPageUrl&pageUrl=" SITE
                         "/contact&period=day&date=%s",
                         site.d1));
    ASSERT_TRUE(j != NULL);
    ASSERT_FIELDS(get(j, "pageMetrics"), "pageviews=2 entries=1 exits=1 loops=0");
    ASSERT_ROW(get(j, "previousPages"), P, "referrals=1");
    ASSERT_ROW(get(j, "followingPages"), P, "referrals=1");
    ASSERT_ROW(get(j, "referrers"), "Direct Entry", "referrals=1");
}

static void test_segment(void)
{
    json_t *j = keep(api("method=Transitions.getTransitionsForPageUrl&pageUrl=" P_ENC
                         "&period=day&date=%s&segment=referrerType==search",
                         site.d1));
    ASSERT_TRUE(j != NULL);
    ASSERT_FIELDS(get(j, "pageMetrics"), "pageviews=3 entries=2 exits=0 loops=1");
    ASSERT_ROWS(get(j, "referrers"), 1);
    ASSERT_ROW(get(j, "referrers"), "Search Engines", "referrals=2");
    ASSERT_ROWS(get(j, "previousPages"), 0);
    ASSERT_ROWS(get(j, "followingPages"), 1);
    ASSERT_ROW(get(j, "followingPages"), SITE "/shop", "referrals=1");
    ASSERT_ROWS(get(j, "outlinks"), 1);
    ASSERT_ROWS(get(j, "downloads"), 0);
}

static void test_range_and_period(void)
{
    json_t *j = keep(api("method=Transitions.getTransitionsForPageUrl&pageUrl=" P_ENC
                         "&period=range&date=%s,%s",
                         site.d0, site.d1));
    ASSERT_TRUE(j != NULL);
    ASSERT_FIELDS(get(j, "pageMetrics"), "pageviews=10 entries=6 exits=4 loops=1");
    ASSERT_ROW(get(j, "referrers"), "Direct Entry", "referrals=3");
    j = keep(api("method=Transitions.getTransitionsForPageUrl&pageUrl=" P_ENC "&period=day&date=%s",
                 site.d0));
    ASSERT_TRUE(j != NULL);
    ASSERT_FIELDS(get(j, "pageMetrics"), "pageviews=1 entries=1 exits=1 loops=0");
}

static void test_page_title_and_action(void)
{
    json_t *j = keep(api("method=Transitions.getTransitionsForPageTitle&pageTitle=About"
                         "&period=day&date=%s",
                         site.d1));
    ASSERT_TRUE(j != NULL);
    ASSERT_FIELDS(get(j, "pageMetrics"), "pageviews=9 entries=5 exits=3 loops=1");
    /* pages by title */
    ASSERT_ROWS(get(j, "previousPages"), 2);
    ASSERT_ROW(get(j, "previousPages"), "Home", "referrals=1");
    ASSERT_ROW(get(j, "previousPages"), "Contact", "referrals=1");
    ASSERT_ROW(get(j, "followingPages"), "Shop", "referrals=1");
    ASSERT_ROW(get(j, "outlinks"), "https://partner.example.net/x", "referrals=1");

    j = keep(api("method=Transitions.getTransitionsForAction&actionType=url&actionName=" P_ENC
                 "&period=day&date=%s",
                 site.d1));
    ASSERT_TRUE(j != NULL);
    ASSERT_FIELDS(get(j, "pageMetrics"), "pageviews=9 entries=5 exits=3 loops=1");
    j = keep(api("method=Transitions.getTransitionsForAction&actionType=title&actionName=Contact"
                 "&period=day&date=%s",
                 site.d1));
    ASSERT_TRUE(j != NULL);
    ASSERT_FIELDS(get(j, "pageMetrics"), "pageviews=2 entries=1 exits=1 loops=0");
}

static void test_others(void)
{
    json_t *j = keep(api("method=Transitions.getTransitionsForPageUrl&pageUrl=" SITE
                         "/menu&period=day&date=%s",
                         site.d1));
    ASSERT_TRUE(j != NULL);
    ASSERT_FIELDS(get(j, "pageMetrics"), "pageviews=8 entries=0 exits=8 loops=0");
    json_t *prev = get(j, "previousPages");
    ASSERT_ROWS(prev, 6);
    ASSERT_ROW(prev, SITE "/tea/1", "referrals=2");
    ASSERT_ROW(prev, SITE "/tea/5", "referrals=1");
    ASSERT_TRUE(report_row(prev, SITE "/tea/6") == NULL);
    ASSERT_ROW(prev, "Others", "referrals=2");
    ASSERT_EQ_STR(json_string_value(get(json_array_get(prev, 5), "label")), "Others");

    j = keep(api("method=Transitions.getTransitionsForPageUrl&pageUrl=" SITE
                 "/menu&period=day&date=%s&limitBeforeGrouping=-1",
                 site.d1));
    ASSERT_TRUE(j != NULL);
    ASSERT_ROWS(get(j, "previousPages"), 7);

    /* one row a list: P's previous pages are / and /contact, its following
     * pages /contact and /shop; every channel type still shows */
    j = keep(api("method=Transitions.getTransitionsForPageUrl&pageUrl=" P_ENC
                 "&period=day&date=%s&limitBeforeGrouping=1",
                 site.d1));
    ASSERT_TRUE(j != NULL);
    ASSERT_ROWS(get(j, "previousPages"), 2);
    ASSERT_ROW(get(j, "previousPages"), SITE "/", "referrals=1");
    ASSERT_ROW(get(j, "previousPages"), "Others", "referrals=1");
    ASSERT_ROWS(get(j, "followingPages"), 2);
    ASSERT_ROW(get(j, "followingPages"), "Others", "referrals=1");
    ASSERT_ROWS(get(j, "referrers"), 3);
    ASSERT_ROWS(get(j, "outlinks"), 1);
    /* the totals do not change */
    ASSERT_FIELDS(get(j, "pageMetrics"), "pageviews=9 entries=5 exits=3 loops=1");
}

/* Exact match: no host, a trailing slash, another page: zeros, not an error. */
static void test_unknown_pages_give_zeros(void)
{
    static const char *const pages[] = {"%2Fabout", "https%3A%2F%2Ftea.example.com%2Fabout%2F",
                                        SITE "/nowhere", "About"};
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
        json_t *j = keep(api("method=Transitions.getTransitionsForPageUrl&pageUrl=%s"
                             "&period=day&date=%s",
                             pages[i], site.d1));
        ASSERT_TRUE(j != NULL);
        ASSERT_FIELDS(get(j, "pageMetrics"), "pageviews=0 entries=0 exits=0 loops=0");
        ASSERT_ROWS(get(j, "previousPages"), 0);
        ASSERT_ROWS(get(j, "referrers"), 0);
        ASSERT_ROWS(get(j, "followingPages"), 0);
        ASSERT_ROWS(get(j, "outlinks"), 0);
    }
    /* a day without visits */
    json_t *j = keep(api("method=Transitions.getTransitionsForPageUrl&pageUrl=" P_ENC
                         "&period=day&date=2001-01-01"));
    ASSERT_TRUE(j != NULL);
    ASSERT_FIELDS(get(j, "pageMetrics"), "pageviews=0 entries=0 exits=0 loops=0");
}

static void test_errors(void)
{
    char q[300];
    snprintf(q, sizeof q,
             "method=Transitions.getTransitionsForPageUrl&period=day&date=%s&format=json", site.d1);
    ASSERT_TRUE(report_site_error_says(&site, q, 400, "pageUrl is missing"));
    snprintf(q, sizeof q,
             "method=Transitions.getTransitionsForPageUrl&pageUrl=&period=day&date=%s&format=json",
             site.d1);
    ASSERT_TRUE(report_site_error_says(&site, q, 400, "pageUrl is missing"));
    snprintf(q, sizeof q,
             "method=Transitions.getTransitionsForPageTitle&period=day&date=%s&format=json",
             site.d1);
    ASSERT_TRUE(report_site_error_says(&site, q, 400, "pageTitle is missing"));
    snprintf(q, sizeof q,
             "method=Transitions.getTransitionsForPageUrl&pageUrl=" P_ENC
             "&period=day&date=%s&format=csv",
             site.d1);
    ASSERT_TRUE(report_site_error_says(&site, q, 400, "format=json only"));
    snprintf(q, sizeof q,
             "method=Transitions.getTransitionsForAction&actionType=event&actionName=x"
             "&period=day&date=%s&format=json",
             site.d1);
    ASSERT_TRUE(report_site_error_says(&site, q, 400, "actionType: expected url or title"));
    snprintf(q, sizeof q,
             "method=Transitions.getTransitionsForPageUrl&pageUrl=" P_ENC
             "&period=day&date=last3&format=json");
    ASSERT_TRUE(report_site_error_says(&site, q, 400, "takes one period"));
    snprintf(q, sizeof q,
             "method=Transitions.getTransitionsForPageUrl&pageUrl=" P_ENC
             "&period=day&date=%s&limitBeforeGrouping=0&format=json",
             site.d1);
    ASSERT_TRUE(report_site_error_says(&site, q, 400, "limitBeforeGrouping: expected"));
    snprintf(q, sizeof q,
             "method=Transitions.getTransitionsForPageUrl&pageUrl=" P_ENC "&format=json");
    ASSERT_TRUE(
        report_site_error_says(&site, q, 400, "is not valid: use day, week, month, year or range"));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    buf_init(&out);
    if (!report_site_start(&site, "Tea", SITE, &out)) {
        printf("Bail out! cannot set up the site and a server: %s\n", out.data ? out.data : "");
        return 1;
    }
    if (!report_site_send(&site, hits, sizeof hits / sizeof *hits, UA)) {
        server_log_tail(&site.server, 3000);
        printf("Bail out! the data set was not accepted\n");
        server_stop(&site.server);
        return 1;
    }
    RUN(test_page_url);
    RUN(test_other_pages);
    RUN(test_segment);
    RUN(test_range_and_period);
    RUN(test_page_title_and_action);
    RUN(test_others);
    RUN(test_unknown_pages_give_zeros);
    RUN(test_errors);
    if (test_failed_total) server_log_tail(&site.server, 3000); /* what a crashed server said */
    server_stop(&site.server);
    harness_rmtree(site.data_dir);
    buf_free(&out);
    return TEST_DONE();
}
