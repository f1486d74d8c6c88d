/* Fuzz target: the verify probes' HTTP response parser (cluster/http.c), which reads bytes
 * from the servers being audited. Besides not crashing: a parsed body stays within its bound and
 * is NUL-terminated, and only a body cut at the bound or by the close is marked short. The
 * corpus holds each form the strict parser refuses (issue 13, item 3). */
#include "cluster/http.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct tf_http_response *r, size_t max)
{
	if (r->body == NULL || r->body_len > max || r->body[r->body_len] != '\0')
		abort();
	if (r->short_read && !r->truncated)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_http_response r;
	struct tf_err err;
	size_t cut;
	int eof;

	/* Whole input at EOF and not, with a small and a large body bound; then every prefix of a
	 * short input, as a reader sees it arrive. */
	for (eof = 0; eof <= 1; eof++) {
		if (tf_http_parse_response((const char *)data, size, eof, 16, &r, &err) == 0) {
			check(&r, 16);
			(void)tf_http_body_is_json(&r);
			tf_http_response_release(&r);
		}
		if (tf_http_parse_response((const char *)data, size, eof, 1 << 20, &r, &err) == 0) {
			check(&r, 1 << 20);
			tf_http_response_release(&r);
		}
	}
	if (size <= 512)
		for (cut = 0; cut < size; cut++)
			if (tf_http_parse_response((const char *)data, cut, 0, 64, &r, &err) == 0) {
				check(&r, 64);
				tf_http_response_release(&r);
			}
	return 0;
}
