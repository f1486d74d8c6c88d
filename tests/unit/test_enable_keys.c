/* Unit tests for installer/enable_keys: the remote commands of tighten-keys and the judging of
 * what a host reports back (issue 12 §2c). */
#include "tests/unit/testutil.h"

#include "installer/enable_keys.h"

#include <stdlib.h>
#include <string.h>

static void test_privileged_command(void **state)
{
	char *c;

	(void)state;
	c = tf_keys_privileged_command("/tidb-deploy/pd-2379/tls", "tidb");
	assert_non_null(c);
	assert_string_equal(c, "test ! -d '/tidb-deploy/pd-2379/tls' || find "
	                       "'/tidb-deploy/pd-2379/tls' -maxdepth 1 -type f -name '*.pem' "
	                       "-exec chown 'tidb' {} + -exec chmod 0600 {} +");
	free(c);
	/* a folder with a quote stays one word */
	c = tf_keys_privileged_command("/x/it's/tls", "tidb");
	assert_non_null(c);
	assert_non_null(strstr(c, "'/x/it'\\''s/tls'"));
	free(c);
}

static void test_list_command(void **state)
{
	const char *dirs[] = {"/a/tls", "/b c/tls"};
	char *c;

	(void)state;
	c = tf_keys_list_command(dirs, 2);
	assert_non_null(c);
	assert_non_null(strstr(c, "for d in '/a/tls' '/b c/tls'; do"));
	assert_non_null(strstr(c, "echo TF-END"));
	free(c);
}

static void test_judge(void **state)
{
	char bad[300];
	size_t n = 99;

	(void)state;
	assert_int_equal(
	    tf_keys_judge("TF-KEY 600 tidb f /d/pd-2379/tls/pd.pem\n"
	                  "TF-KEY 400 tidb f /d/monitor-9100/tls/blackbox_exporter.pem\n"
	                  "TF-END\n",
	                  "tidb", &n, bad, sizeof(bad)),
	    0);
	assert_int_equal(n, 2);
	/* TiUP's mode: a FAIL naming the file */
	assert_int_equal(tf_keys_judge("TF-KEY 644 tidb f /d/pd-2379/tls/pd.pem\nTF-END\n", "tidb",
	                               &n, bad, sizeof(bad)),
	                 -1);
	assert_string_equal(bad, "/d/pd-2379/tls/pd.pem has mode 0644");
	assert_int_equal(tf_keys_judge("TF-KEY 600 root f /d/tikv-20160/tls/tikv.pem\nTF-END\n",
	                               "tidb", &n, bad, sizeof(bad)),
	                 -1);
	assert_non_null(strstr(bad, "owned by root, not the deploy user tidb"));
	assert_int_equal(tf_keys_judge("TF-KEY 777 tidb l /d/pd-2379/tls/pd.pem\nTF-END\n", "tidb",
	                               &n, bad, sizeof(bad)),
	                 -1);
	assert_non_null(strstr(bad, "not a regular file"));
	/* an answer cut short is never taken as "no keys" */
	assert_int_equal(
	    tf_keys_judge("TF-KEY 600 tidb f /d/pd.pem\n", "tidb", &n, bad, sizeof(bad)), -1);
	assert_non_null(strstr(bad, "cut short"));
	assert_int_equal(tf_keys_judge("TF-END\n", "tidb", &n, bad, sizeof(bad)), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_privileged_command),
	    cmocka_unit_test(test_list_command),
	    cmocka_unit_test(test_judge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
