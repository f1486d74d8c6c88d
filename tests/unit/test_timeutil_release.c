/* Unit test for common/timeutil.c compiled as in a release build (without TF_TEST_HOOKS): the
 * clock is the system's, whatever TIFERRY_NOW says. */
#include "tests/unit/testutil.h"

#include "common/timeutil.h"

#include <stdlib.h>
#include <time.h>

/* Regression (issue 13, item 8a): every build honoured TIFERRY_NOW, so setting it installed an
 * expired bundle. */
static void test_release_ignores_now(void **state)
{
	time_t before, now, after;

	(void)state;
	assert_int_equal(setenv("TIFERRY_NOW", "2020-01-01T12:00:00Z", 1), 0);
	before = time(NULL);
	now = tf_time_now();
	after = time(NULL);
	assert_true(now >= before && now <= after);
	assert_int_equal(tf_time_test_clock(), 0);
	unsetenv("TIFERRY_NOW");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_release_ignores_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
