/* Command-line plumbing shared by both programs: the subcommand table, global -q/-v, --help
 * and --version. */
#ifndef TF_COMMON_CLI_H
#define TF_COMMON_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

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

/* Ends every subcommand's option table: the options all of them take. */
/* clang-format off */
#define TF_CLI_OPTIONS_END                                                                         \
	{"help", no_argument, NULL, 'h'}, {"quiet", no_argument, NULL, 'q'},                       \
	{"verbose", no_argument, NULL, 'v'}, {NULL, 0, NULL, 0}
/* clang-format on */

/* tf_cli_getopt's answer when the subcommand is to return at once, with the exit code in *rc. */
#define TF_CLI_RETURN (-2)

/* One turn of a subcommand's option loop (set optind = 1 before the first): getopt_long with
 * "hqv" plus shortopts and opts (ended by TF_CLI_OPTIONS_END). Applies -q and -v itself; for
 * --help prints usage to stdout (*rc = 0), for an unknown option the usage error of cmd
 * (*rc = 2), and returns TF_CLI_RETURN. Otherwise returns the option for the caller to handle,
 * or -1 when the options are done. */
int tf_cli_getopt(int argc, char **argv, const char *shortopts, const struct option *opts,
                  const char *cmd, const char *usage, int *rc);
/* Reads --last-sequence's argument: a whole number from 1 to 4294967295 (a bundle's range).
 * 0 when it is one; else prints the usage error and returns 2. */
int tf_cli_parse_sequence(const char *cmd, const char *text, uint64_t *out);
/* Prints "prog: error: msg" and a hint to run --help; returns 2. */
int tf_cli_usage_error(const char *cmd, const char *msg);

#endif
