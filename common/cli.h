/* Command-line plumbing shared by both programs: the subcommand table, global -q/-v, --help
 * and --version. */
#ifndef TF_COMMON_CLI_H
#define TF_COMMON_CLI_H

#include <stddef.h>

struct tf_cli_command {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the subcommand's name */
	const char *summary;
};

/* Handles "[-q|-v] COMMAND ARGS" and "--help"/"--version", then runs the command; returns the
 * process exit code. */
int tf_cli_main(const char *prog, const char *about, const struct tf_cli_command *cmds, size_t n,
		int argc, char **argv);
/* For a subcommand's getopt loop: applies -q ('q') and -v ('v'); returns 1 when c was one. */
int tf_cli_verbosity_opt(int c);
/* Prints "prog: error: msg" and a hint to run --help; returns 2. */
int tf_cli_usage_error(const char *cmd, const char *msg);

#endif
