/* Reports through the Reporting API, against expectations computed by hand.
 *
 * A small fixed data set is sent to the real `tally serve` over HTTP, as
 * trackers send it: one GET per hit, times forced with cdt (token_auth),
 * visitors fixed with cid, places with cip (looked up in a generated test
 * geo database), real browsers' user agents in the User-Agent header. The
 * site is in Europe/Berlin, so days and hours are Berlin's.
 *
 * The data set, in site time. D1, D2, D3 are the three days before today
 * (the days are relative so that date=last3 and the real-time reports see
 * them as they would in production); times are fixed within each day.
 *
 *   visitor  device                      address          country
 *   A        Windows, Chrome, desktop    203.0.113.10     de
 *   B        iPhone, Safari, smartphone  198.51.100.20    us
 *   C        Mac, Safari, desktop        2001:db8::30     fr
 *   D        Pixel 8, Chrome, smartphone 192.0.2.40       cr
 *   E        iPad, Safari, tablet        203.0.114.50     (none in the database)
 *   F        Windows, Firefox, desktop   203.0.113.60     de
 *   G        Windows, Chrome, desktop    198.51.100.70    us
 *
 *   visit      start      channel                  actions  pageviews  length
 *   V1  A #1   D1 09:00   direct                   5        3          360 s
 *       /  ->  /blog/post-1  ->  event Video/Play/Intro (10)  ->  outlink
 *       partner.example.net/offer  ->  /blog/post-2 (09:06)
 *   V2  B #1   D1 10:00   Google "tally analytics" 1        1          0
 *       /blog/post-1
 *   V3  C #1   D1 14:30   campaign winter-sale     4        2          300
 *       (kwd boots, source newsletter, medium email)
 *       /  ->  search "boots" (3 results)  ->  /shoes/boots  ->  download
 *       /files/catalog.pdf (14:35)
 *   V4  A #2   D2 10:15   website blog.example.org 3        2          300
 *       /sale  ->  impression Banner  ->  interaction Banner  ->
 *       /shoes/boots (10:20)
 *   V5  D #1   D2 12:00   social Facebook          2        1          120
 *       /blog/post-1  ->  event Video/Pause/Intro (no value, 12:02)
 *   V6  E #1   D2 19:45   direct                   3        1          120
 *       /  ->  search "gloves" (0 results)  ->  search "boots" (2, 19:47)
 *   V7  B #2   D2 23:45   Bing "winter boots"      2        2          1200
 *       /shoes/boots  ->  /checkout (D3 00:05: the visit stays on D2)
 *   V8  D #2   D3 14:00   campaign winter-sale     1        1          0
 *       (kwd gloves, source facebook, medium social)  /sale
 *   V9  A #3   D3 15:00   direct                   3        2          600
 *       /  ->  impression Banner  ->  event Video/Play/"=1+2" (5)  ->
 *       /blog/post-1 (15:10)
 *   V10 C #2   D3 16:00   direct                   3        1          120
 *       /blog/post-2  ->  impression Newsletter  ->  download
 *       /files/catalog.pdf  ->  outlink partner.example.net/offer (16:02)
 *   V11 F #1   D3 20:00   Google "tally analytics" 1        1          0
 *       /blog/post-2
 *   V12 G #1   today, a minute ago -> now, direct  2       2          60
 *       /  ->  /sale
 *
 * Page titles: / "Home", /blog/post-1 "Post 1", /blog/post-2 "Post 2",
 * /shoes/boots `Boots, "Winter" edition` (a comma and quotes, for CSV),
 * /sale "Sale", /checkout "Checkout". Events carry no title; the event
 * name "=1+2" checks that CSV cells cannot start a spreadsheet formula.
 *
 * Days since the last visit (whole days since the previous visit's last
 * hit, chosen more than an hour away from a day boundary so a DST switch
 * cannot move them): V4 1 (25 h), V7 1 (37 h), V8 1 (26 h), V9 1 (28 h),
 * V10 2 (49 h). */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../src/query/query.h"
#include "harness.h"
#include "test.h"

#define TZ_NAME "Europe/Berlin"
#define SHOP "https%3A%2F%2Fshop.example.com"
#define BOOTS "Boots%2C%20%22Winter%22%20edition"
#define BOOTS_TITLE "Boots, \"Winter\" edition"
#define GOOGLE "https%3A%2F%2Fwww.google.com%2Fsearch%3Fq%3Dtally%2Banalytics"

static const char UA_WINDOWS_CHROME[] =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";
static const char UA_IPHONE[] =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
static const char UA_MAC[] =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15";
static const char UA_PIXEL[] =
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.43 Mobile Safari/537.36";
static const char UA_IPAD[] =
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1";
static const char UA_WINDOWS_FIREFOX[] =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";

static const struct {
    const char *cid, *cip, *ua;
} visitors[] = {
    /* A */ {"aaaaaaaaaaaaaaaa", "203.0.113.10", UA_WINDOWS_CHROME},
    /* B */ {"bbbbbbbbbbbbbbbb", "198.51.100.20", UA_IPHONE},
    /* C */ {"cccccccccccccccc", "2001%3Adb8%3A%3A30", UA_MAC},
    /* D */ {"dddddddddddddddd", "192.0.2.40", UA_PIXEL},
    /* E */ {"eeeeeeeeeeeeeeee", "203.0.114.50", UA_IPAD},
    /* F */ {"ffffffffffffffff", "203.0.113.60", UA_WINDOWS_FIREFOX},
    /* G */ {"1234567890abcdef", "198.51.100.70", UA_WINDOWS_CHROME},
};

/* One tracking request: visitor letter, day (1..3 = D1..D3), local time,
 * and the rest of its query string. */
static const struct {
    char visitor;
    int day, h, m, s;
    const char *params;
} hits[] = {
    /* V1 */
    {'A', 1, 9, 0, 0, "url=" SHOP "%2F&action_name=Home"},
    {'A', 1, 9, 1, 0, "url=" SHOP "%2Fblog%2Fpost-1&action_name=Post%201"},
    {'A', 1, 9, 3, 0, "url=" SHOP "%2Fblog%2Fpost-1&e_c=Video&e_a=Play&e_n=Intro&e_v=10"},
    {'A', 1, 9, 4, 0,
     "url=" SHOP "%2Fblog%2Fpost-1&link=https%3A%2F%2Fpartner.example.net%2Foffer"},
    {'A', 1, 9, 6, 0, "url=" SHOP "%2Fblog%2Fpost-2&action_name=Post%202"},
    /* V2 */
    {'B', 1, 10, 0, 0, "url=" SHOP "%2Fblog%2Fpost-1&action_name=Post%201&urlref=" GOOGLE},
    /* V3 */
    {'C', 1, 14, 30, 0,
     "url=" SHOP "%2F%3Fmtm_campaign%3DWinter-Sale%26mtm_kwd%3Dboots%26mtm_source%3Dnewsletter"
     "%26mtm_medium%3Demail&action_name=Home"},
    {'C', 1, 14, 32, 0, "url=" SHOP "%2Fsearch%3Fq%3Dboots&search=boots&search_count=3"},
    {'C', 1, 14, 33, 0, "url=" SHOP "%2Fshoes%2Fboots&action_name=" BOOTS},
    {'C', 1, 14, 35, 0, "url=" SHOP "%2Fshoes%2Fboots&download=" SHOP "%2Ffiles%2Fcatalog.pdf"},
    /* V4 */
    {'A', 2, 10, 15, 0,
     "url=" SHOP "%2Fsale&action_name=Sale&urlref=https%3A%2F%2Fblog.example.org%2Freview"
     "&dimension1=gold"},
    {'A', 2, 10, 16, 0,
     "url=" SHOP "%2Fsale&c_n=Banner&c_p=winter.jpg&c_t=" SHOP "%2Fshoes%2Fboots"},
    {'A', 2, 10, 17, 0,
     "url=" SHOP "%2Fsale&c_n=Banner&c_p=winter.jpg&c_t=" SHOP "%2Fshoes%2Fboots&c_i=click"},
    {'A', 2, 10, 20, 0, "url=" SHOP "%2Fshoes%2Fboots&action_name=" BOOTS},
    /* V5 */
    {'D', 2, 12, 0, 0,
     "url=" SHOP "%2Fblog%2Fpost-1&action_name=Post%201&urlref=https%3A%2F%2Fwww.facebook.com%2F"},
    {'D', 2, 12, 2, 0, "url=" SHOP "%2Fblog%2Fpost-1&e_c=Video&e_a=Pause&e_n=Intro"},
    /* V6 */
    {'E', 2, 19, 45, 0, "url=" SHOP "%2F&action_name=Home"},
    {'E', 2, 19, 46, 0, "url=" SHOP "%2Fsearch%3Fq%3Dgloves&search=gloves&search_count=0"},
    {'E', 2, 19, 47, 0, "url=" SHOP "%2Fsearch%3Fq%3Dboots&search=boots&search_count=2"},
    /* V7 */
    {'B', 2, 23, 45, 0,
     "url=" SHOP "%2Fshoes%2Fboots&action_name=" BOOTS
     "&urlref=https%3A%2F%2Fwww.bing.com%2Fsearch%3Fq%3Dwinter%2Bboots"},
    {'B', 3, 0, 5, 0, "url=" SHOP "%2Fcheckout&action_name=Checkout"},
    /* V8 */
    {'D', 3, 14, 0, 0,
     "url=" SHOP "%2Fsale%3Fmtm_campaign%3DWinter-Sale%26mtm_source%3Dfacebook%26mtm_medium"
     "%3Dsocial%26mtm_kwd%3Dgloves&action_name=Sale&dimension1=silver%3Cb%3E"},
    /* V9 */
    {'A', 3, 15, 0, 0, "url=" SHOP "%2F&action_name=Home"},
    {'A', 3, 15, 1, 0, "url=" SHOP "%2F&c_n=Banner&c_p=winter.jpg&c_t=" SHOP "%2Fshoes%2Fboots"},
    {'A', 3, 15, 5, 0, "url=" SHOP "%2F&e_c=Video&e_a=Play&e_n=%3D1%2B2&e_v=5"},
    {'A', 3, 15, 10, 0, "url=" SHOP "%2Fblog%2Fpost-1&action_name=Post%201"},
    /* V10 */
    {'C', 3, 16, 0, 0, "url=" SHOP "%2Fblog%2Fpost-2&action_name=Post%202"},
    {'C', 3, 16, 0, 30, "url=" SHOP "%2Fblog%2Fpost-2&c_n=Newsletter&c_p=signup-form"},
    {'C', 3, 16, 1, 0, "url=" SHOP "%2Fblog%2Fpost-2&download=" SHOP "%2Ffiles%2Fcatalog.pdf"},
    {'C', 3, 16, 2, 0,
     "url=" SHOP "%2Fblog%2Fpost-2&link=https%3A%2F%2Fpartner.example.net%2Foffer"},
    /* V11 */
    {'F', 3, 20, 0, 0, "url=" SHOP "%2Fblog%2Fpost-2&action_name=Post%202&urlref=" GOOGLE},
};

static struct server server;
static char data_dir[256];
static char geo_dir[256];
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

static struct tz *site_tz;
static int64_t today; /* local day number of the queries */
static char d0[11], d1[11], d2[11], d3[11], range[32];

/* ---- time ------------------------------------------------------------------ */

/* UTC ms of a local time of a day (hours past a DST switch included). */
static int64_t local_ms(int64_t day, int h, int m, int s)
{
    int64_t midnight = tz_day_start_ms(site_tz, day);
    int64_t t = midnight + ((h * 60 + m) * 60 + s) * 1000LL;
    return t - (tz_offset_ms(site_tz, t) - tz_offset_ms(site_tz, midnight));
}

static int64_t local_now_ms_of_day(void)
{
    int64_t now = now_ms();
    return now - tz_day_start_ms(site_tz, tz_local_day(site_tz, now));
}

static const char *const weekdays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                       "Friday", "Saturday", "Sunday"};
static int iso_weekday(int64_t day) /* 1 Monday .. 7 Sunday */
{
    return (int)(((day + 3) % 7 + 7) % 7) + 1;
}

/* ---- HTTP and JSON ------------------------------------------------------------- */

static int track(char visitor, int64_t t_ms, const char *params)
{
    const int v = visitor - 'A';
    char query[2048];
    snprintf(query, sizeof query,
             "idsite=1&rec=1&send_image=0&%s&cid=%s&cip=%s&cdt=%lld&token_auth=%s", params,
             visitors[v].cid, visitors[v].cip, (long long)(t_ms / 1000), token);
    return track_get(&server, query, visitors[v].ua);
}

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        TEST_RUN(fn);                                                                              \
        keep(NULL);                                                                                \
    } while (0)

/* ---- set-up -------------------------------------------------------------------- */

static bool root_dir(char out[1024])
{
    ssize_t n = readlink("/proc/self/exe", out, 1023);
    if (n <= 0) return false;
    out[n] = '\0';
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(out, '/');
        if (!slash) return false;
        *slash = '\0';
    }
    return true;
}

static bool start(void)
{
    char root[1024], cmd[2600];
    if (!root_dir(root) || harness_tmpdir(data_dir) || harness_tmpdir(geo_dir)) return false;
    snprintf(cmd, sizeof cmd, "perl '%s/tests/make-test-mmdb.pl' '%s'", root, geo_dir);
    if (system(cmd) != 0) {
        printf("# %s failed: scripts/deps.sh test installs libmaxmind-db-writer-perl\n", cmd);
        return false;
    }
    if (tz_load(TZ_NAME, &site_tz)) return false;
    struct buf out;
    buf_init(&out);
    int rc = run_tally(&out,
                       "site add --data %s --name Shop --url https://shop.example.com "
                       "--timezone " TZ_NAME " --currency EUR",
                       data_dir);
    buf_free(&out);
    if (rc || harness_token_create(data_dir, 1, token)) return false;
    snprintf(cmd, sizeof cmd, "--geoip %s/flat.mmdb", geo_dir);
    return server_start(&server, data_dir, cmd) == 0;
}

/* Sends the data set. Today's visit (V12) is a minute ago and now, so the
 * queries must not straddle local midnight: a start within two minutes of
 * it waits. */
static bool send_data_set(void)
{
    int64_t tod = local_now_ms_of_day();
    if (tod < 2 * 60000 || tod > MS_PER_DAY - 2 * 60000) {
        int64_t wait = tod < 2 * 60000 ? 2 * 60000 - tod : MS_PER_DAY - tod + 2 * 60000;
        printf("# waiting %lld s: too close to midnight in " TZ_NAME "\n",
               (long long)(wait / 1000 + 1));
        sleep((unsigned)(wait / 1000 + 1));
    }
    today = tz_local_day(site_tz, now_ms());
    format_date(today, d0);
    format_date(today - 3, d1);
    format_date(today - 2, d2);
    format_date(today - 1, d3);
    snprintf(range, sizeof range, "%s,%s", d1, d3);
    for (size_t i = 0; i < sizeof hits / sizeof *hits; i++)
        if (track(hits[i].visitor,
                  local_ms(today - 4 + hits[i].day, hits[i].h, hits[i].m, hits[i].s),
                  hits[i].params) != 204)
            return false;
    int64_t now = now_ms();
    return track('G', now - 60000, "url=" SHOP "%2F&action_name=Home") == 204 &&
           track('G', now, "url=" SHOP "%2Fsale&action_name=Sale") == 204;
}

/* ---- visits overview ------------------------------------------------------------ */

/* Actions.get over D1..D3 (V1..V11):
 *   pageviews 6 + 6 + 5 = 17, each URL once in its visit: 17 unique
 *   downloads V3, V10 (catalog.pdf in two visits): 2, 2 unique
 *   outlinks V1, V10 (the same offer in two visits): 2, 2 unique
 *   searches V3 boots, V6 gloves and boots: 3, keywords {boots, gloves} 2
 *   events V1, V5, V9: 3; impressions V4, V9, V10: 3; interactions V4: 1 */
static void test_actions_summary(void)
{
    json_t *s = keep(api("method=Actions.get&period=range&date=%s,%s", d1, d3));
    ASSERT_FIELDS(s, "nb_pageviews=17 nb_uniq_pageviews=17 nb_downloads=2 nb_uniq_downloads=2 "
                     "nb_outlinks=2 nb_uniq_outlinks=2 nb_searches=3 nb_keywords=2 nb_events=3 "
                     "nb_content_impressions=3 nb_content_interactions=1");
}

static void test_visits_summary_day(void)
{
    /* D1: V1, V2, V3.
     *   nb_visits 3, nb_uniq_visitors 3 (A, B, C), nb_users 0 (no uid)
     *   nb_actions 5 + 1 + 4 = 10; nb_pageviews 3 + 1 + 2 = 6
     *   nb_uniq_pageviews: V1 {/, post-1, post-2} 3 + V2 1 + V3 {/, boots} 2 = 6
     *   bounce_count 1 (V2) -> bounce_rate 1/3 = "33%"
     *   sum_visit_length 360 + 0 + 300 = 660; avg_time_on_site 660/3 = 220
     *   max_actions 5; nb_actions_per_visit 10/3 = 3.33 (two decimals, as Matomo) */
    json_t *s = keep(api("method=VisitsSummary.get&period=day&date=%s", d1));
    ASSERT_FIELDS(s, "nb_visits=3 nb_uniq_visitors=3 nb_users=0 nb_actions=10 nb_pageviews=6 "
                     "nb_uniq_pageviews=6 bounce_count=1 bounce_rate=33% sum_visit_length=660 "
                     "avg_time_on_site=220 max_actions=5 nb_actions_per_visit=3.33 "
                     "nb_visits_converted=0");
    /* D2: V4, V5, V6, V7 (V7's 00:05 pageview on D3 counts with its visit).
     *   visitors A, D, E, B = 4; actions 3 + 2 + 3 + 2 = 10; pageviews 2+1+1+2 = 6
     *   unique pageviews V4 2 + V5 1 + V6 1 + V7 2 = 6; no bounce
     *   length 300 + 120 + 120 + 1200 = 1740, per visit 435; 10/4 = 2.5 actions */
    s = keep(api("method=VisitsSummary.get&period=day&date=%s", d2));
    ASSERT_FIELDS(s, "nb_visits=4 nb_uniq_visitors=4 nb_actions=10 nb_pageviews=6 "
                     "nb_uniq_pageviews=6 bounce_count=0 bounce_rate=0% sum_visit_length=1740 "
                     "avg_time_on_site=435 max_actions=3 nb_actions_per_visit=2.5");
    /* D3: V8, V9, V10, V11: visitors D, A, C, F = 4; actions 1+3+3+1 = 8;
     *   pageviews 1+2+1+1 = 5; bounces V8, V11 -> "50%"; length 0+600+120+0 = 720,
     *   per visit 180; 8/4 = 2 actions */
    s = keep(api("method=VisitsSummary.get&period=day&date=%s", d3));
    ASSERT_FIELDS(s, "nb_visits=4 nb_uniq_visitors=4 nb_actions=8 nb_pageviews=5 "
                     "nb_uniq_pageviews=5 bounce_count=2 bounce_rate=50% sum_visit_length=720 "
                     "avg_time_on_site=180 max_actions=3 nb_actions_per_visit=2");
    /* compare=1: D2 with D1 beside it in "comparisons". */
    s = keep(api("method=VisitsSummary.get&period=day&date=%s&compare=1", d2));
    ASSERT_FIELDS(s, "nb_visits=4 nb_actions=10");
    json_t *previous = json_array_get(json_object_get(s, "comparisons"), 0);
    ASSERT_TRUE(previous != NULL);
    ASSERT_FIELDS(previous, "nb_visits=3 nb_uniq_visitors=3 nb_actions=10 bounce_rate=33%");
    ASSERT_EQ_STR(json_string_value(json_object_get(previous, "compareDate")), d1);
    /* A table compares row by row: post-1 had 2 pageviews on D1 (V1, V2)
     * and 1 on D2 (V5). */
    json_t *rows = keep(api("method=Actions.getPageUrls&period=day&date=%s&flat=1&compare=1", d2));
    json_t *post1 = report_row(rows, "/blog/post-1");
    ASSERT_TRUE(post1 != NULL);
    ASSERT_FIELDS(post1, "nb_hits=1");
    ASSERT_FIELDS(json_array_get(json_object_get(post1, "comparisons"), 0), "nb_hits=2");
}

static void test_visits_summary_range(void)
{
    /* D1..D3: the 11 visits V1..V11.
     *   nb_uniq_visitors: A, B, C, D, E, F = 6 (exact, over the range)
     *   nb_actions 10 + 10 + 8 = 28; nb_pageviews 6 + 6 + 5 = 17 = nb_uniq_pageviews
     *   bounce_count 1 + 0 + 2 = 3 -> 3/11 = 27.3% -> "27%"
     *   sum_visit_length 660 + 1740 + 720 = 3120 -> 3120/11 = 283.6 -> 284
     *   nb_actions_per_visit 28/11 = 2.545 -> 2.55; max_actions 5 (V1) */
    json_t *s = keep(api("method=VisitsSummary.get&period=range&date=%s", range));
    ASSERT_FIELDS(s, "nb_visits=11 nb_uniq_visitors=6 nb_users=0 nb_actions=28 nb_pageviews=17 "
                     "nb_uniq_pageviews=17 bounce_count=3 bounce_rate=27% "
                     "sum_visit_length=3120 avg_time_on_site=284 max_actions=5 "
                     "nb_actions_per_visit=2.55 nb_visits_converted=0");
    /* The same range written as previous3 from today (D1..D3). */
    s = keep(api("method=VisitsSummary.get&period=range&date=previous3"));
    ASSERT_FIELDS(s, "nb_visits=11 nb_uniq_visitors=6 nb_actions=28");
}

static void test_visits_summary_evolution(void)
{
    /* last3 = D2, D3 and today, one object per day label.
     *   D2: 4 visits, 4 visitors, 10 actions, no bounce
     *   D3: 4 visits, 4 visitors, 8 actions, 2 bounces
     *   today: V12 only: 1 visit, 2 actions (both pageviews), 60 s */
    json_t *e = keep(api("method=VisitsSummary.get&period=day&date=last3"));
    ASSERT_TRUE(json_is_object(e));
    ASSERT_EQ_INT(json_object_size(e), 3);
    ASSERT_FIELDS(json_object_get(e, d2), "nb_visits=4 nb_uniq_visitors=4 nb_actions=10 "
                                          "bounce_count=0");
    ASSERT_FIELDS(json_object_get(e, d3), "nb_visits=4 nb_uniq_visitors=4 nb_actions=8 "
                                          "bounce_count=2");
    ASSERT_FIELDS(json_object_get(e, d0), "nb_visits=1 nb_uniq_visitors=1 nb_actions=2 "
                                          "nb_pageviews=2 bounce_count=0 sum_visit_length=60");
    /* Keys in date order. */
    const char *first = json_object_iter_key(json_object_iter(e));
    ASSERT_EQ_STR(first, d2);
}

/* The visits of each day with data: visits, actions and visitors (D1 V1-V3,
 * D2 V4-V7, D3 V8-V11, today V12). */
static const struct {
    int offset; /* from today */
    int visits, actions;
    const char *visitors;
} days_with_data[] = {{-3, 3, 10, "ABC"}, {-2, 4, 10, "ABDE"}, {-1, 4, 8, "ACDF"}, {0, 1, 2, "G"}};

static bool same_period(const char *period, int64_t a, int64_t b)
{
    int ya, ma, da, yb, mb, db;
    civil_from_days(a, &ya, &ma, &da);
    civil_from_days(b, &yb, &mb, &db);
    if (!strcmp(period, "week")) return a - iso_weekday(a) == b - iso_weekday(b);
    if (!strcmp(period, "month")) return ya == yb && ma == mb;
    return ya == yb;
}

static void test_weeks_months_years(void)
{
    /* The week, month and year of D3: the sums of the days of the data set
     * that fall in them (which depends on today's date), visitors counted
     * once over the whole period. */
    static const char *const periods[] = {"week", "month", "year"};
    for (size_t p = 0; p < 3; p++) {
        int visits = 0, actions = 0;
        char seen[8] = "";
        for (size_t d = 0; d < sizeof days_with_data / sizeof *days_with_data; d++) {
            if (!same_period(periods[p], today + days_with_data[d].offset, today - 1)) continue;
            visits += days_with_data[d].visits;
            actions += days_with_data[d].actions;
            for (const char *v = days_with_data[d].visitors; *v; v++)
                if (!strchr(seen, *v)) strncat(seen, v, 1);
        }
        char want[128];
        snprintf(want, sizeof want, "nb_visits=%d nb_actions=%d nb_uniq_visitors=%zu", visits,
                 actions, strlen(seen));
        json_t *s = keep(api("method=VisitsSummary.get&period=%s&date=%s", periods[p], d3));
        ASSERT_FIELDS(s, want);
    }
}

/* ---- actions -------------------------------------------------------------------- */

static void test_page_urls_flat(void)
{
    /* Pageviews per URL over D1..D3 (visits; visitors):
     *   /              V1 V3 V6 V9      4 hits, 4 visits, 3 visitors (A C E)
     *   /blog/post-1   V1 V2 V5 V9      4, 4, 3 (A B D)
     *   /blog/post-2   V1 V10 V11       3, 3, 3 (A C F)
     *   /shoes/boots   V3 V4 V7         3, 3, 3 (C A B)
     *   /sale          V4 V8            2, 2, 2 (A D)
     *   /checkout      V7               1, 1, 1
     * Entries: / V1 V3 V6 V9 = 4; post-1 V2 V5 = 2 (V2 bounced); post-2 V10
     * V11 = 2 (V11 bounced); boots V7 = 1; sale V4 V8 = 2 (V8 bounced).
     * Exits: / V6 = 1; post-1 V2 V5 V9 = 3; post-2 V1 V10 V11 = 3; boots V3 V4
     * = 2; sale V8 = 1; checkout V7 = 1.
     * bounce_rate = entry bounces / entries; exit_rate = exits / visits.
     * /checkout is only ever the last hit of its visit: no time spent. */
    json_t *rows = keep(api("method=Actions.getPageUrls&period=range&date=%s&flat=1", range));
    ASSERT_ROWS(rows, 6);
    ASSERT_ROW(rows, "/",
               "nb_hits=4 nb_visits=4 nb_uniq_visitors=3 entry_nb_visits=4 "
               "entry_bounce_count=0 exit_nb_visits=1 bounce_rate=0% exit_rate=25%");
    ASSERT_ROW(rows, "/blog/post-1",
               "nb_hits=4 nb_visits=4 nb_uniq_visitors=3 entry_nb_visits=2 "
               "entry_bounce_count=1 exit_nb_visits=3 bounce_rate=50% "
               "exit_rate=75%");
    ASSERT_ROW(rows, "/blog/post-2",
               "nb_hits=3 nb_visits=3 nb_uniq_visitors=3 entry_nb_visits=2 "
               "entry_bounce_count=1 exit_nb_visits=3 exit_rate=100%");
    ASSERT_ROW(rows, "/shoes/boots",
               "nb_hits=3 nb_visits=3 nb_uniq_visitors=3 entry_nb_visits=1 "
               "exit_nb_visits=2 exit_rate=67%");
    ASSERT_ROW(rows, "/sale",
               "nb_hits=2 nb_visits=2 nb_uniq_visitors=2 entry_nb_visits=2 "
               "entry_bounce_count=1 exit_nb_visits=1 bounce_rate=50% exit_rate=50%");
    ASSERT_ROW(rows, "/checkout",
               "nb_hits=1 nb_visits=1 nb_uniq_visitors=1 entry_nb_visits=0 "
               "exit_nb_visits=1 exit_rate=100% sum_time_spent=0");
    ASSERT_FIELDS(report_row(rows, "/sale"), "url=https://shop.example.com/sale");
}

static void test_page_urls_tree(void)
{
    /* The tree by path: folders blog (post-1 + post-2) and shoes (boots),
     * pages /, /sale, /checkout at the top.
     *   blog: 4 + 3 = 7 hits; visits with a page in it: V1 V2 V5 V9 V10 V11 = 6
     *   shoes: 3 hits in V3 V4 V7 = 3 visits */
    json_t *top = keep(api("method=Actions.getPageUrls&period=range&date=%s", range));
    ASSERT_ROWS(top, 5);
    ASSERT_ROW(top, "blog", "nb_hits=7 nb_visits=6");
    ASSERT_ROW(top, "shoes", "nb_hits=3 nb_visits=3");
    ASSERT_ROW(top, "/", "nb_hits=4 nb_visits=4");
    ASSERT_ROW(top, "/sale", "nb_hits=2");
    ASSERT_ROW(top, "/checkout", "nb_hits=1");
    json_t *sub = json_object_get(report_row(top, "blog"), "idsubdatatable");
    ASSERT_TRUE(json_is_integer(sub));
    json_int_t id = json_integer_value(sub);
    json_t *leaves = keep(api("method=Actions.getPageUrls&period=range&date=%s&idSubtable=%lld",
                              range, (long long)id));
    ASSERT_ROWS(leaves, 2);
    ASSERT_ROW(leaves, "/post-1", "nb_hits=4 nb_visits=4 nb_uniq_visitors=3");
    ASSERT_ROW(leaves, "/post-2", "nb_hits=3 nb_visits=3 nb_uniq_visitors=3");
    /* expanded=1 inlines the subtables. */
    top = keep(api("method=Actions.getPageUrls&period=range&date=%s&expanded=1", range));
    json_t *inline_leaves = json_object_get(report_row(top, "shoes"), "subtable");
    ASSERT_ROWS(inline_leaves, 1);
    ASSERT_ROW(inline_leaves, "/boots", "nb_hits=3 nb_visits=3");
}

static void test_page_titles(void)
{
    /* Titles follow the URLs (one title per URL in the data set):
     *   Home 4/4/3, Post 1 4/4/3, Post 2 3/3/3, Boots... 3/3/3, Sale 2/2/2,
     *   Checkout 1/1/1 (hits / visits / visitors). */
    json_t *rows = keep(api("method=Actions.getPageTitles&period=range&date=%s&flat=1", range));
    ASSERT_ROWS(rows, 6);
    ASSERT_ROW(rows, "Home", "nb_hits=4 nb_visits=4 nb_uniq_visitors=3");
    ASSERT_ROW(rows, "Post 1", "nb_hits=4 nb_visits=4 nb_uniq_visitors=3");
    ASSERT_ROW(rows, "Post 2", "nb_hits=3 nb_visits=3 nb_uniq_visitors=3");
    ASSERT_ROW(rows, BOOTS_TITLE, "nb_hits=3 nb_visits=3 nb_uniq_visitors=3");
    ASSERT_ROW(rows, "Sale", "nb_hits=2 nb_visits=2 nb_uniq_visitors=2");
    ASSERT_ROW(rows, "Checkout", "nb_hits=1 nb_visits=1 nb_uniq_visitors=1");
}

static void test_entry_and_exit_pages(void)
{
    /* Entry pages, with the actions and length of the visits they started:
     *   /             V1 (5, 360) V3 (4, 300) V6 (3, 120) V9 (3, 600) -> 4 visits, 15 actions, 1380
     * s /blog/post-1  V2 (1, 0) V5 (2, 120)                 -> 2, 3, 120, 1 bounce /blog/post-2 V10
     * (3, 120) V11 (1, 0)               -> 2, 4, 120, 1 bounce /sale         V4 (3, 300) V8 (1, 0)
     * -> 2, 4, 300, 1 bounce /shoes/boots  V7 (2, 1200)                          -> 1, 2, 1200 (11
     * visits, 28 actions) */
    json_t *rows = keep(api("method=Actions.getEntryPageUrls&period=range&date=%s&flat=1", range));
    ASSERT_ROWS(rows, 5);
    ASSERT_ROW(rows, "/",
               "entry_nb_visits=4 entry_nb_actions=15 entry_sum_visit_length=1380 "
               "entry_bounce_count=0");
    ASSERT_ROW(rows, "/blog/post-1",
               "entry_nb_visits=2 entry_nb_actions=3 "
               "entry_sum_visit_length=120 entry_bounce_count=1 "
               "bounce_rate=50%");
    ASSERT_ROW(rows, "/blog/post-2", "entry_nb_visits=2 entry_nb_actions=4 entry_bounce_count=1");
    ASSERT_ROW(rows, "/sale",
               "entry_nb_visits=2 entry_nb_actions=4 entry_sum_visit_length=300 "
               "entry_bounce_count=1");
    ASSERT_ROW(rows, "/shoes/boots",
               "entry_nb_visits=1 entry_nb_actions=2 "
               "entry_sum_visit_length=1200 entry_bounce_count=0");
    /* Exit pages: / V6; post-1 V2 V5 V9; post-2 V1 V10 V11; boots V3 V4;
     * sale V8; checkout V7 (11 visits). exit_rate = exits / visits of the page. */
    rows = keep(api("method=Actions.getExitPageUrls&period=range&date=%s&flat=1", range));
    ASSERT_ROWS(rows, 6);
    ASSERT_ROW(rows, "/", "exit_nb_visits=1 nb_visits=4 exit_rate=25%");
    ASSERT_ROW(rows, "/blog/post-1", "exit_nb_visits=3 exit_rate=75%");
    ASSERT_ROW(rows, "/blog/post-2", "exit_nb_visits=3 exit_rate=100%");
    ASSERT_ROW(rows, "/shoes/boots", "exit_nb_visits=2");
    ASSERT_ROW(rows, "/sale", "exit_nb_visits=1");
    ASSERT_ROW(rows, "/checkout", "exit_nb_visits=1 exit_rate=100%");
}

static void test_site_search(void)
{
    /* Searches: "boots" in V3 (C, 3 results) and V6 (E, 2 results);
     * "gloves" in V6 (0 results). */
    json_t *rows = keep(api("method=Actions.getSiteSearchKeywords&period=range&date=%s", range));
    ASSERT_ROWS(rows, 2);
    ASSERT_ROW(rows, "boots", "nb_visits=2 nb_hits=2");
    ASSERT_ROW(rows, "gloves", "nb_visits=1 nb_hits=1");
    rows = keep(api("method=Actions.getSiteSearchNoResultKeywords&period=range&date=%s", range));
    ASSERT_ROWS(rows, 1);
    ASSERT_ROW(rows, "gloves", "nb_visits=1");
    /* On D1 only V3's search. */
    rows = keep(api("method=Actions.getSiteSearchKeywords&period=day&date=%s", d1));
    ASSERT_ROWS(rows, 1);
    ASSERT_ROW(rows, "boots", "nb_visits=1");
}

static void test_outlinks_and_downloads(void)
{
    /* Outlink partner.example.net/offer: V1 (A) and V10 (C): 2 hits, 2
     * visits, 2 visitors. Download shop.example.com/files/catalog.pdf: V3
     * and V10, both C: 2 hits, 2 visits, 1 visitor. By domain, then URL. */
    json_t *rows = keep(api("method=Actions.getOutlinks&period=range&date=%s", range));
    ASSERT_ROWS(rows, 1);
    ASSERT_ROW(rows, "partner.example.net", "nb_hits=2 nb_visits=2");
    rows = keep(api("method=Actions.getOutlinks&period=range&date=%s&flat=1", range));
    ASSERT_ROWS(rows, 1);
    ASSERT_ROW(rows, "https://partner.example.net/offer",
               "nb_hits=2 nb_visits=2 nb_uniq_visitors=2");
    rows = keep(api("method=Actions.getDownloads&period=range&date=%s", range));
    ASSERT_ROWS(rows, 1);
    ASSERT_ROW(rows, "shop.example.com", "nb_hits=2 nb_visits=2");
    rows = keep(api("method=Actions.getDownloads&period=range&date=%s&flat=1", range));
    ASSERT_ROWS(rows, 1);
    ASSERT_ROW(rows, "https://shop.example.com/files/catalog.pdf",
               "nb_hits=2 nb_visits=2 "
               "nb_uniq_visitors=1");
}

static void test_events(void)
{
    /* Events: V1 (A) Video/Play/Intro 10; V5 (D) Video/Pause/Intro without a
     * value; V9 (A) Video/Play/"=1+2" 5. avg_event_value = sum / events
     * with a value. */
    json_t *rows = keep(api("method=Events.getCategory&period=range&date=%s", range));
    ASSERT_ROWS(rows, 1);
    /* Video: 3 events in V1 V5 V9 by A and D; 10 + 5 = 15 over 2 values */
    ASSERT_ROW(rows, "Video",
               "nb_events=3 nb_visits=3 nb_uniq_visitors=2 sum_event_value=15 "
               "min_event_value=5 max_event_value=10 nb_events_with_value=2 "
               "avg_event_value=7.5");
    rows = keep(api("method=Events.getAction&period=range&date=%s", range));
    ASSERT_ROWS(rows, 2);
    ASSERT_ROW(rows, "Play",
               "nb_events=2 nb_visits=2 nb_uniq_visitors=1 sum_event_value=15 "
               "min_event_value=5 max_event_value=10 nb_events_with_value=2 "
               "avg_event_value=7.5");
    ASSERT_ROW(rows, "Pause",
               "nb_events=1 nb_visits=1 nb_uniq_visitors=1 sum_event_value=0 "
               "nb_events_with_value=0");
    rows = keep(api("method=Events.getName&period=range&date=%s", range));
    ASSERT_ROWS(rows, 2);
    /* Intro: V1 (10) and V5 (none) */
    ASSERT_ROW(rows, "Intro",
               "nb_events=2 nb_visits=2 nb_uniq_visitors=2 sum_event_value=10 "
               "min_event_value=10 max_event_value=10 nb_events_with_value=1 "
               "avg_event_value=10");
    ASSERT_ROW(rows, "=1+2", "nb_events=1 nb_visits=1 sum_event_value=5 avg_event_value=5");
    /* Sorted by nb_events by default. */
    ASSERT_EQ_STR(json_string_value(json_object_get(json_array_get(rows, 0), "label")), "Intro");
}

static void test_contents(void)
{
    /* Banner: impressions in V4 and V9, an interaction in V4 -> 1/2 = 50%.
     * Newsletter: one impression in V10, no interaction. */
    json_t *rows = keep(api("method=Contents.getContentNames&period=range&date=%s", range));
    ASSERT_ROWS(rows, 2);
    ASSERT_ROW(rows, "Banner", "nb_impressions=2 nb_interactions=1 interaction_rate=50%");
    ASSERT_ROW(rows, "Newsletter", "nb_impressions=1 nb_interactions=0 interaction_rate=0%");
}

/* ---- referrers ------------------------------------------------------------------ */

static void test_referrers(void)
{
    /* Channels (visits; visitors; actions; bounces; length; max actions):
     *   Direct Entry     V1 V6 V9 V10   4; A E C 3; 5+3+3+3 = 14; 0; 360+120+600+120 = 1200; 5
     *   Search Engines   V2 V7 V11      3; B F 2;   1+2+1 = 4;    2; 0+1200+0 = 1200;       2
     *   Websites         V4             1; 1;       3;            0; 300;                   3
     *   Social Networks  V5             1; 1;       2;            0; 120;                   2
     *   Campaigns        V3 V8          2; C D 2;   4+1 = 5;      1; 300;                   4 */
    json_t *rows = keep(api("method=Referrers.getReferrerType&period=range&date=%s", range));
    ASSERT_ROWS(rows, 5);
    ASSERT_ROW(rows, "Direct Entry",
               "nb_visits=4 nb_uniq_visitors=3 nb_actions=14 bounce_count=0 "
               "sum_visit_length=1200 max_actions=5");
    ASSERT_ROW(rows, "Search Engines",
               "nb_visits=3 nb_uniq_visitors=2 nb_actions=4 "
               "bounce_count=2 sum_visit_length=1200 max_actions=2");
    ASSERT_ROW(rows, "Websites",
               "nb_visits=1 nb_uniq_visitors=1 nb_actions=3 sum_visit_length=300");
    ASSERT_ROW(rows, "Social Networks", "nb_visits=1 nb_actions=2 sum_visit_length=120");
    ASSERT_ROW(rows, "Campaigns",
               "nb_visits=2 nb_uniq_visitors=2 nb_actions=5 bounce_count=1 "
               "sum_visit_length=300 max_actions=4");
    ASSERT_FIELDS(report_row(rows, "Search Engines"), "segment=referrerType==search");

    /* Search engines: Google V2 V11 (B, F; 1 + 1 actions), Bing V7 (2). */
    rows = keep(api("method=Referrers.getSearchEngines&period=range&date=%s", range));
    ASSERT_ROWS(rows, 2);
    ASSERT_ROW(rows, "Google", "nb_visits=2 nb_uniq_visitors=2 nb_actions=2");
    ASSERT_ROW(rows, "Bing", "nb_visits=1 nb_actions=2");
    rows = keep(api("method=Referrers.getKeywords&period=range&date=%s", range));
    ASSERT_ROWS(rows, 2);
    ASSERT_ROW(rows, "tally analytics", "nb_visits=2");
    ASSERT_ROW(rows, "winter boots", "nb_visits=1");
    rows = keep(api("method=Referrers.getWebsites&period=range&date=%s", range));
    ASSERT_ROWS(rows, 1);
    ASSERT_ROW(rows, "blog.example.org", "nb_visits=1 nb_actions=3");
    rows = keep(api("method=Referrers.getSocials&period=range&date=%s", range));
    ASSERT_ROWS(rows, 1);
    ASSERT_ROW(rows, "Facebook", "nb_visits=1 nb_actions=2");

    /* Campaigns: winter-sale (names are lower-cased) in V3 and V8, then
     * its keyword - source - medium: boots - newsletter - email (V3),
     * gloves - facebook - social (V8). */
    rows = keep(api("method=Referrers.getCampaigns&period=range&date=%s", range));
    ASSERT_ROWS(rows, 1);
    ASSERT_ROW(rows, "winter-sale", "nb_visits=2 nb_uniq_visitors=2 nb_actions=5");
    json_t *sub = json_object_get(report_row(rows, "winter-sale"), "idsubdatatable");
    ASSERT_TRUE(json_is_integer(sub));
    json_int_t id = json_integer_value(sub);
    rows = keep(api("method=Referrers.getCampaigns&period=range&date=%s&idSubtable=%lld", range,
                    (long long)id));
    ASSERT_ROWS(rows, 2);
    ASSERT_ROW(rows, "boots - newsletter - email", "nb_visits=1 nb_actions=4");
    ASSERT_ROW(rows, "gloves - facebook - social", "nb_visits=1 nb_actions=1");

    /* Every referrer: Google 2, Bing 1, blog.example.org 1, Facebook 1,
     * winter-sale 2, and the 4 direct entries: 11 visits in all. */
    rows = keep(api("method=Referrers.getAll&period=range&date=%s", range));
    ASSERT_ROW(rows, "Google", "nb_visits=2");
    ASSERT_ROW(rows, "Bing", "nb_visits=1");
    ASSERT_ROW(rows, "blog.example.org", "nb_visits=1");
    ASSERT_ROW(rows, "Facebook", "nb_visits=1");
    ASSERT_ROW(rows, "winter-sale", "nb_visits=2");
    long long total = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) total += json_integer_value(json_object_get(r, "nb_visits"));
    ASSERT_EQ_INT(total, 11);
}

/* ---- devices and places ------------------------------------------------------------ */

static void test_devices(void)
{
    /* Device types: Desktop A (V1 V4 V9), C (V3 V10), F (V11) = 6 visits, 3
     * visitors, 5+3+3+4+3+1 = 19 actions; Smartphone B (V2 V7), D (V5 V8) = 4,
     * 2, 1+2+2+1 = 6; Tablet E (V6) = 1, 1, 3. */
    json_t *rows = keep(api("method=DevicesDetection.getType&period=range&date=%s", range));
    ASSERT_ROWS(rows, 3);
    ASSERT_ROW(rows, "Desktop", "nb_visits=6 nb_uniq_visitors=3 nb_actions=19");
    ASSERT_ROW(rows, "Smartphone", "nb_visits=4 nb_uniq_visitors=2 nb_actions=6");
    ASSERT_ROW(rows, "Tablet", "nb_visits=1 nb_uniq_visitors=1 nb_actions=3");
    /* Browsers: Chrome A (3) + D (2) = 5 visits by 2; Safari B (2) + C (2) +
     * E (1) = 5 by 3; Firefox F 1. */
    rows = keep(api("method=DevicesDetection.getBrowsers&period=range&date=%s", range));
    ASSERT_ROWS(rows, 3);
    ASSERT_ROW(rows, "Chrome", "nb_visits=5 nb_uniq_visitors=2");
    ASSERT_ROW(rows, "Safari", "nb_visits=5 nb_uniq_visitors=3");
    ASSERT_ROW(rows, "Firefox", "nb_visits=1 nb_uniq_visitors=1");
}

static void test_os_families(void)
{
    /* Operating system families: Windows A (3) + F (1) = 4 by 2; iOS B (2)
     * + E's iPadOS (1) = 3 by 2; Mac C 2; Android D 2. */
    json_t *rows = keep(api("method=DevicesDetection.getOsFamilies&period=range&date=%s", range));
    ASSERT_ROWS(rows, 4);
    ASSERT_ROW(rows, "Windows", "nb_visits=4 nb_uniq_visitors=2");
    ASSERT_ROW(rows, "iOS", "nb_visits=3 nb_uniq_visitors=2");
    ASSERT_ROW(rows, "Mac", "nb_visits=2 nb_uniq_visitors=1");
    ASSERT_ROW(rows, "Android", "nb_visits=2 nb_uniq_visitors=1");
}

static void test_countries(void)
{
    /* From the test database: de A (V1 V4 V9) + F (V11) = 4 visits by 2,
     * 5+3+3+1 = 12 actions; us B (V2 V7) 2, 1+2 = 3; fr C (V3 V10) 2, 4+3 = 7;
     * cr D (V5 V8) 2, 2+1 = 3; E's address is in no network: Unknown 1, 3. */
    json_t *rows = keep(api("method=UserCountry.getCountry&period=range&date=%s", range));
    ASSERT_ROWS(rows, 5);
    ASSERT_ROW(rows, "Germany",
               "code=de nb_visits=4 nb_uniq_visitors=2 nb_actions=12 "
               "segment=countryCode==de");
    ASSERT_ROW(rows, "United States", "code=us nb_visits=2 nb_uniq_visitors=1 nb_actions=3");
    ASSERT_ROW(rows, "France", "code=fr nb_visits=2 nb_uniq_visitors=1 nb_actions=7");
    ASSERT_ROW(rows, "Costa Rica", "code=cr nb_visits=2 nb_actions=3");
    ASSERT_ROW(rows, "Unknown", "code=xx nb_visits=1 nb_actions=3");
    /* Germany first: sorted by visits. */
    ASSERT_EQ_STR(json_string_value(json_object_get(json_array_get(rows, 0), "label")), "Germany");
}

/* ---- time, frequency, interest ------------------------------------------------------ */

static void test_visit_time(void)
{
    /* Start hours (Berlin): V1 9, V2 10, V3 14, V4 10, V5 12, V6 19, V7 23,
     * V8 14, V9 15, V10 16, V11 20 -> 10: 2, 14: 2, the others 1; 0 h none. */
    json_t *rows = keep(api("method=VisitTime.getVisitInformationPerServerTime&period=range"
                            "&date=%s&filter_limit=-1",
                            range));
    ASSERT_ROW(rows, "10h", "nb_visits=2");
    ASSERT_ROW(rows, "14h", "nb_visits=2 nb_actions=5");
    ASSERT_ROW(rows, "9h", "nb_visits=1 nb_actions=5");
    ASSERT_ROW(rows, "23h", "nb_visits=1 nb_actions=2 sum_visit_length=1200");
    const json_t *midnight = report_row(rows, "0h");
    if (midnight) ASSERT_FIELDS(midnight, "nb_visits=0");
    long long total = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) total += json_integer_value(json_object_get(r, "nb_visits"));
    ASSERT_EQ_INT(total, 11);

    /* Days of the week: D1 has 3 visits, D2 4, D3 4. */
    rows = keep(api("method=VisitTime.getByDayOfWeek&period=range&date=%s", range));
    ASSERT_ROW(rows, weekdays[iso_weekday(today - 3) - 1], "nb_visits=3 nb_actions=10");
    ASSERT_ROW(rows, weekdays[iso_weekday(today - 2) - 1], "nb_visits=4 nb_actions=10");
    ASSERT_ROW(rows, weekdays[iso_weekday(today - 1) - 1], "nb_visits=4 nb_actions=8");
}

static void test_visit_frequency(void)
{
    /* Returning: V4 (A#2: 3 actions, 300 s), V7 (B#2: 2, 1200), V8 (D#2: 1, 0,
     * bounce), V9 (A#3: 3, 600), V10 (C#2: 3, 120) -> 5 visits by A B C D,
     * 12 actions, 1 bounce (20%), 2220 s (444 per visit), 2.4 actions per visit.
     * New: V1 (5, 360), V2 (1, 0), V3 (4, 300), V5 (2, 120), V6 (3, 120), V11
     * (1, 0) -> 6 visits by 6, 16 actions, 2 bounces (33%), 900 s (150),
     * 16/6 = 2.67 actions per visit. */
    json_t *f = keep(api("method=VisitFrequency.get&period=range&date=%s", range));
    ASSERT_FIELDS(f, "nb_visits_returning=5 nb_uniq_visitors_returning=4 nb_actions_returning=12 "
                     "bounce_count_returning=1 bounce_rate_returning=20% "
                     "sum_visit_length_returning=2220 avg_time_on_site_returning=444 "
                     "max_actions_returning=3 nb_actions_per_visit_returning=2.4");
    ASSERT_FIELDS(f, "nb_visits_new=6 nb_uniq_visitors_new=6 nb_actions_new=16 bounce_count_new=2 "
                     "bounce_rate_new=33% sum_visit_length_new=900 avg_time_on_site_new=150 "
                     "max_actions_new=5 nb_actions_per_visit_new=2.67");
}

static long long visits_in(const json_t *rows, const char *label)
{
    return json_integer_value(json_object_get(report_row(rows, label), "nb_visits"));
}

static void test_visitor_interest(void)
{
    /* Lengths: V2 V8 V11 0 s; V5 V6 V10 120 s; V3 V4 300 s, V1 360 s; V9 600 s;
     * V7 1200 s. Matomo's buckets: 0-10s 3, 1-2 min (61-120 s) 3,
     * 4-7 min (241-420 s) 3, 7-10 min (421-600 s) 1, 15-30 min (901-1800 s) 1. */
    json_t *rows = keep(api("method=VisitorInterest.getNumberOfVisitsPerVisitDuration"
                            "&period=range&date=%s",
                            range));
    ASSERT_EQ_INT(visits_in(rows, "0-10s"), 3);
    ASSERT_EQ_INT(visits_in(rows, "1-2 min"), 3);
    ASSERT_EQ_INT(visits_in(rows, "4-7 min"), 3);
    ASSERT_EQ_INT(visits_in(rows, "7-10 min"), 1);
    ASSERT_EQ_INT(visits_in(rows, "15-30 min"), 1);
    ASSERT_EQ_INT(visits_in(rows, "2-4 min"), 0);

    /* Pages per visit (pageviews): 1 page V2 V5 V6 V8 V10 V11 = 6; 2 pages
     * V3 V4 V7 V9 = 4; 3 pages V1 = 1. */
    rows = keep(api("method=VisitorInterest.getNumberOfVisitsPerPage&period=range&date=%s", range));
    ASSERT_EQ_INT(visits_in(rows, "1 page"), 6);
    ASSERT_EQ_INT(visits_in(rows, "2 pages"), 4);
    ASSERT_EQ_INT(visits_in(rows, "3 pages"), 1);

    /* Visit number: 1st V1 V2 V3 V5 V6 V11 = 6; 2nd V4 V7 V8 V10 = 4; 3rd V9 = 1. */
    rows = keep(
        api("method=VisitorInterest.getNumberOfVisitsByVisitCount&period=range&date=%s", range));
    ASSERT_EQ_INT(visits_in(rows, "1 visit"), 6);
    ASSERT_EQ_INT(visits_in(rows, "2 visits"), 4);
    ASSERT_EQ_INT(visits_in(rows, "3 visits"), 1);

    /* Days since the last visit, returning visits only: V4 V7 V8 V9 1 day,
     * V10 2 days. */
    rows = keep(api("method=VisitorInterest.getNumberOfVisitsByDaysSinceLast&period=range"
                    "&date=%s",
                    range));
    ASSERT_EQ_INT(visits_in(rows, "1 day"), 4);
    ASSERT_EQ_INT(visits_in(rows, "2 days"), 1);
}

/* ---- real time ------------------------------------------------------------------ */

static const char *action_type(const json_t *visit, size_t i)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(visit, "actionDetails"), i), "type"));
}

static void test_visitor_log(void)
{
    /* D1, newest first: V3, V2, V1, each with its actions in order. */
    json_t *visits = keep(api("method=Live.getLastVisitsDetails&period=day&date=%s", d1));
    ASSERT_ROWS(visits, 3);
    json_t *v3 = json_array_get(visits, 0), *v2 = json_array_get(visits, 1),
           *v1 = json_array_get(visits, 2);
    ASSERT_FIELDS(v3, "visitorId=cccccccccccccccc actions=4 countryCode=fr referrerType=campaign");
    ASSERT_FIELDS(v2, "visitorId=bbbbbbbbbbbbbbbb actions=1 countryCode=us referrerType=search");
    ASSERT_FIELDS(v1, "visitorId=aaaaaaaaaaaaaaaa actions=5 countryCode=de referrerType=direct "
                      "browserName=Chrome");
    char want[128];
    snprintf(want, sizeof want, "firstActionTimestamp=%lld lastActionTimestamp=%lld",
             (long long)(local_ms(today - 3, 9, 0, 0) / 1000),
             (long long)(local_ms(today - 3, 9, 6, 0) / 1000));
    ASSERT_FIELDS(v1, want);

    static const char *const v1_types[] = {"action", "action", "event", "outlink", "action"};
    ASSERT_EQ_INT(json_array_size(json_object_get(v1, "actionDetails")), 5);
    for (size_t i = 0; i < 5; i++)
        ASSERT_EQ_STR(action_type(v1, i), v1_types[i]);
    const json_t *a = json_array_get(json_object_get(v1, "actionDetails"), 1);
    ASSERT_FIELDS(a, "url=https://shop.example.com/blog/post-1");
    ASSERT_EQ_STR(json_string_value(json_object_get(a, "pageTitle")), "Post 1");
    static const char *const v3_types[] = {"action", "search", "action", "download"};
    ASSERT_EQ_INT(json_array_size(json_object_get(v3, "actionDetails")), 4);
    for (size_t i = 0; i < 4; i++)
        ASSERT_EQ_STR(action_type(v3, i), v3_types[i]);

    /* Paged: the second visit alone. */
    visits = keep(api("method=Live.getLastVisitsDetails&period=day&date=%s&filter_limit=1"
                      "&filter_offset=1",
                      d1));
    ASSERT_ROWS(visits, 1);
    ASSERT_FIELDS(json_array_get(visits, 0), "visitorId=bbbbbbbbbbbbbbbb");
}

static void test_visitor_profile(void)
{
    /* A: V1 (5 actions, 3 pageviews, 360 s, an outlink), V4 (3, 2, 300),
     * V9 (3, 2, 600) -> 3 visits, 11 actions, 7 pageviews, 1260 s, 1 outlink,
     * no download or search; the newest visit first. */
    json_t *p = keep(api("method=Live.getVisitorProfile&period=range&date=%s"
                         "&visitorId=aaaaaaaaaaaaaaaa",
                         range));
    ASSERT_FIELDS(p, "visitorId=aaaaaaaaaaaaaaaa totalVisits=3 totalActions=11 totalPageViews=7 "
                     "totalVisitDuration=1260 totalOutlinks=1 totalDownloads=0 totalSearches=0");
    json_t *last = json_object_get(p, "lastVisits");
    ASSERT_ROWS(last, 3);
    char want[128];
    snprintf(want, sizeof want, "firstActionTimestamp=%lld",
             (long long)(local_ms(today - 1, 15, 0, 0) / 1000));
    ASSERT_FIELDS(json_array_get(last, 0), want);
}

static void test_counters(void)
{
    /* Only V12 (G, a minute ago and now) is in the last 30 minutes. */
    json_t *c = keep(api("method=Live.getCounters&lastMinutes=30"));
    ASSERT_ROWS(c, 1);
    ASSERT_FIELDS(json_array_get(c, 0), "visits=1 actions=2 visitors=1 visitsConverted=0");
}

/* ---- segments, filters, formats ------------------------------------------------------ */

static void test_segments(void)
{
    /* A visit condition: countryCode==de -> V1 V4 V9 (A), V11 (F): 4 visits
     * by 2, 5+3+3+1 = 12 actions, 3+2+2+1 = 8 pageviews. */
    json_t *s = keep(api("method=VisitsSummary.get&period=range&date=%s"
                         "&segment=countryCode%%3D%%3Dde",
                         range));
    ASSERT_FIELDS(s, "nb_visits=4 nb_uniq_visitors=2 nb_actions=12 nb_pageviews=8");
    /* An action condition: a page whose URL contains "boots" -> V3 V4 V7:
     * 3 visits by C A B, 4+3+2 = 9 actions (all of their actions count). */
    s = keep(
        api("method=VisitsSummary.get&period=range&date=%s&segment=pageUrl%%3D%%40boots", range));
    ASSERT_FIELDS(s, "nb_visits=3 nb_uniq_visitors=3 nb_actions=9");
    /* Negated, an action condition keeps the visits where no action matches
     * (Matomo 4): no page with "boots" -> the other 8 visits, 28 - 9 = 19
     * actions. */
    s = keep(
        api("method=VisitsSummary.get&period=range&date=%s&segment=pageUrl%%21%%40boots", range));
    ASSERT_FIELDS(s, "nb_visits=8 nb_actions=19");
    /* OR within AND: (smartphone: V2 V5 V7 V8, or France: V3 V10) and a Video
     * event (V1 V5 V9) -> V5 only: 1 visit, 2 actions. */
    s = keep(api("method=VisitsSummary.get&period=range&date=%s&segment=deviceType%%3D%%3D"
                 "smartphone%%2CcountryCode%%3D%%3Dfr%%3BeventCategory%%3D%%3DVideo",
                 range));
    ASSERT_FIELDS(s, "nb_visits=1 nb_actions=2");
    /* (search: V2 V7 V11, or campaign: V3 V8) and more than one action
     * (V3 4, V7 2) -> 2 visits, 6 actions. */
    s = keep(api("method=VisitsSummary.get&period=range&date=%s&segment=referrerType%%3D%%3D"
                 "search%%2CreferrerType%%3D%%3Dcampaign%%3Bactions%%3E1",
                 range));
    ASSERT_FIELDS(s, "nb_visits=2 nb_uniq_visitors=2 nb_actions=6");
    /* A URL-encoded value (encoded once more in the query string): the
     * checkout page -> V7: 1 visit, 2 actions. */
    s = keep(api("method=VisitsSummary.get&period=range&date=%s&segment=pageUrl%%3D%%3D"
                 "https%%253A%%252F%%252Fshop.example.com%%252Fcheckout",
                 range));
    ASSERT_FIELDS(s, "nb_visits=1 nb_actions=2");
    /* Custom dimensions: dimension1 is "gold" on V4's first hit and
     * "silver<b>" on V8's -> == gold keeps V4 (3 actions: two pageviews and
     * a content interaction); =^ silver keeps V8
     * (the stored JSON escapes '<', the match sees the value); != gold keeps
     * the other 10; dimension2 matches nothing. */
    s = keep(api("method=VisitsSummary.get&period=range&date=%s&segment=dimension1%%3D%%3Dgold",
                 range));
    ASSERT_FIELDS(s, "nb_visits=1 nb_actions=3");
    s = keep(api("method=VisitsSummary.get&period=range&date=%s"
                 "&segment=dimension1%%3D%%3Dsilver%%253Cb%%253E",
                 range));
    ASSERT_FIELDS(s, "nb_visits=1 nb_actions=1");
    s = keep(api("method=VisitsSummary.get&period=range&date=%s&segment=dimension1%%21%%3Dgold",
                 range));
    ASSERT_FIELDS(s, "nb_visits=10");
    s = keep(api("method=VisitsSummary.get&period=range&date=%s&segment=dimension2%%3D%%3Dgold",
                 range));
    ASSERT_FIELDS(s, "nb_visits=0");
    /* A segment on a report: the pages of V1 V4 V9 V11 (countryCode==de):
     * / V1 V9; post-1 V1 V9; post-2 V1 (A) V11 (F); sale V4; boots V4. */
    json_t *rows = keep(api("method=Actions.getPageUrls&period=range&date=%s&flat=1"
                            "&segment=countryCode%%3D%%3Dde",
                            range));
    ASSERT_ROWS(rows, 5);
    ASSERT_ROW(rows, "/", "nb_hits=2 nb_visits=2 nb_uniq_visitors=1");
    ASSERT_ROW(rows, "/blog/post-1", "nb_hits=2 nb_visits=2 nb_uniq_visitors=1");
    ASSERT_ROW(rows, "/blog/post-2", "nb_hits=2 nb_visits=2 nb_uniq_visitors=2");
    ASSERT_ROW(rows, "/sale", "nb_hits=1 nb_visits=1");
    ASSERT_ROW(rows, "/shoes/boots", "nb_hits=1 nb_visits=1");
    /* Returning visitors: the 5 returning visits of VisitFrequency. */
    s = keep(api("method=VisitsSummary.get&period=range&date=%s"
                 "&segment=visitorType%%3D%%3Dreturning",
                 range));
    ASSERT_FIELDS(s, "nb_visits=5 nb_actions=12");
}

static const char *label_at(const json_t *rows, size_t i)
{
    return json_string_value(json_object_get(json_array_get(rows, i), "label"));
}

static void test_filters(void)
{
    /* Channels by actions: Direct Entry 14, Campaigns 5, Search Engines 4,
     * Websites 3, Social Networks 2 (all different). */
    json_t *rows = keep(api("method=Referrers.getReferrerType&period=range&date=%s"
                            "&filter_sort_column=nb_actions&filter_sort_order=desc&filter_limit=3",
                            range));
    ASSERT_ROWS(rows, 3);
    ASSERT_EQ_STR(label_at(rows, 0), "Direct Entry");
    ASSERT_EQ_STR(label_at(rows, 1), "Campaigns");
    ASSERT_EQ_STR(label_at(rows, 2), "Search Engines");
    rows = keep(api("method=Referrers.getReferrerType&period=range&date=%s"
                    "&filter_sort_column=nb_actions&filter_sort_order=asc&filter_limit=2",
                    range));
    ASSERT_ROWS(rows, 2);
    ASSERT_EQ_STR(label_at(rows, 0), "Social Networks");
    ASSERT_EQ_STR(label_at(rows, 1), "Websites");
    rows = keep(api("method=Referrers.getReferrerType&period=range&date=%s"
                    "&filter_sort_column=nb_actions&filter_sort_order=desc&filter_limit=2"
                    "&filter_offset=1",
                    range));
    ASSERT_ROWS(rows, 2);
    ASSERT_EQ_STR(label_at(rows, 0), "Campaigns");
    ASSERT_EQ_STR(label_at(rows, 1), "Search Engines");

    /* filter_truncate=2 keeps Direct Entry (4 visits) and Search Engines (3)
     * and sums the rest into "Others": Campaigns V3 V8 + Websites V4 + Social
     * Networks V5 = 4 visits by C, D, A (3 visitors: distinct, not summed),
     * 5+3+2 = 10 actions, 1 bounce, 300+300+120 = 720 s, at most 4 actions. */
    rows =
        keep(api("method=Referrers.getReferrerType&period=range&date=%s&filter_truncate=2", range));
    ASSERT_ROWS(rows, 3);
    ASSERT_EQ_STR(label_at(rows, 0), "Direct Entry");
    ASSERT_EQ_STR(label_at(rows, 1), "Search Engines");
    ASSERT_EQ_STR(label_at(rows, 2), "Others");
    ASSERT_ROW(rows, "Others",
               "nb_visits=4 nb_uniq_visitors=3 nb_actions=10 bounce_count=1 "
               "sum_visit_length=720 max_actions=4");

    /* Pages by label: /, /blog/post-1, /blog/post-2, /checkout, /sale,
     * /shoes/boots; the 2nd and 3rd. */
    rows =
        keep(api("method=Actions.getPageUrls&period=range&date=%s&flat=1"
                 "&filter_sort_column=label&filter_sort_order=asc&filter_limit=2&filter_offset=1",
                 range));
    ASSERT_ROWS(rows, 2);
    ASSERT_EQ_STR(label_at(rows, 0), "/blog/post-1");
    ASSERT_EQ_STR(label_at(rows, 1), "/blog/post-2");
    /* By default, most visits first. */
    rows = keep(api("method=Actions.getPageUrls&period=range&date=%s&flat=1", range));
    ASSERT_ROWS(rows, 6);
    for (size_t i = 1; i < 6; i++)
        ASSERT_TRUE(json_integer_value(json_object_get(json_array_get(rows, i - 1), "nb_visits")) >=
                    json_integer_value(json_object_get(json_array_get(rows, i), "nb_visits")));
    /* filter_pattern is a regular expression on the label. */
    rows = keep(
        api("method=Actions.getPageUrls&period=range&date=%s&flat=1&filter_pattern=blog", range));
    ASSERT_ROWS(rows, 2);
    rows = keep(api("method=Actions.getPageUrls&period=range&date=%s&flat=1"
                    "&filter_pattern=%%5E%%2Fs",
                    range));
    ASSERT_ROWS(rows, 2);
    ASSERT_TRUE(report_row(rows, "/sale") && report_row(rows, "/shoes/boots"));
    rows =
        keep(api("method=Actions.getPageUrls&period=range&date=%s&flat=1&filter_limit=-1", range));
    ASSERT_ROWS(rows, 6);
}

/* A table of separated values (RFC 4180 quoting; a field that does not
 * start with a quote is read literally up to the separator). */
struct table {
    char cells[16][16][160];
    int rows, cols[16];
};

static void table_parse(const char *text, char sep, struct table *t)
{
    memset(t, 0, sizeof *t);
    if (strncmp(text, "\xef\xbb\xbf", 3) == 0) text += 3;
    const char *p = text;
    while (*p && t->rows < 16) {
        int c = 0;
        for (;;) {
            char *out = t->cells[t->rows][c];
            size_t n = 0;
            if (*p == '"') {
                for (p++; *p; p++) {
                    if (*p == '"' && p[1] == '"')
                        p++;
                    else if (*p == '"') {
                        p++;
                        break;
                    }
                    if (n < 159) out[n++] = *p;
                }
            }
            for (; *p && *p != sep && *p != '\n' && *p != '\r'; p++)
                if (n < 159) out[n++] = *p;
            out[n] = '\0';
            if (c < 15) c++;
            if (*p == sep) {
                p++;
                continue;
            }
            break;
        }
        t->cols[t->rows++] = c;
        if (*p == '\r') p++;
        if (*p == '\n') p++;
    }
}

static int table_col(const struct table *t, const char *name)
{
    for (int c = 0; c < t->cols[0]; c++)
        if (strcmp(t->cells[0][c], name) == 0) return c;
    return -1;
}

static int table_row(const struct table *t, const char *label)
{
    int c = table_col(t, "label");
    for (int r = 1; c >= 0 && r < t->rows; r++)
        if (strcmp(t->cells[r][c], label) == 0) return r;
    return -1;
}

static bool formula_safe(const char *cell)
{
    return !strchr("=+-@\t\r", cell[0]) || !cell[0];
}

static void check_separated(const char *format, char sep)
{
    int status;
    char query[256];
    /* Page titles: header, then one line per title. */
    snprintf(query, sizeof query,
             "method=Actions.getPageTitles&period=range&date=%s&flat=1"
             "&format=%s",
             range, format);
    char *body = api_raw(&status, query);
    static struct table t;
    table_parse(body ? body : "", sep, &t);
    bool quoted = body && strstr(body, "\"Boots, \"\"Winter\"\" edition\"");
    free(body);
    if (status != 200) TEST_FAIL_("%s: status %d", query, status);
    if (sep == ',') ASSERT_TRUE(quoted);
    ASSERT_EQ_INT(t.rows, 1 + 6);
    int hits_col = table_col(&t, "nb_hits"), r = table_row(&t, BOOTS_TITLE);
    ASSERT_TRUE(hits_col >= 0 && table_col(&t, "nb_visits") >= 0);
    ASSERT_TRUE(r > 0);
    ASSERT_EQ_STR(t.cells[r][hits_col], "3");
    for (int i = 1; i < t.rows; i++)
        ASSERT_EQ_INT(t.cols[i], t.cols[0]);

    /* The event name "=1+2" must not reach a spreadsheet as a formula. */
    snprintf(query, sizeof query, "method=Events.getName&period=range&date=%s&format=%s", range,
             format);
    body = api_raw(&status, query);
    table_parse(body ? body : "", sep, &t);
    free(body);
    if (status != 200) TEST_FAIL_("%s: status %d", query, status);
    ASSERT_EQ_INT(t.rows, 1 + 2);
    int label = table_col(&t, "label"), found = 0;
    ASSERT_TRUE(label >= 0);
    for (int i = 1; i < t.rows; i++) {
        const char *cell = t.cells[i][label];
        if (!formula_safe(cell)) TEST_FAIL_("%s cell '%s' starts a formula", format, cell);
        found += strstr(cell, "=1+2") != NULL;
    }
    ASSERT_EQ_INT(found, 1);
}

static void test_csv(void)
{
    check_separated("csv", ',');
}

static void test_tsv(void)
{
    check_separated("tsv", '\t');
}

/* ---- errors ------------------------------------------------------------------------ */

/* The answer to a query that must fail: status, JSON error, message part. */
static void expect_error(const char *query, const char *tok, int status, const char *part, bool *ok)
{
    char target[2048];
    snprintf(target, sizeof target, "/index.php?module=API&format=json%s%s&%s",
             tok ? "&token_auth=" : "", tok ? tok : "", query);
    struct http_reply r = {0};
    *ok = false;
    if (http_request(server.port, "GET", target, "", NULL, 0, &r)) {
        printf("# %s: no answer\n", target);
        return;
    }
    json_t *j = json_loads(r.body.data ? r.body.data : "", 0, NULL);
    const char *result = json_string_value(json_object_get(j, "result"));
    const char *message = json_string_value(json_object_get(j, "message"));
    *ok = r.status == status && result && strcmp(result, "error") == 0 && message &&
          strstr(message, part) && json_object_size(j) == 2;
    if (!*ok)
        printf("# %s: want %d with an error naming '%s', got %d: %.400s\n", query, status, part,
               r.status, r.body.data);
    json_decref(j);
    http_reply_free(&r);
}

#define ASSERT_ERROR(query, tok, status, part)                                                     \
    do {                                                                                           \
        bool ok_;                                                                                  \
        expect_error((query), (tok), (status), (part), &ok_);                                      \
        if (!ok_) TEST_FAIL_("error answer for %s", (query));                                      \
    } while (0)

static void test_errors(void)
{
    char q[256];
    ASSERT_ERROR("idSite=1&method=VisitsSummary.nope&period=day&date=today", token, 400,
                 "VisitsSummary.nope");
    ASSERT_ERROR("idSite=1&method=&period=day&date=today", token, 400, "method");
    ASSERT_ERROR("idSite=1&method=VisitsSummary.get&period=day&date=2026-13-45", token, 400,
                 "2026-13-45");
    ASSERT_ERROR("idSite=1&method=VisitsSummary.get&period=day&date=last0x", token, 400, "last0x");
    ASSERT_ERROR("idSite=1&method=VisitsSummary.get&period=fortnight&date=today", token, 400,
                 "fortnight");
    /* Segments: 1-based byte positions. */
    ASSERT_ERROR("idSite=1&method=VisitsSummary.get&period=day&date=today&segment=contry%3D%3Dde",
                 token, 400, "position 1");
    ASSERT_ERROR("idSite=1&method=VisitsSummary.get&period=day&date=today&segment=countryCode~de",
                 token, 400, "position 12");
    ASSERT_ERROR("idSite=1&method=VisitsSummary.get&period=day&date=today"
                 "&segment=countryCode%3D%3Dde%3BpageUrl",
                 token, 400, "position 24");
    /* No token, a wrong one: 401 and no data. */
    snprintf(q, sizeof q, "idSite=1&method=VisitsSummary.get&period=range&date=%s", range);
    ASSERT_ERROR(q, NULL, 401, "token_auth");
    ASSERT_ERROR(q, "0123456789abcdef0123456789abcdef", 401, "token_auth");
    ASSERT_ERROR(q, "", 401, "token_auth");
    snprintf(q, sizeof q, "idSite=1&method=Live.getLastVisitsDetails&period=range&date=%s", range);
    ASSERT_ERROR(q, NULL, 401, "token_auth");
    /* A site that does not exist is refused, with or without a token. */
    ASSERT_ERROR("idSite=7&method=VisitsSummary.get&period=day&date=today", token, 401, "7");
}

/* A visit with more events than a visit row counts (65,535 of a kind):
 * Actions.get walks it instead, and still counts every one. Ten days ago,
 * away from the data set: one pageview, 65,537 events, three outlinks of
 * which two are the same URL (2 unique), all in one second, sent in bulk. */
static void test_actions_summary_past_the_visit_counts(void)
{
    char day_text[11];
    format_date(today - 10, day_text);
    int64_t t = local_ms(today - 10, 12, 0, 0) / 1000;
    enum { EVENTS = 65537, PER_REQUEST = 5000 };
    struct buf body;
    buf_init(&body);
    int sent = -1; /* the pageview first, then the events, then the outlinks */
    bool ok = true;
    while (ok && sent < EVENTS + 3) {
        buf_reset(&body);
        buf_printf(&body, "{\"token_auth\":\"%s\",\"requests\":[", token);
        for (int k = 0; k < PER_REQUEST && sent < EVENTS + 3; k++, sent++) {
            const char *what = sent < 0         ? "url=" SHOP "%2Fbig&action_name=Big"
                               : sent < EVENTS  ? "url=" SHOP "%2Fbig&e_c=Load&e_a=Tick"
                               : sent == EVENTS ? "link=https%3A%2F%2Fother.example%2Fa"
                                                : "link=https%3A%2F%2Fother.example%2Fb";
            buf_printf(&body, "%s\"?idsite=1&rec=1&cid=00000000000000bb&cdt=%lld&%s\"",
                       k ? "," : "", (long long)t, what);
        }
        buf_puts(&body, "]}");
        struct http_reply reply;
        ok = http_request(server.port, "POST", "/matomo.php", "Content-Type: application/json\r\n",
                          body.data, body.len, &reply) == 0 &&
             reply.status == 200;
        http_reply_free(&reply);
    }
    buf_free(&body);
    ASSERT_TRUE(ok);
    json_t *s = keep(api("method=Actions.get&period=day&date=%s", day_text));
    ASSERT_FIELDS(s, "nb_pageviews=1 nb_events=65537 nb_outlinks=3 nb_uniq_outlinks=2");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!start()) {
        printf("Bail out! cannot start a server with the test geo database\n");
        return 1;
    }
    if (!send_data_set()) {
        server_log_tail(&server, 3000);
        printf("Bail out! the data set was not accepted\n");
        server_stop(&server);
        return 1;
    }
    RUN(test_visits_summary_day);
    RUN(test_actions_summary);
    RUN(test_visits_summary_range);
    RUN(test_visits_summary_evolution);
    RUN(test_weeks_months_years);
    RUN(test_page_urls_flat);
    RUN(test_page_urls_tree);
    RUN(test_page_titles);
    RUN(test_entry_and_exit_pages);
    RUN(test_site_search);
    RUN(test_outlinks_and_downloads);
    RUN(test_events);
    RUN(test_contents);
    RUN(test_referrers);
    RUN(test_devices);
    RUN(test_os_families);
    RUN(test_countries);
    RUN(test_visit_time);
    RUN(test_visit_frequency);
    RUN(test_visitor_interest);
    RUN(test_visitor_log);
    RUN(test_visitor_profile);
    RUN(test_counters);
    RUN(test_segments);
    RUN(test_filters);
    RUN(test_csv);
    RUN(test_tsv);
    RUN(test_errors);
    RUN(test_actions_summary_past_the_visit_counts);
    server_stop(&server);
    tz_free(site_tz);
    harness_rmtree(data_dir);
    harness_rmtree(geo_dir);
    return TEST_DONE();
}
