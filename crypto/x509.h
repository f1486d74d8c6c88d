/* One certificate-info type for the whole program: what a certificate says (names, serial,
 * digests, SANs, validity, key), read from DER or PEM, and the checks every user shares: does it
 * chain to a CA, does a key belong to it, do its SANs cover a host. OpenSSL stays in x509.c. */
#ifndef TF_CRYPTO_X509_H
#define TF_CRYPTO_X509_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "common/hex.h"

#define TF_X509_NAME_MAX 512
#define TF_X509_SANS_MAX 512
#define TF_X509_REASON_MAX 160

/* What a certificate says, for display, the manifest and the verify checks. */
struct tf_x509_info {
	char subject[TF_X509_NAME_MAX]; /* RFC 2253, e.g. "CN=x,O=Bank" */
	char issuer[TF_X509_NAME_MAX];
	char serial[80];                      /* uppercase hex */
	char sha256[TF_SHA256_HEX];           /* lowercase hex SHA-256 of the DER */
	char fingerprint[TF_FINGERPRINT_LEN]; /* "sha256:" and the same hex, as the manifest says it
	                                       */
	char sans[TF_X509_SANS_MAX];          /* "DNS:localhost, IP:127.0.0.1" (cut to fit) */
	time_t not_before, not_after;
	unsigned key_bits; /* RSA modulus bits, 0 for other keys */
	int is_ca;         /* basicConstraints CA:TRUE */
};

/* Fills *out from one DER certificate. TF_E_INPUT when der is not one. */
int tf_x509_info_der(const uint8_t *der, size_t len, struct tf_x509_info *out,
                     struct tf_err *err) TF_MUST_CHECK;
/* Fills *out from the first certificate of PEM text (len bytes). TF_E_INPUT when there is none. */
int tf_x509_info_pem(const char *pem, size_t len, struct tf_x509_info *out,
                     struct tf_err *err) TF_MUST_CHECK;

/* The CAs a certificate is checked against: PEM text, or (pem NULL) a PEM file. Every
 * certificate given is trusted. */
struct tf_x509_anchor {
	const char *pem;
	size_t len;
	const char *file;
	int partial; /* 1: a CA that is not self-signed may end the chain (an intermediate) */
	time_t at;   /* the time of the check; 0: now */
};

/* Whether the first certificate of pem (len bytes) chains to a's CAs: 0 with *ok 1 when it
 * does, *ok 0 and OpenSSL's reason in reason when it does not. TF_E_INPUT (reason untouched)
 * when the certificate or the CAs cannot be read. */
int tf_x509_verify_pem(const char *pem, size_t len, const struct tf_x509_anchor *a, int *ok,
                       char reason[TF_X509_REASON_MAX], struct tf_err *err) TF_MUST_CHECK;

/* 0 when the PEM private key key_pem (unencrypted; PKCS#1 or PKCS#8) belongs to the first
 * certificate of cert_pem; TF_E_INPUT saying which of "not a PEM certificate", "the key does not
 * parse", "the key does not match the certificate". */
int tf_x509_check_key(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                      struct tf_err *err) TF_MUST_CHECK;

/* 1 when the DER certificate's SANs cover host (an IP address or a DNS name; never the CN),
 * 0 when not or der is not a certificate. */
int tf_x509_covers_host(const uint8_t *der, size_t len, const char *host);

#endif
