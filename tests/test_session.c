/* session: visitor ids, the daily salt, and the visit rules of issue 2. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/session/session.h"
#include "test.h"

#define MIN_MS (60 * 1000LL)
#define HOUR_MS (60 * MIN_MS)

/* 2027-01-10 10:00 UTC: a day after the real clock's, so the salt rotates. */
static int64_t t0(void)
{
    return days_from_civil(2027, 1, 10) * MS_PER_DAY + 10 * HOUR_MS;
}

static char tmpdir[64];

static struct session *open_session(void)
{
    strcpy(tmpdir, "/tmp/tally-session-XXXXXX");
    if (!mkdtemp(tmpdir)) return NULL;
    struct session *s = NULL;
    char err[256];
    if (session_create(tmpdir, &s, err, sizeof err) != 0) {
        printf("# session_create: %s\n", err);
        return NULL;
    }
    return s;
}

static void close_session(struct session *s)
{
    char path[128];
    session_destroy(s);
    snprintf(path, sizeof path, "%s/salt", tmpdir);
    unlink(path);
    rmdir(tmpdir);
}

static void req_init(struct track_request *req, int64_t time_ms, const char *visitor_hex)
{
    memset(req, 0, sizeof *req);
    hit_clear(&req->hit);
    req->hit.site_id = 1;
    req->hit.kind = HIT_PAGEVIEW;
    req->hit.time_ms = time_ms;
    req->hit.ip_anon = "198.51.0.0";
    req->ip = "";
    req->user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
    req->uadata = "";
    req->visitor_hex = visitor_hex;
    req->forced_visitor_hex = "";
}

/* Assigns and returns the hit (by value, for later comparison). */
static struct hit assign(struct session *s, struct track_request *req)
{
    int rc = session_assign(s, req, req->hit.time_ms);
    if (rc != 0) printf("# session_assign: %d\n", rc);
    return req->hit;
}

static struct hit hit_at(struct session *s, int64_t time_ms, const char *visitor_hex)
{
    struct track_request req;
    req_init(&req, time_ms, visitor_hex);
    return assign(s, &req);
}

#define VISITOR "0123456789abcdef"

static void test_timeout_30_minutes(void)
{
    struct session *s = open_session();
    ASSERT_TRUE(s != NULL);
    struct hit a = hit_at(s, t0(), VISITOR);
    struct hit b = hit_at(s, t0() + 30 * MIN_MS, VISITOR);        /* 30:00 later: joins */
    struct hit c = hit_at(s, t0() + 60 * MIN_MS + 1000, VISITOR); /* 30:01 after b */
    close_session(s);

    ASSERT_EQ_U64(a.visitor_id, 0x0123456789abcdefULL);
    ASSERT_EQ_U64(a.visit_id, 1);
    ASSERT_EQ_INT(a.visit_count, 1);
    ASSERT_EQ_INT(a.days_since_last_visit, -1);
    ASSERT_EQ_INT(a.days_since_first_visit, 0);
    ASSERT_EQ_INT(a.flags, HIT_FLAG_VISIT_START);

    ASSERT_EQ_U64(b.visit_id, 1);
    ASSERT_EQ_INT(b.visit_count, 1);
    ASSERT_EQ_INT(b.flags, 0);

    ASSERT_EQ_U64(c.visit_id, 2);
    ASSERT_EQ_INT(c.visit_count, 2);
    ASSERT_EQ_INT(c.days_since_last_visit, 0);
    ASSERT_EQ_INT(c.flags, HIT_FLAG_VISIT_START | HIT_FLAG_RETURNING);
}

static void test_new_visit_flag(void)
{
    struct session *s = open_session();
    ASSERT_TRUE(s != NULL);
    struct hit a = hit_at(s, t0(), VISITOR);
    struct track_request req;
    req_init(&req, t0() + MIN_MS, VISITOR);
    req.hit.flags = HIT_FLAG_NEW_VISIT;
    struct hit b = assign(s, &req);
    struct hit c = hit_at(s, t0() + 2 * MIN_MS, VISITOR);
    close_session(s);

    ASSERT_EQ_U64(a.visit_id, 1);
    ASSERT_EQ_U64(b.visit_id, 2);
    ASSERT_EQ_INT(b.flags, HIT_FLAG_NEW_VISIT | HIT_FLAG_VISIT_START | HIT_FLAG_RETURNING);
    ASSERT_EQ_U64(c.visit_id, 2);
    ASSERT_EQ_INT(c.visit_count, 2);
    ASSERT_EQ_INT(c.flags, HIT_FLAG_RETURNING);
}

static struct hit campaign_hit(struct session *s, int64_t t, const char *name, const char *source)
{
    struct track_request req;
    req_init(&req, t, VISITOR);
    req.hit.referrer_type = REFERRER_CAMPAIGN;
    req.hit.referrer_name = name;
    req.hit.campaign_name = name;
    req.hit.campaign_source = source;
    return assign(s, &req);
}

static struct hit referred_hit(struct session *s, int64_t t, const char *host)
{
    struct track_request req;
    req_init(&req, t, VISITOR);
    req.hit.referrer_type = REFERRER_WEBSITE;
    req.hit.referrer_name = host;
    return assign(s, &req);
}

static void test_campaign_change(void)
{
    struct session *s = open_session();
    ASSERT_TRUE(s != NULL);
    struct hit a = campaign_hit(s, t0(), "spring", "newsletter");
    struct hit b = hit_at(s, t0() + MIN_MS, VISITOR); /* internal navigation */
    struct hit c = campaign_hit(s, t0() + 2 * MIN_MS, "spring", "newsletter");
    struct hit d = campaign_hit(s, t0() + 3 * MIN_MS, "spring", "facebook");
    struct hit e = campaign_hit(s, t0() + 4 * MIN_MS, "autumn", "facebook");
    close_session(s);

    ASSERT_EQ_U64(a.visit_id, 1);
    ASSERT_EQ_U64(b.visit_id, 1);
    ASSERT_EQ_U64(c.visit_id, 1);
    ASSERT_EQ_INT(c.flags, 0);
    ASSERT_EQ_U64(d.visit_id, 2); /* another source is another campaign */
    ASSERT_EQ_U64(e.visit_id, 3);
    ASSERT_EQ_INT(e.visit_count, 3);
}

static void test_external_referrer(void)
{
    struct session *s = open_session();
    ASSERT_TRUE(s != NULL);
    struct hit a = hit_at(s, t0(), VISITOR);                                   /* direct */
    struct hit b = referred_hit(s, t0() + MIN_MS, "news.ycombinator.com");     /* new visit */
    struct hit c = referred_hit(s, t0() + 2 * MIN_MS, "news.ycombinator.com"); /* landing events */
    struct hit d = hit_at(s, t0() + 3 * MIN_MS, VISITOR);                      /* internal */
    struct hit e = referred_hit(s, t0() + 4 * MIN_MS, "www.reddit.com");
    struct hit f = campaign_hit(s, t0() + 5 * MIN_MS, "spring", "");
    struct hit g = referred_hit(s, t0() + 6 * MIN_MS, "www.reddit.com");
    close_session(s);

    ASSERT_EQ_U64(a.visit_id, 1);
    ASSERT_EQ_U64(b.visit_id, 2);
    ASSERT_EQ_INT(b.flags, HIT_FLAG_VISIT_START | HIT_FLAG_RETURNING);
    ASSERT_EQ_U64(c.visit_id, 2);
    ASSERT_EQ_INT(c.flags, HIT_FLAG_RETURNING);
    ASSERT_EQ_U64(d.visit_id, 2);
    ASSERT_EQ_U64(e.visit_id, 3);
    ASSERT_EQ_U64(f.visit_id, 4);
    ASSERT_EQ_U64(g.visit_id, 5);
}

static void test_identity_order(void)
{
    struct session *s = open_session();
    ASSERT_TRUE(s != NULL);
    struct track_request req;

    req_init(&req, t0(), VISITOR);
    req.hit.user_id = "alice@example.com";
    struct hit a = assign(s, &req);

    req_init(&req, t0(), "");
    req.hit.user_id = "alice@example.com";
    req.user_agent = "another device";
    struct hit b = assign(s, &req);

    req_init(&req, t0(), VISITOR);
    req.hit.user_id = "alice@example.com";
    req.forced_visitor_hex = "FEDCBA9876543210";
    struct hit c = assign(s, &req);

    /* A malformed _id is ignored: cookieless. */
    req_init(&req, t0(), "0123456789abcdeg");
    struct hit d = assign(s, &req);
    req_init(&req, t0(), "0000000000000000");
    struct hit e = assign(s, &req);
    close_session(s);

    /* BLAKE2b-64("alice@example.com") = fb816158887ad00a (Python hashlib). */
    ASSERT_EQ_U64(a.visitor_id, 0xfb816158887ad00aULL);
    ASSERT_EQ_INT(a.flags & (HIT_FLAG_ID_USER | HIT_FLAG_ID_COOKIELESS), HIT_FLAG_ID_USER);
    ASSERT_EQ_U64(b.visitor_id, 0xfb816158887ad00aULL);
    ASSERT_EQ_U64(b.visit_id, a.visit_id); /* same user, same visit, other device */
    ASSERT_EQ_U64(c.visitor_id, 0xfedcba9876543210ULL);
    ASSERT_EQ_INT(c.flags & (HIT_FLAG_ID_USER | HIT_FLAG_ID_COOKIELESS), 0);
    ASSERT_EQ_INT(d.flags & HIT_FLAG_ID_COOKIELESS, HIT_FLAG_ID_COOKIELESS);
    ASSERT_EQ_U64(d.visitor_id, e.visitor_id);
}

static int read_salt(char out[40])
{
    char path[128];
    snprintf(path, sizeof path, "%s/salt", tmpdir);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t n = fread(out, 1, 40, f);
    int extra = fgetc(f);
    fclose(f);
    struct stat st;
    if (stat(path, &st) != 0 || (st.st_mode & 0777) != 0600) return -2;
    return n == 40 && extra == EOF ? 0 : -3;
}

static void test_cookieless_daily(void)
{
    struct session *s = open_session();
    ASSERT_TRUE(s != NULL);
    char salt_before[40], salt_after[40];

    struct hit a = hit_at(s, t0(), "");
    int rc_before = read_salt(salt_before);
    struct hit b = hit_at(s, t0() + 5 * HOUR_MS, "");
    struct track_request req;
    req_init(&req, t0() + 5 * HOUR_MS, "");
    req.user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:122.0) Gecko/20100101 Firefox/122.0";
    struct hit other_ua = assign(s, &req);
    req_init(&req, t0() + 5 * HOUR_MS, "");
    req.hit.ip_anon = "198.52.0.0";
    struct hit other_ip = assign(s, &req);
    req_init(&req, t0() + 5 * HOUR_MS, "");
    req.hit.site_id = 2;
    struct hit other_site = assign(s, &req);
    struct hit next_day = hit_at(s, t0() + 24 * HOUR_MS, "");
    int rc_after = read_salt(salt_after);
    struct hit next_day2 = hit_at(s, t0() + 25 * HOUR_MS, "");
    close_session(s);

    ASSERT_EQ_INT(a.flags & HIT_FLAG_ID_COOKIELESS, HIT_FLAG_ID_COOKIELESS);
    ASSERT_EQ_U64(b.visitor_id, a.visitor_id);
    ASSERT_TRUE(other_ua.visitor_id != a.visitor_id);
    ASSERT_TRUE(other_ip.visitor_id != a.visitor_id);
    ASSERT_TRUE(other_site.visitor_id != a.visitor_id);
    ASSERT_TRUE(next_day.visitor_id != a.visitor_id);
    ASSERT_EQ_INT(next_day.flags, HIT_FLAG_ID_COOKIELESS | HIT_FLAG_VISIT_START);
    ASSERT_EQ_U64(next_day2.visitor_id, next_day.visitor_id);

    ASSERT_EQ_INT(rc_before, 0);
    ASSERT_EQ_INT(rc_after, 0);
    /* The old salt is gone from the file, not merely joined by a new one. */
    ASSERT_TRUE(memcmp(salt_before, salt_after, 32) != 0);
    int64_t day_before = 0, day_after = 0;
    for (int i = 7; i >= 0; i--) {
        day_before = day_before << 8 | (unsigned char)salt_before[32 + i];
        day_after = day_after << 8 | (unsigned char)salt_after[32 + i];
    }
    ASSERT_EQ_INT(day_before, days_from_civil(2027, 1, 10));
    ASSERT_EQ_INT(day_after, days_from_civil(2027, 1, 11));
}

/* Cookieless visitors are forgotten when the salt rotates (their ids can
 * never come back); visitors with a cookie are kept for their history. */
static void test_rotation_forgets_cookieless_visitors(void)
{
    struct session *s = open_session();
    ASSERT_TRUE(s != NULL);
    struct track_request req;
    static const char *const ips[] = {"198.51.0.0", "198.52.0.0", "198.53.0.0"};
    for (int i = 0; i < 3; i++) {
        req_init(&req, t0() + i * MIN_MS, "");
        req.hit.ip_anon = ips[i];
        assign(s, &req);
    }
    struct hit cookie = hit_at(s, t0() + 5 * MIN_MS, VISITOR);
    ASSERT_EQ_U64(session_visitor_count(s), 4);
    /* The next day: only the cookie visitor is left, plus today's new one. */
    hit_at(s, t0() + 24 * HOUR_MS, "");
    ASSERT_EQ_U64(session_visitor_count(s), 2);
    /* At a restart, yesterday's cookieless hits are not restored either. */
    req_init(&req, t0(), "");
    req.hit.visitor_id = 0x1234;
    req.hit.visit_id = 99;
    req.hit.visit_count = 1;
    req.hit.flags = HIT_FLAG_ID_COOKIELESS | HIT_FLAG_VISIT_START;
    session_restore(s, &req.hit);
    ASSERT_EQ_U64(session_visitor_count(s), 2);
    struct hit back = hit_at(s, t0() + 25 * HOUR_MS, VISITOR);
    ASSERT_EQ_INT(back.visit_count, 2);
    ASSERT_TRUE(back.visit_id > 99); /* ids are still never reused */
    ASSERT_EQ_U64(back.visitor_id, cookie.visitor_id);
    close_session(s);
}

/* Within its day the salt survives a restart: the same visitor keeps its id. */
static void test_salt_survives_restart(void)
{
    struct session *s = open_session();
    ASSERT_TRUE(s != NULL);
    int64_t now = now_ms();
    struct hit a = hit_at(s, now, "");
    session_destroy(s);
    char err[256];
    ASSERT_EQ_INT(session_create(tmpdir, &s, err, sizeof err), 0);
    struct hit b = hit_at(s, now + 1000, "");
    close_session(s);
    /* Unless the test ran across midnight UTC. */
    if (now / MS_PER_DAY == (now + 1000) / MS_PER_DAY) ASSERT_EQ_U64(b.visitor_id, a.visitor_id);
}

static void test_visit_history(void)
{
    struct session *s = open_session();
    ASSERT_TRUE(s != NULL);
    int64_t day0 = days_from_civil(2027, 1, 10) * MS_PER_DAY;
    struct hit a = hit_at(s, day0 + 10 * HOUR_MS, VISITOR);
    struct hit a2 = hit_at(s, day0 + 10 * HOUR_MS + 20 * MIN_MS, VISITOR);
    /* 2 days 22h40m after the last hit of visit 1 */
    struct hit b = hit_at(s, day0 + 3 * MS_PER_DAY + 9 * HOUR_MS, VISITOR);
    struct hit c = hit_at(s, day0 + 3 * MS_PER_DAY + 12 * HOUR_MS, VISITOR);
    struct hit c2 = hit_at(s, day0 + 3 * MS_PER_DAY + 12 * HOUR_MS + 10 * MIN_MS, VISITOR);
    struct hit d = hit_at(s, day0 + 10 * MS_PER_DAY, VISITOR);
    close_session(s);

    ASSERT_EQ_INT(a.visit_count, 1);
    ASSERT_EQ_U64(a2.visit_id, a.visit_id);
    ASSERT_EQ_INT(b.visit_count, 2);
    ASSERT_EQ_INT(b.days_since_last_visit, 2);
    ASSERT_EQ_INT(b.days_since_first_visit, 2);
    ASSERT_EQ_INT(c.visit_count, 3);
    ASSERT_EQ_INT(c.days_since_last_visit, 0);
    ASSERT_EQ_INT(c.days_since_first_visit, 3);
    ASSERT_EQ_INT(c2.visit_count, 3);
    ASSERT_EQ_INT(c2.days_since_last_visit, 0);
    ASSERT_EQ_INT(c2.days_since_first_visit, 3);
    ASSERT_EQ_INT(c2.flags, HIT_FLAG_RETURNING);
    ASSERT_EQ_INT(d.visit_count, 4);
    ASSERT_EQ_INT(d.days_since_last_visit, 6); /* 6 days 11h50m */
    ASSERT_EQ_INT(d.days_since_first_visit, 9);
    ASSERT_EQ_U64(d.visit_id, 4);
}

static void test_out_of_order(void)
{
    struct session *s = open_session();
    ASSERT_TRUE(s != NULL);
    struct hit a = hit_at(s, t0() + 60 * MIN_MS, VISITOR);
    struct hit b = hit_at(s, t0() + 45 * MIN_MS, VISITOR); /* older, within the span: joins */
    struct hit c = hit_at(s, t0() + 20 * MIN_MS, VISITOR); /* 25 min before the new start: joins */
    struct hit d = hit_at(s, t0() - 2 * HOUR_MS, VISITOR); /* far older: a visit of its own */
    struct hit e = hit_at(s, t0() + 80 * MIN_MS, VISITOR); /* the open visit is still open */
    close_session(s);

    ASSERT_EQ_U64(b.visit_id, a.visit_id);
    ASSERT_EQ_INT(b.flags, 0);
    ASSERT_EQ_U64(c.visit_id, a.visit_id);
    ASSERT_EQ_U64(d.visit_id, 2);
    ASSERT_EQ_INT(d.flags, HIT_FLAG_VISIT_START | HIT_FLAG_RETURNING);
    ASSERT_EQ_INT(d.visit_count, 2);
    ASSERT_EQ_U64(e.visit_id, a.visit_id);
    ASSERT_EQ_INT(e.visit_count, 1);
}

/* Two sessions, one fed live and one restored from the first one's hits in
 * reverse order, must assign the next hits identically. */
static void test_restore(void)
{
    struct session *live = open_session();
    ASSERT_TRUE(live != NULL);
    char live_dir[64];
    strcpy(live_dir, tmpdir);

    struct hit stored[16];
    size_t n = 0;
    int64_t day0 = days_from_civil(2027, 1, 10) * MS_PER_DAY;
    stored[n++] = hit_at(live, day0 + 8 * HOUR_MS, VISITOR);
    stored[n++] = hit_at(live, day0 + 8 * HOUR_MS + 5 * MIN_MS, VISITOR);
    stored[n++] = campaign_hit(live, day0 + 2 * MS_PER_DAY + 9 * HOUR_MS, "spring", "mail");
    stored[n++] = hit_at(live, day0 + 2 * MS_PER_DAY + 9 * HOUR_MS + 10 * MIN_MS, VISITOR);
    stored[n++] =
        hit_at(live, day0 + 2 * MS_PER_DAY + 9 * HOUR_MS + 20 * MIN_MS, "1111111111111111");
    stored[n++] =
        hit_at(live, day0 + 2 * MS_PER_DAY + 9 * HOUR_MS + 21 * MIN_MS, "2222222222222222");

    struct session *restored = open_session();
    ASSERT_TRUE(restored != NULL);
    for (size_t i = n; i-- > 0;)
        session_restore(restored, &stored[i]);

    struct hit next_live[4], next_restored[4];
    int64_t base = day0 + 2 * MS_PER_DAY + 9 * HOUR_MS;
    next_live[0] = hit_at(live, base + 30 * MIN_MS, VISITOR); /* joins the campaign visit */
    next_restored[0] = hit_at(restored, base + 30 * MIN_MS, VISITOR);
    next_live[1] = campaign_hit(live, base + 31 * MIN_MS, "spring", "mail"); /* same campaign */
    next_restored[1] = campaign_hit(restored, base + 31 * MIN_MS, "spring", "mail");
    next_live[2] = hit_at(live, base + 3 * HOUR_MS, VISITOR); /* after the timeout */
    next_restored[2] = hit_at(restored, base + 3 * HOUR_MS, VISITOR);
    next_live[3] = hit_at(live, base + 4 * HOUR_MS, "3333333333333333"); /* a new visitor */
    next_restored[3] = hit_at(restored, base + 4 * HOUR_MS, "3333333333333333");
    close_session(restored);
    strcpy(tmpdir, live_dir);
    close_session(live);

    for (int i = 0; i < 4; i++) {
        ASSERT_EQ_U64(next_restored[i].visit_id, next_live[i].visit_id);
        ASSERT_EQ_INT(next_restored[i].visit_count, next_live[i].visit_count);
        ASSERT_EQ_INT(next_restored[i].days_since_last_visit, next_live[i].days_since_last_visit);
        ASSERT_EQ_INT(next_restored[i].days_since_first_visit, next_live[i].days_since_first_visit);
        ASSERT_EQ_INT(next_restored[i].flags, next_live[i].flags);
    }
    /* And the live values are the ones the rules give. */
    ASSERT_EQ_U64(next_live[0].visit_id, 2);
    ASSERT_EQ_U64(next_live[1].visit_id, 2);
    ASSERT_EQ_U64(next_live[2].visit_id, 5);
    ASSERT_EQ_INT(next_live[2].visit_count, 3);
    ASSERT_EQ_INT(next_live[2].days_since_last_visit, 0);
    ASSERT_EQ_INT(next_live[2].days_since_first_visit, 2);
    ASSERT_EQ_U64(next_live[3].visit_id, 6);
}

/* The same property on a random stream: 50 visitors, gaps from seconds to
 * days, campaigns, referrers and new_visit mixed in; restored from the
 * stored hits shuffled, then both sessions get the same continuation. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static struct hit random_hit(struct session *s, int64_t t, unsigned visitor, unsigned pick)
{
    static const char *const hosts[] = {"news.ycombinator.com", "www.reddit.com"};
    static const char *const names[] = {"spring", "autumn"};
    char hex[17];
    snprintf(hex, sizeof hex, "%016x", visitor + 1);
    struct track_request req;
    req_init(&req, t, hex);
    if (pick % 7 == 1) {
        req.hit.referrer_type = REFERRER_WEBSITE;
        req.hit.referrer_name = hosts[pick / 7 % 2];
    } else if (pick % 7 == 2) {
        req.hit.referrer_type = REFERRER_CAMPAIGN;
        req.hit.campaign_name = req.hit.referrer_name = names[pick / 7 % 2];
    } else if (pick % 7 == 3 && pick % 3 == 0) {
        req.hit.flags = HIT_FLAG_NEW_VISIT;
    }
    struct hit h = assign(s, &req);
    return h;
}

static void test_restore_random(void)
{
    enum { VISITORS = 50, HITS = 3000, MORE = 1000 };
    static struct hit stored[HITS];
    struct session *live = open_session();
    ASSERT_TRUE(live != NULL);
    char live_dir[64];
    strcpy(live_dir, tmpdir);

    int64_t clock[VISITORS];
    for (int i = 0; i < VISITORS; i++)
        clock[i] = t0();
    for (int i = 0; i < HITS; i++) {
        unsigned v = (unsigned)(rng() % VISITORS);
        /* gaps: mostly minutes, sometimes 29-31 minutes, sometimes days */
        uint64_t r = rng() % 100;
        clock[v] += r < 70   ? (int64_t)(rng() % (10 * MIN_MS))
                    : r < 90 ? 29 * MIN_MS + (int64_t)(rng() % (2 * MIN_MS))
                             : (int64_t)(rng() % (5 * MS_PER_DAY));
        stored[i] = random_hit(live, clock[v], v, (unsigned)rng());
    }
    struct session *restored = open_session();
    ASSERT_TRUE(restored != NULL);
    for (int i = HITS - 1; i > 0; i--) { /* Fisher-Yates */
        int j = (int)(rng() % (uint64_t)(i + 1));
        struct hit tmp = stored[i];
        stored[i] = stored[j];
        stored[j] = tmp;
    }
    for (int i = 0; i < HITS; i++)
        session_restore(restored, &stored[i]);

    int mismatches = 0, visit_starts = 0;
    for (int i = 0; i < MORE; i++) {
        unsigned v = (unsigned)(rng() % VISITORS);
        clock[v] += (int64_t)(rng() % (40 * MIN_MS));
        unsigned pick = (unsigned)rng();
        struct hit a = random_hit(live, clock[v], v, pick);
        struct hit b = random_hit(restored, clock[v], v, pick);
        if (a.visit_id != b.visit_id || a.visit_count != b.visit_count ||
            a.days_since_last_visit != b.days_since_last_visit ||
            a.days_since_first_visit != b.days_since_first_visit || a.flags != b.flags)
            mismatches++;
        if (a.flags & HIT_FLAG_VISIT_START) visit_starts++;
    }
    close_session(restored);
    strcpy(tmpdir, live_dir);
    close_session(live);
    ASSERT_EQ_INT(mismatches, 0);
    /* The continuation exercised both joining and splitting. */
    ASSERT_TRUE(visit_starts > 100 && visit_starts < 900);
}

/* Many visitors: the map grows and still finds every one. */
static void test_many_visitors(void)
{
    struct session *s = open_session();
    ASSERT_TRUE(s != NULL);
    char hex[17];
    int wrong = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 1; i <= 20000; i++) {
            snprintf(hex, sizeof hex, "%016x", i);
            struct hit h = hit_at(s, t0() + pass * MIN_MS, hex);
            if (h.visit_id != i || h.visitor_id != i) wrong++;
        }
    }
    close_session(s);
    ASSERT_EQ_INT(wrong, 0);
}


static void test_heartbeat_extends_but_never_starts_a_visit(void)
{
    struct session *s = open_session();
    ASSERT_TRUE(s != NULL);
    struct track_request req;
    /* A lone heartbeat: ignored, and no visit exists afterwards. */
    req_init(&req, t0(), VISITOR);
    req.hit.kind = HIT_HEARTBEAT;
    ASSERT_EQ_INT(session_assign(s, &req, t0()), SESSION_IGNORED);
    struct hit a = hit_at(s, t0() + MIN_MS, VISITOR);
    ASSERT_TRUE(a.flags & HIT_FLAG_VISIT_START);
    ASSERT_EQ_INT(a.visit_count, 1);
    /* Within the visit it joins and keeps the visit open. */
    req_init(&req, t0() + 25 * MIN_MS, VISITOR);
    req.hit.kind = HIT_HEARTBEAT;
    ASSERT_EQ_INT(session_assign(s, &req, t0() + 25 * MIN_MS), 0);
    ASSERT_EQ_U64(req.hit.visit_id, a.visit_id);
    struct hit b = hit_at(s, t0() + 50 * MIN_MS, VISITOR);
    ASSERT_EQ_U64(b.visit_id, a.visit_id);
    /* After the timeout it is dropped again. */
    req_init(&req, t0() + 90 * MIN_MS, VISITOR);
    req.hit.kind = HIT_HEARTBEAT;
    ASSERT_EQ_INT(session_assign(s, &req, t0() + 90 * MIN_MS), SESSION_IGNORED);
    close_session(s);
}

int main(void)
{
    TEST_RUN(test_timeout_30_minutes);
    TEST_RUN(test_heartbeat_extends_but_never_starts_a_visit);
    TEST_RUN(test_new_visit_flag);
    TEST_RUN(test_campaign_change);
    TEST_RUN(test_external_referrer);
    TEST_RUN(test_identity_order);
    TEST_RUN(test_cookieless_daily);
    TEST_RUN(test_rotation_forgets_cookieless_visitors);
    TEST_RUN(test_salt_survives_restart);
    TEST_RUN(test_visit_history);
    TEST_RUN(test_out_of_order);
    TEST_RUN(test_restore);
    TEST_RUN(test_restore_random);
    TEST_RUN(test_many_visitors);
    return TEST_DONE();
}
