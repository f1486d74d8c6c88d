/* The scanner's view of an endpoint (docs/verify.md): the unauthenticated probes that
 * vulnerability scanners send to etcd's API and to the status ports, the verdict on their
 * answers, and the parsing of HOST:PORT endpoints. Unit-tested on its own (test_verify.c). */
#ifndef TF_CLUSTER_SCAN_H
#define TF_CLUSTER_SCAN_H

#include <stddef.h>

#include "common/err.h"
#include "cluster/http.h"

enum tf_probe_verdict { TF_PROBE_REFUSED = 0, TF_PROBE_EXPOSED = 1 };

struct tf_scan_probe {
	const char *id;
	int tls; /* over TLS without a client certificate and without checking the server */
	const char *method, *path, *body;
};

#define TF_SCAN_NETCD_PROBES 6
#define TF_SCAN_NSTATUS_PROBES 4
/* The scanners' "etcd API unauthorized access" probes (docs/tiup.md §7). */
extern const struct tf_scan_probe tf_scan_etcd_probes[TF_SCAN_NETCD_PROBES];
/* Status ports (TiKV, TiDB, TiFlash) answer these without authentication when TLS is off. */
extern const struct tf_scan_probe tf_scan_status_probes[TF_SCAN_NSTATUS_PROBES];

/* EXPOSED when the endpoint gave an HTTP answer (answered = 1, r its response) with a 2xx
 * status or a JSON body; REFUSED otherwise (no connection, handshake refused, closed, an error
 * page that is not JSON). */
enum tf_probe_verdict tf_scan_classify(int answered, const struct tf_http_response *r);
/* 1 (VULNERABLE) when any probe is EXPOSED, 0 (FIXED) otherwise. */
int tf_scan_vulnerable(const enum tf_probe_verdict *v, size_t n);

/* Splits "HOST:PORT", "[v6]:PORT" or a URL "http(s)://HOST:PORT[/...]" (default port
 * default_port when absent; 0 = required). *host is allocated (caller frees). */
int tf_scan_parse_endpoint(const char *s, unsigned default_port, char **host, unsigned *port,
                           struct tf_err *err) TF_MUST_CHECK;

#endif
