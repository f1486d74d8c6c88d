/* Unit tests for verify: the HTTP response parser (lengths, chunked bodies, status-line edge
 * cases, bounds), request formatting, the scanner's verdicts, endpoint parsing, rendering and
 * receipts. Also a helper for the integration test: `test_verify --receipt-verify FILE [PUB]`
 * runs tf_receipt_verify and prints its summary (exit 0 verifies, 3 rejected, 2 bad input). */
#include "tests/unit/testutil.h"
#include "common/hex.h"

#include "common/err.h"
#include "cluster/http.h"
#include "installer/verify.h"
#include "cluster/tlsprobe.h"
#include "installer/verify_host.h"
#include "mirror/tiupstate.h"
#include "manifests/receipt.h"
#include "crypto/sigkey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int parse(const char *s, int eof, size_t max, struct tf_http_response *r)
{
	struct tf_err err = {0};

	return tf_http_parse_response(s, strlen(s), eof, max, r, &err);
}

static void test_content_length(void **state)
{
	struct tf_http_response r;
	const char *s = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	                "Content-Length: 17\r\n\r\n{\"health\":\"true\"}";

	(void)state;
	assert_int_equal(parse(s, 0, 1024, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.minor, 1);
	assert_string_equal(r.reason, "OK");
	assert_string_equal(r.content_type, "application/json");
	assert_int_equal(r.body_len, 17);
	assert_string_equal(r.body, "{\"health\":\"true\"}");
	assert_false(r.truncated);
	assert_false(r.chunked);
	assert_true(tf_http_body_is_json(&r));
	tf_http_response_release(&r);
	/* every shorter prefix needs more bytes */
	for (size_t n = 0; n < strlen(s); n++) {
		struct tf_err err = {0};

		assert_int_equal(tf_http_parse_response(s, n, 0, 1024, &r, &err),
		                 TF_HTTP_INCOMPLETE);
	}
	/* extra bytes after the body are ignored */
	{
		char more[256];

		snprintf(more, sizeof(more), "%sGARBAGE", s);
		assert_int_equal(parse(more, 0, 1024, &r), 0);
		assert_int_equal(r.body_len, 17);
		tf_http_response_release(&r);
	}
}

static void test_chunked(void **state)
{
	struct tf_http_response r;
	const char *s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	                "Content-Type: application/json\r\n\r\n"
	                "5\r\n{\"a\":\r\n"
	                "A;ext=1\r\n\"01234567\"\r\n"
	                "1 \r\n}\r\n"
	                "0\r\nX-Trailer: y\r\n\r\n";

	(void)state;
	assert_int_equal(parse(s, 0, 1024, &r), 0);
	assert_true(r.chunked);
	assert_int_equal(r.body_len, 16);
	assert_string_equal(r.body, "{\"a\":\"01234567\"}");
	assert_false(r.truncated);
	tf_http_response_release(&r);
	for (size_t n = 0; n < strlen(s); n++) {
		struct tf_err err = {0};

		assert_int_equal(tf_http_parse_response(s, n, 0, 1024, &r, &err),
		                 TF_HTTP_INCOMPLETE);
	}
	/* bare LF line ends, upper-case hex */
	assert_int_equal(
	    parse("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\nB\nhello world\n0\n\n", 0, 1024,
	          &r),
	    0);
	assert_string_equal(r.body, "hello world");
	tf_http_response_release(&r);
	/* chunked as the last coding counts */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n"
	                       "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
	                       0, 1024, &r),
	                 0);
	assert_string_equal(r.body, "ok");
	tf_http_response_release(&r);
	/* with Content-Length too it is refused: readers disagree on which wins (issue 13) */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
	                       "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
	                       0, 1024, &r),
	                 TF_E_INPUT);
	/* closed mid-chunk: what arrived, marked truncated */
	assert_int_equal(
	    parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", 1, 1024, &r),
	    0);
	assert_true(r.truncated);
	assert_string_equal(r.body, "abc");
	tf_http_response_release(&r);
}

static void test_chunked_bad(void **state)
{
	struct tf_http_response r;

	(void)state;
	assert_int_equal(
	    parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, 1024, &r),
	    TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	                       "fffffffffffffffff\r\n",
	                       0, 1024, &r),
	                 TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	                       "2\r\nokX\r\n0\r\n\r\n",
	                       0, 1024, &r),
	                 TF_E_INPUT);
	assert_int_equal(
	    parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 junk\r\n", 0, 1024, &r),
	    TF_E_INPUT);
	/* trailers are header lines: never folded, never without a name */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	                       "2\r\n{}\r\n0\r\n folded\r\n\r\n",
	                       0, 1024, &r),
	                 TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	                       "2\r\n{}\r\n0\r\nno colon\r\n\r\n",
	                       0, 1024, &r),
	                 TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	                       "2\r\n{}\r\n0\r\nX-T: 1\r\n\r\n",
	                       0, 1024, &r),
	                 0);
	tf_http_response_release(&r);
	/* a huge declared chunk is only read up to the bound */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	                       "ffffffff\r\n0123456789",
	                       0, 4, &r),
	                 0);
	assert_true(r.truncated);
	assert_int_equal(r.body_len, 4);
	tf_http_response_release(&r);
}

static void test_status_line(void **state)
{
	struct tf_http_response r;

	(void)state;
	/* no reason phrase, with and without the space */
	assert_int_equal(parse("HTTP/1.1 204\r\n\r\n", 0, 1024, &r), 0);
	assert_int_equal(r.status, 204);
	assert_string_equal(r.reason, "");
	assert_int_equal(r.body_len, 0);
	tf_http_response_release(&r);
	assert_int_equal(parse("HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n", 0, 1024, &r), 0);
	assert_int_equal(r.status, 404);
	tf_http_response_release(&r);
	/* what Go answers plain HTTP on a TLS port: HTTP/1.0, no length, body until close */
	assert_int_equal(parse("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an "
	                       "HTTPS server.\n",
	                       0, 1024, &r),
	                 TF_HTTP_INCOMPLETE);
	assert_int_equal(parse("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an "
	                       "HTTPS server.\n",
	                       1, 1024, &r),
	                 0);
	assert_int_equal(r.minor, 0);
	assert_int_equal(r.status, 400);
	assert_false(tf_http_body_is_json(&r));
	tf_http_response_release(&r);
	/* interim 100 Continue is skipped */
	assert_int_equal(parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
	                       "Content-Length: 2\r\n\r\n{}",
	                       0, 1024, &r),
	                 0);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.body, "{}");
	tf_http_response_release(&r);
	/* a reason phrase longer than the field is cut; a control byte in it is refused */
	{
		char s[400];

		snprintf(s, sizeof(s), "HTTP/1.1 200 %0200d\r\nContent-Length: 0\r\n\r\n", 0);
		assert_int_equal(parse(s, 0, 1024, &r), 0);
		assert_int_equal(strlen(r.reason), sizeof(r.reason) - 1);
		tf_http_response_release(&r);
		snprintf(s, sizeof(s), "HTTP/1.1 200 OK\x01\r\nContent-Length: 0\r\n\r\n");
		assert_int_equal(parse(s, 0, 1024, &r), TF_E_INPUT);
	}
	/* only HTTP/1.0 and 1.1; no bare CR; a body with no status line (HTTP/0.9 style) */
	assert_int_equal(parse("HTTP/1.2 200 OK\r\n\r\n", 1, 1024, &r), TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 200 OK\rX: y\r\n\r\n", 1, 1024, &r), TF_E_INPUT);
	assert_int_equal(parse("{\"action\":\"get\",\"node\":{\"dir\":true}}\n", 0, 1024, &r),
	                 TF_E_INPUT);
	assert_int_equal(parse("{\"action\":\"get\",\"node\":{\"dir\":true}}\n", 1, 1024, &r),
	                 TF_E_INPUT);
	/* bad ones */
	assert_int_equal(parse("HTTP/2 200 OK\r\n\r\n", 1, 1024, &r), TF_E_INPUT);
	assert_int_equal(parse("http/1.1 200 OK\r\n\r\n", 1, 1024, &r), TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 20 OK\r\n\r\n", 1, 1024, &r), TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 2000 OK\r\n\r\n", 1, 1024, &r), TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 099 Low\r\n\r\n", 1, 1024, &r), TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1  200 OK\r\n\r\n", 1, 1024, &r), TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.x 200 OK\r\n\r\n", 1, 1024, &r), TF_E_INPUT);
	assert_int_equal(parse("SSH-2.0-OpenSSH_9.2\r\n", 0, 1024, &r), TF_E_INPUT);
	assert_int_equal(parse("\x15\x03\x03\x00\x02\x02\x46", 0, 1024, &r), TF_E_INPUT);
	assert_int_equal(parse("", 1, 1024, &r), TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-", 1, 1024, &r), TF_E_INPUT);
}

static void test_headers_bad(void **state)
{
	struct tf_http_response r;

	(void)state;
	assert_int_equal(
	    parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", 0, 1024,
	          &r),
	    TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nab", 0, 1024, &r),
	                 TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
	                       0, 1024, &r),
	                 TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n", 0, 1024, &r),
	                 TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nNo colon\r\n\r\n", 0, 1024, &r), TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", 0, 1024, &r), TF_E_INPUT);
	/* issue 13 item 3: even equal duplicates are refused (readers disagree on them), and so
	 * are Content-Length with Transfer-Encoding, a folded header, a control byte */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length:2\r\n\r\nab",
	                       0, 1024, &r),
	                 TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n"
	                       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	                       0, 1024, &r),
	                 TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
	                       "\tapplication/json\r\nContent-Length: 2\r\n\r\n{}",
	                       0, 1024, &r),
	                 TF_E_INPUT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n", 0, 1024, &r), TF_E_INPUT);
}

static void test_bounds(void **state)
{
	struct tf_http_response r;
	struct tf_err err = {0};
	char *big;
	size_t n = TF_HTTP_HEADER_MAX + 100;

	(void)state;
	/* body cut at the bound */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 0, 4, &r),
	                 0);
	assert_true(r.truncated);
	assert_int_equal(r.body_len, 4);
	assert_string_equal(r.body, "0123");
	tf_http_response_release(&r);
	assert_false(r.short_read); /* cut by our bound, not by the peer */
	/* closed before Content-Length bytes came */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234", 1, 1024, &r),
	                 0);
	assert_true(r.truncated);
	assert_true(r.short_read);
	assert_int_equal(r.body_len, 5);
	tf_http_response_release(&r);
	/* closed before the last chunk */
	assert_int_equal(
	    parse("HTTP/1.1 404 No\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", 1, 1024, &r),
	    0);
	assert_true(r.short_read);
	tf_http_response_release(&r);
	/* close-delimited: the close is the end */
	assert_int_equal(parse("HTTP/1.0 400 Bad Request\r\n\r\nno", 1, 1024, &r), 0);
	assert_false(r.short_read);
	tf_http_response_release(&r);
	/* endless headers */
	big = malloc(n + 1);
	assert_non_null(big);
	memcpy(big, "HTTP/1.1 200 OK\r\n", 17);
	memset(big + 17, 'a', n - 17);
	big[n] = '\0';
	assert_int_equal(tf_http_parse_response(big, n, 0, 1024, &r, &err), TF_E_INPUT);
	free(big);
}

static void test_request(void **state)
{
	struct tf_err err = {0};
	char *req = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(tf_http_format_request("POST", "/v3/kv/range", "127.0.0.1", 2379,
	                                        "{\"key\":\"AA==\"}", &req, &len, &err),
	                 0);
	assert_int_equal(strlen(req), len);
	assert_non_null(strstr(req, "POST /v3/kv/range HTTP/1.1\r\n"));
	assert_non_null(strstr(req, "\r\nHost: 127.0.0.1:2379\r\n"));
	assert_non_null(strstr(req, "\r\nContent-Length: 14\r\n"));
	assert_non_null(strstr(req, "\r\nConnection: close\r\n\r\n{\"key\":\"AA==\"}"));
	free(req);
	req = NULL;
	assert_int_equal(
	    tf_http_format_request("GET", "/version", "::1", 2379, NULL, &req, &len, &err), 0);
	assert_non_null(strstr(req, "\r\nHost: [::1]:2379\r\n"));
	assert_null(strstr(req, "Content-Length"));
	free(req);
	req = NULL;
	/* no header injection through any part */
	assert_int_equal(
	    tf_http_format_request("GET", "/x\r\nEvil: 1", "h", 1, NULL, &req, &len, &err),
	    TF_E_USAGE);
	assert_int_equal(
	    tf_http_format_request("GET", "/x", "h\r\nEvil: 1", 1, NULL, &req, &len, &err),
	    TF_E_USAGE);
	assert_int_equal(tf_http_format_request("GET", "x", "h", 1, NULL, &req, &len, &err),
	                 TF_E_USAGE);
	assert_null(req);
}

static enum tf_probe_verdict cls(enum tf_probe_end end, int alert, const struct tf_http_response *r)
{
	struct tf_probe_outcome how = {end, alert};
	const char *why = NULL;
	enum tf_probe_verdict v = tf_scan_classify(&how, r, &why);

	assert_non_null(why);
	return v;
}

static void test_scan_verdicts(void **state)
{
	struct tf_http_response r;
	enum tf_probe_verdict v[3];

	(void)state;
	/* evidence of a refusal */
	assert_int_equal(cls(TF_END_REFUSED, -1, NULL), TF_PROBE_REFUSED);
	assert_int_equal(cls(TF_END_CLOSED, -1, NULL), TF_PROBE_REFUSED);
	assert_int_equal(cls(TF_END_NOT_TLS, -1, NULL), TF_PROBE_REFUSED);
	assert_int_equal(cls(TF_END_TLS_ALERT, 116, NULL), TF_PROBE_REFUSED); /* TLS 1.3 */
	assert_int_equal(cls(TF_END_TLS_ALERT, 42, NULL), TF_PROBE_REFUSED);  /* Go, TLS 1.2 */
	assert_int_equal(cls(TF_END_TLS_ALERT, 40, NULL), TF_PROBE_REFUSED);  /* OpenSSL 1.2 */
	/* issue 13 item 3: no evidence is UNKNOWN, never REFUSED */
	assert_int_equal(cls(TF_END_TIMEOUT, -1, NULL), TF_PROBE_UNKNOWN);
	assert_int_equal(cls(TF_END_BAD_HTTP, -1, NULL), TF_PROBE_UNKNOWN);
	assert_int_equal(cls(TF_END_CUT, -1, NULL), TF_PROBE_UNKNOWN);
	assert_int_equal(cls(TF_END_TLS_ERROR, -1, NULL), TF_PROBE_UNKNOWN);
	assert_int_equal(cls(TF_END_ERROR, -1, NULL), TF_PROBE_UNKNOWN);
	assert_int_equal(cls(TF_END_TLS_ALERT, 70, NULL), TF_PROBE_UNKNOWN); /* protocol_version */
	assert_int_equal(cls(TF_END_ANSWER, -1, NULL), TF_PROBE_UNKNOWN);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 64, &r), 0);
	assert_int_equal(cls(TF_END_ANSWER, -1, &r), TF_PROBE_EXPOSED);
	assert_int_equal(cls(TF_END_CUT, -1, &r), TF_PROBE_EXPOSED); /* what came already shows */
	tf_http_response_release(&r);
	/* etcd 3.4 with v2 off: 404 text; Go's answer to plain HTTP on TLS: 400 text */
	assert_int_equal(parse("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
	                       "Content-Length: 19\r\n\r\n404 page not found\n",
	                       0, 64, &r),
	                 0);
	assert_int_equal(cls(TF_END_ANSWER, -1, &r), TF_PROBE_REFUSED);
	assert_int_equal(cls(TF_END_CUT, -1, &r), TF_PROBE_UNKNOWN); /* the rest could be JSON */
	tf_http_response_release(&r);
	/* an error that is still the API talking (JSON) counts as exposed */
	assert_int_equal(parse("HTTP/1.1 401 Unauthorized\r\nContent-Length: 40\r\n\r\n"
	                       "  {\"error\":\"etcdserver: user name empty\"}",
	                       0, 64, &r),
	                 0);
	assert_int_equal(cls(TF_END_ANSWER, -1, &r), TF_PROBE_EXPOSED);
	tf_http_response_release(&r);
	assert_int_equal(parse("HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
	                       "Content-Length: 0\r\n\r\n",
	                       0, 64, &r),
	                 0);
	assert_int_equal(cls(TF_END_ANSWER, -1, &r), TF_PROBE_EXPOSED);
	tf_http_response_release(&r);
	assert_int_equal(parse("HTTP/1.1 299 Odd\r\nContent-Length: 0\r\n\r\n", 0, 64, &r), 0);
	assert_int_equal(cls(TF_END_ANSWER, -1, &r), TF_PROBE_EXPOSED);
	tf_http_response_release(&r);
	assert_int_equal(parse("HTTP/1.1 301 Moved\r\nContent-Length: 3\r\n\r\nabc", 0, 64, &r), 0);
	assert_int_equal(cls(TF_END_ANSWER, -1, &r), TF_PROBE_REFUSED);
	tf_http_response_release(&r);

	v[0] = v[1] = v[2] = TF_PROBE_REFUSED;
	assert_int_equal(tf_scan_endpoint_verdict(v, 3), TF_SCAN_FIXED);
	v[1] = TF_PROBE_UNKNOWN;
	assert_int_equal(tf_scan_endpoint_verdict(v, 3), TF_SCAN_UNKNOWN);
	v[2] = TF_PROBE_EXPOSED;
	assert_int_equal(tf_scan_endpoint_verdict(v, 3), TF_SCAN_VULNERABLE);
	assert_int_equal(tf_scan_endpoint_verdict(v, 2), TF_SCAN_UNKNOWN);
	assert_string_equal(tf_scan_verdict_name(TF_SCAN_UNKNOWN), "UNKNOWN");
	assert_string_equal(tf_probe_verdict_name(TF_PROBE_UNKNOWN), "UNKNOWN");
}

static void test_endpoints(void **state)
{
	struct tf_err err = {0};
	char *host = NULL;
	unsigned port = 0;

	(void)state;
	assert_int_equal(
	    tf_scan_parse_endpoint("https://127.0.0.11:2379", 2379, &host, &port, &err), 0);
	assert_string_equal(host, "127.0.0.11");
	assert_int_equal(port, 2379);
	free(host);
	assert_int_equal(
	    tf_scan_parse_endpoint("http://pd-1.example:12379/", 2379, &host, &port, &err), 0);
	assert_string_equal(host, "pd-1.example");
	assert_int_equal(port, 12379);
	free(host);
	assert_int_equal(tf_scan_parse_endpoint("[::1]:2380", 0, &host, &port, &err), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 2380);
	free(host);
	assert_int_equal(tf_scan_parse_endpoint("10.0.0.1", 2379, &host, &port, &err), 0);
	assert_int_equal(port, 2379);
	free(host);
	host = NULL;
	assert_int_equal(tf_scan_parse_endpoint("10.0.0.1", 0, &host, &port, &err), TF_E_USAGE);
	assert_int_equal(tf_scan_parse_endpoint("10.0.0.1:0", 0, &host, &port, &err), TF_E_USAGE);
	assert_int_equal(tf_scan_parse_endpoint("10.0.0.1:65536", 0, &host, &port, &err),
	                 TF_E_USAGE);
	assert_int_equal(tf_scan_parse_endpoint("10.0.0.1:23x", 0, &host, &port, &err), TF_E_USAGE);
	assert_int_equal(tf_scan_parse_endpoint(":2379", 0, &host, &port, &err), TF_E_USAGE);
	assert_int_equal(tf_scan_parse_endpoint("[::1", 0, &host, &port, &err), TF_E_USAGE);
	assert_int_equal(tf_scan_parse_endpoint("a b:1", 0, &host, &port, &err), TF_E_USAGE);
	assert_null(host);
}

/* A report built by hand, as tf_verify_run would leave it. */
static void fake_report(struct tf_verify_report *rep)
{
	static const char *ids[] = {"tls.handshake", "pd.members-https", "scan.verdict"};
	static const enum tf_vstatus st[] = {TF_V_PASS, TF_V_FAIL, TF_V_WARN};
	size_t i;

	tf_verify_report_init(rep);
	rep->nchecks = 3;
	rep->nendpoints = 2;
	rep->checks = calloc(3, sizeof(*rep->checks));
	assert_non_null(rep->checks);
	rep->cluster = strdup("lab");
	rep->created = 1795800000;
	for (i = 0; i < 3; i++) {
		rep->checks[i].id = strdup(ids[i]);
		rep->checks[i].target = strdup("pd pd-1 127.0.0.1:2379");
		rep->checks[i].endpoint = strdup("127.0.0.1:2379");
		rep->checks[i].kind = TF_VK_PD;
		rep->checks[i].status = st[i];
		rep->checks[i].detail = strdup(i == 1 ? "member pd-2 has peer URL http://x" : "ok");
		rep->checks[i].evidence = strdup("{\"sha256\":\"ab\"}");
		rep->counts[st[i]]++;
	}
}

static void test_render(void **state)
{
	struct tf_verify_report rep;
	struct tf_err err = {0};
	char *text = NULL;
	size_t len = 0;

	(void)state;
	fake_report(&rep);
	assert_int_equal(tf_verify_exit_code(&rep), 1);
	assert_int_equal(tf_verify_render_text(&rep, 0, 0, 1, &text, &err), 0);
	assert_non_null(strstr(text, "fail pd.members-https pd pd-1 127.0.0.1:2379: member pd-2"));
	assert_null(strstr(text, "\033["));
	assert_non_null(strstr(text, "1 pass, 1 warn, 1 fail, 0 skip, 0 unknown: FAIL"));
	free(text);
	/* quiet: failures and warnings only */
	assert_int_equal(tf_verify_render_text(&rep, 1, 1, 0, &text, &err), 0);
	assert_null(strstr(text, "tls.handshake"));
	assert_non_null(strstr(text, "STATUS"));
	assert_non_null(strstr(text, "\033[1;31mfail"));
	free(text);
	assert_int_equal(tf_verify_render_json(&rep, NULL, NULL, &text, &len, &err), 0);
	assert_int_equal(strlen(text), len);
	assert_int_equal(text[len - 1], '\n');
	assert_non_null(strstr(text, "\"result\":\t\"fail\""));
	assert_null(strstr(text, "signer"));
	free(text);
	/* issue 13 item 3: a check that could not decide (no failure) is exit 4 and result
	 * "unknown", never "pass"; it shows in quiet mode */
	rep.counts[TF_V_FAIL]--;
	rep.checks[1].status = TF_V_UNKNOWN;
	rep.counts[TF_V_UNKNOWN]++;
	assert_int_equal(tf_verify_exit_code(&rep), TF_EXIT_UNKNOWN);
	assert_int_equal(tf_verify_render_text(&rep, 0, 0, 0, &text, &err), 0);
	assert_non_null(strstr(text, "unknown pd.members-https"));
	assert_non_null(strstr(text, "0 fail, 0 skip, 1 unknown: UNKNOWN"));
	free(text);
	assert_int_equal(tf_verify_render_json(&rep, NULL, NULL, &text, &len, &err), 0);
	assert_non_null(strstr(text, "\"result\":\t\"unknown\""));
	assert_non_null(strstr(text, "\"exit_code\":\t4"));
	assert_non_null(strstr(text, "\"unknown\":\t1"));
	free(text);
	tf_verify_report_release(&rep);
}

static void test_receipt(void **state)
{
	struct tf_verify_report rep;
	struct tf_verify_signer s;
	struct tf_sigkey *k = NULL, *k2 = NULL;
	struct tf_err err = {0};
	char *json = NULL, *pub = NULL, *summary = NULL;
	size_t len = 0, publen = 0;
	int created = 0;
	struct stat st;

	(void)state;
	tt_tmpdir();
	fake_report(&rep);
	/* first use makes the host key, 0600, with its .pub */
	assert_int_equal(tf_receipt_key_open(NULL, NULL, "state", &k, &created, &err), 0);
	assert_true(created);
	assert_int_equal(stat("state/receipt.key", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat("state/receipt.pub", &st), 0);
	tf_sigkey_free(k);
	k = NULL;
	assert_int_equal(tf_receipt_key_open(NULL, NULL, "state", &k, &created, &err), 0);
	assert_false(created);
	assert_int_equal(tf_sigkey_public_pem(k, &pub, &publen, &err), 0);
	s.keyid = tf_sigkey_id(k);
	s.alg = tf_sigalg_name(tf_sigkey_alg(k));
	s.public_key = pub;
	assert_int_equal(
	    tf_verify_render_json(&rep, "0123456789abcdef0123456789abcdef", &s, &json, &len, &err),
	    0);
	assert_non_null(strstr(json, "\"format\":\t\"tiferry-receipt/1\""));
	assert_int_equal(tf_receipt_write("r.json", json, len, k, &err), 0);
	assert_int_equal(tf_receipt_verify("r.json", "state/receipt.pub", &summary, &err), 0);
	assert_non_null(strstr(summary, "cluster lab, bundle 0123456789abcdef0123456789abcdef"));
	assert_non_null(strstr(summary, "1 pass, 1 warn, 1 fail"));
	assert_non_null(strstr(summary, "with the given key"));
	free(summary);
	summary = NULL;
	/* unpinned: verifies with the embedded key, and says it proves integrity only */
	assert_int_equal(tf_receipt_verify("r.json", NULL, &summary, &err), 0);
	assert_non_null(strstr(summary, "NOT pinned"));
	free(summary);
	summary = NULL;
	/* stock openssl agrees (Ed25519) */
	assert_int_equal(tt_sh("openssl pkeyutl -verify -pubin -inkey state/receipt.pub -rawin "
	                       "-in r.json -sigfile r.json.sig >/dev/null 2>&1"),
	                 0);
	/* another key: rejected, pinned or named */
	assert_int_equal(tf_sigkey_generate(TF_SIG_ECDSA_P256, &k2, &err), 0);
	{
		char *p2 = NULL;
		size_t l2 = 0;

		assert_int_equal(tf_sigkey_public_pem(k2, &p2, &l2, &err), 0);
		tt_write("other.pub", p2, l2);
		free(p2);
	}
	assert_int_equal(tf_receipt_verify("r.json", "other.pub", &summary, &err), TF_E_REJECT);
	/* one byte changed: rejected, with and without a pinned key */
	strstr(json, "member pd-2")[7] ^= 1;
	tt_write("r.json", json, len);
	assert_int_equal(tf_receipt_verify("r.json", "state/receipt.pub", &summary, &err),
	                 TF_E_REJECT);
	assert_int_equal(tf_receipt_verify("r.json", NULL, &summary, &err), TF_E_REJECT);
	assert_null(summary);
	/* not a receipt */
	tt_write_str("x.json", "{\"format\":\"other\"}");
	tt_write_str("x.json.sig", "x");
	assert_int_equal(tf_receipt_verify("x.json", NULL, &summary, &err), TF_E_INPUT);
	free(json);
	free(pub);
	tf_sigkey_free(k);
	tf_sigkey_free(k2);
	tf_verify_report_release(&rep);
	tt_cleanup();
}

static int receipt_verify_main(int argc, char **argv)
{
	struct tf_err err = {0};
	char *summary = NULL;
	int r = tf_receipt_verify(argv[2], argc > 3 ? argv[3] : NULL, &summary, &err);

	if (r != 0) {
		fprintf(stderr, "receipt: %s\n", err.msg);
		return tf_err_exit_code(r);
	}
	printf("%s\n", summary);
	free(summary);
	return 0;
}

/* ---- host checks (verify_host.c): the node command run here with sh, its parsing, the
 * verdicts; TiUP versions and mirrors ---- */

/* Runs the node command for role in deploy folder d with sh, as a node would; caller frees. */
static char *run_node_command(const char *d, const char *role)
{
	char *cmd = tf_vhost_node_command(d, role), *out = NULL;
	size_t len = 0, cap = 0;
	char buf[4096];
	FILE *f;

	assert_non_null(cmd);
	tt_write_str("cmd.sh", cmd);
	free(cmd);
	f = popen("sh cmd.sh", "r");
	assert_non_null(f);
	for (;;) {
		size_t n = fread(buf, 1, sizeof(buf), f);

		if (n == 0)
			break;
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		memcpy(out + len, buf, n);
		len += n;
	}
	assert_int_equal(pclose(f), 0);
	if (out == NULL)
		out = calloc(1, 1);
	assert_non_null(out);
	out[len] = '\0';
	return out;
}

static void node_facts(const char *d, const char *role, struct tf_vhost_node *n)
{
	struct tf_err err = {0};
	char *out = run_node_command(d, role);

	tf_vhost_node_init(n);
	assert_int_equal(tf_vhost_node_parse(out, role, n, &err), 0);
	free(out);
}

static void test_node_command(void **state)
{
	char *c;

	(void)state;
	c = tf_vhost_node_command("/tidb-deploy/pd-2379/", "pd");
	assert_non_null(c);
	assert_non_null(strstr(c, "cd '/tidb-deploy/pd-2379/tls'"));
	assert_non_null(strstr(c, "pd.pem"));
	/* the private key is only ever hashed on the host */
	assert_null(strstr(c, "cat pd.pem"));
	free(c);
	c = tf_vhost_node_command("/it's here", "tikv");
	assert_non_null(c);
	assert_non_null(strstr(c, "'/it'\\''s here/tls'"));
	free(c);
	assert_null(tf_vhost_node_command("/d", "pd;rm -rf /"));
	assert_null(tf_vhost_node_command("/d", ""));
	assert_null(tf_vhost_node_command(NULL, "pd"));
}

static void test_node_verdicts(void **state)
{
	struct tf_vhost_node n;
	struct tf_vhost_cert f;
	struct tf_err err = {0};
	char d[600], ca_sha[TF_SHA256_HEX];

	(void)state;
	tt_tmpdir();
	/* the control host's CA, a node certificate it signed, another CA */
	assert_int_equal(
	    tt_sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.pem -out ca.crt -subj "
	          "/CN=ca -days 30 2>/dev/null && openssl req -x509 -newkey rsa:2048 -nodes "
	          "-keyout other.pem -out other.crt -subj /CN=other -days 30 2>/dev/null && "
	          "mkdir -p dep/tls && cp ca.crt dep/tls/ && openssl req -new -newkey rsa:2048 "
	          "-nodes -keyout dep/tls/pd.pem -out pd.csr -subj /CN=pd 2>/dev/null && openssl "
	          "x509 -req -in pd.csr -CA ca.crt -CAkey ca.pem -CAcreateserial -out "
	          "dep/tls/pd.crt -days 30 2>/dev/null && chmod 600 dep/tls/pd.pem"),
	    0);
	assert_int_equal(tf_cert_file_sha256("ca.crt", ca_sha, &err), 0);

	node_facts("dep", "pd", &n);
	assert_true(n.dir_present);
	assert_true(n.files[TF_VHOST_KEY].present);
	assert_int_equal(n.files[TF_VHOST_KEY].mode, 0600);
	assert_string_equal(n.files[TF_VHOST_CERT].type, "regular file");
	assert_int_equal(strlen(n.key_pub), 64);
	assert_int_equal(tf_vhost_judge_dir(&n, d, sizeof(d)), TF_V_PASS);
	assert_int_equal(tf_vhost_judge_key_mode(&n, NULL, d, sizeof(d)), TF_V_PASS);
	assert_int_equal(tf_vhost_judge_cert(&n, "ca.crt", ca_sha, &f, d, sizeof(d)), TF_V_PASS);
	assert_true(f.chain_ok);
	assert_true(f.key_matches);
	assert_string_equal(f.node_ca_sha256, ca_sha);
	tf_vhost_node_release(&n);

	/* o+r and g+r on the key fail; g+w too */
	assert_int_equal(tt_sh("chmod 604 dep/tls/pd.pem"), 0);
	node_facts("dep", "pd", &n);
	assert_int_equal(tf_vhost_judge_key_mode(&n, NULL, d, sizeof(d)), TF_V_FAIL);
	assert_non_null(strstr(d, "pd.pem has mode 0604: readable by others"));
	tf_vhost_node_release(&n);
	assert_int_equal(tt_sh("chmod 640 dep/tls/pd.pem"), 0);
	node_facts("dep", "pd", &n);
	assert_int_equal(tf_vhost_judge_key_mode(&n, NULL, d, sizeof(d)), TF_V_FAIL);
	assert_non_null(strstr(d, "readable by its group"));
	tf_vhost_node_release(&n);
	assert_int_equal(tt_sh("chmod 620 dep/tls/pd.pem"), 0);
	node_facts("dep", "pd", &n);
	assert_int_equal(tf_vhost_judge_key_mode(&n, NULL, d, sizeof(d)), TF_V_FAIL);
	tf_vhost_node_release(&n);
	assert_int_equal(tt_sh("chmod 400 dep/tls/pd.pem"), 0);
	node_facts("dep", "pd", &n);
	assert_int_equal(tf_vhost_judge_key_mode(&n, NULL, d, sizeof(d)), TF_V_PASS);
	tf_vhost_node_release(&n);
	/* TiUP's own mode (issue 12 §2c) fails; so does a key the deploy user does not own */
	assert_int_equal(tt_sh("chmod 644 dep/tls/pd.pem"), 0);
	node_facts("dep", "pd", &n);
	assert_int_equal(tf_vhost_judge_key_mode(&n, n.files[TF_VHOST_KEY].owner, d, sizeof(d)),
	                 TF_V_FAIL);
	assert_non_null(strstr(d, "pd.pem has mode 0644: readable by others"));
	tf_vhost_node_release(&n);
	assert_int_equal(tt_sh("chmod 600 dep/tls/pd.pem"), 0);
	node_facts("dep", "pd", &n);
	assert_true(n.files[TF_VHOST_KEY].owner[0] != '\0');
	assert_int_equal(tf_vhost_judge_key_mode(&n, n.files[TF_VHOST_KEY].owner, d, sizeof(d)),
	                 TF_V_PASS);
	assert_int_equal(tf_vhost_judge_key_mode(&n, "tidb-not-owner", d, sizeof(d)), TF_V_FAIL);
	assert_non_null(strstr(d, "not the deploy user tidb-not-owner"));
	tf_vhost_node_release(&n);

	/* a key that is not the certificate's */
	assert_int_equal(tt_sh("cp dep/tls/pd.pem pd.pem.keep && cp other.pem dep/tls/pd.pem"), 0);
	node_facts("dep", "pd", &n);
	assert_int_equal(tf_vhost_judge_cert(&n, "ca.crt", ca_sha, &f, d, sizeof(d)), TF_V_FAIL);
	assert_false(f.key_matches);
	assert_non_null(strstr(d, "pd.pem does not hold the key of pd.crt"));
	tf_vhost_node_release(&n);
	/* an unreadable key: never taken for a match */
	assert_int_equal(tt_sh("echo garbage > dep/tls/pd.pem"), 0);
	node_facts("dep", "pd", &n);
	assert_string_equal(n.key_pub, "");
	assert_int_equal(tf_vhost_judge_cert(&n, "ca.crt", ca_sha, &f, d, sizeof(d)), TF_V_FAIL);
	assert_non_null(strstr(d, "could not read the key"));
	tf_vhost_node_release(&n);
	assert_int_equal(tt_sh("cp pd.pem.keep dep/tls/pd.pem"), 0);

	/* a certificate from another CA; then the node's ca.crt not the control host's */
	assert_int_equal(tt_sh("cp dep/tls/pd.crt pd.crt.keep && cp other.crt dep/tls/pd.crt"), 0);
	node_facts("dep", "pd", &n);
	assert_int_equal(tf_vhost_judge_cert(&n, "ca.crt", ca_sha, &f, d, sizeof(d)), TF_V_FAIL);
	assert_false(f.chain_ok);
	assert_non_null(strstr(d, "does not chain to the control host's CA"));
	tf_vhost_node_release(&n);
	assert_int_equal(tt_sh("cp pd.crt.keep dep/tls/pd.crt && cp other.crt dep/tls/ca.crt"), 0);
	node_facts("dep", "pd", &n);
	assert_int_equal(tf_vhost_judge_cert(&n, "ca.crt", ca_sha, &f, d, sizeof(d)), TF_V_FAIL);
	assert_non_null(strstr(d, "the node's ca.crt"));
	tf_vhost_node_release(&n);

	/* a missing file, a link, no folder */
	assert_int_equal(tt_sh("cp ca.crt dep/tls/ca.crt && rm dep/tls/pd.pem"), 0);
	node_facts("dep", "pd", &n);
	assert_int_equal(tf_vhost_judge_dir(&n, d, sizeof(d)), TF_V_FAIL);
	assert_non_null(strstr(d, "pd.pem missing"));
	assert_int_equal(tf_vhost_judge_key_mode(&n, NULL, d, sizeof(d)), TF_V_SKIP);
	tf_vhost_node_release(&n);
	assert_int_equal(tt_sh("ln -s ../../pd.pem.keep dep/tls/pd.pem"), 0);
	node_facts("dep", "pd", &n);
	assert_int_equal(tf_vhost_judge_dir(&n, d, sizeof(d)), TF_V_FAIL);
	assert_non_null(strstr(d, "pd.pem is a symbolic link"));
	tf_vhost_node_release(&n);
	{
		char *out = run_node_command("nowhere", "pd");

		tf_vhost_node_init(&n);
		assert_int_equal(tf_vhost_node_parse(out, "pd", &n, &err), 0);
		free(out);
	}
	assert_false(n.dir_present);
	assert_int_equal(tf_vhost_judge_dir(&n, d, sizeof(d)), TF_V_FAIL);
	assert_int_equal(tf_vhost_judge_key_mode(&n, NULL, d, sizeof(d)), TF_V_SKIP);
	assert_int_equal(tf_vhost_judge_cert(&n, "ca.crt", ca_sha, &f, d, sizeof(d)), TF_V_SKIP);
	tf_vhost_node_release(&n);
	/* an answer cut short is not taken as facts */
	tf_vhost_node_init(&n);
	assert_int_equal(
	    tf_vhost_node_parse("TF-DIR\nTF-FILE ca.crt 644 tidb regular file\n", "pd", &n, &err),
	    TF_E_INPUT);
	tf_vhost_node_release(&n);
	tt_cleanup();
}

static void test_tiup_versions(void **state)
{
	char v[64], d[400];

	(void)state;
	assert_int_equal(tf_vhost_find_version(
	                     "1.16.1 tiup\nGo Version: go1.21.4\nGit Ref: v1.16.1\n", v, sizeof(v)),
	                 0);
	assert_string_equal(v, "v1.16.1");
	assert_int_equal(
	    tf_vhost_find_version("tiup version 1.16.1 tiup\nGo Version: go1.21\n", v, sizeof(v)),
	    0);
	assert_string_equal(v, "v1.16.1");
	assert_int_equal(tf_vhost_find_version("cluster v8.1.0-beta.1, built", v, sizeof(v)), 0);
	assert_string_equal(v, "v8.1.0-beta.1");
	assert_int_equal(tf_vhost_find_version("Go Version: go1.21\nno version", v, sizeof(v)), -1);
	assert_int_equal(tf_vhost_find_version("1.16 only two parts", v, sizeof(v)), -1);

	assert_int_equal(tf_vhost_judge_version("tiup --version", "1.16.1 tiup\n", 0, "v1.16.1", v,
	                                        sizeof(v), d, sizeof(d)),
	                 TF_V_PASS);
	assert_int_equal(tf_vhost_judge_version("tiup --version", "1.16.10 tiup\n", 0, "v1.16.9", v,
	                                        sizeof(v), d, sizeof(d)),
	                 TF_V_PASS); /* numerically, not as text */
	assert_int_equal(tf_vhost_judge_version("tiup --version", "1.7.0 tiup\n", 0, "v1.16.1", v,
	                                        sizeof(v), d, sizeof(d)),
	                 TF_V_FAIL);
	assert_non_null(strstr(d, "reports v1.7.0, older than the bundle's v1.16.1"));
	assert_int_equal(tf_vhost_judge_version("tiup cluster:v1.16.1 --version",
	                                        "Error: component not installed\n", 1, "v1.16.1", v,
	                                        sizeof(v), d, sizeof(d)),
	                 TF_V_FAIL);
	assert_non_null(strstr(d, "exited with 1 (Error: component not installed)"));
	assert_int_equal(tf_vhost_judge_version("tiup --version", "nothing\n", 0, "1.16.1", v,
	                                        sizeof(v), d, sizeof(d)),
	                 TF_V_FAIL);
}

static void test_tiup_mirror(void **state)
{
	struct tf_tiup_state a, b;
	uint8_t r1[] = "{\"root\":1}", r2[] = "{\"root\":2}";
	char d[400];

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.mirror = b.mirror = (char *)"/srv/prod";
	a.has_root = b.has_root = 1;
	a.root = r1;
	b.root = r1;
	a.root_len = b.root_len = sizeof(r1) - 1;
	assert_int_equal(tf_vhost_judge_mirror(&a, &b, NULL, d, sizeof(d)), TF_V_PASS);
	b.root = r2;
	assert_int_equal(tf_vhost_judge_mirror(&a, &b, NULL, d, sizeof(d)), TF_V_FAIL);
	assert_non_null(strstr(d, "bin/root.json differs"));
	b.has_root = 0;
	assert_int_equal(tf_vhost_judge_mirror(&a, &b, NULL, d, sizeof(d)), TF_V_FAIL);
	assert_non_null(strstr(d, "is gone"));
	b.has_root = 1;
	b.root = r1;
	b.mirror = (char *)"/tmp/staging/mirror";
	assert_int_equal(tf_vhost_judge_mirror(&a, &b, NULL, d, sizeof(d)), TF_V_FAIL);
	assert_non_null(strstr(d, "TiUP uses mirror /tmp/staging/mirror"));
	/* TIUP_MIRRORS wins over tiup.toml, as in TiUP */
	b.has_env = 1;
	b.env = (char *)"/srv/prod";
	assert_int_equal(tf_vhost_judge_mirror(&a, &b, NULL, d, sizeof(d)), TF_V_PASS);
	/* issue 12 §3: the bundle's tiup.restore address is the mirror expected, with its own
	 * root.json; the one recorded before is then wrong */
	b.has_env = 0;
	b.mirror = (char *)"https://mirror.bank.example";
	b.root = r2;
	assert_int_equal(tf_vhost_judge_mirror(&a, &b, "https://mirror.bank.example", d, sizeof(d)),
	                 TF_V_PASS);
	assert_non_null(strstr(d, "the bundle's tiup.restore address, as expected"));
	assert_non_null(strstr(d, "/srv/prod"));
	assert_int_equal(tf_vhost_judge_mirror(&a, &b, NULL, d, sizeof(d)), TF_V_FAIL);
	b.mirror = (char *)"/srv/prod";
	b.root = r1;
	assert_int_equal(tf_vhost_judge_mirror(&a, &b, "https://mirror.bank.example", d, sizeof(d)),
	                 TF_V_FAIL);
	assert_non_null(
	    strstr(d, "expected https://mirror.bank.example, the bundle's tiup.restore"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_content_length), cmocka_unit_test(test_chunked),
	    cmocka_unit_test(test_chunked_bad),    cmocka_unit_test(test_status_line),
	    cmocka_unit_test(test_headers_bad),    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_request),        cmocka_unit_test(test_scan_verdicts),
	    cmocka_unit_test(test_endpoints),      cmocka_unit_test(test_render),
	    cmocka_unit_test(test_receipt),        cmocka_unit_test(test_node_command),
	    cmocka_unit_test(test_node_verdicts),  cmocka_unit_test(test_tiup_versions),
	    cmocka_unit_test(test_tiup_mirror),
	};

	if (argc >= 3 && strcmp(argv[1], "--receipt-verify") == 0)
		return receipt_verify_main(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
