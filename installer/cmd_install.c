/* tiferry install: the journaled, resumable change (installer/install.c). */
#include "common/cli.h"
#include "common/log.h"
#include "installer/commands.h"
#include "installer/install.h"

#include <getopt.h>
#include <stdio.h>

static const char usage_text[] =
    "usage: tiferry install BUNDLE [--trust DIR] [--dry-run] [--resume] [--yes]\n"
    "                      [--recipient DIR] [--passin SRC] [--cluster-meta FILE] [--tiup PROG]\n"
    "                      [--known-hosts FILE] [--accept-new-host-keys] [--stop-after STEP]\n"
    "                      [--json] [--last-sequence N]\n"
    "\n"
    "Checks the bundle (every rule of 'tiferry check'), asks (or takes --yes), and only then\n"
    "makes the cluster's state folder, takes a lock, opens a journal, extracts the bundle into\n"
    "a private staging folder, records TiUP's mirror, runs 'tiup mirror set' to the bundle's\n"
    "mirror, 'tiup update --self' and 'tiup update' of its components, ALWAYS switches the\n"
    "mirror back (on success, on failure, and on --resume), checks that the upgraded versions\n"
    "still resolve, and places the cluster's CA and client certificate in TiUP's tls/ folder.\n"
    "Then, over SSH and etcd's API: preflight on every host, PD scaled in to the leader, 'tiup\n"
    "cluster tls <name> enable', http:// peer URLs repaired, PD scaled out again from the\n"
    "bundle's topology, "
    "and the checks of 'tiferry verify'.\n"
    "\n"
    "After the bundle's check and before the yes, the inputs are checked ('tiferry check\n"
    "--inputs'): the recipient key or passphrase opens every secret of the bundle, and every\n"
    "cluster host is pinned in known_hosts with its SSH port; each missing or wrong one is\n"
    "named, exit 2, and nothing is written but the refusal's audit line.\n"
    "Exit 0 done, 1 a step failed (whatever failed inside it), 2 usage or inputs, 3 bundle\n"
    "rejected.\n"
    "\n"
    "  --trust DIR          trust folder (default /etc/tiferry/trust)\n"
    "  --dry-run            check the bundle and the inputs, print every step and command;\n"
    "                       change nothing\n"
    "  --resume             continue an install that stopped (after a failure or a crash)\n"
    "  --yes                do not ask for confirmation (needed without a terminal)\n"
    "  --recipient DIR      the recipient key pair from 'tiferry keygen --recipient'\n"
    "                       (default /etc/tiferry/recipient)\n"
    "  --passin SRC         passphrase of the bundle's secrets: file:PATH, env:NAME, fd:N or tty\n"
    "  --cluster-meta FILE  the cluster's meta.yaml (default: TiUP's, under $TIUP_HOME)\n"
    "  --tiup PROG          the tiup program (default: tiup from PATH)\n"
    "  --stop-after STEP    stop after that step (e.g. place-certificates: upgrade TiUP now,\n"
    "                       change the cluster in the maintenance window with --resume)\n"
    "  --known-hosts FILE   the cluster hosts' SSH host keys, checked strictly\n"
    "                       (default ~/.ssh/known_hosts); an unknown or changed key refuses\n"
    "  --accept-new-host-keys  pin the key of a host not in the file yet (written to the audit\n"
    "                       log); a changed key is still refused\n"
    "  --json               progress as JSON lines on stdout, nothing else there; one object\n"
    "                       per event: time, event (step|host), step, index, total, host,\n"
    "                       state, elapsed_s, detail (not with --dry-run; the plan as JSON:\n"
    "                       tiferry plan --format json)\n"
    "  --last-sequence N    only when this cluster's anti-rollback record is lost: the last\n"
    "                       sequence installed on it (audited; refused if below what the "
    "cluster's\n"
    "                       other records show)\n"
    "  -q, -v               quieter, or more detail (below)\n"
    "\n"
    "Progress: on a terminal, a table of the steps redrawn in place, with a line for each host\n"
    "of the running step (state, elapsed time, detail); the final table stays. Otherwise one\n"
    "line per event on stderr: 'step 10/20 preflight: started', 'host 10.0.1.11:22 preflight:\n"
    "ok (0.4s): 4 checks passed', 'step 10/20 preflight: ok (1.2s)'. -q shows neither; -v\n"
    "shows the lines, with each tiup command's output.\n"
    "\n"
    "A refused run (bundle rejected, no terminal without --yes, not answered y, an unfinished\n"
    "install, the lock held) writes only a \"refused\" line to the audit log: the cluster's, or\n"
    "$TIFERRY_STATE_DIR/audit.log when the cluster has no state folder yet.\n"
    "\n"
    "State, journal and audit log: $TIFERRY_STATE_DIR/<cluster>/ (default /var/lib/tiferry).\n"
    "'tiferry status' shows the journal and the command that continues, with the options the\n"
    "install was started with (a --passin only as its file: or env: source).\n";

int tf_cmd_install(int argc, char **argv)
{
	static const struct option opts[] = {{"trust", required_argument, NULL, 't'},
	                                     {"dry-run", no_argument, NULL, 'n'},
	                                     {"resume", no_argument, NULL, 'r'},
	                                     {"yes", no_argument, NULL, 'y'},
	                                     {"recipient", required_argument, NULL, 'R'},
	                                     {"passin", required_argument, NULL, 'p'},
	                                     {"cluster-meta", required_argument, NULL, 'm'},
	                                     {"tiup", required_argument, NULL, 'T'},
	                                     {"stop-after", required_argument, NULL, 'S'},
	                                     {"known-hosts", required_argument, NULL, 'K'},
	                                     {"accept-new-host-keys", no_argument, NULL, 'A'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"last-sequence", required_argument, NULL, 'L'},
	                                     TF_CLI_OPTIONS_END};
	struct tf_install_opts o = {0};
	struct tf_err err = {0};
	int cli_rc, c;

	optind = 1;
	while ((c = tf_cli_getopt(argc, argv, "y", opts, "install", usage_text, &cli_rc)) != -1) {
		switch (c) {
		case 't':
			o.trust_dir = optarg;
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case 'r':
			o.resume = 1;
			break;
		case 'y':
			o.yes = 1;
			break;
		case 'R':
			o.recipient_key = optarg;
			break;
		case 'p':
			o.passin = optarg;
			break;
		case 'm':
			o.cluster_meta = optarg;
			break;
		case 'T':
			o.tiup = optarg;
			break;
		case 'S':
			o.stop_after = optarg;
			break;
		case 'K':
			o.known_hosts = optarg;
			break;
		case 'A':
			o.accept_new_host_keys = 1;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'L':
			if (tf_cli_parse_sequence("install", optarg, &o.last_sequence) != 0)
				return TF_EXIT_USAGE;
			break;
		case TF_CLI_RETURN:
			return cli_rc;
		}
	}
	if (optind != argc - 1)
		return tf_cli_usage_error("install", "needs one BUNDLE");
	if (o.dry_run && o.resume)
		return tf_cli_usage_error("install", "--dry-run and --resume do not go together");
	if (o.dry_run && o.json)
		return tf_cli_usage_error("install",
		                          "--json reports a run's progress, --dry-run prints "
		                          "the plan as text; the plan as JSON: tiferry plan "
		                          "--format json");
	o.bundle = argv[optind];
	if (tf_install_run(&o, &err) != 0) {
		tf_log_error("install '%s': %s", o.bundle, err.msg);
		return tf_err_exit_code(err.code);
	}
	return 0;
}
