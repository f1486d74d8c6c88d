/* The sshd fixture of test_ssh and test_preflight: real OpenSSH sshd processes started on
 * loopback (own host keys, own authorized key, a per-host root chosen from the address the
 * client connected to, a fake systemctl) and stopped by pid. */
#include "tests/unit/sshd_fixture.h"
#include "tests/unit/testutil.h"

#include "cluster/ssh.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char dir[PATH_MAX];
unsigned port;
pid_t sshd_pid[NSSHD];
char key_path[PATH_MAX + 16], kh_path[PATH_MAX + 16];

/* Addresses: the 127.0.0.20x and 127.0.7.x ranges keep clear of the lab (tests/lab) and the
 * benchmark (127.0.0.101-132). */
const char *const main_addrs[] = {"127.0.0.201", "127.0.0.202", NULL};
const char *const drop_addrs[] = {"127.0.0.204", NULL};
const char *const down_addrs[] = {"127.0.0.206", NULL};
static char fan_addr_buf[NFAN][16];
const char *fan_addrs[NFAN + 1];
const char *fan_half[2][NFAN / 2 + 1];

char *path(const char *name)
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

int listen_on(const char *addr, unsigned p)
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
void kill_descendants(pid_t root)
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

void start_sshd(int idx, const char *const *addrs)
{
	char cfg[64], key[64], log[64];
	FILE *f;
	size_t i;
	pid_t pid;

	snprintf(cfg, sizeof(cfg), "sshd%d.conf", idx);
	snprintf(key, sizeof(key), "hostkey%d", idx);
	snprintf(log, sizeof(log), "sshd%d.log", idx);
	if (access(key, F_OK) != 0)
		assert_int_equal(tt_sh("ssh-keygen -q -t ed25519 -N '' -C host%d -f %s", idx, key),
		                 0);
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
		execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-f", path(cfg), "-E", path(log),
		      (char *)NULL);
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

void stop_sshd(int idx)
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
void pin(const char *file, const char *const *addrs, int idx, const char *mode)
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

/* In its own mount namespace the host's /usr/bin/sudo is the fake below: tiferry runs its
 * privileged commands as `/usr/bin/sudo -n -H bash -c '<cmd>'`. */
static const char hostsh[] =
    "#!/bin/bash\n"
    "# A test host's login: its own root, chosen from the address the client connected to.\n"
    "if [ -z \"${FIXTURE_NS:-}\" ]; then export FIXTURE_NS=1; exec unshare -m --propagation "
    "private \"$0\"; fi\n"
    "mount --bind %s/bin/sudo /usr/bin/sudo || exit 255\n"
    "set -- $SSH_CONNECTION\n"
    "root=%s/hosts/$3\n"
    "mkdir -p \"$root\" && cd \"$root\" || exit 255\n"
    "export HOST_ROOT=$root PATH=%s/bin:$PATH\n"
    "exec /bin/bash -c \"${SSH_ORIGINAL_COMMAND:-true}\"\n";

/* sudo for a test host: logs its words, refuses as sudo -n does without a NOPASSWD rule while
 * state/nosudo exists, else runs the command (keeping PATH, so the fake systemctl is found). */
static const char sudo_fake[] =
    "#!/bin/bash\n"
    "echo \"$*\" >> \"$HOST_ROOT/sudo.log\"\n"
    "if [ -e \"$HOST_ROOT/state/nosudo\" ]; then echo 'sudo: a password is required' >&2; "
    "exit 1; fi\n"
    "[ \"$1 $2 $3 $4\" = '-n -H bash -c' ] || { echo \"sudo: unexpected: $*\" >&2; exit 1; }\n"
    "exec bash -c \"$5\"\n";

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

int sshd_setup(void **state)
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
	fprintf(f, hostsh, dir, dir, dir);
	fclose(f);
	assert_non_null(f = fopen("bin/systemctl", "w"));
	fputs(systemctl, f);
	fclose(f);
	assert_non_null(f = fopen("bin/sudo", "w"));
	fputs(sudo_fake, f);
	fclose(f);
	assert_int_equal(
	    chmod("hostsh", 0755) | chmod("bin/systemctl", 0755) | chmod("bin/sudo", 0755), 0);
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

int sshd_teardown(void **state)
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

struct tf_ssh_opts opts(const char *host)
{
	struct tf_ssh_opts o = {.host = host,
	                        .port = port,
	                        .user = "root",
	                        .identity = key_path,
	                        .known_hosts = kh_path,
	                        /* 32 handshakes at once, on a loaded machine */
	                        .connect_timeout_s = 30,
	                        .command_timeout_s = 30};
	return o;
}

struct tf_ssh *conn(const char *host)
{
	struct tf_ssh_opts o = opts(host);
	struct tf_ssh *s = NULL;
	struct tf_err err;

	if (tf_ssh_connect(&o, &s, &err) != 0)
		fail_msg("connect %s: %s", host, err.msg);
	return s;
}

/* Whether a process with exactly this command line (spaces for NULs) runs. */
int running(const char *cmdline)
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
