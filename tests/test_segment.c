/* segment: Matomo's segment language through segment_parse, the way the
 * Reporting API receives it (the HTTP layer has already decoded it once). */
#include <errno.h>
#include <stdlib.h>

#include "../src/base/base.h"
#include "../src/query/query.h"
#include "test.h"

static char err[512];

/* Parses text that must fail; err holds the message. */
static int parse_error(const char *text)
{
    struct segment *seg = (struct segment *)1;
    int rc = segment_parse(text, &seg, err, sizeof err);
    if (rc == 0)
        segment_free(seg);
    else if (seg)
        return -1000; /* *out must be NULL on failure */
    return rc;
}

static void test_empty_segment_is_every_visit(void)
{
    struct segment *seg;
    ASSERT_EQ_INT(segment_parse("", &seg, err, sizeof err), 0);
    ASSERT_TRUE(seg != NULL);
    ASSERT_EQ_INT(seg->count, 0);
    segment_free(seg);
    segment_free(NULL);
}

static void test_and_or_precedence(void)
{
    struct segment *seg;
    ASSERT_EQ_INT(segment_parse("countryCode==de;pageUrl=@%2Fblog,referrerType==search;"
                                "visitCount>=3",
                                &seg, err, sizeof err),
                  0);
    ASSERT_EQ_INT(seg->count, 3);
    ASSERT_EQ_INT(seg->groups[0].count, 1);
    ASSERT_EQ_INT(seg->groups[1].count, 2);
    ASSERT_EQ_INT(seg->groups[2].count, 1);
    const struct segment_condition *c = seg->groups[0].conditions;
    ASSERT_EQ_INT(c[0].dimension, SEGMENT_DIM_COUNTRY_CODE);
    ASSERT_EQ_INT(c[0].op, SEGMENT_EQ);
    ASSERT_EQ_STR(c[0].value, "de");
    c = seg->groups[1].conditions;
    ASSERT_EQ_INT(c[0].dimension, SEGMENT_DIM_PAGE_URL);
    ASSERT_EQ_INT(c[0].op, SEGMENT_CONTAINS);
    ASSERT_EQ_STR(c[0].value, "/blog");
    ASSERT_EQ_INT(c[1].dimension, SEGMENT_DIM_REFERRER_TYPE);
    ASSERT_EQ_STR(c[1].value, "search");
    c = seg->groups[2].conditions;
    ASSERT_EQ_INT(c[0].dimension, SEGMENT_DIM_VISIT_COUNT);
    ASSERT_EQ_INT(c[0].op, SEGMENT_GE);
    ASSERT_TRUE(c[0].is_number);
    ASSERT_EQ_DBL(c[0].number, 3);
    segment_free(seg);
}

static void test_or_only_is_one_group(void)
{
    struct segment *seg;
    ASSERT_EQ_INT(
        segment_parse("browserCode==FF,browserCode==CH,browserCode==SF", &seg, err, sizeof err), 0);
    ASSERT_EQ_INT(seg->count, 1);
    ASSERT_EQ_INT(seg->groups[0].count, 3);
    ASSERT_EQ_STR(seg->groups[0].conditions[2].value, "SF");
    segment_free(seg);
}

static void test_every_operator(void)
{
    static const struct {
        const char *text;
        enum segment_op op;
        const char *value;
    } cases[] = {
        {"pageTitle==a", SEGMENT_EQ, "a"},
        {"pageTitle!=a", SEGMENT_NE, "a"},
        {"pageTitle<=a", SEGMENT_LE, "a"},
        {"pageTitle>=a", SEGMENT_GE, "a"},
        {"pageTitle<a", SEGMENT_LT, "a"},
        {"pageTitle>a", SEGMENT_GT, "a"},
        {"pageTitle=@a", SEGMENT_CONTAINS, "a"},
        {"pageTitle!@a", SEGMENT_NOT_CONTAINS, "a"},
        {"pageTitle=^a", SEGMENT_STARTS, "a"},
        {"pageTitle=$a", SEGMENT_ENDS, "a"},
        /* The longest operator wins; the rest is value. */
        {"pageTitle<==", SEGMENT_LE, "="},
        {"pageTitle===", SEGMENT_EQ, "="},
        {"pageTitle=@=@", SEGMENT_CONTAINS, "=@"},
        {"pageTitle>>", SEGMENT_GT, ">"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct segment *seg;
        int rc = segment_parse(cases[i].text, &seg, err, sizeof err);
        if (rc) TEST_FAIL_("%s: %s", cases[i].text, err);
        const struct segment_condition *c = &seg->groups[0].conditions[0];
        int op = c->op;
        char value[64];
        snprintf(value, sizeof value, "%s", c->value);
        segment_free(seg);
        if (op != (int)cases[i].op)
            TEST_FAIL_("%s: op %d, expected %d", cases[i].text, op, (int)cases[i].op);
        ASSERT_EQ_STR(value, cases[i].value);
    }
}

static void test_url_decoding(void)
{
    struct segment *seg;
    /* %XX once more than HTTP did, '+' is a space (PHP's urldecode), and a
     * decoded ';' or ',' is part of the value, not a separator. */
    ASSERT_EQ_INT(segment_parse("pageUrl==https%3A%2F%2Fex.com%2Fa%3Bb%2Cc%3D1;"
                                "pageTitle==caf%C3%A9+cr%c3%a8me%2B",
                                &seg, err, sizeof err),
                  0);
    ASSERT_EQ_INT(seg->count, 2);
    ASSERT_EQ_STR(seg->groups[0].conditions[0].value, "https://ex.com/a;b,c=1");
    ASSERT_EQ_STR(seg->groups[1].conditions[0].value, "caf\xc3\xa9 cr\xc3\xa8me+");
    segment_free(seg);
    /* Decoded once only: %2541 is "%41", not "A". */
    ASSERT_EQ_INT(segment_parse("pageTitle==%2541", &seg, err, sizeof err), 0);
    ASSERT_EQ_STR(seg->groups[0].conditions[0].value, "%41");
    segment_free(seg);
}

static void test_backslash_escapes(void)
{
    struct segment *seg;
    ASSERT_EQ_INT(segment_parse("pageTitle==a\\,b\\;c\\\\d\\%41\\+;city==x", &seg, err, sizeof err),
                  0);
    ASSERT_EQ_INT(seg->count, 2);
    ASSERT_EQ_INT(seg->groups[0].count, 1);
    ASSERT_EQ_STR(seg->groups[0].conditions[0].value, "a,b;c\\d%41+");
    ASSERT_EQ_STR(seg->groups[1].conditions[0].value, "x");
    segment_free(seg);
    /* An escaped backslash does not escape what follows it. */
    ASSERT_EQ_INT(segment_parse("city==a\\\\,city==b", &seg, err, sizeof err), 0);
    ASSERT_EQ_INT(seg->groups[0].count, 2);
    ASSERT_EQ_STR(seg->groups[0].conditions[0].value, "a\\");
    segment_free(seg);
}

static void test_empty_values(void)
{
    struct segment *seg;
    ASSERT_EQ_INT(segment_parse("referrerKeyword==;userId!=,visitCount==", &seg, err, sizeof err),
                  0);
    ASSERT_EQ_STR(seg->groups[0].conditions[0].value, "");
    ASSERT_EQ_INT(seg->groups[1].conditions[0].op, SEGMENT_NE);
    ASSERT_EQ_STR(seg->groups[1].conditions[0].value, "");
    ASSERT_TRUE(!seg->groups[1].conditions[1].is_number);
    segment_free(seg);

    ASSERT_EQ_INT(parse_error("pageUrl=@"), -EINVAL);
    ASSERT_EQ_STR(err,
                  "segment: missing value (only == and != accept an empty one) at position 10");
    ASSERT_EQ_INT(parse_error("city=^;countryCode==de"), -EINVAL);
    ASSERT_CONTAINS(err, "at position 7");
}

static void test_custom_dimensions(void)
{
    struct segment *seg;
    ASSERT_EQ_INT(
        segment_parse("dimension1==a,dimension42=@b;dimension999!=c", &seg, err, sizeof err), 0);
    const struct segment_condition *c = seg->groups[0].conditions;
    ASSERT_EQ_INT(c[0].dimension, SEGMENT_DIM_DIMENSION);
    ASSERT_EQ_INT(c[0].dimension_index, 1);
    ASSERT_EQ_INT(c[1].dimension_index, 42);
    ASSERT_EQ_INT(seg->groups[1].conditions[0].dimension_index, 999);
    segment_free(seg);

    unsigned index = 7;
    ASSERT_EQ_INT(segment_dimension_find("dimension7", &index), SEGMENT_DIM_DIMENSION);
    ASSERT_EQ_INT(index, 7);
    ASSERT_EQ_INT(segment_dimension_find("countryCode", &index), SEGMENT_DIM_COUNTRY_CODE);
    ASSERT_EQ_INT(index, 0);
    ASSERT_EQ_INT(segment_dimension_find("dimension", &index), -1);
    ASSERT_EQ_INT(segment_dimension_find("dimension0", NULL), -1);
    ASSERT_EQ_INT(segment_dimension_find("dimension1000", NULL), -1);
    ASSERT_EQ_INT(segment_dimension_find("dimension01", NULL), -1);
    ASSERT_EQ_INT(segment_dimension_find("dimension1x", NULL), -1);
    ASSERT_EQ_INT(segment_dimension_find("CountryCode", NULL), -1);

    ASSERT_EQ_INT(parse_error("city==x;dimension1000==a"), -EINVAL);
    ASSERT_EQ_STR(err, "segment: custom dimension 'dimension1000' is not dimension1 .. "
                       "dimension999 at position 9");
    ASSERT_EQ_INT(parse_error("dimension==a"), -EINVAL);
    ASSERT_EQ_STR(err, "segment: unknown dimension 'dimension' at position 1");
}

static void test_every_dimension_name_parses(void)
{
    for (int d = 0; d < SEGMENT_DIM_COUNT; d++) {
        const struct segment_dimension_info *info = &segment_dimension_infos[d];
        char text[128];
        snprintf(text, sizeof text, "%s%s==1", info->name, d == SEGMENT_DIM_DIMENSION ? "3" : "");
        struct segment *seg;
        if (segment_parse(text, &seg, err, sizeof err)) TEST_FAIL_("%s: %s", text, err);
        int got = seg->groups[0].conditions[0].dimension;
        segment_free(seg);
        ASSERT_EQ_INT(got, d);
        ASSERT_TRUE(info->category && info->label && *info->label);
    }
}

static void test_numbers(void)
{
    struct segment *seg;
    ASSERT_EQ_INT(
        segment_parse("visitDuration>90.5;eventValue<=-2.5e1;actions!=1", &seg, err, sizeof err),
        0);
    ASSERT_EQ_DBL(seg->groups[0].conditions[0].number, 90.5);
    ASSERT_EQ_DBL(seg->groups[1].conditions[0].number, -25);
    ASSERT_EQ_INT(seg->groups[2].conditions[0].op, SEGMENT_NE);
    segment_free(seg);
    /* A text value that reads as a number says so, for the evaluator. */
    ASSERT_EQ_INT(segment_parse("browserVersion>=10", &seg, err, sizeof err), 0);
    ASSERT_TRUE(seg->groups[0].conditions[0].is_number);
    segment_free(seg);
    /* Text dimensions compare as bytes under < and >: dates work. */
    ASSERT_EQ_INT(segment_parse("visitStartServerDate>=2026-01-01", &seg, err, sizeof err), 0);
    ASSERT_TRUE(!seg->groups[0].conditions[0].is_number);
    ASSERT_EQ_STR(seg->groups[0].conditions[0].value, "2026-01-01");
    segment_free(seg);

    ASSERT_EQ_INT(parse_error("countryCode==de;visitCount>three"), -EINVAL);
    ASSERT_EQ_STR(err, "segment: visitCount takes a number at position 28");
    ASSERT_EQ_INT(parse_error("visitCount==0x10"), -EINVAL);
    ASSERT_CONTAINS(err, "takes a number at position 13");
    ASSERT_EQ_INT(parse_error("actions<inf"), -EINVAL);
    ASSERT_EQ_INT(parse_error("visitDuration=@5"), -EINVAL);
    ASSERT_EQ_STR(err, "segment: visitDuration is a number: use ==, !=, <, <=, > or >= at "
                       "position 14");
    ASSERT_EQ_INT(parse_error("pageviews>"), -EINVAL);
    ASSERT_CONTAINS(err, "missing value");
}

static void test_syntax_errors_name_the_position(void)
{
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"contry==de", "segment: unknown dimension 'contry' at position 1"},
        {"countryCode==de;contry==de", "segment: unknown dimension 'contry' at position 17"},
        {"countryCode=de", "segment: expected an operator (==, !=, <=, >=, <, >, =@, !@, =^, =$) "
                           "at position 12"},
        {"countryCode", "segment: expected an operator"},
        {"countryCode ==de", "at position 12"},
        {"==de", "segment: expected a dimension name at position 1"},
        {"city==a;", "segment: expected a dimension name at position 9"},
        {"city==a,", "segment: expected a dimension name at position 9"},
        {"city==a;;city==b", "segment: expected a dimension name at position 9"},
        {";", "expected a dimension name at position 1"},
        {",city==a", "expected a dimension name at position 1"},
        {" city==a", "expected a dimension name at position 1"},
        {"city==a\\", "segment: a backslash must be followed by the character it escapes at "
                      "position 8"},
        {"city==%zz", "segment: malformed percent escape (expected %XX, two hex digits) at "
                      "position 7"},
        {"city==ab%4", "malformed percent escape (expected %XX, two hex digits) at position 9"},
        {"city==ab%", "at position 9"},
        {"city==a%00b", "segment: %00 is not allowed in a value at position 8"},
        {"pageUrl\xc3\xa9==x", "expected an operator"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = parse_error(cases[i].text);
        if (rc != -EINVAL) TEST_FAIL_("%s: rc %d", cases[i].text, rc);
        ASSERT_CONTAINS(err, cases[i].message);
    }
}

static void test_long_names_are_cut_in_messages(void)
{
    char text[300];
    memset(text, 'x', 200);
    strcpy(text + 200, "==1");
    ASSERT_EQ_INT(parse_error(text), -EINVAL);
    ASSERT_CONTAINS(err, "segment: unknown dimension 'xxxxxxxxxx");
    ASSERT_CONTAINS(err, "x...' at position 1");
    ASSERT_TRUE(strlen(err) < 120);
}

static void test_limits(void)
{
    /* 8192 bytes is accepted, 8193 is not. */
    char *text = malloc(9000);
    ASSERT_TRUE(text != NULL);
    memcpy(text, "pageTitle==", 11);
    memset(text + 11, 'a', 8192 - 11);
    text[8192] = '\0';
    struct segment *seg;
    int rc = segment_parse(text, &seg, err, sizeof err);
    if (rc == 0) {
        ASSERT_EQ_INT(strlen(seg->groups[0].conditions[0].value), 8192 - 11);
        segment_free(seg);
    }
    text[8192] = 'a';
    text[8193] = '\0';
    int rc_long = parse_error(text);
    free(text);
    ASSERT_EQ_INT(rc, 0);
    ASSERT_EQ_INT(rc_long, -EINVAL);
    ASSERT_EQ_STR(err, "segment: 8193 bytes is longer than the limit of 8192");

    /* 256 conditions are accepted, 257 are not, whatever joins them. */
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 256; i++)
        buf_printf(&b, "%sactions>%d", i == 0 ? "" : i % 3 ? "," : ";", i);
    rc = segment_parse(b.data, &seg, err, sizeof err);
    size_t total = 0;
    if (rc == 0) {
        for (size_t g = 0; g < seg->count; g++)
            total += seg->groups[g].count;
        ASSERT_EQ_DBL(
            seg->groups[seg->count - 1].conditions[seg->groups[seg->count - 1].count - 1].number,
            255);
        segment_free(seg);
    }
    buf_puts(&b, ";actions>256");
    rc_long = parse_error(b.data);
    buf_free(&b);
    ASSERT_EQ_INT(rc, 0);
    ASSERT_EQ_INT(total, 256);
    ASSERT_EQ_INT(rc_long, -EINVAL);
    ASSERT_EQ_STR(err, "segment: 257 conditions is more than the limit of 256");
    /* Escaped separators are not conditions. */
    buf_init(&b);
    buf_puts(&b, "pageTitle==");
    for (int i = 0; i < 1000; i++)
        buf_puts(&b, "\\,");
    rc = segment_parse(b.data, &seg, err, sizeof err);
    buf_free(&b);
    ASSERT_EQ_INT(rc, 0);
    ASSERT_EQ_INT(strlen(seg->groups[0].conditions[0].value), 1000);
    segment_free(seg);
}

static void test_tiny_error_buffer(void)
{
    char small[8];
    struct segment *seg;
    ASSERT_EQ_INT(segment_parse("contry==de", &seg, small, sizeof small), -EINVAL);
    ASSERT_EQ_STR(small, "segment");
    ASSERT_EQ_INT(segment_parse("contry==de", &seg, NULL, 0), -EINVAL);
}

int main(void)
{
    TEST_RUN(test_empty_segment_is_every_visit);
    TEST_RUN(test_and_or_precedence);
    TEST_RUN(test_or_only_is_one_group);
    TEST_RUN(test_every_operator);
    TEST_RUN(test_url_decoding);
    TEST_RUN(test_backslash_escapes);
    TEST_RUN(test_empty_values);
    TEST_RUN(test_custom_dimensions);
    TEST_RUN(test_every_dimension_name_parses);
    TEST_RUN(test_numbers);
    TEST_RUN(test_syntax_errors_name_the_position);
    TEST_RUN(test_long_names_are_cut_in_messages);
    TEST_RUN(test_limits);
    TEST_RUN(test_tiny_error_buffer);
    return TEST_DONE();
}
