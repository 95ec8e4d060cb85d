/* The `tally` command line as a user meets it: help texts, wrong flags and
 * values (exit 2 with what is wrong and what would be right), sites and
 * their validation, tokens, and check on a healthy store. */
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

static char dir[256];
static struct buf out;

/* Runs tally and keeps its output in `out`. */
#define TALLY(...) (buf_reset(&out), run_tally(&out, __VA_ARGS__))

static void fresh_dir(void)
{
    if (dir[0]) harness_rmtree(dir);
    dir[0] = '\0';
    harness_tmpdir(dir);
}

static void test_help_texts(void)
{
    ASSERT_EQ_INT(TALLY("help"), 0);
    static const char *const names[] = {"serve", "site add", "site list", "token create",
                                        "check", "stats",    "hits",      "visits"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        ASSERT_CONTAINS(out.data, names[i]);
    ASSERT_CONTAINS(out.data, "--data DIR");

    ASSERT_EQ_INT(TALLY("site add --help"), 0);
    ASSERT_CONTAINS(out.data, "usage: tally site add");
    ASSERT_CONTAINS(out.data, "--timezone ZONE");
    ASSERT_CONTAINS(out.data, "--currency CODE");
    ASSERT_CONTAINS(out.data, "--url URL");

    ASSERT_EQ_INT(TALLY("help stats"), 0);
    ASSERT_CONTAINS(out.data, "usage: tally stats");
    ASSERT_CONTAINS(out.data, "--from YYYY-MM-DD");

    ASSERT_EQ_INT(TALLY("serve --help"), 0);
    ASSERT_CONTAINS(out.data, "--fsync POLICY");
    ASSERT_CONTAINS(out.data, "always, interval (default) or never");

    ASSERT_EQ_INT(TALLY("help nonsense"), 2);
    ASSERT_CONTAINS(out.data, "unknown command 'nonsense'");
}

static void test_wrong_commands_and_flags(void)
{
    fresh_dir();
    ASSERT_EQ_INT(TALLY("%s", ""), 2);
    ASSERT_CONTAINS(out.data, "usage: tally COMMAND");
    ASSERT_EQ_INT(TALLY("frobnicate"), 2);
    ASSERT_CONTAINS(out.data, "unknown command 'frobnicate'; `tally help` lists the commands");
    ASSERT_EQ_INT(TALLY("site"), 2);
    ASSERT_CONTAINS(out.data, "expected one of 'site add', 'site list'");
    ASSERT_EQ_INT(TALLY("site remove"), 2);
    ASSERT_CONTAINS(out.data, "'site remove' is not a command");

    ASSERT_EQ_INT(TALLY("serve --data %s --fsync sometimes", dir), 2);
    ASSERT_CONTAINS(out.data, "--fsync: expected always, interval or never, got 'sometimes'");
    ASSERT_EQ_INT(TALLY("serve --data %s --listen nowhere", dir), 2);
    ASSERT_CONTAINS(out.data, "--listen 'nowhere': expected HOST:PORT, e.g. 127.0.0.1:8080");
    ASSERT_EQ_INT(TALLY("serve --data %s --listen 127.0.0.1:99999", dir), 2);
    ASSERT_CONTAINS(out.data, "the port must be a number from 1 to 65535");
    ASSERT_EQ_INT(TALLY("site list --data %s --colour", dir), 2);
    ASSERT_CONTAINS(out.data, "unknown flag '--colour'; expected one of --data, --json");
    ASSERT_EQ_INT(TALLY("site list --data"), 2);
    ASSERT_CONTAINS(out.data, "--data: expected a value (DIR)");
    ASSERT_EQ_INT(TALLY("site list %s", dir), 2);
    ASSERT_CONTAINS(out.data, "unexpected argument");
    ASSERT_EQ_INT(TALLY("stats --data %s --site one", dir), 2);
    ASSERT_CONTAINS(out.data, "--site: expected a site id (a positive integer), got 'one'");
    ASSERT_EQ_INT(TALLY("stats --data %s", dir), 2);
    ASSERT_CONTAINS(out.data, "--site is required");
    ASSERT_EQ_INT(TALLY("token create --data %s --site 1 --site 2", dir), 2);
    ASSERT_CONTAINS(out.data, "--site was given twice");
}

static void test_site_add_and_list(void)
{
    fresh_dir();
    ASSERT_EQ_INT(TALLY("site list --data %s", dir), 0);
    ASSERT_CONTAINS(out.data, "no sites yet");
    ASSERT_EQ_INT(TALLY("site add --data %s --name 'My shop' --url HTTPS://Shop.Example.COM/ "
                        "--url http://www.shop.example.com:8080/en/ --timezone Europe/Paris "
                        "--currency EUR",
                        dir),
                  0);
    ASSERT_EQ_STR(out.data, "1\n");
    ASSERT_EQ_INT(TALLY("site add --data=%s --name=Blog --url=https://blog.example.org", dir), 0);
    ASSERT_EQ_STR(out.data, "2\n");
    ASSERT_EQ_INT(TALLY("site list --data %s --json", dir), 0);
    ASSERT_EQ_STR(out.data,
                  "[{\"id\":1,\"name\":\"My shop\",\"urls\":[\"https://shop.example.com\","
                  "\"http://www.shop.example.com:8080/en\"],\"timezone\":\"Europe/Paris\","
                  "\"currency\":\"EUR\",\"honour_dnt\":true,\"ipv4_mask_bytes\":2,"
                  "\"ipv6_mask_bits\":80,\"anonymous_view\":false},"
                  "{\"id\":2,\"name\":\"Blog\",\"urls\":[\"https://blog.example.org\"],"
                  "\"timezone\":\"UTC\",\"currency\":\"USD\",\"honour_dnt\":true,"
                  "\"ipv4_mask_bytes\":2,\"ipv6_mask_bits\":80,\"anonymous_view\":false}]\n");
    ASSERT_EQ_INT(TALLY("site list --data %s", dir), 0);
    ASSERT_CONTAINS(out.data, "ID   NAME");
    ASSERT_CONTAINS(out.data, "My shop");
    ASSERT_CONTAINS(out.data, "https://shop.example.com http://www.shop.example.com:8080/en");
}

struct bad_site {
    const char *args;
    const char *message;
};

static void test_site_add_validation(void)
{
    static const struct bad_site cases[] = {
        {"--url https://a.example", "--name is required"},
        {"--name '' --url https://a.example", "--name: expected a non-empty name"},
        {"--name A", "--url: give at least one URL"},
        {"--name A --url ftp://a.example", "expected http://host or https://host"},
        {"--name A --url https://", "the host name is missing"},
        {"--name A --url https://a_b.example", "the host may only hold letters, digits"},
        {"--name A --url https://a.example:99999", "the port must be a number from 1 to 65535"},
        {"--name A --url https://a.example/x?y=1", "may not hold spaces, control characters"},
        {"--name A --url https://a.example --timezone Mars/Olympus",
         "--timezone: 'Mars/Olympus' is not a time zone"},
        {"--name A --url https://a.example --timezone ../../etc/passwd", "is not a time zone"},
        {"--name A --url https://a.example --timezone /etc/localtime", "is not a time zone"},
        {"--name A --url https://a.example --currency eur",
         "--currency: expected a 3-letter upper-case ISO 4217 code such as EUR, got 'eur'"},
        {"--name A --url https://a.example --currency EURO", "got 'EURO'"},
        {"--name A --url https://a.example --ipv4-mask-bytes 0",
         "--ipv4-mask-bytes: expected 1 to 4 bytes to zero, got 0"},
        {"--name A --url https://a.example --ipv6-mask-bits 48",
         "--ipv6-mask-bits: expected 64 to 128 bits to zero, got 48"},
        {"--name A --url https://a.example --ipv4-mask-bytes two", "take a number"},
        {"--name A --url https://a.example --dnt maybe", "--dnt: expected honour or ignore"},
    };
    fresh_dir();
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int rc = TALLY("site add --data %s %s", dir, cases[i].args);
        if (rc != 2 || !strstr(out.data, cases[i].message))
            TEST_FAIL_("site add %s: exit %d, output \"%s\"; want 2 and \"%s\"", cases[i].args, rc,
                       out.data, cases[i].message);
    }
    /* Nothing was written by the refused adds. */
    ASSERT_TRUE(access(dir, F_OK) == 0);
    ASSERT_EQ_INT(TALLY("site list --data %s --json", dir), 0);
    ASSERT_EQ_STR(out.data, "[]\n");
}

static void test_token_create(void)
{
    fresh_dir();
    ASSERT_EQ_INT(TALLY("site add --data %s --name A --url https://a.example", dir), 0);
    ASSERT_EQ_INT(TALLY("token create --data %s --site 1", dir), 0);
    ASSERT_EQ_U64(out.len, 33);
    for (size_t i = 0; i < 32; i++)
        ASSERT_TRUE((out.data[i] >= '0' && out.data[i] <= '9') ||
                    (out.data[i] >= 'a' && out.data[i] <= 'f'));
    char token[33];
    memcpy(token, out.data, 32);
    token[32] = '\0';
    /* Only the hash is kept. */
    char path[300];
    snprintf(path, sizeof path, "%s/tokens.json", dir);
    struct buf file;
    buf_init(&file);
    ASSERT_EQ_INT(file_read_all(path, &file), 0);
    ASSERT_NOT_CONTAINS(file.data, token);
    ASSERT_CONTAINS(file.data, "\"hash\"");
    buf_free(&file);
    ASSERT_EQ_INT(TALLY("token create --data %s --site 1", dir), 0);
    ASSERT_TRUE(strncmp(out.data, token, 32) != 0); /* a new random token each time */

    ASSERT_EQ_INT(TALLY("token create --data %s --site 5", dir), 2);
    ASSERT_CONTAINS(out.data, "no site with id 5");
    ASSERT_EQ_INT(TALLY("token create --data %s", dir), 2);
    ASSERT_CONTAINS(out.data, "give either --user NAME (a token acting as that user) or --site N");
}

static void test_check_and_stats_on_a_healthy_store(void)
{
    fresh_dir();
    ASSERT_EQ_INT(TALLY("site add --data %s --name A --url https://a.example", dir), 0);
    struct server s;
    ASSERT_EQ_INT(server_start(&s, dir, ""), 0);
    struct http_reply r;
    int rc = http_request(s.port, "GET",
                          "/matomo.php?idsite=1&rec=1&send_image=0&url=https%3A%2F%2Fa.example%2F",
                          "", NULL, 0, &r);
    int status = r.status;
    http_reply_free(&r);
    /* A second server on the same port says why it cannot start. */
    char other[256];
    harness_tmpdir(other);
    int busy = TALLY("serve --data %s --listen 127.0.0.1:%d", other, s.port);
    harness_rmtree(other);
    server_stop(&s);
    ASSERT_EQ_INT(busy, 1);
    ASSERT_CONTAINS(out.data, "Address already in use");
    ASSERT_EQ_INT(rc, 0);
    ASSERT_EQ_INT(status, 204);

    ASSERT_EQ_INT(TALLY("check --data %s", dir), 0);
    ASSERT_CONTAINS(out.data, "ok: every checksum");
    ASSERT_EQ_INT(TALLY("stats --data %s --site 1 --from 2026-01-02 --to 2026-01-01", dir), 2);
    ASSERT_CONTAINS(out.data, "--from must not be after --to");
    ASSERT_EQ_INT(TALLY("stats --data %s --site 1 --from 2026-02-30", dir), 2);
    ASSERT_CONTAINS(out.data, "--from: expected a date YYYY-MM-DD, got '2026-02-30'");
    ASSERT_EQ_INT(TALLY("stats --data %s --site 9", dir), 1);
    ASSERT_CONTAINS(out.data, "no site with id 9");
    /* Today (UTC site) holds the one hit. */
    ASSERT_EQ_INT(TALLY("stats --data %s --site 1 --json", dir), 0);
    ASSERT_CONTAINS(out.data,
                    "\"visits\":1,\"unique_visitors\":1,\"pageviews\":1,\"actions\":1,\"bots\":0}]}");
    ASSERT_EQ_INT(TALLY("stats --data %s --site 1", dir), 0);
    ASSERT_CONTAINS(out.data, "date         visits unique_visitors pageviews  actions     bots\n");
    ASSERT_EQ_INT(TALLY("hits --data %s --site 1 --json", dir), 0);
    ASSERT_CONTAINS(out.data, "\"kind\":\"pageview\"");
    ASSERT_CONTAINS(out.data, "\"url\":\"https://a.example/\"");
}

/* tally inspect: every derived value of one hit, as JSON, nothing stored. */
static void test_inspect(void)
{
    fresh_dir();
    ASSERT_EQ_INT(TALLY("site add --data %s --name Shop --url https://shop.example.com", dir), 0);
    ASSERT_EQ_INT(
        TALLY("inspect --data %s "
              "'idsite=1&rec=1&url=https%%3A%%2F%%2FShop.Example.com%%3A443%%2Fshoes%%3F"
              "utm_campaign%%3DSpring%%26gclid%%3Dabc%%26color%%3Dred%%23top"
              "&urlref=https%%3A%%2F%%2Fwww.google.com%%2F' "
              "--ua 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
              "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1' --ip 8.8.8.8 "
              "--header 'Accept-Language: de-AT,de;q=0.9'",
              dir),
        0);
    ASSERT_CONTAINS(out.data, "\"valid\":true,\"kind\":\"pageview\"");
    ASSERT_CONTAINS(out.data, "\"url\":\"https://shop.example.com/shoes?color=red\","
                              "\"path_levels\":[\"shoes\"],\"title_levels\":[],\"screen\":\"\","
                              "\"screen_bucket\":\"\"");
    ASSERT_CONTAINS(out.data, "\"ip_anon\":\"8.8.0.0\"");
    ASSERT_NOT_CONTAINS(out.data, "8.8.8.8");
    ASSERT_CONTAINS(out.data, "\"browser\":\"Safari\",\"browser_version\":\"17\",\"engine\":"
                              "\"WebKit\",\"os\":\"iOS\",\"os_version\":\"17\",\"type\":"
                              "\"smartphone\",\"brand\":\"Apple\",\"model\":\"iPhone\"");
    ASSERT_CONTAINS(out.data, "\"bot\":{\"detected\":false");
    ASSERT_CONTAINS(out.data, "\"location\":{\"country_code\":\"us\",\"region_code\":\"\","
                              "\"city\":\"\",\"continent_code\":\"amn\"}");
    ASSERT_CONTAINS(out.data, "\"language\":\"de\",\"locale\":\"de-at\"");
    ASSERT_CONTAINS(out.data, "\"channel\":{\"type\":\"campaign\",\"name\":\"spring\"");
    /* A crawler, and an organic search with its keyword. */
    ASSERT_EQ_INT(TALLY("inspect --data %s 'idsite=1&rec=1&url=https://shop.example.com/"
                        "&urlref=https%%3A%%2F%%2Fwww.bing.com%%2Fsearch%%3Fq%%3Dred%%2Bshoes' "
                        "--ua 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)'",
                        dir),
                  0);
    ASSERT_CONTAINS(out.data, "\"bot\":{\"detected\":true,\"name\":\"bingbot\",\"recorded\":false}");
    ASSERT_CONTAINS(out.data, "\"channel\":{\"type\":\"search\",\"name\":\"Bing\",\"keyword\":"
                              "\"red shoes\"");
    /* The tracker's remembered campaign (_rcn/_rck) on a later page. */
    ASSERT_EQ_INT(TALLY("inspect --data %s 'idsite=1&rec=1&url=https://shop.example.com/two"
                        "&urlref=https://shop.example.com/one&_rcn=Spring%%20Sale&_rck=Tea'",
                        dir),
                  0);
    ASSERT_CONTAINS(out.data, "\"channel\":{\"type\":\"campaign\",\"name\":\"spring sale\"");
    ASSERT_CONTAINS(out.data, "\"campaign\":{\"name\":\"spring sale\",\"keyword\":\"tea\"");
    /* A site's own excluded parameters leave its stored URLs. */
    ASSERT_EQ_INT(TALLY("site add --data %s --name Blog --url https://blog.example.com "
                        "--exclude-param sessionToken --exclude-param ref",
                        dir),
                  0);
    ASSERT_EQ_INT(TALLY("inspect --data %s 'idsite=2&rec=1&url=https://blog.example.com/post%%3F"
                        "SessionToken%%3Dabc%%26page%%3D2%%26ref%%3Dhome'",
                        dir),
                  0);
    ASSERT_CONTAINS(out.data, "\"url\":\"https://blog.example.com/post?page=2\"");
    /* Refusals and wrong use. */
    ASSERT_EQ_INT(TALLY("inspect --data %s 'idsite=7&rec=1'", dir), 1);
    ASSERT_CONTAINS(out.data, "{\"valid\":false,\"error\":\"idsite 7 is not a known site");
    ASSERT_EQ_INT(TALLY("inspect --data %s", dir), 2);
    ASSERT_CONTAINS(out.data, "give the hit's parameters");
    ASSERT_EQ_INT(TALLY("inspect --data %s 'idsite=1&rec=1&url=x' --header 'Foo: bar'", dir), 2);
    ASSERT_CONTAINS(out.data, "--header 'Foo: bar': expected 'Name: value'");
    /* Nothing was stored. */
    ASSERT_EQ_INT(TALLY("hits --data %s --site 1 --json", dir), 0);
    ASSERT_EQ_STR(out.data, "");
}

int main(void)
{
    buf_init(&out);
    TEST_RUN(test_help_texts);
    TEST_RUN(test_wrong_commands_and_flags);
    TEST_RUN(test_site_add_and_list);
    TEST_RUN(test_site_add_validation);
    TEST_RUN(test_token_create);
    TEST_RUN(test_check_and_stats_on_a_healthy_store);
    TEST_RUN(test_inspect);
    if (dir[0]) harness_rmtree(dir);
    buf_free(&out);
    return TEST_DONE();
}
