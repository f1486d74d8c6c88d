/* Unit tests for manifests/check: the anti-rollback state and the order of the rules. */
#include "tests/unit/testutil.h"

#include "common/fsutil.h"
#include "manifests/check.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_rollback_state(void **state)
{
	struct tf_err err;
	uint64_t seq = 99;
	struct stat st;

	(void)state;
	tt_tmpdir();
	assert_int_equal(mkdir("cl", 0700), 0);
	assert_int_equal(tf_rollback_read("st", "lab", &seq, &err), 0);
	assert_int_equal(seq, 0); /* nothing installed yet */
	assert_int_equal(tf_rollback_write("st", "lab", "cl/meta.yaml", 4, &err), 0);
	assert_int_equal(tf_rollback_read("st", "lab", &seq, &err), 0);
	assert_int_equal(seq, 4);
	assert_int_equal(stat("st/lab", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat("st/lab/sequence", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* the second record, beside the cluster's meta.yaml */
	assert_int_equal(stat("cl/" TF_ROLLBACK_CLUSTER_RECORD, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* the same again is fine (a resumed install), lower never */
	assert_int_equal(tf_rollback_write("st", "lab", "cl/meta.yaml", 4, &err), 0);
	assert_int_equal(tf_rollback_write("st", "lab", "cl/meta.yaml", 3, &err), TF_E_INPUT);
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

/* Issue 13, item 8b: an emptied or redirected state folder, or a deleted sequence file, used to
 * read as "nothing installed" and reset anti-rollback. */
static void test_rollback_lost_record(void **state)
{
	struct tf_err err;
	uint64_t last = 99;

	(void)state;
	tt_tmpdir();
	assert_int_equal(mkdir("cl", 0700), 0);
	/* a cluster nothing was installed on: 0, and --last-sequence is not needed */
	assert_int_equal(tf_rollback_last("st", "lab", "cl/meta.yaml", 0, &last, &err), 0);
	assert_int_equal(last, 0);
	assert_int_equal(tf_rollback_write("st", "lab", "cl/meta.yaml", 7, &err), 0);
	assert_int_equal(tf_rollback_last("st", "lab", "cl/meta.yaml", 0, &last, &err), 0);
	assert_int_equal(last, 7);
	/* the state record deleted (or TIFERRY_STATE_DIR pointed at an empty folder): refused */
	assert_int_equal(unlink("st/lab/sequence"), 0);
	assert_int_equal(tf_rollback_last("st", "lab", "cl/meta.yaml", 0, &last, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "is missing"));
	assert_non_null(strstr(err.msg, "sequence 7"));
	assert_non_null(strstr(err.msg, "--last-sequence"));
	assert_int_equal(tf_rollback_last("empty", "lab", "cl/meta.yaml", 0, &last, &err),
	                 TF_E_INPUT);
	/* the operator's word: not below what the cluster shows */
	assert_int_equal(tf_rollback_last("st", "lab", "cl/meta.yaml", 6, &last, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "below the 7"));
	assert_int_equal(tf_rollback_last("st", "lab", "cl/meta.yaml", 9, &last, &err), 0);
	assert_int_equal(last, 9);
	/* --last-sequence with the record present is a usage error, not an override */
	tt_write_str("st/lab/sequence", "7\n");
	assert_int_equal(tf_rollback_last("st", "lab", "cl/meta.yaml", 9, &last, &err), TF_E_USAGE);
	/* a state record restored from an old backup lowers nothing: the highest wins */
	tt_write_str("st/lab/sequence", "3\n");
	assert_int_equal(tf_rollback_last("st", "lab", "cl/meta.yaml", 0, &last, &err), 0);
	assert_int_equal(last, 7);
	/* with the cluster's record gone too, a finished journal is evidence */
	assert_int_equal(unlink("st/lab/sequence"), 0);
	assert_int_equal(unlink("cl/" TF_ROLLBACK_CLUSTER_RECORD), 0);
	tt_write_str("st/lab/journal.json", "{\"sequence\": 5, \"finished\": true}");
	assert_int_equal(tf_rollback_last("st", "lab", "cl/meta.yaml", 0, &last, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "journal.json"));
	/* an unfinished journal (a first install that failed) is not */
	tt_write_str("st/lab/journal.json", "{\"sequence\": 5, \"finished\": false}");
	assert_int_equal(tf_rollback_last("st", "lab", "cl/meta.yaml", 0, &last, &err), 0);
	assert_int_equal(last, 0);
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
	    cmocka_unit_test(test_rollback_lost_record),
	    cmocka_unit_test(test_check_needs_policy_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
