/* Goals reports through the Reporting API, against expectations computed
 * by hand: Goals.get (every goal, one goal, ecommerceOrder,
 * ecommerceAbandonedCart), Goals.getDaysToConversion and
 * getVisitsUntilConversion, the goal columns of a channel report (rows,
 * subtables, "Others", flat), VisitFrequency.getVisitorTypes, segments,
 * goals added after the data arrived and a deleted goal.
 *
 * The real `tally serve` gets the hits over HTTP as a tracker sends them
 * (cdt with a token to place them in time, cid for the visitor). The site
 * is in UTC; D1, D2, D3 are the three days before today.
 *
 * Goals defined before any hit (tally goal add, ids 1..9):
 *   G1 url contains "/thanks", case-insensitive, once per visit, revenue 10
 *   G2 title exact "Welcome Aboard", case-sensitive, once, revenue 0
 *   G3 event action starts with "play", case-insensitive, many, revenue 2
 *   G4 event category ends with "letter", case-sensitive, once, revenue 0
 *   G5 event name regex ^promo-[0-9]+$, case-insensitive, many, revenue 1
 *   G6 outlink starts with "https://partner.example.net", once, revenue 3
 *   G7 download ends with ".pdf", case-insensitive, once, revenue 0
 *   G8 manual (idgoal=8), many, default revenue 50
 *   G9 url exact "https://shop.example.com/checkout/done", once, revenue 7
 *
 * The visits (visitor #n = the visitor's n-th visit; days since the first
 * visit are whole 24-hour periods):
 *
 *   V1  A#1 D1 10:00 direct   / "Home"; /thanks?x=1 "Thank you"; /thanks
 *       again; event Video/Play/promo-12; event Video/play/promo-x
 *       -> G1 1 (the second /thanks is the same goal, once per visit),
 *          G3 2 ("Play" and "play"), G5 1 ("promo-x" is not a number):
 *          4 conversions, revenue 10 + 4 + 1 = 15
 *   V2  B#1 D1 11:00 Google   /signup "Welcome Aboard"; event
 *       Newsletter/Subscribe/footer -> G2 1, G4 1: 2 conversions, revenue 0
 *   V3  C#1 D1 12:00 website  /signup "welcome aboard" (G2 is
 *       case-sensitive: no); event NewsLetter/Subscribe/footer (G4 is
 *       case-sensitive: "Letter" is not "letter"); outlink
 *       partner.example.net/offer; download /files/catalog.PDF (G7 ignores
 *       case) -> G6 1, G7 1: 2 conversions, revenue 3
 *   V4  D#1 D1 13:00 direct   / "Home"; cart update 40 (Green tea x2):
 *       abandoned cart, no conversion
 *   V5  A#2 D2 10:30 direct   (1 day since A's first) /checkout/done "Order
 *       done"; order O-1 100 (subtotal 90, tax 8, shipping 5, discount 3;
 *       Green tea x3, Mug x1); idgoal=8 revenue=80
 *       -> G9 1 (7), order 1 (100), G8 1 (80): 3 conversions, revenue 187
 *   V6  B#2 D2 12:00 Bing     (1 day) /thanks; idgoal=8 (no revenue: the
 *       default 50); idgoal=8 revenue=20 -> G1 1 (10), G8 2 (70):
 *       3 conversions, revenue 80
 *   V7  E#1 D2 14:00 campaign Spring  / "Home"; order O-1 again (a
 *       duplicate: not counted); order O-2 50 (subtotal 45, tax 5; Mug x2);
 *       cart update 30 (Green tea x2) -> order 1 (50); ordered then
 *       abandoned: a cart of 30 with 2 items
 *   V8  A#3 D3 10:45 direct   (2 days; A ordered in V5: a returning
 *       customer) /Thanks (G1 ignores case); order O-3 60 (subtotal 60;
 *       Green tea x3) -> G1 1 (10), order 1 (60): 2 conversions, revenue 70
 *   V9  F#1 D3 11:00 Google   /blog "Blog": nothing
 *   V10 C#2 D3 12:30 direct   (2 days) / "Home"; event Video/Pause/promo-7;
 *       event Promo/Play/PROMO-8 -> G5 2 (both names), G3 1: 3 conversions,
 *       revenue 2 + 2 = 4
 *
 * Over D1..D3: 10 visits, 8 converted (all but V4 and V9): 80%.
 * 20 conversions, revenue 15 + 0 + 3 + 187 + 80 + 50 + 70 + 4 = 409.
 *   goal  conversions  visits  revenue
 *   G1    3 (V1 V6 V8) 3       30
 *   G2    1            1       0
 *   G3    3 (V1 2, V10 1) 2    6
 *   G4    1            1       0
 *   G5    3 (V1 1, V10 2) 2    3
 *   G6    1            1       3
 *   G7    1            1       0
 *   G8    3 (V5 1, V6 2) 2     150
 *   G9    1            1       7
 *   order 3 (V5 V7 V8) 3       210
 *
 * Later, while the server runs: G10 (Goals.addGoal) title contains "blog",
 * revenue 4 -> V9; G11 (tally goal add) title exact "Home" -> V1 V4 V7 V10;
 * then G9 is deleted (Goals.deleteGoal). */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "test.h"

#define SHOP "https://shop.example.com"

static const char UA[] =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";

/* Visitor letter, day (1..3), UTC time, and the hit's parameters as
 * "name=value|name=value" with values not yet URL-encoded. */
static const struct {
    char visitor;
    int day, h, m;
    const char *params;
} hits[] = {
    /* V1 */
    {'A', 1, 10, 0, "url=" SHOP "/|action_name=Home"},
    {'A', 1, 10, 1, "url=" SHOP "/thanks?x=1|action_name=Thank you"},
    {'A', 1, 10, 2, "url=" SHOP "/thanks|action_name=Thank you"},
    {'A', 1, 10, 3, "url=" SHOP "/thanks|e_c=Video|e_a=Play|e_n=promo-12"},
    {'A', 1, 10, 4, "url=" SHOP "/thanks|e_c=Video|e_a=play|e_n=promo-x"},
    /* V2 */
    {'B', 1, 11, 0,
     "url=" SHOP "/signup|action_name=Welcome Aboard|urlref=https://www.google.com/search?q=tea"},
    {'B', 1, 11, 1, "url=" SHOP "/signup|e_c=Newsletter|e_a=Subscribe|e_n=footer"},
    /* V3 */
    {'C', 1, 12, 0,
     "url=" SHOP "/signup|action_name=welcome aboard|urlref=https://blog.example.org/post"},
    {'C', 1, 12, 1, "url=" SHOP "/signup|e_c=NewsLetter|e_a=Subscribe|e_n=footer"},
    {'C', 1, 12, 2, "url=" SHOP "/signup|link=https://partner.example.net/offer"},
    {'C', 1, 12, 3, "url=" SHOP "/signup|download=" SHOP "/files/catalog.PDF"},
    /* V4 */
    {'D', 1, 13, 0, "url=" SHOP "/|action_name=Home"},
    {'D', 1, 13, 1,
     "url=" SHOP "/cart|idgoal=0|revenue=40|ec_items=[[\"TEA-1\",\"Green tea\",\"Tea\",20,2]]"},
    /* V5 */
    {'A', 2, 10, 30, "url=" SHOP "/checkout/done|action_name=Order done"},
    {'A', 2, 10, 31,
     "url=" SHOP "/checkout/done|idgoal=0|ec_id=O-1|revenue=100|ec_st=90|ec_tx=8|ec_sh=5|ec_dt=3"
     "|ec_items=[[\"TEA-1\",\"Green tea\",\"Tea\",20,3],[\"MUG-1\",\"Mug\",\"Kitchen\",40,1]]"},
    {'A', 2, 10, 32, "url=" SHOP "/checkout/done|idgoal=8|revenue=80"},
    /* V6 */
    {'B', 2, 12, 0,
     "url=" SHOP "/thanks|action_name=Thank you|urlref=https://www.bing.com/search?q=tea"},
    {'B', 2, 12, 1, "url=" SHOP "/thanks|idgoal=8"},
    {'B', 2, 12, 2, "url=" SHOP "/thanks|idgoal=8|revenue=20"},
    /* V7 */
    {'E', 2, 14, 0, "url=" SHOP "/?mtm_campaign=Spring|action_name=Home"},
    {'E', 2, 14, 1,
     "url=" SHOP "/checkout/done|idgoal=0|ec_id=O-1|revenue=100"
     "|ec_items=[[\"TEA-1\",\"Green tea\",\"Tea\",20,5]]"},
    {'E', 2, 14, 2,
     "url=" SHOP "/checkout/done|idgoal=0|ec_id=O-2|revenue=50|ec_st=45|ec_tx=5"
     "|ec_items=[[\"MUG-1\",\"Mug\",\"Kitchen\",25,2]]"},
    {'E', 2, 14, 3,
     "url=" SHOP "/cart|idgoal=0|revenue=30|ec_items=[[\"TEA-1\",\"Green tea\",\"Tea\",15,2]]"},
    /* V8 */
    {'A', 3, 10, 45, "url=" SHOP "/Thanks|action_name=Thank you"},
    {'A', 3, 10, 46,
     "url=" SHOP "/checkout/done|idgoal=0|ec_id=O-3|revenue=60|ec_st=60"
     "|ec_items=[[\"TEA-1\",\"Green tea\",\"Tea\",20,3]]"},
    /* V9 */
    {'F', 3, 11, 0, "url=" SHOP "/blog|action_name=Blog|urlref=https://www.google.com/search?q=tea"},
    /* V10 */
    {'C', 3, 12, 30, "url=" SHOP "/|action_name=Home"},
    {'C', 3, 12, 31, "url=" SHOP "/|e_c=Video|e_a=Pause|e_n=promo-7"},
    {'C', 3, 12, 32, "url=" SHOP "/|e_c=Promo|e_a=Play|e_n=PROMO-8"},
};

static struct server server;
static char data_dir[256];
static char token[33];

/* The Reporting API of this test's server, site 1. */
static char *api_raw(int *status, const char *query)
{
    return api_get(&server, token, 1, query, status);
}
static json_t *api(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *api(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *j = api_jsonv(&server, token, 1, fmt, ap);
    va_end(ap);
    return j;
}

static int64_t today; /* UTC day number */
static char d1[11], d2[11], d3[11], range[32];
static struct buf out;

/* ---- HTTP and JSON ------------------------------------------------------------- */

static int track(char visitor, int64_t t_ms, const char *params)
{
    char cid[17];
    memset(cid, visitor - 'A' + 'a', 16);
    cid[16] = '\0';
    return track_visitor_hit(&server, token, 1, cid, t_ms, UA, params);
}

/* Row i's label. */
static const char *label_at(const json_t *rows, size_t i)
{
    return json_string_value(json_object_get(json_array_get(rows, i), "label"));
}

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        TEST_RUN(fn);                                                                              \
        keep(NULL);                                                                                \
    } while (0)

/* An error answer: its status and a part of its message. */
static bool error_says(const char *query, int want_status, const char *part)
{
    return api_error_says(&server, token, 1, query, want_status, part);
}

/* ---- set-up -------------------------------------------------------------------- */

#define TALLY(...) (buf_reset(&out), run_tally(&out, __VA_ARGS__))

static bool define_goals(void)
{
    static const char *const goals[] = {
        "--name Thanks --match url --type contains --pattern /thanks --revenue 10",
        "--name Signup --match title --type exact --pattern 'Welcome Aboard' --case-sensitive",
        "--name Play --match event-action --type starts-with --pattern play --multiple "
        "--revenue 2",
        "--name Newsletter --match event-category --type ends-with --pattern letter "
        "--case-sensitive",
        "--name Promo --match event-name --type regex --pattern ^promo-[0-9]+$ --multiple "
        "--revenue 1",
        "--name Partner --match outlink --type starts-with --pattern https://partner.example.net "
        "--revenue 3",
        "--name Catalog --match download --type ends-with --pattern .pdf",
        "--name Phone --match manual --multiple --revenue 50",
        "--name Checkout --match url --type exact --pattern " SHOP "/checkout/done --revenue 7",
    };
    for (size_t i = 0; i < sizeof goals / sizeof *goals; i++) {
        if (TALLY("goal add --data %s --site 1 %s", data_dir, goals[i]) != 0) {
            printf("# goal add %s: %s\n", goals[i], out.data);
            return false;
        }
    }
    return true;
}

static bool start(void)
{
    if (harness_tmpdir(data_dir)) return false;
    if (TALLY("site add --data %s --name Shop --url " SHOP, data_dir) != 0) return false;
    if (harness_token_create(data_dir, 1, token)) return false;
    if (!define_goals()) return false;
    return server_start(&server, data_dir, "") == 0;
}

static bool send_data_set(void)
{
    today = now_ms() / MS_PER_DAY;
    format_date(today - 3, d1);
    format_date(today - 2, d2);
    format_date(today - 1, d3);
    snprintf(range, sizeof range, "%s,%s", d1, d3);
    for (size_t i = 0; i < sizeof hits / sizeof *hits; i++) {
        int64_t t = (today - 4 + hits[i].day) * MS_PER_DAY +
                    (hits[i].h * 60LL + hits[i].m) * 60000LL;
        if (track(hits[i].visitor, t, hits[i].params) != 204) return false;
    }
    return true;
}

/* A report over D1..D3. */
#define RANGE "period=range&date=%s"

/* ---- Goals.get ------------------------------------------------------------------ */

static void test_goals_get_every_goal(void)
{
    json_t *j = keep(api("method=Goals.get&" RANGE, range));
    /* 20 conversions in 8 of 10 visits, revenue 409 (the header's table). */
    ASSERT_FIELDS(j, "nb_conversions=20 nb_visits_converted=8 conversion_rate=80% revenue=409");
    ASSERT_FIELDS(j, "goal_1_nb_conversions=3 goal_1_nb_visits_converted=3 "
                     "goal_1_conversion_rate=30% goal_1_revenue=30");
    ASSERT_FIELDS(j, "goal_2_nb_conversions=1 goal_2_nb_visits_converted=1 "
                     "goal_2_conversion_rate=10% goal_2_revenue=0");
    /* Many per visit: V1 2 and V10 1, in 2 visits. */
    ASSERT_FIELDS(j, "goal_3_nb_conversions=3 goal_3_nb_visits_converted=2 "
                     "goal_3_conversion_rate=20% goal_3_revenue=6");
    ASSERT_FIELDS(j, "goal_4_nb_conversions=1 goal_4_nb_visits_converted=1 goal_4_revenue=0");
    ASSERT_FIELDS(j, "goal_5_nb_conversions=3 goal_5_nb_visits_converted=2 goal_5_revenue=3");
    ASSERT_FIELDS(j, "goal_6_nb_conversions=1 goal_6_nb_visits_converted=1 goal_6_revenue=3");
    ASSERT_FIELDS(j, "goal_7_nb_conversions=1 goal_7_nb_visits_converted=1 goal_7_revenue=0");
    /* Tracked 80 and 20, and the default 50 for the one sent without. */
    ASSERT_FIELDS(j, "goal_8_nb_conversions=3 goal_8_nb_visits_converted=2 "
                     "goal_8_conversion_rate=20% goal_8_revenue=150");
    ASSERT_FIELDS(j, "goal_9_nb_conversions=1 goal_9_nb_visits_converted=1 goal_9_revenue=7");
    /* The duplicate O-1 in V7 is not an order. */
    ASSERT_FIELDS(j, "goal_ecommerceOrder_nb_conversions=3 goal_ecommerceOrder_nb_visits_converted=3 "
                     "goal_ecommerceOrder_conversion_rate=30% goal_ecommerceOrder_revenue=210");
    /* Abandoned carts are not conversions. */
    ASSERT_FIELDS(j, "goal_ecommerceAbandonedCart_nb_conversions=- goal_10_nb_conversions=-");
}

static void test_goals_get_one_goal(void)
{
    json_t *j = keep(api("method=Goals.get&idGoal=1&" RANGE, range));
    ASSERT_FIELDS(j, "nb_conversions=3 nb_visits_converted=3 conversion_rate=30% revenue=30 "
                     "goal_1_nb_conversions=- goal_2_nb_conversions=-");
    j = keep(api("method=Goals.get&idGoal=8&" RANGE, range));
    ASSERT_FIELDS(j, "nb_conversions=3 nb_visits_converted=2 conversion_rate=20% revenue=150");
    j = keep(api("method=Goals.get&idGoal=5&" RANGE, range));
    ASSERT_FIELDS(j, "nb_conversions=3 nb_visits_converted=2 conversion_rate=20% revenue=3");
    /* D2 alone: V5, V6, V7; G8 converted in V5 (80) and twice in V6 (70). */
    j = keep(api("method=Goals.get&idGoal=8&period=day&date=%s", d2));
    ASSERT_FIELDS(j, "nb_conversions=3 nb_visits_converted=2 conversion_rate=66.67% revenue=150");
}

/* The visitor log names a manual goal's conversions: D2's three idgoal=8
 * hits (V5 once, V6 twice) are "Phone". */
static void test_visitor_log_names_goals(void)
{
    json_t *visits = keep(api("method=Live.getLastVisitsDetails&period=day&date=%s", d2));
    int phone = 0, goal_actions = 0;
    size_t i, k;
    json_t *visit, *action;
    json_array_foreach(visits, i, visit) {
        json_array_foreach(json_object_get(visit, "actionDetails"), k, action) {
            if (strcmp(json_string_value(json_object_get(action, "type")), "goal") != 0) continue;
            goal_actions++;
            const char *name = json_string_value(json_object_get(action, "goalName"));
            if (json_integer_value(json_object_get(action, "goalId")) == 8 && name &&
                strcmp(name, "Phone") == 0)
                phone++;
        }
    }
    ASSERT_EQ_INT(goal_actions, 3);
    ASSERT_EQ_INT(phone, 3);
}

static void test_goals_get_ecommerce(void)
{
    /* Orders O-1 (V5), O-2 (V7), O-3 (V8): 100 + 50 + 60; subtotals
     * 90 + 45 + 60, tax 8 + 5, shipping 5, discount 3; items 4 + 2 + 3. */
    json_t *j = keep(api("method=Goals.get&idGoal=ecommerceOrder&" RANGE, range));
    ASSERT_FIELDS(j, "nb_conversions=3 nb_visits_converted=3 conversion_rate=30% revenue=210 "
                     "revenue_subtotal=195 revenue_tax=13 revenue_shipping=5 revenue_discount=3 "
                     "items=9 avg_order_revenue=70 items_per_order=3");
    /* V4 left 40 (2 items), V7 ordered then left 30 (2 items). */
    j = keep(api("method=Goals.get&idGoal=ecommerceAbandonedCart&" RANGE, range));
    ASSERT_FIELDS(j, "nb_conversions=2 nb_visits_converted=2 conversion_rate=20% revenue=70 "
                     "items=4 avg_order_revenue=35 revenue_subtotal=-");
    /* D1: V1..V4; only V4's cart. */
    j = keep(api("method=Goals.get&idGoal=ecommerceAbandonedCart&period=day&date=%s", d1));
    ASSERT_FIELDS(j, "nb_conversions=1 conversion_rate=25% revenue=40 items=2");
    j = keep(api("method=Goals.get&idGoal=ecommerceOrder&period=day&date=%s", d1));
    ASSERT_FIELDS(j, "nb_conversions=0 revenue=0 avg_order_revenue=0 items_per_order=0");
}

static void test_goals_get_per_day(void)
{
    /* Several periods: one object per day. D1: V1 4 (15), V2 2 (0), V3 2
     * (3) of 4 visits; D2: V5 3 (187), V6 3 (80), V7 1 (50) of 3; D3: V8 2
     * (70), V10 3 (4) of 3. */
    json_t *j = keep(api("method=Goals.get&period=day&date=%s,%s", d1, d3));
    ASSERT_TRUE(json_is_object(j));
    ASSERT_FIELDS(json_object_get(j, d1),
                  "nb_conversions=8 nb_visits_converted=3 conversion_rate=75% revenue=18");
    ASSERT_FIELDS(json_object_get(j, d2),
                  "nb_conversions=7 nb_visits_converted=3 conversion_rate=100% revenue=317");
    ASSERT_FIELDS(json_object_get(j, d3),
                  "nb_conversions=5 nb_visits_converted=2 conversion_rate=66.67% revenue=74");
}

/* ---- days and visits to conversion ------------------------------------------ */

static void test_days_to_conversion(void)
{
    /* 0 days: V1 4, V2 2, V3 2, V7 1 = 9 (15 + 0 + 3 + 50); 1 day: V5 3,
     * V6 3 = 6 (187 + 80); 2 days: V8 2, V10 3 = 5 (70 + 4). Every bucket,
     * in order. */
    json_t *rows = keep(api("method=Goals.getDaysToConversion&filter_limit=-1&" RANGE, range));
    ASSERT_ROWS(rows, 14);
    ASSERT_EQ_STR(label_at(rows, 0), "0 days");
    ASSERT_EQ_STR(label_at(rows, 8), "8-14 days");
    ASSERT_EQ_STR(label_at(rows, 13), "365+ days");
    ASSERT_ROW(rows, "0 days", "nb_conversions=9 revenue=68");
    ASSERT_ROW(rows, "1 day", "nb_conversions=6 revenue=267");
    ASSERT_ROW(rows, "2 days", "nb_conversions=5 revenue=74");
    ASSERT_ROW(rows, "3 days", "nb_conversions=0 revenue=0");
    /* One goal: G1 in V1 (0 days), V6 (1), V8 (2). */
    rows = keep(api("method=Goals.getDaysToConversion&idGoal=1&filter_limit=3&" RANGE, range));
    ASSERT_ROWS(rows, 3);
    ASSERT_ROW(rows, "0 days", "nb_conversions=1 revenue=10");
    ASSERT_ROW(rows, "1 day", "nb_conversions=1 revenue=10");
    ASSERT_ROW(rows, "2 days", "nb_conversions=1 revenue=10");
    /* Orders: V7 (0 days) 50, V5 (1) 100, V8 (2) 60. */
    rows = keep(api("method=Goals.getDaysToConversion&idGoal=ecommerceOrder&" RANGE, range));
    ASSERT_ROW(rows, "0 days", "nb_conversions=1 revenue=50");
    ASSERT_ROW(rows, "1 day", "nb_conversions=1 revenue=100");
    ASSERT_ROW(rows, "2 days", "nb_conversions=1 revenue=60");
}

static void test_visits_until_conversion(void)
{
    /* 1 visit: V1, V2, V3, V7 = 9 (68); 2 visits: V5 3, V6 3, V10 3 = 9
     * (187 + 80 + 4); 3 visits: V8 2 (70). */
    json_t *rows =
        keep(api("method=Goals.getVisitsUntilConversion&filter_limit=-1&" RANGE, range));
    ASSERT_ROWS(rows, 14);
    ASSERT_EQ_STR(label_at(rows, 0), "1 visit");
    ASSERT_EQ_STR(label_at(rows, 13), "201+ visits");
    ASSERT_ROW(rows, "1 visit", "nb_conversions=9 revenue=68");
    ASSERT_ROW(rows, "2 visits", "nb_conversions=9 revenue=271");
    ASSERT_ROW(rows, "3 visits", "nb_conversions=2 revenue=70");
    ASSERT_ROW(rows, "4 visits", "nb_conversions=0 revenue=0");
    /* G8: V5 (A's 2nd visit) once, V6 (B's 2nd) twice. */
    rows = keep(api("method=Goals.getVisitsUntilConversion&idGoal=8&" RANGE, range));
    ASSERT_ROW(rows, "1 visit", "nb_conversions=0");
    ASSERT_ROW(rows, "2 visits", "nb_conversions=3 revenue=150");
}

/* ---- goal columns on a channel report ---------------------------------------- */

#define GOAL_COLUMNS "filter_update_columns_when_show_all_goals=1"

static void test_channels_with_goal_columns(void)
{
    /* Direct: V1 V4 V5 V8 V10, 4 converted: 4 + 3 + 2 + 3 = 12
     * conversions, 15 + 187 + 70 + 4 = 276. Search: V2 V6 V9, 2 converted:
     * 2 + 3 = 5, 0 + 80 = 80. Website: V3: 2, 3. Campaign: V7: 1, 50. */
    json_t *rows =
        keep(api("method=Referrers.getReferrerType&" GOAL_COLUMNS "&" RANGE, range));
    ASSERT_ROWS(rows, 4);
    ASSERT_ROW(rows, "Direct Entry",
               "nb_visits=5 nb_visits_converted=4 nb_conversions=12 revenue=276 "
               "conversion_rate=80% revenue_per_visit=55.2");
    ASSERT_ROW(rows, "Search Engines",
               "nb_visits=3 nb_visits_converted=2 nb_conversions=5 revenue=80 "
               "conversion_rate=66.67% revenue_per_visit=26.67");
    ASSERT_ROW(rows, "Websites", "nb_visits=1 nb_conversions=2 revenue=3 conversion_rate=100%");
    ASSERT_ROW(rows, "Campaigns", "nb_visits=1 nb_conversions=1 revenue=50");
    /* Per goal: G1 in V1 and V8 (direct) and V6 (search). A goal's rate
     * in a row is its conversions per visit (Matomo's): G8 converted twice
     * in the one Bing visit. */
    ASSERT_ROW(rows, "Direct Entry",
               "goal_1_nb_conversions=2 goal_1_nb_visits_converted=2 goal_1_conversion_rate=40% "
               "goal_1_revenue=20 goal_1_revenue_per_visit=4 goal_8_nb_conversions=1 "
               "goal_8_revenue=80 goal_ecommerceOrder_nb_conversions=2 "
               "goal_ecommerceOrder_revenue=160 goal_ecommerceOrder_revenue_per_visit=32");
    ASSERT_ROW(rows, "Search Engines",
               "goal_1_nb_conversions=1 goal_8_nb_conversions=2 goal_8_nb_visits_converted=1 "
               "goal_8_conversion_rate=66.67% goal_8_revenue=70 goal_8_revenue_per_visit=23.33 "
               "goal_2_nb_conversions=1 goal_ecommerceOrder_nb_conversions=0");
    ASSERT_ROW(rows, "Websites", "goal_6_nb_conversions=1 goal_6_revenue=3 goal_7_nb_conversions=1");
    ASSERT_ROW(rows, "Campaigns",
               "goal_ecommerceOrder_nb_conversions=1 goal_ecommerceOrder_revenue=50 "
               "goal_ecommerceOrder_conversion_rate=100%");
    /* Without the flag: the visit columns only, nothing computed. */
    rows = keep(api("method=Referrers.getReferrerType&" RANGE, range));
    ASSERT_ROW(rows, "Direct Entry", "nb_visits=5 nb_visits_converted=4 nb_conversions=- "
                                     "revenue=- goal_1_nb_conversions=-");
}

static void test_channel_subtables_others_and_flat(void)
{
    /* Search engines: Google V2 and V9 (V2: G2 and G4), Bing V6 (G1, G8
     * twice). */
    json_t *rows = keep(api("method=Referrers.getReferrerType&expanded=1&" GOAL_COLUMNS "&" RANGE,
                            range));
    const json_t *search = report_row(rows, "Search Engines");
    ASSERT_TRUE(search != NULL);
    const json_t *sub = json_object_get(search, "subtable");
    ASSERT_ROWS(sub, 2);
    ASSERT_ROW(sub, "Google",
               "nb_visits=2 nb_visits_converted=1 nb_conversions=2 revenue=0 "
               "conversion_rate=50% goal_2_nb_conversions=1 goal_4_nb_conversions=1 "
               "goal_8_nb_conversions=0");
    ASSERT_ROW(sub, "Bing",
               "nb_visits=1 nb_conversions=3 revenue=80 conversion_rate=100% "
               "revenue_per_visit=80 goal_8_nb_conversions=2 goal_8_conversion_rate=200% "
               "goal_8_revenue=70 goal_1_nb_conversions=1");
    /* Two rows kept: Direct (5) and Search (3); Campaigns and Websites are
     * "Others": 2 visits, both converted, 1 + 2 conversions, 50 + 3. */
    rows = keep(api("method=Referrers.getReferrerType&filter_truncate=2&" GOAL_COLUMNS "&" RANGE,
                    range));
    ASSERT_ROWS(rows, 3);
    ASSERT_EQ_STR(label_at(rows, 2), "Others");
    ASSERT_ROW(rows, "Others",
               "nb_visits=2 nb_visits_converted=2 nb_conversions=3 revenue=53 "
               "conversion_rate=100% revenue_per_visit=26.5 goal_6_nb_conversions=1 "
               "goal_6_revenue=3 goal_ecommerceOrder_nb_conversions=1 "
               "goal_ecommerceOrder_revenue=50 goal_1_nb_conversions=0");
    /* Flat: the leaves, with their goal columns. */
    rows = keep(api("method=Referrers.getReferrerType&flat=1&" GOAL_COLUMNS "&" RANGE, range));
    ASSERT_ROW(rows, "Search Engines - Bing", "nb_conversions=3 goal_8_nb_conversions=2");
    ASSERT_ROW(rows, "Direct Entry", "nb_conversions=12 revenue=276");
}

static void test_channels_one_goal(void)
{
    /* idGoal: that goal's columns only. G8: V5 (direct) once for 80; V6
     * (search) twice for 70. */
    json_t *rows = keep(api("method=Referrers.getReferrerType&idGoal=8&" GOAL_COLUMNS "&" RANGE,
                            range));
    ASSERT_ROW(rows, "Direct Entry",
               "goal_8_nb_conversions=1 goal_8_nb_visits_converted=1 goal_8_conversion_rate=20% "
               "goal_8_revenue=80 goal_8_revenue_per_visit=16 nb_conversions=- "
               "goal_1_nb_conversions=- goal_ecommerceOrder_nb_conversions=-");
    ASSERT_ROW(rows, "Search Engines", "goal_8_nb_conversions=2 goal_8_revenue=70");
    /* Abandoned carts by channel: V4 (direct) 40, V7 (campaign) 30. */
    rows = keep(api("method=Referrers.getReferrerType&idGoal=ecommerceAbandonedCart&" GOAL_COLUMNS
                    "&" RANGE,
                    range));
    ASSERT_ROW(rows, "Direct Entry",
               "goal_ecommerceAbandonedCart_nb_conversions=1 "
               "goal_ecommerceAbandonedCart_revenue=40");
    ASSERT_ROW(rows, "Campaigns", "goal_ecommerceAbandonedCart_nb_conversions=1 "
                                  "goal_ecommerceAbandonedCart_revenue=30");
}

/* ---- new, returning, returning customers --------------------------------------- */

static void test_visitor_types(void)
{
    /* New: V1 V2 V3 V4 V7 V9 (6 visits, 6 visitors); returning: V5 (A had
     * not ordered yet), V6, V10; returning customer: V8 (A ordered in V5).
     * Goals: new 9 conversions (V1 4, V2 2, V3 2, V7 1) for 68 in 4
     * visits; returning 9 for 271 in 3; customer 2 for 70. */
    json_t *rows = keep(api("method=VisitFrequency.getVisitorTypes&" GOAL_COLUMNS "&" RANGE,
                            range));
    ASSERT_ROWS(rows, 3);
    ASSERT_EQ_STR(label_at(rows, 0), "new");
    ASSERT_EQ_STR(label_at(rows, 1), "returning");
    ASSERT_EQ_STR(label_at(rows, 2), "returningCustomer");
    ASSERT_ROW(rows, "new",
               "nb_visits=6 nb_uniq_visitors=6 nb_visits_converted=4 nb_conversions=9 "
               "revenue=68 conversion_rate=66.67% revenue_per_visit=11.33 "
               "goal_1_nb_conversions=1 goal_1_conversion_rate=16.67% segment=visitorType==new");
    ASSERT_ROW(rows, "returning",
               "nb_visits=3 nb_uniq_visitors=3 nb_visits_converted=3 nb_conversions=9 "
               "revenue=271 conversion_rate=100% goal_ecommerceOrder_nb_conversions=1 "
               "segment=visitorType==returning");
    ASSERT_ROW(rows, "returningCustomer",
               "nb_visits=1 nb_visits_converted=1 nb_conversions=2 revenue=70 "
               "goal_ecommerceOrder_revenue=60 segment=visitorType==returningCustomer");
    /* Without goal columns, and a type nobody was: the row is there. */
    rows = keep(api("method=VisitFrequency.getVisitorTypes&period=day&date=%s", d1));
    ASSERT_ROWS(rows, 3);
    ASSERT_ROW(rows, "new", "nb_visits=4 nb_actions=12 nb_conversions=-");
    ASSERT_ROW(rows, "returningCustomer", "nb_visits=0");
    /* The row's segment selects its visits. */
    rows = keep(api("method=VisitsSummary.get&segment=visitorType%%3D%%3DreturningCustomer&" RANGE,
                    range));
    ASSERT_FIELDS(rows, "nb_visits=1 nb_visits_converted=1");
}

/* ---- segments ---------------------------------------------------------------- */

static void test_segments(void)
{
    /* visitConvertedGoalId==8: V5 and V6, 3 + 3 conversions, 187 + 80. */
    json_t *j = keep(api("method=Goals.get&segment=visitConvertedGoalId%%3D%%3D8&" RANGE, range));
    ASSERT_FIELDS(j, "nb_conversions=6 nb_visits_converted=2 conversion_rate=100% revenue=267 "
                     "goal_8_nb_conversions=3 goal_1_nb_conversions=1 goal_9_nb_conversions=1");
    /* Days to conversion of those visits: both 1 day after the first. */
    j = keep(api("method=Goals.getDaysToConversion&filter_limit=2&"
                 "segment=visitConvertedGoalId%%3D%%3D8&" RANGE,
                 range));
    ASSERT_ROW(j, "0 days", "nb_conversions=0");
    ASSERT_ROW(j, "1 day", "nb_conversions=6 revenue=267");
    /* A channel segment: search visits V2 V6 V9. */
    j = keep(api("method=Goals.get&idGoal=1&segment=referrerType%%3D%%3Dsearch&" RANGE, range));
    ASSERT_FIELDS(j, "nb_conversions=1 nb_visits_converted=1 conversion_rate=33.33% revenue=10");
}

/* ---- errors ------------------------------------------------------------------ */

static void test_bad_id_goal(void)
{
    char q[300];
    snprintf(q, sizeof q, "format=json&method=Goals.get&idGoal=42&period=range&date=%s", range);
    ASSERT_TRUE(error_says(q, 400, "site 1 has no goal with this id"));
    snprintf(q, sizeof q, "format=json&method=Goals.get&idGoal=ecommerce&period=range&date=%s",
             range);
    ASSERT_TRUE(error_says(q, 400, "ecommerceOrder or ecommerceAbandonedCart"));
    snprintf(q, sizeof q,
             "format=json&method=Goals.getDaysToConversion&idGoal=-1&period=range&date=%s", range);
    ASSERT_TRUE(error_says(q, 400, "is not a goal"));
    snprintf(q, sizeof q,
             "format=json&method=Referrers.getReferrerType&idGoal=0&" GOAL_COLUMNS
             "&period=range&date=%s",
             range);
    ASSERT_TRUE(error_says(q, 400, "site 1 has no goal with this id"));
    /* Without goal columns a visit report does not read idGoal. */
    json_t *rows = keep(api("method=Referrers.getReferrerType&idGoal=0&" RANGE, range));
    ASSERT_ROWS(rows, 4);
}

/* ---- goals that change while the server runs --------------------------------- */

static bool server_has_goal(unsigned id)
{
    for (int i = 0; i < 100; i++) {
        int status;
        char q[64];
        snprintf(q, sizeof q, "format=json&method=Goals.getGoal&idGoal=%u", id);
        char *body = api_raw(&status, q);
        free(body);
        if (status == 200) return true;
        struct timespec t = {.tv_nsec = 100 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    return false;
}

static void test_goal_added_after_the_data(void)
{
    /* Through the API: G10, titles containing "blog", revenue 4. V9 (D3)
     * saw "Blog" before the goal existed. */
    json_t *j = keep(api("method=Goals.addGoal&name=Blog&matchAttribute=title&pattern=blog"
                         "&patternType=contains&revenue=4"));
    ASSERT_FIELDS(j, "value=10");
    j = keep(api("method=Goals.get&idGoal=10&" RANGE, range));
    ASSERT_FIELDS(j, "nb_conversions=1 nb_visits_converted=1 conversion_rate=10% revenue=4");
    /* Now 21 conversions in 9 visits, revenue 413. */
    j = keep(api("method=Goals.get&" RANGE, range));
    ASSERT_FIELDS(j, "nb_conversions=21 nb_visits_converted=9 conversion_rate=90% revenue=413 "
                     "goal_10_nb_conversions=1 goal_10_revenue=4");
    j = keep(api("method=Referrers.getReferrerType&" GOAL_COLUMNS "&" RANGE, range));
    ASSERT_ROW(j, "Search Engines", "nb_visits_converted=3 goal_10_nb_conversions=1");

    /* Through the CLI beside the running server: G11, title exact "Home":
     * V1, V4, V7, V10, once each. V4 converts for the first time. */
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name Home --match title --type exact "
                        "--pattern Home",
                        data_dir),
                  0);
    ASSERT_EQ_STR(out.data, "11\n");
    ASSERT_TRUE(server_has_goal(11));
    j = keep(api("method=Goals.get&idGoal=11&" RANGE, range));
    ASSERT_FIELDS(j, "nb_conversions=4 nb_visits_converted=4 conversion_rate=40% revenue=0");
    j = keep(api("method=Goals.get&" RANGE, range));
    ASSERT_FIELDS(j, "nb_conversions=25 nb_visits_converted=10 conversion_rate=100% revenue=413");
    j = keep(api("method=VisitsSummary.get&segment=visitConvertedGoalId%%3D%%3D11&" RANGE, range));
    ASSERT_FIELDS(j, "nb_visits=4");
}

static void test_deleted_goal_stops_counting(void)
{
    /* G9 converted once in V5 for 7; V5 still converted (its order, G8). */
    json_t *j = keep(api("method=Goals.deleteGoal&idGoal=9"));
    ASSERT_FIELDS(j, "result=success");
    j = keep(api("method=Goals.get&" RANGE, range));
    ASSERT_FIELDS(j, "nb_conversions=24 nb_visits_converted=10 revenue=406 "
                     "goal_9_nb_conversions=- goal_8_nb_conversions=3 goal_11_nb_conversions=4");
    char q[300];
    snprintf(q, sizeof q, "format=json&method=Goals.get&idGoal=9&period=range&date=%s", range);
    ASSERT_TRUE(error_says(q, 400, "idGoal 9: site 1 has no goal with this id"));
    j = keep(api("method=VisitsSummary.get&segment=visitConvertedGoalId%%3D%%3D9&" RANGE, range));
    ASSERT_FIELDS(j, "nb_visits=0");
    j = keep(api("method=Goals.getDaysToConversion&filter_limit=2&" RANGE, range));
    /* 1 day: V5 lost G9's conversion: 6 - 1. */
    ASSERT_ROW(j, "1 day", "nb_conversions=5 revenue=260");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    buf_init(&out);
    if (!start()) {
        printf("Bail out! cannot set up the site, its goals and a server: %s\n",
               out.data ? out.data : "");
        return 1;
    }
    if (!send_data_set()) {
        server_log_tail(&server, 3000);
        printf("Bail out! the data set was not accepted\n");
        server_stop(&server);
        return 1;
    }
    RUN(test_goals_get_every_goal);
    RUN(test_goals_get_one_goal);
    RUN(test_visitor_log_names_goals);
    RUN(test_goals_get_ecommerce);
    RUN(test_goals_get_per_day);
    RUN(test_days_to_conversion);
    RUN(test_visits_until_conversion);
    RUN(test_channels_with_goal_columns);
    RUN(test_channel_subtables_others_and_flat);
    RUN(test_channels_one_goal);
    RUN(test_visitor_types);
    RUN(test_segments);
    RUN(test_bad_id_goal);
    /* These change the goals: last. */
    RUN(test_goal_added_after_the_data);
    RUN(test_deleted_goal_stops_counting);
    server_stop(&server);
    harness_rmtree(data_dir);
    buf_free(&out);
    return TEST_DONE();
}
