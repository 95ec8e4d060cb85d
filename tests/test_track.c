/* track: parameters, percent-decoding, every hit kind and its precedence,
 * every refusal with its reason, cdt/cip and tokens, bulk bodies. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/config/config.h"
#include "../src/track/track.h"
#include "harness.h"
#include "test.h"

/* 2026-01-01 00:00:00 UTC */
#define NOW_MS 1767225600000LL
#define BASE "idsite=1&rec=1&"

static struct site site_items[2] = {
    {.id = 1,
     .name = "Shop",
     .urls = {"https://shop.example.com"},
     .url_count = 1,
     .timezone = "UTC",
     .currency = "EUR",
     .honour_dnt = true,
     .ipv4_mask_bytes = 2,
     .ipv6_mask_bits = 80},
    {.id = 2,
     .name = "Blog",
     .urls = {"https://blog.example.com"},
     .url_count = 1,
     .timezone = "UTC",
     .currency = "EUR",
     .honour_dnt = false,
     .ipv4_mask_bytes = 2,
     .ipv6_mask_bits = 80},
};
static const struct sites sites = {.items = site_items, .count = 2};

static struct arena arena;
static char err[512];
static struct track_request req;

static struct track_context context(void)
{
    return (struct track_context){
        .ip = "198.51.100.23",
        .user_agent = "HeaderAgent/1.0",
        .accept_language = "de-AT",
        .sec_ch_ua = "",
        .sec_ch_ua_mobile = "",
        .sec_ch_ua_platform = "",
        .sec_ch_ua_platform_version = "",
        .sec_ch_ua_model = "",
        .now_ms = NOW_MS,
        .token_auth = "",
    };
}

/* Decodes query and parses it into req; the query's own error code when it
 * does not decode. err holds the reason either way. */
static int parse_with(const char *query, const struct track_context *ctx,
                      const struct tokens *tokens)
{
    arena_reset(&arena);
    err[0] = '\0';
    struct track_params p;
    track_params_init(&p, &arena);
    int rc = track_params_parse_query(&p, query, strlen(query), err, sizeof err);
    if (rc) return rc;
    return track_parse(&p, ctx, &sites, NULL, tokens, &arena, &req, err, sizeof err);
}

static int parse(const char *query)
{
    struct track_context ctx = context();
    return parse_with(query, &ctx, NULL);
}

/* ---- parameters ---- */

static void test_params_decoding(void)
{
    struct track_params p;
    arena_reset(&arena);
    track_params_init(&p, &arena);
    const char *q = "?a=1&b=%20x+y%2B&&=skipped&flag&c=%C3%A9t%c3%a9&a=2&empty=";
    ASSERT_EQ_INT(track_params_parse_query(&p, q, strlen(q), err, sizeof err), 0);
    ASSERT_EQ_INT(p.count, 6);
    ASSERT_EQ_STR(p.items[0].name, "a");
    ASSERT_EQ_STR(p.items[1].value, " x y+");
    ASSERT_EQ_STR(p.items[2].name, "flag");
    ASSERT_EQ_STR(p.items[2].value, "");
    ASSERT_EQ_STR(track_params_get(&p, "c"), "\xc3\xa9t\xc3\xa9");
    ASSERT_EQ_STR(track_params_get(&p, "a"), "2"); /* the last one wins */
    ASSERT_EQ_STR(track_params_get(&p, "empty"), "");
    ASSERT_TRUE(track_params_get(&p, "missing") == NULL);
    ASSERT_TRUE(track_params_get(&p, "") == NULL);
}

static void test_params_length_is_respected(void)
{
    struct track_params p;
    arena_reset(&arena);
    track_params_init(&p, &arena);
    const char *q = "a=1&b=2&c=3";
    ASSERT_EQ_INT(track_params_parse_query(&p, q, 5, err, sizeof err), 0); /* "a=1&b" */
    ASSERT_EQ_INT(p.count, 2);
    ASSERT_EQ_STR(track_params_get(&p, "b"), "");
    ASSERT_TRUE(track_params_get(&p, "c") == NULL);
}

static void test_params_absolute_url(void)
{
    struct track_params p;
    arena_reset(&arena);
    track_params_init(&p, &arena);
    const char *q = "HTTPS://t.example.com/matomo.php?idsite=3&url=a%26b#rec=1";
    ASSERT_EQ_INT(track_params_parse_query(&p, q, strlen(q), err, sizeof err), 0);
    ASSERT_EQ_INT(p.count, 2);
    ASSERT_EQ_STR(track_params_get(&p, "idsite"), "3");
    ASSERT_EQ_STR(track_params_get(&p, "url"), "a&b");
    ASSERT_TRUE(track_params_get(&p, "rec") == NULL); /* the fragment is not the query */

    track_params_init(&p, &arena);
    q = "http://t.example.com/matomo.php";
    ASSERT_EQ_INT(track_params_parse_query(&p, q, strlen(q), err, sizeof err), 0);
    ASSERT_EQ_INT(p.count, 0);
    /* Not a URL: a name that merely starts like one. */
    track_params_init(&p, &arena);
    q = "httpx=1";
    ASSERT_EQ_INT(track_params_parse_query(&p, q, strlen(q), err, sizeof err), 0);
    ASSERT_EQ_STR(track_params_get(&p, "httpx"), "1");
}

static void test_params_malformed_escapes(void)
{
    struct track_params p;
    static const struct {
        const char *query, *reason;
    } cases[] = {
        {"url=100%zz", "parameter 'url' has a malformed percent escape \"%zz\""},
        {"url=ab%4", "parameter 'url' has a malformed percent escape \"%4\""},
        {"url=%", "parameter 'url' has a malformed percent escape \"%\""},
        {"u%g1=1", "a parameter name has a malformed percent escape \"%g1\""},
        {"url=a%00b", "parameter 'url' contains a NUL byte (%00)"},
        {"%00=1", "a parameter name contains a NUL byte"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        arena_reset(&arena);
        track_params_init(&p, &arena);
        err[0] = '\0';
        ASSERT_EQ_INT(
            track_params_parse_query(&p, cases[i].query, strlen(cases[i].query), err, sizeof err),
            -EINVAL);
        ASSERT_CONTAINS(err, cases[i].reason);
    }
    /* A raw NUL inside the given length is refused as well. */
    arena_reset(&arena);
    track_params_init(&p, &arena);
    ASSERT_EQ_INT(track_params_parse_query(&p, "url=a\0b", 7, err, sizeof err), -EINVAL);
    ASSERT_CONTAINS(err, "parameter 'url' contains a NUL byte");
    /* Hostile names are shown tamed. */
    arena_reset(&arena);
    track_params_init(&p, &arena);
    const char *q = "a%0Ab'c=%zz";
    ASSERT_EQ_INT(track_params_parse_query(&p, q, strlen(q), err, sizeof err), -EINVAL);
    ASSERT_CONTAINS(err, "parameter 'a?b?c'");
}

static void test_params_arena_limit(void)
{
    struct arena small;
    arena_init(&small, 256);
    struct track_params p;
    track_params_init(&p, &small);
    char q[2048];
    memset(q, 'x', sizeof q - 1);
    q[0] = 'a';
    q[1] = '=';
    q[sizeof q - 1] = '\0';
    ASSERT_EQ_INT(track_params_parse_query(&p, q, strlen(q), err, sizeof err), -ENOMEM);
    ASSERT_CONTAINS(err, "too large");
    arena_reset(&small);
    track_params_init(&p, &small);
    int rc = 0;
    for (int i = 0; i < 100 && !rc; i++)
        rc = track_params_add(&p, "name", "value");
    ASSERT_EQ_INT(rc, -ENOMEM);
    arena_free(&small);
}

static void test_params_add_copies(void)
{
    struct track_params p;
    arena_reset(&arena);
    track_params_init(&p, &arena);
    char name[8] = "idsite", value[8] = "5";
    for (int i = 0; i < 200; i++)
        ASSERT_EQ_INT(track_params_add(&p, "n", "v"), 0);
    ASSERT_EQ_INT(track_params_add(&p, name, value), 0);
    name[0] = 'X';
    value[0] = '9';
    ASSERT_EQ_INT(p.count, 201);
    ASSERT_EQ_STR(track_params_get(&p, "idsite"), "5");
    ASSERT_EQ_STR(p.items[0].name, "n");
}

/* ---- hit kinds ---- */

static void test_pageview_fields(void)
{
    ASSERT_EQ_INT(parse(BASE
                        "url=https%3A%2F%2Fshop.example.com%2Fa%3Fb%3D1&action_name=A+%26+B"
                        "&urlref=https%3A%2F%2Fwww.google.com%2F&pv_id=a1B2c3&uid=u%40x.org"
                        "&lang=de-AT&_id=0123456789abcDEF&uadata=%7B%7D&r=12345&cs=windows-1252"),
                  TRACK_OK);
    const struct hit *h = &req.hit;
    ASSERT_EQ_INT(h->kind, HIT_PAGEVIEW);
    ASSERT_EQ_INT(h->site_id, 1);
    ASSERT_EQ_INT(h->time_ms, NOW_MS);
    ASSERT_EQ_INT(h->flags, 0);
    ASSERT_EQ_STR(h->url, "https://shop.example.com/a?b=1");
    ASSERT_EQ_STR(h->action_name, "A & B");
    ASSERT_EQ_STR(h->urlref, "https://www.google.com/");
    ASSERT_EQ_STR(h->pv_id, "a1B2c3");
    ASSERT_EQ_STR(h->user_id, "u@x.org");
    ASSERT_EQ_STR(h->language, "de-AT");
    ASSERT_EQ_STR(h->locale, ""); /* enrich's job */
    ASSERT_EQ_STR(h->ip_anon, "");
    ASSERT_EQ_INT(h->goal_id, -1);
    ASSERT_TRUE(isnan(h->revenue));
    ASSERT_EQ_STR(h->target_url, "");
    ASSERT_EQ_STR(h->dimensions, "");
    ASSERT_EQ_STR(req.visitor_hex, "0123456789abcDEF");
    ASSERT_EQ_STR(req.forced_visitor_hex, "");
    ASSERT_EQ_STR(req.uadata, "{}");
    ASSERT_EQ_STR(req.ip, "198.51.100.23");
    ASSERT_EQ_STR(req.user_agent, "HeaderAgent/1.0");
    ASSERT_TRUE(req.site == &site_items[0]);
    ASSERT_TRUE(req.send_image);
    ASSERT_TRUE(!req.dropped_for_privacy);
}

struct kind_case {
    const char *query;
    int kind;
};

static void test_every_kind_and_precedence(void)
{
    static const struct kind_case cases[] = {
        {BASE "url=u", HIT_PAGEVIEW},
        {BASE "ca=1", HIT_CUSTOM_ACTION},
        {BASE "ca=1&url=u", HIT_CUSTOM_ACTION},
        {BASE "e_c=C&e_a=A", HIT_EVENT},
        {BASE "link=https%3A%2F%2Fo.example%2F", HIT_OUTLINK},
        {BASE "download=https%3A%2F%2Fs.example%2Ff.pdf", HIT_DOWNLOAD},
        {BASE "search=mug", HIT_SITE_SEARCH},
        {BASE "c_n=Banner", HIT_CONTENT_IMPRESSION},
        {BASE "c_n=Banner&c_i=click", HIT_CONTENT_INTERACTION},
        {BASE "idgoal=3", HIT_GOAL},
        {BASE "idgoal=0&ec_id=A-1", HIT_ECOMMERCE_ORDER},
        {BASE "idgoal=0", HIT_CART_UPDATE},
        {BASE "ping=1", HIT_HEARTBEAT},
        /* precedence, from the top down */
        {BASE "ping=1&idgoal=0&ec_id=A&e_c=C&e_a=A&c_n=N&link=l&download=d&search=s&ca=1&url=u",
         HIT_HEARTBEAT},
        {BASE "idgoal=0&ec_id=A&e_c=C&e_a=A&c_n=N&link=l", HIT_ECOMMERCE_ORDER},
        {BASE "idgoal=2&e_c=C&e_a=A&c_n=N", HIT_GOAL},
        {BASE "e_c=C&e_a=A&c_n=N&c_i=i&link=l", HIT_EVENT},
        {BASE "c_n=N&link=l&download=d", HIT_CONTENT_IMPRESSION},
        {BASE "link=l&download=d&search=s", HIT_OUTLINK},
        {BASE "download=d&search=s&ca=1", HIT_DOWNLOAD},
        {BASE "search=s&ca=1", HIT_SITE_SEARCH},
        /* empty values are as good as absent */
        {BASE "ping=0&idgoal=&e_c=&e_a=&c_n=&link=&download=&search=&ca=0&url=u", HIT_PAGEVIEW},
        {BASE "c_n=N&c_i=", HIT_CONTENT_IMPRESSION},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int rc = parse(cases[i].query);
        if (rc != TRACK_OK) TEST_FAIL_("case %zu: rc %d: %s", i, rc, err);
        if (req.hit.kind != cases[i].kind)
            TEST_FAIL_("case %zu (%s): kind %s, expected %s", i, cases[i].query,
                       hit_kind_name(req.hit.kind), hit_kind_name(cases[i].kind));
    }
}

static void test_event_fields(void)
{
    ASSERT_EQ_INT(parse(BASE "ca=1&e_c=Video&e_a=Play&e_n=Intro&e_v=12.5&url=u"), TRACK_OK);
    ASSERT_EQ_INT(req.hit.kind, HIT_EVENT);
    ASSERT_EQ_STR(req.hit.event_category, "Video");
    ASSERT_EQ_STR(req.hit.event_action, "Play");
    ASSERT_EQ_STR(req.hit.event_name, "Intro");
    ASSERT_EQ_DBL(req.hit.event_value, 12.5);
    ASSERT_EQ_STR(req.hit.url, "u");
    ASSERT_EQ_INT(parse(BASE "e_c=Video&e_a=Play"), TRACK_OK);
    ASSERT_EQ_STR(req.hit.event_name, "");
    ASSERT_TRUE(isnan(req.hit.event_value));
    /* An event value on a pageview is still checked, but not kept. */
    ASSERT_EQ_INT(parse(BASE "url=u&e_v=3"), TRACK_OK);
    ASSERT_TRUE(isnan(req.hit.event_value));
}

static void test_outlink_download_search_content(void)
{
    ASSERT_EQ_INT(parse(BASE "link=https%3A%2F%2Fother.example.org%2Fout&url=u"), TRACK_OK);
    ASSERT_EQ_STR(req.hit.target_url, "https://other.example.org/out");
    ASSERT_EQ_INT(parse(BASE "download=https%3A%2F%2Fs.example%2Ff.pdf"), TRACK_OK);
    ASSERT_EQ_STR(req.hit.target_url, "https://s.example/f.pdf");
    ASSERT_EQ_INT(parse(BASE "search=blue+mug&search_cat=Kitchen&search_count=7"), TRACK_OK);
    ASSERT_EQ_STR(req.hit.search_keyword, "blue mug");
    ASSERT_EQ_STR(req.hit.search_category, "Kitchen");
    ASSERT_EQ_INT(req.hit.search_count, 7);
    ASSERT_EQ_STR(req.hit.target_url, "");
    ASSERT_EQ_INT(parse(BASE "search=x"), TRACK_OK);
    ASSERT_EQ_INT(req.hit.search_count, -1);
    ASSERT_EQ_STR(req.hit.search_category, "");
    ASSERT_EQ_INT(
        parse(BASE "c_n=Banner&c_p=%2Fa.png&c_t=https%3A%2F%2Fs.example%2Fsale&c_i=click"),
        TRACK_OK);
    ASSERT_EQ_INT(req.hit.kind, HIT_CONTENT_INTERACTION);
    ASSERT_EQ_STR(req.hit.content_name, "Banner");
    ASSERT_EQ_STR(req.hit.content_piece, "/a.png");
    ASSERT_EQ_STR(req.hit.content_target, "https://s.example/sale");
    ASSERT_EQ_STR(req.hit.content_interaction, "click");
}

static void test_goal_and_ecommerce(void)
{
    ASSERT_EQ_INT(parse(BASE "idgoal=1&revenue=9.5"), TRACK_OK);
    ASSERT_EQ_INT(req.hit.kind, HIT_GOAL);
    ASSERT_EQ_INT(req.hit.goal_id, 1);
    ASSERT_EQ_DBL(req.hit.revenue, 9.5);
    ASSERT_EQ_STR(req.hit.items, "");

    ASSERT_EQ_INT(parse(BASE "idgoal=0&ec_id=A-1&revenue=30.5&ec_st=25&ec_tx=3.5&ec_sh=4&ec_dt=2"
                             "&ec_items=%5B%5B%22SKU-1%22%2C%22Blue%20Mug%22%2C%5B%22Kitchen%22%2C"
                             "%20%22Mugs%22%5D%2C%2012.5%2C%202%5D%5D"),
                  TRACK_OK);
    const struct hit *h = &req.hit;
    ASSERT_EQ_INT(h->kind, HIT_ECOMMERCE_ORDER);
    ASSERT_EQ_INT(h->goal_id, 0);
    ASSERT_EQ_STR(h->order_id, "A-1");
    ASSERT_EQ_DBL(h->revenue, 30.5);
    ASSERT_EQ_DBL(h->subtotal, 25);
    ASSERT_EQ_DBL(h->tax, 3.5);
    ASSERT_EQ_DBL(h->shipping, 4);
    ASSERT_EQ_DBL(h->discount, 2);
    ASSERT_EQ_STR(h->items, "[[\"SKU-1\",\"Blue Mug\",[\"Kitchen\",\"Mugs\"],12.5,2]]");

    ASSERT_EQ_INT(parse(BASE "idgoal=0&revenue=12.5&ec_st=1"
                             "&ec_items=%5B%5B%22S%22%2C%22N%22%2C%22Kitchen%22%2C12.5%2C1%5D%5D"),
                  TRACK_OK);
    ASSERT_EQ_INT(req.hit.kind, HIT_CART_UPDATE);
    ASSERT_EQ_INT(req.hit.goal_id, 0);
    ASSERT_EQ_DBL(req.hit.revenue, 12.5);
    ASSERT_EQ_STR(req.hit.order_id, "");
    ASSERT_TRUE(isnan(req.hit.subtotal)); /* an order's field */
    ASSERT_EQ_STR(req.hit.items, "[[\"S\",\"N\",\"Kitchen\",12.5,1]]");
}

static void test_items_normalised(void)
{
    /* Missing slots take Matomo's defaults; numeric strings become numbers;
     * an integer SKU becomes text; 19.99 keeps its short form. */
    ASSERT_EQ_INT(parse(BASE "idgoal=0&ec_items="
                             "%5B%5B%22A%22%5D%2C%5B7%2Cnull%2Cnull%2C%2219.99"
                             "%22%2C%223%22%5D%2C%5B%22B%22%2C%22%C3%A9%22%2C%5B%5D%2C19.99%5D%5D"),
                  TRACK_OK);
    ASSERT_EQ_STR(
        req.hit.items,
        "[[\"A\",\"\",\"\",0,1],[\"7\",\"\",\"\",19.99,3.0],[\"B\",\"\xc3\xa9\",[],19.99,1]]");
    ASSERT_EQ_INT(parse(BASE "idgoal=0&ec_items=%5B%5D"), TRACK_OK);
    ASSERT_EQ_STR(req.hit.items, "[]");
}

static void test_items_refused(void)
{
    static const struct {
        const char *items, *why;
    } cases[] = {
        {"%5B", "it is not valid JSON"},
        {"%7B%7D", "it is not an array"},
        {"%5B%5B%5D%5D", "item 0 is not an array of 1 to 5 values"},
        {"%5B%5B%22a%22%2C%22b%22%2C%22c%22%2C1%2C1%2C1%5D%5D", "item 0 is not an array of 1 to 5"},
        {"%5B%5B%22a%22%5D%2C%22b%22%5D", "item 1 is not an array"},
        {"%5B%5B%22%22%5D%5D", "item 0 has no SKU"},
        {"%5B%5Btrue%5D%5D", "item 0 has no SKU"},
        {"%5B%5B%22a%22%2C1%5D%5D", "item 0 has a name that is not a string"},
        {"%5B%5B%22a%22%2C%22b%22%2C%5B1%5D%5D%5D", "item 0 has a category that is not a string"},
        {"%5B%5B%22a%22%2C%22b%22%2C%22c%22%2C%22cheap%22%5D%5D", "item 0 has a price that is not"},
        {"%5B%5B%22a%22%2C%22b%22%2C%22c%22%2C1%2C%5B%5D%5D%5D",
         "item 0 has a quantity that is not"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char q[512];
        snprintf(q, sizeof q, BASE "idgoal=0&ec_items=%s", cases[i].items);
        int rc = parse(q);
        if (rc != TRACK_INVALID) TEST_FAIL_("case %zu: rc %d", i, rc);
        ASSERT_CONTAINS(err, "ec_items is not a JSON array of [sku, name, category, price, "
                             "quantity] items");
        ASSERT_CONTAINS(err, cases[i].why);
    }
    /* Checked on any hit that carries them. */
    ASSERT_EQ_INT(parse(BASE "url=u&ec_items=x"), TRACK_INVALID);
    ASSERT_CONTAINS(err, "ec_items is not");
}

static void test_product_view(void)
{
    ASSERT_EQ_INT(parse(BASE "url=u&_pks=SKU-9&_pkn=Teapot&_pkc=Kitchen&_pkp=19.9"), TRACK_OK);
    ASSERT_EQ_INT(req.hit.kind, HIT_PAGEVIEW);
    ASSERT_EQ_INT(req.hit.flags, HIT_FLAG_PRODUCT_VIEW);
    ASSERT_EQ_STR(req.hit.product_sku, "SKU-9");
    ASSERT_EQ_STR(req.hit.product_name, "Teapot");
    ASSERT_EQ_STR(req.hit.product_category, "Kitchen");
    ASSERT_EQ_DBL(req.hit.product_price, 19.9);
    /* A JSON array of categories is kept, compact. */
    ASSERT_EQ_INT(parse(BASE "url=u&_pkc=%5B%22Kitchen%22%2C%20%22Tea%22%5D"), TRACK_OK);
    ASSERT_EQ_STR(req.hit.product_category, "[\"Kitchen\",\"Tea\"]");
    ASSERT_TRUE(isnan(req.hit.product_price));
    /* Something that only looks like one is a plain category. */
    ASSERT_EQ_INT(parse(BASE "url=u&_pkc=%5BSale%5D"), TRACK_OK);
    ASSERT_EQ_STR(req.hit.product_category, "[Sale]");
    ASSERT_EQ_INT(parse(BASE "url=u&_pkc=%5B1%2C2%5D"), TRACK_OK);
    ASSERT_EQ_STR(req.hit.product_category, "[1,2]");
    ASSERT_EQ_INT(parse(BASE "url=u&_pkp=5"), TRACK_OK);
    ASSERT_EQ_INT(req.hit.flags, HIT_FLAG_PRODUCT_VIEW);
    /* Only pageviews are product views. */
    ASSERT_EQ_INT(parse(BASE "e_c=a&e_a=b&_pks=S"), TRACK_OK);
    ASSERT_EQ_INT(req.hit.flags, 0);
    ASSERT_EQ_STR(req.hit.product_sku, "");
    ASSERT_EQ_INT(parse(BASE "url=u&_pks="), TRACK_OK);
    ASSERT_EQ_INT(req.hit.flags, 0);
}

static void test_dimensions(void)
{
    ASSERT_EQ_INT(parse(BASE "url=u&dimension10=ten&dimension2=%22two%22&dimension1=old&"
                             "dimension1=gold&dimension3=&dimension999=%3Cb%3E&dimension0=z&"
                             "dimension1000=z&dimension05=z&dimensionx=z&dimension4=a%5Cb"),
                  TRACK_OK);
    ASSERT_EQ_STR(req.hit.dimensions, "{\"1\":\"gold\",\"2\":\"\\\"two\\\"\",\"4\":\"a\\\\b\","
                                      "\"10\":\"ten\",\"999\":\"\\u003cb\\u003e\"}");
    ASSERT_EQ_INT(parse(BASE "url=u&dimension7=x&dimension7="), TRACK_OK);
    ASSERT_EQ_STR(req.hit.dimensions, ""); /* the last value unsets it */
    ASSERT_EQ_INT(parse(BASE "url=u&dimension5=%E2%80%A8%01"), TRACK_OK);
    ASSERT_EQ_STR(req.hit.dimensions, "{\"5\":\"\\u2028\\u0001\"}");
}

/* Thousands of repeats cost a sort, not a quadratic scan; the last wins. */
static void test_many_dimensions(void)
{
    struct buf q;
    buf_init(&q);
    buf_puts(&q, BASE "url=u");
    for (int i = 0; i < 20000; i++)
        buf_printf(&q, "&dimension%d=v%d", 999 - i % 3, i);
    int rc = parse(q.data);
    buf_free(&q);
    ASSERT_EQ_INT(rc, TRACK_OK);
    ASSERT_EQ_STR(req.hit.dimensions, "{\"997\":\"v19997\",\"998\":\"v19999\",\"999\":\"v19998\"}");
}

static void test_lenient_numbers(void)
{
    ASSERT_EQ_INT(parse(BASE "url=u&res=1920x1080&h=13&m=5&s=7&pf_net=10&pf_srv=20&pf_tfr=30"
                             "&pf_dm1=40&pf_dm2=50&pf_onl=60"),
                  TRACK_OK);
    const struct hit *h = &req.hit;
    ASSERT_EQ_INT(h->screen_width, 1920);
    ASSERT_EQ_INT(h->screen_height, 1080);
    ASSERT_EQ_INT(h->local_time_s, 13 * 3600 + 5 * 60 + 7);
    ASSERT_EQ_INT(h->pf_net, 10);
    ASSERT_EQ_INT(h->pf_srv, 20);
    ASSERT_EQ_INT(h->pf_tfr, 30);
    ASSERT_EQ_INT(h->pf_dm1, 40);
    ASSERT_EQ_INT(h->pf_dm2, 50);
    ASSERT_EQ_INT(h->pf_onl, 60);
    /* Odd values are dropped, the hit is kept. */
    ASSERT_EQ_INT(parse(BASE "url=u&res=1920x&h=24&m=5&s=7&pf_net=-1&pf_srv=1.5&pf_onl=x"),
                  TRACK_OK);
    ASSERT_EQ_INT(req.hit.screen_width, 0);
    ASSERT_EQ_INT(req.hit.screen_height, 0);
    ASSERT_EQ_INT(req.hit.local_time_s, -1);
    ASSERT_EQ_INT(req.hit.pf_net, -1);
    ASSERT_EQ_INT(req.hit.pf_srv, -1);
    ASSERT_EQ_INT(req.hit.pf_onl, -1);
    ASSERT_EQ_INT(parse(BASE "url=u&res=70000x10&h=1&m=2"), TRACK_OK);
    ASSERT_EQ_INT(req.hit.screen_width, 0);
    ASSERT_EQ_INT(req.hit.local_time_s, -1); /* s missing */
    ASSERT_EQ_INT(parse(BASE "url=u&res=x1080"), TRACK_OK);
    ASSERT_EQ_INT(req.hit.screen_height, 0);
}

static void test_visitor_context(void)
{
    struct track_context ctx = context();
    ASSERT_EQ_INT(parse_with(BASE "url=u&ua=ParamAgent%2F2.0&new_visit=1&bots=1&send_image=0"
                                  "&cid=FEDCBA9876543210&_id=0123",
                             &ctx, NULL),
                  TRACK_OK);
    ASSERT_EQ_STR(req.user_agent, "ParamAgent/2.0");
    ASSERT_EQ_INT(req.hit.flags, HIT_FLAG_NEW_VISIT | HIT_FLAG_BOT);
    ASSERT_TRUE(!req.send_image);
    ASSERT_EQ_STR(req.forced_visitor_hex, "FEDCBA9876543210");
    ASSERT_EQ_STR(req.visitor_hex, ""); /* not 16 hex digits: ignored */
    ASSERT_EQ_INT(parse(BASE "url=u&_id=0123456789abcdeg&send_image=1&new_visit=0"), TRACK_OK);
    ASSERT_EQ_STR(req.visitor_hex, "");
    ASSERT_TRUE(req.send_image);
    ASSERT_EQ_INT(req.hit.flags, 0);
    ASSERT_EQ_INT(parse(BASE "url=u&_id=0123456789abcdef0"), TRACK_OK);
    ASSERT_EQ_STR(req.visitor_hex, "");
    /* Missing context strings read as "". */
    struct track_context bare = {.now_ms = NOW_MS};
    ASSERT_EQ_INT(parse_with(BASE "url=u", &bare, NULL), TRACK_OK);
    ASSERT_EQ_STR(req.ip, "");
    ASSERT_EQ_STR(req.user_agent, "");
    ASSERT_TRUE(req.ctx == &bare);
}

static void test_do_not_track(void)
{
    struct track_context ctx = context();
    ctx.do_not_track = true;
    ASSERT_EQ_INT(parse_with(BASE "url=u", &ctx, NULL), TRACK_OK);
    ASSERT_TRUE(req.dropped_for_privacy);
    /* Site 2 opted out of honouring DNT. */
    ASSERT_EQ_INT(parse_with("idsite=2&rec=1&url=u", &ctx, NULL), TRACK_OK);
    ASSERT_TRUE(!req.dropped_for_privacy);
    ASSERT_EQ_INT(req.hit.site_id, 2);
}

static void test_unknown_params_ignored(void)
{
    ASSERT_EQ_INT(parse(BASE "url=u&_cvar=%7B%7D&wma=0&qt=1&foo=bar&c=1&e=2&p=3&pf_xyz=4&x_=5"),
                  TRACK_OK);
    ASSERT_EQ_INT(req.hit.kind, HIT_PAGEVIEW);
}

/* ---- refusals ---- */

struct refusal {
    const char *query, *reason;
};

static void test_refusals(void)
{
    static const struct refusal cases[] = {
        {"rec=1&url=u", "idsite is missing"},
        {"idsite=&rec=1&url=u", "idsite is missing"},
        {"idsite=abc&rec=1&url=u", "idsite must be a positive whole number, not 'abc'"},
        {"idsite=0&rec=1&url=u", "idsite must be a positive whole number, not '0'"},
        {"idsite=4294967296&rec=1&url=u", "idsite must be a positive whole number"},
        {"idsite=7&rec=1&url=u", "idsite 7 is not a known site"},
        {"idsite=1&url=u", "rec=1 is missing: Matomo trackers always send it"},
        {"idsite=1&rec=0&url=u", "rec=1 is missing"},
        {BASE "action_name=x", "url is missing"},
        {BASE "url=", "url is missing"},
        {BASE "e_c=Video", "an event needs both e_c (its category) and e_a (its action)"},
        {BASE "e_a=Play&url=u", "an event needs both e_c"},
        {BASE "url=%C3%28", "parameter 'url' is not valid UTF-8"},
        {BASE "url=u&foo=%FF", "parameter 'foo' is not valid UTF-8"},
        {BASE "url=u&%FF=1", "a parameter name is too long or not valid UTF-8"},
        {BASE "url=u&idgoal=-1", "idgoal must be a whole number from 0, not '-1'"},
        {BASE "url=u&idgoal=1.5", "idgoal must be a whole number from 0"},
        {BASE "url=u&revenue=abc", "revenue must be a number like 12.5, not 'abc'"},
        {BASE "url=u&revenue=inf", "revenue must be a number"},
        {BASE "url=u&e_v=0x10", "e_v must be a number"},
        {BASE "url=u&ec_st=1,5", "ec_st must be a number"},
        {BASE "url=u&ec_tx=%201", "ec_tx must be a number"},
        {BASE "url=u&ec_sh=1e999", "ec_sh must be a number"},
        {BASE "url=u&ec_dt=--1", "ec_dt must be a number"},
        {BASE "url=u&_pkp=free", "_pkp must be a number"},
        {BASE "url=u&search_count=-2", "search_count must be a whole number from 0, not '-2'"},
        {BASE "url=u&search_count=many", "search_count must be a whole number"},
        {BASE "url=u&cid=123", "cid must be a visitor id of 16 hexadecimal characters"},
        {BASE "url=u&cid=0123456789abcdeg", "cid must be a visitor id of 16 hexadecimal"},
        {BASE "url=u&cdt=1767225000", "cdt needs a valid token_auth for site 1"},
        {BASE "url=u&cip=203.0.113.9", "cip needs a valid token_auth for site 1"},
        {BASE "url=u&cip=203.0.113.9&token_auth=0123456789abcdef0123456789abcdef",
         "cip needs a valid token_auth for site 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int rc = parse(cases[i].query);
        if (rc != TRACK_INVALID) TEST_FAIL_("case %zu (%s): rc %d", i, cases[i].query, rc);
        ASSERT_CONTAINS(err, cases[i].reason);
    }
}

static void test_hostile_values_in_reasons(void)
{
    ASSERT_EQ_INT(parse(BASE "url=u&revenue=%0D%0AX-Evil%3A+1%27"), TRACK_INVALID);
    ASSERT_CONTAINS(err, "not '??X-Evil: 1?'");
    char q[512];
    int len = snprintf(q, sizeof q, BASE "url=u&revenue=");
    memset(q + len, 'z', 100);
    q[len + 100] = '\0';
    ASSERT_EQ_INT(parse(q), TRACK_INVALID);
    ASSERT_CONTAINS(err,
                    "not 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz...'");
}

static void test_value_length_limit(void)
{
    size_t n = 64 * 1024;
    char *q = malloc(n + 64);
    ASSERT_TRUE(q != NULL);
    int len = snprintf(q, 64, BASE "url=");
    memset(q + len, 'a', n);
    q[len + n] = '\0';
    int rc = parse(q);
    if (rc != TRACK_OK) {
        free(q);
        TEST_FAIL_("64 KiB is still fine: %s", err);
    }
    strcpy(q + len + n, "a");
    rc = parse(q);
    free(q);
    ASSERT_EQ_INT(rc, TRACK_INVALID);
    ASSERT_CONTAINS(err, "parameter 'url' is longer than 64 KiB");
}

/* ---- cdt, cip and tokens ---- */

static void test_trusted_cdt_and_cip(void)
{
    struct track_context ctx = context();
    ctx.trusted = true;
    ASSERT_EQ_INT(parse_with(BASE "url=u&cdt=1767225000&cip=2001%3Adb8%3A%3A1", &ctx, NULL),
                  TRACK_OK);
    ASSERT_EQ_INT(req.hit.time_ms, 1767225000000LL);
    ASSERT_EQ_INT(req.hit.flags, HIT_FLAG_TIME_FORCED);
    ASSERT_EQ_STR(req.ip, "2001:db8::1");
    ASSERT_EQ_INT(parse_with(BASE "url=u&cdt=1767225000.123", &ctx, NULL), TRACK_OK);
    ASSERT_EQ_INT(req.hit.time_ms, 1767225000123LL);
    ASSERT_EQ_STR(req.ip, "198.51.100.23");
    ASSERT_EQ_INT(parse_with(BASE "url=u&cdt=2025-12-31+23%3A59%3A58", &ctx, NULL), TRACK_OK);
    ASSERT_EQ_INT(req.hit.time_ms, NOW_MS - 2000);
    ASSERT_EQ_INT(parse_with(BASE "url=u&cdt=2024-02-29T12:00:00", &ctx, NULL), TRACK_OK);
    ASSERT_EQ_INT(req.hit.time_ms, 1709208000000LL);
    /* Up to ten minutes ahead is clock skew; more is refused. */
    ASSERT_EQ_INT(parse_with(BASE "url=u&cdt=1767226200", &ctx, NULL), TRACK_OK);
    ASSERT_EQ_INT(req.hit.time_ms, NOW_MS + 600000);

    static const struct refusal cases[] = {
        {BASE "url=u&cdt=1767226201", "cdt '1767226201' is more than 10 minutes in the future"},
        {BASE "url=u&cdt=2026-01-01+00:10:01", "is more than 10 minutes in the future"},
        {BASE "url=u&cdt=99999999999999999999", "more than 10 minutes in the future"},
        {BASE "url=u&cdt=yesterday", "cdt must be a UNIX timestamp in seconds or 'YYYY-MM-DD "
                                     "HH:MM:SS' in UTC, not 'yesterday'"},
        {BASE "url=u&cdt=-5", "cdt must be a UNIX timestamp"},
        {BASE "url=u&cdt=2025-02-30+10:00:00", "cdt must be a UNIX timestamp"},
        {BASE "url=u&cdt=2025-01-01+24:00:00", "cdt must be a UNIX timestamp"},
        {BASE "url=u&cdt=2025-01-01+10:00", "cdt must be a UNIX timestamp"},
        {BASE "url=u&cdt=1.2.3", "cdt must be a UNIX timestamp"},
        {BASE "url=u&cip=999.1.1.1", "cip must be an IPv4 or IPv6 address, not '999.1.1.1'"},
        {BASE "url=u&cip=localhost", "cip must be an IPv4 or IPv6 address"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int rc = parse_with(cases[i].query, &ctx, NULL);
        if (rc != TRACK_INVALID) TEST_FAIL_("case %zu (%s): rc %d", i, cases[i].query, rc);
        ASSERT_CONTAINS(err, cases[i].reason);
    }
}

static void test_tokens(void)
{
    char dir[256], token1[33], token2[33];
    ASSERT_EQ_INT(harness_tmpdir(dir), 0);
    struct site draft = {.name = "Shop",
                         .urls = {"https://shop.example.com"},
                         .url_count = 1,
                         .timezone = "UTC",
                         .currency = "EUR",
                         .honour_dnt = true,
                         .ipv4_mask_bytes = 2,
                         .ipv6_mask_bits = 80};
    uint32_t id1, id2;
    struct tokens *tokens = NULL;
    int ok = sites_add(dir, &draft, &id1, err, sizeof err) == 0 &&
             sites_add(dir, &draft, &id2, err, sizeof err) == 0 && id1 == 1 && id2 == 2 &&
             tokens_create(dir, &(struct token_draft){.site_id = 1}, token1, NULL, err,
                           sizeof err) == 0 &&
             tokens_create(dir, &(struct token_draft){.site_id = 2}, token2, NULL, err,
                           sizeof err) == 0 &&
             tokens_load(dir, &tokens, err, sizeof err) == 0;
    harness_rmtree(dir);
    if (!ok) {
        tokens_free(tokens);
        TEST_FAIL_("setting up tokens: %s", err);
    }
    struct track_context ctx = context();
    char q[512];
    int rc[8];
    /* The item's own token. */
    snprintf(q, sizeof q, BASE "url=u&cdt=1767225000&cip=203.0.113.9&token_auth=%s", token1);
    rc[0] = parse_with(q, &ctx, tokens);
    bool forced = req.hit.flags & HIT_FLAG_TIME_FORCED;
    char ip[64];
    snprintf(ip, sizeof ip, "%s", req.ip); /* the arena is reused below */
    /* A token of another site. */
    snprintf(q, sizeof q, BASE "url=u&cdt=1767225000&token_auth=%s", token2);
    rc[1] = parse_with(q, &ctx, tokens);
    char reason[512];
    snprintf(reason, sizeof reason, "%s", err);
    /* The bulk request's token, when the item has none or a wrong one. */
    ctx.token_auth = token1;
    rc[2] = parse_with(BASE "url=u&cip=203.0.113.9", &ctx, tokens);
    snprintf(q, sizeof q, BASE "url=u&cip=203.0.113.9&token_auth=%s", token2);
    rc[3] = parse_with(q, &ctx, tokens);
    ctx.token_auth = token2;
    rc[4] = parse_with(BASE "url=u&cip=203.0.113.9", &ctx, tokens);
    /* A token alone changes nothing. */
    ctx.token_auth = "";
    snprintf(q, sizeof q, BASE "url=u&token_auth=%s", token1);
    rc[5] = parse_with(q, &ctx, tokens);
    bool plain = req.hit.flags == 0 && req.hit.time_ms == NOW_MS;
    tokens_free(tokens);

    ASSERT_EQ_INT(rc[0], TRACK_OK);
    ASSERT_TRUE(forced);
    ASSERT_EQ_STR(ip, "203.0.113.9");
    ASSERT_EQ_INT(rc[1], TRACK_INVALID);
    ASSERT_CONTAINS(reason, "cdt needs a valid token_auth for site 1");
    ASSERT_EQ_INT(rc[2], TRACK_OK);
    ASSERT_EQ_INT(rc[3], TRACK_OK);
    ASSERT_EQ_INT(rc[4], TRACK_INVALID);
    ASSERT_EQ_INT(rc[5], TRACK_OK);
    ASSERT_TRUE(plain);
}

/* ---- bulk ---- */

static int bulk_open(const char *body, struct track_bulk **bulk)
{
    err[0] = '\0';
    return track_bulk_open(body, strlen(body), bulk, err, sizeof err);
}

static void test_body_is_json(void)
{
    ASSERT_TRUE(track_body_is_json("{}", 2));
    ASSERT_TRUE(track_body_is_json(" \r\n\t{\"requests\":[]}", 19));
    ASSERT_TRUE(!track_body_is_json("idsite=1&rec=1", 14));
    ASSERT_TRUE(!track_body_is_json("[{}]", 4));
    ASSERT_TRUE(!track_body_is_json("   ", 3));
    ASSERT_TRUE(!track_body_is_json("{", 0));
}

static void test_bulk_refusals(void)
{
    struct track_bulk *bulk = (struct track_bulk *)&bulk;
    ASSERT_EQ_INT(bulk_open("{\"requests\":[\n\"?a=1\",]}", &bulk), -EINVAL);
    ASSERT_TRUE(bulk == NULL);
    ASSERT_CONTAINS(err, "the bulk request is not valid JSON: ");
    ASSERT_CONTAINS(err, "(line 2, column 8)");
    /* jansson quotes what it choked on: only printable ASCII gets through. */
    ASSERT_EQ_INT(bulk_open("{\"requests\":[\"\xc3\xa9\x01\"]}", &bulk), -EINVAL);
    ASSERT_CONTAINS(err, "not valid JSON");
    for (const char *c = err; *c; c++)
        ASSERT_TRUE(*c >= 0x20 && *c < 0x7f);
    ASSERT_EQ_INT(bulk_open("{\"requests\":[]} x", &bulk), -EINVAL);
    ASSERT_CONTAINS(err, "not valid JSON");
    ASSERT_EQ_INT(bulk_open("[\"?idsite=1\"]", &bulk), -EINVAL);
    ASSERT_CONTAINS(err, "the bulk request must be a JSON object {\"requests\":[...]}");
    ASSERT_EQ_INT(bulk_open("{\"token_auth\":\"x\"}", &bulk), -EINVAL);
    ASSERT_CONTAINS(err, "the bulk request needs \"requests\": an array");
    ASSERT_EQ_INT(bulk_open("{\"requests\":\"?idsite=1\"}", &bulk), -EINVAL);
    ASSERT_CONTAINS(err, "needs \"requests\"");
    ASSERT_EQ_INT(bulk_open("{\"requests\":[],\"token_auth\":12}", &bulk), -EINVAL);
    ASSERT_CONTAINS(err, "\"token_auth\" in a bulk request must be a string");

    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"requests\":[");
    for (int i = 0; i < 10001; i++)
        buf_puts(&b, i ? ",1" : "1");
    buf_puts(&b, "]}");
    int rc = bulk_open(b.data, &bulk);
    buf_free(&b);
    ASSERT_EQ_INT(rc, -E2BIG);
    ASSERT_CONTAINS(err, "a bulk request holds at most 10000 requests; split it");
}

static void test_bulk_items(void)
{
    const char *body =
        "{\"token_auth\":\"abc\",\"send_image\":0,\"requests\":["
        "\"?idsite=1&rec=1&url=a%20b\","
        "\"idsite=1&rec=1&e_c=C&e_a=A\","
        "\"https://t.example.com/matomo.php?idsite=1&rec=1&ping=1\","
        "{\"idsite\":1,\"rec\":true,\"url\":\"https://s.example/\u00e9\",\"cdt\":1767225000.123,"
        "\"revenue\":2.5e1,\"bots\":false,\"action_name\":null,\"\":\"x\",\"h\":-3},"
        "{\"idsite\":1,\"url\":[\"x\"]},"
        "42,"
        "\"url=%zz\","
        "{\"idsite\":1,\"rec\":1,\"url\":{\"a\":1}}]}";
    struct track_bulk *bulk;
    ASSERT_EQ_INT(bulk_open(body, &bulk), 0);
    ASSERT_EQ_INT(track_bulk_count(bulk), 8);
    ASSERT_EQ_STR(track_bulk_token(bulk), "abc");

    struct track_params p;
    int rc[8];
    const char *url0 = NULL, *ping2 = NULL, *cdt3 = NULL, *rec3 = NULL, *bots3 = NULL, *url3 = NULL,
               *rev3 = NULL, *h3 = NULL;
    bool action3 = true;
    size_t count1 = 0, count3 = 0;
    char reasons[8][512];
    arena_reset(&arena);
    for (size_t i = 0; i < 8; i++) {
        track_params_init(&p, &arena);
        err[0] = '\0';
        rc[i] = track_bulk_item(bulk, i, &p, err, sizeof err);
        snprintf(reasons[i], sizeof reasons[i], "%s", err);
        if (i == 0) url0 = track_params_get(&p, "url");
        if (i == 1) count1 = p.count;
        if (i == 2) ping2 = track_params_get(&p, "ping");
        if (i == 3) {
            count3 = p.count;
            cdt3 = track_params_get(&p, "cdt");
            rec3 = track_params_get(&p, "rec");
            bots3 = track_params_get(&p, "bots");
            url3 = track_params_get(&p, "url");
            rev3 = track_params_get(&p, "revenue");
            h3 = track_params_get(&p, "h");
            action3 = track_params_get(&p, "action_name") != NULL;
        }
    }
    track_bulk_free(bulk);
    ASSERT_EQ_INT(rc[0], 0);
    ASSERT_EQ_STR(url0, "a b");
    ASSERT_EQ_INT(rc[1], 0);
    ASSERT_EQ_INT(count1, 4);
    ASSERT_EQ_INT(rc[2], 0);
    ASSERT_EQ_STR(ping2, "1");
    ASSERT_EQ_INT(rc[3], 0);
    ASSERT_EQ_INT(count3, 7); /* null and the empty name are skipped */
    ASSERT_EQ_STR(cdt3, "1767225000.123");
    ASSERT_EQ_STR(rec3, "1");
    ASSERT_EQ_STR(bots3, "0");
    ASSERT_EQ_STR(url3, "https://s.example/\xc3\xa9");
    ASSERT_EQ_STR(rev3, "25");
    ASSERT_EQ_STR(h3, "-3");
    ASSERT_TRUE(!action3);
    ASSERT_EQ_INT(rc[4], -EINVAL);
    ASSERT_CONTAINS(reasons[4], "request 4: parameter 'url' is an array or an object; values must "
                                "be strings, numbers, booleans or null");
    ASSERT_EQ_INT(rc[5], -EINVAL);
    ASSERT_CONTAINS(reasons[5], "request 5 is neither a query string nor an object of parameters");
    ASSERT_EQ_INT(rc[6], -EINVAL);
    ASSERT_CONTAINS(reasons[6], "parameter 'url' has a malformed percent escape \"%zz\"");
    ASSERT_EQ_INT(rc[7], -EINVAL);
    ASSERT_CONTAINS(reasons[7], "request 7: parameter 'url' is an array or an object");
}

/* A bulk object item all the way to a hit, with the bulk's token. */
static void test_bulk_object_to_hit(void)
{
    struct track_bulk *bulk;
    ASSERT_EQ_INT(
        bulk_open("{\"requests\":[{\"idsite\":1,\"rec\":1,\"url\":\"https://s.example/a\","
                  "\"cdt\":1767225000,\"cip\":\"198.51.100.201\",\"idgoal\":2,"
                  "\"revenue\":1.5}]}",
                  &bulk),
        0);
    ASSERT_EQ_STR(track_bulk_token(bulk), "");
    arena_reset(&arena);
    struct track_params p;
    track_params_init(&p, &arena);
    int item_rc = track_bulk_item(bulk, 0, &p, err, sizeof err);
    struct track_context ctx = context();
    int untrusted = track_parse(&p, &ctx, &sites, NULL, NULL, &arena, &req, err, sizeof err);
    char reason[512];
    snprintf(reason, sizeof reason, "%s", err);
    ctx.trusted = true;
    int trusted = track_parse(&p, &ctx, &sites, NULL, NULL, &arena, &req, err, sizeof err);
    track_bulk_free(bulk);
    ASSERT_EQ_INT(item_rc, 0);
    ASSERT_EQ_INT(untrusted, TRACK_INVALID);
    ASSERT_CONTAINS(reason, "cdt needs a valid token_auth for site 1");
    ASSERT_EQ_INT(trusted, TRACK_OK);
    ASSERT_EQ_INT(req.hit.kind, HIT_GOAL);
    ASSERT_EQ_INT(req.hit.goal_id, 2);
    ASSERT_EQ_DBL(req.hit.revenue, 1.5);
    ASSERT_EQ_INT(req.hit.time_ms, 1767225000000LL);
    ASSERT_EQ_STR(req.ip, "198.51.100.201");
}

/* ---- the hit record ---- */

static void test_hit_clear_and_names(void)
{
    struct hit h;
    memset(&h, 0x5a, sizeof h);
    hit_clear(&h);
    ASSERT_EQ_U64(h.seq, 0);
    ASSERT_EQ_INT(h.kind, 0);
    ASSERT_EQ_INT(h.flags, 0);
    ASSERT_EQ_INT(h.time_ms, 0);
    ASSERT_EQ_INT(h.days_since_last_visit, -1);
    ASSERT_EQ_INT(h.search_count, -1);
    ASSERT_EQ_INT(h.goal_id, -1);
    ASSERT_EQ_INT(h.local_time_s, -1);
    ASSERT_TRUE(isnan(h.revenue) && isnan(h.product_price) && isnan(h.event_value));
    ASSERT_EQ_STR(h.url, "");
    ASSERT_EQ_STR(h.campaign_id, "");
    ASSERT_EQ_INT(h.screen_width, 0);

    static const char *const names[] = {"unknown",
                                        "pageview",
                                        "custom_action",
                                        "event",
                                        "outlink",
                                        "download",
                                        "site_search",
                                        "content_impression",
                                        "content_interaction",
                                        "goal",
                                        "ecommerce_order",
                                        "cart_update",
                                        "heartbeat",
                                        "bot"};
    for (int k = 0; k < HIT_KIND_COUNT; k++)
        ASSERT_EQ_STR(hit_kind_name(k), names[k]);
    ASSERT_EQ_STR(hit_kind_name(HIT_KIND_COUNT), "unknown");
    ASSERT_EQ_STR(hit_kind_name(-1), "unknown");
    int actions = 0;
    for (int k = 0; k <= HIT_KIND_COUNT; k++)
        actions += hit_kind_is_action(k);
    ASSERT_EQ_INT(actions, 6);
    ASSERT_TRUE(hit_kind_is_action(HIT_PAGEVIEW) && hit_kind_is_action(HIT_EVENT) &&
                hit_kind_is_action(HIT_OUTLINK) && hit_kind_is_action(HIT_DOWNLOAD) &&
                hit_kind_is_action(HIT_SITE_SEARCH) && hit_kind_is_action(HIT_CONTENT_INTERACTION));
    ASSERT_TRUE(!hit_kind_is_action(HIT_HEARTBEAT) && !hit_kind_is_action(HIT_GOAL) &&
                !hit_kind_is_action(HIT_CONTENT_IMPRESSION));
}

int main(void)
{
    arena_init(&arena, 16u << 20);
    TEST_RUN(test_params_decoding);
    TEST_RUN(test_params_length_is_respected);
    TEST_RUN(test_params_absolute_url);
    TEST_RUN(test_params_malformed_escapes);
    TEST_RUN(test_params_arena_limit);
    TEST_RUN(test_params_add_copies);
    TEST_RUN(test_pageview_fields);
    TEST_RUN(test_every_kind_and_precedence);
    TEST_RUN(test_event_fields);
    TEST_RUN(test_outlink_download_search_content);
    TEST_RUN(test_goal_and_ecommerce);
    TEST_RUN(test_items_normalised);
    TEST_RUN(test_items_refused);
    TEST_RUN(test_product_view);
    TEST_RUN(test_dimensions);
    TEST_RUN(test_many_dimensions);
    TEST_RUN(test_lenient_numbers);
    TEST_RUN(test_visitor_context);
    TEST_RUN(test_do_not_track);
    TEST_RUN(test_unknown_params_ignored);
    TEST_RUN(test_refusals);
    TEST_RUN(test_hostile_values_in_reasons);
    TEST_RUN(test_value_length_limit);
    TEST_RUN(test_trusted_cdt_and_cip);
    TEST_RUN(test_tokens);
    TEST_RUN(test_body_is_json);
    TEST_RUN(test_bulk_refusals);
    TEST_RUN(test_bulk_items);
    TEST_RUN(test_bulk_object_to_hit);
    TEST_RUN(test_hit_clear_and_names);
    arena_free(&arena);
    return TEST_DONE();
}
