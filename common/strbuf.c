/* The growing string of common/strbuf.h. */
#include "common/err.h"
#include "common/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tf_strbuf_putn(struct tf_strbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->max != 0 && b->len + n > b->max) {
		b->failed = 1;
		return;
	}
	if (b->s == NULL || b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->s, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void tf_strbuf_puts(struct tf_strbuf *b, const char *s)
{
	tf_strbuf_putn(b, s, strlen(s));
}

void tf_strbuf_printf(struct tf_strbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *t = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&t, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	tf_strbuf_putn(b, t, (size_t)n);
	free(t);
}

void tf_strbuf_release(struct tf_strbuf *b)
{
	size_t max = b->max;

	free(b->s);
	memset(b, 0, sizeof(*b));
	b->max = max;
}

int tf_strv_addf(char ***list, size_t *n, const char *fmt, ...)
{
	char buf[TF_ERR_MSG_MAX];
	char **nl, *s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((s = strdup(buf)) == NULL)
		return TF_E_NOMEM;
	if ((nl = realloc(*list, (*n + 1) * sizeof(*nl))) == NULL) {
		free(s);
		return TF_E_NOMEM;
	}
	nl[(*n)++] = s;
	*list = nl;
	return 0;
}
