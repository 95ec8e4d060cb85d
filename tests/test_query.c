/* query: time zones from the system's TZif files, per-day statistics and
 * visits read back from a real store in a temporary folder. */
#include <errno.h>
#include <stdlib.h>

#include "../src/query/query.h"
#include "harness.h"
#include "test.h"

#define MIN_MS (60 * 1000LL)
#define HOUR_MS (60 * MIN_MS)

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    return days_from_civil(y, mo, d) * MS_PER_DAY + h * HOUR_MS + mi * MIN_MS + s * 1000LL;
}

static int64_t day(int y, int mo, int d)
{
    return days_from_civil(y, mo, d);
}

/* ---- time zones ------------------------------------------------------------ */

static void test_tz_paris(void)
{
    struct tz *tz;
    ASSERT_EQ_INT(tz_load("Europe/Paris", &tz), 0);
    /* 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC. */
    int64_t o1 = tz_offset_ms(tz, utc(2026, 3, 29, 0, 59, 59));
    int64_t o2 = tz_offset_ms(tz, utc(2026, 3, 29, 1, 0, 0));
    /* 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC. */
    int64_t o3 = tz_offset_ms(tz, utc(2026, 10, 25, 0, 59, 59));
    int64_t o4 = tz_offset_ms(tz, utc(2026, 10, 25, 1, 0, 0));
    int64_t s1 = tz_day_start_ms(tz, day(2026, 3, 29));
    int64_t s2 = tz_day_start_ms(tz, day(2026, 3, 30));
    int64_t s3 = tz_day_start_ms(tz, day(2026, 10, 25));
    int64_t s4 = tz_day_start_ms(tz, day(2026, 10, 26));
    int64_t l1 = tz_local_day(tz, utc(2026, 3, 28, 22, 59, 59));
    int64_t l2 = tz_local_day(tz, utc(2026, 3, 28, 23, 0, 0));
    int64_t l3 = tz_local_day(tz, utc(2026, 3, 29, 21, 59, 59));
    int64_t l4 = tz_local_day(tz, utc(2026, 3, 29, 22, 0, 0));
    /* Past the table (fat files end in 2037): the footer's POSIX rule. */
    int64_t far_summer = tz_offset_ms(tz, utc(2050, 7, 1, 12, 0, 0));
    int64_t far_winter = tz_offset_ms(tz, utc(2050, 1, 15, 12, 0, 0));
    int64_t far_switch_before = tz_offset_ms(tz, utc(2050, 3, 27, 0, 59, 59));
    int64_t far_switch_after = tz_offset_ms(tz, utc(2050, 3, 27, 1, 0, 0));
    /* Before the first transition: local mean time, +0:09:21. */
    int64_t lmt = tz_offset_ms(tz, utc(1850, 1, 1, 0, 0, 0));
    tz_free(tz);

    ASSERT_EQ_INT(o1, 1 * HOUR_MS);
    ASSERT_EQ_INT(o2, 2 * HOUR_MS);
    ASSERT_EQ_INT(o3, 2 * HOUR_MS);
    ASSERT_EQ_INT(o4, 1 * HOUR_MS);
    ASSERT_EQ_INT(s1, utc(2026, 3, 28, 23, 0, 0));
    ASSERT_EQ_INT(s2, utc(2026, 3, 29, 22, 0, 0)); /* a 23-hour day */
    ASSERT_EQ_INT(s3, utc(2026, 10, 24, 22, 0, 0));
    ASSERT_EQ_INT(s4, utc(2026, 10, 25, 23, 0, 0)); /* a 25-hour day */
    ASSERT_EQ_INT(l1, day(2026, 3, 28));
    ASSERT_EQ_INT(l2, day(2026, 3, 29));
    ASSERT_EQ_INT(l3, day(2026, 3, 29));
    ASSERT_EQ_INT(l4, day(2026, 3, 30));
    ASSERT_EQ_INT(far_summer, 2 * HOUR_MS);
    ASSERT_EQ_INT(far_winter, 1 * HOUR_MS);
    ASSERT_EQ_INT(far_switch_before, 1 * HOUR_MS); /* last Sunday of March 2050 is the 27th */
    ASSERT_EQ_INT(far_switch_after, 2 * HOUR_MS);
    ASSERT_EQ_INT(lmt, 561 * 1000LL);
}

static void test_tz_new_york(void)
{
    struct tz *tz;
    ASSERT_EQ_INT(tz_load("America/New_York", &tz), 0);
    /* 2026-03-08 02:00 EST -> 03:00 EDT at 07:00 UTC; 2026-11-01 02:00 EDT
     * -> 01:00 EST at 06:00 UTC. */
    int64_t o1 = tz_offset_ms(tz, utc(2026, 3, 8, 6, 59, 59));
    int64_t o2 = tz_offset_ms(tz, utc(2026, 3, 8, 7, 0, 0));
    int64_t o3 = tz_offset_ms(tz, utc(2026, 11, 1, 5, 59, 59));
    int64_t o4 = tz_offset_ms(tz, utc(2026, 11, 1, 6, 0, 0));
    int64_t s1 = tz_day_start_ms(tz, day(2026, 3, 8));
    int64_t s2 = tz_day_start_ms(tz, day(2026, 3, 9));
    int64_t s3 = tz_day_start_ms(tz, day(2026, 11, 2));
    int64_t l1 = tz_local_day(tz, utc(2026, 3, 8, 4, 59, 59));
    int64_t far = tz_offset_ms(tz, utc(2100, 7, 4, 12, 0, 0));
    int64_t far_winter = tz_offset_ms(tz, utc(2100, 12, 25, 12, 0, 0));
    tz_free(tz);

    ASSERT_EQ_INT(o1, -5 * HOUR_MS);
    ASSERT_EQ_INT(o2, -4 * HOUR_MS);
    ASSERT_EQ_INT(o3, -4 * HOUR_MS);
    ASSERT_EQ_INT(o4, -5 * HOUR_MS);
    ASSERT_EQ_INT(s1, utc(2026, 3, 8, 5, 0, 0));
    ASSERT_EQ_INT(s2, utc(2026, 3, 9, 4, 0, 0));
    ASSERT_EQ_INT(s3, utc(2026, 11, 2, 5, 0, 0));
    ASSERT_EQ_INT(l1, day(2026, 3, 7));
    ASSERT_EQ_INT(far, -4 * HOUR_MS);
    ASSERT_EQ_INT(far_winter, -5 * HOUR_MS);
}

static void test_tz_southern_and_utc(void)
{
    struct tz *tz;
    ASSERT_EQ_INT(tz_load("Australia/Sydney", &tz), 0);
    int64_t summer = tz_offset_ms(tz, utc(2050, 1, 15, 0, 0, 0));
    int64_t winter = tz_offset_ms(tz, utc(2050, 7, 15, 0, 0, 0));
    tz_free(tz);
    ASSERT_EQ_INT(summer, 11 * HOUR_MS);
    ASSERT_EQ_INT(winter, 10 * HOUR_MS);

    ASSERT_EQ_INT(tz_load("UTC", &tz), 0);
    int64_t off = tz_offset_ms(tz, utc(2026, 7, 1, 0, 0, 0));
    int64_t start = tz_day_start_ms(tz, day(2026, 7, 1));
    int64_t local = tz_local_day(tz, utc(2026, 7, 1, 23, 59, 59));
    int64_t before_1970 = tz_local_day(tz, -1);
    tz_free(tz);
    ASSERT_EQ_INT(off, 0);
    ASSERT_EQ_INT(start, day(2026, 7, 1) * MS_PER_DAY);
    ASSERT_EQ_INT(local, day(2026, 7, 1));
    ASSERT_EQ_INT(before_1970, -1);

    ASSERT_EQ_INT(tz_load("../../etc/passwd", &tz), -EINVAL);
    ASSERT_EQ_INT(tz_load("/etc/passwd", &tz), -EINVAL);
    ASSERT_EQ_INT(tz_load("Nowhere/Atlantis", &tz), -ENOENT);
    /* A file that exists but is no zone. */
    ASSERT_EQ_INT(tz_load("zone.tab", &tz), -EINVAL);
}

/* A zone that skips midnight itself: America/Santiago springs forward at
 * 24:00 local, so 2026-09-06 starts at 01:00 local = 04:00 UTC. */
static void test_tz_midnight_gap(void)
{
    struct tz *tz;
    ASSERT_EQ_INT(tz_load("America/Santiago", &tz), 0);
    int64_t s = tz_day_start_ms(tz, day(2026, 9, 6));
    int64_t before = tz_local_day(tz, s - 1);
    int64_t at = tz_local_day(tz, s);
    tz_free(tz);
    ASSERT_EQ_INT(s, utc(2026, 9, 6, 4, 0, 0));
    ASSERT_EQ_INT(before, day(2026, 9, 5));
    ASSERT_EQ_INT(at, day(2026, 9, 6));
}

/* ---- a real store ------------------------------------------------------------ */

struct fixture {
    char dir[256];
    struct store *store;
};

static int fixture_open(struct fixture *f)
{
    char err[256];
    if (harness_tmpdir(f->dir) != 0) return -1;
    struct store_options opts = {
        .data_dir = f->dir, .fsync = STORE_FSYNC_NEVER, .seal_grace_ms = 365 * MS_PER_DAY};
    int rc = store_open(&opts, &f->store, err, sizeof err);
    if (rc != 0) printf("# store_open: %s\n", err);
    return rc;
}

static void fixture_close(struct fixture *f)
{
    store_close(f->store);
    harness_rmtree(f->dir);
}

static struct hit make_hit(uint32_t site, int64_t t, int kind, uint64_t visitor, uint64_t visit,
                           uint16_t flags, const char *url)
{
    struct hit h;
    hit_clear(&h);
    h.site_id = site;
    h.time_ms = t;
    h.kind = (uint8_t)kind;
    h.visitor_id = visitor;
    h.visit_id = visit;
    h.flags = flags;
    h.visit_count = 1;
    h.days_since_first_visit = 0;
    h.url = url;
    return h;
}

#define VS HIT_FLAG_VISIT_START

/* The data set, in a Europe/Paris site, around the 2026-03-29 DST switch:
 * 03-28: visit 1 (A, campaign, 2 pageviews, an event, an order of 25);
 *        visit 2 (B) starts 23:30 local and runs past midnight.
 * 03-29: B's second pageview at 00:10 local; visit 3 (A, returning) at
 *        23:30 CEST = 21:30 UTC with a heartbeat and a goal worth 9.5.
 * 03-30: visit 4 (C) at 00:00 local = 22:00 UTC on 03-29.
 * Outside: a hit at 23:59 local on 03-27, one at 00:00 local on 03-31, and
 * a hit of site 2 on 03-29. */
static int load_fixture(struct fixture *f)
{
    struct hit hits[16];
    size_t n = 0;
    const uint64_t A = 0xa, B = 0xb, C = 0xc;
    hits[n] = make_hit(1, utc(2026, 3, 28, 10, 0, 0), HIT_PAGEVIEW, A, 1, VS, "https://ex.com/a1");
    hits[n].referrer_type = REFERRER_CAMPAIGN;
    hits[n].referrer_name = "spring";
    hits[n].campaign_name = "spring";
    hits[n].campaign_source = "newsletter";
    hits[n].campaign_medium = "email";
    n++;
    hits[n++] = make_hit(1, utc(2026, 3, 28, 10, 5, 0), HIT_PAGEVIEW, A, 1, 0, "https://ex.com/a2");
    hits[n++] = make_hit(1, utc(2026, 3, 28, 10, 6, 0), HIT_EVENT, A, 1, 0, "https://ex.com/a2");
    hits[n] =
        make_hit(1, utc(2026, 3, 28, 10, 7, 0), HIT_ECOMMERCE_ORDER, A, 1, 0, "https://ex.com/a2");
    hits[n++].revenue = 25.0;
    hits[n] = make_hit(1, utc(2026, 3, 28, 22, 30, 0), HIT_PAGEVIEW, B, 2, VS, "https://ex.com/b1");
    hits[n].referrer_type = REFERRER_WEBSITE;
    hits[n].referrer_name = "news.ycombinator.com";
    hits[n].referrer_url = "https://news.ycombinator.com/item?id=1";
    n++;
    hits[n++] =
        make_hit(1, utc(2026, 3, 28, 23, 10, 0), HIT_PAGEVIEW, B, 2, 0, "https://ex.com/b2");
    for (int i = 0; i < 3; i++) {
        hits[n] = make_hit(1, utc(2026, 3, 29, 21, 30 + 5 * i, 0),
                           i == 0   ? HIT_PAGEVIEW
                           : i == 1 ? HIT_HEARTBEAT
                                    : HIT_GOAL,
                           A, 3, (i == 0 ? VS : 0) | HIT_FLAG_RETURNING, "https://ex.com/a3");
        hits[n].visit_count = 2;
        hits[n].days_since_last_visit = 1;
        hits[n].days_since_first_visit = 1;
        if (i == 2) {
            hits[n].goal_id = 1;
            hits[n].revenue = 9.5;
        }
        n++;
    }
    hits[n++] =
        make_hit(1, utc(2026, 3, 29, 22, 0, 0), HIT_PAGEVIEW, C, 4, VS, "https://ex.com/c1");
    hits[n++] =
        make_hit(1, utc(2026, 3, 27, 22, 59, 0), HIT_PAGEVIEW, C, 5, VS, "https://ex.com/x");
    hits[n++] = make_hit(1, utc(2026, 3, 30, 22, 0, 0), HIT_PAGEVIEW, C, 6, VS, "https://ex.com/y");
    hits[n++] = make_hit(2, utc(2026, 3, 29, 12, 0, 0), HIT_PAGEVIEW, A, 7, VS, "https://other/");
    return store_append(f->store, hits, n);
}

static struct site paris_site(void)
{
    static char tzname[] = "Europe/Paris";
    struct site site = {0};
    site.id = 1;
    site.timezone = tzname;
    return site;
}

static void test_daily_stats(void)
{
    struct fixture f;
    ASSERT_EQ_INT(fixture_open(&f), 0);
    ASSERT_EQ_INT(load_fixture(&f), 0);
    struct site site = paris_site();
    struct day_stats out[3];
    int rc = query_daily_stats(f.store, &site, day(2026, 3, 28), day(2026, 3, 30), out);
    struct day_stats one;
    int rc_one = query_daily_stats(f.store, &site, day(2026, 3, 29), day(2026, 3, 29), &one);
    int rc_bad = query_daily_stats(f.store, &site, day(2026, 3, 30), day(2026, 3, 29), &one);
    fixture_close(&f);

    ASSERT_EQ_INT(rc, 0);
    ASSERT_EQ_INT(out[0].day, day(2026, 3, 28));
    ASSERT_EQ_U64(out[0].visits, 2);
    ASSERT_EQ_U64(out[0].unique_visitors, 2);
    ASSERT_EQ_U64(out[0].pageviews, 3);
    ASSERT_EQ_U64(out[0].actions, 4);
    ASSERT_EQ_INT(out[1].day, day(2026, 3, 29));
    ASSERT_EQ_U64(out[1].visits, 1);
    ASSERT_EQ_U64(out[1].unique_visitors, 2);
    ASSERT_EQ_U64(out[1].pageviews, 2);
    ASSERT_EQ_U64(out[1].actions, 2);
    ASSERT_EQ_INT(out[2].day, day(2026, 3, 30));
    ASSERT_EQ_U64(out[2].visits, 1);
    ASSERT_EQ_U64(out[2].unique_visitors, 1);
    ASSERT_EQ_U64(out[2].pageviews, 1);
    ASSERT_EQ_U64(out[2].actions, 1);
    ASSERT_EQ_INT(rc_one, 0);
    ASSERT_EQ_U64(one.unique_visitors, 2);
    ASSERT_EQ_U64(one.pageviews, 2);
    ASSERT_EQ_INT(rc_bad, -EINVAL);
}

/* Unique visitors are exact: many visitors, many hits each. */
static void test_daily_stats_exact_uniques(void)
{
    struct fixture f;
    ASSERT_EQ_INT(fixture_open(&f), 0);
    static struct hit hits[30000];
    size_t n = 0;
    for (uint64_t v = 1; v <= 10000; v++)
        for (int k = 0; k < 3; k++)
            hits[n++] = make_hit(1, utc(2026, 6, 1, 8, (int)(v % 60), k), HIT_PAGEVIEW, v * 7919, v,
                                 k == 0 ? VS : 0, "https://ex.com/");
    int rc_append = store_append(f.store, hits, n);
    struct site site = paris_site();
    struct day_stats out;
    int rc = query_daily_stats(f.store, &site, day(2026, 6, 1), day(2026, 6, 1), &out);
    fixture_close(&f);
    ASSERT_EQ_INT(rc_append, 0);
    ASSERT_EQ_INT(rc, 0);
    ASSERT_EQ_U64(out.unique_visitors, 10000);
    ASSERT_EQ_U64(out.visits, 10000);
    ASSERT_EQ_U64(out.pageviews, 30000);
}

struct collected {
    int count;
    struct visit v[8];
    char entry[8][64], exit[8][64], ref[8][64], campaign[8][64];
};

static int collect(const struct visit *v, void *arg)
{
    struct collected *c = arg;
    if (c->count == 8) return -E2BIG;
    c->v[c->count] = *v;
    snprintf(c->entry[c->count], 64, "%s", v->entry_url);
    snprintf(c->exit[c->count], 64, "%s", v->exit_url);
    snprintf(c->ref[c->count], 64, "%s", v->referrer_name);
    snprintf(c->campaign[c->count], 64, "%s", v->campaign_name);
    c->count++;
    return 0;
}

static int stop_after_one(const struct visit *v, void *arg)
{
    (void)v;
    (*(int *)arg)++;
    return 42;
}

static void test_visits(void)
{
    struct fixture f;
    ASSERT_EQ_INT(fixture_open(&f), 0);
    ASSERT_EQ_INT(load_fixture(&f), 0);
    struct collected all = {0}, late = {0};
    int rc = query_visits(f.store, 1, utc(2026, 3, 28, 0, 0, 0), utc(2026, 3, 29, 22, 0, 0),
                          collect, &all);
    /* From 23:00 UTC on 03-28, visit 2 started before the range: not listed. */
    int rc_late = query_visits(f.store, 1, utc(2026, 3, 28, 23, 0, 0), utc(2026, 3, 30, 0, 0, 0),
                               collect, &late);
    int calls = 0;
    int rc_stop = query_visits(f.store, 1, utc(2026, 3, 28, 0, 0, 0), utc(2026, 3, 30, 0, 0, 0),
                               stop_after_one, &calls);
    fixture_close(&f);

    ASSERT_EQ_INT(rc, 0);
    ASSERT_EQ_INT(all.count, 3);
    const struct visit *v1 = &all.v[0], *v2 = &all.v[1], *v3 = &all.v[2];
    ASSERT_EQ_U64(v1->visit_id, 1);
    ASSERT_EQ_U64(v1->visitor_id, 0xa);
    ASSERT_EQ_INT(v1->first_ms, utc(2026, 3, 28, 10, 0, 0));
    ASSERT_EQ_INT(v1->last_ms, utc(2026, 3, 28, 10, 7, 0));
    ASSERT_EQ_INT(v1->hits, 4);
    ASSERT_EQ_INT(v1->actions, 3);
    ASSERT_EQ_INT(v1->pageviews, 2);
    ASSERT_EQ_STR(all.entry[0], "https://ex.com/a1");
    ASSERT_EQ_STR(all.exit[0], "https://ex.com/a2");
    ASSERT_EQ_INT(v1->referrer_type, REFERRER_CAMPAIGN);
    ASSERT_EQ_STR(all.campaign[0], "spring");
    ASSERT_TRUE(v1->converted);
    ASSERT_TRUE(v1->ordered);
    ASSERT_EQ_DBL(v1->revenue, 25.0);
    ASSERT_TRUE(!v1->returning);
    ASSERT_EQ_INT(v1->visit_count, 1);

    ASSERT_EQ_U64(v2->visit_id, 2);
    ASSERT_EQ_INT(v2->hits, 2);
    ASSERT_EQ_INT(v2->last_ms, utc(2026, 3, 28, 23, 10, 0));
    ASSERT_EQ_STR(all.entry[1], "https://ex.com/b1");
    ASSERT_EQ_STR(all.exit[1], "https://ex.com/b2");
    ASSERT_EQ_INT(v2->referrer_type, REFERRER_WEBSITE);
    ASSERT_EQ_STR(all.ref[1], "news.ycombinator.com");
    ASSERT_TRUE(!v2->converted);

    ASSERT_EQ_U64(v3->visit_id, 3);
    ASSERT_EQ_INT(v3->hits, 3);
    ASSERT_EQ_INT(v3->actions, 1);
    ASSERT_EQ_INT(v3->pageviews, 1);
    ASSERT_TRUE(v3->returning);
    ASSERT_EQ_INT(v3->visit_count, 2);
    ASSERT_EQ_INT(v3->days_since_last_visit, 1);
    ASSERT_TRUE(v3->converted);
    ASSERT_TRUE(!v3->ordered);
    ASSERT_EQ_DBL(v3->revenue, 9.5);

    ASSERT_EQ_INT(rc_late, 0);
    ASSERT_EQ_INT(late.count, 2);
    ASSERT_EQ_U64(late.v[0].visit_id, 3);
    ASSERT_EQ_U64(late.v[1].visit_id, 4);
    ASSERT_EQ_STR(late.entry[1], "https://ex.com/c1");

    ASSERT_EQ_INT(rc_stop, 42);
    ASSERT_EQ_INT(calls, 1);
}

int main(void)
{
    TEST_RUN(test_tz_paris);
    TEST_RUN(test_tz_new_york);
    TEST_RUN(test_tz_southern_and_utc);
    TEST_RUN(test_tz_midnight_gap);
    TEST_RUN(test_daily_stats);
    TEST_RUN(test_daily_stats_exact_uniques);
    TEST_RUN(test_visits);
    return TEST_DONE();
}
