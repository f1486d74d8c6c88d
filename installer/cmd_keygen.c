/* tiferry keygen --recipient: the control host's key pair that the builder encrypts secrets to. */
#include "installer/commands.h"
#include "common/cli.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "crypto/certs.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: tiferry keygen --recipient [--out DIR] [--name CN] [--days N] [--force] [-q|-v]\n"
    "\n"
    "Makes the control host's recipient key pair: an RSA 3072 private key (DIR/recipient.key,\n"
    "PKCS#8 PEM, mode 0600, never leaves this host) and a self-signed certificate\n"
    "(DIR/recipient.crt) to carry to the build host. tiferry-build encrypts the cluster's CA\n"
    "key, client key and client.pfx to that certificate as CMS (openssl cms), so only this\n"
    "host can open them. Prints the certificate's SHA-256 fingerprint: compare it with\n"
    "`openssl x509 -in recipient.crt -noout -fingerprint -sha256` on the build host.\n"
    "\n"
    "  --recipient     make a recipient key pair (the only kind there is; required)\n"
    "  --out DIR       folder for the two files (default " TF_CERTS_RECIPIENT_DIR ",\n"
    "                  where tiferry install looks; created 0700)\n"
    "  --name CN       the certificate's common name (default: \"tiferry recipient <host>\")\n"
    "  --days N        certificate lifetime in days (default 3650)\n"
    "  --force         replace an existing key pair in DIR\n"
    "  -q, -v          quieter (only the fingerprint, for scripts), or more detail\n";

/* "AB:CD:..." as `openssl x509 -fingerprint -sha256` prints it, from "sha256:abcd...". */
static void openssl_form(const char *fp, char *out, size_t outlen)
{
	const char *hex = strchr(fp, ':');
	size_t i, o = 0;

	hex = hex ? hex + 1 : fp;
	for (i = 0; hex[i] != '\0' && hex[i + 1] != '\0' && o + 4 < outlen; i += 2) {
		if (i > 0)
			out[o++] = ':';
		out[o++] = (char)toupper((unsigned char)hex[i]);
		out[o++] = (char)toupper((unsigned char)hex[i + 1]);
	}
	out[o] = '\0';
}

int tf_cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"recipient", no_argument, NULL, 'r'},  {"out", required_argument, NULL, 'o'},
	    {"name", required_argument, NULL, 'n'}, {"days", required_argument, NULL, 'd'},
	    {"force", no_argument, NULL, 'f'},      TF_CLI_OPTIONS_END};
	const char *dir = TF_CERTS_RECIPIENT_DIR, *name = NULL;
	char *key = NULL, *cert = NULL, *key_path = NULL, *cert_path = NULL;
	char fp[TF_FINGERPRINT_LEN], ofp[TF_FINGERPRINT_LEN * 2], cn[HOST_NAME_MAX + 64];
	size_t key_len = 0, cert_len = 0;
	unsigned long days = 0;
	struct tf_err err = {0};
	int cli_rc, c, recipient = 0, force = 0, rc;

	optind = 1;
	while ((c = tf_cli_getopt(argc, argv, "", opts, "keygen", usage_text, &cli_rc)) != -1) {
		switch (c) {
		case 'r':
			recipient = 1;
			break;
		case 'o':
			dir = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'd': {
			char *end = NULL;

			errno = 0;
			days = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || days == 0 || days > 36500)
				return tf_cli_usage_error("keygen", "--days needs 1 to 36500");
			break;
		}
		case 'f':
			force = 1;
			break;
		case TF_CLI_RETURN:
			return cli_rc;
		}
	}
	if (!recipient)
		return tf_cli_usage_error("keygen", "needs --recipient");
	if (optind != argc)
		return tf_cli_usage_error("keygen", "takes no arguments besides options");
	if (name == NULL) {
		char host[HOST_NAME_MAX + 1];

		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "unknown");
		host[sizeof(host) - 1] = '\0';
		snprintf(cn, sizeof(cn), "tiferry recipient %s", host);
		name = cn;
	}
	if ((key_path = tf_path_join(dir, TF_CERTS_RECIPIENT_KEY)) == NULL ||
	    (cert_path = tf_path_join(dir, TF_CERTS_RECIPIENT_CERT)) == NULL) {
		rc = tf_err_nomem(&err);
		goto out;
	}
	if (!force && (access(key_path, F_OK) == 0 || access(cert_path, F_OK) == 0)) {
		rc = tf_err_set(&err, TF_E_USAGE,
		                "'%s' already holds a recipient key pair (--force replaces it, and "
		                "bundles encrypted to the old one can no longer be opened here)",
		                dir);
		goto out;
	}
	if ((rc = tf_mkdir_p(dir, 0700, &err)) != 0)
		goto out;
	tf_log_debug("generating an RSA %u recipient key", TF_CERTS_RECIPIENT_BITS);
	if ((rc = tf_certs_recipient_keygen(name, (unsigned)days, 0, &key, &key_len, &cert,
	                                    &cert_len, fp, &err)) != 0)
		goto out;
	/* the key first: a certificate without its key would be useless to the builder */
	if ((rc = tf_write_file_atomic(key_path, key, key_len, 0600, &err)) != 0 ||
	    (rc = tf_write_file_atomic(cert_path, cert, cert_len, 0644, &err)) != 0)
		goto out;
	openssl_form(fp, ofp, sizeof(ofp));
	if (tf_log_verbosity() == TF_QUIET) {
		/* -q: the fingerprint alone, for scripts (as tiferry-build keygen -q prints the id)
		 */
		printf("%s\n", fp);
	} else {
		printf("recipient key:         %s (mode 0600; keep it on this host)\n", key_path);
		printf("recipient certificate: %s (carry it to the build host)\n", cert_path);
		printf("fingerprint:           %s\n", fp);
		printf("openssl shows:         sha256 Fingerprint=%s\n", ofp);
	}
	rc = 0;
out:
	if (rc != 0)
		tf_log_error("keygen: %s", err.msg);
	tf_wipe(key, key_len);
	free(key);
	free(cert);
	free(key_path);
	free(cert_path);
	return rc == 0 ? 0 : tf_err_exit_code(rc);
}
