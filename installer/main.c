/* tiferry: checks and installs signed bundles on the air-gapped TiUP control host. */
#include "common/cli.h"
#include "common/log.h"
#include "installer/commands.h"
#include "cluster/ssh.h"

static const struct tf_cli_command commands[] = {
    {"check", tf_cmd_check, "verify a bundle; writes nothing"},
    {"plan", tf_cmd_plan, "check a bundle, then show its runbook and who has signed it"},
    {"install", tf_cmd_install,
     "install a bundle: upgrade TiUP, switch the mirror back, enable TLS"},
    {"status", tf_cmd_status, "the journal of the last install, and the command that continues"},
    {"keygen", tf_cmd_keygen, "make the recipient key pair the builder encrypts secrets to"},
    {"verify", tf_cmd_verify, "prove the fix: mutual TLS enforced, plain HTTP refused"},
};

int main(int argc, char **argv)
{
	struct tf_err err = {0};
	int rc;

	/* Libraries are set up here, before any thread: libssh (and OpenSSL under it). */
	if (tf_ssh_global_init(&err) != 0) {
		tf_log_error("%s", err.msg);
		return 1;
	}
	rc = tf_cli_main(
	    "tiferry",
	    "Checks and installs signed tiferry bundles: upgrades TiUP from the bundle,\n"
	    "switches the mirror back, and enables TLS on the cluster.",
	    commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
	tf_ssh_global_finalize();
	return rc;
}
