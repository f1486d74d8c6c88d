/* tiferry plan: the runbook of a bundle that passes every check, with who has signed it. */
#include "installer/commands.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/progress.h"
#include "cluster/topology.h"
#include "manifests/check.h"
#include "manifests/policy.h"
#include "manifests/runbook.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage_text[] =
    "usage: tiferry plan BUNDLE [--trust DIR] [--cluster-meta meta.yaml] [--format md|html|json] "
    "\n"
    "                    [--last-sequence N] [-q|-v]\n"
    "\n"
    "Checks the bundle as 'tiferry check' does, then prints its runbook: the purpose, target and\n"
    "validity, the expected impact, every install step with the exact commands and where they\n"
    "run, what to do on failure and how success is verified. Markdown and HTML are the signed\n"
    "runbook from the bundle (its sha256 is in the manifest) with the signatures as they stand\n"
    "inserted; JSON is the same plan as data. Nothing is written but standard output.\n"
    "\n"
    "  --trust DIR            trust folder (default /etc/tiferry/trust)\n"
    "  --cluster-meta FILE    the target cluster's meta.yaml (default\n"
    "                         $TIUP_HOME/storage/cluster/clusters/<cluster>/meta.yaml)\n"
    "  --format FMT           md (default), html (one self-contained page) or json\n"
    "  --last-sequence N      only when the cluster's anti-rollback record is lost: the last\n"
    "                         sequence installed on it (refused if below what the cluster's\n"
    "                         other records show)\n"
    "  -q, -v                 quieter, or more detail\n"
    "\n"
    "Exit 0 with the runbook, 3 when the bundle is rejected (nothing is printed then).\n";

static int show(const char *bundle, const struct tf_check_opts *o, enum tf_runbook_format f,
                struct tf_err *err)
{
	struct tf_check_result res;
	struct tf_runbook_signer *sv = NULL;
	struct tf_runbook_approvals a = {0};
	struct tf_policy *p = NULL;
	char required[256], *out = NULL;
	size_t i, len = 0;
	int r, rendered = 0;

	tf_check_result_init(&res);
	r = tf_bundle_check(bundle, o, &res, err);
	if (o->progress != NULL)
		tf_progress_finish(o->progress); /* before the runbook goes to the terminal */
	if (r != 0)
		goto out;
	if ((r = tf_policy_load(o->trust_dir ? o->trust_dir : TF_TRUST_DIR_DEFAULT, &p, err)) != 0)
		goto out;
	tf_policy_describe(p, required, sizeof(required));
	if ((sv = calloc(res.nsigners + 1, sizeof(*sv))) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	for (i = 0; i < res.nsigners; i++) {
		sv[i].keyid = res.signers[i].keyid;
		sv[i].holder = res.signers[i].holder;
		sv[i].role = res.signers[i].role;
		sv[i].status = res.signers[i].valid ? "valid" : "unknown key (not counted)";
	}
	a.signers = sv;
	a.nsigners = res.nsigners;
	a.required = required; /* the check passed: the policy is met */
	a.policy = o->trust_dir ? o->trust_dir : TF_TRUST_DIR_DEFAULT;
	if ((r = tf_runbook_show(bundle, &res.manifest, f, &a, &out, &len, &rendered, err)) != 0)
		goto out;
	if (rendered && f != TF_RUNBOOK_JSON)
		tf_log_warn(
		    "bundle %s carries no signed runbook (built before runbooks): this one is "
		    "rendered from its manifest",
		    res.manifest.bundle_id);
	if (fwrite(out, 1, len, stdout) != len || fflush(stdout) != 0)
		r = tf_err_sys(err, TF_E_IO, "write the runbook");
out:
	free(out);
	free(sv);
	tf_policy_free(p);
	tf_check_result_release(&res);
	return r;
}

int tf_cmd_plan(int argc, char **argv)
{
	static const struct option opts[] = {{"trust", required_argument, NULL, 't'},
	                                     {"cluster-meta", required_argument, NULL, 'm'},
	                                     {"last-sequence", required_argument, NULL, 'L'},
	                                     {"format", required_argument, NULL, 'f'},
	                                     TF_CLI_OPTIONS_END};
	struct tf_check_opts o = {.topology_fingerprint = tf_topology_file_fingerprint};
	enum tf_runbook_format f = TF_RUNBOOK_MD;
	struct tf_progress pr;
	struct tf_err err = {0};
	int cli_rc, c;

	optind = 1;
	while ((c = tf_cli_getopt(argc, argv, "", opts, "plan", usage_text, &cli_rc)) != -1) {
		switch (c) {
		case 't':
			o.trust_dir = optarg;
			break;
		case 'm':
			o.cluster_meta = optarg;
			break;
		case 'L':
			if (tf_cli_parse_sequence("plan", optarg, &o.last_sequence) != 0)
				return TF_EXIT_USAGE;
			break;
		case 'f':
			if (tf_runbook_format_parse(optarg, &f, &err) != 0)
				return tf_cli_usage_error("plan", err.msg);
			break;
		case TF_CLI_RETURN:
			return cli_rc;
		}
	}
	if (optind != argc - 1)
		return tf_cli_usage_error("plan", "needs one BUNDLE");
	tf_progress_start(&pr, "verifying", 0);
	o.progress = &pr;
	if (show(argv[optind], &o, f, &err) != 0) {
		tf_log_error("plan '%s': %s", argv[optind], err.msg);
		return tf_err_exit_code(err.code);
	}
	return 0;
}
