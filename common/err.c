/* Error context: formatting and mapping to exit codes. */
#include "common/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int tf_err_set(struct tf_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int tf_err_sys(struct tf_err *err, int code, const char *fmt, ...)
{
	int saved = errno;
	char head[TF_ERR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return code;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	err->code = code;
	snprintf(err->msg, sizeof(err->msg), "%s: %s", head, strerror(saved));
	return code;
}

int tf_err_prefix(struct tf_err *err, const char *fmt, ...)
{
	char head[TF_ERR_MSG_MAX];
	char old[TF_ERR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return TF_E_FAIL;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", head, old);
	return err->code;
}

void tf_err_clear(struct tf_err *err)
{
	if (err == NULL)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

int tf_err_exit_code(int code)
{
	switch (code) {
	case TF_OK:
		return TF_EXIT_OK;
	case TF_E_USAGE:
	case TF_E_INPUT:
	case TF_E_NOTFOUND:
		return TF_EXIT_USAGE;
	case TF_E_REJECT:
		return TF_EXIT_REJECT;
	default:
		return TF_EXIT_FAIL;
	}
}
