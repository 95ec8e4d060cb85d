/* Privacy invariants: after a run that tracks hits from known IPs and user
 * agents — single hits, bulk, dropped DNT hits, refused hits, hits in past
 * days that get sealed into segments — the raw IPs and the full user-agent
 * strings appear nowhere under the data folder, in the server's log, or in
 * an export; the anonymised forms do. */
#include "test.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define PROBE_UA                                                                       \
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "           \
    "Chrome/131.0.0.0 Safari/537.36 TallyPrivacyProbe/7.3.1"
#define PROBE_UA_ENCODED                                                               \
    "Mozilla%2F5.0%20(X11%3B%20Linux%20x86_64)%20AppleWebKit%2F537.36%20(KHTML%2C%20like%20" \
    "Gecko)%20Chrome%2F131.0.0.0%20Safari%2F537.36%20TallyPrivacyProbe%2F7.3.1"

static const char *const raw_values[] = {
    "8.8.8.8", "203.0.113.77", "198.51.100.201", "2001:db8:85a3::8a2e:370:7334", "8a2e:370:7334",
    "TallyPrivacyProbe", PROBE_UA, "BulkProbeAgent/2.0",
};

static int get(int port, const char *target, const char *headers)
{
    struct http_reply reply;
    if (http_request(port, "GET", target, headers, NULL, 0, &reply)) return -1;
    int status = reply.status;
    http_reply_free(&reply);
    return status;
}

static void test_no_raw_ip_or_user_agent_anywhere(void)
{
    char dir[256], token[33], target[2048];
    ASSERT_EQ_INT(harness_tmpdir(dir), 0);
    struct buf out;
    buf_init(&out);
    ASSERT_EQ_INT(run_tally(&out, "site add --data %s --name P --url https://p.example.com", dir), 0);
    ASSERT_EQ_INT(harness_token_create(dir, 1, token), 0);
    struct server server;
    ASSERT_EQ_INT(server_start(&server, dir, ""), 0);
    long long three_days_ago = (long long)time(NULL) - 3 * 86400;

    /* Today, via cip and the ua parameter; the User-Agent header too. */
    snprintf(target, sizeof target,
             "/matomo.php?idsite=1&rec=1&url=https%%3A%%2F%%2Fp.example.com%%2F&cip=203.0.113.77"
             "&token_auth=%s&ua=%s",
             token, PROBE_UA_ENCODED);
    ASSERT_EQ_INT(get(server.port, target, ""), 200);
    snprintf(target, sizeof target,
             "/matomo.php?idsite=1&rec=1&url=https%%3A%%2F%%2Fp.example.com%%2Fb"
             "&cip=2001%%3Adb8%%3A85a3%%3A%%3A8a2e%%3A370%%3A7334&token_auth=%s",
             token);
    ASSERT_EQ_INT(get(server.port, target, "User-Agent: " PROBE_UA "\r\n"), 200);
    snprintf(target, sizeof target,
             "/matomo.php?idsite=1&rec=1&url=https%%3A%%2F%%2Fp.example.com%%2Fgeo&cip=8.8.8.8"
             "&token_auth=%s", token);
    ASSERT_EQ_INT(get(server.port, target, "User-Agent: " PROBE_UA "\r\n"), 200);
    /* In the past, so the day is sealed into a segment. */
    snprintf(target, sizeof target,
             "/matomo.php?idsite=1&rec=1&url=https%%3A%%2F%%2Fp.example.com%%2Fc&cip=198.51.100.201"
             "&cdt=%lld&token_auth=%s&ua=%s",
             three_days_ago, token, PROBE_UA_ENCODED);
    ASSERT_EQ_INT(get(server.port, target, ""), 200);
    /* Dropped for Do-Not-Track and refused (unknown site): nothing kept. */
    snprintf(target, sizeof target,
             "/matomo.php?idsite=1&rec=1&url=https%%3A%%2F%%2Fp.example.com%%2Fd&cip=203.0.113.77"
             "&token_auth=%s", token);
    ASSERT_EQ_INT(get(server.port, target, "DNT: 1\r\nUser-Agent: " PROBE_UA "\r\n"), 204);
    snprintf(target, sizeof target, "/matomo.php?idsite=9&rec=1&url=x&cip=203.0.113.77&ua=%s",
             PROBE_UA_ENCODED);
    ASSERT_EQ_INT(get(server.port, target, ""), 400);
    /* Bulk objects, as Matomo's log importer sends them. */
    char body[1024];
    int len = snprintf(body, sizeof body,
                       "{\"token_auth\":\"%s\",\"requests\":[{\"idsite\":1,\"rec\":1,\"url\":"
                       "\"https://p.example.com/e\",\"cip\":\"198.51.100.201\",\"ua\":"
                       "\"BulkProbeAgent/2.0 (compatible)\",\"cdt\":%lld}]}",
                       token, three_days_ago + 60);
    struct http_reply reply;
    ASSERT_EQ_INT(http_request(server.port, "POST", "/matomo.php", "Content-Type: application/json\r\n",
                               body, (size_t)len, &reply), 0);
    ASSERT_EQ_INT(reply.status, 200);
    ASSERT_CONTAINS(reply.body.data, "\"tracked\":1");
    http_reply_free(&reply);

    sleep(2); /* one maintenance pass: the past day is sealed */
    server_stop(&server);

    /* The location was looked up on the raw address (8.8.8.8 is a US
     * address in the bundled database) and only its result is kept. */
    buf_reset(&out);
    ASSERT_EQ_INT(run_tally(&out, "hits --data %s --site 1 --json", dir), 0);
    ASSERT_CONTAINS(out.data, "\"country_code\":\"us\"");
    /* The anonymised addresses were kept, so the hits really are stored. */
    buf_reset(&out);
    ASSERT_EQ_INT(run_tally(&out, "hits --data %s --site 1 --from 2000-01-01 --to 2100-01-01 --json",
                            dir), 0);
    ASSERT_CONTAINS(out.data, "203.0.0.0");
    ASSERT_CONTAINS(out.data, "198.51.0.0");
    ASSERT_CONTAINS(out.data, "2001:db8:85a3::");
    for (size_t i = 0; i < sizeof raw_values / sizeof *raw_values; i++) {
        ASSERT_NOT_CONTAINS(out.data, raw_values[i]);
        if (harness_grep_tree(dir, raw_values[i]))
            TEST_FAIL_("\"%s\" was written under the data folder", raw_values[i]);
        struct buf log;
        buf_init(&log);
        file_read_all(server.log_path, &log);
        int in_log = log.data && strstr(log.data, raw_values[i]) != NULL;
        buf_free(&log);
        if (in_log) TEST_FAIL_("\"%s\" was written to the server log", raw_values[i]);
    }
    buf_free(&out);
    harness_rmtree(dir);
}


/* Per-site settings: more IPv4 bytes masked, a 96-bit IPv6 mask, and a site
 * that has its own consent records and so ignores DNT. */
static void test_site_privacy_settings(void)
{
    char dir[256], token[33], target[1024];
    ASSERT_EQ_INT(harness_tmpdir(dir), 0);
    struct buf out;
    buf_init(&out);
    ASSERT_EQ_INT(run_tally(&out, "site add --data %s --name S --url https://s.example.com "
                                  "--ipv4-mask-bytes 3 --ipv6-mask-bits 96 --dnt ignore", dir), 0);
    ASSERT_EQ_INT(harness_token_create(dir, 1, token), 0);
    struct server server;
    ASSERT_EQ_INT(server_start(&server, dir, ""), 0);
    snprintf(target, sizeof target,
             "/matomo.php?idsite=1&rec=1&url=https%%3A%%2F%%2Fs.example.com%%2F&cip=198.51.100.23"
             "&token_auth=%s", token);
    ASSERT_EQ_INT(get(server.port, target, "DNT: 1\r\nSec-GPC: 1\r\n"), 200);
    snprintf(target, sizeof target,
             "/matomo.php?idsite=1&rec=1&url=https%%3A%%2F%%2Fs.example.com%%2F"
             "&cip=2001%%3Adb8%%3A85a3%%3A1%%3A2%%3A8a2e%%3A370%%3A7334&token_auth=%s", token);
    ASSERT_EQ_INT(get(server.port, target, ""), 200);
    server_stop(&server);
    buf_reset(&out);
    ASSERT_EQ_INT(run_tally(&out, "hits --data %s --site 1 --json", dir), 0);
    ASSERT_CONTAINS(out.data, "\"ip_anon\":\"198.0.0.0\"");
    ASSERT_CONTAINS(out.data, "\"ip_anon\":\"2001:db8::\"");
    ASSERT_NOT_CONTAINS(out.data, "198.51");
    ASSERT_NOT_CONTAINS(out.data, "85a3");
    buf_free(&out);
    harness_rmtree(dir);
}

int main(void)
{
    TEST_RUN(test_no_raw_ip_or_user_agent_anywhere);
    TEST_RUN(test_site_privacy_settings);
    return TEST_DONE();
}
