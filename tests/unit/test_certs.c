/* Unit tests for crypto/certs and crypto/tlsdir: TiUP's tls/ folder generated, imported, sealed and
 * unsealed, every refusal, and recipient keys, checked with the openssl command line. */
#include "tests/unit/testutil.h"

#include "common/fsutil.h"
#include "common/timeutil.h"
#include "crypto/certs.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY ((time_t)86400)
#define YEAR (365 * DAY)

/* A CA made with the openssl command line: name.key and name.crt, valid days, with the
 * extensions in ext ("" for none beyond what -x509 adds). */
static void cli_root(const char *name, const char *keyspec, int days, const char *ext)
{
	assert_int_equal(tt_sh("openssl req -x509 -newkey %s -nodes -keyout %s.key -out %s.crt "
	                       "-subj '/O=Bank/CN=%s' -days %d %s 2>/dev/null",
	                       keyspec, name, name, name, days, ext),
	                 0);
}

/* name.crt signed by issuer with an extension file holding ext. */
static void cli_signed(const char *name, const char *issuer, int days, const char *ext)
{
	FILE *f;
	char path[64];

	snprintf(path, sizeof(path), "%s.ext", name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", ext);
	fclose(f);
	assert_int_equal(
	    tt_sh("openssl req -new -newkey rsa:2048 -nodes -keyout %s.key -out %s.csr "
	          "-subj '/O=Bank/CN=%s' 2>/dev/null && openssl x509 -req -in %s.csr "
	          "-CA %s.crt -CAkey %s.key -CAcreateserial -days %d -extfile %s.ext "
	          "-out %s.crt 2>/dev/null",
	          name, name, name, name, issuer, issuer, days, name, name),
	    0);
}

static void config_import(struct tf_certs_config *c, const char *crt, const char *key)
{
	memset(c, 0, sizeof(*c));
	c->source = TF_CERTS_IMPORT;
	c->cluster = "prod";
	c->ca_cert_file = crt;
	c->ca_key_file = key;
	c->window_end = tf_time_now() + 30 * DAY;
}

static void expect_refusal(const struct tf_certs_config *cfg, const char *what)
{
	struct tf_certs c;
	struct tf_err err;

	tf_certs_init(&c);
	if (tf_certs_make(cfg, &c, &err) != TF_E_INPUT)
		fail_msg("expected a refusal with '%s'", what);
	if (strstr(err.msg, what) == NULL)
		fail_msg("expected '%s' in: %s", what, err.msg);
	tf_certs_release(&c);
}

/* The files TiUP's tls/ folder needs, named and typed as TiUP writes and reads them. */
static void check_tls_dir(const char *cn)
{
	struct stat st;

	assert_int_equal(tt_sh("openssl verify -CAfile ca.crt client.crt >/dev/null"), 0);
	assert_int_equal(tt_sh("head -n1 ca.pem | grep -qx -- '-----BEGIN RSA PRIVATE KEY-----'"),
	                 0);
	assert_int_equal(tt_sh("head -n1 client.pem | grep -qx -- "
	                       "'-----BEGIN RSA PRIVATE KEY-----'"),
	                 0);
	assert_int_equal(tt_sh("head -n1 ca.crt | grep -qx -- '-----BEGIN CERTIFICATE-----'"), 0);
	assert_int_equal(tt_sh("head -n1 client.crt | grep -qx -- '-----BEGIN CERTIFICATE-----'"),
	                 0);
	/* each key matches its certificate */
	assert_int_equal(tt_sh("test \"$(openssl x509 -in ca.crt -noout -modulus)\" = "
	                       "\"$(openssl rsa -in ca.pem -noout -modulus)\""),
	                 0);
	assert_int_equal(tt_sh("test \"$(openssl x509 -in client.crt -noout -modulus)\" = "
	                       "\"$(openssl rsa -in client.pem -noout -modulus)\""),
	                 0);
	/* client.pfx opens with TiUP's password and holds the client key and certificate */
	assert_int_equal(tt_sh("openssl pkcs12 -in client.pfx -passin pass:tiup -nodes "
	                       "-out pfx.pem 2>/dev/null"),
	                 0);
	assert_int_equal(tt_sh("grep -q 'BEGIN PRIVATE KEY' pfx.pem && "
	                       "openssl x509 -in pfx.pem -noout -subject | grep -q 'CN = %s'",
	                       cn),
	                 0);
	assert_int_equal(tt_sh("openssl pkcs12 -in client.pfx -passin pass:wrong -noout "
	                       "2>/dev/null"),
	                 1);
	/* TiUP's client certificate: both TLS usages, not a CA */
	assert_int_equal(tt_sh("openssl x509 -in client.crt -noout -ext extendedKeyUsage | "
	                       "grep -q 'TLS Web Client Authentication, TLS Web Server "
	                       "Authentication'"),
	                 0);
	assert_int_equal(tt_sh("openssl x509 -in client.crt -noout -subject | grep -q "
	                       "'OU = tiup-cluster-client, CN = %s'",
	                       cn),
	                 0);
	assert_int_equal(stat("ca.pem", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat("client.pem", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat("client.pfx", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat("ca.crt", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
}

/* TiUP's tls/ folder in dir as the product makes it: sealed for the bundle (to a passphrase),
 * then unsealed, checked and placed as the installer does. */
static void place_tls(const struct tf_certs *c, const char *dir)
{
	struct tf_secrets_recipients to = {NULL, 0, "correct horse battery", 1000};
	struct tf_secrets_key k = {0};
	struct tf_certs_sealed sealed;
	struct tf_err err;
	char path[256];
	size_t i;

	k.passphrase = to.passphrase;
	assert_int_equal(tf_certs_seal(c, &to, &sealed, &err), 0);
	assert_int_equal(tt_sh("rm -rf sealed && mkdir sealed"), 0);
	for (i = 0; i < TF_CERTS_NFILES; i++) {
		snprintf(path, sizeof(path), "sealed/%s", sealed.files[i].name);
		assert_int_equal(tf_write_file_atomic(path, sealed.files[i].data,
		                                      sealed.files[i].len, 0644, &err),
		                 0);
	}
	assert_int_equal(tf_certs_unseal("sealed", dir, &k, 1, &err), 0);
	tf_certs_sealed_release(&sealed);
}

static void test_generate(void **state)
{
	struct tf_certs_config cfg = {0};
	struct tf_certs c;
	struct tf_certs_file f[TF_CERTS_NFILES];
	struct tf_err err;
	struct tf_x509_info info;
	char *json = NULL;
	cJSON *j;

	(void)state;
	tt_tmpdir();
	cfg.source = TF_CERTS_GENERATE;
	cfg.cluster = "prod";
	cfg.subject = "/C=CN/O=Example Bank/OU=DBA/CN=TiDB prod CA";
	cfg.rsa_bits = 3072;
	cfg.window_end = tf_time_now() + 90 * DAY;
	tf_certs_init(&c);
	assert_int_equal(tf_certs_make(&cfg, &c, &err), 0);
	place_tls(&c, ".");
	check_tls_dir("prod-client");
	assert_int_equal(tt_sh("openssl x509 -in ca.crt -noout -subject | grep -q "
	                       "'C = CN, O = Example Bank, OU = DBA, CN = TiDB prod CA'"),
	                 0);
	assert_int_equal(tt_sh("openssl x509 -in ca.crt -noout -text | grep -q 'CA:TRUE' && "
	                       "openssl rsa -in ca.pem -noout -text | grep -q '3072 bit'"),
	                 0);
	/* the client keeps the CA's O, as TiUP's keeps PingCAP */
	assert_int_equal(tt_sh("openssl x509 -in client.crt -noout -subject | grep -q "
	                       "'O = Example Bank'"),
	                 0);
	assert_int_equal(c.ca.key_bits, 3072);
	assert_true(c.ca.is_ca);
	assert_false(c.client.is_ca);
	assert_true(c.ca.not_after - c.ca.not_before >= (time_t)TF_CERTS_CA_DAYS * DAY);
	assert_true(c.client.not_after - c.client.not_before == (time_t)TF_CERTS_CLIENT_DAYS * DAY);
	/* fingerprints as openssl prints them */
	assert_int_equal(tf_x509_info_pem(c.ca_crt, c.ca_crt_len, &info, &err), 0);
	assert_string_equal(info.fingerprint, c.ca.fingerprint);
	assert_int_equal(tt_sh("test \"sha256:$(openssl x509 -in ca.crt -noout -fingerprint "
	                       "-sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)\" = '%s'",
	                       c.ca.fingerprint),
	                 0);
	/* the files in TiUP's order, secrets marked */
	tf_certs_files(&c, f);
	assert_string_equal(f[0].name, "ca.crt");
	assert_string_equal(f[1].name, "ca.pem");
	assert_string_equal(f[2].name, "client.crt");
	assert_string_equal(f[3].name, "client.pem");
	assert_string_equal(f[4].name, "client.pfx");
	assert_false(f[0].secret);
	assert_true(f[1].secret && f[3].secret && f[4].secret);
	/* what the installer checks after decrypting */
	assert_int_equal(tf_certs_check_pair(c.ca_crt, c.ca_crt_len, c.ca_pem, c.ca_pem_len, &err),
	                 0);
	assert_int_equal(tf_certs_check_pair(c.client_crt, c.client_crt_len, c.client_pem,
	                                     c.client_pem_len, &err),
	                 0);
	assert_int_equal(
	    tf_certs_check_pair(c.ca_crt, c.ca_crt_len, c.client_pem, c.client_pem_len, &err),
	    TF_E_INPUT);
	assert_non_null(strstr(err.msg, "does not match"));
	assert_int_equal(tt_sh("openssl pkcs8 -topk8 -nocrypt -in ca.pem -out ca8.pem"), 0);
	{
		char *k8 = NULL;
		size_t k8len = 0;

		assert_int_equal(tf_read_file("ca8.pem", 65536, &k8, &k8len, &err), 0);
		assert_int_equal(tf_certs_check_pair(c.ca_crt, c.ca_crt_len, k8, k8len, &err),
		                 TF_E_INPUT);
		assert_non_null(strstr(err.msg, "PKCS#1"));
		free(k8);
	}
	/* the manifest's summary: no secret, the fingerprints */
	assert_int_equal(tf_certs_summary_json(&c, NULL, &json, &err), 0);
	assert_null(strstr(json, "PRIVATE KEY"));
	j = cJSON_Parse(json);
	assert_non_null(j);
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "ca"), "fingerprint")->valuestring,
	    c.ca.fingerprint);
	assert_string_equal(cJSON_GetObjectItem(j, "source")->valuestring, "generated");
	assert_non_null(
	    strstr(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "client"), "subject")->valuestring,
	           "CN=prod-client"));
	cJSON_Delete(j);
	free(json);
	tf_certs_release(&c);
	tf_certs_release(&c); /* released twice is harmless */
	tt_cleanup();
}

static void test_generate_defaults_and_refusals(void **state)
{
	struct tf_certs_config cfg = {0};
	struct tf_certs c;
	struct tf_err err;

	(void)state;
	tt_tmpdir();
	cfg.source = TF_CERTS_GENERATE;
	cfg.cluster = "lab";
	cfg.client_cn = "ops-client";
	tf_certs_init(&c);
	assert_int_equal(tf_certs_make(&cfg, &c, &err), 0);
	place_tls(&c, ".");
	check_tls_dir("ops-client");
	assert_string_equal(c.ca.subject, "CN=lab CA,OU=TiUP,O=tiferry");
	assert_int_equal(c.ca.key_bits, 2048);
	tf_certs_release(&c);
	/* a CA that ends before the window plus TiUP's 10 years */
	cfg.validity_days = 3650;
	cfg.window_end = tf_time_now() + 30 * DAY;
	expect_refusal(&cfg, "does not cover");
	cfg.validity_days = 0;
	cfg.rsa_bits = 1024;
	assert_int_equal(tf_certs_make(&cfg, &c, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "2048, 3072 or 4096"));
	cfg.rsa_bits = 0;
	cfg.subject = "/O=Bank/XX=nope";
	expect_refusal(&cfg, "attribute 'XX' is not known");
	cfg.subject = "O=Bank, CN=Comma CA";
	assert_int_equal(tf_certs_make(&cfg, &c, &err), 0);
	assert_string_equal(c.ca.subject, "CN=Comma CA,O=Bank");
	tf_certs_release(&c);
	tt_cleanup();
}

static void test_import(void **state)
{
	struct tf_certs_config cfg;
	struct tf_certs c;
	struct tf_err err;

	(void)state;
	tt_tmpdir();
	cli_root("root", "rsa:3072", 365 * 30, "-addext keyUsage=critical,keyCertSign,cRLSign");
	config_import(&cfg, "root.crt", "root.key");
	tf_certs_init(&c);
	assert_int_equal(tf_certs_make(&cfg, &c, &err), 0);
	assert_int_equal(c.nchain, 0);
	assert_int_equal(c.nwarnings, 0);
	assert_int_equal(mkdir("tls", 0700), 0);
	place_tls(&c, "tls");
	assert_int_equal(chdir("tls"), 0);
	check_tls_dir("prod-client");
	/* the imported CA is carried unchanged; its key is rewritten as PKCS#1 */
	assert_int_equal(tt_sh("cmp -s ca.crt ../root.crt"), 0);
	assert_int_equal(tt_sh("test \"$(openssl rsa -in ca.pem -outform DER 2>/dev/null | "
	                       "sha256sum)\" = \"$(openssl rsa -in ../root.key -outform DER "
	                       "2>/dev/null | sha256sum)\""),
	                 0);
	assert_int_equal(chdir(".."), 0);
	tf_certs_release(&c);
	/* an encrypted (PKCS#8) CA key with its passphrase */
	assert_int_equal(tt_sh("openssl pkcs8 -topk8 -in root.key -v2 aes-256-cbc -passout "
	                       "pass:keypass1 -out root-enc.key"),
	                 0);
	config_import(&cfg, "root.crt", "root-enc.key");
	expect_refusal(&cfg, "give its passphrase");
	cfg.ca_key_pass = "wrong";
	expect_refusal(&cfg, "wrong passphrase");
	cfg.ca_key_pass = "keypass1";
	assert_int_equal(tf_certs_make(&cfg, &c, &err), 0);
	tf_certs_release(&c);
	tt_cleanup();
}

/* root -> intermediate, both made with the openssl command line: refused, with or without its
 * chain (issue 12 §2h: the nodes would get the intermediate alone as their trust anchor, which
 * TiKV's OpenSSL refuses). */
static void test_import_intermediate_refused(void **state)
{
	struct tf_certs_config cfg;
	const char *why = "is an intermediate CA (issued by 'CN=root,O=Bank'): TiUP gives the "
	                  "nodes only this certificate";

	(void)state;
	tt_tmpdir();
	cli_root("root", "rsa:2048", 365 * 40, "");
	cli_signed("inter", "root", 365 * 30,
	           "basicConstraints=critical,CA:TRUE,pathlen:0\n"
	           "keyUsage=critical,keyCertSign,cRLSign,digitalSignature\n"
	           "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid");
	/* what TiKV's OpenSSL does with the intermediate alone as anchor, and with partial chains
	 */
	cli_signed("leaf", "inter", 365, "basicConstraints=CA:FALSE");
	assert_int_equal(tt_sh("! openssl verify -CAfile inter.crt leaf.crt >/dev/null 2>&1"), 0);
	assert_int_equal(
	    tt_sh("openssl verify -partial_chain -CAfile inter.crt leaf.crt >/dev/null 2>&1"), 0);
	config_import(&cfg, "inter.crt", "inter.key");
	cfg.chain_file = "root.crt";
	expect_refusal(&cfg, why);
	expect_refusal(&cfg, "generate one (tls: {ca: generate})");
	/* the chain appended to the CA file: the same */
	assert_int_equal(tt_sh("cat inter.crt root.crt > both.crt"), 0);
	config_import(&cfg, "both.crt", "inter.key");
	expect_refusal(&cfg, why);
	/* no chain: refused too (was accepted with a warning) */
	config_import(&cfg, "inter.crt", "inter.key");
	expect_refusal(&cfg, why);
	tt_cleanup();
}

static void test_import_refusals(void **state)
{
	struct tf_certs_config cfg;

	(void)state;
	tt_tmpdir();
	/* CA:FALSE */
	cli_root("leaf", "rsa:2048", 365 * 30, "-addext basicConstraints=critical,CA:FALSE");
	config_import(&cfg, "leaf.crt", "leaf.key");
	expect_refusal(&cfg, "is not a CA: its basicConstraints say CA:FALSE");
	/* no basicConstraints at all (a v1 certificate) */
	assert_int_equal(
	    tt_sh("openssl req -new -newkey rsa:2048 -nodes -keyout v1.key -out v1.csr "
	          "-subj /CN=v1 2>/dev/null && openssl x509 -req -in v1.csr -signkey "
	          "v1.key -days 20000 -out v1.crt 2>/dev/null"),
	    0);
	config_import(&cfg, "v1.crt", "v1.key");
	expect_refusal(&cfg, "is not a CA: it has no basicConstraints extension");
	/* a key that does not match */
	cli_root("root", "rsa:2048", 365 * 30, "");
	config_import(&cfg, "root.crt", "leaf.key");
	expect_refusal(&cfg, "the CA key 'leaf.key' does not match the CA certificate 'root.crt'");
	/* an EC CA */
	cli_root("ec", "ec -pkeyopt ec_paramgen_curve:P-256", 365 * 30, "");
	config_import(&cfg, "ec.crt", "ec.key");
	expect_refusal(&cfg, "TiUP needs an RSA CA key");
	expect_refusal(&cfg, "is an EC key");
	/* validity: not covering the window's end plus ten years */
	cli_root("short", "rsa:2048", 365 * 10 - 1, "");
	config_import(&cfg, "short.crt", "short.key");
	expect_refusal(&cfg, "does not cover");
	expect_refusal(&cfg, "TiUP issues node certificates for 3650 days");
	/* with no window the CA must still last ten years from now */
	cfg.window_end = 0;
	expect_refusal(&cfg, "does not cover");
	/* a 12-year CA does for a bundle valid a month, not for one valid three years */
	cli_root("long", "rsa:2048", 365 * 12, "");
	config_import(&cfg, "long.crt", "long.key");
	{
		struct tf_certs c;
		struct tf_err err;

		tf_certs_init(&c);
		assert_int_equal(tf_certs_make(&cfg, &c, &err), 0);
		tf_certs_release(&c);
	}
	cfg.window_end = tf_time_now() + 3 * YEAR;
	expect_refusal(&cfg, "does not cover");
	/* not valid yet (seen from a year ago) */
	config_import(&cfg, "root.crt", "root.key");
	cfg.now = tf_time_now() - YEAR;
	cfg.window_end = cfg.now + 30 * DAY;
	expect_refusal(&cfg, "is not valid before");
	/* a weak RSA key */
	cli_root("weak", "rsa:1024", 365 * 30, "");
	config_import(&cfg, "weak.crt", "weak.key");
	expect_refusal(&cfg, "the CA key 'weak.key' has 1024 bits (at least 2048 needed)");
	/* keyUsage without keyCertSign */
	cli_root("nosign", "rsa:2048", 365 * 30,
	         "-addext keyUsage=critical,digitalSignature,cRLSign");
	config_import(&cfg, "nosign.crt", "nosign.key");
	expect_refusal(&cfg, "lacks keyCertSign");
	/* extended key usage that Go's chain check would refuse */
	cli_root("eku", "rsa:2048", 365 * 30, "-addext extendedKeyUsage=serverAuth");
	config_import(&cfg, "eku.crt", "eku.key");
	expect_refusal(&cfg, "serverAuth and clientAuth");
	/* missing files */
	config_import(&cfg, "missing.crt", "root.key");
	{
		struct tf_certs c;
		struct tf_err err;

		tf_certs_init(&c);
		assert_int_equal(tf_certs_make(&cfg, &c, &err), TF_E_NOTFOUND);
		config_import(&cfg, "root.key", "root.key");
		assert_int_equal(tf_certs_make(&cfg, &c, &err), TF_E_INPUT);
		assert_non_null(strstr(err.msg, "holds no PEM certificate"));
	}
	tt_cleanup();
}

static void test_recipient_keygen(void **state)
{
	struct tf_err err;
	char *key = NULL, *cert = NULL, fp[TF_FINGERPRINT_LEN];
	size_t kl = 0, cl = 0;
	struct tf_x509_info info;

	(void)state;
	tt_tmpdir();
	assert_int_equal(tf_certs_recipient_keygen("tiferry recipient ctl-1", 0, 0, &key, &kl,
	                                           &cert, &cl, fp, &err),
	                 0);
	tt_write("r.key", key, kl);
	tt_write("r.crt", cert, cl);
	assert_int_equal(tt_sh("openssl x509 -in r.crt -noout -ext keyUsage | "
	                       "grep -q 'Key Encipherment'"),
	                 0);
	assert_int_equal(tt_sh("openssl rsa -in r.key -noout -text | grep -q '3072 bit'"), 0);
	assert_int_equal(tt_sh("test \"sha256:$(openssl x509 -in r.crt -noout -fingerprint "
	                       "-sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)\" = '%s'",
	                       fp),
	                 0);
	assert_int_equal(tf_x509_info_pem(cert, cl, &info, &err), 0);
	assert_string_equal(info.subject, "CN=tiferry recipient ctl-1");
	assert_string_equal(info.fingerprint, fp);
	assert_false(info.is_ca);
	assert_int_equal(tf_x509_info_pem("junk", 4, &info, &err), TF_E_INPUT);
	tf_wipe(key, kl);
	free(key);
	free(cert);
	tt_cleanup();
}

/* The builder seals, the installer unseals: no plaintext key in between, TiUP's files after. */
static void test_seal_unseal(void **state)
{
	struct tf_certs_config cfg = {0};
	struct tf_certs c;
	struct tf_certs_sealed sealed;
	struct tf_secrets_recipients to = {0};
	struct tf_secrets_key by_key = {0}, by_pass = {0};
	struct tf_err err;
	char *rkey = NULL, *rcert = NULL, fp[TF_FINGERPRINT_LEN];
	size_t rkl = 0, rcl = 0, i;

	(void)state;
	tt_tmpdir();
	cfg.source = TF_CERTS_GENERATE;
	cfg.cluster = "prod";
	tf_certs_init(&c);
	assert_int_equal(tf_certs_make(&cfg, &c, &err), 0);
	assert_int_equal(
	    tf_certs_recipient_keygen("ctl", 0, 0, &rkey, &rkl, &rcert, &rcl, fp, &err), 0);
	to.cert_pem = rcert;
	to.cert_len = rcl;
	to.passphrase = "correct horse battery";
	to.iterations = 1000;
	assert_int_equal(tf_certs_seal(&c, &to, &sealed, &err), 0);
	assert_int_equal(mkdir("payload", 0700), 0);
	assert_int_equal(chdir("payload"), 0);
	for (i = 0; i < TF_CERTS_NFILES; i++) {
		const struct tf_certs_sealed_file *f = &sealed.files[i];

		assert_null(memmem(f->data, f->len, "PRIVATE KEY", 11));
		tt_write(f->name, f->data, f->len);
	}
	assert_int_equal(chdir(".."), 0);
	assert_string_equal(sealed.files[1].name, "ca.pem.cms");
	assert_string_equal(sealed.files[4].name, "client.pfx.cms");
	assert_int_equal(sealed.files[1].mode, 0600);
	assert_int_equal(sealed.files[0].mode, 0644);
	assert_int_equal(tt_sh("grep -rl 'PRIVATE KEY' payload"), 1);
	/* the inputs check (installer/inputs.c): opened in memory with the key or the passphrase;
	 * another key is named against the certificate the secrets are sealed to; a corrupt set is
	 * the bundle's fault (TF_E_REJECT) */
	{
		struct tf_secrets_key k = {0}, p = {.passphrase = "correct horse battery"};
		char *okey = NULL, *ocert = NULL, ofp[TF_FINGERPRINT_LEN], *t;
		size_t okl = 0, ocl = 0, tl;

		assert_int_equal(
		    tf_certs_recipient_keygen("other", 0, 0, &okey, &okl, &ocert, &ocl, ofp, &err),
		    0);
		k.key_pem = rkey;
		k.key_len = rkl;
		k.cert_pem = rcert;
		k.cert_len = rcl;
		assert_int_equal(tf_certs_unseal_check(&sealed, &k, &err), 0);
		assert_int_equal(tf_certs_unseal_check(&sealed, &p, &err), 0);
		k.key_pem = okey;
		k.key_len = okl;
		k.cert_pem = ocert;
		k.cert_len = ocl;
		assert_int_equal(tf_certs_unseal_check(&sealed, &k, &err), TF_E_INPUT);
		assert_non_null(strstr(err.msg,
		                       "'tls/ca.pem.cms': the secret is sealed to recipient "
		                       "certificate 'CN=ctl' serial "));
		assert_non_null(strstr(err.msg, "a passphrase"));
		assert_non_null(strstr(err.msg, "(certificate 'CN=other' serial "));
		p.passphrase = "wrong horse battery";
		assert_int_equal(tf_certs_unseal_check(&sealed, &p, &err), TF_E_INPUT);
		p.passphrase = "correct horse battery";
		/* ca.pem.cms and client.pem.cms swapped: each opens, the set does not work */
		t = sealed.files[1].data;
		tl = sealed.files[1].len;
		sealed.files[1].data = sealed.files[3].data;
		sealed.files[1].len = sealed.files[3].len;
		sealed.files[3].data = t;
		sealed.files[3].len = tl;
		assert_int_equal(tf_certs_unseal_check(&sealed, &p, &err), TF_E_REJECT);
		assert_non_null(strstr(err.msg, "ca.pem: the key does not match"));
		sealed.files[3].data = sealed.files[1].data;
		sealed.files[3].len = sealed.files[1].len;
		sealed.files[1].data = t;
		sealed.files[1].len = tl;
		tf_wipe(okey, okl);
		free(okey);
		free(ocert);
	}
	/* unsealed with the recipient key: TiUP's folder, checked with openssl */
	by_key.key_pem = rkey;
	by_key.key_len = rkl;
	by_key.cert_pem = rcert;
	by_key.cert_len = rcl;
	assert_int_equal(tf_certs_unseal("payload", "tls", &by_key, 0, &err), 0);
	assert_int_equal(chdir("tls"), 0);
	check_tls_dir("prod-client");
	assert_int_equal(chdir(".."), 0);
	assert_int_equal(tf_certs_unseal("payload", "tls", &by_key, 0, &err), TF_E_IO);
	assert_non_null(strstr(err.msg, "exists already"));
	/* with the passphrase, replacing */
	by_pass.passphrase = "correct horse battery";
	assert_int_equal(tf_certs_unseal("payload", "tls", &by_pass, 1, &err), 0);
	/* a wrong passphrase writes nothing */
	by_pass.passphrase = "wrong horse battery";
	assert_int_equal(tf_certs_unseal("payload", "tls2", &by_pass, 0, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "'payload/ca.pem.cms': wrong passphrase"));
	assert_int_not_equal(access("tls2", F_OK), 0);
	/* secrets swapped in the payload: the check finds it before anything is written */
	assert_int_equal(tt_sh("cd payload && mv ca.pem.cms x && mv client.pem.cms ca.pem.cms && "
	                       "mv x client.pem.cms"),
	                 0);
	by_pass.passphrase = "correct horse battery";
	assert_int_equal(tf_certs_unseal("payload", "tls3", &by_pass, 0, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "ca.pem: the key does not match the certificate"));
	assert_int_not_equal(access("tls3", F_OK), 0);
	tf_certs_sealed_release(&sealed);
	tf_certs_release(&c);
	tf_wipe(rkey, rkl);
	free(rkey);
	free(rcert);
	tt_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_generate),
	    cmocka_unit_test(test_generate_defaults_and_refusals),
	    cmocka_unit_test(test_import),
	    cmocka_unit_test(test_import_intermediate_refused),
	    cmocka_unit_test(test_import_refusals),
	    cmocka_unit_test(test_recipient_keygen),
	    cmocka_unit_test(test_seal_unseal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
