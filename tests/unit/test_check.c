/* Unit tests for manifests/check: the anti-rollback state and the order of the rules. */
#include "tests/unit/testutil.h"

#include "common/fsutil.h"
#include "manifests/check.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void test_rollback_state(void **state)
{
	struct tf_err err;
	uint64_t seq = 99;
	struct stat st;

	(void)state;
	tt_tmpdir();
	assert_int_equal(tf_rollback_read("st", "lab", &seq, &err), 0);
	assert_int_equal(seq, 0); /* nothing installed yet */
	assert_int_equal(tf_rollback_write("st", "lab", 4, &err), 0);
	assert_int_equal(tf_rollback_read("st", "lab", &seq, &err), 0);
	assert_int_equal(seq, 4);
	assert_int_equal(stat("st/lab", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat("st/lab/sequence", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* the same again is fine (a resumed install), lower never */
	assert_int_equal(tf_rollback_write("st", "lab", 4, &err), 0);
	assert_int_equal(tf_rollback_write("st", "lab", 3, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "refusing to lower"));
	assert_int_equal(tf_rollback_read("st", "lab", &seq, &err), 0);
	assert_int_equal(seq, 4);
	/* clusters are separate */
	assert_int_equal(tf_rollback_read("st", "other", &seq, &err), 0);
	assert_int_equal(seq, 0);
	/* a damaged state file is an error, never "nothing installed" */
	tt_write_str("st/lab/sequence", "4x\n");
	assert_int_equal(tf_rollback_read("st", "lab", &seq, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "damaged"));
	tt_write_str("st/lab/sequence", "");
	assert_int_equal(tf_rollback_read("st", "lab", &seq, &err), TF_E_INPUT);
	tt_cleanup();
}

static void test_check_needs_policy_first(void **state)
{
	struct tf_check_opts o = {.trust_dir = "no-such-trust"};
	struct tf_check_result res;
	struct tf_err err;

	(void)state;
	tt_tmpdir();
	tt_write_str("b.tar", "not a tar at all");
	tf_check_result_init(&res);
	/* an unusable trust folder is the operator's input error (exit 2), not a bundle verdict */
	assert_int_equal(tf_bundle_check("b.tar", &o, &res, &err), TF_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "trust policy"));
	tf_check_result_release(&res);
	tt_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rollback_state),
	    cmocka_unit_test(test_check_needs_policy_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
