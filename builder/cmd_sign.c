/* tiferry-build sign: add an approval to a bundle in place. Reads only the headers, the
 * manifest and the signatures: the cost does not grow with the payload. */
#include "builder/commands.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/secret.h"
#include "manifests/bundle.h"
#include "manifests/manifest.h"
#include "manifests/policy.h"
#include "crypto/sigkey.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

/* What the policy in trust (NULL: none given) makes of key k's signature: said, never decided
 * here. */
static void tell_policy(const struct tf_policy *p, const char *trust, const struct tf_sigkey *k)
{
	const struct tf_policy_key *pk;

	if (p == NULL) {
		tf_log_info("only the control host's trust policy decides whether this signature "
		            "counts (--trust DIR tells what a copy of it says)");
		return;
	}
	if ((pk = tf_policy_lookup(p, tf_sigkey_id(k))) == NULL)
		tf_log_warn("key %s is not in the policy of '%s': there, this signature counts for "
		            "nothing (only the control host's policy decides)",
		            tf_sigkey_id(k), trust);
	else
		tf_log_info("the policy of '%s' counts this signature as %s (%s); only the control "
		            "host's policy decides",
		            trust, pk->holder, pk->role);
}

static int sign(const char *bundle, const char *keypath, const char *passin, const char *trust,
                struct tf_err *err)
{
	struct tf_bundle_scan s = {0};
	struct tf_manifest m;
	struct tf_policy *p = NULL;
	struct tf_sigkey *k = NULL;
	char *pass = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int r;

	tf_manifest_init(&m);
	if (trust != NULL && (r = tf_policy_load(trust, &p, err)) != 0)
		goto out;
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
	tell_policy(p, trust, k);
out:
	tf_policy_free(p);
	tf_secret_free(pass);
	free(sig);
	tf_sigkey_free(k);
	tf_manifest_release(&m);
	tf_bundle_scan_release(&s);
	return r;
}

static const char usage_text[] =
    "usage: tiferry-build sign --key KEY.pem [--passin SRC] [--trust DIR] BUNDLE\n"
    "\n"
    "Adds a signature over the bundle's manifest, in place, without rewriting or re-hashing the\n"
    "payload. Review the bundle first (tiferry-build inspect). A key signs a bundle once.\n"
    "\n"
    "  --key FILE      private key (from tiferry-build keygen)\n"
    "  --passin SRC    its passphrase: file:PATH, env:NAME, fd:N or tty\n"
    "  --trust DIR     a copy of the control host's trust folder: say whether its policy\n"
    "                  counts this key (a warning when it does not; the bundle is signed\n"
    "                  either way: only the control host's policy decides)\n"
    "  -q, -v          quieter, or more detail\n";

int tf_cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
	                                     {"passin", required_argument, NULL, 'p'},
	                                     {"trust", required_argument, NULL, 't'},
	                                     TF_CLI_OPTIONS_END};
	const char *key = NULL, *passin = NULL, *trust = NULL;
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
		case 't':
			trust = optarg;
			break;
		case TF_CLI_RETURN:
			return cli_rc;
		}
	}
	if (key == NULL || optind != argc - 1)
		return tf_cli_usage_error("sign", "needs --key and one BUNDLE");
	if (sign(argv[optind], key, passin, trust, &err) != 0) {
		tf_log_error("sign '%s': %s", argv[optind], err.msg);
		return tf_err_exit_code(err.code);
	}
	return 0;
}
