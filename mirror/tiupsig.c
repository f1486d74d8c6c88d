/* TiUP's manifest signatures: RSASSA-PSS with SHA-256 over the canonical "signed" object, the
 * signature in standard base64 (TiUP's pkg/crypto/rsa.go). */
#include "mirror/tiupsig.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

static int b64_decode(const char *in, uint8_t **out, size_t *len)
{
	size_t n = strlen(in), pad = 0, i;
	uint8_t *buf;
	int got;

	if (n == 0 || n % 4 != 0 || n > 65536)
		return -1;
	for (i = 0; i < n; i++) {
		char ch = in[i];
		int alpha = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		            (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';

		if (ch == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (!alpha || pad > 0)
			return -1;
	}
	if ((buf = malloc(n / 4 * 3 + 1)) == NULL)
		return -1;
	got = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n);
	if (got < 0 || (size_t)got < pad) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = (size_t)got - pad;
	return 0;
}

int tf_tiup_sig_verify(const char *pem, const uint8_t *data, size_t len, const char *sig,
                       struct tf_err *err)
{
	BIO *bio = NULL;
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	int r;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if ((pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL) {
		r = tf_err_set(err, TF_E_INPUT, "public key is not a PEM public key");
		goto out;
	}
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pk) < 2048) {
		r = tf_err_set(err, TF_E_INPUT,
		               "public key is not an RSA key of 2048 bits or more");
		goto out;
	}
	if (b64_decode(sig, &raw, &rawlen) != 0) {
		r = tf_err_set(err, TF_E_INPUT, "signature is not standard base64");
		goto out;
	}
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1) {
		r = tf_err_set(err, TF_E_CRYPTO, "cannot set up an rsa-pss verification");
		goto out;
	}
	if (EVP_DigestVerify(md, raw, rawlen, data, len) != 1) {
		r = tf_err_set(err, TF_E_REJECT, "signature does not verify");
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	BIO_free(bio);
	free(raw);
	return r;
}
