/* ua: real user agents with exact expectations, client hints over frozen
 * user agents, bots and humans, hostile inputs, data-file errors, and the
 * per-call cost with a warm cache and with all-unique user agents. Needs
 * node_modules/ (scripts/assets.sh), found from the working directory or
 * $TALLY_ASSETS. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../src/base/base.h"
#include "../src/enrich/ua.h"
#include "test.h"

static struct ua_parser *parser;

static const char *assets_dir(void)
{
    const char *dir = getenv("TALLY_ASSETS");
    return dir && *dir ? dir : "node_modules";
}

struct ua_case {
    const char *ua;
    const char *browser, *version, *engine, *os, *os_version, *type, *brand, *model;
};

static const struct ua_case ua_cases[] = {
    /* desktop */
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "120", "Blink", "Windows", "10", "desktop", "", ""},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
     "Edge", "120", "Blink", "Windows", "10", "desktop", "", ""},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox",
     "121", "Gecko", "Windows", "10", "desktop", "", ""},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.2 Safari/605.1.15",
     "Safari", "17", "WebKit", "macOS", "10.15", "desktop", "Apple", "Mac"},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "120", "Blink", "macOS", "10.15", "desktop", "Apple", "Mac"},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:121.0) Gecko/20100101 Firefox/121.0",
     "Firefox", "121", "Gecko", "macOS", "14", "desktop", "Apple", "Mac"},
    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
     "Safari/537.36",
     "Chrome", "120", "Blink", "Linux", "", "desktop", "", ""},
    {"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox",
     "121", "Gecko", "Ubuntu", "", "desktop", "", ""},
    {"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "120", "Blink", "ChromeOS", "14541", "desktop", "", ""},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
     "Opera", "106", "Blink", "Windows", "10", "desktop", "", ""},
    {"Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko", "IE", "11", "Trident",
     "Windows", "7", "desktop", "", ""},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/70.0.3538.102 Safari/537.36 Edge/18.19045",
     "Edge", "18", "EdgeHTML", "Windows", "10", "desktop", "", ""},
    /* iPadOS 13+ Safari in its default desktop mode sends exactly a Mac's
     * user agent and no client hints: it is indistinguishable, so a Mac. */
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/16.6 Safari/605.1.15",
     "Safari", "16", "WebKit", "macOS", "10.15", "desktop", "Apple", "Mac"},
    /* phones */
    {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Mobile Safari/537.36",
     "Chrome", "120", "Blink", "Android", "10", "smartphone", "", ""},
    {"Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
     "Samsung Internet", "23", "Blink", "Android", "13", "smartphone", "Samsung", "SM-S918B"},
    {"Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0", "Firefox", "121",
     "Gecko", "Android", "14", "smartphone", "", ""},
    {"Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.6099.144 Mobile Safari/537.36",
     "Chrome", "120", "Blink", "Android", "14", "smartphone", "Google", "Pixel 8 Pro"},
    {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Mobile Safari/537.36 OPR/79.1.4195.76505",
     "Opera", "79", "Blink", "Android", "10", "smartphone", "", ""},
    {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.2210.115",
     "Edge", "120", "Blink", "Android", "10", "smartphone", "", ""},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
     "Safari", "17", "WebKit", "iOS", "17", "smartphone", "Apple", "iPhone"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
     "Chrome", "120", "WebKit", "iOS", "17", "smartphone", "Apple", "iPhone"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15",
     "Firefox", "121", "WebKit", "iOS", "17", "smartphone", "Apple", "iPhone"},
    {"Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 "
     "(KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
     "Android", "4", "WebKit", "Android", "4", "smartphone", "LG", "L160L"},
    /* in-app browsers */
    {"Mozilla/5.0 (Linux; Android 14; SM-S911B Build/UP1A.231005.007; wv) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 "
     "[FB_IAB/FB4A;FBAV/444.0.0.32.118;]",
     "Facebook", "444", "Blink", "Android", "14", "smartphone", "Samsung", "SM-S911B"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/443.0.0.23.229;FBBV/536226620;FBDV/iPhone14,5;FBMD/"
     "iPhone;FBSN/iOS;FBSV/17.1.2;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
     "Facebook", "443", "WebKit", "iOS", "17", "smartphone", "Apple", "iPhone14,5"},
    /* tablets */
    {"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/16.6 Mobile/15E148 Safari/604.1",
     "Safari", "16", "WebKit", "iPadOS", "16", "tablet", "Apple", "iPad"},
    {"Mozilla/5.0 (iPad; CPU OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/12.1.2 Mobile/15E148 Safari/604.1",
     "Safari", "12", "WebKit", "iOS", "12", "tablet", "Apple", "iPad"},
    {"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36",
     "Samsung Internet", "23", "Blink", "Android", "13", "tablet", "", "SM-X700"},
    {"Mozilla/5.0 (Linux; Android 11; Lenovo TB-J606F) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "120", "Blink", "Android", "11", "tablet", "Lenovo", "TB-J606F"},
    {"Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Silk/120.3.1 like Chrome/120.0.6099.230 Safari/537.36",
     "Amazon Silk", "120", "Blink", "Android", "9", "tablet", "Amazon", "Kindle"},
    /* TVs */
    {"Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36",
     "Samsung Internet", "4", "Blink", "Tizen", "6", "tv", "Samsung", "SMART-TV"},
    {"Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/79.0.3945.79 Safari/537.36 WebAppManager",
     "Chrome", "79", "Blink", "Web0S", "", "tv", "LG", "Web0S SmartTV"},
    {"Mozilla/5.0 (Linux; Android 9; BRAVIA 4K GB ATV3 Build/PTT1.190515.001.S52) "
     "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/100.0.4896.127 Mobile Safari/537.36",
     "Chrome", "100", "Blink", "Android", "9", "tv", "", "BRAVIA 4K GB ATV3"},
    {"Mozilla/5.0 (Linux; Android 9; AFTSSS) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Silk/108.4.1 like Chrome/108.0.5359.220 Safari/537.36",
     "Amazon Silk", "108", "Blink", "Android", "9", "tv", "Amazon", "Kindle"},
    {"Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.0.0 "
     "Safari/537.36 CrKey/1.56.500000",
     "Chrome", "108", "Blink", "Chromecast", "1", "tv", "", ""},
    /* consoles, car, wearable, feature phones, media player */
    {"Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/13.0 Safari/605.1.15",
     "Safari", "13", "WebKit", "", "", "console", "Sony", "PlayStation 5"},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like "
     "Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.160",
     "Edge", "120", "Blink", "Windows", "10", "console", "", ""},
    {"Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 (KHTML, like Gecko) "
     "NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393",
     "", "", "WebKit", "", "", "console", "", ""},
    {"Mozilla/5.0 (X11; GNU/Linux) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chromium/79.0.3945.130 Chrome/79.0.3945.130 Safari/537.36 Tesla/2023.44.30-ee02e3e08f60",
     "Chromium", "79", "Blink", "Linux", "", "car browser", "", ""},
    {"Mozilla/5.0 (Linux; Android 11; Pixel Watch Build/RWDA.230203.001) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Chrome/110.0.5481.153 Mobile Safari/537.36",
     "Chrome", "110", "Blink", "Android", "11", "wearable", "Google", "Pixel Watch"},
    {"Mozilla/5.0 (Mobile; Nokia_8110_4G; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5", "Firefox",
     "48", "Gecko", "KaiOS", "2", "feature phone", "Nokia", "8110"},
    {"Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) "
     "Presto/2.5.25 Version/10.54",
     "Opera Mini", "9", "Presto", "Symbian OS", "", "feature phone", "", ""},
    {"Mozilla/5.0 (iPod touch; CPU iPhone OS 15_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
     "like Gecko) Version/15.6 Mobile/15E148 Safari/604.1",
     "Safari", "15", "WebKit", "iOS", "15", "portable media player", "Apple", "iPod"},
};

#define CHECK_FIELD(field, want)                                                                   \
    if (strcmp(r.field, want) != 0) {                                                              \
        printf("#   %s\n#   " #field ": got \"%s\", want \"%s\"\n", c->ua, r.field, want);         \
        bad++;                                                                                     \
    }

static void test_real_user_agents(void)
{
    int bad = 0;
    for (size_t i = 0; i < sizeof ua_cases / sizeof ua_cases[0]; i++) {
        const struct ua_case *c = &ua_cases[i];
        struct ua_result r;
        ua_parse(parser, c->ua, NULL, &r);
        CHECK_FIELD(browser, c->browser);
        CHECK_FIELD(browser_version, c->version);
        CHECK_FIELD(engine, c->engine);
        CHECK_FIELD(os, c->os);
        CHECK_FIELD(os_version, c->os_version);
        CHECK_FIELD(device_type, c->type);
        CHECK_FIELD(device_brand, c->brand);
        CHECK_FIELD(device_model, c->model);
        if (r.bot) {
            printf("#   %s\n#   flagged as bot \"%s\"\n", c->ua, r.bot_name);
            bad++;
        }
    }
    ASSERT_EQ_INT(bad, 0);
}

/* ---- client hints --------------------------------------------------------- */

static const char *const chrome_windows_ua =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";
static const char *const chrome_android_ua =
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36";

static void test_uadata_windows_11(void)
{
    struct ua_hints h = {
        .uadata = "{\"fullVersionList\":[{\"brand\":\"Not_A Brand\",\"version\":\"8.0.0.0\"},"
                  "{\"brand\":\"Chromium\",\"version\":\"120.0.6099.110\"},"
                  "{\"brand\":\"Microsoft Edge\",\"version\":\"120.0.2210.91\"}],"
                  "\"mobile\":false,\"model\":\"\",\"platform\":\"Windows\","
                  "\"platformVersion\":\"15.0.0\"}"};
    struct ua_result r;
    ua_parse(parser, chrome_windows_ua, &h, &r);
    ASSERT_EQ_STR(r.browser, "Edge");
    ASSERT_EQ_STR(r.browser_version, "120");
    ASSERT_EQ_STR(r.engine, "Blink");
    ASSERT_EQ_STR(r.os, "Windows");
    ASSERT_EQ_STR(r.os_version, "11");
    ASSERT_EQ_STR(r.device_type, "desktop");
    ASSERT_TRUE(!r.bot);

    /* Platform version 10.0.0 is Windows 10; the same user agent. */
    h.uadata = "{\"brands\":[{\"brand\":\"Google Chrome\",\"version\":\"120\"}],"
               "\"mobile\":false,\"platform\":\"Windows\",\"platformVersion\":\"10.0.0\"}";
    ua_parse(parser, chrome_windows_ua, &h, &r);
    ASSERT_EQ_STR(r.browser, "Chrome");
    ASSERT_EQ_STR(r.os_version, "10");
}

static void test_sec_ch_ua_headers(void)
{
    struct ua_hints h = {
        .uadata = "",
        .sec_ch_ua =
            "\"Chromium\";v=\"120\", \"Google Chrome\";v=\"120\", \"Not?A_Brand\";v=\"24\"",
        .sec_ch_ua_mobile = "?0",
        .sec_ch_ua_platform = "\"Windows\"",
        .sec_ch_ua_platform_version = "\"13.0.0\"",
        .sec_ch_ua_model = "\"\"",
    };
    struct ua_result r;
    ua_parse(parser, chrome_windows_ua, &h, &r);
    ASSERT_EQ_STR(r.browser, "Chrome");
    ASSERT_EQ_STR(r.browser_version, "120");
    ASSERT_EQ_STR(r.os, "Windows");
    ASSERT_EQ_STR(r.os_version, "11");
    ASSERT_EQ_STR(r.device_type, "desktop");

    /* Chromium alone is the brand; GREASE never is. */
    h.sec_ch_ua = "\"Not A(Brand\";v=\"99\", \"Chromium\";v=\"121\"";
    ua_parse(parser, chrome_windows_ua, &h, &r);
    ASSERT_EQ_STR(r.browser, "Chromium");
    ASSERT_EQ_STR(r.browser_version, "121");

    /* uadata wins over the headers when both are there. */
    h.uadata = "{\"fullVersionList\":[{\"brand\":\"Opera\",\"version\":\"106.0.4998.52\"}],"
               "\"mobile\":false,\"platform\":\"Windows\",\"platformVersion\":\"0.3.0\"}";
    ua_parse(parser, chrome_windows_ua, &h, &r);
    ASSERT_EQ_STR(r.browser, "Opera");
    ASSERT_EQ_STR(r.browser_version, "106");
    /* 0.x is 7/8/8.1, which this user agent does not tell: it says NT 10.0,
     * so the user agent's "10" stays. */
    ASSERT_EQ_STR(r.os_version, "10");
}

static void test_hints_android_model(void)
{
    struct ua_hints h = {
        .uadata =
            "{\"fullVersionList\":[{\"brand\":\"Google Chrome\",\"version\":\"120.0.6099.144\"},"
            "{\"brand\":\"Chromium\",\"version\":\"120.0.6099.144\"},"
            "{\"brand\":\"Not?A_Brand\",\"version\":\"24.0.0.0\"}],\"mobile\":true,"
            "\"model\":\"SM-S918B\",\"platform\":\"Android\",\"platformVersion\":\"14.0.0\"}"};
    struct ua_result r;
    ua_parse(parser, chrome_android_ua, &h, &r);
    ASSERT_EQ_STR(r.browser, "Chrome");
    ASSERT_EQ_STR(r.os, "Android");
    ASSERT_EQ_STR(r.os_version, "14");
    ASSERT_EQ_STR(r.device_type, "smartphone");
    ASSERT_EQ_STR(r.device_brand, "Samsung");
    ASSERT_EQ_STR(r.device_model, "SM-S918B");

    /* A tablet's Chrome says mobile ?0 with the same frozen "K" agent. */
    struct ua_hints t = {.sec_ch_ua = "\"Google Chrome\";v=\"120\"",
                         .sec_ch_ua_mobile = "?0",
                         .sec_ch_ua_platform = "\"Android\"",
                         .sec_ch_ua_platform_version = "\"13.0.0\"",
                         .sec_ch_ua_model = "\"Pixel Tablet\""};
    ua_parse(parser, chrome_android_ua, &t, &r);
    ASSERT_EQ_STR(r.device_type, "tablet");
    ASSERT_EQ_STR(r.os_version, "13");
    ASSERT_EQ_STR(r.device_brand, "Google");
    ASSERT_EQ_STR(r.device_model, "Pixel Tablet");

    /* macOS: 10.x keeps its minor, later versions do not. */
    struct ua_hints m = {.sec_ch_ua_platform = "\"macOS\"",
                         .sec_ch_ua_platform_version = "\"14.2.1\""};
    ua_parse(parser, ua_cases[4].ua, &m, &r);
    ASSERT_EQ_STR(r.os, "macOS");
    ASSERT_EQ_STR(r.os_version, "14");
}

static void test_hostile_hints(void)
{
    /* Broken JSON changes nothing; the headers still apply. */
    static const char *const broken[] = {"{",
                                         "{\"fullVersionList\":[{\"brand\":\"Evil\"",
                                         "[1,2,3]",
                                         "{\"platform\":\"Windows\"} x",
                                         "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]}",
                                         "{\"brand\":\"\\u00zz\"}",
                                         "\xff\xfe{",
                                         "null"};
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        struct ua_hints h = {.uadata = broken[i], .sec_ch_ua_platform = "\"Linux\""};
        struct ua_result r;
        ua_parse(parser, chrome_windows_ua, &h, &r);
        ASSERT_EQ_STR(r.browser, "Chrome");
        ASSERT_EQ_STR(r.os, "Linux");
    }
    /* Control characters and long text from hints are cut and cleaned. */
    struct ua_hints h = {.uadata = "{\"brands\":[{\"brand\":\"Evil\\n<script>\\u0007Brand"
                                   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
                                   "\"version\":\"9999999999999999999999\"}]}",
                         .sec_ch_ua_model = "\"\x01Model); DROP\""};
    struct ua_result r;
    ua_parse(parser, chrome_android_ua, &h, &r);
    ASSERT_EQ_STR(r.browser, "Evil<script>BrandAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    ASSERT_EQ_STR(r.browser_version, "999999999999999");
    ASSERT_EQ_STR(r.device_model, "Model   DROP");
}

/* ---- bots ----------------------------------------------------------------- */

static void test_bots(void)
{
    static const struct {
        const char *ua, *name;
    } bots[] = {
        {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot"},
        {"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, "
         "like Gecko) Chrome/120.0.6099.129 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
         "+http://www.google.com/bot.html)",
         "Googlebot"},
        {"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "bingbot"},
        {"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; "
         "+https://openai.com/gptbot)",
         "GPTBot"},
        {"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; "
         "+claudebot@anthropic.com)",
         "ClaudeBot"},
        {"Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", "YandexBot"},
        {"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", "AhrefsBot"},
        {"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
         "facebookexternalhit"},
        {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "HeadlessChrome/120.0.6099.109 Safari/537.36",
         "HeadlessChrome"},
        {"Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
         "PhantomJS/2.1.1 Safari/538.1",
         "PhantomJS"},
        {"curl/8.4.0", "curl"},
        {"Wget/1.21.3", "Wget"},
        {"python-requests/2.31.0", "python-requests"},
        {"Go-http-client/1.1", "Go-http-client"},
        {"Java/17.0.9", "Java"},
        {"okhttp/4.12.0", "okhttp"},
        {"axios/1.6.2", "axios"},
        {"node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "node-fetch"},
        {"Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", "UptimeRobot"},
        {"Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", "Pingdom"},
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0.0.0 Safari/537.36 DatadogSynthetics",
         "Datadog Synthetics"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof bots / sizeof bots[0]; i++) {
        struct ua_result r;
        ua_parse(parser, bots[i].ua, NULL, &r);
        if (!r.bot || strcmp(r.bot_name, bots[i].name) != 0) {
            printf("#   \"%s\": bot=%d name \"%s\", want \"%s\"\n", bots[i].ua, r.bot, r.bot_name,
                   bots[i].name);
            bad++;
        }
    }
    ASSERT_EQ_INT(bad, 0);
    struct ua_result r;
    ua_parse(parser, NULL, NULL, &r);
    ASSERT_TRUE(!r.bot); /* no user agent is no verdict */

    /* A headless Chrome whose user agent was dressed as Chrome's. */
    struct ua_hints h = {.sec_ch_ua = "\"HeadlessChrome\";v=\"120\", \"Chromium\";v=\"120\""};
    ua_parse(parser, chrome_windows_ua, &h, &r);
    ASSERT_TRUE(r.bot);
    ASSERT_EQ_STR(r.bot_name, "HeadlessChrome");
}

static void test_humans_are_not_bots(void)
{
    int bad = 0;
    for (size_t i = 0; i < sizeof ua_cases / sizeof ua_cases[0]; i++) {
        struct ua_result r;
        ua_parse(parser, ua_cases[i].ua, NULL, &r);
        if (r.bot) {
            printf("#   human flagged \"%s\": %s\n", ua_cases[i].ua, r.bot_name);
            bad++;
        }
    }
    /* Strings that contain bot-like words but are people. */
    static const char *const humans[] = {
        "", "   ", /* server-side trackers may send no user agent */
        "Mozilla/5.0 (Linux; Android 12; CUBOT KINGKONG 7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Mobile/15E148 Instagram 312.0.0.22.114 (iPhone14,2; iOS 17_2; en_US; en; "
        "scale=3.00; 1170x2532; 548339486)",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 YaBrowser/24.1.0.0 Safari/537.36",
        "Mozilla/5.0 (Linux; Android 13; moto g(60)) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36",
    };
    for (size_t i = 0; i < sizeof humans / sizeof humans[0]; i++) {
        struct ua_result r;
        ua_parse(parser, humans[i], NULL, &r);
        if (r.bot) {
            printf("#   human flagged \"%s\": %s\n", humans[i], r.bot_name);
            bad++;
        }
    }
    ASSERT_EQ_INT(bad, 0);
}

/* ---- hostile input -------------------------------------------------------- */

static void test_hostile_user_agents(void)
{
    static char big[10 * 1024 + 1];
    struct ua_result r;

    /* 10 KB of a real prefix and then "a"s: parsed on the first 1 KB. */
    memset(big, 'a', sizeof big - 1);
    memcpy(big, chrome_windows_ua, strlen(chrome_windows_ua));
    ua_parse(parser, big, NULL, &r);
    ASSERT_EQ_STR(r.browser, "Chrome");
    ASSERT_TRUE(!r.bot);

    /* 10 KB of patterns that invite backtracking. */
    for (size_t i = 0; i + 1 < sizeof big; i++)
        big[i] = "Mozilla/5.0 (iPhone; Android ;;; ((("[i % 37];
    ua_parse(parser, big, NULL, &r);
    ASSERT_TRUE(strlen(r.device_type) < sizeof r.device_type);

    /* Invalid UTF-8 and control bytes never reach a result. */
    ua_parse(parser,
             "Mozilla/5.0 (Linux; Android 13; SM-\xff\xfe\x01S918B) AppleWebKit/537.36 (KHTML, "
             "like Gecko) Chrome/120.0.0.0 Mobile \xc3\x28 Safari/537.36",
             NULL, &r);
    ASSERT_EQ_STR(r.browser, "Chrome");
    for (const char *p = r.device_model; *p; p++)
        ASSERT_TRUE(*p >= 0x20 && *p < 0x7f);

    /* Regex-special characters are data, not patterns. */
    static const char *const specials[] = {"(?:.*)*$^[]{}\\1\\", "$1$2$9 Chrome/$1", "*+?|",
                                           "Mozilla/5.0 (\\d+)\\ Chrome/99.0 (((((",
                                           "\\Q\\E(*ACCEPT)(*FAIL)"};
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) {
        ua_parse(parser, specials[i], NULL, &r);
        ASSERT_TRUE(strlen(r.browser) < sizeof r.browser);
    }
    ua_parse(parser, "Mozilla/5.0 (\\d+)\\ Chrome/99.0 (((((", NULL, &r);
    ASSERT_EQ_STR(r.browser, "Chrome");
    ASSERT_EQ_STR(r.browser_version, "99");
}

/* ---- data files ----------------------------------------------------------- */

static void test_missing_assets(void)
{
    struct ua_parser *p = (struct ua_parser *)1;
    char err[512];
    int rc = ua_parser_open("/nonexistent/tally-assets", &p, err, sizeof err);
    ASSERT_TRUE(rc < 0);
    ASSERT_TRUE(p == NULL);
    ASSERT_CONTAINS(err, "/nonexistent/tally-assets/uap-core/regexes.yaml");
    ua_parser_close(NULL);
}

static void test_corrupt_assets(void)
{
    char dir[] = "/tmp/tally-ua-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char path[512], yaml[128], json[128];
    snprintf(yaml, sizeof yaml, "%s/uap-core", dir);
    snprintf(json, sizeof json, "%s/crawler-user-agents", dir);
    ASSERT_EQ_INT(mkdir_p(yaml, 0700), 0);
    ASSERT_EQ_INT(mkdir_p(json, 0700), 0);

    struct ua_parser *p = NULL;
    char err[512];
    snprintf(path, sizeof path, "%s/uap-core/regexes.yaml", dir);
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs("user_agent_parsers:\n  - regex: '(unclosed'\nos_parsers: []\n", f);
    fclose(f);
    ASSERT_EQ_INT(ua_parser_open(dir, &p, err, sizeof err), -EINVAL);
    ASSERT_CONTAINS(err, "regexes.yaml: the regex at line 2 does not compile");

    f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs("user_agent_parsers: [\n  - {", f);
    fclose(f);
    ASSERT_EQ_INT(ua_parser_open(dir, &p, err, sizeof err), -EINVAL);
    ASSERT_CONTAINS(err, "regexes.yaml: not valid YAML");

    f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs("user_agent_parsers:\n  - regex: '(Foo)/(\\d+)'\nos_parsers:\n  - regex: '(Bar)'\n"
          "device_parsers:\n  - regex: '(Baz)'\n",
          f);
    fclose(f);
    ASSERT_TRUE(ua_parser_open(dir, &p, err, sizeof err) < 0);
    ASSERT_CONTAINS(err, "crawler-user-agents.json");

    snprintf(path, sizeof path, "%s/crawler-user-agents/crawler-user-agents.json", dir);
    f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs("[{\"pattern\":\"bot[\"}]", f);
    fclose(f);
    ASSERT_EQ_INT(ua_parser_open(dir, &p, err, sizeof err), -EINVAL);
    ASSERT_CONTAINS(err, "pattern 0 does not compile");

    f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs("[{\"pattern\":\"Foobot\"}]", f);
    fclose(f);
    ASSERT_EQ_INT(ua_parser_open(dir, &p, err, sizeof err), 0);
    struct ua_result r;
    ua_parse(p, "Foo/12 Bar Baz", NULL, &r);
    ASSERT_EQ_STR(r.browser, "Foo");
    ASSERT_EQ_STR(r.browser_version, "12");
    ASSERT_EQ_STR(r.os, "Bar");
    ua_parse(p, "Foobot/1.0", NULL, &r);
    ASSERT_TRUE(r.bot);
    ASSERT_EQ_STR(r.bot_name, "Foobot");
    ua_parser_close(p);

    snprintf(path, sizeof path, "%s/crawler-user-agents.json", json);
    ASSERT_EQ_INT(unlink(path), 0);
    snprintf(path, sizeof path, "%s/regexes.yaml", yaml);
    ASSERT_EQ_INT(unlink(path), 0);
    ASSERT_EQ_INT(rmdir(json), 0);
    ASSERT_EQ_INT(rmdir(yaml), 0);
    ASSERT_EQ_INT(rmdir(dir), 0);
}

/* ---- cache and cost ------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_cache_and_cost(void)
{
    unsigned long long hits0, misses0, hits1, misses1;
    struct ua_result a, b;
    struct ua_hints h = {.sec_ch_ua_platform = "\"Windows\"",
                         .sec_ch_ua_platform_version = "\"15.0.0\""};

    /* The hints are part of the key: same agent, different answers. */
    ua_parse(parser, chrome_windows_ua, NULL, &a);
    ua_parse(parser, chrome_windows_ua, &h, &b);
    ASSERT_EQ_STR(a.os_version, "10");
    ASSERT_EQ_STR(b.os_version, "11");
    ua_parser_stats(parser, &hits0, &misses0);
    ua_parse(parser, chrome_windows_ua, NULL, &a);
    ua_parse(parser, chrome_windows_ua, &h, &b);
    ua_parser_stats(parser, &hits1, &misses1);
    ASSERT_EQ_U64(hits1 - hits0, 2);
    ASSERT_EQ_U64(misses1 - misses0, 0);
    ASSERT_EQ_STR(a.os_version, "10");
    ASSERT_EQ_STR(b.os_version, "11");

    size_t n = sizeof ua_cases / sizeof ua_cases[0];
    int rounds = 2000;
    double t0 = now_s();
    for (int k = 0; k < rounds; k++)
        for (size_t i = 0; i < n; i++)
            ua_parse(parser, ua_cases[i].ua, NULL, &a);
    double warm = (now_s() - t0) / (double)(rounds * (int)n);

    /* All unique: a real agent with a counter in its build number. */
    int unique = 3000;
    char ua[300];
    t0 = now_s();
    for (int k = 0; k < unique; k++) {
        snprintf(ua, sizeof ua,
                 "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/120.0.%d.144 Mobile Safari/537.36",
                 k);
        ua_parse(parser, ua, NULL, &a);
    }
    double cold = (now_s() - t0) / unique;
    ASSERT_EQ_STR(a.browser, "Chrome");
    printf("# ua_parse per call: warm cache %.3f us, all-unique %.1f us\n", warm * 1e6, cold * 1e6);
}

int main(void)
{
    char err[512];
    int rc = ua_parser_open(assets_dir(), &parser, err, sizeof err);
    if (rc != 0) {
        printf("not ok 1 - ua_parser_open: %s\n1..1\n", err);
        return 1;
    }
    TEST_RUN(test_real_user_agents);
    TEST_RUN(test_uadata_windows_11);
    TEST_RUN(test_sec_ch_ua_headers);
    TEST_RUN(test_hints_android_model);
    TEST_RUN(test_hostile_hints);
    TEST_RUN(test_bots);
    TEST_RUN(test_humans_are_not_bots);
    TEST_RUN(test_hostile_user_agents);
    TEST_RUN(test_missing_assets);
    TEST_RUN(test_corrupt_assets);
    TEST_RUN(test_cache_and_cost);
    ua_parser_close(parser);
    return TEST_DONE();
}
