/* enrich: IP anonymisation, language, device rules, campaign and referrer,
 * with real inputs and hand-computed expectations. */
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
    enrich_hit(&req, &arena);
    ASSERT_EQ_STR(req.hit.ip_anon, "203.0.0.0");

    site.ipv4_mask_bytes = 1;
    request_init(&req, &site, &empty_ctx);
    enrich_hit(&req, &arena);
    ASSERT_EQ_STR(req.hit.ip_anon, "203.0.113.0");

    site.ipv6_mask_bits = 64;
    request_init(&req, &site, &empty_ctx);
    req.ip = "2a01:e0a:1f3:c0d0:1d2:3e4:5f6:789a";
    enrich_hit(&req, &arena);
    ASSERT_EQ_STR(req.hit.ip_anon, "2a01:e0a:1f3:c0d0::");

    request_init(&req, &site, &empty_ctx);
    req.ip = "garbage";
    enrich_hit(&req, &arena);
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
        enrich_hit(&req, &arena);
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

/* ---- devices --------------------------------------------------------------- */

struct ua_case {
    const char *ua, *browser, *browser_version, *os, *os_version, *device_type;
};

static const struct ua_case ua_cases[] = {
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "120", "Windows", "10", "desktop"},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox",
     "121", "Windows", "10", "desktop"},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.2 Safari/605.1.15",
     "Safari", "17", "macOS", "10.15", "desktop"},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
     "Edge", "120", "Windows", "10", "desktop"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
     "Safari", "17", "iOS", "17", "smartphone"},
    {"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/16.6 Mobile/15E148 Safari/604.1",
     "Safari", "16", "iOS", "16", "tablet"},
    {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Mobile Safari/537.36",
     "Chrome", "120", "Android", "10", "smartphone"},
    {"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36",
     "Samsung Internet", "23", "Android", "13", "tablet"},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
     "Opera", "106", "Windows", "10", "desktop"},
    {"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox",
     "121", "Linux", "", "desktop"},
    {"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "120", "ChromeOS", "", "desktop"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
     "Chrome", "120", "iOS", "17", "smartphone"},
    {"Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0", "Firefox", "121",
     "Android", "14", "smartphone"},
    {"Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko", "", "", "Windows", "7",
     "desktop"},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.2 Safari/605.1.15",
     "Safari", "17", "macOS", "14", "desktop"},
    {"curl/8.4.0", "", "", "", "", ""},
    {"", "", "", "", "", ""},
};

static void test_user_agents(void)
{
    struct arena arena;
    arena_init(&arena, 0);
    struct site site = test_site();
    for (size_t i = 0; i < sizeof ua_cases / sizeof ua_cases[0]; i++) {
        const struct ua_case *c = &ua_cases[i];
        struct track_request req;
        request_init(&req, &site, &empty_ctx);
        req.user_agent = c->ua;
        enrich_hit(&req, &arena);
        const struct hit *h = &req.hit;
        if (strcmp(h->browser, c->browser) || strcmp(h->browser_version, c->browser_version) ||
            strcmp(h->os, c->os) || strcmp(h->os_version, c->os_version) ||
            strcmp(h->device_type, c->device_type) || strcmp(h->device_model, "")) {
            arena_free(&arena);
            TEST_FAIL_("%s\n  got  %s|%s|%s|%s|%s|%s\n  want %s|%s|%s|%s|%s|", c->ua, h->browser,
                       h->browser_version, h->os, h->os_version, h->device_type, h->device_model,
                       c->browser, c->browser_version, c->os, c->os_version, c->device_type);
        }
    }
    arena_free(&arena);
}

static void test_uadata(void)
{
    struct arena arena;
    arena_init(&arena, 0);
    struct site site = test_site();
    struct track_request req;

    /* Chrome on Windows 11: the user agent still says "Windows NT 10.0". */
    request_init(&req, &site, &empty_ctx);
    req.user_agent = ua_cases[0].ua;
    req.uadata = "{\"fullVersionList\":[{\"brand\":\"Not_A Brand\",\"version\":\"8.0.0.0\"},"
                 "{\"brand\":\"Chromium\",\"version\":\"120.0.6099.130\"},"
                 "{\"brand\":\"Google Chrome\",\"version\":\"120.0.6099.130\"}],"
                 "\"mobile\":false,\"model\":\"\",\"platform\":\"Windows\","
                 "\"platformVersion\":\"15.0.0\"}";
    enrich_hit(&req, &arena);
    ASSERT_EQ_STR(req.hit.browser, "Chrome");
    ASSERT_EQ_STR(req.hit.browser_version, "120");
    ASSERT_EQ_STR(req.hit.os, "Windows");
    ASSERT_EQ_STR(req.hit.os_version, "11");
    ASSERT_EQ_STR(req.hit.device_type, "desktop");
    ASSERT_EQ_STR(req.hit.device_model, "");

    /* Chrome on a Pixel: the reduced user agent says "Android 10; K". */
    request_init(&req, &site, &empty_ctx);
    req.user_agent = ua_cases[6].ua;
    req.uadata = "{\"fullVersionList\":[{\"brand\":\"Not_A Brand\",\"version\":\"8.0.0.0\"},"
                 "{\"brand\":\"Chromium\",\"version\":\"121.0.6167.101\"},"
                 "{\"brand\":\"Google Chrome\",\"version\":\"121.0.6167.101\"}],"
                 "\"mobile\":true,\"model\":\"Pixel 7\",\"platform\":\"Android\","
                 "\"platformVersion\":\"14.0.0\"}";
    enrich_hit(&req, &arena);
    ASSERT_EQ_STR(req.hit.browser, "Chrome");
    ASSERT_EQ_STR(req.hit.browser_version, "121");
    ASSERT_EQ_STR(req.hit.os, "Android");
    ASSERT_EQ_STR(req.hit.os_version, "14");
    ASSERT_EQ_STR(req.hit.device_type, "smartphone");
    ASSERT_EQ_STR(req.hit.device_model, "Pixel 7");

    /* Only Chromium listed: Chromium it is. Brands-only (older tracker). */
    request_init(&req, &site, &empty_ctx);
    req.uadata = "{\"brands\":[{\"brand\":\"Chromium\",\"version\":\"119\"},"
                 "{\"brand\":\"Not?A_Brand\",\"version\":\"24\"}],\"mobile\":false,"
                 "\"platform\":\"Linux\"}";
    enrich_hit(&req, &arena);
    ASSERT_EQ_STR(req.hit.browser, "Chromium");
    ASSERT_EQ_STR(req.hit.browser_version, "119");
    ASSERT_EQ_STR(req.hit.os, "Linux");
    ASSERT_EQ_STR(req.hit.device_type, "desktop");

    /* Hints without a usable OS version: the user agent's version of the
     * same OS stays (platformVersion 0.x covers Windows 7, 8 and 8.1). */
    request_init(&req, &site, &empty_ctx);
    req.user_agent = "Mozilla/5.0 (Windows NT 6.3; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                     "Gecko) Chrome/109.0.0.0 Safari/537.36";
    req.uadata =
        "{\"fullVersionList\":[{\"brand\":\"Google Chrome\",\"version\":\"109.0.5414.120\"}],"
        "\"mobile\":false,\"platform\":\"Windows\",\"platformVersion\":\"0.3.0\"}";
    enrich_hit(&req, &arena);
    ASSERT_EQ_STR(req.hit.browser_version, "109");
    ASSERT_EQ_STR(req.hit.os, "Windows");
    ASSERT_EQ_STR(req.hit.os_version, "8.1");

    /* Broken JSON changes nothing the user agent said. */
    request_init(&req, &site, &empty_ctx);
    req.user_agent = ua_cases[1].ua;
    req.uadata = "{\"fullVersionList\":[{\"brand\":";
    enrich_hit(&req, &arena);
    ASSERT_EQ_STR(req.hit.browser, "Firefox");
    ASSERT_EQ_STR(req.hit.os_version, "10");

    /* A made-up brand is kept only as short printable text. */
    request_init(&req, &site, &empty_ctx);
    req.uadata = "{\"fullVersionList\":[{\"brand\":\"Evil\\u0007Browser with a very long name "
                 "that goes on and on\",\"version\":\"3.1\"}]}";
    enrich_hit(&req, &arena);
    ASSERT_EQ_STR(req.hit.browser, "EvilBrowser with a very long name that g");
    ASSERT_EQ_STR(req.hit.browser_version, "3");
    arena_free(&arena);
}

/* uadata is read by a hand-written scanner: exact JSON or nothing. */
static void test_uadata_hostile(void)
{
    static const char sample[] =
        "{\"fullVersionList\":[{\"brand\":\"Google\\u0020Chrome\",\"version\":\"120.0.1\"}],"
        "\"mobile\":true,\"model\":\"SM-S918B\",\"platform\":\"Android\",\"platformVersion\":"
        "\"14\","
        "\"extra\":{\"nested\":[1,-2.5e3,null,false,\"x\\\"y\"]}}";
    struct arena arena;
    arena_init(&arena, 0);
    struct site site = test_site();
    struct track_request req;

    request_init(&req, &site, &empty_ctx);
    req.uadata = sample;
    enrich_hit(&req, &arena);
    char browser[32], model[32], type[32];
    snprintf(browser, sizeof browser, "%s", req.hit.browser);
    snprintf(model, sizeof model, "%s", req.hit.device_model);
    snprintf(type, sizeof type, "%s", req.hit.device_type);

    /* Every truncation is malformed: nothing may be read from it, nothing
     * may crash (this runs under ASan in make test). */
    char cut[sizeof sample];
    int read_from_truncated = 0;
    for (size_t len = 0; len + 1 < sizeof sample; len++) {
        memcpy(cut, sample, len);
        cut[len] = '\0';
        request_init(&req, &site, &empty_ctx);
        req.uadata = cut;
        enrich_hit(&req, &arena);
        if (req.hit.browser[0] || req.hit.os[0]) read_from_truncated++;
    }

    static const char *const bad[] = {
        "{\"brands\":[{\"brand\":\"Opera\",\"version\":\"99\"}]} trailing",
        "{\"brands\":[{\"brand\":\"Opera\" \"version\":\"99\"}]}",
        "{\"brands\":[{\"brand\":\"Op\\xera\"}]}",
        "{\"mobile\":tru}",
        "{\"platform\":\"Windows\",\"n\":01}",
        "{\"platform\":\"Windows\",\"n\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}",
        "{\"platform\":\"Windows\",}",
    };
    int read_from_bad = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        request_init(&req, &site, &empty_ctx);
        req.uadata = bad[i];
        enrich_hit(&req, &arena);
        if (req.hit.browser[0] || req.hit.os[0]) read_from_bad++;
    }
    arena_free(&arena);

    ASSERT_EQ_STR(browser, "Chrome");
    ASSERT_EQ_STR(model, "SM-S918B");
    ASSERT_EQ_STR(type, "smartphone");
    ASSERT_EQ_INT(read_from_truncated, 0);
    ASSERT_EQ_INT(read_from_bad, 0);
}

static void test_sec_ch_ua_headers(void)
{
    struct arena arena;
    arena_init(&arena, 0);
    struct site site = test_site();
    struct track_context ctx = empty_ctx;
    ctx.sec_ch_ua = "\"Microsoft Edge\";v=\"120\", \"Chromium\";v=\"120\", \"Not_A Brand\";v=\"8\"";
    ctx.sec_ch_ua_mobile = "?0";
    ctx.sec_ch_ua_platform = "\"Windows\"";
    ctx.sec_ch_ua_platform_version = "\"10.0.0\"";
    struct track_request req;
    request_init(&req, &site, &ctx);
    enrich_hit(&req, &arena);
    ASSERT_EQ_STR(req.hit.browser, "Edge");
    ASSERT_EQ_STR(req.hit.browser_version, "120");
    ASSERT_EQ_STR(req.hit.os, "Windows");
    ASSERT_EQ_STR(req.hit.os_version, "10");
    ASSERT_EQ_STR(req.hit.device_type, "desktop");
    arena_free(&arena);
}

/* ---- campaign and referrer ------------------------------------------------ */

static void acquire(struct arena *arena, const char *url, const char *urlref,
                    struct track_request *req)
{
    static struct site site;
    site = test_site();
    request_init(req, &site, &empty_ctx);
    req->hit.url = url;
    req->hit.urlref = urlref;
    enrich_hit(req, arena);
}

static void test_campaigns(void)
{
    struct arena arena;
    arena_init(&arena, 0);
    struct track_request req;

    acquire(&arena,
            "https://example.com/landing?utm_campaign=Spring%20Sale&utm_source=Newsletter&"
            "utm_medium=Email&utm_term=Blue+Mugs&utm_content=Hero&utm_id=42#top",
            "https://mail.example.net/", &req);
    ASSERT_EQ_INT(req.hit.referrer_type, REFERRER_CAMPAIGN);
    ASSERT_EQ_STR(req.hit.referrer_name, "spring sale");
    ASSERT_EQ_STR(req.hit.referrer_url, "https://mail.example.net/");
    ASSERT_EQ_STR(req.hit.campaign_name, "spring sale");
    ASSERT_EQ_STR(req.hit.campaign_keyword, "blue mugs");
    ASSERT_EQ_STR(req.hit.campaign_source, "newsletter");
    ASSERT_EQ_STR(req.hit.campaign_medium, "email");
    ASSERT_EQ_STR(req.hit.campaign_content, "Hero");
    ASSERT_EQ_STR(req.hit.campaign_id, "42");

    acquire(&arena, "https://example.com/?utm_campaign=B&mtm_campaign=A&mtm_cid=7", "", &req);
    ASSERT_EQ_STR(req.hit.campaign_name, "a");
    ASSERT_EQ_STR(req.hit.campaign_id, "7");
    ASSERT_EQ_STR(req.hit.referrer_url, "");

    acquire(&arena, "https://example.com/p?pk_campaign=Winter&pk_kwd=Boots&pk_source=ADS", "",
            &req);
    ASSERT_EQ_STR(req.hit.campaign_name, "winter");
    ASSERT_EQ_STR(req.hit.campaign_keyword, "boots");
    ASSERT_EQ_STR(req.hit.campaign_source, "ads");
    ASSERT_EQ_STR(req.hit.campaign_medium, "");

    acquire(&arena, "https://example.com/p?matomo_campaign=M1&_rck=kw", "", &req);
    ASSERT_EQ_STR(req.hit.campaign_name, "m1");
    ASSERT_EQ_STR(req.hit.campaign_keyword, "kw");

    /* A keyword alone is no campaign; the referrer decides. */
    acquire(&arena, "https://example.com/p?utm_source=x&utm_term=y", "", &req);
    ASSERT_EQ_INT(req.hit.referrer_type, REFERRER_DIRECT);
    ASSERT_EQ_STR(req.hit.campaign_source, "");

    /* Campaign parameters in the fragment are not read (issue 3 may). */
    acquire(&arena, "https://example.com/p#utm_campaign=frag", "", &req);
    ASSERT_EQ_INT(req.hit.referrer_type, REFERRER_DIRECT);
    ASSERT_EQ_STR(req.hit.campaign_name, "");

    /* A malformed escape in the page URL: no campaign, no failure. */
    acquire(&arena, "https://example.com/p?utm_campaign=%zz", "", &req);
    ASSERT_EQ_INT(req.hit.referrer_type, REFERRER_DIRECT);
    ASSERT_EQ_STR(req.hit.campaign_name, "");
    arena_free(&arena);
}

static void test_referrers(void)
{
    struct arena arena;
    arena_init(&arena, 0);
    struct track_request req;

    acquire(&arena, "https://example.com/a", "", &req);
    ASSERT_EQ_INT(req.hit.referrer_type, REFERRER_DIRECT);
    ASSERT_EQ_STR(req.hit.referrer_name, "");
    ASSERT_EQ_STR(req.hit.referrer_url, "");

    /* Internal: the site's host, its www variant both ways, any port. */
    acquire(&arena, "https://example.com/a", "https://example.com/b", &req);
    ASSERT_EQ_INT(req.hit.referrer_type, REFERRER_DIRECT);
    acquire(&arena, "https://example.com/a", "https://www.example.com/about", &req);
    ASSERT_EQ_INT(req.hit.referrer_type, REFERRER_DIRECT);
    ASSERT_EQ_STR(req.hit.referrer_name, "");
    acquire(&arena, "https://shop.test/a", "http://SHOP.test:8080/cart", &req);
    ASSERT_EQ_INT(req.hit.referrer_type, REFERRER_DIRECT);

    acquire(&arena, "https://example.com/a", "https://news.ycombinator.com/item?id=38", &req);
    ASSERT_EQ_INT(req.hit.referrer_type, REFERRER_WEBSITE);
    ASSERT_EQ_STR(req.hit.referrer_name, "news.ycombinator.com");
    ASSERT_EQ_STR(req.hit.referrer_url, "https://news.ycombinator.com/item?id=38");

    /* Another subdomain is another website. */
    acquire(&arena, "https://example.com/a", "https://blog.example.com/post", &req);
    ASSERT_EQ_INT(req.hit.referrer_type, REFERRER_WEBSITE);
    ASSERT_EQ_STR(req.hit.referrer_name, "blog.example.com");

    acquire(&arena, "https://example.com/a", "https://user:pw@Evil.COM./x", &req);
    ASSERT_EQ_INT(req.hit.referrer_type, REFERRER_WEBSITE);
    ASSERT_EQ_STR(req.hit.referrer_name, "evil.com");

    acquire(&arena, "https://example.com/a", "android-app://com.google.android.gm/", &req);
    ASSERT_EQ_INT(req.hit.referrer_type, REFERRER_WEBSITE);
    ASSERT_EQ_STR(req.hit.referrer_name, "com.google.android.gm");

    /* No host: direct. */
    acquire(&arena, "https://example.com/a", "about:blank", &req);
    ASSERT_EQ_INT(req.hit.referrer_type, REFERRER_DIRECT);
    acquire(&arena, "https://example.com/a", "https:///nohost", &req);
    ASSERT_EQ_INT(req.hit.referrer_type, REFERRER_DIRECT);
    acquire(&arena, "https://example.com/a", "java script://x", &req);
    ASSERT_EQ_INT(req.hit.referrer_type, REFERRER_DIRECT);
    arena_free(&arena);
}

int main(void)
{
    TEST_RUN(test_ipv4_masks);
    TEST_RUN(test_ipv6_masks);
    TEST_RUN(test_ip_invalid);
    TEST_RUN(test_hit_ip_uses_site_masks);
    TEST_RUN(test_language);
    TEST_RUN(test_user_agents);
    TEST_RUN(test_uadata);
    TEST_RUN(test_uadata_hostile);
    TEST_RUN(test_sec_ch_ua_headers);
    TEST_RUN(test_campaigns);
    TEST_RUN(test_referrers);
    return TEST_DONE();
}
