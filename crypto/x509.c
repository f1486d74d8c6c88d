/* Certificates read and checked over OpenSSL: the facts of one certificate (struct
 * tf_x509_info), chain verification against given CAs, key and host matching. */
#include "crypto/x509.h"
#include "crypto/digest.h"
#include "crypto/ossl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define PEM_MAX (16u << 20) /* no PEM we read is near it */

/* A read-only memory BIO over len bytes; NULL beyond PEM_MAX. */
static BIO *mem_bio(const void *p, size_t len)
{
	return len <= PEM_MAX ? BIO_new_mem_buf(p, (int)len) : NULL;
}

static X509 *pem_first(const char *pem, size_t len)
{
	BIO *b = mem_bio(pem, len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return x;
}

static void name_into(const X509_NAME *name, char *out, size_t outlen)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;

	out[0] = '\0';
	if (mem != NULL && X509_NAME_print_ex(mem, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_get_mem_data(mem, &p)) > 0)
		snprintf(out, outlen, "%.*s", (int)n, p);
	BIO_free(mem);
}

static int asn1_time(const ASN1_TIME *a, time_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (a == NULL || ASN1_TIME_to_tm(a, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}

static void append(char *out, size_t len, const char *s)
{
	size_t used = strlen(out);

	if (used + 1 >= len)
		return;
	snprintf(out + used, len - used, "%s%s", used ? ", " : "", s);
}

static void sans_text(X509 *x, char *out, size_t len)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int i;

	out[0] = '\0';
	if (gens == NULL)
		return;
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char one[300], ip[INET6_ADDRSTRLEN];

		if (g->type == GEN_DNS) {
			const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
			int dl = ASN1_STRING_length(g->d.dNSName);

			snprintf(one, sizeof(one), "DNS:%.*s", dl > 250 ? 250 : dl,
			         (const char *)d);
		} else if (g->type == GEN_IPADD) {
			const unsigned char *d = ASN1_STRING_get0_data(g->d.iPAddress);
			int dl = ASN1_STRING_length(g->d.iPAddress);

			if ((dl == 4 && inet_ntop(AF_INET, d, ip, sizeof(ip)) != NULL) ||
			    (dl == 16 && inet_ntop(AF_INET6, d, ip, sizeof(ip)) != NULL))
				snprintf(one, sizeof(one), "IP:%s", ip);
			else
				snprintf(one, sizeof(one), "IP:?");
		} else {
			continue;
		}
		append(out, len, one);
	}
	GENERAL_NAMES_free(gens);
}

static int info_of(X509 *x, const uint8_t *der, size_t der_len, struct tf_x509_info *out,
                   struct tf_err *err)
{
	struct tf_x509_info in;
	EVP_PKEY *pk = X509_get0_pubkey(x);
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int r;

	memset(&in, 0, sizeof(in));
	name_into(X509_get_subject_name(x), in.subject, sizeof(in.subject));
	name_into(X509_get_issuer_name(x), in.issuer, sizeof(in.issuer));
	sans_text(x, in.sans, sizeof(in.sans));
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) == NULL ||
	    (hex = BN_bn2hex(bn)) == NULL || tf_sha256_hex(der, der_len, in.sha256) != 0 ||
	    asn1_time(X509_get0_notBefore(x), &in.not_before) != 0 ||
	    asn1_time(X509_get0_notAfter(x), &in.not_after) != 0) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "cannot read a certificate's fields");
		goto out;
	}
	snprintf(in.serial, sizeof(in.serial), "%s", hex);
	snprintf(in.fingerprint, sizeof(in.fingerprint), "sha256:%s", in.sha256);
	if (pk != NULL && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA)
		in.key_bits = (unsigned)EVP_PKEY_get_bits(pk);
	in.is_ca = (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
	*out = in;
	r = 0;
out:
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

int tf_x509_info_der(const uint8_t *der, size_t len, struct tf_x509_info *out, struct tf_err *err)
{
	const unsigned char *p = der;
	X509 *x = NULL;
	int r;

	if (len > PEM_MAX || (x = d2i_X509(NULL, &p, (long)len)) == NULL) {
		r = tf_ossl_fail(err, TF_E_INPUT, "not a DER certificate");
		goto out;
	}
	r = info_of(x, der, (size_t)(p - der), out, err);
out:
	X509_free(x);
	return r;
}

int tf_x509_info_pem(const char *pem, size_t len, struct tf_x509_info *out, struct tf_err *err)
{
	X509 *x = NULL;
	unsigned char *der = NULL;
	int n, r;

	if ((x = pem_first(pem, len)) == NULL) {
		r = tf_ossl_fail(err, TF_E_INPUT, "not a PEM certificate");
		goto out;
	}
	if ((n = i2d_X509(x, &der)) <= 0) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "cannot read a certificate's fields");
		goto out;
	}
	r = info_of(x, der, (size_t)n, out, err);
out:
	OPENSSL_free(der);
	X509_free(x);
	return r;
}

/* A store trusting every certificate of a's PEM text or file. */
static int load_anchor(const struct tf_x509_anchor *a, X509_STORE *store, struct tf_err *err)
{
	BIO *b;
	X509 *x;
	int n = 0;

	if (a->pem == NULL) {
		if (a->file == NULL || X509_STORE_load_file(store, a->file) != 1)
			return tf_ossl_fail(err, TF_E_INPUT, "cannot read the CA file '%s'",
			                    a->file ? a->file : "");
		return 0;
	}
	if ((b = mem_bio(a->pem, a->len)) == NULL)
		return tf_ossl_fail(err, TF_E_NOMEM, "out of memory");
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		int ok = X509_STORE_add_cert(store, x);

		X509_free(x);
		if (ok != 1) {
			BIO_free(b);
			return tf_ossl_fail(err, TF_E_INPUT, "cannot use the CA certificates");
		}
		n++;
	}
	BIO_free(b);
	ERR_clear_error(); /* "no start line" ends the loop */
	if (n == 0)
		return tf_err_set(err, TF_E_INPUT, "the CA holds no PEM certificate");
	return 0;
}

int tf_x509_verify_pem(const char *pem, size_t len, const struct tf_x509_anchor *a, int *ok,
                       char reason[TF_X509_REASON_MAX], struct tf_err *err)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *x = NULL;
	int r;

	if ((x = pem_first(pem, len)) == NULL) {
		r = tf_ossl_fail(err, TF_E_INPUT, "not a PEM certificate");
		goto out;
	}
	if ((store = X509_STORE_new()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL) {
		r = tf_ossl_fail(err, TF_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = load_anchor(a, store, err)) != 0)
		goto out;
	if (X509_STORE_CTX_init(ctx, store, x, NULL) != 1) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "cannot set up verification");
		goto out;
	}
	if (a->at != 0)
		X509_STORE_CTX_set_time(ctx, 0, a->at);
	if (a->partial)
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
	*ok = X509_verify_cert(ctx) == 1;
	if (!*ok)
		snprintf(reason, TF_X509_REASON_MAX, "%s",
		         X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	r = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(x);
	ERR_clear_error();
	return r;
}

int tf_x509_check_key(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                      struct tf_err *err)
{
	BIO *kb = NULL;
	X509 *x = NULL;
	EVP_PKEY *pk = NULL;
	int r;

	if ((x = pem_first(cert_pem, cert_len)) == NULL) {
		r = tf_ossl_fail(err, TF_E_INPUT, "not a PEM certificate");
		goto out;
	}
	if ((kb = mem_bio(key_pem, key_len)) == NULL ||
	    (pk = PEM_read_bio_PrivateKey(kb, NULL, tf_ossl_pass_cb, NULL)) == NULL) {
		r = tf_ossl_fail(err, TF_E_INPUT, "the key does not parse");
		goto out;
	}
	if (X509_check_private_key(x, pk) != 1) {
		r = tf_ossl_fail(err, TF_E_INPUT, "the key does not match the certificate");
		goto out;
	}
	r = 0;
out:
	EVP_PKEY_free(pk);
	X509_free(x);
	BIO_free(kb);
	ERR_clear_error();
	return r;
}

int tf_x509_covers_host(const uint8_t *der, size_t len, const char *host)
{
	const unsigned char *p = der;
	struct in6_addr a;
	X509 *x = len <= PEM_MAX ? d2i_X509(NULL, &p, (long)len) : NULL;
	int ok;

	if (x == NULL) {
		ERR_clear_error();
		return 0;
	}
	if (inet_pton(AF_INET, host, &a) == 1 || inet_pton(AF_INET6, host, &a) == 1)
		ok = X509_check_ip_asc(x, host, 0) == 1;
	else
		ok = X509_check_host(x, host, 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) == 1;
	X509_free(x);
	return ok;
}
