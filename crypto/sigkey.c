/* Bundle signing keys over OpenSSL 3's EVP interface. */
#include "crypto/sigkey.h"
#include "crypto/ossl.h"
#include "common/hex.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define RSA_PSS_SALT 32
#define RSA_MIN_BITS 3072
#define RSA_MAX_BITS 8192

struct tf_sigkey {
	EVP_PKEY *pkey;
	enum tf_sigalg alg;
	int priv;
	char id[TF_SHA256_HEX];
};

int tf_sigalg_parse(const char *s, enum tf_sigalg *out, struct tf_err *err)
{
	if (strcmp(s, "ed25519") == 0)
		*out = TF_SIG_ED25519;
	else if (strcmp(s, "ecdsa-p256") == 0)
		*out = TF_SIG_ECDSA_P256;
	else if (strcmp(s, "rsa-pss-3072") == 0)
		*out = TF_SIG_RSA_PSS_3072;
	else
		return tf_err_set(err, TF_E_USAGE,
		                  "unknown algorithm '%s' (ed25519, ecdsa-p256 or rsa-pss-3072)",
		                  s);
	return 0;
}

const char *tf_sigalg_name(enum tf_sigalg alg)
{
	switch (alg) {
	case TF_SIG_ED25519:
		return "ed25519";
	case TF_SIG_ECDSA_P256:
		return "ecdsa-p256";
	case TF_SIG_RSA_PSS_3072:
		return "rsa-pss-3072";
	}
	return "unknown";
}

/* A P-256 public key rebuilt from its coordinates alone: named curve, uncompressed point.
 * OpenSSL keeps a loaded key's point form (compressed, hybrid) and parameter encoding (explicit),
 * so the same key could otherwise be registered under several ids and count as several
 * approvers. This is also how keys are usually written, so usual key ids do not change. */
static int ec_canonical(const EVP_PKEY *pkey, EVP_PKEY **out, struct tf_err *err)
{
	BIGNUM *x = NULL, *y = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *canon = NULL;
	uint8_t pt[65];
	char group[] = "prime256v1";
	OSSL_PARAM params[3];
	int r;

	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) ||
	    BN_bn2binpad(x, pt + 1, 32) != 32 || BN_bn2binpad(y, pt + 33, 32) != 32) {
		r = tf_ossl_fail(err, TF_E_INPUT, "read the EC public point");
		goto out;
	}
	pt[0] = 0x04; /* uncompressed */
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt));
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &canon, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "rebuild the EC public key");
		goto out;
	}
	*out = canon;
	canon = NULL; /* transferred */
	r = 0;
out:
	EVP_PKEY_free(canon);
	EVP_PKEY_CTX_free(ctx);
	BN_free(x);
	BN_free(y);
	return r;
}

/* The key id: SHA-256 of the DER SubjectPublicKeyInfo in one canonical encoding per key.
 * Ed25519 and RSA keys are re-encoded by OpenSSL from their values (the raw 32 bytes; n and e),
 * so i2d_PUBKEY is already canonical for them; an EC key is rebuilt first (ec_canonical). */
static int key_id(EVP_PKEY *pkey, char id[TF_SHA256_HEX], struct tf_err *err)
{
	EVP_PKEY *canon = NULL;
	unsigned char *der = NULL;
	uint8_t d[TF_SHA256_LEN];
	int derlen, r;

	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC && (r = ec_canonical(pkey, &canon, err)) != 0)
		return r;
	if ((derlen = i2d_PUBKEY(canon ? canon : pkey, &der)) <= 0) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "encode public key");
		goto out;
	}
	if ((r = tf_sha256(der, (size_t)derlen, d)) != 0) {
		r = tf_err_set(err, r, "hash public key");
		goto out;
	}
	tf_hex_encode(d, sizeof(d), id);
	r = 0;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(canon);
	return r;
}

/* Works out the algorithm from the key and computes its id; takes ownership of pkey. */
static int wrap(EVP_PKEY *pkey, int priv, const char *name, struct tf_sigkey **out,
                struct tf_err *err)
{
	struct tf_sigkey *k = NULL;
	char group[64] = "";
	int r;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	k->pkey = pkey;
	pkey = NULL; /* transferred */
	k->priv = priv;
	switch (EVP_PKEY_get_base_id(k->pkey)) {
	case EVP_PKEY_ED25519:
		k->alg = TF_SIG_ED25519;
		break;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
		                                    sizeof(group), NULL) ||
		    strcmp(group, "prime256v1") != 0) {
			r = tf_err_set(err, TF_E_INPUT, "key '%s': EC curve '%s' is not P-256",
			               name, group);
			goto out;
		}
		k->alg = TF_SIG_ECDSA_P256;
		break;
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(k->pkey) < RSA_MIN_BITS ||
		    EVP_PKEY_get_bits(k->pkey) > RSA_MAX_BITS) {
			r = tf_err_set(err, TF_E_INPUT,
			               "key '%s': RSA key of %d bits (need %d to %d)", name,
			               EVP_PKEY_get_bits(k->pkey), RSA_MIN_BITS, RSA_MAX_BITS);
			goto out;
		}
		k->alg = TF_SIG_RSA_PSS_3072;
		break;
	default:
		r = tf_err_set(err, TF_E_INPUT,
		               "key '%s': type '%s' is not ed25519, ecdsa-p256 or rsa-pss-3072",
		               name, EVP_PKEY_get0_type_name(k->pkey));
		goto out;
	}
	if ((r = key_id(k->pkey, k->id, err)) != 0) {
		tf_err_prefix(err, "key '%s'", name);
		goto out;
	}
	*out = k;
	k = NULL; /* transferred */
	r = 0;
out:
	EVP_PKEY_free(pkey);
	tf_sigkey_free(k);
	return r;
}

int tf_sigkey_generate(enum tf_sigalg alg, struct tf_sigkey **out, struct tf_err *err)
{
	EVP_PKEY *pkey = NULL;

	switch (alg) {
	case TF_SIG_ED25519:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case TF_SIG_ECDSA_P256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case TF_SIG_RSA_PSS_3072:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
		break;
	}
	if (pkey == NULL)
		return tf_ossl_fail(err, TF_E_CRYPTO, "generate key");
	return wrap(pkey, 1, "new", out, err);
}

int tf_sigkey_load_public(const char *pem, size_t len, const char *name, struct tf_sigkey **out,
                          struct tf_err *err)
{
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	int r;

	if (len > INT32_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return tf_err_nomem(err);
	if ((pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL) {
		r = tf_ossl_fail(err, TF_E_INPUT, "'%s' is not a PEM public key", name);
		goto out;
	}
	r = wrap(pkey, 0, name, out, err);
out:
	BIO_free(bio);
	return r;
}

int tf_sigkey_load_public_file(const char *path, struct tf_sigkey **out, struct tf_err *err)
{
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	int r;

	if ((bio = BIO_new_file(path, "r")) == NULL) {
		return tf_ossl_fail(err, TF_E_NOTFOUND, "open '%s'", path);
	}
	if ((pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL) {
		r = tf_ossl_fail(err, TF_E_INPUT, "'%s' is not a PEM public key", path);
		goto out;
	}
	r = wrap(pkey, 0, path, out, err);
out:
	BIO_free(bio);
	return r;
}

int tf_sigkey_load_private_file(const char *path, const char *passphrase, struct tf_sigkey **out,
                                struct tf_err *err)
{
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	int r;

	if ((bio = BIO_new_file(path, "r")) == NULL) {
		return tf_ossl_fail(err, TF_E_NOTFOUND, "open '%s'", path);
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, tf_ossl_pass_cb, (void *)(uintptr_t)passphrase);
	if (pkey == NULL) {
		/* A public key given for the private one is the common slip (KEY.pub for KEY.pem)
		 */
		if (BIO_reset(bio) == 0 &&
		    (pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) != NULL) {
			EVP_PKEY_free(pkey);
			ERR_clear_error();
			r = tf_err_set(
			    err, TF_E_INPUT,
			    "'%s' is a public key: signing needs the private key (the .key "
			    "file keygen wrote beside it)",
			    path);
			goto out;
		}
		r = tf_ossl_fail(err, TF_E_INPUT,
		                 passphrase ? "cannot read private key '%s' (wrong passphrase?)"
		                            : "cannot read private key '%s' (encrypted? give its "
		                              "passphrase with --passin)",
		                 path);
		goto out;
	}
	r = wrap(pkey, 1, path, out, err);
out:
	BIO_free(bio);
	return r;
}

/* Copies a memory BIO's contents into a new NUL-terminated string. */
static int bio_take(BIO *bio, char **out, size_t *len, struct tf_err *err)
{
	char *data = NULL, *s;
	long n = BIO_get_mem_data(bio, &data);

	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return tf_err_nomem(err);
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*out = s;
	*len = (size_t)n;
	return 0;
}

int tf_sigkey_private_pem(const struct tf_sigkey *k, const char *passphrase, char **out,
                          size_t *len, struct tf_err *err)
{
	BIO *bio = NULL;
	int r;

	if (!k->priv)
		return tf_err_set(err, TF_E_INPUT, "not a private key");
	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		return tf_err_nomem(err);
	if (!PEM_write_bio_PKCS8PrivateKey(bio, k->pkey, passphrase ? EVP_aes_256_cbc() : NULL,
	                                   NULL, 0, NULL, (void *)(uintptr_t)passphrase)) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "encode private key");
		goto out;
	}
	r = bio_take(bio, out, len, err);
out:
	BIO_free(bio); /* secure memory: cleared on free */
	return r;
}

int tf_sigkey_public_pem(const struct tf_sigkey *k, char **out, size_t *len, struct tf_err *err)
{
	BIO *bio = NULL;
	int r;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return tf_err_nomem(err);
	if (!PEM_write_bio_PUBKEY(bio, k->pkey)) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "encode public key");
		goto out;
	}
	r = bio_take(bio, out, len, err);
out:
	BIO_free(bio);
	return r;
}

int tf_sigkey_is_private(const struct tf_sigkey *k)
{
	return k->priv;
}

enum tf_sigalg tf_sigkey_alg(const struct tf_sigkey *k)
{
	return k->alg;
}

const char *tf_sigkey_id(const struct tf_sigkey *k)
{
	return k->id;
}

/* Sets up a sign or verify context with the digest and padding of k's algorithm. */
static int ctx_init(const struct tf_sigkey *k, EVP_MD_CTX *md, int sign)
{
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *dg = k->alg == TF_SIG_ED25519 ? NULL : EVP_sha256();
	int ok;

	ok = sign ? EVP_DigestSignInit(md, &pctx, dg, NULL, k->pkey)
	          : EVP_DigestVerifyInit(md, &pctx, dg, NULL, k->pkey);
	if (ok != 1)
		return -1;
	if (k->alg == TF_SIG_RSA_PSS_3072 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALT) != 1 ||
	     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1))
		return -1;
	return 0;
}

int tf_sigkey_sign(const struct tf_sigkey *k, const void *data, size_t len, uint8_t **sig,
                   size_t *siglen, struct tf_err *err)
{
	EVP_MD_CTX *md = NULL;
	uint8_t *s = NULL;
	size_t n = 0;
	int r;

	if (!k->priv)
		return tf_err_set(err, TF_E_INPUT, "signing needs a private key");
	if ((md = EVP_MD_CTX_new()) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if (ctx_init(k, md, 1) != 0 || EVP_DigestSign(md, NULL, &n, data, len) != 1) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "sign");
		goto out;
	}
	if ((s = malloc(n)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if (EVP_DigestSign(md, s, &n, data, len) != 1) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "sign");
		goto out;
	}
	*sig = s;
	s = NULL; /* transferred */
	*siglen = n;
	r = 0;
out:
	free(s);
	EVP_MD_CTX_free(md);
	return r;
}

int tf_sigkey_verify(const struct tf_sigkey *k, const void *data, size_t len, const uint8_t *sig,
                     size_t siglen, struct tf_err *err)
{
	EVP_MD_CTX *md = NULL;
	int r;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return tf_err_nomem(err);
	if (ctx_init(k, md, 0) != 0) {
		r = tf_ossl_fail(err, TF_E_CRYPTO, "verify");
		goto out;
	}
	if (EVP_DigestVerify(md, sig, siglen, data, len) != 1) {
		ERR_clear_error();
		r = tf_err_set(err, TF_E_REJECT, "signature does not verify");
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(md);
	return r;
}

void tf_sigkey_free(struct tf_sigkey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}
