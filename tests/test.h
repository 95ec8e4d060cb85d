/* A small test runner: each tests/test_*.c is one program whose main calls
 * TEST_RUN for each test. Asserts print both values and end the current test.
 * Output is TAP ("ok 3 - name" / "not ok 3 - name"); scripts/run-tests.sh
 * adds up every program's lines into "N passed, N failed". */
#ifndef TALLY_TEST_H
#define TALLY_TEST_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int test_failures_in_current;
static int test_number;
static int test_failed_total;

#define TEST_FAIL_(...)                                                                \
    do {                                                                               \
        fprintf(stdout, "#   %s:%d: ", __FILE__, __LINE__);                             \
        fprintf(stdout, __VA_ARGS__);                                                  \
        fputc('\n', stdout);                                                           \
        test_failures_in_current++;                                                    \
        return;                                                                        \
    } while (0)

#define ASSERT_TRUE(cond)                                                              \
    do {                                                                               \
        if (!(cond)) TEST_FAIL_("expected true: %s", #cond);                           \
    } while (0)
#define ASSERT_EQ_INT(a, b)                                                            \
    do {                                                                               \
        long long a_ = (long long)(a), b_ = (long long)(b);                            \
        if (a_ != b_) TEST_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);             \
    } while (0)
#define ASSERT_EQ_U64(a, b)                                                            \
    do {                                                                               \
        unsigned long long a_ = (a), b_ = (b);                                         \
        if (a_ != b_) TEST_FAIL_("%s == %s: %llu != %llu", #a, #b, a_, b_);             \
    } while (0)
#define ASSERT_EQ_DBL(a, b)                                                            \
    do {                                                                               \
        double a_ = (a), b_ = (b);                                                     \
        if (!(fabs(a_ - b_) <= 1e-9 * (1 + fabs(b_))))                                 \
            TEST_FAIL_("%s == %s: %.17g != %.17g", #a, #b, a_, b_);                     \
    } while (0)
#define ASSERT_EQ_STR(a, b)                                                            \
    do {                                                                               \
        const char *a_ = (a), *b_ = (b);                                               \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                         \
            TEST_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",        \
                       b_ ? b_ : "(null)");                                            \
    } while (0)
#define ASSERT_CONTAINS(haystack, needle)                                              \
    do {                                                                               \
        const char *h_ = (haystack), *n_ = (needle);                                   \
        if (!h_ || !strstr(h_, n_))                                                    \
            TEST_FAIL_("%s contains \"%s\"; it is: %.2000s", #haystack, n_,             \
                       h_ ? h_ : "(null)");                                            \
    } while (0)
#define ASSERT_NOT_CONTAINS(haystack, needle)                                          \
    do {                                                                               \
        const char *h_ = (haystack), *n_ = (needle);                                   \
        if (h_ && strstr(h_, n_)) TEST_FAIL_("%s must not contain \"%s\"", #haystack, n_); \
    } while (0)

#define TEST_RUN(fn)                                                                   \
    do {                                                                               \
        test_failures_in_current = 0;                                                  \
        test_number++;                                                                 \
        fflush(stdout);                                                                \
        fn();                                                                          \
        printf("%sok %d - %s\n", test_failures_in_current ? "not " : "", test_number,  \
               #fn);                                                                   \
        fflush(stdout);                                                                \
        if (test_failures_in_current) test_failed_total++;                             \
    } while (0)

/* main ends with: return TEST_DONE(); */
#define TEST_DONE() (printf("1..%d\n", test_number), test_failed_total ? 1 : 0)

#endif
