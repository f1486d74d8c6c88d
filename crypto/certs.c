/* Certificates issued over OpenSSL: generate or import-and-check the CA, issue the client
 * certificate and client.pfx for TiUP's tls/ folder, make recipient key pairs. Sealing and
 * placing the folder: tlsdir.c; reading certificates: x509.c. */
#include "crypto/ossl.h"
#include "crypto/certs.h"
#include "common/strbuf.h"
#include "common/fsutil.h"
#include "common/timeutil.h"
#include "crypto/x509.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DAY 86400
#define PEM_FILE_MAX (1u << 20)
#define CHAIN_MAX 8
#define RSA_MIN_BITS 2048

/* A read-only memory BIO over len bytes; NULL beyond 16 MiB (no PEM we read is near it). */
static BIO *mem_bio(const void *p, size_t len)
{
	return len <= (16u << 20) ? BIO_new_mem_buf(p, (int)len) : NULL;
}

/* Copies a memory BIO's bytes into a new NUL-terminated buffer; NULL when out of memory. */
static char *bio_take(BIO *b, size_t *len)
{
	char *ptr = NULL, *s;
	long n = BIO_get_mem_data(b, &ptr);

	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	if (n > 0)
		memcpy(s, ptr, (size_t)n);
	s[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
	return s;
}

static void fmt_time(time_t t, char buf[TF_TIME_TEXT])
{
	tf_time_format(t, buf, TF_TIME_TEXT);
}

/* What x says (crypto/x509.h), through its DER. */
static int x509_info(X509 *x, struct tf_x509_info *info, struct tf_err *err)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der), r;

	if (n <= 0)
		return tf_ossl_fail(err, TF_E_CRYPTO, "cannot read a certificate's fields");
	r = tf_x509_info_der(der, (size_t)n, info, err);
	OPENSSL_free(der);
	return r;
}

static void sk_X509_pop_free_all(STACK_OF(X509) * sk)
{
	sk_X509_pop_free(sk, X509_free);
}

/* ---- building certificates ---- */

/* Parses "/O=Bank/CN=TiDB CA" (OpenSSL's form, "\/" escapes a slash) or "O=Bank, CN=TiDB CA"
 * (RFC 4514 order as written, "\," escapes a comma). */
static int parse_dn(const char *s, X509_NAME **out, struct tf_err *err)
{
	X509_NAME *name = NULL;
	char buf[1024], *eq;
	char sep = s[0] == '/' ? '/' : ',';
	const char *p = sep == '/' ? s + 1 : s;
	int r;

	if ((name = X509_NAME_new()) == NULL) {
		r = tf_ossl_fail(err, TF_E_NOMEM, "out of memory");
		goto out;
	}
	while (*p != '\0') {
		size_t n = 0;
		char *key, *val;

		while (*p != '\0' && *p != sep) {
			if (*p == '\\' && (p[1] == sep || p[1] == '\\'))
				p++;
			if (n + 1 >= sizeof(buf)) {
				r = tf_err_set(err, TF_E_INPUT, "subject '%s' is too long", s);
				goto out;
			}
			buf[n++] = *p++;
		}
		if (*p == sep)
			p++;
		buf[n] = '\0';
		key = buf;
		while (*key == ' ')
			key++;
		if (*key == '\0')
			continue;
		if ((eq = strchr(key, '=')) == NULL || eq == key || eq[1] == '\0') {
			r = tf_err_set(err, TF_E_INPUT, "subject '%s': '%s' is not ATTRIBUTE=value",
			               s, key);
			goto out;
		}
		*eq = '\0';
		val = eq + 1;
		while (eq > key && eq[-1] == ' ')
			*--eq = '\0';
		while (*val == ' ')
			val++;
		if (X509_NAME_add_entry_by_txt(name, key, MBSTRING_UTF8, (const unsigned char *)val,
		                               -1, -1, 0) != 1) {
			r = tf_ossl_fail(err, TF_E_INPUT,
			                 "subject '%s': attribute '%s' is not known", s, key);
			goto out;
		}
	}
	if (X509_NAME_entry_count(name) == 0) {
		r = tf_err_set(err, TF_E_INPUT, "subject '%s' is empty", s);
		goto out;
	}
	*out = name;
	name = NULL; /* transferred */
	r = 0;
out:
	X509_NAME_free(name);
	return r;
}

static int add_ext(X509 *issuer, X509 *subject, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, subject, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(subject, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

struct ext_spec {
	int nid;
	const char *value;
};

/* A v3 certificate for pub with subject, signed by (issuer, signer) or self-signed when issuer
 * is NULL, valid from nb to na, with exts (SKI and AKI added after them). */
static int build_cert(const X509_NAME *subject, X509 *issuer, EVP_PKEY *pub, EVP_PKEY *signer,
                      time_t nb, time_t na, const struct ext_spec *exts, size_t nexts, X509 **out,
                      struct tf_err *err)
{
	X509 *x = NULL;
	BIGNUM *bn = NULL;
	unsigned char serial[16];
	size_t i;
	int r;

	if (RAND_bytes(serial, sizeof(serial)) != 1) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "no random bytes for a serial number");
		goto out;
	}
	serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40); /* positive, never zero */
	if ((x = X509_new()) == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
	    (bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_set_subject_name(x, subject) != 1 ||
	    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subject) != 1 ||
	    ASN1_TIME_set(X509_getm_notBefore(x), nb) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), na) == NULL || X509_set_pubkey(x, pub) != 1) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "cannot build a certificate");
		goto out;
	}
	for (i = 0; i < nexts; i++)
		if (add_ext(issuer ? issuer : x, x, exts[i].nid, exts[i].value) != 0) {
			r = tf_ossl_fail(err, TF_E_CRYPTO, "cannot add extension %s",
			                 OBJ_nid2sn(exts[i].nid));
			goto out;
		}
	if (add_ext(issuer ? issuer : x, x, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(issuer ? issuer : x, x, NID_authority_key_identifier,
	            issuer ? "keyid,issuer" : "keyid:always") != 0) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "cannot add the key identifiers");
		goto out;
	}
	if (X509_sign(x, signer, EVP_sha256()) <= 0) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "cannot sign a certificate");
		goto out;
	}
	*out = x;
	x = NULL; /* transferred */
	r = 0;
out:
	BN_free(bn);
	X509_free(x);
	return r;
}

static int gen_rsa(unsigned bits, EVP_PKEY **out, struct tf_err *err)
{
	EVP_PKEY *pk = EVP_RSA_gen(bits);

	if (pk == NULL)
		return tf_ossl_fail(err, TF_E_CRYPTO, "cannot generate an RSA %u key", bits);
	*out = pk;
	return 0;
}

/* A new RSA key of bits and its certificate for name, signed by issuer with issuer_key (both
 * NULL: self-signed). Both are handed over only when both exist. */
static int new_keyed_cert(const X509_NAME *name, X509 *issuer, EVP_PKEY *issuer_key, unsigned bits,
                          time_t nb, time_t na, const struct ext_spec *exts, size_t nexts,
                          X509 **cert_out, EVP_PKEY **key_out, struct tf_err *err)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int r;

	if ((r = gen_rsa(bits, &key, err)) != 0)
		goto out;
	if ((r = build_cert(name, issuer, key, issuer_key ? issuer_key : key, nb, na, exts, nexts,
	                    &x, err)) != 0)
		goto out;
	*cert_out = x;
	x = NULL; /* transferred */
	*key_out = key;
	key = NULL; /* transferred */
out:
	EVP_PKEY_free(key);
	X509_free(x);
	return r;
}

/* ---- PEM output ---- */

static int pem_certs(X509 *first, STACK_OF(X509) * more, char **out, size_t *len,
                     struct tf_err *err)
{
	BIO *mem = BIO_new(BIO_s_mem());
	int i, r;

	if (mem == NULL || PEM_write_bio_X509(mem, first) != 1) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "cannot write a certificate");
		goto out;
	}
	for (i = 0; i < sk_X509_num(more); i++)
		if (PEM_write_bio_X509(mem, sk_X509_value(more, i)) != 1) {
			r = tf_ossl_fail(err, TF_E_CRYPTO, "cannot write a certificate");
			goto out;
		}
	if ((*out = bio_take(mem, len)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	r = 0;
out:
	BIO_free(mem);
	return r;
}

/* The key as PEM "RSA PRIVATE KEY" (PKCS#1), the only type TiUP's ReadCA accepts. The secure
 * memory BIO wipes its buffer; the caller wipes *out. */
static int pem_pkcs1(EVP_PKEY *pk, char **out, size_t *len, struct tf_err *err)
{
	BIO *mem = BIO_new(BIO_s_secmem());
	int r;

	if (mem == NULL ||
	    PEM_write_bio_PrivateKey_traditional(mem, pk, NULL, NULL, 0, NULL, NULL) != 1) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "cannot write an RSA private key");
		goto out;
	}
	if ((*out = bio_take(mem, len)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	r = 0;
out:
	BIO_free(mem);
	return r;
}

/* client.pfx as TiUP's Go encoder writes it: key, certificate and CA under password "tiup",
 * legacy PBE (SHA-1 and 3DES) and a SHA-1 MAC, which every PKCS#12 reader (Java, Windows, Go's
 * x/crypto/pkcs12, OpenSSL 3 without its legacy provider) opens. The password is public, so the
 * file is handled as a secret like the key. */
static int make_pfx(EVP_PKEY *key, X509 *cert, X509 *ca, STACK_OF(X509) * chain, uint8_t **out,
                    size_t *len, struct tf_err *err)
{
	STACK_OF(X509) *cas = sk_X509_new_null();
	PKCS12 *p12 = NULL;
	BIO *mem = BIO_new(BIO_s_secmem());
	int i, r;

	if (cas == NULL || mem == NULL || !sk_X509_push(cas, ca)) {
		r = tf_ossl_fail(err, TF_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < sk_X509_num(chain); i++)
		if (!sk_X509_push(cas, sk_X509_value(chain, i))) {
			r = tf_ossl_fail(err, TF_E_NOMEM, "out of memory");
			goto out;
		}
	if ((p12 = PKCS12_create(TF_CERTS_PFX_PASSWORD, NULL, key, cert, cas,
	                         NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
	                         NID_pbe_WithSHA1And3_Key_TripleDES_CBC, PKCS12_DEFAULT_ITER, -1,
	                         0)) == NULL ||
	    PKCS12_set_mac(p12, TF_CERTS_PFX_PASSWORD, -1, NULL, 0, PKCS12_DEFAULT_ITER,
	                   EVP_sha1()) != 1 ||
	    i2d_PKCS12_bio(mem, p12) != 1) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "cannot write client.pfx");
		goto out;
	}
	if ((*out = (uint8_t *)bio_take(mem, len)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	r = 0;
out:
	PKCS12_free(p12);
	sk_X509_free(cas); /* the certificates themselves belong to the caller */
	BIO_free(mem);
	return r;
}

/* ---- loading ---- */

/* Every certificate of a PEM file, in order. */
static int load_certs(const char *path, STACK_OF(X509) * *out, struct tf_err *err)
{
	STACK_OF(X509) *sk = NULL;
	char *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	X509 *x;
	int r;

	if ((r = tf_read_file(path, PEM_FILE_MAX, &buf, &len, err)) != 0)
		goto out;
	if ((sk = sk_X509_new_null()) == NULL || (bio = mem_bio(buf, len)) == NULL) {
		r = tf_ossl_fail(err, TF_E_NOMEM, "out of memory");
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_num(sk) == CHAIN_MAX || !sk_X509_push(sk, x)) {
			X509_free(x);
			r = tf_err_set(err, TF_E_INPUT, "'%s' holds more than %d certificates",
			               path, CHAIN_MAX);
			goto out;
		}
	}
	ERR_clear_error(); /* "no start line" ends the loop */
	if (sk_X509_num(sk) == 0) {
		r = tf_err_set(err, TF_E_INPUT, "'%s' holds no PEM certificate", path);
		goto out;
	}
	*out = sk;
	sk = NULL; /* transferred */
	r = 0;
out:
	sk_X509_pop_free_all(sk);
	BIO_free(bio);
	free(buf);
	return r;
}

static int load_key(const char *path, const char *pass, EVP_PKEY **out, struct tf_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	EVP_PKEY *pk = NULL;
	int r;

	if ((r = tf_read_file(path, PEM_FILE_MAX, &buf, &len, err)) != 0)
		goto out;
	if ((bio = mem_bio(buf, len)) == NULL) {
		r = tf_ossl_fail(err, TF_E_NOMEM, "out of memory");
		goto out;
	}
	if ((pk = PEM_read_bio_PrivateKey(bio, NULL, tf_ossl_pass_cb, (void *)(uintptr_t)pass)) ==
	    NULL) {
		r = tf_ossl_fail(err, TF_E_INPUT, "cannot read the CA key '%s'%s", path,
		                 pass ? " (wrong passphrase?)"
		                      : " (encrypted? give its passphrase)");
		goto out;
	}
	*out = pk;
	pk = NULL; /* transferred */
	r = 0;
out:
	BIO_free(bio);
	tf_wipe(buf, len);
	free(buf);
	return r;
}

/* ---- checking an imported CA ---- */

/* The CA and every certificate of its chain must stay valid until need. */
static int check_validity(X509 *x, const char *what, time_t now, time_t window_end, time_t need,
                          struct tf_err *err)
{
	struct tf_x509_info in = {0};
	time_t nb, na;
	char a[TF_TIME_TEXT], b[TF_TIME_TEXT], w[TF_TIME_TEXT];

	if (x509_info(x, &in, err) != 0)
		return tf_ossl_fail(err, TF_E_INPUT, "%s: unreadable validity", what);
	nb = in.not_before;
	na = in.not_after;
	fmt_time(nb, a);
	fmt_time(na, b);
	fmt_time(need, w);
	if (nb > now)
		return tf_err_set(err, TF_E_INPUT, "%s is not valid before %s", what, a);
	if (na < now)
		return tf_err_set(err, TF_E_INPUT, "%s expired on %s", what, b);
	if (na < need) {
		char e[TF_TIME_TEXT];

		fmt_time(window_end, e);
		return tf_err_set(err, TF_E_INPUT,
		                  "%s expires on %s: its validity does not cover %s (the bundle's "
		                  "window ends %s, and TiUP issues node certificates for %u days)",
		                  what, b, w, e, TF_CERTS_NODE_DAYS);
	}
	return 0;
}

static int check_is_ca(X509 *x, const char *what, struct tf_err *err)
{
	uint32_t flags = X509_get_extension_flags(x);

	if (!(flags & EXFLAG_BCONS))
		return tf_err_set(err, TF_E_INPUT,
		                  "%s is not a CA: it has no basicConstraints extension", what);
	if (!(flags & EXFLAG_CA))
		return tf_err_set(err, TF_E_INPUT,
		                  "%s is not a CA: its basicConstraints say CA:FALSE", what);
	if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(x) & KU_KEY_CERT_SIGN))
		return tf_err_set(err, TF_E_INPUT,
		                  "%s cannot sign certificates: its keyUsage lacks keyCertSign",
		                  what);
	if (flags & EXFLAG_XKUSAGE) {
		uint32_t xku = X509_get_extended_key_usage(x);

		/* Go (PD, TiDB) requires every certificate of the chain to allow the leaf's use */
		if (!(xku & XKU_ANYEKU) && ((xku & (XKU_SSL_SERVER | XKU_SSL_CLIENT)) !=
		                            (XKU_SSL_SERVER | XKU_SSL_CLIENT)))
			return tf_err_set(err, TF_E_INPUT,
			                  "%s limits its extended key usage without both "
			                  "serverAuth and clientAuth: PD and TiDB would reject "
			                  "every node certificate",
			                  what);
	}
	return 0;
}

/* TiUP sends the nodes only the first certificate of ca.crt (pkg/cluster/task/tls.go
 * TLSCert.Execute writes c.ca.Cert.Raw; pkg/crypto/ca.go ReadCA decodes the first PEM block), and
 * it must be the certificate whose key signs (Go's x509.CreateCertificate checks the parent's
 * key). An intermediate is then each node's only trust anchor: Go (PD, TiDB) accepts that, but
 * TiKV's gRPC and status servers (OpenSSL, no X509_V_FLAG_PARTIAL_CHAIN: tikv v8.5.0
 * components/security, src/server/status_server) reject every peer. No trust file can fix it
 * behind TiUP's back, so the build refuses (docs/certificates.md). */
static int check_self_signed(X509 *ca, const char *what, struct tf_err *err)
{
	struct tf_x509_info in = {0};

	if (X509_check_issued(ca, ca) == X509_V_OK && X509_verify(ca, X509_get0_pubkey(ca)) == 1)
		return 0;
	ERR_clear_error();
	if (x509_info(ca, &in, err) != 0)
		return tf_ossl_fail(err, TF_E_INPUT, "%s: unreadable subject", what);
	return tf_err_set(err, TF_E_INPUT,
	                  "%s is an intermediate CA (issued by '%s'): TiUP gives the nodes only "
	                  "this certificate as their trust anchor, and TiKV (OpenSSL) refuses an "
	                  "anchor that is not self-signed, so TiKV would reject every peer; import "
	                  "a self-signed CA (a root made for this cluster) or let tiferry-build "
	                  "generate one (tls: {ca: generate})",
	                  what, in.issuer);
}

/* Verifies ca against its chain (the last certificate given is the trust anchor), or its own
 * signature when it is self-issued and no chain is given. */
static int check_chain(X509 *ca, STACK_OF(X509) * chain, const char *what, time_t now,
                       struct tf_certs *c, struct tf_err *err)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *untrusted = NULL;
	struct tf_x509_info in = {0};
	int i, n = sk_X509_num(chain), r;

	if (n == 0) {
		if (X509_check_issued(ca, ca) == X509_V_OK) {
			if (X509_verify(ca, X509_get0_pubkey(ca)) != 1) {
				r = tf_ossl_fail(err, TF_E_INPUT,
				                 "%s: its self-signature does not verify", what);
				goto out;
			}
		} else {
			if ((r = x509_info(ca, &in, err)) != 0)
				goto out;
			if (tf_strv_addf(&c->warnings, &c->nwarnings,
			                 "the CA '%s' is issued by '%s' and no chain was given: "
			                 "ca.crt holds the intermediate alone",
			                 in.subject, in.issuer) != 0) {
				r = tf_err_nomem(err);
				goto out;
			}
		}
		r = 0;
		goto out;
	}
	if ((store = X509_STORE_new()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL ||
	    (untrusted = sk_X509_new_null()) == NULL ||
	    X509_STORE_add_cert(store, sk_X509_value(chain, n - 1)) != 1) {
		r = tf_ossl_fail(err, TF_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n - 1; i++)
		if (!sk_X509_push(untrusted, sk_X509_value(chain, i))) {
			r = tf_ossl_fail(err, TF_E_NOMEM, "out of memory");
			goto out;
		}
	if (X509_STORE_CTX_init(ctx, store, ca, untrusted) != 1) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "cannot set up chain verification");
		goto out;
	}
	X509_STORE_CTX_set_time(ctx, 0, now);
	/* the bank may hand over a chain that stops below its offline root */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
	if (X509_verify_cert(ctx) != 1) {
		r = tf_err_set(err, TF_E_INPUT, "%s does not verify against its chain: %s", what,
		               X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		ERR_clear_error();
		goto out;
	}
	r = 0;
out:
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

static int import_ca(const struct tf_certs_config *cfg, time_t now, time_t need, X509 **ca_out,
                     EVP_PKEY **key_out, STACK_OF(X509) * *chain_out, struct tf_certs *c,
                     struct tf_err *err)
{
	STACK_OF(X509) *certs = NULL, *extra = NULL, *chain = NULL;
	X509 *ca = NULL;
	EVP_PKEY *key = NULL;
	char what[TF_ERR_MSG_MAX / 2];
	int i, r, id;

	if (cfg->ca_cert_file == NULL || cfg->ca_key_file == NULL) {
		r = tf_err_set(err, TF_E_USAGE, "importing a CA needs its certificate and its key");
		goto out;
	}
	snprintf(what, sizeof(what), "the CA certificate '%s'", cfg->ca_cert_file);
	if ((r = load_certs(cfg->ca_cert_file, &certs, err)) != 0)
		goto out;
	/* a CA file with its chain appended: the first certificate is the CA (TiUP reads only the
	 * first one of ca.crt), the rest its chain */
	ca = sk_X509_shift(certs);
	if ((chain = certs) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	certs = NULL;
	if (cfg->chain_file != NULL) {
		if ((r = load_certs(cfg->chain_file, &extra, err)) != 0)
			goto out;
		while (sk_X509_num(extra) > 0) {
			X509 *x = sk_X509_shift(extra);

			if (sk_X509_num(chain) == CHAIN_MAX || !sk_X509_push(chain, x)) {
				X509_free(x);
				r = tf_err_set(err, TF_E_INPUT, "the chain is longer than %d",
				               CHAIN_MAX);
				goto out;
			}
		}
	}
	if ((r = check_is_ca(ca, what, err)) != 0 || (r = check_self_signed(ca, what, err)) != 0)
		goto out;
	if ((r = load_key(cfg->ca_key_file, cfg->ca_key_pass, &key, err)) != 0)
		goto out;
	id = EVP_PKEY_get_base_id(key);
	if (id != EVP_PKEY_RSA) {
		r = tf_err_set(err, TF_E_INPUT,
		               "the CA key '%s' is an %s key: TiUP needs an RSA CA key (it reads "
		               "ca.pem only as PEM \"RSA PRIVATE KEY\")",
		               cfg->ca_key_file, id == EVP_PKEY_EC ? "EC" : OBJ_nid2sn(id));
		goto out;
	}
	if (X509_check_private_key(ca, key) != 1) {
		r = tf_ossl_fail(err, TF_E_INPUT, "the CA key '%s' does not match %s",
		                 cfg->ca_key_file, what);
		goto out;
	}
	if (EVP_PKEY_get_bits(key) < RSA_MIN_BITS) {
		r = tf_err_set(err, TF_E_INPUT, "the CA key '%s' has %d bits (at least %d needed)",
		               cfg->ca_key_file, EVP_PKEY_get_bits(key), RSA_MIN_BITS);
		goto out;
	}
	if ((r = check_validity(ca, what, now, cfg->window_end ? cfg->window_end : now, need,
	                        err)) != 0)
		goto out;
	for (i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		struct tf_x509_info in;
		char w[TF_ERR_MSG_MAX / 2];

		if ((r = x509_info(x, &in, err)) != 0)
			goto out;
		snprintf(w, sizeof(w), "chain certificate '%s'", in.subject);
		if ((r = check_is_ca(x, w, err)) != 0 ||
		    (r = check_validity(x, w, now, cfg->window_end ? cfg->window_end : now, need,
		                        err)) != 0)
			goto out;
	}
	if ((r = check_chain(ca, chain, what, now, c, err)) != 0)
		goto out;
	*ca_out = ca;
	ca = NULL; /* transferred */
	*key_out = key;
	key = NULL; /* transferred */
	*chain_out = chain;
	chain = NULL; /* transferred */
	r = 0;
out:
	sk_X509_pop_free_all(certs);
	sk_X509_pop_free_all(extra);
	sk_X509_pop_free_all(chain);
	X509_free(ca);
	EVP_PKEY_free(key);
	return r;
}

static int generate_ca(const struct tf_certs_config *cfg, unsigned bits, time_t now, time_t need,
                       X509 **ca_out, EVP_PKEY **key_out, struct tf_err *err)
{
	static const struct ext_spec exts[] = {
	    {NID_basic_constraints, "critical,CA:TRUE"},
	    {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
	};
	unsigned days = cfg->validity_days ? cfg->validity_days : TF_CERTS_CA_DAYS;
	X509_NAME *name = NULL;
	time_t na = now + (time_t)days * DAY;
	char a[TF_TIME_TEXT], b[TF_TIME_TEXT];
	int r;

	if (na < need) {
		fmt_time(na, a);
		fmt_time(need, b);
		r = tf_err_set(err, TF_E_INPUT,
		               "a CA valid for %u days (until %s) does not cover %s (the bundle's "
		               "window plus the %u days of TiUP's node certificates)",
		               days, a, b, TF_CERTS_NODE_DAYS);
		goto out;
	}
	if (cfg->subject != NULL) {
		if ((r = parse_dn(cfg->subject, &name, err)) != 0)
			goto out;
	} else {
		char cn[256];

		snprintf(cn, sizeof(cn), "%s CA", cfg->cluster);
		if ((name = X509_NAME_new()) == NULL ||
		    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
		                               (const unsigned char *)"tiferry", -1, -1, 0) != 1 ||
		    X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_UTF8,
		                               (const unsigned char *)"TiUP", -1, -1, 0) != 1 ||
		    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
		                               -1, -1, 0) != 1) {
			r = tf_ossl_fail(err, TF_E_INPUT, "cannot make the CA subject");
			goto out;
		}
	}
	r = new_keyed_cert(name, NULL, NULL, bits, now, na, exts, 2, ca_out, key_out, err);
out:
	X509_NAME_free(name);
	return r;
}

/* The client certificate as TiUP issues it: OU tiup-cluster-client, CN <cluster>-client, both
 * TLS usages, TF_CERTS_CLIENT_DAYS (never past the CA). The CA's O is kept, if it has one. */
static int issue_client(const struct tf_certs_config *cfg, unsigned bits, X509 *ca, EVP_PKEY *cakey,
                        time_t now, X509 **cert_out, EVP_PKEY **key_out, struct tf_err *err)
{
	static const struct ext_spec exts[] = {
	    {NID_basic_constraints, "critical,CA:FALSE"},
	    {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
	    {NID_ext_key_usage, "clientAuth,serverAuth"},
	};
	const X509_NAME *caname = X509_get_subject_name(ca);
	X509_NAME *name = NULL;
	char cn[256];
	struct tf_x509_info cai = {0};
	time_t na = now + (time_t)TF_CERTS_CLIENT_DAYS * DAY;
	int r, idx;

	if (cfg->client_cn != NULL)
		snprintf(cn, sizeof(cn), "%s", cfg->client_cn);
	else
		snprintf(cn, sizeof(cn), "%s-client", cfg->cluster);
	if ((r = x509_info(ca, &cai, err)) != 0)
		goto out;
	if (cai.not_after < na)
		na = cai.not_after;
	if ((name = X509_NAME_new()) == NULL) {
		r = tf_ossl_fail(err, TF_E_NOMEM, "out of memory");
		goto out;
	}
	idx = X509_NAME_get_index_by_NID(caname, NID_organizationName, -1);
	if (idx >= 0 && X509_NAME_add_entry(name, X509_NAME_get_entry(caname, idx), -1, 0) != 1) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "cannot make the client subject");
		goto out;
	}
	if (X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_UTF8,
	                               (const unsigned char *)"tiup-cluster-client", -1, -1,
	                               0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
	                               0) != 1) {
		r = tf_ossl_fail(err, TF_E_INPUT, "cannot make the client subject (CN '%s')", cn);
		goto out;
	}
	r = new_keyed_cert(name, ca, cakey, bits, now, na, exts, 3, cert_out, key_out, err);
out:
	X509_NAME_free(name);
	return r;
}

void tf_certs_init(struct tf_certs *c)
{
	memset(c, 0, sizeof(*c));
}

static void free_secret(void *p, size_t len)
{
	tf_wipe(p, len);
	free(p);
}

void tf_certs_release(struct tf_certs *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->ca_crt);
	free_secret(c->ca_pem, c->ca_pem_len);
	free(c->client_crt);
	free_secret(c->client_pem, c->client_pem_len);
	free_secret(c->client_pfx, c->client_pfx_len);
	free(c->chain);
	for (i = 0; i < c->nwarnings; i++)
		free(c->warnings[i]);
	free(c->warnings);
	tf_certs_init(c);
}

int tf_certs_make(const struct tf_certs_config *cfg, struct tf_certs *out, struct tf_err *err)
{
	struct tf_certs c;
	X509 *ca = NULL, *client = NULL;
	EVP_PKEY *cakey = NULL, *ckey = NULL;
	STACK_OF(X509) *chain = NULL;
	unsigned bits = cfg->rsa_bits ? cfg->rsa_bits : 2048;
	time_t now = cfg->now ? cfg->now : tf_time_now();
	time_t need = (cfg->window_end ? cfg->window_end : now) + (time_t)TF_CERTS_NODE_DAYS * DAY;
	int i, r;

	tf_certs_init(&c);
	c.source = cfg->source;
	if (cfg->cluster == NULL || cfg->cluster[0] == '\0') {
		r = tf_err_set(err, TF_E_USAGE, "certificates need the cluster's name");
		goto out;
	}
	if (bits != 2048 && bits != 3072 && bits != 4096) {
		r = tf_err_set(err, TF_E_INPUT, "RSA key size %u: use 2048, 3072 or 4096", bits);
		goto out;
	}
	if (cfg->window_end != 0 && cfg->window_end < now) {
		r = tf_err_set(err, TF_E_INPUT, "the bundle's window ends before now");
		goto out;
	}
	if (cfg->source == TF_CERTS_IMPORT)
		r = import_ca(cfg, now, need, &ca, &cakey, &chain, &c, err);
	else if (cfg->source == TF_CERTS_GENERATE)
		r = generate_ca(cfg, bits, now, need, &ca, &cakey, err);
	else
		r = tf_err_set(err, TF_E_USAGE, "certificates: unknown source");
	if (r != 0)
		goto out;
	if (chain == NULL && (chain = sk_X509_new_null()) == NULL) {
		r = tf_ossl_fail(err, TF_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = issue_client(cfg, bits, ca, cakey, now, &client, &ckey, err)) != 0)
		goto out;
	if ((r = pem_certs(ca, chain, &c.ca_crt, &c.ca_crt_len, err)) != 0 ||
	    (r = pem_pkcs1(cakey, &c.ca_pem, &c.ca_pem_len, err)) != 0 ||
	    (r = pem_certs(client, NULL, &c.client_crt, &c.client_crt_len, err)) != 0 ||
	    (r = pem_pkcs1(ckey, &c.client_pem, &c.client_pem_len, err)) != 0 ||
	    (r = make_pfx(ckey, client, ca, chain, &c.client_pfx, &c.client_pfx_len, err)) != 0)
		goto out;
	if ((r = x509_info(ca, &c.ca, err)) != 0 || (r = x509_info(client, &c.client, err)) != 0)
		goto out;
	if (sk_X509_num(chain) > 0) {
		if ((c.chain = calloc((size_t)sk_X509_num(chain), sizeof(*c.chain))) == NULL) {
			r = tf_err_nomem(err);
			goto out;
		}
		for (i = 0; i < sk_X509_num(chain); i++) {
			if ((r = x509_info(sk_X509_value(chain, i), &c.chain[i], err)) != 0)
				goto out;
			c.nchain++;
		}
	}
	*out = c;
	tf_certs_init(&c); /* transferred */
	r = 0;
out:
	tf_certs_release(&c);
	sk_X509_pop_free_all(chain);
	X509_free(ca);
	X509_free(client);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(ckey);
	ERR_clear_error();
	return r;
}

/* ---- recipient keys ---- */

int tf_certs_recipient_keygen(const char *cn, unsigned days, time_t now, char **key_pem,
                              size_t *key_len, char **cert_pem, size_t *cert_len,
                              char fingerprint[TF_FINGERPRINT_LEN], struct tf_err *err)
{
	static const struct ext_spec exts[] = {
	    {NID_basic_constraints, "critical,CA:FALSE"},
	    {NID_key_usage, "critical,keyEncipherment"},
	};
	EVP_PKEY *key = NULL;
	X509_NAME *name = NULL;
	X509 *x = NULL;
	BIO *kb = NULL;
	struct tf_x509_info in = {0};
	char *kp = NULL, *cp = NULL;
	size_t kl = 0, cl = 0;
	int r;

	if (now == 0)
		now = tf_time_now();
	if (days == 0)
		days = TF_CERTS_RECIPIENT_DAYS;
	if ((name = X509_NAME_new()) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
	                               0) != 1) {
		r = tf_ossl_fail(err, TF_E_INPUT, "bad recipient name '%s'", cn);
		goto out;
	}
	if ((r = gen_rsa(TF_CERTS_RECIPIENT_BITS, &key, err)) != 0 ||
	    (r = build_cert(name, NULL, key, key, now, now + (time_t)days * DAY, exts, 2, &x,
	                    err)) != 0)
		goto out;
	if ((kb = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (kp = bio_take(kb, &kl)) == NULL) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "cannot write the recipient key");
		goto out;
	}
	if ((r = pem_certs(x, NULL, &cp, &cl, err)) != 0)
		goto out;
	if (x509_info(x, &in, err) != 0) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "cannot hash the recipient certificate");
		goto out;
	}
	*key_pem = kp;
	kp = NULL; /* transferred */
	*key_len = kl;
	*cert_pem = cp;
	cp = NULL; /* transferred */
	*cert_len = cl;
	memcpy(fingerprint, in.fingerprint, TF_FINGERPRINT_LEN);
	r = 0;
out:
	if (kp != NULL)
		free_secret(kp, kl);
	free(cp);
	BIO_free(kb);
	X509_free(x);
	X509_NAME_free(name);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return r;
}
