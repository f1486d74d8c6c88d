/* Secrets as CMS EnvelopedData over OpenSSL's CMS API; a small DER walk bounds the input first. */
#include "crypto/ossl.h"
#include "crypto/secrets.h"
#include "common/fsutil.h"
#include "common/hex.h"
#include "crypto/digest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h> /* before cms.h, which declares PEM_write_bio_CMS only after it */
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define MAX_RECIPIENTS 16

/* A read-only memory BIO over len bytes; NULL beyond 16 MiB (no PEM we read is near it). */
static BIO *mem_bio(const void *p, size_t len)
{
	return len <= (16u << 20) ? BIO_new_mem_buf(p, (int)len) : NULL;
}

/* ---- a bounded DER walk: the shape of the envelope and each PBKDF2 iteration count ---- */

struct der {
	const uint8_t *p, *end;
};

struct shape {
	size_t nri, nktri, npwri, nother;
	uint64_t iter[MAX_RECIPIENTS]; /* per PasswordRecipientInfo, in order */
};

static const uint8_t oid_enveloped[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03};
static const uint8_t oid_pbkdf2[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c};

/* Reads one definite-length TLV with a low tag number. -1 on anything else. */
static int der_get(struct der *d, unsigned *tag, struct der *content)
{
	size_t len, nb, i;

	if (d->end - d->p < 2)
		return -1;
	*tag = *d->p++;
	if ((*tag & 0x1f) == 0x1f)
		return -1;
	len = *d->p++;
	if (len & 0x80) {
		nb = len & 0x7f;
		if (nb == 0 || nb > 4 || (size_t)(d->end - d->p) < nb)
			return -1;
		for (len = 0, i = 0; i < nb; i++)
			len = (len << 8) | *d->p++;
	}
	if ((size_t)(d->end - d->p) < len)
		return -1;
	content->p = d->p;
	content->end = d->p + len;
	d->p += len;
	return 0;
}

static int der_is(const struct der *d, const uint8_t *v, size_t n)
{
	return (size_t)(d->end - d->p) == n && memcmp(d->p, v, n) == 0;
}

/* A non-negative INTEGER of at most 8 value bytes. */
static int der_u64(const struct der *d, uint64_t *out)
{
	const uint8_t *p = d->p;
	uint64_t v = 0;

	if (p == d->end || (*p & 0x80))
		return -1;
	if (*p == 0 && d->end - p > 1)
		p++;
	if (d->end - p > 8)
		return -1;
	for (; p < d->end; p++)
		v = (v << 8) | *p;
	*out = v;
	return 0;
}

static int walk_pwri(struct der ri, uint64_t *iter)
{
	struct der f, kdf, params;
	unsigned tag;

	if (der_get(&ri, &tag, &f) != 0 || tag != 0x02)
		return -1;
	/* keyDerivationAlgorithm [0] IMPLICIT AlgorithmIdentifier: required here (RFC 3211 lets
	 * the sender omit it; then no passphrase could open the secret anyway) */
	if (der_get(&ri, &tag, &kdf) != 0 || tag != 0xa0)
		return -1;
	if (der_get(&kdf, &tag, &f) != 0 || tag != 0x06 ||
	    !der_is(&f, oid_pbkdf2, sizeof(oid_pbkdf2)))
		return -1;
	if (der_get(&kdf, &tag, &params) != 0 || tag != 0x30)
		return -1;
	if (der_get(&params, &tag, &f) != 0) /* salt */
		return -1;
	if (der_get(&params, &tag, &f) != 0 || tag != 0x02 || der_u64(&f, iter) != 0)
		return -1;
	return 0;
}

static int walk(const uint8_t *der, size_t len, struct shape *s)
{
	struct der top = {der, der + len}, ci, x, env, ris, ri;
	unsigned tag;

	memset(s, 0, sizeof(*s));
	if (der_get(&top, &tag, &ci) != 0 || tag != 0x30 || top.p != top.end)
		return -1;
	if (der_get(&ci, &tag, &x) != 0 || tag != 0x06 ||
	    !der_is(&x, oid_enveloped, sizeof(oid_enveloped)))
		return -1;
	if (der_get(&ci, &tag, &x) != 0 || tag != 0xa0)
		return -1;
	if (der_get(&x, &tag, &env) != 0 || tag != 0x30)
		return -1;
	if (der_get(&env, &tag, &ris) != 0 || tag != 0x02) /* version */
		return -1;
	if (der_get(&env, &tag, &ris) != 0)
		return -1;
	if (tag == 0xa0 && der_get(&env, &tag, &ris) != 0) /* originatorInfo */
		return -1;
	if (tag != 0x31)
		return -1;
	while (ris.p < ris.end) {
		if (der_get(&ris, &tag, &ri) != 0)
			return -1;
		if (s->nri == MAX_RECIPIENTS)
			return -1;
		s->nri++;
		if (tag == 0x30) {
			s->nktri++;
		} else if (tag == 0xa3) {
			if (walk_pwri(ri, &s->iter[s->npwri]) != 0)
				return -1;
			s->npwri++;
		} else {
			s->nother++;
		}
	}
	if (s->nri == 0)
		return -1;
	if (der_get(&env, &tag, &x) != 0 || tag != 0x30) /* encryptedContentInfo */
		return -1;
	return 0;
}

/* ---- parsing ---- */

/* The DER of a PEM "CMS" (or "PKCS7") block, or in itself when it is not PEM. Everything is
 * bounded and walked before OpenSSL's parser sees it. */
static int parse(const void *in, size_t len, CMS_ContentInfo **out, struct shape *s,
                 struct tf_err *err)
{
	BIO *bio = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	const unsigned char *der = in, *p;
	long dlen = 0;
	size_t derlen = len;
	CMS_ContentInfo *cms = NULL;
	uint64_t i;
	int r;

	memset(s, 0, sizeof(*s));
	if (len > TF_SECRETS_MAX) {
		r = tf_err_set(err, TF_E_REJECT, "encrypted secret is larger than %u bytes",
		               TF_SECRETS_MAX);
		goto out;
	}
	if (len >= 11 && memcmp(in, "-----BEGIN ", 11) == 0) {
		if ((bio = mem_bio(in, len)) == NULL) {
			r = tf_ossl_fail(err, TF_E_NOMEM, "out of memory");
			goto out;
		}
		if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1 ||
		    (strcmp(name, "CMS") != 0 && strcmp(name, "PKCS7") != 0)) {
			r = tf_ossl_fail(err, TF_E_REJECT,
			                 "corrupted secret: not a PEM \"CMS\" block");
			goto out;
		}
		der = data;
		derlen = (size_t)dlen;
	}
	if (walk(der, derlen, s) != 0) {
		r = tf_err_set(err, TF_E_REJECT,
		               "corrupted secret: not CMS enveloped data as tiferry writes it");
		goto out;
	}
	for (i = 0; i < s->npwri; i++)
		if (s->iter[i] > TF_SECRETS_PBKDF2_ITER_MAX || s->iter[i] == 0) {
			r = tf_err_set(
			    err, TF_E_REJECT,
			    "encrypted secret asks for %llu PBKDF2 iterations (accepted: "
			    "1 to %u)",
			    (unsigned long long)s->iter[i], TF_SECRETS_PBKDF2_ITER_MAX);
			goto out;
		}
	p = der;
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)derlen)) == NULL || p != der + derlen ||
	    OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_enveloped) {
		r = tf_ossl_fail(err, TF_E_REJECT,
		                 "corrupted secret: CMS structure does not parse");
		goto out;
	}
	*out = cms;
	cms = NULL; /* transferred */
	r = 0;
out:
	CMS_ContentInfo_free(cms);
	BIO_free(bio);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	return r;
}

static int cert_fp(X509 *x, char out[TF_SHA256_HEX])
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der), r;

	if (n <= 0)
		return TF_E_CRYPTO;
	r = tf_sha256_hex(der, (size_t)n, out);
	OPENSSL_free(der);
	return r;
}

/* ---- encryption ---- */

static int add_cert_recipients(CMS_ContentInfo *cms, const struct tf_secrets_recipients *r,
                               size_t *added, struct tf_err *err)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	int rc;

	if ((bio = mem_bio(r->cert_pem, r->cert_len)) == NULL) {
		rc = tf_ossl_fail(err, TF_E_NOMEM, "out of memory");
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		EVP_PKEY *pub = X509_get0_pubkey(x);
		CMS_RecipientInfo *ri;
		EVP_PKEY_CTX *pctx;
		char fp[TF_SHA256_HEX];

		if (cert_fp(x, fp) != 0) {
			rc = tf_ossl_fail(err, TF_E_CRYPTO, "cannot hash a recipient certificate");
			goto out;
		}
		if (pub == NULL || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA) {
			rc = tf_err_set(err, TF_E_INPUT,
			                "recipient certificate sha256:%s does not hold an RSA key "
			                "(make one with `tiferry keygen --recipient`)",
			                fp);
			goto out;
		}
		if (EVP_PKEY_get_bits(pub) < TF_SECRETS_RSA_MIN) {
			rc = tf_err_set(err, TF_E_INPUT,
			                "recipient certificate sha256:%s holds a %d-bit RSA key "
			                "(at least %d needed)",
			                fp, EVP_PKEY_get_bits(pub), TF_SECRETS_RSA_MIN);
			goto out;
		}
		if (*added == MAX_RECIPIENTS - 1) {
			rc = tf_err_set(err, TF_E_INPUT, "more than %d recipients",
			                MAX_RECIPIENTS - 1);
			goto out;
		}
		if ((ri = CMS_add1_recipient_cert(cms, x, CMS_KEY_PARAM)) == NULL ||
		    (pctx = CMS_RecipientInfo_get0_pkey_ctx(ri)) == NULL ||
		    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0) {
			rc = tf_ossl_fail(err, TF_E_CRYPTO, "cannot add recipient sha256:%s", fp);
			goto out;
		}
		(*added)++;
		X509_free(x);
		x = NULL;
	}
	/* the loop ends on "no start line" once the PEM text is used up */
	ERR_clear_error();
	if (*added == 0) {
		rc = tf_err_set(err, TF_E_INPUT, "no certificate in the recipient PEM text");
		goto out;
	}
	rc = 0;
out:
	X509_free(x);
	BIO_free(bio);
	return rc;
}

int tf_secrets_encrypt(const void *data, size_t len, const struct tf_secrets_recipients *r,
                       char **out, size_t *outlen, struct tf_err *err)
{
	CMS_ContentInfo *cms = NULL;
	BIO *in = NULL, *mem = NULL;
	unsigned char *pass = NULL;
	size_t passlen = 0, added = 0;
	char *text = NULL, *ptr = NULL;
	long n;
	int rc;

	if (r == NULL || (r->cert_pem == NULL && r->passphrase == NULL)) {
		rc = tf_err_set(err, TF_E_USAGE,
		                "a secret needs a recipient certificate or a passphrase");
		goto out;
	}
	if (len > TF_SECRETS_MAX / 2) {
		rc = tf_err_set(err, TF_E_INPUT, "secret is larger than %u bytes",
		                TF_SECRETS_MAX / 2);
		goto out;
	}
	if (r->passphrase != NULL && strlen(r->passphrase) < TF_SECRETS_PASS_MIN) {
		rc = tf_err_set(err, TF_E_INPUT, "the passphrase is shorter than %d characters",
		                TF_SECRETS_PASS_MIN);
		goto out;
	}
	if (r->iterations > TF_SECRETS_PBKDF2_ITER_MAX) {
		rc = tf_err_set(err, TF_E_INPUT, "%u PBKDF2 iterations is over the limit of %u",
		                r->iterations, TF_SECRETS_PBKDF2_ITER_MAX);
		goto out;
	}
	if ((cms = CMS_encrypt(NULL, NULL, EVP_aes_256_cbc(), CMS_BINARY | CMS_PARTIAL)) == NULL) {
		rc = tf_ossl_fail(err, TF_E_CRYPTO, "cannot start CMS enveloped data");
		goto out;
	}
	if (r->cert_pem != NULL && (rc = add_cert_recipients(cms, r, &added, err)) != 0)
		goto out;
	if (r->passphrase != NULL) {
		passlen = strlen(r->passphrase);
		/* CMS takes ownership of the passphrase copy and wipes it when freed */
		if ((pass = OPENSSL_memdup(r->passphrase, passlen)) == NULL) {
			rc = tf_ossl_fail(err, TF_E_NOMEM, "out of memory");
			goto out;
		}
		if (CMS_add0_recipient_password(
		        cms, (int)(r->iterations ? r->iterations : TF_SECRETS_PBKDF2_ITER),
		        NID_id_alg_PWRI_KEK, NID_id_pbkdf2, pass, (ossl_ssize_t)passlen,
		        EVP_aes_256_cbc()) == NULL) {
			rc = tf_ossl_fail(err, TF_E_CRYPTO, "cannot add the passphrase recipient");
			goto out;
		}
		pass = NULL; /* transferred */
	}
	if ((in = mem_bio(data, len)) == NULL || (mem = BIO_new(BIO_s_mem())) == NULL) {
		rc = tf_ossl_fail(err, TF_E_NOMEM, "out of memory");
		goto out;
	}
	if (CMS_final(cms, in, NULL, CMS_BINARY) != 1 || PEM_write_bio_CMS(mem, cms) != 1) {
		rc = tf_ossl_fail(err, TF_E_CRYPTO, "cannot encrypt the secret");
		goto out;
	}
	if ((n = BIO_get_mem_data(mem, &ptr)) <= 0 || (text = malloc((size_t)n + 1)) == NULL) {
		rc = tf_err_nomem(err);
		goto out;
	}
	memcpy(text, ptr, (size_t)n);
	text[n] = '\0';
	*out = text;
	text = NULL; /* transferred */
	*outlen = (size_t)n;
	rc = 0;
out:
	if (pass != NULL)
		OPENSSL_clear_free(pass, passlen);
	free(text);
	BIO_free(in);
	BIO_free(mem);
	CMS_ContentInfo_free(cms);
	return rc;
}

/* ---- decryption ---- */

static int load_recipient(const struct tf_secrets_key *k, X509 **cert, EVP_PKEY **key,
                          char fp[TF_SHA256_HEX], struct tf_err *err)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	EVP_PKEY *pk = NULL;
	int r;

	if (k->cert_pem == NULL) {
		r = tf_err_set(err, TF_E_USAGE, "the recipient key needs its certificate");
		goto out;
	}
	if ((bio = mem_bio(k->cert_pem, k->cert_len)) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		r = tf_ossl_fail(err, TF_E_INPUT, "the recipient certificate does not parse");
		goto out;
	}
	BIO_free(bio);
	bio = NULL;
	if (cert_fp(x, fp) != 0) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "cannot hash the recipient certificate");
		goto out;
	}
	if ((bio = mem_bio(k->key_pem, k->key_len)) == NULL ||
	    (pk = PEM_read_bio_PrivateKey(bio, NULL, tf_ossl_pass_cb,
	                                  (void *)(uintptr_t)k->key_pass)) == NULL) {
		r = tf_ossl_fail(err, TF_E_INPUT, "the recipient key does not load%s",
		                 k->key_pass ? " (wrong key passphrase?)" : "");
		goto out;
	}
	if (X509_check_private_key(x, pk) != 1) {
		r = tf_ossl_fail(err, TF_E_INPUT,
		                 "the recipient key does not match its certificate sha256:%s", fp);
		goto out;
	}
	*cert = x;
	x = NULL; /* transferred */
	*key = pk;
	pk = NULL; /* transferred */
	r = 0;
out:
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(pk);
	return r;
}

static char *name_str(const X509_NAME *name);

/* "'<issuer>' serial <hex>" of a key-transport recipient into buf (CMS names a recipient by its
 * certificate's issuer and serial; `tiferry keygen --recipient` certificates are self-signed,
 * so the issuer is the subject too). */
static void ktri_text(CMS_RecipientInfo *ri, char *buf, size_t n)
{
	ASN1_OCTET_STRING *keyid = NULL;
	X509_NAME *issuer = NULL;
	ASN1_INTEGER *sno = NULL;
	BIGNUM *bn = NULL;
	char *name = NULL, *hex = NULL;

	snprintf(buf, n, "a certificate named by key id");
	if (CMS_RecipientInfo_ktri_get0_signer_id(ri, &keyid, &issuer, &sno) == 1 &&
	    issuer != NULL && sno != NULL && (name = name_str(issuer)) != NULL &&
	    (bn = ASN1_INTEGER_to_BN(sno, NULL)) != NULL && (hex = BN_bn2hex(bn)) != NULL)
		snprintf(buf, n, "'%s' serial %s", name, hex);
	free(name);
	OPENSSL_free(hex);
	BN_free(bn);
}

/* What a secret is sealed to, for a refusal: "recipient certificate 'CN=a' serial 01, a
 * passphrase". */
static void sealed_to(CMS_ContentInfo *cms, char *buf, size_t n)
{
	STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < sk_CMS_RecipientInfo_num(ris) && used + 1 < n; i++) {
		CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, i);
		char one[600];

		if (CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_TRANS) {
			char t[560];

			ktri_text(ri, t, sizeof(t));
			snprintf(one, sizeof(one), "recipient certificate %s", t);
		} else if (CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_PASS) {
			snprintf(one, sizeof(one), "a passphrase");
		} else {
			snprintf(one, sizeof(one), "another kind of recipient");
		}
		used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? ", " : "", one);
	}
	if (used >= n)
		buf[n - 1] = '\0';
}

/* "'<subject>' serial <hex>" of cert into buf. */
static void cert_text(X509 *x, char *buf, size_t n)
{
	const ASN1_INTEGER *sno = X509_get0_serialNumber(x);
	BIGNUM *bn = sno ? ASN1_INTEGER_to_BN(sno, NULL) : NULL;
	char *name = name_str(X509_get_subject_name(x)), *hex = bn ? BN_bn2hex(bn) : NULL;

	snprintf(buf, n, "'%s' serial %s", name ? name : "?", hex ? hex : "?");
	free(name);
	OPENSSL_free(hex);
	BN_free(bn);
}

/* 1 when one of cms's key-transport recipients is cert. */
static int is_recipient(CMS_ContentInfo *cms, X509 *cert)
{
	STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
	int i;

	for (i = 0; i < sk_CMS_RecipientInfo_num(ris); i++) {
		CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, i);

		if (CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_TRANS &&
		    CMS_RecipientInfo_ktri_cert_cmp(ri, cert) == 0)
			return 1;
	}
	return 0;
}

static int open_content(CMS_ContentInfo *cms, uint8_t **out, size_t *outlen, struct tf_err *err)
{
	BIO *sec = NULL;
	char *ptr = NULL;
	uint8_t *buf = NULL;
	long n;
	int r;

	/* secure memory BIO: its buffer is wiped when it grows and when it is freed */
	if ((sec = BIO_new(BIO_s_secmem())) == NULL) {
		r = tf_ossl_fail(err, TF_E_NOMEM, "out of memory");
		goto out;
	}
	if (CMS_decrypt(cms, NULL, NULL, NULL, sec, CMS_BINARY) != 1) {
		r = tf_ossl_fail(err, TF_E_REJECT,
		                 "corrupted secret: the content does not decrypt");
		goto out;
	}
	n = BIO_get_mem_data(sec, &ptr);
	if (n < 0 || (buf = malloc((size_t)n + 1)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if (n > 0)
		memcpy(buf, ptr, (size_t)n);
	buf[n] = '\0';
	*out = buf;
	buf = NULL; /* transferred */
	*outlen = (size_t)n;
	r = 0;
out:
	BIO_free(sec);
	return r;
}

int tf_secrets_decrypt(const void *in, size_t len, const struct tf_secrets_key *k, uint8_t **out,
                       size_t *outlen, struct tf_err *err)
{
	CMS_ContentInfo *cms = NULL;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	struct shape s;
	char fp[TF_SHA256_HEX] = "";
	int r, by_key = 0;

	if (k == NULL || (k->key_pem == NULL && k->passphrase == NULL)) {
		r = tf_err_set(err, TF_E_USAGE,
		               "decrypting a secret needs the recipient key or "
		               "a passphrase");
		goto out;
	}
	if ((r = parse(in, len, &cms, &s, err)) != 0)
		goto out;
	if (k->key_pem != NULL) {
		if ((r = load_recipient(k, &cert, &key, fp, err)) != 0)
			goto out;
		if (is_recipient(cms, cert))
			by_key = 1;
		else if (k->passphrase == NULL || s.npwri == 0) {
			char to[1200], given[600];

			sealed_to(cms, to, sizeof(to));
			cert_text(cert, given, sizeof(given));
			r = tf_err_set(err, TF_E_INPUT,
			               "the secret is sealed to %s, not to the recipient key given "
			               "(certificate %s, sha256:%s)%s",
			               to[0] ? to : "no recipient", given, fp,
			               s.npwri ? "; it can be opened with its passphrase (--passin)"
			                       : "");
			goto out;
		}
	}
	if (by_key) {
		if (CMS_decrypt_set1_pkey(cms, key, cert) != 1) {
			r = tf_ossl_fail(err, TF_E_REJECT,
			                 "corrupted secret: the recipient key cannot unwrap its "
			                 "content key");
			goto out;
		}
	} else {
		if (s.npwri == 0) {
			r = tf_err_set(err, TF_E_INPUT,
			               "the secret is not encrypted to a passphrase; "
			               "it needs the recipient key");
			goto out;
		}
		if (CMS_decrypt_set1_password(cms, (unsigned char *)(uintptr_t)k->passphrase,
		                              (ossl_ssize_t)strlen(k->passphrase)) != 1) {
			ERR_clear_error();
			r = tf_err_set(err, TF_E_INPUT, "wrong passphrase for the secret");
			goto out;
		}
	}
	r = open_content(cms, out, outlen, err);
out:
	/* the content key and passphrase copies inside cms are wiped by OpenSSL on free */
	CMS_ContentInfo_free(cms);
	X509_free(cert);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return r;
}

/* ---- description ---- */

static char *name_str(const X509_NAME *name)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *ptr = NULL, *s = NULL;
	long n;

	if (mem == NULL || X509_NAME_print_ex(mem, name, 0, XN_FLAG_RFC2253) < 0)
		goto out;
	n = BIO_get_mem_data(mem, &ptr);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		goto out;
	if (n > 0)
		memcpy(s, ptr, (size_t)n);
	s[n] = '\0';
out:
	BIO_free(mem);
	return s;
}

static int describe_ktri(CMS_RecipientInfo *ri, cJSON *o)
{
	ASN1_OCTET_STRING *keyid = NULL;
	X509_NAME *issuer = NULL;
	ASN1_INTEGER *sno = NULL;
	BIGNUM *bn = NULL;
	char *hex = NULL, *name = NULL;
	int r = -1;

	if (CMS_RecipientInfo_ktri_get0_signer_id(ri, &keyid, &issuer, &sno) != 1)
		goto out;
	if (issuer != NULL && ((name = name_str(issuer)) == NULL ||
	                       cJSON_AddStringToObject(o, "issuer", name) == NULL))
		goto out;
	if (sno != NULL &&
	    ((bn = ASN1_INTEGER_to_BN(sno, NULL)) == NULL || (hex = BN_bn2hex(bn)) == NULL ||
	     cJSON_AddStringToObject(o, "serial", hex) == NULL))
		goto out;
	r = 0;
out:
	free(name);
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

/* The JSON text describing cms's recipients; NULL when out of memory. */
static char *describe(CMS_ContentInfo *cms, const struct shape *s)
{
	STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
	cJSON *root = NULL, *arr, *o;
	char *text = NULL;
	size_t pw = 0;
	int i;

	if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(root, "cipher", "aes-256-cbc") == NULL ||
	    (arr = cJSON_AddArrayToObject(root, "recipients")) == NULL)
		goto out;
	for (i = 0; i < sk_CMS_RecipientInfo_num(ris); i++) {
		CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, i);
		int type = CMS_RecipientInfo_type(ri);

		if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(arr, o))
			goto out;
		if (type == CMS_RECIPINFO_TRANS) {
			if (cJSON_AddStringToObject(o, "type", "certificate") == NULL ||
			    describe_ktri(ri, o) != 0)
				goto out;
		} else if (type == CMS_RECIPINFO_PASS && pw < s->npwri) {
			if (cJSON_AddStringToObject(o, "type", "passphrase") == NULL ||
			    cJSON_AddStringToObject(o, "kdf", "pbkdf2") == NULL ||
			    cJSON_AddNumberToObject(o, "iterations", (double)s->iter[pw++]) == NULL)
				goto out;
		} else if (cJSON_AddStringToObject(o, "type", "other") == NULL) {
			goto out;
		}
	}
	text = cJSON_PrintUnformatted(root);
out:
	cJSON_Delete(root);
	return text;
}

int tf_secrets_describe(const void *in, size_t len, char **json, struct tf_err *err)
{
	CMS_ContentInfo *cms = NULL;
	struct shape s;
	char *text;
	int r;

	if ((r = parse(in, len, &cms, &s, err)) != 0)
		goto out;
	if ((text = describe(cms, &s)) == NULL) {
		r = tf_err_set(err, TF_E_NOMEM, "out of memory describing a secret");
		goto out;
	}
	*json = text; /* transferred */
	r = 0;
out:
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r;
}
