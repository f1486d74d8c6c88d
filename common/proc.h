/* Running a local command (tiup): argv without a shell, bounded captured output, a timeout that
 * kills the whole process group. */
#ifndef TF_COMMON_PROC_H
#define TF_COMMON_PROC_H

#include <stddef.h>

#include "common/err.h"

#define TF_PROC_OUT_MAX                                                                            \
	((size_t)256 * 1024) /* bytes of output kept (the rest is counted, dropped) */

struct tf_proc_opts {
	const char *const *env_set; /* "NAME=value" entries added to the environment, NULL-ended */
	const char *const *env_unset; /* names removed from the environment, NULL-ended */
	unsigned timeout_s;           /* 0: none */
	int echo;                     /* copy the output to stderr as it comes (for long steps) */
};

struct tf_proc_result {
	int status; /* exit code; 128 + signal when killed by one; -1 when it could not start */
	int timed_out;
	double seconds;
	char *out; /* stdout and stderr interleaved, NUL-terminated, at most TF_PROC_OUT_MAX */
	size_t outlen;
};

void tf_proc_result_release(struct tf_proc_result *r);
/* Runs argv[0] (looked up in PATH) with argv. Returns 0 when the command ran (whatever its
 * exit code, which is in res->status); TF_E_IO when it could not be started. */
int tf_proc_run(const char *const *argv, const struct tf_proc_opts *o, struct tf_proc_result *res,
                struct tf_err *err) TF_MUST_CHECK;
/* argv as one shell-quoted line for logs and --dry-run (caller frees). */
char *tf_proc_format(const char *const *argv);

#endif
