/* Unit tests for crypto/sigkey: the three algorithms, key ids, PEM round trips, passphrases,
 * refusals, and agreement with the stock openssl command line. */
#include "tests/unit/testutil.h"

#include "common/fsutil.h"
#include "crypto/sigkey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char msg[] = "{\"format\": \"tiferry-bundle/1\"}\n";

static const enum tf_sigalg algs[] = {TF_SIG_ED25519, TF_SIG_ECDSA_P256, TF_SIG_RSA_PSS_3072};

/* The openssl command that verifies a signature by pub over data, as docs/bundle-format.md
 * gives it to auditors. */
static const char *verify_cmd(enum tf_sigalg alg)
{
	switch (alg) {
	case TF_SIG_ED25519:
		return "openssl pkeyutl -verify -pubin -inkey k.pub -rawin -in data -sigfile sig";
	case TF_SIG_ECDSA_P256:
		return "openssl dgst -sha256 -verify k.pub -signature sig data";
	case TF_SIG_RSA_PSS_3072:
		return "openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt "
		       "rsa_pss_saltlen:32 "
		       "-verify k.pub -signature sig data";
	}
	return "false";
}

static const char *sign_cmd(enum tf_sigalg alg)
{
	switch (alg) {
	case TF_SIG_ED25519:
		return "openssl pkeyutl -sign -inkey k.key -rawin -in data -out osig";
	case TF_SIG_ECDSA_P256:
		return "openssl dgst -sha256 -sign k.key -out osig data";
	case TF_SIG_RSA_PSS_3072:
		return "openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt "
		       "rsa_pss_saltlen:32 "
		       "-sign k.key -out osig data";
	}
	return "false";
}

static void write_pem(const char *path, const struct tf_sigkey *k, int priv, const char *pass)
{
	struct tf_err err;
	char *pem = NULL;
	size_t len = 0;

	if (priv)
		assert_int_equal(tf_sigkey_private_pem(k, pass, &pem, &len, &err), 0);
	else
		assert_int_equal(tf_sigkey_public_pem(k, &pem, &len, &err), 0);
	assert_int_equal(strlen(pem), len);
	tt_write(path, pem, len);
	tf_wipe(pem, len);
	free(pem);
}

static void test_algorithms(void **state)
{
	struct tf_err err;
	size_t i;

	(void)state;
	tt_tmpdir();
	tt_write_str("data", msg);
	for (i = 0; i < 3; i++) {
		struct tf_sigkey *k = NULL, *pub = NULL, *priv = NULL, *other = NULL;
		uint8_t *sig = NULL;
		size_t siglen = 0;
		char *osig = NULL, *idtxt = NULL;
		size_t osiglen = 0, idlen = 0;
		enum tf_sigalg a;

		assert_int_equal(tf_sigkey_generate(algs[i], &k, &err), 0);
		assert_true(tf_sigkey_is_private(k));
		assert_int_equal(tf_sigkey_alg(k), algs[i]);
		assert_int_equal(strlen(tf_sigkey_id(k)), 64);
		assert_int_equal(tf_sigalg_parse(tf_sigalg_name(algs[i]), &a, &err), 0);
		assert_int_equal(a, algs[i]);

		/* PEM round trips keep the key id */
		write_pem("k.pub", k, 0, NULL);
		write_pem("k.key", k, 1, NULL);
		assert_int_equal(tf_sigkey_load_public_file("k.pub", &pub, &err), 0);
		assert_false(tf_sigkey_is_private(pub));
		assert_int_equal(tf_sigkey_alg(pub), algs[i]);
		assert_string_equal(tf_sigkey_id(pub), tf_sigkey_id(k));
		assert_int_equal(tf_sigkey_load_private_file("k.key", NULL, &priv, &err), 0);
		assert_string_equal(tf_sigkey_id(priv), tf_sigkey_id(k));

		/* key id = hex sha256 of the DER SubjectPublicKeyInfo, as openssl computes it */
		assert_int_equal(
		    tt_sh(
		        "openssl pkey -pubin -in k.pub -outform DER | sha256sum | cut -c1-64 > id"),
		    0);
		assert_int_equal(tf_read_file("id", 100, &idtxt, &idlen, &err), 0);
		assert_int_equal(idlen, 65);
		idtxt[64] = '\0';
		assert_string_equal(idtxt, tf_sigkey_id(k));
		free(idtxt);

		/* sign and verify; changed data, changed signature and another key fail */
		assert_int_equal(tf_sigkey_sign(priv, msg, strlen(msg), &sig, &siglen, &err), 0);
		assert_int_equal(tf_sigkey_verify(pub, msg, strlen(msg), sig, siglen, &err), 0);
		assert_int_equal(tf_sigkey_verify(pub, msg, strlen(msg) - 1, sig, siglen, &err),
		                 TF_E_REJECT);
		sig[siglen / 2] ^= 1;
		assert_int_equal(tf_sigkey_verify(pub, msg, strlen(msg), sig, siglen, &err),
		                 TF_E_REJECT);
		sig[siglen / 2] ^= 1;
		assert_int_equal(tf_sigkey_verify(pub, msg, strlen(msg), sig, siglen - 1, &err),
		                 TF_E_REJECT);
		assert_int_equal(tf_sigkey_verify(pub, msg, strlen(msg), sig, 0, &err),
		                 TF_E_REJECT);
		assert_int_equal(tf_sigkey_generate(algs[i], &other, &err), 0);
		assert_string_not_equal(tf_sigkey_id(other), tf_sigkey_id(k));
		assert_int_equal(tf_sigkey_verify(other, msg, strlen(msg), sig, siglen, &err),
		                 TF_E_REJECT);
		assert_non_null(strstr(err.msg, "does not verify"));
		tf_sigkey_free(other);
		other = NULL;
		/* a key of another algorithm does not verify it either */
		assert_int_equal(tf_sigkey_generate(algs[(i + 1) % 3], &other, &err), 0);
		assert_int_not_equal(tf_sigkey_verify(other, msg, strlen(msg), sig, siglen, &err),
		                     0);

		/* stock openssl verifies ours, and we verify stock openssl's */
		tt_write("sig", sig, siglen);
		assert_int_equal(tt_sh("%s >/dev/null 2>&1", verify_cmd(algs[i])), 0);
		tt_write_str("data", "{\"format\": \"tiferry-bundle/2\"}\n");
		assert_int_not_equal(tt_sh("%s >/dev/null 2>&1", verify_cmd(algs[i])), 0);
		tt_write_str("data", msg);
		assert_int_equal(tt_sh("%s 2>/dev/null", sign_cmd(algs[i])), 0);
		assert_int_equal(tf_read_file("osig", 8192, &osig, &osiglen, &err), 0);
		assert_int_equal(
		    tf_sigkey_verify(pub, msg, strlen(msg), (uint8_t *)osig, osiglen, &err), 0);
		free(osig);

		/* a public key cannot sign */
		free(sig);
		sig = NULL;
		assert_int_equal(tf_sigkey_sign(pub, msg, strlen(msg), &sig, &siglen, &err),
		                 TF_E_INPUT);
		assert_null(sig);
		assert_int_equal(tf_sigkey_private_pem(pub, NULL, &idtxt, &idlen, &err),
		                 TF_E_INPUT);

		tf_sigkey_free(other);
		tf_sigkey_free(k);
		tf_sigkey_free(pub);
		tf_sigkey_free(priv);
	}
	tt_cleanup();
}

static void test_rsa_pss_salt(void **state)
{
	struct tf_sigkey *k = NULL;
	struct tf_err err;
	char *osig = NULL;
	size_t len = 0;

	(void)state;
	tt_tmpdir();
	tt_write_str("data", msg);
	assert_int_equal(tf_sigkey_generate(TF_SIG_RSA_PSS_3072, &k, &err), 0);
	write_pem("k.key", k, 1, NULL);
	/* PKCS#1 v1.5 and PSS with another salt length are not the documented algorithm */
	assert_int_equal(tt_sh("openssl dgst -sha256 -sign k.key -out osig data"), 0);
	assert_int_equal(tf_read_file("osig", 8192, &osig, &len, &err), 0);
	assert_int_equal(tf_sigkey_verify(k, msg, strlen(msg), (uint8_t *)osig, len, &err),
	                 TF_E_REJECT);
	free(osig);
	assert_int_equal(
	    tt_sh("openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:64 "
	          "-sign k.key -out osig data"),
	    0);
	assert_int_equal(tf_read_file("osig", 8192, &osig, &len, &err), 0);
	assert_int_equal(tf_sigkey_verify(k, msg, strlen(msg), (uint8_t *)osig, len, &err),
	                 TF_E_REJECT);
	free(osig);
	tf_sigkey_free(k);
	tt_cleanup();
}

static void test_passphrase(void **state)
{
	struct tf_sigkey *k = NULL, *back = NULL;
	struct tf_err err;
	char *pem = NULL;
	size_t len = 0;

	(void)state;
	tt_tmpdir();
	assert_int_equal(tf_sigkey_generate(TF_SIG_ED25519, &k, &err), 0);
	write_pem("k.key", k, 1, "s3cret pass");
	assert_int_equal(tf_read_file("k.key", 8192, &pem, &len, &err), 0);
	assert_non_null(strstr(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
	free(pem);
	assert_int_equal(tf_sigkey_load_private_file("k.key", "s3cret pass", &back, &err), 0);
	assert_string_equal(tf_sigkey_id(back), tf_sigkey_id(k));
	tf_sigkey_free(back);
	back = NULL;
	assert_int_equal(tf_sigkey_load_private_file("k.key", "wrong", &back, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "wrong passphrase"));
	assert_null(back);
	assert_int_equal(tf_sigkey_load_private_file("k.key", NULL, &back, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "give its passphrase with --passin"));
	/* openssl opens it with the same passphrase */
	assert_int_equal(
	    tt_sh("openssl pkey -in k.key -passin pass:'s3cret pass' -noout 2>/dev/null"), 0);
	assert_int_equal(tf_sigkey_load_private_file("missing.key", NULL, &back, &err),
	                 TF_E_NOTFOUND);
	tf_sigkey_free(k);
	tt_cleanup();
}

/* Reads the 64-digit key id the shell command left in "id". */
static void read_id(char id[TF_SHA256_HEX])
{
	struct tf_err err;
	char *txt = NULL;
	size_t len = 0;

	assert_int_equal(tf_read_file("id", 100, &txt, &len, &err), 0);
	assert_int_equal(len, 65);
	memcpy(id, txt, 64);
	id[64] = '\0';
	free(txt);
}

/* Regression (issue 13, item 1): the same P-256 key written by the openssl command line with a
 * compressed or hybrid point or explicit curve parameters has one key id, today's id of its usual
 * form, which the documented recipe (with -ec_conv_form/-ec_param_enc) also prints; likewise an
 * RSA key in PKCS#1 form. (An Ed25519 key has one encoding.) */
static void test_canonical_id(void **state)
{
	static const char *const forms[] = {
	    "openssl ec -pubin -in k.pub -conv_form compressed -out f.pub",
	    "openssl ec -pubin -in k.pub -conv_form hybrid -out f.pub",
	    "openssl ec -pubin -in k.pub -param_enc explicit -out f.pub",
	    "openssl ec -pubin -in k.pub -param_enc explicit -conv_form compressed -out f.pub",
	    "openssl ec -in k.key -conv_form compressed -out f.key && "
	    "openssl pkey -in f.key -pubout -out f.pub",
	};
	struct tf_sigkey *k = NULL, *f = NULL;
	struct tf_err err;
	char usual[TF_SHA256_HEX], id[TF_SHA256_HEX];
	size_t i;

	(void)state;
	tt_tmpdir();
	assert_int_equal(
	    tt_sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
	          "-out k.key 2>/dev/null && openssl pkey -in k.key -pubout -out k.pub"),
	    0);
	assert_int_equal(
	    tt_sh("openssl pkey -pubin -in k.pub -outform DER | sha256sum | cut -c1-64 > id"), 0);
	read_id(usual);
	assert_int_equal(tf_sigkey_load_public_file("k.pub", &k, &err), 0);
	assert_string_equal(tf_sigkey_id(k), usual);
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		assert_int_equal(tt_sh("rm -f f.pub f.key && %s 2>/dev/null", forms[i]), 0);
		/* the encoding really differs: plain openssl gives another id */
		assert_int_equal(
		    tt_sh(
		        "openssl pkey -pubin -in f.pub -outform DER | sha256sum | cut -c1-64 > id"),
		    0);
		read_id(id);
		if (i < 4)
			assert_string_not_equal(id, usual);
		assert_int_equal(tf_sigkey_load_public_file("f.pub", &f, &err), 0);
		assert_string_equal(tf_sigkey_id(f), usual);
		/* docs/bundle-format.md's recipe for an EC key */
		assert_int_equal(tt_sh("openssl pkey -pubin -in f.pub -outform DER -ec_conv_form "
		                       "uncompressed -ec_param_enc named_curve | sha256sum | "
		                       "cut -c1-64 > id"),
		                 0);
		read_id(id);
		assert_string_equal(id, usual);
		tf_sigkey_free(f);
		f = NULL;
	}
	/* a private key with a compressed point signs under the usual id as well */
	assert_int_equal(tf_sigkey_load_private_file("f.key", NULL, &f, &err), 0);
	assert_string_equal(tf_sigkey_id(f), usual);
	tf_sigkey_free(f);
	f = NULL;
	tf_sigkey_free(k);
	k = NULL;

	/* RSA: OpenSSL also reads a PKCS#1 "RSA PUBLIC KEY"; it is the same key, the same id */
	assert_int_equal(tt_sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "
	                       "r.key 2>/dev/null && openssl pkey -in r.key -pubout -out r.pub && "
	                       "openssl rsa -pubin -in r.pub -RSAPublicKey_out -out r1.pub "
	                       "2>/dev/null && grep -q 'BEGIN RSA PUBLIC KEY' r1.pub"),
	                 0);
	assert_int_equal(
	    tt_sh("openssl pkey -pubin -in r.pub -outform DER | sha256sum | cut -c1-64 > id"), 0);
	read_id(usual);
	assert_int_equal(tf_sigkey_load_public_file("r1.pub", &f, &err), 0);
	assert_string_equal(tf_sigkey_id(f), usual);
	tf_sigkey_free(f);
	tt_cleanup();
}

static void test_refused_keys(void **state)
{
	struct tf_sigkey *k = NULL;
	struct tf_err err;
	enum tf_sigalg a;

	(void)state;
	tt_tmpdir();
	assert_int_equal(tt_sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "
	                       "r2048.key 2>/dev/null"
	                       " && openssl pkey -in r2048.key -pubout -out r2048.pub"),
	                 0);
	assert_int_equal(tf_sigkey_load_public_file("r2048.pub", &k, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "RSA key of 2048 bits"));
	assert_int_equal(tf_sigkey_load_private_file("r2048.key", NULL, &k, &err), TF_E_INPUT);
	assert_int_equal(tt_sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 "
	                       "-out p384.key 2>/dev/null"
	                       " && openssl pkey -in p384.key -pubout -out p384.pub"),
	                 0);
	assert_int_equal(tf_sigkey_load_public_file("p384.pub", &k, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "is not P-256"));
	assert_int_equal(tt_sh("openssl genpkey -algorithm X25519 -out x.key 2>/dev/null"
	                       " && openssl pkey -in x.key -pubout -out x.pub"),
	                 0);
	assert_int_equal(tf_sigkey_load_public_file("x.pub", &k, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "is not ed25519, ecdsa-p256 or rsa-pss-3072"));
	assert_int_equal(tt_sh("openssl genpkey -algorithm ED448 -out e448.key 2>/dev/null"
	                       " && openssl pkey -in e448.key -pubout -out e448.pub"),
	                 0);
	assert_int_equal(tf_sigkey_load_public_file("e448.pub", &k, &err), TF_E_INPUT);
	/* not a public key at all; a private key where a public one is expected */
	assert_int_equal(tf_sigkey_load_public("junk", 4, "j.pub", &k, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "'j.pub' is not a PEM public key"));
	assert_int_equal(tf_sigkey_load_public_file("x.key", &k, &err), TF_E_INPUT);
	assert_int_equal(tf_sigkey_load_public_file("missing.pub", &k, &err), TF_E_NOTFOUND);
	assert_null(k);
	assert_int_equal(tf_sigalg_parse("dsa", &a, &err), TF_E_USAGE);
	assert_int_equal(tf_sigalg_parse("ED25519", &a, &err), TF_E_USAGE);
	tf_sigkey_free(NULL);
	tt_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_algorithms),   cmocka_unit_test(test_rsa_pss_salt),
	    cmocka_unit_test(test_passphrase),   cmocka_unit_test(test_refused_keys),
	    cmocka_unit_test(test_canonical_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
