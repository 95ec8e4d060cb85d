/* enrich: IP anonymisation and language, with real inputs and hand-computed
 * expectations, and one hit through every module with the real npm data.
 * Devices, bots, locations and channels have their own tests (test_ua,
 * test_geo, test_channel). */
#include <errno.h>

#include "../src/enrich/enrich.h"
#include "test.h"

static char url_a[] = "https://example.com";
static char url_b[] = "https://www.shop.test";

static struct site test_site(void)
{
    struct site site = {0};
    site.id = 1;
    site.urls[0] = url_a;
    site.urls[1] = url_b;
    site.url_count = 2;
    site.ipv4_mask_bytes = 2;
    site.ipv6_mask_bits = 80;
    return site;
}

static struct enrich *enrich; /* the real npm data, loaded once */

static struct track_context empty_ctx = {.ip = "",
                                         .user_agent = "",
                                         .accept_language = "",
                                         .sec_ch_ua = "",
                                         .sec_ch_ua_mobile = "",
                                         .sec_ch_ua_platform = "",
                                         .sec_ch_ua_platform_version = "",
                                         .sec_ch_ua_model = "",
                                         .token_auth = ""};

static void request_init(struct track_request *req, const struct site *site,
                         const struct track_context *ctx)
{
    memset(req, 0, sizeof *req);
    hit_clear(&req->hit);
    req->site = site;
    req->ctx = ctx;
    req->ip = "203.0.113.195";
    req->user_agent = "";
    req->uadata = "";
    req->visitor_hex = "";
    req->forced_visitor_hex = "";
}

/* ---- IP ------------------------------------------------------------------ */

static void test_ipv4_masks(void)
{
    char out[ENRICH_IP_TEXT_MAX];
    ASSERT_EQ_INT(enrich_anonymize_ip("203.0.113.195", 2, 80, out), 0);
    ASSERT_EQ_STR(out, "203.0.0.0");
    ASSERT_EQ_INT(enrich_anonymize_ip("203.0.113.195", 1, 80, out), 0);
    ASSERT_EQ_STR(out, "203.0.113.0");
    ASSERT_EQ_INT(enrich_anonymize_ip("203.0.113.195", 0, 80, out), 0);
    ASSERT_EQ_STR(out, "203.0.113.195");
    ASSERT_EQ_INT(enrich_anonymize_ip("203.0.113.195", 4, 80, out), 0);
    ASSERT_EQ_STR(out, "0.0.0.0");
    ASSERT_EQ_INT(enrich_anonymize_ip("255.255.255.255", 9, 80, out), 0); /* clamped to 4 */
    ASSERT_EQ_STR(out, "0.0.0.0");
    /* An IPv4 peer on a dual-stack socket gets the IPv4 rule, not 80 bits. */
    ASSERT_EQ_INT(enrich_anonymize_ip("::ffff:198.51.100.7", 2, 80, out), 0);
    ASSERT_EQ_STR(out, "198.51.0.0");
}

static void test_ipv6_masks(void)
{
    char out[ENRICH_IP_TEXT_MAX];
    ASSERT_EQ_INT(enrich_anonymize_ip("2001:db8:85a3:1234:5678:8a2e:370:7334", 2, 80, out), 0);
    ASSERT_EQ_STR(out, "2001:db8:85a3::");
    /* 84 bits: keep 44 = two groups and the top 12 bits of 0x85a3. */
    ASSERT_EQ_INT(enrich_anonymize_ip("2001:db8:85a3:1234:5678:8a2e:370:7334", 2, 84, out), 0);
    ASSERT_EQ_STR(out, "2001:db8:85a0::");
    ASSERT_EQ_INT(enrich_anonymize_ip("2001:DB8:85A3:1234:5678:8a2e:370:7334", 2, 0, out), 0);
    ASSERT_EQ_STR(out, "2001:db8:85a3:1234:5678:8a2e:370:7334");
    ASSERT_EQ_INT(enrich_anonymize_ip("2001:db8:85a3:1234:5678:8a2e:370:7334", 2, 128, out), 0);
    ASSERT_EQ_STR(out, "::");
    ASSERT_EQ_INT(enrich_anonymize_ip("2001:db8:85a3:1234:5678:8a2e:370:7334", 2, 1, out), 0);
    ASSERT_EQ_STR(out, "2001:db8:85a3:1234:5678:8a2e:370:7334");
    ASSERT_EQ_INT(enrich_anonymize_ip("2001:db8:85a3:1234:5678:8a2e:370:7335", 2, 1, out), 0);
    ASSERT_EQ_STR(out, "2001:db8:85a3:1234:5678:8a2e:370:7334");
    ASSERT_EQ_INT(enrich_anonymize_ip("::1", 2, 80, out), 0);
    ASSERT_EQ_STR(out, "::");
}

static void test_ip_invalid(void)
{
    char out[ENRICH_IP_TEXT_MAX] = "x";
    ASSERT_EQ_INT(enrich_anonymize_ip("not-an-ip", 2, 80, out), -EINVAL);
    ASSERT_EQ_STR(out, "");
    ASSERT_EQ_INT(enrich_anonymize_ip("", 2, 80, out), -EINVAL);
    ASSERT_EQ_INT(enrich_anonymize_ip("203.0.113.195 ", 2, 80, out), -EINVAL);
    ASSERT_EQ_INT(enrich_anonymize_ip("256.1.1.1", 2, 80, out), -EINVAL);
    ASSERT_EQ_INT(enrich_anonymize_ip("2001:db8::1%eth0", 2, 80, out), -EINVAL);
    ASSERT_EQ_INT(enrich_anonymize_ip(NULL, 2, 80, out), -EINVAL);
}

static void test_hit_ip_uses_site_masks(void)
{
    struct arena arena;
    struct track_request req;
    struct site site = test_site();
    arena_init(&arena, 0);

    request_init(&req, &site, &empty_ctx);
    enrich_hit(enrich, &req, &arena);
    ASSERT_EQ_STR(req.hit.ip_anon, "203.0.0.0");

    site.ipv4_mask_bytes = 1;
    request_init(&req, &site, &empty_ctx);
    enrich_hit(enrich, &req, &arena);
    ASSERT_EQ_STR(req.hit.ip_anon, "203.0.113.0");

    site.ipv6_mask_bits = 64;
    request_init(&req, &site, &empty_ctx);
    req.ip = "2a01:e0a:1f3:c0d0:1d2:3e4:5f6:789a";
    enrich_hit(enrich, &req, &arena);
    ASSERT_EQ_STR(req.hit.ip_anon, "2a01:e0a:1f3:c0d0::");

    request_init(&req, &site, &empty_ctx);
    req.ip = "garbage";
    enrich_hit(enrich, &req, &arena);
    ASSERT_EQ_STR(req.hit.ip_anon, "");
    arena_free(&arena);
}

/* ---- language ---------------------------------------------------------- */

struct lang_case {
    const char *param, *header, *language, *locale;
};

static void test_language(void)
{
    static const struct lang_case cases[] = {
        {"", "de-AT,de;q=0.9,en;q=0.8", "de", "de-at"},
        {"", "en-US,en;q=0.5", "en", "en-us"},
        {"", "fr", "fr", "fr"},
        {"", "  ZH-Hant-TW , zh;q=0.8", "zh", "zh-hant-tw"},
        {"", "*;q=0.5, es-419;q=0.8", "es", "es-419"},
        {"", "en;q=0, de", "de", "de"},
        {"", "en;q=0.0, nl-BE;q=0.7", "nl", "nl-be"},
        {"pt_BR", "", "pt", "pt-br"},
        {"fr-CA", "de-DE", "fr", "fr-ca"},
        {"x1", "it-IT,it;q=0.9", "it", "it-it"}, /* a bad lang= falls back to the header */
        {"", "<script>alert(1)</script>", "", ""},
        {"", "de--AT", "", ""},
        {"", "e", "", ""},
        {"", "", "", ""},
        {"", "en-", "", ""},
        {"", "d3-AT", "", ""},
    };
    struct arena arena;
    arena_init(&arena, 0);
    struct site site = test_site();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct track_context ctx = empty_ctx;
        ctx.accept_language = cases[i].header;
        struct track_request req;
        request_init(&req, &site, &ctx);
        req.hit.language = cases[i].param;
        enrich_hit(enrich, &req, &arena);
        if (strcmp(req.hit.language, cases[i].language) != 0 ||
            strcmp(req.hit.locale, cases[i].locale) != 0) {
            arena_free(&arena);
            TEST_FAIL_("lang=\"%s\" Accept-Language \"%s\": got %s/%s, want %s/%s", cases[i].param,
                       cases[i].header, req.hit.language, req.hit.locale, cases[i].language,
                       cases[i].locale);
        }
    }
    arena_free(&arena);
}

/* ---- the modules together --------------------------------------------- */

/* One hit through enrich_hit with the real npm data: each module's part
 * lands in the hit (the modules' own tests cover their rules). */
static void test_modules_fill_the_hit(void)
{
    struct arena arena;
    struct track_request req;
    struct site site = test_site();
    arena_init(&arena, 0);
    struct track_context ctx = empty_ctx;
    ctx.accept_language = "de-AT,de;q=0.9";
    request_init(&req, &site, &ctx);
    req.ip = "8.8.8.8";
    req.user_agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                     "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    req.hit.url = "https://Example.com:443/shoes?utm_campaign=Spring&utm_source=news&color=red#top";
    req.hit.urlref = "https://www.google.com/";
    enrich_hit(enrich, &req, &arena);
    ASSERT_EQ_STR(req.hit.browser, "Safari");
    ASSERT_EQ_STR(req.hit.os, "iOS");
    ASSERT_EQ_STR(req.hit.device_type, "smartphone");
    ASSERT_EQ_STR(req.hit.device_brand, "Apple");
    ASSERT_TRUE(!req.bot);
    ASSERT_EQ_STR(req.hit.country_code, "us");
    ASSERT_EQ_STR(req.hit.continent_code, "amn");
    ASSERT_EQ_STR(req.hit.language, "de");
    ASSERT_EQ_INT(req.hit.referrer_type, REFERRER_CAMPAIGN);
    ASSERT_EQ_STR(req.hit.campaign_name, "spring");
    ASSERT_EQ_STR(req.hit.campaign_source, "news");
    ASSERT_EQ_STR(req.hit.url, "https://example.com/shoes?color=red");
    ASSERT_EQ_STR(req.hit.ip_anon, "8.8.0.0");

    request_init(&req, &site, &ctx);
    req.user_agent = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    req.hit.url = "https://example.com/";
    enrich_hit(enrich, &req, &arena);
    ASSERT_TRUE(req.bot);
    arena_free(&arena);
}

/* ---- tree levels and buckets -------------------------------------------- */

static void test_path_and_title_levels(void)
{
    struct arena arena;
    arena_init(&arena, 0);
    const char *l[4];
    ASSERT_EQ_INT(enrich_path_levels("https://a.example/shop/mugs/blue?x=1#top", &arena, l, 4), 3);
    ASSERT_EQ_STR(l[0], "shop");
    ASSERT_EQ_STR(l[1], "mugs");
    ASSERT_EQ_STR(l[2], "blue");
    ASSERT_EQ_INT(enrich_path_levels("https://a.example", &arena, l, 4), 1);
    ASSERT_EQ_STR(l[0], "/");
    ASSERT_EQ_INT(enrich_path_levels("https://a.example/?q=1", &arena, l, 4), 1);
    ASSERT_EQ_STR(l[0], "/");
    ASSERT_EQ_INT(enrich_path_levels("https://a.example//a///b/", &arena, l, 4), 2);
    ASSERT_EQ_STR(l[1], "b");
    /* Deeper than max: the rest stays in the last level. */
    ASSERT_EQ_INT(enrich_path_levels("https://a.example/1/2/3/4/5/6", &arena, l, 4), 4);
    ASSERT_EQ_STR(l[3], "4/5/6");
    ASSERT_EQ_INT(enrich_path_levels("/relative/page", &arena, l, 4), 2);
    ASSERT_EQ_STR(l[0], "relative");

    ASSERT_EQ_INT(enrich_title_levels("Shop / Mugs / Blue Mug", &arena, l, 4), 3);
    ASSERT_EQ_STR(l[2], "Blue Mug");
    ASSERT_EQ_INT(enrich_title_levels("AC/DC live", &arena, l, 4), 1); /* no " / " */
    ASSERT_EQ_STR(l[0], "AC/DC live");
    ASSERT_EQ_INT(enrich_title_levels("", &arena, l, 4), 0);
    ASSERT_EQ_INT(enrich_title_levels("a / b / c / d / e", &arena, l, 4), 4);
    ASSERT_EQ_STR(l[3], "d / e");
    arena_free(&arena);
}

static void test_resolution_buckets(void)
{
    ASSERT_EQ_STR(enrich_resolution_bucket(0), "");
    ASSERT_EQ_STR(enrich_resolution_bucket(393), "< 640");
    ASSERT_EQ_STR(enrich_resolution_bucket(639), "< 640");
    ASSERT_EQ_STR(enrich_resolution_bucket(640), "640-1023");
    ASSERT_EQ_STR(enrich_resolution_bucket(1024), "1024-1279");
    ASSERT_EQ_STR(enrich_resolution_bucket(1366), "1280-1439");
    ASSERT_EQ_STR(enrich_resolution_bucket(1536), "1440-1919");
    ASSERT_EQ_STR(enrich_resolution_bucket(1920), "1920-2559");
    ASSERT_EQ_STR(enrich_resolution_bucket(2560), "2560+");
    ASSERT_EQ_STR(enrich_resolution_bucket(65535), "2560+");
}


int main(void)
{
    char err[512];
    struct enrich_options opts = {.assets_dir = TALLY_ASSETS_DIR};
    if (enrich_create(&opts, &enrich, err, sizeof err)) {
        printf("Bail out! enrich_create: %s\n", err);
        return 1;
    }
    TEST_RUN(test_ipv4_masks);
    TEST_RUN(test_ipv6_masks);
    TEST_RUN(test_ip_invalid);
    TEST_RUN(test_hit_ip_uses_site_masks);
    TEST_RUN(test_language);
    TEST_RUN(test_modules_fill_the_hit);
    TEST_RUN(test_path_and_title_levels);
    TEST_RUN(test_resolution_buckets);
    enrich_destroy(enrich);
    return TEST_DONE();
}
