/* names: display names read from the system's iso-codes files (Debian's
 * iso-codes package, installed by scripts/deps.sh), and the errors a
 * missing or broken folder gives. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "../src/base/base.h"
#include "../src/query/query.h"
#include "test.h"

static char err[512];
static struct names *names;

static void test_load_system_files(void)
{
    ASSERT_EQ_INT(names_load(NULL, &names, err, sizeof err), 0);
    ASSERT_TRUE(names != NULL);
}

static void test_countries(void)
{
    ASSERT_TRUE(names != NULL);
    ASSERT_EQ_STR(names_country(names, "de"), "Germany");
    ASSERT_EQ_STR(names_country(names, "DE"), "Germany");
    ASSERT_EQ_STR(names_country(names, "fr"), "France");
    /* The common name where iso-codes has one. */
    ASSERT_EQ_STR(names_country(names, "kr"), "South Korea");
    ASSERT_EQ_STR(names_country(names, "tw"), "Taiwan");
    ASSERT_EQ_STR(names_country(names, "ci"), "Côte d'Ivoire");
    ASSERT_TRUE(names_country(names, "xx") == NULL);
    ASSERT_TRUE(names_country(names, "") == NULL);
    ASSERT_TRUE(names_country(names, "deu") == NULL);
    ASSERT_TRUE(names_country(names, "germany-and-far-too-long") == NULL);
}

static void test_regions(void)
{
    ASSERT_TRUE(names != NULL);
    ASSERT_EQ_STR(names_region(names, "de", "BY"), "Bayern");
    ASSERT_EQ_STR(names_region(names, "de", "by"), "Bayern");
    ASSERT_EQ_STR(names_region(names, "fr", "IDF"), "Île-de-France");
    ASSERT_EQ_STR(names_region(names, "us", "CA"), "California");
    ASSERT_EQ_STR(names_region(names, "gb", "ENG"), "England");
    ASSERT_TRUE(names_region(names, "de", "XX") == NULL);
    ASSERT_TRUE(names_region(names, "de", "") == NULL);
    ASSERT_TRUE(names_region(names, "", "BY") == NULL);
    ASSERT_TRUE(names_region(names, "de", "BYBYBYBY") == NULL);
}

static void test_languages(void)
{
    ASSERT_TRUE(names != NULL);
    ASSERT_EQ_STR(names_language(names, "de"), "German");
    ASSERT_EQ_STR(names_language(names, "de-at"), "German");
    ASSERT_EQ_STR(names_language(names, "DE_AT"), "German");
    ASSERT_EQ_STR(names_language(names, "deu"), "German");
    ASSERT_EQ_STR(names_language(names, "fr"), "French");
    /* One name of several: "Spanish; Castilian", "Dutch; Flemish". */
    ASSERT_EQ_STR(names_language(names, "es"), "Spanish");
    ASSERT_EQ_STR(names_language(names, "nl-be"), "Dutch");
    /* Not the inverted one: "Bokmål, Norwegian; Norwegian Bokmål". */
    ASSERT_EQ_STR(names_language(names, "nb"), "Norwegian Bokmål");
    /* Without the qualifier: "Greek, Modern (1453-)". */
    ASSERT_EQ_STR(names_language(names, "el"), "Greek, Modern");
    /* Only an ISO 639-2 code: "Swiss German; Alemannic; Alsatian". */
    ASSERT_EQ_STR(names_language(names, "gsw-ch"), "Swiss German");
    ASSERT_TRUE(names_language(names, "xx") == NULL);
    ASSERT_TRUE(names_language(names, "") == NULL);
    ASSERT_TRUE(names_language(names, "-de") == NULL);
    ASSERT_TRUE(names_language(names, "toolongcode-x") == NULL);
}

static void test_continents(void)
{
    static const char *const expected[][2] = {
        {"afr", "Africa"},        {"amc", "Central America"}, {"amn", "North America"},
        {"ams", "South America"}, {"ant", "Antarctica"},      {"asi", "Asia"},
        {"eur", "Europe"},        {"oce", "Oceania"},         {"EUR", "Europe"},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        ASSERT_EQ_STR(names_continent(expected[i][0]), expected[i][1]);
    ASSERT_TRUE(names_continent("xx") == NULL);
    ASSERT_TRUE(names_continent("") == NULL);
    ASSERT_TRUE(names_continent("europe") == NULL);
}

/* A folder with the three files, each given content. */
static void write_folder(const char *dir, const char *countries, const char *regions,
                         const char *languages)
{
    const char *files[][2] = {{"iso_3166-1.json", countries},
                              {"iso_3166-2.json", regions},
                              {"iso_639-2.json", languages}};
    char path[512];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
        unlink(path);
        if (files[i][1]) file_write_atomic(path, files[i][1], strlen(files[i][1]), 0644);
    }
}

static void test_errors_name_the_file(void)
{
    char dir[] = "/tmp/tally-names-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    static const char countries[] = "{\"3166-1\": [{\"alpha_2\": \"DE\", \"name\": \"Germany\"}]}";
    static const char regions[] = "{\"3166-2\": [{\"code\": \"DE-BY\", \"name\": \"Bayern\"}]}";
    static const char languages[] = "{\"639-2\": [{\"alpha_3\": \"deu\", \"name\": \"German\"}]}";
    struct names *n = (struct names *)1;
    int rc_missing = names_load("/nonexistent/iso-codes", &n, err, sizeof err);
    bool cleared = n == NULL;
    char msg_missing[512];
    snprintf(msg_missing, sizeof msg_missing, "%s", err);

    write_folder(dir, countries, regions, "{\"639-2\": [");
    int rc_broken = names_load(dir, &n, err, sizeof err);
    char msg_broken[512];
    snprintf(msg_broken, sizeof msg_broken, "%s", err);

    write_folder(dir, countries, "{\"3166-2\": [{\"name\": \"Bayern\"}]}", languages);
    int rc_field = names_load(dir, &n, err, sizeof err);
    char msg_field[512];
    snprintf(msg_field, sizeof msg_field, "%s", err);

    write_folder(dir, countries, regions, languages);
    int rc_small = names_load(dir, &n, err, sizeof err);
    const char *de = rc_small == 0 ? names_country(n, "de") : NULL;
    const char *by = rc_small == 0 ? names_region(n, "DE", "by") : NULL;
    const char *german = rc_small == 0 ? names_language(n, "deu") : NULL;
    bool de_ok = de && strcmp(de, "Germany") == 0;
    bool by_ok = by && strcmp(by, "Bayern") == 0;
    bool german_ok = german && strcmp(german, "German") == 0;
    bool no_alpha2 = rc_small == 0 && names_language(n, "de") == NULL;
    if (rc_small == 0) names_free(n);

    write_folder(dir, NULL, NULL, NULL);
    rmdir(dir);

    ASSERT_EQ_INT(rc_missing, -ENOENT);
    ASSERT_TRUE(cleared);
    ASSERT_EQ_STR(msg_missing,
                  "names: cannot read /nonexistent/iso-codes/iso_3166-1.json; install Debian's "
                  "iso-codes");
    ASSERT_EQ_INT(rc_broken, -EINVAL);
    ASSERT_CONTAINS(msg_broken, "iso_639-2.json: not valid JSON");
    ASSERT_EQ_INT(rc_field, -EINVAL);
    ASSERT_CONTAINS(msg_field, "iso_3166-2.json: entry 0 has no \"code\"");
    ASSERT_EQ_INT(rc_small, 0);
    ASSERT_TRUE(de_ok && by_ok && german_ok && no_alpha2);
    names_free(NULL);
}

int main(void)
{
    TEST_RUN(test_load_system_files);
    TEST_RUN(test_countries);
    TEST_RUN(test_regions);
    TEST_RUN(test_languages);
    TEST_RUN(test_continents);
    TEST_RUN(test_errors_name_the_file);
    names_free(names);
    return TEST_DONE();
}
