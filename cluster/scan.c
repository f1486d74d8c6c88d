/* The scanner's view of an endpoint: the unauthenticated probes that vulnerability scanners
 * send, what counts as exposed, and endpoint parsing for --pd and --scan. */
#include "cluster/scan.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* TLS alerts (RFC 8446 6.2) a server sends when the client brings no certificate: TLS 1.3's
 * certificate_required, and what TLS 1.2 servers send instead (Go: bad_certificate; OpenSSL:
 * handshake_failure). */
static int alert_wants_cert(int a)
{
	return a == 40 || a == 42 || a == 116;
}

static int looks_exposed(const struct tf_http_response *r)
{
	return r != NULL && ((r->status >= 200 && r->status <= 299) || tf_http_body_is_json(r));
}

enum tf_probe_verdict tf_scan_classify(const struct tf_probe_outcome *how,
                                       const struct tf_http_response *r, const char **why)
{
	const char *w = "no evidence";
	enum tf_probe_verdict v = TF_PROBE_UNKNOWN;

	switch (how->end) {
	case TF_END_ANSWER:
		if (looks_exposed(r)) {
			v = TF_PROBE_EXPOSED;
			w = "answered without a client certificate";
		} else if (r != NULL) {
			v = TF_PROBE_REFUSED;
			w = "a whole HTTP answer that is not etcd's";
		}
		break;
	case TF_END_CUT:
		if (looks_exposed(r)) {
			v = TF_PROBE_EXPOSED;
			w = "answered without a client certificate (cut short)";
		} else {
			w = "the answer stopped before its end: the rest could be etcd's";
		}
		break;
	case TF_END_REFUSED:
		v = TF_PROBE_REFUSED;
		w = "connection refused";
		break;
	case TF_END_CLOSED:
		v = TF_PROBE_REFUSED;
		w = "closed without an answer";
		break;
	case TF_END_NOT_TLS:
		v = TF_PROBE_REFUSED;
		w = "not a TLS server";
		break;
	case TF_END_TLS_ALERT:
		if (alert_wants_cert(how->tls_alert)) {
			v = TF_PROBE_REFUSED;
			w = "TLS alert: a client certificate is required";
		} else {
			w = "a TLS alert that does not ask for a client certificate: a client with "
			    "other TLS settings may be served";
		}
		break;
	case TF_END_TIMEOUT:
		w = "no answer in time: a patient scanner may still get one";
		break;
	case TF_END_BAD_HTTP:
		w = "not a well-formed HTTP response: a looser client may read etcd's answer in it";
		break;
	case TF_END_TLS_ERROR:
		w = "the TLS handshake failed without an alert asking for a certificate";
		break;
	case TF_END_ERROR:
		w = "the probe failed before any evidence";
		break;
	}
	if (why != NULL)
		*why = w;
	return v;
}

enum tf_scan_verdict tf_scan_endpoint_verdict(const enum tf_probe_verdict *v, size_t n)
{
	enum tf_scan_verdict out = TF_SCAN_FIXED;
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i] == TF_PROBE_EXPOSED)
			return TF_SCAN_VULNERABLE;
		if (v[i] != TF_PROBE_REFUSED)
			out = TF_SCAN_UNKNOWN;
	}
	return out;
}

const char *tf_probe_verdict_name(enum tf_probe_verdict v)
{
	return v == TF_PROBE_EXPOSED ? "EXPOSED" : v == TF_PROBE_REFUSED ? "REFUSED" : "UNKNOWN";
}

const char *tf_scan_verdict_name(enum tf_scan_verdict v)
{
	return v == TF_SCAN_VULNERABLE ? "VULNERABLE" : v == TF_SCAN_FIXED ? "FIXED" : "UNKNOWN";
}

/* The scanners' "etcd API unauthorized access" probes (docs/tiup.md §7). */
const struct tf_scan_probe tf_scan_etcd_probes[TF_SCAN_NETCD_PROBES] = {
    {"plain.v2-keys", 0, "GET", "/v2/keys/?recursive=true", NULL},
    {"plain.v3-kv-range", 0, "POST", "/v3/kv/range", "{\"key\":\"AA==\"}"},
    {"plain.version", 0, "GET", "/version", NULL},
    {"tls.v2-keys", 1, "GET", "/v2/keys/?recursive=true", NULL},
    {"tls.v3-kv-range", 1, "POST", "/v3/kv/range", "{\"key\":\"AA==\"}"},
    {"tls.version", 1, "GET", "/version", NULL},
};

/* Status ports (TiKV, TiDB, TiFlash) answer these without authentication when TLS is off. */
const struct tf_scan_probe tf_scan_status_probes[TF_SCAN_NSTATUS_PROBES] = {
    {"plain.status", 0, "GET", "/status", NULL},
    {"plain.metrics", 0, "GET", "/metrics", NULL},
    {"tls.status", 1, "GET", "/status", NULL},
    {"tls.metrics", 1, "GET", "/metrics", NULL},
};

int tf_scan_parse_endpoint(const char *s, unsigned default_port, char **host, unsigned *port,
                           struct tf_err *err)
{
	const char *p = s, *h, *hend, *colon;
	unsigned long v = default_port;
	char *end = NULL, *out;

	if (strncmp(p, "https://", 8) == 0)
		p += 8;
	else if (strncmp(p, "http://", 7) == 0)
		p += 7;
	if (*p == '[') {
		h = p + 1;
		if ((hend = strchr(h, ']')) == NULL)
			return tf_err_set(err, TF_E_USAGE, "bad endpoint '%s': no ']'", s);
		colon = hend[1] == ':' ? hend + 1 : NULL;
		if (hend[1] != '\0' && hend[1] != ':' && hend[1] != '/')
			return tf_err_set(err, TF_E_USAGE, "bad endpoint '%s'", s);
	} else {
		h = p;
		hend = p + strcspn(p, ":/");
		colon = *hend == ':' ? hend : NULL;
	}
	if (hend == h)
		return tf_err_set(err, TF_E_USAGE, "bad endpoint '%s': no host", s);
	if (colon != NULL) {
		errno = 0;
		v = strtoul(colon + 1, &end, 10);
		if (errno != 0 || end == colon + 1 || (*end != '\0' && *end != '/') || v == 0 ||
		    v > 65535)
			return tf_err_set(err, TF_E_USAGE, "bad endpoint '%s': bad port", s);
	} else if (default_port == 0) {
		return tf_err_set(err, TF_E_USAGE, "bad endpoint '%s': HOST:PORT expected", s);
	}
	for (const char *q = h; q < hend; q++)
		if (!isalnum((unsigned char)*q) && *q != '.' && *q != '-' && *q != ':' && *q != '_')
			return tf_err_set(err, TF_E_USAGE, "bad endpoint '%s': bad host", s);
	if ((out = strndup(h, (size_t)(hend - h))) == NULL)
		return tf_err_nomem(err);
	*host = out;
	*port = (unsigned)v;
	return 0;
}
