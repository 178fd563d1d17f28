/* Status strings and version. */
#include "cmocka_wrap.h"

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

static void test_version(void **state)
{
    (void)state;
    char expect[32];
    snprintf(expect, sizeof(expect), "%d.%d.%d", ELMAN_VERSION_MAJOR, ELMAN_VERSION_MINOR,
             ELMAN_VERSION_PATCH);
    assert_string_equal(elman_version_string(), expect);
    assert_string_equal(elman_version(), expect);
    assert_int_equal(elman_version_number(), ELMAN_VERSION_NUMBER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_has_a_message),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
