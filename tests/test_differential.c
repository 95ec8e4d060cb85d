/* The report engine against a plain SQLite reference, on random data.
 *
 * A seeded generator makes a few thousand hits (visitors with their own
 * device and place, visits of every length, every kind of hit, direct,
 * website, search, social and campaign arrivals) over five days around
 * New York's 2026 switch to summer time, and sends them through HTTP bulk
 * requests to the real server. The stored hits are read back with
 * `tally hits --json` and loaded into SQLite in this test; plain SQL over
 * them is the reference. The engine's answers through the Reporting API
 * must equal it, for the visits overview, pages, entry pages, event
 * categories, countries, device types and channels, with no segment and
 * under 50 random segments, and again after a restart (the index then
 * comes from the store rather than from hits as they arrive).
 *
 * Goals and ecommerce too: six goals of every match attribute and pattern
 * type (one of them defined after the data arrived), orders (some sending
 * an order id again), cart updates and product views. The reference
 * counts conversions with the documented rules: a goal converts once a
 * visit unless it allows several, a tracked revenue beats the goal's
 * default, an order id counts the first time it arrives (lowest seq), a
 * visit's ecommerce status compares the times of its last order and its
 * last cart update.
 *
 * The SQL spells out the documented meaning: a visit is the hits sharing
 * a visit_id, with the dimensions of its first hit (the visit-start flag);
 * it belongs to the local day its first hit is in; a visit condition is on
 * those first-hit fields; an action condition holds when any action of the
 * visit satisfies it (pageUrl: pageviews, eventCategory: events), except
 * that != and !@ on an action hold when no action satisfies == or =@
 * (Matomo 4: "never saw that page"); == and != compare exactly, =@ !@ =^ =$
 * ignore ASCII case. A mismatch prints the segment, the report and both
 * answers. */
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "../src/query/query.h"
#include "harness.h"
#include "test.h"

#define SEED 20261129u
#define TZ_NAME "America/New_York"
#define FIRST_DAY "2026-03-05"
#define LAST_DAY "2026-03-09"
#define DAYS 5
#define SITE "https://shop.example.com"
#define VISITORS 420
#define SEGMENTS 50

static struct server server;
static char data_dir[256], geo_dir[256], token[33];
static char server_args[600]; /* --geoip FILE */
static struct tz *site_tz;
static int64_t first_day;
static sqlite3 *db;

/* ---- a seeded generator ---------------------------------------------------------- */

static uint64_t rng_state = SEED;
static uint64_t rnd(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static int below(int n)
{
    return (int)(rnd() % (uint64_t)n);
}
static bool chance(int percent)
{
    return below(100) < percent;
}
#define PICK(array) (array)[below((int)(sizeof(array) / sizeof *(array)))]

static const char *const user_agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.43 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
};
/* An address in a network of the test geo database (tests/make-test-mmdb.pl):
 * de, us, cr, nz, fr, jp, or one it does not hold. */
static void random_address(char *out, size_t n)
{
    unsigned host = 1 + (unsigned)below(60);
    switch (below(7)) {
    case 0:
        snprintf(out, n, "203.0.113.%u", host);
        break;
    case 1:
        snprintf(out, n, "198.51.100.%u", host);
        break;
    case 2:
        snprintf(out, n, "192.0.2.%u", host);
        break;
    case 3:
        snprintf(out, n, "192.0.2.%u", 192 + host);
        break;
    case 4:
        snprintf(out, n, "2001%%3Adb8%%3A%%3A%x", host);
        break;
    case 5:
        snprintf(out, n, "2001%%3Adb8%%3Acafe%%3A%%3A%x", host);
        break;
    default:
        snprintf(out, n, "203.0.114.%u", host);
        break;
    }
}
static const char *const referrers[] = {
    "https%3A%2F%2Fblog.example.org%2Freview",
    "https%3A%2F%2Fnews.example.net%2Fstory%2F12",
    "https%3A%2F%2Fwww.google.com%2Fsearch%3Fq%3Dwinter%2Bboots",
    "https%3A%2F%2Fwww.bing.com%2Fsearch%3Fq%3Dtally",
    "https%3A%2F%2Fduckduckgo.com%2F%3Fq%3Danalytics",
    "https%3A%2F%2Fwww.facebook.com%2F",
    "https%3A%2F%2Fwww.reddit.com%2Fr%2Fanalytics%2F",
};
static const char *const campaigns[] = {"spring-sale", "newsletter-march", "retargeting"};
static const char *const sources[] = {"newsletter", "facebook", "partner"};
static const char *const categories[] = {"video", "form", "cta", "download-bar"};
static const char *const event_actions[] = {"play", "pause", "submit", "click"};

static void random_path(char *out, size_t n)
{
    switch (below(6)) {
    case 0:
        snprintf(out, n, "/");
        break;
    case 1:
        snprintf(out, n, "/%s", chance(50) ? "about" : "contact");
        break;
    case 2:
    case 3:
        snprintf(out, n, "/blog/post-%d", 1 + below(12));
        break;
    default:
        snprintf(out, n, "/shop/item-%d", 1 + below(25));
        break;
    }
}

/* Percent-encodes all but letters, digits and -_.~ */
static void url_encode(const char *s, char *out, size_t n)
{
    size_t o = 0;
    for (; *s && o + 4 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-_.~", c))
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, n - o, "%%%02X", c);
    }
    out[o] = '\0';
}

/* ---- sending -------------------------------------------------------------------- */

struct pending {
    int64_t time_ms;
    char *query;
};
static struct pending *pending;
static size_t pending_count, pending_cap;

static void add_hit(int64_t t, const char *visitor_part, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_hit(int64_t t, const char *visitor_part, const char *fmt, ...)
{
    char kind_part[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(kind_part, sizeof kind_part, fmt, ap);
    va_end(ap);
    if (pending_count == pending_cap) {
        pending_cap = pending_cap ? pending_cap * 2 : 1024;
        pending = realloc(pending, pending_cap * sizeof *pending);
        if (!pending) abort();
    }
    struct buf q;
    buf_init(&q);
    buf_printf(&q, "?idsite=1&rec=1&cdt=%lld&%s&%s", (long long)(t / 1000), visitor_part,
               kind_part);
    pending[pending_count++] = (struct pending){t, q.data};
}

static const char *const product_categories[] = {
    "Tea", "Tea%22%2C%22Green", "Cups", "Gifts%22%2C%22Tea%22%2C%22Cups"};
static int order_number;

/* ec_items of 1 to 3 lines: [sku, name, category (one or several), price, quantity]. */
static void random_items(char *out, size_t n, int *cents)
{
    size_t o = (size_t)snprintf(out, n, "%%5B");
    *cents = 0;
    int lines = 1 + below(3);
    for (int i = 0; i < lines; i++) {
        int item = 1 + below(8), price = 150 + 125 * item, quantity = 1 + below(3);
        o += (size_t)snprintf(out + o, n - o,
                              "%s%%5B%%22SKU-%d%%22%%2C%%22Item%%20%d%%22%%2C%%5B%%22%s%%22%%5D%%2C"
                              "%d.%02d%%2C%d%%5D",
                              i ? "%2C" : "", item, item, product_categories[item % 4],
                              price / 100, price % 100, quantity);
        *cents += price * quantity;
    }
    snprintf(out + o, n - o, "%%5D");
}

/* A shopping visit's tail: product views, cart updates, an order (now and
 * then one whose id was sent before), sometimes a cart after the order. */
static void add_shopping(const char *visitor_part, int64_t *t)
{
    char items[1024];
    int cents;
    for (int i = below(3); i > 0; i--) {
        int item = 1 + below(8);
        *t += (5 + below(100)) * 1000LL;
        add_hit(*t, visitor_part,
                "url=" SITE "/shop/item-%d&action_name=Item%%20%d&_pks=SKU-%d&_pkn=Item%%20%d"
                "&_pkc=%%5B%%22%s%%22%%5D",
                item, item, item, item, product_categories[item % 4]);
    }
    int steps = 1 + below(3);
    for (int i = 0; i < steps; i++) {
        *t += (5 + below(100)) * 1000LL;
        random_items(items, sizeof items, &cents);
        if (chance(45)) {
            int id = order_number && chance(15) ? 1 + below(order_number) : ++order_number;
            add_hit(*t, visitor_part,
                    "url=" SITE "/checkout&idgoal=0&ec_id=O%d&revenue=%d.%02d&ec_st=%d.%02d"
                    "&ec_tx=1.50&ec_sh=%d&ec_items=%s",
                    id, (cents + 650) / 100, (cents + 650) % 100, cents / 100, cents % 100,
                    below(2) * 5, items);
        } else {
            add_hit(*t, visitor_part, "url=" SITE "/cart&idgoal=0&revenue=%d.%02d&ec_items=%s",
                    cents / 100, cents % 100, items);
        }
    }
}

static void make_visit(const char *visitor_part, int64_t t)
{
    char path[64];
    random_path(path, sizeof path);
    /* How the visit arrives, on its first hit only: directly, from a
     * referrer, or with a campaign in the page's URL. */
    char referrer[128] = "", campaign[128] = "";
    int how = below(100);
    if (how >= 40 && how < 75)
        snprintf(referrer, sizeof referrer, "&urlref=%s", PICK(referrers));
    else if (how >= 75)
        snprintf(campaign, sizeof campaign, "%%3Fmtm_campaign%%3D%s%%26mtm_source%%3D%s",
                 PICK(campaigns), PICK(sources));
    if (chance(92))
        add_hit(t, visitor_part, "url=" SITE "%s%s&action_name=Page%%20%s%s", path, campaign, path,
                referrer);
    else
        add_hit(t, visitor_part, "url=" SITE "%s%s&e_c=%s&e_a=%s%s", path, campaign,
                PICK(categories), PICK(event_actions), referrer);

    int more = chance(35) ? 0 : below(12);
    for (int i = 0; i < more; i++) {
        t += (5 + below(400)) * 1000LL;
        int kind = below(100);
        if (kind < 55) {
            random_path(path, sizeof path);
            add_hit(t, visitor_part, "url=" SITE "%s&action_name=Page%%20%s", path, path);
        } else if (kind < 67) {
            if (chance(50))
                add_hit(t, visitor_part, "url=" SITE "%s&e_c=%s&e_a=%s&e_n=n%d&e_v=%d", path,
                        PICK(categories), PICK(event_actions), below(3), below(50));
            else
                add_hit(t, visitor_part, "url=" SITE "%s&e_c=%s&e_a=%s", path, PICK(categories),
                        PICK(event_actions));
        } else if (kind < 72) {
            add_hit(t, visitor_part,
                    "url=" SITE "%s&link=https%%3A%%2F%%2Fpartner.example.net%%2F%d", path,
                    below(4));
        } else if (kind < 77) {
            add_hit(t, visitor_part, "url=" SITE "%s&download=" SITE "%%2Ffiles%%2Fdoc-%d.pdf",
                    path, below(4));
        } else if (kind < 83) {
            add_hit(t, visitor_part, "url=" SITE "%%2Fsearch&search=%s&search_count=%d",
                    PICK(categories), below(4));
        } else if (kind < 88) {
            add_hit(t, visitor_part, "url=" SITE "%s&c_n=banner-%d&c_p=img", path, below(3));
        } else if (kind < 91) {
            add_hit(t, visitor_part, "url=" SITE "%s&c_n=banner-%d&c_p=img&c_i=click", path,
                    below(3));
        } else if (kind < 97) {
            add_hit(t, visitor_part, "url=" SITE "%s&ping=1", path);
        } else if (chance(60)) {
            add_hit(t, visitor_part, "url=" SITE "%s&idgoal=1&revenue=%d", path, 1 + below(20));
        } else {
            add_hit(t, visitor_part, "url=" SITE "%s&idgoal=1", path);
        }
    }
    if (chance(20)) add_shopping(visitor_part, &t);
}

static void make_data(void)
{
    const int64_t from = tz_day_start_ms(site_tz, first_day);
    const int64_t span = tz_day_start_ms(site_tz, first_day + DAYS) - from;
    for (int v = 0; v < VISITORS; v++) {
        char visitor_part[512], address[64], ua[400];
        random_address(address, sizeof address);
        url_encode(PICK(user_agents), ua, sizeof ua);
        int len = snprintf(visitor_part, sizeof visitor_part, "cid=%016llx&cip=%s&ua=%s",
                           (unsigned long long)(rnd() | 1), address, ua);
        if (chance(10))
            snprintf(visitor_part + len, sizeof visitor_part - (size_t)len, "&uid=user-%d", v);
        /* Up to four visits, in order, at least 40 minutes apart (each visit
         * lasts under 90 minutes). Some start just before a local midnight. */
        int visits = 1 + (chance(60) ? 0 : below(4));
        int64_t t = from + (int64_t)(rnd() % (uint64_t)(span / 2));
        for (int i = 0; i < visits && t < from + span - 2 * 3600000; i++) {
            if (chance(5)) t = tz_day_start_ms(site_tz, tz_local_day(site_tz, t) + 1) - 30000;
            t -= t % 1000;
            make_visit(visitor_part, t);
            t = pending[pending_count - 1].time_ms + (40 + below(24 * 60)) * 60000LL;
        }
    }
}

static int by_time(const void *a, const void *b)
{
    const struct pending *x = a, *y = b;
    return (x->time_ms > y->time_ms) - (x->time_ms < y->time_ms);
}

/* Bulk requests of 250 query strings each, in time order; every hit must
 * be tracked. */
static bool send_data(void)
{
    qsort(pending, pending_count, sizeof *pending, by_time);
    for (size_t start = 0; start < pending_count; start += 250) {
        size_t end = start + 250 < pending_count ? start + 250 : pending_count;
        struct buf body;
        buf_init(&body);
        buf_puts(&body, "{\"requests\":[");
        for (size_t i = start; i < end; i++) {
            if (i > start) buf_putc(&body, ',');
            buf_json_string(&body, pending[i].query);
        }
        buf_printf(&body, "],\"token_auth\":\"%s\"}", token);
        struct http_reply r = {0};
        int rc = http_request(server.port, "POST", "/matomo.php",
                              "Content-Type: application/json\r\n", body.data, body.len, &r);
        buf_free(&body);
        json_t *j = rc ? NULL : json_loads(r.body.data, 0, NULL);
        bool ok =
            j && json_integer_value(json_object_get(j, "tracked")) == (json_int_t)(end - start);
        if (!ok) printf("# bulk request answered %d: %.500s\n", r.status, r.body.data);
        json_decref(j);
        http_reply_free(&r);
        if (!ok) return false;
    }
    return true;
}

/* ---- the SQLite reference -------------------------------------------------------- */

static bool sql(const char *text)
{
    char *err = NULL;
    if (sqlite3_exec(db, text, NULL, NULL, &err) == SQLITE_OK) return true;
    printf("# SQL error: %s in %.300s\n", err, text);
    sqlite3_free(err);
    return false;
}

static const char *str_field(json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));
    return s ? s : "";
}

/* The goals of the site, as goals_define() makes them: what each converts
 * on, in SQL over a hit h, and its default revenue. */
static const struct goal_def {
    const char *cli; /* tally goal add flags (NULL: added through the API after the data) */
    const char *api;
    const char *match;
    double revenue;
    bool multiple;
} goal_defs[] = {
    {"--name Lead --match manual --revenue 5", NULL, "h.kind = 'goal' AND h.goal_id = 1", 5, false},
    {"--name Items --match url --type contains --pattern /SHOP/ITEM-1 --revenue 3", NULL,
     "h.kind = 'pageview' AND instr(lower(h.url), '/shop/item-1') > 0", 3, false},
    {"--name Plays --match event-action --type exact --pattern play --revenue 1 --multiple", NULL,
     "h.kind = 'event' AND h.event_action = 'play'", 1, true},
    {"--name Posts --match title --type regex --pattern '^Page /blog/post-[0-9]$' --revenue 2.5 "
     "--case-sensitive",
     NULL, "h.kind = 'pageview' AND h.title GLOB 'Page /blog/post-[0-9]'", 2.5, false},
    {"--name PDFs --match download --type ends-with --pattern .PDF --multiple", NULL,
     "h.kind = 'download' AND lower(h.target_url) LIKE '%.pdf'", 0, true},
    {NULL,
     "name=Partner&matchAttribute=external_website&patternType=starts_with"
     "&pattern=https%3A%2F%2Fpartner.example.net%2F1&caseSensitive=1&revenue=7",
     "h.kind = 'outlink' AND substr(h.target_url, 1, 29) = 'https://partner.example.net/1'", 7,
     false},
};
#define GOALS (int)(sizeof goal_defs / sizeof *goal_defs)

/* conversions (visit_id, goal, n, revenue): a goal that converts once a
 * visit takes its first match (lowest seq) and that match's revenue (a
 * tracked one, else the default); orders: each order id's first. */
static bool load_conversions(void)
{
    struct buf q;
    buf_init(&q);
    buf_puts(&q, "CREATE TABLE goal_matches AS ");
    for (int g = 0; g < GOALS; g++)
        buf_printf(&q,
                   "%sSELECT h.visit_id, %d AS goal, %d AS multiple, h.seq,"
                   " coalesce(h.revenue, %g) AS revenue FROM hits h WHERE %s",
                   g ? " UNION ALL " : "", g + 1, goal_defs[g].multiple, goal_defs[g].revenue,
                   goal_defs[g].match);
    bool ok = sql(q.data);
    buf_free(&q);
    return ok &&
           sql("CREATE TABLE conversions AS SELECT m.visit_id, m.goal,"
               " CASE WHEN m.multiple THEN count(*) ELSE 1 END AS n,"
               " CASE WHEN m.multiple THEN sum(m.revenue) ELSE (SELECT f.revenue FROM goal_matches f"
               "   WHERE f.visit_id = m.visit_id AND f.goal = m.goal ORDER BY f.seq LIMIT 1) END"
               " AS revenue FROM goal_matches m GROUP BY m.visit_id, m.goal") &&
           sql("CREATE TABLE orders AS SELECT h.* FROM hits h WHERE h.kind = 'ecommerce_order'"
               " AND h.seq = (SELECT min(o.seq) FROM hits o WHERE o.kind = 'ecommerce_order'"
               " AND o.order_id = h.order_id)");
}

/* The hits table's columns: a field of `tally hits --json`, and its type
 * (text, integer, real: NULL when absent). */
static const struct {
    const char *field;
    char type;
} hit_columns[] = {
    {"visit_id", 'i'},    {"visitor_id", 't'},   {"time_ms", 'i'},        {"kind", 't'},
    {"flags", 'i'},       {"url", 't'},          {"event_category", 't'}, {"country_code", 't'},
    {"device_type", 't'}, {"referrer_type", 'i'}, {"visit_count", 'i'},   {"user_id", 't'},
    {"seq", 'i'},         {"action_name", 't'},  {"event_action", 't'},   {"target_url", 't'},
    {"goal_id", 'i'},     {"revenue", 'r'},      {"order_id", 't'},       {"items", 't'},
    {"subtotal", 'r'},    {"product_sku", 't'},
};

/* Every stored hit, as `tally hits --json` prints it, into table hits;
 * then one row per visit, from its first hit, into table visits. */
static bool load_reference(void)
{
    struct buf out;
    buf_init(&out);
    if (run_tally(&out, "hits --data %s --site 1 --json", data_dir) != 0) {
        printf("# tally hits failed: %.300s\n", out.data);
        buf_free(&out);
        return false;
    }
    bool ok = sqlite3_open(":memory:", &db) == SQLITE_OK &&
              sql("CREATE TABLE hits (visit_id INTEGER, visitor TEXT, time_ms INTEGER, kind TEXT,"
                  " flags INTEGER, url TEXT, event_category TEXT, country TEXT, device TEXT,"
                  " rtype INTEGER, visit_count INTEGER, user_id TEXT, seq INTEGER, title TEXT,"
                  " event_action TEXT, target_url TEXT, goal_id INTEGER, revenue REAL,"
                  " order_id TEXT, items TEXT, subtotal REAL, product_sku TEXT)") &&
              sql("BEGIN");
    sqlite3_stmt *ins = NULL;
    ok = ok && sqlite3_prepare_v2(db,
                                  "INSERT INTO hits VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
                                  "?,?)",
                                  -1, &ins, NULL) == SQLITE_OK;
    size_t lines = 0;
    for (char *line = out.data, *eol; ok && line && *line; line = eol ? eol + 1 : NULL) {
        eol = strchr(line, '\n');
        if (eol) *eol = '\0';
        json_t *h = json_loads(line, 0, NULL);
        if (!h) {
            printf("# not JSON: %.200s\n", line);
            ok = false;
            break;
        }
        for (int c = 0; c < (int)(sizeof hit_columns / sizeof *hit_columns); c++) {
            json_t *v = json_object_get(h, hit_columns[c].field);
            if (hit_columns[c].type == 't')
                sqlite3_bind_text(ins, c + 1, str_field(h, hit_columns[c].field), -1,
                                  SQLITE_TRANSIENT);
            else if (hit_columns[c].type == 'i')
                sqlite3_bind_int64(ins, c + 1, json_integer_value(v));
            else if (json_is_number(v))
                sqlite3_bind_double(ins, c + 1, json_number_value(v));
            else
                sqlite3_bind_null(ins, c + 1);
        }
        ok = sqlite3_step(ins) == SQLITE_DONE;
        sqlite3_reset(ins);
        json_decref(h);
        lines++;
    }
    sqlite3_finalize(ins);
    buf_free(&out);
    printf("# %zu hits stored, %zu sent\n", lines, pending_count);
    return ok && lines == pending_count && sql("COMMIT") &&
           sql("CREATE INDEX hits_visit ON hits (visit_id)") && load_conversions() &&
           sql("CREATE TABLE visits AS SELECT s.visit_id, s.visitor, s.time_ms AS start_ms,"
               " s.country, s.device, s.rtype, s.visit_count, s.user_id,"
               " CASE s.rtype WHEN 0 THEN 'direct' WHEN 1 THEN 'website' WHEN 2 THEN 'campaign'"
               "   WHEN 3 THEN 'search' WHEN 4 THEN 'social' WHEN 5 THEN 'ai' WHEN 6 THEN 'email'"
               "   WHEN 7 THEN 'paid_search' WHEN 8 THEN 'paid_social' END AS rtype_name,"
               " (SELECT max(h.time_ms) FROM hits h WHERE h.visit_id = s.visit_id) AS end_ms,"
               " (SELECT count(*) FROM hits h WHERE h.visit_id = s.visit_id AND h.kind IN"
               "   ('pageview', 'download', 'outlink', 'site_search', 'event',"
               "    'content_interaction')) AS actions,"
               " (SELECT count(*) FROM hits h WHERE h.visit_id = s.visit_id"
               "   AND h.kind = 'pageview') AS pageviews,"
               " (SELECT count(DISTINCT h.url) FROM hits h WHERE h.visit_id = s.visit_id"
               "   AND h.kind = 'pageview') AS uniq_pageviews,"
               " (EXISTS (SELECT 1 FROM conversions c WHERE c.visit_id = s.visit_id)"
               "  OR EXISTS (SELECT 1 FROM orders o WHERE o.visit_id = s.visit_id)) AS converted,"
               " (SELECT max(o.time_ms) FROM orders o WHERE o.visit_id = s.visit_id) AS last_order,"
               " (SELECT max(c.time_ms) FROM hits c WHERE c.visit_id = s.visit_id"
               "   AND c.kind = 'cart_update') AS last_cart,"
               " (SELECT h.url FROM hits h WHERE h.visit_id = s.visit_id AND h.kind = 'pageview'"
               "   ORDER BY h.time_ms LIMIT 1) AS entry_url"
               " FROM hits s WHERE s.flags & 1") &&
           sql("ALTER TABLE visits ADD COLUMN status TEXT") &&
           sql("UPDATE visits SET status = CASE WHEN last_order IS NULL THEN"
               " CASE WHEN last_cart IS NULL THEN 'none' ELSE 'abandonedCart' END"
               " WHEN last_cart > last_order THEN 'orderedThenAbandonedCart' ELSE 'ordered' END");
}

/* ---- segments ------------------------------------------------------------------- */

/* A segment in Matomo's syntax (values URL-encoded) and the same in SQL as
 * a condition on the visit v. */
struct segment_pair {
    char text[1024];
    char where[8192];
};

static const char *const text_ops[] = {"==", "!=", "=@", "!@", "=^", "=$"};
static const char *const number_ops[] = {"==", "!=", ">", "<", ">=", "<="};

/* SQL for "x OP 'value'" with the engine's meaning of each operator. */
static void text_condition(char *out, size_t n, const char *x, const char *op, const char *value)
{
    if (!strcmp(op, "=="))
        snprintf(out, n, "%s = '%s'", x, value);
    else if (!strcmp(op, "!="))
        snprintf(out, n, "%s <> '%s'", x, value);
    else if (!strcmp(op, "=@"))
        snprintf(out, n, "instr(lower(%s), lower('%s')) > 0", x, value);
    else if (!strcmp(op, "!@"))
        snprintf(out, n, "instr(lower(%s), lower('%s')) = 0", x, value);
    else if (!strcmp(op, "=^"))
        snprintf(out, n, "substr(lower(%s), 1, %zu) = lower('%s')", x, strlen(value), value);
    else
        snprintf(out, n, "(length(%s) >= %zu AND substr(lower(%s), -%zu) = lower('%s'))", x,
                 strlen(value), x, strlen(value), value);
}

/* The text dimensions the segments use, with values as stored and parts
 * of values (for =@ !@ =^ =$ only). An action dimension names the kind of
 * action it looks at. */
static const struct text_dimension {
    const char *name, *column, *action_kind;
    const char *whole[6], *parts[8];
} text_dimensions[] = {
    {"countryCode", "v.country", NULL, {"de", "us", "cr", "fr", "jp", "nz"}, {"d", "r", "u"}},
    {"deviceType", "v.device", NULL, {"desktop", "smartphone", "tablet"}, {"top", "phone", "t"}},
    {"referrerType",
     "v.rtype_name",
     NULL,
     {"direct", "website", "search", "social", "campaign"},
     {"ct", "s", "ial"}},
    {"pageUrl",
     "a.url",
     "pageview",
     {SITE "/", SITE "/about", SITE "/blog/post-3", SITE "/shop/item-1", SITE "/shop/item-12"},
     {"blog", "item-1", "/shop/", "ABOUT", "-2", SITE "/shop", "https://", "post-1"}},
    {"eventCategory",
     "a.event_category",
     "event",
     {"video", "form", "cta", "download-bar"},
     {"o", "VIDEO", "bar", "c"}},
};

static const char *pick_value(const char *const *values, size_t max)
{
    size_t n = 0;
    while (n < max && values[n])
        n++;
    return values[below((int)n)];
}

/* One random condition: its text and SQL. */
static void random_condition(char *text, size_t tn, char *where, size_t wn)
{
    static const char *const statuses[] = {"none", "ordered", "abandonedCart",
                                           "orderedThenAbandonedCart"};
    int dimension = below(9);
    if (dimension == 7) {
        const bool equal = chance(70);
        const char *status = PICK(statuses);
        snprintf(where, wn, "v.status %s '%s'", equal ? "=" : "<>", status);
        snprintf(text, tn, "visitEcommerceStatus%s%s", equal ? "==" : "!=", status);
        return;
    }
    if (dimension == 8) {
        int goal = 1 + below(GOALS);
        if (chance(40)) {
            snprintf(where, wn, "v.converted = %d", goal % 2);
            snprintf(text, tn, "visitConverted==%d", goal % 2);
        } else {
            snprintf(where, wn,
                     "EXISTS (SELECT 1 FROM conversions c WHERE c.visit_id = v.visit_id"
                     " AND c.goal = %d)",
                     goal);
            snprintf(text, tn, "visitConvertedGoalId==%d", goal);
        }
        return;
    }
    if (dimension >= 5) {
        const bool visits = dimension == 5;
        const char *op = PICK(number_ops);
        int number = visits ? 1 + below(4) : 1 + below(8);
        snprintf(where, wn, "v.%s %s %d", visits ? "visit_count" : "actions",
                 !strcmp(op, "==") ? "=" : op, number);
        snprintf(text, tn, "%s%s%d", visits ? "visitCount" : "actions", op, number);
        return;
    }
    const struct text_dimension *d = &text_dimensions[dimension];
    const char *op = PICK(text_ops);
    const bool exact = !strcmp(op, "==") || !strcmp(op, "!=");
    const char *value = exact || chance(50) ? pick_value(d->whole, 6) : pick_value(d->parts, 8);
    char cond[600], encoded[256];
    if (d->action_kind) {
        const bool negated = !strcmp(op, "!=") || !strcmp(op, "!@");
        text_condition(cond, sizeof cond, d->column,
                       !strcmp(op, "!=")   ? "=="
                       : !strcmp(op, "!@") ? "=@"
                                           : op,
                       value);
        snprintf(where, wn,
                 "%sEXISTS (SELECT 1 FROM hits a WHERE a.visit_id = v.visit_id"
                 " AND a.kind = '%s' AND %s)",
                 negated ? "NOT " : "", d->action_kind, cond);
    } else {
        text_condition(where, wn, d->column, op, value);
    }
    url_encode(value, encoded, sizeof encoded);
    snprintf(text, tn, "%s%s%s", d->name, op, encoded);
}

/* 1 to 3 conditions joined by ';' (AND), each an OR of 1 or 2 (','). */
static void random_segment(struct segment_pair *s)
{
    s->text[0] = '\0';
    snprintf(s->where, sizeof s->where, "1");
    int groups = 1 + below(3);
    for (int g = 0; g < groups; g++) {
        int alternatives = chance(35) ? 2 : 1;
        char group_where[2500] = "";
        for (int i = 0; i < alternatives; i++) {
            char text[300], where[1200];
            random_condition(text, sizeof text, where, sizeof where);
            size_t tl = strlen(s->text);
            snprintf(s->text + tl, sizeof s->text - tl, "%s%s", i ? "," : (g ? ";" : ""), text);
            size_t wl = strlen(group_where);
            snprintf(group_where + wl, sizeof group_where - wl, "%s(%s)", i ? " OR " : "", where);
        }
        size_t wl = strlen(s->where);
        snprintf(s->where + wl, sizeof s->where - wl, " AND (%s)", group_where);
    }
}

/* ---- comparing -------------------------------------------------------------------- */

static json_t *api(const char *segment, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *api(const char *segment, const char *fmt, ...)
{
    char query[1024], encoded[3200], target[4800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(query, sizeof query, fmt, ap);
    va_end(ap);
    url_encode(segment, encoded, sizeof encoded);
    snprintf(target, sizeof target,
             "/index.php?module=API&idSite=1&format=json&token_auth=%s&filter_limit=-1"
             "&segment=%s&%s",
             token, encoded, query);
    struct http_reply r = {0};
    json_t *j = NULL;
    if (http_request(server.port, "GET", target, "", NULL, 0, &r) == 0 && r.status == 200)
        j = json_loads(r.body.data, 0, NULL);
    if (!j) printf("# %s: %d %.300s\n", target, r.status, r.body.data ? r.body.data : "");
    http_reply_free(&r);
    return j;
}

/* Rows of a query, each a key and some numbers, sorted by key. */
struct keyed {
    char key[160];
    long long v[5];
};
struct table {
    struct keyed rows[256];
    int count;
};

static int by_key(const void *a, const void *b)
{
    return strcmp(((const struct keyed *)a)->key, ((const struct keyed *)b)->key);
}

static void sql_table(const char *query, int values, struct table *t)
{
    sqlite3_stmt *st;
    t->count = 0;
    if (sqlite3_prepare_v2(db, query, -1, &st, NULL) != SQLITE_OK) {
        printf("# SQL error: %s in %.400s\n", sqlite3_errmsg(db), query);
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW && t->count < 256) {
        struct keyed *k = &t->rows[t->count++];
        const unsigned char *key = sqlite3_column_text(st, 0);
        snprintf(k->key, sizeof k->key, "%s", key ? (const char *)key : "");
        for (int i = 0; i < values; i++)
            k->v[i] = sqlite3_column_int64(st, i + 1);
    }
    sqlite3_finalize(st);
    qsort(t->rows, (size_t)t->count, sizeof *t->rows, by_key);
}

/* key_of turns a row of the API's answer into the reference's key. */
typedef void (*key_fn)(const json_t *row, char *key, size_t n);

static void api_table(const json_t *rows, key_fn key_of, const char *const *columns, int values,
                      struct table *t)
{
    size_t i;
    json_t *r;
    t->count = 0;
    json_array_foreach(rows, i, r)
    {
        if (t->count == 256) break;
        struct keyed *k = &t->rows[t->count++];
        key_of(r, k->key, sizeof k->key);
        for (int c = 0; c < values; c++)
            k->v[c] = (long long)json_number_value(json_object_get(r, columns[c]));
    }
    qsort(t->rows, (size_t)t->count, sizeof *t->rows, by_key);
}

/* Prints the first difference; true when the tables are equal. */
static bool same_tables(const char *what, const char *segment, const struct table *engine,
                        const struct table *ref, const char *const *columns, int values)
{
    int i = 0, j = 0;
    while (i < engine->count || j < ref->count) {
        int c = i == engine->count ? 1
                : j == ref->count  ? -1
                                   : strcmp(engine->rows[i].key, ref->rows[j].key);
        if (c != 0) {
            const struct keyed *k = c < 0 ? &engine->rows[i] : &ref->rows[j];
            printf("# segment '%s', %s: row '%s' (%s %lld) is only in the %s\n", segment, what,
                   k->key, columns[0], k->v[0], c < 0 ? "engine's answer" : "SQL reference");
            return false;
        }
        for (int v = 0; v < values; v++)
            if (engine->rows[i].v[v] != ref->rows[j].v[v]) {
                printf("# segment '%s', %s: row '%s' %s: engine %lld, SQL %lld\n", segment, what,
                       engine->rows[i].key, columns[v], engine->rows[i].v[v], ref->rows[j].v[v]);
                return false;
            }
        i++, j++;
    }
    return true;
}

static char range_where[128];
static struct segment_pair segments[SEGMENTS + 1];

static void make_segments(void)
{
    snprintf(range_where, sizeof range_where, "v.start_ms >= %lld AND v.start_ms < %lld",
             (long long)tz_day_start_ms(site_tz, first_day),
             (long long)tz_day_start_ms(site_tz, first_day + DAYS));
    /* segments[0] is no segment at all. */
    snprintf(segments[0].where, sizeof segments[0].where, "1");
    for (int i = 1; i <= SEGMENTS; i++)
        random_segment(&segments[i]);
}

static const char *const summary_columns[] = {
    "nb_visits",        "nb_uniq_visitors",    "nb_users",     "nb_actions",
    "nb_pageviews",     "nb_uniq_pageviews",   "bounce_count", "max_actions",
    "sum_visit_length", "nb_visits_converted",
};
#define SUMMARY_VALUES 10

/* The overview's numbers from SQL, for visits matching where. */
static void sql_summary(const char *where, long long out[SUMMARY_VALUES])
{
    char q[9000];
    snprintf(q, sizeof q,
             "SELECT count(*), count(DISTINCT visitor), count(DISTINCT nullif(user_id, '')),"
             " coalesce(sum(actions), 0), coalesce(sum(pageviews), 0),"
             " coalesce(sum(uniq_pageviews), 0), coalesce(sum(actions = 1), 0),"
             " coalesce(max(actions), 0), coalesce(sum((end_ms - start_ms) / 1000), 0),"
             " coalesce(sum(converted), 0) FROM visits v WHERE %s",
             where);
    sqlite3_stmt *st;
    memset(out, 0, SUMMARY_VALUES * sizeof *out);
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
        printf("# SQL error: %s in %.400s\n", sqlite3_errmsg(db), q);
        return;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        for (int i = 0; i < SUMMARY_VALUES; i++)
            out[i] = sqlite3_column_int64(st, i);
    sqlite3_finalize(st);
}

static bool same_summary(const char *what, const char *segment, const json_t *engine,
                         const long long ref[SUMMARY_VALUES])
{
    for (int i = 0; i < SUMMARY_VALUES; i++) {
        json_t *v = json_object_get(engine, summary_columns[i]);
        if (!json_is_number(v) || (long long)json_number_value(v) != ref[i]) {
            char *text = json_dumps(engine, JSON_COMPACT);
            printf("# segment '%s', %s: %s engine %s, SQL %lld\n", segment, what,
                   summary_columns[i], text ? text : "(no answer)", ref[i]);
            free(text);
            return false;
        }
    }
    return true;
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_days_without_segment(void)
{
    /* Each local day alone, and the evolution over the five: the day
     * boundaries (one of them 23 hours long) must agree. */
    json_t *evolution = api("", "method=VisitsSummary.get&period=day&date=" FIRST_DAY "," LAST_DAY);
    ASSERT_TRUE(json_is_object(evolution));
    int bad = 0;
    for (int d = 0; d < DAYS; d++) {
        char where[256], label[11];
        snprintf(where, sizeof where, "v.start_ms >= %lld AND v.start_ms < %lld",
                 (long long)tz_day_start_ms(site_tz, first_day + d),
                 (long long)tz_day_start_ms(site_tz, first_day + d + 1));
        long long ref[SUMMARY_VALUES];
        sql_summary(where, ref);
        format_date(first_day + d, label);
        json_t *one = api("", "method=VisitsSummary.get&period=day&date=%s", label);
        bad += !same_summary(label, "", one, ref);
        bad += !same_summary("evolution", "", json_object_get(evolution, label), ref);
        json_decref(one);
    }
    json_decref(evolution);
    ASSERT_EQ_INT(bad, 0);
}

/* Actions.get, whose pageviews are the overview's (ref) and whose other
 * counts, kept per visit by the index, are counted here from the hits. */
static bool same_actions_summary(const char *where, const char *segment,
                                 const long long ref[SUMMARY_VALUES])
{
    static const char *const columns[] = {
        "nb_pageviews", "nb_uniq_pageviews", "nb_downloads", "nb_uniq_downloads",
        "nb_outlinks", "nb_uniq_outlinks", "nb_events", "nb_content_interactions",
    };
    long long want[8] = {ref[4], ref[5]};
    char q[9000];
    snprintf(q, sizeof q,
             "SELECT coalesce(sum(h.kind = 'download'), 0),"
             " count(DISTINCT CASE h.kind WHEN 'download' THEN h.visit_id || ' ' || h.target_url END),"
             " coalesce(sum(h.kind = 'outlink'), 0),"
             " count(DISTINCT CASE h.kind WHEN 'outlink' THEN h.visit_id || ' ' || h.target_url END),"
             " coalesce(sum(h.kind = 'event'), 0), coalesce(sum(h.kind = 'content_interaction'), 0)"
             " FROM hits h JOIN visits v ON v.visit_id = h.visit_id WHERE %s",
             where);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
        printf("# SQL error: %s in %.400s\n", sqlite3_errmsg(db), q);
        return false;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        for (int i = 0; i < 6; i++)
            want[2 + i] = sqlite3_column_int64(st, i);
    sqlite3_finalize(st);
    json_t *a = api(segment, "method=Actions.get&period=range&date=" FIRST_DAY "," LAST_DAY);
    bool same = true;
    for (int i = 0; i < 8 && same; i++) {
        json_int_t got = json_integer_value(json_object_get(a, columns[i]));
        if (got != want[i]) {
            printf("# segment '%s', Actions.get %s: engine %lld, SQL %lld\n", segment, columns[i],
                   (long long)got, want[i]);
            same = false;
        }
    }
    if (!*segment)
        printf("# Actions.get: %lld downloads (%lld unique), %lld outlinks (%lld unique), %lld events\n",
               want[2], want[3], want[4], want[5], want[6]);
    json_decref(a);
    return same;
}

static void test_visits_summary(void)
{
    int bad = 0;
    for (int i = 0; i <= SEGMENTS; i++) {
        char where[8400];
        snprintf(where, sizeof where, "%s AND %s", range_where, segments[i].where);
        long long ref[SUMMARY_VALUES];
        sql_summary(where, ref);
        json_t *s = api(segments[i].text,
                        "method=VisitsSummary.get&period=range&date=" FIRST_DAY "," LAST_DAY);
        bad += !same_summary("VisitsSummary.get", segments[i].text, s, ref);
        json_decref(s);
        bad += !same_actions_summary(where, segments[i].text, ref);
    }
    ASSERT_EQ_INT(bad, 0);
}

static void label_key(const json_t *row, char *key, size_t n)
{
    snprintf(key, n, "%s", json_string_value(json_object_get(row, "label")));
}

static void country_key(const json_t *row, char *key, size_t n)
{
    const char *code = json_string_value(json_object_get(row, "code"));
    snprintf(key, n, "%s", !code || !strcmp(code, "xx") ? "" : code);
}

/* "Desktop" -> "desktop": the stored device type. */
static void device_key(const json_t *row, char *key, size_t n)
{
    snprintf(key, n, "%s", json_string_value(json_object_get(row, "label")));
    for (char *p = key; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
}

static void channel_key(const json_t *row, char *key, size_t n)
{
    static const char *const labels[] = {"Direct Entry",   "Websites",        "Campaigns",
                                         "Search Engines", "Social Networks", "AI Assistants",
                                         "Email",          "Paid Search",     "Paid Social"};
    const char *label = json_string_value(json_object_get(row, "label"));
    snprintf(key, n, "?%s", label ? label : "");
    for (size_t i = 0; label && i < sizeof labels / sizeof *labels; i++)
        if (!strcmp(label, labels[i])) snprintf(key, n, "%zu", i);
}

struct report {
    const char *method, *sql; /* sql: key, values...; %s is the WHERE on v */
    key_fn key_of;
    const char *columns[4];
    int values;
};

static const struct report reports[] = {
    {"Actions.getPageUrls&flat=1",
     "SELECT substr(a.url, length('" SITE "') + 1), count(*), count(DISTINCT a.visit_id),"
     " count(DISTINCT v.visitor) FROM hits a JOIN visits v ON v.visit_id = a.visit_id"
     " WHERE a.kind = 'pageview' AND %s GROUP BY 1",
     label_key,
     {"nb_hits", "nb_visits", "nb_uniq_visitors"},
     3},
    {"UserCountry.getCountry",
     "SELECT v.country, count(*), count(DISTINCT v.visitor), sum(v.actions) FROM visits v"
     " WHERE %s GROUP BY 1",
     country_key,
     {"nb_visits", "nb_uniq_visitors", "nb_actions"},
     3},
    {"DevicesDetection.getType",
     "SELECT v.device, count(*), count(DISTINCT v.visitor), sum(v.actions) FROM visits v"
     " WHERE %s GROUP BY 1",
     device_key,
     {"nb_visits", "nb_uniq_visitors", "nb_actions"},
     3},
    {"Actions.getEntryPageUrls&flat=1",
     "SELECT substr(v.entry_url, length('" SITE "') + 1), count(*), sum(v.actions),"
     " sum(v.actions = 1) FROM visits v WHERE v.entry_url IS NOT NULL AND %s GROUP BY 1",
     label_key,
     {"entry_nb_visits", "entry_nb_actions", "entry_bounce_count"},
     3},
    {"Events.getCategory",
     "SELECT a.event_category, count(*), count(DISTINCT a.visit_id), count(DISTINCT v.visitor)"
     " FROM hits a JOIN visits v ON v.visit_id = a.visit_id WHERE a.kind = 'event' AND %s"
     " GROUP BY 1",
     label_key,
     {"nb_events", "nb_visits", "nb_uniq_visitors"},
     3},
    {"Referrers.getReferrerType",
     "SELECT v.rtype, count(*), count(DISTINCT v.visitor), sum(v.actions),"
     " sum(v.actions = 1) FROM visits v WHERE %s GROUP BY 1",
     channel_key,
     {"nb_visits", "nb_uniq_visitors", "nb_actions", "bounce_count"},
     4},
};

static int compare_report(const struct report *rep)
{
    int bad = 0;
    static struct table engine, ref;
    for (int i = 0; i <= SEGMENTS; i++) {
        char where[8400], q[9600];
        snprintf(where, sizeof where, "%s AND %s", range_where, segments[i].where);
        snprintf(q, sizeof q, rep->sql, where);
        sql_table(q, rep->values, &ref);
        json_t *rows = api(segments[i].text, "method=%s&period=range&date=" FIRST_DAY "," LAST_DAY,
                           rep->method);
        api_table(rows, rep->key_of, rep->columns, rep->values, &engine);
        if (!json_is_array(rows)) {
            printf("# segment '%s', %s: no rows\n", segments[i].text, rep->method);
            bad++;
        } else if (!same_tables(rep->method, segments[i].text, &engine, &ref, rep->columns,
                                rep->values)) {
            bad++;
        }
        json_decref(rows);
    }
    return bad;
}

static void test_pages(void)
{
    ASSERT_EQ_INT(compare_report(&reports[0]), 0);
}
static void test_countries(void)
{
    ASSERT_EQ_INT(compare_report(&reports[1]), 0);
}
static void test_device_types(void)
{
    ASSERT_EQ_INT(compare_report(&reports[2]), 0);
}
static void test_entry_pages(void)
{
    ASSERT_EQ_INT(compare_report(&reports[3]), 0);
}
static void test_event_categories(void)
{
    ASSERT_EQ_INT(compare_report(&reports[4]), 0);
}
static void test_channels(void)
{
    ASSERT_EQ_INT(compare_report(&reports[5]), 0);
}

/* ---- goals and ecommerce ---- */

static long long cents(const json_t *v)
{
    return json_is_number(v) ? llround(json_number_value(v) * 100) : -1;
}

/* Numbers of one SQL row. */
static void sql_numbers(const char *query, long long *out, int n)
{
    sqlite3_stmt *st;
    memset(out, 0, (size_t)n * sizeof *out);
    if (sqlite3_prepare_v2(db, query, -1, &st, NULL) != SQLITE_OK) {
        printf("# SQL error: %s in %.400s\n", sqlite3_errmsg(db), query);
        return;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        for (int i = 0; i < n; i++)
            out[i] = sqlite3_column_int64(st, i);
    sqlite3_finalize(st);
}

/* Goals.get for idGoal (NULL: every goal and orders; "N"; "ecommerceOrder";
 * "ecommerceAbandonedCart"): conversions, visits converted, revenue in
 * cents, items, against SQL over the visits where holds. */
static bool same_goals(const char *segment, const char *where, const char *id_goal)
{
    static const char *const columns[] = {"nb_conversions", "nb_visits_converted", "revenue",
                                          "items"};
    char q[12000], from[2000];
    const bool ecommerce = id_goal && !strcmp(id_goal, "ecommerceOrder");
    const bool abandoned = id_goal && !strcmp(id_goal, "ecommerceAbandonedCart");
    if (abandoned)
        snprintf(from, sizeof from,
                 "SELECT c.visit_id, 1 AS n, c.revenue, c.items FROM visits cv JOIN hits c"
                 " ON c.visit_id = cv.visit_id AND c.kind = 'cart_update'"
                 " AND c.time_ms = cv.last_cart"
                 " WHERE cv.status IN ('abandonedCart', 'orderedThenAbandonedCart')");
    else if (ecommerce || !id_goal)
        snprintf(from, sizeof from,
                 "SELECT visit_id, 1 AS n, coalesce(revenue, 0) AS revenue, items FROM orders%s",
                 id_goal ? "" : " UNION ALL SELECT visit_id, n, revenue, '[]' FROM conversions");
    else
        snprintf(from, sizeof from,
                 "SELECT visit_id, n, revenue, '[]' AS items FROM conversions WHERE goal = %s",
                 id_goal);
    snprintf(q, sizeof q,
             "SELECT coalesce(sum(c.n), 0), count(DISTINCT c.visit_id),"
             " coalesce(round(sum(c.revenue) * 100), 0),"
             " coalesce(sum((SELECT sum(json_extract(i.value, '$[4]')) FROM json_each(c.items) i)),"
             " 0) FROM (%s) c JOIN visits v ON v.visit_id = c.visit_id WHERE %s",
             from, where);
    long long ref[4];
    sql_numbers(q, ref, 4);
    json_t *engine = api(segment, "method=Goals.get&period=range&date=" FIRST_DAY "," LAST_DAY
                                  "%s%s",
                         id_goal ? "&idGoal=" : "", id_goal ? id_goal : "");
    int checked = ecommerce || abandoned ? 4 : 3;
    bool same = json_is_object(engine);
    for (int i = 0; same && i < checked; i++) {
        json_t *v = json_object_get(engine, columns[i]);
        long long got = i == 2 ? cents(v) : json_is_number(v) ? (long long)json_number_value(v) : -1;
        if (got != ref[i]) {
            char *text = json_dumps(engine, JSON_COMPACT);
            printf("# segment '%s', Goals.get idGoal=%s: %s engine %lld, SQL %lld in %.300s\n",
                   segment, id_goal ? id_goal : "", columns[i], got, ref[i], text);
            free(text);
            same = false;
        }
    }
    if (!json_is_object(engine)) printf("# segment '%s', Goals.get idGoal=%s: no answer\n", segment,
                                         id_goal ? id_goal : "");
    json_decref(engine);
    return same;
}

static void test_goals(void)
{
    int bad = 0;
    for (int i = 0; i <= SEGMENTS; i++) {
        char where[8400];
        snprintf(where, sizeof where, "%s AND %s", range_where, segments[i].where);
        bad += !same_goals(segments[i].text, where, NULL);
        if (i % 10) continue;
        for (int g = 1; g <= GOALS; g++) {
            char id[16];
            snprintf(id, sizeof id, "%d", g);
            bad += !same_goals(segments[i].text, where, id);
        }
        bad += !same_goals(segments[i].text, where, "ecommerceOrder");
        bad += !same_goals(segments[i].text, where, "ecommerceAbandonedCart");
    }
    ASSERT_EQ_INT(bad, 0);
}

/* Goals.getItemsSku: quantity, orders and revenue of the ordered lines,
 * and the visits that viewed the product. */
static void test_items(void)
{
    static const char *const columns[] = {"quantity", "orders", "revenue", "nb_visits"};
    static struct table engine, ref;
    int bad = 0;
    for (int i = 0; i <= SEGMENTS; i++) {
        char where[8400], q[20000];
        snprintf(where, sizeof where, "%s AND %s", range_where, segments[i].where);
        snprintf(q, sizeof q,
                 "WITH lines AS (SELECT json_extract(i.value, '$[0]') AS sku,"
                 "   json_extract(i.value, '$[4]') AS quantity,"
                 "   json_extract(i.value, '$[3]') * json_extract(i.value, '$[4]') AS revenue,"
                 "   o.seq FROM orders o JOIN visits v ON v.visit_id = o.visit_id,"
                 "   json_each(o.items) i WHERE %s),"
                 " views AS (SELECT h.product_sku AS sku, h.visit_id FROM hits h"
                 "   JOIN visits v ON v.visit_id = h.visit_id"
                 "   WHERE h.kind = 'pageview' AND h.product_sku <> '' AND %s)"
                 " SELECT s.sku,"
                 " (SELECT coalesce(sum(quantity), 0) FROM lines l WHERE l.sku = s.sku),"
                 " (SELECT count(DISTINCT seq) FROM lines l WHERE l.sku = s.sku),"
                 " (SELECT coalesce(round(sum(revenue) * 100), 0) FROM lines l WHERE l.sku = s.sku),"
                 " (SELECT count(DISTINCT visit_id) FROM views w WHERE w.sku = s.sku)"
                 " FROM (SELECT sku FROM lines UNION SELECT sku FROM views) s",
                 where, where);
        sql_table(q, 4, &ref);
        json_t *rows = api(segments[i].text,
                           "method=Goals.getItemsSku&period=range&date=" FIRST_DAY "," LAST_DAY);
        api_table(rows, label_key, columns, 4, &engine);
        size_t k;
        json_t *row;
        json_array_foreach(rows, k, row) /* revenue in cents, as the reference */
            for (int e = 0; e < engine.count; e++)
                if (!strcmp(engine.rows[e].key, json_string_value(json_object_get(row, "label"))))
                    engine.rows[e].v[2] = cents(json_object_get(row, "revenue"));
        if (!json_is_array(rows)) {
            printf("# segment '%s', Goals.getItemsSku: no rows\n", segments[i].text);
            bad++;
        } else if (!same_tables("Goals.getItemsSku", segments[i].text, &engine, &ref, columns, 4)) {
            bad++;
        }
        json_decref(rows);
    }
    ASSERT_EQ_INT(bad, 0);
}

/* ---- funnels ---------------------------------------------------------------------- */

/* Step conditions for random funnels: a `tally funnel add --step` without
 * its name and flags, and the same in SQL over a hit h, where path is the
 * pageview's path (without the query) and conditions ignore ASCII case as
 * the patterns do unless case-sensitive. */
#define H_PATH                                                                                     \
    "(CASE WHEN instr(substr(h.url, 25), '?') THEN substr(substr(h.url, 25), 1,"                  \
    " instr(substr(h.url, 25), '?') - 1) ELSE substr(h.url, 25) END)"
static const struct {
    const char *step, *sql;
} step_pool[] = {
    {"path|exact|/", "h.kind = 'pageview' AND " H_PATH " IN ('', '/')"},
    {"path|starts-with|/blog", "h.kind = 'pageview' AND " H_PATH " LIKE '/blog%'"},
    {"url|contains|/SHOP/ITEM-1", "h.kind = 'pageview' AND instr(lower(h.url), '/shop/item-1') > 0"},
    {"url|regex|item-[0-9]$", "h.kind = 'pageview' AND h.url GLOB '*item-[0-9]'"},
    {"event-action|exact|play", "h.kind = 'event' AND lower(h.event_action) = 'play'"},
    {"event-category|starts-with|VID", "h.kind = 'event' AND lower(h.event_category) LIKE 'vid%'"},
    {"title|regex|^Page /(about|contact)$",
     "h.kind = 'pageview' AND lower(h.title) IN ('page /about', 'page /contact')"},
    {"goal||1", "h.kind = 'goal' AND h.goal_id = 1"},
    {"goal||2", "(h.kind = 'pageview' AND instr(lower(h.url), '/shop/item-1') > 0)"
                " OR (h.kind = 'goal' AND h.goal_id = 2)"},
    {"goal||5", "(h.kind = 'download' AND lower(h.target_url) LIKE '%.pdf')"
                " OR (h.kind = 'goal' AND h.goal_id = 5)"},
};
#define FUNNELS 6
#define FUNNEL_STEPS 5

static struct random_funnel {
    int steps;
    int pool[FUNNEL_STEPS];
    bool required[FUNNEL_STEPS];
} funnels[FUNNELS];

/* Random funnels through the CLI, after the data arrived; true once the
 * server serves the last one. */
static bool define_funnels(void)
{
    struct buf cmd, out;
    buf_init(&cmd);
    buf_init(&out);
    bool ok = true;
    for (int f = 0; f < FUNNELS && ok; f++) {
        struct random_funnel *rf = &funnels[f];
        rf->steps = 2 + below(FUNNEL_STEPS - 1);
        buf_reset(&cmd);
        buf_printf(&cmd, "funnel add --data %s --site 1 --name F%d", data_dir, f + 1);
        for (int k = 0; k < rf->steps; k++) {
            rf->pool[k] = below((int)(sizeof step_pool / sizeof *step_pool));
            rf->required[k] = chance(40);
            buf_printf(&cmd, " --step 'S%d|%s%s'", k + 1, step_pool[rf->pool[k]].step,
                       rf->required[k] ? "|required" : "");
        }
        buf_reset(&out);
        ok = run_tally(&out, "%s", cmd.data) == 0;
        if (!ok) printf("# %s: %s\n", cmd.data, out.data);
    }
    for (int i = 0; ok && i < 100; i++) {
        json_t *j = api("", "method=Funnels.getMetrics&idFunnel=%d&period=day&date=today", FUNNELS);
        json_decref(j);
        if (j) break;
        usleep(100000);
        ok = i < 99;
    }
    buf_free(&cmd);
    buf_free(&out);
    return ok;
}

/* Each visit's walk through each funnel, as docs/funnels.md says: actions
 * in time order (then arrival); an action reaches the steps it matches
 * among those after the furthest one reached, up to and including the
 * first required one. fstate keeps where each visit ended: entry and last
 * step (-1: never entered) and the steps reached (bits). */
static bool load_funnel_reference(void)
{
    bool ok = sql("CREATE TABLE fdef (funnel INTEGER, k INTEGER, required INTEGER)") &&
              sql("CREATE TABLE fsteps (funnel INTEGER, visit_id INTEGER, pos INTEGER, bits INTEGER)");
    for (int f = 0; f < FUNNELS && ok; f++) {
        struct buf q;
        buf_init(&q);
        buf_printf(&q, "INSERT INTO fsteps SELECT %d, h.visit_id, row_number() OVER"
                       " (PARTITION BY h.visit_id ORDER BY h.time_ms, h.seq), 0", f + 1);
        for (int k = 0; k < funnels[f].steps; k++)
            buf_printf(&q, " | (CASE WHEN %s THEN %d ELSE 0 END)", step_pool[funnels[f].pool[k]].sql,
                       1 << k);
        buf_puts(&q, " FROM hits h");
        ok = sql(q.data);
        for (int k = 0; k < funnels[f].steps && ok; k++) {
            buf_reset(&q);
            buf_printf(&q, "INSERT INTO fdef VALUES (%d, %d, %d)", f + 1, k, funnels[f].required[k]);
            ok = sql(q.data);
        }
        buf_free(&q);
    }
#define HIT_BITS "(s.bits & (SELECT r.mask FROM freach r WHERE r.funnel = w.funnel AND r.last = w.last))"
    return ok && sql("CREATE INDEX fsteps_walk ON fsteps (funnel, visit_id, pos)") &&
           sql("CREATE TABLE freach AS SELECT l.funnel, l.last, coalesce((SELECT sum(1 << s.k)"
               " FROM fdef s WHERE s.funnel = l.funnel AND s.k > l.last AND NOT EXISTS (SELECT 1"
               " FROM fdef r WHERE r.funnel = s.funnel AND r.required AND r.k > l.last"
               " AND r.k < s.k)), 0) AS mask"
               " FROM (SELECT funnel, k AS last FROM fdef UNION SELECT funnel, -1 FROM fdef) l") &&
           sql("CREATE TABLE fstate AS WITH RECURSIVE walk (funnel, visit_id, pos, last, reached,"
               " entry) AS (SELECT DISTINCT funnel, visit_id, 0, -1, 0, -1 FROM fsteps"
               " UNION ALL SELECT w.funnel, w.visit_id, s.pos,"
               " CASE WHEN " HIT_BITS " >= 16 THEN 4 WHEN " HIT_BITS " >= 8 THEN 3"
               "  WHEN " HIT_BITS " >= 4 THEN 2 WHEN " HIT_BITS " >= 2 THEN 1"
               "  WHEN " HIT_BITS " = 1 THEN 0 ELSE w.last END,"
               " w.reached | " HIT_BITS ","
               " CASE WHEN w.entry >= 0 OR " HIT_BITS " = 0 THEN w.entry"
               "  WHEN " HIT_BITS " & 1 THEN 0 WHEN " HIT_BITS " & 2 THEN 1"
               "  WHEN " HIT_BITS " & 4 THEN 2 WHEN " HIT_BITS " & 8 THEN 3 ELSE 4 END"
               " FROM walk w JOIN fsteps s ON s.funnel = w.funnel AND s.visit_id = w.visit_id"
               " AND s.pos = w.pos + 1)"
               " SELECT funnel, visit_id, last, reached, entry FROM walk"
               " WHERE (funnel, visit_id, pos) IN (SELECT funnel, visit_id, max(pos) FROM fsteps"
               " GROUP BY funnel, visit_id)");
#undef HIT_BITS
}

static void step_key(const json_t *row, char *key, size_t n)
{
    snprintf(key, n, "%lld", (long long)json_number_value(json_object_get(row, "step_position")));
}

/* Funnels.getFunnelFlow's counts per step against fstate, for the visits
 * where holds. */
static bool same_flow(const char *segment, const char *where, int f)
{
    static const char *const columns[] = {"step_nb_visits", "step_nb_entries",
                                          "step_nb_proceeded", "step_nb_exits",
                                          "step_nb_skipped"};
    static struct table engine, ref;
    char q[20000];
    snprintf(q, sizeof q,
             "SELECT d.k + 1, count(CASE WHEN s.reached >> d.k & 1 THEN 1 END),"
             " count(CASE WHEN s.entry = d.k THEN 1 END),"
             " count(CASE WHEN s.reached >> d.k & 1 AND d.k < s.last THEN 1 END),"
             " count(CASE WHEN s.reached >> d.k & 1 AND d.k = s.last AND d.k < %d THEN 1 END),"
             " count(CASE WHEN NOT s.reached >> d.k & 1 AND d.k > s.entry AND d.k < s.last"
             "  THEN 1 END)"
             " FROM fdef d LEFT JOIN (SELECT s.* FROM fstate s JOIN visits v"
             "  ON v.visit_id = s.visit_id WHERE s.funnel = %d AND s.entry >= 0 AND %s) s ON 1"
             " WHERE d.funnel = %d GROUP BY d.k",
             funnels[f].steps - 1, f + 1, where, f + 1);
    sql_table(q, 5, &ref);
    json_t *rows = api(segment, "method=Funnels.getFunnelFlow&idFunnel=%d&period=range&date="
                       FIRST_DAY "," LAST_DAY, f + 1);
    api_table(rows, step_key, columns, 5, &engine);
    char what[64];
    snprintf(what, sizeof what, "Funnels.getFunnelFlow of funnel %d", f + 1);
    bool same = json_is_array(rows) && same_tables(what, segment, &engine, &ref, columns, 5);
    json_decref(rows);
    return same;
}

static void test_funnels(void)
{
    int bad = 0;
    for (int i = 0; i <= SEGMENTS; i++) {
        char where[8400];
        snprintf(where, sizeof where, "%s AND %s", range_where, segments[i].where);
        for (int f = 0; f < FUNNELS; f++) bad += !same_flow(segments[i].text, where, f);
    }
    ASSERT_EQ_INT(bad, 0);
    /* The funnels are not degenerate: journeys enter, some get through. */
    long long n[3];
    sql_numbers("SELECT count(*), count(CASE WHEN entry > 0 THEN 1 END),"
                " count(DISTINCT funnel) FROM fstate WHERE last >= 1",
                n, 3);
    printf("# funnels: %lld journeys past their first step, %lld entered mid-way, %lld funnels\n",
           n[0], n[1], n[2]);
    ASSERT_TRUE(n[0] > 20);
    ASSERT_TRUE(n[1] > 0);
}

/* The data has what the goal and ecommerce checks need. */
static void test_conversions_are_varied(void)
{
    long long n[8];
    sql_numbers("SELECT (SELECT count(*) FROM orders),"
                " (SELECT count(*) FROM hits WHERE kind = 'ecommerce_order') - (SELECT count(*) FROM orders),"
                " (SELECT count(*) FROM visits WHERE status = 'abandonedCart'),"
                " (SELECT count(*) FROM visits WHERE status = 'orderedThenAbandonedCart'),"
                " (SELECT count(DISTINCT goal) FROM conversions),"
                " (SELECT count(*) FROM conversions WHERE n > 1),"
                " (SELECT count(*) FROM hits WHERE kind = 'goal' AND revenue IS NULL),"
                " (SELECT count(*) FROM hits WHERE product_sku <> '')",
                n, 8);
    printf("# %lld orders, %lld duplicates, %lld abandoned carts, %lld ordered then abandoned,"
           " %lld goals converted, %lld repeated conversions, %lld conversions without revenue,"
           " %lld product views\n",
           n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]);
    for (int i = 0; i < 8; i++)
        ASSERT_TRUE(n[i] > (i == 4 ? GOALS - 1 : 2));
}

/* A restarted server builds its index from the store (sealed days and
 * the log) instead of hit by hit as they arrive: the same answers. */
static void test_after_restart(void)
{
    server_stop(&server);
    ASSERT_EQ_INT(server_start(&server, data_dir, server_args), 0);
    int bad = 0;
    for (int i = 0; i <= SEGMENTS; i++) {
        char where[8400];
        snprintf(where, sizeof where, "%s AND %s", range_where, segments[i].where);
        long long ref[SUMMARY_VALUES];
        sql_summary(where, ref);
        json_t *s = api(segments[i].text,
                        "method=VisitsSummary.get&period=range&date=" FIRST_DAY "," LAST_DAY);
        bad += !same_summary("VisitsSummary.get after a restart", segments[i].text, s, ref);
        json_decref(s);
    }
    ASSERT_EQ_INT(bad, 0);
    ASSERT_EQ_INT(compare_report(&reports[0]), 0);
    /* Order ids de-duplicated and the visitors' purchases rebuilt from the store. */
    bad = 0;
    for (int i = 0; i <= SEGMENTS; i += 5) {
        char where[8400];
        snprintf(where, sizeof where, "%s AND %s", range_where, segments[i].where);
        bad += !same_goals(segments[i].text, where, NULL);
        bad += !same_goals(segments[i].text, where, "ecommerceOrder");
        for (int f = 0; f < FUNNELS; f++) bad += !same_flow(segments[i].text, where, f);
    }
    ASSERT_EQ_INT(bad, 0);
}

/* The data set is not degenerate: the segments select a spread of visits. */
static void test_segments_are_varied(void)
{
    int empty = 0, all = 0;
    long long total[SUMMARY_VALUES];
    sql_summary(range_where, total);
    for (int i = 1; i <= SEGMENTS; i++) {
        char where[8400];
        snprintf(where, sizeof where, "%s AND %s", range_where, segments[i].where);
        long long n[SUMMARY_VALUES];
        sql_summary(where, n);
        empty += n[0] == 0;
        all += n[0] == total[0];
    }
    printf("# %lld visits; of %d segments %d select none and %d select all\n", total[0], SEGMENTS,
           empty, all);
    ASSERT_TRUE(total[0] > 500);
    ASSERT_TRUE(empty < SEGMENTS / 4);
    ASSERT_TRUE(all < SEGMENTS / 4);
}

static bool start(void)
{
    char root[1024], cmd[2600];
    ssize_t n = readlink("/proc/self/exe", root, sizeof root - 1);
    if (n <= 0) return false;
    root[n] = '\0';
    for (int up = 0; up < 3; up++)
        *strrchr(root, '/') = '\0';
    if (harness_tmpdir(data_dir) || harness_tmpdir(geo_dir)) return false;
    snprintf(cmd, sizeof cmd, "perl '%s/tests/make-test-mmdb.pl' '%s'", root, geo_dir);
    if (system(cmd) != 0) return false;
    if (tz_load(TZ_NAME, &site_tz) || parse_date(FIRST_DAY, &first_day)) return false;
    struct buf out;
    buf_init(&out);
    int rc = run_tally(&out, "site add --data %s --name Shop --url " SITE " --timezone " TZ_NAME,
                       data_dir);
    buf_free(&out);
    if (rc || harness_token_create(data_dir, 1, token)) return false;
    for (int g = 0; g < GOALS; g++) {
        if (!goal_defs[g].cli) continue;
        buf_init(&out);
        rc = run_tally(&out, "goal add --data %s --site 1 %s", data_dir, goal_defs[g].cli);
        if (rc) printf("# goal add %s: %s\n", goal_defs[g].cli, out.data);
        buf_free(&out);
        if (rc) return false;
    }
    snprintf(server_args, sizeof server_args, "--geoip %s/flat.mmdb", geo_dir);
    return server_start(&server, data_dir, server_args) == 0;
}

/* The goals defined after the data arrived: they count it all the same. */
static bool define_late_goals(void)
{
    for (int g = 0; g < GOALS; g++) {
        if (!goal_defs[g].api) continue;
        json_t *j = api("", "method=Goals.addGoal&%s", goal_defs[g].api);
        bool ok = json_integer_value(json_object_get(j, "value")) == g + 1;
        json_decref(j);
        if (!ok) return false;
    }
    return true;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("# seed %u\n", SEED);
    if (!start()) {
        printf("Bail out! cannot start a server with the test geo database\n");
        return 1;
    }
    make_data();
    bool ready = send_data() && define_late_goals() && define_funnels() && load_reference() &&
                 load_funnel_reference();
    for (size_t i = 0; i < pending_count; i++)
        free(pending[i].query);
    free(pending);
    if (!ready) {
        server_log_tail(&server, 3000);
        printf("Bail out! the data did not reach the store or the reference\n");
        server_stop(&server);
        return 1;
    }
    make_segments();
    TEST_RUN(test_segments_are_varied);
    TEST_RUN(test_days_without_segment);
    TEST_RUN(test_visits_summary);
    TEST_RUN(test_pages);
    TEST_RUN(test_countries);
    TEST_RUN(test_device_types);
    TEST_RUN(test_entry_pages);
    TEST_RUN(test_event_categories);
    TEST_RUN(test_channels);
    TEST_RUN(test_conversions_are_varied);
    TEST_RUN(test_goals);
    TEST_RUN(test_items);
    TEST_RUN(test_funnels);
    TEST_RUN(test_after_restart);
    server_stop(&server);
    sqlite3_close(db);
    tz_free(site_tz);
    harness_rmtree(data_dir);
    harness_rmtree(geo_dir);
    return TEST_DONE();
}
