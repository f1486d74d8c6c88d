/* tiferry-build: makes, signs and shows bundles on the connected staging host. */
#include "builder/commands.h"
#include "common/cli.h"

static const struct tf_cli_command commands[] = {
    {"keygen", tf_cmd_keygen, "make a signing key pair (builder or approver)"},
    {"build", tf_cmd_build, "pack a spec's payload into a signed bundle"},
    {"sign", tf_cmd_sign, "add an approval signature to a bundle, in place"},
    {"inspect", tf_cmd_inspect, "show a bundle's manifest, signatures and validity"},
    {"mirror", tf_cmd_mirror, "verify a TiUP mirror or offline package; cut a minimal subset"},
};

int main(int argc, char **argv)
{
	return tf_cli_main(
	    "tiferry-build",
	    "Builds signed tiferry bundles: TiUP upgrade, certificates and plan for\n"
	    "enabling TLS on an air-gapped TiDB cluster.",
	    commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
}
