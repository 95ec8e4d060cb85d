/* Ecommerce through the real server: the product reports (Goals.getItemsSku,
 * getItemsName, getItemsCategory, for orders and abandoned carts), order
 * de-duplication, abandoned carts across visits, the lifecycle segment
 * dimensions, and Customers.get. Every expected number is computed by hand
 * below from the hits the test sends (times forced with cdt and a token,
 * visitors fixed with cid). Both sites are in UTC.
 *
 * Site 1, "Shop": one day, D = 2025-03-10. Items are
 * [sku, name, category, price, quantity]; TEA1 is in two categories.
 *
 *   TEA1  "Green Tea"  ["Tea","Green"]     MUG  "Mug"  "Kitchen"
 *   BLK   "Black Tea"  "Tea"               CUP  (no name, no category; only viewed)
 *
 *   visit  time   hits
 *   A1     10:00  view TEA1, view TEA1 again, order O1: TEA1 10 x2, MUG 10 x1 (30)
 *   B1     11:00  view MUG, view TEA1, cart: MUG 10 x3 (30)
 *   C1     12:00  view TEA1, order O2: TEA1 12 x1, TEA1 12 x1, BLK 8 x5 (64),
 *                 order O1 again (a duplicate: not counted)
 *   D1     13:00  view CUP (SKU only), view BLK, category page "Kitchen"
 *   A2     15:00  page, order O1 again (duplicate, in another visit), cart: TEA1 10 x1 (10)
 *   E1     16:00  page, order O3: BLK 8 x1 (8), cart: MUG 10 x1 (10)
 *   F1     17:00  page, cart: BLK 8 x2 (16), order O4: BLK 8 x2 (16)
 *   G1     18:00  page, cart: MUG 10 x1 (10)
 *   G2     20:00  view MUG, order O5: MUG 10 x1 (10)
 *
 * Statuses: ordered A1 C1 F1 G2 (cart then order in one visit: ordered);
 * abandonedCart B1, A2 (its only order was a duplicate), G1 (cart in visit
 * 1, order in visit 2); orderedThenAbandonedCart E1; none D1.
 * Orders counted: O1 (A1), O2, O3, O4, O5. Abandoned carts: B1, A2, E1, G1.
 *
 * Site 2, "Customers": the period is March 2025 (ends 2025-04-01 00:00).
 * Each visit is a page at 09:00 (10:00 for S2, P1, U1) and its orders at
 * :05. Channels: direct unless said.
 *
 *   visitor (cid)        visits
 *   S (...f6)  S1 2024-10-01 website, order 50;  S2 2024-12-01 10:00, page
 *   R (...c3)  R1 2024-11-01 search, order 100;  R2 2024-12-01, order 100;
 *              R3 2025-02-01, order 100;  R4 2025-03-15, order 100
 *   Q (...b2)  Q1 2025-01-10, order 20;  Q2 2025-03-08, order 30
 *   X (...99)  X1 2025-01-20 campaign, order 25
 *   Y (...aa)  Y1 2025-02-10, order 10
 *   T (...e5)  T1 2025-02-20 campaign, order 50;  T2 2025-03-20, page
 *   P (...a1)  P1 2025-03-05 10:00 search, order 50
 *   V (...77)  V1 2025-03-06, page (never orders)
 *   W (...88)  W1 2025-03-07, cart;  W2 2025-04-05, order 70 (after the period)
 *   U (...d4)  U1 2025-03-12 10:00, four orders of 5
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>

#include "../src/query/query.h"
#include "harness.h"
#include "test.h"

#define SHOP "https%3A%2F%2Fshop.example.com"
#define SHOPF "https%%3A%%2F%%2Fshop.example.com" /* in a format */
#define UA "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"

static struct server server;
static char data_dir[256];
static char tokens[3][33]; /* per site */

/* The Reporting API of this test's server. */
static char *api_raw(unsigned site, int *status, const char *query)
{
    return api_get(&server, tokens[site], site, query, status);
}
static json_t *api(unsigned site, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *api(unsigned site, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *j = api_jsonv(&server, tokens[site], site, fmt, ap);
    va_end(ap);
    return j;
}

/* ---- HTTP and JSON ------------------------------------------------------------- */

/* Percent-encodes s (for ec_items and _pkc). */
static const char *enc(const char *s)
{
    static char out[4][2048];
    static int next;
    char *o = out[next++ % 4];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n + 4 < sizeof out[0]; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.')
            o[n++] = (char)*p;
        else
            n += (size_t)snprintf(o + n, 4, "%%%02X", *p);
    }
    o[n] = '\0';
    return o;
}

/* UTC seconds of "YYYY-MM-DD" at h:m. */
static int64_t at(const char *date, int h, int m)
{
    int64_t day = 0;
    if (parse_date(date, &day)) abort();
    return day * 86400 + h * 3600 + m * 60;
}

static bool track(unsigned site, const char *cid, int64_t t, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool track(unsigned site, const char *cid, int64_t t, const char *fmt, ...)
{
    char params[3000], query[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(params, sizeof params, fmt, ap);
    va_end(ap);
    snprintf(query, sizeof query, "idsite=%u&rec=1&send_image=0&%s&cid=%s&cdt=%lld&token_auth=%s",
             site, params, cid, (long long)t, tokens[site]);
    return track_get(&server, query, UA) == 204;
}

/* The labels of rows in order, "a,b,c". */
static const char *labels(const json_t *rows)
{
    static char text[512];
    text[0] = '\0';
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        size_t len = strlen(text);
        const char *l = json_string_value(json_object_get(r, "label"));
        snprintf(text + len, sizeof text - len, "%s%s", i ? "," : "", l ? l : "?");
    }
    return text;
}

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        TEST_RUN(fn);                                                                              \
        keep(NULL);                                                                                \
    } while (0)

/* nb_visits of VisitsSummary.get under a segment (already encoded once for
 * the URL), or -1. */
static long visits_in(unsigned site, const char *period_date, const char *segment)
{
    json_t *s = api(site, "method=VisitsSummary.get&%s&segment=%s", period_date, enc(segment));
    long n = s ? (long)json_integer_value(json_object_get(s, "nb_visits")) : -1;
    json_decref(s);
    return n;
}

/* ---- the data ------------------------------------------------------------------ */

#define D "2025-03-10"
#define ITEM_TEA1(price, qty) "[\"TEA1\",\"Green Tea\",[\"Tea\",\"Green\"]," #price "," #qty "]"
#define ITEM_MUG(qty) "[\"MUG\",\"Mug\",\"Kitchen\",10," #qty "]"
#define ITEM_BLK(qty) "[\"BLK\",\"Black Tea\",\"Tea\",8," #qty "]"
#define O1_ITEMS "[" ITEM_TEA1(10, 2) "," ITEM_MUG(1) "]"

static const char *const A = "0000000000000a01", *const B = "0000000000000b01",
                  *const C = "0000000000000c01", *const DV = "0000000000000d01",
                  *const E = "0000000000000e01", *const F = "0000000000000f01",
                  *const G = "0000000000000a07";

static bool view(const char *cid, int64_t t, const char *sku, const char *name, const char *cat)
{
    return track(1, cid, t, "url=" SHOPF "%%2Fp%%2F%s&action_name=Product&_pks=%s&_pkn=%s&_pkc=%s",
                 enc(*sku ? sku : cat), enc(sku), enc(name), enc(cat));
}
static bool page(unsigned site, const char *cid, int64_t t)
{
    return track(site, cid, t, "url=" SHOPF "%%2F&action_name=Home");
}
static bool order(unsigned site, const char *cid, int64_t t, const char *id, const char *revenue,
                  const char *items)
{
    return track(site, cid, t, "idgoal=0&ec_id=%s&revenue=%s&ec_items=%s&url=" SHOPF "%%2Fthanks",
                 id, revenue, enc(items));
}
static bool cart(const char *cid, int64_t t, const char *revenue, const char *items)
{
    return track(1, cid, t, "idgoal=0&revenue=%s&ec_items=%s&url=" SHOPF "%%2Fcart", revenue,
                 enc(items));
}

/* Two days later, hits sent out of time order: H's cart (10:03) arrives
 * after its order (10:05), I's order (11:05) after its cart (11:07). The
 * times decide: H ordered, I ordered then abandoned a cart. */
#define LATE "2025-03-12"
static const char *const H = "0000000000000a08", *const I = "0000000000000a09";
static bool send_late(void)
{
    return page(1, H, at(LATE, 10, 0)) && order(1, H, at(LATE, 10, 5), "O6", "8", "[" ITEM_BLK(1) "]") &&
           cart(H, at(LATE, 10, 3), "8", "[" ITEM_BLK(1) "]") && page(1, I, at(LATE, 11, 0)) &&
           cart(I, at(LATE, 11, 7), "10", "[" ITEM_MUG(1) "]") &&
           order(1, I, at(LATE, 11, 5), "O7", "8", "[" ITEM_BLK(1) "]");
}

static bool send_shop(void)
{
    const char *tea = "[\"Tea\",\"Green\"]";
    return view(A, at(D, 10, 0), "TEA1", "Green Tea", tea) &&
           view(A, at(D, 10, 1), "TEA1", "Green Tea", tea) &&
           order(1, A, at(D, 10, 5), "O1", "30", O1_ITEMS) &&
           view(B, at(D, 11, 0), "MUG", "Mug", "Kitchen") &&
           view(B, at(D, 11, 1), "TEA1", "Green Tea", tea) &&
           cart(B, at(D, 11, 5), "30", "[" ITEM_MUG(3) "]") &&
           view(C, at(D, 12, 0), "TEA1", "Green Tea", tea) &&
           order(1, C, at(D, 12, 5), "O2", "64",
                 "[" ITEM_TEA1(12, 1) "," ITEM_TEA1(12, 1) "," ITEM_BLK(5) "]") &&
           order(1, C, at(D, 12, 6), "O1", "30", O1_ITEMS) &&
           view(DV, at(D, 13, 0), "CUP", "", "") &&
           view(DV, at(D, 13, 1), "BLK", "Black Tea", "Tea") &&
           view(DV, at(D, 13, 2), "", "", "Kitchen") && page(1, A, at(D, 15, 0)) &&
           order(1, A, at(D, 15, 1), "O1", "30", O1_ITEMS) &&
           cart(A, at(D, 15, 2), "10", "[" ITEM_TEA1(10, 1) "]") && page(1, E, at(D, 16, 0)) &&
           order(1, E, at(D, 16, 5), "O3", "8", "[" ITEM_BLK(1) "]") &&
           cart(E, at(D, 16, 6), "10", "[" ITEM_MUG(1) "]") && page(1, F, at(D, 17, 0)) &&
           cart(F, at(D, 17, 1), "16", "[" ITEM_BLK(2) "]") &&
           order(1, F, at(D, 17, 5), "O4", "16", "[" ITEM_BLK(2) "]") && page(1, G, at(D, 18, 0)) &&
           cart(G, at(D, 18, 1), "10", "[" ITEM_MUG(1) "]") &&
           view(G, at(D, 20, 0), "MUG", "Mug", "Kitchen") &&
           order(1, G, at(D, 20, 5), "O5", "10", "[" ITEM_MUG(1) "]");
}

static const char *const S = "00000000000000f6", *const R = "00000000000000c3",
                  *const Q = "00000000000000b2", *const X = "0000000000000099",
                  *const Y = "00000000000000aa", *const T = "00000000000000e5",
                  *const P = "00000000000000a1", *const V = "0000000000000077",
                  *const W = "0000000000000088", *const U = "00000000000000d4";

#define GOOGLE "urlref=https%3A%2F%2Fwww.google.com%2Fsearch%3Fq%3Dtea"
#define BLOG "urlref=https%3A%2F%2Fblog.example.org%2Ftea"
#define SPRING "url=" SHOP "%2F%3Fmtm_campaign%3Dspring&action_name=Home"

/* A visit of site 2: its first page (with extra, e.g. a referrer) at h:00
 * and `orders` orders of `value` from h:05. */
static bool buyer_visit(const char *cid, const char *date, int h, const char *first_page,
                        const char *order_id, int orders, int value)
{
    bool ok = track(2, cid, at(date, h, 0), "%s", first_page);
    for (int k = 0; k < orders && ok; k++) {
        char id[64], revenue[16], items[128];
        snprintf(id, sizeof id, "%s-%d", order_id, k + 1);
        snprintf(revenue, sizeof revenue, "%d", value);
        snprintf(items, sizeof items, "[[\"SKU-%s\",\"Thing\",\"Things\",%d,1]]", order_id, value);
        ok = order(2, cid, at(date, h, 5 + k), id, revenue, items);
    }
    return ok;
}

static bool send_customers(void)
{
    const char *home = "url=" SHOP "%2F&action_name=Home";
    const char *google = "url=" SHOP "%2F&action_name=Home&" GOOGLE;
    const char *blog = "url=" SHOP "%2F&action_name=Home&" BLOG;
    /* In time order, as a live site sends them. */
    return buyer_visit(S, "2024-10-01", 9, blog, "S1", 1, 50) &&
           buyer_visit(R, "2024-11-01", 9, google, "R1", 1, 100) &&
           buyer_visit(R, "2024-12-01", 9, home, "R2", 1, 100) &&
           buyer_visit(S, "2024-12-01", 10, home, "S2", 0, 0) &&
           buyer_visit(Q, "2025-01-10", 9, home, "Q1", 1, 20) &&
           buyer_visit(X, "2025-01-20", 9, SPRING, "X1", 1, 25) &&
           buyer_visit(R, "2025-02-01", 9, home, "R3", 1, 100) &&
           buyer_visit(Y, "2025-02-10", 9, home, "Y1", 1, 10) &&
           buyer_visit(T, "2025-02-20", 9, SPRING, "T1", 1, 50) &&
           buyer_visit(P, "2025-03-05", 10, google, "P1", 1, 50) &&
           buyer_visit(V, "2025-03-06", 9, home, "V1", 0, 0) &&
           buyer_visit(W, "2025-03-07", 9, home, "W1", 0, 0) &&
           track(2, W, at("2025-03-07", 9, 5),
                 "idgoal=0&revenue=70&ec_items=%s&url=" SHOPF "%%2Fcart",
                 enc("[[\"SKU-W\",\"Thing\",\"Things\",70,1]]")) &&
           buyer_visit(Q, "2025-03-08", 9, home, "Q2", 1, 30) &&
           buyer_visit(U, "2025-03-12", 10, home, "U1", 4, 5) &&
           buyer_visit(R, "2025-03-15", 9, home, "R4", 1, 100) &&
           buyer_visit(T, "2025-03-20", 9, home, "T2", 0, 0) &&
           buyer_visit(W, "2025-04-05", 9, home, "W2", 1, 70);
}

static bool start(void)
{
    struct buf out;
    buf_init(&out);
    bool ok = harness_tmpdir(data_dir) == 0 &&
              run_tally(&out, "site add --data %s --name Shop --url https://shop.example.com "
                              "--timezone UTC --currency EUR",
                        data_dir) == 0 &&
              run_tally(&out, "site add --data %s --name Customers --url https://shop.example.com "
                              "--timezone UTC --currency EUR",
                        data_dir) == 0 &&
              harness_token_create(data_dir, 1, tokens[1]) == 0 &&
              harness_token_create(data_dir, 2, tokens[2]) == 0;
    if (!ok) printf("# set-up failed: %s\n", out.data ? out.data : "");
    buf_free(&out);
    return ok && server_start(&server, data_dir, "") == 0;
}

/* ---- products ------------------------------------------------------------------ */

#define DAY "period=day&date=" D

static void test_items_sku_orders(void)
{
    /* Orders O1 (A1), O2 (C1), O3 (E1), O4 (F1), O5 (G2); the duplicates of
     * O1 in C1 and A2 count nowhere.
     *   BLK   O2 8x5 + O3 8x1 + O4 8x2: revenue 64, quantity 8, orders 3,
     *         avg_price 64/8 = 8, avg_quantity 8/3 = 2.67; viewed in D1: 1 visit,
     *         conversion_rate 3/1 = 300% (orders per visit that viewed it)
     *   TEA1  O1 10x2 + O2 12x1 + 12x1 (two lines, one order): revenue 44,
     *         quantity 4, orders 2, avg_price 11, avg_quantity 2; viewed in A1
     *         (twice: one visit), B1, C1 = 3 visits; 2/3 = "66.67%"
     *   MUG   O1 10x1 + O5 10x1: 20, 2, orders 2, 10, 1; viewed B1, G2: 2; 100%
     *   CUP   viewed only (D1): 0, 0, 0; 1 visit; 0%
     * Sorted by revenue. */
    json_t *rows = keep(api(1, "method=Goals.getItemsSku&" DAY));
    ASSERT_ROWS(rows, 4);
    ASSERT_EQ_STR(labels(rows), "BLK,TEA1,MUG,CUP");
    ASSERT_ROW(rows, "BLK", "revenue=64 quantity=8 orders=3 avg_price=8 avg_quantity=2.67 "
                            "nb_visits=1 conversion_rate=300% abandoned_carts=-");
    ASSERT_ROW(rows, "TEA1", "revenue=44 quantity=4 orders=2 avg_price=11 avg_quantity=2 "
                             "nb_visits=3 conversion_rate=66.67% segment=productPurchasedSku==TEA1");
    ASSERT_ROW(rows, "MUG", "revenue=20 quantity=2 orders=2 avg_price=10 avg_quantity=1 "
                            "nb_visits=2 conversion_rate=100%");
    ASSERT_ROW(rows, "CUP", "revenue=0 quantity=0 orders=0 avg_price=0 avg_quantity=0 "
                            "nb_visits=1 conversion_rate=0%");
    /* Another day has none. */
    rows = keep(api(1, "method=Goals.getItemsSku&period=day&date=2025-03-11"));
    ASSERT_ROWS(rows, 0);
}

static void test_items_name_and_not_defined(void)
{
    /* Names follow the SKUs; CUP was viewed with no name: Matomo's "Product
     * Name not defined" row, 1 visit. D1's category page (no SKU, no name)
     * is no product view. */
    json_t *rows = keep(api(1, "method=Goals.getItemsName&" DAY));
    ASSERT_ROWS(rows, 4);
    ASSERT_EQ_STR(labels(rows), "Black Tea,Green Tea,Mug,Product Name not defined");
    ASSERT_ROW(rows, "Black Tea", "revenue=64 quantity=8 orders=3 nb_visits=1");
    ASSERT_ROW(rows, "Green Tea", "revenue=44 quantity=4 orders=2 nb_visits=3 "
                                  "segment=productPurchasedName==Green%20Tea");
    ASSERT_ROW(rows, "Mug", "revenue=20 orders=2 nb_visits=2");
    ASSERT_ROW(rows, "Product Name not defined", "revenue=0 orders=0 nb_visits=1");
}

static void test_items_category_multi(void)
{
    /* TEA1 counts under Tea and under Green.
     *   Tea      O1 TEA1 20, O2 TEA1 24 + BLK 40, O3 BLK 8, O4 BLK 16: revenue
     *            108, quantity 2+2+5+1+2 = 12, orders O1 O2 O3 O4 = 4 (O2 once for
     *            its three Tea lines), avg_price 9, avg_quantity 3; viewed: A1 B1
     *            C1 (TEA1), D1 (BLK) = 4 visits; 100%
     *   Green    TEA1 only: 44, 4, 2 orders, 11, 2; A1 B1 C1 = 3; "66.67%"
     *   Kitchen  MUG: 20, 2, 2, 10, 1; B1 and G2 (MUG), D1 (the category
     *            page) = 3; "66.67%"
     * CUP has no category: no "not defined" row. */
    json_t *rows = keep(api(1, "method=Goals.getItemsCategory&" DAY));
    ASSERT_ROWS(rows, 3);
    ASSERT_EQ_STR(labels(rows), "Tea,Green,Kitchen");
    ASSERT_ROW(rows, "Tea", "revenue=108 quantity=12 orders=4 avg_price=9 avg_quantity=3 "
                            "nb_visits=4 conversion_rate=100% segment=productPurchasedCategory==Tea");
    ASSERT_ROW(rows, "Green", "revenue=44 quantity=4 orders=2 avg_price=11 avg_quantity=2 "
                              "nb_visits=3 conversion_rate=66.67%");
    ASSERT_ROW(rows, "Kitchen", "revenue=20 quantity=2 orders=2 avg_price=10 avg_quantity=1 "
                                "nb_visits=3 conversion_rate=66.67%");
}

static void test_items_abandoned_carts(void)
{
    /* The carts left: B1 MUG 10x3, A2 TEA1 10x1, E1 MUG 10x1 (after its
     * order), G1 MUG 10x1. F1's cart became its order.
     *   MUG   revenue 50, quantity 5, abandoned_carts 3, avg_price 10,
     *         avg_quantity 5/3 = 1.67; viewed in 2 visits: 3/2 = 150%
     *   TEA1  10, 1, 1, 10, 1; 3 visits: "33.33%"
     *   BLK, CUP  viewed only: 0; by label */
    json_t *rows = keep(api(1, "method=Goals.getItemsSku&abandonedCarts=1&" DAY));
    ASSERT_ROWS(rows, 4);
    ASSERT_EQ_STR(labels(rows), "MUG,TEA1,BLK,CUP");
    ASSERT_ROW(rows, "MUG", "revenue=50 quantity=5 abandoned_carts=3 avg_price=10 "
                            "avg_quantity=1.67 nb_visits=2 conversion_rate=150% orders=- segment=-");
    ASSERT_ROW(rows, "TEA1", "revenue=10 quantity=1 abandoned_carts=1 avg_price=10 "
                             "avg_quantity=1 nb_visits=3 conversion_rate=33.33%");
    ASSERT_ROW(rows, "BLK", "revenue=0 abandoned_carts=0 nb_visits=1");
    /* Categories: Kitchen 50, 5, 3 carts, 3 visits (100%); Tea and Green
     * 10, 1, 1 cart, 4 and 3 visits (25%, 33.33%). */
    rows = keep(api(1, "method=Goals.getItemsCategory&abandonedCarts=1&" DAY));
    ASSERT_ROWS(rows, 3);
    ASSERT_ROW(rows, "Kitchen", "revenue=50 quantity=5 abandoned_carts=3 nb_visits=3 "
                                "conversion_rate=100%");
    ASSERT_ROW(rows, "Tea", "revenue=10 quantity=1 abandoned_carts=1 nb_visits=4 "
                            "conversion_rate=25%");
    ASSERT_ROW(rows, "Green", "revenue=10 abandoned_carts=1 nb_visits=3 conversion_rate=33.33%");
}

static void test_items_segment_and_truncate(void)
{
    /* New visits only (G2 is G's second): the orders O1..O4; MUG is left
     * with O1's line (10) and B1's view. */
    json_t *rows = keep(api(1, "method=Goals.getItemsSku&%s&segment=%s", DAY,
                            enc("visitorType==new")));
    ASSERT_ROW(rows, "MUG", "revenue=10 quantity=1 orders=1 nb_visits=1");
    ASSERT_ROW(rows, "BLK", "revenue=64 orders=3");
    /* The abandoned cart of E1 alone (ordered, then abandoned). */
    rows = keep(api(1, "method=Goals.getItemsSku&abandonedCarts=1&%s&segment=%s", DAY,
                    enc("visitEcommerceStatus==orderedThenAbandonedCart")));
    ASSERT_ROWS(rows, 1);
    ASSERT_ROW(rows, "MUG", "revenue=10 quantity=1 abandoned_carts=1 nb_visits=0 "
                            "conversion_rate=0%");
    /* Two rows, then "Others" summing MUG and CUP. */
    rows = keep(api(1, "method=Goals.getItemsSku&filter_truncate=2&" DAY));
    ASSERT_ROWS(rows, 3);
    ASSERT_EQ_STR(labels(rows), "BLK,TEA1,Others");
    ASSERT_ROW(rows, "Others", "revenue=20 quantity=2 orders=2 nb_visits=3");
}

/* ---- orders, carts and statuses ------------------------------------------------- */

static void test_order_deduplication(void)
{
    /* O1 was sent three times: in A1 (counted), again in C1 and in A2
     * (another visitor's visit, and another visit of A): neither counts. */
    ASSERT_EQ_INT(visits_in(1, DAY, "orderId==O1"), 1);
    ASSERT_EQ_INT(visits_in(1, DAY, "orderId==O1;visitEcommerceStatus==ordered;visitorType==new"),
                  1);
    /* C1's revenue is O2's 64, not 64 + 30. */
    ASSERT_EQ_INT(visits_in(1, DAY, "revenueOrder==64"), 1);
    ASSERT_EQ_INT(visits_in(1, DAY, "revenueOrder==94"), 0);
    /* Orders: A1 C1 E1 F1 G2. */
    ASSERT_EQ_INT(visits_in(1, DAY, "revenueOrder>0"), 5);
}

static void test_abandoned_cart_logic(void)
{
    /* Nine visits: ordered A1 C1 F1 G2; abandonedCart B1 A2 G1;
     * orderedThenAbandonedCart E1; none D1. */
    ASSERT_EQ_INT(visits_in(1, DAY, "visitEcommerceStatus==ordered"), 4);
    ASSERT_EQ_INT(visits_in(1, DAY, "visitEcommerceStatus==abandonedCart"), 3);
    ASSERT_EQ_INT(visits_in(1, DAY, "visitEcommerceStatus==orderedThenAbandonedCart"), 1);
    ASSERT_EQ_INT(visits_in(1, DAY, "visitEcommerceStatus==none"), 1);
    char seg[200];
    /* G: the cart in visit 1 is abandoned, visit 2 ordered. */
    snprintf(seg, sizeof seg, "visitorId==%s;visitEcommerceStatus==abandonedCart", G);
    ASSERT_EQ_INT(visits_in(1, DAY, seg), 1);
    snprintf(seg, sizeof seg, "visitorId==%s;visitEcommerceStatus==ordered;visitCount==2", G);
    ASSERT_EQ_INT(visits_in(1, DAY, seg), 1);
    /* F: cart, then the order, in one visit: ordered. */
    snprintf(seg, sizeof seg, "visitorId==%s;visitEcommerceStatus==ordered", F);
    ASSERT_EQ_INT(visits_in(1, DAY, seg), 1);
    /* E: the order, then a cart update. */
    snprintf(seg, sizeof seg, "visitorId==%s;visitEcommerceStatus==orderedThenAbandonedCart", E);
    ASSERT_EQ_INT(visits_in(1, DAY, seg), 1);
    /* A2: its only order a duplicate, then a cart: abandoned. */
    snprintf(seg, sizeof seg, "visitorId==%s;visitEcommerceStatus==abandonedCart", A);
    ASSERT_EQ_INT(visits_in(1, DAY, seg), 1);
}

static void test_status_follows_times(void)
{
    const char *day = "period=day&date=" LATE;
    ASSERT_EQ_INT(visits_in(1, day, ""), 2);
    ASSERT_EQ_INT(visits_in(1, day, "visitEcommerceStatus==ordered;visitorId==0000000000000a08"), 1);
    ASSERT_EQ_INT(visits_in(1, day, "visitEcommerceStatus==orderedThenAbandonedCart;visitorId==0000000000000a09"), 1);
}

/* The visitor log shows an order id sent again, marked, beside the first. */
static void test_visitor_log_marks_duplicates(void)
{
    json_t *visits = keep(api(1, "method=Live.getLastVisitsDetails&" DAY "&filter_limit=-1"));
    int o1 = 0, marked = 0;
    size_t i, k;
    json_t *v, *a;
    json_array_foreach(visits, i, v)
    {
        json_array_foreach(json_object_get(v, "actionDetails"), k, a)
        {
            const char *id = json_string_value(json_object_get(a, "orderId"));
            if (!id || strcmp(id, "O1") != 0) continue;
            o1++;
            marked += json_is_true(json_object_get(a, "duplicate"));
        }
    }
    /* O1 in A1 (counted), again in A1 and in A2 (duplicates). */
    ASSERT_EQ_INT(o1, 3);
    ASSERT_EQ_INT(marked, 2);
}

static void test_product_segments(void)
{
    /* TEA1: ordered in A1 C1 (A2's O1 is a duplicate); in an order or a
     * cart: A1 C1 A2; viewed: A1 B1 C1. */
    ASSERT_EQ_INT(visits_in(1, DAY, "productPurchasedSku==TEA1"), 2);
    ASSERT_EQ_INT(visits_in(1, DAY, "productSku==TEA1"), 3);
    ASSERT_EQ_INT(visits_in(1, DAY, "productViewSku==TEA1"), 3);
    /* MUG: ordered A1 G2; in an order or cart A1 B1 E1 G1 G2; viewed B1 G2. */
    ASSERT_EQ_INT(visits_in(1, DAY, "productPurchasedSku==MUG"), 2);
    ASSERT_EQ_INT(visits_in(1, DAY, "productSku==MUG"), 5);
    ASSERT_EQ_INT(visits_in(1, DAY, "productViewSku==MUG"), 2);
    /* Names and categories; a category of an array matches each. */
    ASSERT_EQ_INT(visits_in(1, DAY, "productPurchasedName==Black Tea"), 3);
    ASSERT_EQ_INT(visits_in(1, DAY, "productPurchasedCategory==Green"), 2);
    ASSERT_EQ_INT(visits_in(1, DAY, "productViewCategory==Kitchen"), 3);
    /* Visits that never bought TEA1: 9 - 2. */
    ASSERT_EQ_INT(visits_in(1, DAY, "productPurchasedSku!=TEA1"), 7);
}

/* ---- lifecycle segments (site 2, every visit) ------------------------------------ */

#define ALL "period=range&date=2024-09-01,2025-04-30"

static void test_lifecycle_visitor_type(void)
{
    /* 17 visits. New (a first visit): S1 R1 Q1 X1 Y1 T1 P1 V1 W1 U1 = 10.
     * Returning with an order before: R2 S2 R3 Q2 R4 T2 = 6
     * (returningCustomer). Returning without: W2 (W1 only had a cart). */
    ASSERT_EQ_INT(visits_in(2, ALL, ""), 17);
    ASSERT_EQ_INT(visits_in(2, ALL, "visitorType==new"), 10);
    ASSERT_EQ_INT(visits_in(2, ALL, "visitorType==returningCustomer"), 6);
    ASSERT_EQ_INT(visits_in(2, ALL, "visitorType==returning"), 1);
    /* Statuses: 13 ordered, W1 abandonedCart, S2 V1 T2 none. */
    ASSERT_EQ_INT(visits_in(2, ALL, "visitEcommerceStatus==ordered"), 13);
    ASSERT_EQ_INT(visits_in(2, ALL, "visitEcommerceStatus==abandonedCart"), 1);
    ASSERT_EQ_INT(visits_in(2, ALL, "visitEcommerceStatus==none"), 3);
}

static void test_lifecycle_days_since_order(void)
{
    /* Whole days from the last earlier order (at :05) to the visit's start:
     *   R2 2024-12-01 09:00 - R1 2024-11-01 09:05 = 29 (30 days less 5 min)
     *   S2 2024-12-01 10:00 - S1 2024-10-01 09:05 = 61
     *   R3 2025-02-01 09:00 - R2 2024-12-01 09:05 = 61
     *   Q2 2025-03-08 09:00 - Q1 2025-01-10 09:05 = 56
     *   R4 2025-03-15 09:00 - R3 2025-02-01 09:05 = 41
     *   T2 2025-03-20 09:00 - T1 2025-02-20 09:05 = 27
     * No order before: the other 11 ("==" with no value). */
    ASSERT_EQ_INT(visits_in(2, ALL, "daysSinceLastEcommerceOrder=="), 11);
    ASSERT_EQ_INT(visits_in(2, ALL, "daysSinceLastEcommerceOrder!="), 6);
    ASSERT_EQ_INT(visits_in(2, ALL, "daysSinceLastEcommerceOrder>=50"), 3);
    ASSERT_EQ_INT(visits_in(2, ALL, "daysSinceLastEcommerceOrder<30"), 2);
    ASSERT_EQ_INT(visits_in(2, ALL, "daysSinceLastEcommerceOrder==41"), 1);
    ASSERT_EQ_INT(visits_in(2, ALL, "daysSinceLastEcommerceOrder==61"), 2);
}

static void test_lifecycle_orders_and_revenue(void)
{
    /* Orders so far, this visit's included:
     *   S1 1, R1 1, R2 2, S2 1, Q1 1, X1 1, R3 3, Y1 1, T1 1, P1 1, V1 0,
     *   W1 0, Q2 2, U1 4, R4 4, T2 1, W2 1 */
    ASSERT_EQ_INT(visits_in(2, ALL, "visitorOrders>=4"), 2);
    ASSERT_EQ_INT(visits_in(2, ALL, "visitorOrders==0"), 2);
    ASSERT_EQ_INT(visits_in(2, ALL, "visitorOrders==2"), 2);
    /* buyerType: none 0, oneTime 1, occasional 2-3, frequent 4+. */
    ASSERT_EQ_INT(visits_in(2, ALL, "buyerType==none"), 2);
    ASSERT_EQ_INT(visits_in(2, ALL, "buyerType==oneTime"), 10);
    ASSERT_EQ_INT(visits_in(2, ALL, "buyerType==occasional"), 3);
    ASSERT_EQ_INT(visits_in(2, ALL, "buyerType==frequent"), 2);
    /* Revenue so far: S1 50, R1 100, R2 200, S2 50, Q1 20, X1 25, R3 300,
     * Y1 10, T1 50, P1 50, V1 0, W1 0, Q2 50, U1 20, R4 400, T2 50, W2 70. */
    ASSERT_EQ_INT(visits_in(2, ALL, "visitorRevenue>=100"), 4);
    ASSERT_EQ_INT(visits_in(2, ALL, "visitorRevenue==50"), 6);
    /* Average order value so far: Q2 (20 + 30) / 2 = 25 and X1 25; U1
     * 20 / 4 = 5 and Y1 10 below 20; V1 and W1 have none. */
    ASSERT_EQ_INT(visits_in(2, ALL, "visitorAverageOrderValue==25"), 2);
    ASSERT_EQ_INT(visits_in(2, ALL, "visitorAverageOrderValue<20"), 2);
    ASSERT_EQ_INT(visits_in(2, ALL, "visitorAverageOrderValue=="), 2);
}

/* ---- Customers.get --------------------------------------------------------------- */

#define MARCH "period=month&date=2025-03-01"

static void test_customers_stages(void)
{
    /* Customers as of 2025-04-01 (W's only order is after it; V never
     * ordered): S R Q X Y T P U.
     *   new       P (first order P1), U (four in U1, none before):
     *             2 customers, 5 orders, 70, avg 14, lifetime 5 and 70;
     *             first visits search and direct (a tie: the channel order)
     *   repeat    Q: Q2 30 in March, 2 orders in all (50)
     *   loyal     R: R4 100 in March, 4 in all (400); first visit search
     *   lapsed    S: no order in March, last visit 2024-12-01 10:00, 120 whole
     *             days before the end (> 90); lifetime 1, 50; website
     *   inactive  T (last visit 11 days before), X (70), Y (49): 3 customers,
     *             lifetime 3 orders, 50 + 25 + 10 = 85; campaign, campaign,
     *             direct */
    json_t *rows = keep(api(2, "method=Customers.get&" MARCH));
    ASSERT_ROWS(rows, 5);
    ASSERT_EQ_STR(labels(rows), "new,repeat,loyal,lapsed,inactive");
    ASSERT_ROW(rows, "new", "nb_customers=2 nb_orders=5 revenue=70 avg_order_value=14 "
                            "lifetime_orders=5 lifetime_revenue=70");
    ASSERT_ROW(rows, "new", "top_channels=Direct~Entry,~Search~Engines");
    ASSERT_ROW(rows, "repeat", "nb_customers=1 nb_orders=1 revenue=30 avg_order_value=30 "
                               "lifetime_orders=2 lifetime_revenue=50 segment=-");
    ASSERT_ROW(rows, "loyal", "nb_customers=1 nb_orders=1 revenue=100 avg_order_value=100 "
                              "lifetime_orders=4 lifetime_revenue=400");
    ASSERT_ROW(rows, "lapsed", "nb_customers=1 nb_orders=0 revenue=0 avg_order_value=0 "
                               "lifetime_orders=1 lifetime_revenue=50 top_channels=Websites");
    ASSERT_ROW(rows, "inactive", "nb_customers=3 nb_orders=0 revenue=0 lifetime_orders=3 "
                                 "lifetime_revenue=85");
    ASSERT_ROW(rows, "inactive", "top_channels=Campaigns,~Direct~Entry");
}

static const json_t *subtable(const json_t *rows, const char *label)
{
    return json_object_get(report_row(rows, label), "subtable");
}

static void test_customers_tiers(void)
{
    /* Lifetime revenue up to the end, most first; ties by more orders, then
     * the lower visitor id:
     *   R 400 (4 orders), Q 50 (2), P 50 (1, ..a1), T 50 (1, ..e5),
     *   S 50 (1, ..f6), X 25, U 20, Y 10
     * 8 customers: high while fewer than 20% (1.6) rank above: R, Q;
     * medium while fewer than 50% (4): P, T; low: S, X, U, Y. */
    json_t *rows = keep(api(2, "method=Customers.get&expanded=1&" MARCH));
    const json_t *tiers = subtable(rows, "new");
    ASSERT_ROWS(tiers, 3);
    ASSERT_EQ_STR(labels(tiers), "high,medium,low");
    ASSERT_ROW(tiers, "high", "nb_customers=0 nb_orders=0 revenue=0 lifetime_revenue=0 "
                              "top_channels=");
    ASSERT_ROW(tiers, "medium", "nb_customers=1 nb_orders=1 revenue=50 avg_order_value=50 "
                                "lifetime_orders=1 lifetime_revenue=50 top_channels=Search~Engines");
    ASSERT_ROW(tiers, "low", "nb_customers=1 nb_orders=4 revenue=20 avg_order_value=5 "
                             "lifetime_orders=4 lifetime_revenue=20 top_channels=Direct~Entry");
    ASSERT_ROW(subtable(rows, "repeat"), "high", "nb_customers=1 lifetime_revenue=50");
    ASSERT_ROW(subtable(rows, "repeat"), "medium", "nb_customers=0");
    ASSERT_ROW(subtable(rows, "loyal"), "high", "nb_customers=1 lifetime_revenue=400");
    /* S ties with T on revenue and orders: the lower id (T) is medium. */
    ASSERT_ROW(subtable(rows, "lapsed"), "low", "nb_customers=1 lifetime_revenue=50");
    ASSERT_ROW(subtable(rows, "lapsed"), "medium", "nb_customers=0");
    tiers = subtable(rows, "inactive");
    ASSERT_ROW(tiers, "medium", "nb_customers=1 lifetime_revenue=50 top_channels=Campaigns");
    ASSERT_ROW(tiers, "low", "nb_customers=2 lifetime_orders=2 lifetime_revenue=35 "
                             "top_channels=Direct~Entry,~Campaigns");
    /* flat=1: fifteen rows, stage - tier, in order. */
    rows = keep(api(2, "method=Customers.get&flat=1&" MARCH));
    ASSERT_ROWS(rows, 15);
    ASSERT_EQ_STR(json_string_value(json_object_get(json_array_get(rows, 0), "label")),
                  "new - high");
    ASSERT_ROW(rows, "inactive - low", "nb_customers=2 lifetime_revenue=35 idsubdatatable=-");
    ASSERT_ROW(rows, "repeat - high", "nb_customers=1 nb_orders=1 revenue=30");
    /* The same subtable by its id: the stages' subtables are 1 to 5. */
    rows = keep(api(2, "method=Customers.get&idSubtable=5&" MARCH));
    ASSERT_ROWS(rows, 3);
    ASSERT_ROW(rows, "low", "nb_customers=2 lifetime_revenue=35");
}

static void test_customers_lapsed_days(void)
{
    /* lapsedDays=30: X (70 days) and Y (49) join S; T (11) stays inactive.
     * The three first visits: website, campaign, direct, one each: in
     * the channel order, direct first. */
    json_t *rows = keep(api(2, "method=Customers.get&lapsedDays=30&" MARCH));
    ASSERT_ROW(rows, "lapsed", "nb_customers=3 lifetime_orders=3 lifetime_revenue=85 "
                               "top_channels=Direct~Entry,~Websites,~Campaigns");
    ASSERT_ROW(rows, "inactive", "nb_customers=1 lifetime_revenue=50 top_channels=Campaigns");
    ASSERT_ROW(rows, "new", "nb_customers=2");
    /* "More than N whole days": S's 120 days are lapsed for 119, not 120. */
    rows = keep(api(2, "method=Customers.get&lapsedDays=119&" MARCH));
    ASSERT_ROW(rows, "lapsed", "nb_customers=1");
    rows = keep(api(2, "method=Customers.get&lapsedDays=120&" MARCH));
    ASSERT_ROW(rows, "lapsed", "nb_customers=0 top_channels=");
    ASSERT_ROW(rows, "inactive", "nb_customers=4 lifetime_revenue=135");
    /* Refusals name the parameter and what it takes. */
    static const char *const bad[] = {"abc", "0", "3651", "-5", "1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char query[200];
        snprintf(query, sizeof query, "format=json&method=Customers.get&lapsedDays=%s&" MARCH,
                 bad[i]);
        int status;
        char *body = api_raw(2, &status, query);
        bool said = body && strstr(body, "lapsedDays: expected a whole number of days from 1 "
                                         "to 3650");
        if (status != 400 || !said)
            printf("# lapsedDays=%s: %d %.200s\n", bad[i], status, body ? body : "");
        free(body);
        ASSERT_EQ_INT(status, 400);
        ASSERT_TRUE(said);
    }
}

static void test_customers_new_segment(void)
{
    /* The new row's segment selects the visits of a first-ever order:
     * in March, P1 and U1, the two new customers. */
    json_t *rows = keep(api(2, "method=Customers.get&" MARCH));
    const char *segment = json_string_value(json_object_get(report_row(rows, "new"), "segment"));
    ASSERT_EQ_STR(segment, "daysSinceLastEcommerceOrder==;visitorOrders>=1");
    json_t *s = keep(api(2, "method=VisitsSummary.get&%s&segment=%s", MARCH, enc(segment)));
    ASSERT_FIELDS(s, "nb_visits=2 nb_uniq_visitors=2");
}

static void test_customers_with_segment(void)
{
    /* Only direct visits: S1 (website), R1 P1 (search), X1 T1 (campaign)
     * are left out. Customers: R (R2 R3 R4: 3 orders, 300), Q (Q1 Q2: 50),
     * U (U1: 4, 20), Y (Y1: 10). S and T ordered only in visits left out.
     *   new U; repeat Q and R (3 orders: not loyal here): March orders Q2
     *   and R4, 130, avg 65, lifetime 5 and 350; inactive Y.
     * Tiers of 4: R high (0 above), Q medium (1 above < 2), U and Y low. */
    json_t *rows = keep(api(2, "method=Customers.get&expanded=1&%s&segment=%s", MARCH,
                            enc("referrerType==direct")));
    ASSERT_ROW(rows, "new", "nb_customers=1 nb_orders=4 revenue=20 top_channels=Direct~Entry");
    ASSERT_ROW(rows, "repeat", "nb_customers=2 nb_orders=2 revenue=130 avg_order_value=65 "
                               "lifetime_orders=5 lifetime_revenue=350");
    ASSERT_ROW(rows, "loyal", "nb_customers=0");
    ASSERT_ROW(rows, "lapsed", "nb_customers=0");
    ASSERT_ROW(rows, "inactive", "nb_customers=1 lifetime_revenue=10");
    ASSERT_ROW(subtable(rows, "repeat"), "high", "nb_customers=1 lifetime_revenue=300");
    ASSERT_ROW(subtable(rows, "repeat"), "medium", "nb_customers=1 lifetime_revenue=50");
    ASSERT_ROW(subtable(rows, "new"), "low", "nb_customers=1");
}

static void test_customers_periods(void)
{
    /* February 2025 (as of 2025-03-01): customers S R Q X Y T.
     *   new: Y (Y1), T (T1), both first orders in February
     *   repeat/loyal: R3 is R's third order: repeat
     *   lapsed (> 90 days before 03-01): S (last visit 2024-12-01, 89 whole
     *   days: no) -> inactive; Q (Q1 2025-01-10) and X inactive.
     * So: new 2, repeat 1, loyal 0, lapsed 0, inactive S Q X = 3. */
    json_t *rows = keep(api(2, "method=Customers.get&period=month&date=2025-02-01"));
    ASSERT_ROW(rows, "new", "nb_customers=2 nb_orders=2 revenue=60");
    ASSERT_ROW(rows, "repeat", "nb_customers=1 nb_orders=1 revenue=100 lifetime_orders=3 "
                               "lifetime_revenue=300");
    ASSERT_ROW(rows, "loyal", "nb_customers=0");
    ASSERT_ROW(rows, "lapsed", "nb_customers=0");
    ASSERT_ROW(rows, "inactive", "nb_customers=3 lifetime_orders=3 lifetime_revenue=95");
    /* A day with no data before any visit: every stage, all zero. */
    rows = keep(api(2, "method=Customers.get&period=day&date=2024-01-01"));
    ASSERT_ROWS(rows, 5);
    ASSERT_ROW(rows, "inactive", "nb_customers=0 lifetime_revenue=0");
    /* CSV has the extras as columns. */
    int status;
    char *csv = api_raw(2, &status, "format=csv&method=Customers.get&" MARCH);
    bool header = csv && strstr(csv, "label,nb_customers,nb_orders,revenue,avg_order_value,"
                                     "lifetime_orders,lifetime_revenue,top_channels,segment");
    free(csv);
    ASSERT_EQ_INT(status, 200);
    ASSERT_TRUE(header);
}

static void test_customers_period_not_over(void)
{
    /* Z ordered 70 days (and an hour) ago and has not come back. For a
     * range from 60 days ago to 200 days ahead, Z's order is before the
     * period: no order within it. Lapsed is judged now, not at the range's
     * end 201 days ahead: 70 whole days, inactive for lapsedDays=100,
     * lapsed for 50. The customers of 2024-2025 (S R Q X Y T P U, and W
     * now: 9, lifetime revenue 725) are lapsed either way. */
    const char *Z = "00000000000000ff";
    int64_t t = now_ms() / 1000 - 70 * 86400 - 3600;
    ASSERT_TRUE(track(2, Z, t, "url=" SHOPF "%%2F&action_name=Home"));
    ASSERT_TRUE(order(2, Z, t + 300, "Z-1", "15", "[[\"SKU-Z\",\"Thing\",\"Things\",15,1]]"));
    int64_t today = now_ms() / MS_PER_DAY;
    char from[11], to[11];
    format_date(today - 60, from);
    format_date(today + 200, to);
    json_t *rows = keep(api(2, "method=Customers.get&period=range&date=%s,%s&lapsedDays=100", from,
                            to));
    ASSERT_ROW(rows, "inactive", "nb_customers=1 lifetime_revenue=15");
    ASSERT_ROW(rows, "lapsed", "nb_customers=9 lifetime_revenue=725");
    rows = keep(api(2, "method=Customers.get&period=range&date=%s,%s&lapsedDays=50", from, to));
    ASSERT_ROW(rows, "lapsed", "nb_customers=10 lifetime_revenue=740");
    ASSERT_ROW(rows, "inactive", "nb_customers=0");
}

/* The ecommerce overview counts what the product reports break down.
 *   orders O1..O5 in 5 of the 9 visits: revenue 30 + 64 + 8 + 16 + 10 = 128,
 *   items (quantities) 3 + 7 + 1 + 2 + 1 = 14 (the SKU rows' 8 + 4 + 2),
 *   128 / 5 = 25.6 per order, 14 / 5 = 2.8 items per order
 *   carts left in B1 A2 E1 G1: their cart totals 30 + 10 + 10 + 10 = 60,
 *   items 3 + 1 + 1 + 1 = 6 (the abandoned-cart rows' 5 + 1), 15 per cart */
static void test_overview_goals_get(void)
{
    json_t *o = keep(api(1, "method=Goals.get&idGoal=ecommerceOrder&" DAY));
    ASSERT_FIELDS(o, "nb_conversions=5 nb_visits_converted=5 revenue=128 items=14 "
                     "avg_order_revenue=25.6 items_per_order=2.8");
    o = keep(api(1, "method=Goals.get&idGoal=ecommerceAbandonedCart&" DAY));
    ASSERT_FIELDS(o, "nb_conversions=4 nb_visits_converted=4 revenue=60 items=6 "
                     "avg_order_revenue=15");
}

/* After a restart the index is rebuilt from the store: the same answers. */
static void test_after_restart(void)
{
    server_stop(&server);
    ASSERT_EQ_INT(server_start(&server, data_dir, ""), 0);
    json_t *rows = keep(api(1, "method=Goals.getItemsSku&" DAY));
    ASSERT_ROW(rows, "TEA1", "revenue=44 quantity=4 orders=2 nb_visits=3");
    ASSERT_ROW(rows, "BLK", "revenue=64 orders=3");
    ASSERT_EQ_INT(visits_in(1, DAY, "orderId==O1"), 1);
    ASSERT_EQ_INT(visits_in(1, DAY, "visitEcommerceStatus==abandonedCart"), 3);
    rows = keep(api(2, "method=Customers.get&" MARCH));
    ASSERT_ROW(rows, "new", "nb_customers=2 nb_orders=5");
    ASSERT_ROW(rows, "loyal", "nb_customers=1 lifetime_revenue=400");
}

int main(void)
{
    if (!start() || !send_shop() || !send_late() || !send_customers()) {
        printf("not ok 1 - set-up\n1..1\n");
        server_log_tail(&server, 4000);
        server_stop(&server);
        return 1;
    }
    RUN(test_items_sku_orders);
    RUN(test_items_name_and_not_defined);
    RUN(test_items_category_multi);
    RUN(test_items_abandoned_carts);
    RUN(test_items_segment_and_truncate);
    RUN(test_order_deduplication);
    RUN(test_abandoned_cart_logic);
    RUN(test_visitor_log_marks_duplicates);
    RUN(test_status_follows_times);
    RUN(test_product_segments);
    RUN(test_lifecycle_visitor_type);
    RUN(test_lifecycle_days_since_order);
    RUN(test_lifecycle_orders_and_revenue);
    RUN(test_customers_stages);
    RUN(test_customers_tiers);
    RUN(test_customers_lapsed_days);
    RUN(test_customers_new_segment);
    RUN(test_customers_with_segment);
    RUN(test_customers_periods);
    RUN(test_customers_period_not_over);
    RUN(test_overview_goals_get);
    RUN(test_after_restart);
    if (test_failed_total) server_log_tail(&server, 4000);
    server_stop(&server);
    harness_rmtree(data_dir);
    return TEST_DONE();
}
