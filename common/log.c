/* Operator messages on stderr. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>

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

static void vlog(const char *kind, const char *fmt, va_list ap)
{
	/* One message at a time, whole, even from the preflight's threads. */
	flockfile(stderr);
	if (live != NULL)
		live->hide(live->arg);
	fprintf(stderr, "%s: %s", prog, kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (live != NULL)
		live->show(live->arg);
	funlockfile(stderr);
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
