/* Matomo's log importer (import_logs.py of matomo-log-analytics) against
 * the real server, end to end: its visits must show in the reports.
 *
 * The script itself cannot be installed on the machines Tally is built on:
 * they reach only Debian's archive and the npm registry, and neither ships
 * it (no Debian package carries Matomo or its log importer; npm has no
 * matomo-log-analytics, no matomo, and no package that bundles the
 * script). So this test replays its protocol as its code (the 5.x branch,
 * Python 3) produces it, request by request:
 *
 *  1. StaticResolver (--idsite=1): POST / with a form body
 *     module=API&format=json&method=SitesManager.getSiteFromId
 *     &filter_limit=-1&token_auth=T&idSite=1, headers
 *     "Content-type: application/x-www-form-urlencoded" and
 *     "User-Agent: Matomo/LogImport". It reads the answer as a JSON
 *     object: `site.get('result') == 'error'` is fatal, and
 *     `site['main_url']` prefixes every path of the log.
 *  2. Recorder._record_hits: POST /piwik.php?queuedtracking=0 (the default
 *     --tracker-endpoint-path), "Content-type: application/json", body
 *     json.dumps({"token_auth": T, "requests": [...]}), one object per kept
 *     log line with, in this order: rec, apiv, url (main_url + path +
 *     "?" + query), urlref ("" for "-"), cip, cdt (the log's time moved to
 *     UTC, "YYYY-MM-DD HH:MM:SS"), idsite, queuedtracking, dp, ua, cvar
 *     ({"1": ["HTTP-code", status]} as a JSON string), download (the url,
 *     for a download extension), bw_bytes (the length, a number). It reads
 *     `invalid_indices` (or `invalid`) from the JSON answer.
 *
 * The importer drops, before sending: static files (css, js, images...),
 * HTTP errors (4xx, 5xx), redirects (3xx but 304) and user agents it knows
 * as bots; it sends downloads (pdf...) with download=url. The access log
 * below, in the combined format (server at +01:00), and what each line
 * becomes, follow those rules. */
#include <jansson.h>
#include <stdlib.h>

#include "harness.h"
#include "test.h"

#define CHROME                                                                                     \
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "            \
    "Chrome/120.0.0.0 Safari/537.36"
#define FIREFOX "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
#define IPHONE                                                                                     \
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "         \
    "like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
#define GOOGLEBOT "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

/* One line of the access log:
 *   IP - - [02/Nov/2026:TIME +0100] "GET PATH HTTP/1.1" STATUS LENGTH "REFERRER" "UA"
 * utc is TIME - 1 hour, as the importer computes it; sent says whether the
 * importer keeps it (and download whether it sends it as one). */
static const struct {
    const char *ip, *utc, *path, *status;
    int length;
    const char *referrer, *ua;
    bool sent, download;
} log_lines[] = {
    /* 10:00 +0100 */
    {"203.0.113.7", "2026-11-02 09:00:00", "/", "200", 5120, "-", CHROME, true, false},
    /* a static file: dropped */
    {"203.0.113.7", "2026-11-02 09:00:01", "/css/site.css", "200", 800, "https://shop.example.com/",
     CHROME, false, false},
    /* the same address with another browser: another visitor */
    {"203.0.113.7", "2026-11-02 09:01:00", "/about", "200", 3000, "-", FIREFOX, true, false},
    {"203.0.113.7", "2026-11-02 09:02:00", "/blog/post-1", "200", 9000, "https://shop.example.com/",
     CHROME, true, false},
    {"203.0.113.7", "2026-11-02 09:05:00", "/files/catalog.pdf", "200", 250000,
     "https://shop.example.com/blog/post-1", CHROME, true, true},
    {"198.51.100.9", "2026-11-02 10:00:00", "/blog/post-1?utm_campaign=autumn", "200", 9000,
     "https://www.google.com/", IPHONE, true, false},
    /* an HTTP error and a redirect: dropped */
    {"198.51.100.9", "2026-11-02 10:00:30", "/missing", "404", 120, "-", IPHONE, false, false},
    {"198.51.100.9", "2026-11-02 10:01:00", "/old-page", "301", 0, "-", IPHONE, false, false},
    /* a bot (its user agent holds "googlebot"): dropped */
    {"192.0.2.66", "2026-11-02 10:30:00", "/", "200", 5120, "-", GOOGLEBOT, false, false},
    /* four hours after the first visit: a new visit of the same visitor */
    {"203.0.113.7", "2026-11-02 13:00:00", "/sale", "200", 7000, "-", CHROME, true, false},
};

static struct server server;
static char data_dir[256], token[33];

/* Python's json.dumps of an ASCII string. */
static void py_string(struct buf *b, const char *s)
{
    buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') buf_putc(b, '\\');
        buf_putc(b, *s);
    }
    buf_putc(b, '"');
}

/* The importer's bulk body for the kept lines of the log. */
static void importer_body(struct buf *b, const char *main_url)
{
    buf_puts(b, "{\"token_auth\": ");
    py_string(b, token);
    buf_puts(b, ", \"requests\": [");
    bool first = true;
    for (size_t i = 0; i < sizeof log_lines / sizeof *log_lines; i++) {
        if (!log_lines[i].sent) continue;
        char url[512], cvar[64];
        snprintf(url, sizeof url, "%s%s", main_url, log_lines[i].path);
        snprintf(cvar, sizeof cvar, "{\"1\": [\"HTTP-code\", \"%s\"]}", log_lines[i].status);
        buf_puts(b, first ? "{" : ", {");
        first = false;
        buf_puts(b, "\"rec\": \"1\", \"apiv\": \"1\", \"url\": ");
        py_string(b, url);
        buf_puts(b, ", \"urlref\": ");
        py_string(b, strcmp(log_lines[i].referrer, "-") ? log_lines[i].referrer : "");
        buf_puts(b, ", \"cip\": ");
        py_string(b, log_lines[i].ip);
        buf_puts(b, ", \"cdt\": ");
        py_string(b, log_lines[i].utc);
        buf_puts(b, ", \"idsite\": \"1\", \"queuedtracking\": \"0\", \"dp\": \"1\", \"ua\": ");
        py_string(b, log_lines[i].ua);
        buf_puts(b, ", \"cvar\": ");
        py_string(b, cvar);
        if (log_lines[i].download) {
            buf_puts(b, ", \"download\": ");
            py_string(b, url);
        }
        buf_printf(b, ", \"bw_bytes\": %d}", log_lines[i].length);
    }
    buf_puts(b, "]}");
}

static int post(const char *target, const char *content_type, const char *body,
                struct http_reply *r)
{
    char headers[256];
    snprintf(headers, sizeof headers, "Content-type: %s\r\nUser-Agent: Matomo/LogImport\r\n",
             content_type);
    http_reply_free(r);
    if (http_request(server.port, "POST", target, headers, body, strlen(body), r)) return -1;
    return r->status;
}

/* Step 1 with the token given: the JSON answer, or NULL. format is what
 * the importer's version sends (json; json2 before Matomo 5). */
static json_t *get_site(const char *format, const char *tok, int *status)
{
    char body[512];
    snprintf(body, sizeof body,
             "module=API&format=%s&method=SitesManager.getSiteFromId&filter_limit=-1"
             "&token_auth=%s&idSite=1",
             format, tok);
    struct http_reply r = {0};
    *status = post("/", "application/x-www-form-urlencoded", body, &r);
    json_t *site = json_loads(r.body.data ? r.body.data : "", 0, NULL);
    if (!site) printf("# getSiteFromId answered %d: %.300s\n", *status, r.body.data);
    http_reply_free(&r);
    return site;
}

static json_t *report(const char *query)
{
    char target[512];
    snprintf(target, sizeof target,
             "/index.php?module=API&idSite=1&period=day&date=2026-11-02&format=json"
             "&token_auth=%s&%s",
             token, query);
    struct http_reply r = {0};
    json_t *j = NULL;
    if (http_request(server.port, "GET", target, "", NULL, 0, &r) == 0 && r.status == 200)
        j = json_loads(r.body.data, 0, NULL);
    if (!j) printf("# %s answered %d: %.300s\n", query, r.status, r.body.data);
    http_reply_free(&r);
    return j;
}

static long long number(const json_t *o, const char *key)
{
    return (long long)json_number_value(json_object_get(o, key));
}

static json_t *row(const json_t *rows, const char *label)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *l = json_string_value(json_object_get(r, "label"));
        if (l && !strcmp(l, label)) return r;
    }
    return NULL;
}

static void test_site_lookup(void)
{
    /* What StaticResolver reads: an object, not an error, with main_url. */
    int status;
    json_t *site = get_site("json", token, &status);
    bool object = json_is_object(site);
    const char *main_url = json_string_value(json_object_get(site, "main_url"));
    const char *result = json_string_value(json_object_get(site, "result"));
    char main_copy[128];
    snprintf(main_copy, sizeof main_copy, "%s", main_url ? main_url : "(none)");
    json_decref(site);
    ASSERT_EQ_INT(status, 200);
    if (!object) TEST_FAIL_("the answer is not a JSON object: the importer's site.get() fails");
    ASSERT_TRUE(!result);
    ASSERT_EQ_STR(main_copy, "https://shop.example.com");

    /* Importers written for Matomo 4 ask for json2: the same object. */
    site = get_site("json2", token, &status);
    object = json_is_object(site);
    main_url = json_string_value(json_object_get(site, "main_url"));
    snprintf(main_copy, sizeof main_copy, "%s", main_url ? main_url : "(none)");
    json_decref(site);
    ASSERT_EQ_INT(status, 200);
    ASSERT_TRUE(object);
    ASSERT_EQ_STR(main_copy, "https://shop.example.com");

    /* A wrong token: an error the importer prints ("cannot get the main URL
     * of this site: ..."), and nothing about the site. */
    site = get_site("json", "0123456789abcdef0123456789abcdef", &status);
    result = json_string_value(json_object_get(site, "result"));
    bool error =
        result && !strcmp(result, "error") && json_is_string(json_object_get(site, "message"));
    bool leaks = json_object_get(site, "main_url") != NULL;
    json_decref(site);
    ASSERT_EQ_INT(status, 401);
    ASSERT_TRUE(error);
    ASSERT_TRUE(!leaks);
}

static void test_import_shows_in_reports(void)
{
    /* Step 1, then step 2 with main_url from step 1's answer. */
    int status;
    json_t *site = get_site("json", token, &status);
    const char *main_url = json_string_value(json_object_get(site, "main_url"));
    struct buf body;
    buf_init(&body);
    importer_body(&body, main_url ? main_url : "https://shop.example.com");
    json_decref(site);
    struct http_reply r = {0};
    status = post("/piwik.php?queuedtracking=0", "application/json", body.data, &r);
    buf_free(&body);
    json_t *answer = json_loads(r.body.data ? r.body.data : "", 0, NULL);
    if (!answer) printf("# bulk answered %d: %.300s\n", status, r.body.data);
    http_reply_free(&r);
    long long tracked = number(answer, "tracked"), invalid = number(answer, "invalid");
    size_t invalid_indices = json_array_size(json_object_get(answer, "invalid_indices"));
    json_decref(answer);
    ASSERT_EQ_INT(status, 200);
    ASSERT_EQ_INT(tracked, 6);
    ASSERT_EQ_INT(invalid, 0);
    ASSERT_EQ_INT(invalid_indices, 0);

    /* The visits (Europe/Paris, so 2026-11-02 local as in the log):
     *   Chrome at 203.0.113.7, 10:00: /, /blog/post-1, the download -> 3 actions, 300 s
     *   Firefox at 203.0.113.7, 10:01: /about                      -> 1 action
     *   iPhone at 198.51.100.9, 11:00: /blog/post-1, campaign      -> 1 action
     *   Chrome at 203.0.113.7, 14:00: /sale (4 hours later)        -> 1 action
     * 4 visits by 3 visitors, 6 actions, 5 pageviews, 3 bounces. */
    json_t *s = report("method=VisitsSummary.get");
    long long visits = number(s, "nb_visits"), visitors = number(s, "nb_uniq_visitors"),
              actions = number(s, "nb_actions"), pageviews = number(s, "nb_pageviews"),
              bounces = number(s, "bounce_count"), length = number(s, "sum_visit_length"),
              max_actions = number(s, "max_actions");
    json_decref(s);
    ASSERT_EQ_INT(visits, 4);
    ASSERT_EQ_INT(visitors, 3);
    ASSERT_EQ_INT(actions, 6);
    ASSERT_EQ_INT(pageviews, 5);
    ASSERT_EQ_INT(bounces, 3);
    ASSERT_EQ_INT(length, 300);
    ASSERT_EQ_INT(max_actions, 3);

    /* Pages by path (the campaign parameter leaves the URL); the download. */
    json_t *pages = report("method=Actions.getPageUrls&flat=1");
    long long post1 = number(row(pages, "/blog/post-1"), "nb_hits");
    long long home = number(row(pages, "/"), "nb_hits");
    size_t page_rows = json_array_size(pages);
    json_decref(pages);
    ASSERT_EQ_INT(page_rows, 4);
    ASSERT_EQ_INT(post1, 2);
    ASSERT_EQ_INT(home, 1);
    json_t *downloads = report("method=Actions.getDownloads&flat=1");
    long long pdf = number(json_array_get(downloads, 0), "nb_hits");
    size_t download_rows = json_array_size(downloads);
    json_decref(downloads);
    ASSERT_EQ_INT(download_rows, 1);
    ASSERT_EQ_INT(pdf, 1);

    /* The iPhone visit came from a campaign; the other three directly (the
     * referrers of the Chrome visit are the site's own pages). */
    json_t *channels = report("method=Referrers.getReferrerType");
    long long campaigns = number(row(channels, "Campaigns"), "nb_visits");
    long long direct = number(row(channels, "Direct Entry"), "nb_visits");
    json_decref(channels);
    ASSERT_EQ_INT(campaigns, 1);
    ASSERT_EQ_INT(direct, 3);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct buf out;
    buf_init(&out);
    bool ok = harness_tmpdir(data_dir) == 0 &&
              run_tally(&out,
                        "site add --data %s --name Shop --url https://shop.example.com "
                        "--timezone Europe/Paris",
                        data_dir) == 0 &&
              harness_token_create(data_dir, 1, token) == 0 &&
              server_start(&server, data_dir, "") == 0;
    buf_free(&out);
    if (!ok) {
        printf("Bail out! cannot start a server\n");
        return 1;
    }
    TEST_RUN(test_site_lookup);
    TEST_RUN(test_import_shows_in_reports);
    server_stop(&server);
    harness_rmtree(data_dir);
    return TEST_DONE();
}
