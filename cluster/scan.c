/* The scanner's view of an endpoint: the unauthenticated probes that vulnerability scanners
 * send, what counts as exposed, and endpoint parsing for --pd and --scan. */
#include "cluster/scan.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum tf_probe_verdict tf_scan_classify(int answered, const struct tf_http_response *r)
{
	if (!answered || r == NULL)
		return TF_PROBE_REFUSED;
	if ((r->status >= 200 && r->status <= 299) || tf_http_body_is_json(r))
		return TF_PROBE_EXPOSED;
	return TF_PROBE_REFUSED;
}

int tf_scan_vulnerable(const enum tf_probe_verdict *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == TF_PROBE_EXPOSED)
			return 1;
	return 0;
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
