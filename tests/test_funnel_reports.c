/* The funnel reports through the Reporting API (Funnels.getFunnelFlow,
 * getMetrics, getFunnelEntries, getFunnelExits), against expectations
 * computed by hand on a tiny shop.
 *
 * The real `tally serve` gets the hits over HTTP (cdt with a token places
 * them in time, cid names the visitor); the goal and both funnels are
 * defined with the CLI only after the data arrived, so the reports work on
 * history. The site is in UTC; D1 is yesterday, D0 the day before.
 *
 * Goal 1 "Bought": url contains /thanks.
 * Funnel 1 "Checkout" (no goal):
 *   S1 Cart    path starts_with /cart   required
 *   S2 Address title exact Address      optional
 *   S3 Pay     event action exact pay   required
 *   S4 Done    goal 1
 * Funnel 2 "Browse" (tied to goal 1):
 *   B1 Home    path exact /             optional
 *   B2 Product path starts_with /product optional
 *   B3 Cart    path starts_with /cart   required
 *   B4 Pay     event action exact pay
 *
 *   visit     who  when       from     actions (minutes after the hour)
 *   V1        A    D1 08:00   direct   :00 /  :01 /cart  :03 /address  :06 pay  :07 /thanks
 *   V2        B    D1 09:00   Google   :00 /product/tea  :02 /cart  :05 pay  :06 /cart
 *   V3        C    D1 10:00   direct   :00 pay  :01 /cart  :02 /cart  :03 /address
 *   V4        D    D1 11:00   blog     :00 /address  :01 /thanks
 *   V5        E    D1 12:00   direct   :00 /  :01 /cart  :02 /thanks
 *   V6        F    D1 13:00   direct   :00 /cart  :10 /address  :11 /cart  :20 pay  :21 /thanks
 *   V7, V8    G    D0 20:00 /cart;     D1 09:30 pay, 09:31 /thanks
 *   V9, V10   H    D0 01:00 /cart;     D1 23:00 pay, 23:01 /thanks
 *   V11, V12  I    D0 10:00 /cart;     D1 09:00 /thanks
 *
 * Checkout per visit on D1: V3's pay comes before its cart (a required step
 * first), V4 and V8, V10 never reach the cart, V5 skips the required Pay
 * (its /thanks cannot count). Journeys V1 (1 2 3 4), V2 (1 3: Address
 * skipped), V3 (1 2: its cart repeated), V5 (1), V6 (1 2 3 4: back to the
 * cart after the address changes nothing):
 *   S1: reached 5, entries 5, proceeded 4, exits 1 (V5)
 *   S2: reached 3, skipped 1 (V2), proceeded 2, exits 1 (V3)
 *   S3: reached 3, proceeded 2, exits 1 (V2)
 *   S4: reached 2 = conversions; exits 3 of 5: abandoned 60%
 *   median S1->S2: 120, 120, 600 s -> 120; S2->S3: 180, 600 -> 390; S3->S4: 60, 60 -> 60
 *   entries at S1: the pageview before the cart: / (V1, V5), /product/tea (V2);
 *     none before it: Direct Entry (V3: its event is not a page; V6)
 *   exits: S1 -> /thanks (V5), S2 -> the end of the visit (V3), S3 -> /cart (V2)
 * Browse per visit on D1 (entered mid-way: B2 by V2, B3 by V3 and V6):
 *   V1 B1 B3 B4, V2 B2 B3 B4, V3 B3, V5 B1 B3, V6 B3 B4
 *   entries B1 2, B2 1, B3 2; conversions: goal 1 at or after the entry:
 *   V1, V5 (though it never reached B4), V6 = 3; V2 reached B4 without it.
 * Checkout per visitor over D0..D1 (window 30 days): G and H join: their
 * D0 cart and D1 pay and /thanks are one journey each; I's /thanks cannot
 * count without Pay -> entries 8, conversions 4. funnelWindowDays=1: H's
 * pay is 46 h after its cart, out of the window -> conversions 3. Over D0
 * alone: G, H and I entered then, followed into D1 -> 3 entries, 2
 * conversions (window 1: 1). Per visit, D0's three carts went nowhere.
 * Browse per visitor over D0..D1: G, H, I enter at B3 on D0 and convert
 * the goal on D1 (I in a visit that matches no step) -> entries 8,
 * conversions 6; window 1: H's is too late -> 5. */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "test.h"

#define SITE "https://shop.example.com"

static const char UA[] =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";

#define HOME "url=" SITE "/|action_name=Home"
#define CART "url=" SITE "/cart|action_name=Cart"
#define ADDRESS "url=" SITE "/address|action_name=Address"
#define PAY "url=" SITE "/pay|e_c=Checkout|e_a=pay"
#define THANKS "url=" SITE "/thanks|action_name=Thanks"
#define GOOGLE "|urlref=https://www.google.com/search?q=tea"

static const struct dataset_hit hits[] = {
    {'A', 1, 8, 0, HOME},     {'A', 1, 8, 1, CART},
    {'A', 1, 8, 3, ADDRESS},  {'A', 1, 8, 6, PAY},
    {'A', 1, 8, 7, THANKS},   {'B', 1, 9, 0, "url=" SITE "/product/tea|action_name=Tea" GOOGLE},
    {'B', 1, 9, 2, CART},     {'B', 1, 9, 5, PAY},
    {'B', 1, 9, 6, CART},     {'C', 1, 10, 0, PAY},
    {'C', 1, 10, 1, CART},    {'C', 1, 10, 2, CART},
    {'C', 1, 10, 3, ADDRESS}, {'D', 1, 11, 0, ADDRESS "|urlref=https://blog.example.org/post"},
    {'D', 1, 11, 1, THANKS},  {'E', 1, 12, 0, HOME},
    {'E', 1, 12, 1, CART},    {'E', 1, 12, 2, THANKS},
    {'F', 1, 13, 0, CART},    {'F', 1, 13, 10, ADDRESS},
    {'F', 1, 13, 11, CART},   {'F', 1, 13, 20, PAY},
    {'F', 1, 13, 21, THANKS}, {'G', 0, 20, 0, CART},
    {'G', 1, 9, 30, PAY},     {'G', 1, 9, 31, THANKS},
    {'H', 0, 1, 0, CART},     {'H', 1, 23, 0, PAY},
    {'H', 1, 23, 1, THANKS},  {'I', 0, 10, 0, CART},
    {'I', 1, 9, 0, THANKS},
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

/* The goal and funnels, defined after the data; the server picks up
 * funnels.json within a second or so. */
static bool define_funnels(void)
{
    if (TALLY("goal add --data %s --site 1 --name Bought --match url --type contains "
              "--pattern /thanks",
              site.data_dir) != 0 ||
        TALLY("funnel add --data %s --site 1 --name Checkout "
              "--step 'Cart|path|starts-with|/cart|required' "
              "--step 'Address|title|exact|Address' "
              "--step 'Pay|event-action|exact|pay|required' --step 'Done|goal||1'",
              site.data_dir) != 0 ||
        TALLY("funnel add --data %s --site 1 --name Browse --goal 1 "
              "--step 'Home|path|exact|/' --step 'Product|path|starts-with|/product' "
              "--step 'Cart|path|starts-with|/cart|required' --step 'Pay|event-action|exact|pay'",
              site.data_dir) != 0)
        return false;
    for (int i = 0; i < 100; i++) {
        int status;
        char *body =
            api_get(&site.server, site.token, 1,
                    "method=Funnels.getMetrics&idFunnel=2&period=day&date=yesterday", &status);
        free(body);
        if (status == 200) return true;
        usleep(100000);
    }
    return false;
}

static json_t *get(const json_t *j, const char *key)
{
    return json_object_get(j, key);
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_flow_per_visit(void)
{
    json_t *j = keep(api("method=Funnels.getFunnelFlow&idFunnel=1&period=day&date=%s", site.d1));
    ASSERT_ROWS(j, 4);
    /* steps in order, whatever their counts */
    ASSERT_EQ_STR(json_string_value(get(json_array_get(j, 2), "label")), "Pay");
    ASSERT_ROW(j, "Cart",
               "step_position=1 step_nb_visits=5 step_nb_visits_actual=5 step_nb_entries=5 "
               "step_nb_progressions=0 step_nb_skipped=0 step_nb_proceeded=4 step_nb_exits=1 "
               "step_proceeded_rate=80% step_exited_rate=20% step_conversion_rate=100% "
               "step_conversion_rate_from_previous=- step_median_time_to_next=120 "
               "funnel_scope=visit funnel_window_days=-");
    /* V2 skipped the optional address; V3's cart twice counts once */
    ASSERT_ROW(j, "Address",
               "step_position=2 step_nb_visits=3 step_nb_entries=0 step_nb_progressions=3 "
               "step_nb_skipped=1 step_nb_proceeded=2 step_nb_exits=1 "
               "step_proceeded_rate=66.67% step_conversion_rate=60% "
               "step_conversion_rate_from_previous=60% step_median_time_to_next=390");
    ASSERT_ROW(j, "Pay",
               "step_position=3 step_nb_visits=3 step_nb_entries=0 step_nb_skipped=0 "
               "step_nb_proceeded=2 step_nb_exits=1 step_conversion_rate=60% "
               "step_conversion_rate_from_previous=66.67% step_median_time_to_next=60");
    /* the last step: reaching it is converting, not proceeding or leaving */
    ASSERT_ROW(j, "Done",
               "step_position=4 step_nb_visits=2 step_nb_proceeded=0 step_nb_exits=0 "
               "step_conversion_rate=40% step_median_time_to_next=-");
    ASSERT_EQ_STR(json_string_value(get(report_row(j, "Cart"), "step_definition")),
                  "path starts_with \"/cart\", required");
    ASSERT_EQ_STR(json_string_value(get(report_row(j, "Done"), "step_definition")), "goal 1");
}

static void test_metrics(void)
{
    json_t *j = keep(api("method=Funnels.getMetrics&idFunnel=1&period=day&date=%s", site.d1));
    ASSERT_FIELDS(j, "funnel_sum_entries=5 funnel_sum_exits=3 funnel_nb_conversions=2 "
                     "funnel_conversion_rate=40% funnel_abandoned_rate=60% funnel_scope=visit");
    /* tied to a goal: V5 converted after entering without reaching Pay */
    j = keep(api("method=Funnels.getMetrics&idFunnel=2&period=day&date=%s", site.d1));
    ASSERT_FIELDS(j, "funnel_sum_entries=5 funnel_sum_exits=2 funnel_nb_conversions=3 "
                     "funnel_conversion_rate=60% funnel_abandoned_rate=40%");
}

static void test_entered_mid_way(void)
{
    json_t *j = keep(api("method=Funnels.getFunnelFlow&idFunnel=2&period=day&date=%s", site.d1));
    ASSERT_ROWS(j, 4);
    ASSERT_ROW(j, "Home", "step_nb_visits=2 step_nb_entries=2 step_nb_proceeded=2 step_nb_exits=0");
    ASSERT_ROW(j, "Product",
               "step_nb_visits=1 step_nb_entries=1 step_nb_skipped=2 step_nb_proceeded=1");
    ASSERT_ROW(j, "Cart",
               "step_nb_visits=5 step_nb_entries=2 step_nb_progressions=3 step_nb_proceeded=3 "
               "step_nb_exits=2");
    ASSERT_ROW(j, "Pay", "step_nb_visits=3 step_nb_entries=0 step_nb_exits=0");
}

static void test_entries(void)
{
    json_t *j =
        keep(api("method=Funnels.getFunnelEntries&idFunnel=1&step=1&period=day&date=%s", site.d1));
    ASSERT_ROWS(j, 3);
    ASSERT_ROW(j, SITE "/", "nb_hits=2");
    ASSERT_ROW(j, "Direct Entry", "nb_hits=2");
    ASSERT_ROW(j, SITE "/product/tea", "nb_hits=1");
    /* every step, each with its sources below */
    j = keep(
        api("method=Funnels.getFunnelEntries&idFunnel=1&period=day&date=%s&expanded=1", site.d1));
    ASSERT_ROWS(j, 4);
    ASSERT_ROW(j, "Cart", "nb_hits=5 step_position=1");
    ASSERT_ROW(j, "Address", "nb_hits=0 step_position=2");
    ASSERT_ROWS(get(report_row(j, "Cart"), "subtable"), 3);
    /* an entry from a search engine, below its channel */
    j = keep(api("method=Funnels.getFunnelEntries&idFunnel=2&step=2&period=day&date=%s&expanded=1",
                 site.d1));
    ASSERT_ROWS(j, 1);
    ASSERT_ROW(j, "Search Engines", "nb_hits=1");
    ASSERT_ROW(get(report_row(j, "Search Engines"), "subtable"), "Google", "nb_hits=1");
}

static void test_exits(void)
{
    json_t *j =
        keep(api("method=Funnels.getFunnelExits&idFunnel=1&step=1&period=day&date=%s", site.d1));
    ASSERT_ROWS(j, 1);
    ASSERT_ROW(j, SITE "/thanks", "nb_hits=1");
    j = keep(api("method=Funnels.getFunnelExits&idFunnel=1&step=2&period=day&date=%s", site.d1));
    ASSERT_ROWS(j, 1);
    ASSERT_ROW(j, "Exit", "nb_hits=1");
    /* V2 went back to the cart after paying */
    j = keep(api("method=Funnels.getFunnelExits&idFunnel=1&step=3&period=day&date=%s", site.d1));
    ASSERT_ROWS(j, 1);
    ASSERT_ROW(j, SITE "/cart", "nb_hits=1");
    j = keep(api("method=Funnels.getFunnelExits&idFunnel=1&period=day&date=%s", site.d1));
    ASSERT_ROWS(j, 4);
    ASSERT_ROW(j, "Done", "nb_hits=0");
    ASSERT_ROW(j, "Pay", "nb_hits=1 step_position=3");
}

static void test_segment(void)
{
    /* direct visits: V1, V3, V5, V6 (and V8, V10, which never reach the cart) */
    json_t *j = keep(api("method=Funnels.getMetrics&idFunnel=1&period=day&date=%s"
                         "&segment=referrerType==direct",
                         site.d1));
    ASSERT_FIELDS(j, "funnel_sum_entries=4 funnel_sum_exits=2 funnel_nb_conversions=2");
    j = keep(api("method=Funnels.getFunnelFlow&idFunnel=2&period=day&date=%s"
                 "&segment=referrerType==search",
                 site.d1));
    ASSERT_ROW(j, "Product", "step_nb_visits=1 step_nb_entries=1");
    ASSERT_ROW(j, "Cart", "step_nb_visits=1 step_nb_entries=0");
    ASSERT_ROW(j, "Home", "step_nb_visits=0");
}

static void test_per_visitor(void)
{
    json_t *j = keep(api("method=Funnels.getFunnelFlow&idFunnel=1&period=range&date=%s,%s"
                         "&funnelScope=visitor",
                         site.d0, site.d1));
    ASSERT_ROW(j, "Cart",
               "step_nb_visits=8 step_nb_entries=8 step_nb_exits=2 "
               "funnel_scope=visitor funnel_window_days=30");
    /* B, G and H went from the cart to paying without the address */
    ASSERT_ROW(j, "Address", "step_nb_visits=3 step_nb_skipped=3");
    ASSERT_ROW(j, "Pay", "step_nb_visits=5");
    ASSERT_ROW(j, "Done", "step_nb_visits=4");
    j = keep(api("method=Funnels.getMetrics&idFunnel=1&period=range&date=%s,%s"
                 "&funnelScope=visitor&funnelWindowDays=1",
                 site.d0, site.d1));
    ASSERT_FIELDS(j, "funnel_sum_entries=8 funnel_nb_conversions=3 funnel_window_days=1 "
                     "funnel_scope=visitor");
    /* entered on D0, followed into D1 */
    j = keep(api("method=Funnels.getMetrics&idFunnel=1&period=day&date=%s&funnelScope=visitor",
                 site.d0));
    ASSERT_FIELDS(j, "funnel_sum_entries=3 funnel_nb_conversions=2");
    j = keep(api("method=Funnels.getMetrics&idFunnel=1&period=day&date=%s&funnelScope=visitor"
                 "&funnelWindowDays=1",
                 site.d0));
    ASSERT_FIELDS(j, "funnel_sum_entries=3 funnel_nb_conversions=1 funnel_sum_exits=2");
    /* per visit, D0's carts are journeys of their own that went nowhere */
    j = keep(api("method=Funnels.getMetrics&idFunnel=1&period=day&date=%s", site.d0));
    ASSERT_FIELDS(j, "funnel_sum_entries=3 funnel_nb_conversions=0 funnel_sum_exits=3");
    /* tied to a goal: converting it in a later visit counts, within the window */
    j = keep(api("method=Funnels.getMetrics&idFunnel=2&period=range&date=%s,%s"
                 "&funnelScope=visitor",
                 site.d0, site.d1));
    ASSERT_FIELDS(j, "funnel_sum_entries=8 funnel_nb_conversions=6");
    j = keep(api("method=Funnels.getMetrics&idFunnel=2&period=range&date=%s,%s"
                 "&funnelScope=visitor&funnelWindowDays=1",
                 site.d0, site.d1));
    ASSERT_FIELDS(j, "funnel_sum_entries=8 funnel_nb_conversions=5");
}

static void test_periods(void)
{
    /* a list of periods: one table each */
    json_t *j =
        keep(api("method=Funnels.getMetrics&idFunnel=1&period=day&date=%s,%s", site.d0, site.d1));
    ASSERT_FIELDS(get(j, site.d0), "funnel_sum_entries=3");
    ASSERT_FIELDS(get(j, site.d1), "funnel_sum_entries=5");
    j = keep(api("method=Funnels.getMetrics&idFunnel=1&period=day&date=2001-01-01"));
    ASSERT_FIELDS(j, "funnel_sum_entries=0 funnel_nb_conversions=0 funnel_conversion_rate=0%");
}

static void test_bad_parameters(void)
{
    char q[300];
    snprintf(q, sizeof q, "method=Funnels.getFunnelFlow&period=day&date=%s", site.d1);
    ASSERT_TRUE(report_site_error_says(&site, q, 400, "idFunnel: expected"));
    snprintf(q, sizeof q, "method=Funnels.getFunnelFlow&idFunnel=9&period=day&date=%s", site.d1);
    ASSERT_TRUE(report_site_error_says(&site, q, 400, "idFunnel 9 is not a funnel of site 1"));
    snprintf(q, sizeof q,
             "method=Funnels.getFunnelFlow&idFunnel=1&funnelScope=session&period=day&date=%s",
             site.d1);
    ASSERT_TRUE(report_site_error_says(&site, q, 400, "is not a scope: use visit"));
    snprintf(q, sizeof q,
             "method=Funnels.getFunnelFlow&idFunnel=1&funnelScope=visitor&funnelWindowDays=91"
             "&period=day&date=%s",
             site.d1);
    ASSERT_TRUE(
        report_site_error_says(&site, q, 400, "funnelWindowDays \\u002791\\u0027 is not a window"));
    snprintf(q, sizeof q,
             "method=Funnels.getFunnelFlow&idFunnel=1&funnelScope=visitor&funnelWindowDays=0"
             "&period=day&date=%s",
             site.d1);
    ASSERT_TRUE(report_site_error_says(&site, q, 400, "is not a window"));
    snprintf(q, sizeof q,
             "method=Funnels.getFunnelFlow&idFunnel=1&funnelWindowDays=7&period=day&date=%s",
             site.d1);
    ASSERT_TRUE(report_site_error_says(&site, q, 400,
                                       "funnelWindowDays applies to funnelScope=visitor only"));
    snprintf(q, sizeof q, "method=Funnels.getFunnelExits&idFunnel=1&step=5&period=day&date=%s",
             site.d1);
    ASSERT_TRUE(report_site_error_says(&site, q, 400,
                                       "is not a step of funnel 1: use its position, 1 to 4"));
    /* no token: the same refusal as every report */
    int status;
    char *body = api_get(&site.server, "", 1,
                         "method=Funnels.getFunnelFlow&idFunnel=1&period=day&date=today", &status);
    ASSERT_EQ_INT(status, 401);
    free(body);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    buf_init(&out);
    if (!report_site_start(&site, "Shop", SITE, &out)) {
        printf("Bail out! cannot set up the site and a server: %s\n", out.data ? out.data : "");
        return 1;
    }
    if (!report_site_send(&site, hits, sizeof hits / sizeof *hits, UA) || !define_funnels()) {
        server_log_tail(&site.server, 3000);
        printf("Bail out! the data set or the funnels were not accepted: %s\n",
               out.data ? out.data : "");
        server_stop(&site.server);
        return 1;
    }
    RUN(test_flow_per_visit);
    RUN(test_metrics);
    RUN(test_entered_mid_way);
    RUN(test_entries);
    RUN(test_exits);
    RUN(test_segment);
    RUN(test_per_visitor);
    RUN(test_periods);
    RUN(test_bad_parameters);
    if (test_failed_total) server_log_tail(&site.server, 3000);
    server_stop(&site.server);
    harness_rmtree(site.data_dir);
    buf_free(&out);
    return TEST_DONE();
}
