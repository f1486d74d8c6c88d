/* Unit tests of mirror/tiupsig.c: RSASSA-PSS signatures made by the openssl command line as TiUP
 * makes them, verified, tampered with, and the keys and encodings refused. */
#include "tests/unit/testutil.h"
#include "common/fsutil.h"
#include "mirror/tiupsig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
	struct tf_err err;
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(tf_read_file(path, 1u << 20, &buf, &len, &err), 0);
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return buf;
}

/* key.pub (PEM) and the base64 signature of data in name.sig, salt length saltlen. */
static void sign(const char *keyspec, const char *name, const char *data, const char *saltlen)
{
	tt_write_str("data", data);
	assert_int_equal(tt_sh("openssl genpkey -algorithm %s -out %s.key 2>/dev/null && "
	                       "openssl pkey -in %s.key -pubout -out %s.pub && "
	                       "openssl dgst -sha256 -sigopt rsa_padding_mode:pss "
	                       "-sigopt rsa_pss_saltlen:%s -sign %s.key -out %s.bin data && "
	                       "base64 -w0 %s.bin > %s.sig",
	                       keyspec, name, name, name, saltlen, name, name, name, name),
	                 0);
}

static void test_verify(void **state)
{
	static const char data[] = "{\"signed\":{\"_type\":\"root\"}}";
	struct tf_err err;
	char *pub, *sig, *pub2;

	(void)state;
	tt_tmpdir();
	sign("RSA -pkeyopt rsa_keygen_bits:2048", "a", data, "32");
	pub = slurp("a.pub");
	sig = slurp("a.sig");
	assert_int_equal(tf_tiup_sig_verify(pub, (const uint8_t *)data, strlen(data), sig, &err),
	                 0);
	/* other bytes */
	assert_int_equal(
	    tf_tiup_sig_verify(pub, (const uint8_t *)data, strlen(data) - 1, sig, &err),
	    TF_E_REJECT);
	assert_non_null(strstr(err.msg, "signature does not verify"));
	/* another key */
	sign("RSA -pkeyopt rsa_keygen_bits:2048", "b", data, "max");
	pub2 = slurp("b.pub");
	assert_int_equal(tf_tiup_sig_verify(pub2, (const uint8_t *)data, strlen(data), sig, &err),
	                 TF_E_REJECT);
	free(sig);
	/* any salt length */
	sig = slurp("b.sig");
	assert_int_equal(tf_tiup_sig_verify(pub2, (const uint8_t *)data, strlen(data), sig, &err),
	                 0);
	/* not base64, not a key */
	assert_int_equal(tf_tiup_sig_verify(pub, (const uint8_t *)data, strlen(data), "a*b=", &err),
	                 TF_E_INPUT);
	assert_non_null(strstr(err.msg, "not standard base64"));
	assert_int_equal(tf_tiup_sig_verify(pub, (const uint8_t *)data, strlen(data), "", &err),
	                 TF_E_INPUT);
	assert_int_equal(tf_tiup_sig_verify("junk", (const uint8_t *)data, strlen(data), sig, &err),
	                 TF_E_INPUT);
	assert_non_null(strstr(err.msg, "not a PEM public key"));
	free(pub);
	free(pub2);
	free(sig);
	tt_cleanup();
}

static void test_weak_keys(void **state)
{
	struct tf_err err;
	char *pub, *sig;

	(void)state;
	tt_tmpdir();
	sign("RSA -pkeyopt rsa_keygen_bits:1024", "small", "x", "32");
	pub = slurp("small.pub");
	sig = slurp("small.sig");
	assert_int_equal(tf_tiup_sig_verify(pub, (const uint8_t *)"x", 1, sig, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "2048 bits or more"));
	free(pub);
	assert_int_equal(tt_sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
	                       "-out ec.key 2>/dev/null && openssl pkey -in ec.key -pubout -out "
	                       "ec.pub"),
	                 0);
	pub = slurp("ec.pub");
	assert_int_equal(tf_tiup_sig_verify(pub, (const uint8_t *)"x", 1, sig, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "not an RSA key"));
	free(pub);
	free(sig);
	tt_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verify),
	    cmocka_unit_test(test_weak_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
