/* A small unit-test harness: checks print got and expected on failure. */
#ifndef ADTALLY_TEST_H
#define ADTALLY_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failed_checks;
static int test_passed, test_failed;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            printf("  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
            test_failed_checks++;                                              \
        }                                                                      \
    } while (0)

#define CHECK_INT(got, want)                                                   \
    do {                                                                       \
        long long g_ = (long long)(got), w_ = (long long)(want);               \
        if (g_ != w_) {                                                        \
            printf("  %s:%d: %s: got %lld, expected %lld\n", __FILE__,         \
                   __LINE__, #got, g_, w_);                                    \
            test_failed_checks++;                                              \
        }                                                                      \
    } while (0)

#define CHECK_STR(got, want)                                                   \
    do {                                                                       \
        const char *g_ = (got), *w_ = (want);                                  \
        if (g_ == NULL || w_ == NULL ? g_ != w_ : strcmp(g_, w_) != 0) {       \
            printf("  %s:%d: %s: got \"%s\", expected \"%s\"\n", __FILE__,     \
                   __LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)");    \
            test_failed_checks++;                                              \
        }                                                                      \
    } while (0)

#define CHECK_MEM(got, want, n)                                                \
    do {                                                                       \
        if (memcmp((got), (want), (n)) != 0) {                                 \
            printf("  %s:%d: %s differs from %s over %zu bytes\n", __FILE__,   \
                   __LINE__, #got, #want, (size_t)(n));                        \
            test_failed_checks++;                                              \
        }                                                                      \
    } while (0)

/* Runs one test function and prints PASS or FAIL with its name. */
#define RUN(fn)                                                                \
    do {                                                                       \
        int before_ = test_failed_checks;                                      \
        fn();                                                                  \
        if (test_failed_checks == before_) {                                   \
            printf("PASS %s\n", #fn);                                          \
            test_passed++;                                                     \
        } else {                                                               \
            printf("FAIL %s\n", #fn);                                          \
            test_failed++;                                                     \
        }                                                                      \
    } while (0)

/* The exit status for main: 0 when every test passed. */
#define TEST_DONE() (test_failed ? 1 : 0)

#endif
