/* Unit tests for common/proc: exit codes, captured output, time-outs, environment, quoting. */
#include "tests/unit/testutil.h"

#include "common/proc.h"

#include <stdlib.h>
#include <string.h>

static void test_exit_and_output(void **state)
{
	const char *ok[] = {"sh", "-c", "echo out; echo err >&2; exit 7", NULL};
	struct tf_proc_result res;
	struct tf_err err;

	(void)state;
	assert_int_equal(tf_proc_run(ok, NULL, &res, &err), 0);
	assert_int_equal(res.status, 7);
	assert_non_null(strstr(res.out, "out\n"));
	assert_non_null(strstr(res.out, "err\n"));
	tf_proc_result_release(&res);
}

static void test_missing_program(void **state)
{
	const char *argv[] = {"/nonexistent/tiup", "--version", NULL};
	struct tf_proc_result res;
	struct tf_err err;

	(void)state;
	assert_int_equal(tf_proc_run(argv, NULL, &res, &err), 0);
	assert_int_equal(res.status, 127);
	assert_non_null(strstr(res.out, "cannot run '/nonexistent/tiup'"));
	tf_proc_result_release(&res);
}

static void test_timeout_kills_group(void **state)
{
	/* The shell's child keeps the pipe open; the group kill must end both. */
	const char *argv[] = {"sh", "-c", "sleep 30 & sleep 30", NULL};
	struct tf_proc_opts o = {.timeout_s = 1};
	struct tf_proc_result res;
	struct tf_err err;

	(void)state;
	assert_int_equal(tf_proc_run(argv, &o, &res, &err), 0);
	assert_true(res.timed_out);
	assert_int_equal(res.status, 128 + 9);
	assert_true(res.seconds < 10);
	tf_proc_result_release(&res);
}

static void test_daemon_left_behind(void **state)
{
	/* A command that starts a daemon holding stdout returns when the command exits. */
	const char *argv[] = {"sh", "-c", "(sleep 3; echo late) & echo early; exit 0", NULL};
	struct tf_proc_result res;
	struct tf_err err;

	(void)state;
	assert_int_equal(tf_proc_run(argv, NULL, &res, &err), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "early"));
	assert_true(res.seconds < 2.5);
	tf_proc_result_release(&res);
}

static void test_env(void **state)
{
	const char *argv[] = {"sh", "-c", "echo \"[$TF_A][${TIUP_MIRRORS-unset}]\"", NULL};
	const char *set[] = {"TF_A=1", NULL};
	const char *unset[] = {"TIUP_MIRRORS", NULL};
	struct tf_proc_opts o = {.env_set = set, .env_unset = unset};
	struct tf_proc_result res;
	struct tf_err err;

	(void)state;
	setenv("TIUP_MIRRORS", "https://example.invalid", 1);
	assert_int_equal(tf_proc_run(argv, &o, &res, &err), 0);
	assert_string_equal(res.out, "[1][unset]\n");
	tf_proc_result_release(&res);
	unsetenv("TIUP_MIRRORS");
}

static void test_format(void **state)
{
	const char *argv[] = {"tiup", "mirror", "set", "/a b/c", "it's", "", NULL};
	char *s = tf_proc_format(argv);

	(void)state;
	assert_string_equal(s, "tiup mirror set '/a b/c' 'it'\\''s' ''");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exit_and_output),
	    cmocka_unit_test(test_missing_program),
	    cmocka_unit_test(test_timeout_kills_group),
	    cmocka_unit_test(test_daemon_left_behind),
	    cmocka_unit_test(test_env),
	    cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
