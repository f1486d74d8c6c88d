/* Local commands: fork, exec, capture, time out. */
#include "common/proc.h"
#include "common/progress.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void tf_proc_result_release(struct tf_proc_result *r)
{
	free(r->out);
	memset(r, 0, sizeof(*r));
}

static int safe_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("-_./=:,@+%", c) != NULL;
}

char *tf_proc_format(const char *const *argv)
{
	size_t cap = 1, i;
	char *s, *p;

	for (i = 0; argv[i] != NULL; i++)
		cap += strlen(argv[i]) * 4 + 3;
	if ((s = malloc(cap)) == NULL)
		return NULL;
	p = s;
	for (i = 0; argv[i] != NULL; i++) {
		const char *a = argv[i];
		int plain = a[0] != '\0';
		const char *c;

		for (c = a; *c && plain; c++)
			plain = safe_char(*c);
		if (i > 0)
			*p++ = ' ';
		if (plain) {
			p = stpcpy(p, a);
			continue;
		}
		*p++ = '\'';
		for (c = a; *c; c++) {
			if (*c == '\'')
				p = stpcpy(p, "'\\''");
			else
				*p++ = *c;
		}
		*p++ = '\'';
	}
	*p = '\0';
	return s;
}

static void child(const char *const *argv, const struct tf_proc_opts *o, int outfd)
{
	size_t i;

	setpgid(0, 0);
	if (dup2(outfd, STDOUT_FILENO) < 0 || dup2(outfd, STDERR_FILENO) < 0)
		_exit(127);
	close(outfd);
	i = (size_t)open("/dev/null", O_RDONLY);
	if ((int)i >= 0)
		dup2((int)i, STDIN_FILENO);
	for (i = 0; o && o->env_unset && o->env_unset[i]; i++)
		unsetenv(o->env_unset[i]);
	for (i = 0; o && o->env_set && o->env_set[i]; i++)
		putenv((char *)(uintptr_t)o->env_set[i]);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], (char *const *)(uintptr_t)argv);
	fprintf(stderr, "cannot run '%s': %s\n", argv[0], strerror(errno));
	_exit(127);
}

int tf_proc_run(const char *const *argv, const struct tf_proc_opts *o, struct tf_proc_result *res,
                struct tf_err *err)
{
	int pipefd[2] = {-1, -1}, st = 0, done = 0, reaped = 0;
	ssize_t got;
	double start = tf_monotonic();
	pid_t pid;
	char buf[8192];

	memset(res, 0, sizeof(*res));
	res->status = -1;
	if ((res->out = malloc(TF_PROC_OUT_MAX + 1)) == NULL)
		return tf_err_nomem(err);
	res->out[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return tf_err_sys(err, TF_E_IO, "pipe");
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return tf_err_sys(err, TF_E_IO, "fork");
	}
	if (pid == 0) {
		close(pipefd[0]);
		child(argv, o, pipefd[1]);
	}
	setpgid(pid, pid);
	close(pipefd[1]);
	/* Read until the command has exited and the pipe is drained; a daemon it started may keep
	 * the pipe open forever, so the exit, not the pipe's end, finishes the wait. */
	while (!done) {
		struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
		int n, exited = 0;

		if (o && o->timeout_s && tf_monotonic() - start > o->timeout_s) {
			res->timed_out = 1;
			kill(-pid, SIGKILL);
		}
		if (!reaped && waitpid(pid, &st, WNOHANG) == pid)
			reaped = 1;
		exited = reaped;
		n = poll(&p, 1, exited ? 0 : 200);
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0) {
			if (exited)
				done = 1;
			continue;
		}
		got = read(pipefd[0], buf, sizeof(buf));
		if (got <= 0) {
			if (exited || got == 0)
				done = exited || got == 0;
			continue;
		}
		if (o && o->echo)
			(void)!write(STDERR_FILENO, buf, (size_t)got);
		if (res->outlen < TF_PROC_OUT_MAX) {
			size_t take = (size_t)got;

			if (take > TF_PROC_OUT_MAX - res->outlen)
				take = TF_PROC_OUT_MAX - res->outlen;
			memcpy(res->out + res->outlen, buf, take);
			res->outlen += take;
			res->out[res->outlen] = '\0';
		}
	}
	close(pipefd[0]);
	while (!reaped && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	res->seconds = tf_monotonic() - start;
	if (WIFEXITED(st))
		res->status = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		res->status = 128 + WTERMSIG(st);
	return 0;
}
