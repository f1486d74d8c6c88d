/* Unit tests for crypto/x509: a certificate's facts from DER and PEM, chain verification against
 * CA text and files, key and host matching, against certificates made by the openssl command
 * line. */
#include "tests/unit/testutil.h"
#include "common/fsutil.h"
#include "crypto/x509.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ca (self-signed), inter (signed by ca, a CA), leaf (signed by inter, with SANs); leaf2 signed
 * by another CA. */
static void make_certs(void)
{
	assert_int_equal(
	    tt_sh(
	        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt "
	        "-subj '/O=Bank/CN=Root CA' -days 3650 2>/dev/null && "
	        "printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=keyCertSign\\n' > ca.ext && "
	        "openssl req -new -newkey rsa:2048 -nodes -keyout inter.key -out inter.csr "
	        "-subj '/O=Bank/CN=Inter CA' 2>/dev/null && "
	        "openssl x509 -req -in inter.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
	        "-days 3000 -extfile ca.ext -out inter.crt 2>/dev/null && "
	        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:pd-1.lab\\n' > leaf.ext && "
	        "openssl req -new -newkey rsa:3072 -nodes -keyout leaf.key -out leaf.csr "
	        "-subj '/O=Bank/CN=pd' 2>/dev/null && "
	        "openssl x509 -req -in leaf.csr -CA inter.crt -CAkey inter.key -CAcreateserial "
	        "-days 365 -extfile leaf.ext -out leaf.crt 2>/dev/null && "
	        "openssl x509 -in leaf.crt -outform DER -out leaf.der && "
	        "cat inter.crt ca.crt > both.crt && "
	        "openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt "
	        "-subj '/CN=Other CA' -days 30 2>/dev/null"),
	    0);
}

static char *slurp(const char *path, size_t *len)
{
	struct tf_err err;
	char *buf = NULL;

	assert_int_equal(tf_read_file(path, 1u << 20, &buf, len, &err), 0);
	return buf;
}

static void test_info(void **state)
{
	struct tf_x509_info a, b;
	struct tf_err err;
	size_t plen = 0, dlen = 0;
	char *pem, *der;

	(void)state;
	tt_tmpdir();
	make_certs();
	pem = slurp("leaf.crt", &plen);
	der = slurp("leaf.der", &dlen);
	assert_int_equal(tf_x509_info_pem(pem, plen, &a, &err), 0);
	assert_int_equal(tf_x509_info_der((const uint8_t *)der, dlen, &b, &err), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_string_equal(a.subject, "CN=pd,O=Bank");
	assert_string_equal(a.issuer, "CN=Inter CA,O=Bank");
	assert_string_equal(a.sans, "DNS:localhost, IP:127.0.0.1, DNS:pd-1.lab");
	assert_int_equal(a.key_bits, 3072);
	assert_false(a.is_ca);
	assert_true(a.not_after - a.not_before == 365 * 86400);
	assert_int_equal(strncmp(a.fingerprint, "sha256:", 7), 0);
	assert_string_equal(a.fingerprint + 7, a.sha256);
	/* as openssl prints them */
	assert_int_equal(tt_sh("test \"$(sha256sum < leaf.der | cut -d' ' -f1)\" = '%s'", a.sha256),
	                 0);
	assert_int_equal(tt_sh("test \"$(openssl x509 -in leaf.crt -noout -serial | cut -d= -f2)\" "
	                       "= '%s'",
	                       a.serial),
	                 0);
	free(pem);
	pem = slurp("inter.crt", &plen);
	assert_int_equal(tf_x509_info_pem(pem, plen, &a, &err), 0);
	assert_true(a.is_ca);
	assert_string_equal(a.sans, "");
	/* not certificates */
	assert_int_equal(tf_x509_info_pem("junk", 4, &a, &err), TF_E_INPUT);
	assert_int_equal(tf_x509_info_der((const uint8_t *)"junk", 4, &a, &err), TF_E_INPUT);
	free(pem);
	free(der);
	tt_cleanup();
}

static void test_verify(void **state)
{
	struct tf_x509_anchor a = {0};
	struct tf_err err;
	char why[TF_X509_REASON_MAX] = "", *leaf, *ca, *inter, *both;
	size_t ll = 0, cl = 0, il = 0, bl = 0;
	int ok = -1;

	(void)state;
	tt_tmpdir();
	make_certs();
	leaf = slurp("leaf.crt", &ll);
	ca = slurp("ca.crt", &cl);
	inter = slurp("inter.crt", &il);
	both = slurp("both.crt", &bl);
	/* a file with the whole chain */
	a.file = "both.crt";
	assert_int_equal(tf_x509_verify_pem(leaf, ll, &a, &ok, why, &err), 0);
	assert_int_equal(ok, 1);
	/* the same as text */
	a.file = NULL;
	a.pem = both;
	a.len = bl;
	assert_int_equal(tf_x509_verify_pem(leaf, ll, &a, &ok, why, &err), 0);
	assert_int_equal(ok, 1);
	/* the root alone: the intermediate is missing */
	a.pem = ca;
	a.len = cl;
	assert_int_equal(tf_x509_verify_pem(leaf, ll, &a, &ok, why, &err), 0);
	assert_int_equal(ok, 0);
	assert_string_equal(why, "unable to get local issuer certificate");
	/* the intermediate alone: only with a partial chain */
	a.pem = inter;
	a.len = il;
	assert_int_equal(tf_x509_verify_pem(leaf, ll, &a, &ok, why, &err), 0);
	assert_int_equal(ok, 0);
	a.partial = 1;
	assert_int_equal(tf_x509_verify_pem(leaf, ll, &a, &ok, why, &err), 0);
	assert_int_equal(ok, 1);
	/* checked at a time after the leaf expires */
	a.at = time(NULL) + 400 * 86400;
	assert_int_equal(tf_x509_verify_pem(leaf, ll, &a, &ok, why, &err), 0);
	assert_int_equal(ok, 0);
	assert_string_equal(why, "certificate has expired");
	/* another CA */
	a = (struct tf_x509_anchor){0};
	a.file = "other.crt";
	assert_int_equal(tf_x509_verify_pem(leaf, ll, &a, &ok, why, &err), 0);
	assert_int_equal(ok, 0);
	/* CAs that cannot be read */
	a.file = "missing.crt";
	assert_int_equal(tf_x509_verify_pem(leaf, ll, &a, &ok, why, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "cannot read the CA file 'missing.crt'"));
	a.file = NULL;
	a.pem = "junk";
	a.len = 4;
	assert_int_equal(tf_x509_verify_pem(leaf, ll, &a, &ok, why, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "no PEM certificate"));
	assert_int_equal(tf_x509_verify_pem("junk", 4, &a, &ok, why, &err), TF_E_INPUT);
	free(leaf);
	free(ca);
	free(inter);
	free(both);
	tt_cleanup();
}

static void test_key_and_host(void **state)
{
	struct tf_err err;
	char *leaf, *key, *other, *der;
	size_t ll = 0, kl = 0, ol = 0, dl = 0;

	(void)state;
	tt_tmpdir();
	make_certs();
	leaf = slurp("leaf.crt", &ll);
	key = slurp("leaf.key", &kl);
	other = slurp("other.key", &ol);
	der = slurp("leaf.der", &dl);
	assert_int_equal(tf_x509_check_key(leaf, ll, key, kl, &err), 0);
	assert_int_equal(tf_x509_check_key(leaf, ll, other, ol, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "the key does not match the certificate"));
	assert_int_equal(tf_x509_check_key(leaf, ll, "junk", 4, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "the key does not parse"));
	assert_int_equal(tf_x509_check_key("junk", 4, key, kl, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "not a PEM certificate"));
	/* SANs, never the CN */
	assert_int_equal(tf_x509_covers_host((const uint8_t *)der, dl, "127.0.0.1"), 1);
	assert_int_equal(tf_x509_covers_host((const uint8_t *)der, dl, "pd-1.lab"), 1);
	assert_int_equal(tf_x509_covers_host((const uint8_t *)der, dl, "localhost"), 1);
	assert_int_equal(tf_x509_covers_host((const uint8_t *)der, dl, "10.0.0.1"), 0);
	assert_int_equal(tf_x509_covers_host((const uint8_t *)der, dl, "pd"), 0);
	assert_int_equal(tf_x509_covers_host((const uint8_t *)"junk", 4, "pd"), 0);
	free(leaf);
	free(key);
	free(other);
	free(der);
	tt_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_info),
	    cmocka_unit_test(test_verify),
	    cmocka_unit_test(test_key_and_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
