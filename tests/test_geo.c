/* geo: lookups on two databases generated at start by
 * tests/make-test-mmdb.pl (flat like @ip-location-db, nested like
 * GeoIP2-City), on the real default database from node_modules, and on
 * missing, foreign and damaged files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../src/enrich/geo.h"
#include "harness.h"
#include "test.h"

static char root[1024];        /* the repository: tests/, node_modules/ */
static char assets[1100];      /* root/node_modules */
static char tmp[256];
static char flat_path[512];
static char city_path[512];

/* The binary is ROOT/BUILD/tests/test_geo, wherever it is started from. */
static int find_root(void)
{
    ssize_t n = readlink("/proc/self/exe", root, sizeof root - 1);
    if (n <= 0) return -1;
    root[n] = '\0';
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(root, '/');
        if (!slash) return -1;
        *slash = '\0';
    }
    snprintf(assets, sizeof assets, "%s/node_modules", root);
    return 0;
}

#define ASSERT_GEO(g, ip, cc, region, city_name, continent)                            \
    do {                                                                               \
        struct geo_result r_;                                                          \
        memset(&r_, 'X', sizeof r_);                                                   \
        geo_lookup((g), (ip), &r_);                                                    \
        ASSERT_EQ_STR(r_.country_code, cc);                                            \
        ASSERT_EQ_STR(r_.region_code, region);                                         \
        ASSERT_EQ_STR(r_.city, city_name);                                             \
        ASSERT_EQ_STR(r_.continent_code, continent);                                   \
    } while (0)
#define ASSERT_GEO_UNKNOWN(g, ip) ASSERT_GEO(g, ip, "", "", "", "")

static struct geo *open_or_null(const char *path)
{
    struct geo *g = NULL;
    char err[512];
    int rc = geo_open(assets, path, &g, err, sizeof err);
    if (rc != 0) printf("#   geo_open: %d %s\n", rc, err);
    return g;
}

/* ---- the generated databases ------------------------------------------ */

static void test_generate_databases(void)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "perl '%s/tests/make-test-mmdb.pl' '%s' 2>&1", root, tmp);
    int st = system(cmd);
    if (st != 0)
        TEST_FAIL_("`%s` failed (status %d): it needs perl and Debian's "
                   "libmaxmind-db-writer-perl (scripts/deps.sh test installs it)",
                   cmd, st);
    struct stat sb;
    ASSERT_EQ_INT(stat(flat_path, &sb), 0);
    ASSERT_TRUE(sb.st_size > 0);
    ASSERT_EQ_INT(stat(city_path, &sb), 0);
    ASSERT_TRUE(sb.st_size > 0);
}

static void test_flat_ipv4(void)
{
    struct geo *g = open_or_null(flat_path);
    ASSERT_TRUE(g);
    ASSERT_GEO(g, "203.0.113.9", "de", "", "", "eur");
    ASSERT_GEO(g, "203.0.113.255", "de", "", "", "eur");
    ASSERT_GEO(g, "198.51.100.7", "us", "", "", "amn");
    ASSERT_GEO(g, "192.0.2.1", "cr", "", "", "amc");
    /* "nz" is stored in lower case: the same code comes out. */
    ASSERT_GEO(g, "192.0.2.200", "nz", "", "", "oce");
    /* "DEU" is not an ISO 3166-1 alpha-2 code. */
    ASSERT_GEO_UNKNOWN(g, "192.0.2.130");
    /* IPv4 peers of a dual-stack socket. */
    ASSERT_GEO(g, "::ffff:203.0.113.9", "de", "", "", "eur");
    ASSERT_GEO(g, "::FFFF:198.51.100.7", "us", "", "", "amn");
    ASSERT_GEO_UNKNOWN(g, "203.0.114.1");
    ASSERT_GEO_UNKNOWN(g, "8.8.8.8");
    geo_close(g);
}

static void test_flat_ipv6(void)
{
    struct geo *g = open_or_null(flat_path);
    ASSERT_TRUE(g);
    ASSERT_GEO(g, "2001:db8::1", "fr", "", "", "eur");
    ASSERT_GEO(g, "2001:DB8:0:0:0:0:0:1", "fr", "", "", "eur");
    ASSERT_GEO(g, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "fr", "", "", "eur");
    /* A more specific network inside 2001:db8::/32. */
    ASSERT_GEO(g, "2001:db8:cafe::17", "jp", "", "", "asi");
    ASSERT_GEO_UNKNOWN(g, "2001:db9::1");
    ASSERT_GEO_UNKNOWN(g, "2a00:1450:4001::1");
    geo_close(g);
}

static void test_city_ipv4(void)
{
    struct geo *g = open_or_null(city_path);
    ASSERT_TRUE(g);
    ASSERT_GEO(g, "203.0.113.9", "de", "BY", "Munich", "eur");
    ASSERT_GEO(g, "::ffff:203.0.113.9", "de", "BY", "Munich", "eur");
    /* Country and continent only. */
    ASSERT_GEO(g, "198.51.100.7", "us", "", "", "amn");
    /* MaxMind's NA, but Costa Rica is Central America for Matomo. */
    ASSERT_GEO(g, "192.0.2.5", "cr", "SJ", "San Jos\xc3\xa9", "amc");
    /* A region code that is no ISO 3166-2 code is dropped; a city name of
     * 40 two-byte characters is cut to 31 of them, not mid-character. */
    char cut[64] = "";
    for (int i = 0; i < 31; i++) strcat(cut, "\xc3\xa9");
    ASSERT_GEO(g, "192.0.2.129", "fr", "", cut, "eur");
    ASSERT_GEO_UNKNOWN(g, "198.51.101.1");
    geo_close(g);
}

static void test_city_ipv6(void)
{
    struct geo *g = open_or_null(city_path);
    ASSERT_TRUE(g);
    /* subdivisions[0] is the region; [1] ("75") is not. */
    ASSERT_GEO(g, "2001:db8::1", "fr", "IDF", "Paris", "eur");
    ASSERT_GEO(g, "2001:db8:1::1", "mx", "", "", "amn");
    /* A continent without a country. */
    ASSERT_GEO(g, "2001:db8:2::1", "", "", "", "eur");
    /* A country without a continent: the continent comes from the country. */
    ASSERT_GEO(g, "2001:db8:3::1", "jp", "", "", "asi");
    /* Only a German city name: no English name, no city. */
    ASSERT_GEO(g, "2001:db8:4::1", "at", "", "", "eur");
    /* A continent code that is not one: derived from the country instead. */
    ASSERT_GEO(g, "2001:db8:5::1", "de", "", "", "eur");
    ASSERT_GEO_UNKNOWN(g, "2001:db9::1");
    geo_close(g);
}

/* Both test databases place 10.0.0.0/8 and fc00::/7 (and the flat one
 * 127.0.0.0/8, 192.168.0.0/16, fe80::/10) in GB: geo must not ask. */
static void test_private_addresses_are_not_looked_up(void)
{
    static const char *const local[] = {
        "10.1.2.3", "10.255.255.255", "192.168.1.1", "127.0.0.1", "172.16.0.1",
        "172.31.255.255", "169.254.1.1", "100.64.0.1", "100.127.255.255", "0.0.0.0",
        "192.0.0.8", "198.18.0.1", "224.0.0.1", "239.255.255.250", "240.0.0.1",
        "255.255.255.255", "::", "::1", "::10.0.0.1", "fc00::1", "fd12:3456::1", "fe80::1",
        "febf::1", "fec0::1", "ff02::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1",
        "::ffff:192.168.0.1",
    };
    struct geo *flat = open_or_null(flat_path);
    struct geo *city = open_or_null(city_path);
    ASSERT_TRUE(flat && city);
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
        ASSERT_GEO_UNKNOWN(flat, local[i]);
        ASSERT_GEO_UNKNOWN(city, local[i]);
    }
    /* The edges of those ranges are public. */
    ASSERT_GEO_UNKNOWN(flat, "172.32.0.1"); /* looked up; the test database has nothing */
    geo_close(flat);
    geo_close(city);
}

static void test_garbage_is_unknown(void)
{
    static const char *const junk[] = {
        "", " ", "not an ip", "203.0.113", "203.0.113.9.1", "203.0.113.256", " 203.0.113.9",
        "203.0.113.9 ", "203.0.113.9\n", "2001:db8::1%eth0", "2001:db8:::1", "203.0.113.9:80",
        "[2001:db8::1]", "2001:db8::1/32", "0x7f.1", "203.0.113.9\xff", "\xc3\xa9", ":", "::::",
        "2001:db8::g", "1:2:3:4:5:6:7:8:9", "::ffff:203.0.113", "-1.0.0.0",
    };
    struct geo *g = open_or_null(city_path);
    ASSERT_TRUE(g);
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) ASSERT_GEO_UNKNOWN(g, junk[i]);

    char longest[10001];
    memset(longest, '1', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    ASSERT_GEO_UNKNOWN(g, longest);
    for (size_t i = 0; i < sizeof longest - 1; i++) longest[i] = i % 5 == 4 ? ':' : 'f';
    ASSERT_GEO_UNKNOWN(g, longest);

    ASSERT_GEO_UNKNOWN(g, NULL);
    /* No database (it failed to open): the server runs, location unknown. */
    ASSERT_GEO_UNKNOWN(NULL, "203.0.113.9");
    geo_close(g);
    geo_close(NULL);
}

/* ---- opening -------------------------------------------------------------- */

static void test_missing_file(void)
{
    struct geo *g = (struct geo *)1;
    char err[512];
    char path[600];
    snprintf(path, sizeof path, "%s/absent.mmdb", tmp);
    ASSERT_EQ_INT(geo_open(assets, path, &g, err, sizeof err), -ENOENT);
    ASSERT_TRUE(g == NULL);
    ASSERT_CONTAINS(err, path);
    ASSERT_CONTAINS(err, "No such file");

    /* The default database below an assets folder that lacks it. */
    ASSERT_EQ_INT(geo_open(tmp, NULL, &g, err, sizeof err), -ENOENT);
    ASSERT_CONTAINS(err, GEO_DEFAULT_DB);
    ASSERT_CONTAINS(err, "scripts/assets.sh");

    snprintf(path, sizeof path, "%s/absent/deeper.mmdb", tmp);
    ASSERT_EQ_INT(geo_open(assets, path, &g, err, sizeof err), -ENOENT);

    ASSERT_EQ_INT(geo_open(NULL, NULL, &g, err, sizeof err), -EINVAL);
    ASSERT_TRUE(err[0] != '\0');
}

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

static void test_not_maxmind(void)
{
    struct geo *g = NULL;
    char err[512];
    char path[600];

    /* Junk bytes, as a wrong --geoip argument would give. */
    unsigned char junk[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (unsigned char)(x >> 16);
    }
    snprintf(path, sizeof path, "%s/junk.mmdb", tmp);
    ASSERT_EQ_INT(write_file(path, junk, sizeof junk), 0);
    ASSERT_EQ_INT(geo_open(assets, path, &g, err, sizeof err), -EINVAL);
    ASSERT_TRUE(g == NULL);
    ASSERT_CONTAINS(err, path);
    ASSERT_CONTAINS(err, "is not a MaxMind database: ");

    /* A CSV of the same data, the other format ip-location-db ships. */
    static const char csv[] = "1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.3.255,CN\n";
    snprintf(path, sizeof path, "%s/geo.csv", tmp);
    ASSERT_EQ_INT(write_file(path, csv, sizeof csv - 1), 0);
    ASSERT_EQ_INT(geo_open(assets, path, &g, err, sizeof err), -EINVAL);
    ASSERT_CONTAINS(err, "is not a MaxMind database: ");

    snprintf(path, sizeof path, "%s/empty.mmdb", tmp);
    ASSERT_EQ_INT(write_file(path, "", 0), 0);
    ASSERT_EQ_INT(geo_open(assets, path, &g, err, sizeof err), -EINVAL);
    ASSERT_CONTAINS(err, "is not a MaxMind database: ");

    ASSERT_EQ_INT(geo_open(assets, tmp, &g, err, sizeof err), -EINVAL);
    ASSERT_CONTAINS(err, "is not a MaxMind database: not a regular file");
    ASSERT_TRUE(g == NULL);
}

/* A database damaged on disk (every 5th byte of the file in turn set to
 * 0xff, then every truncation length in steps): opening may fail, lookups
 * may find nothing, but nothing crashes or reads outside the file (ASan). */
static void test_damaged_database(void)
{
    struct buf orig;
    buf_init(&orig);
    ASSERT_EQ_INT(file_read_all(city_path, &orig), 0);
    ASSERT_TRUE(orig.len > 100);
    char path[600];
    snprintf(path, sizeof path, "%s/damaged.mmdb", tmp);
    static const char *const ips[] = {"203.0.113.9", "198.51.100.7", "192.0.2.5", "192.0.2.129",
                                      "2001:db8::1", "2001:db8:2::1", "2001:db8:4::1", "8.8.8.8"};
    unsigned char *copy = malloc(orig.len);
    ASSERT_TRUE(copy);
    int opened = 0, attempts = 0, malformed = 0;
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t at = 0; at < orig.len; at += pass == 0 ? 5 : 37) {
            memcpy(copy, orig.data, orig.len);
            size_t len = orig.len;
            if (pass == 0)
                copy[at] = 0xff;
            else
                len = at;
            if (write_file(path, copy, len) != 0) break;
            struct geo *g = NULL;
            char err[512];
            attempts++;
            if (geo_open(assets, path, &g, err, sizeof err) != 0) continue;
            opened++;
            for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++) {
                struct geo_result r;
                geo_lookup(g, ips[i], &r);
                /* Whatever was found is still a well-formed answer. */
                if ((r.country_code[0] && strlen(r.country_code) != 2) ||
                    strlen(r.continent_code) > 3 || !utf8_valid(r.city, strlen(r.city)))
                    malformed++;
            }
            geo_close(g);
        }
    }
    free(copy);
    buf_free(&orig);
    printf("# damaged database: %d of %d damaged copies opened, all looked up safely\n", opened,
           attempts);
    ASSERT_TRUE(opened > 0);
    ASSERT_EQ_INT(malformed, 0);
}

/* ---- the real default database (node_modules) ------------------------------ */

static void test_default_database(void)
{
    struct geo *g = NULL;
    char err[512];
    int rc = geo_open(assets, NULL, &g, err, sizeof err);
    if (rc != 0) TEST_FAIL_("geo_open(default): %d %s (run scripts/assets.sh)", rc, err);
    /* Facts of the pinned @ip-location-db version, checked with
     * MaxMind::DB::Reader: Google Public DNS, heise.de and Strato (DE),
     * Free (FR), Deutsche Telekom's IPv6 block (DE). */
    ASSERT_GEO(g, "8.8.8.8", "us", "", "", "amn");
    ASSERT_GEO(g, "2001:4860:4860::8888", "us", "", "", "amn");
    ASSERT_GEO(g, "193.99.144.80", "de", "", "", "eur");
    ASSERT_GEO(g, "85.214.0.1", "de", "", "", "eur");
    ASSERT_GEO(g, "212.27.48.10", "fr", "", "", "eur");
    ASSERT_GEO(g, "2a01:e0c::1", "fr", "", "", "eur");
    ASSERT_GEO(g, "2003::1", "de", "", "", "eur");
    ASSERT_GEO(g, "1.1.1.1", "au", "", "", "oce");
    ASSERT_GEO(g, "::ffff:8.8.8.8", "us", "", "", "amn");
    ASSERT_GEO_UNKNOWN(g, "10.0.0.1");
    ASSERT_GEO_UNKNOWN(g, "192.0.2.1");
    geo_close(g);

    /* The IPv4-only file of the same package: IPv6 peers stay unknown. */
    char path[1300];
    snprintf(path, sizeof path,
             "%s/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country-ipv4.mmdb",
             assets);
    g = open_or_null(path);
    ASSERT_TRUE(g);
    ASSERT_GEO(g, "8.8.8.8", "us", "", "", "amn");
    ASSERT_GEO(g, "::ffff:212.27.48.10", "fr", "", "", "eur");
    ASSERT_GEO_UNKNOWN(g, "2001:4860:4860::8888");
    geo_close(g);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Per-lookup cost on the real database, over addresses spread across the
 * whole space (so little of the tree stays in the CPU cache): three in four IPv4. */
static void test_speed_default_database(void)
{
    struct geo *g = open_or_null(NULL);
    ASSERT_TRUE(g);
    enum { N = 4096 };
    static char ips[N][46];
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < N; i++) {
        x = hash_mix64(x + (uint64_t)i);
        if (i % 4 == 3)
            snprintf(ips[i], sizeof ips[i], "2%03x:%x:%x::%x", (unsigned)(x & 0xfff),
                     (unsigned)(x >> 16 & 0xffff), (unsigned)(x >> 32 & 0xffff),
                     (unsigned)(x >> 48));
        else
            snprintf(ips[i], sizeof ips[i], "%u.%u.%u.%u", (unsigned)(x & 0xff) % 223 + 1,
                     (unsigned)(x >> 8 & 0xff), (unsigned)(x >> 16 & 0xff),
                     (unsigned)(x >> 24 & 0xff));
    }
    int rounds = 100, known = 0, no_continent = 0;
    double t0 = now_s();
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < N; i++) {
            struct geo_result res;
            geo_lookup(g, ips[i], &res);
            known += res.country_code[0] != '\0';
            no_continent += res.country_code[0] && !res.continent_code[0];
        }
    double dt = now_s() - t0;
    printf("# geo_lookup on the default database: %.0f ns per lookup (%d lookups, %.0f%% "
           "placed; sanitizer builds are several times slower)\n",
           dt / (rounds * (double)N) * 1e9, rounds * N, 100.0 * known / (rounds * (double)N));
    ASSERT_TRUE(known > rounds * N / 2);
    /* Every code the database gives is in the continent table. */
    ASSERT_EQ_INT(no_continent, 0);
    geo_close(g);
}

static void test_continent_table(void)
{
    ASSERT_EQ_STR(geo_continent_of("de"), "eur");
    ASSERT_EQ_STR(geo_continent_of("DE"), "eur");
    ASSERT_EQ_STR(geo_continent_of("us"), "amn");
    ASSERT_EQ_STR(geo_continent_of("mx"), "amn");
    ASSERT_EQ_STR(geo_continent_of("gl"), "amn");
    ASSERT_EQ_STR(geo_continent_of("cr"), "amc");
    ASSERT_EQ_STR(geo_continent_of("pr"), "amc");
    ASSERT_EQ_STR(geo_continent_of("cu"), "amc");
    ASSERT_EQ_STR(geo_continent_of("br"), "ams");
    ASSERT_EQ_STR(geo_continent_of("aq"), "ant");
    ASSERT_EQ_STR(geo_continent_of("au"), "oce");
    ASSERT_EQ_STR(geo_continent_of("za"), "afr");
    ASSERT_EQ_STR(geo_continent_of("ss"), "afr");
    ASSERT_EQ_STR(geo_continent_of("jp"), "asi");
    ASSERT_EQ_STR(geo_continent_of("ru"), "eur");
    ASSERT_EQ_STR(geo_continent_of("tr"), "eur");
    ASSERT_EQ_STR(geo_continent_of("xk"), "eur");
    ASSERT_EQ_STR(geo_continent_of("an"), "amc");
    ASSERT_EQ_STR(geo_continent_of("zz"), "");
    ASSERT_EQ_STR(geo_continent_of("uk"), "");
    ASSERT_EQ_STR(geo_continent_of("d"), "");
    ASSERT_EQ_STR(geo_continent_of("deu"), "");
    ASSERT_EQ_STR(geo_continent_of("d1"), "");
    ASSERT_EQ_STR(geo_continent_of(""), "");
    ASSERT_EQ_STR(geo_continent_of(NULL), "");
    /* The 249 ISO 3166-1 countries, Kosovo and the Netherlands Antilles
     * (the default database holds all 251), nothing else. */
    int known = 0;
    for (char a = 'a'; a <= 'z'; a++)
        for (char b = 'a'; b <= 'z'; b++) {
            char cc[3] = {a, b, '\0'};
            known += geo_continent_of(cc)[0] != '\0';
        }
    ASSERT_EQ_INT(known, 251);
}

int main(void)
{
    if (find_root() != 0 || harness_tmpdir(tmp) != 0) {
        printf("Bail out! cannot find the repository or make a temp folder\n");
        return 1;
    }
    snprintf(flat_path, sizeof flat_path, "%s/flat.mmdb", tmp);
    snprintf(city_path, sizeof city_path, "%s/city.mmdb", tmp);

    TEST_RUN(test_generate_databases);
    TEST_RUN(test_flat_ipv4);
    TEST_RUN(test_flat_ipv6);
    TEST_RUN(test_city_ipv4);
    TEST_RUN(test_city_ipv6);
    TEST_RUN(test_private_addresses_are_not_looked_up);
    TEST_RUN(test_garbage_is_unknown);
    TEST_RUN(test_missing_file);
    TEST_RUN(test_not_maxmind);
    TEST_RUN(test_damaged_database);
    TEST_RUN(test_default_database);
    TEST_RUN(test_speed_default_database);
    TEST_RUN(test_continent_table);

    harness_rmtree(tmp);
    return TEST_DONE();
}
