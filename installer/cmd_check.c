/* tiferry check: every rule of a bundle, writing nothing. */
#include "installer/commands.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/progress.h"
#include "cluster/topology.h"
#include "manifests/check.h"

#include <getopt.h>
#include <stdio.h>

static const char usage_text[] =
    "usage: tiferry check BUNDLE [--trust DIR] [--cluster-meta meta.yaml] [--last-sequence N]\n"
    "                     [-q|-v]\n"
    "\n"
    "Verifies a bundle without writing anything: structure (regular files only, no '..',\n"
    "absolute paths, links, devices or duplicates), signatures against the trust policy,\n"
    "validity window, target cluster topology, anti-rollback sequence, and every payload\n"
    "file's size and sha256 (streamed, memory bounded). Exit 0 when it passes, 3 with one line\n"
    "naming the entry, key or rule when it is rejected, 2 on usage or input errors.\n"
    "\n"
    "  --trust DIR            trust folder (default /etc/tiferry/trust)\n"
    "  --cluster-meta FILE    the target cluster's meta.yaml (default\n"
    "                         $TIUP_HOME/storage/cluster/clusters/<cluster>/meta.yaml)\n"
    "  --last-sequence N      only when the cluster's anti-rollback record is lost: the last\n"
    "                         sequence installed on it (refused if below what the cluster's\n"
    "                         other records show)\n"
    "  -q, -v                 quieter, or more detail\n"
    "\n"
    "Anti-rollback: the sequence must be above the last installed, recorded in\n"
    "$TIFERRY_STATE_DIR/<cluster>/sequence (default /var/lib/tiferry) and again beside the\n"
    "cluster's meta.yaml (tiferry-sequence); a lost state record is refused while the other\n"
    "shows an install, until it is restored or --last-sequence states it.\n";

int tf_cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {{"trust", required_argument, NULL, 't'},
	                                     {"cluster-meta", required_argument, NULL, 'm'},
	                                     {"last-sequence", required_argument, NULL, 'L'},
	                                     TF_CLI_OPTIONS_END};
	struct tf_check_opts o = {.topology_fingerprint = tf_topology_file_fingerprint};
	struct tf_check_result res;
	struct tf_progress pr;
	struct tf_err err = {0};
	int cli_rc, c, r;

	optind = 1;
	while ((c = tf_cli_getopt(argc, argv, "", opts, "check", usage_text, &cli_rc)) != -1) {
		switch (c) {
		case 't':
			o.trust_dir = optarg;
			break;
		case 'm':
			o.cluster_meta = optarg;
			break;
		case 'L':
			if (tf_cli_parse_sequence("check", optarg, &o.last_sequence) != 0)
				return TF_EXIT_USAGE;
			break;
		case TF_CLI_RETURN:
			return cli_rc;
		}
	}
	if (optind != argc - 1)
		return tf_cli_usage_error("check", "needs one BUNDLE");
	tf_progress_start(&pr, "verifying", 0);
	o.progress = &pr;
	tf_check_result_init(&res);
	r = tf_bundle_check(argv[optind], &o, &res, &err);
	tf_progress_finish(&pr);
	if (r != 0) {
		tf_log_error("check '%s': %s", argv[optind], err.msg);
		tf_check_result_release(&res);
		return tf_err_exit_code(err.code);
	}
	tf_log_info("check '%s': bundle %s for cluster '%s' (sequence %llu) passes every rule",
	            argv[optind], res.manifest.bundle_id, res.manifest.cluster,
	            (unsigned long long)res.manifest.sequence);
	tf_check_result_release(&res);
	return 0;
}
