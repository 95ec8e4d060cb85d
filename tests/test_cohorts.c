/* Cohorts.get through the Reporting API, against triangles computed by
 * hand: month cohorts (returning visitors, a goal and orders in later
 * months, a visitor whose first visit predates the range), the subtable
 * per cohort, one month alone, a segment; week cohorts across a
 * Sunday/Monday boundary; day cohorts; a bad cohortPeriod.
 *
 * The real `tally serve` gets the hits as a tracker sends them (cdt with a
 * token to place them in time, cid for the visitor). Both sites are in
 * UTC. The dates are relative to the day the test runs: "now" for the
 * report is the server's clock.
 *
 * Site 1, months. M0..M3 are the 4th, 3rd, 2nd and 1st months before the
 * current month (Mc). Goal 1: url contains "/thanks" (revenue 5).
 *   P  M0-10 first visit; M1-05; M2-05 order 70      (first visit before the range)
 *   A  M1-03 first; M2-03 from campaign Spring, /thanks (goal); M3-03 order 100
 *   B  M1-04 first; M1-20 again; M3-04 again
 *   C  M1-05 first, /thanks (goal); never again
 *   D  M2-07 first, from campaign Spring, order 50; M3-07 order 30
 *   E  M2-08 first; never again
 *   F  M3-09 first
 * Range M1-01 .. the last day of M3, month cohorts; offsets up to Mc
 * (now), so M1 has k = 0..3, M2 0..2, M3 0..1:
 *   cohort M1 (A B C), size 3:
 *     k0 M1: A B C 3 (100%), converted C 1, no orders
 *     k1 M2: A 1 (33.33%), converted A (goal) 1, no orders
 *     k2 M3: A B 2 (66.67%), converted A (order) 1, orders 1, revenue 100
 *     k3 Mc: 0 (0%)
 *   cohort M2 (D E), size 2:
 *     k0 M2: D E 2 (100%), converted D 1, orders 1, revenue 50
 *     k1 M3: D 1 (50%), converted 1, orders 1, revenue 30
 *     k2 Mc: 0;  no k3 cell
 *   cohort M3 (F), size 1: k0 1 (100%); k1 0; no k2 cell
 *   P counts nowhere: its M1 and M2 visits are not in cohort M1's k0, k1.
 * Segment referrerType==campaign (the visits counted; cohorts unchanged):
 *   M1: size 3, k0 0 (0%), k1 A 1 (33.33%) converted 1, k2 0
 *   M2: size 2, k0 D 1 (50%) converted 1 orders 1 revenue 50, k1 0
 *   M3: size 1, k0 0
 *
 * Site 2, weeks. W is the Monday three weeks before the current week's
 * Monday (Wc = W+21).
 *   G  W Mon 10:00 first; W+9 (Wed of W+1) again; W+14 (Mon of W+2) order 40
 *   H  W+6 (Sun) 23:30 first; W+7 (Mon) 00:30 again (an hour later: a new visit)
 *   I  W+8 (Tue) first
 *   J  W-3 (Fri of the week before) first; W+8 again  (before the range)
 * Weeks, range W .. W+13 (two weeks), offsets up to Wc: W k 0..3, W+1 0..2:
 *   cohort W (G H), size 2: k0 2 (100%); k1 G H 2 (100%); k2 G 1 (50%),
 *     converted 1, orders 1, revenue 40; k3 0
 *   cohort W+7 (I), size 1: k0 1; k1 0; k2 0; no k3 cell
 * Days, period=week&date=W (seven day cohorts W .. W+6):
 *   W: G, size 1: k0 1, k1 0, k9 1, k14 1 with the order (40)
 *   W+1 .. W+5: size 0, every cell 0
 *   W+6: H, size 1: k0 1, k1 1 (Monday 00:30) */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>

#include "harness.h"
#include "test.h"

#define SHOP "https://shop.example.com"

static const char UA[] =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";

/* Site 1: month offset from Mc (-4 = M0) and day of month; site 2: days
 * from W. Then the UTC time and the hit's parameters as
 * "name=value|name=value", values not yet URL-encoded. */
static const struct {
    unsigned site;
    char visitor;
    int month, day, h, m;
    const char *params;
} hits[] = {
    {1, 'P', -4, 10, 9, 0, "url=" SHOP "/|action_name=Home"},
    {1, 'P', -3, 5, 9, 0, "url=" SHOP "/|action_name=Home"},
    {1, 'P', -2, 5, 9, 0, "url=" SHOP "/|action_name=Home"},
    {1, 'P', -2, 5, 9, 1, "url=" SHOP "/done|idgoal=0|ec_id=O-P|revenue=70"},
    {1, 'A', -3, 3, 10, 0, "url=" SHOP "/|action_name=Home"},
    {1, 'A', -2, 3, 10, 0, "url=" SHOP "/?mtm_campaign=Spring|action_name=Home"},
    {1, 'A', -2, 3, 10, 1, "url=" SHOP "/thanks|action_name=Thanks"},
    {1, 'A', -1, 3, 10, 0, "url=" SHOP "/|action_name=Home"},
    {1, 'A', -1, 3, 10, 1, "url=" SHOP "/done|idgoal=0|ec_id=O-A|revenue=100"},
    {1, 'B', -3, 4, 11, 0, "url=" SHOP "/|action_name=Home"},
    {1, 'B', -3, 20, 11, 0, "url=" SHOP "/|action_name=Home"},
    {1, 'B', -1, 4, 11, 0, "url=" SHOP "/|action_name=Home"},
    {1, 'C', -3, 5, 12, 0, "url=" SHOP "/thanks|action_name=Thanks"},
    {1, 'D', -2, 7, 13, 0, "url=" SHOP "/?mtm_campaign=Spring|action_name=Home"},
    {1, 'D', -2, 7, 13, 1, "url=" SHOP "/done|idgoal=0|ec_id=O-D1|revenue=50"},
    {1, 'D', -1, 7, 13, 0, "url=" SHOP "/|action_name=Home"},
    {1, 'D', -1, 7, 13, 1, "url=" SHOP "/done|idgoal=0|ec_id=O-D2|revenue=30"},
    {1, 'E', -2, 8, 14, 0, "url=" SHOP "/|action_name=Home"},
    {1, 'F', -1, 9, 15, 0, "url=" SHOP "/|action_name=Home"},
    /* site 2: days from W */
    {2, 'G', 0, 0, 10, 0, "url=" SHOP "/|action_name=Home"},
    {2, 'G', 0, 9, 10, 0, "url=" SHOP "/|action_name=Home"},
    {2, 'G', 0, 14, 10, 0, "url=" SHOP "/|action_name=Home"},
    {2, 'G', 0, 14, 10, 1, "url=" SHOP "/done|idgoal=0|ec_id=O-G|revenue=40"},
    {2, 'H', 0, 6, 23, 30, "url=" SHOP "/|action_name=Home"},
    {2, 'H', 0, 7, 0, 30, "url=" SHOP "/|action_name=Home"},
    {2, 'I', 0, 8, 12, 0, "url=" SHOP "/|action_name=Home"},
    {2, 'J', 0, -3, 12, 0, "url=" SHOP "/|action_name=Home"},
    {2, 'J', 0, 8, 13, 0, "url=" SHOP "/|action_name=Home"},
};

static struct server server;
static char data_dir[256];
static char tokens[3][33]; /* per site */
static struct buf out;

static json_t *api(unsigned site, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *api(unsigned site, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *j = api_jsonv(&server, tokens[site], site, fmt, ap);
    va_end(ap);
    return j;
}

/* ---- dates ---- */

static int64_t today, week_w;  /* UTC day numbers: today, and W */
static int current_month;      /* year * 12 + month - 1 */
static char m1[11], m2[11], m3[11], m3_last[11], mc[11];
static char w0[11], w1[11], w13[11], w6[11], w9[11], w14[11];

static int64_t month_day(int offset, int day)
{
    int m = current_month + offset;
    return days_from_civil(m / 12, m % 12 + 1, day);
}

static void set_dates(void)
{
    today = now_ms() / MS_PER_DAY;
    int y, m, d;
    civil_from_days(today, &y, &m, &d);
    current_month = y * 12 + m - 1;
    format_date(month_day(-3, 1), m1);
    format_date(month_day(-2, 1), m2);
    format_date(month_day(-1, 1), m3);
    format_date(month_day(0, 1) - 1, m3_last);
    format_date(month_day(0, 1), mc);
    /* 1970-01-01 was a Thursday: Monday is (day + 3) % 7 == 0. */
    int64_t monday = today - (today + 3) % 7;
    week_w = monday - 21;
    format_date(week_w, w0);
    format_date(week_w + 7, w1);
    format_date(week_w + 13, w13);
    format_date(week_w + 6, w6);
    format_date(week_w + 9, w9);
    format_date(week_w + 14, w14);
}

/* ---- tracking ---- */

static int track(unsigned site, char visitor, int64_t t_ms, const char *params)
{
    char cid[17];
    memset(cid, "0123456789abcdef"[(visitor - 'A') % 16], 16); /* A..P: one hex digit each */
    cid[16] = '\0';
    return track_visitor_hit(&server, tokens[site], site, cid, t_ms, UA, params);
}

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        TEST_RUN(fn);                                                                              \
        keep(NULL);                                                                                \
    } while (0)

static const char *label_at(const json_t *rows, size_t i)
{
    return json_string_value(json_object_get(json_array_get(rows, i), "label"));
}

/* ---- set-up ---- */

#define TALLY(...) (buf_reset(&out), run_tally(&out, __VA_ARGS__))

static bool start(void)
{
    if (harness_tmpdir(data_dir)) return false;
    if (TALLY("site add --data %s --name Shop --url " SHOP, data_dir) != 0) return false;
    if (TALLY("site add --data %s --name Weekly --url " SHOP, data_dir) != 0) return false;
    if (harness_token_create(data_dir, 1, tokens[1])) return false;
    if (harness_token_create(data_dir, 2, tokens[2])) return false;
    if (TALLY("goal add --data %s --site 1 --name Thanks --match url --type contains "
              "--pattern /thanks --revenue 5",
              data_dir) != 0)
        return false;
    return server_start(&server, data_dir, "") == 0;
}

static bool send_data_set(void)
{
    for (size_t i = 0; i < sizeof hits / sizeof *hits; i++) {
        int64_t day = hits[i].site == 1 ? month_day(hits[i].month, hits[i].day)
                                        : week_w + hits[i].day;
        int64_t t = day * MS_PER_DAY + (hits[i].h * 60LL + hits[i].m) * 60000LL;
        if (track(hits[i].site, hits[i].visitor, t, hits[i].params) != 204) return false;
    }
    return true;
}

/* ---- months ---- */

static void test_month_triangle(void)
{
    json_t *rows = keep(api(1, "method=Cohorts.get&period=range&date=%s,%s", m1, m3_last));
    ASSERT_ROWS(rows, 3);
    /* Oldest first, labelled by the cohort's first day. */
    ASSERT_EQ_STR(label_at(rows, 0), m1);
    ASSERT_EQ_STR(label_at(rows, 1), m2);
    ASSERT_EQ_STR(label_at(rows, 2), m3);
    ASSERT_ROW(rows, m1, "nb_visitors=3 visitors_0=3 retention_0=100% converted_0=1 orders_0=0 "
                         "revenue_0=0");
    /* P's M2 visit (with its order) is not in M1's cohort. */
    ASSERT_ROW(rows, m1, "visitors_1=1 retention_1=33.33% converted_1=1 orders_1=0 revenue_1=0");
    ASSERT_ROW(rows, m1, "visitors_2=2 retention_2=66.67% converted_2=1 orders_2=1 revenue_2=100");
    ASSERT_ROW(rows, m1, "visitors_3=0 retention_3=0% converted_3=0 orders_3=0 visitors_4=-");
    ASSERT_ROW(rows, m2, "nb_visitors=2 visitors_0=2 retention_0=100% converted_0=1 orders_0=1 "
                         "revenue_0=50");
    ASSERT_ROW(rows, m2, "visitors_1=1 retention_1=50% converted_1=1 orders_1=1 revenue_1=30");
    ASSERT_ROW(rows, m2, "visitors_2=0 retention_2=0% visitors_3=- retention_3=-");
    ASSERT_ROW(rows, m3, "nb_visitors=1 visitors_0=1 retention_0=100% converted_0=0 visitors_1=0 "
                         "visitors_2=-");
}

static void test_month_subtable(void)
{
    /* Cohort M1 is the first row: subtable 1, one row per offset. */
    json_t *rows = keep(api(1, "method=Cohorts.get&period=range&date=%s,%s&idSubtable=1", m1,
                            m3_last));
    ASSERT_ROWS(rows, 4);
    ASSERT_EQ_STR(label_at(rows, 0), "0");
    ASSERT_EQ_STR(label_at(rows, 3), "3");
    char spec[200];
    snprintf(spec, sizeof spec, "date=%s visitors=3 retention=100%% converted=1", m1);
    ASSERT_ROW(rows, "0", spec);
    snprintf(spec, sizeof spec, "date=%s visitors=2 retention=66.67%% orders=1 revenue=100", m3);
    ASSERT_ROW(rows, "2", spec);
    snprintf(spec, sizeof spec, "date=%s visitors=0 retention=0%%", mc);
    ASSERT_ROW(rows, "3", spec);
}

static void test_one_month(void)
{
    /* period=month: the one cohort M2, offsets up to now as before. The
     * default cohortPeriod is month. */
    json_t *rows = keep(api(1, "method=Cohorts.get&period=month&date=%s", m2));
    ASSERT_ROWS(rows, 1);
    ASSERT_ROW(rows, m2, "nb_visitors=2 visitors_0=2 orders_0=1 revenue_0=50 visitors_1=1 "
                         "revenue_1=30 visitors_2=0 visitors_3=-");
    /* Cohorts of a range in M1 from the 4th: B and C only (A came on the 3rd). */
    char from[11], to[11];
    format_date(month_day(-3, 4), from);
    format_date(month_day(-3, 28), to);
    rows = keep(api(1, "method=Cohorts.get&cohortPeriod=month&period=range&date=%s,%s", from, to));
    ASSERT_ROWS(rows, 1);
    ASSERT_ROW(rows, m1, "nb_visitors=2 visitors_0=2 converted_0=1 visitors_1=0 visitors_2=1 "
                         "retention_2=50% orders_2=0");
}

static void test_month_segment(void)
{
    json_t *rows = keep(api(1, "method=Cohorts.get&period=range&date=%s,%s"
                               "&segment=referrerType%%3D%%3Dcampaign",
                            m1, m3_last));
    ASSERT_ROWS(rows, 3);
    ASSERT_ROW(rows, m1, "nb_visitors=3 visitors_0=0 retention_0=0% visitors_1=1 "
                         "retention_1=33.33% converted_1=1 visitors_2=0 orders_2=0 revenue_2=0");
    ASSERT_ROW(rows, m2, "nb_visitors=2 visitors_0=1 retention_0=50% converted_0=1 orders_0=1 "
                         "revenue_0=50 visitors_1=0 orders_1=0");
    ASSERT_ROW(rows, m3, "nb_visitors=1 visitors_0=0");
}

/* ---- weeks and days ---- */

static void test_week_triangle(void)
{
    json_t *rows = keep(api(2, "method=Cohorts.get&cohortPeriod=week&period=range&date=%s,%s", w0,
                            w13));
    ASSERT_ROWS(rows, 2);
    ASSERT_EQ_STR(label_at(rows, 0), w0);
    ASSERT_EQ_STR(label_at(rows, 1), w1);
    /* H's Sunday 23:30 is week W, its Monday 00:30 week W+1. */
    ASSERT_ROW(rows, w0, "nb_visitors=2 visitors_0=2 retention_0=100% visitors_1=2 "
                         "retention_1=100% visitors_2=1 retention_2=50% converted_2=1 orders_2=1 "
                         "revenue_2=40 visitors_3=0 visitors_4=-");
    /* I; J came first the week before: in no cohort. */
    ASSERT_ROW(rows, w1, "nb_visitors=1 visitors_0=1 visitors_1=0 visitors_2=0 visitors_3=-");
}

static void test_day_triangle(void)
{
    json_t *rows = keep(api(2, "method=Cohorts.get&cohortPeriod=day&period=week&date=%s", w0));
    ASSERT_ROWS(rows, 7);
    ASSERT_EQ_STR(label_at(rows, 0), w0);
    ASSERT_EQ_STR(label_at(rows, 6), w6);
    ASSERT_ROW(rows, w0, "nb_visitors=1 visitors_0=1 visitors_1=0 visitors_9=1 "
                         "retention_9=100% visitors_14=1 orders_14=1 revenue_14=40 orders_9=0");
    ASSERT_ROW(rows, w6, "nb_visitors=1 visitors_0=1 visitors_1=1 retention_1=100% visitors_2=0");
    char d3[11];
    format_date(week_w + 3, d3);
    ASSERT_ROW(rows, d3, "nb_visitors=0 visitors_0=0 retention_0=0%");
    /* The subtable of W: row 9 is W+9, row 14 W+14. */
    rows = keep(api(2, "method=Cohorts.get&cohortPeriod=day&period=week&date=%s&idSubtable=1",
                    w0));
    char spec[100];
    snprintf(spec, sizeof spec, "date=%s visitors=1", w9);
    ASSERT_ROW(rows, "9", spec);
    snprintf(spec, sizeof spec, "date=%s visitors=1 revenue=40", w14);
    ASSERT_ROW(rows, "14", spec);
}

static void test_bad_cohort_period(void)
{
    int status;
    char *body = api_get(&server, tokens[1], 1,
                         "method=Cohorts.get&period=month&date=today&cohortPeriod=year", &status);
    ASSERT_TRUE(body != NULL);
    bool ok = status == 400 && strstr(body, "cohortPeriod") && strstr(body, "year") &&
              strstr(body, "is not valid: use day, week or month") &&
              strstr(body, "\"result\":\"error\"");
    if (!ok) printf("# got %d: %.300s\n", status, body);
    free(body);
    ASSERT_TRUE(ok);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    buf_init(&out);
    set_dates();
    if (!start()) {
        printf("Bail out! cannot set up the sites and a server: %s\n", out.data ? out.data : "");
        return 1;
    }
    if (!send_data_set()) {
        server_log_tail(&server, 3000);
        printf("Bail out! the data set was not accepted\n");
        server_stop(&server);
        return 1;
    }
    RUN(test_month_triangle);
    RUN(test_month_subtable);
    RUN(test_one_month);
    RUN(test_month_segment);
    RUN(test_week_triangle);
    RUN(test_day_triangle);
    RUN(test_bad_cohort_period);
    server_stop(&server);
    harness_rmtree(data_dir);
    buf_free(&out);
    return TEST_DONE();
}
