/* Fuzz target: certificates from outside. The recipient certificate of `tls.recipients`
 * (crypto/secrets.c encrypts the key bundle to it), and the certificates the TLS probe and
 * verify read from servers and nodes (cluster/tlsprobe.c hands the peer's DER to crypto/x509.c):
 * info from PEM and DER, SAN coverage of a host, chain to itself, a key against it. */
#include "crypto/secrets.h"
#include "crypto/x509.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_secrets_recipients r = {(const char *)data, size, NULL, 0};
	struct tf_x509_anchor self = {(const char *)data, size, NULL, 1, 1700000000};
	struct tf_x509_info info;
	struct tf_err err;
	char *enc = NULL, reason[TF_X509_REASON_MAX];
	size_t enclen = 0;
	int ok = 0;

	if (tf_secrets_encrypt("k", 1, &r, &enc, &enclen, &err) == 0) {
		if (enc == NULL || enclen == 0)
			abort();
		free(enc);
	}
	if (tf_x509_info_pem((const char *)data, size, &info, &err) == 0) {
		if (strlen(info.subject) >= sizeof(info.subject) ||
		    strlen(info.sans) >= sizeof(info.sans))
			abort();
		if (tf_x509_verify_pem((const char *)data, size, &self, &ok, reason, &err) == 0 &&
		    !ok && strlen(reason) >= sizeof(reason))
			abort();
		/* a key in the same PEM text (a certificate and its key in one file) */
		if (tf_x509_check_key((const char *)data, size, (const char *)data, size, &err) !=
		        0 &&
		    err.msg[0] == '\0')
			abort();
	}
	if (tf_x509_info_der(data, size, &info, &err) == 0 &&
	    strncmp(info.fingerprint, "sha256:", 7))
		abort();
	(void)tf_x509_covers_host(data, size, "127.0.0.11");
	(void)tf_x509_covers_host(data, size, "pd.example.com");
	(void)tf_x509_covers_host(data, size, "::1");
	return 0;
}
