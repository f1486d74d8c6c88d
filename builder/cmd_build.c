/* tiferry-build build: the options and messages around the build engine (builder/build.c). */
#include "builder/build.h"
#include "builder/commands.h"
#include "common/cli.h"
#include "common/log.h"

#include <getopt.h>
#include <stdio.h>

static const char usage_text[] =
    "usage: tiferry-build build --spec SPEC.yaml --out BUNDLE [--passin SRC] [-q|-v]\n"
    "\n"
    "Packs the payload the spec names, writes the manifest (hashing while writing, reading\n"
    "each file once) and, when the spec names signing_key, signs as the builder.\n"
    "\n"
    "  --spec FILE     the build spec (docs/spec.md)\n"
    "  --out FILE      the bundle to create (never overwritten)\n"
    "  --passin SRC    passphrase of the signing key: file:PATH, env:NAME, fd:N or tty\n"
    "  -q, -v          quieter, or more detail\n";

int tf_cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {{"spec", required_argument, NULL, 's'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {"passin", required_argument, NULL, 'p'},
	                                     TF_CLI_OPTIONS_END};
	const char *spec = NULL, *out = NULL, *passin = NULL;
	struct tf_build_opts o = {0};
	struct tf_build_result res;
	struct tf_err err = {0};
	int cli_rc, c;

	optind = 1;
	while ((c = tf_cli_getopt(argc, argv, "", opts, "build", usage_text, &cli_rc)) != -1) {
		switch (c) {
		case 's':
			spec = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'p':
			passin = optarg;
			break;
		case TF_CLI_RETURN:
			return cli_rc;
		}
	}
	if (spec == NULL || out == NULL || optind != argc)
		return tf_cli_usage_error("build", "needs --spec and --out");
	o.spec = spec;
	o.out = out;
	o.passin = passin;
	tf_build_result_init(&res);
	if (tf_build(&o, &res, &err) != 0) {
		/* "spec: line 12: ..." does not say which spec: name it once, here */
		tf_log_error("build '%s' from '%s': %s", out, spec, err.msg);
		return tf_err_exit_code(err.code);
	}
	if (res.signer[0] != '\0')
		tf_log_info("signed with key %s", res.signer);
	tf_log_info("built '%s': bundle %s, sequence %llu, %zu files, cluster '%s'", out,
	            res.bundle_id, (unsigned long long)res.sequence, res.nfiles, res.cluster);
	tf_build_result_release(&res);
	return 0;
}
