/* geo: lookups on two small databases written by tests/make-test-mmdb.pl
 * (flat and GeoIP2-City shaped), the real default database, and the errors
 * for a missing or foreign file. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "../src/enrich/geo.h"
#include "test.h"

static char dir[64];

static struct geo *open_db(const char *name)
{
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct geo *g = NULL;
    if (geo_open(NULL, path, &g, err, sizeof err)) printf("# geo_open: %s\n", err);
    return g;
}

#define ASSERT_LOCATION(g, ip, want_country, want_region, want_city, want_continent)       \
    do {                                                                                   \
        struct geo_result r_;                                                              \
        geo_lookup((g), (ip), &r_);                                                        \
        ASSERT_EQ_STR(r_.country_code, (want_country));                                    \
        ASSERT_EQ_STR(r_.region_code, (want_region));                                      \
        ASSERT_EQ_STR(r_.city, (want_city));                                               \
        ASSERT_EQ_STR(r_.continent_code, (want_continent));                                \
    } while (0)

static void test_flat_database(void)
{
    struct geo *g = open_db("flat.mmdb");
    ASSERT_TRUE(g != NULL);
    ASSERT_LOCATION(g, "203.0.113.7", "de", "", "", "eur");
    ASSERT_LOCATION(g, "198.51.100.200", "us", "", "", "amn");
    ASSERT_LOCATION(g, "192.0.2.1", "pa", "", "", "amc"); /* Central America */
    ASSERT_LOCATION(g, "2001:db8:1::5", "fr", "", "", "eur");
    ASSERT_LOCATION(g, "::ffff:203.0.113.7", "de", "", "", "eur");
    ASSERT_LOCATION(g, "8.8.8.8", "", "", "", "");
    geo_close(g);
}

static void test_city_database(void)
{
    struct geo *g = open_db("city.mmdb");
    ASSERT_TRUE(g != NULL);
    ASSERT_LOCATION(g, "203.0.113.7", "de", "BY", "Munich", "eur");
    ASSERT_LOCATION(g, "198.51.100.1", "us", "", "Seattle", "amn");
    ASSERT_LOCATION(g, "2001:db8::1", "fr", "IDF", "Paris", "eur");
    /* No country: the database's own continent. */
    ASSERT_LOCATION(g, "192.0.2.9", "", "", "", "oce");
    geo_close(g);
}

static void test_unknown_and_hostile_addresses(void)
{
    struct geo *g = open_db("city.mmdb");
    ASSERT_TRUE(g != NULL);
    static const char *const bad[] = {"", "10.0.0.1", "127.0.0.1", "::1", "not an ip",
                                      "203.0.113", "203.0.113.7.1", "example.com",
                                      "999.1.1.1", "2001:db8::zz"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) ASSERT_LOCATION(g, bad[i], "", "", "", "");
    struct geo_result none;
    geo_lookup(g, NULL, &none);
    ASSERT_EQ_STR(none.country_code, "");
    geo_close(g);
}

static void test_default_database(void)
{
    char err[512];
    struct geo *g = NULL;
    ASSERT_EQ_INT(geo_open(TALLY_ASSETS_DIR, NULL, &g, err, sizeof err), 0);
    /* Google's public resolvers are registered in the US. */
    ASSERT_LOCATION(g, "8.8.8.8", "us", "", "", "amn");
    ASSERT_LOCATION(g, "2001:4860:4860::8888", "us", "", "", "amn");
    geo_close(g);
}

static void test_missing_and_foreign_files(void)
{
    char path[128], err[512];
    struct geo *g = NULL;
    snprintf(path, sizeof path, "%s/none.mmdb", dir);
    ASSERT_EQ_INT(geo_open(NULL, path, &g, err, sizeof err), -ENOENT);
    ASSERT_CONTAINS(err, "none.mmdb does not exist");
    snprintf(path, sizeof path, "%s/junk.mmdb", dir);
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs("this is not a MaxMind database, just text\n", f);
    fclose(f);
    ASSERT_EQ_INT(geo_open(NULL, path, &g, err, sizeof err), -EINVAL);
    ASSERT_CONTAINS(err, "junk.mmdb is not a MaxMind database");
    ASSERT_TRUE(g == NULL);
    unlink(path);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/tally-geo-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "perl tests/make-test-mmdb.pl %s", dir);
    if (system(cmd) != 0) {
        printf("Bail out! tests/make-test-mmdb.pl failed (is libmaxmind-db-writer-perl "
               "installed? scripts/deps.sh test installs it)\n");
        return 1;
    }
    TEST_RUN(test_flat_database);
    TEST_RUN(test_city_database);
    TEST_RUN(test_unknown_and_hostile_addresses);
    TEST_RUN(test_default_database);
    TEST_RUN(test_missing_and_foreign_files);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", dir);
    return TEST_DONE();
}
