/* User flows through the Reporting API (UsersFlow.getUsersFlow,
 * getUsersFlowPretty, getInteractionActions), against expectations
 * computed by hand on a tiny site.
 *
 * The real `tally serve` gets the hits over HTTP as a tracker sends them
 * (cdt with a token to place them in time, cid for the visitor). The site
 * is in UTC; D1 is yesterday, D0 the day before. A step is a pageview or a
 * site search ("Search"); labels are paths (titles with
 * dataSource=page_title: /blog/a and /blog/b are both "Blog").
 *
 *   V0  H D0 09:00 direct   /contact                      (another day)
 *   V1  A D1 08:00 direct   /, /shop, /shop/mugs
 *   V2  B D1 09:00 direct   /, /shop, /about
 *   V3  C D1 10:00 direct   /, search "oolong", /shop/teapots
 *   V4  D D1 11:00 direct   /about                        (one page)
 *   V5  E D1 12:00 direct   /blog/a, /blog/b, /contact
 *   V6  F D1 13:00 Google   /, /shop
 *   V7  G D1 14:00 direct   /blog/b, /
 *
 * D1 by URL:
 *   step 1: 7 visits, 6 proceeded, 1 exit (V4)
 *     /        4, proceeded 4 -> /shop 3, Search 1
 *     /about   1, exit 1
 *     /blog/a  1, proceeded 1 -> /blog/b 1
 *     /blog/b  1, proceeded 1 -> / 1
 *   step 2: 6 visits (= step 1's proceeded), 4 proceeded, 2 exits (V6, V7)
 *     /shop    3, proceeded 2, exit 1 -> /about 1, /shop/mugs 1
 *     /        1, exit 1;  /blog/b 1 -> /contact 1;  Search 1 -> /shop/teapots 1
 *   step 3: 4 visits, 4 exits: /about, /contact, /shop/mugs, /shop/teapots, 1 each
 * With limitActionsPerStep=2 (ties by label, "/" < "/about" < "/blog/a" <
 * "Search"): step 1 keeps / and /about, Others = /blog/a + /blog/b (2
 * visits, 2 proceeded, 2 pages); step 2 keeps /shop and /, Others =
 * /blog/b + Search. Next actions lead to the next step's rows: / -> /shop
 * 3, Others 1 (Search); step 1's Others -> / 1 (V7), Others 1 (V5). */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test.h"

#define SITE "https://tea.example.com"

static const char UA[] =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";

#define HOME "url=" SITE "/|action_name=Home"
#define SHOP "url=" SITE "/shop|action_name=Shop"
#define ABOUT "url=" SITE "/about|action_name=About"
#define CONTACT "url=" SITE "/contact|action_name=Contact"

static const struct dataset_hit hits[] = {
    {'H', 0, 9, 0, CONTACT},
    {'A', 1, 8, 0, HOME},
    {'A', 1, 8, 1, SHOP},
    {'A', 1, 8, 2, "url=" SITE "/shop/mugs|action_name=Mugs"},
    {'B', 1, 9, 0, HOME},
    {'B', 1, 9, 1, SHOP},
    {'B', 1, 9, 2, ABOUT},
    {'C', 1, 10, 0, HOME},
    {'C', 1, 10, 1, "url=" SITE "/search?q=oolong|search=oolong"},
    {'C', 1, 10, 2, "url=" SITE "/shop/teapots|action_name=Teapots"},
    {'D', 1, 11, 0, ABOUT},
    {'E', 1, 12, 0, "url=" SITE "/blog/a|action_name=Blog"},
    {'E', 1, 12, 1, "url=" SITE "/blog/b|action_name=Blog"},
    {'E', 1, 12, 2, CONTACT},
    {'F', 1, 13, 0, HOME "|urlref=https://www.google.com/search?q=tea"},
    {'F', 1, 13, 1, SHOP},
    {'G', 1, 14, 0, "url=" SITE "/blog/b|action_name=Blog"},
    {'G', 1, 14, 1, HOME},
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

static double num(const json_t *row, const char *key)
{
    return json_number_value(get(row, key));
}

/* The step's actions (expanded=1) and an action's next actions. */
static json_t *actions_of(const json_t *steps, const char *step)
{
    return get(report_row(steps, step), "subtable");
}

static void test_steps_by_url(void)
{
    json_t *j = keep(api("method=UsersFlow.getUsersFlow&period=day&date=%s&expanded=1", site.d1));
    ASSERT_TRUE(j != NULL);
    ASSERT_ROWS(j, 3);
    ASSERT_ROW(j, "1", "nb_visits=7 nb_proceeded=6 nb_exits=1");
    ASSERT_ROW(j, "2", "nb_visits=6 nb_proceeded=4 nb_exits=2");
    ASSERT_ROW(j, "3", "nb_visits=4 nb_proceeded=0 nb_exits=4");

    json_t *s1 = actions_of(j, "1");
    ASSERT_ROWS(s1, 4);
    ASSERT_EQ_STR(json_string_value(get(json_array_get(s1, 0), "label")), "/");
    ASSERT_ROW(s1, "/", "nb_visits=4 nb_proceeded=4 nb_exits=0 nb_pages_in_group=-");
    ASSERT_ROW(s1, "/about", "nb_visits=1 nb_proceeded=0 nb_exits=1");
    ASSERT_ROW(s1, "/blog/a", "nb_visits=1 nb_proceeded=1 nb_exits=0");
    json_t *next = get(report_row(s1, "/"), "subtable");
    ASSERT_ROWS(next, 2);
    ASSERT_ROW(next, "/shop", "nb_visits=3");
    ASSERT_ROW(next, "Search", "nb_visits=1");
    ASSERT_ROW(get(report_row(s1, "/blog/b"), "subtable"), "/", "nb_visits=1");

    json_t *s2 = actions_of(j, "2");
    ASSERT_ROWS(s2, 4);
    ASSERT_ROW(s2, "/shop", "nb_visits=3 nb_proceeded=2 nb_exits=1");
    ASSERT_ROW(s2, "Search", "nb_visits=1 nb_proceeded=1 nb_exits=0");
    ASSERT_ROW(s2, "/", "nb_visits=1 nb_proceeded=0 nb_exits=1");
    next = get(report_row(s2, "/shop"), "subtable");
    ASSERT_ROWS(next, 2);
    ASSERT_ROW(next, "/about", "nb_visits=1");
    ASSERT_ROW(next, "/shop/mugs", "nb_visits=1");
    ASSERT_ROW(get(report_row(s2, "Search"), "subtable"), "/shop/teapots", "nb_visits=1");

    json_t *s3 = actions_of(j, "3");
    ASSERT_ROWS(s3, 4);
    ASSERT_ROW(s3, "/contact", "nb_visits=1 nb_exits=1");
}

/* Whatever the data: a step's visits are the previous step's proceeded,
 * its actions add up to it, and each action's next actions to its proceeded. */
static void test_numbers_add_up(void)
{
    static const char *const queries[] = {"", "&limitActionsPerStep=1", "&dataSource=page_title",
                                          "&levelOfDetail=1"};
    for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
        json_t *j = keep(api("method=UsersFlow.getUsersFlow&period=day&date=%s&expanded=1%s",
                             site.d1, queries[q]));
        ASSERT_TRUE(j != NULL);
        ASSERT_TRUE(json_array_size(j) == 3);
        for (size_t i = 0; i < json_array_size(j); i++) {
            json_t *step = json_array_get(j, i), *actions = get(step, "subtable");
            ASSERT_EQ_INT(num(step, "nb_visits"),
                          num(step, "nb_proceeded") + num(step, "nb_exits"));
            if (i)
                ASSERT_EQ_INT(num(step, "nb_visits"),
                              num(json_array_get(j, i - 1), "nb_proceeded"));
            double visits = 0;
            for (size_t a = 0; a < json_array_size(actions); a++) {
                json_t *action = json_array_get(actions, a), *to = get(action, "subtable");
                visits += num(action, "nb_visits");
                double proceeded = 0;
                for (size_t k = 0; k < json_array_size(to); k++)
                    proceeded += num(json_array_get(to, k), "nb_visits");
                ASSERT_EQ_INT(proceeded, num(action, "nb_proceeded"));
            }
            ASSERT_EQ_INT(visits, num(step, "nb_visits"));
        }
    }
}

static void test_others(void)
{
    json_t *j = keep(api("method=UsersFlow.getUsersFlow&period=day&date=%s&expanded=1"
                         "&limitActionsPerStep=2",
                         site.d1));
    ASSERT_TRUE(j != NULL);
    json_t *s1 = actions_of(j, "1");
    ASSERT_ROWS(s1, 3);
    ASSERT_ROW(s1, "/", "nb_visits=4");
    ASSERT_ROW(s1, "/about", "nb_visits=1");
    ASSERT_ROW(s1, "Others", "nb_visits=2 nb_proceeded=2 nb_exits=0 nb_pages_in_group=2");
    ASSERT_EQ_STR(json_string_value(get(json_array_get(s1, 2), "label")), "Others");
    json_t *next = get(report_row(s1, "/"), "subtable");
    ASSERT_ROWS(next, 2);
    ASSERT_ROW(next, "/shop", "nb_visits=3");
    ASSERT_ROW(next, "Others", "nb_visits=1"); /* Search has no row of its own at step 2 */
    next = get(report_row(s1, "Others"), "subtable");
    ASSERT_ROWS(next, 2);
    ASSERT_ROW(next, "/", "nb_visits=1");
    ASSERT_ROW(next, "Others", "nb_visits=1");

    json_t *s2 = actions_of(j, "2");
    ASSERT_ROWS(s2, 3);
    ASSERT_ROW(s2, "/shop", "nb_visits=3");
    ASSERT_ROW(s2, "/", "nb_visits=1");
    ASSERT_ROW(s2, "Others", "nb_visits=2 nb_proceeded=2 nb_pages_in_group=2");
    /* the step totals do not change */
    ASSERT_ROW(j, "2", "nb_visits=6 nb_proceeded=4 nb_exits=2");
}

static void test_titles_and_folders(void)
{
    json_t *j = keep(api("method=UsersFlow.getUsersFlow&period=day&date=%s&expanded=1"
                         "&dataSource=page_title",
                         site.d1));
    ASSERT_TRUE(j != NULL);
    json_t *s1 = actions_of(j, "1");
    ASSERT_ROWS(s1, 3);
    ASSERT_ROW(s1, "Home", "nb_visits=4 nb_proceeded=4");
    ASSERT_ROW(s1, "Blog", "nb_visits=2 nb_proceeded=2");
    ASSERT_ROW(s1, "About", "nb_visits=1 nb_exits=1");
    json_t *next = get(report_row(s1, "Blog"), "subtable");
    ASSERT_ROW(next, "Blog", "nb_visits=1");
    ASSERT_ROW(next, "Home", "nb_visits=1");
    ASSERT_ROW(actions_of(j, "2"), "Shop", "nb_visits=3");

    /* levelOfDetail=1: the first folder; a cut path ends in '/' */
    j = keep(api("method=UsersFlow.getUsersFlow&period=day&date=%s&expanded=1&levelOfDetail=1",
                 site.d1));
    ASSERT_TRUE(j != NULL);
    s1 = actions_of(j, "1");
    ASSERT_ROWS(s1, 3);
    ASSERT_ROW(s1, "/blog/", "nb_visits=2 nb_proceeded=2");
    json_t *s2 = actions_of(j, "2");
    ASSERT_ROW(s2, "/shop", "nb_visits=3");
    ASSERT_ROW(s2, "/blog/", "nb_visits=1");
    json_t *s3 = actions_of(j, "3");
    ASSERT_ROWS(s3, 3);
    ASSERT_ROW(s3, "/shop/", "nb_visits=2 nb_exits=2");
}

static void test_segment_range_and_explore(void)
{
    json_t *j = keep(api("method=UsersFlow.getUsersFlow&period=day&date=%s&expanded=1"
                         "&segment=referrerType==search",
                         site.d1));
    ASSERT_TRUE(j != NULL);
    ASSERT_ROWS(j, 2);
    ASSERT_ROW(j, "1", "nb_visits=1 nb_proceeded=1 nb_exits=0");
    ASSERT_ROW(j, "2", "nb_visits=1 nb_proceeded=0 nb_exits=1");
    ASSERT_ROW(actions_of(j, "2"), "/shop", "nb_visits=1");

    j = keep(
        api("method=UsersFlow.getUsersFlow&period=range&date=%s,%s&expanded=1", site.d0, site.d1));
    ASSERT_TRUE(j != NULL);
    ASSERT_ROW(j, "1", "nb_visits=8 nb_proceeded=6 nb_exits=2");
    ASSERT_ROW(actions_of(j, "1"), "/contact", "nb_visits=1 nb_exits=1");

    /* the visits that were on /shop at step 2: V1, V2, V6 */
    j = keep(api("method=UsersFlow.getUsersFlow&period=day&date=%s&expanded=1"
                 "&exploreStep=2&exploreUrl=%%2Fshop",
                 site.d1));
    ASSERT_TRUE(j != NULL);
    ASSERT_ROWS(j, 3);
    ASSERT_ROW(j, "1", "nb_visits=3 nb_proceeded=3");
    ASSERT_ROW(j, "2", "nb_visits=3 nb_proceeded=2 nb_exits=1");
    ASSERT_ROWS(actions_of(j, "1"), 1);
    ASSERT_ROWS(actions_of(j, "3"), 2);

    /* a day without visits: no steps */
    j = keep(api("method=UsersFlow.getUsersFlow&period=day&date=2001-01-01"));
    ASSERT_TRUE(j != NULL);
    ASSERT_ROWS(j, 0);
}

static void test_pretty_and_interaction_actions(void)
{
    json_t *j = keep(api("method=UsersFlow.getUsersFlowPretty&period=day&date=%s", site.d1));
    ASSERT_TRUE(j != NULL);
    /* 6 of 7 proceeded: 0.86; 1 of 7 left: 14% */
    ASSERT_ROW(j, "Interaction 1",
               "nb_visits=7 nb_proceeded=6 nb_exits=1 proceeded_rate=0.86 exit_rate=14%");
    ASSERT_ROW(j, "Interaction 3", "nb_visits=4 proceeded_rate=0 exit_rate=100%");

    j = keep(api("method=UsersFlow.getInteractionActions&period=day&date=%s&interactionPosition=2"
                 "&expanded=1",
                 site.d1));
    ASSERT_TRUE(j != NULL);
    ASSERT_ROWS(j, 4);
    ASSERT_EQ_STR(json_string_value(get(json_array_get(j, 0), "label")), "/shop");
    ASSERT_ROW(j, "/shop", "nb_visits=3 nb_proceeded=2 nb_exits=1");
    ASSERT_ROWS(get(report_row(j, "/shop"), "subtable"), 2);
    j = keep(api("method=UsersFlow.getInteractionActions&period=day&date=%s&interactionPosition=2"
                 "&offsetActionsPerStep=1",
                 site.d1));
    ASSERT_TRUE(j != NULL);
    ASSERT_ROWS(j, 3);
    ASSERT_TRUE(report_row(j, "/shop") == NULL);
}

static void test_errors(void)
{
    static const struct {
        const char *query, *says;
    } bad[] = {
        {"method=UsersFlow.getUsersFlow&dataSource=page_urls", "dataSource: expected page_url"},
        {"method=UsersFlow.getUsersFlow&limitActionsPerStep=0", "limitActionsPerStep: expected"},
        {"method=UsersFlow.getUsersFlow&limitActionsPerStep=five", "limitActionsPerStep: expected"},
        {"method=UsersFlow.getUsersFlow&exploreStep=2", "go together"},
        {"method=UsersFlow.getUsersFlow&exploreUrl=%2Fshop", "go together"},
        {"method=UsersFlow.getUsersFlow&exploreStep=11&exploreUrl=%2Fshop",
         "exploreStep: expected"},
        {"method=UsersFlow.getUsersFlow&levelOfDetail=0", "levelOfDetail: expected"},
        {"method=UsersFlow.getUsersFlow&levelOfDetail=2&dataSource=page_title", "levelOfDetail:"},
        {"method=UsersFlow.getInteractionActions", "interactionPosition is missing"},
        {"method=UsersFlow.getInteractionActions&interactionPosition=0", "interactionPosition:"},
        {"method=UsersFlow.getInteractionActions&interactionPosition=1&offsetActionsPerStep=-1",
         "offsetActionsPerStep:"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char q[400];
        snprintf(q, sizeof q, "%s&period=day&date=%s&format=json", bad[i].query, site.d1);
        ASSERT_TRUE(report_site_error_says(&site, q, 400, bad[i].says));
    }
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
    RUN(test_steps_by_url);
    RUN(test_numbers_add_up);
    RUN(test_others);
    RUN(test_titles_and_folders);
    RUN(test_segment_range_and_explore);
    RUN(test_pretty_and_interaction_actions);
    RUN(test_errors);
    if (test_failed_total) server_log_tail(&site.server, 3000); /* what a crashed server said */
    server_stop(&site.server);
    harness_rmtree(site.data_dir);
    buf_free(&out);
    return TEST_DONE();
}
