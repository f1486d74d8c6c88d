/* tiferry-build keygen: a signing key pair for a builder or an approver. */
#include "builder/commands.h"
#include "common/cli.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/secret.h"
#include "crypto/sigkey.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes data to a new file (never replacing one) with mode. */
static int write_new(const char *path, const char *data, size_t len, mode_t mode,
                     struct tf_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int r;

	if (fd < 0)
		return tf_err_sys(err, errno == EEXIST ? TF_E_INPUT : TF_E_IO, "create '%s'", path);
	if ((r = tf_write_all(fd, data, len, err)) == 0 &&
	    (fchmod(fd, mode) != 0 || fsync(fd) != 0))
		r = tf_err_sys(err, TF_E_IO, "write '%s'", path);
	close(fd);
	if (r != 0)
		unlink(path);
	return r;
}

static int name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

static int keygen(const char *name, const char *dir, enum tf_sigalg alg, const char *passin,
                  struct tf_err *err)
{
	struct tf_sigkey *k = NULL;
	char *pass = NULL, *priv = NULL, *pub = NULL, *kp = NULL, *pp = NULL;
	size_t privlen = 0, publen = 0;
	char fname[128];
	int r;

	if ((r = tf_mkdir_p(dir, 0700, err)) != 0)
		goto out;
	snprintf(fname, sizeof(fname), "%s.key", name);
	kp = tf_path_join(dir, fname);
	snprintf(fname, sizeof(fname), "%s.pub", name);
	pp = tf_path_join(dir, fname);
	if (kp == NULL || pp == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	if (access(kp, F_OK) == 0 || access(pp, F_OK) == 0) {
		r = tf_err_set(err, TF_E_INPUT, "'%s' or '%s' exists already; not replacing a key",
		               kp, pp);
		goto out;
	}
	if (passin != NULL &&
	    (r = tf_secret_read(passin, "new key passphrase: ", 1, &pass, err)) != 0)
		goto out;
	if ((r = tf_sigkey_generate(alg, &k, err)) != 0 ||
	    (r = tf_sigkey_private_pem(k, pass, &priv, &privlen, err)) != 0 ||
	    (r = tf_sigkey_public_pem(k, &pub, &publen, err)) != 0)
		goto out;
	if ((r = write_new(kp, priv, privlen, 0600, err)) != 0)
		goto out;
	if ((r = write_new(pp, pub, publen, 0644, err)) != 0) {
		unlink(kp);
		goto out;
	}
	tf_log_info("wrote private key '%s' (0600%s) and public key '%s'", kp,
	            pass ? ", passphrase-protected" : "", pp);
	printf("%s\n", tf_sigkey_id(k));
out:
	if (priv != NULL) {
		tf_wipe(priv, privlen);
		free(priv);
	}
	tf_secret_free(pass);
	free(pub);
	free(kp);
	free(pp);
	tf_sigkey_free(k);
	return r;
}

static const char usage_text[] =
    "usage: tiferry-build keygen --name NAME [--out DIR] [--alg ALG] [--passin SRC]\n"
    "\n"
    "Makes a signing key pair: DIR/NAME.key (PKCS#8 PEM, 0600) and DIR/NAME.pub (PEM), and\n"
    "prints the key id (hex SHA-256 of the public key's DER SubjectPublicKeyInfo).\n"
    "\n"
    "  --name NAME     file name stem (letters, digits, '-', '_', '.')\n"
    "  --out DIR       folder for the two files (default: the current folder)\n"
    "  --alg ALG       ed25519 (default), ecdsa-p256 or rsa-pss-3072\n"
    "  --passin SRC    protect the private key with a passphrase from file:PATH, env:NAME,\n"
    "                  fd:N or tty (asked twice)\n"
    "  -q, -v          quieter, or more detail\n";

int tf_cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {"alg", required_argument, NULL, 'a'},
	                                     {"passin", required_argument, NULL, 'p'},
	                                     TF_CLI_OPTIONS_END};
	const char *name = NULL, *dir = ".", *passin = NULL;
	enum tf_sigalg alg = TF_SIG_ED25519;
	struct tf_err err = {0};
	int cli_rc, c;

	optind = 1;
	while ((c = tf_cli_getopt(argc, argv, "", opts, "keygen", usage_text, &cli_rc)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'o':
			dir = optarg;
			break;
		case 'a':
			if (tf_sigalg_parse(optarg, &alg, &err) != 0)
				return tf_cli_usage_error("keygen", err.msg);
			break;
		case 'p':
			passin = optarg;
			break;
		case TF_CLI_RETURN:
			return cli_rc;
		}
	}
	if (name == NULL || optind != argc)
		return tf_cli_usage_error("keygen", "needs --name");
	if (!name_ok(name))
		return tf_cli_usage_error("keygen",
		                          "--name takes letters, digits, '-', '_' and '.'");
	if (keygen(name, dir, alg, passin, &err) != 0) {
		tf_log_error("keygen '%s': %s", name, err.msg);
		return tf_err_exit_code(err.code);
	}
	return 0;
}
