/* Operator messages on stderr. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum tf_verbosity verbosity = TF_NORMAL;
static const char *prog = "tiferry";
/* Set from the main thread while no other thread logs (before and after the install's steps). */
static const struct tf_log_live *live;

void tf_log_set_verbosity(enum tf_verbosity v)
{
	verbosity = v;
}

enum tf_verbosity tf_log_verbosity(void)
{
	return verbosity;
}

void tf_log_set_prog(const char *p)
{
	prog = p;
}

void tf_log_set_live(const struct tf_log_live *l)
{
	live = l;
}

void tf_log_live_hide(void)
{
	if (live != NULL) {
		flockfile(stderr);
		live->hide(live->arg);
		funlockfile(stderr);
	}
}

void tf_log_live_show(void)
{
	if (live != NULL) {
		flockfile(stderr);
		live->show(live->arg);
		funlockfile(stderr);
	}
}

static void put_escaped(FILE *f, const char *s, size_t n, int keep_nl)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 0x20 && c <= 0x7e) || (c == '\n' && keep_nl)) {
			putc(c, f);
		} else {
			putc('\\', f);
			putc('x', f);
			putc(hex[c >> 4], f);
			putc(hex[c & 15], f);
		}
	}
}

char *tf_term_escape(const char *in, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; in != NULL && *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;

		if (c >= 0x20 && c <= 0x7e) {
			if (o + 1 >= outsz)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= outsz)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

void tf_term_fputs(FILE *f, const char *s, int keep_nl)
{
	put_escaped(f, s, strlen(s), keep_nl);
}

/* The formatted text (caller frees), or NULL when out of memory. */
static char *format(const char *fmt, va_list ap, size_t *len)
{
	va_list aq;
	char *s;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	*len = (size_t)n;
	return s;
}

void tf_out(const char *fmt, ...)
{
	va_list ap;
	size_t n = 0;
	char *s;

	va_start(ap, fmt);
	s = format(fmt, ap, &n);
	va_end(ap);
	if (s == NULL)
		return;
	if (n > 0 && s[n - 1] == '\n') {
		put_escaped(stdout, s, n - 1, 0);
		putc('\n', stdout);
	} else {
		put_escaped(stdout, s, n, 0);
	}
	free(s);
}

static void vlog(const char *kind, const char *fmt, va_list ap)
{
	size_t n = 0;
	char *s = format(fmt, ap, &n);

	/* One message at a time, whole, even from the preflight's threads. */
	flockfile(stderr);
	if (live != NULL)
		live->hide(live->arg);
	fprintf(stderr, "%s: %s", prog, kind);
	if (s != NULL)
		put_escaped(stderr, s, n, 0);
	else
		fputs("(out of memory formatting a message)", stderr);
	fputc('\n', stderr);
	if (live != NULL)
		live->show(live->arg);
	funlockfile(stderr);
	free(s);
}

void tf_log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error: ", fmt, ap);
	va_end(ap);
}

void tf_log_warn(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < TF_NORMAL)
		return;
	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void tf_log_info(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < TF_NORMAL)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void tf_log_debug(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < TF_VERBOSE)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}
