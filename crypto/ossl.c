/* OpenSSL error translation and the no-prompt passphrase callback. */
#include "crypto/ossl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

int tf_ossl_fail(struct tf_err *err, int code, const char *fmt, ...)
{
	char head[TF_ERR_MSG_MAX / 2];
	unsigned long e = ERR_peek_error();
	const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	if (reason != NULL)
		tf_err_set(err, code, "%s (openssl: %s)", head, reason);
	else
		tf_err_set(err, code, "%s", head);
	ERR_clear_error();
	return code;
}

int tf_ossl_pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char *p = u;
	size_t n;

	(void)rwflag;
	if (p == NULL)
		return -1;
	n = strlen(p);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, p, n);
	return (int)n;
}
