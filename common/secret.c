/* Passphrase reading: file, descriptor, environment, terminal without echo (libc only). */
#include "common/secret.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

void tf_secret_free(char *s)
{
	if (s == NULL)
		return;
	tf_wipe(s, strlen(s));
	free(s);
}

static char *dup_secret(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Reads one line (at most TF_SECRET_MAX bytes, "\n" or "\r\n" removed) from fd, one byte at a
 * time so nothing after the line is consumed. *len receives its length. */
static int read_line(int fd, char buf[TF_SECRET_MAX + 1], size_t *len, const char *what,
                     struct tf_err *err)
{
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t got = read(fd, &c, 1);

		if (got < 0) {
			if (errno == EINTR)
				return tf_err_set(err, TF_E_USAGE,
				                  "reading the passphrase from %s "
				                  "was interrupted",
				                  what);
			return tf_err_sys(err, TF_E_IO, "read the passphrase from %s", what);
		}
		if (got == 0 || c == '\n')
			break;
		if (n == TF_SECRET_MAX)
			return tf_err_set(err, TF_E_INPUT,
			                  "the passphrase from %s is longer than %d bytes", what,
			                  TF_SECRET_MAX);
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return 0;
}

static int finish(char *buf, size_t n, const char *what, char **out, struct tf_err *err)
{
	char *p;

	if (n == 0)
		return tf_err_set(err, TF_E_INPUT, "the passphrase from %s is empty", what);
	if (memchr(buf, '\0', n) != NULL)
		return tf_err_set(err, TF_E_INPUT, "the passphrase from %s holds a NUL byte", what);
	if ((p = dup_secret(buf, n)) == NULL)
		return tf_err_nomem(err);
	*out = p;
	return 0;
}

int tf_secret_read_fd(int fd, char **out, struct tf_err *err)
{
	char buf[TF_SECRET_MAX + 1];
	char what[32];
	size_t n = 0;
	int r;

	snprintf(what, sizeof(what), "descriptor %d", fd);
	if ((r = read_line(fd, buf, &n, what, err)) != 0)
		goto out;
	r = finish(buf, n, what, out, err);
out:
	tf_wipe(buf, sizeof(buf));
	return r;
}

int tf_secret_read_file(const char *path, char **out, struct tf_err *err)
{
	char buf[TF_SECRET_MAX + 1];
	char what[TF_ERR_MSG_MAX / 2];
	size_t n = 0;
	int fd = -1, r;

	snprintf(what, sizeof(what), "'%s'", path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		r = tf_err_sys(err, errno == ENOENT ? TF_E_NOTFOUND : TF_E_IO,
		               "open passphrase file '%s'", path);
		goto out;
	}
	if ((r = read_line(fd, buf, &n, what, err)) != 0)
		goto out;
	r = finish(buf, n, what, out, err);
out:
	if (fd >= 0)
		close(fd);
	tf_wipe(buf, sizeof(buf));
	return r;
}

int tf_secret_read_env(const char *name, char **out, struct tf_err *err)
{
	const char *v = getenv(name);
	size_t n;

	if (v == NULL)
		return tf_err_set(err, TF_E_NOTFOUND, "environment variable '%s' is not set", name);
	n = strlen(v);
	if (n > TF_SECRET_MAX)
		return tf_err_set(err, TF_E_INPUT, "the passphrase in '%s' is longer than %d bytes",
		                  name, TF_SECRET_MAX);
	if (n == 0)
		return tf_err_set(err, TF_E_INPUT,
		                  "the passphrase from environment variable '%s' is empty", name);
	if ((*out = dup_secret(v, n)) == NULL)
		return tf_err_nomem(err);
	return 0;
}

/* Signals that would otherwise leave the terminal without echo: caught while reading, then
 * re-raised once the terminal is restored. */
static const int tty_signals[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGTSTP};
#define NSIG_TTY (sizeof(tty_signals) / sizeof(tty_signals[0]))
static volatile sig_atomic_t tty_caught;

static void on_tty_signal(int sig)
{
	tty_caught = sig;
}

static int prompt_once(int fd, const char *prompt, char buf[TF_SECRET_MAX + 1], size_t *n,
                       struct tf_err *err)
{
	int r;

	if ((r = tf_write_all(fd, prompt, strlen(prompt), err)) != 0) {
		tf_err_prefix(err, "the passphrase prompt");
		return r;
	}
	r = read_line(fd, buf, n, "the terminal", err);
	/* echo is off, so the operator's Enter did not move the cursor */
	if (tf_write_all(fd, "\n", 1, NULL) != 0 && r == 0)
		r = tf_err_sys(err, TF_E_IO, "write to the terminal");
	return r;
}

int tf_secret_read_tty(const char *prompt, int confirm, char **out, struct tf_err *err)
{
	char buf[TF_SECRET_MAX + 1], again[TF_SECRET_MAX + 1];
	struct sigaction sa, old_sa[NSIG_TTY];
	struct termios old_t, new_t;
	size_t n = 0, n2 = 0, i;
	int fd = -1, r, termios_set = 0, handlers_set = 0;

	memset(buf, 0, sizeof(buf));
	memset(again, 0, sizeof(again));
	/* the install's live table would redraw over the prompt every second */
	tf_log_live_hide();
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		r = tf_err_sys(err, TF_E_USAGE,
		               "no terminal to read the passphrase from (open "
		               "/dev/tty)");
		goto out;
	}
	if (tcgetattr(fd, &old_t) != 0) {
		r = tf_err_sys(err, TF_E_IO, "read the terminal's settings");
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tty_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: read() returns EINTR and we restore the terminal */
	tty_caught = 0;
	for (i = 0; i < NSIG_TTY; i++)
		sigaction(tty_signals[i], &sa, &old_sa[i]);
	handlers_set = 1;
	new_t = old_t;
	new_t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	new_t.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSAFLUSH, &new_t) != 0) {
		r = tf_err_sys(err, TF_E_IO, "turn the terminal's echo off");
		goto out;
	}
	termios_set = 1;
	if ((r = prompt_once(fd, prompt ? prompt : "Passphrase: ", buf, &n, err)) != 0)
		goto out;
	if (confirm) {
		if ((r = prompt_once(fd, "Again: ", again, &n2, err)) != 0)
			goto out;
		if (n != n2 || memcmp(buf, again, n) != 0) {
			r = tf_err_set(err, TF_E_USAGE, "the two passphrases differ");
			goto out;
		}
	}
	r = finish(buf, n, "the terminal", out, err);
out:
	if (termios_set)
		tcsetattr(fd, TCSAFLUSH, &old_t);
	if (handlers_set)
		for (i = 0; i < NSIG_TTY; i++)
			sigaction(tty_signals[i], &old_sa[i], NULL);
	if (fd >= 0)
		close(fd);
	tf_wipe(buf, sizeof(buf));
	tf_wipe(again, sizeof(again));
	tf_log_live_show();
	if (handlers_set && tty_caught != 0)
		raise(tty_caught);
	return r;
}

int tf_secret_read(const char *source, const char *prompt, int confirm, char **out,
                   struct tf_err *err)
{
	if (source == NULL || strcmp(source, "tty") == 0)
		return tf_secret_read_tty(prompt, confirm, out, err);
	if (strncmp(source, "file:", 5) == 0 && source[5] != '\0')
		return tf_secret_read_file(source + 5, out, err);
	if (strncmp(source, "env:", 4) == 0 && source[4] != '\0')
		return tf_secret_read_env(source + 4, out, err);
	if (strncmp(source, "fd:", 3) == 0 && source[3] != '\0') {
		char *end = NULL;
		long fd;

		errno = 0;
		fd = strtol(source + 3, &end, 10);
		if (errno == 0 && *end == '\0' && fd >= 0 && fd <= 65535)
			return tf_secret_read_fd((int)fd, out, err);
	}
	return tf_err_set(err, TF_E_USAGE,
	                  "passphrase source '%s' is not one of file:PATH, fd:N, env:NAME, tty",
	                  source);
}
