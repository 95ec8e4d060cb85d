/* Unit tests for src/base: the helpers every stage trusts. */
#include "test.h"

#include <errno.h>

#include "../src/base/base.h"

static void test_crc32c_known_vectors(void)
{
    /* RFC 3720 (iSCSI) check values. */
    unsigned char zeros[32] = {0}, ones[32];
    memset(ones, 0xff, sizeof ones);
    ASSERT_EQ_U64(crc32c(0, "123456789", 9), 0xe3069283u);
    ASSERT_EQ_U64(crc32c(0, zeros, sizeof zeros), 0x8a9136aau);
    ASSERT_EQ_U64(crc32c(0, ones, sizeof ones), 0x62a8ab43u);
    /* Incremental use gives the same answer as one call. */
    ASSERT_EQ_U64(crc32c(crc32c(0, "12345", 5), "6789", 4), 0xe3069283u);
}

static void test_json_string_escapes_hostile_text(void)
{
    struct buf b;
    buf_init(&b);
    buf_json_string(&b, "a\"b\\c\n<img src=x onerror='1'>&\x01\xe2\x80\xa8");
    ASSERT_EQ_STR(b.data, "\"a\\\"b\\\\c\\n\\u003cimg src=x onerror=\\u00271\\u0027\\u003e\\u0026"
                          "\\u0001\\u2028\"");
    buf_free(&b);
}

static void test_parse_numbers_strictly(void)
{
    int64_t i;
    double d;
    ASSERT_EQ_INT(parse_i64("42", 0, 100, &i), 0);
    ASSERT_EQ_INT(i, 42);
    ASSERT_EQ_INT(parse_i64("-3", -5, 5, &i), 0);
    ASSERT_EQ_INT(i, -3);
    ASSERT_EQ_INT(parse_i64("101", 0, 100, &i), -EINVAL);
    ASSERT_EQ_INT(parse_i64("4x", 0, 100, &i), -EINVAL);
    ASSERT_EQ_INT(parse_i64("", 0, 100, &i), -EINVAL);
    ASSERT_EQ_INT(parse_i64(" 4", 0, 100, &i), -EINVAL);
    ASSERT_EQ_INT(parse_f64("12.50", &d), 0);
    ASSERT_EQ_DBL(d, 12.5);
    ASSERT_EQ_INT(parse_f64("1e3", &d), 0);
    ASSERT_EQ_DBL(d, 1000);
    ASSERT_EQ_INT(parse_f64("nan", &d), -EINVAL);
    ASSERT_EQ_INT(parse_f64("inf", &d), -EINVAL);
    ASSERT_EQ_INT(parse_f64("0x10", &d), -EINVAL);
    ASSERT_EQ_INT(parse_f64("1e999", &d), -EINVAL);
}

static void test_utf8_validation(void)
{
    ASSERT_TRUE(utf8_valid("plain", 5));
    ASSERT_TRUE(utf8_valid("Gr\xc3\xbc\xc3\x9f""e \xe2\x82\xac \xf0\x9f\x98\x80", 16));
    ASSERT_TRUE(!utf8_valid("\xff", 1));
    ASSERT_TRUE(!utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    ASSERT_TRUE(!utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    ASSERT_TRUE(!utf8_valid("\xe2\x82", 2));         /* truncated */
    ASSERT_TRUE(!utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
}

static void test_dates_round_trip(void)
{
    int64_t day;
    char text[11];
    ASSERT_EQ_INT(parse_date("1970-01-01", &day), 0);
    ASSERT_EQ_INT(day, 0);
    ASSERT_EQ_INT(parse_date("2026-11-29", &day), 0);
    ASSERT_EQ_INT(day, 20786);
    format_date(day, text);
    ASSERT_EQ_STR(text, "2026-11-29");
    ASSERT_EQ_INT(parse_date("2024-02-29", &day), 0);
    ASSERT_EQ_INT(parse_date("2026-02-29", &day), -EINVAL);
    ASSERT_EQ_INT(parse_date("2026-13-01", &day), -EINVAL);
    ASSERT_EQ_INT(parse_date("26-11-29", &day), -EINVAL);
}

static void test_arena_caps_its_size(void)
{
    struct arena a;
    arena_init(&a, 10000);
    char *s = arena_strdup(&a, "hello");
    ASSERT_EQ_STR(s, "hello");
    ASSERT_TRUE(arena_alloc(&a, 9000) != NULL);
    ASSERT_TRUE(arena_alloc(&a, 2000) == NULL);
    arena_reset(&a);
    ASSERT_TRUE(arena_alloc(&a, 9000) != NULL);
    arena_free(&a);
}

int main(void)
{
    TEST_RUN(test_crc32c_known_vectors);
    TEST_RUN(test_json_string_escapes_hostile_text);
    TEST_RUN(test_parse_numbers_strictly);
    TEST_RUN(test_utf8_validation);
    TEST_RUN(test_dates_round_trip);
    TEST_RUN(test_arena_caps_its_size);
    return TEST_DONE();
}
