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

int tf_err_nomem(struct tf_err *err)
{
	return tf_err_set(err, TF_E_NOMEM, "%s", tf_err_str(TF_E_NOMEM));
}

void tf_err_clear(struct tf_err *err)
{
	if (err == NULL)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

/* Every code with its text, in the order of err.h; tf_err_str and the tests read it. */
static const struct {
	int code;
	const char *text;
} codes[] = {
    {TF_OK, "no error"},
    {TF_E_FAIL, "failed"},
    {TF_E_USAGE, "bad command line"},
    {TF_E_INPUT, "bad input"},
    {TF_E_IO, "input/output error"},
    {TF_E_NOMEM, "out of memory"},
    {TF_E_CRYPTO, "cryptographic library error"},
    {TF_E_REJECT, "bundle rejected"},
    {TF_E_NOTFOUND, "not found"},
    {TF_E_SSH_LOST, "SSH connection lost"},
    {TF_E_SSH_HOSTKEY, "SSH host key unknown or changed"},
    {TF_E_SSH_TIMEOUT, "SSH command timed out"},
    {TF_E_SSH_AUTH, "SSH authentication refused"},
    {TF_E_SSH_UNREACHABLE, "SSH host unreachable"},
    {TF_E_SSH_SUDO, "sudo refused on the host"},
};

const char *tf_err_str(int code)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return codes[i].text;
	return "unknown error";
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
