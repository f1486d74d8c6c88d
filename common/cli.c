/* Command-line dispatch. */
#include "common/cli.h"
#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *progname = "tiferry";

static void usage(FILE *f, const char *about, const struct tf_cli_command *cmds, size_t n)
{
	size_t i;

	fprintf(f, "usage: %s [-q|-v] COMMAND [ARGS]\n\n%s\n\ncommands:\n", progname, about);
	for (i = 0; i < n; i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f,
	        "\nRun '%s COMMAND --help' for a command's options.\n"
	        "Exit codes: 0 success, 1 a check found a problem or a step failed, 2 usage or "
	        "input error,\n"
	        "3 bundle rejected.\n",
	        progname);
}

int tf_cli_main(const char *prog, const char *about, const struct tf_cli_command *cmds, size_t n,
                int argc, char **argv)
{
	int i = 1;
	size_t c;

	progname = prog;
	tf_log_set_prog(prog);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
			tf_log_set_verbosity(TF_QUIET);
		} else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
			tf_log_set_verbosity(TF_VERBOSE);
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout, about, cmds, n);
			return TF_EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("%s %s%s\n", prog, TF_VERSION,
			       tf_time_test_clock()
			           ? " (test build: TIFERRY_NOW replaces the clock)"
			           : "");
			return TF_EXIT_OK;
		} else {
			tf_log_error("unknown option '%s'", argv[i]);
			usage(stderr, about, cmds, n);
			return TF_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr, about, cmds, n);
		return TF_EXIT_USAGE;
	}
	for (c = 0; c < n; c++)
		if (strcmp(argv[i], cmds[c].name) == 0)
			return cmds[c].run(argc - i, argv + i);
	if (strcmp(argv[i], "help") == 0) {
		usage(stdout, about, cmds, n);
		return TF_EXIT_OK;
	}
	tf_log_error("unknown command '%s' (run '%s --help')", argv[i], prog);
	return TF_EXIT_USAGE;
}

int tf_cli_verbosity_opt(int c)
{
	if (c == 'q') {
		tf_log_set_verbosity(TF_QUIET);
		return 1;
	}
	if (c == 'v') {
		tf_log_set_verbosity(TF_VERBOSE);
		return 1;
	}
	return 0;
}

int tf_cli_usage_error(const char *cmd, const char *msg)
{
	tf_log_error("%s: %s (run '%s %s --help')", cmd, msg, progname, cmd);
	return TF_EXIT_USAGE;
}

int tf_cli_parse_sequence(const char *cmd, const char *text, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || errno != 0 || *end != '\0' || v == 0 ||
	    v > 4294967295ULL)
		return tf_cli_usage_error(cmd, "--last-sequence takes a whole number from 1 to "
		                               "4294967295");
	*out = (uint64_t)v;
	return 0;
}

int tf_cli_getopt(int argc, char **argv, const char *shortopts, const struct option *opts,
                  const char *cmd, const char *usage, int *rc)
{
	char so[32];
	int c;

	snprintf(so, sizeof(so), "hqv%s", shortopts);
	while ((c = getopt_long(argc, argv, so, opts, NULL)) != -1 && tf_cli_verbosity_opt(c))
		;
	if (c == 'h') {
		fputs(usage, stdout);
		*rc = 0;
		return TF_CLI_RETURN;
	}
	if (c == '?' || c == ':') {
		*rc = tf_cli_usage_error(cmd, "bad option");
		return TF_CLI_RETURN;
	}
	return c;
}
