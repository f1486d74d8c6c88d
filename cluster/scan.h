/* The scanner's view of an endpoint (docs/verify.md): the unauthenticated probes that
 * vulnerability scanners send to etcd's API and to the status ports, the verdict on their
 * answers, and the parsing of HOST:PORT endpoints. Unit-tested on its own (test_verify.c). */
#ifndef TF_CLUSTER_SCAN_H
#define TF_CLUSTER_SCAN_H

#include <stddef.h>

#include "common/err.h"
#include "cluster/http.h"
#include "cluster/tlsprobe.h"

/* A probe's verdict: EXPOSED (etcd's data or a 2xx answered), REFUSED (evidence that nothing
 * answers without a client certificate), UNKNOWN (no evidence either way: the scanner may
 * still see data, e.g. after our timeout or through a looser HTTP parser). */
enum tf_probe_verdict { TF_PROBE_REFUSED = 0, TF_PROBE_EXPOSED = 1, TF_PROBE_UNKNOWN = 2 };

/* An endpoint's verdict: VULNERABLE when any probe is EXPOSED; else UNKNOWN when any probe is
 * UNKNOWN; FIXED only when every probe is REFUSED with evidence. */
enum tf_scan_verdict { TF_SCAN_FIXED = 0, TF_SCAN_VULNERABLE = 1, TF_SCAN_UNKNOWN = 2 };

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

/* The verdict on a probe that ended as how says, r its response (NULL when none; with
 * TF_END_CUT, what arrived of it). EXPOSED: a 2xx or a JSON body, even cut short. REFUSED only
 * on evidence: a refused connection, a close before any answer, a TLS alert asking for a
 * client certificate (handshake_failure, bad_certificate, certificate_required), a server that
 * does not speak TLS, or a whole well-formed answer that is neither. UNKNOWN otherwise: a
 * timeout or the deadline, an answer cut short, bytes that are not well-formed HTTP, any other
 * alert or error. *why (may be NULL) is a static phrase naming the evidence or its absence. */
enum tf_probe_verdict tf_scan_classify(const struct tf_probe_outcome *how,
                                       const struct tf_http_response *r, const char **why);
/* The endpoint's verdict from its probes' (see enum tf_scan_verdict). */
enum tf_scan_verdict tf_scan_endpoint_verdict(const enum tf_probe_verdict *v, size_t n);
/* "REFUSED", "EXPOSED", "UNKNOWN"; "FIXED", "VULNERABLE", "UNKNOWN". */
const char *tf_probe_verdict_name(enum tf_probe_verdict v);
const char *tf_scan_verdict_name(enum tf_scan_verdict v);

/* Splits "HOST:PORT", "[v6]:PORT" or a URL "http(s)://HOST:PORT[/...]" (default port
 * default_port when absent; 0 = required). *host is allocated (caller frees). */
int tf_scan_parse_endpoint(const char *s, unsigned default_port, char **host, unsigned *port,
                           struct tf_err *err) TF_MUST_CHECK;

#endif
