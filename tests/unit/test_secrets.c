/* Unit tests for crypto/secrets (CMS enveloped secrets) and common/secret (passphrases). */
#include "tests/unit/testutil.h"

#include "common/fsutil.h"
#include "common/secret.h"
#include "crypto/certs.h"
#include "crypto/secrets.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define PASS "correct horse battery"
#define FAST_ITER 1000u /* keeps the suite quick; the default count has its own test */

static const char key_text[] = "-----BEGIN RSA PRIVATE KEY-----\n"
                               "not a real key, but the bytes must come back exactly\n"
                               "\x01\x02\x03 binary too\r\n"
                               "-----END RSA PRIVATE KEY-----\n";

struct recip {
	char *key, *cert;
	size_t key_len, cert_len;
	char fp[TF_FINGERPRINT_LEN];
};

static void recip_make(struct recip *r, const char *cn)
{
	struct tf_err err;

	assert_int_equal(tf_certs_recipient_keygen(cn, 0, 0, &r->key, &r->key_len, &r->cert,
	                                           &r->cert_len, r->fp, &err),
	                 0);
}

static void recip_free(struct recip *r)
{
	tf_wipe(r->key, r->key_len);
	free(r->key);
	free(r->cert);
}

static char *encrypt(const struct recip *to, const char *pass, unsigned iter, size_t *len)
{
	struct tf_secrets_recipients rc = {0};
	struct tf_err err;
	char *out = NULL;

	if (to != NULL) {
		rc.cert_pem = to->cert;
		rc.cert_len = to->cert_len;
	}
	rc.passphrase = pass;
	rc.iterations = iter;
	if (tf_secrets_encrypt(key_text, sizeof(key_text) - 1, &rc, &out, len, &err) != 0)
		fail_msg("encrypt: %s", err.msg);
	return out;
}

static int decrypt(const char *in, size_t len, const struct recip *with, const char *pass,
                   struct tf_err *err)
{
	struct tf_secrets_key k = {0};
	uint8_t *out = NULL;
	size_t n = 0;
	int r;

	if (with != NULL) {
		k.key_pem = with->key;
		k.key_len = with->key_len;
		k.cert_pem = with->cert;
		k.cert_len = with->cert_len;
	}
	k.passphrase = pass;
	r = tf_secrets_decrypt(in, len, &k, &out, &n, err);
	if (r == 0) {
		assert_int_equal(n, sizeof(key_text) - 1);
		assert_memory_equal(out, key_text, n);
		tf_wipe(out, n);
		free(out);
	}
	return r;
}

static void test_passphrase_roundtrip(void **state)
{
	struct tf_err err;
	char *c;
	size_t len;

	(void)state;
	c = encrypt(NULL, PASS, FAST_ITER, &len);
	assert_non_null(strstr(c, "-----BEGIN CMS-----"));
	assert_null(strstr(c, "PRIVATE KEY"));
	assert_int_equal(decrypt(c, len, NULL, PASS, &err), 0);
	assert_int_equal(decrypt(c, len, NULL, "wrong horse battery", &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "wrong passphrase"));
	/* a key alone cannot open a passphrase-only secret */
	free(c);
}

static void test_default_iterations(void **state)
{
	struct tf_err err;
	char *c, *json = NULL;
	size_t len;

	(void)state;
	c = encrypt(NULL, PASS, 0, &len);
	assert_int_equal(tf_secrets_describe(c, len, &json, &err), 0);
	assert_non_null(strstr(json, "\"iterations\":600000"));
	assert_non_null(strstr(json, "\"type\":\"passphrase\""));
	assert_int_equal(decrypt(c, len, NULL, PASS, &err), 0);
	free(json);
	free(c);
}

static void test_recipient(void **state)
{
	struct recip a, b;
	struct tf_err err;
	struct tf_secrets_key k = {0};
	char *c, *json = NULL;
	uint8_t *out = NULL;
	size_t len, n;

	(void)state;
	recip_make(&a, "host-a");
	recip_make(&b, "host-b");
	assert_non_null(strstr(a.key, "-----BEGIN PRIVATE KEY-----"));
	c = encrypt(&a, NULL, 0, &len);
	assert_int_equal(decrypt(c, len, &a, NULL, &err), 0);
	/* the wrong recipient key fails cleanly and names the certificate */
	assert_int_equal(decrypt(c, len, &b, NULL, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "not to the recipient key given"));
	assert_non_null(strstr(err.msg, b.fp));
	/* and the certificate the secret is sealed to (issue 18): a's, not b's */
	assert_non_null(strstr(err.msg, "sealed to recipient certificate 'CN=host-a' serial "));
	assert_non_null(strstr(err.msg, "(certificate 'CN=host-b' serial "));
	/* a key with somebody else's certificate */
	k.key_pem = b.key;
	k.key_len = b.key_len;
	k.cert_pem = a.cert;
	k.cert_len = a.cert_len;
	assert_int_equal(tf_secrets_decrypt(c, len, &k, &out, &n, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "does not match its certificate"));
	/* no passphrase recipient in it */
	assert_int_equal(decrypt(c, len, NULL, PASS, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "not encrypted to a passphrase"));
	assert_int_equal(tf_secrets_describe(c, len, &json, &err), 0);
	assert_non_null(strstr(json, "\"type\":\"certificate\""));
	assert_non_null(strstr(json, "CN=host-a"));
	free(json);
	free(c);
	recip_free(&a);
	recip_free(&b);
}

static void test_both_recipients(void **state)
{
	struct recip a, b;
	struct tf_err err;
	char *c;
	size_t len;

	(void)state;
	recip_make(&a, "host-a");
	recip_make(&b, "host-b");
	c = encrypt(&a, PASS, FAST_ITER, &len);
	assert_int_equal(decrypt(c, len, &a, NULL, &err), 0);
	assert_int_equal(decrypt(c, len, NULL, PASS, &err), 0);
	/* not this recipient, but the passphrase opens it */
	assert_int_equal(decrypt(c, len, &b, PASS, &err), 0);
	assert_int_equal(decrypt(c, len, &b, "wrong horse battery", &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "wrong passphrase"));
	free(c);
	recip_free(&a);
	recip_free(&b);
}

/* Stock openssl opens the secrets exactly as docs/certificates.md says. */
static void test_openssl_cli(void **state)
{
	struct recip a;
	char *c;
	size_t len;

	(void)state;
	tt_tmpdir();
	recip_make(&a, "auditor");
	tt_write("recipient.key", a.key, a.key_len);
	tt_write("recipient.crt", a.cert, a.cert_len);
	tt_write("expected", key_text, sizeof(key_text) - 1);
	c = encrypt(&a, PASS, FAST_ITER, &len);
	tt_write("ca.pem.cms", c, len);
	assert_int_equal(tt_sh("openssl cms -decrypt -binary -inform PEM -in ca.pem.cms "
	                       "-recip recipient.crt -inkey recipient.key -out ca.pem"),
	                 0);
	assert_int_equal(tt_sh("cmp -s ca.pem expected"), 0);
	assert_int_equal(tt_sh("openssl cms -decrypt -binary -inform PEM -in ca.pem.cms "
	                       "-pwri_password '" PASS "' -out ca2.pem"),
	                 0);
	assert_int_equal(tt_sh("cmp -s ca2.pem expected"), 0);
	assert_int_not_equal(tt_sh("openssl cms -decrypt -binary -inform PEM -in ca.pem.cms "
	                           "-pwri_password wrongpassword -out ca3.pem 2>/dev/null"),
	                     0);
	/* the structure as the auditor sees it: OAEP with SHA-256, PBKDF2, AES-256 */
	assert_int_equal(tt_sh("openssl cms -cmsout -print -inform PEM -in ca.pem.cms > dump"), 0);
	assert_int_equal(tt_sh("grep -q rsaesOaep dump && grep -q PBKDF2 dump && "
	                       "grep -q aes-256-cbc dump && grep -q sha256 dump"),
	                 0);
	free(c);
	recip_free(&a);
	tt_cleanup();
}

/* Secrets the openssl command line made open with our decrypt too. */
static void test_openssl_cli_made(void **state)
{
	struct tf_err err;
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	tt_tmpdir();
	tt_write("plain", key_text, sizeof(key_text) - 1);
	assert_int_equal(tt_sh("openssl cms -encrypt -binary -aes256 -in plain -outform PEM "
	                       "-pwri_password '" PASS "' -out x.cms"),
	                 0);
	assert_int_equal(tf_read_file("x.cms", TF_SECRETS_MAX, &buf, &len, &err), 0);
	assert_int_equal(decrypt(buf, len, NULL, PASS, &err), 0);
	free(buf);
	tt_cleanup();
}

static void test_corrupted(void **state)
{
	struct tf_err err;
	char *c, *big;
	size_t len, i;
	int refused = 0, tried = 0, r;

	(void)state;
	c = encrypt(NULL, PASS, FAST_ITER, &len);
	assert_int_equal(decrypt(c, len / 2, NULL, PASS, &err), TF_E_REJECT);
	assert_non_null(strstr(err.msg, "corrupted"));
	assert_int_equal(decrypt("garbage", 7, NULL, PASS, &err), TF_E_REJECT);
	assert_int_equal(decrypt("", 0, NULL, PASS, &err), TF_E_REJECT);
	/* flip base64 characters all over the body. Damage to the structure, the wrapped key or
	 * the padding is refused; a flip in a field OpenSSL ignores may still give the original,
	 * and one inside the CBC content may give garbage: the bundle's signed sha256 of every
	 * encrypted file is what catches those, before anything is decrypted. */
	for (i = 20; i + 30 < len; i += 7) {
		struct tf_secrets_key k = {0};
		char saved = c[i];
		uint8_t *out = NULL;
		size_t n = 0;

		if (saved == '\n' || saved == '-')
			continue;
		c[i] = saved == 'A' ? 'B' : 'A';
		k.passphrase = PASS;
		tried++;
		r = tf_secrets_decrypt(c, len, &k, &out, &n, &err);
		if (r != 0) {
			/* "corrupted ...", "wrong passphrase", "... PBKDF2 iterations" (the count
			 * was hit), "not encrypted to a passphrase" (the recipient's tag was hit)
			 */
			refused++;
			assert_true(r == TF_E_REJECT || r == TF_E_INPUT);
			assert_true(err.msg[0] != '\0');
		}
		free(out);
		c[i] = saved;
	}
	print_message("corrupted: %d of %d flips refused\n", refused, tried);
	assert_true(refused > 10);
	big = calloc(1, TF_SECRETS_MAX + 1);
	assert_non_null(big);
	assert_int_equal(decrypt(big, TF_SECRETS_MAX + 1, NULL, PASS, &err), TF_E_REJECT);
	assert_non_null(strstr(err.msg, "larger than"));
	free(big);
	free(c);
}

/* A PBKDF2 count over the limit is refused before any work is done. */
static void test_iteration_cap(void **state)
{
	static const uint8_t want[] = {0x02, 0x04, 0x00, 0x80, 0x00, 0x00};
	struct tf_err err;
	char *c, *der = NULL, *p;
	size_t len, dlen = 0;

	(void)state;
	tt_tmpdir();
	c = encrypt(NULL, PASS, 0x800000u, &len);
	tt_write("x.cms", c, len);
	assert_int_equal(tt_sh("openssl cms -cmsout -inform PEM -in x.cms -outform DER -out x.der"),
	                 0);
	assert_int_equal(tf_read_file("x.der", TF_SECRETS_MAX, &der, &dlen, &err), 0);
	p = memmem(der, dlen, want, sizeof(want));
	assert_non_null(p);
	p[2] = 0x7f; /* 0x7f800000 iterations */
	assert_int_equal(decrypt(der, dlen, NULL, PASS, &err), TF_E_REJECT);
	assert_non_null(strstr(err.msg, "PBKDF2 iterations"));
	free(der);
	free(c);
	tt_cleanup();
}

static void test_encrypt_refusals(void **state)
{
	struct tf_secrets_recipients rc = {0};
	struct tf_err err;
	char *out = NULL, *ec = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(tf_secrets_encrypt("x", 1, &rc, &out, &len, &err), TF_E_USAGE);
	rc.passphrase = "short";
	assert_int_equal(tf_secrets_encrypt("x", 1, &rc, &out, &len, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "shorter than"));
	rc.passphrase = NULL;
	rc.cert_pem = "not a certificate";
	rc.cert_len = strlen(rc.cert_pem);
	assert_int_equal(tf_secrets_encrypt("x", 1, &rc, &out, &len, &err), TF_E_INPUT);
	tt_tmpdir();
	assert_int_equal(tt_sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	                       "-nodes -keyout ec.key -subj /CN=ec -days 10 -out ec.crt "
	                       "2>/dev/null"),
	                 0);
	assert_int_equal(tf_read_file("ec.crt", 65536, &ec, &len, &err), 0);
	rc.cert_pem = ec;
	rc.cert_len = len;
	assert_int_equal(tf_secrets_encrypt("x", 1, &rc, &out, &len, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "does not hold an RSA key"));
	free(ec);
	tt_cleanup();
}

/* ---- common/secret ---- */

static void test_secret_sources(void **state)
{
	struct tf_err err;
	char *s = NULL;
	int fds[2];

	(void)state;
	tt_tmpdir();
	tt_write_str("pw", "first line\r\nsecond line\n");
	assert_int_equal(tf_secret_read("file:pw", NULL, 0, &s, &err), 0);
	assert_string_equal(s, "first line");
	tf_secret_free(s);
	tt_write_str("nonl", "no newline");
	assert_int_equal(tf_secret_read_file("nonl", &s, &err), 0);
	assert_string_equal(s, "no newline");
	tf_secret_free(s);
	tt_write_str("empty", "\n");
	assert_int_equal(tf_secret_read_file("empty", &s, &err), TF_E_INPUT);
	assert_non_null(strstr(err.msg, "empty"));
	assert_int_equal(tf_secret_read_file("missing", &s, &err), TF_E_NOTFOUND);
	setenv("TF_TEST_PASS", "from env", 1);
	assert_int_equal(tf_secret_read("env:TF_TEST_PASS", NULL, 0, &s, &err), 0);
	assert_string_equal(s, "from env");
	tf_secret_free(s);
	unsetenv("TF_TEST_PASS");
	assert_int_equal(tf_secret_read("env:TF_TEST_PASS", NULL, 0, &s, &err), TF_E_NOTFOUND);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "piped\nrest", 10), 10);
	close(fds[1]);
	{
		char src[32];

		snprintf(src, sizeof(src), "fd:%d", fds[0]);
		assert_int_equal(tf_secret_read(src, NULL, 0, &s, &err), 0);
	}
	assert_string_equal(s, "piped");
	tf_secret_free(s);
	close(fds[0]);
	assert_int_equal(tf_secret_read("pass:inline", NULL, 0, &s, &err), TF_E_USAGE);
	assert_non_null(strstr(err.msg, "file:PATH"));
	tf_secret_free(NULL);
	tt_cleanup();
}

/* The terminal path on a pseudo-terminal: the passphrase is read, never echoed, and the
 * terminal's echo comes back afterwards. */
static void test_secret_tty(void **state)
{
	char buf[4096], *slave;
	size_t got = 0;
	int master, st, pipefd[2];
	pid_t pid;

	(void)state;
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
	    (slave = ptsname(master)) == NULL) {
		if (master >= 0)
			close(master);
		skip();
		return; /* skip() does not return; this tells the analyzer */
	}
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct tf_err err;
		struct termios t;
		char *s = NULL;
		int fd, ok;

		close(pipefd[0]);
		setsid();
		fd = open(slave, O_RDWR); /* becomes the controlling terminal */
		if (fd < 0)
			_exit(10);
		if (tf_secret_read_tty("Passphrase: ", 1, &s, &err) != 0)
			_exit(11);
		ok = strcmp(s, "typed secret") == 0;
		tf_secret_free(s);
		if (tcgetattr(fd, &t) != 0 || !(t.c_lflag & ECHO))
			_exit(12);
		if (write(pipefd[1], ok ? "ok" : "no", 2) != 2)
			_exit(13);
		_exit(ok ? 0 : 14);
	}
	close(pipefd[1]);
	/* wait for each prompt before typing */
	for (;;) {
		ssize_t n = read(master, buf + got, sizeof(buf) - 1 - got);

		assert_true(n > 0);
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "Passphrase: ") != NULL)
			break;
	}
	assert_int_equal(write(master, "typed secret\n", 13), 13);
	for (;;) {
		ssize_t n = read(master, buf + got, sizeof(buf) - 1 - got);

		assert_true(n > 0);
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "Again: ") != NULL)
			break;
	}
	assert_int_equal(write(master, "typed secret\n", 13), 13);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(read(pipefd[0], buf + got, 2), 2);
	close(pipefd[0]);
	/* nothing of what was typed came back on the terminal */
	assert_null(strstr(buf, "typed"));
	close(master);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_passphrase_roundtrip),
	    cmocka_unit_test(test_default_iterations),
	    cmocka_unit_test(test_recipient),
	    cmocka_unit_test(test_both_recipients),
	    cmocka_unit_test(test_openssl_cli),
	    cmocka_unit_test(test_openssl_cli_made),
	    cmocka_unit_test(test_corrupted),
	    cmocka_unit_test(test_iteration_cap),
	    cmocka_unit_test(test_encrypt_refusals),
	    cmocka_unit_test(test_secret_sources),
	    cmocka_unit_test(test_secret_tty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
