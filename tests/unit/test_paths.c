/* Unit tests for common/paths: TiUP's home, the state root and the cluster folders. */
#include "tests/unit/testutil.h"

#include "common/paths.h"

#include <stdlib.h>
#include <string.h>

static void test_tiup_home(void **state)
{
	struct tf_err err;
	char *h = NULL;

	(void)state;
	setenv("TIUP_HOME", "/opt/tiup", 1);
	setenv("HOME", "/home/ops", 1);
	assert_int_equal(tf_paths_tiup_home(&h, &err), 0);
	assert_string_equal(h, "/opt/tiup");
	free(h);
	/* empty TIUP_HOME counts as unset, as in TiUP */
	setenv("TIUP_HOME", "", 1);
	assert_int_equal(tf_paths_tiup_home(&h, &err), 0);
	assert_string_equal(h, "/home/ops/.tiup");
	free(h);
	unsetenv("TIUP_HOME");
	assert_int_equal(tf_paths_tiup_home(&h, &err), 0);
	assert_string_equal(h, "/home/ops/.tiup");
	free(h);
}

static void test_tiup_home_without_home(void **state)
{
	struct tf_err err;
	char *h = (char *)"untouched";

	(void)state;
	unsetenv("TIUP_HOME");
	unsetenv("HOME");
	/* no guess (such as /root): refused, saying what to set; *out is not written */
	assert_int_equal(tf_paths_tiup_home(&h, &err), TF_E_INPUT);
	assert_string_equal(err.msg,
	                    "neither TIUP_HOME nor HOME is set: set TIUP_HOME to TiUP's folder");
	assert_string_equal(h, "untouched");
	setenv("HOME", "", 1);
	assert_int_equal(tf_paths_tiup_home(&h, &err), TF_E_INPUT);
	/* the cluster folder needs TiUP's home too */
	assert_int_equal(tf_paths_cluster_file(NULL, "lab", TF_PATHS_META, &h, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "neither TIUP_HOME nor HOME"));
	unsetenv("HOME");
	/* a given home needs no environment */
	assert_int_equal(tf_paths_cluster_dir("/t", "lab", &h, &err), 0);
	assert_string_equal(h, "/t/storage/cluster/clusters/lab");
	free(h);
}

static void test_state_root(void **state)
{
	(void)state;
	unsetenv("TIFERRY_STATE_DIR");
	assert_string_equal(tf_paths_state_root(), "/var/lib/tiferry");
	setenv("TIFERRY_STATE_DIR", "", 1);
	assert_string_equal(tf_paths_state_root(), TF_PATHS_STATE_ROOT_DEFAULT);
	setenv("TIFERRY_STATE_DIR", "/tmp/x", 1);
	assert_string_equal(tf_paths_state_root(), "/tmp/x");
	unsetenv("TIFERRY_STATE_DIR");
}

static void test_cluster_paths(void **state)
{
	struct tf_err err;
	char *p = NULL;

	(void)state;
	setenv("TIUP_HOME", "/opt/tiup", 1);
	assert_int_equal(tf_paths_cluster_dir(NULL, "prod-1", &p, &err), 0);
	assert_string_equal(p, "/opt/tiup/storage/cluster/clusters/prod-1");
	free(p);
	assert_int_equal(tf_paths_cluster_file(NULL, "prod-1", TF_PATHS_META, &p, &err), 0);
	assert_string_equal(p, "/opt/tiup/storage/cluster/clusters/prod-1/meta.yaml");
	free(p);
	assert_int_equal(tf_paths_cluster_file("/h", "lab", TF_PATHS_TLS, &p, &err), 0);
	assert_string_equal(p, "/h/storage/cluster/clusters/lab/tls");
	free(p);
	assert_int_equal(tf_paths_cluster_file("/h", "lab", TF_PATHS_SSH_KEY, &p, &err), 0);
	assert_string_equal(p, "/h/storage/cluster/clusters/lab/ssh/id_rsa");
	free(p);
	unsetenv("TIUP_HOME");
}

static void test_long_paths_refused(void **state)
{
	struct tf_err err;
	char *longp = malloc(TF_PATH_BUF + 1), *p = (char *)"untouched";

	(void)state;
	assert_non_null(longp);
	longp[0] = '/';
	memset(longp + 1, 'a', TF_PATH_BUF - 1);
	longp[TF_PATH_BUF] = '\0';
	/* a TIUP_HOME of PATH_MAX bytes does not fit a path: refused, not cut */
	setenv("TIUP_HOME", longp, 1);
	assert_int_equal(tf_paths_tiup_home(&p, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "TIUP_HOME is"));
	assert_non_null(strstr(err.msg, "longer than"));
	unsetenv("TIUP_HOME");
	/* nor a HOME that only becomes too long with /.tiup */
	longp[TF_PATH_BUF - 4] = '\0';
	setenv("HOME", longp, 1);
	assert_int_equal(tf_paths_tiup_home(&p, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "$HOME/.tiup is"));
	/* a home that fits, but not with the cluster folder below it */
	longp[TF_PATH_BUF - 30] = '\0';
	assert_int_equal(tf_paths_cluster_file(longp, "lab", TF_PATHS_META, &p, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "the folder of cluster 'lab' is"));
	assert_non_null(strstr(err.msg, "longer than"));
	assert_string_equal(p, "untouched");
	unsetenv("HOME");
	free(longp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tiup_home),
	    cmocka_unit_test(test_tiup_home_without_home),
	    cmocka_unit_test(test_state_root),
	    cmocka_unit_test(test_cluster_paths),
	    cmocka_unit_test(test_long_paths_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
