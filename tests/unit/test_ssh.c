/* Tests of cluster/ssh and installer/preflight against real OpenSSH sshd processes that the
 * test starts on loopback (own host keys, own authorized key, a per-host root chosen from the
 * address the client connected to) and stops by pid. */
#include "tests/unit/testutil.h"

#include "common/fsutil.h"
#include "common/progress.h"
#include "installer/preflight.h"
#include "cluster/ssh.h"
#include "cluster/topology.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define NFAN 32

/* OpenSSH listens on at most 16 sockets: the 32 fan-out hosts take two sshd. */
enum { SSHD_MAIN, SSHD_DROP, SSHD_DOWN, SSHD_FAN, SSHD_FAN2, NSSHD };

static char dir[PATH_MAX];
static unsigned port;
static pid_t sshd_pid[NSSHD];
static char key_path[PATH_MAX + 16], kh_path[PATH_MAX + 16];

/* Addresses: the 127.0.0.20x and 127.0.7.x ranges keep clear of the lab (tests/lab) and the
 * benchmark (127.0.0.101-132). */
static const char *const main_addrs[] = {"127.0.0.201", "127.0.0.202", NULL};
static const char *const drop_addrs[] = {"127.0.0.204", NULL};
static const char *const down_addrs[] = {"127.0.0.206", NULL};
static char fan_addr_buf[NFAN][16];
static const char *fan_addrs[NFAN + 1];
static const char *fan_half[2][NFAN / 2 + 1];

static char *path(const char *name)
{
	static char buf[8][PATH_MAX];
	static int k;

	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}

static int port_free(const char *addr, unsigned p)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	inet_pton(AF_INET, addr, &sa.sin_addr);
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int can_connect(const char *addr, unsigned p)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	inet_pton(AF_INET, addr, &sa.sin_addr);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int listen_on(const char *addr, unsigned p)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, addr, &sa.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* Kills every descendant of pid (not pid itself), by pid, found through /proc. */
static void kill_descendants(pid_t root)
{
	pid_t pids[4096], ppids[4096], todo[4096];
	size_t n = 0, ntodo = 0, i;
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL && n < 4096) {
		char p[64], buf[512], *rp;
		FILE *f;
		int pid = atoi(e->d_name), ppid;

		if (pid <= 0)
			continue;
		snprintf(p, sizeof(p), "/proc/%d/stat", pid);
		if ((f = fopen(p, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL && (rp = strrchr(buf, ')')) != NULL &&
		    sscanf(rp + 2, "%*c %d", &ppid) == 1) {
			pids[n] = pid;
			ppids[n++] = ppid;
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	todo[ntodo++] = root;
	for (i = 0; i < ntodo; i++) {
		size_t k;

		for (k = 0; k < n && ntodo < 4096; k++)
			if (ppids[k] == todo[i])
				todo[ntodo++] = pids[k];
	}
	for (i = 1; i < ntodo; i++)
		kill(todo[i], SIGKILL);
}

static void start_sshd(int idx, const char *const *addrs)
{
	char cfg[64], key[64], log[64];
	FILE *f;
	size_t i;
	pid_t pid;

	snprintf(cfg, sizeof(cfg), "sshd%d.conf", idx);
	snprintf(key, sizeof(key), "hostkey%d", idx);
	snprintf(log, sizeof(log), "sshd%d.log", idx);
	if (access(key, F_OK) != 0)
		assert_int_equal(tt_sh("ssh-keygen -q -t ed25519 -N '' -C host%d -f %s", idx, key), 0);
	assert_non_null(f = fopen(cfg, "w"));
	fprintf(f, "Port %u\n", port);
	for (i = 0; addrs[i]; i++)
		fprintf(f, "ListenAddress %s\n", addrs[i]);
	fprintf(f,
		"HostKey %s\nPidFile none\nAuthorizedKeysFile %s\nStrictModes no\n"
		"PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
		"KbdInteractiveAuthentication no\nUsePAM no\nMaxStartups 200\nMaxSessions 64\n"
		"ForceCommand %s\nLogLevel ERROR\n"
		/* bash skips ~/.bashrc for ssh commands when SHLVL>1; root's rc may be slow. */
		"SetEnv SHLVL=1\n",
		path(key), path("authorized_keys"), path("hostsh"));
	fclose(f);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-f", path(cfg), "-E", path(log), (char *)NULL);
		_exit(127);
	}
	sshd_pid[idx] = pid;
	for (i = 0; i < 100; i++) {
		size_t k, up = 0, n = 0;

		for (k = 0; addrs[k]; k++, n++)
			up += (size_t)can_connect(addrs[k], port);
		if (up == n)
			return;
		usleep(50000);
	}
	(void)tt_sh("cat %s >&2", log);
	fail_msg("sshd %d did not start", idx);
}

static void stop_sshd(int idx)
{
	if (sshd_pid[idx] <= 0)
		return;
	kill_descendants(sshd_pid[idx]);
	kill(sshd_pid[idx], SIGTERM);
	waitpid(sshd_pid[idx], NULL, 0);
	sshd_pid[idx] = 0;
	/* Sessions orphaned by the kill come to us (the subreaper): reap them. */
	usleep(50000);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* known_hosts lines for addrs with the public key of host key idx. */
static void pin(const char *file, const char *const *addrs, int idx, const char *mode)
{
	char pub[1024] = "", key[64];
	FILE *f;
	size_t i;

	snprintf(key, sizeof(key), "hostkey%d.pub", idx);
	assert_non_null(f = fopen(key, "r"));
	assert_non_null(fgets(pub, sizeof(pub), f));
	fclose(f);
	assert_non_null(f = fopen(file, mode));
	for (i = 0; addrs[i]; i++)
		fprintf(f, "[%s]:%u %s", addrs[i], port, pub);
	fclose(f);
}

static const char hostsh[] =
	"#!/bin/bash\n"
	"# A test host's login: its own root, chosen from the address the client connected to.\n"
	"set -- $SSH_CONNECTION\n"
	"root=%s/hosts/$3\n"
	"mkdir -p \"$root\" && cd \"$root\" || exit 255\n"
	"export HOST_ROOT=$root PATH=%s/bin:$PATH\n"
	"exec /bin/bash -c \"${SSH_ORIGINAL_COMMAND:-true}\"\n";

/* systemctl for a test host: a unit is active or enabled while a file under state/ says so. */
static const char systemctl[] =
	"#!/bin/bash\n"
	"echo \"$*\" >> \"$HOST_ROOT/systemctl.log\"\n"
	"verb=$1; shift; rc=0\n"
	"case $verb in\n"
	"is-active) for u; do if [ -e \"$HOST_ROOT/state/$u.active\" ]; then echo active; else "
	"echo inactive; rc=3; fi; done ;;\n"
	"is-enabled) for u; do if [ -e \"$HOST_ROOT/state/$u.enabled\" ]; then echo enabled; "
	"else echo disabled; rc=1; fi; done ;;\n"
	"stop) for u; do rm -f \"$HOST_ROOT/state/$u.active\"; done ;;\n"
	"disable) for u; do rm -f \"$HOST_ROOT/state/$u.enabled\"; done ;;\n"
	"*) echo \"systemctl: $verb not faked\" >&2; rc=1 ;;\n"
	"esac\n"
	"exit $rc\n";

static int setup(void **state)
{
	struct tf_err err;
	FILE *f;
	int i, tries;

	(void)state;
	if (geteuid() != 0 || access("/usr/sbin/sshd", X_OK) != 0) {
		print_message("skipped: needs root and /usr/sbin/sshd\n");
		return -1;
	}
	assert_int_equal(tf_ssh_global_init(&err), 0);
	/* Session processes whose sshd the tests kill are reparented here, not to init. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	snprintf(dir, sizeof(dir), "%s", tt_tmpdir());
	snprintf(key_path, sizeof(key_path), "%s/id_rsa", dir);
	snprintf(kh_path, sizeof(kh_path), "%s/known_hosts", dir);
	for (i = 0; i < NFAN; i++) {
		snprintf(fan_addr_buf[i], sizeof(fan_addr_buf[i]), "127.0.7.%d", i + 1);
		fan_addrs[i] = fan_addr_buf[i];
		fan_half[i / (NFAN / 2)][i % (NFAN / 2)] = fan_addr_buf[i];
	}
	fan_addrs[NFAN] = NULL;
	/* sshd insists on its privilege separation folder. */
	(void)mkdir("/run/sshd", 0755);
	assert_int_equal(tt_sh("ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -f id_rsa && "
			       "cp id_rsa.pub authorized_keys && "
			       "ssh-keygen -q -t ed25519 -N '' -f stranger && mkdir -p bin hosts"),
			 0);
	assert_non_null(f = fopen("hostsh", "w"));
	fprintf(f, hostsh, dir, dir);
	fclose(f);
	assert_non_null(f = fopen("bin/systemctl", "w"));
	fputs(systemctl, f);
	fclose(f);
	assert_int_equal(chmod("hostsh", 0755) | chmod("bin/systemctl", 0755), 0);
	srand((unsigned)getpid());
	for (tries = 0; tries < 50; tries++) {
		int ok = 1;

		port = 20000u + (unsigned)(rand() % 30000);
		for (i = 0; main_addrs[i]; i++)
			ok &= port_free(main_addrs[i], port) & port_free(main_addrs[i], port + 1);
		ok &= port_free(drop_addrs[0], port) & port_free(down_addrs[0], port);
		for (i = 0; i < NFAN; i++)
			ok &= port_free(fan_addrs[i], port) & port_free(fan_addrs[i], port + 1) &
			      port_free(fan_addrs[i], port + 2);
		if (ok)
			break;
	}
	start_sshd(SSHD_MAIN, main_addrs);
	start_sshd(SSHD_DROP, drop_addrs);
	start_sshd(SSHD_DOWN, down_addrs);
	start_sshd(SSHD_FAN, fan_half[0]);
	start_sshd(SSHD_FAN2, fan_half[1]);
	pin("known_hosts", main_addrs, SSHD_MAIN, "w");
	pin("known_hosts", drop_addrs, SSHD_DROP, "a");
	pin("known_hosts", down_addrs, SSHD_DOWN, "a");
	pin("known_hosts", fan_half[0], SSHD_FAN, "a");
	pin("known_hosts", fan_half[1], SSHD_FAN2, "a");
	return 0;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < NSSHD; i++)
		stop_sshd(i);
	/* Session processes orphaned by closed channels came to us (the subreaper): all of our
	 * descendants are processes this test started. */
	kill_descendants(getpid());
	usleep(50000);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	tt_cleanup();
	tf_ssh_global_finalize();
	return 0;
}

static struct tf_ssh_opts opts(const char *host)
{
	struct tf_ssh_opts o = {.host = host, .port = port, .user = "root",
				.identity = key_path, .known_hosts = kh_path,
				.connect_timeout_s = 5, .command_timeout_s = 30};
	return o;
}

static struct tf_ssh *conn(const char *host)
{
	struct tf_ssh_opts o = opts(host);
	struct tf_ssh *s = NULL;
	struct tf_err err;

	if (tf_ssh_connect(&o, &s, &err) != 0)
		fail_msg("connect %s: %s", host, err.msg);
	return s;
}

/* Whether a process with exactly this command line (spaces for NULs) runs. */
static int running(const char *cmdline)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;

	while (d && !found && (e = readdir(d)) != NULL) {
		char p[64], buf[256];
		size_t n, k;
		FILE *f;

		if (atoi(e->d_name) <= 0)
			continue;
		snprintf(p, sizeof(p), "/proc/%s/cmdline", e->d_name);
		if ((f = fopen(p, "r")) == NULL)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		for (k = 0; k + 1 < n; k++)
			if (buf[k] == '\0')
				buf[k] = ' ';
		buf[n] = '\0';
		found = n > 0 && strcmp(buf, cmdline) == 0;
	}
	if (d)
		closedir(d);
	return found;
}

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
	assert_int_equal(tf_ssh_run(s, "head -c 1000000 /dev/zero | tr '\\0' x; echo done >&2", 0,
				    &res, &err),
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
	print_message("fan-out over %d hosts (0.2 s command): parallel %.2fs, one at a time %.2fs\n",
		      NFAN, par, seq);
	assert_int_equal(tf_ssh_fanout(0, 0, fan_task, &a, results, &err), 0);
}

/* --- preflight --- */

static const char *pd_sick; /* host whose PD reports unhealthy */

static int pd_hook(void *arg, const struct tf_topo_instance *pd, int *is_leader,
		   struct tf_err *err)
{
	(void)arg;
	if (pd_sick != NULL && strcmp(pd->host, pd_sick) == 0)
		return tf_err_set(err, TF_E_FAIL, "GET /health: connection refused");
	*is_leader = strcmp(pd->host, "127.0.7.1") == 0;
	return 0;
}

/* PD on 127.0.7.1-3 (client port+1, peer port+2), TiKV on 127.0.7.4 and the host of the sshd
 * that the tests stop. */
static struct tf_topology *lab_topology(void)
{
	struct tf_topology *t = NULL;
	struct tf_err err;
	char *y = NULL;
	int i;

	assert_true(asprintf(&y,
			     "user: root\ntopology:\n  global:\n    user: root\n    ssh_port: %u\n"
			     "  pd_servers:\n"
			     "    - host: 127.0.7.1\n      client_port: %u\n      peer_port: %u\n"
			     "      deploy_dir: %s/deploy/pd\n"
			     "    - host: 127.0.7.2\n      client_port: %u\n      peer_port: %u\n"
			     "      deploy_dir: %s/deploy/pd\n"
			     "    - host: 127.0.7.3\n      client_port: %u\n      peer_port: %u\n"
			     "      deploy_dir: %s/deploy/pd\n"
			     "  tikv_servers:\n"
			     "    - host: 127.0.7.4\n      port: 20160\n      deploy_dir: /\n"
			     "    - host: 127.0.0.206\n      port: 20160\n      deploy_dir: %s/x/y/z\n",
			     port, port + 1, port + 2, dir, port + 1, port + 2, dir, port + 1,
			     port + 2, dir, dir) > 0);
	i = tf_topology_parse(y, strlen(y), "meta.yaml", &t, &err);
	free(y);
	if (i != 0)
		fail_msg("%s", err.msg);
	return t;
}

static struct tf_preflight_params params(const struct tf_topology *t,
					 const struct tf_ssh_opts *o)
{
	static char spec[32];
	static const char *rm[2];
	struct tf_preflight_params p = {.topo = t, .ssh = o, .units_dir = "etc/systemd/system",
					.min_free_kb = 1024, .pd_check = pd_hook};

	snprintf(spec, sizeof(spec), "127.0.7.2:%u", port + 1);
	rm[0] = spec;
	rm[1] = NULL;
	p.pd_remove = rm;
	return p;
}

static void plant_units(const char *host)
{
	assert_int_equal(tt_sh("h=hosts/%s; mkdir -p $h/etc/systemd/system $h/state && "
			       "for u in node_exporter-9100.service node_exporter-9100-dup.service "
			       "node_exporter-9101.service; do touch $h/etc/systemd/system/$u "
			       "$h/state/$u.active $h/state/$u.enabled; done && rm -f $h/systemctl.log",
			       host),
			 0);
}

static const struct tf_preflight_item *find_item(const struct tf_preflight_report *r,
						 const char *host, const char *check)
{
	char name[64];
	size_t i;

	snprintf(name, sizeof(name), "%s:%u", host, port);
	for (i = 0; i < r->nitems; i++)
		if (strcmp(r->items[i].host, name) == 0 && strcmp(r->items[i].check, check) == 0)
			return &r->items[i];
	return NULL;
}

static const struct tf_preflight_item *item(const struct tf_preflight_report *r,
					    const char *host, const char *check)
{
	const struct tf_preflight_item *it = find_item(r, host, check);

	if (it == NULL)
		fail_msg("no %s item for %s", check, host);
	return it;
}

static void test_preflight_ok_and_json(void **state)
{
	struct tf_topology *t = lab_topology();
	struct tf_ssh_opts o = opts(NULL);
	struct tf_preflight_params p = params(t, &o);
	struct tf_preflight_report *r = NULL;
	struct tf_err err;
	char *json = NULL;
	cJSON *j;
	int lc = listen_on("127.0.7.2", port + 1), lp = listen_on("127.0.7.2", port + 2);

	(void)state;
	if (tf_preflight_run(&p, &r, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r->nhosts, 5);
	assert_int_equal(r->nfailed, 0);
	assert_int_equal(item(r, "127.0.7.1", "reachable")->status, TF_CHECK_OK);
	assert_int_equal(item(r, "127.0.7.4", "disk")->status, TF_CHECK_OK);
	assert_non_null(strstr(item(r, "127.0.0.206", "disk")->detail, "/x/y/z"));
	assert_int_equal(item(r, "127.0.7.2", "pd_ports")->status, TF_CHECK_OK);
	assert_null(find_item(r, "127.0.7.1", "pd_ports")); /* not to be removed */
	assert_int_equal(item(r, "127.0.7.1", "pd_leader")->status, TF_CHECK_OK);
	assert_int_equal(item(r, "127.0.7.3", "pd_health")->status, TF_CHECK_OK);
	assert_int_equal(item(r, "127.0.7.3", "node_exporter")->status, TF_CHECK_OK);
	assert_int_equal(tf_preflight_report_json(r, &json, &err), 0);
	assert_non_null(j = cJSON_Parse(json));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "checks")), (int)r->nitems);
	cJSON_Delete(j);
	free(json);
	tf_preflight_report_free(r);
	r = NULL;

	/* The PD node to remove is not listening: refused, naming it. */
	close(lp);
	assert_int_equal(tf_preflight_run(&p, &r, &err), TF_E_FAIL);
	assert_non_null(strstr(err.msg, "127.0.7.2"));
	assert_non_null(strstr(item(r, "127.0.7.2", "pd_ports")->detail, "peer_port"));
	tf_preflight_report_free(r);
	r = NULL;
	close(lc);

	/* Too little disk, a sick PD member. */
	p.pd_remove = NULL;
	p.min_free_kb = (uint64_t)1 << 50;
	pd_sick = "127.0.7.3";
	assert_int_equal(tf_preflight_run(&p, &r, &err), TF_E_FAIL);
	assert_int_equal(item(r, "127.0.7.1", "disk")->status, TF_CHECK_FAIL);
	assert_int_equal(item(r, "127.0.7.3", "pd_health")->status, TF_CHECK_FAIL);
	assert_non_null(strstr(item(r, "127.0.7.3", "pd_health")->detail, "connection refused"));
	pd_sick = NULL;
	tf_preflight_report_free(r);
	r = NULL;

	/* A PD node to remove that is not in the topology: an input error, no report. */
	{
		static const char *const bad[] = {"10.0.0.1:2379", NULL};

		p.pd_remove = bad;
		assert_int_equal(tf_preflight_run(&p, &r, &err), TF_E_INPUT);
		assert_null(r);
	}
	tf_topology_free(t);
}

static void test_preflight_duplicates(void **state)
{
	struct tf_topology *t = lab_topology();
	struct tf_ssh_opts o = opts(NULL);
	struct tf_preflight_params p = params(t, &o);
	struct tf_preflight_report *r = NULL;
	struct tf_err err;
	const struct tf_preflight_item *it;
	int lc = listen_on("127.0.7.2", port + 1), lp = listen_on("127.0.7.2", port + 2);

	(void)state;
	plant_units("127.0.7.3");
	/* Not allowed: reported, refused, nothing stopped. */
	assert_int_equal(tf_preflight_run(&p, &r, &err), TF_E_FAIL);
	assert_non_null(strstr(err.msg, "127.0.7.3"));
	assert_non_null(strstr(err.msg, "node_exporter-9100-dup.service"));
	it = item(r, "127.0.7.3", "node_exporter");
	assert_int_equal(it->status, TF_CHECK_FAIL);
	assert_null(strstr(it->detail, "node_exporter-9101.service")); /* another port: left */
	assert_null(strstr(it->detail, "node_exporter-9100.service"));
	assert_int_equal(access(path("hosts/127.0.7.3/state/node_exporter-9100-dup.service.active"),
				F_OK),
			 0);
	assert_int_equal(tt_sh("! grep -q stop hosts/127.0.7.3/systemctl.log"), 0);
	tf_preflight_report_free(r);
	r = NULL;

	/* Allowed, but one host's sshd is down: refused naming it, and nothing changed anywhere. */
	stop_sshd(SSHD_DOWN);
	p.stop_duplicates = 1;
	assert_int_equal(tf_preflight_run(&p, &r, &err), TF_E_FAIL);
	assert_non_null(strstr(err.msg, "127.0.0.206"));
	assert_non_null(strstr(err.msg, "nothing was changed"));
	assert_int_equal(item(r, "127.0.0.206", "reachable")->status, TF_CHECK_FAIL);
	assert_int_equal(item(r, "127.0.7.3", "node_exporter")->status, TF_CHECK_WARN);
	assert_int_equal(r->nfixed, 0);
	assert_int_equal(tt_sh("! grep -q stop hosts/127.0.7.3/systemctl.log"), 0);
	tf_preflight_report_free(r);
	r = NULL;
	start_sshd(SSHD_DOWN, down_addrs);

	/* Allowed and all up: stopped and disabled, the others untouched. */
	if (tf_preflight_run(&p, &r, &err) != 0)
		fail_msg("%s", err.msg);
	it = item(r, "127.0.7.3", "node_exporter");
	assert_int_equal(it->status, TF_CHECK_FIXED);
	assert_non_null(strstr(it->detail, "node_exporter-9100-dup.service"));
	assert_int_equal(r->nfixed, 1);
	assert_int_equal(tt_sh("grep -qx 'stop node_exporter-9100-dup.service' "
			       "hosts/127.0.7.3/systemctl.log && "
			       "grep -qx 'disable node_exporter-9100-dup.service' "
			       "hosts/127.0.7.3/systemctl.log"),
			 0);
	assert_int_equal(access(path("hosts/127.0.7.3/state/node_exporter-9100-dup.service.active"),
				F_OK),
			 -1);
	assert_int_equal(access(path("hosts/127.0.7.3/state/node_exporter-9100.service.active"),
				F_OK),
			 0);
	assert_int_equal(access(path("hosts/127.0.7.3/state/node_exporter-9101.service.active"),
				F_OK),
			 0);
	tf_preflight_report_free(r);
	r = NULL;
	/* Run again: nothing left to stop. */
	if (tf_preflight_run(&p, &r, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(item(r, "127.0.7.3", "node_exporter")->status, TF_CHECK_OK);
	tf_preflight_report_free(r);
	close(lc);
	close(lp);
	tf_topology_free(t);
}

static void test_preflight_32_hosts(void **state)
{
	struct tf_topology *t = NULL;
	struct tf_ssh_opts o = opts(NULL);
	struct tf_preflight_params p = {.topo = NULL, .ssh = &o, .units_dir = "etc/systemd/system",
					.min_free_kb = 1024, .parallel = NFAN};
	struct tf_preflight_report *r = NULL;
	struct tf_err err;
	char *y = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&y, &len);
	double one, all;

	(void)state;
	fprintf(f, "user: root\ntopology:\n  global:\n    ssh_port: %u\n  tikv_servers:\n", port);
	for (i = 0; i < NFAN; i++)
		fprintf(f, "    - host: %s\n      deploy_dir: /tmp/deploy\n", fan_addrs[i]);
	fclose(f);
	assert_int_equal(tf_topology_parse(y, len, "meta.yaml", &t, &err), 0);
	free(y);
	p.topo = t;
	/* One host (the first), then all 32. */
	t->ninstances = 1;
	assert_int_equal(tf_preflight_run(&p, &r, &err), 0);
	one = r->seconds;
	tf_preflight_report_free(r);
	t->ninstances = NFAN;
	if (tf_preflight_run(&p, &r, &err) != 0)
		fail_msg("%s", err.msg);
	all = r->seconds;
	assert_int_equal(r->nhosts, NFAN);
	assert_int_equal(r->nfailed, 0);
	tf_preflight_report_free(r);
	print_message("preflight: 1 host %.3fs, %d hosts in parallel %.3fs\n", one, NFAN, all);
	tf_topology_free(t);
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
		cmocka_unit_test(test_preflight_ok_and_json),
		cmocka_unit_test(test_preflight_duplicates),
		cmocka_unit_test(test_preflight_32_hosts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
