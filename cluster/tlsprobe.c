/* Sockets and OpenSSL for verify: non-blocking connects and I/O bounded by poll timeouts, TLS
 * handshakes that never abort on a bad chain (the chain is reported, not enforced, so the
 * evidence can say why), and certificate facts for files. */
#include "cluster/tlsprobe.h"
#include "common/hex.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define READ_CHUNK ((size_t)16384)

struct tf_tls_client {
	SSL_CTX *ctx;
	int has_ca;
};

/* Our message plus OpenSSL's reason (the short form when it has one); clears the queue. */
static int ssl_err(struct tf_err *err, int code, const char *fmt, ...) TF_PRINTF(3, 4);
static int ssl_err(struct tf_err *err, int code, const char *fmt, ...)
{
	unsigned long e = ERR_peek_last_error();
	char what[512], buf[256] = "";
	const char *reason = NULL;
	va_list ap;

	if (e != 0) {
		reason = ERR_reason_error_string(e);
		if (reason == NULL)
			ERR_error_string_n(e, buf, sizeof(buf));
		else
			snprintf(buf, sizeof(buf), "%s", reason);
	}
	ERR_clear_error();
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return tf_err_set(err, code, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

/* Never prompt for a passphrase: an encrypted key is an error, not a terminal question. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

void tf_tls_client_free(struct tf_tls_client *c)
{
	if (c == NULL)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

int tf_tls_client_new(const char *ca_file, const char *cert_file, const char *key_file,
                      struct tf_tls_client **out, struct tf_err *err)
{
	struct tf_tls_client *c = NULL;
	int r = 0;

	if ((cert_file == NULL) != (key_file == NULL))
		return tf_err_set(err, TF_E_USAGE,
		                  "a client certificate needs its key, and a key "
		                  "its certificate");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return tf_err_nomem(err);
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		r = ssl_err(err, TF_E_CRYPTO, "%s", "TLS context");
		goto out;
	}
	SSL_CTX_set_default_passwd_cb(c->ctx, no_passphrase);
	if (SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1) {
		r = ssl_err(err, TF_E_CRYPTO, "%s", "TLS context");
		goto out;
	}
	/* Verification is recorded, not enforced: the chain check reports it with its reason. */
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	if (ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL) != 1) {
			r = ssl_err(err, TF_E_INPUT, "CA file '%s'", ca_file);
			goto out;
		}
		c->has_ca = 1;
	}
	if (cert_file != NULL) {
		if (SSL_CTX_use_certificate_chain_file(c->ctx, cert_file) != 1) {
			r = ssl_err(err, TF_E_INPUT, "client certificate '%s'", cert_file);
			goto out;
		}
		if (SSL_CTX_use_PrivateKey_file(c->ctx, key_file, SSL_FILETYPE_PEM) != 1) {
			r = ssl_err(err, TF_E_INPUT, "client key '%s' (unencrypted PEM)", key_file);
			goto out;
		}
		if (SSL_CTX_check_private_key(c->ctx) != 1) {
			r = ssl_err(err, TF_E_INPUT,
			            "client key '%s' does not match the certificate", key_file);
			goto out;
		}
	}
	*out = c;
	c = NULL; /* transferred */
out:
	tf_tls_client_free(c);
	return r;
}

/* ---- sockets ---- */

const char *tf_probe_end_name(enum tf_probe_end e)
{
	static const char *const names[] = {"answer",   "refused",   "closed",  "tls-alert",
	                                    "not-tls",  "tls-error", "timeout", "cut",
	                                    "bad-http", "error"};

	return (size_t)e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A connection: plain (ssl NULL) or TLS, non-blocking, every wait bounded by timeout_ms and by
 * the probe's deadline; end and alert say how it failed. */
struct conn {
	int fd;
	SSL *ssl;
	int timeout_ms, deadline_ms;
	long long deadline_at; /* now_ms() when the probe must end */
	int handshaken;        /* the TLS handshake completed */
	enum tf_probe_end end;
	int alert;
	const char *host;
	unsigned port;
};

static void conn_init(struct conn *c, const struct tf_probe_target *t)
{
	c->fd = -1;
	c->ssl = NULL;
	c->timeout_ms = t->timeout_ms;
	c->deadline_ms =
	    t->deadline_ms > 0 ? t->deadline_ms : TF_PROBE_DEADLINE_FACTOR * t->timeout_ms;
	c->deadline_at = now_ms() + c->deadline_ms;
	c->handshaken = 0;
	c->end = TF_END_ERROR;
	c->alert = -1;
	c->host = t->host;
	c->port = t->port;
}

/* Waits for events on fd, at most timeout_ms and never past the deadline. 1 ready, or an error
 * (TF_END_TIMEOUT when either ran out) naming what and the peer. */
static int conn_wait(struct conn *c, int fd, short events, const char *what, struct tf_err *err)
{
	long long left = c->deadline_at - now_ms();
	int ms = c->timeout_ms, by_deadline = 0, n;
	struct pollfd p = {fd, events, 0};

	if (left <= ms) {
		ms = left > 0 ? (int)left : 0;
		by_deadline = 1;
	}
	do {
		n = poll(&p, 1, ms);
	} while (n < 0 && errno == EINTR);
	if (n > 0)
		return 1;
	if (n < 0) {
		c->end = TF_END_ERROR;
		return tf_err_sys(err, TF_E_IO, "%s %s:%u", what, c->host, c->port);
	}
	c->end = TF_END_TIMEOUT;
	if (by_deadline)
		return tf_err_set(err, TF_E_IO, "%s %s:%u: the probe's deadline of %d ms passed",
		                  what, c->host, c->port, c->deadline_ms);
	return tf_err_set(err, TF_E_IO, "%s %s:%u: timed out after %d ms", what, c->host, c->port,
	                  c->timeout_ms);
}

static int tcp_connect(const struct tf_probe_target *t, struct conn *c, struct tf_err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	int fd = -1, rc, r = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", t->port);
	c->end = TF_END_ERROR;
	if ((rc = getaddrinfo(t->host, port, &hints, &res)) != 0)
		return tf_err_set(err, TF_E_IO, "resolve '%s': %s", t->host, gai_strerror(rc));
	r = tf_err_set(err, TF_E_IO, "connect %s:%u: no address", t->host, t->port);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		c->end = TF_END_ERROR;
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			r = tf_err_sys(err, TF_E_IO, "socket");
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			r = 0;
			break;
		}
		if (errno == EINPROGRESS) {
			rc = conn_wait(c, fd, POLLOUT, "connect", err);
			if (rc != 1) {
				r = rc;
			} else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0) {
				if (soerr == 0) {
					r = 0;
					break;
				}
				errno = soerr;
				if (soerr == ECONNREFUSED)
					c->end = TF_END_REFUSED;
				r = tf_err_sys(err, TF_E_IO, "connect %s:%u", t->host, t->port);
			} else {
				r = tf_err_sys(err, TF_E_IO, "connect %s:%u", t->host, t->port);
			}
		} else {
			if (errno == ECONNREFUSED)
				c->end = TF_END_REFUSED;
			r = tf_err_sys(err, TF_E_IO, "connect %s:%u", t->host, t->port);
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (r == 0)
		c->fd = fd;
	return r;
}

static void conn_close(struct conn *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Bytes the peer has sent on this connection (TLS records included). */
static unsigned long long peer_bytes(const struct conn *c)
{
	BIO *b = c->ssl ? SSL_get_rbio(c->ssl) : NULL;

	return b ? (unsigned long long)BIO_number_read(b) : 0;
}

/* A close before the handshake's first byte, or after it, is the peer ending the exchange
 * without an answer; one in the middle of the handshake says nothing. */
static void tls_closed(struct conn *c)
{
	c->end = c->handshaken || peer_bytes(c) == 0 ? TF_END_CLOSED : TF_END_TLS_ERROR;
}

/* After an SSL call returned ret: 1 to retry once the socket is ready, or an error. */
static int ssl_retry(struct conn *c, int ret, const char *what, struct tf_err *err)
{
	int e = SSL_get_error(c->ssl, ret);
	unsigned long le;

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return conn_wait(c, c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, what, err);
	if (e == SSL_ERROR_ZERO_RETURN) {
		ERR_clear_error();
		tls_closed(c);
		return tf_err_set(err, TF_E_IO, "%s %s:%u: closed by the peer", what, c->host,
		                  c->port);
	}
	if (e == SSL_ERROR_SYSCALL && ERR_peek_last_error() == 0) {
		if (errno == 0 || errno == ECONNRESET || errno == EPIPE)
			tls_closed(c);
		else
			c->end = TF_END_ERROR;
		if (errno == 0)
			return tf_err_set(err, TF_E_IO, "%s %s:%u: closed by the peer", what,
			                  c->host, c->port);
		return tf_err_sys(err, TF_E_IO, "%s %s:%u", what, c->host, c->port);
	}
	le = ERR_peek_last_error();
	c->end = TF_END_TLS_ERROR;
	if (ERR_GET_LIB(le) == ERR_LIB_SSL) {
		int reason = ERR_GET_REASON(le);

		/* OpenSSL reports an alert from the peer as SSL_AD_REASON_OFFSET + its code. */
		if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
			c->end = TF_END_TLS_ALERT;
			c->alert = reason - SSL_AD_REASON_OFFSET;
		} else if (reason == SSL_R_WRONG_VERSION_NUMBER && !c->handshaken &&
		           SSL_get_state(c->ssl) == TLS_ST_CW_CLNT_HELLO) {
			/* The first record from the peer is not TLS: a plain server answered. */
			c->end = TF_END_NOT_TLS;
		}
	}
	{
		char head[200];

		snprintf(head, sizeof(head), "%s %s:%u", what, c->host, c->port);
		return ssl_err(err, TF_E_IO, "%s", head);
	}
}

static int conn_open(const struct tf_probe_target *t, const struct tf_tls_client *tls,
                     struct conn *c, struct tf_err *err)
{
	struct in6_addr a6;
	int r, ret;

	conn_init(c, t);
	if ((r = tcp_connect(t, c, err)) != 0)
		return r;
	if (tls == NULL)
		return 0;
	ERR_clear_error();
	c->end = TF_END_ERROR;
	if ((c->ssl = SSL_new(tls->ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		r = ssl_err(err, TF_E_CRYPTO, "%s", "TLS session");
		goto out;
	}
	/* SNI only for names: RFC 6066 forbids IP literals there. */
	if (inet_pton(AF_INET, t->host, &a6) != 1 && inet_pton(AF_INET6, t->host, &a6) != 1 &&
	    SSL_set_tlsext_host_name(c->ssl, t->host) != 1) {
		r = ssl_err(err, TF_E_CRYPTO, "%s", "TLS server name");
		goto out;
	}
	for (;;) {
		errno = 0;
		ret = SSL_connect(c->ssl);
		if (ret == 1)
			break;
		if ((r = ssl_retry(c, ret, "TLS handshake with", err)) != 1)
			goto out;
	}
	c->handshaken = 1;
	return 0;
out:
	/* the socket closes, the verdict stays */
	{
		enum tf_probe_end end = c->end;
		int alert = c->alert;

		conn_close(c);
		c->end = end;
		c->alert = alert;
	}
	return r;
}

static int conn_write(struct conn *c, const char *p, size_t n, struct tf_err *err)
{
	int r;

	while (n > 0) {
		if (c->ssl != NULL) {
			int ret;

			errno = 0;
			ret = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
			if (ret > 0) {
				p += ret;
				n -= (size_t)ret;
				continue;
			}
			if ((r = ssl_retry(c, ret, "write to", err)) != 1)
				return r;
		} else {
			ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

			if (w > 0) {
				p += w;
				n -= (size_t)w;
				continue;
			}
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
				if ((r = conn_wait(c, c->fd, POLLOUT, "write to", err)) != 1)
					return r;
				continue;
			}
			/* A peer that closes before reading the request may still have answered:
			 * that is not evidence either way. */
			c->end = TF_END_ERROR;
			return tf_err_sys(err, TF_E_IO, "write to %s:%u", c->host, c->port);
		}
	}
	return 0;
}

/* Reads up to n bytes: *got > 0, or 0 at the end of the stream. */
static int conn_read(struct conn *c, char *p, size_t n, size_t *got, struct tf_err *err)
{
	int r;

	for (;;) {
		if (c->ssl != NULL) {
			int ret;

			errno = 0;
			ret = SSL_read(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
			if (ret > 0) {
				*got = (size_t)ret;
				return 0;
			}
			if (SSL_get_error(c->ssl, ret) == SSL_ERROR_ZERO_RETURN) {
				*got = 0;
				return 0;
			}
			if ((r = ssl_retry(c, ret, "read from", err)) != 1)
				return r;
		} else {
			ssize_t g = recv(c->fd, p, n, 0);

			if (g >= 0) {
				*got = (size_t)g;
				return 0;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				if ((r = conn_wait(c, c->fd, POLLIN, "read from", err)) != 1)
					return r;
				continue;
			}
			c->end = errno == ECONNRESET ? TF_END_CLOSED : TF_END_ERROR;
			return tf_err_sys(err, TF_E_IO, "read from %s:%u", c->host, c->port);
		}
	}
}

/* ---- certificates ---- */

/* What x says, in the one certificate-info type (crypto/x509.h). */
static int fill_info(X509 *x, struct tf_cert_info *info, struct tf_err *err)
{
	unsigned char *der = NULL;
	int len, r;

	if ((len = i2d_X509(x, &der)) <= 0)
		return ssl_err(err, TF_E_CRYPTO, "%s", "certificate encoding");
	r = tf_x509_info_der(der, (size_t)len, &info->x509, err);
	OPENSSL_free(der);
	return r;
}

/* Whether x's SANs cover host (never the CN), through crypto/x509.h. */
static int host_covered(X509 *x, const char *host)
{
	unsigned char *der = NULL;
	int len, ok;

	if ((len = i2d_X509(x, &der)) <= 0)
		return 0;
	ok = tf_x509_covers_host(der, (size_t)len, host);
	OPENSSL_free(der);
	return ok;
}

int tf_probe_tls(const struct tf_probe_target *t, const struct tf_tls_client *c,
                 struct tf_cert_info *info, struct tf_err *err)
{
	struct tf_cert_info in;
	struct conn cn;
	X509 *peer = NULL;
	const char *v;
	long vr;
	int r;

	memset(&in, 0, sizeof(in));
	if ((r = conn_open(t, c, &cn, err)) != 0)
		return r;
	if ((peer = SSL_get1_peer_certificate(cn.ssl)) == NULL) {
		r = tf_err_set(err, TF_E_IO, "%s:%u sent no certificate", t->host, t->port);
		goto out;
	}
	snprintf(in.protocol, sizeof(in.protocol), "%s", SSL_get_version(cn.ssl));
	v = SSL_get_cipher_name(cn.ssl);
	snprintf(in.cipher, sizeof(in.cipher), "%s", v ? v : "?");
	if ((r = fill_info(peer, &in, err)) != 0)
		goto out;
	in.chain_checked = c->has_ca;
	vr = SSL_get_verify_result(cn.ssl);
	in.chain_ok = c->has_ca && vr == X509_V_OK;
	if (c->has_ca && vr != X509_V_OK)
		snprintf(in.chain_error, sizeof(in.chain_error), "%s",
		         X509_verify_cert_error_string(vr));
	in.host_ok = host_covered(peer, t->host);
	*info = in;
out:
	X509_free(peer);
	conn_close(&cn);
	return r;
}

/* What arrived when the stream ended early (eof set): a response that parses, else why not. */
static int parse_cut(const char *buf, size_t len, size_t max_body, struct tf_http_response *resp,
                     enum tf_probe_end *end, struct tf_err *err)
{
	struct tf_http_response tmp;
	struct tf_err e2;
	int r = tf_http_parse_response(buf, len, 1, max_body, resp, err);

	if (r == 0) {
		*end = resp->short_read ? TF_END_CUT : TF_END_ANSWER;
		return 0;
	}
	/* A head that was only cut short is a cut answer; one that can never parse is not HTTP. */
	tf_http_response_init(&tmp);
	switch (tf_http_parse_response(buf, len, 0, max_body, &tmp, &e2)) {
	case TF_HTTP_INCOMPLETE:
		*end = TF_END_CUT;
		break;
	case 0:
		tf_http_response_release(&tmp);
		*end = TF_END_CUT;
		break;
	default:
		*end = TF_END_BAD_HTTP;
	}
	return r;
}

int tf_probe_http(const struct tf_probe_target *t, const struct tf_tls_client *c,
                  const char *method, const char *path, const char *body, size_t max_body,
                  struct tf_http_response *resp, struct tf_probe_outcome *how, struct tf_err *err)
{
	struct conn cn;
	char *req = NULL, *buf = NULL;
	size_t reqlen = 0, len = 0, cap = 0, limit = TF_HTTP_HEADER_MAX + 2 * max_body + 4096;
	enum tf_probe_end end = TF_END_ERROR;
	int r;

	cn.fd = -1;
	cn.ssl = NULL;
	cn.alert = -1;
	if ((r = tf_http_format_request(method, path, t->host, t->port, body, &req, &reqlen,
	                                err)) != 0)
		goto out;
	if ((r = conn_open(t, c, &cn, err)) != 0) {
		end = cn.end;
		goto out;
	}
	if ((r = conn_write(&cn, req, reqlen, err)) != 0) {
		end = cn.end;
		goto out;
	}
	for (;;) {
		size_t got = 0;
		struct tf_err rerr;
		int eof = 0;

		if (len + READ_CHUNK > cap) {
			size_t ncap = cap ? cap * 2 : 2 * READ_CHUNK;
			char *nb;

			if ((nb = realloc(buf, ncap)) == NULL) {
				r = tf_err_nomem(err);
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		r = conn_read(&cn, buf + len, READ_CHUNK, &got, &rerr);
		if (r != 0) {
			/* Before any byte the failure is the answer (closed, reset, alert,
			 * timeout). After some, a stall or a reset cuts the answer: what arrived is
			 * kept as evidence of exposure, never as evidence of a refusal. */
			*err = rerr;
			end = cn.end;
			if (len == 0)
				goto out;
			if (cn.end == TF_END_TIMEOUT) {
				struct tf_err perr;

				if (parse_cut(buf, len, max_body, resp, &end, &perr) == 0) {
					end = TF_END_CUT;
					r = 0;
				}
				goto out;
			}
			eof = 1; /* a reset after some bytes ends the stream */
		} else if (got == 0) {
			eof = 1;
		}
		len += got;
		if (len == 0 && eof) {
			end = TF_END_CLOSED;
			r = tf_err_set(err, TF_E_IO,
			               "%s:%u closed the connection without an answer", t->host,
			               t->port);
			goto out;
		}
		if (len >= limit)
			eof = 1;
		if (eof) {
			r = parse_cut(buf, len, max_body, resp, &end, err);
		} else {
			r = tf_http_parse_response(buf, len, 0, max_body, resp, err);
			if (r == TF_HTTP_INCOMPLETE)
				continue;
			end = r == 0 ? TF_END_ANSWER : TF_END_BAD_HTTP;
		}
		if (r != 0)
			tf_err_prefix(err, "%s:%u", t->host, t->port);
		goto out;
	}
out:
	conn_close(&cn);
	free(req);
	free(buf);
	if (how != NULL) {
		how->end = r == 0 && end != TF_END_CUT ? TF_END_ANSWER : end;
		how->tls_alert = how->end == TF_END_TLS_ALERT ? cn.alert : -1;
	}
	return r;
}

static X509 *read_cert(const char *path, struct tf_err *err)
{
	BIO *b = BIO_new_file(path, "r");
	X509 *x = NULL;

	if (b == NULL) {
		ssl_err(err, TF_E_INPUT, "read certificate '%s'", path);
		return NULL;
	}
	if ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) == NULL)
		ssl_err(err, TF_E_INPUT, "certificate '%s'", path);
	BIO_free(b);
	return x;
}

int tf_cert_file_sha256(const char *path, char out[TF_SHA256_HEX], struct tf_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	X509 *x = read_cert(path, err);

	if (x == NULL)
		return err ? err->code : TF_E_INPUT;
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32) {
		X509_free(x);
		return ssl_err(err, TF_E_CRYPTO, "%s", "certificate digest");
	}
	tf_hex_encode(md, mdlen, out);
	X509_free(x);
	return 0;
}

int tf_cert_file_info(const char *cert_file, const char *ca_file, const char *key_file,
                      struct tf_cert_info *info, int *key_matches, struct tf_err *err)
{
	struct tf_cert_info in;
	X509 *x = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *sctx = NULL;
	EVP_PKEY *key = NULL;
	BIO *kb = NULL;
	int r = 0, matches = 0;

	memset(&in, 0, sizeof(in));
	if ((x = read_cert(cert_file, err)) == NULL)
		return err ? err->code : TF_E_INPUT;
	if ((r = fill_info(x, &in, err)) != 0)
		goto out;
	if (ca_file != NULL) {
		in.chain_checked = 1;
		if ((store = X509_STORE_new()) == NULL || (sctx = X509_STORE_CTX_new()) == NULL) {
			r = ssl_err(err, TF_E_NOMEM, "%s", "certificate store");
			goto out;
		}
		if (X509_STORE_load_file(store, ca_file) != 1) {
			r = ssl_err(err, TF_E_INPUT, "CA file '%s'", ca_file);
			goto out;
		}
		if (X509_STORE_CTX_init(sctx, store, x, NULL) != 1) {
			r = ssl_err(err, TF_E_CRYPTO, "%s", "certificate store");
			goto out;
		}
		in.chain_ok = X509_verify_cert(sctx) == 1;
		if (!in.chain_ok)
			snprintf(in.chain_error, sizeof(in.chain_error), "%s",
			         X509_verify_cert_error_string(X509_STORE_CTX_get_error(sctx)));
		ERR_clear_error();
	}
	if (key_file != NULL) {
		if ((kb = BIO_new_file(key_file, "r")) == NULL) {
			r = ssl_err(err, TF_E_INPUT, "read key '%s'", key_file);
			goto out;
		}
		key = PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL);
		matches = key != NULL && X509_check_private_key(x, key) == 1;
		ERR_clear_error();
	}
	*info = in;
	*key_matches = matches;
out:
	EVP_PKEY_free(key);
	BIO_free(kb);
	X509_STORE_CTX_free(sctx);
	X509_STORE_free(store);
	X509_free(x);
	return r;
}
