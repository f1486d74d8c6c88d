/* A growing, NUL-terminated string for code that writes text piece by piece (JSON canonical
 * forms, rendered documents). Appends never fail loudly: the first allocation failure, or
 * growth past max, sets failed and later appends do nothing; check failed once at the end. */
#ifndef TF_COMMON_STRBUF_H
#define TF_COMMON_STRBUF_H

#include <stddef.h>

struct tf_strbuf {
	char *s;    /* NULL until the first append; owned (free it, or take it) */
	size_t len; /* bytes in s, without the NUL */
	size_t cap;
	size_t max; /* largest len allowed; 0: no limit */
	int failed;
};

void tf_strbuf_putn(struct tf_strbuf *b, const char *s, size_t n);
void tf_strbuf_puts(struct tf_strbuf *b, const char *s);
void tf_strbuf_printf(struct tf_strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Frees the contents and zeroes b (max kept). */
void tf_strbuf_release(struct tf_strbuf *b);

/* Appends a formatted copy (cut at TF_ERR_MSG_MAX bytes) to the string list *list of *n
 * entries, for warnings and notes gathered while parsing. 0, or TF_E_NOMEM with the list as it
 * was. */
int tf_strv_addf(char ***list, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
