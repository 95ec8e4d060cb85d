/* What browsers load from Tally, through real HTTP: the dashboard page and
 * its bundle, the tracker under its three names, and the headers that make
 * them safe and cheap (CSP, ETag revalidation, gzip). The API must still
 * answer on the same paths when asked for a module. */
#include "test.h"

#include <stdlib.h>

#include "harness.h"

struct fixture {
    struct server server;
    char dir[256];
    struct http_reply reply;
};

static struct fixture *current;

static bool fixture_start(struct fixture *f)
{
    memset(f, 0, sizeof *f);
    buf_init(&f->reply.headers);
    buf_init(&f->reply.body);
    if (harness_tmpdir(f->dir)) return false;
    if (server_start(&f->server, f->dir, "")) {
        harness_rmtree(f->dir);
        return false;
    }
    current = f;
    return true;
}

static void fixture_stop(struct fixture *f)
{
    http_reply_free(&f->reply);
    server_stop(&f->server);
    harness_rmtree(f->dir);
    current = NULL;
}

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        TEST_RUN(fn);                                                                              \
        if (current) fixture_stop(current);                                                        \
    } while (0)

static int req(struct fixture *f, const char *method, const char *target, const char *headers)
{
    http_reply_free(&f->reply);
    if (http_request(f->server.port, method, target, headers, NULL, 0, &f->reply)) return -1;
    return f->reply.status;
}

static const char *hdr(struct fixture *f, const char *name, char out[512])
{
    return http_reply_header(&f->reply, name, out, 512);
}

/* The page, and every script and style it names, load; the page may run
 * only its own scripts and may not be framed. */
static void test_dashboard_page_and_its_assets(void)
{
    static struct fixture f;
    char value[512];
    ASSERT_TRUE(fixture_start(&f));
    ASSERT_EQ_INT(req(&f, "GET", "/", ""), 200);
    ASSERT_EQ_STR(hdr(&f, "Content-Type", value), "text/html; charset=utf-8");
    ASSERT_CONTAINS(hdr(&f, "Content-Security-Policy", value), "script-src 'self';");
    ASSERT_CONTAINS(hdr(&f, "Content-Security-Policy", value), "frame-ancestors 'none'");
    ASSERT_CONTAINS(hdr(&f, "Content-Security-Policy", value), "object-src 'none'");
    ASSERT_EQ_STR(hdr(&f, "X-Content-Type-Options", value), "nosniff");
    char *page = strndup(f.reply.body.data, f.reply.body.len);
    ASSERT_CONTAINS(page, "<script type=\"module\" src=\"/assets/app.js\">");
    size_t assets = 0;
    for (const char *p = page; (p = strstr(p, "\"/assets/")); p++) {
        char path[128];
        size_t n = strcspn(p + 1, "\"");
        snprintf(path, sizeof path, "%.*s", (int)n, p + 1);
        int status = req(&f, "GET", path, "");
        if (status != 200) free(page);
        ASSERT_EQ_INT(status, 200);
        ASSERT_TRUE(f.reply.body.len > 0);
        assets++;
    }
    free(page);
    ASSERT_EQ_U64(assets, 3); /* favicon.svg, app.css, app.js */
    ASSERT_EQ_INT(req(&f, "GET", "/index.php", ""), 200);
    ASSERT_CONTAINS(hdr(&f, "Content-Type", value), "text/html");
    ASSERT_EQ_INT(req(&f, "HEAD", "/", ""), 200);
    ASSERT_EQ_U64(f.reply.body.len, 0);
    ASSERT_EQ_INT(req(&f, "GET", "/assets/missing.js", ""), 404);
    fixture_stop(&f);
}

/* An unchanged file costs a 304; the gzipped one is another representation
 * with its own ETag, and "gzip;q=0" refuses it. */
static void test_etag_and_gzip(void)
{
    static struct fixture f;
    char value[512], plain_etag[512], gzip_etag[512];
    ASSERT_TRUE(fixture_start(&f));
    ASSERT_EQ_INT(req(&f, "GET", "/tally.js", ""), 200);
    ASSERT_EQ_STR(hdr(&f, "Content-Type", value), "text/javascript; charset=utf-8");
    ASSERT_EQ_STR(hdr(&f, "Cache-Control", value), "no-cache");
    ASSERT_TRUE(hdr(&f, "Content-Encoding", value) == NULL);
    ASSERT_TRUE(hdr(&f, "ETag", plain_etag) != NULL);
    size_t plain_len = f.reply.body.len;

    ASSERT_EQ_INT(req(&f, "GET", "/tally.js", "Accept-Encoding: gzip, deflate, br\r\n"), 200);
    ASSERT_EQ_STR(hdr(&f, "Content-Encoding", value), "gzip");
    ASSERT_CONTAINS(hdr(&f, "Vary", value), "Accept-Encoding");
    ASSERT_TRUE(f.reply.body.len > 2 && (unsigned char)f.reply.body.data[0] == 0x1f &&
                (unsigned char)f.reply.body.data[1] == 0x8b);
    ASSERT_TRUE(f.reply.body.len < plain_len);
    ASSERT_TRUE(hdr(&f, "ETag", gzip_etag) != NULL);
    ASSERT_TRUE(strcmp(gzip_etag, plain_etag) != 0);

    ASSERT_EQ_INT(req(&f, "GET", "/tally.js", "Accept-Encoding: gzip;q=0, br\r\n"), 200);
    ASSERT_TRUE(hdr(&f, "Content-Encoding", value) == NULL);
    ASSERT_EQ_INT(req(&f, "GET", "/tally.js", "Accept-Encoding: gzip;q=0.5\r\n"), 200);
    ASSERT_EQ_STR(hdr(&f, "Content-Encoding", value), "gzip");

    char headers[600];
    snprintf(headers, sizeof headers, "If-None-Match: %s\r\n", plain_etag);
    ASSERT_EQ_INT(req(&f, "GET", "/tally.js", headers), 304);
    ASSERT_EQ_U64(f.reply.body.len, 0);
    /* The plain ETag does not validate the gzipped representation. */
    snprintf(headers, sizeof headers, "If-None-Match: %s\r\nAccept-Encoding: gzip\r\n",
             plain_etag);
    ASSERT_EQ_INT(req(&f, "GET", "/tally.js", headers), 200);
    snprintf(headers, sizeof headers, "If-None-Match: \"other\", %s\r\nAccept-Encoding: gzip\r\n",
             gzip_etag);
    ASSERT_EQ_INT(req(&f, "GET", "/tally.js", headers), 304);
    fixture_stop(&f);
}

/* Matomo's snippet loads matomo.js (or piwik.js) from the tracker's URL:
 * both are Tally's tracker, so switching is changing the URL. */
static void test_tracker_under_matomo_names(void)
{
    static struct fixture f;
    ASSERT_TRUE(fixture_start(&f));
    ASSERT_EQ_INT(req(&f, "GET", "/tally.js", ""), 200);
    char *tally = strndup(f.reply.body.data, f.reply.body.len);
    ASSERT_CONTAINS(tally, "_paq");
    static const char *const aliases[] = {"/matomo.js", "/piwik.js"};
    for (size_t i = 0; i < 2; i++) {
        int status = req(&f, "GET", aliases[i], "");
        bool same = f.reply.body.len == strlen(tally) &&
                    memcmp(f.reply.body.data, tally, f.reply.body.len) == 0;
        if (status != 200 || !same) free(tally);
        ASSERT_EQ_INT(status, 200);
        ASSERT_TRUE(same);
    }
    free(tally);
    fixture_stop(&f);
}

/* The opt-out page may be framed by any site (its purpose), runs only its
 * own script, and answers at Matomo's opt-out URL too; the tracker's
 * extension and the page's script load. */
static void test_optout_page(void)
{
    static struct fixture f;
    char value[512];
    ASSERT_TRUE(fixture_start(&f));
    ASSERT_EQ_INT(req(&f, "GET", "/optout", ""), 200);
    ASSERT_EQ_STR(hdr(&f, "Content-Type", value), "text/html; charset=utf-8");
    ASSERT_EQ_STR(hdr(&f, "Content-Security-Policy", value),
                  "default-src 'none'; script-src 'self'; base-uri 'none'; form-action 'none'; "
                  "frame-ancestors *");
    char *page = strndup(f.reply.body.data, f.reply.body.len);
    bool names_script = strstr(page, "<script src=\"optout.js\">") != NULL;
    free(page);
    ASSERT_TRUE(names_script);
    size_t page_len = f.reply.body.len;
    ASSERT_EQ_INT(req(&f, "GET", "/index.php?module=CoreAdminHome&action=optOut&language=auto", ""),
                  200);
    ASSERT_CONTAINS(hdr(&f, "Content-Security-Policy", value), "frame-ancestors *");
    ASSERT_EQ_U64(f.reply.body.len, page_len);
    ASSERT_EQ_INT(req(&f, "GET", "/optout.js", ""), 200);
    ASSERT_EQ_STR(hdr(&f, "Content-Type", value), "text/javascript; charset=utf-8");
    ASSERT_EQ_INT(req(&f, "GET", "/tally-ext.js", ""), 200);
    ASSERT_CONTAINS(hdr(&f, "Content-Type", value), "text/javascript");
    /* Other pages still may not be framed, nor other module= asked of index.php. */
    ASSERT_EQ_INT(req(&f, "GET", "/", ""), 200);
    ASSERT_CONTAINS(hdr(&f, "Content-Security-Policy", value), "frame-ancestors 'none'");
    ASSERT_EQ_INT(req(&f, "GET", "/index.php?module=CoreAdminHome&action=other", ""), 400);
    ASSERT_EQ_INT(req(&f, "GET", "/optout.html", ""), 404);
    fixture_stop(&f);
}

/* module= on the dashboard's paths is the Reporting API, as in Matomo;
 * POSTs and unknown paths never reach the web stage; every answer carries
 * a policy that runs nothing. */
static void test_api_keeps_its_paths(void)
{
    static struct fixture f;
    char value[512];
    ASSERT_TRUE(fixture_start(&f));
    ASSERT_EQ_INT(req(&f, "GET",
                      "/index.php?module=API&method=VisitsSummary.get&idSite=1&period=day"
                      "&date=today&format=json",
                      ""),
                  401);
    ASSERT_CONTAINS(hdr(&f, "Content-Type", value), "application/json");
    ASSERT_EQ_STR(hdr(&f, "Content-Security-Policy", value),
                  "default-src 'none'; frame-ancestors 'none'");
    ASSERT_EQ_STR(hdr(&f, "Cache-Control", value), "no-store");
    ASSERT_EQ_INT(req(&f, "GET", "/?module=Widgetize", ""), 400);
    ASSERT_EQ_INT(req(&f, "POST", "/", ""), 200);
    ASSERT_CONTAINS(hdr(&f, "Content-Type", value), "text/plain");
    ASSERT_EQ_INT(req(&f, "GET", "/nothing-here", ""), 404);
    fixture_stop(&f);
}

int main(void)
{
    RUN(test_dashboard_page_and_its_assets);
    RUN(test_etag_and_gzip);
    RUN(test_tracker_under_matomo_names);
    RUN(test_optout_page);
    RUN(test_api_keeps_its_paths);
    return TEST_DONE();
}
