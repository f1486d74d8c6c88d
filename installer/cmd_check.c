/* tiferry check: every rule of a bundle, writing nothing. */
#include "installer/commands.h"
#include "installer/inputs.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/progress.h"
#include "cluster/topology.h"
#include "manifests/check.h"

#include <getopt.h>
#include <stdio.h>

static const char usage_text[] =
    "usage: tiferry check BUNDLE [--trust DIR] [--cluster-meta meta.yaml] [--last-sequence N]\n"
    "                     [--inputs [--recipient DIR] [--passin SRC] [--known-hosts FILE]\n"
    "                     [--accept-new-host-keys]] [-q|-v]\n"
    "\n"
    "Verifies a bundle without writing anything: structure (regular files only, no '..',\n"
    "absolute paths, links, devices or duplicates), signatures against the trust policy,\n"
    "validity window, target cluster topology, anti-rollback sequence, and every payload\n"
    "file's size and sha256 (streamed, memory bounded). Exit 0 when it passes, 3 with one line\n"
    "naming the entry, key or rule when it is rejected, 2 on usage or input errors.\n"
    "With --inputs, then what the install needs from this host, every problem named at once\n"
    "(exit 2): the recipient key or passphrase opens every secret of the bundle (decrypted in\n"
    "memory, wiped, never written), and every host of the cluster is pinned in known_hosts\n"
    "with its SSH port (when the bundle's plan changes the cluster).\n"
    "\n"
    "  --trust DIR            trust folder (default /etc/tiferry/trust)\n"
    "  --cluster-meta FILE    the target cluster's meta.yaml (default\n"
    "                         $TIUP_HOME/storage/cluster/clusters/<cluster>/meta.yaml)\n"
    "  --last-sequence N      only when the cluster's anti-rollback record is lost: the last\n"
    "                         sequence installed on it (refused if below what the cluster's\n"
    "                         other records show)\n"
    "  --inputs               check the install's inputs too (below); 'install --dry-run' and\n"
    "                         'install' always do\n"
    "  --recipient DIR        the recipient key pair (default /etc/tiferry/recipient)\n"
    "  --passin SRC           passphrase of the bundle's secrets: file:PATH, env:NAME, fd:N or\n"
    "                         tty\n"
    "  --known-hosts FILE     the cluster hosts' SSH host keys (default ~/.ssh/known_hosts)\n"
    "  --accept-new-host-keys the install will pin hosts not known yet: not checked\n"
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
	                                     {"inputs", no_argument, NULL, 'I'},
	                                     {"recipient", required_argument, NULL, 'R'},
	                                     {"passin", required_argument, NULL, 'p'},
	                                     {"known-hosts", required_argument, NULL, 'K'},
	                                     {"accept-new-host-keys", no_argument, NULL, 'A'},
	                                     TF_CLI_OPTIONS_END};
	struct tf_check_opts o = {.topology_fingerprint = tf_topology_file_fingerprint};
	struct tf_inputs_opts io = {0};
	struct tf_check_result res;
	struct tf_progress pr;
	struct tf_err err = {0};
	int cli_rc, c, r, inputs = 0, input_opt = 0;

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
		case 'I':
			inputs = 1;
			break;
		case 'R':
			io.recipient_dir = optarg;
			input_opt = 1;
			break;
		case 'p':
			io.passin = optarg;
			input_opt = 1;
			break;
		case 'K':
			io.known_hosts = optarg;
			input_opt = 1;
			break;
		case 'A':
			io.accept_new_host_keys = 1;
			input_opt = 1;
			break;
		case TF_CLI_RETURN:
			return cli_rc;
		}
	}
	if (optind != argc - 1)
		return tf_cli_usage_error("check", "needs one BUNDLE");
	if (input_opt && !inputs)
		return tf_cli_usage_error("check", "--recipient, --passin, --known-hosts and "
		                                   "--accept-new-host-keys go with --inputs");
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
	if (inputs) {
		io.bundle = argv[optind];
		io.res = &res;
		if (tf_inputs_check(&io, NULL, &err) != 0) {
			tf_log_error("check '%s': %s", argv[optind], err.msg);
			tf_check_result_release(&res);
			return tf_err_exit_code(err.code);
		}
		tf_log_info("check '%s': the inputs the install needs are here: the secrets open, "
		            "every host is pinned",
		            argv[optind]);
	}
	tf_check_result_release(&res);
	return 0;
}
