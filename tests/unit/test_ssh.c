/* Tests of cluster/ssh against real OpenSSH sshd processes that the test starts on loopback
 * (tests/unit/sshd_fixture.c). */
#include "tests/unit/testutil.h"
#include "tests/unit/sshd_fixture.h"

#include "common/fsutil.h"
#include "common/progress.h"
#include "cluster/ssh.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_run_exit_codes(void **state)
{
	struct tf_ssh *s = conn(main_addrs[0]);
	struct tf_ssh_result res;
	struct tf_err err;

	(void)state;
	assert_int_equal(strncmp(tf_ssh_name(s), "127.0.0.201:", 12), 0);
	assert_null(tf_ssh_pinned(s));
	assert_int_equal(tf_ssh_run(s, "echo out; echo err >&2; exit 7", 0, &res, &err), 0);
	assert_int_equal(res.status, 7);
	assert_string_equal(res.out, "out\n");
	assert_string_equal(res.errout, "err\n");
	tf_ssh_result_release(&res);
	assert_int_equal(tf_ssh_run(s, "true", 0, &res, &err), 0);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "");
	tf_ssh_result_release(&res);
	/* The per-host root: the login lands in hosts/<address>. */
	assert_int_equal(tf_ssh_run(s, "pwd", 0, &res, &err), 0);
	assert_non_null(strstr(res.out, "/hosts/127.0.0.201"));
	tf_ssh_result_release(&res);
	/* Killed by a signal: 128 + its number, as a shell reports it. */
	assert_int_equal(tf_ssh_run(s, "kill -9 $$", 0, &res, &err), 0);
	assert_int_equal(res.status, 137);
	tf_ssh_result_release(&res);
	/* Output beyond the bound is dropped and flagged; the command still completes. */
	assert_int_equal(
	    tf_ssh_run(s, "head -c 1000000 /dev/zero | tr '\\0' x; echo done >&2", 0, &res, &err),
	    0);
	assert_int_equal(res.outlen, TF_SSH_OUT_MAX);
	assert_true(res.truncated);
	assert_string_equal(res.errout, "done\n");
	tf_ssh_result_release(&res);
	/* A command that outlives its time is cut off; the connection stays usable. */
	assert_int_equal(tf_ssh_run(s, "sleep 29.25", 1, &res, &err), TF_E_SSH_TIMEOUT);
	assert_non_null(strstr(err.msg, "timed out"));
	tf_ssh_result_release(&res);
	/* OpenSSH refuses signal requests for ForceCommand sessions (ours are), so the sleep
	 * outlives the channel here; teardown kills it with the sshd's other descendants. */
	assert_true(running("sleep 29.25"));
	assert_int_equal(tf_ssh_run(s, "echo still", 0, &res, &err), 0);
	assert_string_equal(res.out, "still\n");
	tf_ssh_result_release(&res);
	tf_ssh_free(s);
}

static void test_host_key_unknown_refused(void **state)
{
	struct tf_ssh_opts o = opts(main_addrs[0]);
	struct tf_ssh *s = NULL;
	struct tf_err err;
	char expect[64];

	(void)state;
	tt_write_str("empty_known_hosts", "");
	o.known_hosts = path("empty_known_hosts");
	assert_int_equal(tf_ssh_connect(&o, &s, &err), TF_E_SSH_HOSTKEY);
	assert_null(s);
	snprintf(expect, sizeof(expect), "127.0.0.201:%u", port);
	assert_non_null(strstr(err.msg, expect));
	assert_non_null(strstr(err.msg, "SHA256:"));
	assert_non_null(strstr(err.msg, "ssh-keyscan"));
	assert_non_null(strstr(err.msg, "not in"));
	/* A missing known_hosts file is the same refusal. */
	o.known_hosts = path("no/such/known_hosts");
	assert_int_equal(tf_ssh_connect(&o, &s, &err), TF_E_SSH_HOSTKEY);
	assert_null(s);
}

static int connect_and_touch(void *arg, size_t i, struct tf_err *err)
{
	struct tf_ssh_opts *o = arg;
	struct tf_ssh *s = NULL;
	struct tf_ssh_result res = {0};
	int r;

	(void)i;
	if ((r = tf_ssh_connect(o, &s, err)) != 0)
		return r;
	r = tf_ssh_run(s, "touch ../../ran-hostkey", 0, &res, err);
	tf_ssh_result_release(&res);
	tf_ssh_free(s);
	return r;
}

static void test_host_key_refusal_runs_nothing(void **state)
{
	struct tf_ssh_opts o = opts(main_addrs[0]);
	struct tf_err results[1], err;

	(void)state;
	/* Unknown: the command (which would create a file) never runs. */
	tt_write_str("empty_known_hosts", "");
	o.known_hosts = path("empty_known_hosts");
	assert_int_equal(tf_ssh_fanout(1, 0, connect_and_touch, &o, results, &err), TF_E_FAIL);
	assert_int_equal(results[0].code, TF_E_SSH_HOSTKEY);
	assert_int_equal(access(path("ran-hostkey"), F_OK), -1);
	/* Changed: the file names another key for the host. */
	pin(path("changed_known_hosts"), main_addrs, SSHD_DROP, "w");
	o.known_hosts = path("changed_known_hosts");
	assert_int_equal(tf_ssh_fanout(1, 0, connect_and_touch, &o, results, &err), TF_E_FAIL);
	assert_int_equal(results[0].code, TF_E_SSH_HOSTKEY);
	assert_non_null(strstr(results[0].msg, "does not match"));
	assert_non_null(strstr(results[0].msg, "ssh-keygen -R"));
	assert_non_null(strstr(results[0].msg, "SHA256:"));
	assert_int_equal(access(path("ran-hostkey"), F_OK), -1);
	/* Changed stays refused even with accept-and-pin. */
	o.pin_unknown = 1;
	assert_int_equal(tf_ssh_fanout(1, 0, connect_and_touch, &o, results, &err), TF_E_FAIL);
	assert_int_equal(results[0].code, TF_E_SSH_HOSTKEY);
	assert_int_equal(access(path("ran-hostkey"), F_OK), -1);
	/* The right key: the command runs. */
	o = opts(main_addrs[0]);
	assert_int_equal(tf_ssh_fanout(1, 0, connect_and_touch, &o, results, &err), 0);
	assert_int_equal(access(path("ran-hostkey"), F_OK), 0);
}

static void test_host_key_pin(void **state)
{
	struct tf_ssh_opts o = opts(main_addrs[0]);
	struct tf_ssh *s = NULL;
	struct tf_err err;
	char *kh = NULL, line[64];
	size_t len;

	(void)state;
	tt_write_str("pin_known_hosts", "");
	o.known_hosts = path("pin_known_hosts");
	o.pin_unknown = 1;
	assert_int_equal(tf_ssh_connect(&o, &s, &err), 0);
	assert_non_null(tf_ssh_pinned(s));
	assert_non_null(strstr(tf_ssh_pinned(s), "ssh-ed25519 SHA256:"));
	tf_ssh_free(s);
	s = NULL;
	assert_int_equal(tf_read_file(path("pin_known_hosts"), 65536, &kh, &len, &err), 0);
	snprintf(line, sizeof(line), "[127.0.0.201]:%u ssh-ed25519 ", port);
	assert_non_null(strstr(kh, line));
	free(kh);
	/* Pinned now: known without the flag, and nothing pinned a second time. */
	o.pin_unknown = 0;
	assert_int_equal(tf_ssh_connect(&o, &s, &err), 0);
	assert_null(tf_ssh_pinned(s));
	tf_ssh_free(s);
	/* ssh-keygen reads what was pinned. */
	assert_int_equal(tt_sh("ssh-keygen -lf pin_known_hosts >/dev/null"), 0);
}

static void test_auth_and_unreachable(void **state)
{
	struct tf_ssh_opts o = opts(main_addrs[0]);
	struct tf_ssh *s = NULL;
	struct tf_err err;

	(void)state;
	o.identity = path("stranger");
	assert_int_equal(tf_ssh_connect(&o, &s, &err), TF_E_SSH_AUTH);
	assert_non_null(strstr(err.msg, "root"));
	o = opts("127.0.0.203"); /* nothing listens there */
	assert_int_equal(tf_ssh_connect(&o, &s, &err), TF_E_SSH_UNREACHABLE);
	assert_non_null(strstr(err.msg, "127.0.0.203"));
	o = opts(main_addrs[0]);
	o.identity = path("no-such-key");
	assert_int_equal(tf_ssh_connect(&o, &s, &err), TF_E_INPUT);
	assert_null(s);
}

static void *dropper(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 200 && access(path("started"), F_OK) != 0; i++)
		usleep(25000);
	usleep(100000);
	kill_descendants(sshd_pid[SSHD_DROP]);
	return NULL;
}

static void test_dropped_connection(void **state)
{
	struct tf_ssh *s = conn(drop_addrs[0]);
	struct tf_ssh_result res;
	struct tf_err err;
	pthread_t t;
	double t0 = tf_monotonic();

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, dropper, NULL), 0);
	assert_int_equal(tf_ssh_run(s, "touch ../../started; sleep 20", 0, &res, &err),
	                 TF_E_SSH_LOST);
	pthread_join(t, NULL);
	assert_true(tf_monotonic() - t0 < 10);
	assert_non_null(strstr(err.msg, "connection lost"));
	tf_ssh_result_release(&res);
	/* Still lost for the next command: the caller connects anew. */
	assert_int_equal(tf_ssh_run(s, "true", 0, &res, &err), TF_E_SSH_LOST);
	tf_ssh_result_release(&res);
	tf_ssh_free(s);
}

struct fan_arg {
	struct tf_ssh_opts o[NFAN];
	double seconds[NFAN];
};

static int fan_task(void *arg, size_t i, struct tf_err *err)
{
	struct fan_arg *a = arg;
	struct tf_ssh *s = NULL;
	struct tf_ssh_result res = {0};
	double t0 = tf_monotonic();
	int r;

	if (i == 5)
		return tf_err_set(err, TF_E_FAIL, "task 5 fails on purpose");
	if ((r = tf_ssh_connect(&a->o[i], &s, err)) != 0)
		return r;
	r = tf_ssh_run(s, "sleep 0.2; true", 0, &res, err);
	tf_ssh_result_release(&res);
	tf_ssh_free(s);
	a->seconds[i] = tf_monotonic() - t0;
	return r;
}

static void test_fanout(void **state)
{
	static struct fan_arg a;
	struct tf_err results[NFAN], err;
	double t0, par, seq;
	size_t i;

	(void)state;
	for (i = 0; i < NFAN; i++)
		a.o[i] = opts(fan_addrs[i]);
	t0 = tf_monotonic();
	assert_int_equal(tf_ssh_fanout(NFAN, NFAN, fan_task, &a, results, &err), TF_E_FAIL);
	par = tf_monotonic() - t0;
	assert_non_null(strstr(err.msg, "1 of 32 failed"));
	assert_non_null(strstr(err.msg, "on purpose"));
	for (i = 0; i < NFAN; i++)
		assert_int_equal(results[i].code, i == 5 ? TF_E_FAIL : 0);
	t0 = tf_monotonic();
	assert_int_equal(tf_ssh_fanout(NFAN, 1, fan_task, &a, results, &err), TF_E_FAIL);
	seq = tf_monotonic() - t0;
	/* Measured, not asserted: a loaded machine must not fail the suite. */
	print_message(
	    "fan-out over %d hosts (0.2 s command): parallel %.2fs, one at a time %.2fs\n", NFAN,
	    par, seq);
	assert_int_equal(tf_ssh_fanout(0, 0, fan_task, &a, results, &err), 0);
}

/* tf_ssh_host_pinned looks a host up as tf_ssh_connect does, without connecting (the inputs
 * check, installer/inputs.c): by "host" on port 22 and "[host]:port" otherwise, hashed entries
 * too; a missing file is TF_E_NOTFOUND. */
static void test_host_pinned(void **state)
{
	const char *const one[] = {"127.0.0.1", NULL};
	struct tf_ssh *s = NULL;
	struct tf_err err;
	int pinned = -1;

	(void)state;
	/* the fixture's known_hosts: every main address pinned at its port, and connect agrees */
	assert_int_equal(tf_ssh_host_pinned(kh_path, main_addrs[0], port, &pinned, &err), 0);
	assert_int_equal(pinned, 1);
	s = conn(main_addrs[0]);
	tf_ssh_free(s);
	/* the same host on another port is another entry */
	assert_int_equal(tf_ssh_host_pinned(kh_path, main_addrs[0], port + 1, &pinned, &err), 0);
	assert_int_equal(pinned, 0);
	/* port 22 is looked up by the bare host name; hashed (ssh-keygen -H) entries are read */
	assert_int_equal(tt_sh("ssh-keygen -q -t ed25519 -N '' -f %s >/dev/null && "
	                       "printf '127.0.0.9 %%s\\n[127.0.0.10]:2222 %%s\\n' "
	                       "\"$(cut -d' ' -f1,2 %s.pub)\" \"$(cut -d' ' -f1,2 %s.pub)\" >%s "
	                       "&& ssh-keygen -q -H -f %s 2>/dev/null && ! grep -q 127.0.0 %s",
	                       path("hk"), path("hk"), path("hk"), path("hashed_known_hosts"),
	                       path("hashed_known_hosts"), path("hashed_known_hosts")),
	                 0);
	assert_int_equal(
	    tf_ssh_host_pinned(path("hashed_known_hosts"), "127.0.0.9", 0, &pinned, &err), 0);
	assert_int_equal(pinned, 1);
	assert_int_equal(
	    tf_ssh_host_pinned(path("hashed_known_hosts"), "127.0.0.9", 2222, &pinned, &err), 0);
	assert_int_equal(pinned, 0);
	assert_int_equal(
	    tf_ssh_host_pinned(path("hashed_known_hosts"), "127.0.0.10", 2222, &pinned, &err), 0);
	assert_int_equal(pinned, 1);
	assert_int_equal(
	    tf_ssh_host_pinned(path("hashed_known_hosts"), "127.0.0.10", 22, &pinned, &err), 0);
	assert_int_equal(pinned, 0);
	/* an empty file pins nothing; a missing one is named */
	tt_write_str("empty_pinned", "");
	pin(path("one_known_hosts"), one, SSHD_MAIN, "w");
	assert_int_equal(tf_ssh_host_pinned(path("empty_pinned"), "127.0.0.1", port, &pinned, &err),
	                 0);
	assert_int_equal(pinned, 0);
	assert_int_equal(
	    tf_ssh_host_pinned(path("one_known_hosts"), "127.0.0.1", port, &pinned, &err), 0);
	assert_int_equal(pinned, 1);
	pinned = -1;
	assert_int_equal(
	    tf_ssh_host_pinned(path("no/such/known_hosts"), "127.0.0.1", port, &pinned, &err),
	    TF_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "no/such/known_hosts"));
	assert_int_equal(pinned, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_run_exit_codes),
	    cmocka_unit_test(test_host_key_unknown_refused),
	    cmocka_unit_test(test_host_key_refusal_runs_nothing),
	    cmocka_unit_test(test_host_key_pin),
	    cmocka_unit_test(test_auth_and_unreachable),
	    cmocka_unit_test(test_dropped_connection),
	    cmocka_unit_test(test_fanout),
	    cmocka_unit_test(test_host_pinned),
	};

	return cmocka_run_group_tests(tests, sshd_setup, sshd_teardown);
}
