/* The network side of verify: TCP connects with timeouts, TLS handshakes that record what the
 * server showed (certificate, chain result, SANs), one HTTP request per connection, and the
 * same certificate facts for files on the control host. OpenSSL stays inside tlsprobe.c.
 * Writing to a socket the peer closed raises SIGPIPE: the program ignores it (cmd_verify.c). */
#ifndef TF_CLUSTER_TLSPROBE_H
#define TF_CLUSTER_TLSPROBE_H

#include <stddef.h>
#include <time.h>

#include "common/err.h"
#include "crypto/x509.h"
#include "common/hex.h"
#include "cluster/http.h"

/* A TLS client configuration shared by threads: the CA to check servers against (or none) and
 * the client certificate to present (or none). */
struct tf_tls_client;

/* ca_file NULL: the server's chain is not checked (the scanner's view). cert_file and key_file
 * both NULL: no client certificate. Caller frees with tf_tls_client_free. */
int tf_tls_client_new(const char *ca_file, const char *cert_file, const char *key_file,
                      struct tf_tls_client **out, struct tf_err *err) TF_MUST_CHECK;
void tf_tls_client_free(struct tf_tls_client *c);

/* A certificate met in a handshake or read from a file, and how it checks out. */
struct tf_cert_info {
	char protocol[16]; /* "TLSv1.3" (handshakes only) */
	char cipher[64];
	struct tf_x509_info x509; /* what the (leaf) certificate says */
	int chain_checked;        /* a CA was given */
	int chain_ok;             /* chains to that CA */
	char chain_error[160];    /* OpenSSL's reason when it does not */
	int host_ok;              /* the SANs cover the host (IP or DNS; never the CN) */
};

struct tf_probe_target {
	const char *host;
	unsigned port;
	int timeout_ms;  /* each connect and each wait for bytes */
	int deadline_ms; /* the whole exchange (connect, handshake, request, answer) on a monotonic
	                    clock, so a server that drips a byte per wait cannot hold a probe;
	                    0: TF_PROBE_DEADLINE_FACTOR x timeout_ms */
};

#define TF_PROBE_DEADLINE_FACTOR 3

/* How a probe's exchange ended: the scanner's verdict (cluster/scan.h) tells evidence that an
 * endpoint refuses (a refused connection, a close before any byte, a TLS alert, a server that
 * does not speak TLS, a whole answer) from the lack of it (a timeout, an answer cut short, bytes
 * that are not HTTP, any other error). */
enum tf_probe_end {
	TF_END_ANSWER = 0, /* a whole HTTP response was read */
	TF_END_REFUSED,    /* the TCP connection was refused */
	TF_END_CLOSED,     /* the peer closed or reset the connection before sending an answer */
	TF_END_TLS_ALERT,  /* the peer sent a TLS alert (tls_alert says which) */
	TF_END_NOT_TLS,    /* the peer answered the ClientHello with bytes that are not TLS */
	TF_END_TLS_ERROR,  /* another TLS failure: our own check, a close mid-handshake */
	TF_END_TIMEOUT,    /* a wait, or the probe's deadline, ran out */
	TF_END_CUT,        /* the answer stopped before its end (closed, reset or stalled) */
	TF_END_BAD_HTTP,   /* the bytes are not a well-formed HTTP/1.x response */
	TF_END_ERROR,      /* anything else: resolving, an unreachable network, writing, memory */
};

struct tf_probe_outcome {
	enum tf_probe_end end;
	int tls_alert; /* the alert's code (RFC 8446 6) with TF_END_TLS_ALERT, else -1 */
};

/* A short name for an end ("timeout", "tls-alert", ...), as recorded in evidence. */
const char *tf_probe_end_name(enum tf_probe_end e);

/* Connects and completes a TLS handshake with c, then fills *info (chain result against c's
 * CA, host coverage). Fails with the socket or OpenSSL reason when there is no session. */
int tf_probe_tls(const struct tf_probe_target *t, const struct tf_tls_client *c,
                 struct tf_cert_info *info, struct tf_err *err) TF_MUST_CHECK;

/* Sends one request (body NULL: none) over plain TCP (c NULL) or TLS with c, and reads the
 * response until it is complete, the peer closes, or max_body bytes of body are in. 0 with *resp
 * filled (release it); otherwise the reason there was no HTTP answer (refused, reset, timeout,
 * handshake alert, not HTTP). how (NULL: not wanted) says how the exchange ended, on success
 * too: TF_END_CUT with *resp filled is an answer that stopped early (what arrived of it). */
int tf_probe_http(const struct tf_probe_target *t, const struct tf_tls_client *c,
                  const char *method, const char *path, const char *body, size_t max_body,
                  struct tf_http_response *resp, struct tf_probe_outcome *how,
                  struct tf_err *err) TF_MUST_CHECK;

/* The facts of the certificate in cert_file, checked against ca_file (NULL: not checked);
 * *key_matches is 1 when key_file (NULL: not checked, 0) holds its private key. */
int tf_cert_file_info(const char *cert_file, const char *ca_file, const char *key_file,
                      struct tf_cert_info *info, int *key_matches,
                      struct tf_err *err) TF_MUST_CHECK;

/* SHA-256 (hex) of the first certificate in a PEM file. */
int tf_cert_file_sha256(const char *path, char out[TF_SHA256_HEX],
                        struct tf_err *err) TF_MUST_CHECK;

#endif
