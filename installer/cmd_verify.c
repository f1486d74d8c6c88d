/* tiferry verify: prove the fix (mutual TLS enforced, plain HTTP refused, peer URLs https) and
 * write a signed receipt for the change ticket. */
#include "installer/commands.h"
#include "installer/verify.h"
#include "common/paths.h"
#include "common/cli.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/secret.h"
#include "manifests/check.h"
#include "manifests/receipt.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LIST 4096

static const char usage_text[] =
    "usage: tiferry verify [--cluster NAME | --pd URL... --ca F --cert F --key F]\n"
    "                      [--scan HOST:PORT...] [--json] [--receipt FILE --receipt-key KEY]\n"
    "                      [--known-hosts FILE] [--timeout S] [--deadline S] [-q|-v]\n"
    "\n"
    "Proves the fix for \"etcd API unauthorized access\": for every PD, a TLS handshake with\n"
    "the CA and client certificate, the server certificate (chains to the CA, SANs cover the\n"
    "host, days left), plain HTTP and TLS without a client certificate refused, the member\n"
    "list (every peer and client URL https, as many members as meta.yaml), /health and PD's\n"
    "/pd/api/v1/health; the same certificate and client-auth checks on TiKV, TiDB and TiFlash\n"
    "status ports (TiKV/TiDB status ports answering TLS without a client certificate, as TiUP\n"
    "leaves them, warn with the remedy: security.cert-allowed-cn / cluster-verify-cn, e.g.\n"
    "the spec's plan.restrict_cn; on PD that is a failure); the tls/ folder on this host.\n"
    "With --cluster also each instance's\n"
    "<deploy_dir>/tls/ over SSH (ca.crt, <role>.crt, <role>.pem present, the key readable by\n"
    "its owner only, the certificate chaining to this host's CA and matching its key; the key\n"
    "never leaves the host), TiUP and cluster versions at least the bundle's, and the TiUP\n"
    "mirror as recorded before the install (both from the install journal: \"skip\" when\n"
    "there is none). --scan runs a scanner's unauthenticated probes and says VULNERABLE,\n"
    "FIXED or UNKNOWN per endpoint (needs no certificates and no TiUP): FIXED only on\n"
    "evidence (a refused connection, a close without an answer, a TLS alert asking for a\n"
    "client certificate, a whole HTTP answer that is not etcd's); a timeout, an answer cut\n"
    "short or one that is not well-formed HTTP is UNKNOWN.\n"
    "Checks run concurrently. Exit 0 when no check fails (warnings are fine), 1 when one\n"
    "fails, 2 on usage or input errors, 4 when none fails but one is unknown (the result,\n"
    "and a receipt, say \"unknown\", never \"pass\"). See docs/verify.md.\n"
    "\n"
    "  --cluster NAME        endpoints from $TIUP_HOME/storage/cluster/clusters/NAME/meta.yaml,\n"
    "                        certificates from its tls/ folder (ca.crt, client.crt, client.pem)\n"
    "  --pd URL...           PD client URLs (https://HOST:PORT); needs --ca, --cert, --key\n"
    "  --ca F, --cert F, --key F   the CA and the client certificate and key (PEM)\n"
    "  --scan HOST:PORT...   the scanner's probes on these endpoints\n"
    "  --known-hosts FILE    the nodes' SSH host keys, checked strictly: an unknown or\n"
    "                        changed key fails that node's checks, nothing is pinned\n"
    "                        (default ~/.ssh/known_hosts; login with the cluster's key\n"
    "                        $TIUP_HOME/storage/cluster/clusters/NAME/ssh/id_rsa)\n"
    "  --json                the report as JSON on stdout\n"
    "  --receipt FILE        also write the report as a signed receipt: FILE and FILE.sig\n"
    "  --receipt-key KEY     its signing key (PKCS#8 PEM, e.g. from tiferry-build keygen);\n"
    "                        default: this host's key $TIFERRY_STATE_DIR/receipt.key (default\n"
    "                        /var/lib/tiferry), made with receipt.pub on first use\n"
    "  --receipt-passin SRC  the key's passphrase: file:PATH, fd:N, env:NAME or tty\n"
    "  --bundle-id ID        the bundle this change came from, recorded in the receipt\n"
    "  --timeout S           seconds for each connect and each wait for bytes (default 5)\n"
    "  --deadline S          seconds for each probe's whole exchange: connect, handshake,\n"
    "                        request and answer (default 3 x --timeout)\n"
    "  --threads N           checks running at once (default 16)\n"
    "  -q, -v                only failures and warnings, or every check with its evidence\n"
    "\n"
    "Lists take several values after the option, repeated options or commas.\n"
    "Colour only on a terminal, and never when NO_COLOR is set.\n";

struct args {
	const char *cluster, *ca, *cert, *key;
	const char *pd[MAX_LIST];
	size_t npd;
	const char *scan[MAX_LIST];
	size_t nscan;
	char *split[MAX_LIST]; /* copies made for comma lists, freed at the end */
	size_t nsplit;
	int json;
	const char *receipt, *receipt_key, *passin, *bundle_id, *known_hosts;
	double timeout, deadline;
	long threads;
	int help;
};

/* Adds value (comma-separated) to list. */
static int add_list(struct args *a, const char **list, size_t *n, const char *value,
                    const char **why)
{
	char *copy, *tok, *save = NULL;

	if (a->nsplit == MAX_LIST || (copy = strdup(value)) == NULL) {
		*why = "too many values";
		return -1;
	}
	a->split[a->nsplit++] = copy;
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (*n == MAX_LIST) {
			*why = "too many values";
			return -1;
		}
		list[(*n)++] = tok;
	}
	return 0;
}

/* "--name VALUE" or "--name=VALUE": *value, and *i advanced; 0 when argv[*i] is not --name. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **value,
                     const char **why)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*value = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		*why = "an option needs a value";
		*value = NULL;
		return -1;
	}
	*value = argv[++*i];
	return 1;
}

/* 0 when v is a number of seconds from 0.05 to max, stored in out. */
static int seconds(const char *v, double max, double *out)
{
	char *end = NULL;
	double d = strtod(v, &end);

	if (end == v || *end != '\0' || !(d >= 0.05 && d <= max))
		return -1;
	*out = d;
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a, const char **why)
{
	int i, m;
	const char *v = NULL;
	char *end = NULL;

	for (i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
			a->help = 1;
			return 0;
		}
		if (strcmp(s, "-q") == 0 || strcmp(s, "--quiet") == 0) {
			tf_log_set_verbosity(TF_QUIET);
			continue;
		}
		if (strcmp(s, "-v") == 0 || strcmp(s, "--verbose") == 0) {
			tf_log_set_verbosity(TF_VERBOSE);
			continue;
		}
		if (strcmp(s, "--json") == 0) {
			a->json = 1;
			continue;
		}
		if ((m = opt_value(argc, argv, &i, "--pd", &v, why)) != 0 ||
		    (m = opt_value(argc, argv, &i, "--scan", &v, why)) != 0) {
			int pd = strncmp(s, "--pd", 4) == 0;
			const char **list = pd ? a->pd : a->scan;
			size_t *n = pd ? &a->npd : &a->nscan;

			if (m < 0 || add_list(a, list, n, v, why) != 0)
				return -1;
			/* "--pd A B C": the values that follow, up to the next option */
			while (strchr(s, '=') == NULL && i + 1 < argc && argv[i + 1][0] != '-')
				if (add_list(a, list, n, argv[++i], why) != 0)
					return -1;
			continue;
		}
#define STR_OPT(name, field)                                                                       \
	if ((m = opt_value(argc, argv, &i, name, &v, why)) != 0) {                                 \
		if (m < 0)                                                                         \
			return -1;                                                                 \
		a->field = v;                                                                      \
		continue;                                                                          \
	}
		STR_OPT("--cluster", cluster)
		STR_OPT("--ca", ca)
		STR_OPT("--cert", cert)
		STR_OPT("--key", key)
		STR_OPT("--receipt-key", receipt_key)
		STR_OPT("--receipt-passin", passin)
		STR_OPT("--receipt", receipt)
		STR_OPT("--bundle-id", bundle_id)
		STR_OPT("--known-hosts", known_hosts)
#undef STR_OPT
		if ((m = opt_value(argc, argv, &i, "--timeout", &v, why)) != 0) {
			if (m < 0)
				return -1;
			if (seconds(v, 600, &a->timeout) != 0) {
				*why = "--timeout takes seconds between 0.05 and 600";
				return -1;
			}
			continue;
		}
		if ((m = opt_value(argc, argv, &i, "--deadline", &v, why)) != 0) {
			if (m < 0)
				return -1;
			if (seconds(v, 3600, &a->deadline) != 0) {
				*why = "--deadline takes seconds between 0.05 and 3600";
				return -1;
			}
			continue;
		}
		if ((m = opt_value(argc, argv, &i, "--threads", &v, why)) != 0) {
			if (m < 0)
				return -1;
			a->threads = strtol(v, &end, 10);
			if (end == v || *end != '\0' || a->threads < 1 || a->threads > 256) {
				*why = "--threads takes 1 to 256";
				return -1;
			}
			continue;
		}
		*why = s[0] == '-' ? "unknown option" : "unexpected argument";
		return -1;
	}
	if (a->cluster == NULL && a->npd == 0 && a->nscan == 0) {
		*why = "nothing to verify: give --cluster, --pd or --scan";
		return -1;
	}
	if (a->cluster != NULL && a->npd > 0) {
		*why = "--cluster and --pd exclude each other";
		return -1;
	}
	if (a->npd > 0 && (a->ca == NULL || a->cert == NULL || a->key == NULL)) {
		*why = "--pd needs --ca, --cert and --key";
		return -1;
	}
	if (a->receipt == NULL && (a->receipt_key || a->passin || a->bundle_id)) {
		*why = "--receipt-key, --receipt-passin and --bundle-id go with --receipt";
		return -1;
	}
	if (a->bundle_id != NULL &&
	    (strlen(a->bundle_id) != 32 || !tf_hex_is_lower(a->bundle_id, 32))) {
		*why = "--bundle-id takes a bundle id: 32 lowercase hex digits";
		return -1;
	}
	return 0;
}

static void free_args(struct args *a)
{
	size_t i;

	for (i = 0; i < a->nsplit; i++)
		free(a->split[i]);
}

static int colour_wanted(void)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && (nc == NULL || nc[0] == '\0');
}

static int write_receipt(const struct args *a, const struct tf_verify_report *rep,
                         struct tf_sigkey *key, int created, struct tf_err *err)
{
	int r = tf_verify_write_receipt(rep, a->bundle_id, key, a->receipt, err);

	if (r != 0)
		return r;
	if (created)
		tf_log_info("made this host's receipt key %s/%s.key (public half %s.pub)",
		            tf_paths_state_root(), TF_RECEIPT_KEY_NAME, TF_RECEIPT_KEY_NAME);
	tf_log_info("receipt %s and %s.sig written, signed by key %s (%s)", a->receipt, a->receipt,
	            tf_sigkey_id(key), tf_sigalg_name(tf_sigkey_alg(key)));
	return 0;
}

int tf_cmd_verify(int argc, char **argv)
{
	struct args a;
	struct tf_verify_opts o;
	struct tf_verify_report rep;
	struct tf_sigkey *key = NULL;
	struct tf_err err = {0};
	const char *why = NULL;
	char *pass = NULL, *text = NULL;
	size_t len = 0;
	int r, rc = TF_EXIT_USAGE, created = 0;

	memset(&a, 0, sizeof(a));
	memset(&o, 0, sizeof(o));
	tf_verify_report_init(&rep);
	if (parse_args(argc, argv, &a, &why) != 0) {
		free_args(&a);
		return tf_cli_usage_error("verify", why);
	}
	if (a.help) {
		fputs(usage_text, stdout);
		free_args(&a);
		return TF_EXIT_OK;
	}
	/* A peer that closes while we write must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (a.receipt != NULL) {
		if (a.passin != NULL && (r = tf_secret_read(a.passin, "receipt key passphrase: ", 0,
		                                            &pass, &err)) != 0) {
			tf_log_error("verify: %s", err.msg);
			rc = tf_err_exit_code(r);
			goto out;
		}
		r = tf_receipt_key_open(a.receipt_key, pass, tf_paths_state_root(), &key, &created,
		                        &err);
		if (r != 0) {
			tf_log_error("verify: receipt key: %s", err.msg);
			rc = r == TF_E_NOMEM || r == TF_E_IO ? TF_EXIT_FAIL : TF_EXIT_USAGE;
			goto out;
		}
	}
	o.cluster = a.cluster;
	o.pd_urls = a.pd;
	o.npd = a.npd;
	o.ca_file = a.ca;
	o.cert_file = a.cert;
	o.key_file = a.key;
	o.scan = a.scan;
	o.nscan = a.nscan;
	o.timeout_ms = a.timeout > 0 ? (int)(a.timeout * 1000) : 0;
	o.deadline_ms = a.deadline > 0 ? (int)(a.deadline * 1000) : 0;
	o.threads = (int)a.threads;
	o.host_checks = 1;
	o.known_hosts = a.known_hosts;
	if ((r = tf_verify_run(&o, &rep, &err)) != 0) {
		tf_log_error("verify%s%s: %s", a.cluster ? " " : "", a.cluster ? a.cluster : "",
		             err.msg);
		rc = tf_err_exit_code(r);
		goto out;
	}
	if (a.json)
		r = tf_verify_render_json(&rep, NULL, NULL, &text, &len, &err);
	else
		r = tf_verify_render_text(&rep, isatty(STDOUT_FILENO), colour_wanted(),
		                          tf_log_verbosity() == TF_QUIET     ? 0
		                          : tf_log_verbosity() == TF_VERBOSE ? 2
		                                                             : 1,
		                          &text, &err);
	if (r != 0) {
		tf_log_error("verify: %s", err.msg);
		rc = TF_EXIT_FAIL;
		goto out;
	}
	fputs(text, stdout);
	fflush(stdout);
	if (a.receipt != NULL && write_receipt(&a, &rep, key, created, &err) != 0) {
		tf_log_error("verify: receipt '%s': %s", a.receipt, err.msg);
		rc = TF_EXIT_FAIL;
		goto out;
	}
	rc = tf_verify_exit_code(&rep);
out:
	free(text);
	tf_secret_free(pass);
	tf_sigkey_free(key);
	tf_verify_report_release(&rep);
	free_args(&a);
	return rc;
}
