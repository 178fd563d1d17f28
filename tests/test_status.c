/* Status strings and version. */
#include "cmocka_wrap.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "elman.h"

static void test_every_code_has_a_message(void **state)
{
    (void)state;
    const char *unknown = elman_strerror(-12345);
    assert_non_null(unknown);
    for (int code = ELMAN_OK; code <= ELMAN_ERR_SHAPE; code++) {
        const char *msg = elman_strerror(code);
        assert_non_null(msg);
        assert_true(strlen(msg) > 0);
        assert_string_not_equal(msg, unknown);
        for (int other = ELMAN_OK; other < code; other++)
            assert_string_not_equal(msg, elman_strerror(other));
    }
    assert_string_equal(elman_strerror(ELMAN_ERR_SHAPE + 1), unknown);
}

/* Any int is accepted; an unknown one gives the documented text. */
static void test_unknown_codes(void **state)
{
    (void)state;
    const int unknown[] = {-1, ELMAN_ERR_SHAPE + 1, 1000, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        assert_string_equal(elman_strerror(unknown[i]), "unknown elman status");
}

/* "The numbers are fixed": each code keeps its value (a program built
 * against an older header compares with these numbers). */
static void test_codes_are_fixed(void **state)
{
    (void)state;
    assert_int_equal(ELMAN_OK, 0);
    assert_int_equal(ELMAN_ERR_NULL_ARGUMENT, 1);
    assert_int_equal(ELMAN_ERR_INVALID_SIZE, 2);
    assert_int_equal(ELMAN_ERR_SIZE_OVERFLOW, 3);
    assert_int_equal(ELMAN_ERR_INVALID_LENGTH, 4);
    assert_int_equal(ELMAN_ERR_WORKSPACE_TOO_SMALL, 5);
    assert_int_equal(ELMAN_ERR_WEIGHTS_NOT_SET, 6);
    assert_int_equal(ELMAN_ERR_INVALID_CONFIG, 7);
    assert_int_equal(ELMAN_ERR_INVALID_INDEX, 8);
    assert_int_equal(ELMAN_ERR_BIAS_MISMATCH, 9);
    assert_int_equal(ELMAN_ERR_OVERLAP, 10);
    assert_int_equal(ELMAN_ERR_OUT_OF_MEMORY, 11);
    assert_int_equal(ELMAN_ERR_MISALIGNED, 12);
    assert_int_equal(ELMAN_ERR_IO, 13);
    assert_int_equal(ELMAN_ERR_FORMAT, 14);
    assert_int_equal(ELMAN_ERR_UNSUPPORTED, 15);
    assert_int_equal(ELMAN_ERR_SHAPE, 16);
}

static void test_version(void **state)
{
    (void)state;
    char expect[32];
    snprintf(expect, sizeof(expect), "%d.%d.%d", ELMAN_VERSION_MAJOR, ELMAN_VERSION_MINOR,
             ELMAN_VERSION_PATCH);
    assert_string_equal(elman_version_string(), expect);
    assert_string_equal(elman_version(), expect);
    assert_int_equal(elman_version_number(), ELMAN_VERSION_NUMBER);
    /* major * 10000 + minor * 100 + patch */
    assert_int_equal(ELMAN_VERSION_NUMBER,
                     ELMAN_VERSION_MAJOR * 10000 + ELMAN_VERSION_MINOR * 100 + ELMAN_VERSION_PATCH);
    assert_true(ELMAN_VERSION_MINOR < 100 && ELMAN_VERSION_PATCH < 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_has_a_message),
        cmocka_unit_test(test_unknown_codes),
        cmocka_unit_test(test_codes_are_fixed),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
