/* A bounded HTTP/1.x response parser and request formatter for the verify probes. Input comes
 * from servers we are auditing, so every length is checked and nothing is trusted. */
#include "cluster/http.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHUNK_DIGITS_MAX 16

void tf_http_response_init(struct tf_http_response *r)
{
	memset(r, 0, sizeof(*r));
}

void tf_http_response_release(struct tf_http_response *r)
{
	if (r == NULL)
		return;
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* The end of the line starting at p (the position of its '\n'), or NULL when none is in
 * [p, end). Bare LF is accepted as a line end, as most clients do. */
static const char *line_end(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

/* Length of the line [p, nl) without a trailing CR. */
static size_t line_len(const char *p, const char *nl)
{
	size_t n = (size_t)(nl - p);

	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

/* 1 when [p, p+n) holds a control character other than HTAB (a bare CR included): RFC 9112
 * allows none in a status line, field value or chunk extension, and a reader that treats one as
 * a line end would see other headers than we do. */
static int has_ctl(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (((unsigned char)p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return 1;
	return 0;
}

static int is_tchar(int c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* "HTTP/1.x NNN[ reason]" */
static int parse_status_line(const char *p, size_t n, struct tf_http_response *r,
                             struct tf_err *err)
{
	size_t i, rl;

	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
		return tf_err_set(err, TF_E_INPUT, "not an HTTP/1.0 or HTTP/1.1 status line");
	if (has_ctl(p, n))
		return tf_err_set(err, TF_E_INPUT, "control character in the status line");
	r->minor = p[7] - '0';
	for (i = 9; i < 12; i++)
		if (!isdigit((unsigned char)p[i]))
			return tf_err_set(err, TF_E_INPUT, "bad status code in the status line");
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (r->status < 100)
		return tf_err_set(err, TF_E_INPUT, "status code %d out of range", r->status);
	if (n > 12 && p[12] != ' ')
		return tf_err_set(err, TF_E_INPUT, "bad status code in the status line");
	r->reason[0] = '\0';
	if (n > 13) {
		rl = n - 13;
		if (rl >= sizeof(r->reason))
			rl = sizeof(r->reason) - 1;
		for (i = 0; i < rl; i++)
			r->reason[i] = (unsigned char)p[13 + i] < 0x7f ? p[13 + i] : '?';
		r->reason[rl] = '\0';
	}
	return 0;
}

/* Trims optional white space around a header value. */
static void trim(const char **v, size_t *n)
{
	while (*n > 0 && (**v == ' ' || **v == '\t')) {
		(*v)++;
		(*n)--;
	}
	while (*n > 0 && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
		(*n)--;
}

struct head {
	int have_length;
	int have_te;
	uint64_t length;
	int chunked;
	int te_other; /* a transfer coding other than a final chunked: read until close */
};

static int parse_content_length(const char *v, size_t n, struct head *h, struct tf_err *err)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0)
		return tf_err_set(err, TF_E_INPUT, "empty Content-Length");
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i]))
			return tf_err_set(err, TF_E_INPUT, "bad Content-Length");
		if (x > (UINT64_MAX - 9) / 10)
			return tf_err_set(err, TF_E_INPUT, "Content-Length too large");
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	/* Even an equal repeat is refused: readers that merge and readers that take the first or
	 * the last one disagree on where the body ends (response splitting). */
	if (h->have_length)
		return tf_err_set(err, TF_E_INPUT, "repeated Content-Length header");
	h->have_length = 1;
	h->length = x;
	return 0;
}

/* Transfer-Encoding: chunked only counts when it is the last coding (RFC 9112 6.1). */
static void parse_transfer_encoding(const char *v, size_t n, struct head *h)
{
	const char *last = v;
	size_t i, ln;

	for (i = 0; i < n; i++)
		if (v[i] == ',')
			last = v + i + 1;
	ln = (size_t)(v + n - last);
	trim(&last, &ln);
	if (ln == 7 && strncasecmp(last, "chunked", 7) == 0) {
		h->chunked = 1;
		h->te_other = 0;
	} else if (ln > 0) {
		h->chunked = 0;
		h->te_other = 1;
	}
}

/* Parses the header lines in [p, end) (end is just after the blank line). */
static int parse_headers(const char *p, const char *end, struct tf_http_response *r, struct head *h,
                         struct tf_err *err)
{
	int rc;

	while (p < end) {
		const char *nl = line_end(p, end), *colon, *v;
		size_t n, vn, nn;

		if (nl == NULL)
			return tf_err_set(err, TF_E_INPUT, "header line without an end");
		n = line_len(p, nl);
		if (n == 0)
			break;
		if (*p == ' ' || *p == '\t')
			return tf_err_set(err, TF_E_INPUT,
			                  "folded header line (obsolete line folding)");
		if (has_ctl(p, n))
			return tf_err_set(err, TF_E_INPUT, "control character in a header line");
		colon = memchr(p, ':', n);
		if (colon == NULL || colon == p)
			return tf_err_set(err, TF_E_INPUT, "header line without a name");
		nn = (size_t)(colon - p);
		for (size_t i = 0; i < nn; i++)
			if (!is_tchar((unsigned char)p[i]))
				return tf_err_set(err, TF_E_INPUT,
				                  "bad character in a header name");
		v = colon + 1;
		vn = n - nn - 1;
		trim(&v, &vn);
		if (nn == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
			if ((rc = parse_content_length(v, vn, h, err)) != 0)
				return rc;
		} else if (nn == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
			h->have_te = 1;
			parse_transfer_encoding(v, vn, h);
		} else if (nn == 12 && strncasecmp(p, "Content-Type", 12) == 0) {
			size_t cn =
			    vn < sizeof(r->content_type) - 1 ? vn : sizeof(r->content_type) - 1;

			memcpy(r->content_type, v, cn);
			r->content_type[cn] = '\0';
		}
		p = nl + 1;
	}
	/* Both framings in one response: RFC 9112 6.3 lets Transfer-Encoding win, but a reader
	 * that takes Content-Length sees another body (request smuggling's mirror image). */
	if (h->have_length && h->have_te)
		return tf_err_set(err, TF_E_INPUT,
		                  "both Content-Length and Transfer-Encoding in one response");
	return 0;
}

/* Finds the blank line ending the head that starts at p: *body_start is just after it. */
static int find_head_end(const char *p, const char *end, const char **body_start)
{
	const char *q = p;

	while (q < end) {
		const char *nl = line_end(q, end);

		if (nl == NULL)
			return 0;
		if (line_len(q, nl) == 0 && q != p) {
			*body_start = nl + 1;
			return 1;
		}
		q = nl + 1;
	}
	return 0;
}

/* A growing body kept up to max bytes; beyond that it is marked truncated. */
struct body {
	char *buf;
	size_t len, cap, max;
	int truncated;
};

static int body_add(struct body *b, const char *p, size_t n, struct tf_err *err)
{
	if (b->len + n > b->max) {
		n = b->max - b->len;
		b->truncated = 1;
	}
	if (b->buf == NULL || b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *nb;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((nb = realloc(b->buf, cap)) == NULL)
			return tf_err_nomem(err);
		b->buf = nb;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return 0;
}

/* Decodes a chunked body from [p, end). Returns 0 when the last chunk (and its trailers) is in,
 * TF_HTTP_INCOMPLETE when more is needed, TF_E_INPUT on a malformed chunk. */
static int parse_chunked(const char *p, const char *end, struct body *b, struct tf_err *err)
{
	int rc;

	for (;;) {
		const char *nl = line_end(p, end);
		uint64_t size = 0;
		size_t n, i, digits = 0;

		if (nl == NULL)
			return TF_HTTP_INCOMPLETE;
		n = line_len(p, nl);
		for (i = 0; i < n && isxdigit((unsigned char)p[i]); i++) {
			int c = tolower((unsigned char)p[i]);

			if (++digits > CHUNK_DIGITS_MAX)
				return tf_err_set(err, TF_E_INPUT, "chunk size too large");
			size = size * 16 + (uint64_t)(isdigit(c) ? c - '0' : c - 'a' + 10);
		}
		if (digits == 0)
			return tf_err_set(err, TF_E_INPUT, "bad chunk size line");
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if ((i < n && p[i] != ';') || has_ctl(p, n))
			return tf_err_set(err, TF_E_INPUT, "bad chunk size line");
		p = nl + 1;
		if (size == 0) {
			/* Trailer fields until a blank line; their content is ignored. */
			for (;;) {
				nl = line_end(p, end);
				if (nl == NULL)
					return TF_HTTP_INCOMPLETE;
				n = line_len(p, nl);
				if (n == 0)
					return 0;
				if (*p == ' ' || *p == '\t' || memchr(p, ':', n) == NULL ||
				    *p == ':' || has_ctl(p, n))
					return tf_err_set(err, TF_E_INPUT, "bad trailer line");
				p = nl + 1;
			}
		}
		if ((uint64_t)(end - p) < size) {
			/* Keep what has arrived so a truncated body still shows its start. */
			if ((rc = body_add(b, p, (size_t)(end - p), err)) != 0)
				return rc;
			return b->truncated ? 0 : TF_HTTP_INCOMPLETE;
		}
		if ((rc = body_add(b, p, (size_t)size, err)) != 0)
			return rc;
		if (b->truncated)
			return 0; /* the bound is reached: the rest is not needed */
		p += size;
		if (p < end && *p == '\r')
			p++;
		if (p >= end)
			return TF_HTTP_INCOMPLETE;
		if (*p != '\n')
			return tf_err_set(err, TF_E_INPUT, "chunk data not followed by a line end");
		p++;
	}
}

int tf_http_parse_response(const char *buf, size_t len, int eof, size_t max_body,
                           struct tf_http_response *out, struct tf_err *err)
{
	const char *p = buf, *end = buf + len, *body_start = NULL, *nl;
	struct tf_http_response r;
	struct body b = {NULL, 0, 0, max_body, 0};
	struct head h;
	int rc;

	tf_http_response_init(&r);
	for (;;) {
		if (!find_head_end(p, end, &body_start)) {
			if ((size_t)(end - p) > TF_HTTP_HEADER_MAX) {
				rc = tf_err_set(err, TF_E_INPUT, "response head over %zu bytes",
				                TF_HTTP_HEADER_MAX);
				goto out;
			}
			if (!eof) {
				/* Reject early what can never become a status line. */
				size_t n = (size_t)(end - p) < 7 ? (size_t)(end - p) : 7;

				if (memcmp(p, "HTTP/1.", n) != 0) {
					rc =
					    tf_err_set(err, TF_E_INPUT, "not an HTTP/1.x response");
					goto out;
				}
				rc = TF_HTTP_INCOMPLETE;
				goto out;
			}
			rc = tf_err_set(err, TF_E_INPUT,
			                len == 0 ? "no response" : "response head cut short");
			goto out;
		}
		if ((size_t)(body_start - p) > TF_HTTP_HEADER_MAX) {
			rc = tf_err_set(err, TF_E_INPUT, "response head over %zu bytes",
			                TF_HTTP_HEADER_MAX);
			goto out;
		}
		nl = line_end(p, body_start);
		memset(&h, 0, sizeof(h));
		r.content_type[0] = '\0';
		if ((rc = parse_status_line(p, line_len(p, nl), &r, err)) != 0)
			goto out;
		if ((rc = parse_headers(nl + 1, body_start, &r, &h, err)) != 0)
			goto out;
		/* 1xx are interim (101 would switch protocols: we never ask for it). */
		if (r.status >= 200 || r.status == 101)
			break;
		p = body_start;
	}
	r.chunked = h.chunked;
	if (r.status == 204 || r.status == 304 || r.status == 101) {
		rc = 0;
	} else if (h.chunked) {
		rc = parse_chunked(body_start, end, &b, err);
		if (rc == TF_HTTP_INCOMPLETE && eof) {
			b.truncated = 1;
			r.short_read = 1; /* closed before the last chunk */
			rc = 0;
		}
	} else if (h.have_length && !h.te_other) {
		size_t avail = (size_t)(end - body_start);

		if (avail >= h.length) {
			rc = body_add(&b, body_start, (size_t)h.length, err);
		} else if (avail >= max_body || eof) {
			rc = body_add(&b, body_start, avail, err);
			b.truncated = 1;
			r.short_read = avail < max_body; /* closed before Content-Length bytes */
		} else {
			rc = TF_HTTP_INCOMPLETE;
		}
	} else {
		/* Delimited by the close of the connection. */
		size_t avail = (size_t)(end - body_start);

		if (eof || avail >= max_body)
			rc = body_add(&b, body_start, avail, err);
		else
			rc = TF_HTTP_INCOMPLETE;
	}
	if (rc != 0)
		goto out;
	if (b.buf == NULL && (b.buf = calloc(1, 1)) == NULL) {
		rc = tf_err_nomem(err);
		goto out;
	}
	r.body = b.buf;
	b.buf = NULL; /* transferred */
	r.body_len = b.len;
	r.truncated = b.truncated;
	*out = r;
	return 0;
out:
	free(b.buf);
	return rc;
}

static int is_ipv6(const char *host)
{
	return strchr(host, ':') != NULL;
}

int tf_http_format_request(const char *method, const char *path, const char *host, unsigned port,
                           const char *body, char **out, size_t *len, struct tf_err *err)
{
	char *buf = NULL;
	size_t blen = body ? strlen(body) : 0, cap;
	int n;

	if (strpbrk(method, " \r\n") || strpbrk(path, " \r\n") || strpbrk(host, " \r\n/") ||
	    path[0] != '/')
		return tf_err_set(err, TF_E_USAGE, "bad request line for '%s'", path);
	cap = strlen(method) + strlen(path) + strlen(host) + blen + 256;
	if ((buf = malloc(cap)) == NULL)
		return tf_err_nomem(err);
	if (body != NULL)
		n = snprintf(
		    buf, cap,
		    "%s %s HTTP/1.1\r\nHost: %s%s%s:%u\r\nUser-Agent: tiferry-verify/%s\r\n"
		    "Accept: */*\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		    method, path, is_ipv6(host) ? "[" : "", host, is_ipv6(host) ? "]" : "", port,
		    TF_VERSION, blen, body);
	else
		n = snprintf(
		    buf, cap,
		    "%s %s HTTP/1.1\r\nHost: %s%s%s:%u\r\nUser-Agent: tiferry-verify/%s\r\n"
		    "Accept: */*\r\nConnection: close\r\n\r\n",
		    method, path, is_ipv6(host) ? "[" : "", host, is_ipv6(host) ? "]" : "", port,
		    TF_VERSION);
	if (n < 0 || (size_t)n >= cap) {
		free(buf);
		return tf_err_set(err, TF_E_FAIL, "request for '%s' does not fit", path);
	}
	*out = buf;
	*len = (size_t)n;
	return 0;
}

int tf_http_body_is_json(const struct tf_http_response *r)
{
	size_t i = 0;

	if (strstr(r->content_type, "json") != NULL)
		return 1;
	if (r->body == NULL)
		return 0;
	while (i < r->body_len && isspace((unsigned char)r->body[i]))
		i++;
	return i < r->body_len && (r->body[i] == '{' || r->body[i] == '[');
}
