/* The wire format of tiferry's minimal HTTP/1.1 client: the request text and a bounded response
 * parser (status line, headers, Content-Length, chunked transfer encoding). No I/O here. */
#ifndef TF_CLUSTER_HTTP_H
#define TF_CLUSTER_HTTP_H

#include <stddef.h>

#include "common/err.h"

#define TF_HTTP_HEADER_MAX ((size_t)64 * 1024) /* status line and headers together */
#define TF_HTTP_INCOMPLETE 1                   /* tf_http_parse_response: more bytes are needed */

struct tf_http_response {
	int minor;              /* HTTP/1.<minor> */
	int status;             /* 100..999 */
	char reason[64];        /* cut to fit */
	char content_type[128]; /* cut to fit; "" when absent */
	int chunked;            /* the body came with chunked transfer encoding */
	int truncated;          /* the body was cut at the bound, or the peer closed early */
	int short_read;         /* the peer closed before the body's declared end (Content-Length
	                           or the last chunk): the answer is cut, not whole */
	size_t body_len;
	char *body; /* body_len bytes and a NUL; owned, freed by release */
};

void tf_http_response_init(struct tf_http_response *r);
void tf_http_response_release(struct tf_http_response *r);

/* Parses the response in buf[0..len). eof says the peer has closed the connection. Returns 0
 * with *r filled (release it) when the response is complete (or complete enough: a body cut at
 * max_body bytes or by the close sets truncated), TF_HTTP_INCOMPLETE when more bytes are needed
 * (only when !eof), or TF_E_INPUT when the bytes are not a well-formed HTTP/1.0 or 1.1 response.
 * Strict, since the bytes come from servers being audited and another reader must not see
 * another answer: a repeated Content-Length, Content-Length with Transfer-Encoding, a folded
 * header, a control character (bare CR included) in the head, a missing or garbled status line
 * and a malformed chunk or trailer are each refused. Interim 1xx responses are skipped. *r is
 * written only on 0. */
int tf_http_parse_response(const char *buf, size_t len, int eof, size_t max_body,
                           struct tf_http_response *r, struct tf_err *err) TF_MUST_CHECK;

/* Formats a request: "METHOD PATH HTTP/1.1", Host (host:port, IPv6 in brackets), Accept,
 * Content-Type and Content-Length when body is not NULL, Connection: close. *out is
 * NUL-terminated (caller frees); *len its length. */
int tf_http_format_request(const char *method, const char *path, const char *host, unsigned port,
                           const char *body, char **out, size_t *len,
                           struct tf_err *err) TF_MUST_CHECK;

/* 1 when the response declares a JSON content type or its body starts (after white space) like
 * a JSON object or array. */
int tf_http_body_is_json(const struct tf_http_response *r);

#endif
