/* tiferry-build sign: add an approval to a bundle in place. Reads only the headers, the
 * manifest and the signatures: the cost does not grow with the payload. */
#include "builder/commands.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/secret.h"
#include "manifests/bundle.h"
#include "manifests/manifest.h"
#include "crypto/sigkey.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static int sign(const char *bundle, const char *keypath, const char *passin, struct tf_err *err)
{
	struct tf_bundle_scan s = {0};
	struct tf_manifest m;
	struct tf_sigkey *k = NULL;
	char *pass = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int r;

	tf_manifest_init(&m);
	if (passin != NULL &&
	    (r = tf_secret_read(passin, "signing key passphrase: ", 0, &pass, err)) != 0)
		goto out;
	if ((r = tf_sigkey_load_private_file(keypath, pass, &k, err)) != 0)
		goto out;
	if ((r = tf_bundle_scan(bundle, &s, err)) != 0)
		goto out;
	/* Never approve something that is not a well-formed manifest. */
	if ((r = tf_manifest_parse(s.manifest, s.manifest_len, &m, err)) != 0)
		goto out;
	if ((r = tf_sigkey_sign(k, s.manifest, s.manifest_len, &sig, &siglen, err)) != 0)
		goto out;
	if ((r = tf_bundle_append_signature(bundle, tf_sigkey_id(k), sig, siglen, err)) != 0)
		goto out;
	tf_log_info("signed bundle %s (cluster '%s', sequence %llu) with key %s", m.bundle_id,
	            m.cluster, (unsigned long long)m.sequence, tf_sigkey_id(k));
out:
	tf_secret_free(pass);
	free(sig);
	tf_sigkey_free(k);
	tf_manifest_release(&m);
	tf_bundle_scan_release(&s);
	return r;
}

static const char usage_text[] =
    "usage: tiferry-build sign --key KEY.pem [--passin SRC] BUNDLE\n"
    "\n"
    "Adds a signature over the bundle's manifest, in place, without rewriting or re-hashing the\n"
    "payload. Review the bundle first (tiferry-build inspect). A key signs a bundle once.\n"
    "\n"
    "  --key FILE      private key (from tiferry-build keygen)\n"
    "  --passin SRC    its passphrase: file:PATH, env:NAME, fd:N or tty\n"
    "  -q, -v          quieter, or more detail\n";

int tf_cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
	                                     {"passin", required_argument, NULL, 'p'},
	                                     TF_CLI_OPTIONS_END};
	const char *key = NULL, *passin = NULL;
	struct tf_err err = {0};
	int cli_rc, c;

	optind = 1;
	while ((c = tf_cli_getopt(argc, argv, "", opts, "sign", usage_text, &cli_rc)) != -1) {
		switch (c) {
		case 'k':
			key = optarg;
			break;
		case 'p':
			passin = optarg;
			break;
		case TF_CLI_RETURN:
			return cli_rc;
		}
	}
	if (key == NULL || optind != argc - 1)
		return tf_cli_usage_error("sign", "needs --key and one BUNDLE");
	if (sign(argv[optind], key, passin, &err) != 0) {
		tf_log_error("sign '%s': %s", argv[optind], err.msg);
		return tf_err_exit_code(err.code);
	}
	return 0;
}
