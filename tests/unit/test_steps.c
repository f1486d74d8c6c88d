/* Unit tests for manifests/steps: the one step table is in id order, names are unique and found,
 * and the flags mark the blocks the install, --stop-after and the runbook rely on. */
#include "tests/unit/testutil.h"

#include "manifests/steps.h"

#include <string.h>

static void test_order_and_names(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < TF_STEPS_N; i++) {
		const struct tf_step *st = tf_step_get(i);

		assert_non_null(st);
		assert_int_equal(st->id, i);
		assert_true(st->name[0] && st->where[0] && st->what[0]);
		assert_ptr_equal(tf_step_find(st->name), st);
		for (k = 0; k < i; k++)
			assert_string_not_equal(tf_step_get(k)->name, st->name);
	}
	assert_null(tf_step_get(TF_STEPS_N));
	assert_null(tf_step_find("no-such-step"));
	assert_null(tf_step_find(""));
	assert_string_equal(tf_step_get(TF_STEP_ID_CHECK)->name, "check");
	assert_string_equal(tf_step_get(TF_STEP_ID_WIPE_STAGING)->name, "wipe-staging");
}

/* The names of the steps with all of flags set, comma-separated. */
static void with_flags(unsigned flags, char *buf, size_t len)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < TF_STEPS_N; i++)
		if ((tf_step_get(i)->flags & flags) == flags) {
			strncat(buf, buf[0] ? "," : "", len - strlen(buf) - 1);
			strncat(buf, tf_step_get(i)->name, len - strlen(buf) - 1);
		}
}

static void test_flags(void **state)
{
	char b[512];

	(void)state;
	with_flags(TF_STEPS_RERUN, b, sizeof(b));
	assert_string_equal(b, "check");
	with_flags(TF_STEPS_CLUSTER, b, sizeof(b));
	assert_string_equal(b, "preflight,scale-in-pd,restrict-cn,tls-enable,tighten-keys,repair-"
	                       "peers,scale-out-pd,tighten-keys-pd,health");
	with_flags(TF_STEPS_UPGRADE, b, sizeof(b));
	assert_string_equal(
	    b, "mirror-set,update-self,update-components,restore-mirror,verify-versions");
	with_flags(TF_STEPS_NO_STOP_AFTER, b, sizeof(b));
	assert_string_equal(b, "mirror-set,update-self,update-components");
	/* every step that leaves TiUP on the bundle's mirror is in the upgrade block */
	with_flags(TF_STEPS_NO_STOP_AFTER | TF_STEPS_UPGRADE, b, sizeof(b));
	assert_string_equal(b, "mirror-set,update-self,update-components");
	with_flags(TF_STEPS_NEEDS_TLS, b, sizeof(b));
	assert_string_equal(b, "place-certificates");
	with_flags(TF_STEPS_PD_SCALE, b, sizeof(b));
	assert_string_equal(b, "scale-in-pd,scale-out-pd,tighten-keys-pd");
	with_flags(TF_STEPS_TIUP, b, sizeof(b));
	assert_string_equal(
	    b, "mirror-set,update-self,update-components,restore-mirror,place-certificates");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_and_names),
	    cmocka_unit_test(test_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
